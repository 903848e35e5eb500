//! `outbox retry`: failed emails queued again. The address is made anew from the recipient as
//! the roster has them now (a name that broke the old address, or an address since corrected),
//! the attempts start over, and each retry is audited. The message itself — its template and
//! values, its Message-ID — is the same, so a receiver that did get it recognises it.

use crate::store::audit::{self, Event};
use crate::store::{Store, outbox, roster};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Which failed messages to queue again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    One(i64),
    AllFailed,
}

/// Queues the failed messages of `which` again, in one transaction; returns their ids.
pub(crate) fn retry(
    store: &mut Store,
    which: Which,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let tx = store.write()?;
    let ids = match which {
        Which::AllFailed => outbox::failed_ids(&tx)?,
        Which::One(id) => match outbox::get(&tx, id)? {
            Some(m) if m.status == "failed" => vec![id],
            Some(m) => {
                return Err(Error::bad_input(format!(
                    "email {id} is {}, not failed; only failed emails are queued again",
                    m.status
                )));
            }
            None => return Err(Error::bad_input(format!("no email {id} in the outbox"))),
        },
    };
    let people: std::collections::HashMap<String, (String, String)> = roster::people(&tx)?
        .into_iter()
        .map(|p| (p.id, (p.name, p.email)))
        .collect();
    for id in &ids {
        let Some(m) = outbox::get(&tx, *id)? else {
            continue;
        };
        let to = match m.recipient_id.as_ref().and_then(|r| people.get(r)) {
            Some((name, email)) => super::message::mailbox_text(name, email),
            None => m.to.clone(),
        };
        outbox::requeue(&tx, *id, &to, now)?;
    }
    if !ids.is_empty() {
        audit::append(
            &tx,
            now,
            &Event {
                actor,
                event: "outbox.retried",
                case_id: None,
                round_id: None,
                data: json!({"emails": ids}),
                personal: None,
            },
        )?;
    }
    tx.commit()?;
    Ok(ids)
}
