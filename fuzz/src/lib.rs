//! The bodies of perfgate's fuzz targets (`fuzz_targets/*.rs` are one-line wrappers).
//!
//! `tests/fuzz_regressions.rs` in the main workspace includes this file with `#[path]` and replays
//! every saved input through these same functions on stable Rust, so a crash found here stays
//! fixed. Every function feeds untrusted text or bytes to a public entry point and exercises what
//! perfgate does next with the value; a panic anywhere is a bug (perfgate must answer with an
//! error), and so is a broken invariant asserted here.

use std::hint::black_box;
use std::path::Path;

use base64::Engine as _;
use hdrhistogram::Histogram;
use perfgate::compare::rules::{Names, Subject, Thresholds};
use perfgate::config::{self, Overrides};
use perfgate::engine::http1::read_from_bytes;
use perfgate::report::{self, Format};
use perfgate::result::{self, RunResult};

/// `perfgate.toml` text → validated `Profile` (`config::parse`, which `config::load` uses).
/// `repo` is the directory the profile is taken to be in: relative data and CA files resolve
/// against it.
pub fn profile(data: &[u8], repo: &Path) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `{{env.NAME}}`: deterministic, and both set and unset variables occur.
    let env = |name: &str| (name.len() % 2 == 0).then(|| format!("value of {name}"));
    match config::parse(
        text,
        &repo.join("perfgate.toml"),
        &Overrides::default(),
        &env,
    ) {
        Ok(p) => {
            black_box(format!("{p:?}"));
        }
        // What `perfgate validate` prints: every problem with file:line:column.
        Err(problems) => {
            black_box(problems.to_string());
        }
    }
}

/// Endpoint names the parsed rules are matched against.
const ENDPOINTS: [&str; 5] = [
    "GET /api/v1/shows/",
    "GET /api/v1/shows/[id]/",
    "POST /auth/login",
    "",
    "*?[]/é",
];

/// `thresholds.toml` text → `Thresholds` (`Thresholds::parse`, which `Thresholds::load` uses),
/// then the lookups the gate makes with it.
pub fn thresholds(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Thresholds::parse(text, Path::new("thresholds.toml")) {
        Ok(th) => {
            for e in ENDPOINTS {
                for stage in ["steady", "peak"] {
                    for subject in [Subject::endpoint(e, stage), Subject::flow(e, stage)] {
                        for m in th.metrics_for(&subject) {
                            black_box(th.policy(&subject, m));
                        }
                    }
                }
            }
            black_box((th.degradations(), th.recoveries(), th.aborts()));
            let names = Names {
                endpoints: ENDPOINTS.iter().map(|e| e.to_string()).collect(),
                stages: vec!["steady".into(), "peak".into()],
                scenarios: vec!["browse".into()],
            };
            if let Some(problems) = th.unmatched(&names) {
                black_box(problems.to_string());
            }
        }
        Err(problems) => {
            black_box(problems.to_string());
        }
    }
}

/// Result JSON → `RunResult` (`RunResult::parse`, which `RunResult::read` and the baselines use),
/// then every histogram decoded with its percentiles, every endpoint merged over the trials, and
/// the summary `perfgate run` prints and the line `perfgate baseline list` shows.
pub fn result(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(r) = parse_result(text) else {
        return;
    };
    for t in &r.trials {
        for e in &t.endpoints {
            let h = result::decode_histogram(&e.histogram)
                .expect("RunResult::parse checked that every histogram decodes");
            black_box(result::percentiles(&h));
            for w in &e.windows {
                let h = result::decode_histogram(&w.histogram)
                    .expect("RunResult::parse checked that every window's histogram decodes");
                black_box(result::percentiles(&h));
            }
        }
    }
    for name in r.endpoint_names() {
        if let Ok(Some(merged)) = r.merged_endpoint(&name) {
            result::decode_histogram(&merged.histogram)
                .expect("a merged histogram is written so that it decodes");
        }
    }
    black_box(perfgate::baseline::summary_line(&r));
    black_box(report::summary::render(&r).expect("a result that reads merges"));
}

/// Arbitrary bytes → `decode_histogram`. The bytes are base64-encoded first, so that the fuzzer
/// works on the deflate and HdrHistogram V2 layers underneath rather than on base64; input that
/// is UTF-8 is also decoded as given, for the base64 layer. A histogram that decodes then goes
/// through what perfgate does with one: percentiles, merging and re-encoding.
pub fn histogram(data: &[u8]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    check_histogram(result::decode_histogram(&encoded));
    if let Ok(text) = std::str::from_utf8(data) {
        check_histogram(result::decode_histogram(text));
    }
}

