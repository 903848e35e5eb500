//! The closed set of roles a person can hold at a unit. Routines name them (who answers a step,
//! who is told), the roster assigns them; both read them through [`Role`].

use crate::tabular::suggestion;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role held at a unit, as named in `people.csv` and in routines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// enhetschef
    UnitManager,
    /// verksamhetschef (enl. HSL)
    OperationsManager,
    /// biträdande verksamhetschef
    DeputyOperationsManager,
    /// HR-strateg
    HrStrategist,
    /// affärsområdeschef
    BusinessAreaManager,
    /// socialt ansvarig samordnare
    Sas,
    /// medicinskt ansvarig sjuksköterska
    Mas,
}

impl Role {
    /// Every role, in the order the documentation lists them.
    pub(crate) const ALL: [Role; 7] = [
        Role::UnitManager,
        Role::OperationsManager,
        Role::DeputyOperationsManager,
        Role::HrStrategist,
        Role::BusinessAreaManager,
        Role::Sas,
        Role::Mas,
    ];

    /// The names of [`Role::ALL`], as written in files.
    pub fn names() -> [&'static str; 7] {
        Role::ALL.map(Role::as_str)
    }

    /// The name as written in files: `unit_manager`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Role::UnitManager => "unit_manager",
            Role::OperationsManager => "operations_manager",
            Role::DeputyOperationsManager => "deputy_operations_manager",
            Role::HrStrategist => "hr_strategist",
            Role::BusinessAreaManager => "business_area_manager",
            Role::Sas => "sas",
            Role::Mas => "mas",
        }
    }

    /// The Swedish title people read in emails and on pages.
    pub fn title(self) -> &'static str {
        match self {
            Role::UnitManager => "enhetschef",
            Role::OperationsManager => "verksamhetschef",
            Role::DeputyOperationsManager => "biträdande verksamhetschef",
            Role::HrStrategist => "HR-strateg",
            Role::BusinessAreaManager => "affärsområdeschef",
            Role::Sas => "SAS",
            Role::Mas => "MAS",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    /// The names of [`Role::names`], or the Swedish titles people use (`enhetschef`,
    /// `verksamhetschef`, `biträdande verksamhetschef`, `HR-strateg`, `affärsområdeschef`, `SAS`,
    /// `MAS`) in any case, with `_`, `-` or a space between words; anything else is an
    /// [`UnknownRole`].
    fn from_str(name: &str) -> Result<Role, UnknownRole> {
        let plain = |s: &str| -> String {
            s.trim()
                .to_lowercase()
                .chars()
                .map(|c| if c == '_' || c == '-' { ' ' } else { c })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let wanted = plain(name);
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name || plain(role.title()) == wanted)
            .ok_or_else(|| UnknownRole {
                name: name.to_string(),
            })
    }
}

/// A name that is not a role; displays as ``unknown role `x` (did you mean `y`?)``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole {
    pub name: String,
}

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = suggestion(&self.name, &Role::names());
        write!(f, "unknown role `{}`{hint}", self.name)
    }
}

impl std::error::Error for UnknownRole {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_titles_are_names_too() {
        for (name, role) in [
            ("enhetschef", Role::UnitManager),
            ("Verksamhetschef", Role::OperationsManager),
            ("biträdande verksamhetschef", Role::DeputyOperationsManager),
            ("biträdande_verksamhetschef", Role::DeputyOperationsManager),
            ("HR-strateg", Role::HrStrategist),
            ("hr_strateg", Role::HrStrategist),
            ("affärsområdeschef", Role::BusinessAreaManager),
            ("SAS", Role::Sas),
            ("mas", Role::Mas),
        ] {
            assert_eq!(name.parse(), Ok(role), "{name}");
        }
        assert!("chef".parse::<Role>().is_err());
        assert!("enhetschefen".parse::<Role>().is_err());
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(
            Role::names(),
            [
                "unit_manager",
                "operations_manager",
                "deputy_operations_manager",
                "hr_strategist",
                "business_area_manager",
                "sas",
                "mas"
            ]
        );
    }

    #[test]
    fn swedish_titles() {
        let titles = Role::ALL.map(Role::title);
        assert_eq!(
            titles,
            [
                "enhetschef",
                "verksamhetschef",
                "biträdande verksamhetschef",
                "HR-strateg",
                "affärsområdeschef",
                "SAS",
                "MAS"
            ]
        );
    }

    #[test]
    fn unknown_role_suggests_or_lists() {
        let near = "unit_manger".parse::<Role>().map_err(|err| err.to_string());
        assert_eq!(
            near,
            Err("unknown role `unit_manger` (did you mean `unit_manager`?)".to_string())
        );
        let far = "boss".parse::<Role>().map_err(|err| err.to_string());
        assert_eq!(
            far,
            Err(
                "unknown role `boss` (expected one of `unit_manager`, `operations_manager`, \
                 `deputy_operations_manager`, `hr_strategist`, `business_area_manager`, `sas`, \
                 `mas`)"
                    .to_string()
            )
        );
        assert!("Unit_Manager".parse::<Role>().is_err());
    }

    #[test]
    fn serde_uses_the_file_names() {
        let json = serde_json::to_string(&Role::DeputyOperationsManager).expect("serialises");
        assert_eq!(json, "\"deputy_operations_manager\"");
    }
}
