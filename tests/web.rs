//! The web layer over HTTP, in process: every route driven through the axum router with
//! `tower::ServiceExt::oneshot`, on a real database after a real round. Links come from the
//! outbox, as the emails carry them.

#[path = "web_fixture/mod.rs"]
mod fixture;
#[path = "support/words.rs"]
mod words;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Duration;
use fixture::{Fixture, NOW, at};
use loggkoll::clock::Clock;
use loggkoll::links::{self, Claims};
use loggkoll::web::csrf::{self, Purpose};
use loggkoll::web::{App, password, router};
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

    /// The `Set-Cookie` header that sets `name`.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    /// `name=value` of a cookie set by this reply, for the next request.
    fn cookie(&self, name: &str) -> String {
        let set = self.set_cookie(name).expect("the cookie is set");
        set.split(';').next().unwrap_or_default().to_string()
    }

    /// The value of the hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        let end = self.body[start..].find('"').expect("the end of the value");
        self.body[start..start + end].to_string()
    }
}

async fn send_from(app: &Arc<App>, mut request: Request<Body>, addr: [u8; 4]) -> Reply {
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((addr, 40000))));
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
        // A PDF is not text: its bytes are kept as far as they read.
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn send(app: &Arc<App>, request: Request<Body>) -> Reply {
    send_from(app, request, [127, 0, 0, 1]).await
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

fn get_with(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

fn post(path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
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

/// Everything the engine writes when a case moves: answered steps, audit entries, emails.
fn footprint(f: &Fixture) -> (i64, i64, i64) {
    (
        f.count("SELECT COUNT(*) FROM tasks WHERE answered_at IS NOT NULL"),
        f.count("SELECT COUNT(*) FROM audit"),
        f.count("SELECT COUNT(*) FROM outbox"),
    )
}

fn token_of(path: &str) -> &str {
    path.trim_start_matches("/t/")
}

#[tokio::test]
async fn the_task_page_shows_what_to_review() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let r = send(&app, get(&link.path)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (name, account): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT p.name, c.subject_account FROM cases c JOIN people p ON p.id = c.subject_person_id WHERE c.id = ?1",
            [&link.case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the case");
    for text in [
        "<html lang=\"sv\">",
        "Systematisk logguppföljning i Treserva",
        "<dd>Treserva</dd>",
        &name,
        &account,
        "Dygn att granska",
        " kl. ",
        "Gå igenom användarens åtkomster i Treserva under det slumpvis valda 24-timmarsintervallet",
        "<legend>Välj utfall</legend>",
        "<label for=\"comment\">",
        "value=\"no_finding\"",
        "Oklart – kontakta medarbetaren<span class=\"req\">Kommentar krävs</span>",
        &link.case,
    ] {
        assert!(r.body.contains(text), "missing `{text}` in\n{}", r.body);
    }
    assert!(!r.body.contains("<script"), "no scripts");
    let h = &r.headers;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn an_answer_moves_the_case_and_shows_the_next_step() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let page = send(&app, get(&link.path)).await;
    let before = footprint(&f);
    let r = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &page.csrf()),
                ("outcome", "unclear"),
                ("comment", "Läste journalen för en kund på en annan enhet."),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("{}?svar=sparat", link.path));
    assert_eq!(f.case_state(&link.case).0, "contact_employee");
    let (outcome, by, comment): (String, String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT outcome, answered_by, comment FROM tasks WHERE case_id = ?1 AND answered_at IS NOT NULL",
            [&link.case],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the answered step");
    assert_eq!(
        (outcome.as_str(), by.as_str(), comment.as_str()),
        (
            "unclear",
            link.recipient.as_str(),
            "Läste journalen för en kund på en annan enhet."
        )
    );
    let after = footprint(&f);
    assert_eq!(after.0, before.0 + 1);
    assert_eq!(after.1, before.1 + 1, "one audit entry");
    assert_eq!(after.2, before.2 + 1, "the next step's email");
    let done = send(&app, get(r.location())).await;
    assert_eq!(done.status, StatusCode::OK);
    let assignee: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT p.name FROM tasks t JOIN people p ON p.id = t.assignee_id WHERE t.case_id = ?1 AND t.answered_at IS NULL",
            [&link.case],
            |r| r.get(0),
        )
        .expect("the next step");
    for text in [
        "Tack! Ditt svar är sparat",
        "Oklart – kontakta medarbetaren",
        "Läste journalen för en kund på en annan enhet.",
        "Nästa steg</dt><dd>Kontakta medarbetaren",
        &assignee,
    ] {
        assert!(
            done.body.contains(text),
            "missing `{text}` in\n{}",
            done.body
        );
    }
}

#[tokio::test]
async fn a_closing_answer_needs_no_comment() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(1);
    let page = send(&app, get(&link.path)).await;
    let r = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &page.csrf()),
                ("outcome", "no_finding"),
                ("comment", ""),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(f.case_state(&link.case).0, "closed_no_finding");
    let done = send(&app, get(r.location())).await;
    assert!(done.body.contains("avslutat"), "{}", done.body);
    assert!(done.body.contains("Ingen anmärkning"), "{}", done.body);
}

