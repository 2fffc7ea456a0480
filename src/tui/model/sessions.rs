//! The workbench's conversation and session actions: a new conversation, the sessions
//! browser's keys, and opening a saved session into the panes. Still pure: the disk is
//! the executor's, which answers with messages.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::app::{App, Focus};
use super::browser::Editing;
use super::conversation::Conversation;
use super::msg::{Effect, Msg};
use super::pane::PaneState;
use super::workspace::Overlay;
use crate::engine::RunId;
use crate::keys::Action;
use crate::session::schema::TargetSettings;
use crate::session::{Session, replay};
use crate::target::{KeySource, Target};

impl App {
    /// Forget every pane's conversation; the next send starts a new session.
    pub(super) fn new_conversation(&mut self) -> Vec<Effect> {
        let mut effects = self.cancel_active();
        effects.extend(self.cancel_grid());
        self.drop_grid();
        if self.go_home() {
            effects.push(Effect::LeaveBorrowed);
        }
        self.conversation = Conversation::new(self.targets.len());
        self.drop_ballot();
        self.reset_board();
        for p in &mut self.panes {
            // A fresh pane has no run, so the cancelled streams' last events are dropped.
            let (reasoning_open, history_open) = (p.reasoning_open, p.history.is_open());
            *p = PaneState::default();
            p.reasoning_open = reasoning_open;
            p.history.set_open(history_open);
        }
        if self.session_open {
            effects.push(Effect::CloseSession);
        }
        self.session_open = false;
        self.session_id = None;
        self.notice = Some("new conversation: the next send starts a new session".into());
        effects
    }

    /// Messages about sessions on disk.
    pub(super) fn session_msg(&mut self, msg: Msg) -> Vec<Effect> {
        self.dirty = true;
        match msg {
            Msg::Saving(Ok(id)) => self.session_id = Some(id),
            Msg::Saving(Err(why)) => {
                self.session_id = None;
                self.notice = Some(format!("session not saved: {why}"));
            }
            Msg::SessionList(listed) => {
                if let Overlay::Browser(b) = &mut self.overlay {
                    b.listed(listed);
                }
            }
            Msg::SessionLoaded(Ok(session)) => return self.open_saved(&session),
            Msg::SessionLoaded(Err(why)) | Msg::Notice(why) => self.notice = Some(why),
            _ => {}
        }
        Vec::new()
    }

