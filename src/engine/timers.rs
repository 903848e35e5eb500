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
    notices::queue(
        f.conn,
        f.ctx,
        &Notice {
            mail: StepMail::Reminder {
                when: when.to_string(),
                days_left: days_left.max(0),
            },
            routine: f.routine,
            state: f.state,
            case: &f.facts,
            task_id: Some(f.task.id),
            recipient: person,
            due: Some(f.task.due_date),
            generation: f.task.link_generation,
        },
        f.now,
    )?;
    audit::append(
        f.conn,
        f.now,
        &Event {
            actor: "system",
            event: "case.reminded",
            case_id: Some(&f.case.id),
            round_id: None,
            data: json!({"state": f.task.state, "task": f.task.id, "to": person.id, "reminder": f.timer.label}),
            personal: None,
        },
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
        audit::append(
            f.conn,
            f.now,
            &Event {
                actor: "system",
                event: "case.escalation_unassigned",
                case_id: Some(&f.case.id),
                round_id: None,
                data: json!({"state": f.task.state, "task": f.task.id, "role": role.as_str()}),
                personal: None,
            },
        )?;
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
    notices::queue(
        f.conn,
        f.ctx,
        &Notice {
            mail: StepMail::Escalation {
                assignee: assignee.clone(),
                days_overdue: (f.today - f.task.due_date).num_days().max(0),
            },
            routine: f.routine,
            state: f.state,
            case: &f.facts,
            task_id: Some(f.task.id),
            recipient: person,
            due: Some(f.task.due_date),
            generation: f.task.link_generation,
        },
        f.now,
    )?;
    audit::append(
        f.conn,
        f.now,
        &Event {
            actor: "system",
            event: "case.escalated",
            case_id: Some(&f.case.id),
            round_id: None,
            data: json!({"state": f.task.state, "task": f.task.id, "to": person.id, "role": role.as_str()}),
            personal: None,
        },
    )?;
    Ok(true)
}
