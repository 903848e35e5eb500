//! Reading the CSV files that Swedish systems export: the roster files now, access-log exports
//! later. This module owns the bytes-to-rows step and the shape of its diagnostics; what a
//! value *means* belongs to the caller.
//!
//! A file is UTF-8 with or without a BOM, its separator (`,` or `;`) is read off the header
//! line, and columns are found by their header name in any order. Rows stream one at a time
//! through one reused buffer ([`Table::next_row`], [`Table::for_each_row`]), so a log export of
//! millions of rows never sits in memory. Every row knows the physical line it starts on.
//!
//! Why not the `csv` crate's reader: its `Position::line` is where reading of a record *began*,
//! which is before any blank lines skipped in front of the record and before the `\n` left over
//! from the previous record's `\r\n`, so `FILE:LINE` in errors would point at the wrong line.
//! The grammar we accept is small enough to own (RFC 4180 quoting, leniently), and owning it
//! also lets us name the line of invalid UTF-8 and of a quote that is never closed.
//!
//! Problems with the input are not returned one at a time: they go into [`Problems`], which
//! keeps the first ones by file and line and becomes one [`Error::bad_input`] at the end, so a
//! user fixes everything in one round. Only failures of the machine (I/O) stop reading at once.

use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// A column a file is expected to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// A required column must be in the header; an optional one may be left out, and then
    /// reads as empty in every row. Either way a *value* may be empty: that is the caller's call.
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str) -> Column {
        Column {
            name,
            required: true,
        }
    }

    pub const fn optional(name: &'static str) -> Column {
        Column {
            name,
            required: false,
        }
    }
}

/// The columns of one kind of file. A header names them in any order, in any case.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub columns: &'static [Column],
    /// Whether a header may name columns that are not in `columns` (they are then ignored).
    /// Off by default: a misspelt optional column would otherwise vanish without a word.
    pub allow_unknown: bool,
}

impl Schema {
    pub const fn new(columns: &'static [Column]) -> Schema {
        Schema {
            columns,
            allow_unknown: false,
        }
    }

    pub const fn allowing_unknown_columns(self) -> Schema {
        Schema {
            allow_unknown: true,
            ..self
        }
    }

    /// The header line a file of this schema would have, for messages.
    pub fn header_line(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|column| column.name).collect();
        names.join(",")
    }
}

/// One thing wrong with an input file, at a line (`0`: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The path as the user gave it.
    pub path: String,
    pub line: u64,
    pub message: String,
}

impl Problem {
    /// Control characters in `message` (a value with a line break, quoted from the file) are
    /// escaped, so that every problem stays on one line of a listing.
    /// A value quoted in backticks is cut to its first [`QUOTE_LIMIT`] characters, so that a
    /// 2 MB line does not become a 2 MB error.
    pub fn new(path: impl Into<String>, line: u64, message: impl Into<String>) -> Problem {
        let mut message = shorten_quoted(message.into());
        if message.chars().any(char::is_control) {
            message = message
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
        }
        Problem {
            path: path.into(),
            line,
            message,
        }
    }
}

/// How many characters of a value an error quotes.
pub(crate) const QUOTE_LIMIT: usize = 200;

/// `message` with each backquoted span longer than [`QUOTE_LIMIT`] characters cut to its start,
/// followed by `…` and its length; a message without backquotes is cut the same way as a whole
/// beyond ten times the limit.
fn shorten_quoted(message: String) -> String {
    if message.len() <= QUOTE_LIMIT {
        return message;
    }
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let limit = if i % 2 == 1 {
            QUOTE_LIMIT
        } else {
            QUOTE_LIMIT * 10
        };
        out.push_str(&cut(part, limit));
    }
    out
}

/// The first `limit` characters of `text`, and how long it was when it was longer.
pub(crate) fn cut(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(limit) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!(
            "{}… ({} characters in all)",
            &text[..end],
            text.chars().count()
        )),
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(f, "{}:{}: {}", self.path, self.line, self.message)
        }
    }
}

/// The problems found in one or more files, kept in order of file (the order in which each
/// file first reported one) and line. Only the first `limit` are kept, so a file with a
/// million bad rows costs no more memory than one with fifty; the rest are counted.
#[derive(Debug)]
pub struct Problems {
    limit: usize,
    total: usize,
    kept: BinaryHeap<Ranked>,
    files: Vec<String>,
}

/// How many problems an error message lists before it says how many more there are.
pub(crate) const PROBLEM_LIMIT: usize = 50;

impl Default for Problems {
    fn default() -> Problems {
        Problems::with_limit(PROBLEM_LIMIT)
    }
}

impl Problems {
    pub fn new() -> Problems {
        Problems::default()
    }

