//! The engine through the real binary (`../shared/CLI.md`): roster imports that are all or
//! nothing and keep history, answers that are checked and move cases on, the case JSON,
//! delegations, ad hoc cases. A small hand-written roster (`tests/fixtures/engine/roster`): one
//! business area (AO1) with one operation (VH1: head OPS1, deputy DEP1) and two units (EN1: unit
//! manager UM1, EN2: UM2), an HR strategist, SAS and MAS at the top, and ten staff (U10 works at
//! both units).

#[path = "support/engine.rs"]
mod helpers;
mod support;

use helpers::{count, dump, strings};
use loggkoll::store::Db;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::{Run, Test};
use tempfile::TempDir;

/// A database in a temporary folder, driven by the binary with the shipped routines and
/// templates; emails go to `outbox/` there.
struct Site {
    dir: TempDir,
    db: PathBuf,
}

impl Site {
    /// A new database with a fixed installation seed (so the draws are the same every run), the
    /// fixture roster imported on 15 January 2027.
    fn new(seed: &str) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = helpers::backend::location(dir.path(), "loggkoll");
        let store = loggkoll::store::Store::at(&db).expect("store");
        loggkoll::store::meta_set(store.db(), "install_seed", seed).expect("seed");
        drop(store);
        let site = Site { dir, db };
        let r = site.import("people.csv", "2027-01-15T09:00");
        assert_eq!(r.code, 0, "{}", r.stderr);
        site
    }

    fn run(&self, args: &[&str]) -> Run {
        let root = helpers::root();
        Test::in_dir(self.dir.path())
            .args([
                "--db",
                path(&self.db),
                "--routines",
                path(&root.join("routines")),
                "--templates",
                path(&root.join("templates")),
            ])
            .args(args)
            .run()
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "loggkoll {args:?}: {}", r.stderr);
        r
    }

    fn import(&self, people: &str, now: &str) -> Run {
        let roster = helpers::fixture("roster");
        let people = if Path::new(people).is_absolute() {
            PathBuf::from(people)
        } else {
            roster.join(people)
        };
        self.run(&[
            "roster",
            "import",
            "--units",
            path(&roster.join("units.csv")),
            "--people",
            path(&people),
            "--now",
            now,
            "--json",
        ])
    }

    fn conn(&self) -> Db {
        loggkoll::store::Store::at(std::path::Path::new(&&self.db))
            .expect("db")
            .into_db()
    }

    /// Runs `args`, which must be refused with exit 2 and change nothing; returns stderr.
    fn refused(&self, args: &[&str]) -> String {
        let before = dump(&self.conn());
        let r = self.run(args);
        assert_eq!(r.code, 2, "loggkoll {args:?}: {}{}", r.stdout, r.stderr);
        helpers::assert_same_tables(&before, &dump(&self.conn()), &format!("{args:?}"));
        r.stderr
    }

    fn json(&self, args: &[&str]) -> Value {
        let r = self.ok(args);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", r.stdout))
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn column(conn: &Db, sql: &str, params: impl loggkoll::store::db::Params) -> Vec<String> {
    strings(conn, sql, params)
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect()
}

/// (purpose, recipient) of the outbox rows of `case` created at `at`.
fn emails(conn: &Db, case: &str, at: &str) -> BTreeSet<(String, String)> {
    strings(
        conn,
        "SELECT purpose, recipient_id FROM outbox WHERE case_id = ?1 AND created_at = ?2",
        [case, at],
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ----- roster import -----

#[test]
fn a_bad_roster_row_refuses_the_whole_import_and_changes_nothing() {
    let site = Site::new("cli-roster-bad");
    site.ok(&["tick", "--now", "2027-03-01T07:05"]);
    let stderr = site.refused(&[
        "roster",
        "import",
        "--units",
        path(&helpers::fixture("roster/units.csv")),
        "--people",
        path(&helpers::fixture("roster/people-bad.csv")),
        "--now",
        "2027-03-02T09:00",
    ]);
    // Line 6 holds an unknown role.
    assert!(stderr.contains("people-bad.csv:6:"), "{stderr}");
    assert!(stderr.contains("chief_of_everything"), "{stderr}");
    // A missing file is refused the same way.
    site.refused(&[
        "roster",
        "import",
        "--units",
        path(&helpers::fixture("roster/units.csv")),
        "--people",
        path(&site.dir.path().join("no-such-people.csv")),
        "--now",
        "2027-03-02T09:00",
    ]);
}

#[test]
fn a_second_import_keeps_the_history_of_a_removed_person() {
    let site = Site::new("cli-roster-history");
    site.ok(&["tick", "--now", "2027-03-01T07:05"]);
    let conn = site.conn();
    let gone = column(
        &conn,
        "SELECT subject_person_id FROM cases WHERE routine_id = 'treserva-sampling' ORDER BY id LIMIT 1",
        (),
    )
    .remove(0);
    let cases_before = column(
        &conn,
        "SELECT id FROM cases WHERE subject_person_id = ?1 ORDER BY id",
        [&gone],
    );
    let members_before = strings(
        &conn,
        "SELECT round_id, unit_id, account, COALESCE(drawn, '') FROM round_members
         WHERE person_id = ?1 ORDER BY round_id",
        [&gone],
    );
    assert!(!members_before.is_empty());

    // The same people.csv without the person.
    let text = std::fs::read_to_string(helpers::fixture("roster/people.csv")).expect("read");
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{gone},")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without.lines().count() + 1, text.lines().count());
    let second = site.dir.path().join("people-second.csv");
    std::fs::write(&second, without).expect("write");
    let r = site.import(path(&second), "2027-03-10T09:00");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(
        (&summary["removed"], &summary["added"], &summary["changed"]),
        (&Value::from(1), &Value::from(0), &Value::from(0))
    );

    // Still in `people`, marked removed at the import; a removal row in the history after the
    // original record.
    let removed_at = column(
        &conn,
        "SELECT removed_at FROM people WHERE id = ?1",
        [&gone],
    );
    assert_eq!(removed_at, ["2027-03-10T08:00:00Z"]);
    let history = strings(
        &conn,
        "SELECT h.import_id, h.record FROM person_history h WHERE h.person_id = ?1 ORDER BY h.import_id",
        [&gone],
    );
    assert_eq!(history.len(), 2, "{history:?}");
    let first: Value = serde_json::from_str(&history[0][1]).expect("json");
    assert_eq!(first["id"], Value::from(gone.as_str()));
    let last: Value = serde_json::from_str(&history[1][1]).expect("json");
    assert_eq!(last, serde_json::json!({"removed": true}));
    assert!(history[0][0] < history[1][0]);
    // Nobody else changed.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM person_history WHERE import_id = (SELECT MAX(id) FROM roster_imports)",
            ()
        ),
        1
    );

    // The old cases and round membership remain, and the case still shows.
    assert_eq!(
        column(
            &conn,
            "SELECT id FROM cases WHERE subject_person_id = ?1 ORDER BY id",
            [&gone]
        ),
        cases_before
    );
    assert_eq!(
        strings(
            &conn,
            "SELECT round_id, unit_id, account, COALESCE(drawn, '') FROM round_members
             WHERE person_id = ?1 ORDER BY round_id",
            [&gone],
        ),
        members_before
    );
    let shown = site.json(&["case", "show", &cases_before[0], "--json"]);
    assert_eq!(shown["subject_user"], Value::from(gone.as_str()));

    // The next round no longer draws from them.
    site.ok(&["tick", "--now", "2027-04-01T07:05"]);
    let april: Vec<String> = column(
        &conn,
        "SELECT m.person_id FROM round_members m JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = 'treserva-sampling' AND r.occurrence = '2027-04-01T05:00:00Z'",
        (),
    );
    assert!(!april.is_empty());
    assert!(!april.contains(&gone), "{gone} in {april:?}");
}

#[test]
fn a_second_tick_at_the_same_time_changes_nothing() {
    let site = Site::new("cli-tick-twice");
    for now in ["2027-03-01T07:05", "2027-03-16T09:00"] {
        let first = site.json(&["tick", "--now", now, "--json"]);
        let before = dump(&site.conn());
        let files: Vec<_> = std::fs::read_dir(site.dir.path().join("outbox"))
            .expect("outbox folder")
            .map(|e| e.expect("entry").file_name())
            .collect();
        let again = site.json(&["tick", "--now", now, "--json"]);
        helpers::assert_same_tables(&before, &dump(&site.conn()), now);
        assert_eq!(again["rounds"], serde_json::json!([]), "{again}");
        assert_eq!(
            (&again["reminders"], &again["escalations"]),
            (&Value::from(0), &Value::from(0))
        );
        assert_eq!(again["emails"]["sent"], 0);
        let files_again: Vec<_> = std::fs::read_dir(site.dir.path().join("outbox"))
            .expect("outbox folder")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(files_again.len(), files.len());
        // The first tick did something each time: the rounds, then the first reminders.
        assert!(
            // The two sampling rounds and, on 1 March, the access-rights review.
            first["rounds"].as_array().is_some_and(|r| r.len() >= 2)
                || first["reminders"].as_u64().is_some_and(|n| n > 0),
            "{first}"
        );
    }
}

// ----- answers -----

/// The keys of `../shared/CLI.md`'s case JSON.
const CASE_KEYS: [&str; 14] = [
    "id",
    "routine",
    "kind",
    "unit",
    "subject_user",
    "state",
    "assignee",
    "due",
    "opened_at",
    "closed_at",
    "round",
    "window_start",
    "window_end",
    "outcomes",
];

/// Issue 29: a first tick that runs nothing says when each routine first runs; `round list` says
/// when each runs next. In the routine's zone: Treserva's monthly round at 07:00 on the 1st.
#[test]
fn tick_and_round_list_say_when_each_routine_next_runs() {
    let site = Site::new("cli-next-runs");
    let quiet = site.ok(&["tick", "--now", "2027-01-20T09:00"]);
    assert!(quiet.stderr.contains("0 rounds"), "{}", quiet.stderr);
    assert!(
        quiet
            .stderr
            .contains("treserva-sampling 2027-02-01 07:00 (Europe/Stockholm)"),
        "{}",
        quiet.stderr
    );
    let listed = site.ok(&["round", "list", "--now", "2027-02-01T09:00"]);
    assert!(
        listed.stderr.contains("next runs: ")
            && listed
                .stderr
                .contains("treserva-sampling 2027-03-01 07:00 (Europe/Stockholm)"),
        "{}",
        listed.stderr
    );
    // JSON stays alone on stdout.
    let json = site.json(&["round", "list", "--now", "2027-02-01T09:00", "--json"]);
    assert!(json.is_array(), "{json}");
}

fn assert_case_json(v: &Value) {
    for key in CASE_KEYS {
        assert!(v.get(key).is_some(), "`{key}` missing from {v}");
    }
    for key in ["opened_at", "closed_at", "window_start", "window_end"] {
        if let Some(t) = v[key].as_str() {
            assert!(
                chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                "`{key}` is not RFC 3339: {t}"
            );
        }
    }
}

/// The first Treserva case of the 1 March round, its unit manager and another staff member.
fn a_treserva_review(site: &Site) -> (String, String, String) {
    let conn = site.conn();
    let case = strings(
        &conn,
        "SELECT c.id, c.unit_id, c.subject_person_id FROM cases c
         WHERE c.routine_id = 'treserva-sampling' ORDER BY c.id LIMIT 1",
        (),
    )
    .remove(0);
    let manager = if case[1] == "EN1" { "UM1" } else { "UM2" };
    let other = if case[2] == "U04" { "U05" } else { "U04" };
    (case[0].clone(), manager.to_string(), other.to_string())
}

#[test]
fn answers_are_checked_and_move_cases_on() {
    let site = Site::new("cli-answers");
    site.ok(&["tick", "--now", "2027-03-01T07:05"]);
    let (case, manager, staff) = a_treserva_review(&site);
    let other_manager = if manager == "UM1" { "UM2" } else { "UM1" };
    let now = ["--now", "2027-03-02T10:00"];
    let answer = |outcome: &str, by: &str, comment: Option<&str>| -> Vec<String> {
        let mut args: Vec<String> = ["case", "answer", &case, outcome, "--by", by]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(c) = comment {
            args.extend(["--comment".to_string(), c.to_string()]);
        }
        args.extend(now.iter().map(|s| s.to_string()));
        args
    };
    let refuse = |args: Vec<String>| -> String {
        site.refused(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // An outcome the step does not offer: the offered ones are listed.
    let stderr = refuse(answer("bogus", &manager, None));
    for offered in ["no_finding", "unclear", "suspected_intrusion"] {
        assert!(stderr.contains(offered), "{stderr}");
    }
    // People not allowed: a staff member, the manager of the other unit, someone unknown.
    refuse(answer("no_finding", &staff, None));
    refuse(answer("no_finding", other_manager, None));
    refuse(answer("no_finding", "NOBODY", None));
    // A required comment missing (blank counts as missing).
    let stderr = refuse(answer("suspected_intrusion", &manager, None));
    assert!(stderr.contains("comment"), "{stderr}");
    refuse(answer("suspected_intrusion", &manager, Some("   ")));

    // A valid answer moves the case on; the next step's assignee gets a task, the roles the
    // state informs get a notice.
    let args = answer(
        "suspected_intrusion",
        &manager,
        Some("Läste utan vårdrelation"),
    );
    site.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let conn = site.conn();
    assert_eq!(
        column(&conn, "SELECT state FROM cases WHERE id = ?1", [&case]),
        ["labour_law_matter"]
    );
    let open = strings(
        &conn,
        "SELECT id, state, assignee_id FROM tasks WHERE case_id = ?1 AND answered_at IS NULL",
        [&case],
    );
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0][1..],
        ["labour_law_matter".to_string(), manager.clone()]
    );
    assert_eq!(
        emails(&conn, &case, "2027-03-02T09:00:00Z"),
        pairs(&[("task", &manager), ("inform", "HR1"), ("inform", "OPS1")])
    );
    let task_mail = column(
        &conn,
        "SELECT task_id FROM outbox WHERE case_id = ?1 AND purpose = 'task' AND created_at = '2027-03-02T09:00:00Z'",
        [&case],
    );
    assert_eq!(task_mail, [open[0][0].clone()]);

    // To the end, then a closed case refuses answers.
    let args = answer("no_action", &manager, Some("Åtkomsten var befogad"));
    site.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = refuse(answer("no_action", &manager, Some("igen")));
    assert!(stderr.contains("closed"), "{stderr}");

    // `case list --json`: every key of the case JSON; the closed case offers nothing.
    let list = site.json(&["case", "list", "--json"]);
    let list = list.as_array().expect("an array");
    assert_eq!(
        list.len() as i64,
        count(&conn, "SELECT COUNT(*) FROM cases", ())
    );
    for c in list {
        assert_case_json(c);
    }
    let closed = list
        .iter()
        .find(|c| c["id"] == case.as_str())
        .expect("listed");
    assert_eq!(closed["state"], "closed_explained");
    assert_eq!(closed["outcomes"], serde_json::json!([]));
    assert_eq!(closed["closed_at"], "2027-03-02T09:00:00Z");
    assert_eq!(closed["assignee"], Value::Null);
    assert_eq!(closed["kind"], "sampling");
    assert_eq!(closed["routine"], "treserva-sampling");
    // An open Treserva review and an open NPÖ review.
    for (routine, outcomes, due) in [
        (
            "treserva-sampling",
            ["no_finding", "unclear", "suspected_intrusion"],
            "2027-03-15",
        ),
        (
            "npo-sampling",
            ["no_finding", "unclear", "suspected_intrusion"],
            "2027-03-22",
        ),
    ] {
        let open = list
            .iter()
            .find(|c| c["routine"] == routine && c["closed_at"].is_null())
            .unwrap_or_else(|| panic!("an open {routine} case"));
        assert_eq!(open["outcomes"], serde_json::json!(outcomes));
        assert_eq!(open["state"], "review");
        assert_eq!(open["due"], due);
        assert_eq!(open["opened_at"], "2027-03-01T06:05:00Z");
        assert!(open["round"].is_i64());
        assert!(open["window_start"].is_string() && open["window_end"].is_string());
        let unit = open["unit"].as_str().expect("unit");
        let expected_assignee = match (routine, unit) {
            ("npo-sampling", _) => "OPS1",
            (_, "EN1") => "UM1",
            _ => "UM2",
        };
        assert_eq!(open["assignee"], expected_assignee);
        let id = open["id"].as_str().expect("id");
        let subject = column(
            &conn,
            "SELECT subject_person_id FROM cases WHERE id = ?1",
            [id],
        );
        assert_eq!(open["subject_user"], Value::from(subject[0].as_str()));
    }

    // `case show --json` adds the history, in order.
    let shown = site.json(&["case", "show", &case, "--json"]);
    let mut without_history = shown.clone();
    let history = without_history
        .as_object_mut()
        .and_then(|o| o.remove("history"))
        .expect("history");
    assert_eq!(&without_history, closed);
    let events: Vec<(&str, &str)> = history
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            (
                e["event"].as_str().expect("event"),
                e["actor"].as_str().expect("actor"),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("case.opened", "system"),
            ("case.answered", manager.as_str()),
            ("case.answered", manager.as_str())
        ]
    );
    assert_eq!(history[1]["data"]["outcome"], "suspected_intrusion");
    assert_eq!(history[1]["personal"]["comment"], "Läste utan vårdrelation");
}

