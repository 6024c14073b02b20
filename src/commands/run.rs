//! `perfgate run`: start the target if asked, wait until it is ready, run the profile, stop the
//! target, write the result (also when interrupted: marked incomplete), print the summary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::abort::AbortWatch;
use super::failure::{Failure, Outcome, RunError};
use super::progress::Progress;
use super::resources::TargetSampler;
use crate::compare::rules::{Abort, Thresholds};
use crate::config::{Overrides, Profile};
use crate::engine::events::{Observer, Observers};
use crate::engine::{self, StopReason};
use crate::result::{Meta, ProfileMeta, RunResult, FORMAT};
use crate::target::{self, TargetProcess};

/// What `perfgate run` is asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub profile: PathBuf,
    pub output: PathBuf,
    pub overrides: Overrides,
    /// Engine threads; None: one per core.
    pub workers: Option<usize>,
    /// No progress line.
    pub quiet: bool,
    /// The rules whose `abort_on_fail` limits may stop the run (`perfgate run -t`); None:
    /// thresholds.toml when it exists.
    pub thresholds: Option<PathBuf>,
    /// `run --shard`, `--start-at`, `--run-id` (none: the whole load, now).
    pub shard: super::shard::ShardOptions,
}

impl RunOptions {
    pub fn workers(&self) -> usize {
        self.workers.unwrap_or_else(engine::default_workers)
    }
}

pub async fn run(opts: RunOptions) -> Result<Outcome, Failure> {
    let mut profile = crate::config::load(&opts.profile, &opts.overrides)?;
    let env = |k: &str| std::env::var(k).ok();
    profile.shard = super::shard::resolve(&opts.shard, &env)?;
    super::shard::check_target(&profile)?;
    let profile = Arc::new(profile);
    let path = opts
        .thresholds
        .clone()
        .unwrap_or_else(|| PathBuf::from("thresholds.toml"));
    let rules = Thresholds::load(&path, opts.thresholds.is_some()).map_err(Failure::Rules)?;
    let mut progress = Progress::auto(opts.quiet);
    let ran = execute(
        profile,
        opts.workers(),
        &mut progress,
        &mut |_| 0,
        rules.aborts(),
    )
    .await?;
    drop(progress);
    save(&opts.output, &ran.result)?;
    if let Some(warning) = super::shard::lateness(&ran.result) {
        eprintln!("{warning}");
    }
    print!("{}", crate::report::summary::render(&ran.result)?);
    Ok(ran.stopped.map_or(Outcome::Done, Outcome::Stopped))
}

/// A run's result, and why it stopped early if it did.
pub struct Ran {
    pub result: RunResult,
    pub stopped: Option<StopReason>,
}

/// Writes the result atomically (complete or not: nothing measured is lost).
pub fn save(path: &Path, result: &RunResult) -> Result<(), Failure> {
    let json = result.to_json().map_err(Failure::Serialize)?;
    crate::fsutil::write_atomic(path, &json).map_err(|source| Failure::WriteResult {
        path: path.to_path_buf(),
        source,
    })?;
    eprintln!("result written to {}", path.display());
    Ok(())
}

/// Listens for SIGINT, SIGTERM and SIGHUP: the first asks for an orderly stop (the partial
/// result is written); a second one kills the target's process group and says so on `killed`,
/// so that the command stops at once.
fn watch_signals(
    stop: Arc<watch::Sender<Option<StopReason>>>,
    killed: watch::Sender<Option<&'static str>>,
) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        let mut first = true;
        loop {
            let sig = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            };
            if first {
                first = false;
                eprintln!("\n{sig}: stopping (again to stop at once)");
                stop.send_replace(Some(StopReason::Interrupted(sig)));
            } else {
                target::kill_active_group();
                killed.send_replace(Some(sig));
            }
        }
    });
}

/// Runs the profile against its target and returns the result, complete or not: the planned
/// trials, then more while `more` asks for them. A second signal ends it at once with
/// `Failure::Killed`.
pub async fn execute(
    profile: Arc<Profile>,
    workers: usize,
    observer: &mut dyn Observer,
    more: More<'_>,
    aborts: Vec<Abort>,
) -> Result<Ran, Failure> {
    let signals = Signals::install();
    execute_in(
        &signals,
        profile,
        workers,
        observer,
        more,
        aborts,
        Within::default(),
    )
    .await
}

/// How the caller arranges a run's trials, when it does (`capacity`, `ab`): a target it
/// started and keeps running (none is then started or stopped here), and the number of the
/// first trial (trials carry their number: the seeds of their users depend on it).
#[derive(Default)]
pub(super) struct Within<'a> {
    pub(super) kept: Option<&'a mut Option<TargetProcess>>,
    pub(super) first_trial: u32,
}

