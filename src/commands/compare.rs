//! `perfgate compare`: a result against a baseline, rendered in the format asked for, published,
//! and the verdict as the outcome.

use std::path::{Path, PathBuf};

use super::gate::{self, GateOptions, PublishOptions};
use crate::commands::failure::{Failure, Outcome};
use crate::compare::{self, Comparison};
use crate::report::{Format, Report};
use crate::result::RunResult;

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub gate: GateOptions,
    pub publish: PublishOptions,
    /// The result to judge.
    pub current: PathBuf,
    pub format: Format,
    /// Write the report here instead of standard output.
    pub output: Option<PathBuf>,
    /// Also write report.html and the Locust-compatible CSV files here (None: don't).
    pub report_dir: Option<PathBuf>,
}

/// A result judged: the comparison, the baseline it was compared with, and the result.
pub struct Judged {
    pub comparison: Comparison,
    pub baseline: Option<RunResult>,
    pub current: RunResult,
}

impl Judged {
    pub fn report(&self) -> Report<'_> {
        Report {
            comparison: &self.comparison,
            current: Some(&self.current),
            baseline: self.baseline.as_ref(),
        }
    }
}

/// Reads the rules, the baseline (if any) and the result, and compares them (what `compare`
/// and `report` share).
pub fn judge(g: &GateOptions, current: &Path) -> Result<Judged, Failure> {
    // Every input is read, and every one that is wrong is reported, before giving up.
    let (th, base, cur) = Failure::all3(
        gate::thresholds(g),
        gate::baseline(g),
        gate::current(current),
    )?;
    let label = current.display().to_string();
    let c = match &base {
        Some((base, base_label)) => {
            if let Some(e) = th.unmatched(&compare::names_of(&[base, &cur])) {
                return Err(Failure::Rules(e));
            }
            gate::comparable(base, &cur, g.allow_mismatch)?;
            compare::compare(base, &cur, &th, base_label, &label)
        }
        None => {
            if let Some(e) = th.unmatched(&compare::names_of(&[&cur])) {
                return Err(Failure::Rules(e));
            }
            compare::judge_alone(&cur, &th, &label)
        }
    };
    Ok(Judged {
        comparison: c,
        baseline: base.map(|(b, _)| b),
        current: cur,
    })
}

pub async fn compare(opts: CompareOptions) -> Result<Outcome, Failure> {
    let j = judge(&opts.gate, &opts.current)?;
    let r = j.report();
    gate::emit(&r, opts.format, opts.output.as_deref())?;
    if let Some(dir) = &opts.report_dir {
        let names = gate::write_charts(dir, &r)?;
        eprintln!(
            "reports written to {}/ ({})",
            dir.display(),
            names.join(", ")
        );
    }
    gate::publish_and_judge(&r, &opts.publish).await
}
