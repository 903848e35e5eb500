//! The parser: the YAML tree → [`RawRoutine`]. It checks shape only: which keys a mapping may
//! have (unknown keys get a did-you-mean), that no key appears twice, and that each value is text,
//! a list or a mapping as its key requires. Meaning is the analyser's job.

use super::diagnostic::Diagnostics;
use super::raw::*;
use super::source::{Span, Spanned};
use super::yaml::{Node, NodeKind};

pub(crate) const ROUTINE_KEYS: &[&str] = &[
    "id",
    "title",
    "kind",
    "system",
    "version",
    "legal_basis",
    "timezone",
    "reference_prefix",
    "names_withheld",
    "trigger",
    "sampling",
    "evidence",
    "defaults",
    "start",
    "states",
    "retention",
    "repeat",
    "summary",
    "templates",
];
const TRIGGER_KEYS: &[&str] = &["schedule", "catch_up"];
const SAMPLING_KEYS: &[&str] = &["population", "size", "strategy", "window", "always_include"];
const EVIDENCE_KEYS: &[&str] = &[
    "night",
    "burst",
    "documented_within",
    "team_within",
    "continuity",
    "judged_within",
];
const BURST_KEYS: &[&str] = &["clients", "within"];
const CONTINUITY_KEYS: &[&str] = &["days", "within"];
const POPULATION_KEYS: &[&str] = &["system", "per"];
const SIZE_KEYS: &[&str] = &["fraction", "yearly_chance", "min_per_unit"];
const WINDOW_KEYS: &[&str] = &["length", "look_back"];
const ALWAYS_KEYS: &[&str] = &["users", "every"];
const STEP_KEYS: &[&str] = &["assignee", "deadline", "reminders", "escalation", "inform"];
pub(crate) const STATE_KEYS: &[&str] = &[
    "title",
    "assignee",
    "deadline",
    "reminders",
    "escalation",
    "inform",
    "guidance",
    "guide",
    "outcomes",
    "result",
    "templates",
];
const ESCALATION_KEYS: &[&str] = &["to", "after"];
const OUTCOME_KEYS: &[&str] = &["label", "to", "comment"];
const SUMMARY_KEYS: &[&str] = &["to", "due", "template"];

/// The entries of a mapping, first occurrence of each key only, after the checks.
struct Map<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Map<'n> {
    fn get(&self, key: &str) -> Option<(&'n Node, &'n Node)> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, k, v)| (*k, *v))
    }

    fn value(&self, key: &str) -> Option<&'n Node> {
        self.get(key).map(|(_, v)| v)
    }
}

