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
    /// The smallest worsening the check could detect (80% power), `–` without a test.
    pub detectable: String,
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
    /// What the run could see: "this run can detect a 10.0% regression on 38 of 40 checks …".
    pub detectability: Option<String>,
    pub rows: Vec<TableRow>,
    /// The current run's flows: FLOW_COLUMNS.
    pub flows: Vec<[String; 6]>,
}

pub const FLOW_COLUMNS: [&str; 6] = [
    "flow",
    "completion",
    "completed",
    "failed",
    "iterations/min",
    "iteration p95",
];

/// One flow as a table row: `checkout @ peak`, `97.50%`, `390`, `10 (POST /checkout/ 10)`, …
fn flow_cells(f: &crate::compare::FlowSummary) -> [String; 6] {
    let name = match &f.stage {
        Some(s) => format!("{} @ {s}", f.scenario),
        None => f.scenario.clone(),
    };
    let failed = if f.failed_at.is_empty() {
        f.failed.to_string()
    } else {
        let at: Vec<String> = f
            .failed_at
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!("{} ({})", f.failed, at.join(", "))
    };
    [
        name,
        units::percent_value(f.completion_rate),
        f.completed.to_string(),
        failed,
        format!("{:.1}", f.iterations_per_min),
        f.iteration_p95_ms.map_or("–".to_string(), units::latency),
    ]
}

/// A row's detectable change for people: `6.1%`, or `0.42 pp` for an error rate.
pub fn detectable(r: &Row) -> String {
    match (r.detectable, r.metric) {
        (None, _) => "–".to_string(),
        (Some(d), Metric::ErrorRate) => format!("{d:.2} pp"),
        (Some(d), _) => units::percent(d),
    }
}

/// "this run can detect a 10.0% regression (80% power) on 38 of 40 latency and throughput
/// checks; half of them see 4.2% or less".
fn detectability(c: &Comparison) -> Option<String> {
    let relative: Vec<(f64, f64)> = c
        .rows
        .iter()
        .filter(|r| r.metric != Metric::ErrorRate)
        .filter_map(|r| Some((r.detectable?, r.allowed?)))
        .collect();
    if relative.is_empty() {
        return None;
    }
    let seen = relative.iter().filter(|(d, a)| d <= a).count();
    let allowed: Vec<f64> = relative.iter().map(|(_, a)| *a).collect();
    let what = if allowed.iter().all(|a| (a - allowed[0]).abs() < 1e-12) {
        format!("a {} regression", units::percent(allowed[0]))
    } else {
        "the regression its rules allow".to_string()
    };
    let mut d: Vec<f64> = relative.iter().map(|(d, _)| *d).collect();
    d.sort_by(f64::total_cmp);
    Some(format!(
        "this run can detect {what} (80% power) on {seen} of {} latency and throughput checks; half of them see {} or less",
        relative.len(),
        units::percent(d[(d.len() - 1) / 2])
    ))
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
        let compared = if c.baseline.trials == 0 {
            format!("{} alone", side(&c.current))
        } else {
            format!("{} vs {}", side(&c.baseline), side(&c.current))
        };
        let context = format!(
            "{compared} · {} · {:.0}% confidence",
            match c.method.kind.as_str() {
                "trials" => "trial-level statistics",
                "summary" => "summaries, plain ratio",
                _ => "1-second windows",
            },
            c.method.confidence * 100.0
        );
        let mut notes: Vec<String> = c.warnings.clone();
        if let Some(l) = &c.method.low_confidence {
            notes.push(l.clone());
        }
        if let Some(n) = &c.method.run_noise {
            notes.push(format!(
                "baseline of {} runs: a run's mean moves {:.1}× as much as its trials predict (fitted on {} latency checks); that noise between runs is in each latency check's error",
                n.runs, n.inflation, n.checks
            ));
        }
        let rows = c
            .rows
            .iter()
            .map(|r| TableRow {
                cells: [
                    r.subject(),
                    r.metric.name().to_string(),
                    value(r.baseline, r.metric),
                    value(r.current, r.metric),
                    change(r),
                    r.verdict.label().to_string(),
                ],
                verdict: r.verdict,
                reason: r.reason.clone(),
                detectable: detectable(r),
            })
            .collect();
        TableModel {
            verdict: c.verdict,
            tally,
            context,
            notes,
            detectability: detectability(c),
            rows,
            flows: c.flows.iter().map(flow_cells).collect(),
        }
    }
}
