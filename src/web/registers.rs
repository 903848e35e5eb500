//! The registers that were on the command line only: the watch list (quality staff add a client
//! with a reason and an end, and remove entries), the roster (read-only: units, their managers
//! and people, each person's accounts and roles, and what the latest import changed), and the
//! delegations (who stands in for whom, until when; admins add and end them). Every change is
//! one transaction, audited with the overview's account, behind the session's form token.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::auth::{Checked, Staff, StaffForm};
use super::overview::{read, show};
use super::{App, page};
use crate::engine::view::Views;
use crate::engine::{delegations, watch};
use crate::roster::Role;
use crate::store::web::WebRole;
use crate::store::{evidence as watch_db, parse_date, parse_ts, roster};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// People listed on the roster page at most, per unit or per change list.
const LISTED: usize = 500;

fn when(t: Option<&str>, tz: chrono_tz::Tz) -> String {
    t.and_then(|t| parse_ts(t).ok())
        .map(|t| crate::engine::view::datetime_sv(t, tz))
        .unwrap_or_default()
}

fn day_sv(d: Option<&str>) -> String {
    d.and_then(|d| parse_date(d).ok())
        .map(crate::sv::date)
        .unwrap_or_default()
}

/// Shows `template` at `path` with `data`, a done message or an error, and `status`.
fn render(
    app: &App,
    staff: &Staff,
    (path, template, title): (&str, &str, &str),
    mut data: Value,
    done: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    data["done"] = json!(done.unwrap_or_default());
    data["error"] = json!(error.unwrap_or_default());
    let mut response = show(app, staff, path, template, title, data);
    *response.status_mut() = status;
    response
}

// ----- the watch list -----

const WATCH: (&str, &str, &str) = ("/overview/watch", "web/watch.html", "Bevakningslista");

/// `GET /overview/watch`.
pub(crate) async fn watch_page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    watch_view(&app, &staff, None, None, StatusCode::OK).await
}

async fn watch_view(
    app: &Arc<App>,
    staff: &Staff,
    done: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let now = app.clock.now();
    let shows_clients = staff.role.may_act();
    let data = read(app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = crate::clock::local_date(now, tz);
        let org = app.views.org(conn)?;
        let entries: Vec<Value> = watch_db::watch_entries(conn)?
            .iter()
            .filter(|e| watch::in_force(e, today))
            .map(|e| {
                json!({
                    "id": e.id,
                    "client": e.client.as_deref().map(crate::records::files::personnummer).unwrap_or_default(),
                    "reason": e.reason.clone().unwrap_or_default(),
                    "until": day_sv(e.until.as_deref()),
                    "added_by": super::audit::actor_sv(&org, &e.added_by),
                    "added_at": when(Some(&e.added_at), tz),
                })
            })
            .collect();
        Ok(json!({
            "count": entries.len(),
            "entries": if shows_clients { entries } else { Vec::new() },
            "shows_clients": shows_clients,
            "today": crate::store::date(today),
        }))
    })
    .await;
    match data {
        Ok(data) => render(app, staff, WATCH, data, done, error, status),
        Err(response) => response,
    }
}

/// The watch list's form; every field may be missing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WatchForm {
    #[serde(default)]
    pub csrf: String,
    /// `add` or `remove`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub reason: String,
    /// The last day (YYYY-MM-DD), or empty: until removed.
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub id: String,
}

/// The page for someone whose role may not change a register: only `who` do.
fn only(app: &App, may: bool, who: &str) -> Option<Response> {
    (!may).then(|| {
        page::message(
            app,
            StatusCode::FORBIDDEN,
            "Behörighet saknas",
            &[&format!(
                "Bara {who} ändrar här. Kontakta den som administrerar loggkoll."
            )],
        )
    })
}

impl StaffForm for WatchForm {
    const UNREAD: &'static str =
        "Inget har ändrats. Gå tillbaka till bevakningslistan och försök igen.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn may_not(app: &App, staff: &Staff) -> Option<Response> {
        only(
            app,
            staff.role.may_act(),
            "kvalitetsarbete och administratörer",
        )
    }
}

