//! The SQL of `records`: imported access logs and their batches, files written for cases, the
//! yearly summaries, outbox attachments, and what the purge reads, counts and deletes.

use super::db::{Db, OptionalExtension, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, Utc};

// ----- access logs -----

/// The ids of the texts that repeat in the log (`log_strings`), cached for one import: per
/// column the few texts seen last (most columns have a handful of values, and a comparison is
/// cheaper than a hash), then one map. The map is emptied when it grows past
/// [`LogStrings::MAX`] entries (a hostile file with a new text in every row costs lookups, not
/// memory).
#[derive(Debug, Default)]
pub(crate) struct LogStrings {
    recent: Vec<Recent>,
    cache: std::collections::HashMap<String, i64>,
}

/// A column's texts seen last, and how well they have served it.
#[derive(Debug, Default)]
struct Recent {
    texts: Vec<(String, i64)>,
    hits: u32,
    misses: u32,
}

impl Recent {
    /// Whether the column is worth the scan: a column of many values (the accounts) misses
    /// nearly always, and goes straight to the map once that is clear.
    fn worth_it(&self) -> bool {
        self.misses < 256 || self.hits >= self.misses / 4
    }
}

impl LogStrings {
    pub(crate) const MAX: usize = 100_000;
    /// Texts remembered per column.
    const RECENT: usize = 8;
    /// The longest text cached (so the cache holds at most `MAX` × this).
    const CACHED: usize = 256;

    pub(crate) fn new() -> LogStrings {
        LogStrings::default()
    }

    /// The id of `text` in column `column` (any small number naming the column), stored first
    /// when new.
    pub(crate) fn id(&mut self, conn: &Db, column: usize, text: &str) -> Result<i64> {
        // A long text is looked up, not kept: the cache stays small whatever the file.
        if text.len() > LogStrings::CACHED {
            return string_id_or_new(conn, text);
        }
        if self.recent.len() <= column {
            self.recent.resize_with(column + 1, Recent::default);
        }
        let recent = &mut self.recent[column];
        let scan = recent.worth_it();
        if scan {
            if let Some(i) = recent.texts.iter().position(|(t, _)| t == text) {
                let id = recent.texts[i].1;
                if i > 0 {
                    recent.texts.swap(i, i - 1);
                }
                recent.hits = recent.hits.saturating_add(1);
                return Ok(id);
            }
            recent.misses = recent.misses.saturating_add(1);
        }
        let id = match self.cache.get(text) {
            Some(id) => *id,
            None => {
                let id = match string_id(conn, text)? {
                    Some(id) => id,
                    None => conn.insert_id("INSERT INTO log_strings (text) VALUES (?1)", [text])?,
                };
                if self.cache.len() >= LogStrings::MAX {
                    self.cache.clear();
                }
                self.cache.insert(text.to_string(), id);
                id
            }
        };
        let recent = &mut self.recent[column].texts;
        if scan {
            if recent.len() >= LogStrings::RECENT {
                recent.pop();
            }
            recent.push((text.to_string(), id));
        }
        Ok(id)
    }
}

/// The id of a text of the log, stored first when new.
fn string_id_or_new(conn: &Db, text: &str) -> Result<i64> {
    match string_id(conn, text)? {
        Some(id) => Ok(id),
        None => conn.insert_id("INSERT INTO log_strings (text) VALUES (?1)", [text]),
    }
}

/// Deletes the log's strings no row refers to any more (after the purge of rows): names,
/// titles and units of the log go with the last row that named them. Returns how many.
pub(crate) fn prune_strings(conn: &Db) -> Result<usize> {
    conn.prepare_cached(
        "DELETE FROM log_strings WHERE id NOT IN (
                 SELECT system FROM access_log UNION SELECT user_id FROM access_log
                 UNION SELECT user_name FROM access_log UNION SELECT user_title FROM access_log
                 UNION SELECT access_unit FROM access_log UNION SELECT subject_unit FROM access_log
                 UNION SELECT action FROM access_log UNION SELECT resource_type FROM access_log
                 UNION SELECT purpose FROM access_log)",
    )?
    .execute(())
}

