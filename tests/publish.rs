//! Publishing against local servers: a fake GitHub that speaks the REST shapes octocrab reads
//! (comments, pages with Link headers, error bodies), and webhook receivers.

mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::fixtures::{slower, synth, STEADY};
use common::{serve, Work};
use serde_json::{json, Value};

// --- A local GitHub ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct GitHub {
    comments: Arc<Mutex<Vec<(u64, String)>>>,
    next_id: Arc<AtomicU64>,
    /// When set, every request is answered with this status and GitHub's error body.
    fail: Arc<Mutex<Option<u16>>>,
    /// Authorization headers seen.
    auth: Arc<Mutex<Vec<String>>>,
}

fn user(base: &str) -> Value {
    let u = |p: &str| format!("{base}/users/github-actions{p}");
    json!({
        "login": "github-actions[bot]", "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
        "url": u(""), "html_url": "https://github.com/apps/github-actions",
        "followers_url": u("/followers"), "following_url": u("/following{/other_user}"),
        "gists_url": u("/gists{/gist_id}"), "starred_url": u("/starred{/owner}{/repo}"),
        "subscriptions_url": u("/subscriptions"), "organizations_url": u("/orgs"),
        "repos_url": u("/repos"), "events_url": u("/events{/privacy}"),
        "received_events_url": u("/received_events"), "type": "Bot", "site_admin": false
    })
}

fn comment(base: &str, id: u64, body: &str) -> Value {
    json!({
        "id": id,
        "node_id": format!("IC_kwDO{id}"),
        "url": format!("{base}/repos/acme/shop/issues/comments/{id}"),
        "html_url": format!("https://github.com/acme/shop/pull/7#issuecomment-{id}"),
        "issue_url": format!("{base}/repos/acme/shop/issues/7"),
        "body": body,
        "user": user(base),
        "author_association": "NONE",
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z"
    })
}

fn base_of(headers: &HeaderMap) -> String {
    format!(
        "http://{}",
        headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
    )
}

impl GitHub {
    fn guard(&self, headers: &HeaderMap) -> Option<Response> {
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            self.auth.lock().unwrap().push(a.to_string());
        }
        let code = (*self.fail.lock().unwrap())?;
        let message = match code {
            401 => "Bad credentials",
            403 => "Resource not accessible by integration",
            _ => "Not Found",
        };
        Some(
            (
                StatusCode::from_u16(code).unwrap(),
                Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": code.to_string()})),
            )
                .into_response(),
        )
    }

    fn bodies(&self) -> Vec<String> {
        self.comments
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn router(&self) -> Router {
        Router::new()
            .route(
                "/repos/{owner}/{repo}/issues/{number}/comments",
                get(list).post(create),
            )
            .route(
                "/repos/{owner}/{repo}/issues/comments/{id}",
                post(update).patch(update),
            )
            .with_state(self.clone())
    }
}

async fn list(
    State(gh): State<GitHub>,
    Path((_o, _r, number)): Path<(String, String, u64)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gh.guard(&headers) {
        return r;
    }
    let base = base_of(&headers);
    let per_page: usize = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .min(100);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let all = gh.comments.lock().unwrap().clone();
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, b)| comment(&base, *id, b))
        .collect();
    let last = all.len().div_ceil(per_page).max(1);
    let link = |p: usize, rel: &str| {
        format!("<{base}/repos/acme/shop/issues/{number}/comments?per_page={per_page}&page={p}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(page - 1, "prev"));
        links.push(link(1, "first"));
    }
    let mut resp = Json(Value::Array(items)).into_response();
    if !links.is_empty() {
        resp.headers_mut()
            .insert("link", links.join(", ").parse().unwrap());
    }
    resp
}

async fn create(State(gh): State<GitHub>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(r) = gh.guard(&headers) {
        return r;
    }
    let id = 1_000 + gh.next_id.fetch_add(1, Ordering::SeqCst);
    let text = body["body"].as_str().unwrap_or_default().to_string();
    gh.comments.lock().unwrap().push((id, text.clone()));
    (
        StatusCode::CREATED,
        Json(comment(&base_of(&headers), id, &text)),
    )
        .into_response()
}

