//! Care relationships and work shifts in the database (`care_relations`, `work_shifts`, with
//! each import in `context_imports`), and the judgements "justified" a later access may lean on.
//! An import adds rows and sets the end of rows already there.

use super::db::{Db, params};
use super::{date, parse_date, ts};
use crate::Result;
use crate::roster::context_files::{Relation, Shift};
use crate::sym::Sym;
use chrono::{DateTime, NaiveDate, Utc};

/// One stored care relationship (the texts kept once: a copy is a copy of pointers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RelationRow {
    /// Empty: every system.
    pub system: Sym,
    pub client: u64,
    pub unit: Sym,
    /// Empty: nobody named.
    pub person: Sym,
    pub kind: Sym,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// One stored shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShiftRow {
    pub person: Sym,
    pub unit: Sym,
    /// Unix seconds, `[start, end)`.
    pub start: i64,
    pub end: i64,
}

/// The longest shift stored (`context_files`): how far before a time a shift containing it
/// may start.
pub(crate) const SHIFT_REACH: i64 = 48 * 3600;

/// One import of relations or shifts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContextImport {
    pub id: i64,
    /// `relations` or `shifts`.
    pub kind: String,
    pub file: String,
    pub system: String,
    pub imported_at: String,
    pub rows: i64,
    /// Rows not stored before.
    pub added: i64,
    pub digest: String,
}

/// Records an import (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_import(
    conn: &Db,
    kind: &str,
    file: &str,
    system: &str,
    actor: &str,
    now: DateTime<Utc>,
    rows: usize,
    digest: &str,
) -> Result<ContextImport> {
    let id: i64 = conn.query_row(
        "INSERT INTO context_imports (id, kind, file, system, actor, imported_at, rows, added, digest)
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM context_imports), ?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
         RETURNING id",
        params![kind, file, system, actor, ts(now), rows as i64, digest],
        |r| r.get(0),
    )?;
    Ok(ContextImport {
        id,
        kind: kind.to_string(),
        file: file.to_string(),
        system: system.to_string(),
        imported_at: ts(now),
        rows: rows as i64,
        added: 0,
        digest: digest.to_string(),
    })
}

/// Sets how many rows an import added.
pub(crate) fn set_added(conn: &Db, import: &mut ContextImport, added: i64) -> Result<()> {
    conn.execute(
        "UPDATE context_imports SET added = ?1 WHERE id = ?2",
        params![added, import.id],
    )?;
    import.added = added;
    Ok(())
}

fn count(conn: &Db, table: &str) -> Result<i64> {
    let sql = match table {
        "care_relations" => "SELECT COUNT(*) FROM care_relations",
        _ => "SELECT COUNT(*) FROM work_shifts",
    };
    conn.query_row(sql, (), |r| r.get(0))
}

/// Stores `relations` of `system` (empty: every system); returns how many were new.
pub(crate) fn upsert_relations(
    conn: &Db,
    import: i64,
    system: &str,
    relations: &[Relation],
) -> Result<i64> {
    let before = count(conn, "care_relations")?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO care_relations (system, client, unit_id, person_id, kind, from_day, to_day, import_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (client, system, unit_id, person_id, kind, from_day)
         DO UPDATE SET to_day = excluded.to_day, import_id = excluded.import_id",
    )?;
    for r in relations {
        stmt.execute(params![
            system,
            r.client as i64,
            r.unit,
            r.person,
            r.kind,
            date(r.from),
            r.to.map(date),
            import
        ])?;
    }
    Ok(count(conn, "care_relations")? - before)
}

/// Stores `shifts`; returns how many were new.
pub(crate) fn upsert_shifts(conn: &Db, import: i64, shifts: &[Shift]) -> Result<i64> {
    let before = count(conn, "work_shifts")?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO work_shifts (person_id, start_at, unit_id, end_at, import_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (person_id, start_at, unit_id)
         DO UPDATE SET end_at = excluded.end_at, import_id = excluded.import_id",
    )?;
    for s in shifts {
        stmt.execute(params![
            s.person,
            s.start.timestamp(),
            s.unit,
            s.end.timestamp(),
            import
        ])?;
    }
    Ok(count(conn, "work_shifts")? - before)
}

