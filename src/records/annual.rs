//! The yearly summary (sammanställning): on each routine's `summary` due date the tick renders
//! it and emails it to the holders of the summary role (the SAS for Treserva, the MAS for NPÖ),
//! the `summary` mail as cover and the summary as HTML (with charts) and CSV attached, exactly
//! once per routine and year (a unique key). `report annual` renders it on demand.
//!
//! A routine's summary covers the routine and the on-demand routines' cases of its systems
//! (targeted reviews, extracts); each section per unit, with the previous year beside it.

use super::charts::{self, Bar};
use super::figures::{self, Figures, Measures, Scope, get};
use crate::engine::{Engine, deadline};
use crate::routine::Routine;
use crate::routine::model::{CaseKind, ResultCategory};
use crate::store::Db;
use crate::store::audit::{self, Event};
use crate::store::outbox::{self, NewMessage};
use crate::store::records::{self as rdb, StoredAttachment};
use crate::{Error, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A rendered summary.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub html: String,
    pub csv: String,
    pub sections: Vec<(Scope, Figures, Figures)>,
    pub needs: NeedsState,
    pub staff: Staffing,
}

/// Per information routine (by id): of the current account holders in its systems, how many it
/// has informed of the log checks and how many not yet, on the summary's day.
pub(crate) type Staffing = BTreeMap<String, (usize, usize)>;

/// [`Staffing`] of the information routines among `sections` on the day of `now`.
pub fn staffing(
    engine: &Engine,
    sections: &[(Scope, Figures, Figures)],
    now: DateTime<Utc>,
) -> Result<Staffing> {
    let mut out = Staffing::new();
    for (scope, _, _) in sections {
        if scope.kind != CaseKind::Information {
            continue;
        }
        let systems = match &scope.systems {
            Some(s) => s.clone(),
            None => engine
                .routines
                .iter()
                .find(|r| r.id == scope.routine_id)
                .map(|r| r.systems.clone())
                .unwrap_or_default(),
        };
        let day = crate::clock::local_date(now, scope.timezone);
        out.insert(
            scope.routine_id.clone(),
            crate::engine::information::standing(
                engine.store.db(),
                engine.org(),
                &scope.routine_id,
                &systems,
                day,
            )?,
        );
    }
    Ok(out)
}

/// Where the needs-and-risk analysis stands on the summary's day, for the units whose people
/// hold accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedsState {
    /// Whether any analysis was ever imported.
    pub analysed: bool,
    /// How many units have people with accounts.
    pub units: usize,
    /// Those of them without a current analysis: the unit's name, and its newest decision when
    /// it is only outdated.
    pub without: Vec<(String, Option<NaiveDate>)>,
}

impl NeedsState {
    /// The state at `now` (local day in `tz`), units named by `names`.
    pub fn on(
        conn: &Db,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
        names: &UnitNames,
    ) -> Result<NeedsState> {
        let today = now.with_timezone(&tz).date_naive();
        let analysis = crate::evidence::needs::Analysis::load(conn, Some(now))?;
        let staffed = crate::store::access::units_with_any_account(conn)?;
        let without: Vec<(String, Option<NaiveDate>)> = analysis
            .units_without(today)
            .into_iter()
            .filter(|(u, _)| staffed.contains(u))
            .map(|(u, d)| (names.get(&u).cloned().unwrap_or(u), d))
            .collect();
        Ok(NeedsState {
            analysed: analysis.exists(),
            units: staffed.len(),
            without,
        })
    }

    /// The summary's line, and what to act on (none when every unit has a current analysis).
    fn line(&self) -> Option<(String, bool, Option<String>)> {
        if self.units == 0 {
            return None;
        }
        const WHY: &str = "behörigheter ska tilldelas efter en behovs- och riskanalys (HSLF-FS 2016:40 4 kap. 2 §)";
        if !self.analysed {
            return Some((
                if self.units == 1 {
                    "Behovs- och riskanalys: ingen är inläst, så enheten med behörigheter har ingen."
                        .to_string()
                } else {
                    format!(
                        "Behovs- och riskanalys: ingen är inläst, så ingen av {} enheter med behörigheter har en.",
                        self.units
                    )
                },
                false,
                Some(format!(
                    "Gör en behovs- och riskanalys per enhet och läs in den (loggkoll rights import): {WHY}."
                )),
            ));
        }
        if self.without.is_empty() {
            return Some((
                if self.units == 1 {
                    "Behovs- och riskanalys: enheten med behörigheter har en som är högst ett år gammal.".to_string()
                } else {
                    format!(
                        "Behovs- och riskanalys: alla {} enheter med behörigheter har en som är högst ett år gammal.",
                        self.units
                    )
                },
                true,
                None,
            ));
        }
        let named: Vec<String> = self
            .without
            .iter()
            .map(|(name, newest)| match newest {
                Some(d) => format!("{name} (senast beslutad {})", crate::store::date(*d)),
                None => name.clone(),
            })
            .collect();
        Some((
            format!(
                "Behovs- och riskanalys saknas eller är äldre än ett år för {} av {}: {}.",
                self.without.len(),
                crate::sv::count(self.units, "enhet", "enheter"),
                crate::sv::and_list(&named)
            ),
            false,
            Some(format!(
                "Gör eller förnya behovs- och riskanalysen för {}: {WHY}.",
                crate::sv::and_list(&named)
            )),
        ))
    }
}

