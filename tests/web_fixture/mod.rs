//! A server's state for web tests: a database in a temporary folder with a small synthetic
//! organisation, the shipped routines and templates, one tick on 1 January 2027 (the Treserva
//! round: a review step per drawn user, each with its task email in the outbox), and a clock the
//! test moves.

#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Stockholm;
use loggkoll::clock::{Clock, FixedClock};
use loggkoll::config::Config;
use loggkoll::engine::Engine;
use loggkoll::routine::{Context, loader};
use loggkoll::simulate::org;
use loggkoll::store::Store;
use loggkoll::templates::Library;
use loggkoll::web::App;
use std::path::PathBuf;
use std::sync::Arc;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

/// When the roster is imported.
pub const ROSTER: &str = "2026-12-15T09:00:00+01:00";
/// The round's tick.
pub const ROUND: &str = "2027-01-01T08:00:00+01:00";
/// When the tests answer: a few days into the round, before any deadline.
pub const NOW: &str = "2027-01-05T10:00:00+01:00";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub outbox: PathBuf,
    pub clock: Arc<FixedClock>,
    pub base_url: String,
    /// The routines folder: the shipped one, or (`editable`) a copy the workshop may write.
    pub routines: PathBuf,
    /// The templates folder: the shipped one, or (`editable`) a copy.
    pub templates: PathBuf,
    pub editable: bool,
}

/// `from` into the new folder `to`, with its subfolders.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("a folder to copy") {
        let path = entry.expect("an entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copied");
        }
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Fixture {
    /// The database after the first round; links in emails start with `base_url`.
    pub fn new(base_url: &str) -> Fixture {
        Fixture::make(base_url, false)
    }

    /// As [`Fixture::new`], on a copy of the shipped routines that the workshop may publish into
    /// (the server's `routines_dir`).
    pub fn editable(base_url: &str) -> Fixture {
        Fixture::make(base_url, true)
    }

    fn make(base_url: &str, editable: bool) -> Fixture {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = dir.path().join("loggkoll.db");
        let outbox = dir.path().join("outbox");
        let (routines, templates) = if editable {
            let (r, t) = (dir.path().join("routines"), dir.path().join("templates"));
            copy_dir(&root().join("routines"), &r);
            copy_dir(&root().join("templates"), &t);
            (r, t)
        } else {
            (root().join("routines"), root().join("templates"))
        };
        let fixture = Fixture {
            db,
            outbox,
            clock: Arc::new(FixedClock::new(at(NOW))),
            base_url: base_url.to_string(),
            dir,
            routines,
            templates,
            editable,
        };
        let mut engine = fixture.engine(at(ROSTER));
        let roster = org::synthetic(60, 3, 7);
        loggkoll::engine::import_roster(&mut engine.store, &roster, "u", "p", "test", at(ROSTER))
            .expect("roster");
        engine.tick(at(ROUND)).expect("the first round");
        fixture
    }

    pub fn config(&self) -> Config {
        let mut config = Config {
            base_url: self.base_url.clone(),
            ..Config::default()
        };
        config.mail.url = format!("file://{}", self.outbox.display());
        config
    }

    /// An engine on the fixture's database.
    pub fn engine(&self, now: DateTime<Utc>) -> Engine {
        self.engine_with(self.config(), now)
    }

    /// An engine on the fixture's database with `config`.
    pub fn engine_with(&self, config: Config, now: DateTime<Utc>) -> Engine {
        let templates = Library::load(&self.templates).expect("templates");
        let routines = loader::load_routines(
            &self.routines,
            &Context {
                templates: Some(&templates),
            },
        )
        .expect("routines");
        let store = Store::at(&self.db).expect("store");
        Engine::new(store, routines, templates, config, now).expect("engine")
    }

    /// The web layer's state on the fixture's database, on the fixture's clock.
    pub fn app(&self) -> Arc<App> {
        Arc::new(self.unshared_app())
    }

    /// [`Fixture::app`] before it is shared, for a test to set more.
    pub fn unshared_app(&self) -> App {
        let engine = self.engine(self.clock.now());
        let mut app = App::new(engine, self.clock.clone()).expect("app");
        if self.editable {
            app.routines_dir = Some(self.routines.clone());
            app.templates_editable = true;
        }
        app
    }

    /// A connection of the test's own, to look at what the server did.
    pub fn store(&self) -> Store {
        Store::at(&self.db).expect("store")
    }

    /// The links of the queued emails of `purpose` (`task`, `inform`, …), oldest first, as paths
    /// (`/t/…`), with the case and the recipient.
    pub fn links(&self, purpose: &str) -> Vec<Link> {
        let store = self.store();
        let mut stmt = store
            .db()
            .inspect()
            .prepare(
                "SELECT id, case_id, recipient_id, context FROM outbox WHERE purpose = ?1 ORDER BY id",
            )
            .expect("query");
        let rows = stmt
            .query_map([purpose], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<String>(3)?,
                ))
            })
            .expect("rows");
        rows.map(|r| {
            let (id, case, recipient, context) = r.expect("row");
            let context: serde_json::Value = serde_json::from_str(&context).expect("json");
            let link = context["link"].as_str().expect("a link").to_string();
            let path = link
                .strip_prefix(&self.base_url)
                .expect("the link starts with the base URL")
                .to_string();
            Link {
                outbox_id: id,
                case,
                recipient,
                path,
            }
        })
        .collect()
    }

    /// The case's state and the number of its answered steps.
    pub fn case_state(&self, case: &str) -> (String, i64) {
        let store = self.store();
        store
            .db()
            .inspect()
            .query_row(
                "SELECT c.state, (SELECT COUNT(*) FROM tasks t WHERE t.case_id = c.id AND t.answered_at IS NOT NULL)
                 FROM cases c WHERE c.id = ?1",
                [case],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("the case")
    }

    /// How many rows `sql` counts.
    pub fn count(&self, sql: &str) -> i64 {
        self.store()
            .db()
            .inspect()
            .query_row(sql, (), |r| r.get(0))
            .expect("a count")
    }
}

