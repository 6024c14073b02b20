//! The shape ARCHITECTURE.md promises, checked on the source itself: no import cycle between
//! modules (top level, or siblings within a module), a `//!` line opening every file, no file
//! over 600 lines and no function over 120, nothing below `commands` printing or exiting, and no
//! `i32` as an error type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Every source file, with its module path (`engine/http1/mod.rs` → ["engine", "http1"]) and its
/// text up to its test module.
struct File {
    path: PathBuf,
    module: Vec<String>,
    text: String,
    code: String,
}

fn files() -> Vec<File> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(Path::new(SRC), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(SRC).unwrap().with_extension("");
            let mut module: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let dir_module = matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            );
            if dir_module {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            File {
                path,
                module,
                text,
                code,
            }
        })
        .collect()
}

/// The module paths a text names after `prefix` (`crate::engine::http1::Conn` → engine, http1…).
fn named_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = Vec<String>> + 'a {
    code.match_indices(prefix).map(move |(i, _)| {
        let rest = &code[i + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

fn cycle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = stack.iter().position(|s| s == n) {
            let mut c = stack[at..].to_vec();
            c.push(n.clone());
            return Some(c);
        }
        if !done.insert(n.clone()) {
            return None;
        }
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let files = files();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in &files {
        // A file's parent is where its siblings live; a directory module is one of its
        // parent's children too.
        let (parent, me) = match f.module.split_last() {
            Some((me, parent)) => (parent.to_vec(), me.clone()),
            None => continue,
        };
        let mut add = |target: &[String]| {
            // Top level: crate::a from inside module b.
            if let Some(top) = target.first() {
                if *top != f.module[0] && modules.contains(&vec![top.clone()]) {
                    edges
                        .entry(vec![f.module[0].clone()])
                        .or_default()
                        .insert(vec![top.clone()]);
                }
            }
            // Siblings: parent::c from parent::me.
            if target.len() > parent.len() && target[..parent.len()] == parent[..] {
                let sibling = target[..=parent.len()].to_vec();
                if sibling.last() != Some(&me) && modules.contains(&sibling) {
                    let mut from = parent.clone();
                    from.push(me.clone());
                    edges.entry(from).or_default().insert(sibling);
                }
            }
        };
        for t in named_after(&f.code, "crate::") {
            add(&t);
        }
        // `super::` is the parent, for a file and for a directory's mod.rs alike.
        for t in named_after(&f.code, "super::") {
            let mut full = parent.clone();
            full.extend(t);
            add(&full);
        }
    }
    let top: BTreeMap<_, _> = edges
        .iter()
        .filter(|(k, _)| k.len() == 1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(top.len() > 10, "the check sees the modules: {top:?}");
    let m = |s: &str| vec![s.to_string()];
    let looped = BTreeMap::from([
        (m("a"), BTreeSet::from([m("b")])),
        (m("b"), BTreeSet::from([m("a")])),
    ]);
    assert!(cycle(&looped).is_some(), "the check finds a cycle");
    assert_eq!(cycle(&edges), None, "an import cycle between modules");
}

#[test]
fn every_file_says_what_it_is_for_and_stays_small() {
    let mut problems = Vec::new();
    for f in files() {
        let name = f.path.strip_prefix(SRC).unwrap().display().to_string();
        if !f.text.starts_with("//!") {
            problems.push(format!("{name}: does not open with a //! line"));
        }
        let lines: Vec<&str> = f.text.lines().collect();
        if lines.len() > 600 {
            problems.push(format!("{name}: {} lines (at most 600)", lines.len()));
        }
        // Functions: from a `fn` line to the closing brace at its indentation.
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(super) fn ",
                "pub(super) async fn ",
                "pub(crate) fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if !is_fn || t.ends_with(';') {
                continue;
            }
            let indent = line.len() - t.len();
            let close = " ".repeat(indent) + "}";
            let len = lines[i..]
                .iter()
                .position(|l| l.starts_with(&close) && l.len() - l.trim_start().len() == indent)
                .map_or(0, |n| n + 1);
            if len > 120 {
                problems.push(format!(
                    "{name}:{}: a function of {len} lines (at most 120)",
                    i + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_the_command_layer_prints_and_only_main_exits() {
    let mut problems = Vec::new();
    for f in files() {
        let name = f.path.strip_prefix(SRC).unwrap().display().to_string();
        let commands = f.module.first().is_some_and(|m| m == "commands");
        let main = name == "main.rs";
        for (i, line) in f.code.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let prints = [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "io::stdout()",
                "io::stderr()",
            ]
            .iter()
            .any(|p| code.contains(p));
            if prints && !commands && !main {
                problems.push(format!("{name}:{}: prints below the command layer", i + 1));
            }
            if code.contains("process::exit") && !main {
                problems.push(format!(
                    "{name}:{}: exits; only main turns outcomes into exit codes",
                    i + 1
                ));
            }
            if code.replace(' ', "").contains(",i32>") && code.contains("Result<") {
                problems.push(format!("{name}:{}: an i32 as an error type", i + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
