//! `logs import`: an access-log export (the format of `../shared/CLI.md`) streamed through
//! [`crate::tabular`] into the `access_log` table, every row validated, in one transaction: a
//! file with any bad row is refused whole, naming `FILE:LINE` and the field, and nothing
//! changes.
//!
//! What is an error and what is taken as it is:
//!
//! | field | refused | accepted as is |
//! |---|---|---|
//! | `log_id` | empty; stored before (this file or an earlier import) with other content, naming where | any other text; stored before with the same content: already present, not stored again |
//! | `event_time` | not RFC 3339 nor `YYYY-MM-DD HH:MM:SS` (or `T`, or without seconds); later than the import (`--now`) plus one hour | a local time is read in the configured zone (Europe/Stockholm): in the spring gap it is the first instant after, in the autumn fold the first |
//! | `source_system` | a system no routine and no retention rule knows (did-you-mean); empty without `--system`; another system than `--system` | `NPÖ`, `Npo`, … in any case (read as `npo`) |
//! | `user_id` | empty | an account that is not in the roster (former staff, other providers) |
//! | `user_name`, `user_title` | — | anything, empty too (the letter then says "okänd roll") |
//! | `access_unit_id` | empty | a unit that is not in the roster: NPÖ is read by other care providers, whose units are shown by their id |
//! | `subject_id` | not 12 digits (`ÅÅÅÅMMDDNNNN`, a `-` before the last four allowed) or blanks around them; no valid date from 1800 (co-ordination numbers add 60 to the day); birth number 000; a wrong check digit | empty in XML, where RIV-TA's `Patient` is optional: kept with no client |
//! | every field | a control character but tab; longer than [`FIELD_MAX`] bytes | — |
//! | `subject_unit_id`, `resource_type`, `purpose` | — | anything, empty too |
//! | `action` | not one of [`ACTIONS`] (any case; did-you-mean) | — |
//!
//! Each row keeps the retention of its system (years after the event: NPÖ 5, Treserva 2), so
//! that the purge can drop it; rows already past it are not kept (and counted). The same file
//! (by SHA-256) is refused a second time.

pub mod format;
pub(crate) mod inbox;
pub(crate) mod sources;
pub(crate) mod xlsx;

pub use crate::log_format::{ACTIONS, MAX_VALUE, action_code, action_word};
pub use crate::store::unix_ts;
use crate::store::{self, Store, audit, logindex};
use crate::tabular::{Column, Problem, Problems, Schema, Table, backticked, suggestion};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use format::{FileKind, LogFormat};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender};

/// The columns of an access-log export, in this order ([`Row::get_at`] reads them by index).
pub const LOG: Schema = Schema::new(&[
    Column::required("log_id"),
    Column::required("event_time"),
    Column::required("source_system"),
    Column::required("user_id"),
    Column::optional("user_name"),
    Column::optional("user_title"),
    Column::required("access_unit_id"),
    Column::required("subject_id"),
    Column::optional("subject_unit_id"),
    Column::required("action"),
    Column::optional("resource_type"),
    Column::optional("purpose"),
    Column::optional("subject_name"),
]);

const LOG_ID: usize = 0;
pub(crate) const EVENT_TIME: usize = 1;
pub(crate) const SOURCE_SYSTEM: usize = 2;
const USER_ID: usize = 3;
const USER_NAME: usize = 4;
const USER_TITLE: usize = 5;
const ACCESS_UNIT: usize = 6;
pub(crate) const SUBJECT_ID: usize = 7;
const SUBJECT_UNIT: usize = 8;
pub(crate) const ACTION: usize = 9;
const RESOURCE_TYPE: usize = 10;
const PURPOSE: usize = 11;
const SUBJECT_NAME: usize = 12;

/// The plain-Swedish wording of a stored action word.
pub(crate) fn action_sv(action: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(word, _)| *word == action)
        .map_or(action, |(_, sv)| sv)
}

/// The longest field stored (an id, a name, a unit, a purpose: RIV-TA allows 256 characters
/// for the longest). Longer is not a log's field, and would not fit a database's index.
pub(crate) const FIELD_MAX: usize = 1024;

/// How far in the future (past the import's `now`) an event may lie: clocks differ.
const FUTURE_SLACK_SECONDS: i64 = 3600;

/// One access as an export gives it: the fields of [`LOG`] by index, where it stands (the line
/// of a CSV or XML file, the row of a sheet), and the format that read it.
#[derive(Debug, Clone, Copy)]
pub struct LogRow<'a> {
    path: &'a str,
    line: u64,
    fields: [&'a str; 13],
    format: Option<&'a LogFormat>,
    /// `subject_id` as written, blanks around it kept (where the reader knows them).
    raw_subject: &'a str,
}

impl<'a> LogRow<'a> {
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Field `index` of [`LOG`].
    pub(crate) fn get_at(&self, index: usize) -> &'a str {
        self.fields.get(index).copied().unwrap_or("")
    }

    /// A problem with the value of our field `column`, naming the export's own column when a
    /// format gives it another name: ``FILE:LINE: field `event_time` (`Tidpunkt`): …``.
    pub fn problem(&self, column: &str, message: impl std::fmt::Display) -> Problem {
        let theirs = self
            .format
            .and_then(|f| f.column(format::field_index(column)?))
            .filter(|h| *h != column);
        let label = match theirs {
            Some(h) => format!("field `{column}` (`{h}`)"),
            None => format!("field `{column}`"),
        };
        Problem::new(self.path, self.line, format!("{label}: {message}"))
    }

    /// The format's `time_format`, when it has one.
    fn time_format(&self) -> Option<&'a str> {
        self.format.and_then(|f| f.time_format.as_deref())
    }
}

/// A reader of an export: its rows one at a time. Rows that cannot be read at all are pushed as
/// problems and skipped.
pub trait Rows {
    fn next_row(&mut self, problems: &mut Problems) -> Result<Option<LogRow<'_>>>;
}

/// What the import needs to know besides the file.
#[derive(Debug, Clone)]
pub struct ImportOptions<'a> {
    /// `--system`: the file is this system's export (rows with an empty `source_system` are).
    pub system: Option<&'a str>,
    /// The systems known, each with the years its rows are kept after the event.
    pub retention: &'a [(String, u32)],
    /// The zone local `event_time`s are read in.
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub actor: &'a str,
    /// The period the export covers (`--from`, `--to`): `[from, to)`; a row outside it is
    /// refused. Without it, each system's rows cover their first event to their last.
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// `--format`: the format of the file. Without it, one is picked by the file's extension
    /// and header among `formats` and our standard CSV.
    pub format: Option<&'a LogFormat>,
    /// The formats of `formats/*.yaml`.
    pub formats: &'a [LogFormat],
    /// The longest value read (a CSV line, a cell, an XML node; `[logs] max_value`): a longer
    /// one refuses the file at its place, in bounded memory.
    pub max_value: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemRows {
    pub system: String,
    pub rows: u64,
    pub oldest: String,
    pub newest: String,
    pub retention_years: u32,
    /// The period the import covers for the system, `[from, to)`.
    pub covers_from: String,
    pub covers_to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    pub file: String,
    /// Data rows read.
    pub rows: u64,
    /// Rows stored.
    pub imported: u64,
    /// Rows whose `log_id` was stored already with the same content (an overlapping export, or
    /// a row given twice): not stored again.
    pub already: u64,
    /// Rows refused (always 0 of an import that was made: one refused row refuses the file).
    pub refused: u64,
    /// Rows older than their system's retention: not kept.
    pub expired: u64,
    pub systems: Vec<SystemRows>,
    /// Earlier imports of the same system whose time span meets this file's: an overlapping
    /// export. Rows with the same system and `log_id` are shown once in letters.
    pub overlaps: Vec<crate::store::records::LogBatch>,
    /// What was taken with a doubt (a local time in the autumn fold), `FILE:LINE: …`; the first
    /// [`Warnings::SHOWN`].
    pub warnings: Vec<String>,
    /// How many such rows in all.
    pub warned: u64,
    /// Rows checked for a `log_id` given twice with different content (all but in a huge
    /// file: the first [`SeenIds::MAX`]).
    pub ids_checked: u64,
    /// The format that read the file (`standard`: our own CSV).
    pub format: String,
    /// The encoding the text was decoded from, when it was not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded_from: Option<String>,
    /// The file's SHA-256.
    pub digest: String,
}

