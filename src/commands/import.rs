//! `perfgate import`: another tool's result files (one per trial) as a perfgate result, then
//! the per-endpoint summary, as `run` prints it.

use std::path::PathBuf;

use super::run;
use crate::commands::failure::{Failure, Outcome};
use crate::import::{self, Format};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// One file per trial.
    pub files: Vec<PathBuf>,
    pub output: PathBuf,
    /// The profile name (default: the tool's).
    pub name: Option<String>,
    pub quiet: bool,
}

pub fn import(opts: ImportOptions) -> Result<Outcome, Failure> {
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| opts.format.tool().to_string());
    let result = import::import(opts.format, &opts.files, &name)?;
    if !opts.quiet {
        print!("{}", crate::report::summary::render(&result)?);
    }
    run::save(&opts.output, &result)?;
    Ok(Outcome::Done)
}
