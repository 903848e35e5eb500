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
    let mut layout = Layout::new(routine);
    layout.order_rows();
    layout.place();
    let drawing = Drawing::new(&layout);
    let mut out = String::new();
    drawing.head(&mut out);
    let labels = drawing.edges(&mut out);
    drawing.states(&mut out);
    out.push_str(&labels);
    out.push_str("</svg>\n");
    out
}

/// Whether the edge from `s` to `t` goes down the rows: not a back edge, and to a later row.
fn goes_down(
    layer: &BTreeMap<StateIx, usize>,
    back: &HashSet<(StateIx, StateIx)>,
    s: StateIx,
    t: StateIx,
) -> bool {
    !back.contains(&(s, t)) && layer[&t] > layer[&s]
}

/// The rows of the picture: the states and the points edges pass through, each row in order,
/// and where each is placed across.
struct Layout<'a> {
    routine: &'a Routine,
    /// Each state's row of states (its row in the picture is twice that).
    layer: BTreeMap<StateIx, usize>,
    back: HashSet<(StateIx, StateIx)>,
    /// Every edge: source, target, label.
    edges: Vec<(StateIx, StateIx, &'a str)>,
    /// The rows each forward edge passes through.
    path_rows: Vec<Vec<usize>>,
    rows: usize,
    /// Each row's items, left to right.
    order: Vec<Vec<Item>>,
    /// Each row's items' centres across, as `order` has them (empty until placed).
    x: Vec<Vec<f64>>,
}

