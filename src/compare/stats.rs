//! The statistics of the gate, hand-written because they are the product's core.
//!
//! Requests within one run are correlated (they share the machine's state at that moment), so
//! a test that treats 10,000 requests as 10,000 independent samples calls every wobble
//! significant. The unit of evidence is therefore the trial, or with too few trials, the
//! 1-second window:
//!
//! * **Trials** (≥ 5 per side): Welch's t-test on the logarithm of the per-trial values, i.e. on
//!   the ratio current/baseline, with its confidence interval; and Mann–Whitney's rank test as a
//!   guard against one outlying trial carrying the t-test. A rank test alone cannot carry the
//!   decision: with 5 trials per side its smallest possible p-value is 0.008, which no
//!   correction for 40 endpoint × metric tests lets through.
//! * **Windows** (fewer trials): a moving-block bootstrap over 1-second windows, whose spread
//!   gives the standard error of the log ratio. It sees noise within a run, not between runs,
//!   which is why the report calls its confidence low.
//! * **Error rates**: a two-proportion z-test on the counts.
//! * **Many tests**: Holm's step-down correction over all endpoint × metric p-values.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// A two-sided test of the ratio current/baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioTest {
    /// Point estimate of current/baseline.
    pub ratio: f64,
    /// Two-sided p-value of "the ratio is 1".
    pub p: f64,
    /// Confidence interval of the ratio.
    pub low: f64,
    pub high: f64,
}

