//! Email end to end: the engine's events become outbox rows, the sender delivers them through
//! a real SMTP server on loopback (`support/smtp_server.rs`) or `.eml` files, exactly once,
//! with retries for 4xx, failure for 5xx, and nothing lost while the server is down. Rendered
//! emails are pinned as snapshots.

#[path = "support/backend.rs"]
mod backend;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use chrono::{DateTime, Utc};
use loggkoll::config::Config;
use loggkoll::engine::{Engine, OpenRequest};
use loggkoll::notify::{Transport, sender};
use loggkoll::routine::{Context, loader};
use loggkoll::store::Store;
use loggkoll::templates::Library;
use serde_json::json;
use smtp_server::{SmtpServer, Stage};
use std::collections::HashSet;
use std::path::Path;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn engine(dir: &Path, config: Config) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).unwrap();
    // The rounds' emails (the staff's information cases at go-live are `tests/obligations.rs`'s).
    let routines: Vec<_> = loader::load_routines(
        &root.join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .unwrap()
    .into_iter()
    .filter(|r| r.kind != loggkoll::routine::model::CaseKind::Information)
    .collect();
    let now = at("2027-01-01T00:00:00+01:00");
    let store = Store::at(&backend::location(dir, "e")).unwrap();
    let mut engine = Engine::new(store, routines, templates, config, now).unwrap();
    let roster = loggkoll::simulate::org::synthetic(120, 4, 3);
    loggkoll::engine::import_roster(&mut engine.store, &roster, "u", "p", "test", now).unwrap();
    engine
}

/// Delivers at `now` whatever the hour (the send hours are tested on their own).
fn deliver(engine: &mut Engine, transport: &Transport, now: DateTime<Utc>) -> sender::Delivery {
    let install = engine.install_id();
    let config = engine.config.clone();
    let sending = sender::Sending {
        hours: None,
        ..sender::Sending::new(&config, &engine.templates, transport, &install)
    };
    sender::deliver(&mut engine.store, &sending, now).unwrap()
}

fn count(engine: &Engine, sql: &str) -> i64 {
    engine
        .store
        .db()
        .inspect()
        .query_row(sql, (), |r| r.get(0))
        .unwrap()
}

#[test]
fn a_round_leaves_one_task_email_per_assignee_with_both_parts_and_a_working_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    let report = e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let drawn: usize = report.rounds.iter().map(|r| r.drawn).sum();
    assert!(drawn > 0);
    let outbox_dir = dir.path().join("outbox");
    let transport = Transport::from_url(&format!("file://{}", outbox_dir.display())).unwrap();
    let d = deliver(&mut e, &transport, at("2027-01-01T08:01:00+01:00"));
    // One task email per case (each case's first step has one assignee).
    assert_eq!(d.sent, drawn);
    let files: Vec<_> = std::fs::read_dir(&outbox_dir).unwrap().collect();
    assert_eq!(files.len(), drawn);
    let path = files[0].as_ref().unwrap().path();
    let eml = std::fs::read_to_string(&path).unwrap();
    assert!(eml.contains("Content-Type: multipart/alternative"), "{eml}");
    assert!(eml.contains("Content-Type: text/plain; charset=utf-8"));
    assert!(eml.contains("Content-Type: text/html; charset=utf-8"));
    assert!(
        eml.contains("text/calendar"),
        "a task email carries its deadline"
    );
    // The link in the stored values verifies with the installation's secret and names the task.
    let (context, task, recipient): (String, i64, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT context, task_id, recipient_id FROM outbox WHERE purpose = 'task' LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let context: serde_json::Value = serde_json::from_str(&context).unwrap();
    let link = context["link"].as_str().unwrap();
    let token = link.rsplit_once("/t/").unwrap().1;
    let claims = loggkoll::links::verify(e.secret(), token, at("2027-01-02T00:00:00Z")).unwrap();
    assert_eq!(
        (claims.task_id, claims.person_id.as_str()),
        (task, recipient.as_str())
    );
    // Sending again sends nothing.
    assert_eq!(
        deliver(&mut e, &transport, at("2027-01-01T09:00:00+01:00")),
        sender::Delivery::default()
    );
}

