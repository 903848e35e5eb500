//! The engine: runs the compiled routines against the store. It draws rounds on schedule, opens a
//! case per drawn user, assigns each step to the right person, moves cases along their graph when
//! answered, fires reminders and escalations, and writes every event to the audit trail and every
//! email to the outbox, each unit of work in one transaction.
//!
//! The engine reads no clock: every operation takes `now`.

pub(crate) mod access;
pub use crate::refusal::Refusal;
pub(crate) mod accounts;
pub(crate) mod cases;
pub(crate) mod deadline;
pub(crate) mod delegations;
pub(crate) mod digest;
pub mod information;
pub(crate) mod judge;
pub(crate) mod notices;
pub mod org;
pub(crate) mod reassign;
pub mod relations;
pub(crate) mod rights;
pub mod rounds;
pub mod sampling;
pub(crate) mod tick;
pub(crate) mod timers;
pub(crate) mod view;
pub(crate) mod watch;
pub mod workshop;
pub(crate) mod workspace;

use crate::config::Config;
use crate::routine::{self, Routine, Source};
use crate::store::{self, Store};
use crate::templates::Library;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use org::Org;
use std::collections::HashMap;
use std::sync::Arc;

pub use cases::{AnswerRequest, Answered, OpenRequest};

/// What the engine's work needs besides the transaction.
pub struct Ctx<'e> {
    pub config: &'e Config,
    pub templates: &'e Library,
    pub org: &'e Org,
    pub secret: &'e [u8],
    pub seed: &'e [u8],
    current: &'e [Routine],
    old: &'e OldVersions,
}

/// A routine version: one of the current routines, or an older one compiled from the store.
pub enum RoutineRef<'a> {
    Current(&'a Routine),
    Old(Arc<Routine>),
}

impl std::ops::Deref for RoutineRef<'_> {
    type Target = Routine;

    fn deref(&self) -> &Routine {
        match self {
            RoutineRef::Current(r) => r,
            RoutineRef::Old(r) => r,
        }
    }
}

impl<'e> Ctx<'e> {
    /// The routine version `hash` (a case stays on the version it started on); an older version
    /// is compiled from its stored text the first time it is needed.
    pub fn version(&self, conn: &crate::store::Db, hash: &str) -> Result<RoutineRef<'e>> {
        if let Some(r) = self.current.iter().find(|r| r.hash == hash) {
            return Ok(RoutineRef::Current(r));
        }
        Ok(RoutineRef::Old(self.old.get(conn, hash)?))
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
    old: OldVersions,
    org: Org,
    /// When steps of people who left were last looked for: the organisation's version, and
    /// the last day before someone's employment ends.
    reassign_checked: Option<(i64, Option<chrono::NaiveDate>)>,
    secret: Vec<u8>,
    seed: Vec<u8>,
    /// The log formats the inbox reads exports with (`formats/`); the inbox itself is
    /// `config.logs_inbox`.
    pub formats: Vec<crate::log_format::LogFormat>,
}

impl Engine {
    /// Opens the engine on `store` with the current `routines`, the organisation and the
    /// installation's secrets. It writes nothing: a routine version is recorded in the
    /// transaction that first opens a case on it.
    pub fn new(
        store: Store,
        routines: Vec<Routine>,
        templates: Library,
        config: Config,
        now: DateTime<Utc>,
    ) -> Result<Engine> {
        let _ = now;
        let secret = store::meta_get(store.db(), "link_secret")?
            .ok_or_else(|| Error::runtime("the database has no link secret"))?;
        let seed = store::meta_get(store.db(), "install_seed")?
            .ok_or_else(|| Error::runtime("the database has no installation seed"))?;
        let engine = Engine {
            org: Org::load(store.db())?,
            store,
            config,
            templates,
            routines,
            old: OldVersions::default(),
            reassign_checked: None,
            secret: secret.into_bytes(),
            seed: seed.into_bytes(),
            formats: Vec::new(),
        };
        Ok(engine)
    }

