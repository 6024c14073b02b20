//! One endpoint's data for one second: the working window a worker records into, and the
//! sparse delta it hands to the collector.

use hdrhistogram::Histogram;

use super::ErrorCounts;
use crate::result::new_histogram;

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
    /// The window's data, leaving it empty (its histogram keeps its allocation).
    pub fn take(from: &mut EndpointWindow) -> Self {
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
