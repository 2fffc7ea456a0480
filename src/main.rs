//! `prism` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

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
    ExitCode::from(runtime.block_on(prism::cli::dispatch(cli)))
}
