//! A synthetic access log for the demo, tests and benchmarks: for every working day of a period,
//! each staff member with an account reads and writes a few client records of their own units,
//! as an export in the format of `../shared/CLI.md` (with the clients' names). Seeded.
//!
//! Ordinary work is daytime work on the clients of one's own units. Each kind of thing the review
//! flags is planted at a low rate, so that the demo's pages, radar and protocols show them: a
//! look at one's own record or a colleague's, a relative's record (same surname), night work,
//! a burst of many clients within an hour, another unit's client, Nödöppning, an account that
//! belongs to nobody in the roster. Clients on the watch list are the caller's.

use crate::roster::Roster;
use chrono::{Datelike, Duration, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const TITLES: &[&str] = &[
    "Undersköterska",
    "Sjuksköterska",
    "Vårdbiträde",
    "Biståndshandläggare",
    "Arbetsterapeut",
    "Fysioterapeut",
];
const ACTIONS: &[&str] = &[
    "Läsa", "Läsa", "Läsa", "Läsa", "Skriva", "Signera", "Utskrift",
];
/// Clients' first names and surnames; the surnames are not staff surnames, so a shared surname
/// is planted, not chance.
const CLIENT_FIRST: &[&str] = &[
    "Astrid", "Birgit", "Gösta", "Harald", "Ingegerd", "Karl", "Margit", "Sture", "Ulla", "Vera",
    "Bengt", "Gunnel", "Rune", "Elsa", "Tage",
];
const CLIENT_LAST: &[&str] = &[
    "Bergström",
    "Lindgren",
    "Åkesson",
    "Forsberg",
    "Sjöberg",
    "Wikström",
    "Blom",
    "Dahl",
    "Engström",
    "Falk",
    "Hedlund",
    "Isaksson",
    "Jakobsson",
    "Kvist",
    "Löfgren",
    "Mattsson",
];

/// The account used in the log by someone who is not in the roster (a former substitute).
pub(crate) const NOBODYS_ACCOUNT: &str = "vikarie-0042";

/// A valid personal identity number of a made-up client, from a number.
pub fn client_number(n: u32) -> String {
    crate::personnummer::made_up(
        1925 + n % 70,
        1 + (n / 70) % 12,
        1 + (n / 840) % 28,
        100 + n % 800,
    )
}

/// A client of the synthetic organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// 12 digits with a `-`.
    pub number: String,
    pub name: String,
}

/// One export file of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    /// The days it covers, inclusive.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: u64,
}

/// What was written: the files, the clients of each unit, and how many of each planted kind.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub files: Vec<LogFile>,
    pub clients: BTreeMap<String, Vec<Client>>,
    pub planted: BTreeMap<&'static str, u64>,
}

/// Something out of the ordinary, planted on one day of one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plant {
    OwnRecord,
    Colleague(usize),
    Relative,
    Burst,
}

struct Writer {
    out: std::io::BufWriter<std::fs::File>,
    rows: u64,
    id: u64,
}

impl Writer {
    /// Opens an export written before to add rows after its `rows` rows.
    fn append(path: &Path, rows: u64) -> std::io::Result<Writer> {
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(Writer {
            out: std::io::BufWriter::new(file),
            rows,
            id: rows,
        })
    }