/// Rows taken with a doubt, the first few kept word for word.
#[derive(Debug, Default)]
struct Warnings {
    shown: Vec<String>,
    count: u64,
}

impl Warnings {
    const SHOWN: usize = 20;

    fn push(&mut self, text: String) {
        self.count += 1;
        if self.shown.len() < Warnings::SHOWN {
            self.shown.push(text);
        }
    }
}

/// The `log_id`s of a file so far, each with a hash of its row and its line: one given twice
/// with different content is refused. Bounded: past [`SeenIds::MAX`] rows no more are kept.
#[derive(Debug, Default)]
struct SeenIds {
    /// Keyed by a hash already: no second hashing.
    rows: std::collections::HashMap<u64, (u64, u32), BuildPassThrough>,
    checked: u64,
}

/// FNV-1a over bytes: a cheap 64-bit hash for the `log_id` check (a million rows a second; the
/// keys come from one file and need no protection against chosen collisions beyond the bound).
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type BuildPassThrough = std::hash::BuildHasherDefault<PassThrough>;

impl SeenIds {
    const MAX: usize = 2_000_000;

    /// `Ok(true)` when the row repeats an earlier one of the file (the same id and content).
    fn check(&mut self, row: &LogRow, valid: &Valid) -> std::result::Result<bool, Problem> {
        use std::hash::{Hash, Hasher};
        let mut key = Fnv::default();
        (valid.system, valid.log_id.as_ref()).hash(&mut key);
        let key = key.finish();
        let mut content = Fnv::default();
        valid.at.hash(&mut content);
        for i in [
            USER_ID,
            ACCESS_UNIT,
            SUBJECT_ID,
            SUBJECT_UNIT,
            ACTION,
            RESOURCE_TYPE,
            PURPOSE,
        ] {
            row.get_at(i).hash(&mut content);
        }
        let content = content.finish();
        let line = u32::try_from(row.line()).unwrap_or(u32::MAX);
        match self.rows.get(&key) {
            Some((c, _)) if *c == content => Ok(true),
            Some((_, first)) => Err(row.problem(
                "log_id",
                format!(
                    "`{}` is given on line {first} too, with other content: one access, one log_id",
                    valid.log_id
                ),
            )),
            None => {
                if self.rows.len() < SeenIds::MAX {
                    self.rows.insert(key, (content, line));
                    self.checked += 1;
                }
                Ok(false)
            }
        }
    }
}

/// The retention rules of the log rows: the systems with a rule of their own
/// (`routine::analyzer::KNOWN_SYSTEMS`: NPÖ 5 years, Treserva 2), and the other systems the
/// routines cover, with the longest retention of the routines that cover them.
pub fn retention_rules(routines: &[crate::routine::Routine]) -> Vec<(String, u32)> {
    let mut rules: BTreeMap<String, u32> = crate::routine::analyzer::KNOWN_SYSTEMS
        .iter()
        .map(|(name, years, _)| (name.to_string(), *years))
        .collect();
    let known: Vec<&str> = crate::routine::analyzer::KNOWN_SYSTEMS
        .iter()
        .map(|(n, _, _)| *n)
        .collect();
    for r in routines {
        for s in &r.systems {
            if !known.contains(&s.as_str()) {
                let e = rules.entry(s.clone()).or_insert(0);
                *e = (*e).max(r.retention_for(std::slice::from_ref(s)));
            }
        }
    }
    rules.into_iter().collect()
}

/// Imports the file at `path` (see the module documentation), read by `opts.format` or by
/// the format its extension and header say.
pub fn import(store: &mut Store, path: &Path, opts: &ImportOptions) -> Result<ImportSummary> {
    let name = path.display().to_string();
    let open = || match std::fs::File::open(path) {
        Ok(file) => Ok(file),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::bad_input(format!("{name}: no such file")))
        }
        Err(err) => Err(Error::runtime(format!("{name}: {err}"))),
    };
    let kind = FileKind::of_path(path);
    let format: Option<&LogFormat> = match opts.format {
        Some(f) => Some(f),
        None => match kind {
            Some(FileKind::Xml) => {
                match sources::sniff_xml(open()?, opts.formats, opts.max_value) {
                    Ok(f) => Some(f),
                    Err(message) if opts.formats.iter().any(|f| f.file == FileKind::Xml) => {
                        return Err(Error::bad_input(format!("{name}: {message}")));
                    }
                    Err(_) => {
                        return Err(Error::usage(format!(
                            "{name}: no format reads xml files: add one to formats/ or give --format PATH"
                        )));
                    }
                }
            }
            Some(FileKind::Xlsx) => {
                let mut fitting = opts.formats.iter().filter(|f| f.file == FileKind::Xlsx);
                match (fitting.next(), fitting.next()) {
                    (Some(f), None) => Some(f),
                    (Some(_), Some(_)) => Some(pick_xlsx(path, opts.formats, opts.max_value)?),
                    (None, _) => None,
                }
            }
            _ => {
                let (input, _) = sources::decoded(open()?, None)?;
                match sources::sniff_csv(&name, input, opts.formats)? {
                    Ok(found) => found,
                    Err(message) => return Err(Error::bad_input(format!("{name}: {message}"))),
                }
            }
        },
    };
    let standard;
    let format = match format {
        Some(f) => f,
        None => {
            standard = LogFormat::standard();
            if kind == Some(FileKind::Xlsx) {
                let mut f = standard.clone();
                f.file = FileKind::Xlsx;
                f.path = "(our columns)".into();
                return import_xlsx(store, path, &f, opts);
            }
            &standard
        }
    };
    match format.file {
        FileKind::Xlsx => import_xlsx(store, path, format, opts),
        FileKind::Xml => {
            let hash = Mutex::new(Sha256::new());
            let hashing = Hashing {
                inner: open()?,
                hash: &hash,
            };
            // The reader buffers below its bound on a node's length.
            let rows = sources::XmlRows::new(&name, hashing, format, opts.max_value);
            import_rows(
                store,
                &name,
                rows,
                Problems::new(),
                opts,
                format,
                None,
                || hash_of(&hash),
            )
        }
        FileKind::Csv => {
            let hash = Mutex::new(Sha256::new());
            let hashing = Hashing {
                inner: open()?,
                hash: &hash,
            };
            let (input, decoded_from) = sources::decoded(hashing, format.encoding)?;
            let mut problems = Problems::new();
            let digest = || hash_of(&hash);
            if format.is_standard() {
                let Some(mut table) =
                    Table::from_reader(name.as_str(), input, &LOG, &mut problems)?
                else {
                    return Err(problems.into_error());
                };
                table.set_max_record(opts.max_value);
                let rows = sources::StandardCsv { table };
                return import_rows(
                    store,
                    &name,
                    rows,
                    problems,
                    opts,
                    format,
                    decoded_from,
                    digest,
                );
            }
            let Some(rows) =
                sources::FormatCsv::new(&name, input, format, opts.max_value, &mut problems)?
            else {
                return Err(problems.into_error());
            };
            import_rows(
                store,
                &name,
                rows,
                problems,
                opts,
                format,
                decoded_from,
                digest,
            )
        }
    }
}

