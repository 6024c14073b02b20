//! Broken profiles: `perfgate validate` and `perfgate run` both exit 2 and list every problem
//! with `file:line:column`, the key it concerns, and what would be right.

mod common;

use common::*;

const FILE: &str = "bad.toml";

/// Writes `toml` as `bad.toml` (and `files` beside it), runs `perfgate validate -p bad.toml` and
/// `perfgate run -p bad.toml`, requires exit 2 from both with the same problems and no result
/// file, checks the count in the heading, and returns the problem lines.
fn problems(toml: &str, files: &[(&str, &str)]) -> Vec<String> {
    let work = Work::new();
    work.write(FILE, toml);
    for (name, contents) in files {
        work.write(name, contents);
    }
    let validate = work
        .perfgate()
        .args(["validate", "-p", FILE])
        .output()
        .expect("perfgate validate");
    let validate_err = String::from_utf8_lossy(&validate.stderr).into_owned();
    assert_eq!(
        validate.status.code(),
        Some(2),
        "validate: {}\n{validate_err}",
        validate.status
    );
    let run = work
        .perfgate()
        .args(["run", "--quiet", "-p", FILE, "-o", RESULT])
        .output()
        .expect("perfgate run");
    let run_err = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(2), "run: {}\n{run_err}", run.status);
    assert!(
        !work.path(RESULT).exists(),
        "an invalid profile writes no result"
    );

    let listed = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(&format!("{FILE}:")))
            .map(str::to_string)
            .collect()
    };
    let lines = listed(&validate_err);
    assert_eq!(
        lines,
        listed(&run_err),
        "validate and run report the same problems"
    );
    let heading = format!(
        "{FILE} has {} problem{}:",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    assert!(
        validate_err.contains(&heading),
        "expected the heading {heading:?} in:\n{validate_err}"
    );
    lines
}

/// Finds the problem reported at `line` and checks it contains every phrase.
fn assert_problem(problems: &[String], line: usize, phrases: &[&str]) {
    let prefix = format!("{FILE}:{line}:");
    let at: Vec<&String> = problems.iter().filter(|p| p.starts_with(&prefix)).collect();
    assert!(
        at.iter().any(|p| phrases.iter().all(|ph| p.contains(ph))),
        "no problem at {prefix} containing {phrases:?}; problems:\n{}",
        problems.join("\n")
    );
}

const ACCOUNTS: &str = "username,password\nalice,pw1\nbob,pw2\n";

#[test]
fn unknown_keys_at_every_level_are_all_listed_each_at_its_line() {
    let toml = r#"name = "typos"
colour = "blue"

[target]
base_url = "http://127.0.0.1:8080"
request_timout = "5s"

[load]
model = "closed"
users = 2
durations = "10s"
duration = "10s"

[[data]]
name = "accounts"
file = "accounts.csv"
path = "accounts.csv"

[[scenario]]
name = "browse"
thinktime = "1s"

[[scenario.on_start]]
request = "POST /login"
captures = { token = "json:$.token" }

[[scenario.step]]
request = "GET /"
methd = "GET"
expect = { status = [200], body_contain = "x" }
"#;
    let p = problems(toml, &[("accounts.csv", ACCOUNTS)]);
    let expected = [
        ("colour =", "colour"),
        ("request_timout", "target.request_timout"),
        ("durations", "load.durations"),
        ("path =", "data[0].path"),
        ("thinktime", "scenario[0].thinktime"),
        ("captures", "scenario[0].on_start[0].captures"),
        ("methd", "scenario[0].step[0].methd"),
        ("body_contain", "scenario[0].step[0].expect.body_contain"),
    ];
    assert_eq!(p.len(), expected.len(), "{}", p.join("\n"));
    for (needle, key) in expected {
        assert_problem(&p, line_of(toml, needle), &[key, "unknown key"]);
    }
    // Each says what its table has, and what was probably meant.
    for (needle, meant) in [
        ("request_timout", "did you mean `request_timeout`?"),
        ("durations", "did you mean `duration`?"),
        ("thinktime", "did you mean `think_time`?"),
        ("captures", "did you mean `capture`?"),
        ("body_contain", "did you mean `body_contains`?"),
    ] {
        assert_problem(&p, line_of(toml, needle), &[meant]);
    }
    assert_problem(
        &p,
        line_of(toml, "durations"),
        &["the keys of [load] are model, users"],
    );
}

