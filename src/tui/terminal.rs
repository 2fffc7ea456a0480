//! Terminal set-up and, above all, restoration; and noticing when the terminal is gone.
//!
//! Owns every terminal mode the workbench turns on (raw mode, alternate screen, mouse capture,
//! bracketed paste, kitty keyboard flags) and the three ways of getting them back off: the
//! [`TerminalGuard`] being dropped or restored, the panic hook from [`install_panic_hook`], and
//! the termination-signal watcher behind [`termination_signals`]. A shell left in raw mode on the
//! alternate screen is the worst failure a terminal program can have, so all three paths share
//! one process-wide record of what is on and undo it exactly once.
//!
//! Start-up order for the app: [`install_panic_hook`], then [`termination_signals`] (inside the
//! Tokio runtime), then [`TerminalGuard::enter`]. Registering the signal handlers before raw mode
//! is entered means there is no window in which SIGTERM or SIGHUP would kill the process with
//! the default action and leave the terminal raw.

use std::io::{self, IsTerminal, Stdout, Write};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

/// The ratatui terminal the workbench draws on.
pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// True while the modes of [`TerminalGuard::enter`] are on. Process-wide because the panic hook
/// and the signal watcher have no guard to ask; swapped to false by whoever restores first, so
/// restoration happens exactly once however many paths race for it.
static ENTERED: AtomicBool = AtomicBool::new(false);
/// Whether kitty keyboard flags were pushed, so restoring pops only what was pushed (an unmatched
/// pop would drop flags some outer program set).
static KEYBOARD_PUSHED: AtomicBool = AtomicBool::new(false);
/// Whether [`termination_signals`] has registered its handlers (checked, not enforced, by `enter`).
static SIGNALS_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Holds the terminal in the workbench's modes; restores it when dropped.
///
/// Only one guard can be entered at a time in a process: the modes are global to the terminal.
#[derive(Debug)]
pub struct TerminalGuard {
    /// Set by [`TerminalGuard::restore`] and [`TerminalGuard::suspend`]; cleared by `resume`.
    /// Drop restores only while this is false (and the global flag agrees).
    released: bool,
}

impl TerminalGuard {
    /// Raw mode, alternate screen, mouse capture and bracketed paste on; focus reporting left off
    /// (the workbench has no use for focus events and they would arrive as noise). Where
    /// `crossterm::terminal::supports_keyboard_enhancement()` says so, pushes the kitty keyboard
    /// flag `DISAMBIGUATE_ESCAPE_CODES` so Ctrl+Enter and Alt+Enter can be told from Enter.
    ///
    /// Returns the guard and a ratatui terminal over stdout. On any failure part-way, whatever was
    /// already turned on is turned off again before the error is returned.
    pub fn enter() -> io::Result<(TerminalGuard, Tui)> {
        if ENTERED.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the terminal is already in workbench mode",
            ));
        }
        if !SIGNALS_REGISTERED.load(Ordering::SeqCst) {
            tracing::warn!("entering raw mode before termination signals are handled");
        }
        enter_modes()?;
        let mut guard = TerminalGuard { released: false };
        match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(terminal) => Ok((guard, terminal)),
            Err(e) => {
                let _ = guard.restore();
                Err(e)
            }
        }
    }

    /// Undoes exactly what `enter` turned on: raw mode off first (so the lines below are written
    /// to a cooked terminal even if one fails), keyboard flags popped while still on the alternate
    /// screen (kitty keeps one flag stack per screen), paste and mouse off, alternate screen left,
    /// cursor shown. Every step is attempted; the first error is returned. Idempotent.
    pub fn restore(&mut self) -> io::Result<()> {
        self.released = true;
        restore_now()
    }

    /// Leaves the terminal to an external program (`$EDITOR`): everything `restore` does, but the
    /// guard expects [`TerminalGuard::resume`] next. Dropping a suspended guard does nothing.
    pub fn suspend(&mut self) -> io::Result<()> {
        self.restore()
    }

    /// Comes back after [`TerminalGuard::suspend`]: re-enters every mode and clears ratatui's
    /// buffers so the next draw repaints the whole screen (the external program drew over it).
    pub fn resume(&mut self, terminal: &mut Tui) -> io::Result<()> {
        if !ENTERED.load(Ordering::SeqCst) {
            enter_modes()?;
        }
        self.released = false;
        terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if !self.released {
            // Nowhere to report an error from drop; the terminal is as restored as it can be.
            let _ = restore_now();
        }
    }
}

