//! The comparison as every report renders it: one row per endpoint × metric with both values,
//! the change and its interval, the p-value after Holm's correction, and a verdict.

use serde::{Deserialize, Serialize};

use super::rules::Metric;

pub const FORMAT: &str = "perfgate/compare/v1";

/// The verdict of one check; declared from best to worst, so the overall verdict is the
/// greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Improved,
    New,
    Inconclusive,
    Warn,
    Missing,
    Fail,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Improved => "IMPROVED",
            Verdict::New => "NEW",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Warn => "WARN",
            Verdict::Missing => "MISSING",
            Verdict::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SideInfo {
    /// How the side was named: "baseline main", a file path, "current".
    pub label: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha: Option<String>,
    pub trials: usize,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MethodInfo {
    /// "trials" (trial-level tests) or "windows" (block bootstrap over 1-second windows).
    pub kind: String,
    pub confidence: f64,
    /// Set when the comparison could not be trial-level: what it means and how to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub endpoint: String,
    pub metric: Metric,
    /// ms for latency, % for error rate, req/s for throughput.
    pub unit: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change current/baseline − 1.
    pub change: Option<f64>,
    /// Confidence interval of the relative change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// After Holm's correction over all rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub format: String,
    pub verdict: Verdict,
    pub profile: String,
    pub baseline: SideInfo,
    pub current: SideInfo,
    pub method: MethodInfo,
    pub warnings: Vec<String>,
    pub rows: Vec<Row>,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}
