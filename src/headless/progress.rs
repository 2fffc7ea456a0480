//! Live progress of a headless run on standard error: one line per target (its state,
//! time to first token and tokens so far), redrawn in place while the runs stream.
//!
//! Drawn only when standard error is a terminal: a script that captures stderr sees the
//! same few lines (session, warnings) it always did, and no cursor movement. The
//! progress lines are cleared when the run ends, so what stays on screen is the answers
//! and the table, ready to copy.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use crossterm::{cursor, queue, terminal};
use unicode_width::UnicodeWidthStr;

use crate::engine::metrics::{Outcome, TargetRun};

/// Redraws closer together than this are skipped: a fast stream sends hundreds of
/// events a second, and a terminal needs a handful of frames.
const FRAME: Duration = Duration::from_millis(100);

/// Where one run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Sending,
    Streaming,
    Done,
    Failed,
    Cancelled,
}

impl State {
    fn of(run: &TargetRun) -> Self {
        match run.outcome {
            Some(Outcome::Done) => Self::Done,
            Some(Outcome::Failed(_)) => Self::Failed,
            Some(Outcome::Cancelled) => Self::Cancelled,
            _ if run.first_content_at.is_some() => Self::Streaming,
            _ if run.dispatched_at.is_some() || run.sent_at.is_some() => Self::Sending,
            _ => Self::Waiting,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Sending => "sending",
            Self::Streaming => "streaming",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn ended(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// One target's line: its latest run, and how many of its runs have ended.
#[derive(Debug, Clone)]
struct Line {
    name: String,
    planned: u32,
    ended: u32,
    failed: u32,
    state: State,
    ttft: Option<Duration>,
    /// Output tokens: the provider's count once it reports one, else one per content
    /// delta (marked `~`, as most providers stream about a token per delta).
    tokens: u64,
    exact: bool,
}

/// The progress of every run, grouped into one line per target.
#[derive(Debug, Clone)]
pub struct Progress {
    lines: Vec<Line>,
    /// For each run, its line.
    line_of: Vec<usize>,
    /// For each run, whether its end was counted.
    ended: Vec<bool>,
}

impl Progress {
    /// Progress of runs sent to these targets, one name per run in run order; runs of
    /// the same target share a line, in the order targets first appear.
    pub fn new<S: Into<String>>(run_targets: impl IntoIterator<Item = S>) -> Self {
        let mut lines: Vec<Line> = Vec::new();
        let mut line_of = Vec::new();
        for name in run_targets {
            let name = name.into();
            let i = match lines.iter().position(|l| l.name == name) {
                Some(i) => i,
                None => {
                    lines.push(Line {
                        name,
                        planned: 0,
                        ended: 0,
                        failed: 0,
                        state: State::Waiting,
                        ttft: None,
                        tokens: 0,
                        exact: false,
                    });
                    lines.len() - 1
                }
            };
            if let Some(line) = lines.get_mut(i) {
                line.planned += 1;
            }
            line_of.push(i);
        }
        let ended = vec![false; line_of.len()];
        Self {
            lines,
            line_of,
            ended,
        }
    }

    /// Take in where run `run` now stands.
    pub fn observe(&mut self, run: usize, r: &TargetRun) {
        let (Some(&i), Some(counted)) = (self.line_of.get(run), self.ended.get_mut(run)) else {
            return;
        };
        let Some(line) = self.lines.get_mut(i) else {
            return;
        };
        let state = State::of(r);
        if state.ended() && !*counted {
            *counted = true;
            line.ended += 1;
            line.failed += u32::from(state == State::Failed);
        }
        line.state = state;
        line.ttft = r.ttft();
        (line.tokens, line.exact) = match r.usage.output {
            Some(n) => (n, true),
            None => (r.content_events as u64, false),
        };
    }

    /// Whether every run has ended.
    pub fn all_ended(&self) -> bool {
        self.ended.iter().all(|e| *e)
    }

    /// The lines to show, each cut to `width` columns.
    pub fn render(&self, width: usize) -> Vec<String> {
        let name_width = self.lines.iter().map(|l| l.name.width()).max().unwrap_or(0);
        self.lines
            .iter()
            .map(|l| {
                let ttft = l.ttft.map_or_else(
                    || "-".to_string(),
                    |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0),
                );
                let tokens = if l.exact || l.tokens == 0 {
                    l.tokens.to_string()
                } else {
                    format!("~{}", l.tokens)
                };
                let pad = name_width.saturating_sub(l.name.width());
                let mut text = format!(
                    "{}{} {:<9}  TTFT {ttft:>8}  {tokens:>6} tok",
                    l.name,
                    " ".repeat(pad),
                    l.state.as_str()
                );
                if l.planned > 1 {
                    text.push_str(&format!("  {}/{} runs", l.ended, l.planned));
                }
                if l.failed > 0 {
                    text.push_str(&format!(", {} failed", l.failed));
                }
                cut(&text, width)
            })
            .collect()
    }
}

/// `text` cut to at most `width` columns.
fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Progress drawn in place on a terminal.
pub struct Live<W: Write> {
    out: W,
    progress: Progress,
    /// Lines drawn last time, to move back over.
    drawn: usize,
    last_frame: Option<Instant>,
    width: fn() -> usize,
}

impl<W: Write> std::fmt::Debug for Live<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("drawn", &self.drawn)
            .finish_non_exhaustive()
    }
}

fn terminal_width() -> usize {
    terminal::size().map_or(80, |(w, _)| usize::from(w))
}

impl Live<io::Stderr> {
    /// Progress on standard error, or `None` when standard error is not a terminal (or
    /// the terminal cannot move its cursor, `TERM=dumb`).
    pub fn stderr(progress: Progress) -> Option<Self> {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        (io::stderr().is_terminal() && !dumb).then(|| Self::new(io::stderr(), progress, terminal_width))
    }
}

impl<W: Write> Live<W> {
    /// Progress drawn on `out`, cut to the width `width` reports.
    pub fn new(out: W, progress: Progress, width: fn() -> usize) -> Self {
        Self {
            out,
            progress,
            drawn: 0,
            last_frame: None,
            width,
        }
    }

