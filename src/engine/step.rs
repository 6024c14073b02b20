//! One step of a scenario: build the request from the user's state, send it, read and check the
//! response, take captures. Failures are data (`ErrorKind`), never `Err`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderValue;

use super::failure::Cause;
use super::transport::{Fetched, Prepared, Transport, BODY_SAMPLE};
use super::user::{Bound, UserState};
use crate::config::template::Template;
use crate::config::{Body, CaptureSource, JsonTemplate, Profile, Step};
use crate::metrics::{ErrorKind, Outcome};
use crate::redact::is_sensitive;

/// The result of one step: what to record, when it completed, and whether the iteration goes on.
pub struct StepResult {
    pub outcome: Outcome,
    pub done: Instant,
    /// What went wrong, kept only for failures (to describe the first of each kind).
    pub cause: Option<Box<Cause>>,
}

fn render(t: &Template, b: &mut Bound<'_>) -> Option<String> {
    t.render_to_string(b).ok()
}

fn render_json(j: &JsonTemplate, b: &mut Bound<'_>) -> Option<serde_json::Value> {
    use serde_json::Value as V;
    Some(match j {
        JsonTemplate::Null => V::Null,
        JsonTemplate::Bool(x) => V::Bool(*x),
        JsonTemplate::Number(n) => V::Number(n.clone()),
        JsonTemplate::String(t) => V::String(render(t, b)?),
        JsonTemplate::Array(a) => {
            V::Array(a.iter().map(|x| render_json(x, b)).collect::<Option<_>>()?)
        }
        JsonTemplate::Object(o) => V::Object(
            o.iter()
                .map(|(k, v)| Some((k.clone(), render_json(v, b)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fn failed(kind: ErrorKind, start: Instant, cause: Cause) -> StepResult {
    let done = Instant::now();
    StepResult {
        outcome: Outcome {
            latency: done.saturating_duration_since(start),
            bytes_received: 0,
            error: Some(kind),
        },
        done,
        cause: Some(Box::new(cause)),
    }
}

fn template_failed(start: Instant, what: &'static str) -> StepResult {
    failed(ErrorKind::Capture, start, Cause::Template(what))
}

fn prepare(step: &Step, prefix: &str, b: &mut Bound<'_>) -> Result<Prepared, &'static str> {
    let rendered = match &step.static_url {
        Some(_) => None,
        None => {
            let mut text = String::with_capacity(prefix.len() + 64);
            text.push_str(prefix);
            step.path
                .render(b, &mut text)
                .map_err(|_| "the path uses a variable not captured yet")?;
            Some(text)
        }
    };
    let mut headers = Vec::with_capacity(step.dynamic_headers.len());
    for (name, t) in &step.dynamic_headers {
        let v = render(t, b).ok_or("a header uses a variable not captured yet")?;
        let mut v = HeaderValue::from_str(&v)
            .map_err(|_| "a rendered header value is not a valid header")?;
        if is_sensitive(name) {
            v.set_sensitive(true);
        }
        headers.push((name.clone(), v));
    }
    const BODY_VAR: &str = "the body uses a variable not captured yet";
    let body = match &step.body {
        Body::None => Bytes::new(),
        Body::Static { bytes, .. } => bytes.clone(),
        Body::Json(j) => Bytes::from(render_json(j, b).ok_or(BODY_VAR)?.to_string()),
        Body::Text(t) => Bytes::from(render(t, b).ok_or(BODY_VAR)?),
        Body::Form(fields) => {
            let mut enc = form_urlencoded::Serializer::new(String::new());
            for (k, t) in fields {
                let v = render(t, b).ok_or("the form uses a variable not captured yet")?;
                enc.append_pair(k, &v);
            }
            Bytes::from(enc.finish())
        }
    };
    Ok(Prepared {
        rendered,
        headers,
        body,
    })
}

/// What the steps of one worker share: how requests are sent, to where, within what time.
pub struct StepCtx<'a> {
    pub transport: &'a Transport,
    pub profile: &'a Profile,
    /// The base URL without its trailing `/`.
    pub prefix: &'a str,
    pub timeout: Duration,
}

/// Sends `step` for `user`. Latency runs from `start`: the scheduled start in the open model
/// (so a stalled server shows up even for requests that could not be sent on time), the send
/// time otherwise.
pub async fn execute(
    cx: &StepCtx<'_>,
    step: &Step,
    user: &mut UserState,
    start: Option<Instant>,
) -> StepResult {
    let start = start.unwrap_or_else(Instant::now);
    let mut b = Bound {
        user,
        data: &cx.profile.datasets,
    };
    let prepared = match prepare(step, cx.prefix, &mut b) {
        Ok(p) => p,
        Err(what) => return template_failed(start, what),
    };
    let fetched = match cx.transport.fetch(b.user, step, prepared, cx.timeout).await {
        Ok(f) => f,
        Err(broken) => {
            let mut r = failed(broken.kind, start, broken.cause);
            r.outcome.bytes_received = broken.bytes;
            return r;
        }
    };
    let done = Instant::now();
    let failure = judge(step, &fetched, b.user);
    let Fetched {
        mut body,
        bytes: bytes_received,
        url,
        ..
    } = fetched;
    let cause = failure.map(|(_, reason)| {
        let truncated = (bytes_received as usize) > BODY_SAMPLE.min(body.len());
        body.truncate(BODY_SAMPLE);
        Box::new(Cause::Response {
            url: url.unwrap_or_default(),
            reason,
            body,
            truncated,
        })
    });
    StepResult {
        outcome: Outcome {
            latency: done.saturating_duration_since(start),
            bytes_received,
            error: failure.map(|(kind, _)| kind),
        },
        done,
        cause,
    }
}

/// Whether a response meets the step's expectations, taking its captures into the user's
/// variables; the failure and why, when it does not.
fn judge(step: &Step, f: &Fetched, user: &mut UserState) -> Option<(ErrorKind, &'static str)> {
    if !step.expect.status_ok(f.status.as_u16()) {
        let reason = f.status.canonical_reason().unwrap_or("unexpected status");
        return Some((ErrorKind::Status(f.status.as_u16()), reason));
    }
    if let Some(needle) = &step.expect.body_contains {
        if !contains(&f.body, needle.as_bytes()) {
            return Some((
                ErrorKind::Check,
                "the body does not contain the expected text",
            ));
        }
    }
    if step.captures.is_empty() {
        return None;
    }
    let json: Option<serde_json::Value> = step
        .captures
        .iter()
        .any(|c| matches!(c.source, CaptureSource::Json(_)))
        .then(|| serde_json::from_slice(&f.body).ok())
        .flatten();
    for c in &step.captures {
        let value = match &c.source {
            CaptureSource::Header(h) => f
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            CaptureSource::Json(path) => json.as_ref().and_then(|j| {
                path.query(j).first().map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }),
        };
        match value {
            Some(v) => user.vars[c.slot] = Some(v),
            None if f.bytes as usize > f.body.len() => {
                return Some((
                    ErrorKind::Capture,
                    "a capture found nothing (the body was longer than the 4 MiB kept)",
                ))
            }
            None => {
                return Some((
                    ErrorKind::Capture,
                    "a capture found nothing in the response",
                ))
            }
        }
    }
    None
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
