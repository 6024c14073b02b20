//! The rules of reading a HAR: which headers are browser noise or secrets, which requests are
//! static assets, how instants, names and JSON leaves are read.

use reqwest::Url;
use serde_json::Value;

/// Headers a browser adds by itself, dropped unless `keep_headers`.
pub(super) const NOISE: &[&str] = &[
    "user-agent",
    "accept-encoding",
    "accept-language",
    "origin",
    "referer",
    "cache-control",
    "pragma",
    "upgrade-insecure-requests",
    "dnt",
    "priority",
    "if-none-match",
    "if-modified-since",
    "x-client-data",
];

/// Headers the client itself sets from the request: never copied.
pub(super) const MANAGED: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "te",
];

/// Header names whose values are secrets.
pub(super) const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-xsrf-token",
];

/// Field and query-parameter names whose values are secrets.
pub(super) const SECRET_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "key",
    "sig",
    "signature",
];

pub(super) const STATIC_EXT: &[&str] = &[
    "js", "mjs", "css", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "woff",
    "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "wasm",
];

/// `scheme://host[:port]`.
pub(super) fn origin(u: &Url) -> String {
    let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default());
    if let Some(p) = u.port() {
        s.push_str(&format!(":{p}"));
    }
    s
}

pub(super) fn page_name(title: &str, i: usize) -> String {
    match title.parse::<Url>() {
        Ok(u) => format!("page {} ({})", i + 1, u.path()),
        Err(_) if !title.trim().is_empty() => title.trim().to_string(),
        Err(_) => format!("page {}", i + 1),
    }
}

/// An RFC 3339 instant (`2026-12-02T21:30:00.123Z`, or with an offset) in ms since the epoch.
pub(super) fn millis(s: &str) -> Option<f64> {
    let (base, offset_min) = match s.strip_suffix('Z') {
        Some(b) => (b, 0i64),
        None => {
            let at = s.rfind(['+', '-']).filter(|&i| i > 10)?;
            let (b, off) = s.split_at(at);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let (h, m) = off[1..].split_once(':')?;
            (
                b,
                sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
            )
        }
    };
    let (whole, frac) = base.split_once('.').unwrap_or((base, "0"));
    let t = humantime::parse_rfc3339_weak(whole).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64();
    let frac: f64 = format!("0.{frac}").parse().ok()?;
    Some((secs + frac - offset_min as f64 * 60.0) * 1000.0)
}

pub(super) fn is_static(u: &Url, mime: &str) -> bool {
    let ext = u
        .path()
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e);
    ext.is_some_and(|e| STATIC_EXT.contains(&e.to_ascii_lowercase().as_str()))
        || [
            "text/css",
            "javascript",
            "image/",
            "font/",
            "video/",
            "audio/",
        ]
        .iter()
        .any(|m| mime.contains(m))
}

/// An environment variable name for a secret field or header: `HAR_PASSWORD`.
pub(super) fn env_name(field: &str) -> String {
    let up: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("HAR_{}", up.trim_matches('_'))
}

/// `$.a.b[0]` for the JSON leaves of `v`, with their text (strings ≥ 4 characters, integers ≥
/// 2 digits), at most `limit` of them.
pub(super) fn leaves(v: &Value, path: String, out: &mut Vec<(String, String, String)>, key: &str) {
    if out.len() >= 2000 {
        return;
    }
    match v {
        Value::String(s) if distinctive(s) => out.push((s.clone(), path, key.into())),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let t = n.to_string();
            if t.trim_start_matches('-').len() >= 2 {
                out.push((t, path, key.into()));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(200) {
                leaves(x, format!("{path}[{i}]"), out, key);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let p = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty()
                {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\'', "\\'"))
                };
                leaves(x, p, out, k);
            }
        }
        _ => {}
    }
}

/// A variable name from a JSON key: `showId` → `showId`, `id` → `id`, anything else → `value`.
pub(super) fn var_name(hint: &str) -> String {
    let s: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        "value".into()
    } else {
        s
    }
}

/// Whether a string is unlikely to match another by chance: a token, an id, a UUID (eight
/// characters or more with a digit, or sixteen or more) — not a word such as a search term a
/// response happens to contain too.
pub(super) fn distinctive(s: &str) -> bool {
    let n = s.chars().count();
    (n >= 8 && s.bytes().any(|b| b.is_ascii_digit())) || n >= 16
}
