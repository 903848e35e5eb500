//! Side by side with a peer: the same three-human-step flow (`bench/peer/three-steps.yaml` and
//! `bench/peer/three_steps.bpmn`) driven through loggkoll and through SpiffWorkflow (a Python
//! BPMN engine, installed from PyPI into a throwaway virtual environment by this bench), each
//! with one durable SQLite commit per transition (WAL, synchronous = FULL), in the same run.
//! Prints both rates and the ratio; asserts nothing about time.
//!
//! `cargo bench --bench peer` (`-- --cases N`, default 1000).

use chrono::{DateTime, Duration, Utc};
use loggkoll::config::Config;
use loggkoll::engine::{Engine, OpenRequest};
use loggkoll::roster::Role;
use loggkoll::routine::{Context, loader};
use loggkoll::store::Store;
use loggkoll::templates::Library;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ours(dir: &Path, cases: usize) -> (usize, f64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).expect("templates");
    let routines = loader::load_routines(
        &root.join("bench/peer"),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("the bench routine compiles");
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2027-03-01T09:00:00+01:00")
        .expect("time")
        .with_timezone(&Utc);
    let store = Store::open(&dir.join("ours.db")).expect("store");
    let mut engine =
        Engine::new(store, routines, templates, Config::default(), now).expect("engine");
    let roster = loggkoll::simulate::org::synthetic(200, 4, 1);
    loggkoll::engine::import_roster(&mut engine.store, &roster, "u", "p", "bench", now)
        .expect("roster");
    engine.refresh_org().expect("org");
    let unit = "EN0001".to_string();
    let day = now.date_naive();
    let opener = engine.org().holders(Role::OperationsManager, &unit, day)[0].to_string();
    let manager = engine.org().holders(Role::UnitManager, &unit, day)[0].to_string();
    let ids: Vec<String> = (0..cases)
        .map(|_| {
            engine
                .open_case(
                    &OpenRequest {
                        routine: "three-steps".into(),
                        unit: unit.clone(),
                        by: opener.clone(),
                        reason: Some("jämförelse".into()),
                        ..OpenRequest::default()
                    },
                    now,
                )
                .expect("open")
        })
        .collect();
    let later = now + Duration::hours(1);
    let start = Instant::now();
    let mut transitions = 0;
    for _ in 0..3 {
        for id in &ids {
            engine
                .answer(
                    &loggkoll::engine::AnswerRequest::new(id, "done", &manager),
                    later,
                )
                .expect("answer");
            transitions += 1;
        }
    }
    (transitions, start.elapsed().as_secs_f64())
}

fn peer(dir: &Path, cases: usize) -> Result<(usize, f64), String> {
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
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "SpiffWorkflow"]))?;
    let version = run(Command::new(&python).args([
        "-c",
        "import importlib.metadata as m; print(m.version('SpiffWorkflow'))",
    ]))?;
    eprintln!("peer: SpiffWorkflow {}", version.trim());
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/peer/spiff_driver.py");
    let out = run(Command::new(&python)
        .arg(driver)
        .arg(cases.to_string())
        .arg(dir.join("peer.db")))?;
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).map_err(|e| format!("peer output: {e}: {out}"))?;
    Ok((
        v["transitions"].as_u64().unwrap_or(0) as usize,
        v["seconds"].as_f64().unwrap_or(f64::NAN),
    ))
}

fn main() {
    let cases = arg("--cases", 1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let (n, secs) = ours(dir.path(), cases);
    let our_rate = n as f64 / secs;
    println!(
        "loggkoll: {n} durable transitions ({cases} cases × 3 human steps) in {secs:.2} s = {our_rate:.0}/s (each: answer, audit entry, next step's email queued, commit with fsync)"
    );
    match peer(dir.path(), cases) {
        Ok((n, secs)) => {
            let peer_rate = n as f64 / secs;
            println!("SpiffWorkflow: {n} durable transitions in {secs:.2} s = {peer_rate:.0}/s");
            println!("ratio: loggkoll is {:.1}× the peer", our_rate / peer_rate);
        }
        Err(why) => println!("SpiffWorkflow: not run ({why})"),
    }
}
