//! The rows of a comparison for endpoints and flows, stage by stage: their values on both sides
//! (or, without a baseline, the current side's only, for absolute limits) and their tests.

use super::rules::{Metric, Policy, Subject};
use super::sides::{
    flow_side, flow_value, latency_ms, side, target_side, target_value, value, FlowSide, Side,
    TargetSide,
};
use super::stats::{self, RatioTest};
use super::windows::window_bootstrap;
use super::{runs, Method, Pending, Row, Verdict};
use crate::result::RunResult;

/// The requests beyond a percentile each side needs for one summary a side to decide it.
const MIN_TAIL: f64 = 10.0;

/// A row with its values and no test yet.
pub(super) fn new_row(
    subject: &Subject<'_>,
    shown_stage: Option<&str>,
    m: Metric,
    values: (Option<f64>, Option<f64>),
    verdict: Verdict,
    reason: &str,
) -> Row {
    Row {
        endpoint: subject.endpoint.unwrap_or_default().to_string(),
        scenario: subject.scenario.map(str::to_string),
        stage: shown_stage.map(str::to_string),
        vs_stage: None,
        metric: m,
        unit: m.unit().to_string(),
        baseline: values.0,
        current: values.1,
        change: None,
        interval: None,
        interval_level: None,
        p_value: None,
        p_adjusted: None,
        allowed: None,
        detectable: None,
        verdict,
        reason: reason.to_string(),
    }
}

/// A row without a test: decided by the rules' absolute limits only (or already by its verdict).
pub(super) fn untested(row: Row, policy: Option<Policy>) -> Pending {
    Pending {
        row,
        policy,
        test: None,
        p_worse: None,
        p_better: None,
        rates: None,
        plain: None,
    }
}

/// The change current/baseline − 1 of a row's values (infinite from zero).
fn set_change(row: &mut Row) {
    if let (Some(bv), Some(cv)) = (row.baseline, row.current) {
        row.change = (bv > 0.0)
            .then(|| cv / bv - 1.0)
            .or((cv > 0.0).then_some(f64::INFINITY));
    }
}

/// The one-sided p-values of a worsening and of an improvement, from a two-sided test and the
/// direction of the change.
pub(super) fn one_sided(
    test: Option<&RatioTest>,
    up: bool,
    m: Metric,
) -> (Option<f64>, Option<f64>) {
    let Some(t) = test else {
        return (None, None);
    };
    let (towards, away) = (t.p / 2.0, 1.0 - t.p / 2.0);
    if up == m.higher_is_worse() {
        (Some(towards), Some(away))
    } else {
        (Some(away), Some(towards))
    }
}

/// A row with its test, ready for Holm and the rules.
pub(super) fn tested(
    mut row: Row,
    policy: Policy,
    test: Option<RatioTest>,
    rates: Option<(f64, u64, u64)>,
) -> Pending {
    set_change(&mut row);
    // The direction of the change: from the test's estimate, or (rates) the values.
    let up = match (&test, row.baseline, row.current) {
        (Some(t), _, _) if t.se.is_some() => t.log_ratio > 0.0,
        (_, Some(bv), Some(cv)) => cv > bv,
        _ => false,
    };
    let (p_worse, p_better) = one_sided(test.as_ref(), up, row.metric);
    row.p_value = p_worse;
    row.allowed = Some(policy.max_regression);
    Pending {
        row,
        policy: Some(policy),
        test,
        p_worse,
        p_better,
        rates,
        plain: None,
    }
}

/// Whether a policy has an absolute limit, the only thing judged without a baseline.
fn has_limit(p: &Policy) -> bool {
    p.max.is_some() || p.warn_above.is_some() || p.min.is_some() || p.warn_below.is_some()
}

