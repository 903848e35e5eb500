//! The roster in the database: the current organisation (units, people, their units, roles and
//! accounts) and its history. An import replaces the current state in one transaction; people and
//! units that disappear are marked removed, never deleted, and every change is kept in
//! `person_history`/`unit_history`, so past rounds stay explainable after people leave.

use super::db::{Db, OptionalExtension, params};
use super::{date, parse_date, ts};
use crate::Result;
use crate::roster::org::Org;
pub use crate::roster::org::{Delegation, PersonInfo};
use crate::roster::{Role, Roster};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    pub units: usize,
    pub people: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// Replaces the roster with `roster` (inside the caller's transaction).
pub fn replace(
    conn: &Db,
    roster: &Roster,
    units_file: &str,
    people_file: &str,
    now: DateTime<Utc>,
) -> Result<ImportSummary> {
    let at = ts(now);
    let unit_records: Vec<(String, String)> = roster
        .units
        .iter()
        .map(|u| (u.id.clone(), serde_json::to_string(u).unwrap_or_default()))
        .collect();
    // People's own personnummer only as a keyed hash; the history keeps the hash, so that a
    // changed number is a change.
    let hasher = crate::personnummer::KeyedHash::new(super::evidence::person_key(conn)?.as_bytes());
    let hashes: Vec<Option<String>> = roster
        .people
        .iter()
        .map(|p| p.personnummer.as_ref().map(|d| hasher.hash(d.as_bytes())))
        .collect();
    let person_records: Vec<(String, String)> = roster
        .people
        .iter()
        .zip(&hashes)
        .map(|(p, hash)| {
            let mut v = serde_json::to_value(p).unwrap_or_default();
            if let Some(h) = hash {
                v["personnummer_hash"] = serde_json::json!(h);
            }
            (p.id.clone(), v.to_string())
        })
        .collect();
    let mut digest = Sha256::new();
    for (_, r) in unit_records.iter().chain(&person_records) {
        digest.update(r.as_bytes());
        digest.update([b'\n']);
    }
    let import_id: i64 = conn.query_row(
        "INSERT INTO roster_imports (imported_at, units_file, people_file, units, people, digest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            at,
            units_file,
            people_file,
            roster.units.len() as i64,
            roster.people.len() as i64,
            hex::encode(digest.finalize())
        ],
        |r| r.get(0),
    )?;
    let mut summary = ImportSummary {
        import_id,
        units: roster.units.len(),
        people: roster.people.len(),
        ..ImportSummary::default()
    };

    replace_units(conn, roster, &unit_records, import_id, &at)?;
    let last_people = latest(conn, "person_history", "person_id")?;
    conn.execute_batch(
        "DELETE FROM person_units; DELETE FROM person_roles; DELETE FROM accounts;",
    )?;
    {
        let mut history = conn.prepare_cached(
            "INSERT INTO person_history (person_id, import_id, record) VALUES (?1, ?2, ?3)",
        )?;
        let mut upsert = conn.prepare_cached(
            "INSERT INTO people (id, name, email, home_unit, unit_count, active_from, active_to,
                removed_at, personnummer_hash, title)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
                home_unit = excluded.home_unit, unit_count = excluded.unit_count,
                active_from = excluded.active_from, active_to = excluded.active_to,
                removed_at = NULL, personnummer_hash = excluded.personnummer_hash,
                title = excluded.title",
        )?;
        let mut unit_row = conn.prepare_cached(
            "INSERT INTO person_units (person_id, unit_id, position) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?;
        let mut role_row = conn.prepare_cached(
            "INSERT INTO person_roles (person_id, role, unit_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?;
        let mut account_row = conn.prepare_cached(
            "INSERT INTO accounts (system, account, person_id) VALUES (?1, ?2, ?3)",
        )?;
        let mut holder_row = conn.prepare_cached(
            "INSERT INTO account_holders (system, account, person_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (system, account) DO UPDATE SET person_id = excluded.person_id",
        )?;
        for ((person, (id, record)), hash) in roster.people.iter().zip(&person_records).zip(&hashes)
        {
            upsert.execute(params![
                person.id,
                person.name,
                person.email,
                person.home_unit(),
                person.units.len().max(1) as i64,
                person.active_from.map(date),
                person.active_to.map(date),
                hash,
                person.title
            ])?;
            for (i, unit) in person.units.iter().enumerate() {
                unit_row.execute(params![person.id, unit, i as i64])?;
            }
            for r in &person.roles {
                role_row.execute(params![person.id, r.role.as_str(), r.unit])?;
            }
            for a in &person.accounts {
                account_row.execute(params![a.system, a.account, person.id])?;
                holder_row.execute(params![a.system, a.account, person.id])?;
            }
            match last_people.get(id) {
                Some(last) if last == record => summary.unchanged += 1,
                Some(last) if last != REMOVED_RECORD => {
                    summary.changed += 1;
                    history.execute(params![id, import_id, record])?;
                }
                _ => {
                    summary.added += 1;
                    history.execute(params![id, import_id, record])?;
                }
            }
        }
        for (id, record) in &last_people {
            if record != REMOVED_RECORD && roster.person(id).is_none() {
                summary.removed += 1;
                history.execute(params![id, import_id, REMOVED_RECORD])?;
                conn.execute(
                    "UPDATE people SET removed_at = ?2 WHERE id = ?1",
                    params![id, at],
                )?;
            }
        }
    }
    Ok(summary)
}

