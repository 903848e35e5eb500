//! `loggkoll simulate`: a synthetic organisation run over a period on a simulated clock.

use super::Env;
use super::ops::open_engine_on;
use crate::simulate::{org, run};
use crate::store::Store;
use crate::{Error, Result};
use chrono::NaiveDate;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    pub to: String,
    #[arg(long, default_value_t = 300)]
    pub users: usize,
    #[arg(long, default_value_t = 12)]
    pub units: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the simulated database at this path (default: a temporary file, removed after).
    #[arg(long)]
    pub into: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

fn day(flag: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Error::usage(format!("{flag}: `{s}` is not a date (YYYY-MM-DD)")))
}

pub(super) fn run_cmd(env: &Env, args: SimulateArgs) -> Result<u8> {
    let (from, to) = (day("--from", &args.from)?, day("--to", &args.to)?);
    if to < from {
        return Err(Error::usage("--to is before --from"));
    }
    if args.users == 0 || args.units == 0 {
        return Err(Error::usage("--users and --units must be at least 1"));
    }
    let temp = tempdir()?;
    let path = match &args.into {
        Some(p) if p.exists() => {
            return Err(Error::usage(format!(
                "--into: `{}` exists already",
                p.display()
            )));
        }
        Some(p) => p.clone(),
        None => temp.join("simulate.db"),
    };
    let store = Store::at(&path)?;
    store.relax_durability()?;
    // The same seed simulates the same year.
    crate::store::meta_set(
        store.db(),
        "install_seed",
        &format!("simulate-{}", args.seed),
    )?;
    let roster = org::synthetic(args.users, args.units, args.seed);
    let start =
        crate::clock::resolve_local(from.and_time(chrono::NaiveTime::MIN), env.config.timezone);
    let mut engine = open_engine_on(env, store, start)?;
    crate::engine::import_roster(
        &mut engine.store,
        &roster,
        "synthetic units",
        "synthetic people",
        "simulate",
        start,
    )?;
    let figures = run::run(
        &mut engine,
        &run::Options {
            from,
            to,
            seed: args.seed,
            logs: Vec::new(),
            ad_hoc_per_1000: 4.0,
            story: false,
            leave_open_after: None,
        },
        |_| {},
    )?;
    drop(engine);
    if args.into.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    if args.json {
        let text =
            serde_json::to_string_pretty(&figures).map_err(|e| Error::runtime(e.to_string()))?;
        println!("{text}");
    } else {
        println!(
            "simulated {} days for {} users in {} units: {} rounds, {} cases ({} closed), {} transitions, {} reminders, {} escalations, {} emails in {:.2} s ({:.0} transitions/s)",
            figures.days,
            roster.people.len(),
            args.units,
            figures.rounds,
            figures.cases,
            figures.closed,
            figures.transitions,
            figures.reminders,
            figures.escalations,
            figures.emails,
            figures.seconds,
            figures.transitions_per_second
        );
        for (routine, c) in &figures.coverage {
            println!(
                "coverage {routine}: {} of {} users present all period reviewed ({:.1} %)",
                c.reviewed,
                c.present_all_year,
                c.share * 100.0
            );
        }
        let results: Vec<String> = figures
            .results
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("results: {}", results.join(", "));
    }
    Ok(0)
}

fn tempdir() -> Result<PathBuf> {
    let base = std::env::temp_dir().join(format!(
        "loggkoll-simulate-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&base)?;
    Ok(base)
}
