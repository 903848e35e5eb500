//! The crontab schedules of routines: parsing, errors, weekday numbering, the day-field rule,
//! daylight saving in Europe/Stockholm, counting and the Swedish description.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use chrono_tz::Tz;
use loggkoll::schedule::{Crontab, CrontabError};
use proptest::prelude::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instant")
}

fn crontab(expression: &str) -> Crontab {
    Crontab::parse(expression)
        .unwrap_or_else(|error| panic!("`{expression}` should parse: {error}"))
}

/// The runs in Stockholm, as UTC instants in RFC 3339, from `after` (exclusive) to `until`.
fn runs(expression: &str, after: &str, until: &str) -> Vec<String> {
    crontab(expression)
        .occurrences(Stockholm, utc(after), utc(until))
        .map(|time| time.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

/// The runs during one Stockholm calendar day, as UTC instants.
fn runs_on_day(expression: &str, year: i32, month: u32, day: u32) -> Vec<DateTime<Utc>> {
    let midnight = |date: chrono::NaiveDate| {
        Stockholm
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("midnight occurs once in Stockholm")
            .with_timezone(&Utc)
    };
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day).expect("test date");
    let start = midnight(date);
    let end = midnight(date + TimeDelta::days(1));
    crontab(expression)
        .occurrences(
            Stockholm,
            start - TimeDelta::seconds(1),
            end - TimeDelta::seconds(1),
        )
        .collect()
}

/// The Stockholm dates and times (`2026-06-01 Mon 08:00`) of the runs in a range.
fn local_runs(expression: &str, after: &str, until: &str) -> Vec<String> {
    crontab(expression)
        .occurrences(Stockholm, utc(after), utc(until))
        .map(|time| {
            time.with_timezone(&Stockholm)
                .format("%Y-%m-%d %a %H:%M")
                .to_string()
        })
        .collect()
}

fn check_error(expression: &str, offset: usize, len: usize, message: &str, help: Option<&str>) {
    let expected = CrontabError {
        offset,
        len,
        message: message.to_owned(),
        help: help.map(str::to_owned),
    };
    match Crontab::parse(expression) {
        Ok(_) => panic!("`{expression}` should be refused with: {message}"),
        Err(error) => assert_eq!(error, expected, "`{expression}`"),
    }
}

// Parsing: valid forms

/// `expression` runs exactly when `same` does (every run of 2026 and 2027 in Stockholm).
fn check_same(expression: &str, same: &str) {
    for year in [2026, 2027] {
        let left = crontab(expression).occurrences_in_year(Stockholm, year);
        let right = crontab(same).occurrences_in_year(Stockholm, year);
        assert!(!left.is_empty(), "`{expression}` never runs in {year}");
        assert_eq!(left, right, "`{expression}` and `{same}` in {year}");
    }
}

#[test]
fn names_are_numbers_in_any_case() {
    check_same("0 8 * JAN *", "0 8 * 1 *");
    check_same("0 8 * jun-AUG *", "0 8 * 6-8 *");
    check_same("0 8 * * Mon", "0 8 * * 1");
    check_same("0 8 * * sat,SUN", "0 8 * * 6,0");
}

#[test]
fn sunday_is_0_and_7() {
    check_same("0 8 * * 7", "0 8 * * 0");
    check_same("0 8 * * SUN", "0 8 * * 0");
    check_same("0 8 * * 5-7", "0 8 * * 0,5,6");
    check_same("0 8 * * FRI-SUN", "0 8 * * 0,5,6");
    check_same("0 8 * * 0-7", "0 8 * * *");
}

#[test]
fn ranges_steps_and_lists() {
    check_same("*/15 * * * *", "0,15,30,45 * * * *");
    check_same("0-59/15 * * * *", "0,15,30,45 * * * *");
    check_same("0 8-18/2 * * *", "0 8,10,12,14,16,18 * * *");
    check_same("0 8 */10 * *", "0 8 1,11,21,31 * *");
    check_same("0 8 * * */2", "0 8 * * 0,2,4,6");
    check_same("0 8 * */3 *", "0 8 * 1,4,7,10 *");
    check_same("5,10-12,*/30 8 * * *", "0,5,10,11,12,30 8 * * *");
    check_same("  0\t8  *  * *  ", "0 8 * * *");
}

#[test]
fn macros() {
    check_same("@yearly", "0 0 1 1 *");
    check_same("@annually", "0 0 1 1 *");
    check_same("@monthly", "0 0 1 * *");
    check_same("@weekly", "0 0 * * 0");
    check_same("@daily", "0 0 * * *");
    check_same("@midnight", "0 0 * * *");
    check_same("@hourly", "0 * * * *");
    check_same("@Daily", "0 0 * * *");
}

#[test]
fn source_is_kept_as_written() {
    let schedule = crontab(" 0 7 1 JAN * ");
    assert_eq!(schedule.source(), " 0 7 1 JAN * ");
    assert_eq!(schedule.to_string(), " 0 7 1 JAN * ");
}

// Parsing: errors, with exact spans

const FIELDS: &str = "expected 5 fields (minute hour day-of-month month day-of-week)";

#[test]
fn error_field_count() {
    check_error(
        "0 0 7 1 * *",
        10,
        1,
        &format!("{FIELDS}, found 6"),
        Some("standard crontab has no seconds or year field: the first field is the minute"),
    );
    check_error(
        "0 0 7 1 * * 2026",
        10,
        6,
        &format!("{FIELDS}, found 7"),
        Some("standard crontab has no seconds or year field: the first field is the minute"),
    );
    check_error(
        " 0 7 1 *",
        1,
        7,
        &format!("{FIELDS}, found 4"),
        Some("write all five, e.g. `0 7 1 * *` for 07:00 on the 1st of every month"),
    );
    check_error(
        "",
        0,
        0,
        &format!("{FIELDS}, found 0"),
        Some("write all five, e.g. `0 7 1 * *` for 07:00 on the 1st of every month"),
    );
}

#[test]
fn error_out_of_range() {
    check_error("60 * * * *", 0, 2, "minute `60` is out of range 0–59", None);
    check_error("0 25 * * *", 2, 2, "hour `25` is out of range 0–23", None);
    check_error(
        "0 7 0 * *",
        4,
        1,
        "day-of-month `0` is out of range 1–31",
        None,
    );
    check_error(
        "0 7 32 * *",
        4,
        2,
        "day-of-month `32` is out of range 1–31",
        None,
    );
    check_error("0 7 1 13 *", 6, 2, "month `13` is out of range 1–12", None);
    check_error("0 7 1 0-3 *", 6, 1, "month `0` is out of range 1–12", None);
    check_error(
        "0 7 * * 8",
        8,
        1,
        "day-of-week `8` is out of range 0–7",
        None,
    );
    check_error(
        "99999999999 * * * *",
        0,
        11,
        "minute `99999999999` is out of range 0–59",
        None,
    );
}

#[test]
fn error_unknown_names() {
    check_error(
        "0 7 1 JNA *",
        6,
        3,
        "unknown month name `JNA`",
        Some("did you mean `JAN`?"),
    );
    check_error(
        "0 7 1 okt *",
        6,
        3,
        "unknown month name `okt`",
        Some("did you mean `OCT`?"),
    );
    check_error(
        "0 7 1 January *",
        6,
        7,
        "unknown month name `January`",
        Some("did you mean `JAN`?"),
    );
    // `MÅN` is four bytes: the span is in bytes.
    check_error(
        "0 7 * * MÅN-FRE",
        8,
        4,
        "unknown day-of-week name `MÅN`",
        Some("did you mean `MON`?"),
    );
    check_error(
        "0 7 * * MON-FRE",
        12,
        3,
        "unknown day-of-week name `FRE`",
        Some("did you mean `FRI`?"),
    );
    check_error(
        "0 7 * * XYZ",
        8,
        3,
        "unknown day-of-week name `XYZ`",
        Some("the names are `SUN`, `MON`, `TUE`, `WED`, `THU`, `FRI`, `SAT`"),
    );
    check_error(
        "0 noon * * *",
        2,
        4,
        "expected a number 0–23 for hour, found `noon`",
        None,
    );
    check_error(
        "0 7 1 1a *",
        6,
        2,
        "expected a number 1–12 or a name `JAN`–`DEC` for month, found `1a`",
        None,
    );
}

#[test]
fn error_steps() {
    check_error("*/0 * * * *", 2, 1, "step `0` must be at least 1", None);
    check_error("0 8-18/0 * * *", 7, 1, "step `0` must be at least 1", None);
    check_error(
        "*/90 * * * *",
        2,
        2,
        "step `90` must be at most 59 for minute",
        None,
    );
    check_error(
        "0 */x * * *",
        4,
        1,
        "step `x` in hour must be a number 1–23",
        None,
    );
    check_error(
        "0 8 */ * *",
        5,
        1,
        "missing step after `/` in day-of-month",
        None,
    );
    check_error(
        "5/10 * * * *",
        0,
        4,
        "a step needs a range before it, found `5/10`",
        Some("write `5-59/10` to start at 5, or `*/10`"),
    );
    check_error(
        "/5 * * * *",
        0,
        1,
        "missing range before `/` in minute",
        Some("write `*/5` to step through the whole range"),
    );
}

#[test]
fn error_ranges() {
    check_error(
        "0 5-2 * * *",
        2,
        3,
        "range `5-2` runs backwards",
        Some("to wrap around, write `5-23,0-2`"),
    );
    check_error(
        "0 8 * NOV-FEB *",
        6,
        7,
        "range `NOV-FEB` runs backwards",
        Some("to wrap around, write `NOV-DEC,JAN-FEB`"),
    );
    check_error(
        "0 8 * * FRI-MON",
        8,
        7,
        "range `FRI-MON` runs backwards",
        Some("to wrap around, write `FRI-SUN,MON`"),
    );
    check_error(
        "0 8 * * 5-0",
        8,
        3,
        "range `5-0` runs backwards",
        Some("Sunday is also 7: write `5-7`"),
    );
    check_error(
        "0 8 20-10/2 * *",
        4,
        5,
        "range `20-10` runs backwards",
        None,
    );
    check_error(
        "0 8 * * 1-",
        8,
        2,
        "incomplete range `1-` in day-of-week",
        None,
    );
    check_error(
        "0 8 * * 1-2-3",
        11,
        1,
        "unexpected second `-` in day-of-week",
        None,
    );
}

#[test]
fn error_characters_and_lists() {
    check_error(
        "0 8 ? * MON",
        4,
        1,
        "unexpected character `?` in day-of-month",
        Some("standard crontab has no `?`: write `*`"),
    );
    check_error(
        "0 8 * * 1#2",
        9,
        1,
        "unexpected character `#` in day-of-week",
        None,
    );
    check_error(
        "0 8 1* * *",
        5,
        1,
        "unexpected `*` in day-of-month",
        Some("`*` stands alone, or before a step as in `*/15`"),
    );
    check_error("1,,2 * * * *", 2, 1, "empty item in minute list", None);
    check_error("0 8, * * *", 3, 1, "empty item in hour list", None);
    check_error(",8 0 * * *", 0, 1, "empty item in minute list", None);
}

#[test]
fn error_macros() {
    check_error(
        "@dayly",
        0,
        6,
        "unknown macro `@dayly`",
        Some("did you mean `@daily`?"),
    );
    check_error(
        "@daily 0 7",
        7,
        3,
        "unexpected `0 7` after macro `@daily`",
        Some("a macro stands alone; write either the macro or the five fields"),
    );
    check_error(
        "@reboot",
        0,
        7,
        "macro `@reboot` is not supported: a routine runs on the calendar, not at start-up",
        None,
    );
}

#[test]
fn error_day_that_never_occurs() {
    check_error(
        "0 7 30 2 *",
        4,
        2,
        "day-of-month `30` never occurs in month `2`",
        None,
    );
    check_error(
        "0 7 31 APR,JUN *",
        4,
        2,
        "day-of-month `31` never occurs in month `APR,JUN`",
        None,
    );
    // The 29th of February does occur, and with a weekday the 30th of February is harmless.
    assert_eq!(
        crontab("0 7 29 2 *")
            .occurrences_in_year(Stockholm, 2028)
            .len(),
        1
    );
    assert_eq!(
        crontab("0 7 29 2 *")
            .occurrences_in_year(Stockholm, 2027)
            .len(),
        0
    );
    assert_eq!(
        crontab("0 7 30 2 MON")
            .occurrences_in_year(Stockholm, 2026)
            .len(),
        4
    );
}

proptest! {
    /// No input makes the parser panic, and every error points inside the expression.
    #[test]
    fn any_text_parses_or_is_refused_with_a_span(
        expression in prop_oneof![
            any::<String>(),
            "[0-9a-zA-ZåäöÅÄÖ*/,@? \\t-]{0,30}",
            "([0-9*/,-]{1,6} ){4}[0-9A-Za-z*/,-]{1,6}",
        ]
    ) {
        match Crontab::parse(&expression) {
            Ok(schedule) => {
                let after = utc("2026-03-28T00:00:00Z");
                let until = utc("2026-03-30T00:00:00Z");
                let runs: Vec<_> = schedule.occurrences(Stockholm, after, until).collect();
                prop_assert!(runs.windows(2).all(|pair| pair[0] < pair[1]));
                let _ = schedule.describe_sv();
            }
            Err(error) => {
                let end = error.offset + error.len;
                prop_assert!(end <= expression.len(), "{:?}", error);
                prop_assert!(expression.is_char_boundary(error.offset));
                prop_assert!(expression.is_char_boundary(end));
                prop_assert!(!error.message.ends_with('.'));
                prop_assert!(error.message.chars().next().is_none_or(|c| !c.is_uppercase()));
            }
        }
    }
}

// Weekday numbering and the day-field rule

#[test]
fn weekday_numbers_follow_crontab() {
    let june = ("2026-05-31T22:00:00Z", "2026-06-14T22:00:00Z");
    assert_eq!(
        local_runs("0 8 * * 1", june.0, june.1),
        ["2026-06-01 Mon 08:00", "2026-06-08 Mon 08:00"]
    );
    let sundays = ["2026-06-07 Sun 08:00", "2026-06-14 Sun 08:00"];
    assert_eq!(local_runs("0 8 * * 0", june.0, june.1), sundays);
    assert_eq!(local_runs("0 8 * * 7", june.0, june.1), sundays);
    assert_eq!(
        local_runs("0 8 * * MON-FRI", june.0, "2026-06-07T22:00:00Z"),
        [
            "2026-06-01 Mon 08:00",
            "2026-06-02 Tue 08:00",
            "2026-06-03 Wed 08:00",
            "2026-06-04 Thu 08:00",
            "2026-06-05 Fri 08:00",
        ]
    );
}

#[test]
fn restricted_day_fields_match_either() {
    assert_eq!(
        local_runs(
            "0 8 1 * MON",
            "2026-05-31T22:00:00Z",
            "2026-07-31T22:00:00Z"
        ),
        [
            "2026-06-01 Mon 08:00",
            "2026-06-08 Mon 08:00",
            "2026-06-15 Mon 08:00",
            "2026-06-22 Mon 08:00",
            "2026-06-29 Mon 08:00",
            "2026-07-01 Wed 08:00",
            "2026-07-06 Mon 08:00",
            "2026-07-13 Mon 08:00",
            "2026-07-20 Mon 08:00",
            "2026-07-27 Mon 08:00",
        ]
    );
}

#[test]
fn a_day_field_starting_with_star_makes_both_required() {
    // As in Vixie cron: `*/2` counts as `*`, so odd days that are Mondays.
    assert_eq!(
        local_runs(
            "0 8 */2 * MON",
            "2026-05-31T22:00:00Z",
            "2026-07-31T22:00:00Z"
        ),
        [
            "2026-06-01 Mon 08:00",
            "2026-06-15 Mon 08:00",
            "2026-06-29 Mon 08:00",
            "2026-07-13 Mon 08:00",
            "2026-07-27 Mon 08:00",
        ]
    );
}

// Daylight saving in Europe/Stockholm

const SPRING: [(i32, u32, u32); 2] = [(2026, 3, 29), (2027, 3, 28)];
const AUTUMN: [(i32, u32, u32); 2] = [(2026, 10, 25), (2027, 10, 31)];

#[test]
fn a_time_in_the_spring_gap_runs_once_at_its_end() {
    assert_eq!(
        runs_on_day("30 2 * * *", 2026, 3, 29),
        [utc("2026-03-29T01:00:00Z")]
    );
    assert_eq!(
        runs_on_day("30 2 * * *", 2027, 3, 28),
        [utc("2027-03-28T01:00:00Z")]
    );
}

#[test]
fn a_time_in_the_autumn_fold_runs_once_at_its_first_instant() {
    assert_eq!(
        runs_on_day("30 2 * * *", 2026, 10, 25),
        [utc("2026-10-25T00:30:00Z")]
    );
    assert_eq!(
        runs_on_day("30 2 * * *", 2027, 10, 31),
        [utc("2027-10-31T00:30:00Z")]
    );
}

#[test]
fn hourly_runs_on_daylight_saving_days() {
    for (year, month, day) in SPRING {
        // 02:00 is 03:00, which runs anyway.
        assert_eq!(runs_on_day("0 * * * *", year, month, day).len(), 23);
        // 02:30 runs at 03:00.
        let half_past = runs_on_day("30 * * * *", year, month, day);
        assert_eq!(half_past.len(), 24);
        assert!(half_past.contains(&utc(&format!("{year}-03-{day:02}T01:00:00Z"))));
        // 02:00, 02:30 and 03:00 all run at 03:00: once.
        assert_eq!(runs_on_day("0,30 * * * *", year, month, day).len(), 46);
        assert_eq!(runs_on_day("* * * * *", year, month, day).len(), 23 * 60);
    }
    for (year, month, day) in AUTUMN {
        assert_eq!(runs_on_day("0 * * * *", year, month, day).len(), 24);
        assert_eq!(runs_on_day("30 * * * *", year, month, day).len(), 24);
        assert_eq!(runs_on_day("0,30 * * * *", year, month, day).len(), 48);
        assert_eq!(runs_on_day("* * * * *", year, month, day).len(), 24 * 60);
    }
}

#[test]
fn the_spring_hour_runs_in_order_and_once() {
    assert_eq!(
        runs(
            "0,30 * * * *",
            "2026-03-28T23:59:00Z",
            "2026-03-29T02:00:00Z"
        ),
        [
            "2026-03-29T00:00Z",
            "2026-03-29T00:30Z",
            "2026-03-29T01:00Z",
            "2026-03-29T01:30Z",
            "2026-03-29T02:00Z",
        ]
    );
}

#[test]
fn the_autumn_hour_runs_once() {
    assert_eq!(
        runs(
            "0,30 * * * *",
            "2026-10-24T23:59:00Z",
            "2026-10-25T03:00:00Z"
        ),
        [
            "2026-10-25T00:00Z", // 02:00 CEST
            "2026-10-25T00:30Z", // 02:30 CEST
            "2026-10-25T02:00Z", // 03:00 CET; 02:00 and 02:30 CET do not run again
            "2026-10-25T02:30Z",
            "2026-10-25T03:00Z",
        ]
    );
}

#[test]
fn other_zones_keep_their_own_wall_clock() {
    let schedule = crontab("30 2 * * *");
    let new_york: Tz = "America/New_York".parse().expect("zone");
    // New York springs forward on 8 March 2026 at 02:00 EST.
    assert_eq!(
        schedule.next_after(new_york, utc("2026-03-08T00:00:00Z")),
        Some(utc("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        schedule.next_after(chrono_tz::UTC, utc("2026-03-08T00:00:00Z")),
        Some(utc("2026-03-08T02:30:00Z"))
    );
}

// Counting

#[test]
fn rounds_in_a_year() {
    for year in [2026, 2027, 2028] {
        assert_eq!(
            crontab("0 7 1 * *")
                .occurrences_in_year(Stockholm, year)
                .len(),
            12
        );
        assert_eq!(
            crontab("0 8 * * MON-FRI")
                .occurrences_in_year(Stockholm, year)
                .len(),
            (1..=366)
                .filter_map(|day| chrono::NaiveDate::from_yo_opt(year, day))
                .filter(|date| date.weekday().num_days_from_monday() < 5)
                .count()
        );
    }
    assert_eq!(
        crontab("0 7 1 1,7 *").occurrences_in_year(Stockholm, 2026),
        [utc("2026-01-01T06:00:00Z"), utc("2026-07-01T05:00:00Z")]
    );
    assert_eq!(
        crontab("0 * * * *")
            .occurrences_in_year(Stockholm, 2026)
            .len(),
        365 * 24 - 1
    );
}

#[test]
fn year_boundaries_are_local() {
    // 00:30 on 1 January in Stockholm is 23:30 UTC on 31 December.
    assert_eq!(
        crontab("30 0 1 1 *").occurrences_in_year(Stockholm, 2027),
        [utc("2026-12-31T23:30:00Z")]
    );
    assert_eq!(
        crontab("30 23 31 12 *").occurrences_in_year(Stockholm, 2026),
        [utc("2026-12-31T22:30:00Z")]
    );
}

#[test]
fn next_after_is_strictly_after() {
    let schedule = crontab("0 7 1 * *");
    assert_eq!(
        schedule.next_after(Stockholm, utc("2026-01-01T06:00:00Z")),
        Some(utc("2026-02-01T06:00:00Z"))
    );
    assert_eq!(
        schedule.next_after(Stockholm, utc("2026-01-01T05:59:59.999Z")),
        Some(utc("2026-01-01T06:00:00Z"))
    );
}

#[test]
fn the_calendar_runs_from_1970_to_2100() {
    let schedule = crontab("0 0 1 1 *");
    assert_eq!(
        schedule.next_after(Stockholm, DateTime::<Utc>::MIN_UTC),
        Some(utc("1969-12-31T23:00:00Z"))
    );
    assert_eq!(
        schedule.next_after(Stockholm, utc("2099-06-01T00:00:00Z")),
        Some(utc("2099-12-31T23:00:00Z"))
    );
    assert_eq!(
        schedule.next_after(Stockholm, utc("2100-06-01T00:00:00Z")),
        None
    );
    assert_eq!(
        schedule.next_after(Stockholm, DateTime::<Utc>::MAX_UTC),
        None
    );
    assert!(schedule.occurrences_in_year(Stockholm, 2101).is_empty());
    assert!(schedule.occurrences_in_year(Stockholm, i32::MIN).is_empty());
    assert!(schedule.occurrences_in_year(Stockholm, i32::MAX).is_empty());
}

#[test]
fn an_empty_or_reversed_range_has_no_runs() {
    let schedule = crontab("* * * * *");
    let at = utc("2026-05-01T12:00:00Z");
    assert_eq!(schedule.occurrences(Stockholm, at, at).count(), 0);
    assert_eq!(
        schedule
            .occurrences(Stockholm, at, at - TimeDelta::days(1))
            .count(),
        0
    );
    assert_eq!(
        schedule
            .occurrences(Stockholm, at, at + TimeDelta::minutes(1))
            .collect::<Vec<_>>(),
        [at + TimeDelta::minutes(1)]
    );
}

const SPLIT_EXPRESSIONS: [&str; 6] = [
    "30 2 * * *",
    "0,30 * * * *",
    "0 8 1 * MON",
    "*/7 1-3 * * *",
    "0 7 1 1,7 *",
    "15 2 * 3,10 SUN",
];

proptest! {
    /// Runs over a range are the runs over its parts, one after the other: no run is lost or
    /// given twice at a split, wherever it falls (also on a run, or on a daylight-saving night).
    #[test]
    fn occurrences_over_a_range_are_the_concatenation_over_its_parts(
        expression in prop::sample::select(SPLIT_EXPRESSIONS.as_slice()),
        start in 0i64..(2 * 365 * 24 * 60),
        lengths in prop::collection::vec(0i64..(20 * 24 * 60), 1..5),
        on_the_minute in any::<bool>(),
        seconds in 0i64..60,
    ) {
        let schedule = crontab(expression);
        let origin = utc("2026-01-01T00:00:00Z");
        let shift = if on_the_minute { 0 } else { seconds };
        let mut points = vec![origin + TimeDelta::minutes(start)];
        for length in lengths {
            let last = points[points.len() - 1];
            points.push(last + TimeDelta::minutes(length) + TimeDelta::seconds(shift));
        }
        let first = points[0];
        let last = points[points.len() - 1];
        let whole: Vec<_> = schedule.occurrences(Stockholm, first, last).collect();
        let parts: Vec<_> = points
            .windows(2)
            .flat_map(|pair| schedule.occurrences(Stockholm, pair[0], pair[1]))
            .collect();
        prop_assert_eq!(&whole, &parts);
        prop_assert!(whole.windows(2).all(|pair| pair[0] < pair[1]));
    }

    /// The next run after any instant is the first later run of the year's list.
    #[test]
    fn next_after_agrees_with_the_year(
        expression in prop::sample::select(SPLIT_EXPRESSIONS.as_slice()),
        minute in 0i64..(365 * 24 * 60),
    ) {
        let schedule = crontab(expression);
        let at = utc("2026-01-01T00:00:00Z") + TimeDelta::minutes(minute);
        let year: Vec<_> = schedule
            .occurrences_in_year(Stockholm, 2026)
            .into_iter()
            .chain(schedule.occurrences_in_year(Stockholm, 2027))
            .collect();
        let expected = year.into_iter().find(|run| *run > at);
        prop_assert_eq!(schedule.next_after(Stockholm, at), expected);
    }
}

// The Swedish description

fn check_description(expression: &str, expected: &str) {
    assert_eq!(
        crontab(expression).describe_sv(),
        expected,
        "`{expression}`"
    );
}

#[test]
fn descriptions() {
    check_description("0 7 1 * *", "kl. 07:00 den 1:e varje månad");
    check_description("0 8 * * 1-5", "kl. 08:00 måndag–fredag");
    check_description("0 8 * * MON-FRI", "kl. 08:00 måndag–fredag");
    check_description("0 7 1 1,7 *", "kl. 07:00 den 1 januari och den 1 juli");
    check_description("@daily", "kl. 00:00 varje dag");
    check_description("@weekly", "kl. 00:00 varje söndag");
    check_description("@yearly", "kl. 00:00 den 1 januari");
    check_description(
        "0 8 1 * MON",
        "kl. 08:00 den 1:e varje månad och varje måndag",
    );
    check_description("0 * * * *", "varje hel timme");
    check_description("30 * * * *", "varje timme, 30 minuter över");
    check_description("*/15 * * * *", "var 15:e minut");
    check_description("*/2 * * * *", "varannan minut");
    check_description("* * * * *", "varje minut");
    check_description("30 6,18 * * *", "kl. 06:30 och 18:30 varje dag");
    check_description(
        "0 8-16 * * 1-5",
        "varje timme kl. 08:00–16:00 måndag–fredag",
    );
    check_description("0 9 * * SAT,SUN", "kl. 09:00 varje lördag och söndag");
    check_description("0 9 * * 5-7", "kl. 09:00 fredag–söndag");
    check_description("0 9 * 7 *", "kl. 09:00 varje dag i juli");
    check_description("0 9 1,15 6 *", "kl. 09:00 den 1 och 15 juni");
    check_description("0 7 22 * *", "kl. 07:00 den 22:e varje månad");
    check_description(
        "0 7 1,2,3,11 * *",
        "kl. 07:00 den 1:e, 2:e, 3:e och 11:e varje månad",
    );
    check_description(
        "0 7 1 */3 *",
        "kl. 07:00 den 1 januari, den 1 april, den 1 juli och den 1 oktober",
    );
    check_description("0 8 */3 * *", "enligt schemat ”0 8 */3 * *”");
    check_description("0 8 1 7 MON", "enligt schemat ”0 8 1 7 MON”");
}
