//! The two roster files into one [`Roster`]: units first, since people refer to them. All
//! problems of both files are collected and refuse the import together.

use super::Roster;
use super::people_file::{PEOPLE, read_people};
use super::units_file::{UNITS, read_units};
use crate::error::Result;
use crate::tabular::{Problems, Table};
use std::io::BufRead;
use std::path::Path;

/// Reads and validates `units.csv` and `people.csv`. Any problem in either file (a missing
/// file included) refuses both with one [`Error::bad_input`](crate::Error::bad_input) listing
/// every problem as `FILE:LINE: message`, by file and line; an I/O failure is a runtime error.
pub fn parse_roster(units_path: &Path, people_path: &Path) -> Result<Roster> {
    let mut problems = Problems::new();
    let units = Table::open(units_path, &UNITS, &mut problems)?;
    let units = read_units(units, &mut problems)?;
    let people = Table::open(people_path, &PEOPLE, &mut problems)?;
    let people = read_people(people, &units, &mut problems)?;
    problems.into_result(Roster {
        units: units.list,
        people,
    })
}

/// [`parse_roster`] over readers, each named in messages as given (`units.csv`).
pub fn parse_roster_from(
    units_name: &str,
    units: impl BufRead,
    people_name: &str,
    people: impl BufRead,
) -> Result<Roster> {
    let mut problems = Problems::new();
    let units = Table::from_reader(units_name, units, &UNITS, &mut problems)?;
    let units = read_units(units, &mut problems)?;
    let people = Table::from_reader(people_name, people, &PEOPLE, &mut problems)?;
    let people = read_people(people, &units, &mut problems)?;
    problems.into_result(Roster {
        units: units.list,
        people,
    })
}
