//! The evidence of a case: the log rows it is about, each with its explanations, flags and
//! judgement.
//!
//! - A case with a reviewed user (sampling, targeted): every access by any of that person's
//!   accounts, in the case's systems, inside its window or period.
//! - A case with a client and no user (an extract request, a targeted review of a client): every
//!   access to the client's record in the period, the rows an extract letter lists.
//!
//! The rules see some days around the period too (`documented_within`, the burst's length), so
//! that a signature the day after explains a read the day before.

use super::assess::{
    self, Assessment, ClientMap, Context, Fact, IdMap, Said, Texts, Tie, Ties, WorkShift,
};
use super::coverage::{self, LogStatus};
use super::people::RawTies;
use super::people::{Directory, People};
use crate::Result;
use crate::log_format as logs;
use crate::roster::org::Org;
use crate::routine::Routine;
use crate::routine::model::EvidenceRules;
use crate::store::Db;
use crate::store::cases::CaseRow;
use crate::store::evidence::{self as db, Judgement, LogRow};
use crate::store::{logindex, parse_ts, records as rdb};
use crate::sym::Sym;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// A reviewer's judgement as the evidence shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgementView {
    pub verdict: String,
    pub by: String,
    pub at: String,
    pub comment: Option<String>,
}

/// One access of the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(skip)]
    pub row: i64,
    pub log_id: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(skip)]
    pub at_unix: i64,
    pub system: String,
    pub account: String,
    /// The client's 12 digits.
    pub client: String,
    pub client_name: Option<String>,
    pub access_unit: String,
    pub client_unit: String,
    pub action: String,
    pub resource_type: String,
    pub purpose: String,
    pub explanations: Vec<Said>,
    pub flags: Vec<Said>,
    pub judgement: Option<JudgementView>,
}

impl Access {
    pub fn flagged(&self) -> bool {
        !self.flags.is_empty()
    }

    pub fn explained(&self) -> bool {
        !self.explanations.is_empty()
    }

    /// Flagged or unexplained: the reviewer marks it.
    pub fn needs_judgement(&self) -> bool {
        self.flagged() || !self.explained()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub accesses: usize,
    pub clients: usize,
    pub flagged: usize,
    pub unexplained: usize,
    pub judged: usize,
}

/// The evidence of one case (`case evidence --json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub case: String,
    pub systems: Vec<String>,
    /// The period, RFC 3339; `None` when the case has none.
    pub from: Option<String>,
    pub to: Option<String>,
    pub log: LogStatus,
    pub accesses: Vec<Access>,
    pub counts: Counts,
}

impl Evidence {
    /// Flagged accesses nobody has judged yet.
    pub(crate) fn unjudged_flagged(&self) -> Vec<&Access> {
        self.accesses
            .iter()
            .filter(|a| a.flagged() && a.judgement.is_none())
            .collect()
    }

    /// Accesses judged unjustified or unclear.
    pub(crate) fn judged_against(&self) -> Vec<&Access> {
        self.accesses
            .iter()
            .filter(|a| {
                a.judgement
                    .as_ref()
                    .is_some_and(|j| j.verdict != super::Verdict::Justified.as_str())
            })
            .collect()
    }
}

/// The accesses to one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group<'e> {
    pub client: &'e str,
    pub client_name: Option<&'e str>,
    pub accesses: Vec<&'e Access>,
    pub flagged: usize,
    pub unexplained: usize,
}

