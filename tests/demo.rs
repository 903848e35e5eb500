//! `loggkoll demo`: the first thing a newcomer runs.

mod support;

use support::{Test, root};

#[test]
fn the_demo_runs_a_year_and_says_where_everything_is() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let demo_arg = demo.to_str().unwrap();
    let run = Test::new()
        .args(["demo", "--dir", demo_arg, "--users", "120"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 12 Treserva rounds, 2 NPÖ rounds and the access-rights review on 1 March.
    assert!(run.stdout.contains("15 rounds"), "{}", run.stdout);
    assert!(
        run.stdout.contains("coverage treserva-sampling"),
        "{}",
        run.stdout
    );
    // The everyday mess, explained by the relations and shifts the demo imports.
    let share = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("explained"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pct| pct.replace(',', ".").parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no explained share in\n{}", run.stdout));
    assert!(share >= 94.0, "{share} % explained");
    for kind in [
        "substitute_on_shift",
        "night_shift",
        "handlaggare",
        "moved_client",
    ] {
        assert!(run.stdout.contains(kind), "{kind} in\n{}", run.stdout);
    }
    for file in [
        "units.csv",
        "people.csv",
        "loggkoll.db",
        "relations.csv",
        "shifts.csv",
        "loggkoll.toml",
    ] {
        assert!(demo.join(file).is_file(), "{file}");
    }
    // The server it tells you to start reads the demo's configuration: its documents name the
    // demo's municipality, not a placeholder.
    let config = std::fs::read_to_string(demo.join("loggkoll.toml")).unwrap();
    assert!(
        config.contains("organisation = \"Exempelby kommun (demo)\""),
        "{config}"
    );
    assert!(
        run.stdout.contains(&format!(
            "--config {}",
            demo.join("loggkoll.toml").display()
        )),
        "{}",
        run.stdout
    );
    let emails = std::fs::read_dir(demo.join("outbox")).unwrap().count();
    assert!(emails > 100, "{emails} emails");
    assert!(
        run.stdout.contains(&format!("({emails} .eml files)")),
        "{}",
        run.stdout
    );
    // The records: protocols, an extract letter filed with its metadata, the SAS's summary.
    let archive = std::fs::read_dir(demo.join("arkiv")).unwrap().count();
    assert!(archive > 5, "{archive} case folders");
    let extract = std::fs::read_dir(demo.join("arkiv"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("UTL-"))
        .expect("an extract case folder");
    assert!(extract.join("arende.json").is_file());
    assert!(
        demo.join("sammanstallning/sammanstallning-2027.html")
            .is_file()
    );
    assert!(
        demo.join("sammanstallning/sammanstallning-2027.csv")
            .is_file()
    );
    assert!(
        run.stdout.contains("log in as `demo`, password `"),
        "{}",
        run.stdout
    );
    let db = demo.join("loggkoll.db");
    // Every email went out as a mail server would have had it: on a Swedish working day,
    // between 07 and 17 local time.
    for entry in std::fs::read_dir(demo.join("outbox")).unwrap() {
        let eml = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let date = eml
            .lines()
            .find_map(|l| l.strip_prefix("Date: "))
            .expect("a Date header");
        let at = chrono::DateTime::parse_from_rfc2822(date.trim())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Stockholm);
        let hour = chrono::Timelike::hour(&at);
        assert!(
            loggkoll::calendar::is_working_day(at.date_naive()) && (7..17).contains(&hour),
            "an email dated {at}"
        );
    }
    // The year leaves December's reviews open, with something to judge, for the newcomer.
    let open = Test::new()
        .args([
            "--db",
            db.to_str().unwrap(),
            "case",
            "list",
            "--open",
            "--json",
        ])
        .run();
    assert_eq!(open.code, 0, "{}", open.stderr);
    let open: serde_json::Value = serde_json::from_str(&open.stdout).unwrap();
    let reviews: Vec<String> = open
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "sampling")
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    assert!(reviews.len() >= 3, "{open}");
    let flagged = reviews.iter().any(|case| {
        let ev = Test::new()
            .args([
                "--db",
                db.to_str().unwrap(),
                "case",
                "evidence",
                case,
                "--json",
                "--now",
                "2027-12-31T12:00",
            ])
            .run();
        let ev: serde_json::Value = serde_json::from_str(&ev.stdout).unwrap_or_default();
        ev["counts"]["flagged"].as_u64().unwrap_or(0) > 0
    });
    assert!(flagged, "an open review with a flagged access");
    assert!(
        run.stdout.contains(&format!("({} open)", reviews.len()))
            || run.stdout.contains(" open), "),
        "{}",
        run.stdout
    );
    let verify = Test::new()
        .args(["--db", db.to_str().unwrap(), "audit", "verify"])
        .run();
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    // Running it again clears the earlier demo and, with the same seed, draws the same year.
    let again = Test::new()
        .args(["demo", "--dir", demo_arg, "--users", "120"])
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        std::fs::read_dir(demo.join("outbox")).unwrap().count(),
        emails
    );
}

