//! Reading input files people may have broken: what the profile, thresholds and result readers
//! share to say *where* a problem is and *what would be right*.
//!
//! * `plain`: serde's type errors in words (`expected u64` → `expected a whole number ≥ 0`).
//! * `json_locate`: the line and column of a key path in JSON text (serde_json has no spans).
//! * `check_result`: every problem of a result file that parses as JSON — each field of the wrong
//!   type, each histogram that does not decode, each count that contradicts another — so a
//!   hand-edited file shows all that is wrong with it at once, each at its line.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{path_string, FileProblems, Problem, Seg};
use crate::result::{decode_histogram, RunResult};

/// At most this many problems are listed for one result file; the rest are counted.
const MAX_PROBLEMS: usize = 50;

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

/// `plain`, for JSON: objects, not tables.
fn plain_json(message: &str) -> String {
    plain(message).replace("expected a table", "expected an object")
}

/// The bytes of a file as text; or, when they are not UTF-8, the line and column of the first
/// byte that is not and a message saying so.
pub fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, ((usize, usize), String)> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        (
            line_col(valid, at),
            format!(
                "byte 0x{:02x} is not UTF-8 text; {what} is UTF-8 text (a binary or re-encoded file?)",
                bytes[at]
            ),
        )
    })
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

/// Line and column of what `path` names in `text` (valid JSON): the key for a key, the element
/// for an index; the deepest part of the path that exists if not all of it does.
pub fn json_locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut best = Some(s.i);
    'path: for seg in path {
        match seg {
            Seg::Key(want) => {
                if s.peek() != Some(b'{') {
                    break;
                }
                s.i += 1;
                loop {
                    s.ws();
                    if s.peek() != Some(b'"') {
                        break 'path;
                    }
                    let start = s.i;
                    let key = s.string()?;
                    s.ws();
                    if s.peek() != Some(b':') {
                        break 'path;
                    }
                    s.i += 1;
                    s.ws();
                    if key == *want {
                        best = Some(start);
                        continue 'path;
                    }
                    s.skip_value()?;
                    s.ws();
                    if s.peek() != Some(b',') {
                        break 'path;
                    }
                    s.i += 1;
                }
            }
            Seg::Index(want) => {
                if s.peek() != Some(b'[') {
                    break;
                }
                s.i += 1;
                for _ in 0..*want {
                    s.ws();
                    if s.peek() == Some(b']') {
                        break 'path;
                    }
                    s.skip_value()?;
                    s.ws();
                    if s.peek() != Some(b',') {
                        break 'path;
                    }
                    s.i += 1;
                }
                s.ws();
                if matches!(s.peek(), None | Some(b']')) {
                    break;
                }
                best = Some(s.i);
            }
        }
    }
    best.map(|o| line_col(text, o))
}

/// A cursor over JSON text that serde_json has already accepted.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Skips a string (at its opening quote) and returns its raw text without the quotes.
    fn raw_string(&mut self) -> Option<&[u8]> {
        let start = self.i + 1;
        let mut j = start;
        loop {
            match self.b.get(j)? {
                b'\\' => j += 2,
                b'"' => break,
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Some(&self.b[start..j])
    }

    /// A string (at its opening quote), unescaped.
    fn string(&mut self) -> Option<String> {
        let raw = self.raw_string()?;
        if !raw.contains(&b'\\') {
            return Some(String::from_utf8_lossy(raw).into_owned());
        }
        let quoted = [b"\"", raw, b"\""].concat();
        serde_json::from_slice(&quoted).ok()
    }

    /// Skips one value of any kind; containers without recursion (their depth is unbounded here).
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.raw_string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.raw_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
            }
        }
        Some(())
    }
}

/// What serde_json's syntax error means for a result file, and what to do about it.
pub fn json_syntax_message(e: &serde_json::Error, text: &str) -> String {
    let what = e.to_string();
    // serde_json ends its messages with " at line L column C": the caller shows the position.
    let what = match what.rfind(" at line ") {
        Some(i) => what[..i].to_string(),
        None => what,
    };
    if e.is_eof() {
        format!("{what}: the file ends before the JSON does, so it was truncated (an interrupted write or copy); use a complete copy, or record it again with `perfgate run`")
    } else if !text.trim_start().starts_with('{') {
        format!("{what}: a perfgate result is a JSON object that starts with {{\"format\": \"perfgate/result/v1\", …")
    } else {
        format!("{what}: the file was damaged or edited by hand; fix the JSON at this place or record the result again")
    }
}