/// True while the terminal is in workbench mode. Turns false when a panic on another thread has
/// restored it: the app should then quit rather than draw over the user's shell.
pub fn is_entered() -> bool {
    ENTERED.load(Ordering::SeqCst)
}

fn enter_modes() -> io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    // From here on, any failure path must restore, and so must the panic hook.
    ENTERED.store(true, Ordering::SeqCst);
    let result = enter_screen_modes();
    if result.is_err() {
        let _ = restore_now();
    }
    result
}

fn enter_screen_modes() -> io::Result<()> {
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    // The query needs raw mode (on by now) and times out by itself on terminals that stay silent;
    // an error only means "no enhancement".
    if crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false) {
        execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
        KEYBOARD_PUSHED.store(true, Ordering::SeqCst);
    }
    Ok(())
}

/// Restores the terminal if it is entered; a no-op otherwise. Safe from any thread.
fn restore_now() -> io::Result<()> {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut first_error: Option<io::Error> = None;
    let mut note = |r: io::Result<()>| {
        if let Err(e) = r {
            first_error.get_or_insert(e);
        }
    };
    note(crossterm::terminal::disable_raw_mode());
    let mut out = io::stdout();
    if KEYBOARD_PUSHED.swap(false, Ordering::SeqCst) {
        note(execute!(out, PopKeyboardEnhancementFlags));
    }
    note(execute!(out, DisableBracketedPaste, DisableMouseCapture));
    note(execute!(out, LeaveAlternateScreen, cursor::Show));
    note(out.flush());
    first_error.map_or(Ok(()), Err)
}

/// Chains a panic hook that restores the terminal (only if it is entered) before the previous
/// hook prints the message, so the message lands on the normal screen where the user can read
/// it. Works for a panic on any thread. Calling it more than once installs it once.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic inside one target's work is caught and becomes that pane's error;
            // the workbench carries on, so its screen must stay.
            if !crate::contain::active() {
                let _ = restore_now();
            }
            previous(info);
        }));
    });
}

/// The termination signals handled, with their numbers for the conventional `128 + n` exit code.
const SIGNALS: [(&str, i32); 4] = [("SIGTERM", 15), ("SIGHUP", 1), ("SIGINT", 2), ("SIGQUIT", 3)];

/// Termination signals (SIGTERM, SIGHUP, SIGINT, SIGQUIT) as a stream of their names, for the
/// app's event loop to turn into a clean quit (which drops the [`TerminalGuard`]).
///
/// Registers the handlers when called, replacing the default "terminate now" action, so call it
/// before [`TerminalGuard::enter`]. Must be called inside a Tokio runtime (an error otherwise);
/// the handlers are watched by a task on that runtime, so they are seen even while the app's own
/// task is busy. Two rules keep the terminal safe when the app cannot answer:
/// - if this stream has been dropped, a signal restores the terminal and exits the process;
/// - a second signal after one was delivered does the same (the user asked twice).
///
/// The forced exit uses status `128 + signal number`, as a shell reports a signal death.
pub fn termination_signals() -> io::Result<TerminationSignals> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let _context = runtime.enter();
    let kinds = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
    ];
    let mut watched = Vec::with_capacity(SIGNALS.len());
    for (kind, (name, number)) in kinds.into_iter().zip(SIGNALS) {
        watched.push((name, number, signal(kind)?));
    }
    SIGNALS_REGISTERED.store(true, Ordering::SeqCst);
    let (tx, rx) = mpsc::unbounded_channel();
    runtime.spawn(watch_signals(watched, tx));
    Ok(TerminationSignals { rx })
}

