//! The HAR reader on a small recorded session: captures, secrets, what is left out, think time.

use super::parts::millis;
use super::*;

fn entry(
    url: &str,
    method: &str,
    at: &str,
    status: u64,
    body: Option<Value>,
    response: Value,
) -> Value {
    let mut req = serde_json::json!({
        "method": method, "url": url,
        "headers": [
            {"name": "User-Agent", "value": "Mozilla/5.0"},
            {"name": "Cookie", "value": "session=abc"},
            {"name": "Accept", "value": "application/json"},
        ],
    });
    if let Some(b) = body {
        req["postData"] =
            serde_json::json!({"mimeType": "application/json", "text": b.to_string()});
        req["headers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "Content-Type", "value": "application/json"}));
    }
    serde_json::json!({
        "pageref": "page_1", "startedDateTime": at, "time": 20.0, "request": req,
        "response": {"status": status, "content": {"mimeType": "application/json", "text": response.to_string()}},
    })
}

#[test]
fn a_session_becomes_steps_with_captures_and_secrets_from_the_environment() {
    let base = "http://127.0.0.1:18480";
    let mut checkout = entry(
        &format!("{base}/checkout/"),
        "POST",
        "2026-12-02T10:00:01.640Z",
        201,
        Some(serde_json::json!({"show_id": 4711, "quantity": 2})),
        serde_json::json!({"order": 1}),
    );
    checkout["request"]["headers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "Authorization", "value": "Bearer tok-abcdef123456"}));
    let entries = vec![
        entry(
            &format!("{base}/api/shows/?page=1"),
            "GET",
            "2026-12-02T10:00:00.000Z",
            200,
            None,
            serde_json::json!({"results": [{"id": 4711, "title": "Hamlet"}]}),
        ),
        entry(
            &format!("{base}/app.css"),
            "GET",
            "2026-12-02T10:00:00.100Z",
            200,
            None,
            serde_json::json!({}),
        ),
        entry(
            &format!("{base}/api/shows/4711/"),
            "GET",
            "2026-12-02T10:00:00.520Z",
            200,
            None,
            serde_json::json!({"id": 4711}),
        ),
        entry(
            &format!("{base}/auth/login"),
            "POST",
            "2026-12-02T10:00:01.320Z",
            200,
            Some(serde_json::json!({"username": "user0001", "password": "s3cret-0001"})),
            serde_json::json!({"token": "tok-abcdef123456"}),
        ),
        checkout,
        entry(
            "http://localhost:9/ping",
            "GET",
            "2026-12-02T10:00:02.000Z",
            0,
            None,
            serde_json::json!({}),
        ),
    ];
    let har = serde_json::json!({"log": {"version": "1.2",
        "pages": [{"id": "page_1", "title": "Shows"}],
        "entries": entries}});
    let d = from_har(&har.to_string(), "s.har", HarOptions::default()).unwrap();
    assert_eq!(d.base_url.as_deref(), Some(base));
    let s = &d.scenarios[0];
    assert_eq!(s.name, "Shows");
    let paths: Vec<&str> = s.steps.iter().map(|st| st.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/shows/?page=1",
            "/api/shows/{{id}}/",
            "/auth/login",
            "/checkout/"
        ]
    );
    assert_eq!(s.steps[0].capture["id"], "json:$.results[0].id");
    assert_eq!(s.steps[1].name.as_deref(), Some("GET /api/shows/[id]/"));
    // The token the login returned is captured; the password is a secret.
    assert_eq!(s.steps[3].headers["Authorization"], "Bearer {{token}}");
    assert_eq!(s.steps[2].capture["token"], "json:$.token");
    assert_eq!(
        s.steps[2].json.as_ref().unwrap()["password"],
        "{{env.HAR_PASSWORD}}"
    );
    assert_eq!(d.env, ["HAR_PASSWORD"]);
    // Browser noise and cookies dropped; what matters kept.
    assert!(
        !s.steps[0].headers.contains_key("User-Agent")
            && !s.steps[0].headers.contains_key("Cookie")
    );
    assert_eq!(s.steps[0].headers["Accept"], "application/json");
    assert!(
        !s.steps[2].headers.contains_key("Content-Type"),
        "json sets it"
    );
    assert_eq!(s.steps[3].expect_status, Some(201));
    let left = s.left_out.join("\n");
    assert!(
        left.contains("app.css — a static asset")
            && left.contains("localhost:9/ping — another host"),
        "{left}"
    );
    // The gaps between kept requests: 0.5, 0.78 and 0.3 s (the static request not counted).
    assert_eq!(s.think_time, Some((0.3, 0.8)));
    let notes = d.notes.join("\n");
    assert!(notes.contains("`show_id` = 4711"), "{notes}");
    assert!(
        notes.contains("HAR_PASSWORD") && !notes.contains("s3cret"),
        "{notes}"
    );
    let text = super::super::render(&d);
    assert!(
        !text.contains("s3cret") && !text.contains("tok-abcdef"),
        "{text}"
    );
}

#[test]
fn instants_with_offsets_and_bad_input() {
    let a = millis("2026-12-02T10:00:00.250Z").unwrap();
    let b = millis("2026-12-02T11:00:00.250+01:00").unwrap();
    assert!((a - b).abs() < 1e-6, "{a} {b}");
    assert!(from_har("{}", "x.har", HarOptions::default())
        .unwrap_err()
        .to_string()
        .contains("log.entries"));
}

#[test]
fn the_service_is_the_host_of_the_kept_requests_and_all_hosts_gives_each_a_profile() {
    let api = "http://127.0.0.1:18480";
    let other = "http://127.0.0.1:18481";
    let mut entries = Vec::new();
    // A CDN serving more requests than the service, all of them assets.
    for (i, asset) in ["a.js", "b.js", "c.css", "d.png", "e.woff2"]
        .iter()
        .enumerate()
    {
        let mut e = entry(
            &format!("https://cdn.example.com/{asset}"),
            "GET",
            &format!("2026-12-02T10:00:00.{}00Z", i + 1),
            200,
            None,
            serde_json::json!({}),
        );
        e["response"]["content"]["mimeType"] = "application/javascript".into();
        entries.push(e);
    }
    for (path, at) in [("/api/shows/", "01.000"), ("/api/cities/", "01.500")] {
        entries.push(entry(
            &format!("{api}{path}"),
            "GET",
            &format!("2026-12-02T10:00:{at}Z"),
            200,
            None,
            serde_json::json!({"ok": true}),
        ));
    }
    entries.push(entry(
        &format!("{other}/recommendations"),
        "GET",
        "2026-12-02T10:00:02.000Z",
        200,
        None,
        serde_json::json!([]),
    ));
    let har = serde_json::json!({"log": {"version": "1.2",
        "pages": [{"id": "page_1", "title": "Shows"}], "entries": entries}})
    .to_string();

    let d = from_har(&har, "s.har", HarOptions::default()).unwrap();
    assert_eq!(d.base_url.as_deref(), Some(api), "not the CDN");
    assert!(d.other_hosts.is_empty());
    let left = d.scenarios[0].left_out.join("\n");
    assert!(
        left.contains(
            "18481/recommendations — another host; a profile has one target (--all-hosts"
        ),
        "{left}"
    );

    let all = HarOptions {
        all_hosts: true,
        ..HarOptions::default()
    };
    let d = from_har(&har, "s.har", all).unwrap();
    assert_eq!(d.base_url.as_deref(), Some(api));
    let left = d.scenarios[0].left_out.join("\n");
    assert!(
        left.contains("another host: in perfgate.127.0.0.1-18481.toml"),
        "{left}"
    );
    assert!(
        left.contains("cdn.example.com/a.js — another host, none of whose requests could be kept"),
        "{left}"
    );
    // The CDN has nothing to keep (assets only): no profile of its own.
    assert_eq!(d.other_hosts.len(), 1, "{:?}", d.other_hosts);
    let o = &d.other_hosts[0];
    assert_eq!(o.base_url.as_deref(), Some(other));
    let paths: Vec<&str> = o
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(paths, ["/recommendations"]);
    assert!(o
        .scenarios
        .iter()
        .all(|s| s.left_out.iter().all(|l| !l.contains("18480"))));
    assert_eq!(
        super::other_profile_file("https://api.example.com:8443"),
        "perfgate.api.example.com-8443.toml"
    );
}

#[test]
fn pages_become_scenarios_unless_one_is_asked_and_options_keep_what_is_left_out() {
    let base = "http://127.0.0.1:18480";
    let mut second = entry(
        &format!("{base}/api/cities/"),
        "GET",
        "2026-12-02T10:00:05.000Z",
        200,
        None,
        serde_json::json!([]),
    );
    second["pageref"] = "page_2".into();
    let entries = vec![
        entry(
            &format!("{base}/api/shows/"),
            "GET",
            "2026-12-02T10:00:00.000Z",
            200,
            None,
            serde_json::json!([]),
        ),
        entry(
            &format!("{base}/app.js"),
            "GET",
            "2026-12-02T10:00:00.200Z",
            200,
            None,
            serde_json::json!({}),
        ),
        second,
    ];
    let har = serde_json::json!({"log": {"version": "1.2",
        "pages": [{"id": "page_1", "title": "Shows"}, {"id": "page_2", "title": "Cities"}],
        "entries": entries}})
    .to_string();
    let steps =
        |s: &DraftScenario| -> Vec<String> { s.steps.iter().map(|st| st.path.clone()).collect() };

    let d = from_har(&har, "s.har", HarOptions::default()).unwrap();
    let names: Vec<&str> = d.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Shows", "Cities"]);
    assert_eq!(steps(&d.scenarios[0]), ["/api/shows/"]);
    assert_eq!(steps(&d.scenarios[1]), ["/api/cities/"]);
    assert!(!d.scenarios[0].steps[0].headers.contains_key("Cookie"));

    let d = from_har(
        &har,
        "s.har",
        HarOptions {
            single: true,
            include_static: true,
            keep_headers: true,
            ..HarOptions::default()
        },
    )
    .unwrap();
    assert_eq!(d.scenarios.len(), 1);
    assert_eq!(d.scenarios[0].name, "session");
    assert_eq!(
        steps(&d.scenarios[0]),
        ["/api/shows/", "/app.js", "/api/cities/"]
    );
    let h = &d.scenarios[0].steps[0].headers;
    assert_eq!(h["User-Agent"], "Mozilla/5.0");
    // Cookies kept, but from the environment: never the recorded value.
    assert_eq!(h["Cookie"], "{{env.HAR_COOKIE}}");
    assert!(!super::super::render(&d).contains("session=abc"));
}