/// Every problem with a result file whose JSON is well formed and whose format version this
/// perfgate reads. `Ok` only when there are none.
pub fn check_result(value: &Value, text: &str, path: &Path) -> Result<RunResult, FileProblems> {
    let mut found: Vec<(Vec<Seg>, String)> = Vec::new();
    let result = match RunResult::deserialize(value) {
        Ok(r) => {
            consistency(&r, &mut found);
            Some(r)
        }
        Err(_) => {
            let (types, faults, patched) = type_problems(value);
            found = types;
            // With every wrong value replaced by a stand-in, the rest of the file can still be
            // checked; what the stand-ins themselves contradict is not the file's fault.
            if let Ok(r) = RunResult::deserialize(&patched) {
                let mut more = Vec::new();
                consistency(&r, &mut more);
                found.extend(
                    more.into_iter()
                        .filter(|(at, _)| !faults.iter().any(|f| at.starts_with(f))),
                );
            }
            None
        }
    };
    if found.is_empty() {
        if let Some(r) = result {
            return Ok(r);
        }
        // Deserialization failed but no problem was pinned down: say what serde said.
        let message = RunResult::deserialize(value).err().map_or_else(
            || "not a perfgate result".to_string(),
            |e| plain_json(&e.to_string()),
        );
        found.push((Vec::new(), message));
    }
    let more = found.len().saturating_sub(MAX_PROBLEMS);
    let mut problems: Vec<Problem> = found
        .into_iter()
        .take(MAX_PROBLEMS)
        .map(|(at, message)| Problem {
            position: json_locate(text, &at),
            key: path_string(&at),
            message,
        })
        .collect();
    problems.sort_by_key(|p| p.position);
    if more > 0 {
        problems.push(Problem {
            position: None,
            key: String::new(),
            message: format!("… and {more} more problems like these"),
        });
    }
    Err(FileProblems {
        file: path.to_path_buf(),
        problems,
    })
}