/// The texts of the log's strings `ids` (those that exist).
pub fn texts(conn: &Db, ids: &[u32]) -> Result<Vec<(u32, String)>> {
    let mut stmt = conn.prepare_cached("SELECT text FROM log_strings WHERE id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(text) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.push((*id, text));
        }
    }
    Ok(out)
}

/// The id of a text of the log, if it occurs.
pub(crate) fn string_id(conn: &Db, text: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM log_strings WHERE text = ?1")?
        .query_row([text], |r| r.get(0))
        .optional()
}

/// The rows of one import and one system (see the `log_batches` table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogBatch {
    pub import_id: i64,
    pub system: String,
    pub first_row: i64,
    pub last_row: i64,
    pub rows: i64,
    /// Unix seconds.
    pub oldest: i64,
    pub newest: i64,
    pub retention_years: u32,
}

fn batch_row(r: &super::db::Row) -> Result<LogBatch> {
    Ok(LogBatch {
        import_id: r.get(0)?,
        system: r.get(1)?,
        first_row: r.get(2)?,
        last_row: r.get(3)?,
        rows: r.get(4)?,
        oldest: r.get(5)?,
        newest: r.get(6)?,
        retention_years: r.get(7)?,
    })
}

const BATCH_COLUMNS: &str =
    "import_id, system, first_row, last_row, rows, oldest, newest, retention_years";

pub(crate) fn insert_batch(conn: &Db, b: &LogBatch) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO log_batches ({BATCH_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        b.import_id,
        b.system,
        b.first_row,
        b.last_row,
        b.rows,
        b.oldest,
        b.newest,
        b.retention_years
    ])?;
    Ok(())
}

/// The earlier import of a file with this digest: (import id, when).
pub(crate) fn import_by_digest(conn: &Db, digest: &str) -> Result<Option<(i64, String)>> {
    conn.prepare_cached(
        "SELECT id, imported_at FROM log_imports WHERE digest = ?1 ORDER BY id LIMIT 1",
    )?
    .query_row([digest], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Batches of `system` whose time span meets `[from, to]` (Unix seconds).
pub(crate) fn overlapping_batches(
    conn: &Db,
    system: &str,
    from: i64,
    to: i64,
) -> Result<Vec<LogBatch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {BATCH_COLUMNS} FROM log_batches
         WHERE system = ?1 AND oldest <= ?3 AND newest >= ?2 ORDER BY import_id"
    ))?;
    let rows = stmt.query_map(params![system, from, to], batch_row)?;
    rows.collect::<Result<_>>()
}

/// Every batch, oldest import first.
pub fn batches(conn: &Db) -> Result<Vec<LogBatch>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {BATCH_COLUMNS} FROM log_batches ORDER BY import_id, system"
    ))?;
    let rows = stmt.query_map((), batch_row)?;
    rows.collect::<Result<_>>()
}

/// One import of one system, as `logs list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRow {
    pub import_id: i64,
    pub file: String,
    pub system: String,
    pub rows: i64,
    /// The period covered, Unix seconds `[from, to)`.
    pub covers_from: i64,
    pub covers_to: i64,
    pub digest: String,
    pub imported_at: String,
}

/// Every import, per system, oldest first.
pub fn imports(conn: &Db) -> Result<Vec<ImportRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.file, c.system, COALESCE(b.rows, 0), c.covers_from, c.covers_to, i.digest,
                i.imported_at
         FROM log_imports i JOIN log_coverage c ON c.import_id = i.id
         LEFT JOIN log_batches b ON b.import_id = i.id AND b.system = c.system
         ORDER BY i.id, c.system",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok(ImportRow {
            import_id: r.get(0)?,
            file: r.get(1)?,
            system: r.get(2)?,
            rows: r.get(3)?,
            covers_from: r.get(4)?,
            covers_to: r.get(5)?,
            digest: r.get(6)?,
            imported_at: r.get(7)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// One access to a client's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub id: i64,
    pub system: String,
    pub log_id: String,
    /// Unix seconds.
    pub at: i64,
    pub user_id: String,
    pub user_name: String,
    pub user_title: String,
    pub access_unit: String,
    pub action: String,
    pub purpose: String,
}

