//! A trial that looks disturbed: slower than its side's other trials across the endpoints, by
//! far more than those trials differ among themselves — what a runner hiccup (a paused VM, a
//! noisy neighbour for a few seconds) does to one trial. Such a trial does not decide a verdict
//! alone: it is left out of its side's trial-level tests, and the report says so.
//!
//! The rule, per side with at least `MIN_TRIALS` trials: for p50 and for p95, each endpoint's
//! per-trial value is compared with the endpoint's median over the trials, on the log scale; a
//! trial's score is the median of these deviations over the endpoints (one endpoint's noise does
//! not make a trial disturbed; a hiccup slows them all), and the side's spread is the median of
//! the endpoints' scaled MADs. The slowest trial is disturbed when its score exceeds both `K`
//! times the spread and a floor (10% for p50, 15% for p95). At most one trial per side is left
//! out, so four of five remain. Simulated with normal trial noise (a shared and a per-endpoint
//! part, 1 to 8 endpoints), the rule flags an undisturbed side in fewer than 0.5% of runs; a
//! trial only slower, never faster, is flagged, so leaving it out cannot make a current side look
//! worse.

use hdrhistogram::Histogram;

use crate::result::{decode_histogram, RunResult};

/// Trials a side needs before one of them can be told apart as disturbed.
const MIN_TRIALS: usize = 5;
/// How many of the side's spreads a disturbed trial is beyond.
const K: f64 = 6.0;
/// An endpoint counts when every trial has at least this many successful requests.
const MIN_REQUESTS: u64 = 20;

/// The quantiles judged, and the floor of each (a relative slowdown).
const QUANTILES: [(f64, &str, f64); 2] = [(0.50, "p50", 0.10), (0.95, "p95", 0.15)];

/// A trial left out, and the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Disturbed {
    /// The trial's index in the result.
    pub trial: u32,
    /// Its position among the side's trials (0-based), for "trial 1 of current".
    pub position: usize,
    /// The endpoint and metric that show it most, with the trial's value and the median of the
    /// others (ms).
    pub endpoint: String,
    pub metric: &'static str,
    pub value_ms: f64,
    pub others_ms: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The disturbed trial of `r`, if one looks disturbed.
pub fn disturbed_trial(r: &RunResult) -> Option<Disturbed> {
    let n = r.trials.len();
    if n < MIN_TRIALS {
        return None;
    }
    // Per endpoint present in every trial with enough successes: its per-trial histograms.
    let mut endpoints: Vec<(String, Vec<Histogram<u64>>)> = Vec::new();
    for name in r.endpoint_names() {
        let hists: Option<Vec<Histogram<u64>>> = r
            .trials
            .iter()
            .map(|t| {
                let e = t.endpoints.iter().find(|e| e.name == name)?;
                let h = decode_histogram(&e.histogram).ok()?;
                (h.len() >= MIN_REQUESTS).then_some(h)
            })
            .collect();
        if let Some(h) = hists {
            endpoints.push((name, h));
        }
    }
    if endpoints.is_empty() {
        return None;
    }
    let mut found: Option<(f64, Disturbed)> = None;
    for (q, metric, floor) in QUANTILES {
        // dev[e][t]: trial t's log value minus the endpoint's median over trials.
        let mut devs: Vec<Vec<f64>> = Vec::new();
        let mut mads = Vec::new();
        for (_, hists) in &endpoints {
            let logs: Vec<f64> = hists
                .iter()
                .map(|h| (h.value_at_quantile(q).max(1) as f64).ln())
                .collect();
            let mid = median(&mut logs.clone());
            let dev: Vec<f64> = logs.iter().map(|x| x - mid).collect();
            mads.push(1.4826 * median(&mut dev.iter().map(|d| d.abs()).collect::<Vec<_>>()));
            devs.push(dev);
        }
        let spread = median(&mut mads);
        let limit = (K * spread).max((1.0 + floor).ln());
        for t in 0..n {
            let score = median(&mut devs.iter().map(|d| d[t]).collect::<Vec<_>>());
            let excess = score / limit;
            if excess <= 1.0 || found.as_ref().is_some_and(|(e, _)| *e >= excess) {
                continue;
            }
            // The evidence: the endpoint this trial stands out on most.
            let (e, _) = devs
                .iter()
                .enumerate()
                .max_by(|a, b| a.1[t].total_cmp(&b.1[t]))
                .unwrap_or((0, &devs[0]));
            let hists = &endpoints[e].1;
            let ms = |h: &Histogram<u64>| h.value_at_quantile(q) as f64 / 1000.0;
            let mut others: Vec<f64> = (0..n).filter(|&o| o != t).map(|o| ms(&hists[o])).collect();
            found = Some((
                excess,
                Disturbed {
                    trial: r.trials[t].index,
                    position: t,
                    endpoint: endpoints[e].0.clone(),
                    metric,
                    value_ms: ms(&hists[t]),
                    others_ms: median(&mut others),
                },
            ));
        }
    }
    found.map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{encode_histogram, new_histogram, EndpointResult, TrialResult};

    /// A result whose trials have these p50s (ms) on one endpoint, 100 requests each around it.
    fn result(p50s: &[f64]) -> RunResult {
        let text = include_str!("../../tests/fuzz_regressions/result/small.json");
        let mut r: RunResult = serde_json::from_str(text).unwrap();
        let template = r.trials[0].clone();
        r.trials = p50s
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut h = new_histogram();
                for k in 0..100u64 {
                    h.saturating_record((p * 1000.0 * (0.9 + 0.002 * k as f64)) as u64);
                }
                let e = EndpointResult {
                    name: "GET /io".into(),
                    requests: 100,
                    histogram: encode_histogram(&h),
                    ..template.endpoints[0].clone()
                };
                TrialResult {
                    index: i as u32,
                    endpoints: vec![e],
                    ..template.clone()
                }
            })
            .collect();
        r
    }

    #[test]
    fn one_slow_trial_among_steady_ones_is_found_and_steady_trials_are_not() {
        let d = disturbed_trial(&result(&[19.4, 10.3, 10.3, 10.3, 10.4])).expect("disturbed");
        assert_eq!(
            (d.position, d.endpoint.as_str(), d.metric),
            (0, "GET /io", "p50")
        );
        assert!(
            (d.value_ms - 19.4).abs() < 0.2 && (d.others_ms - 10.3).abs() < 0.2,
            "{d:?}"
        );
        assert_eq!(
            disturbed_trial(&result(&[10.5, 10.3, 10.1, 10.3, 10.4])),
            None
        );
        // Faster is not disturbed; fewer than five trials cannot tell.
        assert_eq!(
            disturbed_trial(&result(&[5.0, 10.3, 10.3, 10.3, 10.4])),
            None
        );
        assert_eq!(disturbed_trial(&result(&[19.4, 10.3, 10.3, 10.3])), None);
    }
}
