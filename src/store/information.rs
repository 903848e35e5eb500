//! Who is waiting to be told that access is logged and checked: a person who got an account in
//! a system after the first roster import (a new employee, or a new account) waits in
//! `information_due` until the tick opens their information case.

use super::db::{Db, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Every (person, system) with an account now.
pub fn account_pairs(conn: &Db) -> Result<BTreeSet<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT person_id, system FROM accounts")?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// Notes that `person` got an account in `system` at `now` (once).
pub fn note(conn: &Db, person: &str, system: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO information_due (person_id, system, noticed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?
    .execute(params![person, system, ts(now)])?;
    Ok(())
}

/// One person waiting to be informed of the log checks in one system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub person_id: String,
    pub system: String,
    /// The person's (first) account in the system, if it still exists.
    pub account: Option<String>,
    /// The person's home unit.
    pub unit: Option<String>,
}

/// Everyone waiting, oldest first.
pub fn due(conn: &Db) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.person_id, d.system,
            (SELECT MIN(a.account) FROM accounts a WHERE a.person_id = d.person_id AND a.system = d.system),
            (SELECT p.home_unit FROM people p WHERE p.id = d.person_id)
         FROM information_due d ORDER BY d.noticed_at, d.person_id, d.system",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok(Due {
            person_id: r.get(0)?,
            system: r.get(1)?,
            account: r.get(2)?,
            unit: r.get(3)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// Done with one waiting person.
pub fn clear(conn: &Db, person: &str, system: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM information_due WHERE person_id = ?1 AND system = ?2")?
        .execute(params![person, system])?;
    Ok(())
}

/// Whether `routine` has an information case for `person` in `system` already.
pub fn has_case(conn: &Db, routine: &str, person: &str, system: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM cases WHERE routine_id = ?1 AND subject_person_id = ?2
                AND system = ?3)",
    )?
    .query_row(params![routine, person, system], |r| r.get(0))
}

/// Whether any roster was imported before.
pub fn any_import(conn: &Db) -> Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM roster_imports)", (), |r| {
        r.get(0)
    })
}

/// People informed by `routine` in `system` whose latest case opened at or before `cutoff` and
/// is closed: due to be informed again (a routine with `repeat`).
pub fn due_again(
    conn: &Db,
    routine: &str,
    system: &str,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.subject_person_id, c.system,
            (SELECT MIN(a.account) FROM accounts a
             WHERE a.person_id = c.subject_person_id AND a.system = c.system),
            (SELECT p.home_unit FROM people p WHERE p.id = c.subject_person_id)
         FROM cases c
         WHERE c.routine_id = ?1 AND c.system = ?2 AND c.subject_person_id IS NOT NULL
         GROUP BY c.subject_person_id, c.system
         HAVING MAX(c.opened_at) <= ?3 AND SUM(CASE WHEN c.closed_at IS NULL THEN 1 ELSE 0 END) = 0
         ORDER BY c.subject_person_id",
    )?;
    let rows = stmt.query_map(params![routine, system, ts(cutoff)], |r| {
        Ok(Due {
            person_id: r.get(0)?,
            system: r.get(1)?,
            account: r.get(2)?,
            unit: r.get(3)?,
        })
    })?;
    rows.collect::<Result<_>>()
}
