//! The gate on results with known distributions: what it must fail, what it must let through,
//! and the exit codes of `perfgate compare` and `perfgate baseline`.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::fixtures::{slower, synth, Service, STEADY};
use perfgate::compare::rules::{Metric, Thresholds};
use perfgate::compare::{compare, compare_at, Comparison, Look, Verdict};
use perfgate::result::*;

fn run(base: &RunResult, cur: &RunResult) -> Comparison {
    compare(
        base,
        cur,
        &Thresholds::default(),
        "baseline main",
        "current",
    )
}

fn verdict_of(c: &Comparison, endpoint: &str, m: Metric) -> Verdict {
    c.rows
        .iter()
        .find(|r| r.endpoint == endpoint && r.metric == m)
        .map(|r| r.verdict)
        .unwrap()
}

#[test]
fn identical_services_pass() {
    for seed in 0..5 {
        let c = run(
            &synth(&[("GET /a", STEADY)], 5, seed),
            &synth(&[("GET /a", STEADY)], 5, 100 + seed),
        );
        assert!(
            !matches!(c.verdict, Verdict::Fail | Verdict::Warn),
            "seed {seed}: {:#?}",
            c.rows
                .iter()
                .filter(|r| r.verdict != Verdict::Pass)
                .collect::<Vec<_>>()
        );
        assert_eq!(c.method.kind, "trials");
        assert!(c.method.low_confidence.is_none());
    }
}

#[test]
fn thirty_percent_slower_fails() {
    let c = run(
        &synth(&[("GET /a", STEADY)], 5, 1),
        &synth(&[("GET /a", slower(STEADY, 1.3))], 5, 2),
    );
    assert_eq!(c.verdict, Verdict::Fail);
    let row = c.rows.iter().find(|r| r.metric == Metric::P50).unwrap();
    assert_eq!(row.verdict, Verdict::Fail, "{row:?}");
    let change = row.change.unwrap();
    assert!((change - 0.3).abs() < 0.05, "{change}");
    let [lo, hi] = row.interval.unwrap();
    assert!(
        lo > 0.2 && hi < 0.4 && lo < change && change < hi,
        "{lo} {hi}"
    );
    assert!(row.reason.contains("worse by"), "{}", row.reason);
}

#[test]
fn thirty_percent_slower_but_wildly_noisy_is_inconclusive() {
    let noisy = Service {
        trial_noise: 0.5,
        ..STEADY
    };
    let c = run(
        &synth(&[("GET /a", noisy)], 5, 3),
        &synth(&[("GET /a", slower(noisy, 1.3))], 5, 4),
    );
    let row = c.rows.iter().find(|r| r.metric == Metric::P50).unwrap();
    assert!(
        row.change.unwrap() > 0.1,
        "the point estimate is a large regression: {row:?}"
    );
    assert_eq!(row.verdict, Verdict::Inconclusive, "{row:?}");
    assert_ne!(c.verdict, Verdict::Fail);
    assert!(
        row.reason.contains("more trials would decide"),
        "{}",
        row.reason
    );
}

#[test]
fn a_worsening_no_trial_budget_could_resolve_passes_as_noise_and_a_precise_one_still_fails() {
    // `check` with adaptive trials: INCONCLUSIVE asks for trials, so it is said only where the
    // budget could decide. A wildly noisy baseline (trial spread 50%) bounds what any number of
    // current trials can see; the same regression on a steady service fails.
    let th = Thresholds::default();
    let look = |of| Look {
        budget: Some(12),
        ..Look::nth(&th, 1, of)
    };
    let noisy = Service {
        trial_noise: 0.5,
        ..STEADY
    };
    let c = compare_at(
        &synth(&[("GET /a", noisy)], 5, 3),
        &synth(&[("GET /a", slower(noisy, 1.3))], 5, 4),
        &th,
        "baseline main",
        "current",
        look(3),
    );
    let row = c.rows.iter().find(|r| r.metric == Metric::P50).unwrap();
    assert!(row.change.unwrap() > 0.1, "{row:?}");
    assert_eq!(row.verdict, Verdict::Pass, "{row:?}");
    assert!(
        row.reason.contains("within this check's noise") && row.reason.contains("12 trials"),
        "{}",
        row.reason
    );
    let c = compare_at(
        &synth(&[("GET /a", STEADY)], 5, 3),
        &synth(&[("GET /a", slower(STEADY, 1.3))], 5, 4),
        &th,
        "baseline main",
        "current",
        look(3),
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P50), Verdict::Fail);
}

