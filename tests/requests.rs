//! What perfgate sends and how it judges the answers: captures and templates arrive at the
//! server with the right values, expected statuses are successes, and every kind of failure is
//! counted under its own kind.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};

const SECRET: &str = "s3cr3t-from-the-environment";

/// Tokens and sessions the login endpoint issued, by the user id the client sent.
type Issued = Arc<Mutex<HashMap<String, (String, String)>>>;

fn login_router(issued: Issued) -> Router {
    let counter = Arc::new(AtomicU64::new(0));
    Router::new()
        .route(
            "/login",
            post(move |Json(body): Json<Value>| {
                let (issued, counter) = (issued.clone(), counter.clone());
                async move {
                    let user = body["user"].as_str().unwrap_or("?").to_string();
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let token = format!("tok-{user}-{n}");
                    let session = format!("sess-{n}-{user}");
                    issued
                        .lock()
                        .unwrap()
                        .insert(user, (token.clone(), session.clone()));
                    let mut headers = HeaderMap::new();
                    headers.insert("x-session", HeaderValue::from_str(&session).unwrap());
                    (headers, Json(json!({ "token": token, "expires_in": 3600 })))
                }
            }),
        )
        .fallback(|| async { "ok" })
}

#[test]
fn captures_data_env_and_builtins_reach_the_server() {
    let _machine = shared();
    let issued: Issued = Arc::default();
    let server = serve(login_router(issued.clone()));
    let work = Work::with_profile(&format!(
        r#"
name = "templates"

[target]
base_url = "{url}"
headers = {{ "X-User" = "{{{{user_id}}}}", "X-Env" = "{{{{env.PERFGATE_TEST_SECRET}}}}" }}

[load]
model = "closed"
users = 5
duration = "1s"

[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "flow"

[[scenario.on_start]]
request = "POST /login"
json = {{ user = "{{{{user_id}}}}", username = "{{{{accounts.username}}}}", password = "{{{{accounts.password}}}}" }}
capture = {{ token = "json:$.token", session = "header:X-Session" }}

[[scenario.step]]
request = "POST /items/{{{{user_id}}}}?n={{{{random_int(1,5)}}}}"
name = "POST /items/[user]"
headers = {{ Authorization = "Bearer {{{{token}}}}", "X-Request-Id" = "{{{{uuid}}}}", "X-Iteration" = "{{{{iteration}}}}" }}
json = {{ user = "{{{{user_id}}}}", username = "{{{{accounts.username}}}}", session = "{{{{session}}}}", count = 2, tags = ["fixed", "{{{{accounts.username}}}}"] }}

[[scenario.step]]
request = "POST /form"
form = {{ user = "{{{{user_id}}}}", username = "{{{{accounts.username}}}}", token = "{{{{token}}}}" }}
"#,
        url = server.url
    ));
    let accounts = [
        ("alice", "pw-alice"),
        ("bob", "pw-bob"),
        ("carol", "pw-carol"),
        ("dave", "pw-dave"),
    ];
    let mut csv = String::from("username,password\n");
    for (u, p) in accounts {
        csv.push_str(&format!("{u},{p}\n"));
    }
    work.write("accounts.csv", &csv);
    let run = work.run_with(&[], &[("PERFGATE_TEST_SECRET", SECRET)]);
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "an {{{{env.*}}}} value is a secret and is never shown"
    );
    let result = run.ok();
    assert!(
        !result.to_string().contains(SECRET),
        "an {{{{env.*}}}} value is a secret and stays out of the result"
    );

    assert_eq!(total_errors(&result), 0, "{result:#}");
    for name in ["POST /items/[user]", "POST /form"] {
        assert!(requests(&result, name) > 0, "{name} was never requested");
    }
    let issued = issued.lock().unwrap().clone();
    let password: BTreeMap<&str, &str> = accounts.into_iter().collect();

    // on_start runs once per user; user N takes row N of the data file (round robin).
    let logins = server.log.matching("/login");
    let mut username_of: BTreeMap<String, String> = BTreeMap::new();
    for l in &logins {
        let body = l.json();
        let user = body["user"].as_str().expect("user in the login body");
        let username = body["username"]
            .as_str()
            .expect("username in the login body");
        assert_eq!(l.header("x-user"), Some(user), "default header vs body");
        assert_eq!(
            body["password"].as_str(),
            password.get(username).copied(),
            "the password comes from the same CSV row as the username: {body}"
        );
        assert!(
            username_of
                .insert(user.to_string(), username.to_string())
                .is_none(),
            "user {user} ran on_start twice"
        );
    }
    assert_eq!(logins.len(), 5, "one login per user");
    // 5 users, 4 rows: consecutive user ids take consecutive rows, the fifth wraps around.
    let mut ids: Vec<u64> = username_of
        .keys()
        .map(|u| u.parse().expect("user_id is a number"))
        .collect();
    ids.sort();
    let row = |id: u64| {
        let name = &username_of[&id.to_string()];
        accounts
            .iter()
            .position(|(u, _)| u == name)
            .expect("a CSV row")
    };
    for (k, &id) in ids.iter().enumerate() {
        assert_eq!(id, ids[0] + k as u64, "user ids are consecutive: {ids:?}");
        assert_eq!(
            row(id),
            (row(ids[0]) + k) % accounts.len(),
            "user {id} takes the next row, round robin: {username_of:?}"
        );
    }

    let items = server.log.matching("/items/");
    assert!(items.len() >= 50, "only {} item requests", items.len());
    let mut request_ids = BTreeSet::new();
    let mut ints = BTreeSet::new();
    let mut iterations: BTreeMap<String, Vec<(std::time::Instant, u64)>> = BTreeMap::new();
    for it in &items {
        let user = it.path.strip_prefix("/items/").unwrap().to_string();
        let body = it.json();
        let (token, session) = issued
            .get(&user)
            .unwrap_or_else(|| panic!("user {user} sends items but never logged in"));
        assert_eq!(it.header("x-user"), Some(user.as_str()));
        assert_eq!(body["user"], user.as_str());
        assert_eq!(
            it.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "json capture: the token issued to user {user}"
        );
        assert_eq!(
            body["session"],
            session.as_str(),
            "header capture: the session issued to user {user}"
        );
        assert_eq!(body["username"], username_of[&user].as_str());
        assert_eq!(body["tags"], json!(["fixed", username_of[&user]]));
        assert_eq!(body["count"], 2, "numbers stay numbers: {body}");
        assert_eq!(it.header("content-type"), Some("application/json"));
        assert_eq!(it.header("x-env"), Some(SECRET));
        let id = it.header("x-request-id").expect("X-Request-Id");
        let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id:?}: {e}"));
        assert_eq!(uuid.get_version_num(), 4, "{id}");
        request_ids.insert(id.to_string());
        let iteration = it
            .header("x-iteration")
            .and_then(|i| i.parse().ok())
            .expect("X-Iteration is a number");
        iterations
            .entry(user.clone())
            .or_default()
            .push((it.at, iteration));
        let n: i64 = it
            .query_param("n")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no integer n in {:?}", it.query));
        assert!((1..=5).contains(&n), "random_int(1,5) gave {n}");
        ints.insert(n);
    }
    assert_eq!(request_ids.len(), items.len(), "every uuid is new");
    // One item request per iteration: each user's iteration count goes up by one each time.
    for (user, mut seen) in iterations {
        seen.sort();
        for pair in seen.windows(2) {
            assert_eq!(
                pair[1].1,
                pair[0].1 + 1,
                "user {user}: iteration {} followed by {}",
                pair[0].1,
                pair[1].1
            );
        }
    }
    assert_eq!(
        ints,
        (1..=5).collect(),
        "{} draws of random_int(1,5) cover 1..=5",
        items.len()
    );

    let forms = server.log.matching("/form");
    assert!(!forms.is_empty());
    for f in &forms {
        assert_eq!(
            f.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let fields: BTreeMap<String, String> = f.form().into_iter().collect();
        let user = &fields["user"];
        assert_eq!(f.header("x-user"), Some(user.as_str()));
        assert_eq!(fields["username"], username_of[user]);
        assert_eq!(fields["token"], issued[user].0);
    }
}

