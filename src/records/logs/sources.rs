//! The readers of access-log exports: our standard CSV, a CSV described by a format file (any
//! delimiter, Windows-1252 or UTF-8, its own headers and words), an Excel sheet, and RIV-TA
//! `ehr:log` XML. Each gives [`LogRow`]s, one at a time, that the import validates alike; each
//! knows the line (or spreadsheet row) of every row, for `FILE:LINE` in errors.

use super::format::{FileKind, LogFormat, field_index};
use super::{ACTION, LOG, LogRow, Rows, SOURCE_SYSTEM, SUBJECT_ID};
use crate::tabular::{Problem, Problems, Records, Table};
use crate::{Error, Result};
use std::io::{BufRead, BufReader, Read};

const FIELDS: usize = 13;

/// How many records at the top of a file may come before its header (titles, blank rows).
const HEADER_SEARCH: usize = 50;

/// Our own CSV, read by the schema reader (unknown columns refused, as `docs/cli.md` says).
pub(crate) struct StandardCsv<R> {
    pub table: Table<R>,
}

impl<R: BufRead> Rows for StandardCsv<R> {
    fn next_row(&mut self, problems: &mut Problems) -> Result<Option<LogRow<'_>>> {
        let Some(row) = self.table.next_row(problems)? else {
            return Ok(None);
        };
        let mut fields = [""; FIELDS];
        for (i, f) in fields.iter_mut().enumerate() {
            *f = row.get_at(i);
        }
        Ok(Some(LogRow {
            path: row.path(),
            line: row.line(),
            fields,
            format: None,
            raw_subject: row.get_raw_at(SUBJECT_ID),
        }))
    }
}

/// The values a format gives every row: defaults, and its words mapped to ours.
struct Mapping<'f> {
    format: &'f LogFormat,
    /// For each field, the index of its column in the export's header.
    at: [Option<usize>; FIELDS],
}

impl<'f> Mapping<'f> {
    /// Finds each mapped header in `header` (any case); `None` when one a row needs is missing
    /// (the columns of optional fields may be left out).
    fn new(format: &'f LogFormat, header: &[&str]) -> Option<Mapping<'f>> {
        let mut at = [None; FIELDS];
        for (i, slot) in at.iter_mut().enumerate() {
            if let Some(name) = format.column(i) {
                *slot = header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name));
                if slot.is_none() && super::format::is_needed(i) {
                    return None;
                }
            }
        }
        Some(Mapping { format, at })
    }

    /// The row's fields from the cells `cell(index)`.
    fn fields<'a>(&'a self, cell: impl Fn(usize) -> &'a str) -> [&'a str; FIELDS] {
        fill(self.format, |i| self.at[i].map_or("", &cell))
    }
}

/// A row's fields from `value(field)`: the format's default for an empty one, its words as ours.
fn fill<'a>(format: &'a LogFormat, value: impl Fn(usize) -> &'a str) -> [&'a str; FIELDS] {
    let mut fields = [""; FIELDS];
    for (i, f) in fields.iter_mut().enumerate() {
        let v = value(i);
        *f = if v.is_empty() {
            format.defaults[i].as_deref().unwrap_or("")
        } else {
            v
        };
    }
    map_words(format, &mut fields);
    fields
}

/// The format's words for actions and systems, as ours; the format's system for a row that
/// names none.
fn map_words<'a>(format: &'a LogFormat, fields: &mut [&'a str; FIELDS]) {
    if let Some(ours) = format.action(fields[ACTION]) {
        fields[ACTION] = ours;
    }
    if let Some(ours) = format.system_name(fields[SOURCE_SYSTEM]) {
        fields[SOURCE_SYSTEM] = ours;
    }
    if fields[SOURCE_SYSTEM].is_empty()
        && let Some(system) = &format.system
    {
        fields[SOURCE_SYSTEM] = system;
    }
}

/// A CSV described by a format file: the header row is found by its names among the first
/// records, other columns are ignored.
pub(crate) struct FormatCsv<'f, R> {
    path: String,
    records: Records<R>,
    mapping: Mapping<'f>,
}

impl<'f, R: BufRead> FormatCsv<'f, R> {
    /// Reads up to the header row; `Ok(None)` with a problem pushed when there is none.
    pub(crate) fn new(
        path: &str,
        input: R,
        format: &'f LogFormat,
        limit: usize,
        problems: &mut Problems,
    ) -> Result<Option<FormatCsv<'f, R>>> {
        let mut records = Records::new(path, input, format.delimiter);
        records.set_max_record(limit);
        let mut best: (usize, Vec<String>) = (0, Vec::new());
        for _ in 0..HEADER_SEARCH {
            let Some(fields) = records.next_record(problems)? else {
                break;
            };
            let header: Vec<&str> = (0..fields.len()).map(|i| fields.get(i)).collect();
            if let Some(mapping) = Mapping::new(format, &header) {
                return Ok(Some(FormatCsv {
                    path: path.to_string(),
                    records,
                    mapping,
                }));
            }
            let (found, _) = format.matches_header(&header);
            if found > best.0 {
                best = (found, header.iter().map(|s| s.to_string()).collect());
            }
        }
        if records.is_utf16() {
            problems.push(Problem::new(
                path,
                0,
                "the file is UTF-16; save it as UTF-8 or Windows-1252",
            ));
            return Ok(None);
        }
        problems.push(Problem::new(path, 0, missing_header(format, &best.1)));
        Ok(None)
    }
}

