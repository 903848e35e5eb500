//! The workshop's record: every version of a routine or an email template published from the
//! overview (`publications`), and the versions of a routine as the engine met them
//! (`routine_versions`), read together as one history.

use super::db::{Db, OptionalExtension, params};
use super::ts;
use crate::Result;
use chrono::{DateTime, Utc};

/// What a publication is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Routine,
    Template,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Routine => "routine",
            Kind::Template => "template",
        }
    }
}

/// One version to record.
#[derive(Debug, Clone)]
pub(crate) struct Publication<'a> {
    pub kind: Kind,
    /// The routine's id, or the template's name (`mail/task.txt`).
    pub name: &'a str,
    /// SHA-256 of `source`, hex.
    pub hash: &'a str,
    /// The hash of the text the edit started from (none: a new routine).
    pub base_hash: Option<&'a str>,
    pub path: &'a str,
    pub source: &'a str,
    pub actor: &'a str,
    pub reason: &'a str,
}

/// Records `p` at `now`; returns its id.
pub(crate) fn publish(conn: &Db, p: &Publication, now: DateTime<Utc>) -> Result<i64> {
    conn.query_row(
        "INSERT INTO publications (id, kind, name, hash, base_hash, path, source, actor, reason, published_at)
         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM publications), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         RETURNING id",
        params![
            p.kind.as_str(),
            p.name,
            p.hash,
            p.base_hash,
            p.path,
            p.source,
            p.actor,
            p.reason,
            ts(now)
        ],
        |r| r.get(0),
    )
}

/// One version in a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub hash: String,
    /// When it was published, or (read from the file) first used.
    pub at: String,
    /// Who published it (none: read from the file).
    pub actor: Option<String>,
    pub reason: Option<String>,
    pub path: String,
    pub source: String,
}

/// Every version of `name`, the oldest first: those published, and for a routine those the
/// engine used that were never published here (read from the file), each hash once, at its
/// first appearance.
pub(crate) fn history(conn: &Db, kind: Kind, name: &str) -> Result<Vec<Version>> {
    let mut out: Vec<Version> = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT hash, published_at, actor, reason, path, source FROM publications
         WHERE kind = ?1 AND name = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![kind.as_str(), name], |r| {
        Ok(Version {
            hash: r.get(0)?,
            at: r.get(1)?,
            actor: Some(r.get(2)?),
            reason: Some(r.get(3)?),
            path: r.get(4)?,
            source: r.get(5)?,
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    if kind == Kind::Routine {
        let mut stmt = conn.prepare_cached(
            "SELECT hash, registered_at, path, source FROM routine_versions
             WHERE routine_id = ?1 ORDER BY registered_at",
        )?;
        let rows = stmt.query_map([name], |r| {
            Ok(Version {
                hash: r.get(0)?,
                at: r.get(1)?,
                actor: None,
                reason: None,
                path: r.get(2)?,
                source: r.get(3)?,
            })
        })?;
        for row in rows {
            let v = row?;
            match out.iter_mut().find(|o| o.hash == v.hash) {
                // Used before it was published (an edit published back to an earlier text):
                // the first time counts.
                Some(o) if v.at < o.at && o.actor.is_none() => o.at = v.at,
                Some(_) => {}
                None => out.push(v),
            }
        }
        // At the same second, the version read from the file came first: it is the one a
        // publication replaced.
        out.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then(a.actor.is_some().cmp(&b.actor.is_some()))
        });
    }
    Ok(out)
}

/// The text of version `hash` of `name`, wherever it was recorded.
pub(crate) fn text_of(conn: &Db, kind: Kind, name: &str, hash: &str) -> Result<Option<String>> {
    let published: Option<String> = conn
        .prepare_cached(
            "SELECT source FROM publications WHERE kind = ?1 AND name = ?2 AND hash = ?3
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![kind.as_str(), name, hash], |r| r.get(0))
        .optional()?;
    if published.is_some() || kind == Kind::Template {
        return Ok(published);
    }
    Ok(super::rounds::version_source(conn, hash)?.map(|(_, source)| source))
}

/// The latest publication of `name` with text `hash`: who and when, for a refusal that says
/// who published the version an edit did not start from.
pub(crate) fn published_as(
    conn: &Db,
    kind: Kind,
    name: &str,
    hash: &str,
) -> Result<Option<Version>> {
    Ok(history(conn, kind, name)?
        .into_iter()
        .rev()
        .find(|v| v.hash == hash && v.actor.is_some()))
}
