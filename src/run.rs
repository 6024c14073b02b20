//! `perfgate run`: start the target if asked, wait until it is ready, run the profile, stop the
//! target, write the result (also when interrupted: marked incomplete), print the summary.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::cli::RunArgs;
use crate::config::Profile;
use crate::engine::{self, StopReason};
use crate::exit;
use crate::progress::Progress;
use crate::result::{Meta, ProfileMeta, RunResult, FORMAT};
use crate::target::{self, TargetProcess};

/// How a run ended, for the exit code.
pub enum Ended {
    Complete,
    Interrupted,
    TargetDied,
}

pub async fn command(args: RunArgs) -> i32 {
    let profile = match crate::config::load(&args.profile.profile, &args.overrides()) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprint!("error: {e}");
            eprintln!();
            return exit::INVALID_INPUT;
        }
    };
    let workers = args.workers.unwrap_or_else(engine::default_workers);
    let mut progress = Progress::auto(args.quiet);
    match execute(profile, workers, &mut progress).await {
        Ok((result, ended)) => {
            if let Err(code) = save(&args.output, &result) {
                return code;
            }
            print!("{}", crate::report::summary::render(&result));
            ended.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

impl Ended {
    pub fn exit_code(&self) -> i32 {
        match self {
            Ended::Complete => exit::PASS,
            Ended::Interrupted => exit::INTERRUPTED,
            Ended::TargetDied => exit::RUN_FAILED,
        }
    }
}

/// Writes the result atomically (complete or not: nothing measured is lost); the error is the
/// exit code, after saying why.
pub fn save(path: &Path, result: &RunResult) -> Result<(), i32> {
    match crate::fsutil::write_atomic(path, &to_json(result)) {
        Ok(()) => {
            eprintln!("result written to {}", path.display());
            Ok(())
        }
        Err(e) => {
            eprintln!("error: cannot write the result to {}: {e}", path.display());
            Err(exit::RUN_FAILED)
        }
    }
}

pub fn to_json(r: &RunResult) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(r).unwrap_or_default();
    v.push(b'\n');
    v
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("interrupted before the load started")]
    InterruptedEarly,
    #[error("{0}")]
    TooManyConnections(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::InterruptedEarly => exit::INTERRUPTED,
            RunError::TooManyConnections(_) => exit::INVALID_INPUT,
            _ => exit::RUN_FAILED,
        }
    }
}

/// Listens for SIGINT, SIGTERM and SIGHUP: the first asks for an orderly stop (the partial
/// result is written); a second one kills the target's process group and exits at once.
fn watch_signals(stop: Arc<watch::Sender<Option<StopReason>>>) {
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
                eprintln!("{sig} again: stopping at once");
                target::kill_active_group();
                std::process::exit(exit::INTERRUPTED);
            }
        }
    });
}

/// Runs the profile against its target and returns the result, complete or not.
pub async fn execute(
    profile: Arc<Profile>,
    workers: usize,
    progress: &mut Progress,
) -> Result<(RunResult, Ended), RunError> {
    crate::limits::check_open_files(&profile).map_err(RunError::TooManyConnections)?;
    let (stop_tx, mut stop_rx) = watch::channel(None);
    let stop_tx = Arc::new(stop_tx);
    watch_signals(stop_tx.clone());
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    for n in &profile.notes {
        eprintln!("note: {n}");
    }
    let t = &profile.target;
    let dir = profile
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));

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
        let client = engine::build_client(&profile).map_err(RunError::Client)?;
        let ready = target::wait_ready(
            &client,
            &t.base_url,
            t.ready.as_deref(),
            t.ready_timeout,
            target.as_mut(),
        );
        tokio::select! {
            r = ready => r?,
            _ = stop_rx.wait_for(|s| s.is_some()) => {
                if let Some(tp) = target.take() {
                    tp.stop(t.stop_timeout).await;
                }
                return Err(RunError::InterruptedEarly);
            }
        }
    }

    let output = {
        let run = engine::run(profile.clone(), workers, stop_rx.clone(), progress);
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
                let how = target::describe(status);
                stop_tx.send_replace(Some(StopReason::TargetExited(how)));
                // The engine stops its workers and returns what it measured so far.
                (&mut run).await
            }
        }
    };
    progress.finish();
    if let Some(tp) = target.take() {
        let tail = tp.tail();
        let died = matches!(stop_rx.borrow().as_ref(), Some(StopReason::TargetExited(_)));
        tp.stop(t.stop_timeout.max(Duration::from_millis(100)))
            .await;
        if died && !tail.is_empty() {
            eprintln!("last output of the target:\n  {}", tail.join("\n  "));
        }
    }
    let output = output?;
    let ended = match &output.stopped {
        None => Ended::Complete,
        Some(StopReason::Interrupted(_)) => Ended::Interrupted,
        Some(StopReason::TargetExited(_)) => Ended::TargetDied,
    };
    let complete = output.stopped.is_none();
    let result = RunResult {
        format: FORMAT.to_string(),
        complete,
        incomplete_reason: output.stopped.as_ref().map(|r| r.to_string()),
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
            load: crate::meta::load_meta(&profile),
            base_url: t.base_url.to_string(),
        },
        trials: output.trials,
        client: crate::result::ClientStats::of_this_process(),
    };
    Ok((result, ended))
}
