//! The sender: drains the outbox. For each message whose attempt is due it renders the template
//! with the stored values, builds the email (with a calendar invitation for a task), sends it
//! through the transport outside any transaction, and records the outcome: sent; a temporary
//! failure retried with exponential backoff (given up after five days); a permanent failure
//! marked failed, to be shown in `outbox list` and on the overview page.
//!
//! A message is marked sent right after the transport accepts it. A crash in between sends it
//! again on restart with the same Message-ID (a file transport overwrites the same file), the
//! narrowest window an SMTP handoff allows.

use super::{Calendar, Due, Outgoing, SendError, Transport, next_attempt, should_give_up};
use crate::calendar::SendHours;
use crate::mails::{StepMail, Values};
use crate::store::outbox::{self, MessageRow};
use crate::store::{Store, parse_ts};
use crate::templates::Library;
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use std::sync::atomic::{AtomicBool, Ordering};

/// Messages rendered and sent per batch.
const BATCH: usize = 200;

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Step emails no longer true when they would have gone out (step answered or given to
    /// someone else, case closed): not sent, marked `withdrawn` with the reason.
    pub withdrawn: usize,
    /// The last temporary failure's reason (the mail server refused or was not there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Messages still queued afterwards, due later or not.
    #[serde(skip)]
    pub pending: i64,
}

impl Delivery {
    /// Whether the run sent, retried, failed or withdrew anything.
    pub(crate) fn did_anything(&self) -> bool {
        self.sent + self.retried + self.failed + self.withdrawn > 0
    }
}

impl std::fmt::Display for Delivery {
    /// `3 sent, 0 to retry, 0 failed`, and the withdrawn when there are any.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} sent, {} to retry, {} failed",
            self.sent, self.retried, self.failed
        )?;
        if self.withdrawn > 0 {
            write!(f, ", {} withdrawn (no longer true)", self.withdrawn)?;
        }
        Ok(())
    }
}

/// The Message-ID of outbox row `id` of the installation `install`.
pub fn message_id(id: i64, install: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("loggkoll.invalid");
    format!("<outbox-{id}.{install}@{domain}>")
}

/// Renders a stored message into the email the transport sends, dated when it was queued.
pub fn compose(row: &MessageRow, library: &Library, from: &str, install: &str) -> Result<Outgoing> {
    let values = values_of(row)?;
    compose_at(
        row,
        &values,
        library,
        from,
        install,
        parse_ts(&row.created_at)?,
    )
}

/// The values stored with `row`, read back into their shape.
fn values_of(row: &MessageRow) -> Result<Values> {
    Values::read(&row.purpose, &row.context)
        .map_err(|e| Error::runtime(format!("outbox message {}: bad stored values: {e}", row.id)))
}

/// Renders `row` with `values` into the email the transport sends, dated `date`.
fn compose_at(
    row: &MessageRow,
    values: &Values,
    library: &Library,
    from: &str,
    install: &str,
    date: DateTime<Utc>,
) -> Result<Outgoing> {
    let mail = library.render_mail(&row.template, &values.to_value())?;
    let calendar = match (&row.due_date, values) {
        (Some(due), Values::Step(step)) if matches!(step.extra, StepMail::Task {}) => {
            NaiveDate::parse_from_str(due, "%Y-%m-%d").ok().map(|due| {
                let (case, step, link) = (
                    &step.case_id,
                    &step.step,
                    Some(step.link.clone()).filter(|l| !l.is_empty()),
                );
                Calendar {
                    uid: format!("{}.{}@loggkoll", case, row.task_id.unwrap_or(0)),
                    summary: format!("Loggkontroll {case}: {step}"),
                    description: format!(
                        "Sista dag för steget \"{step}\" i ärende {case}.{}",
                        link.as_deref()
                            .map(|l| format!("\nÖppna uppgiften: {l}"))
                            .unwrap_or_default()
                    ),
                    url: link,
                    due: Due::Day(due),
                    stamp: date,
                    // At 08:00 on the deadline day.
                    reminder: Some(-TimeDelta::hours(i64::from(crate::calendar::ALARM_HOUR))),
                }
            })
        }
        _ => None,
    };
    Ok(Outgoing {
        message_id: message_id(row.id, install, from),
        from: from.to_string(),
        to: row.to.clone(),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        calendar,
        attachments: Vec::new(),
        date,
    })
}

