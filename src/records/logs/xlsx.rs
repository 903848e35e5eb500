//! A reader of Excel workbooks (`.xlsx`) in bounded memory, whatever the file: the first sheet's
//! cells, streamed in order, with every limit checked before it is crossed.
//!
//! - The zip's central directory is sized from its end record before it is read (at most
//!   [`MAX_PARTS`] parts, [`MAX_DIRECTORY`] bytes).
//! - A part's declared size and compression ratio are checked before it is inflated (a part of
//!   more than a megabyte may inflate at most [`MAX_RATIO`] times), and inflating stops when it
//!   gives more than it declared.
//! - No XML node may be longer than the value limit (`[logs] max_value`, default 1 MB): a cell,
//!   a shared string, a tag. The offender is named by sheet and cell.
//! - The shared strings are kept packed (one buffer and an end per string), at most
//!   [`MAX_SHARED_TEXT`] bytes and [`MAX_SHARED`] strings; a string longer than the value limit
//!   is refused where a cell uses it.
//! - The workbook's date system (`date1904`) is read, so that a date serial means the same
//!   instant whichever system the program that wrote it used.

use quick_xml::events::Event;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

/// The most parts a workbook may have (a log export has about ten).
pub(crate) const MAX_PARTS: u64 = 10_000;
/// The most bytes of the zip's central directory.
pub(crate) const MAX_DIRECTORY: u64 = 4 << 20;
/// How many times a part of more than [`RATIO_FROM`] bytes may inflate (real sheets: 4–20).
pub(crate) const MAX_RATIO: u64 = 250;
pub(crate) const RATIO_FROM: u64 = 1 << 20;
/// The most text the shared strings may hold, and the most strings.
pub(crate) const MAX_SHARED_TEXT: usize = 64 << 20;
pub(crate) const MAX_SHARED: usize = 4 << 20;
/// Slack over the value limit for the markup around a value (a tag and its attributes).
pub(crate) const TAG_SLACK: usize = 64 << 10;

/// A sheet's cell, as it is streamed: its row (as Excel numbers it, from 1), column (from 0)
/// and text.
pub(crate) trait Cells {
    /// A new row starts; false stops the reading.
    fn row(&mut self, number: u64) -> bool;
    /// A cell of the current row.
    fn cell(&mut self, column: usize, text: &str);
    /// After a cell: false stops the reading with `Err` of the returned message.
    fn check(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// An opened workbook: its first sheet found, its shared strings read.
pub(crate) struct Workbook<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    /// The first sheet's name and its part in the zip.
    pub sheet: String,
    part: String,
    /// The workbook counts dates from 1904-01-01 (`date1904`), not 1899-12-30.
    pub date1904: bool,
    strings: Shared,
    limit: usize,
}

impl Workbook<BufReader<std::fs::File>> {
    /// Opens `file`; `limit` is the longest value (cell, shared string) read.
    pub(crate) fn open(file: std::fs::File, limit: usize) -> Result<Self, String> {
        let mut file = BufReader::with_capacity(1 << 16, file);
        check_directory(&mut file)?;
        let zip = zip::ZipArchive::new(file)
            .map_err(|e| format!("not an Excel workbook (.xlsx): {e}"))?;
        Workbook::read(zip, limit)
    }
}

impl<R: Read + Seek> Workbook<R> {
    fn read(mut zip: zip::ZipArchive<R>, limit: usize) -> Result<Self, String> {
        // The workbook part: from the package's relationships, else where Excel puts it.
        let book = match read_part(&mut zip, "_rels/.rels", limit)? {
            Some(rels) => relationships(&rels, "_rels/.rels")?
                .into_iter()
                .find(|(_, kind, _)| kind.ends_with("/officeDocument"))
                .map(|(_, _, target)| resolve("", &target))
                .unwrap_or_else(|| "xl/workbook.xml".into()),
            None => "xl/workbook.xml".into(),
        };
        let dir = match book.rfind('/') {
            Some(i) => book[..=i].to_string(),
            None => String::new(),
        };
        let Some(workbook) = read_part(&mut zip, &book, limit)? else {
            return Err(format!(
                "not an Excel workbook (.xlsx): it has no `{book}` part"
            ));
        };
        let (sheet, id, date1904) = first_sheet(&workbook, &book)?;
        let rels_path = format!("{dir}_rels/{}.rels", &book[dir.len()..]);
        let rels = read_part(&mut zip, &rels_path, limit)?
            .ok_or_else(|| format!("the workbook has no `{rels_path}` part"))?;
        let rels = relationships(&rels, &rels_path)?;
        let mut strings_part = format!("{dir}sharedStrings.xml");
        let mut part = None;
        for (rid, kind, target) in rels {
            if rid == id {
                part = Some(resolve(&dir, &target));
            } else if kind.ends_with("/sharedStrings") {
                strings_part = resolve(&dir, &target);
            }
        }
        let part = part.ok_or_else(|| format!("sheet `{sheet}`: its part is not named"))?;
        let strings = match open_part(&mut zip, &strings_part)? {
            Some(reader) => Shared::read(reader, &strings_part, limit)?,
            None => Shared::default(),
        };
        Ok(Workbook {
            zip,
            sheet,
            part,
            date1904,
            strings,
            limit,
        })
    }

