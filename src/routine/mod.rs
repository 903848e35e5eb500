//! The routine language: YAML files written by quality staff, compiled into checked state graphs.
//!
//! The pipeline, one stage per module: [`loader`] finds and reads files → [`yaml`] turns text into
//! a positioned tree → [`parser`] reads the tree into a [`raw::RawRoutine`] (shape: keys, types)
//! → [`analyzer`] resolves and checks it into a [`model::Routine`] (meaning: states, roles,
//! schedules, templates) → [`render`] draws the graph and [`explain`] describes it. Diagnostics
//! are collected along the way, never stopping at the first.

pub(crate) mod analyzer;
pub(crate) mod chance;
pub use crate::diagnostic;
pub mod duration;
pub(crate) mod explain;
pub mod loader;
pub mod model;
pub(crate) mod parser;
pub(crate) mod raw;
pub(crate) mod render;
pub use crate::source;
pub(crate) mod yaml;

pub use analyzer::Context;
pub use diagnostic::{Diagnostic, Severity};
pub use model::Routine;
pub use source::Source;

/// The result of compiling one file: the routine when it has no errors, and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    pub routine: Option<Routine>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Syntax errors read past in one file at most: the rest may be beyond repair.
const MAX_RESUMES: usize = 10;

/// Diagnostics that a line blanked out after a syntax error cannot have caused: each is about a
/// value where it stands. The others (a key missing, a state unreachable) may be the blanked
/// line's doing, and are not said.
const LOCAL: &[&str] = &[
    "invalid-value",
    "unknown-key",
    "duplicate-key",
    "unknown-role",
    "unknown-system",
    "unknown-template",
    "undefined-state",
    "invalid-deadline",
    "invalid-cron",
    "fraction-out-of-range",
    "missing-file",
];

/// After a syntax error at line `bad`: the line is blanked and the file read again, and again
/// for the next syntax error, so that one slip does not hide the rest of the file. Further
/// syntax errors are reported, and, once the file reads, the errors about values elsewhere.
fn read_on(d: &mut diagnostic::Diagnostics, source: &Source, bad: usize, ctx: &Context) {
    let mut lines: Vec<String> = source.text.lines().map(str::to_string).collect();
    let mut blanked = vec![bad];
    for _ in 0..MAX_RESUMES {
        let Some(line) = blanked.last().and_then(|l| l.checked_sub(1)) else {
            return;
        };
        let Some(text) = lines.get_mut(line) else {
            return;
        };
        // A parent (`key:` alone) blanked would set its children loose: nothing more is sure.
        if text.trim_end().ends_with(':') {
            return;
        }
        *text = String::new();
        let patched = Source::new(source.path.clone(), lines.join("\n"));
        match yaml::parse(&patched) {
            Ok(tree) => {
                let mut later = diagnostic::Diagnostics::new(&patched);
                let raw = parser::parse(&mut later, &tree);
                analyzer::analyze(&mut later, &raw, &patched.text, ctx);
                for diag in later.list {
                    if LOCAL.contains(&diag.code) && !blanked.contains(&diag.line) {
                        d.push(diag);
                    }
                }
                return;
            }
            Err(next) if blanked.contains(&next.line) || next.line <= bad => return,
            Err(next) => {
                blanked.push(next.line);
                d.push(*next);
            }
        }
    }
}

/// Compiles one routine source.
pub fn compile(source: &Source, ctx: &Context) -> Compiled {
    let mut d = diagnostic::Diagnostics::new(source);
    let routine = match yaml::parse(source) {
        Err(diag) => {
            let (first, syntax) = (diag.line, diag.code == "yaml-syntax");
            d.push(*diag);
            // A limit (aliases, size) stands for the whole file; a slip of syntax for its line.
            if syntax {
                read_on(&mut d, source, first, ctx);
            }
            None
        }
        Ok(tree) => {
            let raw = parser::parse(&mut d, &tree);
            analyzer::analyze(&mut d, &raw, &source.text, ctx)
        }
    };
    let routine = if d.has_errors() { None } else { routine };
    let mut diagnostics = d.list;
    // In reading order within the file; diagnostics about template files keep their place after.
    diagnostics.sort_by_key(|d| (d.path != source.path, d.line, d.column));
    Compiled {
        routine,
        diagnostics,
    }
}
