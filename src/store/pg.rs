//! PostgreSQL, the second backend: the connection and its statement cache, the translation of
//! the store's SQL (written once, in the SQL both read) into PostgreSQL's own, and the values
//! bound and read.
//!
//! The client is the `postgres` crate (synchronous, over `tokio-postgres`): the store is
//! synchronous, every unit of work is one transaction on one connection, and the crate speaks
//! the binary protocol with prepared statements; `sqlx` would bring an async runtime into the
//! engine for nothing, and its checked queries need a database at build time.

use super::db::Value;
pub(crate) use crate::location::{is_url, redacted};
use crate::{Error, Result};
use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use std::collections::HashMap;

/// A write transaction: one writer at a time across every process on the organisation's schema,
/// as SQLite's `BEGIN IMMEDIATE`; readers never wait. The lock goes with the transaction's end,
/// also when the process dies. (Organisations in schemas of one database lock apart.)
pub(crate) const BEGIN_WRITE: &str =
    "BEGIN; SELECT pg_advisory_xact_lock(hashtext('loggkoll'), hashtext(current_schema()))";

/// Statements prepared at most per connection before the cache starts over.
const CACHE: usize = 1024;

/// Whether `location` looks like a libpq key/value connection string (`host=… dbname=…`),
/// which `--db` does not take (it would be a file of that name).
pub(crate) fn is_key_value(location: &str) -> bool {
    ["host=", "dbname=", "user=", "password="]
        .iter()
        .any(|k| location.trim_start().starts_with(k))
}

pub(crate) struct Conn {
    /// Always there until the connection is dropped.
    client: Option<postgres::Client>,
    cache: HashMap<String, postgres::Statement>,
    /// Where it connects, to connect again after the server closed the connection.
    url: String,
    /// A statement failed since the transaction began: PostgreSQL refuses the rest of the
    /// transaction and would turn its `COMMIT` into a rollback.
    failed: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The session's advisory locks (a job's, `Store::try_lock`) are given back before the
        // connection closes, not when the server gets round to ending its backend: another
        // process may take them the moment this store is gone.
        let close = |mut client: postgres::Client| {
            let _ = client.batch_execute("SELECT pg_advisory_unlock_all()");
            drop(client);
        };
        // Closing talks to the server on the client's own runtime, which cannot run on a thread
        // that drives another's (the web server's): close on a thread of its own then.
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || close(client)).join();
            } else {
                close(client);
            }
        }
    }
}

/// What the server (or the client) said, in words: the server's message rather than the
/// client's "db error". Never its detail, which may quote a row's values (a client's number) on
/// its way to a log or `/healthz`.
fn describe(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_string(),
        None => match std::error::Error::source(err) {
            Some(cause) => format!("{err}: {cause}"),
            None => err.to_string(),
        },
    }
}

impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Error {
        Error::runtime(format!("{}{}", crate::error::DATABASE, describe(&err)))
    }
}