    /// Streams the first sheet's cells to `to`, in order.
    pub(crate) fn cells(&mut self, to: &mut dyn Cells) -> Result<(), String> {
        let sheet = self.sheet.clone();
        let part = self.part.clone();
        let Some(reader) = open_part(&mut self.zip, &part)? else {
            return Err(format!("sheet `{sheet}`: the part `{part}` is missing"));
        };
        let mut xml = quick_xml::Reader::from_reader(Bounded::new(reader, self.limit));
        xml.config_mut().expand_empty_elements = true;
        let mut buf = Vec::with_capacity(4096);
        let mut row: u64 = 0;
        let mut column: usize = 0;
        // The current cell: its type, whether its text is being read, its text.
        let mut kind = Kind::Number;
        let mut depth = 0usize;
        let mut in_cell = false;
        let mut reading = false;
        let mut phonetic = 0u32;
        let mut value = String::new();
        let mut text = String::new();
        let place =
            |row: u64, column: usize| format!("sheet `{sheet}`, cell {}{row}", letters(column));
        loop {
            buf.clear();
            xml.get_mut().reset();
            let event = match xml.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(e) => {
                    let at = if in_cell {
                        place(row, column)
                    } else {
                        format!("sheet `{sheet}`, row {}", row.max(1))
                    };
                    return Err(format!("{at}: {}", xml.get_ref().failure("a value", &e)));
                }
            };
            if !deepen(&mut depth, &event) {
                return Err(format!(
                    "sheet `{sheet}`, row {row}: elements nested deeper than {MAX_DEPTH}: not a worksheet"
                ));
            }
            match event {
                Event::Start(e) => match e.local_name().as_ref() {
                    "row" => {
                        row = row_number(&e, row, &sheet)?;
                        column = usize::MAX;
                        if !to.row(row) {
                            return Ok(());
                        }
                    }
                    "c" => {
                        (column, kind) = cell_start(&e, row, column, &sheet)?;
                        in_cell = true;
                        value.clear();
                    }
                    "v" if in_cell => reading = true,
                    "t" if in_cell && phonetic == 0 => reading = true,
                    "rPh" => phonetic += 1,
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    "v" | "t" => reading = false,
                    "rPh" => phonetic = phonetic.saturating_sub(1),
                    "c" if in_cell => {
                        in_cell = false;
                        let shown = cell_text(kind, &value, &mut text, &self.strings, self.limit)
                            .map_err(|m| format!("{}: {m}", place(row, column)))?;
                        to.cell(column, &unescape_ooxml(shown));
                        to.check()?;
                    }
                    _ => {}
                },
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if reading => {
                    let text = super::sources::text_of(&event)
                        .map_err(|m| format!("{}: {m}", place(row, column)))?;
                    value.push_str(&text);
                    if value.len() > self.limit {
                        return Err(format!(
                            "{}: a value longer than {}: not an access log (the limit is `[logs] max_value`)",
                            place(row, column),
                            size(self.limit)
                        ));
                    }
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }
}

/// The number of the row that `e` starts after row `row` of sheet `sheet`: its `r`, else the
/// next; or why it cannot be read.
fn row_number(e: &quick_xml::events::BytesStart, row: u64, sheet: &str) -> Result<u64, String> {
    match attr(e, "r") {
        Some(r) => r
            .trim()
            .parse()
            .ok()
            .filter(|r| *r > row && *r <= MAX_ROWS)
            .ok_or_else(|| format!("sheet `{sheet}`, after row {row}: a row numbered `{}`", r)),
        None if row < MAX_ROWS => Ok(row + 1),
        None => Err(format!("sheet `{sheet}`: more than {MAX_ROWS} rows")),
    }
}

/// The column and type of the cell that `e` starts in row `row` of sheet `sheet`, after column
/// `column`: its `r`, else the next; or why it cannot be read.
fn cell_start(
    e: &quick_xml::events::BytesStart,
    row: u64,
    column: usize,
    sheet: &str,
) -> Result<(usize, Kind), String> {
    // One pass over the attributes: the reference and the type.
    let (mut named, mut t) = (None, None);
    for a in e.attributes().with_checks(false).flatten() {
        match a.key.local_name().as_ref() {
            "r" => named = Some(a.value),
            "t" => t = Some(a.value),
            _ => {}
        }
    }
    let column = match named {
        Some(r) => reference(r.as_bytes())
            .ok_or_else(|| format!("sheet `{sheet}`, row {row}: a cell named `{}`", r))?,
        None => column.wrapping_add(1),
    };
    let kind = t.map_or(Kind::Number, |t| Kind::of(&t));
    if column > 16_383 {
        return Err(format!(
            "sheet `{sheet}`, row {row}: a cell past column XFD"
        ));
    }
    Ok((column, kind))
}

/// The text a cell of type `kind` shows for its `value` (made in `text` when it is neither),
/// or why it cannot be read (the caller puts the cell's place before it).
fn cell_text<'v>(
    kind: Kind,
    value: &'v str,
    text: &'v mut String,
    strings: &'v Shared,
    limit: usize,
) -> Result<&'v str, String> {
    let shown: &'v str = match kind {
        Kind::Shared => {
            let index = value.trim().parse::<usize>().ok();
            match index.and_then(|i| strings.get(i)) {
                Some(Ok(s)) => s,
                Some(Err(len)) => {
                    return Err(format!(
                        "a value of {} (a shared string), longer than {}: not an access log (the limit is `[logs] max_value`)",
                        size(len),
                        size(limit)
                    ));
                }
                None => {
                    return Err(format!("shared string `{}` does not exist", value.trim()));
                }
            }
        }
        Kind::Text => value,
        Kind::Bool => match value.trim() {
            "1" => "true",
            _ => "false",
        },
        Kind::Error => {
            text.clear();
            text.push('#');
            text.push_str(value.trim());
            text.as_str()
        }
        Kind::Number => match value.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => {
                *text = number(f);
                text.as_str()
            }
            _ => value.trim(),
        },
    };
    Ok(shown)
}

