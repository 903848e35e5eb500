//! PDF from the printable HTML, by Debian's Chromium (`chromium --headless --print-to-pdf`),
//! which prints with the documents' A4 print stylesheet. No Rust crate renders HTML and CSS
//! to PDF reliably, so loggkoll uses Chromium where it is installed and otherwise says so and
//! writes the HTML only: a PDF is never faked.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long Chromium may take for one document.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where Chromium is: `explicit` (`LOGGKOLL_CHROMIUM`, read by the caller) when given, else
/// the first of `chromium`, `chromium-browser`, `google-chrome` on `path` (`PATH`).
pub fn find_chromium(explicit: Option<&str>, path: Option<&str>) -> Option<PathBuf> {
    if let Some(e) = explicit.filter(|e| !e.is_empty()) {
        let p = PathBuf::from(e);
        return p.is_file().then_some(p);
    }
    let path = path?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Prints `html` to `pdf` with `chromium`; checks that what it wrote is a PDF.
pub fn print(chromium: &Path, html: &Path, pdf: &Path) -> Result<()> {
    let html = std::fs::canonicalize(html)
        .map_err(|e| Error::runtime(format!("{}: {e}", html.display())))?;
    // A fresh, empty profile for every document: Chromium locks its profile folder.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let profile = std::env::temp_dir().join(format!(
        "loggkoll-chromium-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(pdf);
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--no-pdf-header-footer",
        "--print-to-pdf-no-header",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--print-to-pdf={}", pdf.display()))
    .arg(format!("file://{}", html.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    // Chromium's sandbox refuses to start as root (containers, CI).
    #[cfg(unix)]
    if unsafe { libc::geteuid() } == 0 {
        cmd.arg("--no-sandbox");
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot start `{}`: {e}", chromium.display())))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            return Err(Error::runtime(format!(
                "`{}` did not print `{}` within {} s",
                chromium.display(),
                html.display(),
                TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(&profile);
    let head = std::fs::read(pdf).ok().map(|b| b.starts_with(b"%PDF-"));
    if status.success() && head == Some(true) {
        Ok(())
    } else {
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut stderr);
        }
        let _ = std::fs::remove_file(pdf);
        Err(Error::runtime(format!(
            "`{}` did not print a PDF of `{}` ({status}): {}",
            chromium.display(),
            html.display(),
            stderr.lines().last().unwrap_or("no message")
        )))
    }
}
