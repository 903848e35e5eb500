//! The daily digest (`mail.digest = true`): task notices and reminders are held in the outbox,
//! and from 07:00 local time each day every person with held messages gets one email listing
//! them. Gathering a person's held messages and writing their digest is one transaction, so each
//! message goes into exactly one digest.

use super::Engine;
use crate::Result;
use crate::mails::{Common, Digest, DigestTask, Step, Values};
use crate::store::outbox::{self, NewMessage};
use chrono::{DateTime, Timelike, Utc};

/// The local hour from which the day's digests go out.
pub(crate) const DIGEST_HOUR: u32 = 7;

impl Engine {
    /// Writes today's digests; returns how many.
    pub fn digests(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let local = now.with_timezone(&self.config.timezone);
        if local.hour() < DIGEST_HOUR {
            return Ok(0);
        }
        let day = crate::store::date(local.date_naive());
        let mut written = 0;
        // A held notice whose step was answered or passed on meanwhile is not listed.
        let tx = self.store.write()?;
        outbox::withdraw_stale(&tx)?;
        tx.commit()?;
        for recipient in outbox::held_recipients(self.store.db())? {
            let tx = self.store.write()?;
            if outbox::has_digest(&tx, &recipient, &day)? {
                continue;
            }
            let held = outbox::held(&tx, &recipient)?;
            let Some(first) = held.first() else { continue };
            // The held emails' own values; one that cannot be read still counts, unnamed.
            let steps: Vec<Step> = held
                .iter()
                .map(|m| match Values::read(&m.purpose, &m.context) {
                    Ok(Values::Step(step)) => step,
                    _ => Step::default(),
                })
                .collect();
            let tasks: Vec<DigestTask> = held
                .iter()
                .zip(&steps)
                .map(|(m, step)| DigestTask {
                    case_id: step.case_id.clone(),
                    routine: step.routine.clone(),
                    step: step.step.clone(),
                    unit: step.unit.clone(),
                    deadline: step.deadline.clone(),
                    link: step.link.clone(),
                    reminder: m.purpose == "reminder",
                })
                .collect();
            let recipient_name = steps
                .first()
                .map(|s| s.recipient.clone())
                .unwrap_or_default();
            let values = Digest {
                recipient: recipient_name,
                date: crate::sv::date(local.date_naive()),
                count: tasks.len(),
                tasks,
                common: Common {
                    base_url: self.config.base_url.clone(),
                    contact: self.config.contact.clone(),
                },
            };
            let id = outbox::insert(
                &tx,
                &NewMessage {
                    purpose: "digest",
                    case_id: None,
                    task_id: None,
                    recipient_id: Some(&recipient),
                    to_addr: &first.to,
                    template: "digest",
                    context: &crate::mails::context(&values)?,
                    due_date: None,
                    held: false,
                },
                now,
            )?;
            outbox::set_digest_day(&tx, id, &day)?;
            outbox::mark_digested(&tx, &held.iter().map(|m| m.id).collect::<Vec<_>>())?;
            tx.commit()?;
            written += 1;
        }
        Ok(written)
    }
}
