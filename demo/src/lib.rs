//! perfgate-demo: a sample ticketing API (modelled on a Django/DRF app) that
//! perfgate load-tests. Latency comes from modelled work (simulated queries
//! drawn from lognormal distributions plus real CPU work and JSON
//! serialization) and can be scaled with `slowdown`; `error_rate` injects
//! 500s. See [`app`] for the endpoints.

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

mod catalog;
mod orders;
mod ratelimit;
mod shows;
mod sim;
mod timer;

pub use catalog::SHOW_COUNT;
pub use orders::{account_password, promo_discount, TOKEN_TTL_SECS};

/// Environment variable scaling all modelled work (float > 0, default 1).
pub const SLOWDOWN_VAR: &str = "PERFGATE_DEMO_SLOWDOWN";
/// Environment variable giving the injected error fraction (0..=1, default 0).
pub const ERROR_RATE_VAR: &str = "PERFGATE_DEMO_ERROR_RATE";
/// Environment variable giving the number of request workers (default: no limit). Like a Django
/// app's gunicorn workers × threads (and the database connections they hold): beyond that many
/// requests at once, the others wait for a worker, so the service has a knee.
pub const WORKERS_VAR: &str = "PERFGATE_DEMO_WORKERS";
/// Search requests allowed per second per API key (also the burst size).
pub const SEARCH_RATE_PER_SEC: u32 = 20;

/// Runtime knobs of the demo service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoConfig {
    /// Multiplier on every simulated query duration and CPU work (> 0).
    pub slowdown: f64,
    /// Fraction of requests (except `/health`) answered with an injected 500.
    pub error_rate: f64,
    /// Requests worked on at once (`None`: no limit); the others queue for a worker.
    pub workers: Option<usize>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            slowdown: 1.0,
            error_rate: 0.0,
            workers: None,
        }
    }
}

impl DemoConfig {
    /// Reads `PERFGATE_DEMO_SLOWDOWN` and `PERFGATE_DEMO_ERROR_RATE`; unset or
    /// empty variables keep their defaults. The error names the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
        })
    }

    /// Like [`DemoConfig::from_env`], with the variables read through
    /// `lookup` (for tests and embedding).
    pub fn from_lookup<F>(lookup: F) -> Result<Self, String>
    where
        F: Fn(&str) -> Result<Option<String>, String>,
    {
        let mut config = DemoConfig::default();
        if let Some(raw) = lookup(SLOWDOWN_VAR)?.filter(|v| !v.trim().is_empty()) {
            config.slowdown = raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| {
                    format!("{SLOWDOWN_VAR} must be a number greater than 0, got {raw:?}")
                })?;
        }
        if let Some(raw) = lookup(ERROR_RATE_VAR)?.filter(|v| !v.trim().is_empty()) {
            config.error_rate = raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| {
                    format!("{ERROR_RATE_VAR} must be a number between 0 and 1, got {raw:?}")
                })?;
        }
        if let Some(raw) = lookup(WORKERS_VAR)?.filter(|v| !v.trim().is_empty()) {
            config.workers = Some(
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|v| (1..=100_000).contains(v))
                    .ok_or_else(|| {
                        format!(
                            "{WORKERS_VAR} must be a whole number from 1 to 100000, got {raw:?}"
                        )
                    })?,
            );
        }
        Ok(config)
    }
}

/// Everything the handlers share.
pub(crate) struct AppState {
    pub(crate) config: DemoConfig,
    pub(crate) catalog: catalog::Catalog,
    /// Pre-rendered body of the featured-shows endpoint (its "cache entry").
    pub(crate) featured_body: Bytes,
    pub(crate) sessions: orders::Sessions,
    pub(crate) limiter: ratelimit::RateLimiter,
    pub(crate) next_order_id: AtomicU64,
    /// The request workers (`DemoConfig::workers` permits), if limited.
    pub(crate) workers: Option<tokio::sync::Semaphore>,
}

pub(crate) type Shared = Arc<AppState>;

/// A JSON error body `{"detail": message}` with `status`.
pub(crate) fn detail_response(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "detail": message }))).into_response()
}

/// Parses a request body as a JSON object; the error is a DRF-like message
/// for a 400 response.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => "null",
            };
            Err(format!(
                "Invalid data. Expected a dictionary, but got {kind}."
            ))
        }
        Err(e) => Err(format!("JSON parse error - {e}")),
    }
}

async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn not_found() -> Response {
    detail_response(StatusCode::NOT_FOUND, "Not found.")
}

async fn method_not_allowed() -> Response {
    detail_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
}

/// Answers a random `error_rate` fraction of requests (all but `/health`)
/// with an injected 500.
async fn inject_errors(State(state): State<Shared>, request: Request, next: Next) -> Response {
    if request.uri().path() != "/health" && sim::chance(state.config.error_rate) {
        return detail_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error (injected)",
        );
    }
    next.run(request).await
}

/// Waits for one of the service's request workers (all but `/health`, which a load balancer must
/// always reach), and holds it until the answer is ready: beyond `workers` requests at once,
/// requests queue, and the wait is latency — the knee `perfgate capacity` finds.
async fn admit(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let Some(workers) = state.workers.as_ref() else {
        return next.run(request).await;
    };
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let Ok(_worker) = workers.acquire().await else {
        return detail_response(StatusCode::SERVICE_UNAVAILABLE, "Shutting down.");
    };
    next.run(request).await
}

