//! The routine workshop in the overview (`/overview/routines/{id}…`): a routine's page (its
//! source, graph, plain-Swedish account and version history, with the difference between any two
//! versions), and for `quality` and `admin` the editor: a plain form with the YAML in a
//! textarea, "Kontrollera" (the checks of `loggkoll check`, each diagnostic at its line in
//! Swedish, and a preview of the graph and the account), "Publicera" with a reason, and a new
//! routine from a copy. The engine decides and writes (`engine::workshop`); this module only
//! translates.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::app::App;
use super::auth::Staff;
use super::overview::{read, show};
use super::page;
use crate::engine::view::datetime_sv;
use crate::engine::workshop::{self, PublishRequest, Refused};
use crate::routine::{Diagnostic, Routine};
use crate::store::parse_ts;
use crate::store::workshop::{self as record, Kind, Version};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// A diagnostic's code in Swedish: what kind of mistake it is.
fn code_sv(code: &str) -> &'static str {
    match code {
        "yaml-syntax" => "Felaktig YAML",
        "duplicate-key" => "Nyckeln finns två gånger",
        "unknown-key" => "Okänd nyckel",
        "ignored-key" => "Nyckeln används inte här",
        "missing-key" => "En nyckel saknas",
        "missing-value" => "Ett värde saknas",
        "invalid-value" => "Ogiltigt värde",
        "kind-mismatch" => "Fel slags värde",
        "alias-limit" => "För många YAML-alias",
        "undefined-state" => "Steget finns inte",
        "unreachable-state" => "Steget kan aldrig nås",
        "dead-end-state" => "Steget leder ingenstans",
        "no-way-out" => "Rutinen kan fastna",
        "final-start" => "Rutinen börjar i ett slutläge",
        "final-with-outcomes" => "Ett slutläge har utfall",
        "invalid-deadline" => "Ogiltig tidsfrist",
        "invalid-cron" => "Ogiltigt schema",
        "fraction-out-of-range" => "Andelen ligger utanför 0–100 %",
        "low-review-chance" => "Låg chans att granskas",
        "missing-retention" => "Gallringsfrist saknas",
        "retention-too-short" => "Gallringsfristen är för kort",
        "retention-too-long" => "Gallringsfristen är för lång",
        "unknown-role" => "Okänd roll",
        "unknown-system" => "Okänt system",
        "unknown-template" => "Okänd mejlmall",
        "missing-file" => "Filen saknas",
        "template-syntax" => "Felaktig mejlmall",
        "template-variable" => "Okänd variabel i mejlmallen",
        "template-render" => "Mejlmallen kan inte skrivas ut",
        "duplicate-routine" => "Rutinens id används redan",
        "removes-open-state" => "Öppna ärenden står i ett steg som tas bort",
        _ => "Problem i rutinen",
    }
}

/// A help text in Swedish where its form is known (`did you mean `x`?`), else as it is.
fn help_sv(help: &str) -> String {
    if let Some(rest) = help.strip_prefix("did you mean ")
        && let Some(name) = rest.strip_suffix('?')
    {
        return format!("Menade du {name}?");
    }
    help.to_string()
}

/// A diagnostic for a page: where, what kind, the compiler's words, the fix.
fn diagnostic_view(d: &Diagnostic) -> Value {
    let start = d.column.max(1) - 1;
    let chars = d.source_line.chars().count();
    let width = d.len.min(chars.saturating_sub(start)).max(1);
    json!({
        "line": d.line,
        "column": d.column,
        "error": d.is_error(),
        "severity": if d.is_error() { "Fel" } else { "Varning" },
        "title": code_sv(d.code),
        "message": d.message,
        "help": d.help.as_deref().map(help_sv).unwrap_or_default(),
        "source_line": d.source_line,
        "caret": format!("{}{}", " ".repeat(start), "^".repeat(width)),
        "gutter": " ".repeat(d.line.to_string().len()),
    })
}

/// A routine's picture and account, for its page and the editor's preview.
fn preview(routine: &Routine, now: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "title": routine.title,
        "version": routine.version,
        "graph": crate::routine::render::svg(routine),
        "explain": crate::routine::explain::explain(routine, now),
    })
}

/// The lines of `text`, numbered, for a listing.
fn numbered(text: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .map(|(i, l)| json!({"n": i + 1, "text": l}))
        .collect()
}