#[test]
fn smtp_down_for_a_day_then_everything_goes_out_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).unwrap();
    let mut e = engine(dir.path(), Config::default());
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let queued = count(&e, "SELECT COUNT(*) FROM outbox");
    assert!(queued > 10);
    server.stop();
    // Down all day: every attempt fails for now and is retried later, none is lost.
    let mut now = at("2027-01-01T08:00:00+01:00");
    for _ in 0..24 {
        let d = deliver(&mut e, &transport, now);
        assert_eq!((d.sent, d.failed), (0, 0));
        now += chrono::Duration::hours(1);
    }
    assert_eq!(
        count(&e, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'"),
        queued
    );
    assert!(count(&e, "SELECT MIN(attempts) FROM outbox") >= 2);
    server.restart();
    // Back: the backoff lets every message through within its next attempt (at most 6 h).
    let mut sent = 0;
    for _ in 0..8 {
        sent += deliver(&mut e, &transport, now).sent;
        now += chrono::Duration::hours(1);
    }
    assert_eq!(sent as i64, queued);
    let received = server.received();
    assert_eq!(received.len() as i64, queued);
    let ids: HashSet<String> = received
        .iter()
        .map(|m| {
            let text = String::from_utf8_lossy(&m.data);
            text.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids.len() as i64,
        queued,
        "every message once, each its own Message-ID"
    );
    assert_eq!(
        count(&e, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'"),
        0
    );
}

#[test]
fn a_4xx_is_retried_and_a_5xx_marked_failed() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).unwrap();
    let mut e = engine(dir.path(), Config::default());
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let queued = count(&e, "SELECT COUNT(*) FROM outbox");
    server.fail_next(1, Stage::Rcpt, "451 4.3.0 try later");
    server.fail_next(1, Stage::Rcpt, "550 5.1.1 no such user");
    let now = at("2027-01-01T08:00:00+01:00");
    let d = deliver(&mut e, &transport, now);
    assert_eq!((d.retried, d.failed, d.sent as i64), (1, 1, queued - 2));
    let failed = count(
        &e,
        "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND last_error LIKE '%550%'",
    );
    assert_eq!(failed, 1);
    // The retried one goes out on its next attempt, a minute later.
    let d = deliver(&mut e, &transport, now + chrono::Duration::minutes(2));
    assert_eq!((d.sent, d.retried, d.failed), (1, 0, 0));
    assert_eq!(server.received().len() as i64, queued - 1);
}

#[test]
fn an_unanswered_case_is_reminded_and_escalated_once_however_often_ticks_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let cases = count(
        &e,
        "SELECT COUNT(*) FROM cases WHERE routine_id = 'treserva-sampling'",
    );
    // Tick every 6 hours for five weeks without answering.
    let mut now = at("2027-01-01T08:00:00+01:00");
    while now < at("2027-02-05T00:00:00+01:00") {
        e.tick(now).unwrap();
        e.tick(now).unwrap();
        now += chrono::Duration::hours(6);
    }
    let per = |purpose: &str| {
        count(
            &e,
            &format!(
                "SELECT COUNT(*) FROM outbox o JOIN cases c ON c.id = o.case_id
                 WHERE c.routine_id = 'treserva-sampling' AND o.purpose = '{purpose}'"
            ),
        )
    };
    // Two reminders each (3 working days before, at deadline) and one escalation each.
    assert_eq!(per("reminder"), 2 * cases);
    assert_eq!(per("escalation"), cases);
    // The escalation reaches the head of operations of the unit; the assignee only when the
    // assignee is that head (a unit manager's own review goes to the head of operations).
    let wrong: i64 = count(
        &e,
        "SELECT COUNT(*) FROM outbox o JOIN tasks t ON t.id = o.task_id
         WHERE o.purpose = 'escalation' AND (
            (o.recipient_id = t.assignee_id AND t.role != 'unit_manager')
            OR (o.recipient_id = t.assignee_id AND t.assignee_id NOT IN
                (SELECT person_id FROM person_roles WHERE role = 'operations_manager'))
            OR o.recipient_id NOT IN (SELECT person_id FROM person_roles WHERE role = 'operations_manager'))",
    );
    assert_eq!(wrong, 0);
    assert_eq!(
        count(
            &e,
            "SELECT COUNT(*) FROM tasks WHERE escalated_at IS NOT NULL"
        ),
        cases
    );
}

