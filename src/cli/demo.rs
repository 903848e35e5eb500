//! `loggkoll demo`: a ready-made example for a first look. A synthetic municipality (units, a
//! few hundred people with accounts in NPÖ and Treserva) runs a whole year on a simulated clock
//! with answers down every path; the emails land as `.eml` files in an outbox folder. At the end
//! it prints where everything is.

use super::Env;
use super::ops::open_engine_on;
use crate::simulate::{org, run};
use crate::store::Store;
use crate::{Error, Result};
use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The file that marks a folder as a demo's own, so a new demo may clear it.
const MARKER: &str = ".loggkoll-demo";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the demo (cleared first if it holds an earlier demo).
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// People in the synthetic municipality.
    #[arg(long, default_value_t = 300)]
    pub users: usize,
    #[arg(long, default_value_t = 2027)]
    pub year: i32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(Error::usage(format!(
                "--dir: `{}` exists and is not an earlier demo; choose another folder",
                dir.display()
            )));
        }
        if !empty {
            std::fs::remove_dir_all(dir)?;
        }
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "made by `loggkoll demo`; the next demo clears this folder\n",
    )?;
    Ok(())
}

pub fn run_cmd(env: &Env, args: DemoArgs) -> Result<u8> {
    let dir = args.dir.clone();
    prepare(&dir)?;
    let tz = env.config.timezone;
    let from = NaiveDate::from_ymd_opt(args.year, 1, 1)
        .ok_or_else(|| Error::usage(format!("--year {} is out of range", args.year)))?;
    let to = NaiveDate::from_ymd_opt(args.year, 12, 31).unwrap_or(from);
    let start = crate::clock::resolve_local(from.and_time(chrono::NaiveTime::MIN), tz);

    // The municipality: roster files a real import would read.
    let roster = org::synthetic(
        args.users.max(20),
        (args.users / 25).clamp(2, 40),
        args.seed,
    );
    org::write_csv(&roster, &dir)?;
    let db = dir.join("loggkoll.db");
    let store = Store::open(&db)?;
    store.relax_durability()?;
    // The same seed draws the same year.
    crate::store::meta_set(&store.conn, "install_seed", &format!("demo-{}", args.seed))?;
    let mut demo_env_config = env.config.clone();
    demo_env_config.mail.url = format!("file://{}", dir.join("outbox").display());
    let demo_env = Env {
        global: super::Global {
            db: db.clone(),
            routines: env.global.routines.clone(),
            templates: env.global.templates.clone(),
            config: env.global.config.clone(),
            now: env.global.now.clone(),
        },
        config: demo_env_config,
    };
    let mut engine = open_engine_on(&demo_env, store, start)?;
    let roster = crate::roster::parse_roster(&dir.join("units.csv"), &dir.join("people.csv"))?;
    crate::engine::import_roster(
        &mut engine.store,
        &roster,
        "units.csv",
        "people.csv",
        "demo",
        start,
    )?;

    // The year.
    let days = (to - from).num_days().max(0) as u64 + 1;
    let bar = progress(days, "simulating the year");
    let figures = run::run(
        &mut engine,
        &run::Options {
            from,
            to,
            seed: args.seed,
            ad_hoc_per_1000: 40.0,
        },
        |day| {
            bar.set_position((day - from).num_days().max(0) as u64);
            bar.set_message(day.to_string());
        },
    )?;
    bar.finish_and_clear();

    // The emails, as a mail server would have received them.
    let transport = crate::notify::Transport::from_url(&demo_env.config.mail.url)?;
    let end = crate::clock::resolve_local(to.and_hms_opt(23, 0, 0).unwrap_or_default(), tz);
    let install = engine.install_id();
    let delivery = crate::notify::sender::deliver(
        &mut engine.store,
        &engine.templates,
        &transport,
        &demo_env.config.mail.from,
        &install,
        end,
    )?;

    println!(
        "loggkoll demo: the year {} in a made-up municipality",
        args.year
    );
    println!(
        "  {} people in {} units, {} rounds, {} cases ({} closed), {} answers",
        roster.people.len(),
        roster.units.len(),
        figures.rounds,
        figures.cases,
        figures.closed,
        figures.transitions - figures.cases
    );
    let results: Vec<String> = figures
        .results
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("  results: {}", results.join(", "));
    for (routine, c) in &figures.coverage {
        println!(
            "  coverage {routine}: {} of {} users reviewed ({:.0} %)",
            c.reviewed,
            c.present_all_year,
            c.share * 100.0
        );
    }
    println!();
    println!("Here is everything:");
    println!(
        "  roster        {}  {}",
        dir.join("units.csv").display(),
        dir.join("people.csv").display()
    );
    println!("  database      {}", db.display());
    println!(
        "  emails        {}/  ({} .eml files)",
        dir.join("outbox").display(),
        delivery.sent
    );
    println!();
    println!("Look around:");
    println!("  loggkoll --db {} case list --open", db.display());
    println!("  loggkoll --db {} round list", db.display());
    println!("  loggkoll --db {} audit verify", db.display());
    Ok(0)
}

/// A progress bar on a terminal; hidden otherwise.
fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar
}
