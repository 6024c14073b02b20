//! `kill -9` during `perfgate baseline save` never leaves a truncated or half-written baseline.
//!
//! Two different valid results of a few MB are saved as baseline `main` in turn, and each save
//! is killed with SIGKILL at a point chosen by a seeded RNG: after a delay around the time a save
//! takes (so some are killed while reading, some finish), or just after its temporary file
//! appears (so some are killed in the middle of writing). After every save, `baselines/main.json`
//! must be absent (only before the first save that got through) or be exactly one of the two
//! results — the one it was before, or the one being saved — and read as a valid result. Killed
//! writers' temporary files must not pile up nor disturb `baseline list`.
//!
//! The assertions are on what is on disk, never on how long anything took; the delays only
//! decide where the kills land, and the loop (bounded) goes on until kills of each kind happened.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{synth, STEADY};
use perfgate::engine::convert::endpoint_result;
use perfgate::metrics::EndpointWindow;
use perfgate::result::RunResult;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// At most this many saves are killed or let through.
const MAX_SAVES: usize = 60;
/// At least this many, even when every kind of outcome has been seen sooner.
const MIN_SAVES: usize = 30;

/// A valid, complete result of about a MB: `synth`'s shape (2 trials of 2 endpoints), with 5
/// windows whose histograms are filled across their whole range, so that each encodes to some
/// 50 KB (one endpoint's data, drawn from `seed`, stands for all four: generating and reading
/// are slow in a debug build, and the whole test should take seconds).
fn big_result(seed: u64) -> RunResult {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut r = synth(&[("GET /a", STEADY), ("POST /b", STEADY)], 2, seed);
    let mut total = EndpointWindow::new();
    let mut windows = Vec::new();
    for _ in 0..5 {
        let mut w = EndpointWindow::new();
        let mut v = 1u64;
        while v < perfgate::result::MAX_LATENCY_US {
            let n = rng.gen_range(1..1000);
            w.latency.record_n(v, n).unwrap();
            w.requests += n;
            v = w.latency.next_non_equivalent(v);
        }
        total.merge(&w);
        windows.push(w);
    }
    let dense = endpoint_result("", &total, &windows, 5.0);
    for t in &mut r.trials {
        t.measured_s = 5.0;
        for e in &mut t.endpoints {
            *e = perfgate::result::EndpointResult {
                name: e.name.clone(),
                ..dense.clone()
            };
        }
    }
    r
}

/// The names of the temporary files in `dir` (dot files: `.main.json.tmp-PID`).
fn temporaries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn save(dir: &Path, result: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["baseline", "save", "main", result])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("perfgate starts")
}

fn list(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["baseline", "list"])
        .current_dir(dir)
        .output()
        .expect("perfgate baseline list");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[derive(Debug, Default)]
struct Tally {
    /// Saves that exited on their own (exit 0) before the kill.
    completed: usize,
    /// Saves killed before they wrote anything.
    killed_before_writing: usize,
    /// Saves killed with their temporary file written in part or in whole, not yet renamed.
    killed_mid_write: usize,
    /// Saves killed after the rename: the new baseline is in place.
    killed_after_rename: usize,
}

