//! `tick` over time: ticks are idempotent and how they are spread does not matter, missed runs
//! are caught up as each routine's policy says, daily runs keep to the wall clock across the
//! daylight-saving changes of 2026 and 2027 (and so do deadlines and reminders), and an
//! unanswered review is reminded and escalated exactly once each, whatever the number of ticks.

#[path = "support/engine.rs"]
mod helpers;

use chrono::{DateTime, Duration, Utc};
use helpers::{count, dump, local, strings, ts, utc};
use loggkoll::engine::Engine;
use loggkoll::roster::{Role, Roster};
use loggkoll::simulate::org::synthetic;
use loggkoll::store::Db;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Ticks at `now` and checks that a second tick at the same instant changes no row of any table.
fn tick_twice(engine: &mut Engine, now: DateTime<Utc>) {
    engine.tick(now).expect("tick");
    let before = dump(engine.store.db());
    let again = engine.tick(now).expect("tick again");
    assert!(
        again.rounds.is_empty() && again.reminders == 0 && again.escalations == 0,
        "a second tick at {now} did something: {again:?}"
    );
    helpers::assert_same_tables(&before, &dump(engine.store.db()), &format!("tick at {now}"));
}

// ----- idempotence and chunking -----

/// What a run of ticks leaves, by natural keys (not by row ids or times of handling).
#[derive(Debug, PartialEq, Eq)]
struct Left {
    rounds: BTreeSet<Vec<String>>,
    cases: BTreeSet<Vec<Option<String>>>,
    outbox: BTreeMap<Vec<Option<String>>, i64>,
}

fn left(conn: &Db) -> Left {
    Left {
        rounds: strings(conn, "SELECT routine_id, occurrence FROM rounds", ())
            .into_iter()
            .collect(),
        cases: helpers::rows(
            conn,
            "SELECT c.routine_id, r.occurrence, c.subject_person_id, c.id, c.state, c.reason,
                    c.window_start, c.window_end, c.unit_id
             FROM cases c LEFT JOIN rounds r ON r.id = c.round_id",
            (),
        )
        .into_iter()
        .collect(),
        outbox: helpers::rows(
            conn,
            "SELECT o.purpose, c.routine_id, r.occurrence, c.subject_person_id, o.recipient_id,
                    o.template, COUNT(*)
             FROM outbox o LEFT JOIN cases c ON c.id = o.case_id
             LEFT JOIN rounds r ON r.id = c.round_id
             GROUP BY 1, 2, 3, 4, 5, 6",
            (),
        )
        .into_iter()
        .map(|mut r| {
            let n = r.pop().flatten().expect("count").parse().expect("number");
            (r, n)
        })
        .collect(),
    }
}

const CHUNK_FROM: &str = "2027-01-01T00:00";
const CHUNK_TO: &str = "2027-02-15T12:00";

/// An engine on the `chunking` fixture (weekly coverage sampling with multi-unit follow-up, and
/// twice-monthly NPÖ sampling; both `catch_up: all`), a roster from the first instant, and ticks
/// at `ticks` then at the end.
fn run_chunked(dir: &Path, ticks: &[DateTime<Utc>]) -> Left {
    let start = local(CHUNK_FROM);
    let end = local(CHUNK_TO);
    let mut engine = helpers::open(
        dir,
        "chunked",
        &helpers::fixture("chunking"),
        "chunking-seed",
        start,
    );
    helpers::import(&mut engine, &synthetic(80, 4, 3), start);
    let mut ticks: Vec<DateTime<Utc>> = ticks.to_vec();
    ticks.sort();
    ticks.dedup();
    for t in ticks.into_iter().filter(|t| *t < end) {
        tick_twice(&mut engine, t);
    }
    tick_twice(&mut engine, end);
    left(engine.store.db())
}

