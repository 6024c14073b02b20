//! The wire types of the result file (`perfgate/result/v1`): what a run measured, exactly as
//! the file holds it. They change only with the format version; the engine's in-memory types
//! are converted into these by `engine::convert`, so the format never depends on the engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "perfgate/result/v1";
pub(super) const FORMAT_PREFIX: &str = "perfgate/result/v";
pub(super) const MAJOR: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub format: String,
    /// False when the run was interrupted or aborted; such a result is never a baseline.
    pub complete: bool,
    /// Why the run did not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_reason: Option<String>,
    /// When an `abort_on_fail` rule stopped the run: the rule and its breach (added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
    pub meta: Meta,
    pub trials: Vec<TrialResult>,
    /// What the run cost perfgate itself (not the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientStats>,
    /// A `perfgate capacity` search: its levels and the capacity found (added within v1; such a
    /// result has no trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityResult>,
}

/// The answer of `perfgate capacity`: the highest load level that met the SLO, the first that
/// did not and why, and every level run, in the order they ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CapacityResult {
    /// "users" (closed model) or "iterations/s" (open model).
    pub unit: String,
    pub slo: CapacitySlo,
    /// The highest level that held; absent when even the first level broke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<f64>,
    /// The lowest level that broke, and what broke it; absent when none did (the budget ran out
    /// stepping up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke_at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke_because: Option<String>,
    /// Whether the gap between the two is within the resolution; false when the budget ran out
    /// (or the search was stopped) first.
    pub resolved: bool,
    pub resolution: f64,
    pub hold_s: f64,
    pub warmup_s: f64,
    pub levels: Vec<CapacityLevel>,
}

/// What a level must meet: every limit given (latencies over all endpoints, ms; the error rate
/// as a fraction), and throughput still rising.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CapacitySlo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// Closed model: the least throughput an added user must add, as a share of the throughput
    /// per user of the highest level below that held. Open model: achieved ≥ 95% of asked.
    pub min_gain: f64,
}

/// One level of the search, over its hold (its warmup excluded).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CapacityLevel {
    pub level: f64,
    pub held: bool,
    /// What broke it, when it broke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub measured_s: f64,
    pub requests: u64,
    pub throughput_rps: f64,
    /// Iterations completed per second.
    pub iterations_per_s: f64,
    pub error_rate: f64,
    /// Over all endpoints' successful requests; absent when none succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Percentiles>,
    /// 1-second windows of the hold, and those that breached a latency limit.
    pub windows: usize,
    pub windows_breached: usize,
    /// The target's CPU, when perfgate could see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cpu_cores: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cpu_per_request_us: Option<f64>,
    /// The level did not run its whole hold (interrupted, or the target exited).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

impl RunResult {
    /// The result as the file holds it: pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut v = serde_json::to_vec_pretty(self)?;
        v.push(b'\n');
        Ok(v)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClientStats {
    /// perfgate's peak resident memory, bytes.
    pub peak_rss_bytes: u64,
    /// CPU seconds perfgate used, user and system (all trials, start-up included).
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub perfgate_version: String,
    pub profile: ProfileMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitMeta>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub host: HostMeta,
    pub load: LoadMeta,
    /// Target URL (scheme, host, port, path prefix; never credentials).
    pub base_url: String,
    /// Set on a result `perfgate import` made from another tool's output (added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceMeta>,
    /// A shard's place in a split run (`run --shard`; added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardMeta>,
    /// A merged result: the shards it was merged from (`perfgate merge`; added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<MergedShards>,
}

/// A shard's place in a run split over several processes or machines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardMeta {
    /// From 0, like `JOB_COMPLETION_INDEX`.
    pub index: u64,
    pub count: u64,
    /// What every shard of the run shares.
    pub run_id: String,
    /// The common start, RFC 3339, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
}