#[test]
fn a_value_of_the_wrong_type_is_reported_at_its_line_with_the_type_expected() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = "ten"
duration = "10s"

[[scenario]]
name = "a"
[[scenario.step]]
request = "GET /"
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(toml, "users ="),
        &["invalid type", "\"ten\"", "expected"],
    );

    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = 2
duration = 10

[[scenario]]
name = "a"
[[scenario.step]]
request = "GET /"
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(toml, "duration ="),
        &["invalid type", "expected a string"],
    );
}

#[test]
fn a_value_of_the_wrong_type_does_not_hide_the_other_problems() {
    let toml = r#"colour = "blue"

[target]
base_url = "http://127.0.0.1:8080"

[load]
users = "ten"
duration = "0s"

[[scenario]]
name = "a"
weight = "high"
[[scenario.step]]
request = "GET /"
"#;
    let p = problems(toml, &[]);
    assert_problem(&p, line_of(toml, "colour"), &["unknown key"]);
    assert_problem(&p, line_of(toml, "users ="), &["invalid type"]);
    assert_problem(&p, line_of(toml, "duration ="), &["zero"]);
    assert_problem(&p, line_of(toml, "weight ="), &["invalid type"]);
}

#[test]
fn zero_and_negative_durations_and_counts_say_what_would_be_right() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"
request_timeout = "0s"

[load]
users = 0
duration = "-5s"
warmup = "0s"
ramp_up = "soon"

[[scenario]]
name = "a"
weight = -1
think_time = "2s..1s"
[[scenario.step]]
request = "GET /"

[[scenario]]
name = "b"
weight = 3
[[scenario.step]]
request = "GET /b"
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 6, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(toml, "request_timeout"),
        &["target.request_timeout", "is zero", "positive duration"],
    );
    assert_problem(
        &p,
        line_of(toml, "users ="),
        &["load.users", "from 1 to 1000000"],
    );
    assert_problem(
        &p,
        line_of(toml, "duration ="),
        &["load.duration", "\"-5s\" is not a duration", "\"10s\""],
    );
    assert_problem(
        &p,
        line_of(toml, "ramp_up"),
        &["load.ramp_up", "\"soon\" is not a duration"],
    );
    assert_problem(
        &p,
        line_of(toml, "weight = -1"),
        &["scenario[0].weight", "whole number from 0"],
    );
    assert_problem(
        &p,
        line_of(toml, "think_time"),
        &[
            "scenario[0].think_time",
            "low end must not exceed the high end",
        ],
    );
}

#[test]
fn weights_summing_to_zero_are_refused() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = 1
duration = "10s"

[[scenario]]
name = "a"
weight = 0
[[scenario.step]]
request = "GET /a"

[[scenario]]
name = "b"
weight = 0
[[scenario.step]]
request = "GET /b"
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    // Reported at the first [[scenario]].
    assert_problem(
        &p,
        line_of(toml, "name = \"a\"") - 1,
        &["weights sum to zero", "positive weight"],
    );
}

#[test]
fn unknown_template_variables_name_what_the_profile_has() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = 1
duration = "10s"

[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "a"
[[scenario.step]]
request = "POST /login"
capture = { token = "json:$.token" }
[[scenario.step]]
request = "GET /orders"
headers = { Authorization = "Bearer {{tokn}}" }
[[scenario.step]]
request = "GET /users/{{accounts.email}}"
[[scenario.step]]
request = "GET /x?k={{env.PERFGATE_TEST_SURELY_UNSET_VARIABLE}}"
"#;
    let p = problems(toml, &[("accounts.csv", ACCOUNTS)]);
    assert_eq!(p.len(), 3, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(toml, "{{tokn}}"),
        &[
            "scenario[0].step[1].headers.Authorization",
            "unknown template variable `tokn`",
            "token",
        ],
    );
    assert_problem(
        &p,
        line_of(toml, "accounts.email"),
        &["no column `email`", "username, password"],
    );
    assert_problem(
        &p,
        line_of(toml, "SURELY_UNSET"),
        &["PERFGATE_TEST_SURELY_UNSET_VARIABLE is not set"],
    );
}

