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
use crate::store::audit;
use crate::store::web::{self as db, WebRole};
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
            Error::runtime(format!(
                "the identity provider {}: discovery failed: {}",
                self.config.issuer,
                error_chain(&e)
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

/// A refusal of a login, in Swedish, with the reason in the server's log.
fn refused(app: &App, status: StatusCode, why_logged: &str, said: &[&str]) -> Response {
    eprintln!("web: sign-in at the identity provider refused: {why_logged}");
    let mut paragraphs: Vec<&str> = said.to_vec();
    paragraphs
        .push("Försök igen från inloggningssidan, eller kontakta den som administrerar loggkoll.");
    page::message(app, status, "Inloggningen gick inte", &paragraphs)
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
                &["Organisationens inloggningstjänst svarar inte just nu."],
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
enum Start {
    Started,
    /// The name is a local account's.
    LocalAccount,
    /// The account was first signed in to by another person at the provider.
    OtherPerson,
    /// No account, and accounts are not made at login.
    NoAccount,
}

/// Who signed in, as the ID token says.
#[derive(Debug)]
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
    if !q.error.is_empty() {
        let why = format!("{}: {}", q.error, q.error_description);
        return auth::with_cookie(
            refused(
                &app,
                StatusCode::UNAUTHORIZED,
                &why,
                &["Organisationens inloggningstjänst avbröt inloggningen."],
            ),
            clear,
        );
    }
    // The login must be this browser's, begun here, and not used before.
    let bound =
        auth::cookie(&headers, STATE_COOKIE).is_some_and(|c| !q.state.is_empty() && c == q.state);
    if !bound {
        return auth::with_cookie(
            refused(
                &app,
                StatusCode::BAD_REQUEST,
                "a state not bound to this browser",
                &["Inloggningen hade gått ut, användes redan eller började i en annan webbläsare."],
            ),
            clear,
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
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::BAD_REQUEST,
                    "an unknown, used or foreign state",
                    &[
                        "Inloggningen hade gått ut, användes redan eller började i en annan webbläsare.",
                    ],
                ),
                clear,
            );
        }
        Err(err) => return page::server_error(&app, &err),
    };
    let fresh = crate::store::parse_ts(&begun)
        .is_ok_and(|t| now - t <= Duration::minutes(LOGIN_MINUTES) && t <= now);
    if !fresh || q.code.is_empty() {
        return auth::with_cookie(
            refused(
                &app,
                StatusCode::BAD_REQUEST,
                "a late or empty answer",
                &["Inloggningen tog för lång tid."],
            ),
            clear,
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
        Ok(Err(why)) => {
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::UNAUTHORIZED,
                    &why,
                    &["Inloggningen kunde inte godkännas."],
                ),
                clear,
            );
        }
        Err(err) => {
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::BAD_GATEWAY,
                    &err.message,
                    &["Organisationens inloggningstjänst svarade inte som väntat."],
                ),
                clear,
            );
        }
    };
    let Some(role) = signed.role else {
        return auth::with_cookie(
            refused(
                &app,
                StatusCode::FORBIDDEN,
                &format!("{} has no group that gives a role", signed.name),
                &[&format!(
                    "Du är inloggad hos organisationen som {}, men ditt konto tillhör ingen grupp som ger behörighet till loggkoll.",
                    signed.name
                )],
            ),
            clear,
        );
    };
    let provision = oidc.config.provision;
    let (token, token_hash) = auth::new_session_token();
    let previous = auth::cookie(&headers, SESSION_COOKIE).map(auth::token_hash);
    let (name, id_token, subject) = (
        signed.name.clone(),
        signed.id_token.clone(),
        signed.subject.clone(),
    );
    let started = app
        .with_store(move |_, store| -> Result<Start> {
            let tx = store.write()?;
            let actor = format!("web:{name}");
            match db::account(&tx, &name)? {
                // A local account of the same name is not the provider's to sign in to (it may
                // be the break-glass administrator, with a password and a second factor).
                Some((source, _)) if source != "oidc" => return Ok(Start::LocalAccount),
                None if !provision => return Ok(Start::NoAccount),
                None => {
                    db::add_oidc_user(&tx, &name, role, Some(&subject), now)?;
                    audit::append(
                        &tx,
                        now,
                        &audit::Event {
                            actor: "oidc",
                            event: "web.user_added",
                            case_id: None,
                            round_id: None,
                            data: json!({"user": name, "role": role.as_str(), "via": "oidc"}),
                            personal: None,
                        },
                    )?;
                }
                Some((_, had)) => {
                    // The account is the person's who first signed in to it: a name that moves
                    // to someone else at the provider does not take the account along.
                    match db::oidc_subject(&tx, &name)? {
                        Some(bound) if bound != subject => return Ok(Start::OtherPerson),
                        Some(_) => {}
                        None => db::bind_oidc_subject(&tx, &name, &subject)?,
                    }
                    if had != role {
                        db::set_role(&tx, &name, role)?;
                        audit::append(
                            &tx,
                            now,
                            &audit::Event {
                                actor: "oidc",
                                event: "web.role_changed",
                                case_id: None,
                                round_id: None,
                                data: json!({"user": name, "from": had.as_str(), "to": role.as_str(), "via": "oidc"}),
                                personal: None,
                            },
                        )?;
                    }
                }
            }
            if let Some(old) = previous {
                db::delete_session(&tx, &old)?;
            }
            db::create_session(&tx, &token_hash, &name, now, now + Duration::hours(auth::SESSION_HOURS))?;
            db::set_session_id_token(&tx, &token_hash, &id_token)?;
            db::record_login(&tx, &name, now)?;
            audit::append(
                &tx,
                now,
                &audit::Event {
                    actor: &actor,
                    event: "web.login",
                    case_id: None,
                    round_id: None,
                    data: json!({"user": name, "via": "oidc"}),
                    personal: None,
                },
            )?;
            tx.commit()?;
            Ok(Start::Started)
        })
        .await;
    match started {
        Ok(Start::Started) => {}
        Ok(Start::LocalAccount) => {
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::FORBIDDEN,
                    &format!("{} is a local account", signed.name),
                    &[&format!(
                        "Namnet {} tillhör ett lokalt konto i loggkoll, som loggar in med lösenord. Be den som administrerar loggkoll att ta bort det eller byta namn på det.",
                        signed.name
                    )],
                ),
                clear,
            );
        }
        Ok(Start::OtherPerson) => {
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::FORBIDDEN,
                    &format!(
                        "{} is bound to another subject at the provider",
                        signed.name
                    ),
                    &[&format!(
                        "Kontot {} i loggkoll tillhör en annan person hos organisationens inloggningstjänst.",
                        signed.name
                    )],
                ),
                clear,
            );
        }
        Ok(Start::NoAccount) => {
            return auth::with_cookie(
                refused(
                    &app,
                    StatusCode::FORBIDDEN,
                    &format!(
                        "{} has no account and accounts are not made at login",
                        signed.name
                    ),
                    &[&format!(
                        "Det finns inget konto i loggkoll för {}. Be den som administrerar loggkoll att lägga upp det.",
                        signed.name
                    )],
                ),
                clear,
            );
        }
        Err(err) => return page::server_error(&app, &err),
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

