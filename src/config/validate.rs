//! Raw profile → `Profile`: every check, every problem collected with its position.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use sha2::{Digest, Sha256};

use super::raw::*;
use super::template::{Scope, Template};
use super::{Locator, Overrides, Problem, Seg};
use crate::config::model::*;

/// No duration in a profile may exceed this: runs are bounded, and instants stay far from overflow.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const BUILTIN_NAMES: &[&str] = &["uuid", "user_id", "iteration", "random_int", "env"];

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

    let target_path = vec![Seg::Key("target".into())];
    if raw.target.is_none() {
        cx.problem(
            &[],
            "missing [target] table; it needs at least base_url = \"http://127.0.0.1:8080\"",
        );
    }
    let load_path = vec![Seg::Key("load".into())];
    let raw_load = match raw.load.take() {
        Some(l) => Some(l),
        None => {
            cx.problem(
                &[],
                "missing [load] table; e.g. model = \"closed\", users = 10, duration = \"20s\"",
            );
            None
        }
    };

    let target = raw
        .target
        .as_ref()
        .map(|t| validate_target(&mut cx, &target_path, t, overrides, base_dir));
    let load = raw_load.map(|l| validate_load(&mut cx, &load_path, l, overrides));
    let (datasets, unreadable) = validate_data(&mut cx, &raw.data, base_dir);

    // Names that templates may use: captured variables, then data fields.
    let mut vars: Vec<String> = Vec::new();
    for (si, s) in raw.scenario.iter().enumerate() {
        for (list, steps) in [("on_start", &s.on_start), ("step", &s.step)] {
            for (ti, step) in steps.iter().enumerate() {
                for var in step.capture.keys() {
                    let p = key(&idx(&idx(&[], "scenario", si), list, ti), "capture");
                    let p = key(&p, var);
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
    let ds_names: Vec<(String, Vec<String>)> = datasets
        .iter()
        .map(|d| (d.name.clone(), d.columns.clone()))
        .collect();
    let scope = Scope {
        datasets: &ds_names,
        vars: &vars,
        env,
    };
    let mut secrets = Vec::new();

    // Default headers from [target], merged into every step.
    let mut default_headers: Vec<(HeaderName, Template)> = Vec::new();
    let no_headers = BTreeMap::new();
    for (k, v) in raw.target.as_ref().map_or(&no_headers, |t| &t.headers) {
        let p = key(&key(&target_path, "headers"), k);
        if let Some(h) = header(&mut cx, &p, k, v, &scope, &mut secrets) {
            default_headers.push(h);
        }
    }

    let prefix = target
        .as_ref()
        .map(|t| t.base_url.as_str().trim_end_matches('/').to_string());
    let mut endpoints: Vec<String> = Vec::new();
    let mut scenarios = Vec::new();
    if raw.scenario.is_empty() {
        cx.problem(
            &[],
            "no [[scenario]]; add one with at least one [[scenario.step]] request = \"GET /\"",
        );
    }
    let mut names = BTreeSet::new();
    for (si, rs) in raw.scenario.iter().enumerate() {
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
            Some(s) => think(&mut cx, &key(&sp, "think_time"), s),
        };
        if rs.step.is_empty() {
            cx.problem(&sp, format!("scenario \"{name}\" has no [[scenario.step]]"));
        }
        let mut build = |list: &str, steps: &[RawStep], cx: &mut Ctx<'_>| -> Vec<Step> {
            steps
                .iter()
                .enumerate()
                .filter_map(|(ti, rs)| {
                    let p = idx(&sp, list, ti);
                    validate_step(
                        cx,
                        &p,
                        rs,
                        &scope,
                        &mut secrets,
                        &default_headers,
                        prefix.as_deref(),
                        &vars,
                        &mut endpoints,
                    )
                })
                .collect()
        };
        let on_start = build("on_start", &rs.on_start, &mut cx);
        let steps = build("step", &rs.step, &mut cx);
        scenarios.push(Scenario {
            name,
            weight,
            think_time,
            on_start,
            steps,
        });
    }
    if !raw.scenario.is_empty() && scenarios.iter().all(|s| s.weight == 0) {
        cx.problem(
            &[Seg::Key("scenario".into())],
            "the scenario weights sum to zero; give at least one scenario a positive weight",
        );
    }

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
        vars,
        secrets,
        hash,
        notes,
    })
}

