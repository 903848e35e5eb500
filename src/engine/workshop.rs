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
use serde_json::{Value, json};
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
        /// How many other versions were published between the edit's start and `by`'s.
        earlier: usize,
    },
    /// A new routine's file exists already.
    Exists(PathBuf),
    /// The edit changes the routine's id (make a copy instead).
    IdChanged { was: String, now: String },
    /// States that open cases are in are gone: publish only when confirmed.
    NeedsConfirmation(Vec<Diagnostic>),
}

impl Refused {
    /// The refusal of a text with errors: its errors (the warnings left out).
    fn invalid(diagnostics: Vec<Diagnostic>) -> Refused {
        Refused::Invalid(
            diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        )
    }
}

/// What was published.
#[derive(Debug)]
pub struct Published {
    /// The routine's id, or the template's file (`mail/task.txt`).
    pub name: String,
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
    let routine_id = engine
        .routines
        .iter()
        .find(|r| r.path == req.path.display().to_string())
        .map(|r| r.id.clone());
    if let Some(refused) = stale(
        engine,
        req.path,
        req.base_hash,
        workshop::Kind::Routine,
        routine_id.as_deref(),
    )? {
        return Ok(Err(refused));
    }
    let checked = check(engine, req.dir, req.path, req.text)?;
    let Some(routine) = checked
        .routine
        .filter(|_| !checked.diagnostics.iter().any(Diagnostic::is_error))
    else {
        return Ok(Err(Refused::invalid(checked.diagnostics)));
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
    let seq = commit_file(engine, req.path, req.text, |tx| {
        if let Some(p) = &previous {
            super::register(tx, p, now)?;
        }
        super::register(tx, &routine, now)?;
        workshop::publish(
            tx,
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
        audit::append(
            tx,
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
        )
    })?;
    let published = Published {
        name: routine.id.clone(),
        hash: routine.hash.clone(),
        seq,
    };
    match engine.routines.iter_mut().find(|r| r.id == routine.id) {
        Some(r) => *r = routine,
        None => engine.routines.push(routine),
    }
    Ok(Ok(published))
}

/// The refusal when the file at `path` is not the text the edit started from (`base`; none: a
/// new file, which must not exist), naming who published the text on disk when someone did.
fn stale(
    engine: &Engine,
    path: &Path,
    base: Option<&str>,
    kind: workshop::Kind,
    name: Option<&str>,
) -> Result<Option<Refused>> {
    let on_disk = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::runtime(format!(
                "cannot read `{}`: {e}",
                path.display()
            )));
        }
    };
    let Some(base) = base else {
        return Ok(on_disk.map(|_| Refused::Exists(path.to_path_buf())));
    };
    let disk_hash = on_disk.as_deref().map(hash_of);
    if disk_hash.as_deref() == Some(base) {
        return Ok(None);
    }
    let by = match (&disk_hash, name) {
        (Some(h), Some(name)) => workshop::published_as(engine.store.db(), kind, name, h)?,
        _ => None,
    };
    let earlier = match (&by, name) {
        (Some(by), Some(name)) => {
            let history = workshop::history(engine.store.db(), kind, name)?;
            let start = history.iter().rposition(|v| v.hash == base);
            let end = history.iter().rposition(|v| v.hash == by.hash);
            match (start, end) {
                (Some(a), Some(b)) if a < b => history[a + 1..b]
                    .iter()
                    .filter(|v| v.actor.is_some())
                    .count(),
                _ => 0,
            }
        }
        _ => 0,
    };
    Ok(Some(Refused::Stale {
        disk: on_disk,
        by,
        earlier,
    }))
}

