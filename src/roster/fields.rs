//! The kinds of value the roster files hold, each checked the same way wherever it appears.
//! Every check returns the message of a problem, to go after ``field `name`: ``.

use chrono::NaiveDate;

/// An id of a unit or person: not empty, and usable in a `;`-separated list and on a command
/// line.
pub(super) fn id(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(EMPTY.to_string())
    } else if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ';')
    {
        Err(format!(
            "`{value}` is not a valid id (it may not contain spaces or `;`)"
        ))
    } else {
        Ok(())
    }
}

/// A value that must be given.
pub(super) fn required(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(EMPTY.to_string())
    } else {
        Ok(())
    }
}

/// Text shown to people (a name): given, and on one line, without control characters (a line
/// break in a name would break the email headers it goes into).
pub(super) fn text(value: &str) -> Result<(), String> {
    required(value)?;
    if value.chars().any(char::is_control) {
        return Err(
            "contains a control character (a line break or a tab); write it on one line".into(),
        );
    }
    Ok(())
}

pub(super) const EMPTY: &str = "must not be empty";

/// One address: `name@domain`, one `@`, no blanks.
pub(super) fn email(value: &str) -> Result<(), String> {
    required(value)?;
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if well_formed {
        Ok(())
    } else {
        Err(format!("`{value}` is not an email address"))
    }
}

/// `YYYY-MM-DD`, or empty for none.
pub(super) fn date(value: &str) -> Result<Option<NaiveDate>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) if shaped => Ok(Some(date)),
        _ => Err(format!("`{value}` is not a date (expected YYYY-MM-DD)")),
    }
}

/// The system of an account: a lowercase identifier (`npo`, `treserva`, `procapita_2`).
pub(super) fn system(value: &str) -> Result<(), String> {
    let mut chars = value.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        let lower = value.to_ascii_lowercase();
        let hint = if lower != value && system(&lower).is_ok() {
            format!(" (did you mean `{lower}`?)")
        } else {
            String::new()
        };
        Err(format!(
            "system `{value}` is not a lowercase identifier{hint}"
        ))
    }
}

/// The items of a `;`-separated list, trimmed; empty items (`a;;b`, a trailing `;`) are left
/// out.
pub(super) fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(id("HT-VÄST_1.2"), Ok(()));
        assert_eq!(id("anna@example.se"), Ok(()));
        assert_eq!(id(""), Err("must not be empty".to_string()));
        for bad in ["a b", "a;b", "a\u{a0}b", "a\nb"] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("anna.berg@example.se"), Ok(()));
        assert_eq!(email("a@b"), Ok(()));
        assert_eq!(email(""), Err("must not be empty".to_string()));
        for bad in [
            "anna",
            "@example.se",
            "anna@",
            "a@b@c",
            "anna berg@example.se",
        ] {
            assert_eq!(email(bad), Err(format!("`{bad}` is not an email address")));
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date(""), Ok(None));
        assert_eq!(date("2024-02-29"), Ok(NaiveDate::from_ymd_opt(2024, 2, 29)));
        for bad in [
            "2026-13-01",
            "2025-02-29",
            "2026-1-05",
            "26-01-05",
            "2026/01/05",
            "+2026-01-0",
        ] {
            assert_eq!(
                date(bad),
                Err(format!("`{bad}` is not a date (expected YYYY-MM-DD)")),
                "{bad}"
            );
        }
    }

    #[test]
    fn systems() {
        assert_eq!(system("npo"), Ok(()));
        assert_eq!(system("procapita_2"), Ok(()));
        assert_eq!(
            system("NPO"),
            Err("system `NPO` is not a lowercase identifier (did you mean `npo`?)".to_string())
        );
        assert_eq!(
            system("2npo"),
            Err("system `2npo` is not a lowercase identifier".to_string())
        );
        assert_eq!(
            system("n po"),
            Err("system `n po` is not a lowercase identifier".to_string())
        );
    }

    #[test]
    fn lists() {
        assert_eq!(list(" a ; b;;c; ").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(list("").count(), 0);
    }
}
