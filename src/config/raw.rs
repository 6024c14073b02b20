//! Raw serde types for `perfgate.toml`: exactly what the file says, nothing checked yet.
//!
//! Everything here is optional or loosely typed (integers as `i64`, durations as strings) so that
//! deserialization succeeds on most mistakes and `config::validate` can report *every* problem at
//! once with its position, instead of serde stopping at the first one. Unknown keys are collected
//! by `serde_ignored` in `config::load` rather than `deny_unknown_fields` for the same reason.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::toml::{fields, Known};
use crate::diag::Seg;

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawProfile {
    /// The profile's name, shown in reports and compared with the baseline's.
    pub name: Option<String>,
    pub target: Option<RawTarget>,
    pub load: Option<RawLoad>,
    #[serde(default)]
    pub data: Vec<RawData>,
    #[serde(default)]
    pub scenario: Vec<RawScenario>,
    pub capacity: Option<RawCapacity>,
}

/// `[capacity]`: the SLO `perfgate capacity` searches against, and how it searches.
#[derive(Debug, Deserialize, Serialize, Default, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawCapacity {
    pub p50: Option<String>,
    pub p95: Option<String>,
    pub p99: Option<String>,
    pub error_rate: Option<String>,
    pub min_gain: Option<String>,
    pub start: Option<f64>,
    pub step: Option<String>,
    pub hold: Option<String>,
    pub warmup: Option<String>,
    pub budget: Option<String>,
    pub resolution: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawTarget {
    /// Where the service answers, e.g. "http://127.0.0.1:8080".
    pub base_url: Option<String>,
    /// A command that starts the service (perfgate starts and stops it); run in the profile's directory.
    pub start: Option<String>,
    /// A path that answers 2xx once the service is ready, e.g. "/health".
    pub ready: Option<String>,
    pub ready_timeout: Option<String>,
    pub request_timeout: Option<String>,
    pub stop_timeout: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub http2: Option<bool>,
    pub ca_file: Option<String>,
    pub insecure: Option<bool>,
    pub restart: Option<String>,
    pub pid: Option<i64>,
    pub pid_file: Option<String>,
    pub cgroup: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawLoad {
    /// "closed" (users that loop with think time) or "open" (iterations started at a rate).
    pub model: Option<String>,
    /// Closed model: the number of virtual users.
    pub users: Option<i64>,
    pub ramp_up: Option<String>,
    /// Open model: iterations started per second.
    pub rate: Option<f64>,
    pub max_in_flight: Option<i64>,
    /// The measured part of each trial, e.g. "30s".
    pub duration: Option<String>,
    /// Load before the measured part of each trial, not measured, e.g. "5s".
    pub warmup: Option<String>,
    /// How many trials (repetitions); the gate's statistics need at least 5.
    pub trials: Option<i64>,
    /// `perfgate check`: when a check is inconclusive, run trials up to this many in all.
    pub max_trials: Option<i64>,
    pub seed: Option<i64>,
    /// Closed model: each user stops after this many iterations in a trial (warmup included),
    /// like k6's per-vu-iterations; the trial still lasts its warmup and duration.
    pub iterations_per_user: Option<i64>,
    #[serde(default)]
    pub stages: Vec<RawStage>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawStage {
    pub name: Option<String>,
    pub duration: Option<String>,
    pub target: Option<f64>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawData {
    pub name: Option<String>,
    pub file: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub weight: Option<i64>,
    pub think_time: Option<String>,
    #[serde(default)]
    pub on_start: Vec<RawStep>,
    #[serde(default)]
    pub step: Vec<RawStep>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawStep {
    /// The request line, e.g. "GET /api/items?page={{random_int(1,10)}}".
    pub request: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body, written as a TOML table (templates allowed in strings).
    #[schemars(with = "Option<serde_json::Value>")]
    pub json: Option<toml::Value>,
    pub body: Option<String>,
    pub form: Option<BTreeMap<String, String>>,
    pub expect: Option<RawExpect>,
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawExpect {
    pub status: Option<Vec<RawStatus>>,
    pub body_contains: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RawStatus {
    Code(i64),
    Pattern(String),
}

/// The JSON Schema of `perfgate.toml` (`perfgate schema profile`).
pub fn schema() -> String {
    crate::diag::toml::schema_of::<RawProfile>("perfgate profile (perfgate.toml)")
}

/// The keys the table holding `path` may have (read from the raw types themselves), for the
/// message about an unknown key.
pub fn known_keys(path: &[Seg]) -> Option<Known> {
    use Seg::{Index, Key};
    let named = |s: &String, name: &str| s == name;
    let parent = &path[..path.len().saturating_sub(1)];
    let (table, keys): (&'static str, &'static [&'static str]) = match parent {
        [] => ("the profile", fields::<RawProfile>()),
        [Key(t)] if named(t, "target") => ("[target]", fields::<RawTarget>()),
        [Key(t)] if named(t, "load") => ("[load]", fields::<RawLoad>()),
        [Key(t)] if named(t, "capacity") => ("[capacity]", fields::<RawCapacity>()),
        [Key(l), Key(s), Index(_)] if named(l, "load") && named(s, "stages") => {
            ("a [[load.stages]]", fields::<RawStage>())
        }
        [Key(d), Index(_)] if named(d, "data") => ("a [[data]]", fields::<RawData>()),
        [Key(s), Index(_)] if named(s, "scenario") => ("a [[scenario]]", fields::<RawScenario>()),
        [Key(s), Index(_), Key(l), Index(_)]
            if named(s, "scenario") && (named(l, "step") || named(l, "on_start")) =>
        {
            ("a step", fields::<RawStep>())
        }
        [Key(s), Index(_), Key(_), Index(_), Key(e)]
            if named(s, "scenario") && named(e, "expect") =>
        {
            ("expect", fields::<RawExpect>())
        }
        _ => return None,
    };
    Some(Known { table, keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_of_each_table_are_known() {
        let at = |p: &[Seg]| known_keys(p).map(|k| k.keys);
        let key = |s: &str| Seg::Key(s.into());
        assert!(at(&[key("naem")]).unwrap().contains(&"name"));
        assert!(at(&[key("load"), key("user")]).unwrap().contains(&"users"));
        let step = [
            key("scenario"),
            Seg::Index(0),
            key("step"),
            Seg::Index(2),
            key("x"),
        ];
        assert!(at(&step).unwrap().contains(&"capture"));
        assert_eq!(at(&[key("target"), key("headers"), key("X")]), None);
    }
}
