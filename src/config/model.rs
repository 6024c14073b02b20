//! The validated load profile: every name resolved, every duration parsed, ready to run.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, Url};

use super::template::Template;

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// The file the profile was read from.
    pub path: PathBuf,
    pub target: Target,
    pub load: Load,
    pub scenarios: Vec<Scenario>,
    /// Endpoint names; a step's `endpoint` indexes this list.
    pub endpoints: Vec<String>,
    pub datasets: Vec<Dataset>,
    /// Names of captured variables; a capture's `slot` indexes this list.
    pub vars: Vec<String>,
    /// Values that must never be shown (read from `{{env.*}}`).
    pub secrets: Vec<String>,
    /// Identifies the load (model, size, scenarios) for comparability checks.
    pub hash: String,
    /// Things worth telling the user about how the profile was read (overrides).
    pub notes: Vec<String>,
    /// `perfgate capacity`'s SLO and search (defaults when the profile has no `[capacity]`).
    pub capacity: Capacity,
    /// The share of the load this process runs (`run --shard`); all of it by default. Not part
    /// of the profile's hash: the shards of one run run one profile.
    pub shard: Shard,
}

/// Which share of the load this process runs: shard `index` of `count` (0 of 1: all of it).
///
/// The split is a fixed rule on global numbers, so the shards add up to one machine's run
/// exactly: closed-model user *i* and open-model iteration *k* belong to shard `i mod count`
/// (and within it to worker `(i div count) mod workers`), each user keeps its global id (its data
/// rows and random stream are those it has on one machine), and every shard follows the same
/// shape of the load over time, so at every instant the users active on all shards are the
/// users one machine would have active, and shard *I* starts exactly the iterations due at the
/// instants one machine would start them with `k ≡ I (mod count)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
    /// What every shard of one run shares (None for an unsplit run).
    pub run_id: Option<String>,
    /// The common start: the first trial begins at this instant (`--start-at`).
    pub start_at: Option<SystemTime>,
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            index: 0,
            count: 1,
            run_id: None,
            start_at: None,
        }
    }
}

impl Shard {
    /// Engine worker `worker` of `workers` in this shard: its stripe of the global users or
    /// iterations, as (first, step).
    pub fn stripe(&self, worker: u64, workers: u64) -> (u64, u64) {
        let count = self.count.max(1);
        (self.index + count * worker, count * workers.max(1))
    }

    /// When trial `trial` (0-based) is due to begin under a common start: the start, then one
    /// trial period after another (the trial's length, the request timeout for the last
    /// responses, and 2 s to spare, rounded up to whole seconds, so that seconds line up).
    pub fn trial_due(
        &self,
        load: &Load,
        request_timeout: Duration,
        trial: u32,
    ) -> Option<SystemTime> {
        let start = self.start_at?;
        let period = (load.trial_length() + request_timeout + Duration::from_secs(2))
            .as_secs_f64()
            .ceil();
        start.checked_add(Duration::from_secs_f64(period * f64::from(trial)))
    }
}

/// The SLO a load level must meet, and how `perfgate capacity` searches for the highest that
/// does.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Latency limits over all endpoints together, ms; an error-rate limit as a fraction.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    /// Closed model: the throughput a level adds per added user, as a share of the throughput
    /// per user of the level below it, under which throughput has stopped rising.
    pub min_gain: f64,
    /// The first level: users or iterations per second (default: the profile's).
    pub start: Option<f64>,
    pub step: CapacityStep,
    /// Each level runs `warmup` then is judged over `hold`.
    pub hold: Duration,
    pub warmup: Duration,
    /// The whole search's time limit.
    pub budget: Duration,
    /// Bisect until the gap between the last level that held and the first that broke is at
    /// most this fraction of the former.
    pub resolution: f64,
}

/// How the search steps up until a level breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapacityStep {
    /// `step = "+10"`.
    Add(f64),
    /// `step = "x2"` or `"100%"` (each level twice the last).
    Times(f64),
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
            error_rate: None,
            min_gain: 0.5,
            start: None,
            step: CapacityStep::Times(2.0),
            hold: Duration::from_secs(8),
            warmup: Duration::from_secs(2),
            budget: Duration::from_secs(100),
            resolution: 0.1,
        }
    }
}

