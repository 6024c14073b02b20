//! `[load]`: the model (closed or open) and its size, the stages, and the trial plan.

use std::time::Duration;

use super::{idx, key, Ctx};
use crate::config::model::{Load, Model, Stage};
use crate::config::raw::RawLoad;
use crate::config::Overrides;
use crate::diag::Seg;

pub(super) fn validate_load(cx: &mut Ctx<'_>, p: &[Seg], l: RawLoad, o: &Overrides) -> Load {
    let stages = stages(cx, p, &l);
    let model = match l.model.as_deref() {
        Some("closed") => closed(cx, p, &l, o, &stages),
        Some("open") => open(cx, p, &l, o, &stages),
        None if l.rate.is_some() => open(cx, p, &l, o, &stages),
        None => closed(cx, p, &l, o, &stages),
        Some(other) => {
            cx.problem(&key(p, "model"), format!("unknown model \"{other}\"; use \"closed\" (users loop) or \"open\" (a fixed arrival rate)"));
            Model::Closed { users: 1 }
        }
    };
    let warmup = cx.opt_duration(&key(p, "warmup"), l.warmup.as_ref(), Duration::ZERO, true);
    check_stage_names(cx, p, &stages, warmup);
    let ramp_up = cx.opt_duration(&key(p, "ramp_up"), l.ramp_up.as_ref(), Duration::ZERO, true);
    let duration = measured(cx, p, &l, o, &stages, warmup);
    if ramp_up > warmup + duration {
        cx.problem(
            &key(p, "ramp_up"),
            "ramp_up is longer than the whole trial (warmup + duration)",
        );
    }
    let trials = match l.trials {
        None => 1,
        Some(t) if (1..=1000).contains(&t) => t as u32,
        Some(t) => {
            cx.problem(
                &key(p, "trials"),
                format!("{t}: give a number of trials from 1 to 1000"),
            );
            1
        }
    };
    let max_trials = match l.max_trials {
        None => trials,
        Some(m) if (1..=1000).contains(&m) && m as u32 >= trials => m as u32,
        // More trials asked for on the command line than the profile may grow to: no growth.
        Some(m) if (1..=1000).contains(&m) && o.trials.is_some() => trials,
        Some(m) => {
            cx.problem(
                &key(p, "max_trials"),
                format!("{m}: give a number of trials from load.trials ({trials}) to 1000; with more, a check that is inconclusive runs further trials up to it"),
            );
            trials
        }
    };
    let seed = match l.seed {
        None => 0,
        Some(s) if s >= 0 => s as u64,
        Some(s) => {
            cx.problem(&key(p, "seed"), format!("{s}: the seed is a number ≥ 0"));
            0
        }
    };
    let iterations_per_user = iterations_per_user(cx, p, &l, model);
    Load {
        model,
        ramp_up,
        stages,
        warmup,
        duration,
        trials,
        max_trials,
        seed,
        iterations_per_user,
    }
}

/// `iterations_per_user`: a closed-model setting, at least 1.
fn iterations_per_user(cx: &mut Ctx<'_>, p: &[Seg], l: &RawLoad, model: Model) -> Option<u64> {
    let n = l.iterations_per_user?;
    if let Model::Open { .. } = model {
        cx.problem(
            &key(p, "iterations_per_user"),
            "`iterations_per_user` belongs to the closed model (users that loop); an open-model run starts iterations at `rate` for the duration",
        );
        return None;
    }
    if n < 1 {
        cx.problem(
            &key(p, "iterations_per_user"),
            format!("{n}: give at least 1 iteration per user, or remove the key for as many as fit in the trial"),
        );
        return None;
    }
    Some(n as u64)
}

/// The stages that are complete (each problem reported).
fn stages(cx: &mut Ctx<'_>, p: &[Seg], l: &RawLoad) -> Vec<Stage> {
    l.stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let sp = idx(p, "stages", i);
            let duration = match &s.duration {
                Some(d) => cx.duration(&key(&sp, "duration"), d, true),
                None => {
                    cx.problem(&sp, "a stage needs duration = \"10s\"");
                    None
                }
            };
            let target = match s.target {
                Some(t) if t.is_finite() && t >= 0.0 => Some(t),
                Some(t) => {
                    cx.problem(
                        &key(&sp, "target"),
                        format!("{t} is not a load level; use a number ≥ 0"),
                    );
                    None
                }
                None => {
                    cx.problem(&sp, "a stage needs target = N (users for the closed model, iterations/s for the open one)");
                    None
                }
            };
            let name = match &s.name {
                Some(n) if n.trim().is_empty() => {
                    cx.problem(&key(&sp, "name"), "an empty stage name; give one, e.g. name = \"peak\", or leave it out for \"stage N\"");
                    None
                }
                Some(n) => Some(n.trim().to_string()),
                None => Some(format!("stage {}", i + 1)),
            };
            if let Some(d) = duration.filter(|d| d.subsec_nanos() != 0) {
                cx.problem(
                    &key(&sp, "duration"),
                    format!("{}: stage durations are whole seconds, so that every 1-second window of the result lies in one stage", humantime::format_duration(d)),
                );
            }
            Some(Stage {
                name: name?,
                duration: duration?,
                target: target?,
            })
        })
        .collect()
}

