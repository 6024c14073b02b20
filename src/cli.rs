//! Command-line interface: arguments, and the one place where outcomes become exit codes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::exit;

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
    Run(RunArgs),
    /// Run the profile, compare with the baseline, report; the command CI calls.
    Check(CheckArgs),
    /// Compare a result with a baseline and exit with the verdict.
    Compare(CompareArgs),
    /// Store, list and show named baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Check a profile (and thresholds) and list every problem with file:line.
    Validate(ValidateArgs),
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
    pub webhook_format: crate::publish::webhook::Format,
    /// Time limit for each destination, retries included.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub publish_timeout: std::time::Duration,
    /// Exit 4 when publishing fails (by default a failure is a warning).
    #[arg(long)]
    pub require_publish: bool,
}

impl PublishArgs {
    pub fn options(&self) -> crate::publish::Options {
        crate::publish::Options {
            github: self.github,
            pr: self.pr,
            webhook: self.webhook.clone().filter(|w| !w.trim().is_empty()),
            webhook_format: self.webhook_format,
            timeout: self
                .publish_timeout
                .min(std::time::Duration::from_secs(3600)),
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
    pub format: crate::report::Format,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Directory for report.md, report.json and junit.xml.
    #[arg(long, default_value = "results")]
    pub report_dir: PathBuf,
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

impl RunArgs {
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            base_url: self.base_url.clone(),
            users: self.users,
            rate: self.rate,
            duration: self.duration.clone(),
            trials: self.trials,
        }
    }
}

/// Runs the parsed command and returns the process exit code.
pub async fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(args) => crate::run::command(args).await,
        Command::Check(args) => crate::gate::check(args).await,
        Command::Compare(args) => crate::gate::compare(args).await,
        Command::Baseline(cmd) => crate::gate::baseline_command(cmd),
        Command::Validate(args) => validate(args),
    }
}

fn validate(args: ValidateArgs) -> i32 {
    let thresholds = args
        .thresholds
        .clone()
        .unwrap_or_else(|| PathBuf::from("thresholds.toml"));
    let rules = crate::compare::rules::Thresholds::load(&thresholds, args.thresholds.is_some());
    let path = args.profile.profile;
    let mut code = exit::PASS;
    match crate::config::load(&path, &Default::default()) {
        Ok(p) => {
            println!(
                "{} is valid: profile \"{}\", {} scenario{}, {} endpoint{}",
                path.display(),
                p.name,
                p.scenarios.len(),
                if p.scenarios.len() == 1 { "" } else { "s" },
                p.endpoints.len(),
                if p.endpoints.len() == 1 { "" } else { "s" },
            );
            if let Ok(rules) = &rules {
                if let Some(e) = rules.unmatched(&p.endpoints) {
                    eprint!("error: {e}");
                    code = exit::INVALID_INPUT;
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", e.to_string().trim_end());
            code = exit::INVALID_INPUT;
        }
    }
    match rules {
        Ok(r) if code == exit::PASS => {
            if let Some(p) = &r.path {
                println!(
                    "{} is valid: {} metric{} gated",
                    p.display(),
                    r.metrics.len(),
                    if r.metrics.len() == 1 { "" } else { "s" }
                );
            }
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("error: {}", e.to_string().trim_end());
            code = exit::INVALID_INPUT;
        }
    }
    code
}
