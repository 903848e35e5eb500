//! Where a test's database lives: a file in the test's folder, or, when
//! `LOGGKOLL_TEST_POSTGRES` names a PostgreSQL database (`postgres://user@host:port/db`), a
//! schema of its own there, so that the same tests run on both backends.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The PostgreSQL database the tests run on, when they do.
pub fn postgres() -> Option<String> {
    std::env::var("LOGGKOLL_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Runs `statements` on the test PostgreSQL server at `admin`, one at a time (`CREATE
/// DATABASE` runs outside a transaction).
pub fn sql(admin: &str, statements: &str) {
    let mut client = postgres::Client::connect(admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test PostgreSQL `{admin}`: {e}"));
    for statement in statements.split(';') {
        client
            .batch_execute(statement)
            .unwrap_or_else(|e| panic!("{statement}: {e:?}"));
    }
}

/// A new, empty database for a test: `dir/NAME.db`, or a fresh schema on the test PostgreSQL.
pub fn location(dir: &Path, name: &str) -> PathBuf {
    let Some(url) = postgres() else {
        return dir.join(format!("{name}.db"));
    };
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let schema = format!(
        "t{}_{}_{clean}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    // On a thread of its own: the client runs a runtime of its own, which may not start inside
    // an async test's.
    let (admin, sql) = (
        url.clone(),
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
    );
    std::thread::spawn(move || self::sql(&admin, &sql))
        .join()
        .expect("the test schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    PathBuf::from(format!("{url}{sep}options=-csearch_path%3D{schema}"))
}
