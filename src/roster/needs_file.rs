//! The needs-and-risk analysis (*behovs- och riskanalys*, HSLF-FS 2016:40 4 kap. 2 §):
//! `needs.csv`, one row per unit, job title and system,
//! `unit_id,title,system,scope,risk,decided_by,decided_on`, saying which clients' records people
//! of that title at that unit need to reach, and what risks were weighed. Pure: the rows are
//! checked against the units the caller knows, and storing them is the store's business.

use super::fields;
use crate::error::Result;
use crate::tabular::{Column, Problems, Row, Schema, Table, did_you_mean};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

pub(crate) const NEEDS: Schema = Schema::new(&[
    Column::required("unit_id"),
    Column::required("title"),
    Column::required("system"),
    Column::required("scope"),
    Column::required("risk"),
    Column::required("decided_by"),
    Column::required("decided_on"),
]);

/// Whose records people of a title need to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// No access to the system at all.
    None,
    /// The unit's own clients.
    Unit,
    /// The clients of every unit under the unit's parent (its siblings and their units).
    Area,
    /// Every client of the organisation.
    Organisation,
}

impl Scope {
    pub(crate) const ALL: [&'static str; 4] = ["none", "unit", "area", "organisation"];

    /// The English word or its Swedish one (`ingen`, `enhet`, `område`, `organisation`).
    pub(crate) fn parse(text: &str) -> Option<Scope> {
        match text.trim().to_lowercase().as_str() {
            "none" | "ingen" => Some(Scope::None),
            "unit" | "enhet" | "enheten" => Some(Scope::Unit),
            "area" | "område" | "området" => Some(Scope::Area),
            "organisation" | "organization" | "hela organisationen" => Some(Scope::Organisation),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::Unit => "unit",
            Scope::Area => "area",
            Scope::Organisation => "organisation",
        }
    }

    /// What the scope allows, in Swedish.
    pub(crate) fn sv(self) -> &'static str {
        match self {
            Scope::None => "ingen åtkomst",
            Scope::Unit => "enhetens egna kunder",
            Scope::Area => "kunderna i området (enheterna under samma överordnade enhet)",
            Scope::Organisation => "alla kunder i organisationen",
        }
    }
}

/// One analysed need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Need {
    /// The line of the file it came from.
    pub line: u64,
    pub unit: String,
    /// The job title (*yrkesroll*) as written; matched without regard to case.
    pub title: String,
    pub system: String,
    pub scope: Scope,
    /// The risks weighed, in free text.
    pub risk: String,
    pub decided_by: String,
    pub decided_on: NaiveDate,
}

