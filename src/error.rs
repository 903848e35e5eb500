//! The one error type of the library. Every failure is one of four kinds, and the binary maps
//! each kind to an exit code of `../shared/CLI.md`: usage and refused input exit 2 (nothing
//! changed), invalid checked input exits 1, failures of the machine (I/O, database, SMTP) exit 3.

use std::fmt;

/// What went wrong, by what the caller should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line is malformed (unknown routine, bad `--now`, …). Exit 2.
    Usage,
    /// Input from outside (a CSV file, an answer, a token) was refused; nothing changed. Exit 2.
    BadInput,
    /// Checked input is invalid (`check` found errors, a routine does not compile). Exit 1.
    Invalid,
    /// The machine failed us: I/O, the database, SMTP. Exit 3.
    Runtime,
}

/// An error with its kind and a message ready to show to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Why the engine refused, typed, when it did (the front ends word it themselves).
    pub refusal: Option<Box<crate::refusal::Refusal>>,
}

/// How the database's own errors begin (see [`Error::naming_database`]).
pub(crate) const DATABASE: &str = "database: ";

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            refusal: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    pub(crate) fn bad_input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadInput, message)
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }

    pub fn runtime(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Runtime, message)
    }

    /// Prefixes the message with where it happened (`people.csv:14`, `loggkoll.db`).
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Names the database file in an error the database gave (`database: …` becomes
    /// ``database `PATH`: …``), so that an operator knows which file is read-only or locked.
    pub(crate) fn naming_database(mut self, path: &std::path::Path) -> Error {
        if let Some(rest) = self.message.strip_prefix(DATABASE) {
            self.message = format!(
                "database `{}`: {rest}",
                crate::location::display_location(path)
            );
        }
        self
    }

    /// A refusal of what was asked (bad arguments or input), not a failure of ours.
    pub(crate) fn is_bad_input(&self) -> bool {
        matches!(self.kind, ErrorKind::Usage | ErrorKind::BadInput)
    }

    /// The process exit code of `../shared/CLI.md`.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Invalid => 1,
            ErrorKind::Usage | ErrorKind::BadInput => 2,
            ErrorKind::Runtime => 3,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Error {
        Error::runtime(err.to_string())
    }
}

/// `text` with its control characters (but tabs and line breaks) written as `\u{1b}`: a value
/// read from an export may hold them, and a terminal would obey them.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\t' && c != '\n';
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
