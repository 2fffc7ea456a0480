//! Everything around the panes: status bar, editors' frames, footer hints, help overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use super::header_fields::{ALWAYS, Field, fit};

use crate::keys::Action;
use crate::keys::Mode;
use crate::tui::model::app::{App, Focus};
use crate::tui::model::workspace::Overlay;
use crate::tui::theme::Role;

/// The status bar, by importance: what the session has cost, the turn, the saved
/// session's id, the page of panes, then notices and the status text. Whatever does not
/// fit goes whole from the end of that list; the notice and the status text are cut with
/// `…` rather than dropped while a useful part of them fits.
pub fn status_bar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let muted = t.style(Role::Muted);
    let sep = || Span::styled(" · ", muted);
    let enabled = app.enabled.iter().filter(|e| **e).count();
    let mut fields = vec![Field::extra(
        ALWAYS,
        sep(),
        vec![
            Span::styled(" prism ", t.style(Role::Title)),
            Span::styled(format!("· {enabled}/{} targets", app.targets.len()), muted),
        ],
    )];
    let hidden = app.names_hidden();
    // While blind, the spend is not shown: each answer's step in it would price its model.
    if !hidden && let Some(spend) = spend_label(app, area.width / 2) {
        fields.push(Field::number(
            ALWAYS,
            sep(),
            vec![Span::styled(spend, t.style(Role::Metric))],
        ));
    }
    if hidden {
        fields.push(Field::extra(
            ALWAYS,
            sep(),
            vec![Span::styled("blind", t.style(Role::Metric))],
        ));
    }
    // A single exchange needs no turn count; from the second on it says where you are.
    if app.conversation.turn >= 2 {
        fields.push(Field::number(
            1,
            sep(),
            vec![Span::styled(
                format!("turn {}", app.conversation.turn),
                t.style(Role::Metric),
            )],
        ));
    }
    if let Some(label) = app.inline_schema.label() {
        fields.push(Field::text(
            1,
            sep(),
            vec![Span::styled(label, t.style(Role::Metric))],
        ));
    }
    if let Some(id) = &app.session_id {
        // A session's id or name can carry the targets' names.
        let text = if hidden {
            "saved".to_string()
        } else {
            format!("saved {id}")
        };
        fields.push(Field::text(2, sep(), vec![Span::styled(text, muted)]));
    }
    let (page, pages) = app.pane_page;
    if pages > 1 && app.grid().is_none() {
        let key = app
            .keymap
            .hint(Mode::Global, Action::FocusNext)
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        fields.push(Field::extra(
            2,
            sep(),
            vec![Span::styled(
                format!("panes page {}/{pages}{key}", page + 1),
                t.style(Role::FinishWarn),
            )],
        ));
    }
    if let Some(n) = &app.notice {
        fields.push(Field::text(
            3,
            sep(),
            vec![Span::styled(app.mask(n), t.style(Role::FinishWarn))],
        ));
    }
    let status = app.status_text();
    if !status.is_empty() {
        fields.push(Field::text(
            4,
            sep(),
            vec![Span::styled(app.mask(status), t.style(Role::Base))],
        ));
    }
    let line = fit(&fields, area.width, muted).line;
    frame.render_widget(Paragraph::new(line), area);
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
        // Blind variant votes: the editor's variant name would tell which one is shown.
        (None, Some(_)) if app.grid().is_some_and(|g| g.variants_hidden()) => {
            Some("variant names hidden until every column has its vote".into())
        }
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

/// The footer: key hints from the live keymap for where the keys go now. Help and
/// quit are always among them; the others go, least useful first, when the terminal is
/// narrow. While sends are off (a recording on screen), no send key is offered.
pub fn footer(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    // (action, priority): lower stays longer.
    let (mode, actions): (Mode, &[(Action, u8)]) = match app.focus {
        Focus::Pane(_) => (
            Mode::Panes,
            &[
                (Action::ScrollDown, 4),
                (Action::Zoom, 2),
                (Action::ToggleTarget, 3),
                (Action::CancelFocused, 2),
                (Action::Copy, 3),
                (Action::ToggleReasoning, 5),
                (Action::FocusEditor, 1),
                (Action::Help, ALWAYS),
                (Action::Quit, ALWAYS),
            ],
        ),
        _ => (
            Mode::Editor,
            &[
                (Action::Send, 1),
                (Action::FocusNext, 2),
                (Action::ToggleSystem, 5),
                (Action::OpenEditor, 4),
                (Action::CancelAll, 3),
                (Action::Help, ALWAYS),
                (Action::Quit, ALWAYS),
                (Action::Sessions, 3),
            ],
        ),
    };
    let sends_off = app.sends_off().is_some();
    let hint = |priority, key: String, label: &str| {
        Field::extra(
            priority,
            Span::raw(""),
            vec![
                Span::styled(format!(" {key}"), t.style(Role::KeyHint)),
                Span::styled(format!(" {label} "), t.style(Role::Muted)),
            ],
        )
    };
    let mut fields = Vec::new();
    if app.vote_open() {
        let alt = if mode == Mode::Panes { "" } else { "alt-" };
        let n = app.panes.len().min(9);
        fields.push(hint(1, format!("{alt}1-{n}"), "best"));
        fields.push(hint(1, format!("{alt}="), "tie"));
        fields.push(hint(1, format!("{alt}0"), "all bad"));
    }
    for (a, priority) in actions {
        if *a == Action::Send && sends_off {
            continue;
        }
        if let Some(chord) = app.keymap.hint(mode, *a) {
            fields.push(hint(*priority, chord.to_string(), a.label()));
        }
    }
    let line = fit(&fields, area.width, t.style(Role::Muted)).line;
    frame.render_widget(Paragraph::new(line), area);
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