impl StaffForm for DelegationForm {
    const UNREAD: &'static str =
        "Inget har ändrats. Gå tillbaka till delegeringarna och försök igen.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn may_not(app: &App, staff: &Staff) -> Option<Response> {
        only(app, staff.role == WebRole::Admin, "en administratör")
    }
}

/// `POST /overview/watch`: add an entry or remove one.
pub(crate) async fn watch_change(
    State(app): State<Arc<App>>,
    Checked { staff, form }: Checked<WatchForm>,
) -> Response {
    let until = match form.until.trim() {
        "" => Ok(None),
        u => NaiveDate::parse_from_str(u, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("”{u}” är inget datum (ÅÅÅÅ-MM-DD).")),
    };
    let now = app.clock.now();
    let name = staff.name.clone();
    let done = match (form.action.as_str(), until) {
        (_, Err(problem)) => Ok(Err(problem)),
        ("add", Ok(until)) => {
            let (client, reason) = (form.client.clone(), form.reason.clone());
            app.with_store(move |app, store| {
                let tz = app.views.config().timezone;
                refusal_sv(
                    watch::add(
                        store,
                        &client,
                        &reason,
                        until,
                        watch::By::Web(&name),
                        tz,
                        now,
                    ),
                    |_| "Kunden är tillagd på bevakningslistan.".to_string(),
                )
            })
            .await
        }
        ("remove", _) => match form.id.trim().parse::<i64>() {
            Ok(id) => {
                app.with_store(move |_, store| {
                    refusal_sv(watch::remove(store, id, watch::By::Web(&name), now), |()| {
                        "Kunden är borttagen från bevakningslistan.".to_string()
                    })
                })
                .await
            }
            Err(_) => Ok(Err("Välj en bevakning att ta bort.".to_string())),
        },
        _ => Ok(Err("Okänd åtgärd.".to_string())),
    };
    finish(&app, &staff, done, |app, staff, done, error, status| {
        Box::pin(watch_view(app, staff, done, error, status))
    })
    .await
}

/// An engine result as a page says it: what was done, or the refusal in Swedish; other errors
/// stay errors.
fn refusal_sv<T>(
    result: crate::Result<T>,
    said: impl FnOnce(T) -> String,
) -> crate::Result<std::result::Result<String, String>> {
    match result {
        Ok(v) => Ok(Ok(said(v))),
        Err(e) => match e.refusal {
            Some(refusal) => Ok(Err(refusal.sv())),
            None => Err(e),
        },
    }
}

type View<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'a>>;