impl Evidence {
    /// One group per client, each in time order; groups with a flagged access first, then those
    /// with an unexplained one, then the rest, each kind in the order of their first access.
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut order: Vec<&str> = Vec::new();
        let mut by_client: HashMap<&str, Vec<&Access>> = HashMap::new();
        for a in &self.accesses {
            let list = by_client.entry(a.client.as_str()).or_default();
            if list.is_empty() {
                order.push(a.client.as_str());
            }
            list.push(a);
        }
        let mut groups: Vec<Group> = order
            .into_iter()
            .map(|client| {
                let accesses = by_client.remove(client).unwrap_or_default();
                Group {
                    client,
                    client_name: accesses.iter().find_map(|a| a.client_name.as_deref()),
                    flagged: accesses.iter().filter(|a| a.flagged()).count(),
                    unexplained: accesses.iter().filter(|a| !a.explained()).count(),
                    accesses,
                }
            })
            .collect();
        groups.sort_by_key(|g| (g.flagged == 0, g.unexplained == 0));
        groups
    }

    /// "37 åtkomster till 12 kunder, 3 flaggade".
    pub(crate) fn summary_sv(&self) -> String {
        let c = &self.counts;
        let mut s = format!(
            "{} till {}, {}",
            crate::sv::count(c.accesses, "åtkomst", "åtkomster"),
            crate::sv::count(c.clients, "kund", "kunder"),
            crate::sv::count(c.flagged, "flaggad", "flaggade")
        );
        if c.unexplained > 0 {
            s.push_str(&format!(", {} utan förklaring", c.unexplained));
        }
        s
    }
}

/// The action codes that document care (a write or a signature), and Nödöppning's.
pub(crate) fn action_codes() -> (Vec<u8>, u8) {
    let writes = ["Skapa", "Skriva", "Ändra", "Signera", "Vidimera"]
        .iter()
        .map(|w| logs::action_code(w))
        .collect();
    (writes, logs::action_code("Nödöppning"))
}

/// How far around a period the rules look.
pub(crate) fn margin(rules: &EvidenceRules) -> i64 {
    (i64::from(rules.documented_days) * 86_400).max(rules.burst_within)
}

/// How far before a period the rules look for earlier accesses to the same client
/// (`continuity`).
pub(crate) fn lookback(rules: &EvidenceRules) -> i64 {
    i64::from(rules.continuity_within) * 86_400
}

/// The span of `team`, seconds each way.
pub(crate) fn team_span(rules: &EvidenceRules) -> i64 {
    i64::from(rules.team_days) * 86_400
}

/// The fact of an entry of the index.
pub(crate) fn fact(e: &logindex::Entry) -> Fact {
    Fact {
        row: e.row,
        at: e.at,
        client: e.client,
        client_unit: e.client_unit,
        action: e.action,
        surnames: e.surnames,
        log_key: e.log_key,
    }
}

/// Whether the rules for `[from, to)` read an entry: within the burst's length of the period
/// or the `back` seconds before it, or a write within the margin of those.
pub(crate) fn wanted(
    rules: &EvidenceRules,
    writes: &[u8],
    from: i64,
    to: i64,
    back: i64,
) -> impl Fn(&logindex::Entry) -> bool {
    let m = margin(rules);
    let near = (from - back - rules.burst_within, to + rules.burst_within);
    let writes = writes.to_vec();
    move |e| {
        (near.0 <= e.at && e.at < near.1)
            || (writes.contains(&e.action) && from - back - m <= e.at && e.at < to + m)
    }
}

/// The facts of `accounts` in `system` that the rules need for `[from, to)`: every access within
/// the burst's length of it and in the `back` seconds before it, and writes within the margin.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gather(
    conn: &Db,
    rules: &EvidenceRules,
    system: &str,
    accounts: &[String],
    from: i64,
    to: i64,
    back: i64,
    strings: &mut Texts,
) -> Result<Vec<Fact>> {
    let (writes, _) = action_codes();
    let m = margin(rules);
    let keep = wanted(rules, &writes, from, to, back);
    let mut facts = Vec::new();
    for account in accounts {
        for d in logindex::digests_of(conn, system, account, from - back - m, to + m)? {
            facts.extend(d.entries.iter().filter(|e| keep(e)).map(fact));
        }
    }
    assess::prepare(&mut facts);
    strings.load(conn, facts.iter().map(|f| f.client_unit))?;
    Ok(facts)
}

/// One assessed access, with its explanations and flags in sentences.
#[derive(Debug, Clone)]
pub(crate) struct Assessed {
    pub fact: Fact,
    pub assessment: Assessment,
    pub explanations: Vec<Said>,
    pub flags: Vec<Said>,
}

