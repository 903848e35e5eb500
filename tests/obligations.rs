//! The obligations of the two source routines (`docs/obligations.md`), one test each, named
//! after the obligation. Each test reads the *shipped* routines (`routines/`) or runs the real
//! binary on them, so that a routine edited until it no longer carries an obligation fails here:
//! deleting the personnel-file state, sending the decision to someone else, keeping Treserva
//! protocols for NPÖ's five years.

#[path = "support/engine.rs"]
mod helpers;
mod support;

use loggkoll::roster::Role;
use loggkoll::routine::Context;
use loggkoll::routine::loader;
use loggkoll::routine::model::{CaseKind, ResultCategory, Routine, State, StateIx};
use loggkoll::templates::Library;
use std::path::PathBuf;
use support::{Run, Test};

/// The routines under test: the shipped ones, or a changed copy of them
/// (`LOGGKOLL_OBLIGATIONS_ROUTINES`, set by
/// `removing_an_obligation_from_a_shipped_routine_fails_a_test` when it runs these tests again).
fn routines_dir() -> PathBuf {
    std::env::var_os("LOGGKOLL_OBLIGATIONS_ROUTINES")
        .map(PathBuf::from)
        .unwrap_or_else(|| helpers::root().join("routines"))
}

fn shipped() -> Vec<Routine> {
    let root = helpers::root();
    let templates = Library::load(&root.join("templates")).expect("templates");
    loader::load_routines(
        &routines_dir(),
        &Context {
            templates: Some(&templates),
        },
    )
    .expect("the shipped routines compile")
}

/// The shipped routines that review someone's accesses (sampling and targeted reviews): the
/// NPÖ and Treserva sampling routines and the targeted review, at least.
fn reviews() -> Vec<Routine> {
    let reviews: Vec<Routine> = shipped()
        .into_iter()
        .filter(|r| matches!(r.kind, CaseKind::Sampling | CaseKind::Targeted))
        .collect();
    for id in ["npo-sampling", "treserva-sampling", "targeted-review"] {
        assert!(
            reviews.iter().any(|r| r.id == id),
            "`{id}` is shipped as a review"
        );
    }
    reviews
}

fn routine(id: &str) -> Routine {
    shipped()
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("routine `{id}` is shipped"))
}

fn state_ix(r: &Routine, name: &str) -> StateIx {
    r.state(name)
        .unwrap_or_else(|| panic!("`{}` has a state `{name}`", r.id))
}

fn state<'r>(r: &'r Routine, name: &str) -> &'r State {
    &r.graph[state_ix(r, name)]
}

/// Where `outcome` of `from` leads.
fn after<'r>(r: &'r Routine, from: &str, outcome: &str) -> &'r State {
    let ix = state_ix(r, from);
    let (_, to) = r
        .outcomes(ix)
        .into_iter()
        .find(|(o, _)| o.name == outcome)
        .unwrap_or_else(|| panic!("`{}`: `{from}` offers `{outcome}`", r.id));
    &r.graph[to]
}

fn assignee(s: &State) -> Role {
    s.task
        .as_ref()
        .unwrap_or_else(|| panic!("`{}` is a step", s.name))
        .assignee
}

/// The routines that review `system`'s suspicions: its sampling routine and the shared ones.
fn routines_of(system: &str) -> Vec<Routine> {
    shipped()
        .into_iter()
        .filter(|r| r.systems.iter().any(|s| s == system))
        .collect()
}

// --- NPÖ ------------------------------------------------------------------------------------

/// NPÖ: "Beslut om att initiera loggkontroll ska alltid tas av verksamhetschef."
#[test]
fn npo_the_decision_to_start_a_targeted_review_is_the_verksamhetschefs() {
    let r = routine("targeted-review");
    let decision = &r.graph[r.start];
    assert_eq!(assignee(decision), Role::OperationsManager);
    assert!(
        r.outcomes(r.start).len() >= 2,
        "a decision either way: review or not"
    );
}

/// NPÖ: "…beslutar verksamhetschef tillsammans med HR-strateg om vidare utredning och vilka
/// åtgärder som ska vidtas." HR takes part in a step of its own before the decision.
#[test]
fn npo_the_verksamhetschef_decides_on_a_suspicion_together_with_the_hr_strateg() {
    for r in routines_of("npo").into_iter().filter(|r| {
        matches!(
            r.kind,
            CaseKind::Sampling | CaseKind::Targeted | CaseKind::Extract
        )
    }) {
        // Every routine that reviews NPÖ's log has a review step with this outcome.
        let hr = after(&r, "review", "suspected_intrusion");
        assert_eq!(assignee(hr), Role::HrStrategist, "{}: HR assesses", r.id);
        let outcomes = r.outcomes(state_ix(&r, &hr.name));
        assert!(
            outcomes.iter().all(|(o, _)| o.comment_required),
            "{}: HR's assessment is written down",
            r.id
        );
        for (_, next) in outcomes {
            assert_eq!(
                assignee(&r.graph[next]),
                Role::OperationsManager,
                "{}: then the verksamhetschef decides",
                r.id
            );
        }
    }
}

/// NPÖ and Treserva: "Vid ett faktiskt dataintrång eller olovlig läsning ska detta
/// dokumenteras i personalakt" – with or without labour-law action, and never recorded as an
/// explained access.
#[test]
fn a_confirmed_intrusion_is_documented_in_the_personnel_file_with_or_without_labour_law_action() {
    // Every routine that reviews someone's accesses can end in an intrusion: none may lack the
    // step (a routine without it is a removed obligation, not one to skip).
    for r in reviews() {
        assert!(
            r.state("labour_law_action").is_some(),
            "{}: a state `labour_law_action`",
            r.id
        );
        // Every path to a final state that is an intrusion passes a personnel-file step.
        let finals: Vec<&State> = r
            .states()
            .map(|(_, s)| s)
            .filter(|s| {
                matches!(
                    s.result,
                    Some(
                        ResultCategory::LabourLawAction
                            | ResultCategory::PoliceReport
                            | ResultCategory::IntrusionDocumented
                    )
                )
            })
            .collect();
        assert!(
            finals
                .iter()
                .any(|s| s.result == Some(ResultCategory::IntrusionDocumented)),
            "{}: an intrusion without labour-law action has its own result",
            r.id
        );
        for (ix, s) in r.states() {
            let leads_to_final = r
                .outcomes(ix)
                .into_iter()
                .any(|(_, to)| finals.iter().any(|f| std::ptr::eq(*f, &r.graph[to])));
            if leads_to_final {
                assert!(
                    s.name.starts_with("personnel_file"),
                    "{}: `{}` closes an intrusion without the personnel file",
                    r.id,
                    s.name
                );
            }
        }
        // The decision offers "an intrusion, but no labour-law action".
        let decision = r
            .states()
            .map(|(ix, _)| ix)
            .find(|ix| {
                r.outcomes(*ix)
                    .iter()
                    .any(|(o, _)| o.name == "intrusion_no_action")
            })
            .unwrap_or_else(|| panic!("{}: an outcome `intrusion_no_action`", r.id));
        let (_, to) = r
            .outcomes(decision)
            .into_iter()
            .find(|(o, _)| o.name == "intrusion_no_action")
            .expect("the outcome");
        assert!(r.graph[to].name.starts_with("personnel_file"), "{}", r.id);
    }
}

// --- Retention ------------------------------------------------------------------------------

/// NPÖ: "Loggkontrollprotokoll ska sparas hos verksamheten i 5 år och gallras sedan."
/// Treserva: "Denna blankett ska förvaras på enheten i två år." Each case by its system.
#[test]
fn protocols_are_kept_five_years_for_npo_and_two_for_treserva_by_the_cases_system() {
    for r in shipped() {
        for system in &r.systems {
            let expected = match system.as_str() {
                "npo" => 5,
                "treserva" => 2,
                other => panic!("unexpected system {other}"),
            };
            assert_eq!(
                r.retention_for(std::slice::from_ref(system)),
                expected,
                "{}: {system}",
                r.id
            );
        }
    }
}

// --- Through the binary ---------------------------------------------------------------------

struct Site {
    dir: tempfile::TempDir,
    /// The database: a file in the folder, or a schema on the test PostgreSQL.
    db: std::path::PathBuf,
}

const HEADER: &str = "person_id,name,email,units,roles,accounts,active_from,active_to\n";
const LOG_HEADER: &str = "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose";

