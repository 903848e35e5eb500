//! The engine over a whole year (issue "The engine", *Done when*): a synthetic roster of a few
//! hundred people, the shipped routines, a tick every morning and every step answered the day it
//! appears. Checked afterwards with SQL written here: the rounds of the year, coverage of the
//! users present all year, one case per drawn user and round, every case closed, the sampling
//! details (a user per unit, multi-unit follow-up, the review window, case references), the
//! recorded draws replayed by `round redraw`, and the audit chain verified and then broken.
//! Plus the statistics of 10 % monthly uniform sampling on a population of a few thousand.

#[path = "support/engine.rs"]
mod helpers;
mod support;

use chrono::{Duration, Months, NaiveDate, Utc};
use chrono_tz::Europe::Stockholm;
use helpers::{count, date, local, local_date, rows, strings, utc};
use loggkoll::engine::Engine;
use loggkoll::simulate::org::synthetic;
use loggkoll::store::Db;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use support::Test;

/// The shipped routines, all four (the on-demand ones run no rounds).
fn shipped_routines() -> std::path::PathBuf {
    helpers::root().join("routines")
}

/// 2027 with a tick at 07:05 every morning, each open step answered at 10:00 by its assignee.
fn simulate_year(dir: &Path, roster_seed: u64) -> Engine {
    let mut engine = helpers::open(
        dir,
        "year",
        &shipped_routines(),
        "year-install-seed",
        local("2026-12-31T12:00"),
    );
    helpers::import(
        &mut engine,
        &synthetic(300, 12, roster_seed),
        local("2027-01-01T00:00"),
    );
    let mut rng = helpers::rng(roster_seed);
    for morning in helpers::mornings(date("2027-01-01"), date("2027-12-31"), 7, 5) {
        engine.tick(morning).expect("tick");
        helpers::answer_all_open(&mut engine, &mut rng, morning + Duration::minutes(175));
    }
    engine
}