/// Colleagues' explained accesses, by client: (time, index into `names`), in time order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Team {
    pub near: ClientMap<Vec<(i64, u32)>>,
    pub names: Vec<String>,
}

/// The units that tie a colleague's access to its client for `team`: the client's unit and
/// those above it when `same_unit` explains it, a care relationship's unit and those above it
/// when one of the colleague's units' relationships does (not one that names the colleague: that
/// is theirs alone). Empty when neither explains it, or a flag points at a person.
pub(crate) fn anchor_units<'o>(
    org: &'o Org,
    f: &Fact,
    a: &Assessment,
    cx: &'o Context,
) -> Vec<&'o str> {
    anchor_roots(f, a, cx)
        .into_iter()
        .flatten()
        .flat_map(|u| org.lineage(u))
        .collect()
}

/// The units whose lines [`anchor_units`] are: the client's unit when `same_unit` explains the
/// access, the unit of a care relationship that names nobody when one does.
pub(crate) fn anchor_roots<'c>(f: &Fact, a: &Assessment, cx: &'c Context) -> [Option<&'c str>; 2] {
    if !a.anchors_team() {
        return [None, None];
    }
    let own = a.same_unit.then(|| cx.strings.name(f.client_unit));
    let tied = a
        .relation
        .and_then(|i| cx.ties.relations.get(&f.client)?.get(i as usize))
        .filter(|t| !t.personal)
        .map(|t| t.unit.as_str());
    [own, tied]
}

/// The units `shifts` are at, each once.
fn distinct_units(shifts: &[WorkShift]) -> Vec<Sym> {
    let mut units: Vec<Sym> = shifts.iter().map(|s| s.unit).collect();
    units.sort_unstable();
    units.dedup();
    units
}

/// Those of `units` that are in `lineage`, in the lineage's order.
fn units_among(lineage: &[impl AsRef<str>], units: &[Sym]) -> Vec<Sym> {
    lineage
        .iter()
        .filter_map(|u| units.iter().find(|s| s.as_str() == u.as_ref()).copied())
        .collect()
}

/// Turns what the store holds into [`Ties`] for `person` (home units `units`).
pub(crate) fn ties_of(
    org: &Org,
    tz: chrono_tz::Tz,
    person: Option<&str>,
    units: &[String],
    raw: RawTies,
    team: Team,
) -> Ties {
    // A person's relationships share a few units and days: each is looked up once.
    let mut starts: HashMap<chrono::NaiveDate, i64> = HashMap::new();
    let mut day_start = |d: chrono::NaiveDate| {
        *starts
            .entry(d)
            .or_insert_with(|| crate::clock::day_start(d, tz).timestamp())
    };
    let mut shifts: Vec<WorkShift> = raw
        .shifts
        .into_iter()
        .map(|s| WorkShift {
            start: s.start,
            end: s.end,
            unit: s.unit,
        })
        .collect();
    shifts.sort_by(|a, b| (a.start, &a.unit).cmp(&(b.start, &b.unit)));
    let shift_units = distinct_units(&shifts);
    let mut of_unit: HashMap<Sym, (bool, Vec<Sym>)> = HashMap::new();
    let mut relations: ClientMap<Vec<Tie>> = ClientMap::default();
    for r in &raw.relations {
        let personal = !r.person.is_empty();
        let named = personal && Some(r.person.as_str()) == person;
        let (mine, on_shift) = if personal {
            (false, Vec::new())
        } else {
            of_unit
                .entry(r.unit)
                .or_insert_with(|| {
                    let lineage = org.lineage(&r.unit);
                    (
                        lineage.iter().any(|u| units.iter().any(|m| m == u)),
                        units_among(&lineage, &shift_units),
                    )
                })
                .clone()
        };
        let to =
            r.to.and_then(|d| d.succ_opt())
                .map_or(i64::MAX, &mut day_start);
        relations.entry(r.client).or_default().push(Tie {
            from: day_start(r.from),
            to,
            from_day: r.from,
            unit: r.unit,
            kind: r.kind,
            shift_units: on_shift,
            named,
            personal,
            mine,
        });
    }
    let Team { near, mut names } = team;
    let mut judged: ClientMap<Vec<(i64, u32)>> = ClientMap::default();
    for j in raw.judged {
        names.push(j.case_id);
        judged
            .entry(j.client)
            .or_default()
            .push((j.closed, (names.len() - 1) as u32));
    }
    for list in judged.values_mut() {
        list.sort_unstable();
    }
    Ties {
        relations,
        shifts,
        team: near,
        judged,
        names,
    }
}

