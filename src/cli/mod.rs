//! The command line of `../shared/CLI.md`: the clap definitions live here, one module per group
//! of commands does the work. Every command returns `Result<Exit>`; this module prints errors to
//! stderr and maps them to exit codes (0 done, 1 invalid, 2 usage or refused input, 3 runtime).

mod check;
mod context;
mod demo;
mod graph;
mod migrate;
pub(crate) mod ops;
pub(crate) mod report;
mod review;
mod rights;
mod serve;
mod simulate;
mod user;

use crate::config::Config;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "loggkoll",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("LOGGKOLL_COMMIT"), ")"),
    about = "Runs the access-log review routines (loggkontroll) of care and social-services providers",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The database file; created and migrated on first use.
    #[arg(
        long,
        global = true,
        env = "LOGGKOLL_DB",
        default_value = "loggkoll.db"
    )]
    pub db: PathBuf,
    /// The folder of routine files [default: ./routines when present, else the embedded ones]
    #[arg(long = "routines", global = true, value_name = "ROUTINES")]
    pub routines_flag: Option<PathBuf>,
    /// The folder of templates [default: ./templates when present, else the embedded ones]
    #[arg(long = "templates", global = true, value_name = "TEMPLATES")]
    pub templates_flag: Option<PathBuf>,
    /// The folder of log formats [default: `[logs] formats` or LOGGKOLL_FORMATS, else ./formats when present, else the embedded ones]
    #[arg(long = "formats", global = true, value_name = "FORMATS")]
    pub formats_flag: Option<PathBuf>,
    /// The routines folder in use (resolved from `--routines`, `./routines` or the embedded set).
    #[arg(skip)]
    pub routines: PathBuf,
    /// The log formats folder in use.
    #[arg(skip)]
    pub formats: PathBuf,
    /// The templates folder in use.
    #[arg(skip)]
    pub templates: PathBuf,
    /// Whether either folder is the embedded set.
    #[arg(skip)]
    pub embedded: bool,
    /// Whether the routines are the embedded set (the workshop has no folder to write into).
    #[arg(skip)]
    pub routines_embedded: bool,
    /// Whether the templates are the embedded set.
    #[arg(skip)]
    pub templates_embedded: bool,
    /// The configuration file (default: ./loggkoll.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Act as if it were this time: RFC 3339 or a local date-time in the configured zone.
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate routine files or folders (default: the routines folder) and their templates.
    Check(check::CheckArgs),
    /// Print the compiled state graph of a routine (by id or file path).
    Graph(graph::GraphArgs),
    /// Explain a routine in plain Swedish: runs, sample size, yearly review chance, deadlines.
    Explain(graph::ExplainArgs),
    /// The roster of units and people.
    #[command(subcommand)]
    Roster(ops::RosterCommand),
    /// The needs-and-risk analysis (behovs- och riskanalys) access rights are decided after.
    #[command(subcommand)]
    Rights(rights::RightsCommand),
    /// Care relationships (insats, beslut, vårdkontakt, ansvarig handläggare) that explain accesses.
    #[command(subcommand)]
    Relations(context::RelationsCommand),
    /// Work shifts from the staffing system, that explain accesses.
    #[command(subcommand)]
    Shifts(context::ShiftsCommand),
    /// Do everything due up to now, once: rounds, reminders, escalations.
    Tick(ops::TickArgs),
    /// Cases: list, show, answer, open.
    #[command(subcommand)]
    Case(ops::CaseCommand),
    /// Sampling rounds: list, show, redraw.
    #[command(subcommand)]
    Round(ops::RoundCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(ops::AuditCommand),
    /// Queued, sent and failed emails.
    #[command(subcommand)]
    Outbox(ops::OutboxCommand),
    /// A synthetic organisation run on a simulated clock; prints figures.
    Simulate(simulate::SimulateArgs),
    /// A ready-made example: a synthetic municipality's year, emails in an outbox folder.
    Demo(demo::DemoArgs),
    /// Write the embedded routines, templates and log formats into DIR for editing (never overwrites).
    Init(InitArgs),
    /// Delegations of a role to a deputy.
    #[command(subcommand)]
    Delegation(ops::DelegationCommand),
    /// Review protocols, log-extract letters and the yearly summary.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Access logs exported from the record systems.
    #[command(subcommand)]
    Logs(report::LogsCommand),
    /// Delete what is past its retention period, keeping a record of the purge.
    Purge(report::PurgeArgs),
    /// The scheduler and the web server together (task pages, the overview).
    Serve(serve::ServeArgs),
    /// Local accounts of quality staff for the web overview.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Copy a whole installation into a new, empty database (SQLite to PostgreSQL).
    Migrate(migrate::MigrateArgs),
    /// The watch list: clients whose records call for attention.
    #[command(subcommand)]
    Watch(review::WatchCommand),
    /// Users ranked by flagged and unexplained accesses in a period.
    Radar(review::RadarArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to stdout, or write one page per command into a folder.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `loggkoll.1` and one `loggkoll-COMMAND.1` per command into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// What the caller needs beyond the arguments: configuration and the clock.
pub(crate) struct Env {
    pub global: Global,
    pub config: Config,
}

impl Env {
    /// `--now` or the real clock; only the edges read the wall clock.
    pub(crate) fn now(&self) -> Result<DateTime<Utc>> {
        match &self.global.now {
            Some(text) => crate::clock::parse_time(text, self.config.timezone)
                .map_err(|m| Error::usage(format!("--now: {m}"))),
            None => Ok(Utc::now()),
        }
    }
}

pub fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as command-line tools do, instead of panicking.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", terminal_safe(&err.to_string()));
            ExitCode::from(err.exit_code())
        }
    }
}

