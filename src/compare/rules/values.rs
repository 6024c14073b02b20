//! The values a rule holds, as written in `thresholds.toml`: percentages, durations, rates,
//! and endpoint patterns.

use super::Metric;

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

pub(super) fn percent(s: &str) -> Result<f64, String> {
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

pub(super) fn millis(s: &str) -> Result<f64, String> {
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

fn per_minute(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches("/min").trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not a rate; write iterations per minute, e.g. 20 or \"20/min\""
        )),
    }
}

/// An amount as a rule writes it: text with its unit ("200ms", "2%"), or a plain number where
/// the unit goes without saying (iterations per minute, requests per second).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(super) enum Amount {
    Number(f64),
    Text(String),
}

/// A value in the unit of `metric`: ms for latencies, a fraction for rates, req/s, iterations
/// per minute, seconds for a recovery time.
pub(super) fn metric_value(metric: Metric, a: &Amount) -> Result<f64, String> {
    let text = match a {
        Amount::Text(s) => s.as_str(),
        Amount::Number(n) => {
            return match metric {
                Metric::Throughput
                | Metric::IterationsPerMin
                | Metric::TargetCpu
                | Metric::Capacity
                    if n.is_finite() && *n >= 0.0 =>
                {
                    Ok(*n)
                }
                _ => Err(format!(
                    "{n} has no unit; write the value in quotes with its unit, e.g. {}",
                    example(metric)
                )),
            }
        }
    };
    match metric {
        Metric::ErrorRate | Metric::CompletionRate => percent(text),
        Metric::Throughput => per_second(text),
        Metric::IterationsPerMin => per_minute(text),
        Metric::RecoveryTime => millis(text).map(|ms| ms / 1000.0),
        Metric::TargetCpuPerRequest => micros(text),
        Metric::TargetCpu => cores(text),
        Metric::TargetRssPeak => megabytes(text, false),
        Metric::TargetRssGrowth => megabytes(text, true),
        Metric::Capacity => level(text),
        _ => millis(text),
    }
}

/// A load level: "100", "100 users", "250/s", "250 iterations/s".
fn level(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let n = ["iterations/s", "users", "/s"]
        .iter()
        .find_map(|u| t.strip_suffix(u))
        .unwrap_or(t);
    n.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("\"{s}\" is not a load level; write e.g. 100 (users) or \"250/s\""))
}

/// CPU time per request: "150us", "150µs", "0.2ms" → µs.
fn micros(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix("µs")) {
        (n, 1.0)
    } else {
        ("", 0.0)
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && scale > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "\"{s}\" is not a CPU time per request; write it with its unit, e.g. \"150us\" or \"0.2ms\""
        )),
    }
}

/// Cores: 1.5, "1.5", "150%" (of one core).
fn cores(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.trim_end_matches("cores").trim().parse::<f64>(),
    };
    match v {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not a CPU use; write cores, e.g. 1.5 or \"150%\""
        )),
    }
}

/// Memory in MB (10^6 bytes): "512MB", "1.5GB", "300MiB", "2GiB", "800KB"; with `per_hour`, the
/// same followed by "/h" (a growth may be negative).
fn megabytes(s: &str, per_hour: bool) -> Result<f64, String> {
    let mut t = s.trim();
    if per_hour {
        match t.strip_suffix("/h") {
            Some(rest) => t = rest.trim_end(),
            None => {
                return Err(format!(
                    "\"{s}\" is not a memory growth; write it per hour, e.g. \"50MB/h\""
                ))
            }
        }
    }
    let units = [
        ("GiB", 1073.741824),
        ("MiB", 1.048576),
        ("KiB", 0.001024),
        ("GB", 1000.0),
        ("MB", 1.0),
        ("KB", 0.001),
        ("kB", 0.001),
    ];
    let parsed = units.iter().find_map(|(u, scale)| {
        let n = t.strip_suffix(u)?.trim().parse::<f64>().ok()?;
        Some(n * scale)
    });
    match parsed {
        Some(v) if v.is_finite() && (per_hour || v >= 0.0) => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not an amount of memory; write it with its unit, e.g. {}",
            if per_hour {
                "\"50MB/h\""
            } else {
                "\"512MB\" or \"2GiB\""
            }
        )),
    }
}

/// How a value of `metric` is written.
pub(super) fn example(metric: Metric) -> &'static str {
    match metric {
        Metric::ErrorRate | Metric::CompletionRate => "\"2%\"",
        Metric::Throughput => "\"100/s\"",
        Metric::IterationsPerMin => "20",
        Metric::RecoveryTime => "\"30s\"",
        Metric::TargetCpuPerRequest => "\"150us\"",
        Metric::TargetCpu => "1.5",
        Metric::TargetRssPeak => "\"512MB\"",
        Metric::TargetRssGrowth => "\"50MB/h\"",
        Metric::Capacity => "100",
        _ => "\"200ms\"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_amounts_are_read_in_their_units() {
        let v = |m, s: &str| metric_value(m, &Amount::Text(s.to_string()));
        assert_eq!(v(Metric::TargetCpuPerRequest, "150us"), Ok(150.0));
        assert_eq!(v(Metric::TargetCpuPerRequest, "0.2ms"), Ok(200.0));
        assert_eq!(v(Metric::TargetCpu, "150%"), Ok(1.5));
        assert_eq!(
            metric_value(Metric::TargetCpu, &Amount::Number(2.0)),
            Ok(2.0)
        );
        assert_eq!(v(Metric::TargetRssPeak, "512MB"), Ok(512.0));
        assert_eq!(v(Metric::TargetRssPeak, "2GB"), Ok(2000.0));
        assert_eq!(v(Metric::TargetRssGrowth, "50MB/h"), Ok(50.0));
        assert_eq!(v(Metric::TargetRssGrowth, "-5MB/h"), Ok(-5.0));
        assert!(v(Metric::TargetRssGrowth, "50MB")
            .unwrap_err()
            .contains("per hour"));
        assert!(v(Metric::TargetRssPeak, "512")
            .unwrap_err()
            .contains("512MB"));
        assert!(v(Metric::TargetCpuPerRequest, "fast").is_err());
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
