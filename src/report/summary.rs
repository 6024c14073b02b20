//! The table printed at the end of `perfgate run`: one row per endpoint, all trials merged; then
//! the stages, the flows and the target's own CPU and memory, when the run has them.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::result::{decode_histogram, new_histogram, EndpointResult, MergeError, RunResult};
use crate::units;

pub fn render(result: &RunResult) -> Result<String, MergeError> {
    let mut merged: Vec<EndpointResult> = Vec::new();
    for name in result.endpoint_names() {
        merged.extend(result.merged_endpoint(&name)?);
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "endpoint", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms",
            "max ms",
        ]);
    for e in &merged {
        let errors = if e.errors.total == 0 {
            "0".to_string()
        } else {
            format!("{} ({:.1}%)", e.errors.total, e.error_rate * 100.0)
        };
        let lat = |f: fn(&crate::result::Percentiles) -> f64| {
            e.latency_ms
                .as_ref()
                .map_or("-".to_string(), |p| units::ms(f(p)))
        };
        table.add_row(vec![
            e.name.clone(),
            e.requests.to_string(),
            errors,
            format!("{:.1}", e.throughput_rps),
            lat(|p| p.p50),
            lat(|p| p.p90),
            lat(|p| p.p95),
            lat(|p| p.p99),
            lat(|p| p.max),
        ]);
    }
    for i in 1..9 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut failures = String::new();
    for e in &merged {
        if e.errors.total == 0 {
            continue;
        }
        let w = &e.errors;
        let mut kinds: Vec<String> = w
            .status
            .iter()
            .map(|(code, n)| format!("{n} status {code}"))
            .collect();
        for (n, label) in [
            (w.timeout, "timeout"),
            (w.connect, "connect"),
            (w.reset, "reset"),
            (w.protocol, "protocol"),
            (w.check, "check"),
            (w.capture, "capture"),
        ] {
            if n > 0 {
                kinds.push(format!("{n} {label}"));
            }
        }
        failures.push_str(&format!("  {}: {}\n", e.name, kinds.join(" · ")));
        for s in &e.error_samples {
            failures.push_str(&format!("    first {}: {}\n", s.kind, s.message));
        }
    }
    let iterations: u64 = result.trials.iter().map(|t| t.iterations).sum();
    let dropped: u64 = result.trials.iter().map(|t| t.dropped_iterations).sum();
    let measured: f64 = result.trials.iter().map(|t| t.measured_s).sum();
    let mut out = table.to_string();
    if !failures.is_empty() {
        out.push_str("\nerrors (all trials, warmup excluded; the first of each kind described):\n");
        out.push_str(&failures);
    }
    out.push_str(&format!(
        "\n{} trial{} · {:.0} s measured · {} iterations",
        result.trials.len(),
        if result.trials.len() == 1 { "" } else { "s" },
        measured,
        iterations
    ));
    if result.meta.load.model == "open" || dropped > 0 {
        out.push_str(&format!(" · {dropped} dropped at max_in_flight"));
    }
    out.push('\n');
    out.push_str(&stages(result));
    out.push_str(&flows(result));
    out.push_str(&target(result));
    if !result.complete {
        out.push_str(&format!(
            "INCOMPLETE: {}",
            result
                .incomplete_reason
                .as_deref()
                .unwrap_or("the run did not finish")
        ));
        out.push('\n');
    }
    Ok(out)
}

/// Per stage over the trials (nothing without stages): seconds, load, requests, errors, p95.
fn stages(result: &RunResult) -> String {
    let Some(first) = result.trials.iter().find(|t| !t.stages.is_empty()) else {
        return String::new();
    };
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "stage", "seconds", "to", "requests", "errors", "req/s", "p95 ms",
        ]);
    for (i, stage) in first.stages.iter().enumerate() {
        let mut h = new_histogram();
        let (mut requests, mut errors, mut secs) = (0u64, 0u64, 0.0);
        for t in &result.trials {
            let Some(s) = t.stages.get(i).filter(|s| s.name == stage.name) else {
                continue;
            };
            secs += s.measured_s;
            for e in &s.endpoints {
                requests = requests.saturating_add(e.requests);
                errors = errors.saturating_add(e.errors.total);
                if let Ok(x) = decode_histogram(&e.histogram) {
                    let _ = h.add(x);
                }
            }
        }
        let p95 = if h.is_empty() {
            "-".to_string()
        } else {
            units::ms(h.value_at_quantile(0.95) as f64 / 1000.0)
        };
        table.add_row(vec![
            stage.name.clone(),
            format!("{:.0}", stage.windows),
            format!("{}", stage.target),
            requests.to_string(),
            errors.to_string(),
            format!(
                "{:.1}",
                if secs > 0.0 {
                    requests as f64 / secs
                } else {
                    0.0
                }
            ),
            p95,
        ]);
    }
    for i in 1..7 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!("\nby stage (all trials):\n{table}\n")
}

