//! `Routine`: a routine after analysis. Everything in it is valid: the states form a petgraph
//! graph in which every state is reachable from the start and every non-final state can reach a
//! final one; roles, deadlines, schedules and templates are resolved. Only this type crosses into
//! the engine.

use super::duration::{DayCount, Offset, Period};
use crate::roster::Role;
use crate::schedule::Crontab;
use chrono_tz::Tz;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::fmt;

pub type StateIx = NodeIndex<u32>;

#[derive(Debug, Clone)]
pub struct Routine {
    pub id: String,
    pub title: String,
    pub kind: CaseKind,
    /// The record systems whose logs it reviews; a sampling routine has exactly one.
    pub systems: Vec<String>,
    pub version: String,
    pub legal_basis: String,
    pub timezone: Tz,
    /// Case references read `PREFIX-YEAR-NNNN`.
    pub reference_prefix: String,
    /// An extract routine whose letters leave out who read the record: why (said in the
    /// letter). `None`: the letter names each person, as the client has the right to know.
    pub names_withheld: Option<String>,
    pub trigger: Trigger,
    pub sampling: Option<Sampling>,
    /// The thresholds of the review's flags and explanations.
    pub evidence: EvidenceRules,
    pub start: StateIx,
    pub graph: DiGraph<State, Outcome>,
    /// An information routine's reminder: a person informed this long ago (and still holding an
    /// account) is informed again ("kontinuerligt och vid behov"). `None`: once.
    pub repeat: Option<crate::routine::duration::Period>,
    /// The longest of `retention_by_system`: what rounds and summaries are kept for.
    pub retention_years: u32,
    /// Years a closed case is kept, by each of the routine's systems.
    pub retention_by_system: std::collections::BTreeMap<String, u32>,
    pub summary: Option<Summary>,
    pub templates: TemplateNames,
    /// The file it was compiled from, as the user named it.
    pub path: String,
    /// The YAML text, kept so that a stored version can be compiled again.
    pub source: String,
    /// SHA-256 of `source`, hex: the version key cases are pinned to.
    pub hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseKind {
    Sampling,
    Targeted,
    Extract,
    /// Telling a new account holder that access is logged and checked.
    Information,
    /// A unit's yearly review of its accounts ("Underhålla behörigheter").
    AccessRights,
}

impl CaseKind {
    pub(crate) const ALL: [CaseKind; 5] = [
        CaseKind::Sampling,
        CaseKind::Targeted,
        CaseKind::Extract,
        CaseKind::Information,
        CaseKind::AccessRights,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Sampling => "sampling",
            CaseKind::Targeted => "targeted",
            CaseKind::Extract => "extract",
            CaseKind::Information => "information",
            CaseKind::AccessRights => "access_rights",
        }
    }

    pub fn parse(s: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Swedish, for what users read.
    pub fn title_sv(self) -> &'static str {
        match self {
            CaseKind::Sampling => "systematisk stickprovskontroll",
            CaseKind::Targeted => "riktad kontroll",
            CaseKind::Extract => "utlämnande av loggutdrag",
            CaseKind::Information => "information om loggkontroll",
            CaseKind::AccessRights => "översyn av behörigheter",
        }
    }

    /// With its article, for a sentence: "en riktad kontroll", "ett utlämnande av loggutdrag".
    pub(crate) fn phrase_sv(self) -> &'static str {
        match self {
            CaseKind::Sampling => "en systematisk stickprovskontroll",
            CaseKind::Targeted => "en riktad kontroll",
            CaseKind::Extract => "ett utlämnande av loggutdrag",
            CaseKind::Information => "en information om loggkontroll",
            CaseKind::AccessRights => "en översyn av behörigheter",
        }
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Trigger {
    Schedule {
        crontab: Crontab,
        catch_up: CatchUp,
    },
    OnDemand,
    /// When a person gets an account in the routine's system (a new person, or a new account).
    OnRoster,
}

/// What a machine that was off gets for the runs it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// The latest missed run, once (the default).
    Latest,
    /// Every missed run.
    All,
    /// None of them; wait for the next.
    Skip,
}

impl CatchUp {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::Latest => "latest",
            CatchUp::All => "all",
            CatchUp::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// The system whose account holders form the population (the routine's own by default).
    pub system: String,
    pub per: Scope,
    pub size: SampleSize,
    pub min_per_unit: u32,
    pub strategy: Strategy,
    /// Length of the reviewed interval (24 hours).
    pub window_hours: u32,
    /// How far back from the round the interval may lie.
    pub look_back: Period,
    pub always_include: Vec<AlwaysInclude>,
}

