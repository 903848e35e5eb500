//! The store: one SQLite file through rusqlite. It owns the connection, its settings (WAL,
//! foreign keys, busy timeout), the schema and its migrations, and the owner-only permissions of
//! the file. The engine does its work in the transactions the store hands out; all SQL lives in
//! the store's modules, so the engine above it never writes SQL (the boundary a server database
//! would replace).

pub(crate) mod access;
pub mod audit;
pub mod cases;
pub(crate) mod copy;
pub mod db;
pub(crate) mod evidence;
pub mod information;
pub(crate) mod logindex;
pub(crate) mod migrations;
pub mod outbox;
pub(crate) mod pg;
pub(crate) mod purge;
pub mod records;
pub(crate) mod relations;
pub(crate) mod rights;
pub mod roster;
pub(crate) mod rounds;
pub(crate) mod stats;
pub(crate) mod view;
pub mod web;
pub(crate) mod workshop;

use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
pub use db::{Db, Tx};
use db::{OptionalExtension, params};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

pub struct Store {
    db: Db,
    pub path: PathBuf,
    /// The jobs' locks held on SQLite, by [`Job`] (see [`Store::try_lock`]).
    locks: [Option<std::fs::File>; 2],
}

/// Instants are stored as RFC 3339 UTC with a `Z`, to the second: they sort as text.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::runtime(format!("database holds a bad time `{s}`: {e}")))
}

pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// RFC 3339 of a Unix time, as the store writes instants.
pub fn unix_ts(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .map(ts)
        .unwrap_or_default()
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    // The form the store writes, without chrono's parser of formats (the radar reads a date
    // for each of a month's 100,000 care relationships).
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *s.as_bytes() {
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |ds: &[u8]| ds.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
            if let Some(day) =
                NaiveDate::from_ymd_opt(n(&digits[..4]) as i32, n(&digits[4..6]), n(&digits[6..]))
            {
                return Ok(day);
            }
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| Error::runtime(format!("database holds a bad date `{s}`: {e}")))
}

