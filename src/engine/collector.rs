//! Gathers the workers' 1-second windows into one trial: exact totals per endpoint, the measured
//! windows for time series and block statistics, and each second's summary for the event
//! stream.

use std::collections::BTreeMap;

use super::convert::{endpoint_result_with, window_result};
use super::events::SecondSummary;
use super::phases::PhaseBook;
use crate::metrics::{EndpointDelta, EndpointWindow, WindowData};
use crate::result::{add_samples, decode_histogram, ErrorSampleWire, TrialResult, WindowResult};

pub struct TrialCollector {
    names: Vec<String>,
    scenarios: Vec<String>,
    /// Stages, flows and the load per second.
    book: PhaseBook,
    totals: Vec<EndpointWindow>,
    /// Per measured second, per endpoint: open while workers may still report it, then sealed
    /// (encoded as the result file holds it, a few hundred bytes), so memory stays flat over a
    /// long run.
    windows: Vec<Slot>,
    /// For encoding windows: one histogram, reset between uses.
    scratch: EndpointWindow,
    iterations: u64,
    dropped: u64,
    /// Seconds (warmup included) not yet summarised for the event stream, per endpoint.
    recent: BTreeMap<i64, Vec<EndpointDelta>>,
    /// The newest second summarised.
    summarised: i64,
    samples: Vec<Vec<ErrorSampleWire>>,
}

/// Workers report a second once it is over; one reported this many seconds after the newest is
/// not expected, so older seconds are sealed.
const SEAL_AFTER: usize = 3;

#[derive(Clone)]
enum Slot {
    Open(Vec<EndpointDelta>),
    Sealed(Vec<WindowResult>),
}

impl TrialCollector {
    /// A collector for a trial of `measured_windows` seconds (after the warmup) of `names`'
    /// endpoints and `scenarios`, in `phases`, the shape asking for `asked[w]` in second w.
    pub fn new(
        names: Vec<String>,
        scenarios: Vec<String>,
        phases: Vec<crate::config::Phase>,
        asked: Vec<f64>,
    ) -> Self {
        let n = names.len();
        let measured_windows = asked.len();
        TrialCollector {
            book: PhaseBook::new(phases, asked, n, scenarios.len()),
            scenarios,
            totals: (0..n).map(|_| EndpointWindow::new()).collect(),
            windows: (0..measured_windows.max(1))
                .map(|_| Slot::Open(vec![EndpointDelta::default(); n]))
                .collect(),
            scratch: EndpointWindow::new(),
            names,
            iterations: 0,
            dropped: 0,
            recent: BTreeMap::new(),
            summarised: i64::MIN,
            samples: vec![Vec::new(); n],
        }
    }

    pub fn absorb(&mut self, d: WindowData) {
        self.note_recent(&d);
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
        self.book.absorb(d.window as usize, &d);
        for (i, delta) in d.endpoints.iter().enumerate() {
            if delta.requests == 0 {
                continue;
            }
            delta.add_to(&mut self.totals[i]);
            match &mut self.windows[w] {
                Slot::Open(eps) => eps[i].merge(delta),
                Slot::Sealed(eps) => {
                    // A very late report: add it to the encoded window (rare, exact).
                    self.scratch.reset();
                    if let Ok(h) = decode_histogram(&eps[i].histogram) {
                        let _ = self.scratch.latency.add(h);
                    }
                    delta.add_to(&mut self.scratch);
                    let mut merged = window_result(&self.scratch);
                    merged.requests += eps[i].requests;
                    merged.errors += eps[i].errors;
                    eps[i] = merged;
                }
            }
        }
        if let Some(before) = w.checked_sub(SEAL_AFTER) {
            self.seal_through(before);
        }
    }

    /// Seals every open window up to and including `last`.
    fn seal_through(&mut self, last: usize) {
        let last = last.min(self.windows.len().saturating_sub(1));
        for slot in self.windows[..=last].iter_mut().rev() {
            let Slot::Open(eps) = slot else {
                break; // everything before a sealed window is sealed
            };
            let sealed = eps
                .iter()
                .map(|delta| {
                    self.scratch.reset();
                    delta.add_to(&mut self.scratch);
                    window_result(&self.scratch)
                })
                .collect();
            *slot = Slot::Sealed(sealed);
        }
    }

