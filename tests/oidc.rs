//! Signing in through an OpenID provider, over HTTP against real servers: loggkoll's on
//! loopback, node-oidc-provider (OpenID Certified) and a provider that misbehaves on purpose
//! (`tests/oidc/`). A small browser follows the redirects with a cookie jar per host, and fills
//! in the provider's login page.

#[path = "web_fixture/mod.rs"]
mod fixture;
#[path = "support/oidc.rs"]
mod oidc;

use fixture::{Fixture, NOW, at};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use loggkoll::config::OidcConfig;
use loggkoll::store::web::WebRole;
use loggkoll::web::{App, serve};
use std::collections::HashMap;
use std::sync::Arc;

/// A response, read whole.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
    url: String,
}

/// Just enough of a browser: cookies per host and port, redirects followed by hand.
struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build_http(),
            jar: HashMap::new(),
        }
    }

    fn host(url: &str) -> String {
        let u = url::Url::parse(url).expect("a URL");
        format!("{}:{}", u.host_str().unwrap_or(""), u.port().unwrap_or(80))
    }

    async fn send(&mut self, method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let host = Browser::host(url);
        let cookies = self
            .jar
            .get(&host)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let body = form
            .map(|f| {
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(f)
                    .finish()
            })
            .unwrap_or_default();
        let mut request = hyper::Request::builder().method(method).uri(url);
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        if form.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let response = self
            .client
            .request(
                request
                    .body(Full::new(Bytes::from(body)))
                    .expect("a request"),
            )
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| {
                url::Url::parse(url)
                    .and_then(|base| base.join(l))
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| l.to_string())
            });
        for set in response.headers().get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let pair = set.split(';').next().unwrap_or("");
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let gone = set.to_ascii_lowercase().contains("max-age=0")
                || set
                    .to_ascii_lowercase()
                    .contains("expires=thu, 01 jan 1970");
            let jar = self.jar.entry(host.clone()).or_default();
            if gone || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.to_string());
            }
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            url: url.to_string(),
        }
    }

    async fn get(&mut self, url: &str) -> Page {
        self.send("GET", url, None).await
    }

    /// Follows redirects from `url`; on the provider's login page, signs in as `who` (with a
    /// second factor when `mfa`). The last page.
    async fn sign_in_from(&mut self, url: &str, who: &str, mfa: bool) -> Page {
        let mut page = self.get(url).await;
        for _ in 0..20 {
            if let Some(next) = page.location.clone().filter(|_| page.status / 100 == 3) {
                page = self.get(&next).await;
                continue;
            }
            if page.body.contains("Logga in hos testleverantören") {
                let action = page
                    .body
                    .split("action=\"")
                    .nth(1)
                    .and_then(|a| a.split('"').next())
                    .expect("the form's action")
                    .to_string();
                let target = url::Url::parse(&page.url)
                    .and_then(|u| u.join(&action))
                    .expect("the form's address")
                    .to_string();
                let mut fields = vec![("login", who)];
                if mfa {
                    fields.push(("mfa", "1"));
                }
                page = self.send("POST", &target, Some(&fields)).await;
                continue;
            }
            return page;
        }
        panic!("too many redirects from {url}");
    }
}

/// loggkoll served on loopback with `[web.oidc]` for a provider from `script` started for it.
struct Setup {
    f: Fixture,
    base: String,
    port: u16,
    provider: oidc::Provider,
    server: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<loggkoll::Result<()>>,
    )>,
}

impl Setup {
    async fn new(script: &str, configure: impl FnOnce(&mut OidcConfig)) -> Setup {
        Setup::new_with(script, &[], configure).await
    }

    async fn new_with(
        script: &str,
        env: &[(&str, &str)],
        configure: impl FnOnce(&mut OidcConfig),
    ) -> Setup {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let provider = oidc::start_with(script, &base, env);
        let mut s = Setup {
            f: Fixture::new(&base),
            base,
            port,
            provider,
            server: None,
        };
        s.serve(listener, configure);
        s
    }

    fn serve(
        &mut self,
        listener: tokio::net::TcpListener,
        configure: impl FnOnce(&mut OidcConfig),
    ) {
        let mut config = self.f.config();
        let mut o = oidc::config(&self.provider.issuer);
        configure(&mut o);
        config.oidc = Some(o);
        let engine = self.f.engine_with(config, at(NOW));
        let mut app = App::new(engine, self.f.clock.clone()).expect("app");
        // Sessions and the tokens' times are real time.
        app.wall = Arc::new(loggkoll::clock::SystemClock);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(serve(listener, Arc::new(app), None, async {
            let _ = stopped.await;
        }));
        self.server = Some((stop, handle));
    }

