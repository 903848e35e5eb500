//! The web layer: the page behind each emailed link, where a manager reads what to review and
//! answers without logging in, and the overview for quality staff behind a login. Pages are
//! rendered on the server from the tera templates in `templates/web/`; no JavaScript.
//!
//! - `app` — the shared state: the engine behind an async lock (answers and ticks take turns),
//!   the read side (`engine::view::Views`) on a small pool of connections of its own, so pages
//!   read while the engine writes (WAL), and the clock.
//! - `task` — `GET`/`POST /t/{token}`: verify the signed link, show the step, record the answer
//!   (`answers`: answers arriving together are committed together).
//! - `auth` — local accounts (`password`: argon2), sessions in cookies, login throttling
//!   (`throttle`), logout.
//! - `overview` — routines with their graphs, rounds, open and overdue cases, coverage
//!   (`chart`: SVG bars), failed emails.
//! - `cases` — the quality staff's cases: the list with filters, each case's page (steps,
//!   events, holder, due date, evidence in figures, documents as downloads), sending a step's
//!   link again, giving a step to another holder of its role, and the forms that open a
//!   targeted review or an extract request. Roles: `reader` reads, `quality` and `admin` act.
//! - `accounts` — the overview's accounts for an `admin`: add, change role, remove.
//! - `csrf` — form tokens: an HMAC with the installation's secret over what the form is bound to.
//! - `headers` — security headers on every response (HSTS when `base_url` is https).
//! - `health` — `/healthz`: 503 with the reason when the last tick failed or none ran for five
//!   minutes.
//! - `server` — the router, the scheduler (a tick every minute, then outbox delivery) and a
//!   clean shutdown.
//!
//! **Invariant:** nothing taken from a request is trusted or unwrapped: tokens, forms, cookies
//! and headers are checked, and a bad one gets a Swedish page with the right status.

pub(crate) mod accounts;
pub(crate) mod answers;
pub mod app;
pub(crate) mod audit;
pub mod auth;
pub mod cases;
pub(crate) mod chart;
pub mod csrf;
pub(crate) mod headers;
pub(crate) mod health;
pub(crate) mod oidc;
pub(crate) mod overview;
pub(crate) mod page;
pub mod password;
pub(crate) mod pool;
pub(crate) mod registers;
pub(crate) mod second_factor;
pub(crate) mod server;
pub(crate) mod summary;
pub(crate) mod task;
pub(crate) mod throttle;
pub(crate) mod workshop;

pub use app::App;
pub use server::{router, serve};
