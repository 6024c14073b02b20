//! What a result records about where and what it ran: host fingerprint, git state, load summary.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::config::{Model, Profile};
use crate::result::{ClientStats, GitMeta, HostMeta, LoadMeta, StageMeta};

pub fn host() -> HostMeta {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let os = std::env::consts::OS.to_string();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let digest = Sha256::digest(format!("{cpu_model}|{cores}|{os}").as_bytes());
    HostMeta {
        fingerprint: digest.iter().take(6).map(|b| format!("{b:02x}")).collect(),
        cpu_model,
        cores,
        os,
        kernel,
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit being measured: from GitHub Actions' environment when present, else from git.
pub fn git_meta(dir: &Path) -> Option<GitMeta> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let sha = env("GITHUB_SHA").or_else(|| git(dir, &["rev-parse", "HEAD"]));
    let branch = env("GITHUB_HEAD_REF")
        .or_else(|| env("GITHUB_REF_NAME"))
        .or_else(|| git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
    let dirty = git(dir, &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
    if sha.is_none() && branch.is_none() {
        return None;
    }
    Some(GitMeta {
        sha,
        branch,
        dirty,
        pr: None,
    })
}

pub fn load_meta(p: &Profile) -> LoadMeta {
    let l = &p.load;
    let (model, users, rate, max_in_flight) = match l.model {
        Model::Closed { users } => ("closed", Some(users), None, None),
        Model::Open {
            rate,
            max_in_flight,
        } => ("open", None, Some(rate), Some(max_in_flight)),
    };
    LoadMeta {
        model: model.to_string(),
        users,
        rate,
        max_in_flight,
        ramp_up_s: l.ramp_up.as_secs_f64(),
        stages: l
            .stages
            .iter()
            .map(|s| StageMeta {
                name: s.name.clone(),
                duration_s: s.duration.as_secs_f64(),
                target: s.target,
            })
            .collect(),
        warmup_s: l.warmup.as_secs_f64(),
        duration_s: l.duration.as_secs_f64(),
        trials: l.trials,
        max_trials: (l.max_trials > l.trials).then_some(l.max_trials),
        seed: l.seed,
        iterations_per_user: l.iterations_per_user,
    }
}

/// What this process has cost so far (`getrusage(RUSAGE_SELF)`: children excluded).
pub fn client_stats() -> Option<ClientStats> {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(ClientStats {
        // Linux reports kilobytes.
        peak_rss_bytes: (u.ru_maxrss.max(0) as u64) * 1024,
        cpu_user_s: secs(u.ru_utime),
        cpu_sys_s: secs(u.ru_stime),
    })
}
