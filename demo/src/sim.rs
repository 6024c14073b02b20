//! Latency model: simulated database queries and real CPU work, so every
//! endpoint has a realistic latency shape (median plus a lognormal tail) that
//! scales with the configured `slowdown`.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Spread of the per-request "database load" factor shared by all queries of
/// one request (models contention; keeps the tail of multi-query endpoints).
const REQUEST_SIGMA: f64 = 0.25;
/// Spread of each individual simulated query around its median.
const QUERY_SIGMA: f64 = 0.35;
/// A simulated query never takes longer than this, whatever the slowdown.
const MAX_QUERY: Duration = Duration::from_secs(30);
/// CPU work never exceeds this many hash iterations, whatever the slowdown.
const MAX_ITERATIONS: f64 = 50_000_000.0;
/// Lateness tolerated before a late task is charged for it (wake-up jitter
/// should not accumulate over a request's queries).
const TIMER_SLACK: Duration = Duration::from_millis(1);

static SEED: AtomicU64 = AtomicU64::new(0x5eed_0002_c0ff_ee00);

thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::seed_from_u64(
        SEED.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed),
    ));
}

/// Runs `f` with this thread's fast RNG (no lock shared between threads).
pub(crate) fn with_rng<T>(f: impl FnOnce(&mut SmallRng) -> T) -> T {
    RNG.with(|rng| f(&mut rng.borrow_mut()))
}

/// True with probability `p` (clamped to 0..=1).
pub(crate) fn chance(p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        return true;
    }
    with_rng(|rng| rng.gen::<f64>() < p)
}

/// A standard normal sample (Box-Muller).
fn std_normal(rng: &mut SmallRng) -> f64 {
    // gen::<f64>() is in [0, 1); 1 - u is in (0, 1], so ln() is finite.
    let u1 = 1.0 - rng.gen::<f64>();
    let u2 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `sigma`-lognormal factor with median 1.
fn lognormal_factor(sigma: f64) -> f64 {
    with_rng(|rng| (sigma * std_normal(rng)).exp())
}

/// The modelled work of one request: a virtual clock that simulated queries
/// and CPU work advance. Queries sleep until the clock's deadline, so timer
/// rounding does not add up across queries, but a task the scheduler wakes
/// late is charged for its lateness (overload shows up as latency).
pub(crate) struct Work {
    deadline: Instant,
    slowdown: f64,
    load: f64,
}

impl Work {
    pub(crate) fn start(slowdown: f64) -> Self {
        Work {
            deadline: Instant::now(),
            slowdown,
            load: lognormal_factor(REQUEST_SIGMA),
        }
    }

    /// One simulated database query whose unscaled median is `median_ms`.
    pub(crate) async fn query(&mut self, median_ms: f64) {
        let ms = median_ms * self.load * lognormal_factor(QUERY_SIGMA) * self.slowdown;
        let duration = Duration::try_from_secs_f64(ms / 1000.0)
            .unwrap_or(MAX_QUERY)
            .min(MAX_QUERY);
        let now = Instant::now();
        if now > self.deadline + TIMER_SLACK {
            self.deadline = now - TIMER_SLACK;
        }
        self.deadline += duration;
        crate::timer::sleep_until(self.deadline).await;
    }

    /// Real CPU work: rounds of SHA-256 over `seed` (like a password hash)
    /// taking about `micros` microseconds of CPU, scaled by slowdown.
    /// Returns the digest.
    pub(crate) fn hash(&mut self, seed: &[u8], micros: f64) -> [u8; 32] {
        let started = Instant::now();
        let iterations = (hashes_per_ms() * micros / 1000.0 * self.slowdown)
            .round()
            .clamp(1.0, MAX_ITERATIONS) as u64;
        let digest = iterated_sha256(seed, iterations);
        // The clock moves by the CPU time spent, so the next query starts
        // after it rather than absorbing it.
        self.deadline += started.elapsed();
        digest
    }
}

/// SHA-256 rounds per millisecond of CPU on this machine and build, measured
/// once per process: a fixed iteration count would cost 0.2 ms on a core
/// with SHA extensions, ~1 ms without, and ~15 ms in an unoptimized build.
pub(crate) fn hashes_per_ms() -> f64 {
    static RATE: OnceLock<f64> = OnceLock::new();
    *RATE.get_or_init(|| {
        const BATCH: u64 = 64;
        // Best of three ~1 ms rounds: the least disturbed one is the truth.
        let mut best: f64 = 0.0;
        for _ in 0..3 {
            let started = Instant::now();
            let mut done = 0;
            while started.elapsed() < Duration::from_millis(1) {
                iterated_sha256(b"calibration", BATCH);
                done += BATCH;
            }
            let rate = done as f64 / (started.elapsed().as_secs_f64() * 1000.0);
            best = best.max(rate);
        }
        best.max(1.0)
    })
}

/// `iterations` rounds of SHA-256, each over the previous digest and `seed`.
pub(crate) fn iterated_sha256(seed: &[u8], iterations: u64) -> [u8; 32] {
    let mut digest: [u8; 32] = Sha256::digest(seed).into();
    for _ in 1..iterations {
        let mut hasher = Sha256::new();
        hasher.update(digest);
        hasher.update(seed);
        digest = hasher.finalize().into();
    }
    black_box(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_extremes() {
        assert!(!chance(0.0));
        assert!(chance(1.0));
        assert!((0..100).all(|_| !chance(-1.0)));
    }

    #[test]
    fn lognormal_median_is_about_one() {
        let mut samples: Vec<f64> = (0..4001).map(|_| lognormal_factor(QUERY_SIGMA)).collect();
        samples.sort_by(f64::total_cmp);
        let median = samples[2000];
        assert!((0.9..1.1).contains(&median), "median {median}");
        assert!(samples.iter().all(|s| s.is_finite() && *s > 0.0));
    }

    #[test]
    fn calibrated_cpu_work_takes_about_the_asked_time() {
        let rate = hashes_per_ms();
        assert!(rate >= 1.0);
        let mut work = Work::start(1.0);
        let started = Instant::now();
        work.hash(b"x", 2000.0);
        let took = started.elapsed();
        // Generous bounds: CI machines are noisy.
        assert!(took > Duration::from_micros(500), "{took:?}");
        assert!(took < Duration::from_millis(200), "{took:?}");
    }

    #[test]
    fn hashing_is_deterministic() {
        assert_eq!(iterated_sha256(b"x", 10), iterated_sha256(b"x", 10));
        assert_ne!(iterated_sha256(b"x", 10), iterated_sha256(b"x", 11));
    }
}
