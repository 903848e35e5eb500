//! The store's one door to the database. [`Db`] is an open database: the engine and the front
//! ends hold it, pass it on and commit its transactions ([`Tx`]), but only `store::` runs SQL on
//! it (its statement methods are private to the store), so the compiler finds every statement
//! written anywhere else.
//!
//! The store's statements are written once, in SQL both backends read (`?1` placeholders,
//! `ON CONFLICT`, `RETURNING`, `CAST(… AS BIGINT)`), and bound and read through one set of values
//! ([`Value`], [`Param`], [`Col`]) whatever the backend.

use crate::{Error, Result};
use std::cell::{Cell, RefCell};

/// An open database.
pub struct Db {
    conn: Conn,
    /// Whether a [`Tx`] of ours is open (a second one would nest, which neither backend does).
    in_tx: Cell<bool>,
}

/// A value bound to a statement or read from a row, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> Value<'a> {
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_blob(self) -> Option<&'a [u8]> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }
}

/// What may be bound to a statement's placeholder.
pub trait Param {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_param!(i64, i32, u32, i16, u16, i8, u8);

impl Param for usize {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// A statement's parameters: `params![a, b]`, `[a]`, `()` or a slice of values.
pub trait Params {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R;
}

impl Params for () {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        f(&[])
    }
}

impl Params for &[Value<'_>] {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        f(self)
    }
}

impl<const N: usize> Params for &[Value<'_>; N] {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        f(&self[..])
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        let values: [Value<'_>; N] = std::array::from_fn(|i| self[i].value());
        f(&values)
    }
}

impl<T: Param> Params for &Vec<T> {
    fn with<R>(&self, f: impl FnOnce(&[Value<'_>]) -> R) -> R {
        let values: Vec<Value<'_>> = self.iter().map(Param::value).collect();
        f(&values)
    }
}

/// `params![a, b, …]`: a statement's parameters, of any [`Param`] types.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::store::db::Value<'_>] };
    ($($p:expr),+ $(,)?) => {
        &[$($crate::store::db::Param::value(&$p)),+] as &[$crate::store::db::Value<'_>]
    };
}
pub use crate::params;

/// What a column may be read as.
pub trait Col: Sized {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str>;
}

macro_rules! int_col {
    ($($t:ty),*) => {$(
        impl Col for $t {
            fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
                match v {
                    Value::Int(i) => <$t>::try_from(i).map_err(|_| "an integer out of range"),
                    _ => Err("an integer"),
                }
            }
        }
    )*};
}
int_col!(i64, i32, u32, u64, usize, i16, u16, u8);

impl Col for bool {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Int(i) => Ok(i != 0),
            _ => Err("a truth value"),
        }
    }
}

impl Col for f64 {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            _ => Err("a number"),
        }
    }
}

impl Col for String {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Text(s) => Ok(s.to_string()),
            _ => Err("text"),
        }
    }
}

impl Col for crate::sym::Sym {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Text(s) => Ok(crate::sym::Sym::new(s)),
            _ => Err("text"),
        }
    }
}

impl Col for Vec<u8> {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Blob(b) => Ok(b.to_vec()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            _ => Err("bytes"),
        }
    }
}

impl<T: Col> Col for Option<T> {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// An owned value, for rows read whole (`Db::inspect`).
#[derive(Clone, Debug, PartialEq)]
pub enum Owned {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Col for Owned {
    fn from_value(v: Value<'_>) -> std::result::Result<Self, &'static str> {
        Ok(match v {
            Value::Null => Owned::Null,
            Value::Int(i) => Owned::Int(i),
            Value::Real(f) => Owned::Real(f),
            Value::Text(s) => Owned::Text(s.to_string()),
            Value::Blob(b) => Owned::Blob(b.to_vec()),
        })
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        Error::runtime(format!("{}{err}", crate::error::DATABASE))
    }
}

/// The message of a query that found no row (see [`OptionalExtension`]).
const NO_ROWS: &str = "database: Query returned no rows";

fn no_rows() -> Error {
    Error::runtime(NO_ROWS)
}

/// `query_row(…).optional()`: no row is `None`, not an error.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.message == NO_ROWS => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(i),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn lite_value(v: rusqlite::types::ValueRef<'_>) -> Result<Value<'_>> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|_| Error::runtime("database: a text column holds invalid UTF-8"))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b),
    })
}

