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

pub(super) fn run(env: &Env, args: CheckArgs) -> Result<u8> {
    // Format files named on the command line (in a `formats` folder, or the folder itself) are
    // checked as formats; without paths, the formats folder in use is.
    let is_formats = |p: &std::path::Path| {
        let named = |p: &std::path::Path| p.file_name().is_some_and(|n| n == "formats");
        named(p) || p.parent().is_some_and(named)
    };
    let (format_paths, routine_paths): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.into_iter().partition(|p| is_formats(p));
    let check_formats = routine_paths.is_empty();
    let paths = if routine_paths.is_empty() {
        vec![env.global.routines.clone()]
    } else {
        routine_paths
    };
    let library = Library::load(&env.global.templates)?;
    let ctx = Context {
        templates: Some(&library),
    };
    let mut set = loader::compile_all(&paths, &ctx)?;
    // The digest template is the configuration's, not a routine's: checked whenever present,
    // required when digests are on.
    let digest = crate::templates::Purpose::Digest;
    if library.contains("mail/digest.txt") || env.config.mail.digest {
        set.diagnostics.extend(library.check(digest, "digest"));
        if env.config.mail.digest && !library.contains("mail/digest.txt") {
            return Err(crate::Error::invalid(format!(
                "mail.digest is on but `{}/mail/digest.txt` is missing",
                env.global.templates.display()
            )));
        }
    }
    if library.contains("mail/inbox_failed.txt") {
        set.diagnostics
            .extend(library.check(crate::templates::Purpose::InboxFailed, "inbox_failed"));
    }
    set.diagnostics
        .extend(open_states_removed(env, &set.routines)?);
    // The log formats in use, checked like routines.
    let rules = crate::records::logs::retention_rules(&set.routines);
    let systems: Vec<&str> = rules.iter().map(|(s, _)| s.as_str()).collect();
    let mut formats = crate::records::logs::format::Loaded::default();
    if check_formats {
        let dirs = if format_paths.is_empty() {
            vec![env.global.formats.clone()]
        } else {
            format_paths
        };
        for dir in dirs {
            let loaded = if dir.is_dir() {
                crate::records::logs::format::load_dir(&dir, &systems)?
            } else {
                crate::records::logs::format::load_file(&dir, &systems)?
            };
            formats.formats.extend(loaded.formats);
            formats.diagnostics.extend(loaded.diagnostics);
            formats.files.extend(loaded.files);
        }
        set.diagnostics.extend(formats.diagnostics.iter().cloned());
    }
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
                // The files with errors, not every file read.
                let broken = set
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.path.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                eprintln!(
                    "check failed in {}: {}, {}",
                    plural(broken, "file"),
                    plural(errors, "error"),
                    plural(warnings, "warning")
                );
            } else {
                let place = if env.global.formats_flag.is_none()
                    && !std::path::Path::new("formats").is_dir()
                {
                    "the embedded set".to_string()
                } else {
                    env.global.formats.display().to_string()
                };
                let formats_line = if check_formats {
                    format!(
                        " and {} ({}) from {place}",
                        plural(formats.files.len(), "log format"),
                        formats
                            .formats
                            .iter()
                            .map(|f| f.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    String::new()
                };
                eprintln!(
                    "checked {} ({}){formats_line}: {}",
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
    Ok(if set.has_errors() || formats.has_errors() {
        1
    } else {
        0
    })
}

/// Warnings for edited routines that no longer have a state open cases are in (the cases stay on
/// their version and finish there, but the author should know). Reads the database only when it
/// exists; `check` never creates one.
fn open_states_removed(
    env: &Env,
    routines: &[crate::routine::Routine],
) -> Result<Vec<crate::routine::Diagnostic>> {
    let path = &env.global.db;
    if !crate::store::exists(path) {
        return Ok(vec![]);
    }
    let conn = crate::store::read_only(path)?;
    Ok(crate::engine::open_states_removed(&conn, routines))
}
