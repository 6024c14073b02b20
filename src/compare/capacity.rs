//! The row of a capacity search (`perfgate capacity`): the capacity found against the
//! baseline's. A search brackets the true capacity between the highest level that held and the
//! lowest that broke, so a drop is certain only when the current search broke at a level the
//! baseline held (p = 0), and otherwise within the searches' resolution (p = 1: at most a
//! warning). A drop of more than `max_regression` with disjoint brackets fails.

use super::rows::{new_row, tested, untested};
use super::rules::{Metric, Subject};
use super::stats::RatioTest;
use super::{Method, Pending, Verdict};
use crate::config::STEADY;
use crate::result::{CapacityResult, RunResult};

pub(super) fn capacity_rows(
    base: Option<&RunResult>,
    cur: &RunResult,
    method: &Method,
) -> Vec<Pending> {
    let th = method.th;
    let subject = Subject::target(STEADY);
    let (b, c) = (
        base.and_then(|b| b.capacity.as_ref()),
        cur.capacity.as_ref(),
    );
    let named = th.metrics_for(&subject).contains(&Metric::Capacity);
    if !named && c.is_none() {
        return Vec::new();
    }
    let m = Metric::Capacity;
    let policy = th.policy(&subject, m);
    let values = (b.and_then(|b| b.capacity), c.and_then(|c| c.capacity));
    let row = |verdict, reason: &str| new_row(&subject, None, m, values, verdict, reason);
    match (b, c) {
        (_, None) => vec![untested(
            row(
                Verdict::Missing,
                "not a capacity result: record it with `perfgate capacity`",
            ),
            None,
        )],
        (None, Some(_)) if base.is_none() => vec![untested(row(Verdict::Pass, ""), Some(policy))],
        (None, Some(_)) => vec![untested(
            row(Verdict::New, "the baseline is not a capacity result"),
            Some(policy),
        )],
        (Some(b), Some(c)) => {
            let reason = bracket(b, c);
            let mut r = row(Verdict::Pass, "");
            r.reason = reason.1;
            vec![tested(r, policy, Some(RatioTest::p_only(reason.0)), None)]
        }
    }
}

/// The p-value of "the capacities differ" from the two brackets, and what it rests on.
fn bracket(b: &CapacityResult, c: &CapacityResult) -> (f64, String) {
    let span = |r: &CapacityResult| {
        (
            r.capacity.unwrap_or(0.0),
            r.broke_at.unwrap_or(f64::INFINITY),
        )
    };
    let ((bh, bb), (ch, cb)) = (span(b), span(c));
    let shown = |(h, br): (f64, f64)| {
        format!(
            "{} … {}",
            crate::units::level(h),
            if br.is_finite() {
                crate::units::level(br)
            } else {
                "?".to_string()
            }
        )
    };
    let disjoint = cb <= bh || ch >= bb;
    let p = if disjoint { 0.0 } else { 1.0 };
    let how = if disjoint {
        "the searches' brackets do not overlap"
    } else {
        "within the searches' resolution"
    };
    (
        p,
        format!(
            "held … broke: baseline {}, current {}: {how}",
            shown((bh, bb)),
            shown((ch, cb))
        ),
    )
}