#[test]
fn a_bad_capture_spec_says_how_to_write_one() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = 1
duration = "10s"

[[scenario]]
name = "a"
[[scenario.step]]
request = "POST /login"
capture = { token = "jsn:$.token" }
[[scenario.step]]
request = "GET /list"
capture = { first = "json:$[" }
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 2, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(toml, "jsn:"),
        &[
            "scenario[0].step[0].capture.token",
            "\"json:$.path\" or \"header:Name\"",
        ],
    );
    assert_problem(
        &p,
        line_of(toml, "json:$["),
        &["scenario[0].step[1].capture.first", "not a JSONPath"],
    );
}

const DATA_PROFILE: &str = r#"[target]
base_url = "http://127.0.0.1:8080"

[load]
users = 1
duration = "10s"

[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "a"
[[scenario.step]]
request = "GET /"
"#;

#[test]
fn a_missing_data_file_is_reported_at_its_file_key() {
    let p = problems(DATA_PROFILE, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(DATA_PROFILE, "file ="),
        &["data[0].file", "cannot read accounts.csv"],
    );
}

#[test]
fn a_data_file_with_a_header_but_no_rows_is_refused() {
    let p = problems(DATA_PROFILE, &[("accounts.csv", "username,password\n")]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(
        &p,
        line_of(DATA_PROFILE, "file ="),
        &[
            "data[0].file",
            "has a header but no rows",
            "each user takes one row",
        ],
    );
}

#[test]
fn malformed_toml_is_reported_with_its_line() {
    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"

[load
users = 1
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(&p, line_of(toml, "[load"), &["expected `]`"]);

    let toml = r#"[target]
base_url = "http://127.0.0.1:8080"
[load]
users = 1
duration = "10s
"#;
    let p = problems(toml, &[]);
    assert_eq!(p.len(), 1, "{}", p.join("\n"));
    assert_problem(&p, line_of(toml, "duration ="), &["string"]);
}

#[test]
fn a_valid_profile_validates() {
    let work = Work::new();
    work.write("accounts.csv", ACCOUNTS);
    work.write(
        FILE,
        r#"name = "fine"

[target]
base_url = "http://127.0.0.1:8080"
headers = { "X-Api-Key" = "k-{{user_id}}" }

[load]
model = "open"
rate = 50
max_in_flight = 10
duration = "10s"

[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "login"
weight = 1
think_time = "0s..1s"
[[scenario.on_start]]
request = "POST /login"
json = { username = "{{accounts.username}}" }
capture = { token = "json:$.token", session = "header:X-Session" }
[[scenario.step]]
request = "GET /me"
headers = { Authorization = "Bearer {{token}}" }
expect = { status = ["2xx", 304], body_contains = "me" }

[[scenario]]
name = "search"
weight = 3
[[scenario.step]]
request = "GET /search?q={{random_int(1,9)}}"
name = "GET /search"
expect = { status = [200, 429] }
"#,
    );
    let out = work
        .perfgate()
        .args(["validate", "-p", FILE])
        .output()
        .expect("perfgate validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("bad.toml is valid")
            && stdout.contains("\"fine\"")
            && stdout.contains("2 scenarios")
            && stdout.contains("3 endpoints"),
        "{stdout}"
    );
}

#[test]
fn the_repository_profile_validates() {
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/perfgate.toml");
    let work = Work::new();
    let out = work
        .perfgate()
        .args(["validate", "-p", profile])
        .output()
        .expect("perfgate validate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_repository_profiles_validate_with_their_rules() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles");
    let work = Work::new();
    let mut seen = 0;
    for name in ["spike", "soak", "stress"] {
        let profile = format!("{dir}/{name}.toml");
        let rules = format!("{dir}/{name}.thresholds.toml");
        let out = work
            .perfgate()
            .args(["validate", "-p", &profile, "-t", &rules])
            .output()
            .expect("perfgate validate");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen += 1;
    }
    let on_disk = std::fs::read_dir(dir)
        .expect("profiles/")
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .ends_with(".thresholds.toml")
            })
        })
        .count();
    assert_eq!(seen, on_disk, "every profile in profiles/ is checked here");
}