    pub(crate) fn with_limit(limit: usize) -> Problems {
        Problems {
            limit: limit.max(1),
            total: 0,
            kept: BinaryHeap::new(),
            files: Vec::new(),
        }
    }

    pub fn push(&mut self, problem: Problem) {
        let file = match self.files.iter().position(|path| *path == problem.path) {
            Some(index) => index,
            None => {
                self.files.push(problem.path.clone());
                self.files.len() - 1
            }
        };
        let rank = (file, problem.line, self.total);
        self.total += 1;
        self.kept.push(Ranked { rank, problem });
        if self.kept.len() > self.limit {
            self.kept.pop();
        }
    }

    /// How many problems were pushed, kept or not.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The kept problems, by file and line.
    pub(crate) fn into_sorted(self) -> Vec<Problem> {
        self.kept
            .into_sorted_vec()
            .into_iter()
            .map(|ranked| ranked.problem)
            .collect()
    }

    /// `Ok(value)` when nothing was found, otherwise every kept problem as one refusal.
    pub(crate) fn into_result<T>(self, value: T) -> Result<T> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// One [`Error::bad_input`] listing the problems one per line, by file and line.
    pub(crate) fn into_error(self) -> Error {
        let total = self.total;
        let problems = self.into_sorted();
        let mut lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
        let more = total - problems.len();
        if more > 0 {
            let noun = if more == 1 { "error" } else { "errors" };
            lines.push(format!("and {more} more {noun}"));
        }
        Error::bad_input(lines.join("\n"))
    }
}

#[derive(Debug)]
struct Ranked {
    rank: (usize, u64, usize),
    problem: Problem,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.rank == other.rank
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.rank.cmp(&other.rank)
    }
}

/// The candidate a misspelt `word` most likely meant (`suggest::nearest`).
pub(crate) use crate::suggest::nearest as did_you_mean;

/// ` (did you mean `x`?)` when there is a near candidate, otherwise ` (expected one of …)`
/// naming them all; for the end of an "unknown …" message.
pub(crate) fn suggestion(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(near) => format!(" (did you mean `{near}`?)"),
        None if candidates.is_empty() => String::new(),
        None => format!(" (expected one of {})", backticked(candidates)),
    }
}

/// `a`, `b`, `c` — a list of names for a message.
pub(crate) fn backticked(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

/// A CSV file being read, one row at a time.
#[derive(Debug)]
pub(crate) struct Table<R> {
    path: String,
    lexer: Lexer<R>,
    record: RawRecord,
    columns: Vec<Mapped>,
    header: Vec<String>,
    width: usize,
}

/// A schema column and the field of the file that holds it.
#[derive(Debug, Clone, Copy)]
struct Mapped {
    name: &'static str,
    field: Option<usize>,
}

impl Table<BufReader<File>> {
    /// Opens the file at `path` and reads its header. A missing file or an unusable header is
    /// a problem (pushed, `Ok(None)`); only other I/O failures are errors.
    pub(crate) fn open(
        path: &Path,
        schema: &Schema,
        problems: &mut Problems,
    ) -> Result<Option<Table<BufReader<File>>>> {
        let name = path.display().to_string();
        match File::open(path) {
            Ok(file) => Table::from_reader(name, BufReader::new(file), schema, problems),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                problems.push(Problem::new(name, 0, "no such file"));
                Ok(None)
            }
            Err(err) => Err(Error::runtime(format!("{name}: {err}"))),
        }
    }
}

