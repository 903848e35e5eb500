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
    /// Information cases opened for people who got an account.
    pub informing: usize,
    pub digests: usize,
    /// Yearly summaries queued to the outbox.
    pub summaries: usize,
    /// Cases purged past their retention.
    pub purged: usize,
}

impl Engine {
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<TickReport> {
        self.refresh_org()?;
        let mut report = TickReport {
            now: crate::store::ts(now),
            ..TickReport::default()
        };
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
        let Some(first_roster) = roster::first_import_at(&self.store.conn)? else {
            return Ok(());
        };
        let mut work: Vec<(DateTime<Utc>, usize)> = Vec::new();
        let mut handled: Vec<(String, DateTime<Utc>)> = Vec::new();
        for (i, routine) in self.routines.iter().enumerate() {
            let scheduled = routine.sampling.is_some() || routine.kind == CaseKind::AccessRights;
            if !matches!(routine.trigger, Trigger::Schedule { .. }) || !scheduled {
                continue;
            }
            let from = rounds_db::last_occurrence(&self.store.conn, &routine.id)?
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
            let due = db::due_timers(&self.store.conn, now, TIMER_BATCH)?;
            if due.is_empty() {
                break;
            }
            let (store, ctx) = self.parts();
            let tx = store.write()?;
            for t in &due {
                timers::fire(&tx, &ctx, t, now, &mut fired)?;
            }
            tx.commit()?;
        }
        Ok(fired)
    }
}
