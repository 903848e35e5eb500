//! The radar (risköversikt): users ranked by what their accesses in a period show — flagged and
//! unexplained accesses, weighted by how much each flag says — for the verksamhetschef to decide
//! on targeted reviews. It decodes the digests of the log's index for the period (and the margin
//! the rules look at), groups accounts by the person who holds them, and runs the same rules as a
//! case's evidence, the people shared out over the machine's cores. Nothing opens by itself: the
//! decision to start a targeted review is always the verksamhetschef's.

use super::assess::{Code, FLAG_CODES, Fact, Texts};
use super::case::{
    Team, action_codes, anchor_roots, assess_person, fact, lookback, margin, team_span, wanted,
};
use super::people::{People, Snapshot};
use crate::Result;
use crate::roster::org::Org;
use crate::routine::Routine;
use crate::routine::model::{CaseKind, EvidenceRules};
use crate::store::Db;
use crate::store::logindex;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
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
pub(crate) type RowKey = (Option<String>, String);

/// What one person's accesses of one system add to their row.
#[derive(Debug, Default)]
struct Tally {
    accesses: usize,
    clients: Vec<u64>,
    flagged: usize,
    unexplained: usize,
    counts: [usize; FLAG_CODES.len()],
    /// The score of the accesses tallied so far (each kind of flag once per client, by its
    /// weight, twice when an access of that client and kind is unexplained).
    score: u32,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.accesses += other.accesses;
        self.clients.extend(other.clients);
        self.flagged += other.flagged;
        self.unexplained += other.unexplained;
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        // A person's systems are tallied apart: their clients are told apart by system too.
        self.score += other.score;
    }
}

/// The score of flagged accesses (client, flag bits, unexplained): each kind of flag once per
/// client, by its weight, twice when an access of that client and kind is unexplained.
fn score(mut flagged: Vec<(u64, u16, bool)>) -> u32 {
    flagged.sort_unstable_by_key(|(client, ..)| *client);
    let mut score = 0;
    for same in flagged.chunk_by(|a, b| a.0 == b.0) {
        let (mut any, mut unexplained) = (0u16, 0u16);
        for (_, bits, u) in same {
            any |= bits;
            if *u {
                unexplained |= bits;
            }
        }
        for code in Code::ALL {
            let bit = 1u16 << (code as u16);
            if any & bit != 0 {
                score += code.weight() * if unexplained & bit != 0 { 2 } else { 1 };
            }
        }
    }
    score
}

/// The rules and zone the radar uses for `system`: those of its sampling routine, else of the
/// first routine that covers it, else the defaults.
pub(crate) fn rules_for(routines: &[&Routine], system: &str, tz: Tz) -> (EvidenceRules, Tz) {
    routines
        .iter()
        .filter(|r| r.systems.iter().any(|s| s == system))
        .min_by_key(|r| (r.kind != CaseKind::Sampling, r.id.clone()))
        .map(|r| (r.evidence, r.timezone))
        .unwrap_or((EvidenceRules::default(), tz))
}

/// The systems with imported log in `[from, to)`.
fn systems_in(conn: &Db, from: i64, to: i64) -> Result<BTreeSet<String>> {
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

/// One person (or one account of nobody) of one system: the digests of their accounts, then
/// their facts.
struct Group {
    key: RowKey,
    person: Option<String>,
    accounts: Vec<String>,
    /// (chunk, start, end in the arena of digests) of each of their accounts' digests.
    digests: Vec<(i64, usize, usize)>,
    /// How many entries their digests hold.
    entries: usize,
    facts: Vec<Fact>,
}

/// Runs `work` on every group, the groups shared out over the machine's cores (each thread's
/// share in turn, one by one, with state of its own from `init`), and returns the results in
/// the groups' order.
fn on_cores<G: Send, S, T: Send>(
    groups: &mut [G],
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &mut G) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    on_cores_beside(groups, init, work, || ()).0
}