/// `../shared/CLI.md`: "An outcome the step does not offer, a person not allowed to answer, or a
/// missing required comment: exit 2, the allowed outcomes listed, nothing changed."
#[test]
fn every_refused_answer_lists_the_allowed_outcomes() {
    let site = Site::new("cli-answers-listed");
    site.ok(&["tick", "--now", "2027-03-01T07:05"]);
    let (case, manager, staff) = a_treserva_review(&site);
    for args in [
        vec!["case", "answer", &case, "no_finding", "--by", &staff],
        vec!["case", "answer", &case, "unclear", "--by", &manager],
    ] {
        let stderr = site.refused(&args);
        for offered in ["no_finding", "unclear", "suspected_intrusion"] {
            assert!(stderr.contains(offered), "{args:?}: {stderr}");
        }
    }
}

// ----- delegation -----

#[test]
fn a_delegation_sends_new_reviews_to_the_deputy_and_escalations_to_the_holder() {
    let site = Site::new("cli-delegation");
    let r = site.ok(&[
        "delegation",
        "add",
        "--holder",
        "OPS1",
        "--deputy",
        "DEP1",
        "--role",
        "operations_manager",
        "--from",
        "2027-02-20",
        "--to",
        "2027-03-31",
        "--now",
        "2027-02-15T09:00",
    ]);
    assert!(!r.stdout.trim().is_empty());
    let list = site.json(&["delegation", "list", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    site.ok(&["tick", "--now", "2027-03-01T07:05"]);
    let conn = site.conn();
    // NPÖ reviews (assigned to the operations manager) go to the deputy; the holder stays on
    // record. Treserva reviews (unit managers) are not affected.
    let npo = strings(
        &conn,
        "SELECT c.id, t.assignee_id, t.holder_id FROM cases c JOIN tasks t ON t.case_id = c.id
         WHERE c.routine_id = 'npo-sampling' ORDER BY c.id",
        (),
    );
    assert!(npo.len() >= 3, "{npo:?}");
    for row in &npo {
        assert_eq!(
            row[1..],
            ["DEP1".to_string(), "OPS1".to_string()],
            "{row:?}"
        );
        assert_eq!(
            emails(&conn, &row[0], "2027-03-01T06:05:00Z"),
            pairs(&[("task", "DEP1")])
        );
    }
    let tre_assignees: BTreeSet<String> = column(
        &conn,
        "SELECT t.assignee_id FROM cases c JOIN tasks t ON t.case_id = c.id
         WHERE c.routine_id = 'treserva-sampling'",
        (),
    )
    .into_iter()
    .collect();
    assert!(tre_assignees.iter().all(|a| a == "UM1" || a == "UM2"));

    // The deputy and the holder may both answer; others may not.
    let at = ["--now", "2027-03-03T10:00"];
    site.ok(&[
        &[
            "case",
            "answer",
            npo[0][0].as_str(),
            "no_finding",
            "--by",
            "DEP1",
        ][..],
        &at,
    ]
    .concat());
    site.ok(&[
        &[
            "case",
            "answer",
            npo[1][0].as_str(),
            "no_finding",
            "--by",
            "OPS1",
        ][..],
        &at,
    ]
    .concat());
    site.refused(
        &[
            &[
                "case",
                "answer",
                npo[2][0].as_str(),
                "no_finding",
                "--by",
                "UM1",
            ][..],
            &at,
        ]
        .concat(),
    );
    assert_eq!(
        column(
            &conn,
            "SELECT answered_by FROM tasks WHERE case_id IN (?1, ?2) ORDER BY case_id",
            [&npo[0][0], &npo[1][0]]
        ),
        ["DEP1", "OPS1"]
    );

    // Left unanswered through the period: NPÖ reminders to the deputy, its escalation to the
    // business area manager; the Treserva escalations to the operations manager go to the
    // holder, never to the deputy.
    site.ok(&["tick", "--now", "2027-03-26T09:00"]);
    let escalations = strings(
        &conn,
        "SELECT c.routine_id, o.recipient_id FROM outbox o JOIN cases c ON c.id = o.case_id
         WHERE o.purpose = 'escalation' AND c.kind = 'sampling' GROUP BY 1, 2",
        (),
    );
    assert_eq!(
        escalations,
        [
            ["npo-sampling".to_string(), "BAM1".to_string()],
            ["treserva-sampling".to_string(), "OPS1".to_string()]
        ]
    );
    let npo_reminded = column(
        &conn,
        "SELECT DISTINCT recipient_id FROM outbox WHERE purpose = 'reminder' AND case_id = ?1",
        [&npo[2][0]],
    );
    assert_eq!(npo_reminded, ["DEP1"]);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder' AND case_id = ?1",
            [&npo[2][0]]
        ),
        2
    );

    // After the period, the holder gets new reviews again.
    site.ok(&["tick", "--now", "2027-09-01T07:05"]);
    let september = strings(
        &conn,
        "SELECT t.assignee_id, t.holder_id, COUNT(*) FROM cases c JOIN tasks t ON t.case_id = c.id
         JOIN rounds r ON r.id = c.round_id
         WHERE c.routine_id = 'npo-sampling' AND r.occurrence = '2027-09-01T05:00:00Z'
         GROUP BY 1, 2",
        (),
    );
    assert_eq!(september.len(), 1, "{september:?}");
    assert_eq!(september[0][..2], ["OPS1".to_string(), "OPS1".to_string()]);
}