/// The xlsx format whose columns the workbook's header has.
fn pick_xlsx<'f>(path: &Path, formats: &'f [LogFormat], limit: usize) -> Result<&'f LogFormat> {
    let name = path.display().to_string();
    for f in formats.iter().filter(|f| f.file == FileKind::Xlsx) {
        let mut problems = Problems::new();
        if sources::XlsxRows::open(path, f, limit, &mut problems)?.is_some() {
            return Ok(f);
        }
    }
    Err(Error::bad_input(format!(
        "{name}: the header matches none of the xlsx formats: give --format"
    )))
}

fn import_xlsx(
    store: &mut Store,
    path: &Path,
    format: &LogFormat,
    opts: &ImportOptions,
) -> Result<ImportSummary> {
    let name = path.display().to_string();
    // The digest first: the sheet is read on a thread of its own, from its own handle.
    let mut hash = Sha256::new();
    let mut file =
        std::fs::File::open(path).map_err(|e| Error::bad_input(format!("{name}: {e}")))?;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| Error::runtime(format!("{name}: {e}")))?;
        if n == 0 {
            break;
        }
        hash.update(&chunk[..n]);
    }
    let digest = hex::encode(hash.finalize());
    let mut problems = Problems::new();
    let Some(rows) = sources::XlsxRows::open(path, format, opts.max_value, &mut problems)? else {
        return Err(problems.into_error());
    };
    import_rows(store, &name, rows, problems, opts, format, None, || digest)
}

/// The hex SHA-256 of what passed through a [`Hashing`] reader.
fn hash_of(hash: &Mutex<Sha256>) -> String {
    let hash = match hash.lock() {
        Ok(mut h) => std::mem::take(&mut *h),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    hex::encode(hash.finalize())
}

/// A reader that hashes what passes through it.
struct Hashing<'h, R> {
    inner: R,
    hash: &'h Mutex<Sha256>,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut hash) = self.hash.lock() {
            hash.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Per system: the batch being written.
#[derive(Debug, Clone)]
struct Batch {
    first_row: i64,
    last_row: i64,
    rows: u64,
    oldest: i64,
    newest: i64,
    retention_years: u32,
}

#[allow(clippy::too_many_arguments)]
fn import_rows<S: Rows + Send>(
    store: &mut Store,
    name: &str,
    table: S,
    problems: Problems,
    opts: &ImportOptions,
    format: &LogFormat,
    decoded_from: Option<&str>,
    digest: impl FnOnce() -> String,
) -> Result<ImportSummary> {
    let rules = row_rules(opts, format)?;
    let forced = rules.forced;
    let tx = store.write()?;
    let import_id = store::records::begin_import(&tx, name, opts.now)?;
    let (read, written) = read_and_write(&tx, import_id, name, &rules, table, problems);
    let read = read?;
    let Written {
        imported,
        already,
        conflicts,
        conflicted,
        mut index,
        mut batches,
    } = written.unwrap_or_else(|| Err(Error::runtime(format!("{name}: nothing written"))))?;
    let Checking {
        rows,
        refused,
        repeats,
        expired,
        problems,
        warnings,
        ids_checked,
    } = read;
    refuse_bad_rows(name, rows, refused, problems, &conflicts, conflicted)?;
    index.flush(&tx)?;
    let digest = digest();
    if let Some((earlier, at)) = store::records::import_by_digest(&tx, &digest)? {
        return Err(Error::bad_input(format!(
            "{name}: this file was imported already (import {earlier}, {at}); nothing imported"
        )));
    }
    store::records::finish_import(&tx, import_id, imported, &digest)?;
    let (systems, overlaps) = record_batches(&tx, import_id, opts, forced, &mut batches)?;
    let summary = ImportSummary {
        import_id,
        file: name.to_string(),
        rows,
        imported,
        already: already + repeats,
        refused,
        expired,
        systems,
        overlaps,
        warned: warnings.count,
        warnings: warnings.shown,
        ids_checked,
        format: format.id.clone(),
        decoded_from: decoded_from.map(str::to_string),
        digest,
    };
    audit::append(
        &tx,
        opts.now,
        &audit::Event {
            actor: opts.actor,
            event: "logs.imported",
            case_id: None,
            round_id: None,
            data: serde_json::to_value(&summary).unwrap_or_default(),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(summary)
}

/// The rules the rows of an import with `opts` in `format` are checked by, or a usage error
/// when `--system` (or the format's system) is not one we know.
fn row_rules<'a>(opts: &'a ImportOptions<'a>, format: &LogFormat) -> Result<RowRules<'a>> {
    // A format with a system and no column naming one is that system's export, as --system.
    let format_system = format
        .system
        .as_deref()
        .filter(|_| format.column(SOURCE_SYSTEM).is_none());
    // Without a `log_id` column, each row's id is the SHA-256 of its normalised fields.
    let hashed_ids = format.column(LOG_ID).is_none() && format.defaults[LOG_ID].is_none();
    let forced = match opts.system.or(format_system) {
        Some(s) => Some(
            known_system(s, opts.retention)
                .ok_or_else(|| Error::usage(format!("--system: {}", unknown_system(s, opts))))?,
        ),
        None => None,
    };
    let latest = opts.now.timestamp() + FUTURE_SLACK_SECONDS;
    // Rows older than their system keeps them are not kept (the purge would drop them at once).
    let cutoffs: Vec<i64> = opts
        .retention
        .iter()
        .map(|(_, years)| super::years_before(opts.now, *years).timestamp())
        .collect();
    Ok(RowRules {
        forced,
        latest,
        cutoffs,
        opts,
        hashed_ids,
    })
}

/// Reads and checks the rows of `table` on a thread of their own while this one writes the
/// valid ones in `tx`: what the reader found, and what the writer wrote (none when the reader's
/// thread could not start).
fn read_and_write<S: Rows + Send>(
    tx: &crate::store::Db,
    import_id: i64,
    name: &str,
    rules: &RowRules,
    table: S,
    problems: Problems,
) -> (Result<Checking>, Option<Result<Written>>) {
    // Two threads: this one writes, the other reads and checks the rows and hands the valid
    // ones over in batches (an import of a year of log is bound by both).
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel(4);
        let (back, reuse) = std::sync::mpsc::sync_channel(8);
        let reader = std::thread::Builder::new()
            .name("log-rows".into())
            .spawn_scoped(scope, move || {
                rules.check_all(table, problems, &send, &reuse)
            });
        let reader = match reader {
            Ok(reader) => reader,
            Err(e) => return (Err(Error::runtime(format!("{name}: {e}"))), None),
        };
        // Returning drops the receiver, which stops the reader when the writing failed.
        let written = write_rows(tx, import_id, name, rules.opts, receive, &back);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::runtime(format!("{name}: the reader stopped"))));
        (read, Some(written))
    })
}

