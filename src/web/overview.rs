//! The overview for quality staff, behind the login: key figures, each routine with its graph
//! drawn as a picture, the rounds, open cases by unit and step, overdue cases, this year's
//! coverage per routine and unit as a chart, and emails that could not be delivered. Every page
//! reads through the page pool; none writes.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::auth::Staff;
use super::chart::{self, Bar};
use super::{App, page};
use crate::Result;
use crate::clock::resolve_local;
use crate::engine::view::{Views, datetime_sv};
use crate::routine::Routine;
use crate::routine::explain::{explain, system_title};
use crate::routine::model::Trigger;
use crate::store::{outbox, parse_ts, rounds, view as db};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

/// Overdue steps listed on one page at most.
const OVERDUE_LIMIT: usize = 500;
/// Units drawn in a coverage chart at most (the table has them all).
const CHART_UNITS: usize = 30;

/// The sections, for the navigation: path, Swedish name.
const SECTIONS: &[(&str, &str)] = &[
    ("/overview", "Översikt"),
    ("/overview/routines", "Rutiner"),
    ("/overview/rounds", "Omgångar"),
    ("/overview/cases", "Ärenden"),
    ("/overview/start", "Nytt ärende"),
    ("/overview/overdue", "Försenade"),
    ("/overview/coverage", "Täckning"),
    ("/overview/needs", "Behovsanalys"),
    ("/overview/radar", "Risköversikt"),
    ("/overview/logs", "Loggar"),
    ("/overview/summary", "Sammanställning"),
    ("/overview/watch", "Bevakning"),
    ("/overview/roster", "Personal"),
    ("/overview/delegations", "Delegeringar"),
    ("/overview/emails", "Mejlfel"),
];

fn nav(current: &str) -> Value {
    Value::Array(
        SECTIONS
            .iter()
            .map(|(path, name)| json!({"path": path, "name": name, "current": *path == current}))
            .collect(),
    )
}

/// Renders an overview page: `data` plus the navigation, the user and the logout form's token.
pub(super) fn show(
    app: &App,
    staff: &Staff,
    path: &str,
    template: &str,
    title: &str,
    data: Value,
) -> Response {
    let mut sections = nav(path);
    if let Value::Array(items) = &mut sections {
        if staff.role.may_act() {
            items.push(json!({"path": "/overview/audit", "name": "Händelselogg",
                "current": path == "/overview/audit"}));
        }
        if staff.role == crate::store::web::WebRole::Admin {
            items.push(json!({"path": "/overview/accounts", "name": "Konton",
                "current": path == "/overview/accounts"}));
        }
    }
    let mut context = json!({
        "title": title,
        "nav": sections,
        "user": staff.name,
        "role": staff.role.title_sv(),
        "csrf": staff.csrf,
    });
    if let (Value::Object(map), Value::Object(extra)) = (&mut context, data) {
        map.extend(extra);
    }
    // What the account may do, unless the page said more precisely.
    if context.get("may_act").is_none() {
        context["may_act"] = json!(staff.role.may_act());
    }
    page::render(app, StatusCode::OK, template, &context)
}

pub(super) async fn read<F>(app: &Arc<App>, f: F) -> std::result::Result<Value, Response>
where
    F: FnOnce(&App, &crate::store::Db) -> Result<Value> + Send + 'static,
{
    app.with_store(move |app, store| f(app, store.db()))
        .await
        .map_err(|err| page::server_error(app, &err))
}

/// This year in the configured zone: its number and its bounds as instants.
fn year_bounds(app: &App, now: DateTime<Utc>) -> (i32, DateTime<Utc>, DateTime<Utc>) {
    let tz = app.views.config().timezone;
    let year = now.with_timezone(&tz).year();
    let start = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .map(|d| resolve_local(d.and_time(chrono::NaiveTime::MIN), tz))
            .unwrap_or(now)
    };
    (year, start(year), start(year + 1))
}

pub(super) fn routine_title(
    views: &Views,
    conn: &crate::store::Db,
    id: &str,
    hash: &str,
) -> String {
    views
        .version(conn, hash)
        .map(|r| r.title.clone())
        .or_else(|_| {
            views
                .routines()
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.title.clone())
                .ok_or(())
        })
        .unwrap_or_else(|_| id.to_string())
}

