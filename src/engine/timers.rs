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
    let facts = CaseFacts {
        id: &case.id,
        unit_id: &case.unit_id,
        subject_person_id: case.subject_person_id.as_deref(),
    };
    match timer.kind.as_str() {
        "reminder" => {
            let Some(person) = task
                .assignee_id
                .as_deref()
                .and_then(|id| ctx.org.person(id))
            else {
                return Ok(());
            };
            let days_left = (task.due_date - today).num_days();
            let when = match days_left {
                d if d > 0 => "före",
                0 => "idag",
                _ => "efter",
            };
            notices::queue(
                conn,
                ctx,
                &Notice {
                    mail: StepMail::Reminder {
                        when: when.to_string(),
                        days_left: days_left.max(0),
                    },
                    routine,
                    state,
                    case: &facts,
                    task_id: Some(task.id),
                    recipient: person,
                    due: Some(task.due_date),
                    generation: task.link_generation,
                },
                now,
            )?;
            audit::append(
                conn,
                now,
                &Event {
                    actor: "system",
                    event: "case.reminded",
                    case_id: Some(&case.id),
                    round_id: None,
                    data: json!({"state": task.state, "task": task.id, "to": person.id, "reminder": timer.label}),
                    personal: None,
                },
            )?;
            fired.reminders += 1;
        }
        "escalation" => {
            let Ok(role) = timer.label.parse::<Role>() else {
                return Ok(());
            };
            // The holder of the escalation role other than the assignee (the next one up the
            // tree), or the assignee when they are the only one; never the reviewed user.
            let subject = case.subject_person_id.as_deref();
            let holder = ctx
                .org
                .holder_except(
                    role,
                    &case.unit_id,
                    today,
                    &[task.assignee_id.as_deref(), subject],
                )
                .or_else(|| {
                    ctx.org
                        .holder_except(role, &case.unit_id, today, &[subject])
                });
            let Some(person) = holder.and_then(|id| ctx.org.person(id)) else {
                audit::append(
                    conn,
                    now,
                    &Event {
                        actor: "system",
                        event: "case.escalation_unassigned",
                        case_id: Some(&case.id),
                        round_id: None,
                        data: json!({"state": task.state, "task": task.id, "role": role.as_str()}),
                        personal: None,
                    },
                )?;
                return Ok(());
            };
            db::mark_escalated(conn, task.id, now)?;
            let assignee = task
                .assignee_id
                .as_deref()
                .and_then(|id| ctx.org.person(id))
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "ingen (rollen saknar innehavare)".into());
            notices::queue(
                conn,
                ctx,
                &Notice {
                    mail: StepMail::Escalation {
                        assignee: assignee.clone(),
                        days_overdue: (today - task.due_date).num_days().max(0),
                    },
                    routine,
                    state,
                    case: &facts,
                    task_id: Some(task.id),
                    recipient: person,
                    due: Some(task.due_date),
                    generation: task.link_generation,
                },
                now,
            )?;
            audit::append(
                conn,
                now,
                &Event {
                    actor: "system",
                    event: "case.escalated",
                    case_id: Some(&case.id),
                    round_id: None,
                    data: json!({"state": task.state, "task": task.id, "to": person.id, "role": role.as_str()}),
                    personal: None,
                },
            )?;
            fired.escalations += 1;
        }
        _ => {}
    }
    Ok(())
}
