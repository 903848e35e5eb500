//! Delegations: a role holder names a deputy for a period; steps then go to the deputy and
//! escalations still to the holder (`org::Org::assign`). Adding checks that both are in the
//! roster and that the holder holds the role; adding and revoking each bump the organisation's
//! version (so every cache of it reloads) and are audited.

use super::Refusal;
use crate::Result;
use crate::roster::Role;
use crate::store::audit::{self, Event};
use crate::store::{Store, roster};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// A delegation to add.
#[derive(Debug, Clone)]
pub(crate) struct NewDelegation<'a> {
    pub holder: &'a str,
    pub deputy: &'a str,
    pub role: Role,
    pub from: NaiveDate,
    /// The last day, inclusive.
    pub to: NaiveDate,
    /// Who adds it, as the audit trail names them: the holder (the command line), or
    /// `web:NAME` (an admin of the overview).
    pub actor: &'a str,
}

/// Adds `d` in one transaction; its id.
pub(crate) fn add(store: &mut Store, d: &NewDelegation, now: DateTime<Utc>) -> Result<i64> {
    if d.to < d.from {
        return Err(Refusal::DelegationReversed.into());
    }
    let tx = store.write()?;
    if !roster::person_exists(&tx, d.holder)? {
        return Err(Refusal::HolderUnknown {
            person: d.holder.to_string(),
        }
        .into());
    }
    if !roster::person_exists(&tx, d.deputy)? {
        return Err(Refusal::DeputyUnknown {
            person: d.deputy.to_string(),
        }
        .into());
    }
    if !roster::holds_role(&tx, d.holder, d.role.as_str())? {
        return Err(Refusal::HolderLacksRole {
            person: d.holder.to_string(),
            role: d.role.to_string(),
        }
        .into());
    }
    let id = roster::add_delegation(&tx, d.holder, d.deputy, d.role, d.from, d.to, now)?;
    super::org::bump_version(&tx)?;
    audit::append(
        &tx,
        now,
        &Event {
            actor: d.actor,
            event: "delegation.added",
            case_id: None,
            round_id: None,
            data: json!({"id": id, "holder": d.holder, "deputy": d.deputy,
                "role": d.role.as_str(), "from": d.from.to_string(), "to": d.to.to_string()}),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(id)
}

/// Ends delegation `id` in one transaction, audited as done by `actor`.
pub(crate) fn revoke(store: &mut Store, id: i64, actor: &str, now: DateTime<Utc>) -> Result<()> {
    let tx = store.write()?;
    if !roster::revoke_delegation(&tx, id, now)? {
        return Err(Refusal::NoDelegation { id }.into());
    }
    super::org::bump_version(&tx)?;
    audit::append(
        &tx,
        now,
        &Event {
            actor,
            event: "delegation.revoked",
            case_id: None,
            round_id: None,
            data: json!({"id": id}),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(())
}
