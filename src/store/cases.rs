//! Cases, their steps (tasks) and the timers of open steps.

use super::db::{Db, OptionalExtension, params};
use super::{date, parse_date, ts};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};

/// Reserves `count` case references of `prefix` and `year` at once; returns the first number.
pub(crate) fn reserve_references(conn: &Db, prefix: &str, year: i32, count: usize) -> Result<i64> {
    let count = count as i64;
    conn.prepare_cached(
        "INSERT INTO case_counters (prefix, year, next) VALUES (?1, ?2, 1 + ?3)
             ON CONFLICT (prefix, year) DO UPDATE SET next = case_counters.next + ?3
             RETURNING next - ?3",
    )?
    .query_row(params![prefix, year, count], |r| r.get(0))
}

/// The reference `PREFIX-YEAR-NNNN`.
pub fn reference(prefix: &str, year: i32, n: i64) -> String {
    format!("{prefix}-{year}-{n:04}")
}

/// The next case reference `PREFIX-YEAR-NNNN`, counted per prefix and year.
pub(crate) fn next_reference(conn: &Db, prefix: &str, year: i32) -> Result<String> {
    let n: i64 = conn
        .prepare_cached(
            "INSERT INTO case_counters (prefix, year, next) VALUES (?1, ?2, 2)
             ON CONFLICT (prefix, year) DO UPDATE SET next = case_counters.next + 1
             RETURNING next - 1",
        )?
        .query_row(params![prefix, year], |r| r.get(0))?;
    Ok(format!("{prefix}-{year}-{n:04}"))
}

pub(crate) struct NewCase<'a> {
    pub id: &'a str,
    pub routine_id: &'a str,
    pub routine_hash: &'a str,
    pub kind: &'a str,
    pub system: &'a str,
    pub unit_id: &'a str,
    pub round_id: Option<i64>,
    pub subject_person_id: Option<&'a str>,
    pub subject_account: Option<&'a str>,
    pub client_ref: Option<&'a str>,
    /// The client's name and postal address, for the extract letter.
    pub client_name: Option<&'a str>,
    pub client_address: Option<&'a str>,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub reason: Option<&'a str>,
    pub state: &'a str,
    pub opened_by: &'a str,
    /// Every system the case reviews, when it reviews more than `system` alone.
    pub systems: Option<&'a [String]>,
}

pub(crate) fn insert_case(conn: &Db, c: &NewCase, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cases (id, routine_id, routine_hash, kind, system, unit_id, round_id,
            subject_person_id, subject_account, client_ref, window_start, window_end, reason,
            state, opened_at, opened_by, systems, client_name, client_address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19)",
    )?
    .execute(params![
        c.id,
        c.routine_id,
        c.routine_hash,
        c.kind,
        c.system,
        c.unit_id,
        c.round_id,
        c.subject_person_id,
        c.subject_account,
        c.client_ref,
        c.window_start.map(ts),
        c.window_end.map(ts),
        c.reason,
        c.state,
        ts(now),
        c.opened_by,
        c.systems.map(|s| s.join(";")),
        c.client_name,
        c.client_address
    ])?;
    Ok(())
}

pub(crate) fn set_state(conn: &Db, case_id: &str, state: &str) -> Result<()> {
    conn.prepare_cached("UPDATE cases SET state = ?2 WHERE id = ?1 AND state != ?2")?
        .execute(params![case_id, state])?;
    Ok(())
}

pub fn close(
    conn: &Db,
    case_id: &str,
    state: &str,
    result: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached("UPDATE cases SET state = ?2, result = ?3, closed_at = ?4 WHERE id = ?1")?
        .execute(params![case_id, state, result, ts(now)])?;
    Ok(())
}

pub(crate) struct NewTask<'a> {
    pub case_id: &'a str,
    pub state: &'a str,
    pub role: &'a str,
    pub assignee_id: Option<&'a str>,
    pub holder_id: Option<&'a str>,
    pub due_date: NaiveDate,
}

