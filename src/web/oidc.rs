//! Signing in through the organisation's identity provider: OpenID Connect's authorization
//! code flow with PKCE, `state` and `nonce` (`[web.oidc]`).
//!
//! `GET /login/oidc` discovers the provider (cached for an hour), records the login begun (the
//! hash of its `state`, its nonce and PKCE verifier: `web_oidc_logins`, used once), binds it to
//! the browser with a cookie and sends the browser to the provider. `GET /login/oidc/callback`
//! takes the login back (a replayed `state` finds nothing), exchanges the code with the verifier
//! and the client secret, and has the `openidconnect` crate check the ID token: its signature
//! against the provider's keys (fetched again once when the token names a key not known yet),
//! `iss`, `aud`, `exp` and `iat` within a minute's skew, and the nonce. Then `acr` when one is
//! required, and the role from the configured claim, read again at every login: a person whose
//! groups give no role is refused, and one whose groups changed gets the new role. The session
//! is the password login's, with the ID token kept for logging out at the provider too.

// A refusal is the page that says so: axum responses are returned as errors on purpose.
#![allow(clippy::result_large_err)]

use super::app::App;
use super::auth::{self, SESSION_COOKIE};
use super::page;
use crate::config::OidcConfig;
use crate::store::web::{self as db, WebRole};
use crate::store::{Db, audit};
use crate::{Error, Result};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse as _,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The cookie that binds a login begun to the browser that began it.
pub(crate) const STATE_COOKIE: &str = "loggkoll_oidc";
/// How long a login begun at the provider may take.
const LOGIN_MINUTES: i64 = 10;
/// How far the provider's clock may be from ours.
const SKEW_SECONDS: i64 = 60;
/// How long the provider's discovery document and keys are kept.
const DISCOVERY_MINUTES: i64 = 60;

/// The provider's metadata with its keys, its `end_session_endpoint`, and when they were
/// fetched.
type Discovered = (CoreProviderMetadata, Option<String>, DateTime<Utc>);

/// The relying party: the client with the endpoints discovery gives.
type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The provider, as configured and as discovered.
pub struct Oidc {
    pub config: OidcConfig,
    /// The discovery document with the keys, and its `end_session_endpoint`, with when fetched.
    discovered: Mutex<Option<Discovered>>,
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Oidc {
        Oidc {
            config,
            discovered: Mutex::new(None),
        }
    }

    fn agent() -> ureq::Agent {
        // No redirects (the crate's advice against SSRF), and no endless waits.
        ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(std::time::Duration::from_secs(10))
            .build()
    }

