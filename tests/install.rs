//! The action's download of a prebuilt perfgate (`scripts/install-perfgate.sh`) against a local
//! stand-in for GitHub's releases API on 127.0.0.1: the archive for this machine is installed
//! when its SHA-256 matches, refused when it does not, and a release without it (or no release)
//! sends the action to build from source with a notice. And the action's cache key
//! (`scripts/action-key.sh`): the ref and repository even when the context leaves them empty,
//! a key that changes with the sources.

mod common;

use std::path::Path;
use std::process::Command;

use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};

const TRIPLE: &str = "x86_64-unknown-linux-musl";
const TOKEN: &str = "ghs_test-token-never-printed";

/// perfgate-TAG-TRIPLE.tar.gz holding a stand-in binary that says which release it is.
fn archive(dir: &Path, tag: &str) -> Vec<u8> {
    let name = format!("perfgate-{tag}-{TRIPLE}");
    let inner = dir.join(&name);
    std::fs::create_dir_all(&inner).unwrap();
    let bin = inner.join("perfgate");
    std::fs::write(&bin, format!("#!/bin/sh\necho perfgate {tag}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.join(format!("{name}.tar.gz"));
    let ok = Command::new("tar")
        .current_dir(dir)
        .args(["-czf"])
        .arg(&out)
        .arg(&name)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::read(out).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The releases: v1.0.0 as published, v2.0.0 whose SHA256SUMS does not match its archive,
/// v3.0.0 with an archive for another machine only; any other tag has no release.
fn releases(dir: &Path) -> Router {
    let good = archive(dir, "v1.0.0");
    let tampered = archive(dir, "v2.0.0");
    let sums_good = format!("{}  perfgate-v1.0.0-{TRIPLE}.tar.gz\n", hex(&good));
    let sums_bad = format!(
        "{}  perfgate-v2.0.0-{TRIPLE}.tar.gz\n",
        hex(b"something else")
    );
    Router::new()
        .route(
            "/repos/acme/perfgate/releases/tags/{tag}",
            get(|UrlPath(tag): UrlPath<String>, headers: axum::http::HeaderMap| async move {
                let host = headers
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let dl = |name: &str| {
                    serde_json::json!({ "name": name, "browser_download_url": format!("http://{host}/dl/{name}") })
                };
                let assets = match tag.as_str() {
                    "v1.0.0" | "v2.0.0" => vec![
                        dl(&format!("perfgate-{tag}-{TRIPLE}.tar.gz")),
                        dl(&format!("SHA256SUMS-{tag}")),
                    ],
                    "v3.0.0" => vec![dl("perfgate-v3.0.0-aarch64-apple-darwin.tar.gz")],
                    _ => return (StatusCode::NOT_FOUND, Json(serde_json::json!({"message": "Not Found"}))).into_response(),
                };
                // Each release's SHA256SUMS is named SHA256SUMS in the API: rename them here.
                let assets: Vec<serde_json::Value> = assets
                    .into_iter()
                    .map(|mut a| {
                        if a["name"].as_str().is_some_and(|n| n.starts_with("SHA256SUMS")) {
                            a["name"] = "SHA256SUMS".into();
                        }
                        a
                    })
                    .collect();
                Json(serde_json::json!({ "tag_name": tag, "assets": assets })).into_response()
            }),
        )
        .route(
            "/dl/{name}",
            get(move |UrlPath(name): UrlPath<String>| {
                let (good, tampered) = (good.clone(), tampered.clone());
                let (sums_good, sums_bad) = (sums_good.clone(), sums_bad.clone());
                async move {
                    match name.as_str() {
                        n if n == format!("perfgate-v1.0.0-{TRIPLE}.tar.gz") => good.into_response(),
                        n if n == format!("perfgate-v2.0.0-{TRIPLE}.tar.gz") => tampered.into_response(),
                        "SHA256SUMS-v1.0.0" => sums_good.into_response(),
                        "SHA256SUMS-v2.0.0" => sums_bad.into_response(),
                        _ => StatusCode::NOT_FOUND.into_response(),
                    }
                }
            }),
        )
}

/// Runs the install script for `tag` into `dest`: (exit code, stdout + stderr).
fn install(api: &str, tag: &str, dest: &Path) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-perfgate.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("PERFGATE_REF", tag)
        .env("PERFGATE_REPO", "acme/perfgate")
        .env("PERFGATE_TRIPLE", TRIPLE)
        .env("DEST", dest)
        .env("GITHUB_API_URL", api)
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(TOKEN), "the token was printed:\n{text}");
    (out.status.code(), text)
}

#[test]
fn the_release_binary_is_installed_only_with_its_checksum_and_otherwise_built() {
    let _machine = common::shared();
    let files = tempfile::tempdir().unwrap();
    let server = common::serve(releases(files.path()));
    let dest = tempfile::tempdir().unwrap();
    let bin = dest.path().join("bin/perfgate");

    // Published: installed, and it is the release's binary.
    let (code, text) = install(&server.url, "v1.0.0", dest.path());
    assert_eq!(code, Some(0), "{text}");
    let said = Command::new(&bin).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim(),
        "perfgate v1.0.0"
    );
    // The API was asked with the token, in a header.
    let asked = server
        .log
        .matching("/repos/acme/perfgate/releases/tags/v1.0.0");
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    // A checksum that does not match: refused, nothing installed, no fallback.
    let other = tempfile::tempdir().unwrap();
    let (code, text) = install(&server.url, "v2.0.0", other.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("::error") && text.contains("checksum mismatch"),
        "{text}"
    );
    assert!(!other.path().join("bin/perfgate").exists());

    // No archive for this machine, or no release at all: build from source, with a notice.
    for tag in ["v3.0.0", "4f2c9e1", ""] {
        let (code, text) = install(&server.url, tag, other.path());
        assert_eq!(code, Some(10), "{tag}: {text}");
        assert!(
            text.contains("::notice") && text.contains("building perfgate from source"),
            "{tag}: {text}"
        );
    }
    assert!(!other.path().join("bin/perfgate").exists());
}

