//! Issue 29: `docs/cli.md` is the interface that outside scripts rely on, so it must say what
//! `--help` says. Every command is documented exactly once, and its form there names every flag
//! the command takes (global flags are documented once, at the top).

use clap::CommandFactory;
use loggkoll::cli::Cli;

/// Every command that runs (no subcommands of its own), by its path (`case open`), with its own
/// long flags.
fn commands(cmd: &clap::Command, path: &[String], out: &mut Vec<(String, Vec<String>)>) {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    if subs.is_empty() && !path.is_empty() {
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter_map(|a| a.get_long())
            .filter(|l| !["help", "version"].contains(l))
            .map(str::to_string)
            .collect();
        out.push((path.join(" "), flags));
    }
    for sub in subs {
        let mut next = path.to_vec();
        next.push(sub.get_name().to_string());
        commands(sub, &next, out);
    }
}

/// The forms a table row documents, each with its command path: each backquoted form in its
/// first cell (`case open ROUTINE …`), the path up to its first argument (`case open`).
fn documented(row: &str) -> Vec<(String, String)> {
    let cell = row
        .trim_start_matches('|')
        .split(" | ")
        .next()
        .unwrap_or_default();
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|form| {
            let path = form
                .split_whitespace()
                .take_while(|w| {
                    w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
                })
                .collect::<Vec<_>>()
                .join(" ");
            (path, form.to_string())
        })
        .filter(|(p, _)| !p.is_empty())
        .collect()
}

/// Whether `form` names `--flag` as a whole word.
fn names_flag(form: &str, flag: &str) -> bool {
    let needle = format!("--{flag}");
    form.match_indices(&needle).any(|(at, _)| {
        form[at + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    })
}

#[test]
fn every_command_is_documented_once_in_docs_cli_md_with_each_of_its_flags() {
    // The parser reads what the docs write.
    let paths = |row: &str| -> Vec<String> { documented(row).into_iter().map(|d| d.0).collect() };
    assert_eq!(
        paths("| `user add NAME [--role R]` · `user list [--json]` | … |"),
        ["user add", "user list"]
    );
    assert_eq!(paths("| `tick [--now T]` | does |"), ["tick"]);
    assert!(names_flag("radar [--top N]", "top"));
    assert!(!names_flag("radar [--top-n N]", "top"));
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md"),
    )
    .expect("docs/cli.md");
    let rows: Vec<&str> = docs.lines().filter(|l| l.starts_with("| `")).collect();
    let mut all = Vec::new();
    commands(&Cli::command(), &[], &mut all);
    assert!(all.len() > 40, "only {} commands", all.len());
    let mut problems = Vec::new();
    for (path, flags) in &all {
        let mine: Vec<String> = rows
            .iter()
            .flat_map(|r| documented(r))
            .filter(|(p, _)| p == path)
            .map(|(_, form)| form)
            .collect();
        match mine.as_slice() {
            [form] => {
                for flag in flags {
                    if !names_flag(form, flag) {
                        problems.push(format!("`{path}`: `--{flag}` is not in `{form}`"));
                    }
                }
            }
            [] => problems.push(format!("`{path}` has no row")),
            more => problems.push(format!("`{path}` is documented {} times", more.len())),
        }
    }
    assert!(problems.is_empty(), "docs/cli.md:\n{}", problems.join("\n"));
}
