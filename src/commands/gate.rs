//! What `check`, `ab` and `compare` share: reading the rules and the baseline, refusing results
//! that cannot be compared, writing reports, and publishing the verdict.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::baseline::BaselineError;
use crate::commands::failure::{Failure, Outcome};
use crate::compare::rules::{Names, Thresholds};
use crate::compare::{self, Comparison, Verdict};
use crate::report::{self, Format, Report};
use crate::result::RunResult;

/// Which baseline to compare with, and under which rules.
#[derive(Debug, Clone)]
pub struct GateOptions {
    pub baseline: BaselineRef,
    /// The rules; None: thresholds.toml if it exists, else the built-in defaults.
    pub thresholds: Option<PathBuf>,
    /// Compare even when the profiles or load sizes differ.
    pub allow_mismatch: bool,
}

/// A stored baseline (`DIR/NAME.json`), any result file, or none (`--no-baseline`: only the
/// rules that need no baseline are judged).
#[derive(Debug, Clone)]
pub enum BaselineRef {
    Named { name: String, dir: PathBuf },
    File(PathBuf),
    None,
}

/// Where to publish the verdict.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    pub to: crate::publish::Options,
    /// A publishing failure fails the command (exit 4) instead of being a warning.
    pub require: bool,
}

/// The thresholds: the given file (must exist), or thresholds.toml if present, or defaults.
pub fn thresholds(g: &GateOptions) -> Result<Thresholds, Failure> {
    let (path, required) = match &g.thresholds {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("thresholds.toml"), false),
    };
    Thresholds::load(&path, required).map_err(Failure::Rules)
}

/// The baseline result and how to call it in reports (None with `--no-baseline`).
pub fn baseline(g: &GateOptions) -> Result<Option<(RunResult, String)>, Failure> {
    match &g.baseline {
        BaselineRef::File(p) => RunResult::read(p)
            .map(|r| Some((r, p.display().to_string())))
            .map_err(|e| BaselineError::Read(e).into()),
        BaselineRef::Named { name, dir } => crate::baseline::load(dir, name)
            .map(|(r, _)| Some((r, format!("baseline {name}"))))
            .map_err(Failure::from),
        BaselineRef::None => Ok(None),
    }
}

/// The result to judge; a missing one says how to make it.
pub fn current(path: &Path) -> Result<RunResult, Failure> {
    RunResult::read(path).map_err(|e| match &e {
        crate::result::ReadError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Failure::NoCurrent(e)
        }
        _ => Failure::Current(e),
    })
}

/// The names a profile will give its results: endpoints, stages (the phases), scenarios.
pub fn profile_names(p: &crate::config::Profile) -> Names {
    Names {
        endpoints: p.endpoints.clone(),
        stages: p.load.phases().into_iter().map(|ph| ph.name).collect(),
        scenarios: p.scenarios.iter().map(|s| s.name.clone()).collect(),
    }
}

/// Both sets of names, each once, in first-seen order.
pub fn union(mut a: Names, b: Names) -> Names {
    for (into, from) in [
        (&mut a.endpoints, b.endpoints),
        (&mut a.stages, b.stages),
        (&mut a.scenarios, b.scenarios),
    ] {
        for e in from {
            if !into.contains(&e) {
                into.push(e);
            }
        }
    }
    a
}

/// Refuses (exit 3) results that measure different things, unless allowed.
pub fn comparable(base: &RunResult, cur: &RunResult, allow: bool) -> Result<(), Failure> {
    let c = compare::comparability(base, cur);
    if c.mismatches.is_empty() {
        return Ok(());
    }
    if allow {
        eprintln!(
            "warning: comparing results that differ (--allow-mismatch):\n  {}",
            c.mismatches.join("\n  ")
        );
        return Ok(());
    }
    Err(Failure::Incomparable(c.mismatches))
}

/// Writes a report file atomically.
pub fn write_report(path: &Path, text: &str) -> Result<(), Failure> {
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| Failure::WriteReport {
        path: path.to_path_buf(),
        source,
    })
}