impl RatioTest {
    /// A test that gives only a p-value (the two-proportion test of error rates).
    pub fn p_only(p: f64) -> RatioTest {
        RatioTest {
            ratio: f64::NAN,
            p,
            low: f64::NAN,
            high: f64::NAN,
        }
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal distribution is valid")
}

/// The geometric mean of positive values (None if any is not positive, or none is given).
pub fn geometric_mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() || v.iter().any(|x| *x <= 0.0 || !x.is_finite()) {
        return None;
    }
    Some((v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// Welch's t-test on log values: the ratio of geometric means. Needs ≥ 2 positive values a side.
pub fn welch_log_ratio(baseline: &[f64], current: &[f64], confidence: f64) -> Option<RatioTest> {
    if baseline.len() < 2
        || current.len() < 2
        || baseline
            .iter()
            .chain(current)
            .any(|v| *v <= 0.0 || !v.is_finite())
    {
        return None;
    }
    let lx: Vec<f64> = baseline.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = current.iter().map(|v| v.ln()).collect();
    let (nx, ny) = (lx.len() as f64, ly.len() as f64);
    let diff = mean(&ly) - mean(&lx);
    let (vx, vy) = (variance(&lx) / nx, variance(&ly) / ny);
    let se = (vx + vy).sqrt();
    if se < 1e-12 {
        // No spread at all: any difference is certain, none is no change.
        let p = if diff.abs() < 1e-12 { 1.0 } else { 0.0 };
        let r = diff.exp();
        return Some(RatioTest {
            ratio: r,
            p,
            low: r,
            high: r,
        });
    }
    let df = (vx + vy).powi(2) / (vx * vx / (nx - 1.0) + vy * vy / (ny - 1.0));
    let t = StudentsT::new(0.0, 1.0, df.max(1.0)).ok()?;
    let p = 2.0 * (1.0 - t.cdf(diff.abs() / se));
    let crit = t.inverse_cdf(0.5 + confidence / 2.0);
    Some(RatioTest {
        ratio: diff.exp(),
        p: p.clamp(0.0, 1.0),
        low: (diff - crit * se).exp(),
        high: (diff + crit * se).exp(),
    })
}

/// Mann–Whitney U test, two-sided. Exact (by counting rank arrangements) for small samples
/// without ties, normal approximation with tie correction otherwise.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<f64> {
    let (n, m) = (x.len(), y.len());
    if n == 0 || m == 0 {
        return None;
    }
    let mut all: Vec<(f64, usize)> = x
        .iter()
        .map(|v| (*v, 0))
        .chain(y.iter().map(|v| (*v, 1)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mid-ranks for ties.
    let mut ranks = vec![0.0; all.len()];
    let mut ties = false;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in ranks.iter_mut().take(j + 1).skip(i) {
            *k = r;
        }
        let t = (j - i + 1) as f64;
        if t > 1.0 {
            ties = true;
            tie_term += t * t * t - t;
        }
        i = j + 1;
    }
    let r1: f64 = all
        .iter()
        .zip(&ranks)
        .filter(|(a, _)| a.1 == 0)
        .map(|(_, r)| r)
        .sum();
    let u1 = r1 - (n * (n + 1)) as f64 / 2.0;
    let (nf, mf) = (n as f64, m as f64);
    let u = u1.min(nf * mf - u1);
    if !ties && n * m <= 2500 {
        // counts[k] = number of arrangements with U = k, by the standard recurrence.
        let dist = u_distribution(n, m);
        let total: f64 = dist.iter().sum();
        let k = u.floor() as usize;
        let tail: f64 = dist[..=k.min(dist.len() - 1)].iter().sum();
        return Some((2.0 * tail / total).min(1.0));
    }
    let nt = nf + mf;
    let sd = ((nf * mf / 12.0) * ((nt + 1.0) - tie_term / (nt * (nt - 1.0)))).sqrt();
    if sd <= 0.0 {
        return Some(1.0);
    }
    let z = (u - nf * mf / 2.0 + 0.5) / sd; // continuity correction
    Some((2.0 * std_normal().cdf(z)).min(1.0))
}

/// The null distribution of U for sample sizes n and m (counts of arrangements).
fn u_distribution(n: usize, m: usize) -> Vec<f64> {
    // f[i][j][u]: arrangements of i x's and j y's with statistic u; built up one sample at a time.
    let max_u = n * m;
    let mut prev: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; m + 1];
    for row in prev.iter_mut() {
        row[0] = 1.0; // zero x's: U = 0 whatever the y's
    }
    for _ in 0..n {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; m + 1];
        cur[0][0] = 1.0;
        for j in 1..=m {
            for u in 0..=max_u {
                // The largest value is an x (it beats all j y's) or a y.
                let from_x = if u >= j { prev[j][u - j] } else { 0.0 };
                cur[j][u] = from_x + cur[j - 1][u];
            }
        }
        prev = cur;
    }
    prev[m].clone()
}

/// Two-proportion z-test (pooled), two-sided: are the error rates e1/n1 and e2/n2 different?
pub fn two_proportions(e1: u64, n1: u64, e2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (e1 as f64 / n1 as f64, e2 as f64 / n2 as f64);
    let pooled = (e1 + e2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        return Some(if p1 == p2 { 1.0 } else { 0.0 });
    }
    let z = (p2 - p1).abs() / se;
    Some((2.0 * (1.0 - std_normal().cdf(z))).clamp(0.0, 1.0))
}

/// Holm's step-down adjustment: adjusted p-values in the input order.
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut adjusted = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let a = ((m - rank) as f64 * ps[i]).min(1.0);
        running = running.max(a);
        adjusted[i] = running;
    }
    adjusted
}

/// Latency samples grouped in windows, over a shared index of bucket values, for resampling.
pub struct WindowedLatency {
    /// Per window: (index into `values`, count).
    pub windows: Vec<Vec<(u32, u64)>>,
}

