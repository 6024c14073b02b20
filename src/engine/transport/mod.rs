//! How requests reach the target: the direct HTTP/1.1 client for plain http (`via_http1`), or
//! reqwest for https and HTTP/2 (`via_reqwest`). Both take a request rendered for one user and
//! return the response read to its end, or the failure with the bytes read before it.

mod via_http1;
mod via_reqwest;

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, StatusCode};

use super::failure::Cause;
use super::http1::Direct;
use super::user::UserState;
use crate::config::Step;
use crate::metrics::ErrorKind;
pub use via_reqwest::build_client;

/// Bodies read for checks and captures are kept up to this size; the rest is read and counted,
/// not kept, so a huge or endless body costs time, not memory.
pub const BODY_KEEP_LIMIT: usize = 4 << 20;
/// How much of an unexpected response's body is kept to describe it.
pub const BODY_SAMPLE: usize = 200;

/// How requests reach the target.
pub enum Transport {
    Direct(Direct),
    Reqwest(Client),
}

/// The direct HTTP/1.1 client for a plain-http target, reqwest otherwise (https, HTTP/2).
/// `PERFGATE_HTTP_CLIENT=reqwest` forces reqwest, to compare the two.
pub async fn for_profile(profile: &crate::config::Profile) -> Result<Transport, String> {
    let forced = std::env::var("PERFGATE_HTTP_CLIENT").unwrap_or_default();
    if forced != "reqwest" {
        if let Some(d) = Direct::for_profile(profile).await? {
            return Ok(Transport::Direct(d));
        }
    }
    build_client(profile)
        .map(Transport::Reqwest)
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A request rendered for one user, not yet bound to a transport.
pub struct Prepared {
    /// The full URL text when the path is dynamic (rendered), None for a static URL.
    pub rendered: Option<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// A response read to its end.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub bytes: u64,
    /// The URL, for describing a failure: kept only when the response can still fail (an
    /// unexpected status, a check or capture to come).
    pub url: Option<String>,
}

/// A failure of the transport, with the bytes read before it.
pub struct Broken {
    pub kind: ErrorKind,
    pub cause: Cause,
    pub bytes: u64,
}

impl Transport {
    /// Sends `p` for `user` and reads the response, within `timeout`.
    pub async fn fetch(
        &self,
        user: &mut UserState,
        step: &Step,
        p: Prepared,
        timeout: Duration,
    ) -> Result<Fetched, Broken> {
        match self {
            Transport::Reqwest(c) => via_reqwest::fetch(c, step, p, timeout).await,
            Transport::Direct(d) => via_http1::fetch(d, user, step, p, timeout).await,
        }
    }
}

/// Whether a response with `status` may still fail the step (so its URL is worth keeping).
fn may_fail(step: &Step, status: StatusCode) -> bool {
    step.needs_body() || !step.expect.status_ok(status.as_u16())
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

fn bad_target() -> Broken {
    Broken {
        kind: ErrorKind::Capture,
        cause: Cause::Template("the rendered path is not a valid URL"),
        bytes: 0,
    }
}
