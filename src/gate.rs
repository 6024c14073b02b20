//! `perfgate compare`, `perfgate check` and `perfgate baseline`: loading what the gate needs,
//! refusing what cannot be compared, rendering the verdict, and mapping it to the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::baseline::{self, BaselineError};
use crate::cli::{BaselineCommand, CheckArgs, CompareArgs, GateArgs};
use crate::compare::rules::Thresholds;
use crate::compare::{self, Comparison, Verdict};
use crate::exit;
use crate::report::{self, Format};
use crate::result::RunResult;

fn fail(msg: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("error: {}", msg.to_string().trim_end());
    code
}

fn baseline_error_code(e: &BaselineError) -> i32 {
    match e {
        BaselineError::Missing { .. } => exit::RUN_FAILED,
        BaselineError::Read(crate::result::ReadError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            exit::RUN_FAILED
        }
        _ => exit::INVALID_INPUT,
    }
}

/// The thresholds: the given file (must exist), or thresholds.toml if present, or defaults.
fn thresholds(g: &GateArgs) -> Result<Thresholds, i32> {
    let (path, required) = match &g.thresholds {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("thresholds.toml"), false),
    };
    Thresholds::load(&path, required).map_err(|e| fail(e, exit::INVALID_INPUT))
}

/// The baseline result and how to call it in reports.
fn load_baseline(g: &GateArgs) -> Result<(RunResult, String), i32> {
    match &g.baseline_file {
        Some(p) => match RunResult::read(p) {
            Ok(r) => Ok((r, p.display().to_string())),
            Err(e) => {
                let e = BaselineError::Read(e);
                Err(fail(&e, baseline_error_code(&e)))
            }
        },
        None => match baseline::load(&g.baselines_dir, &g.baseline) {
            Ok((r, _)) => Ok((r, format!("baseline {}", g.baseline))),
            Err(e) => Err(fail(&e, baseline_error_code(&e))),
        },
    }
}

/// The result to judge; a missing one says how to make it.
fn load_current(path: &Path) -> Result<RunResult, i32> {
    RunResult::read(path).map_err(|e| match &e {
        crate::result::ReadError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            fail(
                format!("{e}; run `perfgate run` first, or name the result with --current FILE"),
                exit::INVALID_INPUT,
            )
        }
        _ => fail(e, exit::INVALID_INPUT),
    })
}

/// The exit code when several inputs failed (each has said why): invalid input comes first,
/// because fixing it is the next step whatever else is missing.
fn worst(codes: &[Option<i32>]) -> i32 {
    if codes.contains(&Some(exit::INVALID_INPUT)) {
        exit::INVALID_INPUT
    } else {
        codes
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(exit::INVALID_INPUT)
    }
}

/// The endpoints of both sides, each once, in first-seen order.
fn union(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    for e in b {
        if !a.contains(&e) {
            a.push(e);
        }
    }
    a
}

/// Refuses (exit 3) results that measure different things, unless allowed.
fn comparable(base: &RunResult, cur: &RunResult, allow: bool) -> Result<(), i32> {
    let c = compare::comparability(base, cur);
    if c.mismatches.is_empty() {
        return Ok(());
    }
    let list = c.mismatches.join("\n  ");
    if allow {
        eprintln!("warning: comparing results that differ (--allow-mismatch):\n  {list}");
        return Ok(());
    }
    Err(fail(
        format!("the baseline and the current result are not comparable:\n  {list}\nRecord a new baseline for this profile, or pass --allow-mismatch to compare anyway."),
        exit::RUN_FAILED,
    ))
}

fn verdict_code(c: &Comparison) -> i32 {
    if c.verdict == Verdict::Fail {
        exit::GATE_FAILED
    } else {
        exit::PASS
    }
}

fn write_report(path: &Path, text: &str) -> Result<(), i32> {
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|e| {
        fail(
            format!("cannot write {}: {e}", path.display()),
            exit::RUN_FAILED,
        )
    })
}

/// Publishes, and turns the verdict and the publishing outcome into the exit code.
async fn publish_and_exit(c: &Comparison, args: &crate::cli::PublishArgs) -> i32 {
    let opts = args.options();
    if opts.github || opts.webhook.is_some() {
        let markdown = report::render(c, Format::Md, false);
        let failures = crate::publish::publish(c, &markdown, &opts).await;
        // A failed gate keeps its exit code: 4 must never hide a regression.
        if args.require_publish && !failures.is_empty() && c.verdict != Verdict::Fail {
            eprintln!("error: publishing failed and --require-publish was given");
            return exit::PUBLISH_FAILED;
        }
    }
    verdict_code(c)
}

