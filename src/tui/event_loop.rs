//! The UI loop: one owner of the model, drain-then-draw, frames paced by what changed.
//!
//! Input and resize redraw at once (capped at ~60 fps); stream events are coalesced into
//! at most ~30 frames a second; nothing redraws while idle (the elapsed-time tick runs
//! only while a request is in flight). Provider events never wait on keyboard input or
//! the other way round: both arrive on one channel, and a turn drains at most
//! `DRAIN_CAP` messages before drawing so typing stays live under a flood of tokens.

use std::io;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::app::App;
use super::msg::{Effect, Msg};
use super::runner::Runner;
use super::visit;

const INPUT_FRAME: Duration = Duration::from_millis(16);
const STREAM_FRAME: Duration = Duration::from_millis(33);
const TICK: Duration = Duration::from_millis(100);
const DRAIN_CAP: usize = 4096;

/// Something frames can be drawn on, and the other effects that need the terminal.
pub trait Screen {
    /// Prepare caches for the current size and draw one frame of `app`.
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

/// Run until the user quits or `rx` closes.
pub async fn run(
    screen: &mut impl Screen,
    app: &mut App,
    runner: &mut Runner,
    tx: &UnboundedSender<Msg>,
    rx: &mut UnboundedReceiver<Msg>,
) -> io::Result<()> {
    app.now = Instant::now();
    screen.frame(app)?;
    app.dirty = false;
    let mut last_frame = Instant::now();
    let mut next_frame: Option<Instant> = None;
    let mut visit: Option<visit::Visit> = None;
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
            _ = tick.tick(), if app.animating() => Some(Msg::Tick),
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
                    match effect {
                        Effect::Quit => {
                            // A re-run opened from the browser saves its last events first.
                            visit::end(&mut visit).await;
                            runner.cancel_everything();
                            return Ok(());
                        }
                        Effect::OpenEditor(text) => {
                            let result = screen.edit(&text);
                            tx.send(Msg::EditorClosed(result)).ok();
                        }
                        Effect::Copy(text) => {
                            if let Err(e) = screen.copy(&text) {
                                app.notice = Some(format!("copy failed: {e}"));
                            }
                        }
                        Effect::ReplaySession(dir) => visit::replay(app, runner, tx, dir, &mut visit).await,
                        Effect::RerunSession(dir) => visit::rerun(app, runner, tx, dir, &mut visit).await,
                        Effect::LeaveVisit => {
                            if let Some(report) = visit::end(&mut visit).await {
                                app.notice = Some(report);
                            }
                        }
                        other => runner.apply(other, tx),
                    }
                }
            }
        }
        if !app.dirty {
            next_frame = None;
            continue;
        }
        let gap = if urgent { INPUT_FRAME } else { STREAM_FRAME };
        let due = last_frame + gap;
        if Instant::now() >= due || next_frame.is_some_and(|n| Instant::now() >= n) {
            app.now = Instant::now();
            screen.frame(app)?;
            app.dirty = false;
            last_frame = Instant::now();
            next_frame = None;
        } else {
            next_frame = Some(next_frame.map_or(due, |n| n.min(due)));
        }
    }
    visit::end(&mut visit).await;
    runner.cancel_everything();
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
        let size = self.size().map_err(io::Error::other)?;
        super::view::prepare(app, ratatui::layout::Rect::new(0, 0, size.width, size.height));
        self.draw(|f| super::view::draw(f, app))
            .map_err(io::Error::other)?;
        Ok(())
    }
}
