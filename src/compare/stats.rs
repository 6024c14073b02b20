//! The statistics of the gate, hand-written because they are the product's core.
//!
//! Requests within one run are correlated (they share the machine's state at that moment), so
//! a test that treats 10,000 requests as 10,000 independent samples calls every wobble
//! significant. The unit of evidence is therefore the trial, or with too few trials, the
//! 1-second window:
//!
//! * **Trials** (≥ 5 per side): Welch's t-test on the logarithm of the per-trial values, i.e. on
//!   the ratio current/baseline, with its standard error and degrees of freedom, from which the
//!   one-sided p-value of a worsening, the interval at any level and the smallest change the
//!   check could detect follow. A trial a hiccup spoilt is left out first (`disturbed`), so that
//!   one wild value cannot make everything inconclusive.
//! * **Windows** (fewer trials): a moving-block bootstrap over 1-second windows, whose spread
//!   gives the standard error of the log ratio. It sees noise within a run, not between runs,
//!   which is why the report calls its confidence low.
//! * **Error rates**: a two-proportion z-test on the counts.
//! * **Many tests**: Holm's step-down correction over all endpoint × metric p-values.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// A test of the ratio current/baseline, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioTest {
    /// Point estimate of ln(current/baseline).
    pub log_ratio: f64,
    /// Its standard error; None for a test that gives only a p-value (error rates).
    pub se: Option<f64>,
    /// Degrees of freedom of the t distribution the estimate follows (infinite: normal).
    pub df: f64,
    /// Two-sided p-value of "the ratio is 1".
    pub p: f64,
    /// Welch's test only: the baseline's variance of log values and its count, and the current
    /// side's variance, so that the error with more current trials can be foreseen.
    pub parts: Option<(f64, f64, f64)>,
}

impl RatioTest {
    /// A test that gives only a p-value (the two-proportion test of error rates).
    pub fn p_only(p: f64) -> RatioTest {
        RatioTest {
            log_ratio: f64::NAN,
            se: None,
            df: f64::INFINITY,
            p,
            parts: None,
        }
    }

    pub fn ratio(&self) -> f64 {
        self.log_ratio.exp()
    }

    /// The interval of the ratio current/baseline at two-sided level `alpha` (0.01: 99%).
    pub fn interval(&self, alpha: f64) -> Option<[f64; 2]> {
        let se = self.se?;
        let half = quantile(self.df, 1.0 - alpha / 2.0) * se;
        let [lo, hi] = [(self.log_ratio - half).exp(), (self.log_ratio + half).exp()];
        (lo.is_finite() && hi.is_finite()).then_some([lo, hi])
    }

    /// The smallest relative worsening this test would find significant at two-sided level
    /// `alpha` with probability `power`: the minimum detectable effect, as a ratio − 1.
    pub fn detectable(&self, alpha: f64, power: f64) -> Option<f64> {
        let se = self.se?;
        let z = quantile(self.df, 1.0 - alpha / 2.0) + quantile(self.df, power);
        Some((z * se).exp() - 1.0)
    }

    /// The detectable change (as `detectable`) if the current side had `trials` trials with the
    /// spread it showed (None: as many as wanted), the baseline unchanged. None where the test
    /// cannot foresee it (not Welch's).
    pub fn detectable_with(&self, trials: Option<u32>, alpha: f64, power: f64) -> Option<f64> {
        self.foresee(trials, None, alpha, power)
    }

    /// As `detectable_with`, but with both sides at `trials` trials (`perfgate ab`, where
    /// each added pair adds one to each side). Only for a Welch test of trials (one-run
    /// baseline): the baseline's part is then its per-trial variance over its count.
    pub fn detectable_with_both(&self, trials: u32, alpha: f64, power: f64) -> Option<f64> {
        self.foresee(Some(trials), Some(trials), alpha, power)
    }

