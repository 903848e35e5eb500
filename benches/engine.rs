//! Engine throughput, printed as figures (nothing asserts on time):
//! - the simulated year for 25,000 users in 400 units (both sampling routines, answers by a
//!   seeded policy), with rounds and answers timed apart;
//! - single answers, one durable transaction each (WAL, synchronous = FULL);
//! - batched answers, one transaction for a whole round's worth.
//!
//! `cargo bench --bench engine` (add `-- --quick` for a smaller year, `-- --single` for the single
//! durable answers alone). With `LOGGKOLL_TEST_POSTGRES=postgres://user@host:port/db` the year
//! and the single durable answers are run on that PostgreSQL too (each in a schema of its own), printed beside SQLite's, with the
//! server's durability settings.

#[path = "../tests/support/backend.rs"]
mod backend;

use chrono::{DateTime, NaiveDate, Utc};
use loggkoll::config::Config;
use loggkoll::engine::{AnswerRequest, Engine};
use loggkoll::routine::{Context, loader};
use loggkoll::simulate::{org, run};
use loggkoll::store::Store;
use loggkoll::templates::Library;
use std::path::Path;
use std::time::Instant;

fn engine_at(db: &Path, users: usize, units: usize, now: DateTime<Utc>) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).expect("templates");
    let routines = loader::load_routines(
        &root.join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("routines");
    let store = Store::at(db).expect("store");
    let mut engine =
        Engine::new(store, routines, templates, Config::default(), now).expect("engine");
    let roster = org::synthetic(users, units, 1);
    loggkoll::engine::import_roster(&mut engine.store, &roster, "u", "p", "bench", now)
        .expect("roster");
    engine
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

/// Open review steps after one Treserva round: (case, assignee).
fn open_reviews(engine: &Engine) -> Vec<(String, String, i64)> {
    let mut stmt = engine
        .store
        .db()
        .inspect()
        .prepare("SELECT case_id, assignee_id, id FROM tasks WHERE answered_at IS NULL AND assignee_id IS NOT NULL AND state = 'review' ORDER BY id")
        .expect("query");
    stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

/// The simulated year on `db`, printed as `backend`'s figures.
fn year(
    db: &Path,
    backend: &str,
    users: usize,
    units: usize,
    start: DateTime<Utc>,
    render_emails: bool,
) {
    let mut engine = engine_at(db, users, units, start);
    engine.store.relax_durability().expect("pragma");
    let figures = run::run(
        &mut engine,
        &run::Options {
            from: NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
            to: NaiveDate::from_ymd_opt(2027, 12, 31).expect("date"),
            seed: 1,
            logs: Vec::new(),
            ad_hoc_per_1000: 4.0,
            story: false,
            leave_open_after: None,
        },
        |_| {},
    )
    .expect("simulate");
    let rss = peak_rss_kib();
    println!(
        "{backend}: year, {users} users in {units} units: {:.2} s (ticks {:.2} s, answers {:.2} s), {} rounds, {} cases, {} transitions ({:.0}/s), {} emails ({:.0}/s), peak RSS {} MiB (target < 10 s)",
        figures.seconds,
        figures.tick_seconds,
        figures.answer_seconds,
        figures.rounds,
        figures.cases,
        figures.transitions,
        figures.transitions_per_second,
        figures.emails,
        figures.emails as f64 / figures.seconds,
        rss / 1024
    );
    for (routine, c) in &figures.coverage {
        println!(
            "  coverage {routine}: {} of {} ({:.1} %)",
            c.reviewed,
            c.present_all_year,
            c.share * 100.0
        );
    }
    if !render_emails {
        return;
    }
    // The year's emails as the sender renders them: template, values, MIME with the calendar.
    let t0 = Instant::now();
    let install = engine.install_id();
    let mut rendered = 0usize;
    let mut bytes = 0usize;
    for row in loggkoll::store::outbox::list(engine.store.db(), None).expect("outbox") {
        let mail = loggkoll::notify::sender::compose(
            &row,
            &engine.templates,
            "loggkoll@example.se",
            &install,
        )
        .expect("compose");
        bytes += loggkoll::notify::to_eml(&mail).expect("eml").len();
        rendered += 1;
    }
    let render = t0.elapsed().as_secs_f64();
    println!(
        "emails of the year rendered to MIME: {rendered} in {render:.2} s = {:.0}/s ({} MiB); queuing them was part of the year above",
        rendered as f64 / render,
        bytes / (1024 * 1024)
    );
}

/// Single answers, one durable transaction each, on `db`.
fn single(db: &Path, backend: &str, users: usize, units: usize, start: DateTime<Utc>) {
    let mut engine = engine_at(db, users, units, start);
    engine.tick(at("2027-01-01T08:00:00+01:00")).expect("tick");
    let open = open_reviews(&engine);
    let n = open.len().min(2_000);
    let now = at("2027-01-05T10:00:00+01:00");
    let t0 = Instant::now();
    for (case, by, _) in &open[..n] {
        engine
            .answer(
                &loggkoll::engine::AnswerRequest::new(case, "no_finding", by),
                now,
            )
            .expect("answer");
    }
    let single = t0.elapsed().as_secs_f64();
    println!(
        "{backend}: single answers, one durable transaction each: {n} in {single:.2} s = {:.0}/s (target ≥ 2,000/s)",
        n as f64 / single
    );
}

/// Where a bench's database goes: a file in `dir`, or a new schema on the PostgreSQL of
/// `LOGGKOLL_TEST_POSTGRES` when `postgres` is set.
fn location(dir: &Path, name: &str, postgres: bool) -> std::path::PathBuf {
    if postgres {
        backend::location(dir, name)
    } else {
        dir.join(format!("{name}.db"))
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().expect("tempdir");
    let (users, units) = if quick { (5_000, 80) } else { (25_000, 400) };
    let start = at("2027-01-01T00:00:00+01:00");
    let postgres = backend::postgres().is_some();
    if postgres {
        let probe = Store::at(&location(dir.path(), "settings", true)).expect("PostgreSQL");
        let settings: Vec<String> = probe
            .db()
            .inspect()
            .column(
                "SELECT name || ' = ' || setting FROM pg_settings
                 WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers')
                 ORDER BY name",
                (),
            )
            .expect("settings");
        println!("PostgreSQL beside SQLite: {}", settings.join(", "));
    }

    let single_only = std::env::args().any(|a| a == "--single");
    // The year.
    if !single_only {
        year(
            &location(dir.path(), "year", false),
            "SQLite",
            users,
            units,
            start,
            true,
        );
    }
    if postgres && !single_only {
        year(
            &location(dir.path(), "year", true),
            "PostgreSQL",
            users,
            units,
            start,
            false,
        );
    }

    // Single durable answers.
    single(
        &location(dir.path(), "single", false),
        "SQLite (WAL, synchronous = FULL)",
        users,
        units,
        start,
    );
    if single_only {
        return;
    }
    if postgres {
        single(
            &location(dir.path(), "single", true),
            "PostgreSQL (synchronous_commit = on)",
            users,
            units,
            start,
        );
    }
    let now = at("2027-01-05T10:00:00+01:00");

    // Batched answers.
    let mut engine = engine_at(&location(dir.path(), "batch", false), users, units, start);
    engine.tick(at("2027-01-01T08:00:00+01:00")).expect("tick");
    let open = open_reviews(&engine);
    let reqs: Vec<AnswerRequest> = open
        .iter()
        .enumerate()
        .map(|(i, (case, by, task))| {
            // Mostly closing, every tenth into a further step (an email and a new task).
            let outcome = if i % 10 == 0 { "unclear" } else { "no_finding" };
            AnswerRequest::new(case, outcome, by)
                .comment(Some("Kommentar"))
                .task(Some(*task))
        })
        .collect();
    let t0 = Instant::now();
    engine.answer_batch(&reqs, now).expect("batch");
    let batch = t0.elapsed().as_secs_f64();
    println!(
        "batched answers, one transaction: {} in {batch:.3} s = {:.0} transitions/s (target ≥ 50,000/s)",
        reqs.len(),
        reqs.len() as f64 / batch
    );
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