pub(crate) fn insert_task(conn: &Db, t: &NewTask, now: DateTime<Utc>) -> Result<i64> {
    conn.insert_id(
        "INSERT INTO tasks (case_id, state, role, assignee_id, holder_id, started_at, due_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.case_id,
            t.state,
            t.role,
            t.assignee_id,
            t.holder_id,
            ts(now),
            date(t.due_date)
        ],
    )
}

pub(crate) fn insert_timer(
    conn: &Db,
    task_id: i64,
    ordinal: usize,
    kind: &str,
    label: &str,
    fire_at: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO timers (task_id, ordinal, kind, label, fire_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![task_id, ordinal as i64, kind, label, ts(fire_at)])?;
    Ok(())
}

/// Records the answer of an open task; false when it was answered already.
pub(crate) fn answer_task(
    conn: &Db,
    task_id: i64,
    outcome: &str,
    by: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE tasks SET answered_at = ?2, outcome = ?3, answered_by = ?4, comment = ?5
             WHERE id = ?1 AND answered_at IS NULL",
        )?
        .execute(params![task_id, ts(now), outcome, by, comment])?;
    conn.prepare_cached("DELETE FROM timers WHERE task_id = ?1 AND fired_at IS NULL")?
        .execute([task_id])?;
    Ok(n == 1)
}

/// Gives an open step to another person.
pub fn reassign(conn: &Db, task_id: i64, assignee: &str, holder: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE tasks SET assignee_id = ?2, holder_id = ?3 WHERE id = ?1 AND answered_at IS NULL",
    )?
    .execute(params![task_id, assignee, holder])?;
    Ok(())
}

/// Moves a step's link to its next generation (older links stop working); the new one.
pub(crate) fn next_link_generation(conn: &Db, task_id: i64) -> Result<u32> {
    conn.prepare_cached(
        "UPDATE tasks SET link_generation = link_generation + 1 WHERE id = ?1
             RETURNING link_generation",
    )?
    .query_row([task_id], |r| r.get(0))
}

pub(crate) fn mark_escalated(conn: &Db, task_id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE tasks SET escalated_at = ?2 WHERE id = ?1 AND escalated_at IS NULL",
    )?
    .execute(params![task_id, ts(now)])?;
    Ok(())
}

/// A case row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: String,
    pub routine_id: String,
    pub routine_hash: String,
    pub kind: String,
    pub system: String,
    pub unit_id: String,
    pub round_id: Option<i64>,
    pub subject_person_id: Option<String>,
    pub subject_account: Option<String>,
    pub client_ref: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub reason: Option<String>,
    pub state: String,
    pub opened_at: String,
    pub opened_by: String,
    pub closed_at: Option<String>,
    pub result: Option<String>,
    pub handed_out_at: Option<String>,
    pub purged_at: Option<String>,
    /// The systems the case reviews (at least `system`).
    pub systems: Vec<String>,
    pub client_name: Option<String>,
    pub client_address: Option<String>,
    /// The organisation's diary number (*diarienummer*), when quality staff have set one.
    pub diary_number: Option<String>,
}

pub(crate) const CASE_COLUMNS: &str =
    "c.id, c.routine_id, c.routine_hash, c.kind, c.system, c.unit_id, c.round_id,
    c.subject_person_id, c.subject_account, c.client_ref, c.window_start, c.window_end, c.reason,
    c.state, c.opened_at, c.opened_by, c.closed_at, c.result, c.handed_out_at, c.purged_at,
    c.systems, c.client_name, c.client_address, c.diary_number";

/// How many columns [`CASE_COLUMNS`] names: a query's own columns follow at this index.
pub(crate) const CASE_COLUMN_COUNT: usize = 24;