/// The accesses of `system` to the record of `subject` (12 digits) at `[from, to)` (Unix
/// seconds), in time order, each system's `log_id` once. Only the batches whose span meets the
/// period are read, each by its range of row ids.
pub fn accesses(conn: &Db, system: &str, subject: &str, from: i64, to: i64) -> Result<Vec<Access>> {
    let mut out: Vec<Access> = Vec::new();
    let (Some(system_id), Ok(client)) = (string_id(conn, system)?, subject.parse::<i64>()) else {
        return Ok(out);
    };
    let batches = overlapping_batches(conn, system, from, to.saturating_sub(1))?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, sy.text, a.log_id, a.at, us.text, un.text, ut.text, au.text, ac.text, pu.text
         FROM access_log a
         JOIN log_strings sy ON sy.id = a.system JOIN log_strings us ON us.id = a.user_id
         JOIN log_strings un ON un.id = a.user_name JOIN log_strings ut ON ut.id = a.user_title
         JOIN log_strings au ON au.id = a.access_unit JOIN log_strings ac ON ac.id = a.action
         JOIN log_strings pu ON pu.id = a.purpose
         WHERE a.id BETWEEN ?1 AND ?2 AND a.subject_id = ?3 AND a.system = ?4
           AND a.at >= ?5 AND a.at < ?6",
    )?;
    for b in batches {
        let rows = stmt.query_map(
            params![b.first_row, b.last_row, client, system_id, from, to],
            |r| {
                Ok(Access {
                    id: r.get(0)?,
                    system: r.get(1)?,
                    log_id: r.get(2)?,
                    at: r.get(3)?,
                    user_id: r.get(4)?,
                    user_name: r.get(5)?,
                    user_title: r.get(6)?,
                    access_unit: r.get(7)?,
                    action: r.get(8)?,
                    purpose: r.get(9)?,
                })
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    out.sort_by_key(|a| (a.at, a.id));
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(a.log_id.clone()));
    Ok(out)
}

/// Deletes the rows of batch `b` older than `cutoff` (Unix seconds); returns how many, and
/// shrinks or removes the batch.
pub(crate) fn purge_batch(conn: &Db, b: &LogBatch, cutoff: i64) -> Result<usize> {
    let system = string_id(conn, &b.system)?.unwrap_or(-1);
    let n = conn
        .prepare_cached(
            "DELETE FROM access_log WHERE id BETWEEN ?1 AND ?2 AND system = ?3 AND at < ?4",
        )?
        .execute(params![b.first_row, b.last_row, system, cutoff])?;
    let left: (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT COUNT(*), MIN(id), MAX(id), MIN(at), MAX(at) FROM access_log
             WHERE id BETWEEN ?1 AND ?2 AND system = ?3",
        )?
        .query_row(params![b.first_row, b.last_row, system], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    match left {
        (count, Some(first), Some(last), Some(oldest), Some(newest)) if count > 0 => {
            conn.prepare_cached(
                "UPDATE log_batches SET first_row = ?3, last_row = ?4, rows = ?5, oldest = ?6, newest = ?7
                 WHERE import_id = ?1 AND system = ?2",
            )?
            .execute(params![b.import_id, b.system, first, last, count, oldest, newest])?;
        }
        _ => {
            conn.prepare_cached("DELETE FROM log_batches WHERE import_id = ?1 AND system = ?2")?
                .execute(params![b.import_id, b.system])?;
        }
    }
    Ok(n)
}

/// Rows of batch `b` older than `cutoff`, for a dry run.
pub(crate) fn count_expired(conn: &Db, b: &LogBatch, cutoff: i64) -> Result<usize> {
    let system = string_id(conn, &b.system)?.unwrap_or(-1);
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM access_log WHERE id BETWEEN ?1 AND ?2 AND system = ?3 AND at < ?4",
        )?
        .query_row(params![b.first_row, b.last_row, system, cutoff], |r| {
            r.get(0)
        })?;
    Ok(n.max(0) as usize)
}

// ----- files of cases -----

pub(crate) fn register_file(
    conn: &Db,
    case_id: &str,
    kind: &str,
    path: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO record_files (path, case_id, kind, written_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (path) DO UPDATE SET case_id = excluded.case_id, kind = excluded.kind,
             written_at = excluded.written_at",
    )?
    .execute(params![path, case_id, kind, ts(now)])?;
    Ok(())
}

/// The files written for `case_id`.
pub(crate) fn files_of(conn: &Db, case_id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT path FROM record_files WHERE case_id = ?1 ORDER BY path")?;
    let rows = stmt.query_map([case_id], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

pub(crate) fn forget_files(conn: &Db, case_id: &str) -> Result<usize> {
    conn.prepare_cached("DELETE FROM record_files WHERE case_id = ?1")?
        .execute([case_id])
}

/// Marks an extract case handed out (once: the first time counts).
pub(crate) fn set_handed_out(conn: &Db, case_id: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE cases SET handed_out_at = ?2 WHERE id = ?1 AND handed_out_at IS NULL",
    )?
    .execute(params![case_id, ts(now)])?;
    Ok(())
}

// ----- summaries -----

/// Claims the summary of `routine_id` for `year`; false when it was made already.
pub(crate) fn claim_summary(
    conn: &Db,
    routine_id: &str,
    year: i32,
    recipients: usize,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO summaries (routine_id, year, created_at, recipients)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![routine_id, year, ts(now), recipients as i64])?
        == 1)
}

