//! The HTML report: one self-contained file (no script, no network: a CI artifact is opened
//! offline, and GitHub's artifact viewer serves no CDN), with the charts drawn as inline SVG by
//! `charts`. The verdict comes first, then the same table model the terminal and Markdown
//! render, then the run over time, the latency distributions, flows, error samples and the
//! run's meta. Light and dark mode follow the reader's system; the layout narrows to a phone.

mod charts;

use std::fmt::Write as _;

use super::svg::escape;
use super::table::{TableModel, TableRow, COLUMNS, FLOW_COLUMNS};
use super::Report;
use crate::compare::Verdict;
use crate::result::RunResult;

const STYLE: &str = include_str!("style.css");

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Improved => "improved",
        Verdict::New => "new",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Warn => "warn",
        Verdict::Missing => "missing",
        Verdict::Fail => "fail",
    }
}

fn section(out: &mut String, title: &str, body: &str) {
    if !body.is_empty() {
        let _ = write!(out, "<section><h2>{}</h2>{body}</section>", escape(title));
    }
}

/// A table of checks, numeric cells right-aligned, each row coloured by its verdict.
fn check_table(rows: &[&TableRow]) -> String {
    let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
    for c in COLUMNS.iter().chain(&["why", "detectable"]) {
        let _ = write!(s, "<th>{c}</th>");
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        let _ = write!(s, "<tr class=\"{}\">", class(r.verdict));
        for (i, c) in r.cells.iter().enumerate() {
            let num = if (2..=4).contains(&i) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(s, "<td{num}>{}</td>", escape(c));
        }
        let _ = write!(
            s,
            "<td class=\"why\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&r.reason),
            escape(&r.detectable)
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

/// As in the Markdown: the checks that need a look, then every check, folded (a `details`
/// element, which needs no script), so the charts are near the top.
fn checks(m: &TableModel) -> String {
    let notable: Vec<&TableRow> = m
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    let mut s = if notable.is_empty() {
        "<p>No endpoint got worse beyond the allowed margins.</p>".to_string()
    } else {
        check_table(&notable)
    };
    let all: Vec<&TableRow> = m.rows.iter().collect();
    let _ = write!(
        s,
        "<details><summary>All {} checks</summary>{}</details>",
        all.len(),
        check_table(&all)
    );
    s
}

fn flows(m: &TableModel) -> String {
    if m.flows.is_empty() {
        return String::new();
    }
    let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
    for c in FLOW_COLUMNS {
        let _ = write!(s, "<th>{c}</th>");
    }
    s.push_str("</tr></thead><tbody>");
    for f in &m.flows {
        s.push_str("<tr>");
        for (i, c) in f.iter().enumerate() {
            let num = if i > 0 { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{num}>{}</td>", escape(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// The first failure of each kind per endpoint, as the result holds them (already redacted).
fn errors(r: &RunResult) -> String {
    let mut s = String::new();
    for name in r.endpoint_names() {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        let mut total = 0u64;
        for e in r
            .trials
            .iter()
            .flat_map(|t| t.endpoints.iter().filter(|e| e.name == name))
        {
            total = total.saturating_add(e.errors.total);
            for x in &e.error_samples {
                if !seen.iter().any(|(k, _)| *k == x.kind) {
                    seen.push((&x.kind, &x.message));
                }
            }
        }
        for (kind, message) in seen {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{total}</td></tr>",
                escape(&name),
                escape(kind),
                escape(message)
            );
        }
    }
    if s.is_empty() {
        return String::new();
    }
    format!(
        "<div class=\"scroll\"><table><thead><tr><th>endpoint</th><th>kind</th><th>first seen</th>\
         <th>errors in all</th></tr></thead><tbody>{s}</tbody></table></div>"
    )
}

fn meta(r: &RunResult, label: &str) -> String {
    let m = &r.meta;
    let mut rows: Vec<(&str, String)> = vec![
        (
            "profile",
            format!(
                "{} ({}, hash {})",
                m.profile.name, m.profile.path, m.profile.hash
            ),
        ),
        ("started", m.started_at.clone()),
        ("target", m.base_url.clone()),
    ];
    if let Some(g) = &m.git {
        let mut v = g.sha.clone().unwrap_or_default();
        if let Some(b) = &g.branch {
            let _ = write!(v, " on {b}");
        }
        if g.dirty == Some(true) {
            v.push_str(" (uncommitted changes)");
        }
        if let Some(pr) = g.pr {
            let _ = write!(v, ", pull request #{pr}");
        }
        rows.push(("git", v));
    }
    let l = &m.load;
    let level = match (l.users, l.rate) {
        (Some(u), _) => format!("{u} users"),
        (None, Some(r)) => format!("{r} iterations/s"),
        _ => String::new(),
    };
    rows.push((
        "load",
        format!(
            "{} model, {level}, {} trials of {}s after {}s warmup, seed {}",
            l.model, l.trials, l.duration_s, l.warmup_s, l.seed
        ),
    ));
    rows.push((
        "host",
        format!(
            "{}, {} cores, {} {}",
            m.host.cpu_model, m.host.cores, m.host.os, m.host.kernel
        ),
    ));
    rows.push(("perfgate", m.perfgate_version.clone()));
    if !r.complete {
        rows.push((
            "incomplete",
            r.incomplete_reason.clone().unwrap_or_else(|| "yes".into()),
        ));
    }
    let mut s = format!("<h3>{}</h3><dl>", escape(label));
    for (k, v) in rows {
        let _ = write!(s, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    s.push_str("</dl>");
    s
}

/// The report as one HTML page; an error names a histogram in a result that does not decode.
pub fn render(r: &Report) -> Result<String, String> {
    let c = r.comparison;
    let m = TableModel::new(c);
    let title = format!("perfgate · {}: {}", c.profile, c.verdict.label());
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{}</title><style>{STYLE}</style>\
         </head><body><main><header class=\"verdict v-{}\"><h1>{}</h1><p><b>{}</b> · {}</p>",
        escape(&title),
        class(c.verdict),
        escape(&title),
        escape(&m.tally),
        escape(&m.context)
    );
    if let Some(d) = &m.detectability {
        let _ = write!(out, "<p class=\"muted\">{}.</p>", escape(d));
    }
    out.push_str("</header>");
    for n in &m.notes {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(n));
    }
    section(&mut out, "Checks", &checks(&m));
    if let Some(cur) = r.current {
        if let Some(cap) = &cur.capacity {
            let body = format!(
                "<p>{}</p>{}",
                escape(&super::capacity::answer(cap)),
                charts::capacity(cap)
            );
            section(&mut out, "Capacity", &body);
        }
        section(&mut out, "Over time", &charts::over_time(cur, r.baseline)?);
        if !cur.trials.is_empty() {
            section(
                &mut out,
                "Latency distribution",
                &charts::distributions(c, cur, r.baseline)?,
            );
        }
    }
    section(&mut out, "Flows", &flows(&m));
    if let Some(cur) = r.current {
        section(&mut out, "Error samples", &errors(cur));
        let mut body = meta(cur, &format!("current: {}", c.current.label));
        if let Some(b) = r.baseline {
            body.push_str(&meta(b, &c.baseline.label));
        }
        section(&mut out, "Run", &body);
    }
    out.push_str("</main></body></html>\n");
    Ok(out)
}
