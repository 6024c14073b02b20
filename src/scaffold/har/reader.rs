//! Reading a HAR's entries one by one into steps: what is left out and why, captures from
//! earlier responses, secrets replaced by environment references, bodies and headers.

use std::collections::BTreeMap;

use reqwest::Url;
use serde_json::Value;

use super::parts::*;
use super::{Known, Reader};
use crate::scaffold::{endpoint_name, DraftStep};

impl Reader {
    /// Adds one entry as a step of scenario `si`, or to what is left out. Whether it was kept.
    pub(super) fn entry(&mut self, si: usize, e: &Value) -> bool {
        let req = e.get("request").unwrap_or(&Value::Null);
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("GET")
            .to_uppercase();
        let Some(url) = req
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<Url>().ok())
        else {
            return false;
        };
        let status = e
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mime = e
            .pointer("/response/content/mimeType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let line = format!("{method} {url}");
        let other: String;
        let why = if !matches!(url.scheme(), "http" | "https") {
            Some("not HTTP")
        } else if method == "OPTIONS" {
            Some("a CORS preflight, which the browser sent by itself")
        } else if origin(&url) != self.host {
            other = match self.others.get(&origin(&url)) {
                Some(f) => format!("another host: in {f}"),
                None if self.opts.all_hosts => {
                    "another host, none of whose requests could be kept (static assets, preflights, no response)".into()
                }
                None => "another host; a profile has one target (--all-hosts writes a profile for each host)".into(),
            };
            Some(other.as_str())
        } else if !self.opts.include_static && is_static(&url, mime) {
            Some("a static asset; --include-static keeps it")
        } else if status == 0 {
            Some("no response in the recording")
        } else {
            None
        };
        if let Some(why) = why {
            self.draft.scenarios[si]
                .left_out
                .push(format!("{line} — {why}"));
            return false;
        }
        let mut step = DraftStep {
            method: method.clone(),
            expect_status: u16::try_from(status)
                .ok()
                .filter(|s| (100..600).contains(s)),
            ..DraftStep::default()
        };
        let step_index = self.draft.scenarios[si].steps.len();
        // The path, segment by segment, values an earlier response returned captured.
        let mut templated = false;
        let mut named = Vec::new();
        let mut segs = Vec::new();
        for seg in url.path().split('/') {
            match self.capture_of(seg, si, step_index) {
                Some(var) => {
                    segs.push(format!("{{{{{var}}}}}"));
                    named.push(format!("[{var}]"));
                    templated = true;
                }
                None => {
                    segs.push(seg.to_string());
                    named.push(seg.to_string());
                }
            }
        }
        let mut path = segs.join("/");
        let mut query = Vec::new();
        for (k, v) in url.query_pairs() {
            let v = match self.capture_of(&v, si, step_index) {
                Some(var) => format!("{{{{{var}}}}}"),
                None if SECRET_FIELDS.contains(&k.to_ascii_lowercase().as_str()) => self.secret(&k),
                None => v.into_owned(),
            };
            let enc: String = form_urlencoded::byte_serialize(k.as_bytes()).collect();
            // A template must stay readable: encode around it.
            let val = if v.contains("{{") {
                v
            } else {
                form_urlencoded::byte_serialize(v.as_bytes()).collect()
            };
            query.push(format!("{enc}={val}"));
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        if templated || !query.is_empty() {
            step.name = Some(endpoint_name(&method, &named.join("/")));
        }
        step.path = path;
        self.headers(req, &mut step, si, step_index);
        self.body(req, &mut step, si, step_index);
        self.draft.scenarios[si].steps.push(step);
        self.learn(e, si, step_index);
        true
    }

    /// The variable holding `value`, captured from the latest earlier response that has it.
    pub(super) fn capture_of(&mut self, value: &str, si: usize, step: usize) -> Option<String> {
        let numeric = value.bytes().all(|b| b.is_ascii_digit());
        if (numeric && value.len() < 2) || (!numeric && !distinctive(value)) {
            return None;
        }
        let k = self
            .known
            .iter()
            .rev()
            .find(|k| k.value == value && k.scenario == si && k.step < step)?;
        let id = (k.scenario, k.step, k.path.clone());
        if let Some(var) = self.captured.get(&id) {
            return Some(var.clone());
        }
        let base = var_name(&k.hint);
        let taken = |n: &str| self.captured.values().any(|v| v == n);
        let mut var = base.clone();
        let mut n = 2;
        while taken(&var) {
            var = format!("{base}_{n}");
            n += 1;
        }
        let (scenario, at, path) = (k.scenario, k.step, k.path.clone());
        self.draft.scenarios[scenario].steps[at]
            .capture
            .insert(var.clone(), format!("json:{path}"));
        self.captured.insert(id, var.clone());
        Some(var)
    }

    /// `{{env.HAR_NAME}}` for a secret found in the recording, noted once.
    pub(super) fn secret(&mut self, field: &str) -> String {
        let name = env_name(field);
        if !self.draft.env.contains(&name) {
            self.draft.needs_env(&name);
            self.draft.notes.push(format!(
                "the recording's `{field}` was a secret: it is read from the environment as {name} (never written here)"
            ));
        }
        format!("{{{{env.{name}}}}}")
    }

    pub(super) fn headers(&mut self, req: &Value, step: &mut DraftStep, si: usize, at: usize) {
        let has_body =
            req.pointer("/postData/text").is_some() || req.pointer("/postData/params").is_some();
        for h in req
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(value)) = (
                h.get("name").and_then(Value::as_str),
                h.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            let lower = name.to_ascii_lowercase();
            let noise = NOISE.contains(&lower.as_str())
                || lower.starts_with("sec-")
                || (lower == "accept" && (value == "*/*" || value.contains("text/html")));
            if lower.starts_with(':') || MANAGED.contains(&lower.as_str()) {
                continue;
            }
            if !self.opts.keep_headers && noise {
                continue;
            }
            // json and form set their own content type.
            if lower == "content-type"
                && has_body
                && (value.contains("json") || value.contains("x-www-form-urlencoded"))
            {
                continue;
            }
            if lower == "cookie" && !self.opts.keep_headers {
                if !self.draft.notes.iter().any(|n| n.starts_with("cookies")) {
                    self.draft.notes.push(
                        "cookies were left out (--keep-headers keeps them, read from the environment as HAR_COOKIE)".into(),
                    );
                }
                continue;
            }
            let kept = if let Some(token) = value.strip_prefix("Bearer ") {
                match self.capture_of(token, si, at) {
                    Some(var) => format!("Bearer {{{{{var}}}}}"),
                    None => format!("Bearer {}", self.secret(name)),
                }
            } else if SECRET_HEADERS.contains(&lower.as_str()) {
                match self.capture_of(value, si, at) {
                    Some(var) => format!("{{{{{var}}}}}"),
                    None => self.secret(name),
                }
            } else {
                match self.capture_of(value, si, at) {
                    Some(var) => format!("{{{{{var}}}}}"),
                    None => value.to_string(),
                }
            };
            step.headers.insert(name.to_string(), kept);
        }
    }

