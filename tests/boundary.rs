//! The store boundary (ARCHITECTURE.md, "All SQL lives in `store::`"): no SQL statement in the
//! source outside `src/store/`. `NOT_YET_MOVED` names files allowed to hold SQL for a while
//! (none now); a file on it that no longer needs its place is refused too, so it stays true.

use std::path::{Path, PathBuf};

/// Files outside `src/store/` that still hold SQL, to be moved into the store.
const NOT_YET_MOVED: &[&str] = &[];

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

#[test]
fn sql_lives_in_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut leaks = Vec::new();
    let mut still_needed = Vec::new();
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
        let lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| has_sql(l))
            .map(|(i, _)| i + 1)
            .collect();
        match (lines.is_empty(), NOT_YET_MOVED.contains(&relative.as_str())) {
            (false, false) => leaks.push(format!("{relative}:{}", lines[0])),
            (false, true) => still_needed.push(relative),
            _ => {}
        }
    }
    assert!(leaks.is_empty(), "SQL outside src/store/: {leaks:?}");
    let stale: Vec<&&str> = NOT_YET_MOVED
        .iter()
        .filter(|f| !still_needed.iter().any(|s| s == **f))
        .collect();
    assert!(
        stale.is_empty(),
        "no SQL left in {stale:?}: take them off NOT_YET_MOVED"
    );
}

#[test]
fn the_check_sees_sql_and_not_prose() {
    assert!(has_sql(r#"conn.prepare("SELECT id FROM cases")"#));
    assert!(has_sql(
        r#"        "INSERT INTO log_imports (file) VALUES (?1)","#
    ));
    assert!(!has_sql(r#"println!("Selected {n} users");"#));
    assert!(!has_sql(r#"let s = "WITHOUT a care";"#));
}
