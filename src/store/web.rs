//! The web layer's tables: local accounts of quality staff, their sessions and failed logins.
//! Passwords arrive here already hashed (argon2, in `web::password`) and session tokens as their
//! SHA-256, so the database holds nothing that logs anyone in.

use super::db::{Db, OptionalExtension, params};
use super::{parse_ts, ts};
use crate::Result;
use chrono::{DateTime, Utc};

/// What a web account may do: `admin` also manages accounts, `quality` reads everything and
/// starts and steers cases, `reader` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebRole {
    Admin,
    Quality,
    Reader,
}

impl WebRole {
    pub(crate) const ALL: [WebRole; 3] = [WebRole::Admin, WebRole::Quality, WebRole::Reader];

    pub fn as_str(self) -> &'static str {
        match self {
            WebRole::Admin => "admin",
            WebRole::Quality => "quality",
            WebRole::Reader => "reader",
        }
    }

    pub fn parse(text: &str) -> Option<WebRole> {
        WebRole::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The role as the overview names it.
    pub fn title_sv(self) -> &'static str {
        match self {
            WebRole::Admin => "administratör",
            WebRole::Quality => "kvalitetsarbete",
            WebRole::Reader => "läsbehörighet",
        }
    }

    /// Whether the account may start cases and act on them (not only read).
    pub(crate) fn may_act(self) -> bool {
        matches!(self, WebRole::Admin | WebRole::Quality)
    }
}

/// An account, local or the provider's, as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRow {
    pub name: String,
    pub role: WebRole,
    pub created_at: String,
    pub password_changed_at: String,
    pub last_login_at: Option<String>,
    /// How it signs in: `password` (a local account) or `provider` (`[web.oidc]`).
    pub sign_in: &'static str,
}

/// Adds an account; false when the name is taken.
pub fn add_user(
    conn: &Db,
    name: &str,
    hash: &str,
    role: WebRole,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn.execute(
        "INSERT INTO web_users (name, password_hash, created_at, password_changed_at, role)
         VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT DO NOTHING",
        params![name, hash, ts(now), role.as_str()],
    )? == 1)
}

/// Sets an account's role; false when there is no such account.
pub(crate) fn set_role(conn: &Db, name: &str, role: WebRole) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE web_users SET role = ?2 WHERE name = ?1",
        params![name, role.as_str()],
    )? == 1)
}

fn role_of(text: String) -> WebRole {
    // The column's CHECK admits only the three; anything else reads as the least.
    WebRole::parse(&text).unwrap_or(WebRole::Reader)
}

/// Replaces an account's password and ends its sessions; false when there is no such account.
pub(crate) fn set_password(conn: &Db, name: &str, hash: &str, now: DateTime<Utc>) -> Result<bool> {
    let n = conn.execute(
        "UPDATE web_users SET password_hash = ?2, password_changed_at = ?3 WHERE name = ?1",
        params![name, hash, ts(now)],
    )?;
    conn.execute("DELETE FROM web_sessions WHERE user_name = ?1", [name])?;
    Ok(n == 1)
}

/// Removes an account and its sessions; false when there is no such account.
pub(crate) fn remove_user(conn: &Db, name: &str) -> Result<bool> {
    conn.execute("DELETE FROM web_sessions WHERE user_name = ?1", [name])?;
    Ok(conn.execute("DELETE FROM web_users WHERE name = ?1", [name])? == 1)
}

pub fn users(conn: &Db) -> Result<Vec<UserRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, created_at, password_changed_at, last_login_at, role, source FROM web_users
         ORDER BY name",
    )?;
    let rows = stmt.query_map((), |r| {
        Ok(UserRow {
            name: r.get(0)?,
            role: role_of(r.get(4)?),
            created_at: r.get(1)?,
            password_changed_at: r.get(2)?,
            last_login_at: r.get(3)?,
            sign_in: if r.get::<String>(5)? == "oidc" {
                "provider"
            } else {
                "password"
            },
        })
    })?;
    rows.collect::<Result<_>>()
}