#[test]
fn when_the_baseline_grows_with_the_current_side_more_of_the_budget_can_decide() {
    // `perfgate ab` adds a trial to each side per pair: a worsening that 30 current trials
    // against a fixed 5-trial baseline could not resolve (+22% on trials spread 20%: it passes
    // as noise, the baseline's own spread bounding what any number of current trials can see)
    // can be resolved by 30 trials a side, so it stays INCONCLUSIVE and more pairs run.
    let th = Thresholds::default();
    let look = |grows, budget| Look {
        budget: Some(budget),
        baseline_grows: grows,
        ..Look::nth(&th, 1, 3)
    };
    let noisy = Service {
        trial_noise: 0.2,
        ..STEADY
    };
    let (base, cur) = (
        synth(&[("GET /a", noisy)], 5, 3),
        synth(&[("GET /a", slower(noisy, 1.22))], 5, 4),
    );
    let row = |grows, budget| {
        let c = compare_at(&base, &cur, &th, "base", "head", look(grows, budget));
        c.rows
            .into_iter()
            .find(|r| r.metric == Metric::P50)
            .unwrap()
    };
    let fixed = row(false, 30);
    assert_eq!(fixed.verdict, Verdict::Pass, "{fixed:?}");
    assert!(
        fixed.reason.contains("within this check's noise") && fixed.reason.contains("30 trials"),
        "{}",
        fixed.reason
    );
    let grows = row(true, 30);
    assert_eq!(grows.verdict, Verdict::Inconclusive, "{grows:?}");
    assert!(
        grows.reason.contains("more trials would decide"),
        "{}",
        grows.reason
    );
    // With a budget both sides cannot resolve it in either, the reason counts trials a side.
    let small = row(true, 6);
    assert_eq!(small.verdict, Verdict::Pass, "{small:?}");
    assert!(
        small
            .reason
            .contains("within this check's noise: even 6 trials a side could only detect"),
        "{}",
        small.reason
    );
}

#[test]
fn thirty_percent_faster_is_improved() {
    let c = run(
        &synth(&[("GET /a", STEADY)], 5, 5),
        &synth(&[("GET /a", slower(STEADY, 0.7))], 5, 6),
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P50), Verdict::Improved);
    assert_eq!(c.verdict, Verdict::Improved);
}

#[test]
fn a_change_below_min_delta_passes() {
    // 0.1 ms → 0.13 ms: +30%, but 0.03 ms (0.07 ms at p99) is below the 0.1 ms that counts.
    let tiny = Service {
        median_ms: 0.1,
        ..STEADY
    };
    let c = run(
        &synth(&[("GET /a", tiny)], 5, 7),
        &synth(&[("GET /a", slower(tiny, 1.3))], 5, 8),
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P50), Verdict::Pass);
    assert_ne!(c.verdict, Verdict::Fail);
}

#[test]
fn a_regression_of_a_fast_endpoint_fails_with_the_default_floor() {
    // 2 ms → 2.4 ms: +20%, 0.4 ms. A 1 ms floor would let every endpoint under 10 ms through.
    let fast = Service {
        median_ms: 2.0,
        ..STEADY
    };
    let c = run(
        &synth(&[("GET /a", fast)], 5, 7),
        &synth(&[("GET /a", slower(fast, 1.2))], 5, 8),
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P50), Verdict::Fail);
}

