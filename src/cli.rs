//! The command line: clap's definitions of the arguments, and their conversion into the
//! commands' own options (`commands::Command`). Nothing here runs anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::baseline::BaselineCommand as Baseline;
use crate::commands::capacity::CapacityOptions;
use crate::commands::check::CheckOptions;
use crate::commands::compare::CompareOptions;
use crate::commands::gate::{BaselineRef, GateOptions, PublishOptions};
use crate::commands::import::ImportOptions;
use crate::commands::init::InitOptions;
use crate::commands::report::ReportOptions;
use crate::commands::run::RunOptions;
use crate::commands::validate::ValidateOptions;
use crate::commands::Command as Cmd;
use crate::config::Overrides;
use crate::publish::webhook;
use crate::report;

#[derive(Debug, Parser)]
#[command(
    name = "perfgate",
    version,
    about = "A CI performance-regression gate for HTTP services"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the load profile and write a result file.
    Run(RunCommandArgs),
    /// Run the profile, compare with the baseline, report; the command CI calls.
    Check(CheckArgs),
    /// Compare a result with a baseline and exit with the verdict.
    Compare(CompareArgs),
    /// Store, list and show named baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Check a profile (and thresholds) and list every problem with file:line.
    Validate(ValidateArgs),
    /// Find the highest load the service sustains within its SLO ([capacity] in the profile).
    Capacity(CapacityArgs),
    /// Render a result (alone, or against a baseline) after the fact: HTML, CSV, Markdown, …
    Report(ReportArgs),
    /// Turn another tool's result files (one per trial) into a perfgate result.
    Import(ImportArgs),
    /// Start a repository: perfgate.toml, thresholds.toml, a workflow, baselines/.
    Init(InitArgs),
    /// Print the shell's completion script (e.g. `perfgate completions bash > /etc/bash_completion.d/perfgate`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where the service listens.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
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
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Store a result as baseline NAME (atomically; never an incomplete result).
    Save {
        name: String,
        /// The result to store.
        #[arg(default_value = "results/current.json")]
        result: PathBuf,
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
        }
    }
}

impl Cli {
    /// The command to carry out, with its options.
    pub fn into_command(self) -> Cmd {
        match self.command {
            Command::Run(a) => Cmd::Run(RunOptions {
                thresholds: a.thresholds,
                ..a.run.into()
            }),
            Command::Check(a) => Cmd::Check(CheckOptions {
                run: {
                    let mut run: RunOptions = a.run.into();
                    run.overrides.max_trials = a.max_trials;
                    run
                },
                gate: a.gate.into(),
                publish: a.publish.into(),
                report_dir: a.report_dir,
                from: a.from.map(|f| (f.into(), a.files)),
            }),
            Command::Compare(a) => Cmd::Compare(CompareOptions {
                gate: a.gate.into(),
                publish: a.publish.into(),
                current: a.current,
                format: a.format.into(),
                output: a.output,
                report_dir: (!a.no_report_files).then_some(a.report_dir),
            }),
            Command::Completions { shell } => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                let mut out = Vec::new();
                clap_complete::generate(shell, &mut cmd, "perfgate", &mut out);
                Cmd::Print(String::from_utf8_lossy(&out).into_owned())
            }
            Command::Init(a) => Cmd::Init(InitOptions {
                name: a.name.unwrap_or_else(|| {
                    std::fs::canonicalize(&a.dir)
                        .ok()
                        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                        .unwrap_or_else(|| "service".into())
                }),
                dir: a.dir,
                base_url: a.base_url,
                start: a.start,
                ready: a.ready,
                action: a.action,
                force: a.force,
            }),
            Command::Import(a) => Cmd::Import(ImportOptions {
                format: a.format.into(),
                files: a.files,
                output: a.output,
                name: a.name,
                quiet: a.quiet,
            }),
            Command::Report(a) => Cmd::Report(ReportOptions {
                gate: GateOptions {
                    baseline: match (a.baseline, a.baseline_file) {
                        (_, Some(f)) => BaselineRef::File(f),
                        (Some(name), None) => BaselineRef::Named {
                            name,
                            dir: a.baselines_dir,
                        },
                        (None, None) => BaselineRef::None,
                    },
                    thresholds: a.thresholds,
                    allow_mismatch: a.allow_mismatch,
                },
                result: a.result,
                format: a.format.into(),
                output: a.output,
            }),
            Command::Baseline(b) => Cmd::Baseline(match b {
                BaselineCommand::Save { name, result, dir } => Baseline::Save { name, result, dir },
                BaselineCommand::List { dir } => Baseline::List { dir },
                BaselineCommand::Show { name, dir } => Baseline::Show { name, dir },
            }),
            Command::Validate(a) => Cmd::Validate(ValidateOptions {
                profile: a.profile.profile,
                thresholds: a.thresholds,
            }),
            Command::Capacity(a) => Cmd::Capacity(CapacityOptions {
                profile: a.profile.profile,
                output: a.output,
                overrides: Overrides {
                    base_url: a.base_url,
                    capacity: a.slo,
                    ..Overrides::default()
                },
                workers: a.workers,
                quiet: a.quiet,
                restart_per_level: a.restart_per_level,
            }),
        }
    }
}