/// The stored password hash of an account.
pub fn password_hash(conn: &Db, name: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM web_users WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()
}

pub(crate) fn record_login(conn: &Db, name: &str, now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached("UPDATE web_users SET last_login_at = ?2 WHERE name = ?1")?
        .execute(params![name, ts(now)])?;
    Ok(())
}

/// Starts a session; `token_hash` is the SHA-256 (hex) of the cookie's token.
pub(crate) fn create_session(
    conn: &Db,
    token_hash: &str,
    user: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    // Expired sessions go as new ones come.
    conn.prepare_cached("DELETE FROM web_sessions WHERE expires_at <= ?1")?
        .execute([ts(now)])?;
    conn.prepare_cached(
        "INSERT INTO web_sessions (token_hash, user_name, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![token_hash, user, ts(now), ts(expires)])?;
    Ok(())
}

/// The account (and its role) of a session that has not expired at `now`. A session created
/// after `now` was made by a clock ahead of this one (a server run with `--now`) and does not
/// hold.
pub(crate) fn session_user(
    conn: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, WebRole)>> {
    conn.prepare_cached(
        "SELECT s.user_name, u.role FROM web_sessions s JOIN web_users u ON u.name = s.user_name
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.created_at <= ?2",
    )?
    .query_row(params![token_hash, ts(now)], |r| {
        Ok((r.get(0)?, role_of(r.get(1)?)))
    })
    .optional()
}

pub(crate) fn delete_session(conn: &Db, token_hash: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM web_sessions WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

/// A run of failed logins of one key (`user:NAME` or `addr:IP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    pub failures: u32,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: DateTime<Utc>,
}

pub fn failures(conn: &Db, key: &str) -> Result<Option<Failures>> {
    let row: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT failures, last_failure_at, locked_until FROM web_login_failures WHERE key = ?1",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(n, last, until)| {
        Ok(Failures {
            failures: u32::try_from(n).unwrap_or(u32::MAX),
            last_failure_at: parse_ts(&last)?,
            locked_until: parse_ts(&until)?,
        })
    })
    .transpose()
}

pub(crate) fn set_failures(conn: &Db, key: &str, f: &Failures) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO web_login_failures (key, failures, last_failure_at, locked_until)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
            last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until",
    )?
    .execute(params![
        key,
        i64::from(f.failures),
        ts(f.last_failure_at),
        ts(f.locked_until)
    ])?;
    Ok(())
}

