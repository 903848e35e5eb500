//! SMTP delivery over real TCP against the in-process server of `support/smtp_server.rs`:
//! delivered, refused for now (4xx), refused for good (5xx), server down and back up, login.

#[path = "support/mime.rs"]
mod mime;
#[path = "support/smtp_server.rs"]
mod smtp_server;

use chrono::{DateTime, NaiveDate, Utc};
use loggkoll::notify::{Calendar, Due, Outgoing, SendError, Transport};
use mime::Part;
use smtp_server::{SmtpServer, Stage};

fn outgoing() -> Outgoing {
    let date = DateTime::parse_from_rfc3339("2027-03-01T07:00:00Z")
        .expect("instant")
        .with_timezone(&Utc);
    Outgoing {
        message_id: "<outbox-7.3f9c2a@loggkoll>".into(),
        from: "Loggkoll <loggkoll@example.se>".into(),
        to: "Åsa Öberg <asa.oberg@example.se>".into(),
        subject: "Påminnelse: loggkontroll TRE-2027-0042".into(),
        // A line that starts with a dot must survive dot-stuffing.
        text: "Hej!\n.\n..två punkter\nÖppna ärendet.\n".into(),
        html: "<p>Hej!</p>\n".into(),
        calendar: Some(Calendar {
            uid: "TRE-2027-0042@loggkoll".into(),
            summary: "Loggkontroll TRE-2027-0042".into(),
            description: "Granska före fristen.".into(),
            url: None,
            due: Due::Day(NaiveDate::from_ymd_opt(2027, 3, 15).expect("date")),
            stamp: date,
            reminder: None,
        }),
        attachments: Vec::new(),
        date,
    }
}

fn expect_temporary(result: Result<(), SendError>, containing: &str) {
    match result {
        Err(SendError::Temporary(message)) => {
            assert!(message.contains(containing), "{message} / {containing}");
        }
        other => panic!("expected a temporary failure with `{containing}`, got {other:?}"),
    }
}

fn expect_permanent(result: Result<(), SendError>, containing: &str) {
    match result {
        Err(SendError::Permanent(message)) => {
            assert!(message.contains(containing), "{message} / {containing}");
        }
        other => panic!("expected a permanent failure with `{containing}`, got {other:?}"),
    }
}

#[test]
fn a_message_is_delivered_with_its_envelope_and_parses() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    transport.send(&outgoing()).expect("delivered");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "loggkoll@example.se");
    assert_eq!(mail.rcpt_to, ["asa.oberg@example.se"]);
    assert_eq!(mail.user, None);

    let message = Part::parse(&mail.data);
    assert_eq!(
        message.header("Message-ID"),
        Some("<outbox-7.3f9c2a@loggkoll>")
    );
    assert_eq!(
        message.decoded_header("Subject").as_deref(),
        Some("Påminnelse: loggkontroll TRE-2027-0042")
    );
    let [alternative, calendar] = <[Part; 2]>::try_from(message.parts()).expect("two parts");
    let plain = &alternative.parts()[0];
    assert_eq!(plain.text().replace("\r\n", "\n"), outgoing().text);
    assert!(
        calendar
            .text()
            .contains("\r\nDTSTART;VALUE=DATE:20270315\r\n")
    );
    // The message is 7-bit, so the MAIL command asked for nothing special.
    let mail_command = server
        .commands()
        .into_iter()
        .find(|c| c.starts_with("MAIL FROM:"))
        .expect("a MAIL command");
    assert_eq!(mail_command, "MAIL FROM:<loggkoll@example.se>");
}

#[test]
fn a_4xx_at_rcpt_is_temporary_and_the_next_try_goes_through() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    server.fail_next(1, Stage::Rcpt, "451 4.3.0 try later");
    expect_temporary(transport.send(&outgoing()), "451");
    assert!(server.received().is_empty());
    transport.send(&outgoing()).expect("delivered on the retry");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_4xx_after_the_data_is_temporary() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    server.fail_next(1, Stage::EndOfData, "452 4.3.1 insufficient system storage");
    expect_temporary(transport.send(&outgoing()), "insufficient system storage");
    assert!(server.received().is_empty());
}