// ----- ad hoc cases -----

#[test]
fn a_targeted_review_opens_at_the_decision_and_informs_hr_and_the_business_area() {
    let site = Site::new("cli-targeted");
    let open = |now: &str| {
        site.json(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "EN1",
            "--by",
            "OPS1",
            "--subject-user",
            "U02",
            "--reason",
            "Misstanke om obehörig läsning",
            "--now",
            now,
            "--json",
        ])
    };
    let first = open("2027-02-03T10:00");
    assert_case_json(&first);
    assert_eq!(first["id"], "RIK-2027-0001");
    assert_eq!(first["kind"], "targeted");
    assert_eq!(first["state"], "decision");
    assert_eq!(first["assignee"], "OPS1");
    assert_eq!(first["subject_user"], "U02");
    assert_eq!(first["round"], Value::Null);
    assert_eq!(
        first["outcomes"],
        serde_json::json!(["start_review", "not_pursued"])
    );
    // 1 working day after Wednesday 3 February.
    assert_eq!(first["due"], "2027-02-04");
    let conn = site.conn();
    assert_eq!(
        emails(&conn, "RIK-2027-0001", "2027-02-03T09:00:00Z"),
        pairs(&[("task", "OPS1"), ("inform", "HR1"), ("inform", "BAM1")])
    );
    // The reason is personal: in the audit trail's erasable part, not in any email.
    let contexts = column(&conn, "SELECT context FROM outbox", ());
    assert!(contexts.iter().all(|c| !c.contains("Misstanke")));
    let second = open("2027-02-04T10:00");
    assert_eq!(second["id"], "RIK-2027-0002");

    // Without a reason it is refused.
    site.refused(&[
        "case",
        "open",
        "targeted-review",
        "--unit",
        "EN1",
        "--by",
        "OPS1",
        "--subject-user",
        "U02",
        "--now",
        "2027-02-04T11:00",
    ]);
}

