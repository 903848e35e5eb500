//! Importing the needs-and-risk analysis (*behovs- och riskanalys*, HSLF-FS 2016:40 4 kap.
//! 2 §): a new version of the whole analysis, all or nothing, audited; earlier versions are
//! kept. What the analysis means for an account is `evidence::needs`.

use crate::roster::needs_file::Need;
use crate::store::{self, Store};
use crate::{Error, Result};
use chrono::{DateTime, Utc};

/// Imports `needs` (read from `file`) as the analysis in force: all or nothing, audited.
pub(crate) fn import(
    store: &mut Store,
    needs: &[Need],
    file: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<store::rights::Version> {
    if needs.is_empty() {
        return Err(Error::bad_input(format!(
            "{file}: the file has no rows: an empty analysis would leave every unit without one; nothing was imported"
        )));
    }
    let tx = store.write()?;
    let version = store::rights::insert_version(&tx, file, actor, needs, now)?;
    let units: std::collections::BTreeSet<&str> = needs.iter().map(|n| n.unit.as_str()).collect();
    store::audit::append(
        &tx,
        now,
        &store::audit::Event {
            actor,
            event: "rights.imported",
            case_id: None,
            round_id: None,
            data: serde_json::json!({
                "version": version.id,
                "file": file,
                "rows": version.rows,
                "units": units.len(),
                "digest": version.digest,
            }),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(version)
}

/// Reads `path` (checked against the roster's units, decisions dated on or before today in
/// `tz`) and imports it as the analysis in force.
pub(crate) fn import_file(
    store: &mut Store,
    path: &std::path::Path,
    actor: &str,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<store::rights::Version> {
    let units: Vec<String> = store::rights::units(store.db())?
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    if units.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: the roster has no units yet: import the roster first (roster import), then the analysis",
            path.display()
        )));
    }
    let today = now.with_timezone(&tz).date_naive();
    let needs = crate::roster::needs_file::parse_needs(path, &units, today)?;
    import(store, &needs, &path.display().to_string(), actor, now)
}