    fn foresee(
        &self,
        trials: Option<u32>,
        baseline_trials: Option<u32>,
        alpha: f64,
        power: f64,
    ) -> Option<f64> {
        let (var_b, n_b, var_c) = self.parts?;
        let n_b = match baseline_trials {
            Some(n) if f64::from(n) > n_b => f64::from(n),
            _ => n_b,
        };
        let vb = var_b / n_b;
        let (se2, df) = match trials {
            Some(n) if n >= 2 => {
                let vc = var_c / f64::from(n);
                let df = (vb + vc).powi(2)
                    / (vb * vb / (n_b - 1.0) + vc * vc / (f64::from(n) - 1.0)).max(1e-300);
                (vb + vc, df)
            }
            Some(_) => return self.detectable(alpha, power),
            None => (vb, n_b - 1.0),
        };
        let df = df.max(1.0);
        let z = quantile(df, 1.0 - alpha / 2.0) + quantile(df, power);
        Some((z * se2.sqrt()).exp() - 1.0)
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (the normal for infinite df).
pub fn quantile(df: f64, p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    if df.is_finite() {
        if let Ok(t) = StudentsT::new(0.0, 1.0, df.max(1.0)) {
            return t.inverse_cdf(p);
        }
    }
    std_normal().inverse_cdf(p)
}

pub(super) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

pub(super) fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    std_normal().cdf(z)
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
pub fn welch_log_ratio(baseline: &[f64], current: &[f64]) -> Option<RatioTest> {
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
        return Some(RatioTest {
            log_ratio: diff,
            se: Some(0.0),
            df: f64::INFINITY,
            p,
            parts: Some((0.0, nx, 0.0)),
        });
    }
    let df = (vx + vy).powi(2) / (vx * vx / (nx - 1.0) + vy * vy / (ny - 1.0));
    let t = StudentsT::new(0.0, 1.0, df.max(1.0)).ok()?;
    let p = 2.0 * (1.0 - t.cdf(diff.abs() / se));
    Some(RatioTest {
        log_ratio: diff,
        se: Some(se),
        df: df.max(1.0),
        p: p.clamp(0.0, 1.0),
        parts: Some((vx * nx, nx, vy * ny)),
    })
}

/// A paired t-test on the log ratios of matched values (each pair from one trial): their mean,
/// its standard error and n − 1 degrees of freedom. Needs ≥ 2 positive pairs.
pub fn paired_log_ratio(baseline: &[f64], current: &[f64]) -> Option<RatioTest> {
    if baseline.len() != current.len()
        || baseline.len() < 2
        || baseline
            .iter()
            .chain(current)
            .any(|v| *v <= 0.0 || !v.is_finite())
    {
        return None;
    }
    let d: Vec<f64> = baseline
        .iter()
        .zip(current)
        .map(|(b, c)| (c / b).ln())
        .collect();
    let n = d.len() as f64;
    let diff = mean(&d);
    let se = (variance(&d) / n).sqrt();
    if se < 1e-12 {
        let p = if diff.abs() < 1e-12 { 1.0 } else { 0.0 };
        return Some(RatioTest {
            log_ratio: diff,
            se: Some(0.0),
            df: f64::INFINITY,
            p,
            parts: None,
        });
    }
    let t = StudentsT::new(0.0, 1.0, n - 1.0).ok()?;
    let p = 2.0 * (1.0 - t.cdf(diff.abs() / se));
    Some(RatioTest {
        log_ratio: diff,
        se: Some(se),
        df: n - 1.0,
        p: p.clamp(0.0, 1.0),
        parts: None,
    })
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

/// A ratio test from bootstrap log ratios: the observed ratio, with the bootstrap's standard
/// error, as a normal (z) test.
pub fn bootstrap_test(observed_ratio: f64, log_ratios: &[f64]) -> Option<RatioTest> {
    if log_ratios.len() < 20 || observed_ratio.is_nan() || observed_ratio <= 0.0 {
        return None;
    }
    let sd = variance(log_ratios).sqrt();
    let log_ratio = observed_ratio.ln();
    let p = if sd < 1e-12 {
        if log_ratio.abs() < 1e-12 {
            1.0
        } else {
            0.0
        }
    } else {
        2.0 * (1.0 - std_normal().cdf(log_ratio.abs() / sd))
    };
    Some(RatioTest {
        log_ratio,
        se: Some(sd),
        df: f64::INFINITY,
        p: p.clamp(0.0, 1.0),
        parts: None,
    })
}

/// The smallest rise of an error rate (in percentage points) a two-proportion test at
/// two-sided level `alpha` would detect with probability `power`, for sides of `n1` and `n2`
/// requests around the rate `rate` (a fraction; at least one error in the two is assumed).
pub fn detectable_rise(rate: f64, n1: u64, n2: u64, alpha: f64, power: f64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let floor = 1.0 / (n1 + n2) as f64;
    let p = rate.max(floor).min(1.0 - floor);
    let se = (p * (1.0 - p) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    let z = quantile(f64::INFINITY, 1.0 - alpha / 2.0) + quantile(f64::INFINITY, power);
    Some(z * se * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_finds_a_clear_shift_and_not_noise() {
        let base = [10.0, 10.2, 9.9, 10.1, 10.0];
        let worse = [11.5, 11.6, 11.4, 11.7, 11.5];
        let t = welch_log_ratio(&base, &worse).unwrap();
        assert!((t.ratio() - 1.15).abs() < 0.01, "{t:?}");
        assert!(t.p < 1e-4, "{t:?}");
        let [lo, hi] = t.interval(0.01).unwrap();
        assert!(lo > 1.1 && hi < 1.2, "{t:?}");
        let same = [10.1, 9.9, 10.0, 10.2, 9.8];
        let t = welch_log_ratio(&base, &same).unwrap();
        let [lo, hi] = t.interval(0.01).unwrap();
        assert!(t.p > 0.3 && lo < 1.0 && hi > 1.0, "{t:?}");
    }

    #[test]
    fn welch_matches_a_textbook_value() {
        // Two-sample Welch test on logs computed by hand (R: t.test(log(y), log(x))).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 3.0, 4.0, 5.0, 6.0];
        let t = welch_log_ratio(&x, &y).unwrap();
        // By hand: t = 1.0414 with 7.06 degrees of freedom, p ≈ 0.332; ratio = e^(mean log diff).
        assert!((t.ratio() - 1.430969).abs() < 1e-5, "{t:?}");
        assert!((t.p - 0.332).abs() < 0.005, "{t:?}");
        assert!((t.df - 7.06).abs() < 0.01, "{t:?}");
        let back = welch_log_ratio(&y, &x).unwrap();
        assert!((t.p - back.p).abs() < 1e-12);
        assert!((t.ratio() * back.ratio() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn quantiles_and_detectable_effects_match_tables() {
        // t(8) 0.975 = 2.306, t(8) 0.8 = 0.889; the normal's 0.995 = 2.576.
        assert!((quantile(8.0, 0.975) - 2.306).abs() < 1e-3);
        assert!((quantile(8.0, 0.8) - 0.889).abs() < 1e-3);
        assert!((quantile(f64::INFINITY, 0.995) - 2.576).abs() < 1e-3);
        let t = RatioTest {
            log_ratio: 0.0,
            se: Some(0.01),
            df: 8.0,
            p: 1.0,
            parts: None,
        };
        let mde = t.detectable(0.05, 0.8).unwrap();
        assert!(
            (mde - ((2.306f64 + 0.889) * 0.01).exp_m1()).abs() < 1e-4,
            "{mde}"
        );
        assert_eq!(RatioTest::p_only(0.5).interval(0.01), None);
        // 1% errors over 10,000 requests a side: about 0.4 pp at 99% and 80% power.
        let pp = detectable_rise(0.01, 10_000, 10_000, 0.01, 0.8).unwrap();
        assert!((0.3..0.5).contains(&pp), "{pp}");
    }

    #[test]
    fn the_detectable_change_with_more_trials_shrinks_to_the_baselines_share() {
        let base = [10.0, 10.4, 9.8, 10.1, 9.9];
        let cur = [10.2, 11.5, 9.1, 10.9, 9.6];
        let t = welch_log_ratio(&base, &cur).unwrap();
        let (a, p) = (0.01, 0.8);
        let now = t.detectable(a, p).unwrap();
        // As many trials as it has: the test's own detectable change.
        let same = t.detectable_with(Some(5), a, p).unwrap();
        assert!((now - same).abs() < 1e-9, "{now} {same}");
        let twelve = t.detectable_with(Some(12), a, p).unwrap();
        let unbounded = t.detectable_with(None, a, p).unwrap();
        assert!(
            unbounded < twelve && twelve < now,
            "{unbounded} {twelve} {now}"
        );
        // The limit is the baseline's spread alone, with its own degrees of freedom.
        let lb: Vec<f64> = base.iter().map(|v: &f64| v.ln()).collect();
        let se = (variance(&lb) / 5.0).sqrt();
        let want = ((quantile(4.0, 1.0 - a / 2.0) + quantile(4.0, p)) * se).exp_m1();
        assert!((unbounded - want).abs() < 1e-9, "{unbounded} {want}");
        assert_eq!(RatioTest::p_only(0.5).detectable_with(None, a, p), None);
        // Both sides growing (pairs of `perfgate ab`): below the current side alone, and at
        // the same count, the test's own.
        let both = t.detectable_with_both(12, a, p).unwrap();
        assert!(both < twelve, "{both} {twelve}");
        let both_now = t.detectable_with_both(5, a, p).unwrap();
        assert!((both_now - now).abs() < 1e-9, "{both_now} {now}");
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
        let t = bootstrap_test(1.3, &run(7)[0]).unwrap();
        let [lo, hi] = t.interval(0.01).unwrap();
        assert!(t.p < 1e-6 && lo > 1.25 && hi < 1.35, "{t:?}");
    }
}
