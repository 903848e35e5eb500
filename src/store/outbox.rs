//! The outbox: emails written in the same transaction as the event that causes them, delivered
//! later by a sender that retries and marks them sent. A row holds the template name and the
//! values to render it with; the sender renders it. A message's Message-ID comes from its row, so
//! a retried delivery is recognisably the same message.

use super::db::{Db, OptionalExtension, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, Utc};

pub struct NewMessage<'a> {
    pub purpose: &'a str,
    pub case_id: Option<&'a str>,
    pub task_id: Option<i64>,
    pub recipient_id: Option<&'a str>,
    pub to_addr: &'a str,
    /// The mail template (`templates/mail/NAME.txt` and `.html`).
    pub template: &'a str,
    /// The values it is rendered with, as JSON.
    pub context: &'a str,
    /// The step's due date, for a calendar invitation.
    pub due_date: Option<&'a str>,
    /// Held for the recipient's daily digest instead of sent on its own.
    pub held: bool,
}

pub fn insert(conn: &Db, m: &NewMessage, now: DateTime<Utc>) -> Result<i64> {
    conn.insert_id(
        "INSERT INTO outbox (created_at, purpose, case_id, task_id, recipient_id, to_addr, template,
            context, due_date, next_attempt_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?1, ?10)",
        params![
            ts(now),
            m.purpose,
            m.case_id,
            m.task_id,
            m.recipient_id,
            m.to_addr,
            m.template,
            m.context,
            m.due_date,
            if m.held { "held" } else { "queued" }
        ],
    )
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub created_at: String,
    pub purpose: String,
    pub case_id: Option<String>,
    pub task_id: Option<i64>,
    pub recipient_id: Option<String>,
    pub to: String,
    pub template: String,
    #[serde(skip)]
    pub context: String,
    pub due_date: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

const COLUMNS: &str = "id, created_at, purpose, case_id, task_id, recipient_id, to_addr, template,
    context, due_date, status, attempts, next_attempt_at, last_error, sent_at";

fn row(r: &super::db::Row) -> Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        created_at: r.get(1)?,
        purpose: r.get(2)?,
        case_id: r.get(3)?,
        task_id: r.get(4)?,
        recipient_id: r.get(5)?,
        to: r.get(6)?,
        template: r.get(7)?,
        context: r.get(8)?,
        due_date: r.get(9)?,
        status: r.get(10)?,
        attempts: r.get(11)?,
        next_attempt_at: r.get(12)?,
        last_error: r.get(13)?,
        sent_at: r.get(14)?,
    })
}

/// Queued messages whose next attempt is due, oldest first.
pub fn due(conn: &Db, now: DateTime<Utc>, limit: usize) -> Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![ts(now), limit as i64], row)?;
    rows.collect::<Result<_>>()
}

pub fn get(conn: &Db, id: i64) -> Result<Option<MessageRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?
        .query_row([id], row)
        .optional()
}

pub fn list(conn: &Db, status: Option<&str>) -> Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE (status = ?1 OR ?1 IS NULL) ORDER BY id"
    ))?;
    let rows = stmt.query_map([status], row)?;
    rows.collect::<Result<_>>()
}

pub(crate) fn mark_sent(conn: &Db, id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL
         WHERE id = ?1 AND status = 'queued'",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}

pub(crate) fn mark_retry(conn: &Db, id: i64, error: &str, next: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND status = 'queued'",
    )?
    .execute(params![id, error, ts(next)])?;
    Ok(())
}

pub(crate) fn mark_failed(conn: &Db, id: i64, error: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2
         WHERE id = ?1 AND status = 'queued'",
    )?
    .execute(params![id, error])?;
    Ok(())
}

