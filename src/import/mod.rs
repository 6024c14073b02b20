//! Other tools' results as perfgate results (`perfgate import`), so `compare`, the reports and
//! the publishing work on the load tests teams already have. One file is one trial; the result
//! records its source (tool, format, fidelity, files) in `meta.source`.
//!
//! `trial` turns requests at their timestamps into a trial; one file per format reads the
//! tool's output into it (`k6`: its NDJSON; `locust`: its `--json-file`).

mod k6;
mod locust;
pub mod trial;

use std::io::{BufReader, Read};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::result::{HostMeta, LoadMeta, Meta, ProfileMeta, RunResult, SourceMeta, FORMAT};
use trial::TrialBuilder;

/// The formats `perfgate import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `k6 run --out json=FILE`.
    K6Json,
    /// `locust --json-file FILE`.
    LocustJson,
}

impl Format {
    /// The tool's name: an import's profile name unless given.
    pub fn tool(self) -> &'static str {
        match self {
            Format::K6Json => "k6",
            Format::LocustJson => "locust",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::K6Json => "k6-json",
            Format::LocustJson => "locust-json",
        }
    }

    fn fidelity(self) -> &'static str {
        match self {
            Format::K6Json => "exact",
            Format::LocustJson => "bucketed",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    At {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {key}: {message}")]
    Key {
        file: String,
        key: String,
        message: String,
    },
    #[error("{file}: {what}; nothing to import")]
    Empty { file: String, what: String },
}

/// The result of `files`, each one trial, read as `format`; `name` names the profile (the
/// results of one test, imported twice, compare when their names are equal).
pub fn import(format: Format, files: &[PathBuf], name: &str) -> Result<RunResult, ImportError> {
    let mut trials = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| ImportError::Open {
            path: path.clone(),
            source,
        })?;
        let mut t = TrialBuilder::default();
        match format {
            Format::K6Json => k6::read(BufReader::with_capacity(1 << 16, f), &file, &mut t)?,
            Format::LocustJson => {
                let mut text = String::new();
                BufReader::new(f)
                    .read_to_string(&mut text)
                    .map_err(|source| ImportError::Open {
                        path: path.clone(),
                        source,
                    })?;
                locust::read(&text, &file, &mut t)?
            }
        }
        let trial = t.finish(i as u32).ok_or_else(|| ImportError::Empty {
            file: file.clone(),
            what: "no HTTP request in it".into(),
        })?;
        trials.push(trial);
    }
    let started_at = trials
        .first()
        .map(|t| t.started_at.clone())
        .unwrap_or_default();
    let duration_s = trials.first().map_or(0.0, |t| t.measured_s.round());
    Ok(RunResult {
        format: FORMAT.to_string(),
        complete: true,
        incomplete_reason: None,
        aborted: None,
        meta: Meta {
            perfgate_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: ProfileMeta {
                name: name.to_string(),
                path: files
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                hash: hash(format, name),
            },
            git: None,
            started_at,
            host: imported_host(format),
            load: LoadMeta {
                model: "imported".into(),
                users: None,
                rate: None,
                max_in_flight: None,
                ramp_up_s: 0.0,
                stages: Vec::new(),
                warmup_s: 0.0,
                // A run's length as the tool measured it varies by a second or so between runs
                // of one test: it is shown, never compared (see `comparability`).
                duration_s,
                trials: trials.len() as u32,
                max_trials: None,
                seed: 0,
            },
            base_url: String::new(),
            source: Some(SourceMeta {
                tool: format.tool().into(),
                format: format.name().into(),
                version: None,
                fidelity: format.fidelity().into(),
                files: files.iter().map(|p| p.display().to_string()).collect(),
            }),
        },
        trials,
        client: None,
        capacity: None,
    })
}

/// The profile hash of an import: the format and the name, so two imports of one test compare.
fn hash(format: Format, name: &str) -> String {
    let d = Sha256::digest(format!("import|{}|{name}", format.name()).as_bytes());
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The machine is the tool's, which its output does not say.
fn imported_host(format: Format) -> HostMeta {
    HostMeta {
        cpu_model: format!("unknown (imported from {})", format.tool()),
        cores: 0,
        os: String::new(),
        kernel: String::new(),
        fingerprint: "imported".into(),
    }
}
