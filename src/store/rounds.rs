//! Routine versions, schedule progress and sampling rounds.

use super::db::{Db, OptionalExtension, params};
use super::{parse_ts, ts};
use crate::Result;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// Records a compiled routine's text under its hash (once).
pub(crate) fn register_version(
    conn: &Db,
    hash: &str,
    routine_id: &str,
    version: &str,
    path: &str,
    source: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO routine_versions (hash, routine_id, version, path, source, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![hash, routine_id, version, path, source, ts(now)])?
        == 1)
}

/// The text of a stored routine version.
pub(crate) fn version_source(conn: &Db, hash: &str) -> Result<Option<(String, String)>> {
    conn.prepare_cached("SELECT path, source FROM routine_versions WHERE hash = ?1")?
        .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

pub(crate) fn last_occurrence(conn: &Db, routine_id: &str) -> Result<Option<DateTime<Utc>>> {
    let s: Option<String> = conn
        .prepare_cached("SELECT last_occurrence FROM schedule_state WHERE routine_id = ?1")?
        .query_row([routine_id], |r| r.get(0))
        .optional()?;
    s.as_deref().map(parse_ts).transpose()
}

pub(crate) fn set_last_occurrence(conn: &Db, routine_id: &str, at: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO schedule_state (routine_id, last_occurrence) VALUES (?1, ?2)
         ON CONFLICT (routine_id) DO UPDATE SET last_occurrence = excluded.last_occurrence
         WHERE excluded.last_occurrence > schedule_state.last_occurrence",
    )?
    .execute(params![routine_id, ts(at)])?;
    Ok(())
}

pub(crate) struct NewRound<'a> {
    pub routine_id: &'a str,
    pub routine_hash: &'a str,
    pub occurrence: DateTime<Utc>,
    pub seed: u64,
    pub population: usize,
    pub drawn: usize,
    /// The highest access-log row the windows were drawn from; `None`: drawn without the log.
    pub log_horizon: Option<i64>,
}

/// Claims the round of `occurrence`; `None` when it exists already (the unique key on routine
/// and occurrence makes every round exist exactly once).
pub(crate) fn insert_round(conn: &Db, round: &NewRound, now: DateTime<Utc>) -> Result<Option<i64>> {
    conn.prepare_cached(
            "INSERT INTO rounds (routine_id, routine_hash, occurrence, created_at, seed, population, drawn, log_horizon)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(params![
            round.routine_id,
            round.routine_hash,
            ts(round.occurrence),
            ts(now),
            round.seed.to_string(),
            round.population as i64,
            round.drawn as i64,
            round.log_horizon
        ], |r| r.get(0))
        .optional()
}

pub(crate) fn insert_member(
    conn: &Db,
    round_id: i64,
    m: &super::roster::Member,
    drawn: Option<&str>,
) -> Result<()> {
    let others = (!m.other_accounts.is_empty()).then(|| m.other_accounts.join(";"));
    conn.prepare_cached(
        "INSERT INTO round_members (round_id, person_id, unit_id, account, units, drawn, other_accounts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        round_id,
        m.person_id,
        m.home_unit,
        m.account,
        m.units as i64,
        drawn,
        others
    ])?;
    Ok(())
}

/// Users drawn by `routine_id` in rounds with occurrences in `[from, before)`.
pub(crate) fn drawn_between(
    conn: &Db,
    routine_id: &str,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT m.person_id FROM round_members m JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3 AND m.drawn IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![routine_id, ts(from), ts(before)], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// When each user was last drawn by `routine_id` before `before`.
pub(crate) fn last_drawn(
    conn: &Db,
    routine_id: &str,
    before: DateTime<Utc>,
) -> Result<HashMap<String, DateTime<Utc>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.person_id, MAX(r.occurrence) FROM round_members m JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = ?1 AND r.occurrence < ?2 AND m.drawn IS NOT NULL
         GROUP BY m.person_id",
    )?;
    let rows = stmt.query_map(params![routine_id, ts(before)], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (person, at) = row?;
        out.insert(person, parse_ts(&at)?);
    }
    Ok(out)
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RoundRow {
    pub id: i64,
    pub routine: String,
    pub routine_hash: String,
    pub occurrence: String,
    pub created_at: String,
    pub seed: String,
    pub population: i64,
    pub drawn: i64,
    pub log_horizon: Option<i64>,
}

fn round_row(r: &super::db::Row) -> Result<RoundRow> {
    Ok(RoundRow {
        id: r.get(0)?,
        routine: r.get(1)?,
        routine_hash: r.get(2)?,
        occurrence: r.get(3)?,
        created_at: r.get(4)?,
        seed: r.get(5)?,
        population: r.get(6)?,
        drawn: r.get(7)?,
        log_horizon: r.get(8)?,
    })
}

const ROUND_COLUMNS: &str =
    "id, routine_id, routine_hash, occurrence, created_at, seed, population, drawn, log_horizon";

pub(crate) fn list(conn: &Db, routine: Option<&str>) -> Result<Vec<RoundRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROUND_COLUMNS} FROM rounds WHERE (routine_id = ?1 OR ?1 IS NULL) ORDER BY occurrence, id"
    ))?;
    let rows = stmt.query_map([routine], round_row)?;
    rows.collect::<Result<_>>()
}

pub(crate) fn get(conn: &Db, id: i64) -> Result<Option<RoundRow>> {
    conn.prepare_cached(&format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE id = ?1"))?
        .query_row([id], round_row)
        .optional()
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct MemberRow {
    pub person_id: String,
    pub unit_id: String,
    pub account: String,
    pub units: i64,
    pub drawn: Option<String>,
    /// Further accounts in the routine's system.
    pub other_accounts: Vec<String>,
}

pub(crate) fn members(conn: &Db, round_id: i64) -> Result<Vec<MemberRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, unit_id, account, units, drawn, other_accounts FROM round_members
         WHERE round_id = ?1 ORDER BY person_id",
    )?;
    let rows = stmt.query_map([round_id], |r| {
        Ok(MemberRow {
            person_id: r.get(0)?,
            unit_id: r.get(1)?,
            account: r.get(2)?,
            units: r.get(3)?,
            drawn: r.get(4)?,
            other_accounts: r
                .get::<Option<String>>(5)?
                .map(|s| s.split(';').map(str::to_string).collect())
                .unwrap_or_default(),
        })
    })?;
    rows.collect::<Result<_>>()
}

/// A case's window as stored: start and end, `None` once purged.
pub(crate) type StoredWindow = (Option<String>, Option<String>);

/// The windows of a round's cases, by reviewed user.
pub(crate) fn case_windows(conn: &Db, round_id: i64) -> Result<HashMap<String, StoredWindow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT subject_person_id, window_start, window_end FROM cases
         WHERE round_id = ?1 AND subject_person_id IS NOT NULL",
    )?;
    let rows = stmt.query_map([round_id], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    rows.collect::<Result<_>>()
}
