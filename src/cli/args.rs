//! clap's definitions of each command's arguments, and the conversions of the shared ones
//! (run, gate, publish, formats) into the commands' options.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::commands::gate::{BaselineRef, GateOptions, PublishOptions};
use crate::commands::run::RunOptions;
use crate::commands::shard::ShardOptions;
use crate::config::Overrides;
use crate::publish::webhook;
use crate::report;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where the service listens [default: the HAR's host or the OpenAPI document's first
    /// server, else http://127.0.0.1:8080].
    #[arg(long)]
    pub base_url: Option<String>,
    /// Start the scenarios from a browser's recorded session (HAR 1.2): one per page.
    #[arg(long, value_name = "FILE", conflicts_with = "from_openapi")]
    pub from_har: Option<PathBuf>,
    /// Start the scenarios from an OpenAPI 3.0/3.1 document (JSON or YAML): one step per GET
    /// operation, a scenario per tag.
    #[arg(long, value_name = "FILE")]
    pub from_openapi: Option<PathBuf>,
    /// --from-har: keep every header the browser sent (secrets still read from the
    /// environment).
    #[arg(long, requires = "from_har")]
    pub keep_headers: bool,
    /// --from-har: the requests to other hosts in a profile of their own each,
    /// perfgate.HOST.toml (a profile has one target); without it they are only listed.
    #[arg(long, requires = "from_har")]
    pub all_hosts: bool,
    /// --from-har: keep requests for scripts, styles, images and fonts.
    #[arg(long, requires = "from_har")]
    pub include_static: bool,
    /// --from-har: one scenario for the whole recording instead of one per page.
    #[arg(long, requires = "from_har")]
    pub one_scenario: bool,
    /// The command that starts the service (perfgate starts and stops it).
    #[arg(long)]
    pub start: Option<String>,
    /// The path polled until the service answers (also the starter scenario's step).
    #[arg(long, default_value = "/")]
    pub ready: String,
    /// The profile's name [default: the directory's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The action the workflow uses.
    #[arg(long, default_value = "perfgate/perfgate@main")]
    pub action: String,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// The repository to write into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The files' format.
    #[arg(value_enum)]
    pub format: ImportFormat,
    /// The files, one per trial (several runs of one test: several trials).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the result.
    #[arg(short, long, default_value = "results/current.json")]
    pub output: PathBuf,
    /// The profile name; imports compare when their names are equal [default: the tool's].
    #[arg(long)]
    pub name: Option<String>,
    /// No summary table.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The formats `perfgate import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// The NDJSON of `k6 run --out json=FILE` (every request: exact histograms).
    #[value(name = "k6-json")]
    K6Json,
    /// Locust's `--json-file` (per-endpoint response times at Locust's resolution).
    #[value(name = "locust-json")]
    LocustJson,
    /// k6's end-of-test summary (`--summary-export` or `handleSummary`): some statistics only.
    #[value(name = "k6-summary")]
    K6Summary,
    /// Artillery 2's `--output` report: counters and summaries only.
    Artillery,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The result to render.
    #[arg(default_value = "results/current.json")]
    pub result: PathBuf,
    /// Compare with this stored baseline (baselines/NAME.json) [default: the result alone].
    #[arg(short, long)]
    pub baseline: Option<String>,
    /// Compare with this result file.
    #[arg(long, conflicts_with = "baseline")]
    pub baseline_file: Option<PathBuf>,
    /// Where named baselines are stored.
    #[arg(long, default_value = "baselines")]
    pub baselines_dir: PathBuf,
    /// The gate's rules [default: thresholds.toml if it exists, else built-in defaults].
    #[arg(short, long)]
    pub thresholds: Option<PathBuf>,
    /// Compare even when the profiles or load sizes differ.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write here instead of standard output; for csv, the files' prefix (PREFIX_stats.csv,
    /// PREFIX_stats_history.csv, PREFIX_failures.csv) [default: the result's path without .json].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Where to write the result (the curve and the capacity).
    #[arg(short, long, default_value = "results/capacity.json")]
    pub output: PathBuf,
    /// A [capacity] setting, replacing the profile's: `p95=200ms`, `error_rate=1%`, `start=10`,
    /// `step=x2`, `hold=8s`, `budget=100s`, `resolution=10%`, … (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = capacity_setting)]
    pub slo: Vec<(String, String)>,
    /// Send the load to this URL instead of the profile's target.base_url.
    #[arg(long, env = "PERFGATE_BASE_URL")]
    pub base_url: Option<String>,
    /// Start a fresh target for every level (default: start it once and keep it).
    #[arg(long)]
    pub restart_per_level: bool,
    /// Engine worker threads (default: one per core).
    #[arg(long, env = "PERFGATE_WORKERS")]
    pub workers: Option<usize>,
    /// No progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `KEY=VALUE` for `--slo`, with KEY one of `[capacity]`'s settings.
fn capacity_setting(s: &str) -> Result<(String, String), String> {
    let keys = crate::config::CAPACITY_KEYS;
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE; for example p95=200ms"))?;
    let k = k.trim();
    if !keys.contains(&k) {
        return Err(format!(
            "{k:?} is not a [capacity] setting; one of {}",
            keys.join(", ")
        ));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// The gate's rules (checked too when the file exists or is given).
    #[arg(short, long)]
    pub thresholds: Option<PathBuf>,
}

/// Which baseline to compare with, and under which rules.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// Name of the stored baseline (baselines/NAME.json).
    #[arg(short, long, default_value = "main")]
    pub baseline: String,
    /// Compare with this result file instead of a stored baseline.
    #[arg(long, conflicts_with = "baseline")]
    pub baseline_file: Option<PathBuf>,
    /// Where named baselines are stored.
    #[arg(long, default_value = "baselines")]
    pub baselines_dir: PathBuf,
    /// The gate's rules [default: thresholds.toml if it exists, else built-in defaults].
    #[arg(short, long)]
    pub thresholds: Option<PathBuf>,
    /// Compare even when the profiles or load sizes differ.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// No baseline: judge only the rules that need none (absolute limits, stages against
    /// stages, flows' limits, recovery).
    #[arg(long, conflicts_with = "baseline_file")]
    pub no_baseline: bool,
}

/// Where to publish the verdict.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Post the report as a sticky pull-request comment, append it to the job summary and
    /// annotate failures (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL).
    #[arg(long)]
    pub github: bool,
    /// The pull request to comment on (default: from GITHUB_EVENT_PATH).
    #[arg(long)]
    pub pr: Option<u64>,
    /// Post the verdict to this chat webhook (a secret: never printed).
    #[arg(long, env = "PERFGATE_WEBHOOK_URL", hide_env_values = true)]
    pub webhook: Option<String>,
    /// Webhook payload: Slack or Discord recognised by the URL, generic JSON otherwise.
    #[arg(long, value_enum, default_value = "auto")]
    pub webhook_format: WebhookFormat,
    /// Time limit for each destination, retries included.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub publish_timeout: std::time::Duration,
    /// Exit 4 when publishing fails (by default a failure is a warning).
    #[arg(long)]
    pub require_publish: bool,
}

