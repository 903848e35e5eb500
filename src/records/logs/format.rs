//! Log formats (`formats/*.yaml`): how one vendor's export says what our access-log columns
//! say. A format names the file kind (CSV, XLSX or XML), the encoding and delimiter of a CSV,
//! how its times are written, which of its columns (or XML paths) holds each of our fields, and
//! how its words for actions and systems map to ours. `check` validates format files like
//! routines: every problem at once, at its line and column, with a caret and did-you-mean.
//!
//! ```yaml
//! id: kommunens-treserva
//! system: treserva
//! file: csv                 # csv | xlsx | xml
//! encoding: windows-1252
//! delimiter: ";"
//! time_format: "%d/%m/%Y %H.%M"
//! columns:                  # our field: the export's header
//!   event_time: Tidpunkt
//!   user_id: Användar-id
//!   subject_id: Personnummer
//!   action: Händelse
//!   access_unit_id: Enhet
//! actions:                  # the export's word: ours
//!   Visa: Läsa
//! ```

use super::{ACTIONS, LOG};
pub use crate::log_format::{FileKind, LogFormat};
use crate::routine::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::routine::source::{Source, Span};
use crate::routine::yaml::{self, Node, NodeKind};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The fields a format must be able to fill (from a column, a default or `system`).
const NEEDED: &[&str] = &[
    "event_time",
    "source_system",
    "user_id",
    "access_unit_id",
    "subject_id",
    "action",
];

const KEYS: &[&str] = &[
    "id",
    "description",
    "system",
    "file",
    "encoding",
    "delimiter",
    "time_format",
    "columns",
    "defaults",
    "actions",
    "systems",
    "record",
    "repeat",
];

/// Whether the export must have the column of field `index` (when the format maps it): the
/// fields every row needs, and `log_id`. The columns of the other fields may be left out.
pub(crate) fn is_needed(index: usize) -> bool {
    LOG.columns
        .get(index)
        .is_some_and(|c| c.name == "log_id" || NEEDED.contains(&c.name))
}

/// The field index of [`LOG`] named `name`.
pub(crate) fn field_index(name: &str) -> Option<usize> {
    LOG.columns.iter().position(|c| c.name == name)
}

impl LogFormat {
    /// Our own columns, named as in `docs/cli.md`: the format of a file without `--format`
    /// whose header is ours.
    pub fn standard() -> LogFormat {
        LogFormat {
            id: "standard".into(),
            path: String::new(),
            file: FileKind::Csv,
            system: None,
            encoding: None,
            delimiter: None,
            time_format: None,
            columns: LOG
                .columns
                .iter()
                .map(|c| Some(c.name.to_string()))
                .collect(),
            defaults: vec![None; LOG.columns.len()],
            actions: Vec::new(),
            systems: Vec::new(),
            record: None,
            repeat: None,
            header: LOG
                .columns
                .iter()
                .enumerate()
                .filter(|(i, _)| is_needed(*i))
                .map(|(_, c)| c.name.to_string())
                .collect(),
        }
    }

    /// Whether this is our own standard CSV (read by the schema reader, unknown columns refused).
    pub(crate) fn is_standard(&self) -> bool {
        self.path.is_empty() && self.id == "standard"
    }

    /// The header or path of field `index`, when the export has it.
    pub fn column(&self, index: usize) -> Option<&str> {
        self.columns.get(index).and_then(|c| c.as_deref())
    }