/// Refuses the file when a row had a problem, or reused a `log_id` with other content.
fn refuse_bad_rows(
    name: &str,
    rows: u64,
    refused: u64,
    problems: Problems,
    conflicts: &[String],
    conflicted: u64,
) -> Result<()> {
    if !problems.is_empty() {
        // Dropping the transaction rolls everything back.
        let mut err = problems.into_error();
        err.message.push_str(&format!(
            "\n{name}: {rows} rows read, {refused} refused: nothing was imported"
        ));
        return Err(err);
    }
    if conflicted > 0 {
        let mut message = conflicts.join("\n");
        if conflicted > conflicts.len() as u64 {
            message.push_str(&format!(
                "\n… and {} more rows like those",
                conflicted - conflicts.len() as u64
            ));
        }
        message.push_str(&format!(
            "\n{name}: {rows} rows read, {conflicted} refused (a log_id reused with other content): nothing was imported"
        ));
        return Err(Error::bad_input(message));
    }
    Ok(())
}

/// Stores each system's batch of import `import_id` with the period it covers (the `forced`
/// system's too when a period is declared): the rows per system, and the earlier batches they
/// overlap.
fn record_batches(
    tx: &crate::store::Db,
    import_id: i64,
    opts: &ImportOptions,
    forced: Option<usize>,
    batches: &mut BTreeMap<usize, Batch>,
) -> Result<(Vec<SystemRows>, Vec<store::records::LogBatch>)> {
    let mut systems = Vec::new();
    let mut overlaps = Vec::new();
    if let (Some(forced), Some(_)) = (forced, opts.period) {
        // A declared period covers the named system even when the export has no row: a quiet
        // period is then known to be quiet, not missing.
        batches.entry(forced).or_insert(Batch {
            first_row: 0,
            last_row: -1,
            rows: 0,
            oldest: 0,
            newest: 0,
            retention_years: opts.retention[forced].1,
        });
    }
    for (index, b) in &*batches {
        let system = &opts.retention[*index].0;
        // Without a declared period, the export covers what it shows: its first event to its
        // last. (A day's end after the last event is not known to be quiet.)
        let (covers_from, covers_to) = match opts.period {
            Some((from, to)) => (from.timestamp(), to.timestamp()),
            None => (b.oldest, b.newest + 1),
        };
        store::evidence::insert_coverage(tx, import_id, system, covers_from, covers_to)?;
        if b.rows == 0 {
            systems.push(SystemRows {
                system: system.clone(),
                rows: 0,
                oldest: String::new(),
                newest: String::new(),
                retention_years: b.retention_years,
                covers_from: unix_ts(covers_from),
                covers_to: unix_ts(covers_to),
            });
            continue;
        }
        for earlier in store::records::overlapping_batches(tx, system, b.oldest, b.newest)? {
            overlaps.push(earlier);
        }
        store::records::insert_batch(
            tx,
            &store::records::LogBatch {
                import_id,
                system: system.clone(),
                first_row: b.first_row,
                last_row: b.last_row,
                rows: b.rows as i64,
                oldest: b.oldest,
                newest: b.newest,
                retention_years: b.retention_years,
            },
        )?;
        systems.push(SystemRows {
            system: system.clone(),
            rows: b.rows,
            oldest: unix_ts(b.oldest),
            newest: unix_ts(b.newest),
            retention_years: b.retention_years,
            covers_from: unix_ts(covers_from),
            covers_to: unix_ts(covers_to),
        });
    }
    Ok((systems, overlaps))
}

/// The rules each row is checked by, shared with the reader's thread.
struct RowRules<'a> {
    /// `--system` or the format's system, as an index into the retention rules.
    forced: Option<usize>,
    /// The latest time an event may have.
    latest: i64,
    /// Per system: rows older than this are past their retention, not kept.
    cutoffs: Vec<i64>,
    opts: &'a ImportOptions<'a>,
    /// Each row's id is the SHA-256 of its fields.
    hashed_ids: bool,
}

/// What the reader's thread found.
struct Checking {
    rows: u64,
    /// Rows with a problem.
    refused: u64,
    /// Rows that repeat an earlier row of the file (the same id and content).
    repeats: u64,
    expired: u64,
    problems: Problems,
    warnings: Warnings,
    ids_checked: u64,
}

impl RowRules<'_> {
    /// Reads and checks every row, sending the valid ones in batches (after the first problem
    /// none: the rest is only checked, so that every problem, up to the limit, is reported at
    /// once). Stops early when the writer is gone.
    fn check_all<S: Rows>(
        &self,
        mut table: S,
        mut problems: Problems,
        send: &SyncSender<Checked>,
        reuse: &Receiver<Checked>,
    ) -> Result<Checking> {
        let mut times = TimeReader::new(self.opts.tz);
        let mut warnings = Warnings::default();
        let mut ids = SeenIds::default();
        let (mut rows, mut expired, mut refused, mut repeats) = (0u64, 0u64, 0u64, 0u64);
        let mut batch = Checked::default();
        while let Some(row) = table.next_row(&mut problems)? {
            rows += 1;
            let mut checked = check_row(
                &row,
                self.forced,
                self.latest,
                &mut times,
                self.opts,
                self.hashed_ids,
                &mut problems,
                &mut warnings,
            );
            if self.hashed_ids
                && let Some(valid) = checked.as_mut()
            {
                valid.log_id = std::borrow::Cow::Owned(row_digest(&row, valid));
            }
            if let Some(valid) = &checked {
                match ids.check(&row, valid) {
                    Err(p) => {
                        problems.push(p);
                        refused += 1;
                        continue;
                    }
                    // The same row again in the file: already present, not sent.
                    Ok(true) => {
                        repeats += 1;
                        continue;
                    }
                    Ok(false) => {}
                }
            }
            let Some(valid) = checked else {
                refused += 1;
                continue;
            };
            if !problems.is_empty() {
                continue;
            }
            if valid.at < self.cutoffs[valid.system] {
                expired += 1;
                continue;
            }
            batch.push(&row, &valid, &self.opts.retention[valid.system].0);
            if batch.rows.len() >= Checked::ROWS || batch.text.len() >= Checked::TEXT {
                let mut spare = reuse.try_recv().unwrap_or_default();
                spare.clear();
                if send.send(std::mem::replace(&mut batch, spare)).is_err() {
                    break;
                }
            }
        }
        if problems.is_empty() && !batch.rows.is_empty() {
            let _ = send.send(batch);
        }
        Ok(Checking {
            rows,
            refused,
            repeats,
            expired,
            problems,
            warnings,
            ids_checked: ids.checked,
        })
    }
}

/// Valid rows on their way from the reader's thread to the writer, their texts packed in one
/// buffer. Emptied batches go back to the reader to be filled again, so that memory is
/// allocated and freed on one thread (freeing across threads serialises the allocator).
#[derive(Default)]
struct Checked {
    text: String,
    rows: Vec<CheckedRow>,
}

struct CheckedRow {
    at: i64,
    /// Index into the retention rules.
    system: usize,
    action: &'static str,
    /// `logindex::client_number` of the subject, and `names::surname_keys` of its name.
    client: u64,
    /// The row's line in the file.
    line: u64,
    /// `store::records::log_id_key` of its system and `log_id`, made by the reader.
    key: i64,
    surnames: [u32; 2],
    /// Where the row's texts start in `text`, and where each ends: the `log_id`, then the
    /// fields of [`CARRIED`].
    start: usize,
    ends: [usize; 9],
}