/// The deepest nesting of elements read (a worksheet's is 6).
const MAX_DEPTH: usize = 64;
/// The most rows of a sheet, as Excel has them.
const MAX_ROWS: u64 = 1 << 20;

/// Follows the nesting of elements: false when `event` opens one past [`MAX_DEPTH`].
fn deepen(depth: &mut usize, event: &Event) -> bool {
    match event {
        Event::Start(_) => {
            *depth += 1;
            *depth <= MAX_DEPTH
        }
        Event::End(_) => {
            *depth = depth.saturating_sub(1);
            true
        }
        _ => true,
    }
}

/// A cell's type (`t`): what its `<v>` or `<is>` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `s`: the index of a shared string.
    Shared,
    /// `inlineStr`, `str` (a formula's text), `d` (an ISO 8601 date): text.
    Text,
    Bool,
    Error,
    /// `n`, or none: a number.
    Number,
}

impl Kind {
    fn of(t: &str) -> Kind {
        match t {
            "s" => Kind::Shared,
            "inlineStr" | "str" | "d" => Kind::Text,
            "b" => Kind::Bool,
            "e" => Kind::Error,
            _ => Kind::Number,
        }
    }
}

/// The date serial `serial` of a workbook (days since 1899-12-30, or since 1904-01-01 when
/// `date1904`; the fraction the time of day) as `YYYY-MM-DD HH:MM:SS`, to the nearest second.
pub(crate) fn excel_time(serial: f64, date1904: bool) -> String {
    let seconds = (serial * 86_400.0).round() as i64;
    let epoch = if date1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
    }
    .and_then(|d| d.and_hms_opt(0, 0, 0))
    .unwrap_or_default();
    (epoch + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A number as a person wrote it: whole numbers without a fraction (a personnummer typed as a
/// number stays twelve digits).
pub(crate) fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// "1 MB", "512 kB", "300 bytes".
pub(crate) fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MB", bytes >> 20)
    } else if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{} kB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Column letters of a column index from 0 (`A`, `Z`, `AA`).
pub(crate) fn letters(column: usize) -> String {
    let mut c = column.saturating_add(1);
    let mut name = Vec::new();
    while c > 0 {
        name.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// The column (from 0) of a cell reference such as `AB12`.
fn reference(r: &[u8]) -> Option<usize> {
    let mut column = 0usize;
    let mut letters = 0;
    for b in r {
        if b.is_ascii_alphabetic() {
            letters += 1;
            if letters > 3 {
                return None;
            }
            column = column * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1);
        } else if b.is_ascii_digit() {
            break;
        } else {
            return None;
        }
    }
    (letters > 0).then(|| column - 1)
}

/// OOXML's escapes of characters XML cannot carry (`_x000D_`), as the characters.
fn unescape_ooxml(text: &str) -> Cow<'_, str> {
    if !text.as_bytes().contains(&b'_') || !text.contains("_x") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let code = after
            .get(..5)
            .filter(|s| s.ends_with('_'))
            .and_then(|s| u32::from_str_radix(&s[..4], 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &after[5..];
            }
            None => {
                out.push_str("_x");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// An attribute's raw value.
fn attr<'a>(e: &'a quick_xml::events::BytesStart, name: &str) -> Option<Cow<'a, str>> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| a.value)
}

/// An attribute's value, unescaped.
fn attr_text(e: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        })
}

