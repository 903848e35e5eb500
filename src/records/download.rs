//! The documents of a case made on request, for the overview and the task page: the protocol,
//! the extract letter and `arende.json`, as HTML or (where Chromium is installed) PDF. Nothing is
//! kept: each is rendered, printed in a private temporary folder when a PDF is asked for, handed
//! over, and recorded in the audit trail with who took it.

use super::files::Printer;
use super::{extract, pdf, protocol};
use crate::engine::{Engine, Refusal};
use crate::store::audit::{self, Event};
use crate::store::cases as db;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Protocol,
    ExtractLetter,
    /// `arende.json`: the case's facts for the records (every kind of case).
    Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
    Json,
    Csv,
}

impl Doc {
    /// The document and format a download's file name asks for (`protokoll.pdf`).
    pub fn parse(name: &str) -> Option<(Doc, Format)> {
        Some(match name {
            "protokoll.html" => (Doc::Protocol, Format::Html),
            "protokoll.pdf" => (Doc::Protocol, Format::Pdf),
            "loggutdrag.html" => (Doc::ExtractLetter, Format::Html),
            "loggutdrag.pdf" => (Doc::ExtractLetter, Format::Pdf),
            "arende.json" => (Doc::Metadata, Format::Json),
            _ => return None,
        })
    }

    fn kind(self) -> &'static str {
        match self {
            Doc::Protocol => "protocol",
            Doc::ExtractLetter => "extract_letter",
            Doc::Metadata => "metadata",
        }
    }

    /// The documents a case of `kind` has: the protocol and `arende.json` always, the letter
    /// for an extract.
    pub(crate) fn of_kind(kind: &str) -> &'static [Doc] {
        if kind == "extract" {
            &[Doc::Protocol, Doc::ExtractLetter, Doc::Metadata]
        } else {
            &[Doc::Protocol, Doc::Metadata]
        }
    }
}

/// `arende.json` of a case that is not an extract: what the records keep of it, beside its
/// protocol.
fn metadata(
    engine: &Engine,
    case: &db::CaseRow,
    files: &[String],
    now: DateTime<Utc>,
) -> serde_json::Value {
    let org = engine.org();
    json!({
        "arende": case.id,
        "rutin": case.routine_id,
        "typ": crate::routine::model::CaseKind::parse(&case.kind).map_or(case.kind.as_str(), |k| k.title_sv()),
        "organisation": engine.config.organisation,
        "enhet": {"id": case.unit_id, "namn": org.unit_name(&case.unit_id)},
        "system": case.system,
        "systems": case.systems,
        "granskad_anvandare": case.subject_person_id.as_ref().map(|p| json!({
            "id": p,
            "namn": org.person(p).map(|p| p.name.clone()),
            "konto": case.subject_account,
        })),
        "period": {"fran": case.window_start, "till": case.window_end},
        "anledning": case.reason,
        "oppnat": case.opened_at,
        "avslutat": case.closed_at,
        "resultat": case.result,
        "diarienummer": case.diary_number,
        "filer": files,
        "skapat": crate::store::ts(now),
    })
}

/// A document ready to hand over.
#[derive(Debug, Clone)]
pub(crate) struct Download {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// A document rendered, not yet handed over: a PDF is printed from it by [`finish`], away from
/// the engine (Chromium takes a second or two).
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    stem: String,
    text: String,
    format: Format,
}

impl Rendered {
    /// `text` (HTML, or JSON or CSV as they are) to hand over as `stem` with `format`'s
    /// extension; HTML asked for as [`Format::Pdf`] is printed by [`finish`].
    pub(crate) fn new(stem: String, text: String, format: Format) -> Rendered {
        Rendered { stem, text, format }
    }
}

/// Renders document `doc` of `case_id` for `format`, recorded in the audit trail as taken by
/// `actor`. A PDF without Chromium is refused before anything is made.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render(
    engine: &mut Engine,
    case_id: &str,
    doc: Doc,
    format: Format,
    printer: &Printer,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Rendered> {
    let case = db::require(engine.store.db(), case_id)?;
    protocol::require_details(&case)?;
    if doc == Doc::ExtractLetter && case.kind != "extract" {
        return Err(Refusal::NoLetter {
            case: case_id.to_string(),
        }
        .into());
    }
    if format == Format::Pdf && printer.chromium.is_none() {
        return Err(Refusal::NoChromium.into());
    }
    let (stem, text) = match doc {
        Doc::Protocol => (
            protocol::file_name(case_id),
            protocol::render(engine, case_id, now)?,
        ),
        Doc::ExtractLetter => (
            extract::file_name(case_id),
            extract::render(engine, &case, now)?.0,
        ),
        Doc::Metadata => {
            let meta = if case.kind == "extract" {
                let (_, values) = extract::render(engine, &case, now)?;
                let files = vec![
                    format!("{}.html", extract::file_name(case_id)),
                    format!("{}.html", protocol::file_name(case_id)),
                ];
                extract::metadata(&case, &values, &files, now)
            } else {
                let files = vec![format!("{}.html", protocol::file_name(case_id))];
                metadata(engine, &case, &files, now)
            };
            let text =
                serde_json::to_string_pretty(&meta).map_err(|e| Error::runtime(e.to_string()))?;
            (
                super::files::METADATA.trim_end_matches(".json").to_string(),
                text,
            )
        }
    };
    let extension = match format {
        Format::Html => "html",
        Format::Pdf => "pdf",
        Format::Json => "json",
        Format::Csv => "csv",
    };
    let tx = engine.store.write()?;
    audit::append(
        &tx,
        now,
        &Event {
            actor,
            event: "record.downloaded",
            case_id: Some(case_id),
            round_id: None,
            data: json!({"kind": doc.kind(), "file": format!("{stem}.{extension}")}),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(Rendered { stem, text, format })
}

/// The document to hand over: the rendered text, or its PDF printed by Chromium in a private
/// temporary folder of its own, removed when done.
pub(crate) fn finish(rendered: Rendered, printer: &Printer) -> Result<Download> {
    let Rendered { stem, text, format } = rendered;
    Ok(match format {
        Format::Html => Download {
            file_name: format!("{stem}.html"),
            content_type: "text/html; charset=utf-8",
            bytes: text.into_bytes(),
        },
        Format::Json => Download {
            file_name: format!("{stem}.json"),
            content_type: "application/json",
            bytes: text.into_bytes(),
        },
        Format::Csv => Download {
            file_name: format!("{stem}.csv"),
            content_type: "text/csv; charset=utf-8",
            bytes: text.into_bytes(),
        },
        Format::Pdf => {
            let Some(chromium) = &printer.chromium else {
                return Err(Refusal::NoChromium.into());
            };
            let dir = tempfile::Builder::new()
                .prefix("loggkoll-pdf-")
                .tempdir()
                .map_err(|e| Error::runtime(format!("a temporary folder for the PDF: {e}")))?;
            let html_path = dir.path().join(format!("{stem}.html"));
            let pdf_path = dir.path().join(format!("{stem}.pdf"));
            std::fs::write(&html_path, text.as_bytes())
                .map_err(|e| Error::runtime(format!("{}: {e}", html_path.display())))?;
            pdf::print(chromium, &html_path, &pdf_path)?;
            let bytes = std::fs::read(&pdf_path)
                .map_err(|e| Error::runtime(format!("{}: {e}", pdf_path.display())))?;
            Download {
                file_name: format!("{stem}.pdf"),
                content_type: "application/pdf",
                bytes,
            }
        }
    })
}