/// Reads `node` as a mapping whose keys are `allowed` (any key when `allowed` is empty).
/// `what` names the mapping in messages: "the routine", "state `review`".
fn map<'n>(
    d: &mut Diagnostics,
    node: &'n Node,
    what: &str,
    allowed: &[&'n str],
) -> Option<Map<'n>> {
    let entries = match &node.kind {
        NodeKind::Map(entries) => entries,
        _ if node.is_null() => return Some(Map { entries: vec![] }),
        _ => {
            d.error(
                "invalid-value",
                node.span,
                format!(
                    "{what} should be a mapping of `key: value` lines, not {}",
                    node.describe()
                ),
            );
            return None;
        }
    };
    let mut out: Vec<(&'n str, &'n Node, &'n Node)> = Vec::new();
    for (key, value) in entries {
        let NodeKind::Scalar { value: name, .. } = &key.kind else {
            d.error(
                "invalid-value",
                key.span,
                format!("a key in {what} must be a plain name"),
            );
            continue;
        };
        if let Some((_, first, _)) = out.iter().find(|(n, _, _)| *n == name.as_str()) {
            d.error(
                "duplicate-key",
                key.span,
                format!("duplicate key `{name}` in {what}"),
            )
            .help(format!(
                "`{name}` is first given on line {}; remove one of them",
                first.span.line
            ));
            continue;
        }
        if !allowed.is_empty() && !allowed.contains(&name.as_str()) {
            // A dedented outcome or state lands one level up: say where it seems to belong.
            let has = |wanted: &str| match &value.kind {
                NodeKind::Map(entries) => entries.iter().any(
                    |(k, _)| matches!(&k.kind, NodeKind::Scalar { value, .. } if value == wanted),
                ),
                _ => false,
            };
            let belongs = if allowed.contains(&"outcomes") && (has("to") || has("label")) {
                Some("outcomes")
            } else if allowed.contains(&"states") && (has("title") || has("result")) {
                Some("states")
            } else {
                None
            };
            let diag = d.error(
                "unknown-key",
                key.span,
                format!("unknown key `{name}` in {what}"),
            );
            if let Some(parent) = belongs {
                diag.help(format!(
                    "`{name}` seems to belong under `{parent}:`: indent it (and its lines) one step further"
                ));
                continue;
            }
            match crate::suggest::nearest(name, allowed.iter().copied()) {
                Some(meant) => {
                    diag.help(format!("did you mean `{meant}`?"));
                    // Read as the key it was meant to be (unless that is given too): one
                    // mistake, one error, not a second one for the key it left missing.
                    let given = |wanted: &str| {
                        entries.iter().any(|(k, _)| {
                            matches!(&k.kind, NodeKind::Scalar { value, .. } if value == wanted)
                        })
                    };
                    if !given(meant) {
                        out.push((meant, key, value));
                    }
                }
                None => {
                    diag.help(format!(
                        "the keys allowed here are {}",
                        allowed
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            };
            continue;
        }
        out.push((name.as_str(), key, value));
    }
    Some(Map { entries: out })
}

/// A scalar value as text. `key` names it in messages.
fn text(d: &mut Diagnostics, node: &Node, key: &str) -> Option<Text> {
    match &node.kind {
        NodeKind::Scalar { .. } if node.is_null() => {
            d.error("missing-value", node.span, format!("`{key}` has no value"));
            None
        }
        NodeKind::Scalar { value, .. } => Some(Spanned::new(value.clone(), node.span)),
        _ => {
            d.error(
                "invalid-value",
                node.span,
                format!("`{key}` should be text, not {}", node.describe()),
            );
            None
        }
    }
}

fn text_of(d: &mut Diagnostics, m: &Map, key: &str) -> Option<Text> {
    let (k, v) = m.get(key)?;
    if v.is_null() {
        d.error("missing-value", k.span, format!("`{key}` has no value"));
        return None;
    }
    text(d, v, key)
}

/// A list of scalars; a single scalar counts as a list of one, nothing as an empty list.
fn texts(d: &mut Diagnostics, node: &Node, key: &str) -> Vec<Text> {
    match &node.kind {
        NodeKind::Seq(items) => items.iter().filter_map(|item| text(d, item, key)).collect(),
        NodeKind::Scalar { .. } if node.is_null() => vec![],
        NodeKind::Scalar { .. } => text(d, node, key).into_iter().collect(),
        NodeKind::Map(_) => {
            d.error(
                "invalid-value",
                node.span,
                format!("`{key}` should be a list, not a mapping"),
            );
            vec![]
        }
    }
}

/// A mapping of names to names (`templates:`).
fn name_map(d: &mut Diagnostics, node: &Node, what: &str) -> Vec<(Text, Text)> {
    let Some(m) = map(d, node, what, &[]) else {
        return vec![];
    };
    m.entries
        .iter()
        .filter_map(|(name, key, value)| {
            let value = text(d, value, name)?;
            Some((Spanned::new(name.to_string(), key.span), value))
        })
        .collect()
}

/// Parses the YAML tree of one routine file.
pub(crate) fn parse(d: &mut Diagnostics, root: &Node) -> RawRoutine {
    let mut raw = RawRoutine::default();
    if !matches!(root.kind, NodeKind::Map(_)) {
        d.error(
            "invalid-value",
            root.span,
            format!(
                "a routine file should be a mapping of `key: value` lines, not {}",
                root.describe()
            ),
        )
        .help("start with `id: my-routine` on the first line");
        return raw;
    }
    let Some(m) = map(d, root, "the routine", ROUTINE_KEYS) else {
        return raw;
    };
    raw.id = text_of(d, &m, "id");
    raw.title = text_of(d, &m, "title");
    raw.kind = text_of(d, &m, "kind");
    if let Some((key, value)) = m.get("system") {
        raw.system_key = Some(key.span);
        raw.systems = texts(d, value, "system");
    }
    raw.version = text_of(d, &m, "version");
    raw.legal_basis = text_of(d, &m, "legal_basis");
    raw.timezone = text_of(d, &m, "timezone");
    raw.reference_prefix = text_of(d, &m, "reference_prefix");
    raw.names_withheld = text_of(d, &m, "names_withheld");
    raw.start = text_of(d, &m, "start");
    raw.repeat = text_of(d, &m, "repeat");
    match m.get("retention") {
        Some((key, value)) if matches!(value.kind, NodeKind::Map(_)) => {
            raw.retention_by_system = Some((key.span, name_map(d, value, "`retention`")));
        }
        _ => raw.retention = text_of(d, &m, "retention"),
    }
    if let Some((key, value)) = m.get("trigger") {
        raw.trigger = trigger(d, key.span, value);
    }
    if let Some((key, value)) = m.get("sampling") {
        raw.sampling = sampling(d, key.span, value);
    }
    if let Some(value) = m.value("evidence") {
        raw.evidence = evidence(d, value);
    }
    if let Some(value) = m.value("defaults")
        && let Some(dm) = map(d, value, "`defaults`", STEP_KEYS)
    {
        raw.defaults = step(d, &dm);
    }
    if let Some((key, value)) = m.get("states") {
        raw.states_key = Some(key.span);
        raw.states = states(d, value);
    }
    if let Some((key, value)) = m.get("summary") {
        raw.summary = summary(d, key.span, value);
    }
    if let Some((key, value)) = m.get("templates") {
        raw.templates_key = Some(key.span);
        raw.templates = name_map(d, value, "`templates`");
    }
    raw
}

fn trigger(d: &mut Diagnostics, key: Span, node: &Node) -> Option<RawTrigger> {
    if let NodeKind::Scalar { value, .. } = &node.kind
        && !node.is_null()
    {
        if value == "on_demand" {
            return Some(RawTrigger::OnDemand(node.span));
        }
        if value == "on_roster" {
            return Some(RawTrigger::OnRoster(node.span));
        }
        d.error(
            "invalid-value",
            node.span,
            format!(
                "`trigger` is `on_demand`, `on_roster` or a mapping with `schedule`, not `{value}`"
            ),
        )
        .help("write `trigger: on_demand`, or `trigger:` followed by `schedule: \"0 7 1 * *\"` on the next line, indented");
        return None;
    }
    let m = map(d, node, "`trigger`", TRIGGER_KEYS)?;
    Some(RawTrigger::Schedule {
        key,
        schedule: text_of(d, &m, "schedule"),
        catch_up: text_of(d, &m, "catch_up"),
    })
}

fn sampling(d: &mut Diagnostics, key: Span, node: &Node) -> Option<RawSampling> {
    let m = map(d, node, "`sampling`", SAMPLING_KEYS)?;
    let mut s = RawSampling {
        key,
        strategy: text_of(d, &m, "strategy"),
        ..RawSampling::default()
    };
    if let Some(value) = m.value("population")
        && let Some(p) = map(d, value, "`population`", POPULATION_KEYS)
    {
        s.population_system = text_of(d, &p, "system");
        s.population_per = text_of(d, &p, "per");
    }
    if let Some((k, value)) = m.get("size") {
        s.size_key = Some(k.span);
        if let Some(z) = map(d, value, "`size`", SIZE_KEYS) {
            s.fraction = text_of(d, &z, "fraction");
            s.yearly_chance = text_of(d, &z, "yearly_chance");
            s.min_per_unit = text_of(d, &z, "min_per_unit");
        }
    }
    if let Some((k, value)) = m.get("window") {
        s.window_key = Some(k.span);
        if let Some(w) = map(d, value, "`window`", WINDOW_KEYS) {
            s.window_length = text_of(d, &w, "length");
            s.look_back = text_of(d, &w, "look_back");
        }
    }
    if let Some(value) = m.value("always_include") {
        match &value.kind {
            NodeKind::Seq(items) => {
                for item in items {
                    if let Some(a) = map(d, item, "an `always_include` rule", ALWAYS_KEYS) {
                        s.always_include.push(RawAlwaysInclude {
                            span: item.span,
                            users: text_of(d, &a, "users"),
                            every: text_of(d, &a, "every"),
                        });
                    }
                }
            }
            _ if value.is_null() => {}
            _ => {
                d.error(
                    "invalid-value",
                    value.span,
                    format!(
                        "`always_include` should be a list of rules, not {}",
                        value.describe()
                    ),
                )
                .help("write `- users: multi_unit` on the next line, indented");
            }
        }
    }
    Some(s)
}

fn evidence(d: &mut Diagnostics, node: &Node) -> Option<RawEvidence> {
    let m = map(d, node, "`evidence`", EVIDENCE_KEYS)?;
    let mut e = RawEvidence {
        night: text_of(d, &m, "night"),
        documented_within: text_of(d, &m, "documented_within"),
        team_within: text_of(d, &m, "team_within"),
        judged_within: text_of(d, &m, "judged_within"),
        ..RawEvidence::default()
    };
    if let Some((_, value)) = m.get("continuity")
        && let Some(c) = map(d, value, "`continuity`", CONTINUITY_KEYS)
    {
        e.continuity_days = text_of(d, &c, "days");
        e.continuity_within = text_of(d, &c, "within");
    }
    if let Some((k, value)) = m.get("burst") {
        e.burst_key = Some(k.span);
        if let Some(b) = map(d, value, "`burst`", BURST_KEYS) {
            e.burst_clients = text_of(d, &b, "clients");
            e.burst_within = text_of(d, &b, "within");
        }
    }
    Some(e)
}

fn step(d: &mut Diagnostics, m: &Map) -> RawStep {
    RawStep {
        assignee: text_of(d, m, "assignee"),
        deadline: text_of(d, m, "deadline"),
        reminders: m.value("reminders").map(|v| texts(d, v, "reminders")),
        escalation: m
            .get("escalation")
            .and_then(|(k, v)| escalation(d, k.span, v)),
        inform: m.value("inform").map(|v| texts(d, v, "inform")),
    }
}

fn escalation(d: &mut Diagnostics, key: Span, node: &Node) -> Option<RawEscalation> {
    if let NodeKind::Scalar { .. } = node.kind {
        return Some(RawEscalation {
            key,
            to: text(d, node, "escalation"),
            after: None,
        });
    }
    let m = map(d, node, "`escalation`", ESCALATION_KEYS)?;
    Some(RawEscalation {
        key,
        to: text_of(d, &m, "to"),
        after: text_of(d, &m, "after"),
    })
}

fn states(d: &mut Diagnostics, node: &Node) -> Vec<RawState> {
    let Some(m) = map(d, node, "`states`", &[]) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (name, key, value) in &m.entries {
        let what = format!("state `{name}`");
        let Some(s) = map(d, value, &what, STATE_KEYS) else {
            continue;
        };
        let mut state = RawState {
            name: Spanned::new(name.to_string(), key.span),
            title: text_of(d, &s, "title"),
            step: step(d, &s),
            guidance: text_of(d, &s, "guidance"),
            guide: text_of(d, &s, "guide"),
            outcomes_key: None,
            outcomes: vec![],
            result: text_of(d, &s, "result"),
            templates: vec![],
        };
        if let Some((k, v)) = s.get("outcomes") {
            state.outcomes_key = Some(k.span);
            state.outcomes = outcomes(d, v, name);
        }
        if let Some(v) = s.value("templates") {
            state.templates = name_map(d, v, &format!("the `templates` of {what}"));
        }
        out.push(state);
    }
    out
}

fn outcomes(d: &mut Diagnostics, node: &Node, state: &str) -> Vec<RawOutcome> {
    let Some(m) = map(d, node, &format!("the outcomes of state `{state}`"), &[]) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (name, key, value) in &m.entries {
        let Some(o) = map(d, value, &format!("outcome `{name}`"), OUTCOME_KEYS) else {
            continue;
        };
        out.push(RawOutcome {
            name: Spanned::new(name.to_string(), key.span),
            label: text_of(d, &o, "label"),
            to: text_of(d, &o, "to"),
            comment: text_of(d, &o, "comment"),
        });
    }
    out
}

fn summary(d: &mut Diagnostics, key: Span, node: &Node) -> Option<RawSummary> {
    let m = map(d, node, "`summary`", SUMMARY_KEYS)?;
    Some(RawSummary {
        key,
        to: text_of(d, &m, "to"),
        due: text_of(d, &m, "due"),
        template: text_of(d, &m, "template"),
    })
}
