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

/// A value in the unit of `metric`: ms for latency, a fraction for error rate, req/s.
pub(super) fn metric_value(metric: Metric, s: &str) -> Result<f64, String> {
    match metric {
        Metric::ErrorRate => percent(s),
        Metric::Throughput => per_second(s),
        _ => millis(s),
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