/// Withdraws the queued and held step emails that are no longer true: the case was closed, the
/// step answered, or (a task notice or reminder) the step given to someone else, before the email
/// went out. Each keeps its reason in `last_error` and the status `withdrawn`; an escalation is
/// withdrawn only when its step is answered or its case closed. Returns how many.
pub(crate) fn withdraw_stale(conn: &Db) -> Result<usize> {
    const STALE: [(&str, &str); 3] = [
        (
            "c.closed_at IS NOT NULL",
            "withdrawn: the case was closed before the email went out",
        ),
        (
            "t.answered_at IS NOT NULL",
            "withdrawn: the step was answered before the email went out",
        ),
        (
            "outbox.purpose IN ('task', 'reminder') AND outbox.recipient_id IS NOT NULL
             AND outbox.recipient_id <> COALESCE(t.assignee_id, '')
             AND outbox.recipient_id <> COALESCE(t.holder_id, '')",
            "withdrawn: the step was given to someone else before the email went out",
        ),
    ];
    let mut n = 0;
    for (when, why) in STALE {
        n += conn
            .prepare_cached(&format!(
                "UPDATE outbox SET status = 'withdrawn', last_error = ?1
                 WHERE status IN ('queued', 'held') AND task_id IS NOT NULL
                   AND purpose IN ('task', 'reminder', 'escalation')
                   AND EXISTS (SELECT 1 FROM tasks t JOIN cases c ON c.id = t.case_id
                               WHERE t.id = outbox.task_id AND {when})"
            ))?
            .execute([why])?;
    }
    Ok(n)
}

/// Withdraws the queued and held task emails of step `task_id` (a newer link replaces them);
/// returns how many.
pub(crate) fn withdraw_task_emails(conn: &Db, task_id: i64, why: &str) -> Result<usize> {
    conn.prepare_cached(
        "UPDATE outbox SET status = 'withdrawn', last_error = ?2
         WHERE task_id = ?1 AND purpose = 'task' AND status IN ('queued', 'held')",
    )?
    .execute(params![task_id, why])
}

/// The failed messages' ids, oldest first.
pub(crate) fn failed_ids(conn: &Db) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM outbox WHERE status = 'failed' ORDER BY id")?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// Queues failed message `id` again, to `to`, at once; false when it is not a failed message.
pub(crate) fn requeue(conn: &Db, id: i64, to: &str, now: DateTime<Utc>) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET status = 'queued', attempts = 0, last_error = NULL,
                 next_attempt_at = ?2, to_addr = ?3
             WHERE id = ?1 AND status = 'failed'",
        )?
        .execute(params![id, ts(now), to])?
        == 1)
}

/// How many messages wait in the queue (due or not).
pub(crate) fn queued_count(conn: &Db) -> Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")?
        .query_row((), |r| r.get(0))
}

/// Counts by status.
pub fn counts(conn: &Db) -> Result<(i64, i64, i64)> {
    conn.query_row(
        "SELECT COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox",
        (),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Recipients with messages held for their digest.
pub(crate) fn held_recipients(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT recipient_id FROM outbox WHERE status = 'held' AND recipient_id IS NOT NULL ORDER BY 1",
    )?;
    let rows = stmt.query_map((), |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// Whether `recipient` has had a digest for `day`.
pub(crate) fn has_digest(conn: &Db, recipient: &str, day: &str) -> Result<bool> {
    conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE recipient_id = ?1 AND purpose = 'digest' AND digest_day = ?2)",
        )?
        .query_row(params![recipient, day], |r| r.get(0))
}

/// The messages held for `recipient`, oldest first.
pub fn held(conn: &Db, recipient: &str) -> Result<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE status = 'held' AND recipient_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([recipient], row)?;
    rows.collect::<Result<_>>()
}

/// Marks held messages as included in a digest.
pub(crate) fn mark_digested(conn: &Db, ids: &[i64]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET status = 'digested' WHERE id = ?1 AND status = 'held'",
    )?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// Sets the day a digest row is for.
pub(crate) fn set_digest_day(conn: &Db, id: i64, day: &str) -> Result<()> {
    conn.prepare_cached("UPDATE outbox SET digest_day = ?2 WHERE id = ?1")?
        .execute(params![id, day])?;
    Ok(())
}

/// The emails queued for case `case`: (purpose, recipient mailbox), in order.
pub(crate) fn recipients_of_case(conn: &Db, case: &str) -> Result<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT purpose, to_addr FROM outbox WHERE case_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([case], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}
