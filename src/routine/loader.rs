//! The loader: finds routine files (`*.yaml`, `*.yml`) in folders, reads them, compiles each and
//! checks what only the set as a whole can show (two files with the same routine id).

use super::diagnostic::{Diagnostic, Severity};
use super::{Compiled, Context, Routine, Source, compile};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Every routine file named by `paths` (files as given, folders searched one level, sorted).
pub fn find(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::usage(format!("cannot read `{}`: {e}", path.display())))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|ext| ext == "yaml" || ext == "yml")
                })
                .collect();
            files.sort();
            out.extend(files);
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(Error::usage(format!(
                "`{}` is neither a routine file nor a folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

pub fn read(path: &Path) -> Result<Source> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(Source::new(path.display().to_string(), text))
}

/// The outcome of compiling a set of files.
pub struct Set {
    pub routines: Vec<Routine>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Set {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles every file of `paths`, plus the library's own load errors, with duplicates removed
/// (a broken template named by four routines is reported once).
pub fn compile_all(paths: &[PathBuf], ctx: &Context) -> Result<Set> {
    let mut sources = Vec::new();
    for file in find(paths)? {
        sources.push(read(&file)?);
    }
    Ok(compile_sources(&sources, ctx))
}

pub(crate) fn compile_sources(sources: &[Source], ctx: &Context) -> Set {
    let mut routines: Vec<Routine> = Vec::new();
    let mut diagnostics = Vec::new();
    if let Some(library) = ctx.templates {
        diagnostics.extend(library.load_errors.iter().cloned());
    }
    for source in sources {
        let Compiled {
            routine,
            diagnostics: found,
        } = compile(source, ctx);
        diagnostics.extend(found);
        if let Some(routine) = routine {
            if let Some(first) = routines.iter().find(|r| r.id == routine.id) {
                let span = super::yaml::parse(source)
                    .ok()
                    .and_then(|tree| match tree.kind {
                        super::yaml::NodeKind::Map(entries) => entries
                            .into_iter()
                            .find(|(k, _)| {
                                matches!(&k.kind, super::yaml::NodeKind::Scalar { value, .. } if value == "id")
                            })
                            .map(|(_, v)| v.span),
                        _ => None,
                    })
                    .unwrap_or_default();
                diagnostics.push(
                    Diagnostic::new(
                        source,
                        span,
                        Severity::Error,
                        "duplicate-routine",
                        format!(
                            "routine id `{}` is also used by `{}`",
                            routine.id, first.path
                        ),
                    )
                    .with_help("give each routine an id of its own"),
                );
                continue;
            }
            routines.push(routine);
        }
    }
    let mut seen = std::collections::HashSet::new();
    diagnostics
        .retain(|d| seen.insert((d.path.clone(), d.line, d.column, d.code, d.message.clone())));
    Set {
        routines,
        diagnostics,
    }
}

/// Loads the routines of `dir` for the engine: any error is fatal (exit 1) and names the first
/// problem; run `loggkoll check` for all of them.
pub fn load_routines(dir: &Path, ctx: &Context) -> Result<Vec<Routine>> {
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "routines folder `{}` not found (use --routines DIR)",
            dir.display()
        )));
    }
    let set = compile_all(&[dir.to_path_buf()], ctx)?;
    if let Some(first) = set.diagnostics.iter().find(|d| d.is_error()) {
        let count = set.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(Error::invalid(format!(
            "the routines do not compile ({count} error{}); first: {}:{}:{}: {}\nrun `loggkoll check` to see them all",
            if count == 1 { "" } else { "s" },
            first.path,
            first.line,
            first.column,
            first.message
        )));
    }
    Ok(set.routines)
}

/// Finds a routine by id, or by the path of its file.
pub fn select<'r>(routines: &'r [Routine], name: &str) -> Result<&'r Routine> {
    if let Some(r) = routines.iter().find(|r| r.id == name) {
        return Ok(r);
    }
    let wanted = Path::new(name);
    if let Some(r) = routines.iter().find(|r| {
        Path::new(&r.path) == wanted
            || (wanted.exists()
                && std::fs::canonicalize(&r.path).ok() == std::fs::canonicalize(wanted).ok())
    }) {
        return Ok(r);
    }
    let ids: Vec<&str> = routines.iter().map(|r| r.id.as_str()).collect();
    let hint = super::diagnostic::did_you_mean(name, ids.iter().copied())
        .map(|h| format!("; {h}"))
        .unwrap_or_else(|| format!("; the routines are {}", ids.join(", ")));
    Err(Error::usage(format!("no routine `{name}`{hint}")))
}