/// Unit names for documents: id → name.
pub(crate) type UnitNames = BTreeMap<String, String>;

/// Computes the figures of `scopes` for `year` and the year before.
pub(crate) fn figures_for(
    conn: &Db,
    scopes: &[Scope],
    year: i32,
    now: DateTime<Utc>,
) -> Result<Vec<(Scope, Figures, Figures)>> {
    figures::check_year(year)?;
    scopes
        .iter()
        .map(|s| {
            Ok((
                s.clone(),
                figures::compute(conn, s, year, now)?,
                figures::compute(conn, s, year - 1, now)?,
            ))
        })
        .collect()
}

fn fmt_decimal(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{}{unit}", format!("{v:.1}").replace('.', ",")),
        None => "–".into(),
    }
}

/// The result categories a kind of routine can reach.
fn categories(kind: CaseKind) -> impl Iterator<Item = ResultCategory> {
    ResultCategory::ALL
        .into_iter()
        .filter(move |r| match (r, kind) {
            (ResultCategory::Informed, k) | (_, k @ CaseKind::Information) => {
                k == CaseKind::Information && *r == ResultCategory::Informed
            }
            (ResultCategory::RightsReviewed, k) | (_, k @ CaseKind::AccessRights) => {
                k == CaseKind::AccessRights && *r == ResultCategory::RightsReviewed
            }
            (ResultCategory::ExtractHandedOut, k) => k == CaseKind::Extract,
            (ResultCategory::NotPursued, k) => k == CaseKind::Targeted,
            _ => true,
        })
}

/// The figures people read, for the template.
fn view(m: &Measures, kind: CaseKind) -> Value {
    let results: Vec<Value> = categories(kind)
        .map(|r| json!({"label": r.title_sv(), "key": r.as_str(), "n": get(m, &format!("result:{}", r.as_str()))}))
        .collect();
    json!({
        "cases": get(m, "cases"),
        "closed": get(m, "closed"),
        "open": get(m, "open"),
        "late": get(m, "late"),
        "population": get(m, "population"),
        "drawn": get(m, "drawn"),
        "reviewed": get(m, "reviewed"),
        "coverage": if kind == CaseKind::Sampling { fmt_decimal(figures::coverage(m), " %") } else { String::new() },
        "results": results,
        "labour_law": get(m, "labour_law"),
        "police": get(m, "police"),
        "handed_out": get(m, "handed_out"),
        "hand_out_days": fmt_decimal(figures::hand_out_days(m), " dagar"),
    })
}

/// Whether a year has anything to compare with: rounds planned, a population or a case.
pub fn has_data(f: &Figures) -> bool {
    f.rounds_due > 0 || get(&f.total, "cases") > 0 || get(&f.total, "population") > 0
}

/// `n` with the singular or plural of a Swedish noun.
fn count_sv(n: i64, one: &str, many: &str) -> String {
    crate::sv::count(n, one, many)
}

