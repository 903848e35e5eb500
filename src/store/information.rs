//! Who is waiting to be told that access is logged and checked: a person who got an account in
//! a system after the first roster import (a new employee, or a new account) waits in
//! `information_due` until the tick opens their information case; a unit whose whole staff are
//! to be told (at go-live, and when it gets a new manager) waits in `information_units_due`, and
//! its case lists its people in `case_staff`, each ticked when informed.

use super::db::{Db, OptionalExtension, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;

/// Every (person, system) with an account now.
pub(crate) fn account_pairs(conn: &Db) -> Result<BTreeSet<(String, String)>> {
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
pub(crate) fn has_case(conn: &Db, routine: &str, person: &str, system: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM cases WHERE routine_id = ?1 AND subject_person_id = ?2
                AND system = ?3)",
    )?
    .query_row(params![routine, person, system], |r| r.get(0))
}

/// Whether any roster was imported before.
pub(crate) fn any_import(conn: &Db) -> Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM roster_imports)", (), |r| {
        r.get(0)
    })
}

/// People with an account in `system` whom `routine` last informed at or before `cutoff` (on a
/// case of their own or on their unit's list), and who are on no open case of it: due to be
/// informed again (a routine with `repeat`).
pub(crate) fn due_again(
    conn: &Db,
    routine: &str,
    system: &str,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.person_id,
            (SELECT MIN(a.account) FROM accounts a WHERE a.person_id = s.person_id AND a.system = ?2),
            (SELECT p.home_unit FROM people p WHERE p.id = s.person_id)
         FROM staff_informed s
         WHERE s.routine_id = ?1 AND s.informed_at <= ?3
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = s.person_id AND a.system = ?2)
           AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.routine_id = ?1
                AND c.subject_person_id = s.person_id AND c.closed_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM case_staff l JOIN cases c ON c.id = l.case_id
                WHERE l.person_id = s.person_id AND c.routine_id = ?1 AND c.closed_at IS NULL)
         ORDER BY s.person_id",
    )?;
    let rows = stmt.query_map(params![routine, system, ts(cutoff)], |r| {
        Ok(Due {
            person_id: r.get(0)?,
            system: system.to_string(),
            account: r.get(1)?,
            unit: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// The meta key set when the staff at go-live were queued (once per installation).
pub(crate) const GO_LIVE_KEY: &str = "staff_information_queued_at";

/// Why a unit's staff are to be informed together: go-live, or a new holder of the role.
pub(crate) const GO_LIVE: &str = "go_live";
pub(crate) const NEW_MANAGER: &str = "new_manager";

/// Notes that the staff of `unit` are to be informed by the routines whose step goes to `role`
/// (`None`: every routine), not before local day `not_before` (once per unit and role; the first
/// note stays).
pub(crate) fn queue_unit(
    conn: &Db,
    unit: &str,
    role: Option<&str>,
    reason: &str,
    not_before: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO information_units_due (unit_id, role, reason, not_before, noticed_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        unit,
        role.unwrap_or(""),
        reason,
        not_before.map(super::date),
        ts(now)
    ])?;
    Ok(())
}

/// Every unit that is some current person's home unit, where that person holds an account.
pub(crate) fn staffed_units(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT p.home_unit FROM people p
         WHERE p.home_unit IS NOT NULL AND p.removed_at IS NULL
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id)
         ORDER BY p.home_unit",
    )?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// A unit waiting for its staff to be informed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitDue {
    pub unit_id: String,
    /// The role whose routines inform (`None`: every routine).
    pub role: Option<String>,
    pub reason: String,
    /// The local day the case may open (the new manager's first day).
    pub not_before: Option<NaiveDate>,
}

/// Every unit waiting, oldest first.
pub(crate) fn units_due(conn: &Db) -> Result<Vec<UnitDue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT unit_id, role, reason, not_before FROM information_units_due
         ORDER BY noticed_at, unit_id, role",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (unit_id, role, reason, not_before) = row?;
        out.push(UnitDue {
            unit_id,
            role: (!role.is_empty()).then_some(role),
            reason,
            not_before: not_before.as_deref().map(super::parse_date).transpose()?,
        });
    }
    Ok(out)
}

/// Done with one waiting unit and role.
pub(crate) fn clear_unit(conn: &Db, unit: &str, role: Option<&str>) -> Result<()> {
    conn.prepare_cached("DELETE FROM information_units_due WHERE unit_id = ?1 AND role = ?2")?
        .execute(params![unit, role.unwrap_or("")])?;
    Ok(())
}

/// The people (not removed) whose home unit is `unit` and who hold an account in one of
/// `systems`, by id.
pub(crate) fn unit_staff(conn: &Db, unit: &str, systems: &[String]) -> Result<Vec<String>> {
    let mut out = BTreeSet::new();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id FROM people p
         WHERE p.home_unit = ?1 AND p.removed_at IS NULL
           AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = p.id AND a.system = ?2)",
    )?;
    for system in systems {
        let rows = stmt.query_map(params![unit, system], |r| r.get::<String>(0))?;
        for id in rows {
            out.insert(id?);
        }
    }
    Ok(out.into_iter().collect())
}

