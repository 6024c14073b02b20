//! Build script: `perfgate --version` names the commit it was built from (`0.1.0 (abc1234
//! 2026-12-02)`), read from git when the source is a checkout; a source without git (a crate
//! tarball) says the version alone. Nothing else is generated.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    // A release build sets it (e.g. from the tag's commit) when git is not at hand.
    let sha = std::env::var("PERFGATE_GIT_SHA")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short=7", "HEAD"]));
    let long = match sha {
        Some(sha) => match git(&["log", "-1", "--format=%cs"]) {
            Some(date) => format!("{version} ({sha} {date})"),
            None => format!("{version} ({sha})"),
        },
        None => version.to_string(),
    };
    println!("cargo:rustc-env=PERFGATE_LONG_VERSION={long}");
    println!("cargo:rerun-if-env-changed=PERFGATE_GIT_SHA");
    // A new commit or checkout changes HEAD or the ref it points to.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{r}");
        }
    }
}
