//! Several schedulers on one database (issue 17: "four racing ticks make every round once and
//! send every email once"). A synthetic organisation of 150 users, a simulated month of ticks
//! twice a day, each tick started four times at once as separate processes on one database, with
//! every email going to a real SMTP server on loopback that records each message it accepts. A
//! reference runs the same month with one tick at a time on a database of its own with the same
//! installation seed. Afterwards the raced database holds the reference's rounds, cases and
//! emails, every round exists once, the server received every email exactly once, and the
//! audit chain verifies.
//!
//! It runs on SQLite, and on PostgreSQL when `LOGGKOLL_TEST_POSTGRES` is set
//! (`support/backend.rs`).

#[path = "support/backend.rs"]
mod backend;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use smtp_server::SmtpServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEED: &str = "5eed0000000000000000000000000000000000000000000000000000000000aa";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Site {
    dir: PathBuf,
    db: PathBuf,
    server: SmtpServer,
}

impl Site {
    fn new(dir: &Path, name: &str) -> Site {
        let db = backend::location(dir, name);
        let store = loggkoll::store::Store::at(&db).expect("the database");
        loggkoll::store::meta_set(store.db(), "install_seed", SEED).expect("the seed");
        drop(store);
        let site = Site {
            dir: dir.to_path_buf(),
            db,
            server: SmtpServer::start(),
        };
        let out = site
            .command(&[
                "roster",
                "import",
                "--units",
                "units.csv",
                "--people",
                "people.csv",
                "--now",
                "2027-01-01T00:00",
            ])
            .output()
            .expect("loggkoll runs");
        assert!(out.status.success(), "{}", text(&out));
        site
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loggkoll"));
        c.current_dir(&self.dir)
            .env("LOGGKOLL_DB", &self.db)
            .env(
                "LOGGKOLL_MAIL_URL",
                format!("smtp://127.0.0.1:{}", self.server.port()),
            )
            .env("LOGGKOLL_MAIL_FROM", "loggkoll@example.se")
            .args(["--routines", &path(&root().join("routines"))])
            .args(["--templates", &path(&root().join("templates"))])
            .args(args);
        c
    }

    /// Runs `tick --now AT` in `copies` processes at once; every one must succeed.
    fn tick(&self, at: &str, copies: usize) {
        let children: Vec<_> = (0..copies)
            .map(|_| {
                self.command(&["tick", "--now", at])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("loggkoll starts")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("loggkoll ends");
            assert!(out.status.success(), "tick at {at}: {}", text(&out));
        }
    }

    fn rows(&self, sql: &str) -> Vec<String> {
        let store = loggkoll::store::Store::at(&self.db).expect("the database");
        store
            .db()
            .inspect()
            .rows(sql, (), |r| {
                let mut cells = Vec::new();
                for i in 0..r.len() {
                    cells.push(match r.get::<loggkoll::store::db::Owned>(i)? {
                        loggkoll::store::db::Owned::Text(t) => t,
                        other => format!("{other:?}"),
                    });
                }
                Ok(cells.join(" | "))
            })
            .expect(sql)
    }

    /// How many times the server received each Message-ID.
    fn received(&self) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        for m in self.server.received() {
            let data = String::from_utf8_lossy(&m.data);
            let id = data
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .unwrap_or_else(|| panic!("a message without a Message-ID:\n{data}"))
                .trim()
                .to_string();
            *seen.entry(id).or_insert(0) += 1;
        }
        seen
    }
}

fn path(p: &Path) -> String {
    p.to_str().expect("a UTF-8 path").to_string()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Twice a day (Stockholm time, inside the send hours) from 1 January to 1 February 2027.
fn month() -> Vec<String> {
    let mut at = Vec::new();
    for day in 1..=31 {
        for hour in ["08:05", "13:35"] {
            at.push(format!("2027-01-{day:02}T{hour}"));
        }
    }
    at.push("2027-02-01T08:05".into());
    at
}

#[test]
fn four_racing_ticks_make_every_round_once_and_send_every_email_once() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let roster = loggkoll::simulate::org::synthetic(150, 5, 11);
    loggkoll::simulate::org::write_csv(&roster, dir.path()).expect("the roster's files");
    let reference = Site::new(dir.path(), "reference");
    let raced = Site::new(dir.path(), "raced");
    for at in month() {
        reference.tick(&at, 1);
        raced.tick(&at, 4);
    }

    let rounds = "SELECT routine_id, occurrence, drawn FROM rounds ORDER BY routine_id, occurrence";
    let reference_rounds = reference.rows(rounds);
    assert!(
        reference_rounds.len() >= 2,
        "a month holds rounds: {reference_rounds:?}"
    );
    assert_eq!(raced.rows(rounds), reference_rounds, "the rounds");
    let cases = "SELECT id, subject_person_id, state FROM cases ORDER BY id";
    assert_eq!(raced.rows(cases), reference.rows(cases), "the cases");
    let outbox = "SELECT purpose, recipient_id, status FROM outbox ORDER BY id";
    let reference_outbox = reference.rows(outbox);
    assert_eq!(raced.rows(outbox), reference_outbox, "the emails queued");
    let sent = reference_outbox
        .iter()
        .filter(|r| r.ends_with("sent"))
        .count();
    assert!(sent > 20, "only {sent} emails were sent in the month");

    for site in [&reference, &raced] {
        let received = site.received();
        let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "sent more than once: {twice:?}");
        assert_eq!(received.len(), sent, "every sent email arrived");
        let verify = site
            .command(&["audit", "verify"])
            .output()
            .expect("loggkoll runs");
        assert!(verify.status.success(), "{}", text(&verify));
    }
}
