//! A synthetic municipality for `simulate`, `demo` and tests: units in a tree (the organisation →
//! business areas → operations → units), managers at each level, and staff with accounts in NPÖ
//! and Treserva, some working at several units. Seeded: the same seed gives the same people.

use crate::roster::{Account, Person, Role, RoleAssignment, Roster, Unit};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::fmt::Write as _;
use std::path::Path;

const FIRST: &[&str] = &[
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sara", "Per", "Lena",
    "Mikael", "Emma", "Nils", "Ingrid", "Oskar", "Elin", "Ali", "Fatima", "Jonas", "Sofia",
    "Hanna", "Ahmed", "Linnea", "Gustav", "Maja", "Amir", "Ida", "Viktor", "Alva",
];
const LAST: &[&str] = &[
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Berg",
    "Lindqvist",
    "Ek",
    "Holm",
    "Sandberg",
    "Lund",
    "Hassan",
    "Mohammed",
    "Nyström",
    "Åberg",
    "Öberg",
];
const KINDS: &[&str] = &[
    "Hemtjänst",
    "Särskilt boende",
    "Dagverksamhet",
    "LSS-boende",
    "Korttidsboende",
    "Hemsjukvård",
    "Personlig assistans",
    "Individ- och familjeomsorg",
];
const PLACES: &[&str] = &[
    "Norr",
    "Söder",
    "Öster",
    "Väster",
    "Centrum",
    "Björkhagen",
    "Ekbacken",
    "Tallåsen",
    "Sjövik",
    "Lönnen",
    "Granen",
    "Ängen",
    "Backen",
    "Dalen",
    "Ljungen",
    "Solgläntan",
];

/// A roster of about `users` staff in `units` units (at least 1 of each), plus managers.
pub fn synthetic(users: usize, units: usize, seed: u64) -> Roster {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let units = units.max(1);
    let areas = (units / 40).clamp(1, 8);
    let operations = (units / 8).clamp(1, 60).max(areas);
    let mut roster = Roster::default();
    let (tree, leaf_ids) = unit_tree(units, areas, operations);
    roster.units.extend(tree);
    let mut person_no = 0usize;
    let mut person =
        |rng: &mut ChaCha20Rng, units: Vec<String>, roles: Vec<RoleAssignment>, accounts: bool| {
            person_no += 1;
            made_up_person(rng, person_no, units, roles, accounts)
        };
    // Managers: one per unit, operation (head and deputy), area; HR, SAS and MAS at the top.
    let role = |role: Role, unit: &str| RoleAssignment {
        role,
        unit: unit.to_string(),
    };
    let top = vec![
        person(
            &mut rng,
            vec!["ORG".into()],
            vec![role(Role::HrStrategist, "ORG")],
            false,
        ),
        person(
            &mut rng,
            vec!["ORG".into()],
            vec![role(Role::Sas, "ORG")],
            false,
        ),
        person(
            &mut rng,
            vec!["ORG".into()],
            vec![role(Role::Mas, "ORG")],
            false,
        ),
    ];
    roster.people.extend(top);
    for a in 0..areas {
        let unit = format!("AO{:02}", a + 1);
        let p = person(
            &mut rng,
            vec![unit.clone()],
            vec![role(Role::BusinessAreaManager, &unit)],
            false,
        );
        roster.people.push(p);
    }
    for o in 0..operations {
        let unit = format!("VH{:03}", o + 1);
        let head = person(
            &mut rng,
            vec![unit.clone()],
            vec![role(Role::OperationsManager, &unit)],
            false,
        );
        let deputy = person(
            &mut rng,
            vec![unit.clone()],
            vec![role(Role::DeputyOperationsManager, &unit)],
            false,
        );
        roster.people.push(head);
        roster.people.push(deputy);
    }
    for unit in &leaf_ids {
        let p = person(
            &mut rng,
            vec![unit.clone()],
            vec![role(Role::UnitManager, unit)],
            true,
        );
        roster.people.push(p);
    }
    let staff = users.saturating_sub(leaf_ids.len()).max(1);
    for i in 0..staff {
        let home = leaf_ids[i % leaf_ids.len()].clone();
        let mut worked = vec![home.clone()];
        if leaf_ids.len() > 1 && rng.random_bool(0.06) {
            let other = leaf_ids[rng.random_range(0..leaf_ids.len())].clone();
            if other != home {
                worked.push(other);
            }
        }
        let p = person(&mut rng, worked, vec![], true);
        roster.people.push(p);
    }
    roster
}