#[test]
fn answering_cancels_the_remaining_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let (case, by): (String, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT case_id, assignee_id FROM tasks WHERE answered_at IS NULL ORDER BY id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    e.answer(
        &loggkoll::engine::AnswerRequest::new(&case, "no_finding", &by),
        at("2027-01-04T10:00:00+01:00"),
    )
    .unwrap();
    let mut now = at("2027-01-04T10:00:00+01:00");
    while now < at("2027-02-05T00:00:00+01:00") {
        e.tick(now).unwrap();
        now += chrono::Duration::hours(12);
    }
    let reminders = count(
        &e,
        &format!("SELECT COUNT(*) FROM outbox WHERE case_id = '{case}' AND purpose != 'task'"),
    );
    assert_eq!(reminders, 0);
}

#[test]
fn emails_carry_no_client_identity_and_no_user_name_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    let now = at("2027-01-04T10:00:00+01:00");
    e.tick(now).unwrap();
    let unit: String = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT unit_id FROM person_roles WHERE role = 'unit_manager' LIMIT 1",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let ops = e.org().holders(
        loggkoll::roster::Role::OperationsManager,
        &unit,
        now.date_naive(),
    )[0]
    .to_string();
    let client = "19121212-1212";
    e.open_case(
        &OpenRequest {
            routine: "log-extract".into(),
            unit: unit.clone(),
            by: ops,
            client: Some(client.into()),
            from: Some(at("2026-12-01T00:00:00+01:00")),
            to: Some(at("2026-12-31T00:00:00+01:00")),
            ..OpenRequest::default()
        },
        now,
    )
    .unwrap();
    let transport =
        Transport::from_url(&format!("file://{}", dir.path().join("out").display())).unwrap();
    deliver(&mut e, &transport, now);
    let names: Vec<String> = {
        let mut stmt = e
            .store
            .db()
            .inspect()
            .prepare("SELECT p.name FROM cases c JOIN people p ON p.id = c.subject_person_id")
            .unwrap();
        stmt.query_map((), |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert!(!names.is_empty());
    for entry in std::fs::read_dir(dir.path().join("out")).unwrap() {
        let eml = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let decoded = eml.replace("=\r\n", "").replace("=\n", "");
        assert!(
            !decoded.contains("19121212"),
            "a client identity in an email"
        );
        assert!(!decoded.contains("1212-1212"));
        for name in &names {
            let to_line = decoded.lines().find(|l| l.starts_with("To:")).unwrap_or("");
            if !to_line.contains(name.as_str()) {
                assert!(
                    !decoded.contains(name.as_str()),
                    "reviewed user {name} named in an email"
                );
            }
        }
    }
}

#[test]
fn the_digest_gathers_a_days_tasks_into_one_email_per_person() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.mail.digest = true;
    // The digest's own hours; the send hours (no digest on a holiday) are tested below.
    config.mail.send_hours = None;
    let mut e = engine(dir.path(), config);
    // Before 07:00 nothing goes out; the round's task notices are held.
    e.tick(at("2027-01-01T06:00:00+01:00")).unwrap();
    e.tick(at("2027-01-01T06:30:00+01:00")).unwrap();
    let held = count(&e, "SELECT COUNT(*) FROM outbox WHERE status = 'held'");
    assert_eq!(held, 0, "the round runs at 07:00");
    let r = e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let people = count(&e, "SELECT COUNT(DISTINCT assignee_id) FROM tasks");
    assert_eq!(r.digests as i64, people);
    assert_eq!(
        count(&e, "SELECT COUNT(*) FROM outbox WHERE purpose = 'digest'"),
        people
    );
    assert_eq!(
        count(&e, "SELECT COUNT(*) FROM outbox WHERE status = 'held'"),
        0
    );
    // Ticking again the same day writes no second digest.
    let r = e.tick(at("2027-01-01T15:00:00+01:00")).unwrap();
    assert_eq!(r.digests, 0);
    // The digest lists every task of its person.
    let (context, recipient): (String, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT context, recipient_id FROM outbox WHERE purpose = 'digest' LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let context: serde_json::Value = serde_json::from_str(&context).unwrap();
    let tasks = count(
        &e,
        &format!("SELECT COUNT(*) FROM tasks WHERE assignee_id = '{recipient}'"),
    );
    assert_eq!(context["tasks"].as_array().unwrap().len() as i64, tasks);
    let transport =
        Transport::from_url(&format!("file://{}", dir.path().join("out").display())).unwrap();
    let d = deliver(&mut e, &transport, at("2027-01-01T15:00:00+01:00"));
    assert_eq!(d.sent as i64, people);
}

#[test]
fn no_digest_is_written_while_emails_wait_for_the_send_hours() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.mail.digest = true;
    let mut e = engine(dir.path(), config);
    // New Year's Day is a holiday: the round's tasks wait, no digest is written.
    let r = e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    assert_eq!(r.digests, 0);
    assert!(count(&e, "SELECT COUNT(*) FROM outbox WHERE status = 'held'") > 0);
    // Saturday and Sunday neither; Monday morning one per person.
    for day in ["2027-01-02", "2027-01-03"] {
        let r = e.tick(at(&format!("{day}T08:00:00+01:00"))).unwrap();
        assert_eq!(r.digests, 0, "{day}");
    }
    let r = e.tick(at("2027-01-04T08:00:00+01:00")).unwrap();
    let people = count(&e, "SELECT COUNT(DISTINCT assignee_id) FROM tasks");
    assert_eq!(r.digests as i64, people);
}