#[test]
fn a_small_significant_change_warns() {
    // 6%, measured precisely: beyond warn (5%), short of the 7.5% midpoint where it would fail.
    let precise = Service {
        trial_noise: 0.002,
        ..STEADY
    };
    let c = run(
        &synth(&[("GET /a", precise)], 5, 9),
        &synth(&[("GET /a", slower(precise, 1.06))], 5, 10),
    );
    let row = c.rows.iter().find(|r| r.metric == Metric::P50).unwrap();
    assert_eq!(row.verdict, Verdict::Warn, "{row:?}");
}

#[test]
fn a_precisely_measured_change_fails_from_the_midpoint_between_warn_and_max() {
    // 9%: below max_regression, past the midpoint; the trials barely vary, so it fails.
    let precise = Service {
        trial_noise: 0.002,
        ..STEADY
    };
    let c = run(
        &synth(&[("GET /a", precise)], 5, 9),
        &synth(&[("GET /a", slower(precise, 1.09))], 5, 10),
    );
    let row = c.rows.iter().find(|r| r.metric == Metric::P50).unwrap();
    assert_eq!(row.verdict, Verdict::Fail, "{row:?}");
    assert!(row.reason.contains("fail threshold 7.5%"), "{}", row.reason);
    // And what the check could see is small: its detectable change is under 5%.
    assert!(row.detectable.unwrap() < 0.05, "{row:?}");
}

#[test]
fn with_one_trial_windows_are_compared_and_confidence_is_low() {
    let c = run(
        &synth(&[("GET /a", STEADY)], 1, 11),
        &synth(&[("GET /a", slower(STEADY, 1.3))], 1, 12),
    );
    assert_eq!(c.method.kind, "windows");
    let note = c.method.low_confidence.as_deref().unwrap();
    assert!(note.contains("load.trials = 5"), "{note}");
    assert_eq!(verdict_of(&c, "GET /a", Metric::P50), Verdict::Fail);
    let same = run(
        &synth(&[("GET /a", STEADY)], 1, 13),
        &synth(&[("GET /a", STEADY)], 1, 14),
    );
    assert_ne!(verdict_of(&same, "GET /a", Metric::P50), Verdict::Fail);
}

#[test]
fn more_errors_fail_on_the_rate_and_on_the_limit() {
    let erring = Service {
        error_rate: 0.05,
        ..STEADY
    };
    let mut th = Thresholds::default();
    let c = compare(
        &synth(&[("GET /a", STEADY)], 5, 15),
        &synth(&[("GET /a", erring)], 5, 16),
        &th,
        "b",
        "c",
    );
    let row = c
        .rows
        .iter()
        .find(|r| r.metric == Metric::ErrorRate)
        .unwrap();
    assert_eq!(row.verdict, Verdict::Fail, "{row:?}");
    assert!(
        (row.current.unwrap() - 5.0).abs() < 1.0,
        "shown in percent: {row:?}"
    );
    th = Thresholds::parse(
        "[[rule]]\nmetric = \"error_rate\"\nmax = \"2%\"\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let same = Service {
        error_rate: 0.03,
        ..STEADY
    };
    let c = compare(
        &synth(&[("GET /a", same)], 5, 17),
        &synth(&[("GET /a", same)], 5, 18),
        &th,
        "b",
        "c",
    );
    let row = c
        .rows
        .iter()
        .find(|r| r.metric == Metric::ErrorRate)
        .unwrap();
    assert_eq!(
        row.verdict,
        Verdict::Fail,
        "3% errors cross the 2% limit even unchanged: {row:?}"
    );
    assert!(row.reason.contains("above the limit"), "{}", row.reason);
}

