//! The index of the access log. Rows are appended as they are imported and the table has no
//! secondary index (an index written row by row would halve the import); instead, an import cuts
//! its rows into chunks of consecutive ids ([`CHUNK_ROWS`]) and writes, per chunk, system and
//! account, one *digest*: every access of that account in the chunk, encoded compactly with what
//! the review's rules need (row id, time, client, the client's and the accessing unit, action,
//! the client's surnames, a hash of `log_id`). The evidence of a case reads the digests of one
//! account in the few chunks whose time span meets its window, then only those rows; the radar
//! decodes the digests of a period without reading a row.
//!
//! A digest is `strings entries`: `varint(n) (varint(len) bytes)*` — the units and surnames it
//! names — then `varint(n)` entries of `varint(row − previous row)`, `zigzag(at − previous at)`,
//! `varint(client)`, `varint(client unit + 1)`, `varint(access unit + 1)`, `action (1 byte)`,
//! `varint(surnames + 1)`, `log key (4 bytes, little-endian)`; 0 stands for "none".

use crate::{Error, Result};
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Rows per chunk: a chunk's digests are built in memory (about 25 bytes a row).
pub const CHUNK_ROWS: usize = 65_536;

/// One access as a digest keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub row: i64,
    /// Unix seconds.
    pub at: i64,
    /// The client's 12 digits as a number.
    pub client: u64,
    /// Indexes into the digest's strings.
    pub client_unit: Option<u32>,
    pub access_unit: Option<u32>,
    /// Index into `records::logs::ACTIONS`.
    pub action: u8,
    pub surnames: Option<u32>,
    /// A hash of `log_id`: the same access in two overlapping exports has the same key.
    pub log_key: u32,
}

/// The accesses of one account in one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub chunk: i64,
    pub system: String,
    pub account: String,
    pub strings: Vec<String>,
    pub entries: Vec<Entry>,
}

impl Digest {
    pub fn string(&self, ix: Option<u32>) -> &str {
        ix.and_then(|i| self.strings.get(i as usize))
            .map_or("", String::as_str)
    }
}

/// What the import gives for one row.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub row: i64,
    pub at: i64,
    pub system: &'a str,
    pub account: &'a str,
    pub client: u64,
    pub client_unit: &'a str,
    pub access_unit: &'a str,
    pub action: u8,
    /// The client's surnames, normalised (`evidence::names`), empty when the log has no name.
    pub surnames: &'a str,
    pub log_id: &'a str,
}

/// The key of a `log_id` (FNV-1a, 32 bits).
pub fn log_key(log_id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in log_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The client's 12 digits as a number (0 for anything else, which the import never stores).
pub fn client_number(digits: &str) -> u64 {
    if digits.len() != 12 {
        return 0;
    }
    digits
        .bytes()
        .try_fold(0u64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
        })
        .unwrap_or(0)
}

/// The 12 digits of a client number.
pub fn client_digits(client: u64) -> String {
    format!("{client:012}")
}

/// Small string table of one digest.
#[derive(Debug, Default)]
struct Strings {
    list: Vec<String>,
    /// Used once the list is long (a hostile file with many units per account).
    map: HashMap<String, u32>,
}

impl Strings {
    fn index(&mut self, s: &str) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if self.list.len() < 32 {
            if let Some(i) = self.list.iter().position(|x| x == s) {
                return i as u64 + 1;
            }
        } else if let Some(i) = self.map.get(s) {
            return u64::from(*i) + 1;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_string());
        if self.list.len() == 32 {
            for (k, v) in self.list.iter().enumerate() {
                self.map.insert(v.clone(), k as u32);
            }
        } else if self.list.len() > 32 {
            self.map.insert(s.to_string(), i);
        }
        u64::from(i) + 1
    }
}

#[derive(Debug, Default)]
struct DigestBuilder {
    strings: Strings,
    entries: Vec<u8>,
    count: u64,
    last_row: i64,
    last_at: i64,
    oldest: i64,
    newest: i64,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Builds the digests of an import's chunks as rows arrive, and writes each chunk when full.
#[derive(Debug)]
pub struct ChunkBuilder {
    import_id: i64,
    first_row: Option<i64>,
    last_row: i64,
    rows: usize,
    oldest: i64,
    newest: i64,
    /// system → account → builder.
    digests: HashMap<String, HashMap<String, DigestBuilder>>,
}

impl ChunkBuilder {
    pub fn new(import_id: i64) -> ChunkBuilder {
        ChunkBuilder {
            import_id,
            first_row: None,
            last_row: 0,
            rows: 0,
            oldest: i64::MAX,
            newest: i64::MIN,
            digests: HashMap::new(),
        }
    }