fn one_tick_reference() -> Left {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = run_chunked(dir.path(), &[]);
    // The reference itself is what the schedules say: Mondays at 07:00 and the 1st and 15th at
    // 09:00, from the roster to the end.
    let mondays = [
        "2027-01-04",
        "2027-01-11",
        "2027-01-18",
        "2027-01-25",
        "2027-02-01",
        "2027-02-08",
        "2027-02-15",
    ];
    let mut expected: BTreeSet<Vec<String>> = mondays
        .iter()
        .map(|d| {
            vec![
                "weekly-coverage".to_string(),
                ts(local(&format!("{d}T07:00"))),
            ]
        })
        .collect();
    for d in ["2027-01-01", "2027-01-15", "2027-02-01", "2027-02-15"] {
        expected.insert(vec![
            "fortnightly-npo".to_string(),
            ts(local(&format!("{d}T09:00"))),
        ]);
    }
    assert_eq!(reference.rounds, expected);
    assert!(
        reference.cases.len() > 20,
        "{} cases",
        reference.cases.len()
    );
    assert!(
        reference
            .outbox
            .keys()
            .any(|k| k[0].as_deref() == Some("inform")),
        "the informed HR strategist is part of the comparison"
    );
    reference
}

#[test]
fn ticks_are_idempotent_and_chunking_does_not_matter() {
    let reference = one_tick_reference();
    let start = local(CHUNK_FROM);
    let end = local(CHUNK_TO);
    let occurrences: Vec<DateTime<Utc>> = reference.rounds.iter().map(|r| utc(&r[1])).collect();
    let hand_picked: Vec<(&str, Vec<DateTime<Utc>>)> = vec![
        ("at every occurrence exactly", occurrences.clone()),
        (
            "a second before every occurrence",
            occurrences
                .iter()
                .map(|t| *t - Duration::seconds(1))
                .collect(),
        ),
        (
            "every morning",
            helpers::mornings(
                helpers::date("2027-01-01"),
                helpers::date("2027-02-15"),
                6,
                0,
            ),
        ),
        ("only halfway", vec![start + (end - start) / 2]),
    ];
    for (what, ticks) in hand_picked {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(run_chunked(dir.path(), &ticks), reference, "ticks {what}");
    }

    // Random split points.
    let minutes = (end - start).num_minutes();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(0..minutes, 1..6), |splits| {
            let ticks: Vec<DateTime<Utc>> = splits
                .iter()
                .map(|m| start + Duration::minutes(*m))
                .collect();
            let dir = tempfile::tempdir().expect("tempdir");
            let got = run_chunked(dir.path(), &ticks);
            prop_assert_eq!(&got, &reference, "ticks at {:?}", ticks);
            Ok(())
        })
        .expect("the same as one tick");
}

// ----- catch-up -----

fn round_days(conn: &Db, routine: &str) -> Vec<String> {
    strings(
        conn,
        "SELECT occurrence FROM rounds WHERE routine_id = ?1 ORDER BY occurrence",
        [routine],
    )
    .into_iter()
    .map(|r| helpers::local_date(&r[0]).to_string())
    .collect()
}