/// Assesses the facts of one person (or one account of nobody) in `[from, to)` and hands each
/// access, in time order, to `each` with the context its sentences need. `team`: colleagues'
/// explained accesses that may explain what nothing else does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assess_person(
    dir: &mut impl People,
    org: &Org,
    rules: &EvidenceRules,
    tz: chrono_tz::Tz,
    person: Option<&str>,
    system: &str,
    facts: &[Fact],
    strings: &Texts,
    from: i64,
    to: i64,
    team: Team,
    mut each: impl FnMut(&Fact, &Assessment, &Context),
) -> Result<()> {
    let subject = dir.subject(person)?;
    let reach = match person {
        // Without a title in the roster, the one the log gives in the period's latest accesses.
        Some(p) => {
            let rows: Vec<i64> = facts
                .iter()
                .rev()
                .filter(|f| from <= f.at && f.at < to)
                .take(20)
                .map(|f| f.row)
                .collect();
            dir.reach(p, system, &rows)?
        }
        None => None,
    };
    let mut within: IdMap<bool> = IdMap::default();
    let units: Vec<String> = match person {
        Some(p) => dir.staff(p)?.map(|s| s.units.clone()).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut mine: IdMap<bool> = IdMap::default();
    let start = facts.partition_point(|f| f.at < from);
    let end = facts.partition_point(|f| f.at < to);
    let mut clients: Vec<u64> = Vec::with_capacity(end.saturating_sub(start));
    for (i, f) in facts.iter().enumerate() {
        if let std::collections::hash_map::Entry::Vacant(e) = mine.entry(f.client_unit) {
            let lineage = dir.lineage(org, f.client_unit, strings.name(f.client_unit));
            e.insert(lineage.iter().any(|u| units.iter().any(|m| m == u)));
        }
        if (start..end).contains(&i) {
            if let Some(reach) = &reach
                && !within.contains_key(&f.client_unit)
            {
                // The client's own unit: a reach holds the units under each unit it names.
                let name = strings.name(f.client_unit);
                within.insert(f.client_unit, reach.iter().any(|u| u == name));
            }
            clients.push(f.client);
        }
    }
    clients.sort_unstable();
    clients.dedup();
    for c in &clients {
        dir.client(*c)?;
    }
    // Continuity looks at earlier accesses to the same clients: their relationships too.
    let mut all_clients: Vec<u64> = facts.iter().map(|f| f.client).collect();
    all_clients.sort_unstable();
    all_clients.dedup();
    let first = facts.first().map_or(from, |f| f.at.min(from));
    let raw = dir.ties(person, system, &all_clients, first, to, rules.judged_days)?;
    let ties = ties_of(org, tz, person, &units, raw, team);
    // The units of the subject's shifts each client unit is, or is under.
    let mut shift_cover: IdMap<Vec<Sym>> = IdMap::default();
    if !ties.shifts.is_empty() {
        let on_shift = distinct_units(&ties.shifts);
        for f in facts {
            if let std::collections::hash_map::Entry::Vacant(e) = shift_cover.entry(f.client_unit) {
                let lineage = dir.lineage(org, f.client_unit, strings.name(f.client_unit));
                e.insert(units_among(lineage, &on_shift));
            }
        }
    }
    let (writes, emergency) = action_codes();
    let cx = Context {
        rules,
        tz,
        subject: &subject,
        strings,
        mine: &mine,
        within_need: reach.as_ref().map(|_| &within),
        clients: dir.clients(),
        writes: &writes,
        emergency,
        shift_cover: &shift_cover,
        ties: &ties,
    };
    let span = team_span(rules);
    for (i, mut a) in assess::assess(facts, from, to, &cx) {
        let f = &facts[i];
        if let Some(near) = ties.team.get(&f.client) {
            a.lean_on_team(f.at, near, span);
        }
        each(f, &a, &cx);
    }
    Ok(())
}

/// Assesses like [`assess_person`], with the sentences.
#[allow(clippy::too_many_arguments)]
fn assess_in_full(
    dir: &mut impl People,
    org: &Org,
    routine: &Routine,
    person: Option<&str>,
    system: &str,
    facts: &[Fact],
    strings: &Texts,
    from: i64,
    to: i64,
    team: Team,
) -> Result<Vec<Assessed>> {
    let unit_name = |u: &str| org.unit_name(u).to_string();
    let mut out = Vec::new();
    assess_person(
        dir,
        org,
        &routine.evidence,
        routine.timezone,
        person,
        system,
        facts,
        strings,
        from,
        to,
        team,
        |fact, a, cx| {
            out.push(Assessed {
                fact: *fact,
                assessment: *a,
                explanations: a
                    .explanations(fact, cx)
                    .iter()
                    .map(|e| Said {
                        code: e.code(),
                        text: e.text(&unit_name),
                    })
                    .collect(),
                flags: a
                    .flags(fact, cx)
                    .iter()
                    .map(|f| Said {
                        code: f.code(),
                        text: f.text(&unit_name),
                    })
                    .collect(),
            });
        },
    )?;
    Ok(out)
}

/// Gathers and assesses the accesses of `accounts` (`person`'s, or of nobody) in `period`, with
/// the sentences; what nothing else explains is then looked up among the colleagues' explained
/// accesses to the same clients (`team`).
#[allow(clippy::too_many_arguments)]
fn assess_explained(
    conn: &Db,
    dir: &mut Directory,
    org: &Org,
    routine: &Routine,
    person: Option<&str>,
    system: &str,
    accounts: &[String],
    (from, to): (i64, i64),
    strings: &mut Texts,
) -> Result<Vec<Assessed>> {
    let rules = &routine.evidence;
    let facts = gather(
        conn,
        rules,
        system,
        accounts,
        from,
        to,
        lookback(rules),
        strings,
    )?;
    let first = assess_in_full(
        dir,
        org,
        routine,
        person,
        system,
        &facts,
        strings,
        from,
        to,
        Team::default(),
    )?;
    let mut open: Vec<u64> = first
        .iter()
        .filter(|a| !a.assessment.explained() && !a.assessment.flagged())
        .map(|a| a.fact.client)
        .collect();
    open.sort_unstable();
    open.dedup();
    let Some(person) = person.filter(|_| !open.is_empty()) else {
        return Ok(first);
    };
    let team = team_of(
        conn,
        dir,
        org,
        routine,
        person,
        system,
        &open,
        (from, to),
        strings,
    )?;
    if team.near.is_empty() {
        return Ok(first);
    }
    assess_in_full(
        dir,
        org,
        routine,
        Some(person),
        system,
        &facts,
        strings,
        from,
        to,
        team,
    )
}

/// The explained accesses (by the access itself and its context) of `person`'s colleagues —
/// everyone else with a home unit of theirs — to `clients` in `system`, within the team's span
/// of `period`.
#[allow(clippy::too_many_arguments)]
fn team_of(
    conn: &Db,
    dir: &mut Directory,
    org: &Org,
    routine: &Routine,
    person: &str,
    system: &str,
    clients: &[u64],
    (from, to): (i64, i64),
    strings: &mut Texts,
) -> Result<Team> {
    let rules = &routine.evidence;
    let span = team_span(rules);
    let units = dir
        .staff(person)?
        .map(|s| s.units.clone())
        .unwrap_or_default();
    let mut team = Team::default();
    for colleague in crate::store::relations::colleagues(conn, &units)? {
        if colleague == person {
            continue;
        }
        let Some(staff) = dir.staff(&colleague)? else {
            continue;
        };
        let name = staff.name.clone();
        let theirs = staff.units.clone();
        let accounts: Vec<String> = staff
            .accounts
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, a)| a.clone())
            .collect();
        if accounts.is_empty() {
            continue;
        }
        let facts = gather(
            conn,
            rules,
            system,
            &accounts,
            from - span,
            to + span,
            0,
            strings,
        )?;
        if !facts
            .iter()
            .any(|f| clients.binary_search(&f.client).is_ok())
        {
            continue;
        }
        let mut found: Vec<(u64, i64)> = Vec::new();
        assess_person(
            dir,
            org,
            rules,
            routine.timezone,
            Some(&colleague),
            system,
            &facts,
            strings,
            from - span,
            to + span,
            Team::default(),
            |f, a, cx| {
                // Tied to the client through a unit the two share.
                if clients.binary_search(&f.client).is_ok()
                    && anchor_units(org, f, a, cx).iter().any(|u| {
                        theirs.iter().take(8).any(|t| t == u) && units.iter().any(|m| m == u)
                    })
                {
                    found.push((f.client, f.at));
                }
            },
        )?;
        if found.is_empty() {
            continue;
        }
        team.names.push(name);
        let who = (team.names.len() - 1) as u32;
        for (client, at) in found {
            team.near.entry(client).or_default().push((at, who));
        }
    }
    for list in team.near.values_mut() {
        list.sort_unstable();
    }
    Ok(team)
}