/// Sorted distinct bucket values across both sides, so both resample into the same array.
pub fn value_index(sides: &[&[Vec<(u64, u64)>]]) -> Vec<u64> {
    let mut values: Vec<u64> = sides
        .iter()
        .flat_map(|s| s.iter().flatten().map(|(v, _)| *v))
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

impl WindowedLatency {
    pub fn new(windows: &[Vec<(u64, u64)>], values: &[u64]) -> Self {
        WindowedLatency {
            windows: windows
                .iter()
                .map(|w| {
                    w.iter()
                        .filter_map(|(v, c)| values.binary_search(v).ok().map(|i| (i as u32, *c)))
                        .collect()
                })
                .collect(),
        }
    }
}

/// Quantiles `qs` of a dense count array over `values` (the value at or below which a fraction
/// q of the samples fall, as HdrHistogram computes it).
pub fn quantiles(counts: &[u64], values: &[u64], qs: &[f64]) -> Vec<Option<f64>> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return vec![None; qs.len()];
    }
    qs.iter()
        .map(|&q| {
            let target = ((q * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= target {
                    return Some(values[i] as f64);
                }
            }
            values.last().map(|v| *v as f64)
        })
        .collect()
}

/// Block bootstrap of ratios of statistics over windows. `stat(side, windows)` computes each
/// metric's statistic (None when undefined) for a resample of side 0 (baseline) or 1 (current),
/// given as window indices. Returns, per metric, the bootstrap log ratios current/baseline.
pub fn block_bootstrap<F>(
    n_base: usize,
    n_cur: usize,
    metrics: usize,
    resamples: usize,
    seed: u64,
    mut stat: F,
) -> Vec<Vec<f64>>
where
    F: FnMut(usize, &[usize]) -> Vec<Option<f64>>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![Vec::with_capacity(resamples); metrics];
    let (mut ib, mut ic) = (Vec::with_capacity(n_base), Vec::with_capacity(n_cur));
    for _ in 0..resamples {
        resample_blocks(&mut rng, n_base, &mut ib);
        resample_blocks(&mut rng, n_cur, &mut ic);
        let (b, c) = (stat(0, &ib), stat(1, &ic));
        for (k, logs) in out.iter_mut().enumerate() {
            if let (Some(Some(b)), Some(Some(c))) = (b.get(k), c.get(k)) {
                if *b > 0.0 && *c > 0.0 {
                    logs.push((c / b).ln());
                }
            }
        }
    }
    out
}

/// Moving blocks of about √n windows (at least 1), so that correlation between neighbouring
/// seconds is kept within a block.
fn resample_blocks(rng: &mut ChaCha8Rng, n: usize, into: &mut Vec<usize>) {
    into.clear();
    if n == 0 {
        return;
    }
    let block = ((n as f64).sqrt().round() as usize).clamp(1, n);
    while into.len() < n {
        let start = rng.gen_range(0..=n - block);
        for i in start..start + block {
            if into.len() == n {
                break;
            }
            into.push(i);
        }
    }
}

