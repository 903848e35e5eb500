//! Just enough of a MIME reader to check the emails we build from the outside: headers
//! (unfolded, RFC 2047 encoded words decoded on request), multipart bodies split at their
//! boundary, and `base64`/`quoted-printable`/`7bit`/`8bit` bodies decoded. Independent of
//! lettre on purpose: a message that only lettre can read back proves little.

#![allow(dead_code)]

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Part {
    /// Name and raw (unfolded, still encoded) value, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn parse(bytes: &[u8]) -> Part {
        let split = find(bytes, b"\r\n\r\n").expect("a blank line after the headers");
        let head = std::str::from_utf8(&bytes[..split]).expect("ASCII headers");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a folded line follows a header");
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("`Name: value`");
                headers.push((name.to_owned(), value.trim_start().to_owned()));
            }
        }
        Part {
            headers,
            body: bytes[split + 4..].to_vec(),
        }
    }

    /// The raw value of the only header of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "header `{name}` appears twice");
        first
    }

    /// The header's value with its encoded words decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(decode_words)
    }

    /// `("multipart/mixed", {"boundary": …})`, the type lowercased; `text/plain` if absent.
    pub fn content_type(&self) -> (String, BTreeMap<String, String>) {
        match self.header("Content-Type") {
            Some(value) => split_params(value),
            None => ("text/plain".into(), BTreeMap::new()),
        }
    }

    pub fn mime_type(&self) -> String {
        self.content_type().0
    }

    /// The parts of a multipart body.
    pub fn parts(&self) -> Vec<Part> {
        let (kind, params) = self.content_type();
        assert!(kind.starts_with("multipart/"), "`{kind}` is not multipart");
        let boundary = params.get("boundary").expect("a boundary");
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let body = &self.body[..];
        let mut at = find(body, delimiter.as_bytes()).expect("a first boundary");
        loop {
            let after = at + delimiter.len();
            if body[after..].starts_with(b"--") {
                break;
            }
            let start = after + 2; // the CRLF after the boundary
            let next = start
                + find(&body[start..], format!("\r\n{delimiter}").as_bytes())
                    .expect("a closing boundary");
            parts.push(Part::parse(&body[start..next]));
            at = next + 2;
        }
        parts
    }

    /// The body decoded by its Content-Transfer-Encoding.
    pub fn decoded(&self) -> Vec<u8> {
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let text: String = String::from_utf8_lossy(&self.body)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                base64_decode(&text).expect("valid base64")
            }
            "quoted-printable" => quoted_printable_decode(&self.body),
            "7bit" | "8bit" | "binary" => self.body.clone(),
            other => panic!("unknown transfer encoding `{other}`"),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.decoded()).expect("UTF-8 text")
    }
}

/// `type/sub; a=b; c="d e"` into the lowercased type and its parameters (names lowercased).
pub fn split_params(value: &str) -> (String, BTreeMap<String, String>) {
    let mut pieces = Vec::new();
    let (mut current, mut quoted) = (String::new(), false);
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    pieces.push(current);
    let kind = pieces[0].trim().to_ascii_lowercase();
    let params = pieces[1..]
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (kind, params)
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); white space between two
/// encoded words is dropped, as the RFC says.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.push_str(rest);
            break;
        };
        let (before, from) = rest.split_at(start);
        let word = from[2..].splitn(3, '?').collect::<Vec<_>>();
        let end = word
            .get(2)
            .and_then(|text| text.find("?="))
            .filter(|_| word.len() == 3);
        let Some(end) = end else {
            out.push_str(rest);
            break;
        };
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let (charset, encoding, text) = (word[0], word[1], &word[2][..end]);
        assert!(charset.eq_ignore_ascii_case("utf-8"), "charset `{charset}`");
        let bytes = match encoding {
            "b" | "B" => base64_decode(text).expect("base64 word"),
            "q" | "Q" => quoted_printable_decode(text.replace('_', " ").as_bytes()),
            other => panic!("unknown word encoding `{other}`"),
        };
        out.push_str(&String::from_utf8(bytes).expect("UTF-8 word"));
        let consumed = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
        rest = &from[consumed..];
        last_was_word = true;
    }
    out
}

pub fn quoted_printable_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex escape");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