/// The difference between two texts, line by line with three lines of context around each
/// change: rows of `{kind: same|add|del|gap, old, new, text}`.
fn diff_rows(old: &str, new: &str) -> Vec<Value> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut rows = Vec::new();
    for (i, group) in diff.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            rows.push(json!({"kind": "gap"}));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    similar::ChangeTag::Equal => "same",
                    similar::ChangeTag::Insert => "add",
                    similar::ChangeTag::Delete => "del",
                };
                rows.push(json!({
                    "kind": kind,
                    "old": change.old_index().map(|n| n + 1),
                    "new": change.new_index().map(|n| n + 1),
                    "text": change.value().trim_end_matches(['\n', '\r']),
                }));
            }
        }
    }
    rows
}

fn short(hash: &str) -> &str {
    hash.get(..8).unwrap_or(hash)
}

fn when(at: &str, tz: chrono_tz::Tz) -> String {
    parse_ts(at)
        .map(|t| datetime_sv(t, tz))
        .unwrap_or_else(|_| at.to_string())
}

/// Who published `version`, when and why, for a refusal that names them (none: nobody, or the
/// file was edited on the server).
async fn publisher(app: &Arc<App>, version: Option<&Version>) -> Option<Value> {
    let v = version?.clone();
    let actor = v.actor.clone()?;
    let name = app
        .with_store(move |app, store| {
            let org = app.views.org(store.db())?;
            Ok(super::audit::actor_sv(&org, &actor))
        })
        .await
        .unwrap_or_else(|_| v.actor.clone().unwrap_or_default());
    let tz = app.views.config().timezone;
    Some(json!({"name": name, "at": when(&v.at, tz), "reason": v.reason.unwrap_or_default()}))
}

/// The routine in force with `id`, or the page that says there is none.
fn current(app: &App, id: &str) -> std::result::Result<Arc<Routine>, Response> {
    app.views
        .routines()
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .ok_or_else(|| {
            page::message(
                app,
                StatusCode::NOT_FOUND,
                "Rutinen finns inte",
                &[&format!(
                    "Ingen rutin har id ”{id}”. Rutinerna finns under Rutiner i översikten."
                )],
            )
        })
}

/// `?publicerad=1` after a publication.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RoutineQuery {
    #[serde(default)]
    pub publicerad: String,
}

/// `GET /overview/routines/{id}/graf.svg`: the routine's graph alone, to open at its own size
/// (on a phone, to zoom in on: on the page it is shrunk to the screen's width).
pub(crate) async fn graph(
    State(app): State<Arc<App>>,
    _staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let routine = match current(&app, &id) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let mut response = crate::routine::render::svg(&routine).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("image/svg+xml; charset=utf-8"),
    );
    response
}

/// `GET /overview/routines/{id}`: the routine in force, its graph, its account, its source and
/// its versions.
pub(crate) async fn routine_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    query: std::result::Result<Query<RoutineQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let routine = match current(&app, &id) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let published = query.is_ok_and(|q| q.0.publicerad == "1");
    let now = app.clock.now();
    let editable = app.routines_dir.is_some();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let org = app.views.org(conn)?;
        let versions = record::history(conn, Kind::Routine, &routine.id)?;
        let mut history: Vec<Value> = Vec::new();
        let mut previous: Option<&Version> = None;
        for v in &versions {
            history.push(json!({
                "hash": v.hash,
                "short": short(&v.hash),
                "at": when(&v.at, tz),
                "by": v.actor.as_deref().map(|a| super::audit::actor_sv(&org, a)).unwrap_or_else(|| "inläst från filen".into()),
                "reason": v.reason.clone().unwrap_or_default(),
                "current": v.hash == routine.hash,
                "previous": previous.map(|p| p.hash.clone()),
            }));
            previous = Some(v);
        }
        history.reverse();
        let known = versions.iter().any(|v| v.hash == routine.hash);
        let drift = workshop::drift(&routine);
        let mut view = preview(&routine, now);
        view["id"] = json!(routine.id);
        view["file"] = json!(routine.path);
        view["hash"] = json!(routine.hash);
        view["short"] = json!(short(&routine.hash));
        view["lines"] = json!(numbered(&routine.source));
        Ok(json!({
            "routine": view,
            "history": history,
            "in_force_known": known,
            "drift": drift.as_deref().map(|d| diff_rows(&routine.source, d)),
            "editable": editable,
            "published": published,
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/routines",
            "web/routine.html",
            "Rutin",
            data,
        ),
        Err(response) => response,
    }
}

