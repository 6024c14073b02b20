//! Whether two results measure the same thing: the same profile and load, else the comparison
//! is refused (exit 3 unless allowed); a different machine or an incomplete run is a warning.

use crate::result::RunResult;

/// Whether two results measure the same thing.
pub struct Comparability {
    /// Differences that make the comparison meaningless (exit 3 unless allowed).
    pub mismatches: Vec<String>,
    /// Differences worth a note in the report.
    pub warnings: Vec<String>,
}

/// A load size for people: the value, or "none" (the other model).
fn shown(v: Option<String>) -> String {
    v.unwrap_or_else(|| "none".into())
}

pub fn comparability(base: &RunResult, cur: &RunResult) -> Comparability {
    let (b, c) = (&base.meta, &cur.meta);
    let mut mismatches = Vec::new();
    let mut warnings = Vec::new();
    if b.profile.hash != c.profile.hash {
        mismatches.push(format!(
            "the profiles differ (hash {} vs {}): the load or the scenarios changed since the baseline was recorded",
            b.profile.hash, c.profile.hash
        ));
    }
    let (bl, cl) = (&b.load, &c.load);
    if bl.model != cl.model {
        mismatches.push(format!("load model {} vs {}", bl.model, cl.model));
    }
    if bl.users != cl.users {
        mismatches.push(format!(
            "users {} vs {}",
            shown(bl.users.map(|u| u.to_string())),
            shown(cl.users.map(|u| u.to_string()))
        ));
    }
    if bl.rate != cl.rate {
        mismatches.push(format!(
            "rate {} vs {}",
            shown(bl.rate.map(|r| format!("{r}/s"))),
            shown(cl.rate.map(|r| format!("{r}/s")))
        ));
    }
    // An imported run's length is what the tool measured, a second more or less each time.
    let imported = b.source.is_some() && c.source.is_some();
    if !imported && (bl.duration_s != cl.duration_s || bl.warmup_s != cl.warmup_s) {
        mismatches.push(format!(
            "duration {}s + warmup {}s vs {}s + {}s",
            bl.duration_s, bl.warmup_s, cl.duration_s, cl.warmup_s
        ));
    }
    if b.host.fingerprint != c.host.fingerprint {
        warnings.push(format!(
            "different machines: baseline on {} ({} cores), current on {} ({} cores); differences may be the machine's",
            b.host.cpu_model, b.host.cores, c.host.cpu_model, c.host.cores
        ));
    }
    if !cur.complete {
        warnings.push(format!(
            "the current result is incomplete ({})",
            cur.incomplete_reason.as_deref().unwrap_or("did not finish")
        ));
    }
    Comparability {
        mismatches,
        warnings,
    }
}
