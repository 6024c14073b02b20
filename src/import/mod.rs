//! Other tools' results as perfgate results (`perfgate import`), so `compare`, the reports and
//! the publishing work on the load tests teams already have. One file is one trial; the result
//! records its source (tool, format, fidelity, files) in `meta.source`.
//!
//! `trial` turns requests at their timestamps into a trial; one file per format reads the
//! tool's output into it (`k6`: its NDJSON; `locust`: its `--json-file`); `summary` reads the
//! tools that keep only statistics (k6's end-of-test summary, Artillery's report).

mod k6;
mod locust;
mod summary;
pub mod trial;

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
    /// `k6 run --summary-export=FILE`, or a `handleSummary` JSON.
    K6Summary,
    /// `artillery run --output FILE`.
    Artillery,
}

impl Format {
    /// The tool's name: an import's profile name unless given.
    pub fn tool(self) -> &'static str {
        match self {
            Format::K6Json => "k6",
            Format::LocustJson => "locust",
            Format::K6Summary => "k6",
            Format::Artillery => "artillery",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::K6Json => "k6-json",
            Format::LocustJson => "locust-json",
            Format::K6Summary => "k6-summary",
            Format::Artillery => "artillery",
        }
    }

    /// The relative step of the statistics a summary reports: Artillery's percentiles come from
    /// its sketch's buckets (7.0, 7.9, 8.9 ms: steps of about 13%); k6 interpolates between
    /// exact samples.
    fn resolution(self) -> Option<f64> {
        match self {
            Format::Artillery => Some(0.13),
            _ => None,
        }
    }

    fn fidelity(self) -> &'static str {
        match self {
            Format::K6Json => "exact",
            Format::LocustJson => "bucketed",
            Format::K6Summary | Format::Artillery => "summary",
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
        let bytes = std::fs::read(path).map_err(|source| ImportError::Open {
            path: path.clone(),
            source,
        })?;
        let written = summary::file_time(path);
        let trial = read_one(
            format,
            &bytes,
            &path.display().to_string(),
            i as u32,
            written,
        )?;
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
                iterations_per_user: None,
            },
            base_url: String::new(),
            source: Some(SourceMeta {
                tool: format.tool().into(),
                format: format.name().into(),
                version: None,
                fidelity: format.fidelity().into(),
                resolution: format.resolution(),
                files: files.iter().map(|p| p.display().to_string()).collect(),
            }),
            shard: None,
            shards: None,
        },
        trials,
        client: None,
        capacity: None,
    })
}

/// One file's bytes as trial `index`, read as `format`; `written` is when the file was written
/// (Unix seconds), the only time a summary has. What `import` does for each file, and what the
/// fuzz targets call.
pub fn read_one(
    format: Format,
    bytes: &[u8],
    file: &str,
    index: u32,
    written: f64,
) -> Result<crate::result::TrialResult, ImportError> {
    let text = || {
        std::str::from_utf8(bytes).map_err(|e| ImportError::At {
            file: file.to_string(),
            line: bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1,
            message: "not UTF-8 text".into(),
        })
    };
    Ok(match format {
        Format::K6Json => {
            let mut t = TrialBuilder::default();
            k6::read(bytes, file, &mut t)?;
            finished(t, index, file)?
        }
        Format::LocustJson => {
            let mut t = TrialBuilder::default();
            locust::read(text()?, file, &mut t)?;
            finished(t, index, file)?
        }
        Format::K6Summary => {
            let doc = json(text()?, file, "k6's --summary-export")?;
            summary::k6(&doc, file, index, written)?
        }
        Format::Artillery => {
            let doc = json(text()?, file, "Artillery's --output report")?;
            summary::artillery(&doc, file, index)?
        }
    })
}

fn json(text: &str, file: &str, what: &str) -> Result<serde_json::Value, ImportError> {
    serde_json::from_str(text).map_err(|e| ImportError::At {
        file: file.to_string(),
        line: e.line(),
        message: format!("not {what} ({e})"),
    })
}

fn finished(
    t: TrialBuilder,
    i: u32,
    file: &str,
) -> Result<crate::result::TrialResult, ImportError> {
    t.finish(i).ok_or_else(|| ImportError::Empty {
        file: file.to_string(),
        what: "no HTTP request in it".into(),
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