/// "no header row with the columns of format X: missing `A`, `B`".
fn missing_header(format: &LogFormat, nearest: &[String]) -> String {
    let missing: Vec<String> = format
        .header
        .iter()
        .filter(|h| !nearest.iter().any(|n| n.trim().eq_ignore_ascii_case(h)))
        .map(|h| {
            let near: Vec<&str> = nearest.iter().map(String::as_str).collect();
            format!(
                "`{h}`{}",
                crate::tabular::did_you_mean(h, near.iter().copied())
                    .map(|n| format!(" (the file has `{n}`)"))
                    .unwrap_or_default()
            )
        })
        .collect();
    format!(
        "no header row with the columns of format `{}` in its first {HEADER_SEARCH} rows: missing {}",
        format.id,
        missing.join(", ")
    )
}

impl<R: BufRead> Rows for FormatCsv<'_, R> {
    fn next_row(&mut self, problems: &mut Problems) -> Result<Option<LogRow<'_>>> {
        let Some(record) = self.records.next_record(problems)? else {
            return Ok(None);
        };
        let fields = self.mapping.fields(|i| record.get(i));
        Ok(Some(LogRow {
            path: &self.path,
            line: record.line(),
            fields,
            format: Some(self.mapping.format),
            raw_subject: self.mapping.at[SUBJECT_ID].map_or("", |i| record.get_raw(i)),
        }))
    }
}

/// The text of a CSV as UTF-8: as it is when it is UTF-8, decoded when the format declares
/// Windows-1252 (ISO-8859-1 is read as its superset), or when the first megabyte is not UTF-8.
pub(crate) fn decoded<'r, R: Read + Send + 'r>(
    input: R,
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<(Box<dyn BufRead + Send + 'r>, Option<&'static str>)> {
    let mut input = BufReader::with_capacity(1 << 20, input);
    let encoding = match declared {
        Some(e) if e == encoding_rs::UTF_8 => None,
        Some(e) => Some(e),
        None => {
            let head = input
                .fill_buf()
                .map_err(|e| Error::runtime(format!("reading: {e}")))?;
            let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
            match std::str::from_utf8(head) {
                // A sequence cut at the end of the buffer is not a sign of another encoding.
                Err(e) if e.error_len().is_some() => Some(encoding_rs::WINDOWS_1252),
                _ => None,
            }
        }
    };
    Ok(match encoding {
        None => (Box::new(input), None),
        Some(e) => (
            Box::new(BufReader::with_capacity(1 << 18, Decode::new(input, e))),
            Some(e.name()),
        ),
    })
}

/// A reader that decodes a single-byte encoding into UTF-8 as it goes, and refuses a line that
/// is UTF-8 already (a file whose rows mix encodings would be read wrong: `Ã„rlig`).
struct Decode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    done: bool,
    /// Lines read so far.
    lines: u64,
}

/// Where `bytes` hold a multi-byte UTF-8 sequence (a lead byte and its continuations, not
/// ending at the end of `bytes`): in text of a single-byte encoding, a sign of UTF-8 rows.
fn utf8_sequence(bytes: &[u8]) -> Option<usize> {
    let cont = |b: Option<&u8>| b.is_some_and(|b| (0x80..=0xBF).contains(b));
    let mut from = 0;
    // Only a byte from 0xC2 on can lead a sequence: found a run of plain bytes at a time.
    while let Some(offset) = bytes.get(from..)?.iter().position(|b| *b >= 0xC2) {
        let i = from + offset;
        let need = match bytes[i] {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => 0,
        };
        if need > 0 && (1..=need).all(|k| cont(bytes.get(i + k))) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

impl<R: BufRead> Decode<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Decode<R> {
        Decode {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            raw: vec![0; 1 << 16],
            out: Vec::with_capacity(3 << 16),
            at: 0,
            done: false,
            lines: 0,
        }
    }
}

impl<R: BufRead> Read for Decode<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            let chunk = &self.raw[..n];
            if let Some(at) = utf8_sequence(chunk) {
                let line = self.lines + 1 + memchr_count(&chunk[..at]);
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    crate::tabular::FileFault {
                        line,
                        message: "this line is UTF-8, but the file is read as Windows-1252 (as its format declares, or as its first lines are): a file of one encoding only, please (preferably UTF-8)".into(),
                    },
                ));
            }
            self.lines += memchr_count(chunk);
            self.out.clear();
            self.at = 0;
            self.out.resize(
                self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16),
                0,
            );
            let (_, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.raw[..n], &mut self.out, last);
            debug_assert_eq!(read, n);
            self.out.truncate(written);
            self.done = last;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The format a CSV's header says, among `formats` and our standard: the first whose every
/// column is in one of the first records.
pub(crate) fn sniff_csv<'f, R: BufRead>(
    path: &str,
    input: R,
    formats: &'f [LogFormat],
) -> Result<std::result::Result<Option<&'f LogFormat>, String>> {
    let mut records = Records::new(path, input, None);
    let mut problems = Problems::new();
    let csv: Vec<&LogFormat> = formats.iter().filter(|f| f.file == FileKind::Csv).collect();
    let required: Vec<&str> = LOG
        .columns
        .iter()
        .filter(|c| c.required)
        .map(|c| c.name)
        .collect();
    let mut first: Option<Vec<String>> = None;
    let mut ours_seen = false;
    for _ in 0..HEADER_SEARCH {
        let Some(fields) = records.next_record(&mut problems)? else {
            break;
        };
        let header: Vec<&str> = (0..fields.len()).map(|i| fields.get(i)).collect();
        if first.is_none() {
            first = Some(header.iter().map(|s| s.to_string()).collect());
            // Our own header is the first line, as `docs/cli.md` has it.
            let ours = required
                .iter()
                .filter(|r| header.iter().any(|h| h.eq_ignore_ascii_case(r)))
                .count();
            if ours * 2 > required.len() {
                return Ok(Ok(None));
            }
            ours_seen = ours > 0;
        }
        if let Some(f) = csv.iter().find(|f| f.matches_header(&header).1) {
            return Ok(Ok(Some(f)));
        }
    }
    // A header with some of our names and no format's: ours with a mistake, which the schema
    // reader names column by column.
    if ours_seen {
        return Ok(Ok(None));
    }
    let mut message = format!(
        "the header matches no log format: neither our columns ({}) nor a format in formats/",
        required.join(", ")
    );
    for f in &csv {
        let (found, _) = f.matches_header(
            &first
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        message.push_str(&format!(
            "; `{}` ({} of its {} columns found)",
            f.id,
            found,
            f.header.len()
        ));
    }
    message.push_str(" (give --format ID|PATH, or write a format file: see docs/cli.md)");
    Ok(Err(message))
}

