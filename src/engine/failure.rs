//! Why a request failed, and the failure described for people: the request (method, URL, the
//! headers the profile sets, sensitive values hidden) and what went wrong. Values of `{{env.*}}`
//! are redacted by the caller, which knows them.

use reqwest::header::USER_AGENT;

use super::http1::DirectError;
use crate::config::Step;
use crate::metrics::ErrorKind;
use crate::redact::{is_sensitive, url_without_credentials, MARKER};

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
pub fn describe_failure(step: &Step, kind: ErrorKind, cause: &Cause) -> String {
    let mut out = String::new();
    let url = match cause {
        Cause::Client(e) => e.url().map(|u| url_without_credentials(u.as_str())),
        Cause::Direct { url, .. } => Some(url.clone()),
        Cause::Response { url, .. } => Some(url.clone()).filter(|u| !u.is_empty()),
        Cause::Template(_) => None,
    };
    out.push_str(step.method.as_str());
    out.push(' ');
    match url {
        Some(u) => out.push_str(&u),
        None => out.push_str(&step.path.shown()),
    }
    let mut headers: Vec<String> = step
        .static_headers
        .iter()
        .filter(|(n, _)| *n != USER_AGENT)
        .map(|(n, v)| {
            let shown = if is_sensitive(n) || v.is_sensitive() {
                MARKER.to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            format!("{n}: {shown}")
        })
        .collect();
    headers.extend(step.dynamic_headers.iter().map(|(n, t)| {
        if is_sensitive(n) {
            format!("{n}: {MARKER}")
        } else {
            format!("{n}: {}", t.shown())
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