/// The request target of `u` as an HTTP/1.1 request line carries it: path and query.
pub fn origin_form(u: &Url) -> String {
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    target
}

impl Profile {
    /// `text` with every value read from the environment (`{{env.*}}`) replaced by
    /// `[redacted]`: they are secrets wherever requests are shown.
    pub fn redact(&self, text: &str) -> String {
        crate::redact::redact(text, &self.secrets)
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub base_url: Url,
    pub start: Option<String>,
    pub ready: Option<String>,
    pub ready_timeout: Duration,
    pub request_timeout: Duration,
    pub stop_timeout: Duration,
    pub http2: bool,
    /// An extra trusted CA (PEM), for a target with a private certificate authority.
    pub ca_pem: Option<Vec<u8>>,
    /// Skip certificate verification (a self-signed staging certificate).
    pub insecure: bool,
    /// Start a fresh target for every trial (`restart = "trial"`, the default when perfgate
    /// starts the target), so that what a process start leaves to chance (memory layout, thread
    /// placement) varies between trials, where the gate's statistics see it, instead of between
    /// runs, where they cannot.
    pub restart_per_trial: bool,
    /// Where to read the target's own CPU and memory; None: perfgate cannot see it.
    pub watch: Option<Watch>,
}

/// How perfgate finds the target's processes to sample their CPU and memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// The process tree of the `start` command.
    Started,
    /// A running process and its descendants (`target.pid`).
    Pid(i32),
    /// The process named by a pid file, read when each trial starts (`target.pid_file`).
    PidFile(PathBuf),
    /// A cgroup v2 directory (`target.cgroup`): a service in a container.
    Cgroup(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// `users` loop over scenarios with think time.
    Closed { users: u64 },
    /// Iterations start at `rate` per second; at `max_in_flight` they are dropped.
    Open { rate: f64, max_in_flight: u64 },
}

#[derive(Debug, Clone)]
pub struct Load {
    pub model: Model,
    pub ramp_up: Duration,
    pub stages: Vec<Stage>,
    pub warmup: Duration,
    /// The measured part of a trial, after the warmup.
    pub duration: Duration,
    pub trials: u32,
    /// Trials the current side may grow to when a check is inconclusive (`check`); at least
    /// `trials`.
    pub max_trials: u32,
    pub seed: u64,
    /// Closed model: each user's iterations in a trial, warmup included (None: as many as fit).
    pub iterations_per_user: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// `stage 1`, `stage 2`, … unless the profile names it.
    pub name: String,
    pub duration: Duration,
    pub target: f64,
}

/// A phase of the measured part of a trial: a stage, or for a profile without stages the one
/// implicit phase `steady`. Windows are the measured seconds, counted from the end of the warmup.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    /// The first measured second in the phase, and how many there are.
    pub first_window: usize,
    pub windows: usize,
    /// The load level the phase ends at (users or iterations per second).
    pub target: f64,
}

/// The name of the implicit phase of a profile without stages.
pub const STEADY: &str = "steady";

impl Load {
    /// Length of one trial: warmup plus the measured duration.
    pub fn trial_length(&self) -> Duration {
        self.warmup + self.duration
    }

    /// The phases of the measured part: each stage's measured seconds (stages that end within
    /// the warmup have none and are left out), or one `steady` phase without stages. Stage
    /// boundaries and the warmup are whole seconds (validation sees to it), so every measured
    /// second lies in exactly one phase.
    pub fn phases(&self) -> Vec<Phase> {
        let measured = self.duration.as_secs_f64().ceil() as usize;
        if self.stages.is_empty() {
            let target = match self.model {
                Model::Closed { users } => users as f64,
                Model::Open { rate, .. } => rate,
            };
            return vec![Phase {
                name: STEADY.to_string(),
                first_window: 0,
                windows: measured,
                target,
            }];
        }
        let warmup = self.warmup.as_secs_f64();
        let mut start = 0.0;
        let mut out = Vec::new();
        for s in &self.stages {
            let end = start + s.duration.as_secs_f64();
            let from = ((start - warmup).max(0.0)).round() as usize;
            let to = ((end - warmup).max(0.0)).round() as usize;
            if to > from {
                out.push(Phase {
                    name: s.name.clone(),
                    first_window: from,
                    windows: to.min(measured).saturating_sub(from),
                    target: s.target,
                });
            }
            start = end;
        }
        out
    }

