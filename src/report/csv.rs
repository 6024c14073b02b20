//! Locust-compatible CSV (`<prefix>_stats.csv`, `<prefix>_stats_history.csv`,
//! `<prefix>_failures.csv`), column for column as Locust 2.x writes them (`locust/stats.py`,
//! `StatsCSV` and `StatsCSVFileWriter`), so analyses written for Locust's files run unchanged.
//!
//! Where perfgate knows more it says more in the same columns: percentiles are exact to the
//! microsecond (Locust rounds to two significant digits), written in ms with up to three
//! decimals; latencies are those of successful requests (Locust times failures too); the history
//! has a row per endpoint and second (Locust's `--csv-full-history`) and its percentiles are
//! those of that second.

use hdrhistogram::Histogram;

use crate::result::{decode_histogram, new_histogram};
use crate::result::{per_second, ratio, EndpointResult, ErrorsWire, RunResult};

/// Locust's `PERCENTILES_TO_REPORT`, and their column names.
const PERCENTILES: [f64; 11] = [
    0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
];
const PERCENTILE_COLUMNS: [&str; 11] = [
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
];

pub const STATS_COLUMNS: [&str; 11] = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
];
pub const HISTORY_COLUMNS: [&str; 6] = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
];
pub const HISTORY_TOTAL_COLUMNS: [&str; 7] = [
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];
pub const FAILURES_COLUMNS: [&str; 6] = [
    "Method",
    "Name",
    "Error",
    "Occurrences",
    "First Seen",
    "Last Seen",
];

/// The three files: (suffix, contents), e.g. `("_stats.csv", …)`.
pub fn render(r: &RunResult) -> Result<Vec<(&'static str, String)>, String> {
    Ok(vec![
        ("_stats.csv", stats(r)?),
        ("_stats_history.csv", history(r)?),
        ("_failures.csv", failures(r)?),
    ])
}

/// A field as Python's csv module writes it: quoted when it holds a comma, quote or newline.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().map(|c| field(&c)).collect();
    out.push_str(&cells.join(","));
    // Python's csv.writer ends rows with \r\n.
    out.push_str("\r\n");
}

