//! People's names as the review compares them: the surnames of a client in the log and of a
//! user in the roster, so that an access to a record of the same family can be flagged. The
//! log's index keeps only keys of a client's surnames (a hash of each word); the name stays in
//! its row and goes with it.

/// The surnames of `name`, lowercase, sorted and joined by single spaces: the part before a
/// comma (`Lindqvist, Per`), else every word but the first (`Per Lindqvist Berg`), or the one
/// word there is. Parenthesised notes (`(vikarie)`) are dropped and double names
/// (`Lindqvist-Berg`) give both. Empty when there is no name.
pub(crate) fn surnames(name: &str) -> String {
    let mut plain = String::with_capacity(name.len());
    let mut depth = 0u32;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let part: Vec<&str> = match plain.split_once(',') {
        Some((last, _)) => last.split_whitespace().collect(),
        None => {
            let words: Vec<&str> = plain.split_whitespace().collect();
            if words.len() > 1 {
                words[1..].to_vec()
            } else {
                words
            }
        }
    };
    let mut out: Vec<String> = part
        .iter()
        .flat_map(|w| w.split('-'))
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphabetic())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| w.chars().count() > 1)
        .collect();
    out.sort();
    out.dedup();
    out.join(" ")
}

/// The key of one surname word (FNV-1a, 32 bits; never 0).
pub(crate) fn key(word: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in word.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// The keys of the first two surnames of `name` (0: none): what the log's index keeps of a
/// client's name, so that the name itself goes with the row.
pub(crate) fn surname_keys(name: &str) -> [u32; 2] {
    let all = surnames(name);
    let mut words = all.split(' ').filter(|w| !w.is_empty());
    [words.next().map_or(0, key), words.next().map_or(0, key)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_of_the_forms_logs_and_rosters_write() {
        assert_eq!(surnames("Per Lindqvist"), "lindqvist");
        assert_eq!(surnames("Lindqvist, Per"), "lindqvist");
        assert_eq!(surnames("LINDQVIST, PER"), "lindqvist");
        assert_eq!(surnames("Lena Lindqvist (vikarie)"), "lindqvist");
        assert_eq!(surnames("Anna Lindqvist-Berg"), "berg lindqvist");
        assert_eq!(surnames("Anna Maria Öberg"), "maria öberg");
        assert_eq!(surnames("Öberg"), "öberg");
        assert_eq!(surnames(""), "");
        assert_eq!(surnames("  "), "");
        assert_eq!(surname_keys(""), [0, 0]);
        assert_eq!(surname_keys("Karin Lindqvist"), [key("lindqvist"), 0]);
        assert_eq!(
            surname_keys("Anna Lindqvist-Berg"),
            [key("berg"), key("lindqvist")]
        );
    }
}
