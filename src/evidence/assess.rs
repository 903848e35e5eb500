//! The rules of the review, pure: a user's accesses in one system (with some days around the
//! reviewed period, for context) go in, and for each access in the period come out the
//! *explanations* — why it is probably fine — and the *flags* — why it calls for a look. An
//! access without an explanation is *unexplained*. Ordinary work, a daytime access to a client
//! of one of the user's own units, carries no flag.
//!
//! | flag | when |
//! |---|---|
//! | `own_record` | the client's personnummer is the user's (compared as keyed hashes) |
//! | `colleague_record` | the client is another person in the roster |
//! | `same_surname` | the client shares a surname with the user |
//! | `night` | local time in the routine's night (default 22–06) |
//! | `burst` | more than `burst.clients` distinct clients within `burst.within` (20 in an hour) |
//! | `unit_mismatch` | the client's unit is known, and neither it nor a unit above it is one of the user's |
//! | `emergency_access` | the action is Nödöppning |
//! | `watch_list` | the client is on the watch list |
//! | `after_employment` | the account is used after the person's last day, or belongs to nobody |
//! | `beyond_need` | the client's unit lies outside what the needs-and-risk analysis lets the user's job title reach (`evidence::needs`) |
//!
//! | explanation | when |
//! |---|---|
//! | `same_unit` | the client's unit, or a unit above it, is one of the user's |
//! | `documented` | the user wrote or signed in the same client's record within `documented_within` (14 days), or the access is itself such a write |
//! | `care_relationship` | the client has a care relationship (`relations import`) at the time with a unit the user works in (one that names nobody), or one that names the user |
//! | `on_shift` | the user was on a shift (`shifts import`) at the client's unit, or at a unit with a care relationship with the client |
//! | `team` | an access nothing flags: a colleague of the user's home unit accessed the same client within `team_within` (7 days), and that access is itself explained by `same_unit` or `care_relationship` |
//! | `continuity` | the user accessed the client on `continuity.days` (3) separate days in the `continuity.within` (60 days) before, and the first of those accesses is explained |
//! | `judged_before` | an access of the same user to the same client was judged justified in a case closed within `judged_within` (12 months) before |
//!
//! Explanations answer the flags that are about where and when: `night` is not raised inside a
//! shift of the user's, `unit_mismatch` and `beyond_need` not when a shift or a care
//! relationship explains the access. They never answer a flag that points at a person
//! ([`Code::personal`]), and an access with such a flag counts as unexplained: a snoop is never
//! explained away.

use crate::routine::model::EvidenceRules;
use crate::sym::Sym;
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;

/// One access as the rules see it. Units are ids of the log's strings ([`Texts`]; 0: none),
/// surnames the keys of `names::surname_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fact {
    pub row: i64,
    /// Unix seconds.
    pub at: i64,
    pub client: u64,
    pub client_unit: u32,
    pub action: u8,
    /// `names::surname_keys` of the client's name.
    pub surnames: [u32; 2],
    pub log_key: u32,
}

/// The texts of the units the facts name, by their ids in the log's strings
/// (`log_strings`); id 0 is none.
#[derive(Debug, Clone, Default)]
pub(crate) struct Texts {
    names: IdMap<String>,
}

/// A hasher for the ids of the log's strings, which loggkoll assigns itself (in order), so that
/// no file can make them collide: a multiplication.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by ids of the log's strings.
pub(crate) type IdMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<IdHasher>>;

/// The keys of [`ClientHashing`], drawn once per process.
fn client_keys() -> (u64, u64) {
    static KEYS: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *KEYS.get_or_init(|| {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new();
        (seed.hash_one(1u64), seed.hash_one(2u64) | 1)
    })
}

/// Hashing for clients, numbers that the log (a file) chooses: a folded multiply keyed once
/// per process, so that no file can make its clients collide on purpose, at a fraction of
/// SipHash's cost. An access is looked up in five maps of clients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientHashing {
    keys: (u64, u64),
}

impl Default for ClientHashing {
    fn default() -> ClientHashing {
        ClientHashing {
            keys: client_keys(),
        }
    }
}

impl std::hash::BuildHasher for ClientHashing {
    type Hasher = ClientHasher;
    fn build_hasher(&self) -> ClientHasher {
        ClientHasher {
            state: self.keys.0,
            key: self.keys.1,
        }
    }
}

/// The hasher of [`ClientHashing`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientHasher {
    state: u64,
    key: u64,
}

impl std::hash::Hasher for ClientHasher {
    fn finish(&self) -> u64 {
        self.state
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.state ^ n) * u128::from(self.key);
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

/// A map keyed by clients.
pub(crate) type ClientMap<V> = HashMap<u64, V, ClientHashing>;

impl Texts {
    pub(crate) fn insert(&mut self, id: u32, text: &str) {
        if id != 0 {
            self.names.insert(id, text.to_string());
        }
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(&id).map_or("", String::as_str)
    }

    pub(crate) fn contains(&self, id: u32) -> bool {
        id == 0 || self.names.contains_key(&id)
    }

    /// Reads the texts of `ids` not known yet.
    pub(crate) fn load(
        &mut self,
        conn: &crate::store::Db,
        ids: impl IntoIterator<Item = u32>,
    ) -> crate::Result<()> {
        let mut missing: Vec<u32> = ids.into_iter().filter(|id| !self.contains(*id)).collect();
        missing.sort_unstable();
        missing.dedup();
        for (id, text) in crate::store::records::texts(conn, &missing)? {
            self.insert(id, &text);
        }
        Ok(())
    }
}

/// The kinds of flag, in the order pages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    OwnRecord,
    ColleagueRecord,
    SameSurname,
    WatchList,
    EmergencyAccess,
    AfterEmployment,
    BeyondNeed,
    Burst,
    UnitMismatch,
    Night,
}

impl Code {
    pub(crate) const ALL: [Code; 10] = [
        Code::OwnRecord,
        Code::ColleagueRecord,
        Code::SameSurname,
        Code::WatchList,
        Code::EmergencyAccess,
        Code::AfterEmployment,
        Code::BeyondNeed,
        Code::Burst,
        Code::UnitMismatch,
        Code::Night,
    ];

    pub fn as_str(self) -> &'static str {
        FLAG_CODES[self as usize]
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Flags that point at a person (the record's, a relative's, a watched client's, an
    /// account's holder, whoever broke the seal of Nödöppning): no explanation answers them, and
    /// an access with one counts as unexplained.
    pub fn personal(self) -> bool {
        matches!(
            self,
            Code::OwnRecord
                | Code::ColleagueRecord
                | Code::SameSurname
                | Code::WatchList
                | Code::EmergencyAccess
                | Code::AfterEmployment
        )
    }

    /// How much the flag weighs when the radar ranks users.
    pub(crate) fn weight(self) -> u32 {
        match self {
            Code::OwnRecord | Code::ColleagueRecord | Code::WatchList | Code::AfterEmployment => 10,
            Code::SameSurname | Code::EmergencyAccess => 5,
            Code::Burst | Code::BeyondNeed => 3,
            Code::UnitMismatch | Code::Night => 1,
        }
    }
}

/// Why an access calls for a look, with what its sentence says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    OwnRecord,
    ColleagueRecord {
        names: Vec<String>,
    },
    SameSurname {
        surname: String,
    },
    Night {
        local: String,
    },
    Burst {
        clients: usize,
        within: i64,
    },
    UnitMismatch {
        unit: String,
    },
    EmergencyAccess,
    WatchList {
        reason: String,
    },
    /// `ended`: the person's last day; `None`: the account belongs to nobody in the roster.
    AfterEmployment {
        ended: Option<NaiveDate>,
    },
    BeyondNeed {
        unit: String,
    },
}