impl Site {
    /// An organisation with a verksamhetschef, an enhetschef, HR, an affärsområdeschef and
    /// staff with accounts in both systems.
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = helpers::backend::location(dir.path(), "loggkoll");
        let site = Site { dir, db };
        site.write(
            "units.csv",
            "unit_id,name,parent_id\nORG,Vård och omsorg,\nVH1,Verksamhet,ORG\nEN1,Hemtjänst Norr,VH1\nEN2,Hemtjänst Syd,VH1\n",
        );
        let mut people = String::from(HEADER);
        people.push_str("VC1,Vera Verksamhetschef,vc@example.se,VH1,operations_manager@VH1,,,\n");
        people.push_str("EC1,Erik Enhetschef,ec@example.se,EN1,unit_manager@EN1,,,\n");
        people.push_str("HR1,Hanna HR,hr@example.se,ORG,hr_strategist@ORG,,,\n");
        people.push_str("AO1,Anders Affärsområde,ao@example.se,ORG,business_area_manager@ORG,,,\n");
        people.push_str("SAS1,Sara Sas,sas@example.se,ORG,sas@ORG;mas@ORG,,,\n");
        for i in 0..6 {
            // U04 works at the other unit; U05 leaves at the end of January.
            let unit = if i == 4 { "EN2" } else { "EN1" };
            let last = if i == 5 { "2027-01-31" } else { "" };
            people.push_str(&format!(
                "U{i:02},Anna Andersson {i},u{i}@example.se,{unit},,npo:n{i:02};treserva:t{i:02},,{last}\n"
            ));
        }
        site.write("people.csv", &people);
        site.import_roster("2027-01-04T08:00");
        site
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    fn run(&self, args: &[&str]) -> Run {
        let root = helpers::root();
        Test::in_dir(self.dir.path())
            .args([
                "--db",
                &self.db.display().to_string(),
                "--routines",
                &routines_dir().display().to_string(),
                "--templates",
                &root.join("templates").display().to_string(),
            ])
            .args(args)
            .env("LOGGKOLL_MAIL_URL", "file://mail")
            .run()
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "loggkoll {args:?}: {}", r.stderr);
        r
    }

    /// Imports `units.csv` and `people.csv` as they are now, at `now`.
    fn import_roster(&self, now: &str) {
        self.ok(&[
            "roster",
            "import",
            "--units",
            "units.csv",
            "--people",
            "people.csv",
            "--now",
            now,
        ]);
    }

    /// The summary of 2027 as `report annual` writes it at `now` (HTML).
    fn summary_2027(&self, now: &str) -> String {
        let r = self.ok(&[
            "report",
            "annual",
            "--year",
            "2027",
            "--out",
            "arsrapport",
            "--now",
            now,
        ]);
        let html = r
            .stdout
            .lines()
            .find(|l| l.ends_with(".html"))
            .expect("the summary's HTML");
        std::fs::read_to_string(self.path(html)).expect("the summary")
    }

    /// Opens a targeted review of `user`'s NPÖ accesses at EN1 on `day`, at `now`: how many
    /// accesses its evidence lists, and the codes of their flags.
    fn evidence_flags(&self, user: &str, day: &str, now: &str) -> (usize, Vec<String>) {
        let case = self
            .ok(&[
                "case",
                "open",
                "targeted-review",
                "--unit",
                "EN1",
                "--by",
                "VC1",
                "--subject-user",
                user,
                "--from",
                day,
                "--to",
                day,
                "--reason",
                "Tips",
                "--system",
                "npo",
                "--now",
                now,
            ])
            .stdout
            .trim()
            .to_string();
        let ev: serde_json::Value = serde_json::from_str(
            &self
                .ok(&["case", "evidence", &case, "--json", "--now", now])
                .stdout,
        )
        .expect("JSON");
        let accesses = ev["accesses"].as_array().cloned().unwrap_or_default();
        let flags = accesses
            .iter()
            .flat_map(|a| a["flags"].as_array().cloned().unwrap_or_default())
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect();
        (accesses.len(), flags)
    }

    fn count(&self, sql: &str) -> i64 {
        let db = loggkoll::store::read_only(&self.db).expect("db");
        db.inspect().one(sql, ()).expect("count")
    }

    /// Opens a targeted review of U00 in `system` and closes it at the decision.
    fn targeted_closed(&self, system: &str, now: &str) -> String {
        let case = self
            .ok(&[
                "case",
                "open",
                "targeted-review",
                "--unit",
                "EN1",
                "--by",
                "VC1",
                "--subject-user",
                "U00",
                "--from",
                "2027-01-01",
                "--to",
                "2027-01-02",
                "--reason",
                "Tips från en kollega",
                "--system",
                system,
                "--now",
                now,
            ])
            .stdout
            .trim()
            .to_string();
        self.ok(&[
            "case",
            "answer",
            &case,
            "not_pursued",
            "--by",
            "VC1",
            "--comment",
            "Misstanken saknade grund",
            "--now",
            now,
        ]);
        case
    }
}

fn purged(site: &Site, case: &str) -> bool {
    site.count(&format!(
        "SELECT COUNT(*) FROM cases WHERE id = '{case}' AND purged_at IS NOT NULL"
    )) == 1
}

/// The retention obligation through the purge: a Treserva targeted review is gone two years
/// after it closed, while an NPÖ one is kept until five.
#[test]
fn a_treserva_targeted_review_is_purged_after_two_years_and_an_npo_one_after_five() {
    let site = Site::new();
    let treserva = site.targeted_closed("treserva", "2027-01-15T09:00");
    let npo = site.targeted_closed("npo", "2027-01-15T09:30");
    site.ok(&["purge", "--now", "2029-01-14T12:00"]);
    assert!(!purged(&site, &treserva) && !purged(&site, &npo));
    site.ok(&["purge", "--now", "2029-01-16T12:00"]);
    assert!(purged(&site, &treserva), "Treserva: two years");
    assert!(!purged(&site, &npo), "NPÖ: kept");
    site.ok(&["purge", "--now", "2032-01-16T12:00"]);
    assert!(purged(&site, &npo), "NPÖ: five years");
    site.ok(&["audit", "verify"]);
}

/// NPÖ and Treserva: a client's request for a log extract covers every system, and the letter
/// lists each system's accesses; it never tells the client that nobody read their record while
/// one system's log holds accesses to them.
#[test]
fn an_extract_request_covers_every_system_and_the_letter_lists_each() {
    let site = Site::new();
    let client = "191212121212";
    let row = |id: &str, system: &str, user: &str, at: &str| {
        format!("{id},{at},{system},{user},,Undersköterska,EN1,{client},EN1,Läsa,journal,vård\n")
    };
    site.write(
        "treserva.csv",
        &format!(
            "{LOG_HEADER}\n{}{}",
            row("T1", "treserva", "t01", "2027-01-10 10:00:00"),
            row("T2", "treserva", "t02", "2027-01-12 14:30:00"),
        ),
    );
    site.write(
        "npo.csv",
        &format!(
            "{LOG_HEADER}\n{}",
            row("N1", "npo", "n03", "2027-01-11 09:15:00")
        ),
    );
    for file in ["treserva.csv", "npo.csv"] {
        site.ok(&[
            "logs",
            "import",
            file,
            "--from",
            "2027-01-01",
            "--to",
            "2027-01-31",
            "--now",
            "2027-02-01T08:00",
        ]);
    }
    let case = site
        .ok(&[
            "case",
            "open",
            "log-extract",
            "--unit",
            "EN1",
            "--by",
            "EC1",
            "--client",
            client,
            "--client-name",
            "Tolvan Tolvansson",
            "--client-address",
            "Storgatan 1, 123 45 Tibro",
            "--from",
            "2027-01-01",
            "--to",
            "2027-01-31",
            "--now",
            "2027-02-01T09:00",
        ])
        .stdout
        .trim()
        .to_string();
    let r = site.ok(&[
        "report",
        "extract",
        &case,
        "--out",
        "brev",
        "--now",
        "2027-02-01T10:00",
    ]);
    let html_path = r.stdout.lines().next().expect("the letter's path");
    let html = std::fs::read_to_string(site.path(html_path)).expect("the letter");
    assert!(html.contains("<h2>NPÖ</h2>"), "{html}");
    assert!(html.contains("<h2>Treserva</h2>"), "{html}");
    assert!(html.contains("din journal i NPÖ öppnats 1 gång"), "{html}");
    assert!(
        html.contains("din journal i Treserva öppnats 2 gånger"),
        "{html}"
    );
    assert!(!html.contains("Ingen har tagit del"), "{html}");
    assert!(
        html.contains("från och med 1 januari 2027 till och med 31 januari 2027"),
        "{html}"
    );
    assert!(html.contains("Tolvan Tolvansson"), "{html}");
    assert!(html.contains("Storgatan 1<br>123 45 Tibro"), "{html}");
    // NPO-31: the client may see who read the record: the letter says who, with a name
    // column, unless the routine withholds the names.
    assert!(html.contains("vem som har tagit del"), "{html}");
    assert!(html.contains("<th scope=\"col\">Namn</th>"), "{html}");
    assert!(!html.contains("står inte i utdraget"), "{html}");
    // Narrowed to one system, it says so of that one only.
    let one = site
        .ok(&[
            "case",
            "open",
            "log-extract",
            "--unit",
            "EN1",
            "--by",
            "EC1",
            "--client",
            client,
            "--from",
            "2027-01-01",
            "--to",
            "2027-01-31",
            "--system",
            "npo",
            "--now",
            "2027-02-01T09:00",
        ])
        .stdout
        .trim()
        .to_string();
    let r = site.ok(&[
        "report",
        "extract",
        &one,
        "--out",
        "brev",
        "--now",
        "2027-02-01T10:00",
    ]);
    let html = std::fs::read_to_string(site.path(r.stdout.lines().next().expect("path")))
        .expect("the letter");
    assert!(html.contains("öppnats 1 gång"), "{html}");
    assert!(!html.contains("Treserva"), "{html}");
}

// --- Emails when people work -----------------------------------------------------------------

