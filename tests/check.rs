//! `loggkoll check`, `graph` and `explain` driven end to end through the binary.

mod support;

use support::{Test, expect_file, root};

/// Broken routines that have only warnings: they check with exit 0.
const WARNINGS_ONLY: &[&str] = &["low-review-chance", "retention-too-long"];

#[test]
fn shipped_routines_check_clean() {
    let run = Test::new().args(["check"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "checked 7 files (log-extract, npo-access-rights, npo-information, npo-sampling, targeted-review, treserva-information, treserva-sampling) and 3 log formats (inera-ehr-log, inera-xml, standard) from formats: no problems\n"
    );
}

#[test]
fn every_broken_routine_gives_its_exact_diagnostics() {
    let dir = root().join("tests/routines/broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus has {} files", files.len());
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/routines/broken/{stem}.yaml");
        let run = Test::new().args(["check", &rel]).run();
        let want = if WARNINGS_ONLY.contains(&stem.as_str()) {
            0
        } else {
            1
        };
        assert_eq!(run.code, want, "{rel}: exit code\n{}", run.stderr);
        assert!(run.stdout.is_empty(), "{rel}: stdout {}", run.stdout);
        expect_file(&dir.join(format!("{stem}.stderr")), &run.stderr);
    }
}

#[test]
fn json_diagnostics_go_to_stdout() {
    let run = Test::new()
        .args([
            "check",
            "tests/routines/broken/undefined-state.yaml",
            "--format",
            "json",
        ])
        .run();
    assert_eq!(run.code, 1);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let first = &value[0];
    assert_eq!(first["path"], "tests/routines/broken/undefined-state.yaml");
    assert_eq!(first["line"], 22);
    assert_eq!(first["column"], 13);
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "undefined-state");
    assert_eq!(first["message"], "state `dnoe` is not defined");
}