#[test]
fn catch_up_after_a_three_month_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "catch-up",
        &helpers::fixture("catch-up"),
        "catch-up-seed",
        local("2027-01-01T00:00"),
    );
    helpers::import(&mut engine, &synthetic(40, 2, 1), local("2027-01-01T00:00"));
    engine.tick(local("2027-01-01T08:00")).expect("tick");
    for routine in ["monthly-latest", "monthly-all", "monthly-skip"] {
        assert_eq!(
            round_days(engine.store.db(), routine),
            ["2027-01-01"],
            "{routine}"
        );
    }
    // Off from January until 15 April: February, March and April were missed.
    let report = engine.tick(local("2027-04-15T08:00")).expect("tick");
    let conn = engine.store.db();
    assert_eq!(
        round_days(conn, "monthly-latest"),
        ["2027-01-01", "2027-04-01"]
    );
    assert_eq!(
        round_days(conn, "monthly-all"),
        ["2027-01-01", "2027-02-01", "2027-03-01", "2027-04-01"]
    );
    // 1 April 07:00 is more than 24 hours before 15 April: `skip` runs nothing.
    assert_eq!(round_days(conn, "monthly-skip"), ["2027-01-01"]);
    assert_eq!(report.rounds.len(), 4);
    // The late round says so in the audit trail.
    let late: Vec<Vec<String>> = strings(
        conn,
        "SELECT json_extract(data, '$.occurrence'), json_extract(data, '$.late') FROM audit
         WHERE event = 'round.drawn' AND json_extract(data, '$.routine') = 'monthly-latest'
         ORDER BY seq",
        (),
    );
    // JSON's true and false: 1 and 0 on SQLite, `true` and `false` on PostgreSQL.
    assert_eq!(
        late.iter()
            .map(|r| matches!(r[1].as_str(), "1" | "true"))
            .collect::<Vec<_>>(),
        [false, true]
    );

    // Back on schedule, every policy runs May. June is handled exactly 24 hours late (still in
    // time for `skip`), July a minute later than that (missed by `skip`).
    engine.tick(local("2027-05-01T08:00")).expect("tick");
    engine.tick(local("2027-06-02T07:00")).expect("tick");
    engine.tick(local("2027-07-02T07:01")).expect("tick");
    let conn = engine.store.db();
    assert_eq!(
        round_days(conn, "monthly-latest"),
        [
            "2027-01-01",
            "2027-04-01",
            "2027-05-01",
            "2027-06-01",
            "2027-07-01"
        ]
    );
    assert_eq!(round_days(conn, "monthly-all").len(), 7);
    assert_eq!(
        round_days(conn, "monthly-skip"),
        ["2027-01-01", "2027-05-01", "2027-06-01"]
    );
    // Nothing missed is caught up later either.
    engine.tick(local("2027-07-20T08:00")).expect("tick");
    assert_eq!(round_days(engine.store.db(), "monthly-skip").len(), 3);
}

// ----- daylight saving -----

