//! `loggkoll migrate --from DB --to DB`: copies a whole installation into a new, empty database,
//! typically an SQLite file into PostgreSQL (`store::copy`). Nothing changes when it fails.

use crate::store::{self, Store};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The installation to copy: an SQLite file or a PostgreSQL URL.
    #[arg(long, value_name = "PATH|URL")]
    pub from: PathBuf,
    /// Where to: a new, empty database (`postgres://user@host/db`, or an SQLite file).
    #[arg(long, value_name = "URL|PATH")]
    pub to: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: &MigrateArgs) -> Result<u8> {
    let (from, to) = (
        store::display_location(&args.from),
        store::display_location(&args.to),
    );
    if !store::exists(&args.from) {
        return Err(Error::usage(format!("no database `{from}` to copy")));
    }
    if args.from == args.to {
        return Err(Error::usage(format!(
            "`--from` and `--to` are the same database `{from}`"
        )));
    }
    let source = Store::at(&args.from).map_err(|e| e.naming_database(&args.from))?;
    let target = Store::at(&args.to).map_err(|e| e.naming_database(&args.to))?;
    let moved = store::copy::copy(source.db(), target.db())
        .map_err(|e| e.context(format!("migrate `{from}` to `{to}`")))?;
    let rows: usize = moved.tables.iter().map(|t| t.rows).sum();
    if args.json {
        super::ops::print_json(&serde_json::json!({
            "from": from,
            "to": to,
            "rows": rows,
            "tables": moved.tables,
            "audit_entries": moved.audit_entries,
        }))?;
    } else {
        for t in &moved.tables {
            eprintln!("  {:<22} {:>9} rows", t.table, t.rows);
        }
        eprintln!(
            "copied {rows} rows in {} tables from `{from}` to `{to}`; the audit trail verifies there ({} entries)",
            moved.tables.len(),
            moved.audit_entries
        );
    }
    Ok(0)
}
