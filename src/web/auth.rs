//! Logging in to the overview. Accounts are local, made with `loggkoll user add`; passwords are
//! argon2 hashes (`password`). A login starts a session: a random 256-bit token in a cookie that
//! is `Secure`, `HttpOnly` and `SameSite=Strict`, of which the database keeps only the SHA-256,
//! valid for eight hours or until logout. Failed logins are throttled per account and per client
//! address (`throttle`; behind a trusted reverse proxy, the address it forwarded for), and
//! logins are handled one at a time so that every failure counts before the next attempt. The login form is bound to a random value in a short-lived cookie of
//! its own, the logout form to the session (`csrf`).

use super::csrf::{self, Purpose};
use super::throttle::{self, Key};
use super::{App, page, password};
use crate::store::web::WebRole;
use crate::store::{audit, web as db};
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::RngExt;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub(crate) const SESSION_COOKIE: &str = "loggkoll_session";
pub(crate) const LOGIN_COOKIE: &str = "loggkoll_login";
/// How long a session lasts.
pub(crate) const SESSION_HOURS: i64 = 8;
/// How long a login form may be left open.
const LOGIN_FORM_SECONDS: i64 = 30 * 60;

/// The value of cookie `name`, if it is one we could have set (URL-safe base64, short).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

pub(super) fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict"
    ))
    .ok()
}

/// As [`set_cookie`], but sent along when another site sends the browser here (`Lax`): the
/// identity provider's answer comes back that way.
pub(super) fn set_lax_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; Secure; HttpOnly; SameSite=Lax"
    ))
    .ok()
}

/// A new session's token and its hash.
pub(super) fn new_session_token() -> (String, String) {
    let token = random_token();
    let hash = token_hash(&token);
    (token, hash)
}

pub(super) fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The SHA-256 of a session token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

/// The client's address: the connection's peer, or — when the peer is one of the configured
/// `trusted_proxies` — the address that proxy says it forwarded for (`client_address`).
pub struct ClientAddr(pub String);

impl FromRequestParts<Arc<App>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientAddr("unknown".into()));
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client_address(peer.ip(), &forwarded, &app.trusted_proxies);
        Ok(ClientAddr(ip.to_string()))
    }
}

/// Who sent a request that reached us from `peer` with `X-Forwarded-For` headers `forwarded`.
/// Only the hops added by trusted proxies are believed: the list is read from its right end
/// (the hop nearest to us) past every trusted proxy, and the first address that is not one is
/// the client. Anything a client wrote itself stands further left and is never reached; an
/// entry that is not an address stops the walk at the last proxy.
pub fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer.to_canonical();
    let hops = forwarded.iter().flat_map(|h| h.split(',')).rev();
    for hop in hops {
        if !trusted.contains(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip.to_canonical(),
            Err(_) => break,
        }
    }
    client
}

/// A logged-in member of the quality staff. Extracting it from a request without a valid
/// session redirects to the login page.
pub struct Staff {
    pub name: String,
    pub role: WebRole,
    /// The token for this session's forms.
    pub csrf: String,
    token_hash: String,
    /// The session's token (from its cookie), that the session's forms are bound to.
    token: String,
}

impl Staff {
    /// The refusal of a form of this session whose token does not fit (missing, forged, or of
    /// an ended session); `None` when it fits.
    pub(crate) fn stale_form(&self, app: &App, given: &str) -> Option<Response> {
        if csrf::verify(app.secret(), Purpose::Session, &self.token, given) {
            return None;
        }
        Some(page::message(
            app,
            StatusCode::FORBIDDEN,
            "Formuläret kunde inte skickas",
            &[
                "Formuläret saknade sin säkerhetskod eller var för gammalt. Ladda om sidan och försök igen.",
            ],
        ))
    }
}

/// A form the overview posts, with the words and the check its handler needs.
pub(crate) trait StaffForm: serde::de::DeserializeOwned + Send {
    /// What the page that cannot read the form says under "Formuläret kunde inte läsas": what
    /// did not happen, and where to go back to.
    const UNREAD: &'static str;

    /// The session's form token the form carries.
    fn csrf(&self) -> &str;

    /// The page for a visitor whose role may not send it (`None`: every role may).
    fn may_not(_app: &App, _staff: &Staff) -> Option<Response> {
        None
    }
}

/// An overview form that may be acted on: who sent it, and the form, read, checked for the role
/// ([`StaffForm::may_not`]) and then for the session's form token, before anything is read or
/// written. As an extractor (the last of a handler's), the handler runs only for such a post.
pub(crate) struct Checked<F> {
    pub staff: Staff,
    pub form: F,
}

impl<F: StaffForm> FromRequest<Arc<App>> for Checked<F> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, app).await?;
        let form = match Form::<F>::from_request(Request::from_parts(parts, body), app).await {
            Ok(Form(form)) => form,
            Err(rejection) => {
                return Err(page::unreadable_form(
                    app,
                    &rejection,
                    "Formuläret kunde inte läsas",
                    F::UNREAD,
                ));
            }
        };
        if let Some(refusal) = F::may_not(app, &staff) {
            return Err(refusal);
        }
        if let Some(refusal) = staff.stale_form(app, form.csrf()) {
            return Err(refusal);
        }
        Ok(Checked { staff, form })
    }
}

