//! Hostile targets: a fault-injecting server on real sockets (127.0.0.1) that, per path, resets
//! mid-response, stalls past the timeout, answers 5xx in bursts, sends a malformed status line or
//! headers, sends a 50 MB body, trickles a byte a second, closes every connection after one
//! response — and a target that refuses connections or dies halfway through the run. Against each,
//! the run ends on its own, counts every failure under its kind, describes the first of each kind,
//! keeps its memory bounded, writes its result and exits with a code that says what happened.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIG: usize = 50 << 20;

/// What the fault server has seen, shared with the test.
#[derive(Default)]
struct Seen {
    /// Requests per path.
    requests: Mutex<HashMap<String, u64>>,
    /// Connections accepted.
    connections: AtomicU64,
    /// Requests to /burst so far (decides the burst).
    burst: AtomicU64,
}

impl Seen {
    fn requests(&self, path: &str) -> u64 {
        *self.requests.lock().unwrap().get(path).unwrap_or(&0)
    }
    fn total(&self) -> u64 {
        self.requests.lock().unwrap().values().sum()
    }
}

/// A raw HTTP/1.1 server whose every path misbehaves in its own way. Stopped (every socket
/// closed at once) when dropped.
struct FaultServer {
    url: String,
    seen: Arc<Seen>,
    _server: TcpServer,
}

fn fault_server() -> FaultServer {
    let seen = Arc::new(Seen::default());
    let s2 = seen.clone();
    let server = serve_tcp(move |sock| {
        s2.connections.fetch_add(1, Ordering::Relaxed);
        connection(sock, s2.clone())
    });
    FaultServer {
        url: format!("http://{}", server.addr),
        seen,
        _server: server,
    }
}

