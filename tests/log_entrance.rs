//! The log is exact or refused (issue 24): Inera's published contract read as published (the
//! instances in `tests/fixtures/inera` are checked against Inera's XSDs, kept beside them),
//! workbooks written by openpyxl and XlsxWriter in both of Excel's date systems read to the
//! second, a reused `log_id` refused, and an inbox that takes only whole, regular files and
//! survives a file that stopped an import. (Hostile files in bounded memory: `log_memory.rs`.)

#[path = "support/hostile.rs"]
mod hostile;
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use support::{Run, Test, root};

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn test(&self, args: &[&str]) -> Test {
        Test::in_dir(self.dir.path())
            .args([
                "--routines",
                &root().join("routines").display().to_string(),
                "--templates",
                &root().join("templates").display().to_string(),
                "--formats",
                &root().join("formats").display().to_string(),
                "--now",
                "2028-01-10T12:00",
            ])
            .args(args)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.test(args).run()
    }

    /// The stored accesses as text, in order: log_id, UTC time, user id, name, title, unit,
    /// client, client name, client unit, action, resource type, purpose.
    fn rows(&self) -> Vec<Vec<String>> {
        let store = loggkoll::store::Store::at(&self.path("loggkoll.db")).expect("the database");
        let db = store.db();
        let conn = db.inspect();
        conn.rows(
            "SELECT log_id, at, user_id, user_name, user_title, access_unit, subject_id,
                    subject_name, subject_unit, action, resource_type, purpose
             FROM access_log_text ORDER BY id",
            (),
            |r| {
                let at: i64 = r.get(1)?;
                let mut row: Vec<String> = vec![r.get(0)?, loggkoll::records::logs::unix_ts(at)];
                for i in 2..12 {
                    row.push(r.get(i)?);
                }
                Ok(row)
            },
        )
        .expect("the rows")
    }
}

fn fixture(path: &str) -> PathBuf {
    root().join("tests/fixtures").join(path)
}

/// The rows of Inera's instance `getlogs-response.xml` (and its SOAP twin), as stored: every
/// resource a row, every field the schema gives.
fn inera_rows() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "3f2a9c1e-8b4d-4d2a-a6f1-1c9e7b5d2e01#1",
            "2027-03-10T22:40:12Z",
            "SE2321000016-1234",
            "Anna Lindqvist",
            "Sjuksköterska",
            "SE2321000016-7AB1",
            "191212121212",
            "Tolvan Tolvansson",
            "SE2321000016-7AB1",
            "Läsa",
            "Journal",
            "Vård och behandling",
        ],
        vec![
            "3f2a9c1e-8b4d-4d2a-a6f1-1c9e7b5d2e01#2",
            "2027-03-10T22:40:12Z",
            "SE2321000016-1234",
            "Anna Lindqvist",
            "Sjuksköterska",
            "SE2321000016-7AB1",
            "199001012385",
            "Åsa Öberg",
            "SE2321000131-E000000012345",
            "Läsa",
            "Journal",
            "Vård och behandling",
        ],
        vec![
            "a7c4e2b9-05d1-4f8e-b3a6-9d2f1e0c4b52",
            "2027-03-11T07:15:03Z",
            "SE2321000016-5678",
            "Åsa Öberg",
            "Överläkare",
            "SE2321000016-9XY2",
            "191212121212",
            "Tolvan Tolvansson",
            "SE2321000016-9XY2",
            "Läsa",
            "Läkemedel",
            "Vård och behandling",
        ],
        // A resource that names no patient (optional in the schema): kept, with no client.
        vec![
            "0d9b6f3a-2c71-4b85-8e4f-6a1d3c9b7e13",
            "2027-03-12T09:00:00Z",
            "SE2321000016-1234",
            "",
            "",
            "SE2321000016-7AB1",
            "000000000000",
            "",
            "",
            "Utskrift",
            "Rapport",
            "Kvalitetssäkring",
        ],
        vec![
            "e51f8a2d-6b39-4c07-91de-4f7a0b8c2d64",
            "2027-03-12T02:07:45Z",
            "SE2321000016-4321",
            "Erik Ström",
            "Läkare",
            "SE2321000016-7AB1",
            "196408233234",
            "Lars-Åke Nyström",
            "",
            "Nödöppning",
            "Journal",
            "Vård och behandling",
        ],
    ]
}

