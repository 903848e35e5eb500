//! Deadlines and the times reminders and escalations fire, in the routine's time zone and in
//! Swedish working days where the routine says so. A step is due at the end of its due date;
//! reminders and escalations fall due at 07:00 local time on their day, and every email waits for
//! the send hours ([`SendHours`]): Swedish working days, 07:00–17:00 by default.

use crate::calendar;
use crate::clock::resolve_local;
use crate::routine::duration::{DayCount, Offset};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// The local hour at which reminders and escalations fall due: the start of the working day
/// (and of the default send hours), so that a tick at 07:00 sends the deadline day's reminder
/// that morning.
pub(crate) const NOTICE_HOUR: u32 = 7;

pub(crate) use crate::clock::local_date;

/// `date` moved by `count` forwards (or backwards).
pub(crate) fn shift(date: NaiveDate, count: DayCount, forwards: bool) -> NaiveDate {
    match (count, forwards) {
        (DayCount::Calendar(n), true) => date
            .checked_add_days(Days::new(u64::from(n)))
            .unwrap_or(NaiveDate::MAX),
        (DayCount::Calendar(n), false) => date
            .checked_sub_days(Days::new(u64::from(n)))
            .unwrap_or(NaiveDate::MIN),
        (DayCount::Working(n), true) => calendar::add_working_days(date, n),
        (DayCount::Working(n), false) => calendar::sub_working_days(date, n),
    }
}

/// The due date of a step started at `start`.
pub(crate) fn due_date(start: DateTime<Utc>, tz: Tz, deadline: DayCount) -> NaiveDate {
    shift(local_date(start, tz), deadline, true)
}

/// The instant a step due on `due` becomes overdue: the start of the next local day.
pub(crate) fn due_end(due: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = due.succ_opt().unwrap_or(due);
    resolve_local(next.and_time(NaiveTime::MIN), tz)
}

/// [`NOTICE_HOUR`] local on `day`.
pub(crate) fn notice_time(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(NOTICE_HOUR, 0, 0).unwrap_or(NaiveTime::MIN);
    resolve_local(day.and_time(time), tz)
}

/// The day a reminder at `offset` from the due date goes out.
pub(crate) fn reminder_day(due: NaiveDate, offset: Offset) -> NaiveDate {
    match offset {
        Offset::Before(n) => shift(due, n, false),
        Offset::At => due,
        Offset::After(n) => shift(due, n, true),
    }
}

/// A reminder or an escalation of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub kind: &'static str,
    /// The reminder in Swedish, or the escalation role.
    pub label: String,
    pub fire_at: DateTime<Utc>,
}

