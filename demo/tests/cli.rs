//! Tests of the `perfgate-demo` binary: arguments, environment checks, and a
//! real start / request / SIGTERM / clean exit cycle.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_perfgate-demo");

fn clean_command() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("PERFGATE_DEMO_SLOWDOWN")
        .env_remove("PERFGATE_DEMO_ERROR_RATE")
        .env_remove("PERFGATE_DEMO_THREADS");
    command
}

#[test]
fn help_prints_usage() {
    let output = clean_command().arg("--help").output().expect("run");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Usage: perfgate-demo"), "{stdout}");
}

#[test]
fn bad_flag_exits_2() {
    let output = clean_command().arg("--bogus").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--bogus"));
    let output = clean_command().arg("--addr").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn bad_env_exits_2_naming_the_variable() {
    for (name, value) in [
        ("PERFGATE_DEMO_SLOWDOWN", "0"),
        ("PERFGATE_DEMO_SLOWDOWN", "fast"),
        ("PERFGATE_DEMO_ERROR_RATE", "2"),
        ("PERFGATE_DEMO_THREADS", "0"),
    ] {
        let output = clean_command()
            .arg("--addr=127.0.0.1:0")
            .env(name, value)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(name), "{name}={value}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn serves_then_exits_0_on_sigterm() {
    let mut child = clean_command()
        .args(["--addr", "127.0.0.1:0"])
        .env("PERFGATE_DEMO_SLOWDOWN", "1.5")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let prefix = "perfgate-demo listening on http://";
    assert!(first.starts_with(prefix), "{first}");
    assert!(
        first.contains("(slowdown 1.5, error rate 0, no worker limit)"),
        "{first}"
    );
    let addr = first[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();

    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"status":"ok"}"#), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("perfgate-demo did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}
