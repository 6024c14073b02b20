//! `perfgate capacity` against servers whose capacity is known in theory: *c* workers that each
//! take exactly *s* ms per request (a worker's next request starts where its last one ended, so
//! timer lateness never loses capacity). Sustainable rate: c / s.
//!
//! The tolerance, derived: a level at or below c/s never queues (p95 ≈ s, within the SLO), so it
//! holds. Above it, with arrivals at λ and service at μ = c/s, the queue's wait grows as
//! (λ/μ − 1)·t from the level's start; a second breaches the SLO once that exceeds slo − s, and
//! a level breaks when most seconds of its hold do — by the middle second of the hold, at
//! t = warmup + hold/2. So every level above μ·(1 + ε), ε = (slo − s) / (warmup + hold/2),
//! breaks, and the search's answer H (the highest level that held,
//! with the lowest broken level at most (1 + resolution)·H above it, and above μ) lies in
//! [μ / (1 + resolution), μ·(1 + ε)]. With s = 20 ms, slo = 50 ms, warmup 1 s and hold 4 s:
//! ε = 0.03 s / 3 s = 1%, so H ∈ [181.8, 202] iterations/s for μ = 200/s at a 10% resolution.
//!
//! In the closed model without think time, a user's cycle is s plus the client's round trip δ,
//! so throughput is min(U / (s + δ), c / s): it grows with users up to c·(s + δ)/s (at least c)
//! and not beyond, where the users added bring no throughput. The capacity found must reach
//! the c/s plateau (within the resolution of one user), and the level that broke must add
//! nothing to it.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use common::*;
use serde_json::Value;

/// A server of `c` workers, each taking exactly `s_ms` per request, first come first served.
fn workers_server(c: usize, s_ms: u64) -> TestServer {
    let free: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(vec![Instant::now(); c]));
    let s = Duration::from_millis(s_ms);
    serve(Router::new().fallback(move || {
        let free = free.clone();
        async move {
            let done = {
                let mut slots = free.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let (i, _) = slots
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, t)| **t)
                    .expect("at least one worker");
                let done = slots[i].max(now) + s;
                slots[i] = done;
                done
            };
            tokio::time::sleep_until(done.into()).await;
            "ok"
        }
    }))
}

