//! `perfgate-demo [--addr 127.0.0.1:18480]`: runs the demo ticketing API
//! until SIGINT or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use perfgate_demo::{serve, DemoConfig};

const DEFAULT_ADDR: &str = "127.0.0.1:18480";
const THREADS_VAR: &str = "PERFGATE_DEMO_THREADS";
/// After a shutdown signal, in-flight requests get this long to finish.
const GRACE: Duration = Duration::from_secs(10);

const USAGE: &str = "\
perfgate-demo: a sample ticketing API for perfgate to load-test

Usage: perfgate-demo [--addr HOST:PORT]

Options:
  --addr HOST:PORT   address to listen on (default 127.0.0.1:18480)
  -h, --help         print this help

Environment:
  PERFGATE_DEMO_SLOWDOWN    multiply all modelled work by this factor (> 0, default 1)
  PERFGATE_DEMO_ERROR_RATE  fraction of requests answered 500 (0..=1, default 0)
  PERFGATE_DEMO_THREADS     tokio worker threads (default 1)
";

enum Command {
    Run { addr: String },
    Help,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut addr = DEFAULT_ADDR.to_owned();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--addr" => {
                addr = iter
                    .next()
                    .cloned()
                    .ok_or_else(|| "--addr needs a value (HOST:PORT)".to_owned())?;
            }
            other => match other.strip_prefix("--addr=") {
                Some(value) => addr = value.to_owned(),
                None => return Err(format!("unexpected argument {other:?}")),
            },
        }
    }
    if addr.is_empty() {
        return Err("--addr needs a value (HOST:PORT)".to_owned());
    }
    Ok(Command::Run { addr })
}

fn worker_threads() -> Result<usize, String> {
    match std::env::var(THREADS_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(1),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{THREADS_VAR} is not valid UTF-8")),
        Ok(v) if v.trim().is_empty() => Ok(1),
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or_else(|| format!("{THREADS_VAR} must be an integer from 1 to 256, got {v:?}")),
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

async fn run(addr: &str, config: DemoConfig) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("perfgate-demo: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shown = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| addr.to_owned());
    eprintln!(
        "perfgate-demo listening on http://{shown} (slowdown {}, error rate {}, {})",
        config.slowdown,
        config.error_rate,
        config
            .workers
            .map_or("no worker limit".to_owned(), |n| format!("{n} workers"))
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("perfgate-demo: shutting down");
        let _ = tx.send(true);
    });
    let mut server_rx = rx.clone();
    let server = serve(listener, config, async move {
        let _ = server_rx.wait_for(|stop| *stop).await;
    });
    let mut grace_rx = rx;
    let grace = async move {
        let _ = grace_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(GRACE).await;
    };
    tokio::select! {
        result = server => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("perfgate-demo: server error: {e}");
                ExitCode::FAILURE
            }
        },
        () = grace => {
            eprintln!("perfgate-demo: connections still open after {GRACE:?}; exiting");
            ExitCode::SUCCESS
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match parse_args(&args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { addr }) => addr,
        Err(message) => {
            eprintln!(
                "perfgate-demo: {message}\nUsage: perfgate-demo [--addr HOST:PORT] (see --help)"
            );
            return ExitCode::from(2);
        }
    };
    let config = match DemoConfig::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("perfgate-demo: {message}");
            return ExitCode::from(2);
        }
    };
    let threads = match worker_threads() {
        Ok(threads) => threads,
        Err(message) => {
            eprintln!("perfgate-demo: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("perfgate-demo")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("perfgate-demo: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(&addr, config))
}
