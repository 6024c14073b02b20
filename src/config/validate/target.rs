//! `[target]`: where the service is, how perfgate starts it and knows it is ready, and how it
//! talks to it.

use std::path::Path;
use std::time::Duration;

use reqwest::Url;

use super::{key, Ctx};
use crate::config::model::{Target, Watch};
use crate::config::raw::RawTarget;
use crate::config::Overrides;
use crate::diag::Seg;
use crate::redact::url_without_credentials;

pub(super) fn validate_target(
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
        .map(url_without_credentials)
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
        restart_per_trial: restart(cx, p, t),
        watch: watch(cx, p, t, o, base_dir),
    }
}

/// Where the target's CPU and memory are read: `pid`, `pid_file` or `cgroup` when given (one of
/// them), else the process tree of `start` — unless `--base-url` points the load elsewhere, when
/// the process perfgate started is not what is measured.
fn watch(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    t: &RawTarget,
    o: &Overrides,
    base_dir: &Path,
) -> Option<Watch> {
    let given = [
        t.pid.is_some().then_some("pid"),
        t.pid_file.is_some().then_some("pid_file"),
        t.cgroup.is_some().then_some("cgroup"),
    ];
    let given: Vec<&str> = given.into_iter().flatten().collect();
    if given.len() > 1 {
        cx.problem(
            &key(p, given[1]),
            format!(
                "{} are different ways to find the target's processes; give one",
                given.join(" and ")
            ),
        );
    }
    if let Some(pid) = t.pid {
        return match i32::try_from(pid) {
            Ok(pid) if pid > 0 => Some(Watch::Pid(pid)),
            _ => {
                cx.problem(
                    &key(p, "pid"),
                    format!("{pid} is not a process id; write the target's pid, e.g. pid = 1234"),
                );
                None
            }
        };
    }
    if let Some(f) = &t.pid_file {
        if f.trim().is_empty() {
            cx.problem(&key(p, "pid_file"), "an empty path; give the file the service writes its pid to, e.g. pid_file = \"run/app.pid\"");
            return None;
        }
        return Some(Watch::PidFile(base_dir.join(f)));
    }
    if let Some(c) = &t.cgroup {
        if c.trim().is_empty() {
            cx.problem(&key(p, "cgroup"), "an empty path; give the service's cgroup v2 directory, e.g. cgroup = \"system.slice/app.service\"");
            return None;
        }
        // Relative paths are under the cgroup v2 mount.
        return Some(Watch::Cgroup(Path::new("/sys/fs/cgroup").join(c)));
    }
    (t.start.is_some() && o.base_url.is_none()).then_some(Watch::Started)
}

/// `restart = "trial"` (a fresh target per trial: the default for a target perfgate starts) or
/// `"run"` (one for the whole run).
///
/// Measured on the bench target (8 runs of 5 trials each way): with one process per run, the
/// run-to-run spread of a metric's mean was 2–3.6 times what the spread between its trials
/// predicts (p95 of a CPU-bound endpoint: 18% between runs beyond what 13% between trials
/// explains), so two runs of an unchanged service differed by more than the trial-level tests
/// allow for; with a process per trial, the excess fell to 0–3%.
fn restart(cx: &mut Ctx<'_>, p: &[Seg], t: &RawTarget) -> bool {
    match t.restart.as_deref() {
        None => t.start.is_some(),
        Some("run") => false,
        Some("trial") if t.start.is_some() => true,
        Some("trial") => {
            cx.problem(
                &key(p, "restart"),
                "restart = \"trial\" needs a target perfgate starts: give `start`",
            );
            false
        }
        Some(other) => {
            cx.problem(
                &key(p, "restart"),
                format!("\"{other}\": write \"trial\" (a fresh target for every trial) or \"run\" (one for the run)"),
            );
            false
        }
    }
}
