//! What explains an access besides the log: care relationships (`relations.csv`,
//! `client,unit_id,from,to,kind[,person_id]`, from the record system: a client's insats,
//! beslut or vårdkontakt with a unit, or a named person such as the ansvarig handläggare) and
//! work shifts (`shifts.csv`, `person_id,unit_id,start,end`, the staffing system's export).
//! Pure: the rows are checked against the units and people the caller knows; storing them is
//! the store's business. Any problem refuses the whole file, every problem listed as
//! `FILE:LINE: field …`.

use super::fields;
use crate::error::Result;
use crate::tabular::{Column, Problems, Row, Schema, Table, did_you_mean};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

pub(crate) const RELATIONS: Schema = Schema::new(&[
    Column::required("client"),
    Column::required("unit_id"),
    Column::required("from"),
    Column::required("to"),
    Column::required("kind"),
    Column::optional("person_id"),
]);

pub(crate) const SHIFTS: Schema = Schema::new(&[
    Column::required("person_id"),
    Column::required("unit_id"),
    Column::required("start"),
    Column::required("end"),
]);

/// One care relationship: the client's record is the business of `unit` (and of `person`,
/// when named) from `from` to `to` (local days, both included; `None`: ongoing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relation {
    pub line: u64,
    /// The client's 12 digits as a number, as the log stores them.
    pub client: u64,
    pub unit: String,
    /// Empty: the unit's relationship, nobody named.
    pub person: String,
    pub kind: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// One work shift: `person` worked at `unit` in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shift {
    pub line: u64,
    pub person: String,
    pub unit: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the files are checked against.
pub(crate) struct Known<'a> {
    pub units: &'a [String],
    /// Everyone the roster has known (also people who have left).
    pub people: &'a [String],
    pub tz: Tz,
}

/// [`Known`]'s ids as sets, for a lookup per row.
struct Ids<'a> {
    units: std::collections::HashSet<&'a str>,
    people: std::collections::HashSet<&'a str>,
    known: &'a Known<'a>,
}

impl<'a> Ids<'a> {
    fn of(known: &'a Known<'a>) -> Ids<'a> {
        Ids {
            units: known.units.iter().map(String::as_str).collect(),
            people: known.people.iter().map(String::as_str).collect(),
            known,
        }
    }
}

/// The longest kind of relationship kept.
const KIND_MAX: usize = 100;
/// The longest shift: two days (a weekend's on-call); a longer span is a mistake in the export.
const SHIFT_MAX_HOURS: i64 = 48;

/// Reads and validates `relations.csv` at `path`.
pub(crate) fn parse_relations(path: &Path, known: &Known) -> Result<Vec<Relation>> {
    let mut problems = Problems::new();
    let table = Table::open(path, &RELATIONS, &mut problems)?;
    let rows = read_relations(table, known, &mut problems)?;
    problems.into_result(rows)
}

/// [`parse_relations`] over a reader named `name` in messages.
#[cfg(test)]
pub(crate) fn parse_relations_from(
    name: &str,
    input: impl BufRead,
    known: &Known,
) -> Result<Vec<Relation>> {
    let mut problems = Problems::new();
    let table = Table::from_reader(name, input, &RELATIONS, &mut problems)?;
    let rows = read_relations(table, known, &mut problems)?;
    problems.into_result(rows)
}

/// Reads and validates `shifts.csv` at `path`.
pub(crate) fn parse_shifts(path: &Path, known: &Known) -> Result<Vec<Shift>> {
    let mut problems = Problems::new();
    let table = Table::open(path, &SHIFTS, &mut problems)?;
    let rows = read_shifts(table, known, &mut problems)?;
    problems.into_result(rows)
}

/// [`parse_shifts`] over a reader named `name` in messages.
#[cfg(test)]
pub(crate) fn parse_shifts_from(
    name: &str,
    input: impl BufRead,
    known: &Known,
) -> Result<Vec<Shift>> {
    let mut problems = Problems::new();
    let table = Table::from_reader(name, input, &SHIFTS, &mut problems)?;
    let rows = read_shifts(table, known, &mut problems)?;
    problems.into_result(rows)
}

