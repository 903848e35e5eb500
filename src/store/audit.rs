//! The audit trail: every event (round drawn, case opened, answered, reminded, escalated, roster
//! imported, purged, …) appended with its actor and time to a SHA-256 hash chain. The chained
//! fields hold nothing personal; personal details (comments, a client's identity) go to
//! `audit_personal`, represented in the chain only by a salted digest, so that a purge can erase
//! them and the chain still verifies. Triggers refuse UPDATE and DELETE on the chain itself.

use super::db::{Db, OptionalExtension, Value as Param, params};
use super::ts;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event to append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// A person id, or `system` for the engine's own acts.
    pub actor: &'a str,
    /// `round.drawn`, `case.opened`, `case.answered`, …
    pub event: &'a str,
    pub case_id: Option<&'a str>,
    pub round_id: Option<i64>,
    /// What happened, without personal details.
    pub data: Value,
    /// Personal details, kept apart and erasable.
    pub personal: Option<Value>,
}

/// The chained hash over an entry's fields in order: seq, at, actor, event, case, round, data,
/// personal digest, previous hash; each followed by a unit separator.
fn chain_hash(fields: [&str; 9]) -> String {
    let mut h = Sha256::new();
    for part in fields {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// The salt of entry `seq`'s personal details: keyed with the installation's audit key, so it
/// cannot be guessed from outside (no one can confirm a guessed client number against a digest)
/// and is the same when the same entry is written again (a rerun after a crash writes the same
/// chain).
fn salt_for(conn: &Db, seq: i64) -> Result<String> {
    let key: String = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'audit_key'")?
        .query_row((), |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::runtime("the database has no audit key"))?;
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0x1f]);
    h.update(seq.to_string().as_bytes());
    Ok(hex::encode(&h.finalize()[..16]))
}

fn personal_digest(salt: &str, data: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0x1f]);
    h.update(data.as_bytes());
    hex::encode(h.finalize())
}

/// Appends `event` at `at`; returns its sequence number. Call inside the transaction of the act
/// it records, so that both or neither are kept.
pub fn append(conn: &Db, at: DateTime<Utc>, event: &Event) -> Result<i64> {
    let (last_seq, prev): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row((), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let seq = last_seq + 1;
    let at = ts(at);
    let data = event.data.to_string();
    let personal = event
        .personal
        .as_ref()
        .map(|p| -> Result<(String, String, String)> {
            let salt = salt_for(conn, seq)?;
            let text = p.to_string();
            let digest = personal_digest(&salt, &text);
            Ok((salt, text, digest))
        })
        .transpose()?;
    let digest = personal.as_ref().map(|(_, _, d)| d.as_str());
    let round = event.round_id.map(|r| r.to_string()).unwrap_or_default();
    let hash = chain_hash([
        &seq.to_string(),
        &at,
        event.actor,
        event.event,
        event.case_id.unwrap_or(""),
        &round,
        &data,
        digest.unwrap_or(""),
        &prev,
    ]);
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, actor, event, case_id, round_id, data, personal_digest, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq,
        at,
        event.actor,
        event.event,
        event.case_id,
        event.round_id,
        data,
        digest,
        prev,
        hash
    ])?;
    if let Some((salt, text, _)) = personal {
        conn.prepare_cached("INSERT INTO audit_personal (seq, salt, data) VALUES (?1, ?2, ?3)")?
            .execute(params![seq, salt, text])?;
    }
    Ok(seq)
}

/// The first entry that does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub at: String,
    pub event: String,
    pub case_id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit entry {} ({}, `{}`", self.seq, self.at, self.event)?;
        if let Some(case) = &self.case_id {
            write!(f, ", case {case}")?;
        }
        write!(f, "): {}", self.reason)
    }
}

/// The outcome of [`verify`]: how many entries were checked, and the first broken one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    pub personal_checked: u64,
    pub broken: Option<Broken>,
}

