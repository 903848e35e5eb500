//! Access-rights reviews ("Underhålla behörigheter"): a routine of kind `access_rights` runs on
//! its schedule (at least once a year) and opens one case per unit whose people hold accounts in
//! its systems, for the role it names. The reviewer decides per account — `keep` (behålls) or
//! `end` (avslutas, ordered) — and the step that closes the review is refused while a flagged
//! account is undecided. Each round exists once (the round's unique key), as a sampling round's.

use super::rounds::RoundSummary;
use super::{Ctx, Engine, deadline};
use crate::evidence::access::{self as rules, Keep, Review};
use crate::routine::Routine;
use crate::routine::model::{CaseKind, ResultCategory, StateIx};
use crate::store::Db;
use crate::store::access as db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as cases_db, CaseRow, NewCase};
use crate::store::rounds::{self as rounds_db, NewRound};
use crate::store::ts;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Opens the review of `occurrence` (inside the caller's transaction): a case per unit with
/// account holders; `None` when the round exists already.
pub(crate) fn run(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RoundSummary>> {
    super::register(conn, routine, now)?;
    let units = db::units_with_accounts(conn, &routine.systems)?;
    let Some(round_id) = rounds_db::insert_round(
        conn,
        &NewRound {
            routine_id: &routine.id,
            routine_hash: &routine.hash,
            occurrence,
            seed: 0,
            // The units reviewed; nobody is drawn (a round's drawn count is its drawn members).
            population: units.len(),
            drawn: 0,
            log_horizon: None,
        },
        now,
    )?
    else {
        return Ok(None);
    };
    for unit in &units {
        let id = super::cases::next_id(conn, routine, now)?;
        cases_db::insert_case(
            conn,
            &NewCase {
                id: &id,
                routine_id: &routine.id,
                routine_hash: &routine.hash,
                kind: routine.kind.as_str(),
                system: routine.system(),
                unit_id: unit,
                // A round's cases are its drawn members'; this one's are the units'.
                round_id: None,
                subject_person_id: None,
                subject_account: None,
                client_ref: None,
                window_start: None,
                window_end: None,
                reason: None,
                state: &routine.start_state().name,
                opened_by: "loggkoll",
                systems: (routine.systems.len() > 1).then_some(routine.systems.as_slice()),
                client_name: None,
                client_address: None,
            },
            now,
        )?;
        super::cases::start_case(conn, ctx, routine, &id, Some(round_id), None, now)?;
    }
    Ok(Some(RoundSummary {
        round_id,
        routine: routine.id.clone(),
        occurrence: ts(occurrence),
        population: units.len(),
        // Cases opened: one per unit.
        drawn: units.len(),
    }))
}

/// The review of access-rights case `case` at `now`.
pub(crate) fn review_of(
    conn: &Db,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<Review> {
    rules::review(
        conn,
        &case.id,
        &case.unit_id,
        &case.systems,
        deadline::local_date(now, routine.timezone),
        routine.timezone,
    )
}

/// Why the outcome that closes `case`'s review (to `next`) is refused, if it is: a flagged
/// account is undecided.
pub(crate) fn closing_refusal(
    conn: &Db,
    routine: &Routine,
    case: &CaseRow,
    next: StateIx,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if routine.kind != CaseKind::AccessRights
        || routine.graph[next].result != Some(ResultCategory::RightsReviewed)
    {
        return Ok(None);
    }
    let review = review_of(conn, routine, case, now)?;
    let undecided: Vec<String> = review
        .accounts
        .iter()
        .filter(|a| a.flagged() && a.decision.is_none())
        .map(|a| format!("{}:{}", a.system, a.account))
        .collect();
    if undecided.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "outcome `{outcome}` of case {} is refused: {} flagged account{} not decided yet: {} (decide each with `loggkoll case decide {} ACCOUNT keep|end`)",
        case.id,
        undecided.len(),
        if undecided.len() == 1 { " is" } else { "s are" },
        undecided.join(", "),
        case.id
    )))
}

/// A decision on one account of an access-rights case.
#[derive(Debug, Clone)]
pub(crate) struct DecideRequest<'a> {
    pub case_id: &'a str,
    pub system: Option<&'a str>,
    pub account: &'a str,
    pub decision: Keep,
    pub by: &'a str,
    pub comment: Option<&'a str>,
    /// When given (an emailed link), the step it is made in: it must still be open.
    pub task_id: Option<i64>,
}

impl Engine {
    /// The access-rights review of case `case_id` at `now`.
    pub fn account_review(&mut self, case_id: &str, now: DateTime<Utc>) -> Result<Review> {
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let case = cases_db::require(store.db(), case_id)?;
        let routine = ctx.version(store.db(), &case.routine_hash)?;
        if routine.kind != CaseKind::AccessRights {
            return Err(Error::bad_input(format!(
                "case {} is a {} case, not an access-rights review",
                case.id, case.kind
            )));
        }
        review_of(store.db(), &routine, &case, now)
    }

    /// Records a decision (one transaction, audited; the account and comment are personal).
    pub(crate) fn decide_account(
        &mut self,
        req: &DecideRequest,
        now: DateTime<Utc>,
    ) -> Result<String> {
        self.refresh_org()?;
        let (store, ctx) = self.parts();
        let tx = store.write()?;
        let case = cases_db::require(&tx, req.case_id)?;
        let routine = ctx.version(&tx, &case.routine_hash)?;
        if routine.kind != CaseKind::AccessRights {
            return Err(Error::bad_input(format!(
                "case {} is a {} case, not an access-rights review",
                case.id, case.kind
            )));
        }
        let day = deadline::local_date(now, routine.timezone);
        super::cases::step_to_act_in(
            &tx,
            ctx.org,
            &routine,
            &case,
            req.by,
            req.task_id,
            day,
            &super::cases::Acting {
                what: "decide the accounts",
                closed: "its accounts can no longer be decided",
            },
        )?;
        let review = review_of(&tx, &routine, &case, now)?;
        let account = rules::require_listed(&review, req.system, req.account)?;
        let comment = req
            .comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.chars()
                    .take(super::judge::MAX_COMMENT)
                    .collect::<String>()
            });
        db::decide(
            &tx,
            &case.id,
            &db::Decision {
                system: account.system.clone(),
                account: account.account.clone(),
                decision: req.decision.as_str().to_string(),
                by: req.by.to_string(),
                by_name: String::new(),
                at: ts(now),
                comment: comment.clone(),
            },
        )?;
        audit::append(
            &tx,
            now,
            &Event {
                actor: req.by,
                event: "account.decided",
                case_id: Some(&case.id),
                round_id: None,
                data: json!({"decision": req.decision.as_str()}),
                personal: Some(json!({
                    "system": account.system,
                    "account": account.account,
                    "comment": comment,
                })),
            },
        )?;
        tx.commit()?;
        Ok(case.id)
    }
}