/// The occurrences of `routine`'s rounds, in order.
fn occurrences(conn: &Db, routine: &str) -> Vec<String> {
    strings(
        conn,
        "SELECT occurrence FROM rounds WHERE routine_id = ?1 ORDER BY occurrence",
        [routine],
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

/// Users in the population of every round of `routine` (present all year), and of those, the
/// ones never drawn.
fn present_all_year(conn: &Db, routine: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let rounds = count(
        conn,
        "SELECT COUNT(*) FROM rounds WHERE routine_id = ?1",
        [routine],
    );
    let present: Vec<Vec<String>> = strings(
        conn,
        "SELECT m.person_id, COUNT(m.drawn) FROM round_members m
         JOIN rounds r ON r.id = m.round_id
         WHERE r.routine_id = ?1
         GROUP BY m.person_id HAVING COUNT(DISTINCT m.round_id) = ?2",
        loggkoll::params![routine, rounds],
    );
    let all = present.iter().map(|r| r[0].clone()).collect();
    let never = present
        .iter()
        .filter(|r| r[1] == "0")
        .map(|r| r[0].clone())
        .collect();
    (all, never)
}

#[test]
fn a_year_with_every_case_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = simulate_year(dir.path(), 7);
    let conn = engine.store.db();

    // Exactly the rounds of the year: 07:00 on the 1st of every month, and 1 March and
    // 1 September for NPÖ.
    let monthly: Vec<String> = (1..=12)
        .map(|m| helpers::ts(local(&format!("2027-{m:02}-01T07:00"))))
        .collect();
    assert_eq!(occurrences(conn, "treserva-sampling"), monthly);
    assert_eq!(
        occurrences(conn, "npo-sampling"),
        vec![
            helpers::ts(local("2027-03-01T07:00")),
            helpers::ts(local("2027-09-01T07:00"))
        ]
    );
    // And the access-rights review of 1 March.
    assert_eq!(count(conn, "SELECT COUNT(*) FROM rounds", ()), 15);

    // Every user present in every round of the year was drawn at least once per routine.
    for (routine, at_least) in [("treserva-sampling", 200), ("npo-sampling", 80)] {
        let (present, never) = present_all_year(conn, routine);
        assert!(
            present.len() >= at_least,
            "{routine}: only {} users present all year",
            present.len()
        );
        assert!(
            never.is_empty(),
            "{routine}: {} of {} users present all year were never drawn: {never:?}",
            never.len(),
            present.len()
        );
    }

    // One case per drawn user and round, and a case for nobody else.
    let duplicates = rows(
        conn,
        "SELECT round_id, subject_person_id, COUNT(*) FROM cases WHERE round_id IS NOT NULL
         GROUP BY round_id, subject_person_id HAVING COUNT(*) > 1",
        (),
    );
    assert!(duplicates.is_empty(), "duplicate cases: {duplicates:?}");
    let drawn_without_case = count(
        conn,
        "SELECT COUNT(*) FROM round_members m WHERE m.drawn IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM cases c WHERE c.round_id = m.round_id AND c.subject_person_id = m.person_id)",
        (),
    );
    let case_without_draw = count(
        conn,
        "SELECT COUNT(*) FROM cases c WHERE c.round_id IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM round_members m WHERE m.round_id = c.round_id
              AND m.person_id = c.subject_person_id AND m.drawn IS NOT NULL)",
        (),
    );
    assert_eq!((drawn_without_case, case_without_draw), (0, 0));
    let bad_counts = rows(
        conn,
        "SELECT r.id, r.population, r.drawn, COUNT(m.person_id), COUNT(m.drawn)
         FROM rounds r JOIN round_members m ON m.round_id = r.id GROUP BY r.id
         HAVING r.population != COUNT(m.person_id) OR r.drawn != COUNT(m.drawn)",
        (),
    );
    assert!(bad_counts.is_empty(), "rounds miscounted: {bad_counts:?}");

    // Every case answered to the end: closed with a result, no open step, no pending timer.
    let cases = count(conn, "SELECT COUNT(*) FROM cases", ());
    assert!(cases > 300, "only {cases} cases in a year");
    assert_eq!(
        count(
            conn,
            "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL OR result IS NULL",
            ()
        ),
        0
    );
    assert_eq!(
        count(
            conn,
            "SELECT COUNT(*) FROM tasks WHERE answered_at IS NULL",
            ()
        ),
        0
    );
    assert_eq!(
        count(
            conn,
            "SELECT COUNT(*) FROM timers WHERE fired_at IS NULL",
            ()
        ),
        0
    );
    // Some cases went further than the first step (the policy answers other outcomes too).
    assert!(
        count(
            conn,
            "SELECT COUNT(*) FROM cases WHERE result != 'no_finding'",
            ()
        ) > 0
    );

    // With coverage, everyone keeps a chance: the last round of the year draws again some
    // users who were already drawn earlier that year.
    for routine in ["treserva-sampling", "npo-sampling"] {
        let last = occurrences(conn, routine).last().cloned().expect("rounds");
        let again = count(
            conn,
            "SELECT COUNT(*) FROM round_members m JOIN rounds r ON r.id = m.round_id
             WHERE r.routine_id = ?1 AND r.occurrence = ?2 AND m.drawn IS NOT NULL
               AND EXISTS (SELECT 1 FROM round_members e JOIN rounds er ON er.id = e.round_id
                           WHERE er.routine_id = ?1 AND er.occurrence < ?2
                             AND e.person_id = m.person_id AND e.drawn IS NOT NULL)",
            loggkoll::params![routine, last],
        );
        assert!(
            again > 0,
            "{routine}: nobody already reviewed was drawn in the last round ({last})"
        );
    }

    sampling_details(conn);
    case_references(conn, "TRE");
    case_references(conn, "NPO");

    // The recorded draws replay; then the chain verifies, and an altered entry is named.
    let db = engine.store.path.clone();
    drop(engine);
    replay_rounds(dir.path(), &db);
    audit_chain(dir.path(), &db);
}