/// Five days of the daily 02:30 routine around a change: when the rounds run (UTC), and the step
/// of the round two days before the change: its due date and when its two reminders and its
/// escalation go out (07:00 local after the change).
struct Change {
    name: &'static str,
    roster: &'static str,
    from: &'static str,
    to: &'static str,
    rounds: [&'static str; 5],
    due: &'static str,
    fires: [&'static str; 3],
}

const CHANGES: [Change; 4] = [
    Change {
        name: "spring 2026",
        roster: "2026-03-26T12:00",
        from: "2026-03-27T00:00:00Z",
        to: "2026-03-31T12:00:00Z",
        rounds: [
            "2026-03-27T01:30:00Z",
            "2026-03-28T01:30:00Z",
            // 02:30 does not exist on 29 March: the run is at 03:00 CEST.
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z",
            "2026-03-31T00:30:00Z",
        ],
        due: "2026-03-30",
        fires: [
            "2026-03-29T05:00:00Z",
            "2026-03-30T05:00:00Z",
            "2026-03-31T05:00:00Z",
        ],
    },
    Change {
        name: "autumn 2026",
        roster: "2026-10-22T12:00",
        from: "2026-10-23T00:00:00Z",
        to: "2026-10-27T12:00:00Z",
        rounds: [
            "2026-10-23T00:30:00Z",
            "2026-10-24T00:30:00Z",
            // 02:30 happens twice on 25 October: the run is at the first, 02:30 CEST.
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z",
            "2026-10-27T01:30:00Z",
        ],
        due: "2026-10-26",
        fires: [
            "2026-10-25T06:00:00Z",
            "2026-10-26T06:00:00Z",
            "2026-10-27T06:00:00Z",
        ],
    },
    Change {
        name: "spring 2027",
        roster: "2027-03-25T12:00",
        from: "2027-03-26T00:00:00Z",
        to: "2027-03-30T12:00:00Z",
        rounds: [
            "2027-03-26T01:30:00Z",
            "2027-03-27T01:30:00Z",
            "2027-03-28T01:00:00Z",
            "2027-03-29T00:30:00Z",
            "2027-03-30T00:30:00Z",
        ],
        // Started on Good Friday, due on Easter Monday (calendar days); the escalation a working
        // day later is Tuesday.
        due: "2027-03-29",
        fires: [
            "2027-03-28T05:00:00Z",
            "2027-03-29T05:00:00Z",
            "2027-03-30T05:00:00Z",
        ],
    },
    Change {
        name: "autumn 2027",
        roster: "2027-10-28T12:00",
        from: "2027-10-29T00:00:00Z",
        to: "2027-11-02T12:00:00Z",
        rounds: [
            "2027-10-29T00:30:00Z",
            "2027-10-30T00:30:00Z",
            "2027-10-31T00:30:00Z",
            "2027-11-01T01:30:00Z",
            "2027-11-02T01:30:00Z",
        ],
        due: "2027-11-01",
        fires: [
            "2027-10-31T06:00:00Z",
            "2027-11-01T06:00:00Z",
            "2027-11-02T06:00:00Z",
        ],
    },
];

fn dst_engine(dir: &Path, name: &str, change: &Change) -> Engine {
    let roster_at = local(change.roster);
    let mut engine = helpers::open(dir, name, &helpers::fixture("dst"), "dst-seed", roster_at);
    helpers::import(&mut engine, &synthetic(30, 2, 4), roster_at);
    engine
}

#[test]
fn daily_runs_across_daylight_saving_changes_ticking_every_quarter_hour() {
    for change in &CHANGES {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut engine = dst_engine(dir.path(), "quarter", change);
        let mut t = utc(change.from);
        while t <= utc(change.to) {
            engine.tick(t).expect("tick");
            t += Duration::minutes(15);
        }
        let conn = engine.store.db();
        let rounds: Vec<String> = strings(conn, "SELECT occurrence FROM rounds ORDER BY 1", ())
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(rounds, change.rounds, "{}", change.name);

        // The step of the first round: started at the round (ticks fall on it), due and reminded
        // on the local calendar after the change.
        let tasks = strings(
            conn,
            "SELECT t.id, t.started_at, t.due_date, t.escalated_at IS NOT NULL FROM tasks t
             JOIN cases c ON c.id = t.case_id JOIN rounds r ON r.id = c.round_id
             WHERE r.occurrence = ?1",
            [change.rounds[0]],
        );
        assert!(!tasks.is_empty(), "{}", change.name);
        for task in &tasks {
            assert_eq!(task[1], change.rounds[0], "{}", change.name);
            assert_eq!(task[2], change.due, "{}", change.name);
            assert_eq!(task[3], "1", "{}: escalated", change.name);
            let timers = strings(
                conn,
                "SELECT kind, fire_at, fired_at FROM timers WHERE task_id = ?1 ORDER BY ordinal",
                [&task[0]],
            );
            let expected: Vec<Vec<String>> = ["reminder", "reminder", "escalation"]
                .iter()
                .zip(change.fires)
                .map(|(kind, at)| vec![kind.to_string(), at.to_string(), at.to_string()])
                .collect();
            assert_eq!(timers, expected, "{}: task {}", change.name, task[0]);
            let sent = strings(
                conn,
                "SELECT purpose, created_at FROM outbox WHERE task_id = ?1 ORDER BY id",
                [&task[0]],
            );
            let mut want = vec![vec!["task".to_string(), change.rounds[0].to_string()]];
            want.extend(expected.iter().map(|e| vec![e[0].clone(), e[1].clone()]));
            assert_eq!(sent, want, "{}: task {}", change.name, task[0]);
        }
    }
}

#[test]
fn daily_runs_across_daylight_saving_changes_caught_up_in_one_tick() {
    for change in &CHANGES {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut engine = dst_engine(dir.path(), "once", change);
        let report = engine.tick(utc(change.to)).expect("tick");
        assert_eq!(report.rounds.len(), 5, "{}", change.name);
        let rounds: Vec<String> = strings(
            engine.store.db(),
            "SELECT occurrence FROM rounds ORDER BY 1",
            (),
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        assert_eq!(rounds, change.rounds, "{}", change.name);
        // Ticking on, the day after gets its one round.
        engine
            .tick(utc(change.to) + Duration::days(1))
            .expect("tick");
        assert_eq!(
            count(engine.store.db(), "SELECT COUNT(*) FROM rounds", ()),
            6,
            "{}",
            change.name
        );
    }
}

// ----- reminders and escalation -----

/// The holder of `role` at exactly `unit` in `roster`.
fn holder(roster: &Roster, role: Role, unit: &str) -> String {
    let ids: Vec<&str> = roster
        .people
        .iter()
        .filter(|p| p.roles.iter().any(|r| r.role == role && r.unit == unit))
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids.len(), 1, "{role:?} at {unit}: {ids:?}");
    ids[0].to_string()
}

fn parent(roster: &Roster, unit: &str) -> String {
    roster
        .units
        .iter()
        .find(|u| u.id == unit)
        .and_then(|u| u.parent.clone())
        .expect("a parent unit")
}

/// Outbox rows by (purpose, case, recipient), with how many of each.
fn sent(conn: &Db) -> BTreeMap<(String, String, String), i64> {
    strings(
        conn,
        "SELECT purpose, case_id, recipient_id, COUNT(*) FROM outbox GROUP BY 1, 2, 3",
        (),
    )
    .into_iter()
    .map(|r| {
        (
            (r[0].clone(), r[1].clone(), r[2].clone()),
            r[3].parse().expect("n"),
        )
    })
    .collect()
}

#[test]
fn an_unanswered_review_is_reminded_and_escalated_once_each() {
    let roster = synthetic(60, 3, 9);
    let feb_round = local("2027-02-01T07:05");
    // The answered case is answered on Friday 12 February, after the first reminder.
    let answer_at = local("2027-02-12T10:00");
    let end = local("2027-02-26T00:00");
    let run = |dir: &Path, ticks: &[DateTime<Utc>]| -> Engine {
        let mut engine = helpers::open(
            dir,
            "timers",
            &helpers::shipped(dir, &["treserva-sampling", "npo-sampling"]),
            "timers-seed",
            local("2027-01-20T09:00"),
        );
        helpers::import(&mut engine, &roster, local("2027-01-20T09:00"));
        let mut answered = false;
        for t in ticks {
            if !answered && *t > answer_at {
                let who = strings(
                    engine.store.db(),
                    "SELECT assignee_id FROM tasks WHERE case_id = 'TRE-2027-0001'",
                    (),
                );
                engine
                    .answer(
                        &loggkoll::engine::AnswerRequest::new(
                            "TRE-2027-0001",
                            "no_finding",
                            &who[0][0],
                        ),
                        answer_at,
                    )
                    .expect("answer");
                answered = true;
            }
            engine.tick(*t).expect("tick");
        }
        engine
    };

    // Every hour from the round to the end; and a run with only the ticks that matter.
    let dir_hourly = tempfile::tempdir().expect("tempdir");
    let mut hourly = Vec::new();
    let mut t = feb_round;
    while t <= end {
        hourly.push(t);
        t += Duration::hours(1);
    }
    let hourly = run(dir_hourly.path(), &hourly);
    let dir_sparse = tempfile::tempdir().expect("tempdir");
    let sparse = run(
        dir_sparse.path(),
        &[
            feb_round,
            local("2027-02-10T09:00"),
            answer_at + Duration::hours(1),
            end,
        ],
    );

    let conn = hourly.store.db();
    let cases = strings(
        conn,
        "SELECT id, unit_id, subject_person_id FROM cases WHERE routine_id = 'treserva-sampling' ORDER BY id",
        (),
    );
    assert!(cases.len() >= 3, "{} cases", cases.len());
    let got = sent(conn);
    for case in &cases {
        let (id, unit, subject) = (&case[0], &case[1], &case[2]);
        let head = holder(&roster, Role::OperationsManager, &parent(&roster, unit));
        // A unit manager drawn for review is passed over for the head of operations.
        let manager = match holder(&roster, Role::UnitManager, unit) {
            m if &m == subject => head.clone(),
            m => m,
        };
        let reminders = if id == "TRE-2027-0001" { 1 } else { 2 };
        let escalations = if id == "TRE-2027-0001" { 0 } else { 1 };
        let mut expected = BTreeMap::new();
        expected.insert(("task".to_string(), id.clone(), manager.clone()), 1);
        expected.insert(
            ("reminder".to_string(), id.clone(), manager.clone()),
            reminders,
        );
        if escalations > 0 {
            expected.insert(("escalation".to_string(), id.clone(), head.clone()), 1);
        }
        let actual: BTreeMap<_, _> = got
            .iter()
            .filter(|((_, case, _), _)| case == id)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        assert_eq!(actual, expected, "case {id}");

        // Monday 1 February + 10 working days = Monday 15 February; reminders 3 working days
        // before (Wednesday 10th) and on the day, at 07:00 CET; escalation 2 working days after
        // (Wednesday 17th).
        let timers = strings(
            conn,
            "SELECT m.kind, m.fire_at, m.fired_at IS NOT NULL FROM timers m
             JOIN tasks t ON t.id = m.task_id WHERE t.case_id = ?1 ORDER BY m.ordinal",
            [id],
        );
        let plan = [
            ("reminder", "2027-02-10T06:00:00Z"),
            ("reminder", "2027-02-15T06:00:00Z"),
            ("escalation", "2027-02-17T06:00:00Z"),
        ];
        let expected: Vec<Vec<String>> = plan
            .iter()
            .take(if id == "TRE-2027-0001" { 1 } else { 3 })
            .map(|(k, at)| vec![k.to_string(), at.to_string(), "1".to_string()])
            .collect();
        assert_eq!(timers, expected, "case {id}");
        let due = strings(conn, "SELECT due_date FROM tasks WHERE case_id = ?1", [id]);
        assert_eq!(due, [["2027-02-15"]], "case {id}");

        // What the emails say: five days left, then today; two days overdue.
        let said: Vec<(String, serde_json::Value)> = strings(
            conn,
            "SELECT purpose, context FROM outbox WHERE case_id = ?1 AND purpose != 'task' ORDER BY id",
            [id],
        )
        .into_iter()
        .map(|r| (r[0].clone(), serde_json::from_str(&r[1]).expect("json")))
        .collect();
        let manager_name = roster
            .people
            .iter()
            .find(|p| p.id == manager)
            .map(|p| p.name.clone())
            .expect("manager");
        let expected: Vec<(&str, serde_json::Value)> = vec![
            (
                "reminder",
                serde_json::json!({"when": "före", "days_left": 5}),
            ),
            (
                "reminder",
                serde_json::json!({"when": "idag", "days_left": 0}),
            ),
            (
                "escalation",
                serde_json::json!({"days_overdue": 2, "assignee": manager_name}),
            ),
        ];
        let expected = &expected[..if id == "TRE-2027-0001" { 1 } else { 3 }];
        assert_eq!(said.len(), expected.len(), "case {id}");
        for ((purpose, context), (want_purpose, want)) in said.iter().zip(expected) {
            assert_eq!(purpose, want_purpose, "case {id}");
            assert_eq!(context["case_id"], id.as_str());
            for (key, value) in want.as_object().expect("object") {
                assert_eq!(&context[key], value, "case {id}, {purpose}: `{key}`");
            }
        }
    }
    // Answering cancelled what was left: nothing pending, nothing sent after the answer.
    assert_eq!(
        count(
            conn,
            "SELECT COUNT(*) FROM timers m JOIN tasks t ON t.id = m.task_id
             WHERE t.case_id = 'TRE-2027-0001' AND m.fired_at IS NULL",
            ()
        ),
        0
    );
    assert_eq!(
        count(
            conn,
            "SELECT COUNT(*) FROM outbox WHERE case_id = 'TRE-2027-0001' AND created_at > ?1",
            [ts(answer_at)]
        ),
        0
    );
    // However many ticks ran, the same emails.
    assert_eq!(sent(sparse.store.db()), got);
}

#[test]
fn a_repeated_tick_after_timers_fired_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "repeat",
        &helpers::shipped(dir.path(), &["treserva-sampling"]),
        "repeat-seed",
        local("2027-01-20T09:00"),
    );
    helpers::import(&mut engine, &synthetic(40, 2, 2), local("2027-01-20T09:00"));
    for t in [
        "2027-02-01T07:05",
        "2027-02-10T08:00",
        "2027-02-17T08:00",
        "2027-03-01T07:00",
        "2027-03-01T07:05",
    ] {
        tick_twice(&mut engine, local(t));
    }
    // The ticks did fire reminders and escalations in between.
    let conn = engine.store.db();
    assert!(
        count(
            conn,
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'reminder'",
            ()
        ) > 0
    );
    assert!(
        count(
            conn,
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'escalation'",
            ()
        ) > 0
    );
    assert_eq!(count(conn, "SELECT COUNT(*) FROM rounds", ()), 2);
}

