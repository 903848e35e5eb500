//! The review workbench through the real binary: a targeted review of a user whose log holds
//! one planted access of each flag kind shows exactly that user's accesses in the period, each
//! planted access with its code and no ordinary access flagged; "no finding" waits until the
//! flagged accesses are judged; the protocol lists them; the radar ranks the user first. Also:
//! a missing log is said to be missing, the watch list and judgements are audited and refused
//! when wrong.

#[path = "support/backend.rs"]
mod backend;
mod support;

use loggkoll::personnummer::made_up;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use support::{Run, Test, root};

const LOG_HEADER: &str = "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose,subject_name";

struct Place {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The database: a file in the folder, or a schema on the test PostgreSQL.
    db: PathBuf,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let db = backend::location(&path, "loggkoll");
        Place {
            _dir: dir,
            path,
            db,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let routines = root().join("routines");
        let templates = root().join("templates");
        Test::in_dir(&self.path)
            .args(["--db", self.db.to_string_lossy().as_ref(), "--routines"])
            .args([routines.to_string_lossy().as_ref()])
            .args(["--templates", templates.to_string_lossy().as_ref()])
            .args(args)
            .env("LOGGKOLL_MAIL_URL", "file://mail")
            .run()
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "{args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    fn json(&self, args: &[&str]) -> Value {
        let run = self.ok(args);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{}", run.stdout))
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path.join(name), text).expect("write");
    }

    fn count(&self, sql: &str) -> i64 {
        let db = loggkoll::store::read_only(&self.db).expect("db");
        db.inspect().one(sql, ()).expect("count")
    }
}

/// A made-up personnummer without the dash.
fn pnr(n: u32) -> String {
    made_up(1940 + n % 60, 1 + n % 12, 1 + n % 28, 100 + n).replace('-', "")
}

struct Org {
    place: Place,
    per: String,
    lena: String,
}

/// A small organisation: Per (the reviewed user, last day 25 March), Lena (a colleague), Eva
/// (another user), the unit manager, the head of operations and HR.
fn organisation() -> Org {
    let place = Place::new();
    place.write(
        "units.csv",
        "unit_id,name,parent_id\n\
         ORG,Vård och omsorg,\n\
         VH1,Verksamhet Norr,ORG\n\
         EN1,Hemtjänst Norr,VH1\n\
         EN2,Särskilt boende Söder,VH1\n",
    );
    let per = pnr(1);
    let lena = pnr(2);
    place.write(
        "people.csv",
        &format!(
            "person_id,name,email,units,roles,accounts,active_from,active_to,personnummer\n\
             P1,Per Lindqvist,per@example.se,EN1,,treserva:per01,,2027-03-25,{per}\n\
             P2,Lena Ek,lena@example.se,EN1,,treserva:lena01,,,{lena}\n\
             P3,Ulla Chef,ulla@example.se,EN1,unit_manager@EN1,,,,{}\n\
             P4,Olle Verksam,olle@example.se,VH1,operations_manager@VH1,,,,\n\
             P5,Hanna HR,hanna@example.se,ORG,hr_strategist@ORG;business_area_manager@ORG,,,,\n\
             P6,Eva Svensson,eva@example.se,EN1,,treserva:eva01,,,\n",
            pnr(3)
        ),
    );
    place.ok(&[
        "roster",
        "import",
        "--units",
        "units.csv",
        "--people",
        "people.csv",
        "--now",
        "2027-02-01T08:00",
    ]);
    Org { place, per, lena }
}

struct Log {
    lines: Vec<String>,
    next: u32,
}

impl Log {
    fn new() -> Log {
        Log {
            lines: vec![LOG_HEADER.to_string()],
            next: 0,
        }
    }

    /// Adds an access; returns its log_id.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        at: &str,
        account: &str,
        client: &str,
        client_unit: &str,
        action: &str,
        client_name: &str,
    ) -> String {
        self.next += 1;
        let id = format!("T{:05}", self.next);
        self.lines.push(format!(
            "{id},{at},treserva,{account},,Undersköterska,EN1,{client},{client_unit},{action},journal,vård,{client_name}"
        ));
        id
    }

    fn text(&self) -> String {
        self.lines.join("\n") + "\n"
    }
}