/// The webhook payload formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookFormat {
    /// Slack or Discord when the URL is theirs, generic JSON otherwise.
    Auto,
    Slack,
    Discord,
    Json,
}

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A terminal table.
    Table,
    /// Markdown, as the pull-request comment shows it.
    Md,
    /// perfgate/compare/v1 JSON.
    Json,
    /// JUnit XML, one test case per endpoint × metric.
    Junit,
    /// One self-contained HTML page with charts (no script, no network).
    Html,
    /// Locust-compatible CSV: _stats.csv (with `report`: also _stats_history.csv and
    /// _failures.csv).
    Csv,
}

impl From<PublishArgs> for PublishOptions {
    fn from(a: PublishArgs) -> Self {
        PublishOptions {
            to: crate::publish::Options {
                github: a.github,
                pr: a.pr,
                webhook: a.webhook.filter(|w| !w.trim().is_empty()),
                webhook_format: match a.webhook_format {
                    WebhookFormat::Auto => webhook::Format::Auto,
                    WebhookFormat::Slack => webhook::Format::Slack,
                    WebhookFormat::Discord => webhook::Format::Discord,
                    WebhookFormat::Json => webhook::Format::Json,
                },
                timeout: a.publish_timeout.min(std::time::Duration::from_secs(3600)),
            },
            require: a.require_publish,
        }
    }
}

