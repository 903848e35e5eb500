//! The issue's "Done when", on a simulated clock: a year of cases (every result path of the
//! shipped routines, some late) gives a protocol for every case; the SAS's summary is emailed
//! before 31 December (once) and made on demand, its figures equal to counts computed here with
//! our own SQL; an extract letter lists exactly the requested period's accesses; and in 2030
//! Treserva's 2027 cases are gone — nothing personal of them left in any table or the export
//! folder — while NPÖ's remain and the audit chain verifies; in 2033 NPÖ's go too.

#[path = "support/backend.rs"]
mod backend;
#[path = "support/mime.rs"]
mod mime;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use loggkoll::config::Config;
use loggkoll::engine::{Engine, OpenRequest};
use loggkoll::params;
use loggkoll::records::figures::{self, Scope};
use loggkoll::records::files::Printer;
use loggkoll::records::logs::{self, ImportOptions};
use loggkoll::records::{annual, extract, protocol, purge};
use loggkoll::routine::model::{CaseKind, ResultCategory};
use loggkoll::routine::{Context, Routine, loader};
use loggkoll::store::Db;
use loggkoll::store::{Store, audit};
use loggkoll::templates::Library;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Stockholm
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .expect("local time")
        .with_timezone(&Utc)
}

fn engine(dir: &Path, now: DateTime<Utc>) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).expect("templates");
    let routines = loader::load_routines(
        &root.join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("routines");
    let store = Store::at(&backend::location(dir, "loggkoll")).expect("store");
    let config = Config {
        organisation: "Exempel kommun".into(),
        ..Config::default()
    };
    Engine::new(store, routines, templates, config, now).expect("engine")
}

/// Every path from the start to a final state: (state, outcome) steps.
fn paths(r: &Routine) -> Vec<Vec<(String, String)>> {
    fn walk(
        r: &Routine,
        ix: loggkoll::routine::model::StateIx,
        path: &mut Vec<(String, String)>,
        seen: &mut Vec<String>,
        out: &mut Vec<Vec<(String, String)>>,
    ) {
        let state = &r.graph[ix];
        if state.is_final() {
            out.push(path.clone());
            return;
        }
        for (o, next) in r.outcomes(ix) {
            let name = r.graph[next].name.clone();
            if seen.contains(&name) {
                continue;
            }
            path.push((state.name.clone(), o.name.clone()));
            seen.push(name);
            walk(r, next, path, seen, out);
            seen.pop();
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(r, r.start, &mut Vec::new(), &mut vec![], &mut out);
    out
}

struct Driver {
    /// routine → its paths.
    paths: HashMap<String, Vec<Vec<(String, String)>>>,
    /// case → path index.
    chosen: HashMap<String, usize>,
    next_path: HashMap<String, usize>,
    /// Cases whose answers come late (after the due date).
    late: BTreeSet<String>,
    /// Every comment written, by case.
    comments: BTreeMap<String, Vec<String>>,
    answered: usize,
}

impl Driver {
    fn new(engine: &Engine) -> Driver {
        Driver {
            paths: engine
                .routines
                .iter()
                .map(|r| (r.id.clone(), paths(r)))
                .collect(),
            chosen: HashMap::new(),
            next_path: HashMap::new(),
            late: BTreeSet::new(),
            comments: BTreeMap::new(),
            answered: 0,
        }
    }

    /// Answers the open steps (those of late cases only when `late_round`), following each
    /// case's path, until none is left; a minute apart.
    fn answer(&mut self, engine: &mut Engine, at: DateTime<Utc>, late_round: bool) {
        let mut t = at;
        for _ in 0..12 {
            let open: Vec<(String, String, String, Option<String>)> = {
                let mut stmt = engine
                    .store
                    .db()
                    .inspect()
                    .prepare(
                        "SELECT t.case_id, c.routine_id, t.state, t.assignee_id FROM tasks t
                         JOIN cases c ON c.id = t.case_id WHERE t.answered_at IS NULL ORDER BY t.id",
                    )
                    .expect("query");
                stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .expect("rows")
                    .map(|r| r.expect("row"))
                    .collect()
            };
            let mut any = false;
            for (case, routine, state, assignee) in open {
                if !self.chosen.contains_key(&case) {
                    let n = self.next_path.entry(routine.clone()).or_insert(0);
                    let count = self.paths[&routine].len();
                    self.chosen.insert(case.clone(), *n % count);
                    *n += 1;
                    if self.chosen.len().is_multiple_of(6) {
                        self.late.insert(case.clone());
                    }
                }
                if self.late.contains(&case) != late_round {
                    continue;
                }
                let path = &self.paths[&routine][self.chosen[&case]];
                let outcome = path
                    .iter()
                    .find(|(s, _)| *s == state)
                    .map(|(_, o)| o.clone())
                    .expect("the state is on the case's path");
                let by = assignee.expect("every step has an assignee");
                let comment = format!("hemlig-kommentar-{case}-{state}");
                t += chrono::Duration::minutes(1);
                // A unit's information case: everyone on its list informed first.
                if !loggkoll::store::information::staff_of(engine.store.db(), &case)
                    .expect("the list")
                    .is_empty()
                {
                    engine
                        .inform_staff(
                            &loggkoll::engine::information::InformRequest {
                                case_id: &case,
                                people: &[],
                                by: &by,
                                task_id: None,
                                undo: false,
                            },
                            t,
                        )
                        .expect("informed");
                }
                engine
                    .answer(
                        &loggkoll::engine::AnswerRequest::new(&case, &outcome, &by)
                            .comment(Some(&comment)),
                        t,
                    )
                    .expect("answer");
                self.comments.entry(case).or_default().push(comment);
                self.answered += 1;
                any = true;
            }
            if !any {
                break;
            }
        }
    }
}

/// A valid 12-digit identity number built from `seed`.
fn pnr(seed: u32) -> String {
    let nine = format!(
        "{:02}{:02}{:02}{:03}",
        40 + seed % 50,
        1 + seed % 12,
        1 + seed % 28,
        seed % 1000
    );
    let sum: u32 = nine
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, x)| {
            let v = if i % 2 == 0 { x * 2 } else { x };
            v / 10 + v % 10
        })
        .sum();
    format!("19{nine}{}", (10 - sum % 10) % 10)
}

