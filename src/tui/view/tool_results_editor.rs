//! The tool results editor over the panes, framed like the schema editor: what to type,
//! or what is wrong with what was typed (`line:col`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use crate::tui::model::app::App;
use crate::tui::theme::Role;

/// Give the editor, when open, its frame.
pub fn prepare(app: &mut App) {
    let t = app.theme.clone();
    let title = match &app.typed_results.problem {
        Some(why) => format!("tool results: {why}"),
        None => "tool results by tool name (JSON; a string goes as written) · esc runs the follow-up round · empty: send nothing".into(),
    };
    let Some(editor) = app.typed_results.editor.as_mut() else {
        return;
    };
    editor.set_block(super::framed(&t, &title, true));
    editor.set_style(t.style(Role::Base));
    editor.set_cursor_style(Style::new().add_modifier(Modifier::REVERSED));
}

/// The editor over the panes, when open.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if let Some(editor) = &app.typed_results.editor {
        frame.render_widget(ratatui::widgets::Clear, area);
        frame.render_widget(editor, area);
    }
}
