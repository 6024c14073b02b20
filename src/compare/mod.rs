//! The gate: is the current result worse than the baseline, by more than the rules allow, with
//! evidence that it is not noise?
//!
//! `compare` produces a `Comparison` — one row per endpoint × metric with both values, the
//! change and its interval, the p-value after Holm's correction and a verdict — which every
//! report format renders. The statistics are in `stats`, the rules in `rules`.

pub mod rules;
pub mod stats;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::result::{decode_histogram, RunResult};
use rules::{Metric, Policy, Thresholds};
use stats::RatioTest;

pub const FORMAT: &str = "perfgate/compare/v1";

/// Trials per side from which the comparison is trial-level.
pub const MIN_TRIALS: usize = 5;
const RESAMPLES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Improved,
    New,
    Inconclusive,
    Warn,
    Missing,
    Fail,
}

impl Verdict {
    /// Higher is worse; the overall verdict is the worst row's.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Improved => 1,
            Verdict::New => 2,
            Verdict::Inconclusive => 3,
            Verdict::Warn => 4,
            Verdict::Missing => 5,
            Verdict::Fail => 6,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Improved => "IMPROVED",
            Verdict::New => "NEW",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Warn => "WARN",
            Verdict::Missing => "MISSING",
            Verdict::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SideInfo {
    /// How the side was named: "baseline main", a file path, "current".
    pub label: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    pub trials: usize,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MethodInfo {
    /// "trials" (trial-level tests) or "windows" (block bootstrap over 1-second windows).
    pub kind: String,
    pub confidence: f64,
    /// Set when the comparison could not be trial-level: what it means and how to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub endpoint: String,
    pub metric: Metric,
    /// ms for latency, % for error rate, req/s for throughput.
    pub unit: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change current/baseline − 1.
    pub change: Option<f64>,
    /// Confidence interval of the relative change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// After Holm's correction over all rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub format: String,
    pub verdict: Verdict,
    pub profile: String,
    pub baseline: SideInfo,
    pub current: SideInfo,
    pub method: MethodInfo,
    pub warnings: Vec<String>,
    pub rows: Vec<Row>,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}

/// Whether two results measure the same thing.
pub struct Comparability {
    /// Differences that make the comparison meaningless (exit 3 unless allowed).
    pub mismatches: Vec<String>,
    /// Differences worth a note in the report.
    pub warnings: Vec<String>,
}

/// A load size for people: the value, or "none" (the other model).
fn shown(v: Option<String>) -> String {
    v.unwrap_or_else(|| "none".into())
}

pub fn comparability(base: &RunResult, cur: &RunResult) -> Comparability {
    let (b, c) = (&base.meta, &cur.meta);
    let mut mismatches = Vec::new();
    let mut warnings = Vec::new();
    if b.profile.hash != c.profile.hash {
        mismatches.push(format!(
            "the profiles differ (hash {} vs {}): the load or the scenarios changed since the baseline was recorded",
            b.profile.hash, c.profile.hash
        ));
    }
    let (bl, cl) = (&b.load, &c.load);
    if bl.model != cl.model {
        mismatches.push(format!("load model {} vs {}", bl.model, cl.model));
    }
    if bl.users != cl.users {
        mismatches.push(format!(
            "users {} vs {}",
            shown(bl.users.map(|u| u.to_string())),
            shown(cl.users.map(|u| u.to_string()))
        ));
    }
    if bl.rate != cl.rate {
        mismatches.push(format!(
            "rate {} vs {}",
            shown(bl.rate.map(|r| format!("{r}/s"))),
            shown(cl.rate.map(|r| format!("{r}/s")))
        ));
    }
    if bl.duration_s != cl.duration_s || bl.warmup_s != cl.warmup_s {
        mismatches.push(format!(
            "duration {}s + warmup {}s vs {}s + {}s",
            bl.duration_s, bl.warmup_s, cl.duration_s, cl.warmup_s
        ));
    }
    if b.host.fingerprint != c.host.fingerprint {
        warnings.push(format!(
            "different machines: baseline on {} ({} cores), current on {} ({} cores); differences may be the machine's",
            b.host.cpu_model, b.host.cores, c.host.cpu_model, c.host.cores
        ));
    }
    if !cur.complete {
        warnings.push(format!(
            "the current result is incomplete ({})",
            cur.incomplete_reason.as_deref().unwrap_or("did not finish")
        ));
    }
    Comparability {
        mismatches,
        warnings,
    }
}

/// One side's data for one endpoint.
struct Side {
    trial_hists: Vec<Histogram<u64>>,
    merged: Histogram<u64>,
    requests: u64,
    errors: u64,
    measured_s: f64,
    /// Per-trial throughput.
    trial_rps: Vec<f64>,
    windows: Vec<Vec<(u64, u64)>>,
    window_requests: Vec<f64>,
}

fn side(r: &RunResult, endpoint: &str) -> Option<Side> {
    let mut s = Side {
        trial_hists: Vec::new(),
        merged: crate::metrics::new_histogram(),
        requests: 0,
        errors: 0,
        measured_s: 0.0,
        trial_rps: Vec::new(),
        windows: Vec::new(),
        window_requests: Vec::new(),
    };
    for t in &r.trials {
        let Some(e) = t.endpoints.iter().find(|e| e.name == endpoint) else {
            continue;
        };
        // Histograms were checked when the file was read.
        let h = decode_histogram(&e.histogram).ok()?;
        let _ = s.merged.add(&h);
        s.trial_hists.push(h);
        s.requests += e.requests;
        s.errors += e.errors.total;
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

fn latency_ms(h: &Histogram<u64>, m: Metric) -> Option<f64> {
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
fn value(s: &Side, m: Metric) -> Option<f64> {
    match m {
        Metric::ErrorRate => Some(s.errors as f64 * 100.0 / s.requests as f64),
        Metric::Throughput => (s.measured_s > 0.0).then(|| s.requests as f64 / s.measured_s),
        m => latency_ms(&s.merged, m),
    }
}

struct Pending {
    row: Row,
    policy: Option<Policy>,
    /// Mann–Whitney p for trial-level latency/throughput (outlier guard).
    rank_p: Option<f64>,
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
    let trial_level = base.trials.len() >= MIN_TRIALS && cur.trials.len() >= MIN_TRIALS;
    let mut pending: Vec<Pending> = Vec::new();
    for name in &names {
        let (b, c) = (side(base, name), side(cur, name));
        let metrics = th.metrics_for(name);
        // Window mode: one bootstrap per endpoint gives every latency metric at once.
        let boot = match (&b, &c, trial_level) {
            (Some(b), Some(c), false) => {
                Some(window_bootstrap(b, c, &metrics, name, th.confidence))
            }
            _ => None,
        };
        for m in metrics {
            let policy = th.policy(name, m);
            let row = |baseline, current, verdict, reason: String| Row {
                endpoint: name.clone(),
                metric: m,
                unit: m.unit().to_string(),
                baseline,
                current,
                change: None,
                interval: None,
                p_value: None,
                p_adjusted: None,
                verdict,
                reason,
            };
            match (&b, &c) {
                (Some(b), None) => pending.push(Pending {
                    row: row(
                        value(b, m),
                        None,
                        Verdict::Missing,
                        "in the baseline, but no request completed in the current run".into(),
                    ),
                    policy: None,
                    rank_p: None,
                }),
                (None, Some(c)) => pending.push(Pending {
                    row: row(
                        None,
                        value(c, m),
                        Verdict::New,
                        "not in the baseline".into(),
                    ),
                    policy: Some(policy),
                    rank_p: None,
                }),
                (None, None) => {}
                (Some(b), Some(c)) => {
                    let (bv, cv) = (value(b, m), value(c, m));
                    let mut r = row(bv, cv, Verdict::Pass, String::new());
                    if m.is_latency() && bv.is_some() && cv.is_none() {
                        r.verdict = Verdict::Missing;
                        r.reason = "no request succeeded in the current run, so there is no latency to compare".into();
                    }
                    let mut rank_p = None;
                    let test: Option<RatioTest> = match m {
                        Metric::ErrorRate => stats::two_proportions(
                            b.errors, b.requests, c.errors, c.requests,
                        )
                        .map(|p| RatioTest {
                            ratio: f64::NAN,
                            p,
                            low: f64::NAN,
                            high: f64::NAN,
                        }),
                        _ if trial_level => {
                            let (xs, ys): (Vec<f64>, Vec<f64>) = if m == Metric::Throughput {
                                (b.trial_rps.clone(), c.trial_rps.clone())
                            } else {
                                (
                                    b.trial_hists
                                        .iter()
                                        .filter_map(|h| latency_ms(h, m))
                                        .collect(),
                                    c.trial_hists
                                        .iter()
                                        .filter_map(|h| latency_ms(h, m))
                                        .collect(),
                                )
                            };
                            rank_p = stats::mann_whitney(&xs, &ys);
                            // The values shown are what the test compares: the geometric
                            // means of the per-trial values, so change = their ratio.
                            if let (Some(gx), Some(gy)) =
                                (stats::geometric_mean(&xs), stats::geometric_mean(&ys))
                            {
                                r.baseline = Some(gx);
                                r.current = Some(gy);
                            }
                            stats::welch_log_ratio(&xs, &ys, th.confidence)
                        }
                        _ => boot.as_ref().and_then(|bt| bt.get(&m).copied().flatten()),
                    };
                    if let (Some(bv), Some(cv)) = (r.baseline, r.current) {
                        r.change = (bv > 0.0)
                            .then(|| cv / bv - 1.0)
                            .or((cv > 0.0).then_some(f64::INFINITY));
                    }
                    if let Some(t) = test {
                        r.p_value = Some(t.p);
                        if t.low.is_finite() && t.high.is_finite() {
                            r.interval = Some([t.low - 1.0, t.high - 1.0]);
                        }
                    }
                    pending.push(Pending {
                        row: r,
                        policy: Some(policy),
                        rank_p,
                    });
                }
            }
        }
    }

    // Holm over every test that was made.
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
        .max_by_key(|v| v.severity())
        .unwrap_or(Verdict::Pass);
    let low_confidence = (!trial_level).then(|| {
        format!(
            "confidence is low: the baseline has {} trial{} and the current run {}; with fewer than {MIN_TRIALS} trials per side the gate compares 1-second windows, which see the noise within a run but not between runs. Set load.trials = {MIN_TRIALS} (or more) and record the baseline again for trial-level statistics.",
            base.trials.len(),
            if base.trials.len() == 1 { "" } else { "s" },
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
            kind: if trial_level { "trials" } else { "windows" }.to_string(),
            confidence: th.confidence,
            low_confidence,
        },
        warnings: comp.warnings,
        rows,
    }
}

fn pct(x: f64) -> String {
    if x.is_infinite() {
        "from zero".to_string()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

fn show(v: f64, m: Metric) -> String {
    match m {
        Metric::ErrorRate => format!("{v:.2}%"),
        Metric::Throughput => format!("{v:.1} req/s"),
        _ => format!("{v:.2} ms"),
    }
}

/// Applies the rules to a row whose values and p-values are known.
fn decide(row: &mut Row, policy: &Policy, alpha: f64, rank_p: Option<f64>) {
    let m = row.metric;
    let mut verdict = row.verdict;
    let mut reasons: Vec<String> = Vec::new();
    if !row.reason.is_empty() {
        reasons.push(row.reason.clone());
    }
    if m.is_latency() && row.current.is_none() && row.baseline.is_some() && policy.max.is_some() {
        verdict = Verdict::Fail;
        reasons.push("without a successful request the limit cannot be met".into());
    }
    // Absolute limits are in fractions for error rates; rows show percent.
    let scale = if m == Metric::ErrorRate { 100.0 } else { 1.0 };
    if let Some(cv) = row.current {
        if let Some(max) = policy.max {
            if cv > max * scale {
                verdict = Verdict::Fail;
                reasons.push(format!(
                    "{} is above the limit {}",
                    show(cv, m),
                    show(max * scale, m)
                ));
            }
        }
        if let Some(w) = policy.warn_above {
            if verdict.severity() < Verdict::Warn.severity() && cv > w * scale {
                verdict = Verdict::Warn;
                reasons.push(format!(
                    "{} is above the warning level {}",
                    show(cv, m),
                    show(w * scale, m)
                ));
            }
        }
    }
    if let (Some(bv), Some(cv), Some(change)) = (row.baseline, row.current, row.change) {
        let worse = if m.higher_is_worse() {
            change > 0.0
        } else {
            change < 0.0
        };
        let magnitude = change.abs();
        let delta = (cv - bv).abs() / scale;
        let big_enough = delta >= policy.min_delta;
        let significant = row.p_adjusted.is_some_and(|p| p < alpha)
            && rank_p.is_none_or(|p| p <= alpha.max(0.05));
        let p_text = match row.p_adjusted {
            None => "no test possible".to_string(),
            Some(p) if p < 0.001 => "p<0.001 after correction".to_string(),
            Some(p) => format!("p={p:.3} after correction"),
        };
        let how_much = if m == Metric::ErrorRate {
            format!("{} → {} ({:+.2} pp)", show(bv, m), show(cv, m), cv - bv)
        } else {
            pct(magnitude)
        };
        let regression = if worse && magnitude > policy.max_regression && big_enough {
            if significant {
                reasons.push(format!(
                    "worse by {how_much} (more than the {} allowed), {p_text}",
                    pct(policy.max_regression)
                ));
                Verdict::Fail
            } else {
                reasons.push(format!(
                    "worse by {how_much} but not significant ({p_text}); add trials to decide"
                ));
                Verdict::Inconclusive
            }
        } else if worse && magnitude > policy.warn && big_enough && significant {
            reasons.push(format!(
                "worse by {how_much} (more than the {} warning level), {p_text}",
                pct(policy.warn)
            ));
            Verdict::Warn
        } else if !worse && magnitude > policy.warn && big_enough && significant {
            reasons.push(format!("better by {how_much}"));
            Verdict::Improved
        } else {
            Verdict::Pass
        };
        if regression.severity() > verdict.severity() {
            verdict = regression;
        }
        if reasons.is_empty() && worse && !big_enough && magnitude > policy.warn {
            reasons.push(format!(
                "change below the minimum that counts ({})",
                show(policy.min_delta * scale, m)
            ));
        }
    }
    row.verdict = verdict;
    row.reason = reasons.join("; ");
}

/// Window-level tests for every metric of an endpoint (block bootstrap over 1-second windows).
fn window_bootstrap(
    b: &Side,
    c: &Side,
    metrics: &[Metric],
    endpoint: &str,
    confidence: f64,
) -> BTreeMap<Metric, Option<RatioTest>> {
    let latency: Vec<Metric> = metrics.iter().copied().filter(|m| m.is_latency()).collect();
    let values = stats::value_index(&[&b.windows, &c.windows]);
    let (wb, wc) = (
        stats::WindowedLatency::new(&b.windows, &values),
        stats::WindowedLatency::new(&c.windows, &values),
    );
    let seed = endpoint.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ x as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut counts = vec![0u64; values.len()];
    let mut stat = |wl: &stats::WindowedLatency, reqs: &[f64], idx: &[usize]| -> Vec<Option<f64>> {
        counts.iter_mut().for_each(|c| *c = 0);
        for &i in idx {
            for &(v, n) in &wl.windows[i] {
                counts[v as usize] += n;
            }
        }
        let total: u64 = counts.iter().sum();
        let mut out: Vec<Option<f64>> = latency
            .iter()
            .map(|m| match m {
                Metric::Mean => (total > 0).then(|| {
                    counts
                        .iter()
                        .zip(&values)
                        .map(|(c, v)| *c as f64 * *v as f64)
                        .sum::<f64>()
                        / total as f64
                        / 1000.0
                }),
                Metric::Max => counts
                    .iter()
                    .rposition(|c| *c > 0)
                    .map(|i| values[i] as f64 / 1000.0),
                m => stats::quantiles(&counts, &values, &[m.quantile().unwrap_or(0.5)])[0]
                    .map(|v| v / 1000.0),
            })
            .collect();
        out.push(
            (!idx.is_empty()).then(|| idx.iter().map(|&i| reqs[i]).sum::<f64>() / idx.len() as f64),
        );
        out
    };
    let k = latency.len() + 1;
    let logs = stats::block_bootstrap(
        b.windows.len(),
        c.windows.len(),
        k,
        RESAMPLES,
        seed,
        |side_ix, idx| {
            if side_ix == 0 {
                stat(&wb, &b.window_requests, idx)
            } else {
                stat(&wc, &c.window_requests, idx)
            }
        },
    );
    let mut out = BTreeMap::new();
    for (i, m) in latency
        .iter()
        .chain(std::iter::once(&Metric::Throughput))
        .enumerate()
    {
        let observed = match (value(b, *m), value(c, *m)) {
            (Some(x), Some(y)) if x > 0.0 => y / x,
            _ => f64::NAN,
        };
        out.insert(*m, stats::bootstrap_test(observed, &logs[i], confidence));
    }
    out
}
