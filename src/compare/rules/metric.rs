//! What the gate compares: one enum, from which the names in files, messages and reports, the
//! unit and the direction of "worse" all follow.

use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

use crate::units;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    #[strum(to_string = "p50", serialize = "median")]
    P50,
    P75,
    P90,
    P95,
    P99,
    #[serde(rename = "p99.9")]
    #[strum(to_string = "p99.9", serialize = "p999")]
    P999,
    Mean,
    Max,
    ErrorRate,
    Throughput,
    /// A flow's completed iterations among those that ended.
    CompletionRate,
    /// A flow's iteration duration (first step sent → last response).
    IterationP50,
    IterationP95,
    IterationP99,
    /// A flow's completed iterations per minute.
    IterationsPerMin,
    /// Seconds from a stage's start until a metric is back within a limit, and stays there.
    RecoveryTime,
    /// The target's CPU time per completed request, µs.
    TargetCpuPerRequest,
    /// The target's CPU use, cores.
    TargetCpu,
    /// The target's peak resident memory, MB.
    TargetRssPeak,
    /// The slope of the target's resident memory over the measured time, MB per hour.
    TargetRssGrowth,
    /// The highest load level that met the SLO (`perfgate capacity`): users or iterations/s.
    Capacity,
}

impl Metric {
    /// The metric a name in a file means (`p95`, `median`, `error_rate`, …).
    pub fn parse(s: &str) -> Option<Metric> {
        s.trim().parse().ok()
    }

    /// How the metric is named in files and reports.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Every metric's name, for messages: "p50, p75, …, throughput".
    pub fn names() -> String {
        Metric::iter()
            .map(Metric::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The quantile of a latency metric, of an endpoint's or of a flow's iterations (None for
    /// mean, max, and the others).
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::P50 | Metric::IterationP50 => Some(0.5),
            Metric::P75 => Some(0.75),
            Metric::P90 => Some(0.9),
            Metric::P95 | Metric::IterationP95 => Some(0.95),
            Metric::P99 | Metric::IterationP99 => Some(0.99),
            Metric::P999 => Some(0.999),
            _ => None,
        }
    }

    /// An endpoint's latency.
    pub fn is_latency(self) -> bool {
        matches!(
            self,
            Metric::P50
                | Metric::P75
                | Metric::P90
                | Metric::P95
                | Metric::P99
                | Metric::P999
                | Metric::Mean
                | Metric::Max
        )
    }

    /// A flow's iteration duration.
    pub fn is_iteration_latency(self) -> bool {
        matches!(
            self,
            Metric::IterationP50 | Metric::IterationP95 | Metric::IterationP99
        )
    }

    /// A metric of a scenario's flow rather than of an endpoint.
    pub fn is_flow(self) -> bool {
        self.is_iteration_latency()
            || matches!(self, Metric::CompletionRate | Metric::IterationsPerMin)
    }

    /// A metric of the target's own resources rather than of its answers.
    pub fn is_target(self) -> bool {
        matches!(
            self,
            Metric::TargetCpuPerRequest
                | Metric::TargetCpu
                | Metric::TargetRssPeak
                | Metric::TargetRssGrowth
        )
    }

    /// A fraction shown as a percentage (limits written "2%", rows in percent).
    pub fn is_rate(self) -> bool {
        matches!(self, Metric::ErrorRate | Metric::CompletionRate)
    }

    /// Whether a higher value is worse.
    pub fn higher_is_worse(self) -> bool {
        !matches!(
            self,
            Metric::Throughput
                | Metric::CompletionRate
                | Metric::IterationsPerMin
                | Metric::Capacity
        )
    }

    /// The unit of a row's values.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate | Metric::CompletionRate => "%",
            Metric::Throughput => "req/s",
            Metric::IterationsPerMin => "/min",
            Metric::RecoveryTime => "s",
            Metric::TargetCpuPerRequest => "µs",
            Metric::TargetCpu => "cores",
            Metric::TargetRssPeak => "MB",
            Metric::TargetRssGrowth => "MB/h",
            Metric::Capacity => "level",
            _ => "ms",
        }
    }

    /// A value in the row's unit, for people: `25.8 ms`, `1.25%`, `123.4/s`, `12.0/min`, `9 s`.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::ErrorRate | Metric::CompletionRate => units::percent_value(v),
            Metric::Throughput => units::rate(v),
            Metric::IterationsPerMin => format!("{v:.1}/min"),
            Metric::RecoveryTime => format!("{v:.0} s"),
            Metric::TargetCpuPerRequest => format!("{v:.1} µs"),
            Metric::TargetCpu => format!("{v:.2} cores"),
            Metric::TargetRssPeak => format!("{v:.1} MB"),
            Metric::TargetRssGrowth => format!("{v:+.1} MB/h"),
            Metric::Capacity => units::level(v),
            _ => units::latency(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_are_read() {
        for m in Metric::iter() {
            assert_eq!(Metric::parse(m.name()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()), "serde and strum agree");
        }
        assert_eq!(Metric::parse("median"), Some(Metric::P50));
        assert_eq!(Metric::parse("p999"), Some(Metric::P999));
        assert_eq!(Metric::parse("latency"), None);
        assert!(Metric::names().starts_with("p50, p75, p90"));
        assert_eq!(Metric::parse("iteration_p95"), Some(Metric::IterationP95));
        assert_eq!(Metric::IterationsPerMin.name(), "iterations_per_min");
        assert!(Metric::CompletionRate.is_flow() && !Metric::CompletionRate.higher_is_worse());
        assert_eq!(
            Metric::parse("target_rss_growth"),
            Some(Metric::TargetRssGrowth)
        );
        assert!(Metric::TargetCpuPerRequest.is_target() && !Metric::TargetCpu.is_flow());
    }
}
