//! The web layer under load, printed as figures (nothing asserts on time): a server on loopback
//! (its own tokio runtime) and a load generator (a hyper client on another runtime) with 100
//! concurrent clients, each request timed from send to the last byte of the body:
//! - `GET /t/{token}`: the task page of an open step, spread over thousands of tasks;
//! - `POST /t/{token}`: answers, each to a fresh open step (one durable transaction each);
//! - the task page again while the engine runs a large tick (a round for 25,000 users), to show
//!   that pages read beside the writer rather than behind it.
//!
//! The organisation is the synthetic one of 25,000 users in 400 units, after three monthly
//! rounds with nothing answered. `cargo bench --bench web` (add `-- --quick` for fewer requests).

use chrono::{DateTime, Duration as Days, Utc};
use http_body_util::Full;
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use loggkoll::clock::FixedClock;
use loggkoll::config::Config;
use loggkoll::engine::Engine;
use loggkoll::links::{self, Claims};
use loggkoll::routine::{Context, loader};
use loggkoll::simulate::org;
use loggkoll::store::Store;
use loggkoll::templates::Library;
use loggkoll::web::csrf::{self, Purpose};
use loggkoll::web::{App, serve};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 100;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn engine(db: &Path, now: DateTime<Utc>) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = Library::load(&root.join("templates")).expect("templates");
    let routines = loader::load_routines(
        &root.join("routines"),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("routines");
    Engine::new(
        Store::open(db).expect("store"),
        routines,
        templates,
        Config::default(),
        now,
    )
    .expect("engine")
}

