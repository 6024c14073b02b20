//! The table printed at the end of `perfgate run`: one row per endpoint, all trials merged.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::result::{EndpointResult, MergeError, RunResult};
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
    if !result.complete {
        out.push_str(&format!(
            "\nINCOMPLETE: {}",
            result
                .incomplete_reason
                .as_deref()
                .unwrap_or("the run did not finish")
        ));
    }
    out.push('\n');
    Ok(out)
}