/// One line per scenario: completion, failures by step, iterations per minute, iteration p95.
fn flows(result: &RunResult) -> String {
    let Some(first) = result.trials.first() else {
        return String::new();
    };
    let mut out = String::new();
    for (i, f) in first.flows.iter().enumerate() {
        let mut h = new_histogram();
        let (mut completed, mut failed, mut secs) = (0u64, 0u64, 0.0);
        let mut at: std::collections::BTreeMap<&str, u64> = Default::default();
        for t in &result.trials {
            let Some(x) = t.flows.get(i).filter(|x| x.scenario == f.scenario) else {
                continue;
            };
            completed = completed.saturating_add(x.completed);
            failed = failed.saturating_add(x.failed);
            secs += t.measured_s;
            for (k, v) in &x.failed_at {
                *at.entry(k.as_str()).or_insert(0) += v;
            }
            if let Ok(d) = decode_histogram(&x.histogram) {
                let _ = h.add(d);
            }
        }
        let ended = completed + failed;
        let rate = if ended == 0 {
            "no iteration ended".to_string()
        } else {
            format!(
                "{} completed ({completed} of {ended})",
                units::percent(completed as f64 / ended as f64)
            )
        };
        let where_ = if at.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = at.iter().map(|(k, v)| format!("{v} at {k}")).collect();
            format!(", failed: {}", list.join(", "))
        };
        let per_min = if secs > 0.0 {
            completed as f64 * 60.0 / secs
        } else {
            0.0
        };
        let p95 = if h.is_empty() {
            String::new()
        } else {
            format!(
                " · iteration p95 {}",
                units::latency(h.value_at_quantile(0.95) as f64 / 1000.0)
            )
        };
        out.push_str(&format!(
            "  {}: {rate}{where_} · {per_min:.1}/min{p95}\n",
            f.scenario
        ));
    }
    if out.is_empty() {
        return out;
    }
    format!("\nflows (think time excluded from iteration times):\n{out}")
}

/// The target's CPU and memory over the trials, when perfgate could see it.
fn target(result: &RunResult) -> String {
    let seen: Vec<&crate::result::TargetResult> = result
        .trials
        .iter()
        .filter_map(|t| t.resources.as_ref())
        .collect();
    let Some(first) = seen.first() else {
        return String::new();
    };
    let cpu: f64 = seen.iter().map(|t| t.cpu_s).sum();
    let requests: u64 = result
        .trials
        .iter()
        .filter(|t| t.resources.is_some())
        .flat_map(|t| t.endpoints.iter().map(|e| e.requests))
        .sum();
    let secs: f64 = result
        .trials
        .iter()
        .filter(|t| t.resources.is_some())
        .map(|t| t.measured_s)
        .sum();
    let peak = seen.iter().map(|t| t.rss_peak_bytes).max().unwrap_or(0);
    let mut line = format!(
        "\ntarget ({}): {:.2} cores",
        first.source,
        if secs > 0.0 { cpu / secs } else { 0.0 }
    );
    if requests > 0 {
        line.push_str(&format!(
            " · {:.1} µs CPU per request",
            cpu * 1e6 / requests as f64
        ));
    }
    line.push_str(&format!(" · RSS peak {:.1} MB", peak as f64 / 1e6));
    let growth: Vec<f64> = seen.iter().filter_map(|t| t.rss_growth_mb_per_h).collect();
    if !growth.is_empty() {
        let g = growth.iter().sum::<f64>() / growth.len() as f64;
        line.push_str(&format!(" · RSS growth {g:+.1} MB/h"));
        if let (1, Some([lo, hi])) = (seen.len(), first.rss_growth_interval) {
            line.push_str(&format!(" ({lo:+.1} … {hi:+.1})"));
        }
    }
    line.push('\n');
    line
}
