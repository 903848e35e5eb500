//! The second factor of local accounts: TOTP (RFC 6238, 30-second steps, six digits, the
//! `totp-rs` crate) and ten single-use recovery codes. Required of administrators (and of every
//! account with `[web] second_factor = "all"`), optional for others, who enrol from their own
//! page (`/overview/tvafaktor`).
//!
//! After the password, a login waits for the code (`web_pending_logins`, ten minutes, bound to
//! the browser by a cookie): `/login/kod` takes a code or a recovery code, throttled with the
//! password's failures (per account and per address); a code's time step is accepted once.
//! An account that must have a second factor and has none enrols before its first session:
//! `/login/aktivera` shows the secret as a QR code and as text, and a code from the app confirms
//! it; the recovery codes are shown once, and only their SHA-256 is kept.

use super::app::App;
use super::auth::{self, Checked, ClientAddr, Staff, StaffForm};
use super::csrf::{self, Purpose};
use super::throttle::{self, Key};
use super::{overview, page};
use crate::store::{audit, web as db};
use crate::{Error, Result};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The cookie of a login waiting for its second factor.
pub(crate) const PENDING_COOKIE: &str = "loggkoll_2fa";
/// How long the second factor may take.
const PENDING_MINUTES: i64 = 10;
/// Recovery codes given at enrolment.
const RECOVERY_CODES: usize = 10;

/// The TOTP of `secret` (base32) for account `name`.
fn totp(name: &str, secret: &str) -> Result<totp_rs::Totp> {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .map_err(|e| Error::runtime(format!("the second factor of {name}: {e}")))?;
    totp_rs::Builder::new()
        .with_secret(bytes.as_ref().to_vec())
        .build()
        .map_err(|e| Error::runtime(format!("the second factor of {name}: {e}")))
}

/// A new secret, base32: 20 random bytes (160 bits, RFC 4226's recommendation).
fn new_secret() -> String {
    totp_rs::Secret::from(rand::rng().random::<[u8; 20]>().to_vec()).to_base32()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
fn otpauth(name: &str, secret: &str) -> String {
    let label = super::cases::query_value(&format!("loggkoll:{name}"));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer=loggkoll&algorithm=SHA1&digits=6&period=30"
    )
}

/// `text` as a QR code, an SVG picture.
fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

/// `secret` in groups of four, easier to type.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What is kept of a recovery code: a hash keyed with the installation's secret.
fn code_hash(key: &[u8], code: &str) -> String {
    csrf::token(key, Purpose::Recovery, &normalised(code))
}

/// A recovery code as typed: lower case, without blanks and dashes.
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten recovery codes, `xxxx-xxxx` from an alphabet without look-alikes.
fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..8)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &c[..4], &c[4..])
        })
        .collect()
}

/// A code's time step when `code` (six digits) is right for `secret` at `now` (one step either
/// way).
fn step_of(name: &str, secret: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(name, secret).ok()?;
    let time = u64::try_from(now.timestamp()).ok()?;
    t.check(&digits, time).and_then(|s| i64::try_from(s).ok())
}

fn set_pending(value: &str, max_age: i64) -> Option<HeaderValue> {
    auth::set_cookie(PENDING_COOKIE, value, "/login", max_age)
}

/// After the right password of `name`: the login waits for the code, or (`enrol`) for the
/// account's enrolment.
pub(super) async fn begin(app: &Arc<App>, name: &str, enrol: bool, now: DateTime<Utc>) -> Response {
    let (token, hash) = auth::new_session_token();
    let secret = enrol.then(new_secret);
    let user = name.to_string();
    let recorded = app
        .with_store(move |_, store| {
            let tx = store.write()?;
            db::begin_pending_login(&tx, &hash, &user, secret.as_deref(), now)?;
            tx.commit()?;
            Ok(())
        })
        .await;
    if let Err(err) = recorded {
        return page::server_error(app, &err);
    }
    let to = if enrol {
        "/login/aktivera"
    } else {
        "/login/kod"
    };
    auth::with_cookie(
        page::redirect(to),
        set_pending(&token, PENDING_MINUTES * 60),
    )
}