/// The rows of the first sheet of an Excel workbook, with the header row found by its names.
/// The sheet is read on a thread of its own and handed over in batches, so neither the whole
/// sheet nor the whole file's rows sit in memory.
pub(crate) struct XlsxRows<'f> {
    path: String,
    rows: std::sync::mpsc::Receiver<Sheet>,
    /// Emptied batches go back to the sheet's thread to be filled again: the memory of a cell
    /// is allocated and freed on one thread (freeing across threads serialises the allocator).
    back: std::sync::mpsc::SyncSender<SheetRows>,
    batch: SheetRows,
    /// The current row's index in `batch`.
    at: usize,
    mapping: Option<Mapping<'f>>,
    format: &'f LogFormat,
    header_problem: Option<String>,
    /// The current row's time, when the sheet gave it as a date serial.
    time: Option<String>,
    /// The sheet's thread said it read the sheet to its end.
    done: bool,
    /// The workbook counts dates from 1904.
    date1904: bool,
}

enum Sheet {
    /// The workbook counts dates from 1904 (first of all).
    Date1904(bool),
    Rows(SheetRows),
    Failed(String),
    /// The sheet was read to its end (without it, the reader stopped short).
    Done,
}

/// Rows of a sheet, packed: every cell's text in one buffer.
#[derive(Default)]
struct SheetRows {
    text: String,
    /// Each cell's end in `text` (it starts where the one before ends); a row's cells are
    /// consecutive, one per column from A, empty ones included.
    ends: Vec<usize>,
    /// Each row: its number as Excel numbers it, and its first cell's index in `ends`.
    rows: Vec<(u64, usize)>,
}

impl SheetRows {
    /// A batch is sent when it has this many rows, cells or bytes of text (a hostile sheet with
    /// a far column on every row, or huge cells, stays bounded).
    const ROWS: usize = 1024;
    const CELLS: usize = 1 << 16;
    const TEXT: usize = 4 << 20;

    fn full(&self) -> bool {
        self.rows.len() >= SheetRows::ROWS
            || self.ends.len() >= SheetRows::CELLS
            || self.text.len() >= SheetRows::TEXT
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.rows.clear();
    }

    /// Where row `r`'s cells are in `ends`.
    fn span(&self, r: usize) -> std::ops::Range<usize> {
        let first = self.rows.get(r).map_or(0, |row| row.1);
        let last = self.rows.get(r + 1).map_or(self.ends.len(), |row| row.1);
        first..last
    }

    /// The cells of row `r`.
    fn cells(&self, r: usize) -> impl Iterator<Item = &str> + '_ {
        self.span(r).map(move |i| self.cell_at(i))
    }

    fn cell_at(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..self.ends[i]).unwrap_or("")
    }

    /// Cell `c` (from column A) of row `r`; empty past the row's end.
    fn cell(&self, r: usize, c: usize) -> &str {
        let span = self.span(r);
        if span.start + c < span.end {
            self.cell_at(span.start + c)
        } else {
            ""
        }
    }

    /// Starts row `number` (cells are then pushed in column order).
    fn start_row(&mut self, number: u64) {
        self.rows.push((number, self.ends.len()));
    }

    /// The text of the row being filled.
    fn row_text(&self) -> usize {
        let first = self.rows.last().map_or(0, |row| row.1);
        let start = if first == 0 { 0 } else { self.ends[first - 1] };
        self.text.len() - start
    }

    /// Gives back the memory of a batch that grew past its usual size (a row of huge cells).
    fn shrink(&mut self) {
        if self.text.capacity() > 2 * SheetRows::TEXT {
            self.text.shrink_to(SheetRows::TEXT);
        }
    }

    /// Puts `value` in column `c` of the row being filled, after empty cells up to it; false
    /// (and nothing put) when the row has a cell in that column or one to its right already.
    fn push_cell(&mut self, c: usize, value: &str) -> bool {
        let first = self.rows.last().map_or(0, |row| row.1);
        while self.ends.len() < first + c {
            self.ends.push(self.text.len());
        }
        if self.ends.len() > first + c {
            return false;
        }
        self.text.push_str(value);
        self.ends.push(self.text.len());
        true
    }
}

/// The biggest workbook read (compressed); an export of a year of log fits many times over.
const MAX_XLSX_BYTES: u64 = 512 << 20;

