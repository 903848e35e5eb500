//! The analyser: [`RawRoutine`] → [`Routine`]. It resolves every name (states, roles, templates,
//! result categories), reads every value (schedules, deadlines, fractions, retention), builds the
//! petgraph state graph and checks its shape. It never stops at the first problem: every problem
//! becomes a diagnostic, and a `Routine` comes out only when there were no errors.

use super::chance;
use super::diagnostic::{Diagnostics, did_you_mean};
use super::duration::{DayCount, Offset, Period, Unit};
use super::model::*;
use super::raw::*;
use super::source::Span;
use crate::roster::Role;
use crate::schedule::Crontab;
use crate::templates::{Library, Purpose};
use chrono_tz::Tz;
use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use petgraph::visit::{Bfs, Reversed};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Systems whose record-keeping rules loggkoll knows: the minimum retention of review protocols,
/// in years, and where the rule comes from.
pub(crate) const KNOWN_SYSTEMS: &[(&str, u32, &str)] = &[
    (
        "npo",
        5,
        "the NPÖ routine keeps review protocols for 5 years (\"sparas hos verksamheten i 5 år\")",
    ),
    (
        "treserva",
        2,
        "the Treserva routine keeps review protocols for 2 years (\"förvaras på enheten i två år\")",
    ),
];

/// Below this chance of review within a year a sampling routine gets a warning.
pub(crate) const CHANCE_FLOOR: f64 = 0.90;

/// What the analyser may consult outside the routine file.
#[derive(Default)]
pub struct Context<'a> {
    /// The template library; without one, template names are not checked.
    pub templates: Option<&'a Library>,
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a share: `10 %`, `10%` or `0.1`. Returns the fraction, or a message.
fn share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let value: f64 = number
        .replace(',', ".")
        .parse()
        .map_err(|_| format!("`{t}` is not a number or a percentage"))?;
    if !value.is_finite() {
        return Err(format!("`{t}` is not a number or a percentage"));
    }
    Ok(value / scale)
}

/// Analyses one parsed routine. `source_text` is the file's text, hashed into the version key.
pub(crate) fn analyze(
    d: &mut Diagnostics,
    raw: &RawRoutine,
    source_text: &str,
    ctx: &Context,
) -> Option<Routine> {
    let mut a = Analyzer { d, ctx };
    a.routine(raw, source_text)
}

struct Analyzer<'d, 's, 'c> {
    d: &'d mut Diagnostics<'s>,
    ctx: &'c Context<'c>,
}