/// The fields the writer takes as the export gives them.
const CARRIED: [usize; 8] = [
    USER_ID,
    USER_NAME,
    USER_TITLE,
    ACCESS_UNIT,
    SUBJECT_UNIT,
    RESOURCE_TYPE,
    PURPOSE,
    SUBJECT_NAME,
];

impl Checked {
    /// A batch is sent at this many rows or bytes of text, whichever comes first.
    const ROWS: usize = 1024;
    const TEXT: usize = 4 << 20;

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }

    fn push(&mut self, row: &LogRow, valid: &Valid, system: &str) {
        let start = self.text.len();
        let mut ends = [0; 9];
        self.text.push_str(&valid.log_id);
        ends[0] = self.text.len();
        for (k, field) in CARRIED.iter().enumerate() {
            self.text.push_str(row.get_at(*field));
            ends[k + 1] = self.text.len();
        }
        let subject_name = row.get_at(SUBJECT_NAME);
        self.rows.push(CheckedRow {
            at: valid.at,
            system: valid.system,
            action: valid.action,
            client: logindex::client_number(std::str::from_utf8(&valid.subject).unwrap_or("")),
            line: row.line(),
            key: store::records::log_id_key(system, &valid.log_id),
            surnames: if subject_name.is_empty() {
                [0, 0]
            } else {
                crate::names::surname_keys(subject_name)
            },
            start,
            ends,
        });
    }

    /// The row's `log_id`.
    fn log_id<'c>(&'c self, row: &CheckedRow) -> &'c str {
        self.text.get(row.start..row.ends[0]).unwrap_or("")
    }

    /// The row's field `field` (one of [`CARRIED`]).
    fn get<'c>(&'c self, row: &CheckedRow, field: usize) -> &'c str {
        match CARRIED.iter().position(|f| *f == field) {
            Some(k) => self.text.get(row.ends[k]..row.ends[k + 1]).unwrap_or(""),
            None => "",
        }
    }
}

/// What the writer wrote.
struct Written {
    imported: u64,
    /// Rows whose `log_id` was stored with the same content already.
    already: u64,
    /// Rows whose `log_id` was stored with other content: `FILE:LINE: …` of the first few, and
    /// how many.
    conflicts: Vec<String>,
    conflicted: u64,
    index: logindex::ChunkBuilder,
    /// Per system (index into the retention rules).
    batches: BTreeMap<usize, Batch>,
}

/// Writes the checked rows as they come, with their index, until the reader is done.
fn write_rows(
    tx: &crate::store::Db,
    import_id: i64,
    name: &str,
    opts: &ImportOptions,
    receive: Receiver<Checked>,
    back: &SyncSender<Checked>,
) -> Result<Written> {
    let mut insert = store::records::AccessWriter::new(tx)?;
    let mut index = logindex::ChunkBuilder::new(import_id);
    let mut strings = store::records::LogStrings::new();
    let mut batches: BTreeMap<usize, Batch> = BTreeMap::new();
    let mut imported = 0u64;
    let mut already = 0u64;
    // The keys of the rows written, stored in key order a million at a time (in order they
    // are appended to the table's index, not scattered through it).
    let mut new_keys: Vec<(i64, i64, i64)> = Vec::new();
    // With no id stored before this import, none can be found but this file's own, which the
    // reader tells apart (`SeenIds`): nothing to look up.
    let look_up = store::records::any_log_id(tx)?;
    let mut ids: Vec<i64> = Vec::new();
    let mut conflicts = Vec::new();
    let mut conflicted = 0u64;
    for checked in receive {
        // The batch's keys looked up at once, in key order.
        let mut to_write: Vec<(&CheckedRow, store::records::NewAccess)> =
            Vec::with_capacity(checked.rows.len());
        let stored_keys = if look_up {
            let mut keys: Vec<i64> = checked.rows.iter().map(|row| row.key).collect();
            keys.sort_unstable();
            keys.dedup();
            store::records::log_id_rows(tx, &keys)?
        } else {
            Default::default()
        };
        for row in &checked.rows {
            let system = opts.retention[row.system].0.as_str();
            let field = |column: usize| checked.get(row, column);
            let log_id = checked.log_id(row);
            let mut id = |column: usize, text: &str| strings.id(tx, column, text);
            let new = store::records::NewAccess {
                import_id,
                system: id(SOURCE_SYSTEM, system)?,
                log_id,
                at: row.at,
                user_id: id(USER_ID, field(USER_ID))?,
                user_name: id(USER_NAME, field(USER_NAME))?,
                user_title: id(USER_TITLE, field(USER_TITLE))?,
                access_unit: id(ACCESS_UNIT, field(ACCESS_UNIT))?,
                subject: row.client as i64,
                subject_unit: id(SUBJECT_UNIT, field(SUBJECT_UNIT))?,
                action: id(ACTION, row.action)?,
                resource_type: id(RESOURCE_TYPE, field(RESOURCE_TYPE))?,
                purpose: id(PURPOSE, field(PURPOSE))?,
                subject_name: field(SUBJECT_NAME),
            };
            // One access, one log_id: the same again is already present, another is refused.
            let key = row.key;
            let stored = match stored_keys.get(&key) {
                Some((row_id, line)) => {
                    store::records::stored_access(tx, *row_id)?.map(|s| (s, *line))
                }
                None => None,
            };
            if let Some((earlier, line)) = stored
                && earlier.system == new.system
                && earlier.log_id == log_id
            {
                let differs = differences(&earlier, &new);
                if differs.is_empty() {
                    already += 1;
                    continue;
                }
                conflicted += 1;
                if conflicts.len() < 20 {
                    let place = if earlier.import_id == import_id {
                        format!("line {line} of this file")
                    } else if line > 0 {
                        format!("{}:{line} (import {})", earlier.file, earlier.import_id)
                    } else {
                        format!("{} (import {})", earlier.file, earlier.import_id)
                    };
                    conflicts.push(format!(
                        "{name}:{}: field `log_id`: `{log_id}` was stored before from {place} with another {}: one access, one log_id",
                        row.line,
                        differs.join(", ")
                    ));
                }
                continue;
            }
            // A key whose row was purged (or, rarely, another id of the same hash) is moved to
            // this row.
            if conflicted > 0 {
                continue;
            }
            to_write.push((row, new));
        }
        // Written together (a statement for many rows), then indexed row by row.
        let news: Vec<store::records::NewAccess> = to_write.iter().map(|(_, n)| *n).collect();
        ids.clear();
        insert.append_all(&news, &mut ids)?;
        for ((row, new), id) in to_write.into_iter().zip(ids.iter().copied()) {
            let system = opts.retention[row.system].0.as_str();
            let field = |column: usize| checked.get(row, column);
            new_keys.push((row.key, id, i64::try_from(row.line).unwrap_or(i64::MAX)));
            if new_keys.len() >= KEYS_PENDING {
                store_keys(tx, &mut new_keys)?;
            }
            imported += 1;
            // The index names units by their ids; an empty text is none.
            let digest_id = |text: &str, id: i64| {
                if text.is_empty() {
                    0
                } else {
                    u32::try_from(id).unwrap_or(0)
                }
            };
            index.push(
                tx,
                &logindex::Access {
                    row: id,
                    at: row.at,
                    system,
                    account: field(USER_ID),
                    account_id: new.user_id,
                    client: row.client,
                    client_unit: digest_id(field(SUBJECT_UNIT), new.subject_unit),
                    access_unit: digest_id(field(ACCESS_UNIT), new.access_unit),
                    action: action_code(row.action),
                    surnames: row.surnames,
                    log_id: new.log_id,
                },
            )?;
            let batch = batches.entry(row.system).or_insert(Batch {
                first_row: id,
                last_row: id,
                rows: 0,
                oldest: row.at,
                newest: row.at,
                retention_years: opts.retention[row.system].1,
            });
            batch.last_row = id;
            batch.rows += 1;
            batch.oldest = batch.oldest.min(row.at);
            batch.newest = batch.newest.max(row.at);
        }
        // Dropped here when the reader has enough spares.
        let _ = back.try_send(checked);
    }
    store_keys(tx, &mut new_keys)?;
    Ok(Written {
        imported,
        already,
        conflicts,
        conflicted,
        index,
        batches,
    })
}

