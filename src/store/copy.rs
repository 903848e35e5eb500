//! Moving a whole installation from one database to another (`loggkoll migrate`): every table,
//! row for row and with its ids, into an empty database of the same schema version, in one
//! transaction on the target. The source is read in one snapshot; the target's audit chain must
//! verify and every table hold the source's count of rows before the copy commits, so a move
//! lands whole or not at all.

use super::db::{Db, Owned, Param, Value};
use crate::{Error, Result};

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Copied {
    pub table: String,
    pub rows: usize,
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Moved {
    pub tables: Vec<Copied>,
    /// Entries of the audit trail verified on the target.
    pub audit_entries: u64,
}

/// Tables of the store's own bookkeeping, made by each database itself.
const OWN: &[&str] = &["schema_version"];

impl Param for Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Int(i) => Value::Int(*i),
            Owned::Real(f) => Value::Real(*f),
            Owned::Text(t) => Value::Text(t),
            Owned::Blob(b) => Value::Blob(b),
        }
    }
}

/// Copies everything in `from` into `to`, which must be empty but for its secrets (they are
/// replaced by the source's, so that links, the audit chain's key and personnummer hashes keep
/// working). Both must be at the same schema version (open both with `Store::at` first).
pub(crate) fn copy(from: &Db, to: &Db) -> Result<Moved> {
    let source = from.begin(false)?;
    let target = to.begin(true)?;
    let tables: Vec<String> = source
        .raw()
        .tables_in_order()?
        .into_iter()
        .filter(|t| !OWN.contains(&t.as_str()))
        .collect();
    let theirs = target.raw().tables()?;
    if let Some(missing) = tables.iter().find(|t| !theirs.contains(t)) {
        return Err(Error::usage(format!(
            "the target has no table `{missing}`: both databases must be of the same loggkoll version"
        )));
    }
    for table in tables.iter().filter(|t| *t != "meta") {
        let rows: i64 = target
            .raw()
            .one(&format!("SELECT COUNT(*) FROM {table}"), ())?;
        if rows > 0 {
            return Err(Error::usage(format!(
                "the target already holds data (table `{table}` has {rows} rows): migrate copies into a new, empty database"
            )));
        }
    }
    target.execute("DELETE FROM meta", ())?;
    let mut copied = Vec::new();
    for table in &tables {
        let columns = source.raw().columns(table)?;
        let list = columns.join(", ");
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let mut insert = target.prepare_cached(&format!(
            "INSERT INTO {table} ({list}) VALUES ({})",
            marks.join(", ")
        ))?;
        let mut n = 0;
        let mut values: Vec<Owned> = Vec::with_capacity(columns.len());
        source.each_row(&format!("SELECT {list} FROM {table}"), |row| {
            values.clear();
            for i in 0..columns.len() {
                values.push(row.get(i)?);
            }
            insert
                .execute(&values)
                .map_err(|e| e.context(format!("table `{table}`, row {}", n + 1)))?;
            n += 1;
            Ok(())
        })?;
        let landed: i64 = target
            .raw()
            .one(&format!("SELECT COUNT(*) FROM {table}"), ())?;
        if landed != n as i64 {
            return Err(Error::runtime(format!(
                "table `{table}`: {n} rows copied but {landed} on the target"
            )));
        }
        copied.push(Copied {
            table: table.clone(),
            rows: n,
        });
    }
    let verified = super::audit::verify(&target)?;
    if let Some(broken) = verified.broken {
        return Err(Error::runtime(format!(
            "the audit trail does not verify on the target (at {broken}); nothing was copied"
        )));
    }
    target.commit()?;
    drop(source);
    Ok(Moved {
        tables: copied,
        audit_entries: verified.entries,
    })
}
