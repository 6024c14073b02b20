//! The load models against real local servers: scenario weights, think time, the open model's
//! arrival rate, dropped iterations at `max_in_flight`, and latency measured from the scheduled
//! start.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use common::*;

#[test]
fn scenario_weights_split_iterations_70_20_10() {
    let _machine = exclusive();
    let server = serve(fast_router());
    let work = ProfileBuilder::new(&server.url)
        .name("weights")
        .load("users", 20)
        .load("duration", "2s")
        .raw(
            r#"
[[scenario]]
name = "seventy"
weight = 70
[[scenario.step]]
request = "GET /seventy"

[[scenario]]
name = "twenty"
weight = 20
[[scenario.step]]
request = "GET /twenty"

[[scenario]]
name = "ten"
weight = 10
[[scenario.step]]
request = "GET /ten"
"#,
        )
        .work();
    let result = work.run_ok();

    let counts = [
        requests(&result, "GET /seventy"),
        requests(&result, "GET /twenty"),
        requests(&result, "GET /ten"),
    ];
    let total: u64 = counts.iter().sum();
    eprintln!("iterations per scenario (70/20/10): {counts:?} of {total}");
    assert_eq!(total_errors(&result), 0, "{result:#}");
    assert!(
        total >= 5_000,
        "only {total} iterations in 2 s against a local server: too few to judge the weights"
    );
    assert_eq!(
        u64_at(&trial(&result)["iterations"], "iterations"),
        total,
        "one request per iteration"
    );
    for (count, (path, weight)) in
        counts
            .iter()
            .zip([("/seventy", 70.0), ("/twenty", 20.0), ("/ten", 10.0)])
    {
        let share = *count as f64 / total as f64 * 100.0;
        assert!(
            (share - weight).abs() <= 2.0,
            "{path}: {share:.2}% of {total} iterations, weight {weight}% (counts {counts:?})"
        );
    }
}

/// A closed-model profile of 20 users on one endpoint, without warmup.
fn closed_counting_profile(url: &str) -> ProfileBuilder {
    ProfileBuilder::new(url)
        .load("users", 20)
        .scenario("count", &["GET /count"])
}

#[test]
fn closed_model_records_every_request_the_server_answered() {
    let _machine = shared();
    let server = serve(fast_router());
    let result = closed_counting_profile(&server.url)
        .load("ramp_up", "100ms")
        .work()
        .run_ok();
    let n = requests(&result, "GET /count");
    assert!(n > 100, "{n} requests");
    assert_eq!(total_errors(&result), 0, "{result:#}");
    assert_eq!(
        server.log.count("/count") as u64,
        n,
        "with no warmup, every request the server answered is in the result, and no other"
    );
}

/// The share of the requests the server saw before the last of the 20 users sent its first.
fn share_before_last_user_started(server: &TestServer) -> f64 {
    let seen = server.log.all();
    let mut first: std::collections::BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in seen.iter().enumerate() {
        let user = s.header("x-user").expect("X-User header").to_string();
        first.entry(user).or_insert(i);
    }
    assert_eq!(first.len(), 20, "every user sent requests");
    let last_start = first.values().copied().max().unwrap_or(0);
    last_start as f64 / seen.len() as f64
}

#[test]
fn closed_model_without_ramp_starts_every_user_at_the_first_instant() {
    let _machine = shared();
    let server = serve(fast_router());
    let result = closed_counting_profile(&server.url)
        .target_line("headers = { \"X-User\" = \"{{user_id}}\" }")
        .work()
        .run_ok();
    let n = requests(&result, "GET /count");
    assert!(n > 100, "{n} requests");
    assert_eq!(total_errors(&result), 0, "{result:#}");
    assert_eq!(
        server.log.count("/count") as u64,
        n,
        "with no warmup, every request the server answered is in the result, from the first"
    );
    // Without a ramp all 20 users begin together: the last one's first request comes before
    // most of the others' requests. With a 0.9 s ramp over the 1 s run, it comes near the end.
    let unramped = share_before_last_user_started(&server);
    let ramped_server = serve(fast_router());
    closed_counting_profile(&ramped_server.url)
        .target_line("headers = { \"X-User\" = \"{{user_id}}\" }")
        .load("ramp_up", "900ms")
        .work()
        .run_ok();
    let ramped = share_before_last_user_started(&ramped_server);
    eprintln!(
        "requests before the last user's first: {unramped:.3} without a ramp, {ramped:.3} with one"
    );
    assert!(
        unramped < 0.25 && ramped > 0.5,
        "share of requests before the last user's first: {unramped:.3} without a ramp, {ramped:.3} with one"
    );
}

