//! The YAML loader: text → a tree of [`Node`]s that keep their positions. We read the event
//! stream of `saphyr-parser` ourselves instead of deserialising with serde, because serde stops
//! at the first problem and forgets where values stood; the parser layer above needs every key
//! and value with its line and column to report all problems at once.

use super::diagnostic::{Diagnostic, Severity};
use super::source::{Source, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// A scalar as written; `plain` is false for quoted and block scalars, which are always text.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// `~`, `null` or nothing at all, written plain.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true }
            if value.is_empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    /// What kind of value this is, for messages: "a mapping", "a list", "text".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } if self.is_null() => "nothing",
            NodeKind::Scalar { .. } => "text",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

fn span(s: &saphyr_parser::Span) -> Span {
    Span::new(
        s.start.line().max(1),
        s.start.col() + 1,
        s.end.index().saturating_sub(s.start.index()),
    )
}

enum Frame {
    Seq(Span, usize, Vec<Node>, Weight),
    Map(Span, usize, Vec<(Node, Node)>, Option<Node>, Weight),
}

/// How much a tree holds: nodes and bytes of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Weight {
    nodes: usize,
    bytes: usize,
}

impl Weight {
    fn add(&mut self, other: Weight) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// The most a file may expand to, aliases expanded: a routine has a few hundred nodes; a file
/// of nested aliases ("billion laughs") would otherwise take gigabytes.
pub(crate) const MAX_NODES: usize = 100_000;
pub(crate) const MAX_BYTES: usize = 4 << 20;
/// The most aliases a file may use.
pub(crate) const MAX_ALIASES: usize = 1000;

/// The text with the tabs right after a `:` made spaces (the same length, so positions hold):
/// editors put a tab where the YAML parser wants a space, and `key:<tab>value` is what its
/// writer meant.
fn tabs_after_colons(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(":\t") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut after_colon = false;
    for c in text.chars() {
        match c {
            '\t' if after_colon => out.push(' '),
            ':' => {
                after_colon = true;
                out.push(c);
                continue;
            }
            _ => {
                after_colon = false;
                out.push(c);
                continue;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Parses the first YAML document of `source`. An empty file gives a null node.
pub(crate) fn parse(source: &Source) -> Result<Node, Box<Diagnostic>> {
    let syntax = |span: Span, message: String| syntax_error(source, span, message);
    let text = tabs_after_colons(&source.text);
    let mut parser = Parser::new_from_str(&text);
    let mut tree = Tree::default();
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, event_span) = match next {
            Ok(pair) => pair,
            Err(err) => return Err(scan_error(source, &text, &err)),
        };
        let at = span(&event_span);
        let complete = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(syntax(
                        at,
                        "a routine file holds one document; found a second `---`".into(),
                    )
                    .with_help_boxed("put each routine in a file of its own"));
                }
                None
            }
            Event::Alias(id) => Some(tree.alias(source, id, at)?),
            Event::Scalar(value, style, anchor, _tag) => {
                let weight = Weight {
                    nodes: 1,
                    bytes: value.len(),
                };
                tree.total.add(weight);
                let node = Node {
                    kind: NodeKind::Scalar {
                        value: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    span: at,
                };
                if anchor > 0 {
                    tree.anchors.insert(anchor, (node.clone(), weight));
                }
                Some((node, weight))
            }
            Event::SequenceStart(anchor, _) => {
                tree.total.add(Weight { nodes: 1, bytes: 0 });
                tree.stack.push(Frame::Seq(
                    at,
                    anchor,
                    Vec::new(),
                    Weight { nodes: 1, bytes: 0 },
                ));
                None
            }
            Event::MappingStart(anchor, _) => {
                tree.total.add(Weight { nodes: 1, bytes: 0 });
                tree.stack.push(Frame::Map(
                    at,
                    anchor,
                    Vec::new(),
                    None,
                    Weight { nodes: 1, bytes: 0 },
                ));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => Some(tree.close(source, at)?),
        };
        if tree.total.nodes > MAX_NODES || tree.total.bytes > MAX_BYTES {
            return Err(alias_limit(
                source,
                at,
                format!(
                    "the file holds more than {MAX_NODES} values or {} MB of text",
                    MAX_BYTES >> 20
                ),
            ));
        }
        if let Some((node, weight)) = complete {
            tree.attach(node, weight);
        }
    }
    Ok(tree.root.unwrap_or(Node {
        kind: NodeKind::Scalar {
            value: String::new(),
            plain: true,
        },
        span: Span::new(1, 1, 0),
    }))
}

/// A `yaml-syntax` error of `source` at `span`.
fn syntax_error(source: &Source, span: Span, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::new(
        source,
        span,
        Severity::Error,
        "yaml-syntax",
        message,
    ))
}

/// An `alias-limit` error of `source` at `at`: the file holds or expands to too much.
fn alias_limit(source: &Source, at: Span, what: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::new(
        source,
        at,
        Severity::Error,
        "alias-limit",
        what,
    ))
    .with_help_boxed("a routine needs no more than a few aliases; write the values out")
}

