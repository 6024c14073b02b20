//! A trial's (or a stage's) target samples as the result holds them: the CPU it used per second,
//! per core and per request, its peak memory, and how fast its memory grows — a least-squares
//! slope over the measured seconds with a Newey–West interval (successive seconds of a heap are
//! anything but independent, so the plain regression interval would be far too narrow).

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::resources::Sample;
use crate::result::{TargetResult, TargetWindow};

/// The window a sample closes: what the target used since the previous sample, and what it held
/// at this one.
pub fn window(previous: &Sample, now: &Sample) -> TargetWindow {
    TargetWindow {
        // A counter never runs backwards; a process that left the tree (its time not yet
        // collected by its parent) could make it look so.
        cpu_s: (now.cpu_s - previous.cpu_s).max(0.0),
        rss_bytes: now.rss_bytes,
        threads: now.threads,
        fds: now.fds,
    }
}

/// The figures of `windows` (consecutive measured seconds) in which `requests` requests
/// completed; `keep` keeps the windows themselves (a trial's, not a stage's). None without
/// windows.
pub fn summarize(
    source: &str,
    windows: &[TargetWindow],
    requests: u64,
    keep: bool,
) -> Option<TargetResult> {
    let last = windows.last()?;
    let cpu_s: f64 = windows.iter().map(|w| w.cpu_s).sum();
    let seconds = windows.len() as f64;
    let mb: Vec<f64> = windows.iter().map(|w| w.rss_bytes as f64 / 1e6).collect();
    let growth = slope_per_hour(&mb);
    Some(TargetResult {
        source: source.to_string(),
        cpu_s,
        cpu_cores: cpu_s / seconds,
        cpu_per_request_us: (requests > 0).then(|| cpu_s * 1e6 / requests as f64),
        rss_peak_bytes: windows.iter().map(|w| w.rss_bytes).max().unwrap_or(0),
        rss_end_bytes: last.rss_bytes,
        rss_growth_mb_per_h: growth.map(|g| g.0),
        rss_growth_interval: growth.map(|g| g.1),
        threads_peak: windows.iter().map(|w| w.threads).max().unwrap_or(0),
        fds_peak: windows.iter().map(|w| w.fds).max().unwrap_or(0),
        windows: if keep { windows.to_vec() } else { Vec::new() },
    })
}

/// The slope of `y` (one value a second) per hour, and its 95% interval: ordinary least
/// squares, with the Newey–West (Bartlett kernel) standard error for autocorrelated errors and
/// Student's t with n − 2 degrees of freedom. None with fewer than 3 points.
pub fn slope_per_hour(y: &[f64]) -> Option<(f64, [f64; 2])> {
    let n = y.len();
    if n < 3 {
        return None;
    }
    let xm = (n as f64 - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = (0..n).map(|i| i as f64 - xm).collect();
    let sxx: f64 = d.iter().map(|d| d * d).sum();
    let b = d.iter().zip(y).map(|(d, y)| d * (y - ym)).sum::<f64>() / sxx;
    let a = ym - b * xm;
    let u: Vec<f64> = (0..n).map(|i| d[i] * (y[i] - a - b * i as f64)).collect();
    // The usual automatic lag: 4 (n/100)^(2/9).
    let lags = (4.0 * (n as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize;
    let mut s: f64 = u.iter().map(|u| u * u).sum();
    for l in 1..=lags.min(n - 1) {
        let w = 1.0 - l as f64 / (lags as f64 + 1.0);
        let c: f64 = (l..n).map(|i| u[i] * u[i - l]).sum();
        s += 2.0 * w * c;
    }
    let se = (s.max(0.0)).sqrt() / sxx;
    let t = StudentsT::new(0.0, 1.0, (n - 2) as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(1.96);
    let per_hour = 3600.0;
    Some((
        b * per_hour,
        [(b - t * se) * per_hour, (b + t * se) * per_hour],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(cpu_s: f64, rss_mb: f64) -> TargetWindow {
        TargetWindow {
            cpu_s,
            rss_bytes: (rss_mb * 1e6) as u64,
            threads: 4,
            fds: 10,
        }
    }

    #[test]
    fn one_megabyte_a_second_is_3600_mb_an_hour() {
        let y: Vec<f64> = (0..60).map(|i| 50.0 + i as f64).collect();
        let (g, [lo, hi]) = slope_per_hour(&y).unwrap();
        assert!((g - 3600.0).abs() < 1e-6, "{g}");
        assert!(lo <= g && g <= hi && hi - lo < 1e-6, "{lo} {hi}");
    }

    #[test]
    fn a_flat_noisy_heap_has_an_interval_around_zero() {
        // A sawtooth (a collector freeing every 7 s): no growth, correlated seconds.
        let y: Vec<f64> = (0..120).map(|i| 100.0 + (i % 7) as f64).collect();
        let (g, [lo, hi]) = slope_per_hour(&y).unwrap();
        assert!(lo < 0.0 && hi > 0.0, "{g} [{lo}, {hi}]");
        assert!(g.abs() < 100.0, "{g}");
        assert_eq!(slope_per_hour(&[1.0, 2.0]), None);
    }

    #[test]
    fn cpu_per_request_and_cores_come_from_the_windows() {
        let ws = [w(0.5, 10.0), w(0.7, 12.0), w(0.6, 11.0)];
        let t = summarize("process 1 and its children", &ws, 6000, true).unwrap();
        assert!((t.cpu_s - 1.8).abs() < 1e-9);
        assert!((t.cpu_cores - 0.6).abs() < 1e-9);
        assert!((t.cpu_per_request_us.unwrap() - 300.0).abs() < 1e-9);
        assert_eq!(t.rss_peak_bytes, 12_000_000);
        assert_eq!(t.rss_end_bytes, 11_000_000);
        assert_eq!(t.windows.len(), 3);
        let stage = summarize("x", &ws[..2], 0, false).unwrap();
        assert_eq!(stage.cpu_per_request_us, None);
        assert!(stage.windows.is_empty() && stage.rss_growth_mb_per_h.is_none());
        assert!(summarize("x", &[], 1, true).is_none());
    }

    #[test]
    fn a_window_is_the_difference_of_two_samples() {
        let a = Sample {
            cpu_s: 1.0,
            rss_bytes: 5,
            threads: 2,
            fds: 3,
            processes: 1,
        };
        let b = Sample {
            cpu_s: 1.25,
            rss_bytes: 7,
            ..a
        };
        assert_eq!(window(&a, &b).cpu_s, 0.25);
        assert_eq!(window(&a, &b).rss_bytes, 7);
        assert_eq!(window(&b, &a).cpu_s, 0.0);
    }
}
