//! The load engine: runs a profile's trials and returns what they measured.
//!
//! The load model (`shape`), the workers that apply it (`worker`), the steps they send (`step`,
//! through a `transport`: the direct HTTP/1.1 client `http1` or reqwest), the recording
//! (`crate::metrics`, gathered by `collector`) and the conversion to the result file (`convert`)
//! are independent pieces composed here; there is no function per combination of options. Each
//! trial starts all workers at one instant, runs warmup + duration, and stops by itself; a stop
//! signal (interrupt, target died) ends it early and the trial is returned as incomplete. What
//! happens is told, as it happens, to an `events::Observer`.

mod collector;
pub mod convert;
pub mod events;
mod failure;
pub mod http1;
mod phases;
pub mod shape;
pub mod step;
mod timer;
pub mod transport;
pub mod user;
mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::config::{Model, Profile};
use crate::metrics::window_of;
use crate::result::TrialResult;
use collector::TrialCollector;
use events::{Event, Observer, Second};
use shape::Shape;

pub use transport::build_client;

/// How perfgate names itself to the target, in every request it sends.
pub const USER_AGENT: &str = concat!("perfgate/", env!("CARGO_PKG_VERSION"));

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// SIGINT or SIGTERM.
    Interrupted(&'static str),
    /// The target process perfgate started exited during the run.
    TargetExited(String),
    /// An `abort_on_fail` rule was breached for its grace period.
    Aborted(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted(sig) => write!(f, "interrupted by {sig}"),
            StopReason::TargetExited(how) => write!(f, "the target exited during the run ({how})"),
            StopReason::Aborted(why) => write!(f, "aborted: {why}"),
        }
    }
}

pub struct RunOutput {
    pub trials: Vec<TrialResult>,
    pub stopped: Option<StopReason>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot start engine worker thread: {0}")]
    Spawn(std::io::Error),
    #[error("engine worker failed: {0}")]
    Worker(String),
}

/// Number of workers when not given: one per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs the trials numbered `trials` of `profile` (`0..load.trials` for the planned ones; more
/// after them when a check adds trials) on `workers` threads until done or told to stop.
pub async fn run(
    profile: Arc<Profile>,
    trials: std::ops::Range<u32>,
    workers: usize,
    mut stop: watch::Receiver<Option<StopReason>>,
    observer: &mut dyn Observer,
) -> Result<RunOutput, EngineError> {
    let load = &profile.load;
    let mut workers = workers.max(1);
    if let Model::Open { max_in_flight, .. } = load.model {
        // Each worker needs at least one in-flight slot of its own (of this shard's share).
        let sh = &profile.shard;
        let mine = worker::share(max_in_flight, sh.index, sh.count.max(1));
        workers = workers.min(mine.max(1) as usize);
    }
    observer.event(&Event::RunStarted {
        trials: trials.len() as u32,
        workers,
    });
    let last = trials.end;
    let mut done = Vec::new();
    let mut stopped = None;
    for trial in trials {
        if let Some(reason) = stop.borrow().clone() {
            stopped = Some(reason);
            break;
        }
        let (result, reason) =
            run_trial(&profile, (trial, last), workers, &mut stop, observer).await?;
        observer.event(&Event::TrialEnded {
            trial,
            complete: result.complete,
        });
        done.push(result);
        if reason.is_some() {
            stopped = reason;
            break;
        }
    }
    observer.event(&Event::RunEnded {
        complete: stopped.is_none(),
    });
    Ok(RunOutput {
        trials: done,
        stopped,
    })
}

/// The workers of one trial, started and waiting for the common start instant.
struct Crew {
    handles: Vec<std::thread::JoinHandle<Result<(), String>>>,
    windows: tokio::sync::mpsc::UnboundedReceiver<crate::metrics::WindowData>,
    start: watch::Sender<Option<Instant>>,
    stop: watch::Sender<bool>,
}