pub use crate::error::terminal_safe;

/// A stored instant (RFC 3339) as people read it on the command line: local time in `tz` with
/// the zone, `2026-11-01 00:00 CET`; anything else as it is.
pub(crate) fn local_time(stored: &str, tz: chrono_tz::Tz) -> String {
    crate::store::parse_ts(stored)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_else(|_| stored.to_string())
}

/// `println!` through [`terminal_safe`]: for lines that show what an export said.
macro_rules! outln {
    () => { println!() };
    ($($arg:tt)*) => { println!("{}", $crate::cli::terminal_safe(&format!($($arg)*))) };
}
/// `eprintln!` through [`terminal_safe`].
macro_rules! errln {
    ($($arg:tt)*) => { eprintln!("{}", $crate::cli::terminal_safe(&format!($($arg)*))) };
}
pub(crate) use {errln, outln};

/// `--routines`/`--templates` when given; else `./routines` and `./templates` when present;
/// else the embedded set, said on stderr so that it never hides a folder that was meant.
fn resolve_folders(global: &mut Global, config: &Config) -> Result<()> {
    let here = |name: &str| {
        let p = PathBuf::from(name);
        p.is_dir().then_some(p)
    };
    let routines = global.routines_flag.clone().or_else(|| here("routines"));
    let templates = global.templates_flag.clone().or_else(|| here("templates"));
    // The configured folder must be there: a typo would otherwise read the shipped formats.
    let configured = match (&global.formats_flag, &config.logs_formats) {
        (None, Some(dir)) if !dir.is_dir() => {
            return Err(Error::usage(format!(
                "logs.formats (or LOGGKOLL_FORMATS): `{}` is not a folder",
                dir.display()
            )));
        }
        (None, Some(dir)) => Some(dir.clone()),
        _ => None,
    };
    let formats = global
        .formats_flag
        .clone()
        .or(configured)
        .or_else(|| here("formats"));
    if let Some(f) = &formats {
        global.formats = f.clone();
    }
    if routines.is_none() || templates.is_none() || formats.is_none() {
        let embedded = crate::embedded::folder()?;
        if formats.is_none() {
            global.formats = embedded.join("formats");
        }
        if routines.is_some() && templates.is_some() {
            // Our own routines with the shipped log formats: said where it matters (`check`,
            // `logs import`), not on every command.
            global.routines = routines.unwrap_or_default();
            global.templates = templates.unwrap_or_default();
            return Ok(());
        }
        let which: Vec<&str> = [
            routines.is_none().then_some("routines"),
            templates.is_none().then_some("templates"),
        ]
        .into_iter()
        .flatten()
        .collect();
        eprintln!(
            "using the embedded {} (no ./{} here; `loggkoll init DIR` writes them out for editing)",
            which.join(" and "),
            which.join(" or ./")
        );
        global.embedded = true;
        global.routines_embedded = routines.is_none();
        global.templates_embedded = templates.is_none();
        global.routines = routines.unwrap_or_else(|| embedded.join("routines"));
        global.templates = templates.unwrap_or_else(|| embedded.join("templates"));
    } else {
        global.routines = routines.unwrap_or_default();
        global.templates = templates.unwrap_or_default();
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write `routines/`, `templates/` and `formats/` into (created when missing),
    /// with an example `units.csv`, `people.csv` and `loggkoll.toml`.
    pub dir: PathBuf,
    /// Only the routines, templates and formats: no example roster or configuration (the Debian
    /// package's first install).
    #[arg(long)]
    pub no_examples: bool,
}

/// `loggkoll init DIR`.
/// What `init` writes besides the embedded set: an example roster and a configuration to start
/// from, each commented.
const STARTERS: [(&str, &str); 3] = [
    ("units.csv", include_str!("init/units.csv")),
    ("people.csv", include_str!("init/people.csv")),
    ("loggkoll.toml", include_str!("init/loggkoll.toml")),
];

fn init(args: InitArgs) -> Result<u8> {
    let starters: &[(&str, &str)] = if args.no_examples { &[] } else { &STARTERS };
    // Never over a file of someone's: checked before anything is written.
    if let Some((name, _)) = starters
        .iter()
        .find(|(name, _)| args.dir.join(name).exists())
    {
        return Err(Error::bad_input(format!(
            "`{}` exists already; nothing was written (init never overwrites: pick an empty folder)",
            args.dir.join(name).display()
        )));
    }
    let written = crate::embedded::init(&args.dir)?;
    if args.no_examples {
        eprintln!(
            "wrote {} files into {} (routines/, templates/ and formats/)",
            written.len(),
            args.dir.display()
        );
        return Ok(0);
    }
    for (name, text) in STARTERS {
        let path = args.dir.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .map_err(|e| Error::runtime(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let dir = args.dir.display();
    eprintln!(
        "wrote {} files into {dir} (routines/, templates/, formats/, an example roster and loggkoll.toml). Next, in {dir}:\n  \
         loggkoll check                                   the routines, templates and formats\n  \
         loggkoll roster import --units units.csv --people people.csv   (the example; then your own)\n  \
         loggkoll tick                                    says when each routine first runs\n  \
         loggkoll serve                                   the overview (add a login first: loggkoll user add NAME --role admin)",
        written.len() + STARTERS.len(),
    );
    Ok(0)
}

/// Runs a parsed command line; returns the exit code for success-like outcomes (`check` with
/// errors returns 1 without an `Err`, having printed its diagnostics).
pub fn run(cli: Cli) -> Result<u8> {
    // These two describe the program itself: no configuration, database or folders.
    match &cli.command {
        Command::Completions(args) => return completions(args),
        Command::Man(args) => return man(args),
        _ => {}
    }
    let config = Config::load(cli.global.config.as_deref(), &|key| std::env::var(key).ok())?;
    let mut global = cli.global;
    let needs_folders = !matches!(
        cli.command,
        Command::Init(_) | Command::User(_) | Command::Migrate(_)
    );
    if needs_folders {
        resolve_folders(&mut global, &config)?;
    }
    let env = Env { global, config };
    let db = env.global.db.clone();
    let done = match cli.command {
        Command::Check(args) => check::run(&env, args),
        Command::Graph(args) => graph::graph(&env, args),
        Command::Explain(args) => graph::explain(&env, args),
        Command::Roster(cmd) => ops::roster(&env, cmd),
        Command::Rights(cmd) => rights::rights(&env, cmd),
        Command::Relations(cmd) => context::relations(&env, cmd),
        Command::Shifts(cmd) => context::shifts(&env, cmd),
        Command::Tick(args) => ops::tick(&env, args),
        Command::Case(cmd) => ops::case(&env, cmd),
        Command::Round(cmd) => ops::round(&env, cmd),
        Command::Audit(cmd) => ops::audit_cmd(&env, cmd),
        Command::Outbox(cmd) => ops::outbox_cmd(&env, cmd),
        Command::Delegation(cmd) => ops::delegation(&env, cmd),
        Command::Simulate(args) => simulate::run_cmd(&env, args),
        Command::Demo(args) => demo::run_cmd(&env, args),
        Command::Init(args) => init(args),
        Command::Report(cmd) => report::report_cmd(&env, cmd),
        Command::Logs(cmd) => report::logs_cmd(&env, cmd),
        Command::Purge(args) => report::purge_cmd(&env, args),
        Command::Serve(args) => serve::run(&env, args),
        Command::User(cmd) => user::run(&env, cmd),
        Command::Migrate(args) => migrate::run(&args),
        Command::Watch(cmd) => review::watch(&env, cmd),
        Command::Radar(args) => review::radar(&env, args),
        Command::Completions(args) => completions(&args),
        Command::Man(args) => man(&args),
    };
    done.map_err(|e| e.naming_database(&db))
}

/// `loggkoll completions SHELL`: the script on stdout.
fn completions(args: &CompletionsArgs) -> Result<u8> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "loggkoll", &mut std::io::stdout());
    Ok(0)
}

/// `loggkoll man [--out DIR]`: the manual page on stdout, or a page per command in DIR.
fn man(args: &ManArgs) -> Result<u8> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    match &args.out {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| Error::runtime(format!("could not render the manual page: {e}")))?;
            std::io::Write::write_all(&mut std::io::stdout(), &out)
                .map_err(|e| Error::runtime(format!("could not write the manual page: {e}")))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::runtime(format!("could not create `{}`: {e}", dir.display()))
            })?;
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                Error::runtime(format!(
                    "could not write manual pages into `{}`: {e}",
                    dir.display()
                ))
            })?;
            println!("wrote manual pages into {}", dir.display());
        }
    }
    Ok(0)
}