/// The error the parser's `err` makes of `source` (read as `text`, tabs after colons made
/// spaces): a tab in the indentation, a key indented too far or not far enough, else the
/// parser's own words.
fn scan_error(source: &Source, text: &str, err: &saphyr_parser::ScanError) -> Box<Diagnostic> {
    let syntax = |span: Span, message: String| syntax_error(source, span, message);
    let mark = err.marker();
    // A tab in a line's indentation: said at that line, wherever the parser stumbled.
    if let Some((line, column)) = tab_indented(&source.text, mark.line()) {
        return syntax(
            Span::new(line, column, 1),
            "a tab in the indentation".into(),
        )
        .with_help_boxed("YAML indents with spaces only: replace the tab with spaces");
    }
    if let Some(o) = overindented(text, mark.line()) {
        return syntax(
            Span::new(o.line, o.column, o.key.chars().count().max(1)),
            format!("`{}:` is indented more than the line before it", o.key),
        )
        .with_help_boxed(format!(
            "`{}` (line {}) has a value on its line, so nothing can be under it: indent `{}` to column {}, like line {}",
            o.sibling, o.sibling_line, o.key, o.wanted_column, o.sibling_line
        ));
    }
    if let Some(m) = misindented(text, mark.line()) {
        let at = Span::new(m.line, m.column, m.key.chars().count().max(1));
        return syntax(
            at,
            format!("`{}:` is indented less than the line after it", m.key),
        )
        .with_help_boxed(format!(
            "`{}` seems to belong under `{}` (line {}): indent it to column {}, like line {}",
            m.key, m.parent, m.parent_line, m.wanted_column, m.next_line
        ));
    }
    let at = Span::new(mark.line().max(1), mark.col() + 1, 1);
    syntax(at, err.info().to_string())
        .with_help_boxed("check the indentation and that every `key: value` has its colon")
}

/// The tree being built from the parser's events.
#[derive(Default)]
struct Tree {
    /// The collections open, innermost last.
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Weight)>,
    /// Everything the tree holds so far, aliases expanded, and the aliases used.
    total: Weight,
    aliases: usize,
    /// The document's value, once complete.
    root: Option<Node>,
}

