//! `loggkoll migrate` (issue 17): the demo's year in SQLite, copied whole into a new database —
//! PostgreSQL when `LOGGKOLL_TEST_POSTGRES` is set (`support/backend.rs`), else another SQLite
//! file — reads back the same through every read command, its audit chain verifies, a second
//! copy into the same target is refused with nothing changed, and the copy works on: a tick and
//! an answer on it behave as on the original.

#[path = "support/backend.rs"]
mod backend;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn loggkoll(dir: &Path, db: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
    c.current_dir(dir).arg("--db").arg(db).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LOGGKOLL_") {
            c.env_remove(key);
        }
    }
    let out = c.output().expect("loggkoll runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(dir: &Path, db: &Path, args: &[&str]) -> String {
    let r = loggkoll(dir, db, args);
    assert_eq!(
        r.code,
        0,
        "loggkoll {args:?} on {}: {}",
        db.display(),
        r.stderr
    );
    r.stdout
}

#[test]
fn an_installation_moves_whole_and_works_on() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let dir = temp.path().to_path_buf();
    let none = PathBuf::from("unused.db");
    let demo = loggkoll(&dir, &none, &["demo", "--users", "60"]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let work = dir.join("demo");
    let source = work.join("loggkoll.db");
    let target = backend::location(&dir, "moved");

    let moved = loggkoll(
        &work,
        &none,
        &[
            "migrate",
            "--from",
            source.to_str().expect("a UTF-8 path"),
            "--to",
            target.to_str().expect("a UTF-8 location"),
            "--json",
        ],
    );
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let report: serde_json::Value = serde_json::from_str(&moved.stdout).expect("JSON");
    let cases = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "cases")
        .expect("the cases table");
    assert!(cases["rows"].as_u64().expect("a count") > 10, "{report}");
    assert!(report["audit_entries"].as_u64().expect("entries") > 100);
    assert!(
        !moved.stdout.contains("hemligt") && !moved.stderr.contains("hemligt"),
        "no password in the output"
    );

    // Every read command says the same of both.
    let now = "--now=2027-12-31T12:00";
    let case_list = ok(&work, &source, &["case", "list", "--json"]);
    let ids: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&case_list)
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().expect("an id").to_string())
        .collect();
    let mut reads: Vec<Vec<String>> = [
        vec!["case", "list", "--json"],
        vec!["case", "list", "--open", "--json"],
        vec!["round", "list", "--json"],
        vec!["outbox", "list", "--json"],
        vec!["outbox", "list", "--status", "sent", "--json"],
        vec!["logs", "list", "--json"],
        vec!["logs", "coverage"],
        vec!["watch", "list", "--json"],
        vec!["delegation", "list", "--json"],
        vec!["user", "list", "--json"],
        vec![
            "radar",
            "--from",
            "2027-01-01",
            "--to",
            "2027-12-31",
            now,
            "--json",
        ],
        vec!["audit", "verify", "--json"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(str::to_string).collect())
    .collect();
    for id in ids.iter().step_by(7) {
        reads.push(vec![
            "case".into(),
            "show".into(),
            id.clone(),
            "--json".into(),
        ]);
        reads.push(vec![
            "case".into(),
            "evidence".into(),
            id.clone(),
            now.into(),
            "--json".into(),
        ]);
    }
    for args in &reads {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(
            ok(&work, &target, &args),
            ok(&work, &source, &args),
            "loggkoll {args:?} differs after the move"
        );
    }

    // A second move into the now full target is refused, and changes nothing.
    let before = ok(&work, &target, &["outbox", "list", "--json"]);
    let again = loggkoll(
        &work,
        &none,
        &[
            "migrate",
            "--from",
            source.to_str().expect("a UTF-8 path"),
            "--to",
            target.to_str().expect("a UTF-8 location"),
        ],
    );
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("already holds data"),
        "{}",
        again.stderr
    );
    assert_eq!(ok(&work, &target, &["outbox", "list", "--json"]), before);
    let missing = loggkoll(
        &work,
        &none,
        &["migrate", "--from", "nowhere.db", "--to", "x.db"],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        !work.join("x.db").exists(),
        "a refused move makes no target"
    );

    // Both go on alike: the next month's tick, then an answer to an open step.
    for db in [&source, &target] {
        ok(&work, db, &["tick", "--now", "2028-01-03T09:00", "--json"]);
    }
    for args in [
        vec!["case", "list", "--json"],
        vec!["round", "list", "--json"],
        vec!["outbox", "list", "--json"],
    ] {
        assert_eq!(
            ok(&work, &target, &args),
            ok(&work, &source, &args),
            "loggkoll {args:?} differs after a tick on both"
        );
    }
    let verify: serde_json::Value =
        serde_json::from_str(&ok(&work, &target, &["audit", "verify", "--json"])).expect("JSON");
    assert_eq!(verify["intact"], true, "{verify}");
}