/// The shards a merged result was made of.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MergedShards {
    pub run_id: String,
    /// Shards of the run; `parts` may hold fewer when merged with `--allow-partial`.
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    pub parts: Vec<ShardPart>,
    /// Shards that were missing (`--allow-partial`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<u64>,
    /// Per trial, how far apart the shards began it, ms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trial_spread_ms: Vec<f64>,
}

/// One shard of a merged result: where it ran and what it cost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardPart {
    pub index: u64,
    pub file: String,
    pub started_at: String,
    pub host: HostMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientStats>,
    /// Per trial, how late it began against the common start, ms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late_ms: Vec<f64>,
}

/// Where an imported result came from, and how much of the distribution it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceMeta {
    /// "k6", "locust", "artillery".
    pub tool: String,
    /// The importer's format name: "k6-json", "locust-json", …
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// "exact" (every sample), "bucketed" (samples rounded, as Locust's), "summary" (some
    /// percentiles only).
    pub fidelity: String,
    /// For a summary: how coarse its statistics are, relatively (Artillery's sketch moves in
    /// steps of up to 13%): a plain ratio must exceed the rules by that much to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<f64>,
    /// The files, one per trial, as given.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileMeta {
    pub name: String,
    pub path: String,
    /// Identifies the load and scenarios: results with different hashes measure different things.
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GitMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HostMeta {
    pub cpu_model: String,
    pub cores: u32,
    pub os: String,
    #[serde(default)]
    pub kernel: String,
    /// A short hash of CPU model, cores and OS: equal fingerprints, comparable machines.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadMeta {
    /// "closed" or "open".
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u64>,
    pub ramp_up_s: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageMeta>,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub trials: u32,
    /// Trials a check may add when it is inconclusive, when more than `trials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trials: Option<u32>,
    pub seed: u64,
    /// Closed model: each user's iterations per trial, when the profile fixes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations_per_user: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageMeta {
    /// Stage names were added within v1: older files have none (`stage N` is meant).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub duration_s: f64,
    pub target: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrialResult {
    pub index: u32,
    pub started_at: String,
    pub complete: bool,
    /// Seconds of the measured part that actually ran (less than the duration if interrupted).
    pub measured_s: f64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    pub endpoints: Vec<EndpointResult>,
    /// Per stage, for a profile with stages (added within v1: without them, the trial is its one
    /// phase, `steady`). Each stage's figures are those of its measured seconds, exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageResult>,
    /// Per measured second, beside the endpoints' windows of the same index: its stage, the
    /// load asked for and what was achieved (added within v1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load: Vec<LoadWindow>,
    /// Per scenario: the user flow over the measured part (added within v1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowResult>,
    /// The target's own CPU and memory over the measured part, when perfgate could see it
    /// (added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<TargetResult>,
    /// When the trial began, ms since the Unix epoch (added within v1): shards' trials are
    /// lined up by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_unix_ms: Option<u64>,
    /// Under a common start (`--start-at`): how late the trial began against when it was due,
    /// ms (added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_ms: Option<f64>,
    /// In a baseline saved from several runs (`baseline save NAME A.json B.json …`): which run,
    /// from 0, the trial belongs to, so that the gate can tell the noise between runs from the
    /// noise between trials (added within v1; absent: one run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<u32>,
}

/// One stage of a trial: its measured seconds and what they measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageResult {
    pub name: String,
    /// Its seconds are the trial's measured windows `first_window` .. `first_window + windows`.
    pub first_window: usize,
    pub windows: usize,
    /// The load level the stage ends at: users (closed model) or iterations per second (open).
    pub target: f64,
    pub measured_s: f64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    /// Per endpoint, the figures of the trial's endpoints for these seconds (the seconds
    /// themselves are in the trial's windows, so `windows` is empty here).
    pub endpoints: Vec<EndpointResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowResult>,
    /// The target's resources over the stage's seconds (its `windows` are the trial's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<TargetResult>,
}

