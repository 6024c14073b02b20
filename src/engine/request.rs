//! One step of a scenario: build the request from the user's state, send it, read and check the
//! response, take captures. Failures are data (`ErrorKind`), never `Err`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, StatusCode, Url};

use super::direct::{self, Direct, DirectError};

use crate::config::template::{Template, Vars};
use crate::config::{origin_form, Body, CaptureSource, Dataset, JsonTemplate, Profile, Step};
use crate::metrics::{ErrorKind, Outcome};

/// Bodies read for checks and captures are kept up to this size; the rest is read and counted,
/// not kept, so a huge or endless body costs time, not memory.
pub const BODY_KEEP_LIMIT: usize = 4 << 20;
/// How much of an unexpected response's body is kept to describe it.
const BODY_SAMPLE: usize = 200;

/// The state one virtual user carries between requests.
pub struct UserState {
    pub id: u64,
    pub vars: Vec<Option<String>>,
    /// This user's row in each data set.
    rows: Vec<usize>,
    pub rng: ChaCha8Rng,
    pub iteration: u64,
    /// Per scenario: whether its `on_start` steps have succeeded for this user.
    pub started: Vec<bool>,
    /// This user's own keep-alive connection (direct HTTP/1.1 client).
    pub conn: Option<direct::Conn>,
    /// Where this user's requests are serialized (direct client), reused.
    pub scratch: Vec<u8>,
}

/// SplitMix64: derives well-spread seeds from (seed, trial, user) without a shared generator.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl UserState {
    pub fn new(profile: &Profile, id: u64, seed: u64, trial: u32) -> Self {
        UserState {
            id,
            vars: vec![None; profile.vars.len()],
            rows: profile
                .datasets
                .iter()
                .map(|d| (id as usize) % d.rows.len().max(1))
                .collect(),
            rng: ChaCha8Rng::seed_from_u64(mix(seed ^ mix(trial as u64 ^ mix(id)))),
            iteration: 0,
            started: vec![false; profile.scenarios.len()],
            conn: None,
            scratch: Vec::new(),
        }
    }
}

struct Bound<'a> {
    user: &'a mut UserState,
    data: &'a [Dataset],
}

impl Vars for Bound<'_> {
    fn var(&self, slot: usize) -> Option<&str> {
        self.user.vars.get(slot)?.as_deref()
    }
    fn data(&self, set: usize, column: usize) -> &str {
        let Some(d) = self.data.get(set) else {
            return "";
        };
        d.rows
            .get(self.user.rows[set])
            .and_then(|r| r.get(column))
            .map_or("", String::as_str)
    }
    fn user_id(&self) -> u64 {
        self.user.id
    }
    fn iteration(&self) -> u64 {
        self.user.iteration
    }
    fn random_u64(&mut self) -> u64 {
        self.user.rng.gen()
    }
}

/// The result of one step: what to record, when it completed, and whether the iteration goes on.
pub struct StepResult {
    pub outcome: Outcome,
    pub done: Instant,
    /// What went wrong, kept only for failures (to describe the first of each kind).
    pub cause: Option<Box<Cause>>,
}

/// The evidence behind a failure.
pub enum Cause {
    /// The client failed: connect, timeout, reset, malformed response.
    Client(reqwest::Error),
    /// The direct HTTP/1.1 client failed.
    Direct { url: String, error: DirectError },
    /// A response arrived but failed its expectations.
    Response {
        url: String,
        reason: &'static str,
        /// The start of the body.
        body: Vec<u8>,
        truncated: bool,
    },
    /// A template could not be rendered (a capture it uses is missing) or made an invalid URL
    /// or header.
    Template(&'static str),
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

/// The hyper error somewhere in `e`'s chain of causes.
fn hyper_cause(e: &reqwest::Error) -> Option<&hyper::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return Some(h);
        }
        source = s.source();
    }
    None
}

pub fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_timeout() {
        ErrorKind::Timeout
    } else if hyper_cause(e).is_some_and(|h| h.is_parse() || h.is_parse_status()) {
        ErrorKind::Protocol
    } else {
        ErrorKind::Reset
    }
}