pub(crate) fn summary_made(conn: &Db, routine_id: &str, year: i32) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM summaries WHERE routine_id = ?1 AND year = ?2)",
    )?
    .query_row(params![routine_id, year], |r| r.get(0))
}

/// Everyone holding `role` anywhere (a summary goes to the organisation's holders).
pub(crate) fn role_holders_anywhere(conn: &Db, role: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT person_id FROM person_roles WHERE role = ?1 ORDER BY person_id",
    )?;
    let rows = stmt.query_map([role], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

// ----- outbox attachments -----

/// A file attached to an outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    pub file_name: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

pub(crate) fn attach(conn: &Db, outbox_id: i64, files: &[StoredAttachment]) -> Result<()> {
    for (i, f) in files.iter().enumerate() {
        conn.prepare_cached(
            "INSERT INTO outbox_attachments (outbox_id, position, file_name, content_type, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            outbox_id,
            i as i64,
            f.file_name,
            f.content_type,
            f.body
        ])?;
    }
    Ok(())
}

pub fn attachments(conn: &Db, outbox_id: i64) -> Result<Vec<StoredAttachment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT file_name, content_type, body FROM outbox_attachments WHERE outbox_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([outbox_id], |r| {
        Ok(StoredAttachment {
            file_name: r.get(0)?,
            content_type: r.get(1)?,
            body: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

// ----- anonymous counts -----

/// Adds `value` to a purged count.
pub(crate) fn add_purged_count(
    conn: &Db,
    key: (&str, &str, &str, i32),
    measure: &str,
    value: i64,
) -> Result<()> {
    let (routine_id, system, unit_id, year) = key;
    conn.prepare_cached(
        "INSERT INTO purged_counts (routine_id, system, unit_id, year, measure, value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (routine_id, system, unit_id, year, measure)
         DO UPDATE SET value = purged_counts.value + excluded.value",
    )?
    .execute(params![routine_id, system, unit_id, year, measure, value])?;
    Ok(())
}

/// The purged counts of a routine and year: (system, unit, measure, value).
pub fn purged_counts(
    conn: &Db,
    routine_id: &str,
    year: i32,
) -> Result<Vec<(String, String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, unit_id, measure, value FROM purged_counts
         WHERE routine_id = ?1 AND year = ?2 ORDER BY system, unit_id, measure",
    )?;
    let rows = stmt.query_map(params![routine_id, year], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    rows.collect::<Result<_>>()
}

pub(crate) fn is_frozen(conn: &Db, routine_id: &str, year: i32) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM frozen_years WHERE routine_id = ?1 AND year = ?2)",
    )?
    .query_row(params![routine_id, year], |r| r.get(0))
}

pub(crate) fn mark_frozen(
    conn: &Db,
    routine_id: &str,
    year: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO frozen_years (routine_id, year, frozen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![routine_id, year, ts(now)])?;
    Ok(())
}

/// The key of `(system, log_id)` in `log_ids`: FNV-1a over the system, a separator and the
/// id (a collision is told apart by reading the row).
pub(crate) fn log_id_key(system: &str, log_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in system.bytes().chain([0x1f]).chain(log_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

/// How many keys one statement looks up or stores.
const KEYS_AT_ONCE: usize = 200;

/// The stored row and line of each of `keys` that has one (a few statements for many keys,
/// in key order).
pub(crate) fn log_id_rows(
    conn: &Db,
    keys: &[i64],
) -> Result<std::collections::HashMap<i64, (i64, i64)>> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let places: Vec<String> = (1..=KEYS_AT_ONCE).map(|i| format!("?{i}")).collect();
        format!(
            "SELECT key, access_row, line FROM log_ids WHERE key IN ({})",
            places.join(", ")
        )
    });
    let mut found = std::collections::HashMap::new();
    let mut stmt = conn.prepare_cached(sql)?;
    for chunk in keys.chunks(KEYS_AT_ONCE) {
        // The last chunk is filled up with its first key: one statement for every chunk.
        let values: Vec<super::db::Value> = (0..KEYS_AT_ONCE)
            .map(|i| super::db::Value::Int(*chunk.get(i).unwrap_or(&chunk[0])))
            .collect();
        for item in stmt.query_map(values.as_slice(), |r| {
            Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?))
        })? {
            let (key, row, line) = item?;
            found.insert(key, (row, line));
        }
    }
    Ok(found)
}

