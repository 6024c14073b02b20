//! Locust's `--json-file` output: one entry per endpoint with its `response_times` — a real
//! histogram at Locust's resolution (times rounded to the millisecond below 100 ms, to two
//! significant digits above: fidelity `bucketed`) — and its requests and failures per second.
//! The seconds become the trial's windows with their counts; Locust keeps no latency per
//! second, so the windows' histograms stay empty and latency is compared between trials (one
//! file each). Locust times failures too and the file does not tell them apart: an endpoint
//! with failures keeps the successes' share of each bucket (`successes`). A failure's kind is
//! not in the file either, and is counted as a failed check.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::trial::{Outcome, TrialBuilder};
use super::ImportError;
use crate::metrics::ErrorKind;

#[derive(Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    method: Option<String>,
    num_requests: u64,
    #[serde(default)]
    num_failures: u64,
    #[serde(default)]
    response_times: BTreeMap<String, u64>,
    #[serde(default)]
    num_reqs_per_sec: BTreeMap<String, u64>,
    #[serde(default)]
    num_fail_per_sec: BTreeMap<String, u64>,
    #[serde(default)]
    total_content_length: u64,
}

fn number<T: std::str::FromStr>(key: &str, path: &str, file: &str) -> Result<T, ImportError> {
    key.parse().map_err(|_| ImportError::Key {
        file: file.to_string(),
        key: path.to_string(),
        message: format!("{key:?} is not a number"),
    })
}

/// The successes' share of each bucket. Locust's buckets hold failures' times too and the file
/// does not say which: each bucket loses the failures' share of it (largest remainders), so the
/// histogram counts exactly the successful requests, as perfgate's own do.
fn successes(times: &[(f64, u64)], failures: u64) -> Vec<(f64, u64)> {
    let total: u64 = times.iter().map(|t| t.1).sum();
    let keep = total.saturating_sub(failures);
    if keep == 0 || total == 0 {
        return Vec::new();
    }
    let share = |n: u64| (n as u128 * keep as u128) as f64 / total as f64;
    let mut out: Vec<(f64, u64)> = times
        .iter()
        .map(|&(ms, n)| (ms, share(n).floor() as u64))
        .collect();
    let mut left = keep - out.iter().map(|t| t.1).sum::<u64>();
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| {
        let frac = |i: usize| share(times[i].1).fract();
        frac(b).total_cmp(&frac(a))
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i].1 += 1;
        left -= 1;
    }
    out
}

/// Reads one `--json-file` into a trial; an error names the key.
pub fn read(text: &str, file: &str, t: &mut TrialBuilder) -> Result<(), ImportError> {
    let entries: Vec<Entry> = serde_json::from_str(text).map_err(|e| ImportError::At {
        file: file.to_string(),
        line: e.line(),
        message: format!(
            "not Locust's --json-file output ({e}); expected a list of entries with name, method, num_requests and response_times"
        ),
    })?;
    for (i, e) in entries.iter().enumerate() {
        let name = match &e.method {
            Some(m) if !m.is_empty() => format!("{m} {}", e.name),
            _ => e.name.clone(),
        };
        let at = |k: &str| format!("[{i}].{k}");
        let mut seconds: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for (s, n) in &e.num_reqs_per_sec {
            seconds
                .entry(number(s, &at("num_reqs_per_sec"), file)?)
                .or_default()
                .0 += n;
        }
        for (s, n) in &e.num_fail_per_sec {
            seconds
                .entry(number(s, &at("num_fail_per_sec"), file)?)
                .or_default()
                .1 += n;
        }
        for (key, sum, total) in [
            (
                "num_reqs_per_sec",
                seconds.values().map(|v| v.0).sum::<u64>(),
                e.num_requests,
            ),
            (
                "num_fail_per_sec",
                seconds.values().map(|v| v.1).sum::<u64>(),
                e.num_failures,
            ),
        ] {
            if sum != total {
                return Err(ImportError::Key {
                    file: file.to_string(),
                    key: at(key),
                    message: format!("its seconds add up to {sum}, the entry's total is {total}"),
                });
            }
        }
        for (second, (requests, failures)) in &seconds {
            t.count(
                &name,
                *second as f64,
                *requests,
                *failures,
                ErrorKind::Check,
            )
            .map_err(|m| ImportError::Key {
                file: file.to_string(),
                key: at("num_reqs_per_sec"),
                message: m,
            })?;
            t.until(*second as f64 + 1.0);
        }
        let mut times: Vec<(f64, u64)> = Vec::new();
        for (ms, n) in &e.response_times {
            times.push((number(ms, &at("response_times"), file)?, *n));
        }
        for (ms, n) in successes(&times, e.num_failures) {
            t.latency(&name, &Outcome::Ok { latency_ms: ms }, n);
        }
        t.bytes(&name, e.total_content_length);
    }
    if entries.is_empty() {
        return Err(ImportError::Empty {
            file: file.to_string(),
            what: "no entry".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::successes;

    #[test]
    fn failures_thin_the_buckets_to_the_successes_count() {
        let t = [(1.0, 10), (2.0, 5), (3.0, 1)];
        let s = successes(&t, 4);
        assert_eq!(s.iter().map(|x| x.1).sum::<u64>(), 12);
        assert!(s.iter().zip(&t).all(|(a, b)| a.1 <= b.1));
        assert!(successes(&t, 16).is_empty() && successes(&t, 99).is_empty());
        assert_eq!(successes(&t, 0), t.to_vec());
    }
}