/// [`on_cores`], with `beside` run on this thread meanwhile: work the threads cannot share,
/// such as reading the database.
fn on_cores_beside<G: Send, S, T: Send, R>(
    groups: &mut [G],
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &mut G) -> Result<T> + Sync,
    beside: impl FnOnce() -> R,
) -> (Result<Vec<T>>, R) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(groups.len().max(1));
    let size = groups.len().div_ceil(threads).max(1);
    let (init, work) = (&init, &work);
    let (parts, besides): (Vec<Result<Vec<T>>>, R) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .chunks_mut(size)
            .map(|part| {
                scope.spawn(move || {
                    let mut state = init();
                    part.iter_mut()
                        .map(|g| work(&mut state, g))
                        .collect::<Result<Vec<T>>>()
                })
            })
            .collect();
        let besides = beside();
        let parts = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(crate::Error::runtime("a radar thread failed")))
            })
            .collect();
        (parts, besides)
    });
    let mut out = Vec::with_capacity(groups.len());
    for part in parts {
        match part {
            Ok(part) => out.extend(part),
            Err(err) => return (Err(err), besides),
        }
    }
    (Ok(out), besides)
}

/// One access of a period as a [`sweep`] leaves it: its flags and the kinds of explanation
/// that count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub client: u64,
    /// Unix seconds.
    pub at: i64,
    /// Bits of [`Code`].
    pub flags: u16,
    /// Bits of `assess::kind` (none when a flag points at a person).
    pub kinds: u8,
}

impl Seen {
    pub fn flagged(&self) -> bool {
        self.flags != 0
    }

    pub fn explained(&self) -> bool {
        self.kinds != 0
    }

    /// Flagged or unexplained: a reviewer marks it.
    pub fn needs_judgement(&self) -> bool {
        self.flagged() || !self.explained()
    }
}

/// One person (or account of nobody) of one system, swept.
#[derive(Debug, Clone)]
pub struct Swept<'a> {
    pub key: &'a RowKey,
    pub person: Option<&'a str>,
    pub system: &'a str,
    pub accounts: &'a [String],
    /// Their accesses in the period, in time order.
    pub seen: &'a [Seen],
    pub tz: Tz,
}

/// Runs the review's rules over every access of `[from, to)` (of one system or all), the same
/// rules as a case's evidence, with the watch list as it stands on the day of `now`, and hands
/// each person's accesses of each system to `each`, on the machine's cores; what it returns is
/// handed to `then`, in the people's order. Colleagues' explained accesses (`team`) are found
/// among everyone's: each person's accesses are assessed first, then what nothing explains is
/// looked up among the colleagues' within the team's span.
pub fn sweep<T: Send>(
    conn: &Db,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    now: DateTime<Utc>,
    each: impl Fn(&Swept) -> Result<T> + Sync,
    then: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let mut snapshot = Snapshot::load(conn, crate::clock::local_date(now, scope.tz))?;
    sweep_in(conn, &mut snapshot, org, routines, scope, each, then)
}