impl<'f> XlsxRows<'f> {
    pub(crate) fn open(
        path: &std::path::Path,
        format: &'f LogFormat,
        limit: usize,
        problems: &mut Problems,
    ) -> Result<Option<XlsxRows<'f>>> {
        let name = path.display().to_string();
        let file =
            std::fs::File::open(path).map_err(|e| Error::bad_input(format!("{name}: {e}")))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_XLSX_BYTES {
            problems.push(Problem::new(
                &name,
                0,
                format!(
                    "the workbook is {} MB, more than the {} MB read: export the log as CSV",
                    size >> 20,
                    MAX_XLSX_BYTES >> 20
                ),
            ));
            return Ok(None);
        }
        let (send, rows) = std::sync::mpsc::sync_channel(4);
        let (back, reuse) = std::sync::mpsc::sync_channel(8);
        std::thread::Builder::new()
            .name("xlsx".into())
            .spawn(move || read_sheet(file, limit, &send, &reuse))
            .map_err(|e| Error::runtime(format!("{name}: {e}")))?;
        let mut me = XlsxRows {
            path: name,
            rows,
            back,
            batch: SheetRows::default(),
            at: 0,
            mapping: None,
            format,
            header_problem: None,
            time: None,
            done: false,
            date1904: false,
        };
        // The header: the first row (of the first few) that has every mapped name.
        let mut best: (usize, Vec<String>) = (0, Vec::new());
        for _ in 0..HEADER_SEARCH {
            if !me.advance(problems)? {
                break;
            }
            let header: Vec<&str> = me.batch.cells(me.at).collect();
            if let Some(m) = Mapping::new(format, &header) {
                me.mapping = Some(m);
                return Ok(Some(me));
            }
            let (found, _) = format.matches_header(&header);
            if found > best.0 {
                best = (found, header.iter().map(|h| h.to_string()).collect());
            }
        }
        if problems.is_empty() {
            let message = me
                .header_problem
                .take()
                .unwrap_or_else(|| missing_header(format, &best.1));
            problems.push(Problem::new(&me.path, 0, message));
        }
        Ok(None)
    }

    /// Moves to the next non-empty row; false at the end (or when the sheet failed, pushed).
    fn advance(&mut self, problems: &mut Problems) -> Result<bool> {
        loop {
            // The first call starts before the first batch: `at` is 0 of an empty one.
            let next = if self.batch.rows.is_empty() {
                0
            } else {
                self.at + 1
            };
            if next < self.batch.rows.len() {
                self.at = next;
                if self.batch.cells(next).all(|c| c.trim().is_empty()) {
                    continue;
                }
                return Ok(true);
            }
            match self.rows.recv() {
                Ok(Sheet::Rows(batch)) => {
                    let mut done = std::mem::replace(&mut self.batch, batch);
                    done.clear();
                    // Dropped here when the sheet's thread has enough spares.
                    let _ = self.back.try_send(done);
                    self.at = 0;
                    if self.batch.rows.is_empty() {
                        continue;
                    }
                    if self.batch.cells(0).all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    return Ok(true);
                }
                Ok(Sheet::Failed(message)) => {
                    problems.push(Problem::new(&self.path, 0, message));
                    return Ok(false);
                }
                Ok(Sheet::Date1904(on)) => {
                    self.date1904 = on;
                    continue;
                }
                Ok(Sheet::Done) => {
                    self.done = true;
                    return Ok(false);
                }
                Err(_) if self.done => return Ok(false),
                Err(_) => {
                    // The sheet's thread stopped without saying it was done: never a short
                    // import taken for a whole one.
                    problems.push(Problem::new(
                        &self.path,
                        0,
                        "the sheet could not be read to its end",
                    ));
                    return Ok(false);
                }
            }
        }
    }
}

impl Rows for XlsxRows<'_> {
    fn next_row(&mut self, problems: &mut Problems) -> Result<Option<LogRow<'_>>> {
        if !self.advance(problems)? {
            return Ok(None);
        }
        let Some(mapping) = &self.mapping else {
            return Ok(None);
        };
        let (batch, r) = (&self.batch, self.at);
        // A time written as a number is an Excel date serial, whatever the cell's style says.
        self.time = mapping.at[super::EVENT_TIME]
            .map(|i| batch.cell(r, i))
            .and_then(|c| c.trim().parse::<f64>().ok())
            .filter(|x| (1.0..2_958_466.0).contains(x))
            .map(|x| super::xlsx::excel_time(x, self.date1904));
        let mut fields = mapping.fields(|i| batch.cell(r, i).trim());
        if let Some(t) = &self.time {
            fields[super::EVENT_TIME] = t;
        }
        Ok(Some(LogRow {
            path: &self.path,
            line: batch.rows.get(r).map_or(0, |row| row.0),
            fields,
            format: Some(self.format),
            raw_subject: mapping.at[SUBJECT_ID].map_or("", |i| batch.cell(r, i)),
        }))
    }
}

/// Reads the first sheet's cells in order, sending rows (numbered as Excel numbers them) in
/// batches, filling the emptied batches that come back; stops when the receiver is gone.
fn read_sheet(
    file: std::fs::File,
    limit: usize,
    send: &std::sync::mpsc::SyncSender<Sheet>,
    reuse: &std::sync::mpsc::Receiver<SheetRows>,
) {
    let fail = |m: String| {
        let _ = send.send(Sheet::Failed(m));
    };
    let mut book = match super::xlsx::Workbook::open(file, limit) {
        Ok(book) => book,
        Err(m) => return fail(m),
    };
    if send.send(Sheet::Date1904(book.date1904)).is_err() {
        return;
    }
    let mut sink = SheetSink {
        batch: SheetRows::default(),
        send,
        reuse,
        stopped: false,
        sheet: book.sheet.clone(),
        row_max: limit.saturating_mul(2),
        twice: None,
    };
    if let Err(m) = book.cells(&mut sink) {
        return fail(m);
    }
    if sink.stopped {
        return;
    }
    if !sink.batch.rows.is_empty() && send.send(Sheet::Rows(sink.batch)).is_err() {
        return;
    }
    let _ = send.send(Sheet::Done);
}

/// Packs a sheet's cells into batches of rows and sends them.
struct SheetSink<'s> {
    batch: SheetRows,
    send: &'s std::sync::mpsc::SyncSender<Sheet>,
    reuse: &'s std::sync::mpsc::Receiver<SheetRows>,
    /// The receiver is gone.
    stopped: bool,
    sheet: String,
    /// The most text one row may hold.
    row_max: usize,
    /// A cell given twice (or out of order), refused at the next check.
    twice: Option<String>,
}

