//! What an access-rights review reads and writes: the accounts of a unit's people (also of
//! those who have left), when each account was last used in the imported log, the log's
//! accounts that belong to nobody, and the review's decision per account.

use super::db::{Db, OptionalExtension, params};
use super::{parse_date, ts};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// An account of someone at a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub person_id: String,
    pub name: String,
    pub system: String,
    pub account: String,
    pub active_to: Option<NaiveDate>,
    /// When the person left the roster (the file no longer lists them).
    pub removed_at: Option<String>,
    /// Whether the roster still lists the account (a person who left the roster keeps their
    /// accounts only in `account_holders`).
    pub listed: bool,
    /// The person's job title in the roster, if given.
    pub title: Option<String>,
    pub active_from: Option<NaiveDate>,
}

/// The accounts in `system` of everyone whose home unit is `unit`, listed or remembered.
pub(crate) fn holders(conn: &Db, unit: &str, system: &str) -> Result<Vec<Holder>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.name, h.system, h.account, p.active_to, p.removed_at,
                EXISTS (SELECT 1 FROM accounts a WHERE a.system = h.system AND a.account = h.account),
                p.title, p.active_from
         FROM account_holders h JOIN people p ON p.id = h.person_id
         -- The unit's people first (by `people_by_home_unit`), then their accounts: joined the
         -- other way round, SQLite reads every account of the system.
         WHERE h.person_id IN (SELECT id FROM people WHERE home_unit = ?1) AND h.system = ?2
         ORDER BY p.name, p.id, h.account",
    )?;
    let rows = stmt.query_map(params![unit, system], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<String>(3)?,
            r.get::<Option<String>>(4)?,
            r.get::<Option<String>>(5)?,
            r.get::<bool>(6)?,
            r.get::<Option<String>>(7)?,
            r.get::<Option<String>>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (person_id, name, system, account, active_to, removed_at, listed, title, active_from) =
            row?;
        out.push(Holder {
            person_id,
            name,
            system,
            account,
            active_to: active_to.as_deref().map(parse_date).transpose()?,
            removed_at,
            listed,
            title: title.filter(|t| !t.is_empty()),
            active_from: active_from.as_deref().map(parse_date).transpose()?,
        });
    }
    Ok(out)
}

/// The home units of everyone in the roster now with an account in any system.
pub(crate) fn units_with_any_account(conn: &Db) -> Result<std::collections::BTreeSet<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT p.home_unit FROM accounts a JOIN people p ON p.id = a.person_id
         WHERE p.home_unit IS NOT NULL AND p.removed_at IS NULL",
    )?;
    let rows = stmt.query_map((), |r| r.get::<String>(0))?;
    rows.collect()
}

/// Since when the roster has listed `person`'s account `account` in `system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    /// Since the first roster import: as long as loggkoll knows.
    FromTheStart,
    /// Since a later import, at this instant.
    Since(DateTime<Utc>),
    /// No record lists it.
    Unknown,
}

/// When the roster first listed the account (from the person's history).
pub(crate) fn account_listed(
    conn: &Db,
    person: &str,
    system: &str,
    account: &str,
) -> Result<Listed> {
    let first: Option<i64> = conn
        .prepare_cached("SELECT MIN(id) FROM roster_imports")?
        .query_row((), |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT h.import_id, r.imported_at, h.record FROM person_history h
         JOIN roster_imports r ON r.id = h.import_id
         WHERE h.person_id = ?1 ORDER BY h.import_id",
    )?;
    let rows = stmt.query_map([person], |r| {
        Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?))
    })?;
    for row in rows {
        let (import, at, record) = row?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&record) else {
            continue;
        };
        let lists = v["accounts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["system"] == system && x["account"] == account)
        });
        if lists {
            return Ok(if Some(import) == first {
                Listed::FromTheStart
            } else {
                Listed::Since(super::parse_ts(&at)?)
            });
        }
    }
    Ok(Listed::Unknown)
}

/// The units `person` works at, the home unit first.
pub(crate) fn person_units(conn: &Db, person: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT unit_id FROM person_units WHERE person_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([person], |r| r.get::<String>(0))?;
    rows.collect()
}