pub(crate) fn clear_failures(conn: &Db, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM web_login_failures WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

// ----- signing in at the identity provider -----

/// Records a login begun at the identity provider.
pub(crate) fn begin_oidc_login(
    conn: &Db,
    state_hash: &str,
    nonce: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    // Logins never finished go after an hour.
    conn.prepare_cached("DELETE FROM web_oidc_logins WHERE created_at < ?1")?
        .execute([ts(now - chrono::Duration::hours(1))])?;
    conn.prepare_cached(
        "INSERT INTO web_oidc_logins (state_hash, nonce, verifier, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![state_hash, nonce, verifier, ts(now)])?;
    Ok(())
}

/// Takes the login of `state_hash` (it is gone afterwards, in the one statement that reads it:
/// an answer is used once, even by two at the same moment): its nonce, verifier and when it
/// began.
pub(crate) fn take_oidc_login(
    conn: &Db,
    state_hash: &str,
) -> Result<Option<(String, String, String)>> {
    conn.prepare_cached(
        "DELETE FROM web_oidc_logins WHERE state_hash = ?1
         RETURNING nonce, verifier, created_at",
    )?
    .query_row([state_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

/// An account's source (`local` or `oidc`) and role, when it exists.
pub fn account(conn: &Db, name: &str) -> Result<Option<(String, WebRole)>> {
    conn.prepare_cached("SELECT source, role FROM web_users WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, role_of(r.get(1)?))))
        .optional()
}

/// The person at the provider an `oidc` account is bound to (none: not yet signed in).
pub(crate) fn oidc_subject(conn: &Db, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT oidc_subject FROM web_users WHERE name = ?1")?
        .query_row([name], |r| r.get::<Option<String>>(0))
        .optional()?
        .flatten())
}

/// Binds an `oidc` account to the person at the provider who first signed in to it.
pub(crate) fn bind_oidc_subject(conn: &Db, name: &str, subject: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE web_users SET oidc_subject = ?2 WHERE name = ?1 AND oidc_subject IS NULL",
    )?
    .execute(params![name, subject])?;
    Ok(())
}

/// Adds an account that signs in at the identity provider only (no password), bound to
/// `subject` when given (made at a login), else to whoever of that name signs in first (made by
/// hand, `user add --oidc`).
pub fn add_oidc_user(
    conn: &Db,
    name: &str,
    role: WebRole,
    subject: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn.execute(
        "INSERT INTO web_users
             (name, password_hash, created_at, password_changed_at, role, source, oidc_subject)
         VALUES (?1, '!', ?2, ?2, ?3, 'oidc', ?4) ON CONFLICT DO NOTHING",
        params![name, ts(now), role.as_str(), subject],
    )? == 1)
}

/// Keeps the ID token a session began with.
pub(crate) fn set_session_id_token(conn: &Db, token_hash: &str, id_token: &str) -> Result<()> {
    conn.prepare_cached("UPDATE web_sessions SET id_token = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, id_token])?;
    Ok(())
}

/// The ID token a session began with, when it began at the identity provider.
pub(crate) fn session_id_token(conn: &Db, token_hash: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT id_token FROM web_sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |r| r.get::<Option<String>>(0))
        .optional()?
        .flatten())
}

// ----- the second factor -----

/// An account's TOTP secret (base32) and the last time step a code was accepted for, when it
/// has a second factor.
pub(crate) fn totp_of(conn: &Db, name: &str) -> Result<Option<(String, Option<i64>)>> {
    Ok(conn
        .prepare_cached("SELECT totp_secret, totp_last_step FROM web_users WHERE name = ?1")?
        .query_row([name], |r| {
            Ok((r.get::<Option<String>>(0)?, r.get::<Option<i64>>(1)?))
        })
        .optional()?
        .and_then(|(secret, step)| secret.map(|s| (s, step))))
}

/// Gives an account its second factor: the secret, the step of the code that confirmed it, and
/// new recovery codes (their SHA-256, hex); earlier codes go.
pub(crate) fn enable_totp(
    conn: &Db,
    name: &str,
    secret: &str,
    step: i64,
    recovery_hashes: &[String],
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE web_users SET totp_secret = ?2, totp_last_step = ?3 WHERE name = ?1",
        params![name, secret, step],
    )?;
    conn.execute(
        "DELETE FROM web_recovery_codes WHERE user_name = ?1",
        [name],
    )?;
    for h in recovery_hashes {
        conn.execute(
            "INSERT INTO web_recovery_codes (user_name, code_hash) VALUES (?1, ?2)",
            params![name, h],
        )?;
    }
    Ok(n == 1)
}

/// Takes the second factor away (the account enrols again at its next login).
pub(crate) fn disable_totp(conn: &Db, name: &str) -> Result<bool> {
    conn.execute(
        "DELETE FROM web_recovery_codes WHERE user_name = ?1",
        [name],
    )?;
    Ok(conn.execute(
        "UPDATE web_users SET totp_secret = NULL, totp_last_step = NULL WHERE name = ?1",
        [name],
    )? == 1)
}

/// Ends the sessions of every account bound to the person `subject` at the identity provider
/// (`ISSUER SUBJECT`), whatever their names; how many sessions ended.
pub(crate) fn end_sessions_of_subject(conn: &Db, subject: &str) -> Result<usize> {
    conn.execute(
        "DELETE FROM web_sessions WHERE user_name IN
            (SELECT name FROM web_users WHERE source = 'oidc' AND oidc_subject = ?1)",
        [subject],
    )
}

/// Ends every session of an account.
pub(crate) fn end_sessions(conn: &Db, name: &str) -> Result<()> {
    conn.execute("DELETE FROM web_sessions WHERE user_name = ?1", [name])?;
    Ok(())
}

/// Accepts a code of time step `step` once: false when that step or a later one was used.
pub(crate) fn use_totp_step(conn: &Db, name: &str, step: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE web_users SET totp_last_step = ?2
         WHERE name = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        params![name, step],
    )? == 1)
}

