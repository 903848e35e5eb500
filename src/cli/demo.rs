//! `loggkoll demo`: a ready-made example for a first look. A synthetic municipality (units, a
//! few hundred people with accounts in NPÖ and Treserva) runs a whole year on a simulated clock
//! with answers down every path; the emails land as `.eml` files in an outbox folder. At the end
//! it prints where everything is.

use super::Env;
use super::ops::open_engine_on;
use crate::engine::Engine;
use crate::notify::sender::Delivery;
use crate::roster::Roster;
use crate::simulate::{org, run};
use crate::store::Store;
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
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

pub(super) fn run_cmd(env: &Env, args: DemoArgs) -> Result<u8> {
    let dir = args.dir.clone();
    // The routines and templates first: a folder that does not load leaves no half-built demo.
    check_library(env)?;
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
    crate::store::meta_set(store.db(), "install_seed", &format!("demo-{}", args.seed))?;
    let demo_env_config = demo_settings(env, &dir);
    let demo_config = write_demo_config(&dir, &demo_env_config)?;
    let demo_env = demo_environment(env, &db, demo_env_config);
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

    // The access log of the year as the record systems export it, a file a month; each is
    // imported on the morning after its last day, before the rounds of the 1st draw from it.
    let logs_dir = dir.join("logg");
    std::fs::create_dir_all(&logs_dir)?;
    let mut log = crate::simulate::logs::write_months(&roster, from, to, args.seed, &logs_dir)?;
    // The work a tidy log leaves out (substitutes on shifts elsewhere, night shifts,
    // handläggare across the organisation, clients who move), and the care relationships and
    // shifts that explain it, imported as the record and staffing systems export them.
    let context = crate::simulate::logs::add_the_everyday_mess(&roster, &mut log, args.seed, &dir)?;
    import_context(&mut engine, &context, start, tz)?;
    let clients = log.clients.clone();
    watch_two_clients(&mut engine, &roster, &clients, start, tz)?;

    let (figures, delivery) =
        simulate_year(&mut engine, &demo_env.config, &log, &args, (from, to))?;
    let end = crate::clock::resolve_local(to.and_hms_opt(23, 0, 0).unwrap_or_default(), tz);
    // The last month's export arrives after the year: imported too.
    import_last_month(&mut engine, &log, to, end, tz)?;

    // A client asks who has read their record this spring; the unit hands out the extract.
    engine.refresh_org()?;
    let archive = dir.join("arkiv");
    let extract = hand_out_extract(&mut engine, &clients, args.year, &archive, end, tz)?;

    // Review protocols of every case that went further than "no finding", and a few that did not.
    let chosen = crate::store::cases::closed_for_protocols(engine.store.db(), 10)?;
    let html_only = crate::records::files::Printer { chromium: None };
    for id in &chosen {
        crate::records::protocol::write(&mut engine, id, &archive, &html_only, "demo", end)?;
    }
    let protocols = chosen.len();

    // A review whose window shows flagged accesses, to look at.
    let sampled = crate::store::evidence::first_judged_case(engine.store.db(), "sampling")?;

    // The SAS's year-end summary (the tick also emailed it on 15 December).
    let summary =
        crate::records::annual::write(&engine, None, args.year, &dir.join("sammanstallning"), end)?;

    // How much of the year's log the rules explain.
    let explained = explained_figure(&engine, start, to, end, tz)?;

    // A login for the overview: quality staff, who see every page (an administrator would first
    // have to enrol a second factor).
    let password = demo_password(args.seed);
    add_demo_login(&mut engine, &password, end)?;

    let report = Report {
        year: args.year,
        dir: &dir,
        db: &db,
        demo_config: &demo_config,
        logs_dir: &logs_dir,
        archive: &archive,
        roster: &roster,
        figures: &figures,
        delivery: &delivery,
        log: &log,
        context: &context,
        explained: &explained,
        protocols,
        extract: extract.as_ref(),
        summary: &summary,
        sampled: sampled.as_deref(),
        password: &password,
    };
    print_figures(&engine, &report)?;
    print_files(&report);
    print_commands(&report);
    Ok(0)
}

