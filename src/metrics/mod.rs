//! Recording on the request path: per-worker histograms and counters, handed off once a second.
//!
//! Each engine worker thread owns one `Recorder` (no lock, no atomic, no allocation per request:
//! a histogram increment and a few additions). When a request completes in a later 1-second
//! window than the current one, or the worker's ticker notices a second has passed, the finished
//! window is sent to the collector as a `WindowData`, one message per worker per second.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::result::{MAX_LATENCY_US, SAMPLES_PER_ENDPOINT};

mod errors;
mod flow;
mod window;

pub use errors::{ErrorCounts, ErrorKind, ErrorSample};
pub use flow::{FlowDelta, FlowWindow};
pub use window::{EndpointDelta, EndpointWindow};

/// One worker's data for one second. `window` counts seconds from the start of the measured
/// part of the trial; warmup windows are negative.
#[derive(Debug, Clone)]
pub struct WindowData {
    pub window: i64,
    pub endpoints: Vec<EndpointDelta>,
    /// Scenario iterations completed.
    pub iterations: u64,
    /// Open model: iterations not started because `max_in_flight` was reached.
    pub dropped: u64,
    /// Per scenario: iterations started, completed and failed, and how long they took.
    pub flows: Vec<FlowDelta>,
    /// At the end of the second: closed-model users in their active period, and iterations in
    /// progress (both models).
    pub active_users: u64,
    pub in_flight: u64,
    /// Failures of a kind this worker had not described before.
    pub samples: Vec<ErrorSample>,
}

/// The outcome of one request, as the recorder needs it.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub latency: Duration,
    pub bytes_received: u64,
    pub error: Option<ErrorKind>,
}

pub struct Recorder {
    window: i64,
    endpoints: Vec<EndpointWindow>,
    flows: Vec<FlowWindow>,
    iterations: u64,
    dropped: u64,
    active_users: u64,
    in_flight: u64,
    measure_start: Instant,
    sink: UnboundedSender<WindowData>,
    /// Kinds already described, per endpoint.
    sampled: Vec<Vec<ErrorKind>>,
    samples: Vec<ErrorSample>,
}

/// The 1-second window `at` falls in, counted from `measure_start` (negative before it).
pub fn window_of(measure_start: Instant, at: Instant) -> i64 {
    match at.checked_duration_since(measure_start) {
        Some(d) => d.as_secs() as i64,
        None => -((measure_start - at).as_nanos().div_ceil(1_000_000_000) as i64),
    }
}

impl Recorder {
    /// A recorder for `endpoints` endpoints and `scenarios` scenarios.
    pub fn new(
        endpoints: usize,
        scenarios: usize,
        measure_start: Instant,
        sink: UnboundedSender<WindowData>,
    ) -> Self {
        let now = Instant::now();
        Recorder {
            window: window_of(measure_start, now),
            endpoints: (0..endpoints).map(|_| EndpointWindow::new()).collect(),
            flows: (0..scenarios).map(|_| FlowWindow::new()).collect(),
            iterations: 0,
            dropped: 0,
            active_users: 0,
            in_flight: 0,
            measure_start,
            sink,
            sampled: vec![Vec::new(); endpoints],
            samples: Vec::new(),
        }
    }

    /// Whether a failure of `kind` on `endpoint` should be described (the first of its kind).
    pub fn wants_sample(&self, endpoint: usize, kind: ErrorKind) -> bool {
        self.sampled
            .get(endpoint)
            .is_some_and(|s| s.len() < SAMPLES_PER_ENDPOINT && !s.contains(&kind))
    }

    pub fn sample(&mut self, endpoint: usize, kind: ErrorKind, message: String) {
        if !self.wants_sample(endpoint, kind) {
            return;
        }
        self.sampled[endpoint].push(kind);
        self.samples.push(ErrorSample {
            endpoint,
            kind,
            message,
        });
    }

    pub fn record(&mut self, endpoint: usize, at: Instant, outcome: Outcome) {
        self.roll(at);
        let Some(e) = self.endpoints.get_mut(endpoint) else {
            return;
        };
        e.requests += 1;
        e.bytes_received += outcome.bytes_received;
        match outcome.error {
            None => {
                let us = outcome.latency.as_micros().clamp(1, MAX_LATENCY_US as u128) as u64;
                e.latency.saturating_record(us);
            }
            Some(kind) => e.errors.add(kind, 1),
        }
    }

    /// An iteration of `scenario` begins.
    pub fn iteration_started(&mut self, scenario: usize, at: Instant) {
        self.roll(at);
        self.in_flight += 1;
        if let Some(f) = self.flows.get_mut(scenario) {
            f.started += 1;
        }
    }

