//! `prism` binary: parse the command line and hand over to the library.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

fn main() -> ExitCode {
    let cli = prism::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let e = prism::commands::AppError::Runtime(e);
            eprintln!("prism: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let status = runtime.block_on(prism::cli::dispatch(cli));
    // Everything worth waiting for was awaited by the command; a blocking task stuck on a
    // terminal that went away must not keep the process alive.
    runtime.shutdown_timeout(SHUTDOWN);
    ExitCode::from(status)
}

/// How long exiting waits for background tasks the command left behind.
const SHUTDOWN: Duration = Duration::from_secs(1);