fn read_relations<R: BufRead>(
    table: Option<Table<R>>,
    known: &Known,
    problems: &mut Problems,
) -> Result<Vec<Relation>> {
    let Some(mut table) = table else {
        return Ok(Vec::new());
    };
    let known = &Ids::of(known);
    // (client, unit, person, kind, from) → (line, to) of its first row.
    type Key = (u64, String, String, String, NaiveDate);
    let mut seen: HashMap<Key, (u64, Option<NaiveDate>)> = HashMap::new();
    let mut out = Vec::new();
    while let Some(row) = table.next_row(problems)? {
        let Some(r) = read_relation(&row, known, problems) else {
            continue;
        };
        let key = (
            r.client,
            r.unit.clone(),
            r.person.clone(),
            r.kind.clone(),
            r.from,
        );
        match seen.get(&key) {
            // The same relationship twice, the same way: once.
            Some((_, to)) if *to == r.to => {}
            Some((first, _)) => problems.push(row.problem(
                "to",
                format!(
                    "the same relationship (client, unit, kind, from) is given on line {first} with another end"
                ),
            )),
            None => {
                seen.insert(key, (r.line, r.to));
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// Checks a field, pushing its problem: `Some(value)` when it is good.
fn field<T>(
    row: &Row<'_>,
    column: &str,
    problems: &mut Problems,
    result: std::result::Result<T, String>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            problems.push(row.problem(column, message));
            None
        }
    }
}

/// An id that must be one of `known` (`all`: the same, for a did-you-mean; `what`: "unit",
/// "person").
fn known_id(
    value: &str,
    known: &std::collections::HashSet<&str>,
    all: &[String],
    what: &str,
    listed: &str,
) -> std::result::Result<(), String> {
    fields::id(value)?;
    if known.contains(value) {
        return Ok(());
    }
    Err(format!(
        "{what} `{value}` is not {listed}{}",
        did_you_mean(value, all.iter().map(String::as_str))
            .map(|near| format!(" (did you mean `{near}`?)"))
            .unwrap_or_default()
    ))
}

fn read_relation(row: &Row<'_>, known: &Ids, problems: &mut Problems) -> Option<Relation> {
    let client = field(
        row,
        "client",
        problems,
        crate::personnummer::digits(row.get("client")).map(|d| {
            d.iter()
                .fold(0u64, |n, b| n * 10 + u64::from(b.wrapping_sub(b'0')))
        }),
    );
    let unit = row.get("unit_id");
    let unit_ok = field(
        row,
        "unit_id",
        problems,
        known_id(
            unit,
            &known.units,
            known.known.units,
            "unit",
            "in the roster",
        ),
    );
    let from = field(row, "from", problems, required_date(row.get("from")));
    let to = field(row, "to", problems, fields::date(row.get("to")));
    let kind = row.get("kind");
    let kind_ok = field(row, "kind", problems, bounded(kind, KIND_MAX));
    let person = row.get("person_id");
    let person_ok = if person.is_empty() {
        Some(())
    } else {
        field(
            row,
            "person_id",
            problems,
            known_id(
                person,
                &known.people,
                known.known.people,
                "person",
                "in the roster",
            ),
        )
    };
    let (from, to) = (from?, to?);
    if let Some(end) = to
        && end < from
    {
        problems.push(row.problem("to", format!("`{end}` is before `from` ({from})")));
        return None;
    }
    unit_ok?;
    kind_ok?;
    person_ok?;
    Some(Relation {
        line: row.line(),
        client: client?,
        unit: unit.to_string(),
        person: person.to_string(),
        kind: kind.split_whitespace().collect::<Vec<_>>().join(" "),
        from,
        to,
    })
}

fn read_shifts<R: BufRead>(
    table: Option<Table<R>>,
    known: &Known,
    problems: &mut Problems,
) -> Result<Vec<Shift>> {
    let Some(mut table) = table else {
        return Ok(Vec::new());
    };
    let known = &Ids::of(known);
    let mut seen: HashMap<(String, i64, String), (u64, i64)> = HashMap::new();
    let mut out = Vec::new();
    while let Some(row) = table.next_row(problems)? {
        let Some(s) = read_shift(&row, known, problems) else {
            continue;
        };
        let key = (s.person.clone(), s.start.timestamp(), s.unit.clone());
        match seen.get(&key) {
            Some((_, end)) if *end == s.end.timestamp() => {}
            Some((first, _)) => problems.push(row.problem(
                "end",
                format!(
                    "the same shift (person, unit, start) is given on line {first} with another end"
                ),
            )),
            None => {
                seen.insert(key, (s.line, s.end.timestamp()));
                out.push(s);
            }
        }
    }
    Ok(out)
}

fn read_shift(row: &Row<'_>, known: &Ids, problems: &mut Problems) -> Option<Shift> {
    let person = row.get("person_id");
    let person_ok = field(
        row,
        "person_id",
        problems,
        known_id(
            person,
            &known.people,
            known.known.people,
            "person",
            "in the roster",
        ),
    );
    let unit = row.get("unit_id");
    let unit_ok = field(
        row,
        "unit_id",
        problems,
        known_id(
            unit,
            &known.units,
            known.known.units,
            "unit",
            "in the roster",
        ),
    );
    let start = field(
        row,
        "start",
        problems,
        time(row.get("start"), known.known.tz),
    );
    let end = field(row, "end", problems, time(row.get("end"), known.known.tz));
    let (start, end) = (start?, end?);
    let hours = (end - start).num_minutes();
    if hours <= 0 {
        problems.push(row.problem(
            "end",
            format!(
                "`{}` is not after `start` ({})",
                row.get("end"),
                row.get("start")
            ),
        ));
        return None;
    }
    if hours > SHIFT_MAX_HOURS * 60 {
        problems.push(row.problem(
            "end",
            format!(
                "the shift is {} hours long; at most {SHIFT_MAX_HOURS} are taken as one shift (give each shift its own row)",
                hours / 60
            ),
        ));
        return None;
    }
    person_ok?;
    unit_ok?;
    Some(Shift {
        line: row.line(),
        person: person.to_string(),
        unit: unit.to_string(),
        start,
        end,
    })
}

/// A system as `--system` names it: a lowercase identifier.
pub(crate) fn system(value: &str) -> std::result::Result<(), String> {
    fields::system(value)
}

fn required_date(value: &str) -> std::result::Result<NaiveDate, String> {
    fields::date(value)?.ok_or_else(|| fields::EMPTY.to_string())
}

/// A time as a staffing system writes it: local (`2027-03-02 22:00`, `2027-03-02T22:00:00`)
/// or RFC 3339.
fn time(value: &str, tz: Tz) -> std::result::Result<DateTime<Utc>, String> {
    fields::required(value)?;
    // A date alone is not a time of a shift.
    if value.trim().len() <= 10 {
        return Err(format!(
            "`{value}` is not a time (expected e.g. `2027-03-02 22:00` or RFC 3339)"
        ));
    }
    crate::clock::parse_time(value, tz).map_err(|_| {
        format!("`{value}` is not a time (expected e.g. `2027-03-02 22:00` or RFC 3339)")
    })
}

/// Text on one line, given, at most `max` characters.
fn bounded(value: &str, max: usize) -> std::result::Result<(), String> {
    fields::text(value)?;
    let n = value.chars().count();
    if n > max {
        return Err(format!("is {n} characters long; at most {max} are kept"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;

    fn known() -> (Vec<String>, Vec<String>) {
        (
            vec!["HT-NORR".into(), "HT-SODER".into()],
            vec!["p1".into(), "p2".into()],
        )
    }

    fn relations(text: &str) -> Result<Vec<Relation>> {
        let (units, people) = known();
        let k = Known {
            units: &units,
            people: &people,
            tz: Stockholm,
        };
        parse_relations_from("relations.csv", text.as_bytes(), &k)
    }

    fn shifts(text: &str) -> Result<Vec<Shift>> {
        let (units, people) = known();
        let k = Known {
            units: &units,
            people: &people,
            tz: Stockholm,
        };
        parse_shifts_from("shifts.csv", text.as_bytes(), &k)
    }

    #[test]
    fn relations_read_with_and_without_a_person_and_an_end() {
        let r = relations(
            "client,unit_id,from,to,kind,person_id\n\
             19450312-1230,HT-NORR,2027-03-01,,insats,\n\
             194503121230,HT-SODER,2027-01-01,2027-02-28,ansvarig  handläggare,p2\n\
             194503121230,HT-SODER,2027-01-01,2027-02-28,ansvarig handläggare,p2\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2, "the repeated row counts once");
        assert_eq!(r[0].client, 194_503_121_230);
        assert_eq!(r[0].to, None);
        assert_eq!(r[1].person, "p2");
        assert_eq!(r[1].kind, "ansvarig handläggare");
        // Without the optional column.
        let r = relations("client,unit_id,from,to,kind\n194503121230,HT-NORR,2027-03-01,,beslut\n")
            .unwrap();
        assert_eq!(r[0].person, "");
    }

    #[test]
    fn every_bad_relation_field_is_named_at_its_line() {
        let err = relations(
            "client,unit_id,from,to,kind,person_id\n\
             1945031212,HT-NORRR,2027-03-01,,insats,\n\
             194503121230,HT-NORR,,2027-13-01,,p9\n\
             194503121230,HT-NORR,2027-03-01,2027-02-01,insats,\n\
             194503121230,HT-NORR,2027-03-01,2027-05-01,insats,\n\
             194503121230,HT-NORR,2027-03-01,2027-06-01,insats,\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "relations.csv:2: field `client`",
            "relations.csv:2: field `unit_id`: unit `HT-NORRR` is not in the roster (did you mean `HT-NORR`?)",
            "relations.csv:3: field `from`: must not be empty",
            "relations.csv:3: field `to`: `2027-13-01` is not a date",
            "relations.csv:3: field `kind`: must not be empty",
            "relations.csv:3: field `person_id`: person `p9` is not in the roster",
            "relations.csv:4: field `to`: `2027-02-01` is before `from`",
            "relations.csv:6: field `to`: the same relationship",
        ] {
            assert!(err.contains(expected), "{expected}\nnot in\n{err}");
        }
    }

    #[test]
    fn shifts_read_local_times_across_midnight_and_refuse_the_impossible() {
        let s = shifts(
            "person_id,unit_id,start,end\n\
             p1,HT-SODER,2027-03-02 22:00,2027-03-03 07:00\n\
             p2,HT-NORR,2027-03-28T01:00:00+01:00,2027-03-28T09:00:00+02:00\n",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].end - s[0].start).num_hours(), 9);
        // Across the spring change: 7 hours of clock, 7 hours long.
        assert_eq!((s[1].end - s[1].start).num_hours(), 7);
        let err = shifts(
            "person_id,unit_id,start,end\n\
             p3,HT-SODER,2027-03-02 22:00,2027-03-02 07:00\n\
             p1,HT-SODER,2027-03-02,2027-03-05 07:00\n\
             p1,HT-SODER,2027-03-01 07:00,2027-03-05 07:00\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "shifts.csv:2: field `person_id`: person `p3` is not in the roster",
            "shifts.csv:2: field `end`: `2027-03-02 07:00` is not after `start`",
            "shifts.csv:3: field `start`: `2027-03-02` is not a time",
            "shifts.csv:4: field `end`: the shift is 96 hours long",
        ] {
            assert!(err.contains(expected), "{expected}\nnot in\n{err}");
        }
    }
}
