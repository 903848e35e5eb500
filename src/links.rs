//! Signed links: the emailed link to a task names the task, the person it was sent to and when it
//! expires, and carries an HMAC-SHA256 over those three with the installation's secret. Nothing
//! else is in it; the page behind it looks the task up. A link works once: when its task has
//! been answered, the page shows the answer instead of the form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub task_id: i64,
    pub person_id: String,
    pub expires: DateTime<Utc>,
    /// A link sent for information ("för kännedom"): it shows the step, never an answer form,
    /// whoever opens it.
    pub read_only: bool,
}

/// The mark of a read-only link, signed with the rest.
const READ_ONLY: &str = "r";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not a token, or the signature does not match: tampered or made up.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

fn mac(secret: &[u8], payload: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so the fallback (a zero key) is never used.
    let mut mac =
        HmacSha256::new_from_slice(secret).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(payload.as_bytes());
    mac
}

/// `TASK.PERSON.EXPIRY.SIGNATURE`, URL-safe; a read-only link is
/// `TASK.PERSON.EXPIRY.r.SIGNATURE`.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let person = URL_SAFE_NO_PAD.encode(claims.person_id.as_bytes());
    let mut payload = format!(
        "{}.{}.{}",
        claims.task_id,
        person,
        claims.expires.timestamp()
    );
    if claims.read_only {
        payload.push('.');
        payload.push_str(READ_ONLY);
    }
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// Checks a token: its signature first (in constant time), then its expiry against `now`.
pub fn verify(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, LinkError> {
    let parts: Vec<&str> = token.split('.').collect();
    let (task, person, expires, read_only, signature) = match parts.as_slice() {
        [task, person, expires, signature] => (task, person, expires, false, signature),
        [task, person, expires, mark, signature] if *mark == READ_ONLY => {
            (task, person, expires, true, signature)
        }
        _ => return Err(LinkError::Invalid),
    };
    let mut payload = format!("{task}.{person}.{expires}");
    if read_only {
        payload.push('.');
        payload.push_str(READ_ONLY);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LinkError::Invalid)?;
    mac(secret, &payload)
        .verify_slice(&signature)
        .map_err(|_| LinkError::Invalid)?;
    let task_id: i64 = task.parse().map_err(|_| LinkError::Invalid)?;
    let person_id = URL_SAFE_NO_PAD
        .decode(person)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(LinkError::Invalid)?;
    let expires = expires
        .parse::<i64>()
        .ok()
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .ok_or(LinkError::Invalid)?;
    if now > expires {
        return Err(LinkError::Expired);
    }
    Ok(Claims {
        task_id,
        person_id,
        expires,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn claims() -> Claims {
        Claims {
            task_id: 42,
            person_id: "p-17".into(),
            expires: at("2027-02-01T00:00:00Z"),
            read_only: false,
        }
    }

    #[test]
    fn a_read_only_link_stays_read_only() {
        let read_only = Claims {
            read_only: true,
            ..claims()
        };
        let now = at("2027-01-15T00:00:00Z");
        let token = sign(b"secret", &read_only);
        assert!(token.contains(".r."), "{token}");
        assert_eq!(verify(b"secret", &token, now), Ok(read_only));
        // Dropping the mark breaks the signature: a read-only link cannot become an answer link.
        let stripped = token.replacen(".r.", ".", 1);
        assert_eq!(verify(b"secret", &stripped, now), Err(LinkError::Invalid));
        // Nor can an answer link be marked into anything else.
        let answer = sign(b"secret", &claims());
        let (head, sig) = answer.rsplit_once('.').unwrap();
        let marked = format!("{head}.x.{sig}");
        assert_eq!(verify(b"secret", &marked, now), Err(LinkError::Invalid));
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let token = sign(b"secret", &claims());
        assert_eq!(
            verify(b"secret", &token, at("2027-01-15T00:00:00Z")),
            Ok(claims())
        );
        assert_eq!(
            verify(b"secret", &token, at("2027-02-01T00:00:01Z")),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn any_change_breaks_it() {
        let token = sign(b"secret", &claims());
        let now = at("2027-01-15T00:00:00Z");
        assert_eq!(verify(b"other", &token, now), Err(LinkError::Invalid));
        let other = sign(
            b"secret",
            &Claims {
                task_id: 43,
                ..claims()
            },
        );
        // The first field of another token with this token's signature.
        let forged = format!(
            "{}.{}",
            other.rsplit_once('.').unwrap().0,
            token.rsplit_once('.').unwrap().1
        );
        assert_eq!(verify(b"secret", &forged, now), Err(LinkError::Invalid));
        // A later expiry, hoping to keep a link alive.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[2] = "9999999999".into();
        assert_eq!(
            verify(b"secret", &parts.join("."), now),
            Err(LinkError::Invalid)
        );
        for junk in ["", "a.b.c", "1.2.3.4.5", "x.y.z.w", "42..1.!!"] {
            assert_eq!(
                verify(b"secret", junk, now),
                Err(LinkError::Invalid),
                "{junk}"
            );
        }
    }
}
