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

    /// The unit of a row's values: ms for latency, % for error rate, req/s for throughput.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate => "%",
            Metric::Throughput => "req/s",
            _ => "ms",
        }
    }

    /// A value in the row's unit, for people: `25.8 ms`, `1.25%`, `123.4/s`.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::ErrorRate => units::percent_value(v),
            Metric::Throughput => units::rate(v),
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
    }
}