fn capacity(work: &Work, extra: &[&str]) -> (Option<i32>, String, Value) {
    let mut cmd = work.perfgate();
    cmd.args(["capacity", "--quiet", "-p", PROFILE, "-o", "capacity.json"])
        .args(extra)
        .timeout(Duration::from_secs(180));
    let out = cmd.output().expect("perfgate capacity runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let result = read_result(&work.path("capacity.json")).unwrap_or_else(|| {
        panic!(
            "no result; exit {:?}\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), stdout, result)
}

fn found(result: &Value) -> f64 {
    result["capacity"]["capacity"]
        .as_f64()
        .unwrap_or_else(|| panic!("a capacity was found: {:#}", result["capacity"]))
}

#[test]
fn the_open_model_capacity_of_c_workers_is_c_over_s() {
    let _machine = exclusive();
    let server = workers_server(4, 20);
    let work = ProfileBuilder::new(&server.url)
        .name("workers")
        .open(50)
        .load("max_in_flight", 5000)
        .scenario("one", &["GET /work"])
        .raw("[capacity]\np95 = \"50ms\"\nhold = \"4s\"\nwarmup = \"1s\"\nbudget = \"80s\"\nresolution = \"10%\"\n")
        .work();
    let (code, stdout, result) = capacity(&work, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    let c = &result["capacity"];
    let h = found(&result);
    let (mu, r, eps) = (200.0, 0.1, 0.01);
    assert!(
        h >= mu / (1.0 + r) && h <= mu * (1.0 + eps),
        "capacity {h}/s outside [{:.1}, {:.1}] (theory {mu}/s):\n{stdout}",
        mu / (1.0 + r),
        mu * (1.0 + eps)
    );
    let broke = c["broke_at"].as_f64().expect("a level broke");
    assert!(broke > h && broke - h <= r * h + 1e-9, "{c:#}");
    assert_eq!(c["resolved"], true, "{c:#}");
    assert!(
        c["broke_because"]
            .as_str()
            .unwrap_or("")
            .contains("p95 > 50"),
        "{c:#}"
    );
    // Every level is in the curve with its figures; the held ones kept up with the asked rate.
    let levels = c["levels"].as_array().expect("levels");
    assert!(levels.len() >= 5, "{c:#}");
    for l in levels.iter().filter(|l| l["held"] == true) {
        let asked = l["level"].as_f64().unwrap();
        let got = l["iterations_per_s"].as_f64().unwrap();
        assert!(got >= 0.95 * asked, "{l:#}");
        assert!(l["latency_ms"]["p95"].as_f64().unwrap() < 50.0, "{l:#}");
    }
    assert!(stdout.contains("capacity: "), "{stdout}");
    assert!(stdout.contains("throughput by iterations/s"), "{stdout}");

    // Gating on it: the same capacity passes; a baseline twice as high fails.
    let _ = std::fs::create_dir_all(work.path("baselines"));
    std::fs::copy(work.path("capacity.json"), work.path("baselines/cap.json")).unwrap();
    let gate = |baseline: &str| {
        work.write(
            "rules.toml",
            "[[rule]]\nmetric = \"capacity\"\nmax_regression = \"10%\"\n",
        );
        let out = work
            .perfgate()
            .args([
                "compare",
                "-b",
                baseline,
                "-c",
                "capacity.json",
                "-t",
                "rules.toml",
            ])
            .args(["-f", "json", "-o", "report.json"])
            .output()
            .expect("perfgate compare runs");
        let report = read_result(&work.path("report.json")).expect("a report");
        (out.status.code(), report)
    };
    let (code, report) = gate("cap");
    assert_eq!(code, Some(0), "{report:#}");
    let mut doubled = result.clone();
    for k in ["capacity", "broke_at"] {
        let v = doubled["capacity"][k].as_f64().unwrap();
        doubled["capacity"][k] = Value::from(v * 2.0);
    }
    work.write("baselines/double.json", &doubled.to_string());
    let (code, report) = gate("double");
    assert_eq!(code, Some(1), "{report:#}");
    let row = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "capacity")
        .expect("a capacity row");
    assert_eq!(row["verdict"], "fail", "{row:#}");
}

#[test]
fn the_closed_model_capacity_is_where_throughput_stops_rising() {
    let _machine = exclusive();
    let server = workers_server(8, 20);
    let work = ProfileBuilder::new(&server.url)
        .name("workers-closed")
        .load("users", 2)
        .scenario("one", &["GET /work"])
        .raw("[capacity]\np95 = \"500ms\"\nhold = \"4s\"\nwarmup = \"1s\"\nbudget = \"60s\"\n")
        .work();
    let (code, stdout, result) = capacity(&work, &["--slo", "step=x2"]);
    assert_eq!(code, Some(0), "{stdout}");
    let h = found(&result);
    let c = &result["capacity"];
    let level = |u: f64| {
        c["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == u)
            .unwrap_or_else(|| panic!("level {u} in {c:#}"))
            .clone()
    };
    let rps = |l: &Value| l["throughput_rps"].as_f64().unwrap();
    let plateau = 8.0 / 0.020;
    let at = level(h);
    assert!(
        h >= 8.0,
        "fewer users than workers cannot use them all:\n{stdout}"
    );
    // One user fewer than the knee is at most 1/h short of the plateau.
    assert!(
        rps(&at) >= plateau * (1.0 - 1.0 / h) * 0.97,
        "{at:#}\n{stdout}"
    );
    let broke = c["broke_at"].as_f64().expect("a level broke");
    assert_eq!(broke, h + 1.0, "bisected to one user: {c:#}");
    assert!(rps(&level(broke)) <= plateau * 1.02, "{stdout}");
    assert!(
        c["broke_because"]
            .as_str()
            .unwrap_or("")
            .contains("throughput flat"),
        "{c:#}"
    );
}

#[test]
fn a_bad_slo_setting_is_refused_with_the_key() {
    let _machine = shared();
    let work = ProfileBuilder::new("http://127.0.0.1:9")
        .scenario("one", &["GET /"])
        .work();
    let refused = |setting: &str| {
        let out = work
            .perfgate()
            .args(["capacity", "-p", PROFILE, "--slo", setting])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{setting}: {err}");
        err
    };
    let err = refused("p95=fast");
    assert!(err.contains("p95") && err.contains("200ms"), "{err}");
    let err = refused("p96=1ms");
    assert!(err.contains("not a [capacity] setting"), "{err}");
}