impl FromRequestParts<Arc<App>> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(page::redirect("/login"));
        };
        let hash = token_hash(token);
        let csrf = csrf::token(app.secret(), Purpose::Session, token);
        // Sessions last real hours, whatever `--now` says.
        let now = app.wall.now();
        let lookup = hash.clone();
        match app
            .with_store(move |_, store| db::session_user(store.db(), &lookup, now))
            .await
        {
            Ok(Some((name, role))) => Ok(Staff {
                name,
                role,
                csrf,
                token_hash: hash,
                token: token.to_string(),
            }),
            Ok(None) => Err(page::redirect("/login")),
            Err(err) => Err(page::server_error(app, &err)),
        }
    }
}

/// The login page with a fresh form token (and its cookie).
fn login_page(app: &App, status: StatusCode, error: Option<&str>, name: &str) -> Response {
    let nonce = random_token();
    let csrf = csrf::token(app.secret(), Purpose::Login, &nonce);
    let oidc = app.oidc.as_ref().map(|o| &o.config);
    let response = page::render(
        app,
        status,
        "web/login.html",
        &json!({
            "title": "Logga in", "csrf": csrf, "error": error, "name": name,
            "oidc": oidc.map(|o| o.button.clone()),
            "local": oidc.is_none_or(|o| o.local_login),
        }),
    );
    with_cookie(
        response,
        set_cookie(LOGIN_COOKIE, &nonce, "/login", LOGIN_FORM_SECONDS),
    )
}

/// `GET /login`.
pub(crate) async fn login_form(State(app): State<Arc<App>>) -> Response {
    login_page(&app, StatusCode::OK, None, "")
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
}

const WRONG: &str = "Fel användarnamn eller lösenord.";

