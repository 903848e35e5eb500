//! The organisation as the engine sees it: [`Org`] lives in `roster::org`, below the engine and
//! the review that both read it, and its version in the store (`store::roster`); re-exported
//! here under the names the engine's callers know.

pub use crate::roster::org::{Assignment, Delegation, Org, PersonInfo};
pub use crate::store::roster::{VERSION_KEY, bump_version, current_version};
