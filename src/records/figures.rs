//! The figures of the yearly summary, per routine and unit: rounds due and held, population,
//! users drawn and reviewed (coverage), cases, reviews done, late and open, results by category,
//! extracts handed out and the time it took, labour-law matters and police reports.
//!
//! A year is the routine's local calendar year; a case counts in the year it was opened (a
//! sampling case: its round's). Figures come from the live tables plus the anonymous counts a
//! purge leaves (`purged_counts`), so a year's figures stay the same after its cases are purged.
//! Definitions (the tests recompute them with their own SQL):
//!
//! - `cases`: cases opened; `closed` (reviews done): of those, closed; `open`: not closed now.
//! - `late`: cases with a step answered after its due date, or open past it now.
//! - `result:CATEGORY`: closed cases by result; `labour_law`: results `labour_law_action` and
//!   `police_report`; `police`: `police_report`.
//! - `handed_out`: cases with `handed_out_at`; `hand_out_seconds`: the sum of the times from
//!   opening to handing out.
//! - sampling routines: `population` (distinct users in the year's rounds, at the unit of their
//!   membership), `drawn` (distinct users drawn) and `reviewed` (distinct users with a closed
//!   case of the year's rounds); coverage is reviewed ÷ population. A routine's total of these
//!   counts each user once (kept under unit `''`).

use crate::clock::resolve_local;
use crate::engine::deadline;
use crate::routine::Routine;
use crate::routine::model::{CaseKind, ResultCategory};
use crate::store::Db;
use crate::store::{parse_date, parse_ts, records as rdb};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};

/// Measure name → value.
pub(crate) type Measures = BTreeMap<String, i64>;

/// The user measures of sampling routines; not additive across units.
pub(crate) const USER_MEASURES: [&str; 3] = ["population", "drawn", "reviewed"];

/// What a section of the summary covers: a routine's cases, of some of its systems.
#[derive(Debug, Clone)]
pub struct Scope {
    pub routine_id: String,
    pub title: String,
    pub kind: CaseKind,
    pub timezone: Tz,
    /// Only cases of these systems (`None`: all of the routine's).
    pub systems: Option<Vec<String>>,
    pub crontab: Option<crate::schedule::Crontab>,
    /// The routine aims to review every user within the year (sampling strategy `coverage`);
    /// otherwise its aim is its planned rounds.
    pub coverage_goal: bool,
}

impl Scope {
    pub fn of(routine: &Routine, systems: Option<Vec<String>>) -> Scope {
        Scope {
            routine_id: routine.id.clone(),
            title: routine.title.clone(),
            kind: routine.kind,
            timezone: routine.timezone,
            systems,
            crontab: routine.crontab().cloned(),
            coverage_goal: routine
                .sampling
                .as_ref()
                .is_some_and(|s| s.strategy == crate::routine::model::Strategy::Coverage),
        }
    }

    fn covers(&self, system: &str) -> bool {
        self.systems
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == system))
    }
}

/// The sections of a routine's summary: the routine itself, and the on-demand routines
/// (targeted reviews, extracts) with their cases of the same systems.
pub(crate) fn summary_scopes(routine: &Routine, all: &[Routine]) -> Vec<Scope> {
    let mut out = vec![Scope::of(routine, None)];
    for other in all {
        if other.id != routine.id
            && other.kind != CaseKind::Sampling
            && other.systems.iter().any(|s| routine.systems.contains(s))
        {
            out.push(Scope::of(other, Some(routine.systems.clone())));
        }
    }
    out
}

/// One section's figures for one year.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    pub year: i32,
    pub rounds_due: i64,
    pub rounds_held: i64,
    /// Unit id → measures.
    pub units: BTreeMap<String, Measures>,
    pub total: Measures,
}

/// The local calendar year `year` in `tz`, as `[start, end)`.
pub(crate) fn year_bounds(year: i32, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .map(|d| resolve_local(d.and_time(NaiveTime::MIN), tz))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    (day(year), day(year + 1))
}

/// The local year of a stored instant.
pub(crate) fn local_year(stored: &str, tz: Tz) -> Result<i32> {
    use chrono::Datelike;
    Ok(parse_ts(stored)?.with_timezone(&tz).year())
}

