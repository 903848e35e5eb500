//! Scheduled rounds: which occurrences of a routine's schedule are due, and drawing one round —
//! the population, the sample, a case per drawn user — in one transaction. A unique key on
//! routine and occurrence makes every round exist exactly once, however often or late `tick` runs.

use super::deadline;
use super::notices::CaseFacts;
use super::sampling::{self, Input};
use super::{Ctx, cases};
use crate::Result;
use crate::clock::resolve_local;
use crate::routine::Routine;
use crate::routine::chance;
use crate::routine::duration::{Period, Unit};
use crate::routine::model::{CatchUp, Sampling, Trigger};
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, NewCase};
use crate::store::roster;
use crate::store::rounds::{self as rounds_db, NewRound};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A run is *missed* when it comes to be handled more than this long after its time.
pub(crate) const GRACE: Duration = Duration::hours(24);

/// Occurrences beyond this many in one catch-up are dropped (a schedule every minute after a
/// year off would otherwise flood the machine).
pub(crate) const MAX_CATCH_UP: usize = 1000;

/// The occurrences of `routine` to run now: those after `from` up to `now`, filtered by the
/// catch-up policy; and the latest occurrence seen (to record as handled).
pub fn due(
    routine: &Routine,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Trigger::Schedule { crontab, catch_up } = &routine.trigger else {
        return (vec![], None);
    };
    let all: Vec<DateTime<Utc>> = crontab.occurrences(routine.timezone, from, now).collect();
    let last = all.last().copied();
    let chosen = match catch_up {
        CatchUp::All => {
            let skip = all.len().saturating_sub(MAX_CATCH_UP);
            all.into_iter().skip(skip).collect()
        }
        CatchUp::Latest => last.into_iter().collect(),
        CatchUp::Skip => all.into_iter().filter(|t| now - *t <= GRACE).collect(),
    };
    (chosen, last)
}