    /// Take in where run `run` stands, and redraw if a frame is due (always when the
    /// run has just ended, so no line is left showing a stale state).
    pub fn observe(&mut self, run: usize, r: &TargetRun) {
        let before = self.progress.ended.get(run).copied().unwrap_or(true);
        self.progress.observe(run, r);
        let just_ended = !before && self.progress.ended.get(run).copied().unwrap_or(false);
        let due = self.last_frame.is_none_or(|t| t.elapsed() >= FRAME);
        if due || just_ended {
            // Progress is a courtesy: a terminal that stops taking it must not stop the run.
            let _ = self.draw();
        }
    }

    /// Draw every line over the last frame.
    pub fn draw(&mut self) -> io::Result<()> {
        self.last_frame = Some(Instant::now());
        let lines = self.progress.render((self.width)().saturating_sub(1).max(10));
        self.move_back()?;
        for line in &lines {
            queue!(self.out, terminal::Clear(terminal::ClearType::CurrentLine))?;
            writeln!(self.out, "{line}")?;
        }
        self.drawn = lines.len();
        self.out.flush()
    }

    /// Remove the progress lines, leaving the cursor where they began.
    pub fn clear(&mut self) -> io::Result<()> {
        self.move_back()?;
        self.drawn = 0;
        self.out.flush()
    }

    fn move_back(&mut self) -> io::Result<()> {
        if let Ok(n) = u16::try_from(self.drawn)
            && n > 0
        {
            queue!(self.out, cursor::MoveToPreviousLine(n))?;
        }
        queue!(self.out, terminal::Clear(terminal::ClearType::FromCursorDown))
    }

    /// The writer, for tests.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::provider::event::StreamEvent;

    fn streamed(deltas: usize) -> TargetRun {
        let t0 = Instant::now();
        let mut r = TargetRun {
            dispatched_at: Some(t0),
            sent_at: Some(t0),
            ..TargetRun::default()
        };
        for i in 0..deltas {
            r.apply(
                t0 + Duration::from_millis(250 + i as u64),
                &StreamEvent::TextDelta("x".into()),
            );
        }
        r
    }

    #[test]
    fn one_line_per_target_with_state_ttft_and_tokens_so_far() {
        let mut p = Progress::new(["gpt", "claude", "gpt"]);
        let lines = p.render(80);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("gpt    waiting"), "{lines:?}");
        assert!(lines[0].ends_with("0/2 runs"), "{lines:?}");
        p.observe(0, &streamed(3));
        let lines = p.render(80);
        assert!(lines[0].contains("streaming"), "{lines:?}");
        assert!(lines[0].contains("TTFT   250 ms"), "{lines:?}");
        assert!(lines[0].contains("~3 tok"), "{lines:?}");
        let mut done = streamed(3);
        done.usage.output = Some(7);
        done.outcome = Some(Outcome::Done);
        p.observe(0, &done);
        p.observe(0, &done);
        let lines = p.render(80);
        assert!(
            lines[0].contains("done") && lines[0].contains(" 7 tok"),
            "{lines:?}"
        );
        assert!(lines[0].ends_with("1/2 runs"), "counted once: {lines:?}");
        assert!(!p.all_ended());
    }

    #[test]
    fn lines_are_cut_to_the_width() {
        let p = Progress::new(["a-very-long-target-name-indeed"]);
        for line in p.render(20) {
            assert!(line.width() <= 20, "{line}");
            assert!(line.ends_with('…'));
        }
    }

    #[test]
    fn redraws_in_place_and_clears_at_the_end() {
        let mut live = Live::new(Vec::new(), Progress::new(["a", "b"]), || 80);
        live.draw().unwrap();
        live.observe(1, &streamed(2));
        live.draw().unwrap();
        live.clear().unwrap();
        let out = String::from_utf8(live.into_inner()).unwrap();
        // Second frame and the clear each move back over the two lines drawn.
        assert_eq!(out.matches("\x1b[2F").count(), 2, "{out:?}");
        assert!(out.contains("b streaming"), "{out:?}");
        assert!(out.ends_with("\x1b[J"), "{out:?}");
    }
}