/// Reads one request head; returns its path, or None when the client closed the connection.
async fn read_head(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            // The path without its query: `/big?check` is `/big`.
            let target = head.split_whitespace().nth(1)?;
            return target.split('?').next().map(str::to_string);
        }
        let mut chunk = [0u8; 4096];
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn connection(mut sock: TcpStream, seen: Arc<Seen>) {
    let mut buf = Vec::new();
    let mut on_this_connection = 0u64;
    while let Some(path) = read_head(&mut sock, &mut buf).await {
        on_this_connection += 1;
        *seen
            .requests
            .lock()
            .unwrap()
            .entry(path.clone())
            .or_default() += 1;
        let keep_alive = match path.as_str() {
            "/close" => {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                false
            }
            "/reset" => {
                // Half a body, then a TCP reset (linger 0 makes close send RST).
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial")
                    .await;
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _ = sock.set_zero_linger();
                false
            }
            "/stall" => {
                // Far past request_timeout; the client gives up first.
                tokio::time::sleep(Duration::from_secs(30)).await;
                false
            }
            "/burst" => {
                // Bursts of ten 503s between runs of ten 200s.
                let n = seen.burst.fetch_add(1, Ordering::Relaxed);
                let reply: &[u8] = if (n / 10) % 2 == 1 {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 30\r\n\r\n{\"error\":\"overloaded, sorry\"}\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                };
                sock.write_all(reply).await.is_ok()
            }
            "/bad-status" => {
                let _ = sock
                    .write_all(b"HTTP/1.1 2x0 Fine\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                false
            }
            "/bad-header" => {
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nthis is not a header\r\n\r\nok",
                    )
                    .await;
                false
            }
            "/big" => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {BIG}\r\n\r\n");
                let mut ok = sock.write_all(head.as_bytes()).await.is_ok();
                let block = vec![b'a'; 64 << 10];
                let mut left = BIG;
                while ok && left > 0 {
                    let n = left.min(block.len());
                    ok = sock.write_all(&block[..n]).await.is_ok();
                    left -= n;
                }
                ok
            }
            "/trickle" => {
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
                    .await;
                for _ in 0..100 {
                    if sock.write_all(b".").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                false
            }
            "/no-content" => sock
                .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .is_ok(),
            // Answers the first request on a connection, then closes the connection on the
            // second without a word: a kept-alive connection lost under a request.
            "/flaky" => {
                on_this_connection == 1
                    && sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await
                        .is_ok()
            }
            // A server-side keep-alive timeout of 200 ms.
            "/idle-close" => {
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                false
            }
            "/chunked" => sock
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: t\r\n\r\n")
                .await
                .is_ok(),
            "/interim" => sock
                .write_all(b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .is_ok(),
            "/http10" => {
                let _ = sock.write_all(b"HTTP/1.0 200 OK\r\n\r\nuntil close").await;
                false
            }
            _ => sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .is_ok(),
        };
        if !keep_alive {
            return;
        }
    }
}

/// A profile with one scenario (and endpoint) per step: a request line, or a path to GET.
fn profile(url: &str, load: &str, timeout: &str, steps: &[(&str, &str)]) -> String {
    let mut p = format!(
        "[target]\nbase_url = \"{url}\"\nrequest_timeout = \"{timeout}\"\n\n[load]\n{load}\n"
    );
    for (request, extra) in steps {
        let request = if request.starts_with('/') {
            format!("GET {request}")
        } else {
            request.to_string()
        };
        p.push_str(&format!(
            "\n[[scenario]]\nname = \"{request}\"\n[[scenario.step]]\nrequest = \"{request}\"\n{extra}\n"
        ));
    }
    p
}

/// Runs the profile with a bound on the whole command (a hang fails the test instead of
/// stalling it); requires exit 0, a complete result and no panic.
fn run(work: &Work, bound: Duration) -> Value {
    let out = work
        .perfgate()
        .args(["run", "-p", PROFILE, "-o", RESULT])
        .timeout(bound)
        .output()
        .expect("perfgate runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "perfgate panicked:\n{stderr}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "perfgate did not finish by itself within {bound:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let result = work.result().expect("a result file");
    assert_eq!(result["complete"], true, "{result:#}");
    eprintln!("{stdout}");
    result
}

fn samples(result: &Value, name: &str) -> Vec<(String, String)> {
    endpoint(result, name)["error_samples"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["kind"].as_str().unwrap_or("").to_string(),
                        s["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sample_of(result: &Value, name: &str, kind: &str) -> String {
    let all = samples(result, name);
    all.iter()
        .find(|(k, _)| k == kind)
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| panic!("{name}: no {kind:?} sample among {all:?}"))
}

#[test]
fn every_fault_is_counted_under_its_kind_and_the_run_ends_by_itself() {
    let _machine = shared();
    let server = fault_server();
    let steps = [
        ("/ok", ""),
        ("/close", ""),
        ("/reset", ""),
        ("/stall", ""),
        ("/burst", ""),
        ("/bad-status", ""),
        ("/bad-header", ""),
        ("/trickle", ""),
    ];
    // Open model: every path gets its share of the schedule whatever the others do.
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"open\"\nrate = 80\nmax_in_flight = 400\nwarmup = \"0s\"\nduration = \"3s\"",
        "1s",
        &steps,
    ));
    // warmup + duration + request_timeout is 4 s; 20 s more only absorbs a slow machine.
    let result = run(&work, Duration::from_secs(24));
    let n = |path: &str| requests(&result, &format!("GET {path}"));
    let err = |path: &str, kind: &str| error_count(&result, &format!("GET {path}"), kind);
    for (path, _) in steps {
        assert!(n(path) > 0, "{path} was never requested: {result:#}");
    }
    // Healthy answers, also when every response closes its connection.
    assert_eq!(err("/ok", "total"), 0, "{result:#}");
    assert_eq!(err("/close", "total"), 0, "{result:#}");
    assert!(
        server.seen.connections.load(Ordering::Relaxed) >= server.seen.requests("/close"),
        "each /close response ended its connection"
    );
    // Each fault under its own kind, and only that kind.
    for (path, kind) in [
        ("/reset", "reset"),
        ("/stall", "timeout"),
        ("/trickle", "timeout"),
        ("/bad-status", "protocol"),
        ("/bad-header", "protocol"),
    ] {
        assert_eq!(
            err(path, kind),
            n(path),
            "every {path} request is a {kind} error: {}",
            errors(&result, &format!("GET {path}"))
        );
        assert_eq!(err(path, "total"), n(path));
        let sample = sample_of(&result, &format!("GET {path}"), kind);
        assert!(
            sample.starts_with(&format!("GET {}{path} → {kind}", server.url)),
            "{sample}"
        );
    }
    // Bursts of 503 among successes: the 503s are status errors, the rest count as successes.
    let e = errors(&result, "GET /burst");
    let s503 = e["status"]["503"].as_u64().unwrap_or(0);
    assert!(s503 > 0 && s503 < n("/burst"), "{e}");
    assert_eq!(err("/burst", "total"), s503);
    let sample = sample_of(&result, "GET /burst", "status 503");
    assert!(
        sample.contains("Service Unavailable") && sample.contains("overloaded, sorry"),
        "the sample shows the status and the body's start: {sample}"
    );
    // Every request the server saw was either counted or still in flight at the end.
    let counted: u64 = endpoints(&result)
        .iter()
        .map(|e| e["requests"].as_u64().unwrap())
        .sum();
    assert!(counted <= server.seen.total());
}

#[test]
fn a_fifty_megabyte_body_is_read_and_counted_not_kept() {
    let _machine = shared();
    let server = fault_server();
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"closed\"\nusers = 4\nwarmup = \"0s\"\nduration = \"2s\"",
        "10s",
        &[
            ("/big", ""),
            // A check needs the body: only its first 4 MiB are kept.
            (
                "/big?check",
                "expect = { body_contains = \"not in there\" }",
            ),
        ],
    ));
    let result = run(&work, Duration::from_secs(40));
    let big = endpoint(&result, "GET /big");
    let n = big["requests"].as_u64().unwrap();
    assert!(n > 0, "{big:#}");
    assert_eq!(big["errors"]["total"], 0, "{big:#}");
    assert_eq!(
        big["bytes_received"].as_u64().unwrap(),
        n * BIG as u64,
        "every byte of every body was read"
    );
    let checked = endpoint(&result, "GET /big?check");
    let m = checked["requests"].as_u64().unwrap();
    assert!(m > 0);
    assert_eq!(error_count(&result, "GET /big?check", "check"), m);
    // Four users reading 50 MB bodies: kept whole, that would be 200 MB and more.
    let rss = result["client"]["peak_rss_bytes"]
        .as_u64()
        .expect("the result has perfgate's peak RSS");
    eprintln!(
        "{} MB received; perfgate peak RSS {:.1} MiB",
        (n + m) * 50,
        rss as f64 / 1048576.0
    );
    assert!(
        rss < 100 << 20,
        "perfgate's peak RSS was {rss} bytes while reading 50 MB bodies"
    );
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let _machine = shared();
    let url = format!("http://127.0.0.1:{}", free_port());
    let work = Work::with_profile(&profile(
        &url,
        "model = \"closed\"\nusers = 2\nwarmup = \"0s\"\nduration = \"1s\"",
        "1s",
        &[("/anything", "")],
    ));
    let result = run(&work, Duration::from_secs(20));
    let n = requests(&result, "GET /anything");
    assert!(n > 0);
    assert_eq!(error_count(&result, "GET /anything", "connect"), n);
    let sample = sample_of(&result, "GET /anything", "connect");
    assert!(sample.contains("→ connect"), "{sample}");
}

#[test]
fn a_target_that_dies_halfway_leaves_a_complete_count() {
    let _machine = shared();
    let server = fault_server();
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"closed\"\nusers = 4\nwarmup = \"0s\"\nduration = \"4s\"",
        "1s",
        &[("/ok", "")],
    ));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(work.dir.path())
        .args(["run", "--quiet", "-p", PROFILE, "-o", RESULT])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    for var in inherited_settings() {
        cmd.env_remove(var);
    }
    let mut child = Child(cmd.spawn().expect("perfgate starts"));
    // Kill the server once it has served a few requests (the run is still going: 4 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.seen.total() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(server.seen.total() >= 20, "the run never got going");
    drop(server);
    let status = child.wait_bounded(Duration::from_secs(30));
    assert_eq!(status, Some(0), "perfgate exits 0: the errors are the data");
    let result = work.result().expect("a result file");
    assert_eq!(result["complete"], true);
    let n = requests(&result, "GET /ok");
    let e = errors(&result, "GET /ok");
    let connect = e["connect"].as_u64().unwrap();
    let broken = connect + e["reset"].as_u64().unwrap();
    assert!(
        connect > 0,
        "after the server died, connections were refused: {e}"
    );
    assert!(n > broken, "the requests before it died succeeded: {e}");
    assert_eq!(e["total"].as_u64().unwrap(), broken, "{e}");
}

