//! Read-only queries behind the overview pages: open steps grouped by unit and step, overdue
//! steps, and the coverage of this year's rounds. Nothing here writes.

use super::db::{Db, Value, params};
use super::{date, parse_date, ts};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

/// An open step past its due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OverdueRow {
    pub case_id: String,
    pub routine_id: String,
    pub routine_hash: String,
    pub unit_id: String,
    pub state: String,
    pub assignee_id: Option<String>,
    pub due_date: NaiveDate,
    pub escalated: bool,
}

/// Open steps due before `today`, the longest overdue first, at most `limit`; and how many
/// there are in all.
pub(crate) fn overdue(conn: &Db, today: NaiveDate, limit: usize) -> Result<(Vec<OverdueRow>, i64)> {
    let today = date(today);
    let total: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM cases c
             JOIN tasks t ON t.case_id = c.id AND t.answered_at IS NULL
             WHERE c.closed_at IS NULL AND t.due_date < ?1",
        )?
        .query_row([&today], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.routine_id, c.routine_hash, c.unit_id, t.state, t.assignee_id,
                t.due_date, t.escalated_at IS NOT NULL
         FROM cases c JOIN tasks t ON t.case_id = c.id AND t.answered_at IS NULL
         WHERE c.closed_at IS NULL AND t.due_date < ?1
         ORDER BY t.due_date, c.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![today, limit as i64], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<String>(3)?,
            r.get::<String>(4)?,
            r.get::<Option<String>>(5)?,
            r.get::<String>(6)?,
            r.get::<bool>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (case_id, routine_id, routine_hash, unit_id, state, assignee_id, due, escalated) = row?;
        out.push(OverdueRow {
            case_id,
            routine_id,
            routine_hash,
            unit_id,
            state,
            assignee_id,
            due_date: parse_date(&due)?,
            escalated,
        });
    }
    Ok((out, total))
}

/// The coverage of one unit by one routine's rounds in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitCoverage {
    pub unit_id: String,
    /// Users in the unit's population of at least one round.
    pub users: i64,
    /// Of those, the users drawn at least once (in any round of the routine in the period).
    pub drawn: i64,
}

