//! The accounts of the overview, for an account with the `admin` role: who may log in and what
//! each may do. Add an account (with a first password that its owner changes with
//! `loggkoll user password` or is given anew here), change its role, remove it. Each change is
//! one transaction, audited with the admin's account, behind the session's form token. An admin
//! cannot remove or demote their own account, so the installation never loses its last admin
//! from the browser.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::auth::{Checked, Staff, StaffForm};
use super::overview::{read, show};
use super::{App, page, password};
use crate::engine::accounts;
use crate::store::web::{self as db, WebRole};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn not_admin(app: &App) -> Response {
    page::message(
        app,
        StatusCode::FORBIDDEN,
        "Behörighet saknas",
        &["Bara en administratör hanterar kontona till översikten."],
    )
}

/// `GET /overview/accounts`.
pub(crate) async fn list(State(app): State<Arc<App>>, staff: Staff) -> Response {
    if staff.role != WebRole::Admin {
        return not_admin(&app);
    }
    view(&app, &staff, None, None, StatusCode::OK).await
}

async fn view(
    app: &Arc<App>,
    staff: &Staff,
    done: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let me = staff.name.clone();
    let data = read(app, move |app, conn| {
        let tz = app.views.config().timezone;
        let when = |t: Option<&str>| {
            t.and_then(|t| crate::store::parse_ts(t).ok())
                .map(|t| crate::engine::view::datetime_sv(t, tz))
                .unwrap_or_else(|| "aldrig".into())
        };
        let users: Vec<Value> = db::users(conn)?
            .iter()
            .map(|u| {
                json!({
                    "name": u.name,
                    "role": u.role.as_str(),
                    "role_sv": u.role.title_sv(),
                    "created": when(Some(&u.created_at)),
                    "last_login": when(u.last_login_at.as_deref()),
                    "me": u.name == me,
                    "provider": u.sign_in == "provider",
                })
            })
            .collect();
        let roles: Vec<Value> = WebRole::ALL
            .iter()
            .map(|r| json!({"id": r.as_str(), "name": r.title_sv()}))
            .collect();
        Ok(json!({"users": users, "roles": roles}))
    })
    .await;
    let mut data = match data {
        Ok(data) => data,
        Err(response) => return response,
    };
    data["done"] = json!(done.unwrap_or_default());
    data["error"] = json!(error.unwrap_or_default());
    let mut response = show(
        app,
        staff,
        "/overview/accounts",
        "web/accounts.html",
        "Konton",
        data,
    );
    *response.status_mut() = status;
    response
}

/// The accounts form, as sent; every field may be missing.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AccountForm {
    #[serde(default)]
    pub csrf: String,
    /// `add`, `role` or `remove`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub repeat: String,
}

impl StaffForm for AccountForm {
    const UNREAD: &'static str = "Inget har ändrats. Gå tillbaka till kontona och försök igen.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
    fn may_not(app: &App, staff: &Staff) -> Option<Response> {
        (staff.role != WebRole::Admin).then(|| not_admin(app))
    }
}

/// `POST /overview/accounts`.
pub(crate) async fn change(
    State(app): State<Arc<App>>,
    Checked { staff, form }: Checked<AccountForm>,
) -> Response {
    let refuse = |message: &str| Some(message.to_string());
    let name = form.name.trim().to_string();
    let role = WebRole::parse(&form.role);
    let problem = match form.action.as_str() {
        _ if !accounts::is_name(&name) => {
            refuse("Kontonamnet får ha 1 till 64 bokstäver, siffror och tecknen . _ - @.")
        }
        "add" | "role" if role.is_none() => refuse("Välj en roll."),
        "add" if form.password != form.repeat => refuse("Lösenorden är inte lika."),
        "add" if password::check_strength(&form.password).is_err() => Some(format!(
            "Lösenordet behöver minst {} tecken och inga styrtecken.",
            password::MIN_LENGTH
        )),
        "role" | "remove" if name == staff.name => {
            refuse("Du kan inte ändra eller ta bort ditt eget konto här.")
        }
        "add" | "role" | "remove" => None,
        _ => refuse("Okänd åtgärd."),
    };
    if let Some(problem) = problem {
        return view(
            &app,
            &staff,
            None,
            Some(problem),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let role = role.unwrap_or(WebRole::Reader);
    let hash = if form.action == "add" {
        // argon2 takes a while: on a blocking thread, not the server's.
        let typed = form.password.clone();
        match tokio::task::spawn_blocking(move || password::hash(&typed)).await {
            Ok(Ok(hash)) => Some(hash),
            Ok(Err(err)) => return page::server_error(&app, &err),
            Err(e) => {
                return page::server_error(&app, &crate::Error::runtime(format!("hashing: {e}")));
            }
        }
    } else {
        None
    };
    let now = app.clock.now();
    let actor = format!("web:{}", staff.name);
    let action = form.action.clone();
    let target = name.clone();
    let done = app
        .with_store(move |_, store| {
            let what = match (&hash, action.as_str()) {
                (Some(hash), _) => accounts::Change::Add { hash, role },
                (None, "role") => accounts::Change::Role(role),
                _ => accounts::Change::Remove,
            };
            match accounts::change(store, &target, what, &actor, now) {
                Ok(()) => Ok(Ok(match what {
                    accounts::Change::Add { .. } => {
                        format!("Kontot {target} är tillagt ({}).", role.title_sv())
                    }
                    accounts::Change::Role(_) => {
                        format!("{target} har nu rollen {}.", role.title_sv())
                    }
                    _ => format!("Kontot {target} är borttaget."),
                })),
                Err(e) => match e.refusal {
                    Some(refusal) => Ok(Err(refusal.sv())),
                    None => Err(e),
                },
            }
        })
        .await;
    match done {
        Ok(Ok(said)) => view(&app, &staff, Some(said), None, StatusCode::OK).await,
        Ok(Err(problem)) => {
            view(
                &app,
                &staff,
                None,
                Some(problem),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(err) => page::server_error(&app, &err.context("accounts")),
    }
}
