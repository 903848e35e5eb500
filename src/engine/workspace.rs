//! What quality staff do to a case from the overview: send its step's link again (a fresh link;
//! the ones before it stop working) and hand the step to another holder of its role. Each is
//! one transaction, audited with the web account that did it.

use super::deadline;
use super::notices;
use super::{Engine, Refusal};
use crate::roster::Role;
use crate::store::audit::{self, Event};
use crate::store::cases as db;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The longest diary number, in characters.
pub(crate) use crate::refusal::DIARY_MAX;

/// Whom a step's link went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub task_id: i64,
    pub person_id: String,
    pub name: String,
    pub email: String,
}

impl Engine {
    /// Sets the diary number (*diarienummer*) of `case_id`, or clears it when `number` is blank;
    /// audited with the one before. Returns the number now set.
    pub(crate) fn set_diary_number(
        &mut self,
        case_id: &str,
        number: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let number = number.trim();
        if number.chars().count() > DIARY_MAX || number.chars().any(char::is_control) {
            return Err(Refusal::BadDiaryNumber.into());
        }
        let number = (!number.is_empty()).then_some(number);
        let tx = self.store.write()?;
        db::require(&tx, case_id)?;
        let before = db::set_diary_number(&tx, case_id, number)?;
        if before.as_deref() != number {
            audit::append(
                &tx,
                now,
                &Event {
                    actor,
                    event: "case.diary_number",
                    case_id: Some(case_id),
                    round_id: None,
                    data: json!({"from": before, "to": number}),
                    personal: None,
                },
            )?;
        }
        tx.commit()?;
        Ok(number.map(str::to_string))
    }