/// Whether `routine` has an open case listing the staff of `unit`.
pub(crate) fn has_open_unit_case(conn: &Db, routine: &str, unit: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM cases c WHERE c.routine_id = ?1 AND c.unit_id = ?2
                AND c.closed_at IS NULL AND EXISTS (SELECT 1 FROM case_staff s WHERE s.case_id = c.id))",
    )?
    .query_row(params![routine, unit], |r| r.get(0))
}

/// Lists `people` on case `case_id`, none of them informed yet.
pub(crate) fn list_staff(conn: &Db, case_id: &str, people: &[String]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT INTO case_staff (case_id, person_id) VALUES (?1, ?2)")?;
    for person in people {
        stmt.execute(params![case_id, person])?;
    }
    Ok(())
}

/// One person on a unit's information case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub person_id: String,
    /// Who ticked them as informed (a person id), and when.
    pub informed_by: Option<String>,
    pub informed_at: Option<String>,
}

/// The people case `case_id` lists, by id (empty: not a unit's information case).
pub fn staff_of(conn: &Db, case_id: &str) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, informed_by, informed_at FROM case_staff WHERE case_id = ?1
         ORDER BY person_id",
    )?;
    let rows = stmt.query_map([case_id], |r| {
        Ok(Listed {
            person_id: r.get(0)?,
            informed_by: r.get(1)?,
            informed_at: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// Ticks `person` on case `case_id` of `routine` as informed by `by` at `now`, and records it
/// (keeping when they had been informed before, for an undo); false when they were already.
pub fn tick(
    conn: &Db,
    routine: &str,
    case_id: &str,
    person: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let earlier: Option<String> = conn
        .prepare_cached(
            "SELECT informed_at FROM staff_informed WHERE routine_id = ?1 AND person_id = ?2",
        )?
        .query_row(params![routine, person], |r| r.get(0))
        .optional()?;
    let ticked = conn
        .prepare_cached(
            "UPDATE case_staff SET informed_by = ?3, informed_at = ?4, earlier_at = ?5
             WHERE case_id = ?1 AND person_id = ?2 AND informed_at IS NULL",
        )?
        .execute(params![case_id, person, by, ts(now), earlier])?
        == 1;
    if ticked {
        record_informed(conn, routine, person, now)?;
    }
    Ok(ticked)
}

/// Takes back the tick of `person` on case `case_id` (a mistake): the record it made for
/// `routine` goes back to when they had been informed before, or goes; false when they were
/// not ticked.
pub(crate) fn untick(conn: &Db, routine: &str, case_id: &str, person: &str) -> Result<bool> {
    let row: Option<(Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT informed_at, earlier_at FROM case_staff WHERE case_id = ?1 AND person_id = ?2",
        )?
        .query_row(params![case_id, person], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((Some(at), earlier)) = row else {
        return Ok(false);
    };
    conn.prepare_cached(
        "UPDATE case_staff SET informed_by = NULL, informed_at = NULL, earlier_at = NULL
         WHERE case_id = ?1 AND person_id = ?2",
    )?
    .execute(params![case_id, person])?;
    match earlier {
        Some(earlier) => conn
            .prepare_cached(
                "UPDATE staff_informed SET informed_at = ?4
                 WHERE routine_id = ?1 AND person_id = ?2 AND informed_at = ?3",
            )?
            .execute(params![routine, person, at, earlier])?,
        None => conn
            .prepare_cached(
                "DELETE FROM staff_informed
                 WHERE routine_id = ?1 AND person_id = ?2 AND informed_at = ?3",
            )?
            .execute(params![routine, person, at])?,
    };
    Ok(true)
}

/// Notes that `routine` informed `person` at `now` (their latest time).
pub(crate) fn record_informed(
    conn: &Db,
    routine: &str,
    person: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO staff_informed (routine_id, person_id, informed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (routine_id, person_id) DO UPDATE SET informed_at = excluded.informed_at",
    )?
    .execute(params![routine, person, ts(now)])?;
    Ok(())
}

/// Everyone `routine` has informed (a case of their own closed as informed, or ticked on their
/// unit's list), kept after the case is purged.
pub(crate) fn informed_by_routine(conn: &Db, routine: &str) -> Result<BTreeSet<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT person_id FROM staff_informed WHERE routine_id = ?1")?;
    let rows = stmt.query_map([routine], |r| r.get::<String>(0))?;
    rows.collect::<Result<_>>()
}

/// Forgets when people removed from the roster were informed.
pub(crate) fn forget_removed(conn: &Db) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM staff_informed
         WHERE person_id IN (SELECT id FROM people WHERE removed_at IS NOT NULL)",
    )?
    .execute(())?;
    Ok(())
}

/// Every person (not removed) with an account in one of `systems`, by id.
pub fn account_holders(conn: &Db, systems: &[String]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT a.person_id FROM accounts a JOIN people p ON p.id = a.person_id
         WHERE a.system = ?1 AND p.removed_at IS NULL",
    )?;
    for system in systems {
        for id in stmt.query_map([system], |r| r.get::<String>(0))? {
            out.insert(id?);
        }
    }
    Ok(out)
}