/// Describes a failure for people: the request (method, URL, the headers the profile sets, with
/// sensitive values hidden) and what went wrong. Values of `{{env.*}}` are redacted by the
/// caller, which knows them.
pub fn describe(step: &Step, kind: ErrorKind, cause: &Cause) -> String {
    let mut out = String::new();
    let url = match cause {
        Cause::Client(e) => e.url().map(strip_credentials),
        Cause::Direct { url, .. } => Some(url.clone()),
        Cause::Response { url, .. } => Some(url.clone()).filter(|u| !u.is_empty()),
        Cause::Template(_) => None,
    };
    out.push_str(step.method.as_str());
    out.push(' ');
    match url {
        Some(u) => out.push_str(&u),
        None => out.push_str(&step.path.describe()),
    }
    let mut headers: Vec<String> = step
        .static_headers
        .iter()
        .filter(|(n, _)| *n != reqwest::header::USER_AGENT)
        .map(|(n, v)| {
            let shown = if crate::config::is_sensitive(n) || v.is_sensitive() {
                "[redacted]".to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            format!("{n}: {shown}")
        })
        .collect();
    headers.extend(step.dynamic_headers.iter().map(|(n, t)| {
        if crate::config::is_sensitive(n) {
            format!("{n}: [redacted]")
        } else {
            format!("{n}: {}", t.describe())
        }
    }));
    if !headers.is_empty() {
        out.push_str(&format!(" [{}]", headers.join(", ")));
    }
    out.push_str(" → ");
    match cause {
        Cause::Client(e) => {
            out.push_str(&kind.label());
            let mut chain = Vec::new();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                chain.push(s.to_string());
                source = s.source();
            }
            if !chain.is_empty() {
                out.push_str(": ");
                out.push_str(&chain.join(": "));
            }
        }
        Cause::Direct { error, .. } => {
            out.push_str(&kind.label());
            out.push_str(": ");
            out.push_str(&error.to_string());
        }
        Cause::Response {
            reason,
            body,
            truncated,
            ..
        } => {
            out.push_str(reason);
            if !body.is_empty() {
                let text = String::from_utf8_lossy(body);
                let text: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                out.push_str(&format!(
                    "; body: {}{}",
                    text.trim(),
                    if *truncated { "…" } else { "" }
                ));
            }
        }
        Cause::Template(what) => out.push_str(what),
    }
    out
}

fn strip_credentials(u: &Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// How requests reach the target: the direct HTTP/1.1 client (plain http) or reqwest (https,
/// HTTP/2).
pub enum Transport {
    Direct(Direct),
    Reqwest(Client),
}

/// A request rendered for this user, not yet bound to a transport.
struct Prepared {
    /// The full URL text when the path is dynamic (rendered), None for a static URL.
    rendered: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
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
        if crate::config::is_sensitive(name) {
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

/// A response read to its end.
struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    bytes: u64,
    /// The URL, for describing a failure: kept only when the response can still fail (an
    /// unexpected status, a check or capture to come).
    url: Option<String>,
}

/// Whether a response with `status` may still fail the step (so its URL is worth keeping).
fn may_fail(step: &Step, status: StatusCode) -> bool {
    step.needs_body() || !step.expect.status_ok(status.as_u16())
}

/// A failure of the transport, with the bytes read before it.
struct Broken {
    kind: ErrorKind,
    cause: Cause,
    bytes: u64,
}

/// How much of a body to keep: all of it (to 4 MiB) for checks and captures, the start of it to
/// describe an unexpected status, nothing otherwise.
fn keep_limit(step: &Step, status: StatusCode) -> usize {
    if step.needs_body() {
        BODY_KEEP_LIMIT
    } else if !step.expect.status_ok(status.as_u16()) {
        BODY_SAMPLE
    } else {
        0
    }
}

async fn fetch_reqwest(
    client: &Client,
    step: &Step,
    p: Prepared,
    timeout: Duration,
) -> Result<Fetched, Broken> {
    let url = match p.rendered {
        None => step.static_url.clone().unwrap_or_else(unreachable_url),
        Some(text) => Url::parse(&text).map_err(|_| bad_target())?,
    };
    let mut req = client
        .request(step.method.clone(), url)
        .headers(step.static_headers.clone());
    for (name, v) in p.headers {
        req = req.header(name, v);
    }
    if !p.body.is_empty() {
        req = req.body(p.body);
    }
    let broken = |e: reqwest::Error, bytes| Broken {
        kind: classify(&e),
        cause: Cause::Client(e),
        bytes,
    };
    let mut resp = req
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| broken(e, 0))?;
    let status = resp.status();
    let limit = keep_limit(step, status);
    let mut body = Vec::new();
    let mut bytes = 0u64;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes += chunk.len() as u64;
                if body.len() < limit {
                    let room = limit - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let url = resp.url().clone();
                return Err(broken(e.with_url(url), bytes));
            }
        }
    }
    Ok(Fetched {
        status,
        headers: std::mem::take(resp.headers_mut()),
        body,
        bytes,
        url: may_fail(step, status).then(|| strip_credentials(resp.url())),
    })
}

/// Never reached: a step without a static URL always has a rendered one.
fn unreachable_url() -> Url {
    Url::parse("http://invalid./").expect("a constant URL parses")
}

fn bad_target() -> Broken {
    Broken {
        kind: ErrorKind::Capture,
        cause: Cause::Template("the rendered path is not a valid URL"),
        bytes: 0,
    }
}

/// Whether `t` can go on the request line as it is: a path, visible ASCII only.
fn plain_target(t: &str) -> bool {
    t.starts_with('/') && t.bytes().all(|c| c > b' ' && c < 0x7f && c != b'#')
}

