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

/// The top-level modules of `src/` a file names (`crate::x`, or `x` in `crate::{x, y::{z}}`
/// over any number of lines), in its code, not its comments, before its test module.
fn modules_named(text: &str, modules: &std::collections::BTreeSet<String>) -> Vec<String> {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let code: Vec<&str> = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect();
    let code = code.join("\n");
    let mut out = Vec::new();
    let mut name = |word: &str| {
        let word: String = word
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&word) {
            out.push(word);
        }
    };
    for (i, _) in code.match_indices("crate::") {
        let after = &code[i + "crate::".len()..];
        let Some(group) = after.strip_prefix('{') else {
            name(after);
            continue;
        };
        // The group's items at its own depth, each named by its first word.
        let (mut depth, mut item) = (0usize, String::new());
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    name(&item);
                    item.clear();
                    continue;
                }
                _ => {}
            }
            if depth == 0 || c == '{' && depth == 1 {
                item.push(c);
            }
        }
        name(&item);
    }
    out
}

/// Vocabulary sits below what uses it (issue 31): the top-level modules of `src/` name each
/// other without a cycle, so that each can be read, tested and changed from the floor below it
/// up. A cycle is printed as the path that closes it, with a file that makes each step.
#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(&root).expect("src") {
        let path = entry.expect("an entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if name != "lib"
            && name != "main"
            && (path.is_dir() || path.extension().is_some_and(|e| e == "rs"))
        {
            modules.insert(name.to_string());
        }
    }
    assert!(modules.len() > 20, "the modules are found: {modules:?}");
    // module → module it names → a file that names it.
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    for path in &files {
        let rel = path.strip_prefix(&root).expect("under src");
        let first = rel.iter().next().and_then(|s| s.to_str()).unwrap_or("");
        let from = first.strip_suffix(".rs").unwrap_or(first).to_string();
        if !modules.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("a source file");
        for to in modules_named(&text, &modules) {
            if to != from {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    // A depth-first search that reports the first cycle it closes.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeMap<String, String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flat_map(|m| m.keys()) {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for module in &modules {
        if state.contains_key(module.as_str()) {
            continue;
        }
        if let Some(cycle) = visit(module, &edges, &mut state, &mut Vec::new()) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} → {} ({})", w[0], w[1], edges[&w[0]][&w[1]]))
                .collect();
            panic!(
                "the modules import each other in a cycle:\n{}",
                steps.join("\n")
            );
        }
    }
    // The engine stands above the review's workbench, not beside it.
    assert!(
        edges
            .get("engine")
            .is_some_and(|m| m.contains_key("evidence"))
    );
}

/// The finder sees what it should: a name in a group, a path, and not a comment.
#[test]
fn the_import_finder_reads_groups_paths_and_skips_comments() {
    let modules: std::collections::BTreeSet<String> = ["store", "engine", "roster"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let text =
        "use crate::{store::Db, roster};\nlet x = crate::engine::Engine::new(); // crate::web\n";
    assert_eq!(modules_named(text, &modules), ["store", "roster", "engine"]);
    let spread =
        "use crate::{\n    engine::{self, Engine},\n    // crate::web\n    roster::Role,\n};\n";
    assert_eq!(modules_named(spread, &modules), ["engine", "roster"]);
}

/// The core reads no clock (ARCHITECTURE.md): the engine, the review's rules, the store, the
/// routines, the calendar and the schedule take `now` from their caller, so that tests and
/// `--now` move time. Only the command line, the web server and `clock` read the system's.
#[test]
fn the_core_reads_no_clock() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [
        "engine", "evidence", "store", "routine", "roster", "schedule",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    files.push(root.join("calendar.rs"));
    assert!(files.len() > 40, "the core's files are found");
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if [
                "Utc::now(",
                "Local::now(",
                "SystemTime::now(",
                "Instant::now(",
            ]
            .iter()
            .any(|call| code.contains(call))
            {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