impl From<ImportFormat> for crate::import::Format {
    fn from(f: ImportFormat) -> Self {
        match f {
            ImportFormat::K6Json => crate::import::Format::K6Json,
            ImportFormat::LocustJson => crate::import::Format::LocustJson,
            ImportFormat::K6Summary => crate::import::Format::K6Summary,
            ImportFormat::Artillery => crate::import::Format::Artillery,
        }
    }
}

impl From<ReportFormat> for report::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Table => report::Format::Table,
            ReportFormat::Md => report::Format::Md,
            ReportFormat::Json => report::Format::Json,
            ReportFormat::Junit => report::Format::Junit,
            ReportFormat::Html => report::Format::Html,
            ReportFormat::Csv => report::Format::Csv,
        }
    }
}

impl From<GateArgs> for GateOptions {
    fn from(g: GateArgs) -> Self {
        GateOptions {
            baseline: match (g.no_baseline, g.baseline_file) {
                (true, _) => BaselineRef::None,
                (false, Some(f)) => BaselineRef::File(f),
                (false, None) => BaselineRef::Named {
                    name: g.baseline,
                    dir: g.baselines_dir,
                },
            },
            thresholds: g.thresholds,
            allow_mismatch: g.allow_mismatch,
        }
    }
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// The result to judge.
    #[arg(short, long, default_value = "results/current.json")]
    pub current: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Directory for report.html and the Locust-compatible CSV files.
    #[arg(long, default_value = "results")]
    pub report_dir: PathBuf,
    /// Write no report.html or CSV files.
    #[arg(long)]
    pub no_report_files: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Directory for report.md, report.json, junit.xml, report.html and the CSV files.
    #[arg(long, default_value = "results")]
    pub report_dir: PathBuf,
    /// When a check is inconclusive after the planned trials, run more trials of the current
    /// side, up to this many in all, and decide again (replaces load.max_trials).
    #[arg(long, env = "PERFGATE_MAX_TRIALS")]
    pub max_trials: Option<u32>,
    /// Gate another tool's result files instead of running the profile (as `perfgate import`
    /// reads them; one file per trial).
    #[arg(long, value_enum, value_name = "FORMAT", requires = "files")]
    pub from: Option<ImportFormat>,
    /// The files for --from.
    #[arg(requires = "from")]
    pub files: Vec<PathBuf>,
    /// Gate the merge of a split run's shards (`run --shard I/N` results) instead of running
    /// the profile: `perfgate merge` and `perfgate compare` in one.
    #[arg(long, value_name = "SHARD", num_args = 1.., conflicts_with = "from")]
    pub merge: Vec<PathBuf>,
}