impl super::xlsx::Cells for SheetSink<'_> {
    fn row(&mut self, number: u64) -> bool {
        if !self.batch.rows.is_empty() && self.batch.full() {
            let mut spare = self.reuse.try_recv().unwrap_or_default();
            spare.clear();
            spare.shrink();
            let full = std::mem::replace(&mut self.batch, spare);
            if self.send.send(Sheet::Rows(full)).is_err() {
                self.stopped = true;
                return false;
            }
        }
        self.batch.start_row(number);
        true
    }

    fn cell(&mut self, column: usize, text: &str) {
        if self.batch.rows.is_empty() {
            // A cell before any row: a sheet without `<row>`s.
            self.batch.start_row(1);
        }
        if !self.batch.push_cell(column, text) && self.twice.is_none() {
            let row = self.batch.rows.last().map_or(0, |r| r.0);
            self.twice = Some(format!(
                "sheet `{}`, cell {}{row}: given twice, or after a cell to its right: not a sheet as Excel writes it",
                self.sheet,
                super::xlsx::letters(column)
            ));
        }
    }

    fn check(&mut self) -> std::result::Result<(), String> {
        if let Some(message) = self.twice.take() {
            return Err(message);
        }
        if self.batch.row_text() > self.row_max {
            let row = self.batch.rows.last().map_or(0, |r| r.0);
            return Err(format!(
                "sheet `{}`, row {row}: more than {} of text in one row: not an access log",
                self.sheet,
                super::xlsx::size(self.row_max)
            ));
        }
        Ok(())
    }
}

/// RIV-TA `ehr:log` records (or any XML of records a format describes), streamed: each
/// `record` element wherever it sits, under any wrapper and any namespace prefix; one row per
/// `repeat` element in it.
pub(crate) struct XmlRows<'f, R: Read> {
    path: String,
    reader: quick_xml::Reader<super::xlsx::Bounded<R>>,
    /// The longest field, and the most text of one record.
    limit: usize,
    /// How many records were found (none in a file is refused: the format reads another
    /// contract).
    pub records: u64,
    /// Until the first record: the first elements met (local name, namespace), and the
    /// namespace prefixes declared, for the message of a file without records.
    seen: Vec<(String, String)>,
    prefixes: Vec<(String, String)>,
    /// How deep the reader is outside records.
    outer: usize,
    /// The element names of the path inside a record, reused.
    names: Vec<String>,
    buf: Vec<u8>,
    format: &'f LogFormat,
    /// For each field, its path split at `/`, and whether it lies under the repeat.
    paths: Vec<(usize, Vec<String>, bool)>,
    record: String,
    repeat: Vec<String>,
    /// The lines read so far (newlines in the events seen).
    line: u64,
    pending: std::collections::VecDeque<(u64, [String; FIELDS])>,
    current: (u64, [String; FIELDS]),
    done: bool,
}

/// The most repeats of one record.
const XML_REPEAT_MAX: usize = 10_000;
/// The deepest nesting read (inside a record, and before the first).
const XML_DEPTH_MAX: usize = 256;