/// The seed of a round: derived from the installation's seed, the routine and the occurrence, so
/// a round drawn again after a crash draws the same users.
pub fn seed(install_seed: &[u8], routine_id: &str, occurrence: DateTime<Utc>) -> u64 {
    let mut h = Sha256::new();
    h.update(install_seed);
    h.update([0x1f]);
    h.update(routine_id.as_bytes());
    h.update([0x1f]);
    h.update(crate::store::ts(occurrence).as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// The start of the local calendar year of `t`.
fn year_start(t: DateTime<Utc>, routine: &Routine) -> DateTime<Utc> {
    let year = t.with_timezone(&routine.timezone).year();
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    resolve_local(jan1.and_time(chrono::NaiveTime::MIN), routine.timezone)
}

/// `t` minus `period` on `routine`'s local calendar.
pub(crate) fn back_from(t: DateTime<Utc>, period: Period, routine: &Routine) -> DateTime<Utc> {
    back(t, period, routine)
}

/// `t` minus `period` on the local calendar.
fn back(t: DateTime<Utc>, period: Period, routine: &Routine) -> DateTime<Utc> {
    let local = t.with_timezone(&routine.timezone).naive_local();
    let n = period.amount;
    let earlier = match period.unit {
        Unit::Hours => local.checked_sub_signed(Duration::hours(i64::from(n))),
        Unit::Days | Unit::WorkingDays => local.checked_sub_signed(Duration::days(i64::from(n))),
        Unit::Weeks => local.checked_sub_signed(Duration::weeks(i64::from(n))),
        Unit::Months => local.checked_sub_months(Months::new(n)),
        Unit::Years => local.checked_sub_months(Months::new(n.saturating_mul(12))),
    };
    earlier.map_or(t, |l| resolve_local(l, routine.timezone))
}

/// The 24-hour window: a random whole number of hours before the round, inside the look-back
/// period (counted back from the round, so it keeps the round's minutes in any time zone).
pub fn window(
    rng: &mut ChaCha20Rng,
    s: &Sampling,
    routine: &Routine,
    occurrence: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let length = Duration::hours(i64::from(s.window_hours));
    let earliest = back(occurrence, s.look_back, routine);
    let span_hours = ((occurrence - length) - earliest).num_hours().max(0);
    let end = occurrence - Duration::hours(rng.random_range(0..=span_hours));
    (end - length, end)
}

/// The look-back period of a round: `[earliest, occurrence)`.
fn look_back(s: &Sampling, routine: &Routine, occurrence: DateTime<Utc>) -> DateTime<Utc> {
    back(occurrence, s.look_back, routine)
}

/// The log the round's windows are drawn from: the highest row of the log when the imported log
/// covers any of the look-back period of `system`; `None` (windows drawn without the log)
/// otherwise.
pub fn log_horizon(
    conn: &Db,
    s: &Sampling,
    routine: &Routine,
    occurrence: DateTime<Utc>,
) -> Result<Option<i64>> {
    let earliest = look_back(s, routine, occurrence);
    let status = crate::evidence::coverage::of_window(
        conn,
        &s.system,
        earliest.timestamp(),
        occurrence.timestamp(),
    )?;
    if status == crate::evidence::LogStatus::Missing {
        return Ok(None);
    }
    Ok(Some(crate::store::logindex::horizon(conn)?))
}

/// The window of one drawn user: around one of the user's accesses in the look-back period when
/// the round draws from the log (`horizon`) and the user was active; else as [`window`].
#[allow(clippy::too_many_arguments)]
fn drawn_window(
    conn: &Db,
    rng: &mut ChaCha20Rng,
    s: &Sampling,
    routine: &Routine,
    occurrence: DateTime<Utc>,
    account: &str,
    other_accounts: &[String],
    horizon: Option<i64>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if let Some(horizon) = horizon {
        let earliest = look_back(s, routine, occurrence);
        let accounts: Vec<&str> = std::iter::once(account)
            .chain(other_accounts.iter().map(String::as_str))
            .collect();
        let times = crate::evidence::window::activity(
            conn,
            &s.system,
            &accounts,
            earliest.timestamp(),
            occurrence.timestamp(),
            horizon,
        )?;
        let length = i64::from(s.window_hours) * 3600;
        if let Some((start, end)) = crate::evidence::window::around_activity(
            rng,
            occurrence.timestamp(),
            earliest.timestamp(),
            length,
            &times,
        ) && let (Some(a), Some(b)) = (
            DateTime::from_timestamp(start, 0),
            DateTime::from_timestamp(end, 0),
        ) {
            return Ok((a, b));
        }
    }
    Ok(window(rng, s, routine, occurrence))
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoundSummary {
    pub round_id: i64,
    pub routine: String,
    pub occurrence: String,
    pub population: usize,
    pub drawn: usize,
}

/// Draws the round of `occurrence` (inside the caller's transaction); `None` when it exists.
pub fn run(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RoundSummary>> {
    let (Some(sampling), Trigger::Schedule { crontab, .. }) = (&routine.sampling, &routine.trigger)
    else {
        return Ok(None);
    };
    super::register(conn, routine, now)?;
    let day = deadline::local_date(occurrence, routine.timezone);
    let population = roster::population(conn, &sampling.system, day)?;
    let seed = seed(ctx.seed, &routine.id, occurrence);
    let (drawn, mut rng) = draw_round(
        conn,
        routine,
        sampling,
        crontab,
        occurrence,
        &population,
        seed,
    )?;
    let horizon = log_horizon(conn, sampling, routine, occurrence)?;
    let Some(round_id) = rounds_db::insert_round(
        conn,
        &NewRound {
            routine_id: &routine.id,
            routine_hash: &routine.hash,
            occurrence,
            seed,
            population: population.len(),
            drawn: drawn.len(),
            log_horizon: horizon,
        },
        now,
    )?
    else {
        return Ok(None);
    };
    let mut reasons: Vec<Option<&str>> = vec![None; population.len()];
    for d in &drawn {
        reasons[d.member] = Some(d.reason.as_str());
    }
    for (m, reason) in population.iter().zip(&reasons) {
        rounds_db::insert_member(conn, round_id, m, *reason)?;
    }
    audit::append(
        conn,
        now,
        &Event {
            actor: "system",
            event: "round.drawn",
            case_id: None,
            round_id: Some(round_id),
            data: json!({
                "routine": routine.id, "version": routine.hash,
                "occurrence": crate::store::ts(occurrence), "seed": seed.to_string(),
                "population": population.len(), "drawn": drawn.len(),
                "late": now - occurrence > GRACE,
                "windows": if horizon.is_some() { "activity" } else { "random" },
            }),
            personal: None,
        },
    )?;
    let year = now.with_timezone(&routine.timezone).year();
    let first = db::reserve_references(conn, &routine.reference_prefix, year, drawn.len())?;
    for (n, d) in (first..).zip(&drawn) {
        let member = &population[d.member];
        let (start, end) = drawn_window(
            conn,
            &mut rng,
            sampling,
            routine,
            occurrence,
            &member.account,
            &member.other_accounts,
            horizon,
        )?;
        let id = db::reference(&routine.reference_prefix, year, n);
        db::insert_case(
            conn,
            &NewCase {
                id: &id,
                routine_id: &routine.id,
                routine_hash: &routine.hash,
                kind: routine.kind.as_str(),
                system: &sampling.system,
                unit_id: &member.home_unit,
                round_id: Some(round_id),
                subject_person_id: Some(&member.person_id),
                subject_account: Some(&member.account),
                client_ref: None,
                window_start: Some(start),
                window_end: Some(end),
                reason: Some(d.reason.as_str()),
                state: &routine.start_state().name,
                opened_by: "system",
                systems: None,
                client_name: None,
                client_address: None,
            },
            now,
        )?;
        let facts = CaseFacts {
            id: &id,
            unit_id: &member.home_unit,
            subject_person_id: Some(&member.person_id),
        };
        let entered = cases::enter(conn, ctx, routine, &facts, routine.start, now)?;
        // The routine and its version are the round's (its `round.drawn` entry names them).
        let mut data = entered.audit();
        data["unit"] = json!(member.home_unit);
        data["reason"] = json!(d.reason.as_str());
        // Who was reviewed, and when, is personal: kept apart so that the purge can erase it.
        let personal = json!({
            "subject_user": member.person_id,
            "account": member.account,
            "window_start": crate::store::ts(start),
            "window_end": crate::store::ts(end),
        });
        audit::append(
            conn,
            now,
            &Event {
                actor: "system",
                event: "case.opened",
                case_id: Some(&id),
                round_id: Some(round_id),
                data,
                personal: Some(personal),
            },
        )?;
    }
    Ok(Some(RoundSummary {
        round_id,
        routine: routine.id.clone(),
        occurrence: crate::store::ts(occurrence),
        population: population.len(),
        drawn: drawn.len(),
    }))
}

/// The draw of the round of `occurrence` from `population`: what it depends on besides the
/// population (rounds left in the year, who this routine drew earlier this year and when) is read
/// from the store, so a redraw later gives the same result. Returns the RNG too, which goes on to
/// draw the review windows.
fn draw_round(
    conn: &Db,
    routine: &Routine,
    sampling: &Sampling,
    crontab: &crate::schedule::Crontab,
    occurrence: DateTime<Utc>,
    population: &[roster::Member],
    seed: u64,
) -> Result<(Vec<sampling::Drawn>, ChaCha20Rng)> {
    let tz = routine.timezone;
    let year = occurrence.with_timezone(&tz).year();
    let rounds_left = crontab
        .occurrences_in_year(tz, year)
        .iter()
        .filter(|t| **t >= occurrence)
        .count()
        .max(1) as u32;
    let drawn_this_year = rounds_db::drawn_between(
        conn,
        &routine.id,
        year_start(occurrence, routine),
        occurrence,
    )?;
    let last_drawn: HashMap<String, NaiveDate> = if sampling.always_include.is_empty() {
        HashMap::new()
    } else {
        rounds_db::last_drawn(conn, &routine.id, occurrence)?
            .into_iter()
            .map(|(p, t)| (p, deadline::local_date(t, tz)))
            .collect()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let drawn = sampling::draw(
        &Input {
            population,
            sampling,
            rounds_per_year: chance::rounds_per_year(crontab, tz).max(1),
            rounds_left,
            drawn_this_year: &drawn_this_year,
            last_drawn: &last_drawn,
            day: deadline::local_date(occurrence, tz),
        },
        &mut rng,
    );
    Ok((drawn, rng))
}

/// A round's draw done again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Redraw {
    pub round_id: i64,
    pub seed: u64,
    /// (person, reason) in population order.
    pub drawn: Vec<(String, String)>,
    /// (person, start, end) of each drawn user's window, in the same order.
    pub windows: Vec<(String, String, String)>,
    /// Whether the windows were drawn from the log (`activity`) or at random (`random`).
    pub window_rule: &'static str,
    /// Whether it equals what the round recorded: who was drawn, and the windows of the cases
    /// not yet purged.
    pub matches: bool,
}

/// Draws round `round_id` again from its recorded seed and population, and the draws of the
/// routine's earlier rounds, and compares the result with what was recorded.
pub fn redraw(store: &crate::store::Store, round_id: i64) -> Result<Redraw> {
    let conn = store.db();
    let round = rounds_db::get(conn, round_id)?
        .ok_or_else(|| crate::Error::usage(format!("no round {round_id}")))?;
    let routine = super::compile_stored(conn, &round.routine_hash)?;
    let (Some(sampling), Trigger::Schedule { crontab, .. }) = (&routine.sampling, &routine.trigger)
    else {
        return Err(crate::Error::bad_input(format!(
            "round {round_id} of `{}` draws nobody (it opens a review per unit): there is nothing to redraw",
            routine.id
        )));
    };
    let occurrence = crate::store::parse_ts(&round.occurrence)?;
    let seed: u64 = round.seed.parse().map_err(|_| {
        crate::Error::runtime(format!("round {round_id} has a bad seed `{}`", round.seed))
    })?;
    let members = rounds_db::members(conn, round_id)?;
    let population: Vec<roster::Member> = members
        .iter()
        .map(|m| roster::Member {
            person_id: m.person_id.clone(),
            home_unit: m.unit_id.clone(),
            account: m.account.clone(),
            other_accounts: m.other_accounts.clone(),
            units: m.units.max(0) as usize,
        })
        .collect();
    let (drawn, mut rng) = draw_round(
        conn,
        &routine,
        sampling,
        crontab,
        occurrence,
        &population,
        seed,
    )?;
    let mut windows = Vec::with_capacity(drawn.len());
    for d in &drawn {
        let m = &population[d.member];
        let (start, end) = drawn_window(
            conn,
            &mut rng,
            sampling,
            &routine,
            occurrence,
            &m.account,
            &m.other_accounts,
            round.log_horizon,
        )?;
        windows.push((
            m.person_id.clone(),
            crate::store::ts(start),
            crate::store::ts(end),
        ));
    }
    let drawn: Vec<(String, String)> = drawn
        .iter()
        .map(|d| {
            (
                population[d.member].person_id.clone(),
                d.reason.as_str().to_string(),
            )
        })
        .collect();
    let recorded: Vec<(String, String)> = members
        .iter()
        .filter_map(|m| m.drawn.as_ref().map(|r| (m.person_id.clone(), r.clone())))
        .collect();
    let cases = rounds_db::case_windows(conn, round_id)?;
    let windows_match = windows.iter().all(|(p, a, b)| match cases.get(p) {
        Some((Some(x), Some(y))) => x == a && y == b,
        // Purged (or never opened): nothing to compare.
        _ => true,
    });
    Ok(Redraw {
        round_id,
        seed,
        matches: drawn == recorded && windows_match,
        drawn,
        windows,
        window_rule: if round.log_horizon.is_some() {
            "activity"
        } else {
            "random"
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_by_routine_and_occurrence_and_repeat() {
        let t = DateTime::parse_from_rfc3339("2027-03-01T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = seed(b"install", "treserva-sampling", t);
        assert_eq!(a, seed(b"install", "treserva-sampling", t));
        assert_ne!(a, seed(b"install", "npo-sampling", t));
        assert_ne!(a, seed(b"other", "treserva-sampling", t));
        assert_ne!(
            a,
            seed(b"install", "treserva-sampling", t + Duration::hours(1))
        );
    }
}