/// What the summary concludes, first in the document and in the email's body: per sampling
/// routine whether its yearly aim was reached, the findings by result, cases late or still
/// open, staff informed, access rights ended, and what the reader must act on. `lines` are the
/// key figures as sentences; `act` what calls for action (empty: nothing).
pub fn conclusions(
    sections: &[(Scope, Figures, Figures)],
    needs: &NeedsState,
    staff: &Staffing,
) -> Value {
    let mut lines: Vec<Value> = Vec::new();
    let mut act: Vec<String> = Vec::new();
    let mut results: BTreeMap<usize, (String, i64)> = BTreeMap::new();
    let (mut late, mut open, mut cases) = (0, 0, 0);
    let (mut labour, mut police) = (0, 0);
    for (scope, this, _) in sections {
        let t = &this.total;
        cases += get(t, "cases");
        late += get(t, "late");
        open += get(t, "open");
        labour += get(t, "labour_law");
        police += get(t, "police");
        for (i, r) in ResultCategory::ALL.iter().enumerate() {
            let n = get(t, &format!("result:{}", r.as_str()));
            if n > 0 {
                results.entry(i).or_insert((r.title_sv().to_string(), 0)).1 += n;
            }
        }
        match scope.kind {
            CaseKind::Sampling => {
                let population = get(t, "population");
                let reviewed = get(t, "reviewed");
                let share = fmt_decimal(figures::coverage(t), " %");
                let rounds_ok = this.rounds_held >= this.rounds_due;
                let reached = if scope.coverage_goal {
                    rounds_ok && population > 0 && reviewed >= population
                } else {
                    rounds_ok
                };
                let aim = if scope.coverage_goal {
                    "att alla användare granskas under året"
                } else {
                    "de planerade stickprovsomgångarna"
                };
                let text = format!(
                    "{}: målet ({aim}) {}. {} av {} granskades ({share}); {} av {} omgångar genomfördes.",
                    scope.title,
                    if reached { "nåddes" } else { "nåddes inte" },
                    reviewed,
                    count_sv(population, "användare", "användare"),
                    this.rounds_held,
                    this.rounds_due,
                );
                if !reached {
                    act.push(format!(
                        "{}: målet nåddes inte – se över urvalet och att varje omgång blir gjord.",
                        scope.title
                    ));
                }
                lines.push(json!({"text": text, "ok": reached}));
            }
            CaseKind::Information => {
                let (informed, waiting) = staff.get(&scope.routine_id).copied().unwrap_or_default();
                let all = informed + waiting;
                lines.push(json!({"text": if all == 0 {
                    format!("{}: ingen medarbetare med konto att informera om loggkontroll.", scope.title)
                } else {
                    format!(
                        "{}: {} av {} med konto är {} om loggkontroll, {} ännu inte.",
                        scope.title,
                        informed,
                        crate::sv::count(all, "medarbetare", "medarbetare"),
                        crate::sv::agree(
                            informed,
                            crate::sv::Gender::En,
                            "informerad",
                            "informerat",
                            "informerade"
                        ),
                        waiting
                    )
                }, "ok": waiting == 0}));
                if waiting > 0 {
                    act.push(format!(
                        "{}: {} har ännu inte fått information om loggkontroll.",
                        scope.title,
                        crate::sv::count(waiting, "medarbetare", "medarbetare")
                    ));
                }
            }
            CaseKind::AccessRights => {
                let ended = get(t, "accounts_ended");
                lines.push(json!({"text": format!(
                    "{}: {} av {} enheter genomgångna; {} avslutade, {} behålls.",
                    scope.title,
                    get(t, "closed"),
                    get(t, "cases"),
                    count_sv(ended, "behörighet", "behörigheter"),
                    get(t, "accounts_kept")
                ), "ok": get(t, "open") == 0}));
            }
            CaseKind::Targeted | CaseKind::Extract => {}
        }
    }
    let found: Vec<String> = results
        .values()
        .map(|(label, n)| format!("{label} {n}"))
        .collect();
    let closed = cases - open;
    lines.push(json!({"text": if found.is_empty() {
        format!("Inga av årets {} är avslutade.", count_sv(cases, "ärende", "ärenden"))
    } else {
        format!(
            "{closed} av {} avslutades: {}.",
            count_sv(cases, "ärende", "ärenden"),
            found.join(", ")
        )
    }, "ok": true}));
    lines.push(json!({"text": format!(
        "{} (ett steg besvarat efter sista dagen, eller ännu obesvarat efter den); {} fortfarande {}.",
        count_sv(late, "ärende blev försenat", "ärenden blev försenade"),
        open,
        crate::sv::agree(open, crate::sv::Gender::Ett, "öppen", "öppet", "öppna")
    ), "ok": late == 0 && open == 0}));
    if open > 0 {
        act.push(format!(
            "{}: följ upp med dem som har {} (översiktens Ärenden och Försenade).",
            count_sv(open, "ärende är inte besvarat", "ärenden är inte besvarade"),
            if open == 1 { "det" } else { "dem" }
        ));
    }
    if let Some((text, ok, todo)) = needs.line() {
        lines.push(json!({"text": text, "ok": ok}));
        act.extend(todo);
    }
    if police > 0 {
        act.push(format!(
            "{} gjordes: följ upp att de är registrerade.",
            count_sv(police, "polisanmälan", "polisanmälningar")
        ));
    }
    if labour > 0 {
        act.push(format!(
            "{} ledde till arbetsrättsliga åtgärder eller polisanmälan: följ upp med HR.",
            count_sv(labour, "ärende", "ärenden")
        ));
    }
    json!({"lines": lines, "act": act})
}

