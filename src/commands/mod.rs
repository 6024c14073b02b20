//! The commands, one file each, and the layer where perfgate talks to its user: each takes
//! domain options (never clap types), prints what the user should see, and returns an
//! `Outcome` or a `Failure` for `main` to turn into the exit code. Nothing below this layer
//! prints; the progress line (`progress`) is an observer of the engine's events.

pub mod ab;
pub mod abort;
pub mod baseline;
pub mod capacity;
pub mod check;
pub mod compare;
pub mod failure;
pub mod gate;
pub mod import;
pub mod init;
pub mod merge;
pub mod progress;
pub mod report;
pub mod resources;
pub mod run;
pub mod shard;
pub mod validate;

pub use failure::{Failure, Outcome};

/// A command with its options, as the command line asked for it (one per process: its size
/// does not matter).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    Run(run::RunOptions),
    Check(check::CheckOptions),
    Ab(ab::AbOptions),
    Compare(compare::CompareOptions),
    Baseline(baseline::BaselineCommand),
    Validate(validate::ValidateOptions),
    Capacity(capacity::CapacityOptions),
    Report(report::ReportOptions),
    Import(import::ImportOptions),
    Init(init::InitOptions),
    Merge(merge::MergeOptions),
    /// Text made from the command line's own definition (the shell completions), to print.
    Print(String),
    /// A command line that names something that does not exist (exit 2 with the message).
    Invalid(String),
}

/// Carries out `command`.
pub async fn execute(command: Command) -> Result<Outcome, Failure> {
    match command {
        Command::Run(o) => run::run(o).await,
        Command::Check(o) => check::check(o).await,
        Command::Ab(o) => ab::ab(o).await,
        Command::Compare(o) => compare::compare(o).await,
        Command::Baseline(c) => baseline::baseline(c),
        Command::Validate(o) => validate::validate(o),
        Command::Capacity(o) => capacity::capacity(o).await,
        Command::Report(o) => report::report(o),
        Command::Import(o) => import::import(o),
        Command::Init(o) => init::init(o),
        Command::Merge(o) => merge::merge(o),
        Command::Invalid(why) => Err(Failure::Usage(why)),
        Command::Print(text) => {
            print!("{text}");
            Ok(Outcome::Done)
        }
    }
}
