//! A synthetic access log for the demo and tests: for every working day of a period, each staff
//! member with an account reads and writes a few client records, mostly of their own unit's
//! clients, as an export in the format of `../shared/CLI.md`. Seeded.

use crate::roster::Roster;
use chrono::{Datelike, Duration, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

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

/// A valid personal identity number of a made-up client, from a number.
pub fn client_number(n: u32) -> String {
    crate::personnummer::made_up(
        1925 + n % 70,
        1 + (n / 70) % 12,
        1 + (n / 840) % 28,
        100 + n % 800,
    )
}

/// Writes the access log of `from..=to` to `path`; returns the clients of each unit.
pub fn write(
    roster: &Roster,
    from: NaiveDate,
    to: NaiveDate,
    seed: u64,
    path: &Path,
) -> std::io::Result<BTreeMap<String, Vec<String>>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x10c5);
    let mut clients: BTreeMap<String, Vec<String>> = BTreeMap::new();
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
                client_number(next * 7 + 3)
            })
            .collect();
        clients.insert(unit.id.clone(), list);
    }
    let units: Vec<&String> = clients.keys().collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "log_id,event_time,source_system,user_id,user_name,user_title,access_unit_id,subject_id,subject_unit_id,action,resource_type,purpose"
    )?;
    let mut id = 0u64;
    let mut day = from;
    while day <= to {
        if day.weekday().number_from_monday() <= 5 {
            for person in &roster.people {
                let Some(home) = person.units.first() else {
                    continue;
                };
                let Some(own) = clients.get(home) else {
                    continue;
                };
                let n: usize = person.id.bytes().map(usize::from).sum();
                let title = TITLES[n % TITLES.len()];
                for account in &person.accounts {
                    for _ in 0..rng.random_range(1..=3) {
                        id += 1;
                        // Nine in ten reads are of the unit's own clients.
                        let (unit, client) = if rng.random_bool(0.9) || units.is_empty() {
                            (home.as_str(), &own[rng.random_range(0..own.len())])
                        } else {
                            let u = units[rng.random_range(0..units.len())];
                            let list = &clients[u];
                            (u.as_str(), &list[rng.random_range(0..list.len())])
                        };
                        let at = day.and_hms_opt(7, 0, 0).unwrap_or_default()
                            + Duration::minutes(rng.random_range(0..(11 * 60)));
                        writeln!(
                            out,
                            "{}-{id},{},{},{},{},{title},{home},{client},{unit},{},Journal,Vård och omsorg",
                            account.system,
                            at.format("%Y-%m-%d %H:%M:%S"),
                            account.system,
                            account.account,
                            person.name,
                            ACTIONS[rng.random_range(0..ACTIONS.len())],
                        )?;
                    }
                }
            }
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out.flush()?;
    Ok(clients)
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
}
