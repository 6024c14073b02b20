//! Starting profiles made from what a team already has: a browser's recorded session (`har`,
//! HAR 1.2) or the service's API description (`openapi`, OpenAPI 3.0/3.1 in JSON or YAML).
//! Each reads its file into a `Draft` — scenarios of steps, and notes on what was left out or
//! needs the user — which `render` writes as the `[[scenario]]` part of a `perfgate.toml`
//! (`perfgate init --from-har | --from-openapi`). Data in, text out: nothing here prints or
//! touches the network.

pub mod har;
pub mod openapi;

use std::collections::BTreeMap;
use std::fmt::Write;

/// Why a file could not be read as a HAR or an OpenAPI document.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{file}: {why}")]
    Invalid { file: String, why: String },
}

/// A profile's scenarios as they were found, before they are written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The service the requests went to (HAR) or the document's first absolute server.
    pub base_url: Option<String>,
    pub scenarios: Vec<DraftScenario>,
    /// What the user should know: what was left out, what to fill in, secrets replaced.
    pub notes: Vec<String>,
    /// Environment variables the profile reads (`{{env.NAME}}`), to be set before a run.
    pub env: Vec<String>,
    /// HAR with --all-hosts: the requests to every other host, a profile each (a profile has
    /// one target).
    pub other_hosts: Vec<Draft>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftScenario {
    pub name: String,
    /// The pause between iterations, seconds (min, max).
    pub think_time: Option<(f64, f64)>,
    pub steps: Vec<DraftStep>,
    /// Lines written as comments after the steps (requests kept out, with why).
    pub left_out: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftStep {
    pub method: String,
    /// Path and query, templates included (`/shows/{{id}}/?page=1`).
    pub path: String,
    /// The endpoint's name when it differs from the request line (`GET /shows/[id]/`).
    pub name: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub json: Option<serde_json::Value>,
    pub form: Option<BTreeMap<String, String>>,
    pub body: Option<String>,
    pub expect_status: Option<u16>,
    /// Variable → `json:$.path`.
    pub capture: BTreeMap<String, String>,
}

impl Draft {
    /// Adds `name` to the environment variables the profile reads, once.
    pub fn needs_env(&mut self, name: &str) {
        if !self.env.iter().any(|e| e == name) {
            self.env.push(name.to_string());
        }
    }
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quoted(k)
    }
}

/// A JSON value as an inline TOML value; None for a null (TOML has none), reported by the
/// caller.
pub fn inline_toml(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as V;
    Some(match v {
        V::Null => return None,
        V::Bool(b) => b.to_string(),
        V::Number(n) => n.to_string(),
        V::String(s) => quoted(s),
        V::Array(a) => {
            let items: Vec<String> = a.iter().filter_map(inline_toml).collect();
            format!("[{}]", items.join(", "))
        }
        V::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .filter_map(|(k, v)| Some(format!("{} = {}", key(k), inline_toml(v)?)))
                .collect();
            if items.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", items.join(", "))
            }
        }
    })
}

fn inline_map(m: &BTreeMap<String, String>) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), quoted(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// Seconds as a profile duration: `0.4s`.
fn secs(s: f64) -> String {
    let ms = (s * 1000.0).round() / 1000.0;
    format!("{ms}s")
}

/// The `[[scenario]]` tables of the draft, with its notes as comments before them.
pub fn render(d: &Draft) -> String {
    let mut out = String::new();
    for n in &d.notes {
        for (i, line) in n.lines().enumerate() {
            let lead = if i == 0 { "# note: " } else { "#   " };
            let _ = writeln!(out, "{lead}{line}");
        }
    }
    if !d.env.is_empty() {
        let _ = writeln!(
            out,
            "# Set before a run (values found in the file were replaced by these): {}",
            d.env.join(", ")
        );
    }
    for s in &d.scenarios {
        let _ = writeln!(out, "\n[[scenario]]\nname = {}", quoted(&s.name));
        if let Some((lo, hi)) = s.think_time {
            let t = if (hi - lo).abs() < 1e-9 {
                secs(lo)
            } else {
                format!("{}..{}", secs(lo), secs(hi))
            };
            let _ = writeln!(
                out,
                "think_time = {}        # between iterations: the recorded gaps between requests",
                quoted(&t)
            );
        }
        for st in &s.steps {
            let _ = writeln!(out, "\n[[scenario.step]]");
            let _ = writeln!(
                out,
                "request = {}",
                quoted(&format!("{} {}", st.method, st.path))
            );
            if let Some(n) = &st.name {
                let _ = writeln!(out, "name = {}", quoted(n));
            }
            if !st.headers.is_empty() {
                let _ = writeln!(out, "headers = {}", inline_map(&st.headers));
            }
            if let Some(j) = st.json.as_ref().and_then(inline_toml) {
                let _ = writeln!(out, "json = {j}");
            }
            if let Some(f) = &st.form {
                let _ = writeln!(out, "form = {}", inline_map(f));
            }
            if let Some(b) = &st.body {
                let _ = writeln!(out, "body = {}", quoted(b));
            }
            if let Some(code) = st.expect_status {
                let _ = writeln!(out, "expect = {{ status = [{code}] }}");
            }
            if !st.capture.is_empty() {
                let _ = writeln!(out, "capture = {}", inline_map(&st.capture));
            }
        }
        if !s.left_out.is_empty() {
            let _ = writeln!(out, "\n# Left out of \"{}\":", s.name);
            for l in &s.left_out {
                let _ = writeln!(out, "#   {l}");
            }
        }
    }
    out
}

/// A path template's name for reports: `{id}` → `[id]` (`GET /shows/[id]/`).
pub fn endpoint_name(method: &str, template: &str) -> String {
    format!("{method} {}", template.replace('{', "[").replace('}', "]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_renders_as_scenarios_a_profile_reads() {
        let d = Draft {
            base_url: None,
            notes: vec!["one\ntwo".into()],
            env: vec!["PERFGATE_AUTHORIZATION".into()],
            scenarios: vec![DraftScenario {
                name: "page \"1\"".into(),
                think_time: Some((0.3, 0.8)),
                steps: vec![DraftStep {
                    method: "POST".into(),
                    path: "/orders/{{id}}".into(),
                    name: Some("POST /orders/[id]".into()),
                    headers: [("X-Api-Key".to_string(), "{{env.KEY}}".to_string())].into(),
                    json: Some(serde_json::json!({"a": [1, "x"], "b c": {"d": true}, "n": null})),
                    expect_status: Some(201),
                    capture: [("tok".to_string(), "json:$.token".to_string())].into(),
                    ..Default::default()
                }],
                left_out: vec!["GET https://cdn.example/x.js (static)".into()],
            }],
            other_hosts: Vec::new(),
        };
        let text = render(&d);
        let v: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let step = &v["scenario"][0]["step"][0];
        assert_eq!(step["request"].as_str(), Some("POST /orders/{{id}}"));
        assert_eq!(step["json"]["b c"]["d"].as_bool(), Some(true));
        assert!(step["json"].get("n").is_none(), "TOML has no null");
        assert_eq!(v["scenario"][0]["think_time"].as_str(), Some("0.3s..0.8s"));
        assert!(text.starts_with("# note: one\n#   two\n"), "{text}");
        assert!(text.contains("#   GET https://cdn.example/x.js (static)"));
    }
}
