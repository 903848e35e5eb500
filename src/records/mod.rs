//! Records: what the routines must document and keep, and for how long. The review protocol of
//! every case (`protocol`), the log-extract letter filed with the case for the records system
//! (`extract`), the imported access logs it is drawn from (`logs`), the yearly summary to the SAS
//! (`figures`, `charts`, `annual`), the files written for cases (`files`, `pdf`), and the purge
//! of everything past its retention (`purge`); `tick` runs the whole tick, the engine's part
//! between the logs inbox and the yearly summaries and purge.
//!
//! Like the engine, nothing here reads the clock (every operation takes `now`) or writes SQL
//! (that is `store::records`).

pub mod annual;
pub(crate) mod charts;
pub(crate) mod download;
pub mod extract;
pub mod figures;
pub mod files;
pub mod logs;
pub mod pdf;
pub mod protocol;
pub mod purge;
pub(crate) mod tick;

use chrono::{DateTime, Months, Utc};

/// `t` less `years` calendar years (29 February to 28 February), for retention periods.
pub(crate) fn years_before(t: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    t.checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `t` plus `years` calendar years.
pub(crate) fn years_after(t: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    t.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
