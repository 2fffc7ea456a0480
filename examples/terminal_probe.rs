//! Enters the workbench's terminal modes and leaves them one way, so a test (or a person) can
//! check the terminal comes back as it was. Used by `tests/terminal_restore.rs` inside tmux.
//!
//! Usage: `terminal_probe MODE DIR` where MODE is one of
//! - `normal`: draw once and return (the guard is dropped);
//! - `panic`: a spawned thread panics; the panic hook must restore before the message prints;
//! - `signal`: draw until a termination signal arrives, then quit cleanly;
//! - `stuck`: block the main thread forever without reading signals (a hung app);
//! - `suspend`: suspend, record `stty -g` in `DIR/suspended`, resume, record it again in
//!   `DIR/resumed`, draw, return.
//!
//! After entering, it records `stty -g` (the raw settings) in `DIR/raw` and then its pid in
//! `DIR/ready`, so a driver knows when to signal it.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use prism::tui::terminal::{self, TerminalGuard, Tui};
use ratatui::widgets::{Block, Paragraph};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: terminal_probe normal|panic|signal|stuck|suspend DIR");
        return ExitCode::from(2);
    };
    terminal::install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terminal_probe: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(mode, Path::new(dir))) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("terminal_probe: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(mode: &str, dir: &Path) -> std::io::Result<u8> {
    // Handlers first, then raw mode: the documented start-up order.
    let mut signals = terminal::termination_signals()?;
    let (mut guard, mut tui) = TerminalGuard::enter()?;
    draw(&mut tui, mode)?;
    std::fs::write(dir.join("raw"), stty()?)?;
    std::fs::write(dir.join("ready"), std::process::id().to_string())?;
    match mode {
        "normal" => Ok(0),
        "panic" => {
            let worker = std::thread::spawn(|| panic!("probe panic in a worker thread"));
            let joined = worker.join();
            // The hook has restored by now; a correct app notices and quits.
            Ok(if joined.is_err() && !terminal::is_entered() {
                101
            } else {
                3
            })
        }
        "signal" => {
            let mut ticks = tokio::time::interval(Duration::from_millis(50));
            let mut frame = 0u64;
            loop {
                tokio::select! {
                    name = signals.recv() => {
                        drop(guard);
                        return Ok(match name {
                            Some("SIGHUP") => 128 + 1,
                            Some("SIGINT") => 128 + 2,
                            Some("SIGQUIT") => 128 + 3,
                            _ => 128 + 15,
                        });
                    }
                    _ = ticks.tick() => {
                        frame += 1;
                        draw(&mut tui, &format!("signal: busy, frame {frame}"))?;
                    }
                }
            }
        }
        "stuck" => {
            // An app that never gets back to its event loop: only the signal watcher's
            // second-signal rule can restore the terminal now. `signals` stays alive.
            let _still_listening = &signals;
            loop {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        "suspend" => {
            guard.suspend()?;
            std::fs::write(dir.join("suspended"), stty()?)?;
            guard.resume(&mut tui)?;
            draw(&mut tui, "resumed")?;
            std::fs::write(dir.join("resumed"), stty()?)?;
            Ok(0)
        }
        other => {
            drop(guard);
            eprintln!("terminal_probe: unknown mode {other}");
            Ok(2)
        }
    }
}

fn draw(tui: &mut Tui, text: &str) -> std::io::Result<()> {
    tui.draw(|frame| {
        let block = Block::bordered().title("terminal_probe");
        frame.render_widget(Paragraph::new(text.to_string()).block(block), frame.area());
    })?;
    Ok(())
}

/// `stty -g` of the controlling terminal (inherited as stdin).
fn stty() -> std::io::Result<Vec<u8>> {
    let out = Command::new("stty").arg("-g").stdin(Stdio::inherit()).output()?;
    Ok(out.stdout)
}