pub async fn compare(args: CompareArgs) -> i32 {
    let run = || -> Result<Comparison, i32> {
        // Every input is read, and every one that is wrong is reported, before giving up.
        let (th, base, cur) = match (
            thresholds(&args.gate),
            load_baseline(&args.gate),
            load_current(&args.current),
        ) {
            (Ok(th), Ok(base), Ok(cur)) => (th, base, cur),
            (th, base, cur) => return Err(worst(&[th.err(), base.err(), cur.err()])),
        };
        let (base, label) = base;
        let endpoints = union(base.endpoint_names(), cur.endpoint_names());
        if let Some(e) = th.unmatched(&endpoints) {
            return Err(fail(e, exit::INVALID_INPUT));
        }
        comparable(&base, &cur, args.gate.allow_mismatch)?;
        let c = compare::compare(
            &base,
            &cur,
            &th,
            &label,
            &args.current.display().to_string(),
        );
        let colour = args.output.is_none()
            && args.format == Format::Table
            && std::io::stdout().is_terminal();
        let text = report::render(&c, args.format, colour);
        match &args.output {
            Some(p) => write_report(p, &text)?,
            None => print!("{text}"),
        }
        Ok(c)
    };
    match run() {
        Ok(c) => publish_and_exit(&c, &args.publish).await,
        Err(code) => code,
    }
}

pub async fn check(args: CheckArgs) -> i32 {
    // Everything that can be checked before the load runs is checked first, and every input
    // that is wrong is reported before giving up.
    let profile = crate::config::load(&args.run.profile.profile, &args.run.overrides())
        .map(Arc::new)
        .map_err(|e| fail(e, exit::INVALID_INPUT));
    let (profile, th, (base, label)) =
        match (profile, thresholds(&args.gate), load_baseline(&args.gate)) {
            (Ok(p), Ok(th), Ok(base)) => (p, th, base),
            (p, th, base) => return worst(&[p.err(), th.err(), base.err()]),
        };
    let endpoints = union(base.endpoint_names(), profile.endpoints.clone());
    if let Some(e) = th.unmatched(&endpoints) {
        return fail(e, exit::INVALID_INPUT);
    }
    // The load is known before running: refuse a mismatch now rather than after the run.
    let mut planned = base.clone();
    planned.meta.profile.hash = profile.hash.clone();
    planned.meta.load = crate::meta::load_meta(&profile);
    planned.meta.host = base.meta.host.clone();
    if let Err(code) = comparable(&base, &planned, args.gate.allow_mismatch) {
        return code;
    }

    let workers = args
        .run
        .workers
        .unwrap_or_else(crate::engine::default_workers);
    let mut progress = crate::progress::Progress::auto(args.run.quiet);
    let (result, ended) = match crate::run::execute(profile, workers, &mut progress).await {
        Ok(x) => x,
        Err(e) => {
            let code = e.exit_code();
            return fail(e, code);
        }
    };
    if let Err(code) = crate::run::save(&args.run.output, &result) {
        return code;
    }
    if !matches!(ended, crate::run::Ended::Complete) {
        print!("{}", report::summary::render(&result));
        eprintln!("error: the run was not completed; nothing was compared");
        return ended.exit_code();
    }
    let c = compare::compare(&base, &result, &th, &label, "current");
    let dir = &args.report_dir;
    for (name, format) in [
        ("report.md", Format::Md),
        ("report.json", Format::Json),
        ("junit.xml", Format::Junit),
    ] {
        if let Err(code) = write_report(&dir.join(name), &report::render(&c, format, false)) {
            return code;
        }
    }
    print!(
        "{}",
        report::render(&c, Format::Table, std::io::stdout().is_terminal())
    );
    eprintln!(
        "reports written to {}/ (report.md, report.json, junit.xml)",
        dir.display()
    );
    publish_and_exit(&c, &args.publish).await
}

pub fn baseline_command(cmd: BaselineCommand) -> i32 {
    match cmd {
        BaselineCommand::Save { name, result, dir } => match baseline::save(&dir, &name, &result) {
            Ok(p) => {
                println!(
                    "saved {} as baseline \"{name}\" ({})",
                    result.display(),
                    p.display()
                );
                exit::PASS
            }
            Err(e) => {
                let code = match &e {
                    BaselineError::Write { .. } => exit::RUN_FAILED,
                    _ => exit::INVALID_INPUT,
                };
                fail(e, code)
            }
        },
        BaselineCommand::List { dir } => {
            let names = baseline::names(&dir);
            if names.is_empty() {
                eprintln!("no baselines in {}", dir.display());
            }
            for n in names {
                match baseline::load(&dir, &n) {
                    Ok((r, _)) => println!("{n}\t{}", baseline::describe(&r)),
                    Err(e) => println!("{n}\tunreadable: {e}"),
                }
            }
            exit::PASS
        }
        BaselineCommand::Show { name, dir } => match baseline::load(&dir, &name) {
            Ok((r, p)) => {
                println!("{}: {}", p.display(), baseline::describe(&r));
                print!("{}", report::summary::render(&r));
                exit::PASS
            }
            Err(e) => {
                let code = baseline_error_code(&e);
                fail(e, code)
            }
        },
    }
}