#[derive(Debug, Clone)]
pub struct Link {
    pub outbox_id: i64,
    pub case: String,
    pub recipient: String,
    pub path: String,
}

/// The instant in `[start, start + 24 h)` whose Stockholm wall clock reads `hh:mm`.
fn local_in(start: DateTime<Utc>, hh: u32, mm: u32) -> DateTime<Utc> {
    (0..24 * 60)
        .map(|m| start + Duration::minutes(m))
        .find(|t| {
            let l = t.with_timezone(&Stockholm);
            chrono::Timelike::hour(&l) == hh && chrono::Timelike::minute(&l) == mm
        })
        .expect("every time of day is in a 24-hour window")
}

/// A case whose window has a log (see [`Fixture::with_log`]).
pub struct LoggedCase {
    pub id: String,
    pub path: String,
    pub night_log_id: String,
    pub night_client: String,
    pub ordinary_client: String,
}

impl Fixture {
    /// The first task link's case, with a log of its window: two ordinary daytime reads of a
    /// client of the user's unit, and one read at 23:30 of another client.
    pub fn with_log(&self) -> LoggedCase {
        let f = self;
        let link = f.links("task").remove(0);
        let store = f.store();
        let (account, unit, start): (String, String, String) = store
            .db()
            .inspect()
            .query_row(
                "SELECT subject_account, unit_id, window_start FROM cases WHERE id = ?1",
                [&link.case],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("the case");
        let start = at(&start);
        let ordinary_client = "19121212-1212".to_string();
        let night_client = loggkoll::personnummer::made_up(1950, 5, 6, 321);
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let log = format!(
            "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose\n\
         W1,{},treserva,{account},,Undersköterska,{unit},{ordinary_client},{unit},Läsa,journal,vård\n\
         W2,{},treserva,{account},,Undersköterska,{unit},{ordinary_client},{unit},Läsa,journal,vård\n\
         W3,{},treserva,{account},,Undersköterska,{unit},{night_client},{unit},Läsa,journal,vård\n",
            fmt(local_in(start, 10, 0)),
            fmt(local_in(start, 11, 0)),
            fmt(local_in(start, 23, 30)),
        );
        let path = f.dir.path().join("log.csv");
        std::fs::write(&path, log).expect("log");
        let mut engine = f.engine(at(NOW));
        let rules = loggkoll::records::logs::retention_rules(&engine.routines);
        loggkoll::records::logs::import(
            &mut engine.store,
            &path,
            &loggkoll::records::logs::ImportOptions {
                system: None,
                retention: &rules,
                tz: Stockholm,
                now: at(NOW),
                actor: "test",
                period: Some((start - Duration::days(1), start + Duration::days(2))),
                format: None,
                formats: &[],
                max_value: loggkoll::records::logs::MAX_VALUE,
            },
        )
        .expect("import");
        LoggedCase {
            id: link.case,
            path: link.path,
            night_log_id: "W3".into(),
            night_client,
            ordinary_client,
        }
    }
}
