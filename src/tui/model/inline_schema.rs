//! A JSON Schema typed in the workbench (alt-j), in a text area over the panes like the
//! case table: closed, it is checked, and a valid one is carried by every following send,
//! in place of the targets' configured schemas, until it is cleared (an empty editor).
//! An invalid one stops sends with a one-line notice: a send must never quietly go
//! without the schema the user meant it to carry.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::app::App;
use crate::keys::Action;
use crate::target::OutputSchema;

/// Where the inline schema stands.
#[derive(Default)]
pub struct InlineSchema {
    /// The editor, while open.
    pub editor: Option<TextArea<'static>>,
    /// What was typed, kept when the editor closes.
    pub text: String,
    /// The checked schema, or why the text is not one; `None` when there is none.
    pub schema: Option<Result<OutputSchema, String>>,
}

/// The schema's name: its `title` as a tool name may spell it, else `inline`.
fn name_of(text: &str) -> String {
    let title = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("title").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default();
    let name: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.trim_matches('_').is_empty() {
        "inline".into()
    } else {
        name
    }
}

impl InlineSchema {
    /// The schema the next sends carry; `Err` with the notice when the text is no schema.
    pub fn for_send(&self) -> Result<Option<OutputSchema>, String> {
        match &self.schema {
            None => Ok(None),
            Some(Ok(s)) => Ok(Some(s.clone())),
            Some(Err(why)) => Err(format!(
                "not sent: the inline schema is invalid ({why}): fix it or empty it (alt-j)"
            )),
        }
    }

    /// `targets` with the inline schema as their own, for an experiment (whose cells'
    /// requests are built from the targets).
    pub fn onto(&self, mut targets: Vec<crate::target::Target>) -> Vec<crate::target::Target> {
        if let Some(Ok(schema)) = &self.schema {
            for t in &mut targets {
                t.params.schema = Some(schema.clone());
            }
        }
        targets
    }

    /// The status bar's `schema: NAME` (`schema: invalid` when it is not one).
    pub fn label(&self) -> Option<String> {
        match &self.schema {
            None => None,
            Some(Ok(s)) => Some(format!("schema: {}", s.name)),
            Some(Err(_)) => Some("schema: invalid".into()),
        }
    }

    /// The problem with the text in the open editor, for its title.
    pub fn problem(&self) -> Option<String> {
        let editor = self.editor.as_ref()?;
        let text = editor.lines().join("\n");
        if text.trim().is_empty() {
            return None;
        }
        crate::schema::from_text(&text, "schema", &name_of(&text)).err()
    }
}

impl App {
    /// Open the inline schema editor, or close it and check what was typed.
    pub(super) fn toggle_schema(&mut self) {
        let Some(editor) = self.inline_schema.editor.take() else {
            let mut editor = TextArea::from(self.inline_schema.text.lines().map(str::to_string));
            editor.set_placeholder_text(
                "{\"title\": \"city\", \"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}, \"required\": [\"name\"]}",
            );
            self.inline_schema.editor = Some(editor);
            return;
        };
        let text = editor.lines().join("\n");
        self.inline_schema.text = text.clone();
        if text.trim().is_empty() {
            self.inline_schema.schema = None;
            self.notice = Some("no inline schema: sends carry the targets' own, if any".into());
            return;
        }
        let checked = crate::schema::from_text(&text, "schema", &name_of(&text));
        self.notice = Some(match &checked {
            Ok(s) => format!("schema `{}` applies to the next sends", s.name),
            Err(why) => format!("inline schema: {why}: nothing will be sent until it is fixed or emptied"),
        });
        self.inline_schema.schema = Some(checked);
    }

    /// A key while the schema editor is open: esc (or the schema key) closes it, anything
    /// else edits the schema. `false` when it is not open.
    pub(super) fn schema_key(&mut self, key: KeyEvent, action: Option<Action>) -> bool {
        if action == Some(Action::Quit) && key.modifiers.contains(KeyModifiers::CONTROL) {
            return false;
        }
        let Some(editor) = self.inline_schema.editor.as_mut() else {
            return false;
        };
        if key.code == KeyCode::Esc || action == Some(Action::Schema) {
            self.toggle_schema();
        } else {
            editor.input(key);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_name_is_the_title_spelled_as_a_tool_name_else_inline() {
        assert_eq!(name_of(r#"{"title": "City info"}"#), "City_info");
        assert_eq!(name_of(r#"{"type": "object"}"#), "inline");
        assert_eq!(name_of("not json"), "inline");
    }

    #[test]
    fn an_invalid_schema_blocks_sends_and_says_why() {
        let s = InlineSchema {
            schema: Some(Err("schema:1:9: not a valid JSON Schema".into())),
            ..InlineSchema::default()
        };
        let why = s.for_send().unwrap_err();
        assert!(why.contains("not sent") && why.contains("alt-j"), "{why}");
        assert_eq!(s.label().as_deref(), Some("schema: invalid"));
        assert_eq!(InlineSchema::default().for_send().unwrap(), None);
    }
}
