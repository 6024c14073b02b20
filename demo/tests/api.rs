//! HTTP-level tests of the demo API: each test serves the app on a real
//! loopback listener and talks to it with reqwest.

use std::time::{Duration, Instant};

use perfgate_demo::{serve, DemoConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Server {
    base: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    async fn start(config: DemoConfig) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        Server {
            base: format!("http://{addr}"),
            client,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    async fn post(&self, path: &str, body: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.expect("POST");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    async fn login(&self, user: u32) -> String {
        let body =
            json!({"username": format!("user{user:04}"), "password": format!("s3cret-{user:04}")});
        let (status, value) = self.post("/auth/login", &body.to_string(), None).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value["token"].as_str().expect("token").to_owned()
    }

    /// Stops the server and checks that it shut down cleanly.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("server stops within 5 s")
                .expect("server task");
            assert!(result.is_ok(), "{result:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_unknown_paths() {
    let server = Server::start(DemoConfig::default()).await;
    assert_eq!(
        server.get("/health").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        server.get("/nope").await,
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    let (status, body) = server.post("/health", "{}", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["detail"].is_string());
    // Paths answer with and without their trailing slash.
    assert_eq!(server.get("/api/v1/featured-shows").await.0, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_paging() {
    let server = Server::start(DemoConfig::default()).await;
    let (status, page) = server.get("/api/v1/shows/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 200);
    assert!(page["previous"].is_null());
    let next = page["next"].as_str().expect("next url");
    assert!(next.contains("/api/v1/shows/?page=2"), "{next}");
    let results = page["results"].as_array().expect("results");
    assert_eq!(results.len(), 20);
    assert_eq!(results[0]["id"], 1);
    for field in [
        "title",
        "venue",
        "city",
        "starts_at",
        "price_cents",
        "available_seats",
        "tags",
    ] {
        assert!(!results[0][field].is_null(), "missing {field}");
    }

    let (status, page) = server.get("/api/v1/shows/?page=3&page_size=50").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<u64> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|s| s["id"].as_u64())
        .collect();
    assert_eq!(ids, (101..=150).collect::<Vec<u64>>());
    assert!(page["previous"]
        .as_str()
        .is_some_and(|p| p.contains("page=2")));

    let (_, last) = server.get("/api/v1/shows/?page=10").await;
    assert!(last["next"].is_null());
    assert_eq!(last["results"].as_array().map(Vec::len), Some(20));

    let (_, big) = server.get("/api/v1/shows/?page_size=1000").await;
    assert_eq!(big["results"].as_array().map(Vec::len), Some(100));

    for bad in ["0", "11", "abc", "-1"] {
        let (status, body) = server.get(&format!("/api/v1/shows/?page={bad}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "page={bad}");
        assert_eq!(body, json!({"detail": "Invalid page."}));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detail_featured_cities_search() {
    let server = Server::start(DemoConfig::default()).await;
    let (status, show) = server.get("/api/v1/shows/5/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(show["id"], 5);
    assert!(show["description"].is_string());
    assert!(!show["performers"]
        .as_array()
        .expect("performers")
        .is_empty());
    assert!(show["seat_map"]["sections"].is_array());
    for missing in ["0", "201", "999", "abc", "+5"] {
        let (status, body) = server.get(&format!("/api/v1/shows/{missing}/")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(body, json!({"detail": "Not found."}));
    }

    let (status, featured) = server.get("/api/v1/featured-shows/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(featured.as_array().map(Vec::len), Some(6));

    let (status, cities) = server.get("/api/v1/active-cities/").await;
    assert_eq!(status, StatusCode::OK);
    let total: u64 = cities
        .as_array()
        .expect("cities")
        .iter()
        .filter_map(|c| c["show_count"].as_u64())
        .sum();
    assert_eq!(total, 200);

    let (status, found) = server.get("/api/v1/search/?q=london").await;
    assert_eq!(status, StatusCode::OK);
    let results = found["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(results.iter().all(|s| s["city"] == "London"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_checkout() {
    let server = Server::start(DemoConfig::default()).await;
    let token = server.login(42).await;
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));

    let (_, show) = server.get("/api/v1/shows/5/").await;
    let price = show["price_cents"].as_i64().expect("price");

    let (status, order) = server
        .post(
            "/checkout/",
            r#"{"show_id": 5, "quantity": 2}"#,
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["show_id"], 5);
    assert_eq!(order["quantity"], 2);
    assert_eq!(order["total_cents"], price * 2);
    assert!(order["order_id"].is_u64());

    // show_id as a numeric string, with a promo code.
    let (status, discounted) = server
        .post(
            "/checkout/",
            r#"{"show_id": "5", "quantity": 1, "promo_code": "SAVE10"}"#,
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{discounted}");
    assert_eq!(discounted["total_cents"], price * 90 / 100);
    assert_ne!(discounted["order_id"], order["order_id"]);

    let (status, _) = server
        .post(
            "/checkout/",
            r#"{"show_id": 9999, "quantity": 1}"#,
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_and_credentials() {
    let server = Server::start(DemoConfig::default()).await;
    let unauthenticated = json!({"detail": "Authentication credentials were not provided."});
    let order = r#"{"show_id": 1, "quantity": 1}"#;
    assert_eq!(
        server.post("/checkout/", order, None).await,
        (StatusCode::UNAUTHORIZED, unauthenticated.clone())
    );
    assert_eq!(
        server
            .post(
                "/checkout/",
                order,
                Some("0123456789abcdef0123456789abcdef")
            )
            .await,
        (StatusCode::UNAUTHORIZED, unauthenticated)
    );

    let (status, _) = server
        .post(
            "/auth/login",
            r#"{"username": "user0001", "password": "wrong"}"#,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .post(
            "/auth/login",
            r#"{"username": "user1001", "password": "s3cret-1001"}"#,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for body in [
        "",
        "{",
        "[]",
        r#"{"username": "user0001"}"#,
        r#"{"username": 1, "password": "x"}"#,
    ] {
        let (status, value) = server.post("/auth/login", body, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "login body {body:?}");
        assert!(value["detail"].is_string());
    }

    let token = server.login(1000).await;
    for body in [
        "not json",
        "[1, 2]",
        r#"{"quantity": 1}"#,
        r#"{"show_id": "five", "quantity": 1}"#,
        r#"{"show_id": 1.5, "quantity": 1}"#,
        r#"{"show_id": 1, "quantity": 0}"#,
        r#"{"show_id": 1, "quantity": 11}"#,
        r#"{"show_id": 1}"#,
        r#"{"show_id": 1, "quantity": 1, "promo_code": 7}"#,
    ] {
        let (status, value) = server.post("/checkout/", body, Some(&token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "checkout body {body:?}");
        assert!(value["detail"].is_string(), "{value}");
    }

    assert_eq!(
        server
            .post("/validate-promo/", r#"{"code": "SAVE20"}"#, None)
            .await,
        (
            StatusCode::OK,
            json!({"valid": true, "discount_percent": 20})
        )
    );
    assert_eq!(
        server
            .post("/validate-promo/", r#"{"code": "BOGUS"}"#, None)
            .await,
        (
            StatusCode::OK,
            json!({"valid": false, "discount_percent": 0})
        )
    );
    let (status, _) = server.post("/validate-promo/", "{}", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server.post("/validate-promo/", "nope", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_is_rate_limited_per_key() {
    let server = Server::start(DemoConfig::default()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let request = server
            .client
            .get(server.url("/api/v1/search/?q=jazz"))
            .header("x-api-key", "burst-key");
        tasks.spawn(async move {
            let response = request.send().await.expect("search");
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = response.json().await.expect("JSON body");
            (status, retry_after, body)
        });
    }
    let mut ok = 0;
    let mut throttled = 0;
    while let Some(joined) = tasks.join_next().await {
        let (status, retry_after, body) = joined.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                throttled += 1;
                assert_eq!(retry_after.as_deref(), Some("1"));
                assert_eq!(body, json!({"detail": "Request was throttled."}));
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 20, "{ok} succeeded");
    assert!(throttled >= 1, "{throttled} throttled");
    // Another key (and the anonymous one) have their own buckets.
    let other = server
        .client
        .get(server.url("/api/v1/search/?q=jazz"))
        .header("x-api-key", "other-key")
        .send()
        .await
        .expect("search");
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(server.get("/api/v1/search/?q=jazz").await.0, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_rate_one_fails_everything_but_health() {
    let server = Server::start(DemoConfig {
        slowdown: 1.0,
        error_rate: 1.0,
        ..DemoConfig::default()
    })
    .await;
    let injected = json!({"detail": "Internal server error (injected)"});
    assert_eq!(server.get("/health").await.0, StatusCode::OK);
    for path in [
        "/api/v1/shows/",
        "/api/v1/shows/1/",
        "/api/v1/featured-shows/",
        "/api/v1/active-cities/",
        "/api/v1/search/?q=x",
        "/unknown",
    ] {
        assert_eq!(
            server.get(path).await,
            (StatusCode::INTERNAL_SERVER_ERROR, injected.clone()),
            "{path}"
        );
    }
    for path in ["/auth/login", "/checkout/", "/validate-promo/"] {
        assert_eq!(
            server.post(path, "{}", None).await,
            (StatusCode::INTERNAL_SERVER_ERROR, injected.clone()),
            "{path}"
        );
    }
    server.stop().await;
}

/// Mean latency of `n` sequential GETs of `path`.
async fn mean_latency(server: &Server, path: &str, n: u32) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        let started = Instant::now();
        let response = server
            .client
            .get(server.url(path))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("body");
        total += started.elapsed();
    }
    total / n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowdown_makes_requests_slower() {
    let normal = Server::start(DemoConfig::default()).await;
    let slow = Server::start(DemoConfig {
        slowdown: 3.0,
        error_rate: 0.0,
        ..DemoConfig::default()
    })
    .await;
    let path = "/api/v1/shows/7/";
    // Warm up connections so that only request latency is compared.
    mean_latency(&normal, path, 2).await;
    mean_latency(&slow, path, 2).await;
    let base = mean_latency(&normal, path, 30).await;
    let slowed = mean_latency(&slow, path, 30).await;
    let ratio = slowed.as_secs_f64() / base.as_secs_f64();
    assert!(
        ratio > 1.5,
        "slowdown 3 gave mean {slowed:?} vs {base:?} (ratio {ratio:.2})"
    );
    // /health is never slowed.
    let health = mean_latency(&slow, "/health", 10).await;
    assert!(health < base, "health {health:?} vs detail {base:?}");
    normal.stop().await;
    slow.stop().await;
}