async fn fetch_direct(
    d: &Direct,
    user: &mut UserState,
    step: &Step,
    p: Prepared,
    timeout: Duration,
) -> Result<Fetched, Broken> {
    let normalised;
    let target: &str = match (&step.static_origin, &p.rendered) {
        (Some(u), _) => u.as_str(),
        (None, Some(text)) => match text.strip_prefix(d.origin.as_str()) {
            Some(t) if plain_target(t) => t,
            // Spaces, non-ASCII, an unusual host spelling: normalised as a URL parser would.
            _ => {
                normalised = origin_form(&Url::parse(text).map_err(|_| bad_target())?);
                &normalised
            }
        },
        (None, None) => return Err(bad_target()),
    };
    let request: &[u8] = match d.prebuilt(step) {
        Some(b) => b,
        None => {
            user.scratch.clear();
            d.serialize(
                &mut user.scratch,
                step,
                target.as_bytes(),
                &p.headers,
                &p.body,
            );
            &user.scratch
        }
    };
    let want_headers = step
        .captures
        .iter()
        .any(|c| matches!(c.source, CaptureSource::Header(_)));
    let mut bytes = 0u64;
    let mut body = Vec::new();
    let keep = |status| keep_limit(step, status);
    let exchange = d.exchange(
        &mut user.conn,
        request,
        &step.method,
        want_headers,
        keep,
        &mut body,
        &mut bytes,
    );
    let outcome = match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(DirectError::Timeout),
    };
    let url = || format!("{}{}", d.origin, target);
    match outcome {
        Ok(head) => Ok(Fetched {
            status: head.status,
            headers: head.headers.unwrap_or_default(),
            body,
            bytes,
            url: may_fail(step, head.status).then(url),
        }),
        Err(e) => Err(Broken {
            kind: e.kind(),
            cause: Cause::Direct {
                url: url(),
                error: e,
            },
            bytes,
        }),
    }
}

/// Sends `step` for `user`. Latency runs from `start`: the scheduled start in the open model
/// (so a stalled server shows up even for requests that could not be sent on time), the send
/// time otherwise.
pub async fn execute(
    transport: &Transport,
    profile: &Profile,
    prefix: &str,
    step: &Step,
    user: &mut UserState,
    start: Option<Instant>,
    timeout: Duration,
) -> StepResult {
    let start = start.unwrap_or_else(Instant::now);
    let mut b = Bound {
        user,
        data: &profile.datasets,
    };
    let prepared = match prepare(step, prefix, &mut b) {
        Ok(p) => p,
        Err(what) => return template_failed(start, what),
    };
    let fetched = match transport {
        Transport::Reqwest(c) => fetch_reqwest(c, step, prepared, timeout).await,
        Transport::Direct(d) => fetch_direct(d, b.user, step, prepared, timeout).await,
    };
    let Fetched {
        status,
        headers,
        mut body,
        bytes: bytes_received,
        url,
    } = match fetched {
        Ok(f) => f,
        Err(broken) => {
            let mut r = failed(broken.kind, start, broken.cause);
            r.outcome.bytes_received = broken.bytes;
            return r;
        }
    };
    let done = Instant::now();
    let mut outcome = Outcome {
        latency: done.saturating_duration_since(start),
        bytes_received,
        error: None,
    };
    let mut reason = "";
    if !step.expect.status_ok(status.as_u16()) {
        outcome.error = Some(ErrorKind::Status(status.as_u16()));
        reason = status.canonical_reason().unwrap_or("unexpected status");
    } else if let Some(needle) = &step.expect.body_contains {
        if !contains(&body, needle.as_bytes()) {
            outcome.error = Some(ErrorKind::Check);
            reason = "the body does not contain the expected text";
        }
    }
    if outcome.error.is_none() && !step.captures.is_empty() {
        let json: Option<serde_json::Value> = if step
            .captures
            .iter()
            .any(|c| matches!(c.source, CaptureSource::Json(_)))
        {
            serde_json::from_slice(&body).ok()
        } else {
            None
        };
        for c in &step.captures {
            let value = match &c.source {
                CaptureSource::Header(h) => headers
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
                Some(v) => b.user.vars[c.slot] = Some(v),
                None => {
                    outcome.error = Some(ErrorKind::Capture);
                    reason = if bytes_received as usize > body.len() {
                        "a capture found nothing (the body was longer than the 4 MiB kept)"
                    } else {
                        "a capture found nothing in the response"
                    };
                    break;
                }
            }
        }
    }
    let cause = outcome.error.map(|_| {
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
        outcome,
        done,
        cause,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// A short description of a client error, without the URL (which may carry secrets).
pub fn describe_error(e: &reqwest::Error) -> &'static str {
    match classify(e) {
        ErrorKind::Connect => "connection refused or failed",
        ErrorKind::Timeout => "timed out",
        _ => "connection broken",
    }
}
