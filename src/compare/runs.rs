//! The noise between runs, for a baseline saved from several runs.
//!
//! Trials of one run share more than their trials' spread shows: measured on the demo, the mean
//! of a five-trial check moves between separate checks up to 1.7 times as much as its trials
//! predict, and a one-run baseline freezes one draw of that move into every comparison that
//! follows. A baseline saved from k runs (`baseline save NAME A.json B.json C.json`) lets the gate
//! see it: each latency row is a two-level model, log value = row mean + run effect + trial
//! noise, with the run effect's variance σ²_run unknown.
//!
//! Per row, `F` = (variance of the k run means) / (what the trials predict for it, s²_w / n) is
//! the run-level inflation; σ²_run = (F − 1) · s²_w / n. With k = 3 each row's own F rests on two
//! degrees of freedom: far too few to test with. So the rows borrow strength from each other as
//! limma's moderated t does for genes with few replicates (Smyth 2004): the rows' F values fit
//! a scaled-F prior (F₀ with d₀ degrees of freedom, by the moments of ln F), and each row's
//! estimate is shrunk towards F₀ by the weights of their degrees of freedom. Where the rows'
//! F values vary no more than two degrees of freedom explain, d₀ is infinite and every row
//! takes the pooled F₀.
//!
//! The test of a row (`two_level_log_ratio`) then compares the current run's mean with the
//! mean of the baseline's run means: its variance is that of the baseline's mean (F̃ · s²_w / n
//! / k) plus the current run's own trials (s²_c / n_c) plus the current run's own run effect
//! (σ²_run, from the baseline: one run cannot show its own). Adding current trials shrinks only
//! the second term, which `RatioTest::detectable_with` foresees.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::gamma::digamma;

use super::stats::{mean, variance, RatioTest};

/// A baseline row's spread within and between its runs, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSpread {
    /// Number of runs with at least two trials.
    pub runs: usize,
    /// Pooled variance of the log values within runs, and its degrees of freedom.
    pub within: f64,
    pub within_df: f64,
    /// The trials per run (harmonic mean).
    pub per_run: f64,
    /// The grand mean: the mean of the runs' means.
    pub mean: f64,
    /// Variance of the run means over what the trials predict (s²_w / n): 1 without run noise.
    pub inflation: f64,
}

/// The rows' common inflation F₀ and how many degrees of freedom it is worth (d₀; infinite:
/// every row takes F₀).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub inflation: f64,
    pub df: f64,
    /// How many rows it was fitted on.
    pub rows: usize,
}

/// The spread of per-trial values labelled by run (`(run, value)`), or None with fewer than two
/// runs of at least two positive values each.
pub fn spread(values: &[(u32, f64)]) -> Option<RunSpread> {
    let mut runs: Vec<(u32, Vec<f64>)> = Vec::new();
    for &(r, v) in values {
        if v <= 0.0 || !v.is_finite() {
            return None;
        }
        match runs.iter_mut().find(|(id, _)| *id == r) {
            Some((_, vs)) => vs.push(v.ln()),
            None => runs.push((r, vec![v.ln()])),
        }
    }
    runs.retain(|(_, vs)| vs.len() >= 2);
    if runs.len() < 2 {
        return None;
    }
    let means: Vec<f64> = runs.iter().map(|(_, vs)| mean(vs)).collect();
    let within_df: f64 = runs.iter().map(|(_, vs)| vs.len() as f64 - 1.0).sum();
    let within = runs
        .iter()
        .map(|(_, vs)| variance(vs) * (vs.len() as f64 - 1.0))
        .sum::<f64>()
        / within_df;
    let per_run = runs.len() as f64
        / runs
            .iter()
            .map(|(_, vs)| 1.0 / vs.len() as f64)
            .sum::<f64>();
    let predicted = within / per_run;
    let between = variance(&means);
    // No spread within runs: the inflation is unknown; say none rather than divide by zero.
    let inflation = if predicted > 1e-300 {
        between / predicted
    } else {
        1.0
    };
    Some(RunSpread {
        runs: runs.len(),
        within,
        within_df,
        per_run,
        mean: mean(&means),
        inflation,
    })
}

/// The trigamma function ψ′(x) for x > 0: recurrence up to 6, then the asymptotic series.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 6.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + 1.0 / x
        + x2 / 2.0
        + (x2 / x) * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)))
}

/// The x > 0 with ψ′(x) = y (limma's Newton iteration, on 1/ψ′).
fn trigamma_inverse(y: f64) -> f64 {
    if y > 1e7 {
        return 1.0 / y.sqrt();
    }
    if y < 1e-6 {
        return 1.0 / y;
    }
    let mut x = 0.5 + 1.0 / y;
    for _ in 0..50 {
        let t = trigamma(x);
        // ψ″ by a central difference of ψ′.
        let h = 1e-5 * x.max(1e-3);
        let d2 = (trigamma(x + h) - trigamma(x - h)) / (2.0 * h);
        let step = t * (1.0 - t / y) / d2;
        let next = (x + step).max(x / 10.0);
        if (next - x).abs() < 1e-10 * x {
            return next;
        }
        x = next;
    }
    x
}

