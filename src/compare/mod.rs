//! The gate: is the current result worse than the baseline, by more than the rules allow, with
//! evidence that it is not noise?
//!
//! `compare` produces a `Comparison` (`model`) — one row per endpoint × metric — which every
//! report format renders. The pieces: `comparability` (do the results measure the same thing),
//! `disturbed` (a trial a hiccup spoilt, left out), `sides` (one side's data per endpoint),
//! `stats` (the tests), `windows` (the window bootstrap), `decide` (the rules applied to a row),
//! `rules` (thresholds.toml).
//!
//! Every check is a one-sided test of a worsening; Holm's correction over all of them keeps the
//! chance of any false FAIL in a comparison at its α (1 − `confidence`, or the share of it a
//! look at the evidence may spend, see `Look`). The interval shown beside each verdict is at the
//! level that verdict used, so that its worse end excludes "no change" exactly when the
//! worsening is significant.

mod capacity;
pub mod comparability;
mod decide;
pub mod disturbed;
pub mod model;
mod rows;
pub mod rules;
pub mod runs;
mod sides;
mod stages;
pub mod stats;
mod windows;

pub use comparability::{comparability, Comparability};
pub use decide::{fail_threshold, POWER};
pub use model::*;

use crate::result::RunResult;
use crate::units;
use decide::{decide, Evidence};
use rules::{Names, Policy, Thresholds};
pub use sides::stage_names;
use stats::RatioTest;

/// Trials per side from which the comparison is trial-level.
pub const MIN_TRIALS: usize = 5;

/// Which look at the evidence a comparison is, and the false-alarm rate it may spend. A check
/// that may add trials looks more than once; each look spends a share of the rules' α, so that
/// together they never exceed it (Bonferroni over the looks: valid whatever their correlation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    pub alpha: f64,
    /// 1-based.
    pub index: u32,
    pub of: u32,
    /// The most trials the current side may have, when the comparison can add them (`check`
    /// with `max_trials`). A worsening that is not significant is then INCONCLUSIVE only where
    /// that many trials could detect it; a smaller one is within what the check can resolve and
    /// passes, saying so. None (`compare`): INCONCLUSIVE says more trials would decide.
    pub budget: Option<u32>,
    /// The baseline gains trials with the current side, up to the same budget (`perfgate ab`:
    /// each added pair adds one to each), instead of staying as it is.
    pub baseline_grows: bool,
}

impl Look {
    /// The one look of a comparison that adds no trials: all of α.
    pub fn only(th: &Thresholds) -> Look {
        Look {
            alpha: 1.0 - th.confidence,
            index: 1,
            of: 1,
            budget: None,
            baseline_grows: false,
        }
    }

    /// Look `index` of `of`: half of α for the planned trials, the other half shared equally
    /// by the looks after added trials.
    pub fn nth(th: &Thresholds, index: u32, of: u32) -> Look {
        let alpha = 1.0 - th.confidence;
        let share = match (of, index) {
            (0 | 1, _) => alpha,
            (_, 0 | 1) => alpha / 2.0,
            (of, _) => alpha / 2.0 / f64::from(of - 1),
        };
        Look {
            alpha: share,
            index,
            of: of.max(1),
            budget: None,
            baseline_grows: false,
        }
    }
}

/// A row before Holm's correction and the rules: its test made, its verdict not yet decided.
struct Pending {
    row: Row,
    policy: Option<Policy>,
    test: Option<RatioTest>,
    /// One-sided p-values of a worsening and of an improvement.
    p_worse: Option<f64>,
    p_better: Option<f64>,
    /// For rates: the baseline rate and both sides' counts, for the detectable rise.
    rates: Option<(f64, u64, u64)>,
    /// Decided by the plain ratio of the values, with no test (one summary a side): the
    /// summaries' resolution, which the change must exceed on top of the rules.
    plain: Option<f64>,
}

/// How the two sides are compared: trial by trial (leaving out a disturbed trial), or by
/// 1-second windows; and whether rows name their stage.
struct Method<'a> {
    trial_level: bool,
    th: &'a Thresholds,
    skip_base: Option<usize>,
    skip_cur: Option<usize>,
    /// Whether the results have stages (else the one implicit phase is not named in rows).
    staged: bool,
    /// Per stage, the baseline's noise between runs, fitted on its latency rows (a baseline
    /// saved from several runs only).
    priors: Vec<(String, runs::Prior)>,
}

impl Method<'_> {
    fn shown_stage<'s>(&self, stage: &'s str) -> Option<&'s str> {
        self.staged.then_some(stage)
    }

    fn prior(&self, stage: &str) -> Option<&runs::Prior> {
        self.priors.iter().find(|(s, _)| s == stage).map(|(_, p)| p)
    }
}

