//! From a wall-clock time in a time zone to the one instant it runs at, the way cron does across
//! daylight-saving changes.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant at which a schedule with wall-clock time `local` runs in `tz`: the instant itself
/// when the time occurs once; the first of the two when the clock is turned back and the time
/// occurs twice; the first instant after the gap when the clock is turned forward over it
/// (02:30 on a spring day in Stockholm runs at 03:00). Put another way: the first instant whose
/// wall-clock time is `local` or later. `None` only at the very ends of the calendar.
pub(super) fn instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(time) => Some(time.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => Some(first.min(second).with_timezone(&Utc)),
        LocalResult::None => end_of_gap(tz, local),
    }
}

fn in_gap(tz: Tz, local: NaiveDateTime) -> bool {
    matches!(tz.from_local_datetime(&local), LocalResult::None)
}

/// The instant the clock jumps to over the gap that `local` falls in: the gap's end is found
/// on the wall clock by doubling steps, then to the second by bisection.
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let longest_gap = TimeDelta::days(4);
    let mut inside = local;
    let mut step = TimeDelta::minutes(1);
    let mut outside = local.checked_add_signed(step)?;
    while in_gap(tz, outside) {
        inside = outside;
        step = step.checked_mul(2)?;
        if step > longest_gap {
            return None;
        }
        outside = local.checked_add_signed(step)?;
    }
    loop {
        let half = (outside - inside).num_seconds() / 2;
        if half == 0 {
            break;
        }
        let middle = inside.checked_add_signed(TimeDelta::seconds(half))?;
        if in_gap(tz, middle) {
            inside = middle;
        } else {
            outside = middle;
        }
    }
    tz.from_local_datetime(&outside)
        .earliest()
        .map(|time| time.with_timezone(&Utc))
}
