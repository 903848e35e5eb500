//! `loggkoll check`: compile routine files and report every diagnostic.

use super::Env;
use crate::Result;
use crate::routine::{Context, loader};
use crate::templates::Library;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Routine files or folders (default: the routines folder).
    pub paths: Vec<PathBuf>,
    /// `human` diagnostics on stderr, or a JSON array on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn run(env: &Env, args: CheckArgs) -> Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![env.global.routines.clone()]
    } else {
        args.paths
    };
    let library = Library::load(&env.global.templates)?;
    let ctx = Context {
        templates: Some(&library),
    };
    let set = loader::compile_all(&paths, &ctx)?;
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&set.diagnostics)
                .map_err(|e| crate::Error::runtime(e.to_string()))?;
            println!("{json}");
        }
        Format::Human => {
            for d in &set.diagnostics {
                eprintln!("{}", d.render());
            }
            let errors = set.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = set.diagnostics.len() - errors;
            let files = loader::find(&paths)?.len();
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            if errors > 0 {
                eprintln!(
                    "check failed in {}: {}, {}",
                    plural(files, "file"),
                    plural(errors, "error"),
                    plural(warnings, "warning")
                );
            } else {
                eprintln!(
                    "checked {} ({}): {}",
                    plural(files, "file"),
                    set.routines
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if warnings == 0 {
                        "no problems".to_string()
                    } else {
                        plural(warnings, "warning")
                    }
                );
            }
        }
    }
    Ok(if set.has_errors() { 1 } else { 0 })
}
