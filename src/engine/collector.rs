//! Gathers the workers' 1-second windows into one trial: exact totals per endpoint, the measured
//! windows for time series and block statistics, and what the progress line shows.

use crate::metrics::{EndpointDelta, EndpointWindow, WindowData};
use crate::result::{add_samples, endpoint_result, ErrorSampleWire, TrialResult};

pub struct TrialCollector {
    names: Vec<String>,
    totals: Vec<EndpointWindow>,
    /// Per measured second, per endpoint.
    windows: Vec<Vec<EndpointDelta>>,
    iterations: u64,
    dropped: u64,
    latest_window: Option<i64>,
    latest: EndpointWindow,
    samples: Vec<Vec<ErrorSampleWire>>,
}

/// All endpoints in one second.
#[derive(Debug, Clone, Default)]
pub struct WindowSummary {
    pub window: i64,
    pub requests: u64,
    pub errors: u64,
    pub p95_ms: Option<f64>,
}

impl TrialCollector {
    pub fn new(names: Vec<String>, measured_windows: usize) -> Self {
        let n = names.len();
        TrialCollector {
            totals: (0..n).map(|_| EndpointWindow::new()).collect(),
            windows: (0..measured_windows.max(1))
                .map(|_| vec![EndpointDelta::default(); n])
                .collect(),
            names,
            iterations: 0,
            dropped: 0,
            latest_window: None,
            latest: EndpointWindow::new(),
            samples: vec![Vec::new(); n],
        }
    }

    pub fn absorb(&mut self, d: WindowData) {
        self.note_latest(&d);
        if d.window < 0 {
            return; // warmup: shown, not measured
        }
        for s in &d.samples {
            if let Some(into) = self.samples.get_mut(s.endpoint) {
                let wire = ErrorSampleWire {
                    kind: s.kind.label(),
                    message: s.message.clone(),
                };
                add_samples(into, std::slice::from_ref(&wire));
            }
        }
        // A request that finished after the last second (it started before the end) counts
        // in the last second.
        let w = (d.window as usize).min(self.windows.len() - 1);
        self.iterations += d.iterations;
        self.dropped += d.dropped;
        for (i, delta) in d.endpoints.iter().enumerate() {
            if delta.requests == 0 {
                continue;
            }
            delta.add_to(&mut self.totals[i]);
            self.windows[w][i].merge(delta);
        }
    }

    fn note_latest(&mut self, d: &WindowData) {
        if self.latest_window.is_some_and(|w| w > d.window) {
            return; // a straggler from a second already shown
        }
        if self.latest_window != Some(d.window) {
            self.latest_window = Some(d.window);
            self.latest = EndpointWindow::new();
        }
        for e in &d.endpoints {
            e.add_to(&mut self.latest);
        }
    }

    /// The newest finished second, for the progress line.
    pub fn latest(&self) -> Option<WindowSummary> {
        // Workers send a second only once it is over, so the newest one reported is complete
        // (but for a worker whose report is a few milliseconds behind).
        self.latest_window.map(|w| self.summary(w))
    }

    fn summary(&self, window: i64) -> WindowSummary {
        let h = &self.latest.latency;
        WindowSummary {
            window,
            requests: self.latest.requests,
            errors: self.latest.errors.total(),
            p95_ms: (!h.is_empty()).then(|| h.value_at_quantile(0.95) as f64 / 1000.0),
        }
    }

    /// The trial's result. `measured_s` is how much of the measured part ran.
    pub fn finish(
        self,
        index: u32,
        started_at: String,
        complete: bool,
        measured_s: f64,
    ) -> TrialResult {
        let ran = (measured_s.ceil() as usize).clamp(1, self.windows.len());
        let mut samples = self.samples;
        let endpoints = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let windows: Vec<EndpointWindow> = self.windows[..ran]
                    .iter()
                    .map(|w| {
                        let mut full = EndpointWindow::new();
                        w[i].add_to(&mut full);
                        full
                    })
                    .collect();
                let mut e = endpoint_result(name, &self.totals[i], &windows, measured_s);
                e.error_samples = std::mem::take(&mut samples[i]);
                e
            })
            .collect();
        TrialResult {
            index,
            started_at,
            complete,
            measured_s,
            iterations: self.iterations,
            dropped_iterations: self.dropped,
            endpoints,
        }
    }
}
