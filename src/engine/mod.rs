//! The load engine: runs a profile's trials and returns what they measured.
//!
//! The load model (`shape`), the workers that apply it (`worker`), the requests (`request`) and
//! the recording (`crate::metrics`, `collector`) are independent pieces composed here; there is
//! no function per combination of options. Each trial starts all workers at one instant, runs
//! warmup + duration, and stops by itself; a stop signal (interrupt, target died) ends it early
//! and the trial is returned as incomplete.

mod collector;
pub mod direct;
pub mod request;
pub mod shape;
mod timer;
mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::config::{Model, Profile};
use crate::progress::Progress;
use crate::result::TrialResult;
use collector::TrialCollector;
use shape::Shape;

pub use collector::WindowSummary;
pub use worker::build_client;

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// SIGINT or SIGTERM.
    Interrupted(&'static str),
    /// The target process perfgate started exited during the run.
    TargetExited(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted(sig) => write!(f, "interrupted by {sig}"),
            StopReason::TargetExited(how) => write!(f, "the target exited during the run ({how})"),
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

pub async fn run(
    profile: Arc<Profile>,
    workers: usize,
    mut stop: watch::Receiver<Option<StopReason>>,
    progress: &mut Progress,
) -> Result<RunOutput, EngineError> {
    let load = &profile.load;
    let mut trials = Vec::new();
    let mut workers = workers.max(1);
    if let Model::Open { max_in_flight, .. } = load.model {
        // Each worker needs at least one in-flight slot of its own.
        workers = workers.min(max_in_flight.max(1) as usize);
    }
    for trial in 0..load.trials {
        if let Some(reason) = stop.borrow().clone() {
            return Ok(RunOutput {
                trials,
                stopped: Some(reason),
            });
        }
        let (sink, mut windows) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, mut ready) = tokio::sync::mpsc::unbounded_channel();
        let (start_tx, start_rx) = watch::channel(None);
        let (stop_workers, stop_rx) = watch::channel(false);
        let mut handles = Vec::new();
        for index in 0..workers {
            let spec = worker::WorkerSpec {
                profile: profile.clone(),
                trial,
                index: index as u64,
                count: workers as u64,
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
        drop(sink);
        drop(ready_tx);
        // Every worker begins at the same instant, once all are ready.
        let mut waiting = workers;
        while waiting > 0 && ready.recv().await.is_some() {
            waiting -= 1;
        }
        let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let trial_start = Instant::now() + Duration::from_millis(2);
        let measure_start = trial_start + load.warmup;
        let end = measure_start + load.duration;
        let _ = start_tx.send(Some(trial_start));

        let measured_windows = load.duration.as_secs_f64().ceil() as usize;
        let mut collector = TrialCollector::new(profile.endpoints.clone(), measured_windows);
        let shape = Shape::new(load.shape());
        let mut stopped: Option<StopReason> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                msg = windows.recv() => match msg {
                    Some(d) => collector.absorb(d),
                    None => break, // every worker is done
                },
                changed = stop.changed(), if stopped.is_none() => {
                    let reason = if changed.is_ok() { stop.borrow().clone() } else { None };
                    if let Some(reason) = reason {
                        stopped = Some(reason);
                        let _ = stop_workers.send(true);
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    let t = now.saturating_duration_since(trial_start);
                    let level = shape.level_at(t.as_secs_f64());
                    progress.update(&crate::progress::Status {
                        trial: trial + 1,
                        trials: load.trials,
                        elapsed: t,
                        length: load.trial_length(),
                        warmup: !load.warmup.is_zero() && now < measure_start,
                        level,
                        open: matches!(load.model, Model::Open { .. }),
                        last: collector.latest(),
                    });
                }
            }
        }
        for h in handles {
            match h.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(EngineError::Worker(e)),
                Err(_) => return Err(EngineError::Worker("a worker thread panicked".into())),
            }
        }
        let finished = Instant::now().min(end);
        let measured_s = finished
            .saturating_duration_since(measure_start)
            .as_secs_f64();
        let complete = stopped.is_none();
        let measured_s = if complete {
            load.duration.as_secs_f64()
        } else {
            measured_s
        };
        trials.push(collector.finish(trial, started_at, complete, measured_s));
        if stopped.is_some() {
            return Ok(RunOutput { trials, stopped });
        }
    }
    Ok(RunOutput {
        trials,
        stopped: None,
    })
}
