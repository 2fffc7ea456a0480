//! The prompt editor empties after a send, ready for a follow-up; `Up` in an empty
//! editor brings back earlier prompts (newest first) and `Down` goes forward again, as
//! in a shell.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::app::{App, Focus};

/// Prompts sent in this workbench, oldest first, and where recall stands.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    sent: Vec<String>,
    /// Index into `sent` of the prompt shown, while recalling.
    at: Option<usize>,
}

fn editor_with(text: &str) -> TextArea<'static> {
    let mut t = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

impl App {
    /// Empty the editor after `prompt` was sent and remember it.
    pub(super) fn prompt_sent(&mut self, prompt: &str) {
        if self.recall.sent.last().map(String::as_str) != Some(prompt) {
            self.recall.sent.push(prompt.to_string());
        }
        self.recall.at = None;
        let mut empty = TextArea::default();
        empty.set_placeholder_text(self.keymap.follow_up_hint());
        self.prompt = empty;
    }

    /// `Up`/`Down` in the prompt editor while it is empty or shows a recalled prompt.
    /// Whether the key was used.
    pub(super) fn recall_key(&mut self, key: &KeyEvent) -> bool {
        if self.focus != Focus::Prompt || key.modifiers != KeyModifiers::NONE || self.recall.sent.is_empty() {
            return false;
        }
        let text = self.prompt.lines().join("\n");
        let showing = self.recall.at.filter(|&i| self.recall.sent.get(i) == Some(&text));
        if !text.is_empty() && showing.is_none() {
            // The user's own text: arrows move the cursor.
            self.recall.at = None;
            return false;
        }
        let last = self.recall.sent.len() - 1;
        let next = match (key.code, showing) {
            (KeyCode::Up, None) => Some(last),
            (KeyCode::Up, Some(i)) => Some(i.saturating_sub(1)),
            (KeyCode::Down, Some(i)) if i < last => Some(i + 1),
            (KeyCode::Down, Some(_)) => None,
            _ => return false,
        };
        self.recall.at = next;
        self.prompt = match next {
            Some(i) => editor_with(&self.recall.sent[i]),
            None => TextArea::default(),
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::input::keymap::Keymap;

    fn app() -> App {
        App::new(
            Vec::new(),
            Keymap::default(),
            crate::tui::theme::Theme::default(),
            String::new(),
        )
    }

    fn press(app: &mut App, code: KeyCode) -> bool {
        app.recall_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn up_recalls_newest_first_and_down_comes_back_to_empty() {
        let mut a = app();
        assert!(
            !press(&mut a, KeyCode::Up),
            "nothing sent: the arrow moves the cursor"
        );
        a.prompt_sent("first");
        a.prompt_sent("second\nline");
        assert!(a.prompt.lines().join("").is_empty());
        assert!(press(&mut a, KeyCode::Up));
        assert_eq!(a.prompt.lines().join("\n"), "second\nline");
        assert!(press(&mut a, KeyCode::Up));
        assert_eq!(a.prompt.lines().join("\n"), "first");
        assert!(press(&mut a, KeyCode::Up), "stays at the oldest");
        assert_eq!(a.prompt.lines().join("\n"), "first");
        assert!(press(&mut a, KeyCode::Down));
        assert!(press(&mut a, KeyCode::Down));
        assert_eq!(a.prompt.lines().join(""), "");
        // Edited text is the user's: arrows are theirs again.
        a.prompt = editor_with("my own");
        assert!(!press(&mut a, KeyCode::Up));
    }
}