/// The thresholds of the review's flags and explanations (`evidence:` in a routine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvidenceRules {
    /// Night, in local minutes after midnight: from `night_from` to `night_to`, across midnight
    /// when `night_to` is the smaller.
    pub night_from: u32,
    pub night_to: u32,
    /// More than this many distinct clients ...
    pub burst_clients: u32,
    /// ... within this many seconds is a burst.
    pub burst_within: i64,
    /// A write or signature in the same client's record within this many days explains an
    /// access.
    pub documented_days: u32,
    /// A colleague's explained access to the same client within this many days explains an
    /// access (`team`).
    pub team_days: u32,
    /// Accesses to the client on at least this many separate days ...
    pub continuity_days: u32,
    /// ... within this many days before, the first of them explained, explain an access
    /// (`continuity`).
    pub continuity_within: u32,
    /// A judgement "justified" of the same user and client in a case closed within this many
    /// days before explains an access (`judged_before`).
    pub judged_days: u32,
}

impl Default for EvidenceRules {
    fn default() -> EvidenceRules {
        EvidenceRules {
            night_from: 22 * 60,
            night_to: 6 * 60,
            burst_clients: 20,
            burst_within: 3600,
            documented_days: 14,
            team_days: 7,
            continuity_days: 3,
            continuity_within: 60,
            judged_days: 365,
        }
    }
}

impl EvidenceRules {
    /// Whether a local time (minutes after midnight) is at night.
    pub(crate) fn is_night(&self, minute: u32) -> bool {
        if self.night_from <= self.night_to {
            self.night_from <= minute && minute < self.night_to
        } else {
            minute >= self.night_from || minute < self.night_to
        }
    }

