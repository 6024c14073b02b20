//! What a trial's phases and flows measured, beside the endpoints' totals the collector keeps:
//! per stage and endpoint the exact totals of the stage's seconds, per scenario its iterations
//! (over the trial and per stage), and per measured second the load asked for and achieved.
//! Every second lies in one stage (stage boundaries are whole seconds), so a stage's figures
//! are the sum of its seconds and the stages add up to the trial, exactly.

use super::convert::{endpoint_result_with, flow_result};
use crate::config::{Load, Phase};
use crate::metrics::{EndpointWindow, FlowWindow, WindowData};
use crate::result::{LoadWindow, StageResult};

pub struct PhaseBook {
    phases: Vec<Phase>,
    /// The level the shape asks for in the middle of each measured second.
    asked: Vec<f64>,
    /// Per phase and endpoint; empty with one phase (the trial's totals are its totals).
    stage_totals: Vec<Vec<EndpointWindow>>,
    /// Per phase: completed and dropped iterations.
    stage_counts: Vec<(u64, u64)>,
    /// Per scenario over the trial, and per phase and scenario (empty with one phase).
    flows: Vec<FlowWindow>,
    stage_flows: Vec<Vec<FlowWindow>>,
    load: Vec<LoadWindow>,
}

impl PhaseBook {
    pub fn new(phases: Vec<Phase>, asked: Vec<f64>, endpoints: usize, scenarios: usize) -> Self {
        // With one phase the trial's totals are the phase's: nothing to keep twice.
        let kept = if phases.len() > 1 { phases.len() } else { 0 };
        let load = asked
            .iter()
            .enumerate()
            .map(|(w, &asked)| LoadWindow {
                stage: Load::phase_of(&phases, w),
                asked,
                active_users: 0,
                in_flight: 0,
                started: 0,
                completed: 0,
                dropped: 0,
            })
            .collect();
        PhaseBook {
            stage_totals: (0..kept)
                .map(|_| (0..endpoints).map(|_| EndpointWindow::new()).collect())
                .collect(),
            stage_counts: vec![(0, 0); phases.len()],
            flows: (0..scenarios).map(|_| FlowWindow::new()).collect(),
            stage_flows: (0..kept)
                .map(|_| (0..scenarios).map(|_| FlowWindow::new()).collect())
                .collect(),
            phases,
            asked,
            load,
        }
    }

    /// Adds one worker's data for measured second `w` (a second past the end is counted in the
    /// last; its gauges are not, they belong to no measured second).
    pub fn absorb(&mut self, w: usize, d: &WindowData) {
        let last = self.asked.len().saturating_sub(1);
        let at = w.min(last);
        let phase = Load::phase_of(&self.phases, at);
        if let Some(totals) = self.stage_totals.get_mut(phase) {
            for (into, delta) in totals.iter_mut().zip(&d.endpoints) {
                if delta.requests > 0 {
                    delta.add_to(into);
                }
            }
        }
        if let Some(c) = self.stage_counts.get_mut(phase) {
            c.0 += d.iterations;
            c.1 += d.dropped;
        }
        for (s, f) in d.flows.iter().enumerate() {
            if let Some(into) = self.flows.get_mut(s) {
                f.add_to(into);
            }
            if let Some(into) = self.stage_flows.get_mut(phase).and_then(|p| p.get_mut(s)) {
                f.add_to(into);
            }
        }
        if let Some(l) = self.load.get_mut(at) {
            l.started += d.flows.iter().map(|f| f.started).sum::<u64>();
            l.completed += d.iterations;
            l.dropped += d.dropped;
            if w == at {
                l.active_users += d.active_users;
                l.in_flight += d.in_flight;
            }
        }
    }

    /// The stages (none with one phase), the load of the `ran` seconds that ran, and the flows.
    pub fn finish(
        self,
        endpoints: &[String],
        scenarios: &[String],
        ran: usize,
        measured_s: f64,
    ) -> (
        Vec<StageResult>,
        Vec<LoadWindow>,
        Vec<crate::result::FlowResult>,
    ) {
        let flows = scenarios
            .iter()
            .zip(&self.flows)
            .map(|(n, f)| flow_result(n, f, endpoints, measured_s))
            .collect();
        let mut stages = Vec::new();
        for (i, (totals, flows)) in self.stage_totals.iter().zip(&self.stage_flows).enumerate() {
            let p = &self.phases[i];
            // The part of the stage that ran (all of it, unless the run was cut short).
            let secs = (p.first_window + p.windows)
                .min(ran)
                .saturating_sub(p.first_window);
            let secs = secs as f64;
            stages.push(StageResult {
                name: p.name.clone(),
                first_window: p.first_window,
                windows: p.windows,
                target: p.target,
                measured_s: secs,
                iterations: self.stage_counts[i].0,
                dropped_iterations: self.stage_counts[i].1,
                endpoints: endpoints
                    .iter()
                    .zip(totals)
                    .map(|(n, t)| endpoint_result_with(n, t, Vec::new(), secs))
                    .collect(),
                flows: scenarios
                    .iter()
                    .zip(flows)
                    .map(|(n, f)| flow_result(n, f, endpoints, secs))
                    .collect(),
                resources: None,
            });
        }
        let mut load = self.load;
        load.truncate(ran);
        (stages, load, flows)
    }
}

#[cfg(test)]
mod tests {
    use hdrhistogram::Histogram;
    use proptest::prelude::*;

    use super::*;
    use crate::metrics::{EndpointDelta, ErrorKind, FlowDelta};
    use crate::result::{decode_histogram, new_histogram};

    /// One worker's second: per endpoint (latencies in µs, 500s), per scenario (completed
    /// durations in µs, failures at endpoint 0).
    type Second = (Vec<(Vec<u64>, u64)>, Vec<(Vec<u64>, u64)>);

