//! Line charts as inline SVG, drawn by perfgate itself so the HTML report needs no script and
//! no network: axes with round ticks, lines broken where a value is missing, shaded and named
//! stage bands. Colours are CSS classes (`c0`…`c5`), so the page's style sheet chooses them for
//! light and dark mode.

use std::fmt::Write as _;

/// One line: its points in data units; `None` breaks it (a second without a value).
pub struct Line {
    pub label: String,
    /// The CSS class of its colour: `c0` … `c5`.
    pub class: &'static str,
    pub points: Vec<Option<(f64, f64)>>,
    pub dashed: bool,
}

/// A shaded stretch of the x axis with its name (a stage).
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub name: String,
}

pub struct Chart {
    /// For screen readers (the heading above the chart says it for everyone else).
    pub title: String,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    /// The x range and its labelled ticks.
    pub x_range: (f64, f64),
    pub x_ticks: Vec<(f64, String)>,
    /// How y values are written on the axis ("12 ms", "1.5k").
    pub y_format: fn(f64) -> String,
}

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 24.0;

/// A round step (1, 2 or 5 × 10^k) giving at most `max_ticks` ticks up to `max`.
pub fn nice_step(max: f64, max_ticks: usize) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let raw = max / max_ticks.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Ticks of a time axis of `seconds`, labelled `30s`, `2m`, `1h`.
pub fn time_ticks(seconds: f64) -> Vec<(f64, String)> {
    let step = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|s| seconds / s <= 8.0)
    .unwrap_or(7200.0);
    let label = |t: f64| {
        if t >= 3600.0 && t % 3600.0 == 0.0 {
            format!("{}h", t / 3600.0)
        } else if t >= 60.0 && t % 60.0 == 0.0 {
            format!("{}m", t / 60.0)
        } else {
            format!("{t}s")
        }
    };
    let mut out = Vec::new();
    let mut t = 0.0;
    while t <= seconds + 1e-9 {
        out.push((t, label(t)));
        t += step;
    }
    out
}

/// Text safe inside SVG and HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn render(c: &Chart) -> String {
    let y_max = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().flatten().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let step = nice_step(y_max * 1.05, 4);
    let top = (y_max * 1.05 / step).ceil().max(1.0) * step;
    let (x0, x1) = c.x_range;
    let span = if x1 > x0 { x1 - x0 } else { 1.0 };
    let px = |x: f64| LEFT + (x - x0) / span * (W - LEFT - RIGHT);
    let py = |y: f64| TOP + (1.0 - y / top) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(&c.title)
    );
    for (i, b) in c.bands.iter().enumerate() {
        let (a, z) = (px(b.from.max(x0)), px(b.to.min(x1)));
        let _ = write!(
            s,
            r#"<rect class="band{}" x="{a:.1}" y="{TOP}" width="{:.1}" height="{:.1}"/><text class="bandname" x="{:.1}" y="{:.1}">{}</text>"#,
            i % 2,
            (z - a).max(0.0),
            H - TOP - BOTTOM,
            a + 3.0,
            TOP + 10.0,
            escape(&b.name)
        );
    }
    let mut y = 0.0;
    while y <= top + step * 1e-9 {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            py(y),
            py(y),
            LEFT - 4.0,
            py(y) + 3.5,
            escape(&(c.y_format)(y))
        );
        y += step;
    }
    for (x, label) in &c.x_ticks {
        let _ = write!(
            s,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            px(*x),
            H - BOTTOM + 14.0,
            escape(label)
        );
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#,
        W - RIGHT,
        py(0.0),
        py(0.0)
    );
    for l in &c.lines {
        for run in l.points.split(|p| p.is_none()).filter(|r| !r.is_empty()) {
            let pts: Vec<String> = run
                .iter()
                .flatten()
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(y.clamp(0.0, top))))
                .collect();
            let dash = if l.dashed { " dashed" } else { "" };
            if pts.len() == 1 {
                let (x, y) = run[0].unwrap_or_default();
                let _ = write!(
                    s,
                    r#"<circle class="dot {}" cx="{:.1}" cy="{:.1}" r="2.5"/>"#,
                    l.class,
                    px(x),
                    py(y.clamp(0.0, top))
                );
            } else {
                let _ = write!(
                    s,
                    r#"<polyline class="line {}{dash}" points="{}"><title>{}</title></polyline>"#,
                    l.class,
                    pts.join(" "),
                    escape(&l.label)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// The chart's legend, as HTML beneath it.
pub fn legend(lines: &[Line]) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                r#"<span class="key"><i class="sw {}{}"></i>{}</span>"#,
                l.class,
                if l.dashed { " dashed" } else { "" },
                escape(&l.label)
            )
        })
        .collect();
    format!(r#"<div class="legend">{}</div>"#, items.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_cover_the_range() {
        assert_eq!(nice_step(9.0, 4), 5.0);
        assert_eq!(nice_step(230.0, 4), 100.0);
        assert_eq!(nice_step(0.0, 4), 1.0);
        assert_eq!(nice_step(0.8, 4), 0.2);
        let t = time_ticks(8.0);
        assert_eq!(t.first().unwrap().1, "0s");
        assert_eq!(t.last().unwrap().1, "8s");
        assert_eq!(time_ticks(3600.0).last().unwrap().1, "1h");
    }

    #[test]
    fn a_missing_value_breaks_the_line_and_text_is_escaped() {
        let c = Chart {
            title: "p95 <GET /x>".into(),
            lines: vec![Line {
                label: "a&b".into(),
                class: "c0",
                points: vec![Some((0.0, 1.0)), Some((1.0, 2.0)), None, Some((3.0, 1.0))],
                dashed: false,
            }],
            bands: vec![Band {
                from: 0.0,
                to: 1.0,
                name: "ramp".into(),
            }],
            x_range: (0.0, 3.0),
            x_ticks: time_ticks(3.0),
            y_format: |v| format!("{v}"),
        };
        let svg = render(&c);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("p95 &lt;GET /x&gt;") && svg.contains("a&amp;b"));
        assert!(svg.contains(">ramp</text>"));
    }
}
