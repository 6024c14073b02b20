//! Raw profile → `Profile`: every check, every problem collected with its position.
//!
//! `validate` walks the raw profile in the order a reader would: target, load, data, then the
//! scenarios and their steps (`target`, `load`, `data`, `step`). Nothing stops at the first
//! problem; whatever can still be checked is.

mod capacity;
mod data;
mod load;
mod step;
mod target;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use reqwest::header::HeaderName;
use sha2::{Digest, Sha256};

use super::raw::*;
use super::template::{Scope, Template};
use super::Overrides;
use crate::config::model::*;
use crate::diag::toml::Locator;
use crate::diag::{Problem, Seg};
use step::StepCx;

/// No duration in a profile may exceed this: runs are bounded, and instants stay far from overflow.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Names a capture may not take: they mean something else in a template.
const BUILTIN_NAMES: &[&str] = &["uuid", "user_id", "iteration", "random_int", "env"];

/// The problems found so far, and where to put them.
struct Ctx<'a> {
    locator: &'a Locator<'a>,
    problems: Vec<Problem>,
}

fn key(path: &[Seg], k: &str) -> Vec<Seg> {
    let mut v = path.to_vec();
    v.push(Seg::Key(k.to_string()));
    v
}

fn idx(path: &[Seg], k: &str, i: usize) -> Vec<Seg> {
    let mut v = key(path, k);
    v.push(Seg::Index(i));
    v
}

impl Ctx<'_> {
    fn problem(&mut self, path: &[Seg], msg: impl Into<String>) {
        self.problems.push(self.locator.problem(path, msg));
    }

    /// A duration such as "5s", "1m30s", "250ms".
    fn duration(&mut self, path: &[Seg], s: &str, allow_zero: bool) -> Option<Duration> {
        match humantime::parse_duration(s.trim()) {
            Ok(d) if d > MAX_DURATION => {
                self.problem(path, format!("\"{s}\" is longer than 24 hours; a perfgate run is bounded, give a shorter duration"));
                None
            }
            Ok(d) if d.is_zero() && !allow_zero => {
                self.problem(
                    path,
                    format!("\"{s}\" is zero; give a positive duration such as \"10s\""),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(
                    path,
                    format!(
                        "\"{s}\" is not a duration ({e}); write e.g. \"500ms\", \"10s\", \"2m\""
                    ),
                );
                None
            }
        }
    }

    fn opt_duration(
        &mut self,
        path: &[Seg],
        s: Option<&String>,
        default: Duration,
        allow_zero: bool,
    ) -> Duration {
        match s {
            Some(s) => self.duration(path, s, allow_zero).unwrap_or(default),
            None => default,
        }
    }
}

/// Everything that names a template may use, for the whole profile.
struct Names {
    datasets: Vec<(String, Vec<String>)>,
    vars: Vec<String>,
}

pub(super) fn validate(
    mut raw: RawProfile,
    file: &Path,
    base_dir: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    locator: &Locator<'_>,
) -> Result<Profile, Vec<Problem>> {
    let mut cx = Ctx {
        locator,
        problems: Vec::new(),
    };
    let mut notes = Vec::new();
    apply_overrides(&mut raw, overrides, &mut notes);
    let hash = profile_hash(&raw);
    let name = raw.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "profile".to_string())
    });
    if raw.target.is_none() {
        cx.problem(
            &[],
            "missing [target] table; it needs at least base_url = \"http://127.0.0.1:8080\"",
        );
    }
    if raw.load.is_none() {
        cx.problem(
            &[],
            "missing [load] table; e.g. model = \"closed\", users = 10, duration = \"20s\"",
        );
    }
    let target = raw
        .target
        .as_ref()
        .map(|t| target::validate_target(&mut cx, &key(&[], "target"), t, overrides, base_dir));
    let load = raw
        .load
        .take()
        .map(|l| load::validate_load(&mut cx, &key(&[], "load"), l, overrides));
    let (datasets, unreadable) = data::validate_data(&mut cx, &raw.data, base_dir);
    let capacity = raw.capacity.as_ref().map_or_else(Capacity::default, |c| {
        capacity::validate_capacity(&mut cx, &key(&[], "capacity"), c)
    });
    let names = Names {
        vars: captured_names(&mut cx, &raw.scenario, &datasets),
        datasets: datasets
            .iter()
            .map(|d| (d.name.clone(), d.columns.clone()))
            .collect(),
    };
    let scope = Scope {
        datasets: &names.datasets,
        vars: &names.vars,
        env,
    };
    let mut step_cx = StepCx {
        scope,
        secrets: Vec::new(),
        default_headers: Vec::new(),
        prefix: target
            .as_ref()
            .map(|t| t.base_url.as_str().trim_end_matches('/').to_string()),
        endpoints: Vec::new(),
    };
    step_cx.default_headers = default_headers(&mut cx, &raw, &mut step_cx);
    let scenarios = validate_scenarios(&mut cx, &raw.scenario, &mut step_cx);

    // A data set that could not be read has already been reported; templates that use it are
    // not unknown variables as well.
    cx.problems.retain(|p| {
        !unreadable.iter().any(|set| {
            p.message
                .starts_with(&format!("unknown template variable `{set}."))
        })
    });
    if !cx.problems.is_empty() {
        return Err(cx.problems);
    }
    let (Some(target), Some(load)) = (target, load) else {
        return Err(cx.problems);
    };
    let StepCx {
        mut secrets,
        endpoints,
        ..
    } = step_cx;
    secrets.sort();
    secrets.dedup();
    let mut scenarios = scenarios;
    let all_steps = scenarios
        .iter_mut()
        .flat_map(|s| s.on_start.iter_mut().chain(s.steps.iter_mut()));
    for (id, step) in all_steps.enumerate() {
        step.id = id;
    }
    Ok(Profile {
        name,
        path: file.to_path_buf(),
        target,
        load,
        scenarios,
        endpoints,
        datasets,
        vars: names.vars,
        secrets,
        hash,
        notes,
        capacity,
        shard: super::model::Shard::default(),
    })
}

