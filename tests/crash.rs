//! Crash safety of `tick` (issue: "a crash test that kills the process with SIGKILL at 50 or more
//! random moments during a large tick and checks after a rerun: the same number of cases as an
//! uninterrupted run, no duplicate (round, user), audit chain intact").
//!
//! A synthetic organisation is imported at 2027-01-01 into a fresh database, with the shipped
//! routines switched to `catch_up: all`, so that one `tick` at 2027-04-02 draws five rounds (four
//! of Treserva, one of NPÖ: one transaction each), opens a case per drawn user and delivers every
//! email as an `.eml` file. An uninterrupted run on a copy of the fresh database is the reference.
//! Then, for each kill point, another copy is ticked, the process is killed with SIGKILL after a
//! seeded random delay spread over the reference's duration, and the same tick is run again to
//! completion. Its database must then equal the reference's table by table — the same rounds, the
//! same users drawn (the round seed derives from the installation seed, which the copies share),
//! the same cases, tasks, timers, outbox rows and audit chain — and the invariants are checked on
//! their own too, so that a failure names what broke. A second rerun must change nothing.
//!
//! A kill counts as landing mid-work when the killed process reports SIGKILL as its end (a child
//! that had already exited is a zombie until reaped, ignores the signal and reports its own exit
//! status); where it landed is told by what the rerun still had to do. The distribution is
//! printed (`--nocapture`). The installation's secrets are fixed from the test's seed, so a run
//! is reproducible but for timing: `LOGGKOLL_CRASH_SEED=N` replays one seed.
//!
//! With `LOGGKOLL_TEST_POSTGRES` set (`support/backend.rs`) the same runs happen on PostgreSQL:
//! the fresh database is a database of its own there, each run's copy is made from it as a
//! template, and a killed tick's connection ends with it (its transaction rolled back, its
//! locks released by the server).

#[path = "support/backend.rs"]
mod backend;
mod support;

use backend::sql;
use loggkoll::store::Db;
use loggkoll::store::db::Owned;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// When the roster is imported: the first scheduled occurrences follow it.
const IMPORTED: &str = "2027-01-01T00:00";
/// The large tick: Treserva's rounds of 1 January, February, March and April, NPÖ's of 1 March.
const NOW: &str = "2027-04-02T08:00";
/// `mail.from` when nothing configures it: Message-IDs, and so file names, are made with it.
const MAIL_FROM: &str = "loggkoll@example.se";

/// The tables a tick writes or reads, each dumped in a stable order to compare runs.
const TABLES: &[(&str, &str)] = &[
    ("meta", "SELECT * FROM meta ORDER BY key"),
    (
        "routine_versions",
        "SELECT * FROM routine_versions ORDER BY hash",
    ),
    ("schedule_state", "SELECT * FROM schedule_state ORDER BY 1"),
    ("rounds", "SELECT * FROM rounds ORDER BY id"),
    (
        "round_members",
        "SELECT * FROM round_members ORDER BY round_id, person_id",
    ),
    ("case_counters", "SELECT * FROM case_counters ORDER BY 1, 2"),
    ("cases", "SELECT * FROM cases ORDER BY id"),
    ("tasks", "SELECT * FROM tasks ORDER BY id"),
    ("timers", "SELECT * FROM timers ORDER BY id"),
    ("outbox", "SELECT * FROM outbox ORDER BY id"),
    ("audit", "SELECT * FROM audit ORDER BY seq"),
    (
        "audit_personal",
        "SELECT * FROM audit_personal ORDER BY seq",
    ),
];

struct Scenario {
    users: usize,
    units: usize,
    kills: usize,
    /// At least this many kills must land on a process that had not finished.
    min_interrupted: usize,
    seed: u64,
}

#[test]
fn a_tick_killed_at_50_random_moments_ends_as_an_uninterrupted_one() {
    crash_test(&Scenario {
        users: 1500,
        units: 30,
        kills: 50,
        min_interrupted: 30,
        seed: 20270402,
    });
}

#[test]
#[ignore = "large (8000 users, about 4 minutes): run with `cargo test --test crash -- --ignored`"]
fn a_large_tick_killed_at_50_random_moments_ends_as_an_uninterrupted_one() {
    crash_test(&Scenario {
        users: 8000,
        units: 160,
        kills: 50,
        min_interrupted: 30,
        seed: 8000160,
    });
}

