//! The gate: is the current result worse than the baseline, by more than the rules allow, with
//! evidence that it is not noise?
//!
//! `compare` produces a `Comparison` (`model`) — one row per endpoint × metric — which every
//! report format renders. The pieces: `comparability` (do the results measure the same thing),
//! `sides` (one side's data per endpoint), `stats` (the tests), `windows` (the window
//! bootstrap), `decide` (the rules applied to a row), `rules` (thresholds.toml).

pub mod comparability;
mod decide;
pub mod model;
pub mod rules;
mod sides;
pub mod stats;
mod windows;

pub use comparability::{comparability, Comparability};
pub use model::*;

use crate::result::RunResult;
use crate::units;
use decide::decide;
use rules::{Metric, Policy, Thresholds};
use sides::{latency_ms, side, value};
use stats::RatioTest;
use windows::window_bootstrap;

/// Trials per side from which the comparison is trial-level.
pub const MIN_TRIALS: usize = 5;

/// A row before Holm's correction and the rules: its test made, its verdict not yet decided.
struct Pending {
    row: Row,
    policy: Option<Policy>,
    /// Mann–Whitney p for trial-level latency/throughput (outlier guard).
    rank_p: Option<f64>,
}

/// How the two sides are compared: trial by trial, or by 1-second windows.
struct Method<'a> {
    trial_level: bool,
    th: &'a Thresholds,
}

pub fn compare(
    base: &RunResult,
    cur: &RunResult,
    th: &Thresholds,
    base_label: &str,
    cur_label: &str,
) -> Comparison {
    let comp = comparability(base, cur);
    let mut names = base.endpoint_names();
    for n in cur.endpoint_names() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let method = Method {
        trial_level: base.trials.len() >= MIN_TRIALS && cur.trials.len() >= MIN_TRIALS,
        th,
    };
    let mut pending: Vec<Pending> = names
        .iter()
        .flat_map(|name| endpoint_rows(name, base, cur, &method))
        .collect();
    holm_adjust(&mut pending);
    let alpha = 1.0 - th.confidence;
    let rows: Vec<Row> = pending
        .into_iter()
        .map(|p| {
            let mut row = p.row;
            if let Some(policy) = &p.policy {
                decide(&mut row, policy, alpha, p.rank_p);
            }
            row
        })
        .collect();
    let verdict = rows
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    let low_confidence = (!method.trial_level).then(|| {
        format!(
            "confidence is low: the baseline has {} and the current run {}; with fewer than {MIN_TRIALS} trials per side the gate compares 1-second windows, which see the noise within a run but not between runs. Set load.trials = {MIN_TRIALS} (or more) and record the baseline again for trial-level statistics.",
            units::plural(base.trials.len(), "trial", "trials"),
            cur.trials.len()
        )
    });
    let info = |r: &RunResult, label: &str| SideInfo {
        label: label.to_string(),
        started_at: r.meta.started_at.clone(),
        git_sha: r.meta.git.as_ref().and_then(|g| g.sha.clone()),
        trials: r.trials.len(),
        complete: r.complete,
    };
    Comparison {
        format: FORMAT.to_string(),
        verdict,
        profile: cur.meta.profile.name.clone(),
        baseline: info(base, base_label),
        current: info(cur, cur_label),
        method: MethodInfo {
            kind: if method.trial_level {
                "trials"
            } else {
                "windows"
            }
            .to_string(),
            confidence: th.confidence,
            low_confidence,
        },
        warnings: comp.warnings,
        rows,
    }
}

/// A row with its values and no test yet.
fn new_row(
    endpoint: &str,
    m: Metric,
    baseline: Option<f64>,
    current: Option<f64>,
    verdict: Verdict,
    reason: &str,
) -> Row {
    Row {
        endpoint: endpoint.to_string(),
        metric: m,
        unit: m.unit().to_string(),
        baseline,
        current,
        change: None,
        interval: None,
        p_value: None,
        p_adjusted: None,
        verdict,
        reason: reason.to_string(),
    }
}

