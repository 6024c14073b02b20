//! `thresholds.toml`: the gate's rules — relative margins, absolute limits, which metrics count.
//!
//! Rules apply in file order, later ones overriding earlier ones for the endpoints and metrics
//! they match, so a general rule can be followed by a specific exception. `parse` reads the
//! file, `values` the values in it, `metric` names what is compared.

mod metric;
mod parse;
mod values;

use std::path::PathBuf;

use serde::Serialize;

use crate::diag::{FileProblems, Problem};
pub use metric::Metric;
pub use parse::schema;
pub use values::glob_match;

/// The settings that decide one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// The smallest relative worsening that must fail (when significant and beyond `min_delta`).
    pub max_regression: f64,
    /// The largest relative worsening that must pass; beyond it, a significant one warns.
    pub warn: f64,
    /// Absolute changes smaller than this never fail or warn (ms, error-rate fraction, req/s).
    pub min_delta: f64,
    /// Absolute limits on the current value: above `max` fails, above `warn_above` warns.
    pub max: Option<f64>,
    pub warn_above: Option<f64>,
    /// Absolute limits for what must stay high (completion rate, flow throughput): below `min`
    /// fails, below `warn_below` warns.
    pub min: Option<f64>,
    pub warn_below: Option<f64>,
}

/// What a check is about: an endpoint or a scenario's flow, in a stage (`steady` for a profile
/// without stages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subject<'a> {
    pub endpoint: Option<&'a str>,
    pub scenario: Option<&'a str>,
    pub stage: &'a str,
}

impl<'a> Subject<'a> {
    pub fn endpoint(name: &'a str, stage: &'a str) -> Self {
        Subject {
            endpoint: Some(name),
            scenario: None,
            stage,
        }
    }

    pub fn flow(scenario: &'a str, stage: &'a str) -> Self {
        Subject {
            endpoint: None,
            scenario: Some(scenario),
            stage,
        }
    }

    /// The target's own resources in a stage.
    pub fn target(stage: &'a str) -> Self {
        Subject {
            endpoint: None,
            scenario: None,
            stage,
        }
    }

    fn kind(&self) -> Kind {
        match (self.endpoint, self.scenario) {
            (Some(_), _) => Kind::Endpoint,
            (None, Some(_)) => Kind::Flow,
            (None, None) => Kind::Target,
        }
    }
}

/// What a subject is about, and so which metrics apply to it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Endpoint,
    Flow,
    Target,
}

impl Kind {
    fn of(m: Metric) -> Kind {
        if m.is_flow() {
            Kind::Flow
        } else if m.is_target() {
            Kind::Target
        } else {
            Kind::Endpoint
        }
    }
}

/// Degradation under load: a metric of one stage against the same metric of another stage of
/// the same run (`stage` may be a glob; `vs_stage` names one stage).
#[derive(Debug, Clone, PartialEq)]
pub struct Degradation {
    pub stage: String,
    pub vs_stage: String,
    pub endpoint: Option<String>,
    pub metric: Metric,
    pub max_regression: f64,
    pub warn: f64,
}

/// Recovery: the seconds from the start of a stage until the per-second p95 (or error rate) of
/// the endpoint (or of all endpoints) is back within `within` and stays there for `hold` seconds;
/// at most `max_s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    pub stage: String,
    pub endpoint: Option<String>,
    /// `P95` or `ErrorRate`, by the unit `within` was written in.
    pub watch: Metric,
    pub within: f64,
    pub hold: u32,
    pub max_s: f64,
}

/// An absolute limit that stops the run when it is breached for `grace` (k6's `abortOnFail`).
#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    pub endpoint: Option<String>,
    pub stage: Option<String>,
    pub metric: Metric,
    /// In the metric's unit: ms, or a fraction for the error rate.
    pub max: f64,
    pub grace: std::time::Duration,
    /// The rule as written, for messages: `rule 3 (p95 of GET /x above 450 ms)`.
    pub text: String,
}