/// The latest history record of everyone in `table`, by `key`: to tell what changed.
fn latest(conn: &Db, table: &str, key: &str) -> Result<HashMap<String, String>> {
    let sql = format!(
        "SELECT h.{key}, h.record FROM {table} h
         WHERE h.import_id = (SELECT MAX(import_id) FROM {table} WHERE {key} = h.{key})"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
    rows.collect::<Result<_>>()
}

/// The history record of someone or something no longer in the roster.
const REMOVED_RECORD: &str = "{\"removed\":true}";

/// The units of `roster` written (`records`: each unit's record), with their history and the
/// units gone marked removed.
fn replace_units(
    conn: &Db,
    roster: &Roster,
    unit_records: &[(String, String)],
    import_id: i64,
    at: &str,
) -> Result<()> {
    let last_units = latest(conn, "unit_history", "unit_id")?;

    let mut history = conn.prepare_cached(
        "INSERT INTO unit_history (unit_id, import_id, record) VALUES (?1, ?2, ?3)",
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO units (id, name, parent_id, removed_at) VALUES (?1, ?2, ?3, NULL)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id,
                                            removed_at = NULL",
    )?;
    for (unit, (id, record)) in roster.units.iter().zip(unit_records) {
        upsert.execute(params![unit.id, unit.name, unit.parent])?;
        if last_units.get(id) != Some(record) {
            history.execute(params![id, import_id, record])?;
        }
    }
    for (id, record) in &last_units {
        if record != REMOVED_RECORD && roster.unit(id).is_none() {
            history.execute(params![id, import_id, REMOVED_RECORD])?;
            conn.execute(
                "UPDATE units SET removed_at = ?2 WHERE id = ?1",
                params![id, at],
            )?;
        }
    }
    Ok(())
}

/// How many people the roster holds now (those not removed).
pub(crate) fn people_in_roster(conn: &Db) -> Result<usize> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM people WHERE removed_at IS NULL")?
        .query_row((), |r| r.get(0))?;
    Ok(n.max(0) as usize)
}

/// When the first roster was imported: nothing is scheduled before there is anyone to draw.
pub(crate) fn first_import_at(conn: &Db) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = conn
        .query_row("SELECT MIN(imported_at) FROM roster_imports", (), |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    at.map(|s| super::parse_ts(&s)).transpose()
}

/// A member of a round's population: someone active on the day with an account in the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person_id: String,
    pub home_unit: String,
    pub account: String,
    /// The person's further accounts in the system (after `account`, by name).
    pub other_accounts: Vec<String>,
    /// How many units the person works at.
    pub units: usize,
}

