//! The engine's event stream: what happens during a run, as it happens, for whoever observes it
//! (the way nextest feeds its reporters). The progress line is one observer; live metrics, the
//! HTML report's time series and shard status are others. The engine imports no observer: it
//! is handed a `&mut dyn Observer` and calls it from its own task, never from the request path.

use std::time::Duration;

use super::StopReason;

/// Something that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// Before the first trial.
    RunStarted { trials: u32, workers: usize },
    /// Every worker is ready and the trial's clock starts (warmup first, if any).
    TrialStarted { trial: u32, started_at: &'a str },
    /// The load shape entered stage `index` (of `load.stages`; 0 for a profile without
    /// stages, whose one phase is the whole trial).
    StageStarted {
        trial: u32,
        index: usize,
        target: f64,
    },
    /// A second of load has ended: what it measured, per endpoint and in all.
    Second(&'a Second),
    /// The run is stopping before its end (an interrupt, or the target exited).
    Stopping(&'a StopReason),
    /// A trial has ended; `complete` is false when it was cut short.
    TrialEnded { trial: u32, complete: bool },
    /// Every trial has ended (or the run stopped early).
    RunEnded { complete: bool },
}

/// One finished second of one trial.
#[derive(Debug, Clone, Default)]
pub struct Second {
    pub trial: u32,
    pub trials: u32,
    /// Seconds since the start of the measured part; negative during the warmup.
    pub window: i64,
    /// Time since the trial's start, and the trial's whole length.
    pub elapsed: Duration,
    pub length: Duration,
    /// Users (closed model) or iterations per second (open model) the shape asks for now.
    pub level: f64,
    pub open: bool,
    /// The name of the stage (phase) the second lies in; None during the warmup.
    pub stage: Option<String>,
    /// Per endpoint, in the profile's order.
    pub endpoints: Vec<SecondSummary>,
    /// All endpoints together.
    pub total: SecondSummary,
}

impl Second {
    pub fn warmup(&self) -> bool {
        self.window < 0
    }
}

/// Requests, errors and latency percentiles of one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecondSummary {
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl SecondSummary {
    /// From a second's latency as (bucket value µs, count) pairs, in any order.
    pub fn from_pairs(requests: u64, errors: u64, pairs: &mut [(u64, u64)]) -> SecondSummary {
        pairs.sort_unstable_by_key(|&(v, _)| v);
        let total: u64 = pairs.iter().map(|&(_, n)| n).sum();
        let at = |q: f64| -> Option<f64> {
            if total == 0 {
                return None;
            }
            // The value at or below which a fraction q of the samples fall, as HdrHistogram
            // computes it.
            let want = ((q * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            pairs.iter().find_map(|&(v, n)| {
                seen += n;
                (seen >= want).then_some(v as f64 / 1000.0)
            })
        };
        SecondSummary {
            requests,
            errors,
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
        }
    }
}

/// What observes a run.
pub trait Observer {
    fn event(&mut self, e: &Event<'_>);
}

/// No observer.
impl Observer for () {
    fn event(&mut self, _: &Event<'_>) {}
}

/// Several observers, each told every event in order.
#[derive(Default)]
pub struct Observers<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Observers<'_> {
    fn event(&mut self, e: &Event<'_>) {
        for o in self.0.iter_mut() {
            o.event(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_second_follow_hdr_semantics() {
        let mut pairs = vec![(4000, 1), (1000, 1), (3000, 1), (2000, 1)];
        let s = SecondSummary::from_pairs(5, 1, &mut pairs);
        assert_eq!(
            (s.p50_ms, s.p95_ms, s.p99_ms),
            (Some(2.0), Some(4.0), Some(4.0))
        );
        let empty = SecondSummary::from_pairs(1, 1, &mut []);
        assert_eq!(empty.p50_ms, None);
    }
}
