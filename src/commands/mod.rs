//! The commands, one file each, and the layer where perfgate talks to its user: each takes
//! domain options (never clap types), prints what the user should see, and returns an
//! `Outcome` or a `Failure` for `main` to turn into the exit code. Nothing below this layer
//! prints; the progress line (`progress`) is an observer of the engine's events.

pub mod abort;
pub mod baseline;
pub mod capacity;
pub mod check;
pub mod compare;
pub mod failure;
pub mod gate;
pub mod import;
pub mod init;
pub mod progress;
pub mod report;
pub mod resources;
pub mod run;
pub mod validate;

pub use failure::{Failure, Outcome};

/// A command with its options, as the command line asked for it.
#[derive(Debug, Clone)]
pub enum Command {
    Run(run::RunOptions),
    Check(check::CheckOptions),
    Compare(compare::CompareOptions),
    Baseline(baseline::BaselineCommand),
    Validate(validate::ValidateOptions),
    Capacity(capacity::CapacityOptions),
    Report(report::ReportOptions),
    Import(import::ImportOptions),
    Init(init::InitOptions),
    /// Text made from the command line's own definition (the shell completions), to print.
    Print(String),
}

/// Carries out `command`.
pub async fn execute(command: Command) -> Result<Outcome, Failure> {
    match command {
        Command::Run(o) => run::run(o).await,
        Command::Check(o) => check::check(o).await,
        Command::Compare(o) => compare::compare(o).await,
        Command::Baseline(c) => baseline::baseline(c),
        Command::Validate(o) => validate::validate(o),
        Command::Capacity(o) => capacity::capacity(o).await,
        Command::Report(o) => report::report(o),
        Command::Import(o) => import::import(o),
        Command::Init(o) => init::init(o),
        Command::Print(text) => {
            print!("{text}");
            Ok(Outcome::Done)
        }
    }
}
