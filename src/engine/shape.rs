//! The load level over a trial: a piecewise-linear function of time, and what follows from it —
//! when closed-model user *i* is active, and when open-model iteration *k* is due.

/// Points (seconds since trial start, level), linear in between, flat after the last point.
#[derive(Debug, Clone)]
pub struct Shape {
    points: Vec<(f64, f64)>,
    /// Cumulative iterations (integral of the level) at each point, for the open model.
    cumulative: Vec<f64>,
}

impl Shape {
    pub fn new(points: Vec<(f64, f64)>) -> Self {
        let mut points = points;
        if points.is_empty() {
            points.push((0.0, 0.0));
        }
        let mut cumulative = vec![0.0];
        for w in points.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let last = cumulative[cumulative.len() - 1];
            cumulative.push(last + (t1 - t0) * (v0 + v1) / 2.0);
        }
        Shape { points, cumulative }
    }

    pub fn level_at(&self, t: f64) -> f64 {
        let p = &self.points;
        if t <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t <= t1 {
                return if t1 > t0 {
                    v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                } else {
                    v1
                };
            }
        }
        p[p.len() - 1].1
    }

    /// Closed model: user `i` (0-based) runs while the level is at least `i + 1`.
    pub fn user_active(&self, i: u64, t: f64) -> bool {
        self.level_at(t) + 1e-9 >= (i + 1) as f64
    }

    /// The first time ≥ `t` at which user `i` is active, if it ever is.
    pub fn next_active(&self, i: u64, t: f64) -> Option<f64> {
        let need = (i + 1) as f64 - 1e-9;
        if self.level_at(t) >= need {
            return Some(t);
        }
        for w in self.points.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t1 < t || v1 < need {
                continue;
            }
            let cross = if v0 >= need || t1 <= t0 {
                t0
            } else {
                t0 + (need - v0) / (v1 - v0) * (t1 - t0)
            };
            return Some(cross.max(t));
        }
        None
    }

    /// Open model: the time (seconds since trial start) at which iteration `k` (0-based) is
    /// due, i.e. where the integral of the rate reaches `k`. `None` if not before `end`.
    pub fn due_time(&self, k: u64, end: f64) -> Option<f64> {
        let k = k as f64;
        let p = &self.points;
        for (i, w) in p.windows(2).enumerate() {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let (c0, c1) = (self.cumulative[i], self.cumulative[i + 1]);
            if k < c1 {
                let need = k - c0;
                let dt = t1 - t0;
                let slope = if dt > 0.0 { (v1 - v0) / dt } else { 0.0 };
                let x = if slope.abs() < 1e-12 {
                    if v0 <= 0.0 {
                        continue;
                    }
                    need / v0
                } else {
                    // need = v0·x + slope·x²/2
                    let disc = (v0 * v0 + 2.0 * slope * need).max(0.0);
                    (disc.sqrt() - v0) / slope
                };
                let t = t0 + x.clamp(0.0, dt);
                return (t < end).then_some(t);
            }
        }
        let (t_last, v_last) = p[p.len() - 1];
        if v_last <= 0.0 {
            return None;
        }
        let t = t_last + (k - self.cumulative[self.cumulative.len() - 1]) / v_last;
        (t < end).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_rate_is_evenly_spaced() {
        let s = Shape::new(vec![(0.0, 100.0), (10.0, 100.0)]);
        assert_eq!(s.due_time(0, 10.0), Some(0.0));
        assert!((s.due_time(150, 10.0).unwrap() - 1.5).abs() < 1e-9);
        assert_eq!(
            s.due_time(1000, 10.0),
            None,
            "the 1001st iteration would be at 10 s"
        );
        let count = (0..).take_while(|&k| s.due_time(k, 10.0).is_some()).count();
        assert_eq!(count, 1000);
    }

    #[test]
    fn a_ramp_integrates_to_the_area_under_it() {
        // 0 → 100/s over 10 s: 500 iterations, denser at the end.
        let s = Shape::new(vec![(0.0, 0.0), (10.0, 100.0)]);
        let count = (0..).take_while(|&k| s.due_time(k, 10.0).is_some()).count();
        assert!((499..=501).contains(&count), "{count}");
        let half = s.due_time(125, 10.0).unwrap();
        assert!(
            (half - 5.0).abs() < 0.01,
            "a quarter of the area is reached at half time: {half}"
        );
        // Flat after the last point.
        assert!((s.due_time(600, 20.0).unwrap() - 11.0).abs() < 1e-6);
    }

    #[test]
    fn users_start_along_the_ramp_and_stop_when_it_falls() {
        let s = Shape::new(vec![(0.0, 0.0), (10.0, 10.0), (20.0, 10.0), (30.0, 0.0)]);
        assert!(!s.user_active(0, 0.0));
        assert!(s.user_active(0, 1.0));
        assert!(!s.user_active(9, 9.5));
        assert!(s.user_active(9, 10.0));
        assert!((s.next_active(4, 0.0).unwrap() - 5.0).abs() < 1e-6);
        assert_eq!(s.next_active(4, 7.0), Some(7.0));
        assert!(
            !s.user_active(9, 21.0),
            "the ramp down stops the last users first"
        );
        assert!(s.user_active(0, 29.0));
        assert_eq!(s.next_active(10, 0.0), None, "an 11th user never runs");
        let flat = Shape::new(vec![(0.0, 3.0), (5.0, 3.0)]);
        assert!(flat.user_active(2, 0.0) && !flat.user_active(3, 0.0));
    }
}