/// The case measures of one case (`late` judged at `now`).
pub(crate) fn case_measures(
    case: &CaseFacts,
    tasks: &[(NaiveDate, Option<String>)],
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Measures> {
    let mut m = Measures::new();
    m.insert("cases".into(), 1);
    let closed = case.closed_at.is_some();
    m.insert(if closed { "closed" } else { "open" }.into(), 1);
    let mut late = false;
    for (due, answered) in tasks {
        let end = deadline::due_end(*due, tz);
        let at = match answered {
            Some(a) => parse_ts(a)?,
            None => now,
        };
        late |= at >= end;
    }
    if late {
        m.insert("late".into(), 1);
    }
    if let Some(result) = case.result.as_deref().and_then(ResultCategory::parse) {
        m.insert(format!("result:{}", result.as_str()), 1);
        if matches!(
            result,
            ResultCategory::LabourLawAction | ResultCategory::PoliceReport
        ) {
            m.insert("labour_law".into(), 1);
        }
        if result == ResultCategory::PoliceReport {
            m.insert("police".into(), 1);
        }
    }
    if let Some(handed) = &case.handed_out_at {
        m.insert("handed_out".into(), 1);
        let seconds = (parse_ts(handed)? - parse_ts(&case.opened_at)?).num_seconds();
        m.insert("hand_out_seconds".into(), seconds.max(0));
    }
    Ok(m)
}

/// What the figures read of a case.
pub use crate::store::records::CaseFacts;

pub fn add(into: &mut Measures, from: &Measures) {
    for (k, v) in from {
        *into.entry(k.clone()).or_insert(0) += v;
    }
}

/// The figures of `scope` for `year`, as of `now`.
pub fn compute(conn: &Db, scope: &Scope, year: i32, now: DateTime<Utc>) -> Result<Figures> {
    let tz = scope.timezone;
    let (start, end) = year_bounds(year, tz);
    let mut f = Figures {
        year,
        ..Figures::default()
    };
    // Rounds.
    if let Some(crontab) = &scope.crontab {
        let first = crate::store::roster::first_import_at(conn)?;
        f.rounds_due = crontab
            .occurrences_in_year(tz, year)
            .iter()
            .filter(|t| **t <= now && first.is_some_and(|first| **t >= first))
            .count() as i64;
        f.rounds_held = rdb::rounds_held(conn, &scope.routine_id, start, end)?;
    }
    // Live cases.
    let cases: Vec<CaseFacts> = rdb::cases_opened(conn, &scope.routine_id, start, end)?
        .into_iter()
        .filter(|c| scope.covers(&c.system))
        .collect();
    let mut tasks: BTreeMap<String, Vec<(NaiveDate, Option<String>)>> = BTreeMap::new();
    for (case, due, answered) in rdb::steps_of_cases_opened(conn, &scope.routine_id, start, end)? {
        tasks
            .entry(case)
            .or_default()
            .push((parse_date(&due)?, answered));
    }
    for c in &cases {
        let m = case_measures(c, tasks.get(&c.id).map_or(&[][..], Vec::as_slice), tz, now)?;
        add(f.units.entry(c.unit_id.clone()).or_default(), &m);
    }
    // Purged cases' counts.
    for (system, unit, measure, value) in rdb::purged_counts(conn, &scope.routine_id, year)? {
        if !scope.covers(&system) || USER_MEASURES.contains(&measure.as_str()) {
            continue;
        }
        *f.units.entry(unit).or_default().entry(measure).or_insert(0) += value;
    }
    f.units.remove("");
    for m in f.units.values() {
        add(&mut f.total, m);
    }
    // Users, for sampling routines: live, or frozen before the purge deleted the members.
    if scope.kind == CaseKind::Sampling {
        let users = if rdb::is_frozen(conn, &scope.routine_id, year)? {
            let mut out: BTreeMap<String, Measures> = BTreeMap::new();
            for (system, unit, measure, value) in rdb::purged_counts(conn, &scope.routine_id, year)?
            {
                if scope.covers(&system) && USER_MEASURES.contains(&measure.as_str()) {
                    out.entry(unit).or_default().insert(measure, value);
                }
            }
            out
        } else {
            user_measures(conn, &scope.routine_id, start, end)?
        };
        for (unit, m) in users {
            let target = if unit.is_empty() {
                &mut f.total
            } else {
                f.units.entry(unit).or_default()
            };
            for (k, v) in m {
                target.insert(k, v);
            }
        }
    }
    // Access-rights reviews: the accounts kept and ended in the year.
    if scope.kind == CaseKind::AccessRights {
        let counts = crate::store::access::decision_counts(conn, &scope.routine_id, start, end)?;
        for (decision, key) in [("keep", "accounts_kept"), ("end", "accounts_ended")] {
            f.total
                .insert(key.to_string(), counts.get(decision).copied().unwrap_or(0));
        }
    }
    Ok(f)
}

/// Population, drawn and reviewed users of the routine's rounds at `[start, end)`, by unit and
/// in all (unit `''`), from the round members and cases as they are.
pub(crate) fn user_measures(
    conn: &Db,
    routine_id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<BTreeMap<String, Measures>> {
    let members = rdb::round_members_in(conn, routine_id, start, end)?;
    let reviewed = rdb::reviewed_in(conn, routine_id, start, end)?;
    let mut out: BTreeMap<String, Measures> = BTreeMap::new();
    let counted = distinct_by_unit(
        members
            .iter()
            .map(|(unit, person, drawn)| (unit.as_str(), person.as_str(), *drawn)),
    );
    for (unit, (population, drawn)) in counted {
        let m = out.entry(unit).or_default();
        m.insert("population".into(), population);
        if drawn > 0 {
            m.insert("drawn".into(), drawn);
        }
    }
    let counted = distinct_by_unit(
        reviewed
            .iter()
            .map(|(unit, person)| (unit.as_str(), person.as_str(), false)),
    );
    for (unit, (n, _)) in counted {
        out.entry(unit).or_default().insert("reviewed".into(), n);
    }
    Ok(out)
}

/// For each unit, and for all units together (unit `""`), how many distinct people `rows`
/// (unit, person, marked) name, and how many of them are marked at least once. A year of
/// monthly rounds is 300,000 rows of 25,000 people: they are counted as numbers, sorted.
fn distinct_by_unit<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, bool)>,
) -> BTreeMap<String, (i64, i64)> {
    let mut units: HashMap<&str, u32> = HashMap::new();
    let mut people: HashMap<&str, u32> = HashMap::new();
    let mut pairs: Vec<(u32, u32, bool)> = Vec::new();
    for (unit, person, marked) in rows {
        let next = units.len() as u32;
        let u = *units.entry(unit).or_insert(next);
        let next = people.len() as u32;
        let p = *people.entry(person).or_insert(next);
        pairs.push((u, p, marked));
    }
    let mut names: Vec<&str> = vec![""; units.len()];
    for (name, id) in &units {
        names[*id as usize] = name;
    }
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    // Sorted with the marked after the unmarked: the last of a run says whether any is marked.
    let mut count = |pairs: &mut Vec<(u32, u32, bool)>, name: &dyn Fn(u32) -> String| {
        pairs.sort_unstable();
        for same in pairs.chunk_by(|a, b| a.0 == b.0) {
            let entry = out.entry(name(same[0].0)).or_default();
            for person in same.chunk_by(|a, b| a.1 == b.1) {
                entry.0 += 1;
                entry.1 += i64::from(person.last().is_some_and(|x| x.2));
            }
        }
    };
    // A unit whose id is empty would be the total's name: the total counts its people.
    let mut by_unit: Vec<(u32, u32, bool)> = pairs
        .iter()
        .copied()
        .filter(|(u, ..)| names.get(*u as usize).is_some_and(|n| !n.is_empty()))
        .collect();
    count(&mut by_unit, &|u| {
        names.get(u as usize).copied().unwrap_or("").to_string()
    });
    // All units together.
    for pair in &mut pairs {
        pair.0 = 0;
    }
    let mut all = pairs;
    count(&mut all, &|_| String::new());
    out
}

