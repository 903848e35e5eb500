//! The routine workshop: check an edited routine as `loggkoll check` would, and publish it.
//!
//! **The routines folder is the source of truth.** A publication writes the file atomically
//! (a new file beside it, flushed, renamed over it) and records the version in the database
//! (`publications`, `routine_versions`) with who, when and why, in one transaction with its audit
//! entry; the engine then runs the new version for new cases and rounds from its next tick, while
//! open cases finish on the version they started on. An edit is published only over the text it
//! started from: when the file changed since (another publication, or an edit on the server
//! behind the workshop's back), the publication is refused and the change shown, never
//! overwritten.

use super::Engine;
use crate::routine::{Context, Diagnostic, Routine, Source, loader};
use crate::store::{audit, workshop};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The hex SHA-256 of a text: a routine version's hash.
pub fn hash_of(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// An edited routine, checked.
#[derive(Debug)]
pub struct Checked {
    /// The routine, when it compiles.
    pub routine: Option<Routine>,
    /// Every diagnostic of the edited text (errors and warnings), in order of line.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks `text` as the file `path` of the routines folder `dir`, among the other files there as
/// they are on disk (so that an id used twice is found), with the templates of `engine`, and
/// warns of states removed that open cases are in.
pub fn check(engine: &Engine, dir: &Path, path: &Path, text: &str) -> Result<Checked> {
    let shown = path.display().to_string();
    let mut sources = Vec::new();
    for file in loader::find(&[dir.to_path_buf()])? {
        if file != path {
            sources.push(loader::read(&file)?);
        }
    }
    // The edited text last: an id used twice is reported on the later file, the edit.
    sources.push(Source::new(shown.clone(), text.to_string()));
    let set = loader::compile_sources(
        &sources,
        &Context {
            templates: Some(&engine.templates),
        },
    );
    let routine = set.routines.into_iter().find(|r| r.path == shown);
    let mut diagnostics: Vec<Diagnostic> = set
        .diagnostics
        .into_iter()
        .filter(|d| d.path == shown)
        .collect();
    if let Some(r) = &routine {
        diagnostics.extend(super::open_states_removed(
            engine.store.db(),
            std::slice::from_ref(r),
        ));
    }
    diagnostics.sort_by_key(|d| (d.line, d.column));
    Ok(Checked {
        routine,
        diagnostics,
    })
}

/// A request to publish.
#[derive(Debug, Clone)]
pub struct PublishRequest<'a> {
    /// The routines folder.
    pub dir: &'a Path,
    /// The file, in `dir`.
    pub path: &'a Path,
    pub text: &'a str,
    /// The hash of the text the edit started from; none for a new routine (the file must not
    /// exist).
    pub base_hash: Option<&'a str>,
    pub reason: &'a str,
    /// `web:NAME`.
    pub actor: &'a str,
    /// The author has seen the warnings that open cases' states are gone, and goes on.
    pub confirmed: bool,
}

/// Why a publication did not happen.
#[derive(Debug)]
pub enum Refused {
    /// No reason was given.
    NoReason,
    /// The text does not compile.
    Invalid(Vec<Diagnostic>),
    /// The file changed since the edit started: its text now, and who published it (none: an
    /// edit on the server, outside the workshop).
    Stale {
        disk: Option<String>,
        by: Option<workshop::Version>,
    },
    /// A new routine's file exists already.
    Exists(PathBuf),
    /// The edit changes the routine's id (make a copy instead).
    IdChanged { was: String, now: String },
    /// States that open cases are in are gone: publish only when confirmed.
    NeedsConfirmation(Vec<Diagnostic>),
}

/// What was published.
#[derive(Debug)]
pub struct Published {
    pub routine_id: String,
    pub hash: String,
    /// The audit entry.
    pub seq: i64,
}

/// Publishes `req` (see the module documentation): refused, or written, recorded and in force
/// in `engine`.
pub fn publish(
    engine: &mut Engine,
    req: &PublishRequest,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Published, Refused>> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refused::NoReason));
    }
    let on_disk = match std::fs::read_to_string(req.path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::runtime(format!(
                "cannot read `{}`: {e}",
                req.path.display()
            )));
        }
    };
    match (req.base_hash, &on_disk) {
        (None, Some(_)) => return Ok(Err(Refused::Exists(req.path.to_path_buf()))),
        (None, None) => {}
        (Some(base), disk) => {
            let disk_hash = disk.as_deref().map(hash_of);
            if disk_hash.as_deref() != Some(base) {
                let by = match &disk_hash {
                    Some(h) => engine
                        .routines
                        .iter()
                        .find(|r| r.path == req.path.display().to_string())
                        .map(|r| r.id.clone())
                        .map(|id| {
                            workshop::published_as(
                                engine.store.db(),
                                workshop::Kind::Routine,
                                &id,
                                h,
                            )
                        })
                        .transpose()?
                        .flatten(),
                    None => None,
                };
                return Ok(Err(Refused::Stale {
                    disk: on_disk.clone(),
                    by,
                }));
            }
        }
    }
    let checked = check(engine, req.dir, req.path, req.text)?;
    let Some(routine) = checked
        .routine
        .filter(|_| !checked.diagnostics.iter().any(Diagnostic::is_error))
    else {
        return Ok(Err(Refused::Invalid(
            checked
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        )));
    };
    let shown = req.path.display().to_string();
    let previous = engine.routines.iter().find(|r| r.path == shown).cloned();
    if let Some(p) = &previous
        && p.id != routine.id
    {
        return Ok(Err(Refused::IdChanged {
            was: p.id.clone(),
            now: routine.id.clone(),
        }));
    }
    let warnings: Vec<Diagnostic> = checked
        .diagnostics
        .into_iter()
        .filter(|d| d.code == "removes-open-state")
        .collect();
    if !warnings.is_empty() && !req.confirmed {
        return Ok(Err(Refused::NeedsConfirmation(warnings)));
    }
    // The new text beside the file, on disk before anything is recorded.
    let temp = temp_beside(req.path);
    write_synced(&temp, req.text.as_bytes())?;
    let recorded = (|| -> Result<i64> {
        let tx = engine.store.write()?;
        if let Some(p) = &previous {
            super::register(&tx, p, now)?;
        }
        super::register(&tx, &routine, now)?;
        workshop::publish(
            &tx,
            &workshop::Publication {
                kind: workshop::Kind::Routine,
                name: &routine.id,
                hash: &routine.hash,
                base_hash: req.base_hash,
                path: &shown,
                source: req.text,
                actor: req.actor,
                reason,
            },
            now,
        )?;
        let seq = audit::append(
            &tx,
            now,
            &audit::Event {
                actor: req.actor,
                event: "routine.published",
                case_id: None,
                round_id: None,
                data: serde_json::json!({
                    "routine": routine.id,
                    "version": routine.version,
                    "hash": routine.hash,
                    "previous": previous.as_ref().map(|p| p.hash.clone()),
                    "file": req.path.file_name().map(|n| n.to_string_lossy().into_owned()),
                    "reason": reason,
                }),
                personal: None,
            },
        )?;
        // The file takes the new text as the transaction commits: a failed rename rolls the
        // record back; a crash between the two leaves the file newer than the record, and the
        // version is recorded when it is first used.
        std::fs::rename(&temp, req.path)
            .map_err(|e| Error::runtime(format!("cannot write `{}`: {e}", req.path.display())))?;
        if let Some(dir) = req.path.parent() {
            sync_dir(dir);
        }
        tx.commit()?;
        Ok(seq)
    })();
    let seq = match recorded {
        Ok(seq) => seq,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    let published = Published {
        routine_id: routine.id.clone(),
        hash: routine.hash.clone(),
        seq,
    };
    match engine.routines.iter_mut().find(|r| r.id == routine.id) {
        Some(r) => *r = routine,
        None => engine.routines.push(routine),
    }
    Ok(Ok(published))
}

/// A temporary name beside `path` that the loader does not read (it ends in `.tmp`).
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let fail =
        |e: std::io::Error| Error::runtime(format!("cannot write `{}`: {e}", path.display()));
    let mut file = std::fs::File::create(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Flushes a folder's entries (a rename) to disk, where the platform can.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The text of `routine`'s file now, when it is not the text in force: an edit made on the
/// server that the engine has not read (none when the file is as read, or unreadable).
pub fn drift(routine: &Routine) -> Option<String> {
    std::fs::read_to_string(&routine.path)
        .ok()
        .filter(|text| *text != routine.source)
}