/// "Emails arrive when people work": two months of ticks every 20 minutes, day and night, with
/// the default send hours. No email goes out on a weekend, a holiday or outside 07–17, each
/// email's Date is the moment it went out, and every step still open on its deadline day gets
/// an email that day ("Idag är sista dagen").
#[test]
fn emails_go_out_on_working_days_between_7_and_17_and_every_open_step_hears_on_its_deadline_day() {
    use chrono::{Datelike, TimeDelta, Timelike};
    use chrono_tz::Europe::Stockholm;
    use loggkoll::notify::{Transport, sender};
    let dir = tempfile::tempdir().expect("tempdir");
    let routines = helpers::shipped(dir.path(), &["treserva-sampling", "npo-sampling"]);
    let start = helpers::local("2027-02-25T06:00");
    let mut engine = helpers::open(dir.path(), "hours", &routines, "hours-seed", start);
    let roster = loggkoll::simulate::org::synthetic(80, 4, 11);
    helpers::import(&mut engine, &roster, start);
    let transport = Transport::from_url(&format!("file://{}", dir.path().join("mail").display()))
        .expect("transport");
    let install = engine.install_id();
    let config = engine.config.clone();
    assert!(config.mail.send_hours.is_some(), "on by default");
    let mut now = start;
    // March and April 2027: Easter (25 March – 29 March), weekends, nights.
    let end = helpers::local("2027-04-30T23:00");
    let mut sent = 0;
    while now <= end {
        engine.tick(now).expect("tick");
        let sending = sender::Sending::new(&config, &engine.templates, &transport, &install);
        sent += sender::deliver(&mut engine.store, &sending, now)
            .expect("deliver")
            .sent;
        now += TimeDelta::minutes(20);
    }
    assert!(sent > 100, "emails went out: {sent}");
    let conn = engine.store.db();
    let times = helpers::strings(
        conn,
        "SELECT sent_at FROM outbox WHERE status = 'sent' ORDER BY id",
        (),
    );
    assert_eq!(times.len(), sent);
    for t in &times {
        let local = helpers::utc(&t[0]).with_timezone(&Stockholm);
        assert!(
            loggkoll::calendar::is_working_day(local.date_naive()),
            "sent on {} ({})",
            local,
            local.weekday()
        );
        assert!((7..17).contains(&local.hour()), "sent at {local}");
    }
    // Nothing on Good Friday or Easter Monday, though reminders fell due then.
    for holiday in ["2027-03-26", "2027-03-29"] {
        assert!(
            times
                .iter()
                .all(|t| helpers::local_date(&t[0]) != helpers::date(holiday)),
            "{holiday}"
        );
    }
    // Each step open on its deadline day got an email that day.
    let due: Vec<Vec<String>> = helpers::strings(
        conn,
        "SELECT t.id, t.due_date FROM tasks t
         WHERE t.due_date BETWEEN '2027-03-01' AND '2027-04-29'
           AND (t.answered_at IS NULL OR substr(t.answered_at, 1, 10) > t.due_date)",
        (),
    );
    assert!(!due.is_empty(), "steps fall due in the period");
    for row in &due {
        let on_the_day = helpers::strings(
            conn,
            "SELECT sent_at FROM outbox WHERE task_id = ?1 AND status = 'sent'",
            [&row[0]],
        )
        .iter()
        .any(|s| helpers::local_date(&s[0]) == helpers::date(&row[1]));
        assert!(
            on_the_day,
            "task {} due {} had no email that day",
            row[0], row[1]
        );
    }
    // The Date header is when the email went out, not when it was queued (reminders and
    // escalations queue at 07:00 on any day, tasks whenever a tick opens a step).
    let mut dates = 0;
    for entry in std::fs::read_dir(dir.path().join("mail")).expect("mail") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("an email");
        let date = text
            .lines()
            .find(|l| l.starts_with("Date:"))
            .expect("a Date header");
        let date = chrono::DateTime::parse_from_rfc2822(date.trim_start_matches("Date:").trim())
            .expect("an RFC 2822 date")
            .with_timezone(&Stockholm);
        assert!((7..17).contains(&date.hour()), "{date}");
        assert!(
            loggkoll::calendar::is_working_day(date.date_naive()),
            "{date}"
        );
        dates += 1;
    }
    assert_eq!(dates, sent);
    // The task's calendar invitation reminds at 08:00 on the deadline day, not at midnight.
    let task: i64 = helpers::count(
        engine.store.db(),
        "SELECT MIN(id) FROM outbox WHERE purpose = 'task'",
        (),
    );
    let row = loggkoll::store::outbox::get(engine.store.db(), task)
        .expect("read")
        .expect("the task email");
    let mail =
        sender::compose(&row, &engine.templates, &config.mail.from, &install).expect("composed");
    let ics = loggkoll::notify::ics::render(&mail.calendar.expect("an invitation"));
    assert!(ics.contains("\r\nTRIGGER:PT8H\r\n"), "{ics}");
}

// --- Informing staff -------------------------------------------------------------------------

/// NPÖ: "Verksamhetschefen är ansvarig för att informera HSL personalen om att loggkontroll
/// sker … Informationen ges i samband med nyanställning". Treserva: "Enhetschefen ansvarar för
/// att informera sina medarbetare om detta förfarande." A person employed on 1 February, with
/// accounts in both systems, gets an information case of their own per system on that day, each
/// with the role its routine names (the staff already there are informed unit by unit: the next
/// test).
#[test]
fn a_new_employee_is_informed_of_log_checks_by_the_role_each_systems_routine_names() {
    let site = Site::new();
    site.ok(&["tick", "--now", "2027-01-11T08:00"]);
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM cases WHERE kind = 'information' AND subject_person_id IS NOT NULL"
        ),
        0,
        "the staff of the first roster have no case of their own"
    );
    // Nya Nilsson is hired from 1 February; the roster is imported on 20 January.
    let mut people = std::fs::read_to_string(site.path("people.csv")).expect("people");
    people.push_str("N01,Nya Nilsson,nya@example.se,EN1,,npo:n99;treserva:t99,2027-02-01,\n");
    site.write("people.csv", &people);
    site.import_roster("2027-01-20T08:00");
    site.ok(&["tick", "--now", "2027-01-25T08:00"]);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM cases WHERE subject_person_id = 'N01'"),
        0,
        "not before the first day"
    );
    site.ok(&["tick", "--now", "2027-02-01T08:00"]);
    let cases = helpers::strings(
        &loggkoll::store::Store::at(&site.db).expect("db").into_db(),
        "SELECT c.id, c.routine_id, c.system, c.subject_person_id, t.assignee_id
         FROM cases c JOIN tasks t ON t.case_id = c.id
         WHERE c.kind = 'information' AND c.subject_person_id IS NOT NULL ORDER BY c.routine_id",
        (),
    );
    assert_eq!(cases.len(), 2, "{cases:?}");
    assert_eq!(&cases[0][1..], ["npo-information", "npo", "N01", "VC1"]);
    assert_eq!(
        &cases[1][1..],
        ["treserva-information", "treserva", "N01", "EC1"]
    );
    // The guidance carries the three points of the NPÖ routine.
    let npo = routine("npo-information");
    let guidance = state(&npo, "inform").guidance.clone().unwrap_or_default();
    for point in [
        "endast är tillåtet att ta del av de uppgifter som är nödvändiga",
        "loggkontroll görs av personals åtkomst",
        "dataintrång",
    ] {
        assert!(guidance.contains(point), "{point}");
    }
    // "Informerad", with the date.
    for (case, by) in [(&cases[0][0], "VC1"), (&cases[1][0], "EC1")] {
        site.ok(&[
            "case",
            "answer",
            case,
            "informed",
            "--by",
            by,
            "--comment",
            "Introduktionssamtal",
            "--now",
            "2027-02-03T10:00",
        ]);
    }
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM cases WHERE kind = 'information' AND result = 'informed'
             AND closed_at LIKE '2027-02-03%'"
        ),
        2
    );
    // The SAS's summary counts, over everyone with an account, who was informed and who is not
    // yet: the newcomer is; U00–U04 wait on their units' lists (U05 left in January).
    let html = site.summary_2027("2027-02-04T10:00");
    assert_eq!(
        html.matches(
            "Medarbetare med konto som är informerade om loggkontroll: 1; ännu inte informerade: 5."
        )
        .count(),
        2,
        "one line per system's information routine"
    );
    // A later import that changes nothing opens nothing more.
    let before = site.count("SELECT COUNT(*) FROM cases WHERE kind = 'information'");
    site.import_roster("2027-03-01T08:00");
    site.ok(&["tick", "--now", "2027-03-02T08:00"]);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM cases WHERE kind = 'information'"),
        before
    );
}

