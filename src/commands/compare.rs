//! `perfgate compare`: a result against a baseline, rendered in the format asked for, published,
//! and the verdict as the outcome.

use std::path::PathBuf;

use super::gate::{self, GateOptions, PublishOptions};
use crate::commands::failure::{Failure, Outcome};
use crate::compare;
use crate::report::{self, Format};

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub gate: GateOptions,
    pub publish: PublishOptions,
    /// The result to judge.
    pub current: PathBuf,
    pub format: Format,
    /// Write the report here instead of standard output.
    pub output: Option<PathBuf>,
}

pub async fn compare(opts: CompareOptions) -> Result<Outcome, Failure> {
    // Every input is read, and every one that is wrong is reported, before giving up.
    let (th, base, cur) = Failure::all3(
        gate::thresholds(&opts.gate),
        gate::baseline(&opts.gate),
        gate::current(&opts.current),
    )?;
    let label = opts.current.display().to_string();
    let c = match &base {
        Some((base, base_label)) => {
            if let Some(e) = th.unmatched(&compare::names_of(&[base, &cur])) {
                return Err(Failure::Rules(e));
            }
            gate::comparable(base, &cur, opts.gate.allow_mismatch)?;
            compare::compare(base, &cur, &th, base_label, &label)
        }
        None => {
            if let Some(e) = th.unmatched(&compare::names_of(&[&cur])) {
                return Err(Failure::Rules(e));
            }
            compare::judge_alone(&cur, &th, &label)
        }
    };
    let text = report::render(
        &c,
        opts.format,
        gate::colour(opts.output.is_none(), opts.format),
    )?;
    match &opts.output {
        Some(p) => gate::write_report(p, &text)?,
        None => print!("{text}"),
    }
    gate::publish_and_judge(&c, &opts.publish).await
}
