//! The rules applied to one row whose values and test are known: absolute limits first, then the
//! relative change.
//!
//! `warn` is the largest worsening that must pass, `max_regression` the smallest that must fail.
//! A worsening FAILS when it is significant (its Holm-adjusted one-sided p-value below the
//! look's α), at least `min_delta` in absolute terms, and at least the row's fail threshold: the
//! midpoint between `warn` and `max_regression`, lowered for a noisy check to `max_regression`
//! less the noise a change of exactly `max_regression` would show in one run of five (the 80%
//! power quantile times the standard error), never below `warn`. So a regression of
//! `max_regression` fails in at least 80% of runs whenever the check can see it at all (its
//! detectable change is at most `max_regression`), a change within `warn` never fails, and in
//! between a precise check fails from the midpoint. A worsening that reaches the threshold but is
//! not significant is INCONCLUSIVE (more trials can decide it) — unless it is smaller than what
//! the check could detect even with the most trials allowed (`Evidence::reach`: with a stored
//! baseline its spread is fixed, so adding current trials cannot shrink the error below it; in
//! `perfgate ab` both sides grow pair by pair, and the reach foresees that). Such a change is
//! within the check's noise: it passes, saying what the check could see. Otherwise a check on a
//! rarely requested endpoint's p99 (detectable ≥ 90%) would hold every run INCONCLUSIVE and spend
//! the whole trial budget on noise.

use super::rules::{Metric, Policy};
use super::stats::{quantile, RatioTest};
use super::{Row, Verdict};
use crate::units;

/// The power the fail threshold and the detectable change are stated for.
pub const POWER: f64 = 0.8;

/// The relative worsening at which `test`'s row fails: the midpoint between `warn` and
/// `max_regression`, or `max_regression` less the 80% power quantile of its noise when that is
/// lower, at least `warn`. `worse_is_lower` for throughput.
pub fn fail_threshold(policy: &Policy, test: Option<&RatioTest>, worse_is_lower: bool) -> f64 {
    let midpoint = (policy.warn + policy.max_regression) / 2.0;
    // Error rates: no standard error, a relative change against max_regression itself.
    let Some((se, df)) = test.and_then(|t| Some((t.se?, t.df))) else {
        return policy.max_regression;
    };
    let slack = quantile(df, POWER) * se;
    let at = if worse_is_lower {
        1.0 - ((1.0 - policy.max_regression).max(1e-9).ln() + slack).exp()
    } else {
        ((1.0 + policy.max_regression).ln() - slack).exp() - 1.0
    };
    at.min(midpoint).max(policy.warn)
}

/// What the test of a row found: its estimate's spread, and the Holm decisions of its one-sided
/// tests.
pub(super) struct Evidence<'a> {
    pub test: Option<&'a RatioTest>,
    pub significant_worse: bool,
    pub significant_better: bool,
    /// No test: one summary a side, the plain ratio against the rules decides, less the
    /// summaries' resolution (a move of one of their steps is no change).
    pub plain: Option<f64>,
    /// The smallest change the check could detect with the most trials the current side may
    /// have (`budget`), at the level `Row::detectable` is stated for; None where the comparison
    /// cannot add trials or the test cannot foresee it.
    pub reach: Option<f64>,
    pub budget: Option<u32>,
    /// The budget is per side: the baseline gains trials with the current side (`perfgate ab`).
    pub per_side: bool,
}

/// Applies the rules to a row whose values and p-values are known.
pub(super) fn decide(row: &mut Row, policy: &Policy, ev: &Evidence<'_>) {
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
    // Absolute limits are in fractions for rates; rows show percent.
    let scale = if m.is_rate() { 100.0 } else { 1.0 };
    if let Some(cv) = row.current {
        if let Some(min) = policy.min {
            if cv < min * scale {
                verdict = Verdict::Fail;
                reasons.push(format!(
                    "{} is below the floor {}",
                    m.show(cv),
                    m.show(min * scale)
                ));
            }
        }
        if let Some(w) = policy.warn_below {
            if verdict < Verdict::Warn && cv < w * scale {
                verdict = Verdict::Warn;
                reasons.push(format!(
                    "{} is below the warning level {}",
                    m.show(cv),
                    m.show(w * scale)
                ));
            }
        }
        if let Some(max) = policy.max {
            if cv > max * scale {
                verdict = Verdict::Fail;
                reasons.push(format!(
                    "{} is above the limit {}",
                    m.show(cv),
                    m.show(max * scale)
                ));
            }
        }
        if let Some(w) = policy.warn_above {
            if verdict < Verdict::Warn && cv > w * scale {
                verdict = Verdict::Warn;
                reasons.push(format!(
                    "{} is above the warning level {}",
                    m.show(cv),
                    m.show(w * scale)
                ));
            }
        }
    }
    if let Some((v, reason)) = relative_verdict(row, policy, ev) {
        reasons.extend(reason);
        verdict = verdict.max(v);
    }
    row.verdict = verdict;
    row.reason = reasons.join("; ");
}

