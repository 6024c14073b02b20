//! One engine worker: an OS thread with its own single-threaded tokio runtime, HTTP client
//! (connection pool) and recorder. Users or open-model iterations are split across workers, so
//! nothing on the request path is shared between threads.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::failure::describe_failure;
use super::shape::Shape;
use super::step::{execute, StepCtx};
use super::timer::PreciseTimer;
use super::transport::{self, Transport};
use super::user::{mix, UserState};
use crate::config::{Model, Profile};
use crate::metrics::{Recorder, WindowData};

/// What a worker needs to run its share of one trial.
pub struct WorkerSpec {
    pub profile: Arc<Profile>,
    pub trial: u32,
    pub index: u64,
    pub count: u64,
    /// Told once the worker's runtime and client are built (then dropped, so that the engine
    /// also learns of a worker that failed to start).
    pub ready: Option<UnboundedSender<()>>,
    /// The trial's start instant, sent when every worker is ready (None: abandon).
    pub start: watch::Receiver<Option<Instant>>,
    pub sink: UnboundedSender<WindowData>,
    /// Becomes true when the run must stop now (interrupt, target died).
    pub stop: watch::Receiver<bool>,
}

struct Shared {
    spec: WorkerSpec,
    trial_start: Instant,
    measure_start: Instant,
    end: Instant,
    transport: Transport,
    prefix: String,
    shape: Shape,
    recorder: RefCell<Recorder>,
    /// Cumulative scenario weights, for a weighted pick with one draw.
    cumulative: Vec<u64>,
}

/// Runs the worker to completion on the current thread.
pub fn run(mut spec: WorkerSpec) -> Result<(), String> {
    let ready = spec.ready.take();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a worker runtime: {e}"))?;
    let transport = rt.block_on(transport::for_profile(&spec.profile))?;
    let local = tokio::task::LocalSet::new();
    let profile = spec.profile.clone();
    // Start-up (runtime, client, TLS set-up) happens before the trial's clock starts, so it never
    // shows as latency: report ready, then wait for the common start instant.
    if let Some(r) = ready {
        let _ = r.send(());
    }
    let mut start_rx = spec.start.clone();
    let trial_start = match rt.block_on(start_rx.wait_for(|s| s.is_some())) {
        Ok(s) => s.unwrap_or_else(Instant::now),
        Err(_) => return Ok(()), // the run was abandoned before it started
    };
    let measure_start = trial_start + profile.load.warmup;
    let end = measure_start + profile.load.duration;
    let shared = Rc::new(Shared {
        trial_start,
        measure_start,
        end,
        recorder: RefCell::new(Recorder::new(
            profile.endpoints.len(),
            profile.scenarios.len(),
            measure_start,
            spec.sink.clone(),
        )),
        prefix: profile
            .target
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        shape: Shape::new(profile.load.shape()),
        cumulative: profile
            .scenarios
            .iter()
            .scan(0u64, |acc, s| {
                *acc += s.weight as u64;
                Some(*acc)
            })
            .collect(),
        transport,
        spec,
    });
    local.block_on(&rt, async {
        let mut stop = shared.spec.stop.clone();
        let work = drive(shared.clone());
        // Requests in flight at the end finish within their timeout; past that, give up.
        let hard_end = shared.end + profile.target.request_timeout + Duration::from_secs(1);
        tokio::select! {
            _ = work => {}
            _ = stop.wait_for(|s| *s) => {}
            _ = tokio::time::sleep_until(hard_end.into()) => {}
        }
    });
    drop(local);
    let shared = Rc::try_unwrap(shared)
        .map_err(|_| "worker state still shared after the run".to_string())?;
    shared.recorder.into_inner().finish();
    Ok(())
}