/// The command's signal handling, installed once: `stop` asks the run for an orderly stop,
/// `killed` says a second signal came.
pub(super) struct Signals {
    pub(super) stop: Arc<watch::Sender<Option<StopReason>>>,
    killed: watch::Receiver<Option<&'static str>>,
}

impl Signals {
    pub(super) fn install() -> Signals {
        let stop = Arc::new(watch::channel(None).0);
        let (killed_tx, killed) = watch::channel(None);
        watch_signals(stop.clone(), killed_tx);
        Signals { stop, killed }
    }

    /// Whether the user asked to stop.
    pub(super) fn stopping(&self) -> Option<StopReason> {
        self.stop.borrow().clone()
    }
}

/// `execute` under signals installed by the caller, its trials arranged `within` what the caller
/// says.
pub(super) async fn execute_in(
    signals: &Signals,
    profile: Arc<Profile>,
    workers: usize,
    observer: &mut dyn Observer,
    more: More<'_>,
    aborts: Vec<Abort>,
    within: Within<'_>,
) -> Result<Ran, Failure> {
    crate::limits::check_open_files(&profile).map_err(RunError::TooManyConnections)?;
    let mut killed = signals.killed.clone();
    let stop = signals.stop.clone();
    tokio::select! {
        r = execute_until_stopped(profile, workers, stop, observer, more, aborts, within) => r,
        sig = killed.wait_for(Option::is_some) => {
            let sig = sig.ok().and_then(|s| *s).unwrap_or("a signal");
            Err(Failure::Killed(sig))
        }
    }
}

/// Starts the target if the profile says how, and waits until it is ready.
pub(super) async fn start_target(
    profile: &Profile,
    dir: &Path,
    stop: &mut watch::Receiver<Option<StopReason>>,
) -> Result<Option<TargetProcess>, RunError> {
    let t = &profile.target;
    let mut target = None;
    if let Some(cmd) = &t.start {
        if target::port_in_use(&t.base_url).await {
            let addr = format!(
                "{}:{}",
                t.base_url.host_str().unwrap_or(""),
                t.base_url.port_or_known_default().unwrap_or(0)
            );
            return Err(target::TargetError::PortInUse { addr }.into());
        }
        // Only the program: the rest of the command line may carry credentials.
        let program = cmd.split_whitespace().next().unwrap_or_default();
        eprintln!("starting the target ({program} …)");
        target = Some(TargetProcess::start(cmd, dir)?);
    }
    if t.start.is_some() || t.ready.is_some() {
        let client = engine::build_client(profile).map_err(RunError::Client)?;
        let ready = target::wait_ready(
            &client,
            &t.base_url,
            t.ready.as_deref(),
            t.ready_timeout,
            target.as_mut(),
        );
        tokio::select! {
            r = ready => r?,
            _ = stop.wait_for(|s| s.is_some()) => {
                if let Some(tp) = target.take() {
                    tp.stop(t.stop_timeout).await;
                }
                return Err(RunError::InterruptedEarly);
            }
        }
    }
    Ok(target)
}

/// Decides, from the result so far, how many more trials to run (0: none).
pub type More<'a> = &'a mut dyn FnMut(&RunResult) -> u32;

