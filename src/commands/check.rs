//! `perfgate check`: the command CI calls. Everything that can be checked before the load is
//! checked first (profile, data, rules, baseline, comparability), then the profile runs, the
//! result is compared with the baseline, the reports are written and the verdict published.

use std::path::PathBuf;
use std::sync::Arc;

use super::gate::{self, GateOptions, PublishOptions};
use super::progress::Progress;
use super::run::{self, RunOptions};
use crate::commands::failure::{Failure, Outcome};
use crate::compare;
use crate::report::{self, Format};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub run: RunOptions,
    pub gate: GateOptions,
    pub publish: PublishOptions,
    /// Directory for report.md, report.json and junit.xml.
    pub report_dir: PathBuf,
}

/// The reports `check` writes, by file name.
const REPORTS: [(&str, Format); 3] = [
    ("report.md", Format::Md),
    ("report.json", Format::Json),
    ("junit.xml", Format::Junit),
];

pub async fn check(opts: CheckOptions) -> Result<Outcome, Failure> {
    let profile = crate::config::load(&opts.run.profile, &opts.run.overrides)
        .map(Arc::new)
        .map_err(Failure::from);
    let (profile, th, (base, label)) = Failure::all3(
        profile,
        gate::thresholds(&opts.gate),
        gate::baseline(&opts.gate),
    )?;
    let endpoints = gate::union(base.endpoint_names(), profile.endpoints.clone());
    if let Some(e) = th.unmatched(&endpoints) {
        return Err(Failure::Rules(e));
    }
    // The load is known before running: refuse a mismatch now rather than after the run.
    let mut planned = base.clone();
    planned.meta.profile.hash = profile.hash.clone();
    planned.meta.load = crate::meta::load_meta(&profile);
    gate::comparable(&base, &planned, opts.gate.allow_mismatch)?;

    let mut progress = Progress::auto(opts.run.quiet);
    let ran = run::execute(profile, opts.run.workers(), &mut progress).await?;
    drop(progress);
    run::save(&opts.run.output, &ran.result)?;
    if let Some(reason) = ran.stopped {
        print!("{}", report::summary::render(&ran.result)?);
        return Err(Failure::NotCompared(reason));
    }
    let c = compare::compare(&base, &ran.result, &th, &label, "current");
    let dir = &opts.report_dir;
    for (name, format) in REPORTS {
        gate::write_report(&dir.join(name), &report::render(&c, format, false)?)?;
    }
    print!(
        "{}",
        report::render(&c, Format::Table, gate::colour(true, Format::Table))?
    );
    eprintln!(
        "reports written to {}/ ({})",
        dir.display(),
        REPORTS.map(|(n, _)| n).join(", ")
    );
    gate::publish_and_judge(&c, &opts.publish).await
}
