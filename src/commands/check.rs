//! `perfgate check`: the command CI calls. Everything that can be checked before the load is
//! checked first (profile, data, rules, baseline, comparability), then the profile runs, the
//! result is compared with the baseline, the reports are written and the verdict published.

use std::path::PathBuf;
use std::sync::Arc;

use super::gate::{self, GateOptions, PublishOptions};
use super::progress::Progress;
use super::run::{self, RunOptions};
use crate::commands::failure::{Failure, Outcome};
use crate::compare::{self, Look, Verdict};
use crate::report;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub run: RunOptions,
    pub gate: GateOptions,
    pub publish: PublishOptions,
    /// Directory for report.md, report.json, junit.xml, report.html and the CSV files.
    pub report_dir: PathBuf,
    /// Gate another tool's results instead of running the profile: their format and files
    /// (one per trial), imported as `perfgate import` does.
    pub from: Option<(crate::import::Format, Vec<PathBuf>)>,
    /// Gate the merge of these shards' results (`run --shard I/N`) instead of running the
    /// profile.
    pub merge: Vec<PathBuf>,
}

pub async fn check(opts: CheckOptions) -> Result<Outcome, Failure> {
    if let Some((format, files)) = &opts.from {
        let result = crate::import::import(*format, files, format.tool())?;
        return given(&opts, result).await;
    }
    if !opts.merge.is_empty() {
        let result = super::merge::merged(&opts.merge, false)?;
        return given(&opts, result).await;
    }
    let profile = crate::config::load(&opts.run.profile, &opts.run.overrides)
        .map(Arc::new)
        .map_err(Failure::from);
    let (profile, th, base) = Failure::all3(
        profile,
        gate::thresholds(&opts.gate),
        gate::baseline(&opts.gate),
    )?;
    let base_names = base
        .as_ref()
        .map(|(b, _)| compare::names_of(&[b]))
        .unwrap_or_default();
    let names = gate::union(base_names, gate::profile_names(&profile));
    if let Some(e) = th.unmatched(&names) {
        return Err(Failure::Rules(e));
    }
    // The load is known before running: refuse a mismatch now rather than after the run.
    if let Some((base, _)) = &base {
        let mut planned = base.clone();
        planned.meta.profile.hash = profile.hash.clone();
        planned.meta.load = crate::meta::load_meta(&profile);
        gate::comparable(base, &planned, opts.gate.allow_mismatch)?;
    }

    let plan = Plan::new(profile.load.trials, profile.load.max_trials);
    let mut look = 0;
    let mut last = None;
    // After each batch: decide, and while something is inconclusive (and nothing failed), ask
    // for the next batch of current trials. Without a baseline there is nothing to add trials
    // for.
    let mut more = |r: &crate::result::RunResult| -> u32 {
        let Some((base, label)) = &base else {
            return 0;
        };
        look += 1;
        let c = compare::compare_at(
            base,
            r,
            &th,
            label,
            "current",
            Look {
                budget: Some(plan.max),
                ..Look::nth(&th, look, plan.looks)
            },
        );
        let undecided = c.count(Verdict::Inconclusive) > 0 && c.count(Verdict::Fail) == 0;
        last = Some(c);
        if undecided {
            plan.next(r.trials.len() as u32)
        } else {
            0
        }
    };
    let mut progress = Progress::auto(opts.run.quiet);
    let ran = run::execute(
        profile.clone(),
        opts.run.workers(),
        &mut progress,
        &mut more,
        th.aborts(),
    )
    .await?;
    drop(progress);
    run::save(&opts.run.output, &ran.result)?;
    if let Some(reason) = ran.stopped {
        print!("{}", report::summary::render(&ran.result)?);
        return Err(Failure::NotCompared(reason));
    }
    let added = ran.result.trials.len() as u32 - profile.load.trials;
    if added > 0 {
        eprintln!(
            "{} inconclusive after {} trials: {added} more run ({} in all)",
            profile.name,
            profile.load.trials,
            ran.result.trials.len()
        );
    }
    let c = match (last, &base) {
        (Some(c), _) => c,
        (None, Some((base, label))) => compare::compare(base, &ran.result, &th, label, "current"),
        (None, None) => compare::judge_alone(&ran.result, &th, "current"),
    };
    gate::conclude(
        &opts.report_dir,
        &opts.publish,
        &c,
        &ran.result,
        base.as_ref().map(|(b, _)| b),
    )
    .await
}

/// `check --from FORMAT FILE…` and `check --merge SHARD…`: a result made from files (another
/// tool's, imported; a split run's shards, merged) as the current run, judged and reported as a
/// run of the profile would be.
async fn given(opts: &CheckOptions, result: crate::result::RunResult) -> Result<Outcome, Failure> {
    let (th, base) = (gate::thresholds(&opts.gate)?, gate::baseline(&opts.gate)?);
    run::save(&opts.run.output, &result)?;
    let c = match &base {
        Some((b, label)) => {
            if let Some(e) = th.unmatched(&compare::names_of(&[b, &result])) {
                return Err(Failure::Rules(e));
            }
            gate::comparable(b, &result, opts.gate.allow_mismatch)?;
            compare::compare(b, &result, &th, label, "current")
        }
        None => compare::judge_alone(&result, &th, "current"),
    };
    gate::conclude(
        &opts.report_dir,
        &opts.publish,
        &c,
        &result,
        base.as_ref().map(|(b, _)| b),
    )
    .await
}

/// The trials a check may add: after the planned ones, at most two more looks at the evidence,
/// splitting the extra trials between them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    planned: u32,
    pub(super) max: u32,
    batch: u32,
    pub(super) looks: u32,
}

impl Plan {
    pub(super) fn new(planned: u32, max: u32) -> Plan {
        let extra = max.saturating_sub(planned);
        let batch = extra.div_ceil(2).max(1);
        let looks = 1 + extra.div_ceil(batch);
        Plan {
            planned,
            max: max.max(planned),
            batch,
            looks: if extra == 0 { 1 } else { looks },
        }
    }

    /// How many trials to add after `done`: a batch, or what is left of the budget.
    pub(super) fn next(&self, done: u32) -> u32 {
        self.batch
            .min(self.max.saturating_sub(done.max(self.planned)))
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;

    #[test]
    fn extra_trials_come_in_at_most_two_batches() {
        let p = Plan::new(5, 12);
        assert_eq!((p.batch, p.looks), (4, 3));
        assert_eq!((p.next(5), p.next(9), p.next(12)), (4, 3, 0));
        let none = Plan::new(5, 5);
        assert_eq!((none.looks, none.next(5)), (1, 0));
        let one = Plan::new(5, 6);
        assert_eq!(
            (one.batch, one.looks, one.next(5), one.next(6)),
            (1, 2, 1, 0)
        );
    }
}
