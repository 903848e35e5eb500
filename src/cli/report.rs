//! The records commands: `report annual|protocol|extract`, `logs import`, `purge`.
use super::{errln, outln};

use super::Env;
use super::ops::{open_engine, open_store};
use crate::records::files::{Printer, Written};
use crate::records::logs::{self, ImportOptions};
use crate::records::{annual, extract, protocol, purge};
use crate::{Error, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::runtime(e.to_string()))?;
    outln!("{text}");
    Ok(())
}

// ----- logs -----

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Load an access-log export (CSV); a bad row refuses the whole file, naming FILE:LINE.
    Import(LogsImportArgs),
    /// The imports: file, system, rows, the period covered, digest, when.
    List(LogsListArgs),
    /// Per system, the periods the imported logs cover and the gaps between them.
    Coverage(LogsListArgs),
    /// Build the index of the access log anew from its rows.
    Reindex,
    /// How much of the log the rules explain: the share explained, per kind, the share
    /// flagged, and the median of accesses to judge per user-day.
    Explained(super::review::ExplainedArgs),
}

#[derive(Debug, Args)]
pub struct LogsImportArgs {
    pub file: PathBuf,
    /// The record system the file comes from (rows with an empty `source_system` are its).
    #[arg(long)]
    pub system: Option<String>,
    /// The first day (or time) the export covers; with --to. Default: the day of its first event.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// The last day the export covers (a date alone: to the end of that day); with --from.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// The export's format: the id of a format in the formats folder, or a format file's path.
    /// Default: picked by the file's extension and header.
    #[arg(long, value_name = "ID|PATH")]
    pub format: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsListArgs {
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn logs_cmd(env: &Env, cmd: LogsCommand) -> Result<u8> {
    let args = match cmd {
        LogsCommand::Import(args) => args,
        LogsCommand::List(args) => return logs_list(env, args),
        LogsCommand::Coverage(args) => return logs_coverage(env, args),
        LogsCommand::Explained(args) => return super::review::explained(env, args),
        LogsCommand::Reindex => {
            let mut store = open_store(env)?;
            let tx = store.write()?;
            let n = crate::store::logindex::rebuild(&tx, crate::names::surname_keys)?;
            tx.commit()?;
            errln!("indexed {n} access-log rows");
            return Ok(0);
        }
    };
    let now = env.now()?;
    let tz = env.config.timezone;
    let period = match (&args.from, &args.to) {
        (Some(from), Some(to)) => {
            let from = crate::clock::parse_time(from, tz)
                .map_err(|m| Error::usage(format!("--from: {m}")))?;
            let to =
                crate::clock::parse_end(to, tz).map_err(|m| Error::usage(format!("--to: {m}")))?;
            if to <= from {
                return Err(Error::usage("--to must be after --from"));
            }
            Some((from, to))
        }
        _ => None,
    };
    let routines = super::ops::current_routines(env);
    let rules = logs::retention_rules(&routines);
    let formats = load_formats(env, &rules)?;
    let chosen = match &args.format {
        Some(wanted) => Some(choose_format(wanted, &formats, &rules)?),
        None => None,
    };
    let mut store = open_store(env)?;
    let started = std::time::Instant::now();
    let summary = logs::import(
        &mut store,
        &args.file,
        &ImportOptions {
            system: args.system.as_deref(),
            retention: &rules,
            tz: env.config.timezone,
            now,
            actor: "cli",
            period,
            format: chosen.as_ref(),
            formats: &formats,
            max_value: env.config.logs_max_value,
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut v = serde_json::to_value(&summary).map_err(|e| Error::runtime(e.to_string()))?;
        v["seconds"] = serde_json::json!(seconds);
        print_json(&v)?;
    } else {
        errln!(
            "imported {} of {} rows from {} in {seconds:.1} s (format {}{})",
            summary.imported,
            summary.rows,
            summary.file,
            summary.format,
            summary
                .decoded_from
                .as_deref()
                .map(|e| format!(", decoded from {e}"))
                .unwrap_or_default()
        );
        errln!(
            "  {} rows read, {} imported, {} already present (the same log_id with the same content, not stored again), {} refused",
            summary.rows,
            summary.imported,
            summary.already,
            summary.refused
        );
        if summary.expired > 0 {
            errln!(
                "  {} rows were older than their system's retention and were not kept",
                summary.expired
            );
        }
        for o in &summary.overlaps {
            errln!(
                "  overlaps import {} of {} ({} – {}): rows with the same log_id are shown once",
                o.import_id,
                o.system,
                logs::unix_ts(o.oldest),
                logs::unix_ts(o.newest)
            );
        }
        for s in &summary.systems {
            errln!(
                "  {}: {} rows, covering {} – {}, kept {} years after each event",
                s.system,
                s.rows,
                s.covers_from,
                s.covers_to,
                s.retention_years
            );
        }
        for w in &summary.warnings {
            errln!("warning: {w}");
        }
        if summary.warned > summary.warnings.len() as u64 {
            errln!(
                "warning: and {} more rows like those",
                summary.warned - summary.warnings.len() as u64
            );
        }
    }
    Ok(0)
}

/// The log formats of the formats folder in use; a folder with a broken format file is refused
/// with its diagnostics (`check` shows them too).
pub(crate) fn load_formats(
    env: &Env,
    rules: &[(String, u32)],
) -> Result<Vec<logs::format::LogFormat>> {
    let systems: Vec<&str> = rules.iter().map(|(s, _)| s.as_str()).collect();
    let loaded = logs::format::load_dir(&env.global.formats, &systems)?;
    if loaded.has_errors() {
        let rendered: Vec<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render())
            .collect();
        return Err(Error::invalid(format!(
            "the log formats in {} have errors (run `loggkoll check`):\n{}",
            env.global.formats.display(),
            rendered.join("\n")
        )));
    }
    Ok(loaded.formats)
}

/// `--format ID|PATH`: a format file's path, or the id of a loaded format.
fn choose_format(
    wanted: &str,
    formats: &[logs::format::LogFormat],
    rules: &[(String, u32)],
) -> Result<logs::format::LogFormat> {
    let path = std::path::Path::new(wanted);
    if path.is_file() {
        let systems: Vec<&str> = rules.iter().map(|(s, _)| s.as_str()).collect();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("--format {wanted}: {e}")))?;
        let source = crate::routine::source::Source::new(wanted, text);
        let (format, diagnostics) = logs::format::parse(&source, &systems);
        return match format {
            Some(f) => Ok(f),
            None => {
                let rendered: Vec<String> = diagnostics.iter().map(|d| d.render()).collect();
                Err(Error::invalid(rendered.join("\n")))
            }
        };
    }
    if let Some(f) = formats.iter().find(|f| f.id == wanted) {
        return Ok(f.clone());
    }
    if wanted == "standard" {
        return Ok(logs::format::LogFormat::standard());
    }
    let ids: Vec<&str> = formats.iter().map(|f| f.id.as_str()).collect();
    Err(Error::usage(format!(
        "--format: no format `{wanted}` and no such file{}",
        crate::tabular::suggestion(wanted, &ids)
    )))
}

