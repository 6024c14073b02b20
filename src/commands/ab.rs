//! `perfgate ab`: the base build and the head build measured on one runner, their trials
//! interleaved in pairs — base·head, head·base, base·head, … — each trial against a fresh
//! process of its build. What the machine does over the minutes of the run (a neighbour, a
//! thermal limit, a slower hour) falls on both sides alike, which a stored baseline cannot
//! offer, and the order within a pair alternates so that neither build always runs second. The
//! two results are then compared and reported as `check` does, the base as the baseline.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::check::Plan;
use super::failure::{Failure, Outcome};
use super::gate::{self, BaselineRef, GateOptions, PublishOptions};
use super::progress::Progress;
use super::run::{self, RunOptions, Signals, Within};
use crate::compare::{self, Look, Verdict};
use crate::config::Profile;
use crate::result::RunResult;

/// What `perfgate ab` is asked to do.
#[derive(Debug, Clone)]
pub struct AbOptions {
    /// The profile and its overrides; `output` is where the head's result goes.
    pub run: RunOptions,
    /// Where the base's result goes.
    pub base_output: PathBuf,
    /// How to start each build: the profile's `target.start` for that side's trials.
    pub base_start: String,
    pub head_start: String,
    /// The rules; None: thresholds.toml if it exists, else the built-in defaults.
    pub thresholds: Option<PathBuf>,
    pub publish: PublishOptions,
    pub report_dir: PathBuf,
}

/// One of the two builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    Base = 0,
    Head = 1,
}

impl Build {
    fn name(self) -> &'static str {
        match self {
            Build::Base => "base",
            Build::Head => "head",
        }
    }
}

/// The builds of pair `pair` (from 0) in the order they run: base first in even pairs, head
/// first in odd ones, so that a linear drift over the run adds as much to one side as to the
/// other after every two pairs.
fn order(pair: u32) -> [Build; 2] {
    if pair % 2 == 0 {
        [Build::Base, Build::Head]
    } else {
        [Build::Head, Build::Base]
    }
}

/// The profile one build's trials run: its own start command, one trial at a time (each
/// against a fresh process: the other build runs in between).
fn side(profile: &Profile, start: &str) -> Arc<Profile> {
    let mut p = profile.clone();
    p.target.start = Some(start.to_string());
    p.target.restart_per_trial = true;
    p.load.trials = 1;
    p.load.max_trials = 1;
    Arc::new(p)
}

pub async fn ab(opts: AbOptions) -> Result<Outcome, Failure> {
    let profile = crate::config::load(&opts.run.profile, &opts.run.overrides)?;
    let th = gate::thresholds(&GateOptions {
        baseline: BaselineRef::None,
        thresholds: opts.thresholds.clone(),
        allow_mismatch: false,
    })?;
    if let Some(e) = th.unmatched(&gate::profile_names(&profile)) {
        return Err(Failure::Rules(e));
    }
    for (flag, cmd) in [("--base", &opts.base_start), ("--head", &opts.head_start)] {
        if cmd.trim().is_empty() {
            return Err(Failure::Usage(format!(
                "{flag} is empty: give the command that starts that build, e.g. {flag} \"./target/release/server --port 8080\""
            )));
        }
    }
    let sides = [
        side(&profile, &opts.base_start),
        side(&profile, &opts.head_start),
    ];
    let dir = run::profile_dir(&profile);
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    // The results say what the whole run was (its trials, its load), not one trial's profile.
    let mut results = [
        run::empty_result(&profile, &dir, started_at.clone()),
        run::empty_result(&profile, &dir, started_at),
    ];
    // The checkout's commit is the head's (as in `check`); what `--base` runs was built from
    // something perfgate cannot see, so the base's result names no commit rather than the head's.
    results[Build::Base as usize].meta.git = None;
    let plan = Plan::new(profile.load.trials, profile.load.max_trials);
    let signals = Signals::install();
    let aborts = th.aborts();
    let workers = opts.run.workers();
    let (mut pairs, mut done, mut look) = (profile.load.trials, 0, 0);
    let c = loop {
        while done < pairs {
            for build in order(done) {
                if !opts.run.quiet {
                    eprintln!("pair {}/{pairs}: {}", done + 1, build.name());
                }
                let mut progress = Progress::auto(opts.run.quiet);
                let ran = run::execute_in(
                    &signals,
                    sides[build as usize].clone(),
                    workers,
                    &mut progress,
                    &mut |_| 0,
                    aborts.clone(),
                    Within {
                        kept: None,
                        first_trial: done,
                    },
                )
                .await;
                drop(progress);
                let ran = match ran {
                    Ok(r) => r,
                    Err(e) => {
                        let why = format!("the {} build failed in pair {}", build.name(), done + 1);
                        eprintln!("{why}");
                        save(&opts, &mut results, Some(&why))?;
                        return Err(e);
                    }
                };
                let r = &mut results[build as usize];
                r.trials.extend(ran.result.trials);
                r.client = ran.result.client;
                if let Some(reason) = ran.stopped {
                    r.aborted = ran.result.aborted;
                    save(&opts, &mut results, Some(&reason.to_string()))?;
                    for r in results.iter().filter(|r| !r.trials.is_empty()) {
                        print!("{}", crate::report::summary::render(r)?);
                    }
                    return Err(Failure::NotCompared(reason));
                }
            }
            done += 1;
        }
        look += 1;
        // Every planned pair has run: the results are whole (a later failure marks them
        // incomplete again), and the comparison must not warn that they are not.
        for r in &mut results {
            r.complete = true;
            r.incomplete_reason = None;
        }
        let c = compare::compare_at(
            &results[0],
            &results[1],
            &th,
            Build::Base.name(),
            Build::Head.name(),
            Look {
                budget: Some(plan.max),
                baseline_grows: true,
                ..Look::nth(&th, look, plan.looks)
            },
        );
        let undecided = c.count(Verdict::Inconclusive) > 0 && c.count(Verdict::Fail) == 0;
        let next = if undecided { plan.next(done) } else { 0 };
        if next == 0 {
            break c;
        }
        eprintln!(
            "{} inconclusive after {done} pairs: {next} more",
            profile.name
        );
        pairs += next;
    };
    save(&opts, &mut results, None)?;
    let [base, head] = &results;
    gate::conclude(&opts.report_dir, &opts.publish, &c, head, Some(base)).await
}

/// Writes both builds' results, complete or marked incomplete with `why` (nothing measured is
/// lost).
fn save(opts: &AbOptions, results: &mut [RunResult; 2], why: Option<&str>) -> Result<(), Failure> {
    for (r, path) in results
        .iter_mut()
        .zip([&opts.base_output, &opts.run.output])
    {
        r.complete = why.is_none();
        r.incomplete_reason = why.map(str::to_string);
        run::save(path, r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{order, Build};

    #[test]
    fn pairs_alternate_which_build_runs_first() {
        let runs: Vec<Build> = (0..4).flat_map(order).collect();
        use Build::{Base as B, Head as H};
        assert_eq!(runs, [B, H, H, B, B, H, H, B]);
        // Over every two pairs, each build holds each position once.
        let position = |b: Build| -> u32 {
            runs.iter()
                .enumerate()
                .filter(|(_, r)| **r == b)
                .map(|(i, _)| i as u32)
                .sum()
        };
        assert_eq!(position(B), position(H));
    }
}
