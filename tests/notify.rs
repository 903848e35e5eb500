//! The email layer without a network: building messages, the calendar attachment, reading
//! `mail.url`, the `.eml` folder and the retry schedule.

#[path = "support/mime.rs"]
mod mime;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use loggkoll::ErrorKind;
use loggkoll::notify::eml_file;
use loggkoll::notify::ics::{self, escape_text};
use loggkoll::notify::{
    Calendar, Due, GIVE_UP_AFTER, MailUrl, Outgoing, SendError, Transport, build, next_attempt,
    should_give_up, to_eml,
};
use mime::{Part, decode_words};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn calendar() -> Calendar {
    Calendar {
        uid: "TRE-2027-0042.granskning@loggkoll".into(),
        summary: "Loggkontroll TRE-2027-0042: granska senast 15 mars".into(),
        description: "Granska åtkomsterna för användare 3 i urvalet.\nÖppna ärendet: \
                      https://loggkoll.example.se/arenden/TRE-2027-0042"
            .into(),
        url: Some("https://loggkoll.example.se/arenden/TRE-2027-0042".into()),
        due: Due::Day(NaiveDate::from_ymd_opt(2027, 3, 15).expect("date")),
        stamp: at("2027-03-01T07:00:00Z"),
        reminder: Some(TimeDelta::days(1)),
    }
}

fn outgoing() -> Outgoing {
    Outgoing {
        message_id: "<outbox-42.3f9c2a@loggkoll>".into(),
        from: "Loggkoll <loggkoll@example.se>".into(),
        to: "Åsa Öberg <asa.oberg@example.se>".into(),
        subject: "Dags för loggkontroll: åtkomster i Treserva, vecka 9 (TRE-2027-0042)".into(),
        text: "Hej Åsa!\n\nDu har en loggkontroll att göra före den 15 mars.\n\
               En rad som börjar med en punkt:\n.så här\n\nMed vänlig hälsning\nLoggkoll\n"
            .into(),
        html: "<p>Hej Åsa!</p>\n<p>Du har en <b>loggkontroll</b> att göra före den 15 mars.</p>\n"
            .into(),
        calendar: Some(calendar()),
        attachments: Vec::new(),
        date: at("2027-03-01T07:00:00Z"),
    }
}

/// The MIME tree of a message, one line per part, for a snapshot.
fn outline(part: &Part, depth: usize, out: &mut String) {
    let (kind, params) = part.content_type();
    let mut line = format!("{}{kind}", "  ".repeat(depth));
    for (name, value) in &params {
        if name != "boundary" {
            line.push_str(&format!("; {name}={value}"));
        }
    }
    if let Some(disposition) = part.header("Content-Disposition") {
        line.push_str(&format!(" [{disposition}]"));
    }
    if let Some(encoding) = part.header("Content-Transfer-Encoding") {
        line.push_str(&format!(" ({encoding})"));
    }
    out.push_str(&line);
    out.push('\n');
    if kind.starts_with("multipart/") {
        for child in part.parts() {
            outline(&child, depth + 1, out);
        }
    }
}

// --- message -------------------------------------------------------------------------------