/// The stable codes of the flags, in the order pages list them.
pub(crate) const FLAG_CODES: [&str; 10] = [
    "own_record",
    "colleague_record",
    "same_surname",
    "watch_list",
    "emergency_access",
    "after_employment",
    "beyond_need",
    "burst",
    "unit_mismatch",
    "night",
];

impl Flag {
    pub fn kind(&self) -> Code {
        match self {
            Flag::OwnRecord => Code::OwnRecord,
            Flag::ColleagueRecord { .. } => Code::ColleagueRecord,
            Flag::SameSurname { .. } => Code::SameSurname,
            Flag::Night { .. } => Code::Night,
            Flag::Burst { .. } => Code::Burst,
            Flag::UnitMismatch { .. } => Code::UnitMismatch,
            Flag::EmergencyAccess => Code::EmergencyAccess,
            Flag::WatchList { .. } => Code::WatchList,
            Flag::AfterEmployment { .. } => Code::AfterEmployment,
            Flag::BeyondNeed { .. } => Code::BeyondNeed,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// A sentence a manager understands; `unit` names a unit id.
    pub fn text(&self, unit: &dyn Fn(&str) -> String) -> String {
        match self {
            Flag::OwnRecord => "Användaren har öppnat sin egen journal.".into(),
            Flag::ColleagueRecord { names } => format!(
                "Kunden finns i personallistan ({}): en kollegas journal.",
                names.join(", ")
            ),
            Flag::SameSurname { surname } => format!(
                "Kunden har samma efternamn som användaren ({surname}): kan vara en släkting."
            ),
            Flag::Night { local } => format!("Åtkomst kl. {local}, utanför dagtid."),
            Flag::Burst { clients, within } => format!(
                "Användaren öppnade {clients} olika kunders journaler inom {}.",
                within_sv(*within)
            ),
            Flag::UnitMismatch { unit: u } => format!(
                "Kunden tillhör {}, en enhet där användaren inte arbetar.",
                unit(u)
            ),
            Flag::EmergencyAccess => "Journalen öppnades med nödöppning.".into(),
            Flag::WatchList { reason } if reason.is_empty() => {
                "Kunden står på bevakningslistan.".into()
            }
            Flag::WatchList { reason } => format!("Kunden står på bevakningslistan: {reason}."),
            Flag::AfterEmployment { ended: Some(day) } => {
                format!("Kontot användes efter anställningens sista dag ({day}).")
            }
            Flag::AfterEmployment { ended: None } => {
                "Kontot tillhör ingen i personallistan.".into()
            }
            Flag::BeyondNeed { unit: u } => format!(
                "Kunden tillhör {}, utanför det behov som behovs- och riskanalysen ger användarens yrkesroll.",
                unit(u)
            ),
        }
    }
}

fn within_sv(seconds: i64) -> String {
    match seconds {
        3600 => "en timme".into(),
        s if s % 86_400 == 0 && s / 86_400 == 1 => "ett dygn".into(),
        s if s % 86_400 == 0 => format!("{} dygn", s / 86_400),
        s if s % 3600 == 0 => format!("{} timmar", s / 3600),
        s => format!("{} minuter", s / 60),
    }
}

/// Why an access is probably fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation {
    SameUnit {
        unit: String,
    },
    /// `day` of the nearest write or signature; `itself` when the access is one.
    Documented {
        day: NaiveDate,
        itself: bool,
    },
    /// `named`: the relationship names the user; else it is with `unit`, where they work.
    CareRelationship {
        kind: String,
        unit: String,
        from: NaiveDate,
        named: bool,
    },
    OnShift {
        unit: String,
        /// Local `HH:MM`.
        start: String,
        end: String,
    },
    Team {
        colleague: String,
        day: NaiveDate,
    },
    Continuity {
        days: u32,
        first: NaiveDate,
    },
    JudgedBefore {
        case: String,
        day: NaiveDate,
    },
}

/// The stable codes of the explanations, in the order pages list them.
pub(crate) const EXPLANATION_CODES: [&str; 7] = [
    "same_unit",
    "documented",
    "care_relationship",
    "on_shift",
    "team",
    "continuity",
    "judged_before",
];

/// The kinds of explanation, a bit each (`1 << index in EXPLANATION_CODES`).
pub(crate) mod kind {
    pub(crate) const SAME_UNIT: u8 = 1;
    pub(crate) const DOCUMENTED: u8 = 1 << 1;
    pub(crate) const CARE_RELATIONSHIP: u8 = 1 << 2;
    pub(crate) const ON_SHIFT: u8 = 1 << 3;
    pub(crate) const TEAM: u8 = 1 << 4;
    pub(crate) const CONTINUITY: u8 = 1 << 5;
    pub(crate) const JUDGED_BEFORE: u8 = 1 << 6;
    /// What a colleague's access must be explained by for `team` to lean on it: the client's
    /// tie to the colleague's unit or to the colleague, not what the colleague did elsewhere
    /// (a shift at another unit, a note written there).
    pub(crate) const TEAM_ANCHOR: u8 = SAME_UNIT | CARE_RELATIONSHIP;
}

impl Explanation {
    pub fn code(&self) -> &'static str {
        match self {
            Explanation::SameUnit { .. } => "same_unit",
            Explanation::Documented { .. } => "documented",
            Explanation::CareRelationship { .. } => "care_relationship",
            Explanation::OnShift { .. } => "on_shift",
            Explanation::Team { .. } => "team",
            Explanation::Continuity { .. } => "continuity",
            Explanation::JudgedBefore { .. } => "judged_before",
        }
    }

    pub fn text(&self, unit: &dyn Fn(&str) -> String) -> String {
        match self {
            Explanation::SameUnit { unit: u } => {
                format!("Kunden tillhör {}, där användaren arbetar.", unit(u))
            }
            Explanation::Documented { itself: true, .. } => {
                "Användaren dokumenterade i kundens journal vid åtkomsten.".into()
            }
            Explanation::Documented { day, .. } => {
                format!("Användaren dokumenterade i kundens journal {day}.")
            }
            Explanation::CareRelationship {
                kind,
                from,
                named: true,
                ..
            } => format!("Användaren är knuten till kunden ({kind}) sedan {from}."),
            Explanation::CareRelationship {
                kind,
                unit: u,
                from,
                ..
            } => format!("Kunden har {kind} från {} sedan {from}.", unit(u)),
            Explanation::OnShift {
                unit: u,
                start,
                end,
            } => {
                format!("Användaren arbetade pass på {} {start}–{end}.", unit(u))
            }
            Explanation::Team { colleague, day } => format!(
                "{colleague}, kollega på samma enhet, öppnade kundens journal {day} av förklarad anledning."
            ),
            Explanation::Continuity { days, first } => format!(
                "Användaren har öppnat kundens journal {days} olika dagar sedan {first}, första gången av förklarad anledning."
            ),
            Explanation::JudgedBefore { case, day } => {
                format!("Användarens åtkomst till kunden bedömdes befogad i ärende {case} ({day}).")
            }
        }
    }
}

