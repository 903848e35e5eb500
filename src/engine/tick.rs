//! The engine's part of a tick (`Engine::tick_due`): everything due up to `now`, once. Scheduled
//! rounds (missed ones caught up as each routine's policy says), information cases, steps of
//! people who left, then reminders and escalations, and the day's digests. Each round is one
//! transaction; timers are fired in batches of one transaction each. Running it twice for the
//! same `now` does nothing the second time. The whole tick, with the logs inbox before this and
//! the yearly summaries and the purge after it, is `records::tick` (`Engine::tick`).

use super::Engine;
use super::rounds::{self, RoundSummary};
use super::timers::{self, Fired};
use crate::Result;
use crate::routine::model::{CaseKind, Trigger};
use crate::store::{cases as db, roster, rounds as rounds_db};
use chrono::{DateTime, Utc};

/// Timers fired per transaction.
const TIMER_BATCH: usize = 500;

/// What the engine's part of a tick did (`records::tick` adds the logs inbox before it, and the
/// yearly summaries and the purge after it).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Due {
    pub rounds: Vec<RoundSummary>,
    pub reminders: usize,
    pub escalations: usize,
    pub reassigned: usize,
    /// Information cases opened: a unit's staff (go-live, a new manager), or a person who got
    /// an account.
    pub informing: usize,
    pub digests: usize,
}

impl Engine {
    /// The engine's part of a tick: the rounds due, information cases, steps of people who left,
    /// reminders and escalations, and the day's digests.
    pub(crate) fn tick_due(&mut self, now: DateTime<Utc>) -> Result<Due> {
        self.refresh_org()?;
        let rounds = self.tick_rounds(now)?;
        let informing = self.tick_information(now)?;
        let reassigned = self.reassign_orphans(now)?;
        let fired = self.tick_timers(now)?;
        // A digest is a working day's: none is written while emails wait (a weekend), so that
        // Monday brings one, not three.
        let sending = self
            .config
            .mail
            .send_hours
            .is_none_or(|h| h.allows(now, self.config.timezone));
        let digests = if self.config.mail.digest && sending {
            self.digests(now)?
        } else {
            0
        };
        Ok(Due {
            rounds,
            reminders: fired.reminders,
            escalations: fired.escalations,
            reassigned,
            informing,
            digests,
        })
    }

    fn tick_rounds(&mut self, now: DateTime<Utc>) -> Result<Vec<RoundSummary>> {
        let mut summaries = Vec::new();
        // Nothing is drawn before there is a roster to draw from.
        let Some(first_roster) = roster::first_import_at(self.store.db())? else {
            return Ok(summaries);
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
                summaries.push(summary);
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
        Ok(summaries)
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
