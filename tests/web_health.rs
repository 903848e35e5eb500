//! `/healthz` and the edges of issue 12 through the running server (scheduler and pages on
//! loopback): a tick that fails makes the server unhealthy, with the reason naming the database
//! file; a tick that works makes it healthy again. HSTS is sent when the links are https, and a
//! body over the limit gets 413.

#[path = "web_fixture/mod.rs"]
mod fixture;

use fixture::Fixture;
use loggkoll::notify::Transport;
use loggkoll::web::serve;
use std::time::{Duration, Instant};

async fn request(port: u16, head: &str, body: &[u8]) -> String {
    let (head, body) = (head.to_string(), body.to_vec());
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(head.as_bytes()).expect("request");
        // A server may answer before reading a body it refuses.
        let _ = stream.write_all(&body);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    })
    .await
    .expect("the request")
}

async fn get(port: u16, path: &str) -> String {
    request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await
}

/// Asks `/healthz` until its reply starts with `status`.
async fn health_becomes(port: u16, status: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = get(port, "/healthz").await;
        if reply.starts_with(status) {
            return reply;
        }
        assert!(Instant::now() < deadline, "never {status}: {reply}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tick_makes_healthz_answer_503_with_the_database_named() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let f = Fixture::new("https://loggkoll.example.se");
    let app = f.app();
    // Every tick now fails: the table of rounds is gone.
    f.store()
        .db()
        .inspect()
        .execute_batch("ALTER TABLE rounds RENAME TO rounds_away")
        .expect("rename");
    let transport = Transport::from_url(&f.config().mail.url).expect("the file transport");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, Some(transport), async {
        let _ = stopped.await;
    }));
    let reply = health_becomes(port, "HTTP/1.1 503").await;
    assert!(reply.contains("the last tick"), "{reply}");
    assert!(
        reply.contains(&format!("database `{}`", f.db.display())),
        "{reply}"
    );
    assert!(reply.contains("rounds"), "{reply}");
    // https links: HSTS on every answer.
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{reply}"
    );
    // A body over the limit: 413, nothing read.
    let body = vec![b'a'; 200 * 1024];
    let reply = request(
        port,
        &format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        &body,
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");

    // The table back: the next server's first tick works and the server is healthy.
    f.store()
        .db()
        .inspect()
        .execute_batch("ALTER TABLE rounds_away RENAME TO rounds")
        .expect("rename back");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let transport = Transport::from_url(&f.config().mail.url).expect("the file transport");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, f.app(), Some(transport), async {
        let _ = stopped.await;
    }));
    let reply = health_becomes(port, "HTTP/1.1 200").await;
    assert!(reply.ends_with("ok"), "{reply}");
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_http_sends_no_hsts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let f = Fixture::new("http://127.0.0.1:8080");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, f.app(), None, async {
        let _ = stopped.await;
    }));
    let reply = get(port, "/healthz").await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        !reply
            .to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{reply}"
    );
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_refuses_for_a_quarter_hour_makes_healthz_answer_503() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    // A port nothing listens on: every connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let mail_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let f = Fixture::new("https://loggkoll.example.se");
    assert!(f.count("SELECT COUNT(*) FROM outbox WHERE status = 'queued'") > 0);
    let app = f.app();
    let transport =
        Transport::from_url(&format!("smtp://127.0.0.1:{mail_port}")).expect("an smtp url");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app.clone(), Some(transport), async {
        let _ = stopped.await;
    }));
    // The first delivery is refused: retried, and still healthy.
    let deadline = Instant::now() + Duration::from_secs(30);
    while f.count("SELECT COUNT(*) FROM outbox WHERE attempts > 0") == 0 {
        assert!(Instant::now() < deadline, "no delivery was tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(get(port, "/healthz").await.starts_with("HTTP/1.1 200"));
    // Sixteen minutes on, nothing delivered: unhealthy, with the mail server's refusal.
    f.clock
        .set(fixture::at(fixture::NOW) + chrono::TimeDelta::minutes(16));
    let reply = health_becomes(port, "HTTP/1.1 503").await;
    assert!(
        reply.contains("no email could be delivered since"),
        "{reply}"
    );
    assert!(
        !reply.contains(&format!(":{mail_port}")),
        "the refusal stays in the log: {reply}"
    );
    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("a clean stop");
}
