//! The watch list (bevakningslista): clients whose records call for attention — people of media
//! interest, protected identity, a relative's record — the seeds' reasons for a targeted review.
//! An access to a client on the list is flagged `watch_list`. Entries are added and removed by a
//! person of the roster, each change audited with the client and reason as personal details; an
//! entry past its last day (or removed) loses its client and reason at the next purge, its audit
//! entries their personal details, and a record of it stays.

use super::Refusal;
use crate::Result;
use crate::store::audit::{self, Event};
use crate::store::evidence::{self as db, WatchEntry};
use crate::store::{self, Store};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

/// The longest reason kept, in characters.
pub(crate) const MAX_REASON: usize = 1000;

/// Who changes the watch list: a person of the roster (the command line's `--by`, who must be
/// in it) or an account of the overview (recorded as `web:NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By<'a> {
    Person(&'a str),
    Web(&'a str),
}

impl By<'_> {
    fn actor(self) -> String {
        match self {
            By::Person(p) => p.to_string(),
            By::Web(name) => format!("web:{name}"),
        }
    }

    fn check(self, conn: &crate::store::Db) -> Result<()> {
        match self {
            By::Person(p) => require_person(conn, p),
            By::Web(_) => Ok(()),
        }
    }
}

/// Adds `client` to the watch list until `until` (inclusive; `None`: until removed).
pub(crate) fn add(
    store: &mut Store,
    client: &str,
    reason: &str,
    until: Option<NaiveDate>,
    by: By<'_>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<i64> {
    let digits = crate::personnummer::digits(client).map_err(|why| Refusal::BadClient { why })?;
    let digits = String::from_utf8_lossy(&digits).into_owned();
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::WatchReasonMissing.into());
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Refusal::ReasonTooLong { max: MAX_REASON }.into());
    }
    if reason.chars().any(char::is_control) {
        return Err(Refusal::ReasonControl.into());
    }
    let today = crate::engine::deadline::local_date(now, tz);
    if let Some(u) = until
        && u < today
    {
        return Err(Refusal::UntilPassed {
            until: u.to_string(),
            today: today.to_string(),
        }
        .into());
    }
    let tx = store.write()?;
    by.check(&tx)?;
    let actor = by.actor();
    let id = db::add_watch(&tx, &digits, reason, until, &actor, now)?;
    audit::append(
        &tx,
        now,
        &Event {
            actor: &actor,
            event: "watch.added",
            case_id: None,
            round_id: None,
            data: json!({"id": id, "until": until.map(store::date)}),
            personal: Some(json!({"client": digits, "reason": reason})),
        },
    )?;
    tx.commit()?;
    Ok(id)
}

fn require_person(conn: &crate::store::Db, by: &str) -> Result<()> {
    if db::staff(conn, by)?.is_none_or(|s| s.removed_on.is_some()) {
        return Err(Refusal::ActorUnknown {
            person: by.to_string(),
        }
        .into());
    }
    Ok(())
}

/// Ends entry `id` now.
pub(crate) fn remove(store: &mut Store, id: i64, by: By<'_>, now: DateTime<Utc>) -> Result<()> {
    let tx = store.write()?;
    by.check(&tx)?;
    let actor = by.actor();
    if !db::remove_watch(&tx, id, &actor, now)? {
        return Err(Refusal::NoWatchEntry { id }.into());
    }
    audit::append(
        &tx,
        now,
        &Event {
            actor: &actor,
            event: "watch.removed",
            case_id: None,
            round_id: None,
            data: json!({"id": id}),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Every entry; `in_force` on `day`.
pub(crate) fn list(store: &Store) -> Result<Vec<WatchEntry>> {
    db::watch_entries(store.db())
}

/// Whether an entry is in force on `day`.
pub(crate) fn in_force(e: &WatchEntry, day: NaiveDate) -> bool {
    e.removed_at.is_none()
        && e.purged_at.is_none()
        && e.until
            .as_deref()
            .and_then(|u| store::parse_date(u).ok())
            .is_none_or(|u| u >= day)
}

/// Purges the entries no longer in force on `day` (inside the caller's transaction): their
/// client and reason go, and the personal details of their audit entries. Returns their ids.
pub(crate) fn purge(
    conn: &crate::store::Db,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let ids = db::watch_to_purge(conn, day)?;
    for id in &ids {
        db::purge_watch(conn, *id, now)?;
        audit::erase_watch_personal(conn, *id)?;
    }
    Ok(ids)
}
