//! The commands that run the engine: `roster import`, `tick`, `case …`, `round …`, `audit
//! verify`, `outbox list`, `delegation …`.
use super::{errln, outln};

use super::Env;
use crate::engine::{self, Engine, OpenRequest};
use crate::roster::{self, Role};
use crate::routine::{Context, loader};
use crate::store::{self, Store, audit, cases as case_db, outbox, rounds as round_db};
use crate::templates::Library;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::PathBuf;

pub(crate) fn open_store(env: &Env) -> Result<Store> {
    Store::at(&env.global.db)
}

/// The engine on the configured database, routines and templates.
pub(crate) fn open_engine(env: &Env, now: DateTime<Utc>) -> Result<Engine> {
    open_engine_on(env, open_store(env)?, now)
}

/// The engine on `store` with the configured routines and templates.
pub(crate) fn open_engine_on(env: &Env, store: Store, now: DateTime<Utc>) -> Result<Engine> {
    let templates = Library::load(&env.global.templates)?;
    let routines = loader::load_routines(
        &env.global.routines,
        &Context {
            templates: Some(&templates),
        },
    )?;
    let mut engine = Engine::new(store, routines, templates, env.config.clone(), now)?;
    if env.config.logs_inbox.is_some() {
        let rules = crate::records::logs::retention_rules(&engine.routines);
        engine.formats = super::report::load_formats(env, &rules)?;
    }
    Ok(engine)
}

pub(super) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::runtime(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

// ----- roster -----

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Replace the roster atomically from units.csv and people.csv.
    Import(RosterImportArgs),
}

