//! Terminal key events as chords, the default bindings, and user overrides from
//! `[keys.<mode>]` (the vocabulary itself, chords, actions and modes, is `crate::keys`).
//!
//! Bindings are data: `global` bindings apply everywhere, `editor` ones while typing a
//! prompt (where plain keys type text, so only chords with modifiers are bound by default),
//! `panes` ones while a pane has focus. Help and the footer are generated from this map,
//! so they cannot drift from what the keys really do.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::keys::{Action, KeyChord, KeyCodeKey, Mode};

/// The terminal's code for each named key, named as in [`crate::keys::NAMED_KEYS`].
const NAMED: [(&str, KeyCode); 14] = [
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("delete", KeyCode::Delete),
];

/// The chord a key event represents, if it is one we can bind.
pub fn chord_of(ev: &KeyEvent) -> Option<KeyChord> {
    let m = ev.modifiers;
    let (code, shift) = match ev.code {
        KeyCode::Char(' ') => (KeyCodeKey::Named("space"), false),
        // Terminals report Ctrl+letter as lower case; normalize so `ctrl-s` matches.
        KeyCode::Char(c) if m.contains(KeyModifiers::CONTROL) => {
            (KeyCodeKey::Char(c.to_ascii_lowercase()), false)
        }
        KeyCode::Char(c) => (KeyCodeKey::Char(c), false),
        KeyCode::F(n) => (KeyCodeKey::F(n), m.contains(KeyModifiers::SHIFT)),
        KeyCode::BackTab => (KeyCodeKey::Named("backtab"), false),
        other => {
            let name = NAMED.iter().find(|(_, k)| *k == other)?.0;
            (KeyCodeKey::Named(name), m.contains(KeyModifiers::SHIFT))
        }
    };
    Some(KeyChord {
        code,
        ctrl: m.contains(KeyModifiers::CONTROL),
        alt: m.contains(KeyModifiers::ALT),
        shift,
    })
}

/// Bindings per mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    maps: BTreeMap<Mode, BTreeMap<KeyChord, Action>>,
}

/// The actions of experiments (and the typed tool results, an editor like the schema's),
/// listed in help in rows of their own, where the terminal has room.
const EXPERIMENT_ACTIONS: [Action; 15] = [
    Action::ToolResults,
    Action::VoteVariants,
    Action::AddVariant,
    Action::Schema,
    Action::NextVariant,
    Action::PrevVariant,
    Action::RenameVariant,
    Action::DeleteVariant,
    Action::Cases,
    Action::Repeat,
    Action::Order,
    Action::NextCase,
    Action::PrevCase,
    Action::NextRepeat,
    Action::PrevRepeat,
];

