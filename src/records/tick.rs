//! The whole tick, above the engine: the exports in the logs inbox first (a month's log that
//! arrived is in before its round), then the engine's part (`Engine::tick_due`: rounds,
//! information cases, reminders, escalations, digests), then the yearly summaries and the purge
//! of what is past its retention. The engine imports nothing of `records`: what it keeps and
//! documents is run from here (issue 31).

use super::logs::{self, inbox::InboxReport};
use crate::Result;
use crate::engine::Engine;
use crate::engine::rounds::RoundSummary;
use chrono::{DateTime, Utc};

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    pub now: String,
    pub rounds: Vec<RoundSummary>,
    pub reminders: usize,
    pub escalations: usize,
    pub reassigned: usize,
    /// Information cases opened: a unit's staff (go-live, a new manager), or a person who got
    /// an account.
    pub informing: usize,
    pub digests: usize,
    /// Yearly summaries queued to the outbox.
    pub summaries: usize,
    /// Cases purged past their retention.
    pub purged: usize,
    /// What the logs inbox did (`[logs] inbox`).
    #[serde(skip_serializing_if = "InboxReport::is_empty")]
    pub inbox: InboxReport,
}

impl Engine {
    /// Everything due up to `now`, once: see the module's documentation. Running it twice for
    /// the same `now` does nothing the second time.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<TickReport> {
        // The inbox reads no organisation; `tick_due` brings it up to date for what follows.
        let inbox = self.tick_inbox(now)?;
        let due = self.tick_due(now)?;
        let summaries = super::annual::tick(self, now)?;
        let purged = super::purge::tick(self, now)?;
        Ok(TickReport {
            now: crate::store::ts(now),
            rounds: due.rounds,
            reminders: due.reminders,
            escalations: due.escalations,
            reassigned: due.reassigned,
            informing: due.informing,
            digests: due.digests,
            summaries,
            purged,
            inbox,
        })
    }
}

impl Engine {
    /// Imports the complete files of the logs inbox, if one is configured; emails the contact
    /// about each refused file.
    fn tick_inbox(&mut self, now: DateTime<Utc>) -> Result<InboxReport> {
        let Some(dir) = self.config.logs_inbox.clone() else {
            return Ok(Default::default());
        };
        let rules = logs::retention_rules(&self.routines);
        let formats = std::mem::take(&mut self.formats);
        let opts = logs::ImportOptions {
            system: None,
            retention: &rules,
            tz: self.config.timezone,
            now,
            actor: "inbox",
            period: None,
            format: None,
            formats: &formats,
            max_value: self.config.logs_max_value,
        };
        let contact = self.config.contact.clone().filter(|c| !c.email.is_empty());
        let link = format!(
            "{}/overview/logs",
            self.config.base_url.trim_end_matches('/')
        );
        let organisation = self.config.organisation.clone();
        let base_url = self.config.base_url.clone();
        let folder = dir.join("failed").display().to_string();
        let notify = |tx: &crate::store::Tx, file: &str, error_file: &str| -> Result<()> {
            let Some(contact) = &contact else {
                return Ok(());
            };
            let context = crate::mails::context(&crate::mails::InboxFailed {
                recipient: contact.name.clone(),
                file: file.to_string(),
                error_file: error_file.to_string(),
                folder: folder.clone(),
                organisation: organisation.clone(),
                link: link.clone(),
                common: crate::mails::Common {
                    base_url: base_url.clone(),
                    contact: Some(contact.clone()),
                },
            })?;
            let to = crate::notify::message::mailbox_text(&contact.name, &contact.email);
            crate::store::outbox::insert(
                tx,
                &crate::store::outbox::NewMessage {
                    purpose: "inbox_failed",
                    case_id: None,
                    task_id: None,
                    recipient_id: None,
                    to_addr: &to,
                    template: "inbox_failed",
                    context: &context,
                    due_date: None,
                    held: false,
                },
                now,
            )?;
            Ok(())
        };
        let timing = logs::inbox::Timing::quiet(self.config.logs_inbox_quiet);
        let result = logs::inbox::run(&mut self.store, &dir, &opts, timing, &notify);
        self.formats = formats;
        result
    }
}

impl InboxReport {
    /// One line per file the inbox moved, for the tick's output.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (file, rows) in &self.imported {
            out.push(format!(
                "logs inbox: imported {file} ({rows} rows), moved to done/"
            ));
        }
        for file in &self.already {
            out.push(format!(
                "logs inbox: {file} was imported before; moved to done/ with a note"
            ));
        }
        for (file, note) in &self.failed {
            out.push(format!(
                "logs inbox: refused {file}; moved to failed/, see failed/{note}"
            ));
        }
        for file in &self.waiting {
            out.push(format!(
                "logs inbox: {file} is still being written; next tick"
            ));
        }
        out
    }
}
