//! Where a database is — a file, or a PostgreSQL URL — as messages name it: a URL without its
//! password. Below the store and the error type, which both name databases.

use std::path::Path;

/// Whether `location` (a `--db` value) names a PostgreSQL database rather than a file.
pub(crate) fn is_url(location: &str) -> bool {
    let lower = location.get(..13).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `location` without its password, for messages: the credentials end at the first `@` after
/// the scheme (as the client reads them), and a `password=` parameter is dropped.
pub(crate) fn redacted(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let address = match before_query.split_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => before_query.to_string(),
    };
    let query: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .map(|p| {
            if p.to_ascii_lowercase().starts_with("password=") {
                "password=***"
            } else {
                p
            }
        })
        .collect();
    if query.is_empty() {
        format!("{scheme}://{address}")
    } else {
        format!("{scheme}://{address}?{}", query.join("&"))
    }
}

/// A database's location as messages show it: a file's path, or a URL without its password.
pub fn display_location(location: &Path) -> String {
    let text = location.to_string_lossy();
    if is_url(&text) {
        redacted(&text)
    } else {
        location.display().to_string()
    }
}