pub(crate) fn case_row(r: &super::db::Row) -> Result<CaseRow> {
    let system: String = r.get(4)?;
    let systems = match r.get::<Option<String>>(20)? {
        Some(list) if !list.is_empty() => list.split(';').map(str::to_string).collect(),
        _ => vec![system.clone()],
    };
    Ok(CaseRow {
        id: r.get(0)?,
        routine_id: r.get(1)?,
        routine_hash: r.get(2)?,
        kind: r.get(3)?,
        system,
        unit_id: r.get(5)?,
        round_id: r.get(6)?,
        subject_person_id: r.get(7)?,
        subject_account: r.get(8)?,
        client_ref: r.get(9)?,
        window_start: r.get(10)?,
        window_end: r.get(11)?,
        reason: r.get(12)?,
        state: r.get(13)?,
        opened_at: r.get(14)?,
        opened_by: r.get(15)?,
        closed_at: r.get(16)?,
        result: r.get(17)?,
        handed_out_at: r.get(18)?,
        purged_at: r.get(19)?,
        systems,
        client_name: r.get(21)?,
        client_address: r.get(22)?,
        diary_number: r.get(CASE_COLUMN_COUNT - 1)?,
    })
}

/// Sets (or, with `None`, clears) the diary number of case `id`; the one it had.
pub(crate) fn set_diary_number(
    conn: &Db,
    id: &str,
    number: Option<&str>,
) -> Result<Option<String>> {
    let before: Option<String> = conn
        .prepare_cached("SELECT diary_number FROM cases WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    conn.prepare_cached("UPDATE cases SET diary_number = ?2 WHERE id = ?1")?
        .execute(params![id, number])?;
    Ok(before)
}

pub fn get(conn: &Db, id: &str) -> Result<Option<CaseRow>> {
    conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = ?1"
    ))?
    .query_row([id], case_row)
    .optional()
}

#[derive(Debug, Default, Clone)]
pub struct Filter<'a> {
    pub routine: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub state: Option<&'a str>,
    pub open_only: bool,
}

/// Cases matching `filter`, oldest first, handed to `each` one at a time (memory stays flat).
pub fn for_each(
    conn: &Db,
    filter: &Filter,
    mut each: impl FnMut(CaseRow) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c
         WHERE (c.routine_id = ?1 OR ?1 IS NULL) AND (c.unit_id = ?2 OR ?2 IS NULL)
           AND (c.state = ?3 OR ?3 IS NULL) AND (?4 = 0 OR c.closed_at IS NULL)
         ORDER BY c.opened_at, c.id"
    ))?;
    let mut rows = stmt.query(params![
        filter.routine,
        filter.unit,
        filter.state,
        filter.open_only
    ])?;
    while let Some(r) = rows.next()? {
        each(case_row(&r)?)?;
    }
    Ok(())
}

/// A step of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: i64,
    pub case_id: String,
    pub state: String,
    pub role: String,
    pub assignee_id: Option<String>,
    pub holder_id: Option<String>,
    pub started_at: String,
    pub due_date: NaiveDate,
    pub answered_at: Option<String>,
    pub outcome: Option<String>,
    pub answered_by: Option<String>,
    pub comment: Option<String>,
    pub escalated_at: Option<String>,
    /// Links of an older generation no longer open the step (`links::Claims::generation`).
    pub link_generation: u32,
}

const TASK_COLUMNS: &str = "id, case_id, state, role, assignee_id, holder_id, started_at, due_date,
    answered_at, outcome, answered_by, comment, escalated_at, link_generation";

fn task_row(r: &super::db::Row) -> Result<(TaskRow, String)> {
    Ok((
        TaskRow {
            id: r.get(0)?,
            case_id: r.get(1)?,
            state: r.get(2)?,
            role: r.get(3)?,
            assignee_id: r.get(4)?,
            holder_id: r.get(5)?,
            started_at: r.get(6)?,
            due_date: NaiveDate::MIN,
            answered_at: r.get(8)?,
            outcome: r.get(9)?,
            answered_by: r.get(10)?,
            comment: r.get(11)?,
            escalated_at: r.get(12)?,
            link_generation: r.get(13)?,
        },
        r.get(7)?,
    ))
}

