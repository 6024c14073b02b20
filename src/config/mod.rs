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

pub use validate::is_sensitive;

use std::fmt;
use std::path::{Path, PathBuf};

pub use model::*;
use toml::de::{DeTable, DeValue};

/// Values given on the command line or in `PERFGATE_*` variables that replace the profile's.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub base_url: Option<String>,
    pub users: Option<u64>,
    pub rate: Option<f64>,
    pub duration: Option<String>,
    pub trials: Option<u32>,
}

/// One thing wrong with an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Line and column (1-based), when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// The key the problem concerns, e.g. `scenario[1].step[0].request`.
    pub key: String,
    pub message: String,
}

/// All that is wrong with one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProblems {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
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

/// A key path into a TOML document, used to name and locate problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

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

/// Turns byte offsets into line:column and key paths into positions, for one source text.
pub struct Locator<'a> {
    src: &'a str,
    doc: Option<toml::Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        Locator {
            src,
            doc: DeTable::parse(src).ok(),
        }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        (line, col)
    }

    /// Position of the key (for a key path) or element (for an index) that `path` names, or of
    /// the deepest part of it that exists.
    pub fn locate(&self, path: &[Seg]) -> Option<(usize, usize)> {
        let doc = self.doc.as_ref()?;
        let mut span = None;
        let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
        let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
        for seg in path {
            let value = match seg {
                Seg::Key(k) => {
                    let (key, value) = table?.iter().find(|(key, _)| key.get_ref() == k)?;
                    span = Some(key.span());
                    value
                }
                Seg::Index(i) => {
                    let value = array?.get(*i)?;
                    span = Some(value.span());
                    value
                }
            };
            table = value.get_ref().as_table();
            array = value.get_ref().as_array().map(|a| &a[..]);
        }
        span.map(|s| self.line_col(s.start))
    }

    /// The path of the deepest key whose value contains byte `offset` (ending in a key, so that
    /// removing it removes the whole value).
    pub fn path_at(&self, offset: usize) -> Option<Vec<Seg>> {
        fn walk(v: &DeValue<'_>, offset: usize, path: &mut Vec<Seg>, best: &mut Vec<Seg>) {
            let within =
                |r: std::ops::Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
            if let Some(t) = v.as_table() {
                for (k, val) in t.iter() {
                    path.push(Seg::Key(k.get_ref().to_string()));
                    if within(k.span()) || within(val.span()) {
                        *best = path.clone();
                    }
                    // Table headers do not span their contents: look inside every table.
                    walk(val.get_ref(), offset, path, best);
                    path.pop();
                }
            } else if let Some(a) = v.as_array() {
                for (i, val) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(val.get_ref(), offset, path, best);
                    path.pop();
                }
            }
        }
        let doc = self.doc.as_ref()?;
        let mut best = Vec::new();
        let root = DeValue::Table(doc.get_ref().clone());
        walk(&root, offset, &mut Vec::new(), &mut best);
        Some(best)
    }

    pub fn problem(&self, path: &[Seg], message: impl Into<String>) -> Problem {
        Problem {
            position: self.locate(path),
            key: path_string(path),
            message: message.into(),
        }
    }
}

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
    let src = crate::input::utf8(bytes, "a profile").map_err(|(at, message)| {
        ConfigError::Invalid(FileProblems {
            file: path.to_path_buf(),
            problems: vec![Problem {
                position: Some(at),
                key: String::new(),
                message,
            }],
        })
    })?;
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
        .map(|key| {
            locator.problem(
                key,
                "unknown key (a typo would silently drop a setting, so this is an error)",
            )
        })
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

/// A deserialized value, the paths of keys its type does not know, and the type errors met.
pub type Deserialized<T> = (T, Vec<Vec<Seg>>, Vec<Problem>);

/// Deserializes `src`, returning the value and the paths of keys the type does not know.
///
/// A value of the wrong type stops serde at once; so that it does not hide the other problems,
/// the offending key is removed and the document read again, until it reads. The caller gets
/// every type error (positioned in the original text) and goes on validating what is left.
pub fn deserialize<T: serde::de::DeserializeOwned>(
    src: &str,
    locator: &Locator<'_>,
) -> Result<Deserialized<T>, Problem> {
    let syntax = |e: toml::de::Error| Problem {
        position: e.span().map(|s| locator.line_col(s.start)),
        key: String::new(),
        message: e.message().trim().to_string(),
    };
    let mut text = std::borrow::Cow::Borrowed(src);
    let mut type_errors: Vec<Problem> = Vec::new();
    for _ in 0..100 {
        let de = toml::Deserializer::parse(&text).map_err(syntax)?;
        let mut unknown = Vec::new();
        let e = match serde_ignored::deserialize(de, |p| unknown.push(segments(&p))) {
            Ok(value) => return Ok((value, unknown, type_errors)),
            Err(e) => e,
        };
        // Find the key the error is about, in the current text, and drop it.
        let here = Locator::new(&text);
        let path = e.span().and_then(|s| here.path_at(s.start));
        let Some(path) = path.filter(|p| !p.is_empty()) else {
            type_errors.push(Problem {
                position: None,
                key: String::new(),
                message: crate::input::plain(e.message()),
            });
            return Err(type_errors.remove(0));
        };
        type_errors.push(Problem {
            position: locator.locate(&path),
            key: path_string(&path),
            message: crate::input::plain(e.message()),
        });
        let mut table: toml::Table = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => return Err(syntax(e)),
        };
        if !remove_path(&mut table, &path) {
            return Err(type_errors.remove(0));
        }
        text = std::borrow::Cow::Owned(toml::to_string(&table).unwrap_or_default());
    }
    Err(type_errors.remove(0))
}

/// Removes the key at `path` (ending in a key) from a table.
fn remove_path(table: &mut toml::Table, path: &[Seg]) -> bool {
    match path {
        [Seg::Key(k)] => table.remove(k).is_some(),
        [Seg::Key(k), rest @ ..] => match (table.get_mut(k), rest) {
            (Some(toml::Value::Table(t)), _) => remove_path(t, rest),
            (Some(toml::Value::Array(a)), [Seg::Index(i), rest @ ..]) => match a.get_mut(*i) {
                Some(toml::Value::Table(t)) => remove_path(t, rest),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path as P;
    match path {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = segments(parent);
            v.push(Seg::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = segments(parent);
            v.push(Seg::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            segments(parent)
        }
    }
}
