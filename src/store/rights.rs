//! The needs-and-risk analysis in the database: every import is a version, kept whole; the
//! analysis in force is the latest version. People's job titles live on `people.title`.

use super::db::{Db, OptionalExtension, params};
use super::{date, parse_date, ts};
use crate::Result;
use crate::roster::needs_file::{Need, Scope, title_key};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// One version of the analysis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Version {
    pub id: i64,
    pub imported_at: String,
    pub file: String,
    pub actor: String,
    pub rows: i64,
    pub digest: String,
}

/// Stores `needs` as a new version (inside the caller's transaction) and returns it.
pub(crate) fn insert_version(
    conn: &Db,
    file: &str,
    actor: &str,
    needs: &[Need],
    now: DateTime<Utc>,
) -> Result<Version> {
    let mut digest = Sha256::new();
    for n in needs {
        let record = serde_json::to_string(&(
            &n.unit,
            &n.title,
            &n.system,
            n.scope.as_str(),
            &n.risk,
            &n.decided_by,
            date(n.decided_on),
        ))
        .unwrap_or_default();
        digest.update(record.as_bytes());
        digest.update([b'\n']);
    }
    let digest = hex::encode(digest.finalize());
    let id: i64 = conn.query_row(
        "INSERT INTO rights_versions (id, imported_at, file, actor, rows, digest)
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM rights_versions), ?1, ?2, ?3, ?4, ?5)
         RETURNING id",
        params![ts(now), file, actor, needs.len() as i64, digest],
        |r| r.get(0),
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO rights_needs (version, line, unit_id, title, title_key, system, scope, risk,
             decided_by, decided_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for n in needs {
        insert.execute(params![
            id,
            n.line as i64,
            n.unit,
            n.title,
            title_key(&n.title),
            n.system,
            n.scope.as_str(),
            n.risk,
            n.decided_by,
            date(n.decided_on)
        ])?;
    }
    Ok(Version {
        id,
        imported_at: ts(now),
        file: file.to_string(),
        actor: actor.to_string(),
        rows: needs.len() as i64,
        digest,
    })
}

/// The version in force at `at` (the latest imported by then), or the latest of all when `at`
/// is `None`.
pub(crate) fn in_force(conn: &Db, at: Option<DateTime<Utc>>) -> Result<Option<Version>> {
    let read = |r: &super::db::Row<'_>| {
        Ok(Version {
            id: r.get(0)?,
            imported_at: r.get(1)?,
            file: r.get(2)?,
            actor: r.get(3)?,
            rows: r.get(4)?,
            digest: r.get(5)?,
        })
    };
    match at {
        Some(at) => conn
            .prepare_cached(
                "SELECT id, imported_at, file, actor, rows, digest FROM rights_versions
                 WHERE imported_at <= ?1 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([ts(at)], read)
            .optional(),
        None => conn
            .prepare_cached(
                "SELECT id, imported_at, file, actor, rows, digest FROM rights_versions
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row((), read)
            .optional(),
    }
}

/// The needs of version `version`, by unit, system and title.
pub(crate) fn needs(conn: &Db, version: i64) -> Result<Vec<Need>> {
    let mut stmt = conn.prepare_cached(
        "SELECT line, unit_id, title, system, scope, risk, decided_by, decided_on
         FROM rights_needs WHERE version = ?1 ORDER BY unit_id, system, title_key",
    )?;
    let rows = stmt.query_map(params![version], |r| {
        let scope: String = r.get(4)?;
        let decided_on: String = r.get(7)?;
        Ok(Need {
            line: r.get::<i64>(0)?.max(0) as u64,
            unit: r.get(1)?,
            title: r.get(2)?,
            system: r.get(3)?,
            // Stored by `insert_version` from a parsed scope: an unknown word is a changed
            // database, read as the narrowest.
            scope: Scope::parse(&scope).unwrap_or(Scope::None),
            risk: r.get(5)?,
            decided_by: r.get(6)?,
            decided_on: parse_date(&decided_on)?,
        })
    })?;
    rows.collect()
}

/// The units of the roster now (not removed): id, name, parent.
pub(crate) fn units(conn: &Db) -> Result<Vec<(String, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, parent_id FROM units WHERE removed_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}