/// Stores `(key, row, line)` for each new access (distinct keys, in key order), or moves a key
/// whose row was purged.
pub(crate) fn put_log_ids(conn: &Db, entries: &[(i64, i64, i64)]) -> Result<()> {
    static FULL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = |n: usize| {
        let places: Vec<String> = (0..n)
            .map(|i| format!("(?{}, ?{}, ?{})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        format!(
            "INSERT INTO log_ids (key, access_row, line) VALUES {}
             ON CONFLICT (key) DO UPDATE SET access_row = excluded.access_row, line = excluded.line",
            places.join(", ")
        )
    };
    let full = FULL.get_or_init(|| sql(KEYS_AT_ONCE));
    let mut values: Vec<super::db::Value> = Vec::with_capacity(3 * KEYS_AT_ONCE);
    for chunk in entries.chunks(KEYS_AT_ONCE) {
        values.clear();
        for (k, r, l) in chunk {
            values.extend([
                super::db::Value::Int(*k),
                super::db::Value::Int(*r),
                super::db::Value::Int(*l),
            ]);
        }
        if chunk.len() == KEYS_AT_ONCE {
            conn.prepare_cached(full)?.execute(values.as_slice())?;
        } else {
            conn.prepare_cached(&sql(chunk.len()))?
                .execute(values.as_slice())?;
        }
    }
    Ok(())
}

/// Whether any `log_id` is stored.
pub(crate) fn any_log_id(conn: &Db) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM log_ids LIMIT 1")?
        .query_row((), |r| r.get::<i64>(0))
        .optional()?
        .is_some())
}

/// A stored access as the `log_id` check compares it: texts by their `log_strings` ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAccess {
    pub import_id: i64,
    pub file: String,
    pub system: i64,
    pub log_id: String,
    /// `at`, user, user's name, user's title, access unit, client, client unit, action,
    /// resource type, purpose.
    pub content: [i64; 10],
    pub subject_name: String,
}

/// The access in row `row`, if it is still stored.
pub(crate) fn stored_access(conn: &Db, row: i64) -> Result<Option<StoredAccess>> {
    conn.prepare_cached(
        "SELECT a.import_id, i.file, a.system, a.log_id, a.at, a.user_id, a.user_name,
                a.user_title, a.access_unit, a.subject_id, a.subject_unit, a.action,
                a.resource_type, a.purpose, a.subject_name
         FROM access_log a JOIN log_imports i ON i.id = a.import_id WHERE a.id = ?1",
    )?
    .query_row([row], |r| {
        Ok(StoredAccess {
            import_id: r.get(0)?,
            file: r.get(1)?,
            system: r.get(2)?,
            log_id: r.get(3)?,
            content: [
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
            ],
            subject_name: r.get(14)?,
        })
    })
    .optional()
}

