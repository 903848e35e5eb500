//! The state every request shares. Writes of the engine (answers, ticks) go through one engine
//! behind an async lock, on a blocking thread, one transaction at a time (answers waiting at the
//! same time share one: `answers`); pages read through their own pool of connections, so a long
//! tick delays answers but not pages.

use super::pool::Pool;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::engine::view::Views;
use crate::store::Store;
use crate::templates::Library;
use crate::{Error, Result};
use std::sync::Arc;
use tokio::sync::{Mutex, Notify, Semaphore};

/// Connections the pages use at once (and keep open).
const READERS: usize = 8;
/// PDFs printed at once: each is a Chromium process of a few hundred MB.
pub const PRINTERS: usize = 2;

/// The templates the pages need, checked at start.
pub(crate) const PAGES: &[&str] = &[
    "web/base.html",
    "web/staff.html",
    "web/task.html",
    "web/evidence_group.html",
    "web/answered.html",
    "web/message.html",
    "web/login.html",
    "web/overview.html",
    "web/routines.html",
    "web/rounds.html",
    "web/cases.html",
    "web/overdue.html",
    "web/coverage.html",
    "web/needs.html",
    "web/radar.html",
    "web/emails.html",
    "web/logs.html",
    "web/case.html",
    "web/start.html",
    "web/accounts.html",
    "web/summary.html",
    "web/watch.html",
    "web/roster.html",
    "web/delegations.html",
    "web/audit.html",
    "web/components.html",
    "web/routine.html",
    "web/routine_edit.html",
    "web/routine_diff.html",
    "web/routine_new.html",
    "web/templates.html",
    "web/template_edit.html",
    "web/signed_in.html",
    "web/signed_out.html",
    "web/second_factor.html",
    "web/recovery_codes.html",
    "web/own_second_factor.html",
    "web/style.css",
];

pub struct App {
    /// The one writer: answers and ticks take turns.
    pub engine: Arc<Mutex<Engine>>,
    pub views: Views,
    pub pages: Library,
    /// The templates emails are written with: the pages' library until an email template is
    /// published from the workshop, then the folder read again.
    mail: std::sync::RwLock<Arc<Library>>,
    pub clock: Arc<dyn Clock>,
    /// Real time, for what must last real minutes whatever `clock` says (login locks,
    /// sessions): the same as `clock` unless the server runs with `--now`.
    pub wall: Arc<dyn Clock>,
    /// Woken after an answer, so its emails go out without waiting for the next tick.
    pub kick: Notify,
    /// A short name of the installation, for Message-IDs.
    pub install: String,
    /// The stylesheet, rendered once.
    pub css: String,
    /// One login at a time, so that throttling sees every failure before the next attempt.
    pub logins: Mutex<()>,
    /// Answers waiting to be recorded together (`answers`).
    pub(super) waiting: std::sync::Mutex<Vec<super::answers::Waiting>>,
    /// Proxies whose `X-Forwarded-For` is believed (configuration `web.trusted_proxies`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// What the scheduler last did, for `/healthz`.
    health: std::sync::Mutex<super::health::Health>,
    /// The log page's share explained, with what it was computed from (the day, the latest
    /// imports): a sweep of a month's log is not redone on every view.
    pub(super) explained: std::sync::Mutex<Option<(String, serde_json::Value)>>,
    /// Set on shutdown: the sender stops before its next email.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
    /// Chromium for the PDFs of documents, when installed.
    pub printer: crate::records::files::Printer,
    pool: Pool,
    readers: Arc<Semaphore>,
    /// Places for printing a PDF ([`PRINTERS`]).
    pub printing: Arc<Semaphore>,
    /// How long a PDF waits for a place before the answer is 503 (20 seconds).
    pub print_wait: std::time::Duration,
    /// The routines folder the workshop publishes into; none on the embedded routines (nothing
    /// to write into: the editor says so).
    pub routines_dir: Option<std::path::PathBuf>,
    /// Whether the templates are a folder the workshop may write (not the embedded ones).
    pub templates_editable: bool,
    /// The organisation's identity provider, when `[web.oidc]` names one.
    pub oidc: Option<Arc<super::oidc::Oidc>>,
    /// How often the scheduler ticks (`server::TICK_EVERY`; tests shorten it).
    pub tick_every: std::time::Duration,
}

