//! The direct HTTP/1.1 client, for plain-http targets. Every virtual user owns one keep-alive
//! connection (`conn`); a request is one `write` of bytes that were serialized once (for a step
//! whose request never varies) or into the user's own buffer (`serialize`), and the response is
//! parsed in place with `httparse` (`parse`) — no pool to search, no per-request URL parsing, no
//! header map to build unless a capture reads a header, no task per connection. HTTPS and HTTP/2
//! go through reqwest, which brings TLS and ALPN.
//!
//! The framing rules are HTTP/1.1's (RFC 9112): bodies by `Content-Length`, `chunked`, or until
//! the server closes; none for HEAD, 1xx, 204 and 304; interim 1xx responses skipped; keep-alive
//! unless `Connection: close` (or HTTP/1.0 without keep-alive). A kept-alive connection that the
//! server closed while idle is replaced and the request sent once more, as every client does —
//! only when not a byte of the response had arrived.

mod conn;
mod parse;
mod serialize;

use std::net::SocketAddr;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use std::future::Future as _;
use tokio::net::TcpStream;

use crate::config::{Body, Profile, Step};
use crate::metrics::ErrorKind;
use conn::SendError::{Failed, Stale};
pub use conn::{BodySink, Conn};
use parse::Framing;

/// A connection's read buffer starts at one page and grows for large response heads; it goes
/// back to this size after a large response, so ten thousand idle users stay cheap.
const BUF_START: usize = 4 << 10;
const BUF_KEEP: usize = 16 << 10;
/// A response head larger than this is refused (a protocol error).
const MAX_HEAD: usize = 64 << 10;
const MAX_HEADERS: usize = 96;

/// Where and how to connect, and the requests that never vary, serialized once.
pub struct Direct {
    addrs: Vec<SocketAddr>,
    /// The `Host` header: the base URL's authority.
    host: String,
    /// `http://host:port`, to show URLs in failure descriptions.
    pub origin: String,
    /// By step id: the whole request when nothing in it varies.
    prebuilt: Vec<Option<Bytes>>,
    /// Index of the address that accepted the last connection.
    preferred: std::cell::Cell<usize>,
}

/// A kept-alive connection idle for this long is checked before it is reused.
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// Why a direct request failed.
#[derive(Debug)]
pub enum DirectError {
    Connect(std::io::Error),
    /// The connection broke: an I/O error, or closed before the response was complete.
    Broken(String),
    /// The response is not valid HTTP/1.1.
    Protocol(String),
    Timeout,
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectError::Connect(e) => write!(f, "tcp connect error: {e}"),
            DirectError::Broken(m) | DirectError::Protocol(m) => f.write_str(m),
            DirectError::Timeout => f.write_str("operation timed out"),
        }
    }
}

impl DirectError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            DirectError::Connect(_) => ErrorKind::Connect,
            DirectError::Broken(_) => ErrorKind::Reset,
            DirectError::Protocol(_) => ErrorKind::Protocol,
            DirectError::Timeout => ErrorKind::Timeout,
        }
    }
}

fn broken(e: std::io::Error) -> DirectError {
    DirectError::Broken(format!("connection error: {e}"))
}

/// The response head, as the step needs it.
pub struct Head {
    pub status: StatusCode,
    /// Only when a capture reads a header.
    pub headers: Option<HeaderMap>,
}

impl Direct {
    /// For a plain-http, HTTP/1.1 target; None when reqwest must carry the requests.
    pub async fn for_profile(profile: &Profile) -> Result<Option<Direct>, String> {
        let t = &profile.target;
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
        let mut d = Direct {
            addrs,
            origin: format!("http://{authority}"),
            host: authority,
            prebuilt: Vec::new(),
            preferred: std::cell::Cell::new(0),
        };
        let steps = profile
            .scenarios
            .iter()
            .flat_map(|s| s.on_start.iter().chain(s.steps.iter()));
        for step in steps {
            let fixed_body = match &step.body {
                Body::None => Some(Bytes::new()),
                Body::Static { bytes, .. } => Some(bytes.clone()),
                _ => None,
            };
            let prebuilt = match (&step.static_origin, fixed_body) {
                (Some(target), Some(body)) if step.dynamic_headers.is_empty() => {
                    let mut out = Vec::with_capacity(256 + body.len());
                    d.serialize(&mut out, step, target.as_bytes(), &[], &body);
                    Some(Bytes::from(out))
                }
                _ => None,
            };
            if d.prebuilt.len() <= step.id {
                d.prebuilt.resize(step.id + 1, None);
            }
            d.prebuilt[step.id] = prebuilt;
        }
        Ok(Some(d))
    }