    /// Sends the open step of `case_id` to its assignee again with a fresh link; older links
    /// to the step stop working.
    /// `step` is the step the asker saw: a case that has moved on since is refused.
    pub fn resend_link(
        &mut self,
        case_id: &str,
        step: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Sent> {
        self.refresh_org()?;
        self.send_step(case_id, step, None, actor, now)
    }

    /// Gives the open step of `case_id` to `person_id`, who must hold the step's role for the
    /// case's unit (and not be the reviewed user), and sends them the task with a fresh link.
    pub fn reassign_step(
        &mut self,
        case_id: &str,
        step: Option<i64>,
        person_id: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Sent> {
        self.refresh_org()?;
        self.send_step(case_id, step, Some(person_id), actor, now)
    }

    fn send_step(
        &mut self,
        case_id: &str,
        step: Option<i64>,
        to: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Sent> {
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let case = db::require(&tx, case_id)?;
        let Some(task) = db::open_task(&tx, case_id)? else {
            return Err(Refusal::NoOpenStep {
                case: case_id.to_string(),
            }
            .into());
        };
        if step.is_some_and(|s| s != task.id) {
            return Err(Refusal::StepMoved {
                case: case_id.to_string(),
            }
            .into());
        }
        let routine = ctx.version(&tx, &case.routine_hash)?;
        let state = routine
            .state(&task.state)
            .map(|ix| &routine.graph[ix])
            .ok_or_else(|| Error::runtime(format!("case {case_id}: unknown step")))?;
        let day = deadline::local_date(now, routine.timezone);
        let person_id = match to {
            None => task.assignee_id.clone().ok_or_else(|| {
                Error::from(Refusal::StepHasNobody {
                    case: case_id.to_string(),
                })
            })?,
            Some(p) => {
                let role = task
                    .role
                    .parse::<Role>()
                    .map_err(|_| Error::runtime(format!("case {case_id}: unknown role")))?;
                let holders = ctx.org.holders(role, &case.unit_id, day);
                if task.assignee_id.as_deref() == Some(p) {
                    return Err(Refusal::HasStepAlready {
                        person: p.to_string(),
                    }
                    .into());
                }
                if case.subject_person_id.as_deref() == Some(p) {
                    return Err(Refusal::OwnAccess.into());
                }
                if !holders.contains(&p) {
                    return Err(Refusal::NotHolder {
                        person: p.to_string(),
                        role: task.role.clone(),
                    }
                    .into());
                }
                db::reassign(&tx, task.id, p, p)?;
                p.to_string()
            }
        };
        let person = ctx
            .org
            .person(&person_id)
            .filter(|p| p.is_active_on(day))
            .ok_or_else(|| {
                Error::from(Refusal::PersonInactive {
                    person: person_id.clone(),
                })
            })?;
        let generation = db::next_link_generation(&tx, task.id)?;
        // The emails with the link before this one would arrive with a link that no longer works.
        crate::store::outbox::withdraw_task_emails(
            &tx,
            task.id,
            if to.is_some() {
                "withdrawn: the step was given to someone else before the email went out"
            } else {
                "withdrawn: a newer link to the step was sent"
            },
        )?;
        notices::queue_step(
            &tx, &ctx, &routine, state, &case, &task, person, generation, now,
        )?;
        let (event, data) = match to {
            None => (
                "task.link_resent",
                json!({"task": task.id, "state": task.state, "to": person_id, "generation": generation}),
            ),
            Some(_) => (
                "task.reassigned",
                json!({
                    "task": task.id, "state": task.state, "from": task.assignee_id,
                    "to": person_id, "holder": person_id, "generation": generation,
                    "reason": "reassigned from the overview",
                }),
            ),
        };
        audit::append(
            &tx,
            now,
            &Event {
                actor,
                event,
                case_id: Some(&case.id),
                round_id: None,
                data,
                personal: None,
            },
        )?;
        let sent = Sent {
            task_id: task.id,
            person_id: person.id.clone(),
            name: person.name.clone(),
            email: person.email.clone(),
        };
        tx.commit()?;
        Ok(sent)
    }
}

/// A person of the roster that a search named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub id: String,
    pub name: String,
    /// Their units, their first unit first.
    pub units: Vec<String>,
    /// Their accounts, `system:account`.
    pub accounts: Vec<String>,
}

/// The people `text` names, as quality staff write it: a person id or an account in any system
/// (exactly, any case), else (a part of) a name; removed people are left out; at most `limit`,
/// by name.
pub(crate) fn find_people(
    conn: &crate::store::Db,
    org: &super::org::Org,
    text: &str,
    limit: usize,
) -> Result<Vec<Found>> {
    use crate::store::roster;
    let ids = ids_named(conn, org, text, false)?;
    let mut out = Vec::new();
    for id in ids {
        if out.len() == limit {
            break;
        }
        let Some(p) = org.person(&id).filter(|p| !p.removed) else {
            continue;
        };
        out.push(Found {
            id: p.id.clone(),
            name: p.name.clone(),
            units: roster::units_of_person(conn, &p.id)?,
            accounts: roster::accounts_of_person(conn, &p.id)?
                .into_iter()
                .map(|(s, a)| format!("{s}:{a}"))
                .collect(),
        });
    }
    Ok(out)
}

/// The ids of the people `text` names (as [`find_people`] reads it), by name; with
/// `with_removed`, people removed from the roster too (whose cases are still searched for).
pub(crate) fn ids_named(
    conn: &crate::store::Db,
    org: &super::org::Org,
    text: &str,
    with_removed: bool,
) -> Result<Vec<String>> {
    use crate::store::roster;
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = Vec::new();
    if org.person(text).is_some() {
        ids.push(text.to_string());
    }
    for candidate in [text.to_string(), text.to_lowercase()] {
        for (_, person) in roster::holders_of_account(conn, &candidate)? {
            if !ids.contains(&person) {
                ids.push(person);
            }
        }
    }
    if ids.is_empty() {
        let lower = text.to_lowercase();
        let mut named: Vec<&crate::store::roster::PersonInfo> = org
            .people()
            .filter(|p| (with_removed || !p.removed) && p.name.to_lowercase().contains(&lower))
            .collect();
        // A whole name given is that name, not every longer one containing it.
        if named.iter().any(|p| p.name.to_lowercase() == lower) {
            named.retain(|p| p.name.to_lowercase() == lower);
        }
        named.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        ids = named.into_iter().map(|p| p.id.clone()).collect();
    }
    Ok(ids)
}
