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
    /// "trials" (trial-level tests), "windows" (block bootstrap over 1-second windows) or
    /// "summary" (imported summaries, one a side: the plain ratio).
    pub kind: String,
    /// The rules' confidence: 1 − the false-alarm rate allowed over all checks of a check run.
    pub confidence: f64,
    /// The share of that false-alarm rate this comparison spent (all of it, unless more trials
    /// may be added: then each look at the evidence spends a part).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Which look at the evidence this is (1: the planned trials), and how many there may be.
    #[serde(default = "first")]
    pub look: u32,
    #[serde(default = "first")]
    pub looks: u32,
    /// Set when the comparison could not be trial-level: what it means and how to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_confidence: Option<String>,
    /// A baseline saved from several runs: the noise between runs the latency checks included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_noise: Option<RunNoise>,
}

/// The noise between a baseline's runs, as the two-level test used it (`compare::runs`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunNoise {
    /// How many runs the baseline holds.
    pub runs: usize,
    /// The variance of a run's mean over what its trials predict, common to the checks (1: no
    /// noise between runs beyond the trials').
    pub inflation: f64,
    /// How many degrees of freedom that common value is worth against each check's own (absent:
    /// every check takes it as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_df: Option<f64>,
    /// How many latency checks it was fitted on.
    pub checks: usize,
}

fn default_alpha() -> f64 {
    0.01
}

fn first() -> u32 {
    1
}

/// A flow of the current run, over its trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlowSummary {
    pub scenario: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    /// Percent of the iterations that ended which completed.
    pub completion_rate: f64,
    pub iterations_per_min: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration_p95_ms: Option<f64>,
    /// Failed iterations by the step (endpoint) they failed at.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub failed_at: std::collections::BTreeMap<String, u64>,
}

/// A trial left out of its side's trial-level tests because it looks disturbed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DisturbedTrial {
    /// "baseline" or "current".
    pub side: String,
    /// The trial's position on its side (1-based, as people count).
    pub trial: usize,
    /// Where it shows most: the endpoint and metric, its value and the others' median (ms).
    pub endpoint: String,
    pub metric: String,
    pub value_ms: f64,
    pub others_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// The endpoint (empty for a flow's row).
    pub endpoint: String,
    /// The scenario, for a flow's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The stage, when the profile has stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// For degradation under load: the stage of the same run the row is compared with
    /// (`baseline` is then that stage's value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_stage: Option<String>,
    pub metric: Metric,
    /// ms for latency, % for error rate, req/s for throughput.
    pub unit: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative change current/baseline − 1.
    pub change: Option<f64>,
    /// Interval of the relative change at `interval_level`: the level the verdict uses, so
    /// that its worse end excludes no change exactly when the worsening is significant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_level: Option<f64>,
    /// One-sided p-value of a worsening this large with no change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// After Holm's correction over all rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    /// The worsening the rules allow (`max_regression`, relative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<f64>,
    /// The smallest worsening this check would have detected with 80% power given the spread
    /// it saw: relative for latency and throughput (0.07 = 7%), percentage points for error
    /// rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectable: Option<f64>,
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
    /// Trials left out of the trial-level tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disturbed: Vec<DisturbedTrial>,
    /// The current run's user flows (per stage when it has stages), for the flow table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowSummary>,
    pub rows: Vec<Row>,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}

impl Row {
    /// What the row is about, for people: `GET /x`, `flow checkout`, `GET /x @ peak`,
    /// `GET /x @ peak vs baseline`.
    pub fn subject(&self) -> String {
        let mut s = match &self.scenario {
            Some(f) => format!("flow {f}"),
            None if self.metric.is_target() => "target".to_string(),
            None if self.metric == Metric::Capacity => "capacity".to_string(),
            None => self.endpoint.clone(),
        };
        if let Some(st) = &self.stage {
            s.push_str(&format!(" @ {st}"));
        }
        if let Some(vs) = &self.vs_stage {
            s.push_str(&format!(" vs {vs}"));
        }
        s
    }
}
