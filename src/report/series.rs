//! A result over time, as charts draw it: each measured second merged over the trials (second
//! `i` of every trial that has it), then grouped into at most `max_points` points so a soak's
//! hour draws as well as a check's eight seconds. Latencies come from the merged histograms of
//! the seconds, never from averaging percentiles.

use hdrhistogram::Histogram;

use crate::result::RunResult;
use crate::result::{decode_histogram, new_histogram, ratio};

/// A stage drawn as a shaded band: points `from..to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    pub from: usize,
    pub to: usize,
}

/// One endpoint over time (ms; None where it had no successful request).
#[derive(Debug, Clone, Default)]
pub struct EndpointSeries {
    pub name: String,
    pub rps: Vec<f64>,
    pub p50: Vec<Option<f64>>,
    pub p95: Vec<Option<f64>>,
    pub p99: Vec<Option<f64>>,
}

/// Per point, over the trials: the mean of the trials' seconds in it.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Seconds per point (1 unless the run was longer than `max_points` seconds).
    pub step_s: usize,
    pub points: usize,
    pub trials: usize,
    pub bands: Vec<Band>,
    pub rps: Vec<f64>,
    pub errors_per_s: Vec<f64>,
    /// Over all endpoints (ms).
    pub p95: Vec<Option<f64>>,
    pub endpoints: Vec<EndpointSeries>,
    /// Users (closed model) or iterations/s (open) asked for, and what ran: active users or
    /// iterations completed per second. Empty when the result has no per-second load.
    pub asked: Vec<Option<f64>>,
    pub achieved: Vec<Option<f64>>,
    pub dropped_per_s: Vec<Option<f64>>,
    /// The target's cores and resident MB (10^6 bytes); empty when it was not sampled.
    pub cpu_cores: Vec<Option<f64>>,
    pub rss_mb: Vec<Option<f64>>,
}

/// Sums of the (trial, second) cells in one point.
#[derive(Default)]
struct Cell {
    seconds: u64,
    requests: u64,
    errors: u64,
}

fn ms_at(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
}

fn add(into: &mut Histogram<u64>, encoded: &str) -> Result<(), String> {
    let h = decode_histogram(encoded)?;
    into.add(h).map_err(|e| format!("{e:?}"))
}

/// The mean over the cells that have a value; None when none has.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut n, mut s) = (0usize, 0.0);
    for v in values {
        n += 1;
        s += v;
    }
    (n > 0).then(|| s / n as f64)
}

impl Series {
    /// The series of a result; an error names a histogram that does not decode.
    pub fn of(r: &RunResult, max_points: usize) -> Result<Series, String> {
        Series::with_step(r, seconds(r).div_ceil(max_points.max(1)).max(1))
    }

    /// The series with `step` seconds per point (another side's, so that points line up).
    pub fn with_step(r: &RunResult, step: usize) -> Result<Series, String> {
        let seconds = seconds(r);
        let step = step.max(1);
        let points = seconds.div_ceil(step);
        let span = |p: usize| p * step..((p + 1) * step).min(seconds);
        let mut s = Series {
            step_s: step,
            points,
            trials: r.trials.len(),
            ..Series::default()
        };
        if let Some(t) = r.trials.first() {
            s.bands = t
                .stages
                .iter()
                .map(|st| Band {
                    name: st.name.clone(),
                    from: st.first_window / step,
                    to: (st.first_window + st.windows).div_ceil(step).min(points),
                })
                .collect();
        }
        let names = r.endpoint_names();
        let mut all: Vec<Cell> = (0..points).map(|_| Cell::default()).collect();
        let mut all_h: Vec<Histogram<u64>> = (0..points).map(|_| new_histogram()).collect();
        for name in &names {
            let mut e = EndpointSeries {
                name: name.clone(),
                ..EndpointSeries::default()
            };
            for p in 0..points {
                let mut h = new_histogram();
                let mut c = Cell::default();
                for t in &r.trials {
                    let Some(ep) = t.endpoints.iter().find(|x| &x.name == name) else {
                        continue;
                    };
                    for w in span(p).filter_map(|i| ep.windows.get(i)) {
                        c.seconds += 1;
                        c.requests = c.requests.saturating_add(w.requests);
                        c.errors = c.errors.saturating_add(w.errors);
                        add(&mut h, &w.histogram).map_err(|m| format!("{name}: {m}"))?;
                    }
                }
                e.rps.push(ratio(c.requests, c.seconds));
                e.p50.push(ms_at(&h, 0.50));
                e.p95.push(ms_at(&h, 0.95));
                e.p99.push(ms_at(&h, 0.99));
                if let (Some(a), Some(ah)) = (all.get_mut(p), all_h.get_mut(p)) {
                    // Every endpoint covers the same seconds: the first one's count is the point's.
                    a.seconds = a.seconds.max(c.seconds);
                    a.requests = a.requests.saturating_add(c.requests);
                    a.errors = a.errors.saturating_add(c.errors);
                    ah.add(&h).map_err(|e| format!("{e:?}"))?;
                }
            }
            s.endpoints.push(e);
        }
        for (c, h) in all.iter().zip(&all_h) {
            s.rps.push(ratio(c.requests, c.seconds));
            s.errors_per_s.push(ratio(c.errors, c.seconds));
            s.p95.push(ms_at(h, 0.95));
        }
        s.load_and_resources(r, &span);
        Ok(s)
    }

