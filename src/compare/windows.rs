//! Window-level tests, for results with fewer than `MIN_TRIALS` trials a side: a moving-block
//! bootstrap over 1-second windows gives every latency metric and the throughput of an endpoint
//! at once. It sees the noise within a run but not between runs, so its confidence is low.

use std::collections::BTreeMap;

use super::rules::Metric;
use super::sides::{value, Side};
use super::stats::{self, RatioTest};

/// Resamples per bootstrap.
const RESAMPLES: usize = 1000;

/// Window-level tests for every metric of an endpoint (block bootstrap over 1-second windows).
pub(super) fn window_bootstrap(
    b: &Side,
    c: &Side,
    metrics: &[Metric],
    endpoint: &str,
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
        out.insert(*m, stats::bootstrap_test(observed, &logs[i]));
    }
    out
}
