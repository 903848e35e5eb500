//! Where emails go, from the `mail.url` setting: `.eml` files in a folder, or an SMTP server.
//! [`Transport::send`] delivers one message and says whether a failure is worth retrying.

use super::eml_file;
use super::mail_url::{MailUrl, Security, SmtpUrl};
use super::message::{self, Outgoing};
use super::send_error::{self, SendError};
use crate::{Error, Result};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport as _};
use std::path::PathBuf;
use std::time::Duration;

/// How long to wait for the server to connect or answer one command. A slow server costs a
/// retry later, not a stuck `tick`.
pub(crate) const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A configured way to deliver emails.
// There is one per process: the size of the SMTP variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Transport {
    /// `file://DIR`: `DIR/<message id>.eml`, the folder created on the first send.
    File { dir: PathBuf },
    /// `smtp://…`, `smtps://…`: one connection per message (the outbox sends few).
    Smtp {
        mailer: SmtpTransport,
        /// The server as configured, for [`Transport::describe`].
        server: SmtpUrl,
    },
}

impl Transport {
    /// The transport for a `mail.url` setting (see `mail_url` for the forms). Refuses a
    /// malformed URL as bad input naming `mail.url`; connects to nothing yet.
    pub fn from_url(url: &str) -> Result<Transport> {
        match MailUrl::parse(url)? {
            MailUrl::File { dir } => {
                // What a killed writer left behind goes before anything new is written.
                eml_file::sweep_debris(&dir, std::time::SystemTime::now());
                Ok(Transport::File { dir })
            }
            MailUrl::Smtp(server) => Ok(Transport::Smtp {
                mailer: smtp_transport(&server)?,
                server,
            }),
        }
    }

    /// Delivers one message. Sending the same message again is safe: the file transport
    /// overwrites the same file, and an SMTP receiver sees the same Message-ID.
    pub fn send(&self, o: &Outgoing) -> std::result::Result<(), SendError> {
        // A message that cannot be built never will be.
        let message = message::build(o).map_err(|err| SendError::Permanent(err.message))?;
        match self {
            Transport::File { dir } => {
                let name = eml_file::file_name(&o.message_id);
                eml_file::write_atomically(dir, &name, &message.formatted())
                    .map(drop)
                    .map_err(|err| {
                        SendError::Temporary(format!("{}: {err}", dir.join(&name).display()))
                    })
            }
            Transport::Smtp { mailer, server } => {
                let non_ascii = envelope_is_non_ascii(&message);
                mailer
                    .send(&message)
                    .map(drop)
                    .map_err(|err| send_error::classify(&server.to_string(), &err, non_ascii))
            }
        }
    }

    /// Where messages go, for logs and `--help`; never the password.
    pub fn describe(&self) -> String {
        match self {
            Transport::File { dir } => format!("file://{}", dir.display()),
            Transport::Smtp { server, .. } => server.to_string(),
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transport({})", self.describe())
    }
}

fn envelope_is_non_ascii(message: &lettre::Message) -> bool {
    let envelope = message.envelope();
    envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|address| !AsRef::<str>::as_ref(address).is_ascii())
}

fn smtp_transport(server: &SmtpUrl) -> Result<SmtpTransport> {
    let tls = |server: &SmtpUrl| {
        TlsParameters::new(server.host.clone()).map_err(|err| {
            Error::bad_input(format!(
                "invalid `mail.url` `{server}`: cannot set up TLS for `{}`: {err}",
                server.host
            ))
        })
    };
    let mut builder = SmtpTransport::builder_dangerous(server.host.clone())
        .port(server.port)
        .timeout(Some(SMTP_TIMEOUT))
        .tls(match server.security {
            Security::None => Tls::None,
            Security::Opportunistic => Tls::Opportunistic(tls(server)?),
            Security::StartTls => Tls::Required(tls(server)?),
            Security::Tls => Tls::Wrapper(tls(server)?),
        });
    if let Some(credentials) = &server.credentials {
        builder = builder.credentials(Credentials::new(
            credentials.user.clone(),
            credentials.password.clone(),
        ));
    }
    if let Some(name) = &server.hello_name {
        builder = builder.hello_name(ClientId::Domain(name.clone()));
    }
    Ok(builder.build())
}