/// Exchanges `code` and checks the ID token: who signed in, or why not (`Ok(Err)`: a refusal;
/// `Err`: the provider could not be reached or answered nonsense). Blocking.
fn check(
    oidc: &Oidc,
    base: &str,
    code: &str,
    nonce: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<SignedIn, String>> {
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
            return Ok(Err(format!(
                "the code exchange failed: {}",
                error_chain(&e)
            )));
        }
    };
    let access_token = tokens.access_token().secret().clone();
    let Some(id_token) = tokens.id_token() else {
        return Ok(Err("the answer had no ID token".into()));
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
            return Ok(Err(format!(
                "the ID token was refused: {}",
                error_chain(&e)
            )));
        }
    };
    if !oidc.config.required_acr.is_empty() {
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());
        if !acr
            .as_ref()
            .is_some_and(|a| oidc.config.required_acr.contains(a))
        {
            return Ok(Err(format!(
                "acr {acr:?} is not one of the required {:?}",
                oidc.config.required_acr
            )));
        }
    }
    let token_text = id_token.to_string();
    let Some(mut json) = payload(&token_text) else {
        return Ok(Err("the ID token's claims could not be read".into()));
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
                return Ok(Err("userinfo answered for another subject".into()));
            }
            if let Value::Object(map) = &mut json {
                for (k, v) in info {
                    map.entry(k).or_insert(v);
                }
            }
        }
    }
    let Some(name) = name_of(&oidc.config, &json) else {
        return Ok(Err(
            "the ID token names nobody loggkoll can use as an account name".into(),
        ));
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
/// provider has no such endpoint.
pub(crate) fn end_session_url(app: &App, id_token: &str) -> Option<String> {
    let oidc = app.oidc.as_ref()?;
    let cached = oidc.discovered.lock().unwrap_or_else(|p| p.into_inner());
    let end = cached.as_ref()?.1.clone()?;
    let mut url = url_parse(&end).filter(|u| matches!(u.scheme(), "https" | "http"))?;
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
