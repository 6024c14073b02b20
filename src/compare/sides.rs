//! One side's data for one check, gathered from a result: for an endpoint (or a flow) in a
//! stage, the trials' histograms and values for trial-level tests, the 1-second windows for the
//! window bootstrap, and the merged totals for the values shown.

use hdrhistogram::Histogram;

use super::rules::Metric;
use crate::config::STEADY;
use crate::result::{
    decode_histogram, new_histogram, EndpointResult, FlowResult, RunResult, TrialResult,
};

/// The stages a result is judged by: its stages' names, or the one implicit `steady` phase.
pub fn stage_names(r: &RunResult) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in &r.trials {
        for s in &t.stages {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    if names.is_empty() {
        names.push(STEADY.to_string());
    }
    names
}

/// `endpoint` in `stage` of trial `t`, with the seconds of the stage: the trial's own endpoint
/// for the implicit phase, else the stage's (its windows sliced from the trial's).
fn endpoint_in<'a>(
    t: &'a TrialResult,
    endpoint: &str,
    stage: &str,
) -> Option<(&'a EndpointResult, &'a [crate::result::WindowResult])> {
    let whole = t.endpoints.iter().find(|e| e.name == endpoint)?;
    if t.stages.is_empty() {
        return (stage == STEADY).then_some((whole, &whole.windows[..]));
    }
    let s = t.stages.iter().find(|s| s.name == stage)?;
    let e = s.endpoints.iter().find(|e| e.name == endpoint)?;
    let from = s.first_window.min(whole.windows.len());
    let to = (s.first_window + s.windows).min(whole.windows.len());
    Some((e, &whole.windows[from..to]))
}

/// The measured seconds of `stage` in trial `t`.
fn stage_seconds(t: &TrialResult, stage: &str) -> f64 {
    match t.stages.iter().find(|s| s.name == stage) {
        Some(s) => s.measured_s,
        None => t.measured_s,
    }
}

/// One side's data for one endpoint in one stage.
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

/// `endpoint`'s data in `stage` of `r`, leaving out the trial at position `skip`.
pub(super) fn side(
    r: &RunResult,
    endpoint: &str,
    stage: &str,
    skip: Option<usize>,
) -> Option<Side> {
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
        let Some((e, windows)) = endpoint_in(t, endpoint, stage) else {
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
        let secs = stage_seconds(t, stage);
        s.measured_s += secs;
        s.trial_rps.push(if secs > 0.0 {
            e.requests as f64 / secs
        } else {
            0.0
        });
        for w in windows {
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

/// The value of an endpoint metric `m` for a side, in the row's unit.
pub(super) fn value(s: &Side, m: Metric) -> Option<f64> {
    match m {
        Metric::ErrorRate => Some(s.errors as f64 * 100.0 / s.requests as f64),
        Metric::Throughput => (s.measured_s > 0.0).then(|| s.requests as f64 / s.measured_s),
        m => latency_ms(&s.merged, m),
    }
}

/// One side's data for one scenario's flow in one stage.
pub(super) struct FlowSide {
    /// Per trial: the iteration durations and iterations per minute.
    pub(super) trial_hists: Vec<Histogram<u64>>,
    pub(super) trial_per_min: Vec<f64>,
    pub(super) merged: Histogram<u64>,
    pub(super) completed: u64,
    pub(super) failed: u64,
    pub(super) measured_s: f64,
}

fn flow_in<'a>(t: &'a TrialResult, scenario: &str, stage: &str) -> Option<&'a FlowResult> {
    let flows = if t.stages.is_empty() {
        (stage == STEADY).then_some(&t.flows)?
    } else {
        &t.stages.iter().find(|s| s.name == stage)?.flows
    };
    flows.iter().find(|f| f.scenario == scenario)
}

/// `scenario`'s flow in `stage` of `r`, leaving out the trial at position `skip`.
pub(super) fn flow_side(
    r: &RunResult,
    scenario: &str,
    stage: &str,
    skip: Option<usize>,
) -> Option<FlowSide> {
    let mut s = FlowSide {
        trial_hists: Vec::new(),
        trial_per_min: Vec::new(),
        merged: new_histogram(),
        completed: 0,
        failed: 0,
        measured_s: 0.0,
    };
    for (i, t) in r.trials.iter().enumerate() {
        if skip == Some(i) {
            continue;
        }
        let Some(f) = flow_in(t, scenario, stage) else {
            continue;
        };
        let h = decode_histogram(&f.histogram).ok()?;
        s.merged.add(&h).ok()?;
        s.trial_hists.push(h);
        s.trial_per_min.push(f.iterations_per_min);
        s.completed = s.completed.saturating_add(f.completed);
        s.failed = s.failed.saturating_add(f.failed);
        s.measured_s += stage_seconds(t, stage);
    }
    (s.completed + s.failed > 0).then_some(s)
}

/// The value of a flow metric `m` for a side, in the row's unit.
pub(super) fn flow_value(s: &FlowSide, m: Metric) -> Option<f64> {
    match m {
        Metric::CompletionRate => {
            Some(s.completed as f64 * 100.0 / (s.completed + s.failed) as f64)
        }
        Metric::IterationsPerMin => {
            (s.measured_s > 0.0).then(|| s.completed as f64 * 60.0 / s.measured_s)
        }
        m => latency_ms(&s.merged, m),
    }
}
