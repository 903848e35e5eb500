//! Explanations on a messy organisation, through the real binary: home care whose clients move
//! between units (and whose log keeps the old unit), a staffing pool that works shifts in every
//! unit, a night patrol that covers them all, biståndshandläggare who read across the
//! organisation, and a log without the client's unit now and then. Relations and shifts are
//! imported; every access with a reason in the data is recorded with it, and snoops are planted:
//! the user's own record, a colleague's, a relative's, a watched client, a client with no tie to
//! the user. At least 94 % of the accesses with a reason must be explained, no snoop may be, and
//! every snoop is flagged or unexplained, also on its review's page.

#[path = "support/backend.rs"]
mod backend;
mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use loggkoll::personnummer::made_up;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use support::{Run, Test, root};

struct Place {
    _dir: tempfile::TempDir,
    path: PathBuf,
    db: PathBuf,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let db = backend::location(&path, "loggkoll");
        Place {
            _dir: dir,
            path,
            db,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let routines = root().join("routines");
        let templates = root().join("templates");
        Test::in_dir(&self.path)
            .args(["--db", self.db.to_string_lossy().as_ref(), "--routines"])
            .args([routines.to_string_lossy().as_ref()])
            .args(["--templates", templates.to_string_lossy().as_ref()])
            .args(args)
            .env("LOGGKOLL_MAIL_URL", "file://mail")
            .run()
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "{args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    fn json(&self, args: &[&str]) -> Value {
        let run = self.ok(args);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{}", run.stdout))
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path.join(name), text).expect("write");
    }
}

fn pnr(n: u32) -> String {
    made_up(1930 + n % 60, 1 + n % 12, 1 + (n / 12) % 28, 100 + n % 800).replace('-', "")
}

/// Why an access was made, as the generator knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Why {
    /// A client of the user's own unit.
    OwnUnit,
    /// A client who moved to the user's unit; the log still names the old unit.
    Moved,
    /// A pool worker on a shift at the client's unit.
    PoolShift,
    /// The night patrol, at night, a client with night care from the patrol.
    NightPatrol,
    /// The handläggare named for the client.
    Handlaggare,
    /// A client who moved away, still read on the days after (continuity).
    Continuing,
    /// The user's own record, a colleague's, a relative's, a watched client, a stranger.
    Snoop(&'static str),
}

#[derive(Clone)]
struct Access {
    at: DateTime<Utc>,
    account: String,
    /// The user's home unit, as the log names where the record was read from.
    home: String,
    client: String,
    /// The unit the log names for the client ("" for none).
    client_unit: String,
    action: &'static str,
    name: String,
    why: Why,
}

const HOME: [&str; 4] = ["HT-N", "HT-S", "HT-V", "SABO"];

struct World {
    units: String,
    people: String,
    relations: String,
    shifts: String,
    accesses: Vec<Access>,
    /// Each snoop's user and its place in `accesses`, for the review.
    snoopers: Vec<(String, usize)>,
    watched: String,
}

