//! `[capacity]`: the SLO a load level must meet for `perfgate capacity`, and the search settings
//! (each with a default, so a table holding only an SLO works).

use std::time::Duration;

use super::{key, Ctx};
use crate::config::model::{Capacity, CapacityStep};
use crate::config::raw::RawCapacity;
use crate::diag::Seg;

pub(super) fn validate_capacity(cx: &mut Ctx<'_>, p: &[Seg], c: &RawCapacity) -> Capacity {
    let d = Capacity::default();
    let ms = |cx: &mut Ctx<'_>, k: &str, v: &Option<String>| -> Option<f64> {
        let v = v.as_ref()?;
        match humantime::parse_duration(v.trim()) {
            Ok(t) if !t.is_zero() => Some(t.as_secs_f64() * 1000.0),
            _ => {
                cx.problem(
                    &key(p, k),
                    format!("\"{v}\" is not a latency limit; write e.g. \"200ms\""),
                );
                None
            }
        }
    };
    let pct = |cx: &mut Ctx<'_>, k: &str, v: &Option<String>, example: &str| -> Option<f64> {
        let v = v.as_ref()?;
        match v.trim().strip_suffix('%').map(|x| x.trim().parse::<f64>()) {
            Some(Ok(x)) if (0.0..=100.0).contains(&x) => Some(x / 100.0),
            _ => {
                cx.problem(
                    &key(p, k),
                    format!("\"{v}\" is not a percentage; write e.g. \"{example}\""),
                );
                None
            }
        }
    };
    let out = Capacity {
        p50_ms: ms(cx, "p50", &c.p50),
        p95_ms: ms(cx, "p95", &c.p95),
        p99_ms: ms(cx, "p99", &c.p99),
        error_rate: pct(cx, "error_rate", &c.error_rate, "1%"),
        min_gain: pct(cx, "min_gain", &c.min_gain, "50%").unwrap_or(d.min_gain),
        start: match c.start {
            Some(s) if s.is_finite() && s > 0.0 => Some(s),
            Some(s) => {
                cx.problem(&key(p, "start"), format!("{s}: the first level is a positive number of users (closed model) or iterations per second (open)"));
                None
            }
            None => None,
        },
        step: c
            .step
            .as_ref()
            .map_or(d.step, |s| step(cx, &key(p, "step"), s)),
        hold: cx.opt_duration(&key(p, "hold"), c.hold.as_ref(), d.hold, false),
        warmup: cx.opt_duration(&key(p, "warmup"), c.warmup.as_ref(), d.warmup, true),
        budget: cx.opt_duration(&key(p, "budget"), c.budget.as_ref(), d.budget, false),
        resolution: pct(cx, "resolution", &c.resolution, "10%").unwrap_or(d.resolution),
    };
    if out.hold < Duration::from_secs(3) || out.hold.subsec_nanos() != 0 {
        cx.problem(&key(p, "hold"), "a level is judged by the most of its 1-second windows: hold whole seconds, at least \"3s\"");
    }
    if out.resolution <= 0.0 {
        cx.problem(
            &key(p, "resolution"),
            "a resolution of 0 would bisect forever; give e.g. \"10%\"",
        );
    }
    out
}

/// `"+10"` (add), `"x2"` / `"×1.5"` (multiply) or `"50%"` (each level 50% above the last).
fn step(cx: &mut Ctx<'_>, p: &[Seg], s: &str) -> CapacityStep {
    let t = s.trim();
    let parsed = if let Some(n) = t.strip_prefix('+') {
        n.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| *n > 0.0)
            .map(CapacityStep::Add)
    } else if let Some(n) = t.strip_prefix('x').or_else(|| t.strip_prefix('×')) {
        n.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| *n > 1.0)
            .map(CapacityStep::Times)
    } else if let Some(n) = t.strip_suffix('%') {
        n.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| *n > 0.0)
            .map(|n| CapacityStep::Times(1.0 + n / 100.0))
    } else {
        None
    };
    parsed.unwrap_or_else(|| {
        cx.problem(p, format!("\"{s}\" is not a step; write \"+10\" (add 10 each level), \"x2\" (double) or \"50%\" (50% more each level)"));
        CapacityStep::Times(2.0)
    })
}
