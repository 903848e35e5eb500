//! `people.csv`: `person_id,name,email,units,roles,accounts,active_from,active_to`, optionally
//! `personnummer` and `title`. Read after
//! the units, so every reference to a unit is checked as the row is read.

use super::fields;
use super::person::{Account, Person, RoleAssignment};
use super::role::{Role, UnknownRole};
use super::units_file::Units;
use crate::error::Result;
use crate::tabular::{Column, Problems, Row, Schema, Table};
use std::collections::HashMap;
use std::io::BufRead;

pub(super) const PEOPLE: Schema = Schema::new(&[
    Column::required("person_id"),
    Column::required("name"),
    Column::required("email"),
    Column::required("units"),
    Column::required("roles"),
    Column::required("accounts"),
    Column::required("active_from"),
    Column::required("active_to"),
    Column::optional("personnummer"),
    Column::optional("title"),
]);

/// What earlier rows claimed, for the uniqueness checks of later ones.
#[derive(Debug, Default)]
struct Seen {
    /// Person id → line.
    people: HashMap<String, u64>,
    /// (system, account) → (person id, line).
    accounts: HashMap<(String, String), (String, u64)>,
}

pub(super) fn read_people<R: BufRead>(
    table: Option<Table<R>>,
    units: &Units,
    problems: &mut Problems,
) -> Result<Vec<Person>> {
    let Some(mut table) = table else {
        return Ok(Vec::new());
    };
    let mut seen = Seen::default();
    let mut people = Vec::new();
    while let Some(row) = table.next_row(problems)? {
        people.push(read_person(&row, units, &mut seen, problems));
    }
    Ok(people)
}

/// The person of one row, every problem of the row pushed.
fn read_person(row: &Row<'_>, units: &Units, seen: &mut Seen, problems: &mut Problems) -> Person {
    let mut check = |column: &str, result: Result<(), String>| {
        if let Err(message) = result {
            problems.push(row.problem(column, message));
        }
    };

    let id = row.get("person_id");
    check("person_id", fields::id(id));
    if !id.is_empty() {
        if let Some(&first) = seen.people.get(id) {
            check(
                "person_id",
                Err(format!("`{id}` is already defined on line {first}")),
            );
        } else {
            seen.people.insert(id.to_string(), row.line());
        }
    }
    let name = row.get("name");
    check("name", fields::text(name));
    let email = row.get("email");
    check("email", fields::email(email));
    let title = match row.get("title") {
        "" => None,
        text => {
            check("title", fields::text(text));
            Some(text.to_string())
        }
    };

    let mut person_units: Vec<String> = Vec::new();
    for unit in fields::list(row.get("units")) {
        if !units.contains(unit) {
            check("units", Err(units.unknown(unit)));
        } else if !person_units.iter().any(|known| known == unit) {
            person_units.push(unit.to_string());
        }
    }

    let mut roles: Vec<RoleAssignment> = Vec::new();
    for item in fields::list(row.get("roles")) {
        match role_assignment(item, units) {
            Ok(assignment) if !roles.contains(&assignment) => roles.push(assignment),
            Ok(_) => {}
            Err(message) => check("roles", Err(message)),
        }
    }

    let mut accounts: Vec<Account> = Vec::new();
    for item in fields::list(row.get("accounts")) {
        let account = match account(item) {
            Ok(account) => account,
            Err(message) => {
                check("accounts", Err(message));
                continue;
            }
        };
        let key = (account.system.clone(), account.account.clone());
        match seen.accounts.get(&key) {
            Some((holder, line)) if holder != id => check(
                "accounts",
                Err(format!(
                    "`{}:{}` already belongs to `{holder}` (line {line})",
                    account.system, account.account
                )),
            ),
            Some(_) => {}
            None => {
                seen.accounts.insert(key, (id.to_string(), row.line()));
            }
        }
        if !accounts.contains(&account) {
            accounts.push(account);
        }
    }

    let active_from = fields::date(row.get("active_from"));
    let active_to = fields::date(row.get("active_to"));
    if let (Ok(Some(from)), Ok(Some(to))) = (&active_from, &active_to)
        && to < from
    {
        check(
            "active_to",
            Err(format!("`{to}` is before `active_from` (`{from}`)")),
        );
    }
    let active_from = active_from.unwrap_or_else(|message| {
        check("active_from", Err(message));
        None
    });
    let active_to = active_to.unwrap_or_else(|message| {
        check("active_to", Err(message));
        None
    });

    let personnummer = match row.get("personnummer") {
        "" => None,
        text => match crate::personnummer::digits(text) {
            Ok(d) => Some(String::from_utf8_lossy(&d).into_owned()),
            Err(message) => {
                // The number itself is not repeated: the message names the line and field.
                let message = message.replace(&format!("`{text}`"), "the value");
                check("personnummer", Err(message));
                None
            }
        },
    };

    Person {
        id: id.to_string(),
        name: name.to_string(),
        email: email.to_string(),
        title,
        units: person_units,
        roles,
        accounts,
        active_from,
        active_to,
        personnummer,
    }
}

/// `role@unit_id`.
fn role_assignment(item: &str, units: &Units) -> Result<RoleAssignment, String> {
    let Some((role, unit)) = item.split_once('@') else {
        return Err(format!("`{item}` is not `role@unit_id`"));
    };
    let (role, unit) = (role.trim(), unit.trim());
    if role.is_empty() || unit.is_empty() {
        return Err(format!("`{item}` is not `role@unit_id`"));
    }
    let role: Role = role
        .parse()
        .map_err(|unknown: UnknownRole| unknown.to_string())?;
    if !units.contains(unit) {
        return Err(units.unknown(unit));
    }
    Ok(RoleAssignment {
        role,
        unit: unit.to_string(),
    })
}

/// `system:account`.
fn account(item: &str) -> Result<Account, String> {
    let Some((system, account)) = item.split_once(':') else {
        return Err(format!("`{item}` is not `system:account`"));
    };
    let (system, account) = (system.trim(), account.trim());
    if system.is_empty() || account.is_empty() {
        return Err(format!("`{item}` is not `system:account`"));
    }
    fields::system(system)?;
    Ok(Account {
        system: system.to_string(),
        account: account.to_string(),
    })
}
