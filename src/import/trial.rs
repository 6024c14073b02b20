//! One imported run as a perfgate trial: requests added one at a time (or as counts), each at
//! its timestamp, into per-endpoint totals and 1-second windows counted from the run's first
//! request — the same histograms and counts a perfgate run records, so every report and test
//! of the gate works on it unchanged.

use std::collections::BTreeMap;

use crate::engine::convert::endpoint_result;
use crate::metrics::{EndpointWindow, ErrorKind};
use crate::result::{TrialResult, MAX_LATENCY_US};

/// The longest run an import accepts, in seconds: a week of 1-second windows.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

struct Endpoint {
    name: String,
    total: EndpointWindow,
    windows: Vec<EndpointWindow>,
}

#[derive(Default)]
pub struct TrialBuilder {
    /// Unix seconds of the first request seen.
    start: Option<f64>,
    /// Unix seconds of the last.
    end: f64,
    endpoints: Vec<Endpoint>,
    pub iterations: u64,
}

/// What one request was: its latency (a success) or how it failed.
pub enum Outcome {
    Ok { latency_ms: f64 },
    Failed(ErrorKind),
}

impl TrialBuilder {
    fn endpoint(&mut self, name: &str) -> &mut Endpoint {
        let i = match self.endpoints.iter().position(|e| e.name == name) {
            Some(i) => i,
            None => {
                self.endpoints.push(Endpoint {
                    name: name.to_string(),
                    total: EndpointWindow::new(),
                    windows: Vec::new(),
                });
                self.endpoints.len() - 1
            }
        };
        &mut self.endpoints[i]
    }

    /// The window of a request at `at` (Unix seconds), made if new; an error says why the time
    /// cannot be taken (a run longer than `MAX_SECONDS`).
    fn at(
        &mut self,
        name: &str,
        at: f64,
    ) -> Result<(&mut EndpointWindow, &mut EndpointWindow), String> {
        let start = *self.start.get_or_insert(at);
        let offset = at - start;
        if offset > MAX_SECONDS {
            return Err(format!(
                "this request is {offset:.0} s after the first one; an import takes runs of at most a week"
            ));
        }
        self.end = self.end.max(at);
        // A request timed a little before the first one seen (the tools' output is ordered by
        // when requests ended, roughly) belongs to the first second.
        let second = offset.max(0.0) as usize;
        let e = self.endpoint(name);
        if e.windows.len() <= second {
            e.windows.resize_with(second + 1, EndpointWindow::new);
        }
        Ok((&mut e.total, &mut e.windows[second]))
    }

    /// Adds `n` requests of one outcome at `at` (Unix seconds), to the totals and its second.
    pub fn add(&mut self, name: &str, at: f64, outcome: &Outcome, n: u64) -> Result<(), String> {
        let (total, window) = self.at(name, at)?;
        for w in [total, window] {
            w.requests += n;
            match outcome {
                Outcome::Ok { latency_ms } => record(w, *latency_ms, n),
                Outcome::Failed(kind) => w.errors.add(*kind, n),
            }
        }
        Ok(())
    }

    /// Adds the counts of one second whose latencies are not known per second (they go to the
    /// totals with `latency`): `requests`, of which `failures` failed as `kind`.
    pub fn count(
        &mut self,
        name: &str,
        at: f64,
        requests: u64,
        failures: u64,
        kind: ErrorKind,
    ) -> Result<(), String> {
        let (total, window) = self.at(name, at)?;
        for w in [total, window] {
            w.requests += requests;
            w.errors.add(kind, failures.min(requests));
        }
        Ok(())
    }

    /// Latencies known only for the whole run: `n` requests of this latency, in the totals.
    pub fn latency(&mut self, name: &str, outcome: &Outcome, n: u64) {
        if let Outcome::Ok { latency_ms } = outcome {
            record(&mut self.endpoint(name).total, *latency_ms, n);
        }
    }

    /// The run lasted at least until `at` (Unix seconds): the end of a second counted whole.
    pub fn until(&mut self, at: f64) {
        self.end = self.end.max(at);
    }

    /// Bytes received by an endpoint over the run.
    pub fn bytes(&mut self, name: &str, n: u64) {
        let e = self.endpoint(name);
        e.total.bytes_received = e.total.bytes_received.saturating_add(n);
    }

