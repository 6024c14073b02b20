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
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
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
                Metric::Throughput | Metric::IterationsPerMin if n.is_finite() && *n >= 0.0 => {
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
        _ => millis(text),
    }
}

/// How a value of `metric` is written.
pub(super) fn example(metric: Metric) -> &'static str {
    match metric {
        Metric::ErrorRate | Metric::CompletionRate => "\"2%\"",
        Metric::Throughput => "\"100/s\"",
        Metric::IterationsPerMin => "20",
        Metric::RecoveryTime => "\"30s\"",
        _ => "\"200ms\"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