async fn drive(w: Rc<Shared>) {
    let mut tasks = JoinSet::new();
    // Sends each finished second even when no request completes in the next one.
    let ticker = {
        let w = w.clone();
        tokio::task::spawn_local(async move {
            let mut next = w.measure_start;
            loop {
                let now = Instant::now();
                while next <= now {
                    next += Duration::from_secs(1);
                }
                tokio::time::sleep_until((next + Duration::from_millis(5)).into()).await;
                w.recorder.borrow_mut().roll(Instant::now());
            }
        })
    };
    match w.spec.profile.load.model {
        Model::Closed { users } => {
            let mut i = w.spec.index;
            while i < users {
                tasks.spawn_local(closed_user(w.clone(), i));
                i += w.spec.count;
            }
            while tasks.join_next().await.is_some() {}
            // Users with `iterations_per_user` may all be done early: the trial still lasts
            // its length, its last seconds idle, as a single machine's would.
            tokio::time::sleep_until(w.end.into()).await;
        }
        Model::Open { max_in_flight, .. } => {
            let cap = share(max_in_flight, w.spec.index, w.spec.count).max(1);
            open_pacer(w.clone(), cap, &mut tasks).await;
            while tasks.join_next().await.is_some() {}
        }
    }
    ticker.abort();
}

/// Stripe `index`'s share of `total` split over `count` stripes (workers, shards).
pub(super) fn share(total: u64, index: u64, count: u64) -> u64 {
    total / count + u64::from(index < total % count)
}

fn pick_scenario(w: &Shared, draw: u64) -> usize {
    let total = *w.cumulative.last().unwrap_or(&1);
    let r = draw % total.max(1);
    w.cumulative.partition_point(|&c| c <= r)
}

/// One iteration of scenario `s` (its `on_start` steps first, once per user). Returns whether
/// every step succeeded.
async fn iteration(
    w: &Shared,
    user: &mut UserState,
    s: usize,
    mut scheduled: Option<Instant>,
) -> bool {
    let profile = &w.spec.profile;
    let scenario = &profile.scenarios[s];
    let cx = StepCtx {
        transport: &w.transport,
        profile,
        prefix: &w.prefix,
        timeout: profile.target.request_timeout,
    };
    let on_start = if user.started[s] {
        &[][..]
    } else {
        &scenario.on_start[..]
    };
    w.recorder.borrow_mut().iteration_started(s, Instant::now());
    // The flow's duration: from its first step sent (on_start steps, once per user, excluded)
    // to its last response; there is no think time inside an iteration.
    let mut first_sent = None;
    let mut last_done = Instant::now();
    for (n, step) in on_start.iter().chain(scenario.steps.iter()).enumerate() {
        let now = Instant::now();
        if now >= w.end {
            w.recorder.borrow_mut().iteration_failed(s, None, now);
            return false;
        }
        if n == on_start.len() {
            first_sent = Some(now);
        }
        let r = execute(&cx, step, user, scheduled.take()).await;
        last_done = r.done;
        let mut recorder = w.recorder.borrow_mut();
        recorder.record(step.endpoint, r.done, r.outcome);
        if let (Some(kind), Some(cause)) = (r.outcome.error, &r.cause) {
            if recorder.wants_sample(step.endpoint, kind) {
                let text = profile.redact(&describe_failure(step, kind, cause));
                recorder.sample(step.endpoint, kind, text);
            }
        }
        if r.outcome.error.is_some() {
            recorder.iteration_failed(s, Some(step.endpoint), r.done);
            return false;
        }
        drop(recorder);
        if n + 1 == on_start.len() {
            user.started[s] = true;
        }
    }
    let took = last_done.saturating_duration_since(first_sent.unwrap_or(last_done));
    w.recorder
        .borrow_mut()
        .iteration_done(s, Instant::now(), took);
    true
}

