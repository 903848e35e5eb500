//! Firing the reminders and escalations of open steps: each timer once, in a transaction with the
//! email it causes and its audit entry. A reminder goes to the assignee; an escalation to the
//! holder of the escalation role (never a deputy), once.

use super::Ctx;
use super::deadline;
use super::notices::{self, CaseFacts, Notice};
use crate::Result;
use crate::mails::StepMail;
use crate::roster::Role;
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, DueTimer};
use crate::store::roster::PersonInfo;
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Fired {
    pub reminders: usize,
    pub escalations: usize,
}

/// Fires `timer` (inside the caller's transaction).
pub(crate) fn fire(
    conn: &Db,
    ctx: &Ctx,
    timer: &DueTimer,
    now: DateTime<Utc>,
    fired: &mut Fired,
) -> Result<()> {
    if !db::fire_timer(conn, timer.id, now)? {
        return Ok(());
    }
    let Some(task) = db::task(conn, timer.task_id)? else {
        return Ok(());
    };
    if task.answered_at.is_some() {
        return Ok(());
    }
    let Some(case) = db::get(conn, &task.case_id)? else {
        return Ok(());
    };
    let routine = &*ctx.version(conn, &case.routine_hash)?;
    let Some(ix) = routine.state(&task.state) else {
        return Ok(());
    };
    let state = &routine.graph[ix];
    let tz = routine.timezone;
    let today = deadline::local_date(now, tz);
    // Schedule the step's next reminder or escalation, if it has one.
    if let Some(conf) = &state.task {
        let started = crate::store::parse_ts(&task.started_at)?;
        if let Some(next) = deadline::plan(conf, started, task.due_date, tz).get(timer.ordinal + 1)
        {
            db::insert_timer(
                conn,
                task.id,
                timer.ordinal + 1,
                next.kind,
                &next.label,
                next.fire_at,
            )?;
        }
    }
    let firing = Firing {
        conn,
        ctx,
        timer,
        task: &task,
        case: &case,
        routine,
        state,
        facts: CaseFacts {
            id: &case.id,
            unit_id: &case.unit_id,
            subject_person_id: case.subject_person_id.as_deref(),
        },
        today,
        now,
    };
    match timer.kind.as_str() {
        "reminder" if remind(&firing)? => fired.reminders += 1,
        "escalation" if escalate(&firing)? => fired.escalations += 1,
        _ => {}
    }
    Ok(())
}

/// A timer being fired: its step, case and routine, and the day.
struct Firing<'a> {
    conn: &'a Db,
    ctx: &'a Ctx<'a>,
    timer: &'a DueTimer,
    task: &'a db::TaskRow,
    case: &'a db::CaseRow,
    routine: &'a crate::routine::Routine,
    state: &'a crate::routine::model::State,
    facts: CaseFacts<'a>,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
}

impl Firing<'_> {
    /// Queues the step's email `mail` to `recipient`.
    fn notify(&self, mail: StepMail, recipient: &PersonInfo) -> Result<()> {
        notices::queue(
            self.conn,
            self.ctx,
            &Notice {
                mail,
                routine: self.routine,
                state: self.state,
                case: &self.facts,
                task_id: Some(self.task.id),
                recipient,
                due: Some(self.task.due_date),
                generation: self.task.link_generation,
            },
            self.now,
        )?;
        Ok(())
    }

    /// Appends `event` about the step to the audit trail, by loggkoll, with `data` beside the
    /// step's state and id.
    fn audit(&self, event: &str, mut data: serde_json::Value) -> Result<()> {
        data["state"] = json!(self.task.state);
        data["task"] = json!(self.task.id);
        audit::append(
            self.conn,
            self.now,
            &Event {
                actor: "system",
                event,
                case_id: Some(&self.case.id),
                round_id: None,
                data,
                personal: None,
            },
        )?;
        Ok(())
    }
}

/// Reminds the step's assignee; false when there is none.
fn remind(f: &Firing) -> Result<bool> {
    let Some(person) = f
        .task
        .assignee_id
        .as_deref()
        .and_then(|id| f.ctx.org.person(id))
    else {
        return Ok(false);
    };
    let days_left = (f.task.due_date - f.today).num_days();
    let when = match days_left {
        d if d > 0 => "före",
        0 => "idag",
        _ => "efter",
    };
    f.notify(
        StepMail::Reminder {
            when: when.to_string(),
            days_left: days_left.max(0),
        },
        person,
    )?;
    f.audit(
        "case.reminded",
        json!({"to": person.id, "reminder": f.timer.label}),
    )?;
    Ok(true)
}

/// Escalates the step to the holder of the escalation role; false when nobody holds it (or the
/// label names no role).
fn escalate(f: &Firing) -> Result<bool> {
    let Ok(role) = f.timer.label.parse::<Role>() else {
        return Ok(false);
    };
    // The holder of the escalation role other than the assignee (the next one up the
    // tree), or the assignee when they are the only one; never the reviewed user.
    let subject = f.case.subject_person_id.as_deref();
    let holder = f
        .ctx
        .org
        .holder_except(
            role,
            &f.case.unit_id,
            f.today,
            &[f.task.assignee_id.as_deref(), subject],
        )
        .or_else(|| {
            f.ctx
                .org
                .holder_except(role, &f.case.unit_id, f.today, &[subject])
        });
    let Some(person) = holder.and_then(|id| f.ctx.org.person(id)) else {
        f.audit("case.escalation_unassigned", json!({"role": role.as_str()}))?;
        return Ok(false);
    };
    db::mark_escalated(f.conn, f.task.id, f.now)?;
    let assignee = f
        .task
        .assignee_id
        .as_deref()
        .and_then(|id| f.ctx.org.person(id))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "ingen (rollen saknar innehavare)".into());
    f.notify(
        StepMail::Escalation {
            assignee,
            days_overdue: (f.today - f.task.due_date).num_days().max(0),
        },
        person,
    )?;
    f.audit(
        "case.escalated",
        json!({"to": person.id, "role": role.as_str()}),
    )?;
    Ok(true)
}
