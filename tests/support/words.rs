//! What people read agrees with itself (issue 25): a count of one before a plural noun ("1
//! dagar"), or an event code of the audit trail (`case.reminded`) where a sentence belongs. Used
//! on a demo year's files (`tests/language.rs`) and on every page of the server (`tests/web.rs`).

#![allow(dead_code)]

/// Plural nouns that a count of one must not precede.
pub const PLURALS: &[&str] = &[
    "åtkomster",
    "kunder",
    "ärenden",
    "dagar",
    "arbetsdagar",
    "konton",
    "enheter",
    "timmar",
    "veckor",
    "månader",
    "behörigheter",
    "omgångar",
    "rader",
    "påminnelser",
    "flaggade",
    "polisanmälningar",
];

pub const EVENT_SPACES: &[&str] = &[
    "case", "task", "account", "access", "record", "evidence", "watch", "outbox", "rights", "staff",
];

/// The problems in `text` (from `source`): "1 dagar", or an event code.
pub fn problems(source: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '>' || c == '<')
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        let noun = pair[1].trim_end_matches(|c: char| !c.is_alphabetic());
        if pair[0] == "1" && PLURALS.contains(&noun) {
            out.push(format!("{source}: \"1 {noun}\""));
        }
    }
    for space in EVENT_SPACES {
        let needle = format!("{space}.");
        for (at, _) in text.match_indices(&needle) {
            let before = text[..at].chars().next_back();
            let after: String = text[at + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let word_start =
                before.is_none_or(|c| !c.is_alphanumeric() && !matches!(c, '.' | '/' | '-' | '_'));
            if word_start && after.len() >= 3 {
                out.push(format!("{source}: event code `{space}.{after}`"));
            }
        }
    }
    out
}