/// A code and its sentence, as JSON and pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Said {
    pub code: &'static str,
    pub text: String,
}

/// The findings of one access, compact: which flags (a bit each) and which explanations, with
/// what their sentences need that the fact does not hold. [`Assessment::flags`] and
/// [`Assessment::explanations`] give them in full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Assessment {
    flags: u16,
    /// The client's unit (or one above it) is one of the user's.
    pub same_unit: bool,
    /// When the user wrote or signed in the same client's record nearest the access, within the
    /// span (the access itself when it is such a write).
    pub documented: Option<i64>,
    /// The distinct clients of the burst the access is part of.
    pub burst: u32,
    /// The care relationship that explains it: its place in [`Ties::relations`] of the client.
    pub relation: Option<u32>,
    /// The shift that explains it: its place in [`Ties::shifts`].
    pub shift: Option<u32>,
    /// The colleague's explained access that explains it: its place in [`Ties::team`] of the
    /// client (set after the rules, by [`Assessment::lean_on_team`]).
    pub team: Option<u32>,
    /// On how many separate days before, and when the first of them was.
    pub continuity: Option<(u32, i64)>,
    /// The judgement that explains it: its place in [`Ties::judged`] of the client.
    pub judged: Option<u32>,
}

impl Assessment {
    /// The flags as bits (bit `Code as u16`).
    pub(crate) fn flag_bits(&self) -> u16 {
        self.flags
    }

    pub(crate) fn has(&self, code: Code) -> bool {
        self.flags & code.bit() != 0
    }

    fn set(&mut self, code: Code) {
        self.flags |= code.bit();
    }

    fn clear(&mut self, code: Code) {
        self.flags &= !code.bit();
    }

    pub(crate) fn flagged(&self) -> bool {
        self.flags != 0
    }

    /// Whether a flag that points at a person is raised (no explanation counts then).
    pub(crate) fn personal(&self) -> bool {
        self.codes().any(Code::personal)
    }

    /// The kinds of explanation that hold, as bits of [`kind`], whatever the flags.
    pub(crate) fn kinds(&self) -> u8 {
        let mut k = 0;
        for (on, bit) in [
            (self.same_unit, kind::SAME_UNIT),
            (self.documented.is_some(), kind::DOCUMENTED),
            (self.relation.is_some(), kind::CARE_RELATIONSHIP),
            (self.shift.is_some(), kind::ON_SHIFT),
            (self.team.is_some(), kind::TEAM),
            (self.continuity.is_some(), kind::CONTINUITY),
            (self.judged.is_some(), kind::JUDGED_BEFORE),
        ] {
            if on {
                k |= bit;
            }
        }
        k
    }

    /// The kinds of explanation that count: none when a flag points at a person.
    pub(crate) fn explained_kinds(&self) -> u8 {
        if self.personal() { 0 } else { self.kinds() }
    }

    pub(crate) fn explained(&self) -> bool {
        self.explained_kinds() != 0
    }

    /// Explained in a way a colleague's access may lean on ([`kind::TEAM_ANCHOR`]).
    pub(crate) fn anchors_team(&self) -> bool {
        self.explained_kinds() & kind::TEAM_ANCHOR != 0
    }

    /// Explains an access by a colleague's explained access to the same client: the nearest of
    /// `near` (times, in order) within the span, if any. Only an access nothing else explains
    /// and nothing flags: `team` is the weakest reason (someone else's), so it takes the
    /// "unexplained" mark off an otherwise unremarkable access and never stands beside a flag.
    pub(crate) fn lean_on_team(&mut self, at: i64, near: &[(i64, u32)], span: i64) -> bool {
        if self.explained() || self.flagged() {
            return false;
        }
        let k = near.partition_point(|(t, _)| *t < at - span);
        let best = near[k..]
            .iter()
            .enumerate()
            .take_while(|(_, (t, _))| *t <= at + span)
            .min_by_key(|(_, (t, _))| (t - at).abs())
            .map(|(i, _)| (k + i) as u32);
        self.team = best;
        best.is_some()
    }

    /// The kinds of flag it has, in order.
    pub(crate) fn codes(&self) -> impl Iterator<Item = Code> + '_ {
        Code::ALL.into_iter().filter(|c| self.has(*c))
    }

    /// The flags in full, for people to read.
    pub(crate) fn flags(&self, fact: &Fact, cx: &Context) -> Vec<Flag> {
        let mut clock = LocalClock::new(cx.tz);
        let client = cx.clients.get(&fact.client);
        self.codes()
            .map(|code| match code {
                Code::OwnRecord => Flag::OwnRecord,
                Code::ColleagueRecord => Flag::ColleagueRecord {
                    names: client
                        .map(|c| {
                            c.people
                                .iter()
                                .filter(|(id, _)| Some(id) != cx.subject.person_id.as_ref())
                                .map(|(_, n)| n.clone())
                                .collect()
                        })
                        .unwrap_or_default(),
                },
                Code::SameSurname => {
                    let shared = cx
                        .subject
                        .surnames
                        .split(' ')
                        .find(|w| fact.surnames.contains(&crate::names::key(w)))
                        .unwrap_or("");
                    Flag::SameSurname {
                        surname: capitalise(shared),
                    }
                }
                Code::WatchList => Flag::WatchList {
                    reason: client.and_then(|c| c.watched.clone()).unwrap_or_default(),
                },
                Code::EmergencyAccess => Flag::EmergencyAccess,
                Code::AfterEmployment => Flag::AfterEmployment {
                    ended: cx.subject.ended.filter(|_| cx.subject.person_id.is_some()),
                },
                Code::Burst => Flag::Burst {
                    clients: self.burst as usize,
                    within: cx.rules.burst_within,
                },
                Code::UnitMismatch => Flag::UnitMismatch {
                    unit: cx.strings.name(fact.client_unit).to_string(),
                },
                Code::BeyondNeed => Flag::BeyondNeed {
                    unit: cx.strings.name(fact.client_unit).to_string(),
                },
                Code::Night => Flag::Night {
                    local: clock.hh_mm(fact.at),
                },
            })
            .collect()
    }

    /// The explanations in full, for people to read: none when a flag points at a person.
    pub(crate) fn explanations(&self, fact: &Fact, cx: &Context) -> Vec<Explanation> {
        let mut out = Vec::new();
        if self.personal() {
            return out;
        }
        let mut clock = LocalClock::new(cx.tz);
        if self.same_unit {
            out.push(Explanation::SameUnit {
                unit: cx.strings.name(fact.client_unit).to_string(),
            });
        }
        if let Some(at) = self.documented {
            out.push(Explanation::Documented {
                day: clock.date(at),
                itself: at == fact.at && cx.writes.contains(&fact.action),
            });
        }
        let ties = cx.ties;
        if let Some(tie) = self
            .relation
            .and_then(|i| ties.relations.get(&fact.client)?.get(i as usize))
        {
            out.push(Explanation::CareRelationship {
                kind: tie.kind.to_string(),
                unit: tie.unit.to_string(),
                from: tie.from_day,
                named: tie.named,
            });
        }
        if let Some(s) = self.shift.and_then(|i| ties.shifts.get(i as usize)) {
            out.push(Explanation::OnShift {
                unit: s.unit.to_string(),
                start: clock.hh_mm(s.start),
                end: clock.hh_mm(s.end),
            });
        }
        if let Some((at, who)) = self
            .team
            .and_then(|i| ties.team.get(&fact.client)?.get(i as usize))
        {
            out.push(Explanation::Team {
                colleague: ties.names.get(*who as usize).cloned().unwrap_or_default(),
                day: clock.date(*at),
            });
        }
        if let Some((days, first)) = self.continuity {
            out.push(Explanation::Continuity {
                days,
                first: clock.date(first),
            });
        }
        if let Some((at, case)) = self
            .judged
            .and_then(|i| ties.judged.get(&fact.client)?.get(i as usize))
        {
            out.push(Explanation::JudgedBefore {
                case: ties.names.get(*case as usize).cloned().unwrap_or_default(),
                day: clock.date(*at),
            });
        }
        out
    }
}

