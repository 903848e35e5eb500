//! Cases moving through their graph: opening one, entering a state (a step assigned to its role
//! holder with deadline, reminders and escalation; or a final state that closes the case), and
//! answering a step — only along the compiled graph, only by a person allowed to, with a comment
//! where the routine requires one. Each answer is one transaction.

use super::Refusal;
use super::deadline;
use super::notices::{self, CaseFacts, Notice};
use super::{Ctx, Engine};
use crate::roster::Role;
use crate::routine::Routine;
use crate::routine::model::{CaseKind, StateIx};
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, NewCase, NewTask, TaskRow};
use crate::store::ts;
use crate::{Error, Result};
use chrono::{DateTime, Datelike, Utc};
use serde_json::json;

/// What entering a state did; the caller records it in the audit trail with its own event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entered {
    pub state: String,
    pub task_id: Option<i64>,
    pub assignee: Option<String>,
    pub holder: Option<String>,
    pub due: Option<chrono::NaiveDate>,
    pub result: Option<&'static str>,
    pub informed: Vec<String>,
}

impl Entered {
    pub(crate) fn closed(&self) -> bool {
        self.result.is_some()
    }

    /// The audit data of the entry, to merge into the event that caused it.
    pub(crate) fn audit(&self) -> serde_json::Value {
        let mut v = json!({"state": self.state});
        if let Some(result) = self.result {
            v["result"] = json!(result);
        }
        if let Some(task) = self.task_id {
            v["task"] = json!(task);
            v["assignee"] = json!(self.assignee);
            v["holder"] = json!(self.holder);
            v["due"] = json!(self.due.map(crate::store::date));
        }
        if !self.informed.is_empty() {
            v["informed"] = json!(self.informed);
        }
        v
    }
}

/// Enters `state` for case `case` (inside the caller's transaction): a step is assigned, its
/// first reminder or escalation scheduled and its assignee emailed; a final state closes the
/// case. Roles informed without a task get one notice each.
pub(crate) fn enter(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    case: &CaseFacts,
    ix: StateIx,
    now: DateTime<Utc>,
) -> Result<Entered> {
    let state = &routine.graph[ix];
    let tz = routine.timezone;
    let day = deadline::local_date(now, tz);
    let mut entered = Entered {
        state: state.name.clone(),
        task_id: None,
        assignee: None,
        holder: None,
        due: None,
        result: None,
        informed: Vec::new(),
    };
    match (&state.task, state.result) {
        (None, Some(result)) => {
            db::close(conn, case.id, &state.name, result.as_str(), now)?;
            entered.result = Some(result.as_str());
        }
        (Some(task), _) => {
            db::set_state(conn, case.id, &state.name)?;
            // The holder of the role (or their deputy); failing that, whoever escalations reach.
            // Nobody reviews their own access: the reviewed user is passed over, for whoever the
            // step escalates to, or else the next holder of the role.
            let me = case.subject_person_id;
            let own = ctx
                .org
                .assign(task.assignee, case.unit_id, day)
                .is_some_and(|a| Some(a.assignee.as_str()) == me);
            let escalate = || {
                task.escalation
                    .as_ref()
                    .and_then(|e| ctx.org.assign_except(e.to, case.unit_id, day, me))
            };
            let assignment = if own {
                escalate().or_else(|| ctx.org.assign_except(task.assignee, case.unit_id, day, me))
            } else {
                ctx.org
                    .assign_except(task.assignee, case.unit_id, day, me)
                    .or_else(escalate)
            };
            let due = deadline::due_date(now, tz, task.deadline);
            let task_id = db::insert_task(
                conn,
                &NewTask {
                    case_id: case.id,
                    state: &state.name,
                    role: task.assignee.as_str(),
                    assignee_id: assignment.as_ref().map(|a| a.assignee.as_str()),
                    holder_id: assignment.as_ref().map(|a| a.holder.as_str()),
                    due_date: due,
                },
                now,
            )?;
            if let Some(first) = deadline::plan(task, now, due, tz).first() {
                db::insert_timer(conn, task_id, 0, first.kind, &first.label, first.fire_at)?;
            }
            if let Some(a) = &assignment
                && let Some(person) = ctx.org.person(&a.assignee)
            {
                notices::queue(
                    conn,
                    ctx,
                    &Notice {
                        mail: crate::mails::StepMail::Task {},
                        routine,
                        state,
                        case,
                        task_id: Some(task_id),
                        recipient: person,
                        due: Some(due),
                        generation: 0,
                    },
                    now,
                )?;
            }
            entered.task_id = Some(task_id);
            entered.due = Some(due);
            entered.assignee = assignment.as_ref().map(|a| a.assignee.clone());
            entered.holder = assignment.map(|a| a.holder);
        }
        (None, None) => {
            return Err(Error::runtime(format!(
                "state `{}` of `{}` is neither a step nor final",
                state.name, routine.id
            )));
        }
    }
    if state.inform.is_empty() {
        return Ok(entered);
    }
    // Roles informed without a task: one notice per person (not the assignee, who has the task).
    let latest_task = match entered.task_id {
        Some(id) => Some(id),
        None => db::tasks_of(conn, case.id)?.last().map(|t| t.id),
    };
    for role in &state.inform {
        for holder in ctx.org.holders(*role, case.unit_id, day) {
            if entered.informed.iter().any(|p| p == holder)
                || entered.assignee.as_deref() == Some(holder)
            {
                continue;
            }
            let Some(person) = ctx.org.person(holder) else {
                continue;
            };
            notices::queue(
                conn,
                ctx,
                &Notice {
                    mail: crate::mails::StepMail::Inform {
                        result: state.result.map(|r| r.title_sv()).unwrap_or("").to_string(),
                    },
                    routine,
                    state,
                    case,
                    task_id: latest_task,
                    recipient: person,
                    due: None,
                    // Read-only: a link for information is never replaced.
                    generation: 0,
                },
                now,
            )?;
            entered.informed.push(holder.to_string());
        }
    }
    Ok(entered)
}

