//! The review workbench's reads, in the same run as their anchor:
//!
//! 1. **Evidence of one case** from a log of 10,000,000 rows (`-- --quick`: 1,000,000) over 200
//!    days by 5,000 users: 200 targeted reviews of a random user over 24 hours, each case's
//!    evidence read whole (accesses, explanations, flags, judgements) as `case evidence` does.
//!    Median, 99th percentile and the slowest. Target: under 5 ms.
//! 2. **The radar over a month of 2,000,000 rows** (`--quick`: 200,000) by 5,000 users against
//!    DuckDB's GROUP BY of the same rows by user and local day (distinct clients, night and
//!    unit-mismatch counts), DuckDB installed from PyPI into a throwaway virtual environment and
//!    given the rows already loaded into a table. Best of three each, and the ratio; our peak
//!    memory.
//!
//! Both with care relationships of every client and a day shift of every user on every day
//! imported, as the explanations read them.
//!
//! `cargo bench --bench evidence` (`-- --radar`: the radar alone; `--month-rows N`: its month at
//! another size). Without `python3 -m venv` or PyPI, only our figures print.
//! With `LOGGKOLL_TEST_POSTGRES=postgres://user@host:port/db` both run again on a new schema of
//! that PostgreSQL, printed after SQLite's (the DuckDB anchor once). Nothing asserts on time.

#[path = "../tests/support/backend.rs"]
mod backend;

use chrono::{DateTime, Duration, Utc};
use loggkoll::config::Config;
use loggkoll::engine::{Engine, OpenRequest};
use loggkoll::records::logs::{self, ImportOptions};
use loggkoll::routine::{Context, loader};
use loggkoll::simulate::logs::{bulk_export, bulk_roster};
use loggkoll::store::Store;
use loggkoll::templates::Library;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const USERS: u64 = 5000;
const UNITS: u64 = 400;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the bench's database goes: a file in `dir`, or a new schema on the PostgreSQL of
/// `LOGGKOLL_TEST_POSTGRES` when `postgres`.
fn location(dir: &Path, name: &str, postgres: bool) -> PathBuf {
    if postgres {
        backend::location(dir, name)
    } else {
        dir.join(name)
    }
}

/// The backend's name in the printout.
fn label(postgres: bool) -> &'static str {
    if postgres { "PostgreSQL" } else { "SQLite" }
}