#[derive(Debug, Args)]
pub struct RosterImportArgs {
    #[arg(long)]
    pub units: PathBuf,
    #[arg(long)]
    pub people: PathBuf,
    /// Import even when it removes more than `[roster] max_removal_percent` (50 %) of the
    /// people.
    #[arg(long)]
    pub allow_mass_removal: bool,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn roster(env: &Env, cmd: RosterCommand) -> Result<u8> {
    let RosterCommand::Import(args) = cmd;
    let now = env.now()?;
    let parsed = roster::parse_roster(&args.units, &args.people)?;
    let mut store = open_store(env)?;
    let summary = engine::import_roster_guarded(
        &mut store,
        &parsed,
        &args.units.display().to_string(),
        &args.people.display().to_string(),
        "cli",
        now,
        (!args.allow_mass_removal).then_some(env.config.roster_max_removal_percent),
    )?;
    if args.json {
        print_json(&summary)?;
    } else {
        errln!(
            "imported {} units and {} people ({} added, {} changed, {} removed, {} unchanged)",
            summary.units,
            summary.people,
            summary.added,
            summary.changed,
            summary.removed,
            summary.unchanged
        );
    }
    Ok(0)
}

// ----- tick -----

#[derive(Debug, Args)]
pub struct TickArgs {
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn tick(env: &Env, args: TickArgs) -> Result<u8> {
    let now = env.now()?;
    let transport = crate::notify::Transport::from_url(&env.config.mail.url)
        .map_err(|e| e.context("mail.url"))?;
    let mut engine = open_engine(env, now)?;
    let report = engine.tick(now)?;
    let install = engine.install_id();
    let sending =
        crate::notify::sender::Sending::new(&env.config, &engine.templates, &transport, &install);
    let delivery = crate::notify::sender::deliver(&mut engine.store, &sending, now)?;
    if let Some(hours) = env.config.mail.send_hours
        && !hours.allows(now, env.config.timezone)
    {
        let (queued, _, _) = crate::store::outbox::counts(engine.store.db())?;
        if queued > 0 {
            errln!(
                "{queued} emails wait for the send hours (mail.send_hours): the next opening is {}",
                crate::records::files::local_at(
                    hours.next_open(now, env.config.timezone),
                    env.config.timezone
                )
            );
        }
    }
    if args.json {
        let mut v = serde_json::to_value(&report).map_err(|e| Error::runtime(e.to_string()))?;
        v["emails"] = serde_json::to_value(delivery).map_err(|e| Error::runtime(e.to_string()))?;
        print_json(&v)?;
    } else {
        for line in report.inbox.lines() {
            errln!("{line}");
        }
        for r in &report.rounds {
            errln!(
                "round {} of {} ({}): {} drawn of {}",
                r.round_id,
                r.routine,
                super::local_time(&r.occurrence, env.config.timezone),
                r.drawn,
                r.population
            );
        }
        errln!(
            "tick {}: {} round{}, {} reminder{}, {} escalation{}",
            report.now,
            report.rounds.len(),
            plural(report.rounds.len()),
            report.reminders,
            plural(report.reminders),
            report.escalations,
            plural(report.escalations)
        );
        let next = next_runs(&engine.routines, now);
        if !next.is_empty() {
            errln!("next runs: {}", next.join("; "));
        }
        if report.informing > 0 {
            errln!(
                "{} information case{} opened (staff to be told that access is logged and checked)",
                report.informing,
                plural(report.informing)
            );
        }
        if report.summaries > 0 || report.purged > 0 {
            errln!(
                "{} yearly summar{} queued, {} case{} purged",
                report.summaries,
                if report.summaries == 1 { "y" } else { "ies" },
                report.purged,
                plural(report.purged)
            );
        }
        if delivery.did_anything() {
            errln!("emails via {}: {delivery}", transport.describe());
        }
    }
    Ok(0)
}

/// When each scheduled routine next runs after `now`, in its own zone:
/// `treserva-sampling 2027-02-01 07:00 (Europe/Stockholm)`.
fn next_runs(routines: &[crate::routine::Routine], now: DateTime<Utc>) -> Vec<String> {
    routines
        .iter()
        .filter_map(|r| match &r.trigger {
            crate::routine::model::Trigger::Schedule { crontab, .. } => {
                crontab.next_after(r.timezone, now).map(|t| {
                    format!(
                        "{} {} ({})",
                        r.id,
                        t.with_timezone(&r.timezone).format("%Y-%m-%d %H:%M"),
                        r.timezone.name()
                    )
                })
            }
            _ => None,
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// ----- case -----

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// List cases.
    List(CaseListArgs),
    /// One case with its whole history.
    Show(CaseShowArgs),
    /// Record an outcome of the case's current step.
    Answer(CaseAnswerArgs),
    /// Start an ad hoc case (targeted review, log-extract request).
    Open(CaseOpenArgs),
    /// The log rows a case looks at, each explained, flagged and judged.
    Evidence(super::review::EvidenceArgs),
    /// Judge one access of a case's evidence: justified, unjustified or unclear.
    Judge(super::review::JudgeArgs),
    /// The accounts of an access-rights review, flagged and decided.
    Accounts(super::review::AccountsArgs),
    /// Decide one account of an access-rights review: keep (behålls) or end (avslutas).
    Decide(super::review::DecideArgs),
    /// The staff listed on a unit's information case, ticked or not.
    Staff(super::review::StaffArgs),
    /// Tick people on a unit's information case as informed of the log checks.
    Inform(super::review::InformArgs),
    /// Set the case's diary number (diarienummer), shown in its documents; "" clears it.
    Diary(super::review::DiaryArgs),
}

#[derive(Debug, Args)]
pub struct CaseListArgs {
    #[arg(long)]
    pub routine: Option<String>,
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub state: Option<String>,
    /// Only cases not yet closed.
    #[arg(long)]
    pub open: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaseShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaseAnswerArgs {
    pub id: String,
    pub outcome: String,
    /// The person answering (a person id of the roster).
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub comment: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaseOpenArgs {
    /// The routine (id or file).
    pub routine: String,
    /// The unit the case belongs to (its managers get the steps), by unit id.
    #[arg(long)]
    pub unit: String,
    /// Who opens it (a person id of the roster).
    #[arg(long)]
    pub by: String,
    /// The user whose access is reviewed.
    #[arg(long)]
    pub subject_user: Option<String>,
    /// The client's personal identity number (extract requests, targeted reviews of a client).
    #[arg(long)]
    pub client: Option<String>,
    /// Start of the period to review.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period to review (a date alone: to the end of that day).
    #[arg(long)]
    pub to: Option<String>,
    /// Why the case is opened: what the suspicion is about (required for a targeted review),
    /// or the client's request. Shown on the task page, never in an email.
    #[arg(long)]
    pub reason: Option<String>,
    /// The record system, for a routine that covers several (default: every system it covers
    /// for a targeted review or an extract request).
    #[arg(long)]
    pub system: Option<String>,
    /// The client's name, for the extract letter.
    #[arg(long)]
    pub client_name: Option<String>,
    /// The client's postal address, for the extract letter (lines separated by `,` or newlines).
    #[arg(long)]
    pub client_address: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// The person `given` names: a person id of the roster, or the account of exactly one person.
fn subject_person(env: &Env, given: &str) -> Result<String> {
    let store = open_store(env)?;
    let known: bool = crate::store::roster::people(store.db())?
        .iter()
        .any(|p| p.id == given);
    if known {
        return Ok(given.to_string());
    }
    let holders = crate::store::roster::holders_of_account(store.db(), given)?;
    let people: std::collections::BTreeSet<&str> =
        holders.iter().map(|(_, p)| p.as_str()).collect();
    match people.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Ok(given.to_string()),
        many => Err(Error::bad_input(format!(
            "--subject-user: account `{given}` is held by several people ({}); give the person id",
            many.join(", ")
        ))),
    }
}

/// The case JSON of `../shared/CLI.md`.
pub(crate) fn case_json(
    store: &Store,
    engine_routines: &[crate::routine::Routine],
    old: &engine::OldVersions,
    c: &case_db::CaseRow,
) -> Result<Value> {
    let open = case_db::open_task(store.db(), &c.id)?;
    let outcomes: Vec<String> = match (&open, c.closed_at.is_none()) {
        (Some(task), true) => {
            let current = engine_routines.iter().find(|r| r.hash == c.routine_hash);
            let stored = match current {
                Some(_) => None,
                None => old.get(store.db(), &c.routine_hash).ok(),
            };
            current
                .or(stored.as_deref())
                .and_then(|r| {
                    r.state(&task.state)
                        .map(|ix| r.outcomes(ix).iter().map(|(o, _)| o.name.clone()).collect())
                })
                .unwrap_or_default()
        }
        _ => vec![],
    };
    Ok(json!({
        "id": c.id,
        "routine": c.routine_id,
        "kind": c.kind,
        "unit": c.unit_id,
        "subject_user": c.subject_person_id,
        "state": c.state,
        "assignee": open.as_ref().and_then(|t| t.assignee_id.clone()),
        "due": open.as_ref().map(|t| store::date(t.due_date)),
        "opened_at": c.opened_at,
        "closed_at": c.closed_at,
        "round": c.round_id,
        "window_start": c.window_start,
        "window_end": c.window_end,
        "outcomes": outcomes,
        "result": c.result,
        "system": c.system,
    }))
}

pub(crate) fn case(env: &Env, cmd: CaseCommand) -> Result<u8> {
    match cmd {
        CaseCommand::Evidence(args) => super::review::evidence(env, args),
        CaseCommand::Judge(args) => super::review::judge(env, args),
        CaseCommand::Accounts(args) => super::review::accounts(env, args),
        CaseCommand::Decide(args) => super::review::decide(env, args),
        CaseCommand::Staff(args) => super::review::staff(env, args),
        CaseCommand::Inform(args) => super::review::inform(env, args),
        CaseCommand::Diary(args) => super::review::diary(env, args),
        CaseCommand::List(args) => case_list(env, args),
        CaseCommand::Show(args) => case_show(env, args),
        CaseCommand::Answer(args) => case_answer(env, args),
        CaseCommand::Open(args) => case_open(env, args),
    }
}

/// `case list`: the cases matching the flags, as a JSON array or a table.
fn case_list(env: &Env, args: CaseListArgs) -> Result<u8> {
    let store = open_store(env)?;
    let routines = current_routines(env);
    let old = engine::OldVersions::default();
    let filter = case_db::Filter {
        routine: args.routine.as_deref(),
        unit: args.unit.as_deref(),
        state: args.state.as_deref(),
        open_only: args.open,
    };
    if args.json {
        // Streamed as one array, so memory stays flat in the number of cases.
        let mut first = true;
        outln!("[");
        case_db::for_each(store.db(), &filter, |c| {
            let v = case_json(&store, &routines, &old, &c)?;
            let text = serde_json::to_string(&v).map_err(|e| Error::runtime(e.to_string()))?;
            outln!("{}  {text}", if first { "" } else { "," });
            first = false;
            Ok(())
        })?;
        outln!("]");
    } else {
        print_case_table(&store, &filter)?;
    }
    Ok(0)
}

/// Prints the cases matching `filter` as a table, with names beside the ids of units and
/// assignees.
fn print_case_table(store: &Store, filter: &case_db::Filter) -> Result<()> {
    // Names beside ids, for people; `--json` is for scripts.
    let names: std::collections::HashMap<String, String> =
        crate::store::roster::people(store.db())?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
    let units = crate::store::roster::units(store.db())?;
    outln!(
        "{:<16} {:<20} {:<28} {:<24} {:<10} {:<30}",
        "CASE",
        "ROUTINE",
        "UNIT",
        "STATE",
        "DUE",
        "ASSIGNEE"
    );
    case_db::for_each(store.db(), filter, |c| {
        let open = case_db::open_task(store.db(), &c.id)?;
        let unit = match units.get(&c.unit_id) {
            Some((name, _)) => format!("{} {name}", c.unit_id),
            None => c.unit_id.clone(),
        };
        let assignee = open
            .as_ref()
            .and_then(|t| t.assignee_id.clone())
            .map(|id| match names.get(&id) {
                Some(name) => format!("{id} {name}"),
                None => id,
            })
            .unwrap_or_else(|| "-".into());
        outln!(
            "{:<16} {:<20} {:<28} {:<24} {:<10} {:<30}",
            c.id,
            c.routine_id,
            unit,
            c.state,
            open.as_ref()
                .map(|t| store::date(t.due_date))
                .unwrap_or_else(|| "-".into()),
            assignee
        );
        Ok(())
    })
}

/// `case show`: one case with its whole history, as JSON or text.
fn case_show(env: &Env, args: CaseShowArgs) -> Result<u8> {
    let store = open_store(env)?;
    let routines = current_routines(env);
    let old = engine::OldVersions::default();
    let c = case_db::require(store.db(), &args.id)?;
    let history = audit::case_history(store.db(), &c.id)?;
    if args.json {
        let mut v = case_json(&store, &routines, &old, &c)?;
        v["history"] = serde_json::to_value(&history).map_err(|e| Error::runtime(e.to_string()))?;
        print_json(&v)?;
    } else {
        let v = case_json(&store, &routines, &old, &c)?;
        print_case_head(env, &c, &v);
        let tz = env.config.timezone;
        outln!("history:");
        for e in history {
            let comment = e
                .personal
                .as_ref()
                .and_then(|p| p.get("comment"))
                .and_then(|c| c.as_str());
            outln!(
                "  {}  {:<18} {:<10} {}{}",
                super::local_time(&e.at, tz),
                e.event,
                e.actor,
                e.data,
                comment.map(|c| format!("  \"{c}\"")).unwrap_or_default()
            );
        }
    }
    Ok(0)
}

/// Prints what `case show` says of case `c` above its history; `v` is its JSON.
fn print_case_head(env: &Env, c: &case_db::CaseRow, v: &Value) {
    outln!("{} — {} ({})", c.id, c.routine_id, c.kind);
    outln!("unit: {}  system: {}", c.unit_id, c.system);
    if let Some(s) = &c.subject_person_id {
        outln!(
            "user: {s} ({})",
            c.subject_account.as_deref().unwrap_or("-")
        );
    }
    let tz = env.config.timezone;
    if let (Some(a), Some(b)) = (&c.window_start, &c.window_end) {
        outln!(
            "window: {} – {}",
            super::local_time(a, tz),
            super::local_time(b, tz)
        );
    }
    outln!(
        "state: {}{}",
        c.state,
        c.result
            .as_ref()
            .map(|r| format!(" (result: {r})"))
            .unwrap_or_default()
    );
    if c.closed_at.is_none() {
        outln!(
            "assignee: {}  due: {}  outcomes: {}",
            v["assignee"].as_str().unwrap_or("-"),
            v["due"].as_str().unwrap_or("-"),
            v["outcomes"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
    }
}

/// `case answer`: records an outcome of the case's current step.
fn case_answer(env: &Env, args: CaseAnswerArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let answered = engine.answer(
        &crate::engine::AnswerRequest::new(&args.id, &args.outcome, &args.by)
            .comment(args.comment.as_deref()),
        now,
    )?;
    if args.json {
        print_json(&answered)?;
    } else if answered.closed {
        errln!(
            "{}: {} → {} (closed)",
            answered.case_id,
            answered.outcome,
            answered.to
        );
    } else {
        errln!(
            "{}: {} → {}, assigned to {}",
            answered.case_id,
            answered.outcome,
            answered.to,
            answered.assignee.as_deref().unwrap_or("nobody")
        );
    }
    Ok(0)
}

/// `case open`: starts an ad hoc case and says who its queued emails go to.
fn case_open(env: &Env, args: CaseOpenArgs) -> Result<u8> {
    let now = env.now()?;
    let json = args.json;
    let req = open_request(env, args)?;
    let mut engine = open_engine(env, now)?;
    let id = engine.open_case(&req, now)?;
    // Who will be told: the people who must act first. Their emails are queued; `tick`
    // or `serve` sends them, in the send hours (or in the day's digest).
    let when = match (env.config.mail.digest, &env.config.mail.send_hours) {
        (true, _) => "gathered into the day's digest",
        (false, Some(_)) => "sent in working hours",
        (false, None) => "sent by the next tick",
    };
    for (purpose, to) in crate::store::outbox::recipients_of_case(engine.store.db(), &id)? {
        let what = match purpose.as_str() {
            "task" => "the task",
            "inform" => "for information",
            _ => purpose.as_str(),
        };
        errln!("{id}: queued for {to} ({what}), {when}");
    }
    if json {
        let c = case_db::require(engine.store.db(), &id)?;
        print_json(&case_json(
            &engine.store,
            &engine.routines,
            engine.old_versions(),
            &c,
        )?)?;
    } else {
        outln!("{id}");
    }
    Ok(0)
}

/// The request `case open`'s flags make, their times read in the configured time zone.
fn open_request(env: &Env, args: CaseOpenArgs) -> Result<OpenRequest> {
    let tz = env.config.timezone;
    let time = |flag: &str, v: &Option<String>| -> Result<Option<DateTime<Utc>>> {
        v.as_deref()
            .map(|t| {
                crate::clock::parse_time(t, tz).map_err(|m| Error::usage(format!("{flag}: {m}")))
            })
            .transpose()
    };
    // A date alone as --to means to the end of that day.
    let to = args
        .to
        .as_deref()
        .map(|t| crate::clock::parse_end(t, tz).map_err(|m| Error::usage(format!("--to: {m}"))))
        .transpose()?;
    // `--subject-user` takes a person id or an account id (`tre00238`).
    let subject_user = match args.subject_user {
        Some(given) => Some(subject_person(env, &given)?),
        None => None,
    };
    Ok(OpenRequest {
        routine: args.routine,
        unit: args.unit,
        by: args.by,
        subject_user,
        client: args.client,
        from: time("--from", &args.from)?,
        to,
        reason: args.reason,
        system: args.system,
        client_name: args.client_name,
        client_address: args.client_address,
        from_web: false,
    })
}

/// The routines folder's routines when it compiles; reading commands work without it.
pub(crate) fn current_routines(env: &Env) -> Vec<crate::routine::Routine> {
    Library::load(&env.global.templates)
        .ok()
        .and_then(|lib| {
            loader::load_routines(
                &env.global.routines,
                &Context {
                    templates: Some(&lib),
                },
            )
            .ok()
        })
        .unwrap_or_default()
}

// ----- round -----

#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// The sampling rounds.
    List(RoundListArgs),
    /// One round: population, who was drawn, the seed and the command that re-runs the draw.
    Show(RoundShowArgs),
    /// Re-run a round's draw from its recorded seed and population, and compare.
    Redraw(RoundShowArgs),
}

#[derive(Debug, Args)]
pub struct RoundListArgs {
    #[arg(long)]
    pub routine: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RoundShowArgs {
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn round(env: &Env, cmd: RoundCommand) -> Result<u8> {
    let store = open_store(env)?;
    match cmd {
        RoundCommand::List(args) => {
            let rows = round_db::list(store.db(), args.routine.as_deref())?;
            if args.json {
                print_json(&rows)?;
            } else {
                outln!(
                    "{:<6} {:<20} {:<22} {:>10} {:>6}",
                    "ROUND",
                    "ROUTINE",
                    "OCCURRENCE",
                    "POPULATION",
                    "DRAWN"
                );
                for r in rows {
                    outln!(
                        "{:<6} {:<20} {:<22} {:>10} {:>6}",
                        r.id,
                        r.routine,
                        super::local_time(&r.occurrence, env.config.timezone),
                        r.population,
                        r.drawn
                    );
                }
                let next = next_runs(&current_routines(env), env.now()?);
                if !next.is_empty() {
                    errln!("next runs: {}", next.join("; "));
                }
            }
            Ok(0)
        }
        RoundCommand::Show(args) => {
            let r = round_db::get(store.db(), args.id)?
                .ok_or_else(|| Error::usage(format!("no round {}", args.id)))?;
            let members = round_db::members(store.db(), r.id)?;
            let drawn: Vec<&round_db::MemberRow> =
                members.iter().filter(|m| m.drawn.is_some()).collect();
            let command = format!("loggkoll round redraw {}", r.id);
            if args.json {
                print_json(
                    &json!({"round": r, "drawn": drawn, "population": members.len(), "redraw": command}),
                )?;
            } else {
                outln!("round {} of {} at {}", r.id, r.routine, r.occurrence);
                outln!("routine version: {}", r.routine_hash);
                outln!("drawn: {} of a population of {}", r.drawn, r.population);
                outln!("seed: {}", r.seed);
                outln!("re-run the draw: {command}");
                for m in drawn {
                    outln!(
                        "  {:<14} {:<12} {:<20} {}",
                        m.person_id,
                        m.unit_id,
                        m.account,
                        m.drawn.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(0)
        }
        RoundCommand::Redraw(args) => {
            let outcome = engine::rounds::redraw(&store, args.id)?;
            if args.json {
                print_json(&outcome)?;
            } else {
                outln!(
                    "round {}: seed {} redraws {} users, windows {}; {}",
                    args.id,
                    outcome.seed,
                    outcome.drawn.len(),
                    if outcome.window_rule == "activity" {
                        "around the users' accesses in the log the round saw"
                    } else {
                        "at random (no log covered the look-back)"
                    },
                    if outcome.matches {
                        "the same as recorded"
                    } else {
                        "DIFFERENT from what was recorded"
                    }
                );
                for ((p, reason), (_, start, end)) in outcome.drawn.iter().zip(&outcome.windows) {
                    outln!("  {p:<14} {reason:<11} {start} – {end}");
                }
            }
            Ok(if outcome.matches { 0 } else { 1 })
        }
    }
}

// ----- audit -----

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 1 naming the first broken entry.
    Verify(JsonArg),
    /// The entries of the trail, in order: who did what, when.
    List(AuditListArgs),
}

#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// From this day or time (local; a date alone: its start).
    #[arg(long)]
    pub from: Option<String>,
    /// To this day or time (a date alone: to the end of that day).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this actor: a person id, a web account (`anna` or `web:anna`), `system`, `cli`.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only the entries of this case.
    #[arg(long = "case")]
    pub case_id: Option<String>,
    /// Only events whose name starts with this (`case.`, `web.role_changed`).
    #[arg(long)]
    pub event: Option<String>,
    /// With the erasable personal details (a comment, the client a search was for).
    #[arg(long)]
    pub personal: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArg {
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn audit_cmd(env: &Env, cmd: AuditCommand) -> Result<u8> {
    let args = match cmd {
        AuditCommand::Verify(args) => args,
        AuditCommand::List(args) => return audit_list(env, &args),
    };
    let store = open_store(env)?;
    let v = audit::verify(store.db())?;
    if args.json {
        print_json(&json!({
            "entries": v.entries,
            "intact": v.broken.is_none(),
            "broken": v.broken.as_ref().map(|b| json!({"seq": b.seq, "at": b.at, "event": b.event, "case": b.case_id, "reason": b.reason})),
        }))?;
    }
    match v.broken {
        None => {
            if !args.json {
                errln!("audit trail intact: {} entries verified", v.entries);
            }
            Ok(0)
        }
        Some(b) => {
            errln!("audit trail broken at {b}");
            Ok(1)
        }
    }
}

fn audit_list(env: &Env, args: &AuditListArgs) -> Result<u8> {
    let tz = env.config.timezone;
    let from = args
        .from
        .as_deref()
        .map(|t| crate::clock::parse_time(t, tz).map_err(|m| Error::usage(format!("--from: {m}"))))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| crate::clock::parse_end(t, tz).map_err(|m| Error::usage(format!("--to: {m}"))))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(Error::usage("--to must be after --from"));
    }
    let store = open_store(env)?;
    let mut entries = audit::list(
        store.db(),
        &audit::Filter {
            from,
            to,
            actor: args.actor.as_deref(),
            case_id: args.case_id.as_deref(),
            event_prefix: args.event.as_deref(),
            ..audit::Filter::default()
        },
    )?;
    if !args.personal {
        for e in &mut entries {
            e.personal = None;
        }
    }
    if args.json {
        print_json(&entries)?;
        return Ok(0);
    }
    for e in &entries {
        let mut line = format!(
            "{:>6}  {}  {:<16} {:<28}",
            e.seq,
            super::local_time(&e.at, tz),
            e.actor,
            e.event
        );
        if let Some(case) = &e.case_id {
            line.push_str(&format!(" {case}"));
        }
        line.push_str(&format!(" {}", e.data));
        if let Some(p) = &e.personal {
            line.push_str(&format!(" personal: {p}"));
        }
        outln!("{}", line.trim_end());
    }
    if entries.is_empty() {
        errln!("no audit entries match");
    }
    Ok(0)
}

// ----- outbox -----

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Queued, sent and failed messages.
    List(OutboxListArgs),
    /// Queue a failed email again (or every failed one), to the recipient's current address.
    Retry(OutboxRetryArgs),
}

#[derive(Debug, Args)]
pub struct OutboxRetryArgs {
    /// The email's id (`outbox list --status failed`).
    #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
    pub id: Option<i64>,
    /// Every failed email.
    #[arg(long)]
    pub all_failed: bool,
}

#[derive(Debug, Args)]
pub struct OutboxListArgs {
    /// Only messages with this status: queued, sent, failed, held, digested or withdrawn.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn outbox_cmd(env: &Env, cmd: OutboxCommand) -> Result<u8> {
    let args = match cmd {
        OutboxCommand::List(args) => args,
        OutboxCommand::Retry(args) => {
            let now = env.now()?;
            let mut store = open_store(env)?;
            let which = match args.id {
                Some(id) => crate::notify::retry::Which::One(id),
                None => crate::notify::retry::Which::AllFailed,
            };
            let ids = crate::notify::retry::retry(&mut store, which, "cli", now)?;
            errln!(
                "{} email{} queued again; the next tick sends {}",
                ids.len(),
                plural(ids.len()),
                if ids.len() == 1 { "it" } else { "them" }
            );
            return Ok(0);
        }
    };
    if let Some(s) = &args.status
        && !["queued", "sent", "failed", "held", "digested", "withdrawn"].contains(&s.as_str())
    {
        return Err(Error::usage(format!(
            "--status: `{s}` is not queued, sent, failed, held, digested or withdrawn"
        )));
    }
    let store = open_store(env)?;
    let rows = outbox::list(store.db(), args.status.as_deref())?;
    if args.json {
        print_json(&rows)?;
    } else {
        outln!("ID     STATUS   PURPOSE     CASE             CREATED                  TO");
        for m in rows {
            outln!(
                "{:<6} {:<8} {:<11} {:<16} {:<24} {}{}",
                m.id,
                m.status,
                m.purpose,
                m.case_id.as_deref().unwrap_or("-"),
                super::local_time(&m.created_at, env.config.timezone),
                m.to,
                m.last_error.map(|e| format!("  [{e}]")).unwrap_or_default()
            );
        }
    }
    Ok(0)
}

// ----- delegation -----

#[derive(Debug, Subcommand)]
pub enum DelegationCommand {
    /// A role holder names a deputy for a period: tasks go to the deputy, escalations still to the holder.
    Add(DelegationAddArgs),
    /// Delegations in force.
    List(JsonArg),
    /// End a delegation.
    Revoke(DelegationRevokeArgs),
}

#[derive(Debug, Args)]
pub struct DelegationAddArgs {
    #[arg(long)]
    pub holder: String,
    #[arg(long)]
    pub deputy: String,
    #[arg(long)]
    pub role: String,
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct DelegationRevokeArgs {
    pub id: i64,
}

pub(crate) fn delegation(env: &Env, cmd: DelegationCommand) -> Result<u8> {
    let mut store = open_store(env)?;
    match cmd {
        DelegationCommand::Add(args) => {
            let now = env.now()?;
            let role: Role = args
                .role
                .parse()
                .map_err(|e| Error::bad_input(format!("--role: {e}")))?;
            let day = |flag: &str, s: &str| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    Error::bad_input(format!("{flag}: `{s}` is not a date (YYYY-MM-DD)"))
                })
            };
            let (from, to) = (day("--from", &args.from)?, day("--to", &args.to)?);
            let id = engine::delegations::add(
                &mut store,
                &engine::delegations::NewDelegation {
                    holder: &args.holder,
                    deputy: &args.deputy,
                    role,
                    from,
                    to,
                    actor: &args.holder,
                },
                now,
            )?;
            outln!("{id}");
            Ok(0)
        }
        DelegationCommand::List(args) => {
            let list = store::roster::delegations(store.db())?;
            if args.json {
                print_json(&list)?;
            } else {
                for d in list {
                    outln!(
                        "{:<4} {} → {} ({}) {} – {}",
                        d.id,
                        d.holder_id,
                        d.deputy_id,
                        d.role,
                        d.valid_from,
                        d.valid_to
                    );
                }
            }
            Ok(0)
        }
        DelegationCommand::Revoke(args) => {
            let now = env.now()?;
            engine::delegations::revoke(&mut store, args.id, "cli", now)?;
            Ok(0)
        }
    }
}
