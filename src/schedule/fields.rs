//! The checked content of a crontab line: the set of values each field allows.

/// Which values each field allows, one bit per value (bit `n` set: value `n` allowed). Day of
/// week counts Sunday as 0 and has `7` already folded into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fields {
    pub(super) minutes: u64,
    pub(super) hours: u64,
    /// Bits 1–31.
    pub(super) days_of_month: u64,
    /// Bits 1–12.
    pub(super) months: u64,
    /// Bits 0–6, Sunday = 0.
    pub(super) days_of_week: u64,
    /// Whether day-of-month was written starting with `*` (`*`, `*/2`). Crontab looks at how the
    /// field was written, not at the set: a day matches if either day field matches only when
    /// neither starts with `*`.
    pub(super) day_of_month_star: bool,
    /// Whether day-of-week was written starting with `*`.
    pub(super) day_of_week_star: bool,
}

/// The values in a bit set, in increasing order.
pub(super) fn values(bits: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |value| bits >> value & 1 == 1)
}

/// The bit set of every value from `min` to `max`.
pub(super) fn full(min: u32, max: u32) -> u64 {
    (min..=max).fold(0, |bits, value| bits | 1 << value)
}

impl Fields {
    /// Whether a day matches when either day field matches (both restricted), rather than when
    /// both do.
    pub(super) fn days_match_either(&self) -> bool {
        !self.day_of_month_star && !self.day_of_week_star
    }

    /// Expressions in the cron crate's syntax (seconds first, Sunday = 1) whose occurrences,
    /// merged, are the wall-clock times of this schedule. The crate requires both day fields
    /// to match, so when crontab wants either, this is two schedules: one per day field.
    pub(super) fn cron_expressions(&self) -> Vec<String> {
        let minutes = list(self.minutes, 0, 59, 0);
        let hours = list(self.hours, 0, 23, 0);
        let days_of_month = list(self.days_of_month, 1, 31, 0);
        let months = list(self.months, 1, 12, 0);
        let days_of_week = list(self.days_of_week, 0, 6, 1);
        let line = |dom: &str, dow: &str| format!("0 {minutes} {hours} {dom} {months} {dow}");
        if self.days_match_either() {
            vec![line(&days_of_month, "*"), line("*", &days_of_week)]
        } else {
            vec![line(&days_of_month, &days_of_week)]
        }
    }
}

/// A field for the cron crate: `*` when every value from `min` to `max` is allowed, otherwise
/// the values, each plus `shift`, separated by commas.
fn list(bits: u64, min: u32, max: u32, shift: u32) -> String {
    if bits == full(min, max) {
        return "*".to_owned();
    }
    values(bits)
        .map(|value| (value + shift).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
impl Fields {
    /// Whether a wall-clock time matches, by crontab's rules; the oracle the cron-crate-driven
    /// iteration is checked against.
    pub(super) fn matches(&self, time: chrono::NaiveDateTime) -> bool {
        use chrono::{Datelike, Timelike};
        let has = |bits: u64, value: u32| bits >> value & 1 == 1;
        let day_of_month = has(self.days_of_month, time.day());
        let day_of_week = has(self.days_of_week, time.weekday().num_days_from_sunday());
        let day = if self.days_match_either() {
            day_of_month || day_of_week
        } else {
            day_of_month && day_of_week
        };
        time.second() == 0
            && has(self.minutes, time.minute())
            && has(self.hours, time.hour())
            && has(self.months, time.month())
            && day
    }
}
