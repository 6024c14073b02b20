//! Samples the target's own CPU and memory once a second during a run — an observer of the
//! engine's seconds — and puts each trial's figures (and each stage's) into the result. The
//! run loop tells it which process to read when it (re)starts the target.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::Watch;
use crate::engine::events::{Event, Observer};
use crate::result::{TargetWindow, TrialResult};
use crate::target::resources::{read_pid_file, Sample, Source};
use crate::target::usage;

/// What the sampler and the run loop share.
#[derive(Default)]
struct Shared {
    source: Option<Source>,
    /// Per finished trial: its measured seconds' windows and the requests completed in each.
    trials: BTreeMap<u32, (Vec<TargetWindow>, Vec<u64>)>,
}

/// The run loop's side: says which process the target is, and collects the trials' figures.
#[derive(Clone, Default)]
pub struct SamplerHandle {
    watch: Option<Watch>,
    shared: Arc<Mutex<Shared>>,
}

/// The observer: one sample at the start of each measured second (the end of the warmup's
/// last), one at the end of each.
pub struct TargetSampler {
    handle: SamplerHandle,
    last: Option<Sample>,
    windows: Vec<TargetWindow>,
    requests: Vec<u64>,
    /// Told once that the target could not be read.
    warned: bool,
}

impl SamplerHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The target perfgate started (pid of its `start` shell), or None when it started none.
    pub fn target_started(&self, pid: Option<i32>) {
        let source = match &self.watch {
            None => None,
            Some(Watch::Started) => pid.map(Source::Tree),
            Some(Watch::Pid(p)) => Some(Source::Tree(*p)),
            // Read when each trial starts: the service may write it late, or restart.
            Some(Watch::PidFile(_)) => None,
            Some(Watch::Cgroup(dir)) => Some(Source::Cgroup(dir.clone())),
        };
        self.lock().source = source;
    }

    /// Adds the target's figures to the trials that have them.
    pub fn fill(&self, trials: &mut [TrialResult]) {
        let mut shared = self.lock();
        let describe = shared.source.as_ref().map(Source::describe);
        for t in trials.iter_mut().filter(|t| t.resources.is_none()) {
            let Some((windows, requests)) = shared.trials.remove(&t.index) else {
                continue;
            };
            let source = describe.clone().unwrap_or_else(|| "the target".to_string());
            let total: u64 = requests.iter().sum();
            t.resources = usage::summarize(&source, &windows, total, true);
            for s in t.stages.iter_mut() {
                let end = (s.first_window + s.windows).min(windows.len());
                let from = s.first_window.min(end);
                let n: u64 = requests[from..end].iter().sum();
                s.resources = usage::summarize(&source, &windows[from..end], n, false);
            }
        }
    }
}

impl TargetSampler {
    /// None when the profile gives perfgate no way to see the target.
    pub fn new(watch: Option<Watch>) -> (Option<TargetSampler>, SamplerHandle) {
        let handle = SamplerHandle {
            watch: watch.clone(),
            shared: Arc::default(),
        };
        let sampler = watch.map(|_| TargetSampler {
            handle: handle.clone(),
            last: None,
            windows: Vec::new(),
            requests: Vec::new(),
            warned: false,
        });
        (sampler, handle)
    }

    fn sample(&mut self) -> Option<Sample> {
        let current = self.handle.lock().source.clone();
        let source = match (current, &self.handle.watch) {
            (Some(s), _) => s,
            (None, Some(Watch::PidFile(f))) => match read_pid_file(f) {
                Ok(pid) => {
                    self.handle.lock().source = Some(Source::Tree(pid));
                    Source::Tree(pid)
                }
                Err(e) => {
                    self.warn(&e);
                    return None;
                }
            },
            (None, _) => return None,
        };
        let s = source.sample();
        if s.is_none() {
            self.warn(&format!("cannot read {}", source.describe()));
        }
        s
    }

    fn warn(&mut self, why: &str) {
        if !self.warned {
            self.warned = true;
            eprintln!("note: no target CPU and memory figures: {why}");
        }
    }
}

impl Observer for TargetSampler {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::TrialStarted { .. } => {
                self.windows.clear();
                self.requests.clear();
                if matches!(self.handle.watch, Some(Watch::PidFile(_))) {
                    self.handle.lock().source = None;
                }
                self.last = self.sample();
            }
            Event::Second(s) if s.warmup() => self.last = self.sample(),
            Event::Second(s) => {
                // Only an unbroken run of seconds from the first: each window must be the one
                // of the same index in the result.
                if s.window != self.windows.len() as i64 {
                    return;
                }
                let (Some(prev), Some(now)) = (self.last, self.sample()) else {
                    self.last = None;
                    return;
                };
                self.windows.push(usage::window(&prev, &now));
                self.requests.push(s.total.requests);
                self.last = Some(now);
            }
            Event::TrialEnded { trial, .. } => {
                let windows = std::mem::take(&mut self.windows);
                let requests = std::mem::take(&mut self.requests);
                if !windows.is_empty() {
                    self.handle
                        .lock()
                        .trials
                        .insert(*trial, (windows, requests));
                }
            }
            _ => {}
        }
    }
}
