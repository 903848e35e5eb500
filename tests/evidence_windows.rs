//! Windows worth reviewing: when the imported log covers a round's look-back period, every drawn
//! user who was active in it gets a window that holds accesses; the draw still comes from the
//! round's seed, and `round redraw` reproduces it — windows included — even after more log has
//! been imported. Without log data the window is drawn as before.

#[path = "support/engine.rs"]
mod engine_support;

use chrono::Duration;
use chrono_tz::Europe::Stockholm;
use engine_support::{local, open, shipped, strings};
use loggkoll::records::logs::{self, ImportOptions};
use loggkoll::simulate::org;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::io::Write;

/// A log of February 2027 in which each Treserva account is active on one day at one hour, but
/// for every fifth account, which is not active at all. Returns the active accounts' times.
fn sparse_log(
    roster: &loggkoll::roster::Roster,
    path: &std::path::Path,
    seed: u64,
) -> BTreeMap<String, i64> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("log"));
    writeln!(out, "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose").expect("write");
    let mut active = BTreeMap::new();
    let start = local("2027-02-01T00:00");
    for (i, p) in roster.people.iter().enumerate() {
        for a in p.accounts.iter().filter(|a| a.system == "treserva") {
            if i % 5 == 0 {
                continue;
            }
            let at = start + Duration::minutes(rng.random_range(0..(28 * 24 * 60)));
            let unit = p.units.first().cloned().unwrap_or_default();
            writeln!(
                out,
                "S{seed}-{i},{},treserva,{},,,{unit},{},{unit},Läsa,journal,vård",
                at.format("%Y-%m-%dT%H:%M:%SZ"),
                a.account,
                loggkoll::simulate::logs::client_number(i as u32)
            )
            .expect("write");
            active.insert(a.account.clone(), at.timestamp());
        }
    }
    out.flush().expect("flush");
    active
}

fn import(engine: &mut loggkoll::engine::Engine, path: &std::path::Path, from: &str, to: &str) {
    let rules = logs::retention_rules(&engine.routines);
    logs::import(
        &mut engine.store,
        path,
        &ImportOptions {
            system: None,
            retention: &rules,
            tz: Stockholm,
            now: local("2027-03-01T06:00"),
            actor: "test",
            period: Some((local(from), local(to))),
            format: None,
            formats: &[],
            max_value: loggkoll::records::logs::MAX_VALUE,
        },
    )
    .expect("import");
}

#[test]
fn every_drawn_user_active_in_the_look_back_gets_a_window_with_accesses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routines = shipped(dir.path(), &["treserva-sampling"]);
    let mut engine = open(
        dir.path(),
        "w",
        &routines,
        "windows",
        local("2027-01-10T08:00"),
    );
    let roster = org::synthetic(300, 6, 11);
    engine_support::import(&mut engine, &roster, local("2027-01-10T08:00"));
    let log = dir.path().join("feb.csv");
    let active = sparse_log(&roster, &log, 5);
    import(&mut engine, &log, "2027-02-01T00:00", "2027-03-01T00:00");
    engine
        .tick(local("2027-03-01T07:00"))
        .expect("the March round");
    let cases = strings(
        engine.store.db(),
        // The March round's (February's, caught up too, had no log to draw from).
        "SELECT id, subject_account, window_start, window_end, round_id FROM cases
         WHERE round_id = (SELECT id FROM rounds WHERE occurrence = '2027-03-01T06:00:00Z')
         ORDER BY id",
        (),
    );
    assert!(cases.len() > 20, "a round of {} cases", cases.len());
    let (mut with_activity, mut without) = (0, 0);
    for c in &cases {
        let (start, end) = (
            engine_support::utc(&c[2]).timestamp(),
            engine_support::utc(&c[3]).timestamp(),
        );
        assert_eq!(end - start, 24 * 3600);
        // Active in the look-back: the month before the round at 07:00.
        let look_back = local("2027-02-01T07:00").timestamp();
        match active.get(&c[1]).filter(|t| **t >= look_back) {
            Some(t) => {
                with_activity += 1;
                assert!(
                    start <= *t && *t < end,
                    "{}: the window {} – {} misses the user's only access at {}",
                    c[0],
                    c[2],
                    c[3],
                    t
                );
                let ev = engine
                    .evidence(&c[0], local("2027-03-01T08:00"))
                    .expect("evidence");
                assert_eq!(ev.counts.accesses, 1, "{}", c[0]);
                assert_eq!(ev.log.as_str(), "complete");
            }
            None => without += 1,
        }
    }
    assert!(
        with_activity > 10 && without > 0,
        "{with_activity} {without}"
    );
    let round: i64 = cases[0][4].parse().expect("round");
    let redraw = loggkoll::engine::rounds::redraw(&engine.store, round).expect("redraw");
    assert!(redraw.matches, "{redraw:?}");
    assert_eq!(redraw.window_rule, "activity");
    // More log for February arrives later: the redraw still sees the log the round saw.
    let late = dir.path().join("late.csv");
    sparse_log(&roster, &late, 99);
    let text = std::fs::read_to_string(&late)
        .expect("late")
        .replace(",S", ",LATE");
    std::fs::write(&late, text).expect("late");
    import(&mut engine, &late, "2027-02-01T00:00", "2027-03-01T00:00");
    let again = loggkoll::engine::rounds::redraw(&engine.store, round).expect("redraw");
    assert!(again.matches, "{again:?}");
    assert_eq!(again.windows, redraw.windows);
    // A window the redraw disagrees with is reported.
    engine
        .store
        .db()
        .inspect()
        .execute(
            "UPDATE cases SET window_start = '2027-02-02T00:00:00Z' WHERE id = ?1",
            [&cases[0][0]],
        )
        .expect("tamper");
    let tampered = loggkoll::engine::rounds::redraw(&engine.store, round).expect("redraw");
    assert!(!tampered.matches);
}

#[test]
fn without_log_the_window_is_drawn_as_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routines = shipped(dir.path(), &["treserva-sampling"]);
    let mut engine = open(
        dir.path(),
        "w",
        &routines,
        "windows",
        local("2027-01-10T08:00"),
    );
    let roster = org::synthetic(100, 3, 11);
    engine_support::import(&mut engine, &roster, local("2027-01-10T08:00"));
    engine
        .tick(local("2027-03-01T07:00"))
        .expect("the March round");
    // February's round is caught up too; both without a log.
    let horizon: Vec<Vec<Option<String>>> =
        engine_support::rows(engine.store.db(), "SELECT log_horizon FROM rounds", ());
    assert_eq!(horizon, vec![vec![None], vec![None]]);
    let round: i64 = strings(
        engine.store.db(),
        "SELECT id FROM rounds WHERE occurrence = '2027-03-01T06:00:00Z'",
        (),
    )[0][0]
        .parse()
        .expect("round");
    let redraw = loggkoll::engine::rounds::redraw(&engine.store, round).expect("redraw");
    assert!(redraw.matches);
    assert_eq!(redraw.window_rule, "random");
    // Every window is 24 hours inside the month before the round, on the round's minute.
    for w in &redraw.windows {
        let (a, b) = (engine_support::utc(&w.1), engine_support::utc(&w.2));
        assert_eq!(b - a, Duration::hours(24));
        assert!(a >= local("2027-02-01T07:00") && b <= local("2027-03-01T07:00"));
    }
}
