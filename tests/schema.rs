//! `perfgate schema`: the JSON Schemas of perfgate.toml and thresholds.toml are generated from
//! the types the files are read into; the committed copies under `schemas/` must equal them, and
//! every profile and rules file of the repository (and those `perfgate init` writes) must
//! validate against them with the real `check-jsonschema`, while a misspelt key must not.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generated(kind: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("perfgate")
        .unwrap()
        .args(["schema", kind])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

/// The TOML file as JSON (Python's tomllib), written beside the test's other files.
fn as_json(toml_file: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(format!(
        "{}.json",
        toml_file.display().to_string().replace(['/', '.'], "_")
    ));
    let ok = Command::new("python3")
        .args([
            "-c",
            "import json, sys, tomllib; json.dump(tomllib.load(open(sys.argv[1], 'rb')), open(sys.argv[2], 'w'))",
        ])
        .arg(toml_file)
        .arg(&out)
        .status()
        .unwrap();
    assert!(ok.success(), "{} is not TOML", toml_file.display());
    out
}

/// check-jsonschema's verdict on `files` against `schema`: (passed, its output).
fn validate(schema: &Path, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new("check-jsonschema")
        .arg("--schemafile")
        .arg(schema)
        .args(files)
        .output()
        .expect("check-jsonschema (pip install check-jsonschema; .ci/install does)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for kind in ["profile", "thresholds"] {
        let path = root().join(format!("schemas/{kind}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated(kind),
            "{} is not what `perfgate schema {kind}` prints; regenerate it: perfgate schema {kind} > schemas/{kind}.schema.json",
            path.display()
        );
    }
}

#[test]
fn every_profile_and_rules_file_validates_and_a_misspelt_key_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    // What `perfgate init` writes, beside the repository's own files.
    let init = tmp.path().join("init");
    std::fs::create_dir_all(&init).unwrap();
    let out = assert_cmd::Command::cargo_bin("perfgate")
        .unwrap()
        .current_dir(&init)
        .args(["init", "--base-url", "http://127.0.0.1:8080"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first_line = std::fs::read_to_string(init.join("perfgate.toml")).unwrap();
    assert!(
        first_line.starts_with("#:schema https://")
            && first_line
                .lines()
                .next()
                .unwrap()
                .ends_with("/schemas/profile.schema.json"),
        "{first_line}"
    );
    let mut profiles = vec![
        root().join("perfgate.toml"),
        root().join("bench/target.toml"),
        init.join("perfgate.toml"),
    ];
    let mut rules = vec![root().join("thresholds.toml"), init.join("thresholds.toml")];
    for e in std::fs::read_dir(root().join("profiles")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".thresholds.toml") {
            rules.push(p);
        } else if p.extension().is_some_and(|x| x == "toml") {
            profiles.push(p);
        }
    }
    for (kind, files) in [("profile", &profiles), ("thresholds", &rules)] {
        let schema = root().join(format!("schemas/{kind}.schema.json"));
        let json: Vec<PathBuf> = files.iter().map(|f| as_json(f, tmp.path())).collect();
        let (ok, said) = validate(&schema, &json);
        assert!(ok, "{kind}: {files:?}\n{said}");
    }
    // A key the profile does not have, where the editor should underline it.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[target]\nbase_url = \"http://127.0.0.1:1\"\n\n[load]\nuser = 5\n",
    )
    .unwrap();
    let (ok, said) = validate(
        &root().join("schemas/profile.schema.json"),
        &[as_json(&bad, tmp.path())],
    );
    assert!(!ok && said.contains("user"), "{said}");
    let bad = tmp.path().join("bad-rules.toml");
    std::fs::write(&bad, "[defaults]\nmax_regresion = \"10%\"\n").unwrap();
    let (ok, said) = validate(
        &root().join("schemas/thresholds.schema.json"),
        &[as_json(&bad, tmp.path())],
    );
    assert!(!ok && said.contains("max_regresion"), "{said}");
}