    /// Reloads the organisation when the roster or the delegations changed.
    pub fn refresh_org(&mut self) -> Result<()> {
        if org::current_version(self.store.db())? != self.org.version {
            self.org = Org::load(self.store.db())?;
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

    /// The older routine versions compiled so far.
    pub(crate) fn old_versions(&self) -> &OldVersions {
        &self.old
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

/// Records `routine`'s text under its hash (once), in the transaction that first uses it.
pub(crate) fn register(
    conn: &crate::store::Db,
    routine: &Routine,
    now: DateTime<Utc>,
) -> Result<()> {
    store::rounds::register_version(
        conn,
        &routine.hash,
        &routine.id,
        &routine.version,
        &routine.path,
        &routine.source,
        now,
    )?;
    Ok(())
}

/// Older routine versions, compiled from their stored text the first time one is needed and
/// kept: the one cache of versions, used by the engine, the pages' read side and the command
/// line's case listings.
#[derive(Debug, Default)]
pub(crate) struct OldVersions(std::sync::Mutex<HashMap<String, Arc<Routine>>>);

impl OldVersions {
    /// Version `hash`, compiled now when it was not yet.
    pub(crate) fn get(&self, conn: &crate::store::Db, hash: &str) -> Result<Arc<Routine>> {
        if let Some(r) = self.lock().get(hash) {
            return Ok(r.clone());
        }
        let compiled = Arc::new(compile_stored(conn, hash)?);
        self.lock().insert(hash.to_string(), compiled.clone());
        Ok(compiled)
    }

    /// A copy holding what this one has compiled so far.
    pub(crate) fn snapshot(&self) -> OldVersions {
        OldVersions(std::sync::Mutex::new(self.lock().clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Routine>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The routine version `hash` among `current`, else from `old`.
pub(crate) fn version_among(
    current: &[Arc<Routine>],
    old: &OldVersions,
    conn: &crate::store::Db,
    hash: &str,
) -> Result<Arc<Routine>> {
    match current.iter().find(|r| r.hash == hash) {
        Some(r) => Ok(r.clone()),
        None => old.get(conn, hash),
    }
}

/// Warnings for edited `routines` that no longer have a state open cases are in (the cases stay
/// on their version and finish there, but the author should know). A database that is not
/// loggkoll's (or is empty) gives none.
pub(crate) fn open_states_removed(
    conn: &crate::store::Db,
    routines: &[Routine],
) -> Vec<crate::routine::Diagnostic> {
    let rows = match crate::store::cases::open_states(conn) {
        Ok(rows) => rows,
        // Not a loggkoll database (or an empty one): nothing to compare with.
        Err(_) => return vec![],
    };
    let mut out = Vec::new();
    for routine in routines {
        let source = crate::routine::Source::new(routine.path.clone(), routine.source.clone());
        let line = routine
            .source
            .lines()
            .position(|l| l.starts_with("states:"))
            .map_or(1, |i| i + 1);
        let mut missing: std::collections::BTreeMap<&str, i64> = Default::default();
        for (id, hash, state, n) in &rows {
            if *id == routine.id && *hash != routine.hash && routine.state(state).is_none() {
                *missing.entry(state.as_str()).or_default() += n;
            }
        }
        for (state, n) in missing {
            out.push(
                crate::routine::Diagnostic::new(
                    &source,
                    crate::routine::source::Span::new(line, 1, 6),
                    crate::routine::Severity::Warning,
                    "removes-open-state",
                    format!(
                        "state `{state}` is gone from this version, but {n} open case{} {} in it",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "is" } else { "are" }
                    ),
                )
                .with_help("open cases stay on the version they started on and finish there; new cases use this one"),
            );
        }
    }
    out
}

/// Compiles a stored routine version without template checks (templates may have moved on).
pub(crate) fn compile_stored(conn: &crate::store::Db, hash: &str) -> Result<Routine> {
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

/// Who manages each unit whose people hold accounts, per managing role: the holders the roster
/// lists for it, inherited from the units above as assignment does.
fn managers(
    conn: &crate::store::Db,
    org: &org::Org,
) -> Result<std::collections::BTreeMap<(String, crate::roster::Role), Vec<String>>> {
    let mut out = std::collections::BTreeMap::new();
    for unit in store::information::staffed_units(conn)? {
        for role in [
            crate::roster::Role::UnitManager,
            crate::roster::Role::OperationsManager,
        ] {
            let holders: Vec<String> = org
                .listed_holders(role, &unit)
                .into_iter()
                .map(str::to_string)
                .collect();
            out.insert((unit.clone(), role), holders);
        }
    }
    Ok(out)
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
    import_roster_guarded(store, roster, units_file, people_file, actor, now, None)
}

/// As [`import_roster`], refusing (with nothing changed) an import that would remove more than
/// `max_removal_percent` of the people in the roster: a file cut short, or with its header only,
/// would otherwise end everyone's employment in one go.
pub(crate) fn import_roster_guarded(
    store: &mut Store,
    roster: &crate::roster::Roster,
    units_file: &str,
    people_file: &str,
    actor: &str,
    now: DateTime<Utc>,
    max_removal_percent: Option<u32>,
) -> Result<store::roster::ImportSummary> {
    let tx = store.write()?;
    let before = store::roster::people_in_roster(&tx)?;
    // Accounts that appear after the first import wait for their information case.
    let first = !store::information::any_import(&tx)?;
    let accounts_before = store::information::account_pairs(&tx)?;
    let managers_before = if first {
        None
    } else {
        Some(managers(&tx, &org::Org::load(&tx)?)?)
    };
    let summary = store::roster::replace(&tx, roster, units_file, people_file, now)?;
    if let Some(managers_before) = managers_before {
        for (person, system) in store::information::account_pairs(&tx)? {
            if !accounts_before.contains(&(person.clone(), system.clone())) {
                store::information::note(&tx, &person, &system, now)?;
            }
        }
        // A unit with a new manager has its staff informed again by the routines whose step
        // goes to that role, from the new holder's first day (the first roster's units are
        // informed at go-live: `information::tick_information`).
        let after = org::Org::load(&tx)?;
        for ((unit, role), holders) in managers(&tx, &after)? {
            // A unit staffed only now: its people are new account holders, informed each.
            let Some(known) = managers_before.get(&(unit.clone(), role)) else {
                continue;
            };
            let new: Vec<&String> = holders.iter().filter(|h| !known.contains(h)).collect();
            if new.is_empty() {
                continue;
            }
            let starts = new
                .iter()
                .filter_map(|h| after.person(h).and_then(|p| p.active_from))
                .max();
            store::information::queue_unit(
                &tx,
                &unit,
                Some(role.as_str()),
                store::information::NEW_MANAGER,
                starts,
                now,
            )?;
        }
    }
    store::information::forget_removed(&tx)?;
    if let Some(max) = max_removal_percent
        && before > 0
        && (summary.removed as u64) * 100 > before as u64 * u64::from(max)
    {
        // Dropping the transaction undoes the replace.
        return Err(Error::bad_input(format!(
            "{people_file}: the import would remove {} of the {before} people in the roster, more than {max} %; nothing was imported (check the file, or pass --allow-mass-removal if so many have left)",
            summary.removed
        )));
    }
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
