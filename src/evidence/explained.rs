//! How much of the log is explained (`logs explained`, the overview's log page, the SAS's
//! summary): over a period, the share of accesses the rules explain, per kind of explanation,
//! the share flagged, and the median number of accesses per user-day that still need a
//! judgement — what a manager meets when a user's 24-hour window is drawn.
//!
//! The period is swept a month at a time (the same rules as a case's evidence, through
//! [`radar::sweep`]), so that memory stays bounded by a month's accesses.

use super::assess::{EXPLANATION_CODES, LocalClock};
use super::radar::{self, Scope};
use crate::Result;
use crate::roster::org::Org;
use crate::routine::Routine;
use crate::store::Db;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The figure (`logs explained --json` prints it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Figure {
    pub accesses: u64,
    /// Accesses with at least one explanation that counts.
    pub explained: u64,
    /// `explained / accesses` (0 without accesses).
    pub share: f64,
    /// Per kind of explanation, the accesses it explains (an access may have several).
    pub by_kind: BTreeMap<String, u64>,
    pub flagged: u64,
    /// The median, over every user-day with accesses, of the accesses that are flagged or
    /// unexplained.
    pub to_judge_median: f64,
    /// How many user-days that median is over.
    pub user_days: u64,
}

impl Figure {
    /// `share` as a percentage with one decimal, Swedish style (`94,3 %`).
    pub(crate) fn share_sv(&self) -> String {
        percent_sv(self.share)
    }

    /// The share flagged, as [`Figure::share_sv`].
    pub(crate) fn flagged_sv(&self) -> String {
        percent_sv(if self.accesses == 0 {
            0.0
        } else {
            self.flagged as f64 / self.accesses as f64
        })
    }
}

/// The explanation codes in the order pages show them, each with its Swedish name.
pub(crate) fn kind_names() -> Vec<(&'static str, &'static str)> {
    EXPLANATION_CODES
        .iter()
        .map(|code| {
            let name = match *code {
                "same_unit" => "Kunden tillhör användarens enhet",
                "documented" => "Användaren dokumenterade",
                "care_relationship" => "Vårdrelation (insats, beslut, vårdkontakt)",
                "on_shift" => "Arbetspass på kundens enhet",
                "team" => "Kollega på enheten med förklarad åtkomst",
                "continuity" => "Återkommande kontakt",
                "judged_before" => "Tidigare bedömd befogad",
                other => other,
            };
            (*code, name)
        })
        .collect()
}

/// The figure for a page: shares in Swedish, each kind with its name and share.
pub(crate) fn for_page(f: &Figure) -> serde_json::Value {
    let share = |n: u64| {
        percent_sv(if f.accesses == 0 {
            0.0
        } else {
            n as f64 / f.accesses as f64
        })
    };
    let kinds: Vec<serde_json::Value> = kind_names()
        .into_iter()
        .map(|(code, name)| {
            let n = f.by_kind.get(code).copied().unwrap_or(0);
            serde_json::json!({"code": code, "name": name, "count": n, "share": share(n)})
        })
        .collect();
    serde_json::json!({
        "accesses": f.accesses,
        "explained": f.explained,
        "share": f.share_sv(),
        "flagged": f.flagged,
        "flagged_share": f.flagged_sv(),
        "to_judge_median": format!("{}", f.to_judge_median).replace('.', ","),
        // "1 åtkomst", "2 åtkomster", "1,5 åtkomster".
        "to_judge_text": if f.to_judge_median.fract() == 0.0 {
            crate::sv::count(f.to_judge_median as i64, "åtkomst", "åtkomster")
        } else {
            format!("{} åtkomster", f.to_judge_median).replace('.', ",")
        },
        "user_days": f.user_days,
        "kinds": kinds,
    })
}

fn percent_sv(share: f64) -> String {
    format!("{:.1} %", share * 100.0).replace('.', ",")
}

/// The longest stretch swept at once.
const SLICE_DAYS: u64 = 31;

/// The figure of `[from, to)`, of one system or all.
pub(crate) fn figure(
    conn: &Db,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Figure> {
    figure_of(conn, org, routines, scope, &[], now)
}

/// The figure of `[from, to)` of `systems` together (none given: as `scope` says); a person's
/// day in two systems is one user-day.
pub(crate) fn figure_of(
    conn: &Db,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    systems: &[String],
    now: DateTime<Utc>,
) -> Result<Figure> {
    let mut f = Figure::default();
    for code in EXPLANATION_CODES {
        f.by_kind.insert(code.to_string(), 0);
    }
    let systems: Vec<Option<&str>> = if systems.is_empty() {
        vec![scope.system]
    } else {
        systems.iter().map(|s| Some(s.as_str())).collect()
    };
    // No log in the period: nothing was accessed, so nothing to read the people for.
    if !crate::store::logindex::any_between(conn, scope.from.timestamp(), scope.to.timestamp())? {
        return Ok(f);
    }
    let day = crate::clock::local_date(now, scope.tz);
    let mut snapshot = super::people::Snapshot::load(conn, day)?;
    // How many user-days had n accesses to judge.
    let mut histogram: BTreeMap<u32, u64> = BTreeMap::new();
    let mut start = scope.from;
    while start < scope.to {
        // Slices end at a local midnight, so that no user-day is cut in two.
        let day = start.with_timezone(&scope.tz).date_naive();
        let end = crate::clock::day_start(day + Days::new(SLICE_DAYS), scope.tz).min(scope.to);
        // (person or account, local day) → accesses to judge.
        let mut days: HashMap<(radar::RowKey, NaiveDate), u32> = HashMap::new();
        for system in &systems {
            let slice = Scope {
                from: start,
                to: end,
                system: *system,
                tz: scope.tz,
            };
            radar::sweep_in(
                conn,
                &mut snapshot,
                org,
                routines,
                &slice,
                |g| {
                    // (accesses, explained, flagged, by kind), and each local day's accesses
                    // to judge, in time order.
                    let mut counts = (0u64, 0u64, 0u64, [0u64; EXPLANATION_CODES.len()]);
                    let mut judge: Vec<(NaiveDate, u32)> = Vec::new();
                    let mut clock = LocalClock::new(g.tz);
                    for s in g.seen {
                        counts.0 += 1;
                        counts.1 += u64::from(s.explained());
                        counts.2 += u64::from(s.flagged());
                        for (i, n) in counts.3.iter_mut().enumerate() {
                            *n += u64::from(s.kinds & (1 << i) != 0);
                        }
                        let day = clock.date(s.at);
                        if judge.last().is_none_or(|(d, _)| *d != day) {
                            judge.push((day, 0));
                        }
                        if s.needs_judgement()
                            && let Some((_, n)) = judge.last_mut()
                        {
                            *n += 1;
                        }
                    }
                    Ok((g.key.clone(), counts, judge))
                },
                |(key, (accesses, explained, flagged, kinds), judge)| {
                    f.accesses += accesses;
                    f.explained += explained;
                    f.flagged += flagged;
                    for (code, n) in EXPLANATION_CODES.iter().zip(kinds) {
                        if let Some(total) = f.by_kind.get_mut(*code) {
                            *total += n;
                        }
                    }
                    for (day, n) in judge {
                        *days.entry((key.clone(), day)).or_insert(0) += n;
                    }
                    Ok(())
                },
            )?;
        }
        for n in days.into_values() {
            *histogram.entry(n).or_insert(0) += 1;
        }
        start = end;
    }
    f.share = if f.accesses == 0 {
        0.0
    } else {
        f.explained as f64 / f.accesses as f64
    };
    f.user_days = histogram.values().sum();
    f.to_judge_median = median(&histogram, f.user_days);
    Ok(f)
}

/// The median of a histogram of `total` values.
fn median(histogram: &BTreeMap<u32, u64>, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let at = |rank: u64| -> f64 {
        let mut seen = 0;
        for (value, count) in histogram {
            seen += count;
            if seen > rank {
                return f64::from(*value);
            }
        }
        0.0
    };
    if total % 2 == 1 {
        at(total / 2)
    } else {
        (at(total / 2 - 1) + at(total / 2)) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_a_histogram() {
        let h: BTreeMap<u32, u64> = [(0, 3), (2, 1), (9, 1)].into_iter().collect();
        assert_eq!(median(&h, 5), 0.0);
        let h: BTreeMap<u32, u64> = [(1, 1), (3, 1)].into_iter().collect();
        assert_eq!(median(&h, 2), 2.0);
        let h: BTreeMap<u32, u64> = [(1, 1), (4, 2), (7, 1)].into_iter().collect();
        assert_eq!(median(&h, 4), 4.0);
        assert_eq!(median(&BTreeMap::new(), 0), 0.0);
    }

    #[test]
    fn shares_in_swedish() {
        let f = Figure {
            accesses: 1000,
            explained: 943,
            share: 0.943,
            flagged: 25,
            ..Figure::default()
        };
        assert_eq!(f.share_sv(), "94,3 %");
        assert_eq!(f.flagged_sv(), "2,5 %");
    }
}
