//! Did-you-mean, one rule for every message that offers it (routines, format files, CSV headers,
//! crontab names, CLI values): the candidate nearest a misspelt word by Damerau–Levenshtein
//! distance (a swap counts as one edit), case ignored, ties to the first candidate.

/// The candidate `word` most likely meant: at most a third of its letters (at least one) wrong.
pub(crate) fn nearest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let allowed = (word.chars().count() / 3).max(1);
    within(word, candidates, allowed)
}

/// The candidate nearest `word` at most `allowed` edits away.
pub(crate) fn within<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    allowed: usize,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = strsim::damerau_levenshtein(&word, &candidate.to_lowercase());
        if distance <= allowed && best.is_none_or(|(nearest, _)| distance < nearest) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_only_any_case_first_of_equals() {
        let names = ["deadline", "reminders", "escalation", "assignee"];
        assert_eq!(nearest("dealine", names), Some("deadline"));
        assert_eq!(nearest("Reminder", names), Some("reminders"));
        assert_eq!(nearest("escalatoin", names), Some("escalation"));
        assert_eq!(nearest("owner", names), None);
        assert_eq!(
            within("JNA", ["JUN", "JAN"], 1),
            Some("JAN"),
            "a swap is one edit"
        );
        assert_eq!(within("@dayli", ["@daily", "@hourly"], 2), Some("@daily"));
        assert_eq!(within("XYZ", ["JAN", "JUN"], 1), None);
    }
}
