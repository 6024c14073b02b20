//! Broken versions of every file perfgate reads, through the real CLI: thresholds.toml, the data
//! files a profile names, result files and stored baselines (the profile itself is mostly in
//! `config_errors.rs`; here only what that file does not cover).
//!
//! Each must be refused with exit 2 (3 for a baseline that is missing or not comparable) and a
//! message that names the file, the line where there is one, and what would be right; every
//! problem of a file is listed at once. `perfgate check` reads everything before running any
//! load: its profile here points at a closed port on 127.0.0.1 and starts nothing, and each test
//! requires that no result was written — a check that ran the load would have written one.

mod common;

use common::fixtures::{synth, STEADY};
use common::*;
use perfgate::result::RunResult;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// What one perfgate invocation did.
struct Out {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn pg(work: &Work, args: &[&str]) -> Out {
    let out = work.perfgate().args(args).output().expect("perfgate runs");
    let o = Out {
        what: format!("perfgate {}", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked"),
        "{}: a panic is a bug\n{}",
        o.what,
        o.stderr
    );
    o
}

impl Out {
    /// Requires exit `code`.
    fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "{}: expected exit {code}\nstderr:\n{}\nstdout:\n{}",
            self.what,
            self.stderr,
            self.stdout
        );
        self
    }

    /// Requires each phrase in standard error.
    fn says(self, phrases: &[&str]) -> Self {
        for p in phrases {
            assert!(
                self.stderr.contains(p),
                "{}: expected {p:?} in stderr:\n{}",
                self.what,
                self.stderr
            );
        }
        self
    }

    /// Requires none of the phrases in standard error.
    fn never_says(self, phrases: &[&str]) -> Self {
        for p in phrases {
            assert!(
                !self.stderr.contains(p),
                "{}: {p:?} must not be in stderr:\n{}",
                self.what,
                self.stderr
            );
        }
        self
    }

    /// The problem lines of `file` (`  file:...` or `  file: ...`) in standard error.
    fn problems_of(&self, file: &str) -> Vec<String> {
        self.stderr
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(&format!("{file}:")))
            .map(str::to_string)
            .collect()
    }
}

/// Requires a problem reported at `file:line:` whose text holds every phrase.
fn assert_problem(problems: &[String], file: &str, line: usize, phrases: &[&str]) {
    let prefix = format!("{file}:{line}:");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&prefix) && phrases.iter().all(|ph| p.contains(ph))),
        "no problem at {prefix} containing {phrases:?}; problems:\n{}",
        problems.join("\n")
    );
}

/// A profile whose target is a closed port on 127.0.0.1 and which starts nothing: a `check` that
/// got as far as running it would only meet refused connections, and would write a result.
fn closed_profile(extra: &str) -> String {
    format!(
        r#"name = "bad-input"

[target]
base_url = "http://127.0.0.1:{port}"

[load]
users = 1
duration = "1s"
trials = 1
{extra}
[[scenario]]
name = "a"
[[scenario.step]]
request = "GET /a"
[[scenario.step]]
request = "GET /b"
"#,
        port = free_port()
    )
}

const ENDPOINTS: [&str; 2] = ["GET /a", "GET /b"];

/// A working directory with a valid profile (`perfgate.toml`, closed port), a valid result of
/// it (`good.json`, two endpoints × two trials) and the same stored as `baselines/main.json`.
struct Setup {
    work: Work,
    good: String,
}

impl Setup {
    fn new() -> Setup {
        Setup::with(&closed_profile(""), &[])
    }

    /// `profile` and `files` must make a valid profile; break them afterwards.
    fn with(profile: &str, files: &[(&str, &[u8])]) -> Setup {
        let work = Work::new();
        for (name, bytes) in files {
            std::fs::write(work.path(name), bytes).unwrap();
        }
        work.write(PROFILE, profile);
        let p = perfgate::config::load(&work.path(PROFILE), &Default::default())
            .unwrap_or_else(|e| panic!("the setup's profile is valid: {e}"));
        let mut r = synth(&[(ENDPOINTS[0], STEADY), (ENDPOINTS[1], STEADY)], 2, 7);
        // Comparable with what `check` would run: the same profile hash and load.
        r.meta.profile.hash = p.hash.clone();
        r.meta.load = perfgate::meta::load_meta(&p);
        let good = serde_json::to_string_pretty(&r).unwrap() + "\n";
        work.write("good.json", &good);
        std::fs::create_dir_all(work.path("baselines")).unwrap();
        work.write("baselines/main.json", &good);
        Setup { work, good }
    }