#[test]
fn an_absolute_latency_limit_fails_without_a_regression() {
    let th = Thresholds::parse(
        "[[rule]]\nendpoint = \"GET /*\"\nmetric = \"p95\"\nmax = \"25ms\"\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let c = compare(
        &synth(&[("GET /a", STEADY)], 5, 19),
        &synth(&[("GET /a", STEADY)], 5, 20),
        &th,
        "b",
        "c",
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P95), Verdict::Fail);
    let th = Thresholds::parse(
        "[[rule]]\nendpoint = \"GET /*\"\nmetric = \"p95\"\nwarn_above = \"25ms\"\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let c = compare(
        &synth(&[("GET /a", STEADY)], 5, 19),
        &synth(&[("GET /a", STEADY)], 5, 20),
        &th,
        "b",
        "c",
    );
    assert_eq!(verdict_of(&c, "GET /a", Metric::P95), Verdict::Warn);
}

#[test]
fn new_and_missing_endpoints_are_named() {
    let c = run(
        &synth(&[("GET /a", STEADY), ("GET /old", STEADY)], 5, 21),
        &synth(&[("GET /a", STEADY), ("GET /new", STEADY)], 5, 22),
    );
    assert_eq!(verdict_of(&c, "GET /old", Metric::P50), Verdict::Missing);
    assert_eq!(verdict_of(&c, "GET /new", Metric::P50), Verdict::New);
    assert_eq!(c.verdict, Verdict::Missing);
}

#[test]
fn one_regressed_endpoint_among_many_still_fails_and_the_rest_pass() {
    let names: Vec<String> = (0..10).map(|i| format!("GET /e{i}")).collect();
    let base: Vec<(&str, Service)> = names.iter().map(|n| (n.as_str(), STEADY)).collect();
    let mut cur = base.clone();
    cur[3].1 = slower(STEADY, 1.3);
    let c = run(&synth(&base, 5, 23), &synth(&cur, 5, 24));
    assert_eq!(verdict_of(&c, "GET /e3", Metric::P50), Verdict::Fail);
    let failed: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| &r.endpoint)
        .collect();
    assert!(failed.iter().all(|e| *e == "GET /e3"), "{failed:?}");
    assert!(
        c.rows
            .iter()
            .all(|r| r.p_adjusted.is_none() || r.p_adjusted >= r.p_value),
        "Holm never lowers a p-value"
    );
}

#[test]
fn the_same_inputs_give_the_same_verdict() {
    let (b, cur) = (
        synth(&[("GET /a", STEADY)], 1, 25),
        synth(&[("GET /a", slower(STEADY, 1.05))], 1, 26),
    );
    assert_eq!(run(&b, &cur), run(&b, &cur), "the bootstrap is seeded");
}

// --- Reports: one snapshot per format --------------------------------------------------------

fn report_fixture() -> Comparison {
    let erring = Service {
        error_rate: 0.05,
        ..STEADY
    };
    let base = synth(
        &[
            ("GET /api/v1/shows/", STEADY),
            ("POST /checkout/", STEADY),
            ("GET /old", STEADY),
        ],
        5,
        30,
    );
    let cur = synth(
        &[
            ("GET /api/v1/shows/", slower(STEADY, 1.3)),
            ("POST /checkout/", erring),
            ("GET /new|piped", STEADY),
        ],
        5,
        31,
    );
    run(&base, &cur)
}

#[test]
fn report_formats_match_their_snapshots() {
    use perfgate::report::Format;
    let render = |c: &Comparison, f: Format, colour: bool| {
        perfgate::report::render(&perfgate::report::Report::of(c), f, colour).unwrap()
    };
    let c = report_fixture();
    insta::assert_snapshot!("report_table", render(&c, Format::Table, false));
    insta::assert_snapshot!("report_markdown", render(&c, Format::Md, false));
    insta::assert_snapshot!("report_junit", render(&c, Format::Junit, false));
    insta::assert_snapshot!("report_json", render(&c, Format::Json, false));
}

// --- The CLI: exit codes ---------------------------------------------------------------------

fn perfgate(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("perfgate").unwrap();
    cmd.current_dir(dir);
    for var in common::inherited_settings() {
        cmd.env_remove(var);
    }
    cmd
}

fn write(dir: &Path, name: &str, r: &RunResult) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(r).unwrap()).unwrap();
}