/// The rows of one endpoint, one per metric gated for it.
fn endpoint_rows(name: &str, base: &RunResult, cur: &RunResult, method: &Method) -> Vec<Pending> {
    let (b, c) = (side(base, name), side(cur, name));
    let th = method.th;
    let metrics = th.metrics_for(name);
    // Window mode: one bootstrap per endpoint gives every latency metric at once.
    let boot = match (&b, &c, method.trial_level) {
        (Some(b), Some(c), false) => Some(window_bootstrap(b, c, &metrics, name, th.confidence)),
        _ => None,
    };
    let mut out = Vec::new();
    for m in metrics {
        let policy = th.policy(name, m);
        match (&b, &c) {
            (Some(b), None) => out.push(Pending {
                row: new_row(
                    name,
                    m,
                    value(b, m),
                    None,
                    Verdict::Missing,
                    "in the baseline, but no request completed in the current run",
                ),
                policy: None,
                rank_p: None,
            }),
            (None, Some(c)) => out.push(Pending {
                row: new_row(
                    name,
                    m,
                    None,
                    value(c, m),
                    Verdict::New,
                    "not in the baseline",
                ),
                policy: Some(policy),
                rank_p: None,
            }),
            (None, None) => {}
            (Some(b), Some(c)) => {
                let mut row = new_row(name, m, value(b, m), value(c, m), Verdict::Pass, "");
                if m.is_latency() && row.baseline.is_some() && row.current.is_none() {
                    row.verdict = Verdict::Missing;
                    row.reason = "no request succeeded in the current run, so there is no latency to compare".into();
                }
                let (test, rank_p) = match m {
                    Metric::ErrorRate => (
                        stats::two_proportions(b.errors, b.requests, c.errors, c.requests)
                            .map(RatioTest::p_only),
                        None,
                    ),
                    _ if method.trial_level => trial_test(&mut row, b, c, th.confidence),
                    _ => (
                        boot.as_ref().and_then(|bt| bt.get(&m).copied().flatten()),
                        None,
                    ),
                };
                if let (Some(bv), Some(cv)) = (row.baseline, row.current) {
                    row.change = (bv > 0.0)
                        .then(|| cv / bv - 1.0)
                        .or((cv > 0.0).then_some(f64::INFINITY));
                }
                if let Some(t) = test {
                    row.p_value = Some(t.p);
                    if t.low.is_finite() && t.high.is_finite() {
                        row.interval = Some([t.low - 1.0, t.high - 1.0]);
                    }
                }
                out.push(Pending {
                    row,
                    policy: Some(policy),
                    rank_p,
                });
            }
        }
    }
    out
}

/// The trial-level test of a latency or throughput row, and the rank test's p. The values shown
/// become what the test compares: the geometric means of the per-trial values, so that the
/// change is their ratio.
fn trial_test(
    row: &mut Row,
    b: &sides::Side,
    c: &sides::Side,
    confidence: f64,
) -> (Option<RatioTest>, Option<f64>) {
    let m = row.metric;
    let per_trial = |s: &sides::Side| -> Vec<f64> {
        if m == Metric::Throughput {
            s.trial_rps.clone()
        } else {
            s.trial_hists
                .iter()
                .filter_map(|h| latency_ms(h, m))
                .collect()
        }
    };
    let (xs, ys) = (per_trial(b), per_trial(c));
    if let (Some(gx), Some(gy)) = (stats::geometric_mean(&xs), stats::geometric_mean(&ys)) {
        row.baseline = Some(gx);
        row.current = Some(gy);
    }
    (
        stats::welch_log_ratio(&xs, &ys, confidence),
        stats::mann_whitney(&xs, &ys),
    )
}

/// Holm's correction over every test that was made.
fn holm_adjust(pending: &mut [Pending]) {
    let idx: Vec<usize> = (0..pending.len())
        .filter(|&i| pending[i].row.p_value.is_some())
        .collect();
    let ps: Vec<f64> = idx
        .iter()
        .map(|&i| pending[i].row.p_value.unwrap_or(1.0))
        .collect();
    for (k, adj) in stats::holm(&ps).into_iter().enumerate() {
        pending[idx[k]].row.p_adjusted = Some(adj);
    }
}
