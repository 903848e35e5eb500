//! Whom an access concerns: the user behind an account (also someone who has left the roster),
//! the people of the roster whose personnummer is the client's — matched only as keyed hashes,
//! the numbers are never kept in clear — and whether the client is on the watch list.
//!
//! Two sources answer the same questions ([`People`]): a [`Directory`] asks the store as it goes
//! (one case's evidence: a few people and clients), a [`Snapshot`] holds the roster and the watch
//! list in memory, read once and shared by the radar's threads, each asking through its own
//! [`SnapshotView`]. Answers are cached for the length of one evidence or radar.

use super::assess::{ClientInfo, ClientMap, IdMap, Subject};
use super::needs::Analysis;
use crate::Result;
use crate::personnummer::KeyedHash;
use crate::roster::org::Org;
use crate::store::Db;
use crate::store::evidence::{self as db, Staff};
use crate::store::logindex;
use crate::store::relations::{self as rel, Justified, RelationRow, ShiftRow};
use crate::sym::Sym;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// What the rules ask about people and clients.
pub(crate) trait People {
    /// What the rules know of `client` (its 12 digits as a number).
    fn client(&mut self, client: u64) -> Result<&ClientInfo>;

    /// The client infos asked for so far.
    fn clients(&self) -> &ClientMap<ClientInfo>;

    /// Person `id`, current or as last recorded before they left.
    fn staff(&mut self, id: &str) -> Result<Option<&Staff>>;

    /// Unit `name` (id `id` in the log's strings) and the units above it; empty for none.
    fn lineage(&mut self, org: &Org, id: u32, name: &str) -> &[String];

    /// The units whose clients person `id` may reach in `system` by the needs-and-risk
    /// analysis (`Analysis::reach_of` for the person's units and their title in the roster, or
    /// else the first the log gives at `rows`, newest first); `None`: no bound.
    fn reach(&mut self, id: &str, system: &str, rows: &[i64]) -> Result<Option<Vec<String>>>;

    /// What explains `person`'s accesses in `system` from `from` to `to` besides the log: the
    /// care relationships of `clients` (sorted), `person`'s shifts, and their accesses judged
    /// justified in cases closed within `judged_days` before.
    fn ties(
        &mut self,
        person: Option<&str>,
        system: &str,
        clients: &[u64],
        from: i64,
        to: i64,
        judged_days: u32,
    ) -> Result<RawTies>;

    /// The subject of the rules for person `id` (`None`: an account of nobody).
    fn subject(&mut self, id: Option<&str>) -> Result<Subject> {
        let Some(id) = id else {
            return Ok(Subject::default());
        };
        let Some(staff) = self.staff(id)? else {
            return Ok(Subject::default());
        };
        // Left the roster without a last day: the day before the import that left them out.
        let ended = staff
            .active_to
            .or_else(|| staff.removed_on.and_then(|d| d.pred_opt()));
        let surnames = crate::names::surnames(&staff.name);
        Ok(Subject {
            person_id: Some(id.to_string()),
            surname_keys: surnames
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(crate::names::key)
                .collect(),
            surnames,
            ended,
            personnummer_hash: staff.personnummer_hash.as_deref().and_then(digest_of_hex),
        })
    }
}

/// What the store holds that explains a person's accesses besides the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawTies {
    pub relations: Vec<RelationRow>,
    pub shifts: Vec<ShiftRow>,
    pub judged: Vec<Justified>,
}

