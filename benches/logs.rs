//! `logs import` against the `sqlite3` command line's `.import` of the same file, in the same
//! run: rows per second for a generated access-log export of 1,000,000 rows (`-- --quick`:
//! 100,000). Ours validates every row (identity numbers with their check digit, times, systems,
//! action words), normalises it, writes it to the store (WAL, `synchronous = FULL`, one
//! transaction) with its index (the per-account digests the review's flags are computed from),
//! and closes the store (the checkpoint of the WAL counted); `sqlite3` stores the text as it is into a plain table (its defaults: rollback
//! journal, `synchronous = FULL`, one transaction). Each is run three times on a fresh database,
//! alternating, and the best run counts. Nothing asserts on time.
//!
//! `cargo bench --bench logs`. Needs `sqlite3` on the PATH (Debian: `apt-get install sqlite3`)
//! for the comparison; without it only our figure is printed.

use chrono::{DateTime, Utc};
use loggkoll::records::logs::{self, ImportOptions};
use loggkoll::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn generate(path: &Path, rows: u64) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    loggkoll::simulate::logs::bulk_export(path, rows, start, 30_000, 5000, 400).expect("export");
}

fn sqlite3_import(dir: &Path, csv: &Path, run: usize) -> Option<f64> {
    let db = dir.join(format!("plain-{run}.db"));
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE log (log_id TEXT, event_time TEXT, source_system TEXT, user_id TEXT, user_name TEXT, user_title TEXT, access_unit_id TEXT, subject_id TEXT, subject_unit_id TEXT, action TEXT, resource_type TEXT, purpose TEXT);")
        .arg(format!(".import --csv --skip 1 {} log", csv.display()))
        .status()
        .ok()?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&db);
    status.success().then_some(seconds)
}

fn ours(dir: &Path, csv: &Path, run: usize, rules: &[(String, u32)]) -> (f64, u64) {
    let path = dir.join(format!("ours-{run}.db"));
    let mut store = Store::open(&path).expect("store");
    let now = DateTime::parse_from_rfc3339("2028-01-01T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let started = Instant::now();
    let summary = logs::import(
        &mut store,
        csv,
        &ImportOptions {
            system: None,
            retention: rules,
            tz: chrono_tz::Europe::Stockholm,
            now,
            actor: "bench",
            period: None,
            format: None,
            formats: &[],
        },
    )
    .expect("import");
    // Closing checkpoints the write-ahead log into the file: part of the import's cost.
    drop(store);
    let seconds = started.elapsed().as_secs_f64();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    (seconds, summary.imported)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rows: u64 = if quick { 100_000 } else { 1_000_000 };
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("access-log.csv");
    generate(&csv, rows);
    let bytes = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    println!(
        "access-log export: {rows} rows, {:.0} MB",
        bytes as f64 / 1e6
    );
    let rules = logs::retention_rules(&[]);
    let has_sqlite3 = Command::new("sqlite3").arg("--version").output().is_ok();
    let (mut best_ours, mut best_sqlite) = (f64::MAX, f64::MAX);
    for run in 0..3 {
        let (seconds, imported) = ours(dir.path(), &csv, run, &rules);
        assert_eq!(imported, rows, "every row imported");
        best_ours = best_ours.min(seconds);
        print!("run {}: loggkoll {seconds:.2} s", run + 1);
        if has_sqlite3 {
            match sqlite3_import(dir.path(), &csv, run) {
                Some(s) => {
                    best_sqlite = best_sqlite.min(s);
                    print!(", sqlite3 .import {s:.2} s");
                }
                None => print!(", sqlite3 .import failed"),
            }
        }
        println!();
    }
    let ours_rate = rows as f64 / best_ours;
    println!("loggkoll logs import (validating every row): {ours_rate:>10.0} rows/s");
    if best_sqlite < f64::MAX {
        let theirs = rows as f64 / best_sqlite;
        println!("sqlite3 .import (plain table, no checks):    {theirs:>10.0} rows/s");
        println!("ratio loggkoll / sqlite3: {:.2}", ours_rate / theirs);
    } else {
        println!("sqlite3 not found: install it (apt-get install sqlite3) for the comparison");
    }
}