#[test]
fn kill_9_during_baseline_save_never_leaves_a_broken_baseline() {
    // On the project's disk (not a tmpfs), so that writing and syncing take real time.
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = work.path();
    let inputs: Vec<(&str, Vec<u8>)> = ["a.json", "b.json"]
        .into_iter()
        .zip([big_result(1), big_result(2)])
        .map(|(name, r)| {
            let bytes = r.to_json().unwrap();
            std::fs::write(dir.join(name), &bytes).unwrap();
            (name, bytes)
        })
        .collect();
    assert_ne!(inputs[0].1, inputs[1].1);
    let size = inputs[0].1.len();
    assert!(size > 1_000_000, "a sizeable result: {size} bytes");
    let baselines: PathBuf = dir.join("baselines");
    let main = baselines.join("main.json");

    // How long one save takes here, to centre the kills on it (a save elsewhere, not `main`).
    let started = Instant::now();
    let probe = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["baseline", "save", "probe", "a.json", "--dir", "probe"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let one_save = started.elapsed();
    // A save writes what it read, byte for byte: so "is one of the two inputs" can be checked
    // on the bytes, and a half-written file can never pass for a whole one.
    assert_eq!(
        std::fs::read(dir.join("probe/probe.json")).unwrap(),
        inputs[0].1
    );

    let mut rng = ChaCha8Rng::seed_from_u64(0x6b69_6c6c);
    let mut tally = Tally::default();
    // The content of `main.json` after the previous save: None while there is none.
    let mut before: Option<usize> = None;
    let mut delay = one_save;
    let mut listed_beside_a_temporary = false;
    let mut saves = 0;
    while saves < MAX_SAVES {
        let enough = tally.completed >= 3
            && tally.killed_before_writing + tally.killed_mid_write >= 3
            && tally.killed_mid_write >= 1
            && listed_beside_a_temporary;
        if saves >= MIN_SAVES && enough {
            break;
        }
        let which = saves % 2;
        saves += 1;
        let mut child = save(dir, inputs[which].0);
        let temporary = baselines.join(format!(".main.json.tmp-{}", child.id()));
        if saves % 3 == 0 {
            // Wait for the temporary file, then kill within about a millisecond.
            let deadline = Instant::now() + Duration::from_secs(60);
            while !temporary.exists()
                && child.try_wait().unwrap().is_none()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_micros(50));
            }
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..1200)));
        } else {
            std::thread::sleep(delay.mul_f64(rng.gen_range(0.2..1.3)));
        }
        // On a child that has exited but is not reaped yet, this does nothing.
        let _ = child.kill();
        let status = child.wait().unwrap();
        let left_temporary = temporary.exists();
        let now = std::fs::read(&main).ok();

        // What is on disk is whole: absent only before any save got through, else exactly
        // the previous baseline or the one being saved.
        let is = match &now {
            None => {
                assert_eq!(
                    before, None,
                    "save {saves}: main.json vanished after a save had put it in place"
                );
                None
            }
            Some(bytes) => {
                let found = inputs.iter().position(|(_, b)| b == bytes);
                let Some(found) = found else {
                    let read = RunResult::read(&main);
                    panic!(
                        "save {saves} ({status}): main.json is neither input ({} bytes of {size}); perfgate reads it as: {:?}",
                        bytes.len(),
                        read.map(|_| "a valid result").map_err(|e| e.to_string())
                    );
                };
                assert!(
                    found == which || Some(found) == before,
                    "save {saves} of input {which}: main.json is input {found}, which it was not before ({before:?})"
                );
                Some(found)
            }
        };

        if status.signal() == Some(libc::SIGKILL) {
            if left_temporary {
                tally.killed_mid_write += 1;
            } else if is == Some(which) && before != Some(which) {
                tally.killed_after_rename += 1;
            } else {
                tally.killed_before_writing += 1;
            }
            delay = delay.mul_f64(1.1);
        } else {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut stderr);
            }
            assert!(
                status.success(),
                "save {saves}: {status} without being killed: {stderr}"
            );
            assert_eq!(
                is,
                Some(which),
                "save {saves} succeeded, so main is its input"
            );
            tally.completed += 1;
            delay = delay.mul_f64(0.9);
        }
        before = is;

        // Killed writers' temporaries do not pile up: a save removes those of dead writers.
        let temps = temporaries(&baselines);
        assert!(
            temps.len() <= 1,
            "save {saves}: temporaries pile up: {temps:?}"
        );
        assert!(
            !temps.is_empty() || !left_temporary,
            "the temporary just seen is listed"
        );
        // ... and do not disturb the list of baselines.
        if left_temporary && !listed_beside_a_temporary {
            let listed = list(dir);
            let names: Vec<&str> = listed
                .lines()
                .map(|l| l.split('\t').next().unwrap_or(""))
                .collect();
            let expected: Vec<&str> = if now.is_some() { vec!["main"] } else { vec![] };
            assert_eq!(names, expected, "beside {temps:?}:\n{listed}");
            assert!(
                !listed.contains("unreadable"),
                "beside {temps:?}:\n{listed}"
            );
            listed_beside_a_temporary = true;
        }
    }
    eprintln!("{saves} saves of {size}-byte results, one save ≈ {one_save:?}: {tally:?}");
    assert!(
        tally.completed >= 1,
        "no save was let through: kills must not be the only outcome ({tally:?})"
    );
    assert!(
        tally.killed_before_writing + tally.killed_mid_write + tally.killed_after_rename >= 1,
        "no save was killed ({tally:?})"
    );
    assert!(
        tally.killed_mid_write >= 1,
        "no save was killed in the middle of writing ({tally:?})"
    );
    assert!(listed_beside_a_temporary);

    // Afterwards, a normal save succeeds, cleans up after the killed ones, and reads back.
    let mut child = save(dir, inputs[1].0);
    assert!(child.wait().unwrap().success());
    assert_eq!(std::fs::read(&main).unwrap(), inputs[1].1);
    assert_eq!(
        RunResult::read(&main).expect("perfgate reads the baseline"),
        RunResult::read(&dir.join(inputs[1].0)).unwrap()
    );
    assert_eq!(temporaries(&baselines), Vec::<String>::new());
    let listed = list(dir);
    assert!(
        listed.starts_with("main\tprofile \"synthetic\"") && listed.lines().count() == 1,
        "{listed}"
    );
}