    /// Adds one stored row; writes the chunk when it is full.
    pub fn push(&mut self, conn: &Connection, a: &Access) -> Result<()> {
        let first = *self.first_row.get_or_insert(a.row);
        self.last_row = a.row;
        self.rows += 1;
        self.oldest = self.oldest.min(a.at);
        self.newest = self.newest.max(a.at);
        let by_account = match self.digests.get_mut(a.system) {
            Some(m) => m,
            None => self.digests.entry(a.system.to_string()).or_default(),
        };
        let d = match by_account.get_mut(a.account) {
            Some(d) => d,
            None => by_account
                .entry(a.account.to_string())
                .or_insert_with(|| DigestBuilder {
                    last_row: first,
                    oldest: i64::MAX,
                    newest: i64::MIN,
                    ..DigestBuilder::default()
                }),
        };
        let client_unit = d.strings.index(a.client_unit);
        let access_unit = d.strings.index(a.access_unit);
        let surnames = d.strings.index(a.surnames);
        let out = &mut d.entries;
        put_varint(out, (a.row - d.last_row).max(0) as u64);
        put_varint(out, zigzag(a.at - d.last_at));
        put_varint(out, a.client);
        put_varint(out, client_unit);
        put_varint(out, access_unit);
        out.push(a.action);
        put_varint(out, surnames);
        out.extend_from_slice(&log_key(a.log_id).to_le_bytes());
        d.count += 1;
        d.last_row = a.row;
        d.last_at = a.at;
        d.oldest = d.oldest.min(a.at);
        d.newest = d.newest.max(a.at);
        if self.rows >= CHUNK_ROWS {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Writes the chunk being built (nothing when it is empty).
    pub fn flush(&mut self, conn: &Connection) -> Result<()> {
        let Some(first) = self.first_row.take() else {
            return Ok(());
        };
        conn.prepare_cached(
            "INSERT INTO log_chunks (first_row, last_row, import_id, rows, oldest, newest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            first,
            self.last_row,
            self.import_id,
            self.rows as i64,
            self.oldest,
            self.newest
        ])?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO log_digests (chunk, system, account, rows, oldest, newest, digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut blob = Vec::new();
        for (system, accounts) in self.digests.drain() {
            for (account, d) in accounts {
                blob.clear();
                encode_into(&mut blob, &d.strings.list, d.count, &d.entries);
                insert.execute(params![
                    first,
                    system,
                    account,
                    d.count as i64,
                    d.oldest,
                    d.newest,
                    blob
                ])?;
            }
        }
        self.rows = 0;
        self.oldest = i64::MAX;
        self.newest = i64::MIN;
        Ok(())
    }
}

fn encode_into(out: &mut Vec<u8>, strings: &[String], count: u64, entries: &[u8]) {
    put_varint(out, strings.len() as u64);
    for s in strings {
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    put_varint(out, count);
    out.extend_from_slice(entries);
}

/// Encodes a digest (the purge rewrites one whose oldest entries went).
pub fn encode(d: &Digest) -> Vec<u8> {
    let mut entries = Vec::with_capacity(d.entries.len() * 20);
    let (mut last_row, mut last_at) = (d.chunk, 0i64);
    for e in &d.entries {
        put_varint(&mut entries, (e.row - last_row).max(0) as u64);
        put_varint(&mut entries, zigzag(e.at - last_at));
        put_varint(&mut entries, e.client);
        put_varint(&mut entries, e.client_unit.map_or(0, |i| u64::from(i) + 1));
        put_varint(&mut entries, e.access_unit.map_or(0, |i| u64::from(i) + 1));
        entries.push(e.action);
        put_varint(&mut entries, e.surnames.map_or(0, |i| u64::from(i) + 1));
        entries.extend_from_slice(&e.log_key.to_le_bytes());
        last_row = e.row;
        last_at = e.at;
    }
    let mut out = Vec::with_capacity(entries.len() + 64);
    encode_into(&mut out, &d.strings, d.entries.len() as u64, &entries);
    out
}

/// Reads a digest; a damaged one is a runtime error, never a panic.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    fn bad() -> Error {
        Error::runtime(
            "the access-log index holds a damaged digest; rebuild it with `loggkoll logs reindex`",
        )
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).ok_or_else(Reader::bad)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Reader::bad())
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).ok_or_else(Reader::bad)?;
        let s = self.bytes.get(self.at..end).ok_or_else(Reader::bad)?;
        self.at = end;
        Ok(s)
    }

    fn index(&mut self, strings: usize) -> Result<Option<u32>> {
        match self.varint()? {
            0 => Ok(None),
            i if (i as usize) <= strings => Ok(Some((i - 1) as u32)),
            _ => Err(Reader::bad()),
        }
    }
}

