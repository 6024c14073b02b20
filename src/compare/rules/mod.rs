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
pub use values::glob_match;

/// The settings that decide one endpoint × metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// A relative worsening beyond this fails (when significant and beyond `min_delta`).
    pub max_regression: f64,
    /// A relative worsening beyond this warns.
    pub warn: f64,
    /// Absolute changes smaller than this never fail or warn (ms, error-rate fraction, req/s).
    pub min_delta: f64,
    /// Absolute limit on the current value: crossing it fails.
    pub max: Option<f64>,
    /// Absolute limit on the current value: crossing it warns.
    pub warn_above: Option<f64>,
}

#[derive(Debug, Clone)]
struct Rule {
    endpoint: Option<String>,
    metric: Option<Metric>,
    max: Option<f64>,
    warn_above: Option<f64>,
    max_regression: Option<f64>,
    warn: Option<f64>,
    min_delta: Option<f64>,
    /// Where the rule is, for "names nothing" errors.
    position: Option<(usize, usize)>,
    index: usize,
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

impl Thresholds {
    fn matching<'a>(
        &'a self,
        endpoint: &'a str,
        metric: Option<Metric>,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| {
            r.endpoint
                .as_deref()
                .is_none_or(|g| glob_match(g, endpoint))
                && (r.metric.is_none() || r.metric == metric)
        })
    }

    /// The metrics gated for `endpoint`: the defaults, plus any metric a rule for it names.
    pub fn metrics_for(&self, endpoint: &str) -> Vec<Metric> {
        let mut m = self.metrics.clone();
        for r in self.rules.iter().filter(|r| {
            r.endpoint
                .as_deref()
                .is_none_or(|g| glob_match(g, endpoint))
        }) {
            if let Some(metric) = r.metric {
                if !m.contains(&metric) {
                    m.push(metric);
                }
            }
        }
        m.sort();
        m
    }

    pub fn policy(&self, endpoint: &str, metric: Metric) -> Policy {
        let mut p = Policy {
            max_regression: self.max_regression,
            warn: self.warn,
            min_delta: match metric {
                Metric::ErrorRate => DEFAULT_ERROR_RATE_MIN_DELTA,
                Metric::Throughput => 0.0,
                _ => self.min_delta_ms,
            },
            max: None,
            warn_above: None,
        };
        for r in self.matching(endpoint, Some(metric)) {
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
            }
        }
        p
    }

    /// Rules whose endpoint pattern matches none of `endpoints`: each is an error, never a
    /// silent pass.
    pub fn unmatched(&self, endpoints: &[String]) -> Option<FileProblems> {
        let problems: Vec<Problem> = self
            .rules
            .iter()
            .filter_map(|r| {
                let g = r.endpoint.as_deref()?;
                if endpoints.iter().any(|e| glob_match(g, e)) {
                    return None;
                }
                Some(Problem {
                    position: r.position,
                    key: format!("rule[{}].endpoint", r.index),
                    message: format!(
                        "\"{g}\" matches no endpoint of the results; the endpoints are: {}",
                        endpoints
                            .iter()
                            .map(|e| format!("\"{e}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
            })
            .collect();
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
        let p = th.policy("GET /api/v1/shows/[id]/", Metric::P95);
        assert_eq!(
            (p.max, p.warn_above, p.max_regression),
            (Some(200.0), Some(150.0), 0.15)
        );
        let p = th.policy("GET /api/v1/shows/[id]/", Metric::P50);
        assert_eq!((p.max, p.max_regression, p.min_delta), (None, 0.10, 1.0));
        let p = th.policy("POST /checkout/", Metric::ErrorRate);
        assert_eq!(p.max, Some(0.02));
        assert_eq!(p.min_delta, DEFAULT_ERROR_RATE_MIN_DELTA);
        let p = th.policy("POST /checkout/", Metric::P95);
        assert_eq!(p.max, None, "the p95 limit is only for the shows endpoints");
    }

    #[test]
    fn later_rules_override_earlier_ones() {
        let src = "[[rule]]\nmetric = \"p99\"\nmax_regression = \"20%\"\n\n[[rule]]\nendpoint = \"POST /*\"\nmetric = \"p99\"\nmax_regression = \"50%\"\n";
        let th = Thresholds::parse(src, Path::new("t.toml")).unwrap();
        assert_eq!(
            th.policy("POST /checkout/", Metric::P99).max_regression,
            0.5
        );
        assert_eq!(th.policy("GET /x", Metric::P99).max_regression, 0.2);
    }

    #[test]
    fn a_rule_can_add_a_metric_for_its_endpoints() {
        let src = "[[rule]]\nendpoint = \"GET /a\"\nmetric = \"p90\"\nmax = \"50ms\"\n";
        let th = Thresholds::parse(src, Path::new("t.toml")).unwrap();
        assert!(th.metrics_for("GET /a").contains(&Metric::P90));
        assert!(!th.metrics_for("GET /b").contains(&Metric::P90));
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
        assert!(th.unmatched(&["GET /api/v1/shows/".into()]).is_none());
        let e = th
            .unmatched(&["POST /checkout/".into()])
            .unwrap()
            .to_string();
        assert!(
            e.contains("thresholds.toml:9:") && e.contains("matches no endpoint"),
            "{e}"
        );
    }
}
