//! The review protocol (granskningsprotokoll) of a case: routine, unit, reviewer(s), the user and
//! the 24-hour window reviewed (local time), each step with its dates, who answered and the
//! comment, and the result. Rendered from the routine's `protocol` document template as
//! printable HTML (A4), and as PDF where Chromium is installed.

use super::files::{self, Printer, Written};
use crate::engine::{Ctx, Engine};
use crate::routine::Routine;
use crate::routine::explain::system_title;
use crate::routine::model::ResultCategory;
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::cases::{self as db, CaseRow};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::Path;

/// A person's name from the roster, or the id as it is.
pub fn name(ctx: &Ctx, id: Option<&str>) -> String {
    id.map(|id| ctx.org.name_of(id)).unwrap_or_default()
}

pub use crate::engine::judge::require_details;

/// Why the case was opened, in Swedish: a sampling case's draw reason, or the reason given.
pub(crate) fn reason_sv(case: &CaseRow) -> String {
    let reason = case.reason.clone().unwrap_or_default();
    if case.round_id.is_none() {
        return reason;
    }
    match reason.as_str() {
        "sample" => "Slumpmässigt urval".into(),
        "coverage" => "Slumpmässigt urval bland dem som ännu inte granskats i år".into(),
        "multi_unit" => "Särskild uppföljning: behörighet till flera enheter".into(),
        _ => reason,
    }
}

