//! Form tokens against cross-site requests. A token is an HMAC-SHA256, keyed with the
//! installation's secret, over a purpose and what the form is bound to: the link token for the
//! task form, the session token for the overview's forms, a short-lived random value in a cookie
//! for the login form. Nothing is stored; a token is valid exactly as long as what it is bound to,
//! and no other page's token fits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The forms, each with its own tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The answer form behind an emailed link; bound to the link token.
    Task,
    /// Forms of a logged-in session (logout); bound to the session token.
    Session,
    /// The login form; bound to the random value of the login cookie.
    Login,
    /// A second factor's secret offered on a page, bound to the account and the secret: the
    /// form cannot bring a secret of its own.
    Enrol,
    /// A recovery code, kept only as this keyed hash.
    Recovery,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Task => "task",
            Purpose::Session => "session",
            Purpose::Login => "login",
            Purpose::Enrol => "enrol",
            Purpose::Recovery => "recovery",
        }
    }
}

fn mac(secret: &[u8], purpose: Purpose, bound_to: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so the fallback (a zero key) is never used.
    let mut mac =
        HmacSha256::new_from_slice(secret).unwrap_or_else(|_| HmacSha256::new(&Default::default()));
    mac.update(b"loggkoll/csrf/");
    mac.update(purpose.label().as_bytes());
    mac.update(&[0]);
    mac.update(bound_to.as_bytes());
    mac
}

/// The token for a form of `purpose` bound to `bound_to`.
pub fn token(secret: &[u8], purpose: Purpose, bound_to: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, purpose, bound_to).finalize().into_bytes())
}

/// Whether `given` is the token for `purpose` and `bound_to` (compared in constant time).
pub fn verify(secret: &[u8], purpose: Purpose, bound_to: &str, given: &str) -> bool {
    if given.len() > 64 {
        return false;
    }
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(given) else {
        return false;
    };
    mac(secret, purpose, bound_to).verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_fits_only_its_form() {
        let t = token(b"s", Purpose::Task, "link");
        assert!(verify(b"s", Purpose::Task, "link", &t));
        assert!(!verify(b"s", Purpose::Task, "other", &t));
        assert!(!verify(b"s", Purpose::Session, "link", &t));
        assert!(!verify(b"x", Purpose::Task, "link", &t));
        for junk in ["", "!!", "a", &"A".repeat(200)] {
            assert!(!verify(b"s", Purpose::Task, "link", junk));
        }
    }
}
