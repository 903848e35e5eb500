//! The quality staff's cases, behind the login: the list with its filters, each case's page
//! (its steps and events, the current holder and due date, the evidence in figures, its
//! documents), the case's actions (send the step's link again, give the step to another holder of
//! its role), and the forms that start a targeted review or a client's request for a log
//! extract. Pages read through the pool; actions go through the engine, each one transaction,
//! audited with the account, behind the session's form token. An account with the `reader` role
//! reads and is offered no form.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::auth::{Checked, Staff, StaffForm};
use super::overview::{read, show};
use super::{App, page};
use crate::engine::OpenRequest;
use crate::engine::view::{Views, datetime_sv};
use crate::evidence::radar::flag_names;
use crate::records::download::{self, Doc, Format};
use crate::routine::model::{CaseKind, ResultCategory};
use crate::store::{cases as db, parse_ts, view as views};
use crate::{Error, Result};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Cases listed on one page at most.
/// Cases per page of the list.
const PAGE: usize = 50;
/// People a name search looks for at most (each is a statement parameter).
const MAX_PERSONS: usize = 200;
/// Cases in an export at most.
const EXPORT_LIMIT: usize = 100_000;
/// People offered for a search at most.
const FOUND_LIMIT: usize = 20;

/// The list's filters, as the form sends them; every one may be missing or empty.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub routine: String,
    #[serde(default)]
    pub unit: String,
    /// `open`, `closed` or empty (all).
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub result: String,
    /// What to search for: a part of the case reference or diary number, a reviewed user's
    /// name, person id or account, or a client's personnummer.
    #[serde(default)]
    pub q: String,
    /// The page, from 1.
    #[serde(default)]
    pub page: String,
}

fn some(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

fn result_sv(result: Option<&str>) -> String {
    result
        .and_then(ResultCategory::parse)
        .map(|r| r.title_sv().to_string())
        .unwrap_or_default()
}

fn kind_sv(kind: &str) -> &'static str {
    CaseKind::parse(kind).map_or("", CaseKind::title_sv)
}

fn local(stored: Option<&str>, tz: chrono_tz::Tz) -> String {
    stored
        .and_then(|s| parse_ts(s).ok())
        .map(|t| datetime_sv(t, tz))
        .unwrap_or_default()
}

/// What a search of cases asks for, worked out from the list's query.
struct Criteria {
    routine: Option<String>,
    unit: Option<String>,
    open: Option<bool>,
    result: Option<String>,
    overdue_on: Option<NaiveDate>,
    text: Option<String>,
    persons: Vec<String>,
    /// The text named more than [`MAX_PERSONS`] people: only the first are searched.
    too_many: bool,
    /// The client's 12 digits, when the search text is a personnummer.
    client: Option<String>,
}

impl Criteria {
    fn of(
        conn: &crate::store::Db,
        org: &crate::engine::org::Org,
        q: &ListQuery,
        today: NaiveDate,
    ) -> Result<Criteria> {
        let text = q.q.trim();
        let client = crate::personnummer::digits(text)
            .ok()
            .map(|d| String::from_utf8_lossy(&d).into_owned());
        let mut persons = if text.is_empty() || client.is_some() {
            Vec::new()
        } else {
            crate::engine::workspace::ids_named(conn, org, text, true)?
        };
        // A very short name matches half the roster: the first of them, and the page says so.
        let too_many = persons.len() > MAX_PERSONS;
        persons.truncate(MAX_PERSONS);
        Ok(Criteria {
            routine: some(&q.routine).map(str::to_string),
            unit: some(&q.unit).map(str::to_string),
            open: match q.state.as_str() {
                "open" => Some(true),
                "closed" => Some(false),
                _ => None,
            },
            result: some(&q.result).map(str::to_string),
            overdue_on: (!q.overdue.is_empty()).then_some(today),
            text: some(text).map(str::to_string),
            persons,
            too_many,
            client,
        })
    }

    fn search(
        &self,
        conn: &crate::store::Db,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<views::ListedCase>, i64)> {
        views::search_cases(
            conn,
            &views::CaseSearch {
                routine: self.routine.as_deref(),
                unit: self.unit.as_deref(),
                open: self.open,
                result: self.result.as_deref(),
                overdue_on: self.overdue_on,
                text: self.text.as_deref(),
                persons: &self.persons,
                client: self.client.as_deref(),
                offset,
                limit,
            },
        )
    }

    /// A search for a client is recorded in the audit trail, with who searched (the client in
    /// the erasable part).
    fn audit(
        &self,
        store: &mut crate::store::Store,
        actor: &str,
        found: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        let tx = store.write()?;
        crate::store::audit::append(
            &tx,
            now,
            &crate::store::audit::Event {
                actor,
                event: "cases.searched_by_client",
                case_id: None,
                round_id: None,
                data: json!({"found": found}),
                personal: Some(json!({"client": client})),
            },
        )?;
        tx.commit()
    }
}