impl<'f, R: Read> XmlRows<'f, R> {
    pub(crate) fn new(path: &str, input: R, format: &'f LogFormat, limit: usize) -> XmlRows<'f, R> {
        let split = |p: &str| -> Vec<String> {
            p.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let repeat = format.repeat.as_deref().map(split).unwrap_or_default();
        let paths = (0..FIELDS)
            .filter_map(|i| {
                let p = split(format.column(i)?);
                let under = !repeat.is_empty() && p.starts_with(&repeat);
                let rel = if under { p[repeat.len()..].to_vec() } else { p };
                Some((i, rel, under))
            })
            .collect();
        let mut reader = quick_xml::Reader::from_reader(super::xlsx::Bounded::new(input, limit));
        reader.config_mut().expand_empty_elements = true;
        XmlRows {
            path: path.to_string(),
            reader,
            buf: Vec::with_capacity(4096),
            format,
            paths,
            record: format.record.clone().unwrap_or_else(|| "log".into()),
            repeat,
            limit,
            records: 0,
            seen: Vec::new(),
            prefixes: Vec::new(),
            outer: 0,
            names: Vec::new(),
            line: 1,
            pending: std::collections::VecDeque::new(),
            current: (0, Default::default()),
            done: false,
        }
    }

    /// Reads up to the end of the next record, queueing its rows; false at the end.
    fn read_record(&mut self, problems: &mut Problems) -> Result<bool> {
        use quick_xml::events::Event;
        let mut inside = false;
        let mut start_line = 0;
        // Path below the record, and below the current repeat element.
        // The names below the record down to the current element: `self.names[..depth]` (the
        // strings are kept from record to record, so that no element allocates).
        let mut depth = 0usize;
        let mut common: [String; FIELDS] = Default::default();
        let mut items: Vec<[String; FIELDS]> = Vec::new();
        let mut item: Option<[String; FIELDS]> = None;
        let count = |s: &str| memchr_count(s.as_bytes());
        // The record's text so far: bounded, as each field is.
        let mut text_len = 0usize;
        let record_max = self.limit.saturating_mul(8);
        loop {
            self.buf.clear();
            self.reader.get_mut().reset();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => {
                    let message = self.reader.get_ref().failure("an XML node", &e);
                    self.stop(problems, self.line, message);
                    return Ok(false);
                }
            };
            match event {
                Event::Start(e) => {
                    self.line += count(e.attributes_raw());
                    let local = e.local_name();
                    let local: &str = local.as_ref();
                    if !inside {
                        if local == self.record {
                            inside = true;
                            start_line = self.line;
                            self.records += 1;
                            continue;
                        }
                        // Wrappers around the records (the record's own end is read inside).
                        self.outer += 1;
                        if self.outer > XML_DEPTH_MAX {
                            let message = format!(
                                "elements nested deeper than {XML_DEPTH_MAX}: not an access log"
                            );
                            self.stop(problems, self.line, message);
                            return Ok(false);
                        }
                        if self.records == 0 {
                            note(&mut self.seen, &mut self.prefixes, &e, &self.record);
                        }
                        continue;
                    }
                    if depth >= XML_DEPTH_MAX {
                        let message = format!(
                            "elements nested deeper than {XML_DEPTH_MAX} in a `{}` record: not an access log",
                            self.record
                        );
                        self.stop(problems, self.line, message);
                        return Ok(false);
                    }
                    match self.names.get_mut(depth) {
                        Some(name) => {
                            name.clear();
                            name.push_str(local);
                        }
                        None => self.names.push(local.to_string()),
                    }
                    depth += 1;
                    if !self.repeat.is_empty() && self.names[..depth] == self.repeat[..] {
                        item = Some(Default::default());
                    }
                }
                Event::End(e) => {
                    self.line += count(e.as_ref());
                    if !inside {
                        self.outer = self.outer.saturating_sub(1);
                        continue;
                    }
                    if depth == 0 {
                        // The record's own end.
                        return Ok(self.end_record(problems, start_line, common, items, item));
                    }
                    if !self.end_repeat(problems, start_line, depth, &mut item, &mut items) {
                        return Ok(false);
                    }
                    depth -= 1;
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    let text = match text_of(&event) {
                        Ok(text) => text,
                        Err(message) => {
                            self.stop(problems, self.line, message);
                            return Ok(false);
                        }
                    };
                    if !matches!(event, Event::GeneralRef(_)) {
                        self.line += count(&text);
                    }
                    if inside {
                        text_len += text.len();
                        let field = take_text(
                            &self.paths,
                            &self.repeat,
                            &self.names[..depth],
                            &text,
                            &mut common,
                            item.as_mut(),
                            self.limit,
                        );
                        if !self.text_fits(problems, field, text_len, start_line, record_max) {
                            return Ok(false);
                        }
                    }
                }
                Event::Comment(t) => self.line += count(t.as_ref()),
                Event::DocType(t) => self.line += count(t.as_ref()),
                Event::PI(t) => self.line += count(t.as_ref()),
                Event::Decl(_) | Event::Empty(_) => {}
                Event::Eof => {
                    self.end_of_file(problems, inside, start_line);
                    return Ok(false);
                }
            }
        }
    }

    /// At the end of the file, `inside` a record that began at `start_line` or not: refuses a
    /// record never closed, or a file without records.
    fn end_of_file(&mut self, problems: &mut Problems, inside: bool, start_line: u64) {
        if inside {
            problems.push(Problem::new(
                &self.path,
                start_line,
                format!("the `{}` record is never closed", self.record),
            ));
        } else if self.records == 0 {
            problems.push(Problem::new(&self.path, 0, self.no_record()));
        }
        self.done = true;
    }

    /// Refuses the file at `line` with `message`: nothing more is read.
    fn stop(&mut self, problems: &mut Problems, line: u64, message: String) {
        problems.push(Problem::new(&self.path, line, message));
        self.done = true;
    }

    /// At the end of the record that began at `start_line`: queues its rows (false, the file
    /// refused, when they would copy its shared fields past the record's bound).
    fn end_record(
        &mut self,
        problems: &mut Problems,
        start_line: u64,
        common: [String; FIELDS],
        mut items: Vec<[String; FIELDS]>,
        item: Option<[String; FIELDS]>,
    ) -> bool {
        if let Some(it) = item {
            items.push(it);
        }
        // Each row of the record copies its shared fields: bounded too.
        let record_max = self.limit.saturating_mul(8);
        let shared: usize = common.iter().map(String::len).sum();
        if shared.saturating_mul(items.len()) > record_max {
            let message = format!(
                "a `{}` record whose {} `{}` elements would copy its fields to more than {}: not an access log",
                self.record,
                items.len(),
                self.repeat.join("/"),
                super::xlsx::size(record_max)
            );
            self.stop(problems, start_line, message);
            return false;
        }
        self.emit(start_line, common, items);
        true
    }

    /// At the end of an element `depth` deep in the record: the repeat element's row taken
    /// into `items` (false, the file refused, past [`XML_REPEAT_MAX`] of them).
    fn end_repeat(
        &mut self,
        problems: &mut Problems,
        start_line: u64,
        depth: usize,
        item: &mut Option<[String; FIELDS]>,
        items: &mut Vec<[String; FIELDS]>,
    ) -> bool {
        if !self.repeat.is_empty()
            && self.names[..depth] == self.repeat[..]
            && let Some(it) = item.take()
        {
            if items.len() >= XML_REPEAT_MAX {
                let message = format!(
                    "a record with more than {XML_REPEAT_MAX} `{}` elements",
                    self.repeat.join("/")
                );
                self.stop(problems, start_line, message);
                return false;
            }
            items.push(it);
        }
        true
    }

    /// Whether the text just taken (`field`, `Err` of the field it made too long) keeps the
    /// record within its bounds, `text_len` of it so far; false, the file refused, when not.
    fn text_fits(
        &mut self,
        problems: &mut Problems,
        field: std::result::Result<(), usize>,
        text_len: usize,
        start_line: u64,
        record_max: usize,
    ) -> bool {
        if let Err(i) = field {
            let column = LOG.columns.get(i).map_or("", |c| c.name);
            let path = self.format.column(i).unwrap_or("");
            let message = format!(
                "field `{column}` (`{path}`): longer than {}: not an access log (the limit is `[logs] max_value`)",
                super::xlsx::size(self.limit)
            );
            self.stop(problems, self.line, message);
            return false;
        }
        if text_len > record_max {
            let message = format!(
                "a `{}` record with more than {} of text: not an access log",
                self.record,
                super::xlsx::size(record_max)
            );
            self.stop(problems, start_line, message);
            return false;
        }
        true
    }
}

/// Notes an element met before the first record (the first few, with their namespaces).
fn note(
    seen: &mut Vec<(String, String)>,
    prefixes: &mut Vec<(String, String)>,
    e: &quick_xml::events::BytesStart,
    record: &str,
) {
    // The first few, and one whose name is the record's but for case (past the few too).
    let local = e.local_name();
    let local = local.as_ref();
    let near = (!record.is_empty()
        && local.eq_ignore_ascii_case(record)
        && !seen.iter().any(|(l, _)| l.eq_ignore_ascii_case(record)))
        || (PATIENT_LEVEL.contains(&local) && !seen.iter().any(|(l, _)| l == local));
    if seen.len() >= 8 && !near {
        return;
    }
    for a in e.attributes().with_checks(false).flatten() {
        let key: &str = a.key.as_ref();
        let prefix = match key {
            "xmlns" => Some(""),
            k => k.strip_prefix("xmlns:"),
        };
        if let Some(prefix) = prefix {
            let uri = a.value.to_string();
            prefixes.retain(|(p, _)| p != prefix);
            prefixes.push((prefix.to_string(), uri));
        }
    }
    let prefix = e
        .name()
        .prefix()
        .map(|p| p.as_ref().to_string())
        .unwrap_or_default();
    let ns = prefixes
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, uri)| uri.clone())
        .unwrap_or_default();
    let local = e.local_name().as_ref().to_string();
    if !seen.iter().any(|(l, n)| *l == local && *n == ns) {
        seen.push((local, ns));
    }
}