/// A care relationship of a client, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tie {
    /// Unix seconds `[from, to)`: from the local midnight of its first day to that after its
    /// last (`i64::MAX`: ongoing).
    pub from: i64,
    pub to: i64,
    pub from_day: NaiveDate,
    /// The unit's roster id.
    pub unit: Sym,
    pub kind: Sym,
    /// The units the subject has shifts at that are its unit or above it (none when it names
    /// someone: then it is theirs, not their unit's).
    pub shift_units: Vec<Sym>,
    /// It names the subject.
    pub named: bool,
    /// It names someone (an ansvarig handläggare, a kontaktman): then it is theirs alone, not
    /// their unit's.
    pub personal: bool,
    /// It names nobody, and its unit, or a unit above it, is one of the subject's home units.
    pub mine: bool,
}

/// A shift of the subject's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkShift {
    /// Unix seconds `[start, end)`.
    pub start: i64,
    pub end: i64,
    /// The unit's roster id.
    pub unit: Sym,
}

/// What explains the subject's accesses besides the log: care relationships of their clients,
/// their shifts, colleagues' explained accesses and judgements of their earlier accesses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ties {
    /// By client: its relationships that hold in the system.
    pub relations: ClientMap<Vec<Tie>>,
    /// In order of start.
    pub shifts: Vec<WorkShift>,
    /// By client: (time, index into `names` of the colleague) of colleagues' explained
    /// accesses, in time order.
    pub team: ClientMap<Vec<(i64, u32)>>,
    /// By client: (when the case closed, index into `names` of the case) of the subject's
    /// accesses judged justified, in time order.
    pub judged: ClientMap<Vec<(i64, u32)>>,
    /// Colleagues' names and case references the lists above point into.
    pub names: Vec<String>,
}

impl Ties {
    /// The first relationship of `client` that holds at `at` and that `pred` accepts.
    fn relation(&self, client: u64, at: i64, pred: impl Fn(&Tie) -> bool) -> Option<u32> {
        self.relations
            .get(&client)?
            .iter()
            .position(|t| t.from <= at && at < t.to && pred(t))
            .map(|i| i as u32)
    }

    /// The shifts that hold `at`, with their places.
    fn shifts_at(&self, at: i64) -> impl Iterator<Item = (usize, &WorkShift)> {
        let end = self.shifts.partition_point(|s| s.start <= at);
        // Shifts are at most two days long: look back no further.
        let begin = self.shifts[..end].partition_point(|s| s.start < at - 2 * 86_400);
        self.shifts[begin..end]
            .iter()
            .enumerate()
            .filter(move |(_, s)| at < s.end)
            .map(move |(i, s)| (begin + i, s))
    }
}

/// What the rules know of the client of an access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    /// The keyed hash of the client's personnummer (`None` when nobody in the roster has one
    /// given, so that nobody can match).
    pub hash: Option<[u8; 32]>,
    /// People of the roster with that personnummer: (id, name).
    pub people: Vec<(String, String)>,
    /// The watch list's reason, when the client is on it.
    pub watched: Option<String>,
}

/// Whose accesses are assessed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    /// `None`: the account belongs to nobody in the roster.
    pub person_id: Option<String>,
    /// The person's surnames (`names::surnames`), and their keys.
    pub surnames: String,
    pub surname_keys: Vec<u32>,
    /// The person's last day, when it has passed or is set.
    pub ended: Option<NaiveDate>,
    pub personnummer_hash: Option<[u8; 32]>,
}

/// Everything the rules read besides the facts.
pub(crate) struct Context<'a> {
    pub rules: &'a EvidenceRules,
    pub tz: Tz,
    pub subject: &'a Subject,
    pub strings: &'a Texts,
    /// By unit id of `strings`: whether it (or a unit above it) is one of the subject's units.
    pub mine: &'a IdMap<bool>,
    /// By unit id of `strings`: whether the needs-and-risk analysis lets the subject reach its
    /// clients; `None` when the analysis sets no bound.
    pub within_need: Option<&'a IdMap<bool>>,
    pub clients: &'a ClientMap<ClientInfo>,
    /// The action codes of writes and signatures, and of Nödöppning.
    pub writes: &'a [u8],
    pub emergency: u8,
    /// By unit id of `strings`: the units the subject has shifts at that are this unit or one
    /// above it (none: empty or absent).
    pub shift_cover: &'a IdMap<Vec<Sym>>,
    pub ties: &'a Ties,
}

/// Sorts facts by time and drops the second copy of an access (the same `log_id` at the same
/// time, from overlapping exports).
pub(crate) fn prepare(facts: &mut Vec<Fact>) {
    facts.sort_unstable_by_key(|f| (f.at, f.log_key, f.row));
    facts.dedup_by_key(|f| (f.at, f.log_key));
}

/// Local time in a zone, with the offset cached per UTC day when the day has one offset, else
/// per hour (offsets change on whole hours).
pub(crate) struct LocalClock {
    tz: Tz,
    /// By UTC day modulo their number: (the day, its offset, or [`MIXED`] when the offset
    /// changes that day). A person's accesses jump back and forth over a few months (continuity
    /// looks back 60 days): each day is looked up in the zone once.
    days: [(i64, i64); CLOCK_DAYS],
}

/// How many UTC days a [`LocalClock`] keeps.
const CLOCK_DAYS: usize = 64;

