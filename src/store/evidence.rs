//! The SQL of the review workbench: the periods the imported logs cover, log rows by id, the
//! people the review's rules compare accesses with (their units, accounts, end of employment and
//! personnummer hash, also of people who have left the roster), judgements of accesses, and the
//! watch list.

use super::db::{Db, OptionalExtension, params};
use super::{parse_date, ts};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};

// ----- coverage -----

pub(crate) fn insert_coverage(
    conn: &Db,
    import_id: i64,
    system: &str,
    from: i64,
    to: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO log_coverage (import_id, system, covers_from, covers_to) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![import_id, system, from, to])?;
    Ok(())
}

/// The periods `[from, to)` (Unix seconds) the imports of `system` cover, by start.
pub(crate) fn coverage(conn: &Db, system: &str) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT covers_from, covers_to FROM log_coverage WHERE system = ?1 ORDER BY covers_from, covers_to",
    )?;
    let rows = stmt.query_map([system], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// Every covered period: (system, import, from, to).
pub(crate) fn all_coverage(conn: &Db) -> Result<Vec<(String, i64, i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, import_id, covers_from, covers_to FROM log_coverage ORDER BY system, covers_from",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect::<Result<_>>()
}

/// Cuts what import `import_id` covers of `system` before `cutoff` (the purge of its rows).
pub(crate) fn purge_coverage(conn: &Db, import_id: i64, system: &str, cutoff: i64) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM log_coverage WHERE import_id = ?1 AND system = ?2 AND covers_to <= ?3",
    )?
    .execute(params![import_id, system, cutoff])?;
    conn.prepare_cached(
        "UPDATE log_coverage SET covers_from = ?3
         WHERE import_id = ?1 AND system = ?2 AND covers_from < ?3",
    )?
    .execute(params![import_id, system, cutoff])?;
    Ok(())
}

// ----- rows -----

/// One row of the access log, as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogRow {
    pub id: i64,
    pub system: String,
    pub log_id: String,
    /// Unix seconds.
    pub at: i64,
    pub user_id: String,
    pub user_name: String,
    pub user_title: String,
    pub access_unit: String,
    pub subject_id: String,
    pub subject_name: String,
    pub subject_unit: String,
    pub action: String,
    pub resource_type: String,
    pub purpose: String,
}

/// The rows with these ids (in the order asked; ids no longer there are left out).
pub(crate) fn rows_by_id(conn: &Db, ids: &[i64]) -> Result<Vec<LogRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, system, log_id, at, user_id, user_name, user_title, access_unit, subject_id,
                subject_name, subject_unit, action, resource_type, purpose
         FROM access_log_text WHERE id = ?1",
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = stmt
            .query_row([id], |r| {
                Ok(LogRow {
                    id: r.get(0)?,
                    system: r.get(1)?,
                    log_id: r.get(2)?,
                    at: r.get(3)?,
                    user_id: r.get(4)?,
                    user_name: r.get(5)?,
                    user_title: r.get(6)?,
                    access_unit: r.get(7)?,
                    subject_id: r.get(8)?,
                    subject_name: r.get(9)?,
                    subject_unit: r.get(10)?,
                    action: r.get(11)?,
                    resource_type: r.get(12)?,
                    purpose: r.get(13)?,
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

// ----- people -----

/// A person as the review's rules see them: also someone who has left the roster (from the last
/// record of their history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Staff {
    pub id: String,
    pub name: String,
    pub units: Vec<String>,
    /// (system, account).
    pub accounts: Vec<(String, String)>,
    pub active_to: Option<NaiveDate>,
    /// When an import left the person out of the roster (UTC date of the import).
    pub removed_on: Option<NaiveDate>,
    pub personnummer_hash: Option<String>,
    /// The job title the roster gives, if any.
    pub title: Option<String>,
}

/// Person `id`, current or as last recorded before they left; `None` when never known.
pub(crate) fn staff(conn: &Db, id: &str) -> Result<Option<Staff>> {
    let current = conn
        .prepare_cached(
            "SELECT name, active_to, removed_at, personnummer_hash, title FROM people WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<Option<String>>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<Option<String>>(3)?,
                r.get::<Option<String>>(4)?,
            ))
        })
        .optional()?;
    let Some((name, active_to, removed, hash, title)) = current else {
        return Ok(None);
    };
    let mut staff = Staff {
        id: id.to_string(),
        name,
        units: Vec::new(),
        accounts: Vec::new(),
        active_to: active_to.as_deref().map(parse_date).transpose()?,
        removed_on: removed
            .as_deref()
            .map(|t| super::parse_ts(t).map(|t| t.date_naive()))
            .transpose()?,
        personnummer_hash: hash,
        title: title.filter(|t| !t.is_empty()),
    };
    if staff.removed_on.is_none() {
        staff.units = super::access::person_units(conn, id)?;
        let mut stmt = conn.prepare_cached(
            "SELECT system, account FROM accounts WHERE person_id = ?1 ORDER BY system, account",
        )?;
        staff.accounts = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_>>()?;
        return Ok(Some(staff));
    }
    // Someone who has left: units and accounts as last recorded.
    let record: Option<String> = conn
        .prepare_cached(
            "SELECT record FROM person_history WHERE person_id = ?1 AND record != '{\"removed\":true}'
             ORDER BY import_id DESC LIMIT 1",
        )?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(record) = record
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&record)
    {
        staff.units = v["units"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| u.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        staff.accounts = v["accounts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        Some((
                            x["system"].as_str()?.to_string(),
                            x["account"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    Ok(Some(staff))
}

/// Everyone in the roster now, with units and accounts (for many lookups at once).
pub(crate) fn all_staff(conn: &Db) -> Result<Vec<Staff>> {
    let mut people: Vec<Staff> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, active_to, personnummer_hash, title FROM people WHERE removed_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map((), |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<Option<String>>(3)?,
                r.get::<Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, active_to, hash, title) = row?;
            out.push(Staff {
                id,
                name,
                units: Vec::new(),
                accounts: Vec::new(),
                active_to: active_to.as_deref().map(parse_date).transpose()?,
                removed_on: None,
                personnummer_hash: hash,
                title: title.filter(|t| !t.is_empty()),
            });
        }
        out
    };
    let index: std::collections::HashMap<String, usize> = people
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, unit_id FROM person_units ORDER BY person_id, position",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
    for row in rows {
        let (p, u) = row?;
        if let Some(i) = index.get(&p) {
            people[*i].units.push(u);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT person_id, system, account FROM accounts ORDER BY person_id, system, account",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
        ))
    })?;
    for row in rows {
        let (p, s, a) = row?;
        if let Some(i) = index.get(&p) {
            people[*i].accounts.push((s, a));
        }
    }
    Ok(people)
}