/// Stage names are unique (rules and reports name stages), and with stages the warmup is whole
/// seconds, like the stages.
fn check_stage_names(cx: &mut Ctx<'_>, p: &[Seg], stages: &[Stage], warmup: Duration) {
    for (i, s) in stages.iter().enumerate() {
        if stages[..i].iter().any(|o| o.name == s.name) {
            cx.problem(
                &key(&idx(p, "stages", i), "name"),
                format!("two stages are named \"{}\"; names must differ", s.name),
            );
        }
    }
    if !stages.is_empty() && warmup.subsec_nanos() != 0 {
        cx.problem(
            &key(p, "warmup"),
            format!("{}: with stages the warmup is whole seconds, so that every 1-second window lies in one stage", humantime::format_duration(warmup)),
        );
    }
}

fn peak(stages: &[Stage]) -> f64 {
    stages.iter().map(|s| s.target).fold(0.0, f64::max)
}

fn closed(cx: &mut Ctx<'_>, p: &[Seg], l: &RawLoad, o: &Overrides, stages: &[Stage]) -> Model {
    if l.rate.is_some() {
        cx.problem(
            &key(p, "rate"),
            "`rate` belongs to the open model; with model = \"closed\" set `users`",
        );
    }
    if l.max_in_flight.is_some() {
        cx.problem(
            &key(p, "max_in_flight"),
            "`max_in_flight` belongs to the open model",
        );
    }
    let from = if o.users.is_some() {
        " (from --users or PERFGATE_USERS)"
    } else {
        ""
    };
    let users = match l.users {
        Some(u) if (1..=1_000_000).contains(&u) => {
            if !stages.is_empty() {
                cx.problem(
                    &key(p, "users"),
                    "with stages the number of users follows the stages' targets; remove `users`",
                );
            }
            u as u64
        }
        Some(u) => {
            cx.problem(
                &key(p, "users"),
                format!("{u}{from} users: give a number from 1 to 1000000"),
            );
            1
        }
        None if !stages.is_empty() => {
            if stages.iter().any(|s| s.target.fract() != 0.0) {
                cx.problem(
                    &key(p, "stages"),
                    "closed-model stage targets are numbers of users: whole numbers",
                );
            }
            peak(stages).max(1.0) as u64
        }
        None => {
            cx.problem(p, "the closed model needs users = N (or stages)");
            1
        }
    };
    Model::Closed { users }
}

fn open(cx: &mut Ctx<'_>, p: &[Seg], l: &RawLoad, o: &Overrides, stages: &[Stage]) -> Model {
    if l.users.is_some() {
        cx.problem(&key(p, "users"), "`users` belongs to the closed model; with model = \"open\" set `rate` (iterations per second)");
    }
    let from = if o.rate.is_some() {
        " (from --rate or PERFGATE_RATE)"
    } else {
        ""
    };
    let rate = match l.rate {
        Some(r) if r.is_finite() && r > 0.0 => {
            if !stages.is_empty() {
                cx.problem(
                    &key(p, "rate"),
                    "with stages the rate follows the stages' targets; remove `rate`",
                );
            }
            r
        }
        Some(r) => {
            cx.problem(
                &key(p, "rate"),
                format!("{r}{from} is not a rate; give iterations per second > 0"),
            );
            1.0
        }
        None if !stages.is_empty() => peak(stages).max(f64::MIN_POSITIVE),
        None => {
            cx.problem(
                p,
                "the open model needs rate = N iterations per second (or stages)",
            );
            1.0
        }
    };
    let max_in_flight = match l.max_in_flight {
        None => 1000,
        Some(m) if m >= 1 => m as u64,
        Some(m) => {
            cx.problem(&key(p, "max_in_flight"), format!("{m}: give at least 1"));
            1
        }
    };
    Model::Open {
        rate,
        max_in_flight,
    }
}

/// The measured part of a trial: `duration`, or with stages, their length after the warmup.
fn measured(
    cx: &mut Ctx<'_>,
    p: &[Seg],
    l: &RawLoad,
    o: &Overrides,
    stages: &[Stage],
    warmup: Duration,
) -> Duration {
    if stages.is_empty() {
        return match &l.duration {
            Some(d) => cx
                .duration(&key(p, "duration"), d, false)
                .unwrap_or(Duration::from_secs(1)),
            None => {
                cx.problem(
                    p,
                    "missing duration, e.g. duration = \"20s\" (measured, after the warmup)",
                );
                Duration::from_secs(1)
            }
        };
    }
    if l.duration.is_some() && o.duration.is_none() {
        cx.problem(
            &key(p, "duration"),
            "with stages the run lasts as long as the stages; remove `duration`",
        );
    }
    if o.duration.is_some() {
        cx.problem(
            &key(p, "stages"),
            "--duration / PERFGATE_DURATION cannot shorten a staged load; edit the stages",
        );
    }
    if l.ramp_up.is_some() {
        cx.problem(
            &key(p, "ramp_up"),
            "with stages, ramps are stages; remove `ramp_up`",
        );
    }
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    if total <= warmup {
        cx.problem(
            &key(p, "stages"),
            format!(
                "the stages last {}, not longer than the warmup ({}); nothing would be measured",
                humantime::format_duration(total),
                humantime::format_duration(warmup)
            ),
        );
        return Duration::from_secs(1);
    }
    total - warmup
}