/// Per stage, the run-level noise of a baseline saved from several runs, fitted on the latency
/// checks its rules ask for (none for a one-run baseline or window-level tests).
fn run_priors(
    b: Option<&RunResult>,
    names: &Names,
    th: &Thresholds,
    skip: Option<usize>,
    trial_level: bool,
) -> Vec<(String, runs::Prior)> {
    let Some(b) = b.filter(|b| trial_level && b.trials.iter().any(|t| t.run.unwrap_or(0) > 0))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for stage in &names.stages {
        let mut spreads = Vec::new();
        for e in &names.endpoints {
            let Some(side) = sides::side(b, e, stage, skip) else {
                continue;
            };
            let subject = rules::Subject::endpoint(e, stage);
            for m in th
                .metrics_for(&subject)
                .into_iter()
                .filter(|m| m.is_latency())
            {
                spreads.extend(runs::spread(&rows::run_values(&side, m)));
            }
        }
        if let Some(p) = runs::fit_prior(&spreads) {
            out.push((stage.clone(), p));
        }
    }
    out
}

pub fn compare(
    base: &RunResult,
    cur: &RunResult,
    th: &Thresholds,
    base_label: &str,
    cur_label: &str,
) -> Comparison {
    compare_at(base, cur, th, base_label, cur_label, Look::only(th))
}

/// `compare`, spending the false-alarm rate of `look`.
pub fn compare_at(
    base: &RunResult,
    cur: &RunResult,
    th: &Thresholds,
    base_label: &str,
    cur_label: &str,
    look: Look,
) -> Comparison {
    judge_result(Some((base, base_label)), cur, th, cur_label, look)
}

/// What the rules can judge of one result with no baseline: absolute limits, stages against
/// stages, flows' limits, recovery. The checks against a baseline are skipped, and said to be.
pub fn judge_alone(cur: &RunResult, th: &Thresholds, cur_label: &str) -> Comparison {
    judge_result(None, cur, th, cur_label, Look::only(th))
}

/// The names a result has, for rules that must name something that exists.
pub fn names_of(results: &[&RunResult]) -> Names {
    let mut n = Names::default();
    let add = |into: &mut Vec<String>, v: Vec<String>| {
        for x in v {
            if !into.contains(&x) {
                into.push(x);
            }
        }
    };
    for r in results {
        add(&mut n.endpoints, r.endpoint_names());
        add(&mut n.stages, sides::stage_names(r));
        add(
            &mut n.scenarios,
            r.trials
                .iter()
                .flat_map(|t| t.flows.iter().map(|f| f.scenario.clone()))
                .collect(),
        );
    }
    n
}

fn judge_result(
    base: Option<(&RunResult, &str)>,
    cur: &RunResult,
    th: &Thresholds,
    cur_label: &str,
    look: Look,
) -> Comparison {
    let b = base.map(|(b, _)| b);
    let comp = b.map(|b| comparability(b, cur));
    let sides: Vec<&RunResult> = b.into_iter().chain(std::iter::once(cur)).collect();
    let names = names_of(&sides);
    let enough = |r: &RunResult| r.trials.len() >= MIN_TRIALS;
    let trial_level = enough(cur) && b.is_none_or(enough);
    let left_out = |r: &RunResult| trial_level.then(|| disturbed::disturbed_trial(r)).flatten();
    let (base_d, cur_d) = (b.and_then(left_out), left_out(cur));
    let base_skip = base_d.as_ref().map(|d| d.position);
    let staged = sides
        .iter()
        .any(|r| r.trials.iter().any(|t| !t.stages.is_empty()));
    let method = Method {
        trial_level,
        th,
        skip_base: base_skip,
        skip_cur: cur_d.as_ref().map(|d| d.position),
        staged,
        priors: run_priors(b, &names, th, base_skip, trial_level),
    };
    let mut pending: Vec<Pending> = Vec::new();
    for stage in &names.stages {
        for e in &names.endpoints {
            pending.extend(rows::endpoint_rows(e, stage, b, cur, &method));
        }
        for f in &names.scenarios {
            pending.extend(rows::flow_rows(f, stage, b, cur, &method));
        }
        pending.extend(rows::target_rows(stage, b, cur, &method));
    }
    pending.extend(capacity::capacity_rows(b, cur, &method));
    for d in th.degradations() {
        pending.extend(stages::degradation_rows(cur, &d, &method));
    }
    for r in th.recoveries() {
        pending.extend(stages::recovery_rows(cur, &r, &method));
    }
    let rows = judge(&mut pending, look);
    let verdict = rows
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    let base_trials = b.map_or(0, |b| b.trials.len());
    // An imported summary on either side: no distribution, no seconds.
    let summary = [b, Some(cur)].into_iter().flatten().any(|r| {
        r.meta
            .source
            .as_ref()
            .is_some_and(|s| s.fidelity == "summary")
    });
    let low_confidence = (!trial_level && b.is_some() && cur.capacity.is_none())
        .then(|| low_confidence(base_trials, cur, summary));
    let mut warnings = comp.map(|c| c.warnings).unwrap_or_default();
    if b.is_none() {
        warnings.push("no baseline: only the rules that need none were judged (absolute limits, stages against stages, flows' limits, recovery); the checks against a baseline were skipped".to_string());
    }
    let disturbed = disturbed_notes([("baseline", base_d), ("current", cur_d)], &mut warnings);
    let flows = names
        .stages
        .iter()
        .flat_map(|stage| {
            names
                .scenarios
                .iter()
                .filter_map(|f| sides::flow_summary(cur, f, stage, method.shown_stage(stage)))
                .collect::<Vec<_>>()
        })
        .collect();
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
        baseline: match base {
            Some((b, label)) => info(b, label),
            None => SideInfo {
                label: "no baseline".to_string(),
                started_at: String::new(),
                git_sha: None,
                trials: 0,
                complete: true,
            },
        },
        current: info(cur, cur_label),
        method: MethodInfo {
            kind: match (trial_level, summary) {
                (true, _) => "trials",
                (false, true) => "summary",
                (false, false) => "windows",
            }
            .to_string(),
            confidence: th.confidence,
            alpha: look.alpha,
            look: look.index,
            looks: look.of,
            low_confidence,
            run_noise: run_noise(b, &method),
        },
        warnings,
        disturbed,
        flows,
        rows,
    }
}

