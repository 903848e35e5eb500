//! The five fields of a crontab line: their names, ranges and value names.

/// One of the five fields of a standard crontab line, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Sunday first, so that a name's index is its number (Sunday = 0).
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Swedish abbreviations that differ from the English ones, for did-you-mean: the people who
/// write routines are Swedish and will sometimes write `OKT` or `MÅN`.
const SWEDISH_MONTHS: [(&str, &str); 2] = [("MAJ", "MAY"), ("OKT", "OCT")];
const SWEDISH_WEEKDAYS: [(&str, &str); 10] = [
    ("MÅN", "MON"),
    ("MAN", "MON"),
    ("TIS", "TUE"),
    ("ONS", "WED"),
    ("TOR", "THU"),
    ("FRE", "FRI"),
    ("LÖR", "SAT"),
    ("LOR", "SAT"),
    ("SÖN", "SUN"),
    ("SON", "SUN"),
];

impl Field {
    /// The name used in error messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The smallest value the field accepts.
    pub(super) fn min(self) -> u32 {
        match self {
            Field::Minute | Field::Hour | Field::DayOfWeek => 0,
            Field::DayOfMonth | Field::Month => 1,
        }
    }

    /// The largest value the field accepts; day-of-week accepts 7 for Sunday, as crontab does.
    pub(super) fn max(self) -> u32 {
        match self {
            Field::Minute => 59,
            Field::Hour => 23,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 7,
        }
    }

    /// The allowed range as people read it, e.g. `0–59`.
    pub(super) fn range_text(self) -> String {
        format!("{}–{}", self.min(), self.max())
    }

    /// The value names the field accepts (`JAN`…, `SUN`…), empty if it takes numbers only.
    pub(super) fn value_names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTH_NAMES,
            Field::DayOfWeek => &WEEKDAY_NAMES,
            Field::Minute | Field::Hour | Field::DayOfMonth => &[],
        }
    }

    /// The value of a name, case-insensitively: `jan` is 1, `SUN` is 0.
    pub(super) fn value_of_name(self, name: &str) -> Option<u32> {
        let base = self.min();
        self.value_names()
            .iter()
            .zip(base..)
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The name that `unknown` was probably meant to be: a Swedish abbreviation, a full name
    /// (`January`, `måndag`), or a name one edit away (`JNA`).
    pub(super) fn suggest_name(self, unknown: &str) -> Option<&'static str> {
        let names = self.value_names();
        let upper = unknown.to_uppercase();
        let prefix: String = upper.chars().take(3).collect();
        let swedish: &[(&str, &'static str)] = match self {
            Field::Month => &SWEDISH_MONTHS,
            Field::DayOfWeek => &SWEDISH_WEEKDAYS,
            Field::Minute | Field::Hour | Field::DayOfMonth => &[],
        };
        if let Some((_, english)) = swedish.iter().find(|(sv, _)| *sv == prefix) {
            return Some(english);
        }
        if let Some(name) = names.iter().find(|name| **name == prefix) {
            return Some(name);
        }
        crate::suggest::within(&upper, names.iter().copied(), 1)
    }
}
