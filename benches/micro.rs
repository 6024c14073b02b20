//! Micro-benchmarks of the two things perfgate does for every request besides I/O: recording
//! the outcome (`Recorder::record`) and rendering templated paths and bodies (`Template::render`).
//! A regression there costs every request; `cargo bench --bench micro` shows it.

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use perfgate::config::template::{Scope, Template, Vars};
use perfgate::metrics::{ErrorKind, Outcome, Recorder};

struct User {
    vars: Vec<Option<String>>,
    row: Vec<String>,
    state: u64,
}

impl Vars for User {
    fn var(&self, slot: usize) -> Option<&str> {
        self.vars.get(slot)?.as_deref()
    }
    fn data(&self, _set: usize, column: usize) -> &str {
        self.row.get(column).map_or("", String::as_str)
    }
    fn user_id(&self) -> u64 {
        42
    }
    fn iteration(&self) -> u64 {
        7
    }
    fn random_u64(&mut self) -> u64 {
        // xorshift: cheap, so the benchmark measures the renderer.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

fn recorder(c: &mut Criterion) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let mut r = Recorder::new(8, 3, start, tx);
    let mut i = 0u64;
    c.bench_function("recorder/record success", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            let outcome = Outcome {
                latency: Duration::from_micros(200 + i % 50_000),
                bytes_received: 512,
                error: None,
            };
            r.record(black_box((i % 8) as usize), start, outcome);
        })
    });
    c.bench_function("recorder/record error", |b| {
        b.iter(|| {
            let outcome = Outcome {
                latency: Duration::from_millis(3),
                bytes_received: 0,
                error: Some(ErrorKind::Status(503)),
            };
            r.record(black_box(3), start, outcome);
        })
    });
    // A second rolls over: the window is sent (sparse histograms) and the recorder resets.
    c.bench_function("recorder/roll a window of 8 endpoints", |b| {
        let mut at = start;
        b.iter(|| {
            for e in 0..8 {
                for k in 0..50u64 {
                    let outcome = Outcome {
                        latency: Duration::from_micros(100 + k * 37),
                        bytes_received: 1,
                        error: None,
                    };
                    r.record(e, at, outcome);
                }
            }
            at += Duration::from_secs(1);
            r.roll(at);
            while rx.try_recv().is_ok() {}
        })
    });
}

fn templates(c: &mut Criterion) {
    let datasets = vec![(
        "accounts".to_string(),
        vec!["username".to_string(), "password".to_string()],
    )];
    let vars = vec!["show_id".to_string(), "token".to_string()];
    let env = |_: &str| None;
    let scope = Scope {
        datasets: &datasets,
        vars: &vars,
        env: &env,
    };
    let mut secrets = Vec::new();
    let path = Template::parse(
        "/api/v1/shows/{{show_id}}/?page={{random_int(1,10)}}",
        &scope,
        &mut secrets,
    )
    .expect("a valid template");
    let body = Template::parse(
        "{\"username\":\"{{accounts.username}}\",\"password\":\"{{accounts.password}}\",\"id\":\"{{uuid}}\"}",
        &scope,
        &mut secrets,
    )
    .expect("a valid template");
    let mut user = User {
        vars: vec![Some("1234".into()), Some("tok".into())],
        row: vec!["user0001".into(), "s3cret-0001".into()],
        state: 0x9E37_79B9_7F4A_7C15,
    };
    let mut out = String::with_capacity(256);
    c.bench_function("template/path with capture and random_int", |b| {
        b.iter(|| {
            out.clear();
            path.render(&mut user, &mut out).expect("renders");
            black_box(&out);
        })
    });
    c.bench_function("template/body with data columns and uuid", |b| {
        b.iter(|| {
            out.clear();
            body.render(&mut user, &mut out).expect("renders");
            black_box(&out);
        })
    });
}

criterion_group!(benches, recorder, templates);
criterion_main!(benches);