/// How many keys of written rows wait to be stored, at most (16 MB).
const KEYS_PENDING: usize = 1 << 20;

/// Stores the keys of written rows, in key order, each once (the later row where one repeats:
/// a key moved from a purged row), and empties the list.
fn store_keys(tx: &crate::store::Db, keys: &mut Vec<(i64, i64, i64)>) -> Result<()> {
    // The later row first within a key, so that the dedup keeps it.
    keys.sort_unstable_by_key(|(k, row, _)| (*k, std::cmp::Reverse(*row)));
    keys.dedup_by_key(|(k, _, _)| *k);
    store::records::put_log_ids(tx, keys)?;
    keys.clear();
    Ok(())
}

/// The fields in which a stored access differs from a new one of the same `log_id`.
fn differences(
    stored: &store::records::StoredAccess,
    new: &store::records::NewAccess,
) -> Vec<&'static str> {
    let fields = [
        ("event_time", new.at),
        ("user_id", new.user_id),
        ("user_name", new.user_name),
        ("user_title", new.user_title),
        ("access_unit_id", new.access_unit),
        ("subject_id", new.subject),
        ("subject_unit_id", new.subject_unit),
        ("action", new.action),
        ("resource_type", new.resource_type),
        ("purpose", new.purpose),
    ];
    let mut differ: Vec<&'static str> = fields
        .iter()
        .zip(&stored.content)
        .filter(|((_, n), s)| n != *s)
        .map(|((name, _), _)| *name)
        .collect();
    if stored.subject_name != new.subject_name {
        differ.push("subject_name");
    }
    differ
}

/// The id of a row without one: the SHA-256 of its normalised fields (system, time in UTC,
/// account, unit, client, action, the rest as given), so that a re-import is recognised.
fn row_digest(row: &LogRow, valid: &Valid) -> String {
    let mut h = Sha256::new();
    h.update(valid.system.to_le_bytes());
    h.update(valid.at.to_le_bytes());
    h.update(valid.subject);
    h.update(valid.action.as_bytes());
    for i in [USER_ID, ACCESS_UNIT, SUBJECT_UNIT, RESOURCE_TYPE, PURPOSE] {
        h.update([0x1f]);
        h.update(row.get_at(i).as_bytes());
    }
    hex::encode(h.finalize())
}

/// The fields of a valid row that are not copied as they are.
struct Valid<'r> {
    log_id: std::borrow::Cow<'r, str>,
    at: i64,
    /// Index into the retention rules.
    system: usize,
    subject: [u8; 12],
    action: &'static str,
}

/// Checks one row, pushing every problem; the normalised fields when it is valid.
#[allow(clippy::too_many_arguments)]
fn check_row<'r>(
    row: &LogRow<'r>,
    forced: Option<usize>,
    latest: i64,
    times: &mut TimeReader,
    opts: &ImportOptions,
    hashed_ids: bool,
    problems: &mut Problems,
    warnings: &mut Warnings,
) -> Option<Valid<'r>> {
    let mut ok = true;
    let mut fail = |p: Problem| {
        problems.push(p);
        ok = false;
    };
    check_fields(row, &mut fail);
    let log_id = row.get_at(LOG_ID);
    if log_id.is_empty() && !hashed_ids {
        fail(row.problem("log_id", "is empty"));
    }
    let at = event_time(row, latest, times, opts, warnings, &mut fail);
    let system = row_system(row, forced, opts, &mut fail);
    if row.get_at(USER_ID).is_empty() {
        fail(row.problem("user_id", "is empty (the account that read the record)"));
    }
    if row.get_at(ACCESS_UNIT).is_empty() {
        fail(row.problem(
            "access_unit_id",
            "is empty (the unit the record was read from)",
        ));
    }
    let subject = row_subject(row, &mut fail);
    let action = row_action(row, &mut fail);
    match (ok, system, subject, action) {
        (true, Some(system), Some(subject), Some(action)) => Some(Valid {
            log_id: std::borrow::Cow::Borrowed(log_id),
            at,
            system,
            subject,
            action,
        }),
        _ => None,
    }
}

/// Checks every field of `row` for its length and for control characters.
#[inline]
fn check_fields(row: &LogRow, fail: &mut impl FnMut(Problem)) {
    for (i, value) in row.fields.iter().enumerate() {
        if value.len() > FIELD_MAX {
            let column = LOG.columns.get(i).map_or("", |c| c.name);
            fail(row.problem(
                column,
                format!(
                    "{} bytes long: a field of an access log holds at most {FIELD_MAX}",
                    value.len()
                ),
            ));
            continue;
        }
        if let Some(c) = control_char(value) {
            let column = LOG.columns.get(i).map_or("", |c| c.name);
            fail(row.problem(
                column,
                format!(
                    "holds the control character U+{:04X}: an export's fields are text on one line",
                    u32::from(c)
                ),
            ));
        }
    }
}

/// The row's `event_time` in Unix seconds (0 when it is refused), warning of a time in the
/// autumn fold.
#[inline]
fn event_time(
    row: &LogRow,
    latest: i64,
    times: &mut TimeReader,
    opts: &ImportOptions,
    warnings: &mut Warnings,
    fail: &mut impl FnMut(Problem),
) -> i64 {
    let time_text = row.get_at(EVENT_TIME);
    let read = match row.time_format() {
        Some(format) => times.read_with(time_text, format),
        None => times.read_time(time_text),
    };
    if let TimeRead::Folded(_) = read {
        warnings.push(format!(
            "{}:{}: field `event_time`: `{time_text}` is in the hour the clocks turn back, which happens twice; read as the first (summer time). Write the time with its offset to say which",
            row.path(),
            row.line()
        ));
    }
    match read {
        TimeRead::At(at) | TimeRead::Folded(at) if at > latest => {
            fail(row.problem(
                "event_time",
                format!(
                    "`{time_text}` lies in the future (the import runs at {})",
                    unix_ts(latest - FUTURE_SLACK_SECONDS)
                ),
            ));
            0
        }
        TimeRead::At(at) | TimeRead::Folded(at) => match opts.period {
            Some((from, to)) if at < from.timestamp() || at >= to.timestamp() => {
                fail(row.problem(
                    "event_time",
                    format!(
                        "`{time_text}` lies outside the period the export covers ({} – {}, --from/--to)",
                        unix_ts(from.timestamp()),
                        unix_ts(to.timestamp())
                    ),
                ));
                0
            }
            _ => at,
        },
        TimeRead::Gap => {
            fail(row.problem(
                "event_time",
                format!(
                    "`{time_text}` never happened in {}: the clocks skip that hour in spring (write the time with its offset, e.g. `+01:00`)",
                    opts.tz.name()
                ),
            ));
            0
        }
        TimeRead::Ancient => {
            fail(row.problem(
                "event_time",
                format!("`{time_text}` lies before {EARLIEST_YEAR}: not the time of an access"),
            ));
            0
        }
        TimeRead::Bad => {
            let expected = match row.time_format() {
                Some(f) => format!("the format's time_format `{f}`"),
                None => {
                    "RFC 3339 (`2027-03-01T08:15:00+01:00`) or a local time (`2027-03-01 08:15:00`)"
                        .to_string()
                }
            };
            fail(row.problem(
                "event_time",
                format!("`{time_text}` is not a time: expected {expected}"),
            ));
            0
        }
    }
}