/// The job title the log gives the user of access row `row`, if any.
pub(crate) fn log_title(conn: &Db, row: i64) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT t.text FROM access_log a JOIN log_strings t ON t.id = a.user_title WHERE a.id = ?1",
    )?
    .query_row([row], |r| r.get::<String>(0))
    .optional()
    .map(|t| t.filter(|t| !t.is_empty()))
}

/// The units whose people hold accounts in any of `systems` (by home unit).
pub(crate) fn units_with_accounts(conn: &Db, systems: &[String]) -> Result<Vec<String>> {
    let mut out = std::collections::BTreeSet::new();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT p.home_unit FROM accounts a JOIN people p ON p.id = a.person_id
         WHERE a.system = ?1 AND p.home_unit IS NOT NULL AND p.removed_at IS NULL",
    )?;
    for system in systems {
        let rows = stmt.query_map([system], |r| r.get::<String>(0))?;
        for unit in rows {
            out.insert(unit?);
        }
    }
    Ok(out.into_iter().collect())
}

/// Per account of `system` in the imported log: its accesses and its last (Unix seconds).
pub(crate) fn log_accounts(conn: &Db, system: &str) -> Result<BTreeMap<String, (i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT account, SUM(rows), MAX(newest) FROM log_digests WHERE system = ?1 GROUP BY account",
    )?;
    let rows = stmt.query_map([system], |r| {
        Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?)))
    })?;
    rows.collect::<Result<_>>()
}

/// Whether anyone, ever, held `account` in `system`.
pub(crate) fn has_holder(conn: &Db, system: &str, account: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM account_holders WHERE system = ?1 AND account = ?2)",
    )?
    .query_row(params![system, account], |r| r.get(0))
}

/// A decision on one account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Decision {
    pub system: String,
    pub account: String,
    /// `keep` or `end`.
    pub decision: String,
    pub by: String,
    /// Who decided, by name (the id when they are no longer in the roster).
    #[serde(skip)]
    pub by_name: String,
    pub at: String,
    pub comment: Option<String>,
}

pub(crate) fn decide(conn: &Db, case: &str, d: &Decision) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO account_decisions (case_id, system, account, decision, decided_by, decided_at, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (case_id, system, account) DO UPDATE SET decision = excluded.decision,
            decided_by = excluded.decided_by, decided_at = excluded.decided_at,
            comment = excluded.comment",
    )?
    .execute(params![
        case,
        d.system,
        d.account,
        d.decision,
        d.by,
        d.at,
        d.comment
    ])?;
    Ok(())
}

/// The decisions of `case`, by (system, account).
pub(crate) fn decisions(conn: &Db, case: &str) -> Result<BTreeMap<(String, String), Decision>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.system, d.account, d.decision, d.decided_by, d.decided_at, d.comment,
            COALESCE((SELECT p.name FROM people p WHERE p.id = d.decided_by), d.decided_by)
         FROM account_decisions d WHERE d.case_id = ?1",
    )?;
    let rows = stmt.query_map([case], |r| {
        Ok(Decision {
            system: r.get(0)?,
            account: r.get(1)?,
            decision: r.get(2)?,
            by: r.get(3)?,
            at: r.get(4)?,
            comment: r.get(5)?,
            by_name: r.get(6)?,
        })
    })?;
    let mut out = BTreeMap::new();
    for d in rows {
        let d = d?;
        out.insert((d.system.clone(), d.account.clone()), d);
    }
    Ok(out)
}

/// Decisions made in `[from, to)` by kind (`keep`, `end`), for the yearly figures.
pub(crate) fn decision_counts(
    conn: &Db,
    routine: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.decision, COUNT(*) FROM account_decisions d JOIN cases c ON c.id = d.case_id
         WHERE c.routine_id = ?1 AND d.decided_at >= ?2 AND d.decided_at < ?3
         GROUP BY d.decision",
    )?;
    let rows = stmt.query_map(params![routine, ts(from), ts(to)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect::<Result<_>>()
}

/// Forgets the decisions of a purged case.
pub(crate) fn purge(conn: &Db, case: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM account_decisions WHERE case_id = ?1")?
        .execute([case])?;
    Ok(())
}