/// Open review steps: (task, assignee).
fn open_reviews(engine: &Engine) -> Vec<(i64, String)> {
    let mut stmt = engine
        .store
        .db()
        .inspect()
        .prepare(
            "SELECT id, assignee_id FROM tasks
             WHERE answered_at IS NULL AND assignee_id IS NOT NULL AND state = 'review' ORDER BY id",
        )
        .expect("query");
    stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

struct Figures {
    count: usize,
    errors: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Figures {
    fn print(&self, what: &str) {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let pick = |q: f64| {
            sorted
                .get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0
        };
        println!(
            "{what}, {CLIENTS} clients: {} requests in {:.2} s = {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{} (target p99 < 50 ms)",
            self.count,
            self.seconds,
            self.count as f64 / self.seconds,
            pick(0.50),
            pick(0.99),
            pick(1.0),
            if self.errors > 0 {
                format!(", {} unexpected answers", self.errors)
            } else {
                String::new()
            }
        );
    }
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// `total` requests made by `CLIENTS` concurrent workers; `make(i)` builds request `i`, and a
/// reply with another status than `expect` counts as an error.
async fn load(
    client: &HttpClient,
    total: usize,
    expect: u16,
    make: Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>,
) -> Figures {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (client, next, make) = (client.clone(), next.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t0 = Instant::now();
                match client.request(make(i)).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = http_body_util::BodyExt::collect(response.into_body()).await;
                        if status != expect || body.is_err() {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
                latencies.push(t0.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut figures = Figures {
        count: total,
        errors: 0,
        seconds: 0.0,
        latencies: Vec::with_capacity(total),
    };
    for w in workers {
        let (latencies, errors) = w.await.expect("a worker");
        figures.latencies.extend(latencies);
        figures.errors += errors;
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("web.db");
    let (users, units) = (25_000, 400);

    // Three monthly rounds, nothing answered.
    let t0 = Instant::now();
    let mut e = engine(&db, at("2026-12-15T09:00:00+01:00"));
    e.store.relax_durability().expect("pragma");
    let roster = org::synthetic(users, units, 1);
    loggkoll::engine::import_roster(
        &mut e.store,
        &roster,
        "u",
        "p",
        "bench",
        at("2026-12-15T09:00:00+01:00"),
    )
    .expect("roster");
    for month in ["2027-01-01", "2027-02-01", "2027-03-01"] {
        e.tick(at(&format!("{month}T08:00:00+01:00")))
            .expect("tick");
    }
    let open = open_reviews(&e);
    drop(e);
    println!(
        "setup: {users} users in {units} units, 3 rounds, {} open review steps ({:.1} s)",
        open.len(),
        t0.elapsed().as_secs_f64()
    );

    let now = at("2027-03-05T10:00:00+01:00");
    let clock = Arc::new(FixedClock::new(now));
    let app = Arc::new(App::new(engine(&db, now), clock).expect("app"));
    let secret = app.secret().to_vec();
    let expires = now + Days::days(60);
    let tokens: Arc<Vec<String>> = Arc::new(
        open.iter()
            .map(|(task, person)| {
                links::sign(
                    &secret,
                    &Claims {
                        task_id: *task,
                        person_id: person.clone(),
                        expires,
                        read_only: false,
                        generation: 0,
                    },
                )
            })
            .collect(),
    );

    // The server, on a runtime of its own.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = server_runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_runtime.spawn(serve(listener, app.clone(), None, async {
        let _ = stopped.await;
    }));

    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    client_runtime.block_on(async {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(CLIENTS)
            .build(connector);
        let base = format!("http://127.0.0.1:{port}");

        let page = {
            let (base, tokens) = (base.clone(), tokens.clone());
            Arc::new(move |i: usize| {
                Request::get(format!("{base}/t/{}", tokens[(i * 7919) % tokens.len()]))
                    .body(Full::new(Bytes::new()))
                    .expect("request")
            }) as Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>
        };
        // Warm-up: connections, statement caches, the organisation.
        load(&client, 2_000, 200, page.clone()).await;
        let gets = if quick { 5_000 } else { 30_000 };
        load(&client, gets, 200, page.clone())
            .await
            .print("task page GET /t/{token}");

        // Answers: each to its own open step, half of the open steps.
        let answers = if quick { 1_000 } else { tokens.len() / 2 };
        let answer = {
            let (base, tokens, secret) = (base.clone(), tokens.clone(), secret.clone());
            Arc::new(move |i: usize| {
                let token = &tokens[i];
                let csrf = csrf::token(&secret, Purpose::Task, token);
                Request::post(format!("{base}/t/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Full::new(Bytes::from(format!(
                        "csrf={csrf}&outcome=no_finding&comment=Granskat"
                    ))))
                    .expect("request")
            }) as Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>
        };
        load(&client, answers, 303, answer)
            .await
            .print("answer POST /t/{token} (durable; answers arriving together commit together)");

        // Pages while the engine runs April's round (the unanswered half stays open).
        let tick_app = app.clone();
        let tick = tokio::spawn(async move {
            let t0 = Instant::now();
            let report = tick_app
                .with_engine(|e| e.tick(at("2027-04-01T08:00:00+01:00")))
                .await
                .expect("tick");
            (t0.elapsed().as_secs_f64(), report)
        });
        // Only steps left open: the second half of the tokens.
        let rest = {
            let (base, tokens) = (base.clone(), tokens.clone());
            let from = answers;
            Arc::new(move |i: usize| {
                let span = tokens.len() - from;
                Request::get(format!("{base}/t/{}", tokens[from + (i * 7919) % span]))
                    .body(Full::new(Bytes::new()))
                    .expect("request")
            }) as Arc<dyn Fn(usize) -> Request<Full<Bytes>> + Send + Sync>
        };
        let mut during = Figures {
            count: 0,
            errors: 0,
            seconds: 0.0,
            latencies: Vec::new(),
        };
        let started = Instant::now();
        while !tick.is_finished() {
            let f = load(&client, 1_000, 200, rest.clone()).await;
            during.count += f.count;
            during.errors += f.errors;
            during.latencies.extend(f.latencies);
        }
        during.seconds = started.elapsed().as_secs_f64();
        let (tick_seconds, report) = tick.await.expect("the tick");
        during.print(&format!(
            "task page GET during a tick ({} round{}, {:.2} s)",
            report.rounds.len(),
            if report.rounds.len() == 1 { "" } else { "s" },
            tick_seconds
        ));
    });
    let _ = stop.send(());
    let _ = server_runtime.block_on(server);
}