/// The names steps capture into, each once, in first-seen order; names that cannot be
/// variables are reported.
fn captured_names(
    cx: &mut Ctx<'_>,
    scenarios: &[RawScenario],
    datasets: &[Dataset],
) -> Vec<String> {
    let mut vars: Vec<String> = Vec::new();
    for (si, s) in scenarios.iter().enumerate() {
        for (list, steps) in [("on_start", &s.on_start), ("step", &s.step)] {
            for (ti, step) in steps.iter().enumerate() {
                for var in step.capture.keys() {
                    let p = key(
                        &key(&idx(&idx(&[], "scenario", si), list, ti), "capture"),
                        var,
                    );
                    if !is_ident(var) {
                        cx.problem(
                            &p,
                            format!("`{var}` is not a variable name (letters, digits, `_`)"),
                        );
                    } else if BUILTIN_NAMES.contains(&var.as_str())
                        || datasets.iter().any(|d| &d.name == var)
                    {
                        cx.problem(&p, format!("`{var}` is a built-in or a data set name; capture into another name"));
                    } else if !vars.contains(var) {
                        vars.push(var.clone());
                    }
                }
            }
        }
    }
    vars
}

/// Default headers from [target], merged into every step.
fn default_headers(
    cx: &mut Ctx<'_>,
    raw: &RawProfile,
    step_cx: &mut StepCx<'_>,
) -> Vec<(HeaderName, Template)> {
    let no_headers = BTreeMap::new();
    let headers = raw.target.as_ref().map_or(&no_headers, |t| &t.headers);
    headers
        .iter()
        .filter_map(|(k, v)| {
            let p = key(&key(&key(&[], "target"), "headers"), k);
            step_cx.header(cx, &p, k, v)
        })
        .collect()
}

fn validate_scenarios(
    cx: &mut Ctx<'_>,
    raw: &[RawScenario],
    step_cx: &mut StepCx<'_>,
) -> Vec<Scenario> {
    if raw.is_empty() {
        cx.problem(
            &[],
            "no [[scenario]]; add one with at least one [[scenario.step]] request = \"GET /\"",
        );
    }
    let mut names = BTreeSet::new();
    let mut scenarios = Vec::new();
    for (si, rs) in raw.iter().enumerate() {
        let sp = idx(&[], "scenario", si);
        let name = match &rs.name {
            Some(n) if !n.trim().is_empty() => n.clone(),
            _ => {
                cx.problem(&sp, "a scenario needs a name, e.g. name = \"browse\"");
                format!("scenario {si}")
            }
        };
        if !names.insert(name.clone()) {
            cx.problem(
                &key(&sp, "name"),
                format!("two scenarios are named \"{name}\"; names must differ"),
            );
        }
        let weight = match rs.weight {
            None => 1,
            Some(w) if (0..=1_000_000).contains(&w) => w as u32,
            Some(w) => {
                cx.problem(
                    &key(&sp, "weight"),
                    format!("{w} is not a weight; use a whole number from 0 to 1000000"),
                );
                0
            }
        };
        let think_time = match &rs.think_time {
            None => ThinkTime {
                min: Duration::ZERO,
                max: Duration::ZERO,
            },
            Some(s) => think(cx, &key(&sp, "think_time"), s),
        };
        if rs.step.is_empty() {
            cx.problem(&sp, format!("scenario \"{name}\" has no [[scenario.step]]"));
        }
        let mut build = |list: &str, steps: &[RawStep], cx: &mut Ctx<'_>| -> Vec<Step> {
            steps
                .iter()
                .enumerate()
                .filter_map(|(ti, rs)| step_cx.step(cx, &idx(&sp, list, ti), rs))
                .collect()
        };
        let on_start = build("on_start", &rs.on_start, cx);
        let steps = build("step", &rs.step, cx);
        scenarios.push(Scenario {
            name,
            weight,
            think_time,
            on_start,
            steps,
        });
    }
    if !raw.is_empty() && scenarios.iter().all(|s| s.weight == 0) {
        cx.problem(
            &[Seg::Key("scenario".into())],
            "the scenario weights sum to zero; give at least one scenario a positive weight",
        );
    }
    scenarios
}