    /// The same database and address, served again with another `[web.oidc]`.
    async fn restart(&mut self, configure: impl FnOnce(&mut OidcConfig)) {
        if let Some((stop, handle)) = self.server.take() {
            let _ = stop.send(());
            let _ = handle.await;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the same port again");
        self.serve(listener, configure);
    }

    fn role_of(&self, name: &str) -> Option<String> {
        self.f
            .store()
            .db()
            .inspect()
            .query_row("SELECT role FROM web_users WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .ok()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some((stop, _)) = self.server.take() {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_at_a_real_provider_with_the_role_their_groups_give() {
    if !oidc::available() {
        return;
    }
    let s = Setup::new("provider.mjs", |_| {}).await;
    let mut b = Browser::new();
    // The login page offers the provider beside the password form.
    let login = b.get(&format!("{}/login", s.base)).await;
    assert!(login.body.contains("Logga in med kommunens konto"));
    assert!(login.body.contains("id=\"password\""));

    // Anna's groups give `quality`: signed in, the account made and audited.
    let signed = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", true)
        .await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert!(signed.body.contains("Du är inloggad"), "{}", signed.body);
    let callback = signed.url.clone();
    assert!(callback.contains("/login/oidc/callback?"), "{callback}");
    let overview = b.get(&format!("{}/overview", s.base)).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(overview.body.contains("anna"));
    let audit = b.get(&format!("{}/overview/audit", s.base)).await;
    assert_eq!(audit.status, 200, "a quality account reads the audit trail");
    assert_eq!(s.role_of("anna").as_deref(), Some("quality"));
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.user_added' AND actor = 'oidc'"),
        1
    );
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.login' AND actor = 'web:anna'"),
        1
    );
    // The same answer again (a replayed `state`): refused, no second session.
    let mut replay = Browser::new();
    let again = replay.get(&callback).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("användes redan"));
    let again = b.get(&callback).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM web_sessions WHERE user_name = 'anna'"),
        1
    );

    // Logging out ends the session here and at the provider.
    let overview = b.get(&format!("{}/overview", s.base)).await;
    let csrf = overview
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("the logout form's token")
        .to_string();
    let out = b
        .send(
            "POST",
            &format!("{}/logout", s.base),
            Some(&[("csrf", csrf.as_str())]),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("Du är utloggad"));
    let to = out
        .body
        .split("url=")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("on to the provider")
        .replace("&amp;", "&");
    assert!(
        to.starts_with(&format!("{}/session/end", s.provider.issuer)),
        "{to}"
    );
    assert!(to.contains("id_token_hint="));
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM web_sessions WHERE user_name = 'anna'"),
        0
    );
    let gone = b.get(&format!("{}/overview", s.base)).await;
    assert_eq!(gone.status, 303, "signed out");

    // Olle's groups give `admin`, Lisa's `reader`; Nils's none: refused, no account.
    for (who, role) in [("olle", "admin"), ("lisa", "reader")] {
        let mut b = Browser::new();
        let p = b
            .sign_in_from(&format!("{}/login/oidc", s.base), who, false)
            .await;
        assert_eq!(p.status, 200, "{who}: {}", p.body);
        assert_eq!(s.role_of(who).as_deref(), Some(role));
    }
    let mut b = Browser::new();
    let nils = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "nils", true)
        .await;
    assert_eq!(nils.status, 403, "{}", nils.body);
    assert!(nils.body.contains("ingen grupp som ger behörighet"));
    assert_eq!(s.role_of("nils"), None);
    let overview = b.get(&format!("{}/overview", s.base)).await;
    assert_eq!(overview.status, 303, "no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_role_is_read_again_at_every_login_and_a_required_acr_is_enforced() {
    if !oidc::available() {
        return;
    }
    // First the quality group gives `quality`.
    let s = Setup::new("provider.mjs", |_| {}).await;
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", false)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(s.role_of("anna").as_deref(), Some("quality"));
    // The mapping moves the group to `reader` (as when the person is moved to another group
    // at the provider), and a second factor is required: the next login demotes the account.
    let mut s = s;
    s.restart(|o| {
        o.quality.clear();
        o.reader.push("loggkoll-kvalitet".into());
        o.required_acr = vec!["mfa".into()];
    })
    .await;
    // Without the second factor: refused.
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", false)
        .await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains("andra faktor"), "{}", p.body);
    assert_eq!(
        s.f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'web.login_refused' AND data LIKE '%weak_sign_in%'"
        ),
        1,
        "a weaker sign-in refused is audited"
    );
    assert_eq!(s.role_of("anna").as_deref(), Some("quality"), "unchanged");
    // With it: signed in, as `reader` now.
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", true)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(s.role_of("anna").as_deref(), Some("reader"));
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.role_changed' AND actor = 'oidc'"),
        1
    );
}