/// A listed case as the list and the exports show it.
fn listed_values(
    app: &App,
    conn: &crate::store::Db,
    org: &crate::engine::org::Org,
    r: &views::ListedCase,
    today: NaiveDate,
) -> Value {
    let tz = app.views.config().timezone;
    let c = &r.case;
    let routine = super::overview::routine_title(&app.views, conn, &c.routine_id, &c.routine_hash);
    let (step, assignee, due, late) = match &r.step {
        Some((state, assignee, due)) => (
            super::overview::step_title(&app.views, conn, &c.routine_hash, state),
            assignee
                .as_deref()
                .map(|p| Views::name(org, p))
                .unwrap_or_default(),
            crate::sv::date(*due),
            *due < today,
        ),
        None => (String::new(), String::new(), String::new(), false),
    };
    json!({
        "id": c.id,
        "diary_number": c.diary_number.clone().unwrap_or_default(),
        "routine": routine,
        "kind": kind_sv(&c.kind),
        "unit": org.unit_name(&c.unit_id),
        "subject": c.subject_person_id.as_deref().map(|p| Views::name(org, p)).unwrap_or_default(),
        "account": c.subject_account.clone().unwrap_or_default(),
        "opened": local(Some(&c.opened_at), tz),
        "closed": c.closed_at.is_some(),
        "closed_at": local(c.closed_at.as_deref(), tz),
        "result": result_sv(c.result.as_deref()),
        "step": step,
        "assignee": assignee,
        "due": due,
        "late": late,
    })
}

/// The list's query again, for a link to another page or an export of the same cases.
fn query_string(q: &ListQuery, page: Option<usize>) -> String {
    let mut out: Vec<String> = Vec::new();
    for (key, value) in [
        ("q", q.q.as_str()),
        ("routine", q.routine.as_str()),
        ("unit", q.unit.as_str()),
        ("state", q.state.as_str()),
        ("result", q.result.as_str()),
        ("overdue", q.overdue.as_str()),
    ] {
        if !value.trim().is_empty() {
            out.push(format!("{key}={}", query_value(value.trim())));
        }
    }
    if let Some(page) = page {
        out.push(format!("page={page}"));
    }
    out.join("&")
}

/// `GET /overview/cases`: the cases matching the filters and the search, the newest first, a
/// page at a time.
pub async fn list(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let now = app.clock.now();
    let q = query.map(|q| q.0).unwrap_or_default();
    let may_act = staff.role.may_act();
    let actor = format!("web:{}", staff.name);
    let data = app
        .with_store(move |app, store| {
            let conn = store.db();
            let tz = app.views.config().timezone;
            let today = now.with_timezone(&tz).date_naive();
            let org = app.views.org(conn)?;
            let criteria = Criteria::of(conn, &org, &q, today)?;
            let wanted = q.page.trim().parse::<usize>().unwrap_or(1).max(1);
            let (mut rows, total) = criteria.search(conn, (wanted - 1) * PAGE, PAGE)?;
            let pages = (usize::try_from(total).unwrap_or(0)).div_ceil(PAGE).max(1);
            // A page past the end (an old link) shows the last one.
            let page = wanted.min(pages);
            if page != wanted {
                rows = criteria.search(conn, (page - 1) * PAGE, PAGE)?.0;
            }
            let listed: Vec<Value> = rows
                .iter()
                .map(|r| listed_values(app, conn, &org, r, today))
                .collect();
            let (units, results) = views::case_facets(conn)?;
            let mut units: Vec<Value> = units
                .iter()
                .map(|u| json!({"id": u, "name": org.unit_name(u), "selected": *u == q.unit}))
                .collect();
            units.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            let routines: Vec<Value> = app
                .views
                .routines()
                .iter()
                .map(|r| json!({"id": r.id, "title": r.title, "selected": r.id == q.routine}))
                .collect();
            let results: Vec<Value> = results
                .iter()
                .map(|r| json!({"id": r, "title": result_sv(Some(r)), "selected": *r == q.result}))
                .collect();
            let first = (page - 1) * PAGE + 1;
            let data = json!({
                "cases": listed,
                "total": total,
                "first": first,
                "last": first + rows.len().saturating_sub(1),
                "page": page,
                "pages": pages,
                "previous": (page > 1).then(|| format!("/overview/cases?{}", query_string(&q, Some(page - 1)))),
                "next": (page < pages).then(|| format!("/overview/cases?{}", query_string(&q, Some(page + 1)))),
                "export": query_string(&q, None),
                "routines": routines,
                "units": units,
                "results": results,
                "state": q.state,
                "overdue": criteria.overdue_on.is_some(),
                "q": q.q,
                "by_client": criteria.client.is_some(),
                "too_many": criteria.too_many,
                "may_act": may_act,
            });
            criteria.audit(store, &actor, total, now)?;
            Ok(data)
        })
        .await
        .map_err(|err| page::server_error(&app, &err));
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/cases",
            "web/cases.html",
            "Ärenden",
            data,
        ),
        Err(response) => response,
    }
}

