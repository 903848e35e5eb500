//! One outgoing email as the outbox hands it over ([`Outgoing`]), and its MIME form: a
//! `multipart/alternative` of the plain-text and HTML bodies, wrapped with the calendar
//! attachment in a `multipart/mixed` when there is one.
//!
//! Everything that varies comes from the caller — the Message-ID (stable across retries, so a
//! receiver can drop duplicates) and the Date (the time the message was queued, never the wall
//! clock) — so the same [`Outgoing`] always builds the same message, byte for byte, apart from
//! the MIME boundaries lettre draws at random.

use super::ics::{self, Calendar};
use crate::{Error, Result};
use chrono::{DateTime, Datelike, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

/// The file name the calendar attachment is offered under.
const CALENDAR_FILE_NAME: &str = "uppgift.ics";

/// One email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The whole Message-ID header value, angle brackets included
    /// (`<outbox-42.3f9c…@loggkoll>`); the caller keeps it stable across retries.
    pub message_id: String,
    /// `loggkoll@example.se` or `Loggkoll <loggkoll@example.se>`.
    pub from: String,
    /// `Anna Berg <anna.berg@example.se>` or `anna.berg@example.se`.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A deadline to attach as an `.ics` file.
    pub calendar: Option<Calendar>,
    /// Files attached (the yearly summary's HTML and CSV).
    pub attachments: Vec<FileAttachment>,
    /// The Date header: when the message was queued.
    pub date: DateTime<Utc>,
}

/// A file attached to an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAttachment {
    pub file_name: String,
    /// `text/csv; charset=utf-8`, …
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Builds the email. Refuses (bad input) a malformed Message-ID, an address that does not
/// parse, or a date outside 1970–9999 (the range the Date header can carry), naming the field.
pub fn build(o: &Outgoing) -> Result<Message> {
    check_message_id(&o.message_id)?;
    let from = mailbox("from", &o.from)?;
    let to = mailbox("to", &o.to)?;
    let date = date(o.date)?;

    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(o.text.clone()))
        .singlepart(SinglePart::html(o.html.clone()));
    let mut body = match &o.calendar {
        None if o.attachments.is_empty() => alternative,
        None => MultiPart::mixed().multipart(alternative),
        Some(calendar) => MultiPart::mixed().multipart(alternative).singlepart(
            Attachment::new(CALENDAR_FILE_NAME.to_owned())
                .body(ics::render(calendar), calendar_content_type()?),
        ),
    };
    for file in &o.attachments {
        let kind = ContentType::parse(&file.content_type).map_err(|err| {
            Error::bad_input(format!(
                "invalid content type `{}` of attachment `{}`: {err}",
                file.content_type, file.file_name
            ))
        })?;
        body =
            body.singlepart(Attachment::new(file.file_name.clone()).body(file.body.clone(), kind));
    }

    Message::builder()
        .message_id(Some(o.message_id.clone()))
        .date(date)
        .from(from)
        .to(to)
        .subject(one_line(&o.subject))
        // RFC 3834: tells out-of-office responders not to answer a machine.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .multipart(body)
        .map_err(|err| Error::bad_input(format!("cannot build the email: {err}")))
}

/// The message in RFC 5322 form, as written to an `.eml` file or sent after DATA.
pub fn to_eml(o: &Outgoing) -> Result<Vec<u8>> {
    Ok(build(o)?.formatted())
}

/// A Message-ID is `<left@right>` in printable ASCII (RFC 5322 3.6.4); anything else would be
/// encoded or mangled on the way and receivers could no longer match retries.
fn check_message_id(id: &str) -> Result<()> {
    let inner = id.strip_prefix('<').and_then(|rest| rest.strip_suffix('>'));
    let well_formed = inner.is_some_and(|inner| {
        let printable = inner
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
        let mut halves = inner.split('@');
        let (left, right) = (halves.next(), halves.next());
        printable
            && halves.next().is_none()
            && left.is_some_and(|l| !l.is_empty())
            && right.is_some_and(|r| !r.is_empty())
    });
    if well_formed {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "invalid `message_id` `{id}`: expected `<left@right>` in printable ASCII"
        )))
    }
}

/// `Name <address>` as an email header carries it: the name quoted or encoded as it needs to be
/// (`"Lindqvist, Per" <per@example.se>`), control characters dropped. An address lettre cannot
/// read is kept as it is, so that the message fails visibly at the sender.
pub(crate) fn mailbox_text(name: &str, address: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match address.trim().parse::<lettre::Address>() {
        Ok(email) => Mailbox::new((!name.is_empty()).then_some(name), email).to_string(),
        Err(_) => address.trim().to_string(),
    }
}

fn mailbox(field: &str, value: &str) -> Result<Mailbox> {
    value
        .trim()
        .parse::<Mailbox>()
        .map_err(|err| Error::bad_input(format!("invalid `{field}` address `{value}`: {err}")))
}

/// The Date header can carry 1970-01-01 up to the end of 9998 only (lettre panics outside).
fn date(at: DateTime<Utc>) -> Result<std::time::SystemTime> {
    if at.timestamp() < 0 || at.year() > 9998 {
        return Err(Error::bad_input(format!(
            "invalid `date` {}: must lie between 1970 and 9998",
            at.to_rfc3339()
        )));
    }
    Ok(at.into())
}

/// A subject is one line: a line break from a template must not start a new header.
fn one_line(subject: &str) -> String {
    subject
        .split(|c: char| c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn calendar_content_type() -> Result<ContentType> {
    ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
        .map_err(|err| Error::runtime(format!("calendar content type: {err}")))
}

#[cfg(test)]
mod mailbox_tests {
    use super::*;

    #[test]
    fn names_that_need_quoting_make_mailboxes_that_parse_back() {
        for name in [
            "Lindqvist, Per",
            "Lena Lindqvist (vikarie)",
            "Per; HR",
            "Per\nLindqvist",
            "Åsa \"Åsen\" Öberg",
            "Lindqvist, Per (vikarie)",
            "",
        ] {
            let text = mailbox_text(name, "per.lindqvist@example.se");
            let parsed = mailbox("to", &text).unwrap_or_else(|e| panic!("{name:?}: {text}: {e}"));
            assert_eq!(
                parsed.email.to_string(),
                "per.lindqvist@example.se",
                "{text}"
            );
            let shown = parsed.name.unwrap_or_default();
            assert!(!shown.contains('\n'), "{shown:?}");
            let expected = name.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(shown, expected, "{name:?} → {text}");
        }
    }
}
