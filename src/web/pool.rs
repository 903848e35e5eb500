//! A small pool of connections to the database for the pages: reads (WAL lets them run while
//! the engine writes) and the web layer's own short writes (sessions, failed logins). A
//! connection is opened like the engine's own (`Store::open`: busy timeout, WAL, foreign keys)
//! and kept for reuse; the number in use at once is bounded by the caller's semaphore.

use crate::Result;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Mutex;

pub(crate) struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    max_idle: usize,
}

impl Pool {
    pub(crate) fn new(path: PathBuf, max_idle: usize) -> Pool {
        Pool {
            path,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// An idle connection, or a new one.
    pub(crate) fn get(&self) -> Result<Store> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(store) => Ok(store),
            None => Store::at(&self.path),
        }
    }

    /// Returns a connection for reuse (closed when the pool is full).
    pub(crate) fn put(&self, store: Store) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle && store.db().is_idle() {
            idle.push(store);
        }
    }
}
