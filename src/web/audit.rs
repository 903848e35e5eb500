//! `/overview/audit`: the audit trail, readable. Who did what and when, newest first, a page at
//! a time, filtered by period, actor, case and kind of event; for `admin` and `quality`. Also the
//! Swedish words for actors and events that every page naming them uses.

use super::app::App;
use super::auth::Staff;
use super::overview::{read, show};
use super::page;
use crate::engine::org::Org;
use crate::engine::view::{Views, datetime_sv};
use crate::store::audit::{self, Filter};
use crate::store::parse_ts;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Entries on one page.
const PAGE: usize = 100;

/// The kinds of event the filter offers: the prefix of their names, in Swedish.
const KINDS: &[(&str, &str)] = &[
    ("case.", "Ärenden"),
    ("task.", "Steg"),
    ("access.", "Bedömda åtkomster"),
    ("round.", "Omgångar"),
    ("routine.", "Rutiner"),
    ("template.", "Mejlmallar"),
    ("web.", "Inloggning och konton"),
    ("cases.", "Sökningar och exporter"),
    ("watch.", "Bevakningslistan"),
    ("delegation.", "Delegeringar"),
    ("record", "Dokument och gallring"),
    ("logs.", "Loggimporter"),
    ("roster.", "Personalregistret"),
    ("rights.", "Behovs- och riskanalysen"),
    ("relations.", "Vårdrelationer"),
    ("shifts.", "Arbetspass"),
    ("outbox.", "Mejl"),
];

/// Who did something, as people read it: a person's name, a web account, the scheduler.
pub(super) fn actor_sv(org: &Org, actor: &str) -> String {
    if let Some(account) = actor.strip_prefix("web:") {
        return format!("{account} (översikten)");
    }
    match actor {
        _ if audit::MACHINE_ACTORS.contains(&actor) => "loggkoll".into(),
        "oidc" => "organisationens inloggning".into(),
        "cli" => "kommandoraden".into(),
        _ => Views::name(org, actor),
    }
}

/// An audit event in Swedish.
pub(super) fn event_sv(event: &str) -> String {
    match event {
        "case.opened" => "Ärendet öppnades",
        "case.answered" | "task.answered" => "Ett steg besvarades",
        "case.closed" => "Ärendet avslutades",
        "task.reassigned" => "Steget fick en ny ansvarig",
        "task.link_resent" => "Länken skickades på nytt",
        "task.escalated" | "case.escalated" => "Steget eskalerades",
        "task.reminded" | "case.reminded" => "Påminnelse skickades",
        "record.written" => "Dokument skrevs",
        "record.downloaded" => "Dokument hämtades",
        "records.purged" => "Gallring",
        "access.judged" | "evidence.judged" => "En åtkomst bedömdes",
        "case.escalation_unassigned" => "Eskaleringen nådde ingen: rollen saknar innehavare",
        "account.decided" => "Beslut om ett konto",
        "staff.informed" => "Medarbetare markerades som informerade",
        "staff.uninformed" => "En markering som informerad togs tillbaka",
        "outbox.retried" => "Ett mejl skickades på nytt",
        "watch.added" => "Kunden sattes på bevakningslistan",
        "watch.removed" => "Kunden togs bort från bevakningslistan",
        "case.diary_number" => "Diarienumret ändrades",
        "round.drawn" => "En omgång lottades",
        "routine.published" => "En rutin publicerades",
        "template.published" => "En mejlmall publicerades",
        "cases.exported" => "Ärendelistan exporterades",
        "cases.searched_by_client" => "Sökning på en kunds personnummer",
        "delegation.added" => "En delegering lades till",
        "delegation.revoked" => "En delegering togs bort",
        "logs.imported" => "Logg importerades",
        "logs.inbox_failed" => "En fil i inkorgen kunde inte läsas",
        "relations.imported" => "Vårdrelationer importerades",
        "shifts.imported" => "Arbetspass importerades",
        "rights.imported" => "Behovs- och riskanalysen importerades",
        "roster.imported" => "Personalregistret importerades",
        "summary.queued" => "Årssammanställningen skickades",
        "web.login" => "Inloggning",
        "web.login_refused" => "En inloggning nekades",
        "web.password_changed" => "Lösenordet byttes",
        "web.role_changed" => "Ett kontos roll ändrades",
        "web.user_added" => "Ett konto lades till",
        "web.user_removed" => "Ett konto togs bort",
        // Never a code alone on a page: an event without words of its own is still an event.
        _ => "Annan händelse",
    }
    .to_string()
}