pub(super) fn step_title(
    views: &Views,
    conn: &crate::store::Db,
    hash: &str,
    state: &str,
) -> String {
    views
        .version(conn, hash)
        .map(|r| Views::state_title(&r, state))
        .unwrap_or_else(|_| state.to_string())
}

/// Coverage of one sampling routine this year: the whole and each unit.
fn coverage_of(
    app: &App,
    conn: &crate::store::Db,
    routine: &Routine,
    index: usize,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<Value> {
    let org = app.views.org(conn)?;
    let (users, drawn) = db::coverage_total(conn, &routine.id, from, before)?;
    let share = |drawn: i64, users: i64| {
        if users > 0 {
            drawn as f64 / users as f64
        } else {
            0.0
        }
    };
    let mut units: Vec<(String, i64, i64)> = db::coverage(conn, &routine.id, from, before)?
        .into_iter()
        .map(|u| (org.unit_name(&u.unit_id).to_string(), u.users, u.drawn))
        .collect();
    units.sort_by(|a, b| a.0.cmp(&b.0));
    let mut charted = units.clone();
    charted.sort_by(|a, b| {
        share(a.2, a.1)
            .total_cmp(&share(b.2, b.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    let cut = charted.len() > CHART_UNITS;
    charted.truncate(CHART_UNITS);
    let bars: Vec<Bar> = charted
        .iter()
        .map(|(name, users, drawn)| Bar {
            label: name.clone(),
            share: share(*drawn, *users),
            detail: format!("{drawn} av {users}"),
        })
        .collect();
    let title = format!("Täckning per enhet: {}", routine.title);
    Ok(json!({
        "id": routine.id,
        "title": routine.title,
        "system": system_title(routine.system()),
        "users": users,
        "drawn": drawn,
        "percent": chart::percent(share(drawn, users)),
        "cut": cut,
        "chart_units": CHART_UNITS,
        "chart": if units.is_empty() { String::new() } else { chart::bars(&format!("coverage-{index}"), &title, &bars) },
        "units": units.iter().map(|(name, users, drawn)| json!({
            "name": name, "users": users, "drawn": drawn,
            "percent": chart::percent(share(*drawn, *users)),
        })).collect::<Vec<_>>(),
    }))
}

fn sampling_routines(app: &App) -> Vec<Arc<Routine>> {
    app.views
        .routines()
        .iter()
        .filter(|r| r.sampling.is_some() && matches!(r.trigger, Trigger::Schedule { .. }))
        .cloned()
        .collect()
}

/// `GET /overview`: the key figures, with the coverage of every sampling routine.
pub(crate) async fn home(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = now.with_timezone(&tz).date_naive();
        let (year, from, before) = year_bounds(app, now);
        let (_, overdue) = db::overdue(conn, today, 0)?;
        let (_, _, failed) = outbox::counts(conn)?;
        let rounds_this_year = rounds::list(conn, None)?
            .iter()
            .filter(|r| r.occurrence >= crate::store::ts(from) && r.occurrence < crate::store::ts(before))
            .count();
        let mut bars = Vec::new();
        for r in sampling_routines(app) {
            let (users, drawn) = db::coverage_total(conn, &r.id, from, before)?;
            bars.push(Bar {
                label: r.title.clone(),
                share: if users > 0 { drawn as f64 / users as f64 } else { 0.0 },
                detail: if users > 0 {
                    format!("{drawn} av {users}")
                } else {
                    "ingen omgång i år".into()
                },
            });
        }
        let chart = if bars.is_empty() {
            String::new()
        } else {
            chart::bars("coverage-all", &format!("Täckning {year} per rutin"), &bars)
        };
        Ok(json!({
            "year": year,
            "today": crate::sv::date(today),
            "open": db::open_case_count(conn)?,
            "overdue": overdue,
            "failed": failed,
            "rounds": rounds_this_year,
            "routines": app.views.routines().len(),
            "chart": chart,
            "coverage": bars.iter().map(|b| json!({"title": b.label, "percent": chart::percent(b.share), "detail": b.detail})).collect::<Vec<_>>(),
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview",
            "web/overview.html",
            "Översikt",
            data,
        ),
        Err(response) => response,
    }
}

/// The routine's graph with ids made unique on the page.
fn graph_svg(routine: &Routine, index: usize) -> String {
    crate::routine::render::svg(routine)
        .replace("id=\"graph-title\"", &format!("id=\"graph-title-{index}\""))
        .replace(
            "aria-labelledby=\"graph-title\"",
            &format!("aria-labelledby=\"graph-title-{index}\""),
        )
        .replace("id=\"arrow\"", &format!("id=\"arrow-{index}\""))
        .replace("url(#arrow)", &format!("url(#arrow-{index})"))
}

/// `GET /overview/routines`: every routine, its graph and its plain-Swedish account.
pub(crate) async fn routines(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let list: Vec<Value> = app
        .views
        .routines()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": r.id,
                "title": r.title,
                "kind": r.kind.title_sv(),
                "systems": r.systems.iter().map(|s| system_title(s)).collect::<Vec<_>>().join(", "),
                "version": r.version,
                "graph": graph_svg(r, i),
                "explain": explain(r, now),
            })
        })
        .collect();
    show(
        &app,
        &staff,
        "/overview/routines",
        "web/routines.html",
        "Rutiner",
        json!({"routines": list}),
    )
}

/// `GET /overview/rounds`: every sampling round, the latest first.
pub(crate) async fn rounds_page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let mut list = rounds::list(conn, None)?;
        list.reverse();
        let rows = list
            .iter()
            .map(|r| {
                Ok(json!({
                    "id": r.id,
                    "routine": routine_title(&app.views, conn, &r.routine, &r.routine_hash),
                    "occurrence": datetime_sv(parse_ts(&r.occurrence)?, tz),
                    "population": r.population,
                    "drawn": r.drawn,
                    "percent": chart::percent(if r.population > 0 { r.drawn as f64 / r.population as f64 } else { 0.0 }),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({"rounds": rows}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/rounds",
            "web/rounds.html",
            "Omgångar",
            data,
        ),
        Err(response) => response,
    }
}

/// `GET /overview/overdue`: open steps past their due date, the longest overdue first.
pub(crate) async fn overdue(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = now.with_timezone(&tz).date_naive();
        let org = app.views.org(conn)?;
        let (rows, total) = db::overdue(conn, today, OVERDUE_LIMIT)?;
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "case": r.case_id,
                    "routine": routine_title(&app.views, conn, &r.routine_id, &r.routine_hash),
                    "unit": org.unit_name(&r.unit_id),
                    "step": step_title(&app.views, conn, &r.routine_hash, &r.state),
                    "assignee": r.assignee_id.as_deref().map(|p| Views::name(&org, p)).unwrap_or_else(|| "ingen".into()),
                    "due": crate::sv::date(r.due_date),
                    "days": (today - r.due_date).num_days(),
                    "escalated": r.escalated,
                })
            })
            .collect();
        Ok(json!({"cases": rows, "total": total, "shown": rows.len()}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/overdue",
            "web/overdue.html",
            "Försenade ärenden",
            data,
        ),
        Err(response) => response,
    }
}

/// `GET /overview/coverage`: this year's coverage per routine and unit.
pub(crate) async fn coverage(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let (year, from, before) = year_bounds(app, now);
        let list = sampling_routines(app)
            .iter()
            .enumerate()
            .map(|(i, r)| coverage_of(app, conn, r, i, from, before))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({"year": year, "routines": list}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/coverage",
            "web/coverage.html",
            "Täckning",
            data,
        ),
        Err(response) => response,
    }
}

