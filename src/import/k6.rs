//! k6's NDJSON (`k6 run --out json=FILE`): one `Metric` or `Point` object per line. Every
//! `http_req_duration` point is one request, so the histograms are rebuilt from the samples
//! themselves (fidelity `exact`): grouped by the `name` tag (k6's URL grouping; without one,
//! method and URL), a failure where `expected_response` is `false` (its kind from `status`, or
//! from k6's `error_code` when no response came), iterations from `iterations` points. The file
//! is read a line at a time, so its size does not matter; a line longer than `MAX_LINE` is
//! refused.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;

use super::trial::{unix_seconds, Outcome, TrialBuilder};
use super::ImportError;
use crate::metrics::ErrorKind;

/// The longest line taken (k6's are a few hundred bytes).
const MAX_LINE: usize = 1 << 20;

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    metric: String,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    tags: Option<HashMap<String, serde_json::Value>>,
}

fn tag<'a>(tags: &'a HashMap<String, serde_json::Value>, k: &str) -> Option<&'a str> {
    tags.get(k)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// k6's error codes (docs: "Error codes"): 1050 a request timeout, 12xx TCP (1220 a reset by
/// the peer), 11xx DNS; the rest is taken as a protocol failure.
fn failure(tags: &HashMap<String, serde_json::Value>) -> ErrorKind {
    let status = tag(tags, "status")
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if status != 0 {
        return ErrorKind::Status(status);
    }
    match tag(tags, "error_code").and_then(|s| s.parse::<u32>().ok()) {
        Some(1050) => ErrorKind::Timeout,
        Some(1220) => ErrorKind::Reset,
        Some(1100..=1299) => ErrorKind::Connect,
        _ => ErrorKind::Protocol,
    }
}

/// Reads one file into a trial; an error names the line.
pub fn read(mut r: impl BufRead, file: &str, t: &mut TrialBuilder) -> Result<(), ImportError> {
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    let mut seen_k6 = false;
    loop {
        buf.clear();
        lineno += 1;
        let at = |message: String| ImportError::At {
            file: file.to_string(),
            line: lineno,
            message,
        };
        let n = std::io::Read::take(&mut r, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| at(format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
            return Err(at(format!(
                "a line longer than {MAX_LINE} bytes: not k6's NDJSON"
            )));
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| at("not UTF-8 text".into()))?
            .trim();
        if text.is_empty() {
            continue;
        }
        // Only the points perfgate uses are parsed whole; the rest are checked for shape.
        let wanted = text.contains("\"http_req_duration\"") || text.contains("\"iterations\"");
        let line: Line = match serde_json::from_str(text) {
            Ok(l) => l,
            Err(e) if e.is_eof() => {
                return Err(at(
                    "the line ends before its JSON does: the file is truncated".into(),
                ))
            }
            Err(e) => {
                return Err(at(format!(
                    "not a k6 JSON line ({e}); expected the output of `k6 run --out json=FILE`"
                )))
            }
        };
        if line.kind != "Point" && line.kind != "Metric" {
            return Err(at(format!(
                "a line of type {:?}; k6's lines are of type \"Metric\" or \"Point\"",
                line.kind
            )));
        }
        seen_k6 = true;
        if line.kind != "Point" || !wanted {
            continue;
        }
        let Some(d) = line.data else {
            return Err(at("a Point without data".into()));
        };
        let time = d.time.as_deref().unwrap_or_default();
        let when = unix_seconds(time)
            .ok_or_else(|| at(format!("time {time:?} is not an RFC 3339 time")))?;
        let value = d.value.filter(|v| v.is_finite() && *v >= 0.0);
        let tags = d.tags.unwrap_or_default();
        match line.metric.as_str() {
            "http_req_duration" => {
                let v = value.ok_or_else(|| at("a duration that is not a number ≥ 0".into()))?;
                let name = match tag(&tags, "name") {
                    Some(n) => n.to_string(),
                    None => format!(
                        "{} {}",
                        tag(&tags, "method").unwrap_or("GET"),
                        tag(&tags, "url").unwrap_or("?")
                    ),
                };
                let outcome = if tag(&tags, "expected_response") == Some("false") {
                    Outcome::Failed(failure(&tags))
                } else {
                    Outcome::Ok { latency_ms: v }
                };
                t.add(&name, when, &outcome, 1).map_err(at)?;
            }
            "iterations" => t.iterations += value.unwrap_or(1.0).round() as u64,
            _ => {}
        }
    }
    if !seen_k6 {
        return Err(ImportError::Empty {
            file: file.to_string(),
            what: "no k6 Metric or Point line".into(),
        });
    }
    Ok(())
}