/// At least one drawn user per non-empty unit and round; Treserva's multi-unit users followed up
/// at least every 3 months; each review window exactly 24 hours inside the look-back period.
fn sampling_details(conn: &Db) {
    let empty_units = rows(
        conn,
        "SELECT m.round_id, m.unit_id FROM round_members m GROUP BY m.round_id, m.unit_id
         HAVING COUNT(m.drawn) = 0",
        (),
    );
    assert!(
        empty_units.is_empty(),
        "units with nobody drawn: {empty_units:?}"
    );

    // Treserva: `always_include: multi_unit, every: 3 months`. For every round of the year and
    // every user with several units in it, the user was drawn in that round or in one less than
    // three months before it.
    let rounds: Vec<NaiveDate> = occurrences(conn, "treserva-sampling")
        .iter()
        .map(|o| local_date(o))
        .collect();
    let mut draws: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    let mut multi: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for r in strings(
        conn,
        "SELECT m.person_id, r.occurrence, m.units, m.drawn IS NOT NULL FROM round_members m
         JOIN rounds r ON r.id = m.round_id WHERE r.routine_id = 'treserva-sampling'",
        (),
    ) {
        let day = local_date(&r[1]);
        if r[3] == "1" {
            draws.entry(r[0].clone()).or_default().push(day);
        }
        if r[2].parse::<i64>().expect("units") >= 2 {
            multi.entry(r[0].clone()).or_default().insert(day);
        }
    }
    assert!(
        multi.len() >= 5,
        "only {} multi-unit users: the check says little",
        multi.len()
    );
    for (person, days) in &multi {
        for round in &rounds {
            if !days.contains(round) {
                continue;
            }
            let followed = draws.get(person).is_some_and(|d| {
                d.iter().any(|drawn| {
                    drawn <= round
                        && *round < drawn.checked_add_months(Months::new(3)).expect("date")
                })
            });
            assert!(
                followed,
                "multi-unit user {person} not drawn in the 3 months up to the round of {round}: drawn {:?}",
                draws.get(person)
            );
        }
    }

    // The window: exactly 24 hours, ending by the round and starting no earlier than the
    // look-back period before it (Treserva: 1 month on the local calendar; NPÖ: 30 days).
    for r in strings(
        conn,
        "SELECT c.id, c.routine_id, r.occurrence, c.window_start, c.window_end FROM cases c
         JOIN rounds r ON r.id = c.round_id",
        (),
    ) {
        let (occurrence, start, end) = (utc(&r[2]), utc(&r[3]), utc(&r[4]));
        let local_occurrence = occurrence.with_timezone(&Stockholm).naive_local();
        let earliest_local = match r[1].as_str() {
            "treserva-sampling" => local_occurrence
                .checked_sub_months(Months::new(1))
                .expect("date"),
            "npo-sampling" => local_occurrence - Duration::days(30),
            other => panic!("unexpected routine {other}"),
        };
        let earliest = {
            use chrono::TimeZone;
            Stockholm
                .from_local_datetime(&earliest_local)
                .earliest()
                .expect("a local time")
                .with_timezone(&Utc)
        };
        assert_eq!(end - start, Duration::hours(24), "case {}", r[0]);
        assert!(
            earliest <= start && end <= occurrence,
            "case {}: window {start} – {end} is not inside the look-back {earliest} – {occurrence}",
            r[0]
        );
    }
}

/// References `PREFIX-2027-NNNN`, numbered 1, 2, 3, … in the order the cases were opened (the
/// order of their `case.opened` entries in the audit trail).
fn case_references(conn: &Db, prefix: &str) {
    let ids: Vec<String> = strings(
        conn,
        "SELECT case_id FROM audit WHERE event = 'case.opened' AND case_id LIKE ?1 || '-%' ORDER BY seq",
        [prefix],
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    assert!(!ids.is_empty(), "no {prefix} cases");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id, &format!("{prefix}-2027-{:04}", i + 1));
    }
}

fn loggkoll(dir: &Path, db: &Path) -> Test {
    Test::in_dir(dir).args(["--db", db.to_str().expect("utf-8 path")])
}