/// Recomputes the whole chain in order.
pub fn verify(conn: &Db) -> Result<Verification> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.seq, a.at, a.actor, a.event, a.case_id, a.round_id, a.data, a.personal_digest,
                a.prev_hash, a.hash, p.salt, p.data
         FROM audit a LEFT JOIN audit_personal p ON p.seq = a.seq
         ORDER BY a.seq",
    )?;
    let mut rows = stmt.query(())?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut entries = 0u64;
    let mut personal_checked = 0u64;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let event: String = r.get(3)?;
        let case_id: Option<String> = r.get(4)?;
        let round_id: Option<i64> = r.get(5)?;
        let data: String = r.get(6)?;
        let digest: Option<String> = r.get(7)?;
        let prev: String = r.get(8)?;
        let hash: String = r.get(9)?;
        let salt: Option<String> = r.get(10)?;
        let personal: Option<String> = r.get(11)?;
        entries += 1;
        let broken = |reason: &str| Broken {
            seq,
            at: at.clone(),
            event: event.clone(),
            case_id: case_id.clone(),
            reason: reason.to_string(),
        };
        let problem = if seq != expected_seq {
            Some(broken(&format!(
                "expected entry {expected_seq} here: an entry is missing"
            )))
        } else if prev != expected_prev {
            Some(broken("it does not link to the entry before it"))
        } else if chain_hash([
            &seq.to_string(),
            &at,
            &actor,
            &event,
            case_id.as_deref().unwrap_or(""),
            &round_id.map(|r| r.to_string()).unwrap_or_default(),
            &data,
            digest.as_deref().unwrap_or(""),
            &prev,
        ]) != hash
        {
            Some(broken("its contents do not match its hash: it was altered"))
        } else {
            match (&digest, &salt, &personal) {
                (Some(d), Some(s), Some(p)) => {
                    personal_checked += 1;
                    (personal_digest(s, p) != *d).then(|| {
                        broken("its personal details do not match their digest: they were altered")
                    })
                }
                (None, Some(_), Some(_)) => {
                    Some(broken("it has personal details the chain does not know of"))
                }
                _ => None,
            }
        };
        if problem.is_some() {
            return Ok(Verification {
                entries,
                personal_checked,
                broken: problem,
            });
        }
        expected_prev = hash;
        expected_seq = seq + 1;
    }
    Ok(Verification {
        entries,
        personal_checked,
        broken: None,
    })
}

/// Erases the personal details of every entry about `case_id`; returns how many.
pub(crate) fn erase_personal(conn: &Db, case_id: &str) -> Result<usize> {
    conn.prepare_cached(
        "DELETE FROM audit_personal WHERE seq IN (SELECT seq FROM audit WHERE case_id = ?1)",
    )?
    .execute([case_id])
}

/// Erases the personal details of the watch-list entry `id`'s events (`watch.*` with data
/// `{"id": …}`); returns how many.
pub(crate) fn erase_watch_personal(conn: &Db, id: i64) -> Result<usize> {
    conn.prepare_cached(
        "DELETE FROM audit_personal WHERE seq IN (SELECT seq FROM audit
             WHERE case_id IS NULL AND event LIKE 'watch.%' AND json_extract(data, '$.id') = ?1)",
    )?
    .execute([id])
}

/// The events of one case, in order, with personal details where they remain.
pub fn case_history(conn: &Db, case_id: &str) -> Result<Vec<Entry>> {
    list(
        conn,
        &Filter {
            case_id: Some(case_id),
            ..Filter::default()
        },
    )
}

/// Which entries [`list`] returns.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
    /// This actor (`web:NAME` or the web account's name alone, a person id, `system`, `cli`).
    pub actor: Option<&'a str>,
    pub case_id: Option<&'a str>,
    /// Events whose name starts with this (`case.`, `web.`).
    pub event_prefix: Option<&'a str>,
    /// Only entries before this sequence number (the next page, newest first).
    pub before_seq: Option<i64>,
    /// The newest first (a page), rather than in order (the command line).
    pub newest_first: bool,
    /// At most this many entries (none: all).
    pub limit: Option<usize>,
}

/// The actors that are loggkoll itself (the scheduler, the engine, what it opens): `loggkoll` in
/// a filter names them all.
pub(crate) const MACHINE_ACTORS: [&str; 3] = ["loggkoll", "system", "inbox"];

