//! One table model for a comparison, rendered by the terminal, Markdown and (later) HTML
//! formats, so that they never drift apart.

use crate::compare::rules::Metric;
use crate::compare::{Comparison, Row, Verdict};
use crate::units::{self, plural};

pub const COLUMNS: [&str; 6] = [
    "endpoint", "metric", "baseline", "current", "change", "verdict",
];

pub struct TableRow {
    pub cells: [String; 6],
    pub verdict: Verdict,
    pub reason: String,
}

pub struct TableModel {
    /// "FAIL", "PASS", …
    pub verdict: Verdict,
    /// "2 failed, 1 warning of 40 checks".
    pub tally: String,
    /// Which results were compared, and how.
    pub context: String,
    /// Warnings and the low-confidence note.
    pub notes: Vec<String>,
    pub rows: Vec<TableRow>,
}

/// A row's value for people, `–` when there is none.
pub fn value(v: Option<f64>, m: Metric) -> String {
    v.map_or_else(|| "–".to_string(), |v| m.show(v))
}

pub fn change(r: &Row) -> String {
    if r.metric == Metric::ErrorRate {
        return match (r.baseline, r.current) {
            (Some(b), Some(c)) => format!("{:+.2} pp", c - b),
            _ => "–".to_string(),
        };
    }
    match r.change {
        None => "–".to_string(),
        Some(c) if c.is_infinite() => "new".to_string(),
        Some(c) => match r.interval {
            Some([lo, hi]) => format!(
                "{} ({} … {})",
                units::signed_percent(c),
                units::signed_percent(lo),
                units::signed_percent(hi)
            ),
            None => units::signed_percent(c),
        },
    }
}

impl TableModel {
    pub fn new(c: &Comparison) -> Self {
        let mut parts = Vec::new();
        for (v, one, many) in [
            (Verdict::Fail, "failed", "failed"),
            (Verdict::Missing, "missing", "missing"),
            (Verdict::Warn, "warning", "warnings"),
            (Verdict::Inconclusive, "inconclusive", "inconclusive"),
            (Verdict::New, "new", "new"),
            (Verdict::Improved, "improved", "improved"),
        ] {
            let n = c.count(v);
            if n > 0 {
                parts.push(plural(n, one, many));
            }
        }
        let total = c.rows.len();
        let tally = if parts.is_empty() {
            format!("all {} passed", plural(total, "check", "checks"))
        } else {
            format!(
                "{} of {}",
                parts.join(", "),
                plural(total, "check", "checks")
            )
        };
        let side = |s: &crate::compare::SideInfo| {
            let sha = s
                .git_sha
                .as_deref()
                .map(|x| format!(" @ {}", units::short_sha(x)))
                .unwrap_or_default();
            format!("{}{sha}, {}", s.label, plural(s.trials, "trial", "trials"))
        };
        let context = format!(
            "{} vs {} · {} · {:.0}% confidence",
            side(&c.baseline),
            side(&c.current),
            if c.method.kind == "trials" {
                "trial-level statistics"
            } else {
                "1-second windows"
            },
            c.method.confidence * 100.0
        );
        let mut notes: Vec<String> = c.warnings.clone();
        if let Some(l) = &c.method.low_confidence {
            notes.push(l.clone());
        }
        let rows = c
            .rows
            .iter()
            .map(|r| TableRow {
                cells: [
                    r.endpoint.clone(),
                    r.metric.name().to_string(),
                    value(r.baseline, r.metric),
                    value(r.current, r.metric),
                    change(r),
                    r.verdict.label().to_string(),
                ],
                verdict: r.verdict,
                reason: r.reason.clone(),
            })
            .collect();
        TableModel {
            verdict: c.verdict,
            tally,
            context,
            notes,
            rows,
        }
    }
}