fn apply_overrides(raw: &mut RawProfile, o: &Overrides, notes: &mut Vec<String>) {
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
    }
}

/// What identifies the load for comparisons: the load (without trials and warmup) and the
/// scenarios. The target's address is left out so a profile can be pointed elsewhere.
fn profile_hash(raw: &RawProfile) -> String {
    let load = raw.load.as_ref().map(|l| {
        serde_json::json!({
            "model": l.model, "users": l.users, "rate": l.rate, "max_in_flight": l.max_in_flight,
            "ramp_up": l.ramp_up, "duration": l.duration, "seed": l.seed, "stages": l.stages,
        })
    });
    let data: Vec<_> = raw.data.iter().map(|d| &d.name).collect();
    let canonical = serde_json::json!({ "load": load, "scenario": raw.scenario, "data": data });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn validate_target(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    t: &RawTarget,
    o: &Overrides,
    base_dir: &Path,
) -> Target {
    let from = if o.base_url.is_some() {
        " (from --base-url or PERFGATE_BASE_URL)"
    } else {
        ""
    };
    let fallback = Url::parse("http://127.0.0.1/").expect("a valid literal URL");
    // Messages show the URL without any credentials it may carry.
    let shown = t
        .base_url
        .as_deref()
        .map(without_credentials)
        .unwrap_or_default();
    let base_url = match t.base_url.as_deref() {
        None => {
            cx.problem(
                p,
                "missing base_url, e.g. base_url = \"http://127.0.0.1:8080\"",
            );
            fallback
        }
        Some(s) => match Url::parse(s) {
            Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => {
                if !u.username().is_empty() || u.password().is_some() {
                    cx.problem(&key(p, "base_url"), format!("credentials in the URL{from} would end up in results; use headers with {{{{env.NAME}}}} instead"));
                }
                if u.query().is_some() || u.fragment().is_some() {
                    cx.problem(&key(p, "base_url"), format!("\"{shown}\"{from} has a query or fragment; put those in the step's request"));
                }
                u
            }
            Ok(_) => {
                cx.problem(
                    &key(p, "base_url"),
                    format!("\"{shown}\"{from} is not an http:// or https:// URL with a host"),
                );
                fallback
            }
            Err(e) => {
                cx.problem(
                    &key(p, "base_url"),
                    format!("\"{shown}\"{from} is not a URL ({e}); e.g. \"http://127.0.0.1:8080\""),
                );
                fallback
            }
        },
    };
    if let Some(ready) = &t.ready {
        if !ready.starts_with('/') {
            cx.problem(
                &key(p, "ready"),
                format!("\"{ready}\" must be a path starting with `/`, e.g. \"/health\""),
            );
        }
    }
    if let Some(start) = &t.start {
        if start.trim().is_empty() {
            cx.problem(
                &key(p, "start"),
                "empty command; remove `start` or give the command that starts the service",
            );
        }
    }
    Target {
        base_url,
        start: t.start.clone(),
        ready: t.ready.clone(),
        ready_timeout: cx.opt_duration(
            &key(p, "ready_timeout"),
            t.ready_timeout.as_ref(),
            Duration::from_secs(60),
            false,
        ),
        request_timeout: cx.opt_duration(
            &key(p, "request_timeout"),
            t.request_timeout.as_ref(),
            Duration::from_secs(10),
            false,
        ),
        stop_timeout: cx.opt_duration(
            &key(p, "stop_timeout"),
            t.stop_timeout.as_ref(),
            Duration::from_secs(10),
            true,
        ),
        http2: t.http2.unwrap_or(false),
        ca_pem: t.ca_file.as_ref().and_then(|f| {
            let path = base_dir.join(f);
            let problem = match std::fs::read(&path) {
                Ok(pem)
                    if pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----")
                        && reqwest::Certificate::from_pem(&pem).is_ok() =>
                {
                    return Some(pem)
                }
                Ok(_) => format!("{} is not a PEM certificate", path.display()),
                Err(e) => format!("cannot read {}: {e}", path.display()),
            };
            cx.problem(&key(p, "ca_file"), problem);
            None
        }),
        insecure: t.insecure.unwrap_or(false),
    }
}

fn validate_load(cx: &mut Ctx<'_>, p: &[Seg], l: RawLoad, o: &Overrides) -> Load {
    let model_name = match l.model.as_deref() {
        Some(m) => m.to_string(),
        None if l.rate.is_some() => "open".to_string(),
        None => "closed".to_string(),
    };
    let stages: Vec<Stage> = l
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let sp = idx(p, "stages", i);
            let duration = match &s.duration {
                Some(d) => cx.duration(&key(&sp, "duration"), d, true),
                None => {
                    cx.problem(&sp, "a stage needs duration = \"10s\"");
                    None
                }
            };
            let target = match s.target {
                Some(t) if t.is_finite() && t >= 0.0 => Some(t),
                Some(t) => {
                    cx.problem(&key(&sp, "target"), format!("{t} is not a load level; use a number ≥ 0"));
                    None
                }
                None => {
                    cx.problem(&sp, "a stage needs target = N (users for the closed model, iterations/s for the open one)");
                    None
                }
            };
            Some(Stage { duration: duration?, target: target? })
        })
        .collect();
    let peak = stages.iter().map(|s| s.target).fold(0.0, f64::max);

    let model = match model_name.as_str() {
        "closed" => {
            if l.rate.is_some() {
                cx.problem(
                    &key(p, "rate"),
                    "`rate` belongs to the open model; with model = \"closed\" set `users`",
                );
            }
            if l.max_in_flight.is_some() {
                cx.problem(
                    &key(p, "max_in_flight"),
                    "`max_in_flight` belongs to the open model",
                );
            }
            let from = if o.users.is_some() {
                " (from --users or PERFGATE_USERS)"
            } else {
                ""
            };
            let users = match l.users {
                Some(u) if (1..=1_000_000).contains(&u) => {
                    if !stages.is_empty() {
                        cx.problem(&key(p, "users"), "with stages the number of users follows the stages' targets; remove `users`");
                    }
                    u as u64
                }
                Some(u) => {
                    cx.problem(
                        &key(p, "users"),
                        format!("{u}{from} users: give a number from 1 to 1000000"),
                    );
                    1
                }
                None if !stages.is_empty() => {
                    if stages.iter().any(|s| s.target.fract() != 0.0) {
                        cx.problem(
                            &key(p, "stages"),
                            "closed-model stage targets are numbers of users: whole numbers",
                        );
                    }
                    peak.max(1.0) as u64
                }
                None => {
                    cx.problem(p, "the closed model needs users = N (or stages)");
                    1
                }
            };
            Model::Closed { users }
        }
        "open" => {
            if l.users.is_some() {
                cx.problem(&key(p, "users"), "`users` belongs to the closed model; with model = \"open\" set `rate` (iterations per second)");
            }
            let from = if o.rate.is_some() {
                " (from --rate or PERFGATE_RATE)"
            } else {
                ""
            };
            let rate = match l.rate {
                Some(r) if r.is_finite() && r > 0.0 => {
                    if !stages.is_empty() {
                        cx.problem(
                            &key(p, "rate"),
                            "with stages the rate follows the stages' targets; remove `rate`",
                        );
                    }
                    r
                }
                Some(r) => {
                    cx.problem(
                        &key(p, "rate"),
                        format!("{r}{from} is not a rate; give iterations per second > 0"),
                    );
                    1.0
                }
                None if !stages.is_empty() => peak.max(f64::MIN_POSITIVE),
                None => {
                    cx.problem(
                        p,
                        "the open model needs rate = N iterations per second (or stages)",
                    );
                    1.0
                }
            };
            let max_in_flight = match l.max_in_flight {
                None => 1000,
                Some(m) if m >= 1 => m as u64,
                Some(m) => {
                    cx.problem(&key(p, "max_in_flight"), format!("{m}: give at least 1"));
                    1
                }
            };
            Model::Open {
                rate,
                max_in_flight,
            }
        }
        other => {
            cx.problem(&key(p, "model"), format!("unknown model \"{other}\"; use \"closed\" (users loop) or \"open\" (a fixed arrival rate)"));
            Model::Closed { users: 1 }
        }
    };

    let warmup = cx.opt_duration(&key(p, "warmup"), l.warmup.as_ref(), Duration::ZERO, true);
    let ramp_up = cx.opt_duration(&key(p, "ramp_up"), l.ramp_up.as_ref(), Duration::ZERO, true);
    let duration = if stages.is_empty() {
        match &l.duration {
            Some(d) => cx
                .duration(&key(p, "duration"), d, false)
                .unwrap_or(Duration::from_secs(1)),
            None => {
                cx.problem(
                    p,
                    "missing duration, e.g. duration = \"20s\" (measured, after the warmup)",
                );
                Duration::from_secs(1)
            }
        }
    } else {
        if l.duration.is_some() && o.duration.is_none() {
            cx.problem(
                &key(p, "duration"),
                "with stages the run lasts as long as the stages; remove `duration`",
            );
        }
        if o.duration.is_some() {
            cx.problem(
                &key(p, "stages"),
                "--duration / PERFGATE_DURATION cannot shorten a staged load; edit the stages",
            );
        }
        if l.ramp_up.is_some() {
            cx.problem(
                &key(p, "ramp_up"),
                "with stages, ramps are stages; remove `ramp_up`",
            );
        }
        let total: Duration = stages.iter().map(|s| s.duration).sum();
        if total <= warmup {
            cx.problem(
                &key(p, "stages"),
                format!(
                "the stages last {}, not longer than the warmup ({}); nothing would be measured",
                humantime::format_duration(total),
                humantime::format_duration(warmup)
            ),
            );
            Duration::from_secs(1)
        } else {
            total - warmup
        }
    };
    if ramp_up > warmup + duration {
        cx.problem(
            &key(p, "ramp_up"),
            "ramp_up is longer than the whole trial (warmup + duration)",
        );
    }
    let trials = match l.trials {
        None => 1,
        Some(t) if (1..=1000).contains(&t) => t as u32,
        Some(t) => {
            cx.problem(
                &key(p, "trials"),
                format!("{t}: give a number of trials from 1 to 1000"),
            );
            1
        }
    };
    let seed = match l.seed {
        None => 0,
        Some(s) if s >= 0 => s as u64,
        Some(s) => {
            cx.problem(&key(p, "seed"), format!("{s}: the seed is a number ≥ 0"));
            0
        }
    };
    Load {
        model,
        ramp_up,
        stages,
        warmup,
        duration,
        trials,
        seed,
    }
}

