//! The `mail.url` setting, parsed and checked: where emails go. The forms are those of
//! `CLI.md`:
//!
//! - `file://DIR` — write `.eml` files into `DIR`; everything after `file://` is the path, taken
//!   as written (no percent-decoding), relative (`file://outbox`) or absolute
//!   (`file:///var/spool/loggkoll`);
//! - `smtp://[user:pass@]host[:port][/ehlo-name][?tls=required|opportunistic]` — plain SMTP
//!   (port 25), or STARTTLS required or used when offered (port 587);
//! - `smtps://[user:pass@]host[:port][/ehlo-name]` — SMTP inside TLS (port 465).
//!
//! The user and password are percent-decoded (`%40` for `@`). The default ports are lettre's.
//! Errors name `mail.url` and never repeat the password.

use crate::{Error, Result};
use std::fmt;
use std::path::PathBuf;

/// Where emails go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailUrl {
    File { dir: PathBuf },
    Smtp(SmtpUrl),
}

/// An SMTP server and how to talk to it. `Debug` and `Display` leave the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: Security,
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    pub credentials: Option<Credentials>,
    /// The name to greet with (`EHLO name`); `None` for this machine's host name.
    pub hello_name: Option<String>,
}

/// A user and password, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: no TLS at all.
    None,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://…?tls=required`: STARTTLS, or no delivery.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
}

impl MailUrl {
    pub fn parse(url: &str) -> Result<MailUrl> {
        let refuse =
            |why: &str| Error::bad_input(format!("invalid `mail.url` `{}`: {why}", redact(url)));
        if url.chars().any(char::is_control) {
            return Err(refuse("contains a control character"));
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(refuse(
                "expected `file://DIR`, `smtp://host[:port]` or `smtps://host[:port]`",
            ));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" if rest.is_empty() => {
                Err(refuse("`file://` needs a folder, as in `file://outbox`"))
            }
            "file" => Ok(MailUrl::File {
                dir: PathBuf::from(rest),
            }),
            _ if url.chars().any(char::is_whitespace) => Err(refuse("contains white space")),
            "smtp" => parse_smtp(rest, false)
                .map(MailUrl::Smtp)
                .map_err(|why| refuse(&why)),
            "smtps" => parse_smtp(rest, true)
                .map(MailUrl::Smtp)
                .map_err(|why| refuse(&why)),
            other => Err(refuse(&format!(
                "unknown scheme `{other}`: expected `file`, `smtp` or `smtps`"
            ))),
        }
    }
}

/// Parses what follows `smtp://` or `smtps://`; the error is the reason only.
fn parse_smtp(rest: &str, tls: bool) -> std::result::Result<SmtpUrl, String> {
    // The host follows the last `@`, so that a password holding `@`, `/`, `?` or `#` without
    // percent-encoding is still read as a password (and never shown in a message).
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((user_info, rest)) => (Some(credentials(user_info)?), rest),
        None => (None, rest),
    };
    if rest.contains('#') {
        return Err("a fragment (`#…`) has no meaning here".into());
    }
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (host_port, path) = match rest.split_once('/') {
        Some((host_port, path)) => (host_port, Some(path)),
        None => (rest, None),
    };
    let (host, port) = host_and_port(host_port)?;

    let security = match (tls, query) {
        (true, None) => Security::Tls,
        (true, Some(_)) => return Err("`smtps://` takes no query; TLS is always on".into()),
        (false, None) => Security::None,
        (false, Some(query)) => match query.split_once('=') {
            Some(("tls", "required")) => Security::StartTls,
            Some(("tls", "opportunistic")) => Security::Opportunistic,
            Some(("tls", other)) => {
                return Err(format!(
                    "unknown `tls={other}`: expected `tls=required` or `tls=opportunistic`"
                ));
            }
            _ => {
                return Err(format!(
                    "unknown query `{query}`: expected `tls=required` or `tls=opportunistic`"
                ));
            }
        },
    };
    let port = match port {
        Some(port) => port,
        None => match security {
            Security::None => 25,
            Security::Opportunistic | Security::StartTls => 587,
            Security::Tls => 465,
        },
    };
    let hello_name = match path.map(|p| p.trim_matches('/')) {
        None | Some("") => None,
        Some(name) if is_host_name(name) => Some(name.to_owned()),
        Some(name) => return Err(format!("`{name}` is not a host name to greet with")),
    };
    Ok(SmtpUrl {
        security,
        host,
        port,
        credentials,
        hello_name,
    })
}

fn credentials(user_info: &str) -> std::result::Result<Credentials, String> {
    let Some((user, password)) = user_info.split_once(':') else {
        return Err("a user needs a password (`user:password@host`)".into());
    };
    let user = percent_decode(user).ok_or("the user is not valid percent-encoded UTF-8")?;
    let password =
        percent_decode(password).ok_or("the password is not valid percent-encoded UTF-8")?;
    if user.is_empty() {
        return Err("the user is empty".into());
    }
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    Ok(Credentials { user, password })
}

fn host_and_port(host_port: &str) -> std::result::Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address needs its closing `]`")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected `{after}` after the address")),
            },
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    if !host_port.starts_with('[') && !is_host_name(host) {
        return Err(format!("`{host}` is not a host name"));
    }
    let port = match port {
        None => None,
        // `parse` alone would take `+25`.
        Some(port) => match port.parse::<u16>() {
            Ok(number) if number > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Some(number),
            _ => return Err(format!("port `{port}` is not a number from 1 to 65535")),
        },
    };
    Ok((host.to_owned(), port))
}

/// A DNS name or an IPv4 address: letters, digits, `-` and `.`, no empty label.
fn is_host_name(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL as written with its password replaced by `***`, for messages and logs.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL at all: whatever precedes an `@` may be a password.
        return match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_owned(),
        };
    };
    match rest.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for SmtpUrl {
    /// The URL without the password: `smtps://user@host:465`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Tls => "smtps",
            _ => "smtp",
        };
        write!(f, "{scheme}://")?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}@", credentials.user)?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        if let Some(name) = &self.hello_name {
            write!(f, "/{name}")?;
        }
        match self.security {
            Security::StartTls => f.write_str("?tls=required"),
            Security::Opportunistic => f.write_str("?tls=opportunistic"),
            Security::None | Security::Tls => Ok(()),
        }
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({self})")
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}
