//! The purge (gallring): what is past its retention period goes, and a record of the purge
//! stays. A case is purged `retention` years after it closed, by the retention of the routine
//! version it ran on (NPÖ 5 years, Treserva 2), once its opening year is over. Purging a case:
//!
//! 1. adds its anonymous counts (result, late, handed out, …) to `purged_counts`, and — for the
//!    first purged case of a sampling routine's year — freezes that year's user figures
//!    (population, drawn, reviewed) there, so that older summaries still add up;
//! 2. deletes its files (protocols, letters, metadata) wherever they were written;
//! 3. deletes its steps (comments, answers) and timers, and its details (client, user and
//!    account reviewed, window, reason), keeping the reference, routine, unit, dates and result;
//! 4. empties the values of its emails in the outbox;
//! 5. erases the personal details of its audit entries (`store::audit::erase_personal`); the
//!    chain keeps verifying, since personal details are outside the chained fields;
//! 6. deletes the reviewed user's membership of the case's round; a round whose cases are all
//!    purged and whose retention has passed loses its member list (its counts stay).
//!
//! Imported access-log rows go when their system's retention (years after the event) has passed;
//! the yearly summaries' emails lose their values and attachments after their routine's
//! retention. One audit entry (`records.purged`) records what went. A dry run lists the same
//! and changes nothing.

use super::figures::{self, CaseFacts};
use super::files;
use super::years_before;
use crate::engine::Engine;
use crate::routine::model::CaseKind;
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::purge as pdb;
use crate::store::records::{self as rdb};
use crate::store::{parse_ts, ts};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// A case that is (or would be) purged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurgedCase {
    pub id: String,
    pub routine: String,
    pub system: String,
    pub closed_at: String,
    pub retention_years: u32,
    /// When its retention ended.
    pub due: String,
}

/// What a purge removes (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purge {
    pub now: String,
    pub dry_run: bool,
    pub cases: Vec<PurgedCase>,
    pub files: usize,
    /// Rounds whose member lists go.
    pub rounds: Vec<i64>,
    /// Access-log rows by system.
    pub log_rows: BTreeMap<String, usize>,
    /// Yearly-summary emails whose values and attachments go.
    pub summary_mails: usize,
    /// Watch-list entries no longer in force whose client and reason go.
    pub watch: Vec<i64>,
    /// Care relationships and work shifts that ended before the log they explain was kept.
    pub relations: usize,
    pub shifts: usize,
}

impl Purge {
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
            && self.rounds.is_empty()
            && self.log_rows.values().all(|n| *n == 0)
            && self.summary_mails == 0
            && self.watch.is_empty()
            && self.relations == 0
            && self.shifts == 0
    }
}

/// What explains the log is kept as long as the log: care relationships of a system until the
/// day its log is kept from (of every system: the longest), shifts until the longest.
/// Returns (system, the first day kept) and the first instant of shifts kept.
fn context_cutoffs(
    engine: &Engine,
    now: DateTime<Utc>,
) -> Result<(Vec<(String, chrono::NaiveDate)>, i64)> {
    // Per system, the longest the log is kept: by today's routines, or by an import kept
    // longer under an earlier rule.
    let mut years: BTreeMap<String, u32> = crate::records::logs::retention_rules(&engine.routines)
        .into_iter()
        .collect();
    for b in rdb::batches(engine.store.db())? {
        let y = years.entry(b.system.clone()).or_insert(0);
        *y = (*y).max(b.retention_years);
    }
    let longest = years.values().copied().max().unwrap_or(0);
    let tz = engine.config.timezone;
    let day = |years: u32| years_before(now, years).with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    for system in crate::store::relations::relation_systems(engine.store.db())? {
        let kept = years.get(&system).copied().unwrap_or(longest);
        out.push((system, day(kept)));
    }
    Ok((out, years_before(now, longest).timestamp()))
}

/// The retention years of each routine version with closed, unpurged cases.
fn retention_by_version(engine: &mut Engine) -> Result<HashMap<String, Retention>> {
    // Every version ever run (a small table): cases and rounds point to one of them.
    let hashes = pdb::version_hashes(engine.store.db())?;
    let mut out = HashMap::new();
    for hash in hashes {
        let (store, ctx) = engine.parts();
        let r = ctx.version(store.db(), &hash)?;
        out.insert(
            hash,
            Retention {
                years: r.retention_years,
                by_system: r.retention_by_system.clone(),
                tz: r.timezone,
            },
        );
    }
    Ok(out)
}