/// An engine on a new database (`location`) with the bulk roster and the log of `csv` imported.
fn engine_with_log(location: &Path, csv: &Path, now: DateTime<Utc>) -> (Engine, f64) {
    let templates = Library::load(&root().join("templates")).expect("templates");
    let routines = loader::load_routines(
        &root().join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("routines");
    let store = Store::at(location).expect("store");
    let mut engine =
        Engine::new(store, routines, templates, Config::default(), now).expect("engine");
    loggkoll::engine::import_roster(
        &mut engine.store,
        &bulk_roster(USERS, UNITS),
        "units",
        "people",
        "bench",
        at("2026-12-01T00:00:00Z"),
    )
    .expect("roster");
    let rules = logs::retention_rules(&engine.routines);
    let started = Instant::now();
    logs::import(
        &mut engine.store,
        csv,
        &ImportOptions {
            system: None,
            retention: &rules,
            tz: chrono_tz::Europe::Stockholm,
            now,
            actor: "bench",
            period: None,
            format: None,
            formats: &[],
            max_value: loggkoll::records::logs::MAX_VALUE,
        },
    )
    .expect("import");
    (engine, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn evidence(dir: &Path, rows: u64, postgres: bool) {
    let csv = dir.join("big.csv");
    let start = at("2027-01-01T00:00:00Z");
    // 200 days.
    let step_ms = (200 * 86_400_000) / rows as i64;
    bulk_export(&csv, rows, start, step_ms, USERS, UNITS).expect("export");
    let now = at("2027-08-01T00:00:00Z");
    let (mut engine, import) = engine_with_log(&location(dir, "big.db", postgres), &csv, now);
    let _ = std::fs::remove_file(&csv);
    println!(
        "evidence on {}: a log of {rows} rows over 200 days by {USERS} users (imported in {import:.1} s)",
        label(postgres)
    );
    let (relations, shifts, took) = with_context(dir, &mut engine, start, 200, now);
    println!("  with {relations} care relationships and {shifts} shifts (imported in {took:.1} s)");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut cases = Vec::new();
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let user = 1 + x % (USERS - 1);
        let day = start + Duration::days(20 + (x >> 20) as i64 % 170) + Duration::hours(7);
        let id = engine
            .open_case(
                &OpenRequest {
                    routine: "targeted-review".into(),
                    unit: format!("EN{:04}", user % UNITS + 1),
                    by: "P00000".into(),
                    subject_user: Some(format!("P{user:05}")),
                    from: Some(day),
                    to: Some(day + Duration::hours(24)),
                    reason: Some("Benchmark".into()),
                    system: Some("treserva".into()),
                    ..Default::default()
                },
                now,
            )
            .expect("case");
        cases.push(id);
    }
    // Once to warm the caches, then timed.
    for id in &cases {
        engine.evidence(id, now).expect("evidence");
    }
    let mut times = Vec::new();
    let mut accesses = 0;
    for id in &cases {
        let t = Instant::now();
        let ev = engine.evidence(id, now).expect("evidence");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        accesses += ev.counts.accesses;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "evidence of one case ({} accesses on average): median {:.2} ms, p99 {:.2} ms, slowest {:.2} ms (target < 5 ms)",
        accesses / cases.len().max(1),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(f64::NAN)
    );
}

/// Care relationships of every client (an insats from a unit, a tenth ended) and a day shift
/// of every user on every day, imported as `relations import` and `shifts import` do, so that
/// the evidence reads them. Returns how many of each and the seconds the imports took.
fn with_context(
    dir: &Path,
    engine: &mut Engine,
    start: DateTime<Utc>,
    days: i64,
    now: DateTime<Utc>,
) -> (usize, usize, f64) {
    use std::fmt::Write as _;
    let mut relations = String::from("client,unit_id,from,to,kind\n");
    for i in 0..200_000u32 {
        let client = loggkoll::simulate::logs::client_number(i).replace('-', "");
        let unit = u64::from(i) % UNITS + 1;
        if i % 10 == 0 {
            writeln!(
                relations,
                "{client},EN{unit:04},2026-01-01,2027-03-31,insats"
            )
            .unwrap();
        } else {
            writeln!(relations, "{client},EN{unit:04},2026-01-01,,insats").unwrap();
        }
    }
    let mut shifts = String::from("person_id,unit_id,start,end\n");
    for d in 0..days {
        let day = (start + Duration::days(d)).format("%Y-%m-%d");
        for user in 1..USERS {
            writeln!(
                shifts,
                "P{user:05},EN{:04},{day} 07:00,{day} 16:00",
                user % UNITS + 1
            )
            .unwrap();
        }
    }
    let (r, s) = (dir.join("relations.csv"), dir.join("shifts.csv"));
    std::fs::write(&r, &relations).expect("relations");
    std::fs::write(&s, &shifts).expect("shifts");
    let t = Instant::now();
    let tz = chrono_tz::Europe::Stockholm;
    use loggkoll::engine::relations::{Kind, import_file};
    let a = import_file(
        &mut engine.store,
        Kind::Relations,
        &r,
        None,
        "bench",
        now,
        tz,
    )
    .expect("relations");
    let b =
        import_file(&mut engine.store, Kind::Shifts, &s, None, "bench", now, tz).expect("shifts");
    (a.rows as usize, b.rows as usize, t.elapsed().as_secs_f64())
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn radar(dir: &Path, rows: u64, postgres: bool) {
    let csv = dir.join("month.csv");
    let start = at("2027-03-01T00:00:00Z");
    // A month (30 days).
    let step_ms = (30 * 86_400_000) / rows as i64;
    bulk_export(&csv, rows, start, step_ms, USERS, UNITS).expect("export");
    let now = at("2027-04-02T00:00:00Z");
    let (mut engine, _) = engine_with_log(&location(dir, "month.db", postgres), &csv, now);
    let (relations, shifts, _) = with_context(dir, &mut engine, start, 30, now);
    println!("radar: with {relations} care relationships and {shifts} shifts");
    let org = engine.org();
    let routines: Vec<&loggkoll::routine::Routine> = engine.routines.iter().collect();
    let scope = loggkoll::evidence::radar::Scope {
        from: start,
        to: start + Duration::days(30),
        system: None,
        tz: chrono_tz::Europe::Stockholm,
    };
    let before = peak_rss_mb();
    let mut best = f64::MAX;
    let mut users = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let rows = loggkoll::evidence::radar::radar(engine.store.db(), org, &routines, &scope, now)
            .expect("radar");
        best = best.min(t.elapsed().as_secs_f64());
        users = rows.len();
    }
    println!(
        "radar on {} over a month of {rows} rows: {users} users ranked in {best:.3} s (best of 3); peak memory {:.0} MB (before the radar {:.0} MB)",
        label(postgres),
        peak_rss_mb().unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN)
    );
    if postgres {
        return;
    }
    match duckdb(dir, &csv) {
        Ok(theirs) => {
            println!("DuckDB GROUP BY user and day of the same rows: {theirs:.3} s (best of 3)");
            println!("ratio DuckDB / loggkoll radar: {:.2}", theirs / best);
        }
        Err(why) => println!("DuckDB not measured: {why}"),
    }
}

/// DuckDB's best of three, in seconds.
fn duckdb(dir: &Path, csv: &Path) -> Result<f64, String> {
    let venv = dir.join("venv");
    let python = venv.join("bin/python");
    let run = |cmd: &mut Command| -> Result<String, String> {
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "duckdb"]))?;
    let version =
        run(Command::new(&python).args(["-c", "import duckdb; print(duckdb.__version__)"]))?;
    eprintln!("anchor: DuckDB {}", version.trim());
    let out = run(Command::new(&python)
        .arg(root().join("bench/duckdb/radar.py"))
        .arg(csv))?;
    out.trim()
        .lines()
        .last()
        .and_then(|l| l.parse::<f64>().ok())
        .ok_or_else(|| format!("unexpected output: {out}"))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let radar_only = std::env::args().any(|a| a == "--radar");
    // `--month-rows N`: the radar's month at another size (an organisation of 100 million rows
    // a year has about 8.3 million a month).
    let args: Vec<String> = std::env::args().collect();
    let month_rows = args
        .iter()
        .position(|a| a == "--month-rows")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<u64>().ok());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut backends = vec![false];
    if backend::postgres().is_some() {
        backends.push(true);
    }
    for postgres in backends {
        if !radar_only {
            evidence(
                dir.path(),
                if quick { 1_000_000 } else { 10_000_000 },
                postgres,
            );
        }
        let rows = month_rows.unwrap_or(if quick { 200_000 } else { 2_000_000 });
        radar(dir.path(), rows, postgres);
    }
}
