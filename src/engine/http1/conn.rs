//! One user's keep-alive connection: its socket and read buffer, sending a request and reading
//! the response head and body by their framing.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::parse::{chunk_size, find_crlf, parse_head, Framing, Parsed};
use super::{broken, DirectError, BUF_KEEP, BUF_START, MAX_HEAD};
use reqwest::StatusCode;

/// One user's connection: a TCP stream in the engine, any byte stream where responses are read
/// from memory (the fuzz target).
pub struct Conn<S = TcpStream> {
    pub(super) stream: S,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// When it was last handed back to its user.
    pub(super) idle_since: std::time::Instant,
}

/// The longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 1024;

/// How sending and reading the head can fail.
pub(super) enum SendError {
    /// Nothing of the response arrived: the connection was closed or reset under the request.
    Stale,
    Failed(DirectError),
}
use SendError::{Failed, Stale};

/// Where a response body goes: the first `limit` bytes kept in `body`, every byte counted in
/// `read`.
pub struct BodySink<'a> {
    pub body: &'a mut Vec<u8>,
    pub read: &'a mut u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(super) fn new(stream: S) -> Conn<S> {
        Conn {
            stream,
            buf: vec![0; BUF_START],
            start: 0,
            end: 0,
            idle_since: std::time::Instant::now(),
        }
    }

    /// Whether every byte read has been consumed (nothing beyond the response's framing).
    pub(super) fn drained(&self) -> bool {
        self.start == self.end
    }

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

    pub(super) fn shrink(&mut self) {
        if self.buf.len() > BUF_KEEP && self.end - self.start <= BUF_START {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.buf.truncate(BUF_START);
            self.buf.shrink_to_fit();
        }
    }

    pub(super) async fn send_and_read_head(
        &mut self,
        request: &[u8],
        want_headers: bool,
    ) -> Result<Parsed, SendError> {
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
                    Ok(Some(parsed)) => {
                        self.start += parsed.used;
                        // Interim responses (100 Continue, 103 Early Hints): the real one follows.
                        let status = parsed.head.status;
                        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
                            continue;
                        }
                        return Ok(parsed);
                    }
                    Ok(None) => {}
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
    fn take(&mut self, n: u64, sink: &mut BodySink<'_>, limit: usize) -> u64 {
        let avail = (self.end - self.start) as u64;
        let take = avail.min(n) as usize;
        if sink.body.len() < limit {
            let room = (limit - sink.body.len()).min(take);
            sink.body
                .extend_from_slice(&self.buf[self.start..self.start + room]);
        }
        self.start += take;
        *sink.read += take as u64;
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

    /// Reads exactly `n` bytes of body.
    async fn body_bytes(
        &mut self,
        mut n: u64,
        sink: &mut BodySink<'_>,
        limit: usize,
        what: &str,
    ) -> Result<(), DirectError> {
        while n > 0 {
            if self.start == self.end {
                self.more(what).await?;
            }
            n -= self.take(n, sink, limit);
        }
        Ok(())
    }

    /// Reads the body as `framing` delimits it, keeping its first `limit` bytes.
    pub(super) async fn read_body(
        &mut self,
        framing: Framing,
        sink: &mut BodySink<'_>,
        limit: usize,
    ) -> Result<(), DirectError> {
        match framing {
            Framing::None => Ok(()),
            Framing::Length(n) => self.body_bytes(n, sink, limit, "body").await,
            Framing::UntilClose => loop {
                if self.start < self.end {
                    self.take(u64::MAX, sink, limit);
                }
                match self.fill().await {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(broken(e)),
                }
            },
            Framing::Chunked => self.read_chunked(sink, limit).await,
        }
    }

    /// A chunked body: chunks until the zero-size one, then trailers up to the empty line.
    async fn read_chunked(
        &mut self,
        sink: &mut BodySink<'_>,
        limit: usize,
    ) -> Result<(), DirectError> {
        const WHAT: &str = "chunked body";
        loop {
            let size = loop {
                // The limit is on the line, not on what happens to be buffered, so the answer
                // is the same however the bytes arrive.
                match find_crlf(&self.buf[self.start..self.end]) {
                    Some(at) if at <= MAX_CHUNK_LINE => {
                        let size = chunk_size(&self.buf[self.start..self.start + at])?;
                        self.start += at + 2;
                        break size;
                    }
                    None if self.end - self.start <= MAX_CHUNK_LINE + 1 => self.more(WHAT).await?,
                    _ => {
                        return Err(DirectError::Protocol(
                            "a chunk size line is too long".into(),
                        ))
                    }
                }
            };
            if size == 0 {
                break;
            }
            self.body_bytes(size, sink, limit, WHAT).await?;
            while self.end - self.start < 2 {
                self.more(WHAT).await?;
            }
            if &self.buf[self.start..self.start + 2] != b"\r\n" {
                return Err(DirectError::Protocol(
                    "a chunk is not followed by CRLF".into(),
                ));
            }
            self.start += 2;
        }
        loop {
            match find_crlf(&self.buf[self.start..self.end]) {
                Some(0) => {
                    self.start += 2;
                    return Ok(());
                }
                Some(at) => self.start += at + 2,
                None if self.end - self.start > MAX_HEAD => {
                    return Err(DirectError::Protocol("the trailers are too long".into()))
                }
                None => self.more(WHAT).await?,
            }
        }
    }
}
