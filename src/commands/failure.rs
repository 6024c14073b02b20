//! How a command ends: an `Outcome` (it did what it was asked; the gate may have failed) or a
//! `Failure` (it could not). Each carries its exit code; `main` prints a failure and turns
//! either into the process's exit code, in that one place.

use std::path::PathBuf;

use crate::baseline::BaselineError;
use crate::config::ConfigError;
use crate::diag::FileProblems;
use crate::engine;
use crate::engine::StopReason;
use crate::exit;
use crate::report::RenderError;
use crate::result::{MergeError, ReadError};
use crate::target;

/// What a command did, when it could do it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The command succeeded; for the gate, it passed (warnings allowed).
    Done,
    /// The gate failed: the service got worse by more than allowed.
    GateFailed,
    /// The run stopped before its end; its partial result was written.
    Stopped(StopReason),
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Done => exit::PASS,
            Outcome::GateFailed => exit::GATE_FAILED,
            Outcome::Stopped(reason) => stop_code(reason),
        }
    }
}

fn stop_code(reason: &StopReason) -> i32 {
    match reason {
        StopReason::Interrupted(_) => exit::INTERRUPTED,
        StopReason::TargetExited(_) => exit::RUN_FAILED,
        // A limit the rules say must not be crossed was: the gate failed.
        StopReason::Aborted(_) => exit::GATE_FAILED,
    }
}

/// Why a run could not be carried out.
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

/// Why a command could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Profile(#[from] ConfigError),
    /// Thresholds that do not read, or rules that name nothing.
    #[error("{0}")]
    Rules(FileProblems),
    /// The result to judge cannot be read.
    #[error("{0}")]
    Current(ReadError),
    #[error("{0}; run `perfgate run` first, or name the result with --current FILE")]
    NoCurrent(ReadError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error("the baseline and the current result are not comparable:\n  {}\nRecord a new baseline for this profile, or pass --allow-mismatch to compare anyway.", .0.join("\n  "))]
    Incomparable(Vec<String>),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot write the result to {}: {source}", path.display())]
    WriteResult {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    WriteReport {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the result as JSON: {0}")]
    Serialize(serde_json::Error),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Results that do not add up (a crafted or incompatible file).
    #[error("cannot merge the trials of the result: {0}")]
    Merge(#[from] MergeError),
    #[error("the run was not completed; nothing was compared")]
    NotCompared(StopReason),
    #[error("publishing failed and --require-publish was given")]
    Publish,
    /// `init` would overwrite these files.
    #[error("these files exist, and `perfgate init` overwrites nothing without --force:\n  {}", .0.join("\n  "))]
    Exists(Vec<String>),
    /// Another tool's output that cannot be imported.
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// A command line that asks for something impossible (the message says what would do).
    #[error("{0}")]
    Usage(String),
    /// Shard results that are not the shards of one run.
    #[error(transparent)]
    Shards(Box<crate::result::ShardsError>),
    /// A HAR or OpenAPI file `init` cannot start from.
    #[error(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),
    /// A second signal: stopped at once.
    #[error("{0} again: stopped at once")]
    Killed(&'static str),
    /// Several inputs were wrong; each is reported.
    #[error("{}", .0.iter().map(|f| f.to_string().trim_end().to_string()).collect::<Vec<_>>().join("\nerror: "))]
    Several(Vec<Failure>),
}

impl From<crate::result::ShardsError> for Failure {
    fn from(e: crate::result::ShardsError) -> Self {
        Failure::Shards(Box::new(e))
    }
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Profile(_)
            | Failure::Rules(_)
            | Failure::Current(_)
            | Failure::NoCurrent(_) => exit::INVALID_INPUT,
            Failure::Merge(_)
            | Failure::Import(_)
            | Failure::Exists(_)
            | Failure::Usage(_)
            | Failure::Scaffold(_) => exit::INVALID_INPUT,
            Failure::Shards(e) if e.is_missing() => exit::RUN_FAILED,
            Failure::Shards(_) => exit::INVALID_INPUT,
            Failure::Baseline(e) => e.exit_code(),
            Failure::Run(e) => e.exit_code(),
            Failure::Incomparable(_)
            | Failure::WriteResult { .. }
            | Failure::WriteReport { .. }
            | Failure::Serialize(_)
            | Failure::Render(_) => exit::RUN_FAILED,
            Failure::NotCompared(reason) => stop_code(reason),
            Failure::Publish => exit::PUBLISH_FAILED,
            Failure::Killed(_) => exit::INTERRUPTED,
            // Invalid input first: fixing it is the next step whatever else is missing.
            Failure::Several(all) => {
                let codes: Vec<i32> = all.iter().map(Failure::exit_code).collect();
                if codes.contains(&exit::INVALID_INPUT) {
                    exit::INVALID_INPUT
                } else {
                    codes.into_iter().max().unwrap_or(exit::INVALID_INPUT)
                }
            }
        }
    }

    /// The three values, or every failure among them as one failure: each input that is wrong
    /// is reported, not only the first.
    pub fn all3<A, B, C>(
        a: Result<A, Failure>,
        b: Result<B, Failure>,
        c: Result<C, Failure>,
    ) -> Result<(A, B, C), Failure> {
        match (a, b, c) {
            (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
            (a, b, c) => {
                let mut all: Vec<Failure> =
                    [a.err(), b.err(), c.err()].into_iter().flatten().collect();
                Err(if all.len() == 1 {
                    all.remove(0)
                } else {
                    Failure::Several(all)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_failures_report_each_and_invalid_input_wins() {
        let f = Failure::all3::<(), (), ()>(
            Err(Failure::Incomparable(vec!["users 1 vs 2".into()])),
            Ok(()),
            Err(Failure::Rules(FileProblems::one(
                "t.toml",
                crate::diag::Problem::at(None, "bad"),
            ))),
        )
        .unwrap_err();
        assert_eq!(f.exit_code(), exit::INVALID_INPUT);
        let text = f.to_string();
        assert!(
            text.contains("not comparable") && text.contains("\nerror: t.toml"),
            "{text}"
        );
        let one = Failure::all3::<(), (), ()>(Ok(()), Err(Failure::Publish), Ok(())).unwrap_err();
        assert!(matches!(one, Failure::Publish));
        assert_eq!(
            Outcome::Stopped(StopReason::Interrupted("SIGINT")).exit_code(),
            130
        );
    }
}
