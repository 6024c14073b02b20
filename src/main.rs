//! The `perfgate` binary: parse, run, exit with the outcome's code.

use clap::Parser;

fn main() {
    let cli = perfgate::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(perfgate::exit::RUN_FAILED);
        }
    };
    let code = runtime.block_on(perfgate::cli::main(cli));
    drop(runtime);
    std::process::exit(code);
}