/// Who holds account `account` of `system`, or held it last (someone who has left the roster).
pub(crate) fn account_owner(conn: &Db, system: &str, account: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT person_id FROM account_holders WHERE system = ?1 AND account = ?2")?
        .query_row(params![system, account], |r| r.get(0))
        .optional()
}

/// Every account ever held: (system, account, person).
pub(crate) fn account_owners(conn: &Db) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT system, account, person_id FROM account_holders")?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect::<Result<_>>()
}

/// The people in the roster (not removed) whose personnummer hashes to `hash`.
pub(crate) fn people_by_personnummer(conn: &Db, hash: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name FROM people WHERE personnummer_hash = ?1 AND removed_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([hash], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// Whether anyone in the roster has a personnummer given.
pub(crate) fn any_personnummer(conn: &Db) -> Result<bool> {
    conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM people WHERE personnummer_hash IS NOT NULL AND removed_at IS NULL)",
        )?
        .query_row((), |r| r.get(0))
}

/// Every personnummer hash of the roster: (hash, person, name).
pub(crate) fn personnummer_hashes(conn: &Db) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT personnummer_hash, id, name FROM people
         WHERE personnummer_hash IS NOT NULL AND removed_at IS NULL",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect::<Result<_>>()
}

/// The installation's key of personnummer hashes.
pub(crate) fn person_key(conn: &Db) -> Result<String> {
    super::meta_get(conn, "person_key")?
        .ok_or_else(|| crate::Error::runtime("the database has no person key"))
}

// ----- judgements -----

/// A reviewer's judgement of one access.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Judgement {
    pub system: String,
    pub log_id: String,
    pub verdict: String,
    pub by: String,
    pub at: String,
    pub comment: Option<String>,
}