/// The rows of one endpoint in one stage, one per metric gated for it.
pub(super) fn endpoint_rows(
    name: &str,
    stage: &str,
    base: Option<&RunResult>,
    cur: &RunResult,
    method: &Method,
) -> Vec<Pending> {
    let subject = Subject::endpoint(name, stage);
    let shown = method.shown_stage(stage);
    let b = base.and_then(|b| side(b, name, stage, method.skip_base));
    let c = side(cur, name, stage, method.skip_cur);
    let th = method.th;
    let metrics = th.metrics_for(&subject);
    // Window mode: one bootstrap per endpoint gives every latency metric at once.
    let boot = match (&b, &c, method.trial_level) {
        (Some(b), Some(c), false) => Some(window_bootstrap(b, c, &metrics, name)),
        _ => None,
    };
    let mut out = Vec::new();
    for m in metrics {
        let policy = th.policy(&subject, m);
        let row = |b: Option<&Side>, c: Option<&Side>, verdict, reason: &str| {
            new_row(
                &subject,
                shown,
                m,
                (b.and_then(|b| value(b, m)), c.and_then(|c| value(c, m))),
                verdict,
                reason,
            )
        };
        match (&b, &c) {
            (None, Some(c)) if base.is_none() => {
                if has_limit(&policy) {
                    out.push(untested(
                        row(None, Some(c), Verdict::Pass, ""),
                        Some(policy),
                    ));
                }
            }
            (Some(b), None) => out.push(untested(
                row(
                    Some(b),
                    None,
                    Verdict::Missing,
                    "in the baseline, but no request completed in the current run",
                ),
                None,
            )),
            (None, Some(c)) => out.push(untested(
                row(None, Some(c), Verdict::New, "not in the baseline"),
                Some(policy),
            )),
            (None, None) => {}
            (Some(b), Some(c)) => {
                let mut r = row(Some(b), Some(c), Verdict::Pass, "");
                let summary = b.summary_only() || c.summary_only();
                if summary && m.is_latency() && (r.baseline.is_none() || r.current.is_none()) {
                    r.verdict = Verdict::Missing;
                    r.reason = format!("the imported summary has no {}", m.name());
                } else if m.is_latency() && r.baseline.is_some() && r.current.is_none() {
                    r.verdict = Verdict::Missing;
                    r.reason = "no request succeeded in the current run, so there is no latency to compare".into();
                }
                let (test, rates) = match m {
                    Metric::ErrorRate => (
                        stats::two_proportions(b.errors, b.requests, c.errors, c.requests)
                            .map(RatioTest::p_only),
                        Some((b.errors as f64 / b.requests as f64, b.requests, c.requests)),
                    ),
                    _ if method.trial_level => {
                        (trial_level_test(&mut r, b, c, m, stage, method), None)
                    }
                    _ => (
                        boot.as_ref().and_then(|bt| bt.get(&m).copied().flatten()),
                        None,
                    ),
                };
                // One summary a side: nothing to test with, so the plain ratio decides — where
                // the summaries can show a change at all: a percentile needs some requests
                // beyond it on both sides (a tail of three requests is noise).
                let beyond = |s: &Side| {
                    let ok = s.requests.saturating_sub(s.errors) as f64;
                    m.quantile().map_or(f64::INFINITY, |q| ok * (1.0 - q))
                };
                let tail = beyond(b).min(beyond(c));
                let plain = summary && !method.trial_level && m != Metric::ErrorRate;
                if plain && tail < MIN_TAIL {
                    r.reason = format!(
                        "too few requests beyond {} ({tail:.0}) for one summary a side to show a change",
                        m.name()
                    );
                }
                let mut p = tested(r, policy, test, rates);
                let step = [base, Some(cur)]
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.meta.source.as_ref()?.resolution)
                    .fold(0.0, f64::max);
                p.plain = (plain && tail >= MIN_TAIL).then_some(step);
                out.push(p);
            }
        }
    }
    out
}