/// The period of a case, Unix seconds.
fn period(case: &CaseRow) -> Result<Option<(i64, i64)>> {
    match (&case.window_start, &case.window_end) {
        (Some(a), Some(b)) => Ok(Some((parse_ts(a)?.timestamp(), parse_ts(b)?.timestamp()))),
        _ => Ok(None),
    }
}

/// The evidence of `case`, with the rules of `routine` (its version) and the roster of `org`,
/// the watch list as it stands on the day of `now`.
pub fn evidence_of(
    conn: &Db,
    org: &Org,
    routine: &Routine,
    case: &CaseRow,
    now: DateTime<Utc>,
) -> Result<Evidence> {
    let mut ev = Evidence {
        case: case.id.clone(),
        systems: case.systems.clone(),
        from: case.window_start.clone(),
        to: case.window_end.clone(),
        log: LogStatus::Missing,
        accesses: Vec::new(),
        counts: Counts::default(),
    };
    let Some((from, to)) = period(case)? else {
        return Ok(ev);
    };
    let mut status: Option<LogStatus> = None;
    for system in &case.systems {
        let s = coverage::of_window(conn, system, from, to)?;
        status = Some(status.map_or(s, |t| t.combine(s)));
    }
    ev.log = status.unwrap_or(LogStatus::Missing);
    let day = crate::clock::local_date(now, routine.timezone);
    let mut dir = Directory::new(conn, day)?;
    let mut strings = Texts::default();
    let of = CaseScope {
        conn,
        org,
        routine,
        case,
        period: (from, to),
    };
    // (row, assessment) of every access of the evidence.
    let mut found: Vec<(i64, Assessed)> = Vec::new();
    if let Some(person) = &case.subject_person_id {
        person_accesses(&of, &mut dir, &mut strings, person, &mut found)?;
    } else if let Some(client) = &case.client_ref {
        client_accesses(&of, &mut dir, &mut strings, client, &mut found)?;
    }
    push_accesses(conn, &case.id, found, &mut ev.accesses)?;
    ev.accesses
        .sort_by(|a, b| (a.at_unix, &a.system, &a.log_id).cmp(&(b.at_unix, &b.system, &b.log_id)));
    // The same access in two overlapping exports, even at another time: shown once.
    let mut seen = std::collections::HashSet::new();
    ev.accesses
        .retain(|a| seen.insert((a.system.clone(), a.log_id.clone())));
    ev.counts = counts_of(&ev.accesses);
    Ok(ev)
}