    /// The step's request, when it never varies.
    pub fn prebuilt(&self, step: &Step) -> Option<&Bytes> {
        self.prebuilt.get(step.id)?.as_ref()
    }

    /// Serializes the request for `step` (see `serialize`).
    pub fn serialize(
        &self,
        out: &mut Vec<u8>,
        step: &Step,
        target: &[u8],
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
    ) {
        serialize::request(out, &self.host, step, target, headers, body);
    }

    async fn connect(&self) -> Result<Conn, DirectError> {
        let mut last = None;
        // The address that worked last time first (`localhost` may resolve to a ::1 that
        // drops connections), then the others in order.
        let first = self.preferred.get();
        let order = std::iter::once(first).chain((0..self.addrs.len()).filter(|&i| i != first));
        for i in order {
            let Some(a) = self.addrs.get(i) else { continue };
            match TcpStream::connect(a).await {
                Ok(stream) => {
                    self.preferred.set(i);
                    let _ = stream.set_nodelay(true);
                    return Ok(Conn::new(stream));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(DirectError::Connect(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
        })))
    }

    /// One exchange on the user's connection (made if it has none): writes `request`, reads the
    /// response head and body. `keep(status)` says how much of the body to keep in the sink,
    /// which counts every body byte. The connection goes back to `conn` when it may be reused.
    /// The caller bounds the time (and drops the connection on a timeout).
    pub async fn exchange(
        &self,
        conn: &mut Option<Conn>,
        request: &[u8],
        method: &Method,
        want_headers: bool,
        keep: impl Fn(StatusCode) -> usize,
        sink: &mut BodySink<'_>,
    ) -> Result<Head, DirectError> {
        // A connection idle for a while (think time) is reused only if nothing arrived on it
        // meanwhile: not the end of the stream (the server's keep-alive timeout closed it), not
        // a stray message (a 408 before closing). One non-blocking read tells; a connection
        // reused at once skips it (servers' keep-alive timeouts are seconds).
        let idle = conn.take().filter(|c| {
            if c.idle_since.elapsed() < IDLE_CHECK {
                return true;
            }
            let mut probe = [0u8; 1];
            matches!(c.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        });
        let (mut c, mut reused) = match idle {
            Some(c) => (c, true),
            None => (self.connect().await?, false),
        };
        loop {
            match c.send_and_read_head(request, want_headers).await {
                Ok(parsed) => {
                    let (framing, close) = body_framing(method, &parsed);
                    let head = parsed.head;
                    c.read_body(framing, sink, keep(head.status)).await?;
                    // Bytes beyond the response's framing: the connection cannot be trusted.
                    if !close && c.drained() {
                        c.shrink();
                        c.idle_since = std::time::Instant::now();
                        *conn = Some(c);
                    }
                    return Ok(head);
                }
                // A kept-alive connection closed under the request before any response: once
                // more on a new one — only when repeating the request is harmless (RFC 9110
                // §9.2.2), since the server may have acted on it before closing.
                Err(Stale) if reused && method.is_idempotent() => {
                    c = self.connect().await?;
                    reused = false;
                }
                Err(Stale) => {
                    return Err(DirectError::Broken(
                        "connection closed before the response began".into(),
                    ))
                }
                Err(Failed(e)) => return Err(e),
            }
        }
    }
}

/// How the body of a response to `method` is framed, and whether the connection closes after
/// it: no body for HEAD, 204 and 304 whatever the headers say; a body read until close ends the
/// connection.
fn body_framing(method: &Method, parsed: &parse::Parsed) -> (Framing, bool) {
    let status = parsed.head.status;
    let framing = if *method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::None
    } else {
        parsed.framing
    };
    (framing, parsed.close || framing == Framing::UntilClose)
}

/// What reading one response from bytes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    pub status: u16,
    /// Body bytes read (all of them counted, the first `keep` kept).
    pub body_bytes: u64,
    pub kept: Vec<u8>,
    /// Whether the response's framing ends the connection (it is not reused).
    pub closes: bool,
    /// Whether bytes beyond the response's framing had already arrived (they retire the
    /// connection too; how many have arrived depends on the network's timing).
    pub stray: bool,
}

