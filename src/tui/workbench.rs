//! Starting the workbench for real: config or demo, theme, keys, logging, the terminal,
//! input and signal tasks; then the loop; then a clean exit whatever happened.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use crossterm::event::EventStream;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::editor::{EditorCommand, PromptFile};
use super::effects::event_loop::{self, Screen};
use super::effects::executor::Executor;
use super::input::keymap::Keymap;
use super::model::app::App;
use super::model::msg::Msg;
use super::terminal::{self, TerminalGuard, Tui};
use super::theme::{self, Theme};
use crate::config;
use crate::demo::Demo;
use crate::target::{ProviderKind, Target};

/// Options of the interactive workbench.
#[derive(Debug, Default, Clone)]
pub struct TuiOptions {
    /// Config file (else the usual lookup; else the demo).
    pub config: Option<PathBuf>,
    /// Theme name or path.
    pub theme: Option<String>,
    /// Force the demo targets (of this lineup) even when a config exists.
    pub demo: Option<crate::demo::Lineup>,
    /// `--sessions-dir`, if given.
    pub sessions_dir: Option<PathBuf>,
    /// `--blind`: start in blind mode.
    pub blind: bool,
}

/// Why the workbench could not start, or did not stop cleanly: one line for the user.
/// The command line reports it like a usage error (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkbenchError(pub String);

/// Run the workbench until the user quits.
pub async fn run(opts: TuiOptions) -> Result<u8, WorkbenchError> {
    let found = if opts.demo.is_some() {
        None
    } else {
        config::locate(opts.config.as_deref()).map_err(|e| WorkbenchError(e.to_string()))?
    };
    let cfg = match &found {
        Some(path) => Some(config::load(path).map_err(|e| WorkbenchError(e.to_string()))?),
        None => None,
    };
    let (theme, keymap) = look(opts.theme.as_deref(), cfg.as_ref())?;
    let demo = match &cfg {
        Some(_) => None,
        None => Some(
            Demo::start_with(opts.demo.unwrap_or_default())
                .await
                .map_err(|e| WorkbenchError(format!("cannot start the demo mock server: {e}")))?,
        ),
    };
    let (targets, status): (Vec<Target>, String) = match (&cfg, &demo) {
        (Some(c), _) => (c.targets.clone(), config_status(c)),
        (None, Some(d)) => (
            d.targets(),
            format!(
                "demo: built-in mock server on {} (no keys, no network; --config FILE for real targets)",
                d.addr()
            ),
        ),
        (None, None) => return Err(WorkbenchError("no targets".into())),
    };
    let mut app = App::new(targets, keymap, theme, status).with_blind(opts.blind);
    if let Some(c) = &cfg {
        app = app
            .with_prices(c.prices.clone())
            .with_budget(c.budget_usd)
            .with_confirm_above(c.confirm_above_usd)
            .with_variants(&c.variants)
            .with_limits(crate::workflows::experiment::limits::Limits {
                per_target: c.max_concurrency.clone(),
                ..Default::default()
            });
    }
    if let Some(d) = &demo {
        app = app.with_brief_status(format!("demo: mock server on {}", d.addr()));
        app = app.with_demo_urls(
            ProviderKind::ALL
                .into_iter()
                .map(|k| (k, d.base_url(k)))
                .collect(),
        );
    }
    // Every send is saved, the demo's too.
    let sessions = crate::session::store::sessions_dir(
        opts.sessions_dir.as_deref(),
        cfg.as_ref().and_then(|c| c.sessions_dir.as_deref()),
    );
    let executor = Executor::with_sessions(app.prices().clone(), Some(sessions));
    let result = drive(&mut app, executor, |_| None).await;
    if let Some(d) = demo {
        d.stop().await;
    }
    // The status bar had room for one; all of them stay on the terminal after the workbench.
    if let Some(c) = &cfg
        && c.warnings.len() > 1
    {
        for w in &c.warnings {
            let _ = writeln!(io::stderr(), "warning: {}: {w}", c.path.display());
        }
    }
    result
}

