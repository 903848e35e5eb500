//! Helpers for the engine tests: an engine on a temporary folder with the shipped templates and a
//! chosen routines folder, times, table dumps and queries written here (never the store's own),
//! so that what a test checks is computed independently of the code under test.

#![allow(dead_code)]

#[path = "backend.rs"]
pub mod backend;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Europe::Stockholm;
use loggkoll::config::Config;
use loggkoll::engine::{AnswerRequest, Engine};
use loggkoll::roster::Roster;
use loggkoll::routine::{Context, loader};
use loggkoll::store::Db;
use loggkoll::store::Store;
use loggkoll::store::db::{Owned, Params};
use loggkoll::templates::Library;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A routines folder of `tests/fixtures/engine/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/engine").join(name)
}

/// A routines folder in `dir` holding copies of the shipped routines `ids`.
pub fn shipped(dir: &Path, ids: &[&str]) -> PathBuf {
    let out = dir.join("routines");
    std::fs::create_dir_all(&out).expect("routines folder");
    for id in ids {
        let name = format!("{id}.yaml");
        std::fs::copy(root().join("routines").join(&name), out.join(&name)).expect("copy routine");
    }
    out
}

/// An RFC 3339 instant.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("`{text}`: {e}"))
        .with_timezone(&Utc)
}

/// A Stockholm wall-clock time (`2027-01-01T08:00`) that exists once.
pub fn local(text: &str) -> DateTime<Utc> {
    use chrono::TimeZone;
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .unwrap_or_else(|e| panic!("`{text}`: {e}"));
    Stockholm
        .from_local_datetime(&naive)
        .single()
        .unwrap_or_else(|| panic!("`{text}` is not a single instant in Stockholm"))
        .with_timezone(&Utc)
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

/// The store's text form of an instant: RFC 3339 UTC to the second with `Z`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The local (Stockholm) date of a stored instant.
pub fn local_date(stored: &str) -> NaiveDate {
    utc(stored).with_timezone(&Stockholm).date_naive()
}

/// Opens an engine on `dir/name.db` with the routines of `routines` and the shipped templates.
/// `seed` fixes the installation seed (every draw derives from it), so a run can be repeated.
pub fn open(dir: &Path, name: &str, routines: &Path, seed: &str, now: DateTime<Utc>) -> Engine {
    let templates = Library::load(&root().join("templates")).expect("templates");
    let routines = loader::load_routines(
        routines,
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("routines compile");
    let store = Store::at(&backend::location(dir, name)).expect("store");
    loggkoll::store::meta_set(store.db(), "install_seed", seed).expect("seed");
    Engine::new(store, routines, templates, Config::default(), now).expect("engine")
}

pub fn import(engine: &mut Engine, roster: &Roster, now: DateTime<Utc>) {
    loggkoll::engine::import_roster(
        &mut engine.store,
        roster,
        "units.csv",
        "people.csv",
        "test",
        now,
    )
    .expect("roster import");
}

/// One integer from a query.
pub fn count(conn: &Db, sql: &str, params: impl Params) -> i64 {
    conn.inspect()
        .one(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of text columns (NULL as `None`).
pub fn rows(conn: &Db, sql: &str, params: impl Params) -> Vec<Vec<Option<String>>> {
    conn.inspect()
        .rows(sql, params, |r| {
            (0..r.len())
                .map(|i| {
                    Ok(match r.get::<Owned>(i)? {
                        Owned::Null => None,
                        Owned::Int(v) => Some(v.to_string()),
                        Owned::Real(v) => Some(v.to_string()),
                        Owned::Text(v) => Some(v),
                        Owned::Blob(v) => Some(format!("{v:?}")),
                    })
                })
                .collect()
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of text columns that are never NULL.
pub fn strings(conn: &Db, sql: &str, params: impl Params) -> Vec<Vec<String>> {
    rows(conn, sql, params)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| panic!("{sql}: unexpected NULL")))
                .collect()
        })
        .collect()
}

/// Every row of every table, by table name (rows sorted, so the order of insertion is moot).
pub fn dump(conn: &Db) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let tables = conn.inspect().tables().expect("tables");
    tables
        .into_iter()
        .map(|name| {
            let mut all = rows(conn, &format!("SELECT * FROM \"{name}\""), ());
            all.sort();
            (name, all)
        })
        .collect()
}

/// Asserts two dumps are equal, naming the first table that differs.
pub fn assert_same_tables(
    before: &BTreeMap<String, Vec<Vec<Option<String>>>>,
    after: &BTreeMap<String, Vec<Vec<Option<String>>>>,
    what: &str,
) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "{what}: the tables differ"
    );
    for (table, rows) in before {
        let other = &after[table];
        assert!(
            rows == other,
            "{what}: table `{table}` changed: {} rows before, {} after; first difference: {:?} / {:?}",
            rows.len(),
            other.len(),
            rows.iter().find(|r| !other.contains(r)),
            other.iter().find(|r| !rows.contains(r)),
        );
    }
}

/// Answers every open step that has an assignee, as its assignee: mostly the first outcome,
/// sometimes another (seeded), always with a comment. Returns how many were answered.
pub fn answer_all_open(engine: &mut Engine, rng: &mut ChaCha20Rng, now: DateTime<Utc>) -> usize {
    let open = strings(
        engine.store.db(),
        "SELECT t.case_id, c.routine_id, t.state, t.assignee_id, t.id
         FROM tasks t JOIN cases c ON c.id = t.case_id
         WHERE t.answered_at IS NULL ORDER BY t.id",
        (),
    );
    let mut answers: Vec<(String, String, String, i64)> = Vec::new();
    for row in open {
        let routine = engine
            .routine(&row[1])
            .unwrap_or_else(|| panic!("routine {} is loaded", row[1]));
        let ix = routine.state(&row[2]).expect("the step is a state");
        let outcomes: Vec<String> = routine
            .outcomes(ix)
            .iter()
            .map(|(o, _)| o.name.clone())
            .collect();
        let pick = if rng.random_bool(0.85) {
            0
        } else {
            rng.random_range(0..outcomes.len())
        };
        answers.push((
            row[0].clone(),
            outcomes[pick].clone(),
            row[3].clone(),
            row[4].parse().expect("task id"),
        ));
    }
    for (case_id, _, by, task) in &answers {
        inform_listed(engine, case_id, by, Some(*task), now);
    }
    let reqs: Vec<AnswerRequest> = answers
        .iter()
        .map(|(case_id, outcome, by, task)| {
            AnswerRequest::new(case_id, outcome, by)
                .comment(Some("Kommentar från testet"))
                .task(Some(*task))
        })
        .collect();
    engine.answer_batch(&reqs, now).expect("answers").len()
}

/// Ticks everyone on a unit's information case as informed (by `by`), so that it may close;
/// nothing for any other case.
pub fn inform_listed(
    engine: &mut Engine,
    case_id: &str,
    by: &str,
    task: Option<i64>,
    now: DateTime<Utc>,
) {
    if loggkoll::store::information::staff_of(engine.store.db(), case_id)
        .expect("the list")
        .is_empty()
    {
        return;
    }
    engine
        .inform_staff(
            &loggkoll::engine::information::InformRequest {
                case_id,
                people: &[],
                by,
                task_id: task,
                undo: false,
            },
            now,
        )
        .expect("everyone on the list informed");
}

/// A seeded RNG for answer policies.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Every day from `from` to `to` (inclusive) at `hh:mm` Stockholm time.
pub fn mornings(from: NaiveDate, to: NaiveDate, hour: u32, minute: u32) -> Vec<DateTime<Utc>> {
    use chrono::TimeZone;
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let naive = day.and_hms_opt(hour, minute, 0).expect("time");
        out.push(
            Stockholm
                .from_local_datetime(&naive)
                .single()
                .expect("not a daylight-saving change")
                .with_timezone(&Utc),
        );
        day += Duration::days(1);
    }
    out
}
