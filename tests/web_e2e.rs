//! End to end in a real browser: the server runs (scheduler and web) on loopback, its first
//! tick delivers the round's emails as `.eml` files, and headless Chromium, driven over
//! WebDriver (chromedriver, fantoccini), opens the link read from an email's text part
//! (quoted-printable, decoded), answers on a phone-sized screen — first without the comment the
//! answer needs, then with it — and sees the next step and who has it. The database and the
//! next step's email confirm it. Screenshots of the pages go to `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `CHROMIUM` and `CHROMEDRIVER` naming
//! the programs). Without them the test prints a notice and passes, unless
//! `LOGGKOLL_REQUIRE_E2E=1` (as in CI), when it fails.

#[path = "web_fixture/mod.rs"]
mod fixture;
#[path = "support/mime.rs"]
mod mime;
#[path = "support/oidc.rs"]
mod oidc;

use base64::Engine as _;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use fixture::Fixture;
use hyper_util::client::legacy::connect::HttpConnector;
use loggkoll::notify::Transport;
use loggkoll::web::serve;
use mime::Part;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn program(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    path.is_file().then_some(path)
}

/// Chromium and chromedriver, or `None` (after saying so) when the test is to be skipped.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let found = (
        program("CHROMIUM", "/usr/bin/chromium"),
        program("CHROMEDRIVER", "/usr/bin/chromedriver"),
    );
    if let (Some(chromium), Some(driver)) = found {
        return Some((chromium, driver));
    }
    let notice = "headless Chromium or chromedriver is not installed \
                  (apt-get install -y chromium chromium-driver)";
    if std::env::var("LOGGKOLL_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("LOGGKOLL_REQUIRE_E2E=1 but {notice}");
    }
    eprintln!("skipping the browser test: {notice}");
    None
}

pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture::root().join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots folder");
    dir
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(program: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

/// The whole page as a PNG (not only what fits on the screen).
async fn full_page(client: &Client) -> Vec<u8> {
    let metrics = client
        .issue_cmd(Cdp {
            cmd: "Page.getLayoutMetrics",
            params: json!({}),
        })
        .await
        .expect("layout metrics");
    let size = &metrics["cssContentSize"];
    let shot = client
        .issue_cmd(Cdp {
            cmd: "Page.captureScreenshot",
            params: json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            }),
        })
        .await
        .expect("a screenshot");
    base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("image data"))
        .expect("base64")
}

async fn save(client: &Client, name: &str) {
    let dir = screenshots();
    let viewport = client.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), viewport).expect("write");
    let whole = full_page(client).await;
    std::fs::write(dir.join(format!("{name}-full.png")), whole).expect("write");
}

/// The `.eml` files in `dir`.
fn emails(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

/// The decoded `text/plain` part of a message.
fn plain_text(part: &Part) -> Option<String> {
    let kind = part.mime_type();
    if kind == "text/plain" {
        return Some(part.text());
    }
    if kind.starts_with("multipart/") {
        return part.parts().iter().find_map(plain_text);
    }
    None
}

/// Subject and plain text of every email in `dir`.
fn read_emails(dir: &Path) -> Vec<(String, String)> {
    emails(dir)
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).expect("the email");
            let message = Part::parse(&bytes);
            (
                message.decoded_header("Subject").unwrap_or_default(),
                plain_text(&message).expect("a text part"),
            )
        })
        .collect()
}