impl<R: BufRead> Table<R> {
    /// Reads the header of `input`, named `path` in messages. An unusable header (missing,
    /// unknown or repeated columns, an empty file, not UTF-8) is pushed as problems and gives
    /// `Ok(None)`: no row of such a file can be read with confidence.
    pub(crate) fn from_reader(
        path: impl Into<String>,
        input: R,
        schema: &Schema,
        problems: &mut Problems,
    ) -> Result<Option<Table<R>>> {
        let path = path.into();
        let mut lexer = Lexer::new(input);
        let mut record = RawRecord::default();
        loop {
            if !lexer
                .next_record(&mut record)
                .map_err(|err| read_error(&path, &lexer, &err))?
            {
                let message = if lexer.utf16 {
                    "the file is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)".to_string()
                } else {
                    format!(
                        "the file is empty (expected a header line: {})",
                        schema.header_line()
                    )
                };
                problems.push(Problem::new(path, 0, message));
                return Ok(None);
            }
            if !record.is_empty() {
                break;
            }
        }
        let line = record.line;
        if let Some(bad) = record.invalid_utf8 {
            problems.push(Problem::new(path, bad, NOT_UTF8));
            return Ok(None);
        }
        if record.unclosed.is_some() {
            let message = "the header has a quoted name that is never closed (a `\"` is missing)";
            problems.push(Problem::new(path, line, message));
            return Ok(None);
        }

        let header: Vec<String> = (0..record.len())
            .map(|index| record.field(index).to_string())
            .collect();
        let mut columns: Vec<Mapped> = schema
            .columns
            .iter()
            .map(|column| Mapped {
                name: column.name,
                field: None,
            })
            .collect();
        let known: Vec<&str> = schema.columns.iter().map(|column| column.name).collect();
        let before = problems.len();
        for (index, name) in header.iter().enumerate() {
            if name.is_empty() {
                let message = format!("column {} has no name", index + 1);
                problems.push(Problem::new(path.clone(), line, message));
                continue;
            }
            match columns
                .iter_mut()
                .find(|mapped| mapped.name.eq_ignore_ascii_case(name))
            {
                Some(mapped) => match mapped.field {
                    Some(first) => {
                        let message = format!(
                            "column `{}` appears twice (columns {} and {})",
                            mapped.name,
                            first + 1,
                            index + 1
                        );
                        problems.push(Problem::new(path.clone(), line, message));
                    }
                    None => mapped.field = Some(index),
                },
                None if schema.allow_unknown => {}
                None => {
                    let message = format!("unknown column `{name}`{}", suggestion(name, &known));
                    problems.push(Problem::new(path.clone(), line, message));
                }
            }
        }
        for (column, mapped) in schema.columns.iter().zip(&columns) {
            if column.required && mapped.field.is_none() {
                let message = format!("missing column `{}`", column.name);
                problems.push(Problem::new(path.clone(), line, message));
            }
        }
        if problems.len() > before {
            return Ok(None);
        }
        Ok(Some(Table {
            path,
            lexer,
            width: header.len(),
            record,
            columns,
            header,
        }))
    }

    /// The path as the user gave it.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Sets the longest record read (default [`MAX_RECORD`]).
    pub(crate) fn set_max_record(&mut self, bytes: usize) {
        self.lexer.max_record = bytes;
    }

    /// The separator found in the header line: `b','` or `b';'`.
    #[cfg(test)]
    pub(crate) fn separator(&self) -> u8 {
        self.lexer.separator.unwrap_or(b',')
    }

    /// The next row with a value for every column of the header. Rows that cannot be read
    /// (wrong number of fields, not UTF-8, a quote never closed) are pushed as problems and
    /// skipped; lines with nothing but separators and blanks are skipped silently.
    pub(crate) fn next_row(&mut self, problems: &mut Problems) -> Result<Option<Row<'_>>> {
        let header = &self.header;
        while next_readable(
            &mut self.lexer,
            &mut self.record,
            &self.path,
            problems,
            |field| field_label(header, field),
        )? {
            let record = &self.record;
            if record.len() != self.width {
                let hint = if self.lexer.separator == Some(b';') && record.len() > self.width {
                    " (a value that contains `;` must be in double quotes)"
                } else {
                    ""
                };
                let message = format!(
                    "expected {} fields as in the header, found {}{hint}",
                    self.width,
                    record.len()
                );
                problems.push(Problem::new(self.path.clone(), record.line, message));
                continue;
            }
            return Ok(Some(Row {
                path: &self.path,
                record: &self.record,
                columns: &self.columns,
            }));
        }
        Ok(None)
    }

    /// Calls `each` with every readable row, in order; stops at the first error it returns.
    #[cfg(test)]
    pub(crate) fn for_each_row(
        mut self,
        problems: &mut Problems,
        mut each: impl FnMut(Row<'_>, &mut Problems) -> Result<()>,
    ) -> Result<()> {
        while let Some(row) = self.next_row(problems)? {
            each(row, problems)?;
        }
        Ok(())
    }
}

/// The records of a delimited file without a schema, for readers that find their header row
/// themselves (the log formats of `formats/*.yaml`): the same lexer, quoting and line numbers
/// as [`Table`].
pub(crate) struct Records<R> {
    path: String,
    lexer: Lexer<R>,
    record: RawRecord,
}

impl<R: BufRead> Records<R> {
    /// Reads `input`, named `path` in messages; the separator is `separator`, or read off the
    /// first line that is not blank (`,` or `;`).
    pub(crate) fn new(path: impl Into<String>, input: R, separator: Option<u8>) -> Records<R> {
        let mut lexer = Lexer::new(input);
        lexer.separator = separator;
        Records {
            path: path.into(),
            lexer,
            record: RawRecord::default(),
        }
    }

    /// Sets the longest record read (default [`MAX_RECORD`]).
    pub(crate) fn set_max_record(&mut self, bytes: usize) {
        self.lexer.max_record = bytes;
    }

    /// Whether the input began with a UTF-16 byte-order mark (nothing is read from it).
    pub(crate) fn is_utf16(&self) -> bool {
        self.lexer.utf16
    }

