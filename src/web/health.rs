//! `/healthz`, for a load balancer or systemd's watchdog: "ok", or 503 with the reason when the
//! scheduler is not doing its work — its last tick (or outbox delivery) failed, no tick has run
//! for [`STALE`], or emails were due and none could be delivered for [`UNDELIVERED`] (the mail
//! server refuses or is not there). A server without a scheduler (tests serving pages alone) is
//! judged by its failures only. Times are real time ([`App::wall`]), whatever `--now` says.

use super::App;
use crate::notify::sender::Delivery;
use crate::store::ts;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;

/// How long without a tick before the server is unhealthy (the scheduler ticks every minute).
pub(crate) const STALE: TimeDelta = TimeDelta::minutes(5);

/// How long emails may wait on a mail server that takes none before the server is unhealthy.
pub(crate) const UNDELIVERED: TimeDelta = TimeDelta::minutes(15);

/// What the scheduler last did, by the server's clock.
#[derive(Debug, Default)]
pub struct Health {
    /// When the scheduler started; `None` when none runs.
    scheduler_since: Option<DateTime<Utc>>,
    last_tick: Option<DateTime<Utc>>,
    tick_failed: Option<(DateTime<Utc>, String)>,
    delivery_failed: Option<(DateTime<Utc>, String)>,
    /// Since when due emails have only been retried, none sent.
    undelivered: Option<DateTime<Utc>>,
}

impl Health {
    pub(crate) fn scheduler_started(&mut self, at: DateTime<Utc>) {
        self.scheduler_since = Some(at);
    }

    /// A tick ended at `at`, well or with `error`.
    pub fn ticked(&mut self, at: DateTime<Utc>, error: Option<String>) {
        self.last_tick = Some(at);
        self.tick_failed = error.map(|e| (at, e));
    }

    /// A delivery of the outbox ended at `at`: its report, or the error that stopped it (a
    /// database error). Emails the mail server refuses for good are the outbox's business; a
    /// mail server that takes nothing while emails are due is the server's.
    pub fn delivered(&mut self, at: DateTime<Utc>, outcome: Result<&Delivery, String>) {
        match outcome {
            Err(e) => self.delivery_failed = Some((at, e)),
            Ok(d) => {
                self.delivery_failed = None;
                if d.sent > 0 || d.pending == 0 {
                    self.undelivered = None;
                } else if d.retried > 0 && self.undelivered.is_none() {
                    // Said once, as the wait starts: the mail server's words may name a
                    // recipient, so they go to the log, never into `/healthz`'s answer.
                    let why = d.last_error.as_deref().unwrap_or_default();
                    eprintln!("emails: the mail server takes none: {why}");
                    self.undelivered = Some(at);
                }
            }
        }
    }

    /// Why the server is unhealthy at `now`, or `None`.
    pub fn problem(&self, now: DateTime<Utc>) -> Option<String> {
        if let Some((at, error)) = &self.tick_failed {
            return Some(format!("the last tick, at {}, failed: {error}", ts(*at)));
        }
        if let Some((at, error)) = &self.delivery_failed {
            return Some(format!(
                "the last delivery of the outbox, at {}, failed: {error}",
                ts(*at)
            ));
        }
        if let Some(since) = self.undelivered
            && now - since > UNDELIVERED
        {
            return Some(format!(
                "no email could be delivered since {} ({} minutes); the mail server's answer is in the log",
                ts(since),
                (now - since).num_minutes()
            ));
        }
        let since = self.scheduler_since?;
        match self.last_tick {
            Some(last) if now - last > STALE => Some(format!(
                "no tick since {} ({} minutes)",
                ts(last),
                (now - last).num_minutes()
            )),
            None if now - since > STALE => Some(format!(
                "no tick has finished since the scheduler started at {}",
                ts(since)
            )),
            _ => None,
        }
    }
}