fn snapshot_context() -> serde_json::Value {
    json!({
        "routine": "Systematisk logguppföljning i Treserva",
        "routine_id": "treserva-sampling",
        "kind": "systematisk stickprovskontroll",
        "kind_phrase": "en systematisk stickprovskontroll",
        "case_id": "TRE-2027-0042",
        "step": "Granska loggen",
        "unit": "Hemtjänst Norr",
        "recipient": "Anna Andersson",
        "deadline": "fredag 15 januari 2027",
        "link": "https://loggkoll.example.se/t/1.UDAwMDA3.1800918000.sig",
        "subject_user": "",
        "base_url": "https://loggkoll.example.se",
        "when": "före",
        "days_left": 3,
        "assignee": "Bertil Berg",
        "days_overdue": 2,
        "result": "",
    })
}

#[test]
fn rendered_emails_match_their_snapshots() {
    let lib = Library::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).unwrap();
    for name in ["task", "reminder", "escalation", "inform"] {
        let mail = lib.render_mail(name, &snapshot_context()).unwrap();
        insta::assert_snapshot!(
            format!("mail_{name}_text"),
            format!("Subject: {}\n\n{}", mail.subject, mail.text)
        );
        insta::assert_snapshot!(format!("mail_{name}_html"), mail.html);
    }
}

#[test]
fn steps_of_a_manager_who_left_go_to_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let old: String = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT person_id FROM person_roles WHERE role = 'unit_manager' AND unit_id = 'EN0001'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let open_before = count(
        &e,
        &format!("SELECT COUNT(*) FROM tasks WHERE assignee_id = '{old}' AND answered_at IS NULL"),
    );
    assert!(open_before > 0);
    // The next roster: the manager has left; a staff member of the unit takes over the role.
    let mut roster = loggkoll::simulate::org::synthetic(120, 4, 3);
    roster.people.retain(|p| p.id != old);
    let successor = roster
        .people
        .iter_mut()
        .find(|p| p.units.first().map(String::as_str) == Some("EN0001") && p.roles.is_empty())
        .unwrap();
    successor.roles.push(loggkoll::roster::RoleAssignment {
        role: loggkoll::roster::Role::UnitManager,
        unit: "EN0001".into(),
    });
    let successor = successor.id.clone();
    let now = at("2027-01-05T09:00:00+01:00");
    loggkoll::engine::import_roster(&mut e.store, &roster, "u", "p", "test", now).unwrap();
    let r = e.tick(now).unwrap();
    assert_eq!(r.reassigned as i64, open_before);
    assert_eq!(
        count(
            &e,
            &format!(
                "SELECT COUNT(*) FROM tasks WHERE assignee_id = '{old}' AND answered_at IS NULL"
            )
        ),
        0
    );
    assert_eq!(
        count(
            &e,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient_id = '{successor}' AND purpose = 'task'"
            )
        ),
        open_before
    );
    assert_eq!(
        count(
            &e,
            "SELECT COUNT(*) FROM audit WHERE event = 'task.reassigned'"
        ),
        open_before
    );
    // From now on the reminders go to the successor, none to the one who left.
    let mut t = now;
    while t < at("2027-01-25T00:00:00+01:00") {
        e.tick(t).unwrap();
        t += chrono::Duration::hours(12);
    }
    let since = "2027-01-05T08:00:00Z";
    assert_eq!(
        count(
            &e,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient_id = '{old}' AND created_at > '{since}'"
            )
        ),
        0
    );
    assert!(
        count(
            &e,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE recipient_id = '{successor}' AND purpose = 'reminder'"
            )
        ) > 0
    );
}