    /// Our action word for the export's `word` (any case), when the format maps it.
    pub fn action(&self, word: &str) -> Option<&'static str> {
        if self.actions.is_empty() {
            return None;
        }
        let lower = word.to_lowercase();
        self.actions
            .iter()
            .find(|(w, _)| *w == lower)
            .map(|(_, ours)| *ours)
    }

    /// Our system name for the export's `name` (any case), when the format maps it.
    pub(crate) fn system_name(&self, name: &str) -> Option<&str> {
        if self.systems.is_empty() {
            return None;
        }
        let lower = name.to_lowercase();
        self.systems
            .iter()
            .find(|(w, _)| *w == lower)
            .map(|(_, ours)| ours.as_str())
    }

    /// How many of the format's mapped headers `header` holds (any case), and whether it holds
    /// all of them.
    pub(crate) fn matches_header(&self, header: &[&str]) -> (usize, bool) {
        let found = self
            .header
            .iter()
            .filter(|h| header.iter().any(|x| x.trim().eq_ignore_ascii_case(h)))
            .count();
        (found, found == self.header.len() && found > 0)
    }
}

/// The formats of a folder, checked; diagnostics for every problem in every file.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub formats: Vec<LogFormat>,
    pub diagnostics: Vec<Diagnostic>,
    /// The files read.
    pub files: Vec<PathBuf>,
}

impl Loaded {
    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads every `*.yaml`/`*.yml` in `dir` (none when it does not exist). `systems` are the
/// systems the routines know, for a did-you-mean on `system:`.
pub(crate) fn load_dir(dir: &Path, systems: &[&str]) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(loaded),
        Err(err) => return Err(Error::runtime(format!("{}: {err}", dir.display()))),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e == "yaml" || e == "yml")
        })
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::bad_input(format!("{}: {e}", path.display())))?;
        let source = Source::new(path.display().to_string(), text);
        let (format, diagnostics) = parse(&source, systems);
        loaded.diagnostics.extend(diagnostics);
        if let Some(format) = format {
            if let Some(first) = loaded.formats.iter().find(|f| f.id == format.id) {
                loaded.diagnostics.push(
                    Diagnostic::new(
                        &source,
                        Span::new(1, 1, 0),
                        crate::routine::diagnostic::Severity::Error,
                        "duplicate-format",
                        format!("format `{}` is defined in {} too", format.id, first.path),
                    )
                    .with_help("give each format file an id of its own"),
                );
            } else {
                loaded.formats.push(format);
            }
        }
        loaded.files.push(path);
    }
    Ok(loaded)
}

/// Reads one format file, as [`load_dir`] reads each.
pub(crate) fn load_file(path: &Path, systems: &[&str]) -> Result<Loaded> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::bad_input(format!("{}: {e}", path.display())))?;
    let source = Source::new(path.display().to_string(), text);
    let (format, diagnostics) = parse(&source, systems);
    Ok(Loaded {
        formats: format.into_iter().collect(),
        diagnostics,
        files: vec![path.to_path_buf()],
    })
}

