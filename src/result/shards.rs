//! The shards of one split run (`run --shard I/N`) merged into one ordinary result, exactly:
//! trial *j* of the merge is trial *j* of every shard, its endpoints', stages' and flows'
//! histograms added bucket by bucket and their counts summed, second *s* of the trial the sum of
//! every shard's second *s* (under a common start, the same wall-clock second). Before merging,
//! the files are checked to be the shards of one run: one profile, one run id and shard count,
//! every index once.

use std::collections::BTreeMap;

use super::hdr::{decode_histogram, encode_histogram, new_histogram, percentiles};
use super::merge::{add_samples, per_second, ratio, sum, MergeError};
use super::{
    EndpointResult, ErrorsWire, FlowResult, LoadWindow, MergedShards, RunResult, ShardMeta,
    ShardPart, StageResult, TrialResult, WindowResult,
};

/// Why files could not be merged as the shards of one run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShardsError {
    #[error("{0}: not a shard's result (it has no meta.shard); run each shard with `perfgate run --shard I/N`")]
    NotAShard(String),
    #[error("{file} is shard {index} of {count} of run `{run}`, but {first} is of run `{first_run}` with {first_count} shards: these are the shards of different runs")]
    DifferentRuns {
        file: String,
        index: u64,
        count: u64,
        run: String,
        first: String,
        first_run: String,
        first_count: u64,
    },
    #[error("{file} ran profile `{name}` ({hash}), {first} ran `{first_name}` ({first_hash}): the shards of one run run one profile")]
    DifferentProfiles {
        file: String,
        name: String,
        hash: String,
        first: String,
        first_name: String,
        first_hash: String,
    },
    #[error("shard {index} is given twice: {a} and {b}")]
    Duplicate { index: u64, a: String, b: String },
    #[error("{} of the {count} shards of run `{run}` missing; merge the others with --allow-partial, which marks the result incomplete", listed(.missing))]
    Missing {
        missing: Vec<u64>,
        count: u64,
        run: String,
    },
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// `shard 1 is` / `shards 1, 3 are`.
fn listed(missing: &[u64]) -> String {
    let ids: Vec<String> = missing.iter().map(u64::to_string).collect();
    match ids.as_slice() {
        [one] => format!("shard {one} is"),
        _ => format!("shards {} are", ids.join(", ")),
    }
}

impl ShardsError {
    /// Whether a shard did not deliver (the run was not carried out in full), rather than the
    /// files being wrong.
    pub fn is_missing(&self) -> bool {
        matches!(self, ShardsError::Missing { .. })
    }
}