    fn create(path: &Path) -> std::io::Result<Writer> {
        let _ = std::fs::remove_file(path);
        let mut out = std::io::BufWriter::new(crate::private_files::create_new(path)?);
        writeln!(
            out,
            "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose,subject_name"
        )?;
        Ok(Writer {
            out,
            rows: 0,
            id: 0,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        system: &str,
        at: chrono::NaiveDateTime,
        account: &str,
        user: &str,
        title: &str,
        access_unit: &str,
        client: &Client,
        client_unit: &str,
        action: &str,
    ) -> std::io::Result<()> {
        self.id += 1;
        self.rows += 1;
        writeln!(
            self.out,
            "{system}-{}-{},{},{system},{account},{user},{title},{access_unit},{},{client_unit},{action},Journal,Vård och omsorg,{}",
            at.format("%Y%m"),
            self.id,
            at.format("%Y-%m-%d %H:%M:%S"),
            client.number,
            client.name
        )
    }
}

/// Writes the access log of `from..=to`, one export per calendar month, into `dir` as
/// `accesslog-YYYY-MM.csv`.
pub(crate) fn write_months(
    roster: &Roster,
    from: NaiveDate,
    to: NaiveDate,
    seed: u64,
    dir: &Path,
) -> std::io::Result<Written> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x10c5);
    let mut written = Written::default();
    // 25 clients per unit that has staff with accounts.
    let mut next = 0u32;
    for unit in roster.units.iter().filter(|u| {
        roster
            .people
            .iter()
            .any(|p| p.units.first() == Some(&u.id) && !p.accounts.is_empty())
    }) {
        let list = (0..25)
            .map(|_| {
                next += 1;
                Client {
                    number: client_number(next * 7 + 3),
                    name: format!(
                        "{} {}",
                        CLIENT_FIRST[rng.random_range(0..CLIENT_FIRST.len())],
                        CLIENT_LAST[rng.random_range(0..CLIENT_LAST.len())]
                    ),
                }
            })
            .collect();
        written.clients.insert(unit.id.clone(), list);
    }
    let units: Vec<String> = written.clients.keys().cloned().collect();
    let staff: Vec<usize> = (0..roster.people.len())
        .filter(|i| {
            let p = &roster.people[*i];
            !p.accounts.is_empty()
                && p.units
                    .first()
                    .is_some_and(|u| written.clients.contains_key(u))
        })
        .collect();
    // The planted days: (day, person) → what.
    let days = (to - from).num_days().max(0) + 1;
    let mut plants: BTreeMap<(NaiveDate, usize), Plant> = BTreeMap::new();
    for &i in &staff {
        for (share, plant) in [
            (0.02, Plant::OwnRecord),
            (
                0.02,
                Plant::Colleague(staff[rng.random_range(0..staff.len())]),
            ),
            (0.02, Plant::Relative),
            (0.008, Plant::Burst),
        ] {
            if rng.random_bool(share) {
                let day = from + Duration::days(rng.random_range(0..days));
                if day.weekday().number_from_monday() <= 5 {
                    plants.insert((day, i), plant);
                }
            }
        }
    }
    let mut month_start = from;
    while month_start <= to {
        let next_month = NaiveDate::from_ymd_opt(
            month_start.year() + i32::from(month_start.month() == 12),
            month_start.month() % 12 + 1,
            1,
        )
        .unwrap_or(to + Duration::days(1));
        let month_end = (next_month - Duration::days(1)).min(to);
        let path = dir.join(format!("accesslog-{}.csv", month_start.format("%Y-%m")));
        let mut w = Writer::create(&path)?;
        let mut day = month_start;
        while day <= month_end {
            if day.weekday().number_from_monday() <= 5 {
                write_day(
                    &mut w,
                    &mut rng,
                    roster,
                    &staff,
                    &units,
                    &written.clients,
                    &plants,
                    day,
                    &mut written.planted,
                )?;
            }
            day += Duration::days(1);
        }
        w.out.flush()?;
        written.files.push(LogFile {
            path,
            from: month_start,
            to: month_end,
            rows: w.rows,
        });
        month_start = next_month;
    }
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
fn write_day(
    w: &mut Writer,
    rng: &mut ChaCha20Rng,
    roster: &Roster,
    staff: &[usize],
    units: &[String],
    clients: &BTreeMap<String, Vec<Client>>,
    plants: &BTreeMap<(NaiveDate, usize), Plant>,
    day: NaiveDate,
    planted: &mut BTreeMap<&'static str, u64>,
) -> std::io::Result<()> {
    let at = |hour: u32, minutes: i64| time_on(day, hour, minutes);
    let mut count = |kind: &'static str| *planted.entry(kind).or_insert(0) += 1;
    let day_log = DayLog {
        roster,
        units,
        clients,
        day,
    };
    for &i in staff {
        let person = &roster.people[i];
        let Some(home) = person.units.first() else {
            continue;
        };
        let own_units: Vec<&String> = person
            .units
            .iter()
            .filter(|u| clients.contains_key(*u))
            .collect();
        let n: usize = person.id.bytes().map(usize::from).sum();
        let title = TITLES[n % TITLES.len()];
        for account in &person.accounts {
            for _ in 0..rng.random_range(1..=3) {
                // Work at one of one's own units; rarely, a client of another unit.
                let mut unit = own_units[rng.random_range(0..own_units.len())].as_str();
                if rng.random_bool(0.003) && !units.is_empty() {
                    unit = units[rng.random_range(0..units.len())].as_str();
                    if !own_units.iter().any(|u| u.as_str() == unit) {
                        count("unit_mismatch");
                    }
                }
                let list = &clients[unit];
                let client = &list[rng.random_range(0..list.len())];
                let time = if rng.random_bool(0.003) {
                    count("night");
                    // Late evening or early morning of the same day.
                    if rng.random_bool(0.3) {
                        at(22, rng.random_range(0..120))
                    } else {
                        at(0, rng.random_range(0..(6 * 60)))
                    }
                } else {
                    at(7, rng.random_range(0..(11 * 60)))
                };
                let action = if rng.random_bool(0.001) {
                    count("emergency_access");
                    "Nödöppning"
                } else {
                    ACTIONS[rng.random_range(0..ACTIONS.len())]
                };
                w.row(
                    &account.system,
                    time,
                    &account.account,
                    &person.name,
                    title,
                    home,
                    client,
                    unit,
                    action,
                )?;
            }
        }
        let Some(plant) = plants.get(&(day, i)) else {
            continue;
        };
        let Some(account) = person.accounts.first() else {
            continue;
        };
        let reader = Reader {
            index: i,
            person,
            account,
            title,
            home,
        };
        write_plant(w, rng, &day_log, &reader, *plant, &mut count)?;
    }
    // A former substitute's account, still in use now and then: it belongs to nobody.
    if rng.random_bool(0.02)
        && let Some(unit) = units.first()
    {
        let list = &clients[unit.as_str()];
        let client = &list[rng.random_range(0..list.len())];
        w.row(
            "treserva",
            at(9, rng.random_range(0..120)),
            NOBODYS_ACCOUNT,
            "",
            "Vikarie",
            unit,
            client,
            unit,
            "Läsa",
        )?;
        count("after_employment");
    }
    Ok(())
}

/// `minutes` after `hour` o'clock on `day`.
fn time_on(day: NaiveDate, hour: u32, minutes: i64) -> chrono::NaiveDateTime {
    day.and_hms_opt(hour, 0, 0).unwrap_or_default() + Duration::minutes(minutes)
}

/// The day of log being written, and where its clients come from.
struct DayLog<'a> {
    roster: &'a Roster,
    units: &'a [String],
    clients: &'a BTreeMap<String, Vec<Client>>,
    day: NaiveDate,
}

