//! `run --shard I/N`, `--start-at` and `--run-id`: which share of the load this process runs,
//! from the command line or the environment a scheduler sets (a Kubernetes Indexed Job's
//! `JOB_COMPLETION_INDEX`, GitHub Actions' run id), checked before anything starts.

use std::time::{Duration, SystemTime};

use super::failure::Failure;
use crate::config::{Profile, Shard};

/// What the command line (or `PERFGATE_SHARD`, `PERFGATE_START_AT`, `PERFGATE_RUN_ID`) said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardOptions {
    /// `I/N`.
    pub shard: Option<String>,
    /// RFC 3339.
    pub start_at: Option<String>,
    pub run_id: Option<String>,
}

/// Lateness under a common start beyond which a shard says so as it ends (the merge says it
/// again): a quarter of a second shifts a quarter of every merged second.
pub const LATE_NOTE_MS: f64 = 250.0;

/// What a shard that began trials late under `--start-at` says on stderr; None when on time
/// (or without a common start).
pub fn lateness(result: &crate::result::RunResult) -> Option<String> {
    let late: Vec<String> = result
        .trials
        .iter()
        .enumerate()
        .filter_map(|(j, t)| {
            let l = t.late_ms.filter(|&l| l > LATE_NOTE_MS)?;
            Some(format!("trial {} by {}", j + 1, crate::units::latency(l)))
        })
        .collect();
    (!late.is_empty()).then(|| {
        format!(
            "warning: this shard began late for the common start ({}): its seconds are merged by their position in the trial, offset from the other shards' by that much; start the shards earlier or set --start-at further ahead",
            late.join(", ")
        )
    })
}

/// How far ahead a common start may lie: further is a typo, not a plan.
const MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// The shard this process runs. Without `--shard`, a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX` with `PERFGATE_SHARDS=N` names it; the run id defaults to GitHub
/// Actions' run and attempt, then to the common start.
pub fn resolve(o: &ShardOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, Failure> {
    let from_job = || {
        let (i, n) = (env("JOB_COMPLETION_INDEX")?, env("PERFGATE_SHARDS")?);
        Some((
            format!("{}/{}", i.trim(), n.trim()),
            "JOB_COMPLETION_INDEX/PERFGATE_SHARDS",
        ))
    };
    let spec = o.shard.clone().map(|s| (s, "--shard")).or_else(from_job);
    let start_at = o
        .start_at
        .as_deref()
        .map(|s| parse_start(s, SystemTime::now()))
        .transpose()?;
    let (index, count) = match &spec {
        Some((s, what)) => parse_shard(s, what)?,
        // The whole load, perhaps at a given instant: no run to belong to.
        None => {
            return Ok(Shard {
                start_at,
                ..Shard::default()
            })
        }
    };
    let run_id = o
        .run_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            let id = env("GITHUB_RUN_ID")?;
            Some(match env("GITHUB_RUN_ATTEMPT") {
                Some(a) => format!("{id}-{a}"),
                None => id,
            })
        })
        .or_else(|| o.start_at.as_ref().map(|s| format!("start-{}", s.trim())));
    if count > 1 && run_id.is_none() {
        return Err(Failure::Usage(format!(
            "shard {index}/{count} needs the run id every shard of the run shares, so that `perfgate merge` can tell its shards from another run's: give --run-id ID (or PERFGATE_RUN_ID), or a common --start-at"
        )));
    }
    Ok(Shard {
        index,
        count,
        run_id,
        start_at,
    })
}

/// `I/N` with I counted from 0.
fn parse_shard(s: &str, what: &str) -> Result<(u64, u64), Failure> {
    let bad = |why: String| Failure::Usage(format!("{what} `{s}`: {why}"));
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| bad("expected I/N, e.g. 0/3 for the first of three shards".into()))?;
    let num = |x: &str, name: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("the {name} `{x}` is not a whole number")))
    };
    let (i, n) = (num(i, "index")?, num(n, "count")?);
    if n == 0 {
        return Err(bad("there must be at least one shard".into()));
    }
    if i >= n {
        let all: Vec<String> = (0..n.min(4)).map(|k| format!("{k}/{n}")).collect();
        return Err(bad(format!(
            "shards count from 0, so {n} shards are {}{}",
            all.join(", "),
            if n > 4 { ", …" } else { "" }
        )));
    }
    Ok((i, n))
}