/// A part's path in the zip from a relationship's target, relative to `dir` unless absolute.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("{dir}{target}"),
    };
    // `..` steps back a folder.
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The relationships of a `.rels` part: id, type and target of each.
fn relationships(xml: &[u8], part: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut found = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e))
                if e.local_name().as_ref() == "Relationship" =>
            {
                found.push((
                    attr_text(&e, "Id").unwrap_or_default(),
                    attr_text(&e, "Type").unwrap_or_default(),
                    attr_text(&e, "Target").unwrap_or_default(),
                ));
                if found.len() > MAX_PARTS as usize {
                    return Err(format!("`{part}`: more relationships than parts"));
                }
            }
            Ok(Event::Eof) => return Ok(found),
            Err(e) => return Err(format!("`{part}`: not well-formed XML: {e}")),
            _ => {}
        }
    }
}

/// The first sheet of `workbook.xml`: its name and relationship id, and whether the workbook
/// counts dates from 1904.
fn first_sheet(xml: &[u8], part: &str) -> Result<(String, String, bool), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut date1904 = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                "workbookPr" => {
                    date1904 = attr(&e, "date1904")
                        .is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"));
                }
                "sheet" => {
                    let name = attr_text(&e, "name").unwrap_or_default();
                    // `r:id`, in the relationships namespace whatever its prefix.
                    let id = e
                        .attributes()
                        .with_checks(false)
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "id" && a.key.prefix().is_some())
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(Cow::into_owned)
                        })
                        .unwrap_or_default();
                    return Ok((name, id, date1904));
                }
                _ => {}
            },
            Ok(Event::Eof) => return Err("the workbook has no sheet".into()),
            Err(e) => return Err(format!("`{part}`: not well-formed XML: {e}")),
            _ => {}
        }
    }
}