/// Everyone active on `day`, not removed, holding an account in `system`, with a home unit. A
/// person with two accounts in the system counts once (the first account by name).
pub fn population(conn: &Db, system: &str, day: NaiveDate) -> Result<Vec<Member>> {
    let day = date(day);
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.home_unit, MIN(a.account), p.unit_count, COUNT(*), GROUP_CONCAT(a.account, ';')
         FROM accounts a JOIN people p ON p.id = a.person_id
         WHERE a.system = ?1 AND p.removed_at IS NULL AND p.home_unit IS NOT NULL
           AND (p.active_from IS NULL OR p.active_from <= ?2)
           AND (p.active_to IS NULL OR p.active_to >= ?2)
         GROUP BY p.id
         ORDER BY p.id",
    )?;
    let rows = stmt.query_map(params![system, day], |r| {
        let account: String = r.get(2)?;
        let other_accounts = if r.get::<i64>(4)? > 1 {
            let mut all: Vec<String> = r
                .get::<String>(5)?
                .split(';')
                .filter(|a| *a != account)
                .map(str::to_string)
                .collect();
            all.sort();
            all
        } else {
            Vec::new()
        };
        Ok(Member {
            person_id: r.get(0)?,
            home_unit: r.get(1)?,
            account,
            other_accounts,
            units: r.get::<i64>(3)? as usize,
        })
    })?;
    rows.collect::<Result<_>>()
}

pub fn people(conn: &Db) -> Result<Vec<PersonInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, email, active_from, active_to, removed_at IS NOT NULL, title FROM people",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<Option<String>>(3)?,
            r.get::<Option<String>>(4)?,
            r.get::<bool>(5)?,
            r.get::<Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, email, from, to, removed, title) = row?;
        out.push(PersonInfo {
            id,
            name,
            email,
            active_from: from.as_deref().map(parse_date).transpose()?,
            active_to: to.as_deref().map(parse_date).transpose()?,
            removed,
            title,
        });
    }
    Ok(out)
}

/// Units: id → (name, parent), removed ones included (old cases point to them).
pub fn units(conn: &Db) -> Result<HashMap<String, (String, Option<String>)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, parent_id FROM units")?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<String>(0)?,
            (r.get::<String>(1)?, r.get::<Option<String>>(2)?),
        ))
    })?;
    rows.collect::<Result<_>>()
}

/// Role holders: (role, unit) → person ids, in id order.
pub fn role_holders(conn: &Db) -> Result<HashMap<(Role, String), Vec<String>>> {
    let mut stmt = conn
        .prepare_cached("SELECT role, unit_id, person_id FROM person_roles ORDER BY person_id")?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
        ))
    })?;
    let mut out: HashMap<(Role, String), Vec<String>> = HashMap::new();
    for row in rows {
        let (role, unit, person) = row?;
        if let Ok(role) = role.parse::<Role>() {
            out.entry((role, unit)).or_default().push(person);
        }
    }
    Ok(out)
}

pub fn delegations(conn: &Db) -> Result<Vec<Delegation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, holder_id, deputy_id, role, valid_from, valid_to FROM delegations
         WHERE revoked_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok((
            r.get::<i64>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<String>(3)?,
            r.get::<String>(4)?,
            r.get::<String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, holder_id, deputy_id, role, from, to) = row?;
        let Ok(role) = role.parse::<Role>() else {
            continue;
        };
        out.push(Delegation {
            id,
            holder_id,
            deputy_id,
            role,
            valid_from: parse_date(&from)?,
            valid_to: parse_date(&to)?,
        });
    }
    Ok(out)
}

pub(crate) fn add_delegation(
    conn: &Db,
    holder: &str,
    deputy: &str,
    role: Role,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<i64> {
    conn.query_row(
        "INSERT INTO delegations (holder_id, deputy_id, role, valid_from, valid_to, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![holder, deputy, role.as_str(), date(from), date(to), ts(now)],
        |r| r.get(0),
    )
}

pub(crate) fn revoke_delegation(conn: &Db, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE delegations SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now)],
    )? == 1)
}

/// Who holds `account` in the roster now: (system, person) pairs.
pub(crate) fn holders_of_account(conn: &Db, account: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, person_id FROM accounts WHERE account = ?1 ORDER BY system, person_id",
    )?;
    let rows = stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// The units a person belongs to, their first unit first.
pub(crate) fn units_of_person(conn: &Db, person: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT unit_id FROM person_units WHERE person_id = ?1 ORDER BY position, unit_id",
    )?;
    let rows = stmt.query_map([person], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// The accounts of a person: (system, account).
pub(crate) fn accounts_of_person(conn: &Db, person: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT system, account FROM accounts WHERE person_id = ?1 ORDER BY system, account",
    )?;
    let rows = stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// A person's first account (by name) in `system`.
pub(crate) fn first_account(conn: &Db, person: &str, system: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT MIN(account) FROM accounts WHERE person_id = ?1 AND system = ?2")?
        .query_row(params![person, system], |r| r.get(0))
}

/// Whether `person` is in the roster (not removed).
pub(crate) fn person_exists(conn: &Db, person: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM people WHERE id = ?1 AND removed_at IS NULL)",
    )?
    .query_row([person], |r| r.get(0))
}

