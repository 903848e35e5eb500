//! Which periods the imported logs cover, per system: the union of what each import covers
//! (`logs import --from --to`, or the whole local days of its events), and whether a case's
//! window is covered wholly, in part or not at all. A review never says "no accesses" when the
//! log is simply missing.

use crate::Result;
use crate::store::Db;
use crate::store::evidence as db;
use serde::Serialize;

/// How much of a period the imported log covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStatus {
    Complete,
    Partial,
    Missing,
}

impl LogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStatus::Complete => "complete",
            LogStatus::Partial => "partial",
            LogStatus::Missing => "missing",
        }
    }

    /// Several systems together: complete when each is, missing when each is.
    pub(crate) fn combine(self, other: LogStatus) -> LogStatus {
        match (self, other) {
            (LogStatus::Complete, LogStatus::Complete) => LogStatus::Complete,
            (LogStatus::Missing, LogStatus::Missing) => LogStatus::Missing,
            _ => LogStatus::Partial,
        }
    }
}

/// Periods `[from, to)` merged where they meet or overlap, by start.
pub(crate) fn merge(mut periods: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    periods.retain(|(a, b)| a < b);
    periods.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(periods.len());
    for (a, b) in periods {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// How many seconds of `[from, to)` the merged periods cover.
pub(crate) fn covered(merged: &[(i64, i64)], from: i64, to: i64) -> i64 {
    merged
        .iter()
        .map(|&(a, b)| (b.min(to) - a.max(from)).max(0))
        .sum()
}

/// How much of `[from, to)` the merged periods cover.
pub(crate) fn status(merged: &[(i64, i64)], from: i64, to: i64) -> LogStatus {
    if to <= from {
        return LogStatus::Missing;
    }
    let covered = covered(merged, from, to);
    if covered >= to - from {
        LogStatus::Complete
    } else if covered > 0 {
        LogStatus::Partial
    } else {
        LogStatus::Missing
    }
}

/// How much of `[from, to)` the imported log of `system` covers.
pub(crate) fn of_window(conn: &Db, system: &str, from: i64, to: i64) -> Result<LogStatus> {
    Ok(status(&merge(db::coverage(conn, system)?), from, to))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Period {
    pub from: String,
    pub to: String,
}

/// What `logs coverage` shows of one system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SystemCoverage {
    pub system: String,
    pub covered: Vec<Period>,
    /// The gaps between the first covered instant and the last.
    pub gaps: Vec<Period>,
}

/// The covered periods and the gaps of every system with an import.
pub(crate) fn by_system(conn: &Db) -> Result<Vec<SystemCoverage>> {
    let mut per: std::collections::BTreeMap<String, Vec<(i64, i64)>> = Default::default();
    for (system, _, from, to) in db::all_coverage(conn)? {
        per.entry(system).or_default().push((from, to));
    }
    let ts = crate::store::unix_ts;
    Ok(per
        .into_iter()
        .map(|(system, periods)| {
            let merged = merge(periods);
            let gaps = merged
                .windows(2)
                .map(|w| Period {
                    from: ts(w[0].1),
                    to: ts(w[1].0),
                })
                .collect();
            SystemCoverage {
                system,
                covered: merged
                    .iter()
                    .map(|&(a, b)| Period {
                        from: ts(a),
                        to: ts(b),
                    })
                    .collect(),
                gaps,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_merge_and_windows_are_covered_wholly_in_part_or_not() {
        let m = merge(vec![(10, 20), (0, 5), (5, 8), (30, 40), (15, 25), (50, 50)]);
        assert_eq!(m, vec![(0, 8), (10, 25), (30, 40)]);
        assert_eq!(status(&m, 0, 8), LogStatus::Complete);
        assert_eq!(status(&m, 11, 24), LogStatus::Complete);
        assert_eq!(status(&m, 6, 12), LogStatus::Partial);
        assert_eq!(status(&m, 25, 30), LogStatus::Missing);
        assert_eq!(status(&m, 41, 100), LogStatus::Missing);
        assert_eq!(status(&[], 0, 10), LogStatus::Missing);
        assert_eq!(status(&m, 5, 5), LogStatus::Missing);
        assert_eq!(
            LogStatus::Complete.combine(LogStatus::Missing),
            LogStatus::Partial
        );
        assert_eq!(
            LogStatus::Missing.combine(LogStatus::Missing),
            LogStatus::Missing
        );
    }
}
