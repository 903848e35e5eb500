//! Hostile exports are refused at their place within a fixed ceiling of memory (issue 24),
//! measured as the kernel counts it: the import's peak resident memory (`wait4`). A test binary
//! of its own, one test: a child's peak counts its parent's from before `exec`, so nothing else
//! may run in this process.

#[path = "support/hostile.rs"]
mod hostile;
mod support;

use std::io::Write;
use std::path::Path;
use support::{Run, root};

/// The ceiling an import must stay under, whatever the file.
const CEILING_KB: i64 = 256 * 1024;

/// Runs the real binary and measures its peak resident memory (kB), from the kernel's account
/// of the child (`wait4`).
// The child is waited for by `wait4`, which gives its resources; `Child::wait` would not.
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, args: &[&str]) -> (Run, i64) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_loggkoll"))
        .args([
            "--routines",
            &root().join("routines").display().to_string(),
            "--templates",
            &root().join("templates").display().to_string(),
            "--formats",
            &root().join("formats").display().to_string(),
            "--now",
            "2028-01-10T12:00",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("LOGGKOLL_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the loggkoll binary runs");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let mut stderr = String::new();
    use std::io::Read;
    let _ = err.read_to_string(&mut stderr);
    let stdout = reader.join().unwrap_or_default();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waits for our own child, whose pid std did not reap (no wait() was called).
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    // A measure that can fail: the process's own peak is never nothing.
    assert!(usage.ru_maxrss > 1024, "{} kB", usage.ru_maxrss);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    (
        Run {
            code,
            stdout,
            stderr,
        },
        usage.ru_maxrss,
    )
}

#[test]
fn hostile_files_are_refused_at_their_place_within_the_ceiling() {
    let d = tempfile::tempdir().unwrap();
    let path = |name: &str| d.path().join(name);
    // A workbook of a few hundred kB with one 300 MB cell (a zip bomb).
    hostile::workbook_with_a_huge_cell(&path("bomb.xlsx"), 300 << 20);
    let size = std::fs::metadata(path("bomb.xlsx")).unwrap().len();
    assert!(size < 2 << 20, "{size}");
    let (run, kb) = run_measured(d.path(), &["logs", "import", "bomb.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bomb.xlsx: `xl/worksheets/sheet1.xml` would inflate"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("zip bomb"), "{}", run.stderr);
    assert!(kb < CEILING_KB, "{kb} kB");

    // A long cell at a ratio no bomb check stops (the limit on a value does, by sheet and
    // cell): 4 MB of text that compresses poorly.
    let mut text = String::new();
    let mut x: u64 = 1;
    while text.len() < 4 << 20 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push(char::from(b'a' + (x >> 59) as u8 % 26));
    }
    hostile::write_workbook_text(&path("cell.xlsx"), &text);
    let (run, kb) = run_measured(d.path(), &["logs", "import", "cell.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cell.xlsx: sheet `Logg`, cell A2: a value longer than 1 MB"),
        "{}",
        run.stderr
    );
    assert!(kb < CEILING_KB, "{kb} kB");

    // A CSV line of 300 MB.
    let mut csv = std::fs::File::create(path("line.csv")).unwrap();
    writeln!(csv, "{}", loggkoll::records::logs::LOG.header_line()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..300 {
        csv.write_all(&chunk).unwrap();
    }
    writeln!(csv).unwrap();
    drop(csv);
    let (run, kb) = run_measured(d.path(), &["logs", "import", "line.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("line.csv:2: a line longer than"),
        "{}",
        run.stderr
    );
    assert!(kb < CEILING_KB, "{kb} kB");

    // An XML text node of 300 MB.
    let mut xml = std::fs::File::create(path("node.xml")).unwrap();
    writeln!(
        xml,
        "<Logs xmlns=\"urn:riv:ehr:log:querying:1\">\n<Log><LogId xmlns=\"urn:riv:ehr:log:1\">"
    )
    .unwrap();
    for _ in 0..300 {
        xml.write_all(&chunk).unwrap();
    }
    writeln!(xml, "</LogId></Log></Logs>").unwrap();
    drop(xml);
    let (run, kb) = run_measured(d.path(), &["logs", "import", "node.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("node.xml:2: an XML node longer than 1 MB"),
        "{}",
        run.stderr
    );
    assert!(kb < CEILING_KB, "{kb} kB");

    // Nothing was imported by any of them.
    let (run, _) = run_measured(d.path(), &["logs", "list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "[]", "{}", run.stdout);

    // A sharedStrings bomb: 3,000 rows whose names are one shared string of 200 kB, 600 MB of
    // text as cells. Read in bounded batches, every row's name refused (no field of a log is
    // that long), every row counted.
    hostile::workbook_with_a_shared_bomb(&path("shared.xlsx"), 3_000, 200 << 10);
    let (run, kb) = run_measured(d.path(), &["logs", "import", "shared.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("shared.xlsx:2: field `user_name`: 204800 bytes long"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("3000 rows read, 3000 refused"),
        "{}",
        run.stderr
    );
    assert!(kb < CEILING_KB, "{kb} kB");
}