/// A job title as titles are compared: trimmed, lower case, inner blanks as one.
pub(crate) fn title_key(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The longest risk text kept (a paragraph or two; the analysis itself is a document of its own).
const RISK_MAX: usize = 4000;
/// The longest title or name.
const TEXT_MAX: usize = 200;

/// Reads and validates `needs.csv` at `path`: every unit must be among `units` (the roster's),
/// every decision dated on or before `today`, and each (unit, title, system) given once. Any
/// problem refuses the whole file, every problem listed as `FILE:LINE: field …`.
pub(crate) fn parse_needs(path: &Path, units: &[String], today: NaiveDate) -> Result<Vec<Need>> {
    let mut problems = Problems::new();
    let table = Table::open(path, &NEEDS, &mut problems)?;
    let needs = read_needs(table, units, today, &mut problems)?;
    problems.into_result(needs)
}

/// [`parse_needs`] over a reader named `name` in messages.
#[cfg(test)]
pub(crate) fn parse_needs_from(
    name: &str,
    input: impl BufRead,
    units: &[String],
    today: NaiveDate,
) -> Result<Vec<Need>> {
    let mut problems = Problems::new();
    let table = Table::from_reader(name, input, &NEEDS, &mut problems)?;
    let needs = read_needs(table, units, today, &mut problems)?;
    problems.into_result(needs)
}

fn read_needs<R: BufRead>(
    table: Option<Table<R>>,
    units: &[String],
    today: NaiveDate,
    problems: &mut Problems,
) -> Result<Vec<Need>> {
    let Some(mut table) = table else {
        return Ok(Vec::new());
    };
    let mut seen: HashMap<(String, String, String), u64> = HashMap::new();
    let mut needs = Vec::new();
    while let Some(row) = table.next_row(problems)? {
        if let Some(need) = read_need(&row, units, today, &mut seen, problems) {
            needs.push(need);
        }
    }
    Ok(needs)
}

fn read_need(
    row: &Row<'_>,
    units: &[String],
    today: NaiveDate,
    seen: &mut HashMap<(String, String, String), u64>,
    problems: &mut Problems,
) -> Option<Need> {
    let mut ok = true;
    let mut check = |column: &str, result: Result<(), String>| {
        if let Err(message) = result {
            problems.push(row.problem(column, message));
            ok = false;
        }
    };
    let unit = row.get("unit_id");
    check("unit_id", fields::id(unit));
    if !unit.is_empty() && !units.iter().any(|u| u == unit) {
        check(
            "unit_id",
            Err(format!(
                "unit `{unit}` is not in the roster{}",
                did_you_mean(unit, units.iter().map(String::as_str))
                    .map(|near| format!(" (did you mean `{near}`?)"))
                    .unwrap_or_default()
            )),
        );
    }
    let title = row.get("title");
    check("title", bounded_text(title, TEXT_MAX));
    let system = row.get("system");
    check("system", fields::system(system));
    let scope = Scope::parse(row.get("scope"));
    if scope.is_none() {
        check(
            "scope",
            Err(format!(
                "`{}` is not a scope (expected one of {})",
                row.get("scope"),
                crate::tabular::backticked(&Scope::ALL)
            )),
        );
    }
    let risk = row.get("risk");
    check("risk", bounded_text(risk, RISK_MAX));
    let decided_by = row.get("decided_by");
    check("decided_by", bounded_text(decided_by, TEXT_MAX));
    let decided_on = match fields::date(row.get("decided_on")) {
        Ok(Some(day)) if day > today => {
            check(
                "decided_on",
                Err(format!("`{day}` lies in the future (today is {today})")),
            );
            None
        }
        Ok(Some(day)) => Some(day),
        Ok(None) => {
            check("decided_on", Err(fields::EMPTY.to_string()));
            None
        }
        Err(message) => {
            check("decided_on", Err(message));
            None
        }
    };
    let key = (unit.to_string(), title_key(title), system.to_string());
    if !title.is_empty() {
        match seen.get(&key) {
            Some(first) => check(
                "title",
                Err(format!(
                    "`{title}` at `{unit}` in `{system}` is already analysed on line {first}"
                )),
            ),
            None => {
                seen.insert(key, row.line());
            }
        }
    }
    if !ok {
        return None;
    }
    Some(Need {
        line: row.line(),
        unit: unit.to_string(),
        title: title.trim().to_string(),
        system: system.to_string(),
        scope: scope?,
        risk: risk.to_string(),
        decided_by: decided_by.to_string(),
        decided_on: decided_on?,
    })
}

/// Text on one line, given, at most `max` characters.
fn bounded_text(value: &str, max: usize) -> Result<(), String> {
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

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn units() -> Vec<String> {
        vec!["HT-NORR".into(), "HT-SODER".into()]
    }

    fn parse(text: &str) -> Result<Vec<Need>> {
        parse_needs_from("needs.csv", text.as_bytes(), &units(), day("2027-06-01"))
    }

    const HEADER: &str = "unit_id,title,system,scope,risk,decided_by,decided_on\n";

    #[test]
    fn a_whole_file_reads_every_row_with_its_scope() {
        let needs = parse(&format!(
            "{HEADER}HT-NORR,Undersköterska,treserva,unit,Läser bara egna kunders journaler,Eva Ek,2027-01-10\n\
             HT-NORR,Biståndshandläggare,treserva,organisation,Utreder i hela kommunen,Eva Ek,2027-01-10\n\
             HT-SODER,Undersköterska,npo,ingen,Behöver inte NPÖ,Per Ek,2026-12-01\n"
        ))
        .unwrap();
        assert_eq!(needs.len(), 3);
        assert_eq!(needs[0].scope, Scope::Unit);
        assert_eq!(needs[1].scope, Scope::Organisation);
        assert_eq!(needs[2].scope, Scope::None);
        assert_eq!(needs[2].line, 4);
        assert_eq!(needs[0].decided_on, day("2027-01-10"));
    }

    #[test]
    fn every_bad_field_is_named_at_its_line_and_nothing_is_returned() {
        let err = parse(&format!(
            "{HEADER}HT-NORRR,Undersköterska,treserva,unit,Risk,Eva Ek,2027-01-10\n\
             HT-NORR,,treserva,everyone,,Eva Ek,2027-13-01\n\
             HT-NORR,Undersköterska,Treserva,unit,Risk,Eva Ek,2028-01-01\n\
             HT-NORR,undersköterska ,treserva,area,Risk,Eva Ek,2027-01-10\n\
             HT-NORR,UNDERSKÖTERSKA,treserva,area,Risk,Eva Ek,2027-01-10\n"
        ))
        .unwrap_err()
        .to_string();
        for expected in [
            "needs.csv:2: field `unit_id`: unit `HT-NORRR` is not in the roster (did you mean `HT-NORR`?)",
            "needs.csv:3: field `title`: must not be empty",
            "needs.csv:3: field `scope`: `everyone` is not a scope",
            "needs.csv:3: field `risk`: must not be empty",
            "needs.csv:3: field `decided_on`: `2027-13-01` is not a date",
            "needs.csv:4: field `system`: system `Treserva` is not a lowercase identifier",
            "needs.csv:4: field `decided_on`: `2028-01-01` lies in the future",
            "needs.csv:6: field `title`: `UNDERSKÖTERSKA` at `HT-NORR` in `treserva` is already analysed on line 5",
        ] {
            assert!(err.contains(expected), "{expected}\nnot in\n{err}");
        }
    }

    #[test]
    fn a_missing_column_refuses_the_file() {
        let err = parse("unit_id,title,system,scope,risk,decided_by\nHT-NORR,A,npo,unit,R,E\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("decided_on"), "{err}");
    }

    #[test]
    fn titles_compare_without_case_or_extra_blanks() {
        assert_eq!(title_key("  Under sköterska "), "under sköterska");
        assert_eq!(title_key("UNDERSKÖTERSKA"), title_key("undersköterska"));
    }
}