#[test]
fn a_421_greeting_is_temporary() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    server.fail_next(1, Stage::Greeting, "421 4.3.2 shutting down");
    expect_temporary(transport.send(&outgoing()), "421");
}

#[test]
fn a_5xx_is_permanent() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    server.fail_next(1, Stage::Rcpt, "550 5.1.1 no such user");
    expect_permanent(transport.send(&outgoing()), "no such user");
    server.fail_next(1, Stage::Data, "554 5.7.1 rejected");
    expect_permanent(transport.send(&outgoing()), "554");
    server.fail_next(1, Stage::Mail, "553 5.1.8 sender refused");
    expect_permanent(transport.send(&outgoing()), "553");
    assert!(server.received().is_empty());
}

#[test]
fn the_server_down_is_temporary_and_back_up_on_the_same_port_delivers() {
    let mut server = SmtpServer::start();
    let port = server.port();
    let transport = Transport::from_url(&server.url()).expect("parses");
    transport.send(&outgoing()).expect("delivered");

    server.stop();
    expect_temporary(transport.send(&outgoing()), &format!("127.0.0.1:{port}"));
    assert_eq!(server.received().len(), 1);

    server.restart();
    assert_eq!(server.port(), port);
    transport
        .send(&outgoing())
        .expect("delivered after the restart");
    assert_eq!(server.received().len(), 2);
}

#[test]
fn a_login_is_used_when_configured() {
    let server = SmtpServer::with_auth("loggkoll", "hemligt lösen");
    let url = format!(
        "smtp://loggkoll:hemligt%20l%C3%B6sen@127.0.0.1:{}",
        server.port()
    );
    let transport = Transport::from_url(&url).expect("parses");
    assert!(!transport.describe().contains("hemligt"));
    transport.send(&outgoing()).expect("delivered");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].user.as_deref(), Some("loggkoll"));
    assert!(
        server
            .commands()
            .iter()
            .any(|c| c.starts_with("AUTH PLAIN"))
    );
}

#[test]
fn a_refused_login_is_temporary_and_does_not_give_messages_up() {
    let server = SmtpServer::with_auth("loggkoll", "hemligt");
    let url = format!("smtp://loggkoll:fel@127.0.0.1:{}", server.port());
    let transport = Transport::from_url(&url).expect("parses");
    expect_temporary(transport.send(&outgoing()), "535");
    // No login configured for a server that demands one: the server says 530 at MAIL.
    let transport = Transport::from_url(&server.url()).expect("parses");
    expect_temporary(transport.send(&outgoing()), "530");
    assert!(server.received().is_empty());
}

#[test]
fn a_login_for_a_server_that_offers_none_is_temporary() {
    let server = SmtpServer::start();
    let url = format!("smtp://loggkoll:hemligt@127.0.0.1:{}", server.port());
    let transport = Transport::from_url(&url).expect("parses");
    expect_temporary(
        transport.send(&outgoing()),
        "No compatible authentication mechanism",
    );
}

#[test]
fn required_starttls_against_a_server_without_it_is_temporary() {
    let server = SmtpServer::start();
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port());
    let transport = Transport::from_url(&url).expect("parses");
    expect_temporary(transport.send(&outgoing()), "STARTTLS");
    assert!(server.received().is_empty());
}

#[test]
fn a_non_ascii_address_for_a_server_without_smtputf8_is_permanent() {
    let server = SmtpServer::start();
    let transport = Transport::from_url(&server.url()).expect("parses");
    let o = Outgoing {
        to: "Åsa <åsa@example.se>".into(),
        ..outgoing()
    };
    expect_permanent(transport.send(&o), "SMTPUTF8");
}

#[test]
fn a_silent_server_times_out_as_temporary() {
    // A listener that accepts and never greets: the 10 s timeout must end the wait.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let transport = Transport::from_url(&format!("smtp://127.0.0.1:{port}")).expect("parses");
    let started = std::time::Instant::now();
    let result = transport.send(&outgoing());
    assert!(matches!(result, Err(SendError::Temporary(_))), "{result:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    drop(listener);
}
