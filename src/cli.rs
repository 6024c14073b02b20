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
    /// Check a profile and list every problem with file:line.
    Validate(ProfileArgs),
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
        Command::Validate(args) => validate(args),
    }
}

fn validate(args: ProfileArgs) -> i32 {
    match crate::config::load(&args.profile, &Default::default()) {
        Ok(p) => {
            println!(
                "{} is valid: profile \"{}\", {} scenario{}, {} endpoint{}",
                args.profile.display(),
                p.name,
                p.scenarios.len(),
                if p.scenarios.len() == 1 { "" } else { "s" },
                p.endpoints.len(),
                if p.endpoints.len() == 1 { "" } else { "s" },
            );
            exit::PASS
        }
        Err(e) => {
            eprint!("error: {e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            exit::INVALID_INPUT
        }
    }
}
