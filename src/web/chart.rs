//! Horizontal bar charts as inline SVG, for shares from 0 to 100 %: one row per bar with its
//! label, the bar on a light track and the figure after it. The picture is part of the page (no
//! script, no image request); a table beside it carries the same figures for screen readers.

use crate::svg::{escape, shorten};
use std::fmt::Write as _;

/// One bar: a label, a share in [0, 1] and the figures behind it ("12 av 40").
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub share: f64,
    pub detail: String,
}

const WIDTH: f64 = 720.0;
const LABEL_WIDTH: f64 = 300.0;
/// Room for "0 % (ingen omgång i år)".
const VALUE_WIDTH: f64 = 180.0;
const ROW: f64 = 24.0;
const BAR: f64 = 16.0;
const TOP: f64 = 8.0;
const AXIS: f64 = 26.0;
/// Characters of a label shown before it is cut (the whole label is in the row's tooltip).
const LABEL_CHARS: usize = 40;

/// "83 %", Swedish style.
pub fn percent(share: f64) -> String {
    format!("{:.0} %", (share.clamp(0.0, 1.0) * 100.0).round())
}

/// The chart `id` (unique on the page) titled `title`.
pub fn bars(id: &str, title: &str, bars: &[Bar]) -> String {
    let plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let height = TOP + ROW * bars.len() as f64 + AXIS;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"13\">\
         <title id=\"{id}-title\">{}</title>",
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let share = if bar.share.is_finite() {
            bar.share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let label = shorten(&bar.label, LABEL_CHARS);
        let _ = write!(
            svg,
            "<g><title>{}: {} ({})</title>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{:.1}\" width=\"{plot:.1}\" height=\"{BAR}\" fill=\"#e3eaf2\"/>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"#1f5c99\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1a1a1a\">{} <tspan fill=\"#4a4a4a\">({})</tspan></text></g>",
            escape(&bar.label),
            percent(share),
            escape(&bar.detail),
            LABEL_WIDTH - 8.0,
            y + BAR - 3.0,
            escape(&label),
            y,
            y,
            plot * share,
            LABEL_WIDTH + plot + 6.0,
            y + BAR - 3.0,
            percent(share),
            escape(&bar.detail),
        );
    }
    let axis_y = TOP + ROW * bars.len() as f64 + 2.0;
    for step in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = LABEL_WIDTH + plot * step;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#8a8a8a\" stroke-width=\"0.6\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#4a4a4a\" font-size=\"11\">{}</text>",
            axis_y + 14.0,
            percent(step)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_row_per_bar_and_escapes_labels() {
        let svg = bars(
            "c1",
            "Täckning <2027>",
            &[
                Bar {
                    label: "Hemtjänst & Norr".into(),
                    share: 0.5,
                    detail: "2 av 4".into(),
                },
                Bar {
                    label: "Ekbacken".into(),
                    share: f64::NAN,
                    detail: "0 av 0".into(),
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Täckning &lt;2027&gt;"));
        assert!(svg.contains("Hemtjänst &amp; Norr"));
        assert_eq!(svg.matches("<g>").count(), 2);
        assert!(svg.contains("50 %"));
        assert!(!svg.contains("NaN"));
    }
}