fn crash_test(scenario: &Scenario) {
    let started = Instant::now();
    let seed = std::env::var("LOGGKOLL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(scenario.seed);
    let work = Workspace::new(scenario.users, scenario.units, seed);

    // The reference: the same tick, uninterrupted.
    let reference = work.run_dir("reference");
    let clock = Instant::now();
    let run = reference.tick();
    let first = clock.elapsed();
    assert_eq!(run.code, 0, "the reference tick failed:\n{}", run.stderr);
    let expected = reference.snapshot();
    // The first run pays for cold caches (a debug binary of 100 MB): the kills are spread over
    // the quicker of two uninterrupted runs, so that few of them come after the end.
    let timing = work.run_dir("timing");
    let clock = Instant::now();
    let run = timing.tick();
    let duration = clock.elapsed().min(first);
    assert_eq!(run.code, 0, "the timing tick failed:\n{}", run.stderr);
    assert_eq!(
        timing.snapshot().differences(&expected, "the reference"),
        Vec::<String>::new(),
        "two uninterrupted runs on copies of one database differ"
    );
    work.remove(&timing);
    let rounds = expected.count("rounds");
    let cases = expected.count("cases");
    let outbox = expected.count("outbox");
    assert_eq!(
        rounds, 6,
        "the scenario draws 4 Treserva and 1 NPÖ round, and opens the access-rights review"
    );
    assert!(cases > 0, "the reference drew no one");
    assert!(outbox >= cases, "every case tells someone");
    assert_eq!(expected.eml.len(), outbox, "one `.eml` file per message");
    assert_eq!(
        invariant_problems(&reference, &expected),
        Vec::<String>::new()
    );
    eprintln!(
        "reference: {} users, {rounds} rounds, {cases} cases, {outbox} emails; tick {:.2} s \
         (first run {:.2} s); seed {seed}",
        scenario.users,
        duration.as_secs_f64(),
        first.as_secs_f64()
    );

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut kills: Vec<Kill> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut interrupted = 0;
    // At least `kills` kills; more while too few landed mid-work (a loaded machine runs the
    // reference slower than the kills' runs), up to twice as many.
    // The kills are spread over `window`: the reference's duration at first, then the shortest
    // run seen to end before its kill, since the machine's load changes while the test runs.
    let mut window = duration;
    let mut k = 0;
    while k < scenario.kills || (interrupted < scenario.min_interrupted && k < 2 * scenario.kills) {
        let delay = Duration::from_micros(
            rng.random_range(0..=u64::try_from(window.as_micros()).unwrap_or(u64::MAX)),
        );
        let dir = work.run_dir(&format!("kill-{k:02}"));
        let (kill, problems) = kill_and_rerun(&dir, delay, &expected);
        if !problems.is_empty() {
            failures.push(format!(
                "kill {k} after {:.3} s ({}):\n  {}",
                delay.as_secs_f64(),
                kill.phase.describe(rounds),
                problems.join("\n  ")
            ));
        } else {
            work.remove(&dir);
        }
        if kill.phase != Phase::Finished {
            interrupted += 1;
        }
        if let Some(ran) = kill.ended_after {
            window = window.min(ran);
        }
        kills.push(kill);
        k += 1;
    }

    let mut distribution: BTreeMap<Phase, usize> = BTreeMap::new();
    for kill in &kills {
        *distribution.entry(kill.phase).or_default() += 1;
    }
    let mut report = String::new();
    for (phase, n) in &distribution {
        let _ = writeln!(report, "  {n:3} × {}", phase.describe(rounds));
    }
    let leftovers: usize = kills.iter().map(|k| k.temp_files).sum();
    eprintln!(
        "{} kills in {:.1} s:\n{report}  {leftovers} temporary `.eml` files left behind by kills",
        kills.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let kept = work.keep();
        panic!(
            "{} of {} kills left a database that a rerun did not bring to the reference \
             (seed {seed}; runs kept in {}):\n{}",
            failures.len(),
            kills.len(),
            kept.display(),
            failures.join("\n")
        );
    }
    assert!(
        interrupted >= scenario.min_interrupted,
        "only {interrupted} of {} kills interrupted a running tick (at least {} must):\n{report}",
        kills.len(),
        scenario.min_interrupted
    );
    work.remove(&reference);
    if let Some((admin, fresh)) = &work.postgres {
        sql(admin, &format!("DROP DATABASE IF EXISTS {fresh}"));
    }
}

/// Where a kill landed, told by what the rerun still had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Starting, opening the database and the engine: the rerun drew every round.
    BeforeFirstRound,
    /// After this many rounds were committed.
    BetweenRounds(usize),
    /// Every round committed, emails being delivered.
    Delivering,
    /// Every email marked sent, the process not yet gone.
    AfterDelivery,
    /// The process had exited before the kill.
    Finished,
    /// The rerun failed, so what was left to do is not known.
    Unknown,
}

