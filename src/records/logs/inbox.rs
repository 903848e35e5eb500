//! The inbox folder (`[logs] inbox`, `LOGGKOLL_LOGS_INBOX`): exports dropped there are imported
//! by `serve` and every `tick`, each all or nothing, before the tick draws its rounds.
//!
//! - Only whole files are taken. Names a writer uses while it writes are not looked at (names
//!   that begin with `.` or `~$`, or end in `.tmp`, `.part`, `.partial`, `.crdownload` or
//!   `.filepart`); a file is taken only when its size and modification time have stood still
//!   for the quiet period (`[logs] inbox_quiet`, default two minutes), and were the same across
//!   two looks a moment apart.
//! - A file is opened without following symbolic links and must be a regular file; it is moved
//!   into the private folder `.importing/` before it is read, and what was moved must be what
//!   was opened (device and inode). A link, a folder or a device is left where it is, with a
//!   note in `failed/`.
//! - An imported file moves to `done/` with `NAME.note.txt` saying the rows read, imported, already
//!   present and not kept. A refused file moves to `failed/` with `NAME.error.txt` beside it
//!   naming `FILE:LINE` and the field (or the limit it hit), and the contact (`[contact]`) is
//!   emailed that a file failed; the email names the file, never a client or a value from it.
//! - A file left in `.importing/` was being imported when the process died (killed, out of
//!   memory): on the next look it goes to `failed/` with its error file, unless its import was
//!   committed (then to `done/`), so that one bad file cannot stop `serve` again and again.
//! - A file imported before (the same SHA-256) goes to `done/` with `NAME.note.txt`, not to
//!   `failed/`.
//! - A failure of the machine (the database, the disk) moves nothing: the file goes back to the
//!   inbox and is tried again.

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
pub(crate) const SETTLE: Duration = Duration::from_millis(1500);

