//! `logs import` against the `sqlite3` command line's `.import` of the same file, in the same
//! run: rows per second for a generated access-log export of 1,000,000 rows (`-- --quick`:
//! 100,000). Ours validates every row (identity numbers with their check digit, times, systems,
//! action words), normalises it, writes it to the store (WAL, `synchronous = FULL`, one
//! transaction) with its index (the per-account digests the review's flags are computed from),
//! and closes the store (the checkpoint of the WAL counted); `sqlite3` stores the text as it is into a plain table (its defaults: rollback
//! journal, `synchronous = FULL`, one transaction). Each is run three times on a fresh database,
//! alternating, and the best run counts. Nothing asserts on time.
//!
//! The connectors (issue 15) are measured the same way, each beside `sqlite3 .import` of the same
//! rows as CSV: the whole export as a Windows-1252 `;` CSV with Swedish headers read through a
//! format file, and a fifth of it as an `.xlsx` (deflated, as Excel writes it) and as RIV-TA XML
//! (targets: the format CSV at least 1× sqlite3, XLSX and XML at least 200,000 rows/s).
//!
//! `cargo bench --bench logs` (`-- --rows N` for another size; the peak memory of our imports is
//! printed at the end). Needs `sqlite3` on the PATH (Debian: `apt-get install sqlite3`)
//! for the comparison; without it only our figure is printed.

#[path = "../tests/support/xlsx.rs"]
mod xlsx;

use chrono::{DateTime, Utc};
use loggkoll::records::logs::format::LogFormat;
use loggkoll::records::logs::{self, ImportOptions};
use loggkoll::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn generate(path: &Path, rows: u64) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    // A row every 30 s, or as many as a year holds (the import refuses accesses after its `now`).
    let step_ms = 30_000.min((365 * 86_400_000) / rows.max(1) as i64);
    loggkoll::simulate::logs::bulk_export(path, rows, start, step_ms, 5000, 400).expect("export");
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