/// Renders `r` in `format` to the file asked for (atomically), or to standard output.
pub fn emit(r: &Report, format: Format, output: Option<&Path>) -> Result<(), Failure> {
    let text = report::render(r, format, colour(output.is_none(), format))?;
    match output {
        Some(p) => write_report(p, &text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// The prefix of the Locust-compatible CSV files `check` and `compare` write.
pub const CSV_PREFIX: &str = "perfgate";

/// Writes the HTML report and the Locust-compatible CSV files into `dir`; returns their names.
pub fn write_charts(dir: &Path, r: &Report) -> Result<Vec<String>, Failure> {
    let mut names = vec!["report.html".to_string()];
    write_report(
        &dir.join("report.html"),
        &report::render(r, Format::Html, false)?,
    )?;
    if let Some(cur) = r.current {
        for (suffix, text) in report::csv::render(cur).map_err(report::RenderError::Data)? {
            let name = format!("{CSV_PREFIX}{suffix}");
            write_report(&dir.join(&name), &text)?;
            names.push(name);
        }
    }
    Ok(names)
}

/// `--color`: whether tables printed to standard output are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColourChoice {
    /// When standard output is a terminal and `NO_COLOR` is not set (no-color.org).
    #[default]
    Auto,
    Always,
    Never,
}

static COLOUR: std::sync::OnceLock<ColourChoice> = std::sync::OnceLock::new();

/// Sets the process's colour choice, once (from the command line, in `main`).
pub fn set_colour(choice: ColourChoice) {
    let _ = COLOUR.set(choice);
}

/// Colour only for a table printed to standard output, as `--color` says: by default when it is
/// a terminal and `NO_COLOR` is unset or empty; an explicit `--color always` wins over
/// `NO_COLOR`. A file never gets colour.
pub fn colour(to_terminal: bool, format: Format) -> bool {
    if !to_terminal || format != Format::Table {
        return false;
    }
    match COLOUR.get().copied().unwrap_or_default() {
        ColourChoice::Always => true,
        ColourChoice::Never => false,
        ColourChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Publishes, and turns the verdict and the publishing outcome into the command's outcome.
pub async fn publish_and_judge(r: &Report<'_>, opts: &PublishOptions) -> Result<Outcome, Failure> {
    let c: &Comparison = r.comparison;
    let to = &opts.to;
    if to.github || to.webhook.is_some() {
        let markdown = report::render(r, Format::Md, false)?;
        let done = crate::publish::publish(c, &markdown, to).await;
        for line in &done.annotations {
            println!("{line}");
        }
        for n in &done.notes {
            eprintln!("{n}");
        }
        for f in &done.failures {
            eprintln!("warning: publishing: {f}");
        }
        // A failed gate keeps its exit code: 4 must never hide a regression.
        if opts.require && !done.failures.is_empty() && c.verdict != Verdict::Fail {
            return Err(Failure::Publish);
        }
    }
    Ok(if c.verdict == Verdict::Fail {
        Outcome::GateFailed
    } else {
        Outcome::Done
    })
}

/// The reports `check` and `ab` write, by file name.
const REPORTS: [(&str, Format); 3] = [
    ("report.md", Format::Md),
    ("report.json", Format::Json),
    ("junit.xml", Format::Junit),
];

/// Writes the reports into `dir`, prints the table and publishes: what every check (and `ab`)
/// ends with.
pub async fn conclude(
    dir: &Path,
    publish: &PublishOptions,
    c: &Comparison,
    current: &RunResult,
    baseline: Option<&RunResult>,
) -> Result<Outcome, Failure> {
    let r = Report {
        comparison: c,
        current: Some(current),
        baseline,
    };
    let mut written: Vec<String> = Vec::new();
    for (name, format) in REPORTS {
        write_report(&dir.join(name), &report::render(&r, format, false)?)?;
        written.push(name.to_string());
    }
    written.extend(write_charts(dir, &r)?);
    print!(
        "{}",
        report::render(&r, Format::Table, colour(true, Format::Table))?
    );
    eprintln!(
        "reports written to {}/ ({})",
        dir.display(),
        written.join(", ")
    );
    publish_and_judge(&r, publish).await
}
