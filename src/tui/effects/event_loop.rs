//! The UI loop: one owner of the model, drain-then-draw, frames paced by what changed.
//!
//! Input and resize redraw at once (capped at ~60 fps); stream events are coalesced into
//! at most ~30 frames a second; nothing redraws while idle (the elapsed-time tick runs
//! only while a request is in flight). Provider events never wait on keyboard input or
//! the other way round: both arrive on one channel, and a turn drains at most
//! `DRAIN_CAP` messages before drawing so typing stays live under a flood of tokens.
//!
//! The loop waits on nothing but its channel, its timers and its frames: the effects
//! `update` returns go to the [`Executor`], whose slow work (the disk, preparing a
//! re-run) answers later with a message. Quitting is the one wait, bounded (see
//! [`Executor::finish`]).
//!
//! Laying out new text (markdown, highlighted code) is the one cost that grows with the
//! stream rate, so it runs in passes of at most `LAYOUT_BUDGET`: a stream frame does
//! one, and while text is left over the loop runs more between frames, taking in
//! messages after each. A frame for input lays out nothing and draws what is laid out,
//! so a keystroke waits for at most the rest of one pass; text still appears at the
//! stream frame rate, as far as it is laid out, and is complete once the passes catch up.

use std::io;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::executor::{Executor, Next};
use crate::tui::model::app::App;
use crate::tui::model::msg::Msg;
use crate::tui::view;

const INPUT_FRAME: Duration = Duration::from_millis(16);
const STREAM_FRAME: Duration = Duration::from_millis(33);
const TICK: Duration = Duration::from_millis(100);
const DRAIN_CAP: usize = 4096;
/// Time one layout pass may take. A key pressed during a pass waits for the rest of it
/// and then a draw, so this bounds what layout adds to typing latency: 4 ms keeps it
/// well inside a 60 Hz frame on a busy machine. Much smaller budgets mean more passes,
/// and every pass that catches a pane up re-renders that pane's unfinished last block,
/// so a backlog would clear more slowly.
const LAYOUT_BUDGET: Duration = Duration::from_millis(4);

/// Something frames can be drawn on, and the other effects that need the terminal (every
/// screen is the executor's [`super::executor::Console`]).
pub trait Screen {
    /// Bring derived state and caches up to date for the current size and draw one frame
    /// of `app`.
    fn frame(&mut self, app: &mut App) -> io::Result<()>;
    /// Edit `text` in the external editor; the new text or a one-line reason it failed.
    fn edit(&mut self, _text: &str) -> Result<String, String> {
        Err("no external editor on this screen".into())
    }
    /// Put `text` on the clipboard.
    fn copy(&mut self, _text: &str) -> io::Result<()> {
        Ok(())
    }
}

/// Run until the user quits or `rx` closes, then finish what `executor` still runs (see
/// [`Executor::finish`]).
pub async fn run(
    screen: &mut impl Screen,
    app: &mut App,
    executor: &mut Executor,
    tx: &UnboundedSender<Msg>,
    rx: &mut UnboundedReceiver<Msg>,
) -> io::Result<()> {
    let result = until_quit(screen, app, executor, tx, rx).await;
    executor.finish().await;
    result
}

async fn until_quit(
    screen: &mut impl Screen,
    app: &mut App,
    executor: &mut Executor,
    tx: &UnboundedSender<Msg>,
    rx: &mut UnboundedReceiver<Msg>,
) -> io::Result<()> {
    app.set_layout_budget(Some(LAYOUT_BUDGET));
    app.now = Instant::now();
    screen.frame(app)?;
    app.dirty = false;
    // The tokenizer tables load only now, after the first frame, so they never delay it;
    // counts shown meanwhile are upper bounds, made exact by a frame once they are in.
    let cl100k = app
        .targets()
        .iter()
        .any(|t| crate::tokens::encoding_for(&t.model).0 == crate::tokens::Encoding::Cl100k);
    let mut tables = tokio::task::spawn_blocking(move || {
        crate::tokens::warm_up();
        if cl100k {
            crate::tokens::load(crate::tokens::Encoding::Cl100k);
        }
    });
    let mut tables_loading = true;
    // Frame pacing counts from frame starts. Input is paced against input alone: a key
    // right after a stream frame is drawn at once rather than waiting out an interval
    // it did not use.
    let mut last_frame = Instant::now();
    let mut last_input_frame = last_frame;
    let mut input_waiting = false;
    let mut next_frame: Option<Instant> = None;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            biased;
            m = rx.recv() => match m {
                Some(m) => Some(m),
                None => break,
            },
            () = sleep_until_opt(next_frame), if next_frame.is_some() => None,
            _ = &mut tables, if tables_loading => {
                tables_loading = false;
                app.dirty = true;
                None
            }
            _ = tick.tick(), if app.wants_tick() => Some(Msg::Tick(Instant::now())),
            // Layout left over: another pass, once pending messages had their turn.
            () = tokio::task::yield_now(), if app.layout_pending => None,
        };
        let mut urgent = false;
        if let Some(first) = first {
            let mut batch = vec![first];
            while batch.len() < DRAIN_CAP {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            app.now = Instant::now();
            for msg in batch {
                urgent |= matches!(msg, Msg::Term(_) | Msg::EditorClosed(_));
                for effect in app.update(msg) {
                    if executor.apply(effect, tx, screen) == Next::Quit {
                        return Ok(());
                    }
                }
            }
        }
        input_waiting |= urgent;
        if app.dirty {
            let due = if input_waiting {
                last_input_frame + INPUT_FRAME
            } else {
                last_frame + STREAM_FRAME
            };
            if Instant::now() >= due || next_frame.is_some_and(|n| Instant::now() >= n) {
                let started = Instant::now();
                app.now = started;
                // Input is drawn with the text laid out so far; what it would otherwise
                // wait for is laid out by the passes that follow.
                app.set_layout_budget(Some(if input_waiting {
                    Duration::ZERO
                } else {
                    LAYOUT_BUDGET
                }));
                screen.frame(app)?;
                app.set_layout_budget(Some(LAYOUT_BUDGET));
                app.dirty = false;
                last_frame = started;
                if input_waiting {
                    last_input_frame = started;
                    input_waiting = false;
                }
                next_frame = None;
                continue;
            }
            next_frame = Some(next_frame.map_or(due, |n| n.min(due)));
        } else {
            next_frame = None;
            input_waiting = false;
        }
        if app.layout_pending {
            view::lay_out(app);
            // What the pass laid out is shown by the next frame, paced like stream text.
            app.dirty = true;
            if next_frame.is_none() {
                next_frame = Some(last_frame + STREAM_FRAME);
            }
        }
    }
    Ok(())
}

async fn sleep_until_opt(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

impl<B: ratatui::backend::Backend> Screen for ratatui::Terminal<B>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    fn frame(&mut self, app: &mut App) -> io::Result<()> {
        app.refresh_derived();
        let size = self.size().map_err(io::Error::other)?;
        crate::tui::view::prepare(app, ratatui::layout::Rect::new(0, 0, size.width, size.height));
        self.draw(|f| {
            crate::tui::view::draw(f, app);
            // Last, so every colour drawn (syntax highlighting too) fits the terminal.
            app.theme().depth().apply(f.buffer_mut());
        })
        .map_err(io::Error::other)?;
        Ok(())
    }
}