/// The data sets that could be read, and the names of those that could not.
fn validate_data(
    cx: &mut Ctx<'_>,
    data: &[RawData],
    base_dir: &Path,
) -> (Vec<Dataset>, Vec<String>) {
    let mut out: Vec<Dataset> = Vec::new();
    let mut unreadable = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let p = idx(&[], "data", i);
        let Some(name) = d.name.clone() else {
            cx.problem(&p, "a data set needs name = \"accounts\"");
            continue;
        };
        if !is_ident(&name) {
            cx.problem(
                &key(&p, "name"),
                format!("\"{name}\" is not a name (letters, digits, `_`)"),
            );
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            cx.problem(
                &key(&p, "name"),
                format!("two data sets are named \"{name}\""),
            );
            continue;
        }
        let Some(file) = &d.file else {
            cx.problem(&p, "a data set needs file = \"data/accounts.csv\"");
            unreadable.push(name);
            continue;
        };
        let path = base_dir.join(file);
        match read_csv(&path) {
            Ok((columns, rows)) => out.push(Dataset {
                name,
                columns,
                rows,
            }),
            Err(msgs) => {
                for msg in msgs {
                    cx.problem(&key(&p, "file"), msg);
                }
                unreadable.push(name);
            }
        }
    }
    (out, unreadable)
}

