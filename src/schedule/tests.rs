//! Checks against oracles that share no code with the cron crate, and a record of what the cron
//! crate does on its own (the reasons this module wraps it).

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::{Crontab, parser, wall_clock};

const ZONES: [Tz; 7] = [
    chrono_tz::Europe::Stockholm,
    chrono_tz::America::New_York,
    chrono_tz::America::Santiago,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Asia::Kolkata,
    chrono_tz::UTC,
];

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instant")
}

fn naive(text: &str) -> NaiveDateTime {
    text.parse().expect("test wall-clock time")
}

/// The instants in 2026–2027 at which `tz` changes its offset (to the hour, enough here).
fn transitions(tz: Tz) -> Vec<DateTime<Utc>> {
    let mut found = Vec::new();
    let mut at = utc("2026-01-01T00:00:00Z");
    let mut offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    while at < utc("2028-01-01T00:00:00Z") {
        at += TimeDelta::minutes(30);
        let now = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
        if now != offset {
            found.push(at);
            offset = now;
        }
    }
    found
}

/// The instant cron runs wall-clock time `local` at, by brute force: the first whole minute
/// whose wall-clock time is `local` or later.
fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut at = local.and_utc() - TimeDelta::hours(16);
    while tz.from_utc_datetime(&at.naive_utc()).naive_local() < local {
        at += TimeDelta::minutes(1);
    }
    at
}

#[test]
fn wall_clock_agrees_with_brute_force_around_every_transition() {
    for tz in ZONES {
        for transition in transitions(tz) {
            let local = tz.from_utc_datetime(&transition.naive_utc()).naive_local();
            let mut time = local - TimeDelta::minutes(150);
            while time < local + TimeDelta::minutes(150) {
                assert_eq!(
                    wall_clock::instant(tz, time),
                    Some(first_instant_at_or_after(tz, time)),
                    "{tz} {time}"
                );
                time += TimeDelta::minutes(5);
            }
        }
    }
}

#[test]
fn wall_clock_jumps_a_skipped_day_to_its_end() {
    // Samoa skipped 30 December 2011: from 29 December 23:59:59 (−10) to 31 December (+14).
    assert_eq!(
        wall_clock::instant(chrono_tz::Pacific::Apia, naive("2011-12-30T12:00:00")),
        Some(utc("2011-12-30T10:00:00Z"))
    );
}

const MINUTES: [&str; 8] = ["*", "0", "30", "0,30", "*/15", "5-10", "*/7", "59"];
const HOURS: [&str; 7] = ["*", "2", "1-3", "0,12", "*/5", "23", "0"];
const DAYS_OF_MONTH: [&str; 7] = ["*", "1", "15,31", "*/10", "28-31", "29", "13"];
const MONTHS: [&str; 8] = ["*", "3", "10", "1,7", "3-4", "*/2", "2", "SEP-DEC"];
const DAYS_OF_WEEK: [&str; 8] = ["*", "0", "7", "1-5", "MON", "*/3", "SAT,SUN", "FRI-SUN"];