    pub(super) fn body(&mut self, req: &Value, step: &mut DraftStep, si: usize, at: usize) {
        let Some(post) = req.get("postData") else {
            return;
        };
        let mime = post.get("mimeType").and_then(Value::as_str).unwrap_or("");
        let text = post.get("text").and_then(Value::as_str);
        if mime.contains("json") {
            if let Some(mut v) = text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
                self.template_json(&mut v, "", si, at);
                step.json = Some(v);
                return;
            }
        }
        if mime.contains("x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> = match post.get("params").and_then(Value::as_array) {
                Some(ps) => ps
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.get("name")?.as_str()?.to_string(),
                            p.get("value")?.as_str()?.to_string(),
                        ))
                    })
                    .collect(),
                None => form_urlencoded::parse(text.unwrap_or("").as_bytes())
                    .into_owned()
                    .collect(),
            };
            let mut form = BTreeMap::new();
            for (k, v) in pairs {
                let v = match self.capture_of(&v, si, at) {
                    Some(var) => format!("{{{{{var}}}}}"),
                    None if SECRET_FIELDS.contains(&k.to_ascii_lowercase().as_str()) => {
                        self.secret(&k)
                    }
                    None => v,
                };
                form.insert(k, v);
            }
            step.form = Some(form);
            return;
        }
        if let Some(t) = text {
            step.body = Some(t.to_string());
            if !mime.is_empty() {
                step.headers.insert("Content-Type".into(), mime.to_string());
            }
        }
    }

    /// Captures and secrets in a JSON request body's leaves.
    pub(super) fn template_json(&mut self, v: &mut Value, key: &str, si: usize, at: usize) {
        match v {
            Value::String(s) => {
                if let Some(var) = self.capture_of(s, si, at) {
                    *s = format!("{{{{{var}}}}}");
                } else if SECRET_FIELDS.contains(&key.to_ascii_lowercase().as_str()) {
                    *s = self.secret(key);
                }
            }
            Value::Number(n) => {
                let t = n.to_string();
                let earlier = self
                    .known
                    .iter()
                    .any(|k| k.value == t && k.scenario == si && k.step < at);
                if earlier && t.len() >= 2 {
                    self.numbers_kept.push(format!("`{key}` = {t}"));
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.template_json(x, key, si, at);
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    self.template_json(x, k, si, at);
                }
            }
            _ => {}
        }
    }

    /// The values of the entry's JSON response, for later requests to capture.
    pub(super) fn learn(&mut self, e: &Value, si: usize, step: usize) {
        let Some(content) = e.pointer("/response/content") else {
            return;
        };
        if !content
            .get("mimeType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .contains("json")
        {
            return;
        }
        let Some(text) = content.get("text").and_then(Value::as_str) else {
            return;
        };
        let decoded;
        let text = if content.get("encoding").and_then(Value::as_str) == Some("base64") {
            use base64::Engine;
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
                return;
            };
            decoded = String::from_utf8_lossy(&bytes).into_owned();
            decoded.as_str()
        } else {
            text
        };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let mut out = Vec::new();
        leaves(&v, "$".into(), &mut out, "value");
        for (value, path, hint) in out {
            self.known.push(Known {
                value,
                scenario: si,
                step,
                path,
                hint,
            });
        }
    }
}