    fn note_recent(&mut self, d: &WindowData) {
        // A straggler from a second already summarised is in the totals, not in the stream.
        if d.window <= self.summarised {
            return;
        }
        let eps = self
            .recent
            .entry(d.window)
            .or_insert_with(|| vec![EndpointDelta::default(); d.endpoints.len()]);
        for (into, e) in eps.iter_mut().zip(&d.endpoints) {
            into.merge(e);
        }
    }

    /// Per endpoint and in all, what second `window` measured; seconds up to it are forgotten.
    /// Workers send a second once it is over, so a second asked for shortly after its end is
    /// complete (but for a worker whose report is a few milliseconds behind).
    pub fn take_second(&mut self, window: i64) -> (Vec<SecondSummary>, SecondSummary) {
        self.summarised = self.summarised.max(window);
        let later = self.recent.split_off(&(window + 1));
        let done = std::mem::replace(&mut self.recent, later);
        let n = self.names.len();
        let eps = done
            .get(&window)
            .cloned()
            .unwrap_or_else(|| vec![EndpointDelta::default(); n]);
        let mut all = EndpointDelta::default();
        let per: Vec<SecondSummary> = eps
            .into_iter()
            .map(|mut e| {
                all.merge(&e);
                SecondSummary::from_pairs(e.requests, e.errors.total(), &mut e.latency)
            })
            .collect();
        let total = SecondSummary::from_pairs(all.requests, all.errors.total(), &mut all.latency);
        (per, total)
    }

    /// The trial's result. `measured_s` is how much of the measured part ran.
    pub fn finish(
        mut self,
        index: u32,
        started_at: String,
        complete: bool,
        measured_s: f64,
    ) -> TrialResult {
        let ran = (measured_s.ceil() as usize).clamp(1, self.windows.len());
        self.seal_through(ran - 1);
        let mut samples = std::mem::take(&mut self.samples);
        let endpoints = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let windows = self.windows[..ran]
                    .iter()
                    .map(|slot| match slot {
                        Slot::Sealed(eps) => eps[i].clone(),
                        Slot::Open(_) => unreachable!("sealed above"),
                    })
                    .collect();
                let mut e = endpoint_result_with(name, &self.totals[i], windows, measured_s);
                e.error_samples = std::mem::take(&mut samples[i]);
                e
            })
            .collect();
        let (stages, load, flows) = self
            .book
            .finish(&self.names, &self.scenarios, ran, measured_s);
        TrialResult {
            index,
            started_at,
            complete,
            measured_s,
            iterations: self.iterations,
            dropped_iterations: self.dropped,
            endpoints,
            stages,
            load,
            flows,
            resources: None,
            start_unix_ms: None,
            late_ms: None,
            run: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::decode_histogram;

    fn data(window: i64, latencies_us: &[u64]) -> WindowData {
        WindowData {
            window,
            endpoints: vec![EndpointDelta {
                latency: latencies_us.iter().map(|&v| (v, 1)).collect(),
                requests: latencies_us.len() as u64,
                ..Default::default()
            }],
            iterations: latencies_us.len() as u64,
            dropped: 0,
            flows: Vec::new(),
            active_users: 0,
            in_flight: 0,
            samples: Vec::new(),
        }
    }

    #[test]
    fn sealed_windows_hold_exactly_what_was_reported_even_late() {
        let phases = vec![crate::config::Phase {
            name: "steady".into(),
            first_window: 0,
            windows: 10,
            target: 1.0,
        }];
        let mut c = TrialCollector::new(vec!["GET /a".into()], Vec::new(), phases, vec![1.0; 10]);
        for w in 0..10 {
            c.absorb(data(w, &[1000 + w as u64, 2000]));
        }
        // Window 1 was sealed long ago; a straggler still lands in it, exactly.
        c.absorb(data(1, &[5000]));
        let t = c.finish(0, String::new(), true, 10.0);
        let e = &t.endpoints[0];
        assert_eq!(e.requests, 21);
        assert_eq!(e.windows.len(), 10);
        assert_eq!(e.windows[1].requests, 3);
        let h = decode_histogram(&e.windows[1].histogram).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h.max(), h.highest_equivalent(5000));
        for (w, window) in e.windows.iter().enumerate() {
            let h = decode_histogram(&window.histogram).unwrap();
            assert_eq!(h.min(), h.lowest_equivalent(1000 + w as u64), "window {w}");
        }
    }
}