/// The values of the protocol template for `case`.
pub fn context(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<Value> {
    let tz = routine.timezone;
    let today = crate::clock::local_date(now, tz);
    let mut steps = Vec::new();
    let mut reviewers: Vec<String> = Vec::new();
    for t in db::tasks_of(conn, &case.id)? {
        let ix = routine.state(&t.state);
        let title = ix
            .map(|ix| routine.graph[ix].title.clone())
            .unwrap_or_else(|| t.state.clone());
        let outcome = match (&t.outcome, ix) {
            (Some(o), Some(ix)) => routine
                .next(ix, o)
                .map(|(o, _)| o.label.clone())
                .unwrap_or_else(|| o.clone()),
            (Some(o), None) => o.clone(),
            (None, _) => "Pågår".to_string(),
        };
        let by = name(ctx, t.answered_by.as_deref());
        if !by.is_empty() && !reviewers.contains(&by) {
            reviewers.push(by.clone());
        }
        let answered_day = t
            .answered_at
            .as_deref()
            .and_then(|a| crate::store::parse_ts(a).ok())
            .map(|a| crate::clock::local_date(a, tz));
        let late = answered_day.unwrap_or(today) > t.due_date;
        steps.push(json!({
            "step": title,
            "state": t.state,
            "started": files::local_date(Some(&t.started_at), tz),
            "due": crate::store::date(t.due_date),
            "assignee": name(ctx, t.assignee_id.as_deref()),
            "outcome": outcome,
            "by": by,
            "at": files::local(t.answered_at.as_deref(), tz),
            "comment": t.comment.clone().unwrap_or_default(),
            "late": late,
            "escalated": t.escalated_at.is_some(),
        }));
    }
    let result = case
        .result
        .as_deref()
        .and_then(ResultCategory::parse)
        .map(|r| r.title_sv().to_string())
        .unwrap_or_else(|| "Pågår – ärendet är inte avslutat".into());
    let state = routine
        .state(&case.state)
        .map(|ix| routine.graph[ix].title.clone())
        .unwrap_or_else(|| case.state.clone());
    let evidence = evidence_values(conn, ctx, routine, case, now)?;
    // An access-rights review: the unit's accounts and the decision on each.
    let accounts = if routine.kind == crate::routine::model::CaseKind::AccessRights
        && case.purged_at.is_none()
    {
        // As it stood when the review closed (the roster and the log may have moved since).
        let at = case
            .closed_at
            .as_deref()
            .map(crate::store::parse_ts)
            .transpose()?
            .unwrap_or(now);
        let review = crate::engine::access::review_of(conn, routine, case, at)?;
        serde_json::to_value(&review).map_err(|e| crate::Error::runtime(e.to_string()))?
    } else {
        Value::Null
    };
    // A unit's information case: its staff, and who was informed when.
    let staff = {
        let day = crate::clock::local_date(now, routine.timezone);
        crate::engine::information::staff_list(conn, ctx.org, case, day, routine.timezone)?
            .map(|l| serde_json::to_value(&l).map_err(|e| crate::Error::runtime(e.to_string())))
            .transpose()?
            .unwrap_or(Value::Null)
    };
    Ok(json!({
        "evidence": evidence,
        "accounts": accounts,
        "staff": staff,
        "case": {
            "id": case.id,
            "routine": routine.title,
            "routine_id": routine.id,
            "version": format!("{} ({})", routine.version, &routine.hash[..routine.hash.len().min(12)]),
            "kind": routine.kind.title_sv(),
            "unit": ctx.org.unit_name(&case.unit_id),
            "unit_id": case.unit_id,
            "system": system_title(&case.system),
            "subject_user": name(ctx, case.subject_person_id.as_deref()),
            "account": case.subject_account.clone().unwrap_or_default(),
            "client": case.client_ref.as_deref().map(files::personnummer).unwrap_or_default(),
            "window_start": files::local(case.window_start.as_deref(), tz),
            "window_end": files::local(case.window_end.as_deref(), tz),
            "timezone": tz.name(),
            "reason": reason_sv(case),
            "opened_at": files::local(Some(&case.opened_at), tz),
            "opened_by": if case.opened_by == "system" { "loggkoll (stickprov)".to_string() } else { name(ctx, Some(&case.opened_by)) },
            "closed_at": files::local(case.closed_at.as_deref(), tz),
            "handed_out_at": files::local(case.handed_out_at.as_deref(), tz),
            "result": result,
            "state": state,
            "reviewers": reviewers.join(", "),
            "diary_number": case.diary_number.clone().unwrap_or_default(),
        },
        "steps": steps,
        "legal_basis": routine.legal_basis.trim(),
        "organisation": ctx.config.organisation,
        "generated_at": files::local_at(now, tz),
        "base_url": ctx.config.base_url,
    }))
}

/// What the review looked at: the log's coverage, the counts, and each flagged or judged access
/// with its flags, verdict and comment. `null` for a case without evidence (no period, no user
/// or client). A closed case's protocol shows what was looked at when it closed (the snapshot
/// taken then); an open case's, the evidence as it is now.
fn evidence_values(
    conn: &Db,
    ctx: &Ctx,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<Value> {
    if !crate::engine::judge::has_evidence(case) {
        return Ok(Value::Null);
    }
    if let Some(snapshot) = crate::store::evidence::snapshot(conn, &case.id)? {
        return serde_json::from_str(&snapshot)
            .map_err(|e| Error::runtime(format!("case {}: evidence snapshot: {e}", case.id)));
    }
    let ev = crate::evidence::evidence_of(conn, ctx.org, routine, case, now)?;
    Ok(evidence_summary(ctx, routine, &ev))
}

/// The protocol's account of evidence `ev` (see [`crate::evidence::case::protocol_summary`]).
pub(crate) fn evidence_summary(
    ctx: &Ctx,
    routine: &Routine,
    ev: &crate::evidence::Evidence,
) -> Value {
    crate::evidence::case::protocol_summary(ev, routine.timezone, |id| ctx.org.name_of(id))
}

/// The protocol of `case_id` as HTML.
pub fn render(engine: &mut Engine, case_id: &str, now: DateTime<Utc>) -> Result<String> {
    let case = db::require(engine.store.db(), case_id)?;
    require_details(&case)?;
    let (store, ctx) = engine.parts();
    let routine = ctx.version(store.db(), &case.routine_hash)?;
    let values = context(store.db(), &ctx, &routine, &case, now)?;
    ctx.templates
        .render_document(&routine.templates.protocol, &values)
}

/// The file name of a case's protocol (without extension).
pub fn file_name(case_id: &str) -> String {
    format!("granskningsprotokoll-{case_id}")
}

/// Writes the protocol of `case_id` into `out/CASE/` (HTML, and PDF where possible), registered
/// for the purge and recorded in the audit trail.
pub fn write(
    engine: &mut Engine,
    case_id: &str,
    out: &Path,
    printer: &Printer,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Written> {
    let html = render(engine, case_id, now)?;
    let dir = files::case_folder(out, case_id)?;
    let tx = engine.store.write()?;
    let written = files::write_document(
        &tx,
        printer,
        &files::Document {
            case_id,
            kind: "protocol",
            dir: &dir,
            name: &file_name(case_id),
            html: &html,
        },
        now,
    )?;
    record(&tx, case_id, "protocol", &written, actor, now)?;
    tx.commit()?;
    Ok(written)
}

/// The audit entry of documents written for a case (file names only).
pub fn record(
    conn: &Db,
    case_id: &str,
    kind: &str,
    written: &Written,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let names: Vec<String> = written
        .paths()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    audit::append(
        conn,
        now,
        &Event {
            actor,
            event: "record.written",
            case_id: Some(case_id),
            round_id: None,
            data: json!({"kind": kind, "files": names, "pdf": written.pdf.is_some()}),
            personal: None,
        },
    )?;
    Ok(())
}