/// `POST /login`.
pub async fn login(
    State(app): State<Arc<App>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return login_page(
                &app,
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("Formuläret var för stort. Försök igen."),
                "",
            );
        }
        Err(_) => {
            return login_page(
                &app,
                StatusCode::BAD_REQUEST,
                Some("Formuläret kunde inte läsas. Försök igen."),
                "",
            );
        }
    };
    if app.oidc.as_ref().is_some_and(|o| !o.config.local_login) {
        return page::message(
            &app,
            StatusCode::NOT_FOUND,
            "Inloggning med lösenord används inte",
            &["Logga in med organisationens konto från inloggningssidan."],
        );
    }
    let name = form.name.trim().to_string();
    let fits = cookie(&headers, LOGIN_COOKIE)
        .is_some_and(|nonce| csrf::verify(app.secret(), Purpose::Login, nonce, &form.csrf));
    if !fits {
        return login_page(
            &app,
            StatusCode::FORBIDDEN,
            Some("Inloggningsformuläret hade gått ut. Försök igen."),
            &name,
        );
    }
    if name.is_empty() || name.chars().count() > 64 || form.password.len() > 1024 {
        return login_page(&app, StatusCode::UNAUTHORIZED, Some(WRONG), &name);
    }
    // One login at a time: a failure is counted before the next attempt is looked at.
    let _one = app.logins.lock().await;
    // Locks and sessions run on real time: a lock or a session set under `serve --now` must not
    // outlive its minutes on a server with the real clock, nor never end on a frozen one.
    let now = app.wall.now();
    let keys = [Key::account(&name), Key::address(&addr)];
    let (lookup_keys, lookup_name) = (keys.clone(), name.clone());
    let state = app
        .with_store(move |_, store| {
            Ok((
                throttle::locked_until(store.db(), &lookup_keys, now)?,
                db::password_hash(store.db(), &lookup_name)?,
            ))
        })
        .await;
    let (locked, stored) = match state {
        Ok(s) => s,
        Err(err) => return page::server_error(&app, &err),
    };
    if let Some(until) = locked {
        let wait = throttle::wait_sv(now, until);
        let message =
            format!("För många misslyckade inloggningar. Vänta {wait} och försök sedan igen.");
        let mut response = login_page(&app, StatusCode::TOO_MANY_REQUESTS, Some(&message), &name);
        let seconds = throttle::seconds_rounded_up(until - now);
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    let given = form.password;
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => password::verify(&given, &hash),
        None => {
            password::verify_nothing(&given);
            false
        }
    })
    .await
    .unwrap_or(false);
    if !matches {
        let recorded = app
            .with_store(move |_, store| {
                let tx = store.write()?;
                for key in &keys {
                    throttle::fail(&tx, key, now)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await;
        if let Err(err) = recorded {
            return page::server_error(&app, &err);
        }
        return login_page(&app, StatusCode::UNAUTHORIZED, Some(WRONG), &name);
    }
    // The second factor, where the account has one or its role needs one.
    let lookup = name.clone();
    let second = app
        .with_store(move |_, store| {
            Ok((
                db::account(store.db(), &lookup)?,
                db::totp_of(store.db(), &lookup)?,
            ))
        })
        .await;
    let (account, totp) = match second {
        Ok(s) => s,
        Err(err) => return page::server_error(&app, &err),
    };
    let required = account.is_some_and(|(_, role)| role == WebRole::Admin)
        || app.views.config().second_factor_for_all;
    if totp.is_some() || required {
        return super::second_factor::begin(&app, &name, totp.is_none(), now).await;
    }
    start_session(&app, &headers, name, "password", now).await
}

/// Starts a session for `user` (ending the browser's earlier one), audited as a login `via`
/// (`password`, `totp`, `recovery code`): the response that sets its cookie and goes on to the
/// overview.
pub(super) async fn start_session(
    app: &Arc<App>,
    headers: &HeaderMap,
    user: String,
    via: &'static str,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let token = random_token();
    let hash = token_hash(&token);
    let previous = cookie(headers, SESSION_COOKIE).map(token_hash);
    let started = app
        .with_store(move |_, store| {
            let tx = store.write()?;
            throttle::forget(&tx, &Key::account(&user))?;
            if let Some(old) = previous {
                db::delete_session(&tx, &old)?;
            }
            db::create_session(&tx, &hash, &user, now, now + Duration::hours(SESSION_HOURS))?;
            db::record_login(&tx, &user, now)?;
            audit::append(
                &tx,
                now,
                &audit::Event {
                    actor: &format!("web:{user}"),
                    event: "web.login",
                    case_id: None,
                    round_id: None,
                    data: json!({"user": user, "via": via}),
                    personal: None,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await;
    if let Err(err) = started {
        return page::server_error(app, &err);
    }
    let response = with_cookie(
        page::redirect("/overview"),
        set_cookie(SESSION_COOKIE, &token, "/", SESSION_HOURS * 3600),
    );
    with_cookie(response, set_cookie(LOGIN_COOKIE, "", "/login", 0))
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(app): State<Arc<App>>,
    staff: Staff,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let given = match form {
        Ok(Form(f)) => f.csrf,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return page::unreadable_form(&app, &rejection, "", "");
        }
        Err(_) => String::new(),
    };
    let fits = cookie(&headers, SESSION_COOKIE)
        .is_some_and(|token| csrf::verify(app.secret(), Purpose::Session, token, &given));
    if !fits {
        return page::message(
            &app,
            StatusCode::FORBIDDEN,
            "Utloggningen kunde inte göras",
            &[
                "Formuläret saknade sin säkerhetskod. Gå tillbaka till översikten och logga ut därifrån.",
            ],
        );
    }
    let hash = staff.token_hash;
    let ended = app
        .with_store(move |_, store| {
            let id_token = db::session_id_token(store.db(), &hash)?;
            db::delete_session(store.db(), &hash)?;
            Ok(id_token)
        })
        .await;
    let id_token = match ended {
        Ok(t) => t,
        Err(err) => return page::server_error(&app, &err),
    };
    // A session begun at the identity provider ends there too, where it has a way to: from a
    // page of ours (a form's redirect to another site is refused by `form-action 'self'`).
    let gone = set_cookie(SESSION_COOKIE, "", "/", 0);
    let next = match id_token {
        Some(t) => super::oidc::end_session(&app, t).await,
        None => None,
    };
    match next {
        Some(next) => with_cookie(
            page::render(
                &app,
                StatusCode::OK,
                "web/signed_out.html",
                &json!({"title": "Utloggad", "next": next}),
            ),
            gone,
        ),
        None => with_cookie(page::redirect("/login"), gone),
    }
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_hops_added_by_trusted_proxies_are_believed() {
        let proxy = [ip("127.0.0.1"), ip("10.0.0.1")];
        // No proxy configured: the peer, whatever the header says.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["203.0.113.7"], &[]),
            ip("127.0.0.1")
        );
        // Through a trusted proxy: the address it forwarded for.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["203.0.113.7"], &proxy),
            ip("203.0.113.7")
        );
        // What the client wrote itself stands left of what the proxy added.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["1.2.3.4, 203.0.113.7"], &proxy),
            ip("203.0.113.7")
        );
        // Two proxies in a row, the header split over two lines.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                &["1.2.3.4, 203.0.113.7", "10.0.0.1"],
                &proxy
            ),
            ip("203.0.113.7")
        );
        // A peer that is not a proxy cannot speak for anyone.
        assert_eq!(
            client_address(ip("198.51.100.9"), &["203.0.113.7"], &proxy),
            ip("198.51.100.9")
        );
        // Rubbish stops the walk at the last proxy.
        assert_eq!(
            client_address(ip("127.0.0.1"), &["unknown"], &proxy),
            ip("127.0.0.1")
        );
        // An IPv4 peer seen on an IPv6 socket is the IPv4 address.
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &["203.0.113.7"], &proxy),
            ip("203.0.113.7")
        );
    }
}
