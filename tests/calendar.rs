//! Swedish holidays and working-day arithmetic, checked against dates typed in from published
//! calendars (never from this crate's own output), plus properties over wide date ranges.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use loggkoll::calendar::{
    HolidayKind, add_working_days, easter_sunday, holidays, is_holiday, is_working_day,
    sub_working_days, working_days_between,
};
use proptest::prelude::*;

fn date(text: &str) -> NaiveDate {
    text.parse()
        .unwrap_or_else(|e| panic!("bad date `{text}` in test: {e}"))
}

/// Years with their Easter Sunday, midsommardagen and alla helgons dag, as published.
const MOVING_DATES: [(i32, &str, &str, &str); 21] = [
    (2020, "2020-04-12", "2020-06-20", "2020-10-31"),
    (2021, "2021-04-04", "2021-06-26", "2021-11-06"),
    (2022, "2022-04-17", "2022-06-25", "2022-11-05"),
    (2023, "2023-04-09", "2023-06-24", "2023-11-04"),
    (2024, "2024-03-31", "2024-06-22", "2024-11-02"),
    (2025, "2025-04-20", "2025-06-21", "2025-11-01"),
    (2026, "2026-04-05", "2026-06-20", "2026-10-31"),
    (2027, "2027-03-28", "2027-06-26", "2027-11-06"),
    (2028, "2028-04-16", "2028-06-24", "2028-11-04"),
    (2029, "2029-04-01", "2029-06-23", "2029-11-03"),
    (2030, "2030-04-21", "2030-06-22", "2030-11-02"),
    (2031, "2031-04-13", "2031-06-21", "2031-11-01"),
    (2032, "2032-03-28", "2032-06-26", "2032-11-06"),
    (2033, "2033-04-17", "2033-06-25", "2033-11-05"),
    (2034, "2034-04-09", "2034-06-24", "2034-11-04"),
    (2035, "2035-03-25", "2035-06-23", "2035-11-03"),
    (2036, "2036-04-13", "2036-06-21", "2036-11-01"),
    (2037, "2037-04-05", "2037-06-20", "2037-10-31"),
    (2038, "2038-04-25", "2038-06-26", "2038-11-06"),
    (2039, "2039-04-10", "2039-06-25", "2039-11-05"),
    (2040, "2040-04-01", "2040-06-23", "2040-11-03"),
];

/// The date of the holiday called `name` in `year`; fails the test if there is not exactly one.
fn holiday_named(year: i32, name: &str) -> NaiveDate {
    let found: Vec<_> = holidays(year)
        .into_iter()
        .filter(|holiday| holiday.name == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{year}: `{name}` found {} times",
        found.len()
    );
    found[0].date
}

#[test]
fn easter_sunday_2020_to_2040() {
    for (year, easter, _, _) in MOVING_DATES {
        assert_eq!(easter_sunday(year), date(easter), "{year}");
        assert_eq!(holiday_named(year, "påskdagen"), date(easter), "{year}");
    }
}

#[test]
fn midsommardagen_and_alla_helgons_dag_2020_to_2040() {
    for (year, _, midsommar, alla_helgon) in MOVING_DATES {
        assert_eq!(
            holiday_named(year, "midsommardagen"),
            date(midsommar),
            "{year}"
        );
        assert_eq!(
            holiday_named(year, "alla helgons dag"),
            date(alla_helgon),
            "{year}"
        );
    }
}

fn check_holidays(year: i32, expected: &[(&str, &str, HolidayKind)]) {
    let actual: Vec<_> = holidays(year)
        .into_iter()
        .map(|holiday| (holiday.date, holiday.name, holiday.kind))
        .collect();
    let expected: Vec<_> = expected
        .iter()
        .map(|&(day, name, kind)| (date(day), name, kind))
        .collect();
    assert_eq!(actual, expected, "{year}");
}

use HolidayKind::{DeFacto, Public};

