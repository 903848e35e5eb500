//! The engine: runs the compiled routines against the store. It draws rounds on schedule, opens a
//! case per drawn user, assigns each step to the right person, moves cases along their graph when
//! answered, fires reminders and escalations, and writes every event to the audit trail and every
//! email to the outbox, each unit of work in one transaction.
//!
//! The engine reads no clock: every operation takes `now`.

pub mod cases;
pub mod deadline;
pub mod notices;
pub mod org;
pub mod rounds;
pub mod sampling;
pub mod tick;
pub mod timers;
pub mod view;

use crate::config::Config;
use crate::routine::{self, Routine, Source};
use crate::store::{self, Store};
use crate::templates::Library;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use org::Org;
use rand::RngExt;
use std::collections::HashMap;

pub use cases::{AnswerRequest, Answered, OpenRequest};
pub use tick::TickReport;

/// What the engine's work needs besides the transaction.
pub struct Ctx<'e> {
    pub config: &'e Config,
    pub templates: &'e Library,
    pub org: &'e Org,
    pub secret: &'e [u8],
    pub seed: &'e [u8],
    current: &'e [Routine],
    old: &'e HashMap<String, Routine>,
}

impl Ctx<'_> {
    /// The routine version `hash` (a case stays on the version it started on).
    pub fn version(&self, hash: &str) -> Result<&Routine> {
        self.current
            .iter()
            .find(|r| r.hash == hash)
            .or_else(|| self.old.get(hash))
            .ok_or_else(|| Error::runtime(format!("routine version {hash} is not loaded")))
    }

    pub fn current(&self, id: &str) -> Option<&Routine> {
        self.current.iter().find(|r| r.id == id)
    }
}

pub struct Engine {
    pub store: Store,
    pub config: Config,
    pub templates: Library,
    pub routines: Vec<Routine>,
    old: HashMap<String, Routine>,
    org: Org,
    secret: Vec<u8>,
    seed: Vec<u8>,
}

impl Engine {
    /// Opens the engine on `store` with the current `routines`: registers their versions, loads
    /// the older versions that open cases are still on, the organisation and the secrets (made
    /// on first use).
    pub fn new(
        mut store: Store,
        routines: Vec<Routine>,
        templates: Library,
        config: Config,
        now: DateTime<Utc>,
    ) -> Result<Engine> {
        let tx = store.write()?;
        for r in &routines {
            store::rounds::register_version(
                &tx, &r.hash, &r.id, &r.version, &r.path, &r.source, now,
            )?;
        }
        let random_hex = || hex::encode(rand::rng().random::<[u8; 32]>());
        let secret = store::meta_get_or_init(&tx, "link_secret", random_hex)?;
        let seed = store::meta_get_or_init(&tx, "install_seed", random_hex)?;
        tx.commit()?;
        let mut engine = Engine {
            org: Org::load(&store.conn)?,
            store,
            config,
            templates,
            routines,
            old: HashMap::new(),
            secret: secret.into_bytes(),
            seed: seed.into_bytes(),
        };
        engine.load_open_versions()?;
        Ok(engine)
    }

    /// Compiles the stored versions that open cases are on but the routines folder no longer has.
    fn load_open_versions(&mut self) -> Result<()> {
        let hashes: Vec<String> = {
            let mut stmt = self
                .store
                .conn
                .prepare("SELECT DISTINCT routine_hash FROM cases WHERE closed_at IS NULL")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for hash in hashes {
            self.ensure_version(&hash)?;
        }
        Ok(())
    }

    /// Makes version `hash` available (compiling it from the store when needed).
    pub fn ensure_version(&mut self, hash: &str) -> Result<()> {
        if self.routines.iter().any(|r| r.hash == hash) || self.old.contains_key(hash) {
            return Ok(());
        }
        let routine = compile_stored(&self.store.conn, hash)?;
        self.old.insert(hash.to_string(), routine);
        Ok(())
    }

    /// Reloads the organisation when the roster or the delegations changed.
    pub fn refresh_org(&mut self) -> Result<()> {
        if org::current_version(&self.store.conn)? != self.org.version {
            self.org = Org::load(&self.store.conn)?;
        }
        Ok(())
    }

    pub fn org(&self) -> &Org {
        &self.org
    }

    /// The store and a context borrowing the rest.
    pub fn parts(&mut self) -> (&mut Store, Ctx<'_>) {
        (
            &mut self.store,
            Ctx {
                config: &self.config,
                templates: &self.templates,
                org: &self.org,
                secret: &self.secret,
                seed: &self.seed,
                current: &self.routines,
                old: &self.old,
            },
        )
    }

    pub fn routine(&self, id: &str) -> Option<&Routine> {
        self.routines.iter().find(|r| r.id == id)
    }

    /// A short stable name of this installation, for Message-IDs.
    pub fn install_id(&self) -> String {
        String::from_utf8_lossy(&self.seed)
            .chars()
            .take(12)
            .collect()
    }

    /// The link secret, for the web layer.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// Compiles a stored routine version without template checks (templates may have moved on).
pub fn compile_stored(conn: &rusqlite::Connection, hash: &str) -> Result<Routine> {
    let (path, text) = store::rounds::version_source(conn, hash)?
        .ok_or_else(|| Error::runtime(format!("routine version {hash} is not in the database")))?;
    let compiled = routine::compile(
        &Source::new(path.clone(), text),
        &routine::Context::default(),
    );
    compiled.routine.ok_or_else(|| {
        Error::runtime(format!(
            "stored routine version {hash} ({path}) no longer compiles"
        ))
    })
}

/// Replaces the roster in one transaction, with an audit entry; `actor` is who imported it.
pub fn import_roster(
    store: &mut Store,
    roster: &crate::roster::Roster,
    units_file: &str,
    people_file: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<store::roster::ImportSummary> {
    let tx = store.write()?;
    let summary = store::roster::replace(&tx, roster, units_file, people_file, now)?;
    org::bump_version(&tx)?;
    store::audit::append(
        &tx,
        now,
        &store::audit::Event {
            actor,
            event: "roster.imported",
            case_id: None,
            round_id: None,
            data: serde_json::to_value(&summary).unwrap_or_default(),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(summary)
}
