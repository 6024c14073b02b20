//! Secrets never reach output, logs, results or reports: one rule and one marker for every
//! place that shows something a secret could be in (failure descriptions in results, error
//! messages about GitHub or the webhook, URLs in messages).
//!
//! The rule: every occurrence of a secret value of at least `MIN_LEN` characters is replaced by
//! `MARKER`. Shorter values are not hidden: replacing every "a" would garble the text and protect
//! nothing a reader could not guess. Secrets are the values of `{{env.*}}` in a profile, the
//! GitHub token, the webhook URL, and the values of the headers `is_sensitive` names.

use reqwest::header::HeaderName;

/// What a secret is replaced by.
pub const MARKER: &str = "[redacted]";

/// Values shorter than this are not treated as secrets.
pub const MIN_LEN: usize = 3;

/// `text` with every secret among `secrets` replaced by `MARKER`.
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().map(AsRef::as_ref) {
        if s.chars().count() >= MIN_LEN {
            out = out.replace(s, MARKER);
        }
    }
    out
}

/// Headers whose values are secrets wherever requests are shown.
pub fn is_sensitive(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization" | "cookie" | "proxy-authorization" | "x-api-key" | "set-cookie"
    )
}

/// A URL as text with any `user:password@` replaced by the marker: `http://[redacted]@host/…`.
pub fn url_without_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{}{MARKER}{}", &url[..scheme_end], &rest[at..]),
        None => url.to_string(),
    }
}

/// What went wrong with an HTTP client request, in words that carry no URL (a URL may hold a
/// secret: the webhook's is one).
pub fn client_error_text(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection refused or failed"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "connection broken"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_is_hidden_and_short_values_are_not_secrets() {
        assert_eq!(
            redact("a ghp_x1 b ghp_x1", &["ghp_x1"]),
            "a [redacted] b [redacted]"
        );
        assert_eq!(redact("short", &["s", "sh"]), "short");
        assert_eq!(redact("key=abc", &["abc".to_string()]), "key=[redacted]");
    }

    #[test]
    fn credentials_in_urls_are_hidden_and_nothing_else() {
        assert_eq!(
            url_without_credentials("https://user:pw@example.com/a@b"),
            "https://[redacted]@example.com/a@b"
        );
        assert_eq!(
            url_without_credentials("http://example.com/a@b"),
            "http://example.com/a@b"
        );
        assert_eq!(url_without_credentials("not a url"), "not a url");
    }
}
