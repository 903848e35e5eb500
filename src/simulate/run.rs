//! A simulated year: the engine ticks every morning on a simulated clock while a seeded policy
//! answers the open steps — most reviews "no finding", some down every path, some late enough to
//! be reminded and escalated — and opens a few targeted reviews and extract requests. Answers of
//! a day go in one transaction (batched transitions); durability is relaxed to `NORMAL`, which a
//! crash of the process does not affect.

use crate::engine::{AnswerRequest, Engine, OpenRequest};
use crate::routine::model::CaseKind;
use crate::store::stats::{self, Count};
use crate::store::{parse_date, ts};
use crate::{Result, clock::resolve_local};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub seed: u64,
    /// Targeted reviews and extract requests opened per 1,000 users and year.
    pub ad_hoc_per_1000: f64,
    /// Access-log exports, each imported on the morning after the last day it covers, before
    /// that day's tick (so that a round on the 1st draws from the month before).
    pub logs: Vec<super::logs::LogFile>,
    /// The demo's story: people answer on working days only, with comments in Swedish; a review
    /// without a flagged access is not taken further than "no finding"; an access-rights review
    /// decides its accounts before it is answered.
    pub story: bool,
    /// Steps started after this day are left open: what the year leaves for a newcomer to do.
    pub leave_open_after: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Users in every round's population of the year (present all year).
    pub present_all_year: usize,
    /// Of those, drawn at least once.
    pub reviewed: usize,
    pub share: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub days: usize,
    pub rounds: usize,
    pub cases: usize,
    pub closed: usize,
    pub transitions: usize,
    pub reminders: usize,
    pub escalations: usize,
    pub emails: usize,
    pub seconds: f64,
    /// Of `seconds`: in `tick` (rounds, reminders, escalations).
    pub tick_seconds: f64,
    /// Of `seconds`: recording answers (batched, one transaction a day).
    pub answer_seconds: f64,
    /// Access-log rows imported, and accesses judged by the simulated reviewers.
    pub log_rows: u64,
    pub judged: usize,
    pub transitions_per_second: f64,
    pub coverage: BTreeMap<String, Coverage>,
    pub results: BTreeMap<String, usize>,
}