/// Merges `parts` (each with the file it was read from) as the shards of one run. With
/// `allow_partial`, missing shards are allowed and named, and the result is incomplete.
// Called once per merge; the error names both files, so it is as large as it needs to be.
#[allow(clippy::result_large_err)]
pub fn merge_shards(
    parts: &[(String, RunResult)],
    allow_partial: bool,
) -> Result<RunResult, ShardsError> {
    let shards = one_run(parts)?;
    let (_, fr, fs) = shards[0];
    let missing: Vec<u64> = (0..fs.count)
        .filter(|i| !shards.iter().any(|(_, _, s)| s.index == *i))
        .collect();
    if !missing.is_empty() && !allow_partial {
        return Err(ShardsError::Missing {
            missing,
            count: fs.count,
            run: fs.run_id.clone(),
        });
    }

    let results: Vec<&RunResult> = shards.iter().map(|(_, r, _)| *r).collect();
    let mut incomplete: Vec<String> = Vec::new();
    if !missing.is_empty() {
        incomplete.push(format!(
            "merged without {} of {} shards",
            missing
                .iter()
                .map(|i| format!("shard {i}"))
                .collect::<Vec<_>>()
                .join(", "),
            fs.count
        ));
    }
    for (file, r, s) in &shards {
        if !r.complete {
            incomplete.push(format!(
                "shard {} ({file}) is incomplete{}",
                s.index,
                r.incomplete_reason
                    .as_deref()
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default()
            ));
        }
    }
    // Trial j is merged from every shard's trial j: only the trials all shards have.
    let trials = results.iter().map(|r| r.trials.len()).min().unwrap_or(0);
    let most = results.iter().map(|r| r.trials.len()).max().unwrap_or(0);
    if most > trials {
        incomplete.push(format!(
            "the shards ran {trials} to {most} trials; the first {trials} of each are merged"
        ));
    }
    let mut merged_trials = Vec::with_capacity(trials);
    let mut spread = Vec::with_capacity(trials);
    for j in 0..trials {
        let of_j: Vec<&TrialResult> = results.iter().map(|r| &r.trials[j]).collect();
        let starts: Vec<u64> = of_j.iter().filter_map(|t| t.start_unix_ms).collect();
        spread.push(match (starts.iter().min(), starts.iter().max()) {
            (Some(a), Some(b)) => (b - a) as f64,
            _ => 0.0,
        });
        merged_trials.push(merge_trial(&of_j)?);
    }

    let mut out = fr.clone();
    out.meta.shard = None;
    out.meta.started_at = results
        .iter()
        .map(|r| r.meta.started_at.clone())
        .min()
        .unwrap_or_default();
    out.meta.shards = Some(MergedShards {
        run_id: fs.run_id.clone(),
        count: fs.count,
        start_at: fs.start_at.clone(),
        parts: shards
            .iter()
            .map(|(file, r, s)| ShardPart {
                index: s.index,
                file: (*file).clone(),
                started_at: r.meta.started_at.clone(),
                host: r.meta.host.clone(),
                client: r.client.clone(),
                late_ms: r.trials.iter().filter_map(|t| t.late_ms).collect(),
            })
            .collect(),
        missing,
        trial_spread_ms: spread,
    });
    out.trials = merged_trials;
    // perfgate's own cost is per process: each shard's is kept in `meta.shards.parts`.
    out.client = None;
    out.complete = incomplete.is_empty();
    out.incomplete_reason = (!incomplete.is_empty()).then(|| incomplete.join("; "));
    out.aborted = results.iter().find_map(|r| r.aborted.clone());
    Ok(out)
}

/// The shards of `parts`, checked to be of one run and profile, sorted by index, each once.
#[allow(clippy::result_large_err, clippy::type_complexity)]
fn one_run(
    parts: &[(String, RunResult)],
) -> Result<Vec<(&String, &RunResult, &ShardMeta)>, ShardsError> {
    let mut shards = Vec::new();
    for (file, r) in parts {
        let s = r
            .meta
            .shard
            .as_ref()
            .ok_or_else(|| ShardsError::NotAShard(file.clone()))?;
        shards.push((file, r, s));
    }
    let Some(&(first, fr, fs)) = shards.first() else {
        return Err(MergeError::Empty.into());
    };
    for &(file, r, s) in &shards[1..] {
        if s.run_id != fs.run_id || s.count != fs.count {
            return Err(ShardsError::DifferentRuns {
                file: file.clone(),
                index: s.index,
                count: s.count,
                run: s.run_id.clone(),
                first: first.clone(),
                first_run: fs.run_id.clone(),
                first_count: fs.count,
            });
        }
        let (p, fp) = (&r.meta.profile, &fr.meta.profile);
        if p.hash != fp.hash {
            return Err(ShardsError::DifferentProfiles {
                file: file.clone(),
                name: p.name.clone(),
                hash: p.hash.clone(),
                first: first.clone(),
                first_name: fp.name.clone(),
                first_hash: fp.hash.clone(),
            });
        }
    }
    shards.sort_by_key(|(_, _, s)| s.index);
    for w in shards.windows(2) {
        if w[0].2.index == w[1].2.index {
            return Err(ShardsError::Duplicate {
                index: w[0].2.index,
                a: w[0].0.clone(),
                b: w[1].0.clone(),
            });
        }
    }
    Ok(shards)
}

