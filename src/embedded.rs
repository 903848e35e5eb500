//! The shipped routines (with their guides) and templates, carried in the binary (`build.rs`).
//! Commands without `--routines`/`--templates` use `./routines` and `./templates` when present,
//! else these, written once to a folder of their own under the system's temporary folder (the
//! loader reads folders); `loggkoll init DIR` writes them out for editing.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// A content hash of every embedded file: the folder's name, so that a new binary never reads
/// an older one's files.
fn digest() -> String {
    let mut h = Sha256::new();
    for (path, bytes) in FILES {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(bytes);
    }
    hex::encode(&h.finalize()[..8])
}

/// The folder holding the embedded `routines/` and `templates/`, written on first use. A folder
/// found there is used only when it holds exactly the embedded files, byte for byte (the
/// temporary folder is shared: nobody else's routines are ever read); otherwise a fresh private
/// one is written.
pub(crate) fn folder() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "loggkoll-{}-{}",
        env!("CARGO_PKG_VERSION"),
        digest()
    ));
    if holds_exactly(&dir) {
        return Ok(dir);
    }
    // Written beside, then renamed into place: another process never sees half the files.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let scratch = dir.with_extension(format!("{}-{nanos}", std::process::id()));
    crate::private_files::create_dir(&scratch)
        .map_err(|e| Error::runtime(format!("{}: {e}", scratch.display())))?;
    write_all(&scratch).map_err(|e| e.context("the embedded routines and templates"))?;
    if !dir.exists() && std::fs::rename(&scratch, &dir).is_ok() && holds_exactly(&dir) {
        return Ok(dir);
    }
    // Someone else's folder by that name (or a race): use our own.
    Ok(scratch)
}

/// Whether `dir` holds exactly the embedded files with their contents.
fn holds_exactly(dir: &Path) -> bool {
    let mut found = Vec::new();
    list(dir, dir, &mut found);
    found.sort();
    let mut wanted: Vec<&str> = FILES.iter().map(|(p, _)| *p).collect();
    wanted.sort_unstable();
    found.len() == wanted.len()
        && found.iter().zip(&wanted).all(|(a, b)| a == b)
        && FILES
            .iter()
            .all(|(p, bytes)| std::fs::read(dir.join(p)).is_ok_and(|b| b == *bytes))
}

/// Every file under `dir`, relative to `root`, with `/`.
fn list(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Writes every embedded file under `dir` (creating folders).
fn write_all(dir: &Path) -> Result<()> {
    for (path, bytes) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::runtime(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(&target, bytes)
            .map_err(|e| Error::runtime(format!("{}: {e}", target.display())))?;
    }
    Ok(())
}

/// `loggkoll init DIR`: writes the embedded `routines/` and `templates/` into `dir` for editing,
/// refusing (with nothing written) when any of the files exists already. Returns the files.
pub(crate) fn init(dir: &Path) -> Result<Vec<PathBuf>> {
    let existing: Vec<String> = FILES
        .iter()
        .map(|(path, _)| dir.join(path))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if let Some(first) = existing.first() {
        return Err(Error::bad_input(format!(
            "`{first}` exists already{}; nothing was written (init never overwrites: pick an empty folder)",
            if existing.len() > 1 {
                format!(" (and {} more)", existing.len() - 1)
            } else {
                String::new()
            }
        )));
    }
    write_all(dir)?;
    Ok(FILES.iter().map(|(path, _)| dir.join(path)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_used_only_when_it_holds_exactly_the_embedded_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!holds_exactly(dir.path()));
        write_all(dir.path()).unwrap();
        assert!(holds_exactly(dir.path()));
        // A routine planted beside them.
        let planted = dir.path().join("routines/planted.yaml");
        std::fs::write(&planted, "id: planted\n").unwrap();
        assert!(!holds_exactly(dir.path()));
        std::fs::remove_file(&planted).unwrap();
        // One of them changed.
        let (path, _) = FILES
            .iter()
            .find(|(p, _)| p.ends_with(".yaml"))
            .expect("a routine");
        std::fs::write(dir.path().join(path), "id: changed\n").unwrap();
        assert!(!holds_exactly(dir.path()));
        assert!(FILES.iter().any(|(p, _)| *p == "templates/web/task.html"));
    }
}