/// `round show` gives the seed and the command; `round redraw` draws every round again the same;
/// a tampered record is told apart.
fn replay_rounds(dir: &Path, db: &Path) {
    let conn = loggkoll::store::Store::at(std::path::Path::new(&db))
        .expect("db")
        .into_db();
    let rounds = strings(
        &conn,
        "SELECT id, seed FROM rounds WHERE routine_id LIKE '%-sampling' ORDER BY id",
        (),
    );
    // A round that opens a review per unit draws nobody: nothing to redraw.
    let access = strings(
        &conn,
        "SELECT id FROM rounds WHERE routine_id = 'npo-access-rights'",
        (),
    );
    assert_eq!(access.len(), 1);
    let redraw = loggkoll(dir, db)
        .args(["round", "redraw", &access[0][0]])
        .run();
    assert_eq!(redraw.code, 2, "{}", redraw.stderr);
    assert!(
        redraw.stderr.contains("nothing to redraw"),
        "{}",
        redraw.stderr
    );
    for r in &rounds {
        let show = loggkoll(dir, db).args(["round", "show", &r[0]]).run();
        assert_eq!(show.code, 0, "{}", show.stderr);
        assert!(
            show.stdout.contains(&format!("seed: {}", r[1])),
            "{}",
            show.stdout
        );
        assert!(
            show.stdout
                .contains(&format!("loggkoll round redraw {}", r[0])),
            "{}",
            show.stdout
        );
        let redraw = loggkoll(dir, db).args(["round", "redraw", &r[0]]).run();
        assert_eq!(redraw.code, 0, "round {}: {}", r[0], redraw.stdout);
        assert!(redraw.stdout.contains("the same as recorded"));
        let drawn: BTreeSet<String> = strings(
            &conn,
            "SELECT person_id FROM round_members WHERE round_id = ?1 AND drawn IS NOT NULL",
            [&r[0]],
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        let listed: BTreeSet<String> = redraw
            .stdout
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        assert_eq!(listed, drawn, "round {}", r[0]);
    }
    // A recorded draw that was changed afterwards no longer replays.
    let last = &rounds.last().expect("rounds")[0];
    conn.inspect().execute(
        "UPDATE round_members SET drawn = NULL WHERE round_id = ?1
         AND person_id = (SELECT MIN(person_id) FROM round_members WHERE round_id = ?1 AND drawn IS NOT NULL)",
        [last],
    )
    .expect("tamper");
    let redraw = loggkoll(dir, db).args(["round", "redraw", last]).run();
    assert_eq!(redraw.code, 1, "{}", redraw.stdout);
    assert!(redraw.stdout.contains("DIFFERENT"), "{}", redraw.stdout);
}

/// `audit verify` passes on the year's trail; an entry altered behind the triggers' back makes it
/// exit 1 naming that entry's sequence number.
fn audit_chain(dir: &Path, db: &Path) {
    let ok = loggkoll(dir, db).args(["audit", "verify"]).run();
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stderr.contains("intact"), "{}", ok.stderr);

    let conn = loggkoll::store::Store::at(std::path::Path::new(&db))
        .expect("db")
        .into_db();
    let entries = count(&conn, "SELECT COUNT(*) FROM audit", ());
    assert!(entries > 1000, "only {entries} audit entries");
    // An answer in the middle of the year.
    let seq = count(
        &conn,
        "SELECT seq FROM audit WHERE event = 'case.answered' ORDER BY seq LIMIT 1 OFFSET 200",
        (),
    );
    // The trigger refuses the change as long as it is there.
    assert!(
        conn.inspect()
            .execute("UPDATE audit SET data = '{}' WHERE seq = ?1", [seq])
            .is_err()
    );
    conn.inspect()
        .execute_batch(if conn.is_postgres() {
            "DROP TRIGGER audit_append_only_update ON audit"
        } else {
            "DROP TRIGGER audit_append_only_update"
        })
        .expect("drop trigger");
    conn.inspect().execute(
        "UPDATE audit SET data = replace(data, '\"outcome\"', '\"outcome_changed\"') WHERE seq = ?1",
        [seq],
    )
    .expect("alter an entry");
    drop(conn);
    let broken = loggkoll(dir, db).args(["audit", "verify"]).run();
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert!(
        broken.stderr.contains(&format!("audit entry {seq} ")),
        "expected entry {seq} named: {}",
        broken.stderr
    );
    let json = loggkoll(dir, db).args(["audit", "verify", "--json"]).run();
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["intact"], false);
    assert_eq!(v["broken"]["seq"], seq);
}