#[test]
fn holidays_2026() {
    check_holidays(
        2026,
        &[
            ("2026-01-01", "nyårsdagen", Public),
            ("2026-01-06", "trettondedag jul", Public),
            ("2026-04-03", "långfredagen", Public),
            ("2026-04-05", "påskdagen", Public),
            ("2026-04-06", "annandag påsk", Public),
            ("2026-05-01", "första maj", Public),
            ("2026-05-14", "Kristi himmelsfärdsdag", Public),
            ("2026-05-24", "pingstdagen", Public),
            ("2026-06-06", "Sveriges nationaldag", Public),
            ("2026-06-19", "midsommarafton", DeFacto),
            ("2026-06-20", "midsommardagen", Public),
            ("2026-10-31", "alla helgons dag", Public),
            ("2026-12-24", "julafton", DeFacto),
            ("2026-12-25", "juldagen", Public),
            ("2026-12-26", "annandag jul", Public),
            ("2026-12-31", "nyårsafton", DeFacto),
        ],
    );
}

#[test]
fn holidays_2027() {
    check_holidays(
        2027,
        &[
            ("2027-01-01", "nyårsdagen", Public),
            ("2027-01-06", "trettondedag jul", Public),
            ("2027-03-26", "långfredagen", Public),
            ("2027-03-28", "påskdagen", Public),
            ("2027-03-29", "annandag påsk", Public),
            ("2027-05-01", "första maj", Public),
            ("2027-05-06", "Kristi himmelsfärdsdag", Public),
            ("2027-05-16", "pingstdagen", Public),
            ("2027-06-06", "Sveriges nationaldag", Public),
            ("2027-06-25", "midsommarafton", DeFacto),
            ("2027-06-26", "midsommardagen", Public),
            ("2027-11-06", "alla helgons dag", Public),
            ("2027-12-24", "julafton", DeFacto),
            ("2027-12-25", "juldagen", Public),
            ("2027-12-26", "annandag jul", Public),
            ("2027-12-31", "nyårsafton", DeFacto),
        ],
    );
}

/// Easter Sunday 2008 was 23 March, so Kristi himmelsfärdsdag fell on första maj: both listed.
#[test]
fn two_holidays_on_one_date_are_both_listed() {
    let may_first: Vec<_> = holidays(2008)
        .into_iter()
        .filter(|holiday| holiday.date == date("2008-05-01"))
        .map(|holiday| holiday.name)
        .collect();
    assert_eq!(may_first, ["första maj", "Kristi himmelsfärdsdag"]);
    assert_eq!(holidays(2008).len(), 16);
}

#[test]
fn holidays_are_sixteen_sorted_and_well_formed_every_year() {
    for year in 1583..=3000 {
        let all = holidays(year);
        assert_eq!(all.len(), 16, "{year}");
        assert!(all.windows(2).all(|w| w[0].date <= w[1].date), "{year}");
        assert!(all.iter().all(|h| h.date.year() == year), "{year}");
        let eves: Vec<_> = all
            .iter()
            .filter(|h| h.kind == DeFacto)
            .map(|h| h.name)
            .collect();
        assert_eq!(eves, ["midsommarafton", "julafton", "nyårsafton"], "{year}");

        let weekday = |name| holiday_named(year, name).weekday();
        assert_eq!(weekday("långfredagen"), Weekday::Fri, "{year}");
        assert_eq!(weekday("påskdagen"), Weekday::Sun, "{year}");
        assert_eq!(weekday("annandag påsk"), Weekday::Mon, "{year}");
        assert_eq!(weekday("Kristi himmelsfärdsdag"), Weekday::Thu, "{year}");
        assert_eq!(weekday("pingstdagen"), Weekday::Sun, "{year}");
        assert_eq!(weekday("midsommarafton"), Weekday::Fri, "{year}");
        assert_eq!(weekday("midsommardagen"), Weekday::Sat, "{year}");
        assert_eq!(weekday("alla helgons dag"), Weekday::Sat, "{year}");
        assert_eq!(
            holiday_named(year, "midsommarafton").succ_opt(),
            Some(holiday_named(year, "midsommardagen")),
            "{year}"
        );
        let midsommar = holiday_named(year, "midsommardagen");
        assert!(
            (date(&format!("{year:04}-06-20"))..=date(&format!("{year:04}-06-26")))
                .contains(&midsommar),
            "{year}"
        );
    }
}

/// `is_holiday` tests each rule directly instead of building the list: the two must agree.
#[test]
fn is_holiday_agrees_with_holidays() {
    for year in 1900..=2300 {
        let listed: Vec<_> = holidays(year).into_iter().map(|h| h.date).collect();
        let mut day = date(&format!("{year}-01-01"));
        while day.year() == year {
            assert_eq!(is_holiday(day), listed.contains(&day), "{day}");
            let weekday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            assert_eq!(
                is_working_day(day),
                weekday && !listed.contains(&day),
                "{day}"
            );
            day = day.succ_opt().expect("inside chrono's range");
        }
    }
}

