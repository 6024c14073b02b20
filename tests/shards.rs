//! Load beyond one machine: `run --shard I/N` processes against one server on 127.0.0.1, and
//! `perfgate merge` of their results — the shares add up to one process's run exactly, users
//! and their data rows never run on two shards, the merge refuses what is not one run's shards,
//! and the merged result is judged like any other.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use common::{serve, shared, u64_at, ProfileBuilder, Work};
use serde_json::Value;

/// `perfgate run --shard i/n` of the work's profile to `shard-i.json`, against `url`.
fn run_shard(work: &Work, url: &str, i: u64, n: u64, extra: &[&str]) -> Output {
    let shard = format!("{i}/{n}");
    let out = format!("shard-{i}.json");
    let mut cmd = work.perfgate();
    cmd.args([
        "run",
        "-q",
        "-p",
        "perfgate.toml",
        "-o",
        &out,
        "--base-url",
        url,
    ])
    .args(["--shard", &shard, "--run-id", "test-run"])
    .args(extra);
    cmd.output().expect("perfgate runs")
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `perfgate merge` of shard-0.json … shard-(n-1).json (or `files`) into merged.json.
fn merge(work: &Work, files: &[String], extra: &[&str]) -> Output {
    let mut cmd = work.perfgate();
    cmd.arg("merge")
        .args(files)
        .args(["-o", "merged.json"])
        .args(extra);
    cmd.output().expect("perfgate merge runs")
}

fn shard_files(n: u64) -> Vec<String> {
    (0..n).map(|i| format!("shard-{i}.json")).collect()
}

fn read(work: &Work, name: &str) -> Value {
    common::read_result(&work.path(name)).unwrap_or_else(|| panic!("no {name}"))
}

/// Iterations started over the result's trials and seconds.
fn started(result: &Value) -> u64 {
    result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["load"].as_array().unwrap())
        .map(|w| u64_at(&w["started"], "started"))
        .sum()
}

fn requests(result: &Value) -> u64 {
    result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["endpoints"].as_array().unwrap())
        .map(|e| u64_at(&e["requests"], "requests"))
        .sum()
}