/// The tree of units: the organisation, `areas` business areas, `operations` operations and
/// `units` units under them; returns the units and the ids of the `units` leaves.
fn unit_tree(units: usize, areas: usize, operations: usize) -> (Vec<Unit>, Vec<String>) {
    let mut tree = Vec::new();
    tree.push(Unit {
        id: "ORG".into(),
        name: "Vård och omsorg".into(),
        parent: None,
    });
    for a in 0..areas {
        tree.push(Unit {
            id: format!("AO{:02}", a + 1),
            name: format!("Affärsområde {}", a + 1),
            parent: Some("ORG".into()),
        });
    }
    for o in 0..operations {
        tree.push(Unit {
            id: format!("VH{:03}", o + 1),
            name: format!("Verksamhet {}", o + 1),
            parent: Some(format!("AO{:02}", o % areas + 1)),
        });
    }
    let mut leaf_ids = Vec::new();
    for u in 0..units {
        let id = format!("EN{:04}", u + 1);
        let name = format!(
            "{} {}{}",
            KINDS[u % KINDS.len()],
            PLACES[(u / KINDS.len()) % PLACES.len()],
            if u >= KINDS.len() * PLACES.len() {
                format!(" {}", u / (KINDS.len() * PLACES.len()) + 1)
            } else {
                String::new()
            }
        );
        tree.push(Unit {
            id: id.clone(),
            name,
            parent: Some(format!("VH{:03}", u % operations + 1)),
        });
        leaf_ids.push(id);
    }
    (tree, leaf_ids)
}

/// Person number `person_no` of the synthetic roster, with a drawn name, working at `units`
/// with `roles`; staff (`accounts`) get accounts in Treserva, NPÖ or both.
fn made_up_person(
    rng: &mut ChaCha20Rng,
    person_no: usize,
    units: Vec<String>,
    roles: Vec<RoleAssignment>,
    accounts: bool,
) -> Person {
    let first = FIRST.choose(rng).copied().unwrap_or("Anna");
    let last = LAST.choose(rng).copied().unwrap_or("Ek");
    let id = format!("P{person_no:05}");
    let mut acc = Vec::new();
    if accounts {
        // Most staff use Treserva; a share also reads NPÖ.
        if rng.random_bool(0.92) {
            acc.push(Account {
                system: "treserva".into(),
                account: format!("tre{person_no:05}"),
            });
        }
        if rng.random_bool(0.45) {
            acc.push(Account {
                system: "npo".into(),
                account: format!("SE2321000000-{person_no:05}"),
            });
        }
    }
    Person {
        id: id.clone(),
        name: format!("{first} {last}"),
        email: format!("{}.{}.{person_no}@example.se", ascii(first), ascii(last)),
        title: None,
        units,
        roles,
        accounts: acc,
        active_from: None,
        active_to: None,
        personnummer: Some(
            crate::personnummer::made_up(
                1950 + (person_no % 50) as u32,
                1 + (person_no % 12) as u32,
                1 + (person_no % 28) as u32,
                500 + (person_no % 400) as u32,
            )
            .replace('-', ""),
        ),
    }
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'å' | 'ä' => 'a',
            'Å' | 'Ä' => 'a',
            'ö' | 'Ö' => 'o',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', ';', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `units.csv` and `people.csv` in the format of `../shared/CLI.md`.
pub fn write_csv(roster: &Roster, dir: &Path) -> std::io::Result<()> {
    let mut units = String::from("unit_id,name,parent_id\n");
    for u in &roster.units {
        let _ = writeln!(
            units,
            "{},{},{}",
            quote(&u.id),
            quote(&u.name),
            quote(u.parent.as_deref().unwrap_or(""))
        );
    }
    let mut people = String::from(
        "person_id,name,email,units,roles,accounts,active_from,active_to,personnummer\n",
    );
    for p in &roster.people {
        let roles: Vec<String> = p
            .roles
            .iter()
            .map(|r| format!("{}@{}", r.role.as_str(), r.unit))
            .collect();
        let accounts: Vec<String> = p
            .accounts
            .iter()
            .map(|a| format!("{}:{}", a.system, a.account))
            .collect();
        let _ = writeln!(
            people,
            "{},{},{},{},{},{},{},{},{}",
            quote(&p.id),
            quote(&p.name),
            quote(&p.email),
            quote(&p.units.join(";")),
            quote(&roles.join(";")),
            quote(&accounts.join(";")),
            p.active_from.map(|d| d.to_string()).unwrap_or_default(),
            p.active_to.map(|d| d.to_string()).unwrap_or_default(),
            p.personnummer.as_deref().unwrap_or("")
        );
    }
    crate::private_files::write(&dir.join("units.csv"), units.as_bytes())?;
    // People's personnummer: private.
    crate::private_files::write(&dir.join("people.csv"), people.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_roster_parses_back() {
        let roster = synthetic(300, 12, 7);
        let dir = tempfile::tempdir().unwrap();
        write_csv(&roster, dir.path()).unwrap();
        let back = crate::roster::parse_roster(
            &dir.path().join("units.csv"),
            &dir.path().join("people.csv"),
        )
        .unwrap();
        assert_eq!(back, roster);
        assert_eq!(
            roster
                .units
                .iter()
                .filter(|u| u.id.starts_with("EN"))
                .count(),
            12
        );
        assert_eq!(roster, synthetic(300, 12, 7));
    }
}
