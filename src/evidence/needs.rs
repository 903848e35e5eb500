//! What the needs-and-risk analysis (*behovs- och riskanalys*, HSLF-FS 2016:40 4 kap. 2 §)
//! says about an account: access rights are to be decided after an analysis of what each kind
//! of staff needs to reach. The analysis in force is the latest imported version; a unit's
//! analysis whose newest decision is older than a year counts as outdated.

use crate::Result;
use crate::roster::needs_file::{Need, Scope, title_key};
use crate::store::{self, Db};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The analysis in force, ready for lookups: by (unit, title key, system).
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub version: Option<store::rights::Version>,
    needs: HashMap<(String, String, String), Need>,
    /// Each unit's parent, and each unit's children, from the roster now.
    parent: HashMap<String, Option<String>>,
    names: HashMap<String, String>,
    children: HashMap<String, Vec<String>>,
}

/// Whether a decision dated `decided_on` is older than a year on `today`.
pub(crate) fn outdated(decided_on: NaiveDate, today: NaiveDate) -> bool {
    today
        .checked_sub_months(Months::new(12))
        .is_some_and(|year_ago| decided_on < year_ago)
}

impl Analysis {
    /// The analysis in force at `at` (a protocol reads the one its review was closed under),
    /// or the latest when `at` is `None`.
    pub(crate) fn load(conn: &Db, at: Option<DateTime<Utc>>) -> Result<Analysis> {
        Analysis::of(conn, store::rights::in_force(conn, at)?)
    }

    /// For lookups only ([`Analysis::need`], [`Analysis::reach_of`]): without any version, an
    /// empty analysis, without reading the roster's units (the evidence of every case asks).
    pub(crate) fn for_lookups(conn: &Db) -> Result<Analysis> {
        match store::rights::in_force(conn, None)? {
            None => Ok(Analysis::default()),
            version => Analysis::of(conn, version),
        }
    }

    /// `version`'s needs, with the roster's units now.
    fn of(conn: &Db, version: Option<store::rights::Version>) -> Result<Analysis> {
        let mut needs = HashMap::new();
        if let Some(v) = &version {
            for n in store::rights::needs(conn, v.id)? {
                needs.insert((n.unit.clone(), title_key(&n.title), n.system.clone()), n);
            }
        }
        let mut parent = HashMap::new();
        let mut names = HashMap::new();
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for (id, name, p) in store::rights::units(conn)? {
            names.insert(id.clone(), name);
            if let Some(p) = &p {
                children.entry(p.clone()).or_default().push(id.clone());
            }
            parent.insert(id, p);
        }
        Ok(Analysis {
            version,
            needs,
            parent,
            names,
            children,
        })
    }

    /// The name of unit `id` in the roster now (the id for a unit it does not have).
    pub(crate) fn unit_name(&self, id: &str) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// Whether any analysis was ever imported.
    pub(crate) fn exists(&self) -> bool {
        self.version.is_some()
    }

    /// The need analysed for `title` at `unit` in `system`.
    pub(crate) fn need(&self, unit: &str, title: &str, system: &str) -> Option<&Need> {
        self.needs
            .get(&(unit.to_string(), title_key(title), system.to_string()))
    }

    /// The units whose clients a person of job title `title` at `units` may reach in `system`
    /// by the analysis: `None` when it sets no bound (no analysis, the title not analysed at any
    /// of the units, or a scope of the whole organisation); empty when every scope is `none`.
    pub(crate) fn reach_of(
        &self,
        units: &[String],
        title: &str,
        system: &str,
    ) -> Option<Vec<String>> {
        let mut all = Vec::new();
        let mut any = false;
        for unit in units {
            if let Some(n) = self.need(unit, title, system) {
                any = true;
                all.extend(self.reach(unit, n.scope)?);
            }
        }
        any.then_some(all)
    }

    /// The units whose clients `scope` at `unit` reaches (a unit's own clients include those of
    /// the units under it); `None` for every unit.
    pub(crate) fn reach(&self, unit: &str, scope: Scope) -> Option<Vec<String>> {
        match scope {
            Scope::None => Some(Vec::new()),
            Scope::Unit => Some(self.subtree(unit)),
            Scope::Area => {
                let top = self
                    .parent
                    .get(unit)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| unit.to_string());
                Some(self.subtree(&top))
            }
            Scope::Organisation => None,
        }
    }

    /// `unit` and every unit under it.
    fn subtree(&self, unit: &str) -> Vec<String> {
        let mut out = vec![unit.to_string()];
        let mut i = 0;
        while i < out.len() {
            if let Some(kids) = self.children.get(&out[i]) {
                for k in kids {
                    // A cycle cannot be stored (the roster refuses one); guard anyway.
                    if !out.contains(k) {
                        out.push(k.clone());
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Each unit of the roster now, and each unit the analysis names, with its needs in force
    /// on `today`, by unit id.
    pub(crate) fn units(&self, today: NaiveDate) -> Vec<UnitState<'_>> {
        let mut by_unit: BTreeMap<&str, Vec<&Need>> = self
            .parent
            .keys()
            .map(|u| (u.as_str(), Vec::new()))
            .collect();
        for n in self.needs.values() {
            by_unit.entry(n.unit.as_str()).or_default().push(n);
        }
        by_unit
            .into_iter()
            .map(|(unit, mut needs)| {
                needs.sort_by(|a, b| {
                    (&a.system, title_key(&a.title)).cmp(&(&b.system, title_key(&b.title)))
                });
                let decided_on = needs.iter().map(|n| n.decided_on).max();
                UnitState {
                    unit: unit.to_string(),
                    name: self.unit_name(unit),
                    current: decided_on.is_some_and(|d| !outdated(d, today)),
                    decided_on,
                    needs,
                    in_roster: self.parent.contains_key(unit),
                }
            })
            .collect()
    }

    /// The units of the roster now without a current analysis: none at all, or only decisions
    /// older than a year on `today`. Each with the date of its newest decision, if any.
    pub(crate) fn units_without(&self, today: NaiveDate) -> Vec<(String, Option<NaiveDate>)> {
        self.units(today)
            .into_iter()
            .filter(|u| u.in_roster && !u.current)
            .map(|u| (u.unit, u.decided_on))
            .collect()
    }
}

/// One unit's analysis on a day.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UnitState<'a> {
    pub unit: String,
    pub name: String,
    /// Whether its newest decision is at most a year old.
    pub current: bool,
    /// Its newest decision.
    pub decided_on: Option<NaiveDate>,
    pub needs: Vec<&'a Need>,
    /// Whether the roster has the unit now.
    #[serde(skip)]
    pub in_roster: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn an_analysis_a_year_and_a_day_old_is_outdated() {
        assert!(!outdated(day("2026-06-01"), day("2027-06-01")));
        assert!(outdated(day("2026-05-31"), day("2027-06-01")));
        // A leap day a year on.
        assert!(!outdated(day("2027-02-28"), day("2028-02-29")));
    }
}
