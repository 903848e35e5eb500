//! `loggkoll migrate` (issue 17): the demo's year in SQLite, copied whole into a new database —
//! PostgreSQL when `LOGGKOLL_TEST_POSTGRES` is set (`support/backend.rs`), else another SQLite
//! file — reads back the same through every read command, its audit chain verifies, a second
//! copy into the same target is refused with nothing changed, and the copy works on: a tick on
//! it behaves as on the original, and `serve` on it shows every page of the overview and a task
//! page from an email's link.

#[path = "support/backend.rs"]
mod backend;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn loggkoll(dir: &Path, db: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
    c.current_dir(dir).arg("--db").arg(db).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LOGGKOLL_") {
            c.env_remove(key);
        }
    }
    let out = c.output().expect("loggkoll runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(dir: &Path, db: &Path, args: &[&str]) -> String {
    let r = loggkoll(dir, db, args);
    assert_eq!(
        r.code,
        0,
        "loggkoll {args:?} on {}: {}",
        db.display(),
        r.stderr
    );
    r.stdout
}

#[test]
fn an_installation_moves_whole_and_works_on() {
    let temp = tempfile::tempdir().expect("a temporary folder");
    let dir = temp.path().to_path_buf();
    let none = PathBuf::from("unused.db");
    let demo = loggkoll(&dir, &none, &["demo", "--users", "60"]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let work = dir.join("demo");
    let source = work.join("loggkoll.db");
    let target = backend::location(&dir, "moved");

    let (from, to) = (
        source.to_str().expect("a UTF-8 path"),
        target.to_str().expect("a UTF-8 location"),
    );
    let migrate = || {
        loggkoll(
            &work,
            &none,
            &["migrate", "--from", from, "--to", to, "--json"],
        )
    };
    let moved = migrate();
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let report: serde_json::Value = serde_json::from_str(&moved.stdout).expect("JSON");
    let cases = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "cases")
        .expect("the cases table");
    assert!(cases["rows"].as_u64().expect("a count") > 10, "{report}");
    assert!(report["audit_entries"].as_u64().expect("entries") > 100);
    assert!(
        !moved.stdout.contains("hemligt") && !moved.stderr.contains("hemligt"),
        "no password in the output"
    );

    // Every read command says the same of both.
    let now = "--now=2027-12-31T12:00";
    let case_list = ok(&work, &source, &["case", "list", "--json"]);
    let ids: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&case_list)
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().expect("an id").to_string())
        .collect();
    let mut reads: Vec<Vec<String>> = [
        vec!["case", "list", "--json"],
        vec!["case", "list", "--open", "--json"],
        vec!["round", "list", "--json"],
        vec!["outbox", "list", "--json"],
        vec!["outbox", "list", "--status", "sent", "--json"],
        vec!["logs", "list", "--json"],
        vec!["logs", "coverage"],
        vec!["watch", "list", "--json"],
        vec!["delegation", "list", "--json"],
        vec!["user", "list", "--json"],
        vec![
            "radar",
            "--from",
            "2027-01-01",
            "--to",
            "2027-12-31",
            now,
            "--json",
        ],
        vec!["audit", "verify", "--json"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(str::to_string).collect())
    .collect();
    for id in ids.iter().step_by(7) {
        reads.push(vec![
            "case".into(),
            "show".into(),
            id.clone(),
            "--json".into(),
        ]);
        reads.push(vec![
            "case".into(),
            "evidence".into(),
            id.clone(),
            now.into(),
            "--json".into(),
        ]);
    }
    for args in &reads {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(
            ok(&work, &target, &args),
            ok(&work, &source, &args),
            "loggkoll {args:?} differs after the move"
        );
    }

    // A second move into the now full target is refused, and changes nothing.
    let before = ok(&work, &target, &["outbox", "list", "--json"]);
    let again = migrate();
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("already holds data"),
        "{}",
        again.stderr
    );
    assert_eq!(ok(&work, &target, &["outbox", "list", "--json"]), before);
    let missing = loggkoll(
        &work,
        &none,
        &["migrate", "--from", "nowhere.db", "--to", "x.db"],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        !work.join("x.db").exists(),
        "a refused move makes no target"
    );

    // Both go on alike: the next month's tick, then an answer to an open step.
    for db in [&source, &target] {
        ok(&work, db, &["tick", "--now", "2028-01-03T09:00", "--json"]);
    }
    for args in [
        vec!["case", "list", "--json"],
        vec!["round", "list", "--json"],
        vec!["outbox", "list", "--json"],
    ] {
        assert_eq!(
            ok(&work, &target, &args),
            ok(&work, &source, &args),
            "loggkoll {args:?} differs after a tick on both"
        );
    }
    let verify: serde_json::Value =
        serde_json::from_str(&ok(&work, &target, &["audit", "verify", "--json"])).expect("JSON");
    assert_eq!(verify["intact"], true, "{verify}");

    every_page_serves(&work, &target, &ids);
}