/// Per's March: ordinary work, and one planted access of each flag kind. Returns the log, the
/// ordinary accesses, and the planted ones by flag code.
fn march(org: &Org) -> (Log, BTreeSet<String>, BTreeMap<&'static str, Vec<String>>) {
    let mut log = Log::new();
    let mut ordinary = BTreeSet::new();
    let mut planted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    // Ordinary: daytime reads and writes of the unit's clients, every weekday.
    for day in 1..=24 {
        for (k, hour) in [(0u32, 8), (1, 10), (2, 14)] {
            let client = pnr(100 + (day * 3 + k) % 30);
            let action = if k == 1 { "Skriva" } else { "Läsa" };
            ordinary.insert(log.add(
                &format!("2027-03-{day:02} {hour:02}:{:02}:00", 5 + k),
                "per01",
                &client,
                "EN1",
                action,
                "Anna Andersson",
            ));
        }
    }
    let mut plant = |code: &'static str, id: String| planted.entry(code).or_default().push(id);
    plant(
        "own_record",
        log.add("2027-03-03 11:00:00", "per01", &org.per, "", "Läsa", ""),
    );
    plant(
        "colleague_record",
        log.add("2027-03-04 11:00:00", "per01", &org.lena, "", "Läsa", ""),
    );
    plant(
        "same_surname",
        log.add(
            "2027-03-05 11:00:00",
            "per01",
            &pnr(200),
            "EN1",
            "Läsa",
            "Karin Lindqvist",
        ),
    );
    plant(
        "night",
        log.add("2027-03-06 23:40:00", "per01", &pnr(101), "EN1", "Läsa", ""),
    );
    for i in 0..22 {
        plant(
            "burst",
            log.add(
                &format!("2027-03-09 13:{:02}:00", i * 2),
                "per01",
                &pnr(300 + i),
                "EN1",
                "Läsa",
                "",
            ),
        );
    }
    plant(
        "unit_mismatch",
        log.add("2027-03-10 11:00:00", "per01", &pnr(400), "EN2", "Läsa", ""),
    );
    plant(
        "emergency_access",
        log.add(
            "2027-03-11 11:00:00",
            "per01",
            &pnr(102),
            "EN1",
            "Nödöppning",
            "",
        ),
    );
    plant(
        "watch_list",
        log.add("2027-03-12 11:00:00", "per01", &pnr(500), "EN1", "Läsa", ""),
    );
    plant(
        "after_employment",
        log.add("2027-03-28 10:00:00", "per01", &pnr(103), "EN1", "Läsa", ""),
    );
    // Not Per's, or not in the period: never in the evidence.
    log.add("2027-03-10 09:00:00", "eva01", &pnr(104), "EN1", "Läsa", "");
    log.add(
        "2027-03-10 09:00:00",
        "lena01",
        &pnr(105),
        "EN1",
        "Läsa",
        "",
    );
    log.add("2027-02-27 09:00:00", "per01", &pnr(106), "EN1", "Läsa", "");
    log.add("2027-04-02 09:00:00", "per01", &pnr(106), "EN1", "Läsa", "");
    // An account of nobody.
    log.add(
        "2027-03-15 09:00:00",
        "ghost9",
        &pnr(107),
        "EN1",
        "Läsa",
        "",
    );
    (log, ordinary, planted)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_targeted_review_shows_the_users_accesses_flags_them_and_waits_for_judgement() {
    let org = organisation();
    let p = &org.place;
    let (log, ordinary, planted) = march(&org);
    p.write("march.csv", &log.text());
    p.ok(&[
        "logs",
        "import",
        "march.csv",
        "--from",
        "2027-02-01",
        "--to",
        "2027-04-30",
        "--now",
        "2027-05-01T08:00",
    ]);
    let client = pnr(500);
    p.ok(&[
        "watch",
        "add",
        "--client",
        &client,
        "--reason",
        "Massmedialt uppmärksammad",
        "--by",
        "P4",
        "--now",
        "2027-05-02T08:00",
    ]);
    // The watch list shows the entry; a wrong client number is refused and changes nothing.
    let list = p.json(&["watch", "list", "--json", "--now", "2027-05-02T09:00"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let bad = p.run(&[
        "watch",
        "add",
        "--client",
        "19121212-1213",
        "--reason",
        "x",
        "--by",
        "P4",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--client"), "{}", bad.stderr);
    assert_eq!(p.count("SELECT COUNT(*) FROM watch_list"), 1);

    let id = p
        .ok(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "EN1",
            "--by",
            "P4",
            "--subject-user",
            "P1",
            "--from",
            "2027-03-01",
            "--to",
            "2027-03-31",
            "--system",
            "treserva",
            "--reason",
            "Misstanke om läsning utan vårdrelation",
            "--now",
            "2027-05-03T08:00",
        ])
        .stdout
        .trim()
        .to_string();
    p.ok(&[
        "case",
        "answer",
        &id,
        "start_review",
        "--by",
        "P4",
        "--comment",
        "Granska mars",
        "--now",
        "2027-05-03T09:00",
    ]);
    let ev = p.json(&[
        "case",
        "evidence",
        &id,
        "--json",
        "--now",
        "2027-05-03T10:00",
    ]);
    assert_eq!(ev["log"], "complete");
    assert_eq!(ev["systems"], serde_json::json!(["treserva"]));
    let accesses = ev["accesses"].as_array().expect("accesses");
    let shown: BTreeSet<String> = accesses
        .iter()
        .map(|a| a["log_id"].as_str().unwrap_or("").to_string())
        .collect();
    let expected: BTreeSet<String> = ordinary
        .iter()
        .cloned()
        .chain(planted.values().flatten().cloned())
        .collect();
    assert_eq!(shown, expected, "exactly Per's accesses in March");
    assert_eq!(ev["counts"]["accesses"], accesses.len());
    let flags_of = |log_id: &str| -> Vec<String> {
        accesses
            .iter()
            .find(|a| a["log_id"] == log_id)
            .map(|a| {
                a["flags"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .map(|x| x["code"].as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    for (code, ids) in &planted {
        for id in ids {
            assert!(
                flags_of(id).iter().any(|c| c == code),
                "{id} should carry `{code}`, has {:?}",
                flags_of(id)
            );
        }
    }
    for id in &ordinary {
        assert!(
            flags_of(id).is_empty(),
            "ordinary {id} flagged {:?}",
            flags_of(id)
        );
    }
    // Every flag has its sentence; ordinary work is explained.
    for a in accesses {
        for f in a["flags"].as_array().into_iter().flatten() {
            assert!(f["text"].as_str().is_some_and(|t| t.len() > 10), "{f}");
        }
        if ordinary.contains(a["log_id"].as_str().unwrap_or("")) {
            assert!(!a["explanations"].as_array().is_none_or(Vec::is_empty));
        }
        assert!(a["judgement"].is_null());
    }
    let watch_text = accesses
        .iter()
        .find(|a| a["log_id"] == planted["watch_list"][0].as_str())
        .map(|a| a["flags"].to_string())
        .unwrap_or_default();
    assert!(watch_text.contains("Massmedialt"), "{watch_text}");
    let same = accesses
        .iter()
        .find(|a| a["log_id"] == planted["same_surname"][0].as_str())
        .expect("same surname");
    assert_eq!(same["client_name"], "Karin Lindqvist");
    let flagged = ev["counts"]["flagged"].as_u64().unwrap_or(0) as usize;
    assert_eq!(flagged, planted.values().map(Vec::len).sum::<usize>());

    // "No finding" is refused while flagged accesses are unjudged, naming them.
    let refused = p.run(&[
        "case",
        "answer",
        &id,
        "no_finding",
        "--by",
        "P3",
        "--now",
        "2027-05-03T11:00",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("not judged"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&planted["own_record"][0]),
        "{}",
        refused.stderr
    );
    // Only whoever may answer the step judges.
    let wrong = p.run(&[
        "case",
        "judge",
        &id,
        &planted["night"][0],
        "justified",
        "--by",
        "P6",
    ]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("may not judge"), "{}", wrong.stderr);
    let unknown = p.run(&["case", "judge", &id, "NOPE", "justified", "--by", "P3"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no access `NOPE`"),
        "{}",
        unknown.stderr
    );
    let verdict = p.run(&["case", "judge", &id, "T00001", "fine", "--by", "P3"]);
    assert_eq!(verdict.code, 2);
    assert_eq!(p.count("SELECT COUNT(*) FROM judgements"), 0);

    // Judge them all: one unclear first, which still refuses "no finding".
    let all_flagged: Vec<String> = accesses
        .iter()
        .filter(|a| a["flags"].as_array().is_some_and(|f| !f.is_empty()))
        .map(|a| a["log_id"].as_str().unwrap_or("").to_string())
        .collect();
    for (i, log_id) in all_flagged.iter().enumerate() {
        let verdict = if i == 0 { "unclear" } else { "justified" };
        p.ok(&[
            "case",
            "judge",
            &id,
            log_id,
            verdict,
            "--by",
            "P3",
            "--comment",
            &format!("bedömd {i}"),
            "--now",
            "2027-05-03T12:00",
        ]);
    }
    let refused = p.run(&[
        "case",
        "answer",
        &id,
        "no_finding",
        "--by",
        "P3",
        "--now",
        "2027-05-03T13:00",
    ]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("unclear"), "{}", refused.stderr);
    p.ok(&[
        "case",
        "judge",
        &id,
        &all_flagged[0],
        "justified",
        "--by",
        "P3",
        "--comment",
        "Förklarat av medarbetaren",
        "--now",
        "2027-05-03T13:30",
    ]);
    let ev = p.json(&[
        "case",
        "evidence",
        &id,
        "--json",
        "--now",
        "2027-05-03T14:00",
    ]);
    assert_eq!(ev["counts"]["judged"], all_flagged.len());
    p.ok(&[
        "case",
        "answer",
        &id,
        "no_finding",
        "--by",
        "P3",
        "--now",
        "2027-05-03T14:00",
    ]);
    // The audit trail holds the judgements without the accesses in its chained data.
    let judged = p.count("SELECT COUNT(*) FROM audit WHERE event = 'access.judged'");
    assert_eq!(judged, all_flagged.len() as i64 + 1);
    let leaked = p.count(&format!(
        "SELECT COUNT(*) FROM audit WHERE data LIKE '%{}%' OR data LIKE '%bedömd%'",
        all_flagged[1]
    ));
    assert_eq!(leaked, 0);
    p.ok(&["audit", "verify"]);

    // The protocol counts what was looked at and lists each flagged access with its verdict.
    let written = p.ok(&[
        "report",
        "protocol",
        &id,
        "--out",
        "arkiv",
        "--now",
        "2027-05-04T08:00",
    ]);
    let html_path = written
        .stdout
        .lines()
        .find(|l| l.ends_with(".html"))
        .expect("html path")
        .to_string();
    let html = std::fs::read_to_string(p.path.join(&html_path)).expect("protocol");
    assert!(
        html.contains(&format!("{} åtkomster", accesses.len())),
        "protocol counts accesses"
    );
    for log_id in &all_flagged {
        assert!(html.contains(log_id.as_str()), "protocol lists {log_id}");
    }
    assert!(html.contains("Förklarat av medarbetaren"));
    assert!(html.contains("Befogad"));

    // The radar ranks Per first.
    let radar = p.json(&[
        "radar",
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-31",
        "--json",
        "--now",
        "2027-05-04T08:00",
    ]);
    let rows = radar.as_array().expect("radar rows");
    assert_eq!(rows[0]["person"], "P1", "{radar:#}");
    assert_eq!(
        strs(&rows[0]["accounts"]),
        vec!["treserva:per01".to_string()]
    );
    for code in planted.keys() {
        assert!(
            rows[0]["flags"][*code].as_u64().unwrap_or(0) >= 1,
            "radar counts {code}: {}",
            rows[0]["flags"]
        );
    }
    let ghost = rows
        .iter()
        .find(|r| r["person"].is_null())
        .expect("the account of nobody");
    assert_eq!(
        strs(&ghost["accounts"]),
        vec!["treserva:ghost9".to_string()]
    );
    assert_eq!(ghost["flags"]["after_employment"], 1);
    let eva = rows.iter().find(|r| r["person"] == "P6").expect("Eva");
    assert_eq!(eva["flagged"], 0, "Eva's ordinary access is not flagged");
}

#[test]
fn a_window_without_imported_log_says_so_and_never_says_no_accesses() {
    let org = organisation();
    let p = &org.place;
    let mut log = Log::new();
    log.add("2027-03-02 09:00:00", "per01", &pnr(100), "EN1", "Läsa", "");
    p.write("march.csv", &log.text());
    p.ok(&[
        "logs",
        "import",
        "march.csv",
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-31",
        "--now",
        "2027-04-01T08:00",
    ]);
    let open = |from: &str, to: &str| {
        p.ok(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "EN1",
            "--by",
            "P4",
            "--subject-user",
            "P1",
            "--from",
            from,
            "--to",
            to,
            "--reason",
            "Misstanke",
            "--now",
            "2027-05-03T08:00",
        ])
        .stdout
        .trim()
        .to_string()
    };
    let missing = open("2027-04-05", "2027-04-06");
    let ev = p.json(&["case", "evidence", &missing, "--json"]);
    // The targeted routine covers NPÖ too, and neither has log for April.
    assert_eq!(ev["log"], "missing");
    assert_eq!(ev["systems"], serde_json::json!(["npo", "treserva"]));
    let text = p.ok(&["case", "evidence", &missing]).stdout;
    assert!(text.contains("log: missing"), "{text}");
    let partial = open("2027-03-30", "2027-04-02");
    let ev = p.json(&["case", "evidence", &partial, "--json"]);
    assert_eq!(ev["log"], "partial");
    // March in Treserva is complete; NPÖ has no log, so the two together are partial.
    let march = open("2027-03-01", "2027-03-10");
    let ev = p.json(&["case", "evidence", &march, "--json"]);
    assert_eq!(ev["log"], "partial");
    assert_eq!(ev["counts"]["accesses"], 1);
    let coverage = p.ok(&["logs", "coverage"]).stdout;
    assert!(coverage.contains("treserva"), "{coverage}");
    let list = p.json(&["logs", "list", "--json"]);
    assert_eq!(list[0]["system"], "treserva");
    assert_eq!(list[0]["rows"], 1);
}

#[test]
fn judgements_and_the_watch_list_are_purged_and_the_audit_trail_still_verifies() {
    let org = organisation();
    let p = &org.place;
    let (log, _, planted) = march(&org);
    p.write("march.csv", &log.text());
    p.ok(&[
        "logs",
        "import",
        "march.csv",
        "--from",
        "2027-02-01",
        "--to",
        "2027-04-04",
        "--now",
        "2027-04-05T08:00",
    ]);
    let client = pnr(500);
    p.ok(&[
        "watch",
        "add",
        "--client",
        &client,
        "--reason",
        "Skyddad identitet",
        "--until",
        "2027-06-30",
        "--by",
        "P4",
        "--now",
        "2027-04-05T09:00",
    ]);
    let id = p
        .ok(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "EN1",
            "--by",
            "P4",
            "--subject-user",
            "P1",
            "--from",
            "2027-03-01",
            "--to",
            "2027-03-31",
            "--system",
            "treserva",
            "--reason",
            "Misstanke",
            "--now",
            "2027-04-06T08:00",
        ])
        .stdout
        .trim()
        .to_string();
    p.ok(&[
        "case",
        "answer",
        &id,
        "start_review",
        "--by",
        "P4",
        "--comment",
        "Ja",
        "--now",
        "2027-04-06T09:00",
    ]);
    p.ok(&[
        "case",
        "judge",
        &id,
        &planted["night"][0],
        "unclear",
        "--by",
        "P3",
        "--comment",
        "Fråga medarbetaren",
        "--now",
        "2027-04-06T10:00",
    ]);
    // The watch list shows the entry in force; removing it needs a person of the roster.
    let bad = p.run(&["watch", "remove", "1", "--by", "nobody"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        p.count("SELECT COUNT(*) FROM watch_list WHERE removed_at IS NULL"),
        1
    );
    // Close the case the long way, then let time pass beyond retention (5 years).
    p.ok(&[
        "case",
        "answer",
        &id,
        "unclear",
        "--by",
        "P3",
        "--comment",
        "Oklart",
        "--now",
        "2027-04-07T09:00",
    ]);
    p.ok(&[
        "case",
        "answer",
        &id,
        "explained",
        "--by",
        "P3",
        "--comment",
        "Förklarat",
        "--now",
        "2027-04-08T09:00",
    ]);
    assert_eq!(p.count("SELECT COUNT(*) FROM judgements"), 1);
    // July: the watch entry has ended and goes; the judgement stays with its case.
    p.ok(&["purge", "--now", "2027-07-02T08:00"]);
    assert_eq!(
        p.count("SELECT COUNT(*) FROM watch_list WHERE client IS NULL AND reason IS NULL AND purged_at IS NOT NULL"),
        1
    );
    assert_eq!(
        p.count(
            "SELECT COUNT(*) FROM audit_personal WHERE seq IN (SELECT seq FROM audit WHERE event = 'watch.added')"
        ),
        0
    );
    assert_eq!(p.count("SELECT COUNT(*) FROM judgements"), 1);
    // After the case's retention, its judgements go with it, and the log rows with theirs.
    p.ok(&["purge", "--now", "2033-01-02T08:00"]);
    assert_eq!(p.count("SELECT COUNT(*) FROM judgements"), 0);
    assert_eq!(
        p.count(&format!(
            "SELECT COUNT(*) FROM audit_personal WHERE seq IN (SELECT seq FROM audit WHERE case_id = '{id}')"
        )),
        0
    );
    assert_eq!(p.count("SELECT COUNT(*) FROM access_log"), 0);
    assert_eq!(p.count("SELECT COUNT(*) FROM log_digests"), 0);
    assert_eq!(p.count("SELECT COUNT(*) FROM log_chunks"), 0);
    assert_eq!(p.count("SELECT COUNT(*) FROM log_coverage"), 0);
    // Names and units of the purged rows go with them.
    assert_eq!(p.count("SELECT COUNT(*) FROM log_strings"), 0);
    assert_eq!(p.count("SELECT COUNT(*) FROM evidence_snapshots"), 0);
    p.ok(&["audit", "verify"]);
}

#[test]
fn someone_who_left_keeps_their_accesses_and_an_extract_shows_who_read_the_record() {
    let org = organisation();
    let p = &org.place;
    let (log, _, planted) = march(&org);
    p.write("march.csv", &log.text());
    p.ok(&[
        "logs",
        "import",
        "march.csv",
        "--from",
        "2027-02-01",
        "--to",
        "2027-04-30",
        "--now",
        "2027-05-01T08:00",
    ]);
    // The same log_id in a second export, a few minutes off: one access, one log_id, so the
    // export is refused, naming where the id was stored from (issue 24), and the access is
    // shown once.
    let own = planted["own_record"][0].clone();
    let mut again = Log::new();
    again.lines.push(format!(
        "{own},2027-03-03 11:05:00,treserva,per01,,Undersköterska,EN1,{},,Läsa,journal,vård,",
        org.per
    ));
    p.write("again.csv", &again.text());
    let refused = p.run(&["logs", "import", "again.csv", "--now", "2027-05-01T09:00"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("was stored before from march.csv:"),
        "{}",
        refused.stderr
    );
    // Eva leaves the roster in May.
    let people = std::fs::read_to_string(p.path.join("people.csv")).expect("people");
    let without_eva: String = people
        .lines()
        .filter(|l| !l.starts_with("P6,"))
        .map(|l| format!("{l}\n"))
        .collect();
    p.write("people.csv", &without_eva);
    p.ok(&[
        "roster",
        "import",
        "--units",
        "units.csv",
        "--people",
        "people.csv",
        "--now",
        "2027-05-02T08:00",
    ]);
    let radar = p.json(&[
        "radar",
        "--from",
        "2027-03-01",
        "--to",
        "2027-03-31",
        "--json",
        "--now",
        "2027-05-03T08:00",
    ]);
    let eva = radar
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["accounts"][0] == "treserva:eva01"))
        .expect("Eva's row")
        .clone();
    assert_eq!(
        eva["person"], "P6",
        "an account of someone who left is still theirs"
    );
    assert_eq!(eva["flagged"], 0, "{eva}");
    // A client asks who read their record in March: Eva did, on 10 March.
    let id = p
        .ok(&[
            "case",
            "open",
            "log-extract",
            "--unit",
            "EN1",
            "--by",
            "P4",
            "--client",
            &pnr(104),
            "--from",
            "2027-03-01",
            "--to",
            "2027-03-31",
            "--system",
            "treserva",
            "--now",
            "2027-05-03T08:00",
        ])
        .stdout
        .trim()
        .to_string();
    let ev = p.json(&[
        "case",
        "evidence",
        &id,
        "--json",
        "--now",
        "2027-05-03T09:00",
    ]);
    let accesses = ev["accesses"].as_array().expect("accesses");
    assert!(
        accesses.iter().all(|a| a["client"] == pnr(104).as_str()),
        "{ev:#}"
    );
    let by_eva: Vec<&Value> = accesses
        .iter()
        .filter(|a| a["account"] == "eva01")
        .collect();
    assert_eq!(by_eva.len(), 1, "{ev:#}");
    assert_eq!(by_eva[0]["flags"], serde_json::json!([]));
    assert_eq!(by_eva[0]["explanations"][0]["code"], "same_unit");
    assert!(accesses.iter().any(|a| a["account"] == "per01"));
    // Per's review shows the access exported twice once, and it can be judged.
    let review = p
        .ok(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "EN1",
            "--by",
            "P4",
            "--subject-user",
            "P1",
            "--from",
            "2027-03-03",
            "--to",
            "2027-03-03",
            "--system",
            "treserva",
            "--reason",
            "Misstanke",
            "--now",
            "2027-05-03T08:00",
        ])
        .stdout
        .trim()
        .to_string();
    let ev = p.json(&[
        "case",
        "evidence",
        &review,
        "--json",
        "--now",
        "2027-05-03T09:00",
    ]);
    let own_rows = ev["accesses"]
        .as_array()
        .map(|a| a.iter().filter(|x| x["log_id"] == own.as_str()).count())
        .unwrap_or(0);
    assert_eq!(own_rows, 1, "{ev:#}");
    p.ok(&[
        "case",
        "answer",
        &review,
        "start_review",
        "--by",
        "P4",
        "--comment",
        "Ja",
        "--now",
        "2027-05-03T10:00",
    ]);
    p.ok(&[
        "case",
        "judge",
        &review,
        &own,
        "justified",
        "--by",
        "P3",
        "--now",
        "2027-05-03T11:00",
    ]);
    p.ok(&[
        "case",
        "answer",
        &review,
        "no_finding",
        "--by",
        "P3",
        "--now",
        "2027-05-03T12:00",
    ]);
    // No email carries a client's number or a log id.
    let db = loggkoll::store::read_only(&p.db).expect("db");
    let contexts: Vec<String> = db
        .inspect()
        .column("SELECT context || to_addr FROM outbox", ())
        .expect("rows");
    assert!(!contexts.is_empty());
    for text in &contexts {
        for secret in [org.per.as_str(), org.lena.as_str(), own.as_str(), &pnr(104)] {
            assert!(!text.contains(secret), "an email holds `{secret}`: {text}");
        }
    }
}