/// The filters, as the form sends them; every field may be missing or wrong.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    /// The first day (YYYY-MM-DD).
    #[serde(default)]
    pub from: String,
    /// The last day (YYYY-MM-DD).
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub case: String,
    /// One of [`KINDS`]' prefixes.
    #[serde(default)]
    pub kind: String,
    /// Entries before this sequence number (the next page).
    #[serde(default)]
    pub before: String,
}

/// `data` as a short line: its fields, `name: value`, without the long hashes; instants in
/// local time (`tz`).
fn details(data: &Value, tz: chrono_tz::Tz) -> String {
    let Value::Object(map) = data else {
        return String::new();
    };
    map.iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "digest" | "version" | "seed" | "hash" | "previous" | "from_hash" | "to_hash"
            )
        })
        .map(|(k, v)| {
            let why = k == "why";
            let k = key_sv(k);
            match v {
                Value::String(s) if why => format!("{k}: {}", refusal_sv(s)),
                Value::String(s) => match parse_ts(s) {
                    Ok(t) if s.ends_with('Z') => format!("{k}: {}", datetime_sv(t, tz)),
                    _ => format!("{k}: {s}"),
                },
                Value::Bool(b) => format!("{k}: {}", if *b { "ja" } else { "nej" }),
                other => format!("{k}: {other}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a sign-in at the identity provider was refused, in Swedish (`web.login_refused`).
fn refusal_sv(code: &str) -> &str {
    match code {
        "no_role" => "ingen grupp ger behörighet",
        "local_account" => "namnet tillhör ett lokalt konto",
        "other_person" => "kontot tillhör en annan person",
        "no_account" => "inget konto",
        "weak_sign_in" => "för svag inloggningsmetod",
        "unusable_name" => "namnet går inte att använda",
        other => other,
    }
}

/// A field of an event's details in Swedish (those without words of their own as they are).
fn key_sv(key: &str) -> &str {
    match key {
        "routine" => "rutin",
        "drawn" => "lottade",
        "population" => "bland",
        "occurrence" => "tillfälle",
        "late" => "sen",
        "windows" => "fönster",
        "file" => "fil",
        "files" => "filer",
        "rows" => "rader",
        "added" => "nya",
        "kind" => "slag",
        "account" => "konto",
        "user" => "konto",
        "role" => "roll",
        "from" => "från",
        "to" => "till",
        "verdict" => "bedömning",
        "outcome" => "utfall",
        "reason" => "anledning",
        "count" => "antal",
        "state" => "steg",
        "step" => "steg",
        "person" => "person",
        "unit" => "enhet",
        "system" => "system",
        "pdf" => "pdf",
        "format" => "format",
        "client" => "kund",
        "title" => "rubrik",
        "path" => "fil",
        "number" => "nummer",
        "imported" => "importerade",
        "cases" => "ärenden",
        "year" => "år",
        "task" => "steg nr",
        "answered_task" => "besvarat steg nr",
        "holder" => "innehavare",
        "due" => "senast",
        "assignee" => "ansvarig",
        "window_start" => "fönstrets början",
        "window_end" => "fönstrets slut",
        "subject_user" => "granskad användare",
        "recipients" => "mottagare",
        "import_id" => "import nr",
        "comment" => "kommentar",
        "via" => "via",
        "why" => "orsak",
        "informed" => "informerade",
        "deputy" => "ersättare",
        "sessions_ended" => "sessioner avslutade",
        "subject" => "personen hos inloggningstjänsten",
        other => other,
    }
}

/// `GET /overview/audit`.
pub(crate) async fn page(
    State(app): State<Arc<App>>,
    staff: Staff,
    query: std::result::Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !staff.role.may_act() {
        return page::message(
            &app,
            StatusCode::FORBIDDEN,
            "Behörighet saknas",
            &["Händelseloggen visas för kvalitetsarbete och administratörer."],
        );
    }
    let q = query.map(|q| q.0).unwrap_or_default();
    let data = read(&app, move |app, conn| {
        let tz = app.views.config().timezone;
        let mut problems = Vec::new();
        let mut day = |text: &str, field: &str, end: bool| -> Option<chrono::DateTime<chrono::Utc>> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = if end {
                crate::clock::parse_end(text, tz)
            } else {
                crate::clock::parse_time(text, tz)
            };
            match parsed {
                Ok(t) => Some(t),
                Err(_) => {
                    problems.push(format!("{field}: ”{text}” är inget datum (ÅÅÅÅ-MM-DD)."));
                    None
                }
            }
        };
        let from = day(&q.from, "Från", false);
        let to = day(&q.to, "Till", true);
        let kind = KINDS
            .iter()
            .find(|(prefix, _)| *prefix == q.kind)
            .map(|(prefix, _)| *prefix);
        let actor = q.actor.trim();
        let case = q.case.trim();
        let before = q.before.trim().parse::<i64>().ok();
        let org = app.views.org(conn)?;
        // One more than a page: whether there is an older page.
        let mut entries = audit::list(
            conn,
            &Filter {
                from,
                to,
                actor: (!actor.is_empty()).then_some(actor),
                case_id: (!case.is_empty()).then_some(case),
                event_prefix: kind,
                before_seq: before,
                newest_first: true,
                limit: Some(PAGE + 1),
            },
        )?;
        let older = entries.len() > PAGE;
        entries.truncate(PAGE);
        let rows: Vec<Value> = entries
            .iter()
            .map(|e| {
                json!({
                    "seq": e.seq,
                    "at": parse_ts(&e.at).map(|t| datetime_sv(t, tz)).unwrap_or_else(|_| e.at.clone()),
                    "actor": actor_sv(&org, &e.actor),
                    "actor_id": e.actor,
                    "event": event_sv(&e.event),
                    "case": e.case_id,
                    "details": details(&e.data, tz),
                    "personal": e.personal.as_ref().map(|p| details(p, tz)).unwrap_or_default(),
                })
            })
            .collect();
        let next = entries.last().filter(|_| older).map(|e| {
            let mut link: Vec<String> = Vec::new();
            for (k, v) in [
                ("from", q.from.trim()),
                ("to", q.to.trim()),
                ("actor", actor),
                ("case", case),
                ("kind", kind.unwrap_or("")),
            ] {
                if !v.is_empty() {
                    link.push(format!("{k}={}", super::cases::query_value(v)));
                }
            }
            link.push(format!("before={}", e.seq));
            format!("/overview/audit?{}", link.join("&"))
        });
        // loggkoll itself once, however many names it has in the trail.
        let mut ids: Vec<&str> = Vec::new();
        let known = audit::actors(conn)?;
        for a in &known {
            let id = if audit::MACHINE_ACTORS.contains(&a.as_str()) {
                "loggkoll"
            } else {
                a.as_str()
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let actors: Vec<Value> = ids
            .iter()
            .map(|a| json!({"id": a, "name": actor_sv(&org, a), "selected": *a == actor}))
            .collect();
        let kinds: Vec<Value> = KINDS
            .iter()
            .map(|(prefix, name)| json!({"id": prefix, "name": name, "selected": Some(*prefix) == kind}))
            .collect();
        Ok(json!({
            "entries": rows,
            "problems": problems,
            "next": next,
            "later": before.is_some(),
            "actors": actors,
            "kinds": kinds,
            "q": {"from": q.from.trim(), "to": q.to.trim(), "case": case},
        }))
    })
    .await;
    match data {
        Ok(data) => show(
            &app,
            &staff,
            "/overview/audit",
            "web/audit.html",
            "Händelselogg",
            data,
        ),
        Err(response) => response,
    }
}