/// `GET /overview/cases/export.csv` and `…/export.xlsx`: the cases of the list's filters and
/// search (up to [`EXPORT_LIMIT`]), as a file; recorded in the audit trail.
pub async fn export(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(file): Path<String>,
    query: std::result::Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let xlsx = match file.as_str() {
        "export.csv" => false,
        "export.xlsx" => true,
        _ => return page::not_found(&app),
    };
    let now = app.clock.now();
    let q = query.map(|q| q.0).unwrap_or_default();
    let actor = format!("web:{}", staff.name);
    let made = app
        .with_store(move |app, store| {
            let conn = store.db();
            let tz = app.views.config().timezone;
            let today = now.with_timezone(&tz).date_naive();
            let org = app.views.org(conn)?;
            let criteria = Criteria::of(conn, &org, &q, today)?;
            let (rows, total) = criteria.search(conn, 0, EXPORT_LIMIT)?;
            let listed: Vec<Value> = rows
                .iter()
                .map(|r| listed_values(app, conn, &org, r, today))
                .collect();
            let bytes = if xlsx {
                export_xlsx(&listed)?
            } else {
                export_csv(&listed)
            };
            criteria.audit(store, &actor, total, now)?;
            let tx = store.write()?;
            crate::store::audit::append(
                &tx,
                now,
                &crate::store::audit::Event {
                    actor: &actor,
                    event: "cases.exported",
                    case_id: None,
                    round_id: None,
                    data: json!({"rows": listed.len(), "format": if xlsx { "xlsx" } else { "csv" }}),
                    personal: None,
                },
            )?;
            tx.commit()?;
            Ok(bytes)
        })
        .await;
    match made {
        Ok(bytes) => {
            let day =
                crate::store::date(now.with_timezone(&app.views.config().timezone).date_naive());
            let (kind, name) = if xlsx {
                (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    format!("arenden-{day}.xlsx"),
                )
            } else {
                ("text/csv; charset=utf-8", format!("arenden-{day}.csv"))
            };
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => page::server_error(&app, &err),
    }
}

/// The exports' columns: heading and the listed case's field.
const EXPORT_COLUMNS: [(&str, &str); 13] = [
    ("Ärende", "id"),
    ("Diarienummer", "diary_number"),
    ("Rutin", "routine"),
    ("Typ", "kind"),
    ("Enhet", "unit"),
    ("Granskad användare", "subject"),
    ("Konto", "account"),
    ("Öppnat", "opened"),
    ("Steg", "step"),
    ("Ansvarig", "assignee"),
    ("Sista dag", "due"),
    ("Avslutat", "closed_at"),
    ("Resultat", "result"),
];

/// A listed case's field as text.
fn field(case: &Value, key: &str) -> String {
    case[key].as_str().unwrap_or_default().to_string()
}

/// The cases as CSV (UTF-8 with a byte order mark, `;` between fields, as Swedish Excel reads
/// it), each cell as the SAS summary's ([`csv_cell`](crate::records::annual::csv_cell)): a
/// field a spreadsheet would take for a formula is made inert.
fn export_csv(cases: &[Value]) -> Vec<u8> {
    let cell = crate::records::annual::csv_cell;
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| cells.join(";") + "\r\n";
    out.push_str(&line(EXPORT_COLUMNS.iter().map(|(h, _)| cell(h)).collect()));
    for case in cases {
        out.push_str(&line(
            EXPORT_COLUMNS
                .iter()
                .map(|(_, k)| cell(&field(case, k)))
                .collect(),
        ));
    }
    out.into_bytes()
}

/// The cases as an Excel workbook: one sheet, a bold header row held in view, text cells.
fn export_xlsx(cases: &[Value]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| Error::runtime(format!("the XLSX export: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Ärenden").map_err(fail)?;
    for (col, (heading, _)) in EXPORT_COLUMNS.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, *heading, &bold)
            .map_err(fail)?;
        sheet.set_column_width(col, 18).map_err(fail)?;
    }
    for (row, case) in cases.iter().enumerate() {
        let row = u32::try_from(row + 1).unwrap_or(u32::MAX);
        for (col, (_, key)) in EXPORT_COLUMNS.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet
                .write_string(row, col, field(case, key))
                .map_err(fail)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// What the case page says after an action.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CaseQuery {
    /// `resent`, `reassigned`, `opened`.
    #[serde(default)]
    pub done: String,
}

/// `GET /overview/case/{id}`.
pub(crate) async fn case_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    query: std::result::Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let done = query.map(|q| q.0.done).unwrap_or_default();
    case_view(&app, &staff, &id, &done, None).await
}

