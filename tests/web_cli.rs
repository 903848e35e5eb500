//! The web layer's commands through the real binary: `user add|password|list|remove` (the
//! password on standard input) and `serve` (the scheduler and the server together, stopped
//! cleanly by SIGTERM).

#[path = "web_fixture/mod.rs"]
mod fixture;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn command(dir: &Path) -> Command {
    let root = fixture::root();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
    cmd.current_dir(dir)
        .arg("--routines")
        .arg(root.join("routines"))
        .arg("--templates")
        .arg(root.join("templates"))
        .env("LOGGKOLL_DB", dir.join("loggkoll.db"))
        .env(
            "LOGGKOLL_MAIL_URL",
            format!("file://{}", dir.join("outbox").display()),
        )
        .env("LOGGKOLL_BASE_URL", "http://loggkoll.test")
        .env_remove("LOGGKOLL_TIMEZONE");
    cmd
}

/// Runs `args` with `stdin`; exit code, stdout, stderr.
fn run(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = command(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loggkoll runs");
    // A command that refuses before reading its input may be gone already: a broken pipe then.
    if let Err(e) = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    let out = child.wait_with_output().expect("loggkoll ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn accounts_are_made_listed_and_removed_with_the_password_on_stdin() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let (code, _, err) = run(d, &["user", "add", "kvalitet"], "ett långt lösenord\n");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["user", "add", "kvalitet"], "ett annat lösenord\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exists"), "{err}");
    let (code, _, err) = run(d, &["user", "add", "kort"], "kort\n");
    assert_eq!(code, 2);
    assert!(err.contains("at least 12"), "{err}");
    let (code, _, err) = run(d, &["user", "add", "tom"], "");
    assert_eq!(code, 2);
    assert!(err.contains("no password"), "{err}");
    let (code, _, err) = run(d, &["user", "add", "fel namn"], "ett långt lösenord\n");
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run(d, &["user", "list", "--json"], "");
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let names: Vec<&str> = list
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["kvalitet"]);
    assert!(!out.contains("argon2"), "no hashes in the listing");
    // The hash is argon2, never the password.
    let store = loggkoll::store::Store::at(&d.join("loggkoll.db")).expect("store");
    let hash = loggkoll::store::web::password_hash(store.db(), "kvalitet")
        .expect("query")
        .expect("the account");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(loggkoll::web::password::verify("ett långt lösenord", &hash));
    let (code, _, err) = run(
        d,
        &["user", "password", "kvalitet"],
        "ett nytt långt lösenord\r\n",
    );
    assert_eq!(code, 0, "{err}");
    let hash = loggkoll::store::web::password_hash(store.db(), "kvalitet")
        .expect("query")
        .expect("the account");
    assert!(loggkoll::web::password::verify(
        "ett nytt långt lösenord",
        &hash
    ));
    // Roles: `quality` by default, given at `add`, changed with `role`; a made-up one refused.
    let (code, _, err) = run(
        d,
        &["user", "add", "chef", "--role", "admin"],
        "ett långt lösenord\n",
    );
    assert_eq!(code, 0, "{err}");
    let roles = |d: &Path| -> Vec<(String, String)> {
        let (_, out, _) = run(d, &["user", "list", "--json"], "");
        let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        list.as_array()
            .expect("an array")
            .iter()
            .map(|u| {
                (
                    u["name"].as_str().unwrap_or("").to_string(),
                    u["role"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        roles(d),
        [
            ("chef".into(), "admin".into()),
            ("kvalitet".into(), "quality".into())
        ]
    );
    let (code, _, err) = run(d, &["user", "role", "kvalitet", "reader"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(roles(d)[1].1, "reader");
    for args in [
        vec!["user", "role", "kvalitet", "kung"],
        vec!["user", "role", "ingen", "admin"],
        vec!["user", "add", "x", "--role", "kung"],
    ] {
        let (code, _, err) = run(d, &args, "ett långt lösenord\n");
        assert_eq!(code, 2, "{args:?}: {err}");
    }
    let (code, out, _) = run(d, &["user", "list"], "");
    assert_eq!(code, 0);
    assert!(out.contains("ROLE") && out.contains("reader"), "{out}");
    // A lost phone: the second factor is taken away (audited); an unknown account is refused.
    let (code, _, err) = run(d, &["user", "reset-second-factor", "chef"], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["user", "reset-second-factor", "ingen"], "");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(d, &["user", "remove", "chef"], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["user", "remove", "kvalitet"], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["user", "remove", "kvalitet"], "");
    assert_eq!(code, 2, "{err}");
    let (code, out, _) = run(d, &["user", "list", "--json"], "");
    assert_eq!((code, out.trim()), (0, "[]"));
    let (code, _, err) = run(d, &["audit", "verify"], "");
    assert_eq!(code, 0, "{err}");
    // The trail, readable: every change of an account, in order, with who made it.
    let events = |args: &[&str]| -> Vec<(String, String)> {
        let mut all = vec!["audit", "list", "--json"];
        all.extend_from_slice(args);
        let (code, out, err) = run(d, &all, "");
        assert_eq!(code, 0, "{args:?}: {err}");
        let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        list.as_array()
            .expect("an array")
            .iter()
            .map(|e| {
                (
                    e["event"].as_str().unwrap_or("").to_string(),
                    e["actor"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let all = events(&[]);
    let names: Vec<&str> = all.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names.iter().filter(|e| **e == "web.user_added").count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|e| **e == "web.user_removed").count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|e| **e == "web.second_factor_reset")
            .count(),
        1,
        "{names:?}"
    );
    let roles = events(&["--event", "web.role"]);
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(roles[0].0, "web.role_changed");
    assert!(
        all.iter().all(|(_, actor)| !actor.is_empty()),
        "every entry names its actor: {all:?}"
    );
    let actor = all[0].1.clone();
    assert_eq!(events(&["--actor", &actor]).len(), all.len());
    assert!(events(&["--actor", "nobody"]).is_empty());
    assert!(events(&["--from", "2099-01-01"]).is_empty());
    assert_eq!(events(&["--to", "2099-01-01"]).len(), all.len());
    let (code, out, _) = run(d, &["audit", "list"], "");
    assert_eq!(code, 0);
    assert!(out.contains("web.role_changed"), "{out}");
    let (code, _, err) = run(d, &["audit", "list", "--from", "2027-13-01"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--from"), "{err}");
}

fn http_get(port: u16, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    reply
}

#[cfg(unix)]
#[test]
fn serve_ticks_delivers_serves_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    loggkoll::simulate::org::write_csv(&loggkoll::simulate::org::synthetic(40, 2, 3), d)
        .expect("roster files");
    let (code, _, err) = run(
        d,
        &[
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
            "--now",
            "2026-12-15T09:00",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let mut child = command(d)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--now",
            "2027-01-04T08:00",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let first = received
        .recv_timeout(Duration::from_secs(30))
        .expect("serve says where it listens");
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a port in `{first}`"));
    // The first tick draws January's round and the delivery writes its emails.
    let deadline = Instant::now() + Duration::from_secs(30);
    let outbox = d.join("outbox");
    while std::fs::read_dir(&outbox).map_or(0, |e| e.count()) == 0 {
        assert!(Instant::now() < deadline, "no emails delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let health = http_get(port, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let store = loggkoll::store::Store::at(&d.join("loggkoll.db")).expect("store");
    let context: String = store
        .db()
        .inspect()
        .query_row(
            "SELECT context FROM outbox WHERE purpose = 'task' ORDER BY id LIMIT 1",
            (),
            |r| r.get(0),
        )
        .expect("a task email");
    let context: serde_json::Value = serde_json::from_str(&context).expect("JSON");
    let link = context["link"].as_str().expect("a link");
    let path = link.trim_start_matches("http://loggkoll.test");
    let page = http_get(port, path);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Granska loggen"));
    assert!(page.contains("referrer-policy: no-referrer"), "{page}");

    // SIGTERM: a clean stop, exit 0.
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = received.try_iter().collect();
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
    let drawn = rest.iter().chain([&first]).any(|l| l.contains("drawn of"));
    assert!(drawn, "the round is logged: {rest:?}");
}

/// A mail server that answers every command after `delay`, just inside the client's timeout:
/// each email takes most of a minute. Counts the connections it accepted.
fn slow_mail_server(delay: Duration) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            seen.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
                std::thread::sleep(delay);
                if stream.write_all(b"220 slow.test ESMTP\r\n").is_err() {
                    return;
                }
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut in_data = false;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = if in_data {
                        if line != ".\r\n" {
                            continue;
                        }
                        in_data = false;
                        b"250 queued\r\n"
                    } else if line.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if line.starts_with("QUIT") {
                        b"221 bye\r\n"
                    } else {
                        b"250 ok\r\n"
                    };
                    std::thread::sleep(delay);
                    if stream.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, connections)
}

#[cfg(unix)]
#[test]
fn serve_stops_within_20_seconds_of_sigterm_with_a_slow_mail_server_and_keeps_the_rest_queued() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    loggkoll::simulate::org::write_csv(&loggkoll::simulate::org::synthetic(40, 2, 3), d)
        .expect("roster files");
    let (code, _, err) = run(
        d,
        &[
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
            "--now",
            "2026-12-15T09:00",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let (port, connections) = slow_mail_server(Duration::from_secs(8));
    let mut child = command(d)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--now",
            "2027-01-04T08:00",
        ])
        .env("LOGGKOLL_MAIL_URL", format!("smtp://127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // The first tick queues the round's emails and the sender is talking to the slow server.
    let deadline = Instant::now() + Duration::from_secs(60);
    while connections.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the sender never connected");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let pid = i32::try_from(child.id()).expect("a pid");
    let signalled = Instant::now();
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            panic!("serve did not stop within 40 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(20), "stopping took {took:?}");
    let said: Vec<String> = received.try_iter().collect();
    assert!(said.iter().any(|l| l == "stopped"), "{said:?}");
    // Nothing was lost: every email is still queued (none was accepted by the slow server).
    let store = loggkoll::store::Store::at(&d.join("loggkoll.db")).expect("store");
    let (queued, total): (i64, i64) = store
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FILTER (WHERE status = 'queued'), COUNT(*) FROM outbox",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the outbox");
    assert!(total > 1, "the round queued emails: {total}");
    assert_eq!(queued, total, "{said:?}");
}

#[test]
fn the_account_list_says_how_each_account_signs_in() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    let (code, _, err) = run(d, &["user", "add", "lokal"], "ett långt lösenord\n");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["user", "add", "anna", "--oidc"], "");
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(d, &["user", "list", "--json"], "");
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let how: Vec<(&str, &str)> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap_or(""),
                u["sign_in"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(how, [("anna", "provider"), ("lokal", "password")]);
    let (code, out, _) = run(d, &["user", "list"], "");
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l.starts_with("anna") && l.contains("provider")),
        "{out}"
    );
}