/// A child process that is killed if the test fails before waiting for it.
struct Child(std::process::Child);

impl Child {
    fn wait_bounded(&mut self, bound: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + bound;
        loop {
            if let Ok(Some(s)) = self.0.try_wait() {
                return s.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.0.kill();
                panic!("perfgate did not end within {bound:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn secrets_are_redacted_where_failed_requests_are_shown() {
    let _machine = shared();
    let server = serve(
        axum::Router::new().fallback(|| async { (axum::http::StatusCode::UNAUTHORIZED, "no") }),
    );
    const TOKEN: &str = "tok-5e5e5e5e-from-env";
    const COOKIE: &str = "session=c00c1e-secret";
    const STATIC: &str = "Bearer static-secret-abc123";
    let work = Work::with_profile(&format!(
        r#"
[target]
base_url = "{url}"
headers = {{ Authorization = "{STATIC}", Cookie = "{COOKIE}", "X-Trace" = "visible-trace" }}

[load]
model = "closed"
users = 2
warmup = "0s"
duration = "1s"

[[scenario]]
name = "s"
[[scenario.step]]
request = "GET /orders?key={{{{env.PERFGATE_TEST_TOKEN}}}}"
name = "GET /orders"
headers = {{ "X-Api-Key" = "{{{{env.PERFGATE_TEST_TOKEN}}}}", "X-Tenant" = "t-{{{{env.PERFGATE_TEST_TOKEN}}}}" }}
"#,
        url = server.url
    ));
    let run = work.run_with(&[], &[("PERFGATE_TEST_TOKEN", TOKEN)]);
    // `run --quiet` prints nothing; run again without it to see the summary too.
    let out = work
        .perfgate()
        .args(["run", "-p", PROFILE, "-o", "loud.json"])
        .env("PERFGATE_TEST_TOKEN", TOKEN)
        .output()
        .unwrap();
    let loud =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let result = run.ok();
    let sample = sample_of(&result, "GET /orders", "status 401");
    eprintln!("{sample}");
    assert!(sample.contains("Unauthorized"), "{sample}");
    assert!(sample.contains("x-trace: visible-trace"), "{sample}");
    assert!(sample.contains("authorization: [redacted]"), "{sample}");
    assert!(sample.contains("key=[redacted]"), "{sample}");
    let files = std::fs::read_to_string(work.path(RESULT)).unwrap()
        + &std::fs::read_to_string(work.path("loud.json")).unwrap();
    assert!(loud.contains("first status 401"), "{loud}");
    for secret in [TOKEN, COOKIE, STATIC, "static-secret", "c00c1e"] {
        for (what, text) in [("the result", &files), ("the output", &loud)] {
            assert!(!text.contains(secret), "{secret:?} is in {what}:\n{text}");
        }
    }
}

/// `perfgate run` on the work's profile with its open-files limits set to `soft` and `hard`.
fn run_with_open_files(work: &Work, soft: u64, hard: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(work.dir.path())
        .args(["run", "--quiet", "-p", PROFILE, "-o", RESULT]);
    for var in inherited_settings() {
        cmd.env_remove(var);
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: soft as libc::rlim_t,
                rlim_max: hard as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("perfgate runs")
}

#[test]
fn more_connections_than_open_files_are_refused_before_the_run() {
    let _machine = shared();
    let server = serve(fast_router());
    let profile_for = |users: u64| {
        profile(
            &server.url,
            &format!("model = \"closed\"\nusers = {users}\nwarmup = \"0s\"\nduration = \"1s\""),
            // A thousand connections at once overflow the test server's accept backlog; the
            // kernel retries the dropped SYNs after a second.
            "5s",
            &[("/a", "")],
        )
    };
    let work = Work::with_profile(&profile_for(1000));
    let out = run_with_open_files(&work, 256, 256);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1000 connections") && stderr.contains("only 256 files"),
        "{stderr}"
    );
    assert!(stderr.contains("load.users"), "{stderr}");
    assert!(server.log.is_empty(), "no load was sent");
    assert!(work.result().is_none());
    // Within the limit, it runs.
    let work = Work::with_profile(&profile_for(100));
    let out = run_with_open_files(&work, 256, 256);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!server.log.is_empty());
    // A low soft limit under a higher hard one is raised: 1000 users run.
    let work = Work::with_profile(&profile_for(1000));
    let out = run_with_open_files(&work, 256, 4096);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = work.result().expect("a result");
    assert_eq!(error_count(&result, "GET /a", "total"), 0, "{result:#}");
}

#[test]
fn chunked_interim_and_close_delimited_responses_are_read_whole() {
    let _machine = shared();
    let server = fault_server();
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"closed\"\nusers = 3\nwarmup = \"0s\"\nduration = \"1s\"",
        "2s",
        &[
            ("/chunked", "expect = { body_contains = \"hello, world\" }"),
            ("/interim", "expect = { status = [200] }"),
            ("/http10", "expect = { body_contains = \"until close\" }"),
        ],
    ));
    let result = run(&work, Duration::from_secs(20));
    for (path, len) in [("/chunked", 12), ("/interim", 2), ("/http10", 11)] {
        let name = format!("GET {path}");
        let n = requests(&result, &name);
        assert!(n > 0, "{name}");
        assert_eq!(
            error_count(&result, &name, "total"),
            0,
            "{}",
            errors(&result, &name)
        );
        assert_eq!(
            endpoint(&result, &name)["bytes_received"].as_u64().unwrap(),
            n * len,
            "{name}: every body byte counted, nothing of the framing"
        );
    }
    // Chunked and interim responses keep the connection; HTTP/1.0 without keep-alive does not.
    let conns = server.seen.connections.load(Ordering::Relaxed);
    assert!(conns >= server.seen.requests("/http10"));
}

#[test]
fn a_no_content_answer_keeps_its_connection() {
    let _machine = shared();
    let server = fault_server();
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"closed\"\nusers = 2\nwarmup = \"0s\"\nduration = \"1s\"",
        "2s",
        &[("/no-content", "expect = { status = [204] }")],
    ));
    let result = run(&work, Duration::from_secs(20));
    let n = requests(&result, "GET /no-content");
    assert!(n > 50, "{n}");
    assert_eq!(error_count(&result, "GET /no-content", "total"), 0);
    // Two users, two connections: a 204 has no body, so nothing ends the connection.
    assert_eq!(server.seen.connections.load(Ordering::Relaxed), 2);
}