/// The logout form's token on the overview, for a browser with a session.
async fn logout_token(b: &mut Browser, base: &str) -> String {
    let overview = b.get(&format!("{base}/overview")).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    overview
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("the logout form's token")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_logout_still_ends_at_the_provider_and_leaving_the_groups_ends_sessions() {
    if !oidc::available() {
        return;
    }
    let mut s = Setup::new("provider.mjs", |_| {}).await;
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", false)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    // A new process knows nothing of the provider yet: logging out fetches what it needs.
    s.restart(|_| {}).await;
    let csrf = logout_token(&mut b, &s.base).await;
    let out = b
        .send(
            "POST",
            &format!("{}/logout", s.base),
            Some(&[("csrf", csrf.as_str())]),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(
        out.body
            .contains(&format!("{}/session/end", s.provider.issuer)),
        "{}",
        out.body
    );

    // Anna signs in again; then her group no longer gives a role. Her next login is refused,
    // and the session she still has ends with it.
    let mut kept = Browser::new();
    let p = kept
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", false)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    s.restart(|o| o.quality.clear()).await;
    assert_eq!(kept.get(&format!("{}/overview", s.base)).await.status, 200);
    let mut b = Browser::new();
    let refused = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", false)
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("href=\"/login\""), "{}", refused.body);
    assert!(
        refused
            .body
            .contains(&format!("{}/session/end", s.provider.issuer)),
        "a way out at the provider, to try another account: {}",
        refused.body
    );
    assert_eq!(
        kept.get(&format!("{}/overview", s.base)).await.status,
        303,
        "the session anna still had has ended"
    );
    assert_eq!(
        s.f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'web.login_refused' AND actor = 'oidc'"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_local_login_there_is_no_password_form_and_without_provisioning_no_new_account() {
    if !oidc::available() {
        return;
    }
    let s = Setup::new("provider.mjs", |o| {
        o.local_login = false;
        o.provision = false;
    })
    .await;
    let mut b = Browser::new();
    let login = b.get(&format!("{}/login", s.base)).await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("/login/oidc"));
    assert!(!login.body.contains("id=\"password\""), "{}", login.body);
    assert!(!login.body.contains("action=\"/login\""));
    // A password posted anyway is not looked at.
    let hash = loggkoll::web::password::hash("ett långt lösenord").expect("hash");
    loggkoll::store::web::add_user(s.f.store().db(), "olle", &hash, WebRole::Admin, at(NOW))
        .expect("a local account");
    loggkoll::store::web::add_oidc_user(s.f.store().db(), "lisa", WebRole::Quality, None, at(NOW))
        .expect("an account made by the administrator (user add --oidc)");
    let posted = b
        .send(
            "POST",
            &format!("{}/login", s.base),
            Some(&[
                ("name", "lisa"),
                ("password", "ett långt lösenord"),
                ("csrf", "x"),
            ]),
        )
        .await;
    assert_eq!(posted.status, 404, "{}", posted.body);
    // Anna has no account, and none is made.
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", true)
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("Det finns inget konto i loggkoll för anna"));
    assert_eq!(s.role_of("anna"), None);
    // Lisa's account exists: she signs in, with the role her groups give.
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "lisa", true)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(s.role_of("lisa").as_deref(), Some("reader"));
    // Olle at the provider does not get the local administrator Olle's account.
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "olle", true)
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("lokalt konto"), "{}", p.body);
    let overview = b.get(&format!("{}/overview", s.base)).await;
    assert_eq!(overview.status, 303, "no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_is_not_right_in_every_way_is_refused() {
    if !oidc::available() {
        return;
    }
    let s = Setup::new("mischief.mjs", |o| o.required_acr = vec!["mfa".into()]).await;
    let mode = |m: &str| format!("{}/mode/{m}", s.provider.issuer);
    let mut results = Vec::new();
    for m in [
        "ok",
        "wrong_aud",
        "expired",
        "bad_signature",
        "wrong_nonce",
        "wrong_iss",
        "no_acr",
        "rotated",
    ] {
        let mut b = Browser::new();
        let set = b.get(&mode(m)).await;
        assert_eq!(set.status, 200);
        let p = b
            .sign_in_from(&format!("{}/login/oidc", s.base), "anna", true)
            .await;
        results.push((m, p.status));
        if matches!(m, "ok" | "rotated") {
            assert_eq!(p.status, 200, "{m}: {}", p.body);
            let overview = b.get(&format!("{}/overview", s.base)).await;
            assert_eq!(overview.status, 200, "{m}");
        } else {
            assert_eq!(p.status, 401, "{m} must be refused: {}", p.body);
            let overview = b.get(&format!("{}/overview", s.base)).await;
            assert_eq!(overview.status, 303, "{m}: no session");
        }
    }
    assert_eq!(
        s.f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.login' AND actor = 'web:anna'"),
        2,
        "{results:?}"
    );
    // Another person at the provider who is now called `anna` does not get Anna's account.
    let mut b = Browser::new();
    b.get(&mode("other_subject")).await;
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "anna", true)
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(p.body.contains("tillhör en annan person"), "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_kept_for_the_userinfo_endpoint_are_read_there() {
    if !oidc::available() {
        return;
    }
    // node-oidc-provider as it comes: the ID token carries `sub`, the groups only userinfo.
    let s = Setup::new_with("provider.mjs", &[("CONFORM", "1")], |_| {}).await;
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "olle", true)
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(s.role_of("olle").as_deref(), Some("admin"));
    let mut b = Browser::new();
    let p = b
        .sign_in_from(&format!("{}/login/oidc", s.base), "nils", true)
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
}