/// The case whose evidence is gathered, and what it is read with.
struct CaseScope<'a> {
    conn: &'a Db,
    org: &'a Org,
    routine: &'a Routine,
    case: &'a CaseRow,
    /// The case's period, Unix seconds.
    period: (i64, i64),
}

/// Pushes (row, assessment) of every access in the period by any account of `person` (and the
/// case's own account) to `found`.
fn person_accesses(
    of: &CaseScope,
    dir: &mut Directory,
    strings: &mut Texts,
    person: &str,
    found: &mut Vec<(i64, Assessed)>,
) -> Result<()> {
    let case = of.case;
    let staff_accounts: Vec<(String, String)> = dir
        .staff(person)?
        .map(|s| s.accounts.clone())
        .unwrap_or_default();
    for system in &case.systems {
        let mut accounts: BTreeSet<String> = staff_accounts
            .iter()
            .filter(|(s, _)| s == system)
            .map(|(_, a)| a.clone())
            .collect();
        if *system == case.system
            && let Some(a) = &case.subject_account
        {
            accounts.insert(a.clone());
        }
        let accounts: Vec<String> = accounts.into_iter().collect();
        for a in assess_explained(
            of.conn,
            dir,
            of.org,
            of.routine,
            Some(person),
            system,
            &accounts,
            of.period,
            strings,
        )? {
            found.push((a.fact.row, a));
        }
    }
    Ok(())
}

