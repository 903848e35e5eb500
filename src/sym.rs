//! Short texts that recur by the thousand in what the evidence reads (unit ids, kinds of care
//! relationship, the systems and people they name), kept once for the life of the process, so
//! that a copy of a row that holds them is a copy of pointers: no allocation, and no reference
//! count that the radar's threads would fight over.
//!
//! What is kept is bounded by the distinct texts read from the database over the life of the
//! process, not by how often they are read: reading the same relationships again adds nothing.
//! Those texts are unit and person ids checked against the roster, and kinds of relationship: a
//! purge does not give them back, but they grow only as the organisation changes.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// A text kept once; copies are free and compare by content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(crate) struct Sym(&'static str);

fn kept() -> &'static Mutex<HashSet<&'static str>> {
    static KEPT: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    KEPT.get_or_init(|| Mutex::new(HashSet::new()))
}

impl Sym {
    /// `text`, kept once.
    pub(crate) fn new(text: &str) -> Sym {
        if text.is_empty() {
            return Sym("");
        }
        // A poisoned lock holds a set that is still whole: every insert completes or not at all.
        let mut set = kept()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = set.get(text) {
            return Sym(k);
        }
        let k: &'static str = Box::leak(text.to_owned().into_boxed_str());
        set.insert(k);
        Sym(k)
    }

    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

// Hashes as the text does (a derived `Hash` of a `&str`), so a map keyed by `Sym` is asked by `&str`.
impl std::borrow::Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl From<&str> for Sym {
    fn from(text: &str) -> Sym {
        Sym::new(text)
    }
}

impl From<String> for Sym {
    fn from(text: String) -> Sym {
        Sym::new(&text)
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::Sym;

    #[test]
    fn the_same_text_is_kept_once_and_compares_by_content() {
        let a = Sym::new(&String::from("EN0001"));
        let b = Sym::new("EN0001");
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, Sym::new("EN0002"));
        assert_eq!(&*a, "EN0001");
        assert_eq!(Sym::new(""), Sym::default());
    }
}