/// A row of a result.
pub enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: Col>(&self, i: usize) -> Result<T> {
        let v = self.get_ref(i)?;
        T::from_value(v).map_err(|wanted| {
            Error::runtime(format!(
                "database: column {i} holds {}, not {wanted}",
                kind_of(v)
            ))
        })
    }

    /// Column `i` borrowed, for reading large text and blobs without a copy.
    pub(in crate::store) fn get_ref(&self, i: usize) -> Result<Value<'_>> {
        match self {
            Row::Lite(r) => lite_value(r.get_ref(i)?),
            Row::Pg(r) => super::pg::value(r, i),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Row::Lite(r) => r.as_ref().column_count(),
            Row::Pg(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn kind_of(v: Value<'_>) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a real number",
        Value::Text(_) => "text",
        Value::Blob(_) => "bytes",
    }
}

/// A prepared statement (cached by the connection).
pub(crate) enum Stmt<'db> {
    Lite(rusqlite::CachedStatement<'db>),
    Pg(&'db RefCell<super::pg::Conn>, postgres::Statement),
}

impl<'db> Stmt<'db> {
    pub(in crate::store) fn execute(&mut self, p: impl Params) -> Result<usize> {
        match self {
            Stmt::Lite(s) => Ok(p.with(|v| s.execute(rusqlite::params_from_iter(v.iter())))?),
            Stmt::Pg(conn, s) => p.with(|v| conn.borrow_mut().execute(s, v)),
        }
    }

    /// The first row, mapped; an error when there is none (see [`OptionalExtension`]).
    pub(in crate::store) fn query_row<T>(
        &mut self,
        p: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut rows = self.query(p)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(no_rows()),
        }
    }

    /// Every row, mapped, as they are read.
    pub(in crate::store) fn query_map<T, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        p: impl Params,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(p)?,
            f,
        })
    }

    pub(in crate::store) fn query(&mut self, p: impl Params) -> Result<Rows<'_>> {
        match self {
            Stmt::Lite(s) => {
                p.with(|v| {
                    // Bind now: the values borrow from `p`, which does not outlive this call.
                    let wanted = s.parameter_count();
                    if v.len() != wanted {
                        return Err(rusqlite::Error::InvalidParameterCount(v.len(), wanted));
                    }
                    for (i, value) in v.iter().enumerate() {
                        s.raw_bind_parameter(i + 1, value)?;
                    }
                    Ok(())
                })?;
                Ok(Rows::Lite(s.raw_query()))
            }
            // PostgreSQL's rows are read whole: the connection is free again for the next
            // statement while they are walked.
            Stmt::Pg(conn, s) => {
                let rows = p.with(|v| conn.borrow_mut().query(s, v))?;
                Ok(Rows::Pg(rows, 0))
            }
        }
    }
}

/// The rows of a query, read one at a time.
pub enum Rows<'s> {
    Lite(rusqlite::Rows<'s>),
    Pg(Vec<postgres::Row>, usize),
}

impl Rows<'_> {
    /// The next row (a lending iterator: each row borrows the rows).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        Ok(match self {
            Rows::Lite(rows) => rows.next()?.map(Row::Lite),
            Rows::Pg(rows, at) => {
                *at += 1;
                rows.get(*at - 1).map(Row::Pg)
            }
        })
    }
}

/// The rows of a query, each mapped by a function.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

enum Conn {
    Lite(rusqlite::Connection),
    Pg(Box<RefCell<super::pg::Conn>>),
}

impl Db {
    pub(in crate::store) fn sqlite(lite: rusqlite::Connection) -> Db {
        Db {
            conn: Conn::Lite(lite),
            in_tx: Cell::new(false),
        }
    }

    pub(in crate::store) fn postgres(conn: super::pg::Conn) -> Db {
        Db {
            conn: Conn::Pg(Box::new(RefCell::new(conn))),
            in_tx: Cell::new(false),
        }
    }

    /// The SQLite connection, for its settings and the import's bulk writer.
    pub(in crate::store) fn lite(&self) -> Option<&rusqlite::Connection> {
        match &self.conn {
            Conn::Lite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.conn, Conn::Pg(_))
    }