/// The status bar text for a config: the first warning (the most important: a key sent in
/// clear text comes before a moving model alias) and how many more, before the file's path,
/// which can be long enough to push anything after it off the screen.
pub fn config_status(c: &config::Config) -> String {
    let path = format!("config: {}", c.path.display());
    match c.warnings.as_slice() {
        [] => path,
        [one] => format!("warning: {one} · {path}"),
        [first, rest @ ..] => format!(
            "warning 1 of {}: {first} (all are printed when Prism exits) · {path}",
            rest.len() + 1
        ),
    }
}

/// The theme (`--theme`, else the config's, else dark; at the colour depth the environment
/// asks for, monochrome under `NO_COLOR`) and
/// the keys (defaults with the config's overrides).
pub fn look(
    theme_flag: Option<&str>,
    cfg: Option<&config::Config>,
) -> Result<(Theme, Keymap), WorkbenchError> {
    let theme_name = theme_flag
        .map(str::to_string)
        .or_else(|| cfg.and_then(|c| c.theme.clone()))
        .unwrap_or_else(|| "dark".into());
    let depth = theme::ColorDepth::from_env().map_err(WorkbenchError)?;
    let theme = theme::load(&theme_name)
        .map_err(|e| WorkbenchError(e.to_string()))?
        .with_depth(depth);
    let mut keymap = Keymap::default();
    for (mode, action, chords) in cfg.iter().flat_map(|c| c.keys.iter()) {
        keymap.rebind(*mode, *action, chords);
    }
    Ok((theme, keymap))
}

/// The terminal side shared by every workbench screen (the workbench, a replay, a
/// re-run): logging, signals, raw mode, the input task, the loop over `app`, and
/// restoration whatever happened. `feed` gets the loop's sender once it exists, for a
/// task that sends the app messages of its own (a replay's player); that task is
/// stopped when the loop ends.
///
/// Returns the exit status: 0 when the user quit, `128 + n` when signal `n` ended the
/// workbench (143 for SIGTERM, 129 SIGHUP, 130 SIGINT, 131 SIGQUIT), as a shell reports
/// a process the signal killed. Ctrl+C is a key in raw mode, not SIGINT: it quits with 0.
/// A terminal that hangs up, or whose input ends or fails, ends the workbench like
/// SIGHUP (129) even when no signal came. Whatever ended it other than the user is said
/// in one line on stderr, if stderr can still be written.
pub async fn drive(
    app: &mut App,
    mut executor: Executor,
    feed: impl FnOnce(&UnboundedSender<Msg>) -> Option<JoinHandle<()>>,
) -> Result<u8, WorkbenchError> {
    let log = crate::logging::init("PRISM_LOG").ok();

    terminal::install_panic_hook();
    let mut signals =
        terminal::termination_signals().map_err(|e| WorkbenchError(format!("cannot watch signals: {e}")))?;
    let (guard, tui) =
        TerminalGuard::enter().map_err(|e| WorkbenchError(format!("cannot set up the terminal: {e}")))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    // The first cause decides the exit status and the line on stderr; the loop only
    // learns "quit".
    let ending = Arc::new(Ending::default());
    let signal_tx = tx.clone();
    let signal_ending = Arc::clone(&ending);
    let signal_task = tokio::spawn(async move {
        while let Some(name) = signals.recv().await {
            signal_ending.note(terminal::exit_status(name), format!("{name} received"));
            if signal_tx.send(Msg::Signal(name)).is_err() {
                break;
            }
        }
    });
    let hang_up_task = match terminal::hang_up() {
        Ok(hung_up) => {
            let (tx, ending) = (tx.clone(), Arc::clone(&ending));
            Some(tokio::spawn(async move {
                hung_up.await;
                ending.lose_terminal(&tx, "the terminal hung up".into());
            }))
        }
        Err(e) => {
            // Only a terminal that cannot be watched; SIGHUP and input errors still end it.
            tracing::warn!("cannot watch the terminal for a hang-up: {e}");
            None
        }
    };
    let mut screen = RealScreen {
        tui,
        guard,
        input: Input::spawn(tx.clone(), Arc::clone(&ending)),
        tx: tx.clone(),
        ending: Arc::clone(&ending),
    };
    let feeder = feed(&tx);
    // The loop returns once streams have recorded how they ended and the session has
    // reached the disk, before the terminal is handed back.
    let result = event_loop::run(&mut screen, app, &mut executor, &tx, &mut rx).await;
    if let Some(f) = feeder {
        f.abort();
    }
    // With its terminal gone, crossterm's reader can be stuck inside a poll that never
    // returns (it retries a read at end of file for ever, on a runtime thread): waiting for
    // it would keep the workbench alive, spinning, for good. It is left behind instead; the
    // process ends without it.
    if ending.get().0 == HUNG_UP {
        screen.input.abandon();
    } else {
        screen.input.stop().await;
    }
    signal_task.abort();
    if let Some(task) = hang_up_task {
        task.abort();
    }
    let restored = screen.guard.restore();
    let RealScreen { mut tui, .. } = screen;
    // Dropping a ratatui terminal whose cursor it hid shows the cursor, and on failure
    // prints with `eprintln!`, which panics when stderr is the terminal that went away.
    if tui.show_cursor().is_err() {
        std::mem::forget(tui);
    }
    let (status, why) = ending.get();
    if let Some(why) = why {
        // stderr may be the terminal that went away: a failed write is not worth a panic.
        let _ = writeln!(io::stderr(), "prism: {why}; the workbench closed");
    }
    if let Some(log) = log {
        tracing::info!("workbench closed");
        if log.errors_logged() {
            let _ = writeln!(
                io::stderr(),
                "prism: errors were logged to {}",
                log.path().display()
            );
        }
    }
    result.map_err(|e| WorkbenchError(format!("the workbench stopped: {e}")))?;
    // A terminal that hung up has nothing left to restore.
    if status != HUNG_UP {
        restored.map_err(|e| WorkbenchError(format!("cannot restore the terminal: {e}")))?;
    }
    Ok(status)
}

