//! The records commands through the real binary: `logs import` (what it accepts, what it
//! refuses and that a refusal changes nothing), `report protocol|extract|annual` and `purge`.

#[path = "support/backend.rs"]
mod backend;
mod support;

use std::path::{Path, PathBuf};
use support::{Run, Test, root};

const HEADER: &str = "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose";

struct Place {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The database: a file in the folder, or a schema on the test PostgreSQL.
    db: PathBuf,
}

impl Place {
    /// A folder with a database holding a small synthetic roster (imported 15 January 2027).
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let roster = loggkoll::simulate::org::synthetic(40, 2, 3);
        loggkoll::simulate::org::write_csv(&roster, &path).expect("roster files");
        let db = backend::location(&path, "loggkoll");
        let place = Place {
            _dir: dir,
            path,
            db,
        };
        let run = place.run(&[
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
            "--now",
            "2027-01-15T08:00",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        place
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

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn count(&self, sql: &str) -> i64 {
        let db = loggkoll::store::read_only(&self.db).expect("db");
        db.inspect().one(sql, ()).expect("count")
    }

    fn query(&self, sql: &str) -> Vec<String> {
        let db = loggkoll::store::read_only(&self.db).expect("db");
        db.inspect().column(sql, ()).expect("rows")
    }
}

#[test]
fn a_bad_row_refuses_the_whole_file_naming_file_line_and_field() {
    let place = Place::new();
    let audit_before = place.count("SELECT COUNT(*) FROM audit");
    place.write(
        "log.csv",
        &format!(
            "{HEADER}\n\
             L1,2027-01-10 08:00:00,treserva,tre00001,Anna,Undersköterska,EN0001,191212121212,EN0001,Läsa,journal,vård\n\
             L2,2027-01-10 08:01:00,treserva,tre00001,Anna,Undersköterska,EN0001,19121212-1213,EN0001,Läsa,journal,vård\n\
             L3,2027-01-10 08:02:00,treserv,tre00001,Anna,Undersköterska,EN0001,191212121212,EN0001,Läsa,journal,vård\n\
             L4,10/01/2027 08:03,treserva,tre00001,Anna,Undersköterska,EN0001,191212121212,EN0001,Lasa,journal,vård\n\
             L5,2027-06-10 08:04:00,treserva,,Anna,Undersköterska,,191212121212,EN0001,Läsa,journal,vård\n\
             ,2027-01-10 08:05:00,treserva,tre00001,Anna,Undersköterska,EN0001,1912121212,EN0001,Läsa,journal,vård\n"
        ),
    );
    let run = place.run(&["logs", "import", "log.csv", "--now", "2027-02-01T08:00"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let expected = [
        "log.csv:3: field `subject_id`: `19121212-1213` has the wrong check digit",
        "log.csv:4: field `source_system`: unknown system `treserv`: no routine or retention rule covers it (did you mean `treserva`?)",
        "log.csv:5: field `event_time`: `10/01/2027 08:03` is not a time",
        "log.csv:5: field `action`: unknown action `Lasa` (did you mean `Läsa`?)",
        "log.csv:6: field `event_time`: `2027-06-10 08:04:00` lies in the future",
        "log.csv:6: field `user_id`: is empty",
        "log.csv:6: field `access_unit_id`: is empty",
        "log.csv:7: field `log_id`: is empty",
        "log.csv:7: field `subject_id`: `1912121212` is not a personal identity number",
    ];
    for e in expected {
        assert!(run.stderr.contains(e), "missing `{e}` in:\n{}", run.stderr);
    }
    // Nothing changed.
    assert_eq!(place.count("SELECT COUNT(*) FROM access_log"), 0);
    assert_eq!(place.count("SELECT COUNT(*) FROM log_imports"), 0);
    assert_eq!(place.count("SELECT COUNT(*) FROM audit"), audit_before);
    // A missing column is named before any row is read.
    place.write("short.csv", "log_id,event_time\nL1,2027-01-10 08:00:00\n");
    let run = place.run(&["logs", "import", "short.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("short.csv:1: missing column `source_system`"),
        "{}",
        run.stderr
    );
    let run = place.run(&["logs", "import", "nowhere.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nowhere.csv: no such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn what_systems_export_is_imported_once() {
    let place = Place::new();
    // Excel's CSV: a BOM, `;`, local times with and without seconds, RFC 3339 with an offset
    // and with Z, NPÖ's name as people write it, an action in capitals, a quoted value with `;`.
    let text = format!(
        "\u{feff}{}\r\n\
         A1;2027-01-10 08:00:00;Treserva;tre00001;Anna;Undersköterska;EN0001;191212121212;EN0001;Läsa;journal;vård\r\n\
         A2;2027-01-10T08:00+01:00;NPÖ;SE2321000000-1;Bo;Läkare;SE2321000000-E1;19121212-1212;;LÄSA;;\r\n\
         A3;2027-01-10T07:00:00Z;npo;SE2321000000-1;Bo;Läkare;SE2321000000-E1;191212121212;;Utskrift;;\"vård; uppföljning\"\r\n\
         A4;2020-01-10 08:00;treserva;tre00001;Anna;Undersköterska;EN0001;191212121212;EN0001;Läsa;journal;vård\r\n",
        HEADER.replace(',', ";")
    );
    place.write("export.csv", &text);
    let run = place.run(&[
        "logs",
        "import",
        "export.csv",
        "--now",
        "2027-02-01T08:00",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["rows"], 4);
    assert_eq!(v["imported"], 3);
    assert_eq!(v["expired"], 1, "a row past Treserva's 2 years is not kept");
    let systems: Vec<(String, u64, u64)> = v["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .map(|s| {
            (
                s["system"].as_str().unwrap_or("").to_string(),
                s["rows"].as_u64().unwrap_or(0),
                s["retention_years"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        systems,
        [("npo".to_string(), 2, 5), ("treserva".to_string(), 1, 2)]
    );
    // All three at 07:00 UTC; the identity number without `-`; the action word canonical.
    assert_eq!(
        place.query(
            "SELECT DISTINCT at || ' ' || subject_id || ' ' || action FROM access_log_text ORDER BY 1"
        ),
        [
            "1799564400 191212121212 Läsa",
            "1799564400 191212121212 Utskrift"
        ]
    );
    assert_eq!(
        place.query("SELECT purpose FROM access_log_text WHERE log_id = 'A3'"),
        ["vård; uppföljning"]
    );
    // The same file again is refused.
    let run = place.run(&["logs", "import", "export.csv", "--now", "2027-02-01T08:00"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("this file was imported already (import 1"),
        "{}",
        run.stderr
    );
    assert_eq!(place.count("SELECT COUNT(*) FROM access_log"), 3);
    // --system: rows without a system are its; another system is refused.
    place.write(
        "tre.csv",
        &format!("{HEADER}\nB1,2027-01-11 08:00,,tre00002,,,EN0002,191212121212,,Skriva,,\nB2,2027-01-11 08:00,npo,x,,,E,191212121212,,Läsa,,\n"),
    );
    let run = place.run(&[
        "logs",
        "import",
        "tre.csv",
        "--system",
        "treserva",
        "--now",
        "2027-02-01T08:00",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "tre.csv:3: field `source_system`: `npo` in a file imported with --system treserva"
        ),
        "{}",
        run.stderr
    );
    let run = place.run(&["logs", "import", "tre.csv", "--system", "tresreva"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--system: unknown system `tresreva`"),
        "{}",
        run.stderr
    );
    place.write(
        "tre2.csv",
        &format!("{HEADER}\nB1,2027-01-11 08:00,,tre00002,,,EN0002,191212121212,,Skriva,,\n"),
    );
    let run = place.run(&[
        "logs",
        "import",
        "tre2.csv",
        "--system",
        "treserva",
        "--now",
        "2027-02-01T08:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        place.count("SELECT COUNT(*) FROM access_log_text WHERE system = 'treserva'"),
        2
    );
}

fn first_case(place: &Place, routine: &str) -> (String, String) {
    let run = place.run(&["case", "list", "--routine", routine, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let c = &v[0];
    (
        c["id"].as_str().expect("id").to_string(),
        c["assignee"].as_str().expect("assignee").to_string(),
    )
}

fn chromium() -> Option<PathBuf> {
    loggkoll::records::pdf::find_chromium(
        std::env::var("LOGGKOLL_CHROMIUM").ok().as_deref(),
        std::env::var("PATH").ok().as_deref(),
    )
}

#[test]
fn protocols_letters_summaries_and_the_purge_from_the_command_line() {
    let place = Place::new();
    let run = place.run(&["tick", "--now", "2027-02-01T08:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (case, by) = first_case(&place, "treserva-sampling");
    let run = place.run(&[
        "case",
        "answer",
        &case,
        "unclear",
        "--by",
        &by,
        "--comment",
        "Åtkomst kl. 03 <oklar>",
        "--now",
        "2027-02-03T09:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = place.run(&[
        "case",
        "answer",
        &case,
        "explained",
        "--by",
        &by,
        "--comment",
        "Nattjour",
        "--now",
        "2027-02-04T09:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The protocol: HTML always, PDF where Chromium is installed.
    let run = place.run(&[
        "report",
        "protocol",
        &case,
        "--out",
        "arkiv",
        "--now",
        "2027-02-04T10:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let paths: Vec<&str> = run.stdout.lines().collect();
    let html_path = place.path.join(paths[0]);
    assert_eq!(
        Path::new(paths[0]),
        Path::new("arkiv")
            .join(&case)
            .join(format!("granskningsprotokoll-{case}.html"))
    );
    let html = std::fs::read_to_string(&html_path).expect("html");
    assert!(
        html.contains("Åtkomst kl. 03 &lt;oklar&gt;"),
        "comments are escaped"
    );
    assert!(html.contains("Förklarad åtkomst"));
    assert!(html.contains("@page { size: A4"));
    match chromium() {
        Some(_) => {
            assert_eq!(paths.len(), 2, "{}", run.stdout);
            let pdf = std::fs::read(place.path.join(paths[1])).expect("pdf");
            assert!(pdf.starts_with(b"%PDF-"));
        }
        None => {
            assert_eq!(paths.len(), 1);
            assert!(
                run.stderr.contains("no PDF: Chromium is not installed"),
                "{}",
                run.stderr
            );
        }
    }
    let run = place.run(&["report", "protocol", "TRE-2027-9999"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no case `TRE-2027-9999`"));
    let run = place.run(&["report", "extract", &case]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("is not a request for a log extract: it has no letter"),
        "{}",
        run.stderr
    );

    // An extract: the letter filed with protocol and metadata.
    place.write(
        "log.csv",
        &format!(
            "{HEADER}\nL1,2027-01-10 08:00:00,treserva,tre00001,Anna Ek,Undersköterska,EN0001,191212121212,EN0001,Läsa,journal,vård\nL2,2027-01-20 08:00:00,treserva,tre00001,Anna Ek,Undersköterska,EN0001,191212121212,EN0001,Läsa,journal,vård\n"
        ),
    );
    assert_eq!(
        place
            .run(&["logs", "import", "log.csv", "--now", "2027-02-01T08:00"])
            .code,
        0
    );
    let ops = place
        .query("SELECT person_id FROM person_roles WHERE role = 'operations_manager' ORDER BY 1");
    let run = place.run(&[
        "case",
        "open",
        "log-extract",
        "--unit",
        "EN0001",
        "--by",
        &ops[0],
        "--client",
        "19121212-1212",
        "--from",
        "2027-01-01",
        "--to",
        "2027-01-15",
        "--system",
        "treserva",
        "--now",
        "2027-02-05T09:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let extract = run.stdout.trim().to_string();
    let run = place.run(&[
        "report",
        "extract",
        &extract,
        "--out",
        "arkiv",
        "--now",
        "2027-02-05T09:10",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let folder = place.path.join("arkiv").join(&extract);
    let letter =
        std::fs::read_to_string(folder.join(format!("loggutdrag-{extract}.html"))).expect("letter");
    assert!(
        letter.contains("2027-01-10 08:00") && !letter.contains("2027-01-20"),
        "only the period"
    );
    // The client has the right to know who read the record: named by default.
    assert!(letter.contains("Anna Ek"), "the reader named");
    assert!(!letter.contains("står inte i utdraget"));
    let run = Test::in_dir(&place.path)
        .args(["--db", place.db.to_string_lossy().as_ref()])
        .args([
            "--routines",
            root().join("routines").to_string_lossy().as_ref(),
        ])
        .args([
            "--templates",
            root().join("templates").to_string_lossy().as_ref(),
        ])
        .args([
            "report",
            "extract",
            &extract,
            "--out",
            "namn",
            "--now",
            "2027-02-05T09:20",
        ])
        .env("LOGGKOLL_PRIVACY_EXTRACT_SHOWS_NAMES", "false")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let named = std::fs::read_to_string(
        place
            .path
            .join("namn")
            .join(&extract)
            .join(format!("loggutdrag-{extract}.html")),
    )
    .expect("letter");
    // Names withheld by the organisation: none, and the letter says so and why.
    assert!(
        !named.contains("Anna Ek"),
        "no names where they are withheld"
    );
    assert!(
        named.contains("Namnen på dem som har tagit del av journalen står inte i utdraget")
            && named.contains("extract_shows_names"),
        "{named}"
    );
    assert!(folder.join("arende.json").is_file());
    let (_, manager) = first_case(&place, "log-extract");
    let run = place.run(&[
        "case",
        "answer",
        &extract,
        "handed_out",
        "--by",
        &manager,
        "--now",
        "2027-02-05T10:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        place.query(&format!(
            "SELECT handed_out_at FROM cases WHERE id = '{extract}'"
        )),
        ["2027-02-05T09:00:00Z"]
    );

    // The summary on demand.
    let run = place.run(&[
        "report",
        "annual",
        "--year",
        "2027",
        "--out",
        "rapport",
        "--now",
        "2027-02-06T08:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2);
    let csv =
        std::fs::read_to_string(place.path.join("rapport/sammanstallning-2027.csv")).expect("csv");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("2027;treserva-sampling;;;Totalt;1;1;")),
        "{csv}"
    );
    let run = place.run(&[
        "report",
        "annual",
        "--year",
        "2027",
        "--routine",
        "no-such-routine",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);

    // The purge: a dry run lists and changes nothing; the real one empties the folder.
    let run = place.run(&["purge", "--dry-run", "--json", "--now", "2029-06-01T08:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let listed: Vec<&str> = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        listed,
        [case.as_str()],
        "only the closed Treserva case is past 2 years"
    );
    assert_eq!(v["log_rows"]["treserva"], 2);
    assert!(html_path.is_file(), "a dry run deletes nothing");
    // What a run killed mid-write leaves in the case's folder goes with it: a temporary file,
    // and a document written but never registered.
    let debris = [
        html_path.with_extension("tmp"),
        html_path.with_file_name(format!("granskningsprotokoll-{case}.pdf")),
    ];
    for path in &debris {
        std::fs::write(path, format!("protokoll för {case}")).expect("debris");
    }
    let run = place.run(&["purge", "--now", "2029-06-01T08:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("purged: 1 case"), "{}", run.stderr);
    assert!(debris.iter().all(|p| !p.exists()));
    assert!(!html_path.exists() && !html_path.parent().expect("folder").exists());
    assert!(
        folder.join("arende.json").is_file(),
        "the extract is kept 5 years"
    );
    let run = place.run(&["audit", "verify"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = place.run(&["report", "protocol", &case]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("was purged"), "{}", run.stderr);
    assert_eq!(place.count("SELECT COUNT(*) FROM access_log"), 0);
}
