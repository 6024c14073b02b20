//! `[[scenario.step]]` (and `on_start`): the request line, headers, body, expectations and
//! captures of one step, with every template resolved and everything that never varies built
//! once (the URL, the static headers, the body).

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};

use super::{idx, key, Ctx};
use crate::config::model::*;
use crate::config::raw::{RawExpect, RawStatus, RawStep};
use crate::config::template::{Scope, Template};
use crate::diag::Seg;
use crate::redact::is_sensitive;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What every step of the profile shares while it is validated.
pub(super) struct StepCx<'a> {
    /// The names templates may use.
    pub scope: Scope<'a>,
    /// Values read from the environment: secrets wherever requests are shown.
    pub secrets: Vec<String>,
    /// `[target].headers`, merged into every step.
    pub default_headers: Vec<(HeaderName, Template)>,
    /// The base URL without its trailing `/`, when it is valid.
    pub prefix: Option<String>,
    /// Endpoint names; a step's `endpoint` indexes this list.
    pub endpoints: Vec<String>,
}

impl StepCx<'_> {
    fn template(&mut self, cx: &mut Ctx<'_>, p: &[Seg], s: &str) -> Option<Template> {
        match Template::parse(s, &self.scope, &mut self.secrets) {
            Ok(t) => Some(t),
            Err(e) => {
                cx.problem(p, e);
                None
            }
        }
    }

    pub fn header(
        &mut self,
        cx: &mut Ctx<'_>,
        p: &[Seg],
        name: &str,
        value: &str,
    ) -> Option<(HeaderName, Template)> {
        let hn = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(h) => h,
            Err(_) => {
                cx.problem(p, format!("\"{name}\" is not a valid header name"));
                return None;
            }
        };
        let t = self.template(cx, p, value)?;
        if let Some(s) = t.as_static() {
            if HeaderValue::from_str(s).is_err() {
                cx.problem(p, "the header value has characters a header cannot carry (control characters or newlines)");
                return None;
            }
        }
        Some((hn, t))
    }

    /// One step, or None when it cannot be sent (every problem has been recorded).
    pub fn step(&mut self, cx: &mut Ctx<'_>, p: &[Seg], rs: &RawStep) -> Option<Step> {
        let Some(request) = rs.request.as_deref() else {
            cx.problem(
                p,
                "a step needs request = \"METHOD /path\", e.g. request = \"GET /api/v1/shows/\"",
            );
            return None;
        };
        let rp = key(p, "request");
        let (method, path) = request_line(cx, &rp, request)?;
        let path_t = self.template(cx, &rp, path);
        // Headers: the target's defaults, overridden by the step's own (names compare
        // case-insensitively).
        let mut headers = self.default_headers.clone();
        for (k, v) in &rs.headers {
            if let Some((name, t)) = self.header(cx, &key(&key(p, "headers"), k), k, v) {
                headers.retain(|(n, _)| n != name);
                headers.push((name, t));
            }
        }
        let body = self.body(cx, p, rs);
        let expect = expect(cx, p, rs.expect.as_ref());
        let captures = self.captures(cx, p, rs);
        let (path_t, body, method) = (path_t?, body?, method?);
        let static_url = match (&self.prefix, path_t.as_static()) {
            (Some(prefix), Some(rendered)) => match Url::parse(&format!("{prefix}{rendered}")) {
                Ok(u) => Some(u),
                Err(e) => {
                    // The raw path, not the rendered one: that may hold an {{env.*}} value.
                    cx.problem(
                        &rp,
                        format!("\"{path}\" does not make a valid URL with the base URL: {e}"),
                    );
                    return None;
                }
            },
            _ => None,
        };
        let (static_headers, dynamic_headers) = split_headers(headers, &body);
        let name = rs
            .name
            .clone()
            .unwrap_or_else(|| format!("{method} {path}"));
        let endpoint = match self.endpoints.iter().position(|e| *e == name) {
            Some(i) => i,
            None => {
                self.endpoints.push(name);
                self.endpoints.len() - 1
            }
        };
        let static_origin = static_url.as_ref().map(origin_form);
        Some(Step {
            id: 0, // numbered once the profile is complete
            endpoint,
            method,
            path: path_t,
            static_url,
            static_origin,
            static_headers,
            dynamic_headers,
            body,
            expect,
            captures,
        })
    }

    fn body(&mut self, cx: &mut Ctx<'_>, p: &[Seg], rs: &RawStep) -> Option<Body> {
        let bodies = [rs.json.is_some(), rs.body.is_some(), rs.form.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if bodies > 1 {
            cx.problem(p, "give at most one of json, body and form");
        }
        if let Some(json) = &rs.json {
            let j = self.json_template(cx, &key(p, "json"), json)?;
            return Some(match json_static(&j) {
                Some(v) => Body::Static {
                    bytes: Bytes::from(v.to_string()),
                    content_type: "application/json",
                },
                None => Body::Json(j),
            });
        }
        if let Some(text) = &rs.body {
            let t = self.template(cx, &key(p, "body"), text)?;
            return Some(match t.as_static() {
                Some(s) => Body::Static {
                    bytes: Bytes::from(s.to_string()),
                    content_type: "text/plain; charset=utf-8",
                },
                None => Body::Text(t),
            });
        }
        let Some(form) = &rs.form else {
            return Some(Body::None);
        };
        let fields: Vec<(String, Template)> = form
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.template(cx, &key(&key(p, "form"), k), v)?)))
            .collect();
        if !fields.iter().all(|(_, t)| t.as_static().is_some()) {
            return Some(Body::Form(fields));
        }
        let mut enc = form_urlencoded::Serializer::new(String::new());
        for (k, t) in &fields {
            enc.append_pair(k, t.as_static().unwrap_or_default());
        }
        Some(Body::Static {
            bytes: Bytes::from(enc.finish()),
            content_type: "application/x-www-form-urlencoded",
        })
    }

    fn captures(&mut self, cx: &mut Ctx<'_>, p: &[Seg], rs: &RawStep) -> Vec<Capture> {
        let mut captures = Vec::new();
        for (var, spec) in &rs.capture {
            let cp = key(&key(p, "capture"), var);
            let Some(slot) = self.scope.vars.iter().position(|v| v == var) else {
                continue; // reported when collecting names
            };
            let source = if let Some(path) = spec.strip_prefix("json:") {
                match serde_json_path::JsonPath::parse(path.trim()) {
                    Ok(jp) => CaptureSource::Json(jp),
                    Err(e) => {
                        cx.problem(
                            &cp,
                            format!(
                                "\"{path}\" is not a JSONPath ({e}); e.g. \"json:$.results[0].id\""
                            ),
                        );
                        continue;
                    }
                }
            } else if let Some(h) = spec.strip_prefix("header:") {
                match HeaderName::from_bytes(h.trim().as_bytes()) {
                    Ok(h) => CaptureSource::Header(h),
                    Err(_) => {
                        cx.problem(&cp, format!("\"{h}\" is not a header name"));
                        continue;
                    }
                }
            } else {
                cx.problem(&cp, format!("\"{spec}\": say where the value comes from: \"json:$.path\" or \"header:Name\""));
                continue;
            };
            captures.push(Capture { slot, source });
        }
        captures
    }

    fn json_template(
        &mut self,
        cx: &mut Ctx<'_>,
        p: &[Seg],
        v: &toml::Value,
    ) -> Option<JsonTemplate> {
        Some(match v {
            toml::Value::String(s) => JsonTemplate::String(self.template(cx, p, s)?),
            toml::Value::Integer(i) => JsonTemplate::Number((*i).into()),
            toml::Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => JsonTemplate::Number(n),
                None => {
                    cx.problem(p, format!("{f} cannot be written in JSON"));
                    return None;
                }
            },
            toml::Value::Boolean(b) => JsonTemplate::Bool(*b),
            toml::Value::Datetime(d) => JsonTemplate::String(Template::literal(d.to_string())),
            toml::Value::Array(a) => JsonTemplate::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut ip = p.to_vec();
                        ip.push(Seg::Index(i));
                        self.json_template(cx, &ip, v)
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            toml::Value::Table(t) => JsonTemplate::Object(
                t.iter()
                    .map(|(k, v)| Some((k.clone(), self.json_template(cx, &key(p, k), v)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
        })
    }
}

/// `"GET /path"` → the method (None when unknown: reported) and the path.
fn request_line<'r>(
    cx: &mut Ctx<'_>,
    rp: &[Seg],
    request: &'r str,
) -> Option<(Option<Method>, &'r str)> {
    let Some((method, path)) = request.trim().split_once(char::is_whitespace) else {
        cx.problem(
            rp,
            format!("\"{request}\" is not \"METHOD /path\", e.g. \"GET /api/v1/shows/\""),
        );
        return None;
    };
    let path = path.trim();
    let method = if METHODS.contains(&method) {
        Method::from_bytes(method.as_bytes()).ok()
    } else {
        cx.problem(
            rp,
            format!(
                "unknown method \"{method}\"; use one of {}",
                METHODS.join(", ")
            ),
        );
        None
    };
    if !path.starts_with('/') {
        cx.problem(
            rp,
            format!("the path \"{path}\" must start with `/` (it is joined to target.base_url)"),
        );
    }
    Some((method, path))
}

/// The headers without variables (built once, sensitive ones marked so) and those rendered per
/// request; the body's content type unless the step sets one.
fn split_headers(
    headers: Vec<(HeaderName, Template)>,
    body: &Body,
) -> (HeaderMap, Vec<(HeaderName, Template)>) {
    let has_content_type = headers.iter().any(|(n, _)| n == CONTENT_TYPE);
    let mut static_headers = HeaderMap::new();
    let mut dynamic_headers = Vec::new();
    for (name, t) in headers {
        match t.as_static().and_then(|s| HeaderValue::from_str(s).ok()) {
            Some(mut v) => {
                if is_sensitive(&name) {
                    v.set_sensitive(true);
                }
                static_headers.insert(name, v);
            }
            None => dynamic_headers.push((name, t)),
        }
    }
    let content_type = match body {
        Body::Static { content_type, .. } => Some(*content_type),
        Body::Json(_) => Some("application/json"),
        Body::Text(_) => Some("text/plain; charset=utf-8"),
        Body::Form(_) => Some("application/x-www-form-urlencoded"),
        Body::None => None,
    };
    if let (Some(ct), false) = (content_type, has_content_type) {
        static_headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    (static_headers, dynamic_headers)
}

fn expect(cx: &mut Ctx<'_>, p: &[Seg], e: Option<&RawExpect>) -> Expect {
    let Some(e) = e else {
        return Expect {
            status: vec![(200, 399)],
            body_contains: None,
        };
    };
    let ep = key(p, "expect");
    let status = match &e.status {
        None => vec![(200, 399)],
        Some(list) if list.is_empty() => {
            cx.problem(&key(&ep, "status"), "an empty list would fail every request; list the statuses you expect, e.g. [200, 201] or [\"2xx\"]");
            vec![]
        }
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| status_range(cx, &idx(&ep, "status", i), s))
            .collect(),
    };
    if e.body_contains.as_deref() == Some("") {
        cx.problem(
            &key(&ep, "body_contains"),
            "an empty string is in every body; remove it or give the text to look for",
        );
    }
    Expect {
        status,
        body_contains: e.body_contains.clone(),
    }
}

fn status_range(cx: &mut Ctx<'_>, p: &[Seg], s: &RawStatus) -> Option<(u16, u16)> {
    let bad = |cx: &mut Ctx<'_>, what: String| {
        cx.problem(p, format!("{what} is not a status; write a code (429), a class (\"2xx\") or a range (\"200-299\")"));
        None
    };
    let code = |v: i64| (100..=599).contains(&v).then_some(v as u16);
    match s {
        RawStatus::Code(c) => match code(*c) {
            Some(c) => Some((c, c)),
            None => bad(cx, c.to_string()),
        },
        RawStatus::Pattern(text) => {
            let t = text.trim().to_ascii_lowercase();
            if t.len() == 3 && t.ends_with("xx") {
                if let Some(d) = t[..1].parse::<u16>().ok().filter(|d| (1..=5).contains(d)) {
                    return Some((d * 100, d * 100 + 99));
                }
            }
            if let Some((a, b)) = t.split_once('-') {
                if let (Some(a), Some(b)) = (
                    a.trim().parse().ok().and_then(code),
                    b.trim().parse().ok().and_then(code),
                ) {
                    if a <= b {
                        return Some((a, b));
                    }
                }
            }
            match t.parse().ok().and_then(code) {
                Some(c) => Some((c, c)),
                None => bad(cx, format!("\"{text}\"")),
            }
        }
    }
}

/// The JSON value when no string in it has a variable.
fn json_static(j: &JsonTemplate) -> Option<serde_json::Value> {
    use serde_json::Value as V;
    Some(match j {
        JsonTemplate::Null => V::Null,
        JsonTemplate::Bool(b) => V::Bool(*b),
        JsonTemplate::Number(n) => V::Number(n.clone()),
        JsonTemplate::String(t) => V::String(t.as_static()?.to_string()),
        JsonTemplate::Array(a) => V::Array(a.iter().map(json_static).collect::<Option<_>>()?),
        JsonTemplate::Object(o) => V::Object(
            o.iter()
                .map(|(k, v)| Some((k.clone(), json_static(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}
