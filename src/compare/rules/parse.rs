//! Reading `thresholds.toml` like the profile: raw serde types, unknown keys collected (with the
//! keys that exist and the likeliest one meant), every problem reported with its line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::values::{example, metric_value, millis, percent, Amount};
use super::{Metric, Rule, Thresholds};
use crate::diag::toml::{deserialize, fields, Known, Locator};
use crate::diag::{self, key_path, FileProblems, Problem, Seg};

#[derive(Debug, Deserialize, Serialize, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawThresholds {
    defaults: Option<RawDefaults>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize, Serialize, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawDefaults {
    max_regression: Option<String>,
    warn: Option<String>,
    min_delta: Option<String>,
    metrics: Option<Vec<String>>,
    confidence: Option<f64>,
}

#[derive(Debug, Deserialize, Serialize, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawRule {
    endpoint: Option<String>,
    scenario: Option<String>,
    stage: Option<String>,
    vs_stage: Option<String>,
    metric: Option<String>,
    max: Option<Amount>,
    warn_above: Option<Amount>,
    min: Option<Amount>,
    warn_below: Option<Amount>,
    max_regression: Option<String>,
    warn: Option<String>,
    min_delta: Option<Amount>,
    within: Option<String>,
    hold: Option<i64>,
    abort_on_fail: Option<bool>,
    abort_grace: Option<String>,
}

