//! Whom an access concerns: the user behind an account (also someone who has left the roster),
//! the people of the roster whose personnummer is the client's — matched only as keyed hashes,
//! the numbers are never kept in clear — and whether the client is on the watch list. Answers
//! are cached for the length of one evidence or radar.

use super::assess::{ClientInfo, Subject};
use crate::Result;
use crate::personnummer::KeyedHash;
use crate::store::evidence::{self as db, Staff};
use crate::store::logindex;
use chrono::NaiveDate;
use rusqlite::Connection;
use std::collections::HashMap;

pub struct Directory<'c> {
    conn: &'c Connection,
    hasher: KeyedHash,
    /// Every personnummer hash of the roster, when loaded whole (the radar).
    by_hash: Option<HashMap<String, Vec<(String, String)>>>,
    watch: HashMap<u64, String>,
    clients: HashMap<u64, ClientInfo>,
    staff: HashMap<String, Option<Staff>>,
    owners: Option<HashMap<(String, String), String>>,
}

impl<'c> Directory<'c> {
    /// A directory on `conn`, with the watch list as it stands on `day`.
    pub fn new(conn: &'c Connection, day: NaiveDate) -> Result<Directory<'c>> {
        let key = db::person_key(conn)?;
        let watch = db::watched(conn, day)?
            .into_iter()
            .map(|(client, reason)| (logindex::client_number(&client), reason))
            .collect();
        Ok(Directory {
            conn,
            hasher: KeyedHash::new(key.as_bytes()),
            by_hash: None,
            watch,
            clients: HashMap::new(),
            staff: HashMap::new(),
            owners: None,
        })
    }

    /// Loads every personnummer hash and account of the roster at once, for many lookups.
    pub fn preload(&mut self) -> Result<()> {
        let mut by_hash: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (hash, id, name) in db::personnummer_hashes(self.conn)? {
            by_hash.entry(hash).or_default().push((id, name));
        }
        self.by_hash = Some(by_hash);
        self.owners = Some(
            db::account_owners(self.conn)?
                .into_iter()
                .map(|(s, a, p)| ((s, a), p))
                .collect(),
        );
        for staff in db::all_staff(self.conn)? {
            self.staff.insert(staff.id.clone(), Some(staff));
        }
        Ok(())
    }

    /// What the rules know of `client` (its 12 digits as a number).
    pub fn client(&mut self, client: u64) -> Result<&ClientInfo> {
        if !self.clients.contains_key(&client) {
            let digits = logindex::client_digits(client);
            let hash = self.hasher.hash(digits.as_bytes());
            let people = match &self.by_hash {
                Some(map) => map.get(&hash).cloned().unwrap_or_default(),
                None => db::people_by_personnummer(self.conn, &hash)?,
            };
            let info = ClientInfo {
                hash,
                people,
                watched: self.watch.get(&client).cloned(),
            };
            self.clients.insert(client, info);
        }
        Ok(&self.clients[&client])
    }

    /// The client infos asked for so far.
    pub fn clients(&self) -> &HashMap<u64, ClientInfo> {
        &self.clients
    }

    pub fn staff(&mut self, id: &str) -> Result<Option<&Staff>> {
        if !self.staff.contains_key(id) {
            let s = db::staff(self.conn, id)?;
            self.staff.insert(id.to_string(), s);
        }
        Ok(self.staff.get(id).and_then(Option::as_ref))
    }

    /// Who holds account `account` of `system` now.
    pub fn owner(&mut self, system: &str, account: &str) -> Result<Option<String>> {
        match &self.owners {
            Some(map) => Ok(map.get(&(system.to_string(), account.to_string())).cloned()),
            None => db::account_owner(self.conn, system, account),
        }
    }

    /// The subject of the rules for person `id` (`None`: an account of nobody).
    pub fn subject(&mut self, id: Option<&str>) -> Result<Subject> {
        let Some(id) = id else {
            return Ok(Subject::default());
        };
        let Some(staff) = self.staff(id)? else {
            return Ok(Subject::default());
        };
        // Left the roster without a last day: the day before the import that left them out.
        let ended = staff
            .active_to
            .or_else(|| staff.removed_on.and_then(|d| d.pred_opt()));
        Ok(Subject {
            person_id: Some(id.to_string()),
            surnames: crate::names::surnames(&staff.name),
            ended,
            personnummer_hash: staff.personnummer_hash.clone(),
        })
    }
}
