//! The run's life cycle: interrupted runs still write a (partial) result and exit 130; a target
//! perfgate starts is stopped with everything it started; a target that never becomes ready, dies
//! early, or whose port is taken makes the run fail with exit 3 and a message saying why.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Set (with `PIDS_VAR`) on perfgate when this test binary is the target perfgate starts.
const ADDR_VAR: &str = "PERFGATE_TEST_TARGET_ADDR";
/// Where the started target writes its pid and its own child's pid.
const PIDS_VAR: &str = "PERFGATE_TEST_TARGET_PIDS";

/// Not a check of its own: when perfgate starts this test binary as a profile's `target.start`
/// (filtered to this test, with `ADDR_VAR` and `PIDS_VAR` set), it starts a child process of
/// its own (`sleep`), writes both pids to a file and serves HTTP on the address until killed.
/// Run normally, without the variables, it returns at once.
#[test]
fn started_target_process() {
    let (Ok(addr), Ok(pids)) = (std::env::var(ADDR_VAR), std::env::var(PIDS_VAR)) else {
        return;
    };
    // Left running: perfgate must stop it with the target's process group.
    let mut child = Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn the target's child");
    let child_pid = child.id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .expect("bind the target's address");
        std::fs::write(&pids, format!("{} {child_pid}\n", std::process::id()))
            .expect("write the pid file");
        axum::serve(listener, fast_router()).await.expect("serve");
    });
    // Not reached: serving ends only when perfgate kills this process.
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `perfgate run` on the directory's profile as a child process (stderr to a file).
fn spawn_perfgate(work: &Work, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.current_dir(work.dir.path())
        .args(["run", "--quiet", "-p", PROFILE, "-o", RESULT])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(work.path("stderr.txt")).expect("stderr file"));
    for var in [
        "PERFGATE_PROFILE",
        "PERFGATE_BASE_URL",
        "PERFGATE_USERS",
        "PERFGATE_RATE",
        "PERFGATE_DURATION",
        "PERFGATE_TRIALS",
        "PERFGATE_WORKERS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start perfgate")
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's.
    let r = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(r, 0, "kill({}, {sig})", child.id());
}

/// Waits for the child to exit (killing it after `timeout`, which fails the test).
fn wait_exit(child: &mut Child, timeout: Duration, work: &Work) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for perfgate") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "perfgate did not exit within {timeout:?}; stderr:\n{}",
                stderr(work)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(work: &Work) -> String {
    std::fs::read_to_string(work.path("stderr.txt")).unwrap_or_default()
}

fn long_run_profile(url: &str) -> String {
    ProfileBuilder::new(url)
        .load("users", 4)
        .load("duration", "30s")
        .raw("[[scenario]]\nname = \"long\"\nthink_time = \"5ms\"\n[[scenario.step]]\nrequest = \"GET /long\"\n")
        .toml()
}

/// Interrupts a 30 s run once the server has seen requests; checks the partial result.
fn interrupted_run_writes_a_partial_result(sig: i32, name: &str) {
    let _machine = shared();
    let server = serve(fast_router());
    let work = Work::with_profile(&long_run_profile(&server.url));
    let mut child = spawn_perfgate(&work, &[]);
    let _cleanup = KillOnDrop(vec![child.id() as i32]);
    assert!(
        server.log.wait_for(20, Duration::from_secs(15)),
        "the load never reached the server; stderr:\n{}",
        stderr(&work)
    );
    signal(&child, sig);
    let status = wait_exit(&mut child, Duration::from_secs(15), &work);
    assert_eq!(
        status.code(),
        Some(130),
        "{status}; stderr:\n{}",
        stderr(&work)
    );

    let result = work.result().unwrap_or_else(|| {
        panic!(
            "an interrupted run writes its result; stderr:\n{}",
            stderr(&work)
        )
    });
    assert_eq!(result["format"], "perfgate/result/v1");
    assert_eq!(result["complete"], false, "{result:#}");
    let reason = result["incomplete_reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no incomplete_reason: {result:#}"));
    assert!(
        reason.contains("interrupt") && reason.contains(name),
        "incomplete_reason {reason:?} should say it was interrupted by {name}"
    );
    let t = trial(&result);
    assert_eq!(t["complete"], false);
    let measured = t["measured_s"].as_f64().expect("measured_s");
    assert!(
        measured < 30.0,
        "measured_s {measured}: the interrupted trial reports the time that ran"
    );
    let n = requests(&result, "GET /long");
    assert!(n > 0, "{result:#}");
    assert!(
        n <= server.log.count("/long") as u64,
        "the result counts {n} requests, the server saw fewer"
    );
}