/// The verdict of the relative change, and why (None without both values).
fn relative_verdict(
    row: &Row,
    policy: &Policy,
    ev: &Evidence<'_>,
) -> Option<(Verdict, Option<String>)> {
    let (bv, cv, change) = (row.baseline?, row.current?, row.change?);
    let m = row.metric;
    let scale = if m == Metric::ErrorRate { 100.0 } else { 1.0 };
    let worse = if m.higher_is_worse() {
        change > 0.0
    } else {
        change < 0.0
    };
    // A summary's own step is no change: only what exceeds it counts.
    let magnitude = (change.abs() - ev.plain.unwrap_or(0.0)).max(0.0);
    let big_enough = (cv - bv).abs() / scale >= policy.min_delta;
    let threshold = fail_threshold(policy, ev.test, !m.higher_is_worse());
    let p_text = match row.p_adjusted {
        None if ev.plain.is_some() => "a plain ratio of two summaries, no test".to_string(),
        None => "no test possible".to_string(),
        Some(p) if p < 0.001 => "p<0.001 after correction".to_string(),
        Some(p) => format!("p={p:.3} after correction"),
    };
    let how_much = if m == Metric::ErrorRate {
        format!("{} → {} ({:+.2} pp)", m.show(bv), m.show(cv), cv - bv)
    } else {
        units::percent(change.abs())
    };
    if worse && magnitude >= threshold && big_enough {
        return Some(if ev.significant_worse {
            let limit = if ev.test.is_some() {
                format!(
                    "past its fail threshold {}, between warn {} and max_regression {}",
                    units::percent(threshold),
                    units::percent(policy.warn),
                    units::percent(policy.max_regression)
                )
            } else {
                match ev.plain.filter(|step| *step > 0.0) {
                    Some(step) => format!(
                        "more than the {} allowed and the summaries' {} steps",
                        units::percent(policy.max_regression),
                        units::percent(step)
                    ),
                    None => format!(
                        "more than the {} allowed",
                        units::percent(policy.max_regression)
                    ),
                }
            };
            (
                Verdict::Fail,
                Some(format!("worse by {how_much} ({limit}), {p_text}")),
            )
        } else if let Some(reach) = ev.reach.filter(|r| magnitude < *r) {
            let trials = ev.budget.unwrap_or_default();
            let trials = if ev.per_side {
                format!("{trials} trials a side")
            } else {
                format!("{trials} trials")
            };
            (
                Verdict::Pass,
                Some(format!(
                    "worse by {how_much}, not significant ({p_text}), and within this check's noise: even {trials} could only detect {} or more",
                    units::percent(reach)
                )),
            )
        } else {
            (
                Verdict::Inconclusive,
                Some(format!(
                    "worse by {how_much} but not significant ({p_text}); more trials would decide"
                )),
            )
        });
    }
    if worse && magnitude > policy.warn && big_enough && ev.significant_worse {
        return Some((
            Verdict::Warn,
            Some(format!(
                "worse by {how_much} (more than the {} warning level), {p_text}",
                units::percent(policy.warn)
            )),
        ));
    }
    if !worse && magnitude > policy.warn && big_enough && ev.significant_better {
        return Some((Verdict::Improved, Some(format!("better by {how_much}"))));
    }
    if worse && !big_enough && magnitude > policy.warn {
        return Some((
            Verdict::Pass,
            Some(format!(
                "change below the minimum that counts ({})",
                m.show(policy.min_delta * scale)
            )),
        ));
    }
    Some((Verdict::Pass, None))
}