#[test]
fn the_inera_instances_are_valid_against_the_published_schemas() {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint (libxml2-utils) is needed in CI"
        );
        eprintln!("xmllint not installed: skipped");
        return;
    }
    let xsd = fixture("inera/xsd");
    let check = |schema: &Path, file: &Path| {
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(schema)
            .arg(file)
            .output()
            .expect("xmllint");
        assert!(
            out.status.success(),
            "{} against {}: {}",
            file.display(),
            schema.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let getlogs = xsd.join("harness/GetLogsForCareProviderResponder_1.x_harness.xsd");
    check(&getlogs, &fixture("inera/getlogs-response.xml"));
    check(
        &xsd.join("harness/soap11-envelope-harness.xsd"),
        &fixture("inera/getlogs-soap.xml"),
    );
    check(
        &xsd.join("ServiceContracts_ehr_log_1.1_RC3/interactions/querying/GetAccessLogsForPatientInteraction/GetAccessLogsForPatientResponder_1.0.xsd"),
        &fixture("inera/getaccesslogsforpatient-response.xml"),
    );
    check(
        &xsd.join("harness/GetLogsResponder_2.0_harness.xsd"),
        &fixture("inera/getlogs-v2-response.xml"),
    );
    // The checker can fail: a record without its LogId is not valid.
    let d = Dir::new();
    let text = std::fs::read_to_string(fixture("inera/getlogs-response.xml")).unwrap();
    let broken = text.replacen(
        "<log:LogId>3f2a9c1e-8b4d-4d2a-a6f1-1c9e7b5d2e01</log:LogId>",
        "",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(d.path("broken.xml"), broken).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&getlogs)
        .arg(d.path("broken.xml"))
        .output()
        .expect("xmllint");
    assert!(!out.status.success());
}

#[test]
fn inera_s_published_contract_imports_every_resource_bare_and_in_soap() {
    for file in ["getlogs-response.xml", "getlogs-soap.xml"] {
        let d = Dir::new();
        std::fs::copy(fixture("inera").join(file), d.path(file)).unwrap();
        let run = d.run(&["logs", "import", file, "--json"]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(summary["format"], "inera-ehr-log", "{file}");
        assert_eq!(summary["rows"], 5, "{file}");
        assert_eq!(summary["imported"], 5, "{file}");
        assert_eq!(d.rows(), inera_rows(), "{file}");
    }
}

#[test]
fn a_report_of_many_records_imports_them_all() {
    let d = Dir::new();
    let text = std::fs::read_to_string(fixture("inera/getlogs-response.xml")).unwrap();
    // The third record (one resource) repeated under new ids: more records than any limit of
    // nesting, all read.
    let start = text.find("<!-- Log 2").unwrap();
    let record_start = start + text[start..].find("<lq:Log>").unwrap();
    let record_end = record_start + text[record_start..].find("</lq:Log>").unwrap() + 9;
    let record = &text[record_start..record_end];
    let many: String = (0..600)
        .map(|n| record.replace("a7c4e2b9-05d1-4f8e-b3a6-9d2f1e0c4b52", &format!("R-{n}")))
        .collect();
    let report = text.replacen(record, &many, 1);
    std::fs::write(d.path("many.xml"), report).unwrap();
    let run = d.run(&["logs", "import", "many.xml", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["imported"], 604, "{summary}");
}

#[test]
fn the_lower_case_contract_reads_identifiers_by_their_extension() {
    let d = Dir::new();
    let file = "getlogs-v2-response.xml";
    std::fs::copy(fixture("inera").join(file), d.path(file)).unwrap();
    let run = d.run(&["logs", "import", file, "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["format"], "inera-xml");
    let rows = d.rows();
    assert_eq!(rows.len(), summary["rows"].as_u64().unwrap() as usize);
    assert!(rows.len() >= 3, "{rows:?}");
    assert_eq!(rows[0][6], "191212121212", "{rows:?}");
    assert_eq!(rows[0][3], "Anna Lindqvist");
}

#[test]
fn a_report_of_another_contract_is_refused_naming_what_it_holds() {
    let d = Dir::new();
    std::fs::copy(fixture("inera/getlogs-response.xml"), d.path("rapport.xml")).unwrap();
    // Read by the lower-case format: no record, and the message says what the file holds.
    let run = d.run(&["logs", "import", "rapport.xml", "--format", "inera-xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("found `Log` in urn:riv:ehr:log:querying:1, but the format reads `log`"),
        "{}",
        run.stderr
    );
    assert!(d.rows().is_empty());
    // Inera's patient-level answer: refused, saying what it lacks.
    std::fs::copy(
        fixture("inera/getaccesslogsforpatient-response.xml"),
        d.path("patient.xml"),
    )
    .unwrap();
    let run = d.run(&["logs", "import", "patient.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("GetAccessLogsForPatient") && run.stderr.contains("not the user"),
        "{}",
        run.stderr
    );
    // An XML file of no log at all.
    std::fs::write(
        d.path("other.xml"),
        "<?xml version=\"1.0\"?>\n<a xmlns=\"urn:x\"><b/></a>\n",
    )
    .unwrap();
    let run = d.run(&["logs", "import", "other.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`a` in urn:x"), "{}", run.stderr);
    assert!(d.rows().is_empty());
}

/// The expected rows of the workbooks, from the CSV written beside them by the same script.
fn workbook_rows() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture("xlsx/expected.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let tz = chrono_tz::Europe::Stockholm;
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let local = chrono::NaiveDateTime::parse_from_str(&r[1], "%Y-%m-%d %H:%M:%S").unwrap();
            let at = chrono::TimeZone::from_local_datetime(&tz, &local)
                .earliest()
                .unwrap()
                .timestamp();
            // log_id, time, user, name, title, unit, client, client name, client unit, action,
            // resource type, purpose.
            vec![
                r[0].to_string(),
                loggkoll::records::logs::unix_ts(at),
                r[3].to_string(),
                r[4].to_string(),
                r[5].to_string(),
                r[6].to_string(),
                r[7].to_string(),
                r[12].to_string(),
                r[8].to_string(),
                r[9].to_string(),
                r[10].to_string(),
                r[11].to_string(),
            ]
        })
        .collect()
}

#[test]
fn workbooks_of_openpyxl_and_xlsxwriter_import_exact_times_in_both_date_systems() {
    let want = workbook_rows();
    assert_eq!(want.len(), 6);
    for file in [
        "openpyxl-1900.xlsx",
        "openpyxl-1904.xlsx",
        "xlsxwriter-1900.xlsx",
        "xlsxwriter-1904.xlsx",
        "xlsxwriter-inline.xlsx",
    ] {
        let d = Dir::new();
        std::fs::copy(fixture("xlsx").join(file), d.path(file)).unwrap();
        let run = d.run(&["logs", "import", file]);
        assert_eq!(run.code, 0, "{file}: {}", run.stderr);
        assert_eq!(d.rows(), want, "{file}");
    }
}

const HEADER: &str = "log_id,event_time,source_system,user_id,access_unit_id,subject_id,action";

#[test]
fn a_reused_log_id_with_new_content_is_refused_and_the_same_rows_are_already_present() {
    let d = Dir::new();
    std::fs::write(
        d.path("mars.csv"),
        format!(
            "{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212121212,Läsa\nT-2,2027-03-01 09:00,treserva,u1,EN1,196408233234,Läsa\n"
        ),
    )
    .unwrap();
    let run = d.run(&["logs", "import", "mars.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // An overlapping export: the same two rows and a new one.
    std::fs::write(
        d.path("mars-igen.csv"),
        format!(
            "{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212121212,Läsa\nT-2,2027-03-01 09:00,treserva,u1,EN1,196408233234,Läsa\nT-3,2027-03-02 09:00,treserva,u1,EN1,196408233234,Läsa\n"
        ),
    )
    .unwrap();
    let run = d.run(&["logs", "import", "mars-igen.csv", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            summary["rows"].as_u64(),
            summary["imported"].as_u64(),
            summary["already"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(d.rows().len(), 3);
    // T-2 again, now naming another client: refused, naming where T-2 was stored from.
    std::fs::write(
        d.path("april.csv"),
        format!(
            "{HEADER}\nT-4,2027-04-01 08:00,treserva,u1,EN1,191212121212,Läsa\nT-2,2027-04-01 09:00,treserva,u1,EN1,191212121212,Läsa\n"
        ),
    )
    .unwrap();
    let run = d.run(&["logs", "import", "april.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("april.csv:3: field `log_id`: `T-2` was stored before from mars.csv:3 (import 1) with another event_time, subject_id"),
        "{}",
        run.stderr
    );
    assert_eq!(d.rows().len(), 3, "nothing of april.csv");
}

#[test]
fn control_characters_mixed_encodings_and_impossible_personnummer_are_refused() {
    let d = Dir::new();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "esc.csv",
            format!("{HEADER},user_name\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212121212,Läsa,Anna\u{1b}[2J\n").into_bytes(),
            "esc.csv:2: field `user_name`: holds the control character U+001B",
        ),
        (
            "serial.csv",
            format!("{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212120000,Läsa\n").into_bytes(),
            "serial.csv:2: field `subject_id`: `191212120000` has the birth number 000",
        ),
        (
            "year.csv",
            format!("{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,000001010008,Läsa\n").into_bytes(),
            "year.csv:2: field `subject_id`: `000001010008` does not hold a valid date of birth",
        ),
        (
            "blank.csv",
            format!("{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212121212 ,Läsa\n").into_bytes(),
            "blank.csv:2: field `subject_id`: `191212121212 ` has blanks around the number",
        ),
        (
            "mixed.csv",
            [
                format!("{HEADER},user_name\n").into_bytes(),
                b"T-1,2027-03-01 08:00,treserva,u1,EN1,191212121212,L\xe4sa,\xc5sa\n".to_vec(),
                "T-2,2027-03-01 09:00,treserva,u1,EN1,191212121212,Läsa,Ärlig\n".as_bytes().to_vec(),
            ]
            .concat(),
            "mixed.csv:3: this line is UTF-8, but the file is read as Windows-1252",
        ),
    ];
    for (name, bytes, want) in cases {
        std::fs::write(d.path(name), bytes).unwrap();
        let run = d.run(&["logs", "import", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(want), "{name}: {}", run.stderr);
        assert!(
            !run.stderr.contains('\u{1b}'),
            "{name}: escaped on the terminal"
        );
    }
    assert!(d.rows().is_empty());
}

/// Sets a file's modification time `ago` back.
fn age(path: &Path, ago: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - ago)
        .unwrap();
}

fn tick(d: &Dir, quiet: &str) -> Run {
    d.test(&["tick"])
        .env("LOGGKOLL_LOGS_INBOX", "inkorg")
        .env("LOGGKOLL_LOGS_INBOX_QUIET", quiet)
        .run()
}

#[test]
fn the_inbox_takes_only_whole_still_regular_files() {
    let d = Dir::new();
    let inbox = d.path("inkorg");
    std::fs::create_dir(&inbox).unwrap();
    let good = format!("{HEADER}\nT-1,2027-03-01 08:00,treserva,u1,EN1,191212121212,Läsa\n");
    // A file written a moment ago: not taken before its quiet period.
    std::fs::write(inbox.join("ny.csv"), &good).unwrap();
    let run = tick(&d, "2m");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("ny.csv is still being written"),
        "{}",
        run.stderr
    );
    assert!(inbox.join("ny.csv").is_file());
    assert!(d.rows().is_empty());
    // Still for longer than the quiet period: taken, with a note of its counts.
    age(&inbox.join("ny.csv"), Duration::from_secs(180));
    let run = tick(&d, "2m");
    assert!(
        run.stderr.contains("imported ny.csv (1 rows)"),
        "{}",
        run.stderr
    );
    let note = std::fs::read_to_string(inbox.join("done/ny.csv.note.txt")).unwrap();
    assert!(
        note.contains("1 rows read, 1 imported, 0 already present"),
        "{note}"
    );

    // A link to a file elsewhere is not followed.
    let outside = d.path("hemlig.csv");
    std::fs::write(&outside, good.replace("T-1", "T-9")).unwrap();
    std::os::unix::fs::symlink(&outside, inbox.join("lank.csv")).unwrap();
    let run = tick(&d, "0");
    assert!(run.stderr.contains("refused lank.csv"), "{}", run.stderr);
    let error = std::fs::read_to_string(inbox.join("failed/lank.csv.error.txt")).unwrap();
    assert!(error.contains("symbolic link"), "{error}");
    assert!(outside.is_file(), "the link's target is left alone");
    assert_eq!(d.rows().len(), 1, "nothing read through the link");

    // A file whose import the process did not live to finish goes to failed/.
    std::fs::create_dir_all(inbox.join(".importing")).unwrap();
    std::fs::write(
        inbox.join(".importing/avbruten.csv"),
        good.replace("T-1", "T-5"),
    )
    .unwrap();
    let run = tick(&d, "0");
    assert!(
        run.stderr.contains("refused avbruten.csv"),
        "{}",
        run.stderr
    );
    let error = std::fs::read_to_string(inbox.join("failed/avbruten.csv.error.txt")).unwrap();
    assert!(
        error.contains("was being imported when loggkoll stopped"),
        "{error}"
    );
    assert_eq!(d.rows().len(), 1);
}

#[test]
fn a_zip_bomb_in_the_inbox_lands_in_failed_while_serve_answers() {
    let d = Dir::new();
    let inbox = d.path("inkorg");
    std::fs::create_dir(&inbox).unwrap();
    hostile::workbook_with_a_huge_cell(&inbox.join("bomb.xlsx"), 300 << 20);
    age(&inbox.join("bomb.xlsx"), Duration::from_secs(600));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_loggkoll"))
        .args([
            "--routines",
            &root().join("routines").display().to_string(),
            "--templates",
            &root().join("templates").display().to_string(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .current_dir(d.dir.path())
        .env_remove("LOGGKOLL_DB")
        .env("LOGGKOLL_LOGS_INBOX", "inkorg")
        .env("LOGGKOLL_MAIL_URL", "file://mail")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let health = || -> Option<String> {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut reply = String::new();
        s.read_to_string(&mut reply).ok()?;
        Some(reply)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut answered = false;
    while !(inbox.join("failed/bomb.xlsx").is_file() && answered) {
        assert!(
            std::time::Instant::now() < deadline,
            "bomb in failed/: {}, answered: {answered}",
            inbox.join("failed/bomb.xlsx").is_file()
        );
        assert!(child.try_wait().unwrap().is_none(), "serve stopped");
        if let Some(reply) = health() {
            answered |= reply.starts_with("HTTP/1.1 200");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let error = std::fs::read_to_string(inbox.join("failed/bomb.xlsx.error.txt")).unwrap();
    assert!(error.contains("zip bomb"), "{error}");
    assert!(health().is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn odd_xml_is_refused_at_its_line_never_read_as_nothing() {
    let d = Dir::new();
    let text = std::fs::read_to_string(fixture("inera/getlogs-response.xml")).unwrap();
    // An entity XML does not define: the name would be read as nothing.
    let entity = text.replacen("Anna Lindqvist", "Anna&nbsp;Lindqvist", 1);
    assert_ne!(entity, text);
    std::fs::write(d.path("entity.xml"), entity).unwrap();
    let run = d.run(&["logs", "import", "entity.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("entity.xml:") && run.stderr.contains("`&nbsp;` is not defined"),
        "{}",
        run.stderr
    );
    // Elements nested without end inside a record.
    let deep = text.replacen(
        "<log:LogId>3f2a9c1e",
        &format!("{}<log:LogId>3f2a9c1e", "<x>".repeat(300)),
        1,
    );
    std::fs::write(d.path("deep.xml"), deep).unwrap();
    let run = d.run(&["logs", "import", "deep.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("nested deeper than 256"),
        "{}",
        run.stderr
    );
    // A record whose resources would copy its fields too often.
    let many = text.replacen(
        "<log:Resources>",
        &format!("<log:Resources>{}", "<log:Resource/>".repeat(9_000)),
        1,
    );
    let many = many.replacen(
        "<log:Name>Anna Lindqvist</log:Name>",
        &format!("<log:Name>{}</log:Name>", "x".repeat(1000)),
        1,
    );
    std::fs::write(d.path("many.xml"), many).unwrap();
    let run = d.run(&["logs", "import", "many.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("would copy its fields to more than 8 MB"),
        "{}",
        run.stderr
    );
    assert!(d.rows().is_empty());
}

#[test]
fn a_cell_given_twice_is_refused_by_sheet_and_cell() {
    let d = Dir::new();
    let mut sheet = hostile::sheet_with_header();
    sheet.push_str("<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>x</t></is></c><c r=\"A2\" t=\"inlineStr\"><is><t>y</t></is></c></row></sheetData></worksheet>");
    hostile::write_workbook_sheet(&d.path("twice.xlsx"), &sheet);
    let run = d.run(&["logs", "import", "twice.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sheet `Logg`, cell A2: given twice, or after a cell to its right"),
        "{}",
        run.stderr
    );
}