/// `GET /overview/needs`: the needs-and-risk analysis in force, unit by unit, and the units
/// with staff accounts that have none or only an outdated one.
pub(crate) async fn needs(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = now.with_timezone(&tz).date_naive();
        let analysis = crate::evidence::needs::Analysis::load(conn, Some(now))?;
        let staffed = crate::store::access::units_with_any_account(conn)?;
        let units: Vec<Value> = analysis
            .units(today)
            .into_iter()
            .filter(|u| !u.needs.is_empty() || staffed.contains(&u.unit))
            .map(|u| {
                json!({
                    "id": u.unit,
                    "name": u.name,
                    "current": u.current,
                    "decided_on": u.decided_on.map(crate::store::date),
                    "staffed": staffed.contains(&u.unit),
                    "needs": u.needs.iter().map(|n| json!({
                        "title": n.title,
                        "system": crate::routine::explain::system_title(&n.system),
                        "scope": n.scope.sv(),
                        "risk": n.risk,
                        "decided_by": n.decided_by,
                        "decided_on": crate::store::date(n.decided_on),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let missing = units
            .iter()
            .filter(|u| u["staffed"] == true && u["current"] == false)
            .count();
        let version = match &analysis.version {
            Some(v) => Some(json!({
                "file": v.file,
                "imported": crate::records::files::local_at(crate::store::parse_ts(&v.imported_at)?, tz),
                "rows": v.rows,
            })),
            None => None,
        };
        Ok(json!({"version": version, "units": units, "missing": missing}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/needs",
            "web/needs.html",
            "Behovs- och riskanalys",
            data,
        ),
        Err(response) => response,
    }
}

/// Why an email was not delivered, in Swedish first; the server's own words after, for whoever
/// runs the mail server.
fn transport_error_sv(error: &str) -> String {
    let lower = error.to_lowercase();
    let code = smtp_code(error);
    let why = match code {
        Some(c) if c.starts_with('5') => "Mottagarens e-postserver vägrade ta emot mejlet",
        Some(c) if c.starts_with('4') => "E-postservern bad om att få mejlet senare",
        _ if lower.contains("refused") || lower.contains("connect") => {
            "Det gick inte att ansluta till e-postservern"
        }
        _ if lower.contains("timed out") || lower.contains("timeout") => {
            "E-postservern svarade inte i tid"
        }
        _ if lower.contains("certificate") || lower.contains("tls") => {
            "Den säkra förbindelsen till e-postservern kunde inte upprättas"
        }
        _ if lower.contains("address") || lower.contains("mailbox") => "Adressen fungerar inte",
        _ => "Mejlet kunde inte skickas",
    };
    format!("{why} (servern: {error})")
}

/// The SMTP reply code in an error as the sender stores it: `…: permanent error (550): …`
/// (lettre's words), or a reply that begins with its code.
fn smtp_code(error: &str) -> Option<&str> {
    let digits = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(at) = error.find("error (") {
        let code = error.get(at + 7..at + 10)?;
        return digits(code).then_some(code);
    }
    error.trim_start().get(..3).filter(|c| digits(c))
}

fn purpose_sv(purpose: &str) -> &str {
    match purpose {
        "task" => "Uppgift",
        "reminder" => "Påminnelse",
        "escalation" => "Eskalering",
        "inform" => "För kännedom",
        "summary_mail" => "Sammanställning",
        other => other,
    }
}

/// `GET /overview/logs`: the access-log imports, each system's covered periods and gaps, and
/// the files the inbox refused.
pub(crate) async fn logs(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let local = |seconds: i64| {
            chrono::DateTime::from_timestamp(seconds, 0)
                .map(|t| datetime_sv(t, tz))
                .unwrap_or_default()
        };
        let imports = crate::store::records::imports(conn)?
            .iter()
            .rev()
            .map(|r| {
                Ok(json!({
                    "id": r.import_id,
                    "file": r.file,
                    "system": crate::routine::explain::system_title(&r.system),
                    "rows": r.rows,
                    "from": local(r.covers_from),
                    "to": local(r.covers_to),
                    "imported": datetime_sv(parse_ts(&r.imported_at)?, tz),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        let coverage: Vec<Value> = crate::evidence::coverage::by_system(conn)?
            .iter()
            .map(|s| {
                let show = |p: &crate::evidence::coverage::Period| {
                    let at = |t: &str| {
                        parse_ts(t)
                            .map(|t| datetime_sv(t, tz))
                            .unwrap_or_else(|_| t.to_string())
                    };
                    json!({"from": at(&p.from), "to": at(&p.to)})
                };
                json!({
                    "system": crate::routine::explain::system_title(&s.system),
                    "covered": s.covered.iter().map(show).collect::<Vec<_>>(),
                    "gaps": s.gaps.iter().map(show).collect::<Vec<_>>(),
                })
            })
            .collect();
        let failed: Vec<String> = app
            .views
            .config()
            .logs_inbox
            .as_ref()
            .and_then(|dir| std::fs::read_dir(dir.join("failed")).ok())
            .map(|entries| {
                let mut names: Vec<String> = entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".error.txt"))
                    .collect();
                names.sort();
                names
            })
            .unwrap_or_default();
        // How much of the last 30 days' log the rules explain: computed once a day, and again
        // after an import of log, relationships or shifts.
        let context_imports = crate::store::relations::imports(conn)?;
        let key = format!(
            "{}|{:?}|{:?}",
            now.with_timezone(&tz).date_naive(),
            crate::store::records::imports(conn)?
                .last()
                .map(|i| i.import_id),
            context_imports.last().map(|i| i.id)
        );
        let from = now - chrono::Duration::days(30);
        let cached = app.explained.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        });
        let explained = match cached {
            Some(v) => v,
            None => {
                let org = app.views.org(conn)?;
                let current = app.views.routines();
                let routines: Vec<&Routine> = current.iter().map(|r| r.as_ref()).collect();
                let figure = crate::evidence::explained::figure(
                    conn,
                    &org,
                    &routines,
                    &crate::evidence::radar::Scope {
                        from,
                        to: now,
                        system: None,
                        tz,
                    },
                    now,
                )?;
                let v = crate::evidence::explained::for_page(&figure);
                if let Ok(mut c) = app.explained.lock() {
                    *c = Some((key, v.clone()));
                }
                v
            }
        };
        let context: Vec<Value> = context_imports
            .iter()
            .rev()
            .map(|i| {
                json!({
                    "kind": if i.kind == "relations" { "Vårdrelationer" } else { "Arbetspass" },
                    "file": i.file,
                    "rows": i.rows,
                    "added": i.added,
                    "imported": parse_ts(&i.imported_at)
                        .map(|t| datetime_sv(t, tz))
                        .unwrap_or_else(|_| i.imported_at.clone()),
                })
            })
            .collect();
        Ok(json!({
            "explained": explained,
            "explained_from": datetime_sv(from, tz),
            "explained_to": datetime_sv(now, tz),
            "context_imports": context,
            "imports": imports,
            "coverage": coverage,
            "inbox": app.views.config().logs_inbox.as_ref().map(|d| d.display().to_string()),
            "failed": failed,
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/logs",
            "web/logs.html",
            "Inlästa loggar",
            data,
        ),
        Err(response) => response,
    }
}

/// `GET /overview/emails`: emails the sender gave up on.
pub(crate) async fn emails(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let rows = outbox::list(conn, Some("failed"))?
            .iter()
            .rev()
            .map(|m| {
                Ok(json!({
                    "id": m.id,
                    "created": datetime_sv(parse_ts(&m.created_at)?, tz),
                    "purpose": purpose_sv(&m.purpose),
                    "case": m.case_id,
                    "to": m.to,
                    "attempts": m.attempts,
                    "error": m.last_error.as_deref().map(transport_error_sv),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({"emails": rows}))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/emails",
            "web/emails.html",
            "Mejl som inte kom fram",
            data,
        ),
        Err(response) => response,
    }
}

/// The radar's period and system, as the form sends them.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RadarQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub system: String,
}

/// The longest period of the radar page, in days.
const RADAR_MAX_DAYS: i64 = 366;

/// Users shown on the radar page at most.
const RADAR_ROWS: usize = 50;

/// `GET /overview/radar`: users ranked by flagged and unexplained accesses in a period (default
/// the last 30 days). Nothing opens by itself: the page says how to start a targeted review.
pub(crate) async fn radar(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<
        axum::extract::Query<RadarQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let now = app.clock.now();
    let q = query.map(|q| q.0).unwrap_or_default();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = now.with_timezone(&tz).date_naive();
        let mut errors: Vec<String> = Vec::new();
        let mut day = |text: &str, default: NaiveDate, what: &str| -> NaiveDate {
            if text.trim().is_empty() {
                return default;
            }
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").unwrap_or_else(|_| {
                errors.push(format!("{what} ska vara ett datum som 2027-03-01."));
                default
            })
        };
        let from_day = day(&q.from, today - chrono::Days::new(30), "Från");
        let to_day = day(&q.to, today, "Till");
        let (from_day, to_day) = if to_day < from_day {
            errors.push("Till-datumet ligger före från-datumet.".into());
            (today - chrono::Days::new(30), today)
        } else if (to_day - from_day).num_days() > RADAR_MAX_DAYS {
            // A long period reads much of the log: the page stays within a year.
            errors.push(format!(
                "Perioden får vara högst {RADAR_MAX_DAYS} dagar; den kortades till det."
            ));
            (to_day - chrono::Days::new(RADAR_MAX_DAYS as u64), to_day)
        } else {
            (from_day, to_day)
        };
        let midnight = |d: NaiveDate| resolve_local(d.and_time(chrono::NaiveTime::MIN), tz);
        let (from, to) = (
            midnight(from_day),
            midnight(to_day.succ_opt().unwrap_or(to_day)),
        );
        // The systems with imported log.
        let mut systems: Vec<String> = crate::store::evidence::all_coverage(conn)?
            .into_iter()
            .map(|(s, ..)| s)
            .collect();
        systems.dedup();
        let system = q.system.trim();
        let system = if system.is_empty() {
            None
        } else if systems.iter().any(|s| s == system) {
            Some(system.to_string())
        } else {
            errors.push(format!("Okänt system ”{system}”."));
            None
        };
        let org = app.views.org(conn)?;
        let current = app.views.routines();
        let routines: Vec<&Routine> = current.iter().map(|r| r.as_ref()).collect();
        let rows = crate::evidence::radar::radar(
            conn,
            &org,
            &routines,
            &crate::evidence::radar::Scope {
                from,
                to,
                system: system.as_deref(),
                tz,
            },
            now,
        )?;
        let names = crate::evidence::radar::flag_names();
        let shown: Vec<Value> = rows
            .iter()
            .take(RADAR_ROWS)
            .enumerate()
            .map(|(i, r)| {
                let flags: Vec<Value> = names
                    .iter()
                    .filter_map(|(code, name)| {
                        r.flags
                            .get(*code)
                            .map(|n| json!({"code": code, "name": name, "n": n}))
                    })
                    .collect();
                json!({
                    "rank": i + 1,
                    "person": r.person,
                    "name": if r.name.is_empty() { "Okänd – kontot finns inte i personallistan".to_string() } else { r.name.clone() },
                    "accounts": r.accounts.join(", "),
                    "accesses": r.accesses,
                    "clients": r.clients,
                    "flagged": r.flagged,
                    "unexplained": r.unexplained,
                    "score": r.score,
                    "flags": flags,
                    "start": r.person.as_ref().map(|p| format!(
                        "/overview/start?user={}&from={from_day}&to={to_day}",
                        crate::web::cases::query_value(p)
                    )),
                })
            })
            .collect();
        Ok(json!({
            "from": from_day.to_string(),
            "to": to_day.to_string(),
            "system": system.unwrap_or_default(),
            "systems": systems.iter().map(|s| json!({"id": s, "name": system_title(s)})).collect::<Vec<_>>(),
            "rows": shown,
            "total": rows.len(),
            "errors": errors,
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/radar",
            "web/radar.html",
            "Risköversikt",
            data,
        ),
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::transport_error_sv;

    #[test]
    fn a_transport_error_is_said_in_swedish_first() {
        assert_eq!(
            transport_error_sv("550 mailbox unavailable"),
            "Mottagarens e-postserver vägrade ta emot mejlet (servern: 550 mailbox unavailable)"
        );
        assert!(
            transport_error_sv("Connection refused (os error 111)")
                .starts_with("Det gick inte att ansluta")
        );
        assert!(transport_error_sv("something odd").starts_with("Mejlet kunde inte skickas"));
        // As the sender stores it: the server, then lettre's words.
        assert!(
            transport_error_sv("smtp.example.se: permanent error (550): 5.1.1 mailbox unavailable")
                .starts_with("Mottagarens e-postserver vägrade")
        );
        assert!(
            transport_error_sv(
                "gave up after 5 days: smtp.example.se: transient error (421): later"
            )
            .starts_with("E-postservern bad om att få mejlet senare")
        );
    }
}
