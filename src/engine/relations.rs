//! Importing what explains an access besides the log: care relationships and work shifts.
//! Each import is all or nothing and audited (file, rows, how many were new, a digest; never a
//! client). What they explain is `evidence::assess`.

use crate::roster::context_files::{self, Known};
use crate::store::{self, Store, relations::ContextImport};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::path::Path;

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Relations,
    Shifts,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Relations => "relations",
            Kind::Shifts => "shifts",
        }
    }
}

/// Imports the file at `path`: care relationships (of `system`, or every system) or shifts.
pub fn import_file(
    store: &mut Store,
    kind: Kind,
    path: &Path,
    system: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<ContextImport> {
    let file = path.display().to_string();
    let units: Vec<String> = store::roster::units(store.db())?.into_keys().collect();
    if units.is_empty() {
        return Err(Error::bad_input(format!(
            "{file}: the roster has no units yet: import the roster first (roster import), then the {}",
            kind.as_str()
        )));
    }
    if let Some(s) = system
        && let Err(message) = context_files::system(s)
    {
        return Err(Error::bad_input(format!("--system: {message}")));
    }
    let people = store::relations::known_people(store.db())?;
    let known = Known {
        units: &units,
        people: &people,
        tz,
    };
    let mut digest = Sha256::new();
    let tx_rows: (
        usize,
        Vec<context_files::Relation>,
        Vec<context_files::Shift>,
    ) = match kind {
        Kind::Relations => {
            let rows = context_files::parse_relations(path, &known)?;
            for r in &rows {
                digest.update(
                    format!(
                        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{:?}\n",
                        r.client, r.unit, r.person, r.kind, r.from, r.to
                    )
                    .as_bytes(),
                );
            }
            (rows.len(), rows, Vec::new())
        }
        Kind::Shifts => {
            let rows = context_files::parse_shifts(path, &known)?;
            for s in &rows {
                digest.update(
                    format!(
                        "{}\u{1f}{}\u{1f}{}\u{1f}{}\n",
                        s.person,
                        s.unit,
                        s.start.timestamp(),
                        s.end.timestamp()
                    )
                    .as_bytes(),
                );
            }
            (rows.len(), Vec::new(), rows)
        }
    };
    let (rows, relations, shifts) = tx_rows;
    if rows == 0 {
        return Err(Error::bad_input(format!(
            "{file}: the file has no rows; nothing was imported"
        )));
    }
    let digest = hex::encode(digest.finalize());
    let system = system.unwrap_or("");
    let tx = store.write()?;
    let mut import = store::relations::insert_import(
        &tx,
        kind.as_str(),
        &file,
        system,
        actor,
        now,
        rows,
        &digest,
    )?;
    let added = match kind {
        Kind::Relations => store::relations::upsert_relations(&tx, import.id, system, &relations)?,
        Kind::Shifts => store::relations::upsert_shifts(&tx, import.id, &shifts)?,
    };
    store::relations::set_added(&tx, &mut import, added)?;
    store::audit::append(
        &tx,
        now,
        &store::audit::Event {
            actor,
            event: match kind {
                Kind::Relations => "relations.imported",
                Kind::Shifts => "shifts.imported",
            },
            case_id: None,
            round_id: None,
            data: serde_json::json!({
                "import": import.id,
                "file": file,
                "system": system,
                "rows": rows,
                "added": added,
                "digest": digest,
            }),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(import)
}