    /// The trial; None when no request was seen.
    pub fn finish(mut self, index: u32) -> Option<TrialResult> {
        let start = self.start?;
        let seconds = self
            .endpoints
            .iter()
            .map(|e| e.windows.len())
            .max()
            .unwrap_or(0);
        let measured_s = (self.end - start).max(1e-3);
        for e in &mut self.endpoints {
            e.windows.resize_with(seconds, EndpointWindow::new);
        }
        let endpoints = self
            .endpoints
            .iter()
            .map(|e| endpoint_result(&e.name, &e.total, &e.windows, measured_s))
            .collect();
        Some(trial(index, start, measured_s, self.iterations, endpoints))
    }
}

fn record(w: &mut EndpointWindow, latency_ms: f64, n: u64) {
    let us = (latency_ms * 1000.0)
        .round()
        .clamp(1.0, MAX_LATENCY_US as f64);
    w.latency.saturating_record_n(us as u64, n);
}

/// One endpoint of a source that reports only a summary: its counts and the latencies (ms) it
/// chose to report, by perfgate's metric names.
pub struct Summarized {
    pub name: String,
    pub requests: u64,
    pub errors: crate::metrics::ErrorCounts,
    pub latency_ms: BTreeMap<String, f64>,
}

/// A trial of summaries: counts and the reported latencies, no histogram, no seconds.
pub fn summary_trial(
    index: u32,
    start: f64,
    measured_s: f64,
    iterations: u64,
    eps: Vec<Summarized>,
) -> TrialResult {
    let endpoints = eps
        .into_iter()
        .map(|e| {
            let mut total = EndpointWindow::new();
            total.requests = e.requests;
            total.errors = e.errors;
            let mut r = endpoint_result(&e.name, &total, &[], measured_s);
            r.summary_ms = (!e.latency_ms.is_empty()).then_some(e.latency_ms);
            r
        })
        .collect();
    trial(index, start, measured_s, iterations, endpoints)
}

/// An imported trial: complete, without stages, per-second load, flows or resources.
fn trial(
    index: u32,
    start: f64,
    measured_s: f64,
    iterations: u64,
    endpoints: Vec<crate::result::EndpointResult>,
) -> TrialResult {
    TrialResult {
        index,
        started_at: rfc3339(start),
        complete: true,
        measured_s,
        iterations,
        dropped_iterations: 0,
        endpoints,
        stages: Vec::new(),
        load: Vec::new(),
        flows: Vec::new(),
        resources: None,
        start_unix_ms: None,
        late_ms: None,
        run: None,
    }
}

/// Unix seconds of an RFC 3339 time (`2026-12-02T17:57:41.836Z`, `…+01:00`); None when it is not one.
pub fn unix_seconds(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = t.get(19..)?;
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        frac = format!("0.{}", r.get(..digits)?).parse().ok()?;
        rest = r.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (
                rest.get(1..3)?.parse::<i64>().ok()?,
                rest.get(4..6)?.parse::<i64>().ok()?,
            );
            if rest.len() != 6 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) as f64 + frac)
}

/// Unix seconds as RFC 3339 UTC, to the millisecond.
pub fn rfc3339(unix: f64) -> String {
    let ms = (unix * 1000.0).round().max(0.0) as u64;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_with_fractions_and_offsets() {
        let z = unix_seconds("2026-12-02T17:57:41.83610469Z").unwrap();
        assert!((z - 1_796_234_261.836_1).abs() < 1e-3, "{z}");
        assert_eq!(
            unix_seconds("2026-12-02T18:57:41.5+01:00"),
            Some(1_796_234_261.5)
        );
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        for bad in [
            "",
            "2026-12-02",
            "2026-13-02T00:00:00Z",
            "2026-12-02T00:00:00",
            "2026-12-02T00:00:00+1",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
        assert_eq!(rfc3339(1_796_234_261.5), "2026-12-02T17:57:41.500Z");
    }

    #[test]
    fn requests_land_in_the_second_after_the_first_one() {
        let mut t = TrialBuilder::default();
        let ok = Outcome::Ok { latency_ms: 2.0 };
        t.add("GET /", 100.2, &ok, 1).unwrap();
        t.add("GET /", 100.1, &ok, 1).unwrap();
        t.add("GET /", 102.5, &Outcome::Failed(ErrorKind::Status(503)), 2)
            .unwrap();
        assert!(t.add("GET /", 100.0 + MAX_SECONDS + 1.0, &ok, 1).is_err());
        let r = t.finish(0).unwrap();
        let e = &r.endpoints[0];
        assert_eq!((e.requests, e.errors.total), (4, 2));
        assert_eq!(
            e.windows.iter().map(|w| w.requests).collect::<Vec<_>>(),
            [2, 0, 2]
        );
        assert!((r.measured_s - 2.3).abs() < 1e-9);
    }
}
