//! The overview's accounts: added with a role and a password hash, given another role or
//! password, removed (its sessions end with it). One rule for the command line (`loggkoll user`)
//! and the overview's *Konton* page; each change one transaction, audited with who made it.

use super::Refusal;
use crate::Result;
use crate::store::Store;
use crate::store::audit::{self, Event};
use crate::store::web::{self as db, WebRole};
use chrono::{DateTime, Utc};
use serde_json::json;

/// What to do to an account.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// A new account; `hash` is the password's argon2 hash (`web::password::hash`).
    Add {
        hash: &'a str,
        role: WebRole,
    },
    /// A new account that signs in through the identity provider only, bound to the person of
    /// that name who signs in first (`[web.oidc]` with `provision = false`).
    AddOidc {
        role: WebRole,
    },
    Role(WebRole),
    /// A new password (the account's sessions end).
    Password {
        hash: &'a str,
    },
    /// The second factor taken away (a lost phone): the account enrols again at its next login,
    /// and its sessions end.
    ResetSecondFactor,
    Remove,
}

/// Whether `name` can be an account name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// Makes `change` to account `name`, audited as done by `actor`.
pub(crate) fn change(
    store: &mut Store,
    name: &str,
    change: Change,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if !is_name(name) {
        return Err(Refusal::BadAccountName {
            name: name.to_string(),
        }
        .into());
    }
    let tx = store.write()?;
    let (done, event, role) = match change {
        Change::Add { hash, role } => (
            db::add_user(&tx, name, hash, role, now)?,
            "web.user_added",
            Some(role),
        ),
        Change::AddOidc { role } => (
            db::add_oidc_user(&tx, name, role, None, now)?,
            "web.user_added",
            Some(role),
        ),
        Change::Role(role) => {
            let done = db::set_role(&tx, name, role)?;
            // A new administrator's sessions end: the next login asks for the second factor.
            if role == WebRole::Admin {
                db::end_sessions(&tx, name)?;
            }
            (done, "web.role_changed", Some(role))
        }
        Change::Password { hash } => (
            db::set_password(&tx, name, hash, now)?,
            "web.password_changed",
            None,
        ),
        Change::ResetSecondFactor => {
            let done = db::disable_totp(&tx, name)?;
            db::end_sessions(&tx, name)?;
            (done, "web.second_factor_reset", None)
        }
        Change::Remove => (db::remove_user(&tx, name)?, "web.user_removed", None),
    };
    if !done {
        let name = name.to_string();
        return Err(match change {
            Change::Add { .. } | Change::AddOidc { .. } => Refusal::AccountExists { name },
            _ => Refusal::NoAccount { name },
        }
        .into());
    }
    let mut data = json!({"user": name});
    if let Some(role) = role {
        data["role"] = json!(role.as_str());
    }
    audit::append(
        &tx,
        now,
        &Event {
            actor,
            event,
            case_id: None,
            round_id: None,
            data,
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(())
}
