//! Whether a load level met the SLO. A level breaks only on a sustained breach, so that one bad
//! second does not end the search:
//!
//! - latency: in most of its 1-second windows (over all endpoints together) a limit is exceeded
//!   — or nothing was answered at all in that second;
//! - errors: the error rate over the hold exceeds the limit even without its worst second;
//! - throughput stopped rising: in the open model fewer than 95% of the iterations asked for per
//!   second completed; in the closed model the users added since the highest level below that
//!   held brought less than `min_gain` of that level's throughput per user.

use hdrhistogram::Histogram;

use crate::config::Capacity;
use crate::result::{
    decode_histogram, new_histogram, percentiles, CapacityLevel, CapacitySlo, TrialResult,
};
use crate::units;

/// In the open model, the share of the asked rate that must complete.
pub const OPEN_MIN_ACHIEVED: f64 = 0.95;

/// The SLO of a `[capacity]` table as the result records it.
pub fn slo_of(c: &Capacity) -> CapacitySlo {
    CapacitySlo {
        p50_ms: c.p50_ms,
        p95_ms: c.p95_ms,
        p99_ms: c.p99_ms,
        error_rate: c.error_rate,
        min_gain: c.min_gain,
    }
}

/// A level's 1-second windows, all endpoints together.
struct Seconds {
    n: usize,
    /// Seconds over a latency limit (or with no answer at all), and how often each limit was.
    breached: usize,
    by_limit: Vec<usize>,
    /// The second with the most errors: (errors, requests).
    worst: (u64, u64),
    /// Every second's latencies together.
    all: Histogram<u64>,
}

fn seconds(t: &TrialResult, limits: &[(f64, f64, &str)]) -> Seconds {
    let n = t
        .endpoints
        .iter()
        .map(|e| e.windows.len())
        .max()
        .unwrap_or(0);
    let mut out = Seconds {
        n,
        breached: 0,
        by_limit: vec![0; limits.len()],
        worst: (0, 0),
        all: new_histogram(),
    };
    for i in 0..n {
        let mut h = new_histogram();
        let (mut requests, mut errors) = (0u64, 0u64);
        for w in t.endpoints.iter().filter_map(|e| e.windows.get(i)) {
            requests += w.requests;
            errors += w.errors;
            // The histograms come straight from the engine (or were checked when the result
            // was read).
            if let Ok(wh) = decode_histogram(&w.histogram) {
                let _ = h.add(wh);
            }
        }
        if errors > out.worst.0 {
            out.worst = (errors, requests);
        }
        let _ = out.all.add(&h);
        let mut breach = !limits.is_empty() && h.is_empty();
        for (k, (q, limit, _)) in limits.iter().enumerate() {
            if !h.is_empty() && h.value_at_quantile(*q) as f64 / 1000.0 > *limit {
                out.by_limit[k] += 1;
                breach = true;
            }
        }
        out.breached += usize::from(breach);
    }
    out
}

/// Judges the trial that ran at `level`: its figures and verdict. `below`: the highest level below it that held (its
/// level and throughput), for the closed model's gain; `open`: the open model (levels are
/// iterations per second).
pub fn judge(
    t: &TrialResult,
    level: f64,
    slo: &CapacitySlo,
    open: bool,
    below: Option<(f64, f64)>,
) -> CapacityLevel {
    let limits: Vec<(f64, f64, &str)> = [
        (0.5, slo.p50_ms, "p50"),
        (0.95, slo.p95_ms, "p95"),
        (0.99, slo.p99_ms, "p99"),
    ]
    .into_iter()
    .filter_map(|(q, l, name)| l.map(|l| (q, l, name)))
    .collect();
    let Seconds {
        n,
        breached,
        by_limit,
        worst,
        all,
    } = seconds(t, &limits);
    let requests: u64 = t.endpoints.iter().map(|e| e.requests).sum();
    let errors: u64 = t.endpoints.iter().map(|e| e.errors.total).sum();
    let secs = t.measured_s.max(1e-9);
    let completed: u64 = t.load.iter().map(|w| w.completed).sum();
    let throughput = requests as f64 / secs;
    let per_s = completed as f64 / secs;
    let error_rate = if requests > 0 {
        errors as f64 / requests as f64
    } else {
        0.0
    };
    let mut why: Vec<String> = Vec::new();
    if n > 0 && breached * 2 > n {
        let (k, _) = by_limit
            .iter()
            .enumerate()
            .max_by_key(|(_, c)| **c)
            .unwrap_or((0, &0));
        let shown = match limits.get(k) {
            Some((_, limit, name)) if by_limit[k] > 0 => {
                format!("{name} > {}", units::latency(*limit))
            }
            _ => "no answers".to_string(),
        };
        why.push(format!("{shown} in {breached} of {n} s"));
    }
    if let Some(limit) = slo.error_rate {
        // Without the worst second: one burst of errors is not a sustained breach.
        let rest = match requests.saturating_sub(worst.1) {
            r if n > 1 && r > 0 => errors.saturating_sub(worst.0) as f64 / r as f64,
            _ => error_rate,
        };
        if rest > limit && error_rate > limit {
            why.push(format!(
                "error rate {} > {}",
                units::percent(error_rate),
                units::percent(limit)
            ));
        }
    }
    if requests == 0 {
        why.push("no requests completed".to_string());
    } else if open {
        if per_s < OPEN_MIN_ACHIEVED * level {
            why.push(format!(
                "completed {per_s:.1}/s of {level:.1}/s asked (< {:.0}%)",
                OPEN_MIN_ACHIEVED * 100.0
            ));
        }
    } else if let Some((l0, t0)) = below.filter(|(l0, t0)| *l0 > 0.0 && *t0 > 0.0 && level > *l0) {
        let gain = (throughput - t0) / (level - l0);
        let per_user = t0 / l0;
        if gain < slo.min_gain * per_user {
            why.push(format!(
                "throughput flat: {:+.1} req/s per user added, < {:.0}% of {per_user:.1} per user at {l0:.0}",
                gain,
                slo.min_gain * 100.0
            ));
        }
    }
    let cpu = t.resources.as_ref();
    CapacityLevel {
        level,
        held: why.is_empty(),
        why: (!why.is_empty()).then(|| why.join("; ")),
        measured_s: t.measured_s,
        requests,
        throughput_rps: throughput,
        iterations_per_s: per_s,
        error_rate,
        latency_ms: percentiles(&all),
        windows: n,
        windows_breached: breached,
        target_cpu_cores: cpu.map(|r| r.cpu_cores),
        target_cpu_per_request_us: cpu.and_then(|r| r.cpu_per_request_us),
        incomplete: !t.complete,
    }
}