/// Loads the routines and templates once, so that a folder that does not load stops the demo
/// before anything is written.
fn check_library(env: &Env) -> Result<()> {
    let templates = crate::templates::Library::load(&env.global.templates)?;
    crate::routine::loader::load_routines(
        &env.global.routines,
        &crate::routine::Context {
            templates: Some(&templates),
        },
    )?;
    Ok(())
}

/// The configuration the demo runs with: emails to its outbox, a made-up organisation unless
/// one is configured, and links that still work at the year's end.
fn demo_settings(env: &Env, dir: &Path) -> crate::config::Config {
    let mut demo_env_config = env.config.clone();
    demo_env_config.mail.url = format!("file://{}", dir.join("outbox").display());
    if demo_env_config.organisation == crate::config::Config::default().organisation {
        demo_env_config.organisation = "Exempelby kommun (demo)".into();
    }
    // December's reviews are left open for the newcomer at the printed `--now`, the year's
    // last day: their emailed links must still work then.
    demo_env_config.link_valid_days_after_deadline =
        demo_env_config.link_valid_days_after_deadline.max(30);
    demo_env_config
}

/// Writes `loggkoll.toml` in `dir` with what of `demo_env_config` a server started on the demo
/// needs; returns its path.
fn write_demo_config(dir: &Path, demo_env_config: &crate::config::Config) -> Result<PathBuf> {
    // The server started on the demo afterwards names the same organisation in its documents
    // and writes its emails beside the demo's.
    let demo_config = dir.join("loggkoll.toml");
    std::fs::write(
        &demo_config,
        format!(
            "# Written by `loggkoll demo`: the organisation its documents name, where its emails go, and\n# links that still work at the year's end.\norganisation = {}\n\n[mail]\nurl = {}\n\n[links]\nvalid_days_after_deadline = {}\n",
            toml_string(&demo_env_config.organisation),
            toml_string(&demo_env_config.mail.url),
            demo_env_config.link_valid_days_after_deadline,
        ),
    )
    .map_err(|e| Error::runtime(format!("{}: {e}", demo_config.display())))?;
    Ok(demo_config)
}

/// The environment of the demo: `env`'s folders and flags with the demo's database and
/// configuration.
fn demo_environment(env: &Env, db: &Path, config: crate::config::Config) -> Env {
    Env {
        global: super::Global {
            db: db.to_path_buf(),
            routines_flag: env.global.routines_flag.clone(),
            templates_flag: env.global.templates_flag.clone(),
            formats_flag: env.global.formats_flag.clone(),
            routines: env.global.routines.clone(),
            formats: env.global.formats.clone(),
            templates: env.global.templates.clone(),
            embedded: env.global.embedded,
            routines_embedded: env.global.routines_embedded,
            templates_embedded: env.global.templates_embedded,
            config: env.global.config.clone(),
            now: env.global.now.clone(),
        },
        config,
    }
}

/// Imports the care relationships and shifts the synthetic log's context was written with.
fn import_context(
    engine: &mut Engine,
    context: &crate::simulate::logs::Context,
    start: DateTime<Utc>,
    tz: Tz,
) -> Result<()> {
    for (kind, path) in [
        (
            crate::engine::relations::Kind::Relations,
            &context.relations,
        ),
        (crate::engine::relations::Kind::Shifts, &context.shifts),
    ] {
        crate::engine::relations::import_file(
            &mut engine.store,
            kind,
            path,
            None,
            "demo",
            start,
            tz,
        )?;
    }
    Ok(())
}