/// Trial j of every shard as one trial.
fn merge_trial(parts: &[&TrialResult]) -> Result<TrialResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let measured_s = parts.iter().map(|t| t.measured_s).fold(0.0, f64::max);
    let mut iterations = 0u64;
    let mut dropped = 0u64;
    for t in parts {
        iterations = sum(iterations, t.iterations, "iterations")?;
        dropped = sum(dropped, t.dropped_iterations, "dropped iterations")?;
    }
    let stages = names(parts.iter().flat_map(|t| t.stages.iter().map(|s| &s.name)))
        .into_iter()
        .map(|name| {
            let of: Vec<&StageResult> = parts
                .iter()
                .filter_map(|t| t.stages.iter().find(|s| s.name == name))
                .collect();
            merge_stage(&of)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TrialResult {
        index: first.index,
        started_at: parts
            .iter()
            .map(|t| t.started_at.clone())
            .min()
            .unwrap_or_default(),
        complete: parts.iter().all(|t| t.complete),
        measured_s,
        iterations,
        dropped_iterations: dropped,
        endpoints: side_by_side(parts.iter().map(|t| &t.endpoints[..]), measured_s)?,
        stages,
        load: merge_load(parts.iter().map(|t| &t.load[..]))?,
        flows: merge_flows(parts.iter().map(|t| &t.flows[..]), measured_s)?,
        // The target, if a shard sampled it, is the same target: one shard's view of it.
        resources: parts.iter().find_map(|t| t.resources.clone()),
        start_unix_ms: parts.iter().filter_map(|t| t.start_unix_ms).min(),
        late_ms: parts.iter().filter_map(|t| t.late_ms).reduce(f64::max),
        run: None,
    })
}

fn merge_stage(parts: &[&StageResult]) -> Result<StageResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let measured_s = parts.iter().map(|s| s.measured_s).fold(0.0, f64::max);
    let (mut iterations, mut dropped) = (0u64, 0u64);
    for s in parts {
        iterations = sum(iterations, s.iterations, "iterations")?;
        dropped = sum(dropped, s.dropped_iterations, "dropped iterations")?;
    }
    Ok(StageResult {
        name: first.name.clone(),
        first_window: first.first_window,
        windows: first.windows,
        target: first.target,
        measured_s,
        iterations,
        dropped_iterations: dropped,
        endpoints: side_by_side(parts.iter().map(|s| &s.endpoints[..]), measured_s)?,
        flows: merge_flows(parts.iter().map(|s| &s.flows[..]), measured_s)?,
        resources: parts.iter().find_map(|s| s.resources.clone()),
    })
}

/// Names in first-seen order.
fn names<'a>(all: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in all {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// The endpoints of parts that ran at the same time: by name, histograms and counts added,
/// second *s* the sum of every part's second *s*.
fn side_by_side<'a>(
    parts: impl Iterator<Item = &'a [EndpointResult]> + Clone,
    measured_s: f64,
) -> Result<Vec<EndpointResult>, MergeError> {
    names(parts.clone().flat_map(|p| p.iter().map(|e| &e.name)))
        .into_iter()
        .map(|name| {
            let of: Vec<&EndpointResult> = parts
                .clone()
                .filter_map(|p| p.iter().find(|e| e.name == name))
                .collect();
            concurrent_endpoint(&of, measured_s)
        })
        .collect()
}

fn concurrent_endpoint(
    parts: &[&EndpointResult],
    measured_s: f64,
) -> Result<EndpointResult, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let mut hist = new_histogram();
    let mut errors = ErrorsWire::default();
    let (mut requests, mut bytes) = (0u64, 0u64);
    let mut samples = Vec::new();
    let len = parts.iter().map(|p| p.windows.len()).max().unwrap_or(0);
    let mut windows: Vec<(u64, u64, Option<hdrhistogram::Histogram<u64>>)> =
        vec![(0, 0, None); len];
    for p in parts {
        add_samples(&mut samples, &p.error_samples);
        let h = decode_histogram(&p.histogram).map_err(MergeError::Histogram)?;
        hist.add(&h)
            .map_err(|e| MergeError::Histogram(format!("{e:?}")))?;
        errors.merge(&p.errors)?;
        requests = sum(requests, p.requests, "requests")?;
        bytes = sum(bytes, p.bytes_received, "bytes received")?;
        for (slot, w) in windows.iter_mut().zip(&p.windows) {
            slot.0 = sum(slot.0, w.requests, "requests")?;
            slot.1 = sum(slot.1, w.errors, "errors")?;
            let h = decode_histogram(&w.histogram).map_err(MergeError::Histogram)?;
            let into = slot.2.get_or_insert_with(new_histogram);
            into.add(&h)
                .map_err(|e| MergeError::Histogram(format!("{e:?}")))?;
        }
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
        windows: windows
            .into_iter()
            .map(|(requests, errors, h)| WindowResult {
                requests,
                errors,
                histogram: encode_histogram(&h.unwrap_or_else(new_histogram)),
            })
            .collect(),
        error_samples: samples,
        summary_ms: None,
    })
}