/// Decodes a digest of `chunk`.
pub fn decode(chunk: i64, system: String, account: String, bytes: &[u8]) -> Result<Digest> {
    let mut r = Reader { bytes, at: 0 };
    let n = r.varint()? as usize;
    if n > bytes.len() {
        return Err(Reader::bad());
    }
    let mut strings = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.varint()? as usize;
        let s = r.take(len)?;
        strings.push(String::from_utf8(s.to_vec()).map_err(|_| Reader::bad())?);
    }
    let count = r.varint()? as usize;
    if count > bytes.len() {
        return Err(Reader::bad());
    }
    let mut entries = Vec::with_capacity(count);
    let (mut row, mut at) = (chunk, 0i64);
    for _ in 0..count {
        row = row
            .checked_add(r.varint()? as i64)
            .ok_or_else(Reader::bad)?;
        at = at.wrapping_add(unzigzag(r.varint()?));
        let client = r.varint()?;
        let client_unit = r.index(n)?;
        let access_unit = r.index(n)?;
        let action = r.byte()?;
        let surnames = r.index(n)?;
        let key = r.take(4)?;
        let log_key = u32::from_le_bytes([key[0], key[1], key[2], key[3]]);
        entries.push(Entry {
            row,
            at,
            client,
            client_unit,
            access_unit,
            action,
            surnames,
            log_key,
        });
    }
    Ok(Digest {
        chunk,
        system,
        account,
        strings,
        entries,
    })
}

/// The digests of `account` in `system` with an access at `[from, to)` (Unix seconds). Only the
/// chunks whose span meets the period are looked at, each by its key.
pub fn digests_of(
    conn: &Connection,
    system: &str,
    account: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Digest>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.chunk, d.digest FROM log_chunks c
         JOIN log_digests d ON d.chunk = c.first_row AND d.system = ?1 AND d.account = ?2
         WHERE c.oldest < ?4 AND c.newest >= ?3 AND d.oldest < ?4 AND d.newest >= ?3
         ORDER BY c.first_row",
    )?;
    let mut rows = stmt.query(params![system, account, from, to])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let chunk: i64 = r.get(0)?;
        let blob = r.get_ref(1)?.as_blob().map_err(|_| Reader::bad())?;
        out.push(decode(
            chunk,
            system.to_string(),
            account.to_string(),
            blob,
        )?);
    }
    Ok(out)
}

/// Calls `each` with every digest (of `system`, or all) with an access at `[from, to)`, chunk by
/// chunk.
pub fn for_each_digest(
    conn: &Connection,
    system: Option<&str>,
    from: i64,
    to: i64,
    mut each: impl FnMut(Digest) -> Result<()>,
) -> Result<()> {
    let chunks: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT first_row FROM log_chunks WHERE oldest < ?2 AND newest >= ?1 ORDER BY first_row",
        )?;
        let rows = stmt.query_map(params![from, to], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut stmt = conn.prepare_cached(
        "SELECT system, account, digest FROM log_digests
         WHERE chunk = ?1 AND oldest < ?3 AND newest >= ?2",
    )?;
    for chunk in chunks {
        let mut rows = stmt.query(params![chunk, from, to])?;
        while let Some(r) = rows.next()? {
            let s = r.get_ref(0)?.as_str().map_err(|_| Reader::bad())?;
            if system.is_some_and(|want| want != s) {
                continue;
            }
            let account: String = r.get(1)?;
            let blob = r.get_ref(2)?.as_blob().map_err(|_| Reader::bad())?;
            each(decode(chunk, s.to_string(), account, blob)?)?;
        }
    }
    Ok(())
}

/// Whether any chunk of the log has an access at `[from, to)`.
pub fn any_between(conn: &Connection, from: i64, to: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM log_chunks WHERE oldest < ?2 AND newest >= ?1)",
        )?
        .query_row(params![from, to], |r| r.get(0))?)
}

/// The highest row id of the log (0 when empty): what a round's windows were drawn from.
pub fn horizon(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(last_row), 0) FROM log_chunks")?
        .query_row([], |r| r.get(0))?)
}

