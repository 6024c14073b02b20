//! Merging results exactly: trials of one run, shards of one load, stages of one trial.
//! Histograms are added bucket by bucket and counts summed with checked arithmetic (a file is
//! user input: its counts may be crafted to wrap), then the percentiles are recomputed.

use super::hdr::{decode_histogram, encode_histogram, new_histogram, percentiles};
use super::{EndpointResult, ErrorSampleWire, ErrorsWire, RunResult};

/// Distinct error kinds described per endpoint.
pub const SAMPLES_PER_ENDPOINT: usize = 8;

/// Why results could not be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("a histogram does not decode: {0}")]
    Histogram(String),
    #[error("the {0} add up to more than 2^64")]
    Overflow(&'static str),
}

/// `a + b`, or the overflow named by `what`.
pub fn sum(a: u64, b: u64, what: &'static str) -> Result<u64, MergeError> {
    a.checked_add(b).ok_or(MergeError::Overflow(what))
}

/// Keeps the first sample of each kind, at most `SAMPLES_PER_ENDPOINT` of them.
pub fn add_samples(into: &mut Vec<ErrorSampleWire>, more: &[ErrorSampleWire]) {
    for m in more {
        if into.len() < SAMPLES_PER_ENDPOINT && !into.iter().any(|s| s.kind == m.kind) {
            into.push(m.clone());
        }
    }
}

impl ErrorsWire {
    /// Adds `o`'s counts to these.
    pub fn merge(&mut self, o: &ErrorsWire) -> Result<(), MergeError> {
        self.total = sum(self.total, o.total, "errors")?;
        for (k, v) in &o.status {
            let n = self.status.entry(k.clone()).or_default();
            *n = sum(*n, *v, "errors")?;
        }
        for (mine, theirs) in [
            (&mut self.timeout, o.timeout),
            (&mut self.connect, o.connect),
            (&mut self.reset, o.reset),
            (&mut self.protocol, o.protocol),
            (&mut self.check, o.check),
            (&mut self.capture, o.capture),
        ] {
            *mine = sum(*mine, theirs, "errors")?;
        }
        Ok(())
    }
}

/// `a / b`, 0 when there is nothing to divide.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Requests per second over `measured_s` seconds.
pub fn per_second(requests: u64, measured_s: f64) -> f64 {
    if measured_s > 0.0 {
        requests as f64 / measured_s
    } else {
        0.0
    }
}

/// Merges endpoint results (trials, shards) exactly: histograms and counts are summed, the
/// percentiles recomputed; windows are concatenated in order.
pub fn merge_endpoints(
    parts: &[&EndpointResult],
    measured_s: f64,
) -> Result<EndpointResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let mut hist = new_histogram();
    let mut errors = ErrorsWire::default();
    let (mut requests, mut bytes) = (0u64, 0u64);
    let mut windows = Vec::new();
    let mut samples = Vec::new();
    for p in parts {
        add_samples(&mut samples, &p.error_samples);
        let h = decode_histogram(&p.histogram).map_err(MergeError::Histogram)?;
        hist.add(h)
            .map_err(|e| MergeError::Histogram(format!("{e:?}")))?;
        errors.merge(&p.errors)?;
        requests = sum(requests, p.requests, "requests")?;
        bytes = sum(bytes, p.bytes_received, "bytes received")?;
        windows.extend(p.windows.iter().cloned());
    }
    Ok(EndpointResult {
        name: first.name.clone(),
        requests,
        error_rate: ratio(errors.total, requests),
        errors,
        bytes_received: bytes,
        throughput_rps: per_second(requests, measured_s),
        latency_ms: percentiles(&hist),
        histogram: encode_histogram(&hist),
        windows,
        error_samples: samples,
        // Summaries of several runs do not add up to one: only a single part keeps its own.
        summary_ms: match parts {
            [one] => one.summary_ms.clone(),
            _ => None,
        },
    })
}

impl RunResult {
    /// Endpoint names in first-seen order across trials.
    pub fn endpoint_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in &self.trials {
            for e in &t.endpoints {
                if !names.contains(&e.name) {
                    names.push(e.name.clone());
                }
            }
        }
        names
    }

    /// One endpoint over all trials, merged exactly; None when no trial has it.
    pub fn merged_endpoint(&self, name: &str) -> Result<Option<EndpointResult>, MergeError> {
        let parts: Vec<&EndpointResult> = self
            .trials
            .iter()
            .flat_map(|t| t.endpoints.iter().filter(|e| e.name == name))
            .collect();
        if parts.is_empty() {
            return Ok(None);
        }
        let measured: f64 = self
            .trials
            .iter()
            .filter(|t| t.endpoints.iter().any(|e| e.name == name))
            .map(|t| t.measured_s)
            .sum();
        merge_endpoints(&parts, measured).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_that_would_wrap_are_refused() {
        let mut a = ErrorsWire {
            total: u64::MAX,
            ..Default::default()
        };
        let one = ErrorsWire {
            total: 1,
            ..Default::default()
        };
        assert_eq!(a.merge(&one), Err(MergeError::Overflow("errors")));
        assert_eq!(sum(u64::MAX - 1, 1, "requests"), Ok(u64::MAX));
    }
}