#[test]
fn a_built_message_reads_back_with_every_header_and_part() {
    let o = outgoing();
    let eml = to_eml(&o).expect("builds");

    // Plain ASCII with CRLF line ends and short lines: no 8BITMIME or SMTPUTF8 needed.
    assert!(eml.is_ascii(), "the message is 7-bit");
    let text = String::from_utf8(eml.clone()).expect("ASCII");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF"
    );
    assert!(
        text.split("\r\n").all(|line| line.len() <= 78),
        "a long line"
    );

    let message = Part::parse(&eml);
    assert_eq!(
        message.header("Message-ID"),
        Some("<outbox-42.3f9c2a@loggkoll>")
    );
    let date = message.header("Date").expect("a Date header");
    assert_eq!(
        DateTime::parse_from_rfc2822(date).expect("RFC 2822 date"),
        o.date
    );
    assert_eq!(
        message.header("From"),
        Some("Loggkoll <loggkoll@example.se>")
    );
    let to = message.decoded_header("To").expect("a To header");
    assert!(
        to.contains("Åsa Öberg") && to.ends_with("<asa.oberg@example.se>"),
        "{to}"
    );
    let subject = message.header("Subject").expect("a Subject header");
    assert!(
        subject.contains("=?utf-8?"),
        "Swedish letters encoded: {subject}"
    );
    assert_eq!(decode_words(subject), o.subject);
    assert_eq!(message.header("MIME-Version"), Some("1.0"));
    assert_eq!(message.header("Auto-Submitted"), Some("auto-generated"));

    let mut tree = String::new();
    outline(&message, 0, &mut tree);
    insta::assert_snapshot!("message_outline", tree);

    let [alternative, attachment] = <[Part; 2]>::try_from(message.parts()).expect("two parts");
    let [plain, html] = <[Part; 2]>::try_from(alternative.parts()).expect("two bodies");
    assert_eq!(plain.text().replace("\r\n", "\n"), o.text);
    assert_eq!(html.text().replace("\r\n", "\n"), o.html);
    assert_eq!(
        plain.content_type().1.get("charset").map(String::as_str),
        Some("utf-8")
    );
    assert_eq!(attachment.text(), ics::render(&calendar()));
}

#[test]
fn without_a_calendar_the_message_is_only_the_alternative() {
    let o = Outgoing {
        calendar: None,
        ..outgoing()
    };
    let message = Part::parse(&to_eml(&o).expect("builds"));
    assert_eq!(message.mime_type(), "multipart/alternative");
    let kinds: Vec<String> = message.parts().iter().map(Part::mime_type).collect();
    assert_eq!(kinds, ["text/plain", "text/html"]);
}