/// The case page, with a note (`done`) or an error from the form before it.
async fn case_view(
    app: &Arc<App>,
    staff: &Staff,
    id: &str,
    done: &str,
    error: Option<String>,
) -> Response {
    let now = app.clock.now();
    let may_act = staff.role.may_act();
    let id_owned = id.to_string();
    let data = read(app, move |app, conn| {
        case_values(app, conn, &id_owned, may_act, now)
    })
    .await;
    let mut data = match data {
        Ok(Value::Null) => return page::not_found(app),
        Ok(data) => data,
        Err(response) => return response,
    };
    let emailed = match done {
        "resent" => "En ny länk är skickad. Den förra länken fungerar inte längre.",
        "reassigned" => "Steget har fått en ny ansvarig, som har fått uppgiften med en ny länk.",
        "diary" => "Diarienumret är sparat. Det står i ärendets dokument från och med nu.",
        "opened" => "Ärendet är öppnat.",
        _ => "",
    };
    data["done"] = json!(emailed);
    if !done.is_empty() {
        // Who was just emailed: everyone for a case just opened, else the last email.
        let opened = done == "opened";
        let case_id = id.to_string();
        let mails = read(app, move |_, conn| {
            let mut all = crate::store::outbox::recipients_of_case(conn, &case_id)?;
            if !opened {
                all = all.split_off(all.len().saturating_sub(1));
            }
            Ok(Value::Array(
                all.into_iter()
                    .map(|(purpose, to)| {
                        let what = match purpose.as_str() {
                            "task" => "uppgiften",
                            "inform" => "för kännedom",
                            _ => "meddelande",
                        };
                        json!({"to": to, "what": what})
                    })
                    .collect(),
            ))
        })
        .await;
        match mails {
            Ok(mails) => data["emailed"] = mails,
            Err(response) => return response,
        }
    }
    data["error"] = json!(error.unwrap_or_default());
    let title = format!("Ärende {id}");
    let status = if data["error"].as_str().is_some_and(|e| !e.is_empty()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut response = show(app, staff, "/overview/cases", "web/case.html", &title, data);
    *response.status_mut() = status;
    response
}

/// The values of a case's page; `Null` when there is no such case.
fn case_values(
    app: &App,
    conn: &crate::store::Db,
    id: &str,
    may_act: bool,
    now: DateTime<Utc>,
) -> Result<Value> {
    let Some(case) = db::get(conn, id)? else {
        return Ok(Value::Null);
    };
    let org = app.views.org(conn)?;
    let routine = app.views.version(conn, &case.routine_hash)?;
    let tz = routine.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let tasks = db::tasks_of(conn, &case.id)?;
    let outcome_label = |state: &str, outcome: &str| -> String {
        routine
            .state(state)
            .and_then(|ix| {
                routine
                    .outcomes(ix)
                    .into_iter()
                    .find(|(o, _)| o.name == outcome)
                    .map(|(o, _)| o.label.clone())
            })
            .unwrap_or_else(|| outcome.to_string())
    };
    let role_sv = |role: &str| -> String {
        role.parse::<crate::roster::Role>()
            .map(|r| r.title().to_string())
            .unwrap_or_else(|_| role.to_string())
    };
    let steps: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({
                "step": Views::state_title(&routine, &t.state),
                "role": role_sv(&t.role),
                "assignee": t.assignee_id.as_deref().map(|p| Views::name(&org, p)).unwrap_or_default(),
                "started": local(Some(&t.started_at), tz),
                "due": crate::sv::date(t.due_date),
                "answered": local(t.answered_at.as_deref(), tz),
                "outcome": t.outcome.as_deref().map(|o| outcome_label(&t.state, o)).unwrap_or_default(),
                "by": t.answered_by.as_deref().map(|p| Views::name(&org, p)).unwrap_or_default(),
                "comment": t.comment.clone().unwrap_or_default(),
                "open": t.answered_at.is_none(),
                "late": t.answered_at.is_none() && t.due_date < today,
                "escalated": t.escalated_at.is_some(),
            })
        })
        .collect();
    let open = tasks
        .iter()
        .rev()
        .find(|t| t.answered_at.is_none() && case.closed_at.is_none());
    // The other holders of the open step's role, who may take it over.
    let others: Vec<Value> = match open.and_then(|t| t.role.parse::<crate::roster::Role>().ok()) {
        Some(role) => org
            .holders(role, &case.unit_id, today)
            .into_iter()
            .filter(|p| {
                Some(*p) != open.and_then(|t| t.assignee_id.as_deref())
                    && Some(*p) != case.subject_person_id.as_deref()
            })
            .map(|p| json!({"id": p, "name": Views::name(&org, p)}))
            .collect(),
        None => Vec::new(),
    };
    let current = open.map(|t| {
        let person = t.assignee_id.as_deref().and_then(|p| org.person(p));
        json!({
            "task": t.id,
            "step": Views::state_title(&routine, &t.state),
            "role": role_sv(&t.role),
            "has_assignee": person.is_some(),
            "assignee": person.map(|p| p.name.clone()).unwrap_or_else(|| "ingen".into()),
            "email": person.map(|p| p.email.clone()).unwrap_or_default(),
            "due": crate::sv::date(t.due_date),
            "late": t.due_date < today,
        })
    });
    let events: Vec<Value> = crate::store::audit::case_history(conn, &case.id)?
        .iter()
        .map(|e| {
            json!({
                "at": local(Some(&e.at), tz),
                "actor": super::audit::actor_sv(&org, &e.actor),
                "event": super::audit::event_sv(&e.event),
            })
        })
        .collect();
    let documents: Vec<Value> = if case.purged_at.is_some() {
        Vec::new()
    } else {
        Doc::of_kind(&case.kind)
            .iter()
            .map(|d| match d {
                Doc::Protocol => json!({"name": "Granskningsprotokoll", "files": [
                    {"href": format!("/overview/case/{}/protokoll.html", case.id), "label": "HTML"},
                    {"href": format!("/overview/case/{}/protokoll.pdf", case.id), "label": "PDF"}]}),
                Doc::ExtractLetter => json!({"name": "Brev med loggutdrag", "files": [
                    {"href": format!("/overview/case/{}/loggutdrag.html", case.id), "label": "HTML"},
                    {"href": format!("/overview/case/{}/loggutdrag.pdf", case.id), "label": "PDF"}]}),
                Doc::Metadata => json!({"name": "Ärendeuppgifter för diariet (arende.json)", "files": [
                    {"href": format!("/overview/case/{}/arende.json", case.id), "label": "JSON"}]}),
            })
            .collect()
    };
    Ok(json!({
        "case": {
            "id": case.id,
            "routine": routine.title,
            "kind": kind_sv(&case.kind),
            "unit": org.unit_name(&case.unit_id),
            "subject": case.subject_person_id.as_deref().map(|p| Views::name(&org, p)).unwrap_or_default(),
            "subject_id": case.subject_person_id.clone().unwrap_or_default(),
            "account": case.subject_account.clone().unwrap_or_default(),
            "client": case.client_ref.as_deref().map(crate::records::files::personnummer).unwrap_or_default(),
            "from": local(case.window_start.as_deref(), tz),
            "to": local(case.window_end.as_deref(), tz),
            "reason": crate::records::protocol::reason_sv(&case),
            "opened": local(Some(&case.opened_at), tz),
            "opened_by": super::audit::actor_sv(&org, &case.opened_by),
            "closed": local(case.closed_at.as_deref(), tz),
            "result": result_sv(case.result.as_deref()),
            "state": Views::state_title(&routine, &case.state),
            "purged": case.purged_at.is_some(),
            "diary_number": case.diary_number.clone().unwrap_or_default(),
        },
        "may_edit": may_act,
        "current": current,
        "others": others,
        "steps": steps,
        "events": events,
        "evidence": evidence_values(conn, &org, &routine, &case, now)?,
        "staff": crate::engine::information::staff_list(conn, &org, &case, today, tz)?,
        "documents": documents,
        "may_act": may_act && open.is_some(),
    }))
}