async fn spawn_workers(
    profile: &Arc<Profile>,
    trial: u32,
    workers: usize,
) -> Result<Crew, EngineError> {
    let (sink, windows) = tokio::sync::mpsc::unbounded_channel();
    let (ready_tx, mut ready) = tokio::sync::mpsc::unbounded_channel();
    let (start, start_rx) = watch::channel(None);
    let (stop, stop_rx) = watch::channel(false);
    let mut handles = Vec::new();
    for index in 0..workers {
        // This shard's workers take its stripe of the global users or iterations.
        let (first, step) = profile.shard.stripe(index as u64, workers as u64);
        let spec = worker::WorkerSpec {
            profile: profile.clone(),
            trial,
            index: first,
            count: step,
            ready: Some(ready_tx.clone()),
            start: start_rx.clone(),
            sink: sink.clone(),
            stop: stop_rx.clone(),
        };
        let h = std::thread::Builder::new()
            .name(format!("perfgate-worker-{index}"))
            .spawn(move || worker::run(spec))
            .map_err(EngineError::Spawn)?;
        handles.push(h);
    }
    drop(ready_tx);
    // Every worker begins at the same instant, once all are ready.
    let mut waiting = workers;
    while waiting > 0 && ready.recv().await.is_some() {
        waiting -= 1;
    }
    Ok(Crew {
        handles,
        windows,
        start,
        stop,
    })
}

/// One trial (`trial` of the trials up to `last`): its result (complete or not) and why it
/// stopped early, if it did.
async fn run_trial(
    profile: &Arc<Profile>,
    (trial, last): (u32, u32),
    workers: usize,
    stop: &mut watch::Receiver<Option<StopReason>>,
    observer: &mut dyn Observer,
) -> Result<(TrialResult, Option<StopReason>), EngineError> {
    let load = &profile.load;
    let mut crew = spawn_workers(profile, trial, workers).await?;
    let (trial_start, wall_start, late) = begin(profile, trial, stop).await;
    let started_at = humantime::format_rfc3339_seconds(wall_start).to_string();
    let measure_start = trial_start + load.warmup;
    let end = measure_start + load.duration;
    let _ = crew.start.send(Some(trial_start));
    observer.event(&Event::TrialStarted {
        trial,
        started_at: &started_at,
    });

    let measured_windows = load.duration.as_secs_f64().ceil() as usize;
    let shape = Shape::new(load.shape());
    let warmup = load.warmup.as_secs_f64();
    let asked = (0..measured_windows.max(1))
        .map(|w| shape.level_at(warmup + w as f64 + 0.5))
        .collect();
    let phases = load.phases();
    let mut collector = TrialCollector::new(
        profile.endpoints.clone(),
        profile.scenarios.iter().map(|s| s.name.clone()).collect(),
        phases.clone(),
        asked,
    );
    let stage_ends = stage_ends(profile);
    let mut stage = None;
    // A stop asked for while waiting for a common start.
    let mut stopped: Option<StopReason> = stop.borrow().clone();
    if stopped.is_some() {
        let _ = crew.stop.send(true);
    }
    // A second is summarised a moment after it ends, once the workers have sent it.
    let mut next_second = window_of(measure_start, trial_start);
    let last_second = measured_windows as i64 - 1;
    // Every worker has sent its last second; the seconds not yet summarised still are (the
    // last one ends as the workers do), unless the run is stopping.
    let mut workers_done = false;
    loop {
        if workers_done && (stopped.is_some() || next_second > last_second) {
            break;
        }
        let due = second_end(measure_start, next_second) + SECOND_GRACE;
        tokio::select! {
            msg = crew.windows.recv(), if !workers_done => match msg {
                Some(d) => collector.absorb(d),
                None => workers_done = true,
            },
            changed = stop.changed(), if stopped.is_none() => {
                let reason = if changed.is_ok() { stop.borrow().clone() } else { None };
                if let Some(reason) = reason {
                    observer.event(&Event::Stopping(&reason));
                    stopped = Some(reason);
                    let _ = crew.stop.send(true);
                }
            }
            _ = tokio::time::sleep_until(due.into()), if next_second <= last_second && stopped.is_none() => {
                let now = Instant::now();
                let t = now.saturating_duration_since(trial_start).as_secs_f64();
                let index = stage_ends.iter().position(|&e| t < e).unwrap_or(stage_ends.len().saturating_sub(1));
                if stage != Some(index) {
                    stage = Some(index);
                    let target = load.stages.get(index).map_or_else(|| shape.level_at(t), |s| s.target);
                    observer.event(&Event::StageStarted { trial, index, target });
                }
                let (endpoints, total) = collector.take_second(next_second);
                observer.event(&Event::Second(&Second {
                    trial,
                    trials: last,
                    window: next_second,
                    elapsed: now.saturating_duration_since(trial_start),
                    length: load.trial_length(),
                    level: shape.level_at(t),
                    open: matches!(load.model, Model::Open { .. }),
                    stage: usize::try_from(next_second)
                        .ok()
                        .map(|w| phases[crate::config::Load::phase_of(&phases, w)].name.clone()),
                    endpoints,
                    total,
                }));
                next_second += 1;
            }
        }
    }
    for h in crew.handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(EngineError::Worker(e)),
            Err(_) => return Err(EngineError::Worker("a worker thread panicked".into())),
        }
    }
    let complete = stopped.is_none();
    let measured_s = if complete {
        load.duration.as_secs_f64()
    } else {
        let finished = Instant::now().min(end);
        finished
            .saturating_duration_since(measure_start)
            .as_secs_f64()
    };
    let mut result = collector.finish(trial, started_at, complete, measured_s);
    result.start_unix_ms = wall_start
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as u64);
    result.late_ms = late.map(|d| d.as_secs_f64() * 1000.0);
    Ok((result, stopped))
}

