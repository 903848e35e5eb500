//! Emails as `.eml` files in a folder (the `file://DIR` transport): one file per Message-ID,
//! written atomically, so a reader never sees half a message and sending the same message again
//! replaces the file instead of adding a second one.

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Longest file name stem kept as is; longer ones are cut and given a hash of the whole.
const MAX_STEM: usize = 150;

/// The file name for a Message-ID: the brackets dropped, letters, digits and `@ . _ - + =` kept,
/// every other byte written `%XX` (so two ids never share a file), `.eml` appended.
/// `<outbox-42.ab12@loggkoll>` gives `outbox-42.ab12@loggkoll.eml`.
pub fn file_name(message_id: &str) -> String {
    let id = message_id.trim_start_matches('<').trim_end_matches('>');
    let mut stem = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'@' | b'_' | b'-' | b'+' | b'=')
            // A leading dot would hide the file.
            || (b == b'.' && i > 0);
        if keep {
            stem.push(char::from(b));
        } else {
            stem.push_str(&format!("%{b:02X}"));
        }
    }
    if stem.len() > MAX_STEM {
        let hash = hex::encode(Sha256::digest(stem.as_bytes()));
        stem.truncate(MAX_STEM - 17);
        stem.push('-');
        stem.push_str(&hash[..16]);
    }
    stem + ".eml"
}

/// Writes `bytes` to `dir/name`, creating `dir` when missing: into a new temporary file in the
/// same folder, flushed to disk, then renamed over `name` — a rename within one file system is
/// atomic, so `dir/name` holds either the old or the new content, never a mix.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    crate::private_files::create_dir(dir)?;
    let target = dir.join(name);
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = crate::private_files::create_new(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &target)
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(dir);
    Ok(target)
}

/// How old a temporary file must be to count as left by a writer that was killed: a write
/// takes milliseconds.
pub const DEBRIS_AGE: Duration = Duration::from_secs(600);

/// Whether `name` is one of `write_atomically`'s temporary files.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp") && name.contains(".eml.")
}

/// Deletes the temporary files that writers killed mid-write left in `dir` — those older than
/// `DEBRIS_AGE` at `now` — and says how many went. A folder that is missing or unreadable has
/// none. File times are the file system's, so `now` is the real clock's, not a simulated one.
pub fn sweep_debris(dir: &Path, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        if !is_temporary(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= DEBRIS_AGE);
        if old && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Makes the rename itself durable. Where a folder cannot be opened or synced (Windows), the
/// rename is still atomic, only perhaps not yet on disk; that is no reason to fail the send.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}