/// The files stored with outbox message `id`.
fn attachments(conn: &crate::store::Db, id: i64) -> Result<Vec<super::FileAttachment>> {
    Ok(crate::store::records::attachments(conn, id)?
        .into_iter()
        .map(|a| super::FileAttachment {
            file_name: a.file_name,
            content_type: a.content_type,
            body: a.body,
        })
        .collect())
}

/// Where and when the sender sends.
pub struct Sending<'a> {
    pub library: &'a Library,
    pub transport: &'a Transport,
    /// The sender's address.
    pub from: &'a str,
    /// A short name of the installation, for Message-IDs.
    pub install: &'a str,
    /// When emails may go out ([`Config`](crate::config::Config)'s `mail.send_hours`), in `tz`.
    pub hours: Option<SendHours>,
    pub tz: Tz,
}

impl<'a> Sending<'a> {
    /// The configured sending of `config` through `transport`.
    pub fn new(
        config: &'a crate::config::Config,
        library: &'a Library,
        transport: &'a Transport,
        install: &'a str,
    ) -> Sending<'a> {
        Sending {
            library,
            transport,
            from: &config.mail.from,
            install,
            hours: config.mail.send_hours,
            tz: config.timezone,
        }
    }
}

/// `values` with what an email says relative to the day it goes out (`due`: the step's last day)
/// worked out again for that day: a reminder's `when` ("idag", "efter") and `days_left`, an
/// escalation's `days_overdue`. An email that waited for the send hours (a weekend) would
/// otherwise say "i dag" on the wrong day.
fn refresh(values: &mut Values, due: Option<&str>, now: DateTime<Utc>, tz: Tz) {
    let Some(due) = due.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
        return;
    };
    let Values::Step(step) = values else {
        return;
    };
    let today = now.with_timezone(&tz).date_naive();
    let left = (due - today).num_days();
    match &mut step.extra {
        StepMail::Reminder { when, days_left } => {
            *when = match left {
                d if d > 0 => "före",
                0 => "idag",
                _ => "efter",
            }
            .to_string();
            *days_left = left.max(0);
        }
        StepMail::Escalation { days_overdue, .. } => *days_overdue = (-left).max(0),
        StepMail::Task {} | StepMail::Inform { .. } => {}
    }
}

/// Sends every message due at `now`.
pub fn deliver(store: &mut Store, sending: &Sending, now: DateTime<Utc>) -> Result<Delivery> {
    let never = AtomicBool::new(false);
    deliver_until(store, sending, now, &never)
}

