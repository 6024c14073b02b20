//! A run judged by its phases and flows, against real local servers whose behaviour is known:
//! a server whose latency grows with the requests in flight (so a spike shows in its stage and
//! the recovery after it), a checkout flow whose middle step fails one time in five, and a server
//! that turns to errors halfway through (so an `abort_on_fail` rule stops the run). Each run is
//! judged with `compare --no-baseline`, the way a team gates a spike or soak test without one.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::*;
use serde_json::Value;

/// A server whose every answer takes `base_ms + per_ms × requests in flight` (its own included),
/// as a service with a saturating pool does: more users, slower answers.
fn pool_server(base_ms: f64, per_ms: f64) -> TestServer {
    let in_flight = Arc::new(AtomicUsize::new(0));
    serve(Router::new().fallback(move || {
        let in_flight = in_flight.clone();
        async move {
            let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            let wait = base_ms + per_ms * n as f64;
            tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            "ok"
        }
    }))
}

/// `perfgate compare --no-baseline` on the work directory's result with `rules` as the
/// thresholds; the exit code and the perfgate/compare/v1 report.
fn judge(work: &Work, rules: &str) -> (Option<i32>, Value) {
    work.write("rules.toml", rules);
    let out = work
        .perfgate()
        .args(["compare", "--no-baseline", "-c", RESULT, "-t", "rules.toml"])
        .args(["-f", "json", "-o", "report.json"])
        .output()
        .expect("perfgate compare runs");
    let report = read_result(&work.path("report.json")).unwrap_or_else(|| {
        panic!(
            "no report; exit {:?}, stderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// The rows of a report with this metric (and stage, when given).
fn rows<'a>(report: &'a Value, metric: &str, stage: Option<&str>) -> Vec<&'a Value> {
    report["rows"]
        .as_array()
        .expect("the report has rows")
        .iter()
        .filter(|r| r["metric"] == metric && stage.is_none_or(|s| r["stage"] == s))
        .collect()
}

fn stage<'a>(trial: &'a Value, name: &str) -> &'a Value {
    let stages = trial["stages"].as_array().expect("the trial has stages");
    stages
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| {
            let names: Vec<&Value> = stages.iter().map(|s| &s["name"]).collect();
            panic!("no stage {name:?}; the trial has {names:?}")
        })
}

fn stage_p95(trial: &Value, name: &str) -> f64 {
    let s = stage(trial, name);
    s["endpoints"][0]["latency_ms"]["p95"]
        .as_f64()
        .unwrap_or_else(|| panic!("stage {name} has no p95: {s:#}"))
}

/// 10 users, a one-second ramp to 60, two seconds there, a ramp back and three calm seconds.
fn spike_profile(url: &str) -> ProfileBuilder {
    ProfileBuilder::new(url)
        .name("spike")
        .load("warmup", "1s")
        .stages(&[
            ("warm", 1, 10.0),
            ("base", 2, 10.0),
            ("up", 1, 60.0),
            ("peak", 2, 60.0),
            ("down", 1, 10.0),
            ("after", 3, 10.0),
        ])
        .scenario("browse", &["GET /item"])
}

