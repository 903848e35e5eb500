//! The server: the router, the scheduler beside it, and a clean shutdown.
//!
//! The scheduler ticks once a minute on the server's clock — everything due, as `loggkoll tick`
//! — and then delivers the outbox as `tick` does, on a connection of its own, so a slow mail
//! server holds up neither answers nor pages. An answer wakes the delivery at once, so the next
//! step's email goes out within seconds.
//!
//! On shutdown the server stops accepting, lets requests in flight finish (up to a grace
//! period), stops the scheduler after its current tick and the email in hand (the rest of the
//! outbox stays queued; an email a slow server holds past `SENDER_GRACE` is left too), and
//! returns only when the engine's running transaction has finished.

use super::{
    App, accounts, audit, auth, cases, headers, health, oidc, overview, page, registers,
    second_factor, summary, task, workshop,
};
use crate::notify::Transport;
use crate::notify::sender::{self, Delivery};
use crate::store::Store;
use crate::{Error, Result};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The largest request body read (an answer with a long comment fits many times over).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;
/// How often the scheduler ticks.
pub(crate) const TICK_EVERY: Duration = Duration::from_secs(60);
/// How long requests in flight may take to finish after a shutdown signal.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// How long the scheduler may take to stop after a shutdown signal: the sender stops before its
/// next email, but one email to a slow SMTP server may take minutes. After this the email in
/// hand is left (it stays queued, and goes again with the same Message-ID). Together with the
/// engine's transaction in progress this keeps a stop within systemd's 20 seconds.
pub(crate) const SENDER_GRACE: Duration = Duration::from_secs(12);

/// Every route of the web layer.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { page::redirect("/overview") }))
        .route("/t/{token}", get(task::show).post(task::answer))
        .route("/t/{token}/judge", post(task::judge))
        .route("/t/{token}/decide", post(task::decide))
        .route("/t/{token}/inform", post(task::inform))
        .route("/t/{token}/guide", get(task::guide))
        .route("/t/{token}/doc/{file}", get(task::document))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/login/oidc", get(oidc::start))
        .route(
            "/login/kod",
            get(second_factor::code_form).post(second_factor::code),
        )
        .route(
            "/login/aktivera",
            get(second_factor::enrol_form).post(second_factor::enrol),
        )
        .route(
            "/overview/tvafaktor",
            get(second_factor::own_page).post(second_factor::own_enrol),
        )
        .route("/login/oidc/callback", get(oidc::callback))
        .route("/overview", get(overview::home))
        .route("/overview/routines", get(overview::routines))
        .route(
            "/overview/routines/ny",
            get(workshop::new_page).post(workshop::new_post),
        )
        .route("/overview/routines/kopia", post(workshop::copy_post))
        .route("/overview/routines/{id}", get(workshop::routine_page))
        .route("/overview/mallar", get(workshop::templates_page))
        .route(
            "/overview/mallar/{name}",
            get(workshop::template_page).post(workshop::template_post),
        )
        .route("/overview/routines/{id}/jamfor", get(workshop::diff_page))
        .route("/overview/routines/{id}/graf.svg", get(workshop::graph))
        .route(
            "/overview/routines/{id}/redigera",
            get(workshop::edit_page).post(workshop::edit_post),
        )
        .route("/overview/rounds", get(overview::rounds_page))
        .route("/overview/cases", get(cases::list))
        .route("/overview/cases/{file}", get(cases::export))
        .route("/overview/case/{id}", get(cases::case_page))
        .route(
            "/overview/case/{id}/{file}",
            get(cases::document).post(cases::act),
        )
        .route("/overview/start", get(cases::start_page).post(cases::start))
        .route(
            "/overview/accounts",
            get(accounts::list).post(accounts::change),
        )
        .route("/overview/overdue", get(overview::overdue))
        .route("/overview/coverage", get(overview::coverage))
        .route("/overview/needs", get(overview::needs))
        .route("/overview/radar", get(overview::radar))
        .route("/overview/emails", get(overview::emails))
        .route("/overview/logs", get(overview::logs))
        .route("/overview/summary", get(summary::page))
        .route(
            "/overview/watch",
            get(registers::watch_page).post(registers::watch_change),
        )
        .route("/overview/roster", get(registers::roster_page))
        .route("/overview/audit", get(audit::page))
        .route(
            "/overview/delegations",
            get(registers::delegations_page).post(registers::delegations_change),
        )
        .route("/overview/summary/{year}/{file}", get(summary::document))
        .route("/static/style.css", get(style))
        .route("/healthz", get(health::healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            headers::Policy::for_base_url(&app.views.config().base_url),
            headers::security,
        ))
        .with_state(app)
}

