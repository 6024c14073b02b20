//! Every problem of a result file that parses as JSON — each field of the wrong type, each
//! histogram that does not decode, each count that contradicts another or would overflow when
//! summed — so a hand-edited file shows all that is wrong with it at once, each at its line.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::hdr::{decode_histogram, new_histogram, MAX_LATENCY_US};
use super::RunResult;
use crate::diag::json::{locate, plain_json};
use crate::diag::{key_path as key, path_string, FileProblems, Problem, Seg};

/// At most this many problems are listed for one result file; the rest are counted.
const MAX_PROBLEMS: usize = 50;

/// Every problem with a result file whose JSON is well formed and whose format version this
/// perfgate reads. `Ok` only when there are none.
pub fn check_result(value: &Value, text: &str, path: &Path) -> Result<RunResult, FileProblems> {
    let mut found: Vec<(Vec<Seg>, String)> = Vec::new();
    let result = match RunResult::deserialize(value) {
        Ok(r) => {
            consistency(&r, &mut found);
            Some(r)
        }
        Err(_) => {
            let (types, faults, patched) = type_problems(value);
            found = types;
            // With every wrong value replaced by a stand-in, the rest of the file can still be
            // checked; what the stand-ins themselves contradict is not the file's fault.
            if let Ok(r) = RunResult::deserialize(&patched) {
                let mut more = Vec::new();
                consistency(&r, &mut more);
                found.extend(
                    more.into_iter()
                        .filter(|(at, _)| !faults.iter().any(|f| at.starts_with(f))),
                );
            }
            None
        }
    };
    if found.is_empty() {
        if let Some(r) = result {
            return Ok(r);
        }
        // Deserialization failed but no problem was pinned down: say what serde said.
        let message = RunResult::deserialize(value).err().map_or_else(
            || "not a perfgate result".to_string(),
            |e| plain_json(&e.to_string()),
        );
        found.push((Vec::new(), message));
    }
    let more = found.len().saturating_sub(MAX_PROBLEMS);
    let mut problems: Vec<Problem> = found
        .into_iter()
        .take(MAX_PROBLEMS)
        .map(|(at, message)| Problem {
            position: locate(text, &at),
            key: path_string(&at),
            message,
        })
        .collect();
    problems.sort_by_key(|p| p.position);
    if more > 0 {
        problems.push(Problem {
            position: None,
            key: String::new(),
            message: format!("… and {more} more problems like these"),
        });
    }
    Err(FileProblems {
        file: path.to_path_buf(),
        problems,
    })
}