/// The document's values.
#[allow(clippy::too_many_arguments)]
pub fn context(
    sections: &[(Scope, Figures, Figures)],
    needs: &NeedsState,
    staff: &Staffing,
    year: i32,
    units: &UnitNames,
    organisation: &str,
    title: &str,
    generated_at: &str,
    base_url: &str,
) -> Value {
    let mut routines = Vec::new();
    let mut charts_svg = Vec::new();
    // Without a year before, there is nothing to compare with: no "(0)" beside every figure.
    let has_previous = sections.iter().any(|(_, _, previous)| has_data(previous));
    let previous_year = has_previous.then_some(year - 1);
    for (scope, this, previous) in sections {
        let mut unit_ids: Vec<&String> = this.units.keys().chain(previous.units.keys()).collect();
        unit_ids.sort();
        unit_ids.dedup();
        let empty = Measures::new();
        let rows: Vec<Value> = unit_ids
            .iter()
            .map(|u| {
                json!({
                    "id": u,
                    "name": units.get(*u).cloned().unwrap_or_else(|| (*u).clone()),
                    "this": view(this.units.get(*u).unwrap_or(&empty), scope.kind),
                    "previous": view(previous.units.get(*u).unwrap_or(&empty), scope.kind),
                })
            })
            .collect();
        let systems = scope
            .systems
            .as_ref()
            .map(|s| {
                s.iter()
                    .map(|x| crate::routine::explain::system_title(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        routines.push(json!({
            "id": scope.routine_id,
            "title": scope.title,
            "kind": scope.kind.title_sv(),
            "sampling": scope.kind == CaseKind::Sampling,
            "extract": scope.kind == CaseKind::Extract,
            "information": scope.kind == CaseKind::Information,
            "access_rights": scope.kind == CaseKind::AccessRights,
            "accounts_kept": get(&this.total, "accounts_kept"),
            "accounts_ended": get(&this.total, "accounts_ended"),
            "staff_informed": staff.get(&scope.routine_id).map_or(0, |s| s.0),
            "staff_waiting": staff.get(&scope.routine_id).map_or(0, |s| s.1),
            "systems": systems,
            "rounds_due": this.rounds_due,
            "rounds_held": this.rounds_held,
            "previous_rounds_due": previous.rounds_due,
            "previous_rounds_held": previous.rounds_held,
            "units": rows,
            "total": {"this": view(&this.total, scope.kind), "previous": view(&previous.total, scope.kind)},
        }));
        let result_bars: Vec<Bar> = categories(scope.kind)
            .map(|r| {
                let key = format!("result:{}", r.as_str());
                Bar {
                    label: r.title_sv().into(),
                    this: get(&this.total, &key) as f64,
                    previous: get(&previous.total, &key) as f64,
                }
            })
            .collect();
        charts_svg.push(charts::bars(
            &format!("{}: resultat", scope.title),
            year,
            previous_year,
            &result_bars,
            "",
            None,
        ));
        if scope.kind == CaseKind::Sampling {
            let coverage_bars: Vec<Bar> = unit_ids
                .iter()
                .map(|u| Bar {
                    label: units.get(*u).cloned().unwrap_or_else(|| (*u).clone()),
                    this: this
                        .units
                        .get(*u)
                        .and_then(figures::coverage)
                        .unwrap_or(0.0),
                    previous: previous
                        .units
                        .get(*u)
                        .and_then(figures::coverage)
                        .unwrap_or(0.0),
                })
                .collect();
            charts_svg.push(charts::bars(
                &format!("{}: täckning per enhet", scope.title),
                year,
                previous_year,
                &coverage_bars,
                " %",
                Some(100.0),
            ));
        }
    }
    json!({
        "title": title,
        "year": year,
        "previous_year": year - 1,
        "has_previous": has_previous,
        "conclusions": conclusions(sections, needs, staff),
        "organisation": organisation,
        "routines": routines,
        "charts": charts_svg,
        "generated_at": generated_at,
        "base_url": base_url,
    })
}

/// A text cell of the CSV: quoted when it holds `;`, `"` or a line break, and — unless it is a
/// plain number — made inert when it begins as a formula would (`=`, `+`, `-`, `@`, a tab or a
/// carriage return), by a `'` before it: a unit named `=HYPERLINK(…)` must not run when the SAS
/// opens the file in a spreadsheet.
pub(crate) fn csv_cell(s: &str) -> String {
    let plain_number = !s.is_empty()
        && s.trim_start_matches(['-', '+'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        && s.trim_start_matches(['-', '+'])
            .chars()
            .any(|c| c.is_ascii_digit());
    let inert = if !plain_number && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if inert.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

/// The CSV: one line per year, section and unit (and a total, `enhet_id` empty), `;`-separated
/// with decimal commas, as Swedish spreadsheets read it.
pub fn csv(sections: &[(Scope, Figures, Figures)], units: &UnitNames) -> String {
    let mut out = String::from("\u{feff}");
    let mut header = vec![
        "år",
        "rutin",
        "system",
        "enhet_id",
        "enhet",
        "omgångar_planerade",
        "omgångar_genomförda",
        "användare",
        "dragna",
        "granskade",
        "täckning_procent",
        "ärenden",
        "avslutade",
        "försenade",
        "öppna",
    ];
    let result_names: Vec<String> = ResultCategory::ALL
        .iter()
        .map(|r| format!("resultat_{}", r.as_str()))
        .collect();
    header.extend(result_names.iter().map(String::as_str));
    header.extend([
        "arbetsrättsliga_ärenden",
        "polisanmälningar",
        "utlämnade_loggutdrag",
        "snitt_dagar_till_utlämnande",
    ]);
    out.push_str(&header.join(";"));
    out.push('\n');
    let cell = csv_cell;
    for (scope, this, previous) in sections {
        let systems = scope
            .systems
            .as_ref()
            .map(|s| s.join(","))
            .unwrap_or_default();
        for f in [previous, this] {
            let mut lines: Vec<(String, &Measures)> =
                f.units.iter().map(|(u, m)| (u.clone(), m)).collect();
            lines.push((String::new(), &f.total));
            for (unit, m) in lines {
                let name = if unit.is_empty() {
                    "Totalt".to_string()
                } else {
                    units.get(&unit).cloned().unwrap_or_else(|| unit.clone())
                };
                let (due, held) = if unit.is_empty() {
                    (f.rounds_due.to_string(), f.rounds_held.to_string())
                } else {
                    (String::new(), String::new())
                };
                let coverage = if scope.kind == CaseKind::Sampling {
                    figures::coverage(m)
                        .map(|c| format!("{c:.1}").replace('.', ","))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let mut fields = vec![
                    f.year.to_string(),
                    cell(&scope.routine_id),
                    cell(&systems),
                    cell(&unit),
                    cell(&name),
                    due,
                    held,
                    get(m, "population").to_string(),
                    get(m, "drawn").to_string(),
                    get(m, "reviewed").to_string(),
                    coverage,
                    get(m, "cases").to_string(),
                    get(m, "closed").to_string(),
                    get(m, "late").to_string(),
                    get(m, "open").to_string(),
                ];
                for r in ResultCategory::ALL {
                    fields.push(get(m, &format!("result:{}", r.as_str())).to_string());
                }
                fields.push(get(m, "labour_law").to_string());
                fields.push(get(m, "police").to_string());
                fields.push(get(m, "handed_out").to_string());
                fields.push(
                    figures::hand_out_days(m)
                        .map(|d| format!("{d:.1}").replace('.', ","))
                        .unwrap_or_default(),
                );
                let _ = writeln!(out, "{}", fields.join(";"));
            }
        }
    }
    out
}

/// Renders the summary of `scopes` for `year` with document template `template`.
pub fn render(
    engine: &Engine,
    scopes: &[Scope],
    year: i32,
    template: &str,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Rendered> {
    let sections = figures_for(engine.store.db(), scopes, year, now)?;
    let units: UnitNames = engine
        .org()
        .units
        .iter()
        .map(|(id, (name, _))| (id.clone(), name.clone()))
        .collect();
    let tz = engine.config.timezone;
    let needs = NeedsState::on(engine.store.db(), now, tz, &units)?;
    let staff = staffing(engine, &sections, now)?;
    let values = context(
        &sections,
        &needs,
        &staff,
        year,
        &units,
        &engine.config.organisation,
        title,
        &super::files::local_at(now, tz),
        &engine.config.base_url,
    );
    let mut values = values;
    // How much of each sampling routine's log the rules explained over the year.
    for (i, (scope, _, _)) in sections.iter().enumerate() {
        if scope.kind != CaseKind::Sampling {
            continue;
        }
        let systems = match &scope.systems {
            Some(s) => s.clone(),
            None => engine
                .routines
                .iter()
                .find(|r| r.id == scope.routine_id)
                .map(|r| r.systems.clone())
                .unwrap_or_default(),
        };
        let Some(f) = explained_in(engine, &systems, year, scope.timezone, now)? else {
            continue;
        };
        if let Some(r) = values["routines"].get_mut(i) {
            r["explained"] = crate::evidence::explained::for_page(&f);
        }
    }
    let html = engine.templates.render_document(template, &values)?;
    let csv = csv(&sections, &units);
    Ok(Rendered {
        html,
        csv,
        sections,
        needs,
        staff,
    })
}

/// The figure of `logs explained` over `year` for `systems` together, `None` when the year
/// has no accesses in them.
fn explained_in(
    engine: &Engine,
    systems: &[String],
    year: i32,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Option<crate::evidence::explained::Figure>> {
    let (Some(first), Some(next)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year + 1, 1, 1),
    ) else {
        return Ok(None);
    };
    let routines: Vec<&Routine> = engine.routines.iter().collect();
    let scope = crate::evidence::radar::Scope {
        from: crate::clock::day_start(first, tz),
        to: crate::clock::day_start(next, tz).min(now),
        system: None,
        tz,
    };
    if scope.to <= scope.from || systems.is_empty() {
        return Ok(None);
    }
    let f = crate::evidence::explained::figure_of(
        engine.store.db(),
        engine.org(),
        &routines,
        &scope,
        systems,
        now,
    )?;
    Ok((f.accesses > 0).then_some(f))
}

/// The scopes and title of `report annual`: one routine's summary, or every routine.
pub fn scopes(engine: &Engine, routine: Option<&str>) -> Result<(Vec<Scope>, String, String)> {
    match routine {
        Some(name) => {
            let r = crate::routine::loader::select(&engine.routines, name)?;
            let template = r
                .summary
                .as_ref()
                .map(|s| s.template.clone())
                .unwrap_or_else(|| "annual_summary".into());
            Ok((
                figures::summary_scopes(r, &engine.routines),
                r.title.clone(),
                template,
            ))
        }
        None => Ok((
            engine.routines.iter().map(|r| Scope::of(r, None)).collect(),
            "Alla rutiner".into(),
            "annual_summary".into(),
        )),
    }
}

/// The local date a routine's summary of `year` is due.
pub fn due_date(routine: &Routine, year: i32) -> Option<NaiveDate> {
    let s = routine.summary.as_ref()?;
    NaiveDate::from_ymd_opt(year, s.due_month, s.due_day)
}

/// The summaries due at `now` and not yet made: queued to the outbox with their attachments,
/// once per routine and year. Returns how many were queued.
pub fn tick(engine: &mut Engine, now: DateTime<Utc>) -> Result<usize> {
    let Some(first) = crate::store::roster::first_import_at(engine.store.db())? else {
        return Ok(0);
    };
    let mut due: Vec<(usize, i32)> = Vec::new();
    for (i, routine) in engine.routines.iter().enumerate() {
        if routine.summary.is_none() {
            continue;
        }
        let today = crate::clock::local_date(now, routine.timezone);
        for year in [today.year() - 1, today.year()] {
            let Some(day) = due_date(routine, year) else {
                continue;
            };
            // Only summaries that fell due while loggkoll was running with a roster.
            let at = deadline::notice_time(day, routine.timezone);
            if day > today || at < first || rdb::summary_made(engine.store.db(), &routine.id, year)?
            {
                continue;
            }
            due.push((i, year));
        }
    }
    let mut queued = 0;
    for (i, year) in due {
        if send(engine, i, year, now)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Renders and queues routine `index`'s summary of `year`; false when nobody holds the role.
fn send(engine: &mut Engine, index: usize, year: i32, now: DateTime<Utc>) -> Result<bool> {
    let routine = engine.routines[index].clone();
    let Some(summary) = routine.summary.clone() else {
        return Ok(false);
    };
    let today = crate::clock::local_date(now, routine.timezone);
    let recipients: Vec<_> = rdb::role_holders_anywhere(engine.store.db(), summary.to.as_str())?
        .into_iter()
        .filter_map(|id| engine.org().person(&id).cloned())
        .filter(|p| p.is_active_on(today))
        .collect();
    if recipients.is_empty() {
        return Ok(false);
    }
    let scopes = figures::summary_scopes(&routine, &engine.routines);
    let rendered = render(
        engine,
        &scopes,
        year,
        &summary.template,
        &routine.title,
        now,
    )?;
    let files = vec![
        StoredAttachment {
            file_name: format!("sammanstallning-{year}-{}.html", routine.id),
            content_type: "text/html; charset=utf-8".into(),
            body: rendered.html.into_bytes(),
        },
        StoredAttachment {
            file_name: format!("sammanstallning-{year}-{}.csv", routine.id),
            content_type: "text/csv; charset=utf-8".into(),
            body: rendered.csv.into_bytes(),
        },
    ];
    let base_url = engine.config.base_url.clone();
    // The conclusions go in the body too: the SAS reads them without opening the attachment.
    let concluded = conclusions(&rendered.sections, &rendered.needs, &rendered.staff);
    let contact = engine.config.contact_for(&[]).cloned();
    let tx = engine.store.write()?;
    if !rdb::claim_summary(&tx, &routine.id, year, recipients.len(), now)? {
        return Ok(false);
    }
    for person in &recipients {
        let context = crate::mails::context(&crate::mails::Summary {
            routine: routine.title.clone(),
            routine_id: routine.id.clone(),
            year,
            recipient: person.name.clone(),
            link: base_url.clone(),
            conclusions: concluded.clone(),
            // Whom to ask, as every email names them (none when none is configured).
            common: crate::mails::Common {
                base_url: base_url.clone(),
                contact: contact.clone(),
            },
        })?;
        let to = crate::notify::message::mailbox_text(&person.name, &person.email);
        let id = outbox::insert(
            &tx,
            &NewMessage {
                purpose: "summary",
                case_id: None,
                task_id: None,
                recipient_id: Some(&person.id),
                to_addr: &to,
                template: &routine.templates.summary_mail,
                context: &context,
                due_date: None,
                held: false,
            },
            now,
        )?;
        rdb::attach(&tx, id, &files)?;
    }
    let names: Vec<&str> = recipients.iter().map(|p| p.id.as_str()).collect();
    audit::append(
        &tx,
        now,
        &Event {
            actor: "system",
            event: "summary.queued",
            case_id: None,
            round_id: None,
            data: json!({"routine": routine.id, "year": year, "to": summary.to.as_str(), "recipients": names}),
            personal: None,
        },
    )?;
    tx.commit()?;
    Ok(true)
}

/// Writes `report annual`'s HTML and CSV into `out`; returns their paths.
pub fn write(
    engine: &Engine,
    routine: Option<&str>,
    year: i32,
    out: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<Vec<std::path::PathBuf>> {
    let (scopes, title, template) = scopes(engine, routine)?;
    let rendered = render(engine, &scopes, year, &template, &title, now)?;
    crate::private_files::create_dir(out)
        .map_err(|e| Error::runtime(format!("cannot create `{}`: {e}", out.display())))?;
    let stem = match routine {
        Some(_) => format!(
            "sammanstallning-{year}-{}",
            scopes.first().map(|s| s.routine_id.as_str()).unwrap_or("")
        ),
        None => format!("sammanstallning-{year}"),
    };
    let html = out.join(format!("{stem}.html"));
    let csv = out.join(format!("{stem}.csv"));
    for (path, text) in [(&html, &rendered.html), (&csv, &rendered.csv)] {
        crate::private_files::write(path, text.as_bytes())
            .map_err(|e| Error::runtime(format!("cannot write `{}`: {e}", path.display())))?;
    }
    Ok(vec![html, csv])
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_made_inert_and_numbers_are_kept() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\";\"klick\")"),
            "\"'=HYPERLINK(\"\"http://x\"\";\"\"klick\"\")\""
        );
        assert_eq!(csv_cell("+46 70"), "'+46 70");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("-12,5"), "-12,5");
        assert_eq!(csv_cell("+3"), "+3");
        assert_eq!(csv_cell("Hemtjänst Norr"), "Hemtjänst Norr");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell(""), "");
    }
}

#[cfg(test)]
mod conclusion_tests {
    use super::*;

    fn scope(kind: CaseKind, coverage_goal: bool) -> Scope {
        Scope {
            routine_id: "r".into(),
            title: "Rutinen".into(),
            kind,
            timezone: chrono_tz::Europe::Stockholm,
            systems: None,
            crontab: None,
            coverage_goal,
        }
    }

    fn figures(pairs: &[(&str, i64)], rounds: (i64, i64)) -> Figures {
        let total: Measures = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        Figures {
            year: 2027,
            rounds_due: rounds.0,
            rounds_held: rounds.1,
            units: BTreeMap::new(),
            total,
        }
    }

    fn texts(v: &Value, key: &str) -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.get("text").unwrap_or(l).as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_conclusions_say_whether_the_aim_was_reached_and_what_to_act_on() {
        let none = figures(&[], (0, 0));
        // Everyone reviewed, every round held, nothing open: nothing to act on.
        let reached = conclusions(
            &[(
                scope(CaseKind::Sampling, true),
                figures(
                    &[
                        ("population", 40),
                        ("reviewed", 40),
                        ("cases", 44),
                        ("result:no_finding", 44),
                    ],
                    (12, 12),
                ),
                none.clone(),
            )],
            &NeedsState::default(),
            &Staffing::new(),
        );
        let lines = texts(&reached, "lines");
        assert!(
            lines[0].contains("nåddes.") && lines[0].contains("40 av 40"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("44 av 44 ärenden avslutades: Ingen anmärkning 44"),
            "{lines:?}"
        );
        assert!(texts(&reached, "act").is_empty());
        // A user left unreviewed, a round missed, an open case, a police report, and an
        // information routine with nobody to inform.
        let missed = conclusions(
            &[
                (
                    scope(CaseKind::Sampling, true),
                    figures(
                        &[
                            ("population", 40),
                            ("reviewed", 39),
                            ("cases", 40),
                            ("open", 1),
                            ("late", 2),
                            ("result:police_report", 1),
                            ("police", 1),
                            ("labour_law", 1),
                            ("result:no_finding", 38),
                        ],
                        (12, 11),
                    ),
                    none.clone(),
                ),
                (
                    scope(CaseKind::Information, false),
                    figures(&[], (0, 0)),
                    none.clone(),
                ),
            ],
            &NeedsState::default(),
            &Staffing::new(),
        );
        let lines = texts(&missed, "lines");
        assert!(
            lines[0].contains("nåddes inte") && lines[0].contains("11 av 12 omgångar"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("ingen medarbetare med konto"),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("1 fortfarande öppet")),
            "{lines:?}"
        );
        let act = texts(&missed, "act");
        assert_eq!(act.len(), 4, "{act:?}");
        assert!(act[0].contains("målet nåddes inte"));
        assert!(act[1].starts_with("1 ärende är inte besvarat"));
        assert!(act[2].starts_with("1 polisanmälan"));
        // Without a coverage goal, the planned rounds are the aim.
        let rounds = conclusions(
            &[(
                scope(CaseKind::Sampling, false),
                figures(&[("population", 100), ("reviewed", 30)], (2, 2)),
                none,
            )],
            &NeedsState::default(),
            &Staffing::new(),
        );
        assert!(texts(&rounds, "lines")[0].contains("de planerade stickprovsomgångarna) nåddes."));
        // Informing counts everyone with an account, not the year's cases.
        let informing = |staff: (usize, usize)| {
            let c = conclusions(
                &[(
                    scope(CaseKind::Information, false),
                    figures(&[("cases", 1), ("closed", 1)], (0, 0)),
                    figures(&[], (0, 0)),
                )],
                &NeedsState::default(),
                &Staffing::from([("r".to_string(), staff)]),
            );
            (texts(&c, "lines"), texts(&c, "act"))
        };
        let (lines, act) = informing((3, 2));
        assert_eq!(
            lines[0],
            "Rutinen: 3 av 5 medarbetare med konto är informerade om loggkontroll, 2 ännu inte."
        );
        assert_eq!(
            act,
            ["Rutinen: 2 medarbetare har ännu inte fått information om loggkontroll."]
        );
        let (lines, act) = informing((1, 0));
        assert!(
            lines[0].contains("1 av 1 medarbetare med konto är informerad om"),
            "{lines:?}"
        );
        assert!(act.is_empty(), "{act:?}");
    }

    #[test]
    fn the_conclusions_name_the_units_without_a_current_needs_analysis() {
        let conclude = |needs: &NeedsState| {
            let c = conclusions(&[], needs, &Staffing::new());
            (texts(&c, "lines"), texts(&c, "act"))
        };
        let (lines, act) = conclude(&NeedsState {
            analysed: false,
            units: 3,
            without: Vec::new(),
        });
        assert!(
            lines
                .iter()
                .any(|l| l.contains("ingen är inläst, så ingen av 3 enheter")),
            "{lines:?}"
        );
        assert!(act.iter().any(|a| a.contains("rights import")), "{act:?}");
        let (lines, act) = conclude(&NeedsState {
            analysed: true,
            units: 3,
            without: vec![
                ("Hemtjänst Syd".into(), None),
                ("Hemtjänst Öst".into(), NaiveDate::from_ymd_opt(2025, 3, 1)),
            ],
        });
        assert!(
            lines.iter().any(|l| l.contains(
                "saknas eller är äldre än ett år för 2 av 3 enheter: Hemtjänst Syd och Hemtjänst Öst (senast beslutad 2025-03-01)"
            )),
            "{lines:?}"
        );
        assert!(act.iter().any(|a| a.contains("Hemtjänst Syd")), "{act:?}");
        let (lines, act) = conclude(&NeedsState {
            analysed: true,
            units: 1,
            without: Vec::new(),
        });
        assert!(
            lines
                .iter()
                .any(|l| l.contains("enheten med behörigheter har en som är högst ett år")),
            "{lines:?}"
        );
        assert!(act.is_empty(), "{act:?}");
    }
}