    pub(in crate::store) fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        match &self.conn {
            Conn::Lite(c) => Ok(Stmt::Lite(c.prepare_cached(sql)?)),
            Conn::Pg(c) => {
                let stmt = c.borrow_mut().prepare(sql)?;
                Ok(Stmt::Pg(c, stmt))
            }
        }
    }

    pub(in crate::store) fn execute(&self, sql: &str, p: impl Params) -> Result<usize> {
        self.prepare_cached(sql)?.execute(p)
    }

    /// Inserts one row with `sql` (an `INSERT` without `RETURNING`) and gives the `id` it got
    /// ([`Db::prepare_insert`], [`Db::insert_with`]).
    pub(in crate::store) fn insert_id(&self, sql: &str, p: impl Params) -> Result<i64> {
        let mut stmt = self.prepare_insert(sql)?;
        self.insert_with(&mut stmt, p)
    }

    /// A single-row `INSERT` (`sql` without `RETURNING`) to run with [`Db::insert_with`]: on
    /// PostgreSQL it returns the new `id`; on SQLite it returns nothing, and the id is the last
    /// row id. In SQLite a `RETURNING` fills a temporary table and opens a statement journal,
    /// which made the outbox's insert twice as dear (issue 30).
    pub(in crate::store) fn prepare_insert(&self, sql: &str) -> Result<Stmt<'_>> {
        match &self.conn {
            Conn::Lite(_) => self.prepare_cached(sql),
            Conn::Pg(_) => self.prepare_cached(&format!("{sql} RETURNING id")),
        }
    }

    /// Runs `stmt` of [`Db::prepare_insert`] and gives the new row's `id`.
    pub(in crate::store) fn insert_with(&self, stmt: &mut Stmt<'_>, p: impl Params) -> Result<i64> {
        match &self.conn {
            Conn::Lite(c) => {
                stmt.execute(p)?;
                Ok(c.last_insert_rowid())
            }
            Conn::Pg(_) => stmt.query_row(p, |r| r.get(0)),
        }
    }

    /// A transaction's `BEGIN …` or `COMMIT`: on SQLite prepared once and kept (parsed anew
    /// each time it was 1 % of a durable answer).
    fn control(&self, sql: &str) -> Result<()> {
        match &self.conn {
            Conn::Lite(c) => {
                c.prepare_cached(sql)?.execute(())?;
                Ok(())
            }
            Conn::Pg(c) => c.borrow_mut().batch(sql),
        }
    }

    /// Statements without parameters, one after another, as written (no translation).
    pub(in crate::store) fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.conn {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.borrow_mut().batch(sql),
        }
    }

    pub(in crate::store) fn query_row<T>(
        &self,
        sql: &str,
        p: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }

    /// Every row of `sql` (without parameters), each given to `f` as it is read, in bounded
    /// memory: SQLite steps through them; PostgreSQL reads them through a cursor, 10,000 at a
    /// time, inside the caller's transaction. `f` may run statements of its own meanwhile.
    pub(in crate::store) fn each_row(
        &self,
        sql: &str,
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match &self.conn {
            Conn::Lite(_) => {
                let mut stmt = self.prepare_cached(sql)?;
                let mut rows = stmt.query(())?;
                while let Some(r) = rows.next()? {
                    f(&r)?;
                }
                Ok(())
            }
            Conn::Pg(c) => {
                if !self.in_tx.get() {
                    return Err(Error::runtime(
                        "database: reading rows by cursor needs a transaction",
                    ));
                }
                self.execute_batch(&format!(
                    "DECLARE loggkoll_rows NO SCROLL CURSOR FOR {}",
                    super::pg::translate(sql)
                ))?;
                loop {
                    let rows = c.borrow_mut().fetch("FETCH 10000 FROM loggkoll_rows")?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in &rows {
                        f(&Row::Pg(r))?;
                    }
                }
                self.execute_batch("CLOSE loggkoll_rows")
            }
        }
    }

    /// Whether no transaction is open on this connection.
    pub(crate) fn is_idle(&self) -> bool {
        !self.in_tx.get() && self.is_idle_connection()
    }

    /// Whether the connection itself is outside a transaction (SQLite's autocommit).
    fn is_idle_connection(&self) -> bool {
        match &self.conn {
            Conn::Lite(c) => c.is_autocommit(),
            Conn::Pg(c) => !c.borrow().failed(),
        }
    }

    /// Begins a transaction. A write transaction (`write`) takes the write lock at once, so that
    /// two writers queue instead of failing midway: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
    /// transaction-scoped advisory lock (one writer at a time across every process on the
    /// database, as on SQLite; readers never wait).
    pub(in crate::store) fn begin(&self, write: bool) -> Result<Tx<'_>> {
        if self.in_tx.get() {
            return Err(Error::runtime("database: a transaction is already open"));
        }
        if let Conn::Pg(c) = &self.conn {
            // A connection the server closed (a restart, a failover) is made again.
            c.borrow_mut().reopen_if_closed()?;
        }
        let begun = self.control(match (&self.conn, write) {
            (Conn::Lite(_), true) => "BEGIN IMMEDIATE",
            (Conn::Lite(_), false) => "BEGIN DEFERRED",
            (Conn::Pg(_), true) => super::pg::BEGIN_WRITE,
            // A reader's snapshot holds for the whole transaction, as on SQLite.
            (Conn::Pg(_), false) => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        });
        if let Err(e) = begun {
            // PostgreSQL's `BEGIN` may have run before the lock's wait failed (a timeout, a
            // cancel): leave no transaction open behind the error.
            self.end("ROLLBACK");
            return Err(e);
        }
        self.in_tx.set(true);
        Ok(Tx {
            db: self,
            open: true,
        })
    }

    /// Plain SQL on the database, outside the engine's rules: for the tests and benches only.
    /// It exists with the `inspect` feature, which the package's dev-dependency on itself turns
    /// on for `cargo test` and `cargo bench`; the program that is built and shipped has none.
    #[cfg(feature = "inspect")]
    pub fn inspect(&self) -> Inspect<'_> {
        self.raw()
    }

    /// [`Db::inspect`] for the store itself (`copy` reads the tables and their columns).
    pub(in crate::store) fn raw(&self) -> Inspect<'_> {
        Inspect { db: self }
    }
}