fn segments(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// The field serde says is missing, from "missing field `name`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// Sets (or, for a missing object field, inserts) the value at `path`.
fn set_at(v: &mut Value, path: &[Seg], new: Value) -> bool {
    match path {
        [] => {
            *v = new;
            true
        }
        [Seg::Key(k), rest @ ..] => match v {
            Value::Object(m) if rest.is_empty() => {
                m.insert(k.clone(), new);
                true
            }
            Value::Object(m) => m.get_mut(k).is_some_and(|c| set_at(c, rest, new)),
            _ => false,
        },
        [Seg::Index(i), rest @ ..] => match v {
            Value::Array(a) => a.get_mut(*i).is_some_and(|c| set_at(c, rest, new)),
            _ => false,
        },
    }
}

/// The first type error of `v`: the path of the value at fault (for a missing field, the field's
/// own path) and the message.
fn first_type_error(v: &Value) -> Option<(Vec<Seg>, Vec<Seg>, String)> {
    let e = serde_path_to_error::deserialize::<_, RunResult>(v).err()?;
    let at = segments(e.path());
    let message = e.inner().to_string();
    let mut fault = at.clone();
    if let Some(field) = missing_field(&message) {
        fault.push(Seg::Key(field));
    }
    Some((at, fault, plain_json(&message)))
}

/// Every value of the wrong type (and every missing field) in a result: serde stops at the first,
/// so each one found is replaced by a stand-in of a type that fits and the value read again.
///
/// Returns the problems, the paths of the values replaced, and the value with the stand-ins.
#[allow(clippy::type_complexity)]
fn type_problems(value: &Value) -> (Vec<(Vec<Seg>, String)>, Vec<Vec<Seg>>, Value) {
    let mut v = value.clone();
    let mut out = Vec::new();
    let mut faults = Vec::new();
    while out.len() < MAX_PROBLEMS {
        let Some((at, fault, message)) = first_type_error(&v) else {
            break;
        };
        let key = if missing_field(&message).is_some() {
            at
        } else {
            fault.clone()
        };
        out.push((key, message.clone()));
        // A stand-in of the type the message asks for first, then the others.
        let mut stand_ins = vec![
            Value::from(0u64),
            Value::from(0.0),
            Value::from(""),
            Value::from(false),
            Value::Array(Vec::new()),
            Value::Object(Default::default()),
            Value::Null,
        ];
        let first = if message.contains("whole number") {
            0
        } else if message.contains("a number") {
            1
        } else if message.contains("string") {
            2
        } else if message.contains("boolean") {
            3
        } else if message.contains("a list") {
            4
        } else {
            5
        };
        stand_ins.swap(0, first);
        let mut fixed = false;
        for s in stand_ins {
            let mut trial = v.clone();
            if !set_at(&mut trial, &fault, s) {
                break;
            }
            let moved_on = match first_type_error(&trial) {
                None => true,
                Some((_, next, _)) => !next.starts_with(&fault),
            };
            if moved_on {
                v = trial;
                fixed = true;
                break;
            }
        }
        faults.push(fault);
        if !fixed {
            break;
        }
    }
    (out, faults, v)
}

/// What a well-typed result can still get wrong: histograms that do not decode, counts that
/// contradict each other, negative times. Each is a sign of a truncated or hand-edited file.
fn consistency(r: &RunResult, out: &mut Vec<(Vec<Seg>, String)>) {
    let again = "record the result again with `perfgate run`";
    if r.complete && r.trials.is_empty() && r.capacity.is_none() {
        out.push((
            vec![Seg::Key("trials".into())],
            format!("a complete result has no trials, so there is nothing to compare; the file was edited — {again}"),
        ));
    }
    let mut indexes = std::collections::BTreeSet::new();
    // Running totals, as merging trials will compute them: a crafted count must not wrap.
    let mut totals: std::collections::BTreeMap<&str, EndpointTotals> = Default::default();
    let (mut iterations, mut dropped) = (0u64, 0u64);
    for (ti, t) in r.trials.iter().enumerate() {
        let tp = vec![Seg::Key("trials".into()), Seg::Index(ti)];
        if !indexes.insert(t.index) {
            out.push((
                key(&tp, &["index"]),
                format!(
                    "trial index {} appears twice; each trial has its own",
                    t.index
                ),
            ));
        }
        if t.measured_s < 0.0 {
            out.push((
                key(&tp, &["measured_s"]),
                format!(
                    "{} is not a duration; the measured seconds are ≥ 0",
                    t.measured_s
                ),
            ));
        }
        for (field, value, total) in [
            ("iterations", t.iterations, &mut iterations),
            ("dropped_iterations", t.dropped_iterations, &mut dropped),
        ] {
            match total.checked_add(value) {
                Some(v) => *total = v,
                None => out.push((key(&tp, &[field]), overflow(field, again))),
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (ei, e) in t.endpoints.iter().enumerate() {
            let mut ep = key(&tp, &["endpoints"]);
            ep.push(Seg::Index(ei));
            let who = format!("trial {}, endpoint \"{}\"", t.index, e.name);
            if !names.insert(e.name.as_str()) {
                out.push((
                    key(&ep, &["name"]),
                    format!("endpoint \"{}\" appears twice in trial {}; each endpoint is listed once per trial", e.name, t.index),
                ));
            }
            if e.throughput_rps < 0.0 {
                out.push((
                    key(&ep, &["throughput_rps"]),
                    format!(
                        "{who}: {} is not a throughput; requests per second are ≥ 0",
                        e.throughput_rps
                    ),
                ));
            }
            if e.errors.total > e.requests {
                out.push((
                    key(&ep, &["errors", "total"]),
                    format!("{who}: {} errors out of {} requests; errors are counted among the requests, so the counts were edited — {again}", e.errors.total, e.requests),
                ));
            }
            if let Err(what) = totals.entry(e.name.as_str()).or_default().add(e) {
                out.push((
                    key(&ep, &[what]),
                    format!("{who}: {}", overflow(what, again)),
                ));
            }
            match readable(&e.histogram) {
                Ok(h) => {
                    let successes = e.requests.saturating_sub(e.errors.total);
                    if h.len() > successes && e.errors.total <= e.requests {
                        out.push((
                            key(&ep, &["requests"]),
                            format!("{who}: {} requests less {} errors leave {successes} successful ones, but the histogram holds {} latencies; the counts were edited — {again}", e.requests, e.errors.total, h.len()),
                        ));
                    }
                }
                Err(m) => out.push((
                    key(&ep, &["histogram"]),
                    format!("{who}: the histogram does not decode ({m}); the file was truncated or edited — {again}"),
                )),
            }
            let bad: Vec<(usize, String)> = e
                .windows
                .iter()
                .enumerate()
                .filter_map(|(wi, w)| readable(&w.histogram).err().map(|m| (wi, m)))
                .collect();
            if let Some((first, m)) = bad.first() {
                let mut at = key(&ep, &["windows"]);
                at.push(Seg::Index(*first));
                at.push(Seg::Key("histogram".into()));
                let which: Vec<String> = bad.iter().map(|(i, _)| i.to_string()).collect();
                out.push((
                    at,
                    format!(
                        "{who}: the histogram of window{} {} does not decode ({m}); the file was truncated or edited — {again}",
                        if bad.len() == 1 { "" } else { "s" },
                        which.join(", ")
                    ),
                ));
            }
        }
    }
}

fn overflow(what: &str, again: &str) -> String {
    format!("the {what} of the trials add up to more than 2^64, more than any run counts; the counts were edited — {again}")
}

/// One endpoint's counts summed over the trials seen so far.
#[derive(Default)]
struct EndpointTotals {
    requests: u64,
    bytes: u64,
    errors: super::ErrorsWire,
}

impl EndpointTotals {
    /// Adds `e`; on overflow, the field that overflowed.
    fn add(&mut self, e: &super::EndpointResult) -> Result<(), &'static str> {
        self.requests = self.requests.checked_add(e.requests).ok_or("requests")?;
        self.bytes = self
            .bytes
            .checked_add(e.bytes_received)
            .ok_or("bytes_received")?;
        self.errors.merge(&e.errors).map_err(|_| "errors")
    }
}

/// A histogram that decodes and fits perfgate's bounds, so that merging it cannot fail.
fn readable(encoded: &str) -> Result<hdrhistogram::Histogram<u64>, String> {
    static TOP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let top = *TOP.get_or_init(|| new_histogram().highest_equivalent(MAX_LATENCY_US));
    let h = decode_histogram(encoded)?;
    if !h.is_empty() && h.max() > top {
        return Err(format!(
            "it holds latencies up to {} µs, beyond perfgate's one hour",
            h.max()
        ));
    }
    Ok(h)
}