/// `E[ln(χ²_d / d)]`: the bias of a log variance with `d` degrees of freedom.
fn log_chi_bias(d: f64) -> f64 {
    if d.is_finite() {
        digamma(d / 2.0) - (d / 2.0).ln()
    } else {
        0.0
    }
}

/// The rows' common inflation, by the moments of ln F (limma's `fitFDist`, with the denominator's
/// own degrees of freedom taken out as well). None without rows.
pub fn fit_prior(rows: &[RunSpread]) -> Option<Prior> {
    let rows: Vec<&RunSpread> = rows.iter().filter(|r| r.inflation > 0.0).collect();
    if rows.is_empty() {
        return None;
    }
    let e: Vec<f64> = rows
        .iter()
        .map(|r| {
            let d1 = r.runs as f64 - 1.0;
            r.inflation.ln() - log_chi_bias(d1) + log_chi_bias(r.within_df)
        })
        .collect();
    let e_mean = mean(&e);
    let sampling = mean(
        &rows
            .iter()
            .map(|r| trigamma((r.runs as f64 - 1.0) / 2.0) + trigamma(r.within_df / 2.0))
            .collect::<Vec<_>>(),
    );
    let excess = if e.len() >= 2 {
        variance(&e) - sampling
    } else {
        0.0
    };
    let (inflation, df) = if excess > 0.0 {
        let d0 = 2.0 * trigamma_inverse(excess);
        ((e_mean + log_chi_bias(d0)).exp(), d0)
    } else {
        (e_mean.exp(), f64::INFINITY)
    };
    Some(Prior {
        inflation,
        df,
        rows: rows.len(),
    })
}

impl Prior {
    /// A row's inflation shrunk towards the prior, and its degrees of freedom.
    pub fn moderate(&self, row: &RunSpread) -> (f64, f64) {
        let d1 = row.runs as f64 - 1.0;
        if !self.df.is_finite() {
            return (self.inflation, f64::INFINITY);
        }
        (
            (self.df * self.inflation + d1 * row.inflation) / (self.df + d1),
            self.df + d1,
        )
    }
}