/// A staff member reading records in the log: their index in the roster, account, title and
/// home unit.
struct Reader<'a> {
    index: usize,
    person: &'a crate::roster::Person,
    account: &'a crate::roster::Account,
    title: &'a str,
    home: &'a str,
}

/// Writes the rows of `plant`, planted on the day of `day_log` for `reader`, and counts it.
fn write_plant(
    w: &mut Writer,
    rng: &mut ChaCha20Rng,
    day_log: &DayLog,
    reader: &Reader,
    plant: Plant,
    count: &mut impl FnMut(&'static str),
) -> std::io::Result<()> {
    let (roster, units, clients) = (day_log.roster, day_log.units, day_log.clients);
    let (i, person) = (reader.index, reader.person);
    let at = |hour: u32, minutes: i64| time_on(day_log.day, hour, minutes);
    let row = |w: &mut Writer, time, client: &Client, unit: &str| {
        w.row(
            &reader.account.system,
            time,
            &reader.account.account,
            &person.name,
            reader.title,
            reader.home,
            client,
            unit,
            "Läsa",
        )
    };
    match plant {
        Plant::OwnRecord => {
            if let Some(number) = &person.personnummer {
                let me = Client {
                    number: number.clone(),
                    name: person.name.clone(),
                };
                row(w, at(12, rng.random_range(0..60)), &me, "")?;
                count("own_record");
            }
        }
        Plant::Colleague(other) => {
            let other = &roster.people[other];
            if other.id != person.id
                && let Some(number) = &other.personnummer
            {
                let them = Client {
                    number: number.clone(),
                    name: other.name.clone(),
                };
                row(w, at(13, rng.random_range(0..60)), &them, "")?;
                count("colleague_record");
            }
        }
        Plant::Relative => {
            let surname = person.name.split_whitespace().last().unwrap_or("");
            let relative = Client {
                number: client_number(900_000 + i as u32),
                name: format!("{} {surname}", CLIENT_FIRST[i % CLIENT_FIRST.len()]),
            };
            row(w, at(15, rng.random_range(0..60)), &relative, "")?;
            count("same_surname");
        }
        Plant::Burst => {
            let start = at(14, 0);
            for k in 0..25 {
                let unit = units[(i + k) % units.len()].as_str();
                let list = &clients[unit];
                let client = &list[k % list.len()];
                row(w, start + Duration::minutes(k as i64 * 2), client, unit)?;
            }
            count("burst");
        }
    }
    Ok(())
}

/// The files of what explains the accesses besides the log, and what was added to it.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `relations.csv` and `shifts.csv`.
    pub relations: PathBuf,
    pub shifts: PathBuf,
    /// Rows added to the log, by kind of work.
    pub added: BTreeMap<&'static str, u64>,
}

