//! Iterating a schedule: the cron crate lists the matching wall-clock times, this turns them into
//! instants in the routine's time zone, each once and in order.

use std::iter::Peekable;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use cron::{OwnedScheduleIterator, Schedule};

use super::wall_clock;

/// The matching wall-clock times of a schedule, in order, each once: the merge of the cron
/// crate's schedules, iterated in UTC used as a zone without daylight saving, so that it sees
/// every wall-clock time exactly once.
pub(super) struct WallClockTimes {
    streams: Vec<Peekable<OwnedScheduleIterator<Utc>>>,
}

impl WallClockTimes {
    /// The times strictly after `after` (a wall-clock time).
    pub(super) fn after(schedules: &[Schedule], after: NaiveDateTime) -> WallClockTimes {
        // The crate's calendar starts with 1970 and takes a negative year for one past 2100.
        let earliest = NaiveDate::from_ymd_opt(1969, 12, 31)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .unwrap_or(NaiveDateTime::MIN);
        let start = DateTime::<Utc>::from_naive_utc_and_offset(after.max(earliest), Utc);
        WallClockTimes {
            streams: schedules
                .iter()
                .map(|schedule| schedule.after_owned(start).peekable())
                .collect(),
        }
    }
}

impl Iterator for WallClockTimes {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        let earliest = self
            .streams
            .iter_mut()
            .filter_map(|stream| stream.peek().copied())
            .min()?;
        for stream in &mut self.streams {
            stream.next_if_eq(&earliest);
        }
        Some(earliest.naive_utc())
    }
}

/// The instants of a schedule in a time zone within `(after, until]`, in order, each once. A
/// wall-clock time in a spring gap runs at the end of the gap, which may also be the instant of
/// the next wall-clock time: it is given once.
pub struct Occurrences {
    times: WallClockTimes,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
}

impl Occurrences {
    pub(super) fn new(
        schedules: &[Schedule],
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Occurrences {
        // Start early on the wall clock: no zone is more than a day from UTC, and no gap or fold
        // is longer than a day, so every wall-clock time that runs after `after` comes later
        // than this; the earlier ones are skipped in `next`.
        let margin = TimeDelta::hours(48);
        let start = after
            .naive_utc()
            .checked_sub_signed(margin)
            .unwrap_or(NaiveDateTime::MIN);
        Occurrences {
            times: WallClockTimes::after(schedules, start),
            tz,
            after,
            until,
            last: None,
        }
    }
}

impl Iterator for Occurrences {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        if self.until <= self.after {
            return None;
        }
        for local in self.times.by_ref() {
            let Some(instant) = wall_clock::instant(self.tz, local) else {
                continue;
            };
            if instant <= self.after || self.last.is_some_and(|last| instant <= last) {
                continue;
            }
            if instant > self.until {
                self.after = self.until;
                return None;
            }
            self.last = Some(instant);
            return Some(instant);
        }
        None
    }
}
