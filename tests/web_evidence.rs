//! The evidence on the task page, in process through the router: the drawn user's accesses in
//! the window, grouped by client with the flagged first and the summary line; judging an access
//! (and a client's group) from the page; "no finding" disabled and refused until every flagged
//! access is judged; a missing log said plainly; no client identity for someone only informed.

#[path = "web_fixture/mod.rs"]
mod fixture;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use fixture::LoggedCase as Case;
use fixture::{Fixture, NOW, at};
use loggkoll::web::{App, router};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

const BASE: &str = "http://loggkoll.test";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `name=value` of a cookie this reply sets.
    fn cookie(&self, name: &str) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .expect("the cookie is set")
            .to_string()
    }

    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        let end = self.body[start..].find('"').expect("the end of the value");
        self.body[start..start + end].to_string()
    }
}

async fn send(app: &Arc<App>, mut request: Request<Body>) -> Reply {
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = router(app.clone())
        .oneshot(request)
        .await
        .expect("a response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

fn post(path: &str, fields: &[(&str, &str)]) -> Request<Body> {
    post_with(path, fields, None)
}

fn post_with(path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut builder =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        builder = builder.header(header::COOKIE, c);
    }
    builder.body(Body::from(body)).expect("request")
}

fn get_with(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// A logged-in session's cookie.
async fn log_in(f: &Fixture, app: &Arc<App>) -> String {
    let hash = loggkoll::web::password::hash("ett långt lösenord").expect("hash");
    loggkoll::store::web::add_user(
        f.store().db(),
        "kvalitet",
        &hash,
        loggkoll::store::web::WebRole::Quality,
        at(NOW),
    )
    .expect("user");
    let form = send(app, get("/login")).await;
    let cookie = form.cookie("loggkoll_login");
    let r = send(
        app,
        post_with(
            "/login",
            &[
                ("name", "kvalitet"),
                ("password", "ett långt lösenord"),
                ("csrf", &form.csrf()),
            ],
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.cookie("loggkoll_session")
}

fn with_log(f: &Fixture) -> Case {
    f.with_log()
}

#[tokio::test]
async fn the_page_shows_the_accesses_and_no_finding_waits_for_the_judgement() {
    let f = Fixture::new(BASE);
    let case = with_log(&f);
    let app = f.app();
    let page = send(&app, get(&case.path)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for text in [
        "Åtkomster att granska",
        "3 åtkomster till 2 kunder, 1 flaggad",
        "Åtkomst kl. 23:30, utanför dagtid.",
        &case.night_client,
        "19121212-1212",
        "/judge",
        "Befogad",
        "disabled",
        "”Ingen anmärkning” kan väljas först",
    ] {
        assert!(page.body.contains(text), "missing `{text}`");
    }
    // The flagged client's group comes first.
    let night = page.body.find(&case.night_client).expect("night client");
    let ordinary = page
        .body
        .find(&case.ordinary_client)
        .expect("ordinary client");
    assert!(night < ordinary, "the flagged group first");
    // The manager's view leads with the accesses: the case's facts are one folded line, and
    // log ids are left to the protocol.
    let facts = page
        .body
        .find("class=\"card case-facts\"")
        .expect("the folded facts");
    assert!(
        page.body[facts..].starts_with("class=\"card case-facts\" id=\"arendet\">\n  <summary>")
    );
    assert!(
        !page
            .body
            .contains(&format!("· {}</span>", case.night_log_id)),
        "a log id shown"
    );
    // The first access waiting for a judgement is where the page leads.
    assert!(page.body.contains("id=\"nasta\""), "{}", page.body);
    let csrf = page.csrf();
    let tasks = || {
        f.count(&format!(
            "SELECT COUNT(*) FROM tasks WHERE case_id = '{}' AND answered_at IS NOT NULL",
            case.id
        ))
    };
    // "No finding" is refused, and nothing changes.
    let r = send(
        &app,
        post(&case.path, &[("csrf", &csrf), ("outcome", "no_finding")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("1 flaggad åtkomst är inte bedömd")
            || r.body.contains("flaggade åtkomster är inte bedömda"),
        "{}",
        r.body
    );
    // The refusal leads to the first access that is not judged.
    assert!(
        r.body
            .contains("<a href=\"#nasta\">Gå till den första åtkomsten som inte är bedömd</a>"),
        "{}",
        r.body
    );
    assert_eq!(tasks(), 0);
    // A judgement without the form's code, or of an access that is not there, is refused.
    let judge = format!("{}/judge", case.path);
    let target = format!("a:treserva:{}", case.night_log_id);
    let r = send(
        &app,
        post(&judge, &[("target", &target), ("verdict", "justified")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (target, verdict) in [
        ("a:treserva:NOPE", "justified"),
        ("x", "justified"),
        (target.as_str(), "maybe"),
        ("c:123", "justified"),
    ] {
        let r = send(
            &app,
            post(
                &judge,
                &[("csrf", &csrf), ("target", target), ("verdict", verdict)],
            ),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{target} {verdict}"
        );
    }
    assert_eq!(f.count("SELECT COUNT(*) FROM judgements"), 0);
    // Judge the flagged access.
    let r = send(
        &app,
        post(
            &judge,
            &[
                ("csrf", &csrf),
                ("target", &target),
                ("verdict", "justified"),
                ("comment", "Nattpatrull"),
                ("back", "nasta"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("{}?bedomning=sparad#nasta", case.path)
    );
    let page = send(&app, get(r.location())).await;
    // The notice is said where the page leads next: the next access to judge, its first
    // verdict focused, or, with none left, the way to the answer.
    let next = page
        .body
        .find("id=\"nasta\"")
        .expect("where the page leads");
    let notice = page.body[next..]
        .find("role=\"status\">Bedömningen är sparad.")
        .expect("the notice beside it");
    assert!(notice < 400, "{}", &page.body[next..]);
    assert!(
        page.body[next..].contains("autofocus") || page.body[next..].contains("href=\"#svara\""),
        "{}",
        &page.body[next..]
    );
    assert!(page.body.contains("Bedömd: <strong>Befogad</strong>"));
    assert!(page.body.contains("Nattpatrull"));
    assert!(!page.body.contains("”Ingen anmärkning” kan väljas först"));
    // A whole client group at once.
    let group = format!("c:{}", case.ordinary_client.replace('-', ""));
    let r = send(
        &app,
        post(
            &judge,
            &[
                ("csrf", &csrf),
                ("target", &group),
                ("verdict", "justified"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(f.count("SELECT COUNT(*) FROM judgements"), 3);
    // Now "no finding" is taken.
    let r = send(
        &app,
        post(&case.path, &[("csrf", &csrf), ("outcome", "no_finding")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(tasks(), 1);
    // After the answer, the page shows the counts and no forms.
    let done = send(&app, get(&case.path)).await;
    assert!(
        done.body.contains("3 åtkomster till 2 kunder"),
        "{}",
        done.body
    );
    assert!(!done.body.contains("/judge"));
    let r = send(
        &app,
        post(
            &judge,
            &[("csrf", &csrf), ("target", &target), ("verdict", "unclear")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_imported_log_the_page_says_so() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let page = send(&app, get(&link.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Ingen logg är inläst för perioden – granska i Treserva."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Inga åtkomster"));
    assert!(!page.body.contains("/judge"));
}

#[tokio::test]
async fn someone_informed_sees_the_counts_but_no_client() {
    let f = Fixture::new(BASE);
    let case = with_log(&f);
    // Move the case to a step that informs others: unclear → contact the employee.
    let app = f.app();
    let page = send(&app, get(&case.path)).await;
    let r = send(
        &app,
        post(
            &case.path,
            &[
                ("csrf", &page.csrf()),
                ("outcome", "suspected_intrusion"),
                ("comment", "Nattläsning"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let informed = f
        .links("inform")
        .into_iter()
        .find(|l| l.case == case.id)
        .expect("an inform email for the case");
    let page = send(&app, get(&informed.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("3 åtkomster till 2 kunder"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&case.night_client));
    assert!(!page.body.contains("19121212-1212"));
    assert!(!page.body.contains("/judge"));
    // Posting a judgement with the informed link's own form code is refused too.
    let csrf = loggkoll::web::csrf::token(
        &loggkoll::store::meta_get(f.store().db(), "link_secret")
            .expect("meta")
            .expect("secret")
            .into_bytes(),
        loggkoll::web::csrf::Purpose::Task,
        informed.path.trim_start_matches("/t/"),
    );
    let r = send(
        &app,
        post(
            &format!("{}/judge", informed.path),
            &[
                ("csrf", &csrf),
                ("target", &format!("a:treserva:{}", case.night_log_id)),
                ("verdict", "justified"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body.contains("Du kan inte bedöma åtkomsterna"),
        "{}",
        r.body
    );
    assert_eq!(f.count("SELECT COUNT(*) FROM judgements"), 0);
}

#[tokio::test]
async fn the_radar_is_behind_the_login_and_ranks_the_flagged_user() {
    let f = Fixture::new(BASE);
    let case = with_log(&f);
    let app = f.app();
    let r = send(&app, get("/overview/radar")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());
    let session = log_in(&f, &app).await;
    let subject: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT p.name FROM cases c JOIN people p ON p.id = c.subject_person_id WHERE c.id = ?1",
            [&case.id],
            |r| r.get(0),
        )
        .expect("the user");
    let page = send(
        &app,
        get_with("/overview/radar?from=2026-12-01&to=2027-01-04", &session),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Risköversikt"));
    let first_row = page
        .body
        .find("<td class=\"num\" data-label=\"#\">1</td>")
        .expect("a first row");
    let name_at = page.body[first_row..]
        .find(&subject)
        .expect("the user is listed");
    assert!(name_at < 400, "the flagged user ranks first");
    assert!(page.body.contains("Natt 1"));
    assert!(page.body.contains("Föreslå riktad kontroll"));
    // A bad date is said, not a failure.
    let page = send(&app, get_with("/overview/radar?from=igår", &session)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Från ska vara ett datum"));
}