#[test]
fn a_capture_that_finds_nothing_is_an_error_and_ends_the_iteration() {
    let _machine = shared();
    let server = serve(Router::new().fallback(|| async {
        let mut headers = HeaderMap::new();
        headers.insert("x-present", HeaderValue::from_static("yes"));
        (headers, Json(json!({ "present": "yes" })))
    }));
    let work = Work::with_profile(&format!(
        r#"
[target]
base_url = "{url}"

[load]
model = "closed"
users = 4
duration = "1s"

[[scenario]]
name = "json"
[[scenario.step]]
request = "GET /json-miss"
capture = {{ found = "json:$.present", missing = "json:$.absent" }}
[[scenario.step]]
request = "GET /after-json"

[[scenario]]
name = "header"
[[scenario.step]]
request = "GET /header-miss"
capture = {{ h = "header:X-Absent" }}
[[scenario.step]]
request = "GET /after-header"

[[scenario]]
name = "uncaptured"
[[scenario.step]]
request = "GET /needs-var"
headers = {{ "X-Var" = "{{{{only_elsewhere}}}}" }}
[[scenario.step]]
request = "GET /after-var"

# Never runs; only makes `only_elsewhere` a known variable.
[[scenario]]
name = "never"
weight = 0
[[scenario.step]]
request = "GET /never"
capture = {{ only_elsewhere = "json:$.present" }}

[[scenario]]
name = "control"
[[scenario.step]]
request = "GET /found"
capture = {{ j = "json:$.present", k = "header:X-Present" }}
[[scenario.step]]
request = "GET /after-found"
"#,
        url = server.url
    ));
    let result = work.run_ok();
    for (step, after) in [
        ("/json-miss", "/after-json"),
        ("/header-miss", "/after-header"),
    ] {
        let name = format!("GET {step}");
        let n = requests(&result, &name);
        assert!(n > 0, "{name} was never requested");
        assert_eq!(
            error_count(&result, &name, "capture"),
            n,
            "{name}: every response lacks the captured value"
        );
        assert_eq!(error_count(&result, &name, "total"), n);
        assert_eq!(
            requests(&result, &format!("GET {after}")),
            0,
            "the iteration stops at the failed capture"
        );
        assert_eq!(server.log.count(after), 0, "{after} got requests");
    }
    // A template needing a variable this user has not captured: a capture error, and nothing
    // is sent.
    let n = requests(&result, "GET /needs-var");
    assert!(n > 0, "GET /needs-var was never attempted");
    assert_eq!(error_count(&result, "GET /needs-var", "capture"), n);
    assert_eq!(
        server.log.count("/needs-var"),
        0,
        "sent without its variable"
    );
    assert_eq!(server.log.count("/after-var"), 0);
    assert_eq!(server.log.count("/never"), 0, "a weight-0 scenario ran");
    // The same steps with values that are there: no error, and the iteration goes on.
    assert_eq!(error_count(&result, "GET /found", "total"), 0);
    let (found, after) = (
        requests(&result, "GET /found"),
        requests(&result, "GET /after-found"),
    );
    assert!(after > 0);
    // Equal but for iterations the end of the run cut between the two steps (one per user).
    assert!(
        found.abs_diff(after) <= 4,
        "{found} iterations captured, {after} went on to the next step"
    );
}

