//! Diagnostics for input files people write or may have broken: what is wrong, where (file,
//! line, column, key path) and what would be right.
//!
//! A leaf: the profile, thresholds and result readers all report through these types, and this
//! module imports nothing else of perfgate's. `toml` locates key paths in TOML text and collects
//! every type error serde meets; `json` does the same for JSON (serde_json has no spans).

pub mod json;
pub mod toml;

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Line and column (1-based), when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// The key the problem concerns, e.g. `scenario[1].step[0].request`.
    pub key: String,
    pub message: String,
}

impl Problem {
    /// A problem with no key, at `position` if known.
    pub fn at(position: Option<(usize, usize)>, message: impl Into<String>) -> Problem {
        Problem {
            position,
            key: String::new(),
            message: message.into(),
        }
    }
}

/// All that is wrong with one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProblems {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl FileProblems {
    /// A file with one problem.
    pub fn one(file: impl Into<PathBuf>, problem: Problem) -> FileProblems {
        FileProblems {
            file: file.into(),
            problems: vec![problem],
        }
    }
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{} has {} problem{}:",
            self.file.display(),
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            let at = match p.position {
                Some((line, col)) => format!("{}:{line}:{col}", self.file.display()),
                None => self.file.display().to_string(),
            };
            if p.key.is_empty() {
                writeln!(f, "  {at}: {}", p.message)?;
            } else {
                writeln!(f, "  {at}: {}: {}", p.key, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FileProblems {}

/// A key path into a TOML or JSON document, used to name and locate problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// `path` extended by the keys `more`.
pub fn key_path(path: &[Seg], more: &[&str]) -> Vec<Seg> {
    let mut v = path.to_vec();
    v.extend(more.iter().map(|k| Seg::Key(k.to_string())));
    v
}

/// `scenario[1].step[0].request`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// 1-based line and column (in bytes, like the TOML readers) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(offset, |nl| offset - nl - 1)
        + 1;
    (line, col)
}

/// The bytes of a file as text; or, when they are not UTF-8, the line and column of the first
/// byte that is not and a message saying so.
pub fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        Problem::at(
            Some(line_col(valid, at)),
            format!(
                "byte 0x{:02x} is not UTF-8 text; {what} is UTF-8 text (a binary or re-encoded file?)",
                bytes[at]
            ),
        )
    })
}

/// A serde message in the words of the file's reader: types named as they are written, not as
/// they are declared in Rust.
pub fn plain(message: &str) -> String {
    let mut m = message.trim().to_string();
    for (rust, words) in [
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected u32", "expected a whole number ≥ 0"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
    ] {
        m = m.replace(rust, words);
    }
    // `expected struct RawTarget` → `expected a table` (TOML) / `an object` (JSON is told apart
    // by the caller; "a table or object" would be vaguer than either).
    if let Some(at) = m.find("expected struct ") {
        let rest = &m[at + "expected struct ".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        m = format!("{}expected a table{}", &m[..at], &rest[end..]);
    }
    m
}

/// The known name closest to `typo`, when it is close enough to be what was meant.
pub fn did_you_mean<'a>(typo: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(typo, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_types_are_named_as_written() {
        assert_eq!(
            plain("invalid type: string \"720\", expected u64"),
            "invalid type: string \"720\", expected a whole number ≥ 0"
        );
        assert_eq!(
            plain("invalid type: string \"x\", expected struct RawDefaults"),
            "invalid type: string \"x\", expected a table"
        );
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let keys = ["max_regression", "warn", "min_delta"];
        assert_eq!(did_you_mean("max_regresion", &keys), Some("max_regression"));
        assert_eq!(did_you_mean("wran", &keys), Some("warn"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }

    #[test]
    fn positions_count_lines_and_bytes() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("", 3), (1, 1));
        let p = utf8(b"ok\n\xff".to_vec(), "a profile").unwrap_err();
        assert_eq!(p.position, Some((2, 1)));
    }
}