    /// The next record that can be read; records that cannot (not UTF-8, a quote never closed)
    /// are pushed as problems and skipped, and so are lines of nothing but separators.
    pub(crate) fn next_record(&mut self, problems: &mut Problems) -> Result<Option<Fields<'_>>> {
        let more = next_readable(
            &mut self.lexer,
            &mut self.record,
            &self.path,
            problems,
            |field| format!("field {}: ", field + 1),
        )?;
        Ok(more.then_some(Fields {
            record: &self.record,
        }))
    }
}

/// The fields of one record of [`Records`], valid until the next is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'r> {
    record: &'r RawRecord,
}

impl<'r> Fields<'r> {
    /// The physical line the record starts on, from 1.
    pub(crate) fn line(&self) -> u64 {
        self.record.line
    }

    pub(crate) fn len(&self) -> usize {
        self.record.len()
    }

    /// Field `index`, trimmed; empty past the last field.
    pub(crate) fn get(&self, index: usize) -> &'r str {
        self.record.field(index)
    }

    /// Field `index` as written, blanks around it kept (but those before a quoted value).
    pub(crate) fn get_raw(&self, index: usize) -> &'r str {
        self.record.field_raw(index)
    }
}

/// "field `name`: " for the field at `index`, by its header name when it has one.
fn field_label(header: &[String], index: usize) -> String {
    match header.get(index) {
        Some(name) if !name.is_empty() => format!("field `{name}`: "),
        _ => format!("field {}: ", index + 1),
    }
}

/// Reads the next record that can be read into `record`; records that cannot (not UTF-8, a
/// quote never closed) are pushed as problems and skipped, and so are lines of nothing but
/// separators. False at the end of the input.
fn next_readable<R: BufRead>(
    lexer: &mut Lexer<R>,
    record: &mut RawRecord,
    path: &str,
    problems: &mut Problems,
    label: impl Fn(usize) -> String,
) -> Result<bool> {
    loop {
        if !lexer
            .next_record(record)
            .map_err(|err| read_error(path, lexer, &err))?
        {
            return Ok(false);
        }
        if let Some(bad) = record.invalid_utf8 {
            problems.push(Problem::new(path, bad, NOT_UTF8));
            continue;
        }
        if let Some(field) = record.unclosed {
            let message = format!(
                "{}the quoted value is never closed (a `\"` is missing)",
                label(field)
            );
            problems.push(Problem::new(path, record.line, message));
            continue;
        }
        if record.is_empty() {
            continue;
        }
        return Ok(true);
    }
}

const NOT_UTF8: &str = "not valid UTF-8 (save the file as UTF-8)";

/// The default longest record (a line, or the lines of one quoted value): 1 MB.
pub(crate) const MAX_RECORD: usize = 1 << 20;

/// A reader's refusal of the file it reads (not a failure of the machine): what is wrong, and
/// the line where.
#[derive(Debug)]
pub(crate) struct FileFault {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for FileFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for FileFault {}

/// A failure to read: the file's own fault (a record too long, a reader's [`FileFault`]) or
/// the machine's.
fn read_error<R>(path: &str, lexer: &Lexer<R>, err: &io::Error) -> Error {
    if let Some(fault) = err.get_ref().and_then(|e| e.downcast_ref::<FileFault>()) {
        return Error::bad_input(format!("{path}:{}: {}", fault.line, fault.message));
    }
    match lexer.too_long {
        Some(line) => Error::bad_input(format!(
            "{path}:{line}: a line longer than {} bytes: not an export of records (the limit is `[logs] max_value`)",
            lexer.max_record
        )),
        None => Error::runtime(format!("{path}: {err}")),
    }
}

/// One row of a [`Table`], valid until the next is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'t> {
    path: &'t str,
    record: &'t RawRecord,
    columns: &'t [Mapped],
}

impl<'t> Row<'t> {
    /// The physical line of the file the row starts on, from 1.
    pub(crate) fn line(&self) -> u64 {
        self.record.line
    }

    pub(crate) fn path(&self) -> &'t str {
        self.path
    }

    /// The value of `column`, without surrounding whitespace; empty when the column is an
    /// optional one the file leaves out. `column` must be a column of the schema.
    pub(crate) fn get(&self, column: &str) -> &'t str {
        let mapped = self.columns.iter().find(|mapped| mapped.name == column);
        debug_assert!(mapped.is_some(), "`{column}` is not a column of the schema");
        mapped
            .and_then(|mapped| mapped.field)
            .map_or("", |field| self.record.field(field))
    }

    /// The value of the schema's column number `index` (as [`Row::get`], without looking the
    /// name up: for readers of millions of rows).
    pub(crate) fn get_at(&self, index: usize) -> &'t str {
        self.columns
            .get(index)
            .and_then(|mapped| mapped.field)
            .map_or("", |field| self.record.field(field))
    }

    /// The value of column number `index` as written, blanks around it kept.
    pub(crate) fn get_raw_at(&self, index: usize) -> &'t str {
        self.columns
            .get(index)
            .and_then(|mapped| mapped.field)
            .map_or("", |field| self.record.field_raw(field))
    }

    /// A problem with the value of `column`: `FILE:LINE: field `column`: message`.
    pub(crate) fn problem(&self, column: &str, message: impl fmt::Display) -> Problem {
        Problem::new(
            self.path,
            self.line(),
            format!("field `{column}`: {message}"),
        )
    }
}

