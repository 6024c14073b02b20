//! Requests through reqwest: https (rustls) and HTTP/2, one pool per engine worker.

use std::time::Duration;

use reqwest::{Client, Url};

use super::{bad_target, keep_limit, may_fail, Broken, Fetched, Prepared};
use crate::config::{Profile, Step};
use crate::engine::failure::{classify, Cause};
use crate::redact::url_without_credentials;

pub fn build_client(profile: &Profile) -> Result<reqwest::Client, reqwest::Error> {
    let t = &profile.target;
    let mut b = reqwest::Client::builder()
        .no_proxy()
        // A 3xx is the answer being measured: following it would hide it, add round trips to
        // the latency, and could send load to another host.
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(t.request_timeout)
        .user_agent(crate::engine::USER_AGENT);
    if t.http2 && t.base_url.scheme() == "http" {
        b = b.http2_prior_knowledge();
    }
    if let Some(pem) = &t.ca_pem {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
    }
    if t.insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build()
}

pub(super) async fn fetch(
    client: &Client,
    step: &Step,
    p: Prepared,
    timeout: Duration,
) -> Result<Fetched, Broken> {
    let url = match (p.rendered, &step.static_url) {
        (Some(text), _) => Url::parse(&text).map_err(|_| bad_target())?,
        (None, Some(u)) => u.clone(),
        (None, None) => return Err(bad_target()),
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
        url: may_fail(step, status).then(|| url_without_credentials(resp.url().as_str())),
    })
}