/// Makes every request (but `/health`) take `slowdown` times as long as its handler did —
/// queries, CPU work, serialization and all — so that `PERFGATE_DEMO_SLOWDOWN=1.15` is a 15%
/// regression of the service's own time, not of only the simulated parts. (Factors below 1 are
/// applied inside the model instead: a finished handler cannot be made faster.)
async fn slow_down(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let factor = state.config.slowdown;
    if factor <= 1.0 || request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let extra = started.elapsed().mul_f64(factor - 1.0);
    timer::sleep_until(std::time::Instant::now() + extra).await;
    response
}

/// The demo's router. Endpoints (all JSON):
///
/// - `GET /health`
/// - `GET /api/v1/shows/?page=N&page_size=M`, `GET /api/v1/shows/{id}/`
/// - `GET /api/v1/featured-shows/`, `GET /api/v1/active-cities/`
/// - `GET /api/v1/search/?q=...` (20 req/s per `X-Api-Key`, else 429)
/// - `POST /auth/login`, `POST /checkout/` (Bearer token), `POST /validate-promo/`
///
/// Each path also answers without (or with) its trailing slash.
pub fn app(config: DemoConfig) -> Router {
    // Calibrate the CPU-work model now rather than on the first request.
    sim::hashes_per_ms();
    let catalog = catalog::Catalog::new();
    let featured_body = serde_json::to_vec(&catalog.featured())
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(b"[]"));
    let rate = f64::from(SEARCH_RATE_PER_SEC);
    let state: Shared = Arc::new(AppState {
        config,
        catalog,
        featured_body,
        sessions: orders::Sessions::default(),
        limiter: ratelimit::RateLimiter::new(rate, rate),
        next_order_id: AtomicU64::new(100_001),
        workers: config
            .workers
            .map(|n| tokio::sync::Semaphore::new(n.max(1))),
    });
    let routes: [(&str, axum::routing::MethodRouter<Shared>); 9] = [
        ("/api/v1/shows/", get(shows::list)),
        ("/api/v1/shows/{id}/", get(shows::detail)),
        ("/api/v1/featured-shows/", get(shows::featured)),
        ("/api/v1/active-cities/", get(shows::active_cities)),
        ("/api/v1/search/", get(shows::search)),
        ("/auth/login", post(orders::login)),
        ("/checkout/", post(orders::checkout)),
        ("/validate-promo/", post(orders::validate_promo)),
        ("/health", get(health)),
    ];
    let mut router = Router::new();
    for (path, handler) in routes {
        let alias = match path.strip_suffix('/') {
            Some(trimmed) => trimmed.to_owned(),
            None => format!("{path}/"),
        };
        router = router.route(path, handler.clone()).route(&alias, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), slow_down))
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(middleware::from_fn_with_state(state.clone(), inject_errors))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then finishes
/// in-flight requests and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: DemoConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(config))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Result<Option<String>, String> + 'a {
        move |name| {
            Ok(vars
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string()))
        }
    }

    #[test]
    fn config_defaults_and_values() {
        assert_eq!(
            DemoConfig::from_lookup(lookup(&[])).ok(),
            Some(DemoConfig::default())
        );
        let c = DemoConfig::from_lookup(lookup(&[
            (SLOWDOWN_VAR, "1.2"),
            (ERROR_RATE_VAR, " 0.05 "),
            (WORKERS_VAR, "4"),
        ]));
        assert_eq!(
            c.ok(),
            Some(DemoConfig {
                slowdown: 1.2,
                error_rate: 0.05,
                workers: Some(4),
            })
        );
        assert_eq!(
            DemoConfig::from_lookup(lookup(&[(SLOWDOWN_VAR, "")])).ok(),
            Some(DemoConfig::default())
        );
    }

    #[test]
    fn config_errors_name_the_variable() {
        for bad in ["0", "-1", "abc", "inf", "NaN"] {
            let err = DemoConfig::from_lookup(lookup(&[(SLOWDOWN_VAR, bad)]))
                .err()
                .unwrap_or_default();
            assert!(err.contains(SLOWDOWN_VAR), "{bad}: {err}");
        }
        for bad in ["1.5", "-0.1", "x", "NaN"] {
            let err = DemoConfig::from_lookup(lookup(&[(ERROR_RATE_VAR, bad)]))
                .err()
                .unwrap_or_default();
            assert!(err.contains(ERROR_RATE_VAR), "{bad}: {err}");
        }
        for bad in ["0", "-3", "1.5", "lots"] {
            let err = DemoConfig::from_lookup(lookup(&[(WORKERS_VAR, bad)]))
                .err()
                .unwrap_or_default();
            assert!(err.contains(WORKERS_VAR), "{bad}: {err}");
        }
    }

    #[test]
    fn parse_object_variants() {
        assert!(parse_object(br#"{"a":1}"#).is_ok());
        for body in [&b""[..], b"[1]", b"{", b"\"x\"", b"null"] {
            assert!(parse_object(body).is_err(), "{body:?}");
        }
        assert_eq!(
            parse_object(b"[1]").err().as_deref(),
            Some("Invalid data. Expected a dictionary, but got list.")
        );
    }
}