    /// The provider's metadata and keys (cached; `fresh` fetches them again), and its
    /// `end_session_endpoint`. Blocking.
    fn metadata(
        &self,
        now: DateTime<Utc>,
        fresh: bool,
    ) -> Result<(CoreProviderMetadata, Option<String>)> {
        {
            let cached = self.discovered.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((m, end, at)) = cached.as_ref()
                && !fresh
                && now - *at < Duration::minutes(DISCOVERY_MINUTES)
                && *at <= now
            {
                return Ok((m.clone(), end.clone()));
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| Error::usage(format!("web.oidc.issuer: {e}")))?;
        let agent = Self::agent();
        let metadata = CoreProviderMetadata::discover(&issuer, &agent).map_err(|e| {
            let chain = error_chain(&e);
            // The crate compares the issuer the provider names with the configured one
            // character for character, as the specification says.
            let hint = if chain.contains("unexpected issuer") {
                " (web.oidc.issuer must be written exactly as the provider's discovery document has it, a trailing slash included)"
            } else {
                ""
            };
            Error::runtime(format!(
                "the identity provider {}: discovery failed: {chain}{hint}",
                self.config.issuer,
            ))
        })?;
        // The one field of the discovery document the core metadata does not carry.
        let end_session = agent
            .get(&format!(
                "{}/.well-known/openid-configuration",
                self.config.issuer.trim_end_matches('/')
            ))
            .call()
            .ok()
            .and_then(|r| r.into_json::<Value>().ok())
            .and_then(|v| v["end_session_endpoint"].as_str().map(str::to_string));
        *self.discovered.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((metadata.clone(), end_session.clone(), now));
        Ok((metadata, end_session))
    }

    /// What can be known of the configuration before anyone signs in, for the log at start: no
    /// client secret (a public client, which most providers refuse), and whether the provider
    /// answers to the configured issuer. Blocking.
    pub(crate) fn check_at_start(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut said = Vec::new();
        if self.config.client_secret.is_none() {
            said.push(
                "web.oidc: LOGGKOLL_OIDC_CLIENT_SECRET is not set: loggkoll signs in as a public client (PKCE alone), which a provider that issued a secret refuses at every login".to_string(),
            );
        }
        if let Err(err) = self.metadata(now, false) {
            said.push(err.message);
        }
        said
    }

    fn client(&self, metadata: CoreProviderMetadata, base_url: &str) -> Result<Rp> {
        let redirect = RedirectUrl::new(callback_url(base_url))
            .map_err(|e| Error::usage(format!("base_url: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

/// Every cause of an error, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn callback_url(base_url: &str) -> String {
    format!("{}/login/oidc/callback", base_url.trim_end_matches('/'))
}

fn hash(text: &str) -> String {
    auth::token_hash(text)
}

/// A refusal of a login, in Swedish, with the reason in the server's log: a link back to the
/// login page and, when the person is signed in at the provider (`end_session`), a way to sign
/// out there, so that another account can be tried.
fn refused(
    app: &App,
    status: StatusCode,
    why_logged: &str,
    said: &[&str],
    end_session: Option<String>,
) -> Response {
    eprintln!(
        "web: sign-in at the identity provider refused: {}",
        crate::error::terminal_safe(why_logged)
    );
    let mut paragraphs: Vec<&str> = said.to_vec();
    paragraphs.push("Försök igen eller kontakta den som administrerar loggkoll.");
    let mut links = vec![("/login", "Till inloggningssidan")];
    if let Some(end) = &end_session {
        links.push((end, "Logga ut från organisationens inloggningstjänst"));
    }
    page::message_with_links(app, status, "Inloggningen gick inte", &paragraphs, &links)
}

/// Why the provider's answer was not accepted: for the log, and for the person.
#[derive(Debug)]
struct Refused {
    why: String,
    said: &'static str,
    /// The verified ID token, when the person is signed in at the provider and should be offered
    /// the way out there (to sign in again another way).
    id_token: Option<String>,
    /// For the audit trail, when the token was the provider's own and the person is known: the
    /// refusal's word and who (`ISSUER SUBJECT`).
    audited: Option<(&'static str, String)>,
}

impl Refused {
    fn new(why: impl Into<String>) -> Refused {
        Refused {
            why: why.into(),
            said: "Inloggningen kunde inte godkännas.",
            id_token: None,
            audited: None,
        }
    }
}

/// `GET /login/oidc`: to the provider.
pub(crate) async fn start(State(app): State<Arc<App>>) -> Response {
    let Some(oidc) = app.oidc.clone() else {
        return page::message(&app, StatusCode::NOT_FOUND, "Sidan finns inte", &[]);
    };
    let now = app.wall.now();
    let base = app.views.config().base_url.clone();
    let scopes = oidc.config.scopes.clone();
    let acr = oidc.config.required_acr.clone();
    let begun = tokio::task::spawn_blocking(move || -> Result<(String, String, String, String)> {
        let (metadata, _) = oidc.metadata(now, false)?;
        let client = oidc.client(metadata, &base)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(s.clone()));
        }
        // Asked for, so that the provider says how the person signed in (and may ask for the
        // second factor); checked all the same when the answer comes.
        for a in &acr {
            request = request.add_auth_context_value(AuthenticationContextClass::new(a.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            state.secret().clone(),
            nonce.secret().clone(),
            verifier.secret().clone(),
        ))
    })
    .await
    .unwrap_or_else(|e| Err(Error::runtime(e.to_string())));
    let (url, state, nonce, verifier) = match begun {
        Ok(b) => b,
        Err(err) => {
            return refused(
                &app,
                StatusCode::BAD_GATEWAY,
                &err.message,
                &[
                    "Organisationens inloggningstjänst kunde inte nås, eller svarade inte som loggkoll är inställd att vänta sig.",
                ],
                None,
            );
        }
    };
    let state_hash = hash(&state);
    let recorded = app
        .with_store(move |_, store| {
            db::begin_oidc_login(store.db(), &state_hash, &nonce, &verifier, now)
        })
        .await;
    if let Err(err) = recorded {
        return page::server_error(&app, &err);
    }
    auth::with_cookie(
        page::redirect(&url),
        auth::set_lax_cookie(STATE_COOKIE, &state, "/login", LOGIN_MINUTES * 60),
    )
}

/// What the provider sends back.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// How a login at the provider ended on our side.
#[derive(Debug, Clone, Copy)]
enum Start {
    Started,
    /// No group the person is in gives a role; the sessions of their account, if any, ended.
    NoRole {
        sessions_ended: bool,
    },
    /// The name is a local account's.
    LocalAccount,
    /// The account was first signed in to by another person at the provider.
    OtherPerson,
    /// No account, and accounts are not made at login.
    NoAccount,
}

impl Start {
    /// What the person is told when the login is refused (none: it was not), in Swedish.
    fn said(self, name: &str) -> Option<String> {
        match self {
            Start::Started => None,
            Start::NoRole { sessions_ended } => {
                if sessions_ended {
                    eprintln!("web: {name}'s sessions ended: no group gives a role any more");
                }
                Some(format!(
                    "Du är inloggad i organisationens inloggningstjänst som {name}, men ditt konto där tillhör ingen grupp som ger behörighet till loggkoll."
                ))
            }
            Start::LocalAccount => Some(format!(
                "Namnet {name} tillhör ett lokalt konto i loggkoll, som loggar in med lösenord. Be den som administrerar loggkoll att ta bort det eller byta namn på det."
            )),
            Start::OtherPerson => Some(format!(
                "Kontot {name} i loggkoll tillhör en annan person hos organisationens inloggningstjänst."
            )),
            Start::NoAccount => Some(format!(
                "Det finns inget konto i loggkoll för {name}. Be den som administrerar loggkoll att lägga upp det."
            )),
        }
    }

    /// The refusal's word in the audit trail and the log.
    fn code(self) -> &'static str {
        match self {
            Start::Started => "started",
            Start::NoRole { .. } => "no_role",
            Start::LocalAccount => "local_account",
            Start::OtherPerson => "other_person",
            Start::NoAccount => "no_account",
        }
    }
}

/// Who signed in, as the ID token says.
#[derive(Debug, Clone)]
struct SignedIn {
    name: String,
    /// `ISSUER SUBJECT`: the person at the provider, whatever their name becomes.
    subject: String,
    role: Option<WebRole>,
    id_token: String,
}

/// The claims of an ID token the crate has verified, as JSON (for the claims it does not
/// model: groups, roles, the name).
fn payload(id_token: &str) -> Option<Value> {
    use base64::Engine as _;
    let part = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The role `claims` give under `config`: the highest any value gives.
pub(crate) fn role_of(config: &OidcConfig, claims: &Value) -> Option<WebRole> {
    let values: Vec<String> = {
        let claim = match &config.roles_claim {
            Some(c) => claims.get(c),
            None => claims.get("groups").or_else(|| claims.get("roles")),
        };
        match claim {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    let has = |wanted: &[String]| values.iter().any(|v| wanted.contains(v));
    if has(&config.admin) {
        Some(WebRole::Admin)
    } else if has(&config.quality) {
        Some(WebRole::Quality)
    } else if has(&config.reader) {
        Some(WebRole::Reader)
    } else {
        None
    }
}

/// An account's name from `claims`: the configured claim; letters, digits and `.-_@` only, at
/// most 64.
fn name_of(config: &OidcConfig, claims: &Value) -> Option<String> {
    let pick = |c: &str| claims.get(c).and_then(Value::as_str).map(str::to_string);
    // The configured claim only: a fallback to `email` would let an unverified address name
    // the account.
    let name = pick(&config.name_claim)?.trim().to_lowercase();
    let fits = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    fits.then_some(name)
}

/// `GET /login/oidc/callback`: the provider's answer, checked; a session, or a refusal.
pub(crate) async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: std::result::Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(oidc) = app.oidc.clone() else {
        return page::message(&app, StatusCode::NOT_FOUND, "Sidan finns inte", &[]);
    };
    let q = query.map(|q| q.0).unwrap_or_default();
    let clear = auth::set_lax_cookie(STATE_COOKIE, "", "/login", 0);
    let refuse = |status, why: &str, said: &str| {
        auth::with_cookie(refused(&app, status, why, &[said], None), clear.clone())
    };
    if !q.error.is_empty() {
        let why = format!("{}: {}", q.error, q.error_description);
        return refuse(
            StatusCode::UNAUTHORIZED,
            &why,
            "Organisationens inloggningstjänst avbröt inloggningen.",
        );
    }
    const GONE: &str =
        "Inloggningen hade gått ut, användes redan eller började i en annan webbläsare.";
    // The login must be this browser's, begun here, and not used before.
    let bound =
        auth::cookie(&headers, STATE_COOKIE).is_some_and(|c| !q.state.is_empty() && c == q.state);
    if !bound {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a state not bound to this browser",
            GONE,
        );
    }
    let state_hash = hash(&q.state);
    let now = app.wall.now();
    let taken = app
        .with_store(move |_, store| {
            let tx = store.write()?;
            let found = db::take_oidc_login(&tx, &state_hash)?;
            tx.commit()?;
            Ok(found)
        })
        .await;
    let (nonce, verifier, begun) = match taken {
        Ok(Some(t)) => t,
        Ok(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "an unknown, used or foreign state",
                GONE,
            );
        }
        Err(err) => return page::server_error(&app, &err),
    };
    let fresh = crate::store::parse_ts(&begun)
        .is_ok_and(|t| now - t <= Duration::minutes(LOGIN_MINUTES) && t <= now);
    if !fresh || q.code.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a late or empty answer",
            "Inloggningen tog för lång tid.",
        );
    }
    let base = app.views.config().base_url.clone();
    let code = q.code.clone();
    let checking = oidc.clone();
    let checked =
        tokio::task::spawn_blocking(move || check(&checking, &base, &code, &nonce, &verifier, now))
            .await
            .unwrap_or_else(|e| Err(Error::runtime(e.to_string())));
    let signed = match checked {
        Ok(Ok(s)) => s,
        Ok(Err(no)) => {
            if let Some((code, subject)) = no.audited {
                let recorded = app
                    .with_store(move |_, store| {
                        let tx = store.write()?;
                        audit_refusal(&tx, now, code, json!({"subject": subject}))?;
                        tx.commit()
                    })
                    .await;
                if let Err(err) = recorded {
                    return page::server_error(&app, &err);
                }
            }
            let end = match no.id_token {
                Some(token) => end_session(&app, token).await,
                None => None,
            };
            return auth::with_cookie(
                refused(&app, StatusCode::UNAUTHORIZED, &no.why, &[no.said], end),
                clear,
            );
        }
        Err(err) => {
            return refuse(
                StatusCode::BAD_GATEWAY,
                &err.message,
                "Organisationens inloggningstjänst svarade inte som väntat.",
            );
        }
    };
    let provision = oidc.config.provision;
    let (token, token_hash) = auth::new_session_token();
    let previous = auth::cookie(&headers, SESSION_COOKIE).map(auth::token_hash);
    let who = signed.clone();
    let started = app
        .with_store(move |_, store| -> Result<Start> {
            let tx = store.write()?;
            let start = record_login(&tx, &who, provision, previous, &token_hash, now)?;
            tx.commit()?;
            Ok(start)
        })
        .await;
    let start = match started {
        Ok(s) => s,
        Err(err) => return page::server_error(&app, &err),
    };
    let said = start.said(&signed.name);
    if let Some(said) = said {
        // Still signed in at the provider: offer the way out there, to try another account.
        let end = end_session(&app, signed.id_token.clone()).await;
        let why = format!("{}: {}", signed.name, start.code());
        return auth::with_cookie(
            refused(&app, StatusCode::FORBIDDEN, &why, &[&said], end),
            clear,
        );
    }
    // Not a redirect: the browser came from the provider's site, and a redirect would carry
    // that along, so the session's strict cookie would not go with it. A page of our own that
    // moves on to the overview starts a navigation from this site.
    let page = page::render(
        &app,
        StatusCode::OK,
        "web/signed_in.html",
        &json!({"title": "Inloggad", "name": signed.name}),
    );
    let response = auth::with_cookie(
        page,
        auth::set_cookie(SESSION_COOKIE, &token, "/", auth::SESSION_HOURS * 3600),
    );
    auth::with_cookie(response, clear)
}

/// The login of `who` in `tx`: a session (`token_hash`, replacing the browser's `previous`) and
/// the login audited, or the refusal audited.
fn record_login(
    tx: &Db,
    who: &SignedIn,
    provision: bool,
    previous: Option<String>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Start> {
    let name = who.name.as_str();
    let start = begin_session(tx, name, &who.subject, who.role, provision, now)?;
    match start {
        Start::Started => {
            if let Some(old) = previous {
                db::delete_session(tx, &old)?;
            }
            db::create_session(
                tx,
                token_hash,
                name,
                now,
                now + Duration::hours(auth::SESSION_HOURS),
            )?;
            db::set_session_id_token(tx, token_hash, &who.id_token)?;
            db::record_login(tx, name, now)?;
            audit_login(
                tx,
                now,
                &format!("web:{name}"),
                "web.login",
                json!({"user": name, "via": "oidc"}),
                None,
            )?;
        }
        refused => {
            let mut personal = json!({"user": name});
            if let Start::NoRole {
                sessions_ended: true,
            } = refused
            {
                personal["sessions_ended"] = json!(true);
            }
            audit_refusal(tx, now, refused.code(), personal)?;
        }
    }
    Ok(start)
}

/// Whether `name` may begin a session, as the provider has just said `subject` with `role`:
/// makes the account (with `provision`) or updates its role; when no group gives a role any
/// more, ends the sessions the person's account still has. Audits what it changes.
fn begin_session(
    tx: &Db,
    name: &str,
    subject: &str,
    role: Option<WebRole>,
    provision: bool,
    now: DateTime<Utc>,
) -> Result<Start> {
    let account = db::account(tx, name)?;
    let bound = match &account {
        Some((source, _)) if source == "oidc" => db::oidc_subject(tx, name)?,
        _ => None,
    };
    let Some(role) = role else {
        // Taken out of the groups at the provider: what the person's accounts still have open
        // ends now, not at the session's end, whatever name they had then.
        let ended = db::end_sessions_of_subject(tx, subject)?;
        return Ok(Start::NoRole {
            sessions_ended: ended > 0,
        });
    };
    match account {
        // A local account of the same name is not the provider's to sign in to (it may be the
        // break-glass administrator, with a password and a second factor).
        Some((source, _)) if source != "oidc" => return Ok(Start::LocalAccount),
        None if !provision => return Ok(Start::NoAccount),
        None => {
            db::add_oidc_user(tx, name, role, Some(subject), now)?;
            audit_login(
                tx,
                now,
                "oidc",
                "web.user_added",
                json!({"user": name, "role": role.as_str(), "via": "oidc"}),
                None,
            )?;
        }
        Some((_, had)) => {
            // The account is the person's who first signed in to it: a name that moves to
            // someone else at the provider does not take the account along.
            match bound {
                Some(b) if b != subject => return Ok(Start::OtherPerson),
                Some(_) => {}
                None => db::bind_oidc_subject(tx, name, subject)?,
            }
            if had != role {
                db::set_role(tx, name, role)?;
                audit_login(
                    tx,
                    now,
                    "oidc",
                    "web.role_changed",
                    json!({"user": name, "from": had.as_str(), "to": role.as_str(), "via": "oidc"}),
                    None,
                )?;
            }
        }
    }
    Ok(Start::Started)
}

/// Appends a refused sign-in (`code`: why) to the audit trail. Who it was (`personal`) is the
/// provider's word, perhaps of someone with no account here: kept with the entry's personal
/// details, which can be erased, not in the chained data.
fn audit_refusal(tx: &Db, now: DateTime<Utc>, code: &str, personal: Value) -> Result<()> {
    audit_login(
        tx,
        now,
        "oidc",
        "web.login_refused",
        json!({"why": code, "via": "oidc"}),
        Some(personal),
    )
}

/// Appends `event` by `actor` to the audit trail, with `personal` details kept apart (erasable).
fn audit_login(
    tx: &Db,
    now: DateTime<Utc>,
    actor: &str,
    event: &str,
    data: Value,
    personal: Option<Value>,
) -> Result<()> {
    audit::append(
        tx,
        now,
        &audit::Event {
            actor,
            event,
            case_id: None,
            round_id: None,
            data,
            personal,
        },
    )?;
    Ok(())
}

/// Exchanges `code` and checks the ID token: who signed in, or why not (`Ok(Err)`: a refusal;
/// `Err`: the provider could not be reached or answered nonsense). Blocking.
fn check(
    oidc: &Oidc,
    base: &str,
    code: &str,
    nonce: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<SignedIn, Refused>> {
    let (metadata, _) = oidc.metadata(now, false)?;
    let userinfo = metadata
        .userinfo_endpoint()
        .map(|u| u.url().as_str().to_string());
    let client = oidc.client(metadata, base)?;
    let agent = Oidc::agent();
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| Error::runtime(format!("the identity provider has no token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
    let tokens = match exchange.request(&agent) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(Refused::new(format!(
                "the code exchange failed: {}",
                error_chain(&e)
            ))));
        }
    };
    let access_token = tokens.access_token().secret().clone();
    let Some(id_token) = tokens.id_token() else {
        return Ok(Err(Refused::new("the answer had no ID token")));
    };
    let nonce = Nonce::new(nonce.to_string());
    let verify = |client: &Rp| {
        let verifier = client
            .id_token_verifier()
            // `exp` within a minute of skew …
            .set_time_fn(move || now - Duration::seconds(SKEW_SECONDS))
            // … and `iat` neither ahead of us nor from before the login could have begun.
            .set_issue_time_verifier_fn(move |iat| {
                if iat > now + Duration::seconds(SKEW_SECONDS) {
                    Err(format!("issued in the future ({iat})"))
                } else if iat
                    < now - Duration::minutes(LOGIN_MINUTES) - Duration::seconds(SKEW_SECONDS)
                {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            });
        id_token.claims(&verifier, &nonce).cloned()
    };
    let claims = match verify(&client) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            // A key not known yet: the provider may have rotated its keys. Fetch them again,
            // once.
            let (fresh, _) = oidc.metadata(now, true)?;
            verify(&oidc.client(fresh, base)?)
        }
        other => other,
    };
    let claims = match claims {
        Ok(c) => c,
        Err(e) => {
            return Ok(Err(Refused::new(format!(
                "the ID token was refused: {}",
                error_chain(&e)
            ))));
        }
    };
    if !oidc.config.required_acr.is_empty() {
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());
        if !acr
            .as_ref()
            .is_some_and(|a| oidc.config.required_acr.contains(a))
        {
            return Ok(Err(Refused {
                why: format!(
                    "acr {acr:?} is not one of the required {:?}",
                    oidc.config.required_acr
                ),
                said: "Loggkoll kräver att du loggar in med en starkare metod, till exempel med en andra faktor eller e-tjänstekort. Logga ut från organisationens inloggningstjänst och logga in igen på det sättet.",
                id_token: Some(id_token.to_string()),
                audited: Some((
                    "weak_sign_in",
                    format!("{} {}", claims.issuer().as_str(), claims.subject().as_str()),
                )),
            }));
        }
    }
    let token_text = id_token.to_string();
    let Some(mut json) = payload(&token_text) else {
        return Ok(Err(Refused::new("the ID token's claims could not be read")));
    };
    // A provider may keep the scopes' claims (groups, the name) for its userinfo endpoint, as
    // OpenID Connect's default is: what the ID token lacks is read there, for the same person.
    let roles_claim = oidc.config.roles_claim.as_deref();
    let lacks = |json: &Value, claim: &str| json.get(claim).is_none();
    let wanted_roles = match roles_claim {
        Some(c) => lacks(&json, c),
        None => lacks(&json, "groups") && lacks(&json, "roles"),
    };
    if (wanted_roles || lacks(&json, &oidc.config.name_claim))
        && let Some(endpoint) = &userinfo
    {
        let info: Option<Value> = agent
            .get(endpoint)
            .set("Authorization", &format!("Bearer {access_token}"))
            .call()
            .ok()
            .and_then(|r| r.into_json().ok());
        if let Some(Value::Object(info)) = info {
            if info.get("sub").and_then(Value::as_str) != Some(claims.subject().as_str()) {
                return Ok(Err(Refused::new("userinfo answered for another subject")));
            }
            if let Value::Object(map) = &mut json {
                for (k, v) in info {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }
    let Some(name) = name_of(&oidc.config, &json) else {
        return Ok(Err(Refused {
            why: format!(
                "the claim {} names nobody loggkoll can use as an account name (letters, digits and . - _ @, at most 64)",
                oidc.config.name_claim
            ),
            said: "Ditt namn hos organisationens inloggningstjänst går inte att använda som kontonamn i loggkoll. Kontakta den som administrerar loggkoll.",
            id_token: None,
            audited: Some((
                "unusable_name",
                format!("{} {}", claims.issuer().as_str(), claims.subject().as_str()),
            )),
        }));
    };
    Ok(Ok(SignedIn {
        subject: format!("{} {}", claims.issuer().as_str(), claims.subject().as_str()),
        role: role_of(&oidc.config, &json),
        name,
        id_token: token_text,
    }))
}

/// Where logging out of a session that began at the provider ends: the provider's
/// `end_session_endpoint` with the ID token as a hint, back to the login page; none when the
/// provider has no such endpoint, or cannot be reached to say.
pub(crate) async fn end_session(app: &Arc<App>, id_token: String) -> Option<String> {
    let oidc = app.oidc.clone()?;
    let now = app.wall.now();
    // The provider's metadata, fetched when this process has not yet (after a restart, a
    // session begun before it still ends at the provider).
    let end = tokio::task::spawn_blocking(move || oidc.metadata(now, false).ok()?.1)
        .await
        .ok()??;
    end_session_url(app, &end, &id_token)
}

fn end_session_url(app: &App, end: &str, id_token: &str) -> Option<String> {
    let oidc = app.oidc.as_ref()?;
    let mut url = url_parse(end).filter(|u| matches!(u.scheme(), "https" | "http"))?;
    {
        let back = format!(
            "{}/login",
            app.views.config().base_url.trim_end_matches('/')
        );
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("id_token_hint", id_token);
        pairs.append_pair("post_logout_redirect_uri", &back);
        pairs.append_pair("client_id", &oidc.config.client_id);
    }
    Some(url.to_string())
}

fn url_parse(text: &str) -> Option<url::Url> {
    url::Url::parse(text).ok()
}