/// Parses and checks one format file: the format when it has no error, and every diagnostic.
pub fn parse(source: &Source, systems: &[&str]) -> (Option<LogFormat>, Vec<Diagnostic>) {
    let mut d = Diagnostics::new(source);
    let root = match yaml::parse(source) {
        Ok(root) => root,
        Err(diagnostic) => return (None, vec![*diagnostic]),
    };
    let NodeKind::Map(entries) = &root.kind else {
        d.error(
            "format-shape",
            root.span,
            format!(
                "a format file is a mapping of keys (`id:`, `file:`, `columns:` …), not {}",
                root.describe()
            ),
        );
        return (None, d.list);
    };
    let mut format = empty_format(source);
    let mut id_span = None;
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in entries {
        let Some(name) = scalar(key) else {
            d.error("format-shape", key.span, "a key must be a word");
            continue;
        };
        if seen.contains(&name) {
            d.error(
                "duplicate-key",
                key.span,
                format!("`{name}` is given twice"),
            );
            continue;
        }
        seen.push(name);
        match name {
            "id" => {
                if let Some(v) = text(&mut d, name, value) {
                    check_id(&mut d, v, value.span);
                    format.id = v.to_string();
                    id_span = Some(value.span);
                }
            }
            "description" => {
                text(&mut d, name, value);
            }
            "system" => {
                if let Some(v) = text(&mut d, name, value) {
                    format.system = Some(known_system(&mut d, systems, v, value.span));
                }
            }
            "file" => {
                if let Some(v) = text(&mut d, name, value) {
                    format.file = file_kind(&mut d, v, value.span);
                }
            }
            "encoding" => {
                if let Some(e) = encoding(&mut d, name, value) {
                    format.encoding = Some(e);
                }
            }
            "delimiter" => {
                if let Some(b) = delimiter(&mut d, name, value) {
                    format.delimiter = Some(b);
                }
            }
            "time_format" => {
                if let Some(v) = text(&mut d, name, value) {
                    if let Some(problem) = time_format_problem(v) {
                        d.error("format-time", value.span, problem).help(
                            "chrono's strftime codes, e.g. `%d/%m/%Y %H.%M` or `%Y-%m-%d %H:%M:%S`",
                        );
                    }
                    format.time_format = Some(v.to_string());
                }
            }
            "columns" | "defaults" => read_fields(&mut d, &mut format, name, value),
            "actions" => read_actions(&mut d, &mut format, name, value),
            "systems" => read_systems(&mut d, &mut format, systems, name, value),
            "record" => format.record = text(&mut d, name, value).map(str::to_string),
            "repeat" => format.repeat = text(&mut d, name, value).map(str::to_string),
            _ => unknown_key(&mut d, name, key.span),
        }
    }
    check_whole(
        &mut d,
        &format,
        id_span.is_some(),
        seen.contains(&"columns"),
    );
    format.header = format
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| is_needed(*i))
        .filter_map(|(_, c)| c.clone())
        .collect();
    let ok = !d.has_errors();
    (ok.then_some(format), d.list)
}

/// A format of file `source` with nothing read yet (a CSV, no column mapped).
fn empty_format(source: &Source) -> LogFormat {
    LogFormat {
        id: String::new(),
        path: source.path.clone(),
        file: FileKind::Csv,
        system: None,
        encoding: None,
        delimiter: None,
        time_format: None,
        columns: vec![None; LOG.columns.len()],
        defaults: vec![None; LOG.columns.len()],
        actions: Vec::new(),
        systems: Vec::new(),
        record: None,
        repeat: None,
        header: Vec::new(),
    }
}

/// Checks that `v`, the value of `id:` at `span`, is an id.
fn check_id(d: &mut Diagnostics, v: &str, span: Span) {
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        d.error(
            "format-id",
            span,
            format!("`{v}` is not an id: use letters, digits, `-` and `_`"),
        );
    }
}

/// The system name `v` (at `span`) in lower case without `ö`, with an error when no routine
/// covers it (when `systems` are known).
fn known_system(d: &mut Diagnostics, systems: &[&str], v: &str, span: Span) -> String {
    let lower = v.to_lowercase().replace('ö', "o");
    if !systems.is_empty() && !systems.contains(&lower.as_str()) {
        let diag = d.error(
            "unknown-system",
            span,
            format!("no routine covers the system `{v}`"),
        );
        if let Some(near) = did_you_mean(v, systems.iter().copied()) {
            diag.help(near);
        }
    }
    lower
}

/// The file kind `v` (at `span`) names; CSV with an error when it names none.
fn file_kind(d: &mut Diagnostics, v: &str, span: Span) -> FileKind {
    match v.to_ascii_lowercase().as_str() {
        "csv" => FileKind::Csv,
        "xlsx" => FileKind::Xlsx,
        "xml" => FileKind::Xml,
        _ => {
            let diag = d.error(
                "format-file",
                span,
                format!("unknown file kind `{v}`: `csv`, `xlsx` or `xml`"),
            );
            if let Some(near) = did_you_mean(v, ["csv", "xlsx", "xml"]) {
                diag.help(near);
            }
            FileKind::Csv
        }
    }
}