/// A small part (a relationship list, the workbook), whole; `None` when the zip lacks it.
fn read_part<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: usize,
) -> Result<Option<Vec<u8>>, String> {
    let Some(reader) = open_part(zip, name)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let max = limit.max(1 << 20);
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("`{name}`: {e}"))?;
    if out.len() > max {
        return Err(format!("`{name}` is longer than {}", size(max)));
    }
    Ok(Some(out))
}

/// A part, inflating as it is read, after its declared size and ratio were checked; `None`
/// when the zip lacks it.
fn open_part<'z, R: Read + Seek>(
    zip: &'z mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Option<Declared<zip::read::ZipFile<'z, R>>>, String> {
    let file = match zip.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("`{name}`: {e}")),
    };
    let (size, packed) = (file.size(), file.compressed_size());
    if size > RATIO_FROM && size / packed.max(1) > MAX_RATIO {
        return Err(format!(
            "`{name}` would inflate {} times ({} MB from {} kB): a zip bomb, not an export",
            size / packed.max(1),
            size >> 20,
            packed >> 10
        ));
    }
    Ok(Some(Declared {
        inner: file,
        left: size,
        name: name.to_string(),
    }))
}

/// A part's reader that refuses to give more than the part declared.
struct Declared<R> {
    inner: R,
    left: u64,
    name: String,
}

impl<R: Read> Read for Declared<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("`{}` inflates to more than it declares", self.name),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A buffered reader that refuses to read more than `limit` bytes (and a buffer) between two
/// [`Bounded::reset`]s: an XML reader reset before each event reads no node much longer than
/// the limit (and buffers no more). The count is kept below the buffer, so that the XML
/// reader's many small reads cost what a `BufReader`'s do.
pub(crate) struct Bounded<R> {
    buf: BufReader<Counted<R>>,
    /// The longest value, as configured (a node may be a tag's length longer).
    limit: usize,
}

/// The bytes read since the last reset, refused past the limit.
struct Counted<R> {
    inner: R,
    since: usize,
    limit: usize,
    hit: bool,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.since > self.limit {
            self.hit = true;
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a node longer than {}", size(self.limit)),
            ));
        }
        let n = self.inner.read(out)?;
        self.since += n;
        Ok(n)
    }
}