/// The result of an answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answered {
    pub case_id: String,
    pub from: String,
    pub outcome: String,
    pub to: String,
    pub closed: bool,
    pub assignee: Option<String>,
}

/// Whether `person` may answer `task` of a case at `unit`: the assignee, the role's holder (or
/// their deputy), or — once the step has escalated, not before — whoever it escalates to; never
/// the reviewed user (`subject`). ("Beslut om att initiera loggkontroll ska alltid tas av
/// verksamhetschef": the escalation role is informed, and decides only when it is late.)
pub(crate) fn may_answer(
    org: &super::org::Org,
    routine: &Routine,
    task: &TaskRow,
    unit: &str,
    subject: Option<&str>,
    person: &str,
    day: chrono::NaiveDate,
) -> bool {
    if subject == Some(person) {
        return false;
    }
    if task.assignee_id.as_deref() == Some(person) || task.holder_id.as_deref() == Some(person) {
        return true;
    }
    let Ok(role) = task.role.parse::<Role>() else {
        return false;
    };
    if org.holders(role, unit, day).contains(&person) || org.is_deputy(person, role, unit, day) {
        return true;
    }
    task.escalated_at.is_some()
        && routine
            .state(&task.state)
            .and_then(|ix| routine.graph[ix].task.as_ref())
            .and_then(|t| t.escalation.as_ref())
            .is_some_and(|e| org.holders(e.to, unit, day).contains(&person))
}

/// What someone does within a case's open step besides answering it, as refusals word it:
/// `("judge the accesses", "its accesses can no longer be judged")`.
pub(super) struct Acting {
    pub what: &'static str,
    pub closed: &'static str,
}