/// Whether `person` holds `role` at any unit.
pub(crate) fn holds_role(conn: &Db, person: &str, role: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM person_roles WHERE person_id = ?1 AND role = ?2)",
    )?
    .query_row(params![person, role], |r| r.get(0))
}

/// The day the next employment ends, on or after `today` (people still in the roster).
pub(crate) fn next_employment_end(conn: &Db, today: &str) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT MIN(active_to) FROM people WHERE active_to >= ?1 AND removed_at IS NULL",
    )?
    .query_row([today], |r| r.get(0))
}

/// People who have left by `today`: removed from the roster or past their last day.
pub fn gone(conn: &Db, today: &str) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM people WHERE removed_at IS NOT NULL OR active_to < ?1")?;
    let rows = stmt.query_map([today], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// The roster's latest import, for the overview's roster page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LastImport {
    pub id: i64,
    pub imported_at: String,
    pub units_file: String,
    pub people_file: String,
    pub units: i64,
    pub people: i64,
    /// The people it added, changed and removed: (person id, `added`, `changed` or `removed`).
    pub changes: Vec<(String, String)>,
}

/// The latest roster import and who changed in it.
pub(crate) fn last_import(conn: &Db) -> Result<Option<LastImport>> {
    let head = conn
        .prepare_cached(
            "SELECT id, imported_at, units_file, people_file, units, people FROM roster_imports
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row((), |r| {
            Ok(LastImport {
                id: r.get(0)?,
                imported_at: r.get(1)?,
                units_file: r.get(2)?,
                people_file: r.get(3)?,
                units: r.get(4)?,
                people: r.get(5)?,
                changes: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut head) = head else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT h.person_id,
                CASE WHEN h.record = '{\"removed\":true}' THEN 'removed'
                     WHEN EXISTS (SELECT 1 FROM person_history e
                                  WHERE e.person_id = h.person_id AND e.import_id < h.import_id)
                     THEN 'changed'
                     ELSE 'added' END
         FROM person_history h WHERE h.import_id = ?1 ORDER BY h.person_id",
    )?;
    let rows = stmt.query_map([head.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    head.changes = rows.collect::<Result<_>>()?;
    Ok(Some(head))
}

/// How many people of the roster (not removed) work at each unit.
pub(crate) fn headcounts(conn: &Db) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pu.unit_id, COUNT(*) FROM person_units pu JOIN people p ON p.id = pu.person_id
         WHERE p.removed_at IS NULL GROUP BY pu.unit_id",
    )?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// The people (not removed) who work at `unit`, by id.
pub(crate) fn members_of(conn: &Db, unit: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pu.person_id FROM person_units pu JOIN people p ON p.id = pu.person_id
         WHERE pu.unit_id = ?1 AND p.removed_at IS NULL ORDER BY p.name, p.id",
    )?;
    let rows = stmt.query_map([unit], |r| r.get(0))?;
    rows.collect::<Result<_>>()
}

/// The roles `person` holds: (role, unit).
pub(crate) fn roles_of_person(conn: &Db, person: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, unit_id FROM person_roles WHERE person_id = ?1 ORDER BY role, unit_id",
    )?;
    let rows = stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_>>()
}

/// The key in `meta` that counts changes to the roster and delegations.
pub const VERSION_KEY: &str = "org_version";

pub fn current_version(conn: &Db) -> Result<i64> {
    Ok(super::meta_get(conn, VERSION_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Marks the organisation as changed (call in the transaction that changes it).
pub fn bump_version(conn: &Db) -> Result<()> {
    let next = current_version(conn)? + 1;
    super::meta_set(conn, VERSION_KEY, &next.to_string())
}

impl Org {
    /// The organisation as the store holds it now.
    pub fn load(conn: &Db) -> Result<Org> {
        Ok(Org {
            units: units(conn)?,
            holders: role_holders(conn)?,
            delegations: delegations(conn)?,
            people: people(conn)?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
            version: current_version(conn)?,
        })
    }
}
