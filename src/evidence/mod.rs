//! The review workbench: the evidence of a case — the log rows it is about, each explained
//! (why it is probably fine) and flagged (why it calls for a look) — the reviewer's judgement of
//! single accesses, the radar that ranks users by what their accesses show, and the 24-hour
//! window drawn from the times a user was active.
//!
//! `assess` holds the rules, pure: facts of one user's accesses in, findings out. `people` finds
//! whom an access concerns (the user, colleagues by their personnummer hash, the watch list);
//! `case` gathers a case's evidence, `radar` a period's, both from the digests of the log's index
//! (`store::logindex`) so that the same rules give the same answer in both.

pub(crate) mod access;
pub(crate) mod assess;
pub(crate) mod case;
pub(crate) mod coverage;
pub(crate) mod explained;
pub(crate) mod needs;
pub(crate) mod people;
pub mod radar;
pub(crate) mod window;

pub use assess::{Explanation, Flag};
pub use case::{Evidence, evidence_of};
pub use coverage::LogStatus;

/// A reviewer's judgement of one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Justified,
    Unjustified,
    Unclear,
}

impl Verdict {
    pub(crate) const ALL: [Verdict; 3] =
        [Verdict::Justified, Verdict::Unjustified, Verdict::Unclear];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Justified => "justified",
            Verdict::Unjustified => "unjustified",
            Verdict::Unclear => "unclear",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn title_sv(self) -> &'static str {
        match self {
            Verdict::Justified => "Befogad",
            Verdict::Unjustified => "Obefogad",
            Verdict::Unclear => "Oklar",
        }
    }
}
