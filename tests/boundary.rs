//! The store boundary (ARCHITECTURE.md, "All SQL lives in `store::`"): no SQL statement, no use
//! of the SQLite crate and no `Db::inspect` in the source outside `src/store/`. The compiler
//! keeps the rest: `store::Db` runs statements only for the store's own modules.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` holds the start of an SQL statement in a string literal.
fn has_sql(line: &str) -> bool {
    const WORDS: [&str; 7] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "PRAGMA", "WITH",
    ];
    line.match_indices('"').any(|(i, _)| {
        let rest = line[i + 1..].trim_start();
        WORDS.iter().any(|w| {
            rest.strip_prefix(w)
                .is_some_and(|after| after.starts_with(' ') || after.is_empty())
        })
    })
}

/// What no file outside `src/store/` may hold: an SQL statement, the SQLite crate, or the
/// store's door for tests and looking by hand (`Db::inspect`).
fn leak(line: &str) -> Option<&'static str> {
    if has_sql(line) {
        Some("SQL")
    } else if line.contains("rusqlite") {
        Some("the SQLite crate")
    } else if line.contains(".inspect()") {
        Some("Db::inspect")
    } else {
        None
    }
}

#[test]
fn sql_lives_in_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut leaks = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        if relative.starts_with("src/store/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = leak(line) {
                leaks.push(format!("{relative}:{}: {what}", i + 1));
            }
        }
    }
    assert!(leaks.is_empty(), "outside src/store/: {leaks:#?}");
}

#[test]
fn the_check_sees_sql_and_not_prose() {
    assert!(has_sql(r#"conn.prepare("SELECT id FROM cases")"#));
    assert!(has_sql(
        r#"        "INSERT INTO log_imports (file) VALUES (?1)","#
    ));
    assert!(!has_sql(r#"println!("Selected {n} users");"#));
    assert!(!has_sql(r#"let s = "WITHOUT a care";"#));
    assert_eq!(leak("use rusqlite::Connection;"), Some("the SQLite crate"));
    assert_eq!(
        leak("let n = db.inspect().one(q, ())?;"),
        Some("Db::inspect")
    );
    assert_eq!(leak("let db = store.db();"), None);
}

/// The vocabulary every layer uses sits below them all (issue 31): the error type, the engine's
/// typed refusals and the naming of a database's location import neither the engine nor the
/// store, so that nothing below the engine is tied into a cycle through them.
#[test]
fn the_error_type_and_its_vocabulary_depend_on_neither_engine_nor_store() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in ["error.rs", "refusal.rs", "location.rs"] {
        let text = std::fs::read_to_string(root.join(file)).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            if ["crate::engine", "crate::store", "crate::web", "crate::cli"]
                .iter()
                .any(|m| line.contains(m))
            {
                found.push(format!("src/{file}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Local dates, the send hours and the alarm hour are time's vocabulary (`clock`, `calendar`),
/// not the engine's: no module outside the engine reaches into `engine::deadline` for them.
#[test]
fn time_vocabulary_is_read_from_clock_and_calendar() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for path in files.iter().filter(|p| !p.starts_with(root.join("engine"))) {
        let text = std::fs::read_to_string(path).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            if [
                "deadline::local_date",
                "deadline::SendHours",
                "deadline::ALARM_HOUR",
            ]
            .iter()
            .any(|m| line.contains(m))
            {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// What the routines must document and keep (`records`) sits above the engine (issue 31): the
/// whole tick, with the logs inbox, the yearly summaries and the purge, is `records::tick`, and
/// the protocol's account of a review's evidence lives with the evidence, and the shape of the
/// log formats the engine holds for the inbox is `log_format`, below both.
#[test]
fn the_engine_imports_nothing_of_records() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("engine"), &mut files);
    assert!(files.len() > 10, "the engine's files are found");
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if (code.contains("crate::records") || code.contains("records::"))
                && !code.contains("crate::store::records")
            {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