#[test]
fn the_demo_leaves_other_folders_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("important.txt"), "keep me").unwrap();
    let run = Test::new()
        .args(["demo", "--dir", dir.path().to_str().unwrap()])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not an earlier demo"),
        "{}",
        run.stderr
    );
    assert!(dir.path().join("important.txt").exists());
    let _ = root();
}

/// The binary carries its routines and templates: `demo` runs from an empty folder (as after
/// `cargo install`), and `init` writes the set out for editing, once.
#[test]
fn the_demo_runs_from_an_empty_folder_and_init_writes_the_embedded_set_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = Test::in_dir(dir.path())
        .args(["demo", "--users", "40"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("using the embedded routines and templates"),
        "{}",
        run.stderr
    );
    assert!(dir.path().join("demo/loggkoll.db").is_file());
    // init, then check the written folder.
    let run = Test::in_dir(dir.path()).args(["init", "mine"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in [
        "mine/routines/treserva-sampling.yaml",
        "mine/routines/guides/lathund-logguppfoljning.html",
        "mine/templates/mail/task.txt",
        "mine/templates/web/task.html",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let run = Test::in_dir(&dir.path().join("mine")).args(["check"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("embedded"),
        "./routines is used when present: {}",
        run.stderr
    );
    // The example roster imports as it is, and the configuration's formats are the folder's
    // own, also when loggkoll runs elsewhere with --config.
    let run = Test::in_dir(&dir.path().join("mine"))
        .args([
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
        ])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let formats = dir.path().join("mine/formats/standard.yaml");
    std::fs::write(&formats, "id: [broken\n").unwrap();
    let config = dir.path().join("mine/loggkoll.toml");
    let run = Test::in_dir(dir.path())
        .args(["--config", config.to_str().unwrap(), "check"])
        .run();
    assert_ne!(
        run.code, 0,
        "the configured formats were read: {}",
        run.stderr
    );
    assert!(run.stderr.contains("standard.yaml"), "{}", run.stderr);
    // A configured formats folder that is not there is said, not quietly replaced.
    let run = Test::in_dir(dir.path())
        .env("LOGGKOLL_FORMATS", "no-such-folder")
        .args(["check"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("LOGGKOLL_FORMATS"), "{}", run.stderr);
    let run = Test::in_dir(dir.path())
        .args(["init", "--no-examples", "bare"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir.path().join("bare/routines").is_dir());
    assert!(!dir.path().join("bare/loggkoll.toml").exists());
    // Never over an existing file: refused, nothing changed.
    let edited = dir.path().join("mine/routines/treserva-sampling.yaml");
    std::fs::write(&edited, "# mine\n").unwrap();
    let run = Test::in_dir(dir.path()).args(["init", "mine"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("exists already"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "# mine\n");
}

/// The README travels with a clone: no path outside the repository, and every document it
/// links exists.
#[test]
fn the_readme_points_only_inside_the_repository() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(!readme.contains("../"), "a path outside the repository");
    for doc in [
        "docs/cli.md",
        "docs/glossary.md",
        "docs/benchmarks.md",
        "docs/obligations.md",
        "ROUTINES.md",
        "ARCHITECTURE.md",
    ] {
        assert!(readme.contains(doc), "{doc} is linked");
        assert!(root().join(doc).is_file(), "{doc} exists");
    }
    // The order a newcomer reads in: what it is, the two commands, one review with pictures,
    // editing a routine, production, a shared service, the docs.
    let headings: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    assert_eq!(
        headings,
        [
            "Two commands",
            "One review, step by step",
            "Editing a routine",
            "Running it in production",
            "A shared service on PostgreSQL",
            "Documentation"
        ],
        "the README's sections"
    );
    let mut images = 0;
    for piece in readme.split("](").skip(1) {
        let target = piece.split(')').next().unwrap();
        if target.ends_with(".png") {
            assert!(root().join(target).is_file(), "{target} exists");
            images += 1;
        }
    }
    assert!(images >= 2, "screenshots of the task page and the overview");
    let cli = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    for command in [
        "`check",
        "`roster import",
        "`tick",
        "`case open",
        "`init DIR",
        "`case decide",
    ] {
        assert!(cli.contains(command), "docs/cli.md covers {command}");
    }
}

/// The command line for people: `--version` names the commit, `--subject-user` takes an
/// account, and `case open` says who was emailed.
#[test]
fn the_command_line_names_the_commit_takes_accounts_and_says_who_was_emailed() {
    let run = Test::new().args(["--version"]).run();
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("(commit "), "{}", run.stdout);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("units.csv"),
        "unit_id,name,parent_id\nORG,Org,\nVH1,Verksamhet,ORG\nEN1,Hemtjänst,VH1\n",
    )
    .unwrap();
    std::fs::write(
        d.join("people.csv"),
        "person_id,name,email,units,roles,accounts,active_from,active_to\n\
         VC1,Vera Verksamhetschef,vc@example.se,VH1,operations_manager@VH1,,,\n\
         EC1,Erik Enhetschef,ec@example.se,EN1,unit_manager@EN1,,,\n\
         HR1,Hanna HR,hr@example.se,ORG,hr_strategist@ORG;business_area_manager@ORG,,,\n\
         U01,Anna Andersson,anna@example.se,EN1,,treserva:tre00238,,\n",
    )
    .unwrap();
    let base = |args: &[&str]| {
        Test::in_dir(d)
            .args([
                "--routines",
                &root().join("routines").display().to_string(),
                "--templates",
                &root().join("templates").display().to_string(),
            ])
            .args(args)
            .env("LOGGKOLL_MAIL_URL", "file://mail")
            .run()
    };
    let run = base(&[
        "roster",
        "import",
        "--units",
        "units.csv",
        "--people",
        "people.csv",
        "--now",
        "2027-01-04T08:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = base(&[
        "case",
        "open",
        "targeted-review",
        "--unit",
        "EN1",
        "--by",
        "VC1",
        "--subject-user",
        "tre00238",
        "--reason",
        "Tips",
        "--from",
        "2027-01-01",
        "--to",
        "2027-01-02",
        "--system",
        "treserva",
        "--now",
        "2027-01-04T09:00",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let case = run.stdout.trim().to_string();
    assert!(case.starts_with("RIK-"), "{case}");
    assert!(
        run.stderr.contains(&format!(
            "{case}: queued for Vera Verksamhetschef <vc@example.se> (the task), sent in working hours"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(for information)"), "{}", run.stderr);
    let conn = rusqlite::Connection::open(d.join("loggkoll.db")).unwrap();
    let subject: String = conn
        .query_row(
            "SELECT subject_person_id FROM cases WHERE id = ?1",
            [&case],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(subject, "U01", "the account's holder");
    // `case list` shows names beside the ids.
    let run = base(&["case", "list", "--now", "2027-01-04T10:00"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&case))
        .expect("the case listed");
    assert!(line.contains("VC1 Vera Verksamhetschef"), "{line}");
    assert!(line.contains("EN1 Hemtjänst"), "{line}");
}

/// Shell completions and the manual page come from the same clap definitions as the parser, so
/// every command (`case judge` included) is completed and documented.
#[test]
fn completions_and_the_manual_page_cover_every_command() {
    let run = Test::new().args(["completions", "bash"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("complete -F _loggkoll"),
        "{}",
        run.stdout
    );
    for sub in ["judge", "evidence", "redraw", "radar", "init"] {
        assert!(run.stdout.contains(sub), "bash completion knows {sub}");
    }
    let run = Test::new().args(["completions", "zsh"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("#compdef loggkoll"), "{}", run.stdout);
    let run = Test::new().args(["completions", "tcsh"]).run();
    assert_eq!(run.code, 2, "an unknown shell is a usage error");

    let run = Test::new().args(["man"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH loggkoll 1"), "{}", run.stdout);
    assert!(run.stdout.contains("commit "), "the page names the version");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let run = Test::new()
        .args(["man", "--out", out.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = std::fs::read_to_string(out.join("loggkoll-case-judge.1")).unwrap();
    assert!(page.contains("judge"), "{page}");
    assert!(out.join("loggkoll.1").is_file());
}

/// The systemd unit reads the log formats the package's first install writes: its
/// `LOGGKOLL_FORMATS` is the `formats/` of the folder `postinst` runs `init` into, and `init`
/// writes that folder.
#[test]
fn the_systemd_unit_reads_the_installed_formats() {
    let unit = std::fs::read_to_string(root().join("deploy/loggkoll.service")).unwrap();
    let postinst = std::fs::read_to_string(root().join("deploy/debian/postinst")).unwrap();
    let formats = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("Environment=LOGGKOLL_FORMATS="))
        .expect("the unit names the formats folder");
    let init_dir = postinst
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("/usr/bin/loggkoll init")?;
            rest.split_whitespace().find(|w| w.starts_with('/'))
        })
        .expect("postinst runs init into a folder");
    assert_eq!(formats, format!("{init_dir}/formats"));
    // What init writes there: the formats folder with the shipped formats.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("etc");
    let run = Test::new()
        .args(["init", "--no-examples", target.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(target.join("formats/standard.yaml").is_file());
    // And loggkoll reads them from there: a broken one is found by `check`.
    let env = ("LOGGKOLL_FORMATS", target.join("formats"));
    let run = Test::in_dir(dir.path())
        .env(env.0, env.1.to_str().unwrap())
        .args(["check"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(target.join("formats/standard.yaml"), "id: [broken\n").unwrap();
    let run = Test::in_dir(dir.path())
        .env(env.0, env.1.to_str().unwrap())
        .args(["check"])
        .run();
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("standard.yaml"), "{}", run.stderr);
}

/// One HTTP/1.1 request on a fresh connection; the whole reply.
fn http(port: u16, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("request");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("reply");
    String::from_utf8_lossy(&reply).into_owned()
}

/// Issue 29: served as the demo prints it, the emailed link of an open review with a flagged
/// access opens, and its answer is accepted.
#[test]
fn the_demo_served_as_printed_takes_an_answer_from_an_emailed_link() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let run = Test::new()
        .args(["demo", "--dir", demo.to_str().unwrap(), "--users", "120"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let db = demo.join("loggkoll.db");
    let config = demo.join("loggkoll.toml");
    // The printed command: the demo's configuration, whose links name serve's own address.
    let printed = run
        .stdout
        .lines()
        .find(|l| l.contains(" serve --now "))
        .expect("the serve command")
        .to_string();
    assert!(
        printed.contains(&format!("--config {}", config.display())),
        "{printed}"
    );
    let now = printed
        .split("--now ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("its --now")
        .to_string();
    // An open review with a flagged access, and the link its task email carries.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let open: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare(
                "SELECT c.id, o.context FROM cases c JOIN outbox o ON o.case_id = c.id
                 WHERE c.kind = 'sampling' AND c.closed_at IS NULL AND o.purpose = 'task'
                   AND o.status = 'sent' ORDER BY o.id DESC",
            )
            .unwrap();
        // Each case's newest task email: the link to its open step.
        let mut seen = std::collections::HashSet::new();
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .filter(|(case, _)| seen.insert(case.clone()))
            .collect()
    };
    let (case, context) = open
        .iter()
        .find(|(case, _)| {
            let ev = Test::new()
                .args([
                    "--db",
                    db.to_str().unwrap(),
                    "case",
                    "evidence",
                    case,
                    "--json",
                    "--now",
                    &now,
                ])
                .run();
            serde_json::from_str::<serde_json::Value>(&ev.stdout)
                .ok()
                .and_then(|ev| ev["counts"]["flagged"].as_u64())
                .is_some_and(|n| n > 0)
        })
        .expect("an emailed open review with a flagged access");
    let link = serde_json::from_str::<serde_json::Value>(context).unwrap()["link"]
        .as_str()
        .expect("a link")
        .to_string();
    let path = link
        .strip_prefix("http://127.0.0.1:8080")
        .unwrap_or_else(|| panic!("the link names serve's default address: {link}"))
        .to_string();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_loggkoll"))
        .current_dir(dir.path())
        .args([
            "--db",
            db.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .args(["serve", "--listen", "127.0.0.1:0", "--now", &now])
        .env_remove("LOGGKOLL_DB")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut stderr = std::io::BufReader::new(serve.stderr.take().expect("stderr")).lines();
    let port = stderr
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("serving http://127.0.0.1:")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok())
        })
        .expect("serve says where it listens");
    std::thread::spawn(move || stderr.map_while(Result::ok).for_each(drop));
    let page = http(port, "GET", &path, "");
    assert!(page.starts_with("HTTP/1.1 200"), "{path}: {page}");
    assert!(
        page.contains(case.as_str()) && page.contains("Flagga"),
        "{page}"
    );
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the form's token")
        .to_string();
    // The first outcome that may be chosen now (no finding waits for the judgements).
    let outcome = page
        .split("name=\"outcome\" value=\"")
        .skip(1)
        .find(|rest| {
            let tag_end = rest.find('>').unwrap_or(0);
            !rest[..tag_end].contains("disabled")
        })
        .and_then(|rest| rest.split('"').next())
        .expect("an outcome to choose")
        .to_string();
    let answer = http(
        port,
        "POST",
        &path,
        &format!("csrf={csrf}&outcome={outcome}&comment=Kontrollerat+i+demon"),
    );
    assert!(
        answer.starts_with("HTTP/1.1 303"),
        "{}",
        &answer[..answer.len().min(600)]
    );
    let answered: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM tasks WHERE case_id = ?1 AND answered_at IS NOT NULL AND outcome = ?2",
            [case.as_str(), outcome.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(answered, 1, "the answer is recorded");
    let _ = serve.kill();
    let _ = serve.wait();
}