/// [`sweep`] with the roster and watch list already read.
pub(crate) fn sweep_in<T: Send>(
    conn: &Db,
    snapshot: &mut Snapshot,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    each: impl Fn(&Swept) -> Result<T> + Sync,
    mut then: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let (from, to, tz) = (scope.from.timestamp(), scope.to.timestamp(), scope.tz);
    let systems: Vec<String> = match scope.system {
        Some(s) => vec![s.to_string()],
        None => systems_in(conn, from, to)?.into_iter().collect(),
    };
    let (writes, _) = action_codes();
    for system in &systems {
        let (rules, tz) = rules_for(routines, system, tz);
        let m = margin(&rules);
        let span = team_span(&rules);
        let back = lookback(&rules);
        // The period and the team's span around it are assessed; continuity looks back further.
        let (wide_from, wide_to) = (from - span, to + span);
        let keep = wanted(&rules, &writes, wide_from, wide_to, back);
        let (mut groups, arena) =
            group_digests(conn, snapshot, system, wide_from - back - m, wide_to + m)?;
        if groups.is_empty() {
            continue;
        }
        let arena = &arena;
        // Decoded and put in time order, each person on one core; meanwhile this thread reads
        // the relationships, shifts and judgements that explain them.
        let (ids, tied) = on_cores_beside(
            &mut groups,
            || (),
            |(), g| decode_group(g, arena, &keep),
            || {
                snapshot.load_ties(
                    conn,
                    system,
                    tz,
                    wide_from - back,
                    wide_to,
                    rules.judged_days,
                )
            },
        );
        tied?;
        let ids = ids?;
        let mut strings = Texts::default();
        strings.load(conn, ids.into_iter().flatten())?;
        // Assessed, each thread asking the snapshot through a view of its own: the period's
        // accesses, and the explained ones of the wider span for colleagues to lean on.
        let snapshot = &*snapshot;
        let sweep = SystemSweep {
            snapshot,
            org,
            rules: &rules,
            strings: &strings,
            tz,
            system,
            period: (from, to),
            wide: (wide_from, wide_to),
        };
        let assessed: Vec<SeenAndAnchors> = on_cores(
            &mut groups,
            || snapshot.view(),
            |people, g| assess_group(&sweep, people, g),
        )?;
        let anchors = team_anchors(&groups, &assessed);
        // Each person's accesses that nothing else explains, looked up among the colleagues',
        // and handed to `each`, the people shared out over the cores.
        let mut seens: Vec<(usize, Vec<Seen>)> = assessed
            .into_iter()
            .map(|(seen, _)| seen)
            .enumerate()
            .filter(|(_, seen)| !seen.is_empty())
            .collect();
        let (groups, anchors, each) = (&groups, &anchors, &each);
        let results = on_cores(
            &mut seens,
            || (),
            |(), (g, seen)| {
                let g = &groups[*g];
                if let Some(person) = &g.person {
                    by_team(snapshot, groups, anchors, span, person, seen);
                }
                each(&Swept {
                    key: &g.key,
                    person: g.person.as_deref(),
                    system,
                    accounts: &g.accounts,
                    seen,
                    tz,
                })
            },
        )?;
        for r in results {
            then(r)?;
        }
    }
    Ok(())
}

/// The digests of `system` in `[from, to)`, as stored, grouped by the person who holds the
/// account (accounts of nobody are each their own group), and the arena that holds their bytes.
fn group_digests(
    conn: &Db,
    snapshot: &Snapshot,
    system: &str,
    from: i64,
    to: i64,
) -> Result<(Vec<Group>, Vec<u8>)> {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut by_key: HashMap<RowKey, usize> = HashMap::new();
    // Every digest's bytes, one after the other: no allocation per digest.
    let mut arena: Vec<u8> = Vec::new();
    logindex::for_each_digest(conn, Some(system), from, to, |d| {
        let g = match group_of.get(d.account) {
            Some(g) => *g,
            None => {
                let person = snapshot.owner(system, d.account).map(str::to_string);
                let key = match &person {
                    Some(p) => (Some(p.clone()), String::new()),
                    None => (None, format!("{system}:{}", d.account)),
                };
                let g = *by_key.entry(key.clone()).or_insert_with(|| {
                    groups.push(Group {
                        key,
                        person,
                        accounts: Vec::new(),
                        digests: Vec::new(),
                        entries: 0,
                        facts: Vec::new(),
                    });
                    groups.len() - 1
                });
                groups[g].accounts.push(format!("{system}:{}", d.account));
                group_of.insert(d.account.to_string(), g);
                g
            }
        };
        let start = arena.len();
        arena.extend_from_slice(d.bytes);
        groups[g].digests.push((d.chunk, start, arena.len()));
        groups[g].entries += logindex::entry_count(d.bytes);
        Ok(())
    })?;
    Ok((groups, arena))
}