/// Sends every message due at `now`, or until `stop` is set: it is looked at before each
/// message, so a server shutting down waits for one message at most, and the rest stay queued.
/// Outside the send hours nothing goes: the queue waits for the next working morning.
///
/// One sender delivers at a time on a database ([`Store::try_lock`]): when another process's
/// sender is at it, this one leaves the queue to it.
pub(crate) fn deliver_until(
    store: &mut Store,
    sending: &Sending,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<Delivery> {
    Ok(store
        .locked(crate::store::Job::Sender, |store| {
            deliver_locked(store, sending, now, stop)
        })?
        .unwrap_or_default())
}

fn deliver_locked(
    store: &mut Store,
    sending: &Sending,
    now: DateTime<Utc>,
    stop: &AtomicBool,
) -> Result<Delivery> {
    let Sending {
        library,
        transport,
        from,
        install,
        ..
    } = *sending;
    let mut report = Delivery::default();
    if let Some(hours) = sending.hours
        && !hours.allows(now, sending.tz)
    {
        return Ok(report);
    }
    let tx = store.write()?;
    report.withdrawn = outbox::withdraw_stale(&tx)?;
    tx.commit()?;
    let mut tried = std::collections::HashSet::new();
    'batches: loop {
        let due: Vec<MessageRow> = outbox::due(store.db(), now, BATCH)?
            .into_iter()
            .filter(|m| !tried.contains(&m.id))
            .collect();
        if due.is_empty() {
            break;
        }
        for row in &due {
            if stop.load(Ordering::Relaxed) {
                break 'batches;
            }
            tried.insert(row.id);
            // Dated when it goes out.
            let composed = values_of(row).and_then(|mut values| {
                refresh(&mut values, row.due_date.as_deref(), now, sending.tz);
                let mut mail = compose_at(row, &values, library, from, install, now)?;
                mail.attachments = attachments(store.db(), row.id)?;
                Ok(mail)
            });
            let outcome = match composed {
                Ok(mail) => transport.send(&mail),
                Err(e) => Err(SendError::Permanent(format!("cannot render: {e}"))),
            };
            let tx = store.write()?;
            match outcome {
                Ok(()) => {
                    outbox::mark_sent(&tx, row.id, now)?;
                    report.sent += 1;
                }
                Err(SendError::Temporary(why)) => {
                    // Time spent waiting for the send hours does not count against the
                    // five days of retries.
                    let queued = parse_ts(&row.created_at)?;
                    let queued = sending
                        .hours
                        .map_or(queued, |h| h.next_open(queued, sending.tz));
                    if should_give_up(queued, now) {
                        outbox::mark_failed(&tx, row.id, &format!("gave up after 5 days: {why}"))?;
                        report.failed += 1;
                    } else {
                        let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                        outbox::mark_retry(&tx, row.id, &why, next_attempt(attempts, now))?;
                        report.retried += 1;
                        report.last_error = Some(why);
                    }
                }
                Err(SendError::Permanent(why)) => {
                    outbox::mark_failed(&tx, row.id, &why)?;
                    report.failed += 1;
                }
            }
            tx.commit()?;
        }
        // A transport that is down fails every message the same way: stop for this round.
        if report.sent == 0 && report.retried >= BATCH {
            break;
        }
    }
    report.pending = outbox::queued_count(store.db())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(purpose: &str, context: Value) -> MessageRow {
        MessageRow {
            id: 1,
            created_at: "2027-01-16T06:00:00Z".into(),
            purpose: purpose.into(),
            case_id: None,
            task_id: None,
            recipient_id: None,
            to: "a@example.se".into(),
            template: purpose.into(),
            context: context.to_string(),
            due_date: Some("2027-01-16".into()),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: "2027-01-16T06:00:00Z".into(),
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn a_reminder_that_waited_says_what_is_true_the_day_it_goes_out() {
        let tz = chrono_tz::Europe::Stockholm;
        let refreshed = |r: &MessageRow, now: &str| -> Value {
            let mut values = values_of(r).expect("its values");
            refresh(&mut values, r.due_date.as_deref(), at(now), tz);
            values.to_value()
        };
        // Due Saturday 16 January, queued that morning as "idag"; sent Monday 18th.
        let r = row(
            "reminder",
            serde_json::json!({"when": "idag", "days_left": 0, "case_id": "TRE-1"}),
        );
        let v = refreshed(&r, "2027-01-18T06:00:00Z");
        assert_eq!(v["when"], "efter");
        assert_eq!(v["days_left"], 0);
        assert_eq!(v["case_id"], "TRE-1", "the rest as it was");
        // The same day: unchanged.
        let v = refreshed(&r, "2027-01-16T08:00:00Z");
        assert_eq!(v["when"], "idag");
        // An escalation counts its days overdue to the day it goes out.
        let e = row(
            "escalation",
            serde_json::json!({"assignee": "Bo", "days_overdue": 0}),
        );
        let v = refreshed(&e, "2027-01-19T06:00:00Z");
        assert_eq!(v["days_overdue"], 3);
        // A task email is left alone.
        let t = row("task", serde_json::json!({"deadline": "x"}));
        assert_eq!(refreshed(&t, "2027-01-19T06:00:00Z")["deadline"], "x");
    }

    #[test]
    fn stored_values_read_back_into_the_shape_of_their_purpose_or_not_at_all() {
        // A reminder's values under a task's purpose, and a purpose no email has: refused.
        let wrong = row("task", serde_json::json!({"when": "idag", "days_left": 0}));
        let err = values_of(&wrong).expect_err("a task's values are not a reminder's");
        assert!(err.message.contains("reminder"), "{}", err.message);
        assert!(values_of(&row("brev", serde_json::json!({}))).is_err());
        assert!(values_of(&row("digest", serde_json::json!([1]))).is_err());
        // Each purpose in its own shape.
        for (purpose, values) in [
            ("task", serde_json::json!({"case_id": "TRE-1"})),
            ("inform", serde_json::json!({"result": "Ingen anmärkning"})),
            ("digest", serde_json::json!({"count": 2, "tasks": []})),
            ("summary", serde_json::json!({"year": 2027})),
            ("inbox_failed", serde_json::json!({"file": "a.csv"})),
        ] {
            let read = values_of(&row(purpose, values.clone())).expect(purpose);
            let back = read.to_value();
            for (k, v) in values.as_object().expect("an object") {
                assert_eq!(&back[k], v, "{purpose}: {k}");
            }
        }
    }
}
