//! Charts for the yearly summary as inline SVG, written by hand, so that the emailed HTML needs
//! nothing from outside: horizontal bars, this year beside the previous one.

use crate::svg::{escape, shorten};
use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const LABEL: f64 = 220.0;
/// Characters of a label that fit left of the bars at 11 px.
const LABEL_CHARS: usize = 36;
const BAR: f64 = 11.0;
const GAP: f64 = 8.0;
const THIS_YEAR: &str = "#1f5f99";
const PREVIOUS: &str = "#9dbbd6";

/// One row of a chart: a label and the values of this year and the previous.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub this: f64,
    pub previous: f64,
}

fn number(v: f64, unit: &str) -> String {
    let text = if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}").replace('.', ",")
    };
    format!("{text}{unit}")
}

/// A bar chart titled `title`, years `year` and `previous_year`; `unit` follows each value
/// (`" %"`), `max` fixes the scale (`None`: the largest value).
pub(crate) fn bars(
    title: &str,
    year: i32,
    previous_year: Option<i32>,
    rows: &[Bar],
    unit: &str,
    max: Option<f64>,
) -> String {
    let top = 40.0;
    // Without a year before, one bar a row.
    let bars = if previous_year.is_some() { 2.0 } else { 1.0 };
    let row_height = bars * BAR + GAP;
    let height = top + rows.len() as f64 * row_height + 10.0;
    let largest = max.unwrap_or_else(|| {
        rows.iter()
            .flat_map(|r| {
                [
                    r.this,
                    if previous_year.is_some() {
                        r.previous
                    } else {
                        0.0
                    },
                ]
            })
            .fold(0.0, f64::max)
    });
    let scale = if largest > 0.0 {
        (WIDTH - LABEL - 60.0) / largest
    } else {
        0.0
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{t}" font-family="Helvetica, Arial, sans-serif" font-size="11">"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r#"<title>{t}</title><text x="0" y="14" font-size="13" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r#"<rect x="{LABEL}" y="22" width="10" height="10" fill="{THIS_YEAR}"/><text x="{}" y="31">{year}</text>"#,
        LABEL + 14.0,
    );
    if let Some(previous_year) = previous_year {
        let _ = write!(
            svg,
            r#"<rect x="{}" y="22" width="10" height="10" fill="{PREVIOUS}"/><text x="{}" y="31">{previous_year}</text>"#,
            LABEL + 60.0,
            LABEL + 74.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * row_height;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LABEL - 6.0,
            y + BAR + 4.0,
            escape(&shorten(&r.label, LABEL_CHARS))
        );
        let series = [(r.this, THIS_YEAR), (r.previous, PREVIOUS)];
        for (k, (value, colour)) in series.into_iter().take(bars as usize).enumerate() {
            let yy = y + k as f64 * BAR;
            let w = (value.max(0.0) * scale).max(if value > 0.0 { 1.0 } else { 0.0 });
            let _ = write!(
                svg,
                r#"<rect x="{LABEL}" y="{yy}" width="{w:.1}" height="{}" fill="{colour}"/><text x="{:.1}" y="{}">{}</text>"#,
                BAR - 1.0,
                LABEL + w + 4.0,
                yy + BAR - 2.0,
                number(value, unit)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_self_contained_svg_with_escaped_labels() {
        let svg = bars(
            "Resultat <2027>",
            2027,
            Some(2026),
            &[
                Bar {
                    label: "Ingen anmärkning & annat".into(),
                    this: 40.0,
                    previous: 35.0,
                },
                Bar {
                    label: "Polisanmälan".into(),
                    this: 0.0,
                    previous: 1.5,
                },
            ],
            "",
            None,
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("Resultat &lt;2027&gt;"));
        assert!(svg.contains("Ingen anmärkning &amp; annat"));
        assert!(svg.contains(">1,5<"));
        assert!(!svg.contains("http://") || svg.matches("http://").count() == 1);
        assert!(svg.contains(">2026<"));
        // Without a year before: one bar a row and no legend for it.
        let one = bars(
            "Resultat",
            2027,
            None,
            &[Bar {
                label: "Ingen anmärkning".into(),
                this: 4.0,
                previous: 0.0,
            }],
            "",
            None,
        );
        assert!(!one.contains(">2026<"));
        assert_eq!(
            one.matches("<rect").count(),
            2,
            "the legend's and the bar: {one}"
        );
    }
}