/// The open step of `case` in which `by` acts (judging accesses, deciding accounts, ticking
/// staff) on local day `day`: refused when the case is closed, has no open step, the link's step
/// (`task_id`) has been answered, `by` is not in the roster, or `by` may not answer the step.
#[allow(clippy::too_many_arguments)]
pub(super) fn step_to_act_in(
    conn: &Db,
    org: &super::org::Org,
    routine: &Routine,
    case: &db::CaseRow,
    by: &str,
    task_id: Option<i64>,
    day: chrono::NaiveDate,
    acting: &Acting,
) -> Result<TaskRow> {
    if let Some(closed) = &case.closed_at {
        return Err(Error::bad_input(format!(
            "case {} was closed {closed}; {}",
            case.id, acting.closed
        )));
    }
    let task = db::open_task(conn, &case.id)?
        .ok_or_else(|| Error::bad_input(format!("case {} has no open step", case.id)))?;
    if task_id.is_some_and(|t| t != task.id) {
        return Err(Error::bad_input(format!(
            "this step of case {} has already been answered",
            case.id
        )));
    }
    if org.person(by).is_none() {
        return Err(Error::bad_input(format!(
            "--by: no person `{by}` in the roster"
        )));
    }
    if !may_answer(
        org,
        routine,
        &task,
        &case.unit_id,
        case.subject_person_id.as_deref(),
        by,
        day,
    ) {
        return Err(Error::bad_input(format!(
            "{by} may not {} of case {}: step `{}` is assigned to {}",
            acting.what,
            case.id,
            task.state,
            task.assignee_id
                .as_deref()
                .unwrap_or("nobody (no holder of the role)")
        )));
    }
    Ok(task)
}