/// When trial `trial` begins: at once, or under a common start (shards on several machines)
/// when it is due — at once if this shard is late, which the result says (how late; zero when
/// on time). Waits for the start with the workers ready, still answering a stop.
async fn begin(
    profile: &Profile,
    trial: u32,
    stop: &mut watch::Receiver<Option<StopReason>>,
) -> (Instant, SystemTime, Option<Duration>) {
    let due = profile
        .shard
        .trial_due(&profile.load, profile.target.request_timeout, trial);
    let soon = SystemTime::now() + Duration::from_millis(2);
    let (wall_start, late) = match due {
        Some(at) if at >= soon => (at, Some(Duration::ZERO)),
        Some(at) => (soon, soon.duration_since(at).ok()),
        None => (soon, None),
    };
    let wait = wall_start
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let trial_start = Instant::now() + wait;
    if !wait.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep_until(trial_start.into()) => {}
            _ = stop.wait_for(Option::is_some) => {}
        }
    }
    (trial_start, wall_start, late)
}

/// How long after a second ends it is summarised: the workers send theirs 5 ms after it.
const SECOND_GRACE: Duration = Duration::from_millis(50);

/// When second `w` (counted from `measure_start`, negative in the warmup) ends.
fn second_end(measure_start: Instant, w: i64) -> Instant {
    let k = w.saturating_add(1);
    if k >= 0 {
        measure_start + Duration::from_secs(k as u64)
    } else {
        measure_start
            .checked_sub(Duration::from_secs(k.unsigned_abs()))
            .unwrap_or(measure_start)
    }
}

/// When each stage ends, in seconds since the trial's start (one stage, the whole trial, for a
/// profile without stages).
fn stage_ends(profile: &Profile) -> Vec<f64> {
    let mut t = 0.0;
    let ends: Vec<f64> = profile
        .load
        .stages
        .iter()
        .map(|s| {
            t += s.duration.as_secs_f64();
            t
        })
        .collect();
    if ends.is_empty() {
        vec![profile.load.trial_length().as_secs_f64()]
    } else {
        ends
    }
}