#[test]
fn the_same_outgoing_builds_the_same_headers() {
    // Only the random MIME boundaries may differ: no wall clock, no generated ids.
    let strip = |eml: Vec<u8>| {
        let message = Part::parse(&eml);
        message
            .headers
            .into_iter()
            .filter(|(name, _)| name != "Content-Type")
            .collect::<Vec<_>>()
    };
    let first = strip(to_eml(&outgoing()).expect("builds"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(first, strip(to_eml(&outgoing()).expect("builds")));
}

#[test]
fn a_line_break_in_the_subject_cannot_add_a_header() {
    let o = Outgoing {
        subject: "Påminnelse\r\nBcc: angripare@example.com".into(),
        ..outgoing()
    };
    let message = Part::parse(&to_eml(&o).expect("builds"));
    assert_eq!(message.header("Bcc"), None);
    assert_eq!(
        message.decoded_header("Subject").as_deref(),
        Some("Påminnelse Bcc: angripare@example.com")
    );
}

#[test]
fn bad_addresses_and_ids_are_refused_naming_the_field() {
    let cases: [(Outgoing, &str); 6] = [
        (
            Outgoing {
                to: "inte en adress".into(),
                ..outgoing()
            },
            "invalid `to` address `inte en adress`",
        ),
        (
            Outgoing {
                to: "Åsa <asa@>".into(),
                ..outgoing()
            },
            "invalid `to` address",
        ),
        (
            Outgoing {
                from: "".into(),
                ..outgoing()
            },
            "invalid `from` address ``",
        ),
        (
            Outgoing {
                message_id: "outbox-42@loggkoll".into(),
                ..outgoing()
            },
            "invalid `message_id` `outbox-42@loggkoll`",
        ),
        (
            Outgoing {
                message_id: "<outbox 42@loggkoll>".into(),
                ..outgoing()
            },
            "invalid `message_id`",
        ),
        (
            Outgoing {
                date: at("1969-12-31T23:59:59Z"),
                ..outgoing()
            },
            "invalid `date` 1969-12-31T23:59:59+00:00",
        ),
    ];
    for (o, expected) in cases {
        let err = build(&o).expect_err(expected);
        assert_eq!(err.kind, ErrorKind::BadInput, "{}", err.message);
        assert!(
            err.message.starts_with(expected),
            "{} / {expected}",
            err.message
        );
    }
}

// --- ics -----------------------------------------------------------------------------------

#[test]
fn text_is_escaped_per_rfc_5545() {
    assert_eq!(
        escape_text("a,b;c\\d\ne\r\nf\rg\u{7}h"),
        "a\\,b\\;c\\\\d\\ne\\nf\\ngh"
    );
    assert_eq!(
        escape_text("Åtkomst: läsa, skriva"),
        "Åtkomst: läsa\\, skriva"
    );
}

#[test]
fn the_calendar_has_its_fields_crlf_lines_and_a_reminder() {
    let text = ics::render(&calendar());
    insta::assert_snapshot!("calendar", text.replace("\r\n", "⏎\n"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF"
    );
    let unfolded = text.replace("\r\n ", "");
    for field in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "UID:TRE-2027-0042.granskning@loggkoll",
        "DTSTAMP:20270301T070000Z",
        "DTSTART;VALUE=DATE:20270315",
        "DTEND;VALUE=DATE:20270316",
        "SUMMARY:Loggkontroll TRE-2027-0042: granska senast 15 mars",
        "DESCRIPTION:Granska åtkomsterna för användare 3 i urvalet.\\nÖppna ärendet: https://loggkoll.example.se/arenden/TRE-2027-0042",
        "URL:https://loggkoll.example.se/arenden/TRE-2027-0042",
        "BEGIN:VALARM",
        "TRIGGER:-P1D",
    ] {
        assert!(
            unfolded.split("\r\n").any(|line| line == field),
            "no `{field}` in\n{unfolded}"
        );
    }
    assert!(
        unfolded
            .split("\r\n")
            .any(|line| line.starts_with("PRODID:-//loggkoll//"))
    );
}

#[test]
fn long_swedish_lines_fold_at_75_octets_between_characters() {
    let summary = "Åtgärda åtkomstgranskningen för hemtjänstgruppen Ölandsgatan, Sävsjö; \
                   påminnelse: öppna ärendet före fristens utgång och välj ett utfall"
        .repeat(3);
    let c = Calendar {
        summary: summary.clone(),
        description: "ö".repeat(200),
        ..calendar()
    };
    let text = ics::render(&c);
    for line in text.split_terminator("\r\n") {
        // `str` lines prove no character was split: the text would not be valid UTF-8.
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let folded_description = text
        .split_terminator("\r\n")
        .skip_while(|line| !line.starts_with("DESCRIPTION:"))
        .nth(1)
        .expect("a continuation line");
    // ` ` + 37 `ö` is 75 octets; a 38th would make 77.
    assert_eq!(folded_description, format!(" {}", "ö".repeat(37)));
    let unfolded = text.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("SUMMARY:{}\r\n", escape_text(&summary))));
    assert!(unfolded.contains(&format!("DESCRIPTION:{}\r\n", "ö".repeat(200))));
}

#[test]
fn a_timed_deadline_is_written_in_utc_and_reminders_as_durations() {
    let c = Calendar {
        due: Due::At(at("2027-03-15T15:00:00+01:00")),
        reminder: Some(TimeDelta::minutes(90) + TimeDelta::seconds(5)),
        url: None,
        ..calendar()
    };
    let text = ics::render(&c);
    assert!(text.contains("\r\nDTSTART:20270315T140000Z\r\n"), "{text}");
    assert!(!text.contains("DTEND"));
    assert!(!text.contains("URL:"));
    assert!(text.contains("\r\nTRIGGER:-PT1H30M5S\r\n"), "{text}");
    for (reminder, trigger) in [
        (TimeDelta::hours(1) + TimeDelta::seconds(30), "-PT1H0M30S"),
        (TimeDelta::days(2) + TimeDelta::hours(3), "-P2DT3H"),
        (TimeDelta::zero(), "-PT0S"),
        // After the start: 08:00 on the day of an all-day event.
        (-TimeDelta::hours(8), "PT8H"),
    ] {
        let text = ics::render(&Calendar {
            reminder: Some(reminder),
            ..calendar()
        });
        assert!(
            text.contains(&format!("\r\nTRIGGER:{trigger}\r\n")),
            "{trigger}"
        );
    }
    let none = ics::render(&Calendar {
        reminder: None,
        ..calendar()
    });
    assert!(!none.contains("VALARM"));
}

// --- mail.url ------------------------------------------------------------------------------

#[test]
fn every_accepted_mail_url_form() {
    let cases = [
        ("file://outbox", "file://outbox"),
        ("file:///var/spool/loggkoll", "file:///var/spool/loggkoll"),
        ("file://Mitt utkorg", "file://Mitt utkorg"),
        ("smtp://mail.example.se", "smtp://mail.example.se:25"),
        ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525"),
        ("smtp://[::1]:2525", "smtp://[::1]:2525"),
        (
            "SMTP://mail.example.se:25/loggkoll.example.se",
            "smtp://mail.example.se:25/loggkoll.example.se",
        ),
        (
            "smtp://mail.example.se?tls=required",
            "smtp://mail.example.se:587?tls=required",
        ),
        (
            "smtp://mail.example.se:2587?tls=opportunistic",
            "smtp://mail.example.se:2587?tls=opportunistic",
        ),
        ("smtps://mail.example.se", "smtps://mail.example.se:465"),
        (
            "smtps://loggkoll:hemligt@mail.example.se",
            "smtps://loggkoll@mail.example.se:465",
        ),
        (
            "smtp://user%40example.se:p%C3%A5ss%3Aord@mail.example.se:587?tls=required",
            "smtp://user@example.se@mail.example.se:587?tls=required",
        ),
    ];
    for (url, described) in cases {
        let transport = Transport::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(transport.describe(), described, "{url}");
    }
}

#[test]
fn credentials_are_percent_decoded_and_never_shown() {
    let url = "smtp://user%40example.se:p%C3%A5ss%3Aord@mail.example.se?tls=required";
    let MailUrl::Smtp(server) = MailUrl::parse(url).expect("parses") else {
        panic!("not SMTP");
    };
    let credentials = server.credentials.clone().expect("credentials");
    assert_eq!(credentials.user, "user@example.se");
    assert_eq!(credentials.password, "påss:ord");
    for shown in [
        server.to_string(),
        format!("{server:?}"),
        format!("{:?}", Transport::from_url(url).expect("parses")),
        Transport::from_url(url).expect("parses").describe(),
    ] {
        assert!(
            !shown.contains("ss%3A") && !shown.contains("påss"),
            "{shown}"
        );
    }
    // A password with `/`, `?` or `#` not percent-encoded is still a password.
    let MailUrl::Smtp(server) = MailUrl::parse("smtp://u:a/b?c#d@mail.example.se").expect("parses")
    else {
        panic!("not SMTP");
    };
    assert_eq!(server.credentials.expect("credentials").password, "a/b?c#d");
    assert_eq!(server.host, "mail.example.se");
}

#[test]
fn every_refused_mail_url_form_names_mail_url_and_hides_the_password() {
    let cases = [
        (
            "",
            "invalid `mail.url` ``: expected `file://DIR`, `smtp://host[:port]` or `smtps://host[:port]`",
        ),
        (
            "outbox",
            "invalid `mail.url` `outbox`: expected `file://DIR`, `smtp://host[:port]` or `smtps://host[:port]`",
        ),
        (
            "file://",
            "invalid `mail.url` `file://`: `file://` needs a folder, as in `file://outbox`",
        ),
        (
            "file://utkorg\n",
            "invalid `mail.url` `file://utkorg\n`: contains a control character",
        ),
        (
            "http://mail.example.se",
            "invalid `mail.url` `http://mail.example.se`: unknown scheme `http`: expected `file`, `smtp` or `smtps`",
        ),
        (
            "smtp://",
            "invalid `mail.url` `smtp://`: the host is missing",
        ),
        (
            "smtp://:25",
            "invalid `mail.url` `smtp://:25`: the host is missing",
        ),
        (
            "smtp://mail.example.se:0",
            "invalid `mail.url` `smtp://mail.example.se:0`: port `0` is not a number from 1 to 65535",
        ),
        (
            "smtp://mail.example.se:65536",
            "invalid `mail.url` `smtp://mail.example.se:65536`: port `65536` is not a number from 1 to 65535",
        ),
        (
            "smtp://mail.example.se:+25",
            "invalid `mail.url` `smtp://mail.example.se:+25`: port `+25` is not a number from 1 to 65535",
        ),
        (
            "smtp://mail.example.se:smtp",
            "invalid `mail.url` `smtp://mail.example.se:smtp`: port `smtp` is not a number from 1 to 65535",
        ),
        (
            "smtp://mail..example.se",
            "invalid `mail.url` `smtp://mail..example.se`: `mail..example.se` is not a host name",
        ),
        (
            "smtp://[::1",
            "invalid `mail.url` `smtp://[::1`: an IPv6 address needs its closing `]`",
        ),
        (
            "smtp://[mail]:25",
            "invalid `mail.url` `smtp://[mail]:25`: `mail` is not an IPv6 address",
        ),
        (
            "smtp://mail.example.se?tls=always",
            "invalid `mail.url` `smtp://mail.example.se?tls=always`: unknown `tls=always`: expected `tls=required` or `tls=opportunistic`",
        ),
        (
            "smtp://mail.example.se?starttls=1",
            "invalid `mail.url` `smtp://mail.example.se?starttls=1`: unknown query `starttls=1`: expected `tls=required` or `tls=opportunistic`",
        ),
        (
            "smtps://mail.example.se?tls=required",
            "invalid `mail.url` `smtps://mail.example.se?tls=required`: `smtps://` takes no query; TLS is always on",
        ),
        (
            "smtp://mail.example.se#x",
            "invalid `mail.url` `smtp://mail.example.se#x`: a fragment (`#…`) has no meaning here",
        ),
        (
            "smtp://mail.example.se/bad name",
            "invalid `mail.url` `smtp://mail.example.se/bad name`: contains white space",
        ),
        (
            "smtp://loggkoll@mail.example.se",
            "invalid `mail.url` `smtp://loggkoll@mail.example.se`: a user needs a password (`user:password@host`)",
        ),
        (
            "smtp://:hemligt@mail.example.se",
            "invalid `mail.url` `smtp://:***@mail.example.se`: the user is empty",
        ),
        (
            "smtp://loggkoll:@mail.example.se",
            "invalid `mail.url` `smtp://loggkoll:***@mail.example.se`: the password is empty",
        ),
        (
            "smtp://loggkoll:hem%ZZligt@mail.example.se",
            "invalid `mail.url` `smtp://loggkoll:***@mail.example.se`: the password is not valid percent-encoded UTF-8",
        ),
        (
            "smtp://loggkoll:hemligt@mail.example.se:99999",
            "invalid `mail.url` `smtp://loggkoll:***@mail.example.se:99999`: port `99999` is not a number from 1 to 65535",
        ),
        (
            "smtp://loggkoll:hem ligt@mail.example.se",
            "invalid `mail.url` `smtp://loggkoll:***@mail.example.se`: contains white space",
        ),
        (
            "smtp:loggkoll:hemligt@mail.example.se",
            "invalid `mail.url` `***@mail.example.se`: expected `file://DIR`, `smtp://host[:port]` or `smtps://host[:port]`",
        ),
    ];
    for (url, expected) in cases {
        let err = Transport::from_url(url).expect_err(url);
        assert_eq!(err.kind, ErrorKind::BadInput, "{url}");
        assert_eq!(err.message, expected, "{url}");
        assert!(
            !err.message.contains("hemligt") && !err.message.contains("hem%"),
            "{url}"
        );
    }
}

// --- the .eml folder -----------------------------------------------------------------------

#[test]
fn file_names_are_safe_and_distinct() {
    assert_eq!(
        eml_file::file_name("<outbox-42.3f9c2a@loggkoll>"),
        "outbox-42.3f9c2a@loggkoll.eml"
    );
    assert_eq!(
        eml_file::file_name("<../../etc/passwd@x>"),
        "%2E.%2F..%2Fetc%2Fpasswd@x.eml"
    );
    assert_ne!(
        eml_file::file_name("<a/b@x>"),
        eml_file::file_name("<a_b@x>")
    );
    assert_ne!(
        eml_file::file_name("<a%2Fb@x>"),
        eml_file::file_name("<a/b@x>")
    );
    let long = format!("<{}@loggkoll>", "x".repeat(400));
    let name = eml_file::file_name(&long);
    assert!(name.len() <= 160, "{}", name.len());
    assert_ne!(
        name,
        eml_file::file_name(&format!("<{}@loggkoll>", "x".repeat(401)))
    );
}

#[test]
fn temporary_files_left_by_a_killed_writer_are_swept_when_old() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let now = std::time::SystemTime::now();
    let old = now - eml_file::DEBRIS_AGE - std::time::Duration::from_secs(1);
    let write = |name: &str, modified: std::time::SystemTime| {
        let file = std::fs::File::create(dir.join(name)).expect("create");
        file.set_modified(modified).expect("set the time");
    };
    write(".outbox-1.ab@loggkoll.eml.4242.0.tmp", old);
    // A write in progress, a message, and someone else's file stay.
    write(".outbox-2.ab@loggkoll.eml.4243.0.tmp", now);
    write("outbox-3.ab@loggkoll.eml", old);
    write("anteckningar.tmp", old);
    assert_eq!(eml_file::sweep_debris(dir, now), 1);
    assert_eq!(
        eml_files(dir),
        [
            ".outbox-2.ab@loggkoll.eml.4243.0.tmp",
            "anteckningar.tmp",
            "outbox-3.ab@loggkoll.eml"
        ]
    );
    assert_eq!(eml_file::sweep_debris(&dir.join("saknas"), now), 0);
}

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the outbox folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_file_transport_writes_one_file_per_message_id_and_overwrites_on_resend() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("utkorg").join("mail");
    let transport = Transport::from_url(&format!("file://{}", dir.display())).expect("parses");
    assert!(!dir.exists(), "nothing is created before the first send");

    transport.send(&outgoing()).expect("sent");
    let second = Outgoing {
        message_id: "<outbox-43.3f9c2a@loggkoll>".into(),
        subject: "Påminnelse".into(),
        ..outgoing()
    };
    transport.send(&second).expect("sent");
    assert_eq!(
        eml_files(&dir),
        [
            "outbox-42.3f9c2a@loggkoll.eml",
            "outbox-43.3f9c2a@loggkoll.eml"
        ]
    );

    // Sending again replaces the file (and leaves no temporary file behind).
    let again = Outgoing {
        subject: "Andra försöket".into(),
        ..outgoing()
    };
    transport.send(&again).expect("sent again");
    assert_eq!(eml_files(&dir).len(), 2);
    let eml = std::fs::read(dir.join("outbox-42.3f9c2a@loggkoll.eml")).expect("the file");
    let message = Part::parse(&eml);
    assert_eq!(
        message.decoded_header("Subject").as_deref(),
        Some("Andra försöket")
    );
    assert_eq!(
        message.header("Message-ID"),
        Some("<outbox-42.3f9c2a@loggkoll>")
    );
}

