//! Everything around the panes: status bar, editors' frames, footer hints, help overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::keys::Action;
use crate::keys::Mode;
use crate::tui::model::app::{App, Focus};
use crate::tui::model::workspace::Overlay;
use crate::tui::theme::Role;

pub fn status_bar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let enabled = app.enabled.iter().filter(|e| **e).count();
    let mut spans = vec![
        Span::styled(" prism ", t.style(Role::Title)),
        Span::styled(
            format!("· {enabled}/{} targets · ", app.targets.len()),
            t.style(Role::Muted),
        ),
    ];
    // A single exchange needs no turn count; from the second on it says where you are.
    if app.conversation.turn >= 2 {
        spans.push(Span::styled(
            format!("turn {} · ", app.conversation.turn),
            t.style(Role::Metric),
        ));
    }
    let hidden = app.names_hidden();
    if hidden {
        spans.push(Span::styled("blind · ", t.style(Role::Metric)));
    }
    if let Some(label) = app.inline_schema.label() {
        spans.push(Span::styled(format!("{label} · "), t.style(Role::Metric)));
    }
    if let Some(id) = &app.session_id {
        // A session's id or name can carry the targets' names.
        let id = if hidden { "" } else { id.as_str() };
        spans.push(Span::styled(
            format!("saved {id} · ").replace("  ", " "),
            t.style(Role::Muted),
        ));
    }
    // A notice goes before the status text, which can be long enough to push it off.
    if let Some(n) = &app.notice {
        spans.push(Span::styled(
            format!("{} · ", app.mask(n)),
            t.style(Role::FinishWarn),
        ));
    }
    spans.push(Span::styled(app.mask(&app.status), t.style(Role::Base)));
    // The spend is pinned to the right so a long notice or status never pushes it off.
    // While blind, the spend is not shown: each answer's step in it would price its model.
    let spend = spend_label(app, area.width / 2)
        .filter(|_| !hidden)
        .map_or_else(String::new, |s| format!(" {s} "));
    let right = (spend.width() as u16).min(area.width);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right)]).areas(area);
    let spans = fit(spans, usize::from(left_area.width), t.style(Role::Muted));
    frame.render_widget(Paragraph::new(Line::from(spans)), left_area);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(spend, t.style(Role::Metric)))).right_aligned(),
        right_area,
    );
}

/// `spans` cut to `width` columns; a cut is marked with `…` so that it does not read as
/// the end of the text.
fn fit(spans: Vec<Span<'static>>, width: usize, mark: Style) -> Vec<Span<'static>> {
    if spans.iter().map(Span::width).sum::<usize>() <= width || width == 0 {
        return spans;
    }
    let mut room = width - 1;
    let mut out = Vec::new();
    for span in spans {
        if span.width() <= room {
            room -= span.width();
            out.push(span);
            continue;
        }
        let mut cut = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if w > room {
                break;
            }
            room -= w;
            cut.push(c);
        }
        out.push(Span::styled(cut, span.style));
        break;
    }
    out.push(Span::styled("…", mark));
    out
}

/// What the budget counts, for the status bar: live spend since the window opened (at
/// start or on a new conversation) and the budget when one is set; `None` while there is
/// nothing to say. The long form names the key that starts a new window; `room` columns
/// decide whether it fits.
pub fn spend_label(app: &App, room: u16) -> Option<String> {
    if app.spent.0 == 0 && app.budget_usd.is_none() {
        return None;
    }
    let mark = if app.spent.1 { "~" } else { "" };
    let spent = format!("spent {mark}${:.6}", crate::pricing::usd(app.spent.0));
    let budget = app.budget_usd.map(crate::preflight::limit_usd);
    let since = app
        .keymap
        .hint(Mode::Global, Action::NewConversation)
        .map(|k| format!(" since {k}"))
        .unwrap_or_default();
    let long = match &budget {
        Some(b) => format!("{spent} of {b} budget{since}"),
        None => format!("{spent}{since}"),
    };
    if long.width() <= usize::from(room) {
        return Some(long);
    }
    Some(match budget {
        Some(b) => format!("{spent}/{b}"),
        None => spent,
    })
}