fn logs_list(env: &Env, args: LogsListArgs) -> Result<u8> {
    let store = open_store(env)?;
    let rows = crate::store::records::imports(store.db())?;
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "import": r.import_id,
                    "file": r.file,
                    "system": r.system,
                    "rows": r.rows,
                    "from": logs::unix_ts(r.covers_from),
                    "to": logs::unix_ts(r.covers_to),
                    "digest": r.digest,
                    "imported_at": r.imported_at,
                })
            })
            .collect();
        return print_json(&list).map(|()| 0);
    }
    outln!(
        "{:<6} {:<10} {:>9}  {:<20} {:<20} {:<20} FILE",
        "IMPORT",
        "SYSTEM",
        "ROWS",
        "FROM",
        "TO",
        "IMPORTED"
    );
    for r in rows {
        outln!(
            "{:<6} {:<10} {:>9}  {:<20} {:<20} {:<20} {}",
            r.import_id,
            r.system,
            r.rows,
            super::local_time(&logs::unix_ts(r.covers_from), env.config.timezone),
            super::local_time(&logs::unix_ts(r.covers_to), env.config.timezone),
            super::local_time(&r.imported_at, env.config.timezone),
            r.file
        );
    }
    Ok(0)
}

fn logs_coverage(env: &Env, args: LogsListArgs) -> Result<u8> {
    let store = open_store(env)?;
    let coverage = crate::evidence::coverage::by_system(store.db())?;
    if args.json {
        return print_json(&coverage).map(|()| 0);
    }
    let tz = env.config.timezone;
    let local = |t: &str| super::local_time(t, tz);
    for s in &coverage {
        outln!("{}:", s.system);
        for p in &s.covered {
            outln!("  covered  {} – {}", local(&p.from), local(&p.to));
        }
        for p in &s.gaps {
            outln!("  GAP      {} – {}", local(&p.from), local(&p.to));
        }
    }
    if coverage.is_empty() {
        errln!("no access log has been imported");
    }
    Ok(0)
}

