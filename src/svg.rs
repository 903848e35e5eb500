//! What everything that writes SVG by hand (the overview's and the annual summary's charts, the
//! routine graph) needs: escaping, and labels cut to fit.

/// `text` escaped for SVG (XML) text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` in at most `max` characters: a long one loses its middle, since names of routines
/// and units often differ only at the end ("… i NPÖ", "… i Treserva").
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_keep_their_ends() {
        assert_eq!(shorten("Ekbacken", 8), "Ekbacken");
        assert_eq!(shorten("Ekbacken", 0), "");
        assert_eq!(shorten("Ekbacken", 1), "…");
        let short = shorten("Systematisk stickprovskontroll av loggar i NPÖ", 20);
        assert_eq!(short.chars().count(), 20);
        assert!(
            short.starts_with("Systemati") && short.ends_with("ggar i NPÖ"),
            "{short}"
        );
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a & \"b\" 'c'>"),
            "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;"
        );
    }
}
