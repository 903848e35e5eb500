//! Email delivery, below the outbox: it builds one email (plain text, HTML and an optional
//! calendar attachment), sends it through the configured transport (`.eml` files in a folder,
//! or SMTP), and says whether a failure is worth a retry and when. It owns no state: the
//! transactional outbox above it keeps the queue, the attempts and the Message-IDs, and calls
//! [`Transport::send`] once per attempt.
//!
//! **Invariant:** nothing here reads the clock. The Date header, the calendar's `DTSTAMP` and
//! the retry times all come from the caller, so the same input always gives the same email.
//!
//! **Invariant:** no client data. What goes into an email is decided by the templates and the
//! outbox; this layer copies it as given and cannot tell.

pub(crate) mod backoff;
pub mod eml_file;
pub mod ics;
pub(crate) mod mail_url;
pub(crate) mod message;
pub(crate) mod retry;
pub(crate) mod send_error;
pub mod sender;
pub(crate) mod transport;

pub use backoff::{GIVE_UP_AFTER, next_attempt, should_give_up};
pub use ics::{Calendar, Due};
pub use mail_url::{MailUrl, Security, SmtpUrl};
pub use message::{FileAttachment, Outgoing, build, to_eml};
pub use send_error::SendError;
pub use transport::Transport;
