//! Which level to run next: from the start level, step up (add or multiply) until a level
//! breaks; then bisect between the highest level that held and the lowest that broke until
//! their gap is at most the resolution (a fraction of the level that held). Users are whole,
//! so in the closed model a gap of one user is resolved.

use crate::config::CapacityStep;

#[derive(Debug, Clone)]
pub struct Search {
    start: f64,
    step: CapacityStep,
    resolution: f64,
    /// Levels are whole numbers (users).
    whole: bool,
    held: Option<f64>,
    broke: Option<f64>,
}

impl Search {
    pub fn new(start: f64, step: CapacityStep, resolution: f64, whole: bool) -> Search {
        let start = if whole { start.round().max(1.0) } else { start };
        Search {
            start,
            step,
            resolution,
            whole,
            held: None,
            broke: None,
        }
    }

    /// The highest level that held so far.
    pub fn held(&self) -> Option<f64> {
        self.held
    }

    /// The lowest level that broke so far.
    pub fn broke(&self) -> Option<f64> {
        self.broke
    }

    /// Records a level's verdict.
    pub fn record(&mut self, level: f64, held: bool) {
        if held {
            self.held = Some(self.held.map_or(level, |h| h.max(level)));
        } else {
            self.broke = Some(self.broke.map_or(level, |b| b.min(level)));
        }
    }

    /// Whether the bracket is as narrow as asked (or cannot be narrowed: whole users one apart,
    /// or the smallest level broke).
    pub fn resolved(&self) -> bool {
        self.next().is_none()
    }

    /// The next level to run, or None when the search is over.
    pub fn next(&self) -> Option<f64> {
        let tidy = |x: f64| if self.whole { x.round() } else { x };
        match (self.held, self.broke) {
            (None, None) => Some(self.start),
            (Some(h), None) => {
                let up = tidy(match self.step {
                    CapacityStep::Add(n) => h + n,
                    CapacityStep::Times(f) => h * f,
                });
                Some(if self.whole { up.max(h + 1.0) } else { up })
            }
            (low, Some(b)) => {
                let h = low.unwrap_or(0.0);
                let gap = b - h;
                let enough = match low {
                    Some(h) => gap <= self.resolution * h,
                    // Nothing held yet: narrow down to the resolution of the broken level.
                    None => gap <= self.resolution * b,
                };
                // Below this, a broken level is not worth bisecting: the service is down.
                let floor = if self.whole { 1.0 } else { self.start / 64.0 };
                if enough || (self.whole && gap <= 1.0) || b <= floor {
                    return None;
                }
                let mid = tidy((h + b) / 2.0).max(if self.whole { 1.0 } else { f64::MIN });
                (mid > h && mid < b).then_some(mid)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Runs the search against a service that holds every level up to `capacity`.
    fn find(capacity: f64, start: f64, step: CapacityStep, whole: bool) -> (Search, usize) {
        let mut s = Search::new(start, step, 0.1, whole);
        let mut runs = 0;
        while let Some(level) = s.next() {
            runs += 1;
            // Adding 1 at a time from 1 to 5,000 takes 5,000 levels (a budget ends it in real use).
            assert!(runs < 20_000, "the search must end");
            s.record(level, level <= capacity);
        }
        (s, runs)
    }

    #[test]
    fn steps_up_then_bisects_to_the_resolution() {
        let (s, runs) = find(200.0, 50.0, CapacityStep::Times(2.0), false);
        // 50, 100, 200 hold; 400 breaks; 300, 250, 225, 212.5 break.
        assert_eq!((s.held(), s.broke(), runs), (Some(200.0), Some(212.5), 8));
        let (s, _) = find(8.0, 2.0, CapacityStep::Add(3.0), true);
        assert_eq!((s.held(), s.broke()), (Some(8.0), Some(9.0)));
        // The first level breaks: bisect below it.
        let (s, _) = find(3.0, 20.0, CapacityStep::Times(2.0), true);
        assert_eq!((s.held(), s.broke()), (Some(3.0), Some(4.0)));
        let (s, _) = find(0.5, 1.0, CapacityStep::Times(2.0), true);
        assert_eq!((s.held(), s.broke()), (None, Some(1.0)));
    }

    proptest! {
        /// Whatever the capacity and the start, the answer brackets it within the resolution.
        #[test]
        fn the_answer_brackets_the_capacity(cap in 1.0f64..5000.0, start in 1.0f64..500.0,
                                            whole: bool, add in proptest::option::of(1.0f64..50.0)) {
            let step = add.map_or(CapacityStep::Times(1.5), CapacityStep::Add);
            let cap = if whole { cap.floor() } else { cap };
            let (s, _) = find(cap, start, step, whole);
            let (h, b) = (s.held(), s.broke());
            prop_assert!(b.is_some());
            let b = b.unwrap();
            prop_assert!(b > cap);
            match h {
                Some(h) => {
                    prop_assert!(h <= cap);
                    let allowed = (0.1 * h).max(if whole { 1.0 } else { 0.0 });
                    prop_assert!(b - h <= allowed + 1e-9, "gap {} above {}", b - h, allowed);
                }
                // Nothing held: it stopped at the smallest level worth running.
                None => {
                    let floor = if whole { 1.0 } else { start / 32.0 };
                    prop_assert!(b <= floor, "stopped at {} above {}", b, floor);
                }
            }
        }
    }
}
