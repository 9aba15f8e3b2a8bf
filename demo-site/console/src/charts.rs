//! Charts as SVG markup built in Rust: a daily line chart and a per-dialogue funnel. Every label
//! is escaped; the numbers are formatted by us.

use crate::dom::esc;

/// Colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics).
pub const SERIES_COLOURS: [&str; 4] = ["#2446c7", "#0a7a55", "#b45309", "#9d174d"];

/// A line chart: `labels` on x, one line per series (name, values).
pub fn lines(title: &str, labels: &[String], series: &[(&str, Vec<i64>)]) -> String {
    let (w, h, left, bottom, top) = (720.0, 260.0, 44.0, 36.0, 30.0);
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = labels.len().max(1);
    let x = |i: usize| {
        left + (w - left - 12.0)
            * if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            }
    };
    let y = |v: i64| top + (h - top - bottom) * (1.0 - v as f64 / max);
    let mut s = format!("<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-t\"><title id=\"chart-t\">{}</title>", esc(title));
    for k in 0..=4 {
        let v = (max * k as f64 / 4.0).round() as i64;
        let yy = y(v);
        s += &format!("<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{}\" y2=\"{yy:.1}\" stroke=\"#e5e7eb\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>", w - 12.0, left - 6.0, yy + 4.0);
    }
    let step = (n / 8).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            s += &format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x(i),
                h - bottom + 16.0,
                esc(l.get(5..).unwrap_or(l))
            );
        }
    }
    for (si, (name, vals)) in series.iter().enumerate() {
        let c = SERIES_COLOURS[si % SERIES_COLOURS.len()];
        let pts: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2.5\" points=\"{}\"/>",
            pts.join(" ")
        );
        for (i, v) in vals.iter().enumerate() {
            s += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{c}\"><title>{}: {} {v}</title></circle>", x(i), y(*v), esc(name), esc(labels.get(i).map(String::as_str).unwrap_or("")));
        }
        let lx = left + 8.0 + si as f64 * 130.0;
        s += &format!("<rect x=\"{lx}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"{}\" y=\"18\">{}</text>", lx + 16.0, esc(name));
    }
    s + "</svg>"
}

/// A funnel: one row of bars per step, width relative to the first step.
pub fn funnel(title: &str, steps: &[(&str, i64)]) -> String {
    let (w, row) = (520.0, 30.0);
    let h = row * steps.len() as f64 + 10.0;
    let first = steps.first().map(|(_, v)| *v).unwrap_or(0).max(1) as f64;
    let mut s = format!(
        "<svg class=\"chart funnel\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title)
    );
    for (i, (name, v)) in steps.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let bw = ((w - 240.0) * (*v as f64 / first)).max(2.0);
        let pct = if first > 0.0 {
            100.0 * *v as f64 / first
        } else {
            0.0
        };
        s += &format!(
            "<text x=\"0\" y=\"{:.1}\">{}</text><rect x=\"110\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"20\" rx=\"4\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{v} ({pct:.0}%)</text>",
            y + 14.0,
            esc(name),
            SERIES_COLOURS[i % 2],
            116.0 + bw,
            y + 14.0
        );
    }
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_draw_every_point() {
        let svg = lines(
            "t<",
            &["2027-01-01".into(), "2027-01-02".into()],
            &[("a&b", vec![1, 3])],
        );
        assert!(svg.contains("t&lt;") && svg.contains("a&amp;b"));
        assert_eq!(svg.matches("<circle").count(), 2);
        let f = funnel("f", &[("triggered", 10), ("engaged", 5)]);
        assert!(f.contains("5 (50%)"));
    }
}
