//! A log format as checked (`formats/*.yaml`, read and checked by `records::logs::format`):
//! vocabulary below the engine, which holds the formats its inbox reads exports with, and the
//! log's import, which reads with them; and the log's own words for actions, which the store's
//! index codes. Only the shape lives here; what a format does is in `records::logs`.

use std::path::Path;

/// The kinds of file a format reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
    Xml,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Csv => "csv",
            FileKind::Xlsx => "xlsx",
            FileKind::Xml => "xml",
        }
    }

    /// The kind a file's name says (`.csv`, `.txt`, `.xlsx`, `.xml`).
    pub(crate) fn of_path(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(FileKind::Csv),
            "xlsx" | "xlsm" => Some(FileKind::Xlsx),
            "xml" => Some(FileKind::Xml),
            _ => None,
        }
    }
}

/// One log format, checked.
#[derive(Debug, Clone)]
pub struct LogFormat {
    pub id: String,
    /// The file it was read from (empty for the built-in standard format).
    pub path: String,
    pub file: FileKind,
    /// The system every row belongs to when no column names it (or the cell is empty).
    pub system: Option<String>,
    /// `None`: UTF-8, or Windows-1252 when the text is not UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub delimiter: Option<u8>,
    /// A chrono format for `event_time` (`%d/%m/%Y %H.%M`); without it, RFC 3339 or
    /// `YYYY-MM-DD HH:MM[:SS]`.
    pub time_format: Option<String>,
    /// For each field of the log (`records::logs::LOG`, by index), the export's header or XML
    /// path that holds it.
    pub columns: Vec<Option<String>>,
    /// A value for a field the export leaves out or leaves empty.
    pub defaults: Vec<Option<String>>,
    /// The export's action words (lower case) and ours.
    pub actions: Vec<(String, &'static str)>,
    /// The export's system names (lower case) and ours.
    pub systems: Vec<(String, String)>,
    /// XML: the element of one log record (local name), found at any depth.
    pub record: Option<String>,
    /// XML: the path under a record of an element that repeats (one row each).
    pub repeat: Option<String>,
    /// The headers the export must have (those of the fields a format must fill), to recognise
    /// a file by its header.
    pub header: Vec<String>,
}

/// The action words accepted (as Inera's log service and Treserva write them), each with how
/// the extract letter says it in plain Swedish.
pub const ACTIONS: &[(&str, &str)] = &[
    ("Läsa", "Läste"),
    ("Skapa", "Skapade uppgifter"),
    ("Skriva", "Skrev"),
    ("Ändra", "Ändrade"),
    ("Signera", "Signerade"),
    ("Vidimera", "Vidimerade"),
    ("Utskrift", "Skrev ut"),
    ("Export", "Exporterade"),
    ("Radera", "Raderade"),
    ("Makulera", "Makulerade"),
    ("Nödöppning", "Öppnade journalen med nödöppning"),
    ("Samtycke", "Registrerade samtycke"),
    ("Spärr", "Hanterade spärr"),
];

/// The index of a stored action word in [`ACTIONS`] (the length of the list for an unknown word,
/// which the import never stores).
pub fn action_code(action: &str) -> u8 {
    ACTIONS
        .iter()
        .position(|(word, _)| *word == action)
        .unwrap_or(ACTIONS.len()) as u8
}

/// The action word of a code of [`action_code`].
pub fn action_word(code: u8) -> &'static str {
    ACTIONS.get(usize::from(code)).map_or("", |(word, _)| word)
}

/// The default of the import's `max_value` (`[logs] max_value`): 1 MB.
pub const MAX_VALUE: usize = 1 << 20;