/// The fields of one record: their text end to end in one buffer, reused from row to row.
#[derive(Debug, Default)]
struct RawRecord {
    /// The physical line the record starts on.
    line: u64,
    text: String,
    bounds: Vec<(usize, usize)>,
    start: usize,
    /// The first line with bytes that are not UTF-8 (replaced, so the record keeps its shape).
    invalid_utf8: Option<u64>,
    /// The field whose quoted value runs to the end of the file.
    unclosed: Option<usize>,
}

impl RawRecord {
    fn clear(&mut self) {
        self.line = 0;
        self.text.clear();
        self.bounds.clear();
        self.start = 0;
        self.invalid_utf8 = None;
        self.unclosed = None;
    }

    fn end_field(&mut self) {
        self.bounds.push((self.start, self.text.len()));
        self.start = self.text.len();
    }

    fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Field `index` as written.
    fn field_raw(&self, index: usize) -> &str {
        self.bounds
            .get(index)
            .and_then(|&(start, end)| self.text.get(start..end))
            .unwrap_or("")
    }

    /// Field `index`, trimmed.
    fn field(&self, index: usize) -> &str {
        self.bounds
            .get(index)
            .and_then(|&(start, end)| self.text.get(start..end))
            .map_or("", str::trim)
    }

    /// Whether every field is blank (a line of separators, as spreadsheets leave behind).
    fn is_empty(&self) -> bool {
        (0..self.len()).all(|index| self.field(index).is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first character of a field; blanks here are dropped so that `a, "b;c"` works.
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted value: the end of the quotes, or the first half of `""`.
    QuoteInQuoted,
}

/// Splits the input into records by physical lines, counting them.
#[derive(Debug)]
struct Lexer<R> {
    input: R,
    /// Physical lines read so far.
    line: u64,
    raw: Vec<u8>,
    separator: Option<u8>,
    /// The file starts with a UTF-16 byte-order mark; nothing is read from it.
    utf16: bool,
    /// The longest record read, in bytes; a longer one stops the reading (in bounded memory).
    max_record: usize,
    /// The line of a record longer than `max_record`.
    too_long: Option<u64>,
}

impl<R: BufRead> Lexer<R> {
    fn new(input: R) -> Lexer<R> {
        Lexer {
            input,
            line: 0,
            raw: Vec::new(),
            separator: None,
            utf16: false,
            max_record: MAX_RECORD,
            too_long: None,
        }
    }

    /// Appends the rest of the line (to `\n`) to `raw`, refusing to hold more than the
    /// longest record; the bytes read.
    fn read_until_newline(&mut self) -> io::Result<usize> {
        let mut read = 0;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(read);
            }
            let (n, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if self.raw.len() + n > self.max_record + 2 {
                self.too_long = Some(self.line + 1);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a line longer than the limit",
                ));
            }
            self.raw.extend_from_slice(&buf[..n]);
            self.input.consume(n);
            read += n;
            if done {
                return Ok(read);
            }
        }
    }

    /// Reads the next physical line into `raw` without its line ending; false at the end.
    fn read_line(&mut self) -> io::Result<bool> {
        self.raw.clear();
        if self.utf16 || self.read_until_newline()? == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.line == 1 {
            if self.raw.starts_with(&[0xFF, 0xFE]) || self.raw.starts_with(&[0xFE, 0xFF]) {
                self.utf16 = true;
                return Ok(false);
            }
            if self.raw.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.raw.drain(..3);
            }
        }
        if self.raw.last() == Some(&b'\n') {
            self.raw.pop();
        }
        if self.raw.last() == Some(&b'\r') {
            self.raw.pop();
        }
        Ok(true)
    }

    /// Reads the next record into `record`; false at the end of the input. Blank lines between
    /// records are skipped. The separator is fixed by the first line that is not blank.
    fn next_record(&mut self, record: &mut RawRecord) -> io::Result<bool> {
        record.clear();
        loop {
            if !self.read_line()? {
                return Ok(false);
            }
            if !self.raw.iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        record.line = self.line;
        let separator = char::from(
            *self
                .separator
                .get_or_insert_with(|| detect_separator(&self.raw)),
        );
        // Fast path for the common line without quotes: split at the separator (an ASCII byte,
        // so never inside a UTF-8 sequence). Blanks around values are trimmed when read, as
        // the character loop below would.
        if !self.raw.contains(&b'"')
            && let Ok(text) = std::str::from_utf8(&self.raw)
        {
            record.text.push_str(text);
            let separator = separator as u8;
            let mut start = 0;
            for (i, &b) in self.raw.iter().enumerate() {
                if b == separator {
                    record.bounds.push((start, i));
                    start = i + 1;
                }
            }
            record.bounds.push((start, self.raw.len()));
            record.start = self.raw.len();
            return Ok(true);
        }
        let mut state = State::FieldStart;
        loop {
            let text = match std::str::from_utf8(&self.raw) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => {
                    record.invalid_utf8.get_or_insert(self.line);
                    String::from_utf8_lossy(&self.raw)
                }
            };
            for c in text.chars() {
                state = match state {
                    State::FieldStart if c == '"' => State::Quoted,
                    State::FieldStart if c == ' ' || c == '\t' => State::FieldStart,
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted
                        if c == separator =>
                    {
                        record.end_field();
                        State::FieldStart
                    }
                    State::Quoted if c == '"' => State::QuoteInQuoted,
                    State::Quoted => {
                        record.text.push(c);
                        State::Quoted
                    }
                    State::QuoteInQuoted if c == '"' => {
                        record.text.push('"');
                        State::Quoted
                    }
                    // Text after a closing quote is kept, as spreadsheets and the `csv` crate do.
                    State::FieldStart | State::Unquoted | State::QuoteInQuoted => {
                        record.text.push(c);
                        State::Unquoted
                    }
                };
            }
            if state != State::Quoted {
                record.end_field();
                return Ok(true);
            }
            // A line break inside quotes belongs to the value; the record goes on.
            record.text.push('\n');
            if record.text.len() > self.max_record {
                self.too_long = Some(record.line);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a record longer than the limit",
                ));
            }
            if !self.read_line()? {
                record.text.pop();
                record.unclosed = Some(record.len());
                record.end_field();
                return Ok(true);
            }
        }
    }
}

