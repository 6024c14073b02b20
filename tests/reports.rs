//! The reports people open: the HTML page (in a real headless Chromium: no console message,
//! a screenshot, a PDF), the Locust-compatible CSV (headers taken from the real Locust's own
//! code, totals read back with Python's csv module), the Mermaid chart in the Markdown (rendered
//! by the real Mermaid CLI), and `perfgate report` itself.
//!
//! The third-party programs are installed by `.ci/install` (Debian's chromium, Locust from
//! PyPI, @mermaid-js/mermaid-cli from npm); a test whose program is missing fails and says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::fixtures::{slower, synth, STEADY};
use common::profile::ProfileBuilder;
use common::*;
use perfgate::compare::compare;
use perfgate::compare::rules::Thresholds;
use perfgate::report::{self, Format, Report};
use serde_json::Value;

/// The first of `programs` on the PATH.
fn need(programs: &[&str], what: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = programs.iter().find_map(|p| {
        std::env::split_paths(&path)
            .map(|d| d.join(p))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("{programs:?} is needed for {what}: run .ci/install first"))
}

const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

fn mmdc() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/.tools/mermaid/node_modules/.bin/mmdc");
    assert!(
        p.is_file(),
        "the Mermaid CLI is needed at {}: run .ci/install first",
        p.display()
    );
    p
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed (is Locust installed? run .ci/install): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A synthetic baseline and a current run with one endpoint 30% slower.
fn fixture() -> (perfgate::result::RunResult, perfgate::result::RunResult) {
    let base = synth(
        &[("GET /api/v1/shows/", STEADY), ("POST /checkout/", STEADY)],
        5,
        40,
    );
    let cur = synth(
        &[
            ("GET /api/v1/shows/", slower(STEADY, 1.3)),
            ("POST /checkout/", STEADY),
        ],
        5,
        41,
    );
    (base, cur)
}

/// The fixture's report in `format`, drawn from its results.
fn rendered(format: Format) -> String {
    let (base, cur) = fixture();
    let c = compare(
        &base,
        &cur,
        &Thresholds::default(),
        "baseline main",
        "current",
    );
    let r = Report {
        comparison: &c,
        current: Some(&cur),
        baseline: Some(&base),
    };
    report::render(&r, format, false).unwrap()
}

#[test]
fn the_formats_drawn_from_results_match_their_snapshots() {
    let md = rendered(Format::Md);
    // The chart sits under the verdict and above the table, for the endpoint that failed.
    let chart = md.find("```mermaid").expect("a Mermaid chart");
    assert!(chart < md.find("| endpoint |").unwrap());
    assert!(md.contains("title \"p95 GET /api/v1/shows/ (grey: baseline, red: current)\""));
    insta::assert_snapshot!("report_markdown_chart", md);
    insta::assert_snapshot!("report_html", rendered(Format::Html));
    for (suffix, text) in report::csv::render(&fixture().1).unwrap() {
        insta::assert_snapshot!(format!("report_csv{suffix}"), text);
    }
}

/// A real run: two stages of a closed-model load on a local server, two trials.
fn real_run() -> (TestServer, Work) {
    let server = serve(fast_router().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(3)).await;
            "slow"
        }),
    ));
    let work = Work::with_profile(
        &ProfileBuilder::new(&server.url)
            .name("reports")
            .load("trials", 2)
            .stages(&[("low", 2, 2.0), ("high", 2, 4.0)])
            .scenario("browse", &["GET /", "GET /slow"])
            .toml(),
    );
    let run = work.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    (server, work)
}