fn parse_start(s: &str, now: SystemTime) -> Result<SystemTime, Failure> {
    let t = humantime::parse_rfc3339_weak(s.trim()).map_err(|_| {
        Failure::Usage(format!(
            "--start-at `{s}`: not an RFC 3339 instant in UTC, e.g. 2026-12-02T21:00:00Z"
        ))
    })?;
    if t.duration_since(now).is_ok_and(|ahead| ahead > MAX_AHEAD) {
        return Err(Failure::Usage(format!(
            "--start-at `{s}` is more than a day ahead; a common start is meant to be minutes away"
        )));
    }
    Ok(t)
}

/// A shard sends its share of the load to a service it does not start: N shards would start N
/// services. Refused before anything runs.
pub fn check_target(profile: &Profile) -> Result<(), Failure> {
    let s = &profile.shard;
    if s.count > 1 && profile.target.start.is_some() {
        return Err(Failure::Usage(format!(
            "shard {}/{}: the profile starts its own target (target.start), and {} shards would start {} services; start the service once and give every shard its URL with --base-url (or PERFGATE_BASE_URL)",
            s.index, s.count, s.count, s.count
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_count_from_zero_and_say_what_would_be_right() {
        let o = |s: &str| ShardOptions {
            shard: Some(s.into()),
            run_id: Some("r".into()),
            ..Default::default()
        };
        let none = env_of(&[]);
        let s = resolve(&o("2/3"), &none).unwrap();
        assert_eq!((s.index, s.count), (2, 3));
        let e = resolve(&o("3/3"), &none).unwrap_err().to_string();
        assert!(e.contains("0/3, 1/3, 2/3"), "{e}");
        for bad in ["3", "a/3", "1/0", "-1/2"] {
            let e = resolve(&o(bad), &none).unwrap_err();
            assert_eq!(e.exit_code(), crate::exit::INVALID_INPUT, "{bad}");
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn an_indexed_job_names_the_shard_and_a_split_run_needs_a_run_id() {
        let job = env_of(&[("JOB_COMPLETION_INDEX", "1"), ("PERFGATE_SHARDS", "4")]);
        let e = resolve(&ShardOptions::default(), &job)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--run-id"), "{e}");
        let o = ShardOptions {
            run_id: Some("job-7".into()),
            ..Default::default()
        };
        let s = resolve(&o, &job).unwrap();
        assert_eq!(
            (s.index, s.count, s.run_id.as_deref()),
            (1, 4, Some("job-7"))
        );
        // GitHub Actions: the run and its attempt.
        let gh = env_of(&[
            ("JOB_COMPLETION_INDEX", "0"),
            ("PERFGATE_SHARDS", "2"),
            ("GITHUB_RUN_ID", "99"),
            ("GITHUB_RUN_ATTEMPT", "2"),
        ]);
        let s = resolve(&ShardOptions::default(), &gh).unwrap();
        assert_eq!(s.run_id.as_deref(), Some("99-2"));
        // An index alone (an Indexed Job that is not split by perfgate) is the whole load.
        let alone = env_of(&[("JOB_COMPLETION_INDEX", "3")]);
        let s = resolve(&ShardOptions::default(), &alone).unwrap();
        assert_eq!((s.index, s.count), (0, 1));
    }

    #[test]
    fn a_common_start_is_an_rfc3339_instant_not_far_ahead() {
        let now = humantime::parse_rfc3339("2026-12-02T21:00:00Z").unwrap();
        let t = parse_start("2026-12-02T21:01:30Z", now).unwrap();
        assert_eq!(t.duration_since(now).unwrap(), Duration::from_secs(90));
        assert!(parse_start("tomorrow", now).is_err());
        let e = parse_start("2026-12-09T21:00:00Z", now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than a day"), "{e}");
        let o = ShardOptions {
            shard: Some("0/2".into()),
            start_at: Some("2026-12-02T21:01:30Z".into()),
            ..Default::default()
        };
        // Far in the past is allowed (every trial then starts late, and says so), and the start
        // names the run.
        let s = resolve(&o, &env_of(&[])).unwrap();
        assert_eq!(s.run_id.as_deref(), Some("start-2026-12-02T21:01:30Z"));
    }
}