/// At most this many bad rows of one data file are listed; the rest are counted.
const MAX_ROW_PROBLEMS: usize = 10;

/// A data file's column names and rows.
type Csv = (Vec<String>, Vec<Vec<String>>);

/// Reads a data file: a header naming every column, then at least one row of as many fields.
/// Every problem found is returned, each naming the file and its line.
fn read_csv(path: &Path) -> Result<Csv, Vec<String>> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| vec![format!("cannot read {shown}: {e}")])?;
    let empty = || {
        vec![format!(
            "{shown} is empty; its first line names the columns (e.g. username,password) and each further line is one user's row"
        )]
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut records = reader.byte_records();
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());
    let not_utf8 =
        |line: u64| format!("{shown}:{line}: this line is not UTF-8 text; save the file as UTF-8");
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(vec![format!("{shown}: {e}")]),
        None => return Err(empty()),
    };
    let header_line = line_of(&header);
    let Ok(header) = csv::StringRecord::from_byte_record(header) else {
        return Err(vec![not_utf8(header_line)]);
    };
    let columns: Vec<String> = header
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mut problems = Vec::new();
    if columns.iter().any(|c| c.is_empty()) {
        problems.push(format!(
            "{shown}:{header_line}: the first line must name every column, e.g. username,password (column {} has no name)",
            columns.iter().position(|c| c.is_empty()).unwrap_or(0) + 1
        ));
    }
    let mut seen = BTreeSet::new();
    for c in &columns {
        if !c.is_empty() && !seen.insert(c) {
            problems.push(format!(
                "{shown}:{header_line}: two columns are named \"{c}\"; each column needs its own name"
            ));
        }
    }
    let mut rows = Vec::new();
    let mut bad_rows = 0usize;
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad_rows += 1;
                if bad_rows <= MAX_ROW_PROBLEMS {
                    problems.push(format!("{shown}:{line}: {e}"));
                }
                continue;
            }
        };
        let line = line_of(&rec);
        if rec.len() != columns.len() {
            bad_rows += 1;
            if bad_rows <= MAX_ROW_PROBLEMS {
                problems.push(format!(
                    "{shown}:{line}: this row has {} field{}, the header has {} ({}); quote a field that holds a comma",
                    rec.len(),
                    if rec.len() == 1 { "" } else { "s" },
                    columns.len(),
                    columns.join(", ")
                ));
            }
            continue;
        }
        match csv::StringRecord::from_byte_record(rec) {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(_) => {
                bad_rows += 1;
                if bad_rows <= MAX_ROW_PROBLEMS {
                    problems.push(not_utf8(line));
                }
            }
        }
    }
    if bad_rows > MAX_ROW_PROBLEMS {
        problems.push(format!(
            "{shown}: … and {} more bad rows",
            bad_rows - MAX_ROW_PROBLEMS
        ));
    }
    if problems.is_empty() && rows.is_empty() {
        problems.push(format!(
            "{shown} has a header but no rows; each user takes one row"
        ));
    }
    if problems.is_empty() {
        Ok((columns, rows))
    } else {
        Err(problems)
    }
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