/// Column `i` as a day (`None`: NULL), read without a copy.
fn day_col(r: &super::db::Row<'_>, i: usize) -> Result<Option<NaiveDate>> {
    match r.get_ref(i)? {
        super::db::Value::Null => Ok(None),
        super::db::Value::Text(s) => parse_date(s).map(Some),
        _ => Err(crate::Error::runtime(format!(
            "database: column {i} holds no day"
        ))),
    }
}

fn relation_row(r: &super::db::Row<'_>) -> Result<RelationRow> {
    Ok(RelationRow {
        system: r.get(0)?,
        client: r.get::<i64>(1)? as u64,
        unit: r.get(2)?,
        person: r.get(3)?,
        kind: r.get(4)?,
        from: day_col(r, 5)?
            .ok_or_else(|| crate::Error::runtime("database: a relationship without a first day"))?,
        to: day_col(r, 6)?,
    })
}

/// How many clients one statement looks up.
const CLIENTS_AT_ONCE: usize = 100;

/// The relationships of `clients` that hold in `system` (a few statements for many clients).
pub(crate) fn relations_of(conn: &Db, system: &str, clients: &[u64]) -> Result<Vec<RelationRow>> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let places: Vec<String> = (2..=CLIENTS_AT_ONCE + 1).map(|i| format!("?{i}")).collect();
        format!(
            "SELECT system, client, unit_id, person_id, kind, from_day, to_day FROM care_relations
             WHERE (system = ?1 OR system = '') AND client IN ({})
             ORDER BY client, from_day, unit_id, person_id, kind, system",
            places.join(", ")
        )
    });
    let mut out = Vec::new();
    if clients.is_empty() {
        return Ok(out);
    }
    let mut stmt = conn.prepare_cached(sql)?;
    for chunk in clients.chunks(CLIENTS_AT_ONCE) {
        // The last chunk is filled up with its first client: one statement for every chunk.
        let mut values: Vec<super::db::Value> = vec![super::db::Value::Text(system)];
        values.extend(
            (0..CLIENTS_AT_ONCE)
                .map(|i| super::db::Value::Int(*chunk.get(i).unwrap_or(&chunk[0]) as i64)),
        );
        for row in stmt.query_map(values.as_slice(), relation_row)? {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Whether any care relationship, and any shift, is stored.
pub(crate) fn any_stored(conn: &Db) -> Result<(bool, bool)> {
    let relations: i64 =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM care_relations)", (), |r| {
            r.get(0)
        })?;
    let shifts: i64 = conn.query_row("SELECT EXISTS (SELECT 1 FROM work_shifts)", (), |r| {
        r.get(0)
    })?;
    Ok((relations != 0, shifts != 0))
}

/// Every relationship that holds in `system` and overlaps `[from, to]` (local days), in no
/// order.
pub(crate) fn relations_between(
    conn: &Db,
    system: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<RelationRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, client, unit_id, person_id, kind, from_day, to_day FROM care_relations
         WHERE (system = ?1 OR system = '') AND from_day <= ?2 AND (to_day IS NULL OR to_day >= ?3)",
    )?;
    let rows = stmt.query_map(params![system, date(to), date(from)], relation_row)?;
    rows.collect()
}

fn shift_row(r: &super::db::Row<'_>) -> Result<ShiftRow> {
    Ok(ShiftRow {
        person: r.get(0)?,
        start: r.get(1)?,
        unit: r.get(2)?,
        end: r.get(3)?,
    })
}

/// The shifts of `person` that overlap `[from, to)`, by start.
pub(crate) fn shifts_of(conn: &Db, person: &str, from: i64, to: i64) -> Result<Vec<ShiftRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, start_at, unit_id, end_at FROM work_shifts
         WHERE person_id = ?1 AND start_at >= ?2 AND start_at < ?3 AND end_at > ?4
         ORDER BY start_at, unit_id",
    )?;
    let rows = stmt.query_map(params![person, from - SHIFT_REACH, to, from], shift_row)?;
    rows.collect()
}

/// Everyone's shifts that overlap `[from, to)`, in no order.
pub(crate) fn shifts_between(conn: &Db, from: i64, to: i64) -> Result<Vec<ShiftRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, start_at, unit_id, end_at FROM work_shifts
         WHERE start_at >= ?1 AND start_at < ?2 AND end_at > ?3",
    )?;
    let rows = stmt.query_map(params![from - SHIFT_REACH, to, from], shift_row)?;
    rows.collect()
}

