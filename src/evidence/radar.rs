//! The radar (risköversikt): users ranked by what their accesses in a period show — flagged and
//! unexplained accesses, weighted by how much each flag says — for the verksamhetschef to decide
//! on targeted reviews. It decodes the digests of the log's index for the period (and the margin
//! the rules look at), groups accounts by the person who holds them, and runs the same rules as a
//! case's evidence. Nothing opens by itself: the decision to start a targeted review is always
//! the verksamhetschef's.

use super::assess::{FLAG_CODES, Fact, Texts};
use super::case::{action_codes, assess_person, facts_from, margin};
use super::people::Directory;
use crate::Result;
use crate::engine::org::Org;
use crate::routine::Routine;
use crate::routine::model::{CaseKind, EvidenceRules};
use crate::store::logindex;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One user of the radar (`radar --json` prints an array of them, riskiest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The person; `None` for an account that belongs to nobody in the roster.
    pub person: Option<String>,
    /// The person's name in the roster (empty for an account of nobody).
    pub name: String,
    /// `system:account`.
    pub accounts: Vec<String>,
    pub accesses: usize,
    pub clients: usize,
    pub flagged: usize,
    pub unexplained: usize,
    pub flags: BTreeMap<String, usize>,
    /// The rank: each kind of flag counts once per client, by its weight (own record, a
    /// colleague's, the watch list and an account after employment 10; same surname and
    /// Nödöppning 5; a burst 3; another unit and night 1), twice when an access of that client
    /// and kind has no explanation.
    pub score: u32,
}

/// A row: the person, or (for an account of nobody) `None` and the account.
type RowKey = (Option<String>, String);
/// Per client and flag code: the flag's weight, and whether an access of them is unexplained.
type Scores = HashMap<(u64, &'static str), (u32, bool)>;

/// The rules and zone the radar uses for `system`: those of its sampling routine, else of the
/// first routine that covers it, else the defaults.
pub fn rules_for(routines: &[&Routine], system: &str, tz: Tz) -> (EvidenceRules, Tz) {
    routines
        .iter()
        .filter(|r| r.systems.iter().any(|s| s == system))
        .min_by_key(|r| (r.kind != CaseKind::Sampling, r.id.clone()))
        .map(|r| (r.evidence, r.timezone))
        .unwrap_or((EvidenceRules::default(), tz))
}

/// The systems with imported log in `[from, to)`.
fn systems_in(conn: &Connection, from: i64, to: i64) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for (system, _, a, b) in crate::store::evidence::all_coverage(conn)? {
        if a < to && b > from {
            out.insert(system);
        }
    }
    Ok(out)
}

/// What the radar looks at.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// One system, or all with imported log in the period.
    pub system: Option<&'a str>,
    /// The zone of routines that do not name one, and of the watch list's day.
    pub tz: Tz,
}