fn template(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    s: &str,
    scope: &Scope<'_>,
    secrets: &mut Vec<String>,
) -> Option<Template> {
    match Template::parse(s, scope, secrets) {
        Ok(t) => Some(t),
        Err(e) => {
            cx.problem(p, e);
            None
        }
    }
}

fn header(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    name: &str,
    value: &str,
    scope: &Scope<'_>,
    secrets: &mut Vec<String>,
) -> Option<(HeaderName, Template)> {
    let hn = match HeaderName::from_bytes(name.as_bytes()) {
        Ok(h) => h,
        Err(_) => {
            cx.problem(p, format!("\"{name}\" is not a valid header name"));
            return None;
        }
    };
    let t = template(cx, p, value, scope, secrets)?;
    if let Some(s) = t.as_static() {
        if HeaderValue::from_str(s).is_err() {
            cx.problem(p, "the header value has characters a header cannot carry (control characters or newlines)");
            return None;
        }
    }
    Some((hn, t))
}

#[allow(clippy::too_many_arguments)]
fn validate_step(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    rs: &RawStep,
    scope: &Scope<'_>,
    secrets: &mut Vec<String>,
    default_headers: &[(HeaderName, Template)],
    prefix: Option<&str>,
    vars: &[String],
    endpoints: &mut Vec<String>,
) -> Option<Step> {
    let Some(request) = rs.request.as_deref() else {
        cx.problem(
            p,
            "a step needs request = \"METHOD /path\", e.g. request = \"GET /api/v1/shows/\"",
        );
        return None;
    };
    let rp = key(p, "request");
    let (method, path) = match request.trim().split_once(char::is_whitespace) {
        Some((m, path)) => (m, path.trim()),
        None => {
            cx.problem(
                &rp,
                format!("\"{request}\" is not \"METHOD /path\", e.g. \"GET /api/v1/shows/\""),
            );
            return None;
        }
    };
    let method_ok = METHODS.contains(&method);
    if !method_ok {
        cx.problem(
            &rp,
            format!(
                "unknown method \"{method}\"; use one of {}",
                METHODS.join(", ")
            ),
        );
    }
    if !path.starts_with('/') {
        cx.problem(
            &rp,
            format!("the path \"{path}\" must start with `/` (it is joined to target.base_url)"),
        );
    }
    let path_t = template(cx, &rp, path, scope, secrets);

    // Headers: the target's defaults, overridden by the step's own (names compare case-insensitively).
    let mut headers: Vec<(HeaderName, Template)> = default_headers.to_vec();
    for (k, v) in &rs.headers {
        if let Some((name, t)) = header(cx, &key(&key(p, "headers"), k), k, v, scope, secrets) {
            headers.retain(|(n, _)| n != name);
            headers.push((name, t));
        }
    }

    let bodies = [rs.json.is_some(), rs.body.is_some(), rs.form.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if bodies > 1 {
        cx.problem(p, "give at most one of json, body and form");
    }
    let has_content_type = headers.iter().any(|(n, _)| n == CONTENT_TYPE);
    let body = if let Some(json) = &rs.json {
        json_template(cx, &key(p, "json"), json, scope, secrets).map(|j| match json_static(&j) {
            Some(v) => Body::Static {
                bytes: Bytes::from(v.to_string()),
                content_type: "application/json",
            },
            None => Body::Json(j),
        })
    } else if let Some(text) = &rs.body {
        template(cx, &key(p, "body"), text, scope, secrets).map(|t| match t.as_static() {
            Some(s) => Body::Static {
                bytes: Bytes::from(s.to_string()),
                content_type: "text/plain; charset=utf-8",
            },
            None => Body::Text(t),
        })
    } else if let Some(form) = &rs.form {
        let fields: Vec<(String, Template)> = form
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.clone(),
                    template(cx, &key(&key(p, "form"), k), v, scope, secrets)?,
                ))
            })
            .collect();
        if fields.iter().all(|(_, t)| t.as_static().is_some()) {
            let mut enc = form_urlencoded::Serializer::new(String::new());
            for (k, t) in &fields {
                enc.append_pair(k, t.as_static().unwrap_or_default());
            }
            Some(Body::Static {
                bytes: Bytes::from(enc.finish()),
                content_type: "application/x-www-form-urlencoded",
            })
        } else {
            Some(Body::Form(fields))
        }
    } else {
        Some(Body::None)
    };

    let expect = match &rs.expect {
        None => Expect {
            status: vec![(200, 399)],
            body_contains: None,
        },
        Some(e) => {
            let ep = key(p, "expect");
            let status = match &e.status {
                None => vec![(200, 399)],
                Some(list) if list.is_empty() => {
                    cx.problem(&key(&ep, "status"), "an empty list would fail every request; list the statuses you expect, e.g. [200, 201] or [\"2xx\"]");
                    vec![]
                }
                Some(list) => list
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| status_range(cx, &idx(&ep, "status", i), s))
                    .collect(),
            };
            if let Some(b) = &e.body_contains {
                if b.is_empty() {
                    cx.problem(
                        &key(&ep, "body_contains"),
                        "an empty string is in every body; remove it or give the text to look for",
                    );
                }
            }
            Expect {
                status,
                body_contains: e.body_contains.clone(),
            }
        }
    };

    let mut captures = Vec::new();
    for (var, spec) in &rs.capture {
        let cp = key(&key(p, "capture"), var);
        let Some(slot) = vars.iter().position(|v| v == var) else {
            continue; // reported when collecting names
        };
        let source = if let Some(path) = spec.strip_prefix("json:") {
            match serde_json_path::JsonPath::parse(path.trim()) {
                Ok(jp) => CaptureSource::Json(jp),
                Err(e) => {
                    cx.problem(
                        &cp,
                        format!(
                            "\"{path}\" is not a JSONPath ({e}); e.g. \"json:$.results[0].id\""
                        ),
                    );
                    continue;
                }
            }
        } else if let Some(h) = spec.strip_prefix("header:") {
            match HeaderName::from_bytes(h.trim().as_bytes()) {
                Ok(h) => CaptureSource::Header(h),
                Err(_) => {
                    cx.problem(&cp, format!("\"{h}\" is not a header name"));
                    continue;
                }
            }
        } else {
            cx.problem(&cp, format!("\"{spec}\": say where the value comes from: \"json:$.path\" or \"header:Name\""));
            continue;
        };
        captures.push(Capture { slot, source });
    }

    let (path_t, body) = (path_t?, body?);
    if !method_ok {
        return None;
    }
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    let static_url = match (prefix, path_t.as_static()) {
        (Some(prefix), Some(rendered)) => match Url::parse(&format!("{prefix}{rendered}")) {
            Ok(u) => Some(u),
            Err(e) => {
                // The raw path, not the rendered one: that may hold an {{env.*}} value.
                cx.problem(
                    &rp,
                    format!("\"{path}\" does not make a valid URL with the base URL: {e}"),
                );
                return None;
            }
        },
        _ => None,
    };
    let mut static_headers = HeaderMap::new();
    let mut dynamic_headers = Vec::new();
    for (name, t) in headers {
        match t.as_static().and_then(|s| HeaderValue::from_str(s).ok()) {
            Some(mut v) => {
                if is_sensitive(&name) {
                    v.set_sensitive(true);
                }
                static_headers.insert(name, v);
            }
            None => dynamic_headers.push((name, t)),
        }
    }
    if let Body::Static { content_type, .. } = &body {
        if !has_content_type {
            static_headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
    } else if !has_content_type {
        let ct = match &body {
            Body::Json(_) => Some("application/json"),
            Body::Text(_) => Some("text/plain; charset=utf-8"),
            Body::Form(_) => Some("application/x-www-form-urlencoded"),
            _ => None,
        };
        if let Some(ct) = ct {
            static_headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
    }
    let name = rs
        .name
        .clone()
        .unwrap_or_else(|| format!("{method} {path}"));
    let endpoint = match endpoints.iter().position(|e| *e == name) {
        Some(i) => i,
        None => {
            endpoints.push(name);
            endpoints.len() - 1
        }
    };
    let static_origin = static_url.as_ref().map(origin_form);
    Some(Step {
        id: 0, // numbered once the profile is complete
        endpoint,
        method,
        path: path_t,
        static_url,
        static_origin,
        static_headers,
        dynamic_headers,
        body,
        expect,
        captures,
    })
}

/// `scheme://user:password@host…` → `scheme://***@host…`.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

pub fn is_sensitive(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization" | "cookie" | "proxy-authorization" | "x-api-key" | "set-cookie"
    )
}

