//! Passwords of the local accounts: argon2id with the crate's recommended parameters and a
//! random salt per password, stored as a PHC string (`$argon2id$v=19$m=…`). Verifying reads the
//! parameters from the stored string, so stronger parameters later still verify old hashes.

use crate::{Error, Result};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// The shortest password accepted.
pub(crate) const MIN_LENGTH: usize = 12;

/// Refuses a password too short to be one, in Swedish for the person typing it.
pub(crate) fn check_strength(password: &str) -> std::result::Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(format!(
            "the password has {n} characters; at least {MIN_LENGTH} are needed"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the password contains control characters".into());
    }
    Ok(())
}

/// The PHC string of `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::runtime(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches `stored` (a PHC string); a malformed string matches nothing.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the time of a real verification, for a login with an unknown name: the answer then
/// takes as long as for a known one, and says nothing about which names exist.
pub(crate) fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("loggkoll-dummy-password").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("rätt lösenord 123").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("rätt lösenord 123", &h));
        assert!(!verify("fel lösenord 1234", &h));
        assert!(!verify("rätt lösenord 123", "not a hash"));
        assert_ne!(
            h,
            hash("rätt lösenord 123").unwrap(),
            "a fresh salt each time"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("kort").is_err());
        assert!(check_strength("tillräckligt långt").is_ok());
        assert!(check_strength("tolv tecken\u{7}!").is_err());
    }
}
