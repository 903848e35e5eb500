//! `relations import` and `shifts import`: what explains an access besides the log.
use super::ops::{open_store, print_json};
use super::{Env, errln};
use crate::Result;
use crate::engine::relations::{Kind, import_file};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RelationsCommand {
    /// Import care relationships from a CSV file (`client,unit_id,from,to,kind[,person_id]`):
    /// a client's insats, beslut or vårdkontakt with a unit, or a named person (ansvarig
    /// handläggare). Adds new rows and updates the end of rows already imported.
    Import(RelationsImportArgs),
}

#[derive(Debug, Args)]
pub struct RelationsImportArgs {
    /// The CSV file; `to` may be empty (ongoing), `person_id` may be left out.
    pub file: PathBuf,
    /// The record system the relationships hold in (default: every system).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ShiftsCommand {
    /// Import work shifts from a CSV file (`person_id,unit_id,start,end`), the staffing
    /// system's export; times local (`2027-03-02 22:00`) or RFC 3339. Adds new shifts and
    /// updates the end of shifts already imported.
    Import(ShiftsImportArgs),
}

#[derive(Debug, Args)]
pub struct ShiftsImportArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn relations(env: &Env, cmd: RelationsCommand) -> Result<u8> {
    let RelationsCommand::Import(args) = cmd;
    // A mistyped system would store relationships that never apply.
    super::review::known_system(&super::ops::current_routines(env), args.system.as_deref())?;
    run(
        env,
        Kind::Relations,
        &args.file,
        args.system.as_deref(),
        args.json,
    )
}

pub(super) fn shifts(env: &Env, cmd: ShiftsCommand) -> Result<u8> {
    let ShiftsCommand::Import(args) = cmd;
    run(env, Kind::Shifts, &args.file, None, args.json)
}

fn run(
    env: &Env,
    kind: Kind,
    file: &std::path::Path,
    system: Option<&str>,
    json: bool,
) -> Result<u8> {
    let now = env.now()?;
    let mut store = open_store(env)?;
    let import = import_file(
        &mut store,
        kind,
        file,
        system,
        "cli",
        now,
        env.config.timezone,
    )?;
    if json {
        print_json(&import)?;
    } else {
        let (one, many) = match kind {
            Kind::Relations => ("care relationship", "care relationships"),
            Kind::Shifts => ("shift", "shifts"),
        };
        let noun = |n: i64| if n == 1 { one } else { many };
        errln!(
            "imported {} {} from {}{}: {} new, {} already there",
            import.rows,
            noun(import.rows),
            file.display(),
            if import.system.is_empty() {
                String::new()
            } else {
                format!(" (system {})", import.system)
            },
            import.added,
            import.rows - import.added
        );
    }
    Ok(0)
}