/// Adds to the months of log in `written` the work a tidy synthetic log leaves out, and writes
/// the care relationships and shifts that explain it, as a record system and a staffing system
/// would export them:
/// - every client has an insats from their unit; one in twelve moves to another unit during
///   the period, and the new unit's staff read them while the log still names the old unit;
/// - one in fifteen of the staff are substitutes who work day shifts at other units;
/// - one in twelve work night shifts at their own unit;
/// - the biståndshandläggare (by job title) are named for a share of the clients and read them
///   across the organisation.
pub(crate) fn add_the_everyday_mess(
    roster: &Roster,
    written: &mut Written,
    seed: u64,
    dir: &Path,
) -> std::io::Result<Context> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x3e55);
    let mut out = Context {
        relations: dir.join("relations.csv"),
        shifts: dir.join("shifts.csv"),
        ..Context::default()
    };
    let (Some(first), Some(last)) = (
        written.files.first().map(|f| f.from),
        written.files.last().map(|f| f.to),
    ) else {
        return Ok(out);
    };
    let units: Vec<String> = written.clients.keys().cloned().collect();
    let staff: Vec<usize> = (0..roster.people.len())
        .filter(|i| {
            let p = &roster.people[*i];
            !p.accounts.is_empty()
                && p.units
                    .first()
                    .is_some_and(|u| written.clients.contains_key(u))
        })
        .collect();
    let handlaggare: Vec<usize> = staff
        .iter()
        .copied()
        .filter(|i| title_of(&roster.people[*i]) == "Biståndshandläggare")
        .collect();
    let drawn = draw_relations(
        &mut rng,
        roster,
        &written.clients,
        &units,
        &handlaggare,
        (first, last),
    );
    crate::private_files::write(&out.relations, drawn.text.as_bytes())?;
    let mess = Mess {
        roster,
        clients: &written.clients,
        units: &units,
        staff: &staff,
        substitutes: staff.iter().copied().filter(|i| i % 15 == 7).collect(),
        nights: staff.iter().copied().filter(|i| i % 12 == 4).collect(),
        drawn: &drawn,
    };
    let mut added = Added {
        shifts: String::from("person_id,unit_id,start,end\n"),
        rows: BTreeMap::new(),
    };
    for file in &mut written.files {
        let mut w = Writer::append(&file.path, file.rows)?;
        let mut day = file.from;
        while day <= file.to {
            mess.add_day(&mut w, &mut rng, day, file.to, &mut added)?;
            day += Duration::days(1);
        }
        w.out.flush()?;
        file.rows = w.rows;
    }
    crate::private_files::write(&out.shifts, added.shifts.as_bytes())?;
    out.added = added.rows;
    Ok(out)
}

/// The job title the synthetic log gives `person` (the same every time).
fn title_of(person: &crate::roster::Person) -> &'static str {
    let n: usize = person.id.bytes().map(usize::from).sum();
    TITLES[n % TITLES.len()]
}

/// The care relationships drawn for the clients, as `relations.csv` says them.
struct Relations {
    /// The text of `relations.csv`.
    text: String,
    /// (client, old unit, new unit, the day of the move)
    moves: Vec<(Client, String, String, NaiveDate)>,
    /// handläggare → their clients (with the client's unit)
    caseload: BTreeMap<usize, Vec<(Client, String)>>,
}

