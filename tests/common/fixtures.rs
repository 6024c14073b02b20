//! Synthetic results with known distributions, for the gate's tests.

use perfgate::engine::convert::endpoint_result;
use perfgate::metrics::{EndpointWindow, ErrorKind};
use perfgate::result::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a synthetic service behaves.
#[derive(Clone, Copy)]
pub struct Service {
    /// Median latency, ms.
    pub median_ms: f64,
    /// Trial-to-trial noise: the sd of each trial's log-scale factor.
    pub trial_noise: f64,
    /// Share of requests that fail with a 500.
    pub error_rate: f64,
}

pub const STEADY: Service = Service {
    median_ms: 20.0,
    trial_noise: 0.02,
    error_rate: 0.0,
};

pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.gen_range(1e-12..1.0), rng.gen());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A result with `trials` trials of 10 one-second windows, 300 requests each, per endpoint.
pub fn synth(endpoints: &[(&str, Service)], trials: usize, seed: u64) -> RunResult {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for t in 0..trials {
        let mut eps = Vec::new();
        for (name, s) in endpoints {
            let factor = (s.trial_noise * normal(&mut rng)).exp();
            let mut total = EndpointWindow::new();
            let mut windows = Vec::new();
            for _ in 0..10 {
                let mut w = EndpointWindow::new();
                for _ in 0..300 {
                    w.requests += 1;
                    if rng.gen::<f64>() < s.error_rate {
                        w.errors.add(ErrorKind::Status(500), 1);
                        continue;
                    }
                    let ms = s.median_ms * factor * (0.35 * normal(&mut rng)).exp();
                    w.latency.saturating_record((ms * 1000.0) as u64);
                }
                total.merge(&w);
                windows.push(w);
            }
            eps.push(endpoint_result(name, &total, &windows, 10.0));
        }
        out.push(TrialResult {
            index: t as u32,
            started_at: "2026-11-23T00:00:00Z".into(),
            complete: true,
            measured_s: 10.0,
            iterations: 3000,
            dropped_iterations: 0,
            endpoints: eps,
            stages: Vec::new(),
            load: Vec::new(),
            flows: Vec::new(),
            resources: None,
            start_unix_ms: None,
            late_ms: None,
            run: None,
        });
    }
    RunResult {
        format: FORMAT.into(),
        complete: true,
        incomplete_reason: None,
        aborted: None,
        meta: Meta {
            perfgate_version: "0.1.0".into(),
            profile: ProfileMeta {
                name: "synthetic".into(),
                path: "perfgate.toml".into(),
                hash: "0123456789abcdef".into(),
            },
            git: Some(GitMeta {
                sha: Some(format!("{seed:040x}")),
                branch: Some("main".into()),
                dirty: Some(false),
                pr: None,
            }),
            started_at: "2026-11-23T00:00:00Z".into(),
            host: HostMeta {
                cpu_model: "Test CPU".into(),
                cores: 2,
                os: "linux".into(),
                kernel: "6".into(),
                fingerprint: "feedface".into(),
            },
            load: LoadMeta {
                model: "closed".into(),
                users: Some(10),
                rate: None,
                max_in_flight: None,
                ramp_up_s: 0.0,
                stages: vec![],
                warmup_s: 1.0,
                duration_s: 10.0,
                trials: trials as u32,
                max_trials: None,
                seed: 1,
                iterations_per_user: None,
            },
            base_url: "http://127.0.0.1:8080/".into(),
            source: None,
            shard: None,
            shards: None,
        },
        trials: out,
        client: None,
        capacity: None,
    }
}

pub fn slower(s: Service, factor: f64) -> Service {
    Service {
        median_ms: s.median_ms * factor,
        ..s
    }
}
