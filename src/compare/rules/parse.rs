//! Reading `thresholds.toml` like the profile: raw serde types, unknown keys collected (with the
//! keys that exist and the likeliest one meant), every problem reported with its line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::values::{metric_value, millis, percent};
use super::{Metric, Rule, Thresholds};
use crate::diag::toml::{deserialize, fields, Known, Locator};
use crate::diag::{self, key_path, FileProblems, Problem, Seg};

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

/// The keys of the table an unknown key at `path` is in.
fn known_keys(path: &[Seg]) -> Option<Known> {
    let (table, keys) = match path {
        [Seg::Key(d), Seg::Key(_)] if d == "defaults" => ("[defaults]", fields::<RawDefaults>()),
        [Seg::Key(r), Seg::Index(_), Seg::Key(_)] if r == "rule" => {
            ("a [[rule]]", fields::<RawRule>())
        }
        [Seg::Key(_)] => ("the file", fields::<RawThresholds>()),
        _ => return None,
    };
    Some(Known { table, keys })
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

/// The problems found so far and where to put them.
struct Reader<'a> {
    locator: Locator<'a>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, at: &[Seg], message: impl Into<String>) {
        self.problems.push(self.locator.problem(at, message));
    }

    /// The value of a parse, or None with its problem recorded at `at`.
    fn check<T>(&mut self, r: Result<T, String>, at: &[Seg]) -> Option<T> {
        r.map_err(|m| self.problem(at, m)).ok()
    }
}

impl Thresholds {
    /// Reads `path`. A missing file is an error only if `required` (given explicitly).
    pub fn load(path: &Path, required: bool) -> Result<Thresholds, FileProblems> {
        match std::fs::read(path) {
            Ok(bytes) => match diag::utf8(bytes, "thresholds.toml") {
                Ok(src) => Self::parse(&src, path),
                Err(p) => Err(FileProblems::one(path, p)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Thresholds::default())
            }
            Err(e) => Err(FileProblems::one(
                path,
                Problem::at(None, format!("cannot read: {e}")),
            )),
        }
    }

    pub fn parse(src: &str, path: &Path) -> Result<Thresholds, FileProblems> {
        let mut r = Reader {
            locator: Locator::new(src),
            problems: Vec::new(),
        };
        let (raw, unknown, type_errors) = deserialize::<RawThresholds>(src, &r.locator)
            .map_err(|p| FileProblems::one(path, p))?;
        for k in &unknown {
            let p = r.locator.unknown_key(k, "a rule", known_keys(k));
            r.problems.push(p);
        }
        // Rules with a value of the wrong type: what else they lack follows from it.
        let mistyped: Vec<usize> = type_errors
            .iter()
            .filter_map(|p| p.key.strip_prefix("rule["))
            .filter_map(|k| k.split_once(']')?.0.parse().ok())
            .collect();
        r.problems.extend(type_errors.into_iter().map(|mut p| {
            p.message.push_str(type_hint(&p.key));
            p
        }));
        let mut th = Thresholds {
            path: Some(path.to_path_buf()),
            ..Thresholds::default()
        };
        r.defaults(&mut th, raw.defaults.unwrap_or_default());
        for (i, rule) in raw.rule.iter().enumerate() {
            if let Some(rule) = r.rule(i, rule, mistyped.contains(&i)) {
                th.rules.push(rule);
            }
        }
        if r.problems.is_empty() {
            Ok(th)
        } else {
            r.problems.sort_by_key(|p| p.position);
            Err(FileProblems {
                file: path.to_path_buf(),
                problems: r.problems,
            })
        }
    }
}