/// The trials left out, as notes and as data.
fn disturbed_notes<const N: usize>(
    sides: [(&str, Option<disturbed::Disturbed>); N],
    warnings: &mut Vec<String>,
) -> Vec<DisturbedTrial> {
    sides
        .into_iter()
        .filter_map(|(side, d)| {
            let d = d?;
            warnings.push(format!(
                "trial {} of {side} looks disturbed: {} of {} {} against {} for the others; it is left out of the trial-level tests",
                d.position + 1,
                d.metric,
                d.endpoint,
                units::latency(d.value_ms),
                units::latency(d.others_ms)
            ));
            Some(DisturbedTrial {
                side: side.to_string(),
                trial: d.position + 1,
                endpoint: d.endpoint,
                metric: d.metric.to_string(),
                value_ms: d.value_ms,
                others_ms: d.others_ms,
            })
        })
        .collect()
}

/// Holm's correction of both one-sided families, the interval each verdict uses, what each
/// check could detect, and the verdicts.
fn judge(pending: &mut [Pending], look: Look) -> Vec<Row> {
    let alpha = look.alpha;
    let worse: Vec<Option<f64>> = pending.iter().map(|p| p.p_worse).collect();
    let better: Vec<Option<f64>> = pending.iter().map(|p| p.p_better).collect();
    let (adj_worse, levels) = holm_with_levels(&worse, alpha);
    let (adj_better, _) = holm_with_levels(&better, alpha);
    let m = worse.iter().flatten().count().max(1) as f64;
    pending
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            let mut row = p.row.clone();
            row.p_adjusted = adj_worse[i];
            if let (Some(t), Some(level)) = (&p.test, levels[i]) {
                // One-sided at `level` on the worse side: a two-sided interval at twice it.
                if let Some([lo, hi]) = t.interval(2.0 * level) {
                    row.interval = Some([lo - 1.0, hi - 1.0]);
                    row.interval_level = Some(1.0 - 2.0 * level);
                }
            }
            // What the check could see, at the most demanding level of the family.
            row.detectable = match (&p.test, p.rates) {
                (_, Some((rate, n1, n2))) => {
                    stats::detectable_rise(rate, n1, n2, 2.0 * alpha / m, POWER)
                }
                (Some(t), None) => t.detectable(2.0 * alpha / m, POWER),
                (None, None) => None,
            };
            if let Some(policy) = &p.policy {
                let ev = Evidence {
                    test: p.test.as_ref().filter(|t| t.se.is_some()),
                    significant_worse: p.plain.is_some() || adj_worse[i].is_some_and(|q| q < alpha),
                    significant_better: p.plain.is_some()
                        || adj_better[i].is_some_and(|q| q < alpha),
                    plain: p.plain,
                    reach: look.budget.and_then(|n| {
                        let t = p.test.as_ref()?;
                        let level = 2.0 * alpha / m;
                        if look.baseline_grows {
                            t.detectable_with_both(n, level, POWER)
                        } else {
                            t.detectable_with(Some(n), level, POWER)
                        }
                    }),
                    budget: look.budget,
                    per_side: look.baseline_grows,
                };
                decide(&mut row, policy, &ev);
            }
            row
        })
        .collect()
}