    fn run(&self, args: &[&str]) -> Out {
        pg(&self.work, args)
    }

    /// `perfgate check` with `args`; requires exit `code` and that no load ran.
    fn check(&self, args: &[&str], code: i32) -> Out {
        let mut all = vec!["check", "--quiet"];
        all.extend_from_slice(args);
        let out = self.run(&all).code(code);
        assert!(
            !self.work.path("results").exists(),
            "{}: refused inputs, yet a result or report was written (did the load run?)\n{}",
            out.what,
            out.stderr
        );
        out
    }

    /// The good result as JSON, to break.
    fn value(&self) -> Value {
        serde_json::from_str(&self.good).unwrap()
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

// ---------------------------------------------------------------------------------------------
// Result files and baselines
// ---------------------------------------------------------------------------------------------

/// Puts `bad` wherever perfgate reads a result — the baseline file and the current result of
/// `compare`, the result `baseline save` stores, a stored baseline for `baseline show`,
/// `compare` and `check` — and requires every one to refuse it with exit 2, saying each of
/// `phrases` (`{file}` stands for the path as that command names it). The stored good baseline
/// must survive a refused save, and `baseline list` must still list everything.
fn refused_everywhere(bad: &[u8], phrases: &[&str]) {
    let s = Setup::new();
    std::fs::write(s.work.path("bad.json"), bad).unwrap();
    let says =
        |file: &str| -> Vec<String> { phrases.iter().map(|p| p.replace("{file}", file)).collect() };
    let said = |out: Out, file: &str| {
        let phrases = says(file);
        let phrases: Vec<&str> = phrases.iter().map(String::as_str).collect();
        out.says(&phrases);
    };

    said(
        s.run(&[
            "compare",
            "--baseline-file",
            "bad.json",
            "--current",
            "good.json",
        ])
        .code(2),
        "bad.json",
    );
    said(
        s.run(&["compare", "--current", "bad.json"]).code(2),
        "bad.json",
    );
    said(
        s.run(&["baseline", "save", "main", "bad.json"]).code(2),
        "bad.json",
    );
    assert_eq!(
        std::fs::read_to_string(s.work.path("baselines/main.json")).unwrap(),
        s.good,
        "a refused save leaves the stored baseline as it was"
    );
    said(s.check(&["--baseline-file", "bad.json"], 2), "bad.json");

    std::fs::write(s.work.path("baselines/broken.json"), bad).unwrap();
    let stored = "baselines/broken.json";
    said(s.run(&["baseline", "show", "broken"]).code(2), stored);
    said(
        s.run(&["compare", "--baseline", "broken", "--current", "good.json"])
            .code(2),
        stored,
    );
    said(s.check(&["--baseline", "broken"], 2), stored);
    let list = s.run(&["baseline", "list"]).code(0);
    assert!(
        list.stdout.contains("broken\tunreadable") && list.stdout.contains("main\tprofile"),
        "baseline list shows the broken one as unreadable and the rest as usual:\n{}",
        list.stdout
    );
    // The good inputs still work together: the refusals above were the broken file's.
    s.run(&["compare", "--current", "good.json"]).code(0);
}

#[test]
fn malformed_json_is_refused_at_its_line_and_column() {
    let s = Setup::new();
    // A hand edit that left a stray comma.
    let needle = "\"iterations\": 3000,";
    let line = s.good.find(needle).unwrap();
    let bad = format!(
        "{}\"iterations\": 3000,,{}",
        &s.good[..line],
        &s.good[line + needle.len()..]
    );
    let n = line_of(&bad, "3000,,");
    let col = bad.lines().nth(n - 1).unwrap().find(",,").unwrap() + 2;
    refused_everywhere(
        bad.as_bytes(),
        &[
            &format!("{{file}}:{n}:{col}: not a perfgate result"),
            "fix the JSON at this place",
        ],
    );
}

#[test]
fn a_truncated_result_is_refused_as_truncated() {
    let s = Setup::new();
    let mut cut = s.good.len() / 2;
    while !s.good.is_char_boundary(cut) || s.good[..cut].ends_with('\n') {
        cut += 1;
    }
    let bad = &s.good[..cut];
    let last_line = bad.matches('\n').count() + 1;
    refused_everywhere(
        bad.as_bytes(),
        &[
            &format!("{{file}}:{last_line}:"),
            "truncated",
            "record it again with `perfgate run`",
        ],
    );
}

#[test]
fn hand_edited_fields_of_the_wrong_type_are_all_listed_each_at_its_line() {
    let s = Setup::new();
    let mut v = s.value();
    v["trials"][0]["endpoints"][1]["requests"] = json!("seven hundred");
    v["trials"][1]["measured_s"] = json!("ten seconds");
    v["meta"]["host"]["cores"] = json!(-2);
    v["meta"]["load"]
        .as_object_mut()
        .unwrap()
        .remove("duration_s");
    // Wrong types do not hide the rest: this histogram is reported too.
    v["trials"][1]["endpoints"][0]["histogram"] = json!("AAAA");
    let bad = pretty(&v);
    refused_everywhere(
        bad.as_bytes(),
        &[
            "{file} has 5 problems:",
            &format!(
                "{{file}}:{}:",
                line_of(&bad, "\"seven hundred\"")
            ),
            "trials[0].endpoints[1].requests: invalid type: string \"seven hundred\", expected a whole number ≥ 0",
            &format!("{{file}}:{}:", line_of(&bad, "\"ten seconds\"")),
            "trials[1].measured_s: invalid type: string \"ten seconds\", expected a number",
            &format!("{{file}}:{}:", line_of(&bad, "\"cores\": -2")),
            "meta.host.cores: invalid value: integer `-2`, expected a whole number ≥ 0",
            &format!("{{file}}:{}:", line_of(&bad, "\"load\": {")),
            "meta.load: missing field `duration_s`",
            &format!("{{file}}:{}:", line_of(&bad, "\"AAAA\"")),
            "trial 1, endpoint \"GET /a\": the histogram does not decode",
        ],
    );
}

#[test]
fn a_result_of_a_newer_format_version_says_to_upgrade() {
    let s = Setup::new();
    let bad = s.good.replace("perfgate/result/v1", "perfgate/result/v2");
    refused_everywhere(
        bad.as_bytes(),
        &[
            &format!(
                "{{file}}:{}: written by a newer perfgate (format \"perfgate/result/v2\")",
                line_of(&bad, "perfgate/result/v2")
            ),
            "reads \"perfgate/result/v1\"",
            "upgrade perfgate",
        ],
    );
}

#[test]
fn a_file_of_another_format_or_shape_is_not_taken_for_a_result() {
    let s = Setup::new();
    let other = s.good.replace("perfgate/result/v1", "k6/summary");
    refused_everywhere(
        other.as_bytes(),
        &[
            "format \"k6/summary\" is not a perfgate result format",
            "expected \"perfgate/result/v1\"",
        ],
    );
    refused_everywhere(
        b"[1, 2, 3]\n",
        &[
            "{file} has 1 problem:",
            "{file}:1:1: a perfgate result is a JSON object",
        ],
    );
    refused_everywhere(
        b"{\"trials\": []}\n",
        &["{file}:1:1: there is no \"format\"", "perfgate/result/v1"],
    );
}

#[test]
fn a_histogram_that_does_not_decode_is_named_by_endpoint_trial_and_window() {
    let s = Setup::new();
    let mut v = s.value();
    // Valid base64, but not an HdrHistogram.
    v["trials"][1]["endpoints"][1]["histogram"] = json!("bm90IGEgaGlzdG9ncmFt");
    v["trials"][0]["endpoints"][0]["windows"][3]["histogram"] = json!("!!!");
    v["trials"][0]["endpoints"][0]["windows"][7]["histogram"] = json!("");
    let bad = pretty(&v);
    refused_everywhere(
        bad.as_bytes(),
        &[
            "{file} has 2 problems:",
            &format!(
                "{{file}}:{}:",
                line_of(&bad, "\"bm90IGEgaGlzdG9ncmFt\"")
            ),
            "trials[1].endpoints[1].histogram: trial 1, endpoint \"GET /b\": the histogram does not decode",
            &format!("{{file}}:{}:", line_of(&bad, "\"!!!\"")),
            "trials[0].endpoints[0].windows[3].histogram: trial 0, endpoint \"GET /a\": the histogram of windows 3, 7 does not decode",
            "truncated or edited",
        ],
    );
}

#[test]
fn counts_that_contradict_each_other_are_refused() {
    let s = Setup::new();
    let mut v = s.value();
    v["trials"][0]["endpoints"][0]["errors"]["total"] = json!(999_999);
    v["trials"][1]["endpoints"][1]["name"] = json!("GET /a");
    v["trials"][1]["measured_s"] = json!(-10.0);
    let bad = pretty(&v);
    refused_everywhere(
        bad.as_bytes(),
        &[
            "{file} has 3 problems:",
            &format!("{{file}}:{}:", line_of(&bad, "999999")),
            "999999 errors out of 3000 requests",
            &format!("{{file}}:{}:", line_of(&bad, "-10.0")),
            "trials[1].measured_s: -10 is not a duration",
            "endpoint \"GET /a\" appears twice in trial 1",
        ],
    );

    let mut v = s.value();
    v["trials"] = json!([]);
    let bad = pretty(&v);
    refused_everywhere(
        bad.as_bytes(),
        &[
            &format!("{{file}}:{}:", line_of(&bad, "\"trials\": []")),
            "a complete result has no trials",
        ],
    );
}

#[test]
fn empty_and_binary_files_are_refused() {
    refused_everywhere(b"", &["{file}: the file is empty", "perfgate run"]);
    refused_everywhere(b"  \n\n", &["{file}: the file is empty"]);
    let s = Setup::new();
    let mut bytes = s.good.as_bytes()[..40].to_vec();
    bytes.extend_from_slice(b"\xff\xfe\x00");
    let line = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    refused_everywhere(
        &bytes,
        &[&format!("{{file}}:{line}:"), "byte 0xff is not UTF-8 text"],
    );
}

#[test]
fn missing_results_and_baselines() {
    let s = Setup::new();
    // A baseline that is not there: 3, the run cannot be judged; and how to make one.
    s.run(&[
        "compare",
        "--baseline-file",
        "gone.json",
        "--current",
        "good.json",
    ])
    .code(3)
    .says(&["gone.json", "No such file"]);
    s.run(&["compare", "--baseline", "nightly", "--current", "good.json"])
        .code(3)
        .says(&[
            "no baseline \"nightly\"",
            "baselines/nightly.json does not exist",
            "the baselines are: main",
        ]);
    s.run(&["baseline", "show", "nightly"]).code(3);
    s.check(&["--baseline", "nightly"], 3)
        .says(&["baselines/nightly.json does not exist"]);
    s.check(&["--baseline-file", "gone.json"], 3)
        .says(&["gone.json"]);
    // A result that is not there: 2, and how to make one.
    s.run(&["compare", "--current", "gone.json"])
        .code(2)
        .says(&["gone.json", "run `perfgate run` first"]);
    s.run(&["compare"])
        .code(2)
        .says(&["results/current.json", "run `perfgate run` first"]);
    s.run(&["baseline", "save", "main", "gone.json"])
        .code(2)
        .says(&["gone.json"]);
    assert_eq!(
        std::fs::read_to_string(s.work.path("baselines/main.json")).unwrap(),
        s.good
    );
}

#[test]
fn check_refuses_an_incomparable_baseline_before_running() {
    let s = Setup::new();
    let mut v = s.value();
    v["meta"]["load"]["users"] = json!(50);
    s.work.write("baselines/main.json", &pretty(&v));
    s.check(&[], 3)
        .says(&["not comparable", "users 50 vs 1", "--allow-mismatch"]);
}

// ---------------------------------------------------------------------------------------------
// thresholds.toml
// ---------------------------------------------------------------------------------------------

/// Writes `toml` as `t.toml` and requires `compare`, `validate` and `check` to refuse it with
/// exit 2 and the same problem lines; returns them.
fn threshold_problems(toml: &str) -> Vec<String> {
    threshold_problems_bytes(toml.as_bytes())
}

fn threshold_problems_bytes(bytes: &[u8]) -> Vec<String> {
    let s = Setup::new();
    std::fs::write(s.work.path("t.toml"), bytes).unwrap();
    let compare = s
        .run(&["compare", "--current", "good.json", "-t", "t.toml"])
        .code(2);
    let lines = compare.problems_of("t.toml");
    assert!(!lines.is_empty(), "{}", compare.stderr);
    let heading = format!(
        "t.toml has {} problem{}:",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    compare.says(&[&heading]);
    let validate = s.run(&["validate", "-t", "t.toml"]).code(2);
    assert_eq!(
        validate.problems_of("t.toml"),
        lines,
        "validate: {}",
        validate.stderr
    );
    assert!(
        validate.stdout.contains("perfgate.toml is valid"),
        "only the thresholds are wrong: {}",
        validate.stdout
    );
    let check = s.check(&["-t", "t.toml"], 2);
    assert_eq!(
        check.problems_of("t.toml"),
        lines,
        "check: {}",
        check.stderr
    );
    // The default thresholds.toml is read just the same when it exists.
    std::fs::write(s.work.path("thresholds.toml"), bytes).unwrap();
    let default = s.check(&[], 2);
    assert_eq!(
        default.problems_of("thresholds.toml").len(),
        lines.len(),
        "{}",
        default.stderr
    );
    lines
}

#[test]
fn malformed_thresholds_are_reported_at_their_line() {
    let toml = "[defaults]\nwarn = \"5%\"\n\n[[rule]\nmetric = \"p95\"\nmax = \"200ms\"\n";
    let p = threshold_problems(toml);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(
        &p,
        "t.toml",
        line_of(toml, "[[rule]"),
        &["unclosed array table"],
    );

    let toml = "[defaults]\nmax_regression = \"10%\nwarn = \"5%\"\n";
    let p = threshold_problems(toml);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(&p, "t.toml", 2, &["string"]);
}

#[test]
fn every_problem_in_thresholds_is_listed_at_its_line_with_what_would_be_right() {
    let toml = r#"[defaults]
max_regression = 0.1
wran = "3%"
min_delta = "-1ms"
metrics = ["p50", "p96"]
confidence = 1.5

[[rule]]
endpoint = "GET /*"
metric = "p95"
max = 200

[[rule]]
endpiont = "GET /a"
metric = "error_rate"
max = "2%"

[[rule]]
metric = "throughput"
max_regression = "-5%"
"#;
    let p = threshold_problems(toml);
    let expected: [(&str, &[&str]); 7] = [
        (
            "max_regression = 0.1",
            &[
                "defaults.max_regression",
                "invalid type",
                "expected a string",
                "\"10%\"",
            ],
        ),
        (
            "wran",
            &["defaults.wran", "unknown key", "did you mean `warn`?"],
        ),
        (
            "min_delta",
            &[
                "defaults.min_delta",
                "\"-1ms\" is not a duration",
                "\"200ms\"",
            ],
        ),
        ("metrics", &["unknown metric \"p96\"", "p99.9"]),
        (
            "confidence",
            &["defaults.confidence", "between 0.5 and 1", "0.99"],
        ),
        (
            "max = 200",
            &["rule[0].max", "200 has no unit", "\"200ms\""],
        ),
        (
            "endpiont",
            &[
                "rule[1].endpiont",
                "unknown key",
                "did you mean `endpoint`?",
            ],
        ),
    ];
    for (needle, phrases) in expected {
        assert_problem(&p, "t.toml", line_of(toml, needle), phrases);
    }
    assert_problem(
        &p,
        "t.toml",
        line_of(toml, "\"-5%\""),
        &["rule[2].max_regression", "not a percentage ≥ 0"],
    );
    assert_eq!(p.len(), 8, "{}", p.join("\n"));
    assert!(
        !p.iter().any(|l| l.contains("sets nothing")),
        "a rule whose value had the wrong type is not also a rule that sets nothing:\n{}",
        p.join("\n")
    );
}

#[test]
fn thresholds_with_whole_sections_of_the_wrong_type() {
    let toml = "defaults = \"strict\"\nrule = 5\nrules = []\n";
    let p = threshold_problems(toml);
    assert_eq!(p.len(), 3, "{}", p.join("\n"));
    assert_problem(
        &p,
        "t.toml",
        1,
        &["defaults", "expected a table", "[defaults]"],
    );
    assert!(
        !p.join("\n").contains("struct"),
        "Rust type names are not the user's words:\n{}",
        p.join("\n")
    );
    assert_problem(&p, "t.toml", 2, &["rule", "expected a list", "[[rule]]"]);
    assert_problem(
        &p,
        "t.toml",
        3,
        &["rules", "unknown key", "did you mean `rule`?"],
    );
}

#[test]
fn thresholds_that_are_not_utf8_are_refused_at_the_line() {
    let p = threshold_problems_bytes(b"[defaults]\nwarn = \"5\xff%\"\n");
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(&p, "t.toml", 2, &["not UTF-8 text"]);
}

#[test]
fn check_refuses_a_rule_that_names_no_endpoint_before_running() {
    let s = Setup::new();
    let toml = "[[rule]]\nendpoint = \"GET /a\"\nmetric = \"p95\"\nmax = \"1s\"\n\n[[rule]]\nendpoint = \"POST /nothing*\"\nmetric = \"p99\"\nmax = \"1s\"\n";
    s.work.write("t.toml", toml);
    let out = s.check(&["-t", "t.toml"], 2);
    let p = out.problems_of("t.toml");
    assert_eq!(p.len(), 1, "{}", out.stderr);
    assert_problem(
        &p,
        "t.toml",
        line_of(toml, "POST /nothing") - 1,
        &["\"POST /nothing*\" matches no endpoint"],
    );
    assert!(
        p[0].ends_with("the endpoints are: \"GET /a\", \"GET /b\""),
        "the endpoints of the baseline and the profile, each once: {}",
        p[0]
    );
}

// ---------------------------------------------------------------------------------------------
// The profile: what config_errors.rs does not cover
// ---------------------------------------------------------------------------------------------

#[test]
fn a_profile_section_of_the_wrong_type_says_table_not_a_rust_type() {
    let s = Setup::new();
    let toml = "target = \"http://127.0.0.1:1\"\n\n[load]\nusers = 1\nduration = \"1s\"\n\n[[scenario]]\nname = \"a\"\n[[scenario.step]]\nrequest = \"GET /a\"\n";
    s.work.write("bad.toml", toml);
    s.run(&["validate", "-p", "bad.toml"])
        .code(2)
        .says(&[
            "bad.toml has 1 problem:",
            "bad.toml:1:1: target: invalid type: string \"http://127.0.0.1:1\", expected a table",
        ])
        .never_says(&["struct", "missing [target]"]);
    s.check(&["-p", "bad.toml"], 2)
        .says(&["bad.toml:1:1: target"]);
}

#[test]
fn a_profile_that_is_not_utf8_or_not_there() {
    let s = Setup::new();
    std::fs::write(
        s.work.path("bad.toml"),
        b"[target]\nbase_url = \"http://127.0.0.1:1\"\nname = \"caf\xe9\"\n",
    )
    .unwrap();
    s.run(&["validate", "-p", "bad.toml"])
        .code(2)
        .says(&["bad.toml:3:", "not UTF-8 text"]);
    s.check(&["-p", "bad.toml"], 2)
        .says(&["bad.toml:3:", "not UTF-8 text"]);
    s.check(&["-p", "gone.toml"], 2)
        .says(&["cannot read the profile gone.toml"]);
}

#[test]
fn check_lists_every_broken_input_at_once_before_running() {
    let s = Setup::new();
    // The profile: a typo. The thresholds: a wrong type. The baseline: truncated.
    let profile = closed_profile("").replace("users = 1", "users = 1\nduraton = \"5s\"");
    s.work.write(PROFILE, &profile);
    s.work.write("thresholds.toml", "[defaults]\nwarn = 5\n");
    let truncated = &s.good[..s.good.len() / 3];
    s.work.write("baselines/main.json", truncated);
    s.check(&[], 2).says(&[
        &format!("perfgate.toml:{}:", line_of(&profile, "duraton")),
        "load.duraton: unknown key",
        "thresholds.toml:2:",
        "defaults.warn: invalid type",
        "baselines/main.json:",
        "truncated",
    ]);
    // And the same with the baseline missing: still 2, since the profile must be fixed first.
    std::fs::remove_file(s.work.path("baselines/main.json")).unwrap();
    s.check(&[], 2)
        .says(&["no baseline \"main\"", "load.duraton"]);
}

// ---------------------------------------------------------------------------------------------
// Data files ([[data]] CSV)
// ---------------------------------------------------------------------------------------------

const ACCOUNTS: &[u8] = b"username,password\nalice,pw1\nbob,pw2\n";

fn data_profile() -> String {
    closed_profile("\n[[data]]\nname = \"accounts\"\nfile = \"accounts.csv\"\n").replace(
        "request = \"GET /b\"",
        "request = \"GET /b?u={{accounts.username}}&p={{accounts.password}}\"\nname = \"GET /b\"",
    )
}

/// A data profile whose CSV is replaced by `csv` (valid when the baseline was made): `validate`
/// and `check` refuse it with exit 2 and the same problems, all at the profile's `file =` line,
/// none of them a template variable the broken file would have provided. Returns the problems.
fn csv_problems(csv: &[u8]) -> Vec<String> {
    let profile = data_profile();
    let s = Setup::with(&profile, &[("accounts.csv", ACCOUNTS)]);
    std::fs::write(s.work.path("accounts.csv"), csv).unwrap();
    let validate = s.run(&["validate"]).code(2);
    let lines = validate.problems_of(PROFILE);
    let check = s.check(&[], 2);
    assert_eq!(check.problems_of(PROFILE), lines, "check: {}", check.stderr);
    let file_line = line_of(&profile, "file = \"accounts.csv\"");
    for l in &lines {
        assert!(
            l.starts_with(&format!("{PROFILE}:{file_line}:")) && l.contains("data[0].file"),
            "every problem is the data file's, at its `file =` line:\n{}",
            lines.join("\n")
        );
    }
    validate.never_says(&["unknown template variable"]);
    lines
}

#[test]
fn an_empty_data_file_says_what_it_should_hold() {
    for csv in [&b""[..], b"\n\n"] {
        let p = csv_problems(csv);
        assert_eq!(p.len(), 1, "{}", p.join("\n"));
        assert!(
            p[0].contains("accounts.csv is empty") && p[0].contains("username,password"),
            "{}",
            p[0]
        );
    }
}

#[test]
fn every_ragged_row_is_named_by_its_line() {
    // Line 3 is a quoted field over two lines, so rows and lines differ.
    let csv = b"username,password\nalice,pw1\n\"bob\nsmith\",pw2\ncarol\ndan,pw4,extra\neve,pw5\n";
    let p = csv_problems(csv);
    assert_eq!(p.len(), 2, "{}", p.join("\n"));
    assert!(
        p[0].contains(
            "accounts.csv:5: this row has 1 field, the header has 2 (username, password)"
        ),
        "{}",
        p.join("\n")
    );
    assert!(
        p[1].contains("accounts.csv:6: this row has 3 fields"),
        "{}",
        p.join("\n")
    );
}

#[test]
fn a_data_file_that_is_not_utf8_is_named_by_its_line() {
    let p = csv_problems(b"username,password\nalice,pw1\nb\xf6b,pw2\n");
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert!(
        p[0].contains("accounts.csv:3: this line is not UTF-8 text"),
        "{}",
        p[0]
    );
}

#[test]
fn a_header_with_unnamed_or_repeated_columns() {
    let p = csv_problems(b"username,,username\nalice,x,pw1\n");
    assert_eq!(p.len(), 2, "{}", p.join("\n"));
    assert!(
        p[0].contains("accounts.csv:1: the first line must name every column")
            && p[0].contains("column 2 has no name"),
        "{}",
        p.join("\n")
    );
    assert!(
        p[1].contains("accounts.csv:1: two columns are named \"username\""),
        "{}",
        p.join("\n")
    );
}

#[test]
fn check_refuses_a_column_the_data_file_lacks_before_running() {
    let profile = data_profile();
    let s = Setup::with(&profile, &[("accounts.csv", ACCOUNTS)]);
    s.work
        .write("accounts.csv", "username,passwd\nalice,pw1\nbob,pw2\n");
    let out = s.check(&[], 2);
    let p = out.problems_of(PROFILE);
    assert_eq!(p.len(), 1, "{}", out.stderr);
    assert_problem(
        &p,
        PROFILE,
        line_of(&profile, "{{accounts.password}}"),
        &[
            "data set `accounts` has no column `password`",
            "its columns are username, passwd",
        ],
    );
}

#[test]
fn a_valid_setup_is_accepted_so_the_refusals_above_are_the_broken_inputs() {
    let profile = data_profile();
    let s = Setup::with(&profile, &[("accounts.csv", ACCOUNTS)]);
    s.run(&["validate"]).code(0);
    s.run(&["compare", "--current", "good.json"]).code(0);
    let back = RunResult::read(&s.work.path("baselines/main.json")).unwrap();
    assert_eq!(back, serde_json::from_str::<RunResult>(&s.good).unwrap());
}