/// The pending login of this browser: its token, account and enrolment secret.
async fn pending(
    app: &Arc<App>,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> std::result::Result<(String, String, Option<String>), Response> {
    let Some(token) = auth::cookie(headers, PENDING_COOKIE).map(str::to_string) else {
        return Err(page::redirect("/login"));
    };
    let hash = auth::token_hash(&token);
    let since = now - Duration::minutes(PENDING_MINUTES);
    match app
        .with_store(move |_, store| db::pending_login(store.db(), &hash, since))
        .await
    {
        Ok(Some((user, secret))) => Ok((token, user, secret)),
        Ok(None) => Err(auth::with_cookie(
            page::redirect("/login"),
            set_pending("", 0),
        )),
        Err(err) => Err(page::server_error(app, &err)),
    }
}

/// The code form (or the enrolment page) with `error`.
fn code_page(
    app: &App,
    token: &str,
    status: StatusCode,
    enrol: Option<(&str, &str)>,
    error: Option<&str>,
) -> Response {
    let csrf = csrf::token(app.secret(), Purpose::Login, token);
    let data = match enrol {
        Some((name, secret)) => json!({
            "title": "Aktivera tvåstegsverifiering",
            "csrf": csrf,
            "error": error,
            "enrol": true,
            "qr": qr_svg(&otpauth(name, secret)),
            "secret": grouped(secret),
            "action": "/login/aktivera",
        }),
        None => json!({
            "title": "Tvåstegsverifiering",
            "csrf": csrf,
            "error": error,
            "enrol": false,
            "action": "/login/kod",
        }),
    };
    page::render(app, status, "web/second_factor.html", &data)
}

/// `GET /login/kod`.
pub(crate) async fn code_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let now = app.wall.now();
    match pending(&app, &headers, now).await {
        Ok((token, _, None)) => code_page(&app, &token, StatusCode::OK, None, None),
        Ok((_, _, Some(_))) => page::redirect("/login/aktivera"),
        Err(response) => response,
    }
}

