//! The direct HTTP/1.1 client, for plain-http targets: every virtual user owns one keep-alive
//! connection (hyper's connection-level API), so a request is a write and a read on that user's
//! own socket — no pool to search, no per-request URL parsing, no redirect, proxy or timeout
//! layers around it. HTTPS and HTTP/2 targets go through reqwest (`Transport::Reqwest`), which
//! brings TLS and ALPN.
//!
//! A connection the server closed (keep-alive timeout, `Connection: close`) is replaced before
//! the next request; a request that was never written because the connection closed under it is
//! sent once more on a new connection, as any HTTP client does.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, HOST, USER_AGENT};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::metrics::ErrorKind;

pub type Body = Full<Bytes>;
pub type Sender = SendRequest<Body>;

/// Where and how to connect: resolved once per worker.
pub struct Direct {
    addrs: Vec<SocketAddr>,
    /// The `Host` header: the base URL's authority.
    pub host: HeaderValue,
    pub user_agent: HeaderValue,
    /// `http://host:port`, to show URLs in failure descriptions.
    pub origin: String,
    /// The base URL's path without its trailing slash (`""` or e.g. `/api`).
    pub path_prefix: String,
}

/// Why a direct request failed.
#[derive(Debug)]
pub enum DirectError {
    Connect(std::io::Error),
    Http(hyper::Error),
    Timeout,
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectError::Connect(e) => write!(f, "tcp connect error: {e}"),
            DirectError::Http(e) => {
                write!(f, "{e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                Ok(())
            }
            DirectError::Timeout => write!(f, "operation timed out"),
        }
    }
}

impl DirectError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            DirectError::Connect(_) => ErrorKind::Connect,
            DirectError::Timeout => ErrorKind::Timeout,
            DirectError::Http(e) if e.is_parse() || e.is_parse_status() => ErrorKind::Protocol,
            DirectError::Http(e) if e.is_timeout() => ErrorKind::Timeout,
            DirectError::Http(_) => ErrorKind::Reset,
        }
    }
}

impl Direct {
    /// For a plain-http, HTTP/1.1 target; None when reqwest must carry the requests.
    pub async fn for_target(t: &crate::config::Target) -> Result<Option<Direct>, String> {
        let u = &t.base_url;
        if u.scheme() != "http" || t.http2 {
            return Ok(None);
        }
        // IPv6 hosts come bracketed, as the Host header wants them.
        let host = u.host_str().ok_or("the base URL has no host")?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let port = u.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        let authority = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Ok(Some(Direct {
            addrs,
            host: HeaderValue::from_str(&authority).map_err(|e| e.to_string())?,
            user_agent: HeaderValue::from_static(concat!("perfgate/", env!("CARGO_PKG_VERSION"))),
            origin: format!("http://{authority}"),
            path_prefix: u.path().trim_end_matches('/').to_string(),
        }))
    }

    async fn connect(&self) -> Result<Sender, DirectError> {
        let mut last = None;
        for a in &self.addrs {
            match TcpStream::connect(a).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    // Read buffers grow with large bodies up to 64 KiB (hyper's default is
                    // 400 KiB), so ten thousand idle connections stay cheap.
                    let (sender, conn) = http1::Builder::new()
                        .max_buf_size(64 << 10)
                        .handshake(TokioIo::new(stream))
                        .await
                        .map_err(DirectError::Http)?;
                    // The connection's I/O runs as its own task on this worker's thread; it ends
                    // when the server closes or the sender is dropped.
                    tokio::task::spawn_local(async move {
                        let _ = conn.await;
                    });
                    return Ok(sender);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(DirectError::Connect(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
        })))
    }

    /// A request with the `Host` header, and perfgate's `User-Agent` unless the profile sets one.
    pub fn finish(&self, req: &mut Request<Body>) {
        let h = req.headers_mut();
        h.insert(HOST, self.host.clone());
        if !h.contains_key(USER_AGENT) {
            h.insert(USER_AGENT, self.user_agent.clone());
        }
    }

    /// Sends `req` on the user's connection, making one if it has none or the old one closed,
    /// and returns the response head; the connection goes back to the user (the caller reads
    /// the body, and drops the connection on any failure). The caller bounds the time.
    pub async fn send(
        &self,
        conn: &mut Option<Sender>,
        req: Request<Body>,
    ) -> Result<Response<Incoming>, DirectError> {
        let (mut sender, reused) = match conn.take() {
            Some(s) if !s.is_closed() => (s, true),
            _ => (self.connect().await?, false),
        };
        if sender.ready().await.is_err() {
            sender = self.connect().await?;
            sender.ready().await.map_err(DirectError::Http)?;
        }
        let resp = match sender.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => match e.take_message() {
                // Never written: the kept-alive connection closed under it. Once more, new.
                Some(req) if reused => {
                    sender = self.connect().await?;
                    sender.ready().await.map_err(DirectError::Http)?;
                    sender.send_request(req).await.map_err(DirectError::Http)?
                }
                _ => return Err(DirectError::Http(e.into_error())),
            },
        };
        *conn = Some(sender);
        Ok(resp)
    }
}

/// Reads `body` to its end, keeping at most `limit` bytes in `keep`; `read` counts the bytes.
pub async fn read_body(
    body: &mut Incoming,
    keep: &mut Vec<u8>,
    limit: usize,
    read: &mut u64,
) -> Result<(), DirectError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(DirectError::Http)?;
        if let Ok(data) = frame.into_data() {
            *read += data.len() as u64;
            if keep.len() < limit {
                let room = limit - keep.len();
                keep.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
    }
    Ok(())
}