/// Treserva: "Enhetschefen ansvarar för att informera sina medarbetare om detta förfarande";
/// NPÖ: "Verksamhetschefen är ansvarig för att informera HSL personalen om att loggkontroll
/// sker". At go-live every unit's staff with accounts get one case per system's routine, listing
/// them; each is ticked as informed, the case closes as informed only when everyone still
/// employed is ticked, and the SAS's summary counts informed and not informed over all staff. A
/// unit that gets a new manager has its staff informed again.
#[test]
fn all_staff_at_go_live_are_informed_unit_by_unit_and_counted_until_they_are() {
    let site = Site::new();
    site.ok(&["tick", "--now", "2027-01-04T09:00"]);
    let db = || loggkoll::store::Store::at(&site.db).expect("db").into_db();
    let cases = helpers::strings(
        &db(),
        "SELECT c.id, c.routine_id, c.unit_id, c.reason
         FROM cases c WHERE c.kind = 'information' ORDER BY c.routine_id, c.unit_id",
        (),
    );
    let listed = |case: &str| {
        helpers::strings(
            &db(),
            "SELECT person_id FROM case_staff WHERE case_id = ?1 ORDER BY person_id",
            [case],
        )
        .concat()
        .join(" ")
    };
    let shown: Vec<Vec<String>> = cases
        .iter()
        .map(|c| vec![c[1].clone(), c[2].clone(), listed(&c[0])])
        .collect();
    // Everyone with an account, at their home unit; the managers hold none.
    assert_eq!(
        shown,
        [
            ["npo-information", "EN1", "U00 U01 U02 U03 U05"],
            ["npo-information", "EN2", "U04"],
            ["treserva-information", "EN1", "U00 U01 U02 U03 U05"],
            ["treserva-information", "EN2", "U04"],
        ]
    );
    assert!(cases[0][3].contains("införs"), "{:?}", cases[0]);
    let npo = cases[0][0].clone();
    // The list, as the step's holder sees it.
    let listed: serde_json::Value = serde_json::from_str(
        &site
            .ok(&["case", "staff", &npo, "--json", "--now", "2027-01-05T09:00"])
            .stdout,
    )
    .expect("json");
    assert_eq!(listed["counts"]["listed"], 5);
    assert_eq!(listed["counts"]["waiting"], 5);
    // Not closed as informed while someone is not ticked; nothing changes.
    let refused = site.run(&[
        "case",
        "answer",
        &npo,
        "informed",
        "--by",
        "VC1",
        "--now",
        "2027-01-05T10:00",
    ]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("not ticked as informed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("U00 (Anna Andersson 0)"),
        "{}",
        refused.stderr
    );
    // Only the step's holder ticks, and only people on the list.
    let other = site.run(&[
        "case",
        "inform",
        &npo,
        "U00",
        "--by",
        "EC1",
        "--now",
        "2027-01-05T10:00",
    ]);
    assert_ne!(other.code, 0, "{}", other.stderr);
    let stranger = site.run(&[
        "case",
        "inform",
        &npo,
        "U04",
        "--by",
        "VC1",
        "--now",
        "2027-01-05T10:00",
    ]);
    assert_ne!(stranger.code, 0);
    assert!(
        stranger.stderr.contains("`U04` is not on the list"),
        "{}",
        stranger.stderr
    );
    site.ok(&[
        "case",
        "inform",
        &npo,
        "U00",
        "U01",
        "U02",
        "--by",
        "VC1",
        "--now",
        "2027-01-05T10:00",
    ]);
    // U02 was a mistake: taken back, as if never ticked.
    site.ok(&[
        "case",
        "inform",
        &npo,
        "U02",
        "--undo",
        "--by",
        "VC1",
        "--now",
        "2027-01-05T10:01",
    ]);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM case_staff WHERE informed_at IS NOT NULL"),
        2
    );
    assert_eq!(
        site.count("SELECT COUNT(*) FROM staff_informed WHERE person_id = 'U02'"),
        0
    );
    // The summary counts over all staff: two informed in NPÖ, none in Treserva.
    let html = site.summary_2027("2027-01-20T10:00");
    assert!(
        html.contains("Information om loggkontroll i NPÖ: 2 av 6 medarbetare med konto är informerade om loggkontroll, 4 ännu inte."),
        "{html}"
    );
    assert!(
        html.contains("4 medarbetare har ännu inte fått information om loggkontroll"),
        "{html}"
    );
    // In February U05 has left: the rest are ticked, and the case closes.
    site.ok(&[
        "case",
        "inform",
        &npo,
        "--all",
        "--by",
        "VC1",
        "--now",
        "2027-02-05T10:00",
    ]);
    site.ok(&[
        "case",
        "answer",
        &npo,
        "informed",
        "--by",
        "VC1",
        "--now",
        "2027-02-05T10:05",
    ]);
    assert_eq!(
        helpers::strings(
            &db(),
            "SELECT person_id FROM case_staff WHERE case_id = ?1 AND informed_at IS NULL",
            [&npo],
        ),
        [["U05"]],
        "someone who left is not ticked as informed"
    );
    let html = site.summary_2027("2027-02-06T10:00");
    assert!(
        html.contains("Information om loggkontroll i NPÖ: 4 av 5 medarbetare med konto är informerade om loggkontroll, 1 ännu inte."),
        "U04 at EN2 still waits: {html}"
    );
    // A new enhetschef at EN1, from 15 March: Treserva's routine (whose step is the
    // enhetschef's) informs EN1's staff again from her first day, once its open case is closed;
    // NPÖ's (the verksamhetschef's, unchanged) does not.
    let treserva = cases[2][0].clone();
    site.ok(&[
        "case",
        "inform",
        &treserva,
        "--all",
        "--by",
        "EC1",
        "--now",
        "2027-02-10T10:00",
    ]);
    site.ok(&[
        "case",
        "answer",
        &treserva,
        "informed",
        "--by",
        "EC1",
        "--now",
        "2027-02-10T10:05",
    ]);
    let people = std::fs::read_to_string(site.path("people.csv")).expect("people");
    let people = people.replace(
        "EC1,Erik Enhetschef,ec@example.se,EN1,unit_manager@EN1,,,",
        "EC1,Erik Enhetschef,ec@example.se,EN1,,,,\nEC2,Eva Enhetschef,ec2@example.se,EN1,unit_manager@EN1,,2027-03-15,",
    );
    site.write("people.csv", &people);
    site.import_roster("2027-03-01T08:00");
    let since_march = || {
        helpers::strings(
            &db(),
            "SELECT c.routine_id, c.unit_id, c.reason, t.assignee_id FROM cases c
             JOIN tasks t ON t.case_id = c.id
             WHERE c.kind = 'information' AND c.opened_at >= '2027-03-01' ORDER BY c.routine_id",
            (),
        )
    };
    site.ok(&["tick", "--now", "2027-03-01T09:00"]);
    assert!(since_march().is_empty(), "not before she starts");
    site.ok(&["tick", "--now", "2027-03-15T09:00"]);
    let again = since_march();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0][0], "treserva-information");
    assert_eq!(again[0][1], "EN1");
    assert!(again[0][2].contains("ny chef"), "{:?}", again[0]);
    assert_eq!(again[0][3], "EC2", "the new enhetschef informs");
    // Importing the same roster again opens nothing.
    site.import_roster("2027-03-16T08:00");
    site.ok(&["tick", "--now", "2027-03-16T09:00"]);
    assert_eq!(since_march().len(), 1);
    // U00, informed in February, ticked again by mistake and taken back: February stands.
    let third = helpers::strings(
        &db(),
        "SELECT id FROM cases WHERE kind = 'information' AND opened_at >= '2027-03-01'",
        (),
    )
    .concat()
    .join("");
    let when = || {
        helpers::strings(
            &db(),
            "SELECT informed_at FROM staff_informed
             WHERE routine_id = 'treserva-information' AND person_id = 'U00'",
            (),
        )
        .concat()
        .join("")
    };
    assert!(when().starts_with("2027-02-10"), "{}", when());
    site.ok(&[
        "case",
        "inform",
        &third,
        "U00",
        "--by",
        "EC2",
        "--now",
        "2027-03-16T10:00",
    ]);
    assert!(when().starts_with("2027-03-16"), "{}", when());
    site.ok(&[
        "case",
        "inform",
        &third,
        "U00",
        "--undo",
        "--by",
        "EC2",
        "--now",
        "2027-03-16T10:01",
    ]);
    assert!(when().starts_with("2027-02-10"), "{}", when());
    // An undo names people on the list, as a tick does.
    let typo = site.run(&[
        "case",
        "inform",
        &third,
        "U99",
        "--undo",
        "--by",
        "EC2",
        "--now",
        "2027-03-16T10:02",
    ]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("`U99` is not on the list"),
        "{}",
        typo.stderr
    );
}

// --- Maintaining access rights ---------------------------------------------------------------

