//! The engine's in-memory windows (`metrics`) as the result file holds them (`result`): the one
//! place where the wire format meets the engine, so that neither depends on the other's shape.

use crate::metrics::{EndpointWindow, ErrorCounts, FlowWindow};
use crate::result::{
    encode_histogram, per_second, percentiles, ratio, EndpointResult, ErrorsWire, FlowResult,
    WindowResult,
};

impl From<&ErrorCounts> for ErrorsWire {
    fn from(e: &ErrorCounts) -> Self {
        ErrorsWire {
            total: e.total(),
            status: e.status.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            timeout: e.timeout,
            connect: e.connect,
            reset: e.reset,
            protocol: e.protocol,
            check: e.check,
            capture: e.capture,
        }
    }
}

/// Builds an endpoint's result from its total and per-second windows.
pub fn endpoint_result(
    name: &str,
    total: &EndpointWindow,
    windows: &[EndpointWindow],
    measured_s: f64,
) -> EndpointResult {
    let windows = windows.iter().map(window_result).collect();
    endpoint_result_with(name, total, windows, measured_s)
}

/// One window as the result file holds it.
pub fn window_result(w: &EndpointWindow) -> WindowResult {
    WindowResult {
        requests: w.requests,
        errors: w.errors.total(),
        histogram: encode_histogram(&w.latency),
    }
}

/// Like `endpoint_result`, with the windows already encoded.
pub fn endpoint_result_with(
    name: &str,
    total: &EndpointWindow,
    windows: Vec<WindowResult>,
    measured_s: f64,
) -> EndpointResult {
    EndpointResult {
        name: name.to_string(),
        requests: total.requests,
        errors: ErrorsWire::from(&total.errors),
        error_rate: ratio(total.errors.total(), total.requests),
        bytes_received: total.bytes_received,
        throughput_rps: per_second(total.requests, measured_s),
        latency_ms: percentiles(&total.latency),
        histogram: encode_histogram(&total.latency),
        windows,
        error_samples: Vec::new(),
        summary_ms: None,
    }
}

/// A scenario's iterations as the result file holds them. `measured_s`: the seconds they are
/// counted over (for iterations per minute).
pub fn flow_result(
    scenario: &str,
    f: &FlowWindow,
    endpoints: &[String],
    measured_s: f64,
) -> FlowResult {
    let failed = f.failed();
    let ended = f.completed + failed;
    let mut failed_at = std::collections::BTreeMap::new();
    for &(e, n) in &f.failed_at {
        let name = endpoints
            .get(e)
            .cloned()
            .unwrap_or_else(|| format!("step {e}"));
        *failed_at.entry(name).or_insert(0) += n;
    }
    FlowResult {
        scenario: scenario.to_string(),
        started: f.started,
        completed: f.completed,
        failed,
        failed_at,
        completion_rate: if ended == 0 {
            1.0
        } else {
            ratio(f.completed, ended)
        },
        iterations_per_min: per_second(f.completed, measured_s) * 60.0,
        duration_ms: percentiles(&f.duration),
        histogram: encode_histogram(&f.duration),
    }
}