/// The encoding that `value` (of key `name`) names, or an error when it is not one we read.
fn encoding(
    d: &mut Diagnostics,
    name: &str,
    value: &Node,
) -> Option<&'static encoding_rs::Encoding> {
    let v = text(d, name, value)?;
    let span = value.span;
    match encoding_rs::Encoding::for_label(v.as_bytes()) {
        Some(e) if e == encoding_rs::UTF_8 || e == encoding_rs::WINDOWS_1252 => Some(e),
        _ => {
            d.error(
                "format-encoding",
                span,
                format!("unknown encoding `{v}`: `utf-8`, `windows-1252` or `iso-8859-1`"),
            );
            None
        }
    }
}

/// The delimiter byte that `value` (of key `name`) gives, or an error when it is not one we
/// read.
fn delimiter(d: &mut Diagnostics, name: &str, value: &Node) -> Option<u8> {
    let v = text(d, name, value)?;
    let span = value.span;
    let v = if v == "\\t" || v == "tab" { "\t" } else { v };
    match v.as_bytes() {
        [b] if matches!(b, b',' | b';' | b'\t' | b'|') => Some(*b),
        _ => {
            d.error(
                "format-delimiter",
                span,
                format!("`{v}` is not a delimiter: `,`, `;`, `|` or `tab`"),
            );
            None
        }
    }
}

/// Reads `columns:` or `defaults:` (`name`): our field: the export's header or a value.
fn read_fields(d: &mut Diagnostics, format: &mut LogFormat, name: &str, value: &Node) {
    let Some(pairs) = mapping(d, name, value) else {
        return;
    };
    let names: Vec<&str> = LOG.columns.iter().map(|c| c.name).collect();
    for (field, v) in pairs {
        let Some(field_name) = scalar(field) else {
            d.error("format-shape", field.span, "a field name must be a word");
            continue;
        };
        let Some(index) = field_index(field_name) else {
            let diag = d.error(
                "unknown-field",
                field.span,
                format!("`{field_name}` is not a field of the access log"),
            );
            match did_you_mean(field_name, names.iter().copied()) {
                Some(near) => diag.help(near),
                None => diag.help(format!("the fields are {}", names.join(", "))),
            };
            continue;
        };
        let Some(v) = text(d, field_name, v) else {
            continue;
        };
        let slot = if name == "columns" {
            &mut format.columns[index]
        } else {
            &mut format.defaults[index]
        };
        if slot.is_some() {
            d.error(
                "duplicate-key",
                field.span,
                format!("`{field_name}` is given twice"),
            );
        }
        *slot = Some(v.to_string());
    }
}

/// Reads `actions:` (`name`): the export's word: ours.
fn read_actions(d: &mut Diagnostics, format: &mut LogFormat, name: &str, value: &Node) {
    let Some(pairs) = mapping(d, name, value) else {
        return;
    };
    let ours: Vec<&str> = ACTIONS.iter().map(|(w, _)| *w).collect();
    for (word, v) in pairs {
        let (Some(word), Some(to)) = (scalar(word), text(d, "actions", v)) else {
            continue;
        };
        match super::action(to) {
            Some(a) => format.actions.push((word.to_lowercase(), a)),
            None => {
                let diag = d.error(
                    "unknown-action",
                    v.span,
                    format!("`{to}` is not one of our action words"),
                );
                match did_you_mean(to, ours.iter().copied()) {
                    Some(near) => diag.help(near),
                    None => diag.help(format!("our words are {}", ours.join(", "))),
                };
            }
        }
    }
}

/// Reads `systems:` (`name`): the export's system name: ours.
fn read_systems(
    d: &mut Diagnostics,
    format: &mut LogFormat,
    systems: &[&str],
    name: &str,
    value: &Node,
) {
    let Some(pairs) = mapping(d, name, value) else {
        return;
    };
    for (word, v) in pairs {
        let (Some(word), Some(to)) = (scalar(word), text(d, "systems", v)) else {
            continue;
        };
        let lower = known_system(d, systems, to, v.span);
        format.systems.push((word.to_lowercase(), lower));
    }
}