/// Names of termination signals as they arrive; see [`termination_signals`].
///
/// Implements [`futures_util::Stream`]; [`TerminationSignals::recv`] is the same without it.
#[derive(Debug)]
pub struct TerminationSignals {
    rx: mpsc::UnboundedReceiver<&'static str>,
}

impl TerminationSignals {
    /// The next signal's name (`"SIGTERM"`...), or `None` once the runtime is shutting down.
    pub async fn recv(&mut self) -> Option<&'static str> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for TerminationSignals {
    type Item = &'static str;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// The conventional exit status after termination signal `name` (`"SIGTERM"` → 143): `128 +`
/// its number, as a shell reports a process the signal killed. 143 for a name it does not know.
pub fn exit_status(name: &str) -> u8 {
    let number = SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(15, |(_, number)| *number);
    u8::try_from(128 + number).unwrap_or(143)
}

type Watched = (&'static str, i32, Signal);

async fn watch_signals(mut watched: Vec<Watched>, tx: mpsc::UnboundedSender<&'static str>) {
    let mut delivered = false;
    while let Some((name, number)) = next_signal(&mut watched).await {
        tracing::info!("received {name}");
        if delivered || tx.send(name).is_err() {
            let _ = restore_now();
            std::process::exit(128 + number);
        }
        delivered = true;
    }
}

/// The first of the watched signals to arrive; `None` when the runtime has shut them down.
async fn next_signal(watched: &mut [Watched]) -> Option<(&'static str, i32)> {
    std::future::poll_fn(|cx| {
        for (name, number, sig) in watched.iter_mut() {
            match sig.poll_recv(cx) {
                Poll::Ready(Some(())) => return Poll::Ready(Some((*name, *number))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// Resolves once the terminal hangs up: its pseudo-terminal's master side closed (the
/// `script`, tmux or SSH session that owned it went away) or the line dropped.
///
/// Why this is needed besides SIGHUP: the kernel sends SIGHUP on a hang-up only to the
/// session leader (and, when the leader exits, to the foreground group), so a workbench run
/// from a shell that survives the hang-up never hears of it. Reading the terminal does not
/// tell either: crossterm's reader retries a read that fails with EIO or returns 0 forever,
/// spinning a core, and its event stream never ends. A hung-up terminal reports an error and
/// a hang-up to `epoll`, so a registration for errors alone costs nothing until then (key
/// presses wake nothing).
///
/// Watches its own duplicate of standard input when that is the terminal, else of standard
/// output, else `/dev/tty`. Must be called inside a Tokio runtime; an error when there is no
/// terminal to watch.
pub fn hang_up() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    // Deprecated because a generic `T` could close its descriptor while registered; an
    // `OwnedFd` closes it only when dropped, which deregisters it first.
    #[allow(deprecated)]
    let watched = AsyncFd::with_interest(terminal_fd()?, Interest::ERROR)?;
    Ok(async move {
        loop {
            match watched.ready(Interest::ERROR).await {
                Ok(ready) if ready.ready().is_error() || ready.ready().is_read_closed() => return,
                Ok(mut ready) => ready.clear_ready(),
                // The reactor is shutting down: nobody is left to tell.
                Err(_) => std::future::pending::<()>().await,
            }
        }
    })
}

/// A new descriptor for the terminal the workbench runs in (see [`hang_up`]).
fn terminal_fd() -> io::Result<OwnedFd> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return std::os::fd::AsFd::as_fd(&stdin).try_clone_to_owned();
    }
    let stdout = io::stdout();
    if stdout.is_terminal() {
        return std::os::fd::AsFd::as_fd(&stdout).try_clone_to_owned();
    }
    Ok(std::fs::File::open("/dev/tty")?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_follow_the_shell_convention() {
        let got: Vec<u8> = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGWHAT"]
            .into_iter()
            .map(exit_status)
            .collect();
        assert_eq!(got, [143, 129, 130, 131, 143]);
    }
}