#[test]
fn nobody_reviews_their_own_access() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    // A year of rounds, unanswered: unit managers hold Treserva accounts, so they are drawn too.
    let mut now = at("2027-01-01T08:00:00+01:00");
    while now < at("2027-12-31T00:00:00+01:00") {
        e.tick(now).unwrap();
        now += chrono::Duration::days(7);
    }
    let managers_drawn = count(
        &e,
        "SELECT COUNT(*) FROM cases c JOIN person_roles r ON r.person_id = c.subject_person_id
         WHERE r.role = 'unit_manager' AND r.unit_id = c.unit_id",
    );
    assert!(
        managers_drawn > 0,
        "no unit manager was drawn; the test proves nothing"
    );
    assert_eq!(
        count(
            &e,
            "SELECT COUNT(*) FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.assignee_id = c.subject_person_id"
        ),
        0
    );
    // The manager's review went to the head of operations, whom the step escalates to.
    let (case, subject, assignee): (String, String, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT c.id, c.subject_person_id, t.assignee_id FROM cases c JOIN tasks t ON t.case_id = c.id
             JOIN person_roles r ON r.person_id = c.subject_person_id
             WHERE r.role = 'unit_manager' AND r.unit_id = c.unit_id AND c.routine_id = 'treserva-sampling'
             AND t.answered_at IS NULL LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let role: String = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT role FROM person_roles WHERE person_id = ?1",
            [&assignee],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(role, "operations_manager");
    // And the reviewed manager may not answer it, though she holds the step's role.
    let refused = e
        .answer(
            &loggkoll::engine::AnswerRequest::new(&case, "no_finding", &subject),
            now,
        )
        .unwrap_err();
    assert_eq!(refused.exit_code(), 2);
    e.answer(
        &loggkoll::engine::AnswerRequest::new(&case, "no_finding", &assignee),
        now,
    )
    .unwrap();
}

#[test]
fn steps_move_on_the_day_after_an_employment_ends() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).unwrap();
    let routines = loader::load_routines(
        &root.join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .unwrap();
    let start = at("2027-01-01T00:00:00+01:00");
    let mut e = Engine::new(
        Store::at(&backend::location(dir.path(), "e")).unwrap(),
        routines,
        templates,
        Config::default(),
        start,
    )
    .unwrap();
    // EN0001's manager leaves on 10 January; a successor starts on the 11th.
    let mut roster = loggkoll::simulate::org::synthetic(120, 4, 3);
    let old = roster
        .people
        .iter_mut()
        .find(|p| {
            p.roles
                .iter()
                .any(|r| r.role == loggkoll::roster::Role::UnitManager && r.unit == "EN0001")
        })
        .unwrap();
    old.active_to = chrono::NaiveDate::from_ymd_opt(2027, 1, 10);
    let old = old.id.clone();
    let successor = roster
        .people
        .iter_mut()
        .find(|p| p.units.first().map(String::as_str) == Some("EN0001") && p.roles.is_empty())
        .unwrap();
    successor.roles.push(loggkoll::roster::RoleAssignment {
        role: loggkoll::roster::Role::UnitManager,
        unit: "EN0001".into(),
    });
    successor.active_from = chrono::NaiveDate::from_ymd_opt(2027, 1, 11);
    let successor = successor.id.clone();
    loggkoll::engine::import_roster(&mut e.store, &roster, "u", "p", "test", start).unwrap();
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let open_with = |e: &Engine, who: &str| {
        count(
            e,
            &format!(
                "SELECT COUNT(*) FROM tasks WHERE assignee_id = '{who}' AND answered_at IS NULL"
            ),
        )
    };
    let before = open_with(&e, &old);
    assert!(before > 0);
    // Still hers on her last day.
    assert_eq!(
        e.tick(at("2027-01-10T12:00:00+01:00")).unwrap().reassigned,
        0
    );
    assert_eq!(open_with(&e, &old), before);
    // The day after, the successor has them.
    let r = e.tick(at("2027-01-11T08:00:00+01:00")).unwrap();
    assert_eq!(r.reassigned as i64, before);
    assert_eq!(open_with(&e, &old), 0);
    assert_eq!(open_with(&e, &successor), before);
}