/// `perfgate ab`: two builds of the service, one profile, one runner.
#[derive(Debug, Args)]
pub struct AbArgs {
    /// How to start the base build (the profile's target.start for its trials), e.g.
    /// "../base/target/release/server --port 8080".
    #[arg(long, value_name = "CMD")]
    pub base: String,
    /// How to start the head build (the change under review).
    #[arg(long, value_name = "CMD")]
    pub head: String,
    /// The profile and its overrides; --output is where the head's result goes.
    #[command(flatten)]
    pub run: RunArgs,
    /// Where the base's result goes.
    #[arg(long, default_value = "results/base.json")]
    pub base_output: PathBuf,
    /// The gate's rules [default: thresholds.toml if it exists, else built-in defaults].
    #[arg(short, long)]
    pub thresholds: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Directory for report.md, report.json, junit.xml, report.html and the CSV files.
    #[arg(long, default_value = "results")]
    pub report_dir: PathBuf,
    /// When a check is inconclusive after the planned pairs of trials, run more pairs, up to
    /// this many in all, and decide again (replaces load.max_trials).
    #[arg(long, env = "PERFGATE_MAX_TRIALS")]
    pub max_trials: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Store a result as baseline NAME (atomically; never an incomplete result); several
    /// results of one profile are kept as the baseline's runs, so that the gate measures the
    /// noise between runs (3 are recommended).
    Save {
        name: String,
        /// The result(s) to store: separate runs of one profile.
        #[arg(default_value = "results/current.json", num_args = 1..)]
        results: Vec<PathBuf>,
        #[arg(long, default_value = "baselines")]
        dir: PathBuf,
    },
    /// List the stored baselines.
    List {
        #[arg(long, default_value = "baselines")]
        dir: PathBuf,
    },
    /// Describe baseline NAME and its endpoints.
    Show {
        name: String,
        #[arg(long, default_value = "baselines")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The load profile.
    #[arg(short, long, default_value = "perfgate.toml", env = "PERFGATE_PROFILE")]
    pub profile: PathBuf,
}

/// `perfgate run`: the run's arguments, and the rules that may stop it early.
#[derive(Debug, Args)]
pub struct RunCommandArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Rules whose `abort_on_fail` limits stop the run [default: thresholds.toml if it exists].
    #[arg(short, long)]
    pub thresholds: Option<PathBuf>,
    /// Run shard I of N of the load, I from 0 like JOB_COMPLETION_INDEX (`--shard 1/3`); the
    /// shards' results merge into one with `perfgate merge` [default: JOB_COMPLETION_INDEX of
    /// PERFGATE_SHARDS when both are set, else the whole load].
    #[arg(long, env = "PERFGATE_SHARD", value_name = "I/N")]
    pub shard: Option<String>,
    /// Begin the first trial at this instant (RFC 3339, UTC: 2026-12-02T21:00:00Z), so that the
    /// shards' stages line up; later trials follow at a fixed period.
    #[arg(long, env = "PERFGATE_START_AT", value_name = "RFC3339")]
    pub start_at: Option<String>,
    /// What every shard of one run shares [default: GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT, else
    /// taken from --start-at].
    #[arg(long, env = "PERFGATE_RUN_ID")]
    pub run_id: Option<String>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// The files `perfgate schema` describes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaFile {
    /// perfgate.toml.
    Profile,
    /// thresholds.toml.
    Thresholds,
}

/// `perfgate merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' results (`perfgate run --shard I/N -o …`), in any order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the merged result.
    #[arg(short, long, default_value = "results/current.json")]
    pub output: PathBuf,
    /// Merge even when shards are missing; the result is marked incomplete and names them.
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Where to write the result.
    #[arg(short, long, default_value = "results/current.json")]
    pub output: PathBuf,
    /// Send the load to this URL instead of the profile's target.base_url.
    #[arg(long, env = "PERFGATE_BASE_URL")]
    pub base_url: Option<String>,
    /// Closed model: number of users (replaces load.users).
    #[arg(long, env = "PERFGATE_USERS")]
    pub users: Option<u64>,
    /// Open model: iterations per second (replaces load.rate).
    #[arg(long, env = "PERFGATE_RATE")]
    pub rate: Option<f64>,
    /// Measured duration of each trial, e.g. 30s (replaces load.duration).
    #[arg(long, env = "PERFGATE_DURATION")]
    pub duration: Option<String>,
    /// Number of trials (replaces load.trials).
    #[arg(long, env = "PERFGATE_TRIALS")]
    pub trials: Option<u32>,
    /// Engine worker threads (default: one per core).
    #[arg(long, env = "PERFGATE_WORKERS")]
    pub workers: Option<usize>,
    /// No progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

impl From<RunArgs> for RunOptions {
    fn from(a: RunArgs) -> Self {
        RunOptions {
            profile: a.profile.profile,
            output: a.output,
            overrides: Overrides {
                base_url: a.base_url,
                users: a.users,
                rate: a.rate,
                duration: a.duration,
                trials: a.trials,
                max_trials: None,
                capacity: Vec::new(),
            },
            workers: a.workers,
            quiet: a.quiet,
            thresholds: None,
            shard: ShardOptions::default(),
        }
    }
}