/// The rows of one scenario's flow in one stage, one per flow metric its rules name.
pub(super) fn flow_rows(
    scenario: &str,
    stage: &str,
    base: Option<&RunResult>,
    cur: &RunResult,
    method: &Method,
) -> Vec<Pending> {
    let subject = Subject::flow(scenario, stage);
    let shown = method.shown_stage(stage);
    let th = method.th;
    let b = base.and_then(|b| flow_side(b, scenario, stage, method.skip_base));
    let c = flow_side(cur, scenario, stage, method.skip_cur);
    let mut out = Vec::new();
    for m in th.metrics_for(&subject) {
        let policy = th.policy(&subject, m);
        let values = (
            b.as_ref().and_then(|b| flow_value(b, m)),
            c.as_ref().and_then(|c| flow_value(c, m)),
        );
        match (&b, &c) {
            (_, None) => {}
            (None, Some(_)) if base.is_none() => {
                if has_limit(&policy) {
                    out.push(untested(
                        new_row(&subject, shown, m, values, Verdict::Pass, ""),
                        Some(policy),
                    ));
                }
            }
            (None, Some(_)) => out.push(untested(
                new_row(
                    &subject,
                    shown,
                    m,
                    values,
                    Verdict::New,
                    "not in the baseline",
                ),
                Some(policy),
            )),
            (Some(b), Some(c)) => {
                let mut r = new_row(&subject, shown, m, values, Verdict::Pass, "");
                let (test, rates) = flow_test(&mut r, b, c, method.trial_level);
                out.push(tested(r, policy, test, rates));
            }
        }
    }
    out
}

/// Why a target metric has no value in the current run.
const TARGET_UNSEEN: &str = "perfgate could not see the target's processes in the current run: it samples their CPU and memory when it starts the target itself (`start`) or is given target.pid, target.pid_file or target.cgroup";

/// The rows of the target's own resources in one stage, one per target metric the rules name.
pub(super) fn target_rows(
    stage: &str,
    base: Option<&RunResult>,
    cur: &RunResult,
    method: &Method,
) -> Vec<Pending> {
    let subject = Subject::target(stage);
    let shown = method.shown_stage(stage);
    let th = method.th;
    let b = base.and_then(|b| target_side(b, stage, method.skip_base));
    let c = target_side(cur, stage, method.skip_cur);
    let mut out = Vec::new();
    for m in th
        .metrics_for(&subject)
        .into_iter()
        .filter(|m| m.is_target())
    {
        let policy = th.policy(&subject, m);
        let values = (
            b.as_ref().and_then(|b| target_value(b, m)),
            c.as_ref().and_then(|c| target_value(c, m)),
        );
        let row = |verdict, reason: &str| new_row(&subject, shown, m, values, verdict, reason);
        match (&b, &c) {
            (_, None) => out.push(untested(row(Verdict::Missing, TARGET_UNSEEN), None)),
            (None, Some(_)) if base.is_none() => {
                if has_limit(&policy) {
                    out.push(untested(row(Verdict::Pass, ""), Some(policy)));
                }
            }
            (None, Some(_)) => out.push(untested(
                row(
                    Verdict::New,
                    "the baseline has no target figures (perfgate could not see the target then)",
                ),
                Some(policy),
            )),
            (Some(b), Some(c)) => {
                let mut r = row(Verdict::Pass, "");
                let test = target_test(&mut r, b, c, method.trial_level);
                out.push(tested(r, policy, test, None));
            }
        }
    }
    out
}

/// Trial-level tests of the per-trial values for CPU and peak memory; for memory growth, the
/// difference of the two sides' slopes against their standard errors (each trial's own
/// Newey–West interval), which needs no minimum number of trials.
fn target_test(
    row: &mut Row,
    b: &TargetSide,
    c: &TargetSide,
    trial_level: bool,
) -> Option<RatioTest> {
    let m = row.metric;
    if m == Metric::TargetRssGrowth {
        let ((gb, sb), (gc, sc)) = (b.growth()?, c.growth()?);
        let se = (sb * sb + sc * sc).sqrt();
        let p = if se > 0.0 {
            2.0 * (1.0 - stats::normal_cdf(((gc - gb) / se).abs()))
        } else if gc != gb {
            0.0
        } else {
            1.0
        };
        return Some(RatioTest::p_only(p));
    }
    if !trial_level {
        return None;
    }
    trial_test(row, &b.per_trial(m), &c.per_trial(m))
}