#[test]
fn csv_headers_are_locusts_own_and_the_history_adds_up_to_the_windows() {
    let (_server, work) = real_run();
    let out = work
        .perfgate()
        .args(["report", RESULT, "-f", "csv", "-o", "locust"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The headers as Locust itself builds them (locust/stats.py), column by column.
    let locust: Value = serde_json::from_str(&python(
        "import json, sys, tempfile, os\n\
         from locust.stats import StatsCSVFileWriter, PERCENTILES_TO_REPORT\n\
         w = StatsCSVFileWriter(None, PERCENTILES_TO_REPORT, os.path.join(tempfile.mkdtemp(), 'x'))\n\
         print(json.dumps([w.requests_csv_columns, w.stats_history_csv_columns, w.failures_columns]))\n\
         w.close_files()",
        &[],
    ))
    .unwrap();
    let read = |suffix: &str| -> Value {
        let path = work.path(&format!("locust{suffix}"));
        serde_json::from_str(&python(
            "import csv, json, sys\nprint(json.dumps(list(csv.DictReader(open(sys.argv[1], newline='')))))",
            &[path.to_str().unwrap()],
        ))
        .unwrap()
    };
    for (i, suffix) in ["_stats.csv", "_stats_history.csv", "_failures.csv"]
        .iter()
        .enumerate()
    {
        let text = std::fs::read_to_string(work.path(&format!("locust{suffix}"))).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let theirs: Vec<&str> = locust[i]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(header, theirs, "{suffix}");
    }
    // Per second, the Aggregated rows' requests are the result's windows summed over endpoints.
    let result = work.result().unwrap();
    let mut expected = Vec::new();
    for t in result["trials"].as_array().unwrap() {
        let eps = t["endpoints"].as_array().unwrap();
        let n = eps
            .iter()
            .map(|e| e["windows"].as_array().unwrap().len())
            .max()
            .unwrap();
        for i in 0..n {
            expected.push(
                eps.iter()
                    .map(|e| e["windows"][i]["requests"].as_u64().unwrap_or(0))
                    .sum::<u64>(),
            );
        }
    }
    let history = read("_stats_history.csv");
    let got: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["Name"] == "Aggregated")
        .map(|r| r["Requests/s"].as_str().unwrap().parse::<f64>().unwrap() as u64)
        .collect();
    assert_eq!(got, expected);
    assert!(expected.iter().sum::<u64>() > 0);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        last["Total Request Count"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        expected.iter().sum::<u64>()
    );
    // The stats file: one row per endpoint (method and path apart), then Aggregated.
    let stats = read("_stats.csv");
    let names: Vec<&str> = stats
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/", "/slow", "Aggregated"]);
    assert_eq!(stats[0]["Type"], "GET");
}

fn chromium(args: &[&str], profile_dir: &Path) -> std::process::Output {
    let bin = need(&BROWSERS, "opening the HTML report");
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

#[test]
fn the_html_report_opens_in_a_real_browser_without_a_console_message() {
    let (_server, work) = real_run();
    // `compare` writes report.html and the CSV files beside its own report by default.
    let out = work
        .perfgate()
        .args([
            "compare",
            "--baseline-file",
            RESULT,
            "-c",
            RESULT,
            "--report-dir",
            "out",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "report.html",
        "perfgate_stats.csv",
        "perfgate_stats_history.csv",
        "perfgate_failures.csv",
    ] {
        assert!(work.path("out").join(f).is_file(), "{f}");
    }
    let html = work.path("out/report.html");
    let text = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing to run, nothing to fetch.
    for needle in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!text.contains(needle), "the page holds {needle}");
    }
    let url = format!("file://{}", html.display());
    let ud = work.path("chromium");
    // Kept after the run, for a person to look at: target/tmp/report.png.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let pdf = work.path("report.pdf");
    let dom = chromium(&["--dump-dom", &url], &ud);
    let log = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<svg") && dom.contains("polyline"),
        "the charts are in the DOM"
    );
    for stage in ["low", "high"] {
        assert!(
            dom.contains(&format!(">{stage}</text>")),
            "stage {stage} is named on the charts"
        );
    }
    chromium(
        &[
            "--window-size=1200,3000",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
        &ud,
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    chromium(
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &url,
        ],
        &ud,
    );
    let doc = std::fs::read(&pdf).expect("a PDF");
    assert!(
        doc.starts_with(b"%PDF") && doc.len() > 10_000,
        "{} bytes",
        doc.len()
    );
}

#[test]
fn the_mermaid_chart_renders_with_the_mermaid_cli() {
    let md = rendered(Format::Md);
    let start = md.find("```mermaid\n").unwrap() + "```mermaid\n".len();
    let block = &md[start..start + md[start..].find("```").unwrap()];
    let work = Work::new();
    let input = work.write("chart.mmd", block);
    let browser = need(&BROWSERS, "the Mermaid CLI's browser");
    let config = work.write(
        "puppeteer.json",
        &serde_json::json!({
            "executablePath": browser,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        })
        .to_string(),
    );
    let svg = work.path("chart.svg");
    let out = Command::new(mmdc())
        .args(["-q", "-p"])
        .arg(&config)
        .arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(&svg)
        .output()
        .expect("mmdc runs");
    assert!(
        out.status.success(),
        "mmdc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    // Both lines are drawn, each in its own colour.
    assert!(
        drawn.contains("#8b949e") && drawn.contains("#d1242f"),
        "{}",
        &drawn[..drawn.len().min(2000)]
    );
    assert!(drawn.contains("p95 GET /api/v1/shows/"));
}

#[test]
fn report_renders_a_stored_result_in_every_format_and_refuses_a_broken_one() {
    let (base, cur) = fixture();
    let work = Work::new();
    work.write(
        "base.json",
        &String::from_utf8(base.to_json().unwrap()).unwrap(),
    );
    work.write(
        "cur.json",
        &String::from_utf8(cur.to_json().unwrap()).unwrap(),
    );
    for f in ["html", "md", "json", "junit", "table", "csv"] {
        let out = work
            .perfgate()
            .args([
                "report",
                "cur.json",
                "--baseline-file",
                "base.json",
                "-f",
                f,
            ])
            .output()
            .unwrap();
        // A report is rendered, not judged: exit 0 although the comparison fails.
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(f == "csv" || !text.is_empty(), "{f}");
    }
    // CSV without -o: beside the result, named after it.
    assert!(work.path("cur_stats_history.csv").is_file());
    let alone = work
        .perfgate()
        .args(["report", "cur.json", "-f", "md"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&alone.stdout).contains("trials alone"));
    work.write("broken.json", "{\"format\": \"perfgate/result/v1\", ");
    let out = work
        .perfgate()
        .args(["report", "broken.json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(err.contains("broken.json:1:"), "{err}");
}
