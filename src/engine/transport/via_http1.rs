//! Requests through perfgate's own HTTP/1.1 client (`engine::http1`), on the user's own
//! keep-alive connection.

use std::time::Duration;

use reqwest::Url;

use super::{bad_target, keep_limit, may_fail, Broken, Fetched, Prepared};
use crate::config::{origin_form, CaptureSource, Step};
use crate::engine::failure::Cause;
use crate::engine::http1::{BodySink, Direct, DirectError};
use crate::engine::user::UserState;

/// Whether `t` can go on the request line as it is: a path, visible ASCII only.
fn plain_target(t: &str) -> bool {
    t.starts_with('/') && t.bytes().all(|c| c > b' ' && c < 0x7f && c != b'#')
}

pub(super) async fn fetch(
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
    let mut sink = BodySink {
        body: &mut body,
        read: &mut bytes,
    };
    let exchange = d.exchange(
        &mut user.conn,
        request,
        &step.method,
        want_headers,
        keep,
        &mut sink,
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
