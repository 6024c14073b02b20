//! The small things a command line is expected to have: `--version` naming the commit,
//! `--color` and `NO_COLOR`, and a manual page from clap's own definitions.

mod common;

use std::process::Command;

use common::fixtures::{slower, synth, STEADY};

fn perfgate() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("perfgate").unwrap();
    for v in common::inherited_settings() {
        cmd.env_remove(v);
    }
    cmd.env_remove("NO_COLOR");
    cmd
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = perfgate().arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with(&format!("perfgate {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    // A checkout names its commit (a source without git says the version alone).
    if let Some(sha) = head {
        assert!(text.contains(&format!("({sha} ")), "{text} (HEAD is {sha})");
    }
}

#[test]
fn tables_are_coloured_as_color_and_no_color_say() {
    let dir = tempfile::tempdir().unwrap();
    let base = synth(&[("GET /a", STEADY)], 5, 1);
    let cur = synth(&[("GET /a", slower(STEADY, 1.3))], 5, 2);
    std::fs::write(dir.path().join("base.json"), base.to_json().unwrap()).unwrap();
    std::fs::write(dir.path().join("cur.json"), cur.to_json().unwrap()).unwrap();
    let table = |args: &[&str], no_color: bool| {
        let mut cmd = perfgate();
        cmd.current_dir(dir.path())
            .args(["compare", "-c", "cur.json", "--baseline-file", "base.json"])
            .arg("--no-report-files")
            .args(args);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "30% slower fails");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let escape = "\u{1b}[";
    // Not a terminal: no colour unless asked for.
    assert!(!table(&[], false).contains(escape));
    assert!(table(&["--color", "always"], false).contains(escape));
    // An explicit choice wins over NO_COLOR; never means never.
    assert!(table(&["--color", "always"], true).contains(escape));
    assert!(!table(&["--color", "never"], false).contains(escape));
    // The flag is global: before the command too.
    let mut cmd = perfgate();
    let out = cmd
        .current_dir(dir.path())
        .args(["--color", "always", "compare", "-c", "cur.json"])
        .args(["--baseline-file", "base.json", "--no-report-files"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(escape));
}

#[test]
fn the_manual_pages_render_with_man() {
    let top = perfgate().arg("man").output().unwrap();
    assert_eq!(top.status.code(), Some(0));
    let roff = String::from_utf8_lossy(&top.stdout).into_owned();
    assert!(roff.contains(".TH perfgate 1"), "{roff}");
    let check = perfgate().args(["man", "check"]).output().unwrap();
    let roff_check = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        roff_check.contains("perfgate\\-check") && roff_check.contains("max\\-trials"),
        "{roff_check}"
    );
    // Rendered by the real man (groff), it reads as a manual page.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("perfgate-check.1");
    std::fs::write(&page, &check.stdout).unwrap();
    let shown = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(
        text.contains("--max-trials") && text.contains("SYNOPSIS"),
        "{text}"
    );
    let bad = perfgate().args(["man", "chekc"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("its commands are: run, check"));
}