#[test]
fn easter_is_a_sunday_between_22_march_and_25_april_in_every_year_chrono_knows() {
    for year in NaiveDate::MIN.year()..=NaiveDate::MAX.year() {
        let easter = easter_sunday(year);
        assert_eq!(easter.year(), year);
        assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
        let (month, day) = (easter.month(), easter.day());
        assert!(
            (month == 3 && day >= 22) || (month == 4 && day <= 25),
            "{year}: {easter}"
        );
    }
}

#[test]
fn years_outside_chronos_range_do_not_panic() {
    assert_eq!(easter_sunday(i32::MAX), NaiveDate::MAX);
    assert_eq!(easter_sunday(i32::MIN), NaiveDate::MIN);
    assert_eq!(easter_sunday(NaiveDate::MAX.year() + 1), NaiveDate::MAX);
    assert_eq!(easter_sunday(NaiveDate::MIN.year() - 1), NaiveDate::MIN);
    assert!(holidays(i32::MAX).is_empty());
    assert!(holidays(i32::MIN).is_empty());
    assert!(holidays(NaiveDate::MAX.year() + 1).is_empty());
    assert_eq!(holidays(NaiveDate::MAX.year()).len(), 16);
    assert_eq!(holidays(NaiveDate::MIN.year()).len(), 16);
}

#[test]
fn arithmetic_at_the_ends_of_chronos_range_saturates() {
    let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
    assert_eq!(add_working_days(max, 1), max);
    assert_eq!(add_working_days(max, u32::MAX), max);
    assert_eq!(add_working_days(min, u32::MAX), max);
    assert_eq!(sub_working_days(min, 1), min);
    assert_eq!(sub_working_days(max, u32::MAX), min);
    assert_eq!(add_working_days(max, 0), max);
    assert_eq!(sub_working_days(min, 0), min);
    let next = add_working_days(min, 1);
    assert!(next > min && is_working_day(next));
    let previous = sub_working_days(max, 1);
    assert!(previous < max && is_working_day(previous));
    let near_end = max - Days::new(10);
    assert_eq!(
        working_days_between(near_end, max),
        (1..=10)
            .filter(|&back| is_working_day(max - Days::new(back - 1)))
            .count() as i64
    );
    // Only that these do not panic.
    is_working_day(min);
    is_working_day(max);
}

/// `add_working_days(from, n) == to`, `sub_working_days(to, n) == from` and
/// `working_days_between(from, to) == n`: for pairs where `from` and `to` are working days.
fn check_span(from: &str, n: u32, to: &str) {
    let (from, to) = (date(from), date(to));
    assert_eq!(add_working_days(from, n), to, "add {from} + {n}");
    assert_eq!(sub_working_days(to, n), from, "sub {to} - {n}");
    assert_eq!(
        working_days_between(from, to),
        i64::from(n),
        "({from}, {to}]"
    );
    assert_eq!(
        working_days_between(to, from),
        -i64::from(n),
        "({to}, {from}]"
    );
}

#[test]
fn working_days_around_easter() {
    // 2026: skärtorsdagen 2 April works; långfredagen 3 April to annandag påsk 6 April do not.
    check_span("2026-04-02", 1, "2026-04-07");
    check_span("2026-04-01", 2, "2026-04-07");
    check_span("2026-03-30", 6, "2026-04-09");
    // 2024: Easter straddles March and April.
    check_span("2024-03-28", 1, "2024-04-02");
    check_span("2024-03-27", 3, "2024-04-03");
}

#[test]
fn working_days_around_christmas_and_new_year() {
    // 2026/27: julafton Thu 24 to Sun 27 December, nyårsafton Thu 31 December to Sun 3 January,
    // trettondedag jul Wed 6 January.
    check_span("2026-12-23", 1, "2026-12-28");
    check_span("2026-12-23", 3, "2026-12-30");
    check_span("2026-12-23", 4, "2027-01-04");
    check_span("2026-12-23", 5, "2027-01-05");
    check_span("2026-12-23", 6, "2027-01-07");
    check_span("2026-12-30", 1, "2027-01-04");
    // 2027/28: julafton Fri 24 December, nyårsafton Fri 31 December.
    check_span("2027-12-23", 1, "2027-12-27");
    check_span("2027-12-30", 1, "2028-01-03");
}

