//! A starting profile from a browser's recorded session (HAR 1.2, as Chromium's DevTools,
//! Firefox and Playwright export it): one scenario per page (or one for the whole file), its
//! requests in order with method, path, query, the headers that matter and JSON or form
//! bodies, each expecting the status it got.
//!
//! The service is the host most of the requests that can be kept went to. What is left out,
//! and listed: requests to other hosts (a profile has one target; with `all_hosts` each other
//! host gets a draft of its own, `Draft::other_hosts`), static assets (scripts, styles, images,
//! fonts), CORS preflights, requests that got no response.
//! Browser noise (user agent, `sec-*`, encodings, cache validators) is dropped unless
//! `keep_headers`.
//!
//! Captures: a value a request sends (a path segment, a query value, a header's value or its
//! bearer token, a JSON or form string) that an earlier response's JSON body holds becomes a
//! capture on that earlier step (`capture = { id = "json:$.results[0].id" }`) and `{{id}}` in
//! the request — the latest earlier response wins. Only distinctive values are matched: strings
//! of eight characters or more with a digit (tokens, ids, UUIDs) or of sixteen or more, and
//! integers of two digits or more (a word or a small number matches by chance), JSON numbers in a
//! request body stay as recorded (a template is a string), and values computed by the page's
//! script (a hash, a timestamp) are left for the user. Secrets not captured — `Authorization`,
//! cookies, API keys, `password`/`token` fields and query parameters — are replaced by
//! `{{env.HAR_…}}` references, named in the notes.

mod parts;
mod reader;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use reqwest::Url;
use serde_json::Value;

use super::{Draft, DraftScenario, ScaffoldError};
use parts::{millis, origin, page_name};

/// How much of the recording to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HarOptions {
    pub keep_headers: bool,
    pub all_hosts: bool,
    pub include_static: bool,
    /// One scenario for the whole file instead of one per page.
    pub single: bool,
}

/// A value an earlier response's JSON holds: where, and the variable it is captured into.
pub(super) struct Known {
    pub(super) value: String,
    pub(super) scenario: usize,
    pub(super) step: usize,
    pub(super) path: String,
    /// The variable name the key suggests (`id`, `token`).
    pub(super) hint: String,
}

pub(super) struct Reader {
    pub(super) opts: HarOptions,
    pub(super) host: String,
    /// With --all-hosts: the other hosts (origin → the profile file their requests go to).
    pub(super) others: BTreeMap<String, String>,
    pub(super) draft: Draft,
    pub(super) known: Vec<Known>,
    /// (scenario, step, json path) → the variable it was captured into.
    pub(super) captured: BTreeMap<(usize, usize, String), String>,
    pub(super) numbers_kept: Vec<String>,
}

