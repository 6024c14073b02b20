//! The direct HTTP/1.1 client, for plain-http targets. Every virtual user owns one keep-alive
//! connection; a request is one `write` of bytes that were serialized once (for a step whose
//! request never varies) or into the connection's own buffer, and the response is parsed in place
//! with `httparse` — no pool to search, no per-request URL parsing, no header map to build unless
//! a capture reads a header, no task per connection. HTTPS and HTTP/2 go through reqwest
//! (`Transport::Reqwest`), which brings TLS and ALPN.
//!
//! The framing rules are HTTP/1.1's (RFC 9112): bodies by `Content-Length`, `chunked`, or until
//! the server closes; none for HEAD, 1xx, 204 and 304; interim 1xx responses skipped; keep-alive
//! unless `Connection: close` (or HTTP/1.0 without keep-alive). A kept-alive connection that the
//! server closed while idle is replaced and the request sent once more, as every client does —
//! only when not a byte of the response had arrived.

use std::net::SocketAddr;

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, HOST, TRANSFER_ENCODING, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Body, Profile, Step};
use crate::metrics::ErrorKind;

const UA: &str = concat!("perfgate/", env!("CARGO_PKG_VERSION"));
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

/// One user's connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// When it was last handed back to its user.
    idle_since: std::time::Instant,
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

enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
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

    /// Serializes a request: request line, `Host`, perfgate's `User-Agent` unless the profile
    /// sets one, the step's headers, `Content-Length` where there is a body (or the method
    /// expects one), the body.
    pub fn serialize(
        &self,
        out: &mut Vec<u8>,
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
            out.extend_from_slice(self.host.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let has_ua = step.static_headers.contains_key(USER_AGENT)
            || headers.iter().any(|(n, _)| n == USER_AGENT);
        if !has_ua {
            out.extend_from_slice(b"user-agent: ");
            out.extend_from_slice(UA.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let all = step
            .static_headers
            .iter()
            .chain(headers.iter().map(|(n, v)| (n, v)));
        // The framing is perfgate's own: a profile's Content-Length or Transfer-Encoding would
        // contradict it and desynchronise the connection.
        let all = all.filter(|(n, _)| **n != CONTENT_LENGTH && **n != TRANSFER_ENCODING);
        for (n, v) in all {
            out.extend_from_slice(n.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let expects_body = matches!(step.method, Method::POST | Method::PUT | Method::PATCH);
        if !body.is_empty() || expects_body {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
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
                    return Ok(Conn {
                        stream,
                        buf: vec![0; BUF_START],
                        start: 0,
                        end: 0,
                        idle_since: std::time::Instant::now(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(DirectError::Connect(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
        })))
    }

    /// One exchange on the user's connection (made if it has none): writes `wire`, reads the
    /// response head and body. `keep(status)` says how much of the body to keep in `body`;
    /// `read` counts the body bytes. The connection goes back to `conn` when it may be reused.
    /// The caller bounds the time (and drops the connection on a timeout).
    #[allow(clippy::too_many_arguments)]
    pub async fn exchange(
        &self,
        conn: &mut Option<Conn>,
        request: &[u8],
        method: &Method,
        want_headers: bool,
        keep: impl Fn(StatusCode) -> usize,
        body: &mut Vec<u8>,
        read: &mut u64,
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
                Ok((head, framing, close)) => {
                    let framing = if *method == Method::HEAD
                        || head.status == StatusCode::NO_CONTENT
                        || head.status == StatusCode::NOT_MODIFIED
                    {
                        Framing::None
                    } else {
                        framing
                    };
                    let close = close || matches!(framing, Framing::UntilClose);
                    let limit = keep(head.status);
                    c.read_body(framing, body, limit, read).await?;
                    // Bytes beyond the response's framing: the connection cannot be trusted.
                    if !close && c.start == c.end {
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

/// How sending and reading the head can fail.
enum SendError {
    /// Nothing of the response arrived: the connection was closed or reset under the request.
    Stale,
    Failed(DirectError),
}
use SendError::{Failed, Stale};

impl Conn {
    /// Reads more into the buffer; Ok(0) at the end of the stream.
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = (self.buf.len() * 2).min(MAX_HEAD.max(self.buf.len()));
                self.buf.resize(grown, 0);
            }
        }
        if self.end == self.buf.len() {
            return Err(std::io::Error::other("the read buffer is full"));
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    fn shrink(&mut self) {
        if self.buf.len() > BUF_KEEP && self.end - self.start <= BUF_START {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.buf.truncate(BUF_START);
            self.buf.shrink_to_fit();
        }
    }

    async fn send_and_read_head(
        &mut self,
        request: &[u8],
        want_headers: bool,
    ) -> Result<(Head, Framing, bool), SendError> {
        // Leftovers from an earlier response would be misread as this one's.
        self.start = 0;
        self.end = 0;
        if let Err(e) = self.stream.write_all(request).await {
            return Err(match e.kind() {
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => Stale,
                _ => Failed(broken(e)),
            });
        }
        let mut received = false;
        loop {
            if self.end > self.start {
                match parse_head(&self.buf[self.start..self.end], want_headers) {
                    Ok(Some((used, head, framing, close))) => {
                        self.start += used;
                        // Interim responses (100 Continue, 103 Early Hints): the real one follows.
                        if head.status.is_informational()
                            && head.status != StatusCode::SWITCHING_PROTOCOLS
                        {
                            continue;
                        }
                        return Ok((head, framing, close));
                    }
                    Ok(None) => {
                        if self.end - self.start >= MAX_HEAD {
                            return Err(Failed(DirectError::Protocol(format!(
                                "the response head is larger than {} KiB",
                                MAX_HEAD >> 10
                            ))));
                        }
                    }
                    Err(e) => return Err(Failed(e)),
                }
            }
            match self.fill().await {
                Ok(0) if !received => return Err(Stale),
                Ok(0) => {
                    return Err(Failed(DirectError::Broken(
                        "connection closed before the response head was complete".into(),
                    )))
                }
                Ok(_) => received = true,
                Err(e) if !received && e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Err(Stale)
                }
                Err(e) => return Err(Failed(broken(e))),
            }
        }
    }

    /// Takes up to `n` buffered bytes as body data.
    fn take(&mut self, n: u64, body: &mut Vec<u8>, limit: usize, read: &mut u64) -> u64 {
        let avail = (self.end - self.start) as u64;
        let take = avail.min(n) as usize;
        if body.len() < limit {
            let room = (limit - body.len()).min(take);
            body.extend_from_slice(&self.buf[self.start..self.start + room]);
        }
        self.start += take;
        *read += take as u64;
        take as u64
    }

    async fn more(&mut self, what: &str) -> Result<(), DirectError> {
        match self.fill().await {
            Ok(0) => Err(DirectError::Broken(format!(
                "connection closed before the end of the {what}"
            ))),
            Ok(_) => Ok(()),
            Err(e) => Err(broken(e)),
        }
    }

    async fn read_body(
        &mut self,
        framing: Framing,
        body: &mut Vec<u8>,
        limit: usize,
        read: &mut u64,
    ) -> Result<(), DirectError> {
        match framing {
            Framing::None => Ok(()),
            Framing::Length(mut left) => {
                while left > 0 {
                    if self.start == self.end {
                        self.more("body").await?;
                    }
                    left -= self.take(left, body, limit, read);
                }
                Ok(())
            }
            Framing::UntilClose => loop {
                if self.start < self.end {
                    self.take(u64::MAX, body, limit, read);
                }
                match self.fill().await {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(broken(e)),
                }
            },
            Framing::Chunked => loop {
                let size = loop {
                    match find_crlf(&self.buf[self.start..self.end]) {
                        Some(at) => {
                            let line = &self.buf[self.start..self.start + at];
                            let size = chunk_size(line)?;
                            self.start += at + 2;
                            break size;
                        }
                        None if self.end - self.start > 1024 => {
                            return Err(DirectError::Protocol(
                                "a chunk size line is too long".into(),
                            ))
                        }
                        None => self.more("chunked body").await?,
                    }
                };
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        match find_crlf(&self.buf[self.start..self.end]) {
                            Some(0) => {
                                self.start += 2;
                                return Ok(());
                            }
                            Some(at) => self.start += at + 2,
                            None if self.end - self.start > MAX_HEAD => {
                                return Err(DirectError::Protocol(
                                    "the trailers are too long".into(),
                                ))
                            }
                            None => self.more("chunked body").await?,
                        }
                    }
                }
                let mut left = size;
                while left > 0 {
                    if self.start == self.end {
                        self.more("chunked body").await?;
                    }
                    left -= self.take(left, body, limit, read);
                }
                while self.end - self.start < 2 {
                    self.more("chunked body").await?;
                }
                if &self.buf[self.start..self.start + 2] != b"\r\n" {
                    return Err(DirectError::Protocol(
                        "a chunk is not followed by CRLF".into(),
                    ));
                }
                self.start += 2;
            },
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    memchr::memmem::find(b, b"\r\n")
}

fn chunk_size(line: &[u8]) -> Result<u64, DirectError> {
    let hex = line.split(|&c| c == b';').next().unwrap_or(line);
    let hex = std::str::from_utf8(hex).unwrap_or("").trim();
    u64::from_str_radix(hex, 16).map_err(|_| {
        DirectError::Protocol(format!(
            "invalid chunk size {:?}",
            String::from_utf8_lossy(line)
        ))
    })
}

/// Parses a response head: Ok(None) when more bytes are needed; the bytes used, the head, the
/// body's framing and whether the connection closes after it.
#[allow(clippy::type_complexity)]
fn parse_head(
    b: &[u8],
    want_headers: bool,
) -> Result<Option<(usize, Head, Framing, bool)>, DirectError> {
    // Uninitialised slots: no 3 KiB of zeroes to write for every response.
    let mut slots =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut []);
    let parsed =
        httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut r, b, &mut slots);
    let used = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(DirectError::Protocol(format!("invalid HTTP response: {e}"))),
    };
    // httparse reads any three digits; 000–099 are not statuses.
    let status = r
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| DirectError::Protocol(format!("invalid status code {:?}", r.code)))?;
    let mut close = r.version == Some(0);
    let mut close_token = false;
    let mut chunked = false;
    let mut length: Option<u64> = None;
    let mut headers = want_headers.then(HeaderMap::new);
    for h in r.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let digits = h.value.trim_ascii();
            let v = (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(digits).ok()?.parse().ok())
                .flatten();
            match (v, length) {
                (Some(v), None) => length = Some(v),
                (Some(v), Some(old)) if v == old => {}
                _ => {
                    return Err(DirectError::Protocol(format!(
                        "invalid Content-Length {:?}",
                        String::from_utf8_lossy(h.value)
                    )))
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .rsplit(|&c| c == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&c| c == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close_token = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && r.version == Some(0) {
                    close = false;
                }
            }
        }
        if let Some(map) = headers.as_mut() {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(h.value),
            ) {
                map.append(n, v);
            }
        }
    }
    let framing = if chunked {
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    let close = close || close_token;
    Ok(Some((used, Head { status, headers }, framing, close)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_parsed_with_their_framing() {
        let (used, head, framing, close) =
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false)
                .unwrap()
                .unwrap();
        assert_eq!((used, head.status.as_u16(), close), (38, 200, false));
        assert!(parse_head(b"HTTP/1.1 099 Odd\r\n\r\n", false).is_err());
        assert!(matches!(framing, Framing::Length(5)));
        let (_, _, framing, close) = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n",
            true,
        )
        .unwrap()
        .unwrap();
        assert!(matches!(framing, Framing::Chunked) && close);
        let (_, _, framing, close) = parse_head(b"HTTP/1.0 200 OK\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert!(matches!(framing, Framing::UntilClose) && close);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false)
            .unwrap()
            .is_none());
        assert!(parse_head(b"HTTP/1.1 2x0 OK\r\n\r\n", false).is_err());
        assert!(parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            false
        )
        .is_err());
    }

    #[test]
    fn chunk_sizes_are_hex_with_optional_extensions() {
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"0;name=value").unwrap(), 0);
        assert!(chunk_size(b"zz").is_err());
    }
}