/// The JSON Schema of `thresholds.toml` (`perfgate schema thresholds`).
pub fn schema() -> String {
    crate::diag::toml::schema_of::<RawThresholds>("perfgate thresholds.toml")
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
        "min_delta" | "max" | "warn_above" | "min" | "warn_below" | "within" => {
            "; write a value in quotes in the metric's unit, e.g. \"200ms\", or \"2%\" for error_rate"
        }
        "hold" => "; write a whole number of seconds, e.g. 3",
        "abort_on_fail" => "; write true or false",
        "abort_grace" => "; write a duration in quotes, e.g. \"10s\"",
        "stage" | "vs_stage" => "; write a stage name in quotes, e.g. \"peak\"",
        "scenario" => "; write a scenario name in quotes, e.g. \"checkout\"",
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
        if !self.kind_fits(&rp, r, metric) {
            return None;
        }
        let mut value = |k: &str, a: &Option<Amount>| -> Option<f64> {
            let a = a.as_ref()?;
            match metric {
                Some(m) => self.check(metric_value(m, a), &at(k)),
                None if mistyped => None,
                None => {
                    self.problem(&at(k), format!("`{k}` is a value in the unit of one metric; add metric = \"p95\" (or the metric it limits)"));
                    None
                }
            }
        };
        let max = value("max", &r.max);
        let warn_above = value("warn_above", &r.warn_above);
        let min = value("min", &r.min);
        let warn_below = value("warn_below", &r.warn_below);
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
        if let (Some(w), Some(m)) = (warn_below, min) {
            if w < m {
                self.problem(
                    &at("warn_below"),
                    "warn_below is below min, so it could never show",
                );
            }
        }
        for (k, v) in [
            ("endpoint", &r.endpoint),
            ("scenario", &r.scenario),
            ("stage", &r.stage),
            ("vs_stage", &r.vs_stage),
        ] {
            if v.as_ref().is_some_and(|e| e.trim().is_empty()) {
                self.problem(
                    &at(k),
                    format!("an empty {k}; omit `{k}` to match them all"),
                );
            }
        }
        let (within, hold, abort) = self.recovery_and_abort(&rp, r);
        let sets_nothing = r.max.is_none()
            && r.warn_above.is_none()
            && r.min.is_none()
            && r.warn_below.is_none()
            && r.max_regression.is_none()
            && r.warn.is_none()
            && r.min_delta.is_none()
            && r.vs_stage.is_none();
        if !mistyped && sets_nothing {
            self.problem(&rp, "this rule sets nothing; give max, warn_above, min, warn_below, max_regression, warn or min_delta");
        }
        Some(Rule {
            endpoint: r.endpoint.clone(),
            scenario: r.scenario.clone(),
            stage: r.stage.clone(),
            vs_stage: r.vs_stage.clone(),
            metric,
            max,
            warn_above,
            min,
            warn_below,
            max_regression,
            warn,
            min_delta,
            within,
            hold,
            abort,
            position: self.locator.locate(&rp),
            index: i,
        })
    }

    /// A recovery rule's limit and hold, and an abort rule's grace period.
    #[allow(clippy::type_complexity)]
    fn recovery_and_abort(
        &mut self,
        rp: &[Seg],
        r: &RawRule,
    ) -> (
        Option<(Metric, f64)>,
        Option<u32>,
        Option<std::time::Duration>,
    ) {
        let at = |k: &str| key_path(rp, &[k]);
        let within = r.within.as_ref().and_then(|w| {
            let parsed = if w.trim().ends_with('%') {
                percent(w).map(|v| (Metric::ErrorRate, v))
            } else {
                millis(w).map(|v| (Metric::P95, v))
            };
            self.check(parsed, &at("within"))
        });
        let hold = match r.hold {
            None => None,
            Some(h) if (1..=3600).contains(&h) => Some(h as u32),
            Some(h) => {
                self.problem(
                    &at("hold"),
                    format!("{h}: give a number of seconds from 1 to 3600"),
                );
                None
            }
        };
        let abort = match (r.abort_on_fail, &r.abort_grace) {
            (Some(true), g) => {
                let grace = g.as_ref().map_or(Ok(super::DEFAULT_ABORT_GRACE), |g| {
                    humantime::parse_duration(g.trim())
                        .map_err(|_| format!("\"{g}\" is not a duration; write e.g. \"10s\""))
                });
                self.check(grace, &at("abort_grace"))
            }
            (_, Some(_)) => {
                self.problem(&at("abort_grace"), "abort_grace without abort_on_fail = true does nothing; add it, or remove abort_grace");
                None
            }
            _ => None,
        };
        (within, hold, abort)
    }

    /// Whether the rule's keys fit its kind (a check, stage against stage, recovery, an abort
    /// limit, a flow); each misfit is a problem.
    fn kind_fits(&mut self, rp: &[Seg], r: &RawRule, metric: Option<Metric>) -> bool {
        let at = |k: &str| key_path(rp, &[k]);
        let before = self.problems.len();
        let flow = metric.is_some_and(Metric::is_flow);
        if metric == Some(Metric::Throughput) && (r.max.is_some() || r.warn_above.is_some()) {
            self.problem(rp, "absolute limits (max, warn_above) apply to latency and rates; a throughput drop is gated by max_regression, a floor by min");
        }
        if (r.min.is_some() || r.warn_below.is_some()) && metric.is_none_or(|m| m.higher_is_worse())
        {
            self.problem(&at("min"), "min and warn_below are floors for what must stay high: throughput, completion_rate, iterations_per_min; for latency and error rates write max");
        }
        if (r.max.is_some() || r.warn_above.is_some())
            && metric.is_some_and(|m| !m.higher_is_worse())
        {
            self.problem(
                &at("max"),
                format!(
                    "{} must stay high: give it a floor with min = {}",
                    metric.map_or("", Metric::name),
                    example(metric.unwrap_or(Metric::P95))
                ),
            );
        }
        if r.scenario.is_some() && (r.endpoint.is_some() || metric.is_some_and(|m| !m.is_flow())) {
            self.problem(&at("scenario"), "a scenario rule is about a flow: give metric = \"completion_rate\", \"iteration_p95\" or \"iterations_per_min\", and no endpoint");
        }
        if metric.is_some_and(Metric::is_target) && (r.endpoint.is_some() || r.scenario.is_some()) {
            self.problem(
                &at(if r.endpoint.is_some() { "endpoint" } else { "scenario" }),
                "target metrics are about the whole service (its processes' CPU and memory): remove endpoint and scenario",
            );
        }
        if flow && r.endpoint.is_some() {
            self.problem(
                &at("endpoint"),
                "flow metrics are about scenarios: write scenario = \"NAME\" instead of endpoint",
            );
        }
        if r.vs_stage.is_some() {
            if r.stage.is_none()
                || !metric.is_some_and(|m| m.is_latency() || m.is_iteration_latency())
            {
                self.problem(&at("vs_stage"), "a stage-against-stage rule needs stage = \"peak\", vs_stage = \"baseline\" and a latency metric, e.g. metric = \"p95\"");
            }
            if r.max.is_some() || r.min.is_some() {
                self.problem(&at("vs_stage"), "a stage-against-stage rule is relative: give max_regression (and warn), not max or min");
            }
        }
        if metric == Some(Metric::RecoveryTime)
            && (r.stage.is_none() || r.within.is_none() || r.max.is_none())
        {
            self.problem(rp, "a recovery rule needs stage = \"recovery\", max = \"30s\" and within = \"200ms\" (the p95 to be back under) or within = \"1%\" (the error rate)");
        }
        if (r.within.is_some() || r.hold.is_some()) && metric != Some(Metric::RecoveryTime) {
            self.problem(
                &at("within"),
                "within and hold belong to metric = \"recovery_time\"",
            );
        }
        if r.abort_on_fail == Some(true) {
            let per_second = metric.is_some_and(|m| {
                matches!(
                    m,
                    Metric::P50 | Metric::P95 | Metric::P99 | Metric::ErrorRate
                )
            });
            if !per_second || r.max.is_none() || r.vs_stage.is_some() {
                self.problem(&at("abort_on_fail"), "abort_on_fail stops the run on an absolute limit seen every second: give metric = \"p50\", \"p95\", \"p99\" or \"error_rate\" and max");
            }
        }
        self.problems.len() == before
    }
}

fn unknown_metric(m: &str) -> String {
    format!(
        "unknown metric \"{m}\"; the metrics are {}",
        Metric::names()
    )
}