/// Every reminder and escalation of a step started at `started` and due on `due`, in firing
/// order; reminders that would go out before the step started are dropped.
pub(crate) fn plan(
    task: &crate::routine::model::Task,
    started: DateTime<Utc>,
    due: NaiveDate,
    tz: Tz,
) -> Vec<Planned> {
    use crate::routine::duration::Swedish;
    let mut out: Vec<Planned> = task
        .reminders
        .iter()
        .map(|offset| Planned {
            kind: "reminder",
            label: offset.sv(),
            fire_at: notice_time(reminder_day(due, *offset), tz),
        })
        .filter(|p| p.fire_at > started)
        .collect();
    if let Some(e) = &task.escalation {
        out.push(Planned {
            kind: "escalation",
            label: e.to.as_str().to_string(),
            fire_at: notice_time(shift(due, e.after, true), tz).max(started),
        });
    }
    // Stable: at the same instant a reminder goes before the escalation.
    out.sort_by_key(|p| p.fire_at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::SendHours;
    use chrono_tz::Europe::Stockholm;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn emails_wait_for_the_next_working_morning() {
        let hours = SendHours::office();
        let tz = Stockholm;
        // Tuesday 9 March 2027, 10:00: open.
        assert!(hours.allows(at("2027-03-09T09:00:00Z"), tz));
        assert_eq!(
            hours.next_open(at("2027-03-09T09:00:00Z"), tz),
            at("2027-03-09T09:00:00Z")
        );
        // 17:00 is closed: the next morning at 07:00.
        assert!(!hours.allows(at("2027-03-09T16:00:00Z"), tz));
        assert_eq!(
            hours.next_open(at("2027-03-09T16:00:00Z"), tz),
            at("2027-03-10T06:00:00Z")
        );
        // 05:00 the same day: 07:00 that day.
        assert_eq!(
            hours.next_open(at("2027-03-10T04:00:00Z"), tz),
            at("2027-03-10T06:00:00Z")
        );
        // Friday evening before Easter (Good Friday 26 March, Easter Monday 29 March 2027):
        // Tuesday 30 March at 07:00, summer time.
        assert_eq!(
            hours.next_open(at("2027-03-25T18:00:00Z"), tz),
            at("2027-03-30T05:00:00Z")
        );
        // Julafton and the days around it.
        assert_eq!(
            hours.next_open(at("2027-12-23T17:00:00Z"), tz),
            at("2027-12-27T06:00:00Z")
        );
        assert_eq!(SendHours::parse("always"), Ok(None));
        assert_eq!(SendHours::parse("7-17"), Ok(Some(hours)));
        assert_eq!(SendHours::parse(" 07:00 - 17:00 "), Ok(Some(hours)));
        assert!(SendHours::parse("17:00-07:00").is_err());
        assert!(SendHours::parse("morgon").is_err());
    }

    #[test]
    fn working_day_deadlines_skip_weekends_and_holidays() {
        // Monday 1 March 2027, 07:00 local: 10 working days later is Monday 15 March.
        let start = at("2027-03-01T06:00:00Z");
        assert_eq!(
            due_date(start, Stockholm, DayCount::Working(10)),
            d("2027-03-15")
        );
        // Started on Maundy Thursday 2027 (25 March): Good Friday (26) and Easter Monday (29) are
        // holidays, so the two working days after it are Tuesday 30 and Wednesday 31.
        let start = at("2027-03-25T09:00:00Z");
        assert_eq!(
            due_date(start, Stockholm, DayCount::Working(2)),
            d("2027-03-31")
        );
        assert_eq!(
            due_date(start, Stockholm, DayCount::Calendar(2)),
            d("2027-03-27")
        );
    }

    #[test]
    fn the_local_date_decides_not_the_utc_date() {
        // 23:30 UTC on 31 December is already 1 January in Stockholm.
        let start = at("2026-12-31T23:30:00Z");
        assert_eq!(local_date(start, Stockholm), d("2027-01-01"));
    }

    #[test]
    fn notice_times_follow_daylight_saving() {
        assert_eq!(
            notice_time(d("2027-01-15"), Stockholm),
            at("2027-01-15T06:00:00Z")
        );
        assert_eq!(
            notice_time(d("2027-06-15"), Stockholm),
            at("2027-06-15T05:00:00Z")
        );
        // The spring change happens at 02:00; 07:00 that day is summer time.
        assert_eq!(
            notice_time(d("2027-03-28"), Stockholm),
            at("2027-03-28T05:00:00Z")
        );
        assert_eq!(
            due_end(d("2027-10-30"), Stockholm),
            at("2027-10-30T22:00:00Z")
        );
        assert_eq!(
            due_end(d("2027-10-31"), Stockholm),
            at("2027-10-31T23:00:00Z")
        );
    }

    #[test]
    fn reminder_days() {
        let due = d("2027-03-15");
        assert_eq!(
            reminder_day(due, Offset::Before(DayCount::Working(3))),
            d("2027-03-10")
        );
        assert_eq!(reminder_day(due, Offset::At), due);
        assert_eq!(
            reminder_day(due, Offset::After(DayCount::Calendar(1))),
            d("2027-03-16")
        );
    }
}