#[test]
fn compare_exits_with_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "base.json", &synth(&[("GET /a", STEADY)], 5, 40));
    write(d, "same.json", &synth(&[("GET /a", STEADY)], 5, 41));
    write(
        d,
        "slow.json",
        &synth(&[("GET /a", slower(STEADY, 1.3))], 5, 42),
    );
    perfgate(d)
        .args(["baseline", "save", "main", "base.json"])
        .assert()
        .success();
    assert!(d.join("baselines/main.json").exists());
    perfgate(d)
        .args(["compare", "--current", "same.json"])
        .assert()
        .code(0);
    let out = perfgate(d)
        .args(["compare", "--current", "slow.json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("perfgate: FAIL"));
    // Any result file can be the baseline; every format renders.
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "base.json",
            "--current",
            "slow.json",
            "--format",
            "junit",
            "-o",
            "j.xml",
        ])
        .assert()
        .code(1);
    assert!(std::fs::read_to_string(d.join("j.xml"))
        .unwrap()
        .contains("<failure"));
    perfgate(d)
        .args(["compare", "--current", "slow.json", "--format", "json"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("perfgate/compare/v1"));
}

#[test]
fn compare_refuses_what_it_cannot_compare() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cur.json", &synth(&[("GET /a", STEADY)], 5, 43));
    // No baseline: exit 3, and the message says how to make one.
    perfgate(d)
        .args(["compare", "--current", "cur.json"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("baseline save main"));
    // A different load: exit 3 with what differs, unless allowed.
    let mut other = synth(&[("GET /a", STEADY)], 5, 44);
    other.meta.load.users = Some(99);
    other.meta.profile.hash = "ffffffffffffffff".into();
    write(d, "other.json", &other);
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "other.json",
            "--current",
            "cur.json",
        ])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("users"));
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "other.json",
            "--current",
            "cur.json",
            "--allow-mismatch",
        ])
        .assert()
        .code(0);
    // A rule naming no endpoint: exit 2, with the file and line.
    std::fs::write(d.join("t.toml"), "[defaults]\nwarn = \"5%\"\n\n[[rule]]\nendpoint = \"GET /nope\"\nmetric = \"p95\"\nmax = \"1s\"\n").unwrap();
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "cur.json",
            "--current",
            "cur.json",
            "-t",
            "t.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("t.toml:4:"));
    // A thresholds file given but absent: exit 2. A newer result format: exit 2.
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "cur.json",
            "--current",
            "cur.json",
            "-t",
            "none.toml",
        ])
        .assert()
        .code(2);
    let text = std::fs::read_to_string(d.join("cur.json"))
        .unwrap()
        .replace("perfgate/result/v1", "perfgate/result/v7");
    std::fs::write(d.join("new.json"), text).unwrap();
    perfgate(d)
        .args([
            "compare",
            "--baseline-file",
            "cur.json",
            "--current",
            "new.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("newer perfgate"));
}

#[test]
fn an_incomplete_result_is_never_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut r = synth(&[("GET /a", STEADY)], 1, 45);
    r.complete = false;
    r.incomplete_reason = Some("interrupted by SIGINT".into());
    write(d, "partial.json", &r);
    perfgate(d)
        .args(["baseline", "save", "main", "partial.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("incomplete"));
    assert!(!d.join("baselines/main.json").exists());
    perfgate(d)
        .args(["baseline", "save", "../evil", "partial.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a baseline name"));
    perfgate(d)
        .args(["baseline", "show", "main"])
        .assert()
        .code(3);
}

#[test]
fn baselines_are_listed_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "r.json", &synth(&[("GET /a", STEADY)], 2, 46));
    perfgate(d)
        .args(["baseline", "save", "main", "r.json"])
        .assert()
        .success();
    perfgate(d)
        .args(["baseline", "save", "release-1.2", "r.json"])
        .assert()
        .success();
    perfgate(d)
        .args(["baseline", "list"])
        .assert()
        .success()
        .stdout(
            predicates::str::contains("main\t").and(predicates::str::contains("release-1.2\t")),
        );
    perfgate(d)
        .args(["baseline", "show", "main"])
        .assert()
        .success()
        .stdout(predicates::str::contains("GET /a"));
}