#[test]
fn usage_errors_exit_2() {
    let run = Test::new().args(["check", "no/such/file.yaml"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no/such/file.yaml"), "{}", run.stderr);
    let run = Test::new()
        .args(["graph", "treserva-sampling", "--format", "png"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown graph format `png`"),
        "{}",
        run.stderr
    );
    let run = Test::new().args(["explain", "treserva-samplng"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `treserva-sampling`?"),
        "{}",
        run.stderr
    );
    let run = Test::new()
        .args(["explain", "npo-sampling", "--now", "soon"])
        .run();
    assert_eq!(run.code, 2);
    let run = Test::new().args(["frobnicate"]).run();
    assert_eq!(run.code, 2);
}

#[test]
fn graph_of_a_broken_file_exits_1() {
    let run = Test::new()
        .args(["graph", "tests/routines/broken/undefined-state.yaml"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("undefined-state.yaml:22:13"),
        "{}",
        run.stderr
    );
}

#[test]
fn explain_states_the_yearly_review_chance() {
    let run = Test::new()
        .args(["explain", "treserva-sampling", "--now", "2026-11-22T10:00"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "Chans att granskas inom ett år: 100 % (med likformigt urval hade det varit 71,8 %)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Nästa körningar: 2026-12-01 07:00, 2027-01-01 07:00, 2027-02-01 07:00"),
        "{}",
        run.stdout
    );
    let run = Test::new()
        .args(["explain", "tests/routines/broken/low-review-chance.yaml"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Chans att granskas inom ett år: 71,8 %"),
        "{}",
        run.stdout
    );
}

#[test]
fn graphs_in_every_format() {
    for (format, marker) in [
        ("dot", "digraph \"treserva-sampling\""),
        ("mermaid", "stateDiagram-v2"),
        ("svg", "<svg xmlns"),
    ] {
        let run = Test::new()
            .args(["graph", "treserva-sampling", "--format", format])
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.starts_with(marker) || run.stdout.contains(marker),
            "{format}"
        );
        assert!(run.stdout.contains("Granska loggen"), "{format}");
    }
    let dot = Test::new()
        .args(["graph", "routines/log-extract.yaml"])
        .run();
    assert!(
        dot.stdout
            .contains("\"hand_out\" -> \"document\" [label=\"Loggutdraget är utlämnat\"]"),
        "{}",
        dot.stdout
    );
}

#[test]
fn template_errors_point_into_the_template_file() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| {
        let to = dir.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(from), to).unwrap();
    };
    copy(
        "routines/treserva-sampling.yaml",
        "routines/treserva-sampling.yaml",
    );
    for entry in std::fs::read_dir(root().join("templates/mail")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        copy(
            &format!("templates/mail/{name}"),
            &format!("templates/mail/{name}"),
        );
    }
    for entry in std::fs::read_dir(root().join("templates/documents")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        copy(
            &format!("templates/documents/{name}"),
            &format!("templates/documents/{name}"),
        );
    }
    // An unclosed block on line 3 and a variable no task mail provides on line 4.
    std::fs::write(
        dir.path().join("templates/mail/reminder.txt"),
        "Påminnelse {{ case_id }}\n\n{% if when %}\nHej {{ client_name }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("templates/mail/task.txt"),
        "Uppgift {{ case_id }}\n\nKlient: {{ client_name }}\n",
    )
    .unwrap();
    let run = Test::in_dir(dir.path()).args(["check"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("templates/mail/reminder.txt:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error[template-syntax]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "templates/mail/task.txt:3:12: warning[template-variable]: template `mail/task.txt` uses `client_name`, which a task message does not provide"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn check_warns_when_an_edit_removes_a_state_open_cases_are_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("routines")).unwrap();
    let original = std::fs::read_to_string(root().join("routines/treserva-sampling.yaml")).unwrap();
    std::fs::write(
        dir.path().join("routines/treserva-sampling.yaml"),
        &original,
    )
    .unwrap();
    let templates = root().join("templates");
    let templates = templates.to_str().unwrap();
    let roster = loggkoll::simulate::org::synthetic(60, 3, 1);
    loggkoll::simulate::org::write_csv(&roster, dir.path()).unwrap();
    let run = Test::in_dir(dir.path())
        .args([
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
            "--now",
            "2027-01-01T00:00",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = Test::in_dir(dir.path())
        .args([
            "tick",
            "--templates",
            templates,
            "--now",
            "2027-01-01T08:00",
        ])
        .env(
            "LOGGKOLL_MAIL_URL",
            &format!("file://{}", dir.path().join("out").display()),
        )
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Rename the start state: the open cases are in `review`.
    let edited = original
        .replace("start: review", "start: granskning")
        .replace("\n  review:\n", "\n  granskning:\n");
    std::fs::write(dir.path().join("routines/treserva-sampling.yaml"), edited).unwrap();
    let run = Test::in_dir(dir.path())
        .args(["check", "--templates", templates])
        .run();
    assert_eq!(run.code, 0, "warnings only: {}", run.stderr);
    assert!(
        run.stderr
            .contains("warning[removes-open-state]: state `review` is gone from this version, but"),
        "{}",
        run.stderr
    );
    // Without a database there is nothing to compare, and check creates none.
    let run = Test::in_dir(dir.path())
        .args(["check", "--templates", templates, "--db", "none.db"])
        .run();
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("removes-open-state"));
    assert!(!dir.path().join("none.db").exists());
}

#[test]
fn swedish_role_names_check_clean_and_the_summary_counts_the_broken_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = root().join("routines/treserva-sampling.yaml");
    let text = std::fs::read_to_string(&shipped).expect("routine");
    // `assignee: enhetschef`, as `explain` prints it.
    let swedish = text
        .replace("assignee: unit_manager", "assignee: enhetschef")
        .replace("to: operations_manager", "to: verksamhetschef");
    std::fs::write(dir.path().join("a.yaml"), &swedish).expect("write");
    let run = Test::new()
        .args(["check", &dir.path().display().to_string()])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // One broken file among three: "1 file".
    std::fs::write(
        dir.path().join("b.yaml"),
        text.replace("id: treserva-sampling", "id: other-one"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("c.yaml"),
        text.replace("id: treserva-sampling", "id: broken-one")
            .replace("to: contact_employee", "to: contact_employe"),
    )
    .expect("write");
    let run = Test::new()
        .args(["check", &dir.path().display().to_string()])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("check failed in 1 file: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dedented_label_is_reported_at_its_own_line_with_no_cascade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text =
        std::fs::read_to_string(root().join("routines/treserva-sampling.yaml")).expect("routine");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "label: Oklart – kontakta medarbetaren")
        .expect("the label");
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[at] = edited[at].replacen("  ", "", 1);
    let path = dir.path().join("t.yaml");
    std::fs::write(&path, edited.join("\n")).expect("write");
    let run = Test::new()
        .args(["check", &path.display().to_string()])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.matches("error[").count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("t.yaml:{}:", at + 1)),
        "at the label's own line {}: {}",
        at + 1,
        run.stderr
    );
    assert!(
        run.stderr.contains("seems to belong under `unclear`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_dedented_outcome_gives_one_error_saying_where_it_belongs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text =
        std::fs::read_to_string(root().join("routines/treserva-sampling.yaml")).expect("routine");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "unclear:")
        .expect("the outcome");
    let mut end = at + 1;
    while lines[end].starts_with(&" ".repeat(8)) {
        end += 1;
    }
    for line in &mut lines[at..end] {
        *line = line[2..].to_string();
    }
    let path = dir.path().join("t.yaml");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let run = Test::new()
        .args(["check", &path.display().to_string()])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.matches("error[").count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("t.yaml:{}:", at + 1)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("seems to belong under `outcomes:`"),
        "{}",
        run.stderr
    );
}

/// Issue 29: each mistake of a shipped routine, edited as quality staff slip, is reported at its
/// own line, once.
#[test]
fn each_slip_is_reported_at_its_own_line_once() {
    let text =
        std::fs::read_to_string(root().join("routines/treserva-sampling.yaml")).expect("routine");
    let lines: Vec<&str> = text.lines().collect();
    let find = |wanted: &str| {
        lines
            .iter()
            .position(|l| l.trim_start().starts_with(wanted))
            .expect("the line")
    };
    let check = |edited: Vec<String>, line: usize, says: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, edited.join("\n")).expect("write");
        let run = Test::new()
            .args(["check", &path.display().to_string()])
            .run();
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(run.stderr.matches("error[").count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("t.yaml:{line}:")),
            "at line {line}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    };
    let owned = || lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    // A key indented too far, after a `key: value` line (a comment between).
    let title = find("title: Granska loggen");
    let assignee = find("assignee: unit_manager");
    let mut over = owned();
    over[assignee] = format!("  {}", over[assignee]);
    check(over, assignee + 1, "indented more than the line before it");
    // A tab at the start of a line.
    let mut tab = owned();
    tab[title] = format!("\t{}", tab[title].trim_start());
    check(tab, title + 1, "a tab in the indentation");
    // A misspelt key: one error, with the key it meant.
    let mut key = owned();
    key[assignee] = key[assignee].replace("assignee", "asignee");
    check(key, assignee + 1, "did you mean `assignee`?");
    // A misspelt Swedish role: did you mean the Swedish title.
    let mut role = owned();
    role[assignee] = role[assignee].replace("unit_manager", "enhetchef");
    check(role, assignee + 1, "did you mean `enhetschef`?");
}

/// Issue 29: a syntax error does not hide the rest of the file: the line is read past, and a
/// wrong value further down is still reported, each at its line.
#[test]
fn a_syntax_error_does_not_hide_the_rest_of_the_file() {
    let text =
        std::fs::read_to_string(root().join("routines/treserva-sampling.yaml")).expect("routine");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let title = lines
        .iter()
        .position(|l| l.trim_start().starts_with("title: Granska loggen"))
        .expect("the title");
    let role = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("assignee: "))
        .expect("a later assignee");
    assert!(role > title + 5);
    lines[title] = format!("	{}", lines[title].trim_start());
    lines[role] = format!(
        "{}assignee: enhetchef",
        " ".repeat(lines[role].len() - lines[role].trim_start().len())
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        lines.join(
            "
",
        ),
    )
    .expect("write");
    let run = Test::new()
        .args(["check", &path.display().to_string()])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("t.yaml:{}:1: error[yaml-syntax]", title + 1)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("t.yaml:{}:", role + 1)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `enhetschef`?"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("error[").count(), 2, "{}", run.stderr);
}
