//! Issue 25: what people read agrees with itself. Every document and email of a demo year, and
//! the pages the server shows on it (the overview's, cases' and every emailed link's), are read
//! for a count of one followed by a plural noun ("1 dagar") and for an event code of the audit
//! trail (`case.reminded`) where a sentence belongs.

#[path = "support/mime.rs"]
mod mime;
mod support;
#[path = "support/words.rs"]
mod words;

use mime::Part;
use support::Test;
use words::problems;

fn texts_of(part: &Part, out: &mut Vec<String>) {
    let kind = part.mime_type();
    if kind.starts_with("multipart/") {
        for p in part.parts() {
            texts_of(&p, out);
        }
    } else if kind.starts_with("text/") && kind != "text/calendar" {
        out.push(part.text());
    }
}

#[test]
fn no_page_of_a_demo_year_says_1_with_a_plural_or_shows_an_event_code() {
    assert_eq!(problems("x", "1 dagar försenat"), ["x: \"1 dagar\""]);
    assert_eq!(problems("x", "<td>1 kunder</td>"), ["x: \"1 kunder\""]);
    assert_eq!(problems("x", "21 dagar, 1 dag"), Vec::<String>::new());
    assert_eq!(
        problems("x", "Händelse case.reminded"),
        ["x: event code `case.reminded`"]
    );
    assert!(problems("x", "se www.case.se och loggkoll.case").is_empty());

    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let run = Test::new()
        .args([
            "demo",
            "--dir",
            demo.to_str().expect("path"),
            "--users",
            "120",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut found = Vec::new();
    let mut read = 0;
    let mut stack = vec![demo.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("dir") {
                stack.push(entry.expect("entry").path());
            }
            continue;
        }
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).expect("file");
        let texts = match path.extension().and_then(|e| e.to_str()) {
            Some("html" | "txt" | "csv" | "json") => {
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            Some("eml") => {
                let mut t = Vec::new();
                texts_of(&Part::parse(&bytes), &mut t);
                t
            }
            _ => continue,
        };
        read += 1;
        for text in texts {
            found.extend(problems(&name, &text));
        }
    }
    assert!(read > 100, "only {read} files read");
    // The pages, as the server shows them at the year's end.
    let password = run
        .stdout
        .split("password `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the demo's password")
        .to_string();
    let pages = pages_of_the_demo(&demo.join("loggkoll.db"), &password);
    assert!(pages.len() > 40, "only {} pages read", pages.len());
    for (path, body) in &pages {
        found.extend(problems(path, body));
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The server's pages on the demo's database at noon on its last day (its clock fixed): the
/// overview's, every seventh case's, and the page behind every emailed link still open.
fn pages_of_the_demo(db: &std::path::Path, password: &str) -> Vec<(String, String)> {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, header};
    use loggkoll::clock::FixedClock;
    use loggkoll::web::{App, router};
    use tower::ServiceExt;

    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let now = chrono::DateTime::parse_from_rfc3339("2027-12-31T12:00:00+01:00")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let templates = loggkoll::templates::Library::load(&root.join("templates")).expect("templates");
    let routines = loggkoll::routine::loader::load_routines(
        &root.join("routines"),
        &loggkoll::routine::Context {
            templates: Some(&templates),
        },
    )
    .expect("routines");
    let store = loggkoll::store::Store::at(db).expect("the demo's database");
    let engine = loggkoll::engine::Engine::new(
        store,
        routines,
        templates,
        loggkoll::config::Config::default(),
        now,
    )
    .expect("engine");
    let app = std::sync::Arc::new(
        App::new(engine, std::sync::Arc::new(FixedClock::new(now))).expect("app"),
    );
    let conn = loggkoll::store::read_only(db).expect("db");
    let cases: Vec<String> = {
        let mut stmt = conn
            .inspect()
            .prepare("SELECT id FROM cases ORDER BY id")
            .expect("query");
        stmt.query_map((), |r| r.get::<String>(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let links: Vec<String> = {
        let mut stmt = conn
            .inspect()
            .prepare(
                "SELECT o.context FROM outbox o JOIN tasks t ON t.id = o.task_id
                 WHERE t.answered_at IS NULL AND o.purpose IN ('task', 'reminder', 'escalation')",
            )
            .expect("query");
        stmt.query_map((), |r| r.get::<String>(0))
            .expect("rows")
            .filter_map(|r| {
                let context: serde_json::Value = serde_json::from_str(&r.expect("row")).ok()?;
                let link = context["link"].as_str()?;
                Some(format!("/t/{}", link.split("/t/").nth(1)?))
            })
            .collect()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let send = |mut request: Request<Body>| {
            let app = app.clone();
            async move {
                request
                    .extensions_mut()
                    .insert(ConnectInfo(std::net::SocketAddr::from((
                        [127, 0, 0, 1],
                        40000,
                    ))));
                let response = router(app).oneshot(request).await.expect("a response");
                let status = response.status();
                let cookies: Vec<String> = response
                    .headers()
                    .get_all(header::SET_COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(|v| v.split(';').next().unwrap_or_default().to_string())
                    .collect();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("the body");
                (
                    status,
                    cookies,
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            }
        };
        let get = |path: &str, cookie: &str| {
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request")
        };
        let (_, cookies, form) = send(get("/login", "")).await;
        let login_cookie = cookies.first().cloned().unwrap_or_default();
        let marker = "name=\"csrf\" value=\"";
        let start = form.find(marker).expect("a csrf field") + marker.len();
        let csrf = &form[start..start + form[start..].find('"').expect("its end")];
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("name", "demo")
            .append_pair("password", password)
            .append_pair("csrf", csrf)
            .finish();
        let (status, cookies, _) = send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &login_cookie)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
        assert_eq!(status.as_u16(), 303, "the demo's login");
        let session = cookies
            .into_iter()
            .find(|c| c.starts_with("loggkoll_session="))
            .expect("a session");
        let mut paths: Vec<String> = [
            "/overview",
            "/overview/routines",
            "/overview/rounds",
            "/overview/cases",
            "/overview/overdue",
            "/overview/coverage",
            "/overview/needs",
            "/overview/radar",
            "/overview/emails",
            "/overview/logs",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        paths.extend(
            cases
                .iter()
                .step_by(7)
                .map(|c| format!("/overview/case/{c}")),
        );
        let mut out = Vec::new();
        for path in paths {
            let (status, _, body) = send(get(&path, &session)).await;
            assert_eq!(status.as_u16(), 200, "{path}");
            out.push((path, body));
        }
        for link in links {
            let (status, _, body) = send(get(&link, "")).await;
            assert!([200, 410].contains(&status.as_u16()), "{link}: {status}");
            out.push((link, body));
        }
        out
    })
}
