//! Latency histograms as the result file holds them: HdrHistogram V2 + deflate, base64, in µs
//! from 1 µs to one hour at 3 significant digits, so that histograms of trials, stages and
//! shards merge exactly.
//!
//! The decoder trusts the file: it allocates the payload length the header states (up to 4 GiB)
//! before reading a byte of it, and a run of zero counts of −2⁶³ overflows its negation (a panic
//! in a build with overflow checks). A result file is user input, so a few hostile bytes must
//! give an error, never an abort or a panic: `plain_v2` inflates the compressed form itself,
//! bounded, checks the header against the bytes that are really there, and bounds the total
//! count. All three were found by fuzzing (`fuzz/`, target `histogram`).

use std::borrow::Cow;
use std::io::Read;

use base64::Engine as _;
use flate2::read::ZlibDecoder;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::Percentiles;

/// Latencies are recorded in microseconds, 3 significant digits, up to one hour.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
pub const SIGFIG: u8 = 3;

/// An empty histogram with the bounds every result histogram has.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG)
        .expect("constant histogram bounds are valid")
}

pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec cannot fail: the only errors are the writer's, and a Vec's writes
    // do not fail.
    let _ = V2DeflateSerializer::new().serialize(h, &mut buf);
    base64::engine::general_purpose::STANDARD.encode(buf)
}

pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let v2 = plain_v2(&bytes)?;
    Deserializer::new()
        .deserialize(&mut &v2[..])
        .map_err(|e| match e {
            hdrhistogram::serialization::DeserializeError::IoError(_) => {
                "the encoded data ends early or does not inflate".to_string()
            }
            e => e.to_string(),
        })
}

pub fn percentiles(h: &Histogram<u64>) -> Option<Percentiles> {
    if h.is_empty() {
        return None;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Some(Percentiles {
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p99_9: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: h.mean().round() / 1000.0,
    })
}

/// HdrHistogram V2, plain and deflate-compressed (what `encode_histogram` writes).
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Cookie, payload length, normalizing offset, significant digits, lowest and highest trackable
/// values, integer-to-double ratio.
const V2_HEADER: usize = 40;
/// The most a compressed histogram may inflate to. perfgate's own (1 µs to 1 h, 3 significant
/// digits: about 23,000 counts of at most 9 bytes) stay far below.
const MAX_INFLATED: u64 = 16 << 20;

/// The most requests one histogram may count: a million a second for twelve days. The decoder
/// accepts counts up to 2⁶³ each, but `value_at_quantile`, `iter_recorded` and merging sum them
/// in a `u64` without checks, so totals near 2⁶⁴ overflow; under this bound 2²³ histograms
/// merged do not.
const MAX_TOTAL_COUNT: u64 = 1 << 40;

const ENDS_EARLY: &str = "the encoded data ends early or does not inflate";

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The histogram as plain V2 bytes (inflated if compressed), checked so that the decoder
/// allocates no more than is there and meets no count it cannot negate, and that its counts sum
/// to at most `MAX_TOTAL_COUNT`. Bytes with another cookie are passed on unchanged for the
/// decoder to refuse.
fn plain_v2(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let v2 = match be_u32(bytes, 0) {
        Some(V2_COMPRESSED_COOKIE) => {
            let len = be_u32(bytes, 4).ok_or(ENDS_EARLY)? as usize;
            let compressed = &bytes[8..bytes.len().min(8usize.saturating_add(len))];
            let mut out = Vec::new();
            ZlibDecoder::new(compressed)
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut out)
                .map_err(|_| ENDS_EARLY)?;
            if out.len() as u64 > MAX_INFLATED {
                return Err(format!(
                    "it inflates to more than {} MiB, far more than any latency histogram",
                    MAX_INFLATED >> 20
                ));
            }
            if be_u32(&out, 0) != Some(V2_COOKIE) {
                return Err("the inflated data is not an HdrHistogram".to_string());
            }
            Cow::Owned(out)
        }
        Some(V2_COOKIE) => Cow::Borrowed(bytes),
        _ => return Ok(Cow::Borrowed(bytes)),
    };
    let payload_len = be_u32(&v2, 4).ok_or(ENDS_EARLY)? as usize;
    let payload = v2.get(V2_HEADER..).ok_or(ENDS_EARLY)?;
    let mut counts = payload.get(..payload_len).ok_or(ENDS_EARLY)?;
    let mut total: u64 = 0;
    while !counts.is_empty() {
        let (zig_zag, n) = varint(counts);
        // Zig-zag decodes to −2⁶³: a run of 2⁶³ zero counts, which no histogram has.
        if zig_zag == u64::MAX {
            return Err("a run of zero counts is longer than any histogram".to_string());
        }
        if zig_zag & 1 == 0 {
            total = total.saturating_add(zig_zag >> 1);
        }
        counts = &counts[n..];
    }
    if total > MAX_TOTAL_COUNT {
        return Err(format!(
            "it counts {total} requests, more than any run records (at most 2^40)"
        ));
    }
    Ok(v2)
}

/// One of HdrHistogram's LEB128 variants (at most 9 bytes, the 9th taken whole) and its length;
/// a value cut short is returned as far as it goes (the decoder reports it).
fn varint(bytes: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return (value | u64::from(b) << 56, 9);
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (value, bytes.len().min(9))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain V2 header (perfgate's bounds) stating `payload_len`, then `payload`.
    fn v2(payload_len: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(V2_COOKIE.to_be_bytes());
        b.extend(payload_len.to_be_bytes());
        b.extend(0u32.to_be_bytes());
        b.extend(3u32.to_be_bytes());
        b.extend(1u64.to_be_bytes());
        b.extend(3_600_000_000u64.to_be_bytes());
        b.extend(1.0f64.to_be_bytes());
        b.extend(payload);
        b
    }

    #[test]
    fn varints_decode_as_hdrhistogram_writes_them() {
        for v in [0, 1, 127, 128, 300, 1 << 40, u64::MAX - 1, u64::MAX] {
            // 7 bits a byte, low first, the 9th byte whole.
            let (mut buf, mut rest) = (Vec::new(), v);
            while buf.len() < 8 && rest >= 0x80 {
                buf.push(rest as u8 | 0x80);
                rest >>= 7;
            }
            buf.push(rest as u8);
            assert_eq!(varint(&buf), (v, buf.len()), "{v}");
        }
        assert_eq!(varint(&[0x81]), (1, 1), "cut short");
    }

    #[test]
    fn hostile_headers_are_refused_before_decoding() {
        // 4 GiB of counts promised, none there: the decoder would allocate them first.
        assert!(plain_v2(&v2(u32::MAX, &[])).is_err());
        // A run of -2^63 zero counts: the decoder's negation would overflow.
        assert!(plain_v2(&v2(9, &[0xff; 9])).is_err());
        // Counts summing past 2^64: percentiles would overflow adding them up.
        let huge = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(plain_v2(&v2(18, &[huge, huge].concat())).is_err());
        assert!(plain_v2(&v2(2, &[0x02, 0x03])).is_ok());
    }
}
