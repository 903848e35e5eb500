//! The organisation as the engine and the review see it: units with their parents, who holds
//! which role where, delegations, and people's names and addresses. Loaded once from the store
//! (`Org::load`, in `store::roster`) and kept until the roster or the delegations change;
//! assigning a step is a lookup in memory.

use crate::roster::Role;
use chrono::NaiveDate;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Org {
    pub units: HashMap<String, (String, Option<String>)>,
    pub(crate) holders: HashMap<(Role, String), Vec<String>>,
    pub(crate) delegations: Vec<Delegation>,
    pub(crate) people: HashMap<String, PersonInfo>,
    /// The `org_version` it was loaded at.
    pub version: i64,
}

/// Who gets a step: the assignee (a deputy when the holder has delegated the role), and the
/// holder of the role, to whom escalations go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignee: String,
    pub holder: String,
}

/// A person as the engine needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInfo {
    pub id: String,
    pub name: String,
    pub email: String,
    pub active_from: Option<NaiveDate>,
    pub active_to: Option<NaiveDate>,
    pub removed: bool,
    /// The job title (yrkesroll), when the roster gives one.
    pub title: Option<String>,
}

impl PersonInfo {
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        !self.removed
            && self.active_from.is_none_or(|f| f <= day)
            && self.active_to.is_none_or(|t| day <= t)
    }
}

/// A delegation in force: the holder's tasks of `role` go to the deputy from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delegation {
    pub id: i64,
    pub holder_id: String,
    pub deputy_id: String,
    pub role: Role,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

impl Org {
    /// Everyone in the roster (removed people too), in no order.
    pub fn people(&self) -> impl Iterator<Item = &PersonInfo> {
        self.people.values()
    }

    /// A person's name from the roster; an account of the overview (`web:NAME`) as such; the
    /// id as it is when nobody has it.
    pub(crate) fn name_of(&self, id: &str) -> String {
        if let Some(account) = id.strip_prefix("web:") {
            return format!("{account} (översikten)");
        }
        self.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    pub fn person(&self, id: &str) -> Option<&PersonInfo> {
        self.people.get(id)
    }

    pub fn unit_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.units
            .get(id)
            .map(|(name, _)| name.as_str())
            .unwrap_or(id)
    }

    /// `unit` and the units above it, nearest first (stops on a cycle).
    pub(crate) fn lineage<'a>(&'a self, unit: &'a str) -> Vec<&'a str> {
        let mut out = vec![unit];
        let mut next = self.units.get(unit).and_then(|(_, p)| p.as_deref());
        while let Some(u) = next {
            if out.contains(&u) || out.len() > 64 {
                break;
            }
            out.push(u);
            next = self.units.get(u).and_then(|(_, p)| p.as_deref());
        }
        out
    }

    /// Everyone active on `day` holding `role` at the nearest unit from `unit` upwards that has
    /// such a holder.
    pub fn holders(&self, role: Role, unit: &str, day: NaiveDate) -> Vec<&str> {
        for u in self.lineage(unit) {
            if let Some(ids) = self.holders.get(&(role, u.to_string())) {
                let active: Vec<&str> = ids
                    .iter()
                    .filter(|id| self.people.get(*id).is_some_and(|p| p.is_active_on(day)))
                    .map(String::as_str)
                    .collect();
                if !active.is_empty() {
                    return active;
                }
            }
        }
        Vec::new()
    }

    /// Everyone the roster lists as holding `role` for `unit`, at the nearest unit from `unit`
    /// upwards that lists any, whether or not they have started (a new holder who starts later
    /// is already the unit's).
    pub(crate) fn listed_holders(&self, role: Role, unit: &str) -> Vec<&str> {
        for u in self.lineage(unit) {
            if let Some(ids) = self.holders.get(&(role, u.to_string()))
                && !ids.is_empty()
            {
                return ids.iter().map(String::as_str).collect();
            }
        }
        Vec::new()
    }

    /// The first holder of `role` for `unit` (nearest first, by id) who is none of `except`.
    pub(crate) fn holder_except(
        &self,
        role: Role,
        unit: &str,
        day: NaiveDate,
        except: &[Option<&str>],
    ) -> Option<&str> {
        self.lineage(unit).into_iter().find_map(|u| {
            self.holders
                .get(&(role, u.to_string()))?
                .iter()
                .find(|id| {
                    !except.contains(&Some(id.as_str()))
                        && self.people.get(*id).is_some_and(|p| p.is_active_on(day))
                })
                .map(String::as_str)
        })
    }

    /// The holder of `role` for `unit` (the first by id), and the deputy when delegated.
    pub(crate) fn assign(&self, role: Role, unit: &str, day: NaiveDate) -> Option<Assignment> {
        self.assign_except(role, unit, day, None)
    }

    /// As [`Org::assign`], passing over `except` (the reviewed user, who never reviews their own
    /// access): then the next holder at the unit, or the nearest above it.
    pub(crate) fn assign_except(
        &self,
        role: Role,
        unit: &str,
        day: NaiveDate,
        except: Option<&str>,
    ) -> Option<Assignment> {
        let holder = self.lineage(unit).into_iter().find_map(|u| {
            self.holders.get(&(role, u.to_string()))?.iter().find(|id| {
                Some(id.as_str()) != except
                    && self.people.get(*id).is_some_and(|p| p.is_active_on(day))
            })
        })?;
        let holder = holder.as_str();
        let assignee = self
            .delegations
            .iter()
            .find(|d| {
                d.holder_id == holder
                    && d.role == role
                    && d.valid_from <= day
                    && day <= d.valid_to
                    && self
                        .people
                        .get(&d.deputy_id)
                        .is_some_and(|p| p.is_active_on(day))
            })
            .map(|d| d.deputy_id.as_str())
            .unwrap_or(holder);
        Some(Assignment {
            assignee: assignee.to_string(),
            holder: holder.to_string(),
        })
    }

    /// Whether `person` is the deputy of a holder of `role` for `unit` on `day`.
    pub(crate) fn is_deputy(&self, person: &str, role: Role, unit: &str, day: NaiveDate) -> bool {
        let holders = self.holders(role, unit, day);
        self.delegations.iter().any(|d| {
            d.deputy_id == person
                && d.role == role
                && holders.contains(&d.holder_id.as_str())
                && d.valid_from <= day
                && day <= d.valid_to
        })
    }
}
