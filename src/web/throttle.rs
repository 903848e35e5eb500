//! Login throttling. Failed logins are counted per account name and per client address; after
//! a few free failures each further one locks the key for twice as long as the one before
//! (1 s, 2 s, 4 s, … up to 15 minutes). While a key is locked, logins with it are refused
//! without looking at the password, so guessing runs at a few tries per quarter hour at best.
//! A run of failures is forgotten a day after its last failure, and an account's run when its
//! owner logs in. Addresses get more free failures than accounts: several people may share one.

use crate::Result;
use crate::store::Db;
use crate::store::web::{self as db, Failures};
use chrono::{DateTime, Duration, Utc};

/// Failures of one account before the first lock.
pub(crate) const ACCOUNT_FREE: u32 = 3;
/// Failures from one address before the first lock.
pub(crate) const ADDRESS_FREE: u32 = 10;
/// The longest lock.
pub(crate) const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// A run of failures this old is forgotten.
pub(crate) const FORGET_AFTER_HOURS: i64 = 24;

/// A throttled key: an account name or a client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub key: String,
    pub free: u32,
}

impl Key {
    pub(crate) fn account(name: &str) -> Key {
        Key {
            key: format!("user:{name}"),
            free: ACCOUNT_FREE,
        }
    }

    pub(crate) fn address(addr: &str) -> Key {
        Key {
            key: format!("addr:{addr}"),
            free: ADDRESS_FREE,
        }
    }
}

/// How long the `failures`-th failure locks a key that has `free` free failures.
pub(crate) fn lock_after(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::zero();
    }
    let doublings = (failures - free).min(20);
    Duration::seconds((1i64 << doublings).min(MAX_LOCK_SECONDS))
}

/// Until when the most locked of `keys` is locked, if any is at `now`. A lock that reaches
/// further than [`MAX_LOCK_SECONDS`] past `now` was set by a clock other than this one (a server
/// run with `--now`) and does not hold.
pub(crate) fn locked_until(
    conn: &Db,
    keys: &[Key],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let mut until = None;
    for key in keys {
        if let Some(f) = db::failures(conn, &key.key)?
            && f.locked_until > now
            && f.locked_until - now <= Duration::seconds(MAX_LOCK_SECONDS)
        {
            until = until.max(Some(f.locked_until));
        }
    }
    Ok(until)
}

/// Counts a failure against `key`.
pub(crate) fn fail(conn: &Db, key: &Key, now: DateTime<Utc>) -> Result<()> {
    let previous = db::failures(conn, &key.key)?
        .filter(|f| {
            f.last_failure_at <= now
                && now - f.last_failure_at < Duration::hours(FORGET_AFTER_HOURS)
        })
        .map_or(0, |f| f.failures);
    let failures = previous.saturating_add(1);
    db::set_failures(
        conn,
        &key.key,
        &Failures {
            failures,
            last_failure_at: now,
            locked_until: now + lock_after(failures, key.free),
        },
    )
}

pub(crate) fn forget(conn: &Db, key: &Key) -> Result<()> {
    db::clear_failures(conn, &key.key)
}

/// Whole seconds in `wait`, rounded up (at least 1): what `Retry-After` says, so that a client
/// that waits that long is never refused again.
pub(crate) fn seconds_rounded_up(wait: Duration) -> i64 {
    let millis = wait.num_milliseconds();
    ((millis + 999).div_euclid(1000)).max(1)
}

/// "3 minuter", "45 sekunder": how long until `until`, rounded up.
pub(crate) fn wait_sv(now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let seconds = seconds_rounded_up(until - now);
    if seconds < 60 {
        crate::sv::count(seconds, "sekund", "sekunder")
    } else {
        let minutes = (seconds + 59) / 60;
        crate::sv::count(minutes, "minut", "minuter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn waits_are_rounded_up() {
        assert_eq!(seconds_rounded_up(Duration::milliseconds(1_001)), 2);
        assert_eq!(seconds_rounded_up(Duration::milliseconds(1_999)), 2);
        assert_eq!(seconds_rounded_up(Duration::seconds(2)), 2);
        assert_eq!(seconds_rounded_up(Duration::milliseconds(300)), 1);
        assert_eq!(seconds_rounded_up(Duration::zero()), 1);
        assert_eq!(seconds_rounded_up(Duration::seconds(-5)), 1);
        let now = at("2027-01-05T10:00:00.250Z");
        assert_eq!(wait_sv(now, at("2027-01-05T10:00:02Z")), "2 sekunder");
        assert_eq!(wait_sv(now, at("2027-01-05T10:01:00Z")), "1 minut");
    }

    #[test]
    fn locks_double_after_the_free_failures() {
        assert_eq!(lock_after(2, 3), Duration::zero());
        assert_eq!(lock_after(3, 3), Duration::seconds(1));
        assert_eq!(lock_after(4, 3), Duration::seconds(2));
        assert_eq!(lock_after(8, 3), Duration::seconds(32));
        assert_eq!(lock_after(40, 3), Duration::seconds(MAX_LOCK_SECONDS));
        assert_eq!(lock_after(u32::MAX, 3), Duration::seconds(MAX_LOCK_SECONDS));
    }

    #[test]
    fn failures_lock_and_are_forgotten() {
        let store = Store::in_memory().unwrap();
        let c = store.db();
        let key = Key::account("kvalitet");
        let now = at("2027-01-05T10:00:00Z");
        for _ in 0..3 {
            fail(c, &key, now).unwrap();
        }
        let until = locked_until(c, std::slice::from_ref(&key), now).unwrap();
        assert_eq!(until, Some(now + Duration::seconds(1)));
        assert_eq!(
            locked_until(c, std::slice::from_ref(&key), now + Duration::seconds(1)).unwrap(),
            None
        );
        // A day later the run starts again.
        let later = now + Duration::hours(25);
        fail(c, &key, later).unwrap();
        assert_eq!(
            locked_until(c, std::slice::from_ref(&key), later).unwrap(),
            None
        );
        forget(c, &key).unwrap();
        assert_eq!(db::failures(c, &key.key).unwrap(), None);
        // A lock set by a clock a year ahead (`serve --now`) does not hold today, and its run
        // of failures does not count.
        let ahead = now + Duration::days(390);
        for _ in 0..40 {
            fail(c, &key, ahead).unwrap();
        }
        assert!(
            locked_until(c, std::slice::from_ref(&key), ahead)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            locked_until(c, std::slice::from_ref(&key), now).unwrap(),
            None
        );
        fail(c, &key, now).unwrap();
        assert_eq!(db::failures(c, &key.key).unwrap().unwrap().failures, 1);
        assert_eq!(wait_sv(now, now + Duration::seconds(1)), "1 sekund");
        assert_eq!(wait_sv(now, now + Duration::seconds(61)), "2 minuter");
    }
}
