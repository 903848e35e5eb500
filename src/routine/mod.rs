//! The routine language: YAML files written by quality staff, compiled into checked state graphs.
//!
//! The pipeline, one stage per module: [`loader`] finds and reads files → [`yaml`] turns text into
//! a positioned tree → [`parser`] reads the tree into a [`raw::RawRoutine`] (shape: keys, types)
//! → [`analyzer`] resolves and checks it into a [`model::Routine`] (meaning: states, roles,
//! schedules, templates) → [`render`] draws the graph and [`explain`] describes it. Diagnostics
//! are collected along the way, never stopping at the first.

pub mod analyzer;
pub mod chance;
pub mod diagnostic;
pub mod duration;
pub mod explain;
pub mod loader;
pub mod model;
pub mod parser;
pub mod raw;
pub mod render;
pub mod source;
pub mod yaml;

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

/// Compiles one routine source.
pub fn compile(source: &Source, ctx: &Context) -> Compiled {
    let mut d = diagnostic::Diagnostics::new(source);
    let routine = match yaml::parse(source) {
        Err(diag) => {
            d.push(*diag);
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
