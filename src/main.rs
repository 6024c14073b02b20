//! The `perfgate` binary: parse the command line, carry out the command, and turn its outcome
//! or failure into the exit code — the one place where that happens.

use clap::Parser;
use perfgate::exit;

fn main() {
    let cli = perfgate::cli::Cli::parse();
    perfgate::commands::gate::set_colour(cli.colour());
    let command = cli.into_command();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(exit::RUN_FAILED);
        }
    };
    let result = runtime.block_on(perfgate::commands::execute(command));
    // Tasks still running (a signal watcher, a worker past its end) are not waited for.
    runtime.shutdown_background();
    let code = match result {
        Ok(outcome) => outcome.exit_code(),
        Err(failure) => {
            eprintln!("error: {}", failure.to_string().trim_end());
            failure.exit_code()
        }
    };
    std::process::exit(code);
}
