//! The inbox folder (`[logs] inbox`, `LOGGKOLL_LOGS_INBOX`): exports dropped there are imported
//! by `serve` and every `tick`, each all or nothing, before the tick draws its rounds.
//!
//! - A file counts as complete when it was written under a temporary name and then renamed
//!   (names that begin with `.` or `~$`, or end in `.tmp`, `.part`, `.partial`, `.crdownload`
//!   or `.filepart`, are not looked at), or when its size and modification time are the same
//!   across two looks a moment apart.
//! - An imported file moves to `done/`. A refused file moves to `failed/` with `NAME.error.txt`
//!   beside it naming `FILE:LINE` and the field, and the contact (`[contact]`) is emailed that
//!   a file failed; the email names the file, never a client or a value from it.
//! - A file imported before (the same SHA-256) goes to `done/` with `NAME.note.txt`, not to
//!   `failed/`.
//! - A failure of the machine (the database, the disk) moves nothing: the file is tried again.

use super::{ImportOptions, import};
use crate::store::{Store, audit};
use crate::{Error, ErrorKind, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one look at the inbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InboxReport {
    /// Files imported: name and rows.
    pub imported: Vec<(String, u64)>,
    /// Files refused: name, and the error file beside them in `failed/`.
    pub failed: Vec<(String, String)>,
    /// Files that had been imported before.
    pub already: Vec<String>,
    /// Files still being written (their size changed between the looks).
    pub waiting: Vec<String>,
}

impl InboxReport {
    pub fn is_empty(&self) -> bool {
        self == &InboxReport::default()
    }
}

/// How long the inbox waits between its two looks at a file's size.
pub const SETTLE: Duration = Duration::from_millis(1500);

/// Whether a file name is one a writer uses while it writes.
fn is_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with("~$")
        || [".tmp", ".part", ".partial", ".crdownload", ".filepart"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// The files of `dir` that look complete: regular files, not temporary names, the same size
/// and modification time across two looks `settle` apart. Returns them and those still growing.
fn complete_files(dir: &Path, settle: Duration) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let look = || -> Result<Vec<(PathBuf, u64, Option<std::time::SystemTime>)>> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::runtime(format!("logs inbox `{}`: {e}", dir.display())))?;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if !meta.is_file() || is_temporary(&name) {
                continue;
            }
            found.push((path, meta.len(), meta.modified().ok()));
        }
        found.sort();
        Ok(found)
    };
    let first = look()?;
    if first.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    std::thread::sleep(settle);
    let second = look()?;
    let mut complete = Vec::new();
    let mut waiting = Vec::new();
    for (path, size, modified) in first {
        if second
            .iter()
            .any(|(p, s, m)| *p == path && *s == size && *m == modified)
        {
            complete.push(path);
        } else if second.iter().any(|(p, _, _)| *p == path) {
            waiting.push(file_name(&path));
        }
    }
    Ok((complete, waiting))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `dir/name`, or `dir/name-2`, `-3`, … when that is taken.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let plain = dir.join(name);
    if !plain.exists() {
        return plain;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(plain)
}

fn sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
    let mut hash = Sha256::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| Error::runtime(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hash.update(&chunk[..n]);
    }
    Ok(hex::encode(hash.finalize()))
}

/// Moves `path` into `dir/` (created private when missing), with a text file beside it when
/// `note` is given (`NAME.SUFFIX`). Returns the new path and the note's.
fn file_away(
    path: &Path,
    dir: &Path,
    note: Option<(&str, &str)>,
) -> Result<(PathBuf, Option<PathBuf>)> {
    if !dir.is_dir() {
        crate::private_files::create_dir(dir)
            .map_err(|e| Error::runtime(format!("{}: {e}", dir.display())))?;
    }
    let name = file_name(path);
    let target = free_name(dir, &name);
    std::fs::rename(path, &target).map_err(|e| {
        Error::runtime(format!(
            "cannot move {} to {}: {e}",
            path.display(),
            target.display()
        ))
    })?;
    let written = match note {
        Some((suffix, text)) => {
            let note_path = dir.join(format!("{}.{suffix}", file_name(&target)));
            crate::private_files::write(&note_path, text.as_bytes())
                .map_err(|e| Error::runtime(format!("{}: {e}", note_path.display())))?;
            Some(note_path)
        }
        None => None,
    };
    Ok((target, written))
}

