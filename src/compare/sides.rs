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
    /// Per trial (beside `trial_hists`), the run of a baseline saved from several runs (0: one).
    pub(super) trial_runs: Vec<u32>,
    pub(super) merged: Histogram<u64>,
    pub(super) requests: u64,
    pub(super) errors: u64,
    pub(super) measured_s: f64,
    /// Per-trial throughput.
    pub(super) trial_rps: Vec<f64>,
    pub(super) windows: Vec<Vec<(u64, u64)>>,
    pub(super) window_requests: Vec<f64>,
    /// Per trial, an imported summary's latencies (a source without a distribution).
    pub(super) summaries: Vec<std::collections::BTreeMap<String, f64>>,
}

impl Side {
    /// Only summaries: no latency was recorded, some percentiles were reported.
    pub(super) fn summary_only(&self) -> bool {
        self.merged.is_empty() && !self.summaries.is_empty()
    }

    /// Per trial, a latency metric from the summaries (those that report it).
    pub(super) fn summary_values(&self, m: Metric) -> Vec<f64> {
        self.summaries
            .iter()
            .filter_map(|s| s.get(m.name()).copied())
            .filter(|v| v.is_finite())
            .collect()
    }
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
        trial_runs: Vec::new(),
        merged: new_histogram(),
        requests: 0,
        errors: 0,
        measured_s: 0.0,
        trial_rps: Vec::new(),
        windows: Vec::new(),
        window_requests: Vec::new(),
        summaries: Vec::new(),
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
        s.trial_runs.push(t.run.unwrap_or(0));
        s.summaries.extend(e.summary_ms.iter().cloned());
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
        m if s.summary_only() => {
            // Several summaries: their median, as the trial-level test compares them.
            let mut v = s.summary_values(m);
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        }
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

/// `scenario`'s flow in `stage` over every trial of `r`, as the flow table shows it.
pub(super) fn flow_summary(
    r: &RunResult,
    scenario: &str,
    stage: &str,
    shown: Option<&str>,
) -> Option<super::FlowSummary> {
    let s = flow_side(r, scenario, stage, None)?;
    let mut failed_at = std::collections::BTreeMap::new();
    let mut started = 0;
    for t in &r.trials {
        if let Some(f) = flow_in(t, scenario, stage) {
            started += f.started;
            for (k, v) in &f.failed_at {
                *failed_at.entry(k.clone()).or_insert(0) += v;
            }
        }
    }
    Some(super::FlowSummary {
        scenario: scenario.to_string(),
        stage: shown.map(str::to_string),
        started,
        completed: s.completed,
        failed: s.failed,
        completion_rate: flow_value(&s, Metric::CompletionRate).unwrap_or(100.0),
        iterations_per_min: flow_value(&s, Metric::IterationsPerMin).unwrap_or(0.0),
        iteration_p95_ms: latency_ms(&s.merged, Metric::IterationP95),
        failed_at,
    })
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

/// One side's target figures in one stage: per trial, and over the trials.
pub(super) struct TargetSide {
    /// Per trial: (cpu µs per request, cores, peak MB, growth MB/h and its standard error).
    pub(super) trials: Vec<TargetTrial>,
    pub(super) cpu_s: f64,
    pub(super) requests: u64,
    pub(super) seconds: f64,
    pub(super) rss_peak_mb: f64,
}

pub(super) struct TargetTrial {
    pub(super) cpu_per_request_us: Option<f64>,
    pub(super) cores: f64,
    pub(super) rss_peak_mb: f64,
    pub(super) growth: Option<(f64, f64)>,
}

fn target_in<'a>(
    t: &'a TrialResult,
    stage: &str,
) -> Option<(&'a crate::result::TargetResult, f64, u64)> {
    if t.stages.is_empty() {
        let requests = t.endpoints.iter().map(|e| e.requests).sum();
        return (stage == STEADY)
            .then_some(t.resources.as_ref())
            .flatten()
            .map(|x| (x, t.measured_s, requests));
    }
    let s = t.stages.iter().find(|s| s.name == stage)?;
    let requests = s.endpoints.iter().map(|e| e.requests).sum();
    s.resources.as_ref().map(|x| (x, s.measured_s, requests))
}

/// The target's figures in `stage` of `r`, leaving out the trial at position `skip`; None when no
/// trial has them (perfgate could not see the target).
pub(super) fn target_side(r: &RunResult, stage: &str, skip: Option<usize>) -> Option<TargetSide> {
    let mut s = TargetSide {
        trials: Vec::new(),
        cpu_s: 0.0,
        requests: 0,
        seconds: 0.0,
        rss_peak_mb: 0.0,
    };
    for (i, t) in r.trials.iter().enumerate() {
        if skip == Some(i) {
            continue;
        }
        let Some((x, secs, requests)) = target_in(t, stage) else {
            continue;
        };
        // A trial's interval is ± t·se; 1.96 is within 5% of t for the seconds of any trial
        // long enough to have a growth at all.
        let growth = x.rss_growth_mb_per_h.map(|g| {
            let se = x
                .rss_growth_interval
                .map_or(0.0, |[lo, hi]| (hi - lo) / (2.0 * 1.96));
            (g, se)
        });
        let peak = x.rss_peak_bytes as f64 / 1e6;
        s.trials.push(TargetTrial {
            cpu_per_request_us: x.cpu_per_request_us,
            cores: x.cpu_cores,
            rss_peak_mb: peak,
            growth,
        });
        s.cpu_s += x.cpu_s;
        s.requests = s.requests.saturating_add(requests);
        s.seconds += secs;
        s.rss_peak_mb = s.rss_peak_mb.max(peak);
    }
    (!s.trials.is_empty()).then_some(s)
}

impl TargetSide {
    /// The per-trial values of a target metric (growth: the slopes).
    pub(super) fn per_trial(&self, m: Metric) -> Vec<f64> {
        self.trials
            .iter()
            .filter_map(|t| match m {
                Metric::TargetCpuPerRequest => t.cpu_per_request_us,
                Metric::TargetCpu => Some(t.cores),
                Metric::TargetRssPeak => Some(t.rss_peak_mb),
                Metric::TargetRssGrowth => t.growth.map(|g| g.0),
                _ => None,
            })
            .collect()
    }

    /// The mean growth over the trials and its standard error (from each trial's interval).
    pub(super) fn growth(&self) -> Option<(f64, f64)> {
        let g: Vec<(f64, f64)> = self.trials.iter().filter_map(|t| t.growth).collect();
        if g.is_empty() {
            return None;
        }
        let k = g.len() as f64;
        let mean = g.iter().map(|x| x.0).sum::<f64>() / k;
        let se = g.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt() / k;
        Some((mean, se))
    }
}

/// The value of a target metric for a side, in the row's unit.
pub(super) fn target_value(s: &TargetSide, m: Metric) -> Option<f64> {
    match m {
        Metric::TargetCpuPerRequest => (s.requests > 0).then(|| s.cpu_s * 1e6 / s.requests as f64),
        Metric::TargetCpu => (s.seconds > 0.0).then(|| s.cpu_s / s.seconds),
        Metric::TargetRssPeak => Some(s.rss_peak_mb),
        Metric::TargetRssGrowth => s.growth().map(|g| g.0),
        _ => None,
    }
}