/// Whether a file name is one a writer uses while it writes.
fn is_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with("~$")
        || [".tmp", ".part", ".partial", ".crdownload", ".filepart"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// The files of `dir` that look complete: regular files (not links), not temporary names,
/// unchanged for `quiet` (by their modification time, on the machine's clock: the file's writer
/// knows no other) and across two looks `settle` apart. Returns them and those still changing.
fn complete_files(
    dir: &Path,
    settle: Duration,
    quiet: Duration,
) -> Result<(Vec<PathBuf>, Vec<String>)> {
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
            if is_temporary(&name) || meta.is_dir() {
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
    let now = std::time::SystemTime::now();
    let still = |m: &Option<std::time::SystemTime>| {
        m.and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= quiet)
    };
    let mut waiting = Vec::new();
    let mut candidates = Vec::new();
    for (path, size, modified) in first {
        if still(&modified) {
            candidates.push((path, size, modified));
        } else {
            waiting.push(file_name(&path));
        }
    }
    if candidates.is_empty() {
        return Ok((Vec::new(), waiting));
    }
    std::thread::sleep(settle);
    let second = look()?;
    let mut complete = Vec::new();
    for (path, size, modified) in candidates {
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

/// How long the inbox waits for a file to be whole.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// Between the two looks at a file's size and time.
    pub settle: Duration,
    /// How long a file must have stood still (`[logs] inbox_quiet`).
    pub quiet: Duration,
}

impl Timing {
    /// As configured: `quiet` from the configuration, [`SETTLE`] between the looks.
    pub(crate) fn quiet(quiet: Duration) -> Timing {
        Timing {
            settle: SETTLE.min(quiet),
            quiet,
        }
    }
}

/// Imports every complete file in `dir` (see the module documentation). `notify` is called
/// with the name of each refused file, in the transaction that records it, to queue the email.
///
/// One process at a time takes the inbox on a database ([`Store::try_lock`]): another's `serve`
/// or `tick` leaves it to the one at it.
pub(crate) fn run(
    store: &mut Store,
    dir: &Path,
    opts: &ImportOptions,
    timing: Timing,
    notify: &dyn Fn(&crate::store::Tx, &str, &str) -> Result<()>,
) -> Result<InboxReport> {
    Ok(store
        .locked(crate::store::Job::Inbox, |store| {
            run_locked(store, dir, opts, timing, notify)
        })?
        .unwrap_or_default())
}

/// The private folder a file is moved into while it is imported.
const IMPORTING: &str = ".importing";

fn run_locked(
    store: &mut Store,
    dir: &Path,
    opts: &ImportOptions,
    timing: Timing,
    notify: &dyn Fn(&crate::store::Tx, &str, &str) -> Result<()>,
) -> Result<InboxReport> {
    let mut report = InboxReport::default();
    if !dir.is_dir() {
        return Err(Error::runtime(format!(
            "logs inbox `{}` is not a folder",
            dir.display()
        )));
    }
    let importing = dir.join(IMPORTING);
    if let Ok(meta) = std::fs::symlink_metadata(&importing)
        && !meta.is_dir()
    {
        return Err(Error::runtime(format!(
            "logs inbox: `{}` is not a folder (a link, or a file): loggkoll keeps the file it imports there; remove it",
            importing.display()
        )));
    }
    let inbox = Inbox { dir, opts, notify };
    // Files whose import the process did not live to finish.
    for path in left_behind(&importing)? {
        let name = file_name(&path);
        if inbox.imported_before(store, &path, &name, &mut report)? {
            continue;
        }
        let text = format!(
            "{name} was being imported when loggkoll stopped (it was killed, ran out of memory or the machine went down), and nothing of it was imported.\n\nIt is set aside here so that it cannot stop loggkoll again. If the file is a whole export, put it in the inbox again to try once more; if it stops loggkoll again, export the log anew or ask for help.\n"
        );
        inbox.refuse(store, &path, &name, &text, &mut report)?;
    }
    let (files, waiting) = complete_files(dir, timing.settle, timing.quiet)?;
    report.waiting = waiting;
    for path in files {
        let name = file_name(&path);
        // Opened without following a link, then moved aside: what is read is what was opened.
        let taken = match take(&path, &importing) {
            Ok(taken) => taken,
            Err(Taken::Refused(why)) => {
                let text = format!(
                    "{name} was not taken: {why}. Nothing of it was read.\n\nPut the export itself in the inbox (a regular file, not a link).\n"
                );
                inbox.refuse(store, &path, &name, &text, &mut report)?;
                continue;
            }
            Err(Taken::Gone) => continue,
            Err(Taken::Failed(err)) => return Err(err),
        };
        if inbox.imported_before(store, &taken, &name, &mut report)? {
            continue;
        }
        match import(store, &taken, opts) {
            Ok(summary) => {
                let note = format!(
                    "{name} was imported (import {}, format {}): {} rows read, {} imported, {} already present (stored before with the same content), {} refused, {} past their system's retention and not kept.\n",
                    summary.import_id,
                    summary.format,
                    summary.rows,
                    summary.imported,
                    summary.already,
                    summary.refused,
                    summary.expired
                );
                file_away(&taken, &dir.join("done"), Some(("note.txt", &note)))?;
                report.imported.push((name, summary.imported));
            }
            Err(err) if err.kind == ErrorKind::Runtime => {
                // The machine's fault, not the file's: back to the inbox, tried again.
                let _ = std::fs::rename(&taken, &path);
                return Err(err);
            }
            Err(err) => {
                // Named where it was dropped, not where it was read.
                let message = err
                    .message
                    .replace(&taken.display().to_string(), &path.display().to_string());
                let text = format!(
                    "{name} was refused and nothing of it was imported:\n\n{message}\n\nFix the file (or the format in formats/) and put it in the inbox again.\n"
                );
                inbox.refuse(store, &taken, &name, &text, &mut report)?;
            }
        }
    }
    Ok(report)
}

/// What the inbox works with.
struct Inbox<'a> {
    dir: &'a Path,
    opts: &'a ImportOptions<'a>,
    notify: &'a dyn Fn(&crate::store::Tx, &str, &str) -> Result<()>,
}

impl Inbox<'_> {
    /// Moves a file imported before (by its digest) to `done/` with a note; whether it was.
    fn imported_before(
        &self,
        store: &mut Store,
        path: &Path,
        name: &str,
        report: &mut InboxReport,
    ) -> Result<bool> {
        let digest = sha256(path)?;
        let Some((earlier, at)) = crate::store::records::import_by_digest(store.db(), &digest)?
        else {
            return Ok(false);
        };
        let note = format!(
            "{name} was imported before (import {earlier}, {at}); nothing was imported again.\n"
        );
        file_away(path, &self.dir.join("done"), Some(("note.txt", &note)))?;
        report.already.push(name.to_string());
        Ok(true)
    }

    /// Moves a refused file to `failed/` with its error file, records it and tells the contact.
    fn refuse(
        &self,
        store: &mut Store,
        path: &Path,
        name: &str,
        text: &str,
        report: &mut InboxReport,
    ) -> Result<()> {
        let (_, note) = file_away(path, &self.dir.join("failed"), Some(("error.txt", text)))?;
        let note = note.map(|n| file_name(&n)).unwrap_or_default();
        let tx = store.write()?;
        audit::append(
            &tx,
            self.opts.now,
            &audit::Event {
                actor: self.opts.actor,
                event: "logs.inbox_failed",
                case_id: None,
                round_id: None,
                data: serde_json::json!({"file": name, "error_file": note}),
                personal: None,
            },
        )?;
        (self.notify)(&tx, name, &note)?;
        tx.commit()?;
        report.failed.push((name.to_string(), note));
        Ok(())
    }
}