impl Store {
    /// Opens (creating and migrating when needed) the database at `path`. A new file is created
    /// readable and writable by its owner only.
    pub fn open(path: &Path) -> Result<Store> {
        let existed = path.exists();
        if !existed {
            create_private(path)?;
        }
        let conn = Connection::open(path).map_err(|e| {
            Error::runtime(format!("cannot open database `{}`: {e}", path.display()))
        })?;
        let mut store = Store {
            db: Db::sqlite(conn),
            path: path.to_path_buf(),
            locks: [None, None],
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens the database `location` names: a PostgreSQL URL (`postgres://user@host/db`), or
    /// else a file (see [`Store::open`]).
    pub fn at(location: &Path) -> Result<Store> {
        match location.to_str() {
            Some(url) if pg::is_url(url) => Store::connect(url),
            Some(text) if pg::is_key_value(text) => Err(Error::usage(
                "--db: give PostgreSQL as a URL (`postgres://user@host/db`), not as `key=value` words",
            )),
            _ => Store::open(location),
        }
    }

    /// Connects to the PostgreSQL database at `url`, creating the schema on first use.
    pub fn connect(url: &str) -> Result<Store> {
        let mut store = Store {
            db: Db::postgres(pg::Conn::connect(url)?),
            path: PathBuf::from(url),
            locks: [None, None],
        };
        store.migrate_postgres()?;
        store.init_secrets()?;
        Ok(store)
    }

    /// The database's name for messages: the file, or the URL without its password.
    pub fn name(&self) -> String {
        display_location(&self.path)
    }

    /// A private in-memory database, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        let mut store = Store {
            db: Db::sqlite(conn),
            path: PathBuf::from(":memory:"),
            locks: [None, None],
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The database alone, without the store around it.
    pub fn into_db(self) -> Db {
        self.db
    }

    /// Takes `job`'s lock: one process at a time does it on a database (two `serve`
    /// processes, or `serve` and `tick`), so that no email goes out twice and no inbox file is
    /// taken twice; false when another holds it. The lock goes with [`Store::unlock`] or with
    /// the process: PostgreSQL's session lock with its connection, and on SQLite the lock on the
    /// file `DB.sender` (or `DB.inbox`) beside the database with the process that held it, so a
    /// killed process holds up nothing.
    pub fn try_lock(&mut self, job: Job) -> Result<bool> {
        if self.db.is_postgres() {
            return self.db.query_row(
                &format!("SELECT pg_try_advisory_lock({})", job.pg_key()),
                (),
                |r| r.get(0),
            );
        }
        if self.path.as_os_str() == ":memory:" || self.locks[job as usize].is_some() {
            return Ok(true);
        }
        let mut name = self.path.clone().into_os_string();
        name.push(job.suffix());
        let file = open_private(Path::new(&name))?;
        match file.try_lock() {
            Ok(()) => {
                self.locks[job as usize] = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::runtime(format!(
                "cannot lock `{}`: {e}",
                Path::new(&name).display()
            ))),
        }
    }

    /// Gives `job`'s lock back.
    pub fn unlock(&mut self, job: Job) -> Result<()> {
        if self.db.is_postgres() {
            self.db.query_row(
                &format!("SELECT pg_advisory_unlock({})", job.pg_key()),
                (),
                |r| r.get::<bool>(0),
            )?;
        }
        // Closing the file releases its lock.
        self.locks[job as usize] = None;
        Ok(())
    }

    /// Runs `work` holding `job`'s lock; `None` when another process holds it.
    pub fn locked<T>(
        &mut self,
        job: Job,
        work: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<Option<T>> {
        if !self.try_lock(job)? {
            return Ok(None);
        }
        let done = work(self);
        let unlocked = self.unlock(job);
        let done = done?;
        unlocked?;
        Ok(Some(done))
    }

    /// The database, to pass to the engine and the store's functions.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn configure(&mut self) -> Result<()> {
        let Some(conn) = self.db.lite() else {
            return Ok(());
        };
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL: readers never block the writer, and a commit is one append to the log.
        // The page cache is 8 MB: SQLite walks the whole cache's hash at the end of many write
        // transactions (`pcache1TruncateUnsafe`, 8 % of a durable answer's time at 64 MB), so a
        // larger one makes every commit dearer. Measured on the simulated year against 22
        // November's build, three pairs each: 64 MB 1.27–1.29×, 8 MB 1.21–1.23×, 2 MB 1.27×
        // (too small for the year's reads); the radar is the same at 8 MB, the OS caches the rest.
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", (), |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA synchronous = FULL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -8192;
             PRAGMA wal_autocheckpoint = 8192;",
        )?;
        // Query-planner stability: plans do not depend on bound values. Without it SQLite marks
        // statements for re-preparation on rebinding, and rusqlite's statement cache (which
        // clears bindings) then recompiles every cached statement on every use (measured: 12 %
        // of a simulated year).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let version = self.schema_version()?;
        self.refuse_newer(version)?;
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(version as usize)
        {
            let tx = self.db.begin(false)?;
            tx.execute_batch(sql)?;
            if *sql == migrations::V4_EVIDENCE {
                // Logs imported before the index existed: indexed once every migration has run
                // (the index's code writes the latest table), and each import covers the span
                // of its events.
                meta_set(&tx, "log_index_stale", "1")?;
                tx.execute_batch(
                    "INSERT INTO log_coverage (import_id, system, covers_from, covers_to)
                     SELECT import_id, system, oldest, newest + 1 FROM log_batches",
                )?;
            }
            if *sql == migrations::V7_LOG_IDS {
                records::fill_log_ids(&tx)?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        if meta_get(&self.db, "log_index_stale")?.is_some() {
            // Until it is done, every open tries again: a crash in between loses nothing.
            let tx = self.db.begin(true)?;
            // Another process may have done it while this one waited for the lock.
            if meta_get(&tx, "log_index_stale")?.is_some() {
                logindex::rebuild(&tx, crate::names::surname_keys)?;
                tx.execute("DELETE FROM meta WHERE key = 'log_index_stale'", ())?;
            }
            tx.commit()?;
        }
        self.init_secrets()
    }

    /// PostgreSQL's schema: made whole at the version of the SQLite migrations it matches
    /// ([`migrations::PG_SCHEMA`]), then each later migration, under the write lock so that two
    /// processes starting together migrate once.
    fn migrate_postgres(&mut self) -> Result<()> {
        // Most opens find the schema current: that is read without the write lock, so that a
        // page's connection never queues behind a long import.
        if let Some(v) = pg_version(&self.db)?
            && v >= migrations::MIGRATIONS.len() as i64
        {
            return self.refuse_newer(v);
        }
        let tx = self.db.begin(true)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let version = pg_version(&tx)?;
        if let Some(v) = version {
            self.refuse_newer(v)?;
        } else {
            tx.execute_batch(migrations::PG_SCHEMA)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [migrations::PG_SCHEMA_VERSION],
            )?;
        }
        let from = version.unwrap_or(migrations::PG_SCHEMA_VERSION);
        for (i, sql) in migrations::PG_MIGRATIONS.iter().enumerate() {
            let v = migrations::PG_SCHEMA_VERSION + 1 + i as i64;
            if v > from {
                tx.execute_batch(sql)?;
                if *sql == migrations::PG_V7_LOG_IDS {
                    records::fill_log_ids(&tx)?;
                }
                tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [v])?;
            }
        }
        tx.commit()
    }

    /// Refuses a database of a newer schema than this loggkoll knows.
    fn refuse_newer(&self, version: i64) -> Result<()> {
        let known = migrations::MIGRATIONS.len() as i64;
        if version > known {
            return Err(Error::runtime(format!(
                "database `{}` has schema version {version}, newer than this loggkoll ({known}); upgrade loggkoll",
                self.name()
            )));
        }
        Ok(())
    }

    /// The installation's secrets, made with the database: the link-signing key and the seed
    /// rounds derive their draws from.
    fn init_secrets(&mut self) -> Result<()> {
        if meta_get(&self.db, "link_secret")?.is_none()
            || meta_get(&self.db, "install_seed")?.is_none()
            || meta_get(&self.db, "person_key")?.is_none()
        {
            let tx = self.db.begin(true)?;
            let random_hex = || hex::encode(rand::RngExt::random::<[u8; 32]>(&mut rand::rng()));
            meta_get_or_init(&tx, "link_secret", random_hex)?;
            meta_get_or_init(&tx, "install_seed", random_hex)?;
            meta_get_or_init(&tx, "audit_key", random_hex)?;
            // The key of people's personnummer hashes (`store::roster`).
            meta_get_or_init(&tx, "person_key", random_hex)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A write transaction, taken at once (BEGIN IMMEDIATE) so that two writers queue on the
    /// busy timeout instead of failing midway.
    pub fn write(&mut self) -> Result<Tx<'_>> {
        self.db.begin(true)
    }

    /// Commits faster at the cost of durability of the last commits on power loss (not on a
    /// crash of the process): for simulations and demos only.
    pub fn relax_durability(&self) -> Result<()> {
        self.db.execute_batch(if self.db.is_postgres() {
            "SET synchronous_commit = off"
        } else {
            "PRAGMA synchronous = NORMAL"
        })
    }

    pub(crate) fn schema_version(&self) -> Result<i64> {
        if self.db.is_postgres() {
            return Ok(pg_version(&self.db)?.unwrap_or(0));
        }
        self.db.query_row("PRAGMA user_version", (), |r| r.get(0))
    }
}

/// PostgreSQL's schema version; `None` before the schema is made.
fn pg_version(db: &Db) -> Result<Option<i64>> {
    let made: bool = db.query_row(
        "SELECT to_regclass('schema_version') IS NOT NULL",
        (),
        |r| r.get(0),
    )?;
    if !made {
        return Ok(None);
    }
    db.query_row("SELECT MAX(version) FROM schema_version", (), |r| r.get(0))
}

/// A job only one process at a time does on a database (see [`Store::try_lock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Delivering the outbox.
    Sender = 0,
    /// Importing the logs inbox.
    Inbox = 1,
}

impl Job {
    /// The key of its PostgreSQL session lock, per organisation schema.
    fn pg_key(self) -> &'static str {
        match self {
            Job::Sender => "hashtext('loggkoll-sender'), hashtext(current_schema())",
            Job::Inbox => "hashtext('loggkoll-inbox'), hashtext(current_schema())",
        }
    }