impl Phase {
    fn describe(self, rounds: usize) -> String {
        match self {
            Phase::BeforeFirstRound => "before the first round was committed".into(),
            Phase::BetweenRounds(n) => format!("after {n} of {rounds} rounds"),
            Phase::Delivering => "while delivering emails".into(),
            Phase::AfterDelivery => "after delivery, before exit".into(),
            Phase::Finished => "after the process had finished".into(),
            Phase::Unknown => "somewhere (the rerun failed)".into(),
        }
    }
}

struct Kill {
    phase: Phase,
    /// Hidden temporary files of the `.eml` writer left in the outbox folder.
    temp_files: usize,
    /// How long the tick ran when it ended before the kill.
    ended_after: Option<Duration>,
}

/// How often a tick waiting to be killed is looked at.
const POLL: Duration = Duration::from_millis(2);

/// Starts `tick` on `dir`, kills it after `delay`, runs it again, checks the outcome.
fn kill_and_rerun(dir: &RunDir, delay: Duration, expected: &Snapshot) -> (Kill, Vec<String>) {
    let mut problems = Vec::new();
    let mut child = dir.spawn_tick();
    let spawned = Instant::now();
    // Wait for the moment of the kill, noticing a tick that ends before it (and when).
    let mut ended_after = None;
    let mut status = None;
    while status.is_none() && spawned.elapsed() < delay {
        match child.try_wait().expect("poll the tick") {
            Some(s) => {
                ended_after = Some(spawned.elapsed());
                status = Some(s);
            }
            None => std::thread::sleep((delay - spawned.elapsed().min(delay)).min(POLL)),
        }
    }
    let status = match status {
        Some(s) => s,
        None => {
            let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
            // The child is not reaped before `wait`, so the pid is still its own: a child that
            // exited since the last poll is a zombie, ignores the signal and reports its exit
            // status below.
            // SAFETY: kill(2) with a pid we own and a valid signal number.
            let sent = unsafe { libc::kill(pid, libc::SIGKILL) };
            assert_eq!(sent, 0, "kill({pid}, SIGKILL) failed");
            child.wait().expect("wait for the killed tick")
        }
    };
    let finished = match status.signal() {
        Some(libc::SIGKILL) => false,
        _ if status.success() => true,
        _ => {
            problems.push(format!(
                "the tick failed on its own before the kill ({status}):\n{}",
                fs::read_to_string(dir.dir.join("killed.stderr")).unwrap_or_default()
            ));
            true
        }
    };
    let temp_files = dir.temp_files();

    let rerun = dir.tick();
    let phase = if rerun.code != 0 {
        problems.push(format!(
            "the rerun exited {}:\n{}",
            rerun.code, rerun.stderr
        ));
        if finished {
            Phase::Finished
        } else {
            Phase::Unknown
        }
    } else {
        let report: serde_json::Value =
            serde_json::from_str(&rerun.stdout).expect("tick --json prints JSON");
        let drawn = report["rounds"].as_array().map_or(0, Vec::len);
        let delivered = report["emails"]["sent"].as_u64().unwrap_or(0);
        let total = expected.count("rounds");
        if finished {
            if drawn > 0 || delivered > 0 {
                problems.push(format!(
                    "the tick had finished, yet the rerun drew {drawn} rounds and sent {delivered} emails"
                ));
            }
            Phase::Finished
        } else if drawn == total {
            Phase::BeforeFirstRound
        } else if drawn > 0 {
            Phase::BetweenRounds(total - drawn)
        } else if delivered > 0 {
            Phase::Delivering
        } else {
            Phase::AfterDelivery
        }
    };

    let after = dir.snapshot();
    problems.extend(invariant_problems(dir, &after));
    problems.extend(after.differences(expected, "the reference"));
    let verify = dir.run(&["audit", "verify"]);
    if verify.code != 0 {
        problems.push(format!(
            "`audit verify` exited {}: {}",
            verify.code,
            verify.stderr.trim()
        ));
    }

    // Once done, the same tick does nothing.
    let again = dir.tick();
    if again.code != 0 {
        problems.push(format!(
            "the second rerun exited {}:\n{}",
            again.code, again.stderr
        ));
    }
    problems.extend(
        dir.snapshot()
            .differences(&after, "the database after the first rerun"),
    );
    (
        Kill {
            phase,
            temp_files,
            ended_after,
        },
        problems,
    )
}