use predicates::prelude::PredicateBooleanExt;

/// Four endpoints whose every latency moves by `factor` in one run.
fn run_at(factor: f64, seed: u64) -> RunResult {
    let eps: Vec<(String, Service)> = ["GET /a", "GET /b", "GET /c", "GET /d"]
        .iter()
        .map(|e| (e.to_string(), slower(STEADY, factor)))
        .collect();
    let eps: Vec<(&str, Service)> = eps.iter().map(|(e, s)| (e.as_str(), *s)).collect();
    synth(&eps, 5, seed)
}

fn compare_json(d: &Path, baseline: &str, current: &str) -> (i32, serde_json::Value) {
    let out = perfgate(d)
        .args([
            "compare",
            "--baseline",
            baseline,
            "--current",
            current,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap(), json)
}

#[test]
fn a_baseline_of_several_runs_carries_their_noise_into_the_test() {
    // Runs of an unchanged service that differ as a whole by ±5% (the machine, not the
    // service), trials within a run by 2%: a run 6% above the baseline's middle is one of them.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, f) in [0.95, 1.0, 1.05].iter().enumerate() {
        write(d, &format!("run{i}.json"), &run_at(*f, 60 + i as u64));
    }
    write(d, "unchanged.json", &run_at(1.06, 70));
    write(d, "slower.json", &run_at(1.5, 71));
    perfgate(d)
        .args(["baseline", "save", "low", "run0.json"])
        .assert()
        .success();
    perfgate(d)
        .args([
            "baseline",
            "save",
            "main",
            "run0.json",
            "run1.json",
            "run2.json",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("3 runs"));
    let stored: RunResult =
        serde_json::from_slice(&std::fs::read(d.join("baselines/main.json")).unwrap()).unwrap();
    assert_eq!(stored.trials.len(), 15);
    let runs: Vec<Option<u32>> = stored.trials.iter().map(|t| t.run).collect();
    assert_eq!(runs[0], Some(0));
    assert_eq!(runs[7], Some(1));
    assert_eq!(runs[14], Some(2));
    assert!(stored
        .trials
        .iter()
        .enumerate()
        .all(|(i, t)| t.index == i as u32));

    // Against one run, the trial-level test sees only the trials' 2% and fails the other run.
    let (code, one) = compare_json(d, "low", "unchanged.json");
    assert_eq!(code, 1, "{one}");
    assert!(one["method"].get("run_noise").is_none());
    // Against three, the noise between runs is measured and is part of every latency check.
    let (code, three) = compare_json(d, "main", "unchanged.json");
    assert_eq!(code, 0, "{three}");
    let noise = &three["method"]["run_noise"];
    assert_eq!(noise["runs"], 3);
    assert_eq!(noise["checks"], 12);
    assert!(noise["inflation"].as_f64().unwrap() > 5.0, "{noise}");
    // The baseline's value is the middle of its runs, not one run's.
    let p50 = three["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["endpoint"] == "GET /a" && r["metric"] == "p50")
        .unwrap();
    let base_p50 = p50["baseline"].as_f64().unwrap();
    assert!((base_p50 / 20.0 - 1.0).abs() < 0.03, "{p50}");
    // A real regression still fails.
    let (code, slow) = compare_json(d, "main", "slower.json");
    assert_eq!(code, 1, "{slow}");
}

#[test]
fn a_baseline_is_made_of_runs_of_one_profile() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.json", &run_at(1.0, 80));
    let mut other = run_at(1.0, 81);
    other.meta.profile.hash = "another".into();
    write(d, "b.json", &other);
    perfgate(d)
        .args(["baseline", "save", "main", "a.json", "b.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "b.json: another profile than a.json",
        ));
    assert!(!d.join("baselines/main.json").exists());
}
