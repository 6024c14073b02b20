//! One scenario's iterations in one second — a user flow: how many started, completed and
//! failed (and at which step), and how long the completed ones took.

use hdrhistogram::Histogram;

use crate::result::new_histogram;

/// What a worker records for one scenario in the current second.
#[derive(Debug, Clone)]
pub struct FlowWindow {
    pub started: u64,
    pub completed: u64,
    /// Failed iterations by the endpoint of the step they failed at (a handful at most).
    pub failed_at: Vec<(usize, u64)>,
    /// Durations of completed iterations, µs: first step sent → last response.
    pub duration: Histogram<u64>,
}

impl FlowWindow {
    pub fn new() -> Self {
        FlowWindow {
            started: 0,
            completed: 0,
            failed_at: Vec::new(),
            duration: new_histogram(),
        }
    }

    pub fn failed(&self) -> u64 {
        self.failed_at.iter().map(|(_, n)| n).sum()
    }

    pub fn fail_at(&mut self, endpoint: usize, n: u64) {
        match self.failed_at.iter_mut().find(|(e, _)| *e == endpoint) {
            Some((_, c)) => *c += n,
            None => self.failed_at.push((endpoint, n)),
        }
    }

    fn is_empty(&self) -> bool {
        self.started == 0 && self.completed == 0 && self.failed_at.is_empty()
    }
}

impl Default for FlowWindow {
    fn default() -> Self {
        Self::new()
    }
}

/// One scenario's second as a worker sends it: the duration histogram sparse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowDelta {
    pub started: u64,
    pub completed: u64,
    pub failed_at: Vec<(usize, u64)>,
    pub duration: Vec<(u64, u64)>,
}

impl FlowDelta {
    /// The window's data, leaving it empty (its histogram keeps its allocation).
    pub fn take(from: &mut FlowWindow) -> Self {
        if from.is_empty() {
            return FlowDelta::default();
        }
        let d = FlowDelta {
            started: from.started,
            completed: from.completed,
            failed_at: std::mem::take(&mut from.failed_at),
            duration: from
                .duration
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        };
        from.started = 0;
        from.completed = 0;
        from.duration.reset();
        d
    }

    /// Adds this delta to `into` exactly.
    pub fn add_to(&self, into: &mut FlowWindow) {
        into.started += self.started;
        into.completed += self.completed;
        for &(e, n) in &self.failed_at {
            into.fail_at(e, n);
        }
        for &(v, n) in &self.duration {
            let _ = into.duration.record_n(v, n);
        }
    }
}