impl Reader<'_> {
    fn defaults(&mut self, th: &mut Thresholds, d: RawDefaults) {
        let at = |k: &str| key_path(&[Seg::Key("defaults".into())], &[k]);
        if let Some(s) = &d.max_regression {
            if let Some(v) = self.check(percent(s), &at("max_regression")) {
                th.max_regression = v;
            }
        }
        if let Some(s) = &d.warn {
            if let Some(v) = self.check(percent(s), &at("warn")) {
                th.warn = v;
            }
        }
        if d.warn.is_none() {
            th.warn = th.warn.min(th.max_regression / 2.0);
        } else if th.warn > th.max_regression {
            self.problem(
                &at("warn"),
                "warn is above max_regression, so it could never show; make it smaller",
            );
        }
        if let Some(s) = &d.min_delta {
            if let Some(v) = self.check(millis(s), &at("min_delta")) {
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
                        let mut p = at("metrics");
                        p.push(Seg::Index(i));
                        self.problem(&p, unknown_metric(m));
                    }
                }
            }
        }
        if let Some(c) = d.confidence {
            if c > 0.5 && c < 1.0 {
                th.confidence = c;
            } else {
                self.problem(
                    &at("confidence"),
                    format!(
                        "{c} is not a confidence level; use a number between 0.5 and 1, e.g. 0.99"
                    ),
                );
            }
        }
    }

    /// Rule `i`, or None when it cannot apply (a problem has been recorded).
    fn rule(&mut self, i: usize, r: &RawRule, mistyped: bool) -> Option<Rule> {
        let rp = vec![Seg::Key("rule".into()), Seg::Index(i)];
        let at = |k: &str| key_path(&rp, &[k]);
        let metric = match &r.metric {
            None => None,
            Some(m) => match Metric::parse(m) {
                Some(m) => Some(m),
                None => {
                    self.problem(&at("metric"), unknown_metric(m));
                    return None;
                }
            },
        };
        if metric == Some(Metric::Throughput) && (r.max.is_some() || r.warn_above.is_some()) {
            self.problem(&rp, "absolute limits (max, warn_above) apply to latency and error_rate; a throughput drop is gated by max_regression");
            return None;
        }
        let mut value = |k: &str, s: &Option<String>| -> Option<f64> {
            let s = s.as_ref()?;
            match metric {
                Some(m) => self.check(metric_value(m, s), &at(k)),
                None if mistyped => None,
                None => {
                    self.problem(&at(k), format!("`{k}` is a value in the unit of one metric; add metric = \"p95\" (or the metric it limits)"));
                    None
                }
            }
        };
        let max = value("max", &r.max);
        let warn_above = value("warn_above", &r.warn_above);
        let min_delta = value("min_delta", &r.min_delta);
        let max_regression = r
            .max_regression
            .as_ref()
            .and_then(|s| self.check(percent(s), &at("max_regression")));
        let warn = r
            .warn
            .as_ref()
            .and_then(|s| self.check(percent(s), &at("warn")));
        if let (Some(w), Some(m)) = (warn_above, max) {
            if w > m {
                self.problem(
                    &at("warn_above"),
                    "warn_above is above max, so it could never show",
                );
            }
        }
        if r.endpoint.as_ref().is_some_and(|e| e.trim().is_empty()) {
            self.problem(
                &at("endpoint"),
                "empty endpoint pattern; omit `endpoint` to match all endpoints",
            );
        }
        let sets_nothing = r.max.is_none()
            && r.warn_above.is_none()
            && r.max_regression.is_none()
            && r.warn.is_none()
            && r.min_delta.is_none();
        if !mistyped && sets_nothing {
            self.problem(
                &rp,
                "this rule sets nothing; give max, warn_above, max_regression, warn or min_delta",
            );
        }
        Some(Rule {
            endpoint: r.endpoint.clone(),
            metric,
            max,
            warn_above,
            max_regression,
            warn,
            min_delta,
            position: self.locator.locate(&rp),
            index: i,
        })
    }
}

fn unknown_metric(m: &str) -> String {
    format!(
        "unknown metric \"{m}\"; the metrics are {}",
        Metric::names()
    )
}