/// Fills `log_ids` from the rows already stored (made by the migration that adds it).
pub(crate) fn fill_log_ids(conn: &Db) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO log_ids (key, access_row, line) VALUES (?1, ?2, 0) ON CONFLICT (key) DO NOTHING",
    )?;
    conn.each_row(
        "SELECT a.id, s.text, a.log_id FROM access_log a JOIN log_strings s ON s.id = a.system
         ORDER BY a.id",
        |r| {
            let (id, system, log_id): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            insert.execute(params![log_id_key(&system, &log_id), id])?;
            Ok(())
        },
    )
}

/// Starts an import of `file` at `now` (its digest and row count come at the end); its id.
pub(crate) fn begin_import(conn: &Db, file: &str, now: DateTime<Utc>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO log_imports (imported_at, file, digest, rows) VALUES (?1, ?2, '', 0)
         RETURNING id",
    )?
    .query_row(params![super::ts(now), file], |r| r.get(0))
}

/// Ends import `id`: its rows and the file's digest.
pub(crate) fn finish_import(conn: &Db, id: i64, rows: u64, digest: &str) -> Result<()> {
    conn.prepare_cached("UPDATE log_imports SET rows = ?2, digest = ?3 WHERE id = ?1")?
        .execute(params![id, rows as i64, digest])?;
    Ok(())
}

/// One access to append, its texts as ids of `log_strings` ([`LogStrings`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAccess<'a> {
    pub import_id: i64,
    pub system: i64,
    pub log_id: &'a str,
    pub at: i64,
    pub user_id: i64,
    pub user_name: i64,
    pub user_title: i64,
    pub access_unit: i64,
    pub subject: i64,
    pub subject_unit: i64,
    pub action: i64,
    pub resource_type: i64,
    pub purpose: i64,
    pub subject_name: &'a str,
}

/// Appends accesses to the log, its statement prepared once for a whole import.
pub(crate) struct AccessWriter<'c> {
    conn: &'c Db,
    /// SQLite's connection, whose last row id is the new row's (no row to read back).
    lite: Option<&'c rusqlite::Connection>,
    insert: super::db::Stmt<'c>,
}

const INSERT_ACCESS: &str = "INSERT INTO access_log (import_id, system, log_id, at, user_id,
    user_name, user_title, access_unit, subject_id, subject_unit, action, resource_type, purpose,
    subject_name)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