/// 10 % of the whole organisation each month, drawn uniformly: a user present all year is
/// reviewed with probability 1 − Π(1 − p_r) ≈ 1 − 0.9¹² = 71.8 %.
#[test]
fn ten_percent_monthly_uniform_reviews_about_72_percent_in_a_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "uniform",
        &helpers::fixture("uniform"),
        "uniform-install-seed",
        local("2026-12-31T12:00"),
    );
    helpers::import(
        &mut engine,
        &synthetic(3000, 30, 11),
        local("2027-01-01T00:00"),
    );
    for month in 1..=12 {
        engine
            .tick(local(&format!("2027-{month:02}-01T08:00")))
            .expect("tick");
    }
    let conn = engine.store.db();
    let per_round = strings(
        conn,
        "SELECT r.id, COUNT(*), COUNT(m.drawn) FROM rounds r
         JOIN round_members m ON m.round_id = r.id GROUP BY r.id ORDER BY r.occurrence",
        (),
    );
    assert_eq!(per_round.len(), 12);
    let mut not_reviewed_chance = 1.0f64;
    for r in &per_round {
        let (n, k): (f64, f64) = (r[1].parse().expect("count"), r[2].parse().expect("count"));
        // 10 % of the population, rounded up.
        assert_eq!(k, (n / 10.0).ceil(), "round {}", r[0]);
        not_reviewed_chance *= 1.0 - k / n;
    }
    let expected = 1.0 - not_reviewed_chance;
    assert!((expected - 0.718).abs() < 0.005, "expected {expected}");

    let (present, never) = present_all_year(conn, "uniform-10");
    let n = present.len() as f64;
    let share = 1.0 - never.len() as f64 / n;
    // Each user present all year is reviewed with probability p ≈ 0.718. Over n ≈ 2,700 users
    // (92 % of the synthetic staff hold a Treserva account) the share reviewed has the binomial
    // standard error √(p(1 − p)/n) = √(0.718 · 0.282 / 2700) ≈ 0.0087; drawing without
    // replacement within a round makes users' chances negatively correlated, which only narrows
    // it. ±3 percentage points is about 3.5 standard errors: a correct engine fails this less
    // than once in 2,000 seeds, while a draw 2 points off per round (8 % or 12 % a month, a
    // 64 % or 78 % yearly share) falls outside.
    assert!(n > 2500.0, "only {n} users present all year");
    assert!(
        (share - expected).abs() <= 0.03,
        "reviewed {share:.4} of {n} users; expected {expected:.4} ± 0.03"
    );
}

/// Coverage reaches everyone present all year whatever the draw: two more installations and
/// rosters, ticks only (nobody answers; the draws do not depend on answers).
#[test]
fn coverage_reaches_everyone_present_all_year_for_other_seeds() {
    for seed in [21u64, 22] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut engine = helpers::open(
            dir.path(),
            "coverage",
            &helpers::shipped(dir.path(), &["treserva-sampling", "npo-sampling"]),
            &format!("coverage-{seed}"),
            local("2026-12-31T12:00"),
        );
        helpers::import(
            &mut engine,
            &synthetic(200, 9, seed),
            local("2027-01-01T00:00"),
        );
        for morning in helpers::mornings(date("2027-01-01"), date("2027-12-31"), 7, 30) {
            engine.tick(morning).expect("tick");
        }
        let conn = engine.store.db();
        assert_eq!(
            count(
                conn,
                "SELECT COUNT(*) FROM rounds WHERE routine_id = 'treserva-sampling'",
                ()
            ),
            12
        );
        for routine in ["treserva-sampling", "npo-sampling"] {
            let (present, never) = present_all_year(conn, routine);
            assert!(present.len() > 50, "{routine}: {}", present.len());
            assert!(
                never.is_empty(),
                "seed {seed}, {routine}: never drawn {never:?}"
            );
        }
    }
}

/// The review window must lie inside the look-back period also when the round is not on a whole
/// hour: here the look-back is exactly the window's 24 hours, so the window must be the 24 hours
/// before the round (07:30 on the 1st).
#[test]
fn the_window_stays_inside_the_look_back_for_a_round_at_half_past() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = helpers::open(
        dir.path(),
        "half",
        &helpers::fixture("half-hour"),
        "half-hour-seed",
        local("2027-01-01T00:00"),
    );
    helpers::import(&mut engine, &synthetic(60, 3, 5), local("2027-01-01T00:00"));
    engine.tick(local("2027-02-01T08:00")).expect("tick");
    let windows = strings(
        engine.store.db(),
        "SELECT c.id, r.occurrence, c.window_start, c.window_end FROM cases c
         JOIN rounds r ON r.id = c.round_id",
        (),
    );
    assert!(!windows.is_empty());
    for w in windows {
        let occurrence = utc(&w[1]);
        assert_eq!(occurrence, local("2027-02-01T07:30"));
        assert_eq!(
            (utc(&w[2]), utc(&w[3])),
            (occurrence - Duration::hours(24), occurrence),
            "case {}",
            w[0]
        );
    }
}