/// The exit status after the terminal hung up: SIGHUP's, whether or not the signal came.
const HUNG_UP: u8 = 129;

/// Why the workbench is ending when the user did not ask: the first cause noted wins.
#[derive(Debug, Default)]
struct Ending {
    status: AtomicU8,
    why: OnceLock<String>,
}

impl Ending {
    fn note(&self, status: u8, why: String) {
        if self
            .status
            .compare_exchange(0, status, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let _ = self.why.set(why);
        }
    }

    /// The terminal is gone: note why and ask the loop to quit, as SIGHUP would.
    fn lose_terminal(&self, tx: &UnboundedSender<Msg>, why: String) {
        tracing::warn!("{why}");
        self.note(HUNG_UP, why);
        let _ = tx.send(Msg::Signal("SIGHUP"));
    }

    /// The exit status (0 when nothing was noted) and the cause.
    fn get(&self) -> (u8, Option<&str>) {
        (
            self.status.load(Ordering::SeqCst),
            self.why.get().map(String::as_str),
        )
    }
}

/// How long stopping the terminal reader may take before it counts as stuck.
const INPUT_STOP_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Reads terminal events on a task; stopped while an external editor owns the terminal.
struct Input {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Input {
    fn spawn(tx: UnboundedSender<Msg>, ending: Arc<Ending>) -> Self {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut events = EventStream::new();
            loop {
                // Stopping comes first: once the terminal is gone, crossterm's reader may
                // hold its lock for good, and a stop must not wait on it.
                tokio::select! {
                    biased;
                    () = token.cancelled() => break,
                    ev = events.next() => match ev {
                        Some(Ok(e)) => {
                            if tx.send(Msg::Term(e)).is_err() {
                                break;
                            }
                        }
                        // A wake-up left by an earlier stream (before the editor ran),
                        // not a failure.
                        Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                        // Nothing more will come: waiting on would leave a workbench
                        // nobody can reach running for ever.
                        Some(Err(e)) => {
                            ending.lose_terminal(&tx, format!("cannot read the terminal: {e}"));
                            break;
                        }
                        None => {
                            ending.lose_terminal(&tx, "the terminal's input ended".into());
                            break;
                        }
                    },
                }
            }
        });
        Self { stop, task }
    }

    /// Stop reading and wait until the reader has let go of the terminal. A reader that
    /// does not stop within [`INPUT_STOP_GRACE`] is stuck inside crossterm and abandoned.
    async fn stop(&mut self) {
        self.stop.cancel();
        if tokio::time::timeout(INPUT_STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("the terminal reader did not stop within {INPUT_STOP_GRACE:?}; left behind");
            self.task.abort();
        }
    }

    /// Stop reading without waiting: the terminal is gone and the reader may never return.
    fn abandon(&mut self) {
        self.stop.cancel();
        self.task.abort();
    }
}

