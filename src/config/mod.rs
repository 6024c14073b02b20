//! The load profile (`perfgate.toml`): reading, validating, and the model the engine runs.
//!
//! Reading happens in two layers (see `raw` and `validate`): serde fills loosely typed raw
//! structs, then validation turns them into a `Profile` while collecting *every* problem, each
//! with the file, line and column it concerns, so that one run of `perfgate validate` shows all
//! that is wrong with a file.

pub mod model;
pub mod raw;
pub mod template;
mod validate;

use std::path::{Path, PathBuf};

use crate::diag::toml::{deserialize, Locator};
use crate::diag::{self, FileProblems, Problem};
pub use model::*;

/// Values given on the command line or in `PERFGATE_*` variables that replace the profile's.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub base_url: Option<String>,
    pub users: Option<u64>,
    pub rate: Option<f64>,
    pub duration: Option<String>,
    pub trials: Option<u32>,
    /// `check --max-trials`.
    pub max_trials: Option<u32>,
    /// `capacity --slo KEY=VALUE`: `[capacity]` settings, by key (one of `CAPACITY_KEYS`).
    pub capacity: Vec<(String, String)>,
}

/// The settings of `[capacity]`.
pub const CAPACITY_KEYS: &[&str] = &[
    "p50",
    "p95",
    "p99",
    "error_rate",
    "min_gain",
    "start",
    "step",
    "hold",
    "warmup",
    "budget",
    "resolution",
];

/// Everything that can go wrong reading a profile.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the profile {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(FileProblems),
}

/// Reads, validates and resolves the profile at `path`.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Profile, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let src = diag::utf8(bytes, "a profile")
        .map_err(|p| ConfigError::Invalid(FileProblems::one(path, p)))?;
    let env = |k: &str| std::env::var(k).ok();
    parse(&src, path, overrides, &env).map_err(ConfigError::Invalid)
}

/// Parses profile text; `path` names the file in messages and anchors relative data files.
pub fn parse(
    src: &str,
    path: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Profile, FileProblems> {
    let locator = Locator::new(src);
    let fail = |problems: Vec<Problem>| FileProblems {
        file: path.to_path_buf(),
        problems,
    };
    let (raw, unknown, type_errors) =
        deserialize::<raw::RawProfile>(src, &locator).map_err(|p| fail(vec![p]))?;
    let mut problems: Vec<Problem> = unknown
        .iter()
        .map(|key| locator.unknown_key(key, "a setting", raw::known_keys(key)))
        .collect();
    // Keys dropped for their type must not come back as "missing".
    let dropped: Vec<(String, String)> = type_errors
        .iter()
        .map(|p| {
            let (parent, last) = p.key.rsplit_once('.').unwrap_or(("", &p.key));
            (parent.to_string(), last.to_string())
        })
        .collect();
    problems.extend(type_errors);
    let base = path.parent().unwrap_or(Path::new("."));
    match validate::validate(raw, path, base, overrides, env, &locator) {
        Ok(profile) if problems.is_empty() => Ok(profile),
        Ok(_) => {
            problems.sort_by_key(|p| p.position);
            Err(fail(problems))
        }
        Err(more) => {
            problems.extend(more.into_iter().filter(|p| {
                !dropped
                    .iter()
                    .any(|(parent, last)| p.key == *parent && p.message.contains(last.as_str()))
            }));
            problems.sort_by_key(|p| p.position);
            Err(fail(problems))
        }
    }
}
