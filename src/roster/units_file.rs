//! `units.csv`: `unit_id,name,parent_id`. Rows are checked one by one as they are read; parents
//! and cycles once the whole file is in, since a parent may come after its children.

use super::fields;
use super::unit::Unit;
use crate::error::Result;
use crate::tabular::{Column, Problem, Problems, Schema, Table, did_you_mean};
use std::collections::HashMap;
use std::io::BufRead;

pub(super) const UNITS: Schema = Schema::new(&[
    Column::required("unit_id"),
    Column::required("name"),
    Column::required("parent_id"),
]);

/// The units as read, with what the people file needs to check its references.
#[derive(Debug, Default)]
pub(super) struct Units {
    /// In file order; one per id (later rows repeating an id are left out).
    pub list: Vec<Unit>,
    /// The line of each unit of `list`.
    lines: Vec<u64>,
    index: HashMap<String, usize>,
    /// Whether the file could be read at all. When it could not, references to units cannot
    /// be checked, and are not: that would bury the one real problem under one per person.
    pub readable: bool,
}

impl Units {
    pub(super) fn contains(&self, id: &str) -> bool {
        // An unreadable file has been reported already; see `readable`.
        !self.readable || self.index.contains_key(id)
    }

    /// The message for a reference to a unit that does not exist.
    pub(super) fn unknown(&self, id: &str) -> String {
        let hint = if id.contains(',') {
            " (separate several units with `;`)".to_string()
        } else {
            did_you_mean(id, self.list.iter().map(|unit| unit.id.as_str()))
                .map(|near| format!(" (did you mean `{near}`?)"))
                .unwrap_or_default()
        };
        format!("unknown unit `{id}`{hint}")
    }
}

pub(super) fn read_units<R: BufRead>(
    table: Option<Table<R>>,
    problems: &mut Problems,
) -> Result<Units> {
    let Some(mut table) = table else {
        return Ok(Units::default());
    };
    let mut units = Units {
        readable: true,
        ..Units::default()
    };
    while let Some(row) = table.next_row(problems)? {
        let id = row.get("unit_id");
        let name = row.get("name");
        let parent = row.get("parent_id");
        let mut fresh = true;
        if let Err(message) = fields::id(id) {
            problems.push(row.problem("unit_id", message));
            fresh = false;
        } else if let Some(&first) = units.index.get(id) {
            let message = format!("`{id}` is already defined on line {}", units.lines[first]);
            problems.push(row.problem("unit_id", message));
            fresh = false;
        }
        if let Err(message) = fields::text(name) {
            problems.push(row.problem("name", message));
        }
        if fresh {
            units.index.insert(id.to_string(), units.list.len());
            units.lines.push(row.line());
            units.list.push(Unit {
                id: id.to_string(),
                name: name.to_string(),
                parent: (!parent.is_empty()).then(|| parent.to_string()),
            });
        }
    }
    check_parents(&units, table.path(), problems);
    Ok(units)
}

/// Every parent must be a unit, and following parents must reach the top.
fn check_parents(units: &Units, path: &str, problems: &mut Problems) {
    let parents: Vec<Option<usize>> = units
        .list
        .iter()
        .zip(&units.lines)
        .map(|(unit, &line)| {
            let parent = unit.parent.as_deref()?;
            let index = units.index.get(parent).copied();
            if index.is_none() {
                let message = format!("field `parent_id`: {}", units.unknown(parent));
                problems.push(Problem::new(path, line, message));
            }
            index
        })
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnWalk,
        Done,
    }
    let mut marks = vec![Mark::Unseen; parents.len()];
    for start in 0..parents.len() {
        // Walk up from `start` until the top, a unit an earlier walk went through (its fate is
        // known and told), or a unit met before on this walk: then from there on is a cycle.
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(unit) = at {
            at = match marks[unit] {
                Mark::Unseen => {
                    marks[unit] = Mark::OnWalk;
                    walk.push(unit);
                    parents[unit]
                }
                Mark::OnWalk => {
                    let from = walk.iter().position(|&on| on == unit).unwrap_or(0);
                    problems.push(cycle_problem(units, &walk[from..], path));
                    None
                }
                Mark::Done => None,
            };
        }
        for unit in walk {
            marks[unit] = Mark::Done;
        }
    }
}

/// One problem per cycle, at the line of its unit that comes first in the file, naming the
/// units from there round to it again: `` `A` -> `B` -> `A` ``.
fn cycle_problem(units: &Units, cycle: &[usize], path: &str) -> Problem {
    let first = (0..cycle.len()).min_by_key(|&at| cycle[at]).unwrap_or(0);
    let mut names: Vec<String> = cycle[first..]
        .iter()
        .chain(&cycle[..first])
        .map(|&unit| format!("`{}`", units.list[unit].id))
        .collect();
    if let Some(again) = names.first().cloned() {
        names.push(again);
    }
    let message = format!(
        "field `parent_id`: the parents form a cycle: {}",
        names.join(" -> ")
    );
    let line = cycle.get(first).map_or(0, |&unit| units.lines[unit]);
    Problem::new(path, line, message)
}