// ----- report -----

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write the year's summary (HTML with charts, and CSV) and print the paths.
    Annual(AnnualArgs),
    /// Write the review protocol of a case (HTML, and PDF where Chromium is installed) and print
    /// the paths.
    Protocol(CaseReportArgs),
    /// File the log-extract letter of an extract case with its protocol and metadata in the
    /// case's folder for the records system, and print the paths.
    Extract(CaseReportArgs),
}

#[derive(Debug, Args)]
pub struct AnnualArgs {
    #[arg(long)]
    pub year: i32,
    /// One routine's summary (as emailed: with the targeted reviews and extracts of its
    /// systems); default every routine.
    #[arg(long)]
    pub routine: Option<String>,
    /// The folder to write into.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CaseReportArgs {
    /// The case reference (e.g. TRE-2027-0042).
    pub case: String,
    /// The export folder: the files go into OUT/CASE/.
    #[arg(long, default_value = "arkiv")]
    pub out: PathBuf,
}

/// Chromium for PDFs: `LOGGKOLL_CHROMIUM`, or `chromium` on the PATH.
pub(crate) fn printer() -> Printer {
    Printer::find()
}

fn print_written(written: &Written) {
    for p in written.paths() {
        outln!("{}", p.display());
    }
    if let Some(why) = &written.no_pdf {
        errln!("{why}");
    }
}

pub(crate) fn report_cmd(env: &Env, cmd: ReportCommand) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    match cmd {
        ReportCommand::Annual(args) => {
            for path in annual::write(&engine, args.routine.as_deref(), args.year, &args.out, now)?
            {
                outln!("{}", path.display());
            }
        }
        ReportCommand::Protocol(args) => {
            let written =
                protocol::write(&mut engine, &args.case, &args.out, &printer(), "cli", now)?;
            print_written(&written);
        }
        ReportCommand::Extract(args) => {
            let written =
                extract::write(&mut engine, &args.case, &args.out, &printer(), "cli", now)?;
            print_written(&written);
        }
    }
    Ok(0)
}

// ----- purge -----

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// List what would go and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn purge_cmd(env: &Env, args: PurgeArgs) -> Result<u8> {
    let now = env.now()?;
    let mut engine = open_engine(env, now)?;
    let purge = purge::run(&mut engine, now, args.dry_run, "cli")?;
    if args.json {
        return print_json(&purge).map(|()| 0);
    }
    let verb = if args.dry_run {
        "would purge"
    } else {
        "purged"
    };
    for c in &purge.cases {
        outln!(
            "{}  {:<20} closed {}  kept {} years, until {}",
            c.id,
            c.routine,
            c.closed_at,
            c.retention_years,
            c.due
        );
    }
    let log_rows: usize = purge.log_rows.values().sum();
    errln!(
        "{verb}: {} case{}, {} file{}, {} round member list{}, {} access-log row{}{}, {} summary email{}, {} ended care relationship{}, {} shift{}",
        purge.cases.len(),
        plural(purge.cases.len()),
        purge.files,
        plural(purge.files),
        purge.rounds.len(),
        plural(purge.rounds.len()),
        log_rows,
        plural(log_rows),
        if purge.log_rows.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                purge
                    .log_rows
                    .iter()
                    .map(|(s, n)| format!("{s} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        purge.summary_mails,
        plural(purge.summary_mails),
        purge.relations,
        plural(purge.relations),
        purge.shifts,
        plural(purge.shifts)
    );
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