/// An error for `name` (at `span`), which is not a key of a format file.
fn unknown_key(d: &mut Diagnostics, name: &str, span: Span) {
    let diag = d.error(
        "unknown-key",
        span,
        format!("`{name}` is not a key of a format file"),
    );
    match did_you_mean(name, KEYS.iter().copied()) {
        Some(near) => diag.help(near),
        None => diag.help(format!("the keys are {}", KEYS.join(", "))),
    };
}

/// Checks the format as a whole once every key is read: an id, the needed fields filled, and
/// the keys of its file kind.
fn check_whole(d: &mut Diagnostics, format: &LogFormat, has_id: bool, has_columns: bool) {
    let top = Span::new(1, 1, 0);
    if !has_id {
        d.error("missing-key", top, "a format needs an `id:`");
    }
    if !has_columns {
        d.error(
            "missing-key",
            top,
            "a format needs `columns:` (our field: the export's header)",
        );
    } else {
        check_filled(d, format, top);
    }
    match format.file {
        FileKind::Xml if format.record.is_none() => {
            d.error(
                "missing-key",
                top,
                "an XML format needs `record:` (the element of one log record, e.g. `log`)",
            );
        }
        FileKind::Csv | FileKind::Xlsx if format.record.is_some() || format.repeat.is_some() => {
            d.error(
                "format-shape",
                top,
                "`record:` and `repeat:` belong to XML formats",
            );
        }
        _ => {}
    }
    if format.file != FileKind::Csv && (format.encoding.is_some() || format.delimiter.is_some()) {
        d.error(
            "format-shape",
            top,
            "`encoding:` and `delimiter:` belong to CSV formats",
        );
    }
}

/// An error at `top` for each needed field that no column, default or `system:` fills.
fn check_filled(d: &mut Diagnostics, format: &LogFormat, top: Span) {
    for field in NEEDED {
        let Some(index) = field_index(field) else {
            continue;
        };
        let filled = format.columns[index].is_some()
            || format.defaults[index].is_some()
            || (*field == "source_system" && format.system.is_some());
        if !filled {
            let help = if *field == "source_system" {
                "map the column that names the system, or give `system:` for the whole file"
                    .to_string()
            } else {
                format!(
                    "map the export's column under `columns:` as `{field}: HEADER`, or give a value under `defaults:`"
                )
            };
            d.error(
                "missing-field",
                top,
                format!("nothing fills the field `{field}`"),
            )
            .help(help);
        }
    }
}

fn scalar(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Scalar { value, .. } => Some(value.as_str()),
        _ => None,
    }
}

/// The text of a scalar value, or an error at it.
fn text<'n>(d: &mut Diagnostics, key: &str, value: &'n Node) -> Option<&'n str> {
    match &value.kind {
        NodeKind::Scalar { value: v, .. } if !value.is_null() => Some(v.as_str()),
        _ => {
            d.error(
                "format-shape",
                value.span,
                format!("`{key}` takes a text, not {}", value.describe()),
            );
            None
        }
    }
}

/// The pairs of a mapping value, or an error at it.
fn mapping<'n>(d: &mut Diagnostics, key: &str, value: &'n Node) -> Option<&'n [(Node, Node)]> {
    match &value.kind {
        NodeKind::Map(pairs) => Some(pairs),
        _ => {
            d.error(
                "format-shape",
                value.span,
                format!("`{key}` takes a mapping, not {}", value.describe()),
            );
            None
        }
    }
}