struct RealScreen {
    tui: Tui,
    guard: TerminalGuard,
    input: Input,
    tx: UnboundedSender<Msg>,
    ending: Arc<Ending>,
}

impl Screen for RealScreen {
    fn frame(&mut self, app: &mut App) -> io::Result<()> {
        // A panic in another thread restored the terminal; drawing now would paint over
        // the shell, so stop here and let the error reach the user.
        if !terminal::is_entered() {
            return Err(io::Error::other(
                "a background task crashed and the terminal was restored (see the log)",
            ));
        }
        // Terminals that support it show the frame at once instead of mid-paint.
        crossterm::queue!(self.tui.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.tui.frame(app);
        crossterm::execute!(self.tui.backend_mut(), EndSynchronizedUpdate)?;
        drawn
    }

    fn edit(&mut self, text: &str) -> Result<String, String> {
        let editor = EditorCommand::from_env(&|var| std::env::var(var).ok())?;
        let file = PromptFile::create(text)?;
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(self.input.stop()));
        let result = self
            .guard
            .suspend()
            .map_err(|e| e.to_string())
            .and_then(|()| editor.run(file.path()));
        let resumed = self.guard.resume(&mut self.tui);
        self.input = Input::spawn(self.tx.clone(), Arc::clone(&self.ending));
        resumed.map_err(|e| format!("cannot restore the terminal: {e}"))?;
        result?;
        file.read()
    }

    fn copy(&mut self, text: &str) -> io::Result<()> {
        // OSC 52 goes through the terminal itself, so it works over SSH too.
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let out = self.tui.backend_mut();
        write!(out, "\x1b]52;c;{encoded}\x07")?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_bar_leads_with_the_first_warning_and_counts_the_rest() {
        let target = |name: &str, url: &str| {
            format!(
                "[[target]]\nname = \"{name}\"\nprovider = \"openai-compatible\"\nmodel = \"m:latest\"\nbase_url = \"{url}\"\napi_key_env = \"K\"\n"
            )
        };
        let path = std::path::Path::new("/etc/prism.toml");
        let clean = config::parse(&target("a", "https://x.example/v1").replace(":latest", ""), path).unwrap();
        assert_eq!(config_status(&clean), "config: /etc/prism.toml");
        let one = config::parse(&target("a", "https://x.example/v1"), path).unwrap();
        assert!(config_status(&one).starts_with("warning: target `a`: model `m:latest`"));
        let c = config::parse(
            &format!(
                "{}{}",
                target("a", "https://x.example/v1"),
                target("lan", "http://10.1.2.3/v1")
            ),
            path,
        )
        .unwrap();
        let s = config_status(&c);
        assert!(
            s.starts_with("warning 1 of 3: target `lan`: `base_url` is http:// to 10.1.2.3"),
            "{s}"
        );
        assert!(
            s.ends_with("(all are printed when Prism exits) · config: /etc/prism.toml"),
            "{s}"
        );
    }
}