impl<R: Read> XmlRows<'_, R> {
    /// Why a file without records is refused: what the format reads, what the file holds.
    fn no_record(&self) -> String {
        no_record_message(self.format, &self.record, &self.seen)
    }
}

/// The XML format among `formats` whose record element the file holds first (in its first
/// thousands of elements); with none, the only XML format, or why none fits.
pub(crate) fn sniff_xml<R: Read>(
    input: R,
    formats: &[LogFormat],
    limit: usize,
) -> std::result::Result<&LogFormat, String> {
    use quick_xml::events::Event;
    let xml: Vec<&LogFormat> = formats.iter().filter(|f| f.file == FileKind::Xml).collect();
    let mut reader = quick_xml::Reader::from_reader(super::xlsx::Bounded::new(input, limit));
    let mut buf = Vec::new();
    let (mut seen, mut prefixes) = (Vec::new(), Vec::new());
    let mut failure = None;
    for _ in 0..20_000 {
        buf.clear();
        reader.get_mut().reset();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let local = e.local_name();
                if let Some(f) = xml
                    .iter()
                    .find(|f| f.record.as_deref() == Some(local.as_ref()))
                {
                    return Ok(f);
                }
                note(&mut seen, &mut prefixes, &e, "");
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                failure = Some(reader.get_ref().failure("an XML node", &e));
                break;
            }
            Ok(_) => {}
        }
    }
    match xml.as_slice() {
        [only] => Ok(only),
        _ if failure.is_some() => Err(failure.unwrap_or_default()),
        _ => {
            let reads: Vec<String> = xml
                .iter()
                .map(|f| format!("`{}` reads `{}`", f.id, f.record.as_deref().unwrap_or("")))
                .collect();
            let first = no_record_message(&LogFormat::standard(), "", &seen);
            let found = match first.split_once("the file's first elements: ") {
                Some((_, f)) => format!("the file's first elements: {f}"),
                None => first
                    .strip_prefix("no `` record: ")
                    .unwrap_or(&first)
                    .to_string(),
            };
            Err(format!(
                "no XML log format fits the file ({}); {found} (give --format ID|PATH, or write a format file: see docs/cli.md)",
                reads.join(", ")
            ))
        }
    }
}

/// The elements of Inera's patient-level answer (GetAccessLogsForPatient), which has no user.
const PATIENT_LEVEL: &[&str] = &[
    "GetAccessLogsForPatientResponse",
    "AccesssLogs",
    "AccessLog",
];

/// "no `log` record: the format `inera-xml` reads `log`; found `Log` in urn:…".
pub(crate) fn no_record_message(
    format: &LogFormat,
    record: &str,
    seen: &[(String, String)],
) -> String {
    let named = |(local, ns): &(String, String)| {
        if ns.is_empty() {
            format!("`{local}`")
        } else {
            format!("`{local}` in {ns}")
        }
    };
    if seen.is_empty() {
        return format!(
            "no `{record}` record: the file holds no XML element (the format `{}` reads `{record}` records)",
            format.id
        );
    }
    // Inera's patient-level answer says which care units read a record, not who.
    if seen.iter().any(|(l, _)| {
        l == "GetAccessLogsForPatientResponse" || l == "AccessLog" || l == "AccesssLogs"
    }) {
        return format!(
            "no `{record}` record: this is Inera's GetAccessLogsForPatient answer, whose `AccessLog`s name the care provider, care unit, time, purpose and resource type of each access but not the user who read the record, nor the patient: loggkoll cannot review or show who read whose record from it. Ask for a log report with users (GetLogsForPatient or GetLogsForCareProvider, read by the format `inera-ehr-log`)"
        );
    }
    let found: Vec<String> = seen.iter().map(named).collect();
    let near = seen.iter().find(|(l, _)| {
        l.eq_ignore_ascii_case(record)
            || l.to_lowercase()
                .ends_with(&format!(":{}", record.to_lowercase()))
    });
    let hint = match near {
        Some(e) => format!(
            "; found {}, but the format reads `{record}` (names are case-sensitive: another contract's version?)",
            named(e)
        ),
        None => String::new(),
    };
    format!(
        "no `{record}` record in the file (the format `{}` reads `{record}` records){hint}; the file's first elements: {}",
        format.id,
        found.join(", ")
    )
}