/// Reads one response to `method` from `bytes`, arriving `chunk` bytes at a time, exactly as a
/// user's connection reads it from the network: the head, interim responses skipped, the body by
/// its framing; the connection is reused afterwards when neither `closes` nor `stray`. For the fuzz target and tests: any bytes give an answer or an error, never a
/// panic or a hang.
pub fn read_from_bytes(
    bytes: &[u8],
    chunk: usize,
    method: &Method,
    keep: usize,
) -> Result<ReadBack, DirectError> {
    let mut c = Conn::new(Replay {
        data: bytes,
        chunk: chunk.max(1),
    });
    let fut = async move {
        let mut kept = Vec::new();
        let mut read = 0u64;
        let parsed = match c.send_and_read_head(b"", false).await {
            Ok(p) => p,
            Err(Stale) => {
                return Err(DirectError::Broken(
                    "connection closed before the response began".into(),
                ))
            }
            Err(Failed(e)) => return Err(e),
        };
        let (framing, close) = body_framing(method, &parsed);
        let mut sink = BodySink {
            body: &mut kept,
            read: &mut read,
        };
        c.read_body(framing, &mut sink, keep).await?;
        Ok(ReadBack {
            status: parsed.head.status.as_u16(),
            body_bytes: read,
            kept,
            closes: close,
            stray: !c.drained(),
        })
    };
    // Bytes in memory never make a read wait: one poll runs the exchange to its end.
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(r) => r,
        std::task::Poll::Pending => Err(DirectError::Broken("the read did not finish".into())),
    }
}

/// Bytes in memory as a connection: reads hand them out `chunk` at a time, writes go nowhere.
struct Replay<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl tokio::io::AsyncRead for Replay<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = self.chunk.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Replay<'_> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_read_from_bytes_follow_their_framing_in_any_chunking() {
        let get = Method::GET;
        for chunk in [1, 3, 1024] {
            let r = read_from_bytes(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                chunk,
                &get,
                64,
            )
            .unwrap();
            assert_eq!(
                (r.status, r.body_bytes, r.closes, r.stray),
                (200, 5, false, false)
            );
            assert_eq!(r.kept, b"hello");
            let chunked = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
            let r = read_from_bytes(chunked, chunk, &get, 64).unwrap();
            assert_eq!(
                (r.status, r.kept.as_slice(), r.closes),
                (200, &b"abcde"[..], false)
            );
            // A last coding other than chunked: read until the connection closes, not reused.
            let gz =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef";
            let r = read_from_bytes(gz, chunk, &get, 64).unwrap();
            assert_eq!((r.body_bytes, r.closes), (6, true));
            // Transfer-Encoding and Content-Length: chunked wins, and the connection is retired.
            let both = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
            let r = read_from_bytes(both, chunk, &get, 64).unwrap();
            assert_eq!((r.body_bytes, r.closes), (1, true));
        }
        let head = read_from_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            7,
            &Method::HEAD,
            0,
        )
        .unwrap();
        assert_eq!((head.body_bytes, head.closes), (0, false));
        assert!(read_from_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
            2,
            &get,
            0
        )
        .is_err());
        assert!(read_from_bytes(b"", 2, &get, 0).is_err());
    }
}