fn check_histogram(decoded: Result<Histogram<u64>, String>) {
    let Ok(h) = decoded else {
        return;
    };
    black_box(result::percentiles(&h));
    // As `merge_endpoints` and the comparison do: into perfgate's own histogram, then written.
    let mut merged = result::new_histogram();
    if merged.add(&h).is_ok() {
        black_box(result::percentiles(&merged));
        let back = result::decode_histogram(&result::encode_histogram(&merged))
            .expect("a histogram perfgate wrote decodes");
        assert_eq!(back.len(), merged.len(), "re-encoding lost counts");
    }
}

/// Result JSON → the comparison `perfgate compare` makes, both ways against a small real result
/// and against itself, rendered in every report format.
pub fn compare(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(cur) = parse_result(text) else {
        return;
    };
    let base = RunResult::parse(
        include_str!("../seeds/compare/small.json"),
        Path::new("small.json"),
    )
    .expect("the seed result parses");
    let th = Thresholds::default();
    for (b, c) in [(&base, &cur), (&cur, &base), (&cur, &cur)] {
        black_box(perfgate::compare::comparability(b, c).mismatches);
        let comparison = perfgate::compare::compare(b, c, &th, "baseline", "current");
        for format in [Format::Table, Format::Md, Format::Json, Format::Junit] {
            black_box(
                report::render(&report::Report::of(&comparison), format, false)
                    .expect("every comparison renders"),
            );
        }
    }
}

/// Bytes from a server → the direct HTTP/1.1 client's reading of one response (head, interim
/// responses, body framing), for GET and HEAD. The first byte sets how many bytes each read
/// gets; the same bytes read one at a time must give the same answer, since how the network
/// cuts a response must not change what it means (only whether bytes beyond the response had
/// arrived yet may differ). At most `KEEP` body bytes are kept.
pub fn response(data: &[u8]) {
    const KEEP: usize = 256;
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let read = read_from_bytes(bytes, chunk, &method, KEEP);
        let one_by_one = read_from_bytes(bytes, 1, &method, KEEP);
        match (&read, &one_by_one) {
            (Ok(a), Ok(b)) => assert_eq!(
                (a.status, a.body_bytes, &a.kept, a.closes),
                (b.status, b.body_bytes, &b.kept, b.closes),
                "the answer depends on how the bytes arrive"
            ),
            (Err(_), Err(_)) => {}
            _ => panic!("read in chunks of {chunk}: {read:?}; one by one: {one_by_one:?}"),
        }
        if let Ok(r) = read {
            assert!(r.kept.len() <= KEEP && r.kept.len() as u64 <= r.body_bytes);
            assert!(r.body_bytes <= bytes.len() as u64, "more body than bytes");
            if method == reqwest::Method::HEAD {
                assert_eq!(r.body_bytes, 0, "a response to HEAD has no body");
            }
        }
    }
}

fn parse_result(text: &str) -> Option<RunResult> {
    match RunResult::parse(text, Path::new("result.json")) {
        Ok(r) => Some(r),
        Err(e) => {
            black_box(e.to_string());
            None
        }
    }
}

/// Another tool's output → a trial (`import::read_one`, what `perfgate import` does per file),
/// in every format: an error is fine, a panic is not; a trial it makes must pass the reader's
/// own checks, as `perfgate compare` will read it.
pub fn import(data: &[u8]) {
    use perfgate::import::{read_one, Format};
    for format in [
        Format::K6Json,
        Format::LocustJson,
        Format::K6Summary,
        Format::Artillery,
    ] {
        match read_one(format, data, "fuzz.json", 0, 0.0) {
            Ok(trial) => {
                let mut r =
                    perfgate::import::import(format, &[], "fuzz").expect("no files, no error");
                r.trials.push(trial);
                r.meta.load.trials = 1;
                let text = String::from_utf8(r.to_json().expect("serializes")).expect("UTF-8");
                if let Err(e) = RunResult::parse(&text, Path::new("imported.json")) {
                    panic!("an import the reader refuses: {e}");
                }
            }
            Err(e) => {
                black_box(e.to_string());
            }
        }
    }
}
