//! When to try a message again after a temporary failure, and when to stop trying. Pure: the
//! times come from the caller.

use chrono::{DateTime, TimeDelta, Utc};

/// The wait after the first failure; it doubles after each further one.
pub(crate) const FIRST_WAIT: TimeDelta = TimeDelta::minutes(1);

/// The longest wait between two attempts.
pub(crate) const MAX_WAIT: TimeDelta = TimeDelta::hours(6);

/// A message first queued longer ago than this, that has only failed temporarily, is given up
/// (marked failed): five days, as mail servers commonly keep retrying before they bounce.
pub const GIVE_UP_AFTER: TimeDelta = TimeDelta::days(5);

/// When to try again after `attempts` failed attempts, the last at `last`: 1 minute after the
/// first failure, then 2, 4, 8, … minutes, at most [`MAX_WAIT`]. With no failed attempt yet, at
/// once (`last`).
pub fn next_attempt(attempts: u32, last: DateTime<Utc>) -> DateTime<Utc> {
    let wait = match attempts {
        0 => TimeDelta::zero(),
        n => {
            // 2^(n-1) minutes; from 2^9 = 512 minutes on, the cap applies anyway.
            let doublings = (n - 1).min(9);
            (FIRST_WAIT * (1 << doublings)).min(MAX_WAIT)
        }
    };
    last.checked_add_signed(wait)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether a message queued at `queued` should be given up at `now` instead of tried again.
pub fn should_give_up(queued: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(queued) > GIVE_UP_AFTER
}
