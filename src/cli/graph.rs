//! `loggkoll graph` and `loggkoll explain`: a compiled routine as a picture or in words.

use super::Env;
use crate::routine::render::{self, Format};
use crate::routine::{Context, Routine, explain as explainer, loader};
use crate::templates::Library;
use crate::{Error, Result};
use clap::Args;
use std::path::Path;

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The routine: its id, or the path of its file.
    pub routine: String,
    /// dot, mermaid or svg.
    #[arg(long, default_value = "dot")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The routine: its id, or the path of its file.
    pub routine: String,
}

/// A routine by id (from the routines folder) or by file path (compiled on its own).
pub(super) fn find_routine(env: &Env, name: &str) -> Result<Routine> {
    let library = Library::load(&env.global.templates)?;
    let ctx = Context {
        templates: Some(&library),
    };
    let path = Path::new(name);
    if path.is_file() {
        let set = loader::compile_all(&[path.to_path_buf()], &ctx)?;
        if let Some(first) = set.diagnostics.iter().find(|d| d.is_error()) {
            return Err(Error::invalid(format!(
                "`{name}` does not compile: {}:{}:{}: {}\nrun `loggkoll check {name}` to see every problem",
                first.path, first.line, first.column, first.message
            )));
        }
        return set
            .routines
            .into_iter()
            .next()
            .ok_or_else(|| Error::usage(format!("`{name}` holds no routine")));
    }
    let routines = loader::load_routines(&env.global.routines, &ctx)?;
    loader::select(&routines, name).cloned()
}

pub(super) fn graph(env: &Env, args: GraphArgs) -> Result<u8> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        Error::usage(format!(
            "unknown graph format `{}`; use dot, mermaid or svg",
            args.format
        ))
    })?;
    let routine = find_routine(env, &args.routine)?;
    print!("{}", render::render(&routine, format));
    Ok(0)
}

pub(super) fn explain(env: &Env, args: ExplainArgs) -> Result<u8> {
    let now = env.now()?;
    let routine = find_routine(env, &args.routine)?;
    print!("{}", explainer::explain(&routine, now));
    // Which window rule the next round would use, when there is a database to ask.
    if let (Some(s), Some(crontab)) = (&routine.sampling, routine.crontab())
        && crate::store::exists(&env.global.db)
        && let Some(next) = crontab.next_after(routine.timezone, now)
    {
        let store = crate::store::Store::at(&env.global.db)?;
        let rule = match crate::engine::rounds::log_horizon(store.db(), s, &routine, next)? {
            Some(_) => {
                "den inlästa loggen täcker perioden, så intervallet dras kring användarens åtkomster"
            }
            None => {
                "ingen inläst logg täcker perioden ännu, så intervallet slumpas (läs in loggen före omgången)"
            }
        };
        println!(
            "\nNästa omgång ({}): {rule}",
            next.with_timezone(&routine.timezone)
                .format("%Y-%m-%d %H:%M")
        );
    }
    Ok(0)
}