/// The entries `filter` selects, with their personal details where they remain.
pub fn list(conn: &Db, filter: &Filter) -> Result<Vec<Entry>> {
    let from = filter.from.map(ts);
    let to = filter.to.map(ts);
    let prefix = filter.event_prefix.map(|p| {
        let escaped = p
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("{escaped}%")
    });
    let args: Vec<Param<'_>> = vec![
        from.as_deref().map_or(Param::Null, Param::Text),
        to.as_deref().map_or(Param::Null, Param::Text),
        filter.actor.map_or(Param::Null, Param::Text),
        filter.case_id.map_or(Param::Null, Param::Text),
        prefix.as_deref().map_or(Param::Null, Param::Text),
        filter.before_seq.map_or(Param::Null, Param::Int),
    ];
    let order = if filter.newest_first { "DESC" } else { "ASC" };
    let limit = filter
        .limit
        .map(|n| format!(" LIMIT {n}"))
        .unwrap_or_default();
    let machine = MACHINE_ACTORS
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // Typed where PostgreSQL cannot tell a parameter's type from its use alone.
    let sql = format!(
        "SELECT a.seq, a.at, a.actor, a.event, a.data, p.data, a.case_id, a.round_id
         FROM audit a LEFT JOIN audit_personal p ON p.seq = a.seq
         WHERE (CAST(?1 AS TEXT) IS NULL OR a.at >= CAST(?1 AS TEXT))
           AND (CAST(?2 AS TEXT) IS NULL OR a.at < CAST(?2 AS TEXT))
           AND (CAST(?3 AS TEXT) IS NULL OR a.actor = CAST(?3 AS TEXT)
                OR a.actor = 'web:' || CAST(?3 AS TEXT)
                OR (CAST(?3 AS TEXT) = 'loggkoll' AND a.actor IN ({machine})))
           AND (CAST(?4 AS TEXT) IS NULL OR a.case_id = CAST(?4 AS TEXT)
                OR a.case_id = UPPER(CAST(?4 AS TEXT)))
           AND (CAST(?5 AS TEXT) IS NULL OR a.event LIKE CAST(?5 AS TEXT) ESCAPE '\\')
           AND (CAST(?6 AS BIGINT) IS NULL OR a.seq < CAST(?6 AS BIGINT))
         ORDER BY a.seq {order}{limit}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&args[..], |r| {
        Ok((
            r.get::<i64>(0)?,
            r.get::<String>(1)?,
            r.get::<String>(2)?,
            r.get::<String>(3)?,
            r.get::<String>(4)?,
            r.get::<Option<String>>(5)?,
            r.get::<Option<String>>(6)?,
            r.get::<Option<i64>>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, actor, event, data, personal, case_id, round_id) = row?;
        out.push(Entry {
            seq,
            at,
            actor,
            event,
            case_id: case_id.filter(|c| !c.is_empty()),
            round_id,
            data: serde_json::from_str(&data)
                .map_err(|e| Error::runtime(format!("audit entry {seq}: {e}")))?,
            personal: personal.and_then(|p| serde_json::from_str(&p).ok()),
        });
    }
    Ok(out)
}

/// Every actor the trail names, for a filter's choices.
pub(crate) fn actors(conn: &Db) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT actor FROM audit ORDER BY actor")?;
    let rows = stmt.query_map((), |r| r.get::<String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub event: String,
    #[serde(rename = "case")]
    pub case_id: Option<String>,
    #[serde(rename = "round")]
    pub round_id: Option<i64>,
    pub data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fill(store: &Store) {
        for i in 0..5 {
            append(
                &store.db,
                at("2027-01-01T08:00:00Z"),
                &Event {
                    actor: "system",
                    event: "case.opened",
                    case_id: Some(&format!("TRE-2027-000{i}")),
                    round_id: Some(1),
                    data: json!({"i": i}),
                    personal: (i % 2 == 0).then(|| json!({"comment": format!("kommentar {i}")})),
                },
            )
            .unwrap();
        }
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let store = Store::in_memory().unwrap();
        fill(&store);
        let v = verify(&store.db).unwrap();
        assert_eq!(v.entries, 5);
        assert_eq!(v.personal_checked, 3);
        assert_eq!(v.broken, None);
    }

    #[test]
    fn the_chain_refuses_updates_and_deletes() {
        let store = Store::in_memory().unwrap();
        fill(&store);
        let err = store
            .db
            .execute("UPDATE audit SET actor = 'x' WHERE seq = 2", ())
            .unwrap_err();
        assert!(err.to_string().contains("append-only"));
        assert!(
            store
                .db
                .execute("DELETE FROM audit WHERE seq = 2", ())
                .is_err()
        );
    }

    #[test]
    fn an_altered_entry_is_named() {
        let store = Store::in_memory().unwrap();
        fill(&store);
        store
            .db
            .execute_batch(
                "DROP TRIGGER audit_append_only_update;
                 UPDATE audit SET data = '{\"i\":99}' WHERE seq = 3;",
            )
            .unwrap();
        let broken = verify(&store.db).unwrap().broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("altered"));
        assert_eq!(broken.case_id.as_deref(), Some("TRE-2027-0002"));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let store = Store::in_memory().unwrap();
        fill(&store);
        store
            .db
            .execute_batch(
                "DROP TRIGGER audit_append_only_delete;
                 DELETE FROM audit_personal WHERE seq = 4;
                 DELETE FROM audit WHERE seq = 4;",
            )
            .unwrap();
        let broken = verify(&store.db).unwrap().broken.unwrap();
        assert_eq!(broken.seq, 5);
        assert!(broken.reason.contains("missing"));
    }

    #[test]
    fn altered_personal_details_are_caught_and_erased_ones_are_not_a_break() {
        let store = Store::in_memory().unwrap();
        fill(&store);
        assert_eq!(erase_personal(&store.db, "TRE-2027-0000").unwrap(), 1);
        assert_eq!(verify(&store.db).unwrap().broken, None);
        store
            .db
            .execute_batch(
                "DROP TRIGGER audit_personal_no_update;
                 UPDATE audit_personal SET data = '{\"comment\":\"ändrad\"}' WHERE seq = 3;",
            )
            .unwrap();
        let broken = verify(&store.db).unwrap().broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("personal"));
    }
}