fn expression() -> impl Strategy<Value = String> {
    (
        prop::sample::select(MINUTES.as_slice()),
        prop::sample::select(HOURS.as_slice()),
        prop::sample::select(DAYS_OF_MONTH.as_slice()),
        prop::sample::select(MONTHS.as_slice()),
        prop::sample::select(DAYS_OF_WEEK.as_slice()),
    )
        .prop_map(|(m, h, dom, mon, dow)| format!("{m} {h} {dom} {mon} {dow}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Over whole years in UTC, the cron-crate-driven iteration gives exactly the minutes that
    /// crontab's rules match.
    #[test]
    fn matching_agrees_with_crontab_rules_over_a_year(
        expression in expression(),
        year in 2026..=2028i32,
    ) {
        let Ok(crontab) = Crontab::parse(&expression) else { return Ok(()); };
        let fields = parser::parse(&expression).map_err(|e| TestCaseError::fail(e.message))?;
        let mut expected = Vec::new();
        let start = NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .ok_or_else(|| TestCaseError::fail("year"))?;
        let mut time = start;
        while time < start + TimeDelta::days(366) {
            if fields.matches(time) && chrono::Datelike::year(&time) == year {
                expected.push(time.and_utc());
            }
            time += TimeDelta::minutes(1);
        }
        prop_assert_eq!(crontab.occurrences_in_year(chrono_tz::UTC, year), expected);
    }

    /// Around daylight-saving changes in several zones, `occurrences` gives exactly the
    /// instants of the matching wall-clock times, each once, in order.
    #[test]
    fn occurrences_agree_with_brute_force_around_transitions(
        expression in expression(),
        zone in 0..ZONES.len(),
        which in 0usize..4,
        lead_minutes in 0i64..2160,
        length_minutes in 1i64..4320,
    ) {
        let Ok(crontab) = Crontab::parse(&expression) else { return Ok(()); };
        let fields = parser::parse(&expression).map_err(|e| TestCaseError::fail(e.message))?;
        let tz = ZONES[zone];
        let all = transitions(tz);
        // Zones without daylight saving are checked around an ordinary day.
        let transition = all
            .get(which % all.len().max(1))
            .copied()
            .unwrap_or_else(|| utc("2026-06-01T00:00:00Z"));
        let after = transition - TimeDelta::minutes(lead_minutes);
        let until = after + TimeDelta::minutes(length_minutes);
        let mut expected = BTreeSet::new();
        let mut time = after.naive_utc() - TimeDelta::days(1);
        while time < until.naive_utc() + TimeDelta::days(1) {
            if fields.matches(time)
                && let Some(instant) = wall_clock::instant(tz, time)
                && after < instant && instant <= until
            {
                expected.insert(instant);
            }
            time += TimeDelta::minutes(1);
        }
        let actual: Vec<_> = crontab.occurrences(tz, after, until).collect();
        prop_assert_eq!(actual, expected.into_iter().collect::<Vec<_>>());
    }
}

// What the cron crate does on its own. Each of these is a reason for the wrapper; should one
// start failing after an upgrade, the wrapper may be doing work that is no longer needed.

#[test]
fn cron_crate_refuses_five_fields() {
    assert!(cron::Schedule::from_str("30 2 * * *").is_err());
}

#[test]
fn cron_crate_counts_weekdays_from_sunday_as_one() {
    assert!(cron::Schedule::from_str("0 0 8 * * 0").is_err());
    let schedule = cron::Schedule::from_str("0 0 8 * * 1").expect("valid");
    let next = schedule.after(&utc("2026-06-01T00:00:00Z")).next();
    assert_eq!(next, Some(utc("2026-06-07T08:00:00Z")), "a Sunday");
}

#[test]
fn cron_crate_requires_both_day_fields_to_match() {
    let schedule = cron::Schedule::from_str("0 0 8 1 * MON").expect("valid");
    let next: Vec<_> = schedule
        .after(&utc("2026-06-01T00:00:00Z"))
        .take(2)
        .collect();
    // Only 1sts that are Mondays: nothing between 1 June 2026 and 1 February 2027.
    assert_eq!(
        next,
        [utc("2026-06-01T08:00:00Z"), utc("2027-02-01T08:00:00Z")]
    );
}

#[test]
fn cron_crate_skips_the_spring_gap_and_doubles_the_autumn_fold() {
    let tz = chrono_tz::Europe::Stockholm;
    let schedule = cron::Schedule::from_str("0 30 2 * * *").expect("valid");
    let start = tz
        .with_ymd_and_hms(2026, 3, 28, 12, 0, 0)
        .single()
        .expect("valid");
    let spring: Vec<_> = schedule
        .after(&start)
        .take(1)
        .map(|time| time.with_timezone(&Utc))
        .collect();
    assert_eq!(spring, [utc("2026-03-30T00:30:00Z")], "29 March skipped");
    let start = tz
        .with_ymd_and_hms(2026, 10, 24, 12, 0, 0)
        .single()
        .expect("valid");
    let autumn: Vec<_> = schedule
        .after(&start)
        .take(2)
        .map(|time| time.with_timezone(&Utc))
        .collect();
    assert_eq!(
        autumn,
        [utc("2026-10-25T00:30:00Z"), utc("2026-10-25T01:30:00Z")],
        "25 October twice"
    );
}

#[test]
fn cron_crate_calendar_ends_with_2100() {
    let crontab = Crontab::parse("0 0 1 1 *").expect("valid");
    assert_eq!(
        crontab.next_after(chrono_tz::UTC, utc("2100-06-01T00:00:00Z")),
        None
    );
}
