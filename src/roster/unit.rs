//! A unit (enhet) of the organisation: a workplace, or a level above workplaces.

use serde::Serialize;

/// One row of `units.csv`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    /// The unit above; `None` at the top of the organisation.
    pub parent: Option<String>,
}
