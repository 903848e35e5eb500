//! `rights import` and `rights show`: the needs-and-risk analysis (*behovs- och riskanalys*)
//! that access rights are decided after.
use super::ops::{open_store, print_json};
use super::{Env, errln, outln};
use crate::evidence::needs::Analysis;
use crate::{Error, Result, engine, store};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RightsCommand {
    /// Import the needs-and-risk analysis from a CSV file
    /// (`unit_id,title,system,scope,risk,decided_by,decided_on`) as the analysis in force.
    Import(ImportArgs),
    /// Print the analysis in force (of one unit, or all) and the units without a current one.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file; `scope` is `none`, `unit`, `area` or `organisation`.
    pub file: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// One unit's analysis (by unit id); all units without it.
    pub unit: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(super) fn rights(env: &Env, cmd: RightsCommand) -> Result<u8> {
    let now = env.now()?;
    match cmd {
        RightsCommand::Import(args) => {
            let mut store = open_store(env)?;
            let version = engine::rights::import_file(
                &mut store,
                &args.file,
                "cli",
                now,
                env.config.timezone,
            )?;
            if args.json {
                print_json(&version)?;
            } else {
                errln!(
                    "imported the needs-and-risk analysis from {} as version {} ({} {})",
                    args.file.display(),
                    version.id,
                    version.rows,
                    if version.rows == 1 { "row" } else { "rows" }
                );
            }
            Ok(0)
        }
        RightsCommand::Show(args) => {
            let store = open_store(env)?;
            let today = now.with_timezone(&env.config.timezone).date_naive();
            let analysis = Analysis::load(store.db(), Some(now))?;
            let all = analysis.units(today);
            if let Some(unit) = &args.unit
                && !all.iter().any(|u| &u.unit == unit)
            {
                let near = crate::tabular::did_you_mean(unit, all.iter().map(|u| u.unit.as_str()))
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                return Err(Error::bad_input(format!(
                    "unit `{unit}` is not in the roster{near}"
                )));
            }
            // Units whose people hold accounts, and units with an analysis; or the one asked for.
            let staffed = store::access::units_with_any_account(store.db())?;
            let units: Vec<_> = all
                .into_iter()
                .filter(|u| match &args.unit {
                    Some(want) => *want == u.unit,
                    None => !u.needs.is_empty() || staffed.contains(&u.unit),
                })
                .collect();
            if args.json {
                print_json(&serde_json::json!({
                    "version": analysis.version,
                    "units": units,
                }))?;
                return Ok(0);
            }
            match &analysis.version {
                Some(v) => outln!(
                    "needs-and-risk analysis version {} (imported {} from {})",
                    v.id,
                    store::parse_ts(&v.imported_at)?
                        .with_timezone(&env.config.timezone)
                        .format("%Y-%m-%d %H:%M"),
                    v.file
                ),
                None => outln!("no needs-and-risk analysis has been imported (rights import FILE)"),
            }
            for u in &units {
                let state = match (u.decided_on.map(store::date), u.current) {
                    (None, _) => "no analysis".to_string(),
                    (Some(d), true) => format!("decided {d}"),
                    (Some(d), false) => format!("OUTDATED: last decided {d}"),
                };
                outln!("\n{} {} ({state})", u.unit, u.name);
                for n in &u.needs {
                    outln!(
                        "  {:<10} {:<24} {:<12} {} by {}",
                        n.system,
                        n.title,
                        n.scope.as_str(),
                        store::date(n.decided_on),
                        n.decided_by
                    );
                    outln!("  {:<10} risk: {}", "", n.risk);
                }
            }
            Ok(0)
        }
    }
}