/// The organisation and two months of its log (March and April 2027).
fn world(seed: u64) -> World {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut units =
        String::from("unit_id,name,parent_id\nORG,Vård och omsorg,\nVO,Äldreomsorg,ORG\n");
    for (id, name) in [
        ("HT-N", "Hemtjänst Norr"),
        ("HT-S", "Hemtjänst Söder"),
        ("HT-V", "Hemtjänst Väst"),
        ("SABO", "Säbo Linden"),
        ("POOL", "Bemanningspoolen"),
        ("NATT", "Nattpatrullen"),
        ("BIST", "Biståndsenheten"),
    ] {
        writeln!(units, "{id},{name},VO").unwrap();
    }
    // People: 8 per home unit, 6 in the pool, 4 on the night patrol, 4 handläggare.
    let mut people = String::from(
        "person_id,name,email,units,roles,accounts,active_from,active_to,personnummer\n\
         M1,Maja Chef,maja@example.se,VO,unit_manager@VO;operations_manager@VO;hr_strategist@ORG,,,,\n",
    );
    let surnames = [
        "Ek", "Berg", "Holm", "Lund", "Strand", "Sund", "Vik", "Ås", "Ström", "Dal",
    ];
    let mut staff: Vec<(String, String, String, String)> = Vec::new(); // (id, account, home, surname)
    let mut n = 0u32;
    for (home, count) in [
        ("HT-N", 8),
        ("HT-S", 8),
        ("HT-V", 8),
        ("SABO", 8),
        ("POOL", 6),
        ("NATT", 4),
        ("BIST", 4),
    ] {
        for k in 0..count {
            n += 1;
            let id = format!("P{n:03}");
            let account = format!("u{n:03}");
            let surname = format!("{}{}", surnames[(n as usize) % surnames.len()], "qvist");
            writeln!(
                people,
                "{id},Anna{k} {surname},{id}@example.se,{home},,treserva:{account},,,{}",
                pnr(5000 + n)
            )
            .unwrap();
            staff.push((id, account, home.to_string(), surname));
        }
    }
    let of = |home: &str| -> Vec<usize> {
        staff
            .iter()
            .enumerate()
            .filter(|(_, s)| s.2 == home)
            .map(|(i, _)| i)
            .collect()
    };
    // Clients: 30 per home unit, each with its insats, a handläggare, a fifth with night care;
    // one in ten moves to another unit on a day in the period.
    struct Client {
        number: String,
        name: String,
        unit: &'static str,
        moved: Option<(NaiveDate, &'static str)>,
        night: bool,
    }
    let start = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let days = 61;
    let mut clients: Vec<Client> = Vec::new();
    let mut relations = String::from("client,unit_id,from,to,kind,person_id\n");
    let bist = of("BIST");
    for (u, unit) in HOME.iter().enumerate() {
        for k in 0..30u32 {
            let number = pnr(100 + u as u32 * 30 + k);
            let moved = (k % 10 == 3).then(|| {
                let day = start + Duration::days(rng.random_range(10..40));
                (day, HOME[(u + 1) % HOME.len()])
            });
            let night = k % 5 == 0;
            match moved {
                Some((day, to)) => {
                    writeln!(
                        relations,
                        "{number},{unit},2026-01-01,{},insats,",
                        day - Duration::days(1)
                    )
                    .unwrap();
                    writeln!(relations, "{number},{to},{day},,insats,").unwrap();
                }
                None => writeln!(relations, "{number},{unit},2026-01-01,,insats,").unwrap(),
            }
            if night {
                writeln!(relations, "{number},NATT,2026-06-01,,insats (nattillsyn),").unwrap();
            }
            let handler = &staff[bist[(k as usize) % bist.len()]].0;
            writeln!(
                relations,
                "{number},BIST,2025-05-01,,ansvarig handläggare,{handler}"
            )
            .unwrap();
            clients.push(Client {
                number,
                name: format!(
                    "Klient{k} {}",
                    ["Andersson", "Nilsson", "Karlsson"][k as usize % 3]
                ),
                unit,
                moved,
                night,
            });
        }
    }
    let unit_on = |c: &Client, day: NaiveDate| -> &'static str {
        match c.moved {
            Some((d, to)) if day >= d => to,
            _ => c.unit,
        }
    };
    let local = |day: NaiveDate, minutes: i64| -> DateTime<Utc> {
        let t = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minutes);
        loggkoll::clock::resolve_local(t, Stockholm)
    };
    let mut accesses: Vec<Access> = Vec::new();
    let mut shifts = String::from("person_id,unit_id,start,end\n");
    let mut second = 0i64;
    let mut push = |accesses: &mut Vec<Access>,
                    at: DateTime<Utc>,
                    s: &(String, String, String, String),
                    c: &Client,
                    logged_unit: &str,
                    action: &'static str,
                    why: Why| {
        // Unique times, so that (client, time) names one access.
        second += 1;
        accesses.push(Access {
            at: at + Duration::seconds(second % 50),
            account: s.1.clone(),
            home: s.2.clone(),
            client: c.number.clone(),
            client_unit: logged_unit.to_string(),
            action,
            name: c.name.clone(),
            why,
        });
    };
    let actions = ["Läsa", "Läsa", "Läsa", "Skriva"];
    for d in 0..days {
        let day = start + Duration::days(d);
        let weekday = chrono::Datelike::weekday(&day).number_from_monday();
        // Home care: each works weekdays on clients of their unit that day.
        for unit in HOME {
            for &i in &of(unit) {
                if weekday > 5 {
                    continue;
                }
                let mine: Vec<&Client> =
                    clients.iter().filter(|c| unit_on(c, day) == unit).collect();
                for _ in 0..rng.random_range(3..8) {
                    let c = mine[rng.random_range(0..mine.len())];
                    // The log keeps a moved client's old unit; a tenth of rows have none.
                    let logged = if rng.random_bool(0.1) { "" } else { c.unit };
                    let why = if c.moved.is_some_and(|(d, _)| day >= d) {
                        Why::Moved
                    } else {
                        Why::OwnUnit
                    };
                    let at = local(day, rng.random_range(7 * 60..17 * 60));
                    let action = actions[rng.random_range(0..actions.len())];
                    push(&mut accesses, at, &staff[i], c, logged, action, why);
                }
                // A client who moved away, still read the first days after the move.
                for c in clients.iter().filter(|c| {
                    c.unit == unit
                        && c.moved
                            .is_some_and(|(m, _)| day >= m && day < m + Duration::days(5))
                }) {
                    if rng.random_bool(0.3) {
                        let at = local(day, rng.random_range(8 * 60..16 * 60));
                        push(
                            &mut accesses,
                            at,
                            &staff[i],
                            c,
                            c.unit,
                            "Läsa",
                            Why::Continuing,
                        );
                    }
                }
            }
        }
        // The pool: each works a day shift at some unit on most days.
        for &i in &of("POOL") {
            if !rng.random_bool(0.7) {
                continue;
            }
            let unit = HOME[rng.random_range(0..HOME.len())];
            let (from, to) = (local(day, 7 * 60), local(day, 16 * 60));
            writeln!(
                shifts,
                "{},{unit},{},{}",
                staff[i].0,
                from.to_rfc3339(),
                to.to_rfc3339()
            )
            .unwrap();
            let there: Vec<&Client> = clients.iter().filter(|c| unit_on(c, day) == unit).collect();
            for _ in 0..rng.random_range(2..6) {
                let c = there[rng.random_range(0..there.len())];
                let at = local(day, rng.random_range(7 * 60 + 5..15 * 60 + 50));
                let logged = if rng.random_bool(0.1) {
                    ""
                } else {
                    unit_on(c, day)
                };
                push(
                    &mut accesses,
                    at,
                    &staff[i],
                    c,
                    logged,
                    "Läsa",
                    Why::PoolShift,
                );
            }
        }
        // The night patrol: 22–07, every night, clients with night care in every unit.
        for &i in &of("NATT") {
            if !rng.random_bool(0.5) {
                continue;
            }
            let (from, to) = (local(day, 22 * 60), local(day, 31 * 60));
            writeln!(
                shifts,
                "{},NATT,{},{}",
                staff[i].0,
                from.with_timezone(&Stockholm).format("%Y-%m-%d %H:%M"),
                to.with_timezone(&Stockholm).format("%Y-%m-%d %H:%M")
            )
            .unwrap();
            let night: Vec<&Client> = clients.iter().filter(|c| c.night).collect();
            for _ in 0..rng.random_range(2..6) {
                let c = night[rng.random_range(0..night.len())];
                let at = local(day, rng.random_range(22 * 60 + 5..30 * 60 + 50));
                push(
                    &mut accesses,
                    at,
                    &staff[i],
                    c,
                    unit_on(c, day),
                    "Läsa",
                    Why::NightPatrol,
                );
            }
        }
        // Handläggare: their own clients, across the organisation, weekdays.
        for (h, &i) in of("BIST").iter().enumerate() {
            if weekday > 5 {
                continue;
            }
            let theirs: Vec<&Client> = clients
                .iter()
                .enumerate()
                .filter(|(k, _)| (k % 30) % bist.len() == h)
                .map(|(_, c)| c)
                .collect();
            for _ in 0..rng.random_range(1..4) {
                let c = theirs[rng.random_range(0..theirs.len())];
                let at = local(day, rng.random_range(8 * 60..16 * 60));
                push(
                    &mut accesses,
                    at,
                    &staff[i],
                    c,
                    unit_on(c, day),
                    "Läsa",
                    Why::Handlaggare,
                );
            }
        }
    }
    // Snoops, on weekdays in April, by users of every kind.
    let watched = clients[77].number.clone();
    let mut snoopers = Vec::new();
    let stranger = |from_unit: &str| {
        clients
            .iter()
            .find(|c| c.unit != from_unit && !c.night && c.moved.is_none())
            .unwrap()
    };
    let plans: Vec<(usize, &'static str)> = vec![
        (of("HT-N")[1], "own_record"),
        (of("POOL")[0], "colleague_record"),
        (of("HT-S")[2], "same_surname"),
        (of("NATT")[0], "watch_list"),
        (of("HT-V")[3], "stranger"),
        (of("POOL")[1], "stranger"),
        (of("HT-N")[4], "stranger_unlogged"),
        (of("BIST")[0], "stranger"),
        // Another handläggare's client, on a row without the client's unit: the colleagues'
        // named relationships are theirs, and do not make a team.
        (of("BIST")[2], "handlaggare_colleague"),
    ];
    for (k, (i, kind)) in plans.into_iter().enumerate() {
        let s = &staff[i];
        let day = NaiveDate::from_ymd_opt(2027, 4, 12 + k as u32 % 4).unwrap();
        let at = local(day, 10 * 60 + 7 * k as i64);
        let (number, name, unit) = match kind {
            "own_record" => (
                pnr(5000 + (i as u32) + 1),
                format!("Anna {}", s.3),
                String::new(),
            ),
            "colleague_record" => (pnr(5000 + 1), "Anna0 Berg".to_string(), String::new()),
            "same_surname" => (pnr(9001), format!("Karl {}", s.3), String::new()),
            "watch_list" => (
                watched.clone(),
                "Vem Som".into(),
                clients[77].unit.to_string(),
            ),
            "stranger" => {
                let c = stranger(&s.2);
                (c.number.clone(), c.name.clone(), c.unit.to_string())
            }
            "handlaggare_colleague" => {
                // Client k is named to bist[k % 4]: k = 3 is bist[3]'s.
                let c = &clients[3];
                (c.number.clone(), c.name.clone(), String::new())
            }
            _ => {
                let c = stranger(&s.2);
                (c.number.clone(), c.name.clone(), String::new())
            }
        };
        snoopers.push((s.0.clone(), accesses.len()));
        accesses.push(Access {
            at,
            account: s.1.clone(),
            home: s.2.clone(),
            client: number,
            client_unit: unit,
            action: "Läsa",
            name,
            why: Why::Snoop(kind),
        });
    }
    World {
        units,
        people,
        relations,
        shifts,
        accesses,
        snoopers,
        watched,
    }
}