/// Puts two clients on the watch list, by an operations manager: one of media interest, one
/// with protected identity.
fn watch_two_clients(
    engine: &mut Engine,
    roster: &Roster,
    clients: &BTreeMap<String, Vec<crate::simulate::logs::Client>>,
    start: DateTime<Utc>,
    tz: Tz,
) -> Result<()> {
    let watched: Vec<(String, &str)> = clients
        .values()
        .next()
        .map(|list| {
            vec![
                (list[1].number.clone(), "Massmedialt uppmärksammad"),
                (list[2].number.clone(), "Skyddad identitet"),
            ]
        })
        .unwrap_or_default();
    let watcher = roster
        .people
        .iter()
        .find(|p| {
            p.roles
                .iter()
                .any(|r| r.role == crate::roster::Role::OperationsManager)
        })
        .map(|p| p.id.clone());
    if let Some(by) = &watcher {
        for (client, reason) in &watched {
            crate::engine::watch::add(
                &mut engine.store,
                client,
                reason,
                None,
                crate::engine::watch::By::Person(by),
                tz,
                start,
            )?;
        }
    }
    Ok(())
}

/// Runs the year `period` (its first and last day) on the simulated clock, sending its emails
/// as it goes; returns the run's figures and what was delivered.
fn simulate_year(
    engine: &mut Engine,
    config: &crate::config::Config,
    log: &crate::simulate::logs::Written,
    args: &DemoArgs,
    period: (NaiveDate, NaiveDate),
) -> Result<(run::Figures, Delivery)> {
    let (from, to) = period;
    // The year. Its emails go out as it goes, in the send hours, each on the day a mail server
    // would have received it: a reminder says what was true that day, and an email whose step
    // was answered before it went out is withdrawn, as on a real server.
    let transport = crate::notify::Transport::from_url(&config.mail.url)?;
    let install = engine.install_id();
    let templates = crate::templates::Library::load(&engine.templates.dir)?;
    let sending = crate::notify::sender::Sending::new(config, &templates, &transport, &install);
    let mut delivery = Delivery::default();
    let days = (to - from).num_days().max(0) as u64 + 1;
    let bar = progress(days, "simulating the year");
    let figures = run::run_with(
        engine,
        &run::Options {
            from,
            to,
            seed: args.seed,
            ad_hoc_per_1000: 40.0,
            logs: log.files.clone(),
            // People answer on working days, in Swedish, as the evidence says; December's
            // round is left for whoever opens the demo.
            story: true,
            leave_open_after: NaiveDate::from_ymd_opt(args.year, 11, 30),
        },
        |day| {
            bar.set_position((day - from).num_days().max(0) as u64);
            bar.set_message(day.to_string());
        },
        |engine, at| {
            let d = crate::notify::sender::deliver(&mut engine.store, &sending, at)?;
            delivery.sent += d.sent;
            delivery.withdrawn += d.withdrawn;
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    Ok((figures, delivery))
}

/// Imports the last month's export of `log` when it ends on `to`, the year's last day (it
/// arrives after the year).
fn import_last_month(
    engine: &mut Engine,
    log: &crate::simulate::logs::Written,
    to: NaiveDate,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<()> {
    if let Some(last) = log.files.last()
        && last.to == to
    {
        let rules = crate::records::logs::retention_rules(&engine.routines);
        let midnight =
            |d: NaiveDate| crate::clock::resolve_local(d.and_time(chrono::NaiveTime::MIN), tz);
        crate::records::logs::import(
            &mut engine.store,
            &last.path,
            &crate::records::logs::ImportOptions {
                system: None,
                retention: &rules,
                tz,
                now: end,
                actor: "demo",
                period: Some((
                    midnight(last.from),
                    midnight(last.to + chrono::Days::new(1)),
                )),
                format: None,
                formats: &[],
                max_value: crate::records::logs::MAX_VALUE,
            },
        )?;
    }
    Ok(())
}

/// Opens a log extract for the first client of the first unit (March to May of `year`), hands
/// it out and files it in `archive`; returns the case and its files, or nothing when the unit
/// has no clients or no operations manager.
fn hand_out_extract(
    engine: &mut Engine,
    clients: &BTreeMap<String, Vec<crate::simulate::logs::Client>>,
    year: i32,
    archive: &Path,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<Option<(String, crate::records::files::Written)>> {
    let printer = super::report::printer();
    let extract = match clients.iter().next() {
        Some((unit, list)) if !list.is_empty() => {
            let day = end.with_timezone(&tz).date_naive();
            let by = engine
                .org()
                .holders(crate::roster::Role::OperationsManager, unit, day)
                .first()
                .map(|s| s.to_string());
            match by {
                Some(by) => {
                    let month = |m: u32| {
                        NaiveDate::from_ymd_opt(year, m, 1).map(|d| {
                            crate::clock::resolve_local(d.and_time(chrono::NaiveTime::MIN), tz)
                        })
                    };
                    let id = engine.open_case(
                        &crate::engine::OpenRequest {
                            routine: "log-extract".into(),
                            unit: unit.clone(),
                            by,
                            client: Some(list[0].number.clone()),
                            from: month(3),
                            to: month(6),
                            reason: Some("Kunden begär loggutdrag för mars–maj".into()),
                            ..Default::default()
                        },
                        end,
                    )?;
                    if let Some(task) = crate::store::cases::open_task(engine.store.db(), &id)?
                        && let Some(assignee) = task.assignee_id
                    {
                        engine.answer(
                            &crate::engine::AnswerRequest::new(&id, "handed_out", &assignee)
                                .comment(Some("Lämnat till kunden")),
                            end,
                        )?;
                    }
                    let written = crate::records::extract::write(
                        engine, &id, archive, &printer, "demo", end,
                    )?;
                    Some((id, written))
                }
                None => None,
            }
        }
        _ => None,
    };
    Ok(extract)
}

/// How much of the year up to `to` the rules explain, from `start`.
fn explained_figure(
    engine: &Engine,
    start: DateTime<Utc>,
    to: NaiveDate,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<crate::evidence::explained::Figure> {
    let routines: Vec<&crate::routine::Routine> = engine.routines.iter().collect();
    crate::evidence::explained::figure(
        engine.store.db(),
        engine.org(),
        &routines,
        &crate::evidence::radar::Scope {
            from: start,
            to: crate::clock::resolve_local(
                (to + chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN),
                tz,
            ),
            system: None,
            tz,
        },
        end,
    )
}

/// Adds the demo's login for the overview: `demo` with `password`, as quality staff.
fn add_demo_login(engine: &mut Engine, password: &str, end: DateTime<Utc>) -> Result<()> {
    let hash = crate::web::password::hash(password)?;
    let tx = engine.store.write()?;
    crate::store::web::add_user(&tx, "demo", &hash, crate::store::web::WebRole::Quality, end)?;
    tx.commit()?;
    Ok(())
}

/// What the demo made, for the report it prints at the end.
struct Report<'a> {
    year: i32,
    dir: &'a Path,
    db: &'a Path,
    demo_config: &'a Path,
    logs_dir: &'a Path,
    archive: &'a Path,
    roster: &'a Roster,
    figures: &'a run::Figures,
    delivery: &'a Delivery,
    log: &'a crate::simulate::logs::Written,
    context: &'a crate::simulate::logs::Context,
    explained: &'a crate::evidence::explained::Figure,
    protocols: usize,
    extract: Option<&'a (String, crate::records::files::Written)>,
    summary: &'a [PathBuf],
    sampled: Option<&'a str>,
    password: &'a str,
}

/// Prints the report's heading and the year's figures, with the database's cases as they stand.
fn print_figures(engine: &Engine, report: &Report) -> Result<()> {
    let figures = report.figures;
    println!(
        "loggkoll demo: the year {} in a made-up municipality",
        report.year
    );
    // The database as it stands now (the extract after the year included).
    let (cases, closed) = (
        crate::store::stats::count(engine.store.db(), crate::store::stats::Count::Cases)?,
        crate::store::stats::count(engine.store.db(), crate::store::stats::Count::ClosedCases)?,
    );
    println!(
        "  {} people in {} units, {} rounds, {cases} cases ({closed} closed, {} open), {} answers",
        report.roster.people.len(),
        report.roster.units.len(),
        figures.rounds,
        cases - closed,
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
    Ok(())
}

/// Prints where every file of the demo is.
fn print_files(report: &Report) {
    let (dir, log, context, explained) = (report.dir, report.log, report.context, report.explained);
    let log_rows: u64 = log.files.iter().map(|f| f.rows).sum();
    println!();
    println!("Here is everything:");
    println!(
        "  roster        {}  {}",
        dir.join("units.csv").display(),
        dir.join("people.csv").display()
    );
    println!("  database      {}", report.db.display());
    println!(
        "  emails        {}/  ({} .eml files)",
        dir.join("outbox").display(),
        report.delivery.sent
    );
    println!(
        "  access log    {}/accesslog-{}-MM.csv  ({log_rows} rows, imported month by month)",
        report.logs_dir.display(),
        report.year
    );
    let planted: Vec<String> = log
        .planted
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "                planted for the review to find: {}; {} accesses judged",
        planted.join(", "),
        report.figures.judged
    );
    let added: Vec<String> = context
        .added
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "                everyday work a tidy log leaves out: {}",
        added.join(", ")
    );
    println!(
        "  explained     {} of the year's accesses have a reason in the care relationships ({}), shifts ({}), units or notes; {} flagged; a drawn day leaves {} to judge (median)",
        explained.share_sv(),
        context.relations.display(),
        context.shifts.display(),
        explained.flagged_sv(),
        explained.to_judge_median
    );
    println!(
        "  protocols     {}/CASE/granskningsprotokoll-CASE.html  ({} cases)",
        report.archive.display(),
        report.protocols
    );
    if let Some((id, written)) = report.extract {
        println!(
            "  extract       {}  (case {id}, filed with arende.json)",
            written.html.display()
        );
        if let Some(pdf) = &written.pdf {
            println!("                {}", pdf.display());
        }
    }
    for path in report.summary {
        println!("  summary       {}", path.display());
    }
}

/// Prints how to open the overview on the demo and the commands to look around with.
fn print_commands(report: &Report) {
    let (db, year) = (report.db, report.year);
    println!();
    // The commands as they run here: `loggkoll` when installed, else through cargo.
    let prog = program_name();
    println!(
        "The overview (log in as `demo`, password `{}`):",
        report.password
    );
    println!(
        "  {prog} --db {} --config {} serve --now {}-12-31T12:00    then open http://127.0.0.1:8080/",
        db.display(),
        report.demo_config.display(),
        year
    );
    println!();
    println!("Look around:");
    println!("  {prog} --db {} case list --open", db.display());
    println!("  {prog} --db {} round list", db.display());
    println!("  {prog} --db {} audit verify", db.display());
    println!(
        "  {prog} --db {} radar --from {}-12-01 --to {}-12-31 --now {}-12-31T12:00",
        db.display(),
        year,
        year,
        year
    );
    println!(
        "  {prog} --db {} logs explained --from {}-01-01 --to {}-12-31 --now {}-12-31T12:00",
        db.display(),
        year,
        year,
        year
    );
    if let Some(case) = report.sampled {
        println!(
            "  {prog} --db {} case evidence {case} --now {}-12-31T12:00",
            db.display(),
            year
        );
    }
}

/// The demo login's password: readable, long enough, the same for the same seed.
fn demo_password(seed: u64) -> String {
    const WORDS: [&str; 8] = [
        "lingon", "granit", "vinter", "kaffe", "skog", "älv", "fjäll", "måne",
    ];
    let pick = |i: u64| WORDS[((seed.wrapping_mul(0x9e37_79b9) >> (i * 3)) % 8) as usize];
    format!("{}-{}-{}-{}", pick(0), pick(1), pick(2), seed % 100)
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

/// `text` as a TOML string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// How to run loggkoll as this process was run: `loggkoll` when it is the installed binary (on
/// the PATH), else `cargo run --release --` (a build in a checkout's `target/`).
fn program_name() -> String {
    let in_target = std::env::current_exe()
        .ok()
        .is_some_and(|exe| exe.components().any(|c| c.as_os_str() == "target"));
    if in_target {
        "cargo run --release --".to_string()
    } else {
        "loggkoll".to_string()
    }
}