/// A ratio test from bootstrap log ratios: the observed ratio, a z-test with the bootstrap's
/// standard error, and the percentile interval.
pub fn bootstrap_test(
    observed_ratio: f64,
    log_ratios: &[f64],
    confidence: f64,
) -> Option<RatioTest> {
    if log_ratios.len() < 20 || observed_ratio.is_nan() || observed_ratio <= 0.0 {
        return None;
    }
    let sd = variance(log_ratios).sqrt();
    let mut sorted = log_ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        sorted[((q * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)].exp()
    };
    let alpha = 1.0 - confidence;
    let p = if sd < 1e-12 {
        if (observed_ratio - 1.0).abs() < 1e-12 {
            1.0
        } else {
            0.0
        }
    } else {
        2.0 * (1.0 - std_normal().cdf(observed_ratio.ln().abs() / sd))
    };
    Some(RatioTest {
        ratio: observed_ratio,
        p: p.clamp(0.0, 1.0),
        low: pick(alpha / 2.0),
        high: pick(1.0 - alpha / 2.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_finds_a_clear_shift_and_not_noise() {
        let base = [10.0, 10.2, 9.9, 10.1, 10.0];
        let worse = [11.5, 11.6, 11.4, 11.7, 11.5];
        let t = welch_log_ratio(&base, &worse, 0.99).unwrap();
        assert!((t.ratio - 1.15).abs() < 0.01, "{t:?}");
        assert!(t.p < 1e-4, "{t:?}");
        assert!(t.low > 1.1 && t.high < 1.2, "{t:?}");
        let same = [10.1, 9.9, 10.0, 10.2, 9.8];
        let t = welch_log_ratio(&base, &same, 0.99).unwrap();
        assert!(t.p > 0.3 && t.low < 1.0 && t.high > 1.0, "{t:?}");
    }

    #[test]
    fn welch_matches_a_textbook_value() {
        // Two-sample Welch test on logs computed by hand (R: t.test(log(y), log(x))).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 3.0, 4.0, 5.0, 6.0];
        let t = welch_log_ratio(&x, &y, 0.95).unwrap();
        // By hand: t = 1.0414 with 7.06 degrees of freedom, p ≈ 0.332; ratio = e^(mean log diff).
        assert!((t.ratio - 1.430969).abs() < 1e-5, "{t:?}");
        assert!((t.p - 0.332).abs() < 0.005, "{t:?}");
        let back = welch_log_ratio(&y, &x, 0.95).unwrap();
        assert!((t.p - back.p).abs() < 1e-12);
        assert!((t.ratio * back.ratio - 1.0).abs() < 1e-12);
    }

    #[test]
    fn mann_whitney_exact_matches_tables() {
        // Complete separation with 5 vs 5: 2 of 252 arrangements are as extreme.
        let p = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        // One inversion: U = 1 → P(U ≤ 1) = 2/252 per side.
        let p = mann_whitney(&[1.0, 2.0, 3.0, 4.0, 6.0], &[5.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 4.0 / 252.0).abs() < 1e-12, "{p}");
        let p = mann_whitney(&[1.0, 3.0, 5.0, 7.0, 9.0], &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap();
        assert!(p > 0.5, "{p}");
        // With ties the normal approximation is used and stays in range.
        let p = mann_whitney(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]).unwrap();
        assert!((0.0..=1.0).contains(&p));
    }

    #[test]
    fn two_proportions_separates_rates() {
        assert!(two_proportions(10, 10_000, 100, 10_000).unwrap() < 1e-6);
        assert!(two_proportions(10, 10_000, 12, 10_000).unwrap() > 0.5);
        assert_eq!(two_proportions(0, 100, 0, 100), Some(1.0));
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.5]);
        assert!((adj[0] - 0.04).abs() < 1e-12);
        assert!((adj[2] - 0.09).abs() < 1e-12);
        assert!(
            (adj[1] - 0.09).abs() < 1e-12,
            "monotone: not below the previous step"
        );
        assert!((adj[3] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn quantiles_follow_hdr_semantics() {
        let values = [1, 2, 3, 4];
        let counts = [1, 1, 1, 1];
        assert_eq!(
            quantiles(&counts, &values, &[0.5, 0.75, 1.0]),
            vec![Some(2.0), Some(3.0), Some(4.0)]
        );
        assert_eq!(quantiles(&[0, 0, 0, 0], &values, &[0.5]), vec![None]);
    }

    #[test]
    fn bootstrap_is_seeded_and_sees_a_shift() {
        let base: Vec<f64> = (0..20).map(|i| 10.0 + (i % 3) as f64 * 0.1).collect();
        let cur: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let mean_of = |v: &[f64], idx: &[usize]| {
            vec![Some(
                idx.iter().map(|&i| v[i]).sum::<f64>() / idx.len() as f64,
            )]
        };
        let run = |seed| {
            block_bootstrap(20, 20, 1, 500, seed, |side, i| {
                mean_of(if side == 0 { &base } else { &cur }, i)
            })
        };
        assert_eq!(run(7), run(7), "the same seed gives the same resamples");
        let t = bootstrap_test(1.3, &run(7)[0], 0.99).unwrap();
        assert!(t.p < 1e-6 && t.low > 1.25 && t.high < 1.35, "{t:?}");
    }
}