/// The row's system as an index into the retention rules (`forced` when the row names none).
#[inline]
fn row_system(
    row: &LogRow,
    forced: Option<usize>,
    opts: &ImportOptions,
    fail: &mut impl FnMut(Problem),
) -> Option<usize> {
    let named = row.get_at(SOURCE_SYSTEM);
    match (named.is_empty(), forced) {
        (true, Some(f)) => Some(f),
        (true, None) => {
            fail(row.problem(
                "source_system",
                "is empty (name the system, or give --system)",
            ));
            None
        }
        (false, _) => match known_system(named, opts.retention) {
            Some(s) if forced.is_none_or(|f| f == s) => Some(s),
            Some(_) => {
                let f = forced.map(|f| opts.retention[f].0.as_str()).unwrap_or("");
                fail(row.problem(
                    "source_system",
                    format!("`{named}` in a file imported with --system {f}"),
                ));
                None
            }
            None => {
                fail(row.problem("source_system", unknown_system(named, opts)));
                None
            }
        },
    }
}

/// The row's `subject_id` as its 12 digits (all `0` for an XML record that names no client).
#[inline]
fn row_subject(row: &LogRow, fail: &mut impl FnMut(Problem)) -> Option<[u8; 12]> {
    let subject_text = row.get_at(SUBJECT_ID);
    let padded = !row.raw_subject.is_empty() && row.raw_subject.len() != subject_text.len();
    // RIV-TA's `Patient` is optional: a resource that names none (a report, a list) is an
    // access to no client's record, kept with no client.
    let no_patient = subject_text.is_empty()
        && row
            .format
            .is_some_and(|f| f.file == FileKind::Xml && f.defaults[SUBJECT_ID].is_none());
    match subject_digits(subject_text) {
        _ if no_patient => Some([b'0'; 12]),
        Ok(_) if padded => {
            fail(row.problem(
                "subject_id",
                format!(
                    "`{}` has blanks around the number: an export writes the number alone",
                    row.raw_subject
                ),
            ));
            None
        }
        Ok(d) => Some(d),
        Err(message) => {
            fail(row.problem("subject_id", message));
            None
        }
    }
}

/// The row's action as our canonical word.
#[inline]
fn row_action(row: &LogRow, fail: &mut impl FnMut(Problem)) -> Option<&'static str> {
    let action_text = row.get_at(ACTION);
    match action(action_text) {
        Some(a) => Some(a),
        None => {
            let words: Vec<&str> = ACTIONS.iter().map(|(w, _)| *w).collect();
            let message = if action_text.is_empty() {
                format!("is empty (expected one of {})", backticked(&words))
            } else {
                format!(
                    "unknown action `{action_text}`{}",
                    suggestion(action_text, &words)
                )
            };
            fail(row.problem("action", message));
            None
        }
    }
}

/// The first control character of `text` but a tab (C0, DEL and C1), if it has one.
fn control_char(text: &str) -> Option<char> {
    // Most fields are ASCII text: one pass over the bytes finds none.
    let suspect = text
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t') || b == 0x7F || b == 0xC2);
    if !suspect {
        return None;
    }
    text.chars().find(|c| c.is_control() && *c != '\t')
}

/// The canonical action word for `text`, in any case.
fn action(text: &str) -> Option<&'static str> {
    if let Some((word, _)) = ACTIONS.iter().find(|(w, _)| *w == text) {
        return Some(word);
    }
    let lower = text.to_lowercase();
    ACTIONS
        .iter()
        .find(|(w, _)| w.to_lowercase() == lower)
        .map(|(w, _)| *w)
}

/// The index of the retention rule for system `name` (any case; `NPÖ` is `npo`).
fn known_system(name: &str, rules: &[(String, u32)]) -> Option<usize> {
    if let Some(i) = rules.iter().position(|(s, _)| s == name) {
        return Some(i);
    }
    let lower = name.to_lowercase().replace('ö', "o");
    rules.iter().position(|(s, _)| *s == lower)
}

fn unknown_system(name: &str, opts: &ImportOptions) -> String {
    let names: Vec<&str> = opts.retention.iter().map(|(s, _)| s.as_str()).collect();
    format!(
        "unknown system `{name}`: no routine or retention rule covers it{}",
        suggestion(name, &names)
    )
}

pub use crate::personnummer::digits as subject_digits;

/// Reads event times, remembering the UTC offset of the last local hour read: a log is in time
/// order, so the zone is looked up about once an hour of log.
struct TimeReader {
    tz: Tz,
    /// A format's `time_format`, parsed.
    items: Option<(String, Vec<chrono::format::Item<'static>>)>,
    /// (local date and hour, offset in seconds) of the last local time resolved.
    last: Option<(NaiveDate, u32, i64)>,
}

impl TimeReader {
    fn new(tz: Tz) -> TimeReader {
        TimeReader {
            tz,
            items: None,
            last: None,
        }
    }

    /// Unix seconds, or `None` when `text` is not a time of the accepted forms.
    #[cfg(test)]
    fn read(&mut self, text: &str) -> Option<i64> {
        match self.read_time(text) {
            TimeRead::At(t) | TimeRead::Folded(t) => Some(t),
            TimeRead::Gap | TimeRead::Ancient | TimeRead::Bad => None,
        }
    }

    /// What `text` says.
    fn read_time(&mut self, text: &str) -> TimeRead {
        self.parse(text).unwrap_or(TimeRead::Bad)
    }

    /// What `text` says in a format's own `time_format` (a chrono format, local time unless it
    /// has `%z`); a time written in our forms (a date cell of a sheet) is read too.
    fn read_with(&mut self, text: &str, format: &str) -> TimeRead {
        // The format is parsed once, not per row.
        if self.items.as_ref().is_none_or(|(f, _)| f != format) {
            let items = chrono::format::StrftimeItems::new(format)
                .parse_to_owned()
                .unwrap_or_default();
            self.items = Some((format.to_string(), items));
        }
        let items = self.items.as_ref().map_or(&[][..], |(_, i)| i.as_slice());
        let mut parsed = chrono::format::Parsed::new();
        let read = chrono::format::parse(&mut parsed, text, items.iter()).and_then(|()| {
            // An offset or a Unix timestamp (`%s`) says the instant; else it is local.
            if parsed.offset().is_some() || parsed.timestamp().is_some() {
                parsed.to_datetime().map(|t| Ok(t.timestamp()))
            } else {
                parsed.to_naive_datetime_with_offset(0).map(Err)
            }
        });
        match read {
            Ok(Ok(at)) => TimeRead::At(at),
            Ok(Err(local)) => {
                use chrono::Datelike;
                if local.year() < EARLIEST_YEAR {
                    TimeRead::Ancient
                } else {
                    self.local(local)
                }
            }
            Err(_) => self.read_time(text),
        }
    }