#[test]
fn open_model_shards_start_exactly_the_iterations_one_process_starts() {
    let _machine = shared();
    let server = serve(common::fast_router());
    // 150 iterations per second for 2 s: 300 due, on one machine or split.
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .open(150)
        .load("duration", "2s")
        .scenario("one", &["GET /paced"])
        .work();
    let whole = work.run(&["--base-url", &server.url]).ok();
    assert_eq!(server.log.count("/paced"), 300, "one process");
    assert_eq!(started(&whole), 300);
    for n in [1u64, 3, 4] {
        let before = server.log.count("/paced");
        for i in 0..n {
            ok(&run_shard(&work, &server.url, i, n, &[]));
            let shard = read(&work, &format!("shard-{i}.json"));
            assert_eq!(shard["meta"]["shard"]["index"], i);
            // Shard i starts exactly the iterations k ≡ i (mod n) of the 300.
            let mine = (0..300u64).filter(|k| k % n == i).count() as u64;
            assert_eq!(started(&shard), mine, "shard {i}/{n}");
        }
        let sent = server.log.count("/paced") - before;
        assert_eq!(sent, 300, "{n} shards sent what one process sends");
        let out = merge(&work, &shard_files(n), &[]);
        ok(&out);
        let merged = read(&work, "merged.json");
        assert_eq!(started(&merged), 300, "{n} shards merged");
        let shard_requests: u64 = (0..n)
            .map(|i| requests(&read(&work, &format!("shard-{i}.json"))))
            .sum();
        assert_eq!(requests(&merged), shard_requests);
        assert_eq!(merged["complete"], true);
        assert!(merged["meta"].get("shard").is_none());
        assert_eq!(merged["meta"]["shards"]["count"], n);
        assert_eq!(merged["meta"]["shards"]["run_id"], "test-run");
        // Second by second: each merged window is the sum of the shards' windows.
        let windows = |r: &Value| -> Vec<u64> {
            r["trials"][0]["endpoints"][0]["windows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| u64_at(&w["requests"], "requests"))
                .collect()
        };
        let mut summed = vec![0u64; 2];
        for i in 0..n {
            for (s, w) in summed
                .iter_mut()
                .zip(windows(&read(&work, &format!("shard-{i}.json"))))
            {
                *s += w;
            }
        }
        assert_eq!(windows(&merged), summed);
    }
}

#[test]
fn closed_model_shards_with_fixed_iterations_send_exactly_what_one_process_sends() {
    let _machine = shared();
    let server = serve(common::fast_router());
    // 10 users, 7 iterations each of a two-step flow: 140 requests, however the users split.
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .load("users", 10)
        .load("iterations_per_user", 7)
        .load("duration", "2s")
        .raw(
            r#"
[[scenario]]
name = "pair"
think_time = "10ms"

[[scenario.step]]
request = "GET /first?user={{user_id}}"
name = "GET /first"

[[scenario.step]]
request = "GET /second"
"#,
        )
        .work();
    let whole = work.run(&["--base-url", &server.url]).ok();
    assert_eq!(server.log.count("/first"), 70, "one process");
    assert_eq!(server.log.count("/second"), 70, "one process");
    assert_eq!(requests(&whole), 140);
    assert_eq!(whole["meta"]["load"]["iterations_per_user"], 7);
    for n in [1u64, 3, 4] {
        let before = server.log.len();
        for i in 0..n {
            ok(&run_shard(&work, &server.url, i, n, &[]));
            // Shard i runs the users u ≡ i (mod n), each exactly 7 times.
            let mine = (0..10u64).filter(|u| u % n == i).count() as u64;
            let shard = read(&work, &format!("shard-{i}.json"));
            assert_eq!(requests(&shard), mine * 14, "shard {i}/{n}");
        }
        let seen = &server.log.all()[before..];
        assert_eq!(seen.len(), 140, "{n} shards sent what one process sends");
        let mut per_user: BTreeMap<String, usize> = BTreeMap::new();
        for r in seen.iter().filter(|r| r.path == "/first") {
            let user = r.query.clone().unwrap_or_default();
            *per_user.entry(user).or_default() += 1;
        }
        assert_eq!(per_user.len(), 10, "{per_user:?}");
        assert!(per_user.values().all(|&c| c == 7), "{per_user:?}");
        ok(&merge(&work, &shard_files(n), &[]));
        assert_eq!(
            requests(&read(&work, "merged.json")),
            140,
            "{n} shards merged"
        );
    }
}

#[test]
fn an_iteration_count_is_a_closed_model_setting() {
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .open(10)
        .load("iterations_per_user", 3)
        .scenario("one", &["GET /"])
        .work();
    let out = work
        .perfgate()
        .args(["validate", "-p", "perfgate.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("iterations_per_user"), "{err}");
    assert!(err.contains("closed model"), "{err}");
}

#[test]
fn closed_model_users_and_their_accounts_never_run_on_two_shards() {
    let _machine = shared();
    let server = serve(Router::new().route("/who", get(|| async { "ok" })));
    let mut csv = String::from("username\n");
    for k in 0..12 {
        csv.push_str(&format!("user{k:02}\n"));
    }
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .load("users", 12)
        .raw(
            r#"
[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "login"
think_time = "50ms"

[[scenario.step]]
request = "GET /who"
headers = { "X-User" = "{{user_id}}", "X-Account" = "{{accounts.username}}" }
"#,
        )
        .work();
    work.write("accounts.csv", &csv);
    let n = 3u64;
    let mut owner: BTreeMap<String, u64> = BTreeMap::new();
    let mut users: BTreeSet<u64> = BTreeSet::new();
    for i in 0..n {
        let before = server.log.len();
        ok(&run_shard(&work, &server.url, i, n, &[]));
        for seen in &server.log.all()[before..] {
            let account = seen.header("x-account").unwrap().to_string();
            let user: u64 = seen.header("x-user").unwrap().parse().unwrap();
            assert_eq!(user % n, i, "user {user} ran on shard {i} of {n}");
            users.insert(user);
            if let Some(other) = owner.insert(account.clone(), i) {
                assert_eq!(other, i, "{account} logged in from shards {other} and {i}");
            }
        }
    }
    assert_eq!(users, (0..12).collect(), "every user ran, on one shard");
    assert_eq!(owner.len(), 12, "every account was used: {owner:?}");
    ok(&merge(&work, &shard_files(n), &[]));
    let merged = read(&work, "merged.json");
    // At the end of every second but the last (when all stop), the shards' active users add up
    // to the profile's 12.
    let load = merged["trials"][0]["load"].as_array().unwrap();
    for w in &load[..load.len() - 1] {
        assert_eq!(u64_at(&w["active_users"], "users"), 12, "{w}");
    }
}

#[test]
fn the_merge_refuses_what_is_not_one_runs_shards() {
    let _machine = shared();
    let server = serve(common::fast_router());
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .open(20)
        .scenario("one", &["GET /x"])
        .work();
    for i in 0..3 {
        ok(&run_shard(&work, &server.url, i, 3, &[]));
    }
    let text = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    // A missing shard: exit 3 naming it, unless --allow-partial (then incomplete).
    let two = vec!["shard-0.json".to_string(), "shard-2.json".to_string()];
    let out = merge(&work, &two, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("shard 1") && text(&out).contains("--allow-partial"));
    let out = merge(&work, &two, &["--allow-partial"]);
    ok(&out);
    let partial = read(&work, "merged.json");
    assert_eq!(partial["complete"], false);
    assert_eq!(partial["meta"]["shards"]["missing"][0], 1);
    let out = work
        .perfgate()
        .args(["baseline", "save", "main", "merged.json"])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "an incomplete merge is no baseline"
    );
    // A shard given twice.
    let mut twice = shard_files(3);
    twice.push("shard-1.json".into());
    let out = merge(&work, &twice, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("shard 1 is given twice"),
        "{}",
        text(&out)
    );
    // A shard of another run.
    let mut cmd = work.perfgate();
    cmd.args(["run", "-q", "-o", "other.json", "--base-url", &server.url])
        .args(["--shard", "1/3", "--run-id", "another-run"]);
    ok(&cmd.output().unwrap());
    let mixed = vec![
        "shard-0.json".into(),
        "other.json".into(),
        "shard-2.json".into(),
    ];
    let out = merge(&work, &mixed, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("different runs"), "{}", text(&out));
    // A result that is no shard.
    work.run(&["--base-url", &server.url]).ok();
    let out = merge(&work, &["result.json".into()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a shard"), "{}", text(&out));
}

#[test]
fn a_shard_names_its_mistakes_before_it_runs() {
    let _machine = shared();
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .target("start", "sleep 30")
        .scenario("one", &["GET /x"])
        .work();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = work.perfgate();
        cmd.args(["run", "-q"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--shard", "3/3", "--run-id", "r"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("0/3, 1/3, 2/3"), "{err}");
    let (code, err) = run(&["--shard", "1/3"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--run-id"), "{err}");
    // A Kubernetes Indexed Job's index, with perfgate told the count: the profile starts its
    // own service, which three shards cannot share.
    let (code, err) = run(
        &["--run-id", "r"],
        &[("JOB_COMPLETION_INDEX", "1"), ("PERFGATE_SHARDS", "3")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("shard 1/3") && err.contains("--base-url"),
        "{err}"
    );
    let (code, err) = run(&["--start-at", "noon"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn a_shard_that_begins_late_for_the_common_start_says_so() {
    let _machine = shared();
    let server = serve(common::fast_router());
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .load("users", 2)
        .scenario("one", &["GET /x"])
        .work();
    // A common start three seconds ago: the shard begins at once, late by at least that.
    let past =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() - Duration::from_secs(3))
            .to_string();
    let out = run_shard(&work, &server.url, 0, 2, &["--start-at", &past]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("began late for the common start (trial 1 by"),
        "{err}"
    );
    let late = read(&work, "shard-0.json")["trials"][0]["late_ms"]
        .as_f64()
        .unwrap();
    assert!(late >= 2000.0, "{late}");
    // On time: nothing said.
    let soon =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(4))
            .to_string();
    let out = run_shard(&work, &server.url, 1, 2, &["--start-at", &soon]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("began late"), "{err}");
}

#[test]
fn shards_with_a_common_start_begin_together_and_merge_into_a_passing_comparison() {
    let _machine = shared();
    // Latency well above the scheduling noise of five processes on two cores (which adds a
    // few hundred microseconds to the tail: 5% of a 5 ms request).
    let server = serve(Router::new().route(
        "/work",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            "done"
        }),
    ));
    // A trial period of 1 s measured + the 1 s request timeout + 2 s: 4 s a trial.
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .target("request_timeout", "1s")
        .open(100)
        .load("trials", 5)
        .scenario("one", &["GET /work"])
        .work();
    // The whole load from one process, as the baseline.
    let whole = work.run(&["--base-url", &server.url]).ok();
    assert_eq!(whole["trials"].as_array().unwrap().len(), 5);
    // Four shards at once, from a common start a few seconds ahead.
    let start =
        humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(4))
            .to_string();
    let children: Vec<_> = (0..4u64)
        .map(|i| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("perfgate"));
            cmd.current_dir(work.dir.path());
            for v in common::inherited_settings() {
                cmd.env_remove(v);
            }
            cmd.args(["run", "-q", "-o", &format!("shard-{i}.json")])
                .args(["--base-url", &server.url, "--start-at", &start])
                .args(["--shard", &format!("{i}/4")])
                // Four processes on this machine: one engine thread each, not one per core.
                .args(["--workers", "1"]);
            cmd.spawn().expect("perfgate starts")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
    let want = humantime::parse_rfc3339(&start)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for i in 0..4 {
        let s = read(&work, &format!("shard-{i}.json"));
        // The run id defaults to the common start; the first trial began at it, on time.
        assert_eq!(s["meta"]["shard"]["run_id"], format!("start-{start}"));
        let t0 = &s["trials"][0];
        assert_eq!(u64_at(&t0["start_unix_ms"], "start"), want, "shard {i}");
        assert_eq!(t0["late_ms"].as_f64(), Some(0.0), "shard {i}: {t0}");
    }
    ok(&merge(&work, &shard_files(4), &[]));
    let merged = read(&work, "merged.json");
    assert_eq!(started(&merged), started(&whole));
    let spread = merged["meta"]["shards"]["trial_spread_ms"]
        .as_array()
        .unwrap();
    assert!(spread.iter().all(|s| s.as_f64() == Some(0.0)), "{spread:?}");
    // The merged result is an ordinary result: compared with the one-process run, no change.
    let out = work
        .perfgate()
        .args([
            "compare",
            "-c",
            "merged.json",
            "--baseline-file",
            "result.json",
        ])
        .arg("--no-report-files")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PASS"), "{stdout}");
    // `check --merge`: merge and judge in one, with check's reports.
    let out = work
        .perfgate()
        .args([
            "check",
            "--baseline-file",
            "result.json",
            "-o",
            "checked.json",
        ])
        .arg("--merge")
        .args(shard_files(4))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path("results/report.json")).unwrap())
            .unwrap();
    // No check got worse: PASS, or INCONCLUSIVE where a tail of 1-second trials is too noisy
    // to decide; never WARN or FAIL.
    let verdict = report["verdict"].as_str().unwrap();
    assert!(matches!(verdict, "pass" | "inconclusive"), "{report:#}");
    for row in report["rows"].as_array().unwrap() {
        assert!(
            matches!(
                row["verdict"].as_str(),
                Some("pass" | "inconclusive" | "improved")
            ),
            "{row:#}"
        );
        if row["metric"] == "p50" || row["metric"] == "throughput" {
            assert_eq!(row["verdict"], "pass", "{row:#}");
        }
    }
    assert_eq!(read(&work, "checked.json")["meta"]["shards"]["count"], 4);
}
