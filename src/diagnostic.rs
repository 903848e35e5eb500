//! Diagnostics: what the compiler found wrong, where, and how to fix it. The analyser never stops
//! at the first problem; it collects every diagnostic into a [`Diagnostics`] list, and the CLI
//! prints them as `path:line:col: error[code]: message` with the source line, a caret under the
//! exact span and a `help:` where a fix is known, or as JSON.

use crate::source::{Source, Span};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem, self-contained: it carries the text of the line it points into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub len: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip)]
    pub source_line: String,
}

impl Diagnostic {
    pub fn new(
        source: &Source,
        span: Span,
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            path: source.path.clone(),
            line: span.line,
            column: span.col,
            len: span.len,
            severity,
            code,
            message: message.into(),
            help: None,
            source_line: source.line(span.line).to_string(),
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn with_help_boxed(mut self: Box<Self>, help: impl Into<String>) -> Box<Diagnostic> {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The human form: header, numbered source line, caret, help.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{}:{}:{}: {}[{}]: {}\n",
            self.path,
            self.line,
            self.column,
            self.severity.as_str(),
            self.code,
            self.message
        );
        if self.line > 0 {
            let number = self.line.to_string();
            let gutter = " ".repeat(number.len());
            let line: String = self.source_line.replace('\t', " ");
            let chars = line.chars().count();
            let start = self.column.max(1) - 1;
            // A span running past the end of the line (a multi-line value) is cut at the line end.
            let width = self.len.min(chars.saturating_sub(start)).max(1);
            let _ = writeln!(out, "{number} | {line}");
            let _ = writeln!(out, "{gutter} | {}{}", " ".repeat(start), "^".repeat(width));
            if let Some(help) = &self.help {
                let _ = writeln!(out, "{gutter} = help: {help}");
            }
        } else if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}

/// The diagnostics of one source file, collected in the order found.
#[derive(Debug)]
pub(crate) struct Diagnostics<'s> {
    source: &'s Source,
    pub list: Vec<Diagnostic>,
}

impl<'s> Diagnostics<'s> {
    pub(crate) fn new(source: &'s Source) -> Diagnostics<'s> {
        Diagnostics {
            source,
            list: Vec::new(),
        }
    }

    pub(crate) fn source(&self) -> &'s Source {
        self.source
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::new(
            self.source,
            span,
            Severity::Error,
            code,
            message,
        ))
    }

    pub(crate) fn warning(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Diagnostic::new(
            self.source,
            span,
            Severity::Warning,
            code,
            message,
        ))
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        self.list.push(diagnostic);
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }
}

impl Diagnostic {
    /// Sets the help line in place (for use on the `&mut` that [`Diagnostics::error`] returns).
    pub fn help(&mut self, help: impl Into<String>) -> &mut Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// `did you mean `x`?` for the closest of `candidates`, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    crate::suggest::nearest(word, candidates).map(|name| format!("did you mean `{name}`?"))
}