#[test]
fn a_lost_keep_alive_connection_is_retried_only_when_the_request_may_be_repeated() {
    let _machine = shared();
    let server = fault_server();
    let work = Work::with_profile(&profile(
        &server.url,
        "model = \"closed\"\nusers = 1\nwarmup = \"0s\"\nduration = \"1s\"",
        "2s",
        &[("/flaky", "")],
    ));
    let result = run(&work, Duration::from_secs(20));
    // GET: the second request on each connection is lost and sent again on a new connection.
    let n = requests(&result, "GET /flaky");
    assert!(n > 10);
    assert_eq!(
        error_count(&result, "GET /flaky", "total"),
        0,
        "{}",
        errors(&result, "GET /flaky")
    );
    // POST: the server may have acted on it, so it is not repeated: every second one fails.
    let server = fault_server();
    let post = profile(
        &server.url,
        "model = \"closed\"\nusers = 1\nwarmup = \"0s\"\nduration = \"1s\"",
        "2s",
        &[("POST /flaky", "")],
    );
    let work = Work::with_profile(&post);
    let result = run(&work, Duration::from_secs(20));
    let n = requests(&result, "POST /flaky");
    let failed = error_count(&result, "POST /flaky", "reset");
    assert!(n > 10 && failed > 0, "{}", errors(&result, "POST /flaky"));
    assert_eq!(error_count(&result, "POST /flaky", "total"), failed);
    // Each POST reached the server once: none was sent twice.
    assert!(
        server.seen.requests("/flaky") <= n + 1,
        "{} POSTs seen for {n}",
        server.seen.requests("/flaky")
    );
}