/// Each second's load over the shards: users, iterations in flight, started, completed and
/// dropped add up; the level asked for is the whole run's, the same on every shard.
fn merge_load<'a>(
    parts: impl Iterator<Item = &'a [LoadWindow]>,
) -> Result<Vec<LoadWindow>, MergeError> {
    let mut out: Vec<LoadWindow> = Vec::new();
    for p in parts {
        for (i, w) in p.iter().enumerate() {
            match out.get_mut(i) {
                None => out.push(w.clone()),
                Some(o) => {
                    o.active_users = sum(o.active_users, w.active_users, "users")?;
                    o.in_flight = sum(o.in_flight, w.in_flight, "iterations")?;
                    o.started = sum(o.started, w.started, "iterations")?;
                    o.completed = sum(o.completed, w.completed, "iterations")?;
                    o.dropped = sum(o.dropped, w.dropped, "dropped iterations")?;
                }
            }
        }
    }
    Ok(out)
}

fn merge_flows<'a>(
    parts: impl Iterator<Item = &'a [FlowResult]> + Clone,
    measured_s: f64,
) -> Result<Vec<FlowResult>, MergeError> {
    names(parts.clone().flat_map(|p| p.iter().map(|f| &f.scenario)))
        .into_iter()
        .map(|name| {
            let mut hist = new_histogram();
            let (mut started, mut completed, mut failed) = (0u64, 0u64, 0u64);
            let mut failed_at: BTreeMap<String, u64> = BTreeMap::new();
            for f in parts
                .clone()
                .filter_map(|p| p.iter().find(|f| f.scenario == name))
            {
                started = sum(started, f.started, "iterations")?;
                completed = sum(completed, f.completed, "iterations")?;
                failed = sum(failed, f.failed, "iterations")?;
                for (k, v) in &f.failed_at {
                    let n = failed_at.entry(k.clone()).or_default();
                    *n = sum(*n, *v, "iterations")?;
                }
                let h = decode_histogram(&f.histogram).map_err(MergeError::Histogram)?;
                hist.add(&h)
                    .map_err(|e| MergeError::Histogram(format!("{e:?}")))?;
            }
            let ended = sum(completed, failed, "iterations")?;
            Ok(FlowResult {
                scenario: name,
                started,
                completed,
                failed,
                failed_at,
                completion_rate: if ended == 0 {
                    1.0
                } else {
                    ratio(completed, ended)
                },
                iterations_per_min: per_second(completed, measured_s) * 60.0,
                duration_ms: percentiles(&hist),
                histogram: encode_histogram(&hist),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::tests::{endpoint, sample};
    use crate::result::ShardMeta;
    use proptest::prelude::*;

    /// Shard `index` of `count` of run `run`, its one endpoint with these latencies (µs).
    fn shard(index: u64, count: u64, run: &str, values: &[u64]) -> (String, RunResult) {
        let mut r = sample();
        r.meta.shard = Some(ShardMeta {
            index,
            count,
            run_id: run.into(),
            start_at: None,
        });
        r.trials[0].endpoints = vec![endpoint(values, 0)];
        r.trials[0].iterations = values.len() as u64;
        (format!("shard-{index}.json"), r)
    }

    proptest! {
        #[test]
        fn the_merged_histogram_is_the_sum_of_the_shards(
            parts in proptest::collection::vec(proptest::collection::vec(1u64..5_000_000, 0..200), 1..6),
        ) {
            let n = parts.len() as u64;
            let files: Vec<(String, RunResult)> =
                parts.iter().enumerate().map(|(i, v)| shard(i as u64, n, "r", v)).collect();
            let merged = merge_shards(&files, false).unwrap();
            let all: Vec<u64> = parts.concat();
            let direct = endpoint(&all, 0);
            let e = &merged.trials[0].endpoints[0];
            prop_assert_eq!(e.requests, all.len() as u64);
            prop_assert_eq!(merged.trials[0].iterations, all.len() as u64);
            prop_assert_eq!(decode_histogram(&e.histogram).unwrap(), decode_histogram(&direct.histogram).unwrap());
            prop_assert_eq!(&e.latency_ms, &direct.latency_ms);
            // Second by second too: each shard's one window is the same second.
            prop_assert_eq!(e.windows.len(), 1);
            prop_assert_eq!(decode_histogram(&e.windows[0].histogram).unwrap(), decode_histogram(&direct.windows[0].histogram).unwrap());
            prop_assert!(merged.complete && merged.meta.shard.is_none());
            prop_assert_eq!(merged.meta.shards.as_ref().map(|s| s.parts.len() as u64), Some(n));
        }
    }

    #[test]
    fn shards_of_another_run_a_missing_or_a_repeated_shard_are_refused() {
        let a = shard(0, 3, "r1", &[1000]);
        let b = shard(1, 3, "r1", &[2000]);
        let c = shard(2, 3, "r1", &[3000]);
        let e = merge_shards(&[a.clone(), c.clone()], false).unwrap_err();
        assert!(e.is_missing());
        assert!(e.to_string().contains("shard 1"), "{e}");
        let partial = merge_shards(&[a.clone(), c.clone()], true).unwrap();
        assert!(!partial.complete);
        assert!(partial
            .incomplete_reason
            .unwrap()
            .contains("without shard 1"));
        assert_eq!(partial.meta.shards.unwrap().missing, vec![1]);
        let e = merge_shards(&[a.clone(), b.clone(), b.clone()], true).unwrap_err();
        assert!(matches!(e, ShardsError::Duplicate { index: 1, .. }), "{e}");
        let other = shard(2, 3, "r2", &[3000]);
        let e = merge_shards(&[a.clone(), b.clone(), other], false).unwrap_err();
        assert!(e.to_string().contains("different runs"), "{e}");
        let mut changed = c.clone();
        changed.1.meta.profile.hash = "other".into();
        let e = merge_shards(&[a.clone(), b.clone(), changed], false).unwrap_err();
        assert!(matches!(e, ShardsError::DifferentProfiles { .. }), "{e}");
        let plain = ("plain.json".to_string(), sample());
        let e = merge_shards(&[a.clone(), plain], false).unwrap_err();
        assert_eq!(e, ShardsError::NotAShard("plain.json".into()));
        // In any order.
        let m = merge_shards(&[c, a, b], false).unwrap();
        assert_eq!(m.trials[0].endpoints[0].requests, 3);
        let parts = m.meta.shards.unwrap().parts;
        assert_eq!(
            parts.iter().map(|p| p.index).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
    }

    #[test]
    fn the_load_of_each_second_adds_up_and_the_level_is_the_runs() {
        let w = |users, started| LoadWindow {
            stage: 0,
            asked: 10.0,
            active_users: users,
            in_flight: 0,
            started,
            completed: started,
            dropped: 0,
        };
        let mut a = shard(0, 2, "r", &[1000]);
        let mut b = shard(1, 2, "r", &[1000]);
        a.1.trials[0].load = vec![w(5, 7), w(5, 8)];
        b.1.trials[0].load = vec![w(5, 6), w(5, 9)];
        let m = merge_shards(&[a, b], false).unwrap();
        let load = &m.trials[0].load;
        assert_eq!(load.len(), 2);
        assert_eq!((load[0].active_users, load[0].started), (10, 13));
        assert_eq!((load[1].asked, load[1].completed), (10.0, 17));
    }
}
