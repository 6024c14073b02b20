//! `perfgate merge`: the results of a split run's shards as one result, which `compare`,
//! `report` and `baseline save` take like any other.

use std::path::PathBuf;

use super::run;
use crate::commands::failure::{Failure, Outcome};
use crate::result::RunResult;

#[derive(Debug, Clone)]
pub struct MergeOptions {
    pub files: Vec<PathBuf>,
    pub output: PathBuf,
    pub allow_partial: bool,
}

/// Shards that began a trial further apart than this are said to have: their seconds are
/// merged by position in the trial.
const SPREAD_NOTE_MS: f64 = 250.0;

pub fn merge(opts: MergeOptions) -> Result<Outcome, Failure> {
    let merged = merged(&opts.files, opts.allow_partial)?;
    print!("{}", crate::report::summary::render(&merged)?);
    run::save(&opts.output, &merged)?;
    Ok(Outcome::Done)
}

/// The shards in `files` merged, with what a reader should know about them said on standard
/// error (`merge`, and `check --merge`).
pub(super) fn merged(files: &[PathBuf], allow_partial: bool) -> Result<RunResult, Failure> {
    let mut parts = Vec::new();
    for f in files {
        let r = RunResult::read(f).map_err(Failure::Current)?;
        parts.push((f.display().to_string(), r));
    }
    let merged = crate::result::merge_shards(&parts, allow_partial)?;
    if let Some(s) = &merged.meta.shards {
        let worst = s.trial_spread_ms.iter().copied().fold(0.0, f64::max);
        if worst > SPREAD_NOTE_MS {
            eprintln!(
                "note: the shards began their trials up to {} apart{}; their seconds are merged by position in the trial",
                crate::units::latency(worst),
                if s.start_at.is_none() { " (no common --start-at)" } else { "" }
            );
        }
        for p in &s.parts {
            if let Some(late) = p.late_ms.iter().copied().reduce(f64::max) {
                if late > super::shard::LATE_NOTE_MS {
                    eprintln!(
                        "note: shard {} ({}) began a trial {} after the common start",
                        p.index,
                        p.file,
                        crate::units::latency(late)
                    );
                }
            }
        }
        eprintln!(
            "merged {} of {} shards of run `{}`",
            s.parts.len(),
            s.count,
            s.run_id
        );
    }
    if let Some(why) = &merged.incomplete_reason {
        eprintln!("warning: the merged result is incomplete: {why}");
    }
    Ok(merged)
}
