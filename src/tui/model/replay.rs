//! Replay: a saved session played back into the workbench's panes with the timing it was
//! recorded with.
//!
//! The player ([`crate::tui::effects::recording::play`]) sleeps until each event's
//! recorded offset (divided by the speed) and hands the app the event stamped with a
//! synthetic send instant plus the *unscaled* offset ([`turn_messages`]). The panes
//! therefore compute every metric (TTFT, ITL, tokens/s...) from the recorded gaps and
//! show the recorded numbers at any speed; only the wall clock runs faster. This side is
//! pure: [`Cue`]s and ordinary stream messages in, pane state out.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::app::{App, Focus};
use super::borrowed::Home;
use super::msg::{Effect, Msg};
use super::pane::PaneState;
use super::workspace::{Overlay, Workspace};
use crate::engine::{Envelope, RunId};
use crate::keys::{Action, Mode};
use crate::provider::request::ChatRequest;
use crate::session::Session;
use crate::session::replay::{Speed, schedule};
use crate::target::Target;
use crate::tui::input::keymap::chord_of;

/// What the app knows about the replay it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The session's id.
    pub id: String,
    /// Playback speed.
    pub speed: Speed,
    /// Turns in the session.
    pub turns: usize,
    /// The turn on screen (index into the session's turns), once one started.
    pub turn: Option<usize>,
    /// Every turn has played.
    pub finished: bool,
}

/// A step of the player that is not a stream event.
#[derive(Debug, Clone, PartialEq)]
pub enum Cue {
    /// Turn `index` starts: its targets' panes restart on `run` with their clocks at `base`.
    Turn {
        /// Index into the session's turns.
        index: usize,
        /// Run id stamped on the turn's events.
        run: RunId,
        /// The synthetic send instant; event times are offsets from it.
        base: Instant,
        /// The system prompt in force.
        system: Option<String>,
        /// The turn's prompt.
        prompt: String,
        /// Session target indices that answered this turn, each with the request it was
        /// sent (its own earlier turns and the prompt).
        targets: Vec<(usize, ChatRequest)>,
    },
    /// Every turn has played.
    Finished,
}

/// The targets a session was recorded with, for display. A provider this build does not
/// know cannot be replayed faithfully, so it is refused with what to do.
pub fn session_targets(session: &Session) -> Result<Vec<Target>, String> {
    session
        .targets
        .iter()
        .map(|s| {
            s.to_target().ok_or_else(|| {
                format!(
                    "target `{}` uses provider `{}`, unknown to this Prism: upgrade Prism to open this session",
                    s.name, s.provider
                )
            })
        })
        .collect()
}

/// The speed as shown in the status bar: `2x`, `max`.
pub fn speed_label(speed: Speed) -> String {
    match speed {
        Speed::Max => "max".into(),
        Speed::Times(f) => format!("{f}x"),
    }
}

/// The messages of turn `index`: its cue, then every event of every target in recorded
/// order, each with the wall-clock offset (from the turn's start) it is due at.
pub fn turn_messages(
    session: &Session,
    index: usize,
    run: RunId,
    base: Instant,
    speed: Speed,
) -> Vec<(Duration, Msg)> {
    let Some(turn) = session.turns.get(index) else {
        return Vec::new();
    };
    let mut out = vec![(
        Duration::ZERO,
        Msg::Replay(Cue::Turn {
            index,
            run,
            base,
            system: turn.system.clone(),
            prompt: turn.prompt.clone(),
            targets: turn
                .answers
                .keys()
                .map(|&t| (t, session.request_for(turn, t)))
                .collect(),
        }),
    )];
    for step in schedule(turn) {
        let env = Envelope {
            run,
            target: step.target,
            at: base + Duration::from_nanos(step.t_ns),
            event: step.event.to_event(base),
        };
        out.push((
            speed.wall(step.t_ns),
            Msg::Stream {
                pane: step.target,
                env,
            },
        ));
    }
    out
}

impl App {
    /// Show a recorded turn's prompt and system prompt in the (read-only) editors.
    pub(super) fn show_sent(&mut self, prompt: &str, system: Option<String>) {
        let lines = |text: &str| TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
        self.prompt = lines(prompt);
        self.show_system = system.is_some();
        self.system = lines(system.as_deref().unwrap_or_default());
    }
}

impl App {
    /// Show `session` for a replay at `speed`: one idle pane per session target, sends
    /// off. Returns cancellations for anything still streaming and the first run id the
    /// player is to use (see [`turn_messages`]).
    pub fn begin_replay(&mut self, session: &Session, speed: Speed) -> Result<(Vec<Effect>, RunId), String> {
        let targets = session_targets(session)?;
        let home = self.workspace.take_home();
        Ok(self.show_replay(session, targets, speed, home))
    }