/// The evidence of a case in figures: the counts, and how many accesses carry each flag.
fn evidence_values(
    conn: &crate::store::Db,
    org: &crate::engine::org::Org,
    routine: &crate::routine::Routine,
    case: &db::CaseRow,
    now: DateTime<Utc>,
) -> Result<Value> {
    if case.purged_at.is_some() || !crate::engine::judge::has_evidence(case) {
        return Ok(Value::Null);
    }
    let Some(ev) = crate::engine::judge::evidence_if_any(conn, org, routine, case, now)? else {
        return Ok(json!({"summary": "Ingen logg är inläst för perioden."}));
    };
    let flags: Vec<Value> = flag_names()
        .iter()
        .filter_map(|(code, name)| {
            let n = ev
                .accesses
                .iter()
                .filter(|a| a.flags.iter().any(|f| f.code == *code))
                .count();
            (n > 0).then(|| json!({"name": name, "n": n}))
        })
        .collect();
    Ok(json!({
        "summary": ev.summary_sv(),
        "accesses": ev.counts.accesses,
        "clients": ev.counts.clients,
        "flagged": ev.counts.flagged,
        "unexplained": ev.counts.unexplained,
        "judged": ev.counts.judged,
        "flags": flags,
    }))
}

/// `?download=1`: a document saved as a file rather than opened in the browser.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentQuery {
    #[serde(default)]
    pub download: Option<String>,
}

impl DocumentQuery {
    pub(crate) fn as_file(&self) -> bool {
        self.download.as_deref().is_some_and(|v| v != "0")
    }
}

/// `GET /overview/case/{id}/{file}[?download=1]`: a document of the case, made now.
pub async fn document(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path((id, file)): Path<(String, String)>,
    query: std::result::Result<Query<DocumentQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some((doc, format)) = Doc::parse(&file) else {
        return page::not_found(&app);
    };
    let actor = format!("web:{}", staff.name);
    let as_file = query.is_ok_and(|q| q.as_file());
    deliver(&app, id, doc, format, actor, as_file).await
}