/// What must hold after any completed tick, whatever happened before it.
fn invariant_problems(dir: &RunDir, snapshot: &Snapshot) -> Vec<String> {
    let conn = dir.open();
    let mut problems = Vec::new();
    let mut check = |what: &str, sql: &str| {
        let found = rows(&conn, sql);
        if !found.is_empty() {
            problems.push(format!("{what}: {} (first: {})", found.len(), found[0]));
        }
    };
    check(
        "duplicate (round, user) among cases",
        "SELECT round_id, subject_person_id, COUNT(*) FROM cases WHERE round_id IS NOT NULL
         GROUP BY round_id, subject_person_id HAVING COUNT(*) > 1",
    );
    check(
        "drawn round members without exactly one case",
        "SELECT * FROM (
             SELECT m.round_id, m.person_id,
                    (SELECT COUNT(*) FROM cases c
                     WHERE c.round_id = m.round_id AND c.subject_person_id = m.person_id) AS n
             FROM round_members m WHERE m.drawn IS NOT NULL) AS counted
         WHERE n <> 1",
    );
    check(
        "cases of a round whose user was not drawn",
        "SELECT c.id FROM cases c WHERE c.round_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM round_members m
             WHERE m.round_id = c.round_id AND m.person_id = c.subject_person_id
               AND m.drawn IS NOT NULL)",
    );
    check(
        "rounds whose recorded count of drawn users is wrong",
        "SELECT r.id, r.drawn FROM rounds r
         WHERE r.drawn <> (SELECT COUNT(*) FROM round_members m
                           WHERE m.round_id = r.id AND m.drawn IS NOT NULL)",
    );
    check(
        "duplicate outbox rows for the same (case, purpose, task, recipient)",
        "SELECT case_id, purpose, task_id, recipient_id, COUNT(*) FROM outbox
         GROUP BY case_id, purpose, task_id, recipient_id HAVING COUNT(*) > 1",
    );
    check(
        "outbox messages not sent",
        "SELECT id, status, last_error FROM outbox WHERE status <> 'sent'",
    );
    let install: String = conn
        .inspect()
        .one(
            "SELECT substr(value, 1, 12) FROM meta WHERE key = 'install_seed'",
            (),
        )
        .expect("the installation seed");
    let ids: Vec<i64> = conn
        .inspect()
        .column(
            "SELECT id FROM outbox WHERE status = 'sent' ORDER BY id",
            (),
        )
        .expect("outbox ids");
    let missing: Vec<String> = ids
        .into_iter()
        .map(|id| {
            loggkoll::notify::eml_file::file_name(&loggkoll::notify::sender::message_id(
                id, &install, MAIL_FROM,
            ))
        })
        .filter(|name| !snapshot.eml.contains(name))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "sent messages without an `.eml` file: {} (first: {})",
            missing.len(),
            missing[0]
        ));
    }
    problems
}

/// A temporary folder with the roster, the routines and a freshly imported database.
struct Workspace {
    temp: tempfile::TempDir,
    routines: PathBuf,
    templates: PathBuf,
    fresh: PathBuf,
    /// On PostgreSQL: the server (its admin URL) and the fresh database's name.
    postgres: Option<(String, String)>,
}