async fn update(
    State(gh): State<GitHub>,
    Path((_o, _r, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = gh.guard(&headers) {
        return r;
    }
    let text = body["body"].as_str().unwrap_or_default().to_string();
    let mut all = gh.comments.lock().unwrap();
    match all.iter_mut().find(|(i, _)| *i == id) {
        Some(c) => {
            c.1 = text.clone();
            Json(comment(&base_of(&headers), id, &text)).into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response(),
    }
}

// --- Helpers ------------------------------------------------------------------------------------

const TOKEN: &str = "ghp_s3cr3tT0kenValue0123456789";

/// A work directory with a baseline and two current results: unchanged and 30% slower.
fn work() -> Work {
    let w = Work::new();
    let write = |name: &str, r: &perfgate::result::RunResult| {
        std::fs::write(w.path(name), serde_json::to_vec_pretty(r).unwrap()).unwrap();
    };
    write("base.json", &synth(&[("GET /a", STEADY)], 5, 1));
    write("same.json", &synth(&[("GET /a", STEADY)], 5, 2));
    write(
        "slow.json",
        &synth(&[("GET /a", slower(STEADY, 1.3))], 5, 3),
    );
    w.write(
        "event.json",
        r#"{"action": "synchronize", "number": 7, "pull_request": {"number": 7}}"#,
    );
    w
}

fn compare(w: &Work, current: &str, api: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = w.perfgate();
    cmd.args([
        "compare",
        "--baseline-file",
        "base.json",
        "--current",
        current,
        "--github",
        "--publish-timeout",
        "10s",
    ])
    .args(extra)
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_REPOSITORY", "acme/shop")
    .env("GITHUB_EVENT_PATH", w.path("event.json"))
    .env("GITHUB_API_URL", api);
    cmd.assert()
}

// --- GitHub -------------------------------------------------------------------------------------

#[test]
fn the_first_run_creates_the_comment_and_the_next_edits_it() {
    let gh = GitHub::default();
    let server = serve(gh.router());
    let w = work();
    compare(&w, "same.json", &server.url, &[])
        .code(0)
        .stderr(predicates::str::contains("posted the pull-request comment"));
    assert_eq!(gh.bodies().len(), 1);
    assert!(
        gh.bodies()[0].starts_with("<!-- perfgate:synthetic -->"),
        "{}",
        gh.bodies()[0]
    );
    assert!(gh.bodies()[0].contains("PASS"));
    // The next push: the same comment is edited, now with the failure.
    compare(&w, "slow.json", &server.url, &[])
        .code(1)
        .stderr(predicates::str::contains(
            "updated the pull-request comment",
        ));
    let bodies = gh.bodies();
    assert_eq!(bodies.len(), 1, "still one comment: {bodies:?}");
    assert!(
        bodies[0].contains("FAIL") && bodies[0].contains("GET /a"),
        "{}",
        bodies[0]
    );
    let auth = gh.auth.lock().unwrap().clone();
    assert!(
        !auth.is_empty() && auth.iter().all(|a| a.contains(TOKEN)),
        "the token is sent to GitHub: {auth:?}"
    );
}

#[test]
fn the_marker_is_found_on_a_later_page() {
    let gh = GitHub::default();
    {
        let mut c = gh.comments.lock().unwrap();
        for i in 0..230u64 {
            c.push((i + 1, format!("a human comment #{i}")));
        }
        c[205].1 = "<!-- perfgate:synthetic -->\nold report".to_string();
        c.push((
            9_999,
            "<!-- perfgate:other-profile -->\nanother profile's report".to_string(),
        ));
    }
    let server = serve(gh.router());
    let w = work();
    compare(&w, "same.json", &server.url, &[])
        .code(0)
        .stderr(predicates::str::contains(
            "updated the pull-request comment (id 206)",
        ));
    let bodies = gh.bodies();
    assert_eq!(bodies.len(), 231, "no new comment");
    assert!(bodies[205].contains("perfgate · synthetic") && !bodies[205].contains("old report"));
    assert!(
        bodies[230].contains("another profile's report"),
        "another profile's comment is left alone"
    );
    let pages = server
        .log
        .matching("/repos/acme/shop/issues/7/comments")
        .len();
    assert!(pages >= 3, "paged through the comments ({pages} requests)");
}

#[test]
fn github_errors_warn_and_leave_the_exit_code_alone_unless_publishing_is_required() {
    for code in [401u16, 403, 404] {
        let gh = GitHub::default();
        *gh.fail.lock().unwrap() = Some(code);
        let server = serve(gh.router());
        let w = work();
        compare(&w, "same.json", &server.url, &[])
            .code(0)
            .stderr(predicates::str::contains(format!(
                "warning: publishing: GitHub answered {code}"
            )));
        compare(&w, "slow.json", &server.url, &[]).code(1);
        compare(&w, "same.json", &server.url, &["--require-publish"]).code(4);
    }
}

#[test]
fn without_a_token_or_a_pull_request_the_comment_is_skipped_with_a_warning() {
    let w = work();
    let mut cmd = w.perfgate();
    cmd.args([
        "compare",
        "--baseline-file",
        "base.json",
        "--current",
        "same.json",
        "--github",
    ])
    .env("GITHUB_REPOSITORY", "acme/shop");
    cmd.assert()
        .code(0)
        .stderr(predicates::str::contains("no GITHUB_TOKEN"));
    let mut cmd = w.perfgate();
    cmd.args([
        "compare",
        "--baseline-file",
        "base.json",
        "--current",
        "same.json",
        "--github",
        "--require-publish",
    ])
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_REPOSITORY", "acme/shop");
    cmd.assert()
        .code(4)
        .stderr(predicates::str::contains("no pull request number"));
}

#[test]
fn the_job_summary_and_annotations_are_written_in_actions() {
    let gh = GitHub::default();
    let server = serve(gh.router());
    let w = work();
    let summary = w.write("summary.md", "earlier step\n");
    let out = compare(&w, "slow.json", &server.url, &[])
        .code(1)
        .get_output()
        .stdout
        .clone();
    // Not in Actions (GITHUB_ACTIONS unset): no annotations, but the summary file is only
    // written when GITHUB_STEP_SUMMARY is set.
    assert!(!String::from_utf8_lossy(&out).contains("::error"));
    let mut cmd = w.perfgate();
    cmd.args([
        "compare",
        "--baseline-file",
        "base.json",
        "--current",
        "slow.json",
        "--github",
    ])
    .env("GITHUB_ACTIONS", "true")
    .env("GITHUB_STEP_SUMMARY", &summary)
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_REPOSITORY", "acme/shop")
    .env("GITHUB_EVENT_PATH", w.path("event.json"))
    .env("GITHUB_API_URL", &server.url);
    let out = cmd.assert().code(1).get_output().stdout.clone();
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error title=perfgate synthetic%3A GET /a p50::FAIL")),
        "{out}"
    );
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n") && text.contains("perfgate · synthetic: FAIL"),
        "{text}"
    );
}

// --- Webhooks -----------------------------------------------------------------------------------

/// Statuses to answer with, in order, each with an optional Retry-After.
type Script = VecDeque<(u16, Option<&'static str>)>;

/// A webhook receiver answering from a script of statuses (then 200), recording each payload.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Script>>,
    got: Arc<Mutex<Vec<(Instant, Value)>>>,
}

async fn receive(State(r): State<Receiver>, Json(v): Json<Value>) -> Response {
    r.got.lock().unwrap().push((Instant::now(), v));
    let (code, retry_after) = r.script.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut resp = (StatusCode::from_u16(code).unwrap(), "ok").into_response();
    if let Some(s) = retry_after {
        resp.headers_mut().insert("retry-after", s.parse().unwrap());
    }
    resp
}

fn receiver(script: &[(u16, Option<&'static str>)]) -> (Receiver, common::TestServer) {
    let r = Receiver {
        script: Arc::new(Mutex::new(script.iter().copied().collect())),
        ..Default::default()
    };
    let server = serve(
        Router::new()
            .route("/hooks/{*rest}", post(receive))
            .with_state(r.clone()),
    );
    (r, server)
}

fn webhook(
    w: &Work,
    current: &str,
    url: &str,
    format: &str,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    let mut cmd = w.perfgate();
    cmd.args([
        "compare",
        "--baseline-file",
        "base.json",
        "--current",
        current,
        "--webhook-format",
        format,
    ])
    .args(extra)
    .env("PERFGATE_WEBHOOK_URL", url);
    cmd.assert()
}

#[test]
fn slack_discord_and_json_payloads_have_their_documented_shapes() {
    let (r, server) = receiver(&[]);
    let w = work();
    let url = format!("{}/hooks/T000/B000/XXXX", server.url);
    webhook(&w, "slow.json", &url, "slack", &[]).code(1);
    webhook(&w, "slow.json", &url, "discord", &[]).code(1);
    webhook(&w, "same.json", &url, "json", &[]).code(0);
    let got: Vec<Value> = r
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(got.len(), 3);
    // Slack: fallback text, and blocks inside a coloured attachment.
    let slack = &got[0];
    assert!(slack["text"].as_str().unwrap().contains("FAIL"));
    let att = &slack["attachments"][0];
    assert_eq!(att["color"], "#d73a49");
    let blocks = att["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(
        blocks.iter().any(|b| b["type"] == "section"
            && b["text"]["text"].as_str().unwrap().contains("GET /a p50")),
        "{slack}"
    );
    // Discord: an embed with title, description and an integer colour.
    let embed = &got[1]["embeds"][0];
    assert!(embed["title"].as_str().unwrap().contains("FAIL"));
    assert_eq!(embed["color"], 0xd73a49);
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("GET /a p50"));
    // Generic JSON: the whole comparison.
    assert_eq!(got[2]["event"], "perfgate.comparison");
    assert_eq!(got[2]["verdict"], "pass");
    assert_eq!(got[2]["comparison"]["format"], "perfgate/compare/v1");
}

#[test]
fn a_429_with_retry_after_is_retried_and_succeeds() {
    let (r, server) = receiver(&[(429, Some("1")), (503, None)]);
    let w = work();
    let url = format!("{}/hooks/x", server.url);
    webhook(&w, "same.json", &url, "json", &["--require-publish"])
        .code(0)
        .stderr(predicates::str::contains("posted the verdict"));
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "429, 503, then 200");
    let waited = got[1].0 - got[0].0;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({waited:?})"
    );
}