/// A float as Python's `repr` writes it (`12.0`, `0.25`).
fn py(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Milliseconds to the microsecond, without trailing zeros (`12`, `1.25`).
fn ms(us: u64) -> String {
    let v = us as f64 / 1000.0;
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Type and Name: `GET /x` is method `GET`, name `/x`; a name without a method keeps it whole.
fn split(name: &str) -> (String, String) {
    match name.split_once(' ') {
        Some((m, rest)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => {
            (m.to_string(), rest.to_string())
        }
        _ => (String::new(), name.to_string()),
    }
}

fn percentile_cells(h: &Histogram<u64>, any: bool) -> Vec<String> {
    if !any {
        return vec!["N/A".to_string(); PERCENTILES.len()];
    }
    PERCENTILES
        .iter()
        .map(|q| {
            ms(if *q >= 1.0 {
                h.max()
            } else {
                h.value_at_quantile(*q)
            })
        })
        .collect()
}

fn mean_ms(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        (h.mean() / 1000.0 * 1e6).round() / 1e6
    }
}

fn min_ms(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        "0".into()
    } else {
        ms(h.min())
    }
}

/// The endpoints merged over the trials, sorted as Locust sorts (by name, then method).
fn merged(r: &RunResult) -> Result<Vec<EndpointResult>, String> {
    let mut out = Vec::new();
    for name in r.endpoint_names() {
        if let Some(e) = r.merged_endpoint(&name).map_err(|e| e.to_string())? {
            out.push(e);
        }
    }
    out.sort_by_key(|e| {
        let (m, n) = split(&e.name);
        (n, m)
    });
    Ok(out)
}

fn stats(r: &RunResult) -> Result<String, String> {
    let mut out = String::new();
    row(
        &mut out,
        STATS_COLUMNS
            .iter()
            .chain(&PERCENTILE_COLUMNS)
            .map(|c| c.to_string()),
    );
    let measured: f64 = r.trials.iter().map(|t| t.measured_s).sum();
    let (mut all_h, mut all_n, mut all_e, mut all_b) = (new_histogram(), 0u64, 0u64, 0u64);
    let line = |out: &mut String,
                kind: String,
                name: String,
                h: &Histogram<u64>,
                n: u64,
                e: u64,
                b: u64| {
        let mut cells = vec![
            kind,
            name,
            n.to_string(),
            e.to_string(),
            if h.is_empty() {
                "0".into()
            } else {
                ms(h.value_at_quantile(0.5))
            },
            py(mean_ms(h)),
            min_ms(h),
            ms(h.max()),
            py(ratio(b, n)),
            py(per_second(n, measured)),
            py(per_second(e, measured)),
        ];
        cells.extend(percentile_cells(h, n > 0));
        row(out, cells);
    };
    for e in merged(r)? {
        let h = decode_histogram(&e.histogram).map_err(|m| format!("{}: {m}", e.name))?;
        let (kind, name) = split(&e.name);
        line(
            &mut out,
            kind,
            name,
            &h,
            e.requests,
            e.errors.total,
            e.bytes_received,
        );
        all_h.add(&h).map_err(|x| format!("{x:?}"))?;
        all_n = all_n.saturating_add(e.requests);
        all_e = all_e.saturating_add(e.errors.total);
        all_b = all_b.saturating_add(e.bytes_received);
    }
    line(
        &mut out,
        String::new(),
        "Aggregated".into(),
        &all_h,
        all_n,
        all_e,
        all_b,
    );
    Ok(out)
}

/// Seconds since the Unix epoch of an RFC 3339 time; 0 when it does not parse.
fn unix(t: &str) -> u64 {
    humantime::parse_rfc3339_weak(t.trim_end_matches('Z'))
        .ok()
        .and_then(|s| s.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

/// Running totals of one endpoint (or of all), over the file.
struct Totals {
    h: Histogram<u64>,
    requests: u64,
    errors: u64,
    bytes: u64,
}

impl Totals {
    fn new() -> Totals {
        Totals {
            h: new_histogram(),
            requests: 0,
            errors: 0,
            bytes: 0,
        }
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.requests.to_string(),
            self.errors.to_string(),
            if self.h.is_empty() {
                "0".into()
            } else {
                ms(self.h.value_at_quantile(0.5))
            },
            py(mean_ms(&self.h)),
            min_ms(&self.h),
            ms(self.h.max()),
            py(ratio(self.bytes, self.requests)),
        ]
    }
}

fn history(r: &RunResult) -> Result<String, String> {
    let mut out = String::new();
    row(
        &mut out,
        HISTORY_COLUMNS
            .iter()
            .chain(&PERCENTILE_COLUMNS)
            .chain(&HISTORY_TOTAL_COLUMNS)
            .map(|c| c.to_string()),
    );
    let mut names = r.endpoint_names();
    names.sort_by_key(|n| {
        let (m, n) = split(n);
        (n, m)
    });
    let mut totals: Vec<Totals> = names.iter().map(|_| Totals::new()).collect();
    let mut all = Totals::new();
    let closed = r.meta.load.model != "open";
    for t in &r.trials {
        let start = unix(&t.started_at) + r.meta.load.warmup_s.ceil() as u64;
        let seconds = t
            .endpoints
            .iter()
            .map(|e| e.windows.len())
            .max()
            .unwrap_or(0);
        for i in 0..seconds {
            let users = t
                .load
                .get(i)
                .map_or(0, |l| if closed { l.active_users } else { l.in_flight });
            let stamp = (start + i as u64 + 1).to_string();
            let (mut sec_h, mut sec_n, mut sec_e) = (new_histogram(), 0u64, 0u64);
            for (name, tot) in names.iter().zip(totals.iter_mut()) {
                let Some(e) = t.endpoints.iter().find(|e| &e.name == name) else {
                    continue;
                };
                let Some(w) = e.windows.get(i) else { continue };
                let h = decode_histogram(&w.histogram).map_err(|m| format!("{name}: {m}"))?;
                let bytes =
                    (ratio(e.bytes_received, e.requests) * w.requests as f64).round() as u64;
                for into in [&mut *tot, &mut all] {
                    into.h.add(&h).map_err(|x| format!("{x:?}"))?;
                    into.requests = into.requests.saturating_add(w.requests);
                    into.errors = into.errors.saturating_add(w.errors);
                    into.bytes = into.bytes.saturating_add(bytes);
                }
                sec_h.add(&h).map_err(|x| format!("{x:?}"))?;
                sec_n = sec_n.saturating_add(w.requests);
                sec_e = sec_e.saturating_add(w.errors);
                let (kind, n) = split(name);
                let mut cells = vec![
                    stamp.clone(),
                    users.to_string(),
                    kind,
                    n,
                    format!("{:.6}", w.requests as f64),
                    format!("{:.6}", w.errors as f64),
                ];
                cells.extend(percentile_cells(&h, w.requests > 0));
                cells.extend(tot.cells());
                row(&mut out, cells);
            }
            let mut cells = vec![
                stamp,
                users.to_string(),
                String::new(),
                "Aggregated".to_string(),
                format!("{:.6}", sec_n as f64),
                format!("{:.6}", sec_e as f64),
            ];
            cells.extend(percentile_cells(&sec_h, sec_n > 0));
            cells.extend(all.cells());
            row(&mut out, cells);
        }
    }
    Ok(out)
}

/// Errors by kind: (kind as the samples name it, count).
fn kinds(e: &ErrorsWire) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = e
        .status
        .iter()
        .map(|(code, n)| (format!("status {code}"), *n))
        .collect();
    for (k, n) in [
        ("timeout", e.timeout),
        ("connect", e.connect),
        ("reset", e.reset),
        ("protocol", e.protocol),
        ("check", e.check),
        ("capture", e.capture),
    ] {
        out.push((k.to_string(), n));
    }
    out.retain(|(_, n)| *n > 0);
    out
}

fn failures(r: &RunResult) -> Result<String, String> {
    let mut out = String::new();
    row(&mut out, FAILURES_COLUMNS.iter().map(|c| c.to_string()));
    for e in merged(r)? {
        let (method, name) = split(&e.name);
        for (kind, n) in kinds(&e.errors) {
            let error = e
                .error_samples
                .iter()
                .find(|s| s.kind == kind)
                .map_or(kind.clone(), |s| format!("{kind}: {}", s.message));
            row(
                &mut out,
                [
                    method.clone(),
                    name.clone(),
                    error,
                    n.to_string(),
                    String::new(),
                    String::new(),
                ],
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_written_as_pythons_csv_module_writes_them() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("/x"), "/x");
        assert_eq!(py(12.0), "12.0");
        assert_eq!(py(0.25), "0.25");
        assert_eq!(ms(12_000), "12");
        assert_eq!(ms(1_250), "1.25");
        assert_eq!(split("GET /x y"), ("GET".into(), "/x y".into()));
        assert_eq!(split("login flow"), (String::new(), "login flow".into()));
        assert!(unix("2026-01-01T00:00:00Z") > 1_700_000_000);
        assert!(unix("2026-01-01T00:00:00.250Z") > 1_700_000_000);
    }

    #[test]
    fn the_three_files_have_locusts_headers_and_an_aggregated_row() {
        let r = crate::result::tests::sample();
        let files = render(&r).unwrap();
        let stats = &files[0].1;
        let header = stats.lines().next().unwrap();
        assert!(header.starts_with("Type,Name,Request Count,Failure Count,Median Response Time"));
        assert!(header.ends_with("99%,99.9%,99.99%,100%"));
        let last = stats.lines().last().unwrap();
        assert!(last.starts_with(",Aggregated,4,1,"), "{last}");
        let history = &files[1].1;
        assert_eq!(history.lines().count(), 3, "{history}");
        assert_eq!(files[2].1.lines().nth(1), Some("GET,/x,timeout,1,,"));
    }
}