#[derive(Debug, Clone)]
struct Rule {
    endpoint: Option<String>,
    scenario: Option<String>,
    stage: Option<String>,
    vs_stage: Option<String>,
    metric: Option<Metric>,
    max: Option<f64>,
    warn_above: Option<f64>,
    min: Option<f64>,
    warn_below: Option<f64>,
    max_regression: Option<f64>,
    warn: Option<f64>,
    min_delta: Option<f64>,
    /// Recovery rules: the limit to be back within, and for how many seconds.
    within: Option<(Metric, f64)>,
    hold: Option<u32>,
    abort: Option<std::time::Duration>,
    /// Where the rule is, for "names nothing" errors.
    position: Option<(usize, usize)>,
    index: usize,
}

impl Rule {
    /// Whether the rule is about `s` (its endpoint or scenario, and its stage).
    fn matches(&self, s: &Subject<'_>) -> bool {
        let endpoint = match (&self.endpoint, s.endpoint) {
            (None, _) => true,
            (Some(g), Some(e)) => glob_match(g, e),
            (Some(_), None) => false,
        };
        let scenario = match (&self.scenario, s.scenario) {
            (None, _) => true,
            (Some(g), Some(f)) => glob_match(g, f),
            (Some(_), None) => false,
        };
        let stage = self.stage.as_deref().is_none_or(|g| glob_match(g, s.stage));
        endpoint && scenario && stage
    }

    /// A rule of its own kind (stage against stage, recovery) rather than a check's settings.
    fn is_special(&self) -> bool {
        self.vs_stage.is_some() || self.metric == Some(Metric::RecoveryTime)
    }
}

/// The names a result has, for rules that must name something that exists.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub endpoints: Vec<String>,
    pub stages: Vec<String>,
    pub scenarios: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Thresholds {
    /// The file the rules came from; None for the built-in defaults.
    pub path: Option<PathBuf>,
    pub max_regression: f64,
    pub warn: f64,
    pub min_delta_ms: f64,
    pub metrics: Vec<Metric>,
    pub confidence: f64,
    rules: Vec<Rule>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            path: None,
            max_regression: 0.10,
            warn: 0.05,
            min_delta_ms: 0.1,
            metrics: vec![
                Metric::P50,
                Metric::P95,
                Metric::P99,
                Metric::ErrorRate,
                Metric::Throughput,
            ],
            confidence: 0.99,
            rules: Vec::new(),
        }
    }
}

/// Error rates must rise by at least this much (half a percentage point) to count, unless a rule
/// says otherwise.
const DEFAULT_ERROR_RATE_MIN_DELTA: f64 = 0.005;
/// Memory growth must rise by at least this much (MB/h) to count against a baseline: below it,
/// a slope over a short run is allocator noise.
const DEFAULT_GROWTH_MIN_DELTA: f64 = 20.0;
/// How long an `abort_on_fail` limit may be breached before the run stops.
pub const DEFAULT_ABORT_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// Seconds a recovered metric must stay within its limit.
pub const DEFAULT_RECOVERY_HOLD: u32 = 3;

