//! Judging the evidence of a case, access by access: the person who may answer the case's open
//! step marks a flagged or unexplained access — or all accesses to one client at once —
//! `justified`, `unjustified` or `unclear`, with an optional comment. Each judgement is one
//! transaction with its audit entry; which accesses and the comment are personal details, kept
//! outside the chain's hashed data and purged with the case. A later step may judge again: the
//! latest judgement stands.
//!
//! The "no finding" outcome (one that closes the case with the result `no_finding`) is refused
//! while a flagged access is unjudged or any access is judged other than justified
//! ([`no_finding_refusal`]).

use super::{Engine, deadline};
use crate::evidence::{self, Evidence, Verdict};
use crate::routine::Routine;
use crate::routine::model::{ResultCategory, StateIx};
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, CaseRow};
use crate::store::evidence::{self as edb, Judgement};
use crate::store::ts;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The longest comment kept, in characters.
pub(crate) const MAX_COMMENT: usize = 10_000;

/// Which accesses a judgement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One access, by its `log_id` (and system, when the case reviews several that share ids).
    Access {
        log_id: String,
        system: Option<String>,
    },
    /// Every access to one client (12 digits).
    Client(String),
}

#[derive(Debug, Clone)]
pub struct JudgeRequest<'a> {
    pub case_id: &'a str,
    pub target: Target,
    pub verdict: Verdict,
    pub by: &'a str,
    pub comment: Option<&'a str>,
    /// When given (an emailed link), the step the judgement is made in: it must still be open.
    pub task_id: Option<i64>,
}

/// What a judgement did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Judged {
    pub case_id: String,
    pub verdict: String,
    /// (system, log_id) of each access judged.
    pub accesses: Vec<(String, String)>,
}

/// Whether a case has evidence to judge: a period, and a reviewed user or a client.
pub(crate) fn has_evidence(case: &CaseRow) -> bool {
    case.window_start.is_some()
        && case.window_end.is_some()
        && (case.subject_person_id.is_some() || case.client_ref.is_some())
}

/// Whether an outcome of `state` closes the case as "no finding".
pub(crate) fn is_no_finding(routine: &Routine, next: StateIx) -> bool {
    routine.graph[next].result == Some(ResultCategory::NoFinding)
}

/// Why "no finding" cannot be answered yet, listing what is missing; `None` when it can.
pub(crate) fn no_finding_refusal(ev: &Evidence, outcome: &str) -> Option<String> {
    let unjudged = ev.unjudged_flagged();
    let against = ev.judged_against();
    if unjudged.is_empty() && against.is_empty() {
        return None;
    }
    let describe = |a: &evidence::case::Access| {
        let codes: Vec<&str> = a.flags.iter().map(|f| f.code).collect();
        if codes.is_empty() {
            format!("{} ({} {})", a.log_id, a.system, a.at)
        } else {
            format!("{} ({} {}: {})", a.log_id, a.system, a.at, codes.join(", "))
        }
    };
    let list = |items: &[&evidence::case::Access]| {
        let mut shown: Vec<String> = items.iter().take(10).map(|a| describe(a)).collect();
        if items.len() > 10 {
            shown.push(format!("and {} more", items.len() - 10));
        }
        shown.join("; ")
    };
    let mut why = Vec::new();
    if !unjudged.is_empty() {
        why.push(format!(
            "{} flagged access{} not judged yet: {} (judge each with `loggkoll case judge {} LOG_ID justified|unjustified|unclear`)",
            unjudged.len(),
            if unjudged.len() == 1 { " is" } else { "es are" },
            list(&unjudged),
            ev.case
        ));
    }
    if !against.is_empty() {
        why.push(format!(
            "{} access{} judged unjustified or unclear: {} (choose another outcome, or judge again)",
            against.len(),
            if against.len() == 1 { " is" } else { "es are" },
            list(&against)
        ));
    }
    Some(format!(
        "outcome `{outcome}` of case {} is refused: {}",
        ev.case,
        why.join("; ")
    ))
}