/// NPÖ: "Verksamhetschef ansvarar för att kontinuerligt beställa, revidera samt avbeställa
/// behörigheter utifrån medarbetarens åtkomstbehov." Once a year every unit with accounts gets a
/// review for the verksamhetschef, listing its people's accounts and flagging the one of a
/// person who left, its use after they left, and an account in the log that belongs to nobody;
/// the review closes only when each flagged account is kept or ended, and the summary counts
/// both.
#[test]
fn every_unit_reviews_its_access_rights_yearly_and_decides_each_flagged_account() {
    let site = Site::new();
    let row = |id: &str, user: &str, at: &str| {
        format!("{id},{at},npo,{user},,Sjuksköterska,EN1,191212121212,EN1,Läsa,journal,vård\n")
    };
    site.write(
        "npo.csv",
        &format!(
            "{LOG_HEADER}\n{}{}{}{}",
            row("A1", "n01", "2027-02-02 10:00:00"),
            row("A2", "n05", "2027-01-20 10:00:00"),
            row("A3", "n05", "2027-02-15 11:00:00"),
            row("A4", "x77", "2027-02-20 12:00:00"),
        ),
    );
    // U02 leaves the roster on 10 February; their account is used after it, once.
    let people = std::fs::read_to_string(site.path("people.csv")).expect("people");
    let without: String = people
        .lines()
        .filter(|l| !l.starts_with("U02,"))
        .map(|l| format!("{l}\n"))
        .collect();
    site.write("people.csv", &without);
    site.import_roster("2027-02-10T08:00");
    let mut log = std::fs::read_to_string(site.path("npo.csv")).expect("log");
    log.push_str(&row("A5", "n02", "2027-02-25 09:00:00"));
    site.write("npo.csv", &log);
    site.ok(&[
        "logs",
        "import",
        "npo.csv",
        "--from",
        "2027-01-01",
        "--to",
        "2027-02-28",
        "--now",
        "2027-03-01T06:00",
    ]);
    site.ok(&["tick", "--now", "2027-03-01T08:00"]);
    let cases = helpers::strings(
        &loggkoll::store::Store::at(&site.db).expect("db").into_db(),
        "SELECT c.id, c.unit_id, t.assignee_id FROM cases c JOIN tasks t ON t.case_id = c.id
         WHERE c.kind = 'access_rights' ORDER BY c.unit_id",
        (),
    );
    assert_eq!(
        cases
            .iter()
            .map(|c| (c[1].as_str(), c[2].as_str()))
            .collect::<Vec<_>>(),
        [("EN1", "VC1"), ("EN2", "VC1")],
        "each unit with accounts, for the verksamhetschef"
    );
    let case = cases[0][0].clone();
    let r = site.ok(&[
        "case",
        "accounts",
        &case,
        "--json",
        "--now",
        "2027-03-01T09:00",
    ]);
    let review: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let flags_of = |account: &str| -> Vec<String> {
        review["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["account"] == account)
            .unwrap_or_else(|| panic!("{account} listed"))["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(flags_of("n05"), ["left_with_account", "used_after_leaving"]);
    assert_eq!(flags_of("x77"), ["no_holder"]);
    assert!(
        flags_of("n01").is_empty(),
        "an ordinary account is not flagged"
    );
    // Gone from the roster, the account no longer listed: flagged only for its use after.
    assert_eq!(flags_of("n02"), ["used_after_leaving"]);
    assert!(flags_of("n00").is_empty());
    assert_eq!(review["counts"]["flagged"], 3);
    // Not done while a flagged account is undecided.
    let r = site.run(&[
        "case",
        "answer",
        &case,
        "done",
        "--by",
        "VC1",
        "--now",
        "2027-03-02T09:00",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("npo:n05")
            && r.stderr.contains("npo:x77")
            && r.stderr.contains("npo:n02"),
        "{}",
        r.stderr
    );
    // Only whoever has the step decides.
    let r = site.run(&[
        "case",
        "decide",
        &case,
        "n05",
        "end",
        "--by",
        "EC1",
        "--now",
        "2027-03-02T09:00",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for (account, decision) in [
        ("npo:n05", "end"),
        ("x77", "end"),
        ("n02", "end"),
        ("n01", "keep"),
    ] {
        site.ok(&[
            "case",
            "decide",
            &case,
            account,
            decision,
            "--by",
            "VC1",
            "--now",
            "2027-03-02T09:10",
        ]);
    }
    site.ok(&[
        "case",
        "answer",
        &case,
        "done",
        "--by",
        "VC1",
        "--now",
        "2027-03-02T09:30",
    ]);
    assert_eq!(
        site.count(&format!(
            "SELECT COUNT(*) FROM cases WHERE id = '{case}' AND result = 'rights_reviewed'"
        )),
        1
    );
    // The protocol lists the decisions; the summary counts them.
    let r = site.ok(&[
        "report",
        "protocol",
        &case,
        "--out",
        "arkiv",
        "--now",
        "2027-03-02T10:00",
    ]);
    let html = std::fs::read_to_string(site.path(r.stdout.lines().next().expect("path")))
        .expect("protocol");
    assert!(html.contains("Enhetens konton"), "{html}");
    assert_eq!(html.matches("Avslutas (beställt)").count(), 3, "{html}");
    let summary = site.summary_2027("2027-03-03T10:00");
    assert!(
        summary.contains("konton som behålls: 1, konton som avslutas: 3"),
        "{summary}"
    );
    // Once a year: the next tick opens nothing more.
    site.ok(&["tick", "--now", "2027-06-01T08:00"]);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM cases WHERE kind = 'access_rights'"),
        2
    );
}

/// Issue 25: "the log's `user_title` is used where the roster has none". Nobody in the roster
/// has a job title; the log says U01 is an undersköterska, and undersköterskor at EN1 reach only
/// their own unit's clients: U01's access to a client of EN2 is flagged beyond the need, and
/// U00's (whose log gives a title nobody analysed) is not bounded.
#[test]
fn the_evidence_reads_the_need_by_the_logs_job_title_where_the_roster_has_none() {
    let site = Site::new();
    site.write(
        "behov.csv",
        "unit_id,title,system,scope,risk,decided_by,decided_on
         EN1,Undersköterska,npo,unit,Egna kunder,Vera Verksamhetschef,2026-11-01
",
    );
    site.ok(&["rights", "import", "behov.csv", "--now", "2027-01-05T09:00"]);
    let row = |id: &str, user: &str, title: &str| {
        format!(
            "{id},2027-01-12 10:00:00,npo,{user},,{title},EN1,191212121212,EN2,Läsa,journal,vård\n"
        )
    };
    site.write(
        "npo.csv",
        &format!(
            "{LOG_HEADER}\n{}{}",
            row("T1", "n01", "Undersköterska"),
            row("T2", "n00", "Kurator"),
        ),
    );
    site.ok(&[
        "logs",
        "import",
        "npo.csv",
        "--from",
        "2027-01-01",
        "--to",
        "2027-01-31",
        "--now",
        "2027-02-01T06:00",
    ]);
    let flags = |user: &str| -> Vec<String> {
        let (accesses, flags) = site.evidence_flags(user, "2027-01-12", "2027-02-01T08:00");
        assert_eq!(accesses, 1, "{user}: {flags:?}");
        flags
    };
    let u01 = flags("U01");
    assert!(u01.contains(&"beyond_need".to_string()), "{u01:?}");
    let u00 = flags("U00");
    assert!(!u00.contains(&"beyond_need".to_string()), "{u00:?}");
    assert!(u00.contains(&"unit_mismatch".to_string()), "{u00:?}");
}

/// HSLF-FS 2016:40 4 kap. 2 §: access rights are decided after a needs-and-risk analysis
/// (*behovs- och riskanalys*); NPÖ's verksamhetschef orders, revises and cancels them "utifrån
/// medarbetarens åtkomstbehov". `rights import` stores the analysis per unit, title and system
/// (a bad file refused whole); the yearly review flags an account whose title has no analysed
/// need, accesses beyond the analysed scope, and an account unused for a year; the summary names
/// the units without a current analysis.
#[test]
fn access_rights_are_reviewed_against_the_needs_and_risk_analysis() {
    let site = Site::new();
    // Titles in the roster: U03 has none (the log gives one).
    let people = std::fs::read_to_string(site.path("people.csv")).expect("people");
    let titled: String = people
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let title = if i == 0 {
                "title"
            } else if l.starts_with("U0") && !l.starts_with("U03,") {
                "Undersköterska"
            } else {
                ""
            };
            format!("{l},{title}\n")
        })
        .collect();
    // U06 joins now, with an account not a year old.
    let titled = format!("{titled}U06,Nils Nyberg,u6@example.se,EN1,,npo:n06,,,Undersköterska\n");
    site.write("people.csv", &titled);
    site.import_roster("2027-01-05T08:00");
    // A bad analysis is refused whole, naming file, line and field.
    let header = "unit_id,title,system,scope,risk,decided_by,decided_on\n";
    site.write(
        "behov.csv",
        &format!(
            "{header}EN1,Undersköterska,npo,unit,Egna kunder,Vera Verksamhetschef,2026-11-01\n\
             EN9,Undersköterska,npo,alla,Allt,Vera Verksamhetschef,2026-11-01\n"
        ),
    );
    let r = site.run(&["rights", "import", "behov.csv", "--now", "2027-01-05T09:00"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("behov.csv:3: field `unit_id`: unit `EN9` is not in the roster"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("behov.csv:3: field `scope`: `alla` is not a scope"),
        "{}",
        r.stderr
    );
    let shown: serde_json::Value = serde_json::from_str(
        &site
            .ok(&["rights", "show", "--json", "--now", "2027-01-05T09:00"])
            .stdout,
    )
    .expect("JSON");
    assert!(shown["version"].is_null(), "nothing was imported: {shown}");
    // The analysis: undersköterskor at EN1 reach their own unit's clients, at EN2 the area's
    // (decided long ago); nobody analysed sjuksköterskor.
    site.write(
        "behov.csv",
        &format!(
            "{header}EN1,Undersköterska,npo,unit,Läser bara egna kunders journaler,Vera Verksamhetschef,2026-11-01\n\
             EN2,undersköterska,npo,area,\"Täcker upp i hela området; risk för nyfikenhet\",Vera Verksamhetschef,2025-10-01\n"
        ),
    );
    site.ok(&["rights", "import", "behov.csv", "--now", "2027-01-05T09:00"]);
    assert_eq!(
        site.count("SELECT COUNT(*) FROM audit WHERE event = 'rights.imported'"),
        1
    );
    // A year of log: n00 within its unit; n01 at a client of EN2; n02 never; n03 (a
    // sjuksköterska by the log); n04 at EN2 reaches EN1 (same area) and a unit outside.
    let row = |id: &str, user: &str, title: &str, at: &str, client_unit: &str| {
        format!("{id},{at},npo,{user},,{title},EN1,191212121212,{client_unit},Läsa,journal,vård\n")
    };
    site.write(
        "npo.csv",
        &format!(
            "{LOG_HEADER}\n{}{}{}{}{}",
            row("B1", "n00", "Undersköterska", "2026-06-01 10:00:00", "EN1"),
            row("B2", "n01", "Undersköterska", "2026-09-01 10:00:00", "EN2"),
            row("B3", "n03", "Sjuksköterska", "2026-10-01 10:00:00", "EN1"),
            row("B4", "n04", "Undersköterska", "2026-11-01 10:00:00", "EN1"),
            row("B5", "n04", "Undersköterska", "2026-11-02 10:00:00", "EXT9"),
        ),
    );
    site.ok(&[
        "logs",
        "import",
        "npo.csv",
        "--from",
        "2026-03-01",
        "--to",
        "2027-02-28",
        "--now",
        "2027-03-01T06:00",
    ]);
    site.ok(&["tick", "--now", "2027-03-01T08:00"]);
    let cases = helpers::strings(
        &loggkoll::store::Store::at(&site.db).expect("db").into_db(),
        "SELECT id, unit_id FROM cases WHERE kind = 'access_rights' ORDER BY unit_id",
        (),
    );
    assert_eq!(cases.len(), 2, "{cases:?}");
    let review = |case: &str| -> serde_json::Value {
        serde_json::from_str(
            &site
                .ok(&[
                    "case",
                    "accounts",
                    case,
                    "--json",
                    "--now",
                    "2027-03-01T09:00",
                ])
                .stdout,
        )
        .expect("JSON")
    };
    let account = |review: &serde_json::Value, account: &str| -> serde_json::Value {
        review["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["account"] == account)
            .unwrap_or_else(|| panic!("{account} listed"))
            .clone()
    };
    let flags = |a: &serde_json::Value| -> Vec<String> {
        a["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let en1 = review(&cases[0][0]);
    assert!(en1["analysis"]["version"].is_number(), "{en1}");
    let n00 = account(&en1, "n00");
    assert!(flags(&n00).is_empty(), "{n00}");
    assert_eq!(n00["needs"][0]["scope"], "unit", "{n00}");
    assert_eq!(n00["title"], "Undersköterska");
    let n01 = account(&en1, "n01");
    assert_eq!(flags(&n01), ["beyond_need"], "{n01}");
    assert!(
        n01["flags"][0]["text"].as_str().is_some_and(
            |t| t.contains("1 åtkomst under") && t.contains("kundernas enhet: Hemtjänst Syd")
        ),
        "{n01}"
    );
    assert_eq!(flags(&account(&en1, "n02")), ["unused"]);
    assert!(
        flags(&account(&en1, "n06")).is_empty(),
        "an account not a year old is not unused"
    );
    let n03 = account(&en1, "n03");
    assert_eq!(flags(&n03), ["no_need"], "{n03}");
    assert_eq!(n03["title"], "Sjuksköterska", "the log's title stands in");
    let en2 = review(&cases[1][0]);
    let n04 = account(&en2, "n04");
    assert_eq!(flags(&n04), ["beyond_need"], "{n04}");
    let text = n04["flags"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("EXT9") && !text.contains("Hemtjänst Norr"),
        "EN1 is in the area: {text}"
    );
    assert_eq!(n04["needs"][0]["outdated"], true, "{n04}");
    // The analysis shown: EN1 current, EN2 outdated.
    let shown: serde_json::Value = serde_json::from_str(
        &site
            .ok(&["rights", "show", "--json", "--now", "2027-03-01T09:00"])
            .stdout,
    )
    .expect("JSON");
    let unit = |id: &str| {
        shown["units"]
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["unit"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} in {shown}"))
    };
    assert_eq!(unit("EN1")["current"], true);
    assert_eq!(unit("EN2")["current"], false);
    assert_eq!(unit("EN2")["needs"][0]["title"], "undersköterska");
    // The radar counts it.
    let radar: serde_json::Value = serde_json::from_str(
        &site
            .ok(&[
                "radar",
                "--from",
                "2026-09-01",
                "--to",
                "2026-09-02",
                "--system",
                "npo",
                "--json",
                "--now",
                "2027-03-01T09:00",
            ])
            .stdout,
    )
    .expect("JSON");
    assert_eq!(radar[0]["flags"]["beyond_need"], 1, "{radar}");
    // A review's evidence flags the access beyond the need too, not the one within it.
    let evidence_flags = |user: &str, day: &str| -> Vec<String> {
        let (accesses, flags) = site.evidence_flags(user, day, "2027-03-02T08:00");
        assert!(accesses > 0, "{user} on {day}");
        flags
    };
    let beyond = evidence_flags("U01", "2026-09-01");
    assert!(beyond.contains(&"beyond_need".to_string()), "{beyond:?}");
    let within = evidence_flags("U00", "2026-06-01");
    assert!(!within.contains(&"beyond_need".to_string()), "{within:?}");
    // The summary names the unit without a current analysis.
    let summary = site.summary_2027("2027-03-03T10:00");
    assert!(
        summary.contains(
            "Behovs- och riskanalys saknas eller är äldre än ett år för 1 av 2 enheter: Hemtjänst Syd (senast beslutad 2025-10-01)"
        ),
        "{summary}"
    );
}

// --- How-to documents and a contact person -------------------------------------------------

/// Treserva: "Lathund för logguppföljning i Treserva"; NPÖ: "se respektive instruktion". The
/// review steps link a how-to shipped beside the routines, and every email names whom to ask
/// when a contact person is configured.
#[test]
fn the_review_steps_link_a_how_to_and_emails_name_the_contact_person() {
    use loggkoll::routine::model::Guide;
    for id in ["treserva-sampling", "npo-sampling"] {
        let r = routine(id);
        match &state(&r, "review").guide {
            Some(Guide::File(file)) => {
                assert!(
                    routines_dir().join(file).is_file(),
                    "{id}: {file} is shipped"
                );
            }
            other => panic!("{id}: the review step links a how-to file, not {other:?}"),
        }
    }
    // The contact person in the emails.
    let dir = tempfile::tempdir().expect("tempdir");
    let routines = helpers::shipped(dir.path(), &["treserva-sampling"]);
    let start = helpers::local("2027-02-01T06:00");
    let mut engine = helpers::open(dir.path(), "contact", &routines, "contact-seed", start);
    engine.config.contact = Some(loggkoll::config::Contact {
        name: "Karin Kvalitet".into(),
        email: "karin.kvalitet@kommun.se".into(),
        phone: "0504-123 45".into(),
    });
    let roster = loggkoll::simulate::org::synthetic(30, 2, 5);
    helpers::import(&mut engine, &roster, start);
    engine
        .tick(helpers::local("2027-02-01T08:00"))
        .expect("tick");
    let id = helpers::count(
        engine.store.db(),
        "SELECT MIN(id) FROM outbox WHERE purpose = 'task'",
        (),
    );
    let row = loggkoll::store::outbox::get(engine.store.db(), id)
        .expect("read")
        .expect("a task email");
    let mail = loggkoll::notify::sender::compose(
        &row,
        &engine.templates,
        &engine.config.mail.from,
        "test",
    )
    .expect("composed");
    let line =
        "Frågor om loggkontrollen? Kontakta Karin Kvalitet, karin.kvalitet@kommun.se, 0504-123 45.";
    assert!(mail.text.contains(line), "{}", mail.text);
    assert!(
        mail.html.contains("mailto:karin.kvalitet@kommun.se"),
        "{}",
        mail.html
    );
}

// --- The rest of the "ska", one test each, on the shipped routines -------------------------

use loggkoll::routine::duration::DayCount;
use loggkoll::routine::model::{CatchUp, IncludeRule, SampleSize, Strategy, Trigger};

fn occurrences_in(r: &Routine, year: i32) -> usize {
    r.crontab()
        .map(|c| c.occurrences_in_year(r.timezone, year).len())
        .unwrap_or(0)
}

fn catches_up_all(r: &Routine) -> bool {
    matches!(
        r.trigger,
        Trigger::Schedule {
            catch_up: CatchUp::All,
            ..
        }
    )
}

fn sampling(r: &Routine) -> &loggkoll::routine::model::Sampling {
    r.sampling
        .as_ref()
        .unwrap_or_else(|| panic!("{} samples", r.id))
}

fn working_days(d: DayCount) -> u32 {
    match d {
        DayCount::Working(n) => n,
        DayCount::Calendar(n) => n,
    }
}

/// NPÖ: "Kontrollerna sker systematiskt och dokumenteras." Treserva: "All logguppföljning ska
/// dokumenteras och särskild blankett finns för detta ändamål." Every review routine has a
/// protocol (the template renders for every case, `tests/records.rs`).
#[test]
fn every_review_is_documented_in_a_protocol() {
    // A closed review's protocol holds what was decided, by whom and why.
    let site = Site::new();
    let case = site.targeted_closed("npo", "2027-01-10T09:00");
    let r = site.ok(&[
        "report",
        "protocol",
        &case,
        "--out",
        "arkiv",
        "--now",
        "2027-01-10T10:00",
    ]);
    let html = std::fs::read_to_string(site.path(r.stdout.lines().next().expect("a path")))
        .expect("the protocol");
    for part in [
        case.as_str(),
        "Vera Verksamhetschef",
        "Misstanken saknade grund",
    ] {
        assert!(html.contains(part), "`{part}` in the protocol:\n{html}");
    }
    for r in shipped() {
        assert!(
            !r.templates.protocol.is_empty(),
            "{}: a protocol template",
            r.id
        );
        assert!(
            helpers::root()
                .join("templates/documents")
                .join(format!("{}.html", r.templates.protocol))
                .is_file(),
            "{}",
            r.id
        );
    }
}

/// NPÖ: "Verksamhetschef enligt HSL ska regelbundet granska personalens åtkomst" and "Den
/// systematiska stickprovskontrollen ska genomföras två gånger per år eller oftare"; a machine
/// that was off still holds every missed round.
#[test]
fn npo_samples_twice_a_year_or_more_reviewed_by_the_verksamhetschef() {
    let r = routine("npo-sampling");
    assert!(occurrences_in(&r, 2027) >= 2);
    assert!(catches_up_all(&r), "every missed round is held");
    assert_eq!(assignee(state(&r, "review")), Role::OperationsManager);
}

/// NPÖ: "…omfatta så många att det motsvarar sannolikheten att varje användare blir granskad
/// minst en gång per år. Urvalet ska ske slumpmässigt och granskningen ska omfatta en 24
/// timmars intervall." Treserva: the same chance, "10 %" monthly, "under en
/// 24-timmarsperiod".
#[test]
fn every_user_is_reviewed_within_the_year_by_a_random_draw_of_one_24_hour_interval() {
    for (id, rounds) in [("npo-sampling", 2), ("treserva-sampling", 12)] {
        let r = routine(id);
        let s = sampling(&r);
        assert_eq!(
            s.strategy,
            Strategy::Coverage,
            "{id}: everyone by 31 December"
        );
        // The year's draws, as the routine's schedule holds them, over a population of three
        // units: everyone present all year is drawn by 31 December.
        let held = occurrences_in(&r, 2027) as u32;
        assert!(held >= rounds, "{id}: {held} rounds");
        let population: Vec<loggkoll::store::roster::Member> = (0..111)
            .map(|i| loggkoll::store::roster::Member {
                person_id: format!("P{i:03}"),
                home_unit: format!("EN{}", i % 3),
                account: format!("a{i:03}"),
                other_accounts: Vec::new(),
                units: 1,
            })
            .collect();
        let mut drawn = std::collections::HashSet::new();
        let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(7);
        for round in 0..held {
            for d in loggkoll::engine::sampling::draw(
                &loggkoll::engine::sampling::Input {
                    population: &population,
                    sampling: s,
                    rounds_per_year: held,
                    rounds_left: held - round,
                    drawn_this_year: &drawn.clone(),
                    last_drawn: &std::collections::HashMap::new(),
                    day: chrono::NaiveDate::from_ymd_opt(2027, 1 + round * 12 / held, 1)
                        .expect("a day"),
                },
                &mut rng,
            ) {
                drawn.insert(population[d.member].person_id.clone());
            }
        }
        assert_eq!(drawn.len(), population.len(), "{id}: everyone drawn");
        assert_eq!(s.window_hours, 24, "{id}");
    }
}

/// Treserva: "Logguppföljning ska ske varje månad samt vid behov. Varje månad ska ett antal
/// användare (10 %) inom verksamheten slumpmässigt väljas ut".
#[test]
fn treserva_draws_ten_percent_of_users_every_month() {
    let r = routine("treserva-sampling");
    assert_eq!(occurrences_in(&r, 2027), 12);
    assert!(catches_up_all(&r), "no month is skipped after an outage");
    assert!(matches!(sampling(&r).size, SampleSize::Fraction(f) if (f - 0.10).abs() < 1e-9));
    assert!(sampling(&r).min_per_unit >= 1, "every unit");
}

/// Treserva: "Särskild uppföljning ska ske av användare som har behörighet till flera enheter."
#[test]
fn treserva_follows_up_users_with_access_to_several_units() {
    let r = routine("treserva-sampling");
    assert!(
        sampling(&r)
            .always_include
            .iter()
            .any(|a| a.users == IncludeRule::MultiUnit)
    );
}

/// Treserva: "Enhetschefen ansvarar för att logguppföljning genomförs enligt gällande rutin."
#[test]
fn treserva_reviews_are_done_by_the_enhetschef() {
    let r = routine("treserva-sampling");
    assert_eq!(assignee(state(&r, "review")), Role::UnitManager);
    for name in ["contact_employee", "labour_law_matter", "police_report"] {
        assert_eq!(assignee(state(&r, name)), Role::UnitManager, "{name}");
    }
}

/// Treserva: "Visar logguppföljningen ingen misstanke … ska detta noteras i
/// granskningsprotokollet." "Bedöms något som oklart tar aktuell chef kontakt med den användare
/// det gäller." "Om inte en godtagbar förklaring kan lämnas ska ärendet hanteras som ett
/// arbetsrättsligt ärende."
#[test]
fn treserva_no_finding_is_noted_unclear_means_talking_to_the_employee_and_no_explanation_is_a_labour_law_matter()
 {
    let r = routine("treserva-sampling");
    assert_eq!(
        after(&r, "review", "no_finding").result,
        Some(ResultCategory::NoFinding)
    );
    assert_eq!(after(&r, "review", "unclear").name, "contact_employee");
    assert_eq!(
        after(&r, "contact_employee", "not_explained").name,
        "labour_law_matter"
    );
    assert_eq!(
        after(&r, "contact_employee", "explained").result,
        Some(ResultCategory::Explained)
    );
}

/// Treserva: "Visar analysen att det varit ett faktiskt dataintrång eller olovlig läsning ska
/// ställningstagande till arbetsrättsliga åtgärder övervägas. Om överträdelsen bedöms så
/// allvarlig … ska ärendet polisanmälas av berörd chef."
#[test]
fn a_serious_intrusion_is_reported_to_the_police_by_the_manager() {
    for r in reviews() {
        assert!(
            r.state("police_report").is_some(),
            "{}: a state `police_report`",
            r.id
        );
        assert_eq!(
            after(&r, "labour_law_action", "serious").name,
            "police_report",
            "{}",
            r.id
        );
        let police = state(&r, "police_report");
        assert!(
            matches!(
                assignee(police),
                Role::UnitManager | Role::OperationsManager
            ),
            "{}: berörd chef",
            r.id
        );
        assert!(
            r.outcomes(state_ix(&r, "police_report"))
                .iter()
                .all(|(o, _)| o.comment_required),
            "{}: the police's reference is written down",
            r.id
        );
    }
}

/// Treserva: "Är misstanken riktad mot en specifianvändare ska uppföljningen ske för den
/// tidsperiod som misstanken omfattar." A suspicion found in a sample leads to a targeted review
/// of the whole period; the targeted review reads the period the decision names.
#[test]
fn a_suspicion_is_followed_up_over_the_period_it_covers() {
    let r = routine("treserva-sampling");
    let guidance = state(&r, "labour_law_matter")
        .guidance
        .clone()
        .unwrap_or_default();
    assert!(guidance.contains("riktad kontroll"), "{guidance}");
    let t = routine("targeted-review");
    assert!(
        state(&t, "decision")
            .guidance
            .as_deref()
            .unwrap_or_default()
            .contains("tidsperiod")
    );
}

/// Treserva: "Vid misstanke om obehörig åtkomst till information ska logguppföljning omedelbart
/// ske." NPÖ: "Beslut om att initiera loggkontroll ska alltid tas av verksamhetschef." The
/// decision is due the next working day and the review two days after.
#[test]
fn a_suspicion_is_reviewed_at_once_after_the_verksamhetschefs_decision() {
    let r = routine("targeted-review");
    let decision = r.graph[r.start].task.as_ref().expect("a step");
    assert!(working_days(decision.deadline) <= 1);
    let review = state(&r, "review").task.as_ref().expect("a step");
    assert!(working_days(review.deadline) <= 2);
    assert_eq!(after(&r, "decision", "start_review").name, "review");
}

/// NPÖ: "Om det finns skäl att misstänka att dataintrång har skett är utsedd person ansvarig
/// skyldig att informera sin chef innan loggkontroller genomförs. Verksamhetschef informerar
/// HR-strateg och affärsområdeschef om misstanken." "Verksamhetschef ska även informera
/// affärsområdeschef om misstankarna."
#[test]
fn npo_a_suspicion_reaches_the_verksamhetschef_hr_and_the_business_area_manager() {
    let t = routine("targeted-review");
    let told = &t.graph[t.start].inform;
    for role in [
        Role::HrStrategist,
        Role::BusinessAreaManager,
        Role::OperationsManager,
    ] {
        assert!(told.contains(&role), "decision informs {role:?}");
    }
    for r in routines_of("npo")
        .into_iter()
        .filter(|r| r.state("hr_assessment").is_some())
    {
        assert!(
            state(&r, "hr_assessment")
                .inform
                .contains(&Role::OperationsManager),
            "{}: the chef hears of every suspicion",
            r.id
        );
        assert!(
            state(&r, "hr_consultation")
                .inform
                .contains(&Role::BusinessAreaManager),
            "{}",
            r.id
        );
    }
}

/// NPÖ: "Kunden ska få svar skyndsamt eftersom loggar är en allmän handling." "Vid utlämnande
/// av logglista … ska samtlig information läggas i kommunens ärendehanteringssystem."
/// Treserva: "Utlämnandet av loggutdraget ska dokumenteras i journalen." "I samband med att
/// loggutdraget skickas till den enskilde ska logguppföljning göras för den tidsperiod som
/// angivits av den enskilde."
#[test]
fn an_extract_is_handed_out_promptly_filed_and_followed_by_a_review_of_the_period() {
    let r = routine("log-extract");
    let hand_out = r.graph[r.start].task.as_ref().expect("a step");
    assert!(working_days(hand_out.deadline) <= 2, "skyndsamt");
    let (_, filed) = r.outcomes(r.start)[0];
    assert_eq!(r.graph[filed].name, "document");
    let (_, reviewed) = r.outcomes(filed)[0];
    assert_eq!(r.graph[reviewed].name, "review");
    assert!(
        r.outcomes(reviewed)
            .iter()
            .any(|(_, to)| r.graph[*to].result == Some(ResultCategory::ExtractHandedOut))
    );
    assert_eq!(r.templates.extract_letter, "extract_letter");
}

/// Treserva: "I loggen syns vilken enhet, roll och tidpunkt någon tagit del av journalen." "…
/// det ska framgå från vilken verksamhet och vid vilken tidpunkt någon har tagit del av
/// uppgifterna." NPÖ: "Logglistan ska vara utformat så att det ger kunden en klar uppfattning
/// om åtkomsten till informationen har varit befogad eller inte."
#[test]
fn the_extract_letter_shows_when_from_which_unit_and_in_which_role() {
    let letter =
        std::fs::read_to_string(helpers::root().join("templates/documents/extract_letter.html"))
            .expect("the letter");
    for column in ["När", "Enhet", "Roll", "Vad som gjordes"] {
        assert!(letter.contains(&format!(">{column}</th>")), "{column}");
    }
    assert!(
        letter.contains("Vad betyder det här?"),
        "an explanation for the client"
    );
}

/// Treserva: "Årlig redovisning ska ske till SAS senast årets utgång."
#[test]
fn the_sas_gets_the_yearly_summary_before_the_year_ends() {
    let r = routine("treserva-sampling");
    let s = r.summary.as_ref().expect("a summary");
    assert_eq!(s.to, Role::Sas);
    assert!(occurrences_in(&r, 2027) > 0);
    // The year's last working day: the summary of 2027 has gone to the SAS by then.
    let site = Site::new();
    site.ok(&["tick", "--now", "2027-12-30T16:00"]);
    assert_eq!(
        site.count(
            r#"SELECT COUNT(*) FROM outbox WHERE purpose = 'summary' AND to_addr LIKE '%<sas@example.se>'
               AND context LIKE '%"routine_id":"treserva-sampling","year":2027,%'
               AND created_at < '2027-12-31'"#
        ),
        1,
        "the SAS's summary of 2027, in 2027"
    );
    // "Blankett sammanställning": the summary itself, attached as HTML and CSV.
    assert_eq!(
        site.count(
            "SELECT COUNT(*) FROM outbox_attachments
             WHERE file_name IN ('sammanstallning-2027-treserva-sampling.html',
                                 'sammanstallning-2027-treserva-sampling.csv')"
        ),
        2
    );
}

/// NPÖ: "Verksamhetschef kan delegera uppgifterna till biträdande verksamhetschef eller annan
/// utsedd person … Verksamhetschefen har fortsatt ansvar". A delegation sends the step to the
/// deputy (`tests/engine_ticks.rs`); the holder is told of every suspicion (above) and the
/// step escalates past the deputy.
#[test]
fn npo_the_verksamhetschef_may_delegate_and_stays_responsible() {
    let r = routine("npo-sampling");
    let review = state(&r, "review").task.as_ref().expect("a step");
    let escalation = review.escalation.as_ref().expect("an escalation");
    assert_ne!(escalation.to, Role::OperationsManager);
    assert_ne!(escalation.to, Role::DeputyOperationsManager);
}

/// `docs/obligations.md` has no row without a test, and every test it names exists.
#[test]
fn every_obligation_in_the_table_is_pinned_by_a_test_that_exists() {
    let root = helpers::root();
    let table =
        std::fs::read_to_string(root.join("docs/obligations.md")).expect("docs/obligations.md");
    let mut sources = String::new();
    for entry in std::fs::read_dir(root.join("tests")).expect("tests") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            sources.push_str(&std::fs::read_to_string(&path).expect("a test file"));
        }
    }
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| NPO-") || l.starts_with("| TRE-"))
        .collect();
    assert!(rows.len() >= 60, "{} rows", rows.len());
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 5, "{row}");
        assert!(cells[2].starts_with('"'), "a quote: {row}");
        let test = cells[4].trim_matches('`');
        assert!(!test.is_empty(), "no test: {row}");
        assert!(
            sources.contains(&format!("fn {test}(")),
            "`{test}` of {} does not exist",
            cells[0]
        );
    }
}

/// NPÖ (advisory): "Vi rekommenderar att verksamheten kontinuerligt och vid behov informerar".
/// With `repeat: 1 year` an information routine informs each account holder again a year after
/// they were last informed (on their own case or their unit's list), and not before; someone who
/// has left is not informed again.
#[test]
fn a_routine_with_repeat_informs_each_account_holder_again_a_year_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let routines = dir.path().join("routines");
    std::fs::create_dir_all(&routines).expect("routines");
    let text = std::fs::read_to_string(routines_dir().join("npo-information.yaml"))
        .expect("npo-information");
    assert!(text.contains("# repeat: 1 year"), "shipped switched off");
    std::fs::write(
        routines.join("npo-information.yaml"),
        text.replace("# repeat: 1 year", "repeat: 1 year"),
    )
    .expect("write");
    let start = helpers::local("2027-01-04T08:00");
    let mut engine = helpers::open(dir.path(), "repeat", &routines, "repeat-seed", start);
    let mut roster = loggkoll::simulate::org::synthetic(30, 2, 5);
    helpers::import(&mut engine, &roster, start);
    // Go-live: the staff already there are informed on their units' lists, on 5 January.
    engine.tick(start).expect("go-live");
    let january = helpers::local("2027-01-05T10:00");
    let lists = helpers::strings(
        engine.store.db(),
        "SELECT c.id, t.assignee_id FROM cases c JOIN tasks t ON t.case_id = c.id
         WHERE c.routine_id = 'npo-information' AND c.subject_person_id IS NULL",
        (),
    );
    assert!(!lists.is_empty());
    for row in &lists {
        helpers::inform_listed(&mut engine, &row[0], &row[1], None, january);
        engine
            .answer(
                &loggkoll::engine::AnswerRequest::new(&row[0], "informed", &row[1]),
                january,
            )
            .expect("the unit informed");
    }
    let listed = helpers::strings(
        engine.store.db(),
        "SELECT DISTINCT person_id FROM case_staff ORDER BY person_id",
        (),
    );
    // A new NPÖ account holder from 1 February.
    let mut new = roster
        .people
        .iter()
        .find(|p| p.accounts.iter().any(|a| a.system == "npo") && p.roles.is_empty())
        .expect("a member of staff with NPÖ")
        .clone();
    new.id = "NY1".into();
    new.email = "ny1@example.se".into();
    new.active_from = Some(helpers::date("2027-02-01"));
    for a in &mut new.accounts {
        a.account = format!("{}-ny", a.account);
    }
    roster.people.push(new);
    helpers::import(&mut engine, &roster, helpers::local("2027-01-20T08:00"));
    engine
        .tick(helpers::local("2027-02-01T08:00"))
        .expect("tick");
    let open_cases = |engine: &loggkoll::engine::Engine| {
        helpers::strings(
            engine.store.db(),
            "SELECT c.id, t.assignee_id FROM cases c JOIN tasks t ON t.case_id = c.id
             WHERE c.subject_person_id = 'NY1' AND t.answered_at IS NULL",
            (),
        )
    };
    let first = open_cases(&engine);
    assert_eq!(first.len(), 1, "{first:?}");
    engine
        .answer(
            &loggkoll::engine::AnswerRequest::new(&first[0][0], "informed", &first[0][1]),
            helpers::local("2027-02-03T10:00"),
        )
        .expect("informed");
    // Not again before the year is out …
    engine
        .tick(helpers::local("2027-12-01T08:00"))
        .expect("tick");
    assert!(open_cases(&engine).is_empty());
    // Those informed on their units' lists: a case of their own a year after, on 6 January.
    let again_at = |engine: &loggkoll::engine::Engine, day: &str| {
        helpers::strings(
            engine.store.db(),
            &format!(
                "SELECT subject_person_id FROM cases WHERE routine_id = 'npo-information'
                 AND subject_person_id IS NOT NULL AND subject_person_id != 'NY1'
                 AND opened_at LIKE '{day}%' ORDER BY subject_person_id"
            ),
            (),
        )
    };
    engine
        .tick(helpers::local("2028-01-05T08:00"))
        .expect("tick");
    assert!(
        again_at(&engine, "2028-01-05").is_empty(),
        "not before the year"
    );
    engine
        .tick(helpers::local("2028-01-06T08:00"))
        .expect("tick");
    assert_eq!(again_at(&engine, "2028-01-06"), listed);
    // … and the newcomer a year after being informed (3 February), once.
    engine
        .tick(helpers::local("2028-02-03T08:00"))
        .expect("tick");
    assert!(open_cases(&engine).is_empty(), "not before the year");
    engine
        .tick(helpers::local("2028-02-04T08:00"))
        .expect("tick");
    engine
        .tick(helpers::local("2028-02-04T09:00"))
        .expect("tick");
    assert_eq!(open_cases(&engine).len(), 1);
    assert_eq!(
        helpers::count(
            engine.store.db(),
            "SELECT COUNT(*) FROM cases WHERE subject_person_id = 'NY1'",
            (),
        ),
        2
    );
}

/// NPÖ: "Om det utifrån loggkontrollen finns misstanke om otillbörlig åtkomst beslutar
/// verksamhetschef tillsammans med HR-strateg om … vilka åtgärder som ska vidtas. Verksamhetschef
/// ska även informera affärsområdeschef om misstankarna." Treserva: "Om inte en godtagbar
/// förklaring kan lämnas ska ärendet hanteras som ett arbetsrättsligt ärende", and the police
/// report is made "av berörd chef". As a finding escalates, HR is told of labour-law action, and
/// the manager above is told of a police report and of how it ended.
#[test]
fn those_responsible_are_kept_informed_as_an_intrusion_escalates() {
    let informs = |r: &Routine, name: &str| -> Vec<Role> { state(r, name).inform.clone() };
    for r in reviews() {
        assert!(
            informs(&r, "labour_law_action").contains(&Role::HrStrategist),
            "{}: HR is told of labour-law action",
            r.id
        );
        // Treserva's chain runs through the verksamhetschef; NPÖ's to the affärsområdeschef.
        let above = if r.id == "treserva-sampling" {
            Role::OperationsManager
        } else {
            Role::BusinessAreaManager
        };
        for name in ["police_report", "closed_police_report"] {
            assert!(
                informs(&r, name).contains(&above),
                "{}: `{name}` informs {above:?}",
                r.id
            );
        }
    }
    let t = routine("treserva-sampling");
    for role in [Role::HrStrategist, Role::OperationsManager] {
        assert!(
            informs(&t, "labour_law_matter").contains(&role),
            "a labour-law matter is told to {role:?}"
        );
    }
    // A client's extract that reveals an intrusion takes the same path.
    let x = routine("log-extract");
    assert!(informs(&x, "labour_law_action").contains(&Role::HrStrategist));
}

// --- Every obligation pinned ----------------------------------------------------------------

/// One removal from a shipped routine: a state, a state's `inform`, or the `retention`,
/// `schedule` or `window` key.
struct Removal {
    file: String,
    what: String,
    text: String,
}

/// The lines `[start, end)` of the block that begins at line `start` (indented `indent`): it
/// and every following line indented deeper, or blank, up to the next line indented as little.
fn block_end(lines: &[&str], start: usize, indent: usize) -> usize {
    let mut end = start + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim_start();
        if !t.is_empty() && !t.starts_with('#') && l.len() - t.len() <= indent {
            break;
        }
        end += 1;
    }
    end
}

/// A removal that drops no obligation: without `window`, a sampling routine reviews the default
/// window, 24 hours, which is the obligation (and the test of it reads the compiled routine, so
/// a changed default fails it).
fn harmless(removal: &Removal) -> bool {
    removal.what == "the `window` key"
}

fn removals(file: &str, text: &str) -> Vec<Removal> {
    let lines: Vec<&str> = text.lines().collect();
    let without = |start: usize, end: usize| -> String {
        let mut out: Vec<&str> = lines[..start].to_vec();
        out.extend_from_slice(&lines[end..]);
        out.join("\n") + "\n"
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    let key = |l: &str| -> Option<String> {
        let t = l.trim_start();
        let (k, _) = t.split_once(':')?;
        (!t.starts_with('#')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| k.to_string())
    };
    let mut out = Vec::new();
    let mut section = String::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(k) = key(l) else { continue };
        let d = indent(l);
        if d == 0 {
            section = k.clone();
        }
        let what = match (d, section.as_str(), k.as_str()) {
            (0, _, "retention") => Some("the `retention` key".to_string()),
            (2, "states", state) => Some(format!("state `{state}`")),
            (2, "trigger", "schedule") | (2, "sampling", "window") => {
                Some(format!("the `{k}` key"))
            }
            (d, "states", "inform") if d > 2 => Some(format!("an `inform` (line {})", i + 1)),
            _ => None,
        };
        if let Some(what) = what {
            out.push(Removal {
                file: file.to_string(),
                what,
                text: without(i, block_end(&lines, i, d)),
            });
        }
    }
    out
}

/// Issue 25: for each shipped routine, removing any state, any `inform`, or its `retention`,
/// `schedule` or `window` key makes `check` fail or one of these obligation tests fail (they
/// run again, in a child process, on the changed copy). A removal nothing notices would be an
/// obligation of `docs/obligations.md` that no test holds.
#[test]
fn removing_an_obligation_from_a_shipped_routine_fails_a_test() {
    // Run once: not inside its own children, and not again in the PostgreSQL pass of the
    // suite (the children run on SQLite either way, so it would repeat the same work).
    if std::env::var_os("LOGGKOLL_OBLIGATIONS_ROUTINES").is_some()
        || std::env::var_os("LOGGKOLL_TEST_POSTGRES").is_some()
    {
        return;
    }
    let root = helpers::root();
    let shipped_dir = root.join("routines");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&shipped_dir)
        .expect("routines")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let me = std::env::current_exe().expect("this test binary");
    let mut all: Vec<Option<Removal>> = vec![None];
    for path in &files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(path).expect("routine");
        all.extend(removals(&name, &text).into_iter().map(Some));
    }
    let mut unnoticed = Vec::new();
    let mut tried = 0;
    let mut kinds = std::collections::BTreeSet::new();
    // First the copy unchanged (`None`): it must pass, or every removal would seem noticed.
    for removal in all {
        let dir = tempfile::tempdir().expect("tempdir");
        let copy = dir.path().join("routines");
        std::fs::create_dir_all(copy.join("guides")).expect("dir");
        for other in &files {
            std::fs::copy(other, copy.join(other.file_name().expect("name"))).expect("copy");
        }
        for guide in std::fs::read_dir(shipped_dir.join("guides")).expect("guides") {
            let guide = guide.expect("guide").path();
            std::fs::copy(
                &guide,
                copy.join("guides").join(guide.file_name().expect("name")),
            )
            .expect("copy");
        }
        if let Some(r) = &removal {
            tried += 1;
            kinds.insert(r.what.split(" (").next().unwrap_or_default().to_string());
            std::fs::write(copy.join(&r.file), &r.text).expect("write");
        }
        let checked = Test::in_dir(dir.path())
            .args([
                "check",
                &copy.display().to_string(),
                "--templates",
                &root.join("templates").display().to_string(),
            ])
            .run();
        if removal.is_some() && checked.code != 0 {
            continue;
        }
        assert_eq!(
            checked.code, 0,
            "the unchanged copy checks: {}",
            checked.stderr
        );
        // `check` is content: the obligation tests must notice (on SQLite, two at a time).
        let run = std::process::Command::new(&me)
            .args(["--test-threads", "2", "--skip", "removing_an_obligation"])
            .env("LOGGKOLL_OBLIGATIONS_ROUTINES", &copy)
            .env_remove("LOGGKOLL_TEST_POSTGRES")
            .output()
            .expect("the obligation tests");
        match &removal {
            None => assert!(
                run.status.success(),
                "the obligation tests pass on the unchanged copy: {}",
                String::from_utf8_lossy(&run.stdout)
            ),
            Some(r) if run.status.success() && !harmless(r) => {
                unnoticed.push(format!("{}: {}", r.file, r.what));
            }
            Some(_) => {}
        }
    }
    assert!(tried >= 40, "only {tried} removals tried");
    for kind in [
        "state",
        "an `inform`",
        "the `retention` key",
        "the `schedule` key",
        "the `window` key",
    ] {
        assert!(
            kinds.iter().any(|k: &String| k.starts_with(kind)),
            "no removal of {kind} tried: {kinds:?}"
        );
    }
    assert!(
        unnoticed.is_empty(),
        "removed, and no test failed:\n{}",
        unnoticed.join("\n")
    );
}
