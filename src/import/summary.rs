//! The tools that keep no distribution, only some statistics of it (fidelity `summary`): k6's
//! end-of-test summary (`--summary-export`, or the data a `handleSummary` receives) and
//! Artillery's `--output` report. Each file is one trial of totals and the latencies the tool
//! chose to report; a metric it did not report is MISSING in the comparison, never passed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::trial::{summary_trial, Summarized};
use super::ImportError;
use crate::metrics::{ErrorCounts, ErrorKind};
use crate::result::TrialResult;

fn key_error(file: &str, key: &str, message: impl Into<String>) -> ImportError {
    ImportError::Key {
        file: file.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

/// The latencies of a summary object under perfgate's metric names, from the tool's names.
fn latencies(v: &Value, names: &[(&str, &str)]) -> BTreeMap<String, f64> {
    names
        .iter()
        .filter_map(|(theirs, ours)| {
            let x = v
                .get(*theirs)?
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)?;
            Some((ours.to_string(), x))
        })
        .collect()
}

fn count(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_f64)
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map_or(0, |x| x.round() as u64)
}

const K6_NAMES: [(&str, &str); 8] = [
    ("med", "p50"),
    ("p(75)", "p75"),
    ("p(90)", "p90"),
    ("p(95)", "p95"),
    ("p(99)", "p99"),
    ("p(99.9)", "p99.9"),
    ("avg", "mean"),
    ("max", "max"),
];

/// k6's summary: `--summary-export` (a metric's statistics directly under its name) or a
/// `handleSummary` JSON (under `values`). Its rate metrics count true values as `passes`, so
/// `http_req_failed.passes` are the failed requests (the export's inverted naming).
pub fn k6(doc: &Value, file: &str, index: u32, start: f64) -> Result<TrialResult, ImportError> {
    let metrics = doc
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            key_error(
                file,
                "metrics",
                "missing: not a k6 summary (expected k6 run --summary-export=FILE)",
            )
        })?;
    let stats = |name: &str| metrics.get(name).map(|m| m.get("values").unwrap_or(m));
    let reqs = stats("http_reqs").ok_or_else(|| {
        key_error(
            file,
            "metrics.http_reqs",
            "missing: the test made no HTTP request",
        )
    })?;
    let requests = count(reqs.get("count"));
    let failed = stats("http_req_failed").map_or(0, |f| count(f.get("passes")));
    if failed > requests {
        return Err(key_error(
            file,
            "metrics.http_req_failed.passes",
            format!("{failed} failures of {requests} requests"),
        ));
    }
    let duration = stats("http_req_duration{expected_response:true}")
        .or_else(|| stats("http_req_duration"))
        .ok_or_else(|| key_error(file, "metrics.http_req_duration", "missing"))?;
    let rate = reqs
        .get("rate")
        .and_then(Value::as_f64)
        .filter(|r| *r > 0.0);
    let measured_s = doc
        .pointer("/state/testRunDurationMs")
        .and_then(Value::as_f64)
        .map(|ms| ms / 1000.0)
        .or_else(|| rate.map(|r| requests as f64 / r))
        .unwrap_or(0.0);
    let mut errors = ErrorCounts::default();
    errors.add(ErrorKind::Check, failed);
    let ep = Summarized {
        name: "all requests".into(),
        requests,
        errors,
        latency_ms: latencies(duration, &K6_NAMES),
    };
    let iterations = stats("iterations").map_or(0, |i| count(i.get("count")));
    Ok(summary_trial(
        index,
        start,
        measured_s,
        iterations,
        vec![ep],
    ))
}

const ARTILLERY_NAMES: [(&str, &str); 8] = [
    ("p50", "p50"),
    ("p75", "p75"),
    ("p90", "p90"),
    ("p95", "p95"),
    ("p99", "p99"),
    ("p999", "p99.9"),
    ("mean", "mean"),
    ("max", "max"),
];