/// The offset of a day on which it changes: each hour is looked up.
const MIXED: i64 = i64::MIN;

impl LocalClock {
    pub(crate) fn new(tz: Tz) -> LocalClock {
        LocalClock {
            tz,
            days: [(i64::MIN, 0); CLOCK_DAYS],
        }
    }

    fn offset_at(&self, t: i64) -> i64 {
        use chrono::Offset;
        DateTime::from_timestamp(t, 0)
            .map(|t| i64::from(t.with_timezone(&self.tz).offset().fix().local_minus_utc()))
            .unwrap_or(0)
    }

    /// Unix seconds shifted to local wall-clock seconds.
    pub(crate) fn local(&mut self, at: i64) -> i64 {
        let day = at.div_euclid(86_400);
        let slot = day.rem_euclid(CLOCK_DAYS as i64) as usize;
        if self.days[slot].0 != day {
            let start = day * 86_400;
            let (first, last) = (self.offset_at(start), self.offset_at(start + 86_400 - 3600));
            self.days[slot] = (day, if first == last { first } else { MIXED });
        }
        match self.days[slot].1 {
            MIXED => at + self.offset_at(at.div_euclid(3600) * 3600),
            offset => at + offset,
        }
    }

    /// The local day of `at`, as days since 1970-01-01.
    pub(crate) fn day_number(&mut self, at: i64) -> i64 {
        self.local(at).div_euclid(86_400)
    }

    /// Minutes after local midnight.
    pub(crate) fn minute(&mut self, at: i64) -> u32 {
        (self.local(at).rem_euclid(86_400) / 60) as u32
    }

    pub(crate) fn date(&mut self, at: i64) -> NaiveDate {
        DateTime::from_timestamp(self.local(at), 0)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }

    pub(crate) fn hh_mm(&mut self, at: i64) -> String {
        let m = self.minute(at);
        format!("{:02}:{:02}", m / 60, m % 60)
    }
}

/// Assesses the facts (prepared: sorted, without duplicates) that lie in `[from, to)`; the
/// others are context. Returns (index into `facts`, assessment) in time order. `team` is left
/// to the caller ([`Assessment::lean_on_team`]): it needs other people's accesses.
pub(crate) fn assess(facts: &[Fact], from: i64, to: i64, cx: &Context) -> Vec<(usize, Assessment)> {
    let bursts = bursts(facts, cx.rules);
    // Writes and signatures by client and time, for the nearest one to each access.
    let mut writes: Vec<(u64, i64)> = facts
        .iter()
        .filter(|f| cx.writes.contains(&f.action))
        .map(|f| (f.client, f.at))
        .collect();
    writes.sort_unstable();
    // Each client's accesses, in time order, for continuity.
    let mut by_client: Vec<(u64, i64, usize)> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.client, f.at, i))
        .collect();
    by_client.sort_unstable();
    // Where each access stands among its client's.
    let mut place = vec![0usize; facts.len()];
    for (k, (_, _, i)) in by_client.iter().enumerate() {
        place[*i] = k;
    }
    let span = i64::from(cx.rules.documented_days) * 86_400;
    // After the person's last day: from the local midnight that ends it.
    let ended_at = match (&cx.subject.person_id, cx.subject.ended) {
        (Some(_), Some(day)) => day
            .succ_opt()
            .map(|d| crate::clock::resolve_local(d.and_time(chrono::NaiveTime::MIN), cx.tz))
            .map(|t| t.timestamp()),
        _ => None,
    };
    let known = cx.subject.person_id.is_some();
    let mut clock = LocalClock::new(cx.tz);
    let continuity_span = i64::from(cx.rules.continuity_within) * 86_400;
    let judged_span = i64::from(cx.rules.judged_days) * 86_400;
    let start = facts.partition_point(|f| f.at < from);
    let end = facts.partition_point(|f| f.at < to);
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    // What explains each access by itself, as worked out: continuity asks again for an
    // earlier access of the same client.
    let mut known_first: Vec<Option<FirstOrder>> = vec![None; facts.len()];
    let mut first_order_of = |j: usize| -> FirstOrder {
        match known_first.get(j).copied().flatten() {
            Some(found) => found,
            None => {
                let found = facts
                    .get(j)
                    .map(|f| first_order(f, cx, &writes, span, known))
                    .unwrap_or_default();
                if let Some(slot) = known_first.get_mut(j) {
                    *slot = Some(found);
                }
                found
            }
        }
    };
    for (i, f) in facts.iter().enumerate().take(end).skip(start) {
        let mut a = Assessment::default();
        let client = cx.clients.get(&f.client);
        // Explanations.
        let unit_mine = cx.mine.get(&f.client_unit).copied().unwrap_or(false);
        (a.same_unit, a.documented, a.relation, a.shift) = first_order_of(i);
        if known {
            a.judged = cx.ties.judged.get(&f.client).and_then(|list| {
                let k = list.partition_point(|(t, _)| *t < f.at - judged_span);
                list[k..]
                    .iter()
                    .position(|(t, _)| *t < f.at)
                    .map(|p| (k + p) as u32)
            });
        }
        if known && cx.rules.continuity_days > 0 {
            let (days, lo) = earlier_days(f, place[i], &by_client, continuity_span, &mut clock);
            if days >= cx.rules.continuity_days
                && let Some((_, first_at, j)) = by_client.get(lo)
            {
                let (same, documented, relation, shift) = first_order_of(*j);
                if same || documented.is_some() || relation.is_some() || shift.is_some() {
                    a.continuity = Some((days, *first_at));
                }
            }
        }
        // Flags.
        set_record_flags(&mut a, f, client, cx);
        if f.action == cx.emergency {
            a.set(Code::EmergencyAccess);
        }
        if !known || ended_at.is_some_and(|end| f.at >= end) {
            a.set(Code::AfterEmployment);
        }
        if let Some(clients) = bursts[i] {
            a.set(Code::Burst);
            a.burst = clients as u32;
        }
        if f.client_unit != 0 && !unit_mine && known {
            a.set(Code::UnitMismatch);
        }
        if let Some(within) = cx.within_need
            && f.client_unit != 0
            && known
            && !within.get(&f.client_unit).copied().unwrap_or(false)
        {
            a.set(Code::BeyondNeed);
        }
        // What a shift or a care relationship answers.
        if cx.rules.is_night(clock.minute(f.at))
            && !(known && (a.shift.is_some() || cx.ties.shifts_at(f.at).next().is_some()))
        {
            a.set(Code::Night);
        }
        if a.shift.is_some() || a.relation.is_some() {
            a.clear(Code::UnitMismatch);
            a.clear(Code::BeyondNeed);
        }
        out.push((i, a));
    }
    out
}

/// What explains an access by itself: (same unit, the nearest write or signature, care
/// relationship, shift).
type FirstOrder = (bool, Option<i64>, Option<u32>, Option<u32>);

