//! How numbers are written for people, in one place so that every table, message and chat
//! payload shows the same value the same way: latencies with the precision their size needs,
//! rates, percentages, commit ids.

/// A latency in ms without its unit: 3 significant figures for small values, whole ms from
/// 100 ms (`2.35`, `25.8`, `251`).
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A latency in ms with its unit: `25.8 ms`.
pub fn latency(v: f64) -> String {
    format!("{} ms", ms(v))
}

/// A value already in percent: `1.25%`.
pub fn percent_value(v: f64) -> String {
    format!("{v:.2}%")
}

/// A fraction as a percentage: 0.123 → `12.3%`; an infinite change is `from zero`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_infinite() {
        "from zero".to_string()
    } else {
        format!("{:.1}%", fraction * 100.0)
    }
}

/// A relative change with its sign: `+12.3%`.
pub fn signed_percent(fraction: f64) -> String {
    format!("{:+.1}%", fraction * 100.0)
}

/// Requests (or iterations) per second: `123.4/s`.
pub fn rate(v: f64) -> String {
    format!("{v:.1}/s")
}

/// A load level: whole users as integers, rates with one decimal when they have one.
pub fn level(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The first 8 characters of a commit id, for display (any string: never cuts a character).
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(8).collect()
}

/// `n` and the noun, singular or plural: `1 check`, `3 checks`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_keep_three_figures_until_whole_ms() {
        assert_eq!(latency(2.345), "2.35 ms");
        assert_eq!(latency(25.83), "25.8 ms");
        assert_eq!(latency(250.6), "251 ms");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(percent(f64::INFINITY), "from zero");
        assert_eq!(signed_percent(-0.05), "-5.0%");
        assert_eq!(short_sha("0123456789abcdef"), "01234567");
        assert_eq!(plural(1, "trial", "trials"), "1 trial");
    }
}