#[test]
fn a_spike_shows_in_its_stage_and_the_recovery_after_it_is_judged() {
    let _machine = exclusive();
    // 2 ms + 0.5 ms per request in flight: about 7 ms at 10 users, 32 ms at 60.
    let server = pool_server(2.0, 0.5);
    let work = spike_profile(&server.url).work();
    let result = work.run_ok();
    let t = trial(&result);

    let names: Vec<&str> = t["stages"]
        .as_array()
        .expect("stages in the result")
        .iter()
        .map(|s| s["name"].as_str().expect("a stage name"))
        .collect();
    assert_eq!(
        names,
        ["base", "up", "peak", "down", "after"],
        "the warmup's stage is not measured"
    );

    // Every measured second lies in one stage: the stages add up to the trial.
    let by_stage: u64 = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| u64_at(&s["endpoints"][0]["requests"], "stage requests"))
        .sum();
    assert_eq!(by_stage, requests(&result, "GET /item"), "{t:#}");
    let windows: usize = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["windows"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(windows, 9);
    assert_eq!(
        t["load"].as_array().map(Vec::len),
        Some(9),
        "one load window per second"
    );

    // The load asked for and reached, second by second.
    let load = t["load"].as_array().unwrap();
    let peak = stage(t, "peak");
    let first = peak["first_window"].as_u64().unwrap() as usize;
    for w in &load[first..first + 2] {
        assert_eq!(w["asked"], 60.0, "{w}");
        assert_eq!(w["active_users"], 60, "{w}");
    }
    assert_eq!(load[0]["active_users"], 10, "{}", load[0]);

    let (base, top, after) = (
        stage_p95(t, "base"),
        stage_p95(t, "peak"),
        stage_p95(t, "after"),
    );
    eprintln!("p95 base {base:.1} ms, peak {top:.1} ms, after {after:.1} ms");
    assert!(top > 2.0 * base, "peak p95 {top} ms vs base {base} ms");
    assert!(after * 2.0 < top, "after p95 {after} ms vs peak {top} ms");

    // Judged without a baseline: the peak is slower than the base, beyond 50%; the service is
    // back under 20 ms within 2 s of the load coming down (in the stages after the 1-second
    // ramp), and never under 1 ms, less than its own 2 ms of work.
    let rules = r#"
[[rule]]
stage = "peak"
vs_stage = "base"
metric = "p95"
max_regression = "50%"

[[rule]]
stage = "down"
metric = "recovery_time"
within = "20ms"
hold = 2
max = "2s"

[[rule]]
stage = "peak"
metric = "recovery_time"
within = "1ms"
hold = 1
max = "1s"
"#;
    let (code, report) = judge(&work, rules);
    let degradation = rows(&report, "p95", Some("peak"));
    assert_eq!(degradation.len(), 1, "{report:#}");
    assert_eq!(degradation[0]["vs_stage"], "base");
    assert_eq!(degradation[0]["verdict"], "fail", "{:#}", degradation[0]);
    let recovered = rows(&report, "recovery_time", Some("down"));
    assert_eq!(recovered[0]["verdict"], "pass", "{:#}", recovered[0]);
    let never = rows(&report, "recovery_time", Some("peak"));
    assert_eq!(never[0]["verdict"], "fail", "{:#}", never[0]);
    assert!(
        never[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("never recovered")),
        "{:#}",
        never[0]
    );
    assert_eq!(report["verdict"], "fail");
    assert_eq!(code, Some(1));
}

#[test]
fn a_degradation_rule_passes_a_small_slowdown_under_a_wide_margin_and_fails_it_under_a_narrow_one()
{
    let _machine = exclusive();
    // 5 ms + 0.5 ms per request in flight: 10 ms at 10 users, 12 ms at 14 (+20%).
    let server = pool_server(5.0, 0.5);
    let work = ProfileBuilder::new(&server.url)
        .name("degradation")
        .load("warmup", "1s")
        .load("trials", 3)
        .stages(&[
            ("warm", 1, 10.0),
            ("normal", 2, 10.0),
            ("ramp", 1, 14.0),
            ("busy", 2, 14.0),
        ])
        .scenario("browse", &["GET /item"])
        .work();
    let result = work.run_ok();
    assert_eq!(result["trials"].as_array().map(Vec::len), Some(3));

    let rule = |margin: &str| {
        format!(
            "[[rule]]\nstage = \"busy\"\nvs_stage = \"normal\"\nmetric = \"p50\"\nmax_regression = \"{margin}\"\n"
        )
    };
    let (code, wide) = judge(&work, &rule("50%"));
    let row = rows(&wide, "p50", Some("busy"));
    assert_eq!(row.len(), 1, "{wide:#}");
    let change = row[0]["change"].as_f64().expect("a change");
    eprintln!("busy vs normal p50: {:+.1}%", change * 100.0);
    assert!(
        (0.08..0.40).contains(&change),
        "the server slows 20% from 10 to 14 users; measured {change}"
    );
    assert_eq!(row[0]["verdict"], "pass", "{:#}", row[0]);
    assert_eq!(code, Some(0), "{wide:#}");

    let (code, narrow) = judge(&work, &rule("5%"));
    let row = rows(&narrow, "p50", Some("busy"));
    assert_eq!(row[0]["verdict"], "fail", "{:#}", row[0]);
    assert_eq!(code, Some(1));
}