/// The instant of Unix seconds `t`, clamped to what a time can be.
fn instant(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or(if t < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A hash as the store keeps it (hex) as bytes.
fn digest_of_hex(hex_text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(hex_text).ok()?;
    bytes.try_into().ok()
}

fn lineage_of(org: &Org, name: &str) -> Vec<String> {
    if name.is_empty() {
        Vec::new()
    } else {
        org.lineage(name).into_iter().map(str::to_string).collect()
    }
}

fn watch_list(conn: &Db, day: NaiveDate) -> Result<ClientMap<String>> {
    Ok(db::watched(conn, day)?
        .into_iter()
        .map(|(client, reason)| (logindex::client_number(&client), reason))
        .collect())
}

/// The store's answers, as they are needed.
pub(crate) struct Directory<'c> {
    conn: &'c Db,
    hasher: KeyedHash,
    /// Whether anyone in the roster has a personnummer given (else no client can match).
    any_personnummer: bool,
    watch: ClientMap<String>,
    clients: ClientMap<ClientInfo>,
    staff: HashMap<String, Option<Staff>>,
    lineages: IdMap<Vec<String>>,
    /// The needs-and-risk analysis, read when first asked.
    analysis: Option<Analysis>,
    /// Whether any care relationship, any shift, is stored (else none is asked for).
    any_ties: Option<(bool, bool)>,
}

impl<'c> Directory<'c> {
    /// A directory on `conn`, with the watch list as it stands on `day`.
    pub(crate) fn new(conn: &'c Db, day: NaiveDate) -> Result<Directory<'c>> {
        let key = db::person_key(conn)?;
        Ok(Directory {
            conn,
            hasher: KeyedHash::new(key.as_bytes()),
            any_personnummer: db::any_personnummer(conn)?,
            watch: watch_list(conn, day)?,
            clients: ClientMap::default(),
            staff: HashMap::new(),
            lineages: IdMap::default(),
            analysis: None,
            any_ties: None,
        })
    }

    /// Who holds account `account` of `system` now.
    pub(crate) fn owner(&mut self, system: &str, account: &str) -> Result<Option<String>> {
        db::account_owner(self.conn, system, account)
    }
}

impl People for Directory<'_> {
    fn client(&mut self, client: u64) -> Result<&ClientInfo> {
        if !self.clients.contains_key(&client) {
            let (hash, people) = if self.any_personnummer {
                let hash = logindex::with_client_digits(client, |d| self.hasher.digest(d));
                (
                    Some(hash),
                    db::people_by_personnummer(self.conn, &hex::encode(hash))?,
                )
            } else {
                (None, Vec::new())
            };
            let info = ClientInfo {
                hash,
                people,
                watched: self.watch.get(&client).cloned(),
            };
            self.clients.insert(client, info);
        }
        Ok(&self.clients[&client])
    }

    fn clients(&self) -> &ClientMap<ClientInfo> {
        &self.clients
    }

    fn staff(&mut self, id: &str) -> Result<Option<&Staff>> {
        if !self.staff.contains_key(id) {
            let s = db::staff(self.conn, id)?;
            self.staff.insert(id.to_string(), s);
        }
        Ok(self.staff.get(id).and_then(Option::as_ref))
    }

    fn lineage(&mut self, org: &Org, id: u32, name: &str) -> &[String] {
        self.lineages
            .entry(id)
            .or_insert_with(|| lineage_of(org, name))
    }

    fn ties(
        &mut self,
        person: Option<&str>,
        system: &str,
        clients: &[u64],
        from: i64,
        to: i64,
        judged_days: u32,
    ) -> Result<RawTies> {
        let (relations, shifts) = match self.any_ties {
            Some(any) => any,
            None => *self.any_ties.insert(rel::any_stored(self.conn)?),
        };
        let mut raw = RawTies::default();
        if relations {
            raw.relations = rel::relations_of(self.conn, system, clients)?;
        }
        if let Some(p) = person {
            if shifts {
                raw.shifts = rel::shifts_of(self.conn, p, from, to)?;
            }
            raw.judged = rel::justified(
                self.conn,
                Some(p),
                instant(from - i64::from(judged_days) * 86_400),
                instant(to),
            )?
            .into_iter()
            .filter(|j| j.system == system && clients.binary_search(&j.client).is_ok())
            .collect();
        }
        Ok(raw)
    }

    fn reach(&mut self, id: &str, system: &str, rows: &[i64]) -> Result<Option<Vec<String>>> {
        if self.analysis.is_none() {
            // The latest: the evidence is read as things stand.
            self.analysis = Some(Analysis::for_lookups(self.conn)?);
        }
        if !self.analysis.as_ref().is_some_and(Analysis::exists) {
            return Ok(None);
        }
        // Read into the cache, then borrowed beside the analysis.
        self.staff(id)?;
        let staff = self.staff.get(id).and_then(Option::as_ref);
        let Some(staff) = staff else {
            return Ok(None);
        };
        let mut title = staff.title.clone();
        for row in rows {
            if title.is_some() {
                break;
            }
            title = crate::store::access::log_title(self.conn, *row)?.filter(|t| !t.is_empty());
        }
        Ok(match (&self.analysis, title) {
            (Some(a), Some(t)) => a.reach_of(&staff.units, &t, system),
            _ => None,
        })
    }
}

/// What `analysis` lets `staff` reach in `system` (by the roster's title: without one, no bound;
/// the radar reads no log titles).
fn reach_of(analysis: &Analysis, staff: &Staff, system: &str) -> Option<Vec<String>> {
    analysis.reach_of(&staff.units, staff.title.as_deref()?, system)
}

/// The roster's people, accounts and personnummer hashes and the watch list, read once.
pub(crate) struct Snapshot {
    hasher: KeyedHash,
    by_hash: HashMap<[u8; 32], Vec<(String, String)>>,
    watch: ClientMap<String>,
    staff: HashMap<String, Staff>,
    owners: HashMap<(String, String), String>,
    analysis: Analysis,
    /// Of the system being looked at ([`Snapshot::load_ties`]): relationships by client,
    /// shifts and judgements by person.
    relations: ClientMap<Vec<RelationRow>>,
    shifts: HashMap<Sym, Vec<ShiftRow>>,
    judged: HashMap<String, Vec<Justified>>,
    /// The justified judgements of cases closed in `[since, until)`, every system's: a sweep
    /// slice by slice asks for overlapping years of them, read once.
    justified: Option<(i64, i64, Vec<Justified>)>,
}

impl Snapshot {
    /// Reads the relationships, shifts and judgements that bear on `system`'s accesses in
    /// `[from, to)`, in place of those of another system.
    pub(crate) fn load_ties(
        &mut self,
        conn: &Db,
        system: &str,
        tz: chrono_tz::Tz,
        from: i64,
        to: i64,
        judged_days: u32,
    ) -> Result<()> {
        let day = |t: i64| instant(t).with_timezone(&tz).date_naive();
        self.relations.clear();
        for r in rel::relations_between(conn, system, day(from), day(to))? {
            self.relations.entry(r.client).or_default().push(r);
        }
        // In the order a case's evidence reads them (`relations_of`, `shifts_of`).
        for list in self.relations.values_mut() {
            list.sort_unstable_by_key(|r| (r.from, r.unit, r.person, r.kind, r.system));
        }
        self.shifts.clear();
        for s in rel::shifts_between(conn, from, to)? {
            self.shifts.entry(s.person).or_default().push(s);
        }
        for list in self.shifts.values_mut() {
            list.sort_unstable_by_key(|a| (a.start, a.unit));
        }
        self.judged.clear();
        let since = from - i64::from(judged_days) * 86_400;
        let cached = self
            .justified
            .as_ref()
            .is_some_and(|(a, b, _)| *a <= since && to <= *b);
        if !cached {
            // The year around the asked span too, for the slices after this one.
            let (a, b) = (since - 366 * 86_400, to + 366 * 86_400);
            let all = rel::justified(conn, None, instant(a), instant(b))?;
            self.justified = Some((a, b, all));
        }
        if let Some((_, _, all)) = &self.justified {
            for j in all {
                if j.system == system && since <= j.closed && j.closed < to {
                    self.judged
                        .entry(j.person.clone())
                        .or_default()
                        .push(j.clone());
                }
            }
        }
        Ok(())
    }

    /// The home units of `person` (as last recorded, when they have left).
    pub(crate) fn units_of(&self, person: &str) -> &[String] {
        self.staff.get(person).map_or(&[], |s| s.units.as_slice())
    }

    /// The home units of `person` while in the roster; none once they have left (a colleague's
    /// access `team` leans on is a current colleague's, as `store::relations::colleagues`).
    pub(crate) fn current_units_of(&self, person: &str) -> &[String] {
        self.staff
            .get(person)
            .filter(|s| s.removed_on.is_none())
            .map_or(&[], |s| s.units.as_slice())
    }
    /// Reads everything, with the watch list as it stands on `day`.
    pub(crate) fn load(conn: &Db, day: NaiveDate) -> Result<Snapshot> {
        let key = db::person_key(conn)?;
        let mut by_hash: HashMap<[u8; 32], Vec<(String, String)>> = HashMap::new();
        for (hash, id, name) in db::personnummer_hashes(conn)? {
            if let Some(hash) = digest_of_hex(&hash) {
                by_hash.entry(hash).or_default().push((id, name));
            }
        }
        let mut staff: HashMap<String, Staff> = db::all_staff(conn)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let owners: HashMap<(String, String), String> = db::account_owners(conn)?
            .into_iter()
            .map(|(s, a, p)| ((s, a), p))
            .collect();
        // People who held an account and have left: as last recorded.
        for person in owners.values() {
            if !staff.contains_key(person)
                && let Some(s) = db::staff(conn, person)?
            {
                staff.insert(person.clone(), s);
            }
        }
        Ok(Snapshot {
            hasher: KeyedHash::new(key.as_bytes()),
            by_hash,
            watch: watch_list(conn, day)?,
            staff,
            owners,
            analysis: Analysis::for_lookups(conn)?,
            relations: ClientMap::default(),
            shifts: HashMap::new(),
            judged: HashMap::new(),
            justified: None,
        })
    }

    /// Who holds account `account` of `system` now.
    pub(crate) fn owner(&self, system: &str, account: &str) -> Option<&str> {
        self.owners
            .get(&(system.to_string(), account.to_string()))
            .map(String::as_str)
    }

    /// A view with caches of its own (one per thread).
    pub(crate) fn view(&self) -> SnapshotView<'_> {
        SnapshotView {
            snapshot: self,
            clients: ClientMap::default(),
            lineages: IdMap::default(),
        }
    }
}