async fn closed_user(w: Rc<Shared>, i: u64) {
    let profile = &w.spec.profile;
    let mut user = UserState::new(profile, i, profile.load.seed, w.spec.trial);
    let end = w.end;
    // Every worker starts at the trial's instant, not when its thread happens to be ready.
    tokio::time::sleep_until(w.trial_start.into()).await;
    // Whether this user is counted among the active ones.
    let mut counted = false;
    loop {
        let now = Instant::now();
        if now >= end {
            if counted {
                w.recorder.borrow_mut().user_active(false);
            }
            return;
        }
        let t = now.saturating_duration_since(w.trial_start).as_secs_f64();
        let active = w.shape.user_active(i, t);
        if active != counted {
            w.recorder.borrow_mut().user_active(active);
            counted = active;
        }
        if !active {
            match w.shape.next_active(i, t) {
                Some(at) => {
                    let at = w.trial_start + Duration::from_secs_f64(at);
                    tokio::time::sleep_until(
                        at.min(end).max(now + Duration::from_millis(1)).into(),
                    )
                    .await;
                    continue;
                }
                None => return,
            }
        }
        if profile
            .load
            .iterations_per_user
            .is_some_and(|n| user.iteration >= n)
        {
            if counted {
                w.recorder.borrow_mut().user_active(false);
            }
            return;
        }
        let s = pick_scenario(&w, user.rng.gen());
        iteration(&w, &mut user, s, None).await;
        user.iteration += 1;
        let think = profile.scenarios[s].think_time;
        let pause = if think.max > think.min {
            think.min
                + Duration::from_nanos(
                    user.rng
                        .gen_range(0..=(think.max - think.min).as_nanos() as u64),
                )
        } else {
            think.min
        };
        if !pause.is_zero() {
            tokio::time::sleep_until((Instant::now() + pause).min(end).into()).await;
        }
    }
}

/// The shortest time between two wake-ups of the open-model pacer.
const PACER_TICK: Duration = Duration::from_millis(1);

async fn open_pacer(w: Rc<Shared>, cap: u64, tasks: &mut JoinSet<()>) {
    let in_flight = Rc::new(Cell::new(0u64));
    let pool: Rc<RefCell<Vec<UserState>>> = Rc::new(RefCell::new(Vec::new()));
    let next_user = Rc::new(Cell::new(0u64));
    let length = w.end.saturating_duration_since(w.trial_start).as_secs_f64();
    let (seed, trial) = (w.spec.profile.load.seed, w.spec.trial);
    let mut k = w.spec.index;
    let timer = PreciseTimer::new();
    // Each wake-up of an idle worker costs tens of microseconds of CPU (the thread sleeps and is
    // woken): at high rates the pacer wakes at most every PACER_TICK and starts everything due
    // by then, so an iteration starts at most that late (never early).
    let mut last_wake = Instant::now();
    while let Some(at) = w.shape.due_time(k, length) {
        let due = w.trial_start + Duration::from_secs_f64(at);
        if due > Instant::now() {
            timer.sleep_until(due.max(last_wake + PACER_TICK)).await;
            last_wake = Instant::now();
        }
        // Reap finished iterations so the set does not grow over a long run.
        while tasks.try_join_next().is_some() {}
        if in_flight.get() >= cap {
            w.recorder.borrow_mut().dropped(Instant::now());
        } else {
            in_flight.set(in_flight.get() + 1);
            let (w2, in_flight, pool, next_user) = (
                w.clone(),
                in_flight.clone(),
                pool.clone(),
                next_user.clone(),
            );
            tasks.spawn_local(async move {
                let taken = pool.borrow_mut().pop();
                let mut user = taken.unwrap_or_else(|| {
                    let n = next_user.get();
                    next_user.set(n + 1);
                    UserState::new(
                        &w2.spec.profile,
                        w2.spec.index + n * w2.spec.count,
                        seed,
                        trial,
                    )
                });
                let s = pick_scenario(&w2, mix(seed ^ mix(trial as u64) ^ mix(k)));
                iteration(&w2, &mut user, s, Some(due)).await;
                user.iteration += 1;
                pool.borrow_mut().push(user);
                in_flight.set(in_flight.get() - 1);
            });
        }
        k += w.spec.count;
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up() {
        for (total, count) in [(10, 3), (1, 2), (1000, 7), (0, 2)] {
            let sum: u64 = (0..count).map(|i| share(total, i, count)).sum();
            assert_eq!(sum, total);
        }
    }
}