/// Draws the care relationships of the period `(first, last)`: each client's insats; the
/// moves; a handläggare of `handlaggare` for every third client.
fn draw_relations(
    rng: &mut ChaCha20Rng,
    roster: &Roster,
    clients: &BTreeMap<String, Vec<Client>>,
    units: &[String],
    handlaggare: &[usize],
    (first, last): (NaiveDate, NaiveDate),
) -> Relations {
    // Relations: each client's insats; the moves; a handläggare for every third client.
    let mut relations = String::from("client,unit_id,from,to,kind,person_id\n");
    let days = (last - first).num_days().max(1);
    // (client, old unit, new unit, the day of the move)
    let mut moves: Vec<(Client, String, String, NaiveDate)> = Vec::new();
    // handläggare → their clients (with the client's unit)
    let mut caseload: BTreeMap<usize, Vec<(Client, String)>> = BTreeMap::new();
    let mut k = 0usize;
    for (unit, list) in clients {
        for c in list {
            k += 1;
            let since = first - Duration::days(rng.random_range(30..700));
            if k % 12 == 5 && units.len() > 1 {
                let day = first + Duration::days(rng.random_range(1..days.max(2)));
                let to = units
                    [(units.iter().position(|u| u == unit).unwrap_or(0) + 1) % units.len()]
                .clone();
                relations.push_str(&format!(
                    "{},{unit},{since},{},insats,\n",
                    c.number,
                    day - Duration::days(1)
                ));
                relations.push_str(&format!("{},{to},{day},,insats,\n", c.number));
                moves.push((c.clone(), unit.clone(), to, day));
            } else {
                relations.push_str(&format!("{},{unit},{since},,insats,\n", c.number));
            }
            if k.is_multiple_of(3) && !handlaggare.is_empty() {
                let h = handlaggare[k / 3 % handlaggare.len()];
                relations.push_str(&format!(
                    "{},{unit},{since},,ansvarig handläggare,{}\n",
                    c.number, roster.people[h].id
                ));
                caseload
                    .entry(h)
                    .or_default()
                    .push((c.clone(), unit.clone()));
            }
        }
    }
    Relations {
        text: relations,
        moves,
        caseload,
    }
}

/// What the added work writes besides the log: the shifts, and the rows added by kind of work.
struct Added {
    /// The text of `shifts.csv`.
    shifts: String,
    rows: BTreeMap<&'static str, u64>,
}

/// Who does the work a tidy log leaves out, and whose records they read.
struct Mess<'a> {
    roster: &'a Roster,
    clients: &'a BTreeMap<String, Vec<Client>>,
    units: &'a [String],
    staff: &'a [usize],
    /// Staff who work day shifts at other units.
    substitutes: Vec<usize>,
    /// Staff who work night shifts at their own unit.
    nights: Vec<usize>,
    drawn: &'a Relations,
}

