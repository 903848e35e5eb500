//! The calendar attachment of a task email: one RFC 5545 `VCALENDAR` with one `VEVENT` for the
//! task's deadline, so the recipient can put the deadline in their calendar with one click.
//!
//! Pure: no clock (the `DTSTAMP` is given), no I/O. Text is escaped per RFC 5545 3.3.11, lines
//! end in CRLF and are folded at 75 octets, never inside a UTF-8 character (3.1).
//!
//! **Invariant:** no client data goes in. The summary and description are copied into whatever
//! calendar the recipient uses (often a cloud service outside the organisation), so callers pass
//! the case reference, the routine and the deadline — never a client's name or personal identity
//! number. This module cannot check that; the outbox that builds a [`Calendar`] must.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// The product identifier written in `PRODID`.
const PRODID: &str = "-//loggkoll//loggkoll//SV";

/// The longest physical line, in octets, not counting its CRLF (RFC 5545 3.1).
const MAX_LINE: usize = 75;

/// A task deadline as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Globally unique and stable for the task, so that a later email for the same deadline
    /// updates the event instead of adding a second one (e.g. `TRE-2027-0042.review@loggkoll`).
    pub uid: String,
    /// Swedish, one line (`Loggkontroll TRE-2027-0042: granska senast 15 mars`).
    pub summary: String,
    /// Swedish, may span lines. No client data (see the module documentation).
    pub description: String,
    /// The case page, written as the event's `URL`.
    pub url: Option<String>,
    /// When the task is due.
    pub due: Due,
    /// When the event was written (`DTSTAMP`): the time the caller was asked about, not the wall
    /// clock, so that the same input always renders the same bytes.
    pub stamp: DateTime<Utc>,
    /// How long before the start of the event the calendar reminds (`VALARM`); negative for
    /// after the start; `None` for no reminder. For an all-day event the start is midnight of
    /// the due date, in the recipient's own time zone, so `-8 hours` reminds at 08:00 that day.
    pub reminder: Option<TimeDelta>,
}

/// When a task is due: all day on a date (the usual case: deadlines are counted in days), or at
/// an instant (written in UTC, so the calendar needs no `VTIMEZONE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl From<NaiveDate> for Due {
    fn from(date: NaiveDate) -> Due {
        Due::Day(date)
    }
}

impl From<DateTime<Utc>> for Due {
    fn from(at: DateTime<Utc>) -> Due {
        Due::At(at)
    }
}

/// The calendar as RFC 5545 text: CRLF line ends, folded, ending in a CRLF.
pub fn render(c: &Calendar) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| fold_into(&mut out, &format!("{name}:{value}"));

    line("BEGIN", "VCALENDAR");
    line("VERSION", "2.0");
    line("PRODID", PRODID);
    line("CALSCALE", "GREGORIAN");
    line("METHOD", "PUBLISH");
    line("BEGIN", "VEVENT");
    line("UID", &escape_text(&c.uid));
    line("DTSTAMP", &date_time(c.stamp));
    match c.due {
        Due::Day(date) => {
            line("DTSTART;VALUE=DATE", &date.format("%Y%m%d").to_string());
            // DTEND is exclusive: the event covers the due date only. The last date chrono
            // knows has no next day; a missing DTEND means one day for a DATE start anyway.
            if let Some(next) = date.succ_opt() {
                line("DTEND;VALUE=DATE", &next.format("%Y%m%d").to_string());
            }
        }
        Due::At(at) => line("DTSTART", &date_time(at)),
    }
    line("SUMMARY", &escape_text(&c.summary));
    line("DESCRIPTION", &escape_text(&c.description));
    if let Some(url) = &c.url {
        line("URL", &strip_controls(url));
    }
    // A deadline does not make anyone busy.
    line("TRANSP", "TRANSPARENT");
    if let Some(before) = c.reminder {
        line("BEGIN", "VALARM");
        line("ACTION", "DISPLAY");
        line("DESCRIPTION", &escape_text(&c.summary));
        line("TRIGGER", &duration_before(before));
        line("END", "VALARM");
    }
    line("END", "VEVENT");
    line("END", "VCALENDAR");
    out
}

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma get a backslash, any
/// line break becomes `\n`, and other control characters (not allowed in TEXT) are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no physical line exceeds 75 octets: a fold is a
/// CRLF followed by one space, and the space counts towards the next line's 75.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > MAX_LINE {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// A UTC DATE-TIME value (`20270315T080000Z`).
fn date_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A negative DURATION value (`-P1D`, `-PT2H30M`, `-P1DT12H`); a negative input counts as zero.
fn duration_before(before: TimeDelta) -> String {
    let seconds = before.num_seconds();
    let total = seconds.saturating_abs();
    let (days, rest) = (total / 86_400, total % 86_400);
    let (hours, minutes, seconds) = (rest / 3600, rest % 3600 / 60, rest % 60);
    // A negative "before" is after the start: `P…` without the sign.
    let mut out = String::from(if before < TimeDelta::zero() {
        "P"
    } else {
        "-P"
    });
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rest > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        // The grammar allows no hours followed directly by seconds (3.3.6).
        if minutes > 0 || (hours > 0 && seconds > 0) {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || rest == 0 {
            out.push_str(&format!("{seconds}S"));
        }
    }
    out
}

/// A URI value is not escaped, but may hold no control characters (a line break would end the
/// property and let the rest be read as another one).
fn strip_controls(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}
