//! Charts GitHub renders natively in a comment: a Mermaid `xychart-beta` of p95 over time,
//! baseline against current, for the endpoints that failed or warned (or the busiest endpoint
//! when all passed). No image hosting; a few hundred bytes per chart, so the comment stays far
//! within GitHub's size limit.

use std::fmt::Write as _;

use super::series::Series;
use super::Report;
use crate::compare::Verdict;

/// The most points a chart draws, and the most charts a comment carries.
const MAX_POINTS: usize = 40;
const MAX_CHARTS: usize = 3;
/// Baseline grey, current red: told apart at a glance, in light and dark mode. Mermaid's
/// default palette draws a second line almost invisibly.
const PALETTE: &str = "#8b949e, #d1242f";

/// Text Mermaid takes inside a quoted title.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '"' | '\n' | '\r' | '`' | ';' | '#') {
                '\''
            } else {
                c
            }
        })
        .collect()
}

fn number(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// The endpoints to chart: those with a failing or warning latency check, worst first; or
/// the one with the most requests.
fn chosen(r: &Report, cur: &Series) -> Vec<String> {
    let mut rows: Vec<_> = r
        .comparison
        .rows
        .iter()
        .filter(|x| matches!(x.verdict, Verdict::Fail | Verdict::Warn) && x.metric.is_latency())
        .filter(|x| !x.endpoint.is_empty() && x.scenario.is_none())
        .collect();
    rows.sort_by_key(|x| std::cmp::Reverse(x.verdict));
    let mut names: Vec<String> = Vec::new();
    for x in rows {
        if !names.contains(&x.endpoint) && cur.endpoints.iter().any(|e| e.name == x.endpoint) {
            names.push(x.endpoint.clone());
        }
    }
    if names.is_empty() {
        let busiest = cur.endpoints.iter().max_by(|a, b| {
            let sum = |e: &super::series::EndpointSeries| e.rps.iter().sum::<f64>();
            sum(a).total_cmp(&sum(b))
        });
        names.extend(busiest.map(|e| e.name.clone()));
    }
    names.truncate(MAX_CHARTS);
    names
}

/// The charts as Markdown (Mermaid code blocks), or None when the result has no seconds.
pub fn render(r: &Report) -> Result<Option<String>, String> {
    let Some(cur) = r.current.filter(|c| !c.trials.is_empty()) else {
        return Ok(None);
    };
    let s = Series::of(cur, MAX_POINTS)?;
    let b = match r.baseline.filter(|b| !b.trials.is_empty()) {
        // The same grouping as the current side, so the points line up.
        Some(b) => Some(Series::with_step(b, s.step_s)?),
        None => None,
    };
    let mut out = String::new();
    for name in chosen(r, &s) {
        let Some(e) = s.endpoints.iter().find(|e| e.name == name) else {
            continue;
        };
        let be = b
            .as_ref()
            .and_then(|b| b.endpoints.iter().find(|x| x.name == name));
        let n = be.map_or(e.p95.len(), |be| be.p95.len().min(e.p95.len()));
        if n == 0 {
            continue;
        }
        // A second without a value (no successful request) is drawn at 0.
        let values = |v: &[Option<f64>]| -> Vec<String> {
            v.iter().take(n).map(|x| number(x.unwrap_or(0.0))).collect()
        };
        let cur_v = values(&e.p95);
        let base_v = be.map(|be| values(&be.p95));
        let top = e
            .p95
            .iter()
            .chain(be.map_or(&[][..], |be| &be.p95[..]))
            .flatten()
            .fold(0.0f64, |a, b| a.max(*b));
        let axis: Vec<String> = (1..=n).map(|i| (i * s.step_s).to_string()).collect();
        let legend = if base_v.is_some() {
            "grey: baseline, red: current"
        } else {
            "current"
        };
        let _ = write!(
            out,
            "```mermaid\n---\nconfig:\n  themeVariables:\n    xyChart:\n      plotColorPalette: \"{}\"\n---\n\
             xychart-beta\n  title \"p95 {} ({legend})\"\n  x-axis \"second\" [{}]\n  \
             y-axis \"ms\" 0 --> {}\n",
            if base_v.is_some() { PALETTE } else { "#d1242f" },
            quoted(&name),
            axis.join(", "),
            number((top * 1.1).max(0.01))
        );
        if let Some(bv) = base_v {
            let _ = writeln!(out, "  line [{}]", bv.join(", "));
        }
        let _ = writeln!(out, "  line [{}]\n```\n", cur_v.join(", "));
    }
    Ok((!out.is_empty()).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cannot_break_out_of_their_quotes() {
        assert_eq!(quoted("GET /a\"b;c#d"), "GET /a'b'c'd");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(123.45), "123.5");
    }
}
