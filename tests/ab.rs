//! `perfgate ab`: two builds of the demo service (started by perfgate, a fresh process per
//! trial) measured in interleaved pairs on this machine and compared; a slower head fails the
//! gate, the trials alternate base·head, head·base, and a build that cannot start is named.

mod common;

use common::*;
use serde_json::Value;

/// The demo service's binary, built beside perfgate by `cargo test --workspace`.
fn demo_binary() -> std::path::PathBuf {
    let demo = assert_cmd::cargo::cargo_bin("perfgate").with_file_name("perfgate-demo");
    assert!(
        demo.is_file(),
        "{} is built by cargo test --workspace",
        demo.display()
    );
    demo
}

/// A small closed-model profile against the demo's catalogue, 3 trials of 2 s per build.
fn profile(port: u16) -> String {
    format!(
        r#"
name = "ab"

[target]
base_url = "http://127.0.0.1:{port}"
ready = "/health"
request_timeout = "5s"

[load]
model = "closed"
users = 10
warmup = "1s"
duration = "2s"
trials = 3
max_trials = 3
seed = 7

[[scenario]]
name = "browse"
think_time = "5ms..15ms"

[[scenario.step]]
request = "GET /api/v1/shows/?page={{{{random_int(1,10)}}}}"
name = "GET /api/v1/shows/"
expect = {{ status = [200] }}
"#
    )
}

fn started_at(result: &Value) -> Vec<String> {
    result["trials"]
        .as_array()
        .expect("trials")
        .iter()
        .map(|t| t["started_at"].as_str().expect("started_at").to_string())
        .collect()
}

/// The commit CI says the checkout is at (GITHUB_SHA).
const HEAD_SHA: &str = "0123abcdef0123abcdef0123abcdef0123abcdef";

#[test]
fn a_slower_head_fails_against_its_base_measured_in_alternating_pairs() {
    let _machine = exclusive();
    let port = free_port();
    let work = Work::with_profile(&profile(port));
    let demo = demo_binary();
    let base = format!("{} --addr 127.0.0.1:{port}", demo.display());
    let head = format!("env PERFGATE_DEMO_SLOWDOWN=2 {base}");
    let out = work
        .perfgate()
        .args([
            "ab", "--quiet", "-p", PROFILE, "--base", &base, "--head", &head,
        ])
        .env("GITHUB_SHA", HEAD_SHA)
        .output()
        .expect("run perfgate ab");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("FAIL"), "{stdout}");

    let base = work.result_at("results/base.json");
    let head = work.result_at("results/current.json");
    for r in [&base, &head] {
        assert_eq!(r["complete"], true);
        let idx: Vec<u64> = r["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["index"].as_u64().unwrap())
            .collect();
        assert_eq!(
            idx,
            [0, 1, 2],
            "each build's trials are numbered by their pair"
        );
    }
    // base·head, head·base, base·head: each trial starts after the one before it ended.
    let (b, h) = (started_at(&base), started_at(&head));
    let order = [&b[0], &h[0], &h[1], &b[1], &b[2], &h[2]];
    for w in order.windows(2) {
        assert!(w[0] < w[1], "trials run in alternating pairs: {b:?} {h:?}");
    }
    // A fresh process per trial: the demo started six times.
    assert_eq!(stderr.matches("starting the target").count(), 6, "{stderr}");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path("results/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["verdict"], "fail", "{report}");
    assert_eq!(report["baseline"]["label"], "base", "{report}");
    assert_eq!(report["current"]["label"], "head", "{report}");
    // The checkout's commit is the head's; the base's build is not known to perfgate.
    assert_eq!(head["meta"]["git"]["sha"], HEAD_SHA, "{head}");
    assert!(base["meta"]["git"].is_null(), "{}", base["meta"]);
    assert!(
        stdout.contains("base, 3 trials vs head @ 0123abcd, 3 trials"),
        "{stdout}"
    );
    // Both sides ran every planned pair: nothing to warn about (the machine is one).
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
}

#[test]
fn a_build_that_cannot_start_is_named_and_what_ran_is_kept() {
    let _machine = shared();
    let port = free_port();
    let work = Work::with_profile(&profile(port));
    let base = format!("{} --addr 127.0.0.1:{port}", demo_binary().display());
    let out = work
        .perfgate()
        .args([
            "ab", "--quiet", "-p", PROFILE, "--base", &base, "--head", "exit 7",
        ])
        .output()
        .expect("run perfgate ab");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the head build failed in pair 1"),
        "{stderr}"
    );
    // The base's trial of that pair was measured: written, marked incomplete.
    let base = work.result_at("results/base.json");
    assert_eq!(base["complete"], false);
    assert_eq!(base["trials"].as_array().unwrap().len(), 1);
}