fn status_range(cx: &mut Ctx<'_>, p: &[Seg], s: &RawStatus) -> Option<(u16, u16)> {
    let bad = |cx: &mut Ctx<'_>, what: String| {
        cx.problem(p, format!("{what} is not a status; write a code (429), a class (\"2xx\") or a range (\"200-299\")"));
        None
    };
    let code = |v: i64| (100..=599).contains(&v).then_some(v as u16);
    match s {
        RawStatus::Code(c) => match code(*c) {
            Some(c) => Some((c, c)),
            None => bad(cx, c.to_string()),
        },
        RawStatus::Pattern(text) => {
            let t = text.trim().to_ascii_lowercase();
            if t.len() == 3 && t.ends_with("xx") {
                if let Some(d) = t[..1].parse::<u16>().ok().filter(|d| (1..=5).contains(d)) {
                    return Some((d * 100, d * 100 + 99));
                }
            }
            if let Some((a, b)) = t.split_once('-') {
                if let (Some(a), Some(b)) = (
                    a.trim().parse().ok().and_then(code),
                    b.trim().parse().ok().and_then(code),
                ) {
                    if a <= b {
                        return Some((a, b));
                    }
                }
            }
            match t.parse().ok().and_then(code) {
                Some(c) => Some((c, c)),
                None => bad(cx, format!("\"{text}\"")),
            }
        }
    }
}

