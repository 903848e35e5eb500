//! The YAML loader: text → a tree of [`Node`]s that keep their positions. We read the event
//! stream of `saphyr-parser` ourselves instead of deserialising with serde, because serde stops
//! at the first problem and forgets where values stood; the parser layer above needs every key
//! and value with its line and column to report all problems at once.

use super::diagnostic::{Diagnostic, Severity};
use super::source::{Source, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
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
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true }
            if value.is_empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    /// What kind of value this is, for messages: "a mapping", "a list", "text".
    pub fn describe(&self) -> &'static str {
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
    Seq(Span, usize, Vec<Node>),
    Map(Span, usize, Vec<(Node, Node)>, Option<Node>),
}

/// Parses the first YAML document of `source`. An empty file gives a null node.
pub fn parse(source: &Source) -> Result<Node, Box<Diagnostic>> {
    let syntax = |span: Span, message: String| {
        Box::new(Diagnostic::new(
            source,
            span,
            Severity::Error,
            "yaml-syntax",
            message,
        ))
    };
    let mut parser = Parser::new_from_str(&source.text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, event_span) = match next {
            Ok(pair) => pair,
            Err(err) => {
                let mark = err.marker();
                let at = Span::new(mark.line().max(1), mark.col() + 1, 1);
                return Err(syntax(at, err.info().to_string()).with_help_boxed(
                    "check the indentation and that every `key: value` has its colon",
                ));
            }
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
            Event::Alias(id) => match anchors.get(&id) {
                Some(node) => Some(Node {
                    kind: node.kind.clone(),
                    span: at,
                }),
                None => return Err(syntax(at, "alias to an unknown anchor".into())),
            },
            Event::Scalar(value, style, anchor, _tag) => Some((
                Node {
                    kind: NodeKind::Scalar {
                        value: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    span: at,
                },
                anchor,
            ))
            .map(|(node, anchor)| {
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }),
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(at, anchor, Vec::new()));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(at, anchor, Vec::new(), None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match stack.pop() {
                    Some(Frame::Seq(span, anchor, items)) => (
                        Node {
                            kind: NodeKind::Seq(items),
                            span,
                        },
                        anchor,
                    ),
                    Some(Frame::Map(span, anchor, entries, _)) => (
                        Node {
                            kind: NodeKind::Map(entries),
                            span,
                        },
                        anchor,
                    ),
                    None => return Err(syntax(at, "unbalanced end of a collection".into())),
                };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
        };
        if let Some(node) = complete {
            match stack.last_mut() {
                Some(Frame::Seq(_, _, items)) => items.push(node),
                Some(Frame::Map(_, _, entries, key)) => match key.take() {
                    Some(k) => entries.push((k, node)),
                    None => *key = Some(node),
                },
                None => {
                    if root.is_none() {
                        root = Some(node);
                    }
                }
            }
        }
    }
    Ok(root.unwrap_or(Node {
        kind: NodeKind::Scalar {
            value: String::new(),
            plain: true,
        },
        span: Span::new(1, 1, 0),
    }))
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
    fn a_second_document_is_refused() {
        let err = parse(&Source::new("t.yaml", "a: 1\n---\nb: 2\n")).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
