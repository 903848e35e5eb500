//! `tick`: everything due up to `now`, once. Scheduled rounds (missed ones caught up as each
//! routine's policy says), then reminders and escalations. Each round is one transaction; timers
//! are fired in batches of one transaction each. Running it twice for the same `now` does
//! nothing the second time.

use super::Engine;
use super::rounds::{self, RoundSummary};
use super::timers::{self, Fired};
use crate::Result;
use crate::routine::model::{CaseKind, Trigger};
use crate::store::{cases as db, roster, rounds as rounds_db};
use chrono::{DateTime, Utc};

/// Timers fired per transaction.
const TIMER_BATCH: usize = 500;

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
    #[serde(skip_serializing_if = "crate::records::logs::inbox::InboxReport::is_empty")]
    pub inbox: crate::records::logs::inbox::InboxReport,
}

impl Engine {
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<TickReport> {
        self.refresh_org()?;
        let mut report = TickReport {
            now: crate::store::ts(now),
            ..TickReport::default()
        };
        // The exports in the inbox first: a month's log that arrived is in before its round.
        report.inbox = self.tick_inbox(now)?;
        self.tick_rounds(now, &mut report)?;
        report.informing = self.tick_information(now)?;
        report.reassigned = self.reassign_orphans(now)?;
        let fired = self.tick_timers(now)?;
        report.reminders = fired.reminders;
        report.escalations = fired.escalations;
        // A digest is a working day's: none is written while emails wait (a weekend), so that
        // Monday brings one, not three.
        let sending = self
            .config
            .mail
            .send_hours
            .is_none_or(|h| h.allows(now, self.config.timezone));
        if self.config.mail.digest && sending {
            report.digests = self.digests(now)?;
        }
        report.summaries = crate::records::annual::tick(self, now)?;
        report.purged = crate::records::purge::tick(self, now)?;
        Ok(report)
    }

    fn tick_rounds(&mut self, now: DateTime<Utc>, report: &mut TickReport) -> Result<()> {
        // Nothing is drawn before there is a roster to draw from.
        let Some(first_roster) = roster::first_import_at(self.store.db())? else {
            return Ok(());
        };
        let mut work: Vec<(DateTime<Utc>, usize)> = Vec::new();
        let mut handled: Vec<(String, DateTime<Utc>)> = Vec::new();
        for (i, routine) in self.routines.iter().enumerate() {
            let scheduled = routine.sampling.is_some() || routine.kind == CaseKind::AccessRights;
            if !matches!(routine.trigger, Trigger::Schedule { .. }) || !scheduled {
                continue;
            }
            let from = rounds_db::last_occurrence(self.store.db(), &routine.id)?
                .map_or(first_roster, |last| last.max(first_roster));
            let (due, last) = rounds::due(routine, from, now);
            work.extend(due.into_iter().map(|t| (t, i)));
            if let Some(last) = last {
                handled.push((routine.id.clone(), last));
            }
        }
        work.sort();
        for (occurrence, i) in work {
            let (store, ctx) = self.parts();
            let routine = &ctx.current[i];
            let tx = store.write()?;
            let run = if routine.kind == CaseKind::AccessRights {
                super::access::run(&tx, &ctx, routine, occurrence, now)?
            } else {
                rounds::run(&tx, &ctx, routine, occurrence, now)?
            };
            if let Some(summary) = run {
                report.rounds.push(summary);
            }
            rounds_db::set_last_occurrence(&tx, &routine.id, occurrence)?;
            tx.commit()?;
        }
        // Occurrences the policy passed over are handled too.
        let tx = self.store.write()?;
        for (routine, last) in handled {
            rounds_db::set_last_occurrence(&tx, &routine, last)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn tick_timers(&mut self, now: DateTime<Utc>) -> Result<Fired> {
        let mut fired = Fired::default();
        loop {
            // Read in the transaction that fires them: another process's tick on the database
            // may have fired them a moment ago.
            let (store, ctx) = self.parts();
            let tx = store.write()?;
            let due = db::due_timers(&tx, now, TIMER_BATCH)?;
            if due.is_empty() {
                break;
            }
            for t in &due {
                timers::fire(&tx, &ctx, t, now, &mut fired)?;
            }
            tx.commit()?;
        }
        Ok(fired)
    }
}

impl Engine {
    /// Imports the complete files of the logs inbox, if one is configured; emails the contact
    /// about each refused file.
    fn tick_inbox(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<crate::records::logs::inbox::InboxReport> {
        use crate::records::logs;
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

impl crate::records::logs::inbox::InboxReport {
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