/// Counts of one endpoint (or of all) from Artillery's counters under `prefix`: requests are
/// the responses (`codes.NNN`) and the errors (`errors.X`, no response); a status of 400 or
/// more is a failure, as perfgate counts one.
fn artillery_counts(
    counters: &serde_json::Map<String, Value>,
    codes: &str,
    errs: &str,
) -> (u64, ErrorCounts) {
    let (mut requests, mut e) = (0u64, ErrorCounts::default());
    for (k, v) in counters {
        let n = count(Some(v));
        if let Some(code) = k.strip_prefix(codes).and_then(|c| c.parse::<u16>().ok()) {
            requests += n;
            if code >= 400 {
                e.add(ErrorKind::Status(code), n);
            }
        } else if let Some(kind) = k.strip_prefix(errs) {
            requests += n;
            e.add(
                match kind {
                    "ETIMEDOUT" | "ESOCKETTIMEDOUT" => ErrorKind::Timeout,
                    "ECONNREFUSED" | "ENOTFOUND" | "EAI_AGAIN" => ErrorKind::Connect,
                    "ECONNRESET" | "EPIPE" => ErrorKind::Reset,
                    _ => ErrorKind::Protocol,
                },
                n,
            );
        }
    }
    (requests, e)
}

/// Artillery 2's `--output` JSON: its `aggregate`, per endpoint when the metrics-by-endpoint
/// plugin ran (else all requests as one). Its response time is to the first byte.
pub fn artillery(doc: &Value, file: &str, index: u32) -> Result<TrialResult, ImportError> {
    let agg = doc.get("aggregate").ok_or_else(|| {
        key_error(
            file,
            "aggregate",
            "missing: not Artillery's --output report",
        )
    })?;
    let counters = agg
        .get("counters")
        .and_then(Value::as_object)
        .ok_or_else(|| key_error(file, "aggregate.counters", "missing"))?;
    let summaries = agg.get("summaries").and_then(Value::as_object);
    let ms = |k: &str| agg.get(k).and_then(Value::as_f64);
    let (first, last) = (
        ms("firstMetricAt").unwrap_or(0.0),
        ms("lastMetricAt").unwrap_or(0.0),
    );
    let measured_s = ((last - first) / 1000.0).max(0.0);
    const BY: &str = "plugins.metrics-by-endpoint.";
    let mut names: Vec<String> = Vec::new();
    for k in counters.keys() {
        let Some(rest) = k.strip_prefix(BY) else {
            continue;
        };
        if let Some(i) = rest.rfind(".codes.").or_else(|| rest.rfind(".errors.")) {
            let n = rest[..i].to_string();
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let summary = |k: &str| {
        summaries
            .and_then(|s| s.get(k))
            .map(|v| latencies(v, &ARTILLERY_NAMES))
            .unwrap_or_default()
    };
    let mut eps = Vec::new();
    if names.is_empty() {
        let (requests, errors) = artillery_counts(counters, "http.codes.", "errors.");
        let ok = summary("http.response_time.2xx");
        eps.push(Summarized {
            name: "all requests".into(),
            requests,
            errors,
            latency_ms: if ok.is_empty() {
                summary("http.response_time")
            } else {
                ok
            },
        });
    }
    for n in names {
        // The plugin names an endpoint `URL (name)` when the step has a name: the name is kept.
        let shown = match (n.rfind(" ("), n.strip_suffix(')')) {
            (Some(i), Some(_)) => n[i + 2..n.len() - 1].to_string(),
            _ => n.clone(),
        };
        let (requests, errors) = artillery_counts(
            counters,
            &format!("{BY}{n}.codes."),
            &format!("{BY}{n}.errors."),
        );
        // An endpoint whose every request failed has no latency perfgate would compare.
        let latency_ms = if errors.total() < requests {
            summary(&format!("{BY}response_time.{n}"))
        } else {
            BTreeMap::new()
        };
        eps.push(Summarized {
            name: shown,
            requests,
            errors,
            latency_ms,
        });
    }
    if eps.iter().all(|e| e.requests == 0) {
        return Err(ImportError::Empty {
            file: file.into(),
            what: "no HTTP response or error counted".into(),
        });
    }
    let iterations = count(counters.get("vusers.completed"));
    Ok(summary_trial(
        index,
        first / 1000.0,
        measured_s,
        iterations,
        eps,
    ))
}

/// When a summary was written: its file's modification time (the summary itself has none).
pub fn file_time(path: &std::path::Path) -> f64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}