/// Chooses an outcome the way people do: mostly the first ("no finding"), sometimes another.
fn choose_outcome<'a>(
    rng: &mut ChaCha20Rng,
    state: &str,
    outcomes: &'a [String],
) -> Option<&'a String> {
    let weights: Vec<f64> = outcomes
        .iter()
        .enumerate()
        .map(|(i, _)| match (state, i) {
            ("review", 0) => 0.90,
            ("review", _) => 0.05,
            ("decision", 0) => 0.8,
            (_, 0) => 0.6,
            _ => 0.4 / (outcomes.len().max(2) - 1) as f64,
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut pick = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
    for (o, w) in outcomes.iter().zip(weights) {
        if pick < w {
            return Some(o);
        }
        pick -= w;
    }
    outcomes.last()
}

/// Runs the days `from..=to`, each: tick at 07:05 local, answer what the policy answers, open
/// ad hoc cases now and then.
pub fn run(
    engine: &mut Engine,
    opts: &Options,
    progress: impl FnMut(NaiveDate),
) -> Result<Figures> {
    run_with(engine, opts, progress, |_, _| Ok(()))
}

/// [`run`], calling `after` at each moment the simulated day does its work (the morning's tick
/// and the answers at noon), with that moment: the demo delivers its emails there, so that each
/// goes out on the day it would have.
pub(crate) fn run_with(
    engine: &mut Engine,
    opts: &Options,
    mut progress: impl FnMut(NaiveDate),
    mut after: impl FnMut(&mut Engine, DateTime<Utc>) -> Result<()>,
) -> Result<Figures> {
    let started = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(opts.seed ^ 0x5eed);
    let tz = engine.config.timezone;
    let mut figures = Figures::default();
    let mut day = opts.from;
    let users = stats::count(engine.store.db(), Count::People)?;
    let ad_hoc_per_day = opts.ad_hoc_per_1000 * users as f64 / 1000.0 / 365.0;
    // The open tasks, and when each will be answered (drawn once per task); new tasks are read
    // incrementally by id.
    let mut plan: BTreeMap<i64, (OpenTask, NaiveDate)> = BTreeMap::new();
    let mut seen_task = 0i64;
    let mut units: Vec<String> = Vec::new();
    while day <= opts.to {
        progress(day);
        let morning = resolve_local(
            day.and_time(NaiveTime::from_hms_opt(7, 5, 0).unwrap_or(NaiveTime::MIN)),
            tz,
        );
        for file in opts.logs.iter().filter(|f| f.to.succ_opt() == Some(day)) {
            figures.log_rows += import_log(engine, file, morning - Duration::minutes(5))?;
        }
        let t0 = Instant::now();
        let report = engine.tick(morning)?;
        figures.tick_seconds += t0.elapsed().as_secs_f64();
        figures.rounds += report.rounds.len();
        figures.reminders += report.reminders;
        figures.escalations += report.escalations;
        after(engine, morning)?;
        // Ad hoc cases.
        let mut n = ad_hoc_per_day;
        while n > 0.0 {
            if rng.random_bool(n.min(1.0)) {
                open_ad_hoc(engine, &mut rng, &mut units, morning + Duration::hours(2))?;
            }
            n -= 1.0;
        }
        // Answers during the day.
        let noon = morning + Duration::hours(5);
        for t in new_tasks(engine, &mut seen_task)? {
            // Most answer within the deadline; one in ten is late.
            let span = (t.due - t.started).num_days().max(1);
            let mut when = if rng.random_bool(0.1) {
                t.due + Duration::days(rng.random_range(1..=10))
            } else {
                t.started + Duration::days(rng.random_range(0..=span))
            };
            if opts.story {
                // Nobody answers on a Saturday or on julafton.
                while !crate::calendar::is_working_day(when) {
                    when += Duration::days(1);
                }
            }
            plan.insert(t.task_id, (t, when));
        }
        let mut batch: Vec<(String, String, String, Option<String>, i64)> = Vec::new();
        for (t, when) in plan.values() {
            if *when > day || opts.leave_open_after.is_some_and(|d| t.started > d) {
                continue;
            }
            let Some(by) = t.assignee.clone() else {
                continue;
            };
            let Some(mut outcome) = choose_outcome(&mut rng, &t.state, &t.outcomes).cloned() else {
                continue;
            };
            if opts.story {
                outcome = follow_the_evidence(engine, t, outcome, noon)?;
                decide_accounts(engine, &mut rng, t, &by, noon)?;
            }
            // A reviewer choosing "no finding" first judges the flagged accesses; one in twenty
            // is unclear, and the review goes the unclear way. Without a log there are none.
            if t.no_finding.contains(&outcome) && !opts.logs.is_empty() {
                let unclear = judge_flagged(engine, &mut rng, t, noon, opts.story, &mut figures)?;
                if unclear
                    && let Some(other) = t.outcomes.iter().find(|o| !t.no_finding.contains(o))
                {
                    outcome = other.clone();
                }
            }
            // A unit's information case: everyone on its list is informed first.
            if !crate::store::information::staff_of(engine.store.db(), &t.case_id)?.is_empty() {
                engine.inform_staff(
                    &crate::engine::information::InformRequest {
                        case_id: &t.case_id,
                        people: &[],
                        by: &by,
                        task_id: Some(t.task_id),
                        undo: false,
                    },
                    noon,
                )?;
            }
            let comment = Some(if opts.story {
                comment_sv(&outcome).to_string()
            } else {
                format!("Simulerad kommentar ({outcome})")
            });
            batch.push((t.case_id.clone(), outcome, by, comment, t.task_id));
        }
        if !batch.is_empty() {
            let reqs: Vec<AnswerRequest> = batch
                .iter()
                .map(|(case_id, outcome, by, comment, task)| {
                    AnswerRequest::new(case_id, outcome, by)
                        .comment(comment.as_deref())
                        .task(Some(*task))
                })
                .collect();
            let t0 = Instant::now();
            let answered = engine.answer_batch(&reqs, noon)?;
            figures.answer_seconds += t0.elapsed().as_secs_f64();
            figures.transitions += answered.len();
            for (_, _, _, _, task) in &batch {
                plan.remove(task);
            }
        }
        after(engine, noon)?;
        // Steps closed some other way (a case answered elsewhere) leave the plan too.
        if figures.days % 7 == 6 {
            let open: std::collections::HashSet<i64> = open_task_ids(engine)?;
            plan.retain(|id, _| open.contains(id));
        }
        figures.days += 1;
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    let conn = engine.store.db();
    figures.cases = stats::count(conn, Count::Cases)? as usize;
    figures.closed = stats::count(conn, Count::ClosedCases)? as usize;
    figures.emails = stats::count(conn, Count::Emails)? as usize;
    // Rounds create a case each (a transition into the start state) besides the answers.
    figures.transitions += figures.cases;
    for (k, v) in stats::results(conn)? {
        figures.results.insert(k, v as usize);
    }
    for routine in engine
        .routines
        .iter()
        .filter(|r| r.kind == CaseKind::Sampling)
    {
        figures.coverage.insert(
            routine.id.clone(),
            coverage(engine, &routine.id, opts.from, opts.to)?,
        );
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.transitions_per_second = figures.transitions as f64 / figures.seconds.max(1e-9);
    Ok(figures)
}

/// Of the users in every round of `routine` between `from` and `to`, how many were drawn.
pub fn coverage(
    engine: &Engine,
    routine: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Coverage> {
    let conn = engine.store.db();
    let (start, end) = (
        ts(from.and_time(NaiveTime::MIN).and_utc()),
        ts((to + Duration::days(1)).and_time(NaiveTime::MIN).and_utc()),
    );
    let rounds = stats::rounds_between(conn, routine, &start, &end)?;
    if rounds == 0 {
        return Ok(Coverage::default());
    }
    let mut out = Coverage::default();
    for (_, n, drawn) in stats::membership(conn, routine, &start, &end)? {
        if n == rounds {
            out.present_all_year += 1;
            if drawn {
                out.reviewed += 1;
            }
        }
    }
    out.share = if out.present_all_year == 0 {
        0.0
    } else {
        out.reviewed as f64 / out.present_all_year as f64
    };
    Ok(out)
}

struct OpenTask {
    task_id: i64,
    case_id: String,
    state: String,
    assignee: Option<String>,
    started: NaiveDate,
    due: NaiveDate,
    outcomes: Vec<String>,
    /// The outcomes that close the case as "no finding".
    no_finding: Vec<String>,
}

/// In the demo's story a review goes further than "no finding" only on something to see: a
/// flagged access. Without one, the reviewer finds nothing.
fn follow_the_evidence(
    engine: &mut Engine,
    t: &OpenTask,
    outcome: String,
    now: DateTime<Utc>,
) -> Result<String> {
    if t.no_finding.is_empty() || t.no_finding.contains(&outcome) {
        return Ok(outcome);
    }
    let flagged = engine
        .evidence_if_any(&t.case_id, now)?
        .is_some_and(|ev| ev.counts.flagged > 0);
    Ok(if flagged {
        outcome
    } else {
        t.no_finding[0].clone()
    })
}

/// In the demo's story a unit's access-rights review decides every account before it is
/// answered: kept, or (one flagged account in three) ended.
fn decide_accounts(
    engine: &mut Engine,
    rng: &mut ChaCha20Rng,
    t: &OpenTask,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let is_review = crate::store::cases::get(engine.store.db(), &t.case_id)?
        .is_some_and(|c| c.kind == "access_rights");
    if !is_review {
        return Ok(());
    }
    let review = engine.account_review(&t.case_id, now)?;
    for a in review.accounts.iter().filter(|a| a.decision.is_none()) {
        let decision = if !a.flags.is_empty() && rng.random_bool(1.0 / 3.0) {
            crate::evidence::access::Keep::End
        } else {
            crate::evidence::access::Keep::Keep
        };
        engine.decide_account(
            &crate::engine::access::DecideRequest {
                case_id: &t.case_id,
                system: Some(&a.system),
                account: &a.account,
                decision,
                by,
                comment: None,
                task_id: Some(t.task_id),
            },
            now,
        )?;
    }
    Ok(())
}

/// What a simulated person writes with an outcome, in Swedish.
fn comment_sv(outcome: &str) -> &'static str {
    match outcome {
        o if o.contains("no_finding") || o == "keep" || o == "done" => {
            "Gick igenom åtkomsterna; inget att anmärka."
        }
        o if o.contains("unclear") => {
            "Oklart varför journalen öppnades; jag tar det med medarbetaren."
        }
        o if o.contains("intrusion") || o.contains("not_explained") => {
            "Åtkomsten saknar tjänsteskäl; lämnas vidare enligt rutinen."
        }
        o if o.contains("explained") => "Medarbetaren förklarade åtkomsten; förklaringen godtas.",
        o if o.contains("informed") => "Medarbetarna informerades på arbetsplatsträffen.",
        _ => "Hanterat enligt rutinen.",
    }
}

/// Imports one export of the log at `now`; returns the rows imported.
fn import_log(engine: &mut Engine, file: &super::logs::LogFile, now: DateTime<Utc>) -> Result<u64> {
    let tz = engine.config.timezone;
    let midnight = |d: NaiveDate| resolve_local(d.and_time(NaiveTime::MIN), tz);
    let rules = crate::records::logs::retention_rules(&engine.routines);
    let summary = crate::records::logs::import(
        &mut engine.store,
        &file.path,
        &crate::records::logs::ImportOptions {
            system: None,
            retention: &rules,
            tz,
            now,
            actor: "simulation",
            period: Some((
                midnight(file.from),
                midnight(file.to.succ_opt().unwrap_or(file.to)),
            )),
            format: None,
            formats: &[],
            max_value: crate::records::logs::MAX_VALUE,
        },
    )?;
    Ok(summary.imported)
}

/// Judges the flagged, unjudged accesses of a task's case, as its assignee: justified, or one
/// in twenty unclear. Returns whether any was unclear.
fn judge_flagged(
    engine: &mut Engine,
    rng: &mut ChaCha20Rng,
    t: &OpenTask,
    now: DateTime<Utc>,
    story: bool,
    figures: &mut Figures,
) -> Result<bool> {
    let Some(by) = &t.assignee else {
        return Ok(false);
    };
    let Some(ev) = engine.evidence_if_any(&t.case_id, now)? else {
        return Ok(false);
    };
    let mut unclear = false;
    for a in ev.unjudged_flagged() {
        let verdict = if rng.random_bool(0.05) {
            unclear = true;
            crate::evidence::Verdict::Unclear
        } else {
            crate::evidence::Verdict::Justified
        };
        engine.judge(
            &crate::engine::judge::JudgeRequest {
                case_id: &t.case_id,
                target: crate::engine::judge::Target::Access {
                    log_id: a.log_id.clone(),
                    system: Some(a.system.clone()),
                },
                verdict,
                by,
                comment: Some(match (story, verdict) {
                    (false, _) => "Simulerad bedömning",
                    (true, crate::evidence::Verdict::Unclear) => {
                        "Hittar inget tjänsteskäl i schemat; frågar medarbetaren."
                    }
                    (true, _) => "Kontrollerat mot schema och insatser: tjänsteskäl finns.",
                }),
                task_id: Some(t.task_id),
            },
            now,
        )?;
        figures.judged += 1;
    }
    Ok(unclear || !ev.judged_against().is_empty())
}

fn open_task_ids(engine: &Engine) -> Result<HashSet<i64>> {
    Ok(stats::open_task_ids(engine.store.db())?
        .into_iter()
        .collect())
}

/// Open tasks created since `seen` (which moves on).
fn new_tasks(engine: &Engine, seen: &mut i64) -> Result<Vec<OpenTask>> {
    let mut outcomes_of: HashMap<(String, String), (Vec<String>, Vec<String>)> = HashMap::new();
    let mut out = Vec::new();
    for step in stats::open_steps_after(engine.store.db(), *seen)? {
        let stats::OpenStep {
            task_id,
            case_id,
            state,
            assignee,
            started_at: started,
            due_date: due,
            routine_hash: hash,
        } = step;
        *seen = (*seen).max(task_id);
        let key = (hash.clone(), state.clone());
        if !outcomes_of.contains_key(&key) {
            let names = engine
                .routines
                .iter()
                .find(|r| r.hash == hash)
                .and_then(|r| {
                    r.state(&state).map(|ix| {
                        let all = r.outcomes(ix);
                        (
                            all.iter().map(|(o, _)| o.name.clone()).collect(),
                            all.iter()
                                .filter(|(_, next)| crate::engine::judge::is_no_finding(r, *next))
                                .map(|(o, _)| o.name.clone())
                                .collect(),
                        )
                    })
                })
                .unwrap_or_default();
            outcomes_of.insert(key.clone(), names);
        }
        out.push(OpenTask {
            task_id,
            case_id,
            state,
            assignee,
            started: crate::store::parse_ts(&started)?.date_naive(),
            due: parse_date(&due)?,
            outcomes: outcomes_of
                .get(&key)
                .map(|o| o.0.clone())
                .unwrap_or_default(),
            no_finding: outcomes_of
                .get(&key)
                .map(|o| o.1.clone())
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Opens a targeted review or an extract request at a random unit, by its operations manager.
fn open_ad_hoc(
    engine: &mut Engine,
    rng: &mut ChaCha20Rng,
    units: &mut Vec<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let candidates: Vec<(String, CaseKind)> = engine
        .routines
        .iter()
        .filter(|r| matches!(r.kind, CaseKind::Targeted | CaseKind::Extract))
        .map(|r| (r.id.clone(), r.kind))
        .collect();
    let Some((routine, kind)) = candidates.choose(rng).cloned() else {
        return Ok(());
    };
    let conn = engine.store.db();
    if units.is_empty() {
        *units = stats::units_with_a_manager(conn)?;
    }
    let Some(unit) = units.choose(rng).cloned() else {
        return Ok(());
    };
    let day = now.date_naive();
    let Some(by) = engine
        .org()
        .holders(crate::roster::Role::OperationsManager, &unit, day)
        .first()
        .map(|s| s.to_string())
    else {
        return Ok(());
    };
    let subject = stats::first_member(conn, &unit)?;
    let req = match kind {
        CaseKind::Extract => OpenRequest {
            routine,
            unit,
            by,
            client: Some(synthetic_personnummer(rng)),
            from: Some(now - Duration::days(90)),
            to: Some(now - Duration::days(1)),
            reason: Some("Begäran om loggutdrag".into()),
            ..OpenRequest::default()
        },
        _ => OpenRequest {
            routine,
            unit,
            by,
            subject_user: subject,
            from: Some(now - Duration::days(14)),
            to: Some(now),
            reason: Some("Misstanke om obehörig åtkomst".into()),
            ..OpenRequest::default()
        },
    };
    engine.open_case(&req, now)?;
    Ok(())
}

/// A valid personal identity number of a fictional person born 1930–1999.
pub(crate) fn synthetic_personnummer(rng: &mut ChaCha20Rng) -> String {
    crate::personnummer::made_up(
        rng.random_range(1930..2000),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
        rng.random_range(0..1000),
    )
}
