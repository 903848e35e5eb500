//! Swedish words shared by everything people read: month and weekday names, the long date form
//! of emails ("fredag 15 januari 2027"), and the systems' names.

use chrono::{Datelike, NaiveDate};

pub(crate) const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];

/// Sunday first, so that a day's index is its crontab number (Sunday = 0).
pub(crate) const WEEKDAYS: [&str; 7] = [
    "söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag",
];

/// The name of month `month` (1–12); `?` outside.
pub(crate) fn month(month: u32) -> &'static str {
    (month as usize)
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("?")
}

/// "fredag 15 januari 2027".
pub(crate) fn date(d: NaiveDate) -> String {
    format!(
        "{} {} {} {}",
        WEEKDAYS[d.weekday().num_days_from_sunday() as usize],
        d.day(),
        month(d.month()),
        d.year()
    )
}

/// "1 januari 2027" (no weekday).
pub(crate) fn day(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month(d.month()), d.year())
}

/// A period `[from, to)` in `tz` as a letter says it: "från och med 1 januari 2027 till och med
/// 31 maj 2027" when it runs from midnight to midnight, else with the times ("från 1 januari
/// 2027 kl. 08:00 till 3 januari 2027 kl. 17:00").
pub(crate) fn period(
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
) -> String {
    use chrono::Timelike;
    let (f, t) = (from.with_timezone(&tz), to.with_timezone(&tz));
    let midnight =
        |d: &chrono::DateTime<chrono_tz::Tz>| d.hour() == 0 && d.minute() == 0 && d.second() == 0;
    if midnight(&f) && midnight(&t) {
        let last = t.date_naive().pred_opt().unwrap_or(t.date_naive());
        format!(
            "från och med {} till och med {}",
            day(f.date_naive()),
            day(last.max(f.date_naive()))
        )
    } else {
        format!(
            "från {} kl. {} till {} kl. {}",
            day(f.date_naive()),
            f.format("%H:%M"),
            day(t.date_naive()),
            t.format("%H:%M")
        )
    }
}

/// A count with its noun in agreement: `count(1, "åtkomst", "åtkomster")` is "1 åtkomst",
/// `count(3, …)` "3 åtkomster", `count(0, …)` "0 åtkomster".
pub(crate) fn count<N: Number>(n: N, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n.is_one() { singular } else { plural })
}

/// A Swedish noun's gender: an *en* word (åtkomst, kund) or an *ett* word (ärende, konto).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gender {
    En,
    Ett,
}

impl Gender {
    /// The article for one: "en" or "ett".
    #[cfg(test)]
    pub(crate) fn article(self) -> &'static str {
        match self {
            Gender::En => "en",
            Gender::Ett => "ett",
        }
    }
}

/// An adjective or participle agreeing with `n` of a noun of `gender`:
/// `agree(1, Gender::Ett, "öppen", "öppet", "öppna")` is "öppet", `agree(2, …)` "öppna".
pub(crate) fn agree<'a, N: Number>(
    n: N,
    gender: Gender,
    en: &'a str,
    ett: &'a str,
    plural: &'a str,
) -> &'a str {
    match (n.is_one(), gender) {
        (true, Gender::En) => en,
        (true, Gender::Ett) => ett,
        (false, _) => plural,
    }
}

/// A count in words where one reads better as the article: "ett ärende", "en åtkomst", but
/// "3 ärenden", "0 åtkomster".
#[cfg(test)]
pub(crate) fn count_words<N: Number>(n: N, gender: Gender, singular: &str, plural: &str) -> String {
    if n.is_one() {
        format!("{} {singular}", gender.article())
    } else {
        count(n, singular, plural)
    }
}

/// A count of things: any integer.
pub(crate) trait Number: Copy + std::fmt::Display {
    fn is_one(self) -> bool;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn is_one(self) -> bool {
                self == 1
            }
        }
    )*};
}
number!(usize, u64, u32, i64, i32);

/// "NPÖ", "NPÖ och Treserva", "A, B och C".
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} och {last}", init.join(", ")),
    }
}

/// A system's name as people write it: `NPÖ`, `Treserva`; others as given.
pub(crate) fn system_title(system: &str) -> String {
    match system {
        "npo" => "NPÖ".into(),
        "treserva" => "Treserva".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_in_number_and_gender() {
        assert_eq!(count(1, "åtkomst", "åtkomster"), "1 åtkomst");
        assert_eq!(count(0usize, "åtkomst", "åtkomster"), "0 åtkomster");
        assert_eq!(count(21u64, "dag", "dagar"), "21 dagar");
        assert_eq!(
            count_words(1, Gender::Ett, "ärende", "ärenden"),
            "ett ärende"
        );
        assert_eq!(count_words(1, Gender::En, "kund", "kunder"), "en kund");
        assert_eq!(
            count_words(4, Gender::Ett, "ärende", "ärenden"),
            "4 ärenden"
        );
        assert_eq!(agree(1, Gender::Ett, "öppen", "öppet", "öppna"), "öppet");
        assert_eq!(agree(1, Gender::En, "öppen", "öppet", "öppna"), "öppen");
        assert_eq!(agree(2, Gender::En, "öppen", "öppet", "öppna"), "öppna");
    }

    #[test]
    fn periods_read_as_a_letter_says_them() {
        let tz = chrono_tz::Europe::Stockholm;
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(
            period(
                at("2027-01-01T00:00:00+01:00"),
                at("2027-06-01T00:00:00+02:00"),
                tz
            ),
            "från och med 1 januari 2027 till och med 31 maj 2027"
        );
        assert_eq!(
            period(
                at("2027-01-01T08:00:00+01:00"),
                at("2027-01-03T17:30:00+01:00"),
                tz
            ),
            "från 1 januari 2027 kl. 08:00 till 3 januari 2027 kl. 17:30"
        );
        assert_eq!(and_list(&["NPÖ".into()]), "NPÖ");
        assert_eq!(
            and_list(&["NPÖ".into(), "Treserva".into(), "Procapita".into()]),
            "NPÖ, Treserva och Procapita"
        );
    }

    #[test]
    fn long_dates() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        assert_eq!(date(d), "fredag 15 januari 2027");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()),
            "söndag 29 mars 2026"
        );
        assert_eq!((month(0), month(12), month(13)), ("?", "december", "?"));
    }
}