fn finish(pair: (TaskRow, String)) -> Result<TaskRow> {
    let (mut t, due) = pair;
    t.due_date = parse_date(&due)?;
    Ok(t)
}

pub(crate) fn tasks_of(conn: &Db, case_id: &str) -> Result<Vec<TaskRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE case_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([case_id], task_row)?;
    rows.map(|r| finish(r?)).collect()
}

pub fn task(conn: &Db, id: i64) -> Result<Option<TaskRow>> {
    conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))?
        .query_row([id], task_row)
        .optional()?
        .map(finish)
        .transpose()
}

/// The open step of a case, if any.
pub(crate) fn open_task(conn: &Db, case_id: &str) -> Result<Option<TaskRow>> {
    conn.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE case_id = ?1 AND answered_at IS NULL ORDER BY id DESC LIMIT 1"
    ))?
    .query_row([case_id], task_row)
    .optional()?
    .map(finish)
    .transpose()
}

/// A timer due now.
#[derive(Debug, Clone)]
pub(crate) struct DueTimer {
    pub id: i64,
    pub task_id: i64,
    pub ordinal: usize,
    pub kind: String,
    pub label: String,
}

pub(crate) fn due_timers(conn: &Db, now: DateTime<Utc>, limit: usize) -> Result<Vec<DueTimer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, task_id, ordinal, kind, label FROM timers
         WHERE fired_at IS NULL AND fire_at <= ?1 ORDER BY fire_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![ts(now), limit as i64], |r| {
        Ok(DueTimer {
            id: r.get(0)?,
            task_id: r.get(1)?,
            ordinal: r.get::<i64>(2)?.max(0) as usize,
            kind: r.get(3)?,
            label: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// Marks timer `id` fired; false when it had been already.
pub(crate) fn fire_timer(conn: &Db, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let n = conn
        .prepare_cached("UPDATE timers SET fired_at = ?2 WHERE id = ?1 AND fired_at IS NULL")?
        .execute(params![id, ts(now)])?;
    Ok(n == 1)
}

/// Refuses a case id that does not exist, with a did-you-mean among near references.
pub fn require(conn: &Db, id: &str) -> Result<CaseRow> {
    get(conn, id)?.ok_or_else(|| Error::usage(format!("no case `{id}`")))
}

/// The open steps of `person`: (task, case).
pub(crate) fn open_tasks_of(conn: &Db, person: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, case_id FROM tasks WHERE assignee_id = ?1 AND answered_at IS NULL",
    )?;
    let rows = stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// Open steps per routine version and state: (routine, hash, state, count).
pub(crate) fn open_states(conn: &Db) -> Result<Vec<(String, String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT routine_id, routine_hash, state, COUNT(*) FROM cases
         WHERE closed_at IS NULL GROUP BY routine_id, routine_hash, state ORDER BY 1, 3",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect::<Result<_>>()
}

/// Closed cases (not extracts) whose protocols a demo files: every one that went further than
/// "no finding", and the first `no_finding` few.
pub(crate) fn closed_for_protocols(conn: &Db, no_finding: usize) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM cases WHERE closed_at IS NOT NULL AND kind != 'extract'
         AND (result != 'no_finding'
              OR id IN (SELECT id FROM cases WHERE result = 'no_finding' ORDER BY id LIMIT ?1))
         ORDER BY id",
    )?;
    let rows = stmt.query_map([no_finding as i64], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

#[cfg(test)]
mod tests {
    #[test]
    fn case_column_count_counts_the_case_columns() {
        assert_eq!(
            super::CASE_COLUMNS.split(',').count(),
            super::CASE_COLUMN_COUNT
        );
    }
}