/// Decodes group `g`'s digests (their bytes in `arena`) into its facts, those the rules read
/// (`keep`), in time order: the ids of their clients' units, each once.
fn decode_group(
    g: &mut Group,
    arena: &[u8],
    keep: &impl Fn(&logindex::Entry) -> bool,
) -> Result<Vec<u32>> {
    let mut ids: Vec<u32> = Vec::new();
    g.facts.reserve_exact(g.entries);
    for (chunk, start, end) in std::mem::take(&mut g.digests) {
        let bytes = arena.get(start..end).unwrap_or_default();
        logindex::decode_each(chunk, bytes, |e| {
            if keep(&e) {
                g.facts.push(fact(&e));
            }
        })?;
    }
    super::assess::prepare(&mut g.facts);
    for f in &g.facts {
        ids.push(f.client_unit);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// What the assessment of one system's groups reads, shared by the cores.
struct SystemSweep<'a> {
    snapshot: &'a Snapshot,
    org: &'a Org,
    rules: &'a EvidenceRules,
    strings: &'a Texts,
    tz: Tz,
    system: &'a str,
    /// The period swept, `[from, to)`.
    period: (i64, i64),
    /// The period with the team's span around it, assessed.
    wide: (i64, i64),
}

/// Assesses group `g`'s facts (asking `people`), and frees them: its accesses in the period,
/// and the anchors of the wider span that `team` may lean on.
fn assess_group(
    sweep: &SystemSweep,
    people: &mut impl People,
    g: &mut Group,
) -> Result<SeenAndAnchors> {
    let (snapshot, org, (from, to)) = (sweep.snapshot, sweep.org, sweep.period);
    let mut seen: Vec<Seen> = Vec::new();
    let mut anchors: Vec<(u64, i64, u8)> = Vec::new();
    // The person's own units, for which of them ties an anchor to its client.
    let own: &[String] = g
        .person
        .as_deref()
        .map_or(&[], |p| snapshot.current_units_of(p));
    // Which of them a unit is, or is under: each unit's line looked up once.
    let mut masks: HashMap<String, u8> = HashMap::new();
    let mut mask_of = |unit: &str| -> u8 {
        if let Some(m) = masks.get(unit) {
            return *m;
        }
        let lineage = org.lineage(unit);
        let m = own
            .iter()
            .take(8)
            .enumerate()
            .filter(|(_, u)| lineage.contains(&u.as_str()))
            .fold(0u8, |m, (i, _)| m | (1 << i));
        masks.insert(unit.to_string(), m);
        m
    };
    assess_person(
        people,
        org,
        sweep.rules,
        sweep.tz,
        g.person.as_deref(),
        sweep.system,
        &g.facts,
        sweep.strings,
        sweep.wide.0,
        sweep.wide.1,
        Team::default(),
        |f, a, cx| {
            if !own.is_empty() {
                // Which of the person's units the lines of `anchor_units` hold.
                let mask = anchor_roots(f, a, cx)
                    .into_iter()
                    .flatten()
                    .fold(0u8, |m, u| m | mask_of(u));
                if mask != 0 {
                    anchors.push((f.client, f.at, mask));
                }
            }
            if from <= f.at && f.at < to {
                seen.push(Seen {
                    client: f.client,
                    at: f.at,
                    flags: a.flag_bits(),
                    kinds: a.explained_kinds(),
                });
            }
        },
    )?;
    g.facts = Vec::new();
    Ok((seen, anchors))
}

/// Everyone's explained accesses that `team` may lean on, (client, time, group, units) in
/// order: those of the clients of the accesses that nothing else explains.
fn team_anchors(groups: &[Group], assessed: &[SeenAndAnchors]) -> Vec<(u64, i64, u32, u8)> {
    let mut wanted: Vec<u64> = Vec::new();
    for (g, (seen, _)) in groups.iter().zip(assessed) {
        if g.person.is_some() {
            wanted.extend(
                seen.iter()
                    .filter(|s| s.kinds == 0 && s.flags == 0)
                    .map(|s| s.client),
            );
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut anchors: Vec<(u64, i64, u32, u8)> = Vec::new();
    for (g, (_, list)) in assessed.iter().enumerate() {
        anchors.extend(
            list.iter()
                .filter(|(c, ..)| wanted.binary_search(c).is_ok())
                .map(|(c, t, m)| (*c, *t, g as u32, *m)),
        );
    }
    anchors.sort_unstable();
    anchors
}

/// Marks `team` on `person`'s accesses (`seen`) that nothing else explains when a colleague's
/// access within `span` of one (in `anchors`, of `groups`) is tied to the client through a unit
/// they share.
fn by_team(
    snapshot: &Snapshot,
    groups: &[Group],
    anchors: &[(u64, i64, u32, u8)],
    span: i64,
    person: &str,
    seen: &mut [Seen],
) {
    let units = snapshot.units_of(person);
    for s in seen.iter_mut().filter(|s| s.kinds == 0 && s.flags == 0) {
        let lo = anchors.partition_point(|a| *a < (s.client, s.at - span, 0, 0));
        // A colleague's access tied to the client through a unit they share.
        let colleague = anchors[lo..]
            .iter()
            .take_while(|(c, t, ..)| *c == s.client && *t <= s.at + span)
            .any(|(_, _, other, mask)| {
                groups
                    .get(*other as usize)
                    .and_then(|o| o.person.as_deref())
                    .is_some_and(|o| {
                        o != person
                            && snapshot
                                .current_units_of(o)
                                .iter()
                                .take(8)
                                .enumerate()
                                .any(|(i, u)| mask & (1 << i) != 0 && units.contains(u))
                    })
            });
        if colleague {
            s.kinds |= super::assess::kind::TEAM;
        }
    }
}

/// A group's accesses in the period, and (client, time, which of the person's first 8 units tie
/// it to the client) of its accesses in the wider span that `team` may lean on.
type SeenAndAnchors = (Vec<Seen>, Vec<(u64, i64, u8)>);

/// The radar of `[from, to)`, of one system or all, with the watch list as it stands on the day
/// of `now`.
pub fn radar(
    conn: &Db,
    org: &Org,
    routines: &[&Routine],
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<Row>> {
    let mut tallies: HashMap<RowKey, (Tally, Vec<String>)> = HashMap::new();
    let mut snapshot = Snapshot::load(conn, crate::clock::local_date(now, scope.tz))?;
    sweep_in(
        conn,
        &mut snapshot,
        org,
        routines,
        scope,
        |g| Ok((g.key.clone(), tally(g.seen), g.accounts.to_vec())),
        |(key, t, accounts)| {
            let entry = tallies.entry(key).or_default();
            entry.0.add(t);
            entry.1.extend(accounts);
            Ok(())
        },
    )?;
    let mut people = snapshot.view();
    let mut out: Vec<Row> = Vec::with_capacity(tallies.len());
    for ((person, _), (mut t, mut accounts)) in tallies {
        t.clients.sort_unstable();
        t.clients.dedup();
        accounts.sort();
        accounts.dedup();
        let name = match &person {
            Some(p) => people.staff(p)?.map(|s| s.name.clone()).unwrap_or_default(),
            None => String::new(),
        };
        let mut flags = BTreeMap::new();
        for code in Code::ALL {
            if t.counts[code as usize] > 0 {
                flags.insert(code.as_str().to_string(), t.counts[code as usize]);
            }
        }
        let score = t.score;
        out.push(Row {
            person,
            name,
            accounts,
            accesses: t.accesses,
            clients: t.clients.len(),
            flagged: t.flagged,
            unexplained: t.unexplained,
            flags,
            score,
        });
    }
    out.sort_by(|a, b| {
        (b.score, b.flagged, b.unexplained, b.accesses)
            .cmp(&(a.score, a.flagged, a.unexplained, a.accesses))
            .then_with(|| a.person.cmp(&b.person))
            .then_with(|| a.accounts.cmp(&b.accounts))
    });
    Ok(out)
}

/// The tally of one group's accesses in the period.
fn tally(seen: &[Seen]) -> Tally {
    let mut t = Tally::default();
    t.clients.reserve(seen.len());
    let mut flagged: Vec<(u64, u16, bool)> = Vec::new();
    for s in seen {
        t.accesses += 1;
        t.clients.push(s.client);
        if !s.explained() {
            t.unexplained += 1;
        }
        if s.flagged() {
            t.flagged += 1;
            for code in Code::ALL {
                if s.flags & (1 << (code as u16)) != 0 {
                    t.counts[code as usize] += 1;
                }
            }
            flagged.push((s.client, s.flags, !s.explained()));
        }
    }
    t.score = score(flagged);
    t.clients.sort_unstable();
    t.clients.dedup();
    t.clients.shrink_to_fit();
    t
}

/// The flag codes in the order pages show them, each with its Swedish name.
pub(crate) fn flag_names() -> Vec<(&'static str, &'static str)> {
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
                "beyond_need" => "Utanför behovet",
                "burst" => "Många kunder på kort tid",
                "unit_mismatch" => "Annan enhet",
                "night" => "Natt",
                other => other,
            };
            (*code, name)
        })
        .collect()
}