fn segments(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// The field serde says is missing, from "missing field `name`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// Sets (or, for a missing object field, inserts) the value at `path`.
fn set_at(v: &mut Value, path: &[Seg], new: Value) -> bool {
    match path {
        [] => {
            *v = new;
            true
        }
        [Seg::Key(k), rest @ ..] => match v {
            Value::Object(m) if rest.is_empty() => {
                m.insert(k.clone(), new);
                true
            }
            Value::Object(m) => m.get_mut(k).is_some_and(|c| set_at(c, rest, new)),
            _ => false,
        },
        [Seg::Index(i), rest @ ..] => match v {
            Value::Array(a) => a.get_mut(*i).is_some_and(|c| set_at(c, rest, new)),
            _ => false,
        },
    }
}

/// The first type error of `v`: the path of the value at fault (for a missing field, the field's
/// own path) and the message.
fn first_type_error(v: &Value) -> Option<(Vec<Seg>, Vec<Seg>, String)> {
    let e = serde_path_to_error::deserialize::<_, RunResult>(v).err()?;
    let at = segments(e.path());
    let message = e.inner().to_string();
    let mut fault = at.clone();
    if let Some(field) = missing_field(&message) {
        fault.push(Seg::Key(field));
    }
    Some((at, fault, plain_json(&message)))
}

/// Every value of the wrong type (and every missing field) in a result: serde stops at the first,
/// so each one found is replaced by a stand-in of a type that fits and the value read again.
///
/// Returns the problems, the paths of the values replaced, and the value with the stand-ins.
#[allow(clippy::type_complexity)]
fn type_problems(value: &Value) -> (Vec<(Vec<Seg>, String)>, Vec<Vec<Seg>>, Value) {
    let mut v = value.clone();
    let mut out = Vec::new();
    let mut faults = Vec::new();
    while out.len() < MAX_PROBLEMS {
        let Some((at, fault, message)) = first_type_error(&v) else {
            break;
        };
        let key = if missing_field(&message).is_some() {
            at
        } else {
            fault.clone()
        };
        out.push((key, message.clone()));
        // A stand-in of the type the message asks for first, then the others.
        let mut stand_ins = vec![
            Value::from(0u64),
            Value::from(0.0),
            Value::from(""),
            Value::from(false),
            Value::Array(Vec::new()),
            Value::Object(Default::default()),
            Value::Null,
        ];
        let first = if message.contains("whole number") {
            0
        } else if message.contains("a number") {
            1
        } else if message.contains("string") {
            2
        } else if message.contains("boolean") {
            3
        } else if message.contains("a list") {
            4
        } else {
            5
        };
        stand_ins.swap(0, first);
        let mut fixed = false;
        for s in stand_ins {
            let mut trial = v.clone();
            if !set_at(&mut trial, &fault, s) {
                break;
            }
            let moved_on = match first_type_error(&trial) {
                None => true,
                Some((_, next, _)) => !next.starts_with(&fault),
            };
            if moved_on {
                v = trial;
                fixed = true;
                break;
            }
        }
        faults.push(fault);
        if !fixed {
            break;
        }
    }
    (out, faults, v)
}

fn key(base: &[Seg], more: &[&str]) -> Vec<Seg> {
    let mut v = base.to_vec();
    v.extend(more.iter().map(|k| Seg::Key(k.to_string())));
    v
}

/// What a well-typed result can still get wrong: histograms that do not decode, counts that
/// contradict each other, negative times. Each is a sign of a truncated or hand-edited file.
fn consistency(r: &RunResult, out: &mut Vec<(Vec<Seg>, String)>) {
    let again = "record the result again with `perfgate run`";
    if r.complete && r.trials.is_empty() {
        out.push((
            vec![Seg::Key("trials".into())],
            format!("a complete result has no trials, so there is nothing to compare; the file was edited — {again}"),
        ));
    }
    let mut indexes = std::collections::BTreeSet::new();
    for (ti, t) in r.trials.iter().enumerate() {
        let tp = vec![Seg::Key("trials".into()), Seg::Index(ti)];
        if !indexes.insert(t.index) {
            out.push((
                key(&tp, &["index"]),
                format!(
                    "trial index {} appears twice; each trial has its own",
                    t.index
                ),
            ));
        }
        if t.measured_s < 0.0 {
            out.push((
                key(&tp, &["measured_s"]),
                format!(
                    "{} is not a duration; the measured seconds are ≥ 0",
                    t.measured_s
                ),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (ei, e) in t.endpoints.iter().enumerate() {
            let mut ep = key(&tp, &["endpoints"]);
            ep.push(Seg::Index(ei));
            let who = format!("trial {}, endpoint \"{}\"", t.index, e.name);
            if !names.insert(e.name.as_str()) {
                out.push((
                    key(&ep, &["name"]),
                    format!("endpoint \"{}\" appears twice in trial {}; each endpoint is listed once per trial", e.name, t.index),
                ));
            }
            if e.throughput_rps < 0.0 {
                out.push((
                    key(&ep, &["throughput_rps"]),
                    format!(
                        "{who}: {} is not a throughput; requests per second are ≥ 0",
                        e.throughput_rps
                    ),
                ));
            }
            if e.errors.total > e.requests {
                out.push((
                    key(&ep, &["errors", "total"]),
                    format!("{who}: {} errors out of {} requests; errors are counted among the requests, so the counts were edited — {again}", e.errors.total, e.requests),
                ));
            }
            match decode_histogram(&e.histogram) {
                Ok(h) => {
                    let successes = e.requests.saturating_sub(e.errors.total);
                    if h.len() > successes && e.errors.total <= e.requests {
                        out.push((
                            key(&ep, &["requests"]),
                            format!("{who}: {} requests less {} errors leave {successes} successful ones, but the histogram holds {} latencies; the counts were edited — {again}", e.requests, e.errors.total, h.len()),
                        ));
                    }
                }
                Err(m) => out.push((
                    key(&ep, &["histogram"]),
                    format!("{who}: the histogram does not decode ({m}); the file was truncated or edited — {again}"),
                )),
            }
            let bad: Vec<(usize, String)> = e
                .windows
                .iter()
                .enumerate()
                .filter_map(|(wi, w)| decode_histogram(&w.histogram).err().map(|m| (wi, m)))
                .collect();
            if let Some((first, m)) = bad.first() {
                let mut at = key(&ep, &["windows"]);
                at.push(Seg::Index(*first));
                at.push(Seg::Key("histogram".into()));
                let which: Vec<String> = bad.iter().map(|(i, _)| i.to_string()).collect();
                out.push((
                    at,
                    format!(
                        "{who}: the histogram of window{} {} does not decode ({m}); the file was truncated or edited — {again}",
                        if bad.len() == 1 { "" } else { "s" },
                        which.join(", ")
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
        json_locate(text, path)
    }

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn json_paths_are_located_at_their_key_or_element() {
        let text = "{\n  \"a\": {\"x\": [1, {\"s\": \"q\\\"}\"}],\n  \"y\": 2},\n  \"b\\u0041\": [\n    [],\n    {\"z\": null}\n  ]\n}";
        assert_eq!(at(text, &[]), Some((1, 1)));
        assert_eq!(at(text, &[k("a")]), Some((2, 3)));
        assert_eq!(at(text, &[k("a"), k("y")]), Some((3, 3)));
        assert_eq!(
            at(text, &[k("a"), k("x"), Seg::Index(1), k("s")]),
            Some((2, 19))
        );
        assert_eq!(at(text, &[k("bA"), Seg::Index(1)]), Some((6, 5)));
        assert_eq!(at(text, &[k("bA"), Seg::Index(1), k("z")]), Some((6, 6)));
        // The deepest part that exists.
        assert_eq!(at(text, &[k("bA"), Seg::Index(7)]), Some((4, 3)));
        assert_eq!(at(text, &[k("nope"), k("deeper")]), Some((1, 1)));
        assert_eq!(at("", &[k("a")]), Some((1, 1)));
    }

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
}