/// The step emails of cases as they stand: (case, purpose, status, reason).
fn step_emails(engine: &Engine, case: &str) -> Vec<(String, String, Option<String>)> {
    let conn = engine.store.db().inspect();
    let mut stmt = conn
        .prepare("SELECT purpose, status, last_error FROM outbox WHERE case_id = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([case], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_email_whose_step_was_answered_or_passed_on_over_the_weekend_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = engine(dir.path(), Config::default());
    // New Year's Day 2027 is a Friday and a holiday: the round's task emails wait for Monday.
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let open: Vec<(String, String, String, String)> = {
        let conn = e.store.db().inspect();
        let mut stmt = conn
            .prepare(
                "SELECT t.case_id, t.assignee_id, c.unit_id, c.subject_person_id
                 FROM tasks t JOIN cases c ON c.id = t.case_id
                 WHERE t.answered_at IS NULL ORDER BY t.id",
            )
            .unwrap();
        stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(open.len() >= 4, "{open:?}");
    let queued = count(&e, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'");
    assert_eq!(
        queued,
        open.len() as i64,
        "one task email per case, none sent"
    );
    // Saturday: one manager closes a case from the overview, another answers a step that
    // leads on, and a third case's step is given to a second manager of its unit.
    let saturday = at("2027-01-02T10:00:00+01:00");
    let (closed, answered, passed) = (&open[0], &open[1], &open[2]);
    e.answer(
        &loggkoll::engine::AnswerRequest::new(&closed.0, "no_finding", &closed.1),
        saturday,
    )
    .unwrap();
    e.answer(
        &loggkoll::engine::AnswerRequest::new(&answered.0, "unclear", &answered.1)
            .comment(Some("Oklar åtkomst")),
        saturday,
    )
    .unwrap();
    let mut roster = loggkoll::simulate::org::synthetic(120, 4, 3);
    let deputy = roster
        .people
        .iter_mut()
        .find(|p| {
            let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 2).unwrap();
            p.id != passed.1
                && p.id != passed.3
                && p.units.first() == Some(&passed.2)
                && p.active_from.is_none_or(|d| d <= day)
                && p.active_to.is_none_or(|d| d >= day)
        })
        .expect("a colleague in the unit");
    deputy.roles.push(loggkoll::roster::RoleAssignment {
        role: loggkoll::roster::Role::UnitManager,
        unit: passed.2.clone(),
    });
    let deputy = deputy.id.clone();
    loggkoll::engine::import_roster(&mut e.store, &roster, "u", "p", "test", saturday).unwrap();
    e.refresh_org().unwrap();
    e.reassign_step(&passed.0, None, &deputy, "kvalitet", saturday)
        .unwrap();
    // And quality staff send a fourth case's link again: the first email's link is dead.
    let resent = &open[3];
    e.resend_link(&resent.0, None, "kvalitet", saturday)
        .unwrap();
    // Monday morning the sender goes through the queue.
    let transport =
        Transport::from_url(&format!("file://{}", dir.path().join("out").display())).unwrap();
    let install = e.install_id();
    let config = e.config.clone();
    let sending = sender::Sending::new(&config, &e.templates, &transport, &install);
    let monday = at("2027-01-04T08:00:00+01:00");
    let d = sender::deliver(&mut e.store, &sending, monday).unwrap();
    let task = |s: &str| {
        (
            "task".to_string(),
            "withdrawn".to_string(),
            Some(s.to_string()),
        )
    };
    // The reassigned and resent steps' first emails were withdrawn as the new ones were queued.
    assert_eq!(d.withdrawn, 2, "{d:?}");
    assert_eq!(
        step_emails(&e, &resent.0),
        [
            task("withdrawn: a newer link to the step was sent"),
            ("task".into(), "sent".into(), None)
        ],
        "only the newest link goes"
    );
    assert_eq!(
        step_emails(&e, &closed.0),
        [task(
            "withdrawn: the case was closed before the email went out"
        )]
    );
    assert_eq!(
        step_emails(&e, &answered.0),
        [
            task("withdrawn: the step was answered before the email went out"),
            ("task".into(), "sent".into(), None)
        ],
        "the next step's email goes"
    );
    assert_eq!(
        step_emails(&e, &passed.0),
        [
            task("withdrawn: the step was given to someone else before the email went out"),
            ("task".into(), "sent".into(), None)
        ],
        "the new holder's email goes"
    );
    assert_eq!(d.sent as i64, open.len() as i64 - 4 + 3);
    // Nothing is withdrawn twice, and a later run sends nothing more.
    let again = sender::deliver(&mut e.store, &sending, monday).unwrap();
    assert_eq!(again, sender::Delivery::default());
}