#[test]
fn think_time_separates_each_users_requests() {
    let _machine = shared();
    let server = serve(fast_router());
    let work = ProfileBuilder::new(&server.url)
        .load("users", 4)
        .load("duration", "2s")
        .raw(
            r#"
[[scenario]]
name = "thinker"
think_time = "300ms..300ms"
[[scenario.step]]
request = "GET /think"
headers = { "X-User" = "{{user_id}}" }
"#,
        )
        .work();
    let result = work.run_ok();
    assert_eq!(total_errors(&result), 0, "{result:#}");

    let mut by_user: BTreeMap<String, Vec<Instant>> = BTreeMap::new();
    for s in server.log.all() {
        let user = s.header("x-user").expect("X-User header").to_string();
        by_user.entry(user).or_default().push(s.at);
    }
    assert_eq!(
        by_user.len(),
        4,
        "4 users, each with its own user_id: {:?}",
        by_user.keys()
    );
    for (user, mut times) in by_user {
        times.sort();
        // 2 s with 300 ms pauses: about 6 requests each; at least 4 even on a slow machine.
        assert!(
            times.len() >= 4,
            "user {user} made only {} requests in 2 s with 300 ms think time",
            times.len()
        );
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(295),
                "user {user}: requests {gap:?} apart, think time is 300 ms"
            );
        }
    }
}

#[test]
fn open_model_achieves_its_arrival_rate() {
    let _machine = exclusive();
    let server = serve(fast_router());
    let work = ProfileBuilder::new(&server.url)
        .open(200)
        .load("duration", "3s")
        .scenario("one", &["GET /paced"])
        .work();
    let result = work.run_ok();
    let n = requests(&result, "GET /paced");
    eprintln!("open model, 200/s for 3 s: {n} requests");
    assert!(
        (588..=612).contains(&n),
        "{n} requests at 200/s for 3 s; expected 600 ± 2%"
    );
    assert_eq!(total_errors(&result), 0, "{result:#}");
    assert_eq!(
        u64_at(&trial(&result)["dropped_iterations"], "dropped"),
        0,
        "nothing is dropped against a fast server"
    );
    assert_eq!(u64_at(&trial(&result)["iterations"], "iterations"), n);
    assert_eq!(server.log.count("/paced") as u64, n);
}

#[test]
fn open_model_drops_iterations_beyond_max_in_flight() {
    let _machine = shared();
    let server = serve(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "slow"
        }),
    ));
    let work = ProfileBuilder::new(&server.url)
        .open(100)
        .load("max_in_flight", 5)
        .load("duration", "2s")
        .scenario("one", &["GET /slow"])
        .work();
    let result = work.run_ok();
    let t = trial(&result);
    let done = requests(&result, "GET /slow");
    let dropped = u64_at(&t["dropped_iterations"], "dropped");
    eprintln!("max_in_flight 5: {done} requests, {dropped} dropped");
    assert_eq!(total_errors(&result), 0, "{result:#}");
    assert!(dropped > 0, "5 slots of 500 ms cannot take 100/s: {t:#}");
    assert!(
        (199..=201).contains(&(done + dropped)),
        "every one of the 200 due iterations is either run or dropped: {done} run + {dropped} dropped"
    );
    // 5 slots, each busy 500 ms per request, for 2 s: at most 20 (a little slack for timing).
    assert!(
        done <= 22,
        "{done} requests: more than 5 concurrent slots can complete"
    );
    assert!(
        done >= 10,
        "{done} requests: the 5 slots were not kept busy"
    );
    // The cap holds at the server too: never more than 5 requests in progress at once.
    let log = server.log.all();
    let max_concurrent = log
        .iter()
        .map(|s| {
            log.iter()
                .filter(|o| o.at <= s.at && s.at < o.at + Duration::from_millis(490))
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        max_concurrent <= 5,
        "{max_concurrent} requests were in progress at once with max_in_flight = 5"
    );
}

#[test]
fn a_stall_shows_in_the_open_model_p99_but_not_the_median() {
    let _machine = exclusive();
    // Answers at once, except that requests arriving between 1 s and 1.5 s after the first one
    // are held until 1.5 s.
    let first: Arc<Mutex<Option<Instant>>> = Arc::default();
    let held = Arc::new(AtomicUsize::new(0));
    let held_in_handler = held.clone();
    let server = serve(Router::new().route(
        "/stall",
        get(move || {
            let (first, held) = (first.clone(), held_in_handler.clone());
            async move {
                let now = Instant::now();
                let t0 = *first.lock().unwrap().get_or_insert(now);
                let (from, until) = (
                    t0 + Duration::from_millis(1000),
                    t0 + Duration::from_millis(1500),
                );
                if now >= from && now < until {
                    held.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep_until(until.into()).await;
                }
                "ok"
            }
        }),
    ));
    let work = ProfileBuilder::new(&server.url)
        .open(200)
        .load("duration", "3s")
        .scenario("one", &["GET /stall"])
        .work();
    let result = work.run_ok();
    assert_eq!(total_errors(&result), 0, "{result:#}");
    let held = held.load(Ordering::Relaxed);
    assert!(
        (50..=150).contains(&held),
        "{held} requests arrived in the 500 ms stall at 200/s; expected about 100"
    );
    let p50 = latency_ms(&result, "GET /stall", "p50");
    let p99 = latency_ms(&result, "GET /stall", "p99");
    eprintln!("stall: {held} held, p50 {p50} ms, p99 {p99} ms");
    // ~100 of 600 requests arrive in the stall and wait up to 500 ms: the top 1% wait ≥ 450 ms.
    assert!(p99 >= 300.0, "p99 {p99} ms does not show a 500 ms stall");
    assert!(p50 < 50.0, "p50 {p50} ms: the stall moved the median");
}
