//! The command line: clap's definitions of the arguments (`args`), and their conversion into
//! the commands' own options (`commands::Command`). Nothing here runs anything.

mod args;

use clap::{Parser, Subcommand};

use crate::commands::ab::AbOptions;
use crate::commands::baseline::BaselineCommand as Baseline;
use crate::commands::capacity::CapacityOptions;
use crate::commands::check::CheckOptions;
use crate::commands::compare::CompareOptions;
use crate::commands::gate::{BaselineRef, GateOptions};
use crate::commands::import::ImportOptions;
use crate::commands::init::{InitOptions, Source as InitSource};
use crate::commands::merge::MergeOptions;
use crate::commands::report::ReportOptions;
use crate::commands::run::RunOptions;
use crate::commands::shard::ShardOptions;
use crate::commands::validate::ValidateOptions;
use crate::commands::Command as Cmd;
use crate::config::Overrides;
pub use args::*;

#[derive(Debug, Parser)]
#[command(
    name = "perfgate",
    version = env!("PERFGATE_LONG_VERSION"),
    about = "A CI performance-regression gate for HTTP services"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour in tables: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorArg,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the load profile and write a result file.
    Run(RunCommandArgs),
    /// Run the profile, compare with the baseline, report; the command CI calls.
    Check(CheckArgs),
    /// Measure the base and the head build on this runner, their trials interleaved, and compare
    /// them: the design that the machine's drift cannot bias.
    Ab(AbArgs),
    /// Compare a result with a baseline and exit with the verdict.
    Compare(CompareArgs),
    /// Print the manual page (roff) of perfgate or of one command: `perfgate man check | man -l -`.
    Man {
        /// A command, e.g. check [default: perfgate itself, listing them all].
        command: Option<String>,
    },
    /// Print the JSON Schema of perfgate.toml or thresholds.toml, for editors that check TOML
    /// (taplo, Even Better TOML: a `#:schema` line at the top of the file names it).
    Schema {
        #[arg(value_enum)]
        file: SchemaFile,
    },
    /// Merge the results of a run's shards (`run --shard I/N`) into one result, exactly.
    Merge(MergeArgs),
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

impl Cli {
    /// The colour choice the command line made (`--color`).
    pub fn colour(&self) -> crate::commands::gate::ColourChoice {
        use crate::commands::gate::ColourChoice;
        match self.color {
            ColorArg::Auto => ColourChoice::Auto,
            ColorArg::Always => ColourChoice::Always,
            ColorArg::Never => ColourChoice::Never,
        }
    }

    /// The command to carry out, with its options.
    pub fn into_command(self) -> Cmd {
        match self.command {
            Command::Run(a) => Cmd::Run(RunOptions {
                thresholds: a.thresholds,
                shard: ShardOptions {
                    shard: a.shard,
                    start_at: a.start_at,
                    run_id: a.run_id,
                },
                ..a.run.into()
            }),
            Command::Man { command } => match man_page(command.as_deref()) {
                Ok(page) => Cmd::Print(page),
                Err(why) => Cmd::Invalid(why),
            },
            Command::Schema { file } => Cmd::Print(match file {
                SchemaFile::Profile => crate::config::raw::schema(),
                SchemaFile::Thresholds => crate::compare::rules::schema(),
            }),
            Command::Merge(a) => Cmd::Merge(MergeOptions {
                files: a.files,
                output: a.output,
                allow_partial: a.allow_partial,
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
                merge: a.merge,
            }),
            Command::Ab(a) => Cmd::Ab(AbOptions {
                run: {
                    let mut run: RunOptions = a.run.into();
                    run.overrides.max_trials = a.max_trials;
                    run
                },
                base_output: a.base_output,
                base_start: a.base,
                head_start: a.head,
                thresholds: a.thresholds,
                publish: a.publish.into(),
                report_dir: a.report_dir,
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
            Command::Init(a) => Cmd::Init(init_options(a)),
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
                BaselineCommand::Save { name, results, dir } => {
                    Baseline::Save { name, results, dir }
                }
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

/// `perfgate init`'s options: the profile's name defaults to the directory's.
fn init_options(a: InitArgs) -> InitOptions {
    InitOptions {
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
        from: match (a.from_har, a.from_openapi) {
            (Some(har), _) => Some(InitSource::Har(
                har,
                crate::scaffold::har::HarOptions {
                    keep_headers: a.keep_headers,
                    all_hosts: a.all_hosts,
                    include_static: a.include_static,
                    single: a.one_scenario,
                },
            )),
            (None, Some(doc)) => Some(InitSource::OpenApi(doc)),
            (None, None) => None,
        },
    }
}

/// The manual page of perfgate, or of `command` (as `perfgate-COMMAND`), from clap's own
/// definition of the command line (clap_mangen), so it cannot drift from `--help`.
fn man_page(command: Option<&str>) -> Result<String, String> {
    let top = <Cli as clap::CommandFactory>::command();
    let page = match command {
        None => top,
        Some(name) => match top.find_subcommand(name) {
            Some(sub) => {
                // clap names are 'static: one page per process.
                let full: &'static str = Box::leak(format!("perfgate-{name}").into_boxed_str());
                sub.clone().name(full)
            }
            None => {
                let names: Vec<&str> = top.get_subcommands().map(|c| c.get_name()).collect();
                return Err(format!(
                    "perfgate has no command `{name}`; its commands are: {}",
                    names.join(", ")
                ));
            }
        },
    };
    let mut out = Vec::new();
    // Rendering into memory cannot fail.
    let _ = clap_mangen::Man::new(page).render(&mut out);
    Ok(String::from_utf8_lossy(&out).into_owned())
}