/// The two-level test of a row: the current run's trials against a baseline of several runs
/// (`spread` of its labelled values), with the run-level noise of both sides in the error. None
/// where the current side has fewer than two positive values.
pub fn two_level_log_ratio(base: &RunSpread, prior: &Prior, current: &[f64]) -> Option<RatioTest> {
    if current.len() < 2 || current.iter().any(|v| *v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let ly: Vec<f64> = current.iter().map(|v| v.ln()).collect();
    let nc = ly.len() as f64;
    let (f, f_df) = prior.moderate(base);
    let predicted = base.within / base.per_run;
    let k = base.runs as f64;
    // The baseline's term: its mean's variance, and the current run's own run effect.
    let fixed = f.max(1.0) * predicted / k + (f - 1.0).max(0.0) * predicted;
    // Its uncertainty: the within-run variance's and the inflation's (1/df add, roughly).
    let fixed_df = 1.0 / (1.0 / base.within_df + 1.0 / f_df);
    let var_c = variance(&ly);
    let vc = var_c / nc;
    let diff = mean(&ly) - base.mean;
    let se2 = fixed + vc;
    let se = se2.sqrt();
    // `parts` carries the fixed term as var_b / n_b with n_b − 1 its degrees of freedom, which
    // is how `detectable_with` foresees the error with more current trials.
    let n_b = fixed_df + 1.0;
    let parts = Some((fixed * n_b, n_b, var_c));
    if se < 1e-12 {
        let p = if diff.abs() < 1e-12 { 1.0 } else { 0.0 };
        return Some(RatioTest {
            log_ratio: diff,
            se: Some(0.0),
            df: f64::INFINITY,
            p,
            parts,
        });
    }
    let df = se2.powi(2) / (fixed * fixed / fixed_df + vc * vc / (nc - 1.0)).max(1e-300);
    let df = df.max(1.0);
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = 2.0 * (1.0 - t.cdf(diff.abs() / se));
    Some(RatioTest {
        log_ratio: diff,
        se: Some(se),
        df,
        p: p.clamp(0.0, 1.0),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn trigamma_matches_known_values_and_inverts() {
        // ψ′(1) = π²/6, ψ′(1/2) = π²/2.
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-9);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-9);
        for x in [0.05, 0.7, 3.0, 40.0] {
            assert!((trigamma_inverse(trigamma(x)) - x).abs() < 1e-6 * x, "{x}");
        }
    }

    fn labelled(runs: &[Vec<f64>]) -> Vec<(u32, f64)> {
        runs.iter()
            .enumerate()
            .flat_map(|(r, vs)| vs.iter().map(move |v| (r as u32, *v)))
            .collect()
    }

    #[test]
    fn the_spread_separates_the_runs_from_their_trials() {
        // Three runs whose trials agree closely but whose means differ: a large inflation.
        let s = spread(&labelled(&[
            vec![10.0, 10.1, 9.9],
            vec![11.0, 11.1, 10.9],
            vec![9.0, 9.1, 8.9],
        ]))
        .unwrap();
        assert_eq!(s.runs, 3);
        assert_eq!(s.within_df, 6.0);
        assert!(s.inflation > 100.0, "{s:?}");
        // One run, or runs of one trial: nothing to separate.
        assert!(spread(&labelled(&[vec![1.0, 2.0, 3.0]])).is_none());
        assert!(spread(&labelled(&[vec![1.0], vec![2.0], vec![3.0]])).is_none());
        assert!(spread(&labelled(&[vec![1.0, -2.0], vec![2.0, 3.0]])).is_none());
    }

    /// Simulated rows: run effects of variance `kappa` × the trial-mean variance.
    fn rows(kappa: f64, n_rows: usize, k: usize, n: usize, rng: &mut ChaCha8Rng) -> Vec<RunSpread> {
        let sd_w: f64 = 0.05;
        let sd_run = (kappa * sd_w * sd_w / n as f64).sqrt();
        let mut gauss = || {
            // Box–Muller.
            let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen_range(0.0..1.0));
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        (0..n_rows)
            .map(|_| {
                let runs: Vec<Vec<f64>> = (0..k)
                    .map(|_| {
                        let b = sd_run * gauss();
                        (0..n).map(|_| (b + sd_w * gauss()).exp()).collect()
                    })
                    .collect();
                spread(&labelled(&runs)).unwrap()
            })
            .collect()
    }

    #[test]
    fn the_prior_finds_the_common_inflation() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Without run noise the inflation is 1; with run variance twice the trial mean's, 3.
        for (kappa, want) in [(0.0, 1.0), (2.0, 3.0)] {
            let p = fit_prior(&rows(kappa, 400, 3, 5, &mut rng)).unwrap();
            assert!(
                (p.inflation / want - 1.0).abs() < 0.2,
                "kappa {kappa}: {p:?}"
            );
        }
    }

    #[test]
    fn more_current_trials_cannot_remove_the_noise_between_runs() {
        let base = spread(&labelled(&[
            vec![10.0, 10.2, 9.8, 10.1, 9.9],
            vec![10.6, 10.8, 10.4, 10.7, 10.5],
            vec![9.5, 9.7, 9.3, 9.6, 9.4],
        ]))
        .unwrap();
        let prior = Prior {
            inflation: base.inflation,
            df: f64::INFINITY,
            rows: 1,
        };
        let t = two_level_log_ratio(&base, &prior, &[10.0, 10.3, 9.7, 10.1, 9.9]).unwrap();
        let at = |n| t.detectable_with(n, 0.01, 0.8).unwrap();
        // The foreseen detectable change shrinks with more trials, towards what the baseline's
        // runs leave: never below the run-level noise, however many trials.
        assert!((at(Some(5)) - t.detectable(0.01, 0.8).unwrap()).abs() < 1e-9);
        assert!(at(Some(50)) < at(Some(5)));
        assert!(at(None) < at(Some(50)));
        let run_sd = ((base.inflation - 1.0) * base.within / base.per_run).sqrt();
        assert!(
            at(None) > (2.0 * run_sd).exp() - 1.0,
            "{} vs {run_sd}",
            at(None)
        );
    }

    #[test]
    fn the_two_level_test_keeps_its_false_alarm_rate_where_runs_differ() {
        // Baselines of 3 runs × 5 trials, currents of one run of 5, run variance 2× the trial
        // mean's: the plain Welch test of 15 against 5 trials calls far more than 1% of A/A
        // pairs significant at 1%; the two-level test stays near 1%.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (mut welch, mut two, n) = (0, 0, 2000);
        let sd_w: f64 = 0.05;
        let sd_run = (2.0 * sd_w * sd_w / 5.0_f64).sqrt();
        let gauss = |rng: &mut ChaCha8Rng| {
            let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen_range(0.0..1.0));
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let prior = fit_prior(&rows(2.0, 40, 3, 5, &mut rng)).unwrap();
        for _ in 0..n {
            let run = |rng: &mut ChaCha8Rng| -> Vec<f64> {
                let b = sd_run * gauss(rng);
                (0..5).map(|_| (b + sd_w * gauss(rng)).exp()).collect()
            };
            let base: Vec<Vec<f64>> = (0..3).map(|_| run(&mut rng)).collect();
            let cur = run(&mut rng);
            let flat: Vec<f64> = base.iter().flatten().copied().collect();
            if super::super::stats::welch_log_ratio(&flat, &cur).unwrap().p < 0.01 {
                welch += 1;
            }
            let s = spread(&labelled(&base)).unwrap();
            if two_level_log_ratio(&s, &prior, &cur).unwrap().p < 0.01 {
                two += 1;
            }
        }
        let (welch, two) = (welch as f64 / n as f64, two as f64 / n as f64);
        assert!(welch > 0.05, "Welch {welch}");
        assert!(two < 0.02, "two-level {two}");
    }
}