impl Tree {
    /// A copy at `at` of the node anchored as `id`, counted against the limits.
    fn alias(
        &mut self,
        source: &Source,
        id: usize,
        at: Span,
    ) -> Result<(Node, Weight), Box<Diagnostic>> {
        let Some((node, weight)) = self.anchors.get(&id) else {
            return Err(syntax_error(
                source,
                at,
                "alias to an unknown anchor".into(),
            ));
        };
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(alias_limit(
                source,
                at,
                format!("the file uses more than {MAX_ALIASES} aliases"),
            ));
        }
        // Checked before the copy is made: the limit bounds memory too.
        let mut after = self.total;
        after.add(*weight);
        if after.nodes > MAX_NODES || after.bytes > MAX_BYTES {
            return Err(alias_limit(
                source,
                at,
                format!(
                    "aliases expand the file past {MAX_NODES} values or {} MB of text",
                    MAX_BYTES >> 20
                ),
            ));
        }
        self.total = after;
        Ok((
            Node {
                kind: node.kind.clone(),
                span: at,
            },
            *weight,
        ))
    }

    /// The innermost open collection, closed at `at` (and anchored if it has an anchor).
    fn close(&mut self, source: &Source, at: Span) -> Result<(Node, Weight), Box<Diagnostic>> {
        let (node, anchor, weight) = match self.stack.pop() {
            Some(Frame::Seq(span, anchor, items, weight)) => (
                Node {
                    kind: NodeKind::Seq(items),
                    span,
                },
                anchor,
                weight,
            ),
            Some(Frame::Map(span, anchor, entries, _, weight)) => (
                Node {
                    kind: NodeKind::Map(entries),
                    span,
                },
                anchor,
                weight,
            ),
            None => {
                return Err(syntax_error(
                    source,
                    at,
                    "unbalanced end of a collection".into(),
                ));
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        Ok((node, weight))
    }

    /// Puts a complete `node` in the innermost open collection, or makes it the root.
    fn attach(&mut self, node: Node, weight: Weight) {
        match self.stack.last_mut() {
            Some(Frame::Seq(_, _, items, w)) => {
                w.add(weight);
                items.push(node)
            }
            Some(Frame::Map(_, _, entries, key, w)) => {
                w.add(weight);
                match key.take() {
                    Some(k) => entries.push((k, node)),
                    None => *key = Some(node),
                }
            }
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

/// The first line, up to the one after `error_line`, whose indentation holds a tab: its line
/// and the tab's column.
fn tab_indented(text: &str, error_line: usize) -> Option<(usize, usize)> {
    text.lines()
        .take(error_line.saturating_add(1))
        .enumerate()
        .find_map(|(i, l)| {
            let lead: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            let rest = &l[lead.len()..];
            // A line of only whitespace, or a comment, is not indentation.
            (!rest.is_empty() && !rest.starts_with('#'))
                .then(|| lead.chars().position(|c| c == '\t'))
                .flatten()
                .map(|col| (i + 1, col + 1))
        })
}

/// A `key:` indented more than the `key: value` line before it, which can hold nothing under
/// it: the parser stumbles on the deeper line itself.
struct Overindented {
    line: usize,
    column: usize,
    key: String,
    sibling: String,
    sibling_line: usize,
    wanted_column: usize,
}

/// When the YAML error is at line `error_line`, a `key:` line indented more than the meaningful
/// line before it, and that line is a `key: value` that is itself rightly placed (the nearest
/// `key:` line above it with nothing after the colon is indented less than it), the error line
/// is the one indented too far.
fn overindented(text: &str, error_line: usize) -> Option<Overindented> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.chars().take_while(|c| *c == ' ').count();
    let meaningful = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    let simple_key = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    let bad = error_line.checked_sub(1)?;
    let bad_text = *lines.get(bad)?;
    let (key, _) = bad_text.trim().split_once(':')?;
    if !meaningful(bad_text) || !simple_key(key) {
        return None;
    }
    let prev = (0..bad).rev().find(|i| meaningful(lines[*i]))?;
    let prev_text = lines[prev];
    let (sibling, value) = prev_text.trim().split_once(':')?;
    if indent(bad_text) <= indent(prev_text) || !simple_key(sibling) || value.trim().is_empty() {
        return None;
    }
    // The line before is rightly placed: under a parent indented less than it.
    let parent = (0..prev).rev().find(|i| {
        let l = lines[*i];
        meaningful(l) && indent(l) <= indent(prev_text) && l.trim_end().ends_with(':')
    })?;
    if indent(lines[parent]) >= indent(prev_text) {
        return None;
    }
    Some(Overindented {
        line: bad + 1,
        column: indent(bad_text) + 1,
        key: key.to_string(),
        sibling: sibling.to_string(),
        sibling_line: prev + 1,
        wanted_column: indent(prev_text) + 1,
    })
}

/// A line indented less than it should be, found from the syntax error it causes on a later
/// line: the parser stumbles on the line after it, so the error would point one line late.
struct Misindented {
    line: usize,
    column: usize,
    key: String,
    parent: String,
    parent_line: usize,
    wanted_column: usize,
    next_line: usize,
}

/// When the YAML error is at line `error_line` and the line before it is a `key: value` indented
/// less than the error line, that line is the mis-indented one; the key it seems to belong under
/// is the nearest line above with `key:` alone and a smaller indentation than the error line.
fn misindented(text: &str, error_line: usize) -> Option<Misindented> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.chars().take_while(|c| *c == ' ').count();
    let meaningful = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    let bad = error_line.checked_sub(1)?;
    let bad_text = lines.get(bad)?;
    if !meaningful(bad_text) {
        return None;
    }
    let want = indent(bad_text);
    let prev = (0..bad).rev().find(|i| meaningful(lines[*i]))?;
    let prev_text = lines[prev];
    let (key, value) = prev_text.trim().split_once(':')?;
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if indent(prev_text) >= want || !simple || value.trim().is_empty() {
        return None;
    }
    let parent = (0..prev).rev().find(|i| {
        let l = lines[*i];
        meaningful(l) && indent(l) < want && l.trim_end().ends_with(':')
    })?;
    Some(Misindented {
        line: prev + 1,
        column: indent(prev_text) + 1,
        key: key.to_string(),
        parent: lines[parent]
            .trim()
            .trim_end_matches(':')
            .trim_start_matches("- ")
            .to_string(),
        parent_line: parent + 1,
        wanted_column: want + 1,
        next_line: bad + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Node {
        match parse(&Source::new("t.yaml", text)) {
            Ok(node) => node,
            Err(d) => panic!("{}", d.render()),
        }
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let node = load("id: x\nstates:\n  review:\n    title: Granska\n");
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.span, Span::new(1, 1, 2));
        assert_eq!(entries[0].1.span, Span::new(1, 5, 1));
        let NodeKind::Map(states) = &entries[1].1.kind else {
            panic!("not a map")
        };
        let NodeKind::Map(review) = &states[0].1.kind else {
            panic!("not a map")
        };
        assert_eq!(review[0].1.span, Span::new(4, 12, 7));
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let node = load("a: '5'\nb: 5\n");
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert!(matches!(
            &entries[0].1.kind,
            NodeKind::Scalar { plain: false, .. }
        ));
        assert!(matches!(
            &entries[1].1.kind,
            NodeKind::Scalar { plain: true, .. }
        ));
    }

    #[test]
    fn an_overindented_key_is_reported_at_its_own_line() {
        let text = "states:\n  review:\n    title: Granska\n      label: Ingen\n    assignee: x\n";
        let err = parse(&Source::new("t.yaml", text)).unwrap_err();
        assert_eq!(
            (err.code, err.line, err.column),
            ("yaml-syntax", 4, 7),
            "{}",
            err.render()
        );
        assert!(
            err.message.contains("`label:` is indented more"),
            "{}",
            err.message
        );
        let help = err.help.clone().unwrap_or_default();
        assert!(help.contains("column 5, like line 3"), "{help}");
    }

    #[test]
    fn a_tab_in_the_indentation_is_reported_at_its_line() {
        let text = "states:\n  review:\n    title: Granska\n\tassignee: x\n    to: y\n";
        let err = parse(&Source::new("t.yaml", text)).unwrap_err();
        assert_eq!(
            (err.code, err.line, err.column),
            ("yaml-syntax", 4, 1),
            "{}",
            err.render()
        );
        assert!(err.message.contains("tab"), "{}", err.message);
        // A tab inside a value is no indentation.
        assert!(parse(&Source::new("t.yaml", "a: 'x\ty'\nb: 1\n")).is_ok());
    }

    #[test]
    fn a_dedented_key_is_reported_at_its_own_line() {
        let text =
            "states:\n  review:\n    outcomes:\n      ok:\n      label: Ingen\n        to: done\n";
        let err = parse(&Source::new("t.yaml", text)).unwrap_err();
        assert_eq!((err.code, err.line, err.column), ("yaml-syntax", 5, 7));
        assert!(err.message.contains("`label:`"), "{}", err.message);
        let help = err.help.clone().unwrap_or_default();
        assert!(help.contains("under `ok` (line 4)"), "{help}");
        assert!(help.contains("column 9"), "{help}");
    }

    #[test]
    fn syntax_error_points_at_the_line() {
        let err = parse(&Source::new("t.yaml", "a: b\n  c: d\n")).unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn aliases_resolve() {
        let node = load("a: &x [1, 2]\nb: *x\n");
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.kind, entries[1].1.kind);
    }

    #[test]
    fn an_alias_bomb_is_refused_at_its_line_before_it_expands() {
        // "Billion laughs": each level doubles nine times over.
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, this) = (w[0], w[1]);
            text.push_str(&format!(
                "{this}: &{this} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        assert!(text.len() < 600, "{}", text.len());
        let err = parse(&Source::new("bomb.yaml", &text)).unwrap_err();
        assert_eq!(err.code, "alias-limit");
        assert!(err.line > 1 && err.line <= 9, "line {}", err.line);
        // A few aliases are fine.
        assert!(parse(&Source::new("ok.yaml", "a: &x [1, 2]\nb: *x\nc: *x\n")).is_ok());
    }

    #[test]
    fn a_tab_after_a_colon_is_a_separator() {
        let node = load("id:\tx\ntitle: \ty\n");
        let NodeKind::Map(entries) = &node.kind else {
            panic!("not a map")
        };
        assert!(matches!(&entries[0].1.kind, NodeKind::Scalar { value, .. } if value == "x"));
        assert!(matches!(&entries[1].1.kind, NodeKind::Scalar { value, .. } if value == "y"));
    }

    #[test]
    fn a_second_document_is_refused() {
        let err = parse(&Source::new("t.yaml", "a: 1\n---\nb: 2\n")).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
