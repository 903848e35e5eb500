//! `RawRoutine`: a routine as written. Every field is optional and keeps its [`Span`]; nothing is
//! interpreted yet. The parser fills it from the YAML tree, the analyser turns it into a
//! [`Routine`](super::model::Routine) or into diagnostics.

use super::source::{Span, Spanned};

pub(crate) type Text = Spanned<String>;

#[derive(Debug, Clone, Default)]
pub(crate) struct RawRoutine {
    pub id: Option<Text>,
    pub title: Option<Text>,
    pub kind: Option<Text>,
    /// One system, or a list for an on-demand routine that serves several.
    pub systems: Vec<Text>,
    pub system_key: Option<Span>,
    pub version: Option<Text>,
    pub legal_basis: Option<Text>,
    pub timezone: Option<Text>,
    pub reference_prefix: Option<Text>,
    /// An extract routine's reason for leaving the readers' names out of the letter.
    pub names_withheld: Option<Text>,
    pub trigger: Option<RawTrigger>,
    pub sampling: Option<RawSampling>,
    pub evidence: Option<RawEvidence>,
    pub defaults: RawStep,
    pub start: Option<Text>,
    /// The span of the `states` key, when present.
    pub states_key: Option<Span>,
    pub states: Vec<RawState>,
    /// `repeat: 1 year` (information routines): inform again this long after the last time.
    pub repeat: Option<Text>,
    /// `retention: 5 years`: one period for every system.
    pub retention: Option<Text>,
    /// `retention: {npo: 5 years, treserva: 2 years}`: a period per system; the key's span.
    pub retention_by_system: Option<(Span, Vec<(Text, Text)>)>,
    pub summary: Option<RawSummary>,
    pub templates: Vec<(Text, Text)>,
    /// The span of the `templates` key, when present.
    pub templates_key: Option<Span>,
}

#[derive(Debug, Clone)]
pub(crate) enum RawTrigger {
    Schedule {
        key: Span,
        schedule: Option<Text>,
        catch_up: Option<Text>,
    },
    OnDemand(Span),
    OnRoster(Span),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RawSampling {
    pub key: Span,
    pub population_system: Option<Text>,
    pub population_per: Option<Text>,
    pub size_key: Option<Span>,
    pub fraction: Option<Text>,
    pub yearly_chance: Option<Text>,
    pub min_per_unit: Option<Text>,
    pub strategy: Option<Text>,
    pub window_key: Option<Span>,
    pub window_length: Option<Text>,
    pub look_back: Option<Text>,
    pub always_include: Vec<RawAlwaysInclude>,
}

/// The thresholds of the review's flags and explanations.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawEvidence {
    pub night: Option<Text>,
    pub burst_key: Option<Span>,
    pub burst_clients: Option<Text>,
    pub burst_within: Option<Text>,
    pub documented_within: Option<Text>,
    pub team_within: Option<Text>,
    pub continuity_days: Option<Text>,
    pub continuity_within: Option<Text>,
    pub judged_within: Option<Text>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawAlwaysInclude {
    pub span: Span,
    pub users: Option<Text>,
    pub every: Option<Text>,
}

/// The fields of a step that `defaults` may also set.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawStep {
    pub assignee: Option<Text>,
    pub deadline: Option<Text>,
    pub reminders: Option<Vec<Text>>,
    pub escalation: Option<RawEscalation>,
    pub inform: Option<Vec<Text>>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawEscalation {
    pub key: Span,
    pub to: Option<Text>,
    pub after: Option<Text>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawState {
    pub name: Text,
    pub title: Option<Text>,
    pub step: RawStep,
    pub guidance: Option<Text>,
    /// A how-to: a URL, or a file beside the routines.
    pub guide: Option<Text>,
    pub outcomes_key: Option<Span>,
    pub outcomes: Vec<RawOutcome>,
    pub result: Option<Text>,
    pub templates: Vec<(Text, Text)>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawOutcome {
    pub name: Text,
    pub label: Option<Text>,
    pub to: Option<Text>,
    pub comment: Option<Text>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawSummary {
    pub key: Span,
    pub to: Option<Text>,
    pub due: Option<Text>,
    pub template: Option<Text>,
}