    fn parse(&mut self, text: &str) -> Option<TimeRead> {
        let b = text.as_bytes();
        if b.len() < 16 {
            return None;
        }
        let num = |from: usize, len: usize| -> Option<u32> {
            let mut v = 0u32;
            for &c in b.get(from..from + len)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
        use chrono::Datelike;
        if date.year() < EARLIEST_YEAR {
            return Some(TimeRead::Ancient);
        }
        if b[13] != b':' {
            return None;
        }
        let (hour, minute) = (num(11, 2)?, num(14, 2)?);
        let mut rest = &b[16..];
        let mut second = 0;
        if rest.first() == Some(&b':') {
            second = num(17, 2)?;
            rest = &rest[3..];
            // Fractions of a second are dropped.
            if rest.first() == Some(&b'.') {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                rest = &rest[1 + digits..];
            }
        }
        let time = NaiveTime::from_hms_opt(hour, minute, second)?;
        let local = NaiveDateTime::new(date, time);
        let offset: i64 = match rest {
            [] => return Some(self.local(local)),
            [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let h = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
                let m = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
                if h > 23 || m > 59 {
                    return None;
                }
                let s = (h * 60 + m) * 60;
                if *sign == b'-' { -s } else { s }
            }
            _ => return None,
        };
        Some(TimeRead::At(local.and_utc().timestamp() - offset))
    }

    /// A local wall-clock time in the zone: Unix seconds, the first of two in the autumn fold,
    /// none in the spring gap.
    fn local(&mut self, local: NaiveDateTime) -> TimeRead {
        use chrono::Timelike;
        let (date, hour) = (local.date(), local.hour());
        if let Some((d, h, offset)) = self.last
            && d == date
            && h == hour
        {
            return TimeRead::At(local.and_utc().timestamp() - offset);
        }
        let at = match chrono::TimeZone::from_local_datetime(&self.tz, &local) {
            chrono::LocalResult::Single(t) => t.timestamp(),
            chrono::LocalResult::Ambiguous(first, _) => {
                self.last = None;
                return TimeRead::Folded(first.timestamp());
            }
            chrono::LocalResult::None => {
                self.last = None;
                return TimeRead::Gap;
            }
        };
        let offset = local.and_utc().timestamp() - at;
        // Only a whole hour that exists once has one offset (gaps and folds are resolved anew).
        let whole = local.with_minute(0).and_then(|l| l.with_second(0));
        let single = whole.is_some_and(|w| {
            matches!(
                chrono::TimeZone::from_local_datetime(&self.tz, &w),
                chrono::LocalResult::Single(_)
            ) && matches!(
                chrono::TimeZone::from_local_datetime(
                    &self.tz,
                    &(w + chrono::Duration::minutes(59))
                ),
                chrono::LocalResult::Single(_)
            )
        });
        self.last = single.then_some((date, hour, offset));
        TimeRead::At(at)
    }
}

/// What an event time says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeRead {
    At(i64),
    /// A local time of the autumn fold, read as the first (summer time) of the two.
    Folded(i64),
    /// A local time of the spring gap: it never happened.
    Gap,
    /// A date before any access log could have been written.
    Ancient,
    Bad,
}

/// The first year an event may lie in.
const EARLIEST_YEAR: i32 = 1970;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;

    #[test]
    fn identity_numbers() {
        assert!(subject_digits("191212121212").is_ok());
        assert!(subject_digits("19121212-1212").is_ok());
        assert!(
            subject_digits("19121212-1213")
                .unwrap_err()
                .contains("check digit")
        );
        assert!(subject_digits("1912121212").is_err());
        assert!(subject_digits("191212-121212").is_err());
        assert!(
            subject_digits("19121332-1212")
                .unwrap_err()
                .contains("date")
        );
        assert!(subject_digits("").unwrap_err().contains("empty"));
        // A co-ordination number: day 12 + 60.
        assert!(subject_digits("191212721219").is_ok());
    }

    #[test]
    fn a_format_s_time_format_reads_local_zone_and_unix_times() {
        let mut r = TimeReader::new(Stockholm);
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        let at = |read: TimeRead| match read {
            TimeRead::At(t) | TimeRead::Folded(t) => Some(t),
            _ => None,
        };
        // Local time (winter: +01:00, summer: +02:00).
        assert_eq!(
            at(r.read_with("01/03/2027 08.15", "%d/%m/%Y %H.%M")),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            at(r.read_with("01/07/2027 08.15", "%d/%m/%Y %H.%M")),
            Some(utc("2027-07-01T06:15:00Z"))
        );
        // An offset and a Unix time say the instant themselves.
        assert_eq!(
            at(r.read_with("2027-07-01 08:15 +0000", "%Y-%m-%d %H:%M %z")),
            Some(utc("2027-07-01T08:15:00Z"))
        );
        let unix = utc("2027-07-01T08:15:00Z");
        assert_eq!(at(r.read_with(&unix.to_string(), "%s")), Some(unix));
        // The spring gap is said as such.
        assert!(matches!(
            r.read_with("28/03/2027 02.30", "%d/%m/%Y %H.%M"),
            TimeRead::Gap
        ));
    }

    #[test]
    fn event_times() {
        let mut r = TimeReader::new(Stockholm);
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        assert_eq!(
            r.read("2027-03-01T08:15:00+01:00"),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            r.read("2027-03-01T07:15:00Z"),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            r.read("2027-03-01T07:15:00.123Z"),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            r.read("2027-03-01 08:15:00"),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            r.read("2027-03-01 08:15"),
            Some(utc("2027-03-01T07:15:00Z"))
        );
        assert_eq!(
            r.read("2027-07-01 08:15:00"),
            Some(utc("2027-07-01T06:15:00Z"))
        );
        // The spring gap: 02:30 does not exist on 28 March 2027 (issue 12: refused, not moved).
        assert_eq!(r.read_time("2027-03-28 02:30:00"), TimeRead::Gap);
        assert_eq!(
            r.read("2027-03-28T02:30:00+01:00"),
            Some(utc("2027-03-28T01:30:00Z"))
        );
        // The autumn fold: 02:30 on 31 October 2027 is read as the first (CEST), with a doubt.
        assert_eq!(
            r.read_time("2027-10-31 02:30:00"),
            TimeRead::Folded(utc("2027-10-31T00:30:00Z"))
        );
        assert_eq!(r.read_time("0000-01-01 08:00:00"), TimeRead::Ancient);
        assert_eq!(r.read_time("1969-12-31 23:00:00"), TimeRead::Ancient);
        assert_eq!(
            r.read("2027-10-31 02:45:00"),
            Some(utc("2027-10-31T00:45:00Z"))
        );
        assert_eq!(
            r.read("2027-10-31 03:10:00"),
            Some(utc("2027-10-31T02:10:00Z"))
        );
        for bad in [
            "2027-02-30 08:00:00",
            "2027-03-01",
            "01/03/2027 08:00",
            "2027-03-01T08:15:00+1",
            "2027-03-01T25:15:00Z",
            "2027-03-01T08:15:00 CET",
            "",
        ] {
            assert_eq!(r.read(bad), None, "{bad}");
        }
    }

    #[test]
    fn actions_in_any_case() {
        assert_eq!(action("Läsa"), Some("Läsa"));
        assert_eq!(action("LÄSA"), Some("Läsa"));
        assert_eq!(action("nödöppning"), Some("Nödöppning"));
        assert_eq!(action("Titta"), None);
    }
}