/// How long a routine version's records are kept.
struct Retention {
    /// The longest period: rounds and summaries.
    years: u32,
    /// Closed cases, by the systems they review.
    by_system: BTreeMap<String, u32>,
    tz: chrono_tz::Tz,
}

impl Retention {
    /// The years for a case that reviews `systems` (`;`-separated, as stored) or `system`.
    fn for_case(&self, system: &str, systems: Option<&str>) -> u32 {
        systems
            .unwrap_or(system)
            .split(';')
            .filter_map(|s| self.by_system.get(s).copied())
            .max()
            .unwrap_or(self.years)
    }

    /// The shortest period of any system: no case of the version is due before it.
    fn shortest(&self) -> u32 {
        self.by_system.values().copied().min().unwrap_or(self.years)
    }
}

/// The cases past their retention at `now`.
fn due_cases(
    conn: &Db,
    versions: &HashMap<String, Retention>,
    now: DateTime<Utc>,
) -> Result<Vec<(PurgedCase, String)>> {
    let mut out = Vec::new();
    for (hash, retention) in versions {
        let tz = &retention.tz;
        let cutoff = years_before(now, retention.shortest());
        for (id, routine, system, closed_at, opened_at, systems) in
            pdb::closed_cases(conn, hash, cutoff)?
        {
            let years = &retention.for_case(&system, systems.as_deref());
            // The cases of the version's longer periods wait for theirs.
            if parse_ts(&closed_at)? > years_before(now, *years) {
                continue;
            }
            // Not before the year the case counts in is over (its figures are then final).
            let year = figures::local_year(&opened_at, *tz)?;
            if figures::year_bounds(year, *tz).1 > now {
                continue;
            }
            let due = ts(super::years_after(parse_ts(&closed_at)?, *years));
            out.push((
                PurgedCase {
                    id,
                    routine,
                    system,
                    closed_at,
                    retention_years: *years,
                    due,
                },
                hash.clone(),
            ));
        }
    }
    out.sort_by(|a, b| (&a.0.closed_at, &a.0.id).cmp(&(&b.0.closed_at, &b.0.id)));
    Ok(out)
}

/// Rounds with members whose cases are all purged (or that had none) and whose retention,
/// counted from the round, has passed: (round, routine, version hash, occurrence).
fn due_rounds(
    conn: &Db,
    versions: &HashMap<String, Retention>,
    purging: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, String, String, String)>> {
    let mut out = Vec::new();
    for (id, routine, hash, occurrence) in pdb::rounds_with_members(conn)? {
        let Some(retention) = versions.get(&hash) else {
            continue;
        };
        if super::years_after(parse_ts(&occurrence)?, retention.years) > now {
            continue;
        }
        let open = pdb::unpurged_cases_of_round(conn, id)?;
        if open.iter().all(|c| purging.contains(c)) {
            out.push((id, routine, hash, occurrence));
        }
    }
    Ok(out)
}

/// Summary emails past their routine's retention that still hold values.
fn due_summary_mails(engine: &Engine, now: DateTime<Utc>) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for r in engine.routines.iter().filter(|r| r.summary.is_some()) {
        let cutoff = years_before(now, r.retention_years);
        // The outbox is large and has no index on purpose: look only when a summary is old.
        if !pdb::summary_made_by(engine.store.db(), &r.id, cutoff)? {
            continue;
        }
        out.extend(pdb::old_summary_mails(engine.store.db(), &r.id, cutoff)?);
    }
    Ok(out)
}