#[test]
fn an_expected_429_is_a_success_and_an_unexpected_one_an_error() {
    let _machine = shared();
    let server =
        serve(Router::new().fallback(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow down") }));
    let work = Work::with_profile(&format!(
        r#"
[target]
base_url = "{url}"

[load]
model = "closed"
users = 4
duration = "1s"

[[scenario]]
name = "expected"
[[scenario.step]]
request = "GET /limited"
name = "expected 429"
expect = {{ status = [200, 429] }}

[[scenario]]
name = "unexpected"
[[scenario.step]]
request = "GET /limited"
name = "unexpected 429"
"#,
        url = server.url
    ));
    let result = work.run_ok();
    let expected = requests(&result, "expected 429");
    assert!(expected > 0);
    assert_eq!(
        error_count(&result, "expected 429", "total"),
        0,
        "{}",
        errors(&result, "expected 429")
    );
    assert!(
        endpoint(&result, "expected 429")["latency_ms"].is_object(),
        "successes have latencies"
    );
    let unexpected = requests(&result, "unexpected 429");
    assert!(unexpected > 0);
    assert_eq!(status_errors(&result, "unexpected 429", 429), unexpected);
    assert_eq!(error_count(&result, "unexpected 429", "total"), unexpected);
}

#[test]
fn statuses_checks_and_timeouts_are_classified() {
    let _machine = shared();
    let server = serve(
        Router::new()
            .route(
                "/fail",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
            )
            .route("/text", get(|| async { "hello world" }))
            .route(
                "/sleepy",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    "too late"
                }),
            ),
    );
    let work = Work::with_profile(&format!(
        r#"
[target]
base_url = "{url}"
request_timeout = "300ms"

[load]
model = "closed"
users = 8
duration = "1s"

[[scenario]]
name = "server error"
[[scenario.step]]
request = "GET /fail"

[[scenario]]
name = "check fails"
[[scenario.step]]
request = "GET /text"
name = "missing text"
expect = {{ body_contains = "xyz" }}

[[scenario]]
name = "check passes"
[[scenario.step]]
request = "GET /text"
name = "present text"
expect = {{ body_contains = "world" }}

[[scenario]]
name = "timeout"
[[scenario.step]]
request = "GET /sleepy"
"#,
        url = server.url
    ));
    let result = work.run_ok();

    let n = requests(&result, "GET /fail");
    assert!(n > 0);
    assert_eq!(status_errors(&result, "GET /fail", 500), n);
    assert_eq!(error_count(&result, "GET /fail", "total"), n);

    let n = requests(&result, "missing text");
    assert!(n > 0);
    assert_eq!(error_count(&result, "missing text", "check"), n);
    assert_eq!(error_count(&result, "missing text", "total"), n);
    assert!(requests(&result, "present text") > 0);
    assert_eq!(error_count(&result, "present text", "total"), 0);

    let n = requests(&result, "GET /sleepy");
    assert!(n > 0);
    assert_eq!(
        error_count(&result, "GET /sleepy", "timeout"),
        n,
        "{}",
        errors(&result, "GET /sleepy")
    );
    assert_eq!(error_count(&result, "GET /sleepy", "total"), n);
}

#[test]
fn refused_connections_are_measured_errors_not_a_failed_run() {
    let _machine = shared();
    let port = free_port();
    let work = Work::with_profile(&format!(
        r#"
[target]
base_url = "http://127.0.0.1:{port}"

[load]
model = "closed"
users = 2
duration = "1s"

[[scenario]]
name = "nobody home"
[[scenario.step]]
request = "GET /"
"#
    ));
    // Exit 0 with a result: a run that measured errors is a measurement.
    let result = work.run_ok();
    let n = requests(&result, "GET /");
    assert!(n > 0, "{result:#}");
    assert_eq!(
        error_count(&result, "GET /", "connect"),
        n,
        "{}",
        errors(&result, "GET /")
    );
    assert_eq!(error_count(&result, "GET /", "total"), n);
    assert_eq!(result["complete"], true);
}
