//! Write-side endpoints: login (with a password-hash-like CPU cost and token
//! sessions), checkout (authenticated, several queries and a transaction) and
//! promo-code validation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::sim::Work;
use crate::{detail_response, parse_object, Shared};

/// Lifetime of a login token, in seconds.
pub const TOKEN_TTL_SECS: u64 = 3600;
/// Microseconds of CPU for the login "password hash" (scaled by slowdown).
const LOGIN_HASH_CPU: f64 = 1000.0;
/// Microseconds of CPU for checkout's pricing / fraud checks.
const CHECKOUT_CPU: f64 = 150.0;
/// Expired sessions are swept once every this many logins.
const SWEEP_EVERY: u64 = 4_096;

struct Session {
    username: String,
    expires: Instant,
}

/// Login tokens: token -> username, with expiry.
#[derive(Default)]
pub(crate) struct Sessions {
    map: RwLock<HashMap<String, Session>>,
    inserts: AtomicU64,
}

impl Sessions {
    fn insert(&self, token: String, username: String, now: Instant) {
        let sweep = self.inserts.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1;
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if sweep {
            map.retain(|_, s| s.expires > now);
        }
        map.insert(
            token,
            Session {
                username,
                expires: now + Duration::from_secs(TOKEN_TTL_SECS),
            },
        );
    }

    fn lookup(&self, token: &str, now: Instant) -> Option<String> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .filter(|s| s.expires > now)
            .map(|s| s.username.clone())
    }
}

/// The password of a demo account (`user0001`..`user1000` have
/// `s3cret-0001`..`s3cret-1000`), or None for an unknown username.
pub fn account_password(username: &str) -> Option<String> {
    let digits = username.strip_prefix("user")?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    (1..=1000).contains(&n).then(|| format!("s3cret-{digits}"))
}

/// The discount of a promo code (case-insensitive), or None if invalid.
pub fn promo_discount(code: &str) -> Option<u32> {
    match code.trim().to_ascii_uppercase().as_str() {
        "SAVE5" => Some(5),
        "SAVE10" => Some(10),
        "SAVE15" => Some(15),
        "SAVE20" => Some(20),
        "SAVE25" => Some(25),
        "WELCOME" => Some(10),
        "EARLYBIRD" => Some(15),
        _ => None,
    }
}

fn new_token() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(format!("{name}: This field is required.")),
        Some(_) => Err(format!("{name}: Not a valid string.")),
    }
}

/// An integer given as a JSON number or a numeric string.
fn int_field(obj: &Map<String, Value>, name: &str) -> Result<i64, String> {
    let invalid = || format!("{name}: A valid integer is required.");
    match obj.get(name) {
        None | Some(Value::Null) => Err(format!("{name}: This field is required.")),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(invalid),
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

fn bad_request(message: &str) -> Response {
    detail_response(StatusCode::BAD_REQUEST, message)
}

fn unauthorized() -> Response {
    let mut response = detail_response(
        StatusCode::UNAUTHORIZED,
        "Authentication credentials were not provided.",
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"api\""),
    );
    response
}

/// `POST /auth/login` with `{"username", "password"}`.
pub(crate) async fn login(State(state): State<Shared>, body: Bytes) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    let obj = match parse_object(&body) {
        Ok(obj) => obj,
        Err(message) => return bad_request(&message),
    };
    let (username, password) = match (str_field(&obj, "username"), str_field(&obj, "password")) {
        (Ok(u), Ok(p)) => (u, p),
        (Err(e), _) | (_, Err(e)) => return bad_request(&e),
    };
    // SELECT id, password FROM auth_user WHERE username = ...
    work.query(3.0).await;
    let expected = account_password(username);
    // The hash is computed whether or not the user exists (no timing oracle).
    let mut salted = Vec::with_capacity(username.len() + password.len() + 1);
    salted.extend_from_slice(username.as_bytes());
    salted.push(b':');
    salted.extend_from_slice(password.as_bytes());
    work.hash(&salted, LOGIN_HASH_CPU);
    if expected.as_deref() != Some(password) {
        return detail_response(
            StatusCode::UNAUTHORIZED,
            "Unable to log in with provided credentials.",
        );
    }
    // INSERT INTO authtoken_token ...
    work.query(5.1).await;
    let token = new_token();
    state
        .sessions
        .insert(token.clone(), username.to_owned(), Instant::now());
    Json(json!({"token": token, "expires_in": TOKEN_TTL_SECS})).into_response()
}

/// The token of an `Authorization: Bearer <token>` (or DRF-style `Token`)
/// header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    (known && !token.is_empty()).then_some(token)
}