/// Appends `text` to the field whose path is `stack` (below the repeat element when it is); an
/// identifier given as root and extension (RIV-TA's `IIType`) is read by its extension. `Err`
/// of the field when it would grow past `limit`.
fn take_text(
    paths: &[(usize, Vec<String>, bool)],
    repeat: &[String],
    stack: &[String],
    text: &str,
    common: &mut [String; FIELDS],
    item: Option<&mut [String; FIELDS]>,
    limit: usize,
) -> std::result::Result<(), usize> {
    let under = !repeat.is_empty() && stack.starts_with(repeat);
    let rel = if under { &stack[repeat.len()..] } else { stack };
    let extension = rel.split_last().filter(|(last, _)| *last == "extension");
    let Some((i, _, _)) = paths.iter().find(|(_, p, u)| {
        *u == under && (p.as_slice() == rel || extension.is_some_and(|(_, up)| p.as_slice() == up))
    }) else {
        return Ok(());
    };
    let target = if under {
        match item {
            Some(item) => &mut item[*i],
            None => return Ok(()),
        }
    } else {
        &mut common[*i]
    };
    if target.len() + text.len() > limit {
        return Err(*i);
    }
    target.push_str(text);
    Ok(())
}

impl<'f, R: Read> XmlRows<'f, R> {
    /// Queues one row per repeat (or one for the record), each with the record's fields; with
    /// several, `logId` gets `#1`, `#2`, … so that each row has an id of its own.
    fn emit(&mut self, line: u64, common: [String; FIELDS], items: Vec<[String; FIELDS]>) {
        let log_id = field_index("log_id").unwrap_or(0);
        if items.is_empty() {
            self.pending.push_back((line, common));
            return;
        }
        let several = items.len() > 1;
        for (n, item) in items.into_iter().enumerate() {
            let mut row = common.clone();
            for (i, v) in item.into_iter().enumerate() {
                if !v.is_empty() {
                    row[i] = v;
                }
            }
            if several && !row[log_id].is_empty() {
                row[log_id] = format!("{}#{}", row[log_id].trim(), n + 1);
            }
            self.pending.push_back((line, row));
        }
    }
}

/// The text an event stands for: a text node, CDATA, or a character or entity reference.
/// `Err` of an entity XML does not define (a file without a DTD can name no other), or a
/// character reference to no character: never read as nothing.
pub(super) fn text_of<'e>(
    event: &'e quick_xml::events::Event,
) -> std::result::Result<std::borrow::Cow<'e, str>, String> {
    use quick_xml::events::Event;
    Ok(match event {
        Event::Text(t) => t.xml10_content(),
        Event::CData(t) => t.xml10_content(),
        Event::GeneralRef(r) => match r.resolve_char_ref() {
            Ok(Some(c)) => c.to_string().into(),
            Ok(None) => match r.xml10_content().as_ref() {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                other => {
                    return Err(format!(
                        "the entity `&{other};` is not defined in XML (write the character itself)"
                    ));
                }
            }
            .into(),
            Err(_) => {
                return Err(format!("`&{};` refers to no character", r.xml10_content()));
            }
        },
        _ => "".into(),
    })
}

fn memchr_count(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

impl<R: Read> Rows for XmlRows<'_, R> {
    fn next_row(&mut self, problems: &mut Problems) -> Result<Option<LogRow<'_>>> {
        while self.pending.is_empty() {
            if self.done || !self.read_record(problems)? {
                return Ok(None);
            }
        }
        let Some(next) = self.pending.pop_front() else {
            return Ok(None);
        };
        self.current = next;
        let (line, values) = &self.current;
        let fields = fill(self.format, |i| values[i].trim());
        Ok(Some(LogRow {
            path: &self.path,
            line: *line,
            fields,
            format: Some(self.format),
            // XML's whitespace around an element's text is layout, not the value's.
            raw_subject: "",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::SheetRows;

    #[test]
    fn sheet_rows_pack_cells_in_their_columns() {
        let mut b = SheetRows::default();
        b.start_row(2);
        b.push_cell(0, "a");
        // Columns B and C are empty: the cell lands in D.
        b.push_cell(3, "d");
        // A column given twice is refused, the first value kept.
        assert!(!b.push_cell(3, "again"));
        b.start_row(5);
        b.push_cell(1, "x");
        assert_eq!(b.cells(0).collect::<Vec<_>>(), ["a", "", "", "d"]);
        assert_eq!(b.cells(1).collect::<Vec<_>>(), ["", "x"]);
        assert_eq!((b.cell(0, 3), b.cell(0, 9), b.cell(1, 1)), ("d", "", "x"));
        assert_eq!(b.rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 5]);
        assert!(!b.full());
        b.clear();
        assert_eq!(b.cells(0).count(), 0);
    }

    #[test]
    fn a_batch_of_far_columns_is_full_before_its_row_count() {
        let mut b = SheetRows::default();
        let mut rows = 0;
        while !b.full() {
            b.start_row(rows + 1);
            b.push_cell(16_383, "far");
            rows += 1;
        }
        assert!(rows < SheetRows::ROWS as u64, "{rows}");
    }

    #[test]
    fn a_long_cell_is_kept_whole_and_counted_in_its_row() {
        let mut b = SheetRows::default();
        b.start_row(1);
        let long = "å".repeat(10_000);
        b.push_cell(0, &long);
        assert_eq!(b.cell(0, 0), long);
        b.push_cell(1, "x");
        assert_eq!(b.row_text(), long.len() + 1);
        b.start_row(2);
        assert_eq!(b.row_text(), 0);
    }
}
