//! Read-only catalog endpoints: show list and detail, featured shows, active
//! cities and the rate-limited search.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use crate::catalog::{self, Show};
use crate::sim::Work;
use crate::{detail_response, Shared};

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;
const MAX_SEARCH_RESULTS: usize = 20;
/// Microseconds of CPU standing in for per-request framework work (permission
/// checks, serializer setup).
const LIGHT_CPU: f64 = 30.0;

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(query: Params) -> HashMap<String, String> {
    query.map(|Query(map)| map).unwrap_or_default()
}

#[derive(Serialize)]
struct Page<'a> {
    count: usize,
    next: Option<String>,
    previous: Option<String>,
    results: &'a [Show],
}

/// `GET /api/v1/shows/?page=N&page_size=M`
pub(crate) async fn list(
    State(state): State<Shared>,
    headers: HeaderMap,
    query: Params,
) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    let params = params(query);
    let page_size = params
        .get("page_size")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
    // SELECT COUNT(*) FROM shows
    work.query(1.9).await;
    let shows = state.catalog.all();
    let count = shows.len();
    let pages = count.div_ceil(page_size).max(1);
    let page = match params.get("page").map(|v| v.trim()) {
        None | Some("") => Some(1),
        Some("last") => Some(pages),
        Some(v) => v.parse::<usize>().ok().filter(|p| (1..=pages).contains(p)),
    };
    let Some(page) = page else {
        return detail_response(StatusCode::NOT_FOUND, "Invalid page.");
    };
    // SELECT ... FROM shows ORDER BY id LIMIT page_size OFFSET ...
    work.query(4.9).await;
    work.hash(b"shows-list", LIGHT_CPU);
    let start = (page - 1) * page_size;
    let results = &shows[start.min(count)..(start + page_size).min(count)];
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let url = |p: usize| format!("http://{host}/api/v1/shows/?page={p}&page_size={page_size}");
    let body = Page {
        count,
        next: (page < pages).then(|| url(page + 1)),
        previous: (page > 1).then(|| url(page - 1)),
        results,
    };
    Json(body).into_response()
}

/// `GET /api/v1/shows/{id}/`
pub(crate) async fn detail(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    // Like Django's <int:pk>: anything but a plain number does not match.
    let id = id
        .parse::<u64>()
        .ok()
        .filter(|_| id.bytes().all(|b| b.is_ascii_digit()));
    // SELECT ... FROM shows WHERE id = ...
    work.query(1.8).await;
    let Some(show) = id.and_then(|id| state.catalog.get(id)) else {
        return detail_response(StatusCode::NOT_FOUND, "Not found.");
    };
    // SELECT ... FROM performers / sections WHERE show_id = ...
    work.query(1.4).await;
    work.hash(&show.id.to_le_bytes(), LIGHT_CPU);
    Json(catalog::detail(show)).into_response()
}

/// `GET /api/v1/featured-shows/` (served from a pre-rendered cache entry)
pub(crate) async fn featured(State(state): State<Shared>) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    // Cache GET featured-shows
    work.query(1.5).await;
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        state.featured_body.clone(),
    )
        .into_response()
}

#[derive(Serialize)]
struct City {
    city: &'static str,
    show_count: u32,
}

/// `GET /api/v1/active-cities/`
pub(crate) async fn active_cities(State(state): State<Shared>) -> Response {
    let mut work = Work::start(state.config.slowdown.min(1.0));
    // SELECT city, COUNT(*) FROM shows GROUP BY city
    work.query(1.5).await;
    let cities: Vec<City> = state
        .catalog
        .active_cities()
        .into_iter()
        .map(|(city, show_count)| City { city, show_count })
        .collect();
    Json(cities).into_response()
}

#[derive(Serialize)]
struct SearchResults<'a> {
    count: usize,
    results: Vec<&'a Show>,
}

/// `GET /api/v1/search/?q=...` (throttled per `X-Api-Key`)
pub(crate) async fn search(
    State(state): State<Shared>,
    headers: HeaderMap,
    query: Params,
) -> Response {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("anonymous");
    if !state.limiter.try_acquire(key, Instant::now()) {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"detail": "Request was throttled."})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    let mut work = Work::start(state.config.slowdown.min(1.0));
    let needle = params(query)
        .get("q")
        .map(|q| q.trim().to_lowercase())
        .unwrap_or_default();
    // SELECT ... WHERE title ILIKE ... OR venue ILIKE ... (full scan)
    work.query(4.3).await;
    let mut results = state.catalog.search(&needle);
    let count = results.len();
    results.truncate(MAX_SEARCH_RESULTS);
    Json(SearchResults { count, results }).into_response()
}