/// A browser session: a phone's screen (390 × 844 CSS pixels at twice the density) or a
/// desktop window.
async fn session(driver: &Driver, chromium: &Path, profile: &Path, phone: bool) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    // Downloads land in the test's output folder, without asking.
    let downloads = screenshots().join("downloads");
    std::fs::create_dir_all(&downloads).expect("the downloads folder");
    let mut options = json!({"binary": chromium, "prefs": {
        "download.default_directory": downloads,
        "download.prompt_for_download": false,
        "download.directory_upgrade": true,
    }});
    if phone {
        options["mobileEmulation"] =
            json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0}});
    } else {
        args.push("--window-size=1280,900".into());
    }
    options["args"] = json!(args);
    let Value::Object(capabilities) =
        json!({"browserName": "chrome", "goog:chromeOptions": options})
    else {
        unreachable!("a JSON object")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// The page in `client` is no wider than its window (a phone's 390 px).
async fn assert_no_sideways_scroll(client: &Client, page: &str) {
    let wide: Value = client
        .execute(
            "const w = window.innerWidth; \
             const over = [...document.querySelectorAll('body *')] \
               .filter(e => e.getBoundingClientRect().right > w + 1 && getComputedStyle(e).position !== 'absolute' \
                 && e.getBoundingClientRect().width > 0) \
               .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 30)); \
             return [document.documentElement.scrollWidth - w, over];",
            vec![],
        )
        .await
        .expect("a measure");
    assert_eq!(
        wide[0],
        json!(0),
        "{page} scrolls sideways at 390 px: {}",
        wide[1]
    );
    // Nor does a table scroll inside its frame, with columns out of view.
    assert_eq!(wide[1], json!([]), "{page}: out of view at 390 px");
}

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_answers_from_the_emailed_link_in_chromium() {
    let Some((chromium, driver_program)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let f = Fixture::new(&base);
    let app = f.app();
    let transport = Transport::from_url(&f.config().mail.url).expect("the file transport");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, Some(transport), async {
        let _ = stopped.await;
    }));

    // The scheduler's first tick delivers the round's emails.
    wait_for("the round's emails", || !emails(&f.outbox).is_empty()).await;
    // A review of someone other than its reviewer (in the synthetic roster, unit managers
    // have accounts too and may be drawn).
    let reviews_another = |subject: &str| {
        let case = subject
            .split_whitespace()
            .find(|w| w.starts_with("TRE-"))
            .unwrap_or_default()
            .trim_end_matches(':');
        f.count(&format!(
            "SELECT COUNT(*) FROM cases c JOIN tasks t ON t.case_id = c.id
             WHERE c.id = '{case}' AND t.assignee_id IS NOT c.subject_person_id"
        )) > 0
    };
    let (subject, text) = read_emails(&f.outbox)
        .into_iter()
        .filter(|(subject, _)| subject.contains("Granska loggen") && reviews_another(subject))
        .min()
        .expect("a task email");
    let link = text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(&format!("{base}/t/")))
        .expect("the link in the text part")
        .to_string();
    let case = subject
        .split_whitespace()
        .find(|w| w.starts_with("TRE-"))
        .expect("the case in the subject")
        .trim_end_matches(':')
        .to_string();
    let emails_before = emails(&f.outbox).len();

    let driver = Driver::start(&driver_program);
    let profile = tempfile::tempdir().expect("a profile folder");
    let client = session(&driver, &chromium, profile.path(), true).await;

    client.goto(&link).await.expect("the task page");
    // The first Tab reaches the link past the header to the content.
    client
        .find(Locator::Css("body"))
        .await
        .expect("the body")
        .send_keys(&Key::Tab.to_string())
        .await
        .expect("Tab");
    let first = client.active_element().await.expect("the focus");
    assert_eq!(first.text().await.expect("text"), "Hoppa till innehållet");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(h1.text().await.expect("text"), "Granska loggen");
    let lang = client
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang");
    assert_eq!(lang.as_deref(), Some("sv"));
    // Every control has its label, and the outcomes their legend.
    let legend = client
        .find(Locator::Css("fieldset > legend"))
        .await
        .expect("a legend");
    assert_eq!(legend.text().await.expect("text"), "Välj utfall");
    client
        .find(Locator::Css("label[for='comment']"))
        .await
        .expect("the comment's label");
    // Nothing is wider than the phone.
    assert_no_sideways_scroll(&client, "the task page").await;
    save(&client, "task-page").await;

    // The answer that needs a comment, without one: the form comes back with the message.
    client
        .find(Locator::Css("button[value='unclear']"))
        .await
        .expect("the outcome button")
        .click()
        .await
        .expect("a click");
    let alert = client
        .wait()
        .for_element(Locator::Css("[role='alert']"))
        .await
        .expect("the message");
    assert!(
        alert
            .text()
            .await
            .expect("text")
            .contains("kräver en kommentar"),
        "the message names the problem"
    );
    save(&client, "task-page-error").await;
    assert_eq!(f.case_state(&case).0, "review", "nothing changed");

    // With the keyboard: type the comment, Tab past the first outcome to the second, Enter.
    let comment = client
        .find(Locator::Id("comment"))
        .await
        .expect("the comment field");
    comment.click().await.expect("focus");
    comment
        .send_keys("Åtkomsterna gällde en kund på en annan enhet; medarbetaren kontaktas.")
        .await
        .expect("typing");
    let tab = Key::Tab.to_string();
    for _ in 0..2 {
        client
            .active_element()
            .await
            .expect("the focus")
            .send_keys(&tab)
            .await
            .expect("Tab");
    }
    let focused = client.active_element().await.expect("the focus");
    assert_eq!(
        focused.attr("value").await.expect("value").as_deref(),
        Some("unclear"),
        "Tab reaches the outcomes in order"
    );
    focused
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("Enter");
    let thanks = client
        .wait()
        .for_element(Locator::XPath("//h1[contains(., 'Tack')]"))
        .await
        .expect("the confirmation");
    assert_eq!(
        thanks.text().await.expect("text"),
        "Tack! Ditt svar är sparat"
    );
    let (state, answered) = f.case_state(&case);
    assert_eq!((state.as_str(), answered), ("contact_employee", 1));
    let (assignee, assignee_name): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT t.assignee_id, p.name FROM tasks t JOIN people p ON p.id = t.assignee_id
             WHERE t.case_id = ?1 AND t.answered_at IS NULL",
            [&case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the next step");
    let page = client.source().await.expect("the page");
    assert!(page.contains("Kontakta medarbetaren"), "{page}");
    assert!(page.contains(&assignee_name), "{page}");
    save(&client, "task-answered").await;

    // The answer woke the delivery: the next step's email is there within seconds.
    wait_for("the next step's email", || {
        emails(&f.outbox).len() > emails_before
    })
    .await;
    let next = read_emails(&f.outbox)
        .into_iter()
        .find(|(subject, _)| subject.contains(&case) && subject.contains("Kontakta medarbetaren"))
        .expect("the next step's email");
    assert!(next.1.contains(&format!("{base}/t/")), "{}", next.1);
    let recipient: String = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT recipient_id FROM outbox WHERE case_id = ?1 ORDER BY id DESC LIMIT 1",
            [&case],
            |r| r.get(0),
        )
        .expect("the email's row");
    assert_eq!(recipient, assignee);

    // The same link again: the answer, no form.
    client.goto(&link).await.expect("the link again");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(h1.text().await.expect("text"), "Steget är redan besvarat");

    // A link changed by one character.
    let last = if link.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{last}", &link[..link.len() - 1]);
    client.goto(&tampered).await.expect("the tampered link");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(h1.text().await.expect("text"), "Länken fungerar inte");
    save(&client, "link-tampered").await;

    client.close().await.expect("the session ends");
    drop(driver);
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_staff_log_in_and_read_the_overview_in_chromium() {
    let Some((chromium, driver_program)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let f = Fixture::new(&base);
    let hash = loggkoll::web::password::hash("ett långt lösenord").expect("a hash");
    loggkoll::store::web::add_user(
        f.store().db(),
        "kvalitet",
        &hash,
        loggkoll::store::web::WebRole::Quality,
        fixture::at(fixture::NOW),
    )
    .expect("an account");
    // A case closed with no finding, to be found from the overview.
    let closing = f.links("task").remove(1);
    f.engine(fixture::at(fixture::NOW))
        .answer(
            &loggkoll::engine::AnswerRequest::new(&closing.case, "no_finding", &closing.recipient)
                .comment(Some("Inget att anmärka.")),
            fixture::at(fixture::NOW),
        )
        .expect("the case closes");
    // Someone drawn, to open a targeted review of.
    let drawn = f.links("task").remove(2);
    let (drawn_name, drawn_id): (String, String) = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT p.name, p.id FROM cases c JOIN people p ON p.id = c.subject_person_id WHERE c.id = ?1",
            [&drawn.case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the drawn user");
    // Late January: some steps are overdue.
    f.clock.set(fixture::at("2027-01-25T10:00:00+01:00"));
    let app = f.app();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, None, async {
        let _ = stopped.await;
    }));
    let driver = Driver::start(&driver_program);
    let profile = tempfile::tempdir().expect("a profile folder");
    let client = session(&driver, &chromium, profile.path(), false).await;

    client
        .goto(&format!("{base}/overview"))
        .await
        .expect("the overview");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(
        h1.text().await.expect("text"),
        "Logga in",
        "sent to the login"
    );
    log_in(&client, &base, "kvalitet").await;
    let cookies = client.get_all_cookies().await.expect("cookies");
    let session_cookie = cookies
        .iter()
        .find(|c| c.name() == "loggkoll_session")
        .expect("the session cookie");
    assert_eq!(session_cookie.http_only(), Some(true));
    assert_eq!(session_cookie.secure(), Some(true));
    assert_eq!(
        session_cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict")
    );
    save(&client, "overview").await;
    for (path, heading, shot) in [
        ("/overview/routines", "Rutiner", "overview-routines"),
        ("/overview/coverage", "Täckning 2027", "overview-coverage"),
        (
            "/overview/needs",
            "Behovs- och riskanalys",
            "overview-needs",
        ),
        ("/overview/overdue", "Försenade ärenden", "overview-overdue"),
        ("/overview/cases", "Ärenden", "overview-cases"),
        ("/overview/rounds", "Omgångar", "overview-rounds"),
        (
            "/overview/emails",
            "Mejl som inte kom fram",
            "overview-emails",
        ),
    ] {
        client.goto(&format!("{base}{path}")).await.expect("a page");
        let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
        assert_eq!(h1.text().await.expect("text"), heading, "{path}");
        if matches!(path, "/overview/routines" | "/overview/coverage") {
            client
                .find(Locator::Css(".picture svg"))
                .await
                .expect("a picture");
            save(&client, shot).await;
        }
    }
    // The closed case: found by filtering the list, followed by its link.
    client
        .goto(&format!("{base}/overview/cases"))
        .await
        .expect("the cases");
    client
        .find(Locator::Css("#state option[value='closed']"))
        .await
        .expect("the option")
        .click()
        .await
        .expect("a choice");
    client
        .find(Locator::XPath("//button[. = 'Visa']"))
        .await
        .expect("the button")
        .click()
        .await
        .expect("a click");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .current_url()
        .await
        .expect("the address")
        .as_str()
        .contains("state=closed")
    {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the filtered list"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client
        .wait()
        .for_element(Locator::XPath(&format!("//a[. = '{}']", closing.case)))
        .await
        .expect("the closed case in the list")
        .click()
        .await
        .expect("a click");
    let heading = format!("Ärende {}", closing.case);
    client
        .wait()
        .for_element(Locator::XPath(&format!("//h1[. = '{heading}']")))
        .await
        .expect("the case page");
    let text = client
        .find(Locator::Css("main"))
        .await
        .expect("the page")
        .text()
        .await
        .expect("text");
    for said in [
        "Ingen anmärkning",
        "Inget att anmärka.",
        "Granskningsprotokoll",
        "Händelser",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    save(&client, "overview-case").await;
    // Its protocol opens in the browser, and saves as a file from "spara", with the session's
    // cookie.
    let href = client
        .find(Locator::XPath(
            "//a[. = 'HTML' and contains(@href, 'protokoll')]",
        ))
        .await
        .expect("the protocol link")
        .attr("href")
        .await
        .expect("the href")
        .expect("an href");
    assert!(href.ends_with("/protokoll.html"), "{href}");
    let file = screenshots()
        .join("downloads")
        .join(format!("granskningsprotokoll-{}.html", closing.case));
    let _ = std::fs::remove_file(&file);
    client
        .find(Locator::XPath(
            "//a[. = 'spara' and contains(@href, 'protokoll.html')]",
        ))
        .await
        .expect("the protocol's save link")
        .click()
        .await
        .expect("a click");
    wait_for("the downloaded protocol", || {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains("</html>"))
    })
    .await;
    let protocol = std::fs::read_to_string(&file).expect("the protocol");
    assert!(
        protocol.contains(&closing.case),
        "the protocol names its case"
    );
    client
        .goto(&format!("{base}{href}"))
        .await
        .expect("the protocol in the browser");
    let shown = client
        .find(Locator::Css("body"))
        .await
        .expect("the protocol's body")
        .text()
        .await
        .expect("text");
    assert!(shown.contains(&closing.case), "opened inline: {shown}");
    assert!(protocol.contains("Inget att anmärka."));

    // A targeted review started from the form waits at the verksamhetschef.
    client
        .goto(&format!("{base}/overview/start"))
        .await
        .expect("the start page");
    client
        .find(Locator::Id("t-user"))
        .await
        .expect("the user field")
        .send_keys(&drawn_name)
        .await
        .expect("typing");
    client
        .execute(
            "document.getElementById('t-from').value = '2026-12-01';
             document.getElementById('t-to').value = '2026-12-31';",
            vec![],
        )
        .await
        .expect("the period");
    client
        .find(Locator::Id("t-reason"))
        .await
        .expect("the reason field")
        .send_keys("Uppgift från en kund om en åtkomst.")
        .await
        .expect("typing");
    save(&client, "overview-start").await;
    client
        .find(Locator::XPath("//button[. = 'Öppna riktad kontroll']"))
        .await
        .expect("the button")
        .click()
        .await
        .expect("a click");
    // Either the new case's page, or the form again when the name fits several people.
    let deadline = Instant::now() + Duration::from_secs(30);
    let namesakes = loop {
        let url = client.current_url().await.expect("the address");
        if url.path().starts_with("/overview/case/") {
            break false;
        }
        if client.find(Locator::Css("p.error")).await.is_ok() {
            break true;
        }
        assert!(Instant::now() < deadline, "timed out waiting for the case");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if namesakes {
        // Namesakes: the page offers each; choose the one drawn.
        client
            .find(Locator::Css(&format!(
                "input[name='person'][value='{drawn_id}']"
            )))
            .await
            .expect("the choice")
            .click()
            .await
            .expect("a click");
        client
            .find(Locator::XPath("//button[. = 'Öppna riktad kontroll']"))
            .await
            .expect("the button")
            .click()
            .await
            .expect("a click");
    }
    client
        .wait()
        .for_element(Locator::XPath("//h1[starts-with(., 'Ärende RIK-')]"))
        .await
        .expect("the new case's page");
    let text = client
        .find(Locator::Css("main"))
        .await
        .expect("the page")
        .text()
        .await
        .expect("text");
    for said in [
        "Beslut om riktad kontroll",
        "Mejlat",
        "Ärendet är öppnat.",
        &drawn_name,
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    save(&client, "overview-targeted").await;
    let targeted_url = client.current_url().await.expect("the address").to_string();
    // The same pages on a phone: logged in anew, the case list and the new case.
    let phone_profile = tempfile::tempdir().expect("a profile folder");
    let phone = session(&driver, &chromium, phone_profile.path(), true).await;
    phone
        .goto(&format!("{base}/login"))
        .await
        .expect("the login");
    for (field, text) in [("name", "kvalitet"), ("password", "ett långt lösenord")] {
        phone
            .find(Locator::Id(field))
            .await
            .expect("a field")
            .send_keys(text)
            .await
            .expect("typing");
    }
    phone
        .find(Locator::Css("button[type='submit']"))
        .await
        .expect("the button")
        .click()
        .await
        .expect("a click");
    phone
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Översikt']"))
        .await
        .expect("the overview after login");
    // Every page of the overview reads at 390 px: nothing scrolls sideways.
    for (path, name) in [
        ("/overview", "overview"),
        ("/overview/routines", "routines"),
        ("/overview/rounds", "rounds"),
        ("/overview/cases", "cases"),
        ("/overview/start", "start"),
        ("/overview/overdue", "overdue"),
        ("/overview/coverage", "coverage"),
        ("/overview/needs", "needs"),
        ("/overview/radar", "radar"),
        ("/overview/logs", "logs"),
        ("/overview/emails", "emails"),
        ("/overview/summary", "summary"),
        ("/overview/watch", "watch"),
        ("/overview/roster", "roster"),
        ("/overview/roster?unit=EN0001", "roster-unit"),
        ("/overview/delegations", "delegations"),
    ] {
        phone
            .goto(&format!("{base}{path}"))
            .await
            .expect("the page");
        phone
            .wait()
            .for_element(Locator::Css("h1"))
            .await
            .expect("a heading");
        save(&phone, &format!("overview-{name}-phone")).await;
        assert_no_sideways_scroll(&phone, path).await;
    }
    // A routine's graph opens alone at its own size, to zoom in on (on the page it is shrunk to
    // the phone's width).
    phone
        .goto(&format!("{base}/overview/routines"))
        .await
        .expect("the routines");
    phone
        .find(Locator::LinkText("Öppna grafen i full storlek"))
        .await
        .expect("a link to the graph alone")
        .click()
        .await
        .expect("followed");
    let own: Value = phone
        .execute(
            "const s = document.querySelector('svg'); \
             return [s.getBoundingClientRect().width, Number(s.getAttribute('width'))];",
            vec![],
        )
        .await
        .expect("the graph's sizes");
    assert!(
        own[1].as_f64().is_some_and(|w| w > 0.0),
        "the graph alone: {own}"
    );
    phone.goto(&targeted_url).await.expect("the case");
    save(&phone, "overview-case-phone").await;
    assert_no_sideways_scroll(&phone, "the case page").await;
    phone.close().await.expect("the phone session ends");
    let waiting: i64 = f
        .store()
        .db()
        .inspect()
        .query_row(
            "SELECT COUNT(*) FROM cases WHERE kind = 'targeted' AND state = 'decision'
             AND subject_person_id = ?1 AND opened_by = 'web:kvalitet'",
            [&drawn_id],
            |r| r.get(0),
        )
        .expect("a count");
    assert_eq!(waiting, 1, "it waits at the verksamhetschef's decision");

    client
        .find(Locator::XPath("//button[. = 'Logga ut']"))
        .await
        .expect("the logout button")
        .click()
        .await
        .expect("a click");
    client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Logga in']"))
        .await
        .expect("the login page after logout");
    client
        .goto(&format!("{base}/overview"))
        .await
        .expect("the overview");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(
        h1.text().await.expect("text"),
        "Logga in",
        "the session has ended"
    );

    client.close().await.expect("the session ends");
    drop(driver);
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

/// Issue 27: on a phone, a manager's task page opens with the counts and the first flagged
/// access within the first screen (844 px), and after a verdict the next access to judge is in
/// view with the saved notice beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_phone_shows_the_first_flagged_access_on_the_first_screen() {
    let Some((chromium, driver_program)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let f = Fixture::new(&base);
    let case = f.with_log();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, f.app(), None, async {
        let _ = stopped.await;
    }));
    let driver = Driver::start(&driver_program);
    let profile = tempfile::tempdir().expect("a profile folder");
    let phone = session(&driver, &chromium, profile.path(), true).await;
    phone
        .goto(&format!("{base}{}", case.path))
        .await
        .expect("the task page");
    let top: Value = phone
        .execute(
            "const a = document.querySelector('li.flagged'); \
             return a ? a.getBoundingClientRect().top + window.scrollY : -1;",
            vec![],
        )
        .await
        .expect("a measure");
    let top = top.as_f64().expect("a number");
    assert!(top >= 0.0, "no flagged access on the page");
    assert!(top < 844.0, "the first flagged access starts {top} px down");
    save(&phone, "task-page-evidence-phone").await;
    assert_no_sideways_scroll(&phone, "the task page").await;
    // Judged: the page comes back at the next access to judge (or the way to the answer),
    // with the notice beside it, in view.
    phone
        .find(Locator::Css("#nasta button[value='justified']"))
        .await
        .expect("the first access's verdict")
        .click()
        .await
        .expect("a click");
    let notice = phone
        .wait()
        .for_element(Locator::Css("#nasta [role='status']"))
        .await
        .expect("the notice beside the next access");
    assert!(
        notice
            .text()
            .await
            .expect("text")
            .starts_with("Bedömningen är sparad.")
    );
    let seen: Value = phone
        .execute(
            "const r = document.querySelector('#nasta [role=status]').getBoundingClientRect(); \
             return [r.top, r.bottom, window.innerHeight];",
            vec![],
        )
        .await
        .expect("a measure");
    let (top, bottom, height) = (
        seen[0].as_f64().unwrap_or(-1.0),
        seen[1].as_f64().unwrap_or(-1.0),
        seen[2].as_f64().unwrap_or(0.0),
    );
    assert!(
        top >= -2.0 && bottom <= height,
        "the notice beside the next access is out of view: {seen}"
    );
    save(&phone, "task-page-judged-phone").await;
    phone.close().await.expect("the session ends");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

/// Logs in as `name` in `client` at `base`, and waits for the overview.
async fn log_in(client: &Client, base: &str, name: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the login");
    client
        .find(Locator::Id("name"))
        .await
        .expect("the name field")
        .send_keys(name)
        .await
        .expect("typing");
    client
        .find(Locator::Id("password"))
        .await
        .expect("the password field")
        .send_keys("ett långt lösenord")
        .await
        .expect("typing");
    client
        .find(Locator::Css("button[type='submit']"))
        .await
        .expect("the button")
        .click()
        .await
        .expect("a click");
    client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Översikt']"))
        .await
        .expect("the overview after login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_staff_edit_check_and_publish_a_routine_that_the_next_round_follows_in_chromium() {
    let Some((chromium, driver_program)) = browser() else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let f = Fixture::editable(&base);
    let hash = loggkoll::web::password::hash("ett långt lösenord").expect("a hash");
    loggkoll::store::web::add_user(
        f.store().db(),
        "kvalitet",
        &hash,
        loggkoll::store::web::WebRole::Quality,
        fixture::at(fixture::NOW),
    )
    .expect("an account");
    let mut app = f.unshared_app();
    // The scheduler ticks every second rather than every minute: the test moves the clock.
    app.tick_every = Duration::from_secs(1);
    // Sessions last real time, as under `serve --now`: the month the clock jumps keeps them.
    app.wall = std::sync::Arc::new(loggkoll::clock::SystemClock);
    let transport = Transport::from_url(&f.config().mail.url).expect("the file transport");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        std::sync::Arc::new(app),
        Some(transport),
        async {
            let _ = stopped.await;
        },
    ));
    let driver = Driver::start(&driver_program);
    let profile = tempfile::tempdir().expect("a profile folder");
    let phone = session(&driver, &chromium, profile.path(), true).await;
    log_in(&phone, &base, "kvalitet").await;

    // From the list of routines to the routine, to its editor.
    phone
        .goto(&format!("{base}/overview/routines"))
        .await
        .expect("the routines");
    phone
        .find(Locator::Css(
            "a[href='/overview/routines/treserva-sampling']",
        ))
        .await
        .expect("the routine's link")
        .click()
        .await
        .expect("a click");
    phone
        .wait()
        .for_element(Locator::XPath("//h2[. = 'Versioner']"))
        .await
        .expect("the routine's page");
    assert_no_sideways_scroll(&phone, "the routine's page").await;
    phone
        .find(Locator::XPath("//a[. = 'Redigera rutinen']"))
        .await
        .expect("the edit link")
        .click()
        .await
        .expect("a click");
    let textarea = phone
        .wait()
        .for_element(Locator::Id("text"))
        .await
        .expect("the editor");
    let text = textarea
        .prop("value")
        .await
        .expect("its value")
        .expect("a text");
    // The deadline lengthened, and a state misspelt on the way.
    let longer = text.replace("deadline: 10 working days", "deadline: 15 working days");
    assert_ne!(longer, text, "the review's deadline is in the text");
    let typo_line = longer
        .lines()
        .position(|l| l.trim() == "to: closed_no_finding")
        .expect("the transition")
        + 1;
    let typo = longer.replacen("to: closed_no_finding", "to: closed_no_findng", 1);
    let set_text = |value: String| {
        let phone = phone.clone();
        async move {
            phone
                .execute(
                    "document.getElementById('text').value = arguments[0];",
                    vec![json!(value)],
                )
                .await
                .expect("the text set");
        }
    };
    set_text(typo).await;
    phone
        .find(Locator::XPath("//button[. = 'Kontrollera']"))
        .await
        .expect("the check button")
        .click()
        .await
        .expect("a click");
    let said = format!("Fel på rad {typo_line}, kolumn");
    let diagnostic = phone
        .wait()
        .for_element(Locator::XPath(&format!(
            "//div[contains(@class, 'diagnostic')][contains(., '{said}')]"
        )))
        .await
        .expect("the error at its line");
    let words = diagnostic.text().await.expect("text");
    assert!(words.contains("Menade du `closed_no_finding`?"), "{words}");
    assert_no_sideways_scroll(&phone, "the editor with an error").await;
    save(&phone, "routine-editor-error-phone").await;

    // Fixed, given a reason, published.
    set_text(longer.clone()).await;
    phone
        .find(Locator::Id("reason"))
        .await
        .expect("the reason field")
        .send_keys("Längre svarstid under semestern")
        .await
        .expect("typing");
    phone
        .find(Locator::XPath("//button[. = 'Publicera']"))
        .await
        .expect("the publish button")
        .click()
        .await
        .expect("a click");
    phone
        .wait()
        .for_element(Locator::XPath("//p[contains(., 'Rutinen är publicerad')]"))
        .await
        .expect("published");
    save(&phone, "routine-published-phone").await;
    assert_eq!(
        std::fs::read_to_string(f.routines.join("treserva-sampling.yaml")).expect("the file"),
        longer
    );

    // February's round, on the same server: its reviews have fifteen working days.
    f.clock.set(fixture::at("2027-02-01T08:05:00+01:00"));
    let published = loggkoll::engine::workshop::hash_of(&longer);
    let count = format!("SELECT COUNT(*) FROM cases WHERE routine_hash = '{published}'");
    wait_for("February's round", || f.count(&count) > 0).await;
    phone
        .goto(&format!(
            "{base}/overview/cases?routine=treserva-sampling&state=open"
        ))
        .await
        .expect("the open cases");
    let list = phone
        .find(Locator::Css("main"))
        .await
        .expect("the page")
        .text()
        .await
        .expect("text");
    assert!(
        list.contains("22 februari 2027"),
        "February's reviews are due on the 22nd: {list}"
    );
    assert!(
        !list.contains("15 februari 2027"),
        "none on the old deadline: {list}"
    );
    save(&phone, "routine-next-round-phone").await;
    phone.close().await.expect("the session ends");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

/// From loggkoll's login page at `base` through the test provider's, as `who` (with the second
/// factor box ticked when `mfa`).
async fn sign_in_at_provider(client: &Client, base: &str, who: &str, mfa: bool) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the login page");
    client
        .find(Locator::XPath("//a[. = 'Logga in med kommunens konto']"))
        .await
        .expect("the provider's button")
        .click()
        .await
        .expect("a click");
    client
        .wait()
        .for_element(Locator::Id("login"))
        .await
        .expect("the provider's login page")
        .send_keys(who)
        .await
        .expect("typing");
    if mfa {
        client
            .find(Locator::Id("mfa"))
            .await
            .expect("the second factor box")
            .click()
            .await
            .expect("a click");
    }
    client
        .find(Locator::Id("sign-in"))
        .await
        .expect("the provider's button")
        .click()
        .await
        .expect("a click");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_through_the_organisations_provider_in_chromium() {
    let Some((chromium, driver_program)) = browser() else {
        return;
    };
    if !oidc::available() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let provider = oidc::start("provider.mjs", &base);
    let f = Fixture::new(&base);
    let mut config = f.config();
    config.oidc = Some(oidc::config(&provider.issuer));
    let engine = f.engine_with(config, fixture::at(fixture::NOW));
    let mut app = loggkoll::web::App::new(engine, f.clock.clone()).expect("app");
    app.wall = std::sync::Arc::new(loggkoll::clock::SystemClock);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, std::sync::Arc::new(app), None, async {
        let _ = stopped.await;
    }));
    let driver = Driver::start(&driver_program);
    let profile = tempfile::tempdir().expect("a profile folder");
    let client = session(&driver, &chromium, profile.path(), true).await;
    // Anna's groups give `quality`: back from the provider, on the overview, signed in.
    sign_in_at_provider(&client, &base, "anna", true).await;
    client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Översikt']"))
        .await
        .expect("the overview after signing in at the provider");
    let who = client
        .find(Locator::Css(".who a"))
        .await
        .expect("the account")
        .text()
        .await
        .expect("text");
    assert_eq!(who, "anna");
    save(&client, "oidc-signed-in-phone").await;
    client
        .goto(&format!("{base}/overview/audit"))
        .await
        .expect("the audit trail");
    let h1 = client.find(Locator::Css("h1")).await.expect("a heading");
    assert_eq!(h1.text().await.expect("text"), "Händelselogg");
    // Logging out goes through the provider's end of the session.
    client
        .find(Locator::XPath("//button[. = 'Logga ut']"))
        .await
        .expect("the logout button")
        .click()
        .await
        .expect("a click");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = client.current_url().await.expect("the address").to_string();
        if url.starts_with(&provider.issuer) || url.starts_with(&format!("{base}/login")) {
            break;
        }
        assert!(Instant::now() < deadline, "still at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        f.count("SELECT COUNT(*) FROM web_sessions WHERE user_name = 'anna'"),
        0
    );
    // Nils's groups give no role: refused, in Swedish (in a browser of his own: the provider
    // still knows Anna in this one until she confirms its logout).
    client.close().await.expect("the session ends");
    let profile = tempfile::tempdir().expect("a profile folder");
    let client = session(&driver, &chromium, profile.path(), true).await;
    sign_in_at_provider(&client, &base, "nils", false).await;
    client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Inloggningen gick inte']"))
        .await
        .expect("the refusal");
    save(&client, "oidc-refused-phone").await;
    client.close().await.expect("the session ends");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}