#[test]
fn a_log_extract_needs_a_valid_client_and_a_period() {
    let site = Site::new("cli-extract");
    // The engine has run once (see the ignored test below for a database where it has not).
    site.ok(&["tick", "--now", "2027-02-01T00:00"]);
    let base = [
        "case",
        "open",
        "log-extract",
        "--unit",
        "EN2",
        "--by",
        "UM2",
        "--now",
        "2027-02-03T10:00",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    // A date alone as --to includes that day: the period ends at midnight after 31 January.
    let period = ["--from", "2027-01-01", "--to", "2027-01-31"];
    let refused: Vec<Vec<&str>> = vec![
        // No client.
        period.to_vec(),
        // Not 12 digits; a wrong check digit; no date.
        [&["--client", "12345"][..], &period].concat(),
        [&["--client", "19121212-1213"][..], &period].concat(),
        [&["--client", "19121312-1212"][..], &period].concat(),
        // A valid client without the period.
        vec!["--client", "19121212-1212"],
    ];
    for extra in &refused {
        let args = with(extra);
        let stderr = site.refused(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            stderr.contains("--client") || stderr.contains("--from"),
            "{extra:?}: {stderr}"
        );
    }
    let args = with(&[&["--client", "19121212-1212"][..], &period].concat());
    let r = site.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.stdout.trim(), "UTL-2027-0001");
    let conn = site.conn();
    let case = strings(
        &conn,
        "SELECT kind, state, client_ref, window_start, window_end FROM cases WHERE id = 'UTL-2027-0001'",
        (),
    );
    assert_eq!(
        case[0],
        [
            "extract",
            "hand_out",
            "19121212-1212",
            // Midnight in Stockholm.
            "2026-12-31T23:00:00Z",
            "2027-01-31T23:00:00Z"
        ]
    );
    assert_eq!(
        emails(&conn, "UTL-2027-0001", "2027-02-03T09:00:00Z"),
        pairs(&[("task", "UM2")])
    );
    // Emails carry no client identity.
    let contexts = column(&conn, "SELECT context FROM outbox", ());
    assert!(contexts.iter().all(|c| !c.contains("19121212")));
}

/// `../shared/CLI.md`: exit 2 means "refused, **nothing changed**" — also on a database where
/// the engine has not run yet, or after a routine file was edited.
#[test]
fn a_refused_command_on_a_fresh_database_changes_nothing() {
    let site = Site::new("cli-fresh");
    site.refused(&[
        "case",
        "open",
        "log-extract",
        "--unit",
        "EN2",
        "--by",
        "UM2",
        "--from",
        "2027-01-01",
        "--to",
        "2027-02-01",
        "--now",
        "2027-02-03T10:00",
    ]);
}
