//! Reading a result or baseline file: the JSON, then the format version (a newer major
//! version is refused with a clear message), then every problem with the structure and the
//! counts (`check`), each at its line.

use std::path::{Path, PathBuf};

use super::model::{FORMAT, FORMAT_PREFIX, MAJOR};
use super::RunResult;
use crate::diag::{self, FileProblems, Problem, Seg};

/// Problems reading a result or baseline file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The JSON itself is broken (parsing stops there, so it is the one problem reported).
    #[error("{}:{line}:{column}: not a perfgate result: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: written by a newer perfgate (format \"{found}\"); this perfgate {} reads \"{FORMAT}\" — upgrade perfgate to read it", path.display(), env!("CARGO_PKG_VERSION"))]
    TooNew {
        path: PathBuf,
        line: usize,
        found: String,
    },
    #[error("{}:{line}: format \"{found}\" is not a perfgate result format (expected \"{FORMAT}\")", path.display())]
    UnknownFormat {
        path: PathBuf,
        line: usize,
        found: String,
    },
    /// Everything else that is wrong with the file, all of it, each at its line: fields of the
    /// wrong type, histograms that do not decode, counts that contradict each other.
    #[error("{0}")]
    Invalid(FileProblems),
}

impl RunResult {
    pub fn read(path: &Path) -> Result<RunResult, ReadError> {
        let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match diag::utf8(bytes, "a perfgate result") {
            Ok(text) => Self::parse(&text, path),
            Err(p) => Err(ReadError::Invalid(FileProblems::one(path, p))),
        }
    }

    /// Parses and checks a result: the JSON, then the format version, then the structure (every
    /// field of the wrong type), then that every histogram decodes and the counts agree.
    pub fn parse(text: &str, path: &Path) -> Result<RunResult, ReadError> {
        if text.trim().is_empty() {
            return Err(invalid(path, None, "the file is empty, so it is not a perfgate result (a write or copy that was cut short?); record it again with `perfgate run`"));
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ReadError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column().max(1),
            message: syntax_message(&e, text),
        })?;
        let Some(object) = value.as_object() else {
            return Err(invalid(path, Some((1, 1)), "a perfgate result is a JSON object that starts with {\"format\": \"perfgate/result/v1\", …"));
        };
        let format_at = diag::json::locate(text, &[Seg::Key("format".into())]);
        let line = format_at.map_or(1, |(l, _)| l);
        let found = match object.get("format") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => return Err(invalid(path, format_at, format!("format: {other} is not a format; a perfgate result has \"format\": \"{FORMAT}\""))),
            None => return Err(invalid(path, Some((1, 1)), format!("there is no \"format\", so this is not a perfgate result; one starts with {{\"format\": \"{FORMAT}\", …"))),
        };
        match found.strip_prefix(FORMAT_PREFIX).map(|v| v.parse::<u32>()) {
            Some(Ok(MAJOR)) => {}
            Some(Ok(n)) if n > MAJOR => {
                return Err(ReadError::TooNew {
                    path: path.to_path_buf(),
                    line,
                    found,
                })
            }
            _ => {
                return Err(ReadError::UnknownFormat {
                    path: path.to_path_buf(),
                    line,
                    found,
                })
            }
        }
        super::check::check_result(&value, text, path).map_err(ReadError::Invalid)
    }
}

/// A `ReadError::Invalid` with one problem.
fn invalid(path: &Path, position: Option<(usize, usize)>, message: impl Into<String>) -> ReadError {
    ReadError::Invalid(FileProblems::one(path, Problem::at(position, message)))
}

/// What serde_json's syntax error means for a result file, and what to do about it.
fn syntax_message(e: &serde_json::Error, text: &str) -> String {
    let what = diag::json::syntax_message(e);
    if e.is_eof() {
        format!("{what}: the file ends before the JSON does, so it was truncated (an interrupted write or copy); use a complete copy, or record it again with `perfgate run`")
    } else if !text.trim_start().starts_with('{') {
        format!("{what}: a perfgate result is a JSON object that starts with {{\"format\": \"perfgate/result/v1\", …")
    } else {
        format!("{what}: the file was damaged or edited by hand; fix the JSON at this place or record the result again")
    }
}