/// `?from=HASH&to=HASH` (`to` may be `disk`: the file as it is now).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiffQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// `GET /overview/routines/{id}/diff`: the difference between two versions.
pub(crate) async fn diff_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    query: std::result::Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let routine = match current(&app, &id) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let q = query.map(|q| q.0).unwrap_or_default();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let versions = record::history(conn, Kind::Routine, &routine.id)?;
        let text = |hash: &str| -> crate::Result<Option<(String, String)>> {
            if hash == "disk" {
                return Ok(std::fs::read_to_string(&routine.path)
                    .ok()
                    .map(|t| (t, "filen på servern nu".to_string())));
            }
            if hash == routine.hash {
                return Ok(Some((routine.source.clone(), format!("{} (gäller nu)", short(hash)))));
            }
            let label = versions
                .iter()
                .find(|v| v.hash == hash)
                .map(|v| format!("{} ({})", short(hash), when(&v.at, tz)))
                .unwrap_or_else(|| short(hash).to_string());
            Ok(record::text_of(conn, Kind::Routine, &routine.id, hash)?.map(|t| (t, label)))
        };
        let from = text(q.from.trim())?;
        let to = text(if q.to.trim().is_empty() { &routine.hash } else { q.to.trim() })?;
        let choices: Vec<Value> = versions
            .iter()
            .rev()
            .map(|v| json!({"hash": v.hash, "label": format!("{} ({})", short(&v.hash), when(&v.at, tz)), "from": v.hash == q.from.trim(), "to": v.hash == q.to.trim()}))
            .collect();
        Ok(json!({
            "id": routine.id,
            "title": routine.title,
            "found": from.is_some() && to.is_some(),
            "from": from.as_ref().map(|(_, l)| l.clone()),
            "to": to.as_ref().map(|(_, l)| l.clone()),
            "rows": match (&from, &to) {
                (Some((a, _)), Some((b, _))) => diff_rows(a, b),
                _ => Vec::new(),
            },
            "choices": choices,
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/routines",
            "web/routine_diff.html",
            "Jämför versioner",
            data,
        ),
        Err(response) => response,
    }
}

/// `?from=disk`: start the edit from the file on the server rather than the version in force.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EditQuery {
    #[serde(default)]
    pub from: String,
}

/// The editor's form; every field may be missing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EditForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub text: String,
    /// The hash of the text the edit started from (empty: a new routine).
    #[serde(default)]
    pub base: String,
    /// `check` or `publish`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub reason: String,
    /// `1`: the warnings are seen.
    #[serde(default)]
    pub confirm: String,
}

/// Who may edit: the refusal page for others, and for an installation on the embedded routines.
fn may_edit(app: &App, staff: &Staff) -> Option<Response> {
    if !staff.role.may_act() {
        return Some(page::message(
            app,
            StatusCode::FORBIDDEN,
            "Behörighet saknas",
            &["Bara kvalitetsarbete och administratörer redigerar rutiner."],
        ));
    }
    if app.routines_dir.is_none() {
        return Some(page::message(
            app,
            StatusCode::CONFLICT,
            "Rutinerna kan inte redigeras här",
            &[
                "loggkoll kör de inbyggda rutinerna, som inte har någon mapp att skriva i.",
                "Be den som driftar loggkoll att köra ”loggkoll init” och starta om med mappen routines/; sedan kan rutinerna redigeras här.",
            ],
        ));
    }
    None
}

/// What the editor shows besides the form.
#[derive(Debug, Default)]
struct Outcome {
    diagnostics: Vec<Diagnostic>,
    preview: Option<Value>,
    error: Option<String>,
    /// Warnings to confirm before publishing.
    confirm: bool,
    /// The file changed since the edit started: who and when, and the difference.
    stale: Option<Value>,
}

/// Renders the editor for `id` with `text`, started from `base`.
#[allow(clippy::too_many_arguments)]
fn editor(
    app: &App,
    staff: &Staff,
    id: &str,
    new: bool,
    text: &str,
    base: &str,
    reason: &str,
    outcome: Outcome,
    status: StatusCode,
) -> Response {
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = outcome.diagnostics.len() - errors;
    let data = json!({
        "id": id,
        "new": new,
        "action": if new { "/overview/routines/ny".to_string() } else { format!("/overview/routines/{id}/redigera") },
        "text": text,
        "rows": text.lines().count().clamp(12, 60),
        "base": base,
        "reason": reason,
        "checked": !outcome.diagnostics.is_empty() || outcome.preview.is_some(),
        "diagnostics": outcome.diagnostics.iter().map(diagnostic_view).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": warnings,
        "preview": outcome.preview,
        "error": outcome.error.unwrap_or_default(),
        "confirm": outcome.confirm,
        "stale": outcome.stale,
    });
    let mut response = show(
        app,
        staff,
        "/overview/routines",
        "web/routine_edit.html",
        if new { "Ny rutin" } else { "Redigera rutin" },
        data,
    );
    *response.status_mut() = status;
    response
}

