//! A person of the roster: an employee whose access is reviewed, a holder of roles, or both.

use crate::roster::Role;
use chrono::NaiveDate;
use serde::Serialize;

/// One row of `people.csv`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The job title (*yrkesroll*: `Undersköterska`), which the needs-and-risk analysis is
    /// written per; `people.csv`'s optional `title` column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The units the person works at, each once; the first is the home unit. May be empty
    /// (`people.csv` does not require a unit; see [`Person::home_unit`]).
    pub units: Vec<String>,
    pub roles: Vec<RoleAssignment>,
    pub accounts: Vec<Account>,
    /// First day of employment; `None`: since always.
    pub active_from: Option<NaiveDate>,
    /// Last day of employment, inclusive; `None`: until further notice.
    pub active_to: Option<NaiveDate>,
    /// The person's own personnummer, 12 digits (`people.csv`'s optional column), only to
    /// recognise accesses to their own or a colleague's record. Never written anywhere in clear:
    /// the store keeps a keyed hash.
    #[serde(skip)]
    pub personnummer: Option<String>,
}

impl Person {
    /// The first of the person's units, if any is listed.
    pub fn home_unit(&self) -> Option<&str> {
        self.units.first().map(String::as_str)
    }

    /// Whether `day` falls within `active_from..=active_to`.
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.active_from.is_none_or(|from| from <= day) && self.active_to.is_none_or(|to| day <= to)
    }

    /// Whether the person holds `role` at exactly `unit`.
    pub fn holds(&self, role: Role, unit: &str) -> bool {
        self.roles
            .iter()
            .any(|assignment| assignment.role == role && assignment.unit == unit)
    }

    /// The person's accounts in `system` (`npo`, `treserva`, …).
    pub fn accounts_in<'p>(&'p self, system: &'p str) -> impl Iterator<Item = &'p Account> {
        self.accounts
            .iter()
            .filter(move |account| account.system == system)
    }
}

/// A role held at a unit: `unit_manager@HT-VAST`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RoleAssignment {
    pub role: Role,
    pub unit: String,
}

/// A user account in a record system: `npo:SE2120000000-A1B2`. The account is what the
/// system's access log calls the user (`user_id` of the log export).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Account {
    /// A lowercase identifier: `npo`, `treserva`.
    pub system: String,
    pub account: String,
}