fn outcome_list(routine: &Routine, ix: StateIx) -> String {
    routine
        .outcomes(ix)
        .iter()
        .map(|(o, _)| {
            format!(
                "`{}` ({}{})",
                o.name,
                o.label,
                if o.comment_required {
                    ", comment required"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One answer to record: what the task page's form, the command line and the simulation all
/// parse into, and what the engine takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRequest {
    pub case_id: String,
    pub outcome: String,
    pub by: String,
    pub comment: Option<String>,
    /// When given (an emailed link), the step the answer is for: it must still be open.
    pub task_id: Option<i64>,
}

impl AnswerRequest {
    /// `by`'s answer `outcome` to the current step of `case_id`, without a comment, for
    /// whichever step is open.
    pub fn new(
        case_id: impl Into<String>,
        outcome: impl Into<String>,
        by: impl Into<String>,
    ) -> AnswerRequest {
        AnswerRequest {
            case_id: case_id.into(),
            outcome: outcome.into(),
            by: by.into(),
            comment: None,
            task_id: None,
        }
    }

    /// With `comment` (`None`: none).
    pub fn comment(mut self, comment: Option<&str>) -> AnswerRequest {
        self.comment = comment.map(str::to_string);
        self
    }

    /// For step `task_id` only (`None`: whichever is open).
    pub fn task(mut self, task_id: Option<i64>) -> AnswerRequest {
        self.task_id = task_id;
        self
    }
}

/// Records an answer inside the caller's transaction: validates it against the compiled graph,
/// the people allowed and the comment rule, then moves the case on.
pub(crate) fn answer_in(
    conn: &Db,
    ctx: &Ctx,
    req: &AnswerRequest,
    now: DateTime<Utc>,
) -> Result<Answered> {
    let (case_id, outcome, by) = (req.case_id.as_str(), req.outcome.as_str(), req.by.as_str());
    let (comment, task_id) = (req.comment.as_deref(), req.task_id);
    let case = db::require(conn, case_id)?;
    let routine = &*ctx.version(conn, &case.routine_hash)?;
    if let Some(closed) = &case.closed_at {
        return Err(Error::bad_input(format!(
            "case {case_id} was closed {closed} with the result `{}`; nothing to answer",
            case.result.as_deref().unwrap_or("")
        )));
    }
    let task = db::open_task(conn, case_id)?
        .ok_or_else(|| Error::bad_input(format!("case {case_id} has no open step")))?;
    if let Some(expected) = task_id
        && expected != task.id
    {
        return Err(Error::bad_input(format!(
            "this step of case {case_id} has already been answered"
        )));
    }
    let ix = routine.state(&task.state).ok_or_else(|| {
        Error::runtime(format!(
            "case {case_id} is in state `{}`, unknown to its routine",
            task.state
        ))
    })?;
    let Some((chosen, next)) = routine.next(ix, outcome) else {
        return Err(Error::bad_input(format!(
            "step `{}` of case {case_id} has no outcome `{outcome}`; the outcomes are {}",
            task.state,
            outcome_list(routine, ix)
        )));
    };
    let day = deadline::local_date(now, routine.timezone);
    if ctx.org.person(by).is_none() {
        return Err(Error::bad_input(format!("no person `{by}` in the roster")));
    }
    if !may_answer(
        ctx.org,
        routine,
        &task,
        &case.unit_id,
        case.subject_person_id.as_deref(),
        by,
        day,
    ) {
        return Err(Error::bad_input(format!(
            "{by} may not answer step `{}` of case {case_id}; it is assigned to {} (the outcomes are {})",
            task.state,
            task.assignee_id
                .as_deref()
                .unwrap_or("nobody (no holder of the role)"),
            outcome_list(routine, ix)
        )));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if chosen.comment_required && comment.is_none() {
        return Err(Error::bad_input(format!(
            "outcome `{outcome}` of step `{}` needs a comment (--comment TEXT); the outcomes are {}",
            task.state,
            outcome_list(routine, ix)
        )));
    }
    // The evidence: what was looked at goes into the audit entry, and "no finding" waits until
    // every flagged access is judged and none is judged against.
    let evidence = super::judge::evidence_if_any(conn, ctx.org, routine, &case, now)?;
    if let Some(ev) = &evidence
        && super::judge::is_no_finding(routine, next)
        && let Some(why) = super::judge::no_finding_refusal(ev, outcome)
    {
        return Err(Error::bad_input(why));
    }
    if let Some(why) = super::access::closing_refusal(conn, routine, &case, next, outcome, now)? {
        return Err(Error::bad_input(why));
    }
    if let Some(why) =
        super::information::closing_refusal(conn, ctx.org, routine, &case, next, outcome, now)?
    {
        return Err(Error::bad_input(why));
    }
    if !db::answer_task(conn, task.id, outcome, by, comment, now)? {
        return Err(Error::bad_input(format!(
            "this step of case {case_id} has already been answered"
        )));
    }
    // Who was informed stays known after the case is purged (the summary counts from it).
    if super::information::closes_informed(routine, next)
        && let Some(person) = &case.subject_person_id
    {
        crate::store::information::record_informed(conn, &routine.id, person, now)?;
    }
    // An extract is handed out when the start step of its routine is answered (ROUTINES.md).
    if routine.kind == CaseKind::Extract && task.state == routine.start_state().name {
        crate::store::records::set_handed_out(conn, case_id, now)?;
    }
    let facts = CaseFacts {
        id: case_id,
        unit_id: &case.unit_id,
        subject_person_id: case.subject_person_id.as_deref(),
    };
    let entered = enter(conn, ctx, routine, &facts, next, now)?;
    // A closing answer keeps what the review looked at, for the protocol.
    if entered.closed()
        && let Some(ev) = &evidence
    {
        let summary =
            crate::evidence::case::protocol_summary(ev, routine.timezone, |id| ctx.org.name_of(id));
        crate::store::evidence::save_snapshot(conn, case_id, &summary.to_string(), now)?;
    }
    let mut data = entered.audit();
    data["from"] = json!(task.state);
    data["outcome"] = json!(outcome);
    data["answered_task"] = json!(task.id);
    if let Some(ev) = &evidence {
        data["evidence"] = json!({
            "log": ev.log.as_str(),
            "accesses": ev.counts.accesses,
            "clients": ev.counts.clients,
            "flagged": ev.counts.flagged,
            "unexplained": ev.counts.unexplained,
            "judged": ev.counts.judged,
        });
    }
    audit::append(
        conn,
        now,
        &Event {
            actor: by,
            event: "case.answered",
            case_id: Some(case_id),
            round_id: case.round_id,
            data,
            personal: comment.map(|c| json!({"comment": c})),
        },
    )?;
    Ok(Answered {
        case_id: case_id.to_string(),
        from: task.state,
        outcome: outcome.to_string(),
        closed: entered.closed(),
        to: entered.state,
        assignee: entered.assignee,
    })
}

impl Engine {
    /// Records the answer `req` (its outcome of the current step of its case) in one durable
    /// transaction. When it names a step (an emailed link), that must be the open step. Refused
    /// answers change nothing.
    pub fn answer(&mut self, req: &AnswerRequest, now: DateTime<Utc>) -> Result<Answered> {
        Ok(self.answer_batch(std::slice::from_ref(req), now)?.remove(0))
    }

    /// Records several answers in one transaction: all or none.
    pub fn answer_batch(
        &mut self,
        reqs: &[AnswerRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Answered>> {
        if reqs.is_empty() {
            return Ok(Vec::new());
        }
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let mut out = Vec::with_capacity(reqs.len());
        for req in reqs {
            out.push(answer_in(&tx, &ctx, req, now)?);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Opens an ad hoc case (a targeted review, a client's request for an extract).
    pub fn open_case(&mut self, req: &OpenRequest, now: DateTime<Utc>) -> Result<String> {
        self.refresh_org()?;
        let routine = crate::routine::loader::select(&self.routines, &req.routine)?.clone();
        let (store, ctx) = self.parts();
        let org = ctx.org;
        if !org.units.contains_key(&req.unit) {
            return Err(Refusal::NoUnit {
                unit: req.unit.clone(),
            }
            .into());
        }
        let day = deadline::local_date(now, routine.timezone);
        match org.person(&req.by) {
            // A web account is checked by its login, not the roster.
            _ if req.from_web => {}
            Some(p) if p.is_active_on(day) => {}
            Some(_) => {
                return Err(Refusal::OpenerInactive {
                    person: req.by.clone(),
                }
                .into());
            }
            None => {
                return Err(Refusal::OpenerUnknown {
                    person: req.by.clone(),
                }
                .into());
            }
        }
        let system = match &req.system {
            Some(s) if routine.systems.contains(s) => s.clone(),
            Some(s) => {
                return Err(Refusal::SystemNotCovered {
                    routine: routine.id.clone(),
                    covers: routine.systems.clone(),
                    system: s.clone(),
                }
                .into());
            }
            None => routine.system().to_string(),
        };
        let subject_account = match &req.subject_user {
            None => None,
            Some(id) => {
                if org.person(id).is_none() {
                    return Err(Refusal::SubjectUnknown { person: id.clone() }.into());
                }
                crate::store::roster::first_account(store.db(), id, &system)?
            }
        };
        if let Some(client) = &req.client {
            crate::personnummer::validate(client)
                .map_err(|why| Error::from(Refusal::BadClient { why }))?;
        }
        if let (Some(from), Some(to)) = (req.from, req.to)
            && from >= to
        {
            return Err(Refusal::PeriodReversed.into());
        }
        what_the_kind_needs(&routine, req)?;
        let opened_by = if req.from_web {
            format!("web:{}", req.by)
        } else {
            req.by.clone()
        };
        let tx = store.write()?;
        super::register(&tx, &routine, now)?;
        let id = next_id(&tx, &routine, now)?;
        db::insert_case(
            &tx,
            &NewCase {
                id: &id,
                routine_id: &routine.id,
                routine_hash: &routine.hash,
                kind: routine.kind.as_str(),
                system: &system,
                unit_id: &req.unit,
                round_id: None,
                subject_person_id: req.subject_user.as_deref(),
                subject_account: subject_account.as_deref(),
                client_ref: req.client.as_deref(),
                window_start: req.from,
                window_end: req.to,
                reason: req.reason.as_deref(),
                state: &routine.start_state().name,
                opened_by: &opened_by,
                // A targeted review or an extract request opened without --system covers every
                // system its routine covers.
                systems: (matches!(routine.kind, CaseKind::Targeted | CaseKind::Extract)
                    && req.system.is_none()
                    && routine.systems.len() > 1)
                    .then_some(routine.systems.as_slice()),
                client_name: req
                    .client_name
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty()),
                client_address: req
                    .client_address
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty()),
            },
            now,
        )?;
        start_case(
            &tx,
            &ctx,
            &routine,
            &id,
            None,
            // Whose record, whose access and when are personal: erasable by the purge.
            Some(json!({
                "client": req.client,
                "reason": req.reason,
                "subject_user": req.subject_user,
                "from": req.from.map(ts),
                "to": req.to.map(ts),
            })),
            now,
        )?;
        tx.commit()?;
        Ok(id)
    }
}

/// What a case of `routine`'s kind needs from the request to open by hand: a reason for a
/// targeted review, a client and a period for an extract; information and access-rights cases
/// open themselves.
fn what_the_kind_needs(routine: &Routine, req: &OpenRequest) -> Result<()> {
    match routine.kind {
        CaseKind::Information => {
            return Err(Refusal::OpensItself {
                routine: routine.id.clone(),
                per_unit: false,
            }
            .into());
        }
        CaseKind::AccessRights => {
            return Err(Refusal::OpensItself {
                routine: routine.id.clone(),
                per_unit: true,
            }
            .into());
        }
        CaseKind::Extract => {
            if req.client.is_none() {
                return Err(Refusal::ExtractNeedsClient.into());
            }
            if req.from.is_none() || req.to.is_none() {
                return Err(Refusal::ExtractNeedsPeriod.into());
            }
        }
        CaseKind::Targeted => {
            if req
                .reason
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .is_empty()
            {
                return Err(Refusal::TargetedNeedsReason.into());
            }
        }
        CaseKind::Sampling => {
            if req.subject_user.is_none() {
                return Err(Refusal::SamplingNeedsSubject.into());
            }
        }
    }
    Ok(())
}

/// The next case reference of `routine` at `now` (`TRE-2027-0042`).
pub(super) fn next_id(conn: &Db, routine: &Routine, now: DateTime<Utc>) -> Result<String> {
    let year = now.with_timezone(&routine.timezone).year();
    db::next_reference(conn, &routine.reference_prefix, year)
}

/// Starts case `id`, just inserted, of `routine` (inside the caller's transaction): enters the
/// start state and appends the `case.opened` audit entry, by whoever the case was opened by.
/// Every way a case opens — ad hoc, an information case, an access-rights review — goes
/// through here; a round's cases have their own entry with the draw (`rounds`).
pub(super) fn start_case(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    id: &str,
    round_id: Option<i64>,
    personal: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<()> {
    let case = db::require(conn, id)?;
    let facts = CaseFacts {
        id,
        unit_id: &case.unit_id,
        subject_person_id: case.subject_person_id.as_deref(),
    };
    let entered = enter(conn, ctx, routine, &facts, routine.start, now)?;
    let mut data = entered.audit();
    for (k, v) in [
        ("routine", json!(routine.id)),
        ("version", json!(routine.hash)),
        ("kind", json!(routine.kind.as_str())),
        ("unit", json!(case.unit_id)),
        ("system", json!(case.system)),
    ] {
        data[k] = v;
    }
    audit::append(
        conn,
        now,
        &Event {
            actor: &case.opened_by,
            event: "case.opened",
            case_id: Some(id),
            round_id,
            data,
            personal,
        },
    )?;
    Ok(())
}

/// A request to open an ad hoc case.
#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    pub routine: String,
    pub unit: String,
    pub by: String,
    pub subject_user: Option<String>,
    pub client: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub system: Option<String>,
    /// The client's name and postal address, for the extract letter's address field.
    pub client_name: Option<String>,
    pub client_address: Option<String>,
    /// `by` is an account of the web overview (the case is opened by `web:NAME`), not a person
    /// of the roster.
    pub from_web: bool,
}