/// `GET /healthz`.
pub(crate) async fn healthz(State(app): State<Arc<App>>) -> Response {
    let now = app.wall.now();
    match app.health(|h| h.problem(now)) {
        None => "ok".into_response(),
        Some(why) => {
            eprintln!("healthz: {why}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("unhealthy: {why}\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn healthy_until_a_failure_or_five_quiet_minutes() {
        let mut h = Health::default();
        let start = at("2027-01-05T10:00:00Z");
        // No scheduler: only failures count.
        assert_eq!(h.problem(start + TimeDelta::days(3)), None);
        h.scheduler_started(start);
        assert_eq!(h.problem(start + TimeDelta::minutes(5)), None);
        let why = h.problem(start + TimeDelta::minutes(6)).unwrap();
        assert!(why.contains("since the scheduler started"), "{why}");
        h.ticked(start + TimeDelta::minutes(6), None);
        assert_eq!(h.problem(start + TimeDelta::minutes(7)), None);
        let why = h.problem(start + TimeDelta::minutes(12)).unwrap();
        assert!(why.contains("no tick since 2027-01-05T10:06:00Z"), "{why}");
        h.ticked(
            start + TimeDelta::minutes(13),
            Some("database `x.db`: attempt to write a readonly database".into()),
        );
        let why = h.problem(start + TimeDelta::minutes(13)).unwrap();
        assert!(why.contains("failed: database `x.db`: attempt"), "{why}");
        h.ticked(start + TimeDelta::minutes(14), None);
        assert_eq!(h.problem(start + TimeDelta::minutes(14)), None);
        h.delivered(start + TimeDelta::minutes(14), Err("disk I/O error".into()));
        assert!(
            h.problem(start + TimeDelta::minutes(14))
                .unwrap()
                .contains("outbox")
        );
        h.delivered(start + TimeDelta::minutes(15), Ok(&Delivery::default()));
        assert_eq!(h.problem(start + TimeDelta::minutes(15)), None);
    }

    #[test]
    fn unhealthy_when_no_email_could_be_delivered_for_a_quarter_hour() {
        let mut h = Health::default();
        let start = at("2027-01-05T10:00:00Z");
        let refused = Delivery {
            retried: 3,
            pending: 3,
            last_error: Some("cannot connect to smtp.example.se:25: Connection refused".into()),
            ..Delivery::default()
        };
        // Nothing due between the retries (they back off): the wait goes on.
        let quiet = Delivery {
            pending: 3,
            ..Delivery::default()
        };
        for minute in 0..=15 {
            let d = if minute % 4 == 0 { &refused } else { &quiet };
            h.delivered(start + TimeDelta::minutes(minute), Ok(d));
            h.ticked(start + TimeDelta::minutes(minute), None);
            assert_eq!(
                h.problem(start + TimeDelta::minutes(minute)),
                None,
                "{minute}"
            );
        }
        h.ticked(start + TimeDelta::minutes(16), None);
        let why = h.problem(start + TimeDelta::minutes(16)).unwrap();
        assert!(
            why.contains("since 2027-01-05T10:00:00Z (16 minutes)"),
            "{why}"
        );
        assert!(
            !why.contains("cannot connect"),
            "the mail server's words stay in the log"
        );
        // One email through, and it is well again.
        let one = Delivery {
            sent: 1,
            pending: 2,
            ..Delivery::default()
        };
        h.delivered(start + TimeDelta::minutes(17), Ok(&one));
        h.ticked(start + TimeDelta::minutes(17), None);
        assert_eq!(h.problem(start + TimeDelta::minutes(17)), None);
        // A queue that empties (its emails given up on) is no longer waiting.
        h.delivered(start + TimeDelta::minutes(18), Ok(&refused));
        h.delivered(start + TimeDelta::minutes(40), Ok(&Delivery::default()));
        h.ticked(start + TimeDelta::minutes(40), None);
        assert_eq!(h.problem(start + TimeDelta::minutes(40)), None);
    }
}