impl Mess<'_> {
    /// Writes to `w` the work of `day` a tidy log leaves out; `last_day` is the export's.
    fn add_day(
        &self,
        w: &mut Writer,
        rng: &mut ChaCha20Rng,
        day: NaiveDate,
        last_day: NaiveDate,
        added: &mut Added,
    ) -> std::io::Result<()> {
        let weekday = day.weekday().number_from_monday() <= 5;
        self.add_substitutes(w, rng, day, weekday, added)?;
        self.add_night_shifts(w, rng, day, last_day, added)?;
        if weekday {
            self.add_handlaggare(w, rng, day, added)?;
            self.add_moved_clients(w, rng, day, added)?;
        }
        Ok(())
    }

    /// Substitutes on day shifts at other units, reading those units' clients.
    fn add_substitutes(
        &self,
        w: &mut Writer,
        rng: &mut ChaCha20Rng,
        day: NaiveDate,
        weekday: bool,
        added: &mut Added,
    ) -> std::io::Result<()> {
        let (roster, units) = (self.roster, self.units);
        let at = |minutes: i64| time_on(day, 0, minutes);
        for &i in &self.substitutes {
            let p = &roster.people[i];
            let (Some(home), Some(account)) = (p.units.first(), p.accounts.first()) else {
                continue;
            };
            if !weekday || !rng.random_bool(0.3) || units.len() < 2 {
                continue;
            }
            let unit = &units[rng.random_range(0..units.len())];
            if unit == home {
                continue;
            }
            added
                .shifts
                .push_str(&format!("{},{unit},{} 07:00,{} 16:00\n", p.id, day, day));
            let list = &self.clients[unit];
            for _ in 0..rng.random_range(2..5) {
                let c = &list[rng.random_range(0..list.len())];
                let t = at(rng.random_range(7 * 60 + 10..15 * 60 + 50));
                w.row(
                    &account.system,
                    t,
                    &account.account,
                    &p.name,
                    title_of(p),
                    home,
                    c,
                    unit,
                    "Läsa",
                )?;
                *added.rows.entry("substitute_on_shift").or_insert(0) += 1;
            }
        }
        Ok(())
    }

    /// Night shifts at one's own unit, reading its clients into the small hours.
    fn add_night_shifts(
        &self,
        w: &mut Writer,
        rng: &mut ChaCha20Rng,
        day: NaiveDate,
        last_day: NaiveDate,
        added: &mut Added,
    ) -> std::io::Result<()> {
        let at = |minutes: i64| time_on(day, 0, minutes);
        for &i in &self.nights {
            let p = &self.roster.people[i];
            let (Some(home), Some(account)) = (p.units.first(), p.accounts.first()) else {
                continue;
            };
            if !rng.random_bool(0.2) {
                continue;
            }
            let next = day + Duration::days(1);
            added
                .shifts
                .push_str(&format!("{},{home},{} 21:30,{} 07:00\n", p.id, day, next));
            let list = &self.clients[home];
            for _ in 0..rng.random_range(1..4) {
                let c = &list[rng.random_range(0..list.len())];
                // The export ends at midnight of its last day: the rest of that
                // night is in the next month's.
                let until = if day == last_day { 24 * 60 } else { 29 * 60 };
                let t = at(rng.random_range(22 * 60..until));
                w.row(
                    &account.system,
                    t,
                    &account.account,
                    &p.name,
                    title_of(p),
                    home,
                    c,
                    home,
                    "Läsa",
                )?;
                *added.rows.entry("night_shift").or_insert(0) += 1;
            }
        }
        Ok(())
    }

    /// Handläggare reading their clients across the organisation.
    fn add_handlaggare(
        &self,
        w: &mut Writer,
        rng: &mut ChaCha20Rng,
        day: NaiveDate,
        added: &mut Added,
    ) -> std::io::Result<()> {
        let at = |minutes: i64| time_on(day, 0, minutes);
        for (&h, clients) in &self.drawn.caseload {
            let p = &self.roster.people[h];
            let (Some(home), Some(account)) = (p.units.first(), p.accounts.first()) else {
                continue;
            };
            if !rng.random_bool(0.5) {
                continue;
            }
            let (c, unit) = &clients[rng.random_range(0..clients.len())];
            let t = at(rng.random_range(8 * 60..16 * 60));
            w.row(
                &account.system,
                t,
                &account.account,
                &p.name,
                title_of(p),
                home,
                c,
                unit,
                "Läsa",
            )?;
            *added.rows.entry("handlaggare").or_insert(0) += 1;
        }
        Ok(())
    }

    /// The new unit's staff reading clients who moved, while the log still names the old unit.
    fn add_moved_clients(
        &self,
        w: &mut Writer,
        rng: &mut ChaCha20Rng,
        day: NaiveDate,
        added: &mut Added,
    ) -> std::io::Result<()> {
        let roster = self.roster;
        let at = |minutes: i64| time_on(day, 0, minutes);
        for (c, old, new, moved) in &self.drawn.moves {
            if day < *moved || !rng.random_bool(0.4) {
                continue;
            }
            let Some(&i) = self
                .staff
                .iter()
                .find(|i| roster.people[**i].units.first() == Some(new))
            else {
                continue;
            };
            let p = &roster.people[i];
            let Some(account) = p.accounts.first() else {
                continue;
            };
            let t = at(rng.random_range(8 * 60..16 * 60));
            w.row(
                &account.system,
                t,
                &account.account,
                &p.name,
                title_of(p),
                new,
                c,
                old,
                "Läsa",
            )?;
            *added.rows.entry("moved_client").or_insert(0) += 1;
        }
        Ok(())
    }
}

