//! Pictures of a routine's state graph: Graphviz DOT, Mermaid, and a self-contained SVG drawn with
//! a small layered layout of our own (states in rows by their distance from the start, ordered to
//! limit crossings), so the overview page and `graph --format svg` need no outside tool.

use super::duration::Swedish;
use super::model::{Routine, StateIx};
use crate::svg::escape;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Dot,
    Mermaid,
    Svg,
}

impl Format {
    pub(crate) fn parse(s: &str) -> Option<Format> {
        match s {
            "dot" => Some(Format::Dot),
            "mermaid" => Some(Format::Mermaid),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }
}

pub(crate) fn render(routine: &Routine, format: Format) -> String {
    match format {
        Format::Dot => dot(routine),
        Format::Mermaid => mermaid(routine),
        Format::Svg => svg(routine),
    }
}

/// The second line of a state's box: who acts and by when, or the result.
fn subtitle(routine: &Routine, ix: StateIx) -> String {
    let state = &routine.graph[ix];
    match (&state.task, state.result) {
        (Some(task), _) => format!("{}, {}", task.assignee.title(), task.deadline.sv()),
        (None, Some(result)) => result.title_sv().to_string(),
        (None, None) => String::new(),
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub(crate) fn dot(routine: &Routine) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(&routine.id));
    let _ = writeln!(out, "  label=\"{}\";", dot_escape(&routine.title));
    out.push_str("  labelloc=t;\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  start [shape=point, width=0.15];\n");
    for (ix, state) in routine.states() {
        let shape = if state.is_final() {
            ", peripheries=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\"{shape}];",
            dot_escape(&state.name),
            dot_escape(&state.title),
            dot_escape(&subtitle(routine, ix))
        );
    }
    let _ = writeln!(
        out,
        "  start -> \"{}\";",
        dot_escape(&routine.start_state().name)
    );
    for (ix, state) in routine.states() {
        for (outcome, target) in routine.outcomes(ix) {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                dot_escape(&state.name),
                dot_escape(&routine.graph[target].name),
                dot_escape(&outcome.label)
            );
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(s: &str) -> String {
    s.replace(['"', '\n'], " ").replace(':', " –")
}

pub(crate) fn mermaid(routine: &Routine) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    for (ix, state) in routine.states() {
        let _ = writeln!(
            out,
            "    state \"{} ({})\" as {}",
            mermaid_text(&state.title),
            mermaid_text(&subtitle(routine, ix)),
            state.name
        );
    }
    let _ = writeln!(out, "    [*] --> {}", routine.start_state().name);
    for (ix, state) in routine.states() {
        for (outcome, target) in routine.outcomes(ix) {
            let _ = writeln!(
                out,
                "    {} --> {}: {}",
                state.name,
                routine.graph[target].name,
                mermaid_text(&outcome.label)
            );
        }
        if state.is_final() {
            let _ = writeln!(out, "    {} --> [*]", state.name);
        }
    }
    out
}

/// Rows by longest path from the start over the graph without its back edges.
fn layers(routine: &Routine) -> (BTreeMap<StateIx, usize>, HashSet<(StateIx, StateIx)>) {
    let graph = &routine.graph;
    // Back edges: found by a depth-first search from the start.
    let mut back = HashSet::new();
    let mut on_stack = HashSet::new();
    let mut done = HashSet::new();
    let mut stack: Vec<(StateIx, Vec<StateIx>)> = Vec::new();
    let children = |ix: StateIx| -> Vec<StateIx> {
        routine
            .outcomes(ix)
            .into_iter()
            .map(|(_, t)| t)
            .rev()
            .collect()
    };
    stack.push((routine.start, children(routine.start)));
    on_stack.insert(routine.start);
    while let Some((node, pending)) = stack.last_mut() {
        let node = *node;
        match pending.pop() {
            Some(next) if on_stack.contains(&next) => {
                back.insert((node, next));
            }
            Some(next) if !done.contains(&next) => {
                on_stack.insert(next);
                stack.push((next, children(next)));
            }
            Some(_) => {}
            None => {
                on_stack.remove(&node);
                done.insert(node);
                stack.pop();
            }
        }
    }
    let mut layer: BTreeMap<StateIx, usize> = graph.node_indices().map(|ix| (ix, 0)).collect();
    // Longest path by relaxation; the graph without back edges is acyclic, so |V| rounds suffice.
    for _ in 0..graph.node_count() {
        let mut changed = false;
        for edge in graph.edge_references() {
            let (s, t) = (edge.source(), edge.target());
            if back.contains(&(s, t)) || s == t {
                continue;
            }
            if layer[&t] < layer[&s] + 1 {
                layer.insert(t, layer[&s] + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (layer, back)
}

const BOX_H: f64 = 46.0;
const LABEL_H: f64 = 18.0;
const GAP: f64 = 28.0;
const ROW_GAP: f64 = 22.0;

/// One thing in a row of the layout: a state, or a point an edge passes through (its first point
/// below the source carries the edge's label).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    State(StateIx),
    Via { edge: usize, labelled: bool },
}

fn title_width(text: &str, px_per_char: f64) -> f64 {
    text.chars().count() as f64 * px_per_char
}

/// The picture: states on even rows by their distance from the start, edge labels and the bends
/// of long edges on the odd rows between, each row ordered by the mean position of its
/// neighbours (a few down-and-up sweeps) and placed near them without overlap.
pub(crate) fn svg(routine: &Routine) -> String {
    let graph = &routine.graph;
    let (layer, back) = layers(routine);
    let edges: Vec<(StateIx, StateIx, &str)> = graph
        .edge_references()
        .map(|e| (e.source(), e.target(), e.weight().label.as_str()))
        .collect();
    let forward = |i: usize| {
        let (s, t, _) = edges[i];
        !back.contains(&(s, t)) && layer[&t] > layer[&s]
    };
    let state_rows = layer.values().max().map_or(1, |m| m + 1);
    let rows = state_rows * 2 - 1;
    let mut order: Vec<Vec<Item>> = vec![Vec::new(); rows];
    for (&ix, &l) in &layer {
        order[2 * l].push(Item::State(ix));
    }
    // Each forward edge passes through every row between its ends.
    let mut path_rows: Vec<Vec<usize>> = vec![Vec::new(); edges.len()];
    for (i, &(s, t, _)) in edges.iter().enumerate() {
        if !forward(i) {
            continue;
        }
        let first = 2 * layer[&s] + 1;
        for (row, items) in order.iter_mut().enumerate().take(2 * layer[&t]).skip(first) {
            items.push(Item::Via {
                edge: i,
                labelled: row == first,
            });
            path_rows[i].push(row);
        }
    }
    let position = |order: &Vec<Vec<Item>>, row: usize, item: &Item| -> Option<usize> {
        order.get(row)?.iter().position(|x| match (x, item) {
            (Item::Via { edge: a, .. }, Item::Via { edge: b, .. }) => a == b,
            _ => x == item,
        })
    };
    // Barycentre sweeps, down then up, on row indices.
    let neighbours = |row: usize, item: &Item, towards: isize| -> Vec<Item> {
        let other = row as isize + towards;
        if other < 0 || other as usize >= rows {
            return vec![];
        }
        let other = other as usize;
        match item {
            Item::State(ix) => edges
                .iter()
                .enumerate()
                .filter(|&(i, _)| forward(i))
                .filter_map(|(i, &(s, t, _))| {
                    let via = Item::Via {
                        edge: i,
                        labelled: false,
                    };
                    if towards < 0 && t == *ix {
                        Some(if path_rows[i].contains(&other) {
                            via
                        } else {
                            Item::State(s)
                        })
                    } else if towards > 0 && s == *ix {
                        Some(if path_rows[i].contains(&other) {
                            via
                        } else {
                            Item::State(t)
                        })
                    } else {
                        None
                    }
                })
                .collect(),
            Item::Via { edge, .. } => {
                let (s, t, _) = edges[*edge];
                if path_rows[*edge].contains(&other) {
                    vec![Item::Via {
                        edge: *edge,
                        labelled: false,
                    }]
                } else if towards < 0 {
                    vec![Item::State(s)]
                } else {
                    vec![Item::State(t)]
                }
            }
        }
    };
    for sweep in 0..8 {
        let (range, towards): (Vec<usize>, isize) = if sweep % 2 == 0 {
            ((1..rows).collect(), -1)
        } else {
            ((0..rows.saturating_sub(1)).rev().collect(), 1)
        };
        for row in range {
            let other = (row as isize + towards) as usize;
            let mut keyed: Vec<(f64, Item)> = order[row]
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let ps: Vec<usize> = neighbours(row, item, towards)
                        .iter()
                        .filter_map(|n| position(&order, other, n))
                        .collect();
                    let key = if ps.is_empty() {
                        i as f64
                    } else {
                        ps.iter().sum::<usize>() as f64 / ps.len() as f64
                    };
                    (key, *item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            order[row] = keyed.into_iter().map(|(_, item)| item).collect();
        }
    }
    let width = |item: &Item| match item {
        Item::State(ix) => {
            let state = &graph[*ix];
            (title_width(&state.title, 7.9).max(title_width(&subtitle(routine, *ix), 6.3)) + 24.0)
                .max(110.0)
        }
        Item::Via {
            edge,
            labelled: true,
        } => title_width(edges[*edge].2, 6.2) + 12.0,
        Item::Via { .. } => 8.0,
    };
    // Place: each row packed, then items pulled towards their neighbours' centres.
    let mut x: Vec<Vec<f64>> = order
        .iter()
        .map(|row| {
            let mut at = 0.0;
            row.iter()
                .map(|item| {
                    let w = width(item);
                    let c = at + w / 2.0;
                    at += w + GAP;
                    c
                })
                .collect()
        })
        .collect();
    for sweep in 0..12 {
        let towards: isize = if sweep % 2 == 0 { -1 } else { 1 };
        for row in 0..rows {
            let other = row as isize + towards;
            if other < 0 || other as usize >= rows {
                continue;
            }
            let other = other as usize;
            let desired: Vec<f64> = order[row]
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let xs: Vec<f64> = neighbours(row, item, towards)
                        .iter()
                        .filter_map(|n| position(&order, other, n).map(|p| x[other][p]))
                        .collect();
                    if xs.is_empty() {
                        x[row][i]
                    } else {
                        xs.iter().sum::<f64>() / xs.len() as f64
                    }
                })
                .collect();
            // Left to right: no overlap; then right to left: no overlap, averaged.
            let n = desired.len();
            let mut left = desired.clone();
            for i in 1..n {
                let min =
                    left[i - 1] + (width(&order[row][i - 1]) + width(&order[row][i])) / 2.0 + GAP;
                left[i] = left[i].max(min);
            }
            let mut right = desired.clone();
            for i in (0..n.saturating_sub(1)).rev() {
                let max =
                    right[i + 1] - (width(&order[row][i + 1]) + width(&order[row][i])) / 2.0 - GAP;
                right[i] = right[i].min(max);
            }
            let mut merged: Vec<f64> = (0..n).map(|i| (left[i] + right[i]) / 2.0).collect();
            for i in 1..n {
                let min =
                    merged[i - 1] + (width(&order[row][i - 1]) + width(&order[row][i])) / 2.0 + GAP;
                merged[i] = merged[i].max(min);
            }
            x[row] = merged;
        }
    }
    let min_x = (0..rows)
        .flat_map(|r| {
            order[r]
                .iter()
                .enumerate()
                .map(move |(i, item)| (r, i, *item))
        })
        .map(|(r, i, item)| x[r][i] - width(&item) / 2.0)
        .fold(f64::INFINITY, f64::min);
    let max_x = (0..rows)
        .flat_map(|r| {
            order[r]
                .iter()
                .enumerate()
                .map(move |(i, item)| (r, i, *item))
        })
        .map(|(r, i, item)| x[r][i] + width(&item) / 2.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let shift = 40.0 - min_x;
    let side_room = 30.0 + 14.0 * back.len() as f64;
    let total_w = (max_x - min_x) + 80.0 + side_room;
    let mut y = Vec::with_capacity(rows);
    let mut at = 50.0;
    for row in 0..rows {
        y.push(at);
        at += if row % 2 == 0 { BOX_H } else { LABEL_H } + ROW_GAP;
    }
    let total_h = at + 20.0;
    let centre = |row: usize, item: &Item| -> (f64, f64) {
        let i = position(&order, row, item).unwrap_or(0);
        (x[row][i] + shift, y[row])
    };
    let state_at = |ix: StateIx| -> (f64, f64, f64) {
        let row = 2 * layer[&ix];
        let (cx, top) = centre(row, &Item::State(ix));
        (cx, top, width(&Item::State(ix)))
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {total_w:.0} {total_h:.0}\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" role=\"img\" aria-labelledby=\"graph-title\" font-family=\"Helvetica, Arial, sans-serif\">"
    );
    let _ = writeln!(
        out,
        "<title id=\"graph-title\">{}</title>",
        escape(&routine.title)
    );
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#444\"/></marker></defs>\n");
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
    let (sx, top, _) = state_at(routine.start);
    let _ = writeln!(
        out,
        "<circle cx=\"{sx:.1}\" cy=\"{:.1}\" r=\"6\" fill=\"#222\"/><line x1=\"{sx:.1}\" y1=\"{:.1}\" x2=\"{sx:.1}\" y2=\"{:.1}\" stroke=\"#444\" marker-end=\"url(#arrow)\"/>",
        top - 28.0,
        top - 22.0,
        top - 1.0
    );
    let mut labels = String::new();
    let mut side = 0usize;
    for (i, &(s, t, label)) in edges.iter().enumerate() {
        let (scx, stop, sw) = state_at(s);
        let (tcx, ttop, tw) = state_at(t);
        let (path, lx, ly) = if forward(i) {
            let mut points = vec![(scx, stop + BOX_H)];
            for &row in &path_rows[i] {
                let (cx, cy) = centre(
                    row,
                    &Item::Via {
                        edge: i,
                        labelled: false,
                    },
                );
                points.push((cx, cy));
                points.push((cx, cy + if row % 2 == 0 { BOX_H } else { LABEL_H }));
            }
            points.push((tcx, ttop));
            let mut d = format!("M {:.1} {:.1}", points[0].0, points[0].1);
            for pair in points.windows(2) {
                let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                let mid = (y1 + y2) / 2.0;
                let _ = write!(d, " C {x1:.1} {mid:.1}, {x2:.1} {mid:.1}, {x2:.1} {y2:.1}");
            }
            let (lx, ly) = match path_rows[i].first() {
                Some(&row) => {
                    let (cx, cy) = centre(
                        row,
                        &Item::Via {
                            edge: i,
                            labelled: true,
                        },
                    );
                    (cx, cy + LABEL_H / 2.0)
                }
                None => ((scx + tcx) / 2.0, (stop + BOX_H + ttop) / 2.0),
            };
            (d, lx, ly)
        } else {
            side += 1;
            let out_x = total_w - side_room + 14.0 * side as f64;
            let (y1, y2) = (stop + BOX_H / 2.0, ttop + BOX_H / 2.0);
            (
                format!(
                    "M {:.1} {y1:.1} C {out_x:.1} {y1:.1}, {out_x:.1} {y2:.1}, {:.1} {y2:.1}",
                    scx + sw / 2.0,
                    tcx + tw / 2.0
                ),
                out_x - 10.0,
                (y1 + y2) / 2.0,
            )
        };
        let _ = writeln!(
            out,
            "<path d=\"{path}\" fill=\"none\" stroke=\"#444\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/>"
        );
        let lw = title_width(label, 6.2) + 10.0;
        let _ = writeln!(
            labels,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{lw:.1}\" height=\"16\" rx=\"3\" fill=\"#fff\"/><text x=\"{lx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            lx - lw / 2.0,
            ly - 8.0,
            ly + 4.0,
            escape(label)
        );
    }
    for (ix, state) in routine.states() {
        let (cx, top, w) = state_at(ix);
        let (fill, stroke) = match state.result {
            None => ("#eef4fb", "#2b5c8a"),
            Some(super::model::ResultCategory::NoFinding) => ("#e9f6ec", "#2d7a3e"),
            Some(super::model::ResultCategory::PoliceReport) => ("#fbeaea", "#9b2c2c"),
            Some(super::model::ResultCategory::LabourLawAction) => ("#fdf3e3", "#9a6216"),
            Some(_) => ("#f2f2f2", "#555"),
        };
        let x0 = cx - w / 2.0;
        let _ = writeln!(
            out,
            "<g><title>{}</title><rect x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{w:.1}\" height=\"{BOX_H}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
            escape(&state.name),
            if state.is_final() { 2.5 } else { 1.3 }
        );
        let _ = writeln!(
            out,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#111\">{}</text>",
            top + 19.0,
            escape(&state.title)
        );
        let _ = writeln!(
            out,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>",
            top + 36.0,
            escape(&subtitle(routine, ix))
        );
    }
    out.push_str(&labels);
    out.push_str("</svg>\n");
    out
}
