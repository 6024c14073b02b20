//! `thresholds.toml`: the gate's rules — relative margins, absolute limits, which metrics count.
//!
//! Read like the profile: raw serde types, unknown keys collected, every problem reported with
//! its line. Rules apply in file order, later ones overriding earlier ones for the endpoints and
//! metrics they match, so a general rule can be followed by a specific exception.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{deserialize, FileProblems, Locator, Problem, Seg};

#[derive(Debug, Deserialize, Serialize, Default)]
struct RawThresholds {
    defaults: Option<RawDefaults>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize, Serialize, Default)]
struct RawDefaults {
    max_regression: Option<String>,
    warn: Option<String>,
    min_delta: Option<String>,
    metrics: Option<Vec<String>>,
    confidence: Option<f64>,
}

#[derive(Debug, Deserialize, Serialize, Default)]
struct RawRule {
    endpoint: Option<String>,
    metric: Option<String>,
    max: Option<String>,
    warn_above: Option<String>,
    max_regression: Option<String>,
    warn: Option<String>,
    min_delta: Option<String>,
}

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P75,
    P90,
    P95,
    P99,
    #[serde(rename = "p99.9")]
    P999,
    Mean,
    Max,
    ErrorRate,
    Throughput,
}

pub const METRIC_NAMES: &str = "p50, p75, p90, p95, p99, p99.9, mean, max, error_rate, throughput";

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        Some(match s.trim() {
            "p50" | "median" => Metric::P50,
            "p75" => Metric::P75,
            "p90" => Metric::P90,
            "p95" => Metric::P95,
            "p99" => Metric::P99,
            "p99.9" | "p999" => Metric::P999,
            "mean" => Metric::Mean,
            "max" => Metric::Max,
            "error_rate" => Metric::ErrorRate,
            "throughput" => Metric::Throughput,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P75 => "p75",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::P999 => "p99.9",
            Metric::Mean => "mean",
            Metric::Max => "max",
            Metric::ErrorRate => "error_rate",
            Metric::Throughput => "throughput",
        }
    }

    /// The quantile of a latency metric (None for mean, max, and non-latency metrics).
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::P50 => Some(0.5),
            Metric::P75 => Some(0.75),
            Metric::P90 => Some(0.9),
            Metric::P95 => Some(0.95),
            Metric::P99 => Some(0.99),
            Metric::P999 => Some(0.999),
            _ => None,
        }
    }

    pub fn is_latency(self) -> bool {
        !matches!(self, Metric::ErrorRate | Metric::Throughput)
    }

    /// Whether a higher value is worse.
    pub fn higher_is_worse(self) -> bool {
        self != Metric::Throughput
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate => "%",
            Metric::Throughput => "req/s",
            _ => "ms",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
            min_delta_ms: 1.0,
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

/// `*` matches any run of characters (including `/`), `?` one character; nothing else is
/// special, because endpoint names contain brackets (`/shows/[id]/`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let num = t
        .strip_suffix('%')
        .ok_or_else(|| format!("\"{s}\" is not a percentage; write e.g. \"10%\""))?;
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / 100.0),
        _ => Err(format!(
            "\"{s}\" is not a percentage ≥ 0; write e.g. \"10%\""
        )),
    }
}

fn millis(s: &str) -> Result<f64, String> {
    humantime::parse_duration(s.trim())
        .map(|d| d.as_secs_f64() * 1000.0)
        .map_err(|_| format!("\"{s}\" is not a duration; write e.g. \"200ms\" or \"1.5s\""))
}

fn per_second(s: &str) -> Result<f64, String> {
    let t = s
        .trim()
        .trim_end_matches("/s")
        .trim_end_matches("rps")
        .trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not a rate; write requests per second, e.g. \"100/s\""
        )),
    }
}

/// A value in the unit of `metric`: ms for latency, a fraction for error rate, req/s.
fn metric_value(metric: Metric, s: &str) -> Result<f64, String> {
    match metric {
        Metric::ErrorRate => percent(s),
        Metric::Throughput => per_second(s),
        _ => millis(s),
    }
}

const DEFAULTS_KEYS: &[&str] = &[
    "max_regression",
    "warn",
    "min_delta",
    "metrics",
    "confidence",
];
const RULE_KEYS: &[&str] = &[
    "endpoint",
    "metric",
    "max",
    "warn_above",
    "max_regression",
    "warn",
    "min_delta",
];

