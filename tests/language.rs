//! Issue 25: what people read agrees with itself. Every document and email of a demo year is
//! read for a count of one followed by a plural noun ("1 dagar") and for an event code of the
//! audit trail (`case.reminded`) where a sentence belongs.

#[path = "support/mime.rs"]
mod mime;
mod support;
#[path = "support/words.rs"]
mod words;

use mime::Part;
use support::Test;
use words::problems;

fn texts_of(part: &Part, out: &mut Vec<String>) {
    let kind = part.mime_type();
    if kind.starts_with("multipart/") {
        for p in part.parts() {
            texts_of(&p, out);
        }
    } else if kind.starts_with("text/") && kind != "text/calendar" {
        out.push(part.text());
    }
}

#[test]
fn no_page_of_a_demo_year_says_1_with_a_plural_or_shows_an_event_code() {
    assert_eq!(problems("x", "1 dagar försenat"), ["x: \"1 dagar\""]);
    assert_eq!(problems("x", "<td>1 kunder</td>"), ["x: \"1 kunder\""]);
    assert_eq!(problems("x", "21 dagar, 1 dag"), Vec::<String>::new());
    assert_eq!(
        problems("x", "Händelse case.reminded"),
        ["x: event code `case.reminded`"]
    );
    assert!(problems("x", "se www.case.se och loggkoll.case").is_empty());

    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let run = Test::new()
        .args([
            "demo",
            "--dir",
            demo.to_str().expect("path"),
            "--users",
            "120",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut found = Vec::new();
    let mut read = 0;
    let mut stack = vec![demo.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("dir") {
                stack.push(entry.expect("entry").path());
            }
            continue;
        }
        let name = path.display().to_string();
        let bytes = std::fs::read(&path).expect("file");
        let texts = match path.extension().and_then(|e| e.to_str()) {
            Some("html" | "txt" | "csv" | "json") => {
                vec![String::from_utf8_lossy(&bytes).into_owned()]
            }
            Some("eml") => {
                let mut t = Vec::new();
                texts_of(&Part::parse(&bytes), &mut t);
                t
            }
            _ => continue,
        };
        read += 1;
        for text in texts {
            found.extend(problems(&name, &text));
        }
    }
    assert!(read > 100, "only {read} files read");
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