/// `POST /checkout/` with `{"show_id", "quantity", "promo_code"?}`.
pub(crate) async fn checkout(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    let Some(token) = bearer_token(&headers) else {
        return unauthorized();
    };
    // SELECT ... FROM authtoken_token JOIN auth_user ...
    work.query(2.2).await;
    let Some(username) = state.sessions.lookup(token, Instant::now()) else {
        return unauthorized();
    };
    let obj = match parse_object(&body) {
        Ok(obj) => obj,
        Err(message) => return bad_request(&message),
    };
    let show_id = match int_field(&obj, "show_id") {
        Ok(id) => id,
        Err(e) => return bad_request(&e),
    };
    let quantity = match int_field(&obj, "quantity") {
        Ok(q) if (1..=10).contains(&q) => q,
        Ok(_) => return bad_request("quantity: Ensure this value is between 1 and 10."),
        Err(e) => return bad_request(&e),
    };
    let promo_code = match obj.get("promo_code") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) if code.trim().is_empty() => None,
        Some(Value::String(code)) => Some(code.as_str()),
        Some(_) => return bad_request("promo_code: Not a valid string."),
    };
    // SELECT ... FROM shows WHERE id = ...
    work.query(3.0).await;
    let Some(show) = u64::try_from(show_id)
        .ok()
        .and_then(|id| state.catalog.get(id))
    else {
        return detail_response(StatusCode::NOT_FOUND, "Not found.");
    };
    let discount_percent = match promo_code {
        Some(code) => {
            // SELECT ... FROM promo_codes WHERE code = ...
            work.query(1.0).await;
            promo_discount(code).unwrap_or(0)
        }
        None => 0,
    };
    // Pricing and fraud scoring.
    let fingerprint = format!("{username}:{}:{quantity}", show.id);
    work.hash(fingerprint.as_bytes(), CHECKOUT_CPU);
    // quantity is 1..=10 and discount at most 100, so this cannot overflow.
    let subtotal = i64::from(show.price_cents) * quantity;
    let total_cents = subtotal * i64::from(100 - discount_percent.min(100)) / 100;
    // SELECT available_seats FROM shows WHERE id = ... FOR UPDATE
    work.query(3.0).await;
    // BEGIN; INSERT INTO orders ...; UPDATE shows ...; COMMIT
    work.query(5.3).await;
    let order_id = state.next_order_id.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::CREATED,
        Json(json!({
            "order_id": order_id,
            "show_id": show.id,
            "quantity": quantity,
            "unit_price_cents": show.price_cents,
            "discount_percent": discount_percent,
            "total_cents": total_cents,
            "username": username,
        })),
    )
        .into_response()
}

/// `POST /validate-promo/` with `{"code"}`.
pub(crate) async fn validate_promo(State(state): State<Shared>, body: Bytes) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    let obj = match parse_object(&body) {
        Ok(obj) => obj,
        Err(message) => return bad_request(&message),
    };
    let code = match str_field(&obj, "code") {
        Ok(code) => code,
        Err(e) => return bad_request(&e),
    };
    // SELECT ... FROM promo_codes WHERE code = ... AND active
    work.query(2.4).await;
    let discount = promo_discount(code);
    Json(json!({
        "valid": discount.is_some(),
        "discount_percent": discount.unwrap_or(0),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts() {
        assert_eq!(account_password("user0001").as_deref(), Some("s3cret-0001"));
        assert_eq!(account_password("user1000").as_deref(), Some("s3cret-1000"));
        assert_eq!(account_password("user0000"), None);
        assert_eq!(account_password("user1001"), None);
        assert_eq!(account_password("user001"), None);
        assert_eq!(account_password("user+001"), None);
        assert_eq!(account_password("admin"), None);
    }

    #[test]
    fn promos() {
        assert_eq!(promo_discount("SAVE10"), Some(10));
        assert_eq!(promo_discount(" save20 "), Some(20));
        assert_eq!(promo_discount("SAVE99"), None);
    }

    #[test]
    fn tokens_are_32_hex() {
        let t = new_token();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, new_token());
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Token abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn sessions_expire() {
        let s = Sessions::default();
        let now = Instant::now();
        s.insert("t".into(), "user0001".into(), now);
        assert_eq!(s.lookup("t", now).as_deref(), Some("user0001"));
        assert_eq!(s.lookup("x", now), None);
        let later = now + Duration::from_secs(TOKEN_TTL_SECS + 1);
        assert_eq!(s.lookup("t", later), None);
    }
}
