//! The 24-hour window of a drawn user, drawn from the times the user was active. When the
//! imported log covers the round's look-back period, the round's seed picks one of the user's
//! accesses in it, then a window (ending a whole number of hours before the round, as a window
//! drawn without the log does) that contains it: a user who was active at all gets a window with
//! accesses to review. The round records the highest log row it saw, so that `round redraw`
//! sees the same log whatever was imported since.

use crate::Result;
use crate::store::Db;
use crate::store::logindex;
use rand::RngExt;
use rand_chacha::ChaCha20Rng;

const HOUR: i64 = 3600;

/// The times (Unix seconds, sorted, each once) the accounts of `system` accessed a record at
/// `[from, to)`, counting only rows up to `horizon`.
pub(crate) fn activity(
    conn: &Db,
    system: &str,
    accounts: &[&str],
    from: i64,
    to: i64,
    horizon: i64,
) -> Result<Vec<i64>> {
    let mut times = Vec::new();
    for account in accounts {
        for d in logindex::digests_of(conn, system, account, from, to)? {
            times.extend(
                d.entries
                    .iter()
                    .filter(|e| e.row <= horizon && from <= e.at && e.at < to)
                    .map(|e| e.at),
            );
        }
    }
    times.sort_unstable();
    times.dedup();
    Ok(times)
}

/// A window of `length` seconds ending `j` whole hours before `occurrence` (`0 ≤ j`, starting
/// at most an hour before `earliest`) that contains one of `times`, picked by `rng`: first the
/// access, then the window among those that hold it. `None` when `times` is empty.
pub(crate) fn around_activity(
    rng: &mut ChaCha20Rng,
    occurrence: i64,
    earliest: i64,
    length: i64,
    times: &[i64],
) -> Option<(i64, i64)> {
    if times.is_empty() {
        return None;
    }
    let t = times[rng.random_range(0..times.len())];
    let ceil = |x: i64| x.div_euclid(HOUR) + i64::from(x.rem_euclid(HOUR) != 0);
    let span = ceil(occurrence - length - earliest).max(0);
    // end = occurrence − j·h with t < end ≤ t + length.
    let lo = ceil(occurrence - t - length).max(0);
    let hi = (ceil(occurrence - t) - 1).min(span);
    if lo > hi {
        return None;
    }
    let j = rng.random_range(lo..=hi);
    let end = occurrence - j * HOUR;
    Some((end - length, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        #[test]
        fn every_access_in_the_look_back_can_be_reviewed(
            seed in 0u64..1000,
            back in (24 * 3600i64)..(40 * 86_400),
            offsets in proptest::collection::vec(0i64..(40 * 86_400), 1..20),
        ) {
            let occurrence = 1_800_000_000i64 + 420;
            let earliest = occurrence - back;
            let mut times: Vec<i64> = offsets
                .iter()
                .map(|o| earliest + o % back)
                .collect();
            times.sort_unstable();
            times.dedup();
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let (start, end) = around_activity(&mut rng, occurrence, earliest, 24 * 3600, &times)
                .expect("a window");
            prop_assert_eq!(end - start, 24 * 3600);
            prop_assert!(end <= occurrence);
            prop_assert!(start >= earliest - 3600);
            prop_assert_eq!((occurrence - end) % 3600, 0);
            prop_assert!(times.iter().any(|t| start <= *t && *t < end));
            // The same seed, the same window.
            let mut again = ChaCha20Rng::seed_from_u64(seed);
            prop_assert_eq!(
                around_activity(&mut again, occurrence, earliest, 24 * 3600, &times),
                Some((start, end))
            );
        }
    }

    #[test]
    fn no_activity_no_window() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        assert_eq!(around_activity(&mut rng, 100_000, 0, 86_400, &[]), None);
    }
}
