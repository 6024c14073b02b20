//! One side's data for one endpoint, gathered from a result: the trials' histograms and
//! throughput for trial-level tests, the 1-second windows for the window bootstrap, and the
//! merged totals for the values shown.

use hdrhistogram::Histogram;

use super::rules::Metric;
use crate::result::{decode_histogram, new_histogram, RunResult};

/// One side's data for one endpoint.
pub(super) struct Side {
    pub(super) trial_hists: Vec<Histogram<u64>>,
    pub(super) merged: Histogram<u64>,
    pub(super) requests: u64,
    pub(super) errors: u64,
    pub(super) measured_s: f64,
    /// Per-trial throughput.
    pub(super) trial_rps: Vec<f64>,
    pub(super) windows: Vec<Vec<(u64, u64)>>,
    pub(super) window_requests: Vec<f64>,
}

/// `endpoint`'s data in `r`, leaving out the trials at the positions in `skip`.
pub(super) fn side(r: &RunResult, endpoint: &str, skip: Option<usize>) -> Option<Side> {
    let mut s = Side {
        trial_hists: Vec::new(),
        merged: new_histogram(),
        requests: 0,
        errors: 0,
        measured_s: 0.0,
        trial_rps: Vec::new(),
        windows: Vec::new(),
        window_requests: Vec::new(),
    };
    for (i, t) in r.trials.iter().enumerate() {
        if skip == Some(i) {
            continue;
        }
        let Some(e) = t.endpoints.iter().find(|e| e.name == endpoint) else {
            continue;
        };
        // Every histogram was checked when the file was read, and fits perfgate's bounds, so
        // merging cannot fail; if it did, the endpoint would count as absent, never as wrong.
        let h = decode_histogram(&e.histogram).ok()?;
        s.merged.add(&h).ok()?;
        s.trial_hists.push(h);
        // The reader refused files whose counts overflow when summed.
        s.requests = s.requests.saturating_add(e.requests);
        s.errors = s.errors.saturating_add(e.errors.total);
        s.measured_s += t.measured_s;
        s.trial_rps.push(e.throughput_rps);
        for w in &e.windows {
            let h = decode_histogram(&w.histogram).ok()?;
            s.windows.push(
                h.iter_recorded()
                    .map(|v| (v.value_iterated_to(), v.count_at_value()))
                    .collect(),
            );
            s.window_requests.push(w.requests as f64);
        }
    }
    (s.requests > 0).then_some(s)
}

pub(super) fn latency_ms(h: &Histogram<u64>, m: Metric) -> Option<f64> {
    if h.is_empty() {
        return None;
    }
    let us = match m {
        Metric::Mean => h.mean(),
        Metric::Max => h.max() as f64,
        m => h.value_at_quantile(m.quantile()?) as f64,
    };
    Some(us / 1000.0)
}

/// The value of `m` for a side, in the row's unit.
pub(super) fn value(s: &Side, m: Metric) -> Option<f64> {
    match m {
        Metric::ErrorRate => Some(s.errors as f64 * 100.0 / s.requests as f64),
        Metric::Throughput => (s.measured_s > 0.0).then(|| s.requests as f64 / s.measured_s),
        m => latency_ms(&s.merged, m),
    }
}
