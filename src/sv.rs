//! Swedish words for dates, shared by everything people read: month and weekday names and the
//! long date form of emails ("fredag 15 januari 2027").

use chrono::{Datelike, NaiveDate};

pub const MONTHS: [&str; 12] = [
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
pub const WEEKDAYS: [&str; 7] = [
    "söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag",
];

/// The name of month `month` (1–12); `?` outside.
pub fn month(month: u32) -> &'static str {
    (month as usize)
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("?")
}

/// "fredag 15 januari 2027".
pub fn date(d: NaiveDate) -> String {
    format!(
        "{} {} {} {}",
        WEEKDAYS[d.weekday().num_days_from_sunday() as usize],
        d.day(),
        month(d.month()),
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
