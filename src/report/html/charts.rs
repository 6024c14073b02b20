//! The HTML report's charts: the run over time (requests and errors, latency per endpoint, the
//! load asked and achieved, dropped iterations, the target's CPU and memory), each endpoint's
//! latency distribution against the baseline's, and a capacity search's curve.

use std::fmt::Write as _;

use crate::compare::{Comparison, Row};
use crate::report::series::{merged_histogram, percentile_curve, Series};
use crate::report::svg::{self, escape, Band, Chart, Line};
use crate::report::table;
use crate::result::{CapacityResult, RunResult};

/// The most points a time chart draws (a longer run's seconds are grouped).
pub const MAX_POINTS: usize = 600;

fn ms(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn count(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn line(label: &str, class: &'static str, xs: &[f64], ys: &[Option<f64>], dashed: bool) -> Line {
    Line {
        label: label.to_string(),
        class,
        points: xs.iter().zip(ys).map(|(x, y)| y.map(|y| (*x, y))).collect(),
        dashed,
    }
}

fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

/// A chart in its figure: heading, SVG, legend, caption.
fn figure(title: &str, caption: &str, chart: Chart) -> String {
    let mut s = format!("<figure><h3>{}</h3>", escape(title));
    s.push_str(&svg::render(&chart));
    s.push_str(&svg::legend(&chart.lines));
    if !caption.is_empty() {
        let _ = write!(s, "<figcaption>{}</figcaption>", escape(caption));
    }
    s.push_str("</figure>");
    s
}

/// The two sides' series on one time axis.
struct Time<'a> {
    cur: &'a Series,
    base: Option<&'a Series>,
    end: f64,
}

impl Time<'_> {
    fn chart(&self, title: &str, lines: Vec<Line>, y_format: fn(f64) -> String) -> Chart {
        let step = self.cur.step_s as f64;
        Chart {
            title: title.to_string(),
            lines,
            bands: self
                .cur
                .bands
                .iter()
                .map(|b| Band {
                    from: b.from as f64 * step,
                    to: b.to as f64 * step,
                    name: b.name.clone(),
                })
                .collect(),
            x_range: (0.0, self.end),
            x_ticks: svg::time_ticks(self.end),
            y_format,
        }
    }
}

/// The charts over time; empty for a result without trials.
pub fn over_time(cur: &RunResult, base: Option<&RunResult>) -> Result<String, String> {
    if cur.trials.is_empty() {
        return Ok(String::new());
    }
    let s = Series::of(cur, MAX_POINTS)?;
    let b = base
        .filter(|b| !b.trials.is_empty())
        .map(|b| Series::of(b, MAX_POINTS))
        .transpose()?;
    let (x, bx) = (s.x(), b.as_ref().map(Series::x).unwrap_or_default());
    let end = x
        .last()
        .copied()
        .unwrap_or(1.0)
        .max(bx.last().copied().unwrap_or(0.0));
    let t = Time {
        cur: &s,
        base: b.as_ref(),
        end,
    };
    let mut out = format!(
        "<p class=\"muted\">Each point is second {} of the measured part{}, over the {} trials of the \
         current run{}; stages are shaded.</p><div class=\"grid\">",
        if s.step_s == 1 { "i".to_string() } else { format!("group of {} s", s.step_s) },
        if s.step_s == 1 { " (warmup excluded)" } else { "" },
        s.trials,
        if t.base.is_some() { " (dashed: the baseline's)" } else { "" },
    );
    let mut lines = vec![
        line("requests/s", "c0", &x, &some(&s.rps), false),
        line("errors/s", "c3", &x, &some(&s.errors_per_s), false),
    ];
    if let Some(b) = t.base {
        lines.push(line("baseline requests/s", "c5", &bx, &some(&b.rps), true));
    }
    out.push_str(&figure(
        "Requests and errors per second",
        "",
        t.chart("requests and errors per second", lines, count),
    ));
    let mut lines = vec![line("p95, all endpoints", "c0", &x, &s.p95, false)];
    if let Some(b) = t.base {
        lines.push(line("baseline p95", "c5", &bx, &b.p95, true));
    }
    out.push_str(&figure(
        "p95 latency, all endpoints",
        "",
        t.chart("p95 latency over time", lines, ms),
    ));
    out.push_str(&load_charts(&t, &x));
    out.push_str("</div><h3>Latency per endpoint</h3><div class=\"grid\">");
    for e in &s.endpoints {
        let mut lines = vec![
            line("p50", "c2", &x, &e.p50, false),
            line("p95", "c0", &x, &e.p95, false),
            line("p99", "c1", &x, &e.p99, false),
        ];
        if let Some(be) = t
            .base
            .and_then(|b| b.endpoints.iter().find(|x| x.name == e.name))
        {
            lines.push(line("baseline p95", "c5", &bx, &be.p95, true));
        }
        out.push_str(&figure(
            &e.name,
            "",
            t.chart(&format!("{} latency over time", e.name), lines, ms),
        ));
    }
    out.push_str("</div>");
    Ok(out)
}