/// A transaction: committed by [`Tx::commit`], rolled back when dropped without.
pub struct Tx<'db> {
    db: &'db Db,
    open: bool,
}

impl Db {
    /// Ends a transaction with `sql` as best it can (the connection may have ended it already).
    fn end(&self, sql: &str) {
        self.in_tx.set(false);
        let _ = self.execute_batch(sql);
    }
}

impl Tx<'_> {
    /// Commits. When a statement of the transaction failed on PostgreSQL (which then refuses
    /// the rest and turns `COMMIT` into a rollback), or the commit itself fails, the transaction
    /// is rolled back and this says so: nothing is kept half.
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        if let Conn::Pg(c) = &self.db.conn
            && c.borrow().failed()
        {
            self.db.end("ROLLBACK");
            return Err(Error::runtime(
                "database: a statement of the transaction failed; the transaction was rolled back",
            ));
        }
        let committed = self.db.control("COMMIT");
        if committed.is_err() && !self.db.is_idle_connection() {
            self.db.end("ROLLBACK");
        }
        self.db.in_tx.set(false);
        committed
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves nothing to undo: the connection rolled back already.
            self.db.end("ROLLBACK");
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;

    fn deref(&self) -> &Db {
        self.db
    }
}

/// Plain SQL on a database (see [`Db::inspect`]).
pub struct Inspect<'db> {
    db: &'db Db,
}

impl<'db> Inspect<'db> {
    pub fn execute(&self, sql: &str, p: impl Params) -> Result<usize> {
        self.db.execute(sql, p)
    }

    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.db.execute_batch(sql)
    }

    pub fn query_row<T>(
        &self,
        sql: &str,
        p: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.db.query_row(sql, p, f)
    }

    /// One value: the first column of the first row.
    pub fn one<T: Col>(&self, sql: &str, p: impl Params) -> Result<T> {
        self.db.query_row(sql, p, |r| r.get(0))
    }

    pub fn rows<T>(
        &self,
        sql: &str,
        p: impl Params,
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.db.prepare_cached(sql)?.query_map(p, f)?.collect()
    }

    /// A statement to run more than once, or to read row by row.
    pub fn prepare(&self, sql: &str) -> Result<Prepared<'db>> {
        Ok(Prepared(self.db.prepare_cached(sql)?))
    }

    /// The database's tables, by name.
    pub fn tables(&self) -> Result<Vec<String>> {
        let mut tables = self.tables_in_order()?;
        tables.sort();
        Ok(tables)
    }

    /// The tables in the order they were made, so each after those it refers to.
    pub(crate) fn tables_in_order(&self) -> Result<Vec<String>> {
        self.column(
            if self.db.is_postgres() {
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid"
            } else {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                 ORDER BY rowid"
            },
            (),
        )
    }

    /// The columns of `table`, in order.
    pub fn columns(&self, table: &str) -> Result<Vec<String>> {
        if self.db.is_postgres() {
            self.column(
                "SELECT attname::text FROM pg_attribute
                 WHERE attrelid = to_regclass(?1) AND attnum > 0 AND NOT attisdropped
                 ORDER BY attnum",
                [table],
            )
        } else {
            self.column("SELECT name FROM pragma_table_info(?1)", [table])
        }
    }

    /// The first column of every row.
    pub fn column<T: Col>(&self, sql: &str, p: impl Params) -> Result<Vec<T>> {
        self.rows(sql, p, |r| r.get(0))
    }
}

/// A statement of [`Inspect::prepare`].
pub struct Prepared<'db>(Stmt<'db>);

impl Prepared<'_> {
    pub fn execute(&mut self, p: impl Params) -> Result<usize> {
        self.0.execute(p)
    }

    pub fn query_row<T>(
        &mut self,
        p: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.0.query_row(p, f)
    }

    pub fn query_map<T, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        p: impl Params,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        self.0.query_map(p, f)
    }
}