/// A [`Snapshot`] asked by one thread.
pub(crate) struct SnapshotView<'s> {
    snapshot: &'s Snapshot,
    clients: ClientMap<ClientInfo>,
    lineages: IdMap<Vec<String>>,
}

impl People for SnapshotView<'_> {
    fn client(&mut self, client: u64) -> Result<&ClientInfo> {
        let snapshot = self.snapshot;
        Ok(self.clients.entry(client).or_insert_with(|| {
            // Nobody in the roster has a personnummer given: nobody can match, no hash needed.
            let hash = (!snapshot.by_hash.is_empty())
                .then(|| logindex::with_client_digits(client, |d| snapshot.hasher.digest(d)));
            ClientInfo {
                people: hash
                    .and_then(|h| snapshot.by_hash.get(&h).cloned())
                    .unwrap_or_default(),
                hash,
                watched: snapshot.watch.get(&client).cloned(),
            }
        }))
    }

    fn clients(&self) -> &ClientMap<ClientInfo> {
        &self.clients
    }

    fn staff(&mut self, id: &str) -> Result<Option<&Staff>> {
        Ok(self.snapshot.staff.get(id))
    }

    fn ties(
        &mut self,
        person: Option<&str>,
        _system: &str,
        clients: &[u64],
        from: i64,
        to: i64,
        _judged_days: u32,
    ) -> Result<RawTies> {
        let s = self.snapshot;
        let mut raw = RawTies::default();
        for c in clients {
            if let Some(list) = s.relations.get(c) {
                raw.relations.extend(list.iter().cloned());
            }
        }
        if let Some(p) = person {
            raw.shifts = s
                .shifts
                .get(p)
                .map(|list| {
                    list.iter()
                        .filter(|x| x.start < to && x.end > from)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            raw.judged = s
                .judged
                .get(p)
                .map(|list| {
                    list.iter()
                        .filter(|j| clients.binary_search(&j.client).is_ok())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
        }
        Ok(raw)
    }

    fn reach(&mut self, id: &str, system: &str, _rows: &[i64]) -> Result<Option<Vec<String>>> {
        Ok(self
            .snapshot
            .staff
            .get(id)
            .and_then(|s| reach_of(&self.snapshot.analysis, s, system)))
    }

    fn lineage(&mut self, org: &Org, id: u32, name: &str) -> &[String] {
        self.lineages
            .entry(id)
            .or_insert_with(|| lineage_of(org, name))
    }
}