impl<'c> AccessWriter<'c> {
    pub(crate) fn new(conn: &'c Db) -> Result<AccessWriter<'c>> {
        let insert = conn.prepare_insert(INSERT_ACCESS)?;
        Ok(AccessWriter {
            conn,
            lite: conn.lite(),
            insert,
        })
    }

    /// Appends `rows`, pushing their row ids to `ids`: on SQLite many in one statement (their
    /// ids follow each other, the last one the connection's last), on PostgreSQL one by one.
    pub(crate) fn append_all(&mut self, rows: &[NewAccess], ids: &mut Vec<i64>) -> Result<()> {
        const AT_ONCE: usize = 32;
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let Some(lite) = self.lite else {
            for a in rows {
                ids.push(self.append(a)?);
            }
            return Ok(());
        };
        let sql = SQL.get_or_init(|| {
            let head = INSERT_ACCESS
                .split_once("VALUES")
                .map_or(INSERT_ACCESS, |(head, _)| head);
            let places: Vec<String> = (0..AT_ONCE)
                .map(|r| {
                    let p: Vec<String> = (1..=14).map(|c| format!("?{}", r * 14 + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            format!("{head}VALUES {}", places.join(", "))
        });
        let mut chunks = rows.chunks_exact(AT_ONCE);
        let mut values: Vec<super::db::Value> = Vec::with_capacity(14 * AT_ONCE);
        for chunk in &mut chunks {
            values.clear();
            for a in chunk {
                values.extend([
                    super::db::Value::Int(a.import_id),
                    super::db::Value::Int(a.system),
                    super::db::Value::Text(a.log_id),
                    super::db::Value::Int(a.at),
                    super::db::Value::Int(a.user_id),
                    super::db::Value::Int(a.user_name),
                    super::db::Value::Int(a.user_title),
                    super::db::Value::Int(a.access_unit),
                    super::db::Value::Int(a.subject),
                    super::db::Value::Int(a.subject_unit),
                    super::db::Value::Int(a.action),
                    super::db::Value::Int(a.resource_type),
                    super::db::Value::Int(a.purpose),
                    super::db::Value::Text(a.subject_name),
                ]);
            }
            self.conn.prepare_cached(sql)?.execute(values.as_slice())?;
            let last = lite.last_insert_rowid();
            ids.extend(last - AT_ONCE as i64 + 1..=last);
        }
        for a in chunks.remainder() {
            ids.push(self.append(a)?);
        }
        Ok(())
    }

    /// Appends `a`; its row id.
    pub(crate) fn append(&mut self, a: &NewAccess) -> Result<i64> {
        let values = params![
            a.import_id,
            a.system,
            a.log_id,
            a.at,
            a.user_id,
            a.user_name,
            a.user_title,
            a.access_unit,
            a.subject,
            a.subject_unit,
            a.action,
            a.resource_type,
            a.purpose,
            a.subject_name,
        ];
        self.conn.insert_with(&mut self.insert, values)
    }
}

/// What the yearly figures read of a case.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub id: String,
    pub unit_id: String,
    pub system: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub result: Option<String>,
    pub handed_out_at: Option<String>,
}

/// Rounds of `routine` held at `[start, end)`.
pub fn rounds_held(
    conn: &Db,
    routine: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<i64> {
    conn
        .prepare_cached(
            "SELECT COUNT(*) FROM rounds WHERE routine_id = ?1 AND occurrence >= ?2 AND occurrence < ?3",
        )?
        .query_row(params![routine, ts(start), ts(end)], |r| r.get(0))
}

/// The live (not purged) cases of `routine` opened at `[start, end)`, by id.
pub(crate) fn cases_opened(
    conn: &Db,
    routine: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<CaseFacts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, unit_id, system, opened_at, closed_at, result, handed_out_at FROM cases
         WHERE routine_id = ?1 AND purged_at IS NULL AND opened_at >= ?2 AND opened_at < ?3
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![routine, ts(start), ts(end)], |r| {
        Ok(CaseFacts {
            id: r.get(0)?,
            unit_id: r.get(1)?,
            system: r.get(2)?,
            opened_at: r.get(3)?,
            closed_at: r.get(4)?,
            result: r.get(5)?,
            handed_out_at: r.get(6)?,
        })
    })?;
    rows.collect::<Result<_>>()
}

/// The steps of those cases: (case, due date, answered at).
pub(crate) fn steps_of_cases_opened(
    conn: &Db,
    routine: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.case_id, t.due_date, t.answered_at FROM tasks t JOIN cases c ON c.id = t.case_id
         WHERE c.routine_id = ?1 AND c.purged_at IS NULL AND c.opened_at >= ?2 AND c.opened_at < ?3",
    )?;
    let rows = stmt.query_map(params![routine, ts(start), ts(end)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect::<Result<_>>()
}

/// The members of `routine`'s rounds at `[start, end)`: (unit, person, drawn).
pub(crate) fn round_members_in(
    conn: &Db,
    routine: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(String, String, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.unit_id, m.person_id, m.drawn IS NOT NULL FROM round_members m
         JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3",
    )?;
    let rows = stmt.query_map(params![routine, ts(start), ts(end)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect::<Result<_>>()
}

/// The users reviewed (a closed case) in those rounds: (unit, person).
pub(crate) fn reviewed_in(
    conn: &Db,
    routine: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.unit_id, c.subject_person_id FROM cases c JOIN rounds r ON r.id = c.round_id
         WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3
           AND c.closed_at IS NOT NULL AND c.subject_person_id IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![routine, ts(start), ts(end)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect::<Result<_>>()
}
