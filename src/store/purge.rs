//! What the purge reads and deletes: closed cases and rounds past their retention, old summary
//! emails, and a purged case's personal rows. The rules (who is due, what is frozen first) are
//! `records::purge`'s.

use super::db::{Db, OptionalExtension, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, Utc};

/// Every routine version ever run.
pub(crate) fn version_hashes(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT hash FROM routine_versions ORDER BY hash")?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// A closed case that may be due: (id, routine, system, closed at, opened at, systems).
pub(crate) type ClosedCase = (String, String, String, String, String, Option<String>);

/// The closed, unpurged cases of version `hash` closed by `cutoff`, oldest first.
pub(crate) fn closed_cases(
    conn: &Db,
    hash: &str,
    cutoff: DateTime<Utc>,
) -> Result<Vec<ClosedCase>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, routine_id, system, closed_at, opened_at, systems FROM cases
         WHERE routine_hash = ?1 AND purged_at IS NULL AND closed_at IS NOT NULL AND closed_at <= ?2
         ORDER BY closed_at, id",
    )?;
    let rows = stmt.query_map(params![hash, ts(cutoff)], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    rows.collect::<Result<_>>()
}

/// Rounds that still have members: (round, routine, version hash, occurrence), oldest first.
pub(crate) fn rounds_with_members(conn: &Db) -> Result<Vec<(i64, String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.routine_id, r.routine_hash, r.occurrence FROM rounds r
         WHERE EXISTS (SELECT 1 FROM round_members m WHERE m.round_id = r.id)
         ORDER BY r.occurrence",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect::<Result<_>>()
}

/// The unpurged cases of a round.
pub(crate) fn unpurged_cases_of_round(conn: &Db, round: i64) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM cases WHERE round_id = ?1 AND purged_at IS NULL")?;
    let rows = stmt.query_map([round], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// Whether `routine` made a summary at or before `cutoff`.
pub(crate) fn summary_made_by(conn: &Db, routine: &str, cutoff: DateTime<Utc>) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM summaries WHERE routine_id = ?1 AND created_at <= ?2)",
    )?
    .query_row(params![routine, ts(cutoff)], |r| r.get(0))
}

/// Summary emails of `routine` made by `cutoff` (sent or failed) that still hold their values.
pub(crate) fn old_summary_mails(
    conn: &Db,
    routine: &str,
    cutoff: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM outbox WHERE purpose = 'summary' AND status != 'queued'
           AND created_at <= ?1 AND context != '{}'
           AND json_extract(context, '$.routine_id') = ?2",
    )?;
    let rows = stmt.query_map(params![ts(cutoff), routine], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// Empties an email: its values and attachments go, its row (when, to whom) stays.
pub(crate) fn empty_email(conn: &Db, id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE outbox SET context = '{}' WHERE id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM outbox_attachments WHERE outbox_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Forgets who was in a round.
pub(crate) fn forget_round_members(conn: &Db, round: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM round_members WHERE round_id = ?1")?
        .execute([round])?;
    Ok(())
}

/// The system of `routine`'s round cases (any one), for its frozen counts.
pub(crate) fn round_system(conn: &Db, routine: &str) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT c.system FROM cases c JOIN rounds r ON r.id = c.round_id
             WHERE r.routine_id = ?1 LIMIT 1",
    )?
    .query_row([routine], |r| r.get(0))
    .optional()
}

/// Erases a purged case's personal rows: the reviewed user's membership of its round, its steps
/// and timers, who and whom and when on the case, the staff it listed, its emails' values and
/// attachments. The case row stays, marked purged at `now`.
pub(crate) fn erase_case(
    conn: &Db,
    id: &str,
    member: Option<(i64, &str)>,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some((round, person)) = member {
        conn.prepare_cached("DELETE FROM round_members WHERE round_id = ?1 AND person_id = ?2")?
            .execute(params![round, person])?;
    }
    conn.prepare_cached(
        "DELETE FROM timers WHERE task_id IN (SELECT id FROM tasks WHERE case_id = ?1)",
    )?
    .execute([id])?;
    conn.prepare_cached("DELETE FROM tasks WHERE case_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM case_staff WHERE case_id = ?1")?
        .execute([id])?;
    conn.prepare_cached(
        "UPDATE cases SET subject_person_id = NULL, subject_account = NULL, client_ref = NULL,
         client_name = NULL, client_address = NULL,
            window_start = NULL, window_end = NULL, reason = NULL, purged_at = ?2
         WHERE id = ?1",
    )?
    .execute(params![id, ts(now)])?;
    conn.prepare_cached("UPDATE outbox SET context = '{}' WHERE case_id = ?1")?
        .execute([id])?;
    conn.prepare_cached(
        "DELETE FROM outbox_attachments WHERE outbox_id IN (SELECT id FROM outbox WHERE case_id = ?1)",
    )?
    .execute([id])?;
    Ok(())
}
