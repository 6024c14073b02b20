//! Shared helpers for the integration tests: real HTTP servers on 127.0.0.1 port 0 (each in its
//! own thread and tokio runtime, recording what they receive), profiles written to a temporary
//! directory, and the real `perfgate` binary run on them with its result file parsed.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

pub mod fixtures;
pub mod profile;

#[allow(unused_imports)]
pub use profile::ProfileBuilder;

// ---------------------------------------------------------------------------------------------
// Keeping measurements apart
// ---------------------------------------------------------------------------------------------

/// Tests in one file run in parallel threads on a 2-core machine. A test whose numbers depend on
/// having the CPU (throughput, achieved rate, latency percentiles) takes this lock exclusively;
/// the others take it shared, so they overlap with each other but never with a measurement.
static LOAD: RwLock<()> = RwLock::new(());

/// For a test whose assertions need the machine to itself.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    LOAD.write().unwrap_or_else(PoisonError::into_inner)
}

/// For a test that puts load on the machine but whose assertions do not depend on speed.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    LOAD.read().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// Test servers
// ---------------------------------------------------------------------------------------------

/// One request as a test server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When the request arrived (before the handler ran).
    pub at: Instant,
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status the handler answered.
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} {}: body is not JSON ({e}): {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body decoded as an `application/x-www-form-urlencoded` form.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// One field of the query string.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_deref()?.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Everything a test server has answered, in order of completion.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub fn all(&self) -> Vec<Seen> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests to exactly this path (without the query).
    pub fn count(&self, path: &str) -> usize {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|s| s.path == path)
            .count()
    }

    /// Requests whose path starts with `prefix`.
    pub fn matching(&self, prefix: &str) -> Vec<Seen> {
        self.all()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
            .collect()
    }

    /// Waits until at least `n` requests have been answered; false on timeout.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.len() >= n
    }

    fn push(&self, s: Seen) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(s);
    }
}

async fn record(State(log): State<Log>, req: Request, next: Next) -> Response {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let seen = Seen {
        at,
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        body: body.clone(),
        status: 0,
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    log.push(Seen {
        status: response.status().as_u16(),
        ..seen
    });
    response
}

/// An HTTP server running `Router` on 127.0.0.1 (a free port) in a background thread with its own
/// tokio runtime. Every request it answers is recorded in `log`. Stopped when dropped.
pub struct TestServer {
    /// e.g. `http://127.0.0.1:41234`
    pub url: String,
    pub addr: SocketAddr,
    pub log: Log,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts `router` on 127.0.0.1:0; returns once the port is bound.
pub fn serve(router: Router) -> TestServer {
    let log = Log::default();
    let app = router.layer(middleware::from_fn_with_state(log.clone(), record));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("test-server-{}", addr.port()))
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                tokio::select! {
                    r = axum::serve(listener, app) => r.expect("test server failed"),
                    _ = stopped => {}
                }
            });
            // Handlers still sleeping (a slow endpoint) are dropped, not awaited.
            rt.shutdown_background();
        })
        .expect("server thread");
    TestServer {
        url: format!("http://{addr}"),
        addr,
        log,
        stop: Some(stop),
        thread: Some(thread),
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A raw TCP server on 127.0.0.1 (a free port): `handle` runs for every accepted connection, on
/// a two-thread runtime in a background thread. Dropping it stops the server and closes every
/// connection at once (as a server that dies does).
pub struct TcpServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

pub fn serve_tcp<F, Fut>(handle: F) -> TcpServer
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("tcp-server-{}", addr.port()))
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let accept = async {
                    loop {
                        if let Ok((sock, _)) = listener.accept().await {
                            tokio::spawn(handle(sock));
                        }
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
            // Every connection task is dropped here, closing its socket.
            rt.shutdown_background();
        })
        .expect("server thread");
    TcpServer {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A router answering every request `200 ok` at once.
pub fn fast_router() -> Router {
    Router::new().fallback(|| async { "ok" })
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------------
// Profiles and runs
// ---------------------------------------------------------------------------------------------

/// A temporary directory holding a profile (`perfgate.toml`), its data files and the result.
pub struct Work {
    pub dir: tempfile::TempDir,
}

pub const PROFILE: &str = "perfgate.toml";
pub const RESULT: &str = "result.json";

impl Work {
    pub fn new() -> Self {
        Work {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// A directory with `toml` written as its `perfgate.toml`.
    pub fn with_profile(toml: &str) -> Self {
        let w = Work::new();
        w.write(PROFILE, toml);
        w
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// `perfgate` with its working directory here and no `PERFGATE_*` setting inherited.
    pub fn perfgate(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("perfgate").expect("the perfgate binary");
        cmd.current_dir(self.dir.path());
        for var in inherited_settings() {
            cmd.env_remove(var);
        }
        // No perfgate invocation in these tests should come near this; it only stops a hang.
        cmd.timeout(Duration::from_secs(60));
        cmd
    }

    /// `perfgate run --quiet -p perfgate.toml -o result.json` plus `extra` arguments.
    pub fn run(&self, extra: &[&str]) -> Run {
        self.run_with(extra, &[])
    }

    /// Like `run`, with environment variables set on the perfgate process.
    pub fn run_with(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let _ = std::fs::remove_file(self.path(RESULT));
        let mut cmd = self.perfgate();
        cmd.args(["run", "--quiet", "-p", PROFILE, "-o", RESULT])
            .args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("perfgate runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            result: read_result(&self.path(RESULT)),
        }
    }

    /// Runs the profile, requires exit 0 and a result file, and returns the parsed result.
    pub fn run_ok(&self) -> Value {
        self.run(&[]).ok()
    }

    /// The parsed result file `name` (relative to the directory); panics if there is none.
    pub fn result_at(&self, name: &str) -> Value {
        read_result(&self.path(name)).unwrap_or_else(|| panic!("no result file {name}"))
    }

    /// The parsed result file, if there is one.
    pub fn result(&self) -> Option<Value> {
        read_result(&self.path(RESULT))
    }
}

/// The settings a perfgate started by a test must not inherit from the developer's or CI's
/// environment: every `PERFGATE_*` variable (profile, overrides, the webhook URL, the HTTP
/// client, the demo's knobs) and every `GITHUB_*` one (Actions, tokens, the API URL), so a test
/// never posts to a real webhook or behaves differently inside a workflow. Read from the
/// environment itself, so a variable added later is cleared too.
pub fn inherited_settings() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("PERFGATE_") || k.starts_with("GITHUB_"))
        .collect()
}

/// The 1-based line of `text` that contains `needle` (which must occur exactly once).
pub fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "{needle:?} must be on exactly one line");
    hits[0]
}

/// Reads and parses a result file; panics if it exists but is not JSON.
pub fn read_result(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}):\n{text}", path.display())),
    )
}

