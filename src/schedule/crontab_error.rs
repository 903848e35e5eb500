//! The one error of this module: why a crontab expression is invalid, and where.

use std::fmt;

/// Why an expression is invalid: the offending part of the expression (byte `offset` and `len`
/// into the text given to [`Crontab::parse`](super::Crontab::parse), so the routine compiler can
/// put a caret under it), a lowercase `message` without trailing period that names the field and
/// the allowed range, and where one exists a `help` with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrontabError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

impl CrontabError {
    pub(super) fn new(offset: usize, len: usize, message: impl Into<String>) -> CrontabError {
        CrontabError {
            offset,
            len,
            message: message.into(),
            help: None,
        }
    }

    pub(super) fn with_help(mut self, help: impl Into<String>) -> CrontabError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for CrontabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CrontabError {}