impl<R: Read> Bounded<R> {
    /// `limit` is the longest value read; a node may be longer by its markup ([`TAG_SLACK`]).
    pub(crate) fn new(inner: R, limit: usize) -> Bounded<R> {
        Bounded {
            buf: BufReader::with_capacity(
                1 << 16,
                Counted {
                    inner,
                    since: 0,
                    limit: limit.saturating_add(TAG_SLACK),
                    hit: false,
                },
            ),
            limit,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.buf.get_mut().since = 0;
    }

    /// Whether the limit was hit.
    pub(crate) fn hit(&self) -> bool {
        self.buf.get_ref().hit
    }

    /// What a failed read of the XML on top means: `what` (`a value`, `an XML node`) past the
    /// limit, or XML that is not well-formed.
    pub(crate) fn failure(&self, what: &str, e: &quick_xml::Error) -> String {
        if self.hit() {
            format!(
                "{what} longer than {}: not an access log (the limit is `[logs] max_value`)",
                size(self.limit)
            )
        } else {
            format!("not well-formed XML: {e}")
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.buf.read(out)
    }
}

impl<R: Read> BufRead for Bounded<R> {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.buf.fill_buf()
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }
}

/// The shared strings, packed: every string's text in one buffer.
#[derive(Default)]
struct Shared {
    text: String,
    ends: Vec<u32>,
    /// Strings longer than the value limit (kept as empty): index and length.
    long: Vec<(usize, usize)>,
}

impl Shared {
    fn read<R: Read>(reader: R, part: &str, limit: usize) -> Result<Shared, String> {
        let mut shared = Shared::default();
        let mut xml = quick_xml::Reader::from_reader(Bounded::new(reader, limit));
        xml.config_mut().expand_empty_elements = true;
        let mut buf = Vec::with_capacity(4096);
        let mut current = String::new();
        let mut long = 0usize;
        let (mut in_si, mut reading, mut phonetic) = (false, false, 0u32);
        let mut depth = 0usize;
        loop {
            buf.clear();
            xml.get_mut().reset();
            let event = match xml.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(e) => {
                    let n = shared.ends.len() + 1;
                    return Err(format!(
                        "`{part}`, shared string {n}: {}",
                        xml.get_ref().failure("a string", &e)
                    ));
                }
            };
            if !deepen(&mut depth, &event) {
                return Err(format!(
                    "`{part}`: elements nested deeper than {MAX_DEPTH}: not a workbook"
                ));
            }
            match event {
                Event::Start(e) => match e.local_name().as_ref() {
                    "si" => {
                        in_si = true;
                        current.clear();
                        long = 0;
                    }
                    "t" if in_si && phonetic == 0 => reading = true,
                    "rPh" => phonetic += 1,
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    "t" => reading = false,
                    "rPh" => phonetic = phonetic.saturating_sub(1),
                    "si" if in_si => {
                        in_si = false;
                        if shared.ends.len() >= MAX_SHARED {
                            return Err(format!(
                                "`{part}`: more than {MAX_SHARED} shared strings: export the log as CSV"
                            ));
                        }
                        if long > 0 {
                            shared.long.push((shared.ends.len(), long));
                        } else {
                            shared.text.push_str(&current);
                            if shared.text.len() > MAX_SHARED_TEXT {
                                return Err(format!(
                                    "`{part}`: the shared strings hold more than {}: export the log as CSV",
                                    size(MAX_SHARED_TEXT)
                                ));
                            }
                        }
                        shared.ends.push(shared.text.len() as u32);
                    }
                    _ => {}
                },
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if reading => {
                    let n = shared.ends.len() + 1;
                    let text = super::sources::text_of(&event)
                        .map_err(|m| format!("`{part}`, shared string {n}: {m}"))?;
                    if long > 0 || current.len() + text.len() > limit {
                        long = long.max(current.len()) + text.len();
                        current.clear();
                    } else {
                        current.push_str(&text);
                    }
                }
                Event::Eof => return Ok(shared),
                _ => {}
            }
        }
    }

    /// String `index` (`None` when there is none), or the length of one too long to keep.
    fn get(&self, index: usize) -> Option<Result<&str, usize>> {
        if let Ok(i) = self.long.binary_search_by_key(&index, |(i, _)| *i) {
            return Some(Err(self.long[i].1));
        }
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            i => self.ends[i - 1] as usize,
        };
        Some(Ok(self.text.get(start..end).unwrap_or("")))
    }
}

