//! One step of a scenario: build the request from the user's state, send it, read and check the
//! response, take captures. Failures are data (`ErrorKind`), never `Err`.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::header::HeaderValue;
use reqwest::{Client, Url};

use crate::config::template::{Template, Vars};
use crate::config::{Body, CaptureSource, Dataset, JsonTemplate, Profile, Step};
use crate::metrics::{ErrorKind, Outcome};

/// Bodies read for checks and captures are kept up to this size; the rest is counted, not kept.
const BODY_KEEP_LIMIT: usize = 16 << 20;

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

fn failed(kind: ErrorKind, start: Instant) -> StepResult {
    let done = Instant::now();
    StepResult {
        outcome: Outcome {
            latency: done.saturating_duration_since(start),
            bytes_received: 0,
            error: Some(kind),
        },
        done,
    }
}

pub fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Reset
    }
}

/// Sends `step` for `user`. Latency runs from `start`: the scheduled start in the open model
/// (so a stalled server shows up even for requests that could not be sent on time), the send
/// time otherwise.
pub async fn execute(
    client: &Client,
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

    let url = match &step.static_url {
        Some(u) => u.clone(),
        None => {
            let mut text = String::with_capacity(prefix.len() + 64);
            text.push_str(prefix);
            if step.path.render(&mut b, &mut text).is_err() {
                return failed(ErrorKind::Capture, start);
            }
            match Url::parse(&text) {
                Ok(u) => u,
                Err(_) => return failed(ErrorKind::Capture, start),
            }
        }
    };
    let mut req = client
        .request(step.method.clone(), url)
        .headers(step.static_headers.clone());
    for (name, t) in &step.dynamic_headers {
        let Some(v) = render(t, &mut b) else {
            return failed(ErrorKind::Capture, start);
        };
        let Ok(mut v) = HeaderValue::from_str(&v) else {
            return failed(ErrorKind::Capture, start);
        };
        if crate::config::is_sensitive(name) {
            v.set_sensitive(true);
        }
        req = req.header(name, v);
    }
    req = match &step.body {
        Body::None => req,
        Body::Static { bytes, .. } => req.body(bytes.clone()),
        Body::Json(j) => match render_json(j, &mut b) {
            Some(v) => req.body(v.to_string()),
            None => return failed(ErrorKind::Capture, start),
        },
        Body::Text(t) => match render(t, &mut b) {
            Some(s) => req.body(s),
            None => return failed(ErrorKind::Capture, start),
        },
        Body::Form(fields) => {
            let mut enc = form_urlencoded::Serializer::new(String::new());
            for (k, t) in fields {
                let Some(v) = render(t, &mut b) else {
                    return failed(ErrorKind::Capture, start);
                };
                enc.append_pair(k, &v);
            }
            req.body(enc.finish())
        }
    };
    let req = req.timeout(timeout);

    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return failed(classify(&e), start),
    };
    let status = resp.status().as_u16();
    let keep = step.needs_body();
    let mut body: Vec<u8> = Vec::new();
    let mut bytes_received = 0u64;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes_received += chunk.len() as u64;
                if keep && body.len() < BODY_KEEP_LIMIT {
                    let room = BODY_KEEP_LIMIT - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let mut r = failed(classify(&e), start);
                r.outcome.bytes_received = bytes_received;
                return r;
            }
        }
    }
    let done = Instant::now();
    let mut outcome = Outcome {
        latency: done.saturating_duration_since(start),
        bytes_received,
        error: None,
    };
    if !step.expect.status_ok(status) {
        outcome.error = Some(ErrorKind::Status(status));
    } else if let Some(needle) = &step.expect.body_contains {
        if !contains(&body, needle.as_bytes()) {
            outcome.error = Some(ErrorKind::Check);
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
                CaptureSource::Header(h) => resp
                    .headers()
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
                    break;
                }
            }
        }
    }
    StepResult { outcome, done }
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
