//! The rules applied to one row whose values and p-values are known: absolute limits first,
//! then the relative change against `max_regression`, `warn` and `min_delta`, with significance
//! deciding between FAIL and INCONCLUSIVE.

use super::rules::{Metric, Policy};
use super::{Row, Verdict};
use crate::units;

/// Applies the rules to a row whose values and p-values are known.
pub(super) fn decide(row: &mut Row, policy: &Policy, alpha: f64, rank_p: Option<f64>) {
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
            format!("{} → {} ({:+.2} pp)", m.show(bv), m.show(cv), cv - bv)
        } else {
            units::percent(magnitude)
        };
        let regression = if worse && magnitude > policy.max_regression && big_enough {
            if significant {
                reasons.push(format!(
                    "worse by {how_much} (more than the {} allowed), {p_text}",
                    units::percent(policy.max_regression)
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
                units::percent(policy.warn)
            ));
            Verdict::Warn
        } else if !worse && magnitude > policy.warn && big_enough && significant {
            reasons.push(format!("better by {how_much}"));
            Verdict::Improved
        } else {
            Verdict::Pass
        };
        verdict = verdict.max(regression);
        if reasons.is_empty() && worse && !big_enough && magnitude > policy.warn {
            reasons.push(format!(
                "change below the minimum that counts ({})",
                m.show(policy.min_delta * scale)
            ));
        }
    }
    row.verdict = verdict;
    row.reason = reasons.join("; ");
}