fn apply_overrides(raw: &mut RawProfile, o: &Overrides, notes: &mut Vec<String>) {
    if !o.capacity.is_empty() {
        let c = raw.capacity.get_or_insert_with(Default::default);
        for (k, v) in &o.capacity {
            let v = Some(v.clone());
            match k.as_str() {
                "p50" => c.p50 = v,
                "p95" => c.p95 = v,
                "p99" => c.p99 = v,
                "error_rate" => c.error_rate = v,
                "min_gain" => c.min_gain = v,
                // Not a number: NaN, which validation refuses with the key's name.
                "start" => c.start = Some(v.and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)),
                "step" => c.step = v,
                "hold" => c.hold = v,
                "warmup" => c.warmup = v,
                "budget" => c.budget = v,
                "resolution" => c.resolution = v,
                _ => {}
            }
        }
    }
    if let Some(url) = &o.base_url {
        let target = raw.target.get_or_insert_with(empty_target);
        target.base_url = Some(url.clone());
        // The profile's own service is not the one at the new address.
        if target.start.take().is_some() {
            notes.push("the base URL was given on the command line or in PERFGATE_BASE_URL: target.start is not run".to_string());
        }
    }
    if let Some(load) = raw.load.as_mut() {
        if let Some(u) = o.users {
            load.users = Some(u.min(i64::MAX as u64) as i64);
        }
        if let Some(r) = o.rate {
            load.rate = Some(r);
        }
        if let Some(d) = &o.duration {
            load.duration = Some(d.clone());
        }
        if let Some(t) = o.trials {
            load.trials = Some(t as i64);
        }
        if let Some(t) = o.max_trials {
            load.max_trials = Some(t as i64);
        }
    }
}

fn empty_target() -> RawTarget {
    RawTarget {
        base_url: None,
        start: None,
        ready: None,
        ready_timeout: None,
        request_timeout: None,
        stop_timeout: None,
        headers: BTreeMap::new(),
        http2: None,
        ca_file: None,
        insecure: None,
        restart: None,
        pid: None,
        pid_file: None,
        cgroup: None,
    }
}

/// What identifies the load for comparisons: the load (without trials and warmup) and the
/// scenarios. The target's address is left out so a profile can be pointed elsewhere.
fn profile_hash(raw: &RawProfile) -> String {
    let load = raw.load.as_ref().map(|l| {
        let mut load = serde_json::json!({
            "model": l.model, "users": l.users, "rate": l.rate, "max_in_flight": l.max_in_flight,
            "ramp_up": l.ramp_up, "duration": l.duration, "seed": l.seed, "stages": l.stages,
        });
        // Only when set, so that the hashes of profiles without it (and their baselines) stay.
        if let Some(n) = l.iterations_per_user {
            load["iterations_per_user"] = n.into();
        }
        load
    });
    let data: Vec<_> = raw.data.iter().map(|d| &d.name).collect();
    let canonical = serde_json::json!({ "load": load, "scenario": raw.scenario, "data": data });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn think(cx: &mut Ctx<'_>, p: &[Seg], s: &str) -> ThinkTime {
    let (lo, hi) = match s.split_once("..") {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let lo = cx.duration(p, lo, true);
    let hi = cx.duration(p, hi, true);
    match (lo, hi) {
        (Some(min), Some(max)) if min <= max => ThinkTime { min, max },
        (Some(_), Some(_)) => {
            cx.problem(
                p,
                format!("\"{s}\": the low end must not exceed the high end, e.g. \"1s..5s\""),
            );
            ThinkTime {
                min: Duration::ZERO,
                max: Duration::ZERO,
            }
        }
        _ => ThinkTime {
            min: Duration::ZERO,
            max: Duration::ZERO,
        },
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}