/// The test of a flow metric: a two-proportion test of failed iterations for the completion
/// rate, trial-level tests otherwise (none with fewer trials: flows have no windows).
fn flow_test(
    row: &mut Row,
    b: &FlowSide,
    c: &FlowSide,
    trial_level: bool,
) -> (Option<RatioTest>, Option<(f64, u64, u64)>) {
    let m = row.metric;
    if m == Metric::CompletionRate {
        let (nb, nc) = (b.completed + b.failed, c.completed + c.failed);
        let test = stats::two_proportions(b.failed, nb, c.failed, nc).map(RatioTest::p_only);
        return (test, Some((b.failed as f64 / nb.max(1) as f64, nb, nc)));
    }
    if !trial_level {
        return (None, None);
    }
    let per_trial = |s: &FlowSide| -> Vec<f64> {
        if m == Metric::IterationsPerMin {
            s.trial_per_min.clone()
        } else {
            s.trial_hists
                .iter()
                .filter_map(|h| latency_ms(h, m))
                .collect()
        }
    };
    (trial_test(row, &per_trial(b), &per_trial(c)), None)
}

/// The trial-level test of an endpoint's metric: two-level against a baseline of several runs
/// (latencies), else Welch's on the per-trial values.
fn trial_level_test(
    r: &mut Row,
    b: &Side,
    c: &Side,
    m: Metric,
    stage: &str,
    method: &Method,
) -> Option<RatioTest> {
    let per_trial = |s: &Side| -> Vec<f64> {
        if m == Metric::Throughput {
            s.trial_rps.clone()
        } else if s.summary_only() {
            s.summary_values(m)
        } else {
            s.trial_hists
                .iter()
                .filter_map(|h| latency_ms(h, m))
                .collect()
        }
    };
    let two_level = (m.is_latency() && !b.summary_only())
        .then(|| method.prior(stage))
        .flatten()
        .and_then(|p| Some((runs::spread(&run_values(b, m))?, p)));
    match two_level {
        Some((spread, prior)) => two_level_test(r, &spread, prior, &per_trial(c)),
        None => trial_test(r, &per_trial(b), &per_trial(c)),
    }
}

/// A baseline side's per-trial values of latency metric `m`, labelled with their runs.
pub(super) fn run_values(s: &Side, m: Metric) -> Vec<(u32, f64)> {
    s.trial_hists
        .iter()
        .zip(&s.trial_runs)
        .filter_map(|(h, r)| Some((*r, latency_ms(h, m)?)))
        .collect()
}

/// The two-level test of a baseline of several runs against the current run's trials. The
/// values shown are what it compares: the geometric mean of the baseline's run means, and the
/// current trials' geometric mean.
fn two_level_test(
    row: &mut Row,
    base: &runs::RunSpread,
    prior: &runs::Prior,
    ys: &[f64],
) -> Option<RatioTest> {
    if let Some(gy) = stats::geometric_mean(ys) {
        row.baseline = Some(base.mean.exp());
        row.current = Some(gy);
    }
    runs::two_level_log_ratio(base, prior, ys)
}

/// The trial-level test of per-trial values. The values shown become what the test compares:
/// the geometric means of the per-trial values, so that the change is their ratio.
pub(super) fn trial_test(row: &mut Row, xs: &[f64], ys: &[f64]) -> Option<RatioTest> {
    if let (Some(gx), Some(gy)) = (stats::geometric_mean(xs), stats::geometric_mean(ys)) {
        row.baseline = Some(gx);
        row.current = Some(gy);
    }
    stats::welch_log_ratio(xs, ys)
}