/// The files left in `.importing/` (none when it does not exist).
fn left_behind(importing: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(importing) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::runtime(format!("{}: {e}", importing.display()))),
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .collect();
    found.sort();
    Ok(found)
}

/// Why a file was not taken.
enum Taken {
    /// Not a regular file (a link, a device, a folder): the reason.
    Refused(String),
    /// It went away meanwhile.
    Gone,
    /// The machine's failure.
    Failed(Error),
}

/// Opens `path` without following a link, checks that it is a regular file, and moves it into
/// `importing/`, checking that what was moved is what was opened. The path it has there.
fn take(path: &Path, importing: &Path) -> std::result::Result<PathBuf, Taken> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let failed =
        |e: std::io::Error| Taken::Failed(Error::runtime(format!("{}: {e}", path.display())));
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Taken::Gone),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Taken::Refused("it is a symbolic link".into()));
        }
        Err(e) => return Err(failed(e)),
    };
    let meta = file.metadata().map_err(failed)?;
    if !meta.is_file() {
        return Err(Taken::Refused("it is not a regular file".into()));
    }
    if meta.nlink() > 1 {
        return Err(Taken::Refused(
            "it has other names (hard links) through which it could change".into(),
        ));
    }
    if !importing.is_dir() {
        crate::private_files::create_dir(importing).map_err(failed)?;
    }
    let target = importing.join(file_name(path));
    match std::fs::rename(path, &target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Taken::Gone),
        Err(e) => return Err(failed(e)),
    }
    let moved = std::fs::symlink_metadata(&target).map_err(failed)?;
    if (moved.dev(), moved.ino()) != (meta.dev(), meta.ino()) || !moved.is_file() {
        // Swapped between the opening and the move: what was moved is not what was checked.
        let _ = std::fs::rename(&target, path);
        return Err(Taken::Refused(
            "it was replaced by another file while it was taken".into(),
        ));
    }
    Ok(target)
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
        let (complete, waiting) =
            complete_files(dir.path(), Duration::from_millis(400), Duration::ZERO).unwrap();
        writer.join().unwrap();
        assert!(complete.is_empty());
        assert_eq!(waiting, ["grow.csv"]);
        let (complete, _) =
            complete_files(dir.path(), Duration::from_millis(10), Duration::ZERO).unwrap();
        assert_eq!(complete, [path]);
    }
}
