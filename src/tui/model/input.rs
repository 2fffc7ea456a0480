//! Input: which mode the keys are read in, keys and mouse events turned into actions, and
//! every action's effect on the workbench.

use crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};
use ratatui::layout::Position;
use ratatui_textarea::TextArea;

use super::app::{App, Focus};
use super::browser::Browser;
use super::msg::Effect;
use super::workspace::Overlay;
use crate::keys::{Action, Mode};
use crate::tui::input::keymap::chord_of;

impl App {
    pub(super) fn mode(&self) -> Mode {
        if matches!(self.overlay, Overlay::Browser(_)) {
            return Mode::Sessions;
        }
        match self.focus {
            Focus::Prompt | Focus::System => Mode::Editor,
            Focus::Pane(_) => Mode::Panes,
        }
    }

    pub(super) fn editor_mut(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            Focus::Prompt => Some(&mut self.prompt),
            Focus::System => Some(&mut self.system),
            Focus::Pane(_) => None,
        }
    }

    pub(super) fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.dirty = true;
        self.notice = None;
        let action = chord_of(&key).and_then(|c| self.keymap.lookup(self.mode(), &c));
        if matches!(self.overlay, Overlay::Details(_)) && self.details_key(&key) {
            return Vec::new();
        }
        match self.overlay {
            Overlay::Browser(_) => return self.browser_key(key, action),
            Overlay::Help | Overlay::Details(_) => {
                // Any key closes an overlay; Quit still quits.
                self.overlay = Overlay::None;
                return if action == Some(Action::Quit) {
                    vec![Effect::Quit]
                } else {
                    Vec::new()
                };
            }
            Overlay::Scoreboard(_) => return self.scoreboard_key(&key, action).unwrap_or_default(),
            Overlay::Diff(_) | Overlay::None => {}
        }
        if let Some(effects) = self.tool_results_key(key, action) {
            return effects;
        }
        if self.naming_key(&key, action) || self.cases_key(key, action) || self.schema_key(key, action) {
            return Vec::new();
        }
        if let Some(effects) = self.session_key(&key, action) {
            return effects;
        }
        if let Some(effects) = self.vote_key(&key) {
            return effects;
        }
        match action {
            Some(a) => self.act(a),
            None if self.recall_key(&key) => Vec::new(),
            None => {
                if let Some(editor) = self.editor_mut() {
                    editor.input(key);
                }
                Vec::new()
            }
        }
    }

    /// Scroll the details view with the panes' scroll keys (line, page, top, bottom);
    /// whether the key did. The view keeps the scroll within its lines.
    fn details_key(&mut self, key: &KeyEvent) -> bool {
        let Some(action) = chord_of(key).and_then(|c| self.keymap.lookup(Mode::Panes, &c)) else {
            return false;
        };
        let (top, page) = self.details_scroll;
        let page = page.max(1);
        self.details_scroll.0 = match action {
            Action::ScrollDown => top.saturating_add(1),
            Action::ScrollUp => top.saturating_sub(1),
            Action::PageDown => top.saturating_add(page),
            Action::PageUp => top.saturating_sub(page),
            Action::Top => 0,
            Action::Bottom => usize::MAX,
            _ => return false,
        };
        true
    }

    /// Perform a bound action.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        let focused = match self.focus {
            // A cell of a grid no longer on screen is no pane.
            Focus::Pane(i) if i < self.panes.len() => Some(i),
            _ => None,
        };
        if let Some(effects) = self.grid_act(action) {
            return effects;
        }
        match action {
            Action::Send | Action::RetryPane if self.sends_off().is_some() => self.notice = self.sends_off(),
            Action::Diff => return self.open_diff(focused),
            Action::Send => return self.send(),
            Action::Quit => return vec![Effect::Quit],
            Action::FocusNext => self.cycle(1),
            Action::FocusPrev => self.cycle(-1),
            Action::FocusEditor => {
                self.focus = Focus::Prompt;
                self.zoomed = None;
            }
            Action::Help => self.overlay = Overlay::Help,
            Action::OpenEditor => return vec![Effect::OpenEditor(self.prompt.lines().join("\n"))],
            Action::ToggleSystem => {
                self.show_system = !self.show_system;
                self.focus = if self.show_system {
                    Focus::System
                } else {
                    Focus::Prompt
                };
            }
            Action::CancelAll => return self.cancel_active(),
            Action::CancelFocused => {
                return match focused {
                    Some(i) if self.panes[i].status.is_active() => self.panes[i]
                        .run
                        .map(|run| Effect::Cancel { run, pane: Some(i) })
                        .into_iter()
                        .collect(),
                    // From the editor, "cancel" means the whole send.
                    None => self.cancel_active(),
                    _ => Vec::new(),
                };
            }
            Action::Blind => self.toggle_blind(),
            Action::VoteVariants => self.toggle_vote_unit(),
            Action::Scoreboard => self.toggle_scoreboard(),
            // The details name the model and carry its ids: not while names are hidden.
            Action::Details if focused.is_some() && self.names_hidden() => {
                self.notice = Some("details name the model: vote first (or ctrl-b leaves blind mode)".into());
            }
            Action::Details => match focused {
                Some(i) => {
                    self.overlay = Overlay::Details(i);
                    self.details_scroll.0 = 0;
                }
                None if matches!(self.overlay, Overlay::Details(_)) => self.overlay = Overlay::None,
                None => {}
            },
            Action::NewConversation => {
                // A new conversation is also a new budget window (see `spent`).
                self.new_budget_window();
                return self.new_conversation();
            }
            Action::Sessions => {
                self.overlay = Overlay::Browser(Browser::default());
                return vec![Effect::ListSessions];
            }
            // The browser's own actions mean nothing outside it.
            Action::OpenSession
            | Action::RenameSession
            | Action::DeleteSession
            | Action::ReplaySession
            | Action::RerunSession => {}
            Action::RetryPane => {
                if let Some(i) = focused {
                    return self.retry_pane(i);
                }
            }
            Action::Copy => {
                if let Some(i) = focused {
                    let text = self.panes[i].answer.text().to_string();
                    self.notice = Some(format!(
                        "copied {} characters from {}",
                        text.chars().count(),
                        self.pane_name(i)
                    ));
                    return vec![Effect::Copy(text)];
                }
            }
            Action::ToggleTarget => {
                if let Some(i) = focused {
                    self.enabled[i] = !self.enabled[i];
                }
            }
            Action::Zoom => self.zoomed = if self.zoomed.is_some() { None } else { focused },
            Action::ToggleReasoning => {
                if let Some(i) = focused {
                    self.panes[i].reasoning_open = !self.panes[i].reasoning_open;
                }
            }
            Action::ToggleHistory => {
                if let Some(i) = focused {
                    let p = &mut self.panes[i];
                    if p.history.earlier() == 0 && !p.history.is_open() {
                        self.notice = Some(format!(
                            "{}: no earlier turns in its conversation",
                            self.pane_name(i)
                        ));
                    } else {
                        p.toggle_history();
                    }
                }
            }
            Action::AddVariant => self.add_variant(),
            Action::NextVariant => self.switch_variant(1),
            Action::PrevVariant => self.switch_variant(-1),
            Action::RenameVariant => self.rename_variant(),
            Action::DeleteVariant => self.delete_variant(),
            Action::Cases => self.toggle_cases(),
            Action::Schema => self.toggle_schema(),
            Action::ToolResults => return self.toggle_tool_results(),
            Action::Repeat => self.cycle_repeat(),
            Action::Order => self.cycle_order(),
            Action::NextCase | Action::PrevCase | Action::NextRepeat | Action::PrevRepeat => {}
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                if let Some(i) = focused {
                    let p = &mut self.panes[i];
                    let page = p.viewport.max(2) as isize - 1;
                    let delta = match action {
                        Action::ScrollUp => -1,
                        Action::ScrollDown => 1,
                        Action::PageUp => -page,
                        Action::PageDown => page,
                        Action::Top => isize::MIN / 2,
                        _ => isize::MAX / 2,
                    };
                    p.scroll_by(delta);
                }
            }
        }
        Vec::new()
    }

    pub(super) fn cycle(&mut self, step: isize) {
        let mut stops = vec![Focus::Prompt];
        if self.show_system {
            stops.push(Focus::System);
        }
        let visible: Vec<usize> = match self.zoomed {
            Some(z) => vec![z],
            None => self.screen_order(),
        };
        stops.extend(visible.into_iter().map(Focus::Pane));
        let at = stops.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let next = (at + step).rem_euclid(stops.len() as isize) as usize;
        self.focus = stops[next];
    }

    pub(super) fn mouse(&mut self, m: MouseEvent) {
        let at = Position::new(m.column, m.row);
        if self.grid_mouse(m.kind, at) {
            self.dirty = true;
            return;
        }
        let hit = self
            .pane_areas
            .iter()
            .position(|r| r.is_some_and(|r| r.contains(at)));
        match (m.kind, hit) {
            (MouseEventKind::ScrollUp, Some(i)) => self.panes[i].scroll_by(-3),
            (MouseEventKind::ScrollDown, Some(i)) => self.panes[i].scroll_by(3),
            (MouseEventKind::Down(_), Some(i)) => self.focus = Focus::Pane(i),
            _ => return,
        }
        self.dirty = true;
    }
}
