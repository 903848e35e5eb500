//! Counts and lists the simulation and the demo read back from a run: how many people, cases,
//! emails; results; who was drawn in which rounds; the open steps to answer next. Nothing here
//! writes.

use super::db::{Db, OptionalExtension, params};
use crate::Result;

/// `SELECT COUNT(*)` of a whole table (`people`, `cases`, `outbox`), or of the closed cases.
pub(crate) fn count(conn: &Db, what: Count) -> Result<i64> {
    let sql = match what {
        Count::People => "SELECT COUNT(*) FROM people",
        Count::Cases => "SELECT COUNT(*) FROM cases",
        Count::ClosedCases => "SELECT COUNT(*) FROM cases WHERE closed_at IS NOT NULL",
        Count::Emails => "SELECT COUNT(*) FROM outbox",
    };
    conn.prepare_cached(sql)?.query_row((), |r| r.get(0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    People,
    Cases,
    ClosedCases,
    Emails,
}

/// Closed cases by result.
pub(crate) fn results(conn: &Db) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT result, COUNT(*) FROM cases WHERE result IS NOT NULL GROUP BY result",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// Per person in `routine`'s rounds at `[start, end)` (stored instants): how many rounds they
/// were in, and whether they were drawn in any.
pub(crate) fn membership(
    conn: &Db,
    routine: &str,
    start: &str,
    end: &str,
) -> Result<Vec<(String, i64, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.person_id, COUNT(*), MAX(CASE WHEN m.drawn IS NOT NULL THEN 1 ELSE 0 END) FROM round_members m
         JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3
         GROUP BY m.person_id",
    )?;
    let rows = stmt.query_map(params![routine, start, end], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect::<Result<_>>()
}

/// `routine`'s rounds at `[start, end)` (stored instants).
pub(crate) fn rounds_between(conn: &Db, routine: &str, start: &str, end: &str) -> Result<i64> {
    conn
        .prepare_cached(
            "SELECT COUNT(*) FROM rounds WHERE routine_id = ?1 AND occurrence >= ?2 AND occurrence < ?3",
        )?
        .query_row(params![routine, start, end], |r| r.get(0))
}

/// The ids of the open steps.
pub(crate) fn open_task_ids(conn: &Db) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM tasks WHERE answered_at IS NULL")?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// An open step as the simulation answers it.
#[derive(Debug, Clone)]
pub(crate) struct OpenStep {
    pub task_id: i64,
    pub case_id: String,
    pub state: String,
    pub assignee: Option<String>,
    pub started_at: String,
    pub due_date: String,
    pub routine_hash: String,
}

/// The open steps after task `seen`, by id.
pub(crate) fn open_steps_after(conn: &Db, seen: i64) -> Result<Vec<OpenStep>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.case_id, t.state, t.assignee_id, t.started_at, t.due_date, c.routine_hash
         FROM tasks t JOIN cases c ON c.id = t.case_id
         WHERE t.id > ?1 AND t.answered_at IS NULL ORDER BY t.id",
    )?;
    let rows = stmt.query_map([seen], |r| {
        Ok(OpenStep {
            task_id: r.get(0)?,
            case_id: r.get(1)?,
            state: r.get(2)?,
            assignee: r.get(3)?,
            started_at: r.get(4)?,
            due_date: r.get(5)?,
            routine_hash: r.get(6)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// The units where someone is enhetschef.
pub(crate) fn units_with_a_manager(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT unit_id FROM person_roles WHERE role = 'unit_manager' ORDER BY 1",
    )?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// The first person listed at `unit` (their first unit), if any.
pub(crate) fn first_member(conn: &Db, unit: &str) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT person_id FROM person_units WHERE unit_id = ?1 AND position = 0 LIMIT 1",
    )?
    .query_row([unit], |r| r.get(0))
    .optional()
}
