//! `perfgate report`: renders a result (alone, or compared with a baseline) after the fact,
//! in any format, with the renderers `check` uses. It judges nothing: a rendered report exits
//! 0 whatever its verdict.

use std::path::{Path, PathBuf};

use super::compare::judge;
use super::gate::{self, GateOptions};
use crate::commands::failure::{Failure, Outcome};
use crate::report::{self, Format};

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub gate: GateOptions,
    /// The result to render.
    pub result: PathBuf,
    pub format: Format,
    /// Where to write: a file, or for CSV the files' prefix; None: standard output (CSV: the
    /// result's path without `.json`).
    pub output: Option<PathBuf>,
}

/// `results/current.json` → `results/current`, the prefix of its CSV files.
fn prefix_of(result: &Path) -> PathBuf {
    result.with_extension("")
}

pub fn report(opts: ReportOptions) -> Result<Outcome, Failure> {
    let j = judge(&opts.gate, &opts.result)?;
    let r = j.report();
    if opts.format == Format::Csv {
        let prefix = opts
            .output
            .clone()
            .unwrap_or_else(|| prefix_of(&opts.result));
        let files = report::csv::render(&j.current).map_err(report::RenderError::Data)?;
        for (suffix, text) in files {
            let mut name = prefix.clone().into_os_string();
            name.push(suffix);
            let path = PathBuf::from(name);
            gate::write_report(&path, &text)?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(Outcome::Done);
    }
    gate::emit(&r, opts.format, opts.output.as_deref())?;
    if let Some(p) = &opts.output {
        eprintln!("wrote {}", p.display());
    }
    Ok(Outcome::Done)
}