/// The radar of `[from, to)`, of one system or all, with the watch list as it stands on the day
/// of `now`.
pub fn radar(
    conn: &Connection,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<Row>> {
    let (from, to, system, tz) = (
        scope.from.timestamp(),
        scope.to.timestamp(),
        scope.system,
        scope.tz,
    );
    let day = crate::engine::deadline::local_date(now, tz);
    let mut dir = Directory::new(conn, day)?;
    dir.preload()?;
    let systems: Vec<String> = match system {
        Some(s) => vec![s.to_string()],
        None => systems_in(conn, from, to)?.into_iter().collect(),
    };
    let (writes, _) = action_codes();
    // Person (or `account of nobody`) → row.
    let mut rows: HashMap<(Option<String>, String), Row> = HashMap::new();
    let mut clients_of: HashMap<(Option<String>, String), BTreeSet<u64>> = HashMap::new();
    // (row key, client, flag code) → (weight, unexplained), for the score.
    let mut scored: HashMap<RowKey, Scores> = HashMap::new();
    for system in &systems {
        let (rules, tz) = rules_for(routines, system, tz);
        let m = margin(&rules);
        let near = (from - rules.burst_within, to + rules.burst_within);
        let mut strings = Texts::default();
        let mut by_account: HashMap<String, Vec<Fact>> = HashMap::new();
        logindex::for_each_digest(conn, Some(system), from - m, to + m, |d| {
            let facts = by_account.entry(d.account.clone()).or_default();
            facts_from(&d, facts, |e| {
                (near.0 <= e.at && e.at < near.1) || writes.contains(&e.action)
            });
            Ok(())
        })?;
        // Accounts by the person who holds them.
        let mut by_person: BTreeMap<Option<String>, Vec<(String, Vec<Fact>)>> = BTreeMap::new();
        for (account, facts) in by_account {
            let owner = dir.owner(system, &account)?;
            by_person.entry(owner).or_default().push((account, facts));
        }
        for (person, accounts) in by_person {
            // Accounts of nobody are each their own row.
            let groups: Vec<Vec<(String, Vec<Fact>)>> = match person {
                Some(_) => vec![accounts],
                None => accounts.into_iter().map(|a| vec![a]).collect(),
            };
            for group in groups {
                let names: Vec<String> =
                    group.iter().map(|(a, _)| format!("{system}:{a}")).collect();
                let mut facts: Vec<Fact> = group.into_iter().flat_map(|(_, f)| f).collect();
                super::assess::prepare(&mut facts);
                strings.load(conn, facts.iter().flat_map(|f| [f.client_unit, f.surnames]))?;
                let assessed = assess_person(
                    &mut dir,
                    org,
                    &rules,
                    tz,
                    person.as_deref(),
                    &facts,
                    &strings,
                    from,
                    to,
                )?;
                if assessed.is_empty() {
                    continue;
                }
                let key = match &person {
                    Some(p) => (Some(p.clone()), String::new()),
                    None => (None, names.join(",")),
                };
                let name = match &person {
                    Some(p) => dir.staff(p)?.map(|s| s.name.clone()).unwrap_or_default(),
                    None => String::new(),
                };
                let row = rows.entry(key.clone()).or_insert_with(|| Row {
                    person: person.clone(),
                    name,
                    accounts: Vec::new(),
                    accesses: 0,
                    clients: 0,
                    flagged: 0,
                    unexplained: 0,
                    flags: BTreeMap::new(),
                    score: 0,
                });
                row.accounts.extend(names);
                let clients = clients_of.entry(key.clone()).or_default();
                let score = scored.entry(key).or_default();
                for (f, a) in &assessed {
                    row.accesses += 1;
                    clients.insert(f.client);
                    if a.flagged() {
                        row.flagged += 1;
                    }
                    if !a.explained() {
                        row.unexplained += 1;
                    }
                    for flag in &a.flags {
                        *row.flags.entry(flag.code().to_string()).or_insert(0) += 1;
                        let s = score
                            .entry((f.client, flag.code()))
                            .or_insert((flag.weight(), false));
                        s.1 |= !a.explained();
                    }
                }
            }
        }
    }
    let mut out: Vec<Row> = rows
        .into_iter()
        .map(|(key, mut row)| {
            row.clients = clients_of.get(&key).map_or(0, BTreeSet::len);
            row.score = scored.get(&key).map_or(0, |m| {
                m.values()
                    .map(|(w, unexplained)| if *unexplained { w * 2 } else { *w })
                    .sum()
            });
            row.accounts.sort();
            row.accounts.dedup();
            row
        })
        .collect();
    out.sort_by(|a, b| {
        (b.score, b.flagged, b.unexplained, b.accesses)
            .cmp(&(a.score, a.flagged, a.unexplained, a.accesses))
            .then_with(|| a.person.cmp(&b.person))
            .then_with(|| a.accounts.cmp(&b.accounts))
    });
    Ok(out)
}

/// The flag codes in the order pages show them, each with its Swedish name.
pub fn flag_names() -> Vec<(&'static str, &'static str)> {
    FLAG_CODES
        .iter()
        .map(|code| {
            let name = match *code {
                "own_record" => "Egen journal",
                "colleague_record" => "Kollegas journal",
                "same_surname" => "Samma efternamn",
                "watch_list" => "Bevakningslistan",
                "emergency_access" => "Nödöppning",
                "after_employment" => "Efter anställningen",
                "burst" => "Många kunder på kort tid",
                "unit_mismatch" => "Annan enhet",
                "night" => "Natt",
                other => other,
            };
            (*code, name)
        })
        .collect()
}