#[test]
fn working_days_around_midsommar() {
    // 2026: midsommarafton Fri 19 June.
    check_span("2026-06-18", 1, "2026-06-22");
    // 2025: Sveriges nationaldag Fri 6 June, midsommarafton Fri 20 June.
    check_span("2025-06-05", 1, "2025-06-09");
    check_span("2025-06-02", 13, "2025-06-23");
    check_span("2025-06-02", 14, "2025-06-24");
}

#[test]
fn working_days_around_ascension() {
    // 2026: Kristi himmelsfärdsdag Thu 14 May; the day after is a working day.
    check_span("2026-05-13", 1, "2026-05-15");
    check_span("2026-05-11", 4, "2026-05-18");
    // 2027: första maj is a Saturday, Kristi himmelsfärdsdag Thu 6 May.
    check_span("2027-04-30", 4, "2027-05-07");
}

#[test]
fn from_is_not_counted_even_when_it_is_not_a_working_day() {
    // Saturday 2026-04-04 is inside Easter: the first working day after is Tue 7 April.
    assert_eq!(add_working_days(date("2026-04-04"), 1), date("2026-04-07"));
    assert_eq!(sub_working_days(date("2026-04-04"), 1), date("2026-04-02"));
    assert_eq!(
        working_days_between(date("2026-04-04"), date("2026-04-07")),
        1
    );
    assert_eq!(
        working_days_between(date("2026-04-02"), date("2026-04-04")),
        0
    );
    assert_eq!(add_working_days(date("2026-04-04"), 0), date("2026-04-04"));
    assert_eq!(sub_working_days(date("2026-04-04"), 0), date("2026-04-04"));
    assert_eq!(
        working_days_between(date("2026-04-04"), date("2026-04-04")),
        0
    );
}

#[test]
fn working_days_in_a_year() {
    // 2026 has 261 weekdays; holidays on weekdays: 1/1, 6/1, 3/4, 6/4, 1/5, 14/5,
    // 19/6, 24/12, 25/12, 31/12 (nationaldagen, alla helgons dag and annandag jul fall on
    // weekends) — 251 working days.
    assert_eq!(
        working_days_between(date("2025-12-31"), date("2026-12-31")),
        251
    );
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    // 1900-01-01 to about 2200.
    (0u64..110_000).prop_map(|offset| date("1900-01-01") + Days::new(offset))
}

proptest! {
    #[test]
    fn add_lands_on_a_working_day_n_working_days_on(from in any_date(), n in 0u32..400) {
        let to = add_working_days(from, n);
        prop_assert_eq!(working_days_between(from, to), i64::from(n));
        if n > 0 {
            prop_assert!(to > from);
            prop_assert!(is_working_day(to));
        }
    }

    #[test]
    fn sub_lands_on_a_working_day_n_working_days_back(from in any_date(), n in 0u32..400) {
        let to = sub_working_days(from, n);
        if n > 0 {
            prop_assert!(to < from);
            prop_assert!(is_working_day(to));
            // (to, from] holds the n - 1 working days in between, and `from` if it is one.
            let from_counts = i64::from(is_working_day(from));
            prop_assert_eq!(working_days_between(to, from), i64::from(n) - 1 + from_counts);
        } else {
            prop_assert_eq!(to, from);
        }
    }

    #[test]
    fn add_then_sub_returns_to_the_last_working_day_at_or_before(
        from in any_date(),
        n in 0u32..400,
    ) {
        let back = sub_working_days(add_working_days(from, n), n);
        let forth = add_working_days(sub_working_days(from, n), n);
        if n == 0 || is_working_day(from) {
            prop_assert_eq!(back, from);
            prop_assert_eq!(forth, from);
        } else {
            prop_assert_eq!(back, sub_working_days(from, 1));
            prop_assert_eq!(forth, add_working_days(from, 1));
        }
    }

    #[test]
    fn working_days_between_is_additive_and_antisymmetric(
        a in any_date(),
        b in any_date(),
        c in any_date(),
    ) {
        prop_assert_eq!(working_days_between(a, b), -working_days_between(b, a));
        prop_assert_eq!(
            working_days_between(a, b) + working_days_between(b, c),
            working_days_between(a, c)
        );
    }
}