#[test]
fn sigint_writes_a_partial_result_and_exits_130() {
    interrupted_run_writes_a_partial_result(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_writes_a_partial_result_and_exits_130() {
    interrupted_run_writes_a_partial_result(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_stops_the_started_target_and_its_children() {
    let _machine = shared();
    let work = Work::new();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let exe = std::env::current_exe().expect("this test binary");
    work.write(
        PROFILE,
        &ProfileBuilder::new(&format!("http://{addr}"))
            .target(
                "start",
                format!("'{}' started_target_process --exact --test-threads 1", exe.display()),
            )
            .target("ready", "/health")
            .target("ready_timeout", "20s")
            .target("stop_timeout", "5s")
            .load("users", 2)
            .load("duration", "30s")
            .raw("[[scenario]]\nname = \"long\"\nthink_time = \"10ms\"\n[[scenario.step]]\nrequest = \"GET /long\"\n")
            .toml(),
    );
    let pid_file = work.path("target.pids");
    let mut child = spawn_perfgate(
        &work,
        &[
            (ADDR_VAR, addr.as_str()),
            (PIDS_VAR, pid_file.to_str().expect("a UTF-8 path")),
        ],
    );
    let mut cleanup = KillOnDrop(vec![child.id() as i32]);
    let pids: Vec<i32> = wait_for_file(&pid_file, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("the target never started; stderr:\n{}", stderr(&work)))
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    cleanup.0.extend(&pids);
    // Let the load run for a moment against the target.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        pids.iter().all(|&p| !process_gone(p)),
        "the target is running during the load"
    );
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(20), &work);
    assert_eq!(
        status.code(),
        Some(130),
        "{status}; stderr:\n{}",
        stderr(&work)
    );
    let result = work.result().expect("an interrupted run writes its result");
    assert_eq!(result["complete"], false);
    assert!(
        requests(&result, "GET /long") > 0,
        "the load ran against the started target: {result:#}"
    );
    for pid in pids {
        assert!(
            wait_gone(pid, Duration::from_secs(2)),
            "process {pid} of the started target is still running after perfgate exited"
        );
    }
}

/// A `start` command that records its pid in `target.pid` and then becomes `sleep 30`.
const SLEEPING_TARGET: &str = "sh -c 'echo $$ > target.pid; exec sleep 30'";

fn read_pid(path: &Path) -> i32 {
    wait_for_file(path, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{} was not written", path.display()))
        .trim()
        .parse()
        .expect("a pid")
}

#[test]
fn a_target_that_is_never_ready_fails_the_run_with_exit_3_and_is_stopped() {
    let _machine = shared();
    let port = free_port();
    let work = ProfileBuilder::new(&format!("http://127.0.0.1:{port}"))
        .target("start", SLEEPING_TARGET)
        .target("ready", "/health")
        .target("ready_timeout", "1s")
        .scenario("never", &["GET /"])
        .work();
    let run = work.run(&[]);
    let pid = read_pid(&work.path("target.pid"));
    let _cleanup = KillOnDrop(vec![pid]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stderr.contains("not ready within 1s"),
        "stderr should say the target was not ready: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/health"),
        "stderr should say what was probed: {}",
        run.stderr
    );
    assert!(run.result.is_none(), "nothing was measured: no result file");
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "the started `sleep 30` (pid {pid}) is still running"
    );
}

#[test]
fn a_target_that_exits_before_ready_fails_the_run_with_its_output() {
    let _machine = shared();
    let port = free_port();
    let work = ProfileBuilder::new(&format!("http://127.0.0.1:{port}"))
        .target("start", "sh -c 'echo boom >&2; exit 1'")
        .target("ready", "/health")
        .target("ready_timeout", "15s")
        .scenario("never", &["GET /"])
        .work();
    let run = work.run(&[]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stderr.contains("boom"), "{}", run.stderr);
    assert!(
        run.stderr.contains("exited") && run.stderr.contains("exit code 1"),
        "stderr should say the target exited and how: {}",
        run.stderr
    );
    assert!(run.result.is_none());
}

#[test]
fn a_start_with_the_port_already_taken_fails_without_starting_anything() {
    let _machine = shared();
    let server = serve(fast_router());
    let work = ProfileBuilder::new(&server.url)
        .target("start", "sh -c 'touch started; exec sleep 30'")
        .target("ready", "/health")
        .target("ready_timeout", "2s")
        .scenario("x", &["GET /"])
        .work();
    let run = work.run(&[]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(
        run.stderr.contains("already listening") && run.stderr.contains(&server.addr.to_string()),
        "stderr should say the port is taken: {}",
        run.stderr
    );
    assert!(
        !work.path("started").exists(),
        "the start command ran although the port was taken"
    );
    assert!(
        server.log.is_empty(),
        "no load goes to whatever holds the port"
    );
    assert!(run.result.is_none());
}

#[test]
fn sigint_while_waiting_for_the_target_exits_130_and_stops_it() {
    let _machine = shared();
    let port = free_port();
    let work = ProfileBuilder::new(&format!("http://127.0.0.1:{port}"))
        .target("start", SLEEPING_TARGET)
        .target("ready", "/health")
        .target("ready_timeout", "30s")
        .scenario("never", &["GET /"])
        .work();
    let mut child = spawn_perfgate(&work, &[]);
    let mut cleanup = KillOnDrop(vec![child.id() as i32]);
    let pid = read_pid(&work.path("target.pid"));
    cleanup.0.push(pid);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(20), &work);
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "the started `sleep 30` (pid {pid}) is still running"
    );
    assert_eq!(
        status.code(),
        Some(130),
        "{status}; stderr:\n{}",
        stderr(&work)
    );
}