/// The target's own resources over a stretch of measured seconds, sampled once a second from
/// `/proc` (the target's process tree) or its cgroup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetResult {
    /// What was sampled: "process 1234 and its children", "cgroup /sys/fs/cgroup/app".
    pub source: String,
    /// CPU seconds (user + system) over the measured seconds.
    pub cpu_s: f64,
    /// Cores used on average: cpu_s / measured seconds.
    pub cpu_cores: f64,
    /// CPU µs per completed request; absent without requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_per_request_us: Option<f64>,
    pub rss_peak_bytes: u64,
    pub rss_end_bytes: u64,
    /// The least-squares slope of resident memory over the measured seconds, MB (10^6 bytes)
    /// per hour, and its 95% interval (Newey–West standard error, as successive seconds are
    /// correlated); absent with fewer than 3 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_growth_mb_per_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_growth_interval: Option<[f64; 2]>,
    pub threads_peak: u64,
    pub fds_peak: u64,
    /// Per measured second, beside the endpoints' windows of the same index (a trial's only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<TargetWindow>,
}

/// The target in one measured second: the CPU it used during it, what it held at its end.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct TargetWindow {
    pub cpu_s: f64,
    pub rss_bytes: u64,
    pub threads: u64,
    pub fds: u64,
}

/// One measured second's load.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadWindow {
    /// Index of the second's stage in the trial's `stages` (0 without stages).
    pub stage: usize,
    /// Users (closed model) or iterations per second (open model) asked for, mid-second.
    pub asked: f64,
    /// At the end of the second: closed-model users in their active period, and iterations in
    /// progress.
    pub active_users: u64,
    pub in_flight: u64,
    /// Iterations started, completed (every step a success) and dropped at `max_in_flight`.
    pub started: u64,
    pub completed: u64,
    pub dropped: u64,
}

/// One scenario as a user flow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FlowResult {
    pub scenario: String,
    pub started: u64,
    /// Iterations whose every step succeeded.
    pub completed: u64,
    pub failed: u64,
    /// Failed iterations by the step (its endpoint) they failed at.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_at: BTreeMap<String, u64>,
    /// completed / (completed + failed); 1 when none ended.
    pub completion_rate: f64,
    /// Completed iterations per minute of measured time.
    pub iterations_per_min: f64,
    /// Iteration duration of completed iterations, first step sent → last response (think time
    /// and `on_start` steps excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Percentiles>,
    /// Its histogram in µs, encoded like an endpoint's.
    pub histogram: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointResult {
    pub name: String,
    /// Completed requests: successes and errors.
    pub requests: u64,
    pub errors: ErrorsWire,
    pub error_rate: f64,
    pub bytes_received: u64,
    /// Requests per second over the measured time.
    pub throughput_rps: f64,
    /// Latency of successful requests; absent when none succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Percentiles>,
    /// The latency histogram in µs: HdrHistogram V2 + deflate, base64.
    pub histogram: String,
    /// One entry per second of the measured part, in order.
    pub windows: Vec<WindowResult>,
    /// The first failure of each kind, described (secrets redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_samples: Vec<ErrorSampleWire>,
    /// An imported summary's latencies (ms) by metric name (`p50`, `p95`, `mean`, `max`, …),
    /// for a source that kept no distribution: the histogram is then empty (added within v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_ms: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorSampleWire {
    /// `status 503`, `timeout`, `connect`, `reset`, `protocol`, `check` or `capture`.
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ErrorsWire {
    pub total: u64,
    /// Unexpected statuses by code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, u64>,
    #[serde(default)]
    pub timeout: u64,
    #[serde(default)]
    pub connect: u64,
    #[serde(default)]
    pub reset: u64,
    /// Responses that were not valid HTTP.
    #[serde(default)]
    pub protocol: u64,
    #[serde(default)]
    pub check: u64,
    #[serde(default)]
    pub capture: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowResult {
    pub requests: u64,
    pub errors: u64,
    /// This second's latency histogram, encoded like `EndpointResult::histogram`.
    pub histogram: String,
}