/// Reads `text` (the file `file`) as a HAR: the draft for the service (the host most kept
/// requests went to) and, with `all_hosts`, one in `other_hosts` for every other host with a
/// request that could be kept.
pub fn from_har(text: &str, file: &str, opts: HarOptions) -> Result<Draft, ScaffoldError> {
    let bad = |why: String| ScaffoldError::Invalid {
        file: file.to_string(),
        why,
    };
    let har: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no log.entries: not a HAR file".into()))?;
    if entries.is_empty() {
        return Err(bad("the HAR has no requests".into()));
    }
    // The service is the host most requests that can be kept went to (not a CDN serving the
    // page's assets); a tie goes to the host asked first.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for e in entries {
        if let Some(host) = keepable(e, opts) {
            match counts.iter_mut().find(|(h, _)| *h == host) {
                Some((_, n)) => *n += 1,
                None => counts.push((host, 1)),
            }
        }
    }
    let mut by_count = counts;
    by_count.sort_by_key(|(_, n)| std::cmp::Reverse(*n)); // stable: ties stay in the order first asked
    let Some((host, _)) = by_count.first().cloned() else {
        return Err(bad(
            "no request of the recording could be kept (all static, preflights, or without a response); try --include-static".into(),
        ));
    };
    let pages: BTreeMap<String, String> = har
        .pointer("/log/pages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, p)| {
            let id = p.get("id")?.as_str()?.to_string();
            let title = p.get("title").and_then(Value::as_str).unwrap_or_default();
            Some((id, page_name(title, i)))
        })
        .collect();
    let others: BTreeMap<String, String> = if opts.all_hosts {
        by_count[1..]
            .iter()
            .map(|(h, _)| (h.clone(), other_profile_file(h)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut draft = read_host(entries, &pages, &host, &others, opts)
        .ok_or_else(|| bad("no request of the recording could be kept (all static, to other hosts, or without a response); try --include-static or --all-hosts".into()))?;
    // Every other host, by name (`others` is empty without --all-hosts).
    for h in others.keys() {
        if let Some(mut d) = read_host(entries, &pages, h, &BTreeMap::new(), opts) {
            // Requests to the service are in perfgate.toml: not repeated as left out here.
            for s in &mut d.scenarios {
                s.left_out.retain(|l| !l.contains("another host"));
            }
            draft.other_hosts.push(d);
        }
    }
    Ok(draft)
}

/// The origin of an entry `read_host` would keep (ignoring hosts), else None.
fn keepable(e: &Value, opts: HarOptions) -> Option<String> {
    let url: Url = e.pointer("/request/url")?.as_str()?.parse().ok()?;
    let method = e.pointer("/request/method").and_then(Value::as_str);
    let status = e.pointer("/response/status").and_then(Value::as_u64);
    let mime = e
        .pointer("/response/content/mimeType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kept = matches!(url.scheme(), "http" | "https")
        && !method.is_some_and(|m| m.eq_ignore_ascii_case("OPTIONS"))
        && (opts.include_static || !parts::is_static(&url, mime))
        && status.is_some_and(|s| s != 0);
    kept.then(|| origin(&url))
}

/// The file `init --all-hosts` writes another host's profile to: `perfgate.HOST.toml`
/// (`perfgate.api.example.com-8443.toml` with a port).
pub fn other_profile_file(origin: &str) -> String {
    let host = origin.split_once("://").map_or(origin, |(_, h)| h);
    let slug: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("perfgate.{slug}.toml")
}

/// The draft of the requests to `host`; None when none could be kept. `others`: the other
/// hosts' profile files, named where their requests are left out.
fn read_host(
    entries: &[Value],
    pages: &BTreeMap<String, String>,
    host: &str,
    others: &BTreeMap<String, String>,
    opts: HarOptions,
) -> Option<Draft> {
    let mut r = Reader {
        opts,
        host: host.to_string(),
        others: others.clone(),
        draft: Draft {
            base_url: Some(host.to_string()),
            ..Draft::default()
        },
        known: Vec::new(),
        captured: BTreeMap::new(),
        numbers_kept: Vec::new(),
    };
    let mut ends: Vec<Option<f64>> = Vec::new();
    let mut gaps: Vec<Vec<f64>> = Vec::new();
    for e in entries {
        let scenario = if opts.single {
            "session".to_string()
        } else {
            e.get("pageref")
                .and_then(Value::as_str)
                .and_then(|p| pages.get(p).cloned())
                .unwrap_or_else(|| "session".to_string())
        };
        let si = match r.draft.scenarios.iter().position(|s| s.name == scenario) {
            Some(i) => i,
            None => {
                r.draft.scenarios.push(DraftScenario {
                    name: scenario,
                    ..DraftScenario::default()
                });
                ends.push(None);
                gaps.push(Vec::new());
                r.draft.scenarios.len() - 1
            }
        };
        let start = e
            .get("startedDateTime")
            .and_then(Value::as_str)
            .and_then(millis);
        let took = e
            .get("time")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .max(0.0);
        if r.entry(si, e) {
            if let (Some(prev), Some(s)) = (ends[si], start) {
                gaps[si].push(((s - prev) / 1000.0).max(0.0));
            }
            ends[si] = start.map(|s| s + took);
        }
    }
    for (s, g) in r.draft.scenarios.iter_mut().zip(&gaps) {
        let round = |x: f64| (x * 10.0).round() / 10.0;
        let lo = g.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = g.iter().copied().fold(0.0, f64::max);
        if !g.is_empty() && hi > 0.0 {
            s.think_time = Some((round(lo), round(hi).max(round(lo))));
        }
    }
    r.draft
        .scenarios
        .retain(|s| !s.steps.is_empty() || !s.left_out.is_empty());
    if r.draft.scenarios.iter().all(|s| s.steps.is_empty()) {
        return None;
    }
    if !r.numbers_kept.is_empty() {
        r.draft.notes.push(format!(
            "numbers in JSON bodies are kept as recorded though an earlier response returned them (a template is a string): {}",
            r.numbers_kept.join(", ")
        ));
    }
    r.draft.notes.push(
        "perfgate pauses between iterations, not between steps: think_time is the range of the recorded gaps between requests".into(),
    );
    Some(r.draft)
}
