//! Every input under `tests/fuzz_regressions/<target>/` — the inputs that crashed a fuzz target
//! (kept so that the bug stays fixed) and the seeds — replayed through the fuzz target's own code
//! (`fuzz/src/lib.rs`, included here so that this runs on stable without libFuzzer). A panic, or
//! an invariant the targets assert, fails the test and names the file. See `fuzz/README.md`.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
mod harness;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The fuzz targets, by the name of their directory here and in `fuzz/fuzz_targets/`.
const TARGETS: [&str; 7] = [
    "profile",
    "thresholds",
    "result",
    "histogram",
    "compare",
    "response",
    "import",
];

fn dir() -> PathBuf {
    Path::new(ROOT).join("tests/fuzz_regressions")
}

/// Runs every file of `target`'s directory (if it exists) through `run`; panics naming each file
/// that panicked. A directory that exists must hold at least one input.
fn replay(target: &str, run: impl Fn(&[u8])) {
    let dir = dir().join(target);
    if !dir.exists() {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} exists but holds no input: a fuzz regression test must replay something",
        dir.display()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|f| {
            let data =
                std::fs::read(f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs panicked: {failed:?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn profile() {
    replay("profile", |data| harness::profile(data, Path::new(ROOT)));
}

#[test]
fn thresholds() {
    replay("thresholds", harness::thresholds);
}

#[test]
fn result() {
    replay("result", harness::result);
}

#[test]
fn histogram() {
    replay("histogram", harness::histogram);
}

#[test]
fn compare() {
    replay("compare", harness::compare);
}

#[test]
fn response() {
    replay("response", harness::response);
}

/// A directory for a target this file does not replay would be silently ignored.
#[test]
fn every_directory_is_a_target() {
    for entry in std::fs::read_dir(dir()).expect("tests/fuzz_regressions exists") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        assert!(
            path.is_dir() && TARGETS.contains(&name.as_ref()),
            "{}: not a fuzz target's directory (the targets are {TARGETS:?})",
            path.display()
        );
    }
}

#[test]
fn import() {
    replay("import", harness::import);
}