/// Makes a document with the engine and hands it over: shown in the browser (`inline`), or as a
/// file to save when `as_file`. PDFs are printed [`PRINTERS`](super::app::PRINTERS) at a time; a
/// request that finds no place within [`App::print_wait`] gets 503 with `Retry-After`.
pub async fn deliver(
    app: &Arc<App>,
    id: String,
    doc: Doc,
    format: Format,
    actor: String,
    as_file: bool,
) -> Response {
    let _printing = match printing_place(app, format).await {
        Ok(place) => place,
        Err(busy) => return busy,
    };
    let now = app.clock.now();
    let rendering = app.printer.clone();
    hand_over(app, as_file, _printing, move |engine| {
        if db::get(engine.store.db(), &id)?.is_none() {
            return Ok(None);
        }
        download::render(engine, &id, doc, format, &rendering, &actor, now).map(Some)
    })
    .await
}

/// A place to print in when `format` is a PDF (none is needed otherwise), waiting up to
/// [`App::print_wait`]; 503 with `Retry-After` when none came free.
pub(crate) async fn printing_place(
    app: &Arc<App>,
    format: Format,
) -> std::result::Result<Option<tokio::sync::OwnedSemaphorePermit>, Response> {
    if format != Format::Pdf {
        return Ok(None);
    }
    match tokio::time::timeout(app.print_wait, app.printing.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(Some(permit)),
        _ => {
            let mut response = page::message(
                app,
                StatusCode::SERVICE_UNAVAILABLE,
                "Många dokument skrivs ut just nu",
                &["Försök igen om en stund: PDF:en tas fram när det finns plats."],
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
            Err(response)
        }
    }
}

/// Renders a document with the engine (`None`: no such thing, 404), prints it to PDF away from
/// the engine when it is one (`printing` holds the place it prints in), and hands it over:
/// opened in the browser, or saved as a file when `as_file`.
pub(crate) async fn hand_over<F>(
    app: &Arc<App>,
    as_file: bool,
    printing: Option<tokio::sync::OwnedSemaphorePermit>,
    render: F,
) -> Response
where
    F: FnOnce(&mut crate::engine::Engine) -> Result<Option<download::Rendered>> + Send + 'static,
{
    let printer = app.printer.clone();
    let rendered = app.with_engine(render).await;
    // A PDF is printed away from the engine: answers and ticks do not wait for Chromium. The
    // place goes with the printing, which runs on when the asker has gone.
    let made = match rendered {
        Ok(Some(r)) => tokio::task::spawn_blocking(move || {
            let _place = printing;
            download::finish(r, &printer)
        })
        .await
        .map_err(|e| Error::runtime(format!("printing: {e}")))
        .and_then(|d| d.map(Some)),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match made {
        Ok(Some(d)) => {
            let disposition = format!(
                "{}; filename=\"{}\"",
                if as_file { "attachment" } else { "inline" },
                d.file_name
            );
            let mut response = (StatusCode::OK, d.bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(d.content_type),
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(super::headers::DOCUMENT_POLICY),
            );
            response
        }
        Ok(None) => page::not_found(app),
        Err(err) if err.is_bad_input() => page::message(
            app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Dokumentet kan inte tas fram",
            &[&refusal_sv(&err)],
        ),
        Err(err) => page::server_error(app, &err),
    }
}

/// The case actions' form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    /// For a reassignment: the person who takes the step.
    #[serde(default)]
    pub person: String,
    /// The step the page showed (a case that has moved on since is not acted on).
    #[serde(default)]
    pub task: String,
    /// The diary number to set (blank clears it).
    #[serde(default)]
    pub diary_number: String,
}

/// Whether a form of this session may act: the token fits and the account may act.
fn may_not_change_cases(app: &App, staff: &Staff) -> Option<Response> {
    (!staff.role.may_act()).then(|| {
        page::message(
            app,
            StatusCode::FORBIDDEN,
            "Behörighet saknas",
            &[
                "Ditt konto får läsa översikten men inte ändra ärenden. Kontakta den som administrerar loggkoll.",
            ],
        )
    })
}

impl StaffForm for ActionForm {
    const UNREAD: &'static str = "Inget har ändrats. Gå tillbaka till ärendet och försök igen.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn may_not(app: &App, staff: &Staff) -> Option<Response> {
        may_not_change_cases(app, staff)
    }
}

impl StaffForm for StartForm {
    const UNREAD: &'static str = "Inget ärende har öppnats. Gå tillbaka och försök igen.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn may_not(app: &App, staff: &Staff) -> Option<Response> {
        may_not_change_cases(app, staff)
    }
}

/// `POST /overview/case/{id}/resend`, `…/reassign` and `…/diarienummer`.
pub(crate) async fn act(
    State(app): State<Arc<App>>,
    Path((id, action)): Path<(String, String)>,
    Checked { staff, form }: Checked<ActionForm>,
) -> Response {
    let now = app.clock.now();
    let actor = format!("web:{}", staff.name);
    let case_id = id.clone();
    let person = form.person.trim().to_string();
    let step = form.task.trim().parse::<i64>().ok();
    let (done, result) = match action.as_str() {
        "resend" => (
            "resent",
            app.with_engine(move |e| e.resend_link(&case_id, step, &actor, now).map(|_| ()))
                .await,
        ),
        "reassign" if person.is_empty() => (
            "reassigned",
            Err(Error::bad_input("Välj vem som ska ta över steget.")),
        ),
        "reassign" => (
            "reassigned",
            app.with_engine(move |e| {
                e.reassign_step(&case_id, step, &person, &actor, now)
                    .map(|_| ())
            })
            .await,
        ),
        "diarienummer" => {
            let number = form.diary_number;
            (
                "diary",
                app.with_engine(move |e| {
                    e.set_diary_number(&case_id, &number, &actor, now)
                        .map(|_| ())
                })
                .await,
            )
        }
        _ => return page::not_found(&app),
    };
    match result {
        Ok(_) => {
            app.kick.notify_one();
            page::redirect(&format!("/overview/case/{id}?done={done}"))
        }
        Err(err) if err.is_bad_input() => {
            case_view(&app, &staff, &id, "", Some(refusal_sv(&err))).await
        }
        Err(err) => page::server_error(&app, &err),
    }
}