impl Analyzer<'_, '_, '_> {
    fn missing(&mut self, at: Span, key: &str, what: &str) {
        self.d
            .error("missing-key", at, format!("{what} has no `{key}`"));
    }

    fn required<'r>(
        &mut self,
        value: &'r Option<Text>,
        at: Span,
        key: &str,
        what: &str,
    ) -> Option<&'r Text> {
        if value.is_none() {
            self.missing(at, key, what);
        }
        value.as_ref()
    }

    fn role(&mut self, text: &Text) -> Option<Role> {
        match text.value.parse::<Role>() {
            Ok(role) => Some(role),
            Err(_) => {
                // The Swedish titles are names too: `enhetchef` means `enhetschef`.
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                let titles: Vec<&str> = Role::ALL.iter().map(|r| r.title()).collect();
                let lower = text.value.to_lowercase();
                let help = did_you_mean(&lower, names.iter().chain(&titles).copied())
                    .unwrap_or_else(|| {
                        format!(
                            "the roles are {} (or in Swedish: {})",
                            list(&names),
                            list(&titles)
                        )
                    });
                self.d
                    .error(
                        "unknown-role",
                        text.span,
                        format!("unknown role `{}`", text.value),
                    )
                    .help(help);
                None
            }
        }
    }

    fn choice<T: Copy>(&mut self, text: &Text, what: &str, options: &[(&str, T)]) -> Option<T> {
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == text.value) {
            return Some(*v);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let help = did_you_mean(&text.value, names.iter().copied())
            .unwrap_or_else(|| format!("write one of {}", list(&names)));
        self.d
            .error(
                "invalid-value",
                text.span,
                format!("unknown {what} `{}`", text.value),
            )
            .help(help);
        None
    }

    fn routine(&mut self, raw: &RawRoutine, source_text: &str) -> Option<Routine> {
        let top = Span::new(1, 1, 0);
        let what = "the routine";

        let id = self.required(&raw.id, top, "id", what).and_then(|id| {
            if is_identifier(&id.value) {
                Some(id.value.clone())
            } else {
                self.d
                    .error("invalid-value", id.span, format!("routine id `{}` is not a plain name", id.value))
                    .help("use lowercase letters, digits and `-`, starting with a letter, e.g. `treserva-sampling`");
                None
            }
        });
        let title = self
            .required(&raw.title, top, "title", what)
            .map(|t| t.value.clone());
        let version = self
            .required(&raw.version, top, "version", what)
            .map(|t| t.value.clone());
        let legal_basis = self
            .required(&raw.legal_basis, top, "legal_basis", what)
            .map(|t| t.value.trim().to_string());
        let kind = self.required(&raw.kind, top, "kind", what).and_then(|k| {
            let options = [
                ("sampling", CaseKind::Sampling),
                ("targeted", CaseKind::Targeted),
                ("extract", CaseKind::Extract),
                ("information", CaseKind::Information),
                ("access_rights", CaseKind::AccessRights),
            ];
            self.choice(k, "routine kind", &options)
        });
        let systems = self.systems(raw, kind, top);
        let system = systems.as_ref().and_then(|s| s.first().cloned());
        let timezone = self.timezone(raw);
        let reference_prefix = self.reference_prefix(raw);
        let names_withheld = self.names_withheld(raw, kind);
        let trigger = self.trigger(raw, kind, top);
        let sampling = self.sampling(raw, kind, system.as_deref());
        let evidence = self.evidence(raw);
        let templates = self.templates(&raw.templates, TemplateNames::default(), "the routine");
        let (graph, start) = self.states(raw, &templates)?;
        let retention = self.retention(raw, systems.as_deref().unwrap_or_default(), top);
        let repeat = self.repeat(raw, kind);
        let summary = self.summary(raw);

        if let (Some(sampling), Some(Trigger::Schedule { crontab, .. }), Some(tz)) =
            (&sampling, &trigger, timezone)
        {
            self.chance(raw, sampling, crontab, tz);
        }
        if let Some(kind) = kind {
            self.check_templates(raw, kind, &graph, &templates, summary.as_ref());
        }

        if self.d.has_errors() {
            return None;
        }
        let (id, title, version, legal_basis, kind, systems, system, timezone, trigger, retention) = (
            id?,
            title?,
            version?,
            legal_basis?,
            kind?,
            systems?,
            system?,
            timezone?,
            trigger?,
            retention?,
        );
        let reference_prefix = reference_prefix.unwrap_or_else(|| default_prefix(kind, &system));
        Some(Routine {
            id,
            title,
            kind,
            systems,
            version,
            legal_basis,
            timezone,
            reference_prefix,
            names_withheld,
            trigger,
            sampling,
            evidence,
            start,
            graph,
            repeat,
            retention_years: retention.values().copied().max().unwrap_or(1),
            retention_by_system: retention
                .into_iter()
                .filter(|(system, _)| !system.is_empty())
                .collect(),
            summary,
            templates,
            path: self.d.source().path.clone(),
            source: source_text.to_string(),
            hash: hex::encode(Sha256::digest(source_text.as_bytes())),
        })
    }

    /// The routine's time zone: `timezone`, else Stockholm's.
    fn timezone(&mut self, raw: &RawRoutine) -> Option<Tz> {
        match &raw.timezone {
            None => Some(chrono_tz::Europe::Stockholm),
            Some(t) => match t.value.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!("unknown time zone `{}`", t.value),
                        )
                        .help("use an IANA time zone name such as `Europe/Stockholm`");
                    None
                }
            },
        }
    }

    /// The routine's `reference_prefix` when given (checked: 2–6 capital letters or digits).
    fn reference_prefix(&mut self, raw: &RawRoutine) -> Option<String> {
        match &raw.reference_prefix {
            Some(p) => {
                let ok = (2..=6).contains(&p.value.len())
                    && p.value
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if !ok {
                    self.d
                        .error(
                            "invalid-value",
                            p.span,
                            format!(
                                "reference prefix `{}` should be 2–6 capital letters or digits",
                                p.value
                            ),
                        )
                        .help("case references read `PREFIX-2027-0042`, e.g. `TRE`");
                }
                Some(p.value.clone())
            }
            None => None,
        }
    }

    /// Why an extract routine's letter leaves out who read the record (`names_withheld`),
    /// checked against the routine's `kind`.
    fn names_withheld(&mut self, raw: &RawRoutine, kind: Option<CaseKind>) -> Option<String> {
        match &raw.names_withheld {
            Some(why) if kind.is_some_and(|k| k != CaseKind::Extract) => {
                self.d
                    .error(
                        "kind-mismatch",
                        why.span,
                        "`names_withheld` belongs to an extract routine (`kind: extract`): only its letter names who read the record",
                    )
                    .help("remove the key");
                None
            }
            Some(why) if why.value.trim().is_empty() => {
                self.d
                    .error(
                        "invalid-value",
                        why.span,
                        "`names_withheld` says why the letter leaves out who read the record",
                    )
                    .help("write the reason the client reads, e.g. `Enligt nämndens beslut 2027-01-15 lämnas namn ut på begäran.`");
                None
            }
            Some(why) => Some(why.value.trim().to_string()),
            None => None,
        }
    }

    fn systems(
        &mut self,
        raw: &RawRoutine,
        kind: Option<CaseKind>,
        top: Span,
    ) -> Option<Vec<String>> {
        if raw.systems.is_empty() {
            let at = raw.system_key.unwrap_or(top);
            self.d
                .error("missing-key", at, "the routine has no `system`")
                .help("name the record system whose logs it reviews, e.g. `system: treserva`");
            return None;
        }
        if kind == Some(CaseKind::Sampling) && raw.systems.len() > 1 {
            self.d
                .error(
                    "invalid-value",
                    raw.systems[1].span,
                    "a sampling routine draws from one system",
                )
                .help("write one routine per system");
            return None;
        }
        let mut out = Vec::new();
        for system in &raw.systems {
            if !is_identifier(&system.value) {
                self.d
                    .error(
                        "invalid-value",
                        system.span,
                        format!("system `{}` is not a plain name", system.value),
                    )
                    .help("write the system as in the roster's accounts, e.g. `npo` or `treserva`");
                continue;
            }
            if out.contains(&system.value) {
                self.d.error(
                    "invalid-value",
                    system.span,
                    format!("system `{}` is named twice", system.value),
                );
                continue;
            }
            if !KNOWN_SYSTEMS
                .iter()
                .any(|(name, _, _)| *name == system.value)
            {
                let diag = self.d.warning(
                    "unknown-system",
                    system.span,
                    format!(
                        "system `{}` has no retention rule known to loggkoll",
                        system.value
                    ),
                );
                match did_you_mean(&system.value, KNOWN_SYSTEMS.iter().map(|(n, _, _)| *n)) {
                    Some(help) => diag.help(help),
                    None => diag.help("make sure `retention` meets the rules for this system"),
                };
            }
            out.push(system.value.clone());
        }
        (out.len() == raw.systems.len()).then_some(out)
    }

    fn trigger(&mut self, raw: &RawRoutine, kind: Option<CaseKind>, top: Span) -> Option<Trigger> {
        let Some(trigger) = &raw.trigger else {
            self.missing(top, "trigger", "the routine");
            return None;
        };
        match trigger {
            RawTrigger::OnRoster(span) => {
                if kind != Some(CaseKind::Information) && kind.is_some() {
                    self.d
                        .error(
                            "kind-mismatch",
                            *span,
                            "only an information routine starts when someone enters the roster",
                        )
                        .help("write `kind: information`, or another trigger");
                    return None;
                }
                Some(Trigger::OnRoster)
            }
            RawTrigger::OnDemand(span) if kind == Some(CaseKind::AccessRights) => {
                self.d
                    .error(
                        "kind-mismatch",
                        *span,
                        "an access-rights review runs on a schedule, at least once a year",
                    )
                    .help(
                        "give `trigger:` a `schedule:`, e.g. `\"0 7 1 3 *\"` for 1 March each year",
                    );
                None
            }
            RawTrigger::OnDemand(span) if kind == Some(CaseKind::Information) => {
                self.d
                    .error(
                        "kind-mismatch",
                        *span,
                        "an information routine starts when someone gets an account, not on demand",
                    )
                    .help("write `trigger: on_roster`");
                None
            }
            RawTrigger::OnDemand(span) => {
                if kind == Some(CaseKind::Sampling) {
                    self.d
                        .error(
                            "kind-mismatch",
                            *span,
                            "a sampling routine runs on a schedule, not on demand",
                        )
                        .help(
                            "give `trigger:` a `schedule:` in crontab form, e.g. `\"0 7 1 * *\"`",
                        );
                    return None;
                }
                Some(Trigger::OnDemand)
            }
            RawTrigger::Schedule {
                key,
                schedule,
                catch_up,
            } => {
                if matches!(kind, Some(CaseKind::Targeted | CaseKind::Extract)) {
                    self.d
                        .error(
                            "kind-mismatch",
                            *key,
                            format!(
                                "a {} routine starts on demand, not on a schedule",
                                kind.map(CaseKind::as_str).unwrap_or("")
                            ),
                        )
                        .help("write `trigger: on_demand`");
                    return None;
                }
                if kind == Some(CaseKind::Information) {
                    self.d
                        .error(
                            "kind-mismatch",
                            *key,
                            "an information routine starts when someone gets an account, not on a schedule",
                        )
                        .help("write `trigger: on_roster`");
                    return None;
                }
                let schedule = self.required(schedule, *key, "schedule", "`trigger`")?;
                let catch_up = match catch_up {
                    None => Some(CatchUp::Latest),
                    Some(c) => self.choice(
                        c,
                        "catch-up policy",
                        &[
                            ("latest", CatchUp::Latest),
                            ("all", CatchUp::All),
                            ("skip", CatchUp::Skip),
                        ],
                    ),
                };
                let crontab = match Crontab::parse(&schedule.value) {
                    Ok(c) => Some(c),
                    Err(err) => {
                        let quoted = {
                            let line = self.d.source().line(schedule.span.line);
                            matches!(line.chars().nth(schedule.span.col - 1), Some('"' | '\''))
                        };
                        let before: usize = schedule
                            .value
                            .get(..err.offset)
                            .map(|s| s.chars().count())
                            .unwrap_or(0);
                        let len = schedule
                            .value
                            .get(err.offset..err.offset + err.len)
                            .map(|s| s.chars().count())
                            .unwrap_or(1)
                            .max(1);
                        let at = Span::new(
                            schedule.span.line,
                            schedule.span.col + usize::from(quoted) + before,
                            len,
                        );
                        let diag = self.d.error(
                            "invalid-cron",
                            at,
                            format!("invalid schedule: {}", err.message),
                        );
                        diag.help(err.help.clone().unwrap_or_else(|| {
                            "write standard crontab: minute hour day-of-month month day-of-week, e.g. `0 7 1 * *` for 07:00 on the 1st of every month".into()
                        }));
                        None
                    }
                };
                Some(Trigger::Schedule {
                    crontab: crontab?,
                    catch_up: catch_up?,
                })
            }
        }
    }

    fn sampling(
        &mut self,
        raw: &RawRoutine,
        kind: Option<CaseKind>,
        system: Option<&str>,
    ) -> Option<Sampling> {
        let Some(s) = &raw.sampling else {
            if kind == Some(CaseKind::Sampling) {
                self.missing(Span::new(1, 1, 0), "sampling", "a sampling routine");
            }
            return None;
        };
        if matches!(
            kind,
            Some(
                CaseKind::Targeted
                    | CaseKind::Extract
                    | CaseKind::Information
                    | CaseKind::AccessRights
            )
        ) {
            self.d
                .error(
                    "kind-mismatch",
                    s.key,
                    "only a sampling routine draws a sample",
                )
                .help("remove `sampling`, or make the routine `kind: sampling`");
            return None;
        }
        let population_system = match &s.population_system {
            Some(t) if is_identifier(&t.value) => Some(t.value.clone()),
            Some(t) => {
                self.d.error(
                    "invalid-value",
                    t.span,
                    format!("system `{}` is not a plain name", t.value),
                );
                None
            }
            None => system.map(str::to_string),
        };
        let per = match &s.population_per {
            None => Some(Scope::Unit),
            Some(t) => self.choice(
                t,
                "population scope",
                &[("unit", Scope::Unit), ("organisation", Scope::Organisation)],
            ),
        };
        let strategy = match &s.strategy {
            None => Some(Strategy::Uniform),
            Some(t) => self.choice(
                t,
                "strategy",
                &[
                    ("uniform", Strategy::Uniform),
                    ("coverage", Strategy::Coverage),
                ],
            ),
        };
        let size = self.sample_size(s);
        let min_per_unit = match &s.min_per_unit {
            None => Some(1),
            Some(t) => match t.value.trim().parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.d.error(
                        "invalid-value",
                        t.span,
                        format!("`min_per_unit` must be a whole number, not `{}`", t.value),
                    );
                    None
                }
            },
        };
        let (window_hours, look_back) = self.review_window(s);
        let always_include = self.always_include(s);
        Some(Sampling {
            system: population_system?,
            per: per?,
            size: size?,
            min_per_unit: min_per_unit?,
            strategy: strategy?,
            window_hours: window_hours?,
            look_back: look_back?,
            always_include,
        })
    }

    /// How many a sampling routine draws: its `fraction` or its `yearly_chance`.
    fn sample_size(&mut self, s: &RawSampling) -> Option<SampleSize> {
        let size_at = s.size_key.unwrap_or(s.key);
        let read_share = |this: &mut Self, t: &Text, key: &str| match share(&t.value) {
            Ok(v) if v > 0.0 && v <= 1.0 => Some(v),
            Ok(_) => {
                this.d
                    .error(
                        "fraction-out-of-range",
                        t.span,
                        format!(
                            "`{key}` must lie in (0, 1], above 0 % and at most 100 %; found `{}`",
                            t.value
                        ),
                    )
                    .help("write e.g. `10 %` or `0.1`");
                None
            }
            Err(message) => {
                this.d
                    .error("invalid-value", t.span, message)
                    .help("write e.g. `10 %` or `0.1`");
                None
            }
        };
        match (&s.fraction, &s.yearly_chance) {
            (Some(f), None) => read_share(self, f, "fraction").map(SampleSize::Fraction),
            (None, Some(c)) => read_share(self, c, "yearly_chance").map(SampleSize::YearlyChance),
            (Some(_), Some(c)) => {
                self.d
                    .error("invalid-value", c.span, "give `fraction` or `yearly_chance`, not both")
                    .help("`fraction` is the share drawn each round; `yearly_chance` lets loggkoll work it out");
                None
            }
            (None, None) => {
                self.d
                    .error(
                        "missing-key",
                        size_at,
                        "`size` has no `fraction` or `yearly_chance`",
                    )
                    .help("write e.g. `fraction: 10 %`");
                None
            }
        }
    }

    /// The review window's length in hours and the look-back period it is drawn in, each
    /// checked, and the window checked to fit in the period.
    fn review_window(&mut self, s: &RawSampling) -> (Option<u32>, Option<Period>) {
        let window_at = s.window_key.unwrap_or(s.key);
        let window_hours = match &s.window_length {
            None => Some(24),
            Some(t) => match Period::parse(&t.value) {
                Ok(Period {
                    amount,
                    unit: Unit::Hours,
                }) if amount > 0 => Some(amount),
                Ok(Period {
                    amount,
                    unit: Unit::Days,
                }) if amount > 0 => Some(amount.saturating_mul(24)),
                Ok(_) => {
                    self.d
                        .error("invalid-value", t.span, format!("the review window must be a number of hours or days above 0, not `{}`", t.value))
                        .help("write `length: 24 hours`");
                    None
                }
                Err(message) => {
                    self.d.error("invalid-value", t.span, message);
                    None
                }
            },
        };
        let look_back = match &s.look_back {
            None => Some(Period {
                amount: 1,
                unit: Unit::Months,
            }),
            Some(t) => match Period::parse(&t.value) {
                Ok(p) if p.unit != Unit::WorkingDays && p.amount > 0 => Some(p),
                Ok(_) => {
                    self.d
                        .error("invalid-value", t.span, format!("`look_back` must be hours, days, weeks, months or years above 0, not `{}`", t.value))
                        .help("write e.g. `look_back: 30 days`");
                    None
                }
                Err(message) => {
                    self.d.error("invalid-value", t.span, message);
                    None
                }
            },
        };
        if let (Some(hours), Some(back), Some(t)) = (window_hours, look_back, &s.look_back)
            && approx_hours(back) < u64::from(hours)
        {
            self.d
                .error(
                    "invalid-value",
                    t.span,
                    format!(
                        "the look-back period `{}` is shorter than the {hours}-hour review window",
                        t.value
                    ),
                )
                .help(
                    "the window is drawn inside the look-back period, so make it at least as long",
                );
        }
        let _ = window_at;
        (window_hours, look_back)
    }

    /// The `always_include` rules of a sampling routine that read without errors.
    fn always_include(&mut self, s: &RawSampling) -> Vec<AlwaysInclude> {
        let mut always_include = Vec::new();
        for rule in &s.always_include {
            let Some(users) =
                self.required(&rule.users, rule.span, "users", "an `always_include` rule")
            else {
                continue;
            };
            let users = self.choice(
                users,
                "user group",
                &[("multi_unit", IncludeRule::MultiUnit)],
            );
            let every = match &rule.every {
                None => None,
                Some(t) => match Period::parse(&t.value) {
                    Ok(p)
                        if matches!(
                            p.unit,
                            Unit::Days | Unit::Weeks | Unit::Months | Unit::Years
                        ) && p.amount > 0 =>
                    {
                        Some(p)
                    }
                    Ok(_) => {
                        self.d
                            .error("invalid-value", t.span, format!("`every` must be days, weeks, months or years above 0, not `{}`", t.value))
                            .help("write e.g. `every: 3 months`");
                        continue;
                    }
                    Err(message) => {
                        self.d.error("invalid-value", t.span, message);
                        continue;
                    }
                },
            };
            if let Some(users) = users {
                always_include.push(AlwaysInclude { users, every });
            }
        }
        always_include
    }

    fn chance(&mut self, raw: &RawRoutine, sampling: &Sampling, crontab: &Crontab, tz: Tz) {
        let rounds = chance::rounds_per_year(crontab, tz);
        let p = chance::yearly_chance(sampling, rounds);
        if p >= CHANCE_FLOOR {
            return;
        }
        let at = raw
            .sampling
            .as_ref()
            .and_then(|s| {
                s.fraction
                    .as_ref()
                    .or(s.yearly_chance.as_ref())
                    .map(|t| t.span)
                    .or(s.size_key)
            })
            .unwrap_or(Span::new(1, 1, 0));
        let f = chance::fraction_per_round(sampling, rounds);
        let needed = chance::uniform_fraction_for(CHANCE_FLOOR, rounds);
        let help = if rounds == 0 {
            "the schedule gives no round in a year".to_string()
        } else {
            format!(
                "use `strategy: coverage`, which reaches everyone within the year, or raise the fraction to {} for {}",
                chance::percent(needed),
                chance::percent(CHANCE_FLOOR)
            )
        };
        self.d
            .warning(
                "low-review-chance",
                at,
                format!(
                    "a user has a {} chance of being reviewed within a year ({} of users in each of {rounds} rounds, drawn uniformly); the floor is {}",
                    chance::percent(p),
                    chance::percent(f),
                    chance::percent(CHANCE_FLOOR)
                ),
            )
            .help(help);
    }

    fn templates(
        &mut self,
        entries: &[(Text, Text)],
        base: TemplateNames,
        what: &str,
    ) -> TemplateNames {
        let mut names = base;
        let keys = [
            "task",
            "reminder",
            "escalation",
            "inform",
            "summary_mail",
            "protocol",
            "extract_letter",
        ];
        for (key, value) in entries {
            let slot = match key.value.as_str() {
                "task" => &mut names.task,
                "reminder" => &mut names.reminder,
                "escalation" => &mut names.escalation,
                "inform" => &mut names.inform,
                "summary_mail" => &mut names.summary_mail,
                "protocol" => &mut names.protocol,
                "extract_letter" => &mut names.extract_letter,
                other => {
                    let diag = self.d.error(
                        "unknown-key",
                        key.span,
                        format!("unknown template purpose `{other}` in the templates of {what}"),
                    );
                    match did_you_mean(other, keys) {
                        Some(help) => diag.help(help),
                        None => diag.help(format!("the purposes are {}", list(keys))),
                    };
                    continue;
                }
            };
            *slot = value.value.clone();
        }
        names
    }

    fn states(
        &mut self,
        raw: &RawRoutine,
        templates: &TemplateNames,
    ) -> Option<(DiGraph<State, Outcome>, StateIx)> {
        let Some(states_key) = raw.states_key else {
            self.missing(Span::new(1, 1, 0), "states", "the routine");
            return None;
        };
        if raw.states.is_empty() {
            self.d
                .error("missing-value", states_key, "the routine has no states")
                .help("a routine needs at least a start state and a final state");
            return None;
        }
        let mut graph: DiGraph<State, Outcome> = DiGraph::new();
        let mut index: HashMap<&str, StateIx> = HashMap::new();
        for s in &raw.states {
            let state = self.state(s, raw, templates);
            let ix = graph.add_node(state);
            index.insert(s.name.value.as_str(), ix);
        }
        let names: Vec<&str> = raw.states.iter().map(|s| s.name.value.as_str()).collect();
        self.add_outcomes(raw, &mut graph, &index, &names);
        let start = self.start_state(raw, &index, &names)?;
        if graph[start].is_final() {
            let span = raw.start.as_ref().map(|s| s.span).unwrap_or_default();
            self.d.error(
                "final-start",
                span,
                format!(
                    "the start state `{}` is final, so a case would end before it begins",
                    graph[start].name
                ),
            );
        }
        self.graph_shape(raw, &graph, start);
        Some((graph, start))
    }

    /// The state `s` of the routine `raw`: its title, result, task, who is informed and its
    /// templates (`templates` are the routine's).
    fn state(&mut self, s: &RawState, raw: &RawRoutine, templates: &TemplateNames) -> State {
        let title = self
            .required(
                &s.title,
                s.name.span,
                "title",
                &format!("state `{}`", s.name.value),
            )
            .map(|t| t.value.clone());
        let result = s.result.as_ref().and_then(|r| {
            let options: Vec<(&str, ResultCategory)> = ResultCategory::ALL
                .iter()
                .map(|c| (c.as_str(), *c))
                .collect();
            self.choice(r, "result category", &options)
        });
        let is_final = s.result.is_some();
        let task = if is_final { None } else { self.task(s, raw) };
        let inform: Vec<Role> = s
            .step
            .inform
            .as_ref()
            .or(if is_final {
                None
            } else {
                raw.defaults.inform.as_ref()
            })
            .map(|roles| roles.iter().filter_map(|r| self.role(r)).collect())
            .unwrap_or_default();
        let state_templates = self.templates(
            &s.templates,
            templates.clone(),
            &format!("state `{}`", s.name.value),
        );
        State {
            name: s.name.value.clone(),
            title: title.unwrap_or_default(),
            guidance: s.guidance.as_ref().map(|g| g.value.trim().to_string()),
            guide: s.guide.as_ref().and_then(|g| self.guide(g)),
            task,
            inform,
            result,
            templates: state_templates,
        }
    }

    /// Adds to `graph` the outcomes of every state of `raw` as edges, checking that final
    /// states have none and other states some, and that each leads to a state of `index`
    /// (`names` are the states' names, for the help).
    fn add_outcomes(
        &mut self,
        raw: &RawRoutine,
        graph: &mut DiGraph<State, Outcome>,
        index: &HashMap<&str, StateIx>,
        names: &[&str],
    ) {
        for s in &raw.states {
            let from = index[s.name.value.as_str()];
            let is_final = s.result.is_some();
            if is_final {
                if let Some(at) = s.outcomes_key {
                    self.d
                        .error("final-with-outcomes", at, format!("state `{}` is final (it has a `result`) but has outcomes", s.name.value))
                        .help("a final state ends the case: remove its `outcomes`, or remove `result` to make it a step");
                }
                for (key, value) in [
                    ("assignee", &s.step.assignee),
                    ("deadline", &s.step.deadline),
                ] {
                    if let Some(v) = value {
                        self.d.warning(
                            "ignored-key",
                            v.span,
                            format!(
                                "`{key}` has no effect in the final state `{}`",
                                s.name.value
                            ),
                        );
                    }
                }
                continue;
            }
            if s.outcomes.is_empty() {
                self.d
                    .error("dead-end-state", s.name.span, format!("state `{}` has no outcomes and no `result`", s.name.value))
                    .help("give it `outcomes` leading on, or a `result` (e.g. `result: no_finding`) to make it final");
                continue;
            }
            for o in &s.outcomes {
                let what = format!("outcome `{}` of state `{}`", o.name.value, s.name.value);
                let label = self
                    .required(&o.label, o.name.span, "label", &what)
                    .map(|l| l.value.clone());
                let comment_required = match &o.comment {
                    None => Some(false),
                    Some(c) => self.choice(
                        c,
                        "comment rule",
                        &[
                            ("required", true),
                            ("optional", false),
                            ("true", true),
                            ("false", false),
                        ],
                    ),
                };
                let Some(to) = self.required(&o.to, o.name.span, "to", &what) else {
                    continue;
                };
                let Some(&target) = index.get(to.value.as_str()) else {
                    let diag = self.d.error(
                        "undefined-state",
                        to.span,
                        format!("state `{}` is not defined", to.value),
                    );
                    match did_you_mean(&to.value, names.iter().copied()) {
                        Some(help) => diag.help(help),
                        None => diag.help(format!("the states are {}", list(names))),
                    };
                    continue;
                };
                graph.add_edge(
                    from,
                    target,
                    Outcome {
                        name: o.name.value.clone(),
                        label: label.unwrap_or_default(),
                        comment_required: comment_required.unwrap_or(false),
                    },
                );
            }
        }
    }

    /// The start state of `raw` in `index` (`names` are the states' names, for the help).
    fn start_state(
        &mut self,
        raw: &RawRoutine,
        index: &HashMap<&str, StateIx>,
        names: &[&str],
    ) -> Option<StateIx> {
        let start = match &raw.start {
            None => {
                self.missing(Span::new(1, 1, 0), "start", "the routine");
                return None;
            }
            Some(start) => match index.get(start.value.as_str()) {
                Some(&ix) => ix,
                None => {
                    let diag = self.d.error(
                        "undefined-state",
                        start.span,
                        format!("start state `{}` is not defined", start.value),
                    );
                    match did_you_mean(&start.value, names.iter().copied()) {
                        Some(help) => diag.help(help),
                        None => diag.help(format!("the states are {}", list(names))),
                    };
                    return None;
                }
            },
        };
        Some(start)
    }

    fn task(&mut self, s: &RawState, raw: &RawRoutine) -> Option<Task> {
        let what = format!("state `{}`", s.name.value);
        let step = &s.step;
        let defaults = &raw.defaults;
        let assignee = match step.assignee.as_ref().or(defaults.assignee.as_ref()) {
            Some(a) => self.role(a),
            None => {
                self.d
                    .error("missing-key", s.name.span, format!("{what} has no `assignee`"))
                    .help("name the role that answers this step, e.g. `assignee: unit_manager`, here or under `defaults`");
                None
            }
        };
        let deadline = match step.deadline.as_ref().or(defaults.deadline.as_ref()) {
            Some(t) => match DayCount::parse(&t.value) {
                Ok(dc) => Some(dc),
                Err(message) => {
                    self.d
                        .error("invalid-deadline", t.span, message)
                        .help("write e.g. `10 working days` or `14 days`");
                    None
                }
            },
            None => {
                self.d
                    .error(
                        "missing-key",
                        s.name.span,
                        format!("{what} has no `deadline`"),
                    )
                    .help("write e.g. `deadline: 10 working days`, here or under `defaults`");
                None
            }
        };
        let mut reminders = Vec::new();
        if let Some(list) = step.reminders.as_ref().or(defaults.reminders.as_ref()) {
            for t in list {
                match Offset::parse(&t.value) {
                    Ok(o) => reminders.push(o),
                    Err(message) => {
                        self.d.error("invalid-deadline", t.span, message);
                    }
                }
            }
        }
        let escalation = match step.escalation.as_ref().or(defaults.escalation.as_ref()) {
            None => Some(None),
            Some(e) => {
                let to = match &e.to {
                    Some(t) => self.role(t),
                    None => {
                        self.missing(e.key, "to", "`escalation`");
                        None
                    }
                };
                let after = match &e.after {
                    None => Some(DayCount::Working(1)),
                    Some(t) => match DayCount::parse(&t.value) {
                        Ok(dc) => Some(dc),
                        Err(message) => {
                            self.d
                                .error("invalid-deadline", t.span, message)
                                .help("write e.g. `after: 3 working days`");
                            None
                        }
                    },
                };
                match (to, after) {
                    (Some(to), Some(after)) => Some(Some(Escalation { to, after })),
                    _ => None,
                }
            }
        };
        Some(Task {
            assignee: assignee?,
            deadline: deadline?,
            reminders,
            escalation: escalation?,
        })
    }

    /// Reachability from the start, and a way out of every loop. Skipped when the file has
    /// errors already: a state or an outcome that did not parse leaves the graph incomplete, and
    /// one root cause should give one error, not a cascade of unreachable states.
    fn graph_shape(&mut self, raw: &RawRoutine, graph: &DiGraph<State, Outcome>, start: StateIx) {
        if self.d.has_errors() {
            return;
        }
        let span_of = |ix: StateIx| {
            raw.states
                .iter()
                .find(|s| s.name.value == graph[ix].name)
                .map(|s| s.name.span)
                .unwrap_or_default()
        };
        let mut reachable = BTreeSet::new();
        let mut bfs = Bfs::new(graph, start);
        while let Some(ix) = bfs.next(graph) {
            reachable.insert(ix);
        }
        for ix in graph.node_indices() {
            if !reachable.contains(&ix) {
                self.d
                    .error(
                        "unreachable-state",
                        span_of(ix),
                        format!(
                            "state `{}` cannot be reached from the start state `{}`",
                            graph[ix].name, graph[start].name
                        ),
                    )
                    .help("lead an outcome to it, or remove it");
            }
        }
        // States from which some final state can be reached.
        let mut can_finish = BTreeSet::new();
        let reversed = Reversed(graph);
        for ix in graph.node_indices().filter(|&ix| graph[ix].is_final()) {
            let mut bfs = Bfs::new(reversed, ix);
            while let Some(n) = bfs.next(reversed) {
                can_finish.insert(n);
            }
        }
        for component in tarjan_scc(graph) {
            let is_loop = component.len() > 1
                || component
                    .first()
                    .is_some_and(|&ix| graph.find_edge(ix, ix).is_some());
            if !is_loop || component.iter().any(|ix| can_finish.contains(ix)) {
                continue;
            }
            let mut members = component.clone();
            members.sort_by_key(|&ix| span_of(ix));
            let names: Vec<&str> = members.iter().map(|&ix| graph[ix].name.as_str()).collect();
            self.d
                .error(
                    "no-way-out",
                    span_of(members[0]),
                    format!(
                        "the states {} form a loop with no way out to a final state",
                        list(&names)
                    ),
                )
                .help("give one of them an outcome that leads towards a final state");
        }
    }

    /// `repeat:` of an information routine: months or years, at least a month.
    fn repeat(&mut self, raw: &RawRoutine, kind: Option<CaseKind>) -> Option<Period> {
        let t = raw.repeat.as_ref()?;
        if kind.is_some() && kind != Some(CaseKind::Information) {
            self.d
                .error(
                    "kind-mismatch",
                    t.span,
                    "only an information routine repeats (it informs people again)",
                )
                .help("remove `repeat`, or make the routine `kind: information`");
            return None;
        }
        match Period::parse(&t.value) {
            Ok(p) if matches!(p.unit, Unit::Months | Unit::Years) && p.amount > 0 => Some(p),
            Ok(_) | Err(_) => {
                self.d
                    .error(
                        "invalid-value",
                        t.span,
                        format!("`repeat` is a number of months or years, not `{}`", t.value),
                    )
                    .help("write e.g. `repeat: 1 year`");
                None
            }
        }
    }

    /// A step's how-to: a web address, or a file beside the routine file that exists (no `..`,
    /// no absolute path: the task page serves it).
    fn guide(&mut self, g: &Text) -> Option<crate::routine::model::Guide> {
        use crate::routine::model::Guide;
        let value = g.value.trim();
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                self.d
                    .error("invalid-value", g.span, format!("`guide` `{value}` is not a web address"))
                    .help("write the address without spaces, e.g. `https://intranat.kommun.se/lathund.pdf`");
                return None;
            }
            return Some(Guide::Url(value.to_string()));
        }
        let path = std::path::Path::new(value);
        let inside = !value.is_empty()
            && path.is_relative()
            && path
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            self.d
                .error(
                    "invalid-value",
                    g.span,
                    format!("`guide` `{value}` is neither a web address nor a file beside the routines"),
                )
                .help("write `https://…`, or a path inside the routines folder such as `guides/lathund.pdf`");
            return None;
        }
        let dir = std::path::Path::new(&self.d.source().path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        // A warning, not an error: a stored version compiles again when its guide has gone.
        if !dir.join(path).is_file() {
            self.d
                .warning(
                    "missing-file",
                    g.span,
                    format!("`guide` file `{}` does not exist", dir.join(path).display()),
                )
                .help("put the how-to beside the routine file, e.g. in `routines/guides/`");
        }
        Some(Guide::File(value.to_string()))
    }

    /// The years a closed case is kept, per system of the routine: one period for all
    /// (`retention: 2 years`) or one per system (`retention: {npo: 5 years, treserva: 2 years}`).
    /// Each must meet its system's rule; a period longer than a known rule is a warning, since
    /// purging (gallring) is a duty too.
    fn retention(
        &mut self,
        raw: &RawRoutine,
        systems: &[String],
        top: Span,
    ) -> Option<BTreeMap<String, u32>> {
        let rule_of = |s: &str| KNOWN_SYSTEMS.iter().find(|(n, _, _)| *n == s);
        if let Some((key, entries)) = &raw.retention_by_system {
            let mut out = BTreeMap::new();
            let mut ok = true;
            for (system, period) in entries {
                if !systems.contains(&system.value) {
                    let diag = self.d.error(
                        "unknown-system",
                        system.span,
                        format!(
                            "`retention` names system `{}`, which the routine does not review",
                            system.value
                        ),
                    );
                    match did_you_mean(&system.value, systems.iter().map(String::as_str)) {
                        Some(help) => diag.help(help),
                        None => diag.help(format!("the routine's systems are {}", list(systems))),
                    };
                    ok = false;
                    continue;
                }
                match self.retention_years(period, rule_of(&system.value), &system.value) {
                    Some(years) => {
                        out.insert(system.value.clone(), years);
                    }
                    None => ok = false,
                }
            }
            for system in systems {
                if ok && !out.contains_key(system) {
                    let diag = self.d.error(
                        "missing-retention",
                        *key,
                        format!("`retention` gives no period for system `{system}`"),
                    );
                    match rule_of(system) {
                        Some((_, years, why)) => {
                            diag.help(format!("{why}: add `{system}: {years} years`"))
                        }
                        None => diag.help(format!("add e.g. `{system}: 2 years`")),
                    };
                    ok = false;
                }
            }
            return ok.then_some(out);
        }
        let Some(t) = &raw.retention else {
            // The strictest rule among the routine's systems.
            let rule = systems
                .iter()
                .filter_map(|s| rule_of(s))
                .max_by_key(|(_, years, _)| *years);
            let diag = self
                .d
                .error("missing-retention", top, "the routine has no `retention`");
            match rule {
                Some((_, years, why)) => diag.help(format!("{why}: write `retention: {years} years`")),
                None => diag.help("write how long protocols are kept after a case closes, e.g. `retention: 2 years`"),
            };
            return None;
        };
        // One value for all: it must meet the strictest rule, and is longer than the others.
        let strictest = systems
            .iter()
            .filter_map(|s| rule_of(s))
            .max_by_key(|(_, years, _)| *years);
        let years = self.retention_years(t, strictest, "retention")?;
        for system in systems {
            if let Some(rule) = rule_of(system)
                && Some(rule) != strictest
            {
                self.too_long(t, years, rule);
            }
        }
        let mut out: BTreeMap<String, u32> = systems.iter().map(|s| (s.clone(), years)).collect();
        if systems.is_empty() {
            out.insert(String::new(), years);
        }
        Some(out)
    }

    /// One retention period in years, checked against `rule` (the system's, when known).
    fn retention_years(
        &mut self,
        t: &Text,
        rule: Option<&(&str, u32, &str)>,
        key: &str,
    ) -> Option<u32> {
        let years = match t.value.trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => match Period::parse(&t.value) {
                Ok(Period {
                    amount,
                    unit: Unit::Years,
                }) => amount,
                Ok(_) | Err(_) => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!("`retention` is a number of years, not `{}`", t.value),
                        )
                        .help("write e.g. `retention: 5 years`");
                    return None;
                }
            },
        };
        if years == 0 {
            self.d.error(
                "retention-too-short",
                t.span,
                "`retention` must be at least 1 year",
            );
            return None;
        }
        if let Some((name, minimum, why)) = rule
            && years < *minimum
        {
            self.d
                .error("retention-too-short", t.span, format!("retention of {years} years is shorter than the {minimum} years required for `{name}`"))
                .help(format!("{why}: write `{key}: {minimum} years`"));
            return None;
        }
        if let Some(rule) = rule {
            self.too_long(t, years, rule);
        }
        Some(years)
    }

    /// Warns when `years` keeps a system's cases longer than its rule.
    fn too_long(&mut self, t: &Text, years: u32, (name, rule_years, why): &(&str, u32, &str)) {
        if years > *rule_years {
            self.d
                .warning(
                    "retention-too-long",
                    t.span,
                    format!("`{name}` cases would be kept {years} years, longer than its rule of {rule_years}"),
                )
                .help(format!(
                    "{why}, and purging is a duty too: give each system its own period, e.g. `retention: {{{name}: {rule_years} years, …}}`"
                ));
        }
    }

    /// The thresholds of the review's flags and explanations; the defaults where not given.
    fn evidence(&mut self, raw: &RawRoutine) -> EvidenceRules {
        let mut rules = EvidenceRules::default();
        let Some(e) = &raw.evidence else {
            return rules;
        };
        if let Some(t) = &e.night {
            match night(&t.value) {
                Some((from, to)) if from != to => {
                    rules.night_from = from;
                    rules.night_to = to;
                }
                _ => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!(
                                "`night` is two different times `HH:MM-HH:MM`, not `{}`",
                                t.value
                            ),
                        )
                        .help("write e.g. `night: \"22:00-06:00\"`");
                }
            }
        }
        if let Some(t) = &e.burst_clients {
            match t.value.trim().parse::<u32>() {
                Ok(n) if n >= 1 => rules.burst_clients = n,
                _ => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!("`clients` is a whole number of clients, at least 1, not `{}`", t.value),
                        )
                        .help("write e.g. `clients: 20`: more than 20 clients within the time is a burst");
                }
            }
        }
        if let Some(t) = &e.burst_within {
            let seconds = Period::parse(&t.value).ok().and_then(|p| match p.unit {
                Unit::Hours if p.amount >= 1 => Some(i64::from(p.amount) * 3600),
                Unit::Days if p.amount >= 1 => Some(i64::from(p.amount) * 86_400),
                _ => None,
            });
            match seconds {
                Some(s) => rules.burst_within = s,
                None => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!("`within` is a number of hours or days, not `{}`", t.value),
                        )
                        .help("write e.g. `within: 1 hour`");
                }
            }
        }
        if let Some(t) = &e.documented_within {
            let days = Period::parse(&t.value).ok().and_then(|p| match p.unit {
                Unit::Days => Some(p.amount),
                Unit::Weeks => Some(p.amount.saturating_mul(7)),
                _ => None,
            });
            match days {
                Some(d) if d <= 366 => rules.documented_days = d,
                _ => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!(
                                "`documented_within` is a number of days or weeks, at most a year, not `{}`",
                                t.value
                            ),
                        )
                        .help("write e.g. `documented_within: 14 days`");
                }
            }
        }
        if let Some(days) = self.days_at_most(&e.team_within, "team_within", 92, "7 days") {
            rules.team_days = days;
        }
        if let Some(days) = self.days_at_most(&e.continuity_within, "within", 366, "60 days") {
            rules.continuity_within = days;
        }
        if let Some(t) = &e.continuity_days {
            match t.value.trim().parse::<u32>() {
                Ok(n) if (2..=60).contains(&n) => rules.continuity_days = n,
                _ => {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!(
                                "`days` is a whole number of separate days, 2 to 60, not `{}`",
                                t.value
                            ),
                        )
                        .help("write e.g. `days: 3`: accesses on 3 separate days make a care relationship");
                }
            }
        }
        if let Some(days) = self.days_at_most(&e.judged_within, "judged_within", 1100, "12 months")
        {
            rules.judged_days = days;
        }
        rules
    }

    /// A period of days, weeks or months (twelve months a year of 365 days) of at most `max` days;
    /// an error at `key` otherwise.
    fn days_at_most(
        &mut self,
        text: &Option<Text>,
        key: &str,
        max: u32,
        example: &str,
    ) -> Option<u32> {
        let t = text.as_ref()?;
        let days = Period::parse(&t.value).ok().and_then(|p| match p.unit {
            Unit::Days => Some(p.amount),
            Unit::Weeks => Some(p.amount.saturating_mul(7)),
            Unit::Months => Some(p.amount.saturating_mul(365).saturating_add(6) / 12),
            Unit::Years => Some(p.amount.saturating_mul(365)),
            _ => None,
        });
        match days {
            Some(d) if (1..=max).contains(&d) => Some(d),
            _ => {
                self.d
                    .error(
                        "invalid-value",
                        t.span,
                        format!(
                            "`{key}` is a number of days, weeks or months, 1 day to {max} days, not `{}`",
                            t.value
                        ),
                    )
                    .help(format!("write e.g. `{key}: {example}`"));
                None
            }
        }
    }

    fn summary(&mut self, raw: &RawRoutine) -> Option<Summary> {
        let s = raw.summary.as_ref()?;
        let to = match &s.to {
            Some(t) => self.role(t),
            None => {
                self.missing(s.key, "to", "`summary`");
                None
            }
        };
        let due = match &s.due {
            None => Some((12, 15)),
            Some(t) => {
                let parsed = t
                    .value
                    .trim()
                    .split_once('-')
                    .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)))
                    .filter(|&(m, d)| chrono::NaiveDate::from_ymd_opt(2027, m, d).is_some());
                if parsed.is_none() {
                    self.d
                        .error(
                            "invalid-value",
                            t.span,
                            format!("`due` is a month and day `MM-DD`, not `{}`", t.value),
                        )
                        .help("write e.g. `due: 12-15` for 15 December each year");
                }
                parsed
            }
        };
        let template = s
            .template
            .as_ref()
            .map(|t| t.value.clone())
            .unwrap_or_else(|| "annual_summary".into());
        let (to, (due_month, due_day)) = (to?, due?);
        Some(Summary {
            to,
            due_month,
            due_day,
            template,
        })
    }

    /// Every template the routine will use exists, parses and uses only the variables it gets.
    fn check_templates(
        &mut self,
        raw: &RawRoutine,
        kind: CaseKind,
        graph: &DiGraph<State, Outcome>,
        names: &TemplateNames,
        summary: Option<&Summary>,
    ) {
        let Some(library) = self.ctx.templates else {
            return;
        };
        // (purpose, name, where the name was written)
        let mut used: Vec<(Purpose, String, Span)> = Vec::new();
        let routine_span = |key: &str| {
            raw.templates
                .iter()
                .find(|(k, _)| k.value == key)
                .map(|(_, v)| v.span)
                .or(raw.templates_key)
                .unwrap_or(Span::new(1, 1, 0))
        };
        for (ix, s) in graph.node_indices().map(|ix| (ix, &graph[ix])) {
            let raw_state = raw.states.iter().find(|r| r.name.value == s.name);
            let span_for = |key: &str| {
                raw_state
                    .and_then(|r| {
                        r.templates
                            .iter()
                            .find(|(k, _)| k.value == key)
                            .map(|(_, v)| v.span)
                    })
                    .unwrap_or_else(|| routine_span(key))
            };
            let _ = ix;
            if let Some(task) = &s.task {
                used.push((Purpose::Task, s.templates.task.clone(), span_for("task")));
                if !task.reminders.is_empty() {
                    used.push((
                        Purpose::Reminder,
                        s.templates.reminder.clone(),
                        span_for("reminder"),
                    ));
                }
                if task.escalation.is_some() {
                    used.push((
                        Purpose::Escalation,
                        s.templates.escalation.clone(),
                        span_for("escalation"),
                    ));
                }
            }
            if !s.inform.is_empty() {
                used.push((
                    Purpose::Inform,
                    s.templates.inform.clone(),
                    span_for("inform"),
                ));
            }
        }
        used.push((
            Purpose::Protocol,
            names.protocol.clone(),
            routine_span("protocol"),
        ));
        if kind == CaseKind::Extract {
            used.push((
                Purpose::ExtractLetter,
                names.extract_letter.clone(),
                routine_span("extract_letter"),
            ));
        }
        if let Some(summary) = summary {
            used.push((
                Purpose::SummaryMail,
                names.summary_mail.clone(),
                routine_span("summary_mail"),
            ));
            let span = raw
                .summary
                .as_ref()
                .and_then(|s| s.template.as_ref().map(|t| t.span).or(Some(s.key)))
                .unwrap_or_default();
            used.push((Purpose::AnnualSummary, summary.template.clone(), span));
        }
        used.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        used.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        for (purpose, name, span) in used {
            let files = purpose.files(&name);
            let missing: Vec<&String> = files.iter().filter(|f| !library.contains(f)).collect();
            if !missing.is_empty() {
                let candidates: Vec<String> = library
                    .names()
                    .filter_map(|n| {
                        let prefix = if purpose.is_mail() {
                            "mail/"
                        } else {
                            "documents/"
                        };
                        n.strip_prefix(prefix)
                            .and_then(|rest| rest.rsplit_once('.'))
                            .map(|(stem, _)| stem.to_string())
                    })
                    .collect();
                let diag = self.d.error(
                    "unknown-template",
                    span,
                    format!(
                        "{} template `{name}` not found: {} missing in `{}`",
                        purpose.key(),
                        list(&missing),
                        library.dir.display()
                    ),
                );
                match did_you_mean(&name, candidates.iter().map(String::as_str)) {
                    Some(help) => diag.help(help),
                    None => diag.help(format!("create {}", list(&missing))),
                };
                continue;
            }
            for diag in library.check(purpose, &name) {
                self.d.push(diag);
            }
        }
        for err in &library.load_errors {
            let _ = err; // reported once by the caller, not per routine
        }
    }
}