// ----- answers and references -----

#[test]
fn a_batch_of_answers_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "batch",
        &helpers::shipped(dir.path(), &["treserva-sampling"]),
        "batch-seed",
        local("2027-01-20T09:00"),
    );
    helpers::import(&mut engine, &synthetic(40, 2, 2), local("2027-01-20T09:00"));
    engine.tick(local("2027-02-01T07:05")).expect("tick");
    let open = strings(
        engine.store.db(),
        "SELECT case_id, assignee_id FROM tasks WHERE answered_at IS NULL ORDER BY id LIMIT 2",
        (),
    );
    assert_eq!(open.len(), 2);
    let at = local("2027-02-02T10:00");
    let good = loggkoll::engine::AnswerRequest::new(&open[0][0], "no_finding", &open[0][1]);
    let no_comment = loggkoll::engine::AnswerRequest::new(&open[1][0], "unclear", &open[1][1]);
    let before = dump(engine.store.db());
    let err = engine
        .answer_batch(&[good.clone(), no_comment.clone()], at)
        .expect_err("the second answer needs a comment");
    assert_eq!(err.kind, loggkoll::ErrorKind::BadInput);
    helpers::assert_same_tables(&before, &dump(engine.store.db()), "a refused batch");
    let fixed = no_comment.clone().comment(Some("Oklar åtkomst"));
    let done = engine.answer_batch(&[good, fixed], at).expect("both");
    assert_eq!(
        done.iter().map(|a| a.to.as_str()).collect::<Vec<_>>(),
        ["closed_no_finding", "contact_employee"]
    );
}