/// What explains access `f` by itself (`writes`: the writes and signatures by client and time,
/// within `span` of it; `known`: the subject is in the roster).
#[inline]
fn first_order(
    f: &Fact,
    cx: &Context,
    writes: &[(u64, i64)],
    span: i64,
    known: bool,
) -> FirstOrder {
    let unit_mine = cx.mine.get(&f.client_unit).copied().unwrap_or(false);
    let same_unit = f.client_unit != 0 && unit_mine && known;
    let documented = if cx.writes.contains(&f.action) {
        Some(f.at)
    } else if writes.is_empty() {
        None
    } else {
        let k = writes.partition_point(|w| *w < (f.client, f.at));
        [k.checked_sub(1), Some(k)]
            .into_iter()
            .flatten()
            .filter_map(|k| writes.get(k))
            .filter(|(c, _)| *c == f.client)
            .map(|(_, t)| *t)
            .min_by_key(|t| (t - f.at).abs())
            .filter(|t| (t - f.at).abs() <= span)
    };
    let relation = cx
        .ties
        .relation(f.client, f.at, |t| t.named || (t.mine && known));
    let covered = cx
        .shift_cover
        .get(&f.client_unit)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let shift = cx
        .ties
        .shifts_at(f.at)
        .find(|(_, s)| {
            covered.contains(&s.unit)
                || cx
                    .ties
                    .relation(f.client, f.at, |t| t.shift_units.contains(&s.unit))
                    .is_some()
        })
        .map(|(i, _)| i as u32);
    (same_unit, documented, relation, shift)
}

/// On how many separate local days before access `f`'s own its client was accessed within
/// `span` before it, and where the first of those accesses stands in `by_client` (every access
/// by client and time; `f` stands at `at`).
#[inline]
fn earlier_days(
    f: &Fact,
    at: usize,
    by_client: &[(u64, i64, usize)],
    span: i64,
    clock: &mut LocalClock,
) -> (u32, usize) {
    // Separate local days before the access's own, within the span.
    let today = clock.day_number(f.at);
    // The client's accesses before this one's time, back to the span's start: read
    // backwards from the access's own place (the loop below reads them anyway).
    let mut hi = at;
    while hi > 0 && by_client[hi - 1].0 == f.client && by_client[hi - 1].1 == f.at {
        hi -= 1;
    }
    let mut lo = hi;
    while lo > 0 && by_client[lo - 1].0 == f.client && by_client[lo - 1].1 >= f.at - span {
        lo -= 1;
    }
    // Earlier accesses are in time order: their days too.
    let (mut days, mut last) = (0u32, None);
    for (_, t, _) in &by_client[lo..hi] {
        let d = clock.day_number(*t);
        if d != today && last != Some(d) {
            days += 1;
            last = Some(d);
        }
    }
    (days, lo)
}

/// Sets the flags of whose record access `f` reads (`client`: what the context knows of its
/// client): the subject's own, a colleague's, one of the subject's surname, one watched.
#[inline]
fn set_record_flags(a: &mut Assessment, f: &Fact, client: Option<&ClientInfo>, cx: &Context) {
    let own = match (
        client.and_then(|c| c.hash.as_ref()),
        &cx.subject.personnummer_hash,
    ) {
        (Some(c), Some(h)) => c == h,
        _ => false,
    };
    if own {
        a.set(Code::OwnRecord);
    }
    if !own
        && client.is_some_and(|c| {
            c.people
                .iter()
                .any(|(id, _)| Some(id) != cx.subject.person_id.as_ref())
        })
    {
        a.set(Code::ColleagueRecord);
    }
    if !own
        && f.surnames
            .iter()
            .any(|k| *k != 0 && cx.subject.surname_keys.contains(k))
    {
        a.set(Code::SameSurname);
    }
    if client.is_some_and(|c| c.watched.is_some()) {
        a.set(Code::WatchList);
    }
}

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// For each fact, the most distinct clients of a burst it is part of: a stretch of
/// `burst_within` seconds with more than `burst_clients` distinct clients.
fn bursts(facts: &[Fact], rules: &EvidenceRules) -> Vec<Option<usize>> {
    let n = facts.len();
    let mut out = vec![None; n];
    let limit = rules.burst_clients as usize;
    if n <= limit {
        return out;
    }
    // No stretch holds more than `limit` accesses at all: no burst, and no need to count
    // clients.
    let mut j = 0;
    let mut crowded = false;
    for i in 0..n {
        while j < n && facts[j].at < facts[i].at.saturating_add(rules.burst_within) {
            j += 1;
        }
        if j - i > limit {
            crowded = true;
            break;
        }
    }
    if !crowded {
        return out;
    }
    let mut counts: ClientMap<u32> = ClientMap::default();
    let mut j = 0;
    for i in 0..n {
        while j < n && facts[j].at < facts[i].at.saturating_add(rules.burst_within) {
            *counts.entry(facts[j].client).or_insert(0) += 1;
            j += 1;
        }
        let distinct = counts.len();
        if distinct > limit {
            for slot in &mut out[i..j] {
                *slot = Some(slot.map_or(distinct, |d: usize| d.max(distinct)));
            }
        }
        if let Some(c) = counts.get_mut(&facts[i].client) {
            *c -= 1;
            if *c == 0 {
                counts.remove(&facts[i].client);
            }
        }
    }
    out
}

