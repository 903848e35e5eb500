//! Time as the core sees it. Nothing in the core reads the wall clock: every function that acts
//! on time takes a [`Clock`], so tests, `--now` and `simulate` can move time at will.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Mutex;

/// A source of the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock; used only at the edges (the CLI without `--now`, `serve`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told; `--now` and simulations use it.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock to `at` (forwards or backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

use chrono::{LocalResult, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// The first instant of local day `day` in `tz` (midnight, or the first instant after a gap).
pub(crate) fn day_start(day: chrono::NaiveDate, tz: Tz) -> DateTime<Utc> {
    resolve_local(day.and_time(chrono::NaiveTime::MIN), tz)
}

/// The instant a local wall-clock time names in `tz`. A time in the spring gap is moved to the
/// first instant after the gap; a time in the autumn fold means its first occurrence.
pub fn resolve_local(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Walk forward a minute at a time from the whole minute; the first local time that
            // exists is the end of the gap, and its instant is the first instant after it.
            let mut probe = local
                .with_second(0)
                .unwrap_or(local)
                .with_nanosecond(0)
                .unwrap_or(local);
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

/// Reads a `--now`-style time: RFC 3339, or a local date-time (`2026-03-01T08:00`, seconds
/// optional, a space allowed for the `T`), or a date alone (midnight), read in `tz`.
pub fn parse_time(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(resolve_local(local, tz));
        }
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(resolve_local(date.and_time(chrono::NaiveTime::MIN), tz));
    }
    Err(format!(
        "`{t}` is not a time: write RFC 3339 (`2026-03-01T08:00:00+01:00`), a local time (`2026-03-01T08:00`) or a date (`2026-03-01`)"
    ))
}

/// The end of a period as written: as [`parse_time`], but a date alone means the end of that day
/// (the start of the next), so that `--from 2027-03-01 --to 2027-03-31` is all of March.
pub(crate) fn parse_end(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    match chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(date) => {
            let next = date
                .succ_opt()
                .ok_or_else(|| format!("`{t}` is out of range"))?;
            Ok(resolve_local(next.and_time(chrono::NaiveTime::MIN), tz))
        }
        Err(_) => parse_time(t, tz),
    }
}

/// The local date of `t` in `tz`.
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;

    #[test]
    fn reads_rfc3339_and_local_times() {
        let a = parse_time("2026-03-01T08:00:00+01:00", Stockholm).unwrap();
        let b = parse_time("2026-03-01T08:00", Stockholm).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_rfc3339(), "2026-03-01T07:00:00+00:00");
        assert_eq!(
            parse_time("2026-07-01", Stockholm).unwrap().to_rfc3339(),
            "2026-06-30T22:00:00+00:00"
        );
        assert!(parse_time("yesterday", Stockholm).is_err());
        assert!(parse_time("2026-13-01", Stockholm).is_err());
    }

    #[test]
    fn local_times_in_the_gap_and_the_fold() {
        // 02:30 on 2026-03-29 does not exist: the first instant after the gap is 03:00 CEST.
        let gap = parse_time("2026-03-29T02:30", Stockholm).unwrap();
        assert_eq!(gap.to_rfc3339(), "2026-03-29T01:00:00+00:00");
        // 02:30 on 2026-10-25 happens twice: the first is 02:30 CEST = 00:30 UTC.
        let fold = parse_time("2026-10-25T02:30", Stockholm).unwrap();
        assert_eq!(fold.to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }
}