/// Give the editors their frames: titles, focus (see [`super::framed`]), cursor only
/// where typing goes.
pub fn prepare_editors(app: &mut App) {
    let t = app.theme.clone();
    let (prompt_title, system_title) = editor_titles(app);
    for (focus, title) in [
        (Focus::Prompt, &prompt_title[..]),
        (Focus::System, &system_title[..]),
    ] {
        // While the browser is open, keys go to its filter, not to the editor.
        let focused = app.focus == focus && !matches!(app.overlay, Overlay::Browser(_));
        let editor = if focus == Focus::Prompt {
            &mut app.prompt
        } else {
            &mut app.system
        };
        editor.set_block(super::framed(&t, title, focused));
        editor.set_style(t.style(Role::Base));
        // The editor's own placeholder style is a colour; without colours a hint must
        // still look unlike typed text.
        let hint = t.style(Role::Muted);
        editor.set_placeholder_style(if t.has_color() {
            hint
        } else {
            hint.add_modifier(Modifier::DIM)
        });
        editor.set_cursor_line_style(Style::new());
        editor.set_cursor_style(if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        });
    }
}

/// The editors' titles: the current variant (and the name being typed for it) and the
/// next experiment's settings, when there is more than the plain prompt.
fn editor_titles(app: &App) -> (String, String) {
    let v = app.editor_variants();
    let variant = match (&v.naming, v.title()) {
        (Some(name), _) => Some(format!(
            "name variant {}: {name}▏ (enter keeps, esc leaves)",
            v.current + 1
        )),
        (None, title) => title,
    };
    let mut prompt = String::from("prompt");
    for part in [variant.clone(), v.settings()].into_iter().flatten() {
        prompt.push_str(" · ");
        prompt.push_str(&part);
    }
    let system = match variant {
        Some(part) => format!(" system prompt · {part} "),
        None => " system prompt ".to_string(),
    };
    (format!(" {prompt} "), system)
}

pub fn footer(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let (mode, actions): (Mode, &[Action]) = match app.focus {
        Focus::Pane(_) => (
            Mode::Panes,
            &[
                Action::ScrollDown,
                Action::Zoom,
                Action::ToggleTarget,
                Action::CancelFocused,
                Action::Copy,
                Action::ToggleReasoning,
                Action::FocusEditor,
                Action::Help,
                Action::Quit,
            ],
        ),
        _ => (
            Mode::Editor,
            &[
                Action::Send,
                Action::FocusNext,
                Action::ToggleSystem,
                Action::OpenEditor,
                Action::CancelAll,
                Action::Help,
                Action::Quit,
                Action::Sessions,
            ],
        ),
    };
    let mut spans = Vec::new();
    if app.vote_open() {
        let alt = if mode == Mode::Panes { "" } else { "alt-" };
        let n = app.panes.len().min(9);
        spans.push(Span::styled(format!(" {alt}1-{n}"), t.style(Role::KeyHint)));
        spans.push(Span::styled(" best ", t.style(Role::Muted)));
        spans.push(Span::styled(format!(" {alt}="), t.style(Role::KeyHint)));
        spans.push(Span::styled(" tie ", t.style(Role::Muted)));
        spans.push(Span::styled(format!(" {alt}0"), t.style(Role::KeyHint)));
        spans.push(Span::styled(" all bad ", t.style(Role::Muted)));
    }
    for a in actions {
        if let Some(chord) = app.keymap.hint(mode, *a) {
            spans.push(Span::styled(format!(" {chord}"), t.style(Role::KeyHint)));
            spans.push(Span::styled(format!(" {} ", a.label()), t.style(Role::Muted)));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn help(frame: &mut Frame<'_>, app: &App) {
    let t = &app.theme;
    let mut rows = app.keymap.help_rows();
    // Votes are fixed keys, not bindable actions: digits are text in the editor.
    rows.push((
        Mode::Panes,
        "1-9 / = / 0 (editor: alt-)".into(),
        "vote: best (A is 1) / tie / all bad".into(),
    ));
    let area = frame.area();
    // The experiment keys follow where there is room (not in 80×24, which the others fill).
    let more = app.keymap.experiment_help_rows();
    if rows.len() + more.len() + 2 <= usize::from(area.height) {
        rows.extend(more);
    }
    let h = (rows.len() as u16 + 2).min(area.height);
    let w = 80.min(area.width);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let table = Table::new(
        rows.iter().map(|(mode, keys, desc)| {
            Row::new([
                Cell::from(Span::styled(mode.as_str(), t.style(Role::Muted))),
                Cell::from(Span::styled(keys.clone(), t.style(Role::KeyHint))),
                Cell::from(desc.clone()),
            ])
        }),
        [Constraint::Length(7), Constraint::Length(31), Constraint::Min(10)],
    )
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(t.style(Role::BorderFocused))
            .title(Span::styled(
                " keys (rebind in [keys.<mode>]; any key closes) ",
                t.style(Role::Title),
            )),
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(table, rect);
}