/// Load asked and achieved, dropped iterations, and the target's CPU and memory.
fn load_charts(t: &Time, x: &[f64]) -> String {
    let s = t.cur;
    let mut out = String::new();
    if !s.asked.is_empty() {
        let open = s.achieved.len() == s.asked.len() && s.dropped_per_s.iter().any(|d| d.is_some());
        let (title, asked, got) = if s.bands.is_empty() && !open {
            ("Users", "users asked for", "users active")
        } else {
            (
                "Load",
                "asked for",
                "achieved (active users, or iterations completed/s)",
            )
        };
        let lines = vec![
            line(asked, "c5", x, &s.asked, true),
            line(got, "c4", x, &s.achieved, false),
        ];
        out.push_str(&figure(
            title,
            "",
            t.chart("load asked and achieved", lines, count),
        ));
        if s.dropped_per_s.iter().flatten().any(|d| *d > 0.0) {
            let lines = vec![line(
                "dropped iterations/s",
                "c3",
                x,
                &s.dropped_per_s,
                false,
            )];
            out.push_str(&figure(
                "Dropped iterations",
                "Iterations not started because max_in_flight were already running.",
                t.chart("dropped iterations per second", lines, count),
            ));
        }
    }
    if !s.cpu_cores.is_empty() {
        let lines = vec![line("target CPU (cores)", "c4", x, &s.cpu_cores, false)];
        out.push_str(&figure(
            "Target CPU",
            "",
            t.chart("target CPU cores", lines, |v| format!("{v:.2}")),
        ));
        let lines = vec![line("target RSS (MB)", "c2", x, &s.rss_mb, false)];
        out.push_str(&figure(
            "Target memory",
            "",
            t.chart("target resident memory", lines, |v| format!("{v:.0} MB")),
        ));
    }
    out
}

const PERCENTILE_TICKS: [&str; 6] = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];

/// The rows of an endpoint for the whole run (not a stage), for the caption.
fn endpoint_rows<'a>(c: &'a Comparison, name: &'a str) -> impl Iterator<Item = &'a Row> + 'a {
    c.rows
        .iter()
        .filter(move |r| r.endpoint == name && r.stage.is_none() && r.scenario.is_none())
        .filter(|r| r.metric.is_latency())
}

/// Each endpoint's latency distribution, current over baseline, as a percentile plot.
pub fn distributions(
    c: &Comparison,
    cur: &RunResult,
    base: Option<&RunResult>,
) -> Result<String, String> {
    let mut out = String::from("<div class=\"grid\">");
    for name in cur.endpoint_names() {
        let Some(h) = merged_histogram(cur, &name)? else {
            continue;
        };
        let bh = match base {
            Some(b) => merged_histogram(b, &name)?,
            None => None,
        };
        let curve = percentile_curve(&h);
        let bcurve = bh.as_ref().map(percentile_curve).unwrap_or_default();
        let reach = curve
            .last()
            .map_or(0.0, |p| p.0)
            .max(bcurve.last().map_or(0.0, |p| p.0));
        let end = reach.ceil().max(1.0);
        let mut lines = vec![Line {
            label: "current".into(),
            class: "c0",
            points: curve.iter().map(|p| Some(*p)).collect(),
            dashed: false,
        }];
        if !bcurve.is_empty() {
            lines.insert(
                0,
                Line {
                    label: "baseline".into(),
                    class: "c5",
                    points: bcurve.iter().map(|p| Some(*p)).collect(),
                    dashed: true,
                },
            );
        }
        let caption: Vec<String> = endpoint_rows(c, &name)
            .map(|r| {
                format!(
                    "{} {} ({})",
                    r.metric.name(),
                    table::change(r),
                    r.verdict.label()
                )
            })
            .collect();
        let chart = Chart {
            title: format!("{name} latency by percentile"),
            lines,
            bands: Vec::new(),
            x_range: (0.0, end),
            x_ticks: PERCENTILE_TICKS
                .iter()
                .enumerate()
                .take(end as usize + 1)
                .map(|(i, l)| (i as f64, l.to_string()))
                .collect(),
            y_format: ms,
        };
        let n = h.len();
        let caption = format!(
            "{n} requests{}. {}",
            bh.map(|b| format!(" (baseline {})", b.len()))
                .unwrap_or_default(),
            caption.join(" · ")
        );
        out.push_str(&figure(&name, &caption, chart));
    }
    out.push_str("</div>");
    Ok(out)
}

/// A capacity search: throughput and p95 against the level.
pub fn capacity(c: &CapacityResult) -> String {
    let mut levels: Vec<_> = c.levels.iter().collect();
    levels.sort_by(|a, b| a.level.total_cmp(&b.level));
    let top = levels.last().map_or(1.0, |l| l.level).max(1.0);
    let step = svg::nice_step(top, 6);
    let ticks: Vec<(f64, String)> = (0..=((top / step).ceil() as usize))
        .map(|i| (i as f64 * step, count(i as f64 * step)))
        .collect();
    let end = (top / step).ceil() * step;
    let pts = |f: &dyn Fn(&crate::result::CapacityLevel) -> Option<f64>| {
        levels.iter().map(|l| f(l).map(|v| (l.level, v))).collect()
    };
    let mk = |title: &str, lines, y_format| Chart {
        title: title.into(),
        lines,
        bands: Vec::new(),
        x_range: (0.0, end),
        x_ticks: ticks.clone(),
        y_format,
    };
    let tp = vec![Line {
        label: "requests/s".into(),
        class: "c0",
        points: pts(&|l| Some(l.throughput_rps)),
        dashed: false,
    }];
    let lat = vec![Line {
        label: "p95".into(),
        class: "c1",
        points: pts(&|l| l.latency_ms.as_ref().map(|p| p.p95)),
        dashed: false,
    }];
    format!(
        "<div class=\"grid\">{}{}</div>",
        figure(
            &format!("Throughput by {}", c.unit),
            "",
            mk("throughput by level", tp, count)
        ),
        figure(
            &format!("p95 by {}", c.unit),
            "",
            mk("p95 by level", lat, ms)
        )
    )
}
