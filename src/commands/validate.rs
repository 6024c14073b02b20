//! `perfgate validate`: reads the profile (and the rules, when given or present) and lists every
//! problem with its file:line:column, without sending any load.

use std::path::PathBuf;

use crate::commands::failure::{Failure, Outcome};
use crate::compare::rules::Thresholds;
use crate::units::plural;

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub profile: PathBuf,
    /// The rules; None: thresholds.toml when it exists.
    pub thresholds: Option<PathBuf>,
}

pub fn validate(opts: ValidateOptions) -> Result<Outcome, Failure> {
    let path = opts
        .thresholds
        .clone()
        .unwrap_or_else(|| PathBuf::from("thresholds.toml"));
    let rules = Thresholds::load(&path, opts.thresholds.is_some()).map_err(Failure::Rules);
    let profile = crate::config::load(&opts.profile, &Default::default()).map_err(Failure::from);
    if let Ok(p) = &profile {
        println!(
            "{} is valid: profile \"{}\", {}, {}",
            opts.profile.display(),
            p.name,
            plural(p.scenarios.len(), "scenario", "scenarios"),
            plural(p.endpoints.len(), "endpoint", "endpoints"),
        );
    }
    // Rules are matched against the endpoints only when both read.
    let unmatched = match (&profile, &rules) {
        (Ok(p), Ok(r)) => r
            .unmatched(&super::gate::profile_names(p))
            .map(Failure::Rules),
        _ => None,
    };
    if let (Ok(r), Ok(_), None) = (&rules, &profile, &unmatched) {
        if let Some(p) = &r.path {
            println!(
                "{} is valid: {} gated",
                p.display(),
                plural(r.metrics.len(), "metric", "metrics")
            );
        }
    }
    let unmatched = unmatched.map_or(Ok(()), Err);
    Failure::all3(profile, rules, unmatched)?;
    Ok(Outcome::Done)
}