/// Pushes (row, assessment) of every access in the period to the record of `client` to
/// `found`, each assessed among the accesses of its account's holder.
fn client_accesses(
    of: &CaseScope,
    dir: &mut Directory,
    strings: &mut Texts,
    client: &str,
    found: &mut Vec<(i64, Assessed)>,
) -> Result<()> {
    let (conn, case, (from, to)) = (of.conn, of.case, of.period);
    let digits = crate::personnummer::digits(client)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .map_err(|m| crate::Error::runtime(format!("case {}: client {m}", case.id)))?;
    for system in &case.systems {
        let rows = rdb::accesses(conn, system, &digits, from, to)?;
        let mut by_account: HashMap<String, Vec<(i64, u32, i64)>> = HashMap::new();
        for r in &rows {
            by_account.entry(r.user_id.clone()).or_default().push((
                r.at,
                logindex::log_key(&r.log_id),
                r.id,
            ));
        }
        for (account, wanted) in by_account {
            let owner = dir.owner(system, &account)?;
            let mut accounts: BTreeSet<String> = match &owner {
                Some(p) => dir
                    .staff(p)?
                    .map(|s| {
                        s.accounts
                            .iter()
                            .filter(|(s, _)| s == system)
                            .map(|(_, a)| a.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                None => BTreeSet::new(),
            };
            accounts.insert(account.clone());
            let accounts: Vec<String> = accounts.into_iter().collect();
            let assessed = assess_explained(
                conn,
                dir,
                of.org,
                of.routine,
                owner.as_deref(),
                system,
                &accounts,
                (from, to),
                strings,
            )?;
            let mut by_key: HashMap<(i64, u32), Assessed> = assessed
                .into_iter()
                .map(|a| ((a.fact.at, a.fact.log_key), a))
                .collect();
            for (at, key, row) in wanted {
                if let Some(a) = by_key.remove(&(at, key)) {
                    found.push((row, a));
                }
            }
        }
    }
    Ok(())
}

/// Pushes each access of `found` (row, assessment) to `accesses` as the evidence shows it, with
/// its row of the log and its judgement in case `case_id`.
fn push_accesses(
    conn: &Db,
    case_id: &str,
    found: Vec<(i64, Assessed)>,
    accesses: &mut Vec<Access>,
) -> Result<()> {
    let judgements: HashMap<(String, String), Judgement> = db::judgements(conn, case_id)?
        .into_iter()
        .map(|j| ((j.system.clone(), j.log_id.clone()), j))
        .collect();
    let ids: Vec<i64> = found.iter().map(|(row, _)| *row).collect();
    let rows: HashMap<i64, LogRow> = db::rows_by_id(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for (row, a) in found {
        let Some(r) = rows.get(&row) else {
            continue;
        };
        let judgement = judgements
            .get(&(r.system.clone(), r.log_id.clone()))
            .map(|j| JudgementView {
                verdict: j.verdict.clone(),
                by: j.by.clone(),
                at: j.at.clone(),
                comment: j.comment.clone(),
            });
        accesses.push(Access {
            row,
            log_id: r.log_id.clone(),
            at: crate::store::unix_ts(r.at),
            at_unix: r.at,
            system: r.system.clone(),
            account: r.user_id.clone(),
            client: r.subject_id.clone(),
            client_name: (!r.subject_name.is_empty()).then(|| r.subject_name.clone()),
            access_unit: r.access_unit.clone(),
            client_unit: r.subject_unit.clone(),
            action: r.action.clone(),
            resource_type: r.resource_type.clone(),
            purpose: r.purpose.clone(),
            explanations: a.explanations,
            flags: a.flags,
            judgement,
        });
    }
    Ok(())
}

/// How many of `accesses` there are, of how many clients, flagged, unexplained and judged.
fn counts_of(accesses: &[Access]) -> Counts {
    let clients: BTreeSet<&str> = accesses.iter().map(|a| a.client.as_str()).collect();
    Counts {
        accesses: accesses.len(),
        clients: clients.len(),
        flagged: accesses.iter().filter(|a| a.flagged()).count(),
        unexplained: accesses.iter().filter(|a| !a.explained()).count(),
        judged: accesses.iter().filter(|a| a.judgement.is_some()).count(),
    }
}

/// The protocol's account of evidence `ev`: counts, and each flagged or judged access with its
/// flags, explanations, verdict and comment, times local to `tz`, reviewers named by `name_of`.
/// A watch-list reason is not repeated: it goes when the entry ends, and the protocol is kept
/// longer. Kept with the case when a review closes (`engine::cases`), and in its protocol.
pub(crate) fn protocol_summary(
    ev: &Evidence,
    tz: chrono_tz::Tz,
    name_of: impl Fn(&str) -> String,
) -> serde_json::Value {
    use serde_json::json;
    let local = |stored: &str| {
        crate::store::parse_ts(stored)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let listed: Vec<serde_json::Value> = ev
        .accesses
        .iter()
        .filter(|a| a.flagged() || a.judgement.is_some())
        .map(|a| {
            let judgement = a.judgement.as_ref();
            let flags: Vec<String> = a
                .flags
                .iter()
                .map(|f| {
                    if f.code == "watch_list" {
                        "Kunden stod på bevakningslistan.".to_string()
                    } else {
                        f.text.clone()
                    }
                })
                .collect();
            json!({
                "log_id": a.log_id,
                "at": local(&a.at),
                "system": crate::routine::explain::system_title(&a.system),
                "account": a.account,
                "client": crate::personnummer::written(&a.client),
                "client_name": a.client_name.clone().unwrap_or_default(),
                "action": a.action,
                "flags": flags,
                "explanations": a.explanations.iter().map(|e| e.text.clone()).collect::<Vec<_>>(),
                "verdict": judgement
                    .and_then(|j| super::Verdict::parse(&j.verdict))
                    .map(|v| v.title_sv())
                    .unwrap_or("Ej bedömd"),
                "by": judgement.map(|j| name_of(&j.by)).unwrap_or_default(),
                "judged_at": judgement.map(|j| local(&j.at)).unwrap_or_default(),
                "comment": judgement.and_then(|j| j.comment.clone()).unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "log": ev.log.as_str(),
        "summary": ev.summary_sv(),
        "accesses": ev.counts.accesses,
        "clients": ev.counts.clients,
        "flagged": ev.counts.flagged,
        "unexplained": ev.counts.unexplained,
        "judged": ev.counts.judged,
        "listed": listed,
    })
}