    /// [`Self::begin_replay`] with the session's `targets`, and `home` the workbench's own
    /// targets when the replay borrows the panes.
    pub(super) fn show_replay(
        &mut self,
        session: &Session,
        targets: Vec<Target>,
        speed: Speed,
        home: Option<Home>,
    ) -> (Vec<Effect>, RunId) {
        let effects = self.cancel_active();
        let n = targets.len();
        self.targets = targets;
        self.enabled = vec![true; n];
        self.panes = (0..n).map(|_| PaneState::default()).collect();
        self.pane_areas.clear();
        self.focus = Focus::Prompt;
        self.zoomed = None;
        self.overlay.close_pane_views();
        self.conversation = super::conversation::Conversation::new(n);
        self.session_open = false;
        self.workspace = Workspace::Replay {
            replay: Replay {
                id: session.meta.id.clone(),
                speed,
                turns: session.turns.len(),
                turn: None,
                finished: session.turns.is_empty(),
            },
            home,
        };
        self.status = self.replay_status();
        self.dirty = true;
        (effects, RunId(self.run.0 + 1))
    }

    /// Apply a player cue.
    pub fn replay_cue(&mut self, cue: Cue) -> Vec<Effect> {
        let Workspace::Replay { replay, home } = &mut self.workspace else {
            return Vec::new();
        };
        let borrowed = home.is_some();
        match cue {
            Cue::Turn {
                index,
                run,
                base,
                system,
                prompt,
                targets,
            } => {
                replay.turn = Some(index);
                self.run = self.run.max(run);
                for (i, pane) in self.panes.iter_mut().enumerate() {
                    if let Some((_, request)) = targets.iter().find(|(t, _)| *t == i) {
                        pane.start(run, base, request);
                    } else {
                        // Not asked this turn: an earlier turn's answer would be mistaken for one.
                        *pane = PaneState::default();
                    }
                }
                self.show_sent(&prompt, system);
                if self.focus == Focus::System && !self.show_system {
                    self.focus = Focus::Prompt;
                }
            }
            Cue::Finished => {
                replay.finished = true;
                let back = if borrowed {
                    self.keymap
                        .hint(Mode::Global, Action::NewConversation)
                        .map(|k| format!(", {k} goes back to your targets"))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                let quit = self
                    .quit_keys()
                    .map(|k| format!(": {k} quits"))
                    .unwrap_or_default();
                self.notice = Some(format!("replay finished{quit}{back}"));
            }
        }
        self.status = self.replay_status();
        self.dirty = true;
        Vec::new()
    }

    fn replay_status(&self) -> String {
        let Some(r) = self.workspace.replay() else {
            return self.status.clone();
        };
        let turn = r.turn.map_or(0, |t| t + 1);
        let state = if r.finished { " · done" } else { "" };
        format!(
            "replay {} · turn {turn}/{} · {}{state}",
            r.id,
            r.turns,
            speed_label(r.speed)
        )
    }

    /// Why a send cannot happen now: the panes show a recording.
    pub fn sends_off(&self) -> Option<String> {
        if self.workspace.home().is_some() {
            return Some(
                "sends are off while the panes show a recording: ctrl-n goes back to your targets".into(),
            );
        }
        match self.workspace {
            Workspace::Live => None,
            Workspace::Replay { .. } => Some("sends are off in a replay: run `prism` to send prompts".into()),
            Workspace::Compare { .. } => {
                Some("sends are off while comparing: run `prism rerun` again to send once more".into())
            }
        }
    }

    /// Keys that behave differently while the panes show a recording: the diff overlay
    /// takes its own keys, and the editors are read-only (moving around still works).
    pub fn session_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Option<Vec<Effect>> {
        if let Some(effects) = self.diff_key(action) {
            return Some(effects);
        }
        let recording = self.workspace.is_recording();
        let editing = matches!(self.focus, Focus::Prompt | Focus::System);
        let moving = matches!(
            key.code,
            KeyCode::Up
                | KeyCode::Down
                | KeyCode::Left
                | KeyCode::Right
                | KeyCode::Home
                | KeyCode::End
                | KeyCode::PageUp
                | KeyCode::PageDown
        );
        if recording && editing && action.is_none() && !moving {
            // Nothing types into a read-only prompt, so the panes' plain keys for quit and
            // help work here too: the status bar promises `q quits` wherever it is.
            let plain = chord_of(key).and_then(|c| self.keymap.lookup(Mode::Panes, &c));
            match plain {
                Some(Action::Quit) => return Some(vec![Effect::Quit]),
                Some(Action::Help) => self.overlay = Overlay::Help,
                _ => {
                    let quit = self
                        .quit_keys()
                        .map(|k| format!("; {k} quits"))
                        .unwrap_or_default();
                    self.notice = Some(format!("read-only: this prompt is part of the recording{quit}"));
                }
            }
            return Some(Vec::new());
        }
        None
    }

    /// The keys that quit while the panes show a recording, as a notice says them: the
    /// panes' own (which also work from the read-only prompt) and the global one.
    fn quit_keys(&self) -> Option<String> {
        let keys: Vec<String> = [Mode::Panes, Mode::Global]
            .iter()
            .filter_map(|m| {
                self.keymap
                    .chords(*m, Action::Quit)
                    .first()
                    .map(ToString::to_string)
            })
            .collect();
        (!keys.is_empty()).then(|| keys.join(" or "))
    }
}
