//! The review workbench's commands: `case evidence`, `case judge`, `watch add|list|remove` and
//! `radar`. They only turn arguments into calls of `evidence` and the engine, and results into
//! text or JSON.
use super::{errln, outln};

use super::Env;
use super::ops::{open_engine, open_store};
use crate::engine::judge::{JudgeRequest, Target};
use crate::evidence::{Evidence, Verdict};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::runtime(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

// ----- case evidence -----

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The case reference (e.g. TRE-2027-0042).
    pub case: String,
    #[arg(long)]
    pub json: bool,
}

/// Local `YYYY-MM-DD HH:MM` of an RFC 3339 instant.
fn local(at: &str, tz: chrono_tz::Tz) -> String {
    crate::store::parse_ts(at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}

pub(super) fn evidence(env: &Env, args: EvidenceArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let ev = engine.evidence(&args.case, now)?;
    if args.json {
        return print_json(&ev).map(|()| 0);
    }
    print_evidence(&ev, env.config.timezone);
    Ok(0)
}

fn print_evidence(ev: &Evidence, tz: chrono_tz::Tz) {
    let period = match (&ev.from, &ev.to) {
        (Some(a), Some(b)) => format!("{} – {}", local(a, tz), local(b, tz)),
        _ => "no period".to_string(),
    };
    outln!("{} · {} · {period}", ev.case, ev.systems.join(", "));
    match ev.log {
        crate::evidence::LogStatus::Missing => outln!(
            "log: missing — no imported log covers the period; review it in the record system"
        ),
        crate::evidence::LogStatus::Partial => {
            outln!("log: partial — the imported log covers only part of the period")
        }
        crate::evidence::LogStatus::Complete => outln!("log: complete"),
    }
    let c = &ev.counts;
    outln!(
        "{} accesses to {} clients, {} flagged, {} unexplained, {} judged",
        c.accesses,
        c.clients,
        c.flagged,
        c.unexplained,
        c.judged
    );
    for g in ev.groups() {
        outln!();
        outln!(
            "{}{}{}",
            crate::records::files::personnummer(g.client),
            g.client_name.map(|n| format!(" {n}")).unwrap_or_default(),
            if g.flagged > 0 {
                format!("  [{} flagged]", g.flagged)
            } else {
                String::new()
            }
        );
        for a in g.accesses {
            outln!(
                "  {}  {:<10} {:<10} {}  {}",
                local(&a.at, tz),
                a.action,
                a.system,
                a.account,
                a.log_id
            );
            for f in &a.flags {
                outln!("      ! {}: {}", f.code, f.text);
            }
            for e in &a.explanations {
                outln!("      + {}: {}", e.code, e.text);
            }
            if a.explanations.is_empty() {
                outln!("      ? unexplained");
            }
            if let Some(j) = &a.judgement {
                outln!(
                    "      = {} by {} {}{}",
                    j.verdict,
                    j.by,
                    local(&j.at, tz),
                    j.comment
                        .as_deref()
                        .map(|c| format!(": \"{c}\""))
                        .unwrap_or_default()
                );
            }
        }
    }
}

// ----- case judge -----

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The case reference.
    pub case: String,
    /// The access (its `log_id` in the evidence).
    pub log_id: String,
    /// justified, unjustified or unclear.
    #[arg(value_parser = ["justified", "unjustified", "unclear"])]
    pub verdict: String,
    /// The person judging (a person id of the roster): whoever may answer the case's step.
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub comment: Option<String>,
    /// The system of the access, when the case reviews several with the same `log_id`.
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn judge(env: &Env, args: JudgeArgs) -> Result<u8> {
    let now = env.now()?;
    let verdict = Verdict::parse(&args.verdict).ok_or_else(|| {
        Error::usage(format!(
            "`{}` is not justified, unjustified or unclear",
            args.verdict
        ))
    })?;
    let mut engine = open_engine(env, now)?;
    let judged = engine.judge(
        &JudgeRequest {
            case_id: &args.case,
            target: Target::Access {
                log_id: args.log_id.clone(),
                system: args.system.clone(),
            },
            verdict,
            by: &args.by,
            comment: args.comment.as_deref(),
            task_id: None,
        },
        now,
    )?;
    if args.json {
        print_json(&judged)?;
    } else {
        errln!(
            "{}: {} judged {}",
            judged.case_id,
            args.log_id,
            judged.verdict
        );
    }
    Ok(0)
}

// ----- access rights -----

#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// The case reference (an access-rights review).
    pub case: String,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn accounts(env: &Env, args: AccountsArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let review = engine.account_review(&args.case, now)?;
    if args.json {
        print_json(&review)?;
        return Ok(0);
    }
    outln!(
        "{} ({}): {} accounts, {} flagged; {} kept, {} ended, {} flagged undecided",
        review.case,
        review.unit,
        review.counts.accounts,
        review.counts.flagged,
        review.counts.keep,
        review.counts.end,
        review.counts.undecided_flagged
    );
    for a in &review.accounts {
        outln!(
            "{}:{}\t{}\t{}\t{}",
            a.system,
            a.account,
            a.name.as_deref().unwrap_or("–"),
            a.decision.as_ref().map_or("–", |d| d.decision.as_str()),
            a.flags
                .iter()
                .map(|f| f.text.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The case reference (an access-rights review).
    pub case: String,
    /// The account, as `case accounts` lists it (`SYSTEM:ACCOUNT` or the account alone).
    pub account: String,
    /// keep (behålls) or end (avslutas, ordered).
    #[arg(value_parser = ["keep", "end"])]
    pub decision: String,
    /// Who decides (a person id of the roster): whoever may answer the case's step.
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub comment: Option<String>,
    /// The account's system, when the case reviews several.
    #[arg(long)]
    pub system: Option<String>,
}

pub(super) fn decide(env: &Env, args: DecideArgs) -> Result<u8> {
    let now = env.now()?;
    let decision = crate::evidence::access::Keep::parse(&args.decision)
        .ok_or_else(|| Error::usage(format!("`{}` is not keep or end", args.decision)))?;
    let (system, account) = match (&args.system, args.account.split_once(':')) {
        (None, Some((s, a))) if !s.is_empty() && !a.is_empty() => (Some(s), a),
        (s, _) => (s.as_deref(), args.account.as_str()),
    };
    let mut engine = open_engine(env, now)?;
    let case = engine.decide_account(
        &crate::engine::access::DecideRequest {
            case_id: &args.case,
            system,
            account,
            decision,
            by: &args.by,
            comment: args.comment.as_deref(),
            task_id: None,
        },
        now,
    )?;
    errln!("{case}: {account} {}", decision.as_str());
    Ok(0)
}

#[derive(Debug, Args)]
pub struct StaffArgs {
    /// The case reference (an information case for a unit's whole staff).
    pub case: String,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn staff(env: &Env, args: StaffArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let list = engine.staff_list(&args.case, now)?;
    if args.json {
        print_json(&list)?;
        return Ok(0);
    }
    outln!(
        "{} ({}): {} listed, {} informed, {} still to inform",
        list.case,
        list.unit,
        list.counts.listed,
        list.counts.informed,
        list.counts.waiting
    );
    for m in &list.people {
        let state = match (&m.informed, m.left) {
            (Some(t), _) => format!("informed {} by {}", t.at, t.by_name),
            (None, true) => "left (need not be informed)".to_string(),
            (None, false) => "not informed".to_string(),
        };
        outln!(
            "{}\t{}\t{}\t{state}",
            m.person_id,
            m.name,
            m.title.as_deref().unwrap_or("–")
        );
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct InformArgs {
    /// The case reference (an information case for a unit's whole staff).
    pub case: String,
    /// The people informed (person ids, as `case staff` lists them).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub people: Vec<String>,
    /// Everyone on the list still employed and not yet ticked.
    #[arg(long)]
    pub all: bool,
    /// Take the ticks of PERSON… back (a mistake), while the step is open.
    #[arg(long, conflicts_with = "all")]
    pub undo: bool,
    /// Who informed them (a person id of the roster): whoever may answer the case's step.
    #[arg(long)]
    pub by: String,
}

pub(super) fn inform(env: &Env, args: InformArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let ticked = engine.inform_staff(
        &crate::engine::information::InformRequest {
            case_id: &args.case,
            people: &args.people,
            by: &args.by,
            task_id: None,
            undo: args.undo,
        },
        now,
    )?;
    errln!(
        "{}: {} {}",
        args.case,
        crate::sv::count(ticked, "person", "people"),
        if args.undo {
            "no longer ticked as informed"
        } else {
            "ticked as informed"
        }
    );
    Ok(0)
}

#[derive(Debug, Args)]
pub struct DiaryArgs {
    /// The case reference.
    pub case: String,
    /// The organisation's diary number (`KS 2027/0142`); "" clears it.
    pub number: String,
}

pub(super) fn diary(env: &Env, args: DiaryArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    match engine.set_diary_number(&args.case, &args.number, "cli", now)? {
        Some(number) => errln!("{}: diarienummer {number}", args.case),
        None => errln!("{}: no diary number", args.case),
    }
    Ok(0)
}

// ----- watch -----

#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Put a client on the watch list: accesses to their record are flagged.
    Add(WatchAddArgs),
    /// The watch list (entries in force, and those ended).
    List(WatchListArgs),
    /// End an entry.
    Remove(WatchRemoveArgs),
}

#[derive(Debug, Args)]
pub struct WatchAddArgs {
    /// The client's personal identity number.
    #[arg(long)]
    pub client: String,
    /// Why: media interest, protected identity, a relative's record …
    #[arg(long)]
    pub reason: String,
    /// The last day the entry is in force (YYYY-MM-DD); without it, until removed.
    #[arg(long)]
    pub until: Option<String>,
    /// Who adds it (a person id of the roster).
    #[arg(long)]
    pub by: String,
}

#[derive(Debug, Args)]
pub struct WatchListArgs {
    /// Also the entries no longer in force.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WatchRemoveArgs {
    pub id: i64,
    /// Who removes it (a person id of the roster).
    #[arg(long)]
    pub by: String,
}

pub(super) fn watch(env: &Env, cmd: WatchCommand) -> Result<u8> {
    let now = env.now()?;
    let tz = env.config.timezone;
    let mut store = open_store(env)?;
    match cmd {
        WatchCommand::Add(args) => {
            let until = args
                .until
                .as_deref()
                .map(|u| {
                    chrono::NaiveDate::parse_from_str(u.trim(), "%Y-%m-%d").map_err(|_| {
                        Error::bad_input(format!("--until: `{u}` is not a date (YYYY-MM-DD)"))
                    })
                })
                .transpose()?;
            let id = crate::engine::watch::add(
                &mut store,
                &args.client,
                &args.reason,
                until,
                crate::engine::watch::By::Person(&args.by),
                tz,
                now,
            )?;
            outln!("{id}");
        }
        WatchCommand::Remove(args) => {
            crate::engine::watch::remove(
                &mut store,
                args.id,
                crate::engine::watch::By::Person(&args.by),
                now,
            )?;
            errln!("watch-list entry {} removed", args.id);
        }
        WatchCommand::List(args) => {
            let day = crate::clock::local_date(now, tz);
            let entries: Vec<_> = crate::engine::watch::list(&store)?
                .into_iter()
                .filter(|e| args.all || crate::engine::watch::in_force(e, day))
                .collect();
            if args.json {
                let list: Vec<serde_json::Value> = entries
                    .iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(e).unwrap_or_default();
                        v["in_force"] = serde_json::json!(crate::engine::watch::in_force(e, day));
                        v
                    })
                    .collect();
                return print_json(&list).map(|()| 0);
            }
            outln!(
                "{:<5} {:<14} {:<11} {:<10} {:<12} REASON",
                "ID",
                "CLIENT",
                "UNTIL",
                "BY",
                "STATE"
            );
            for e in entries {
                let state = if e.purged_at.is_some() {
                    "purged"
                } else if e.removed_at.is_some() {
                    "removed"
                } else if crate::engine::watch::in_force(&e, day) {
                    "in force"
                } else {
                    "expired"
                };
                outln!(
                    "{:<5} {:<14} {:<11} {:<10} {:<12} {}",
                    e.id,
                    e.client
                        .as_deref()
                        .map(crate::records::files::personnummer)
                        .unwrap_or_else(|| "-".into()),
                    e.until.as_deref().unwrap_or("-"),
                    e.added_by,
                    state,
                    e.reason.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(0)
}

// ----- radar -----

#[derive(Debug, Args)]
pub struct RadarArgs {
    /// The first day (or time) of the period (default: 30 days before now).
    #[arg(long)]
    pub from: Option<String>,
    /// The last day of the period (a date alone: to the end of that day; default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// One record system (default: every system with imported log in the period).
    #[arg(long)]
    pub system: Option<String>,
    /// Show at most this many users (all with --json).
    #[arg(long, default_value_t = 25)]
    pub top: usize,
    #[arg(long)]
    pub json: bool,
}

/// The period of `--from`/`--to` (default: the 30 days before now), checked.
fn period(
    env: &Env,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let now = env.now()?;
    let tz = env.config.timezone;
    let from = match from {
        Some(t) => {
            crate::clock::parse_time(t, tz).map_err(|m| Error::usage(format!("--from: {m}")))?
        }
        None => now - chrono::Duration::days(30),
    };
    let to = match to {
        Some(t) => {
            crate::clock::parse_end(t, tz).map_err(|m| Error::usage(format!("--to: {m}")))?
        }
        None => now,
    };
    if to <= from {
        return Err(Error::usage("--to must be after --from"));
    }
    Ok((from, to))
}

/// `--system`, checked against the routines' systems.
pub(super) fn known_system(
    routines: &[crate::routine::Routine],
    system: Option<&str>,
) -> Result<()> {
    if let Some(s) = system {
        let known: Vec<String> = crate::records::logs::retention_rules(routines)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        if !known.iter().any(|k| k == s) {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(Error::usage(format!(
                "--system: unknown system `{s}`{}",
                crate::tabular::suggestion(s, &names)
            )));
        }
    }
    Ok(())
}

pub(super) fn radar(env: &Env, args: RadarArgs) -> Result<u8> {
    let now = env.now()?;
    let tz = env.config.timezone;
    let (from, to) = period(env, args.from.as_deref(), args.to.as_deref())?;
    let store = open_store(env)?;
    let routines = super::ops::current_routines(env);
    known_system(&routines, args.system.as_deref())?;
    let org = crate::engine::org::Org::load(store.db())?;
    let routines: Vec<&crate::routine::Routine> = routines.iter().collect();
    let rows = crate::evidence::radar::radar(
        store.db(),
        &org,
        &routines,
        &crate::evidence::radar::Scope {
            from,
            to,
            system: args.system.as_deref(),
            tz,
        },
        now,
    )?;
    if args.json {
        return print_json(&rows).map(|()| 0);
    }
    errln!(
        "radar {} – {}: {} users with accesses",
        from.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        to.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        rows.len()
    );
    outln!(
        "{:<4} {:<10} {:<24} {:>8} {:>7} {:>7} {:>11}  FLAGS",
        "RANK",
        "PERSON",
        "NAME",
        "ACCESSES",
        "CLIENTS",
        "FLAGGED",
        "UNEXPLAINED"
    );
    for (i, r) in rows.iter().take(args.top).enumerate() {
        let flags: Vec<String> = r.flags.iter().map(|(k, v)| format!("{k} {v}")).collect();
        outln!(
            "{:<4} {:<10} {:<24} {:>8} {:>7} {:>7} {:>11}  {}",
            i + 1,
            r.person.as_deref().unwrap_or("-"),
            if r.person.is_some() {
                r.name.clone()
            } else {
                format!("(konto {})", r.accounts.join(", "))
            },
            r.accesses,
            r.clients,
            r.flagged,
            r.unexplained,
            flags.join(", ")
        );
    }
    Ok(0)
}

// ----- logs explained -----

#[derive(Debug, Args)]
pub struct ExplainedArgs {
    /// The first day (or time) of the period (default: 30 days before now).
    #[arg(long)]
    pub from: Option<String>,
    /// The last day of the period (a date alone: to the end of that day; default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// One record system (default: every system with imported log in the period).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn explained(env: &Env, args: ExplainedArgs) -> Result<u8> {
    let now = env.now()?;
    let tz = env.config.timezone;
    let (from, to) = period(env, args.from.as_deref(), args.to.as_deref())?;
    let store = open_store(env)?;
    let routines = super::ops::current_routines(env);
    known_system(&routines, args.system.as_deref())?;
    let org = crate::engine::org::Org::load(store.db())?;
    let routines: Vec<&crate::routine::Routine> = routines.iter().collect();
    let f = crate::evidence::explained::figure(
        store.db(),
        &org,
        &routines,
        &crate::evidence::radar::Scope {
            from,
            to,
            system: args.system.as_deref(),
            tz,
        },
        now,
    )?;
    if args.json {
        return print_json(&f).map(|()| 0);
    }
    let pct = |n: u64| {
        if f.accesses == 0 {
            0.0
        } else {
            n as f64 * 100.0 / f.accesses as f64
        }
    };
    outln!(
        "{} – {}{}",
        from.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        to.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        args.system
            .as_deref()
            .map(|s| format!(", system {s}"))
            .unwrap_or_default()
    );
    outln!("accesses        {:>10}", f.accesses);
    outln!(
        "explained       {:>10}  {:5.1} %",
        f.explained,
        pct(f.explained)
    );
    for (code, n) in &f.by_kind {
        outln!("  {:<20} {:>7}  {:5.1} %", code, n, pct(*n));
    }
    outln!(
        "flagged         {:>10}  {:5.1} %",
        f.flagged,
        pct(f.flagged)
    );
    outln!(
        "to judge per user-day (median over {}): {}",
        f.user_days,
        f.to_judge_median
    );
    Ok(0)
}