/// Writes `text` to `path` as `record` commits: the text beside the file first (flushed), then
/// `record` in a transaction, the rename over the file, the commit. A failed rename rolls the
/// record back; a crash between rename and commit leaves the file newer than the record (a
/// routine's version is then recorded when it is first used). Returns what `record` returned.
fn commit_file(
    engine: &mut Engine,
    path: &Path,
    text: &str,
    record: impl FnOnce(&crate::store::Db) -> Result<i64>,
) -> Result<i64> {
    let temp = temp_beside(path);
    write_synced(&temp, text.as_bytes())?;
    let before = std::fs::read(path).ok();
    let mut renamed = false;
    let done = (|| -> Result<i64> {
        let tx = engine.store.write()?;
        let out = record(&tx)?;
        std::fs::rename(&temp, path)
            .map_err(|e| Error::runtime(format!("cannot write `{}`: {e}", path.display())))?;
        renamed = true;
        if let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        tx.commit()?;
        Ok(out)
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&temp);
        if renamed {
            // The record went with the transaction: the file goes back to what it was, so that
            // what runs is never a version nobody is recorded to have published.
            match &before {
                Some(bytes) => {
                    let back = temp_beside(path);
                    if write_synced(&back, bytes).is_ok() {
                        let _ = std::fs::rename(&back, path);
                    }
                }
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
    done
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
pub(crate) fn drift(routine: &Routine) -> Option<String> {
    std::fs::read_to_string(&routine.path)
        .ok()
        .filter(|text| *text != routine.source)
}

/// The name of an email template's file without its folder and kind: `mail/task.txt` → `task`.
fn template_stem(file: &str) -> &str {
    file.trim_start_matches("mail/")
        .trim_end_matches(".txt")
        .trim_end_matches(".html")
}

/// What an email template (`mail/NAME.txt` or `.html`) is for: the purpose a routine names it
/// for (`templates:` of the routine or a state), or the one its name is the key of; a task
/// email when nothing says otherwise.
pub(crate) fn template_purpose<'r>(
    routines: impl IntoIterator<Item = &'r Routine>,
    file: &str,
) -> crate::templates::Purpose {
    use crate::templates::Purpose;
    let stem = template_stem(file);
    for r in routines {
        let names =
            std::iter::once(&r.templates).chain(r.graph.node_weights().map(|s| &s.templates));
        for t in names {
            for (name, purpose) in [
                (&t.task, Purpose::Task),
                (&t.reminder, Purpose::Reminder),
                (&t.escalation, Purpose::Escalation),
                (&t.inform, Purpose::Inform),
                (&t.summary_mail, Purpose::SummaryMail),
            ] {
                if name == stem {
                    return purpose;
                }
            }
        }
    }
    match stem {
        "digest" => Purpose::Digest,
        "inbox_failed" => Purpose::InboxFailed,
        "reminder" => Purpose::Reminder,
        "escalation" => Purpose::Escalation,
        "inform" => Purpose::Inform,
        "summary" => Purpose::SummaryMail,
        _ => Purpose::Task,
    }
}

/// An edited email template, checked and rendered on the sample case of its purpose.
#[derive(Debug)]
pub(crate) struct CheckedTemplate {
    pub diagnostics: Vec<Diagnostic>,
    /// The email as it would be sent, when it renders.
    pub preview: Option<crate::templates::Mail>,
}

/// Whether `file` names an email template the workshop edits: `mail/NAME.txt` or `.html`, with
/// a plain name.
pub(crate) fn is_mail_template(file: &str) -> bool {
    file.strip_prefix("mail/")
        .and_then(|n| n.strip_suffix(".txt").or_else(|| n.strip_suffix(".html")))
        .is_some_and(|stem| {
            !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// Checks template `file` as `text` with the rest of `engine`'s templates, as `check` would,
/// and renders the email on its purpose's sample values.
pub(crate) fn check_template(engine: &Engine, file: &str, text: &str) -> CheckedTemplate {
    let library = engine.templates.with_text(file, text);
    let purpose = template_purpose(&engine.routines, file);
    let stem = template_stem(file);
    let path = library.dir.join(file).display().to_string();
    let mut diagnostics: Vec<Diagnostic> = library
        .load_errors
        .iter()
        .filter(|d| d.path == path)
        .cloned()
        .collect();
    diagnostics.extend(
        library
            .check(purpose, stem)
            .into_iter()
            .filter(|d| d.path == path),
    );
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let preview = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        // The sample case, with this installation's own address and contact (none when none
        // is configured), as its emails would have them.
        let mut sample = purpose.sample();
        if let Value::Object(map) = &mut sample
            && map.contains_key("base_url")
        {
            map.insert("base_url".into(), json!(engine.config.base_url));
            map.insert("contact".into(), json!(engine.config.contact));
        }
        match library.render_mail(stem, &sample) {
            Ok(mail) => Some(mail),
            Err(err) => {
                // A variable the email does not have, say: every such email would fail. Placed
                // where it fails, when that is in this file.
                let placed = library
                    .render_problem(stem, &sample)
                    .filter(|d| d.path == path);
                diagnostics.push(placed.unwrap_or_else(|| {
                    let source = Source::new(path.clone(), text.to_string());
                    Diagnostic::new(
                        &source,
                        crate::routine::source::Span::new(1, 1, 1),
                        crate::routine::Severity::Error,
                        "template-render",
                        format!(
                            "the email cannot be written with this template: {}",
                            err.message
                        ),
                    )
                }));
                None
            }
        }
    };
    CheckedTemplate {
        diagnostics,
        preview,
    }
}

/// A request to publish an email template.
#[derive(Debug, Clone)]
pub(crate) struct TemplateRequest<'a> {
    /// `mail/task.txt`.
    pub file: &'a str,
    pub text: &'a str,
    pub base_hash: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
}

/// Publishes an edited email template over the text it started from: written, recorded,
/// audited (`template.published`), and used by the next email.
pub(crate) fn publish_template(
    engine: &mut Engine,
    req: &TemplateRequest,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Published, Refused>> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refused::NoReason));
    }
    if !is_mail_template(req.file) {
        return Err(Error::usage(format!(
            "`{}` is not an email template",
            req.file
        )));
    }
    let path = engine.templates.dir.join(req.file);
    if let Some(refused) = stale(
        engine,
        &path,
        Some(req.base_hash),
        workshop::Kind::Template,
        Some(req.file),
    )? {
        return Ok(Err(refused));
    }
    let checked = check_template(engine, req.file, req.text);
    if checked.diagnostics.iter().any(Diagnostic::is_error) {
        return Ok(Err(Refused::invalid(checked.diagnostics)));
    }
    let hash = hash_of(req.text);
    let shown = path.display().to_string();
    let seq = commit_file(engine, &path, req.text, |tx| {
        workshop::publish(
            tx,
            &workshop::Publication {
                kind: workshop::Kind::Template,
                name: req.file,
                hash: &hash,
                base_hash: Some(req.base_hash),
                path: &shown,
                source: req.text,
                actor: req.actor,
                reason,
            },
            now,
        )?;
        audit::append(
            tx,
            now,
            &audit::Event {
                actor: req.actor,
                event: "template.published",
                case_id: None,
                round_id: None,
                data: serde_json::json!({"file": req.file, "hash": hash, "reason": reason}),
                personal: None,
            },
        )
    })?;
    engine.templates = engine.templates.with_text(req.file, req.text);
    Ok(Ok(Published {
        name: req.file.to_string(),
        hash,
        seq,
    }))
}