#[test]
fn a_relative_outbox_folder_is_relative_to_the_working_directory() {
    let Transport::File { dir } = Transport::from_url("file://outbox").expect("parses") else {
        panic!("not a file transport");
    };
    assert_eq!(dir, std::path::PathBuf::from("outbox"));
}

#[test]
fn a_file_write_is_atomic_and_leaves_no_temporary_file() {
    let temp = tempfile::tempdir().expect("temp dir");
    let name = "a@b.eml";
    let first = vec![b'a'; 1 << 20];
    let second = vec![b'b'; 1 << 20];
    // A reader racing the writers only ever sees one whole version.
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..40 {
                let bytes = if i % 2 == 0 { &first } else { &second };
                eml_file::write_atomically(temp.path(), name, bytes).expect("written");
            }
        });
        while !writer.is_finished() {
            if let Ok(bytes) = std::fs::read(temp.path().join(name)) {
                assert!(
                    bytes == first || bytes == second,
                    "a torn file of {} bytes",
                    bytes.len()
                );
            }
        }
    });
    assert_eq!(eml_files(temp.path()), [name]);
}

#[test]
fn an_unwritable_outbox_is_a_temporary_failure() {
    let temp = tempfile::tempdir().expect("temp dir");
    let blocker = temp.path().join("utkorg");
    std::fs::write(&blocker, "a file where the folder should be").expect("written");
    let transport = Transport::from_url(&format!("file://{}", blocker.display())).expect("parses");
    match transport.send(&outgoing()) {
        Err(SendError::Temporary(message)) => assert!(message.contains("utkorg"), "{message}"),
        other => panic!("expected a temporary failure, got {other:?}"),
    }
}