/// `scripts/action-key.sh` for an action unpacked at `path`: its GITHUB_OUTPUT lines by name.
fn action_key(path: &Path, context: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-key.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("GITHUB_ACTION_PATH", path)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env_remove("ACTION_REF")
        .env_remove("ACTION_REPO")
        .envs(context.iter().copied())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_cache_key_follows_the_sources_and_the_ref_is_found_without_the_context() {
    let runner = tempfile::tempdir().unwrap();
    let action = runner.path().join("_actions/acme/perfgate/v1.2.0");
    std::fs::create_dir_all(action.join("src")).unwrap();
    std::fs::write(action.join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(action.join("src/main.rs"), "fn main() {}\n").unwrap();

    // The context empty (as in composite actions): the runner's path names ref and repository.
    let first = action_key(&action, &[]);
    assert_eq!(first["ref"], "v1.2.0");
    assert_eq!(first["repo"], "acme/perfgate");
    assert!(first["key"].starts_with("perfgate-") && first["key"].ends_with("-Linux-X64"));
    // The context, when it has them, wins.
    let given = action_key(&action, &[("ACTION_REF", "v9"), ("ACTION_REPO", "o/p")]);
    assert_eq!(
        (given["ref"].as_str(), given["repo"].as_str()),
        ("v9", "o/p")
    );
    assert_eq!(
        given["key"], first["key"],
        "the key is the sources', not the ref's"
    );
    // The same sources, the same key; a changed source (a branch that moved), another.
    assert_eq!(action_key(&action, &[])["key"], first["key"]);
    std::fs::write(action.join("src/main.rs"), "fn main() { println!(); }\n").unwrap();
    assert_ne!(action_key(&action, &[])["key"], first["key"]);
    // Used from its own checkout (`uses: ./`): no ref, so the install builds from source.
    let local = action_key(Path::new(env!("CARGO_MANIFEST_DIR")), &[]);
    assert_eq!((local["ref"].as_str(), local["repo"].as_str()), ("", ""));
}