    fn data(w: usize, s: &Second) -> WindowData {
        let endpoints =
            s.0.iter()
                .map(|(lat, errs)| {
                    let mut e = EndpointWindow::new();
                    for &v in lat {
                        e.latency.record(v).unwrap();
                    }
                    e.requests = lat.len() as u64 + errs;
                    e.errors.add(ErrorKind::Status(500), *errs);
                    EndpointDelta::take(&mut e)
                })
                .collect();
        let flows: Vec<FlowDelta> =
            s.1.iter()
                .map(|(durations, failed)| {
                    let mut f = FlowWindow::new();
                    f.started = durations.len() as u64 + failed;
                    f.completed = durations.len() as u64;
                    for &v in durations {
                        f.duration.record(v).unwrap();
                    }
                    if *failed > 0 {
                        f.fail_at(0, *failed);
                    }
                    FlowDelta::take(&mut f)
                })
                .collect();
        WindowData {
            window: w as i64,
            endpoints,
            iterations: flows.iter().map(|f| f.completed).sum(),
            dropped: 0,
            flows,
            active_users: 1,
            in_flight: 0,
            samples: Vec::new(),
        }
    }

    fn second(endpoints: usize, scenarios: usize) -> impl Strategy<Value = Second> {
        let lat = || prop::collection::vec(1u64..2_000_000, 0..20);
        (
            prop::collection::vec((lat(), 0u64..3), endpoints),
            prop::collection::vec((lat(), 0u64..3), scenarios),
        )
    }

    /// Trials of `seconds` measured seconds, split into stages of the given lengths, several
    /// workers' data per second.
    fn case() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<Vec<Second>>>)> {
        (prop::collection::vec(1usize..4, 2..5), 1usize..4).prop_flat_map(|(lengths, trials)| {
            let seconds: usize = lengths.iter().sum();
            let trial = prop::collection::vec(prop::collection::vec(second(2, 2), 1..3), seconds);
            (Just(lengths), prop::collection::vec(trial, trials))
        })
    }

    fn phases(lengths: &[usize]) -> Vec<Phase> {
        let mut first = 0;
        lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let p = Phase {
                    name: format!("stage {}", i + 1),
                    first_window: first,
                    windows: n,
                    target: i as f64,
                };
                first += n;
                p
            })
            .collect()
    }

    fn hist(encoded: &str) -> Histogram<u64> {
        decode_histogram(encoded).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Per-stage histograms merged over the stages are the trial's; per-trial stage figures
        /// merged over trials are the whole run's.
        #[test]
        fn stages_add_up_to_the_trial_and_trials_to_the_run((lengths, trials) in case()) {
            let names = vec!["GET /a".to_string(), "GET /b".to_string()];
            let scenarios = vec!["one".to_string(), "two".to_string()];
            let seconds: usize = lengths.iter().sum();
            let mut run_total: Vec<Histogram<u64>> = vec![new_histogram(), new_histogram()];
            let mut run_by_stages: Vec<Histogram<u64>> = vec![new_histogram(), new_histogram()];
            for trial in &trials {
                let mut book = PhaseBook::new(phases(&lengths), vec![1.0; seconds], 2, 2);
                let mut totals = [EndpointWindow::new(), EndpointWindow::new()];
                let mut flow_totals = [FlowWindow::new(), FlowWindow::new()];
                for (w, workers) in trial.iter().enumerate() {
                    for s in workers {
                        let d = data(w, s);
                        for (t, e) in totals.iter_mut().zip(&d.endpoints) {
                            e.add_to(t);
                        }
                        for (t, f) in flow_totals.iter_mut().zip(&d.flows) {
                            f.add_to(t);
                        }
                        book.absorb(w, &d);
                    }
                }
                let (stages, load, flows) = book.finish(&names, &scenarios, seconds, seconds as f64);
                prop_assert_eq!(stages.len(), lengths.len());
                prop_assert_eq!(load.len(), seconds);
                for (e, total) in totals.iter().enumerate() {
                    let mut merged = new_histogram();
                    let (mut requests, mut errors) = (0, 0);
                    for s in &stages {
                        let r = &s.endpoints[e];
                        merged.add(hist(&r.histogram)).unwrap();
                        requests += r.requests;
                        errors += r.errors.total;
                        run_by_stages[e].add(hist(&r.histogram)).unwrap();
                    }
                    prop_assert_eq!(&merged, &total.latency);
                    prop_assert_eq!(requests, total.requests);
                    prop_assert_eq!(errors, total.errors.total());
                    run_total[e].add(&total.latency).unwrap();
                }
                for (f, total) in flow_totals.iter().enumerate() {
                    prop_assert_eq!(flows[f].completed, total.completed);
                    prop_assert_eq!(flows[f].failed, total.failed());
                    prop_assert_eq!(&hist(&flows[f].histogram), &total.duration);
                    let mut merged = new_histogram();
                    let (mut completed, mut failed, mut started) = (0, 0, 0);
                    for s in &stages {
                        merged.add(hist(&s.flows[f].histogram)).unwrap();
                        completed += s.flows[f].completed;
                        failed += s.flows[f].failed;
                        started += s.flows[f].started;
                    }
                    prop_assert_eq!(&merged, &total.duration);
                    prop_assert_eq!((completed, failed, started), (total.completed, total.failed(), total.started));
                }
                let per_load: u64 = load.iter().map(|l| l.completed).sum();
                let per_stage: u64 = stages.iter().map(|s| s.iterations).sum();
                prop_assert_eq!(per_load, per_stage);
            }
            prop_assert_eq!(run_by_stages, run_total);
        }
    }
}
