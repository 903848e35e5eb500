//! The index of the access log. Rows are appended as they are imported and the table has no
//! secondary index (an index written row by row would halve the import); instead, an import cuts
//! its rows into chunks of consecutive ids ([`CHUNK_ROWS`]) and writes, per chunk, system and
//! account, one *digest*: every access of that account in the chunk, encoded compactly with what
//! the review's rules need (row id, time, client, the client's and the accessing unit, action,
//! the client's surnames, a hash of `log_id`). The evidence of a case reads the digests of one
//! account in the few chunks whose time span meets its window, then only those rows; the radar
//! decodes the digests of a period without reading a row.
//!
//! A digest is `varint(n)` entries of `varint(row − previous row)`, `zigzag(at − previous at)`,
//! `varint(client)`, `varint(client unit)`, `varint(access unit)`, `action (1 byte)`,
//! `varint(surname key)` twice, `log key (4 bytes, little-endian)`. Units are ids of
//! `log_strings`, surnames the keys of `names::surname_keys` (the name itself stays in the row
//! and goes with it); 0 stands for "none".

use super::db::{Db, params};
use crate::{Error, Result};
use std::collections::HashMap;

/// Rows per chunk: a chunk's digests are built in memory (about 25 bytes a row, 7 MB).
pub(crate) const CHUNK_ROWS: usize = 262_144;

/// One access as a digest keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub row: i64,
    /// Unix seconds.
    pub at: i64,
    /// The client's 12 digits as a number.
    pub client: u64,
    /// Ids of `log_strings` (0: none).
    pub client_unit: u32,
    pub access_unit: u32,
    /// Index into `records::logs::ACTIONS`.
    pub action: u8,
    /// The keys of the client's first two surnames (0: none).
    pub surnames: [u32; 2],
    /// A hash of `log_id`: the same access in two overlapping exports has the same key.
    pub log_key: u32,
}

/// The accesses of one account in one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest {
    pub chunk: i64,
    pub system: String,
    pub account: String,
    pub entries: Vec<Entry>,
}

/// What the import gives for one row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access<'a> {
    pub row: i64,
    pub at: i64,
    pub system: &'a str,
    pub account: &'a str,
    /// The account's id in `log_strings` (one text, one id): what the builder keys on.
    pub account_id: i64,
    pub client: u64,
    /// Ids of `log_strings` (0: none): the client's unit and the unit accessed from.
    pub client_unit: u32,
    pub access_unit: u32,
    pub action: u8,
    /// `names::surname_keys` of the client's name.
    pub surnames: [u32; 2],
    pub log_id: &'a str,
}

