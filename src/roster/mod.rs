//! The roster: the organisation's units as a tree, and the people in it with their units,
//! roles and record-system accounts. This module owns reading `units.csv` and `people.csv`
//! (`../shared/CLI.md`, "Roster files") into a validated [`Roster`], and looking things up in
//! it. It is pure: storing a roster is the store's business.
//!
//! **Invariant:** a [`Roster`] from [`parse_roster`] is whole: every id is unique, every unit
//! a person, role or parent names exists, the unit tree has no cycle and no account belongs to
//! two people. A file with any problem is refused as a whole, with all its problems listed.

pub(crate) mod context_files;
mod fields;
pub(crate) mod needs_file;
pub(crate) mod org;
mod parse;
mod people_file;
mod person;
mod role;
mod unit;
mod units_file;

pub use parse::{parse_roster, parse_roster_from};
pub use person::{Account, Person, RoleAssignment};
pub use role::{Role, UnknownRole};
pub use unit::Unit;

use chrono::NaiveDate;

/// The validated contents of the roster files, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub units: Vec<Unit>,
    pub people: Vec<Person>,
}

impl Roster {
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|unit| unit.id == id)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|person| person.id == id)
    }

    /// The units above `unit_id`, nearest first, up to the top of the organisation; empty for
    /// a unit that is not in the roster.
    pub fn ancestors(&self, unit_id: &str) -> Ancestors<'_> {
        Ancestors {
            roster: self,
            next: self.unit(unit_id).and_then(|unit| unit.parent.as_deref()),
            steps: 0,
        }
    }

    /// Who holds `role` for `unit_id` on `day`: the people active that day holding it at the
    /// unit itself or, when nobody does, at its nearest ancestor where somebody does; with the
    /// unit where they were found. `None` when nobody up to the top holds it.
    pub fn role_holders(
        &self,
        role: Role,
        unit_id: &str,
        day: NaiveDate,
    ) -> Option<(&Unit, Vec<&Person>)> {
        let unit = self.unit(unit_id)?;
        std::iter::once(unit)
            .chain(self.ancestors(unit_id))
            .find_map(|unit| {
                let holders: Vec<&Person> = self
                    .people
                    .iter()
                    .filter(|person| person.is_active_on(day) && person.holds(role, &unit.id))
                    .collect();
                (!holders.is_empty()).then_some((unit, holders))
            })
    }
}

/// The units above a unit, nearest first; see [`Roster::ancestors`].
#[derive(Debug, Clone)]
pub struct Ancestors<'r> {
    roster: &'r Roster,
    next: Option<&'r str>,
    steps: usize,
}

impl<'r> Iterator for Ancestors<'r> {
    type Item = &'r Unit;

    fn next(&mut self) -> Option<&'r Unit> {
        // A roster built by hand rather than parsed may have a cycle; never loop forever.
        if self.steps >= self.roster.units.len() {
            return None;
        }
        self.steps += 1;
        let unit = self.roster.unit(self.next?)?;
        self.next = unit.parent.as_deref();
        Some(unit)
    }
}