impl<'a> Layout<'a> {
    /// The rows of `routine`: states on even rows by their distance from the start, and on the
    /// rows between, the points each forward edge passes through.
    fn new(routine: &'a Routine) -> Layout<'a> {
        let graph = &routine.graph;
        let (layer, back) = layers(routine);
        let edges: Vec<(StateIx, StateIx, &str)> = graph
            .edge_references()
            .map(|e| (e.source(), e.target(), e.weight().label.as_str()))
            .collect();
        let forward = |i: usize| {
            let (s, t, _) = edges[i];
            goes_down(&layer, &back, s, t)
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
        Layout {
            routine,
            layer,
            back,
            edges,
            path_rows,
            rows,
            order,
            x: Vec::new(),
        }
    }

    /// Whether edge `i` goes down the rows.
    fn forward(&self, i: usize) -> bool {
        let (s, t, _) = self.edges[i];
        goes_down(&self.layer, &self.back, s, t)
    }

    /// Where `item` is in row `row`, if there.
    fn position(&self, row: usize, item: &Item) -> Option<usize> {
        self.order.get(row)?.iter().position(|x| match (x, item) {
            (Item::Via { edge: a, .. }, Item::Via { edge: b, .. }) => a == b,
            _ => x == item,
        })
    }

    /// The items of the row `towards` (-1 above, 1 below) row `row` that `item` is joined to.
    fn neighbours(&self, row: usize, item: &Item, towards: isize) -> Vec<Item> {
        let (edges, path_rows) = (&self.edges, &self.path_rows);
        let other = row as isize + towards;
        if other < 0 || other as usize >= self.rows {
            return vec![];
        }
        let other = other as usize;
        match item {
            Item::State(ix) => edges
                .iter()
                .enumerate()
                .filter(|&(i, _)| self.forward(i))
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
    }

    /// How wide `item` is drawn.
    fn width(&self, item: &Item) -> f64 {
        match item {
            Item::State(ix) => {
                let state = &self.routine.graph[*ix];
                (title_width(&state.title, 7.9).max(title_width(&subtitle(self.routine, *ix), 6.3))
                    + 24.0)
                    .max(110.0)
            }
            Item::Via {
                edge,
                labelled: true,
            } => title_width(self.edges[*edge].2, 6.2) + 12.0,
            Item::Via { .. } => 8.0,
        }
    }

    /// Orders each row by the mean position of its neighbours: barycentre sweeps, down then
    /// up, on row indices.
    fn order_rows(&mut self) {
        let rows = self.rows;
        for sweep in 0..8 {
            let (range, towards): (Vec<usize>, isize) = if sweep % 2 == 0 {
                ((1..rows).collect(), -1)
            } else {
                ((0..rows.saturating_sub(1)).rev().collect(), 1)
            };
            for row in range {
                let other = (row as isize + towards) as usize;
                let mut keyed: Vec<(f64, Item)> = self.order[row]
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let ps: Vec<usize> = self
                            .neighbours(row, item, towards)
                            .iter()
                            .filter_map(|n| self.position(other, n))
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
                self.order[row] = keyed.into_iter().map(|(_, item)| item).collect();
            }
        }
    }

    /// Places the items across: each row packed, then items pulled towards their neighbours'
    /// centres.
    fn place(&mut self) {
        let rows = self.rows;
        let mut x: Vec<Vec<f64>> = self
            .order
            .iter()
            .map(|row| {
                let mut at = 0.0;
                row.iter()
                    .map(|item| {
                        let w = self.width(item);
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
                let desired: Vec<f64> = self.order[row]
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let xs: Vec<f64> = self
                            .neighbours(row, item, towards)
                            .iter()
                            .filter_map(|n| self.position(other, n).map(|p| x[other][p]))
                            .collect();
                        if xs.is_empty() {
                            x[row][i]
                        } else {
                            xs.iter().sum::<f64>() / xs.len() as f64
                        }
                    })
                    .collect();
                x[row] = self.without_overlap(row, &desired);
            }
        }
        self.x = x;
    }

    /// The centres `desired` of row `row`'s items moved apart so that none overlap: left to
    /// right, then right to left, averaged.
    fn without_overlap(&self, row: usize, desired: &[f64]) -> Vec<f64> {
        let width = |item: &Item| self.width(item);
        let order = &self.order;
        // Left to right: no overlap; then right to left: no overlap, averaged.
        let n = desired.len();
        let mut left = desired.to_vec();
        for i in 1..n {
            let min = left[i - 1] + (width(&order[row][i - 1]) + width(&order[row][i])) / 2.0 + GAP;
            left[i] = left[i].max(min);
        }
        let mut right = desired.to_vec();
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
        merged
    }
}

/// A placed layout in its frame: where each row is drawn down, and how large the picture is.
struct Drawing<'a> {
    layout: &'a Layout<'a>,
    /// Each row's top.
    y: Vec<f64>,
    /// Added to every centre across.
    shift: f64,
    /// The room on the right for the back edges.
    side_room: f64,
    total_w: f64,
    total_h: f64,
}

impl<'a> Drawing<'a> {
    /// The frame of `layout`, once placed.
    fn new(layout: &'a Layout<'a>) -> Drawing<'a> {
        let (order, x, rows) = (&layout.order, &layout.x, layout.rows);
        let width = |item: &Item| layout.width(item);
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
        let side_room = 30.0 + 14.0 * layout.back.len() as f64;
        let total_w = (max_x - min_x) + 80.0 + side_room;
        let mut y = Vec::with_capacity(rows);
        let mut at = 50.0;
        for row in 0..rows {
            y.push(at);
            at += if row % 2 == 0 { BOX_H } else { LABEL_H } + ROW_GAP;
        }
        let total_h = at + 20.0;
        Drawing {
            layout,
            y,
            shift,
            side_room,
            total_w,
            total_h,
        }
    }

    /// The centre across and the top of `item` in row `row`.
    fn centre(&self, row: usize, item: &Item) -> (f64, f64) {
        let i = self.layout.position(row, item).unwrap_or(0);
        (self.layout.x[row][i] + self.shift, self.y[row])
    }

    /// The centre across, the top and the width of state `ix`'s box.
    fn state_at(&self, ix: StateIx) -> (f64, f64, f64) {
        let row = 2 * self.layout.layer[&ix];
        let (cx, top) = self.centre(row, &Item::State(ix));
        (cx, top, self.layout.width(&Item::State(ix)))
    }

    /// Writes to `out` the picture's opening: its size, title, arrow head, background and the
    /// arrow into the start state.
    fn head(&self, out: &mut String) {
        let (total_w, total_h) = (self.total_w, self.total_h);
        let routine = self.layout.routine;
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
        let (sx, top, _) = self.state_at(routine.start);
        let _ = writeln!(
            out,
            "<circle cx=\"{sx:.1}\" cy=\"{:.1}\" r=\"6\" fill=\"#222\"/><line x1=\"{sx:.1}\" y1=\"{:.1}\" x2=\"{sx:.1}\" y2=\"{:.1}\" stroke=\"#444\" marker-end=\"url(#arrow)\"/>",
            top - 28.0,
            top - 22.0,
            top - 1.0
        );
    }

    /// Writes every edge's path to `out`; returns their labels, drawn last (on top).
    fn edges(&self, out: &mut String) -> String {
        let mut labels = String::new();
        let mut side = 0usize;
        for (i, &(s, t, label)) in self.layout.edges.iter().enumerate() {
            let (scx, stop, sw) = self.state_at(s);
            let (tcx, ttop, tw) = self.state_at(t);
            let (path, lx, ly) = if self.layout.forward(i) {
                self.forward_path(i, (scx, stop), (tcx, ttop))
            } else {
                side += 1;
                let out_x = self.total_w - self.side_room + 14.0 * side as f64;
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
        labels
    }

    /// The path of forward edge `i` from its source's box (centre across and top `(scx, stop)`)
    /// down through its rows to its target's (`(tcx, ttop)`), and where its label goes.
    fn forward_path(
        &self,
        i: usize,
        (scx, stop): (f64, f64),
        (tcx, ttop): (f64, f64),
    ) -> (String, f64, f64) {
        let path_rows = &self.layout.path_rows;
        let mut points = vec![(scx, stop + BOX_H)];
        for &row in &path_rows[i] {
            let (cx, cy) = self.centre(
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
                let (cx, cy) = self.centre(
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
    }

    /// Writes every state's box, with its title and subtitle, to `out`.
    fn states(&self, out: &mut String) {
        let routine = self.layout.routine;
        for (ix, state) in routine.states() {
            let (cx, top, w) = self.state_at(ix);
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
    }
}