/// The key of a `log_id` (FNV-1a, 32 bits).
pub(crate) fn log_key(log_id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in log_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The client's 12 digits as a number (0 for anything else, which the import never stores).
pub(crate) fn client_number(digits: &str) -> u64 {
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
#[cfg(test)]
pub(crate) fn client_digits(client: u64) -> String {
    format!("{client:012}")
}

/// [`client_digits`] without an allocation: `f` is handed the same digits.
pub(crate) fn with_client_digits<R>(client: u64, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buf = [b'0'; 20];
    let (mut n, mut at) = (client, buf.len());
    while n > 0 {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    f(&buf[at.min(buf.len() - 12)..])
}

#[derive(Debug, Default)]
struct DigestBuilder {
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

/// The digests being built of one system: the account's id → the account and its builder.
type Accounts = HashMap<i64, (String, DigestBuilder)>;

/// The ids `[lo, hi)` of chunk `chunk`'s digests: its first row shifted past the most digests
/// a chunk can hold (one per account, at most [`CHUNK_ROWS`] < 2^20). `None` for a row id too
/// large to shift (past 2^42: never, in practice).
pub(crate) fn digest_ids(chunk: i64) -> Option<(i64, i64)> {
    const SPAN: i64 = 1 << 20;
    Some((
        chunk.checked_mul(SPAN)?,
        chunk.checked_add(1)?.checked_mul(SPAN)?,
    ))
}

/// Builds the digests of an import's chunks as rows arrive, and writes each chunk when full.
#[derive(Debug)]
pub(crate) struct ChunkBuilder {
    import_id: i64,
    first_row: Option<i64>,
    last_row: i64,
    rows: usize,
    oldest: i64,
    newest: i64,
    /// Per system (a handful): the account's id → the account and its builder.
    digests: Vec<(String, Accounts)>,
}

impl ChunkBuilder {
    pub(crate) fn new(import_id: i64) -> ChunkBuilder {
        ChunkBuilder {
            import_id,
            first_row: None,
            last_row: 0,
            rows: 0,
            oldest: i64::MAX,
            newest: i64::MIN,
            digests: Vec::new(),
        }
    }

    /// Adds one stored row; writes the chunk when it is full.
    pub(crate) fn push(&mut self, conn: &Db, a: &Access) -> Result<()> {
        let first = *self.first_row.get_or_insert(a.row);
        self.last_row = a.row;
        self.rows += 1;
        self.oldest = self.oldest.min(a.at);
        self.newest = self.newest.max(a.at);
        let at = match self.digests.iter().position(|(s, _)| s == a.system) {
            Some(i) => i,
            None => {
                self.digests.push((a.system.to_string(), HashMap::new()));
                self.digests.len() - 1
            }
        };
        let by_account = &mut self.digests[at].1;
        let (_, d) = by_account.entry(a.account_id).or_insert_with(|| {
            (
                a.account.to_string(),
                DigestBuilder {
                    last_row: first,
                    oldest: i64::MAX,
                    newest: i64::MIN,
                    ..DigestBuilder::default()
                },
            )
        });
        let out = &mut d.entries;
        put_varint(out, (a.row - d.last_row).max(0) as u64);
        put_varint(out, zigzag(a.at - d.last_at));
        put_varint(out, a.client);
        put_varint(out, u64::from(a.client_unit));
        put_varint(out, u64::from(a.access_unit));
        out.push(a.action);
        put_varint(out, u64::from(a.surnames[0]));
        put_varint(out, u64::from(a.surnames[1]));
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
    pub(crate) fn flush(&mut self, conn: &Db) -> Result<()> {
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
            "INSERT INTO log_digests (id, chunk, system, account, rows, oldest, newest, digest)
             VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut blob = Vec::new();
        // In key order, so that the digests are appended to the table's B-tree.
        let mut all: Vec<(String, String, DigestBuilder)> = self
            .digests
            .drain(..)
            .flat_map(|(system, accounts)| {
                accounts
                    .into_values()
                    .map(move |(account, d)| (system.clone(), account, d))
            })
            .collect();
        all.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        {
            let base = digest_ids(first).map_or(0, |(lo, _)| lo);
            for (i, (system, account, d)) in all.into_iter().enumerate() {
                blob.clear();
                encode_into(&mut blob, d.count, &d.entries);
                insert.execute(params![
                    first,
                    system,
                    account,
                    d.count as i64,
                    d.oldest,
                    d.newest,
                    blob,
                    base + i as i64
                ])?;
            }
        }
        self.rows = 0;
        self.oldest = i64::MAX;
        self.newest = i64::MIN;
        Ok(())
    }
}

fn encode_into(out: &mut Vec<u8>, count: u64, entries: &[u8]) {
    put_varint(out, count);
    out.extend_from_slice(entries);
}

/// Encodes a digest (the purge rewrites one whose oldest entries went).
pub(crate) fn encode(d: &Digest) -> Vec<u8> {
    let mut entries = Vec::with_capacity(d.entries.len() * 20);
    let (mut last_row, mut last_at) = (d.chunk, 0i64);
    for e in &d.entries {
        put_varint(&mut entries, (e.row - last_row).max(0) as u64);
        put_varint(&mut entries, zigzag(e.at - last_at));
        put_varint(&mut entries, e.client);
        put_varint(&mut entries, u64::from(e.client_unit));
        put_varint(&mut entries, u64::from(e.access_unit));
        entries.push(e.action);
        put_varint(&mut entries, u64::from(e.surnames[0]));
        put_varint(&mut entries, u64::from(e.surnames[1]));
        entries.extend_from_slice(&e.log_key.to_le_bytes());
        last_row = e.row;
        last_at = e.at;
    }
    let mut out = Vec::with_capacity(entries.len() + 10);
    encode_into(&mut out, d.entries.len() as u64, &entries);
    out
}

/// A damaged digest: a runtime error, never a panic.
struct Reader;

impl Reader {
    fn bad() -> Error {
        Error::runtime(
            "the access-log index holds a damaged digest; rebuild it with `loggkoll logs reindex`",
        )
    }
}

/// Decodes a digest of `chunk`.
pub(crate) fn decode(chunk: i64, system: String, account: String, bytes: &[u8]) -> Result<Digest> {
    let mut entries = Vec::new();
    decode_each(chunk, bytes, |e| entries.push(e))?;
    Ok(Digest {
        chunk,
        system,
        account,
        entries,
    })
}

/// How many entries a digest holds (0 for a damaged one).
pub(crate) fn entry_count(bytes: &[u8]) -> usize {
    let mut v = 0usize;
    for (i, b) in bytes.iter().take(10).enumerate() {
        v |= usize::from(b & 0x7f) << (7 * i);
        if *b < 0x80 {
            return v.min(bytes.len());
        }
    }
    0
}

/// Calls `each` with every entry of the digest `bytes` of `chunk`, in order.
pub(crate) fn decode_each(chunk: i64, bytes: &[u8], mut each: impl FnMut(Entry)) -> Result<()> {
    // A plain cursor: `None` at the first byte missing (a damaged digest).
    fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let byte = *b.get(*at)?;
            *at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
            shift += 7;
            if shift >= 64 {
                return None;
            }
        }
    }
    fn entry(b: &[u8], at: &mut usize, row: &mut i64, time: &mut i64) -> Option<Entry> {
        *row = row.checked_add(i64::try_from(varint(b, at)?).ok()?)?;
        *time = time.wrapping_add(unzigzag(varint(b, at)?));
        let client = varint(b, at)?;
        let client_unit = u32::try_from(varint(b, at)?).ok()?;
        let access_unit = u32::try_from(varint(b, at)?).ok()?;
        let action = *b.get(*at)?;
        *at += 1;
        let surnames = [
            u32::try_from(varint(b, at)?).ok()?,
            u32::try_from(varint(b, at)?).ok()?,
        ];
        let key = b.get(*at..*at + 4)?;
        *at += 4;
        Some(Entry {
            row: *row,
            at: *time,
            client,
            client_unit,
            access_unit,
            action,
            surnames,
            log_key: u32::from_le_bytes([key[0], key[1], key[2], key[3]]),
        })
    }
    let mut at = 0usize;
    let count = varint(bytes, &mut at).ok_or_else(Reader::bad)? as usize;
    if count > bytes.len() {
        return Err(Reader::bad());
    }
    let (mut row, mut time) = (chunk, 0i64);
    for _ in 0..count {
        each(entry(bytes, &mut at, &mut row, &mut time).ok_or_else(Reader::bad)?);
    }
    Ok(())
}

/// The digests of `account` in `system` with an access at `[from, to)` (Unix seconds), in chunk
/// order: the account's digests found by its index, in one query (a query a chunk would be a
/// round trip a chunk on PostgreSQL, and a case looks 60 days back), those whose span meets the
/// period read.
pub(crate) fn digests_of(
    conn: &Db,
    system: &str,
    account: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Digest>> {
    let mut stmt = conn.prepare_cached(
        "SELECT chunk, digest FROM log_digests
         WHERE system = ?1 AND account = ?2 AND newest >= ?3 AND oldest < ?4",
    )?;
    let mut rows = stmt.query(params![system, account, from, to])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let chunk: i64 = r.get(0)?;
        let blob = r.get_ref(1)?.as_blob().ok_or_else(Reader::bad)?;
        out.push(decode(
            chunk,
            system.to_string(),
            account.to_string(),
            blob,
        )?);
    }
    out.sort_unstable_by_key(|d| d.chunk);
    Ok(out)
}

/// A digest as stored, before decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawDigest<'a> {
    pub chunk: i64,
    pub account: &'a str,
    pub bytes: &'a [u8],
}

/// Calls `each` with every digest (of `system`, or all) with an access at `[from, to)`, chunk by
/// chunk, undecoded.
pub(crate) fn for_each_digest(
    conn: &Db,
    system: Option<&str>,
    from: i64,
    to: i64,
    mut each: impl FnMut(RawDigest) -> Result<()>,
) -> Result<()> {
    let chunks: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT first_row FROM log_chunks WHERE oldest < ?2 AND newest >= ?1 ORDER BY first_row",
        )?;
        let rows = stmt.query_map(params![from, to], |r| r.get(0))?;
        rows.collect::<Result<_>>()?
    };
    // A chunk's digests are the ids `digest_ids(chunk)`, in the table's own order: read as a
    // range of row ids, not through the key's index.
    let mut stmt = conn.prepare_cached(
        "SELECT system, account, digest FROM log_digests
         WHERE id >= ?1 AND id < ?4 AND oldest < ?3 AND newest >= ?2",
    )?;
    for chunk in chunks {
        let (lo, hi) = digest_ids(chunk).ok_or_else(Reader::bad)?;
        let mut rows = stmt.query(params![lo, from, to, hi])?;
        while let Some(r) = rows.next()? {
            let s = r.get_ref(0)?.as_str().ok_or_else(Reader::bad)?;
            if system.is_some_and(|want| want != s) {
                continue;
            }
            let account = r.get_ref(1)?.as_str().ok_or_else(Reader::bad)?;
            let bytes = r.get_ref(2)?.as_blob().ok_or_else(Reader::bad)?;
            each(RawDigest {
                chunk,
                account,
                bytes,
            })?;
        }
    }
    Ok(())
}