/// For `routine_id`'s rounds with occurrences in `[from, before)`: per unit, the users in its
/// population and how many of them were drawn at least once.
pub(crate) fn coverage(
    conn: &Db,
    routine_id: &str,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<Vec<UnitCoverage>> {
    let mut stmt = conn.prepare_cached(
        "WITH m AS (
             SELECT m.person_id, m.unit_id, m.drawn FROM round_members m
             JOIN rounds r ON r.id = m.round_id
             WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3),
         drawn AS (SELECT DISTINCT person_id FROM m WHERE drawn IS NOT NULL)
         SELECT m.unit_id, COUNT(DISTINCT m.person_id),
                COUNT(DISTINCT CASE WHEN m.person_id IN (SELECT person_id FROM drawn)
                                    THEN m.person_id END)
         FROM m GROUP BY m.unit_id ORDER BY m.unit_id",
    )?;
    let rows = stmt.query_map(params![routine_id, ts(from), ts(before)], |r| {
        Ok(UnitCoverage {
            unit_id: r.get(0)?,
            users: r.get(1)?,
            drawn: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// How many users `routine_id`'s rounds in `[from, before)` had in all, and how many of them were
/// drawn at least once.
pub(crate) fn coverage_total(
    conn: &Db,
    routine_id: &str,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<(i64, i64)> {
    conn.prepare_cached(
        "SELECT COUNT(DISTINCT m.person_id),
                    COUNT(DISTINCT CASE WHEN m.drawn IS NOT NULL THEN m.person_id END)
             FROM round_members m JOIN rounds r ON r.id = m.round_id
             WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3",
    )?
    .query_row(params![routine_id, ts(from), ts(before)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// Open cases in all, for the overview's figures.
pub(crate) fn open_case_count(conn: &Db) -> Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM cases WHERE closed_at IS NULL")?
        .query_row((), |r| r.get(0))
}

/// What the overview's case list asks for; `None` is any.
#[derive(Debug, Default, Clone)]
pub(crate) struct CaseSearch<'a> {
    pub routine: Option<&'a str>,
    pub unit: Option<&'a str>,
    /// Open (`true`) or closed (`false`) cases.
    pub open: Option<bool>,
    pub result: Option<&'a str>,
    /// Only cases whose open step was due before this day.
    pub overdue_on: Option<NaiveDate>,
    /// What was searched for: a part of the case reference or the diary number, or the reviewed
    /// user's account (any case); with `persons` and `client`, any of them.
    pub text: Option<&'a str>,
    /// Cases reviewing any of these people (the people the search text names).
    pub persons: &'a [String],
    /// Cases about this client: their personal identity number, as 12 digits.
    pub client: Option<&'a str>,
    /// Rows skipped (paging) and the most returned.
    pub offset: usize,
    pub limit: usize,
}

/// A case in the list, with its open step (state, assignee, due date) when it has one.
#[derive(Debug, Clone)]
pub(crate) struct ListedCase {
    pub case: super::cases::CaseRow,
    pub step: Option<(String, Option<String>, NaiveDate)>,
}

/// The cases matching `search`, the newest first (`limit` of them after `offset`), and how many
/// match.
pub(crate) fn search_cases(conn: &Db, search: &CaseSearch) -> Result<(Vec<ListedCase>, i64)> {
    let like = search.text.map(|s| {
        s.trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    let overdue_on = search.overdue_on.map(date);
    // The client as stored: 12 digits, or with a `-` before the last four.
    let client_dash = search
        .client
        .filter(|c| c.len() == 12)
        .map(|c| format!("{}-{}", &c[..8], &c[8..]));
    let mut args: Vec<Value<'_>> = vec![
        search.routine.map_or(Value::Null, Value::Text),
        search.unit.map_or(Value::Null, Value::Text),
        search
            .open
            .map_or(Value::Null, |o| Value::Int(i64::from(o))),
        search.result.map_or(Value::Null, Value::Text),
        overdue_on.as_deref().map_or(Value::Null, Value::Text),
        like.as_deref().map_or(Value::Null, Value::Text),
        search.text.map_or(Value::Null, |t| Value::Text(t.trim())),
        search.client.map_or(Value::Null, Value::Text),
        client_dash.as_deref().map_or(Value::Null, Value::Text),
    ];
    let mut any = String::from(
        // Typed where PostgreSQL cannot tell a parameter's type from its use alone.
        "CAST(?6 AS TEXT) IS NULL AND CAST(?8 AS TEXT) IS NULL
         OR c.id LIKE '%' || CAST(?6 AS TEXT) || '%' ESCAPE '\\'
         OR c.diary_number LIKE '%' || CAST(?6 AS TEXT) || '%' ESCAPE '\\'
         OR LOWER(c.subject_account) = LOWER(CAST(?7 AS TEXT))
         OR c.client_ref = CAST(?8 AS TEXT) OR c.client_ref = CAST(?9 AS TEXT)",
    );
    if !search.persons.is_empty() {
        let first = args.len() + 1;
        let marks: Vec<String> = (first..first + search.persons.len())
            .map(|i| format!("?{i}"))
            .collect();
        any.push_str(&format!(
            " OR c.subject_person_id IN ({})",
            marks.join(", ")
        ));
        args.extend(search.persons.iter().map(|p| Value::Text(p)));
    }
    let filter = format!(
        "FROM cases c
         LEFT JOIN tasks t ON t.id =
             (SELECT MAX(id) FROM tasks WHERE case_id = c.id AND answered_at IS NULL)
         WHERE (c.routine_id = ?1 OR ?1 IS NULL) AND (c.unit_id = ?2 OR ?2 IS NULL)
           AND ((?3 = 1) = (c.closed_at IS NULL) OR ?3 IS NULL)
           AND (c.result = ?4 OR ?4 IS NULL)
           AND ((c.closed_at IS NULL AND t.due_date < ?5) OR ?5 IS NULL)
           AND ({any})"
    );
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) {filter}"))?
        .query_row(&args[..], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {}, t.state, t.assignee_id, t.due_date {filter}
         ORDER BY c.opened_at DESC, c.id DESC LIMIT {} OFFSET {}",
        super::cases::CASE_COLUMNS,
        search.limit,
        search.offset
    ))?;
    let n = super::cases::CASE_COLUMN_COUNT;
    let rows = stmt.query_map(&args[..], |r| {
        Ok((
            super::cases::case_row(r)?,
            r.get::<Option<String>>(n)?,
            r.get::<Option<String>>(n + 1)?,
            r.get::<Option<String>>(n + 2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (case, state, assignee, due) = row?;
        let step = match (state, due) {
            (Some(state), Some(due)) => Some((state, assignee, parse_date(&due)?)),
            _ => None,
        };
        out.push(ListedCase { case, step });
    }
    Ok((out, total))
}

/// The units and results that cases have, for the list's filters.
pub(crate) fn case_facets(conn: &Db) -> Result<(Vec<String>, Vec<String>)> {
    let list = |sql: &str| -> Result<Vec<String>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map((), |r| r.get(0))?;
        rows.collect::<Result<_>>()
    };
    Ok((
        list("SELECT DISTINCT unit_id FROM cases ORDER BY unit_id")?,
        list("SELECT DISTINCT result FROM cases WHERE result IS NOT NULL ORDER BY result")?,
    ))
}

/// The year of the first case opened, by its stored UTC time (`None`: no cases yet).
pub(crate) fn first_case_year(conn: &Db) -> Result<Option<i32>> {
    let first: Option<String> = conn
        .prepare_cached("SELECT MIN(opened_at) FROM cases")?
        .query_row((), |r| r.get(0))?;
    Ok(first.and_then(|t| t.get(..4)?.parse().ok()))
}
