//! Recording on the request path: per-worker histograms and counters, handed off once a second.
//!
//! Each engine worker thread owns one `Recorder` (no lock, no atomic, no allocation per request:
//! a histogram increment and a few additions). When a request completes in a later 1-second
//! window than the current one, or the worker's ticker notices a second has passed, the finished
//! window is sent to the collector as a `WindowData`, one message per worker per second.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::mpsc::UnboundedSender;

use crate::result::{new_histogram, MAX_LATENCY_US, SAMPLES_PER_ENDPOINT};

/// Why a request did not count as a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A response with a status the step does not expect.
    Status(u16),
    /// No complete response within `request_timeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The connection broke (reset or closed before the response was complete).
    Reset,
    /// The response was not valid HTTP (malformed status line or headers).
    Protocol,
    /// The response failed an `expect` check other than the status (e.g. `body_contains`).
    Check,
    /// A `capture` found nothing, or a template needed a variable not captured yet.
    Capture,
}

impl ErrorKind {
    /// How the kind is named in results and reports: `status 503`, `timeout`, `reset`, ….
    pub fn label(&self) -> String {
        match self {
            ErrorKind::Status(code) => format!("status {code}"),
            ErrorKind::Timeout => "timeout".into(),
            ErrorKind::Connect => "connect".into(),
            ErrorKind::Reset => "reset".into(),
            ErrorKind::Protocol => "protocol".into(),
            ErrorKind::Check => "check".into(),
            ErrorKind::Capture => "capture".into(),
        }
    }
}

/// The first failure of one kind on one endpoint, described for people (secrets redacted).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSample {
    pub endpoint: usize,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorCounts {
    /// Unexpected statuses and how often each was seen (a handful of codes at most).
    pub status: Vec<(u16, u64)>,
    pub timeout: u64,
    pub connect: u64,
    pub reset: u64,
    pub protocol: u64,
    pub check: u64,
    pub capture: u64,
}

impl ErrorCounts {
    pub fn add(&mut self, kind: ErrorKind, n: u64) {
        match kind {
            ErrorKind::Status(code) => match self.status.iter_mut().find(|(c, _)| *c == code) {
                Some((_, count)) => *count += n,
                None => self.status.push((code, n)),
            },
            ErrorKind::Timeout => self.timeout += n,
            ErrorKind::Connect => self.connect += n,
            ErrorKind::Reset => self.reset += n,
            ErrorKind::Protocol => self.protocol += n,
            ErrorKind::Check => self.check += n,
            ErrorKind::Capture => self.capture += n,
        }
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for &(code, n) in &other.status {
            self.add(ErrorKind::Status(code), n);
        }
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.reset += other.reset;
        self.protocol += other.protocol;
        self.check += other.check;
        self.capture += other.capture;
    }

    pub fn total(&self) -> u64 {
        self.status.iter().map(|(_, n)| n).sum::<u64>()
            + self.timeout
            + self.connect
            + self.reset
            + self.protocol
            + self.check
            + self.capture
    }
}

/// What one endpoint saw in one window.
#[derive(Debug, Clone)]
pub struct EndpointWindow {
    /// Latency of successful requests, µs.
    pub latency: Histogram<u64>,
    /// Completed requests, successes and errors.
    pub requests: u64,
    pub errors: ErrorCounts,
    pub bytes_received: u64,
}

impl EndpointWindow {
    pub fn new() -> Self {
        EndpointWindow {
            latency: new_histogram(),
            requests: 0,
            errors: ErrorCounts::default(),
            bytes_received: 0,
        }
    }

    pub fn merge(&mut self, other: &EndpointWindow) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.errors.merge(&other.errors);
        self.bytes_received += other.bytes_received;
    }

    /// Empties the window, keeping the histogram's allocation.
    pub fn reset(&mut self) {
        self.latency.reset();
        self.requests = 0;
        self.errors = ErrorCounts::default();
        self.bytes_received = 0;
    }
}

impl Default for EndpointWindow {
    fn default() -> Self {
        Self::new()
    }
}

/// One endpoint's data for one second, as sent from a worker: the histogram as a sparse list of
/// (bucket value, count) pairs, a few hundred bytes instead of the full bucket array.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointDelta {
    pub latency: Vec<(u64, u64)>,
    pub requests: u64,
    pub errors: ErrorCounts,
    pub bytes_received: u64,
}

impl EndpointDelta {
    fn take(from: &mut EndpointWindow) -> Self {
        let latency = from
            .latency
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        let d = EndpointDelta {
            latency,
            requests: from.requests,
            errors: std::mem::take(&mut from.errors),
            bytes_received: from.bytes_received,
        };
        from.reset();
        d
    }

    /// Adds this delta to `into` exactly (bucket values re-recorded land in the same bucket).
    pub fn add_to(&self, into: &mut EndpointWindow) {
        for &(value, count) in &self.latency {
            let _ = into.latency.record_n(value, count);
        }
        into.requests += self.requests;
        into.errors.merge(&self.errors);
        into.bytes_received += self.bytes_received;
    }

    pub fn merge(&mut self, other: &EndpointDelta) {
        self.latency.extend_from_slice(&other.latency);
        self.requests += other.requests;
        self.errors.merge(&other.errors);
        self.bytes_received += other.bytes_received;
    }
}

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
    iterations: u64,
    dropped: u64,
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
    pub fn new(
        endpoints: usize,
        measure_start: Instant,
        sink: UnboundedSender<WindowData>,
    ) -> Self {
        let now = Instant::now();
        Recorder {
            window: window_of(measure_start, now),
            endpoints: (0..endpoints).map(|_| EndpointWindow::new()).collect(),
            iterations: 0,
            dropped: 0,
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

    pub fn iteration_done(&mut self, at: Instant) {
        self.roll(at);
        self.iterations += 1;
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
        let empty = self.iterations == 0
            && self.dropped == 0
            && self.samples.is_empty()
            && self.endpoints.iter().all(|e| e.requests == 0);
        if !empty {
            // Once per second per worker; the working histograms keep their allocation.
            let data = WindowData {
                window: self.window,
                endpoints: self.endpoints.iter_mut().map(EndpointDelta::take).collect(),
                iterations: std::mem::take(&mut self.iterations),
                dropped: std::mem::take(&mut self.dropped),
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
        let mut r = Recorder::new(2, start, tx);
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