/// Why a chrono format cannot read a date and a time, if it cannot.
fn time_format_problem(format: &str) -> Option<String> {
    use chrono::format::{Item, StrftimeItems};
    let items: Vec<Item> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Some(format!("`{format}` has an unknown `%` code"));
    }
    let has = |codes: &[&str]| codes.iter().any(|c| format.contains(c));
    if !has(&["%Y", "%y", "%F", "%D", "%x", "%c", "%s", "%+"]) {
        return Some(format!("`{format}` has no year (`%Y`)"));
    }
    if !has(&["%H", "%I", "%R", "%T", "%X", "%c", "%s", "%+"]) {
        return Some(format!("`{format}` has no hour (`%H`)"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Option<LogFormat>, Vec<Diagnostic>) {
        parse(&Source::new("f.yaml", text), &["npo", "treserva"])
    }

    #[test]
    fn a_misspelt_field_is_reported_at_its_line_with_a_suggestion() {
        let (format, diags) = check(
            "id: x\nsystem: treserva\nfile: csv\ncolumns:\n  event_time: Tid\n  user_idd: Användare\n  subject_id: Pnr\n  action: Händelse\n  access_unit_id: Enhet\n",
        );
        assert!(format.is_none());
        let unknown: Vec<&Diagnostic> =
            diags.iter().filter(|d| d.code == "unknown-field").collect();
        assert_eq!(unknown.len(), 1, "{diags:?}");
        assert_eq!((unknown[0].line, unknown[0].column), (6, 3));
        assert_eq!(unknown[0].help.as_deref(), Some("did you mean `user_id`?"));
        assert!(
            unknown[0].render().contains("^^^^^^^^"),
            "{}",
            unknown[0].render()
        );
        // user_id is then unfilled: reported too, all at once.
        assert!(diags.iter().any(|d| d.message.contains("`user_id`")));
    }

    #[test]
    fn every_problem_at_once() {
        let (_, diags) = check(
            "id: x y\nfile: cvs\nencoding: latin-9x\ndelimiter: ab\ntime_format: \"%d/%m %H\"\nsytem: npo\ncolumns:\n  event_time: T\nactions:\n  Visa: Läsaa\n",
        );
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        for code in [
            "format-id",
            "format-file",
            "format-encoding",
            "format-delimiter",
            "format-time",
            "unknown-key",
            "unknown-action",
            "missing-field",
        ] {
            assert!(codes.contains(&code), "{code} in {codes:?}");
        }
        let key = diags.iter().find(|d| d.code == "unknown-key").unwrap();
        assert_eq!(key.line, 6);
        assert_eq!(key.help.as_deref(), Some("did you mean `system`?"));
        let action = diags.iter().find(|d| d.code == "unknown-action").unwrap();
        assert_eq!(action.help.as_deref(), Some("did you mean `Läsa`?"));
    }

    #[test]
    fn a_good_format_reads() {
        let (format, diags) = check(
            "id: kommunens-treserva\nsystem: treserva\nfile: csv\nencoding: windows-1252\ndelimiter: \";\"\ntime_format: \"%d/%m/%Y %H.%M\"\ncolumns:\n  event_time: Tidpunkt\n  user_id: Användar-id\n  subject_id: Personnummer\n  action: Händelse\ndefaults:\n  access_unit_id: okänd\nactions:\n  Visa: Läsa\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let f = format.unwrap();
        assert_eq!(f.encoding, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(f.delimiter, Some(b';'));
        assert_eq!(f.action("VISA"), Some("Läsa"));
        assert_eq!(
            f.column(field_index("user_id").unwrap()),
            Some("Användar-id")
        );
        assert_eq!(
            f.matches_header(&["Tidpunkt", "Användar-id", "personnummer", "Händelse", "x"]),
            (4, true)
        );
        // ISO-8859-1 is read as Windows-1252, its superset (as browsers do).
        let (f, d) = check(
            "id: a\nfile: csv\nencoding: ISO-8859-1\nsystem: npo\ncolumns:\n  event_time: a\n  user_id: b\n  subject_id: c\n  action: d\n  access_unit_id: e\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.unwrap().encoding, Some(encoding_rs::WINDOWS_1252));
    }
}