/// The start page's query: what a radar row fills in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// The start forms, as sent; every field may be missing.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct StartForm {
    #[serde(default)]
    pub csrf: String,
    /// `targeted` or `extract`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub routine: String,
    /// The reviewed user: a name, person id or account.
    #[serde(default)]
    pub user: String,
    /// The person chosen when `user` named several.
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub reason: String,
    /// The client's personnummer (an extract).
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub client_name: String,
    #[serde(default)]
    pub client_address: String,
    /// A system the extract is limited to; empty: every system of the routine.
    #[serde(default)]
    pub system: String,
}

/// `GET /overview/start`: the forms that open a targeted review and an extract request.
pub(crate) async fn start_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or_default();
    let form = StartForm {
        user: q.user,
        from: q.from,
        to: q.to,
        ..StartForm::default()
    };
    start_view(&app, &staff, &form, Vec::new(), Vec::new(), StatusCode::OK).await
}

async fn start_view(
    app: &Arc<App>,
    staff: &Staff,
    form: &StartForm,
    errors: Vec<String>,
    found: Vec<Value>,
    status: StatusCode,
) -> Response {
    let routines = |kind: CaseKind| -> Vec<Value> {
        app.views
            .routines()
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| json!({"id": r.id, "title": r.title, "selected": r.id == form.routine, "systems": r.systems}))
            .collect()
    };
    let targeted = routines(CaseKind::Targeted);
    let extract = routines(CaseKind::Extract);
    let mut systems: Vec<String> = app
        .views
        .routines()
        .iter()
        .filter(|r| r.kind == CaseKind::Extract)
        .flat_map(|r| r.systems.clone())
        .collect();
    systems.sort();
    systems.dedup();
    let systems: Vec<Value> = systems
        .iter()
        .map(|s| json!({"id": s, "name": crate::routine::explain::system_title(s), "selected": *s == form.system}))
        .collect();
    let chosen = form.unit.clone();
    let units = read(app, move |app, conn| {
        let org = app.views.org(conn)?;
        let mut units: Vec<(String, String)> = org
            .units
            .iter()
            .map(|(id, (name, _))| (name.clone(), id.clone()))
            .collect();
        units.sort();
        Ok(Value::Array(
            units
                .into_iter()
                .map(|(name, id)| json!({"selected": id == chosen, "id": id, "name": name}))
                .collect(),
        ))
    })
    .await;
    let units = match units {
        Ok(units) => units,
        Err(response) => return response,
    };
    let data = json!({
        "form": {
            "kind": form.kind, "user": form.user, "person": form.person, "unit": form.unit,
            "from": form.from, "to": form.to, "reason": form.reason, "client": form.client,
            "client_name": form.client_name, "client_address": form.client_address,
        },
        "targeted": targeted,
        "extract": extract,
        "systems": systems,
        "units": units,
        "errors": errors,
        "found": found,
        "may_act": staff.role.may_act(),
    });
    let mut response = show(
        app,
        staff,
        "/overview/start",
        "web/start.html",
        "Nytt ärende",
        data,
    );
    *response.status_mut() = status;
    response
}

/// A day from a form (`2027-03-01`), or the message that names the field.
fn form_day(text: &str, what: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{what} ska vara ett datum som 2027-03-01."))
}

/// The period the form asks about, as instants (from the first day's midnight to the one after
/// the last day); none, and the reason in `errors`, when the days are missing or wrong.
fn form_period(
    form: &StartForm,
    tz: chrono_tz::Tz,
    errors: &mut Vec<String>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let from = form_day(&form.from, "Från");
    let to = form_day(&form.to, "Till och med");
    match (from, to) {
        (Ok(f), Ok(t)) if t < f => {
            errors.push("Till-datumet ligger före från-datumet.".into());
            (None, None)
        }
        (Ok(f), Ok(t)) => {
            let midnight =
                |d: NaiveDate| crate::clock::resolve_local(d.and_time(chrono::NaiveTime::MIN), tz);
            (Some(midnight(f)), t.succ_opt().map(midnight))
        }
        (f, t) => {
            errors.extend(f.err());
            errors.extend(t.err());
            (None, None)
        }
    }
}