/// `GET /login/aktivera`.
pub(crate) async fn enrol_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let now = app.wall.now();
    match pending(&app, &headers, now).await {
        Ok((token, user, Some(secret))) => {
            code_page(&app, &token, StatusCode::OK, Some((&user, &secret)), None)
        }
        Ok((_, _, None)) => page::redirect("/login/kod"),
        Err(response) => response,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

/// The code's form, checked: its token fits the pending login, and neither the account nor
/// the address is locked. The refusal page otherwise.
async fn checked_form(
    app: &Arc<App>,
    headers: &HeaderMap,
    form: std::result::Result<Form<CodeForm>, FormRejection>,
    addr: &str,
    now: DateTime<Utc>,
) -> std::result::Result<(String, String, Option<String>, String, [Key; 2]), Response> {
    let (token, user, secret) = pending(app, headers, now).await?;
    let form = match form {
        Ok(Form(f)) => f,
        Err(_) => return Err(page::redirect("/login")),
    };
    if !csrf::verify(app.secret(), Purpose::Login, &token, &form.csrf) {
        return Err(page::redirect("/login"));
    }
    let keys = [Key::account(&user), Key::address(addr)];
    let lookup = keys.clone();
    let locked = app
        .with_store(move |_, store| throttle::locked_until(store.db(), &lookup, now))
        .await
        .map_err(|err| page::server_error(app, &err))?;
    if let Some(until) = locked {
        let wait = throttle::wait_sv(now, until);
        let message = format!("För många felaktiga koder. Vänta {wait} och försök sedan igen.");
        let enrol = secret.as_deref().map(|s| (user.as_str(), s));
        let mut response = code_page(
            app,
            &token,
            StatusCode::TOO_MANY_REQUESTS,
            enrol,
            Some(&message),
        );
        let seconds = throttle::seconds_rounded_up(until - now);
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(response);
    }
    Ok((token, user, secret, form.code, keys))
}

/// A wrong code: counted against the account and the address like a wrong password.
async fn wrong(app: &Arc<App>, keys: [Key; 2], now: DateTime<Utc>) -> Result<()> {
    app.with_store(move |_, store| {
        let tx = store.write()?;
        for key in &keys {
            throttle::fail(&tx, key, now)?;
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

/// `POST /login/kod`: a code from the app, or a recovery code.
pub(crate) async fn code(
    State(app): State<Arc<App>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: std::result::Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let _one = app.logins.lock().await;
    let now = app.wall.now();
    let (token, user, secret, code, keys) =
        match checked_form(&app, &headers, form, &addr, now).await {
            Ok(c) => c,
            Err(response) => return response,
        };
    if secret.is_some() {
        return page::redirect("/login/aktivera");
    }
    let (lookup, given) = (user.clone(), code.clone());
    let token_hash = auth::token_hash(&token);
    let accepted = app
        .with_store(move |app, store| -> Result<Option<&'static str>> {
            let key = app.secret();
            let tx = store.write()?;
            let Some((secret, _)) = db::totp_of(&tx, &lookup)? else {
                return Ok(None);
            };
            let via = match step_of(&lookup, &secret, &given, now) {
                Some(step) if db::use_totp_step(&tx, &lookup, step)? => Some("totp"),
                Some(_) => None,
                None if db::use_recovery_code(&tx, &lookup, &code_hash(key, &given), now)? => {
                    Some("recovery code")
                }
                None => None,
            };
            if via.is_some() {
                db::end_pending_login(&tx, &token_hash)?;
            }
            tx.commit()?;
            Ok(via)
        })
        .await;
    match accepted {
        Ok(Some(via)) => {
            let response = auth::start_session(&app, &headers, user, via, now).await;
            auth::with_cookie(response, set_pending("", 0))
        }
        Ok(None) => {
            if let Err(err) = wrong(&app, keys, now).await {
                return page::server_error(&app, &err);
            }
            code_page(
                &app,
                &token,
                StatusCode::UNAUTHORIZED,
                None,
                Some(
                    "Koden stämmer inte, eller är redan använd. Skriv den nya koden från appen, eller en av dina reservkoder.",
                ),
            )
        }
        Err(err) => page::server_error(&app, &err),
    }
}

/// Gives `name` the second factor `secret`, confirmed by a code of time step `step`, with new
/// recovery codes (returned, to be shown once), audited; ends the pending login of
/// `pending_hash` in the same transaction when there is one.
async fn enable(
    app: &Arc<App>,
    name: &str,
    secret: String,
    step: i64,
    pending_hash: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(app.secret(), c)).collect();
    let name = name.to_string();
    app.with_store(move |_, store| {
        let tx = store.write()?;
        db::enable_totp(&tx, &name, &secret, step, &hashes)?;
        if let Some(hash) = pending_hash {
            db::end_pending_login(&tx, &hash)?;
        }
        audit::append(
            &tx,
            now,
            &audit::Event {
                actor: &format!("web:{name}"),
                event: "web.second_factor_enabled",
                case_id: None,
                round_id: None,
                data: json!({"user": name}),
                personal: None,
            },
        )?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    Ok(codes)
}

/// `POST /login/aktivera`: the first code from the app confirms the secret; the session starts
/// and the recovery codes are shown, once.
pub(crate) async fn enrol(
    State(app): State<Arc<App>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: std::result::Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let _one = app.logins.lock().await;
    let now = app.wall.now();
    let (token, user, secret, code, keys) =
        match checked_form(&app, &headers, form, &addr, now).await {
            Ok(c) => c,
            Err(response) => return response,
        };
    let Some(secret) = secret else {
        return page::redirect("/login/kod");
    };
    let Some(step) = step_of(&user, &secret, &code, now) else {
        if let Err(err) = wrong(&app, keys, now).await {
            return page::server_error(&app, &err);
        }
        return code_page(
            &app,
            &token,
            StatusCode::UNAUTHORIZED,
            Some((&user, &secret)),
            Some(
                "Koden stämmer inte. Kontrollera att appen visar koden för loggkoll och att telefonens klocka går rätt.",
            ),
        );
    };
    let enabled = enable(
        &app,
        &user,
        secret,
        step,
        Some(auth::token_hash(&token)),
        now,
    )
    .await;
    let codes = match enabled {
        Ok(codes) => codes,
        Err(err) => return page::server_error(&app, &err),
    };
    let started = auth::start_session(&app, &headers, user, "totp", now).await;
    // The session's cookies, on the page that shows the recovery codes instead of the redirect.
    let mut response = page::render(
        &app,
        StatusCode::OK,
        "web/recovery_codes.html",
        &json!({"title": "Reservkoder", "codes": codes}),
    );
    for cookie in started.headers().get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    auth::with_cookie(response, set_pending("", 0))
}

// ----- enrolling from one's own page -----

/// `GET /overview/tvafaktor`: whether this account has a second factor, and the way to add one.
pub(crate) async fn own_page(State(app): State<Arc<App>>, staff: Staff) -> Response {
    let name = staff.name.clone();
    let state = app
        .with_store(move |_, store| {
            Ok((
                db::totp_of(store.db(), &name)?.is_some(),
                db::recovery_codes_left(store.db(), &name)?,
                db::account(store.db(), &name)?.map(|(source, _)| source),
            ))
        })
        .await;
    let (has, left, source) = match state {
        Ok(s) => s,
        Err(err) => return page::server_error(&app, &err),
    };
    let secret = new_secret();
    overview::show(
        &app,
        &staff,
        "/overview/tvafaktor",
        "web/own_second_factor.html",
        "Tvåstegsverifiering",
        json!({
            "has": has,
            "left": left,
            "oidc": source.as_deref() == Some("oidc"),
            "qr": qr_svg(&otpauth(&staff.name, &secret)),
            "sig": csrf::token(app.secret(), Purpose::Enrol, &format!("{} {secret}", staff.name)),
            "secret": secret,
            "grouped": grouped(&secret),
        }),
    )
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OwnForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub secret: String,
    /// The secret's signature: it is the one the page offered.
    #[serde(default)]
    pub sig: String,
    /// A code of the second factor the account has now (or a recovery code), to replace it.
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub code: String,
}

impl StaffForm for OwnForm {
    const UNREAD: &'static str = "Inget har ändrats.";
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /overview/tvafaktor`: the secret shown, confirmed by a code from the app.
pub(crate) async fn own_enrol(
    State(app): State<Arc<App>>,
    ClientAddr(addr): ClientAddr,
    Checked { staff, form }: Checked<OwnForm>,
) -> Response {
    let now = app.wall.now();
    let secret = form.secret.trim().to_string();
    let offered = csrf::verify(
        app.secret(),
        Purpose::Enrol,
        &format!("{} {secret}", staff.name),
        &form.sig,
    );
    // Not for accounts of the identity provider, and a second factor is replaced only by its
    // holder: with a code of the one the account has now.
    let name = staff.name.clone();
    let current = form.current.clone();
    let allowed = app
        .with_store(move |app, store| -> Result<bool> {
            let key = app.secret();
            let tx = store.write()?;
            if db::account(&tx, &name)?.is_some_and(|(source, _)| source == "oidc") {
                return Ok(false);
            }
            let ok = match db::totp_of(&tx, &name)? {
                None => true,
                Some((secret, _)) => match step_of(&name, &secret, &current, now) {
                    Some(step) => db::use_totp_step(&tx, &name, step)?,
                    None => db::use_recovery_code(&tx, &name, &code_hash(key, &current), now)?,
                },
            };
            tx.commit()?;
            Ok(ok)
        })
        .await;
    let allowed = match allowed {
        Ok(a) => a,
        Err(err) => return page::server_error(&app, &err),
    };
    let step = (offered && allowed)
        .then(|| step_of(&staff.name, &secret, &form.code, now))
        .flatten();
    let Some(step) = step else {
        let keys = [Key::account(&staff.name), Key::address(&addr)];
        if let Err(err) = wrong(&app, keys, now).await {
            return page::server_error(&app, &err);
        }
        return page::message(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Koden stämmer inte",
            &[
                "Inget har ändrats. Gå tillbaka, skanna QR-koden igen och skriv koden som appen visar.",
            ],
        );
    };
    let codes = match enable(&app, &staff.name, secret, step, None, now).await {
        Ok(codes) => codes,
        Err(err) => return page::server_error(&app, &err),
    };
    page::render(
        &app,
        StatusCode::OK,
        "web/recovery_codes.html",
        &json!({"title": "Reservkoder", "codes": codes}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_right_for_its_step_and_the_ones_beside_it_only() {
        let secret = new_secret();
        let t = totp("anna", &secret).expect("a totp");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        let code = t.generate(1_800_000_000).to_string();
        assert_eq!(step_of("anna", &secret, &code, now), Some(60_000_000));
        let later = now + Duration::seconds(30);
        assert!(
            step_of("anna", &secret, &code, later).is_some(),
            "one step of skew"
        );
        let much_later = now + Duration::seconds(120);
        assert_eq!(step_of("anna", &secret, &code, much_later), None);
        assert_eq!(step_of("anna", &secret, "12345", now), None);
        assert_eq!(step_of("anna", &secret, "abcdef", now), None);
    }

    #[test]
    fn recovery_codes_are_ten_different_and_typed_loosely() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        assert_eq!(
            code_hash(b"key", c),
            code_hash(b"key", &c.to_uppercase().replace('-', " "))
        );
        assert_ne!(code_hash(b"key", c), code_hash(b"another key", c));
    }
}
