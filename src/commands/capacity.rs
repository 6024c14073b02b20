//! `perfgate capacity`: finds the highest load the service sustains within its SLO. The target
//! is started once and kept (or restarted for every level); each level runs the profile's
//! scenarios at that many users (or iterations per second) for a short warmup and a hold, is
//! judged (`capacity::judge`), and the search (`capacity::Search`) picks the next, until the
//! bracket is within the resolution or the time budget is spent. The result holds the curve.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::failure::{Failure, Outcome};
use super::progress::Progress;
use super::run::{self, Signals};
use crate::capacity::{judge, slo_of, Search};
use crate::config::{Model, Overrides, Profile};
use crate::engine::StopReason;
use crate::result::{CapacityLevel, CapacityResult};
use crate::target::TargetProcess;

/// What `perfgate capacity` is asked to do.
#[derive(Debug, Clone)]
pub struct CapacityOptions {
    pub profile: PathBuf,
    pub output: PathBuf,
    /// `--slo` and the other search settings go in `overrides.capacity`.
    pub overrides: Overrides,
    pub workers: Option<usize>,
    pub quiet: bool,
    /// A fresh target for every level (default: started once and kept).
    pub restart_per_level: bool,
}

pub async fn capacity(opts: CapacityOptions) -> Result<Outcome, Failure> {
    let profile = crate::config::load(&opts.profile, &opts.overrides)?;
    let c = profile.capacity.clone();
    let open = matches!(profile.load.model, Model::Open { .. });
    let unit = if open { "iterations/s" } else { "users" };
    if c.p50_ms.is_none() && c.p95_ms.is_none() && c.p99_ms.is_none() && c.error_rate.is_none() {
        eprintln!(
            "note: the [capacity] table gives no latency or error limit: the capacity is where throughput stops rising"
        );
    }
    let start = c.start.unwrap_or(match profile.load.model {
        Model::Closed { users } => users as f64,
        Model::Open { rate, .. } => rate,
    });
    let mut search = Search::new(start, c.step, c.resolution, !open);
    let slo = slo_of(&c);
    let workers = opts.workers.unwrap_or_else(crate::engine::default_workers);
    let signals = Signals::install();
    let dir = run::profile_dir(&profile);
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut kept: Option<TargetProcess> = None;
    if !opts.restart_per_level {
        let mut stop_rx = signals.stop.subscribe();
        kept = run::start_target(&profile, &dir, &mut stop_rx)
            .await
            .map_err(Failure::Run)?;
    }
    let begun = Instant::now();
    let per_level = c.warmup + c.hold;
    let mut levels: Vec<CapacityLevel> = Vec::new();
    let mut stopped: Option<StopReason> = None;
    let mut failure = None;
    eprintln!(
        "searching for the capacity: levels of {} warmup + {} hold, budget {}",
        humantime::format_duration(c.warmup),
        humantime::format_duration(c.hold),
        humantime::format_duration(c.budget)
    );
    while let Some(level) = search.next() {
        if begun.elapsed() + per_level > c.budget {
            eprintln!("the time budget is spent: stopping the search");
            break;
        }
        let at = at_level(&profile, level, opts.restart_per_level, kept.is_some());
        let mut progress = Progress::auto(opts.quiet);
        let ran = run::execute_in(
            &signals,
            Arc::new(at),
            workers,
            &mut progress,
            &mut |_| 0,
            Vec::new(),
            run::Within {
                kept: (!opts.restart_per_level).then_some(&mut kept),
                first_trial: 0,
            },
        )
        .await;
        drop(progress);
        let ran = match ran {
            Ok(r) => r,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let Some(trial) = ran.result.trials.first() else {
            stopped = ran.stopped.or(Some(StopReason::Interrupted("a signal")));
            break;
        };
        let below = levels
            .iter()
            .filter(|l| l.held && l.level < level)
            .max_by(|a, b| a.level.total_cmp(&b.level))
            .map(|l| (l.level, l.throughput_rps));
        let judged = judge(trial, level, &slo, open, below);
        eprintln!("{}", line(&judged, unit));
        if ran.stopped.is_some() || !trial.complete {
            // A level cut short is shown but not judged: its seconds are not a hold.
            levels.push(judged);
            stopped = ran.stopped;
            break;
        }
        search.record(level, judged.held);
        levels.push(judged);
        if signals.stopping().is_some() {
            stopped = signals.stopping();
            break;
        }
    }
    if let Some(tp) = kept.take() {
        tp.stop(profile.target.stop_timeout.max(Duration::from_millis(100)))
            .await;
        crate::target::wait_port_free(&profile.target.base_url, Duration::from_secs(5)).await;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let result_cap = answer(&search, &c, slo, levels, stopped.is_none(), unit);
    let mut result = run::empty_result(&profile, &dir, started_at);
    result.complete = stopped.is_none();
    result.incomplete_reason = stopped.as_ref().map(|r| r.to_string());
    result.client = crate::meta::client_stats();
    result.capacity = Some(result_cap);
    run::save(&opts.output, &result)?;
    if let Some(cap) = &result.capacity {
        print!("{}", crate::report::capacity::render(cap));
    }
    Ok(stopped.map_or(Outcome::Done, Outcome::Stopped))
}

/// The search's answer, for the result.
fn answer(
    search: &Search,
    c: &crate::config::Capacity,
    slo: crate::result::CapacitySlo,
    levels: Vec<CapacityLevel>,
    finished: bool,
    unit: &str,
) -> CapacityResult {
    let broke = search.broke();
    CapacityResult {
        unit: unit.to_string(),
        slo,
        capacity: search.held(),
        broke_at: broke,
        broke_because: broke.and_then(|b| {
            levels
                .iter()
                .find(|l| l.level == b && !l.held)
                .and_then(|l| l.why.clone())
        }),
        resolved: search.resolved() && finished,
        resolution: c.resolution,
        hold_s: c.hold.as_secs_f64(),
        warmup_s: c.warmup.as_secs_f64(),
        levels,
    }
}

/// The profile as one level runs it: the scenarios at `level`, no stages, no ramp, the
/// capacity warmup and hold, one trial; with a kept target, nothing to start.
fn at_level(profile: &Profile, level: f64, restart: bool, kept: bool) -> Profile {
    let c = &profile.capacity;
    let mut p = profile.clone();
    p.load.model = match p.load.model {
        Model::Closed { .. } => Model::Closed {
            users: level.round().max(1.0) as u64,
        },
        Model::Open { max_in_flight, .. } => Model::Open {
            rate: level,
            max_in_flight,
        },
    };
    p.load.stages.clear();
    p.load.ramp_up = Duration::ZERO;
    p.load.warmup = c.warmup;
    p.load.duration = c.hold;
    p.load.trials = 1;
    p.load.max_trials = 1;
    // A level is held for its whole length: users that stopped early would lower it.
    p.load.iterations_per_user = None;
    p.target.restart_per_trial = restart;
    if kept {
        p.target.start = None;
        p.target.ready = None;
    }
    p
}

/// One level as the search goes: `  200 users    1,234 req/s  p95 12.3 ms  0.00% errors  held`.
fn line(l: &CapacityLevel, unit: &str) -> String {
    let p95 = l
        .latency_ms
        .as_ref()
        .map_or("-".to_string(), |p| crate::units::latency(p.p95));
    format!(
        "  {} {unit}: {}, p95 {p95}, {} errors: {}",
        crate::units::level(l.level),
        crate::units::rate(l.throughput_rps),
        crate::units::percent(l.error_rate),
        match &l.why {
            None => "held".to_string(),
            Some(w) => format!("broke ({w})"),
        }
    )
}