const DEFAULTS: &[(Mode, &str, Action)] = &[
    (Mode::Global, "ctrl-s", Action::Send),
    (Mode::Global, "alt-enter", Action::Send),
    (Mode::Global, "ctrl-c", Action::Quit),
    (Mode::Global, "ctrl-q", Action::Quit),
    (Mode::Global, "tab", Action::FocusNext),
    (Mode::Global, "backtab", Action::FocusPrev),
    (Mode::Global, "f1", Action::Help),
    (Mode::Global, "ctrl-e", Action::OpenEditor),
    (Mode::Global, "ctrl-t", Action::ToggleSystem),
    (Mode::Global, "ctrl-x", Action::CancelFocused),
    (Mode::Global, "ctrl-g", Action::CancelAll),
    (Mode::Global, "ctrl-n", Action::NewConversation),
    (Mode::Global, "ctrl-o", Action::Sessions),
    (Mode::Global, "ctrl-b", Action::Blind),
    (Mode::Global, "alt-b", Action::VoteVariants),
    (Mode::Panes, "k", Action::ScrollUp),
    (Mode::Panes, "up", Action::ScrollUp),
    (Mode::Panes, "j", Action::ScrollDown),
    (Mode::Panes, "down", Action::ScrollDown),
    (Mode::Panes, "pageup", Action::PageUp),
    (Mode::Panes, "ctrl-u", Action::PageUp),
    (Mode::Panes, "pagedown", Action::PageDown),
    (Mode::Panes, "ctrl-d", Action::PageDown),
    (Mode::Panes, "g", Action::Top),
    (Mode::Panes, "home", Action::Top),
    (Mode::Panes, "G", Action::Bottom),
    (Mode::Panes, "end", Action::Bottom),
    (Mode::Panes, "z", Action::Zoom),
    (Mode::Panes, "enter", Action::Zoom),
    (Mode::Panes, "space", Action::ToggleTarget),
    (Mode::Panes, "x", Action::CancelFocused),
    (Mode::Panes, "y", Action::Copy),
    (Mode::Panes, "r", Action::ToggleReasoning),
    (Mode::Panes, "h", Action::ToggleHistory),
    (Mode::Panes, "R", Action::RetryPane),
    (Mode::Panes, "d", Action::Details),
    (Mode::Panes, "D", Action::Diff),
    (Mode::Panes, "b", Action::Blind),
    (Mode::Panes, "?", Action::Help),
    (Mode::Panes, "esc", Action::FocusEditor),
    (Mode::Panes, "i", Action::FocusEditor),
    (Mode::Panes, "q", Action::Quit),
    (Mode::Sessions, "up", Action::ScrollUp),
    (Mode::Sessions, "down", Action::ScrollDown),
    (Mode::Sessions, "pageup", Action::PageUp),
    (Mode::Sessions, "pagedown", Action::PageDown),
    (Mode::Sessions, "enter", Action::OpenSession),
    (Mode::Sessions, "f2", Action::RenameSession),
    (Mode::Sessions, "ctrl-r", Action::RenameSession),
    (Mode::Sessions, "delete", Action::DeleteSession),
    (Mode::Sessions, "ctrl-d", Action::DeleteSession),
    (Mode::Sessions, "ctrl-p", Action::ReplaySession),
    (Mode::Sessions, "ctrl-e", Action::RerunSession),
    (Mode::Sessions, "esc", Action::FocusEditor),
    (Mode::Sessions, "ctrl-o", Action::FocusEditor),
    (Mode::Global, "f2", Action::Scoreboard),
    (Mode::Panes, "s", Action::Scoreboard),
    (Mode::Global, "alt-v", Action::AddVariant),
    (Mode::Global, "alt-.", Action::NextVariant),
    (Mode::Global, "alt-,", Action::PrevVariant),
    (Mode::Global, "alt-m", Action::RenameVariant),
    (Mode::Global, "alt-w", Action::DeleteVariant),
    (Mode::Global, "alt-c", Action::Cases),
    (Mode::Global, "alt-j", Action::Schema),
    (Mode::Global, "alt-t", Action::ToolResults),
    (Mode::Global, "alt-p", Action::Repeat),
    (Mode::Global, "alt-o", Action::Order),
    (Mode::Panes, "]", Action::NextCase),
    (Mode::Panes, "[", Action::PrevCase),
    (Mode::Panes, ".", Action::NextRepeat),
    (Mode::Panes, ",", Action::PrevRepeat),
];

impl Default for Keymap {
    fn default() -> Self {
        let mut maps: BTreeMap<Mode, BTreeMap<KeyChord, Action>> = BTreeMap::new();
        for (mode, chord, action) in DEFAULTS {
            // The table above is fixed and covered by a test, so parsing cannot fail here.
            if let Ok(c) = chord.parse() {
                maps.entry(*mode).or_default().insert(c, *action);
            }
        }
        Self { maps }
    }
}

impl Keymap {
    /// The action for `chord` in `mode`, mode bindings first, then global ones.
    pub fn lookup(&self, mode: Mode, chord: &KeyChord) -> Option<Action> {
        let local = self.maps.get(&mode).and_then(|m| m.get(chord));
        local
            .or_else(|| self.maps.get(&Mode::Global).and_then(|m| m.get(chord)))
            .copied()
    }

    /// Rebind `action` in `mode` to exactly `chords` (its previous keys in that mode go).
    pub fn rebind(&mut self, mode: Mode, action: Action, chords: &[KeyChord]) {
        let map = self.maps.entry(mode).or_default();
        map.retain(|_, a| *a != action);
        for c in chords {
            map.insert(*c, action);
        }
    }

    /// Every chord bound to `action` in `mode` (not counting global ones).
    pub fn chords(&self, mode: Mode, action: Action) -> Vec<KeyChord> {
        self.maps.get(&mode).map_or_else(Vec::new, |m| {
            m.iter().filter(|(_, a)| **a == action).map(|(c, _)| *c).collect()
        })
    }