#[test]
fn references_count_per_prefix_and_local_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "references",
        &helpers::root().join("routines"),
        "references-seed",
        local("2027-12-01T09:00"),
    );
    let roster = synthetic(30, 2, 3);
    helpers::import(&mut engine, &roster, local("2027-12-01T09:00"));
    let unit = "EN0001";
    let by = holder(&roster, Role::OperationsManager, &parent(&roster, unit));
    let open = |engine: &mut Engine, routine: &str, at: &str| -> String {
        let extract = routine == "log-extract";
        engine
            .open_case(
                &loggkoll::engine::OpenRequest {
                    routine: routine.into(),
                    unit: unit.into(),
                    by: by.clone(),
                    client: extract.then(|| "19121212-1212".to_string()),
                    from: Some(local("2027-11-01T00:00")),
                    to: Some(local("2027-11-30T00:00")),
                    reason: Some("Misstanke".into()),
                    ..Default::default()
                },
                local(at),
            )
            .expect("opened")
    };
    assert_eq!(
        open(&mut engine, "targeted-review", "2027-12-30T10:00"),
        "RIK-2027-0001"
    );
    assert_eq!(
        open(&mut engine, "log-extract", "2027-12-30T11:00"),
        "UTL-2027-0001"
    );
    assert_eq!(
        open(&mut engine, "targeted-review", "2027-12-31T23:30"),
        "RIK-2027-0002"
    );
    // 00:30 on New Year's Day in Stockholm is still 2027 in UTC: the local year counts.
    assert_eq!(
        open(&mut engine, "targeted-review", "2028-01-01T00:30"),
        "RIK-2028-0001"
    );
    assert_eq!(
        open(&mut engine, "log-extract", "2028-01-02T10:00"),
        "UTL-2028-0001"
    );
    assert_eq!(
        open(&mut engine, "targeted-review", "2028-01-02T10:00"),
        "RIK-2028-0002"
    );
}