/// `GET /overview/routines/{id}/redigera`: the editor on the version in force (or, `?from=disk`,
/// on the file as it is on the server).
pub(crate) async fn edit_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    query: std::result::Result<Query<EditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(refusal) = may_edit(&app, &staff) {
        return refusal;
    }
    let routine = match current(&app, &id) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let text = match query.map(|q| q.0.from) {
        Ok(from) if from == "disk" => workshop::drift(&routine).unwrap_or(routine.source.clone()),
        _ => routine.source.clone(),
    };
    let base = workshop::hash_of(&text);
    let outcome = Outcome {
        stale: workshop::drift(&routine).filter(|d| *d != text).map(
            |d| json!({"disk_changed": true, "rows": diff_rows(&text, &d), "by": Value::Null}),
        ),
        ..Outcome::default()
    };
    editor(
        &app,
        &staff,
        &id,
        false,
        &text,
        &base,
        "",
        outcome,
        StatusCode::OK,
    )
}

/// `POST /overview/routines/{id}/redigera`: check or publish the edit.
pub(crate) async fn edit_post(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(id): Path<String>,
    form: std::result::Result<Form<EditForm>, FormRejection>,
) -> Response {
    submit(app, staff, id, false, form).await
}

/// The form for a new routine from a copy.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewForm {
    #[serde(default)]
    pub csrf: String,
    /// `existing:ID` or `shipped:ID`.
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
}

/// The routines one may copy: those in force, and those shipped with loggkoll.
fn copy_sources(app: &App) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = app
        .views
        .routines()
        .iter()
        .map(|r| {
            (
                format!("existing:{}", r.id),
                format!("{} (i bruk)", r.title),
                r.source.clone(),
            )
        })
        .collect();
    for (path, bytes) in crate::embedded::FILES {
        // The routines themselves: not the guides and other files shipped beside them.
        if let Some(name) = path.strip_prefix("routines/")
            && let Some(id) = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))
            && !id.contains('/')
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            let title = text
                .lines()
                .find_map(|l| l.strip_prefix("title:"))
                .map(|t| t.trim().trim_matches('"').to_string())
                .unwrap_or_else(|| id.to_string());
            out.push((
                format!("shipped:{id}"),
                format!("{title} (levereras med loggkoll)"),
                text.to_string(),
            ));
        }
    }
    out
}

/// `GET /overview/routines/ny`: start a new routine from a copy.
pub(crate) async fn new_page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    if let Some(refusal) = may_edit(&app, &staff) {
        return refusal;
    }
    new_form(&app, &staff, "", "", "", None, StatusCode::OK)
}

fn new_form(
    app: &App,
    staff: &Staff,
    source: &str,
    id: &str,
    title: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let sources: Vec<Value> = copy_sources(app)
        .into_iter()
        .map(|(key, label, _)| json!({"key": key, "label": label, "selected": key == source}))
        .collect();
    let mut response = show(
        app,
        staff,
        "/overview/routines",
        "web/routine_new.html",
        "Ny rutin från kopia",
        json!({"sources": sources, "id": id, "title": title, "error": error.unwrap_or_default()}),
    );
    *response.status_mut() = status;
    response
}

