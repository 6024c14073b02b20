//! Parsing a response head in place (httparse) and deciding how its body is framed, by the
//! rules of RFC 9112 §6.3.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::StatusCode;

use super::{DirectError, Head, MAX_HEAD, MAX_HEADERS};

/// How the body of a response ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A complete response head.
pub(super) struct Parsed {
    /// Bytes of the buffer the head took.
    pub used: usize,
    pub head: Head,
    pub framing: Framing,
    /// Whether the connection closes after this response.
    pub close: bool,
}

/// The first CRLF in `b`.
pub(super) fn find_crlf(b: &[u8]) -> Option<usize> {
    memchr::memmem::find(b, b"\r\n")
}

/// A chunk-size line: hex digits, optionally followed by `;extensions`.
pub(super) fn chunk_size(line: &[u8]) -> Result<u64, DirectError> {
    let hex = line.split(|&c| c == b';').next().unwrap_or(line);
    let hex = std::str::from_utf8(hex).unwrap_or("").trim();
    u64::from_str_radix(hex, 16).map_err(|_| {
        DirectError::Protocol(format!(
            "invalid chunk size {:?}",
            String::from_utf8_lossy(line)
        ))
    })
}

/// The response head at the start of `b`: Ok(None) when more bytes are needed.
///
/// The body's framing (RFC 9112 §6.3): a Transfer-Encoding whose last coding is `chunked` is
/// chunked; any other Transfer-Encoding is read until the connection closes; with both
/// Transfer-Encoding and Content-Length, Transfer-Encoding wins and the connection is retired
/// afterwards (the message may be a request-smuggling attempt); otherwise Content-Length, else
/// until close.
pub(super) fn parse_head(b: &[u8], want_headers: bool) -> Result<Option<Parsed>, DirectError> {
    // Uninitialised slots: no 3 KiB of zeroes to write for every response.
    let mut slots =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut []);
    let parsed =
        httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut r, b, &mut slots);
    let used = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if b.len() >= MAX_HEAD {
                return Err(DirectError::Protocol(format!(
                    "the response head is larger than {} KiB",
                    MAX_HEAD >> 10
                )));
            }
            return Ok(None);
        }
        Err(e) => return Err(DirectError::Protocol(format!("invalid HTTP response: {e}"))),
    };
    // httparse reads any three digits; 000–099 are not statuses.
    let status = r
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| DirectError::Protocol(format!("invalid status code {:?}", r.code)))?;
    let http10 = r.version == Some(0);
    let mut close = http10;
    let mut close_token = false;
    // The last transfer coding of the last Transfer-Encoding header (together they are one
    // list), when there is one.
    let mut last_coding: Option<&[u8]> = None;
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
            last_coding = h
                .value
                .rsplit(|&c| c == b',')
                .next()
                .map(<[u8]>::trim_ascii);
        } else if name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&c| c == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close_token = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
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
    let framing = match (last_coding, length) {
        (Some(c), _) if c.eq_ignore_ascii_case(b"chunked") => Framing::Chunked,
        (Some(_), _) => Framing::UntilClose,
        (None, Some(n)) => Framing::Length(n),
        (None, None) => Framing::UntilClose,
    };
    let both = last_coding.is_some() && length.is_some();
    Ok(Some(Parsed {
        used,
        head: Head { status, headers },
        framing,
        close: close || close_token || both,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(b: &[u8]) -> Parsed {
        parse_head(b, true).unwrap().expect("a complete head")
    }

    #[test]
    fn heads_are_parsed_with_their_framing() {
        let p = parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((p.used, p.head.status.as_u16(), p.close), (38, 200, false));
        assert_eq!(p.framing, Framing::Length(5));
        assert!(parse_head(b"HTTP/1.1 099 Odd\r\n\r\n", false).is_err());
        let p = parsed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n",
        );
        assert!(p.framing == Framing::Chunked && p.close);
        let p = parsed(b"HTTP/1.0 200 OK\r\n\r\n");
        assert!(p.framing == Framing::UntilClose && p.close);
        let p = parsed(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(p.framing == Framing::Length(0) && !p.close);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false)
            .unwrap()
            .is_none());
        assert!(parse_head(b"HTTP/1.1 2x0 OK\r\n\r\n", false).is_err());
        assert!(parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            false
        )
        .is_err());
        let long = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        assert!(
            parse_head(&long, false).is_err(),
            "a head past 64 KiB is refused"
        );
    }

    #[test]
    fn transfer_encoding_frames_by_rfc_9112() {
        // The last coding is not chunked: the body ends when the connection does.
        let p = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        assert_eq!(p.framing, Framing::UntilClose);
        let p = parsed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n");
        assert!(p.framing == Framing::UntilClose && p.close);
        // Transfer-Encoding wins over Content-Length, and the connection is retired.
        let p =
            parsed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(p.framing == Framing::Chunked && p.close);
        // Two headers are one list: the last coding of the last one decides.
        let p = parsed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert!(p.framing == Framing::Chunked && !p.close);
    }

    #[test]
    fn chunk_sizes_are_hex_with_optional_extensions() {
        assert_eq!(chunk_size(b"1a").unwrap(), 26);
        assert_eq!(chunk_size(b"0;name=value").unwrap(), 0);
        assert!(chunk_size(b"zz").is_err());
    }
}