/// Removes from the index of import `import_id` and `system` every access before `cutoff`:
/// digests wholly before it go, digests that straddle it are rewritten, chunks left without
/// digests go.
pub fn purge(conn: &Connection, import_id: i64, system: &str, cutoff: i64) -> Result<()> {
    let chunks: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT first_row FROM log_chunks WHERE import_id = ?1 AND oldest < ?2",
        )?;
        let rows = stmt.query_map(params![import_id, cutoff], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for chunk in chunks {
        conn.prepare_cached(
            "DELETE FROM log_digests WHERE chunk = ?1 AND system = ?2 AND newest < ?3",
        )?
        .execute(params![chunk, system, cutoff])?;
        let straddling: Vec<(String, Vec<u8>)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT account, digest FROM log_digests WHERE chunk = ?1 AND system = ?2 AND oldest < ?3",
            )?;
            let rows = stmt.query_map(params![chunk, system, cutoff], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (account, blob) in straddling {
            let mut d = decode(chunk, system.to_string(), account.clone(), &blob)?;
            d.entries.retain(|e| e.at >= cutoff);
            let oldest = d.entries.iter().map(|e| e.at).min().unwrap_or(cutoff);
            let newest = d.entries.iter().map(|e| e.at).max().unwrap_or(cutoff);
            conn.prepare_cached(
                "UPDATE log_digests SET digest = ?4, rows = ?5, oldest = ?6, newest = ?7
                 WHERE chunk = ?1 AND system = ?2 AND account = ?3",
            )?
            .execute(params![
                chunk,
                system,
                account,
                encode(&d),
                d.entries.len() as i64,
                oldest,
                newest
            ])?;
        }
        let left: (i64, Option<i64>, Option<i64>) = conn
            .prepare_cached(
                "SELECT COUNT(*), MIN(oldest), MAX(newest) FROM log_digests WHERE chunk = ?1",
            )?
            .query_row([chunk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        match left {
            (n, Some(oldest), Some(newest)) if n > 0 => {
                conn.prepare_cached(
                    "UPDATE log_chunks SET oldest = ?2, newest = ?3 WHERE first_row = ?1",
                )?
                .execute(params![chunk, oldest, newest])?;
            }
            _ => {
                conn.prepare_cached("DELETE FROM log_chunks WHERE first_row = ?1")?
                    .execute([chunk])?;
            }
        }
    }
    Ok(())
}

/// Rebuilds the index from the rows (after an upgrade from a database without one, or on
/// request): every chunk and digest is written anew.
pub fn rebuild(conn: &Connection, surnames: impl Fn(&str) -> String) -> Result<u64> {
    conn.execute_batch("DELETE FROM log_digests; DELETE FROM log_chunks;")?;
    let mut stmt = conn.prepare(
        "SELECT id, import_id, system, log_id, at, user_id, subject_id, subject_unit,
                access_unit, action, subject_name
         FROM access_log ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut builder: Option<ChunkBuilder> = None;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let import_id: i64 = r.get(1)?;
        if builder.as_ref().is_none_or(|b| b.import_id != import_id) {
            if let Some(mut b) = builder.take() {
                b.flush(conn)?;
            }
            builder = Some(ChunkBuilder::new(import_id));
        }
        let (system, log_id, account): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(5)?);
        let (subject, client_unit, access_unit): (String, String, String) =
            (r.get(6)?, r.get(7)?, r.get(8)?);
        let (action, name): (String, String) = (r.get(9)?, r.get(10)?);
        let surnames = surnames(&name);
        let a = Access {
            row: r.get(0)?,
            at: r.get(4)?,
            system: &system,
            account: &account,
            client: client_number(&subject),
            client_unit: &client_unit,
            access_unit: &access_unit,
            action: crate::records::logs::action_code(&action),
            surnames: &surnames,
            log_id: &log_id,
        };
        if let Some(b) = builder.as_mut() {
            b.push(conn, &a)?;
        }
        n += 1;
    }
    if let Some(mut b) = builder {
        b.flush(conn)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip() {
        let d = Digest {
            chunk: 100,
            system: "treserva".into(),
            account: "a1".into(),
            strings: vec!["EN1".into(), "andersson".into()],
            entries: vec![
                Entry {
                    row: 100,
                    at: 1_800_000_000,
                    client: 191_212_121_212,
                    client_unit: Some(0),
                    access_unit: Some(0),
                    action: 0,
                    surnames: Some(1),
                    log_key: log_key("L1"),
                },
                Entry {
                    row: 140,
                    at: 1_799_999_000,
                    client: 191_212_721_219,
                    client_unit: None,
                    access_unit: Some(0),
                    action: 10,
                    surnames: None,
                    log_key: 7,
                },
            ],
        };
        let bytes = encode(&d);
        let back = decode(100, "treserva".into(), "a1".into(), &bytes).unwrap();
        assert_eq!(back, d);
        // Every truncation is an error, never a panic.
        for cut in 0..bytes.len() {
            assert!(decode(100, "t".into(), "a".into(), &bytes[..cut]).is_err());
        }
    }

    #[test]
    fn client_numbers() {
        assert_eq!(client_number("191212121212"), 191_212_121_212);
        assert_eq!(client_digits(191_212_121_212), "191212121212");
        assert_eq!(client_number("19121212121"), 0);
        assert_eq!(client_number("19121212121x"), 0);
        assert_eq!(client_digits(1), "000000000001");
    }
}