/// A measure, 0 when absent.
pub fn get(m: &Measures, key: &str) -> i64 {
    m.get(key).copied().unwrap_or(0)
}

/// Coverage in per cent (one decimal), `None` without a population.
pub fn coverage(m: &Measures) -> Option<f64> {
    let population = get(m, "population");
    (population > 0)
        .then(|| (get(m, "reviewed") as f64 * 1000.0 / population as f64).round() / 10.0)
}

/// Average days from opening to handing out (one decimal), `None` when none was handed out.
pub(crate) fn hand_out_days(m: &Measures) -> Option<f64> {
    let n = get(m, "handed_out");
    (n > 0).then(|| (get(m, "hand_out_seconds") as f64 / n as f64 / 86_400.0 * 10.0).round() / 10.0)
}

/// Refuses a year the calendar cannot hold.
pub(crate) fn check_year(year: i32) -> Result<()> {
    if (1970..=9998).contains(&year) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--year: {year} is not a year loggkoll can report"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_by_unit;
    use std::collections::{BTreeMap, BTreeSet};

    /// Counted as numbers, sorted, they are what sets of names give.
    #[test]
    fn distinct_people_by_unit_are_counted_as_sets_count_them() {
        let mut rows: Vec<(String, String, bool)> = Vec::new();
        let mut x: u64 = 7;
        for _ in 0..2000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let unit = format!("EN{}", (x >> 33) % 7);
            let person = format!("P{}", (x >> 40) % 150);
            rows.push((unit, person, (x >> 20).is_multiple_of(5)));
        }
        let mut sets: BTreeMap<String, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
        for (unit, person, marked) in &rows {
            for u in [unit.as_str(), ""] {
                let e = sets.entry(u.to_string()).or_default();
                e.0.insert(person);
                if *marked {
                    e.1.insert(person);
                }
            }
        }
        let expected: BTreeMap<String, (i64, i64)> = sets
            .into_iter()
            .map(|(u, (all, marked))| (u, (all.len() as i64, marked.len() as i64)))
            .collect();
        let got = distinct_by_unit(rows.iter().map(|(u, p, m)| (u.as_str(), p.as_str(), *m)));
        assert_eq!(got, expected);
        assert!(got[""].1 > 0 && got[""].0 > got[""].1);
        assert!(distinct_by_unit(std::iter::empty()).is_empty());
    }
}
