//! Steps of people who have left: when an assignee is removed from the roster or their
//! employment has ended, their open steps go to whoever holds the role now (or that person's
//! deputy), who gets the task email. Checked on every tick; each reassignment is audited.

use super::Engine;
use super::deadline;
use super::notices;
use crate::Result;
use crate::roster::Role;
use crate::store::audit::{self, Event};
use crate::store::cases as db;
use chrono::{DateTime, Utc};
use serde_json::json;

impl Engine {
    /// Reassigns the open steps of people no longer active; returns how many. The people are
    /// looked over again only when the roster has changed, or a day has come on which someone's
    /// employment ends.
    pub(crate) fn reassign_orphans(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let day = now.with_timezone(&self.config.timezone).date_naive();
        let version = super::org::current_version(self.store.db())?;
        if let Some((checked, until)) = self.reassign_checked
            && checked == version
            && until.is_none_or(|u| day <= u)
        {
            return Ok(0);
        }
        let today = crate::store::date(day);
        let next_end = crate::store::roster::next_employment_end(self.store.db(), &today)?;
        let until = next_end
            .as_deref()
            .map(crate::store::parse_date)
            .transpose()?;
        let moved = self.reassign_now(now, &today)?;
        self.reassign_checked = Some((version, until));
        Ok(moved)
    }

    fn reassign_now(&mut self, now: DateTime<Utc>, today: &str) -> Result<usize> {
        // Those who have left (few), then their open steps through the assignee index.
        let gone = crate::store::roster::gone(self.store.db(), today)?;
        let mut orphans: Vec<(i64, String)> = Vec::new();
        for person in &gone {
            orphans.extend(db::open_tasks_of(self.store.db(), person)?);
        }
        orphans.sort();
        if orphans.is_empty() {
            return Ok(0);
        }
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let mut moved = 0;
        for (task_id, case_id) in orphans {
            let (Some(task), Some(case)) = (db::task(&tx, task_id)?, db::get(&tx, &case_id)?)
            else {
                continue;
            };
            // Answered since the list was read (by another process on the database).
            if task.answered_at.is_some() {
                continue;
            }
            let routine = ctx.version(&tx, &case.routine_hash)?;
            let Some(ix) = routine.state(&task.state) else {
                continue;
            };
            let state = &routine.graph[ix];
            let Ok(role) = task.role.parse::<Role>() else {
                continue;
            };
            let day = deadline::local_date(now, routine.timezone);
            let Some(assignment) = ctx.org.assign(role, &case.unit_id, day) else {
                continue;
            };
            if Some(assignment.assignee.as_str()) == task.assignee_id.as_deref() {
                continue;
            }
            db::reassign(&tx, task_id, &assignment.assignee, &assignment.holder)?;
            if let Some(person) = ctx.org.person(&assignment.assignee) {
                notices::queue_step(
                    &tx,
                    &ctx,
                    &routine,
                    state,
                    &case,
                    &task,
                    person,
                    task.link_generation,
                    now,
                )?;
            }
            audit::append(
                &tx,
                now,
                &Event {
                    actor: "system",
                    event: "task.reassigned",
                    case_id: Some(&case.id),
                    round_id: None,
                    data: json!({
                        "task": task_id, "state": task.state, "from": task.assignee_id,
                        "to": assignment.assignee, "holder": assignment.holder,
                        "reason": "the assignee is no longer active in the roster",
                    }),
                    personal: None,
                },
            )?;
            moved += 1;
        }
        tx.commit()?;
        Ok(moved)
    }
}