impl Workspace {
    fn new(users: usize, units: usize, seed: u64) -> Workspace {
        let temp = scratch();
        let root = temp.path().to_path_buf();
        // The shipped routines, with every missed run caught up.
        let routines = root.join("routines");
        fs::create_dir(&routines).expect("routines folder");
        let mut catching_up = 0;
        for entry in fs::read_dir(support::root().join("routines")).expect("shipped routines") {
            let path = entry.expect("routine file").path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = fs::read_to_string(&path).expect("routine text");
            let text = text.replace("catch_up: latest", "catch_up: all");
            if text.contains("catch_up: all") {
                catching_up += 1;
            }
            fs::write(routines.join(path.file_name().expect("name")), text).expect("routine");
        }
        assert_eq!(
            catching_up, 3,
            "both sampling routines and the access-rights review catch up all"
        );
        let roster = loggkoll::simulate::org::synthetic(users, units, 7);
        loggkoll::simulate::org::write_csv(&roster, &root).expect("roster files");
        let postgres = backend::postgres().map(|admin| {
            let name = format!("crash_{}_fresh", std::process::id());
            sql(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"),
            );
            (admin, name)
        });
        let fresh = match &postgres {
            Some((admin, name)) => PathBuf::from(database_url(admin, name)),
            None => root.join("fresh.db"),
        };
        let work = Workspace {
            routines,
            templates: support::root().join("templates"),
            fresh,
            postgres,
            temp,
        };
        let setup = RunDir {
            dir: root.clone(),
            db: work.fresh.clone(),
            routines: work.routines.clone(),
            templates: work.templates.clone(),
        };
        let units_csv = root.join("units.csv").display().to_string();
        let people_csv = root.join("people.csv").display().to_string();
        let import = setup.run(&[
            "roster",
            "import",
            "--units",
            &units_csv,
            "--people",
            &people_csv,
            "--now",
            IMPORTED,
        ]);
        assert_eq!(import.code, 0, "import failed:\n{}", import.stderr);
        // The installation's secrets are made with the database, at random: fixed here, every
        // copy draws with the same seed and signs the same links, and a failing run can be
        // replayed.
        let store = loggkoll::store::Store::at(&work.fresh).expect("open the fresh database");
        let [install_seed, link_secret] = secrets(seed);
        loggkoll::store::meta_set(store.db(), "install_seed", &install_seed).expect("the seed");
        loggkoll::store::meta_set(store.db(), "link_secret", &link_secret).expect("the secret");
        drop(store);
        work
    }

    /// A new folder with a copy of the fresh database (and its WAL files, if any).
    fn run_dir(&self, name: &str) -> RunDir {
        let dir = self.temp.path().join(name);
        fs::create_dir(&dir).expect("run folder");
        if let Some((admin, fresh)) = &self.postgres {
            let copy = format!("{fresh}_{}", name.replace('-', "_"));
            sql(
                admin,
                &format!("DROP DATABASE IF EXISTS {copy}; CREATE DATABASE {copy} TEMPLATE {fresh}"),
            );
            return RunDir {
                dir,
                db: PathBuf::from(database_url(admin, &copy)),
                routines: self.routines.clone(),
                templates: self.templates.clone(),
            };
        }
        let db = dir.join("loggkoll.db");
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", self.fresh.display()));
            if from.exists() {
                fs::copy(&from, format!("{}{suffix}", db.display())).expect("copy database");
            }
        }
        RunDir {
            dir,
            db,
            routines: self.routines.clone(),
            templates: self.templates.clone(),
        }
    }

    fn keep(self) -> PathBuf {
        self.temp.keep()
    }

    /// Removes a run's folder, and on PostgreSQL its database.
    fn remove(&self, run: &RunDir) {
        let _ = fs::remove_dir_all(&run.dir);
        if let Some((admin, _)) = &self.postgres
            && let Some(name) = run.db.to_str().and_then(|u| u.rsplit('/').next())
        {
            sql(admin, &format!("DROP DATABASE IF EXISTS {name}"));
        }
    }
}

/// The URL of database `name` on the server of `admin` (a URL naming another database).
fn database_url(admin: &str, name: &str) -> String {
    let base = admin.split('?').next().unwrap_or(admin);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    format!("{server}/{name}")
}

/// An installation seed and a link secret, as the engine makes them (64 hex digits), from `seed`.
fn secrets(seed: u64) -> [String; 2] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.rotate_left(32));
    [
        hex::encode(rng.random::<[u8; 32]>()),
        hex::encode(rng.random::<[u8; 32]>()),
    ]
}