/// `;` when the header line has more semicolons than commas outside quotes, otherwise `,`.
fn detect_separator(line: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &byte in line {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCHEMA: Schema = Schema::new(&[
        Column::required("id"),
        Column::required("name"),
        Column::optional("note"),
    ]);

    /// Reads `input` as `t.csv`: each row as `line: id|name|note`, then the problems.
    fn read(input: &str) -> (Vec<String>, Vec<String>) {
        read_bytes(input.as_bytes(), &SCHEMA)
    }

    fn read_bytes(input: &[u8], schema: &Schema) -> (Vec<String>, Vec<String>) {
        let mut problems = Problems::new();
        let mut rows = Vec::new();
        let columns: Vec<&str> = schema.columns.iter().map(|column| column.name).collect();
        if let Some(table) = Table::from_reader("t.csv", input, schema, &mut problems)
            .expect("reading from memory does not fail")
        {
            table
                .for_each_row(&mut problems, |row, _| {
                    let values: Vec<&str> = columns.iter().map(|name| row.get(name)).collect();
                    rows.push(format!("{}: {}", row.line(), values.join("|")));
                    Ok(())
                })
                .expect("reading from memory does not fail");
        }
        let problems = problems
            .into_sorted()
            .iter()
            .map(Problem::to_string)
            .collect();
        (rows, problems)
    }

    fn check(input: &str, rows: &[&str], problems: &[&str]) {
        let (actual_rows, actual_problems) = read(input);
        assert_eq!(actual_rows, rows, "rows of {input:?}");
        assert_eq!(actual_problems, problems, "problems of {input:?}");
    }

    #[test]
    fn comma_file() {
        check(
            "id,name,note\n1,Anna,x\n2,Bo,\n",
            &["2: 1|Anna|x", "3: 2|Bo|"],
            &[],
        );
    }

    #[test]
    fn semicolon_file_with_quoted_semicolons() {
        check(
            "id;name;note\n1;Anna;\"a;b\"\n2;Bo,Berg;c\n",
            &["2: 1|Anna|a;b", "3: 2|Bo,Berg|c"],
            &[],
        );
    }

    #[test]
    fn separator_in_quoted_header_name_does_not_count() {
        check(
            "\"id;x\",name\n",
            &[],
            &[
                "t.csv:1: unknown column `id;x` (expected one of `id`, `name`, `note`)",
                "t.csv:1: missing column `id`",
            ],
        );
    }

    #[test]
    fn bom_and_crlf() {
        check(
            "\u{feff}id,name\r\n1,Anna\r\n\r\n2,Bo\r\n",
            &["2: 1|Anna|", "4: 2|Bo|"],
            &[],
        );
    }

    #[test]
    fn columns_in_any_order_and_any_case() {
        check("Name , ID\nAnna,1\n", &["2: 1|Anna|"], &[]);
    }

    #[test]
    fn fields_are_trimmed_inside_and_outside_quotes() {
        check(
            "id,name,note\n 1 ,  \" Anna \" , \u{a0}x\t\n",
            &["2: 1|Anna|x"],
            &[],
        );
    }

    #[test]
    fn blank_lines_and_lines_of_separators_are_skipped() {
        check(
            "\n  \nid,name\n\n1,Anna\n,\n \t \n2,Bo",
            &["5: 1|Anna|", "8: 2|Bo|"],
            &[],
        );
    }

    #[test]
    fn multi_line_field_keeps_line_numbers() {
        check(
            "id,name,note\n1,Anna,\"first\r\n\nthird\"\n2,Bo,\"a \"\"quote\"\"\"\n3,Cecilia,\n",
            &[
                "2: 1|Anna|first\n\nthird",
                "5: 2|Bo|a \"quote\"",
                "6: 3|Cecilia|",
            ],
            &[],
        );
    }

    #[test]
    fn text_after_closing_quote_is_kept() {
        check("id,name\n1,\"An\"na\n", &["2: 1|Anna|"], &[]);
    }

    #[test]
    fn quote_inside_unquoted_value_is_literal() {
        check(
            "id,name\n1,Anna \"Annie\" Berg\n",
            &["2: 1|Anna \"Annie\" Berg|"],
            &[],
        );
    }

    #[test]
    fn wrong_number_of_fields() {
        check(
            "id,name\n1\n2,Bo,x\n3,Cecilia\n",
            &["4: 3|Cecilia|"],
            &[
                "t.csv:2: expected 2 fields as in the header, found 1",
                "t.csv:3: expected 2 fields as in the header, found 3",
            ],
        );
    }

    #[test]
    fn unquoted_semicolon_in_semicolon_file_gets_a_hint() {
        check(
            "id;name\n1;Anna;Berg\n",
            &[],
            &[
                "t.csv:2: expected 2 fields as in the header, found 3 (a value that contains `;` must be in double quotes)",
            ],
        );
    }

    #[test]
    fn unclosed_quote_is_reported_where_it_starts() {
        check(
            "id,name,note\n1,Anna,x\n2,\"Bo,\n3,Cecilia,y\n",
            &["2: 1|Anna|x"],
            &["t.csv:3: field `name`: the quoted value is never closed (a `\"` is missing)"],
        );
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let (rows, problems) = read_bytes(b"id,name\n1,\"Anna\n\xe5sa\"\n2,Bo\n", &SCHEMA);
        assert_eq!(rows, ["4: 2|Bo|"]);
        assert_eq!(
            problems,
            ["t.csv:3: not valid UTF-8 (save the file as UTF-8)"]
        );
    }

    #[test]
    fn latin1_header() {
        let (rows, problems) = read_bytes(b"id,n\xe4me\n", &SCHEMA);
        assert!(rows.is_empty());
        assert_eq!(
            problems,
            ["t.csv:1: not valid UTF-8 (save the file as UTF-8)"]
        );
    }

    #[test]
    fn utf16_file() {
        let (_, problems) = read_bytes(b"\xff\xfei\x00d\x00\n\x00", &SCHEMA);
        assert_eq!(
            problems,
            ["t.csv: the file is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)"]
        );
    }

    #[test]
    fn empty_file() {
        for input in ["", "\u{feff}", "\n\r\n  \n", ",,\n"] {
            check(
                input,
                &[],
                &["t.csv: the file is empty (expected a header line: id,name,note)"],
            );
        }
    }

    #[test]
    fn header_problems_are_all_reported() {
        check(
            "idd,nmae,,id,other,id\n1,2,3,4,5,6\n",
            &[],
            &[
                "t.csv:1: unknown column `idd` (did you mean `id`?)",
                "t.csv:1: unknown column `nmae` (did you mean `name`?)",
                "t.csv:1: column 3 has no name",
                "t.csv:1: unknown column `other` (expected one of `id`, `name`, `note`)",
                "t.csv:1: column `id` appears twice (columns 4 and 6)",
                "t.csv:1: missing column `name`",
            ],
        );
    }

    #[test]
    fn unclosed_quote_in_header() {
        check(
            "id,\"name\n",
            &[],
            &["t.csv:1: the header has a quoted name that is never closed (a `\"` is missing)"],
        );
    }

    #[test]
    fn unknown_columns_can_be_allowed() {
        let schema = SCHEMA.allowing_unknown_columns();
        let (rows, problems) = read_bytes(b"id,extra,name\n1,x,Anna\n", &schema);
        assert_eq!(rows, ["2: 1|Anna|"]);
        assert!(problems.is_empty());
    }

    #[test]
    fn missing_file_is_a_problem_not_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nope.csv");
        let mut problems = Problems::new();
        let table = Table::open(&path, &SCHEMA, &mut problems).expect("not a runtime error");
        assert!(table.is_none());
        assert_eq!(
            problems.into_sorted()[0].to_string(),
            format!("{}: no such file", path.display())
        );
    }

    #[test]
    fn separator_is_reported() {
        let mut problems = Problems::new();
        let table = Table::from_reader("t.csv", &b"id;name\n"[..], &SCHEMA, &mut problems)
            .expect("in memory");
        assert_eq!(table.map(|table| table.separator()), Some(b';'));
    }

    #[test]
    fn long_quoted_values_are_cut_to_their_start() {
        let value = "å".repeat(2_000_000);
        let p = Problem::new(
            "logg.csv",
            2,
            format!("field `event_time`: `{value}` is not a time"),
        );
        let shown = p.to_string();
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        assert!(
            shown.starts_with("logg.csv:2: field `event_time`: `ååå"),
            "{shown}"
        );
        assert!(shown.contains(&format!(
            "{}… (2000000 characters in all)`",
            "å".repeat(200)
        )));
        assert!(shown.ends_with("is not a time"), "{shown}");
        // Short messages are as they were.
        let p = Problem::new("a.csv", 1, "field `x`: `abc` is wrong");
        assert_eq!(p.message, "field `x`: `abc` is wrong");
        // Text outside quotes is cut too, further out.
        let p = Problem::new("a.csv", 1, "x".repeat(100_000));
        assert!(p.message.len() < 2_100, "{}", p.message.len());
    }

    #[test]
    fn problems_are_sorted_by_file_then_line_and_capped() {
        let mut problems = Problems::with_limit(3);
        problems.push(Problem::new("units.csv", 9, "c"));
        problems.push(Problem::new("people.csv", 2, "e"));
        problems.push(Problem::new("units.csv", 0, "a"));
        problems.push(Problem::new("units.csv", 4, "b"));
        problems.push(Problem::new("people.csv", 1, "d"));
        assert_eq!(problems.len(), 5);
        let error = problems.into_error();
        assert_eq!(error.kind, crate::ErrorKind::BadInput);
        assert_eq!(
            error.message,
            "units.csv: a\nunits.csv:4: b\nunits.csv:9: c\nand 2 more errors"
        );
    }

    #[test]
    fn a_problem_stays_on_one_line() {
        let problem = Problem::new("t.csv", 2, "`a\nb\r\tc`");
        assert_eq!(problem.to_string(), "t.csv:2: `a\\nb\\r\\tc`");
    }

    #[test]
    fn did_you_mean_finds_near_names_only() {
        let names = ["unit_manager", "operations_manager", "sas", "mas"];
        assert_eq!(did_you_mean("unit_manger", names), Some("unit_manager"));
        assert_eq!(did_you_mean("SAS", names), Some("sas"));
        assert_eq!(did_you_mean("mss", names), Some("mas"));
        assert_eq!(did_you_mean("boss", names), None);
        assert_eq!(did_you_mean("", names), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_bytes(&input, &SCHEMA);
        }

        #[test]
        fn arbitrary_csv_like_text_never_panics(input in "[a-z\",;\r\n \u{feff}å]{0,120}") {
            let _ = read(&input);
        }

        /// What the `csv` crate writes, we read back: the same values, each row at the line
        /// it starts on, whatever quotes, separators and line breaks the values hold.
        #[test]
        fn reads_what_csv_writes(
            semicolon in any::<bool>(),
            crlf in any::<bool>(),
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-c ,;\"\n\r]{0,6}", 3), 0..8),
        ) {
            let separator = if semicolon { b';' } else { b',' };
            let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
            let mut writer = csv::WriterBuilder::new()
                .delimiter(separator)
                .terminator(terminator)
                .from_writer(Vec::new());
            writer.write_record(["id", "name", "note"]).expect("in memory");
            let mut expected = Vec::new();
            let mut line = 2;
            for row in &rows {
                let row: Vec<String> = row.iter().map(|value| value.replace('\r', "")).collect();
                writer.write_record(&row).expect("in memory");
                let values: Vec<&str> = row.iter().map(|value| value.trim()).collect();
                if values.iter().any(|value| !value.is_empty()) {
                    expected.push(format!("{line}: {}", values.join("|")));
                }
                line += 1 + row.iter().map(|value| value.matches('\n').count() as u64).sum::<u64>();
            }
            let bytes = writer.into_inner().expect("in memory");
            let (actual, problems) = read_bytes(&bytes, &SCHEMA);
            prop_assert!(problems.is_empty(), "{problems:?}");
            prop_assert_eq!(actual, expected);
        }
    }
}
