//! Log connectors (issue 15): the exports record systems really produce. An `.xlsx` with our
//! columns, a Windows-1252 `;` CSV with Swedish headers through a format file, RIV-TA XML whose
//! records may hold several resources; each counted by `logs list`, and a refused file imports
//! nothing.

mod support;
#[path = "support/xlsx.rs"]
mod xlsx;

use support::{Run, Test, root};
use xlsx::Cell;

/// A valid personnummer for a date `YYYYMMDD` and a three-digit serial (Luhn check digit).
fn pnr(date: &str, serial: u32) -> String {
    let nine = format!("{}{serial:03}", &date[2..]);
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    format!("{date}-{serial:03}{}", (10 - sum % 10) % 10)
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        Test::in_dir(self.dir.path())
            .args([
                "--routines",
                &root().join("routines").display().to_string(),
                "--templates",
                &root().join("templates").display().to_string(),
                "--now",
                "2026-12-01T12:00",
            ])
            .args(args)
            .run()
    }

    fn list(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["logs", "list", "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    }
}

#[test]
fn an_xlsx_with_our_columns_is_read_with_dates_as_serials_or_text() {
    let d = Dir::new();
    let header = [
        "log_id",
        "event_time",
        "source_system",
        "user_id",
        "access_unit_id",
        "subject_id",
        "action",
    ];
    let mut rows = vec![
        vec![Cell::Text("Loggutdrag Treserva, november 2026".into())],
        header.iter().map(|h| Cell::Text(h.to_string())).collect(),
    ];
    for i in 0..5u32 {
        // 2026-11-02 08:00 is serial 46328 + 8/24; every other row writes the time as text.
        let time = if i % 2 == 0 {
            Cell::Number(46328.0 + f64::from(i) + 8.0 / 24.0)
        } else {
            Cell::Text(format!("2026-11-0{} 08:00:00", 2 + i))
        };
        rows.push(vec![
            Cell::Text(format!("x{i}")),
            time,
            Cell::Text("treserva".into()),
            Cell::Text("tre00007".into()),
            Cell::Text("EN1".into()),
            Cell::Text(pnr("19700101", 100 + i)),
            Cell::Text("Läsa".into()),
        ]);
    }
    xlsx::write(&d.path("export.xlsx"), 1, &rows);
    let run = d.run(&["logs", "import", "export.xlsx", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["imported"], 5);
    // The serial and the text both give 08:00 local (CET): 07:00 UTC.
    assert_eq!(summary["systems"][0]["oldest"], "2026-11-02T07:00:00Z");
    assert_eq!(summary["systems"][0]["newest"], "2026-11-06T07:00:00Z");
    let list = d.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["rows"], 5);
    assert_eq!(list[0]["file"], "export.xlsx");

    // A bad cell: named by its sheet row, and nothing imported.
    rows[4][5] = Cell::Text("19700101-1234".into());
    xlsx::write(&d.path("bad.xlsx"), 1, &rows);
    let run = d.run(&["logs", "import", "bad.xlsx"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.xlsx:5: field `subject_id`"),
        "{}",
        run.stderr
    );
    assert_eq!(d.list().len(), 1, "the refused file imported nothing");
}

const TRESERVA_FORMAT: &str = "\
id: kommunens-treserva
system: treserva
file: csv
encoding: windows-1252
delimiter: \";\"
time_format: \"%d/%m/%Y %H.%M\"
columns:
  event_time: Tidpunkt
  user_id: Användar-id
  subject_id: Personnummer
  action: Händelse
  access_unit_id: Enhet
  user_name: Namn
actions:
  Visa: Läsa
  Ändra uppgift: Ändra
";

/// Windows-1252 bytes of `text` (every character of it is in the code page).
fn cp1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn a_windows_1252_semicolon_csv_with_swedish_headers_reads_through_a_format_file() {
    let d = Dir::new();
    std::fs::create_dir(d.path("formats")).unwrap();
    std::fs::write(d.path("formats/treserva.yaml"), TRESERVA_FORMAT).unwrap();
    let mut csv = String::from(
        "Rapport: åtkomster;;;;;;\nTidpunkt;Användar-id;Namn;Personnummer;Händelse;Enhet;Övrigt\n",
    );
    for i in 0..4u32 {
        csv.push_str(&format!(
            "0{}/11/2026 14.3{i};tre00238;Åsa Öberg;{};{};Hemtjänst Söder;x\n",
            i + 2,
            pnr("19450312", 200 + i),
            if i == 3 { "Ändra uppgift" } else { "Visa" }
        ));
    }
    std::fs::write(d.path("export.csv"), cp1252(&csv)).unwrap();
    // Picked by its header, no --format; no log_id column: each row's id is a hash.
    let run = d.run(&["logs", "import", "export.csv", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["imported"], 4, "{summary}");
    assert_eq!(summary["format"], "kommunens-treserva");
    assert_eq!(summary["systems"][0]["system"], "treserva");
    // 02/11/2026 14.30 local is 13:30 UTC.
    assert_eq!(summary["systems"][0]["oldest"], "2026-11-02T13:30:00Z");
    let run = d.run(&["logs", "list", "--json"]);
    assert!(run.stdout.contains("\"rows\": 4"), "{}", run.stdout);
    // The names came through the code page: the access is the user's, Å and Ö intact.
    let db = rusqlite::Connection::open(d.path("loggkoll.db")).unwrap();
    let (name, action): (String, String) = db
        .query_row(
            "SELECT user_name, action FROM access_log_text ORDER BY at DESC LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(name, "Åsa Öberg");
    assert_eq!(action, "Ändra", "the export's word, as ours");

    // The same rows again under another name: recognised by their hashed ids, already
    // present, no new rows.
    std::fs::write(d.path("again.csv"), cp1252(&format!("{csv}\n"))).unwrap();
    let run = d.run(&["logs", "import", "again.csv", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            again["rows"].as_u64(),
            again["imported"].as_u64(),
            again["already"].as_u64()
        ),
        (Some(4), Some(0), Some(4)),
        "{again}"
    );

    // A misspelt field in the format file: reported at its line by `check`, and the import
    // refuses to guess.
    std::fs::write(
        d.path("formats/treserva.yaml"),
        TRESERVA_FORMAT.replace("  user_id: Användar-id", "  usr_id: Användar-id"),
    )
    .unwrap();
    let run = d.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("treserva.yaml:9:3: error[unknown-field]: `usr_id` is not a field"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `user_id`?"),
        "{}",
        run.stderr
    );
    let run = d.run(&["logs", "import", "export.csv"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // (The second import stored no row: all were present already.)
    assert_eq!(d.list().len(), 1, "nothing more imported");

    // A bad time in the export names its line and the export's own column.
    std::fs::write(d.path("formats/treserva.yaml"), TRESERVA_FORMAT).unwrap();
    let bad = csv.replace("03/11/2026 14.31", "2026-13-03 14:31");
    std::fs::write(d.path("bad.csv"), cp1252(&bad)).unwrap();
    let run = d.run(&[
        "logs",
        "import",
        "bad.csv",
        "--format",
        "kommunens-treserva",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bad.csv:4: field `event_time` (`Tidpunkt`)"),
        "{}",
        run.stderr
    );
    assert_eq!(d.list().len(), 1, "the refused file imported nothing");
}

#[test]
fn a_csv_that_is_not_utf8_is_decoded_and_our_own_columns_still_read() {
    let d = Dir::new();
    let csv = format!(
        "log_id;event_time;source_system;user_id;user_name;access_unit_id;subject_id;action\n\
         a1;2026-11-02 08:00;treserva;tre1;Göran Ödman;EN1;{};Läsa\n",
        pnr("19800101", 300)
    );
    std::fs::write(d.path("latin.csv"), cp1252(&csv)).unwrap();
    let run = d.run(&["logs", "import", "latin.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("decoded from windows-1252"),
        "{}",
        run.stderr
    );
}

fn log_record(id: &str, time: &str, patients: &[(&str, &str)], prefix: &str) -> String {
    let p = prefix;
    let resources: String = patients
        .iter()
        .map(|(pid, unit)| {
            format!(
                "<{p}resource><{p}resourceType>Journal</{p}resourceType><{p}patient><{p}patientId>{pid}</{p}patientId><{p}patientName>Karl Karlsson &amp; co</{p}patientName></{p}patient><{p}careUnit><{p}careUnitId>{unit}</{p}careUnitId></{p}careUnit></{p}resource>"
            )
        })
        .collect();
    format!(
        "<{p}log>\n  <{p}logId>{id}</{p}logId>\n  <{p}system><{p}systemId>SE1</{p}systemId><{p}systemName>NPÖ</{p}systemName></{p}system>\n  <{p}activity><{p}activityType>Read</{p}activityType><{p}startDate>{time}</{p}startDate><{p}purpose>Vård och behandling</{p}purpose></{p}activity>\n  <{p}user><{p}userId>SE2321000000-00014</{p}userId><{p}name>Nils Holm</{p}name><{p}title>Sjuksköterska</{p}title><{p}careUnit><{p}careUnitId>SE2321000000-E1</{p}careUnitId></{p}careUnit></{p}user>\n  <{p}resources>{resources}</{p}resources>\n</{p}log>\n"
    )
}

#[test]
fn riv_ta_log_xml_gives_a_row_per_resource_under_any_wrapper_and_prefix() {
    let d = Dir::new();
    let (a, b, c) = (
        pnr("19501010", 400),
        pnr("19601111", 401),
        pnr("19701212", 402),
    );
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\n<ns2:GetLogsResponse xmlns:ns2=\"urn:riv:ehr:log:querying:GetLogsResponder:1\" xmlns:ns3=\"urn:riv:ehr:log:1\">\n<ns2:logs>\n{}{}{}</ns2:logs></ns2:GetLogsResponse></soap:Body></soap:Envelope>\n",
        log_record(
            "L1",
            "2026-11-03T09:15:00",
            &[(&a, "SE2321000000-E1")],
            "ns3:"
        ),
        log_record(
            "L2",
            "2026-11-03T10:15:00+01:00",
            &[(&b, "SE2321000000-E2"), (&c, "SE2321000000-E3")],
            "ns3:"
        ),
        log_record("L3", "2026-11-04T11:00:00", &[(&c, "SE2321000000-E3")], ""),
    );
    std::fs::write(d.path("loggrapport.xml"), &xml).unwrap();
    let run = d.run(&["logs", "import", "loggrapport.xml", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        summary["imported"], 4,
        "three records, one with two resources"
    );
    assert_eq!(summary["format"], "inera-xml");
    assert_eq!(summary["systems"][0]["system"], "npo");
    // 09:15 local (no offset) is 08:15 UTC.
    assert_eq!(summary["systems"][0]["oldest"], "2026-11-03T08:15:00Z");
    let list = d.list();
    assert_eq!(list[0]["rows"], 4);
    // Each resource's row: its own id, client, client unit; the record's user and time; the
    // entity in the name resolved.
    let db = rusqlite::Connection::open(d.path("loggkoll.db")).unwrap();
    let mut rows: Vec<(String, String, String, String)> = db
        .prepare("SELECT log_id, subject_unit, user_id, subject_name FROM access_log_text")
        .unwrap()
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.sort();
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["L1", "L2#1", "L2#2", "L3"]);
    assert_eq!(rows[2].1, "SE2321000000-E3");
    assert!(rows.iter().all(|r| r.2 == "SE2321000000-00014"));
    assert_eq!(rows[0].3, "Karl Karlsson & co");

    // A bad patient id on the third record: its line is named, nothing imported.
    let bad = xml.replace(
        &format!("<patientId>{c}</patientId>"),
        "<patientId>nope</patientId>",
    );
    assert_ne!(bad, xml);
    std::fs::write(d.path("bad.xml"), &bad).unwrap();
    let run = d.run(&["logs", "import", "bad.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line = bad
        .lines()
        .position(|l| l.trim() == "<log>")
        .map(|i| i + 1)
        .unwrap();
    assert!(
        run.stderr
            .contains(&format!("bad.xml:{line}: field `subject_id`")),
        "line {line}: {}",
        run.stderr
    );
    // Not well-formed: named, nothing imported.
    std::fs::write(d.path("broken.xml"), &xml[..xml.len() / 2]).unwrap();
    let run = d.run(&["logs", "import", "broken.xml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(d.list().len(), 1);
}

#[test]
fn the_inbox_imports_the_good_file_and_files_the_bad_one_with_its_line_named() {
    let d = Dir::new();
    let inbox = d.path("inkorg");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::write(
        d.path("loggkoll.toml"),
        "[contact]\nname = \"Karin Kvist\"\nemail = \"karin@example.se\"\n[mail]\nurl = \"file://mail\"\n",
    )
    .unwrap();
    let good = format!(
        "log_id,event_time,source_system,user_id,access_unit_id,subject_id,action\n\
         g1,2026-11-02 08:00,treserva,tre1,EN1,{},Läsa\n",
        pnr("19800101", 500)
    );
    let secret = pnr("19800101", 501);
    let bad = format!(
        "log_id,event_time,source_system,user_id,access_unit_id,subject_id,action\n\
         b1,2026-11-02 08:00,treserva,tre1,EN1,{secret},Läsa\n\
         b2,2026-11-02 09:00,treserva,tre1,EN1,{secret},Titta\n"
    );
    std::fs::write(inbox.join("good.csv"), &good).unwrap();
    std::fs::write(inbox.join("bad.csv"), &bad).unwrap();
    // Both written long enough ago to have stood still for the quiet period.
    for name in ["good.csv", "bad.csv"] {
        std::fs::File::options()
            .write(true)
            .open(inbox.join(name))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(600))
            .unwrap();
    }
    // A file still being written under a temporary name is left alone.
    std::fs::write(inbox.join("coming.csv.part"), "log_id").unwrap();
    let tick = |d: &Dir| {
        Test::in_dir(d.dir.path())
            .args([
                "--routines",
                &root().join("routines").display().to_string(),
                "--templates",
                &root().join("templates").display().to_string(),
                "--now",
                "2026-12-01T12:00",
                "tick",
            ])
            .env("LOGGKOLL_LOGS_INBOX", "inkorg")
            .run()
    };
    let run = tick(&d);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("imported good.csv (1 rows)"),
        "{}",
        run.stderr
    );
    assert!(inbox.join("done/good.csv").is_file());
    assert!(inbox.join("failed/bad.csv").is_file());
    assert!(inbox.join("coming.csv.part").is_file());
    assert!(!inbox.join("good.csv").exists() && !inbox.join("bad.csv").exists());
    let error = std::fs::read_to_string(inbox.join("failed/bad.csv.error.txt")).unwrap();
    assert!(
        error.contains("inkorg/bad.csv:3: field `action`: unknown action `Titta`"),
        "{error}"
    );
    // Only the good file's row is in; the bad file imported nothing.
    let list = d.list();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["rows"], 1);
    // The digest is the file's own SHA-256, as `sha256sum` prints it.
    use sha2::Digest;
    let sum = hex::encode(sha2::Sha256::digest(good.as_bytes()));
    assert_eq!(list[0]["digest"], sum.as_str(), "{list:?}");
    // The contact is told, by email, without the client.
    let mails: Vec<String> = std::fs::read_dir(d.path("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("karin@example.se"), "{}", mails[0]);
    assert!(mails[0].contains("bad.csv"), "{}", mails[0]);
    assert!(!mails[0].contains(&secret[..8]), "no client in the email");
    // Its values are exactly the variables `check` lets the template use.
    let store = loggkoll::store::Store::at(&d.path("loggkoll.db")).expect("the database");
    let context: String = store
        .db()
        .inspect()
        .query_row(
            "SELECT context FROM outbox WHERE purpose = 'inbox_failed'",
            (),
            |r| r.get(0),
        )
        .expect("the email's values");
    let context: serde_json::Value = serde_json::from_str(&context).expect("JSON");
    let keys: std::collections::BTreeSet<String> = context
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, loggkoll::templates::Purpose::InboxFailed.variables());

    // The same good file dropped again: to done/ with a note, not an error.
    std::fs::write(inbox.join("good.csv"), &good).unwrap();
    std::fs::File::options()
        .write(true)
        .open(inbox.join("good.csv"))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(600))
        .unwrap();
    let run = tick(&d);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("good.csv was imported before"),
        "{}",
        run.stderr
    );
    assert!(inbox.join("done/good-2.csv").is_file());
    assert!(inbox.join("done/good-2.csv.note.txt").is_file());
    let note = std::fs::read_to_string(inbox.join("done/good-2.csv.note.txt")).unwrap();
    assert!(note.contains("was imported before"), "{note}");
    assert_eq!(d.list().len(), 1);
}