fn json_template(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    v: &toml::Value,
    scope: &Scope<'_>,
    secrets: &mut Vec<String>,
) -> Option<JsonTemplate> {
    Some(match v {
        toml::Value::String(s) => JsonTemplate::String(template(cx, p, s, scope, secrets)?),
        toml::Value::Integer(i) => JsonTemplate::Number((*i).into()),
        toml::Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => JsonTemplate::Number(n),
            None => {
                cx.problem(p, format!("{f} cannot be written in JSON"));
                return None;
            }
        },
        toml::Value::Boolean(b) => JsonTemplate::Bool(*b),
        toml::Value::Datetime(d) => JsonTemplate::String(Template::literal(d.to_string())),
        toml::Value::Array(a) => JsonTemplate::Array(
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    let mut ip = p.to_vec();
                    ip.push(Seg::Index(i));
                    json_template(cx, &ip, v, scope, secrets)
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        toml::Value::Table(t) => JsonTemplate::Object(
            t.iter()
                .map(|(k, v)| Some((k.clone(), json_template(cx, &key(p, k), v, scope, secrets)?)))
                .collect::<Option<Vec<_>>>()?,
        ),
    })
}

/// The JSON value when no string in it has a variable.
fn json_static(j: &JsonTemplate) -> Option<serde_json::Value> {
    use serde_json::Value as V;
    Some(match j {
        JsonTemplate::Null => V::Null,
        JsonTemplate::Bool(b) => V::Bool(*b),
        JsonTemplate::Number(n) => V::Number(n.clone()),
        JsonTemplate::String(t) => V::String(t.as_static()?.to_string()),
        JsonTemplate::Array(a) => V::Array(a.iter().map(json_static).collect::<Option<_>>()?),
        JsonTemplate::Object(o) => V::Object(
            o.iter()
                .map(|(k, v)| Some((k.clone(), json_static(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}
