//! Rules that judge one run by its stages, no baseline needed: degradation under load (a
//! stage's metric against another stage's, trial by trial) and recovery (how long after a stage
//! starts the per-second p95 or error rate is back within a limit, and stays there).

use hdrhistogram::Histogram;

use super::rows::{new_row, tested, untested};
use super::rules::{Degradation, Metric, Policy, Recovery, Subject};
use super::sides::{latency_ms, side, stage_names, value};
use super::stats;
use super::windows::window_bootstrap;
use super::{Method, Pending, Verdict};
use crate::result::{decode_histogram, new_histogram, RunResult, TrialResult};
use crate::units;

/// One row per endpoint the rule names and stage its `stage` matches (other than `vs_stage`).
pub(super) fn degradation_rows(cur: &RunResult, d: &Degradation, method: &Method) -> Vec<Pending> {
    let stages = stage_names(cur);
    let endpoints: Vec<String> = cur
        .endpoint_names()
        .into_iter()
        .filter(|e| {
            d.endpoint
                .as_deref()
                .is_none_or(|g| super::rules::glob_match(g, e))
        })
        .collect();
    let mut out = Vec::new();
    for stage in stages
        .iter()
        .filter(|s| super::rules::glob_match(&d.stage, s) && **s != d.vs_stage)
    {
        for e in &endpoints {
            if let Some(p) = degradation_row(cur, d, stage, e, method) {
                out.push(p);
            }
        }
    }
    out
}

fn degradation_row(
    cur: &RunResult,
    d: &Degradation,
    stage: &str,
    endpoint: &str,
    method: &Method,
) -> Option<Pending> {
    let m = d.metric;
    let (a, b) = (
        side(cur, endpoint, stage, method.skip_cur)?,
        side(cur, endpoint, &d.vs_stage, method.skip_cur)?,
    );
    let subject = Subject::endpoint(endpoint, stage);
    let mut row = new_row(
        &subject,
        Some(stage),
        m,
        (value(&b, m), value(&a, m)),
        Verdict::Pass,
        "",
    );
    row.vs_stage = Some(d.vs_stage.clone());
    // Trial by trial when there are several (the stages of one trial share its conditions, so
    // the test is paired); by the stages' seconds otherwise.
    let test = if a.trial_hists.len() >= 2 && a.trial_hists.len() == b.trial_hists.len() {
        let xs: Vec<f64> = b
            .trial_hists
            .iter()
            .filter_map(|h| latency_ms(h, m))
            .collect();
        let ys: Vec<f64> = a
            .trial_hists
            .iter()
            .filter_map(|h| latency_ms(h, m))
            .collect();
        if let (Some(gx), Some(gy)) = (stats::geometric_mean(&xs), stats::geometric_mean(&ys)) {
            row.baseline = Some(gx);
            row.current = Some(gy);
        }
        stats::paired_log_ratio(&xs, &ys)
    } else {
        window_bootstrap(&b, &a, &[m], endpoint)
            .get(&m)
            .copied()
            .flatten()
    };
    let policy = Policy {
        max_regression: d.max_regression,
        warn: d.warn,
        min_delta: method.th.min_delta_ms,
        max: None,
        warn_above: None,
        min: None,
        warn_below: None,
    };
    Some(tested(row, policy, test, None))
}

/// One row per stage the rule's `stage` matches: the longest recovery over the trials.
pub(super) fn recovery_rows(cur: &RunResult, r: &Recovery, method: &Method) -> Vec<Pending> {
    let who = r.endpoint.as_deref().unwrap_or("all endpoints");
    stage_names(cur)
        .iter()
        .filter(|s| super::rules::glob_match(&r.stage, s))
        .map(|stage| {
            let times: Vec<Option<u32>> = cur
                .trials
                .iter()
                .enumerate()
                .filter(|(i, _)| method.skip_cur != Some(*i))
                .map(|(_, t)| recovery(t, stage, r))
                .collect();
            let subject = Subject::endpoint(who, stage);
            let worst = times
                .iter()
                .map(|t| t.map(f64::from))
                .try_fold(0.0f64, |acc, t| t.map(|t| acc.max(t)));
            let mut row = new_row(
                &subject,
                Some(stage),
                Metric::RecoveryTime,
                (None, worst),
                Verdict::Pass,
                "",
            );
            let watched = match r.watch {
                Metric::ErrorRate => format!("error rate back under {}", units::percent(r.within)),
                _ => format!("p95 back under {}", units::latency(r.within)),
            };
            let per_trial: Vec<String> = times
                .iter()
                .map(|t| t.map_or("never".to_string(), |s| format!("{s} s")))
                .collect();
            let detail = format!(
                "{watched} for {} s; trials: {}",
                r.hold,
                per_trial.join(", ")
            );
            match worst {
                None => {
                    row.verdict = Verdict::Fail;
                    row.reason = format!("never recovered before the end of the trial ({detail})");
                }
                Some(w) if w > r.max_s => {
                    row.verdict = Verdict::Fail;
                    row.reason = format!(
                        "recovered after {w:.0} s, more than the {:.0} s allowed ({detail})",
                        r.max_s
                    );
                }
                Some(w) => row.reason = format!("recovered after {w:.0} s ({detail})"),
            }
            untested(row, None)
        })
        .collect()
}

/// The seconds from the start of `stage` in trial `t` until the watched metric is within the
/// limit for `hold` seconds in a row (None: never, in the trial's seconds from the stage on).
fn recovery(t: &TrialResult, stage: &str, r: &Recovery) -> Option<u32> {
    let first = t
        .stages
        .iter()
        .find(|s| s.name == stage)
        .map_or(0, |s| s.first_window);
    let seconds = t.endpoints.first().map_or(0, |e| e.windows.len());
    let within = |w: usize| -> bool {
        let endpoints = t.endpoints.iter().filter(|e| {
            r.endpoint
                .as_deref()
                .is_none_or(|g| super::rules::glob_match(g, &e.name))
        });
        let (mut requests, mut errors) = (0u64, 0u64);
        let mut h: Histogram<u64> = new_histogram();
        for e in endpoints {
            let Some(win) = e.windows.get(w) else {
                continue;
            };
            requests += win.requests;
            errors += win.errors;
            if r.watch != Metric::ErrorRate {
                if let Ok(x) = decode_histogram(&win.histogram) {
                    let _ = h.add(x);
                }
            }
        }
        match r.watch {
            Metric::ErrorRate => requests > 0 && (errors as f64 / requests as f64) <= r.within,
            _ => !h.is_empty() && (h.value_at_quantile(0.95) as f64 / 1000.0) <= r.within,
        }
    };
    let hold = r.hold as usize;
    // From the stage's start to the end of the trial: a service still recovering when the
    // stage ends (a short ramp down) recovers in the stages after it.
    (first..seconds)
        .find(|&w| (w..w + hold).all(|x| x < seconds && within(x)))
        .map(|w| (w - first) as u32)
}