/// Every text of every column of every table (cast to text), with where it is.
fn find_everywhere(conn: &Db, needle: &str, skip: &[&str]) -> Vec<String> {
    let tables = conn.inspect().tables().expect("tables");
    let mut hits = Vec::new();
    for t in tables {
        if skip.contains(&t.as_str()) {
            continue;
        }
        let columns = conn.inspect().columns(&t).expect("columns");
        for c in columns {
            let n: i64 = conn
                .inspect()
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM \"{t}\" WHERE CAST(\"{c}\" AS TEXT) LIKE '%' || ?1 || '%'"
                    ),
                    [needle],
                    |r| r.get(0),
                )
                .expect("search");
            if n > 0 {
                hits.push(format!("{t}.{c} ({n})"));
            }
        }
    }
    hits
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The summary measures of a unit, counted here with our own SQL over the raw tables.
fn independent(
    conn: &Db,
    routine: &str,
    year: i32,
    now: DateTime<Utc>,
) -> BTreeMap<String, BTreeMap<String, i64>> {
    let start = loggkoll::store::ts(local(year, 1, 1, 0, 0));
    let end = loggkoll::store::ts(local(year + 1, 1, 1, 0, 0));
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut put = |unit: String, k: &str, v: i64| {
        if v != 0 {
            out.entry(unit).or_default().insert(k.to_string(), v);
        }
    };
    let mut stmt = conn
        .inspect()
        .prepare(
            "SELECT unit_id, COUNT(*), COUNT(closed_at), COUNT(*) - COUNT(closed_at),
                    SUM(CASE WHEN result IN ('labour_law_action', 'police_report') THEN 1 ELSE 0 END),
                    SUM(CASE WHEN result = 'police_report' THEN 1 ELSE 0 END),
                    COUNT(handed_out_at)
             FROM cases WHERE routine_id = ?1 AND opened_at >= ?2 AND opened_at < ?3 GROUP BY unit_id",
        )
        .expect("query");
    let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = stmt
        .query_map(params![routine, start, end], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    for (unit, cases, closed, open, labour, police, handed) in rows {
        put(unit.clone(), "cases", cases);
        put(unit.clone(), "closed", closed);
        put(unit.clone(), "open", open);
        put(unit.clone(), "labour_law", labour);
        put(unit.clone(), "police", police);
        put(unit, "handed_out", handed);
    }
    let mut stmt = conn
        .inspect()
        .prepare(
            "SELECT unit_id, result, COUNT(*) FROM cases WHERE routine_id = ?1 AND opened_at >= ?2
             AND opened_at < ?3 AND result IS NOT NULL GROUP BY unit_id, result",
        )
        .expect("query");
    let rows: Vec<(String, String, i64)> = stmt
        .query_map(params![routine, start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    for (unit, result, n) in rows {
        put(unit, &format!("result:{result}"), n);
    }
    // Late: a step answered (or still open at `now`) after the end of its due date, local time.
    let mut stmt = conn
        .inspect()
        .prepare(
            "SELECT c.unit_id, c.id, t.due_date, t.answered_at FROM cases c JOIN tasks t ON t.case_id = c.id
             WHERE c.routine_id = ?1 AND c.opened_at >= ?2 AND c.opened_at < ?3",
        )
        .expect("query");
    let rows: Vec<(String, String, String, Option<String>)> = stmt
        .query_map(params![routine, start, end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let mut late: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (unit, case, due, answered) in rows {
        let due = NaiveDate::parse_from_str(&due, "%Y-%m-%d").expect("date");
        let next = due.succ_opt().expect("day");
        let end = local(next.year(), next.month(), next.day(), 0, 0);
        let at = answered
            .map(|a| {
                DateTime::parse_from_rfc3339(&a)
                    .expect("time")
                    .with_timezone(&Utc)
            })
            .unwrap_or(now);
        if at >= end {
            late.entry(unit).or_default().insert(case);
        }
    }
    for (unit, cases) in late {
        put(unit, "late", cases.len() as i64);
    }
    // Users.
    for (measure, sql) in [
        (
            "population",
            "SELECT m.unit_id, COUNT(DISTINCT m.person_id) FROM round_members m JOIN rounds r ON r.id = m.round_id WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3 GROUP BY m.unit_id",
        ),
        (
            "drawn",
            "SELECT m.unit_id, COUNT(DISTINCT m.person_id) FROM round_members m JOIN rounds r ON r.id = m.round_id WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3 AND m.drawn IS NOT NULL GROUP BY m.unit_id",
        ),
        (
            "reviewed",
            "SELECT c.unit_id, COUNT(DISTINCT c.subject_person_id) FROM cases c JOIN rounds r ON r.id = c.round_id WHERE r.routine_id = ?1 AND r.occurrence >= ?2 AND r.occurrence < ?3 AND c.closed_at IS NOT NULL GROUP BY c.unit_id",
        ),
    ] {
        let rows: Vec<(String, i64)> = conn
            .inspect()
            .prepare(sql)
            .expect("query")
            .query_map(params![routine, start, end], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect();
        for (unit, n) in rows {
            put(unit, measure, n);
        }
    }
    out
}

/// The unit measures of `figures` without zeros and without `hand_out_seconds`.
fn comparable(f: &figures::Figures) -> BTreeMap<String, BTreeMap<String, i64>> {
    f.units
        .iter()
        .map(|(u, m)| {
            (
                u.clone(),
                m.iter()
                    .filter(|(k, v)| **v != 0 && k.as_str() != "hand_out_seconds")
                    .map(|(k, v)| (k.clone(), *v))
                    .collect::<BTreeMap<_, _>>(),
            )
        })
        .filter(|(_, m)| !m.is_empty())
        .collect()
}

#[test]
fn a_year_of_records_then_the_purge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let export = dir.path().join("arkiv");
    let start = local(2026, 12, 20, 8, 0);
    let mut engine = engine(dir.path(), start);
    let mut roster = loggkoll::simulate::org::synthetic(60, 3, 11);
    loggkoll::engine::import_roster(
        &mut engine.store,
        &roster,
        "units.csv",
        "people.csv",
        "test",
        start,
    )
    .expect("roster");
    let mut driver = Driver::new(&engine);
    let units: Vec<String> = roster
        .units
        .iter()
        .filter(|u| u.id.starts_with("EN"))
        .map(|u| u.id.clone())
        .collect();
    let ops_manager = |engine: &Engine, unit: &str, day: NaiveDate| -> String {
        engine
            .org()
            .holders(loggkoll::roster::Role::OperationsManager, unit, day)
            .first()
            .expect("an operations manager")
            .to_string()
    };
    let staff: Vec<String> = roster
        .people
        .iter()
        .filter(|p| p.roles.is_empty() && !p.accounts.is_empty())
        .map(|p| p.id.clone())
        .collect();

    // ----- 2027, month by month -----
    let extract_client = pnr(4711);
    let mut extract_case = String::new();
    for month in 1..=12u32 {
        let tick = local(2027, month, 1, 8, 0);
        engine.tick(tick).expect("tick");
        // Ad hoc cases: a targeted review and an extract request every month, paths in turn.
        let day = tick.with_timezone(&Stockholm).date_naive();
        let unit = &units[month as usize % units.len()];
        let by = ops_manager(&engine, unit, day);
        engine
            .open_case(
                &OpenRequest {
                    routine: "targeted-review".into(),
                    unit: unit.clone(),
                    by: by.clone(),
                    subject_user: Some(staff[month as usize].clone()),
                    from: Some(tick - chrono::Duration::days(7)),
                    to: Some(tick),
                    reason: Some(format!("hemlig-anledning-{month}")),
                    system: Some("treserva".into()),
                    ..OpenRequest::default()
                },
                tick + chrono::Duration::minutes(5),
            )
            .expect("targeted");
        let client = if month == 4 {
            extract_client.clone()
        } else {
            pnr(1000 + month)
        };
        let (from, to) = if month == 4 {
            (local(2027, 3, 1, 0, 0), local(2027, 4, 1, 0, 0))
        } else {
            (tick - chrono::Duration::days(30), tick)
        };
        let id = engine
            .open_case(
                &OpenRequest {
                    routine: "log-extract".into(),
                    unit: unit.clone(),
                    by,
                    client: Some(client),
                    from: Some(from),
                    to: Some(to),
                    reason: Some("Begäran om loggutdrag".into()),
                    system: Some("treserva".into()),
                    ..OpenRequest::default()
                },
                tick + chrono::Duration::minutes(6),
            )
            .expect("extract");
        if month == 4 {
            extract_case = id;
        }
        driver.answer(&mut engine, local(2027, month, 3, 9, 0), false);
        engine.tick(local(2027, month, 15, 8, 0)).expect("tick");
        driver.answer(&mut engine, local(2027, month, 26, 9, 0), true);
        engine.tick(local(2027, month, 27, 8, 0)).expect("tick");
    }
    // The December cases are answered; every case of 2027 is closed by the year's end.
    engine.tick(local(2027, 12, 31, 8, 0)).expect("tick");
    let open: i64 = engine
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL",
            (),
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(open, 0, "every case of 2027 closed");

    // ----- every result path of every shipped routine was taken -----
    let mut results: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare("SELECT routine_id, state FROM cases")
            .expect("query");
        for row in stmt
            .query_map((), |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
            .expect("rows")
        {
            let (r, s) = row.expect("row");
            results.entry(r).or_default().insert(s);
        }
    }
    // (Information cases open when someone gets an account: `tests/obligations.rs`.)
    for r in engine
        .routines
        .iter()
        .filter(|r| r.kind != loggkoll::routine::model::CaseKind::Information)
    {
        let finals: BTreeSet<String> = r
            .states()
            .filter(|(_, s)| s.is_final())
            .map(|(_, s)| s.name.clone())
            .collect();
        assert_eq!(
            results.get(&r.id),
            Some(&finals),
            "every final state of {} reached",
            r.id
        );
    }

    // ----- a protocol for every case -----
    let cases: Vec<(String, String, String)> = {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare("SELECT id, routine_id, result FROM cases ORDER BY id")
            .expect("query");
        stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let now = local(2028, 1, 5, 10, 0);
    for (id, routine, result) in &cases {
        let written = protocol::write(&mut engine, id, &export, &Printer::default(), "test", now)
            .expect("protocol");
        let html = std::fs::read_to_string(&written.html).expect("html");
        assert!(html.contains(id.as_str()));
        let title = &engine.routine(routine).expect("routine").title;
        assert!(html.contains(title.as_str()), "{id}: routine title");
        let result = ResultCategory::parse(result).expect("result");
        assert!(html.contains(result.title_sv()), "{id}: result");
        for c in &driver.comments[id] {
            assert!(html.contains(c.as_str()), "{id}: comment {c}");
        }
        if routine.ends_with("sampling") {
            assert!(html.contains("Granskat intervall"), "{id}: the window");
            assert!(html.contains("svensk tid"));
        }
        assert!(
            written.pdf.is_none() && written.no_pdf.is_some(),
            "no PDF without Chromium"
        );
    }
    assert!(driver.late.len() > 3, "some cases were answered late");

    // ----- the summary, emailed before 31 December, once -----
    let summaries: Vec<(i64, String, String, String)> = {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare("SELECT id, created_at, to_addr, context FROM outbox WHERE purpose = 'summary' ORDER BY id")
            .expect("query");
        stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert_eq!(
        summaries.len(),
        2,
        "Treserva's to the SAS and NPÖ's to the MAS: {summaries:?}"
    );
    let sas = roster
        .people
        .iter()
        .find(|p| {
            p.roles
                .iter()
                .any(|r| r.role == loggkoll::roster::Role::Sas)
        })
        .expect("SAS");
    let (treserva_mail, created, to, _) = summaries
        .iter()
        .find(|(_, _, _, c)| c.contains("\"treserva-sampling\""))
        .expect("Treserva summary");
    assert!(to.contains(&sas.email));
    assert_eq!(
        created,
        &loggkoll::store::ts(local(2027, 12, 15, 8, 0)),
        "on its due date"
    );
    let attachments = loggkoll::store::records::attachments(engine.store.db(), *treserva_mail)
        .expect("attachments");
    assert_eq!(
        attachments
            .iter()
            .map(|a| a.file_name.as_str())
            .collect::<Vec<_>>(),
        [
            "sammanstallning-2027-treserva-sampling.html",
            "sammanstallning-2027-treserva-sampling.csv"
        ]
    );
    let html = String::from_utf8(attachments[0].body.clone()).expect("utf-8");
    assert!(html.contains("<svg") && !html.contains("<img") && !html.contains("src=\"http"));
    // Delivered as an email with both files attached.
    let mail_dir = dir.path().join("mail");
    let transport =
        loggkoll::notify::Transport::from_url(&format!("file://{}", mail_dir.display()))
            .expect("transport");
    let install = engine.install_id();
    let config = engine.config.clone();
    let sending = loggkoll::notify::sender::Sending {
        hours: None,
        ..loggkoll::notify::sender::Sending::new(&config, &engine.templates, &transport, &install)
    };
    loggkoll::notify::sender::deliver(&mut engine.store, &sending, now).expect("deliver");
    let emls: Vec<String> = files_under(&mail_dir)
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("eml"))
        .filter(|t| t.contains("sammanstallning-2027-treserva-sampling.csv"))
        .collect();
    assert_eq!(emls.len(), 1, "one email to the SAS with the CSV attached");
    assert!(emls[0].contains("sammanstallning-2027-treserva-sampling.html"));
    // The body states the conclusions: the coverage reached and the key figures, as the
    // figures have them.
    fn plain(part: &mime::Part) -> Option<String> {
        if part.mime_type() == "text/plain" {
            return Some(part.text());
        }
        part.parts().iter().find_map(plain)
    }
    let body = plain(&mime::Part::parse(emls[0].as_bytes())).expect("a plain-text body");
    let treserva = engine
        .routine("treserva-sampling")
        .expect("routine")
        .clone();
    let on_15_dec = local(2027, 12, 15, 9, 0);
    // The body says what the attached CSV says: both come of one computation when the summary
    // was made (answers later that day change the figures computed now).
    let csv = String::from_utf8(attachments[1].body.clone()).expect("utf-8");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("a header").split(';').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (year, routine, unit) = (column("år"), column("rutin"), column("enhet"));
    let totals: Vec<Vec<&str>> = lines
        .map(|l| l.split(';').collect::<Vec<_>>())
        .filter(|r| r[year] == "2027" && r[unit] == "Totalt")
        .collect();
    let number = |row: &[&str], name: &str| -> i64 { row[column(name)].parse().unwrap_or(0) };
    let own = totals
        .iter()
        .find(|r| r[routine] == "treserva-sampling")
        .expect("Treserva's total");
    let (population, reviewed) = (number(own, "användare"), number(own, "granskade"));
    let (due, held) = (
        number(own, "omgångar_planerade"),
        number(own, "omgångar_genomförda"),
    );
    let cases: i64 = totals.iter().map(|r| number(r, "ärenden")).sum();
    assert!(population > 0 && cases > 0, "{csv}");
    for text in [
        "Slutsatser:".to_string(),
        "Att åtgärda:".to_string(),
        format!("{reviewed} av {population} användare granskades"),
        format!("{held} av {due} omgångar genomfördes"),
        format!(" av {cases} ärenden avslutades: "),
    ] {
        assert!(body.contains(&text), "{text}: {body}");
    }
    // 2026 had no rounds and no cases here: nothing to compare with, so no "(0)" anywhere.
    let before = figures::compute(
        engine.store.db(),
        &Scope::of(&treserva, None),
        2026,
        on_15_dec,
    )
    .expect("figures");
    assert!(!annual::has_data(&before));
    assert!(
        !html.contains("<span class=\"prev\">"),
        "no comparison without a prior year"
    );
    assert!(html.contains("2026 finns inte i loggkoll att jämföra med"));
    assert!(
        html.find("Slutsatser") < html.find("<table"),
        "the conclusions come first"
    );
    // Every email's values are exactly the variables `check` lets its templates use: no
    // template that `check` passes can meet an undefined variable, and no value goes unchecked.
    {
        use loggkoll::templates::Purpose;
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare(
                "SELECT purpose, MIN(context) FROM outbox WHERE context != '{}' GROUP BY purpose",
            )
            .expect("query");
        let rows: Vec<(String, String)> = stmt
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect();
        assert!(rows.len() >= 4, "{rows:?}");
        for (purpose, context) in rows {
            let p = match purpose.as_str() {
                "task" => Purpose::Task,
                "reminder" => Purpose::Reminder,
                "escalation" => Purpose::Escalation,
                "inform" => Purpose::Inform,
                "summary" => Purpose::SummaryMail,
                "digest" => Purpose::Digest,
                "inbox_failed" => Purpose::InboxFailed,
                other => panic!("an email purpose the test does not know: {other}"),
            };
            let context: serde_json::Value = serde_json::from_str(&context).expect("JSON");
            let real: BTreeSet<String> = context
                .as_object()
                .expect("an object")
                .keys()
                .cloned()
                .collect();
            assert_eq!(real, p.variables(), "{purpose}");
        }
    }
    // Ticking again changes nothing: one summary per routine and year.
    engine.tick(local(2027, 12, 31, 9, 0)).expect("tick");
    let count: i64 = engine
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE purpose = 'summary'",
            (),
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(count, 2);

    // ----- the figures equal our own counts -----
    for routine in [
        "treserva-sampling",
        "npo-sampling",
        "targeted-review",
        "log-extract",
    ] {
        let r = engine.routine(routine).expect("routine").clone();
        let f =
            figures::compute(engine.store.db(), &Scope::of(&r, None), 2027, now).expect("figures");
        assert_eq!(
            comparable(&f),
            independent(engine.store.db(), routine, 2027, now),
            "{routine}"
        );
        if r.kind == CaseKind::Sampling {
            assert_eq!(f.rounds_held, f.rounds_due, "{routine}: every round held");
        }
    }
    // The emailed CSV (made on 15 December) and the one made on demand now carry the same
    // counts as our own SQL at their times.
    let total_line = |csv: &str, name: &str| -> String {
        let header: Vec<&str> = csv
            .lines()
            .next()
            .expect("header")
            .trim_start_matches('\u{feff}')
            .split(';')
            .collect();
        let total: Vec<&str> = csv
            .lines()
            .find(|l| l.starts_with("2027;treserva-sampling;") && l.contains(";Totalt;"))
            .expect("total line")
            .split(';')
            .collect();
        total[header.iter().position(|h| *h == name).expect(name)].to_string()
    };
    let emailed = String::from_utf8(attachments[1].body.clone()).expect("utf-8");
    let ours = independent(engine.store.db(), "treserva-sampling", 2027, now);
    let sum = |k: &str| {
        ours.values()
            .map(|m| m.get(k).copied().unwrap_or(0))
            .sum::<i64>()
            .to_string()
    };
    assert_eq!(
        total_line(&emailed, "ärenden"),
        sum("cases"),
        "every 2027 case was opened by 15 December"
    );
    let paths = annual::write(
        &engine,
        Some("treserva-sampling"),
        2027,
        &dir.path().join("rapport"),
        now,
    )
    .expect("annual");
    assert_eq!(paths.len(), 2);
    let csv = std::fs::read_to_string(&paths[1]).expect("csv");
    for (column, measure) in [
        ("ärenden", "cases"),
        ("avslutade", "closed"),
        ("försenade", "late"),
        ("öppna", "open"),
        ("resultat_no_finding", "result:no_finding"),
        ("resultat_explained", "result:explained"),
        ("resultat_labour_law_action", "result:labour_law_action"),
        ("resultat_police_report", "result:police_report"),
        ("arbetsrättsliga_ärenden", "labour_law"),
        ("polisanmälningar", "police"),
    ] {
        assert_eq!(total_line(&csv, column), sum(measure), "{column}");
    }
    let distinct = |sql: &str| -> String {
        engine
            .store
            .db()
            .inspect()
            .query_row(sql, (), |r| r.get::<i64>(0))
            .expect("count")
            .to_string()
    };
    assert_eq!(
        total_line(&csv, "användare"),
        distinct(
            "SELECT COUNT(DISTINCT m.person_id) FROM round_members m JOIN rounds r ON r.id = m.round_id WHERE r.routine_id = 'treserva-sampling' AND r.occurrence LIKE '2027%'"
        )
    );
    assert_eq!(
        total_line(&csv, "granskade"),
        distinct(
            "SELECT COUNT(DISTINCT c.subject_person_id) FROM cases c WHERE c.routine_id = 'treserva-sampling' AND c.closed_at IS NOT NULL"
        )
    );
    let on_demand = std::fs::read_to_string(&paths[0]).expect("html");
    assert!(on_demand.contains("Sammanställning av loggkontroller 2027"));
    assert!(
        on_demand.contains("Riktad loggkontroll"),
        "the targeted reviews of Treserva are in it"
    );
    assert!(on_demand.contains("Utlämnande av loggutdrag"));

    // ----- the extract letter: exactly the requested period's accesses -----
    let log = dir.path().join("treserva-2027-03.csv");
    let other = pnr(999);
    let rows = [
        (
            "L1",
            "2027-02-28 23:59:59",
            "treserva",
            &extract_client,
            "utanför: före",
        ),
        (
            "L2",
            "2027-03-01 00:00:00",
            "treserva",
            &extract_client,
            "första",
        ),
        (
            "L3",
            "2027-03-15T10:30:00+01:00",
            "treserva",
            &other,
            "annan klient",
        ),
        (
            "L4",
            "2027-03-20 12:00:00",
            "npo",
            &extract_client,
            "annat system",
        ),
        (
            "L5",
            "2027-03-31 23:59:59",
            "treserva",
            &extract_client,
            "sista",
        ),
        (
            "L6",
            "2027-04-01 00:00:00",
            "treserva",
            &extract_client,
            "utanför: efter",
        ),
    ];
    let mut text = String::from(
        "\u{feff}log_id;event_time;source_system;user_id;user_name;user_title;access_unit_id;subject_id;subject_unit_id;action;resource_type;purpose\n",
    );
    for (id, at, system, subject, purpose) in rows {
        text.push_str(&format!("{id};{at};{system};tre00042;Kalle Anka;Undersköterska;{};{subject};{};Läsa;journal;{purpose}\n", units[0], units[0]));
    }
    std::fs::write(&log, &text).expect("write log");
    let rules = logs::retention_rules(&engine.routines);
    let opts = ImportOptions {
        system: None,
        retention: &rules,
        tz: Stockholm,
        now,
        actor: "test",
        period: None,
        format: None,
        formats: &[],
        max_value: loggkoll::records::logs::MAX_VALUE,
    };
    let summary = logs::import(&mut engine.store, &log, &opts).expect("import");
    assert_eq!(summary.imported, 6);
    let case = loggkoll::store::cases::require(engine.store.db(), &extract_case).expect("case");
    assert!(
        case.handed_out_at.is_some(),
        "handed out when its start step was answered"
    );
    let values = extract::context(&mut engine, &case, now).expect("letter");
    let times: Vec<&str> = values["accesses"]
        .as_array()
        .expect("accesses")
        .iter()
        .map(|a| a["at"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(times, ["2027-03-01 00:00", "2027-03-31 23:59"]);
    let written = extract::write(
        &mut engine,
        &extract_case,
        &export,
        &Printer::default(),
        "test",
        now,
    )
    .expect("extract");
    let folder = export.join(&extract_case);
    assert!(
        folder
            .join(format!("loggutdrag-{extract_case}.html"))
            .is_file()
    );
    assert!(
        folder
            .join(format!("granskningsprotokoll-{extract_case}.html"))
            .is_file()
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("arende.json")).expect("json"))
            .expect("parses");
    assert_eq!(meta["atkomster"], 2);
    assert!(written.paths().len() >= 3);
    let letter = std::fs::read_to_string(&written.html).expect("letter");
    assert!(
        letter.contains("Undersköterska") && letter.contains("Kalle Anka"),
        "the role and who: the client may know who read the record"
    );

    // An NPÖ log of 2027 and a Treserva one: Treserva's rows go after 2 years, NPÖ's after 5.
    let npo_log = dir.path().join("npo-2027.csv");
    std::fs::write(
        &npo_log,
        format!("log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose\nN1,2027-06-01T10:00:00Z,NPÖ,SE2321000000-00042,Kalle Anka,Sjuksköterska,SE2321000000-E999,{},,Läsa,,\n", pnr(77)),
    )
    .expect("write");
    logs::import(&mut engine.store, &npo_log, &opts).expect("npo import");

    // ----- 2028: a Treserva-only user who had cases in 2027 leaves -----
    let leaver = {
        let conn = engine.store.db();
        let mut stmt = conn
            .inspect()
            .prepare(
                "SELECT DISTINCT c.subject_person_id, c.subject_account FROM cases c WHERE c.routine_id = 'treserva-sampling'
                 AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = c.subject_person_id AND a.system = 'npo')
                 AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.subject_person_id = c.subject_person_id AND o.routine_id != 'treserva-sampling')
                 AND NOT EXISTS (SELECT 1 FROM person_roles p WHERE p.person_id = c.subject_person_id)
                 ORDER BY 1 LIMIT 1",
            )
            .expect("query");
        stmt.query_row((), |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
            .expect("a leaver")
    };
    roster.people.retain(|p| p.id != leaver.0);
    loggkoll::engine::import_roster(
        &mut engine.store,
        &roster,
        "units.csv",
        "people.csv",
        "test",
        local(2028, 1, 10, 8, 0),
    )
    .expect("roster");
    let treserva_2027: Vec<String> = {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            // Treserva go with the sampled ones.
            .prepare("SELECT id FROM cases WHERE system = 'treserva' ORDER BY id")
            .expect("q");
        stmt.query_map((), |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let npo_2027: Vec<String> = {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare("SELECT id FROM cases WHERE system != 'treserva' ORDER BY id")
            .expect("q");
        stmt.query_map((), |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let before = figures::compute(
        engine.store.db(),
        &Scope::of(
            &engine.routine("treserva-sampling").expect("r").clone(),
            None,
        ),
        2027,
        now,
    )
    .expect("figures");

    // ----- 2030: Treserva's 2027 cases are gone, the targeted reviews and extracts of Treserva too -----
    let t2030 = local(2030, 6, 1, 8, 0);
    let dry = purge::run(&mut engine, t2030, true, "test").expect("dry run");
    assert_eq!(
        dry.cases.len(),
        treserva_2027.len(),
        "{:?}",
        dry.cases.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    let still: i64 = engine
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE purged_at IS NOT NULL",
            (),
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(still, 0, "a dry run changes nothing");
    assert!(
        files_under(&export)
            .iter()
            .any(|p| p.to_string_lossy().contains("TRE-2027"))
    );
    engine.tick(t2030).expect("tick purges");
    let purged: Vec<String> = {
        let mut stmt = engine
            .store
            .db()
            .inspect()
            .prepare("SELECT id FROM cases WHERE purged_at IS NOT NULL ORDER BY id")
            .expect("q");
        stmt.query_map((), |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert_eq!(purged, treserva_2027);
    assert!(
        audit::verify(engine.store.db())
            .expect("verify")
            .broken
            .is_none(),
        "the chain verifies"
    );
    let entries = audit::case_history(engine.store.db(), &treserva_2027[0]).expect("history");
    assert!(entries.iter().all(|e| e.personal.is_none()));
    let purge_entries: i64 = engine
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE event = 'records.purged'",
            (),
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(purge_entries, 1, "the purge is recorded");
    // Nothing personal of the purged cases anywhere: their comments, and the leaver's id and
    // account outside the roster (where a former employee stays as history).
    let roster_tables = [
        "people",
        "person_units",
        "person_roles",
        "accounts",
        "person_history",
        "account_holders",
        "unit_history",
        "units",
        "delegations",
        "roster_imports",
    ];
    for id in &treserva_2027 {
        for c in driver.comments.get(id).into_iter().flatten() {
            assert_eq!(
                find_everywhere(engine.store.db(), c, &[]),
                Vec::<String>::new(),
                "{c}"
            );
        }
    }
    for needle in [&leaver.0, &leaver.1] {
        assert_eq!(
            find_everywhere(engine.store.db(), needle, &roster_tables),
            Vec::<String>::new(),
            "{needle}"
        );
    }
    for f in files_under(&export) {
        let name = f.to_string_lossy().into_owned();
        assert!(!name.contains("TRE-2027"), "{name} is gone");
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !text.contains(&leaver.0) && !text.contains("hemlig-kommentar-TRE"),
            "{name}"
        );
    }
    // Cases of other systems would remain, with their protocols and comments.
    for id in &npo_2027 {
        let c = loggkoll::store::cases::require(engine.store.db(), id).expect("case");
        assert!(c.purged_at.is_none(), "{id} remains");
        let html = protocol::render(&mut engine, id, t2030).expect("protocol");
        assert!(html.contains(driver.comments[id][0].as_str()));
    }
    assert!(
        protocol::render(&mut engine, &treserva_2027[0], t2030).is_err(),
        "a purged case has no protocol"
    );
    // Log rows: Treserva's 2027 gone, NPÖ's kept.
    let by_system: Vec<(String, i64)> = engine
        .store
        .db()
        .inspect()
        .prepare("SELECT system, COUNT(*) FROM access_log_text GROUP BY system ORDER BY system")
        .expect("q")
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(
        by_system,
        [("npo".to_string(), 2)],
        "the NPÖ rows of both files"
    );
    // Older summaries still add up.
    let after = figures::compute(
        engine.store.db(),
        &Scope::of(
            &engine.routine("treserva-sampling").expect("r").clone(),
            None,
        ),
        2027,
        now,
    )
    .expect("figures");
    assert_eq!(comparable(&after), comparable(&before));
    assert_eq!(after.total, before.total);

    // ----- 2033: NPÖ's log rows go too -----
    let t2033 = local(2033, 6, 1, 8, 0);
    let done = purge::run(&mut engine, t2033, false, "test").expect("purge");
    assert_eq!(done.cases.len(), npo_2027.len());
    assert!(
        audit::verify(engine.store.db())
            .expect("verify")
            .broken
            .is_none()
    );
    for client in [&extract_client, &pnr(1001), &pnr(77)] {
        let plain: String = client.chars().filter(char::is_ascii_digit).collect();
        let dashed = format!("{}-{}", &plain[..8], &plain[8..]);
        for needle in [&plain, &dashed] {
            assert_eq!(
                find_everywhere(engine.store.db(), needle, &[]),
                Vec::<String>::new(),
                "{needle}"
            );
        }
    }
    for month in 1..=12 {
        assert_eq!(
            find_everywhere(engine.store.db(), &format!("hemlig-anledning-{month}"), &[]),
            Vec::<String>::new()
        );
    }
    assert!(
        files_under(&export).is_empty(),
        "{:?}",
        files_under(&export)
    );
    let attachments: i64 = engine
        .store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
             WHERE o.created_at < '2028'",
            (),
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(
        attachments, 0,
        "the 2027 summaries' attachments went after their retention"
    );
    let counts: i64 = engine
        .store
        .db()
        .inspect()
        .query_row("SELECT COUNT(*) FROM purged_counts", (), |r| r.get(0))
        .expect("count");
    assert!(counts > 0);
}