/// For an unknown key: the keys its table has, and the likeliest one meant.
fn known_keys(path: &[Seg]) -> String {
    let (keys, table): (&[&str], &str) = match path {
        [Seg::Key(d), Seg::Key(_)] if d == "defaults" => (DEFAULTS_KEYS, "[defaults]"),
        [Seg::Key(r), Seg::Index(_), Seg::Key(_)] if r == "rule" => (RULE_KEYS, "a [[rule]]"),
        [Seg::Key(_)] => (&["defaults", "rule"], "the file"),
        _ => return String::new(),
    };
    let Some(Seg::Key(typo)) = path.last() else {
        return String::new();
    };
    let near = keys
        .iter()
        .map(|k| (edit_distance(typo, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min();
    let mut out = format!("; the keys of {table} are {}", keys.join(", "));
    if let Some((_, k)) = near {
        out.push_str(&format!(" (did you mean `{k}`?)"));
    }
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// For a value of the wrong type: what to write instead.
fn type_hint(key: &str) -> &'static str {
    let last = key.rsplit('.').next().unwrap_or(key);
    match last {
        "max_regression" | "warn" => "; write a percentage in quotes, e.g. \"10%\"",
        "min_delta" | "max" | "warn_above" => {
            "; write a value in quotes in the metric's unit, e.g. \"200ms\", or \"2%\" for error_rate"
        }
        "confidence" => "; write a number between 0.5 and 1, e.g. 0.99",
        "metrics" => "; write a list of metric names in quotes, e.g. [\"p50\", \"p95\", \"error_rate\"]",
        "metric" => "; write one metric in quotes, e.g. \"p95\"",
        "endpoint" => "; write an endpoint pattern in quotes, e.g. \"GET /api/*\"",
        _ if last.starts_with("metrics[") => "; write each metric in quotes, e.g. \"p95\"",
        "defaults" => "; write the defaults as a table: [defaults]",
        _ if last.starts_with("rule") => "; write each rule as a table: [[rule]]",
        _ => "",
    }
}

impl Thresholds {
    /// Reads `path`. A missing file is an error only if `required` (given explicitly).
    pub fn load(path: &Path, required: bool) -> Result<Thresholds, FileProblems> {
        match std::fs::read(path) {
            Ok(bytes) => match crate::input::utf8(bytes, "thresholds.toml") {
                Ok(src) => Self::parse(&src, path),
                Err((at, message)) => Err(FileProblems {
                    file: path.to_path_buf(),
                    problems: vec![Problem {
                        position: Some(at),
                        key: String::new(),
                        message,
                    }],
                }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Thresholds::default())
            }
            Err(e) => Err(FileProblems {
                file: path.to_path_buf(),
                problems: vec![Problem {
                    position: None,
                    key: String::new(),
                    message: format!("cannot read: {e}"),
                }],
            }),
        }
    }

    pub fn parse(src: &str, path: &Path) -> Result<Thresholds, FileProblems> {
        let locator = Locator::new(src);
        let fail = |problems: Vec<Problem>| FileProblems {
            file: path.to_path_buf(),
            problems,
        };
        let (raw, unknown, type_errors) =
            deserialize::<RawThresholds>(src, &locator).map_err(|p| fail(vec![p]))?;
        let mut problems: Vec<Problem> = unknown
            .iter()
            .map(|k| {
                locator.problem(
                    k,
                    format!(
                        "unknown key (a typo would silently drop a rule, so this is an error){}",
                        known_keys(k)
                    ),
                )
            })
            .collect();
        // Rules with a value of the wrong type: what else they lack follows from it.
        let mistyped: Vec<String> = type_errors
            .iter()
            .filter_map(|p| p.key.strip_prefix("rule["))
            .filter_map(|k| k.split_once(']').map(|(i, _)| i.to_string()))
            .collect();
        problems.extend(type_errors.into_iter().map(|mut p| {
            p.message.push_str(type_hint(&p.key));
            p
        }));
        let mut th = Thresholds {
            path: Some(path.to_path_buf()),
            ..Thresholds::default()
        };
        let d = raw.defaults.unwrap_or_default();
        let dk = |k: &str| vec![Seg::Key("defaults".into()), Seg::Key(k.into())];
        let check = |r: Result<f64, String>, at: Vec<Seg>, problems: &mut Vec<Problem>| match r {
            Ok(v) => Some(v),
            Err(m) => {
                problems.push(locator.problem(&at, m));
                None
            }
        };
        if let Some(s) = &d.max_regression {
            if let Some(v) = check(percent(s), dk("max_regression"), &mut problems) {
                th.max_regression = v;
            }
        }
        if let Some(s) = &d.warn {
            if let Some(v) = check(percent(s), dk("warn"), &mut problems) {
                th.warn = v;
            }
        }
        if d.warn.is_none() {
            th.warn = th.warn.min(th.max_regression / 2.0);
        } else if th.warn > th.max_regression {
            problems.push(locator.problem(
                &dk("warn"),
                "warn is above max_regression, so it could never show; make it smaller",
            ));
        }
        if let Some(s) = &d.min_delta {
            if let Some(v) = check(millis(s), dk("min_delta"), &mut problems) {
                th.min_delta_ms = v;
            }
        }
        if let Some(list) = &d.metrics {
            th.metrics.clear();
            for (i, m) in list.iter().enumerate() {
                match Metric::parse(m) {
                    Some(m) if !th.metrics.contains(&m) => th.metrics.push(m),
                    Some(_) => {}
                    None => {
                        let mut at = dk("metrics");
                        at.push(Seg::Index(i));
                        problems.push(locator.problem(
                            &at,
                            format!("unknown metric \"{m}\"; the metrics are {METRIC_NAMES}"),
                        ));
                    }
                }
            }
        }
        if let Some(c) = d.confidence {
            if c > 0.5 && c < 1.0 {
                th.confidence = c;
            } else {
                problems.push(locator.problem(
                    &dk("confidence"),
                    format!(
                        "{c} is not a confidence level; use a number between 0.5 and 1, e.g. 0.99"
                    ),
                ));
            }
        }
        for (i, r) in raw.rule.iter().enumerate() {
            let rp = vec![Seg::Key("rule".into()), Seg::Index(i)];
            let mistyped = mistyped.contains(&i.to_string());
            let rk = |k: &str| {
                let mut v = rp.clone();
                v.push(Seg::Key(k.into()));
                v
            };
            let metric = match &r.metric {
                None => None,
                Some(m) => match Metric::parse(m) {
                    Some(m) => Some(m),
                    None => {
                        problems.push(locator.problem(
                            &rk("metric"),
                            format!("unknown metric \"{m}\"; the metrics are {METRIC_NAMES}"),
                        ));
                        continue;
                    }
                },
            };
            let value = |k: &str, s: &Option<String>, problems: &mut Vec<Problem>| -> Option<f64> {
                let s = s.as_ref()?;
                match metric {
                    Some(m) => check(metric_value(m, s), rk(k), problems),
                    None if mistyped => None,
                    None => {
                        problems.push(locator.problem(&rk(k), format!("`{k}` is a value in the unit of one metric; add metric = \"p95\" (or the metric it limits)")));
                        None
                    }
                }
            };
            if metric == Some(Metric::Throughput) && (r.max.is_some() || r.warn_above.is_some()) {
                problems.push(locator.problem(&rp, "absolute limits (max, warn_above) apply to latency and error_rate; a throughput drop is gated by max_regression"));
                continue;
            }
            let max = value("max", &r.max, &mut problems);
            let warn_above = value("warn_above", &r.warn_above, &mut problems);
            let min_delta = value("min_delta", &r.min_delta, &mut problems);
            let max_regression = r
                .max_regression
                .as_ref()
                .and_then(|s| check(percent(s), rk("max_regression"), &mut problems));
            let warn = r
                .warn
                .as_ref()
                .and_then(|s| check(percent(s), rk("warn"), &mut problems));
            if let (Some(w), Some(m)) = (warn_above, max) {
                if w > m {
                    problems.push(locator.problem(
                        &rk("warn_above"),
                        "warn_above is above max, so it could never show",
                    ));
                }
            }
            if let Some(e) = &r.endpoint {
                if e.trim().is_empty() {
                    problems.push(locator.problem(
                        &rk("endpoint"),
                        "empty endpoint pattern; omit `endpoint` to match all endpoints",
                    ));
                }
            }
            let rule = Rule {
                endpoint: r.endpoint.clone(),
                metric,
                max,
                warn_above,
                max_regression,
                warn,
                min_delta,
                position: locator.locate(&rp),
                index: i,
            };
            if !mistyped
                && r.max.is_none()
                && r.warn_above.is_none()
                && r.max_regression.is_none()
                && r.warn.is_none()
                && r.min_delta.is_none()
            {
                problems.push(locator.problem(&rp, "this rule sets nothing; give max, warn_above, max_regression, warn or min_delta"));
            }
            th.rules.push(rule);
        }
        if problems.is_empty() {
            Ok(th)
        } else {
            problems.sort_by_key(|p| p.position);
            Err(fail(problems))
        }
    }

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

    #[test]
    fn glob_stars_cross_slashes_and_brackets_are_literal() {
        assert!(glob_match("GET /api/v1/shows/*", "GET /api/v1/shows/[id]/"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("GET /a?c", "GET /abc"));
        assert!(glob_match(
            "GET /api/v1/shows/[id]/",
            "GET /api/v1/shows/[id]/"
        ));
        assert!(!glob_match(
            "GET /api/v1/shows/[id]/",
            "GET /api/v1/shows/i/"
        ));
        assert!(!glob_match("POST *", "GET /x"));
        assert!(glob_match("*/checkout/", "POST /checkout/"));
        assert!(
            glob_match("GET /a/*", "GET /a/*/b"),
            "a star in the name is matched by the star"
        );
    }
}
