//! The inline JSON Schema editor over the panes, framed like the case table's: what to
//! type, or what is wrong with what was typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use crate::tui::model::app::App;
use crate::tui::theme::Role;

/// Give the editor, when open, its frame.
pub fn prepare(app: &mut App) {
    let problem = app.inline_schema.problem();
    let t = app.theme.clone();
    let Some(editor) = app.inline_schema.editor.as_mut() else {
        return;
    };
    let title = match problem {
        Some(why) => format!("schema: {why}"),
        None => "JSON Schema for the next sends (empty: none) · esc closes".into(),
    };
    editor.set_block(super::framed(&t, &title, true));
    editor.set_style(t.style(Role::Base));
    editor.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
}

/// The editor over the panes, when open.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if let Some(editor) = &app.inline_schema.editor {
        frame.render_widget(ratatui::widgets::Clear, area);
        frame.render_widget(editor, area);
    }
}