/// A large export for benchmarks: `rows` rows of Treserva, one every `step_ms` milliseconds from
/// `start`, by `users` accounts (`tre00000`…) in `units` units (`EN0001`…), to 200,000 clients,
/// mostly reads. Half the times are RFC 3339, half local, as different systems write them.
/// The same every run (xorshift).
pub fn bulk_export(
    path: &Path,
    rows: u64,
    start: chrono::DateTime<chrono::Utc>,
    step_ms: i64,
    users: u64,
    units: u64,
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(
        out,
        "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose"
    )?;
    let titles = [
        "Undersköterska",
        "Sjuksköterska",
        "Enhetschef",
        "Biståndshandläggare",
    ];
    let actions = [
        "Läsa", "Läsa", "Läsa", "Läsa", "Läsa", "Skriva", "Signera", "Utskrift",
    ];
    let clients: Vec<String> = (0..200_000u32)
        .map(|i| client_number(i).replace('-', ""))
        .collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = start + chrono::Duration::milliseconds(i as i64 * step_ms);
        let user = x % users.max(1);
        let time = if i % 2 == 0 {
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        } else {
            at.with_timezone(&chrono_tz::Europe::Stockholm)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        writeln!(
            out,
            "L{i:010},{time},treserva,tre{user:05},Anna Andersson,{},EN{:04},{},EN{:04},{},journal,vård",
            titles[(x >> 8) as usize % titles.len()],
            user % units.max(1) + 1,
            clients[(x % 200_000) as usize],
            (x >> 20) % units.max(1) + 1,
            actions[(x >> 32) as usize % actions.len()],
        )?;
    }
    out.flush()
}

/// The roster of a [`bulk_export`]: `users` people (`P00000`… with account `tre00000`… and a
/// personnummer) in `units` units under one organisation, a head of operations at the top.
pub fn bulk_roster(users: u64, units: u64) -> Roster {
    use crate::roster::{Account, Person, Role, RoleAssignment, Unit};
    let mut roster = Roster::default();
    roster.units.push(Unit {
        id: "ORG".into(),
        name: "Organisationen".into(),
        parent: None,
    });
    for u in 1..=units {
        roster.units.push(Unit {
            id: format!("EN{u:04}"),
            name: format!("Enhet {u}"),
            parent: Some("ORG".into()),
        });
    }
    for i in 0..users {
        roster.people.push(Person {
            id: format!("P{i:05}"),
            name: format!("Person {i} Testsson"),
            email: format!("p{i}@example.se"),
            title: None,
            units: vec![format!("EN{:04}", i % units.max(1) + 1)],
            roles: if i == 0 {
                vec![RoleAssignment {
                    role: Role::OperationsManager,
                    unit: "ORG".into(),
                }]
            } else {
                Vec::new()
            },
            accounts: vec![Account {
                system: "treserva".into(),
                account: format!("tre{i:05}"),
            }],
            active_from: None,
            active_to: None,
            personnummer: Some(
                crate::personnummer::made_up(
                    1960 + (i % 40) as u32,
                    1 + (i % 12) as u32,
                    1 + (i % 28) as u32,
                    500 + (i % 400) as u32,
                )
                .replace('-', ""),
            ),
        });
    }
    roster
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_numbers_are_valid() {
        for n in 0..2000 {
            let p = client_number(n);
            assert!(crate::personnummer::validate(&p).is_ok(), "{p}");
        }
    }

    #[test]
    fn a_year_in_monthly_files_with_every_kind_planted() {
        let dir = tempfile::tempdir().unwrap();
        let roster = crate::simulate::org::synthetic(300, 8, 1);
        let from = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2027, 12, 31).unwrap();
        let w = write_months(&roster, from, to, 1, dir.path()).unwrap();
        assert_eq!(w.files.len(), 12);
        assert_eq!(
            w.files[1].from,
            NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()
        );
        assert_eq!(w.files[1].to, NaiveDate::from_ymd_opt(2027, 2, 28).unwrap());
        for kind in [
            "own_record",
            "colleague_record",
            "same_surname",
            "night",
            "burst",
            "unit_mismatch",
            "emergency_access",
            "after_employment",
        ] {
            assert!(
                w.planted.get(kind).copied().unwrap_or(0) > 0,
                "{kind}: {:?}",
                w.planted
            );
        }
        let rows: u64 = w.files.iter().map(|f| f.rows).sum();
        let planted: u64 = w.planted.values().sum();
        // A low rate: well under one in a hundred rows.
        assert!(planted * 100 < rows, "{planted} of {rows}");
    }
}