/// Serves `db`, logs in and reads every page of the overview, a case's page and a task page from
/// an email's link: each answers 200 with a page of its own, no error.
fn every_page_serves(work: &Path, db: &Path, cases: &[String]) {
    let password = "ett långt lösenord";
    let mut add = Command::new(env!("CARGO_BIN_EXE_loggkoll"))
        .current_dir(work)
        .arg("--db")
        .arg(db)
        .args(["user", "add", "granskare", "--role", "admin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loggkoll runs");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("the password");
    let added = add.wait_with_output().expect("loggkoll ends");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let mut serve = Command::new(env!("CARGO_BIN_EXE_loggkoll"))
        .current_dir(work)
        .arg("--db")
        .arg(db)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--now",
            "2027-12-31T12:00",
        ])
        .env_remove("LOGGKOLL_DB")
        .env("LOGGKOLL_MAIL_URL", "file://served-outbox")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut stderr = BufReader::new(serve.stderr.take().expect("stderr")).lines();
    let mut port = None;
    for line in stderr.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.split("serving http://127.0.0.1:").nth(1) {
            port = rest
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("serve says where it listens");
    // Read the rest, so that the server never writes into a closed pipe.
    std::thread::spawn(move || stderr.map_while(Result::ok).for_each(drop));

    let login = http(port, "GET", "/login", &[], "");
    let login_cookie = cookie(&login, "loggkoll_login");
    let csrf = login
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the login form's token")
        .to_string();
    let form = format!(
        "name=granskare&password={}&csrf={csrf}",
        password
            .replace(' ', "+")
            .replace('å', "%C3%A5")
            .replace('ö', "%C3%B6")
    );
    let done = http(
        port,
        "POST",
        "/login",
        &[&format!("Cookie: loggkoll_login={login_cookie}")],
        &form,
    );
    assert!(done.starts_with("HTTP/1.1 303"), "{done}");
    // An administrator enrols a second factor before the first session: a code of the secret
    // the page shows (sessions and codes run on real time, whatever `--now` says).
    let pending = format!("Cookie: loggkoll_2fa={}", cookie(&done, "loggkoll_2fa"));
    let enrol = http(port, "GET", "/login/aktivera", &[&pending], "");
    let secret: String = enrol
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the secret on the enrolment page")
        .split_whitespace()
        .collect();
    let token = enrol
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the enrolment form's token")
        .to_string();
    let code = totp_rs::Builder::new()
        .with_secret(
            totp_rs::Secret::try_from_base32(&secret)
                .expect("base32")
                .as_ref()
                .to_vec(),
        )
        .build()
        .expect("a totp")
        .generate(u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970"))
        .to_string();
    let done = http(
        port,
        "POST",
        "/login/aktivera",
        &[&pending],
        &format!("code={code}&csrf={token}"),
    );
    assert!(done.starts_with("HTTP/1.1 200"), "{done}");
    let session = format!(
        "Cookie: loggkoll_session={}",
        cookie(&done, "loggkoll_session")
    );
    let mut pages: Vec<String> = [
        "/overview",
        "/overview/cases",
        "/overview/cases?state=closed&q=tre",
        // A name (many people), a personnummer, a page, the exports.
        "/overview/cases?q=a&page=2",
        "/overview/cases?q=191212121212",
        "/overview/cases/export.csv?q=a",
        "/overview/cases/export.xlsx",
        "/overview/summary",
        "/overview/summary/2027/sammanstallning.csv",
        "/overview/watch",
        "/overview/roster",
        "/overview/roster?unit=EN0001",
        "/overview/delegations",
        "/overview/overdue",
        "/overview/rounds",
        "/overview/coverage",
        "/overview/needs",
        "/overview/radar",
        "/overview/logs",
        "/overview/emails",
        "/overview/routines",
        "/overview/start",
        "/overview/accounts",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    pages.extend(
        cases
            .iter()
            .step_by(11)
            .map(|c| format!("/overview/case/{c}")),
    );
    for page in &pages {
        let reply = http(port, "GET", page, &[&session], "");
        assert!(
            reply.starts_with("HTTP/1.1 200"),
            "{page} on {}: {}",
            db.display(),
            reply.lines().next().unwrap_or("")
        );
        assert!(
            !reply.contains("database:"),
            "{page}: a database error on the page"
        );
    }
    // A task page from the link of the latest task email.
    let store = loggkoll::store::Store::at(db).expect("the database");
    let context: String = store
        .db()
        .inspect()
        .one(
            "SELECT context FROM outbox WHERE purpose = 'task' ORDER BY id DESC LIMIT 1",
            (),
        )
        .expect("a task email");
    drop(store);
    let context: serde_json::Value = serde_json::from_str(&context).expect("JSON");
    let link = context["link"]
        .as_str()
        .and_then(|l| l.split("/t/").nth(1))
        .expect("a task link")
        .to_string();
    let task = http(port, "GET", &format!("/t/{link}"), &[], "");
    let status = task.lines().next().unwrap_or("").to_string();
    assert!(
        ["200", "410"].iter().any(|s| status.contains(s)),
        "a task page: {status}"
    );
    assert!(
        !task.contains("database:"),
        "a database error on the task page"
    );

    // SIGTERM stops it cleanly.
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    let pid = libc::pid_t::try_from(serve.id()).expect("a pid");
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = serve.wait().expect("serve ends");
    assert!(status.success(), "serve ended with {status}");
}

/// One HTTP/1.1 request on a fresh connection; the whole reply.
fn http(port: u16, method: &str, path: &str, headers: &[&str], body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("request");
    // A workbook is not text: read as far as it reads.
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("reply");
    String::from_utf8_lossy(&reply).into_owned()
}

/// The value a reply sets for cookie `name`.
fn cookie(reply: &str, name: &str) -> String {
    reply
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .find_map(|l| {
            l.split_once(&format!("{name}="))
                .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("no cookie `{name}` in:\n{reply}"))
}
