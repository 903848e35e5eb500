//! The guard: today's build against an older commit, built from this repository in a scratch
//! worktree and measured in the same run, on the same machine, one after the other.
//!
//! The workload is `loggkoll simulate` of one year for 25,000 users in 400 units, seed 1
//! (`-- --quick`: 5,000 users in 80 units), run by each build in turn, three pairs (`--pairs N`).
//! Printed per build: the median wall time, CPU time, the simulation's own time and the time of
//! its answers, and the cases and transitions (the same workload on both, or the comparison says
//! so). The run fails (exit code 1) when today's median wall or CPU time is more than 20 % over
//! the older commit's.
//!
//! `cargo bench --bench versus [-- --base COMMIT] [--quick] [--pairs N]`. The base defaults to
//! 7fd12a0 (22 November 2026, the figure of issue 30). Its build is kept in
//! `target/versus/COMMIT`, so a second run only measures. Nothing here runs in `cargo test`; it
//! takes two release builds and about five minutes on two cores, so it is run before a release
//! (docs/benchmarks.md), not on every CI run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const DEFAULT_BASE: &str = "7fd12a0";
/// How much slower today's build may be before the guard fails.
const TOLERANCE: f64 = 1.20;

struct Run {
    wall: f64,
    cpu: f64,
    simulated: f64,
    answers: f64,
    cases: u64,
    transitions: u64,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn children_cpu() -> f64 {
    // SAFETY: getrusage writes into the struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .current_dir(root())
        .args(args)
        .output()
        .map_err(|e| format!("git {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The older commit's release binary, built once in a worktree of its own, and the folder to run
/// it in (its routines and templates).
fn base_binary(commit: &str) -> Result<(PathBuf, PathBuf), String> {
    let full = git(&["rev-parse", "--verify", &format!("{commit}^{{commit}}")]).map_err(|e| {
        format!("{e}\n(the guard needs the repository's history: a shallow clone lacks {commit})")
    })?;
    let short = &full[..12];
    let target = root().join("target").join("versus").join(short);
    let binary = target.join("release").join("loggkoll");
    // Its own routines and templates beside it: a build of then may not carry them inside.
    let home = target.join("home");
    if binary.exists() && home.join("routines").exists() {
        return Ok((binary, home));
    }
    let tree = std::env::temp_dir().join(format!("loggkoll-versus-{short}"));
    if !tree.join("Cargo.toml").exists() {
        let _ = git(&["worktree", "prune"]);
        git(&[
            "worktree",
            "add",
            "--detach",
            "--force",
            &tree.to_string_lossy(),
            &full,
        ])?;
    }
    eprintln!("building {short} in {} (once) …", tree.display());
    let status = Command::new(env!("CARGO"))
        .current_dir(&tree)
        .args(["build", "--release", "--locked", "--bin", "loggkoll"])
        .env("CARGO_TARGET_DIR", &target)
        // As that commit was built: not with this checkout's `.cargo/config.toml` settings,
        // which `cargo bench` passes on to the bench's environment.
        .env_remove("LIBSQLITE3_FLAGS")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cargo build of {short}: {e}"))?;
    if status.success() {
        for folder in ["routines", "templates"] {
            copy_tree(&tree.join(folder), &home.join(folder))
                .map_err(|e| format!("copying {folder} of {short}: {e}"))?;
        }
    }
    let _ = git(&["worktree", "remove", "--force", &tree.to_string_lossy()]);
    if !status.success() || !binary.exists() {
        return Err(format!("the build of {short} failed ({status})"));
    }
    Ok((binary, home))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Runs `binary simulate` in `home` (`None`: an empty folder, the routines and templates the
/// binary carries), its database in a scratch folder.
fn simulate(binary: &Path, home: Option<&Path>, users: u32, units: u32) -> Result<Run, String> {
    let scratch = std::env::temp_dir().join(format!("loggkoll-versus-run-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let before = children_cpu();
    let started = Instant::now();
    let child = Command::new(binary)
        .current_dir(home.unwrap_or(&scratch))
        .env("TMPDIR", &scratch)
        .args([
            "simulate",
            "--from",
            "2027-01-01",
            "--to",
            "2027-12-31",
            "--users",
            &users.to_string(),
            "--units",
            &units.to_string(),
            "--seed",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu() - before;
    let _ = std::fs::remove_dir_all(&scratch);
    if !out.status.success() {
        return Err(format!(
            "{} simulate: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{} simulate --json: {e}", binary.display()))?;
    let num = |k: &str| {
        json.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    Ok(Run {
        wall,
        cpu,
        simulated: num("seconds"),
        answers: num("answer_seconds"),
        cases: num("cases") as u64,
        transitions: num("transitions") as u64,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

fn summarise(runs: &[Run]) -> Run {
    Run {
        wall: median(runs.iter().map(|r| r.wall).collect()),
        cpu: median(runs.iter().map(|r| r.cpu).collect()),
        simulated: median(runs.iter().map(|r| r.simulated).collect()),
        answers: median(runs.iter().map(|r| r.answers).collect()),
        cases: runs.first().map_or(0, |r| r.cases),
        transitions: runs.first().map_or(0, |r| r.transitions),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let base = value("--base").unwrap_or_else(|| DEFAULT_BASE.to_string());
    let pairs: usize = value("--pairs").and_then(|p| p.parse().ok()).unwrap_or(3);
    let (users, units) = if args.iter().any(|a| a == "--quick") {
        (5_000, 80)
    } else {
        (25_000, 400)
    };
    let today = PathBuf::from(env!("CARGO_BIN_EXE_loggkoll"));
    let (older, older_home) = match base_binary(&base) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "versus: simulate one year for {users} users in {units} units, seed 1; today's build and {base}, {pairs} pairs, one after the other"
    );
    let (mut now_runs, mut old_runs) = (Vec::new(), Vec::new());
    for pair in 0..pairs {
        // Alternate which goes first, so that a machine warming up or slowing down favours neither.
        let order: [(&Path, bool); 2] = if pair % 2 == 0 {
            [(&older, false), (&today, true)]
        } else {
            [(&today, true), (&older, false)]
        };
        for (binary, is_today) in order {
            let home = (!is_today).then_some(older_home.as_path());
            match simulate(binary, home, users, units) {
                Ok(r) => {
                    println!(
                        "  pair {}: {:<6} wall {:6.2} s, cpu {:6.2} s, simulated {:6.2} s (answers {:5.2} s), {} cases, {} transitions",
                        pair + 1,
                        if is_today { "today" } else { "base" },
                        r.wall,
                        r.cpu,
                        r.simulated,
                        r.answers,
                        r.cases,
                        r.transitions
                    );
                    if is_today {
                        now_runs.push(r);
                    } else {
                        old_runs.push(r);
                    }
                }
                Err(e) => {
                    eprintln!("versus: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let (now, old) = (summarise(&now_runs), summarise(&old_runs));
    println!(
        "  median  {base}: wall {:.2} s, cpu {:.2} s, answers {:.2} s ({} cases, {} transitions)",
        old.wall, old.cpu, old.answers, old.cases, old.transitions
    );
    println!(
        "  median  today: wall {:.2} s, cpu {:.2} s, answers {:.2} s ({} cases, {} transitions)",
        now.wall, now.cpu, now.answers, now.cases, now.transitions
    );
    let ratio = |a: f64, b: f64| a / b;
    println!(
        "  today / {base}: wall {:.2}×, cpu {:.2}×, simulated {:.2}×, answers {:.2}× (below 1 is faster)",
        ratio(now.wall, old.wall),
        ratio(now.cpu, old.cpu),
        ratio(now.simulated, old.simulated),
        ratio(now.answers, old.answers)
    );
    let load = |a: u64, b: u64| (a as f64 - b as f64).abs() / (b.max(1) as f64);
    if load(now.cases, old.cases) > 0.05 || load(now.transitions, old.transitions) > 0.05 {
        println!(
            "  note: the workloads differ by more than 5 % (cases, transitions); compare per transition"
        );
    }
    let worst = ratio(now.wall, old.wall).max(ratio(now.cpu, old.cpu));
    if worst > TOLERANCE {
        println!(
            "versus: FAILED: today's build is {:.0} % slower than {base} (more than {:.0} % allowed)",
            (worst - 1.0) * 100.0,
            (TOLERANCE - 1.0) * 100.0
        );
        return ExitCode::from(1);
    }
    println!("versus: ok (within {:.0} %)", (TOLERANCE - 1.0) * 100.0);
    ExitCode::SUCCESS
}