impl Thresholds {
    fn checks(&self) -> impl Iterator<Item = &Rule> + '_ {
        self.rules.iter().filter(|r| !r.is_special())
    }

    /// The metrics gated for `s`: the defaults of its kind (endpoint metrics for an endpoint,
    /// target metrics for the target; flows have none by default) and any metric of its kind a
    /// rule for it names.
    pub fn metrics_for(&self, s: &Subject<'_>) -> Vec<Metric> {
        let kind = s.kind();
        let mut m: Vec<Metric> = self
            .metrics
            .iter()
            .copied()
            .filter(|m| kind != Kind::Flow && Kind::of(*m) == kind)
            .collect();
        for r in self.checks().filter(|r| r.matches(s)) {
            if let Some(metric) = r.metric {
                if Kind::of(metric) == kind && !m.contains(&metric) {
                    m.push(metric);
                }
            }
        }
        m.sort();
        m
    }

    pub fn policy(&self, s: &Subject<'_>, metric: Metric) -> Policy {
        let mut p = Policy {
            max_regression: self.max_regression,
            warn: self.warn,
            min_delta: match metric {
                Metric::ErrorRate => DEFAULT_ERROR_RATE_MIN_DELTA,
                Metric::TargetRssGrowth => DEFAULT_GROWTH_MIN_DELTA,
                m if m.is_latency() || m.is_iteration_latency() => self.min_delta_ms,
                _ => 0.0,
            },
            max: None,
            warn_above: None,
            min: None,
            warn_below: None,
        };
        let rules = self.checks().filter(|r| r.matches(s));
        for r in rules.filter(|r| r.metric.is_none() || r.metric == Some(metric)) {
            if let Some(v) = r.max_regression {
                p.max_regression = v;
            }
            if let Some(v) = r.warn {
                p.warn = v;
            }
            if r.metric.is_some() {
                p.min_delta = r.min_delta.unwrap_or(p.min_delta);
                p.max = r.max.or(p.max);
                p.warn_above = r.warn_above.or(p.warn_above);
                p.min = r.min.or(p.min);
                p.warn_below = r.warn_below.or(p.warn_below);
            }
        }
        p
    }

    /// The stage-against-stage rules.
    pub fn degradations(&self) -> Vec<Degradation> {
        self.rules
            .iter()
            .filter_map(|r| {
                Some(Degradation {
                    vs_stage: r.vs_stage.clone()?,
                    stage: r.stage.clone()?,
                    endpoint: r.endpoint.clone(),
                    metric: r.metric?,
                    max_regression: r.max_regression.unwrap_or(self.max_regression),
                    // Without a warning level of its own, half the rule's allowance (as the
                    // defaults' 5% is half of 10%).
                    warn: r.warn.unwrap_or_else(|| match r.max_regression {
                        Some(m) => m / 2.0,
                        None => self.warn,
                    }),
                })
            })
            .collect()
    }

    /// The recovery rules.
    pub fn recoveries(&self) -> Vec<Recovery> {
        self.rules
            .iter()
            .filter(|r| r.metric == Some(Metric::RecoveryTime))
            .filter_map(|r| {
                let (watch, within) = r.within?;
                Some(Recovery {
                    stage: r.stage.clone()?,
                    endpoint: r.endpoint.clone(),
                    watch,
                    within,
                    hold: r.hold.unwrap_or(DEFAULT_RECOVERY_HOLD),
                    max_s: r.max?,
                })
            })
            .collect()
    }

    /// The limits that stop a run when breached for their grace period.
    pub fn aborts(&self) -> Vec<Abort> {
        self.rules
            .iter()
            .filter_map(|r| {
                let (grace, metric, max) = (r.abort?, r.metric?, r.max?);
                let what = r.endpoint.as_deref().unwrap_or("any endpoint");
                let shown = if metric == Metric::ErrorRate {
                    metric.show(max * 100.0)
                } else {
                    metric.show(max)
                };
                Some(Abort {
                    endpoint: r.endpoint.clone(),
                    stage: r.stage.clone(),
                    metric,
                    max,
                    grace,
                    text: format!("rule {} ({metric} of {what} above {shown})", r.index + 1),
                })
            })
            .collect()
    }

    /// Rules that name an endpoint, stage or scenario the results do not have: each is an
    /// error, never a silent pass.
    pub fn unmatched(&self, names: &Names) -> Option<FileProblems> {
        let mut problems = Vec::new();
        let listed = |v: &[String]| {
            v.iter()
                .map(|e| format!("\"{e}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for r in &self.rules {
            let kinds = [
                (
                    "endpoint",
                    r.endpoint.as_deref(),
                    &names.endpoints,
                    "endpoints",
                ),
                ("stage", r.stage.as_deref(), &names.stages, "stages"),
                ("vs_stage", r.vs_stage.as_deref(), &names.stages, "stages"),
                (
                    "scenario",
                    r.scenario.as_deref(),
                    &names.scenarios,
                    "scenarios",
                ),
            ];
            for (key, pattern, known, plural) in kinds {
                let Some(g) = pattern else { continue };
                if known.iter().any(|e| glob_match(g, e)) {
                    continue;
                }
                problems.push(Problem {
                    position: r.position,
                    key: format!("rule[{}].{key}", r.index),
                    message: format!(
                        "\"{g}\" matches no {key} of the results; the {plural} are: {}",
                        listed(known)
                    ),
                });
            }
        }
        (!problems.is_empty()).then(|| FileProblems {
            file: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("thresholds.toml")),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ep(name: &str) -> Subject<'_> {
        Subject::endpoint(name, "steady")
    }

    const EXAMPLE: &str = r#"
[defaults]
max_regression = "10%"
warn = "5%"
min_delta = "1ms"
metrics = ["p50", "p95", "p99", "error_rate", "throughput"]
confidence = 0.99

[[rule]]
endpoint = "GET /api/v1/shows/*"
metric = "p95"
max = "200ms"
warn_above = "150ms"
max_regression = "15%"

[[rule]]
metric = "error_rate"
max = "2%"
"#;

    #[test]
    fn the_documented_example_reads_as_documented() {
        let th = Thresholds::parse(EXAMPLE, Path::new("thresholds.toml")).unwrap();
        let p = th.policy(&ep("GET /api/v1/shows/[id]/"), Metric::P95);
        assert_eq!(
            (p.max, p.warn_above, p.max_regression),
            (Some(200.0), Some(150.0), 0.15)
        );
        let p = th.policy(&ep("GET /api/v1/shows/[id]/"), Metric::P50);
        assert_eq!((p.max, p.max_regression, p.min_delta), (None, 0.10, 1.0));
        let p = th.policy(&ep("POST /checkout/"), Metric::ErrorRate);
        assert_eq!(p.max, Some(0.02));
        assert_eq!(p.min_delta, DEFAULT_ERROR_RATE_MIN_DELTA);
        let p = th.policy(&ep("POST /checkout/"), Metric::P95);
        assert_eq!(p.max, None, "the p95 limit is only for the shows endpoints");
    }

    #[test]
    fn later_rules_override_earlier_ones() {
        let src = "[[rule]]\nmetric = \"p99\"\nmax_regression = \"20%\"\n\n[[rule]]\nendpoint = \"POST /*\"\nmetric = \"p99\"\nmax_regression = \"50%\"\n";
        let th = Thresholds::parse(src, Path::new("t.toml")).unwrap();
        assert_eq!(
            th.policy(&ep("POST /checkout/"), Metric::P99)
                .max_regression,
            0.5
        );
        assert_eq!(th.policy(&ep("GET /x"), Metric::P99).max_regression, 0.2);
    }

    #[test]
    fn a_rule_can_add_a_metric_for_its_endpoints() {
        let src = "[[rule]]\nendpoint = \"GET /a\"\nmetric = \"p90\"\nmax = \"50ms\"\n";
        let th = Thresholds::parse(src, Path::new("t.toml")).unwrap();
        assert!(th.metrics_for(&ep("GET /a")).contains(&Metric::P90));
        assert!(!th.metrics_for(&ep("GET /b")).contains(&Metric::P90));
    }

    #[test]
    fn every_problem_is_listed_with_its_line() {
        let src = "[defaults]\nmax_regresion = \"10%\"\nwarn = \"5\"\nmetrics = [\"p95\", \"p96\"]\n\n[[rule]]\nmetric = \"latency\"\nmax = \"1s\"\n\n[[rule]]\nmax = \"200ms\"\n";
        let e = Thresholds::parse(src, Path::new("t.toml")).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.problems.len(), 5, "{text}");
        assert!(
            text.contains("t.toml:11:") && text.contains("add metric"),
            "{text}"
        );
        assert!(
            text.contains("t.toml:2:1: defaults.max_regresion: unknown key"),
            "{text}"
        );
        assert!(
            text.contains("t.toml:3:") && text.contains("\"10%\""),
            "{text}"
        );
        assert!(text.contains("t.toml:4:") && text.contains("p96"), "{text}");
        assert!(
            text.contains("t.toml:7:") && text.contains("latency"),
            "{text}"
        );
        let e = Thresholds::parse("[[rule]]\nmax = \"200ms\"\n", Path::new("t.toml")).unwrap_err();
        assert!(e.to_string().contains("add metric"), "{e}");
    }

    #[test]
    fn a_rule_that_names_no_endpoint_is_an_error() {
        let th = Thresholds::parse(EXAMPLE, Path::new("thresholds.toml")).unwrap();
        let names = |e: &str| Names {
            endpoints: vec![e.to_string()],
            ..Names::default()
        };
        assert!(th.unmatched(&names("GET /api/v1/shows/")).is_none());
        let e = th.unmatched(&names("POST /checkout/")).unwrap().to_string();
        assert!(
            e.contains("thresholds.toml:9:") && e.contains("matches no endpoint"),
            "{e}"
        );
    }
}