/// The page again after a change: with what was done, or why not (422).
async fn finish<'a>(
    app: &'a Arc<App>,
    staff: &'a Staff,
    done: crate::Result<std::result::Result<String, String>>,
    view: impl FnOnce(&'a Arc<App>, &'a Staff, Option<String>, Option<String>, StatusCode) -> View<'a>,
) -> Response {
    match done {
        Ok(Ok(said)) => view(app, staff, Some(said), None, StatusCode::OK).await,
        Ok(Err(problem)) => {
            view(
                app,
                staff,
                None,
                Some(problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => page::server_error(app, &err),
    }
}

// ----- the roster -----

/// `?unit=ID`: the unit whose people are listed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RosterQuery {
    #[serde(default)]
    pub unit: String,
}

/// `GET /overview/roster[?unit=ID]`: read-only.
pub(crate) async fn roster_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<Query<RosterQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let unit = query.map(|q| q.0.unit).unwrap_or_default();
    let now = app.clock.now();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = crate::clock::local_date(now, tz);
        let org = app.views.org(conn)?;
        let counts = roster::headcounts(conn)?;
        let managers = |role: Role, unit: &str| -> Vec<String> {
            org.holders(role, unit, today)
                .iter()
                .map(|p| Views::name(&org, p))
                .collect()
        };
        let mut units: Vec<Value> = org
            .units
            .iter()
            .map(|(id, (name, parent))| {
                json!({
                    "id": id,
                    "name": name,
                    "parent": parent.as_deref().map(|p| org.unit_name(p).to_string()).unwrap_or_default(),
                    "people": counts.get(id).copied().unwrap_or(0),
                    "unit_manager": managers(Role::UnitManager, id).join(", "),
                    "operations_manager": managers(Role::OperationsManager, id).join(", "),
                    "href": format!("/overview/roster?unit={}", super::cases::query_value(id)),
                    "selected": *id == unit,
                })
            })
            .collect();
        units.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let chosen = org.units.get(&unit).map(|(name, _)| name.clone());
        let members = if chosen.is_some() {
            roster::members_of(conn, &unit)?
        } else {
            Vec::new()
        };
        let mut people = Vec::new();
        for id in members.iter().take(LISTED) {
            let Some(p) = org.person(id) else { continue };
            let accounts: Vec<String> = roster::accounts_of_person(conn, id)?
                .into_iter()
                .map(|(s, a)| format!("{s}:{a}"))
                .collect();
            let roles: Vec<String> = roster::roles_of_person(conn, id)?
                .into_iter()
                .map(|(r, u)| {
                    let role = r.parse::<Role>().map_or(r.clone(), |r| r.title().to_string());
                    format!("{role}, {}", org.unit_name(&u))
                })
                .collect();
            people.push(json!({
                "id": p.id,
                "name": p.name,
                "title": p.title.clone().unwrap_or_default(),
                "accounts": accounts.join(", "),
                "roles": roles.join("; "),
                "employed": match (p.active_from, p.active_to) {
                    (Some(f), Some(t)) => format!("{} – {}", crate::sv::date(f), crate::sv::date(t)),
                    (Some(f), None) => format!("från {}", crate::sv::date(f)),
                    (None, Some(t)) => format!("till {}", crate::sv::date(t)),
                    (None, None) => String::new(),
                },
                "active": p.is_active_on(today),
            }));
        }
        let last = roster::last_import(conn)?.map(|l| {
            let count = |kind: &str| l.changes.iter().filter(|(_, k)| k == kind).count();
            let changes: Vec<Value> = l
                .changes
                .iter()
                .take(LISTED)
                .map(|(id, kind)| {
                    json!({
                        "name": Views::name(&org, id),
                        "id": id,
                        "kind": match kind.as_str() {
                            "added" => "ny",
                            "removed" => "borttagen",
                            _ => "ändrad",
                        },
                    })
                })
                .collect();
            json!({
                "at": when(Some(&l.imported_at), tz),
                "units_file": l.units_file,
                "people_file": l.people_file,
                "units": l.units,
                "people": l.people,
                "added": count("added"),
                "changed": count("changed"),
                "removed": count("removed"),
                "changes": changes,
                "more": l.changes.len().saturating_sub(LISTED),
            })
        });
        Ok(json!({
            "units": units,
            "unit": chosen.map(|name| json!({"id": unit, "name": name, "count": members.len()})),
            "people": people,
            "more_people": members.len().saturating_sub(LISTED),
            "last": last,
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/roster",
            "web/roster.html",
            "Personal",
            data,
        ),
        Err(response) => response,
    }
}

// ----- delegations -----

const DELEGATIONS: (&str, &str, &str) = (
    "/overview/delegations",
    "web/delegations.html",
    "Delegeringar",
);

/// `GET /overview/delegations`.
pub(crate) async fn delegations_page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    delegations_view(&app, &staff, None, None, StatusCode::OK).await
}

async fn delegations_view(
    app: &Arc<App>,
    staff: &Staff,
    done: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let now = app.clock.now();
    let may_change = staff.role == WebRole::Admin;
    let data = read(app, move |app, conn| {
        let tz = app.views.config().timezone;
        let today = crate::clock::local_date(now, tz);
        let org = app.views.org(conn)?;
        let list: Vec<Value> = roster::delegations(conn)?
            .iter()
            .filter(|d| d.valid_to >= today)
            .map(|d| {
                json!({
                    "id": d.id,
                    "holder": Views::name(&org, &d.holder_id),
                    "deputy": Views::name(&org, &d.deputy_id),
                    "role": d.role.title(),
                    "from": crate::sv::date(d.valid_from),
                    "to": crate::sv::date(d.valid_to),
                    "now": d.valid_from <= today,
                })
            })
            .collect();
        let roles: Vec<Value> = Role::ALL
            .iter()
            .map(|r| json!({"id": r.as_str(), "name": r.title()}))
            .collect();
        Ok(json!({
            "delegations": list,
            "roles": roles,
            "may_change": may_change,
            "today": crate::store::date(today),
        }))
    })
    .await;
    match data {
        Ok(data) => render(app, staff, DELEGATIONS, data, done, error, status),
        Err(response) => response,
    }
}

/// The delegations' form; every field may be missing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DelegationForm {
    #[serde(default)]
    pub csrf: String,
    /// `add` or `end`.
    #[serde(default)]
    pub action: String,
    /// The holder and the deputy: a person id, an account or a name.
    #[serde(default)]
    pub holder: String,
    #[serde(default)]
    pub deputy: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub id: String,
}