#[test]
fn a_message_that_cannot_be_built_is_a_permanent_failure() {
    let temp = tempfile::tempdir().expect("temp dir");
    let transport = Transport::from_url(&format!("file://{}", temp.path().display())).expect("ok");
    let o = Outgoing {
        to: "ingen adress".into(),
        ..outgoing()
    };
    match transport.send(&o) {
        Err(SendError::Permanent(message)) => {
            assert!(message.starts_with("invalid `to` address"), "{message}");
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    assert!(eml_files(temp.path()).is_empty());
}

// --- backoff -------------------------------------------------------------------------------

#[test]
fn retries_wait_twice_as_long_each_time_up_to_six_hours() {
    let last = at("2027-03-01T07:00:00Z");
    let waits: Vec<i64> = (0..=14)
        .map(|attempts| (next_attempt(attempts, last) - last).num_minutes())
        .collect();
    assert_eq!(
        waits,
        [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360, 360, 360]
    );
    assert_eq!(next_attempt(u32::MAX, last) - last, TimeDelta::hours(6));
    assert_eq!(
        next_attempt(3, DateTime::<Utc>::MAX_UTC),
        DateTime::<Utc>::MAX_UTC
    );
}

#[test]
fn messages_are_given_up_after_five_days() {
    assert_eq!(GIVE_UP_AFTER, TimeDelta::days(5));
    let queued = at("2027-03-01T07:00:00Z");
    assert!(!should_give_up(queued, at("2027-03-06T07:00:00Z")));
    assert!(should_give_up(queued, at("2027-03-06T07:00:01Z")));
    // Retrying on schedule, a message is tried 28 times (10 in the first 9 hours, then every 6 hours) before it is given up.
    let (mut attempts, mut when) = (1, queued);
    while !should_give_up(queued, next_attempt(attempts, when)) {
        when = next_attempt(attempts, when);
        attempts += 1;
    }
    assert_eq!(attempts, 28);
}