    /// `22–06`, for what people read.
    pub(crate) fn night_sv(&self) -> String {
        let hm = |m: u32| {
            if m.is_multiple_of(60) {
                format!("{:02}", m / 60)
            } else {
                format!("{:02}:{:02}", m / 60, m % 60)
            }
        };
        format!("{}–{}", hm(self.night_from), hm(self.night_to))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each unit is sampled on its own (the default).
    Unit,
    /// The whole organisation is one population.
    Organisation,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleSize {
    /// This share of the population each round.
    Fraction(f64),
    /// The share each round that gives a user this chance of review within a year.
    YearlyChance(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every user has the same chance every round.
    Uniform,
    /// Users not yet reviewed this year are drawn first; everyone keeps a chance every round.
    Coverage,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Uniform => "uniform",
            Strategy::Coverage => "coverage",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlwaysInclude {
    pub users: IncludeRule,
    /// At most this often per user; every round when absent.
    pub every: Option<Period>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncludeRule {
    /// Users with access to several units.
    MultiUnit,
}

impl IncludeRule {
    pub fn as_str(self) -> &'static str {
        match self {
            IncludeRule::MultiUnit => "multi_unit",
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    /// Swedish, shown to people.
    pub title: String,
    pub guidance: Option<String>,
    /// A how-to for the step (the seeds' "lathund", "instruktion"): a web address, or a file
    /// beside the routine file (`guides/lathund.pdf`), shown as a link on the task page.
    pub guide: Option<Guide>,
    /// What the assignee must do; absent in final states.
    pub task: Option<Task>,
    /// Roles told, without a task, when a case enters this state.
    pub inform: Vec<Role>,
    /// The result category of a final state.
    pub result: Option<ResultCategory>,
    /// The mail templates of this state (the routine's unless the state overrides them).
    pub templates: TemplateNames,
}

/// Where a step's how-to is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guide {
    /// `https://…` or `http://…`.
    Url(String),
    /// A file, as written (relative to the routine file's folder).
    File(String),
}

impl State {
    pub fn is_final(&self) -> bool {
        self.result.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub assignee: Role,
    pub deadline: DayCount,
    pub reminders: Vec<Offset>,
    pub escalation: Option<Escalation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub to: Role,
    /// After the deadline.
    pub after: DayCount,
}

/// An edge of the graph: an answer to a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    /// Swedish button text.
    pub label: String,
    pub comment_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ResultCategory {
    NoFinding,
    Explained,
    LabourLawAction,
    PoliceReport,
    /// A confirmed intrusion documented in the personnel file without labour-law action.
    IntrusionDocumented,
    ExtractHandedOut,
    NotPursued,
    /// The person was told of log checks (an information case).
    Informed,
    /// A unit's accounts were reviewed, each kept or ended (an access-rights case).
    RightsReviewed,
}

impl ResultCategory {
    pub(crate) const ALL: [ResultCategory; 9] = [
        ResultCategory::NoFinding,
        ResultCategory::Explained,
        ResultCategory::LabourLawAction,
        ResultCategory::PoliceReport,
        ResultCategory::IntrusionDocumented,
        ResultCategory::ExtractHandedOut,
        ResultCategory::NotPursued,
        ResultCategory::Informed,
        ResultCategory::RightsReviewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResultCategory::NoFinding => "no_finding",
            ResultCategory::Explained => "explained",
            ResultCategory::LabourLawAction => "labour_law_action",
            ResultCategory::PoliceReport => "police_report",
            ResultCategory::IntrusionDocumented => "intrusion_documented",
            ResultCategory::ExtractHandedOut => "extract_handed_out",
            ResultCategory::NotPursued => "not_pursued",
            ResultCategory::Informed => "informed",
            ResultCategory::RightsReviewed => "rights_reviewed",
        }
    }

    pub fn parse(s: &str) -> Option<ResultCategory> {
        ResultCategory::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn title_sv(self) -> &'static str {
        match self {
            ResultCategory::NoFinding => "Ingen anmärkning",
            ResultCategory::Explained => "Förklarad åtkomst",
            ResultCategory::LabourLawAction => "Arbetsrättslig åtgärd",
            ResultCategory::PoliceReport => "Polisanmälan",
            ResultCategory::IntrusionDocumented => "Dataintrång dokumenterat i personalakt",
            ResultCategory::ExtractHandedOut => "Loggutdrag lämnat",
            ResultCategory::NotPursued => "Ej vidare utredning",
            ResultCategory::Informed => "Informerad",
            ResultCategory::RightsReviewed => "Behörigheter genomgångna",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub to: Role,
    /// Month and day, each year.
    pub due_month: u32,
    pub due_day: u32,
    /// Document template (`templates/documents/NAME.html`).
    pub template: String,
}

/// Template names by purpose. Mail templates live in `templates/mail/NAME.tera`, documents in
/// `templates/documents/NAME.html`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateNames {
    pub task: String,
    pub reminder: String,
    pub escalation: String,
    pub inform: String,
    pub summary_mail: String,
    pub protocol: String,
    pub extract_letter: String,
}

impl Default for TemplateNames {
    fn default() -> TemplateNames {
        TemplateNames {
            task: "task".into(),
            reminder: "reminder".into(),
            escalation: "escalation".into(),
            inform: "inform".into(),
            summary_mail: "summary".into(),
            protocol: "protocol".into(),
            extract_letter: "extract_letter".into(),
        }
    }
}

impl Routine {
    /// Years a closed case reviewing `systems` is kept: the longest rule among them (purging is
    /// a duty, so a Treserva case is not kept for NPÖ's 5 years); the routine's longest when
    /// none of them is the routine's.
    pub fn retention_for<S: AsRef<str>>(&self, systems: &[S]) -> u32 {
        systems
            .iter()
            .filter_map(|s| self.retention_by_system.get(s.as_ref()).copied())
            .max()
            .unwrap_or(self.retention_years)
    }

    pub fn state(&self, name: &str) -> Option<StateIx> {
        self.graph
            .node_indices()
            .find(|&ix| self.graph[ix].name == name)
    }

    pub fn start_state(&self) -> &State {
        &self.graph[self.start]
    }

    /// The outcomes a state offers, in the order written, with the state each leads to.
    pub fn outcomes(&self, state: StateIx) -> Vec<(&Outcome, StateIx)> {
        let mut edges: Vec<(EdgeIndex, &Outcome, StateIx)> = self
            .graph
            .edges(state)
            .map(|e| (e.id(), e.weight(), e.target()))
            .collect();
        edges.sort_by_key(|(id, _, _)| *id);
        edges.into_iter().map(|(_, o, t)| (o, t)).collect()
    }

    /// Where `outcome` leads from `state`, if the state offers it.
    pub fn next(&self, state: StateIx, outcome: &str) -> Option<(&Outcome, StateIx)> {
        self.outcomes(state)
            .into_iter()
            .find(|(o, _)| o.name == outcome)
    }

    pub fn states(&self) -> impl Iterator<Item = (StateIx, &State)> {
        self.graph
            .node_indices()
            .map(move |ix| (ix, &self.graph[ix]))
    }

    /// The first (for a sampling routine: the only) system.
    pub fn system(&self) -> &str {
        self.systems.first().map(String::as_str).unwrap_or("")
    }

    pub fn crontab(&self) -> Option<&Crontab> {
        match &self.trigger {
            Trigger::Schedule { crontab, .. } => Some(crontab),
            Trigger::OnDemand | Trigger::OnRoster => None,
        }
    }
}