    /// A key while the browser is open: its own bindings, then typing.
    pub(super) fn browser_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let Overlay::Browser(b) = &mut self.overlay else {
            return Vec::new();
        };
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match b.editing.clone() {
            Editing::ConfirmDelete => {
                b.editing = Editing::Filter;
                match (key.code, b.current()) {
                    (KeyCode::Char('y' | 'Y'), Some(e)) => return vec![Effect::DeleteSession(e.dir.clone())],
                    _ => self.notice = Some("kept".into()),
                }
                return Vec::new();
            }
            Editing::Rename(name) => {
                match key.code {
                    KeyCode::Enter => {
                        b.editing = Editing::Filter;
                        if let Some(e) = b.current() {
                            return vec![Effect::RenameSession {
                                dir: e.dir.clone(),
                                name,
                            }];
                        }
                    }
                    KeyCode::Esc => b.editing = Editing::Filter,
                    KeyCode::Backspace => b.backspace(),
                    KeyCode::Char(c) if plain => b.type_char(c),
                    _ if action == Some(Action::Quit) => return vec![Effect::Quit],
                    _ => {}
                }
                return Vec::new();
            }
            Editing::Filter => {}
        }
        let current = b.current().cloned();
        match action {
            Some(Action::ScrollUp) => b.step(-1),
            Some(Action::ScrollDown) => b.step(1),
            Some(Action::PageUp) => b.step(-10),
            Some(Action::PageDown) => b.step(10),
            Some(Action::FocusEditor) => self.overlay = Overlay::None,
            Some(Action::Quit) => return vec![Effect::Quit],
            Some(
                a @ (Action::OpenSession
                | Action::RenameSession
                | Action::DeleteSession
                | Action::ReplaySession
                | Action::RerunSession),
            ) => {
                let Some(e) = current else {
                    self.notice = Some("no session selected".into());
                    return Vec::new();
                };
                match (&e.meta, a) {
                    (Err(why), Action::OpenSession | Action::ReplaySession | Action::RerunSession) => {
                        self.notice = Some(why.clone());
                    }
                    (_, Action::OpenSession) => return vec![Effect::LoadSession(e.dir)],
                    (_, Action::ReplaySession) => return vec![Effect::ReplaySession(e.dir)],
                    (_, Action::RerunSession) => return vec![Effect::RerunSession(e.dir)],
                    (meta, Action::RenameSession) => {
                        let name = meta.as_ref().ok().and_then(|m| m.name.clone());
                        b.editing = Editing::Rename(name.unwrap_or_default());
                    }
                    _ => b.editing = Editing::ConfirmDelete,
                }
            }
            // Other bindings do not reach behind the browser.
            Some(_) => {}
            None => match key.code {
                KeyCode::Backspace => b.backspace(),
                KeyCode::Char(c) if plain => b.type_char(c),
                _ => {}
            },
        }
        Vec::new()
    }

    /// Show a loaded session: its targets, each one's latest answer with the numbers it
    /// was recorded with, and its conversation, which the next send continues.
    fn open_saved(&mut self, s: &Session) -> Vec<Effect> {
        // The saved session's panes take the screen from an experiment grid.
        self.drop_grid();
        let mut targets = Vec::with_capacity(s.targets.len());
        for ts in &s.targets {
            match self.session_target(ts) {
                Some(t) => targets.push(t),
                None => {
                    self.notice = Some(format!(
                        "{}: target `{}` uses provider `{}`, unknown to this Prism; upgrade to open it",
                        s.dir.display(),
                        ts.name,
                        ts.provider
                    ));
                    return Vec::new();
                }
            }
        }
        if targets.is_empty() {
            self.notice = Some(format!("{}: the session has no targets", s.dir.display()));
            return Vec::new();
        }
        let mut effects = self.cancel_active();
        let n = targets.len();
        self.targets = targets;
        self.enabled = vec![true; n];
        self.panes = (0..n).map(|_| PaneState::default()).collect();
        self.panes_replaced();
        self.pane_areas.clear();
        self.zoomed = None;
        if matches!(self.overlay, Overlay::Details(_) | Overlay::Browser(_)) {
            self.overlay = Overlay::None;
        }
        self.focus = Focus::Prompt;
        self.conversation = Conversation::from_session(s);
        // Run ids go on from the session's, so the ones it already holds stay unique.
        self.run = RunId(self.run.0.max(s.last_run) + 1);
        for i in 0..n {
            self.show_recorded(s, i);
        }
        let system = s.turns.last().and_then(|t| t.system.clone()).unwrap_or_default();
        self.show_system = !system.trim().is_empty();
        self.system = TextArea::from(system.lines().map(str::to_string).collect::<Vec<_>>());
        self.system.set_placeholder_text("System prompt (optional)");
        self.prompt = TextArea::default();
        let hint = format!(
            "Type the next prompt; {} continues this conversation",
            self.keymap.send_keys()
        );
        self.prompt.set_placeholder_text(hint);
        self.session_open = true;
        self.session_id = Some(s.meta.id.clone());
        effects.push(Effect::ContinueSession {
            dir: s.dir.clone(),
            meta: Box::new(s.meta.clone()),
            targets: self.targets.clone(),
        });
        let name = s.meta.name.as_deref().unwrap_or(&s.meta.first_prompt);
        self.notice = Some(format!(
            "opened {} “{name}”: {} turns; the next send continues it",
            s.meta.id, self.conversation.turn
        ));
        effects
    }

    /// Pane `i` as it ended: the target's latest recorded stream, played at once through
    /// the pane's normal event path (an unfinished stream ends as interrupted).
    fn show_recorded(&mut self, s: &Session, i: usize) {
        let Some(turn) = s.turns.iter().rev().find(|t| t.answers.contains_key(&i)) else {
            return;
        };
        let steps: Vec<_> = replay::schedule(turn)
            .into_iter()
            .filter(|step| step.target == i)
            .collect();
        let last = steps.last().map_or(0, |step| step.t_ns);
        // Placed so the stream ended just now: elapsed times read as recorded.
        let base = self
            .now
            .checked_sub(Duration::from_nanos(last))
            .unwrap_or(self.now);
        let request = s.request_for(turn, i);
        self.panes[i].start(self.run, base, &request);
        for step in steps {
            let at: Instant = base + Duration::from_nanos(step.t_ns);
            self.panes[i].apply(at, &step.event.to_event(base));
        }
    }

    /// The target to send a session's target settings to now.
    fn session_target(&self, ts: &TargetSettings) -> Option<Target> {
        if let Some(c) = self.config_targets.iter().find(|c| TargetSettings::of(c) == *ts) {
            return Some(c.clone());
        }
        let mut t = ts.to_target()?;
        if matches!(t.key, KeySource::Demo)
            && let Some((_, url)) = self.demo_urls.iter().find(|(k, _)| *k == t.provider)
        {
            t.base_url.clone_from(url);
        }
        Some(t)
    }
}