/// Purges (or with `dry_run` only lists) what is past its retention at `now`.
pub fn run(engine: &mut Engine, now: DateTime<Utc>, dry_run: bool, actor: &str) -> Result<Purge> {
    let versions = retention_by_version(engine)?;
    let conn = engine.store.db();
    let cases = due_cases(conn, &versions, now)?;
    let ids: Vec<String> = cases.iter().map(|(c, _)| c.id.clone()).collect();
    let rounds = due_rounds(conn, &versions, &ids, now)?;
    let mut files = 0;
    for id in &ids {
        files += rdb::files_of(conn, id)?.len();
    }
    let mut log_rows: BTreeMap<String, usize> = BTreeMap::new();
    let batches: Vec<(rdb::LogBatch, i64)> = rdb::batches(conn)?
        .into_iter()
        .map(|b| {
            let cutoff = years_before(now, b.retention_years).timestamp();
            (b, cutoff)
        })
        .filter(|(b, cutoff)| b.oldest < *cutoff)
        .collect();
    if dry_run {
        for (b, cutoff) in &batches {
            *log_rows.entry(b.system.clone()).or_insert(0) += rdb::count_expired(conn, b, *cutoff)?;
        }
    }
    let mails = due_summary_mails(engine, now)?;
    let today = crate::clock::local_date(now, engine.config.timezone);
    let conn = engine.store.db();
    let watch = crate::store::evidence::watch_to_purge(conn, today)?;
    let (relation_cutoffs, shift_cutoff) = context_cutoffs(engine, now)?;
    let conn = engine.store.db();
    let mut relations = 0;
    for (system, day) in &relation_cutoffs {
        relations += crate::store::relations::count_ended(conn, system, *day)?;
    }
    let shifts = crate::store::relations::count_shifts_before(conn, shift_cutoff)?;
    let mut purge = Purge {
        now: ts(now),
        dry_run,
        cases: cases.iter().map(|(c, _)| c.clone()).collect(),
        files,
        rounds: rounds.iter().map(|r| r.0).collect(),
        log_rows,
        summary_mails: mails.len(),
        watch,
        relations,
        shifts,
    };
    if dry_run || (purge.is_empty() && batches.is_empty()) {
        return Ok(purge);
    }
    let tx = engine.store.write()?;
    let mut gone = std::collections::BTreeSet::new();
    for (c, hash) in &cases {
        let tz = versions
            .get(hash)
            .map(|r| r.tz)
            .ok_or_else(|| Error::runtime(format!("routine version {hash} is not loaded")))?;
        if purge_case(&tx, &c.id, tz, now)? {
            gone.insert(c.id.clone());
        }
    }
    // Another process's purge may have taken some a moment ago: what this one did is recorded.
    purge.cases.retain(|c| gone.contains(&c.id));
    for (round, routine, hash, occurrence) in &rounds {
        if let Some(Retention { tz, .. }) = versions.get(hash) {
            let year = figures::local_year(occurrence, *tz)?;
            freeze(&tx, routine, year, *tz, now)?;
        }
        pdb::forget_round_members(&tx, *round)?;
    }
    for (b, cutoff) in &batches {
        let n = rdb::purge_batch(&tx, b, *cutoff)?;
        crate::store::logindex::purge(&tx, b.import_id, &b.system, *cutoff)?;
        crate::store::evidence::purge_coverage(&tx, b.import_id, &b.system, *cutoff)?;
        *purge.log_rows.entry(b.system.clone()).or_insert(0) += n;
    }
    for id in &mails {
        pdb::empty_email(&tx, *id)?;
    }
    crate::engine::watch::purge(&tx, today, now)?;
    purge.relations = 0;
    for (system, day) in &relation_cutoffs {
        purge.relations += crate::store::relations::purge_ended(&tx, system, *day)?;
    }
    purge.shifts = crate::store::relations::purge_shifts_before(&tx, shift_cutoff)?;
    // The texts only purged rows named (staff names, titles, units) go too, at most monthly: it
    // reads the whole log.
    if purge.log_rows.values().any(|n| *n > 0) {
        let last =
            crate::store::meta_get(&tx, "strings_pruned_at")?.and_then(|t| parse_ts(&t).ok());
        if last.is_none_or(|t| now - t >= chrono::Duration::days(30)) {
            rdb::prune_strings(&tx)?;
            crate::store::meta_set(&tx, "strings_pruned_at", &ts(now))?;
        }
    }
    if purge.is_empty() {
        // Only empty batches: nothing worth a record.
        tx.commit()?;
        return Ok(purge);
    }
    let mut by_routine: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &purge.cases {
        *by_routine.entry(c.routine.as_str()).or_insert(0) += 1;
    }
    audit::append(
        &tx,
        now,
        &Event {
            actor,
            event: "records.purged",
            case_id: None,
            round_id: None,
            data: json!({
                "cases": purge.cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
                "by_routine": by_routine,
                "files": purge.files,
                "rounds": purge.rounds,
                "log_rows": purge.log_rows,
                "summary_mails": purge.summary_mails,
                "watch": purge.watch,
                "relations": purge.relations,
                "shifts": purge.shifts,
            }),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(purge)
}

/// Freezes the user figures of a sampling routine's year into `purged_counts` (once).
fn freeze(
    conn: &Db,
    routine: &str,
    year: i32,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<()> {
    if rdb::is_frozen(conn, routine, year)? {
        return Ok(());
    }
    let (start, end) = figures::year_bounds(year, tz);
    let system = pdb::round_system(conn, routine)?.unwrap_or_default();
    for (unit, measures) in figures::user_measures(conn, routine, start, end)? {
        for (measure, value) in measures {
            rdb::add_purged_count(conn, (routine, &system, &unit, year), &measure, value)?;
        }
    }
    rdb::mark_frozen(conn, routine, year, now)
}

/// Purges one case (see the module documentation); false when it had been purged already (by
/// another process's tick on the database, between the list and this transaction).
fn purge_case(conn: &Db, id: &str, tz: chrono_tz::Tz, now: DateTime<Utc>) -> Result<bool> {
    let case = crate::store::cases::require(conn, id)?;
    if case.purged_at.is_some() {
        return Ok(false);
    }
    crate::store::access::purge(conn, id)?;
    let year = figures::local_year(&case.opened_at, tz)?;
    if case.kind == CaseKind::Sampling.as_str() && case.round_id.is_some() {
        freeze(conn, &case.routine_id, year, tz, now)?;
    }
    let tasks: Vec<(chrono::NaiveDate, Option<String>)> = crate::store::cases::tasks_of(conn, id)?
        .into_iter()
        .map(|t| (t.due_date, t.answered_at))
        .collect();
    let facts = CaseFacts {
        id: case.id.clone(),
        unit_id: case.unit_id.clone(),
        system: case.system.clone(),
        opened_at: case.opened_at.clone(),
        closed_at: case.closed_at.clone(),
        result: case.result.clone(),
        handed_out_at: case.handed_out_at.clone(),
    };
    let measures = figures::case_measures(&facts, &tasks, tz, now)?;
    for (measure, value) in &measures {
        rdb::add_purged_count(
            conn,
            (&case.routine_id, &case.system, &case.unit_id, year),
            measure,
            *value,
        )?;
    }
    let mut folders = Vec::new();
    for path in rdb::files_of(conn, id)? {
        let p = std::path::Path::new(&path);
        remove_if_there(p)?;
        if let Some(dir) = p.parent()
            && !folders.iter().any(|f: &std::path::PathBuf| f == dir)
        {
            folders.push(dir.to_path_buf());
        }
    }
    for dir in &folders {
        // The case's own folder may hold what an interrupted write left: a `.tmp`, or a
        // document written by a run that died before it was registered.
        if dir
            .file_name()
            .is_some_and(|n| n == std::ffi::OsStr::new(id))
        {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if files::left_by_us(&entry.file_name().to_string_lossy(), id) {
                    remove_if_there(&entry.path())?;
                }
            }
        }
        // The folder goes when it is empty.
        let _ = std::fs::remove_dir(dir);
    }
    rdb::forget_files(conn, id)?;
    crate::store::evidence::forget_judgements(conn, id)?;
    let member = case.round_id.zip(case.subject_person_id.as_deref());
    pdb::erase_case(conn, id, member, now)?;
    audit::erase_personal(conn, id)?;
    Ok(true)
}

/// The purge of the daily tick: at most once per local day (the `meta` key
/// `purge_checked_day`); returns how many cases went.
pub fn tick(engine: &mut Engine, now: DateTime<Utc>) -> Result<usize> {
    let day = crate::clock::local_date(now, engine.config.timezone).to_string();
    if crate::store::meta_get(engine.store.db(), "purge_checked_day")?.as_deref() == Some(&day) {
        return Ok(0);
    }
    let purge = run(engine, now, false, "system")?;
    crate::store::meta_set(engine.store.db(), "purge_checked_day", &day)?;
    Ok(purge.cases.len())
}

fn remove_if_there(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::runtime(format!(
            "cannot delete `{}`: {e}",
            path.display()
        ))),
    }
}