impl Conn {
    pub(crate) fn connect(url: &str) -> Result<Conn> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            Error::runtime(format!(
                "cannot connect to `{}`: {}",
                redacted(url),
                describe(&e)
            ))
        })?;
        Ok(Conn {
            client: Some(client),
            cache: HashMap::new(),
            url: url.to_string(),
            failed: false,
        })
    }

    /// Connects again when the server closed the connection (a restart, a failover to the
    /// standby); the statement cache starts over.
    pub(crate) fn reopen_if_closed(&mut self) -> Result<()> {
        if self.client().is_closed() {
            *self = Conn::connect(&self.url)?;
        }
        Ok(())
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// `result`, remembering a failure (see [`Conn::failed`]).
    fn note<T>(&mut self, result: std::result::Result<T, postgres::Error>) -> Result<T> {
        result.map_err(|e| {
            self.failed = true;
            Error::from(e)
        })
    }

    fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("the client is there until the connection is dropped")
    }

    pub(crate) fn prepare(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client().prepare(&translate(sql));
        let stmt = self.note(prepared)?;
        if self.cache.len() >= CACHE {
            self.cache.clear();
        }
        self.cache.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub(crate) fn execute(
        &mut self,
        stmt: &postgres::Statement,
        values: &[Value<'_>],
    ) -> Result<usize> {
        let done = self.client().execute(stmt, &refs(values));
        let n = self.note(done)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn query(
        &mut self,
        stmt: &postgres::Statement,
        values: &[Value<'_>],
    ) -> Result<Vec<postgres::Row>> {
        let rows = self.client().query(stmt, &refs(values));
        self.note(rows)
    }

    /// The rows of `sql`, sent as it is (no translation, no parameters, not prepared).
    pub(crate) fn fetch(&mut self, sql: &str) -> Result<Vec<postgres::Row>> {
        let rows = self.client().query(sql, &[]);
        self.note(rows)
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        // A transaction's beginning or end starts the record of failures afresh.
        let ends = ["BEGIN", "COMMIT", "ROLLBACK"];
        if ends.iter().any(|w| sql.starts_with(w)) {
            self.failed = false;
        }
        let done = self.client().batch_execute(sql);
        self.note(done)
    }
}

fn refs<'a>(values: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// The store's SQL in PostgreSQL's words: `?N` placeholders become `$N`, `LIKE` (which SQLite
/// reads case-blind) `ILIKE`, `GROUP_CONCAT` `string_agg`, and `json_extract(x, '$.key')`
/// `(x::json ->> 'key')`. String literals, quoted names and comments are kept as written.
pub(crate) fn translate(sql: &str) -> String {
    let sql = json_extract(sql);
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0;
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' => {
                let end = sql[i + 1..]
                    .find(c as char)
                    .map_or(sql.len(), |j| i + 1 + j + 1);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = sql[i..].find('\n').map_or(sql.len(), |j| i + j);
                out.push_str(&sql[i..end]);
                i = end;
            }
            b'?' => {
                let digits = sql[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
                out.push('$');
                // As SQLite numbers them: a bare `?` is one more than the largest so far.
                if digits == 0 {
                    next += 1;
                    out.push_str(&next.to_string());
                } else {
                    let n = &sql[i + 1..i + 1 + digits];
                    next = next.max(n.parse().unwrap_or(0));
                    out.push_str(n);
                }
                i += 1 + digits;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let len = sql[i..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                let word = &sql[i..i + len];
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("ILIKE");
                } else if word.eq_ignore_ascii_case("GROUP_CONCAT") {
                    out.push_str("string_agg");
                } else {
                    out.push_str(word);
                }
                i += len;
            }
            _ => {
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&sql[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// `json_extract(EXPR, '$.key')` → `((EXPR)::json ->> 'key')`, EXPR being a column name.
fn json_extract(sql: &str) -> std::borrow::Cow<'_, str> {
    const CALL: &str = "json_extract(";
    if !sql.contains(CALL) {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(CALL) {
        out.push_str(&rest[..at]);
        let args = &rest[at + CALL.len()..];
        let parsed = args.split_once(',').and_then(|(column, tail)| {
            let tail = tail.trim_start().strip_prefix("'$.")?;
            let (key, after) = tail.split_once("')")?;
            Some((column.trim(), key, after))
        });
        match parsed {
            Some((column, key, after)) => {
                out.push_str(&format!("(({column})::json ->> '{key}')"));
                rest = after;
            }
            None => {
                out.push_str(CALL);
                rest = args;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer where the database wants {ty}").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ => Err(format!("a real number where the database wants {ty}").into()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.to_sql(ty, out)
                }
                Type::JSON | Type::JSONB => {
                    if *ty == Type::JSONB {
                        out.extend_from_slice(&[1]);
                    }
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                // As SQLite's integer columns take text that is a number.
                Type::INT8 | Type::INT4 | Type::INT2 => match s.trim().parse::<i64>() {
                    Ok(i) => Value::Int(i).to_sql(ty, out),
                    Err(_) => Err(format!("text where the database wants {ty}").into()),
                },
                _ => Err(format!("text where the database wants {ty}").into()),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(format!("bytes where the database wants {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Column `i` of `row` as a value.
pub(crate) fn value(row: &postgres::Row, i: usize) -> Result<Value<'_>> {
    let Some(column) = row.columns().get(i) else {
        return Err(Error::runtime(format!("database: no column {i}")));
    };
    let v = match *column.type_() {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into())),
        Type::NUMERIC => row.try_get::<_, Option<Numeric>>(i)?.map(|n| n.0),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
            row.try_get::<_, Option<&str>>(i)?.map(Value::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(i)?.map(Value::Blob),
        ref other => {
            return Err(Error::runtime(format!(
                "database: column {i} (`{}`) is of type {other}, which the store does not read",
                column.name()
            )));
        }
    };
    Ok(v.unwrap_or(Value::Null))
}

/// A `NUMERIC` (what PostgreSQL's `SUM` of integers gives): an integer when it has no
/// fraction, else a real number.
struct Numeric(Value<'static>);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Numeric, BoxError> {
        let word = |k: usize| -> std::result::Result<i16, BoxError> {
            raw.get(2 * k..2 * k + 2)
                .map(|b| i16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "a short NUMERIC".into())
        };
        let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
        if sign != 0 && sign != 0x4000 {
            return Err("a NUMERIC that is not a number (NaN or infinite)".into());
        }
        let mut whole: i128 = 0;
        let mut real = 0f64;
        for k in 0..ndigits.max(0) as usize {
            let digit = word(4 + k)?;
            let exponent = i32::from(weight) - k as i32;
            real += f64::from(digit) * 10_000f64.powi(exponent);
            if exponent >= 0 {
                whole = 10_000i128
                    .checked_pow(exponent as u32)
                    .and_then(|place| place.checked_mul(i128::from(digit)))
                    .and_then(|part| whole.checked_add(part))
                    .ok_or("a NUMERIC too large")?;
            }
        }
        let negative = sign == 0x4000;
        Ok(Numeric(if dscale == 0 {
            let whole = if negative { -whole } else { whole };
            Value::Int(i64::try_from(whole).map_err(|_| "a NUMERIC out of range")?)
        } else {
            Value::Real(if negative { -real } else { real })
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_sql_is_translated() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c LIKE ?2 || '%?3' -- ?4\n AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c ILIKE $2 || '%?3' -- ?4\n AND d = $3"
        );
        assert_eq!(
            translate("SELECT GROUP_CONCAT(a, ';') FROM t WHERE json_extract(data, '$.id') = ?1"),
            "SELECT string_agg(a, ';') FROM t WHERE ((data)::json ->> 'id') = $1"
        );
        assert_eq!(
            translate("SELECT \"?\" , 'it''s ?'"),
            "SELECT \"?\" , 'it''s ?'"
        );
        assert_eq!(translate("SELECT 'å' || ?2"), "SELECT 'å' || $2");
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("postgres://loggkoll:hemligt@db.example:5432/kommun"),
            "postgres://loggkoll:***@db.example:5432/kommun"
        );
        assert_eq!(redacted("postgres://db/kommun"), "postgres://db/kommun");
        assert_eq!(
            redacted("postgres://u:pa/ss@h/db?sslmode=disable"),
            "postgres://u:***@h/db?sslmode=disable"
        );
        assert_eq!(
            redacted("postgres://h/db?user=u&password=hemligt"),
            "postgres://h/db?user=u&password=***"
        );
        assert!(is_url("postgresql://x/y") && is_url("POSTGRES://x/y") && !is_url("loggkoll.db"));
        assert!(is_key_value("host=db dbname=kommun") && !is_key_value("kommun.db"));
    }

    #[test]
    fn numerics_are_read() {
        // 12345678 = 1234 * 10000 + 5678, weight 1.
        let raw: Vec<u8> = [2i16, 1, 0, 0, 1234, 5678]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(
            Numeric::from_sql(&Type::NUMERIC, &raw).unwrap().0,
            Value::Int(12_345_678)
        );
        let raw: Vec<u8> = [1i16, 0, 0x4000, 0, 7]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(
            Numeric::from_sql(&Type::NUMERIC, &raw).unwrap().0,
            Value::Int(-7)
        );
    }
}