/// Holm-adjusted p-values (None where there was no test), and for each test the one-sided
/// level its interval is shown at: for a rejected hypothesis of rank k (1-based, by p), the level
/// it was rejected at, α/(m−k+1); for the others, the level of the first one not rejected. So an
/// interval excludes "no change" on the worse side exactly when its hypothesis is rejected.
fn holm_with_levels(ps: &[Option<f64>], alpha: f64) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    let idx: Vec<usize> = (0..ps.len()).filter(|&i| ps[i].is_some()).collect();
    let values: Vec<f64> = idx.iter().map(|&i| ps[i].unwrap_or(1.0)).collect();
    let adjusted = stats::holm(&values);
    let m = values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let first_kept = order
        .iter()
        .position(|&k| adjusted[k] >= alpha)
        .unwrap_or(m);
    let level_at = |rank: usize| alpha / (m - rank.min(m.saturating_sub(1))) as f64;
    let mut adj = vec![None; ps.len()];
    let mut levels = vec![None; ps.len()];
    for (rank, &k) in order.iter().enumerate() {
        adj[idx[k]] = Some(adjusted[k]);
        levels[idx[k]] = Some(if rank < first_kept {
            level_at(rank)
        } else {
            level_at(first_kept)
        });
    }
    (adj, levels)
}

/// What the comparison knew of the noise between runs: the baseline's runs and the fitted
/// inflation of the steady (or first) stage.
fn run_noise(b: Option<&RunResult>, method: &Method<'_>) -> Option<RunNoise> {
    let (_, p) = method.priors.first()?;
    let mut runs: Vec<u32> = b?.trials.iter().map(|t| t.run.unwrap_or(0)).collect();
    runs.sort_unstable();
    runs.dedup();
    Some(RunNoise {
        runs: runs.len(),
        inflation: p.inflation,
        prior_df: p.df.is_finite().then_some(p.df),
        checks: p.rows,
    })
}

/// Why a comparison that could not be trial-level is of low confidence, and what would fix it.
fn low_confidence(base_trials: usize, cur: &RunResult, summary: bool) -> String {
    if summary {
        return format!(
            "low confidence: summary only — the tool kept some statistics and no distribution, so one summary a side is judged by the plain ratio of its values against the rules, with no test of the noise; import {MIN_TRIALS} runs (files) per side for trial-level statistics"
        );
    }
    let fix = if cur.meta.source.is_some() {
        format!("Import {MIN_TRIALS} runs (files) of the test per side, one trial each,")
    } else {
        format!("Set load.trials = {MIN_TRIALS} (or more) and record the baseline again")
    };
    format!(
        "confidence is low: the baseline has {} and the current run {}; with fewer than {MIN_TRIALS} trials per side the gate compares 1-second windows, which see the noise within a run but not between runs. {fix} for trial-level statistics.",
        units::plural(base_trials, "trial", "trials"),
        cur.trials.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_levels_agree_with_holm() {
        let alpha = 0.01;
        // Ranks by p: 0.0001 (rejected at 0.01/4), 0.002 (at 0.01/3), 0.006 (> 0.01/2: kept),
        // 0.5 (kept). The kept ones are shown at the first kept level, 0.01/2.
        let ps = [Some(0.006), Some(0.0001), None, Some(0.5), Some(0.002)];
        let (adj, levels) = holm_with_levels(&ps, alpha);
        assert_eq!(adj[2], None);
        assert!(adj[1].unwrap() < alpha && adj[4].unwrap() < alpha);
        assert!(adj[0].unwrap() >= alpha && adj[3].unwrap() >= alpha);
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-12;
        assert!(close(levels[1], 0.01 / 4.0));
        assert!(close(levels[4], 0.01 / 3.0));
        assert!(close(levels[0], 0.01 / 2.0) && close(levels[3], 0.01 / 2.0));
        // A p-value is below its level exactly when it is rejected.
        for i in [0, 1, 3, 4] {
            assert_eq!(
                ps[i].unwrap() < levels[i].unwrap(),
                adj[i].unwrap() < alpha,
                "{i}"
            );
        }
    }

    #[test]
    fn looks_share_alpha_and_never_exceed_it() {
        let th = Thresholds::default();
        assert_eq!(Look::nth(&th, 1, 1).alpha, 1.0 - th.confidence);
        let total: f64 = (1..=4).map(|k| Look::nth(&th, k, 4).alpha).sum();
        assert!((total - (1.0 - th.confidence)).abs() < 1e-12, "{total}");
        assert_eq!(Look::nth(&th, 1, 4).alpha, (1.0 - th.confidence) / 2.0);
    }
}
