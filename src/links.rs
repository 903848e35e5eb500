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
    /// The task's link generation when the link was made: sending a step's link again from the
    /// overview moves the task to the next one, and older links stop working. 0 is written as
    /// nothing (links made before there were generations are generation 0).
    pub generation: u32,
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
/// `TASK.PERSON.EXPIRY.r.SIGNATURE`; a link of generation N > 0 has `.gN` before the signature.
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
    if claims.generation > 0 {
        payload.push_str(&format!(".g{}", claims.generation));
    }
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// Checks a token: its signature first (in constant time), then its expiry against `now`.
pub fn verify(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, LinkError> {
    let Some((payload, signature)) = token.rsplit_once('.') else {
        return Err(LinkError::Invalid);
    };
    let parts: Vec<&str> = payload.split('.').collect();
    let (task, person, expires, marks) = match parts.as_slice() {
        [task, person, expires, marks @ ..] if marks.len() <= 2 => (task, person, expires, marks),
        _ => return Err(LinkError::Invalid),
    };
    // The marks in their one order: `r`, then `gN` (N > 0, no leading zero).
    let (read_only, generation) = match marks {
        [] => (false, 0),
        [m] if *m == READ_ONLY => (true, 0),
        [g] => (false, generation_of(g)?),
        [m, g] if *m == READ_ONLY => (true, generation_of(g)?),
        _ => return Err(LinkError::Invalid),
    };
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LinkError::Invalid)?;
    mac(secret, payload)
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
        generation,
    })
}

/// N of a `gN` mark.
fn generation_of(mark: &str) -> Result<u32, LinkError> {
    let digits = mark.strip_prefix('g').ok_or(LinkError::Invalid)?;
    if digits.starts_with('0') {
        return Err(LinkError::Invalid);
    }
    digits.parse().map_err(|_| LinkError::Invalid)
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
            generation: 0,
        }
    }

    #[test]
    fn a_later_generation_is_signed_and_cannot_be_lowered() {
        let now = at("2027-01-15T00:00:00Z");
        for read_only in [false, true] {
            let later = Claims {
                generation: 3,
                read_only,
                ..claims()
            };
            let token = sign(b"secret", &later);
            assert!(token.contains(".g3."), "{token}");
            assert_eq!(verify(b"secret", &token, now), Ok(later));
            for forged in [
                token.replacen(".g3.", ".g2.", 1),
                token.replacen(".g3.", ".", 1),
                token.replacen(".g3.", ".g03.", 1),
            ] {
                assert_eq!(verify(b"secret", &forged, now), Err(LinkError::Invalid));
            }
        }
        // A link of generation 0 looks as links always did.
        assert_eq!(sign(b"secret", &claims()).matches('.').count(), 3);
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
