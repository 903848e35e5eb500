//! Swedish personal identity numbers (personnummer) and co-ordination numbers (samordningsnummer)
//! of clients: read, checked (date of birth, check digit), and made up for simulations.

use chrono::NaiveDate;

/// A personal identity number (or co-ordination number) as its 12 digits: `ÅÅÅÅMMDDNNNN`, a
/// `-` before the last four allowed, nothing around it; a real date from 1800 on (day + 60 for
/// co-ordination numbers), a birth number other than 000, and the right check digit (Luhn over
/// the last ten digits).
pub fn digits(text: &str) -> std::result::Result<[u8; 12], String> {
    let mut d = [0u8; 12];
    let mut n = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'0'..=b'9' if n < 12 => {
                d[n] = b;
                n += 1;
            }
            b'-' if i == 8 && n == 8 => {}
            _ => {
                n = 13;
                break;
            }
        }
    }
    if text.is_empty() {
        return Err("is empty (the client's personal identity number, 12 digits)".into());
    }
    if n != 12 {
        return Err(format!(
            "`{text}` is not a personal identity number (12 digits: ÅÅÅÅMMDDNNNN or ÅÅÅÅMMDD-NNNN)"
        ));
    }
    let v = |i: usize| u32::from(d[i] - b'0');
    let year = (v(0) * 1000 + v(1) * 100 + v(2) * 10 + v(3)) as i32;
    let month = v(4) * 10 + v(5);
    let mut day = v(6) * 10 + v(7);
    if day > 60 {
        day -= 60;
    }
    if year < 1800 || NaiveDate::from_ymd_opt(year, month, day).is_none() {
        return Err(format!("`{text}` does not hold a valid date of birth"));
    }
    if d[8..11] == *b"000" {
        return Err(format!(
            "`{text}` has the birth number 000, which is never given"
        ));
    }
    let sum: u32 = (2..11)
        .map(|i| {
            let x = if (i - 2) % 2 == 0 { v(i) * 2 } else { v(i) };
            x / 10 + x % 10
        })
        .sum();
    if (10 - sum % 10) % 10 != v(11) {
        return Err(format!("`{text}` has the wrong check digit"));
    }
    Ok(d)
}

/// A keyed hash (HMAC-SHA256 under an installation secret) of personal identity numbers: people's
/// own numbers are kept only this way, and a client is matched against them by the same hash.
#[derive(Clone)]
pub(crate) struct KeyedHash(hmac::Hmac<sha2::Sha256>);

impl KeyedHash {
    pub(crate) fn new(key: &[u8]) -> KeyedHash {
        use hmac::KeyInit;
        // HMAC takes a key of any length.
        let mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
            .unwrap_or_else(|_| hmac::Hmac::<sha2::Sha256>::new(&Default::default()));
        KeyedHash(mac)
    }

    /// The hash of 12 digits, hex.
    pub(crate) fn hash(&self, digits: &[u8]) -> String {
        hex::encode(self.digest(digits))
    }

    /// The hash of 12 digits.
    pub(crate) fn digest(&self, digits: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = self.0.clone();
        mac.update(digits);
        mac.finalize().into_bytes().into()
    }
}

/// Whether `text` is a valid personal identity number in 12 digits.
/// A personal identity number as people write it: `ÅÅÅÅMMDD-NNNN` (anything else as given).
pub fn written(text: &str) -> String {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 12 {
        format!("{}-{}", &digits[..8], &digits[8..])
    } else {
        text.to_string()
    }
}

pub(crate) fn validate(text: &str) -> Result<(), String> {
    digits(text).map(|_| ())
}

/// The check digit of the nine digits after the century (Luhn).
pub(crate) fn check_digit(nine: &str) -> u32 {
    let sum: u32 = nine
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, x)| {
            let v = if i % 2 == 0 { x * 2 } else { x };
            v / 10 + v % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A valid number for a made-up client born on the given day (the birth number 000, never
/// given, is made 001).
pub fn made_up(year: u32, month: u32, day: u32, serial: u32) -> String {
    let serial = match serial % 1000 {
        0 => 1,
        s => s,
    };
    let nine = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    format!("{year}{month:02}{day:02}-{serial:03}{}", check_digit(&nine))
}

#[cfg(test)]
mod keyed_tests {
    use super::*;

    #[test]
    fn keyed_hashes_depend_on_key_and_number() {
        let a = KeyedHash::new(b"key-a");
        let b = KeyedHash::new(b"key-b");
        assert_eq!(a.hash(b"191212121212"), a.hash(b"191212121212"));
        assert_ne!(a.hash(b"191212121212"), b.hash(b"191212121212"));
        assert_ne!(a.hash(b"191212121212"), a.hash(b"191212721219"));
        assert_eq!(a.hash(b"191212121212").len(), 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_checks() {
        assert!(validate("19121212-1212").is_ok());
        assert!(validate("191212121212").is_ok());
        assert!(
            validate("19121212-1213")
                .unwrap_err()
                .contains("check digit")
        );
        assert!(validate("1212121212").is_err());
        assert!(validate("19121312-1212").is_err());
        assert!(validate("abc").is_err());
        assert!(validate("").unwrap_err().contains("empty"));
        // A co-ordination number: the day plus 60.
        assert!(validate("191212721219").is_ok());
        // The birth number 000 is never given; no one was born in year 0.
        assert!(validate("19121212-0008").unwrap_err().contains("000"));
        assert!(validate("000001010008").unwrap_err().contains("date"));
    }

    #[test]
    fn made_up_numbers_are_valid() {
        for n in 0..500u32 {
            let p = made_up(1930 + n % 70, 1 + n % 12, 1 + n % 28, n * 7);
            assert!(validate(&p).is_ok(), "{p}");
        }
    }
}