/// Refuses a zip whose central directory is too big to read, from its end record (and the
/// ZIP64 one), before the zip reader reads the directory: at most [`MAX_PARTS`] parts, and at
/// most [`MAX_DIRECTORY`] bytes between where the directory starts and the end record (the
/// reader reads its entries from there on, whatever sizes they declare). A file with more than
/// one end record is refused (a reader may take either).
fn check_directory<R: Read + Seek>(file: &mut R) -> Result<(), String> {
    let io = |e: std::io::Error| format!("reading: {e}");
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    let tail_len = len.min(22 + 65_535);
    let tail_start = len - tail_len;
    file.seek(SeekFrom::Start(tail_start)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail).map_err(io)?;
    let ends: Vec<usize> = (0..tail.len().saturating_sub(21))
        .filter(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .collect();
    let at = match ends.as_slice() {
        [] => return Err("not an Excel workbook (.xlsx): not a zip file".into()),
        [at] => *at,
        _ => {
            return Err(
                "not an Excel workbook (.xlsx): a zip with more than one end record".into(),
            );
        }
    };
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u32_at =
        |b: &[u8], i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let mut entries = u16_at(&tail, at + 10);
    let mut directory = u32_at(&tail, at + 12);
    let mut offset = u32_at(&tail, at + 16);
    let zip64 = entries == 0xFFFF || directory == 0xFFFF_FFFF || offset == 0xFFFF_FFFF;
    // Where the directory ends: at the ZIP64 record when there is one, else at the end record.
    let mut end = tail_start + at as u64;
    if at >= 20 && tail[at - 20..at - 16] == [0x50, 0x4b, 0x06, 0x07] {
        // The ZIP64 locator stands just before the end record and says where its record is.
        let loc = at - 20;
        let record_at = u32_at(&tail, loc + 8) | (u32_at(&tail, loc + 12) << 32);
        if record_at >= end {
            return Err("not an Excel workbook (.xlsx): a broken ZIP64 end record".into());
        }
        let mut record = [0u8; 56];
        file.seek(SeekFrom::Start(record_at))
            .and_then(|_| file.read_exact(&mut record))
            .map_err(io)?;
        if record[..4] != [0x50, 0x4b, 0x06, 0x06] {
            return Err("not an Excel workbook (.xlsx): a broken ZIP64 end record".into());
        }
        let u64_at = |i: usize| u32_at(&record, i) | (u32_at(&record, i + 4) << 32);
        entries = u64_at(32);
        directory = u64_at(40);
        offset = u64_at(48);
        end = record_at;
    } else if zip64 {
        return Err("not an Excel workbook (.xlsx): a ZIP64 zip without its end record".into());
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let span = end.saturating_sub(offset.min(end));
    if entries > MAX_PARTS || directory > MAX_DIRECTORY || span > MAX_DIRECTORY {
        return Err(format!(
            "a zip of {entries} parts ({} of directory): not an Excel export",
            size(directory.max(span).min(usize::MAX as u64) as usize)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_letters() {
        assert_eq!(reference(b"A1"), Some(0));
        assert_eq!(reference(b"Z9"), Some(25));
        assert_eq!(reference(b"AA10"), Some(26));
        assert_eq!(reference(b"XFD1"), Some(16_383));
        assert_eq!(reference(b"1"), None);
        assert_eq!(reference(b"A-1"), None);
        for c in [0, 25, 26, 701, 702, 16_383] {
            assert_eq!(reference(format!("{}7", letters(c)).as_bytes()), Some(c));
        }
    }

    #[test]
    fn date_serials_in_both_systems() {
        // 2027-03-10 23:40:17 as openpyxl and XlsxWriter write it in each system.
        assert_eq!(excel_time(46456.98630787037, false), "2027-03-10 23:40:17");
        assert_eq!(excel_time(44994.98630787037, true), "2027-03-10 23:40:17");
        assert_eq!(excel_time(1462.0, false), excel_time(0.0, true));
    }

    #[test]
    fn ooxml_escapes() {
        assert_eq!(unescape_ooxml("a_x000D_b"), "a\rb");
        assert_eq!(unescape_ooxml("_x001B_"), "\u{1b}");
        assert_eq!(unescape_ooxml("plain_x_text"), "plain_x_text");
        assert_eq!(unescape_ooxml("end_x00"), "end_x00");
    }

    #[test]
    fn a_bounded_reader_refuses_a_long_node() {
        // Refused past the limit and a buffer (64 kB): memory stays bounded.
        let text = format!("<a><b>{}</b><c>ok</c></a>", "x".repeat(300_000));
        let mut xml = quick_xml::Reader::from_reader(Bounded::new(text.as_bytes(), 1000));
        let mut buf = Vec::new();
        let mut failed = false;
        loop {
            buf.clear();
            xml.get_mut().reset();
            match xml.read_event_into(&mut buf) {
                Ok(Event::Eof) => break,
                Ok(_) => assert!(buf.len() <= 1000 + TAG_SLACK + (1 << 16)),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed && xml.get_ref().hit());
        // Under the limit, every event is read.
        let mut xml = quick_xml::Reader::from_reader(Bounded::new(text.as_bytes(), 400_000));
        let mut n = 0;
        loop {
            buf.clear();
            xml.get_mut().reset();
            match xml.read_event_into(&mut buf) {
                Ok(Event::Eof) => break,
                Ok(_) => n += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(n, 8);
    }

    #[test]
    fn relationship_targets() {
        assert_eq!(
            resolve("xl/", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("xl/", "/xl/worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(resolve("xl/", "../xl/sheet.xml"), "xl/sheet.xml");
    }
}