/// `text` with its top-level `id:` and `title:` set.
fn renamed(text: &str, id: &str, title: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        if line.starts_with("id:") {
            out.push_str(&format!("id: {id}"));
        } else if line.starts_with("title:") && !title.is_empty() {
            out.push_str(&format!("title: \"{}\"", title.replace('"', "'")));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `POST /overview/routines/kopia`: the copy made, shown in the editor (not yet published).
pub(crate) async fn copy_post(
    State(app): State<Arc<App>>,
    staff: Staff,
    form: std::result::Result<Form<NewForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(rejection) => return unreadable(&app, &rejection),
    };
    if let Some(refusal) = may_edit(&app, &staff) {
        return refusal;
    }
    if let Some(refusal) = staff.stale_form(&app, &form.csrf) {
        return refusal;
    }
    let id = form.id.trim().to_string();
    let title = form.title.trim().to_string();
    let refuse = |problem: String| {
        new_form(
            &app,
            &staff,
            &form.source,
            &id,
            &title,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Some((_, _, text)) = copy_sources(&app)
        .into_iter()
        .find(|(key, _, _)| *key == form.source)
    else {
        return refuse("Välj vilken rutin som ska kopieras.".into());
    };
    if let Some(problem) = id_problem(&app, &id) {
        return refuse(problem);
    }
    let text = renamed(&text, &id, &title);
    editor(
        &app,
        &staff,
        &id,
        true,
        &text,
        "",
        "",
        Outcome::default(),
        StatusCode::OK,
    )
}

/// What is wrong with `id` as a new routine's (it names its file too).
fn id_problem(app: &App, id: &str) -> Option<String> {
    let well_formed = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !well_formed {
        return Some(
            "Ge rutinen ett id av små bokstäver a–z, siffror och bindestreck, till exempel ”hemtjanst-stickprov”."
                .into(),
        );
    }
    if matches!(id, "ny" | "kopia") {
        return Some(format!(
            "”{id}” är upptaget av översikten: välj ett annat id."
        ));
    }
    if app.views.routines().iter().any(|r| r.id == id) {
        return Some(format!("Det finns redan en rutin med id ”{id}”."));
    }
    None
}

/// The value of the top-level `id:` line of a routine's text.
fn id_line(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        .unwrap_or_default()
}

/// `POST /overview/routines/ny`: check or publish a new routine.
pub(crate) async fn new_post(
    State(app): State<Arc<App>>,
    staff: Staff,
    form: std::result::Result<Form<EditForm>, FormRejection>,
) -> Response {
    let id = form.as_ref().map(|f| id_line(&f.text)).unwrap_or_default();
    submit(app, staff, id, true, form).await
}

fn unreadable(app: &App, rejection: &FormRejection) -> Response {
    page::unreadable_form(
        app,
        rejection,
        "Formuläret kunde inte läsas",
        "Inget har ändrats. Gå tillbaka till rutinen och försök igen.",
    )
}

/// Checks or publishes an edit of routine `id` (`new`: a routine not yet in force).
async fn submit(
    app: Arc<App>,
    staff: Staff,
    id: String,
    new: bool,
    form: std::result::Result<Form<EditForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(rejection) => return unreadable(&app, &rejection),
    };
    if let Some(refusal) = may_edit(&app, &staff) {
        return refusal;
    }
    if let Some(refusal) = staff.stale_form(&app, &form.csrf) {
        return refusal;
    }
    let Some(dir) = app.routines_dir.clone() else {
        return page::message(
            &app,
            StatusCode::CONFLICT,
            "Rutinerna kan inte redigeras här",
            &[],
        );
    };
    // Form text arrives with CRLF line ends; the file keeps LF.
    let text = form.text.replace("\r\n", "\n");
    let path = if new {
        if let Some(problem) = id_problem(&app, &id) {
            let outcome = Outcome {
                error: Some(format!("{problem} (Raden ”id:” överst i texten.)")),
                ..Outcome::default()
            };
            return editor(
                &app,
                &staff,
                &id,
                true,
                &text,
                "",
                &form.reason,
                outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        dir.join(format!("{id}.yaml"))
    } else {
        match current(&app, &id) {
            Ok(r) => std::path::PathBuf::from(&r.path),
            Err(response) => return response,
        }
    };
    let now = app.clock.now();
    let base = form.base.trim().to_string();
    let reason = form.reason.clone();
    let again = |outcome: Outcome, status: StatusCode| {
        editor(
            &app, &staff, &id, new, &text, &base, &reason, outcome, status,
        )
    };
    if form.action != "publish" {
        let (t, p, d) = (text.clone(), path.clone(), dir.clone());
        let checked = app
            .with_engine(move |engine| workshop::check(engine, &d, &p, &t))
            .await;
        return match checked {
            Ok(c) => {
                let preview = c
                    .routine
                    .as_ref()
                    .filter(|_| !c.has_errors())
                    .map(|r| preview(r, now));
                again(
                    Outcome {
                        diagnostics: c.diagnostics,
                        preview,
                        ..Outcome::default()
                    },
                    StatusCode::OK,
                )
            }
            Err(err) => page::server_error(&app, &err),
        };
    }
    let actor = format!("web:{}", staff.name);
    let (t, p, d, b, r) = (
        text.clone(),
        path.clone(),
        dir.clone(),
        base.clone(),
        reason.clone(),
    );
    let confirmed = form.confirm == "1";
    let views = app.clone();
    let published = app
        .with_engine(move |engine| {
            let done = workshop::publish(
                engine,
                &PublishRequest {
                    dir: &d,
                    path: &p,
                    text: &t,
                    base_hash: (!b.is_empty()).then_some(b.as_str()),
                    reason: &r,
                    actor: &actor,
                    confirmed,
                },
                now,
            )?;
            if done.is_ok() {
                views.views.set_routines(&engine.routines);
            }
            Ok(done)
        })
        .await;
    match published {
        Ok(Ok(p)) => page::redirect(&format!("/overview/routines/{}?publicerad=1", p.name)),
        Ok(Err(refused)) => {
            let (outcome, status) = refusal(&app, &id, &base, &text, refused).await;
            again(outcome, status)
        }
        Err(err) => page::server_error(&app, &err),
    }
}

/// What others changed in `name` since the edit began from version `base`: the difference from
/// that version (or, when it is not on record, from the edited `text`) to the file on `disk`.
async fn changed_since(
    app: &Arc<App>,
    kind: Kind,
    name: &str,
    base: &str,
    text: &str,
    disk: Option<&str>,
) -> Vec<Value> {
    let Some(disk) = disk else {
        return Vec::new();
    };
    let base_text = app
        .with_store({
            let (name, base) = (name.to_string(), base.to_string());
            move |_, store| record::text_of(store.db(), kind, &name, &base)
        })
        .await
        .ok()
        .flatten();
    diff_rows(base_text.as_deref().unwrap_or(text), disk)
}

/// How the editor shows a routine's publication refused: what to say, and the status.
async fn refusal(
    app: &Arc<App>,
    id: &str,
    base: &str,
    text: &str,
    refused: Refused,
) -> (Outcome, StatusCode) {
    match refused {
        Refused::NoReason => (
            Outcome {
                error: Some("Skriv varför rutinen ändras: det syns i versionshistoriken.".into()),
                ..Outcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Refused::Invalid(diagnostics) => (
            Outcome {
                error: Some("Rutinen publicerades inte: rätta felen nedan först.".into()),
                diagnostics,
                ..Outcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Refused::Stale { disk, by, earlier } => {
            // A publication since the edit started leaves the file as the version in
            // force; anything else is an edit on the server.
            let in_force = current(app, id).ok().map(|r| r.hash.clone());
            let disk_changed = disk.as_deref().map(workshop::hash_of) != in_force;
            let by = by.filter(|_| !disk_changed);
            let who = publisher(app, by.as_ref()).await;
            let rows = changed_since(app, Kind::Routine, id, base, text, disk.as_deref()).await;
            (
                Outcome {
                    error: Some(
                        "Rutinen publicerades inte: någon annan har ändrat den sedan du började."
                            .into(),
                    ),
                    stale: Some(json!({
                        "by": who,
                        "earlier": if disk_changed { 0 } else { earlier },
                        "disk_changed": disk_changed,
                        "gone": disk.is_none(),
                        "rows": rows,
                        "theirs": disk.as_deref().map(workshop::hash_of),
                    })),
                    ..Outcome::default()
                },
                StatusCode::CONFLICT,
            )
        }
        Refused::Exists(path) => (
            Outcome {
                error: Some(format!(
                    "Filen {} finns redan. Välj ett annat id.",
                    path.display()
                )),
                ..Outcome::default()
            },
            StatusCode::CONFLICT,
        ),
        Refused::IdChanged { was, now } => (
            Outcome {
                error: Some(format!(
                    "Rutinens id kan inte ändras (från ”{was}” till ”{now}”): öppna ärenden hör till det. Gör en ny rutin från en kopia i stället."
                )),
                ..Outcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Refused::NeedsConfirmation(diagnostics) => (
            Outcome {
                error: Some(
                    "Bekräfta först: ändringen tar bort steg som öppna ärenden står i.".into(),
                ),
                diagnostics,
                confirm: true,
                ..Outcome::default()
            },
            StatusCode::CONFLICT,
        ),
    }
}

// ----- email templates -----

/// The email templates the workshop edits, `mail/NAME.txt|html`, with what each is for.
fn mail_templates(app: &App) -> Vec<Value> {
    let routines = app.views.routines();
    let library = app.mail_templates();
    library
        .names()
        .filter(|n| workshop::is_mail_template(n))
        .map(|n| {
            let purpose = workshop::template_purpose(routines.iter().map(|r| r.as_ref()), n);
            // Edited on the server since loggkoll read it: its emails are still written with
            // the text read.
            let on_disk = std::fs::read_to_string(app.pages.dir.join(n)).ok();
            let changed = on_disk.is_some_and(|d| library.text(n) != Some(d.as_str()));
            json!({
                "file": n.trim_start_matches("mail/"),
                "purpose": purpose_sv(purpose),
                "html": n.ends_with(".html"),
                "changed": changed,
            })
        })
        .collect()
}

/// What a template's email is, in Swedish.
fn purpose_sv(p: crate::templates::Purpose) -> &'static str {
    use crate::templates::Purpose;
    match p {
        Purpose::Task => "Uppgift till den som har ett steg",
        Purpose::Reminder => "Påminnelse",
        Purpose::Escalation => "Eskalering",
        Purpose::Inform => "För kännedom",
        Purpose::SummaryMail => "Årssammanställningen till SAS",
        Purpose::Digest => "Dagens sammandrag",
        Purpose::InboxFailed => "En fil i logginkorgen kunde inte läsas",
        _ => "Mejl",
    }
}

/// The templates folder the workshop writes into, or the page that says there is none.
fn templates_editable(app: &App, staff: &Staff) -> Option<Response> {
    if !staff.role.may_act() {
        return Some(page::message(
            app,
            StatusCode::FORBIDDEN,
            "Behörighet saknas",
            &["Bara kvalitetsarbete och administratörer redigerar mejlmallar."],
        ));
    }
    if !app.templates_editable {
        return Some(page::message(
            app,
            StatusCode::CONFLICT,
            "Mejlmallarna kan inte redigeras här",
            &[
                "loggkoll använder de inbyggda mallarna, som inte har någon mapp att skriva i.",
                "Be den som driftar loggkoll att köra ”loggkoll init” och starta om med mappen templates/; sedan kan mallarna redigeras här.",
            ],
        ));
    }
    None
}

/// `GET /overview/mallar`: the email templates (`?publicerad=FILE` after a publication).
pub(crate) async fn templates_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<Query<RoutineQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let published = query.map(|q| q.0.publicerad).unwrap_or_default();
    let list = mail_templates(&app);
    let published = list
        .iter()
        .find(|t| t["file"] == published.as_str())
        .map(|t| t["file"].clone());
    show(
        &app,
        &staff,
        "/overview/routines",
        "web/templates.html",
        "Mejlmallar",
        json!({"templates": list, "editable": app.templates_editable, "published": published}),
    )
}

/// The template file of a path's last part (`task.txt`), or the page that says it is none.
fn template_file(app: &App, name: &str) -> std::result::Result<String, Response> {
    let file = format!("mail/{name}");
    if workshop::is_mail_template(&file) {
        return Ok(file);
    }
    Err(page::message(
        app,
        StatusCode::NOT_FOUND,
        "Mallen finns inte",
        &["Mejlmallarna finns under Mejlmallar i översikten."],
    ))
}

/// What the template editor shows.
#[derive(Debug, Default)]
struct TemplateOutcome {
    diagnostics: Vec<Diagnostic>,
    preview: Option<crate::templates::Mail>,
    checked: bool,
    error: Option<String>,
    stale: Option<Value>,
}

#[allow(clippy::too_many_arguments)]
async fn template_editor(
    app: &Arc<App>,
    staff: &Staff,
    file: &str,
    text: &str,
    base: &str,
    reason: &str,
    outcome: TemplateOutcome,
    status: StatusCode,
) -> Response {
    let (file_owned, tz) = (file.to_string(), app.views.config().timezone);
    let history = app
        .with_store(move |app, store| {
            let conn = store.db();
            let org = app.views.org(conn)?;
            Ok(record::history(conn, Kind::Template, &file_owned)?
                .iter()
                .rev()
                .map(|v| {
                    json!({
                        "short": short(&v.hash),
                        "at": when(&v.at, tz),
                        "by": v.actor.as_deref().map(|a| super::audit::actor_sv(&org, a)).unwrap_or_default(),
                        "reason": v.reason.clone().unwrap_or_default(),
                    })
                })
                .collect::<Vec<_>>())
        })
        .await
        .unwrap_or_default();
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let routines = app.views.routines();
    let purpose = workshop::template_purpose(routines.iter().map(|r| r.as_ref()), file);
    let data = json!({
        "file": file.trim_start_matches("mail/"),
        "purpose": purpose_sv(purpose),
        "text": text,
        "rows": text.lines().count().clamp(12, 50),
        "base": base,
        "reason": reason,
        "checked": outcome.checked,
        "diagnostics": outcome.diagnostics.iter().map(diagnostic_view).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": outcome.diagnostics.len() - errors,
        "preview": outcome.preview.as_ref().map(|m| json!({"subject": m.subject, "text": m.text, "html": m.html})),
        "error": outcome.error.unwrap_or_default(),
        "stale": outcome.stale,
        "history": history,
    });
    let mut response = show(
        app,
        staff,
        "/overview/routines",
        "web/template_edit.html",
        "Redigera mejlmall",
        data,
    );
    *response.status_mut() = status;
    response
}

/// `GET /overview/mallar/{name}`: the editor on the template as loaded.
pub(crate) async fn template_page(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(name): Path<String>,
) -> Response {
    if let Some(refusal) = templates_editable(&app, &staff) {
        return refusal;
    }
    let file = match template_file(&app, &name) {
        Ok(f) => f,
        Err(response) => return response,
    };
    // What emails are written with now (the folder as last read).
    let loaded = app.mail_templates().text(&file).map(str::to_string);
    // The edit starts from the file as it is on the server, which is what a publication
    // replaces; an edit there that loggkoll has not read is said.
    let Some(text) = std::fs::read_to_string(app.pages.dir.join(&file))
        .ok()
        .or_else(|| loaded.clone())
    else {
        return page::message(&app, StatusCode::NOT_FOUND, "Mallen finns inte", &[]);
    };
    let outcome = TemplateOutcome {
        stale: loaded.filter(|l| *l != text).map(|l| {
            json!({"by": Value::Null, "disk_changed": true, "read_back": true,
                "rows": diff_rows(&l, &text)})
        }),
        ..TemplateOutcome::default()
    };
    let base = workshop::hash_of(&text);
    template_editor(
        &app,
        &staff,
        &file,
        &text,
        &base,
        "",
        outcome,
        StatusCode::OK,
    )
    .await
}

/// `POST /overview/mallar/{name}`: check or publish an edited template.
pub(crate) async fn template_post(
    State(app): State<Arc<App>>,
    staff: Staff,
    Path(name): Path<String>,
    form: std::result::Result<Form<EditForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(rejection) => return unreadable(&app, &rejection),
    };
    if let Some(refusal) = templates_editable(&app, &staff) {
        return refusal;
    }
    if let Some(refusal) = staff.stale_form(&app, &form.csrf) {
        return refusal;
    }
    let file = match template_file(&app, &name) {
        Ok(f) => f,
        Err(response) => return response,
    };
    let text = form.text.replace("\r\n", "\n");
    let base = form.base.trim().to_string();
    let now = app.clock.now();
    if form.action != "publish" {
        let (f, t) = (file.clone(), text.clone());
        let checked = app
            .with_engine(move |engine| Ok(workshop::check_template(engine, &f, &t)))
            .await;
        return match checked {
            Ok(c) => {
                let outcome = TemplateOutcome {
                    diagnostics: c.diagnostics,
                    preview: c.preview,
                    checked: true,
                    ..TemplateOutcome::default()
                };
                template_editor(
                    &app,
                    &staff,
                    &file,
                    &text,
                    &base,
                    &form.reason,
                    outcome,
                    StatusCode::OK,
                )
                .await
            }
            Err(err) => page::server_error(&app, &err),
        };
    }
    let actor = format!("web:{}", staff.name);
    let (f, t, b, r) = (
        file.clone(),
        text.clone(),
        base.clone(),
        form.reason.clone(),
    );
    let mail = app.clone();
    let published = app
        .with_engine(move |engine| {
            let done = workshop::publish_template(
                engine,
                &workshop::TemplateRequest {
                    file: &f,
                    text: &t,
                    base_hash: &b,
                    reason: &r,
                    actor: &actor,
                },
                now,
            )?;
            if done.is_ok() {
                // The next email is written with it.
                mail.reload_mail_templates()?;
            }
            Ok(done)
        })
        .await;
    let (outcome, status) = match published {
        Ok(Ok(_)) => return page::redirect(&format!("/overview/mallar?publicerad={name}")),
        Ok(Err(Refused::NoReason)) => (
            TemplateOutcome {
                error: Some("Skriv varför mallen ändras: det syns i versionshistoriken.".into()),
                ..TemplateOutcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(Refused::Invalid(diagnostics))) => (
            TemplateOutcome {
                error: Some("Mallen publicerades inte: rätta felen nedan först.".into()),
                diagnostics,
                checked: true,
                ..TemplateOutcome::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(Refused::Stale { disk, by, earlier })) => {
            let who = publisher(&app, by.as_ref()).await;
            // What others changed: from the text the edit started from, when it is known.
            let rows =
                changed_since(&app, Kind::Template, &file, &base, &text, disk.as_deref()).await;
            (
                TemplateOutcome {
                    error: Some(
                        "Mallen publicerades inte: någon annan har ändrat den sedan du började."
                            .into(),
                    ),
                    stale: Some(json!({
                        "by": who,
                        "earlier": earlier,
                        "disk_changed": by.is_none(),
                        "gone": disk.is_none(),
                        "rows": rows,
                    })),
                    ..TemplateOutcome::default()
                },
                StatusCode::CONFLICT,
            )
        }
        Ok(Err(other)) => (
            TemplateOutcome {
                error: Some(format!("Mallen publicerades inte ({other:?}).")),
                ..TemplateOutcome::default()
            },
            StatusCode::CONFLICT,
        ),
        Err(err) => return page::server_error(&app, &err),
    };
    template_editor(
        &app,
        &staff,
        &file,
        &text,
        &base,
        &form.reason,
        outcome,
        status,
    )
    .await
}
