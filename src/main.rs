//! `prism` binary: parse the command line and hand over to the library.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// mimalloc rather than glibc's malloc: a stream allocates a string per token on one
/// thread and frees it on another, and glibc returned and re-faulted those pages often
/// enough that zeroing them was a quarter of a long stream's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    // A panic must still reach the bounded shutdown below: unwinding past the runtime
    // would drop it, and dropping waits for every runtime thread with no limit.
    let headless = cli.is_headless_run();
    let command = async move {
        if headless {
            // A panic inside is printed by the hook and ends the task, as below.
            tokio::spawn(prism::cli::dispatch(cli)).await.unwrap_or(PANICKED)
        } else {
            prism::cli::dispatch(cli).await
        }
    };
    let run = std::panic::AssertUnwindSafe(|| runtime.block_on(command));
    let status = std::panic::catch_unwind(run).unwrap_or(PANICKED);
    // Everything worth waiting for was awaited by the command; a task stuck on a terminal
    // that went away (crossterm's reader can spin inside a poll that never returns) must
    // not keep the process alive. Tokio's shutdown can still wait on such a runtime
    // thread, so a watchdog ends the process with the command's status if it does.
    std::thread::spawn(move || {
        std::thread::sleep(2 * SHUTDOWN);
        std::process::exit(i32::from(status));
    });
    runtime.shutdown_timeout(SHUTDOWN);
    ExitCode::from(status)
}

/// The status of a command that panicked (the panic message is already on stderr).
const PANICKED: u8 = 101;

/// How long exiting waits for background tasks the command left behind.
const SHUTDOWN: Duration = Duration::from_secs(1);
