//! Named baselines: `baselines/NAME.json`, written atomically, never from an incomplete run.

use std::path::{Path, PathBuf};

use crate::result::{ReadError, RunResult};

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("\"{0}\" is not a baseline name; use letters, digits, `.`, `_` and `-` (e.g. main, release-1.2)")]
    BadName(String),
    #[error("no baseline \"{name}\": {} does not exist{hint}", path.display())]
    Missing {
        name: String,
        path: PathBuf,
        hint: String,
    },
    /// The stored baseline cannot be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The result to store cannot be read.
    #[error(transparent)]
    Source(ReadError),
    #[error("{}: the result is incomplete ({reason}); an interrupted or aborted run is never a baseline", path.display())]
    Incomplete { path: PathBuf, reason: String },
    #[error("{}: another profile than {} (its load or scenarios differ); a baseline's runs must be runs of one profile", path.display(), first.display())]
    NotOneProfile { path: PathBuf, first: PathBuf },
    #[error("no result to store: name one or more result files")]
    NoResult,
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn path(dir: &Path, name: &str) -> Result<PathBuf, BaselineError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(BaselineError::BadName(name.to_string()));
    }
    Ok(dir.join(format!("{name}.json")))
}

/// Names of the stored baselines, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json")
                .filter(|n| !n.starts_with('.'))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

pub fn load(dir: &Path, name: &str) -> Result<(RunResult, PathBuf), BaselineError> {
    let p = path(dir, name)?;
    if !p.exists() {
        let known = names(dir);
        let hint = if known.is_empty() {
            format!("; record one with `perfgate run` then `perfgate baseline save {name}`")
        } else {
            format!("; the baselines are: {}", known.join(", "))
        };
        return Err(BaselineError::Missing {
            name: name.to_string(),
            path: p,
            hint,
        });
    }
    Ok((RunResult::read(&p)?, p))
}

/// Stores the results at `results` as baseline `name`, replacing any previous one atomically:
/// one result as it is; several (separate runs of one profile) as one result whose trials say
/// which run they come from, so that the gate can measure the noise between runs
/// (`compare::runs`).
pub fn save_runs(dir: &Path, name: &str, results: &[PathBuf]) -> Result<PathBuf, BaselineError> {
    let target = path(dir, name)?;
    let mut combined: Option<RunResult> = None;
    let mut runs = 0u32;
    for result in results {
        let mut r = RunResult::read(result).map_err(BaselineError::Source)?;
        if !r.complete {
            return Err(BaselineError::Incomplete {
                path: result.to_path_buf(),
                reason: r
                    .incomplete_reason
                    .unwrap_or_else(|| "no reason recorded".into()),
            });
        }
        if results.len() == 1 {
            combined = Some(r);
            break;
        }
        // A result that is itself a baseline of several runs keeps them apart.
        let first_run = runs;
        for t in &mut r.trials {
            let run = first_run + t.run.unwrap_or(0);
            t.run = Some(run);
            runs = runs.max(run + 1);
        }
        match combined.as_mut() {
            None => combined = Some(r),
            Some(c) => {
                if c.meta.profile.hash != r.meta.profile.hash {
                    return Err(BaselineError::NotOneProfile {
                        path: result.to_path_buf(),
                        first: results[0].clone(),
                    });
                }
                let next = c.trials.len() as u32;
                c.trials
                    .extend(r.trials.into_iter().enumerate().map(|(i, mut t)| {
                        t.index = next + i as u32;
                        t
                    }));
            }
        }
    }
    let Some(r) = combined else {
        return Err(BaselineError::NoResult);
    };
    let json = r.to_json().map_err(|e| BaselineError::Write {
        path: target.clone(),
        source: e.into(),
    })?;
    crate::fsutil::write_atomic(&target, &json).map_err(|source| BaselineError::Write {
        path: target.clone(),
        source,
    })?;
    Ok(target)
}

impl BaselineError {
    /// A baseline that is not there cannot be compared with (3); one that is broken, badly
    /// named, or made from an unusable result is the user's input to fix (2).
    pub fn exit_code(&self) -> i32 {
        use crate::exit;
        match self {
            BaselineError::Missing { .. } | BaselineError::Write { .. } => exit::RUN_FAILED,
            BaselineError::Read(ReadError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                exit::RUN_FAILED
            }
            _ => exit::INVALID_INPUT,
        }
    }
}

/// One line about a result: when, what, how much.
pub fn summary_line(r: &RunResult) -> String {
    let sha = r
        .meta
        .git
        .as_ref()
        .and_then(|g| g.sha.as_deref())
        .map(|s| format!(" @ {}", crate::units::short_sha(s)))
        .unwrap_or_default();
    let load = &r.meta.load;
    let size = match (load.users, load.rate) {
        (Some(u), _) => format!("{u} users"),
        (_, Some(rate)) => format!("{rate}/s"),
        _ => String::new(),
    };
    format!(
        "profile \"{}\" ({}){sha}, {}, {} {size}, {} trial{} of {}s, host {}",
        r.meta.profile.name,
        r.meta.profile.hash,
        r.meta.started_at,
        load.model,
        r.trials.len(),
        if r.trials.len() == 1 { "" } else { "s" },
        load.duration_s,
        r.meta.host.cpu_model
    )
}