/// `POST /overview/delegations`: add a delegation or end one (admins).
pub(crate) async fn delegations_change(
    State(app): State<Arc<App>>,
    Checked { staff, form }: Checked<DelegationForm>,
) -> Response {
    let now = app.clock.now();
    let actor = format!("web:{}", staff.name);
    let done = match form.action.as_str() {
        "add" => {
            app.with_store(move |app, store| {
                let conn = store.db();
                let org = app.views.org(conn)?;
                let one = |text: &str, what: &str| -> std::result::Result<String, String> {
                    let ids = crate::engine::workspace::ids_named(conn, &org, text, false)
                        .map_err(|e| e.message)?;
                    match ids.as_slice() {
                        [id] => Ok(id.clone()),
                        [] => Err(format!(
                            "Ingen i personallistan heter eller har id ”{}” ({what}).",
                            text.trim()
                        )),
                        _ => Err(format!(
                            "”{}” passar flera i personallistan ({what}): skriv person-id.",
                            text.trim()
                        )),
                    }
                };
                let day = |text: &str, what: &str| {
                    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                        format!("{what}: ”{}” är inget datum (ÅÅÅÅ-MM-DD).", text.trim())
                    })
                };
                let parsed = (|| {
                    let role = form
                        .role
                        .parse::<Role>()
                        .map_err(|_| "Välj en roll.".to_string())?;
                    Ok::<_, String>((
                        one(&form.holder, "den som delegerar")?,
                        one(&form.deputy, "ersättaren")?,
                        role,
                        day(&form.from, "Från")?,
                        day(&form.to, "Till")?,
                    ))
                })();
                let (holder, deputy, role, from, to) = match parsed {
                    Ok(p) => p,
                    Err(problem) => return Ok(Err(problem)),
                };
                refusal_sv(
                    delegations::add(
                        store,
                        &delegations::NewDelegation {
                            holder: &holder,
                            deputy: &deputy,
                            role,
                            from,
                            to,
                            actor: &actor,
                        },
                        now,
                    ),
                    |_| "Delegeringen är tillagd.".to_string(),
                )
            })
            .await
        }
        "end" => match form.id.trim().parse::<i64>() {
            Ok(id) => {
                app.with_store(move |_, store| {
                    refusal_sv(delegations::revoke(store, id, &actor, now), |()| {
                        "Delegeringen är avslutad.".to_string()
                    })
                })
                .await
            }
            Err(_) => Ok(Err("Välj en delegering att avsluta.".to_string())),
        },
        _ => Ok(Err("Okänd åtgärd.".to_string())),
    };
    finish(&app, &staff, done, |app, staff, done, error, status| {
        Box::pin(delegations_view(app, staff, done, error, status))
    })
    .await
}