#[test]
fn a_host_header_in_the_profile_replaces_perfgates() {
    let _machine = shared();
    let server = serve(fast_router());
    let work = ProfileBuilder::new(&server.url)
        .target_line(r#"headers = { Host = "tickets.example", "Content-Length" = "999" }"#)
        .raw("[[scenario]]\nname = \"s\"\n[[scenario.step]]\nrequest = \"POST /v\"\nbody = \"abc\"\n")
        .work();
    let result = work.run_ok();
    assert_eq!(error_count(&result, "POST /v", "total"), 0, "{result:#}");
    let seen = server.log.all();
    assert!(!seen.is_empty());
    for s in &seen {
        let hosts: Vec<_> = s.headers.get_all("host").iter().collect();
        assert_eq!(hosts, ["tickets.example"], "one Host header, the profile's");
        let lengths: Vec<_> = s.headers.get_all("content-length").iter().collect();
        assert_eq!(lengths, ["3"], "perfgate frames the body itself");
        assert_eq!(&s.body[..], b"abc");
    }
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced_before_a_post() {
    let _machine = shared();
    let server = fault_server();
    let text = profile(
        &server.url,
        "model = \"closed\"\nusers = 1\nwarmup = \"0s\"\nduration = \"3s\"",
        "2s",
        &[("POST /idle-close", "body = \"x\"")],
    )
    .replace(
        "name = \"POST /idle-close\"\n",
        "name = \"POST /idle-close\"\nthink_time = \"0.6s\"\n",
    );
    let work = Work::with_profile(&text);
    let result = run(&work, Duration::from_secs(20));
    let n = requests(&result, "POST /idle-close");
    assert!(n >= 3, "{n}");
    // Each POST finds its connection closed by the server's keep-alive timeout; perfgate sees
    // that before sending (a POST is never sent twice) and opens a new one.
    assert_eq!(
        error_count(&result, "POST /idle-close", "total"),
        0,
        "{}",
        errors(&result, "POST /idle-close")
    );
    assert_eq!(server.seen.requests("/idle-close"), n);
}
