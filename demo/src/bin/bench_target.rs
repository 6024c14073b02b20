//! `perfgate-bench-target`: the second gate-quality target, of a different kind from the demo
//! (blocking threads, not tokio; fixed work, not simulated queries): a `GET /cpu` endpoint that
//! burns a fixed number of CPU work units (≈8 ms) and a `GET /io` endpoint that waits (≈10 ms),
//! behind a pool of `--workers` slots like a pre-forked application server. The slowdown knob
//! is exact: `PERFGATE_BENCH_SLOWDOWN=1.10` makes every request's CPU work (or wait) 10% longer,
//! no calibration involved, so that a fresh server per run does the same work as the last one.
//!
//!     perfgate-bench-target [--addr 127.0.0.1:18490] [--workers 4]
//!
//! It writes its pid to `$PERFGATE_BENCH_PID_FILE` when set, so a harness can pause it
//! (SIGSTOP/SIGCONT) to disturb one trial. It runs until killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// CPU work units of `/cpu` at slowdown 1: about 8 ms on a 2020s x86 core.
const CPU_UNITS: u64 = 1_900_000;
/// The wait of `/io` at slowdown 1.
const IO_WAIT: Duration = Duration::from_millis(10);

/// A counting semaphore: `--workers` requests are served at once, the others queue.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn acquire(&self) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
    }

    fn release(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
    }
}

/// Exactly `units` rounds of an xorshift-multiply mix, kept from being optimised away.
fn burn(units: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..units {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_mul(0x2545_F491_4F6C_DD1D).wrapping_add(i);
    }
    std::hint::black_box(x)
}

struct Config {
    slowdown: f64,
    slots: Slots,
}

/// Serves one connection's requests (HTTP/1.1 keep-alive, bodies ignored) until it closes.
fn serve(stream: TcpStream, cfg: Arc<Config>) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut out = write_half;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut length = 0usize;
        let mut close = false;
        loop {
            let mut h = String::new();
            match reader.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            } else if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
        }
        if length > 0
            && std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink()).is_err()
        {
            return;
        }
        let (status, body) = match path.split('?').next().unwrap_or("") {
            "/health" => ("200 OK", "{\"status\":\"ok\"}".to_string()),
            "/cpu" => {
                cfg.slots.acquire();
                let v = burn((CPU_UNITS as f64 * cfg.slowdown) as u64);
                cfg.slots.release();
                ("200 OK", format!("{{\"work\":{}}}", v % 1000))
            }
            "/io" => {
                cfg.slots.acquire();
                std::thread::sleep(IO_WAIT.mul_f64(cfg.slowdown));
                cfg.slots.release();
                ("200 OK", "{\"waited\":true}".to_string())
            }
            _ => ("404 Not Found", "{\"error\":\"not found\"}".to_string()),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "connection: close\r\n" } else { "" }
        );
        if out.write_all(response.as_bytes()).is_err() || close {
            return;
        }
    }
}

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:18490".to_string();
    let mut workers = 4usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--addr" => addr = args.next().unwrap_or_default(),
            "--workers" => workers = args.next().and_then(|w| w.parse().ok()).unwrap_or(0),
            "-h" | "--help" => {
                println!("usage: perfgate-bench-target [--addr HOST:PORT] [--workers N]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("perfgate-bench-target: unexpected argument {other:?}");
                return ExitCode::from(2);
            }
        }
    }
    let slowdown = match std::env::var("PERFGATE_BENCH_SLOWDOWN") {
        Err(_) => 1.0,
        Ok(s) => match s.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => f,
            _ => {
                eprintln!(
                    "perfgate-bench-target: PERFGATE_BENCH_SLOWDOWN={s:?} is not a factor > 0"
                );
                return ExitCode::from(2);
            }
        },
    };
    if workers == 0 {
        eprintln!("perfgate-bench-target: --workers needs a number ≥ 1");
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("perfgate-bench-target: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    if let Ok(p) = std::env::var("PERFGATE_BENCH_PID_FILE") {
        let _ = std::fs::write(p, format!("{}\n", std::process::id()));
    }
    let cfg = Arc::new(Config {
        slowdown,
        slots: Slots {
            free: Mutex::new(workers),
            freed: Condvar::new(),
        },
    });
    for stream in listener.incoming().flatten() {
        let cfg = cfg.clone();
        std::thread::spawn(move || serve(stream, cfg));
    }
    ExitCode::SUCCESS
}