pub(crate) fn judgements(conn: &Db, case_id: &str) -> Result<Vec<Judgement>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, log_id, verdict, judged_by, judged_at, comment FROM judgements
         WHERE case_id = ?1 ORDER BY system, log_id",
    )?;
    let rows = stmt.query_map([case_id], |r| {
        Ok(Judgement {
            system: r.get(0)?,
            log_id: r.get(1)?,
            verdict: r.get(2)?,
            by: r.get(3)?,
            at: r.get(4)?,
            comment: r.get(5)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// Records (or replaces) a judgement.
pub(crate) fn judge(conn: &Db, case_id: &str, j: &Judgement) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO judgements (case_id, system, log_id, verdict, judged_by, judged_at, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (case_id, system, log_id) DO UPDATE SET verdict = excluded.verdict,
             judged_by = excluded.judged_by, judged_at = excluded.judged_at, comment = excluded.comment",
    )?
    .execute(params![case_id, j.system, j.log_id, j.verdict, j.by, j.at, j.comment])?;
    Ok(())
}

/// The first case of `kind` with a judged access.
pub(crate) fn first_judged_case(conn: &Db, kind: &str) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT c.id FROM cases c WHERE c.kind = ?1
               AND EXISTS (SELECT 1 FROM judgements j WHERE j.case_id = c.id)
             ORDER BY c.id LIMIT 1",
    )?
    .query_row([kind], |r| r.get(0))
    .optional()
}

pub(crate) fn forget_judgements(conn: &Db, case_id: &str) -> Result<usize> {
    conn.prepare_cached("DELETE FROM evidence_snapshots WHERE case_id = ?1")?
        .execute([case_id])?;
    conn.prepare_cached("DELETE FROM judgements WHERE case_id = ?1")?
        .execute([case_id])
}

/// Keeps what a case's review looked at when it closed.
pub(crate) fn save_snapshot(
    conn: &Db,
    case_id: &str,
    data: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO evidence_snapshots (case_id, taken_at, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (case_id) DO UPDATE SET taken_at = excluded.taken_at, data = excluded.data",
    )?
    .execute(params![case_id, ts(now), data])?;
    Ok(())
}

/// What a closed case's review looked at, when kept.
pub(crate) fn snapshot(conn: &Db, case_id: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT data FROM evidence_snapshots WHERE case_id = ?1")?
        .query_row([case_id], |r| r.get(0))
        .optional()
}

// ----- watch list -----

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct WatchEntry {
    pub id: i64,
    /// The client's 12 digits; `None` once purged.
    pub client: Option<String>,
    pub reason: Option<String>,
    pub added_by: String,
    pub added_at: String,
    /// The last day it is in force.
    pub until: Option<String>,
    pub removed_by: Option<String>,
    pub removed_at: Option<String>,
    pub purged_at: Option<String>,
}

pub(crate) fn add_watch(
    conn: &Db,
    client: &str,
    reason: &str,
    until: Option<NaiveDate>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO watch_list (client, reason, added_by, added_at, until) VALUES (?1, ?2, ?3, ?4, ?5)
         RETURNING id",
    )?
    .query_row(
        params![client, reason, by, ts(now), until.map(super::date)],
        |r| r.get(0),
    )
}

fn watch_row(r: &super::db::Row) -> Result<WatchEntry> {
    Ok(WatchEntry {
        id: r.get(0)?,
        client: r.get(1)?,
        reason: r.get(2)?,
        added_by: r.get(3)?,
        added_at: r.get(4)?,
        until: r.get(5)?,
        removed_by: r.get(6)?,
        removed_at: r.get(7)?,
        purged_at: r.get(8)?,
    })
}

const WATCH_COLUMNS: &str =
    "id, client, reason, added_by, added_at, until, removed_by, removed_at, purged_at";

/// Every entry, in force or not.
pub(crate) fn watch_entries(conn: &Db) -> Result<Vec<WatchEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WATCH_COLUMNS} FROM watch_list ORDER BY id"
    ))?;
    let rows = stmt.query_map((), watch_row)?;
    rows.collect::<Result<_>>()
}

/// The entries in force on `day`: (client, reason).
pub(crate) fn watched(conn: &Db, day: NaiveDate) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client, reason FROM watch_list
         WHERE removed_at IS NULL AND purged_at IS NULL AND client IS NOT NULL
           AND (until IS NULL OR until >= ?1)",
    )?;
    let rows = stmt.query_map([super::date(day)], |r| {
        Ok((r.get(0)?, r.get::<Option<String>>(1)?.unwrap_or_default()))
    })?;
    rows.collect::<Result<_>>()
}

pub(crate) fn remove_watch(conn: &Db, id: i64, by: &str, now: DateTime<Utc>) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE watch_list SET removed_by = ?2, removed_at = ?3
             WHERE id = ?1 AND removed_at IS NULL AND purged_at IS NULL",
        )?
        .execute(params![id, by, ts(now)])?
        == 1)
}

/// Entries no longer in force on `day` (expired before it, or removed) whose client and reason
/// are still kept.
pub(crate) fn watch_to_purge(conn: &Db, day: NaiveDate) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM watch_list WHERE purged_at IS NULL
           AND (removed_at IS NOT NULL OR (until IS NOT NULL AND until < ?1)) ORDER BY id",
    )?;
    let rows = stmt.query_map([super::date(day)], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

pub(crate) fn purge_watch(conn: &Db, id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE watch_list SET client = NULL, reason = NULL, purged_at = ?2 WHERE id = ?1",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}