#[test]
fn a_flow_whose_middle_step_fails_one_time_in_five_completes_four_in_five() {
    let _machine = shared();
    let cart = Arc::new(AtomicU64::new(0));
    let server = serve(
        Router::new()
            .route("/login", get(|| async { "ok" }))
            .route(
                "/cart",
                get(move || {
                    let cart = cart.clone();
                    async move {
                        if cart.fetch_add(1, Ordering::SeqCst) % 5 == 4 {
                            (StatusCode::INTERNAL_SERVER_ERROR, "no cart")
                        } else {
                            (StatusCode::OK, "ok")
                        }
                    }
                }),
            )
            .route("/pay", get(|| async { "ok" })),
    );
    let work = ProfileBuilder::new(&server.url)
        .name("checkout")
        .load("users", 4)
        .load("duration", "2s")
        .scenario("checkout", &["GET /login", "GET /cart", "GET /pay"])
        .work();
    let result = work.run_ok();
    let flows = trial(&result)["flows"]
        .as_array()
        .expect("flows in the result");
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(f["scenario"], "checkout");
    let (completed, failed) = (
        u64_at(&f["completed"], "completed"),
        u64_at(&f["failed"], "failed"),
    );
    assert!(completed + failed >= 100, "{f:#}");
    let rate = f["completion_rate"].as_f64().unwrap();
    assert!((0.77..=0.83).contains(&rate), "completion {rate}: {f:#}");
    assert_eq!(
        f["failed_at"]["GET /cart"], failed,
        "every failure is at the cart: {f:#}"
    );
    // The iteration stops at its failed step: the payment is only asked for after a cart.
    let pays = requests(&result, "GET /pay");
    assert!(
        (completed..=completed + 4).contains(&pays),
        "{pays} payments for {completed} completed iterations of 4 users"
    );

    let (code, report) = judge(
        &work,
        "[[rule]]\nscenario = \"checkout\"\nmetric = \"completion_rate\"\nmin = \"95%\"\n",
    );
    let row = rows(&report, "completion_rate", None);
    assert_eq!(row.len(), 1, "{report:#}");
    assert_eq!(row[0]["scenario"], "checkout");
    assert_eq!(row[0]["verdict"], "fail", "{:#}", row[0]);
    assert_eq!(code, Some(1));
    let flows = report["flows"].as_array().expect("the report lists flows");
    assert_eq!(flows[0]["scenario"], "checkout");

    let (code, report) = judge(
        &work,
        "[[rule]]\nscenario = \"checkout\"\nmetric = \"completion_rate\"\nmin = \"70%\"\n",
    );
    assert_eq!(rows(&report, "completion_rate", None)[0]["verdict"], "pass");
    assert_eq!(code, Some(0), "{report:#}");
}

#[test]
fn an_abort_rule_stops_the_run_when_the_service_turns_to_errors() {
    let _machine = shared();
    // Healthy for the first second after its first request, then every answer is a 500.
    let since: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let server = serve(Router::new().fallback(move || {
        let since = since.clone();
        async move {
            let t0 = *since.get_or_init(Instant::now);
            if t0.elapsed() < Duration::from_secs(1) {
                (StatusCode::OK, "ok")
            } else {
                (StatusCode::INTERNAL_SERVER_ERROR, "down")
            }
        }
    }));
    let work = ProfileBuilder::new(&server.url)
        .name("abort")
        .load("users", 2)
        .load("duration", "30s")
        .scenario("browse", &["GET /item"])
        .work();
    work.write(
        "rules.toml",
        "[[rule]]\nmetric = \"error_rate\"\nmax = \"10%\"\nabort_on_fail = true\nabort_grace = \"1s\"\n",
    );
    let started = Instant::now();
    let run = work.run(&["-t", "rules.toml"]);
    let took = started.elapsed();
    assert_eq!(run.code, Some(1), "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("abort"),
        "the reason is given: {}",
        run.stderr
    );
    // Stopped by the rule (within its grace and a second's check), not by the 30 s duration.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let result = run.result.expect("the result of what ran is written");
    assert!(
        result["aborted"]
            .as_str()
            .is_some_and(|a| a.contains("error_rate")),
        "{:#}",
        result["aborted"]
    );
    let t = trial(&result);
    assert_eq!(
        t["complete"], false,
        "an aborted trial is marked incomplete"
    );
    assert!(t["measured_s"].as_f64().unwrap() < 20.0);
    assert!(total_errors(&result) > 0);
}
