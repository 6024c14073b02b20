//! Writing a request: request line, `Host`, perfgate's `User-Agent` unless the profile sets one,
//! the step's headers, `Content-Length` where there is a body (or the method expects one), the
//! body. The framing is perfgate's own.

use reqwest::header::{
    HeaderName, HeaderValue, CONTENT_LENGTH, HOST, TRANSFER_ENCODING, USER_AGENT,
};
use reqwest::Method;
use std::io::Write as _;

use crate::config::Step;

/// Appends the request for `step` to `out`; `host` is the base URL's authority, `target` the
/// request target (path and query), `headers` the step's rendered dynamic headers.
pub fn request(
    out: &mut Vec<u8>,
    host: &str,
    step: &Step,
    target: &[u8],
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
) {
    out.extend_from_slice(step.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &HeaderName| {
        step.static_headers.contains_key(name) || headers.iter().any(|(n, _)| n == name)
    };
    // A profile may name the virtual host itself (`Host` through an IP address).
    if !has(&HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !has(&USER_AGENT) {
        out.extend_from_slice(b"user-agent: ");
        out.extend_from_slice(crate::engine::USER_AGENT.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let all = step
        .static_headers
        .iter()
        .chain(headers.iter().map(|(n, v)| (n, v)));
    // A profile's Content-Length or Transfer-Encoding would contradict perfgate's framing and
    // desynchronise the connection.
    let all = all.filter(|(n, _)| **n != CONTENT_LENGTH && **n != TRANSFER_ENCODING);
    for (n, v) in all {
        out.extend_from_slice(n.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let expects_body = matches!(step.method, Method::POST | Method::PUT | Method::PATCH);
    if !body.is_empty() || expects_body {
        // Written into the buffer directly: no string to allocate.
        let _ = write!(out, "content-length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}