impl App {
    /// The web layer on `engine` (whose database must be a file: pages open their own
    /// connections to it). The pages' templates are loaded from the engine's templates folder.
    pub fn new(engine: Engine, clock: Arc<dyn Clock>) -> Result<App> {
        if engine.store.path.as_os_str() == ":memory:" {
            return Err(Error::usage(
                "the web server needs a database file, not an in-memory database",
            ));
        }
        let pages = Library::load(&engine.templates.dir)?;
        for name in PAGES {
            if !pages.contains(name) {
                return Err(Error::usage(format!(
                    "template `{name}` is missing from `{}`",
                    pages.dir.display()
                )));
            }
        }
        if let Some(err) = pages
            .load_errors
            .iter()
            .find(|d| d.path.contains("web/") || d.path.contains("web\\"))
        {
            return Err(Error::invalid(err.render()));
        }
        let css = pages.render("web/style.css", &serde_json::json!({}))?;
        let oidc = engine
            .config
            .oidc
            .clone()
            .map(|c| Arc::new(super::oidc::Oidc::new(c)));
        Ok(App {
            views: engine.views()?,
            install: engine.install_id(),
            trusted_proxies: engine.config.trusted_proxies.clone(),
            pool: Pool::new(engine.store.path.clone(), READERS),
            printer: crate::records::files::Printer::find(),
            engine: Arc::new(Mutex::new(engine)),
            mail: std::sync::RwLock::new(Arc::new(Library::load(&pages.dir)?)),
            pages,
            wall: clock.clone(),
            clock,
            kick: Notify::new(),
            css,
            logins: Mutex::new(()),
            waiting: std::sync::Mutex::new(Vec::new()),
            readers: Arc::new(Semaphore::new(READERS)),
            printing: Arc::new(Semaphore::new(PRINTERS)),
            print_wait: std::time::Duration::from_secs(20),
            routines_dir: None,
            templates_editable: false,
            oidc,
            tick_every: super::server::TICK_EVERY,
            health: std::sync::Mutex::new(super::health::Health::default()),
            explained: std::sync::Mutex::new(None),
            stopping: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    pub fn secret(&self) -> &[u8] {
        self.views.secret()
    }

    /// Reads or updates what `/healthz` reports.
    pub fn health<T>(&self, f: impl FnOnce(&mut super::health::Health) -> T) -> T {
        f(&mut self.health.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The templates emails are written with now.
    pub fn mail_templates(&self) -> Arc<Library> {
        self.mail.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the templates folder again for the emails (after a template was published).
    pub(crate) fn reload_mail_templates(&self) -> Result<()> {
        let fresh = Arc::new(Library::load(&self.pages.dir)?);
        *self.mail.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The database file.
    pub fn db_path(&self) -> &std::path::Path {
        self.pool.path()
    }

    /// Runs `f` on a pooled connection on a blocking thread: page reads and the web layer's own
    /// short writes.
    pub(crate) async fn with_store<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&App, &mut Store) -> Result<T> + Send + 'static,
    {
        let permit = self
            .readers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::runtime(format!("connection pool: {e}")))?;
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut store = app.pool.get()?;
            let out = f(&app, &mut store);
            app.pool.put(store);
            out
        })
        .await
        .map_err(|e| Error::runtime(format!("page worker: {e}")))?
    }

    /// Runs `f` with the engine on a blocking thread, after the work before it. The work
    /// finishes even when the request that asked for it is gone.
    pub async fn with_engine<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Engine) -> Result<T> + Send + 'static,
    {
        let mut engine = self.engine.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || f(&mut engine))
            .await
            .map_err(|e| Error::runtime(format!("engine worker: {e}")))?
    }
}