    fn load_and_resources(
        &mut self,
        r: &RunResult,
        span: &dyn Fn(usize) -> std::ops::Range<usize>,
    ) {
        let closed = r.meta.load.model != "open";
        if r.trials.iter().any(|t| !t.load.is_empty()) {
            for p in 0..self.points {
                let cells = || {
                    r.trials
                        .iter()
                        .flat_map(move |t| span(p).filter_map(move |i| t.load.get(i)))
                };
                self.asked.push(mean(cells().map(|w| w.asked)));
                // Closed model: users active at the end of each second; at the end of a
                // trial's last one they are already stopping, so that count is left out.
                let achieved = r.trials.iter().flat_map(|t| {
                    span(p).filter_map(move |i| {
                        let w = t.load.get(i)?;
                        match closed {
                            true if i + 1 == t.load.len() => None,
                            true => Some(w.active_users as f64),
                            false => Some(w.completed as f64),
                        }
                    })
                });
                self.achieved.push(mean(achieved));
                self.dropped_per_s
                    .push(mean(cells().map(|w| w.dropped as f64)));
            }
        }
        fn sampled(t: &crate::result::TrialResult) -> Option<&crate::result::TargetResult> {
            t.resources.as_ref().filter(|x| !x.windows.is_empty())
        }
        if r.trials.iter().any(|t| sampled(t).is_some()) {
            for p in 0..self.points {
                let cells = || {
                    r.trials
                        .iter()
                        .filter_map(sampled)
                        .flat_map(move |x| span(p).filter_map(move |i| x.windows.get(i)))
                };
                self.cpu_cores.push(mean(cells().map(|w| w.cpu_s)));
                self.rss_mb
                    .push(mean(cells().map(|w| w.rss_bytes as f64 / 1e6)));
            }
        }
    }

    /// The seconds since the measured part began at the end of each point.
    pub fn x(&self) -> Vec<f64> {
        (0..self.points)
            .map(|p| ((p + 1) * self.step_s) as f64)
            .collect()
    }
}

/// The longest trial's measured seconds.
fn seconds(r: &RunResult) -> usize {
    r.trials
        .iter()
        .flat_map(|t| t.endpoints.iter().map(|e| e.windows.len()))
        .max()
        .unwrap_or(0)
}

/// Latency (ms) at percentiles from 0 to as far as the count resolves (at most 99.999%), for a
/// percentile plot: `(x, ms)` with x = log10(1 / (1 − q)), so 90% is 1, 99% 2, 99.9% 3.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let reach = (h.len() as f64).log10().clamp(0.0, 5.0);
    let steps = 100;
    (0..=steps)
        .map(|k| reach * k as f64 / steps as f64)
        .map(|x| {
            let q = 1.0 - 10f64.powf(-x);
            (x, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect()
}

/// An endpoint's histogram over all trials; None when the result has none for it.
pub fn merged_histogram(r: &RunResult, name: &str) -> Result<Option<Histogram<u64>>, String> {
    let mut h = new_histogram();
    let mut any = false;
    for e in r
        .trials
        .iter()
        .flat_map(|t| t.endpoints.iter().filter(|e| e.name == name))
    {
        add(&mut h, &e.histogram).map_err(|m| format!("{name}: {m}"))?;
        any = true;
    }
    Ok(any.then_some(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::encode_histogram;

    fn window(requests: u64, us: u64) -> crate::result::WindowResult {
        let mut h = new_histogram();
        h.record_n(us, requests).unwrap();
        crate::result::WindowResult {
            requests,
            errors: 1,
            histogram: encode_histogram(&h),
        }
    }

    #[test]
    fn seconds_merge_over_trials_and_group_into_points() {
        let mut r = crate::result::tests::sample();
        let ep = |w: Vec<crate::result::WindowResult>| {
            let mut e = r.trials[0].endpoints[0].clone();
            e.windows = w;
            e
        };
        let a = ep((0..6).map(|i| window(10, 1000 * (i + 1))).collect());
        let b = ep((0..6).map(|i| window(30, 1000 * (i + 1))).collect());
        r.trials.truncate(1);
        r.trials[0].endpoints = vec![a];
        let mut t2 = r.trials[0].clone();
        t2.endpoints = vec![b];
        r.trials.push(t2);
        let s = Series::of(&r, 3).unwrap();
        assert_eq!((s.step_s, s.points), (2, 3));
        // Two seconds of two trials per point: (10 + 30) × 2 requests over 4 second-cells.
        assert_eq!(s.rps, vec![20.0, 20.0, 20.0]);
        assert_eq!(s.errors_per_s, vec![1.0, 1.0, 1.0]);
        // Half the point's requests took 1 ms, half 2 ms.
        assert_eq!(
            (s.endpoints[0].p50[0], s.endpoints[0].p95[0]),
            (Some(1.0), Some(2.0))
        );
        assert_eq!(s.x(), vec![2.0, 4.0, 6.0]);
        let one = Series::of(&r, 100).unwrap();
        assert_eq!((one.step_s, one.points), (1, 6));
    }

    #[test]
    fn the_percentile_curve_stops_where_the_count_does() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let c = percentile_curve(&h);
        assert_eq!(c.first().map(|p| p.0), Some(0.0));
        assert!((c.last().unwrap().0 - 3.0).abs() < 1e-9);
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
