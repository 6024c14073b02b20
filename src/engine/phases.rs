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
            });
        }
        let mut load = self.load;
        load.truncate(ran);
        (stages, load, flows)
    }
}
