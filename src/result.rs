//! The result file (`perfgate/result/v1`): what a run measured, self-contained and mergeable.
//!
//! These are wire types, kept apart from the engine's in-memory ones (`metrics`): they change
//! only with the format version. Histograms are stored losslessly (HdrHistogram V2 + deflate,
//! base64) so that trials, shards and whole files merge exactly; the percentiles beside them are
//! for people and other tools. Readers refuse a newer major version with a clear message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::metrics::{self, EndpointWindow, ErrorCounts};

mod hdr;

pub const FORMAT: &str = "perfgate/result/v1";
const FORMAT_PREFIX: &str = "perfgate/result/v";
const MAJOR: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub format: String,
    /// False when the run was interrupted or aborted; such a result is never a baseline.
    pub complete: bool,
    /// Why the run did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    pub meta: Meta,
    pub trials: Vec<TrialResult>,
    /// What the run cost perfgate itself (not the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClientStats {
    /// perfgate's peak resident memory, bytes.
    pub peak_rss_bytes: u64,
    /// CPU seconds perfgate used, user and system (all trials, start-up included).
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
}

impl ClientStats {
    /// This process's own figures so far (`getrusage(RUSAGE_SELF)`: children excluded).
    pub fn of_this_process() -> Option<ClientStats> {
        // SAFETY: getrusage only writes into the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
            return None;
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Some(ClientStats {
            // Linux reports kilobytes.
            peak_rss_bytes: (u.ru_maxrss.max(0) as u64) * 1024,
            cpu_user_s: secs(u.ru_utime),
            cpu_sys_s: secs(u.ru_stime),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub perfgate_version: String,
    pub profile: ProfileMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitMeta>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub host: HostMeta,
    pub load: LoadMeta,
    /// Target URL (scheme, host, port, path prefix; never credentials).
    pub base_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileMeta {
    pub name: String,
    pub path: String,
    /// Identifies the load and scenarios: results with different hashes measure different things.
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GitMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostMeta {
    pub cpu_model: String,
    pub cores: u32,
    pub os: String,
    #[serde(default)]
    pub kernel: String,
    /// A short hash of CPU model, cores and OS: equal fingerprints, comparable machines.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadMeta {
    /// "closed" or "open".
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u64>,
    pub ramp_up_s: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageMeta>,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub trials: u32,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageMeta {
    pub duration_s: f64,
    pub target: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrialResult {
    pub index: u32,
    pub started_at: String,
    pub complete: bool,
    /// Seconds of the measured part that actually ran (less than the duration if interrupted).
    pub measured_s: f64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    pub endpoints: Vec<EndpointResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointResult {
    pub name: String,
    /// Completed requests: successes and errors.
    pub requests: u64,
    pub errors: ErrorsWire,
    pub error_rate: f64,
    pub bytes_received: u64,
    /// Requests per second over the measured time.
    pub throughput_rps: f64,
    /// Latency of successful requests; absent when none succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Percentiles>,
    /// The latency histogram in µs: HdrHistogram V2 + deflate, base64.
    pub histogram: String,
    /// One entry per second of the measured part, in order.
    pub windows: Vec<WindowResult>,
    /// The first failure of each kind, described (secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_samples: Vec<ErrorSampleWire>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorSampleWire {
    /// `status 503`, `timeout`, `connect`, `reset`, `protocol`, `check` or `capture`.
    pub kind: String,
    pub message: String,
}

/// Keeps the first sample of each kind, at most `SAMPLES_PER_ENDPOINT` of them.
pub fn add_samples(into: &mut Vec<ErrorSampleWire>, more: &[ErrorSampleWire]) {
    for m in more {
        if into.len() < metrics::SAMPLES_PER_ENDPOINT && !into.iter().any(|s| s.kind == m.kind) {
            into.push(m.clone());
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ErrorsWire {
    pub total: u64,
    /// Unexpected statuses by code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, u64>,
    #[serde(default)]
    pub timeout: u64,
    #[serde(default)]
    pub connect: u64,
    #[serde(default)]
    pub reset: u64,
    /// Responses that were not valid HTTP.
    #[serde(default)]
    pub protocol: u64,
    #[serde(default)]
    pub check: u64,
    #[serde(default)]
    pub capture: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowResult {
    pub requests: u64,
    pub errors: u64,
    /// This second's latency histogram, encoded like `EndpointResult::histogram`.
    pub histogram: String,
}

/// Problems reading a result or baseline file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The JSON itself is broken (parsing stops there, so it is the one problem reported).
    #[error("{}:{line}:{column}: not a perfgate result: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: written by a newer perfgate (format \"{found}\"); this perfgate {} reads \"{FORMAT}\" — upgrade perfgate to read it", path.display(), env!("CARGO_PKG_VERSION"))]
    TooNew {
        path: PathBuf,
        line: usize,
        found: String,
    },
    #[error("{}:{line}: format \"{found}\" is not a perfgate result format (expected \"{FORMAT}\")", path.display())]
    UnknownFormat {
        path: PathBuf,
        line: usize,
        found: String,
    },
    /// Everything else that is wrong with the file, all of it, each at its line: fields of the
    /// wrong type, histograms that do not decode, counts that contradict each other.
    #[error("{0}")]
    Invalid(crate::config::FileProblems),
}

impl RunResult {
    pub fn read(path: &Path) -> Result<RunResult, ReadError> {
        let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match crate::input::utf8(bytes, "a perfgate result") {
            Ok(text) => Self::parse(&text, path),
            Err((at, message)) => Err(invalid(path, Some(at), message)),
        }
    }

    /// Parses and checks a result: the JSON, then the format version, then the structure (every
    /// field of the wrong type), then that every histogram decodes and the counts agree.
    pub fn parse(text: &str, path: &Path) -> Result<RunResult, ReadError> {
        if text.trim().is_empty() {
            return Err(invalid(path, None, "the file is empty, so it is not a perfgate result (a write or copy that was cut short?); record it again with `perfgate run`"));
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ReadError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column().max(1),
            message: crate::input::json_syntax_message(&e, text),
        })?;
        let Some(object) = value.as_object() else {
            return Err(invalid(path, Some((1, 1)), "a perfgate result is a JSON object that starts with {\"format\": \"perfgate/result/v1\", …"));
        };
        let format_at =
            crate::input::json_locate(text, &[crate::config::Seg::Key("format".into())]);
        let line = format_at.map_or(1, |(l, _)| l);
        let found = match object.get("format") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => return Err(invalid(path, format_at, format!("format: {other} is not a format; a perfgate result has \"format\": \"{FORMAT}\""))),
            None => return Err(invalid(path, Some((1, 1)), format!("there is no \"format\", so this is not a perfgate result; one starts with {{\"format\": \"{FORMAT}\", …"))),
        };
        match found.strip_prefix(FORMAT_PREFIX).map(|v| v.parse::<u32>()) {
            Some(Ok(MAJOR)) => {}
            Some(Ok(n)) if n > MAJOR => {
                return Err(ReadError::TooNew {
                    path: path.to_path_buf(),
                    line,
                    found,
                })
            }
            _ => {
                return Err(ReadError::UnknownFormat {
                    path: path.to_path_buf(),
                    line,
                    found,
                })
            }
        }
        crate::input::check_result(&value, text, path).map_err(ReadError::Invalid)
    }

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

    /// One endpoint over all trials, merged exactly.
    pub fn merged_endpoint(&self, name: &str) -> Option<EndpointResult> {
        let parts: Vec<&EndpointResult> = self
            .trials
            .iter()
            .flat_map(|t| t.endpoints.iter().filter(|e| e.name == name))
            .collect();
        let measured: f64 = self
            .trials
            .iter()
            .filter(|t| t.endpoints.iter().any(|e| e.name == name))
            .map(|t| t.measured_s)
            .sum();
        merge_endpoints(&parts, measured).ok()
    }
}

/// A `ReadError::Invalid` with one problem.
fn invalid(path: &Path, position: Option<(usize, usize)>, message: impl Into<String>) -> ReadError {
    ReadError::Invalid(crate::config::FileProblems {
        file: path.to_path_buf(),
        problems: vec![crate::config::Problem {
            position,
            key: String::new(),
            message: message.into(),
        }],
    })
}

/// The first 8 characters of a commit id, for display (any string: never cuts a character).
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(8).collect()
}

pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec cannot fail for a histogram we built.
    let _ = V2DeflateSerializer::new().serialize(h, &mut buf);
    base64::engine::general_purpose::STANDARD.encode(buf)
}

pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let v2 = hdr::plain_v2(&bytes)?;
    Deserializer::new()
        .deserialize(&mut &v2[..])
        .map_err(|e| match e {
            hdrhistogram::serialization::DeserializeError::IoError(_) => {
                "the encoded data ends early or does not inflate".to_string()
            }
            e => e.to_string(),
        })
}

pub fn percentiles(h: &Histogram<u64>) -> Option<Percentiles> {
    if h.is_empty() {
        return None;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Some(Percentiles {
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p99_9: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: h.mean().round() / 1000.0,
    })
}

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

impl ErrorsWire {
    fn merge(&mut self, o: &ErrorsWire) {
        self.total += o.total;
        for (k, v) in &o.status {
            *self.status.entry(k.clone()).or_default() += v;
        }
        self.timeout += o.timeout;
        self.connect += o.connect;
        self.reset += o.reset;
        self.protocol += o.protocol;
        self.check += o.check;
        self.capture += o.capture;
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
        throughput_rps: if measured_s > 0.0 {
            total.requests as f64 / measured_s
        } else {
            0.0
        },
        latency_ms: percentiles(&total.latency),
        histogram: encode_histogram(&total.latency),
        windows,
        error_samples: Vec::new(),
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Merges endpoint results (trials, shards) exactly: histograms and counts are summed, the
/// percentiles recomputed; windows are concatenated in order.
pub fn merge_endpoints(
    parts: &[&EndpointResult],
    measured_s: f64,
) -> Result<EndpointResult, String> {
    let first = parts.first().ok_or("nothing to merge")?;
    let mut hist = metrics::new_histogram();
    let mut errors = ErrorsWire::default();
    let (mut requests, mut bytes) = (0, 0);
    let mut windows = Vec::new();
    let mut samples = Vec::new();
    for p in parts {
        add_samples(&mut samples, &p.error_samples);
        hist.add(decode_histogram(&p.histogram)?)
            .map_err(|e| format!("{e:?}"))?;
        errors.merge(&p.errors);
        requests += p.requests;
        bytes += p.bytes_received;
        windows.extend(p.windows.iter().cloned());
    }
    Ok(EndpointResult {
        name: first.name.clone(),
        requests,
        error_rate: ratio(errors.total, requests),
        errors,
        bytes_received: bytes,
        throughput_rps: if measured_s > 0.0 {
            requests as f64 / measured_s
        } else {
            0.0
        },
        latency_ms: percentiles(&hist),
        histogram: encode_histogram(&hist),
        windows,
        error_samples: samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hist_of(values: &[u64]) -> Histogram<u64> {
        let mut h = metrics::new_histogram();
        for v in values {
            h.saturating_record(*v);
        }
        h
    }

    fn endpoint(values: &[u64], errors: u64) -> EndpointResult {
        let mut w = EndpointWindow::new();
        w.latency = hist_of(values);
        w.requests = values.len() as u64 + errors;
        w.errors.add(metrics::ErrorKind::Timeout, errors);
        endpoint_result("GET /x", &w, std::slice::from_ref(&w), 1.0)
    }

    proptest! {
        #[test]
        fn histograms_round_trip_losslessly(values in prop::collection::vec(1u64..10_000_000, 0..500)) {
            let h = hist_of(&values);
            let back = decode_histogram(&encode_histogram(&h)).unwrap();
            prop_assert_eq!(back.len(), h.len());
            for v in h.iter_recorded() {
                prop_assert_eq!(back.count_at(v.value_iterated_to()), v.count_at_value());
            }
        }

        #[test]
        fn merging_results_equals_recording_everything_in_one(
            a in prop::collection::vec(1u64..60_000_000, 1..300),
            b in prop::collection::vec(1u64..60_000_000, 1..300),
            ea in 0u64..20, eb in 0u64..20,
        ) {
            let merged = merge_endpoints(&[&endpoint(&a, ea), &endpoint(&b, eb)], 2.0).unwrap();
            let all: Vec<u64> = a.iter().chain(b.iter()).copied().collect();
            let direct = endpoint(&all, ea + eb);
            prop_assert_eq!(merged.requests, direct.requests);
            prop_assert_eq!(merged.errors.total, ea + eb);
            prop_assert_eq!(&merged.latency_ms, &direct.latency_ms);
            let (m, d) = (decode_histogram(&merged.histogram).unwrap(), decode_histogram(&direct.histogram).unwrap());
            prop_assert_eq!(m, d);
            prop_assert_eq!(merged.windows.len(), 2);
        }
    }

    fn sample() -> RunResult {
        RunResult {
            format: FORMAT.to_string(),
            complete: true,
            incomplete_reason: None,
            meta: Meta {
                perfgate_version: "0.1.0".into(),
                profile: ProfileMeta {
                    name: "t".into(),
                    path: "perfgate.toml".into(),
                    hash: "abc".into(),
                },
                git: None,
                started_at: "2026-01-01T00:00:00Z".into(),
                host: HostMeta {
                    cpu_model: "cpu".into(),
                    cores: 2,
                    os: "linux".into(),
                    kernel: String::new(),
                    fingerprint: "f".into(),
                },
                load: LoadMeta {
                    model: "closed".into(),
                    users: Some(1),
                    rate: None,
                    max_in_flight: None,
                    ramp_up_s: 0.0,
                    stages: vec![],
                    warmup_s: 0.0,
                    duration_s: 1.0,
                    trials: 1,
                    seed: 0,
                },
                base_url: "http://127.0.0.1:1".into(),
            },
            trials: vec![TrialResult {
                index: 0,
                started_at: "2026-01-01T00:00:00Z".into(),
                complete: true,
                measured_s: 1.0,
                iterations: 3,
                dropped_iterations: 0,
                endpoints: vec![endpoint(&[1000, 2000, 3000], 1)],
            }],
            client: None,
        }
    }

    #[test]
    fn a_result_survives_a_round_trip_through_json() {
        let r = sample();
        let text = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(RunResult::parse(&text, Path::new("r.json")).unwrap(), r);
    }

    #[test]
    fn a_newer_format_is_refused_with_a_clear_message() {
        let text = serde_json::to_string(&sample())
            .unwrap()
            .replace("perfgate/result/v1", "perfgate/result/v2");
        let e = RunResult::parse(&text, Path::new("new.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("newer perfgate") && e.contains("perfgate/result/v2"),
            "{e}"
        );
        let text = serde_json::to_string(&sample())
            .unwrap()
            .replace("perfgate/result/v1", "k6/summary");
        assert!(matches!(
            RunResult::parse(&text, Path::new("x.json")),
            Err(ReadError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn a_histogram_that_does_not_decode_is_named() {
        let mut r = sample();
        r.trials[0].endpoints[0].histogram = "AAAA".into();
        let text = serde_json::to_string(&r).unwrap();
        let e = RunResult::parse(&text, Path::new("b.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("GET /x") && e.contains("does not decode"), "{e}");
    }

    #[test]
    fn truncated_json_names_line_and_column() {
        let text = serde_json::to_string_pretty(&sample()).unwrap();
        let e = RunResult::parse(&text[..text.len() / 2], Path::new("t.json")).unwrap_err();
        assert!(matches!(e, ReadError::Json { line, .. } if line > 1), "{e}");
    }
}
