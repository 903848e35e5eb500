//! The store's promises that do not depend on the engine, on SQLite and (with
//! `LOGGKOLL_TEST_POSTGRES`) on PostgreSQL: one process at a time holds a job's lock, a
//! transaction in which a statement failed keeps nothing on PostgreSQL, and a connection the
//! server closed is made again.

#[path = "support/backend.rs"]
mod backend;

use loggkoll::store::{Job, Store};

fn meta(store: &Store, key: &str) -> Option<String> {
    loggkoll::store::meta_get(store.db(), key).expect("meta")
}

#[test]
fn one_process_at_a_time_holds_a_jobs_lock() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = backend::location(dir.path(), "locks");
    let mut first = Store::at(&db).expect("the database");
    let mut second = Store::at(&db).expect("the database again");
    assert!(first.try_lock(Job::Sender).expect("lock"));
    assert!(
        !second.try_lock(Job::Sender).expect("lock"),
        "held by the first"
    );
    assert!(
        second.try_lock(Job::Inbox).expect("lock"),
        "the inbox's lock is another"
    );
    first.unlock(Job::Sender).expect("unlock");
    assert!(second.try_lock(Job::Sender).expect("lock"), "given back");
    // A store's lock goes with it (its connection, its lock file's handle).
    drop(second);
    assert!(first.try_lock(Job::Sender).expect("lock"));
    assert!(first.try_lock(Job::Inbox).expect("lock"));
    let ran = first.locked(Job::Inbox, |_| Ok(7)).expect("locked work");
    assert_eq!(ran, Some(7));
}

#[test]
fn a_transaction_whose_statement_failed_is_never_committed_half() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = backend::location(dir.path(), "half");
    let mut store = Store::at(&db).expect("the database");
    let postgres = store.db().is_postgres();
    let tx = store.write().expect("a transaction");
    tx.inspect()
        .execute("INSERT INTO meta (key, value) VALUES ('first', '1')", ())
        .expect("the first statement");
    assert!(
        tx.inspect()
            .execute("INSERT INTO meta (key, value) VALUES ('first', '2')", ())
            .is_err(),
        "a duplicate key"
    );
    let committed = tx.commit();
    if postgres {
        // PostgreSQL refuses the rest of a transaction after an error: it is rolled back, and
        // the commit says so instead of pretending.
        let err = committed.expect_err("a commit after a failed statement");
        assert!(err.message.contains("rolled back"), "{}", err.message);
        assert_eq!(meta(&store, "first"), None);
    } else {
        // SQLite undoes the failed statement alone, and the transaction goes on.
        committed.expect("SQLite commits the rest");
        assert_eq!(meta(&store, "first").as_deref(), Some("1"));
    }
    // The connection is usable again either way.
    let tx = store.write().expect("a new transaction");
    loggkoll::store::meta_set(&tx, "second", "2").expect("a statement");
    tx.commit().expect("committed");
    assert_eq!(meta(&store, "second").as_deref(), Some("2"));
}

#[test]
fn a_connection_the_server_closed_is_made_again() {
    let Some(_) = backend::postgres() else {
        return; // SQLite has no server to close it.
    };
    let dir = tempfile::tempdir().expect("a folder");
    let db = backend::location(dir.path(), "reopen");
    let mut store = Store::at(&db).expect("the database");
    let other = Store::at(&db).expect("another connection");
    let pid: i32 = store
        .db()
        .inspect()
        .one("SELECT pg_backend_pid()", ())
        .expect("the backend");
    let ended: bool = other
        .db()
        .inspect()
        .one("SELECT pg_terminate_backend(?1)", [pid])
        .expect("terminate");
    assert!(ended);
    // The client notices the closed socket as soon as it reads from it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let tx = match store.write() {
            Ok(tx) => tx,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "never reconnected: {e}"
                );
                continue;
            }
        };
        loggkoll::store::meta_set(&tx, "after", "yes").expect("a statement");
        tx.commit().expect("committed");
        break;
    }
    assert_eq!(meta(&other, "after").as_deref(), Some("yes"));
}