/// Imports every complete file in `dir` (see the module documentation). `notify` is called
/// with the name of each refused file, in the transaction that records it, to queue the email.
///
/// One process at a time takes the inbox on a database ([`Store::try_lock`]): another's `serve`
/// or `tick` leaves it to the one at it.
pub fn run(
    store: &mut Store,
    dir: &Path,
    opts: &ImportOptions,
    settle: Duration,
    notify: &dyn Fn(&crate::store::Tx, &str, &str) -> Result<()>,
) -> Result<InboxReport> {
    Ok(store
        .locked(crate::store::Job::Inbox, |store| {
            run_locked(store, dir, opts, settle, notify)
        })?
        .unwrap_or_default())
}

fn run_locked(
    store: &mut Store,
    dir: &Path,
    opts: &ImportOptions,
    settle: Duration,
    notify: &dyn Fn(&crate::store::Tx, &str, &str) -> Result<()>,
) -> Result<InboxReport> {
    let mut report = InboxReport::default();
    if !dir.is_dir() {
        return Err(Error::runtime(format!(
            "logs inbox `{}` is not a folder",
            dir.display()
        )));
    }
    let (files, waiting) = complete_files(dir, settle)?;
    report.waiting = waiting;
    for path in files {
        let name = file_name(&path);
        let digest = sha256(&path)?;
        if let Some((earlier, at)) = crate::store::records::import_by_digest(store.db(), &digest)? {
            let note = format!(
                "{name} was imported before (import {earlier}, {at}); nothing was imported again.\n"
            );
            file_away(&path, &dir.join("done"), Some(("note.txt", &note)))?;
            report.already.push(name);
            continue;
        }
        match import(store, &path, opts) {
            Ok(summary) => {
                file_away(&path, &dir.join("done"), None)?;
                report.imported.push((name, summary.imported));
            }
            Err(err) if err.kind == ErrorKind::Runtime => return Err(err),
            Err(err) => {
                let text = format!(
                    "{name} was refused and nothing of it was imported:\n\n{}\n\nFix the file (or the format in formats/) and put it in the inbox again.\n",
                    err.message
                );
                let (_, note) = file_away(&path, &dir.join("failed"), Some(("error.txt", &text)))?;
                let note = note.map(|n| file_name(&n)).unwrap_or_default();
                let tx = store.write()?;
                audit::append(
                    &tx,
                    opts.now,
                    &audit::Event {
                        actor: opts.actor,
                        event: "logs.inbox_failed",
                        case_id: None,
                        round_id: None,
                        data: serde_json::json!({"file": name, "error_file": note}),
                        personal: None,
                    },
                )?;
                notify(&tx, &name, &note)?;
                tx.commit()?;
                report.failed.push((name, note));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_left_alone() {
        for name in [
            ".export.csv",
            "~$log.xlsx",
            "log.csv.part",
            "a.TMP",
            "x.crdownload",
        ] {
            assert!(is_temporary(name), "{name}");
        }
        for name in ["log.csv", "logg-2027-01.xlsx", "rapport.xml"] {
            assert!(!is_temporary(name), "{name}");
        }
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "x").unwrap();
        std::fs::write(dir.path().join("a-2.csv"), "x").unwrap();
        assert_eq!(free_name(dir.path(), "a.csv"), dir.path().join("a-3.csv"));
        assert_eq!(free_name(dir.path(), "b.csv"), dir.path().join("b.csv"));
    }

    #[test]
    fn a_growing_file_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grow.csv");
        std::fs::write(&path, "a").unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                std::fs::write(&path, "abcdef").unwrap();
            })
        };
        let (complete, waiting) = complete_files(dir.path(), Duration::from_millis(400)).unwrap();
        writer.join().unwrap();
        assert!(complete.is_empty());
        assert_eq!(waiting, ["grow.csv"]);
        let (complete, _) = complete_files(dir.path(), Duration::from_millis(10)).unwrap();
        assert_eq!(complete, [path]);
    }
}