/// Uses a recovery code (its hash) once: false when it is not one of the account's unused ones.
pub(crate) fn use_recovery_code(
    conn: &Db,
    name: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE web_recovery_codes SET used_at = ?3
         WHERE user_name = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![name, hash, ts(now)],
    )? == 1)
}

/// How many of an account's recovery codes are left.
pub(crate) fn recovery_codes_left(conn: &Db, name: &str) -> Result<i64> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM web_recovery_codes WHERE user_name = ?1 AND used_at IS NULL",
    )?
    .query_row([name], |r| r.get(0))
}

/// Records a password accepted with the second factor awaited (with the secret to enrol, when
/// the account has none yet).
pub(crate) fn begin_pending_login(
    conn: &Db,
    token_hash: &str,
    name: &str,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached("DELETE FROM web_pending_logins WHERE created_at < ?1")?
        .execute([ts(now - chrono::Duration::hours(1))])?;
    conn.prepare_cached(
        "INSERT INTO web_pending_logins (token_hash, user_name, created_at, secret)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![token_hash, name, ts(now), secret])?;
    Ok(())
}

/// The account and enrolment secret of a pending login begun after `since`.
pub(crate) fn pending_login(
    conn: &Db,
    token_hash: &str,
    since: DateTime<Utc>,
) -> Result<Option<(String, Option<String>)>> {
    conn.prepare_cached(
        "SELECT user_name, secret FROM web_pending_logins
         WHERE token_hash = ?1 AND created_at >= ?2",
    )?
    .query_row(params![token_hash, ts(since)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .optional()
}

pub(crate) fn end_pending_login(conn: &Db, token_hash: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM web_pending_logins WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn sessions_end_with_their_account_and_their_expiry() {
        let store = Store::in_memory().unwrap();
        let c = &store.db;
        let now = at("2027-01-05T10:00:00Z");
        assert!(add_user(c, "kvalitet", "$argon2id$x", WebRole::Quality, now).unwrap());
        assert!(!add_user(c, "kvalitet", "$argon2id$y", WebRole::Admin, now).unwrap());
        create_session(c, "h1", "kvalitet", now, at("2027-01-05T18:00:00Z")).unwrap();
        assert_eq!(
            session_user(c, "h1", now).unwrap(),
            Some(("kvalitet".to_string(), WebRole::Quality))
        );
        // A role change reaches the session at once.
        assert!(set_role(c, "kvalitet", WebRole::Reader).unwrap());
        assert_eq!(users(c).unwrap()[0].role, WebRole::Reader);
        assert_eq!(
            session_user(c, "h1", now).unwrap(),
            Some(("kvalitet".to_string(), WebRole::Reader))
        );
        assert!(!set_role(c, "nobody", WebRole::Admin).unwrap());
        assert_eq!(
            session_user(c, "h1", at("2027-01-05T18:00:00Z")).unwrap(),
            None
        );
        assert!(set_password(c, "kvalitet", "$argon2id$z", now).unwrap());
        assert_eq!(session_user(c, "h1", now).unwrap(), None);
        // A session from a clock a year ahead does not hold today.
        let ahead = at("2028-01-05T10:00:00Z");
        create_session(
            c,
            "h3",
            "kvalitet",
            ahead,
            ahead + chrono::Duration::hours(8),
        )
        .unwrap();
        assert!(session_user(c, "h3", ahead).unwrap().is_some());
        assert_eq!(session_user(c, "h3", now).unwrap(), None);
        create_session(c, "h2", "kvalitet", now, at("2027-01-05T18:00:00Z")).unwrap();
        assert!(remove_user(c, "kvalitet").unwrap());
        assert_eq!(session_user(c, "h2", now).unwrap(), None);
        assert!(users(c).unwrap().is_empty());
    }
}
