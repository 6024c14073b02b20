//! Stopping early: an observer of the run that stops it when an `abort_on_fail` limit has been
//! breached for its grace period, second after second (k6's `abortOnFail`). A stress test
//! against a service that has fallen over then costs a minute of CI, not fifteen.

use std::sync::Arc;

use tokio::sync::watch;

use crate::compare::rules::{glob_match, Abort, Metric};
use crate::engine::events::{Event, Observer, SecondSummary};
use crate::engine::StopReason;

/// Watches every measured second against the abort rules.
pub struct AbortWatch {
    rules: Vec<Abort>,
    endpoints: Vec<String>,
    /// Per rule and endpoint: the seconds in a row it has been breached.
    breached: Vec<Vec<u32>>,
    stop: Arc<watch::Sender<Option<StopReason>>>,
    /// Once stopped, it says nothing more.
    fired: bool,
}

impl AbortWatch {
    pub fn new(
        rules: Vec<Abort>,
        endpoints: Vec<String>,
        stop: Arc<watch::Sender<Option<StopReason>>>,
    ) -> Self {
        AbortWatch {
            breached: vec![vec![0; endpoints.len()]; rules.len()],
            rules,
            endpoints,
            stop,
            fired: false,
        }
    }
}

/// The second's value of `m`, in the unit the rule's limit is in (ms, or a fraction), when the
/// second has one.
fn second_value(s: &SecondSummary, m: Metric) -> Option<f64> {
    match m {
        Metric::ErrorRate => (s.requests > 0).then(|| s.errors as f64 / s.requests as f64),
        Metric::P50 => s.p50_ms,
        Metric::P95 => s.p95_ms,
        Metric::P99 => s.p99_ms,
        _ => None,
    }
}

impl Observer for AbortWatch {
    fn event(&mut self, e: &Event<'_>) {
        let Event::Second(s) = e else {
            if let Event::TrialStarted { .. } = e {
                // A breach does not carry over from one trial to the next.
                self.breached.iter_mut().flatten().for_each(|n| *n = 0);
            }
            return;
        };
        if self.fired || s.warmup() {
            return;
        }
        for (r, rule) in self.rules.iter().enumerate() {
            let in_stage = match (&rule.stage, &s.stage) {
                (None, _) => true,
                (Some(g), Some(stage)) => glob_match(g, stage),
                (Some(_), None) => false,
            };
            for (i, name) in self.endpoints.iter().enumerate() {
                let counts =
                    in_stage && rule.endpoint.as_deref().is_none_or(|g| glob_match(g, name));
                let over = counts
                    && s.endpoints
                        .get(i)
                        .and_then(|e| second_value(e, rule.metric))
                        .is_some_and(|v| v > rule.max);
                let n = &mut self.breached[r][i];
                *n = if over { *n + 1 } else { 0 };
                if u64::from(*n) >= rule.grace.as_secs().max(1) {
                    self.fired = true;
                    let why = format!(
                        "{} breached by {name} for {} s in a row (trial {}, second {})",
                        rule.text,
                        *n,
                        s.trial + 1,
                        s.window + 1
                    );
                    eprintln!("\nstopping early (abort_on_fail): {why}");
                    self.stop.send_replace(Some(StopReason::Aborted(why)));
                    return;
                }
            }
        }
    }
}