/// An access judged justified in a closed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Justified {
    pub person: String,
    pub system: String,
    pub client: u64,
    pub case_id: String,
    /// When the case closed, Unix seconds.
    pub closed: i64,
}

/// The accesses judged justified in cases about `person` (every person: `None`) closed in
/// `[since, until)`, with their clients.
pub(crate) fn justified(
    conn: &Db,
    person: Option<&str>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Justified>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.subject_person_id, j.system, j.log_id, c.id, c.closed_at
         FROM judgements j JOIN cases c ON c.id = j.case_id
         WHERE j.verdict = 'justified' AND c.closed_at IS NOT NULL AND c.subject_person_id IS NOT NULL
           AND c.closed_at >= ?1 AND c.closed_at < ?2
           AND (?3 = '' OR c.subject_person_id = ?3)
         ORDER BY c.closed_at, c.id, j.system, j.log_id",
    )?;
    let found: Vec<(String, String, String, String, String)> = stmt
        .query_map(params![ts(since), ts(until), person.unwrap_or("")], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_>>()?;
    let mut client_of = conn.prepare_cached(
        "SELECT a.subject_id FROM log_ids l JOIN access_log a ON a.id = l.access_row WHERE l.key = ?1",
    )?;
    let mut out = Vec::with_capacity(found.len());
    for (person, system, log_id, case_id, closed) in found {
        let key = super::records::log_id_key(&system, &log_id);
        let client: Option<i64> = client_of
            .query_map([key], |r| r.get(0))?
            .next()
            .transpose()?;
        if let Some(client) = client {
            out.push(Justified {
                person,
                system,
                client: client as u64,
                case_id,
                closed: super::parse_ts(&closed)?.timestamp(),
            });
        }
    }
    Ok(out)
}

/// Everyone the roster has known (also people who have left), by id.
pub(crate) fn known_people(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM people ORDER BY id")?;
    let rows = stmt.query_map((), |r| r.get::<String>(0))?;
    rows.collect()
}

/// The people whose home units include any of `units` (one of them `person` themself).
pub(crate) fn colleagues(conn: &Db, units: &[String]) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT pu.person_id FROM person_units pu JOIN people p ON p.id = pu.person_id
         WHERE pu.unit_id = ?1 AND p.removed_at IS NULL ORDER BY pu.person_id",
    )?;
    let mut out: Vec<String> = Vec::new();
    for u in units {
        for p in stmt.query_map([u], |r| r.get::<String>(0))? {
            out.push(p?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The imports of relations and shifts, oldest first.
pub(crate) fn imports(conn: &Db) -> Result<Vec<ContextImport>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, file, system, imported_at, rows, added, digest FROM context_imports ORDER BY id",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok(ContextImport {
            id: r.get(0)?,
            kind: r.get(1)?,
            file: r.get(2)?,
            system: r.get(3)?,
            imported_at: r.get(4)?,
            rows: r.get(5)?,
            added: r.get(6)?,
            digest: r.get(7)?,
        })
    })?;
    rows.collect()
}

/// How many relationships of `system` (empty: of every system) ended before `day`.
pub(crate) fn count_ended(conn: &Db, system: &str, day: NaiveDate) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM care_relations WHERE system = ?1 AND to_day IS NOT NULL AND to_day < ?2",
        params![system, date(day)],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Deletes the relationships of `system` that ended before `day`; returns how many.
pub(crate) fn purge_ended(conn: &Db, system: &str, day: NaiveDate) -> Result<usize> {
    conn.execute(
        "DELETE FROM care_relations WHERE system = ?1 AND to_day IS NOT NULL AND to_day < ?2",
        params![system, date(day)],
    )
}

/// The systems relationships are stored for ('' for every system).
pub(crate) fn relation_systems(conn: &Db) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT system FROM care_relations ORDER BY system")?;
    let rows = stmt.query_map((), |r| r.get::<String>(0))?;
    rows.collect()
}

/// How many shifts ended before `cutoff` (Unix seconds).
pub(crate) fn count_shifts_before(conn: &Db, cutoff: i64) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM work_shifts WHERE end_at < ?1",
        params![cutoff],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Deletes the shifts that ended before `cutoff`; returns how many.
pub(crate) fn purge_shifts_before(conn: &Db, cutoff: i64) -> Result<usize> {
    conn.execute("DELETE FROM work_shifts WHERE end_at < ?1", params![cutoff])
}