fn log_csv(accesses: &[Access]) -> String {
    let mut out = String::from(
        "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose,subject_name\n",
    );
    for (k, a) in accesses.iter().enumerate() {
        writeln!(
            out,
            "L{k:06},{},treserva,{},,,{},{},{},{},journal,vård,{}",
            a.at.to_rfc3339(),
            a.account,
            a.home,
            a.client,
            a.client_unit,
            a.action,
            a.name
        )
        .unwrap();
    }
    out
}

#[test]
fn a_messy_organisation_is_explained_and_no_snoop_is() {
    let w = world(26);
    let place = Place::new();
    place.write("units.csv", &w.units);
    place.write("people.csv", &w.people);
    place.write("relations.csv", &w.relations);
    place.write("shifts.csv", &w.shifts);
    place.write("log.csv", &log_csv(&w.accesses));
    place.ok(&[
        "roster",
        "import",
        "--units",
        "units.csv",
        "--people",
        "people.csv",
        "--now",
        "2027-02-01T08:00",
    ]);
    place.ok(&[
        "logs",
        "import",
        "log.csv",
        "--system",
        "treserva",
        "--now",
        "2027-05-02T08:00",
    ]);
    let before = place.json(&[
        "logs",
        "explained",
        "--from",
        "2027-03-01",
        "--to",
        "2027-04-30",
        "--json",
        "--now",
        "2027-05-02T08:00",
    ]);
    place.ok(&[
        "watch",
        "add",
        "--client",
        &w.watched,
        "--reason",
        "Skyddad identitet",
        "--by",
        "M1",
        "--now",
        "2027-02-01T08:00",
    ]);
    let run = place.ok(&[
        "relations",
        "import",
        "relations.csv",
        "--system",
        "treserva",
        "--now",
        "2027-05-02T08:00",
    ]);
    assert!(run.stderr.contains("care relationships"), "{}", run.stderr);
    place.ok(&[
        "shifts",
        "import",
        "shifts.csv",
        "--now",
        "2027-05-02T08:00",
    ]);
    let after = place.json(&[
        "logs",
        "explained",
        "--from",
        "2027-03-01",
        "--to",
        "2027-04-30",
        "--json",
        "--now",
        "2027-05-02T08:00",
    ]);
    for key in [
        "accesses",
        "explained",
        "share",
        "by_kind",
        "flagged",
        "to_judge_median",
    ] {
        assert!(after.get(key).is_some(), "{key} missing: {after}");
    }
    let may = loggkoll::clock::parse_time("2027-05-01", Stockholm).unwrap();
    let in_period = w.accesses.iter().filter(|a| a.at < may).count();
    assert_eq!(
        after["accesses"].as_u64(),
        Some(in_period as u64),
        "{after}"
    );
    assert!(
        after["share"].as_f64().unwrap() > before["share"].as_f64().unwrap() + 0.1,
        "relations and shifts explain more: {before} → {after}"
    );
    for kind in ["same_unit", "care_relationship", "on_shift", "continuity"] {
        assert!(
            after["by_kind"][kind].as_u64().unwrap_or(0) > 0,
            "{kind}: {after}"
        );
    }

    // Access by access: what the rules found, against why the access was made.
    let db = loggkoll::store::read_only(&place.db).expect("db");
    let org = loggkoll::engine::org::Org::load(&db).expect("org");
    let scope = loggkoll::evidence::radar::Scope {
        from: Utc.with_ymd_and_hms(2027, 2, 28, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2027, 5, 2, 0, 0, 0).unwrap(),
        system: Some("treserva"),
        tz: Stockholm,
    };
    let mut found: HashMap<(u64, i64), loggkoll::evidence::radar::Seen> = HashMap::new();
    let now = Utc.with_ymd_and_hms(2027, 5, 2, 8, 0, 0).unwrap();
    loggkoll::evidence::radar::sweep(
        &db,
        &org,
        &[],
        &scope,
        now,
        |g| Ok(g.seen.to_vec()),
        |seen| {
            for s in seen {
                found.insert((s.client, s.at), s);
            }
            Ok(())
        },
    )
    .expect("sweep");
    let mut by_why: BTreeMap<Why, (usize, usize)> = BTreeMap::new();
    let (mut reasoned, mut explained) = (0, 0);
    for a in &w.accesses {
        let client: u64 = a.client.parse().unwrap();
        let seen = found
            .get(&(client, a.at.timestamp()))
            .unwrap_or_else(|| panic!("{} at {} not swept", a.client, a.at));
        let e = by_why.entry(a.why).or_default();
        e.0 += 1;
        if seen.explained() {
            e.1 += 1;
        }
        match a.why {
            Why::Snoop(kind) => {
                assert!(!seen.explained(), "the snoop {kind} is explained: {seen:?}");
                assert!(seen.needs_judgement());
            }
            _ => {
                reasoned += 1;
                if seen.explained() {
                    explained += 1;
                }
            }
        }
    }
    let share = explained as f64 / reasoned as f64;
    assert!(
        share >= 0.94,
        "{explained} of {reasoned} accesses with a reason explained: {by_why:?}"
    );
    // Night work on a shift is not flagged as night.
    let night_flagged = w
        .accesses
        .iter()
        .filter(|a| a.why == Why::NightPatrol)
        .filter(|a| found[&(a.client.parse().unwrap(), a.at.timestamp())].flags != 0)
        .count();
    assert_eq!(
        night_flagged, 0,
        "the night patrol's accesses on its shifts are flagged"
    );

    // On each snooper's review page: the snoop is flagged or unexplained.
    let mut cases = Vec::new();
    for (person, at) in &w.snoopers {
        let snoop = &w.accesses[*at];
        let opened = place.json(&[
            "case",
            "open",
            "targeted-review",
            "--unit",
            "VO",
            "--subject-user",
            person,
            "--system",
            "treserva",
            "--from",
            "2027-04-01",
            "--to",
            "2027-04-30",
            "--reason",
            "Misstanke",
            "--by",
            "M1",
            "--now",
            "2027-05-02T09:00",
            "--json",
        ]);
        let case = opened["id"].as_str().expect("case id").to_string();
        cases.push(case.clone());
        let ev = place.json(&[
            "case",
            "evidence",
            &case,
            "--json",
            "--now",
            "2027-05-02T09:00",
        ]);
        let shown = ev["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| {
                x["client"] == snoop.client.as_str()
                    && x["at"]
                        .as_str()
                        .map(|t| t.parse::<DateTime<Utc>>().unwrap())
                        == Some(snoop.at)
            })
            .unwrap_or_else(|| panic!("{:?}: not on the page of {case}", snoop.why));
        assert!(
            shown["explanations"].as_array().unwrap().is_empty(),
            "{:?}: explained on the page: {shown}",
            snoop.why
        );
        // The page and the sweep (the radar, `logs explained`) say the same of every access.
        for x in ev["accesses"].as_array().unwrap() {
            let client: u64 = x["client"].as_str().unwrap().parse().unwrap();
            let at: DateTime<Utc> = x["at"].as_str().unwrap().parse().unwrap();
            let seen = found[&(client, at.timestamp())];
            assert_eq!(
                !x["explanations"].as_array().unwrap().is_empty(),
                seen.explained(),
                "page and sweep disagree: {x} {seen:?}"
            );
            assert_eq!(
                !x["flags"].as_array().unwrap().is_empty(),
                seen.flagged(),
                "page and sweep disagree: {x} {seen:?}"
            );
        }
    }

    // The pool worker's access to another unit's client is judged justified and the case
    // closed: the same user's access to the same client in May is explained by it, still
    // flagged for the other unit.
    let (k, (person, at)) = w
        .snoopers
        .iter()
        .enumerate()
        .find(|(_, (_, at))| {
            w.accesses[*at].why == Why::Snoop("stranger") && w.accesses[*at].home == "POOL"
        })
        .expect("the pool's stranger");
    let case = &cases[k];
    let now = ["--now", "2027-05-03T09:00"];
    let answer = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(now);
        place.ok(&all);
    };
    answer(&[
        "case",
        "answer",
        case,
        "start_review",
        "--by",
        "M1",
        "--comment",
        "Kontroll",
    ]);
    let log_id = format!("L{at:06}");
    answer(&[
        "case",
        "judge",
        case,
        &log_id,
        "justified",
        "--by",
        "M1",
        "--comment",
        "Vikarierade där",
    ]);
    answer(&["case", "answer", case, "no_finding", "--by", "M1"]);
    let mut may = w.accesses[*at].clone();
    may.at = loggkoll::clock::parse_time("2027-05-10T10:00", Stockholm).unwrap();
    place.write(
        "may.csv",
        &log_csv(&[may.clone()]).replace("L000000", "M000001"),
    );
    place.ok(&[
        "logs",
        "import",
        "may.csv",
        "--system",
        "treserva",
        "--now",
        "2027-05-12T08:00",
    ]);
    let opened = place.json(&[
        "case",
        "open",
        "targeted-review",
        "--unit",
        "VO",
        "--subject-user",
        person,
        "--system",
        "treserva",
        "--from",
        "2027-05-10",
        "--to",
        "2027-05-10",
        "--reason",
        "Uppföljning",
        "--by",
        "M1",
        "--now",
        "2027-05-12T09:00",
        "--json",
    ]);
    let later = opened["id"].as_str().unwrap().to_string();
    let ev = place.json(&[
        "case",
        "evidence",
        &later,
        "--json",
        "--now",
        "2027-05-12T09:00",
    ]);
    let shown = &ev["accesses"][0];
    let codes: Vec<&str> = shown["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(codes, ["judged_before"], "{shown}");
    assert!(
        shown["explanations"][0]["text"]
            .as_str()
            .unwrap()
            .contains(case.as_str()),
        "{shown}"
    );
    assert_eq!(shown["flags"][0]["code"], "unit_mismatch", "{shown}");

    // Relationships that ended and shifts go when the log they explain is no longer kept; an
    // ongoing relationship stays.
    let ended = w
        .relations
        .lines()
        .skip(1)
        .filter(|l| !l.split(',').nth(3).unwrap_or("").is_empty())
        .count();
    let shifts = w.shifts.lines().count() - 1;
    let dry = place.json(&["purge", "--dry-run", "--json", "--now", "2040-01-01T08:00"]);
    assert_eq!(dry["relations"].as_u64(), Some(ended as u64), "{dry}");
    assert_eq!(dry["shifts"].as_u64(), Some(shifts as u64), "{dry}");
    let done = place.json(&["purge", "--json", "--now", "2040-01-01T08:00"]);
    assert_eq!(done["relations"].as_u64(), Some(ended as u64), "{done}");
    assert_eq!(done["shifts"].as_u64(), Some(shifts as u64), "{done}");
    let again = place.json(&["purge", "--dry-run", "--json", "--now", "2040-01-01T08:00"]);
    assert_eq!(
        (again["relations"].as_u64(), again["shifts"].as_u64()),
        (Some(0), Some(0))
    );
    place.ok(&["audit", "verify"]);
}