/// The routine the case opens in: the form's, or the first of its kind; the reason in `errors`
/// when there is none.
fn chosen_routine(app: &App, form: &StartForm, kind: CaseKind, errors: &mut Vec<String>) -> String {
    let routine = match some(&form.routine) {
        Some(r) => r.to_string(),
        None => app
            .views
            .routines()
            .iter()
            .find(|r| r.kind == kind)
            .map(|r| r.id.clone())
            .unwrap_or_default(),
    };
    if !app
        .views
        .routines()
        .iter()
        .any(|r| r.id == routine && r.kind == kind)
    {
        errors.push(format!(
            "Det finns ingen rutin för {} att öppna ärendet i.",
            kind.title_sv()
        ));
    }
    routine
}

/// `POST /overview/start`: opens the case the form describes, then shows its page, which says
/// who was emailed.
pub(crate) async fn start(
    State(app): State<Arc<App>>,
    Checked { staff, form }: Checked<StartForm>,
) -> Response {
    let now = app.clock.now();
    let tz = app.views.config().timezone;
    let mut errors = Vec::new();
    let kind = match form.kind.as_str() {
        "targeted" => CaseKind::Targeted,
        "extract" => CaseKind::Extract,
        _ => {
            errors.push("Välj vilket slags ärende som ska öppnas.".to_string());
            CaseKind::Targeted
        }
    };
    let (from, to) = form_period(&form, tz, &mut errors);
    // The reviewed user, found by name, person id or account.
    let mut found_people = Vec::new();
    let mut subject = None;
    let mut unit = form.unit.trim().to_string();
    if kind == CaseKind::Targeted {
        let wanted = if form.person.trim().is_empty() {
            form.user.clone()
        } else {
            form.person.clone()
        };
        let search = app
            .with_store(move |app, store| {
                let org = app.views.org(store.db())?;
                crate::engine::workspace::find_people(store.db(), &org, &wanted, FOUND_LIMIT)
            })
            .await;
        match search {
            Err(err) => return page::server_error(&app, &err),
            Ok(found) => match found.as_slice() {
                [] if form.user.trim().is_empty() => errors
                    .push("Skriv namn, person-id eller konto för den som ska granskas.".into()),
                [] => errors.push(format!(
                    "Ingen i personallistan heter eller har kontot ”{}”.",
                    form.user.trim()
                )),
                [one] => {
                    if unit.is_empty() {
                        unit = one.units.first().cloned().unwrap_or_default();
                    }
                    if unit.is_empty() {
                        errors.push(format!(
                            "{} hör inte till någon enhet i personallistan.",
                            one.name
                        ));
                    }
                    subject = Some(one.id.clone());
                }
                many => {
                    let n = if many.len() >= FOUND_LIMIT {
                        format!(
                            "fler än {} personer; de {} första visas",
                            FOUND_LIMIT - 1,
                            many.len()
                        )
                    } else {
                        format!("{} personer", many.len())
                    };
                    errors.push(format!("”{}” passar {n}: välj en.", form.user.trim()));
                    found_people = many
                        .iter()
                        .map(|p| json!({"id": p.id, "name": p.name, "accounts": p.accounts.join(", ")}))
                        .collect();
                }
            },
        }
    } else if form.client.trim().is_empty() {
        errors.push("Skriv kundens personnummer.".into());
    }
    let routine = chosen_routine(&app, &form, kind, &mut errors);
    if kind == CaseKind::Extract && unit.is_empty() {
        errors.push("Välj den enhet som hanterar begäran.".into());
    }
    if !errors.is_empty() {
        return start_view(
            &app,
            &staff,
            &form,
            errors,
            found_people,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let req = OpenRequest {
        routine,
        unit,
        by: staff.name.clone(),
        subject_user: subject,
        client: some(&form.client).map(str::to_string),
        from,
        to,
        reason: some(&form.reason).map(str::to_string),
        system: some(&form.system).map(str::to_string),
        client_name: some(&form.client_name).map(str::to_string),
        client_address: some(&form.client_address).map(str::to_string),
        from_web: true,
    };
    let opened = app.with_engine(move |e| e.open_case(&req, now)).await;
    match opened {
        Ok(id) => {
            app.kick.notify_one();
            page::redirect(&format!("/overview/case/{id}?done=opened"))
        }
        Err(err) if err.is_bad_input() => {
            start_view(
                &app,
                &staff,
                &form,
                vec![refusal_sv(&err)],
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => page::server_error(&app, &err),
    }
}

/// `text` as a value in a URL's query (letters, digits and `-._~` as they are).
pub fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An engine's refusal as the overview says it: a typed refusal in its Swedish words, anything
/// else in a Swedish sentence with the technical wording after it, for whoever runs loggkoll.
pub(crate) fn refusal_sv(err: &Error) -> String {
    match &err.refusal {
        Some(refusal) => refusal.sv(),
        None => format!(
            "Det gick inte att genomföra. Ladda om sidan och försök igen; hjälper det inte, kontakta den som sköter loggkoll och nämn felet (på engelska): {}",
            err.message
        ),
    }
}
