//! Horizontal bar charts as inline SVG, for shares from 0 to 100 %: one row per bar with its
//! label, the bar on a light track and the figure after it. The picture is part of the page (no
//! script, no image request); a table beside it carries the same figures for screen readers.

use crate::svg::{escape, shorten};
use std::fmt::Write as _;

/// One bar: a label, a share in [0, 1] and the figures behind it ("12 av 40").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub share: f64,
    pub detail: String,
}

/// Narrow enough that a phone shows it near its own size (the text stays readable): each row
/// is its label with the figure on the right, and the bar below across the whole width.
const WIDTH: f64 = 400.0;
const ROW: f64 = 42.0;
const BAR: f64 = 12.0;
const TOP: f64 = 4.0;
const AXIS: f64 = 20.0;
/// Characters of a label shown before it is cut (the whole label is in the row's tooltip).
const LABEL_CHARS: usize = 40;

/// "83 %", Swedish style.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.0} %", (share.clamp(0.0, 1.0) * 100.0).round())
}

/// The chart `id` (unique on the page) titled `title`.
pub(crate) fn bars(id: &str, title: &str, bars: &[Bar]) -> String {
    let height = TOP + ROW * bars.len() as f64 + AXIS;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"15\">\
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
        let text_y = y + 15.0;
        let bar_y = y + 21.0;
        let _ = write!(
            svg,
            "<g><title>{}: {} ({})</title>\
             <text x=\"0\" y=\"{text_y:.1}\" fill=\"#1a1a1a\">{}</text>\
             <text x=\"{WIDTH}\" y=\"{text_y:.1}\" text-anchor=\"end\" fill=\"#1a1a1a\" font-weight=\"600\">{}</text>\
             <rect x=\"0\" y=\"{bar_y:.1}\" width=\"{WIDTH}\" height=\"{BAR}\" fill=\"#e3eaf2\"/>\
             <rect x=\"0\" y=\"{bar_y:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"#1f5c99\"/></g>",
            escape(&bar.label),
            percent(share),
            escape(&bar.detail),
            escape(&label),
            percent(share),
            WIDTH * share,
        );
    }
    let axis_y = TOP + ROW * bars.len() as f64;
    for (step, anchor) in [(0.0, "start"), (0.5, "middle"), (1.0, "end")] {
        let x = WIDTH * step;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\" stroke=\"#8a8a8a\" stroke-width=\"0.6\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#4a4a4a\" font-size=\"12\">{}</text>",
            axis_y + 15.0,
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