async fn execute_until_stopped(
    profile: Arc<Profile>,
    workers: usize,
    stop: Arc<watch::Sender<Option<StopReason>>>,
    observer: &mut dyn Observer,
    more: More<'_>,
    aborts: Vec<Abort>,
    within: Within<'_>,
) -> Result<Ran, Failure> {
    let Within { kept, first_trial } = within;
    let mut watch = AbortWatch::new(aborts, profile.endpoints.clone(), stop.clone());
    let (mut sampler, resources) = TargetSampler::new(profile.target.watch.clone());
    let mut observers = Observers(vec![observer, &mut watch]);
    if let Some(s) = sampler.as_mut() {
        observers.0.push(s);
    }
    let observer: &mut dyn Observer = &mut observers;
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    for n in &profile.notes {
        eprintln!("note: {n}");
    }
    let dir = profile_dir(&profile);
    let mut stop_rx = stop.subscribe();
    let keep = kept.is_some();
    let mut own;
    let target: &mut Option<TargetProcess> = match kept {
        Some(slot) => slot,
        None => {
            own = start_target(&profile, &dir, &mut stop_rx).await?;
            &mut own
        }
    };
    resources.target_started(target.as_ref().and_then(TargetProcess::pid));
    let t = &profile.target;
    let mut result = empty_result(&profile, &dir, started_at);
    // The planned trials, then as many more as `more` asks for, against the same target.
    let mut batch = first_trial..first_trial.saturating_add(profile.load.trials);
    let restart = profile.target.restart_per_trial;
    let mut fresh = true;
    let outcome: Result<Option<StopReason>, RunError> = loop {
        // With a fresh target per trial, a batch runs one trial at a time.
        let segment = if restart {
            batch.start..(batch.start + 1).min(batch.end)
        } else {
            batch.clone()
        };
        if !fresh && !keep {
            if let Some(tp) = target.take() {
                tp.stop(t.stop_timeout.max(Duration::from_millis(100)))
                    .await;
                // A killed process is gone a moment later, its listening socket with it.
                target::wait_port_free(&t.base_url, Duration::from_secs(5)).await;
            }
            match start_target(&profile, &dir, &mut stop_rx).await {
                Ok(tp) => *target = tp,
                Err(e) => break Err(e),
            }
            resources.target_started(target.as_ref().and_then(TargetProcess::pid));
        }
        fresh = !restart;
        let output = load(&profile, segment.clone(), workers, &stop, target, observer).await;
        let output = match output {
            Ok(o) => o,
            Err(e) => break Err(e.into()),
        };
        result.trials.extend(output.trials);
        resources.fill(&mut result.trials);
        result.complete = output.stopped.is_none();
        if output.stopped.is_some() {
            break Ok(output.stopped);
        }
        if segment.end < batch.end {
            batch = segment.end..batch.end;
            continue;
        }
        let next = more(&result);
        if next == 0 {
            break Ok(None);
        }
        batch = batch.end..batch.end.saturating_add(next);
    };
    if let Some(tp) = if keep { None } else { target.take() } {
        let tail = tp.tail();
        let died = matches!(stop_rx.borrow().as_ref(), Some(StopReason::TargetExited(_)));
        tp.stop(t.stop_timeout.max(Duration::from_millis(100)))
            .await;
        // The next run (a check after a baseline) may start the target at once.
        target::wait_port_free(&t.base_url, Duration::from_secs(5)).await;
        if died && !tail.is_empty() {
            eprintln!("last output of the target:\n  {}", tail.join("\n  "));
        }
    }
    let stopped = outcome?;
    result.incomplete_reason = stopped.as_ref().map(|r| r.to_string());
    if let Some(StopReason::Aborted(why)) = &stopped {
        result.aborted = Some(why.clone());
    }
    result.client = crate::meta::client_stats();
    Ok(Ran { result, stopped })
}

/// The directory the profile is in: the target's `start` runs there, and git is asked there.
pub(super) fn profile_dir(profile: &Profile) -> PathBuf {
    profile
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The result of a run before its trials: what it ran and where.
pub(super) fn empty_result(profile: &Profile, dir: &Path, started_at: String) -> RunResult {
    RunResult {
        format: FORMAT.to_string(),
        complete: false,
        incomplete_reason: None,
        aborted: None,
        meta: Meta {
            perfgate_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: ProfileMeta {
                name: profile.name.clone(),
                path: profile.path.display().to_string(),
                hash: profile.hash.clone(),
            },
            git: crate::meta::git_meta(dir),
            started_at,
            host: crate::meta::host(),
            load: crate::meta::load_meta(profile),
            base_url: profile.target.base_url.to_string(),
            source: None,
            shard: shard_meta(&profile.shard),
            shards: None,
        },
        trials: Vec::new(),
        client: None,
        capacity: None,
    }
}

/// A split run's place in the result (None for a run of the whole load).
fn shard_meta(s: &crate::config::Shard) -> Option<crate::result::ShardMeta> {
    // Any run given a shard (0/1 too: a split into one) says so; a whole run does not.
    s.run_id.as_ref()?;
    Some(crate::result::ShardMeta {
        index: s.index,
        count: s.count,
        run_id: s.run_id.clone().unwrap_or_default(),
        start_at: s
            .start_at
            .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
    })
}

/// Runs the trials `segment` against the target, stopping them (and saying why) when the
/// target exits.
async fn load(
    profile: &Arc<Profile>,
    segment: std::ops::Range<u32>,
    workers: usize,
    stop: &Arc<watch::Sender<Option<StopReason>>>,
    target: &mut Option<TargetProcess>,
    observer: &mut dyn Observer,
) -> Result<engine::RunOutput, engine::EngineError> {
    let run = engine::run(
        profile.clone(),
        segment,
        workers,
        stop.subscribe(),
        observer,
    );
    tokio::pin!(run);
    let exited = async {
        match target.as_mut() {
            Some(tp) => tp.wait().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        out = &mut run => out,
        status = exited => {
            let how = target::exit_status_text(status);
            stop.send_replace(Some(StopReason::TargetExited(how)));
            // The engine stops its workers and returns what it measured so far.
            (&mut run).await
        }
    }
}