    /// An iteration of `scenario` completed, every step a success; `took` from its first step
    /// sent to its last response.
    pub fn iteration_done(&mut self, scenario: usize, at: Instant, took: Duration) {
        self.roll(at);
        self.iterations += 1;
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(f) = self.flows.get_mut(scenario) {
            f.completed += 1;
            let us = took.as_micros().clamp(1, MAX_LATENCY_US as u128) as u64;
            f.duration.saturating_record(us);
        }
    }

    /// An iteration of `scenario` ended at a failed step on `endpoint` (None: it was cut short
    /// by the end of the trial, which is no failure).
    pub fn iteration_failed(&mut self, scenario: usize, endpoint: Option<usize>, at: Instant) {
        self.roll(at);
        self.in_flight = self.in_flight.saturating_sub(1);
        if let (Some(f), Some(e)) = (self.flows.get_mut(scenario), endpoint) {
            f.fail_at(e, 1);
        }
    }

    /// A closed-model user enters (+1) or leaves (−1) its active period.
    pub fn user_active(&mut self, entering: bool) {
        if entering {
            self.active_users += 1;
        } else {
            self.active_users = self.active_users.saturating_sub(1);
        }
    }

    pub fn dropped(&mut self, at: Instant) {
        self.roll(at);
        self.dropped += 1;
    }

    /// Sends the current window if `now` is past it.
    pub fn roll(&mut self, now: Instant) {
        let w = window_of(self.measure_start, now);
        if w > self.window {
            self.flush(w);
        }
    }

    fn flush(&mut self, next_window: i64) {
        // A worker with users or iterations still going reports its gauges even in a quiet
        // second, so the collector's sums are whole.
        let empty = self.iterations == 0
            && self.dropped == 0
            && self.active_users == 0
            && self.in_flight == 0
            && self.samples.is_empty()
            && self.endpoints.iter().all(|e| e.requests == 0)
            && self
                .flows
                .iter()
                .all(|f| f.started == 0 && f.failed_at.is_empty());
        if !empty {
            // Once per second per worker; the working histograms keep their allocation.
            let data = WindowData {
                window: self.window,
                endpoints: self.endpoints.iter_mut().map(EndpointDelta::take).collect(),
                iterations: std::mem::take(&mut self.iterations),
                dropped: std::mem::take(&mut self.dropped),
                flows: self.flows.iter_mut().map(FlowDelta::take).collect(),
                active_users: self.active_users,
                in_flight: self.in_flight,
                samples: std::mem::take(&mut self.samples),
            };
            let _ = self.sink.send(data);
        }
        if self.window < 0 && next_window >= 0 {
            // Warmup failures are not counted, so the measured part describes its own.
            self.sampled.iter_mut().for_each(Vec::clear);
        }
        self.window = next_window;
    }

    /// Sends what is left; called once when the worker stops.
    pub fn finish(mut self) {
        let next = self.window + 1;
        self.flush(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_whole_seconds_and_warmup_is_negative() {
        let start = Instant::now() + Duration::from_secs(10);
        assert_eq!(window_of(start, start), 0);
        assert_eq!(window_of(start, start + Duration::from_millis(999)), 0);
        assert_eq!(window_of(start, start + Duration::from_millis(1000)), 1);
        assert_eq!(window_of(start, start - Duration::from_millis(1)), -1);
        assert_eq!(window_of(start, start - Duration::from_millis(1000)), -1);
        assert_eq!(window_of(start, start - Duration::from_millis(1001)), -2);
    }

    #[test]
    fn a_later_request_sends_the_finished_window() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let start = Instant::now();
        let mut r = Recorder::new(2, 1, start, tx);
        let ok = Outcome {
            latency: Duration::from_millis(5),
            bytes_received: 10,
            error: None,
        };
        r.record(1, start, ok);
        r.record(
            1,
            start,
            Outcome {
                error: Some(ErrorKind::Status(500)),
                ..ok
            },
        );
        assert!(rx.try_recv().is_err(), "window 0 is still open");
        r.record(0, start + Duration::from_millis(1500), ok);
        let w0 = rx.try_recv().expect("window 0 was sent");
        assert_eq!(w0.window, 0);
        assert_eq!(w0.endpoints[1].requests, 2);
        assert_eq!(w0.endpoints[1].errors.status, vec![(500, 1)]);
        assert_eq!(w0.endpoints[1].latency.len(), 1, "errors are not latencies");
        let mut total = EndpointWindow::new();
        w0.endpoints[1].add_to(&mut total);
        assert_eq!(
            total.latency.value_at_quantile(1.0),
            total.latency.highest_equivalent(5000)
        );
        assert_eq!(w0.endpoints[1].bytes_received, 20);
        r.finish();
        let w1 = rx.try_recv().expect("the last window is sent on finish");
        assert_eq!((w1.window, w1.endpoints[0].requests), (1, 1));
        assert_eq!(w1.endpoints[1].requests, 0, "the working window was reset");
    }
}