/// Where the runs happen. SIGKILL tests a crash of the process, not of the machine, so the
/// durability of fsync is beside the point here; on a tmpfs the tick's fsyncs (one commit per
/// email sent, each `.eml` file synced) cost nothing and a tick takes its CPU time, as it does
/// on a fast disk, instead of a minute on a slow one.
fn scratch() -> tempfile::TempDir {
    let builder = || {
        let mut b = tempfile::Builder::new();
        b.prefix("loggkoll-crash-");
        b
    };
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = builder().tempdir_in(shm)
    {
        return dir;
    }
    builder().tempdir().expect("temp dir")
}

/// One copy of the database, with its outbox folder.
struct RunDir {
    dir: PathBuf,
    db: PathBuf,
    routines: PathBuf,
    templates: PathBuf,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl RunDir {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
        cmd.args(args)
            .arg("--db")
            .arg(&self.db)
            .arg("--routines")
            .arg(&self.routines)
            .arg("--templates")
            .arg(&self.templates)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LOGGKOLL_") {
                cmd.env_remove(key);
            }
        }
        cmd.env(
            "LOGGKOLL_MAIL_URL",
            format!("file://{}", self.dir.join("outbox").display()),
        );
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .output()
            .expect("the loggkoll binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn tick(&self) -> Run {
        self.run(&["tick", "--now", NOW, "--json"])
    }

    fn spawn_tick(&self) -> Child {
        let file = |name: &str| fs::File::create(self.dir.join(name)).expect("output file");
        self.command(&["tick", "--now", NOW, "--json"])
            .stdout(file("killed.stdout"))
            .stderr(file("killed.stderr"))
            .spawn()
            .expect("the loggkoll binary starts")
    }

    fn open(&self) -> Db {
        loggkoll::store::read_only(&self.db).expect("open the database")
    }

    fn eml_files(&self) -> BTreeSet<String> {
        let Ok(entries) = fs::read_dir(self.dir.join("outbox")) else {
            return BTreeSet::new();
        };
        entries
            .map(|e| {
                e.expect("outbox entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
            .collect()
    }

    fn temp_files(&self) -> usize {
        fs::read_dir(self.dir.join("outbox")).map_or(0, |entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                })
                .count()
        })
    }

    fn snapshot(&self) -> Snapshot {
        let conn = self.open();
        Snapshot {
            tables: TABLES
                .iter()
                .map(|(name, sql)| (*name, rows(&conn, sql)))
                .collect(),
            eml: self.eml_files(),
        }
    }
}

/// Every table a tick touches, and the `.eml` files.
struct Snapshot {
    tables: Vec<(&'static str, Vec<String>)>,
    eml: BTreeSet<String>,
}

impl Snapshot {
    fn count(&self, table: &str) -> usize {
        self.tables
            .iter()
            .find(|(name, _)| *name == table)
            .map_or(0, |(_, rows)| rows.len())
    }

    /// How `self` differs from `other`, a table (or the files) per line.
    fn differences(&self, other: &Snapshot, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for ((name, mine), (_, theirs)) in self.tables.iter().zip(&other.tables) {
            if mine == theirs {
                continue;
            }
            let first = mine
                .iter()
                .zip(theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(theirs.len()));
            out.push(format!(
                "table `{name}` differs from {what}: {} rows against {}; first difference at row {first}:\n    got  {}\n    want {}",
                mine.len(),
                theirs.len(),
                mine.get(first).map_or("(none)", String::as_str),
                theirs.get(first).map_or("(none)", String::as_str),
            ));
        }
        if self.eml != other.eml {
            let extra: Vec<_> = self.eml.difference(&other.eml).take(3).collect();
            let missing: Vec<_> = other.eml.difference(&self.eml).take(3).collect();
            out.push(format!(
                "`.eml` files differ from {what}: {} against {}; extra {extra:?}, missing {missing:?}",
                self.eml.len(),
                other.eml.len()
            ));
        }
        out
    }
}

/// The rows of `sql`, each as its values joined by ` | `.
fn rows(conn: &Db, sql: &str) -> Vec<String> {
    conn.inspect()
        .rows(sql, (), |row| {
            let values: Vec<String> = (0..row.len())
                .map(|i| {
                    Ok(match row.get::<Owned>(i)? {
                        Owned::Null => "NULL".to_string(),
                        Owned::Int(v) => v.to_string(),
                        Owned::Real(v) => v.to_string(),
                        Owned::Text(t) => t,
                        Owned::Blob(b) => format!("{b:02x?}"),
                    })
                })
                .collect::<loggkoll::Result<_>>()?;
            Ok(values.join(" | "))
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