fn ours(
    dir: &Path,
    csv: &Path,
    run: usize,
    rules: &[(String, u32)],
    format: Option<&LogFormat>,
) -> (f64, u64) {
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
            format,
            formats: &[],
            max_value: loggkoll::records::logs::MAX_VALUE,
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

/// The fields of each row of our CSV (no quotes in the generated export).
fn rows_of(csv: &Path, limit: usize) -> Vec<Vec<String>> {
    std::fs::read_to_string(csv)
        .expect("read")
        .lines()
        .skip(1)
        .take(limit)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

const HEADER: &str = "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose";

/// The rows as a municipal export: Windows-1252, `;`, Swedish headers, `dd/mm/yyyy HH.MM.SS`.
fn swedish_csv(rows: &[Vec<String>], path: &Path) -> LogFormat {
    let mut text = String::from(
        "Logg-id;Tidpunkt;System;Användar-id;Namn;Titel;Enhet;Personnummer;Kundens enhet;Händelse;Typ;Syfte\n",
    );
    for r in rows {
        // Local time, as the export writes it (the generated file has both forms).
        let local = match DateTime::parse_from_rfc3339(&r[1]) {
            Ok(t) => t
                .with_timezone(&chrono_tz::Europe::Stockholm)
                .format("%d/%m/%Y %H.%M.%S")
                .to_string(),
            Err(_) => chrono::NaiveDateTime::parse_from_str(&r[1], "%Y-%m-%d %H:%M:%S")
                .expect("a local time")
                .format("%d/%m/%Y %H.%M.%S")
                .to_string(),
        };
        let mut fields = r.clone();
        fields[1] = local;
        fields[9] = if fields[9] == "Läsa" {
            "Visa".into()
        } else {
            fields[9].clone()
        };
        text.push_str(&fields.join(";"));
        text.push('\n');
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    std::fs::write(path, bytes).expect("write");
    let yaml = "id: kommun\nfile: csv\nencoding: windows-1252\ndelimiter: \";\"\ntime_format: \"%d/%m/%Y %H.%M.%S\"\ncolumns:\n  log_id: Logg-id\n  event_time: Tidpunkt\n  source_system: System\n  user_id: Användar-id\n  user_name: Namn\n  user_title: Titel\n  access_unit_id: Enhet\n  subject_id: Personnummer\n  subject_unit_id: Kundens enhet\n  action: Händelse\n  resource_type: Typ\n  purpose: Syfte\nactions:\n  Visa: Läsa\n";
    let source = loggkoll::routine::source::Source::new("kommun.yaml", yaml);
    let (format, diagnostics) = logs::format::parse(&source, &["treserva", "npo"]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    format.expect("the format")
}

/// The rows as RIV-TA `ehr:log` XML: one record per row.
fn riv_xml(rows: &[Vec<String>], path: &Path) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ns2:logs xmlns:ns2=\"urn:riv:ehr:log:1\">"
    )
    .ok();
    for r in rows {
        let time = r[1].replace('Z', "+00:00");
        writeln!(
            out,
            "<ns2:log><ns2:logId>{}</ns2:logId><ns2:system><ns2:systemName>NPÖ</ns2:systemName></ns2:system><ns2:activity><ns2:activityType>{}</ns2:activityType><ns2:startDate>{time}</ns2:startDate><ns2:purpose>{}</ns2:purpose></ns2:activity><ns2:user><ns2:userId>{}</ns2:userId><ns2:name>{}</ns2:name><ns2:title>{}</ns2:title><ns2:careUnit><ns2:careUnitId>{}</ns2:careUnitId></ns2:careUnit></ns2:user><ns2:resources><ns2:resource><ns2:resourceType>{}</ns2:resourceType><ns2:patient><ns2:patientId>{}</ns2:patientId></ns2:patient><ns2:careUnit><ns2:careUnitId>{}</ns2:careUnitId></ns2:careUnit></ns2:resource></ns2:resources></ns2:log>",
            r[0], r[9], r[11], r[3], r[4], r[5], r[6], r[10], r[7], r[8]
        )
        .ok();
    }
    writeln!(out, "</ns2:logs>").ok();
}

fn inera_format() -> LogFormat {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("formats/inera-xml.yaml"),
    )
    .expect("formats/inera-xml.yaml");
    let source = loggkoll::routine::source::Source::new("inera-xml.yaml", text);
    let (format, diagnostics) = logs::format::parse(&source, &["treserva", "npo"]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    format.expect("the format")
}

/// Best of three, ours and sqlite3's `.import` of `plain` (the same rows as our CSV).
#[allow(clippy::too_many_arguments)]
fn compare(
    label: &str,
    dir: &Path,
    file: &Path,
    plain: &Path,
    rows: u64,
    rules: &[(String, u32)],
    format: Option<&LogFormat>,
    has_sqlite3: bool,
) {
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("\n{label}: {rows} rows, {:.0} MB", bytes as f64 / 1e6);
    let (mut best_ours, mut best_sqlite) = (f64::MAX, f64::MAX);
    for run in 0..3 {
        let (seconds, imported) = ours(dir, file, run, rules, format);
        assert_eq!(imported, rows, "every row imported");
        best_ours = best_ours.min(seconds);
        print!("run {}: loggkoll {seconds:.2} s", run + 1);
        if has_sqlite3 {
            match sqlite3_import(dir, plain, run) {
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
    println!("loggkoll logs import ({label}): {ours_rate:>10.0} rows/s");
    if best_sqlite < f64::MAX {
        let theirs = rows as f64 / best_sqlite;
        println!("sqlite3 .import (same rows as CSV): {theirs:>10.0} rows/s");
        println!("ratio loggkoll / sqlite3: {:.2}", ours_rate / theirs);
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `-- --only csv|format|xlsx|xml` runs one of the four (to profile it alone).
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let runs = |name: &str| only.as_deref().is_none_or(|o| o == name);
    // `-- --rows N`: another size (issue 30 measures 10,000,000).
    let rows: u64 = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 100_000 } else { 1_000_000 });
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("access-log.csv");
    generate(&csv, rows);
    let rules = logs::retention_rules(&[]);
    let has_sqlite3 = Command::new("sqlite3").arg("--version").output().is_ok();
    if !has_sqlite3 {
        println!("sqlite3 not found: install it (apt-get install sqlite3) for the comparison");
    }
    if runs("csv") {
        compare(
            "our CSV (validating every row)",
            dir.path(),
            &csv,
            &csv,
            rows,
            &rules,
            None,
            has_sqlite3,
        );
    }
    if !(runs("format") || runs("xlsx") || runs("xml")) {
        print_peak();
        return;
    }
    let all = rows_of(&csv, rows as usize);
    let swedish = dir.path().join("kommun.csv");
    let format = swedish_csv(&all, &swedish);
    if runs("format") {
        compare(
            "Windows-1252 ; CSV through a format file",
            dir.path(),
            &swedish,
            &csv,
            rows,
            &rules,
            Some(&format),
            has_sqlite3,
        );
    }
    drop(all);
    // A fifth of the rows as a workbook and as XML, beside sqlite3 of the same rows as CSV.
    let part = (rows / 5) as usize;
    let some = rows_of(&csv, part);
    let plain = dir.path().join("part.csv");
    let mut text = format!("{HEADER}\n");
    for r in &some {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    std::fs::write(&plain, text).expect("write");
    let book = dir.path().join("export.xlsx");
    let mut sheet = vec![
        HEADER
            .split(',')
            .map(|h| xlsx::Cell::Text(h.to_string()))
            .collect::<Vec<_>>(),
    ];
    for r in &some {
        sheet.push(r.iter().map(|c| xlsx::Cell::Text(c.clone())).collect());
    }
    xlsx::write(&book, 1, &sheet);
    drop(sheet);
    if runs("xlsx") {
        compare(
            "XLSX with our columns",
            dir.path(),
            &book,
            &plain,
            part as u64,
            &rules,
            None,
            has_sqlite3,
        );
    }
    let xml = dir.path().join("loggrapport.xml");
    riv_xml(&some, &xml);
    let inera = inera_format();
    if runs("xml") {
        compare(
            "RIV-TA ehr:log XML",
            dir.path(),
            &xml,
            &plain,
            part as u64,
            &rules,
            Some(&inera),
            has_sqlite3,
        );
    }
    print_peak();
}

/// The peak resident memory of this process, whose imports are ours (`sqlite3` runs apart).
fn print_peak() {
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        });
    match peak {
        Some(kib) => println!("peak memory of our imports: {} MB", kib / 1024),
        None => println!("peak memory of our imports: unknown (no /proc/self/status)"),
    }
}