#[tokio::test]
async fn a_replayed_link_shows_the_answer_and_changes_nothing() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let csrf = send(&app, get(&link.path)).await.csrf();
    let first = send(
        &app,
        post(
            &link.path,
            &[("csrf", &csrf), ("outcome", "no_finding")],
            None,
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let before = footprint(&f);
    let again = send(&app, get(&link.path)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.body.contains("Steget är redan besvarat"),
        "{}",
        again.body
    );
    assert!(again.body.contains("Ingen anmärkning"));
    assert!(!again.body.contains("name=\"outcome\""), "no form");
    // The same answer posted again, with its valid token.
    let replay = send(
        &app,
        post(
            &link.path,
            &[("csrf", &csrf), ("outcome", "unclear"), ("comment", "igen")],
            None,
        ),
    )
    .await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    assert!(replay.body.contains("Steget är redan besvarat"));
    assert_eq!(footprint(&f), before);
    assert_eq!(f.case_state(&link.case).0, "closed_no_finding");
}

#[tokio::test]
async fn a_tampered_link_is_refused_with_403() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let links = f.links("task");
    let token = token_of(&links[0].path);
    let other = token_of(&links[1].path);
    let before = footprint(&f);
    let flip = |s: &str| {
        let mut chars: Vec<char> = s.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    // This link's task with the other link's signature; a changed signature; junk; a giant.
    let (payload, _) = token.rsplit_once('.').expect("a signature");
    let (_, signature) = other.rsplit_once('.').expect("a signature");
    let mut bad = vec![
        format!("/t/{payload}.{signature}"),
        format!("/t/{}", flip(token)),
        "/t/inte-en-l%C3%A4nk".to_string(),
        "/t/1.2.3.4".to_string(),
        format!("/t/{}", "A".repeat(5000)),
    ];
    // A later expiry, hoping to keep the link alive.
    let parts: Vec<&str> = token.split('.').collect();
    bad.push(format!(
        "/t/{}.{}.9999999999.{}",
        parts[0], parts[1], parts[3]
    ));
    for path in &bad {
        let r = send(&app, get(path)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.body.contains("Länken fungerar inte"),
            "{path}: {}",
            r.body
        );
        let csrf = csrf::token(app.secret(), Purpose::Task, path.trim_start_matches("/t/"));
        let p = send(
            &app,
            post(path, &[("csrf", &csrf), ("outcome", "no_finding")], None),
        )
        .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(footprint(&f), before);
}

#[tokio::test]
async fn an_expired_link_is_gone_with_410() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let token = token_of(&link.path).to_string();
    let claims = links::verify(app.secret(), &token, at(NOW)).expect("a valid link");
    let csrf = send(&app, get(&link.path)).await.csrf();
    // One second after the expiry the email's link says: due date + 7 days.
    f.clock.set(claims.expires + Duration::seconds(1));
    let before = footprint(&f);
    let r = send(&app, get(&link.path)).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("Länken har gått ut"), "{}", r.body);
    let p = send(
        &app,
        post(
            &link.path,
            &[("csrf", &csrf), ("outcome", "no_finding")],
            None,
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::GONE);
    assert_eq!(footprint(&f), before);
    // A link signed to have expired already, too.
    let old = links::sign(
        app.secret(),
        &Claims {
            expires: at(NOW) - Duration::days(1),
            ..claims
        },
    );
    f.clock.set(at(NOW));
    assert_eq!(
        send(&app, get(&format!("/t/{old}"))).await.status,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let links = f.links("task");
    let link = &links[0];
    let before = footprint(&f);
    let other_csrf = send(&app, get(&links[1].path)).await.csrf();
    for fields in [
        vec![("outcome", "no_finding")],
        vec![("csrf", ""), ("outcome", "no_finding")],
        vec![("csrf", "bm90IGEgdG9rZW4"), ("outcome", "no_finding")],
        // Another link's token does not fit this link's form.
        vec![("csrf", other_csrf.as_str()), ("outcome", "no_finding")],
    ] {
        let r = send(&app, post(&link.path, &fields, None)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(r.body.contains("inget har sparats"), "{}", r.body);
    }
    // Not a form at all.
    let r = send(
        &app,
        Request::post(&link.path)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("outcome=no_finding"))
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(footprint(&f), before);
    assert_eq!(f.case_state(&link.case), ("review".to_string(), 0));
}

#[tokio::test]
async fn a_missing_required_comment_shows_the_form_again_with_422() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let csrf = send(&app, get(&link.path)).await.csrf();
    let before = footprint(&f);
    let r = send(
        &app,
        post(
            &link.path,
            &[("csrf", &csrf), ("outcome", "unclear"), ("comment", "   ")],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for text in [
        "role=\"alert\"",
        "Svaret ”Oklart – kontakta medarbetaren” kräver en kommentar.",
        "aria-invalid=\"true\"",
        "name=\"outcome\"",
    ] {
        assert!(r.body.contains(text), "missing `{text}` in\n{}", r.body);
    }
    let r = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &csrf),
                ("outcome", "approve_everything"),
                ("comment", "x"),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Välj ett av svaren"));
    let long = "x".repeat(10_001);
    let r = send(
        &app,
        post(
            &link.path,
            &[("csrf", &csrf), ("outcome", "unclear"), ("comment", &long)],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(footprint(&f), before);
}

#[tokio::test]
async fn someone_informed_sees_the_page_without_the_form() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let csrf = send(&app, get(&link.path)).await.csrf();
    // A suspected intrusion informs HR and the head of operations.
    let r = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &csrf),
                ("outcome", "suspected_intrusion"),
                ("comment", "Åtkomst till en anhörigs journal."),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let informed: Vec<_> = f
        .links("inform")
        .into_iter()
        .filter(|l| l.case == link.case)
        .collect();
    assert!(!informed.is_empty(), "notices to the informed");
    // HR is only told; the head of operations, to whom the step escalates, may answer it.
    let hr: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT person_id FROM person_roles WHERE role = 'hr_strategist'",
            (),
            |r| r.get(0),
        )
        .expect("an HR strategist");
    let hr_link = informed
        .iter()
        .find(|l| l.recipient == hr)
        .expect("HR is informed");
    let before = footprint(&f);
    let page = send(&app, get(&hr_link.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("för kännedom"), "{}", page.body);
    assert!(page.body.contains("Arbetsrättsligt ärende – samråd med HR"));
    assert!(
        page.body.contains("Åtkomst till en anhörigs journal."),
        "earlier steps"
    );
    assert!(!page.body.contains("name=\"outcome\""), "no form");
    let csrf = csrf::token(app.secret(), Purpose::Task, token_of(&hr_link.path));
    let p = send(
        &app,
        post(
            &hr_link.path,
            &[("csrf", &csrf), ("outcome", "no_action"), ("comment", "x")],
            None,
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Du kan inte besvara det här steget"));
    assert_eq!(footprint(&f), before);
    assert_eq!(f.case_state(&link.case).0, "labour_law_matter");
}

/// "Beslut om att initiera loggkontroll ska alltid tas av verksamhetschef": whoever a step
/// escalates to is only told until the step has escalated; then their escalation link answers.
#[tokio::test]
async fn the_escalation_role_answers_only_after_the_step_has_escalated() {
    let f = Fixture::new(BASE);
    let app = f.app();
    // A case whose unit has a head of operations above it who is neither its assignee nor the
    // reviewed user (the draw differs from run to run).
    let store = f.store();
    let (link, task_id, ops) = f
        .links("task")
        .into_iter()
        .find_map(|link| {
            let found: Option<(i64, String)> = store
                .db()
                .inspect()
                .query_row(
                    "SELECT t.id, r.person_id FROM tasks t JOIN cases c ON c.id = t.case_id
             JOIN units u ON u.id = c.unit_id
             JOIN person_roles r ON r.role = 'operations_manager' AND r.unit_id = u.parent_id
             WHERE c.id = ?1 AND t.answered_at IS NULL
               AND r.person_id IS NOT c.subject_person_id
               AND r.person_id IS NOT t.assignee_id
             ORDER BY r.person_id LIMIT 1",
                    [&link.case],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            found.map(|(task, ops)| (link, task, ops))
        })
        .expect("a case with a head of operations above it");
    // A genuine answer link for the head of operations, before the step escalated.
    let token = links::sign(
        app.secret(),
        &Claims {
            task_id,
            person_id: ops.clone(),
            expires: at(NOW) + Duration::days(60),
            read_only: false,
            generation: 0,
        },
    );
    let path = format!("/t/{token}");
    let page = send(&app, get(&path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("name=\"outcome\""),
        "no form before escalation"
    );
    let before = footprint(&f);
    let csrf = csrf::token(app.secret(), Purpose::Task, &token);
    let p = send(
        &app,
        post(&path, &[("csrf", &csrf), ("outcome", "no_finding")], None),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(footprint(&f), before);
    // Weeks later the step has escalated: the escalation email's link answers.
    let late = at("2027-01-28T10:00:00+01:00");
    f.engine(late).tick(late).expect("the tick escalates");
    f.clock.set(late);
    let escalated = f
        .links("escalation")
        .into_iter()
        .find(|l| l.case == link.case)
        .expect("an escalation email");
    let page = send(&app, get(&escalated.path)).await;
    assert!(page.body.contains("name=\"outcome\""), "{}", page.body);
    // And a link sent "för kännedom" never answers, whoever follows it.
    let read_only = links::sign(
        app.secret(),
        &Claims {
            task_id,
            person_id: ops,
            expires: late + Duration::days(60),
            read_only: true,
            generation: 0,
        },
    );
    let page = send(&app, get(&format!("/t/{read_only}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("name=\"outcome\""), "{}", page.body);
}

/// The review step links its how-to ("Lathund för logguppföljning"), served behind the link.
#[tokio::test]
async fn the_task_page_links_the_steps_how_to_served_behind_the_link() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let page = send(&app, get(&link.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    let href = format!("{}/guide", link.path);
    assert!(
        page.body.contains(&format!("href=\"{href}\"")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("lathund-logguppfoljning.html"),
        "{}",
        page.body
    );
    let guide = send(&app, get(&href)).await;
    assert_eq!(guide.status, StatusCode::OK);
    assert!(
        guide.body.contains("Lathund för logguppföljning"),
        "{}",
        guide.body
    );
    assert!(
        guide.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    // Not without a valid link.
    let tampered = format!("{}x/guide", link.path);
    let r = send(&app, get(&tampered)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// "Underhålla behörigheter" on the phone: the unit's accounts on the review's page, a decision
/// per account, and the review closed once the flagged ones are decided.
#[tokio::test]
async fn an_access_rights_review_is_decided_account_by_account_on_the_task_page() {
    let f = Fixture::new(BASE);
    let march = at("2027-03-01T08:00:00+01:00");
    f.engine(march)
        .tick(march)
        .expect("the yearly review opens");
    f.clock.set(at("2027-03-02T09:00:00+01:00"));
    let app = f.app();
    let link = f
        .links("task")
        .into_iter()
        .find(|l| l.case.starts_with("BEH-"))
        .expect("an access-rights task email");
    let page = send(&app, get(&link.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Enhetens konton"), "{}", page.body);
    let csrf = page.csrf();
    let review = f
        .engine(f.clock.now())
        .account_review(&link.case, f.clock.now())
        .expect("the review");
    assert!(review.counts.accounts > 0, "the unit has accounts");
    // Decide every account from the page (the flagged first, as listed).
    for a in &review.accounts {
        let decision = if a.flagged() { "end" } else { "keep" };
        let r = send(
            &app,
            post(
                &format!("{}/decide", link.path),
                &[
                    ("csrf", csrf.as_str()),
                    ("system", a.system.as_str()),
                    ("account", a.account.as_str()),
                    ("decision", decision),
                    ("back", "konto1"),
                ],
                None,
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let page = send(&app, get(&link.path)).await;
    assert!(
        page.body.contains("Beslut: <strong>Behålls</strong>"),
        "{}",
        page.body
    );
    let after = f
        .engine(f.clock.now())
        .account_review(&link.case, f.clock.now())
        .expect("the review");
    assert_eq!(after.counts.undecided_flagged, 0);
    assert_eq!(after.counts.keep + after.counts.end, after.counts.accounts);
    // A decision that is neither: refused, nothing saved.
    let r = send(
        &app,
        post(
            &format!("{}/decide", link.path),
            &[
                ("csrf", csrf.as_str()),
                ("system", review.accounts[0].system.as_str()),
                ("account", review.accounts[0].account.as_str()),
                ("decision", "kanske"),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &app,
        post(
            &link.path,
            &[("csrf", csrf.as_str()), ("outcome", "done")],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(f.case_state(&link.case).0, "closed_reviewed");
}

/// All staff informed, on the phone: the go-live case of a unit lists its people; the holder
/// ticks each from the page (or everyone at once), and the case closes as informed only once
/// nobody is left.
#[tokio::test]
async fn a_units_staff_are_ticked_as_informed_on_the_task_page() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let now = f.clock.now();
    let link = f
        .links("task")
        .into_iter()
        .find(|l| l.case.starts_with("INF-"))
        .expect("a unit's information task email");
    let list = f
        .engine(now)
        .staff_list(&link.case, now)
        .expect("the unit's staff");
    assert!(list.counts.waiting >= 2, "{list:?}");
    let page = send(&app, get(&link.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Enhetens medarbetare"), "{}", page.body);
    assert!(page.body.contains(&list.people[0].name), "{}", page.body);
    assert!(
        page.body
            .contains("Markera först var och en som informerad"),
        "the closing outcome waits: {}",
        page.body
    );
    let csrf = page.csrf();
    // Closing before anyone is ticked: refused, the case stays.
    let r = send(
        &app,
        post(
            &link.path,
            &[("csrf", csrf.as_str()), ("outcome", "informed")],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "Markera först var och en som informerad ({} kvar).",
            list.counts.waiting
        )),
        "{}",
        r.body
    );
    assert_eq!(f.case_state(&link.case).0, "inform");
    // Without the form's code: nothing ticked.
    let first = list.people[0].person_id.clone();
    let r = send(
        &app,
        post(
            &format!("{}/inform", link.path),
            &[("csrf", "x"), ("person", first.as_str())],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // One person from the page, back at their row.
    let r = send(
        &app,
        post(
            &format!("{}/inform", link.path),
            &[
                ("csrf", csrf.as_str()),
                ("person", first.as_str()),
                ("back", "person1"),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().ends_with("#person1"), "{}", r.location());
    let after = f.engine(now).staff_list(&link.case, now).expect("the list");
    assert_eq!(after.counts.informed, 1);
    assert_eq!(after.counts.waiting, list.counts.waiting - 1);
    let page = send(&app, get(&link.path)).await;
    assert!(page.body.contains("markerad av"), "{}", page.body);
    // A mis-tap is taken back, and the person ticked again.
    let tap = |undo: &'static str| {
        post(
            &format!("{}/inform", link.path),
            &[
                ("csrf", csrf.as_str()),
                ("person", first.as_str()),
                ("undo", undo),
            ],
            None,
        )
    };
    let r = send(&app, tap("1")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let undone = f.engine(now).staff_list(&link.case, now).expect("the list");
    assert_eq!(undone.counts.informed, 0);
    assert_eq!(undone.counts.waiting, list.counts.waiting);
    let r = send(&app, tap("")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Everyone else at once, then the case closes.
    let r = send(
        &app,
        post(
            &format!("{}/inform", link.path),
            &[("csrf", csrf.as_str())],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = f.engine(now).staff_list(&link.case, now).expect("the list");
    assert_eq!(after.counts.waiting, 0);
    let r = send(
        &app,
        post(
            &link.path,
            &[("csrf", csrf.as_str()), ("outcome", "informed")],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(f.case_state(&link.case).0, "closed_informed");
}

const OVERVIEW: &[&str] = &[
    "/overview",
    "/overview/routines",
    "/overview/rounds",
    "/overview/cases",
    "/overview/overdue",
    "/overview/coverage",
    "/overview/needs",
    "/overview/emails",
    "/overview/logs",
    "/overview/audit",
];

#[tokio::test]
async fn the_overview_is_unreachable_without_a_session() {
    let f = Fixture::new(BASE);
    let app = f.app();
    for path in OVERVIEW {
        for cookie in [
            None,
            Some("loggkoll_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Some("loggkoll_session=<script>"),
        ] {
            let request = match cookie {
                Some(c) => get_with(path, c),
                None => get(path),
            };
            let r = send(&app, request).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{path} {cookie:?}");
            assert_eq!(r.location(), "/login");
            assert!(!r.body.contains("Täckning"));
        }
    }
    let r = send(&app, post("/logout", &[("csrf", "x")], None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login");
}

fn add_user(f: &Fixture, name: &str, pw: &str) {
    let hash = password::hash(pw).expect("hash");
    assert!(
        loggkoll::store::web::add_user(
            f.store().db(),
            name,
            &hash,
            loggkoll::store::web::WebRole::Quality,
            at(NOW)
        )
        .expect("add")
    );
}

/// Logs in; returns the reply to the login post — or, for an account that needs a second
/// factor, to the code that completes the login: enrolled with a code of the secret the page
/// shows, or given a recovery code planted for the test (a TOTP step is accepted once, and tests
/// log in faster than one a step).
async fn login_as(app: &Arc<App>, name: &str, pw: &str, addr: [u8; 4]) -> Reply {
    let form = send_from(app, get("/login"), addr).await;
    assert_eq!(form.status, StatusCode::OK);
    let cookie = form.cookie("loggkoll_login");
    let reply = send_from(
        app,
        post(
            "/login",
            &[("name", name), ("password", pw), ("csrf", &form.csrf())],
            Some(&cookie),
        ),
        addr,
    )
    .await;
    match reply.location() {
        "/login/aktivera" => {
            let pending = reply.cookie("loggkoll_2fa");
            let page = send_from(app, get_with("/login/aktivera", &pending), addr).await;
            let secret: String = page
                .body
                .split("<code class=\"secret\">")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .expect("the secret on the page")
                .split_whitespace()
                .collect();
            let code = totp_code(&secret, app.wall.now());
            send_from(
                app,
                post(
                    "/login/aktivera",
                    &[("code", &code), ("csrf", &page.csrf())],
                    Some(&pending),
                ),
                addr,
            )
            .await
        }
        "/login/kod" => {
            let pending = reply.cookie("loggkoll_2fa");
            let page = send_from(app, get_with("/login/kod", &pending), addr).await;
            let code = "test-code";
            let store = loggkoll::store::Store::at(app.db_path()).expect("store");
            store
                .db()
                .inspect()
                .execute(
                    "INSERT INTO web_recovery_codes (user_name, code_hash) VALUES (?1, ?2)",
                    [
                        name,
                        &loggkoll::web::csrf::token(
                            app.secret(),
                            loggkoll::web::csrf::Purpose::Recovery,
                            "testcode",
                        ),
                    ],
                )
                .expect("a recovery code planted");
            send_from(
                app,
                post(
                    "/login/kod",
                    &[("code", code), ("csrf", &page.csrf())],
                    Some(&pending),
                ),
                addr,
            )
            .await
        }
        _ => reply,
    }
}

/// The TOTP code of `secret` (base32) at `at`.
fn totp_code(secret: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).expect("base32");
    totp_rs::Builder::new()
        .with_secret(bytes.as_ref().to_vec())
        .build()
        .expect("a totp")
        .generate(u64::try_from(at.timestamp()).expect("after 1970"))
        .to_string()
}

#[tokio::test]
async fn quality_staff_log_in_see_every_page_and_log_out() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let app = f.app();
    let form = send(&app, get("/login")).await;
    assert!(
        form.body
            .contains("<label for=\"password\">Lösenord</label>")
    );
    let login_cookie = form.set_cookie("loggkoll_login").expect("a login cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(login_cookie.contains(attribute), "{login_cookie}");
    }
    let wrong = login_as(&app, "kvalitet", "fel lösenord!!", [10, 0, 0, 1]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Fel användarnamn eller lösenord."));
    assert!(wrong.set_cookie("loggkoll_session").is_none());
    let unknown = login_as(&app, "ingen", "ett långt lösenord", [10, 0, 0, 1]).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains("Fel användarnamn eller lösenord."));

    // An overdue step and an email that could not be delivered, for those pages.
    f.clock.set(at("2027-02-01T10:00:00+01:00"));
    f.store()
        .db()
        .inspect()
        .execute(
            "UPDATE outbox SET status = 'failed', last_error = '550 mailbox unavailable' WHERE id = 1",
            (),
        )
        .expect("a failed email");
    let ok = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 1]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/overview");
    let set = ok.set_cookie("loggkoll_session").expect("a session cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    let session = ok.cookie("loggkoll_session");
    // The database keeps a hash of the token, never the token.
    let token = session.trim_start_matches("loggkoll_session=");
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(*) FROM web_sessions WHERE token_hash = '{}'",
            loggkoll::web::auth::token_hash(token)
        )),
        1
    );
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(*) FROM web_sessions WHERE token_hash = '{token}'"
        )),
        0
    );

    let pages = [
        (
            "/overview",
            vec!["Översikt", "öppna ärenden", "Täckning 2027", "<svg"],
        ),
        (
            "/overview/routines",
            vec![
                "Systematisk logguppföljning i Treserva",
                "Systematisk stickprovskontroll i NPÖ",
                "<svg",
                "graph-title-0",
                "graph-title-1",
                "Rutinen i klartext",
            ],
        ),
        (
            "/overview/rounds",
            vec!["Omgångar", "fredag 1 januari 2027 kl. 07:00"],
        ),
        (
            "/overview/cases",
            vec![
                "Ärenden",
                "Granska loggen",
                "href=\"/overview/case/TRE-2027-0001\"",
            ],
        ),
        (
            "/overview/overdue",
            vec!["Försenade ärenden", "Granska loggen", "TRE-2027-0001"],
        ),
        (
            "/overview/coverage",
            vec!["Täckning 2027", "<svg", "Tabell: täckning per enhet"],
        ),
        (
            "/overview/needs",
            vec![
                "Behovs- och riskanalys",
                "Ingen behovs- och riskanalys är inläst",
            ],
        ),
        (
            "/overview/emails",
            vec!["550 mailbox unavailable", "Uppgift"],
        ),
        (
            "/overview/logs",
            vec![
                "Inlästa loggar",
                "Ingen åtkomstlogg är inläst ännu",
                "Hur mycket av loggen som förklaras",
                "Ingen åtkomst de senaste 30 dagarna att förklara",
            ],
        ),
    ];
    for (path, texts) in pages {
        let r = send(&app, get_with(path, &session)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        for text in texts {
            assert!(
                r.body.contains(text),
                "{path}: missing `{text}` in\n{}",
                r.body
            );
        }
        assert!(r.body.contains("aria-current=\"page\""), "{path}");
        assert!(!r.body.contains("<script"), "{path}");
    }
    let page = send(&app, get_with("/overview", &session)).await;
    // Logging out needs the session's form token.
    let refused = send(&app, post("/logout", &[("csrf", "fel")], Some(&session))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = send(
        &app,
        post("/logout", &[("csrf", &page.csrf())], Some(&session)),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert!(
        out.set_cookie("loggkoll_session")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let after = send(&app, get_with("/overview", &session)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(f.count("SELECT COUNT(*) FROM web_sessions"), 0);
}

#[tokio::test]
async fn a_login_without_its_form_token_is_refused() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let app = f.app();
    let form = send(&app, get("/login")).await;
    let cookie = form.cookie("loggkoll_login");
    for (fields, cookie) in [
        // No cookie: a post from another site.
        (vec![("csrf", form.csrf())], None),
        // The cookie without the field.
        (vec![], Some(cookie.clone())),
        (vec![("csrf", "fel".to_string())], Some(cookie.clone())),
    ] {
        let mut all = vec![
            ("name", "kvalitet".to_string()),
            ("password", "ett långt lösenord".to_string()),
        ];
        all.extend(fields);
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = send(&app, post("/login", &pairs, cookie.as_deref())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.set_cookie("loggkoll_session").is_none());
    }
    assert_eq!(f.count("SELECT COUNT(*) FROM web_sessions"), 0);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_address() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let app = f.app();
    let addr = [10, 0, 0, 2];
    for _ in 0..3 {
        let r = login_as(&app, "kvalitet", "gissning nummer x", addr).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, without being checked.
    let locked = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 3]).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.body.contains("För många misslyckade inloggningar"));
    assert_eq!(locked.headers[header::RETRY_AFTER], "1");
    // Each further failure doubles the wait.
    f.clock.set(at(NOW) + Duration::seconds(1));
    let r = login_as(&app, "kvalitet", "gissning nummer y", addr).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = login_as(&app, "kvalitet", "ett långt lösenord", addr).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers[header::RETRY_AFTER], "2");
    // After the wait the owner gets in, and the account's run is forgotten.
    f.clock.set(at(NOW) + Duration::seconds(3));
    let ok = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 3]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM web_login_failures WHERE key = 'user:kvalitet'"),
        0
    );

    // One address guessing many names is locked too.
    let addr = [10, 0, 0, 4];
    for i in 0..10 {
        let r = login_as(&app, &format!("namn{i}"), "gissning nummer z", addr).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = login_as(&app, "kvalitet", "ett långt lösenord", addr).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // From elsewhere the account still works.
    let ok = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 5]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

/// Logs in through a reverse proxy on 127.0.0.1 that forwards for `client`.
async fn login_via_proxy(app: &Arc<App>, name: &str, pw: &str, client: &str) -> Reply {
    let proxy = [127, 0, 0, 1];
    let mut form = get("/login");
    form.headers_mut()
        .insert("x-forwarded-for", client.parse().expect("a header value"));
    let form = send_from(app, form, proxy).await;
    let cookie = form.cookie("loggkoll_login");
    let mut request = post(
        "/login",
        &[("name", name), ("password", pw), ("csrf", &form.csrf())],
        Some(&cookie),
    );
    request
        .headers_mut()
        .insert("x-forwarded-for", client.parse().expect("a header value"));
    send_from(app, request, proxy).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_real_client() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let mut engine = f.engine(f.clock.now());
    engine.config.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    let app = Arc::new(App::new(engine, f.clock.clone()).expect("app"));
    // One client guessing names through the proxy, even writing its own header first…
    for i in 0..10 {
        let r = login_via_proxy(
            &app,
            &format!("namn{i}"),
            "gissning",
            "9.9.9.9, 203.0.113.7",
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = login_via_proxy(&app, "kvalitet", "ett långt lösenord", "203.0.113.7").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM web_login_failures WHERE key = 'addr:203.0.113.7'"),
        1
    );
    // …locks itself out, not everyone else behind the same proxy.
    let ok = login_via_proxy(&app, "kvalitet", "ett långt lösenord", "198.51.100.4").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Without the setting the proxy is the client: everyone behind it is locked together.
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let app = f.app();
    for i in 0..10 {
        let r = login_via_proxy(&app, &format!("namn{i}"), "gissning", "203.0.113.7").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = login_via_proxy(&app, "kvalitet", "ett långt lösenord", "198.51.100.4").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_other_routes() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let r = send(&app, get("/")).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/overview")
    );
    let r = send(&app, get("/static/style.css")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/css")
    );
    assert!(r.body.contains(":focus-visible"));
    let r = send(&app, get("/healthz")).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    let r = send(&app, get("/finns/inte")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Sidan finns inte"));
    assert_eq!(r.headers[header::REFERRER_POLICY], "no-referrer");
    let r = send(&app, get("/t/")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &app,
        Request::delete(&f.links("task")[0].path)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_arriving_together_commit_together_and_a_bad_one_spoils_none() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let links = f.links("task");
    let (a, b) = (links[0].clone(), links[1].clone());
    let csrf_a = send(&app, get(&a.path)).await.csrf();
    let csrf_b = send(&app, get(&b.path)).await.csrf();
    let before = footprint(&f);
    // While the engine is busy (a tick, say), three answers arrive: one step twice (a double
    // click), another once. They wait, then go as one group.
    let busy = app.engine.lock().await;
    let mut replies = Vec::new();
    for (link, csrf) in [(&a, &csrf_a), (&a, &csrf_a), (&b, &csrf_b)] {
        let (app, path, csrf) = (app.clone(), link.path.clone(), csrf.clone());
        replies.push(tokio::spawn(async move {
            send(
                &app,
                post(&path, &[("csrf", &csrf), ("outcome", "no_finding")], None),
            )
            .await
            .status
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(busy);
    let mut statuses = Vec::new();
    for r in replies {
        statuses.push(r.await.expect("a reply"));
    }
    let mut first_two = [statuses[0], statuses[1]];
    first_two.sort();
    assert_eq!(first_two, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    assert_eq!(statuses[2], StatusCode::SEE_OTHER);
    assert_eq!(f.case_state(&a.case), ("closed_no_finding".to_string(), 1));
    assert_eq!(f.case_state(&b.case), ("closed_no_finding".to_string(), 1));
    let after = footprint(&f);
    assert_eq!((after.0, after.1), (before.0 + 2, before.1 + 2));
}

fn add_user_as(f: &Fixture, name: &str, role: loggkoll::store::web::WebRole) {
    let hash = password::hash("ett långt lösenord").expect("hash");
    assert!(
        loggkoll::store::web::add_user(f.store().db(), name, &hash, role, at(NOW)).expect("add")
    );
}

/// The link in the newest queued email of `purpose` to case `case`.
fn newest_link(f: &Fixture, purpose: &str, case: &str) -> fixture::Link {
    f.links(purpose)
        .into_iter()
        .rev()
        .find(|l| l.case == case)
        .expect("an email for the case")
}

#[tokio::test]
async fn quality_staff_follow_a_closed_case_to_its_protocol_and_open_a_targeted_review() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    add_user_as(&f, "lasare", WebRole::Reader);
    let app = f.app();
    // A case closed from its task page.
    let link = f.links("task").remove(1);
    let page = send(&app, get(&link.path)).await;
    let closed = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &page.csrf()),
                ("outcome", "no_finding"),
                ("comment", "Inget att anmärka."),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let closed_case = link.case.clone();

    let login = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 2]).await;
    let session = login.cookie("loggkoll_session");
    // The list, filtered to closed cases, links the case.
    let list = send(&app, get_with("/overview/cases?state=closed", &session)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let href = format!("href=\"/overview/case/{closed_case}\"");
    assert!(list.body.contains(&href), "{}", list.body);
    let open_only = send(&app, get_with("/overview/cases?state=open", &session)).await;
    assert!(!open_only.body.contains(&href));
    let by_id = send(
        &app,
        get_with(
            &format!("/overview/cases?q={}", closed_case.to_lowercase()),
            &session,
        ),
    )
    .await;
    assert!(by_id.body.contains(&href));
    assert!(by_id.body.contains("1 ärende."), "{}", by_id.body);
    // Its page: the answered step, its comment, the result, the documents.
    let case = send(
        &app,
        get_with(&format!("/overview/case/{closed_case}"), &session),
    )
    .await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    for text in [
        "Ingen anmärkning",
        "Inget att anmärka.",
        "Ärendet öppnades",
        &format!("/overview/case/{closed_case}/protokoll.html"),
        &format!("/overview/case/{closed_case}/protokoll.pdf"),
    ] {
        assert!(case.body.contains(text), "{text}: {}", case.body);
    }
    // A closed case offers no actions.
    assert!(!case.body.contains("Skicka länken igen"));
    let protocol = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}/protokoll.html"),
            &session,
        ),
    )
    .await;
    assert_eq!(protocol.status, StatusCode::OK);
    assert_eq!(
        protocol.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap(),
        format!("inline; filename=\"granskningsprotokoll-{closed_case}.html\""),
        "opened in the browser"
    );
    let saved = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}/protokoll.html?download=1"),
            &session,
        ),
    )
    .await;
    assert_eq!(
        saved.headers[header::CONTENT_DISPOSITION].to_str().unwrap(),
        format!("attachment; filename=\"granskningsprotokoll-{closed_case}.html\""),
        "saved as a file"
    );
    assert!(protocol.body.contains(&closed_case));
    assert!(protocol.body.contains("Inget att anmärka."));
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE event = 'record.downloaded' AND actor = 'web:kvalitet' AND case_id = '{closed_case}'"
        )),
        2
    );
    // No such document or case: 404, not a failure.
    for path in [
        format!("/overview/case/{closed_case}/hemligt.txt"),
        "/overview/case/TRE-1999-0001".to_string(),
        "/overview/case/TRE-1999-0001/protokoll.html".to_string(),
    ] {
        assert_eq!(
            send(&app, get_with(&path, &session)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A sampling case has no extract letter.
    let letter = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}/loggutdrag.html"),
            &session,
        ),
    )
    .await;
    assert_eq!(letter.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Quality staff give the closed case its diary number; the protocol and arende.json carry it.
    let page = send(
        &app,
        get_with(&format!("/overview/case/{closed_case}"), &session),
    )
    .await;
    assert!(page.body.contains("name=\"diary_number\""), "{}", page.body);
    let set = send(
        &app,
        post(
            &format!("/overview/case/{closed_case}/diarienummer"),
            &[("csrf", &page.csrf()), ("diary_number", "  SN 2027/0142 ")],
            Some(&session),
        ),
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let page = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}?done=diary"),
            &session,
        ),
    )
    .await;
    assert!(
        page.body.contains("Diarienumret är sparat"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"SN 2027/0142\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Diarienumret ändrades"),
        "in the history"
    );
    let protocol = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}/protokoll.html"),
            &session,
        ),
    )
    .await;
    assert!(
        protocol
            .body
            .contains("<th scope=\"row\">Diarienummer</th><td>SN 2027/0142</td>"),
        "{}",
        protocol.body
    );
    assert!(protocol.body.contains("Granskad av:"), "a signature line");
    // Opened in the browser with its own style, sandboxed like a file.
    let csp = protocol.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("style-src 'unsafe-inline'") && csp.contains("sandbox"),
        "{csp}"
    );
    let meta = send(
        &app,
        get_with(
            &format!("/overview/case/{closed_case}/arende.json"),
            &session,
        ),
    )
    .await;
    assert_eq!(meta.status, StatusCode::OK, "{}", meta.body);
    let meta: serde_json::Value = serde_json::from_str(&meta.body).expect("JSON");
    assert_eq!(meta["diarienummer"], "SN 2027/0142");
    assert_eq!(meta["arende"], closed_case.as_str());
    assert_eq!(meta["typ"], "systematisk stickprovskontroll");
    assert!(meta["granskad_anvandare"]["id"].is_string(), "{meta}");
    // A line break is refused, naming the limit, and nothing changes.
    let page = send(
        &app,
        get_with(&format!("/overview/case/{closed_case}"), &session),
    )
    .await;
    let bad = send(
        &app,
        post(
            &format!("/overview/case/{closed_case}/diarienummer"),
            &[("csrf", &page.csrf()), ("diary_number", "SN 2027/\n0142")],
            Some(&session),
        ),
    )
    .await;
    assert!(bad.body.contains("högst 64 tecken"), "{}", bad.body);
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(*) FROM cases WHERE id = '{closed_case}' AND diary_number = 'SN 2027/0142'"
        )),
        1
    );

    // A targeted review from the form, the user named by a part of their name.
    let start = send(&app, get_with("/overview/start", &session)).await;
    assert_eq!(start.status, StatusCode::OK);
    let subject = f.links("task").remove(2);
    let (name, person): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT p.name, p.id FROM cases c JOIN people p ON p.id = c.subject_person_id WHERE c.id = ?1",
            [&subject.case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the reviewed user's name");
    let before = f.count("SELECT COUNT(*) FROM cases WHERE kind = 'targeted'");
    let mut fields = vec![
        ("csrf", start.csrf()),
        ("kind", "targeted".to_string()),
        ("user", name.clone()),
        ("from", "2026-12-01".into()),
        ("to", "2026-12-31".into()),
        ("reason", "Uppgift från en kund.".into()),
    ];
    let post_start = |fields: Vec<(&str, String)>| {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post("/overview/start", &refs, Some(&session))
    };
    let mut opened = send(&app, post_start(fields.clone())).await;
    if opened.status == StatusCode::UNPROCESSABLE_ENTITY {
        // Two people of that name: the page offers each, and the choice opens the case.
        assert!(opened.body.contains("välj en"), "{}", opened.body);
        assert!(
            opened.body.contains(&format!("value=\"{person}\"")),
            "{}",
            opened.body
        );
        fields.push(("person", person.clone()));
        opened = send(&app, post_start(fields.clone())).await;
    }
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM cases WHERE kind = 'targeted'"),
        before + 1
    );
    let (id, state, opened_by): (String, String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT id, state, opened_by FROM cases WHERE kind = 'targeted' ORDER BY opened_at DESC, id DESC",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the targeted case");
    assert_eq!(
        state, "decision",
        "it waits at the verksamhetschef's decision"
    );
    assert_eq!(opened_by, "web:kvalitet");
    assert_eq!(
        opened.location(),
        format!("/overview/case/{id}?done=opened")
    );
    let shown = send(&app, get_with(opened.location(), &session)).await;
    assert!(
        shown.body.contains("Beslut om riktad kontroll"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Mejlat"), "{}", shown.body);
    assert!(shown.body.contains("uppgiften"), "{}", shown.body);
    assert!(
        start.body.contains("Den granskades enhet"),
        "the unit may be chosen"
    );
    // At another unit than the person's, when chosen.
    let other_unit: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT unit_id FROM person_roles WHERE role = 'operations_manager' AND unit_id NOT IN
               (SELECT unit_id FROM person_units WHERE person_id = ?1) ORDER BY unit_id LIMIT 1",
            [&person],
            |r| r.get(0),
        )
        .expect("another unit with a verksamhetschef");
    let mut at_unit = fields.clone();
    at_unit.push(("unit", other_unit.clone()));
    if !at_unit.iter().any(|(k, _)| *k == "person") {
        at_unit.push(("person", person.clone()));
    }
    let r = send(&app, post_start(at_unit)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let unit: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT unit_id FROM cases WHERE kind = 'targeted' ORDER BY opened_at DESC, id DESC",
            (),
            |r| r.get(0),
        )
        .expect("the second targeted case");
    assert_eq!(unit, other_unit);
    let before = before + 1;
    // A name that fits nobody, and a form without its token, open nothing.
    for fields in [
        vec![
            ("csrf", start.csrf()),
            ("kind", "targeted".into()),
            ("user", "Ingen Alls".into()),
            ("from", "2026-12-01".into()),
            ("to", "2026-12-31".into()),
            ("reason", "x".into()),
        ],
        vec![
            ("csrf", "fel".to_string()),
            ("kind", "targeted".into()),
            ("user", name.clone()),
            ("from", "2026-12-01".into()),
            ("to", "2026-12-31".into()),
            ("reason", "x".into()),
        ],
        vec![
            ("csrf", start.csrf()),
            ("kind", "targeted".into()),
            ("user", name.clone()),
            ("from", "1 december".into()),
            ("to", "2026-12-31".into()),
            ("reason", "x".into()),
        ],
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = send(&app, post("/overview/start", &fields, Some(&session))).await;
        assert!(r.status.is_client_error(), "{}", r.status);
        assert_eq!(
            f.count("SELECT COUNT(*) FROM cases WHERE kind = 'targeted'"),
            before + 1
        );
    }

    // Resending the open step's link: a new link, the old one replaced.
    let old = newest_link(&f, "task", &subject.case);
    assert_eq!(send(&app, get(&old.path)).await.status, StatusCode::OK);
    let page = send(
        &app,
        get_with(&format!("/overview/case/{}", subject.case), &session),
    )
    .await;
    assert!(page.body.contains("Skicka länken igen"));
    let resent = send(
        &app,
        post(
            &format!("/overview/case/{}/resend", subject.case),
            &[("csrf", &page.csrf())],
            Some(&session),
        ),
    )
    .await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
    let new = newest_link(&f, "task", &subject.case);
    assert_ne!(new.path, old.path);
    assert_eq!(send(&app, get(&new.path)).await.status, StatusCode::OK);
    let replaced = send(&app, get(&old.path)).await;
    assert_eq!(replaced.status, StatusCode::GONE);
    assert!(replaced.body.contains("Länken har ersatts"));
    assert_eq!(
        f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'task.link_resent' AND actor = 'web:kvalitet'"
        ),
        1
    );

    // The step given to the one who has it, to the reviewed user, or to nobody: refused, said on
    // the page, nothing moved.
    let audit = f.count("SELECT COUNT(*) FROM audit");
    let reviewed: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT subject_person_id FROM cases WHERE id = ?1",
            [&subject.case],
            |r| r.get(0),
        )
        .expect("the reviewed user");
    for (person, said) in [
        (subject.recipient.as_str(), "Personen har redan steget."),
        (
            reviewed.as_str(),
            "Den granskade användaren kan inte granska sina egna åtkomster.",
        ),
        ("", "Välj vem som ska ta över steget."),
    ] {
        let wrong = send(
            &app,
            post(
                &format!("/overview/case/{}/reassign", subject.case),
                &[("csrf", &page.csrf()), ("person", person)],
                Some(&session),
            ),
        )
        .await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            wrong.body
        );
        assert!(wrong.body.contains(said), "{said}: {}", wrong.body);
        assert_eq!(f.count("SELECT COUNT(*) FROM audit"), audit);
    }
    // Given to another holder of the role (a second verksamhetschef-like holder is made here).
    let step_role: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT role FROM tasks WHERE case_id = ?1 AND answered_at IS NULL",
            [&subject.case],
            |r| r.get(0),
        )
        .expect("the open step");
    // A second holder of the role at the case's unit: someone of the unit who is neither the
    // assignee nor the reviewed user, given the role (the roster changed, so its version moves).
    let other: String = {
        let store = f.store();
        let other: String = store
            .db()
            .inspect()
            .query_row(
                "SELECT pu.person_id FROM person_units pu JOIN cases c ON c.id = ?1
                 WHERE pu.unit_id = c.unit_id AND pu.person_id NOT IN (?2, ?3)
                 ORDER BY pu.person_id LIMIT 1",
                loggkoll::params![&subject.case, &subject.recipient, &reviewed],
                |r| r.get(0),
            )
            .expect("a colleague");
        store
            .db()
            .inspect()
            .execute(
                "INSERT INTO person_roles (person_id, role, unit_id)
                 SELECT ?1, ?2, unit_id FROM cases WHERE id = ?3",
                loggkoll::params![&other, &step_role, &subject.case],
            )
            .expect("the role");
        loggkoll::engine::org::bump_version(store.db()).expect("the roster's version");
        other
    };
    {
        let page = send(
            &app,
            get_with(&format!("/overview/case/{}", subject.case), &session),
        )
        .await;
        assert!(
            page.body.contains(&format!("value=\"{other}\"")),
            "{}",
            page.body
        );
        let moved = send(
            &app,
            post(
                &format!("/overview/case/{}/reassign", subject.case),
                &[("csrf", &page.csrf()), ("person", &other)],
                Some(&session),
            ),
        )
        .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        assert_eq!(newest_link(&f, "task", &subject.case).recipient, other);
    }

    // A form for a step the case has left is refused.
    let audit = f.count("SELECT COUNT(*) FROM audit");
    let stale = send(
        &app,
        post(
            &format!("/overview/case/{}/resend", subject.case),
            &[("csrf", &page.csrf()), ("task", "999999")],
            Some(&session),
        ),
    )
    .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        stale.body.contains("Ärendet har gått vidare"),
        "{}",
        stale.body
    );
    assert_eq!(f.count("SELECT COUNT(*) FROM audit"), audit);

    // A reader reads but may not act.
    let reader = login_as(&app, "lasare", "ett långt lösenord", [10, 0, 0, 3]).await;
    let reader = reader.cookie("loggkoll_session");
    let page = send(
        &app,
        get_with(&format!("/overview/case/{}", subject.case), &reader),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Skicka länken igen"));
    let audit = f.count("SELECT COUNT(*) FROM audit");
    let refused = send(
        &app,
        post(
            &format!("/overview/case/{}/resend", subject.case),
            &[("csrf", &page.csrf())],
            Some(&reader),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(f.count("SELECT COUNT(*) FROM audit"), audit);
}

#[tokio::test]
async fn the_task_page_hands_its_case_documents_to_the_one_with_the_step() {
    let f = Fixture::new(BASE);
    let app = f.app();
    let link = f.links("task").remove(0);
    let page = send(&app, get(&link.path)).await;
    let doc = format!("{}/doc/protokoll.html", link.path);
    assert!(page.body.contains(&doc), "{}", page.body);
    // A sampling case has no letter to offer.
    assert!(!page.body.contains("/doc/loggutdrag"));
    let audit = f.count("SELECT COUNT(*) FROM audit WHERE event = 'record.downloaded'");
    let protocol = send(&app, get(&format!("{doc}?download=1"))).await;
    assert_eq!(protocol.status, StatusCode::OK, "{}", protocol.body);
    assert!(
        protocol.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(protocol.body.contains(&link.case));
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(*) FROM audit WHERE event = 'record.downloaded' AND actor = '{}'",
            link.recipient
        )),
        audit + 1
    );
    // Not a letter of a sampling case, not the metadata, not a made-up file, not a bad link.
    for (path, status) in [
        (
            format!("{}/doc/loggutdrag.html", link.path),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("{}/doc/arende.json", link.path),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("{}/doc/annat.txt", link.path),
            StatusCode::NOT_FOUND,
        ),
        (
            "/t/1.x.2.y/doc/protokoll.html".to_string(),
            StatusCode::FORBIDDEN,
        ),
    ] {
        assert_eq!(send(&app, get(&path)).await.status, status, "{path}");
    }
    // A suspected intrusion informs HR and the head of operations; someone informed only
    // reads the step: no documents.
    let r = send(
        &app,
        post(
            &link.path,
            &[
                ("csrf", &page.csrf()),
                ("outcome", "suspected_intrusion"),
                ("comment", "Åtkomst till en anhörigs journal."),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let inform = f
        .links("inform")
        .into_iter()
        .next()
        .expect("someone informed");
    let page = send(&app, get(&inform.path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/doc/protokoll"));
    let r = send(&app, get(&format!("{}/doc/protokoll.html", inform.path))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Once the step is answered, its link still gives the one who answered the protocol (until
    // the link expires), and the page after the answer links it; nothing else.
    let answered = send(&app, get(&doc)).await;
    assert_eq!(answered.status, StatusCode::OK);
    assert!(answered.body.contains(&link.case));
    let page = send(&app, get(&link.path)).await;
    assert!(page.body.contains(&doc), "{}", page.body);
    let json = send(&app, get(&format!("{}/doc/arende.json", link.path))).await;
    assert_eq!(json.status, StatusCode::FORBIDDEN);
    // Someone informed of the step gets nothing from their link, answered or not.
    let r = send(&app, get(&format!("{}/doc/protokoll.html", inform.path))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = send(&app, get(&inform.path)).await;
    assert!(!page.body.contains("/doc/protokoll"), "{}", page.body);
}

#[tokio::test]
async fn an_admin_manages_the_accounts_and_nobody_else_can() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "chef", WebRole::Admin);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let admin = login_as(&app, "chef", "ett långt lösenord", [10, 0, 0, 4])
        .await
        .cookie("loggkoll_session");
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 5])
        .await
        .cookie("loggkoll_session");
    // Only an admin sees the page and its place in the navigation.
    let page = send(&app, get_with("/overview/accounts", &admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("href=\"/overview/accounts\""));
    assert_eq!(page.body.matches("loggar in med lösenord").count(), 2);
    let other = send(&app, get_with("/overview", &quality)).await;
    assert!(!other.body.contains("href=\"/overview/accounts\""));
    assert_eq!(
        send(&app, get_with("/overview/accounts", &quality))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let csrf = page.csrf();
    let post_as = |cookie: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        post("/overview/accounts", &all, Some(cookie))
    };
    // Added with a role; it logs in with it.
    let added = send(
        &app,
        post_as(
            &admin,
            &[
                ("action", "add"),
                ("name", "lasare"),
                ("role", "reader"),
                ("password", "ett annat långt lösenord"),
                ("repeat", "ett annat långt lösenord"),
            ],
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.body.contains("Kontot lasare är tillagt"));
    let login = login_as(&app, "lasare", "ett annat långt lösenord", [10, 0, 0, 6]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.user_added' AND actor = 'web:chef'"),
        1
    );
    // Refused: mismatched or short passwords, a bad name, a taken name, one's own account, a
    // non-admin, a missing token. None changes anything.
    let audit = f.count("SELECT COUNT(*) FROM audit");
    for (cookie, fields, status) in [
        (
            &admin,
            vec![
                ("action", "add"),
                ("name", "x"),
                ("role", "reader"),
                ("password", "ett långt lösenord"),
                ("repeat", "något annat här"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![
                ("action", "add"),
                ("name", "x"),
                ("role", "reader"),
                ("password", "kort"),
                ("repeat", "kort"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![
                ("action", "add"),
                ("name", "<script>"),
                ("role", "reader"),
                ("password", "ett långt lösenord"),
                ("repeat", "ett långt lösenord"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![
                ("action", "add"),
                ("name", "kvalitet"),
                ("role", "reader"),
                ("password", "ett långt lösenord"),
                ("repeat", "ett långt lösenord"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![("action", "role"), ("name", "chef"), ("role", "reader")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![("action", "remove"), ("name", "chef")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            vec![("action", "role"), ("name", "kvalitet"), ("role", "kung")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &quality,
            vec![("action", "remove"), ("name", "chef")],
            StatusCode::FORBIDDEN,
        ),
    ] {
        let r = send(&app, post_as(cookie, &fields)).await;
        assert_eq!(r.status, status, "{fields:?}: {}", r.body);
        assert_eq!(f.count("SELECT COUNT(*) FROM audit"), audit, "{fields:?}");
    }
    let forged = send(
        &app,
        post(
            "/overview/accounts",
            &[("csrf", "fel"), ("action", "remove"), ("name", "lasare")],
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A role change reaches the other's session at once; a removal ends it.
    let r = send(
        &app,
        post_as(
            &admin,
            &[("action", "role"), ("name", "kvalitet"), ("role", "reader")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = send(&app, get_with("/overview/start", &quality)).await;
    assert!(
        start
            .body
            .contains("får läsa översikten men inte öppna ärenden"),
        "{}",
        start.body
    );
    let r = send(
        &app,
        post_as(&admin, &[("action", "remove"), ("name", "kvalitet")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let gone = send(&app, get_with("/overview", &quality)).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(gone.location(), "/login");
}

#[tokio::test]
async fn a_clients_request_for_a_log_extract_is_registered_from_the_overview() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let session = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 7])
        .await
        .cookie("loggkoll_session");
    let start = send(&app, get_with("/overview/start", &session)).await;
    assert!(
        start.body.contains("Begäran om loggutdrag"),
        "{}",
        start.body
    );
    let unit: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT unit_id FROM person_roles WHERE role = 'unit_manager' ORDER BY unit_id LIMIT 1",
            (),
            |r| r.get(0),
        )
        .expect("a unit with an enhetschef");
    let fields = |client: &str, from: &str| {
        vec![
            ("csrf", start.csrf()),
            ("kind", "extract".to_string()),
            ("client", client.to_string()),
            ("client_name", "Tolvan Tolvansson".into()),
            ("client_address", "Storgatan 1, 123 45 Tibro".into()),
            ("unit", unit.clone()),
            ("from", from.to_string()),
            ("to", "2026-12-31".into()),
            ("system", "treserva".into()),
        ]
    };
    let post_start = |fields: Vec<(&str, String)>| {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post("/overview/start", &refs, Some(&session))
    };
    // A wrong check digit, no client, a reversed period: said, nothing opened.
    for (client, from, said) in [
        (
            "19121212-1213",
            "2026-12-01",
            "Personnumret har fel kontrollsiffra.",
        ),
        ("", "2026-12-01", "Skriv kundens personnummer."),
        (
            "19121212-1212",
            "2027-01-31",
            "Till-datumet ligger före från-datumet.",
        ),
    ] {
        let r = send(&app, post_start(fields(client, from))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{client}");
        assert!(r.body.contains(said), "{said}: {}", r.body);
        assert_eq!(
            f.count("SELECT COUNT(*) FROM cases WHERE kind = 'extract'"),
            0
        );
    }
    let opened = send(&app, post_start(fields("19121212-1212", "2026-12-01"))).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let (id, state, client, systems): (String, String, String, Option<String>) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT id, state, client_ref, systems FROM cases WHERE kind = 'extract'",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the extract case");
    assert_eq!(state, "hand_out");
    assert!(client.contains("121212"), "{client}");
    assert!(
        systems.is_none_or(|s| s == "treserva"),
        "one system asked for"
    );
    let page = send(&app, get_with(opened.location(), &session)).await;
    assert!(page.body.contains("Mejlat"), "{}", page.body);
    for doc in [
        "loggutdrag.html",
        "loggutdrag.pdf",
        "arende.json",
        "protokoll.html",
    ] {
        assert!(
            page.body.contains(&format!("/overview/case/{id}/{doc}")),
            "{doc}"
        );
    }
    // The letter and arende.json, made now.
    let letter = send(
        &app,
        get_with(&format!("/overview/case/{id}/loggutdrag.html"), &session),
    )
    .await;
    assert_eq!(letter.status, StatusCode::OK, "{}", letter.body);
    assert!(letter.body.contains("Tolvan Tolvansson"), "{}", letter.body);
    let meta = send(
        &app,
        get_with(&format!("/overview/case/{id}/arende.json"), &session),
    )
    .await;
    assert_eq!(meta.status, StatusCode::OK);
    let meta: serde_json::Value = serde_json::from_str(&meta.body).expect("JSON");
    assert_eq!(meta["arende"], id.as_str());
    // At a unit whose enhetschef role nobody holds, the case opens and its page says that nobody
    // has the step, offering no button that cannot work.
    let top: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT id FROM units WHERE id NOT IN (SELECT unit_id FROM person_roles WHERE role = 'unit_manager') ORDER BY id LIMIT 1",
            (),
            |r| r.get(0),
        )
        .expect("a unit without an enhetschef");
    let mut orphan = fields("19121212-1212", "2026-12-01");
    orphan.retain(|(k, _)| *k != "unit");
    orphan.push(("unit", top));
    let opened = send(&app, post_start(orphan)).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = send(&app, get_with(opened.location(), &session)).await;
    assert!(page.body.contains("Ingen har steget"), "{}", page.body);
    assert!(!page.body.contains("Skicka länken igen"));

    // No email names the client.
    let contexts: Vec<String> = {
        let store = f.store();
        let mut stmt = store
            .db()
            .inspect()
            .prepare("SELECT context FROM outbox WHERE case_id = ?1")
            .expect("query");
        stmt.query_map([&id], |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert!(!contexts.is_empty());
    for c in contexts {
        assert!(!c.contains("121212") && !c.contains("Tolvan"), "{c}");
    }
}

/// Issue 25: no page of the server, for the quality staff or behind an emailed link, says "1"
/// with a plural noun or shows an event code of the audit trail, after a month of reminders,
/// escalations, answers and ticks.
#[tokio::test]
async fn no_page_says_1_with_a_plural_noun_or_shows_an_event_code() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let now = at("2027-02-01T10:00:00+01:00");
    {
        let mut engine = f.engine(now);
        engine.tick(now).expect("reminders and escalations");
        let info = f
            .links("task")
            .into_iter()
            .find(|l| l.case.starts_with("INF-"))
            .expect("an information case");
        let list = engine.staff_list(&info.case, now).expect("its staff");
        engine
            .inform_staff(
                &loggkoll::engine::information::InformRequest {
                    case_id: &info.case,
                    people: &[list.people[0].person_id.clone()],
                    by: &info.recipient,
                    task_id: None,
                    undo: false,
                },
                now,
            )
            .expect("one ticked");
    }
    f.clock.set(now);
    let app = f.app();
    let ok = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 7]).await;
    let session = ok.cookie("loggkoll_session");
    let cases: Vec<String> = {
        let store = f.store();
        let mut stmt = store
            .db()
            .inspect()
            .prepare("SELECT id FROM cases ORDER BY id")
            .expect("query");
        stmt.query_map((), |r| r.get::<String>(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let mut paths: Vec<String> = OVERVIEW.iter().map(|p| p.to_string()).collect();
    paths.push("/overview/radar".into());
    paths.extend(cases.iter().map(|c| format!("/overview/case/{c}")));
    let mut found = Vec::new();
    let mut read = 0;
    for path in &paths {
        let r = send(&app, get_with(path, &session)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        found.extend(words::problems(path, &r.body));
        read += 1;
    }
    for purpose in ["task", "reminder", "escalation"] {
        for link in f.links(purpose) {
            let r = send(&app, get(&link.path)).await;
            // An early step's link has expired by now: its page is read too.
            assert!(
                [StatusCode::OK, StatusCode::GONE].contains(&r.status),
                "{}",
                link.path
            );
            found.extend(words::problems(
                &format!("{purpose} {}", link.case),
                &r.body,
            ));
            read += 1;
        }
    }
    assert!(read > 30, "only {read} pages read");
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test]
async fn pdfs_print_two_at_a_time_and_a_third_gets_503_with_retry_after() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    let mut app = App::new(f.engine(f.clock.now()), f.clock.clone()).expect("app");
    app.print_wait = std::time::Duration::from_millis(200);
    let app = Arc::new(app);
    let case = f.links("task").remove(0).case;
    let login = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 9]).await;
    let session = login.cookie("loggkoll_session");
    let pdf = format!("/overview/case/{case}/protokoll.pdf");
    // Two PDFs are being printed.
    let busy = app
        .printing
        .clone()
        .acquire_many_owned(loggkoll::web::app::PRINTERS as u32)
        .await
        .expect("both places");
    let refused = send(&app, get_with(&pdf, &session)).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.headers[header::RETRY_AFTER], "10");
    assert!(
        refused.body.contains("Försök igen om en stund"),
        "{}",
        refused.body
    );
    // The HTML needs no printer.
    let html = send(
        &app,
        get_with(&format!("/overview/case/{case}/protokoll.html"), &session),
    )
    .await;
    assert_eq!(html.status, StatusCode::OK);
    // One place free: the PDF is made (or, without Chromium, refused for that reason).
    drop(busy);
    let made = send(&app, get_with(&pdf, &session)).await;
    assert_ne!(
        made.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        made.body
    );
    assert_eq!(
        app.printing.available_permits(),
        loggkoll::web::app::PRINTERS
    );
}

/// Issue 27: the case list finds every case of a person by name, account or person id, and a
/// client's cases by personnummer (audited); pages through long lists; exports what it shows as
/// CSV and as an Excel workbook that openpyxl reads.
#[tokio::test]
async fn quality_staff_search_page_and_export_the_case_list() {
    let f = Fixture::new(BASE);
    add_user(&f, "kvalitet", "ett långt lösenord");
    // A request for a log extract about a client, opened by the unit's verksamhetschef.
    let (unit, boss): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT unit_id, person_id FROM person_roles WHERE role = 'operations_manager' ORDER BY unit_id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a verksamhetschef");
    let mut engine = f.engine(f.clock.now());
    let request = |client: String| loggkoll::engine::OpenRequest {
        routine: "log-extract".into(),
        unit: unit.clone(),
        by: boss.clone(),
        subject_user: None,
        client: Some(client),
        from: Some(at("2026-12-01T00:00:00+01:00")),
        to: Some(at("2026-12-31T00:00:00+01:00")),
        reason: None,
        system: None,
        client_name: None,
        client_address: None,
        from_web: false,
    };
    // Other clients' requests, enough for more than one page of cases.
    for serial in 1..=45 {
        engine
            .open_case(
                &request(loggkoll::personnummer::made_up(1950, 1, 1, serial)),
                f.clock.now(),
            )
            .expect("an extract case");
    }
    let extract = engine
        .open_case(
            &loggkoll::engine::OpenRequest {
                routine: "log-extract".into(),
                unit: unit.clone(),
                by: boss.clone(),
                subject_user: None,
                client: Some("19121212-1212".into()),
                from: Some(at("2026-12-01T00:00:00+01:00")),
                to: Some(at("2026-12-31T00:00:00+01:00")),
                reason: None,
                system: None,
                client_name: None,
                client_address: None,
                from_web: false,
            },
            f.clock.now(),
        )
        .expect("the extract case");
    let app = f.app();
    let login = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 0, 3]).await;
    let session = login.cookie("loggkoll_session");
    let listed = |body: &str| -> Vec<String> {
        body.match_indices("href=\"/overview/case/")
            .map(|(i, m)| {
                let rest = &body[i + m.len()..];
                rest[..rest.find('"').expect("the end")].to_string()
            })
            .collect()
    };
    // Every case of one reviewed person, by their name, their account and their person id.
    let (person, name, account): (String, String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT c.subject_person_id, p.name, c.subject_account FROM cases c JOIN people p ON p.id = c.subject_person_id
             WHERE c.subject_account IS NOT NULL ORDER BY c.id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("a reviewed person");
    let mut theirs: Vec<String> = {
        let store = f.store();
        let mut stmt = store
            .db()
            .inspect()
            .prepare("SELECT id FROM cases WHERE subject_person_id = ?1")
            .expect("query");
        stmt.query_map([&person], |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    theirs.sort();
    for q in [name.to_uppercase(), account.clone(), person.clone()] {
        let page = send(
            &app,
            get_with(
                &format!(
                    "/overview/cases?q={}",
                    loggkoll::web::cases::query_value(&q)
                ),
                &session,
            ),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let mut found = listed(&page.body);
        found.sort();
        assert_eq!(found, theirs, "search {q}");
    }
    // The client's case, by personnummer in either form; each such search is audited.
    for q in ["191212121212", "19121212-1212"] {
        let page = send(&app, get_with(&format!("/overview/cases?q={q}"), &session)).await;
        assert_eq!(listed(&page.body), std::slice::from_ref(&extract), "{q}");
        assert!(
            page.body
                .contains("Sökningen på kundens personnummer är noterad")
        );
    }
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'cases.searched_by_client' AND actor = 'web:kvalitet'"),
        2
    );
    // Pages of 50: every case once, in order, over the pages.
    let total = f.count("SELECT COUNT(*) FROM cases") as usize;
    assert!(
        total > 50,
        "{total} cases: the fixture needs more than a page"
    );
    let mut seen = Vec::new();
    let mut next = Some("/overview/cases".to_string());
    while let Some(path) = next.take() {
        let page = send(&app, get_with(&path.replace("&amp;", "&"), &session)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let on_page = listed(&page.body);
        assert!(on_page.len() <= 50);
        seen.extend(on_page);
        next = page
            .body
            .split("rel=\"next\"")
            .next()
            .filter(|_| page.body.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| href[..href.find('"').expect("end")].to_string());
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), total, "each case once");
    assert_eq!(unique.len(), total);
    // The export: the filtered list, as CSV and as XLSX.
    let q = loggkoll::web::cases::query_value(&name);
    let csv = send(
        &app,
        get_with(&format!("/overview/cases/export.csv?q={q}"), &session),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let rows: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        rows[0].starts_with("Ärende;Diarienummer;Rutin"),
        "{}",
        rows[0]
    );
    assert_eq!(rows.len(), theirs.len() + 1, "{}", csv.body);
    let xlsx = {
        let mut request = get_with(&format!("/overview/cases/export.xlsx?q={q}"), &session);
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))));
        let response = router(app.clone())
            .oneshot(request)
            .await
            .expect("a response");
        assert_eq!(response.status(), StatusCode::OK);
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body")
    };
    let path = f.dir.path().join("arenden.xlsx");
    std::fs::write(&path, &xlsx).expect("write");
    let read = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).active\nprint(ws.title)\nfor row in ws.iter_rows(values_only=True):\n    print('\\t'.join('' if v is None else str(v) for v in row))")
        .arg(&path)
        .output()
        .expect("python3");
    if !read.status.success() {
        let why = String::from_utf8_lossy(&read.stderr);
        assert!(
            std::env::var_os("LOGGKOLL_REQUIRE_OPENPYXL").is_none()
                && why.contains("No module named 'openpyxl'"),
            "openpyxl could not read the workbook: {why}"
        );
        eprintln!("openpyxl is not installed: the workbook was not read back");
        return;
    }
    let text = String::from_utf8(read.stdout).expect("UTF-8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Ärenden"));
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("Ärende\tDiarienummer\tRutin"))
    );
    let mut ids: Vec<String> = lines
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, theirs);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'cases.exported'"),
        2
    );
    // The SAS's summary of the year, from its page: HTML in the browser, CSV to save.
    let summary = send(&app, get_with("/overview/summary", &session)).await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    for href in [
        "/overview/summary/2027/sammanstallning.html",
        "/overview/summary/2027/sammanstallning.pdf",
        "/overview/summary/2027/sammanstallning.csv",
        "/overview/summary/2027/sammanstallning-treserva-sampling.html",
    ] {
        assert!(summary.body.contains(href), "{href}: {}", summary.body);
    }
    let html = send(
        &app,
        get_with("/overview/summary/2027/sammanstallning.html", &session),
    )
    .await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.body);
    assert!(
        html.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"sammanstallning-2027.html\"")
    );
    assert!(html.body.contains("2027"), "{}", html.body);
    let csv = send(
        &app,
        get_with(
            "/overview/summary/2027/sammanstallning-treserva-sampling.csv?download=1",
            &session,
        ),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.body.lines().count() > 1, "{}", csv.body);
    for missing in [
        "/overview/summary/2027/sammanstallning-no-such-routine.html",
        "/overview/summary/1066/sammanstallning.html",
        "/overview/summary/2027/sammanstallning.exe",
    ] {
        let r = send(&app, get_with(missing, &session)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

/// Issue 27: the watch list, the roster and the delegations from the overview: quality staff
/// add and remove watched clients (audited, behind the form token), everyone reads the roster,
/// admins add and end delegations.
#[tokio::test]
async fn the_watch_list_roster_and_delegations_have_pages() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    add_user_as(&f, "lasare", WebRole::Reader);
    add_user_as(&f, "chef", WebRole::Admin);
    let app = f.app();
    let session = |name: &'static str, addr: u8| {
        let app = app.clone();
        async move {
            login_as(&app, name, "ett långt lösenord", [10, 0, 1, addr])
                .await
                .cookie("loggkoll_session")
        }
    };
    let quality = session("kvalitet", 1).await;
    let reader = session("lasare", 2).await;
    let admin = session("chef", 3).await;

    // The watch list: a client added with a reason, shown, audited as the web account.
    let page = send(&app, get_with("/overview/watch", &quality)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let add = |csrf: String, client: &str, reason: &str, until: &str| {
        post(
            "/overview/watch",
            &[
                ("csrf", &csrf),
                ("action", "add"),
                ("client", client),
                ("reason", reason),
                ("until", until),
            ],
            Some(&quality),
        )
    };
    let added = send(
        &app,
        add(page.csrf(), "19121212-1212", "Anhörig till anställd", ""),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.body.contains("Kunden är tillagd"), "{}", added.body);
    assert!(added.body.contains("19121212-1212"));
    assert!(added.body.contains("Anhörig till anställd"));
    assert_eq!(
        f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'watch.added' AND actor = 'web:kvalitet'"
        ),
        1
    );
    // Bad input is refused with the reason, and nothing is added.
    for (client, reason, until, says) in [
        ("19121212-1213", "x", "", "kontrollsiffra"),
        ("19121212-1212", "", "", "varför kunden bevakas"),
        ("19121212-1212", "x", "2026-01-01", "passerat"),
        ("19121212-1212", "x", "i morgon", "inget datum"),
    ] {
        let r = send(&app, add(page.csrf(), client, reason, until)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{client} {reason} {until}"
        );
        assert!(r.body.to_lowercase().contains(says), "{says}: {}", r.body);
    }
    assert_eq!(f.count("SELECT COUNT(*) FROM watch_list"), 1);
    // Without the form's token, or as a reader: refused.
    let r = send(&app, add("x".into(), "19121212-1212", "y", "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let reader_page = send(&app, get_with("/overview/watch", &reader)).await;
    assert!(
        !reader_page.body.contains("19121212-1212"),
        "a reader sees no client"
    );
    assert!(
        reader_page.body.contains("1 kund på listan"),
        "{}",
        reader_page.body
    );
    let r = send(
        &app,
        post(
            "/overview/watch",
            &[
                ("csrf", &reader_page.csrf()),
                ("action", "add"),
                ("client", "19121212-1212"),
                ("reason", "x"),
            ],
            Some(&reader),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Removed: gone from the page, audited.
    let id: i64 = f.count("SELECT id FROM watch_list");
    let page = send(&app, get_with("/overview/watch", &quality)).await;
    let removed = send(
        &app,
        post(
            "/overview/watch",
            &[
                ("csrf", &page.csrf()),
                ("action", "remove"),
                ("id", &id.to_string()),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(!removed.body.contains("19121212-1212"), "{}", removed.body);
    assert_eq!(
        f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'watch.removed' AND actor = 'web:kvalitet'"
        ),
        1
    );

    // The roster: units with their managers, a unit's people with accounts, the last import.
    let (unit, unit_name, person, person_name, account): (String, String, String, String, String) =
        f.store()
            .db()
            .inspect()
            .query_row(
                "SELECT u.id, u.name, p.id, p.name, a.account FROM units u
             JOIN person_units pu ON pu.unit_id = u.id JOIN people p ON p.id = pu.person_id
             JOIN accounts a ON a.person_id = p.id ORDER BY u.id, p.id LIMIT 1",
                (),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .expect("a person with an account");
    let roster = send(&app, get_with("/overview/roster", &reader)).await;
    assert_eq!(roster.status, StatusCode::OK, "{}", roster.body);
    assert!(roster.body.contains(&unit_name));
    assert!(roster.body.contains("Senaste inläsningen"));
    let people = send(
        &app,
        get_with(&format!("/overview/roster?unit={unit}"), &reader),
    )
    .await;
    for text in [&person_name, &person, &account] {
        assert!(
            people.body.contains(text.as_str()),
            "{text}: {}",
            people.body
        );
    }

    // Delegations: an admin names a deputy by name; quality staff may not.
    let (holder, holder_unit): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT person_id, unit_id FROM person_roles WHERE role = 'unit_manager' ORDER BY unit_id LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("an enhetschef");
    let deputy: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT person_id FROM person_units WHERE unit_id = ?1 AND person_id != ?2 ORDER BY person_id LIMIT 1",
            [&holder_unit, &holder],
            |r| r.get(0),
        )
        .expect("a colleague");
    let page = send(&app, get_with("/overview/delegations", &admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let delegate = |csrf: String, cookie: &str| {
        post(
            "/overview/delegations",
            &[
                ("csrf", &csrf),
                ("action", "add"),
                ("holder", &holder),
                ("deputy", &deputy),
                ("role", "unit_manager"),
                ("from", "2027-01-05"),
                ("to", "2027-01-20"),
            ],
            Some(cookie),
        )
    };
    let q_page = send(&app, get_with("/overview/delegations", &quality)).await;
    assert!(!q_page.body.contains("Ny delegering"));
    let r = send(&app, delegate(q_page.csrf(), &quality)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&app, delegate(page.csrf(), &admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Delegeringen är tillagd"), "{}", r.body);
    assert!(r.body.contains("gäller nu"), "{}", r.body);
    assert_eq!(
        f.count(
            "SELECT COUNT(*) FROM audit WHERE event = 'delegation.added' AND actor = 'web:chef'"
        ),
        1
    );
    let id = f.count("SELECT id FROM delegations");
    let ended = send(
        &app,
        post(
            "/overview/delegations",
            &[
                ("csrf", &page.csrf()),
                ("action", "end"),
                ("id", &id.to_string()),
            ],
            Some(&admin),
        ),
    )
    .await;
    assert!(
        ended.body.contains("Delegeringen är avslutad"),
        "{}",
        ended.body
    );
    assert_eq!(
        f.count("SELECT COUNT(*) FROM delegations WHERE revoked_at IS NOT NULL"),
        1
    );
}

#[tokio::test]
async fn the_audit_trail_is_readable_filtered_and_paged_for_quality_and_admin_only() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    add_user_as(&f, "lasare", WebRole::Reader);
    // More than a page of events: outbox retries by the command line.
    {
        let store = f.store();
        for i in 0..120 {
            loggkoll::store::audit::append(
                store.db(),
                at(NOW),
                &loggkoll::store::audit::Event {
                    actor: "cli",
                    event: "outbox.retried",
                    case_id: None,
                    round_id: None,
                    data: serde_json::json!({"id": i}),
                    personal: None,
                },
            )
            .expect("appended");
        }
    }
    let app = f.app();
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 2, 1])
        .await
        .cookie("loggkoll_session");
    let reader = login_as(&app, "lasare", "ett långt lösenord", [10, 0, 2, 2])
        .await
        .cookie("loggkoll_session");
    // An act of the quality account: it appears with the account that did it.
    let page = send(&app, get_with("/overview/watch", &quality)).await;
    let added = send(
        &app,
        post(
            "/overview/watch",
            &[
                ("csrf", &page.csrf()),
                ("action", "add"),
                ("client", "19121212-1212"),
                ("reason", "Anhörig till anställd"),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let trail = send(&app, get_with("/overview/audit", &quality)).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    assert!(trail.body.contains("Kunden sattes på bevakningslistan"));
    assert!(trail.body.contains("kvalitet (översikten)"));
    assert!(trail.body.contains("Händelselogg"), "in the navigation");
    // Instants in the details are local times, as people read them, not UTC codes.
    let cases = send(&app, get_with("/overview/audit?kind=case.", &quality)).await;
    assert!(cases.body.contains("fönstrets början: "), "{}", cases.body);
    assert!(!cases.body.contains(":00Z"), "{}", cases.body);
    let newest = f.count("SELECT MAX(seq) FROM audit WHERE event = 'watch.added'");
    assert_eq!(newest, f.count("SELECT MAX(seq) FROM audit"));
    // Filtered by kind of event and by actor.
    let watch_only = send(&app, get_with("/overview/audit?kind=watch.", &quality)).await;
    assert!(
        watch_only
            .body
            .contains("Kunden sattes på bevakningslistan")
    );
    assert!(!watch_only.body.contains("Ärendet öppnades"));
    let by_system = send(&app, get_with("/overview/audit?actor=system", &quality)).await;
    assert!(!by_system.body.contains("Kunden sattes på bevakningslistan"));
    assert!(
        by_system.body.contains("Ärendet öppnades"),
        "{}",
        by_system.body
    );
    // loggkoll itself is one choice, whatever it is called in the trail, and it finds them all.
    let by_machine = send(&app, get_with("/overview/audit?actor=loggkoll", &quality)).await;
    assert!(
        by_machine.body.contains("Ärendet öppnades"),
        "{}",
        by_machine.body
    );
    assert_eq!(
        trail.body.matches(">loggkoll</option>").count(),
        1,
        "{}",
        trail.body
    );
    let by_name = send(&app, get_with("/overview/audit?actor=kvalitet", &quality)).await;
    assert!(by_name.body.contains("Kunden sattes på bevakningslistan"));
    assert!(!by_name.body.contains("Ärendet öppnades"));
    // By case: only that case's events.
    let case: String = f
        .store()
        .db()
        .inspect()
        .query_row("SELECT MIN(id) FROM cases", (), |r| r.get(0))
        .expect("a case");
    let of_case = send(
        &app,
        get_with(&format!("/overview/audit?case={case}"), &quality),
    )
    .await;
    assert!(
        of_case
            .body
            .contains(&format!("href=\"/overview/case/{case}\""))
    );
    assert!(!of_case.body.contains("Kunden sattes på bevakningslistan"));
    // A case's reference as typed, in any case.
    let lower = send(
        &app,
        get_with(
            &format!("/overview/audit?case={}", case.to_lowercase()),
            &quality,
        ),
    )
    .await;
    assert!(
        lower
            .body
            .contains(&format!("href=\"/overview/case/{case}\"")),
        "{}",
        lower.body
    );
    // A period that ended before anything happened, and a date that is none.
    let none = send(&app, get_with("/overview/audit?to=2000-01-01", &quality)).await;
    assert!(none.body.contains("Inga händelser passar urvalet"));
    let bad = send(&app, get_with("/overview/audit?from=i+g%C3%A5r", &quality)).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("är inget datum"), "{}", bad.body);
    // Paged: a hundred a page, the next page older, none twice.
    let total = f.count("SELECT COUNT(*) FROM audit");
    assert!(total > 100, "the fixture has {total} events");
    let marker = "rel=\"next\"";
    assert!(trail.body.contains(marker), "a link to older entries");
    let seqs = |body: &str| -> Vec<i64> {
        body.match_indices("<small class=\"muted\">nr ")
            .filter_map(|(at, m)| {
                body[at + m.len()..]
                    .split('<')
                    .next()
                    .and_then(|n| n.trim().parse().ok())
            })
            .collect()
    };
    let first = seqs(&trail.body);
    assert_eq!(first.len(), 100);
    // Newest first: the watch entry, the latest act, heads the page.
    assert_eq!(first[0], newest);
    assert!(first.windows(2).all(|w| w[0] > w[1]));
    let href_at = trail.body.find(marker).expect("next");
    let start = trail.body[..href_at].rfind("href=\"").expect("its href") + 6;
    let end = start + trail.body[start..].find('"').expect("the end");
    let next = trail.body[start..end].replace("&amp;", "&");
    let older = send(&app, get_with(&next, &quality)).await;
    let second = seqs(&older.body);
    assert!(!second.is_empty());
    assert!(second.iter().all(|s| s < first.iter().min().expect("some")));
    // Readers do not read it.
    let refused = send(&app, get_with("/overview/audit", &reader)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let reader_home = send(&app, get_with("/overview", &reader)).await;
    assert!(!reader_home.body.contains("Händelselogg"));
}

/// The value of the hidden field `name` in a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).map(|i| i + marker.len()).unwrap_or(0);
    let end = body[start..].find('"').map(|i| start + i).unwrap_or(start);
    body[start..end].to_string()
}

#[tokio::test]
async fn a_stale_edit_hears_of_every_version_published_since_it_began() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::editable(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 3, 1])
        .await
        .cookie("loggkoll_session");
    let file = f.routines.join("treserva-sampling.yaml");
    let original = std::fs::read_to_string(&file).expect("the routine");
    let hash = loggkoll::engine::workshop::hash_of;
    let edit = send(
        &app,
        get_with("/overview/routines/treserva-sampling/redigera", &quality),
    )
    .await;
    let csrf = edit.csrf();
    let submit = |text: &str, reason: &str, base: &str| {
        post(
            "/overview/routines/treserva-sampling/redigera",
            &[
                ("csrf", csrf.as_str()),
                ("text", text),
                ("base", base),
                ("action", "publish"),
                ("reason", reason),
            ],
            Some(&quality),
        )
    };
    let days = |n: u32| {
        original.replace(
            "deadline: 10 working days",
            &format!("deadline: {n} working days"),
        )
    };
    // Two publications, one after the other.
    let first = send(&app, submit(&days(15), "Femton", &hash(&original))).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = send(&app, submit(&days(14), "Fjorton", &hash(&days(15)))).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    // An edit begun before both: the last is named, and the one before it counted.
    let stale = send(&app, submit(&days(12), "Tolv", &hash(&original))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("Fjorton"), "{}", stale.body);
    assert!(
        stale.body.contains("Före den publicerades 1 version till"),
        "{}",
        stale.body
    );
    // Begun at the first: only the second is news.
    let stale = send(&app, submit(&days(12), "Tolv", &hash(&days(15)))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        !stale.body.contains("Före den publicerades"),
        "{}",
        stale.body
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), days(14));
}

#[tokio::test]
async fn the_routine_workshop_checks_publishes_and_refuses_what_would_overwrite() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::editable(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    add_user_as(&f, "lasare", WebRole::Reader);
    let app = f.app();
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 3, 1])
        .await
        .cookie("loggkoll_session");
    let reader = login_as(&app, "lasare", "ett långt lösenord", [10, 0, 3, 2])
        .await
        .cookie("loggkoll_session");
    let file = f.routines.join("treserva-sampling.yaml");
    let original = std::fs::read_to_string(&file).expect("the routine");
    let hash = loggkoll::engine::workshop::hash_of;

    // The routine's page: graph, versions, its text numbered.
    let page = send(
        &app,
        get_with("/overview/routines/treserva-sampling", &quality),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg"), "the graph");
    assert!(page.body.contains("Versioner"));
    assert!(page.body.contains("deadline: 10 working days"));
    assert!(
        page.body
            .contains("/overview/routines/treserva-sampling/redigera")
    );
    let missing = send(&app, get_with("/overview/routines/ingen-sadan", &quality)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // The graph alone, at its own size, for staff only.
    let graph = send(
        &app,
        get_with("/overview/routines/treserva-sampling/graf.svg", &quality),
    )
    .await;
    assert_eq!(graph.status, StatusCode::OK);
    assert!(graph.body.starts_with("<svg"), "{}", graph.body);
    assert!(
        page.body
            .contains("/overview/routines/treserva-sampling/graf.svg")
    );
    let anonymous = send(&app, get("/overview/routines/treserva-sampling/graf.svg")).await;
    assert_ne!(anonymous.status, StatusCode::OK);

    // The editor starts from the version in force.
    let edit = send(
        &app,
        get_with("/overview/routines/treserva-sampling/redigera", &quality),
    )
    .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let base = hidden(&edit.body, "base");
    assert_eq!(base, hash(&original));
    let csrf = edit.csrf();
    let longer = original.replace("deadline: 10 working days", "deadline: 15 working days");
    assert_ne!(longer, original);
    let typo_line = longer
        .lines()
        .position(|l| l.trim() == "to: closed_no_finding")
        .expect("a transition to closed_no_finding")
        + 1;
    let typo = longer.replacen("to: closed_no_finding", "to: closed_no_findng", 1);
    let submit = |text: &str, action: &str, reason: &str, base: &str| {
        post(
            "/overview/routines/treserva-sampling/redigera",
            &[
                ("csrf", &csrf),
                ("text", text),
                ("base", base),
                ("action", action),
                ("reason", reason),
            ],
            Some(&quality),
        )
    };
    // Checked: the misspelt state at its line, in Swedish, with the did-you-mean.
    let checked = send(&app, submit(&typo, "check", "", &base)).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert!(
        checked
            .body
            .contains(&format!("Fel på rad {typo_line}, kolumn")),
        "{}",
        checked.body
    );
    assert!(checked.body.contains("Steget finns inte"));
    assert!(checked.body.contains("Menade du `closed_no_finding`?"));
    assert!(
        !checked.body.contains("Förhandsvisning"),
        "no preview of a broken routine"
    );
    // Refused while broken, and without a reason; the file untouched.
    let refused = send(&app, submit(&typo, "publish", "Längre frist", &base)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("rätta felen"));
    let fixed = send(&app, submit(&longer, "check", "", &base)).await;
    assert!(fixed.body.contains("Inga fel"), "{}", fixed.body);
    assert!(fixed.body.contains("Förhandsvisning"));
    assert!(
        fixed.body.contains("15 arbetsdagar"),
        "the account of the edit"
    );
    let no_reason = send(&app, submit(&longer, "publish", "  ", &base)).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Skriv varför"));
    assert_eq!(std::fs::read_to_string(&file).expect("file"), original);
    assert_eq!(f.count("SELECT COUNT(*) FROM publications"), 0);

    // Published: the file, the record, the audit entry, in force without a restart.
    let published = send(
        &app,
        submit(&longer, "publish", "Längre svarstid under semestern", &base),
    )
    .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    assert_eq!(
        published.location(),
        "/overview/routines/treserva-sampling?publicerad=1"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), longer);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'routine.published' AND actor = 'web:kvalitet'"),
        1
    );
    let shown = send(&app, get_with(published.location(), &quality)).await;
    assert!(shown.body.contains("Rutinen är publicerad"));
    assert!(shown.body.contains("Längre svarstid under semestern"));
    assert!(shown.body.contains("kvalitet (översikten)"));
    assert!(shown.body.contains("deadline: 15 working days"));
    assert!(
        shown.body.contains("15 arbetsdagar"),
        "the routine's account states the new deadline"
    );
    assert!(!shown.body.contains("10 arbetsdagar"));
    let trail = send(&app, get_with("/overview/audit?kind=routine.", &quality)).await;
    assert!(
        trail.body.contains("En rutin publicerades"),
        "{}",
        trail.body
    );
    // The next round runs on it.
    let new_hash = hash(&longer);
    app.with_engine(|engine| engine.tick(at("2027-02-01T08:00:00+01:00")).map(|_| ()))
        .await
        .expect("the February round");
    let on_new = f.count(&format!(
        "SELECT COUNT(*) FROM cases WHERE routine_hash = '{new_hash}' AND opened_at >= '2027-02-01'"
    ));
    assert!(on_new > 0, "February's cases on the published version");
    let due: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            &format!(
                "SELECT MIN(t.due_date) FROM tasks t JOIN cases c ON c.id = t.case_id WHERE c.routine_hash = '{new_hash}'"
            ),
            (),
            |r| r.get(0),
        )
        .expect("a due date");
    // Ten working days from 1 February would be the 15th; fifteen are the 22nd.
    assert_eq!(due, "2027-02-22");
    // The versions compare.
    let diff = send(
        &app,
        get_with(
            &format!(
                "/overview/routines/treserva-sampling/jamfor?from={}&to={new_hash}",
                hash(&original)
            ),
            &quality,
        ),
    )
    .await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.body.contains("deadline: 10 working days"));
    assert!(diff.body.contains("deadline: 15 working days"));
    assert!(diff.body.contains("class=\"del\""));

    // An edit started from the older version is refused, saying who published since.
    let stale = send(
        &app,
        submit(&original, "publish", "Tillbaka till tio dagar", &base),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("kvalitet (översikten) publicerade en ny version")
    );
    assert!(stale.body.contains("Längre svarstid under semestern"));
    assert_eq!(std::fs::read_to_string(&file).expect("file"), longer);
    // An edit of the file on the server, behind the workshop's back: shown, never overwritten.
    let behind = format!("{longer}# edited on the server\n");
    std::fs::write(&file, &behind).expect("edited on disk");
    let page = send(
        &app,
        get_with("/overview/routines/treserva-sampling", &quality),
    )
    .await;
    assert!(page.body.contains("Filen på servern har ändrats"));
    assert!(page.body.contains("# edited on the server"));
    let over = send(
        &app,
        submit(
            &longer.replace("15 working", "12 working"),
            "publish",
            "Tolv",
            &new_hash,
        ),
    )
    .await;
    assert_eq!(over.status, StatusCode::CONFLICT);
    assert!(over.body.contains("utanför loggkoll"), "{}", over.body);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), behind);

    // Readers only read; a form without its token changes nothing.
    let r = send(
        &app,
        get_with("/overview/routines/treserva-sampling/redigera", &reader),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &app,
        post(
            "/overview/routines/treserva-sampling/redigera",
            &[
                ("csrf", "x"),
                ("text", "id: x"),
                ("action", "publish"),
                ("reason", "x"),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), behind);

    // A new routine from a copy of a shipped one.
    let new_page = send(&app, get_with("/overview/routines/ny", &quality)).await;
    assert_eq!(new_page.status, StatusCode::OK);
    assert!(new_page.body.contains("shipped:npo-sampling"));
    // Only routines: not the guides shipped beside them.
    assert!(
        !new_page.body.contains("shipped:guides"),
        "{}",
        new_page.body
    );
    assert!(
        !new_page.body.contains(".html (levereras"),
        "{}",
        new_page.body
    );
    let copy = |id: &str| {
        post(
            "/overview/routines/kopia",
            &[
                ("csrf", &csrf),
                ("source", "shipped:npo-sampling"),
                ("id", id),
                ("title", "Stickprov i hemtjänsten"),
            ],
            Some(&quality),
        )
    };
    for bad in ["../etc", "Stor", "", "treserva-sampling"] {
        let r = send(&app, copy(bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let copied = send(&app, copy("hemtjanst-stickprov")).await;
    assert_eq!(copied.status, StatusCode::OK, "{}", copied.body);
    assert!(copied.body.contains("id: hemtjanst-stickprov"));
    let text = std::fs::read_to_string(f.routines.join("npo-sampling.yaml"))
        .expect("npo")
        .lines()
        .map(|l| {
            if l.starts_with("id:") {
                "id: hemtjanst-stickprov".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let made = send(
        &app,
        post(
            "/overview/routines/ny",
            &[
                ("csrf", &csrf),
                ("text", &text),
                ("base", ""),
                ("action", "publish"),
                ("reason", "Egen rutin för hemtjänsten"),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert!(f.routines.join("hemtjanst-stickprov.yaml").is_file());
    let list = send(&app, get_with("/overview/routines", &quality)).await;
    assert!(list.body.contains("/overview/routines/hemtjanst-stickprov"));
}

#[tokio::test]
async fn email_templates_are_checked_previewed_and_published_from_the_overview() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::editable(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 4, 1])
        .await
        .cookie("loggkoll_session");
    let file = f.templates.join("mail/task.txt");
    let original = std::fs::read_to_string(&file).expect("the template");
    let list = send(&app, get_with("/overview/mallar", &quality)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("/overview/mallar/task.txt"));
    assert!(list.body.contains("Påminnelse"));
    let edit = send(&app, get_with("/overview/mallar/task.txt", &quality)).await;
    assert!(
        edit.body
            .contains("Redigera mejlmallen: Uppgift till den som har ett steg"),
        "named by what it is: {}",
        edit.body
    );
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    let base = hidden(&edit.body, "base");
    assert_eq!(base, loggkoll::engine::workshop::hash_of(&original));
    let csrf = edit.csrf();
    let submit = |text: &str, action: &str, reason: &str| {
        post(
            "/overview/mallar/task.txt",
            &[
                ("csrf", &csrf),
                ("text", text),
                ("base", &base),
                ("action", action),
                ("reason", reason),
            ],
            Some(&quality),
        )
    };
    // A broken tag, at its line; nothing written.
    let broken = original.replacen("Hej {{ recipient }},", "Hej {{ recipient ,", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("{{ recipient ,"))
        .expect("the line")
        + 1;
    let checked = send(&app, submit(&broken, "check", "")).await;
    assert!(
        checked.body.contains(&format!("Fel på rad {line}")),
        "{}",
        checked.body
    );
    let refused = send(&app, submit(&broken, "publish", "Hälsning")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), original);
    // A good edit is previewed on the sample case, then published.
    let better = original.replacen(
        "Hej {{ recipient }},",
        "Hej {{ recipient }}, från kvalitetsenheten!",
        1,
    );
    let previewed = send(&app, submit(&better, "check", "")).await;
    assert!(previewed.body.contains("Inga fel"), "{}", previewed.body);
    assert!(
        previewed
            .body
            .contains("Förhandsvisning på ett exempelärende")
    );
    assert!(previewed.body.contains("från kvalitetsenheten!"));
    // The sample case with this installation's contact (the fixture has none), not the sample's.
    assert!(
        !previewed.body.contains("karin.kvalitet@kommun.se"),
        "{}",
        previewed.body
    );
    let published = send(&app, submit(&better, "publish", "Vänligare hälsning")).await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), better);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'template.published' AND actor = 'web:kvalitet'"),
        1
    );
    let notice = send(&app, get_with(published.location(), &quality)).await;
    assert!(notice.body.contains("task.txt är publicerad"));
    // The next email uses it: the engine's templates are the new ones.
    let in_force = app
        .with_engine(|engine| Ok(engine.templates.text("mail/task.txt").map(str::to_string)))
        .await
        .expect("the engine");
    assert_eq!(in_force.as_deref(), Some(better.as_str()));
    // And the server's sender writes the next email with it: the round's task emails go out.
    {
        let mut store = f.store();
        let transport =
            loggkoll::notify::Transport::from_url(&f.config().mail.url).expect("transport");
        let templates = app.mail_templates();
        let config = f.config();
        let sending =
            loggkoll::notify::sender::Sending::new(&config, &templates, &transport, "test");
        loggkoll::notify::sender::deliver(&mut store, &sending, at(NOW)).expect("delivered");
    }
    let sent: Vec<String> = std::fs::read_dir(&f.outbox)
        .expect("the outbox folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            std::fs::read_to_string(p)
                .expect("an email")
                .replace("=\r\n", "")
                .replace("=\n", "")
        })
        .collect();
    assert!(!sent.is_empty(), "the round's emails were sent");
    assert!(
        sent.iter().any(|m| m.contains("kvalitetsenheten!")),
        "a task email written with the published template"
    );
    // The history names it; a second edit from the old text is refused.
    let again = send(&app, get_with("/overview/mallar/task.txt", &quality)).await;
    assert!(again.body.contains("Vänligare hälsning"));
    let stale = send(&app, submit(&original, "publish", "Tillbaka")).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("publicerade en ny version"),
        "{}",
        stale.body
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), better);
    // A file edited on the server: the editor starts from it and says so, and publishing works.
    let on_server = format!("{better}\n-- \nKvalitetsenheten\n");
    std::fs::write(&file, &on_server).expect("edited on the server");
    let from_disk = send(&app, get_with("/overview/mallar/task.txt", &quality)).await;
    assert!(from_disk.body.contains("Filen på servern har ändrats"));
    assert_eq!(
        hidden(&from_disk.body, "base"),
        loggkoll::engine::workshop::hash_of(&on_server)
    );
    let r = send(
        &app,
        post(
            "/overview/mallar/task.txt",
            &[
                ("csrf", &csrf),
                ("text", &on_server),
                ("base", &hidden(&from_disk.body, "base")),
                ("action", "publish"),
                ("reason", "Signaturen från servern"),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let better = on_server;
    // A variable no email has: every such email would fail, so it is not published.
    let edit = send(&app, get_with("/overview/mallar/task.txt", &quality)).await;
    let misspelt = better.replacen("{{ recipient }}", "{{ recipent }}", 1);
    let r = send(
        &app,
        post(
            "/overview/mallar/task.txt",
            &[
                ("csrf", &csrf),
                ("text", &misspelt),
                ("base", &hidden(&edit.body, "base")),
                ("action", "publish"),
                ("reason", "Stavfel"),
            ],
            Some(&quality),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Mejlmallen kan inte skrivas ut"),
        "{}",
        r.body
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), better);
    // The list says which files were edited on the server behind loggkoll's back.
    const DRIFT: &str = "Filen på servern har ändrats utanför loggkoll.";
    let list = send(&app, get_with("/overview/mallar", &quality)).await;
    assert!(!list.body.contains(DRIFT), "{}", list.body);
    std::fs::write(&file, format!("{better}\n-- ändrad på servern\n")).expect("edited on disk");
    let list = send(&app, get_with("/overview/mallar", &quality)).await;
    assert_eq!(list.body.matches(DRIFT).count(), 1, "{}", list.body);
    // Only mail templates, by a plain name.
    for bad in [
        "/overview/mallar/..%2Fweb%2Fbase.html",
        "/overview/mallar/x.yaml",
    ] {
        let r = send(&app, get_with(bad, &quality)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[tokio::test]
async fn publishing_a_routine_that_drops_a_state_open_cases_are_in_needs_a_confirmation() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::editable(BASE);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let quality = login_as(&app, "kvalitet", "ett långt lösenord", [10, 0, 5, 1])
        .await
        .cookie("loggkoll_session");
    let file = f.routines.join("treserva-sampling.yaml");
    let original = std::fs::read_to_string(&file).expect("the routine");
    let open_in_review = f.count(
        "SELECT COUNT(*) FROM tasks t JOIN cases c ON c.id = t.case_id
         WHERE c.routine_id = 'treserva-sampling' AND t.state = 'review' AND t.answered_at IS NULL",
    );
    assert!(open_in_review > 0, "the round's cases wait in `review`");
    let renamed = original
        .replace("start: review", "start: granskning")
        .replace("\n  review:\n", "\n  granskning:\n");
    let edit = send(
        &app,
        get_with("/overview/routines/treserva-sampling/redigera", &quality),
    )
    .await;
    let (csrf, base) = (edit.csrf(), hidden(&edit.body, "base"));
    let publish = |confirm: &str| {
        post(
            "/overview/routines/treserva-sampling/redigera",
            &[
                ("csrf", &csrf),
                ("text", &renamed),
                ("base", &base),
                ("action", "publish"),
                ("reason", "Svenska namn på stegen"),
                ("confirm", confirm),
            ],
            Some(&quality),
        )
    };
    let asked = send(&app, publish("")).await;
    assert_eq!(asked.status, StatusCode::CONFLICT, "{}", asked.body);
    assert!(asked.body.contains("Bekräfta först"));
    assert!(
        asked
            .body
            .contains("Öppna ärenden står i ett steg som tas bort")
    );
    assert!(asked.body.contains("name=\"confirm\""));
    assert_eq!(std::fs::read_to_string(&file).expect("file"), original);
    let done = send(&app, publish("1")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(std::fs::read_to_string(&file).expect("file"), renamed);
    // The open cases stay on their version, in `review`, and can still be answered there.
    assert_eq!(
        f.count(
            "SELECT COUNT(*) FROM tasks t JOIN cases c ON c.id = t.case_id
             WHERE c.routine_id = 'treserva-sampling' AND t.state = 'review' AND t.answered_at IS NULL"
        ),
        open_in_review
    );
    let link = f.links("task").remove(0);
    let page = send(&app, get(&link.path)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn a_local_admin_cannot_sign_in_without_the_second_factor() {
    use loggkoll::store::web::WebRole;
    let f = Fixture::new(BASE);
    add_user_as(&f, "chef", WebRole::Admin);
    add_user_as(&f, "kvalitet", WebRole::Quality);
    let app = f.app();
    let addr = [10, 0, 6, 1];
    let password_step = |name: &'static str| {
        let app = app.clone();
        async move {
            let form = send_from(&app, get("/login"), addr).await;
            let cookie = form.cookie("loggkoll_login");
            send_from(
                &app,
                post(
                    "/login",
                    &[
                        ("name", name),
                        ("password", "ett långt lösenord"),
                        ("csrf", &form.csrf()),
                    ],
                    Some(&cookie),
                ),
                addr,
            )
            .await
        }
    };
    // The right password alone: no session, on to enrolment.
    let first = password_step("chef").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), "/login/aktivera");
    assert!(
        first.set_cookie("loggkoll_session").is_none(),
        "no session yet"
    );
    let pending = first.cookie("loggkoll_2fa");
    let page = send_from(&app, get_with("/login/aktivera", &pending), addr).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "a QR code");
    let secret: String = page
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the secret")
        .split_whitespace()
        .collect();
    let enrol = |code: String| {
        post(
            "/login/aktivera",
            &[("code", &code), ("csrf", &page.csrf())],
            Some(&pending),
        )
    };
    let wrong = send_from(&app, enrol("000000".into()), addr).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie("loggkoll_session").is_none());
    let now = app.wall.now();
    let enrolled = send_from(&app, enrol(totp_code(&secret, now)), addr).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
    let codes: Vec<String> = enrolled
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split('<').next().map(str::to_string))
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes");
    let session = enrolled.cookie("loggkoll_session");
    let overview = send(&app, get_with("/overview", &session)).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE event = 'web.second_factor_enabled'"),
        1
    );
    // The next login asks for a code; the step already used is refused, the next one taken.
    let again = password_step("chef").await;
    assert_eq!(again.location(), "/login/kod");
    let pending = again.cookie("loggkoll_2fa");
    let page = send_from(&app, get_with("/login/kod", &pending), addr).await;
    let code = |c: String| {
        post(
            "/login/kod",
            &[("code", &c), ("csrf", &page.csrf())],
            Some(&pending),
        )
    };
    let replayed = send_from(&app, code(totp_code(&secret, now)), addr).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
    let next = send_from(
        &app,
        code(totp_code(&secret, now + chrono::Duration::seconds(30))),
        addr,
    )
    .await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.body);
    assert!(next.set_cookie("loggkoll_session").is_some());
    // A recovery code works once.
    for (attempt, expected) in [(1, StatusCode::SEE_OTHER), (2, StatusCode::UNAUTHORIZED)] {
        let login = password_step("chef").await;
        let pending = login.cookie("loggkoll_2fa");
        let page = send_from(&app, get_with("/login/kod", &pending), addr).await;
        let r = send_from(
            &app,
            post(
                "/login/kod",
                &[("code", &codes[0].to_uppercase()), ("csrf", &page.csrf())],
                Some(&pending),
            ),
            addr,
        )
        .await;
        assert_eq!(r.status, expected, "recovery code, attempt {attempt}");
    }
    // Wrong codes are throttled like wrong passwords.
    let login = password_step("chef").await;
    let pending = login.cookie("loggkoll_2fa");
    let page = send_from(&app, get_with("/login/kod", &pending), addr).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = send_from(
            &app,
            post(
                "/login/kod",
                &[("code", "123456"), ("csrf", &page.csrf())],
                Some(&pending),
            ),
            addr,
        )
        .await;
        statuses.push(r.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // A pending login does not outlast its ten minutes.
    f.clock.set(now + chrono::Duration::minutes(11));
    let late = send_from(&app, get_with("/login/kod", &pending), addr).await;
    assert_eq!(late.status, StatusCode::SEE_OTHER);
    assert_eq!(late.location(), "/login");
    // Quality staff without one sign in with the password, and may enrol from their own page.
    let plain = password_step("kvalitet").await;
    assert_eq!(plain.location(), "/overview");
    let session = plain.cookie("loggkoll_session");
    let own = send(&app, get_with("/overview/tvafaktor", &session)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let secret = hidden(&own.body, "secret");
    let enrolled = send(
        &app,
        post(
            "/overview/tvafaktor",
            &[
                ("csrf", &own.csrf()),
                ("secret", &secret),
                ("sig", &hidden(&own.body, "sig")),
                ("code", &totp_code(&secret, app.wall.now())),
            ],
            Some(&session),
        ),
    )
    .await;
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
    assert!(enrolled.body.contains("Reservkoder") || enrolled.body.contains("reservkoderna"));
    assert_eq!(password_step("kvalitet").await.location(), "/login/kod");
    // A secret of the form's own, or a replacement without a code of the present one: refused.
    let own = send(&app, get_with("/overview/tvafaktor", &session)).await;
    let chosen = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    for (secret, sig, current) in [
        (
            chosen.to_string(),
            hidden(&own.body, "sig"),
            totp_code(&secret, app.wall.now() + chrono::Duration::seconds(30)),
        ),
        (
            hidden(&own.body, "secret"),
            hidden(&own.body, "sig"),
            "000000".to_string(),
        ),
    ] {
        let r = send(
            &app,
            post(
                "/overview/tvafaktor",
                &[
                    ("csrf", &own.csrf()),
                    ("secret", &secret),
                    ("sig", &sig),
                    ("current", &current),
                    ("code", &totp_code(&secret, app.wall.now())),
                ],
                Some(&session),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{secret}");
    }
}
