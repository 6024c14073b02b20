//! What `perfgate capacity` prints: the curve as a table (every level run, sorted by level),
//! a small text plot of throughput and p95 against the level, and the answer.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::result::{CapacityLevel, CapacityResult};
use crate::units::{self, level};

/// Columns of the text plot.
const PLOT_WIDTH: usize = 40;

pub fn render(c: &CapacityResult) -> String {
    let mut levels: Vec<&CapacityLevel> = c.levels.iter().collect();
    levels.sort_by(|a, b| a.level.total_cmp(&b.level));
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            c.unit.as_str(),
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            "target CPU",
            "",
        ]);
    for l in &levels {
        let lat = |f: fn(&crate::result::Percentiles) -> f64| {
            l.latency_ms
                .as_ref()
                .map_or("-".to_string(), |p| units::ms(f(p)))
        };
        let verdict = if l.incomplete {
            "cut short".to_string()
        } else if l.held && l.windows_breached > 0 {
            format!("held ({} of {} s over)", l.windows_breached, l.windows)
        } else if l.held {
            "held".to_string()
        } else {
            format!("broke: {}", l.why.as_deref().unwrap_or(""))
        };
        table.add_row(vec![
            level(l.level),
            format!("{:.1}", l.throughput_rps),
            lat(|p| p.p50),
            lat(|p| p.p95),
            lat(|p| p.p99),
            units::percent(l.error_rate),
            l.target_cpu_cores
                .map_or("-".to_string(), |c| format!("{c:.2} cores")),
            verdict,
        ]);
    }
    for i in 0..7 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("{table}\n\n{}", plot(&levels, &c.unit));
    out.push_str(&answer(c));
    out.push('\n');
    out
}

/// The capacity in a sentence.
pub fn answer(c: &CapacityResult) -> String {
    let unit = &c.unit;
    let mut s = match (c.capacity, c.broke_at) {
        (Some(h), Some(b)) => format!(
            "capacity: {} {unit} (the highest level that met the SLO; {} {unit} broke it: {})",
            level(h),
            level(b),
            c.broke_because.as_deref().unwrap_or("")
        ),
        (Some(h), None) => format!(
            "capacity: at least {} {unit} (no level broke the SLO before the search ended)",
            level(h)
        ),
        (None, Some(b)) => format!(
            "capacity: none found: even {} {unit} broke the SLO ({})",
            level(b),
            c.broke_because.as_deref().unwrap_or("")
        ),
        (None, None) => "capacity: no level was judged".to_string(),
    };
    if !c.resolved {
        s.push_str(&format!(
            "\n  not resolved to {}: the budget ran out or the search was stopped",
            units::percent(c.resolution)
        ));
    }
    s
}

/// One row per level: `#` bars of throughput (scaled to the highest), and the p95 against the
/// highest p95; held levels marked `●`, broken `✗`.
fn plot(levels: &[&CapacityLevel], unit: &str) -> String {
    let top = levels
        .iter()
        .map(|l| l.throughput_rps)
        .fold(0.0f64, f64::max);
    if top <= 0.0 {
        return String::new();
    }
    let width = levels
        .iter()
        .map(|l| level(l.level).len())
        .max()
        .unwrap_or(1);
    let mut out = format!("throughput by {unit} (█ req/s)\n");
    for l in levels {
        let n = ((l.throughput_rps / top) * PLOT_WIDTH as f64).round() as usize;
        let mark = if l.held { '●' } else { '✗' };
        let p95 = l
            .latency_ms
            .as_ref()
            .map_or("-".to_string(), |p| units::latency(p.p95));
        out.push_str(&format!(
            "{:>width$} {mark} {:<PLOT_WIDTH$} {:.0} req/s, p95 {p95}\n",
            level(l.level),
            "█".repeat(n.min(PLOT_WIDTH)),
            l.throughput_rps
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CapacitySlo, Percentiles};

    fn lvl(level: f64, rps: f64, held: bool) -> CapacityLevel {
        CapacityLevel {
            level,
            held,
            why: (!held).then(|| "p95 > 50 ms in 4 of 4 s".to_string()),
            measured_s: 4.0,
            requests: (rps * 4.0) as u64,
            throughput_rps: rps,
            iterations_per_s: rps,
            error_rate: 0.0,
            latency_ms: Some(Percentiles {
                p50: 20.0,
                p90: 21.0,
                p95: 22.0,
                p99: 25.0,
                p99_9: 30.0,
                max: 31.0,
                mean: 20.5,
            }),
            windows: 4,
            windows_breached: if held { 0 } else { 4 },
            target_cpu_cores: None,
            target_cpu_per_request_us: None,
            incomplete: false,
        }
    }

    #[test]
    fn the_curve_is_sorted_and_the_answer_names_both_ends() {
        let c = CapacityResult {
            unit: "iterations/s".into(),
            slo: CapacitySlo {
                p50_ms: None,
                p95_ms: Some(50.0),
                p99_ms: None,
                error_rate: None,
                min_gain: 0.5,
            },
            capacity: Some(200.0),
            broke_at: Some(212.5),
            broke_because: Some("p95 > 50 ms in 4 of 4 s".into()),
            resolved: true,
            resolution: 0.1,
            hold_s: 4.0,
            warmup_s: 1.0,
            levels: vec![
                lvl(100.0, 100.0, true),
                lvl(400.0, 200.0, false),
                lvl(200.0, 199.0, true),
                lvl(212.5, 200.0, false),
            ],
        };
        let text = render(&c);
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
        assert!(
            at(" 100 ┆") < at(" 200 ┆")
                && at(" 200 ┆") < at("212.5 ┆")
                && at("212.5 ┆") < at(" 400 ┆")
        );
        assert!(text.contains("capacity: 200 iterations/s"), "{text}");
        assert!(text.contains("212.5 iterations/s broke it"), "{text}");
        assert!(text.contains("●") && text.contains("✗"));
    }
}