async fn style(State(app): State<Arc<App>>) -> Response {
    let mut response = app.css.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn not_found(State(app): State<Arc<App>>) -> Response {
    let mut response = page::not_found(&app);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// One tick at the clock's now, as `loggkoll tick` does it.
async fn tick(app: &Arc<App>) {
    let now = app.clock.now();
    match app.with_engine(move |engine| engine.tick(now)).await {
        Ok(report) => {
            for line in report.inbox.lines() {
                eprintln!("{}", crate::error::terminal_safe(&line));
            }
            for r in &report.rounds {
                eprintln!(
                    "round {} of {} ({}): {} drawn of {}",
                    r.round_id, r.routine, r.occurrence, r.drawn, r.population
                );
            }
            if report.reminders + report.escalations > 0 {
                eprintln!(
                    "tick {}: {} reminders, {} escalations",
                    report.now, report.reminders, report.escalations
                );
            }
        }
        Err(err) => {
            let err = err.naming_database(app.db_path());
            eprintln!("tick: {err}");
            app.health(|h| h.ticked(app.wall.now(), Some(err.message)));
            return;
        }
    }
    app.health(|h| h.ticked(app.wall.now(), None));
}

/// The outbox delivered on the sender's own connection, as `loggkoll tick` does it.
async fn deliver(app: &Arc<App>, store: &Arc<std::sync::Mutex<Store>>, transport: &Arc<Transport>) {
    let name = transport.describe();
    let sender = (app.clone(), store.clone(), transport.clone());
    let done = tokio::task::spawn_blocking(move || -> Result<Delivery> {
        let (app, store, transport) = sender;
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        let now = app.clock.now();
        let templates = app.mail_templates();
        let sending =
            sender::Sending::new(app.views.config(), &templates, &transport, &app.install);
        sender::deliver_until(&mut store, &sending, now, &app.stopping)
            .map_err(|e| e.naming_database(app.db_path()))
    })
    .await;
    let failed = match &done {
        Ok(Err(err)) => Err(err.message.clone()),
        Err(err) => Err(err.to_string()),
        Ok(Ok(d)) => Ok(d),
    };
    app.health(|h| h.delivered(app.wall.now(), failed));
    match done {
        Ok(Ok(d)) if d.did_anything() => eprintln!("emails via {name}: {d}"),
        Ok(Ok(_)) => {}
        Ok(Err(err)) => eprintln!("emails: {err}"),
        Err(err) => eprintln!("emails: {err}"),
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Ticks every minute and delivers the outbox, until `stop` says so.
async fn scheduler(app: Arc<App>, transport: Transport, mut stop: watch::Receiver<bool>) {
    // Opened on a blocking thread, as every use of it is (a PostgreSQL client blocks).
    let path = app.db_path().to_path_buf();
    let opened = tokio::task::spawn_blocking(move || Store::at(&path))
        .await
        .unwrap_or_else(|e| Err(crate::Error::runtime(e.to_string())));
    let store = match opened {
        Ok(s) => Arc::new(std::sync::Mutex::new(s)),
        Err(err) => {
            let err = err.naming_database(app.db_path());
            eprintln!("scheduler: {err}");
            // No tick will run: `/healthz` says why.
            app.health(|h| h.ticked(app.wall.now(), Some(err.message)));
            return;
        }
    };
    let transport = Arc::new(transport);
    app.health(|h| h.scheduler_started(app.wall.now()));
    let mut interval = tokio::time::interval(app.tick_every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            _ = interval.tick() => {
                tick(&app).await;
                deliver(&app, &store, &transport).await;
            }
            _ = app.kick.notified() => deliver(&app, &store, &transport).await,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, with the scheduler beside it when a
/// mail `transport` is given (tests may run the pages alone). Returns after a clean stop.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    transport: Option<Transport>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    if let Some(oidc) = app.oidc.clone() {
        // Said at once in the log, not at the first refused login.
        let now = app.wall.now();
        tokio::task::spawn_blocking(move || {
            for line in oidc.check_at_start(now) {
                eprintln!("{}", crate::error::terminal_safe(&line));
            }
        });
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = transport.map(|t| tokio::spawn(scheduler(app.clone(), t, stop_rx.clone())));
    let mut server_stop = stop_rx;
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut server = tokio::spawn(
        axum::serve(listener, service)
            .with_graceful_shutdown(async move { stopped(&mut server_stop).await })
            .into_future(),
    );
    let mut signalled = None;
    let served = tokio::select! {
        ended = &mut server => ended,
        () = shutdown => {
            signalled = Some(tokio::time::Instant::now());
            eprintln!("stopping: no new connections; finishing the work in progress");
            app.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = stop_tx.send(true);
            match tokio::time::timeout(GRACE, &mut server).await {
                Ok(ended) => ended,
                Err(_) => {
                    server.abort();
                    Ok(Ok(()))
                }
            }
        }
    };
    app.stopping
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = stop_tx.send(true);
    if let Some(mut s) = scheduler {
        let until = signalled.unwrap_or_else(tokio::time::Instant::now) + SENDER_GRACE;
        if tokio::time::timeout_at(until, &mut s).await.is_err() {
            eprintln!(
                "stopping: an email is still on its way to the mail server; it stays queued and goes again at the next start"
            );
            s.abort();
        }
    }
    // The engine's running transaction (an answer or a tick) finishes before we return.
    drop(app.engine.lock().await);
    match served {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(Error::runtime(format!("web server: {err}"))),
        Err(err) => Err(Error::runtime(format!("web server: {err}"))),
    }
}
