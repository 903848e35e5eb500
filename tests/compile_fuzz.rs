//! Random edits of the shipped routines never panic the compiler, and whatever it accepts is a
//! sound graph.

use loggkoll::routine::{Context, Source, compile};
use loggkoll::templates::Library;
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn shipped() -> &'static Vec<(String, String)> {
    static SHIPPED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("routines");
        let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    })
}

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        Library::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).unwrap()
    })
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceChar(usize, char),
    Insert(usize, String),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let chars = prop::sample::select(vec![
        ':', '-', ' ', '\t', '"', '\'', '0', '9', 'x', '{', '}', '[', ']', '#', '&', '*', '|', '>',
        '%', '@', '!', '\n', 'å', '?', ',',
    ]);
    let snippets = prop::sample::select(vec![
        "  ".to_string(),
        "\n  extra: 1\n".to_string(),
        ": :".to_string(),
        "- ".to_string(),
        "to: review\n".to_string(),
        "result: no_finding\n".to_string(),
        "*alias".to_string(),
        "&anchor ".to_string(),
        "outcomes: {}\n".to_string(),
        "\n---\n".to_string(),
        "deadline: 99999999999 days".to_string(),
        "schedule: \"* * * * * *\"".to_string(),
        "fraction: -1".to_string(),
        "\u{feff}".to_string(),
    ]);
    prop_oneof![
        any::<prop::sample::Index>().prop_map(|i| Edit::DeleteLine(i.index(10_000))),
        any::<prop::sample::Index>().prop_map(|i| Edit::DuplicateLine(i.index(10_000))),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Edit::SwapLines(a.index(10_000), b.index(10_000))),
        (any::<prop::sample::Index>(), chars)
            .prop_map(|(i, c)| Edit::ReplaceChar(i.index(100_000), c)),
        (any::<prop::sample::Index>(), snippets)
            .prop_map(|(i, s)| Edit::Insert(i.index(100_000), s)),
        any::<prop::sample::Index>().prop_map(|i| Edit::Truncate(i.index(100_000))),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let n = lines.len().max(1);
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| i % (chars.len() + 1);
    match edit {
        Edit::DeleteLine(i) => {
            if !lines.is_empty() {
                lines.remove(i % n);
            }
            lines.join("\n")
        }
        Edit::DuplicateLine(i) => {
            if !lines.is_empty() {
                let line = lines[i % n];
                lines.insert(i % n, line);
            }
            lines.join("\n")
        }
        Edit::SwapLines(a, b) => {
            if !lines.is_empty() {
                lines.swap(a % n, b % n);
            }
            lines.join("\n")
        }
        Edit::ReplaceChar(i, c) => {
            let mut chars = chars.clone();
            if !chars.is_empty() {
                let i = i % chars.len();
                chars[i] = *c;
            }
            chars.into_iter().collect()
        }
        Edit::Insert(i, s) => {
            let i = at(*i);
            let mut out: String = chars[..i].iter().collect();
            out.push_str(s);
            out.extend(&chars[i..]);
            out
        }
        Edit::Truncate(i) => chars[..at(*i)].iter().collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_never_panic(which in 0usize..4, edits in prop::collection::vec(edit(), 1..6)) {
        let (path, text) = &shipped()[which % shipped().len()];
        let mut text = text.clone();
        for e in &edits {
            text = apply(&text, e);
        }
        let source = Source::new(path.clone(), text);
        let ctx = Context { templates: Some(library()) };
        let compiled = compile(&source, &ctx);
        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        // A routine comes out exactly when there are no errors.
        prop_assert_eq!(compiled.routine.is_some(), errors == 0);
        for d in &compiled.diagnostics {
            prop_assert!(d.line >= 1, "{:?}", d);
            prop_assert!(!d.message.is_empty());
            let _ = d.render();
        }
        if let Some(routine) = compiled.routine {
            // Whatever compiles is sound: the start is not final and every step has outcomes.
            prop_assert!(!routine.start_state().is_final());
            for (ix, state) in routine.states() {
                prop_assert_eq!(state.is_final(), routine.outcomes(ix).is_empty());
            }
        }
    }
}