/// Whether any chunk of the log has an access at `[from, to)`.
pub(crate) fn any_between(conn: &Db, from: i64, to: i64) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM log_chunks WHERE oldest < ?2 AND newest >= ?1)",
    )?
    .query_row(params![from, to], |r| r.get(0))
}

/// The highest row id of the log (0 when empty): what a round's windows were drawn from.
pub(crate) fn horizon(conn: &Db) -> Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(last_row), 0) FROM log_chunks")?
        .query_row((), |r| r.get(0))
}

/// Removes from the index of import `import_id` and `system` every access before `cutoff`:
/// digests wholly before it go, digests that straddle it are rewritten, chunks left without
/// digests go.
pub(crate) fn purge(conn: &Db, import_id: i64, system: &str, cutoff: i64) -> Result<()> {
    let chunks: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT first_row FROM log_chunks WHERE import_id = ?1 AND oldest < ?2",
        )?;
        let rows = stmt.query_map(params![import_id, cutoff], |r| r.get(0))?;
        rows.collect::<Result<_>>()?
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
            rows.collect::<Result<_>>()?
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
pub(crate) fn rebuild(conn: &Db, surnames: impl Fn(&str) -> [u32; 2]) -> Result<u64> {
    conn.execute_batch("DELETE FROM log_digests; DELETE FROM log_chunks;")?;
    let empty = super::records::string_id(conn, "")?.unwrap_or(-1);
    let mut builder: Option<ChunkBuilder> = None;
    let mut n = 0u64;
    let id = |v: i64| {
        if v == empty {
            0
        } else {
            u32::try_from(v).unwrap_or(0)
        }
    };
    conn.each_row(
        "SELECT a.id, a.import_id, s.text, a.log_id, a.at, u.text, a.subject_id, a.subject_unit,
                a.access_unit, ac.text, a.subject_name, a.user_id
         FROM access_log a JOIN log_strings s ON s.id = a.system
         JOIN log_strings u ON u.id = a.user_id JOIN log_strings ac ON ac.id = a.action
         ORDER BY a.id",
        |r| {
            let import_id: i64 = r.get(1)?;
            if builder.as_ref().is_none_or(|b| b.import_id != import_id) {
                if let Some(mut b) = builder.take() {
                    b.flush(conn)?;
                }
                builder = Some(ChunkBuilder::new(import_id));
            }
            let (system, log_id, account): (String, String, String) =
                (r.get(2)?, r.get(3)?, r.get(5)?);
            let (action, name): (String, String) = (r.get(9)?, r.get(10)?);
            let surnames = surnames(&name);
            let a = Access {
                row: r.get(0)?,
                at: r.get(4)?,
                system: &system,
                account: &account,
                account_id: r.get(11)?,
                client: r.get::<i64>(6)?.max(0) as u64,
                client_unit: id(r.get(7)?),
                access_unit: id(r.get(8)?),
                action: crate::log_format::action_code(&action),
                surnames,
                log_id: &log_id,
            };
            if let Some(b) = builder.as_mut() {
                b.push(conn, &a)?;
            }
            n += 1;
            Ok(())
        },
    )?;
    if let Some(mut b) = builder {
        b.flush(conn)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_digits_without_allocation_are_the_same_digits() {
        for n in [
            0,
            7,
            191_212_121_212,
            10_u64.pow(12) - 1,
            10_u64.pow(12),
            u64::MAX,
        ] {
            let direct = client_digits(n);
            with_client_digits(n, |d| assert_eq!(d, direct.as_bytes(), "{n}"));
        }
    }

    #[test]
    fn digests_round_trip() {
        let d = Digest {
            chunk: 100,
            system: "treserva".into(),
            account: "a1".into(),
            entries: vec![
                Entry {
                    row: 100,
                    at: 1_800_000_000,
                    client: 191_212_121_212,
                    client_unit: 3,
                    access_unit: 3,
                    action: 0,
                    surnames: [70_000, 3],
                    log_key: log_key("L1"),
                },
                Entry {
                    row: 140,
                    at: 1_799_999_000,
                    client: 191_212_721_219,
                    client_unit: 0,
                    access_unit: 3,
                    action: 10,
                    surnames: [0, 0],
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

#[cfg(test)]
mod plans {
    use crate::store::Store;

    /// The plan SQLite makes for `sql` on the store's own connection (with its query-planner
    /// stability guarantee), as text.
    fn plan(store: &Store, sql: &str) -> String {
        let mut stmt = store
            .db
            .lite()
            .expect("SQLite")
            .prepare_cached(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let n = stmt.parameter_count();
        let params: Vec<i64> = vec![1; n];
        let rows: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        rows.join(" | ")
    }

    #[test]
    fn the_reads_of_the_log_never_scan_its_big_tables() {
        let store = Store::in_memory().unwrap();
        for sql in [
            "SELECT chunk, digest FROM log_digests
             WHERE system = ?1 AND account = ?2 AND newest >= ?3 AND oldest < ?4",
            "SELECT system, account, digest FROM log_digests
             WHERE id >= ?1 AND id < ?4 AND oldest < ?3 AND newest >= ?2",
            "SELECT a.id, sy.text, a.log_id, a.at, us.text, un.text, ut.text, au.text, ac.text, pu.text
             FROM access_log a
             JOIN log_strings sy ON sy.id = a.system JOIN log_strings us ON us.id = a.user_id
             JOIN log_strings un ON un.id = a.user_name JOIN log_strings ut ON ut.id = a.user_title
             JOIN log_strings au ON au.id = a.access_unit JOIN log_strings ac ON ac.id = a.action
             JOIN log_strings pu ON pu.id = a.purpose
             WHERE a.id BETWEEN ?1 AND ?2 AND a.subject_id = ?3 AND a.system = ?4
               AND a.at >= ?5 AND a.at < ?6",
            "SELECT id, system, log_id FROM access_log_text WHERE id = ?1",
        ] {
            let p = plan(&store, sql);
            assert!(!p.contains("SCAN"), "{sql}\n  plans: {p}");
        }
        // A chunk's digests are read as a range of row ids, in the table's own order.
        let p = plan(
            &store,
            "SELECT system, account, digest FROM log_digests
             WHERE id >= ?1 AND id < ?4 AND oldest < ?3 AND newest >= ?2",
        );
        assert!(p.contains("INTEGER PRIMARY KEY"), "{p}");
    }
}