/// What one `perfgate run` did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub result: Option<Value>,
}

impl Run {
    /// Requires exit 0 and a result in format `perfgate/result/v1`; returns the result.
    pub fn ok(self) -> Value {
        assert_eq!(
            self.code,
            Some(0),
            "perfgate run failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        let result = self
            .result
            .unwrap_or_else(|| panic!("exit 0 but no result file; stderr:\n{}", self.stderr));
        assert_eq!(result["format"], "perfgate/result/v1", "{result:#}");
        result
    }
}

// ---------------------------------------------------------------------------------------------
// Reading results
// ---------------------------------------------------------------------------------------------

pub fn u64_at(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what} is not an unsigned integer: {v}"))
}

/// The single trial of a one-trial result.
pub fn trial(result: &Value) -> &Value {
    let trials = result["trials"]
        .as_array()
        .unwrap_or_else(|| panic!("no trials in the result: {result:#}"));
    assert_eq!(trials.len(), 1, "expected one trial");
    &trials[0]
}

/// The endpoints of the single trial.
pub fn endpoints(result: &Value) -> &Vec<Value> {
    trial(result)["endpoints"]
        .as_array()
        .expect("the trial has an endpoints list")
}

/// One endpoint of the single trial, by name.
pub fn endpoint<'a>(result: &'a Value, name: &str) -> &'a Value {
    let eps = endpoints(result);
    eps.iter().find(|e| e["name"] == name).unwrap_or_else(|| {
        let names: Vec<&Value> = eps.iter().map(|e| &e["name"]).collect();
        panic!("no endpoint {name:?} in the result; it has {names:?}")
    })
}

/// Completed requests (successes and errors) of one endpoint.
pub fn requests(result: &Value, name: &str) -> u64 {
    u64_at(&endpoint(result, name)["requests"], name)
}

/// The `errors` object of one endpoint.
pub fn errors<'a>(result: &'a Value, name: &str) -> &'a Value {
    &endpoint(result, name)["errors"]
}

/// One error counter of one endpoint (`total`, `timeout`, `connect`, `check`, `capture`, ...).
pub fn error_count(result: &Value, name: &str, kind: &str) -> u64 {
    let e = errors(result, name);
    match e.get(kind) {
        Some(v) => u64_at(v, kind),
        None => panic!("errors of {name:?} have no {kind:?}: {e}"),
    }
}

/// Unexpected responses with `status` at one endpoint (0 when the status is not listed).
pub fn status_errors(result: &Value, name: &str, status: u16) -> u64 {
    errors(result, name)["status"]
        .get(status.to_string())
        .map_or(0, |v| u64_at(v, "status count"))
}

/// Requests over all endpoints of the single trial.
pub fn total_requests(result: &Value) -> u64 {
    endpoints(result)
        .iter()
        .map(|e| u64_at(&e["requests"], "requests"))
        .sum()
}

/// Errors over all endpoints of the single trial.
pub fn total_errors(result: &Value) -> u64 {
    endpoints(result)
        .iter()
        .map(|e| u64_at(&e["errors"]["total"], "errors.total"))
        .sum()
}

/// A latency percentile (`p50`, `p99`, ...) of one endpoint, in ms.
pub fn latency_ms(result: &Value, name: &str, which: &str) -> f64 {
    let l = &endpoint(result, name)["latency_ms"];
    l[which]
        .as_f64()
        .unwrap_or_else(|| panic!("no latency_ms.{which} for {name:?}: {l}"))
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// Whether process `pid` is gone (a zombie that nobody reaped counts as gone: it runs nothing).
pub fn process_gone(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks whether the process exists.
    let exists = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

/// Waits up to `timeout` for process `pid` to be gone.
pub fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if process_gone(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the listed processes when dropped, so a failing test leaves nothing running.
pub struct KillOnDrop(pub Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if pid > 0 && !process_gone(pid) {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

/// Waits up to `timeout` for a file to exist and be non-empty; returns its contents.
pub fn wait_for_file(path: &Path, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return Some(s);
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