/// The evidence of `case` when there is log to show (`None` without a period, a user or client,
/// or any imported log near the period: then there is nothing to judge).
pub(crate) fn evidence_if_any(
    conn: &Db,
    org: &super::org::Org,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<Option<Evidence>> {
    if !has_evidence(case) {
        return Ok(None);
    }
    let (Some(a), Some(b)) = (&case.window_start, &case.window_end) else {
        return Ok(None);
    };
    let (from, to) = (
        crate::store::parse_ts(a)?.timestamp(),
        crate::store::parse_ts(b)?.timestamp(),
    );
    if !crate::store::logindex::any_between(conn, from, to)?
        && edb::judgements(conn, &case.id)?.is_empty()
    {
        return Ok(None);
    }
    Ok(Some(evidence::evidence_of(conn, org, routine, case, now)?))
}

impl Engine {
    /// The evidence of case `case_id` (any state, not purged).
    pub fn evidence(&mut self, case_id: &str, now: DateTime<Utc>) -> Result<Evidence> {
        self.refresh_org()?;
        let case = db::require(self.store.db(), case_id)?;
        require_details(&case)?;
        let (store, ctx) = self.parts();
        let routine = ctx.version(store.db(), &case.routine_hash)?;
        evidence::evidence_of(store.db(), ctx.org, &routine, &case, now)
    }

    /// The evidence of case `case_id` when there is log near its period (see
    /// [`evidence_if_any`]).
    pub(crate) fn evidence_if_any(
        &mut self,
        case_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Evidence>> {
        self.refresh_org()?;
        let case = db::require(self.store.db(), case_id)?;
        let (store, ctx) = self.parts();
        let routine = ctx.version(store.db(), &case.routine_hash)?;
        evidence_if_any(store.db(), ctx.org, &routine, &case, now)
    }

    /// Records a judgement (see the module documentation) in one durable transaction.
    pub fn judge(&mut self, req: &JudgeRequest, now: DateTime<Utc>) -> Result<Judged> {
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let case = db::require(&tx, req.case_id)?;
        require_details(&case)?;
        let routine = ctx.version(&tx, &case.routine_hash)?;
        let day = deadline::local_date(now, routine.timezone);
        let task = super::cases::step_to_act_in(
            &tx,
            ctx.org,
            &routine,
            &case,
            req.by,
            req.task_id,
            day,
            &super::cases::Acting {
                what: "judge the accesses",
                closed: "its accesses can no longer be judged",
            },
        )?;
        let comment = req.comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
            return Err(Error::bad_input(format!(
                "--comment is longer than {MAX_COMMENT} characters"
            )));
        }
        let ev = evidence::evidence_of(&tx, ctx.org, &routine, &case, now)?;
        let chosen: Vec<&evidence::case::Access> = match &req.target {
            Target::Access { log_id, system } => {
                let hits: Vec<&evidence::case::Access> = ev
                    .accesses
                    .iter()
                    .filter(|a| {
                        a.log_id == *log_id && system.as_ref().is_none_or(|s| *s == a.system)
                    })
                    .collect();
                if hits.len() > 1 {
                    let systems: Vec<&str> = hits.iter().map(|a| a.system.as_str()).collect();
                    return Err(Error::bad_input(format!(
                        "log_id `{log_id}` is in the evidence of case {} in several systems ({}); name one with --system",
                        case.id,
                        systems.join(", ")
                    )));
                }
                if hits.is_empty() {
                    return Err(Error::bad_input(format!(
                        "no access `{log_id}` in the evidence of case {} ({} accesses; `loggkoll case evidence {}` lists them)",
                        case.id, ev.counts.accesses, case.id
                    )));
                }
                hits
            }
            Target::Client(client) => {
                let hits: Vec<&evidence::case::Access> =
                    ev.accesses.iter().filter(|a| a.client == *client).collect();
                if hits.is_empty() {
                    return Err(Error::bad_input(format!(
                        "no access to that client in the evidence of case {}",
                        case.id
                    )));
                }
                hits
            }
        };
        let at = ts(now);
        for a in &chosen {
            edb::judge(
                &tx,
                &case.id,
                &Judgement {
                    system: a.system.clone(),
                    log_id: a.log_id.clone(),
                    verdict: req.verdict.as_str().to_string(),
                    by: req.by.to_string(),
                    at: at.clone(),
                    comment: comment.map(str::to_string),
                },
            )?;
        }
        let accesses: Vec<(String, String)> = chosen
            .iter()
            .map(|a| (a.system.clone(), a.log_id.clone()))
            .collect();
        let flagged = chosen.iter().filter(|a| a.flagged()).count();
        audit::append(
            &tx,
            now,
            &Event {
                actor: req.by,
                event: "access.judged",
                case_id: Some(&case.id),
                round_id: case.round_id,
                data: json!({
                    "verdict": req.verdict.as_str(),
                    "accesses": chosen.len(),
                    "flagged": flagged,
                    "step": task.state,
                    "task": task.id,
                }),
                // Which accesses (and so whose record) and the comment are personal.
                personal: Some(json!({
                    "accesses": accesses,
                    "comment": comment,
                })),
            },
        )?;
        tx.commit()?;
        Ok(Judged {
            case_id: case.id.clone(),
            verdict: req.verdict.as_str().to_string(),
            accesses,
        })
    }
}

/// Refuses a purged case: its details are gone.
pub fn require_details(case: &CaseRow) -> Result<()> {
    match &case.purged_at {
        Some(at) => Err(crate::engine::Refusal::Purged {
            case: case.id.clone(),
            at: at.clone(),
        }
        .into()),
        None => Ok(()),
    }
}