#[test]
fn a_receiver_that_never_answers_is_given_up_within_the_bound() {
    // Accepts connections and never answers.
    let silent = serve(Router::new().route(
        "/hooks/{*rest}",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(600)).await;
            "never"
        }),
    ));
    let w = work();
    let url = format!("{}/hooks/x", silent.url);
    let started = Instant::now();
    webhook(&w, "same.json", &url, "json", &["--publish-timeout", "2s"])
        .code(0)
        .stderr(predicates::str::contains("warning: publishing: webhook"));
    webhook(
        &w,
        "same.json",
        &url,
        "json",
        &["--publish-timeout", "2s", "--require-publish"],
    )
    .code(4);
    // Two runs of at most 2 s each (plus start-up); a hang would hit the 60 s command timeout.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

// --- Secrets ------------------------------------------------------------------------------------

#[test]
fn check_never_shows_the_token_or_the_webhook_url() {
    let gh = GitHub::default();
    *gh.fail.lock().unwrap() = Some(403); // errors are where secrets leak
    let github = serve(gh.router());
    let app = serve(common::fast_router());
    let (_r, hooks) = receiver(&[(500, None), (500, None), (500, None), (500, None)]);
    let hook_url = format!("{}/hooks/T0SECRET/B0SECRET/abcdefSECRETpath", hooks.url);
    let w = Work::with_profile(&format!(
        "name = \"tiny\"\n[target]\nbase_url = \"{}\"\nheaders = {{ Authorization = \"Bearer {{{{env.API_TOKEN}}}}\" }}\n[load]\nusers = 2\nduration = \"1s\"\n[[scenario]]\nname = \"s\"\nthink_time = \"50ms\"\n[[scenario.step]]\nrequest = \"GET /x\"\n",
        app.url
    ));
    w.write("event.json", r#"{"pull_request": {"number": 7}}"#);
    // Record a baseline first, then check against it with every secret set.
    w.perfgate()
        .args(["run", "-q", "-o", "base.json"])
        .env("API_TOKEN", "apitok_SECRET_123")
        .assert()
        .success();
    w.perfgate()
        .args(["baseline", "save", "main", "base.json"])
        .assert()
        .success();
    let mut cmd = w.perfgate();
    cmd.args(["check", "-q", "--github", "--publish-timeout", "3s"])
        .env("API_TOKEN", "apitok_SECRET_123")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_EVENT_PATH", w.path("event.json"))
        .env("GITHUB_API_URL", &github.url)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", w.path("summary.md"))
        .env("PERFGATE_WEBHOOK_URL", &hook_url);
    let out = cmd.assert().get_output().clone();
    let mut texts = vec![
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ];
    for entry in walk(w.dir.path()) {
        if let Ok(t) = std::fs::read_to_string(&entry) {
            texts.push(t);
        }
    }
    assert!(
        texts[1].contains("warning: publishing"),
        "publishing did fail: {}",
        texts[1]
    );
    for t in &texts {
        for secret in [TOKEN, "T0SECRET", "abcdefSECRETpath", "apitok_SECRET_123"] {
            assert!(!t.contains(secret), "{secret} leaked into:\n{t}");
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
