//! The result file (`perfgate/result/v1`): what a run measured, self-contained and mergeable.
//!
//! Pure wire types and what is done with them as data, with no tokio and no engine types
//! (ripgrep keeps its JSON wire types apart like this): `model` is the format, `read` and
//! `check` read a file someone may have broken, `merge` adds results exactly (and `shards` the
//! shards of one split run), `hdr` encodes the
//! histograms losslessly (HdrHistogram V2 + deflate, base64) so trials, stages and shards merge
//! exactly. Readers refuse a newer major version with a clear message.

mod check;
mod hdr;
mod merge;
mod model;
mod read;
mod shards;

pub use hdr::{
    decode_histogram, encode_histogram, new_histogram, percentiles, MAX_LATENCY_US, SIGFIG,
};
pub use merge::{
    add_samples, merge_endpoints, per_second, ratio, sum, MergeError, SAMPLES_PER_ENDPOINT,
};
pub use model::*;
pub use read::ReadError;
pub use shards::{merge_shards, ShardsError};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    use hdrhistogram::Histogram;

    fn hist_of(values: &[u64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values {
            h.saturating_record(*v);
        }
        h
    }

    /// An endpoint with these latencies and `errors` timeouts, in one window.
    pub(crate) fn endpoint(values: &[u64], errors: u64) -> EndpointResult {
        let h = hist_of(values);
        let requests = values.len() as u64 + errors;
        EndpointResult {
            name: "GET /x".into(),
            requests,
            errors: ErrorsWire {
                total: errors,
                timeout: errors,
                ..Default::default()
            },
            error_rate: ratio(errors, requests),
            bytes_received: 0,
            throughput_rps: requests as f64,
            latency_ms: percentiles(&h),
            histogram: encode_histogram(&h),
            windows: vec![WindowResult {
                requests,
                errors,
                histogram: encode_histogram(&h),
            }],
            error_samples: Vec::new(),
            summary_ms: None,
        }
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

    /// A one-trial, one-endpoint result, for tests elsewhere.
    pub(crate) fn sample() -> RunResult {
        RunResult {
            format: FORMAT.to_string(),
            complete: true,
            incomplete_reason: None,
            aborted: None,
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
                    max_trials: None,
                    seed: 0,
                    iterations_per_user: None,
                },
                base_url: "http://127.0.0.1:1".into(),
                source: None,
                shard: None,
                shards: None,
            },
            trials: vec![TrialResult {
                index: 0,
                started_at: "2026-01-01T00:00:00Z".into(),
                complete: true,
                measured_s: 1.0,
                iterations: 3,
                dropped_iterations: 0,
                endpoints: vec![endpoint(&[1000, 2000, 3000], 1)],
                stages: Vec::new(),
                load: Vec::new(),
                flows: Vec::new(),
                resources: None,
                start_unix_ms: None,
                late_ms: None,
                run: None,
            }],
            client: None,
            capacity: None,
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