/// `HH:MM-HH:MM` (or `HH-HH`, an en dash allowed) as minutes after midnight.
fn night(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().replace('–', "-");
    let (a, b) = t.split_once('-')?;
    let time = |s: &str| -> Option<u32> {
        let s = s.trim();
        let (h, m) = match s.split_once(':') {
            Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
            None => (s.parse::<u32>().ok()?, 0),
        };
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    Some((time(a)?, time(b)?))
}

fn approx_hours(p: Period) -> u64 {
    let n = u64::from(p.amount);
    match p.unit {
        Unit::Hours => n,
        Unit::Days | Unit::WorkingDays => n * 24,
        Unit::Weeks => n * 24 * 7,
        Unit::Months => n * 24 * 28,
        Unit::Years => n * 24 * 365,
    }
}

/// `TRE` for Treserva sampling, `NPO` for NPÖ, `RIK` for targeted reviews, `UTL` for extracts.
fn default_prefix(kind: CaseKind, system: &str) -> String {
    match kind {
        CaseKind::Targeted => "RIK".into(),
        CaseKind::Extract => "UTL".into(),
        CaseKind::Information => "INF".into(),
        CaseKind::AccessRights => "BEH".into(),
        CaseKind::Sampling => system
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(3)
            .collect::<String>()
            .to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    use crate::routine::{Context, compile, source::Source};

    fn with_evidence(block: &str) -> crate::routine::Compiled {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/routines/treserva-sampling.yaml"
        );
        let text = std::fs::read_to_string(path).expect("routine");
        let text = text.replacen("\ndefaults:", &format!("\n{block}\ndefaults:"), 1);
        compile(&Source::new("r.yaml", &text), &Context { templates: None })
    }

    #[test]
    fn the_explanations_thresholds_are_read_and_checked() {
        let c = with_evidence(
            "evidence:\n  team_within: 2 weeks\n  continuity:\n    days: 4\n    within: 3 months\n  judged_within: 1 year\n",
        );
        let r = c.routine.expect("compiles");
        assert_eq!(r.evidence.team_days, 14);
        assert_eq!(r.evidence.continuity_days, 4);
        assert_eq!(r.evidence.continuity_within, 91);
        assert_eq!(r.evidence.judged_days, 365);
        let c = with_evidence(
            "evidence:\n  team_within: 1 hour\n  continuity:\n    days: 1\n    witin: 60 days\n",
        );
        let text: Vec<String> = c.diagnostics.iter().map(|d| d.render()).collect();
        let text = text.join("\n");
        for expected in [
            "`team_within` is a number of days",
            "`days` is a whole number",
            "witin",
        ] {
            assert!(text.contains(expected), "{expected} not in\n{text}");
        }
    }
}