/// The local minute of an instant, for callers that have no [`LocalClock`].
#[cfg(test)]
pub(crate) fn local_minute(at: DateTime<chrono::Utc>, tz: Tz) -> u32 {
    use chrono::Timelike;
    let l = at.with_timezone(&tz);
    l.hour() * 60 + l.minute()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;

    fn at(local: &str) -> i64 {
        crate::clock::parse_time(local, Stockholm)
            .unwrap()
            .timestamp()
    }

    struct World {
        strings: Texts,
        mine: IdMap<bool>,
        within: Option<IdMap<bool>>,
        clients: ClientMap<ClientInfo>,
        subject: Subject,
        rules: EvidenceRules,
        shift_cover: IdMap<Vec<Sym>>,
        ties: Ties,
    }

    impl World {
        fn new() -> World {
            let mut strings = Texts::default();
            strings.insert(1, "EN1");
            strings.insert(2, "EN2");
            strings.insert(3, "lindqvist");
            strings.insert(4, "berg");
            World {
                mine: [(1, true), (2, false)].into_iter().collect(),
                within: None,
                strings,
                clients: ClientMap::default(),
                subject: Subject {
                    person_id: Some("p1".into()),
                    surnames: "lindqvist".into(),
                    surname_keys: vec![crate::names::key("lindqvist")],
                    ended: None,
                    personnummer_hash: Some([1; 32]),
                },
                rules: EvidenceRules::default(),
                shift_cover: IdMap::default(),
                ties: Ties::default(),
            }
        }

        fn run(&self, facts: &mut Vec<Fact>) -> Vec<(usize, Assessment)> {
            prepare(facts);
            let writes = [1, 2, 3, 4, 5];
            assess(facts, i64::MIN, i64::MAX, &self.cx(&writes))
        }

        fn cx<'a>(&'a self, writes: &'a [u8]) -> Context<'a> {
            Context {
                rules: &self.rules,
                tz: Stockholm,
                subject: &self.subject,
                strings: &self.strings,
                mine: &self.mine,
                within_need: self.within.as_ref(),
                clients: &self.clients,
                writes,
                emergency: 10,
                shift_cover: &self.shift_cover,
                ties: &self.ties,
            }
        }
    }

    fn fact(at: i64, client: u64, unit: u32, action: u8) -> Fact {
        Fact {
            row: at,
            at,
            client,
            client_unit: unit,
            action,
            surnames: [0, 0],
            log_key: (at as u32) ^ (client as u32),
        }
    }

    fn codes(a: &Assessment) -> Vec<&'static str> {
        a.codes().map(Code::as_str).collect()
    }

    #[test]
    fn ordinary_work_is_explained_and_not_flagged() {
        let w = World::new();
        let mut facts = vec![
            fact(at("2027-03-02T09:00"), 1, 1, 0),
            fact(at("2027-03-02T14:00"), 2, 1, 2),
        ];
        let out = w.run(&mut facts);
        assert_eq!(out.len(), 2);
        for (_, a) in &out {
            assert!(!a.flagged(), "{a:?}");
            assert!(a.explained());
        }
    }

    #[test]
    fn an_access_beyond_the_analysed_need_is_flagged_only_when_the_analysis_bounds_it() {
        let mut w = World::new();
        let mut facts = vec![
            fact(at("2027-03-02T09:00"), 1, 1, 0),
            fact(at("2027-03-02T10:00"), 2, 2, 0),
            fact(at("2027-03-02T11:00"), 3, 0, 0),
        ];
        // No bound: nothing beyond.
        let out = w.run(&mut facts.clone());
        assert!(out.iter().all(|(_, a)| !a.has(Code::BeyondNeed)));
        // EN1 within, EN2 outside, no unit: not judged.
        w.within = Some([(1, true), (2, false)].into_iter().collect());
        let out = w.run(&mut facts);
        let beyond: Vec<bool> = out.iter().map(|(_, a)| a.has(Code::BeyondNeed)).collect();
        assert_eq!(beyond, [false, true, false]);
        let (i, a) = out[1];
        let flags = a.flags(&facts[i], &w.cx(&[]));
        let unit = |u: &str| u.to_string();
        assert!(
            flags
                .iter()
                .any(|f| f.text(&unit).contains("EN2, utanför det behov")),
            "{flags:?}"
        );
    }

    #[test]
    fn each_flag_for_its_reason() {
        let mut w = World::new();
        w.subject.ended = Some(NaiveDate::from_ymd_opt(2027, 3, 10).unwrap());
        w.clients.insert(
            7,
            ClientInfo {
                hash: Some([1; 32]),
                people: vec![("p1".into(), "Per Lindqvist".into())],
                watched: None,
            },
        );
        w.clients.insert(
            8,
            ClientInfo {
                hash: Some([8; 32]),
                people: vec![("p2".into(), "Lena Ek".into())],
                watched: None,
            },
        );
        w.clients.insert(
            9,
            ClientInfo {
                hash: Some([9; 32]),
                people: vec![],
                watched: Some("skyddad identitet".into()),
            },
        );
        let mut named = fact(at("2027-03-02T10:00"), 11, 1, 0);
        named.surnames = crate::names::surname_keys("Karin Lindqvist");
        let mut facts = vec![
            fact(at("2027-03-02T09:00"), 7, 1, 0),
            fact(at("2027-03-02T09:10"), 8, 1, 0),
            fact(at("2027-03-02T09:20"), 9, 1, 0),
            named,
            fact(at("2027-03-02T23:30"), 12, 1, 0),
            fact(at("2027-03-03T11:00"), 13, 2, 0),
            fact(at("2027-03-03T12:00"), 14, 1, 10),
            fact(at("2027-03-11T09:00"), 15, 1, 0),
        ];
        let out = w.run(&mut facts);
        let got: Vec<Vec<&str>> = out.iter().map(|(_, a)| codes(a)).collect();
        assert_eq!(
            got,
            vec![
                vec!["own_record"],
                vec!["colleague_record"],
                vec!["watch_list"],
                vec!["same_surname"],
                vec!["night"],
                vec!["unit_mismatch"],
                vec!["emergency_access"],
                vec!["after_employment"],
            ]
        );
        let units = |u: &str| format!("enheten {u}");
        let writes = [1, 2, 3, 4, 5];
        let cx = w.cx(&writes);
        let texts: Vec<String> = out
            .iter()
            .flat_map(|(i, a)| a.flags(&facts[*i], &cx).into_iter().map(|f| f.text(&units)))
            .collect();
        assert!(texts[1].contains("Lena Ek"), "{texts:?}");
        assert!(texts[2].contains("skyddad identitet"));
        assert!(texts[3].contains("Lindqvist"));
        assert!(texts[4].contains("23:30"));
        assert!(texts[5].contains("enheten EN2"));
        assert!(texts[7].contains("2027-03-10"));
    }

    #[test]
    fn an_account_of_nobody_is_flagged_and_has_no_unit_to_explain_it() {
        let mut w = World::new();
        w.subject = Subject::default();
        let mut facts = vec![fact(at("2027-03-02T09:00"), 1, 1, 0)];
        let out = w.run(&mut facts);
        assert_eq!(codes(&out[0].1), vec!["after_employment"]);
        assert!(!out[0].1.explained());
    }

    #[test]
    fn a_burst_is_more_than_twenty_clients_within_an_hour() {
        let w = World::new();
        let base = at("2027-03-02T10:00");
        // 21 clients in 40 minutes: a burst; then a quiet access two hours later.
        let mut facts: Vec<Fact> = (0..21)
            .map(|i| fact(base + i * 120, 100 + i as u64, 1, 0))
            .collect();
        facts.push(fact(base + 7200, 500, 1, 0));
        let out = w.run(&mut facts);
        assert!(out[..21].iter().all(|(_, a)| codes(a) == vec!["burst"]));
        assert!(!out[21].1.flagged());
        // 20 clients is not a burst.
        let mut facts: Vec<Fact> = (0..20)
            .map(|i| fact(base + i * 120, 100 + i as u64, 1, 0))
            .collect();
        assert!(w.run(&mut facts).iter().all(|(_, a)| !a.flagged()));
        // Many reads of one client are not a burst.
        let mut facts: Vec<Fact> = (0..40).map(|i| fact(base + i * 60, 1, 1, 0)).collect();
        assert!(w.run(&mut facts).iter().all(|(_, a)| !a.flagged()));
    }

    #[test]
    fn documentation_within_the_span_explains_an_access_to_another_unit() {
        let w = World::new();
        let read = at("2027-03-10T10:00");
        let mut facts = vec![
            fact(read, 5, 2, 0),
            fact(at("2027-03-20T10:00"), 5, 2, 4),
            fact(at("2027-03-02T10:00"), 6, 2, 0),
            fact(at("2027-03-30T10:00"), 6, 2, 2),
        ];
        let out = w.run(&mut facts);
        let by_client = |c: u64| {
            out.iter()
                .find(|(i, _)| facts[*i].client == c && facts[*i].action == 0)
                .map(|(_, a)| *a)
                .unwrap()
        };
        assert!(by_client(5).documented.is_some());
        assert!(!by_client(6).explained(), "28 days apart is too far");
        // Still flagged for the other unit: explained and flagged are independent.
        assert_eq!(codes(&by_client(5)), vec!["unit_mismatch"]);
    }

    #[test]
    fn duplicates_from_overlapping_exports_count_once_and_context_is_not_assessed() {
        let w = World::new();
        let t = at("2027-03-02T09:00");
        let mut facts = vec![
            fact(t, 1, 1, 0),
            fact(t, 1, 1, 0),
            fact(t + 99_999, 2, 1, 0),
        ];
        facts[1].row = 99;
        prepare(&mut facts);
        assert_eq!(facts.len(), 2);
        let writes = [2u8];
        let cx = Context {
            rules: &w.rules,
            tz: Stockholm,
            subject: &w.subject,
            strings: &w.strings,
            mine: &w.mine,
            within_need: None,
            clients: &w.clients,
            writes: &writes,
            emergency: 10,
            shift_cover: &w.shift_cover,
            ties: &w.ties,
        };
        let out = assess(&facts, t, t + 1, &cx);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, 0);
    }

    fn tie(unit: &str, from: &str, named: bool, mine: bool) -> Tie {
        Tie {
            from: at(from),
            to: i64::MAX,
            from_day: NaiveDate::parse_from_str(&from[..10], "%Y-%m-%d").unwrap(),
            unit: unit.into(),
            kind: "insats".into(),
            shift_units: Vec::new(),
            named,
            personal: named,
            mine,
        }
    }

    #[test]
    fn a_shift_answers_night_and_another_unit_and_a_relationship_answers_another_unit() {
        let mut w = World::new();
        w.shift_cover.insert(2, vec!["EN2".into()]);
        w.ties.shifts.push(WorkShift {
            start: at("2027-03-02T22:00"),
            end: at("2027-03-03T07:00"),
            unit: "EN2".into(),
        });
        w.ties
            .relations
            .insert(9, vec![tie("EN3", "2027-03-01T00:00", true, false)]);
        let mut facts = vec![
            // On the shift, at its unit, at night: explained, nothing flagged.
            fact(at("2027-03-02T23:30"), 5, 2, 0),
            // On the shift, a client of another unit with no tie: still another unit.
            fact(at("2027-03-03T01:00"), 6, 3, 0),
            // Off the shift, a client named to the user at another unit.
            fact(at("2027-03-03T10:00"), 9, 3, 0),
            // Off the shift, at night, at the shift's unit: night and another unit.
            fact(at("2027-03-04T23:30"), 7, 2, 0),
        ];
        let out = w.run(&mut facts);
        assert_eq!(codes(&out[0].1), Vec::<&str>::new());
        assert!(out[0].1.shift.is_some());
        assert_eq!(codes(&out[1].1), vec!["unit_mismatch"]);
        assert!(!out[1].1.explained());
        assert_eq!(codes(&out[2].1), Vec::<&str>::new());
        assert!(out[2].1.relation.is_some());
        assert_eq!(codes(&out[3].1), vec!["unit_mismatch", "night"]);
        let (i, a) = out[0];
        let cx_writes = [1u8];
        let texts: Vec<String> = a
            .explanations(&facts[i], &w.cx(&cx_writes))
            .iter()
            .map(|e| e.text(&|u: &str| u.to_string()))
            .collect();
        assert_eq!(texts, ["Användaren arbetade pass på EN2 22:00–07:00."]);
    }

    #[test]
    fn a_flag_that_points_at_a_person_leaves_the_access_unexplained() {
        let mut w = World::new();
        w.clients.insert(
            7,
            ClientInfo {
                hash: Some([1; 32]),
                people: vec![("p1".into(), "Per Lindqvist".into())],
                watched: None,
            },
        );
        w.ties
            .relations
            .insert(7, vec![tie("EN1", "2027-01-01T00:00", false, true)]);
        // The user's own record, in their own unit, with a relationship and a note.
        let mut facts = vec![fact(at("2027-03-02T09:00"), 7, 1, 2)];
        let out = w.run(&mut facts);
        let a = out[0].1;
        assert!(a.same_unit && a.relation.is_some() && a.documented.is_some());
        assert_eq!(codes(&a), vec!["own_record"]);
        assert!(!a.explained());
        assert!(a.explanations(&facts[0], &w.cx(&[2])).is_empty());
    }

    #[test]
    fn continuity_needs_three_earlier_days_and_an_explained_first() {
        let w = World::new();
        let read = |day: &str, unit: u32| fact(at(&format!("2027-03-{day}T10:00")), 5, unit, 0);
        // First access at the user's unit (explained), then three days at another unit.
        let mut facts = vec![read("01", 1), read("03", 2), read("05", 2), read("08", 2)];
        let out = w.run(&mut facts);
        assert!(out[3].1.continuity.is_some(), "{:?}", out[3].1);
        assert!(
            out[2].1.continuity.is_none(),
            "two earlier days are not enough"
        );
        // Without the explained first access: nothing.
        let mut facts = vec![read("03", 2), read("05", 2), read("07", 2), read("08", 2)];
        let out = w.run(&mut facts);
        assert!(out.iter().all(|(_, a)| a.continuity.is_none()));
    }

    #[test]
    fn team_explains_only_an_unflagged_access_within_the_span() {
        let near = [(at("2027-03-01T10:00"), 0), (at("2027-03-20T10:00"), 1)];
        let span = 7 * 86_400;
        let mut a = Assessment::default();
        assert!(a.lean_on_team(at("2027-03-06T10:00"), &near, span));
        assert_eq!(a.team, Some(0));
        let mut a = Assessment::default();
        assert!(!a.lean_on_team(at("2027-03-10T10:00"), &near, span));
        let mut a = Assessment::default();
        a.set(Code::UnitMismatch);
        assert!(!a.lean_on_team(at("2027-03-19T10:00"), &near, span));
    }

    #[test]
    fn night_across_midnight_and_daylight_saving() {
        let r = EvidenceRules::default();
        assert!(r.is_night(22 * 60));
        assert!(r.is_night(3 * 60));
        assert!(!r.is_night(6 * 60));
        assert!(!r.is_night(21 * 60 + 59));
        let mut clock = LocalClock::new(Stockholm);
        // 01:30 UTC on 28 March 2027 is 03:30 CEST (after the spring change).
        let t = crate::clock::parse_time("2027-03-28T01:30:00Z", Stockholm)
            .unwrap()
            .timestamp();
        assert_eq!(clock.hh_mm(t), "03:30");
        let t = crate::clock::parse_time("2027-03-28T00:30:00Z", Stockholm)
            .unwrap()
            .timestamp();
        assert_eq!(clock.hh_mm(t), "01:30");
        assert_eq!(
            local_minute(DateTime::from_timestamp(t, 0).unwrap(), Stockholm),
            90
        );
    }
}
