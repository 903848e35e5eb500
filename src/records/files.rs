//! Writing the files of a case — protocols, letters, metadata — each registered in the store so
//! that the purge finds and deletes them wherever they were written; and the local times and
//! names documents show.

use super::pdf;
use crate::store::Db;
use crate::store::{self, records as db};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::{Path, PathBuf};

/// Where to make PDFs, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct Printer {
    /// Chromium, when installed.
    pub chromium: Option<PathBuf>,
}

impl Printer {
    /// Chromium as this machine has it: `LOGGKOLL_CHROMIUM`, else on the `PATH`.
    pub fn find() -> Printer {
        let explicit = std::env::var("LOGGKOLL_CHROMIUM").ok();
        let path = std::env::var("PATH").ok();
        Printer {
            chromium: pdf::find_chromium(explicit.as_deref(), path.as_deref()),
        }
    }
}

/// What writing a document produced.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Written {
    pub html: PathBuf,
    pub pdf: Option<PathBuf>,
    /// Why there is no PDF.
    pub no_pdf: Option<String>,
    /// Other files (metadata).
    pub other: Vec<PathBuf>,
}

impl Written {
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = vec![self.html.as_path()];
        out.extend(self.pdf.as_deref());
        out.extend(self.other.iter().map(PathBuf::as_path));
        out
    }
}

/// The folder of case `case_id` under `out` (created).
pub(crate) fn case_folder(out: &Path, case_id: &str) -> Result<PathBuf> {
    let dir = out.join(case_id);
    crate::private_files::create_dir(&dir)
        .map_err(|e| Error::runtime(format!("cannot create `{}`: {e}", dir.display())))?;
    Ok(dir)
}

/// Whether a file named `name` in the folder of case `case_id` is one this module writes there:
/// a document named after the case, its metadata, or the temporary file of either.
pub(crate) fn left_by_us(name: &str, case_id: &str) -> bool {
    name.contains(case_id) || name == METADATA || name.ends_with(".tmp")
}

/// The metadata file in an extract case's folder.
pub(crate) const METADATA: &str = "arende.json";

/// Writes `bytes` to `path` (through a temporary file, so a reader never sees half) and
/// registers it under `case_id` in the caller's transaction.
pub fn write(
    conn: &Db,
    case_id: &str,
    kind: &str,
    path: &Path,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    let tmp = path.with_extension("tmp");
    crate::private_files::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::runtime(format!("cannot write `{}`: {e}", path.display())))?;
    register(conn, case_id, kind, path, now)
}

pub(crate) fn register(
    conn: &Db,
    case_id: &str,
    kind: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    db::register_file(conn, case_id, kind, &absolute.display().to_string(), now)
}

/// A document of a case to write: `dir/name.html` (and `.pdf`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Document<'a> {
    pub case_id: &'a str,
    /// `protocol`, `extract_letter`.
    pub kind: &'a str,
    pub dir: &'a Path,
    pub name: &'a str,
    pub html: &'a str,
}

/// Writes the HTML document and, where Chromium is installed, its PDF.
pub(crate) fn write_document(
    conn: &Db,
    printer: &Printer,
    doc: &Document,
    now: DateTime<Utc>,
) -> Result<Written> {
    let html_path = doc.dir.join(format!("{}.html", doc.name));
    write(
        conn,
        doc.case_id,
        doc.kind,
        &html_path,
        doc.html.as_bytes(),
        now,
    )?;
    let mut written = Written {
        html: html_path.clone(),
        ..Written::default()
    };
    match &printer.chromium {
        None => {
            written.no_pdf = Some(
                "no PDF: Chromium is not installed (apt-get install chromium, or set LOGGKOLL_CHROMIUM)"
                    .into(),
            );
        }
        Some(chromium) => {
            // The HTML is the document; a Chromium that fails costs the PDF, said so, not it.
            let pdf_path = doc.dir.join(format!("{}.pdf", doc.name));
            match pdf::print(chromium, &html_path, &pdf_path).and_then(|()| {
                crate::private_files::restrict(&pdf_path).map_err(|e| {
                    Error::runtime(format!("cannot protect `{}`: {e}", pdf_path.display()))
                })
            }) {
                Ok(()) => {
                    register(
                        conn,
                        doc.case_id,
                        &format!("{}-pdf", doc.kind),
                        &pdf_path,
                        now,
                    )?;
                    written.pdf = Some(pdf_path);
                }
                Err(e) => written.no_pdf = Some(format!("no PDF: {e}")),
            }
        }
    }
    Ok(written)
}

/// `2027-01-04 13:00` in `tz`, from a stored instant; empty for none.
pub fn local(stored: Option<&str>, tz: Tz) -> String {
    stored
        .and_then(|s| store::parse_ts(s).ok())
        .map(|t| local_at(t, tz))
        .unwrap_or_default()
}

pub(crate) fn local_at(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// `2027-01-04` in `tz`, from a stored instant; empty for none.
pub fn local_date(stored: Option<&str>, tz: Tz) -> String {
    stored
        .and_then(|s| store::parse_ts(s).ok())
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A personal identity number as people write it: `ÅÅÅÅMMDD-NNNN`.
pub use crate::personnummer::written as personnummer;
