//! A case stays on the routine version it started on: editing a routine changes new cases only.

#[path = "support/backend.rs"]
mod backend;
use chrono::{DateTime, Utc};
use loggkoll::config::Config;
use loggkoll::engine::Engine;
use loggkoll::routine::{Context, loader};
use loggkoll::store::Store;
use loggkoll::templates::Library;
use std::path::Path;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn engine(db: &Path, routines: &Path, now: DateTime<Utc>) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).unwrap();
    let routines = loader::load_routines(
        routines,
        &Context {
            templates: Some(&templates),
        },
    )
    .unwrap();
    Engine::new(
        Store::at(db).unwrap(),
        routines,
        templates,
        Config::default(),
        now,
    )
    .unwrap()
}

#[test]
fn open_cases_finish_on_their_version_and_new_cases_use_the_edited_one() {
    let dir = tempfile::tempdir().unwrap();
    let routines = dir.path().join("routines");
    std::fs::create_dir(&routines).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let original = std::fs::read_to_string(root.join("routines/treserva-sampling.yaml")).unwrap();
    std::fs::write(routines.join("treserva-sampling.yaml"), &original).unwrap();
    let db = backend::location(dir.path(), "v");
    let now = at("2027-01-01T00:00:00+01:00");
    let mut e = engine(&db, &routines, now);
    let roster = loggkoll::simulate::org::synthetic(60, 3, 2);
    loggkoll::engine::import_roster(&mut e.store, &roster, "u", "p", "test", now).unwrap();
    e.tick(at("2027-01-01T08:00:00+01:00")).unwrap();
    let (old_case, by, old_hash): (String, String, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT t.case_id, t.assignee_id, c.routine_hash FROM tasks t JOIN cases c ON c.id = t.case_id
             WHERE t.answered_at IS NULL ORDER BY t.id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    drop(e);

    // The edit renames the review's first outcome.
    let edited = original.replacen("      no_finding:\n", "      nothing_found:\n", 1);
    assert_ne!(edited, original);
    std::fs::write(routines.join("treserva-sampling.yaml"), &edited).unwrap();
    let later = at("2027-01-05T10:00:00+01:00");
    let mut e = engine(&db, &routines, later);
    assert_ne!(e.routine("treserva-sampling").unwrap().hash, old_hash);
    // The old case knows only the old outcome.
    let refused = e
        .answer(
            &loggkoll::engine::AnswerRequest::new(&old_case, "nothing_found", &by),
            later,
        )
        .unwrap_err();
    assert_eq!(refused.exit_code(), 2);
    assert!(
        refused.message.contains("`no_finding`"),
        "{}",
        refused.message
    );
    let answered = e
        .answer(
            &loggkoll::engine::AnswerRequest::new(&old_case, "no_finding", &by),
            later,
        )
        .unwrap();
    assert!(answered.closed);
    // The next round's cases are on the new version and know the new outcome.
    e.tick(at("2027-02-01T08:00:00+01:00")).unwrap();
    let (new_case, by, new_hash): (String, String, String) = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT t.case_id, t.assignee_id, c.routine_hash FROM tasks t JOIN cases c ON c.id = t.case_id
             WHERE t.answered_at IS NULL AND c.opened_at >= '2027-02-01' ORDER BY t.id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_ne!(new_hash, old_hash);
    let answered = e
        .answer(
            &loggkoll::engine::AnswerRequest::new(&new_case, "nothing_found", &by),
            at("2027-02-02T10:00:00+01:00"),
        )
        .unwrap();
    assert!(answered.closed);
    let versions: i64 = e
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM routine_versions WHERE routine_id = 'treserva-sampling'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(versions, 2);
}