    /// The lock file's suffix beside an SQLite database.
    fn suffix(self) -> &'static str {
        match self {
            Job::Sender => ".sender",
            Job::Inbox => ".inbox",
        }
    }
}

/// Whether there is a database at `location` to read: a file that exists, or a PostgreSQL URL
/// (whose server is asked when it is opened).
pub fn exists(location: &Path) -> bool {
    location.to_str().is_some_and(pg::is_url) || location.is_file()
}

pub use crate::location::display_location;

/// A value of the `meta` table.
pub fn meta_get(conn: &Db, key: &str) -> Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// A read-only connection to the database at `path` (which must exist): for looking without
/// changing, not even the journal.
pub fn read_only(path: &std::path::Path) -> Result<Db> {
    if let Some(url) = path.to_str().filter(|p| pg::is_url(p)) {
        let db = Db::postgres(pg::Conn::connect(url)?);
        db.execute_batch("SET default_transaction_read_only = on")?;
        return Ok(db);
    }
    Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map(Db::sqlite)
    .map_err(|e| crate::Error::runtime(format!("cannot read `{}`: {e}", path.display())))
}

pub fn meta_set(conn: &Db, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The value of `key`, set to `make()` first when absent (in the caller's transaction).
pub(crate) fn meta_get_or_init(
    conn: &Db,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String> {
    if let Some(v) = meta_get(conn, key)? {
        return Ok(v);
    }
    let v = make();
    meta_set(conn, key, &v)?;
    Ok(v)
}

/// Opens (creating when needed) a file readable and writable by its owner only.
fn open_private(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| Error::runtime(format!("cannot open `{}`: {e}", path.display())))
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        return Err(Error::usage(format!(
            "cannot create database `{}`: folder `{}` does not exist",
            path.display(),
            parent.display()
        )));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::runtime(format!("cannot create database `{}`: {e}", path.display())))?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_is_private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            migrations::MIGRATIONS.len() as i64
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let journal: String = store
            .db
            .query_row("PRAGMA journal_mode", (), |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
        // A commit is on disk (ARCHITECTURE.md): one sync of the log per commit.
        let synchronous: i64 = store
            .db
            .query_row("PRAGMA synchronous", (), |r| r.get(0))
            .unwrap();
        assert_eq!(synchronous, 2, "synchronous = FULL");
        // Plans are stable, and no index is partial (a partial index would need the values).
        let lite = store.db.lite().expect("SQLite");
        assert!(
            lite.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
                .unwrap()
        );
        let partial: i64 = store
            .db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(partial, 0, "no partial index");
        drop(store);
        // Opening again runs nothing new and keeps the data.
        let store = Store::open(&path).unwrap();
        meta_set(&store.db, "k", "v").unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(meta_get(&store.db, "k").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn logs_imported_before_the_index_are_kept_narrowed_and_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // A database of the release before: the first three migrations and a log.
            let conn = Connection::open(&path).unwrap();
            for sql in &migrations::MIGRATIONS[..3] {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 3;
                 INSERT INTO log_imports (id, imported_at, file, digest, rows)
                     VALUES (1, '2027-02-01T08:00:00Z', 'old.csv', 'abc', 2);
                 INSERT INTO log_batches VALUES (1, 'treserva', 1, 2, 2, 1800000000, 1800000600, 2);
                 INSERT INTO access_log (id, import_id, system, log_id, at, user_id, user_name,
                     user_title, access_unit, subject_id, subject_unit, action, resource_type, purpose)
                 VALUES (1, 1, 'treserva', 'A1', 1800000000, 'tre1', 'Anna', 'Usk', 'EN1',
                         '191212121212', 'EN1', 'Läsa', 'journal', 'vård'),
                        (2, 1, 'treserva', 'A2', 1800000600, 'tre1', 'Anna', 'Usk', 'EN1',
                         '194001011234', '', 'Skriva', '', '');",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let rows: Vec<(String, String, String, String)> = store
            .db
            .prepare_cached(
                "SELECT log_id, subject_id, subject_unit, action FROM access_log_text ORDER BY id",
            )
            .unwrap()
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    "A1".into(),
                    "191212121212".into(),
                    "EN1".into(),
                    "Läsa".into()
                ),
                (
                    "A2".into(),
                    "194001011234".into(),
                    "".into(),
                    "Skriva".into()
                ),
            ]
        );
        let digests = logindex::digests_of(&store.db, "treserva", "tre1", 0, i64::MAX).unwrap();
        assert_eq!(digests.len(), 1);
        assert_eq!(digests[0].entries.len(), 2);
        assert_eq!(digests[0].entries[0].client, 191_212_121_212);
        assert_eq!(
            digests[0].entries[1].client_unit, 0,
            "an empty unit is none"
        );
        assert_eq!(
            evidence::coverage(&store.db, "treserva").unwrap(),
            vec![(1_800_000_000, 1_800_000_601)]
        );
    }

    #[test]
    fn every_sqlite_migration_has_its_postgresql_twin() {
        assert_eq!(
            migrations::MIGRATIONS.len() as i64,
            migrations::PG_SCHEMA_VERSION + migrations::PG_MIGRATIONS.len() as i64,
            "a migration added for SQLite needs its twin in PG_MIGRATIONS"
        );
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let store = Store::open(&path).unwrap();
        store.db.execute_batch("PRAGMA user_version = 999").unwrap();
        drop(store);
        let err = Store::open(&path).err().unwrap();
        assert!(err.message.contains("newer"), "{}", err.message);
    }
}
