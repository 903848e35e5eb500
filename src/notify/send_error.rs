//! Why a send failed, sorted by what the outbox should do next: try again later, or give the
//! message up. The sorting of lettre's SMTP errors lives here, in one place.

use lettre::transport::smtp;
use std::fmt;

/// A failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying later: the server was down or slow, answered 4xx, or refused our login or
    /// TLS (a setting to fix once for all messages, not a fault of this one).
    Temporary(String),
    /// Retrying cannot help: the server refused this message or recipient (5xx), or the message
    /// itself is malformed. The outbox marks it failed.
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            SendError::Temporary(message) | SendError::Permanent(message) => message,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SendError {}

/// Reply codes of RFC 4954 that mean our login is wrong or not accepted (530 authentication
/// required, 534 mechanism too weak, 535 credentials invalid, 538 encryption required). They are
/// 5xx, but say nothing about the message: once the setting is fixed, every queued message goes
/// through, so they must not be given up.
const LOGIN_REFUSED: [u16; 4] = [530, 534, 535, 538];

/// Sorts an SMTP error of lettre 0.11. `non_ascii_envelope` says whether an envelope address
/// holds non-ASCII characters: lettre then refuses (as a client error) to send to a server
/// without SMTPUTF8, and that will not change on a retry.
///
/// lettre's kinds: `Transient(code)` for a 4xx reply and `Permanent(code)` for a 5xx reply, at
/// any stage (greeting, EHLO, AUTH, MAIL, RCPT, DATA, end of data); `Connection` (resolving or
/// connecting failed), `Network` (I/O on an open connection, timeouts included), `Tls`,
/// `Response` (an unreadable reply) and `TransportShutdown`; and `Client` for what lettre
/// refuses itself (no common AUTH mechanism, STARTTLS not offered, non-ASCII without 8BITMIME or
/// SMTPUTF8).
pub(crate) fn classify(server: &str, err: &smtp::Error, non_ascii_envelope: bool) -> SendError {
    let message = format!("{server}: {err}");
    let code = err.status().map(u16::from);
    let refused_for_good = err.is_permanent() && !code.is_some_and(|c| LOGIN_REFUSED.contains(&c));
    if refused_for_good || (err.is_client() && non_ascii_envelope) {
        SendError::Permanent(message)
    } else {
        SendError::Temporary(message)
    }
}