    /// The phase measured second `window` lies in (the last for a second past the end).
    pub fn phase_of(phases: &[Phase], window: usize) -> usize {
        phases
            .iter()
            .position(|p| window < p.first_window + p.windows)
            .unwrap_or(phases.len().saturating_sub(1))
    }

    /// The load level over the trial as (seconds since trial start, users or rate) points,
    /// linear in between and flat after the last point.
    pub fn shape(&self) -> Vec<(f64, f64)> {
        let total = self.trial_length().as_secs_f64();
        if !self.stages.is_empty() {
            let mut t = 0.0;
            let mut points = vec![(0.0, 0.0)];
            for s in &self.stages {
                t += s.duration.as_secs_f64();
                points.push((t, s.target));
            }
            return points;
        }
        let level = match self.model {
            Model::Closed { users } => users as f64,
            Model::Open { rate, .. } => rate,
        };
        let ramp = self.ramp_up.as_secs_f64();
        if ramp > 0.0 {
            vec![(0.0, 0.0), (ramp, level), (total.max(ramp), level)]
        } else {
            vec![(0.0, level), (total, level)]
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub weight: u32,
    pub think_time: ThinkTime,
    pub on_start: Vec<Step>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThinkTime {
    pub min: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Unique within the profile (0, 1, …), for per-step tables.
    pub id: usize,
    pub endpoint: usize,
    pub method: Method,
    /// Path and query, resolved against the base URL when sent.
    pub path: Template,
    /// The full URL when the path has no variables (built once, reused for every request).
    pub static_url: Option<Url>,
    /// The same as an HTTP/1 request target (path and query), for the direct HTTP/1 client.
    pub static_origin: Option<String>,
    /// Headers without variables (target defaults merged in), built once.
    pub static_headers: HeaderMap,
    pub dynamic_headers: Vec<(HeaderName, Template)>,
    pub body: Body,
    pub expect: Expect,
    pub captures: Vec<Capture>,
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// A body without variables, serialized once.
    Static {
        bytes: Bytes,
        content_type: &'static str,
    },
    Json(JsonTemplate),
    Text(Template),
    Form(Vec<(String, Template)>),
}

/// A JSON body whose strings may hold templates.
#[derive(Debug, Clone)]
pub enum JsonTemplate {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

#[derive(Debug, Clone)]
pub struct Expect {
    /// Inclusive status ranges counted as success.
    pub status: Vec<(u16, u16)>,
    pub body_contains: Option<String>,
}

impl Expect {
    pub fn status_ok(&self, status: u16) -> bool {
        self.status
            .iter()
            .any(|&(lo, hi)| lo <= status && status <= hi)
    }
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub slot: usize,
    pub source: CaptureSource,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(serde_json_path::JsonPath),
    Header(HeaderName),
}

impl Step {
    /// Whether the response body must be kept (captures or checks read it).
    pub fn needs_body(&self) -> bool {
        self.expect.body_contains.is_some()
            || self
                .captures
                .iter()
                .any(|c| matches!(c.source, CaptureSource::Json(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_and_iteration_goes_to_exactly_one_worker_of_one_shard() {
        // The workers of shard I take i = first, first + step, …: over all shards and workers,
        // each of 0..1000 exactly once, and shard I only ids ≡ I (mod N).
        for (n, workers) in [(1u64, 1u64), (3, 2), (4, 3), (7, 1)] {
            let mut owner = vec![None; 1000];
            for index in 0..n {
                let s = Shard {
                    index,
                    count: n,
                    ..Shard::default()
                };
                for w in 0..workers {
                    let (first, step) = s.stripe(w, workers);
                    let mut i = first;
                    while i < 1000 {
                        assert_eq!(owner[i as usize], None, "id {i} twice ({n} shards)");
                        assert_eq!(i % n, index);
                        owner[i as usize] = Some((index, w));
                        i += step;
                    }
                }
            }
            assert!(owner.iter().all(Option::is_some), "{n} shards miss an id");
        }
    }
}