    /// Help rows: (mode, keys joined, description), grouped by mode, one row per action;
    /// opposite pairs (up/down, top/bottom...) share a row so the list fits 80×24. The
    /// sessions browser lists its own keys, so its mode is left out.
    pub fn help_rows(&self) -> Vec<(Mode, String, String)> {
        const PAIRS: [(Action, Action, &str); 11] = [
            (
                Action::OpenEditor,
                Action::ToggleSystem,
                "edit in $EDITOR / system prompt on/off",
            ),
            (Action::Zoom, Action::ToggleTarget, "zoom / switch target on/off"),
            (Action::Details, Action::Blind, "details / blind mode"),
            (
                Action::NewConversation,
                Action::Sessions,
                "new conversation / saved sessions",
            ),
            (
                Action::FocusNext,
                Action::FocusPrev,
                "focus next / previous pane or field",
            ),
            (Action::ScrollUp, Action::ScrollDown, "scroll up / down a line"),
            (Action::PageUp, Action::PageDown, "scroll up / down a page"),
            (Action::Top, Action::Bottom, "top / bottom (and follow new text)"),
            (
                Action::CancelFocused,
                Action::CancelAll,
                "cancel focused pane / all requests",
            ),
            (
                Action::ToggleReasoning,
                Action::ToggleHistory,
                "show or hide reasoning / earlier turns",
            ),
            (
                Action::Help,
                Action::Scoreboard,
                "show or hide this help / scoreboard",
            ),
        ];
        let keys = |mode: Mode, a: Action| {
            self.chords(mode, a)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut rows = Vec::new();
        for (mode, map) in self.maps.iter().filter(|(m, _)| **m != Mode::Sessions) {
            // The experiment keys have rows of their own (see `experiment_help_rows`).
            let mut seen: Vec<Action> = EXPERIMENT_ACTIONS.to_vec();
            for a in map.values() {
                if seen.contains(a) {
                    continue;
                }
                seen.push(*a);
                // A pair shares a row only where both halves are bound.
                let pair = PAIRS.iter().find(|(x, y, _)| {
                    (x == a || y == a) && !keys(*mode, *x).is_empty() && !keys(*mode, *y).is_empty()
                });
                match pair {
                    Some((x, y, desc)) => {
                        seen.extend([*x, *y]);
                        rows.push((
                            *mode,
                            format!("{} / {}", keys(*mode, *x), keys(*mode, *y)),
                            (*desc).to_string(),
                        ));
                    }
                    None => rows.push((*mode, keys(*mode, *a), a.describe().to_string())),
                }
            }
        }
        rows
    }

    /// Help rows of the experiment keys (variants, cases, repeats, case pages), shown
    /// below the others where the terminal has room for them.
    pub fn experiment_help_rows(&self) -> Vec<(Mode, String, String)> {
        const ROWS: [(Mode, Action, Option<Action>, &str); 9] = [
            (
                Mode::Global,
                Action::AddVariant,
                Some(Action::DeleteVariant),
                "add (copy) / delete a prompt variant",
            ),
            (
                Mode::Global,
                Action::NextVariant,
                Some(Action::PrevVariant),
                "next / previous prompt variant",
            ),
            (
                Mode::Global,
                Action::RenameVariant,
                None,
                "rename the prompt variant",
            ),
            (
                Mode::Global,
                Action::Cases,
                Some(Action::Schema),
                "edit the case table (CSV) / the next sends' JSON Schema",
            ),
            (
                Mode::Global,
                Action::ToolResults,
                None,
                "type tool results, run the follow-up round",
            ),
            (
                Mode::Global,
                Action::Repeat,
                Some(Action::Order),
                "repeat count / order of the next experiment",
            ),
            (
                Mode::Panes,
                Action::NextCase,
                Some(Action::PrevCase),
                "next / previous case page of the grid",
            ),
            (
                Mode::Panes,
                Action::NextRepeat,
                Some(Action::PrevRepeat),
                "next / previous run of the focused grid row",
            ),
            (
                Mode::Global,
                Action::VoteVariants,
                None,
                "grid votes: targets in a row / variants in a column",
            ),
        ];
        let keys = |mode: Mode, a: Action| {
            self.chords(mode, a)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        ROWS.iter()
            .filter_map(|(mode, a, b, desc)| {
                let first = keys(*mode, *a);
                let second = b.map(|b| keys(*mode, b));
                match second {
                    _ if first.is_empty() => None,
                    Some(second) if !second.is_empty() => {
                        Some((*mode, format!("{first} / {second}"), (*desc).to_string()))
                    }
                    _ => Some((*mode, first, a.describe().to_string())),
                }
            })
            .collect()
    }

    /// Every key for `action` in `mode` and globally, as hints write them
    /// (`ctrl-s or alt-enter`); `None` when nothing is bound to it.
    pub fn keys_text(&self, mode: Mode, action: Action) -> Option<String> {
        let mut keys: Vec<String> = Vec::new();
        let global = (mode != Mode::Global).then_some(Mode::Global);
        for m in std::iter::once(mode).chain(global) {
            for c in self.chords(m, action) {
                let k = c.to_string();
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        (!keys.is_empty()).then(|| keys.join(" or "))
    }

    /// The keys that send from the prompt editor, as hints say them; when none is bound,
    /// where to bind one.
    pub fn send_keys(&self) -> String {
        self.keys_text(Mode::Editor, Action::Send)
            .unwrap_or_else(|| "a `send` key (none is bound: set one in [keys.global])".into())
    }

    /// The prompt editor's hint before the first send.
    pub fn first_prompt_hint(&self) -> String {
        format!(
            "Type a prompt; {} sends it to every enabled target",
            self.send_keys()
        )
    }

    /// The prompt editor's hint after a send; short enough to fit an 80-column editor with
    /// the default keys.
    pub fn follow_up_hint(&self) -> String {
        let new = self
            .keys_text(Mode::Editor, Action::NewConversation)
            .map(|k| format!("; {k}: new chat"))
            .unwrap_or_default();
        format!("Follow-up ({} sends; up: last prompt{new})", self.send_keys())
    }

    /// The first chord for `action` in `mode` or globally, for footer hints.
    pub fn hint(&self, mode: Mode, action: Action) -> Option<KeyChord> {
        self.chords(mode, action)
            .into_iter()
            .next()
            .or_else(|| self.chords(Mode::Global, action).into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_round_trip() {
        for (_, s, _) in DEFAULTS {
            let c: KeyChord = s.parse().unwrap();
            assert_eq!(c.to_string(), *s);
        }
        assert_eq!(
            Keymap::default().maps.values().map(BTreeMap::len).sum::<usize>(),
            DEFAULTS.len()
        );
    }

    #[test]
    fn events_match_chords() {
        let km = Keymap::default();
        let ev = |code, mods| chord_of(&KeyEvent::new(code, mods)).unwrap();
        assert_eq!(
            km.lookup(Mode::Editor, &ev(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            Some(Action::Send)
        );
        assert_eq!(
            km.lookup(Mode::Editor, &ev(KeyCode::Enter, KeyModifiers::ALT)),
            Some(Action::Send)
        );
        assert_eq!(
            km.lookup(Mode::Editor, &ev(KeyCode::Enter, KeyModifiers::NONE)),
            None,
            "Enter is a newline"
        );
        assert_eq!(
            km.lookup(Mode::Editor, &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            None,
            "typing"
        );
        assert_eq!(
            km.lookup(Mode::Panes, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            km.lookup(Mode::Panes, &ev(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some(Action::ToggleTarget)
        );
        assert_eq!(
            km.lookup(Mode::Panes, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
    }

    #[test]
    fn editor_hints_name_the_keys_that_are_bound_now() {
        let mut km = Keymap::default();
        assert!(km.first_prompt_hint().contains("ctrl-s or alt-enter sends"));
        km.rebind(Mode::Global, Action::Send, &["ctrl-r".parse().unwrap()]);
        assert!(
            km.first_prompt_hint().contains("ctrl-r sends"),
            "{}",
            km.first_prompt_hint()
        );
        assert!(!km.follow_up_hint().contains("ctrl-s"), "{}", km.follow_up_hint());
        km.rebind(Mode::Global, Action::Send, &[]);
        assert!(km.send_keys().contains("none is bound"), "{}", km.send_keys());
    }

    #[test]
    fn rebinding_replaces() {
        let mut km = Keymap::default();
        km.rebind(Mode::Global, Action::Send, &["ctrl-r".parse().unwrap()]);
        assert_eq!(km.chords(Mode::Global, Action::Send).len(), 1);
    }

    #[test]
    fn every_named_key_reads_from_the_terminal_as_it_is_written() {
        let names: Vec<&str> = NAMED.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, crate::keys::NAMED_KEYS);
        for (name, code) in NAMED {
            let chord = chord_of(&KeyEvent::new(code, KeyModifiers::NONE)).unwrap();
            assert_eq!(chord, name.parse::<KeyChord>().unwrap(), "{name}");
        }
    }

    #[test]
    fn readme_lists_every_default_binding() {
        let readme = include_str!("../../../README.md");
        for (mode, chord, action) in DEFAULTS {
            let found = readme.lines().any(|l| {
                l.starts_with(&format!("| {} |", mode.as_str())) && l.contains(&format!("`{chord}`"))
            });
            assert!(
                found,
                "README's keys table lacks `{chord}` ({action:?}) under {}",
                mode.as_str()
            );
        }
    }

    #[test]
    fn help_lists_every_bound_action_once_per_mode() {
        let rows = Keymap::default().help_rows();
        assert!(
            rows.iter()
                .any(|(m, k, d)| *m == Mode::Global && k == "ctrl-s alt-enter" && d.starts_with("send"))
        );
        let panes = rows.iter().filter(|(m, _, _)| *m == Mode::Panes).count();
        assert_eq!(panes, 13);
        // The overlay adds one row for the vote keys, and its border takes two.
        assert!(
            rows.len() + 3 <= 24,
            "help fits an 80x24 terminal: {} rows",
            rows.len()
        );
    }
}
