//! The sessions browser overlay.
//!
//! ```text
//! ╭ sessions · 3 of 12 ─────────────────────────────────────────────────╮
//! │ filter: demo▏                                                        │
//! │ date                    name or first prompt   targets   turns  cost │
//! │ 2025-01-02 11:31 +01:00 Explain streaming…     gpt, claude   2 $0.01 │
//! │ 2025-01-01 10:00 +01:00 ✗ events.jsonl:3:1: corrupt record: …        │
//! │ enter open  f2 rename  delete delete  ctrl-p replay  ctrl-e re-run … │
//! ╰──────────────────────────────────────────────────────────────────────╯
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Cell, Clear, Paragraph, Row, Table, TableState};

use crate::keys::Action;
use crate::keys::Mode;
use crate::session::local_time::{self, TimeZone};
use crate::session::schema::Meta;
use crate::tui::model::app::App;
use crate::tui::model::browser::{Browser, Editing, Entry};
use crate::tui::theme::Role;

/// `2025-01-02 10:31 +01:00`: local time with its offset.
const DATE_WIDTH: u16 = 23;

pub fn draw(frame: &mut Frame<'_>, app: &App, b: &Browser) {
    let t = &app.theme;
    let area = frame.area();
    let visible = b.visible();
    let total = b.entries.as_ref().map_or(0, Vec::len);
    let w = area.width.saturating_sub(4).min(120);
    let rows = u16::try_from(visible.len()).unwrap_or(u16::MAX).max(1);
    let h = rows
        .saturating_add(5)
        .min(area.height.saturating_sub(2))
        .max(5.min(area.height));
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let title = if b.filter.is_empty() {
        format!(" sessions · {total} ")
    } else {
        format!(" sessions · {} of {total} ", visible.len())
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.style(Role::BorderFocused))
        .title(Span::styled(title, t.style(Role::Title)));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let [filter, list, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" filter: ", t.style(Role::Muted)),
            Span::styled(b.filter.clone(), t.style(Role::Base)),
            Span::styled(
                if b.editing == Editing::Filter { "▏" } else { "" },
                t.style(Role::KeyHint),
            ),
        ])),
        filter,
    );
    let message = match (&b.entries, &b.error) {
        (None, _) => Some("reading the sessions directory…".to_string()),
        (_, Some(e)) => Some(e.clone()),
        (Some(all), None) if all.is_empty() => {
            Some("no sessions yet: every send is saved automatically".to_string())
        }
        _ if visible.is_empty() => Some("nothing matches the filter".to_string()),
        _ => None,
    };
    if let Some(m) = message {
        let role = if b.error.is_some() {
            Role::Error
        } else {
            Role::Muted
        };
        frame.render_widget(Paragraph::new(Span::styled(format!(" {m}"), t.style(role))), list);
    } else {
        let table = Table::new(
            visible.iter().map(|e| row(app, e)),
            [
                Constraint::Length(DATE_WIDTH),
                Constraint::Min(16),
                Constraint::Length(28),
                Constraint::Length(5),
                Constraint::Length(11),
            ],
        )
        .header(
            Row::new([
                Cell::from("date"),
                Cell::from("name or first prompt"),
                Cell::from("targets"),
                Cell::from(Line::from("turns").right_aligned()),
                Cell::from(Line::from("cost").right_aligned()),
            ])
            .style(t.style(Role::Muted)),
        )
        .column_spacing(1)
        .row_highlight_style(t.style(Role::Selection))
        .highlight_symbol("›")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
        let mut state = TableState::default().with_selected(Some(b.selected));
        frame.render_stateful_widget(table, list, &mut state);
        // A broken session's error is one line that needs the whole row, not one column.
        let x = list.x + 1 + DATE_WIDTH + 1;
        let width = (list.x + list.width).saturating_sub(x);
        for (row, e) in visible.iter().enumerate().skip(state.offset()) {
            let y = list.y + 1 + u16::try_from(row - state.offset()).unwrap_or(u16::MAX);
            if y >= list.y + list.height {
                break;
            }
            if let Err(why) = &e.meta {
                let mut style = t.style(Role::Error);
                if row == b.selected {
                    style = style.patch(t.style(Role::Selection));
                }
                let line = Line::from(Span::styled(format!("✗ {why}"), style));
                frame.buffer_mut().set_line(x, y, &line, width);
            }
        }
    }
    frame.render_widget(Paragraph::new(hint_line(app, b)), hints);
}

fn row<'a>(app: &App, e: &Entry) -> Row<'a> {
    let t = &app.theme;
    match &e.meta {
        Ok(m) => Row::new([
            Cell::from(local_time::readable(&m.created, app.zone())),
            match &m.name {
                Some(n) => Cell::from(Span::styled(n.clone(), t.style(Role::Title))),
                None => Cell::from(m.first_prompt.clone()),
            },
            Cell::from(Span::styled(m.targets.join(", "), t.style(Role::Muted))),
            Cell::from(Line::from(m.turns.to_string()).right_aligned()),
            Cell::from(Line::from(Span::styled(cost(m), t.style(Role::Metric))).right_aligned()),
        ]),
        // The error itself is drawn over the rest of the row after the table.
        Err(_) => Row::new([Cell::from(id_date(&e.id, app.zone()))]),
    }
}

/// The creation time a session id starts with (UTC), in local time, for sessions whose
/// summary cannot be read; the id itself when it does not start with one.
fn id_date(id: &str, zone: &TimeZone) -> String {
    local_time::readable_id(id, zone).unwrap_or_else(|| id.to_string())
}

/// The session's cost; `≥` when some requests had no known price.
fn cost(m: &Meta) -> String {
    let usd = if m.cost_usd >= 0.01 {
        format!("${:.4}", m.cost_usd)
    } else {
        format!("${:.6}", m.cost_usd)
    };
    match (m.cost_incomplete, m.cost_usd > 0.0) {
        (true, false) => "no price".into(),
        (true, true) => format!("≥{usd}"),
        (false, _) => usd,
    }
}

fn hint_line(app: &App, b: &Browser) -> Line<'static> {
    let t = &app.theme;
    match &b.editing {
        Editing::Rename(name) => Line::from(vec![
            Span::styled(" name: ", t.style(Role::Muted)),
            Span::styled(name.clone(), t.style(Role::Base)),
            Span::styled("▏", t.style(Role::KeyHint)),
            Span::styled("  enter saves · esc keeps the old name", t.style(Role::Muted)),
        ]),
        Editing::ConfirmDelete => Line::from(Span::styled(
            format!(
                " delete {}? y/n",
                b.current().map(|e| e.id.as_str()).unwrap_or("")
            ),
            t.style(Role::FinishWarn),
        )),
        Editing::Filter => {
            let mut spans = Vec::new();
            for (a, label) in [
                (Action::OpenSession, "open"),
                (Action::RenameSession, "rename"),
                (Action::DeleteSession, "delete"),
                (Action::ReplaySession, "replay"),
                (Action::RerunSession, "re-run"),
                (Action::FocusEditor, "close"),
            ] {
                // Plain keys read better in a hint than their ctrl- twins.
                let chords = app.keymap.chords(Mode::Sessions, a);
                if let Some(chord) = chords.iter().min_by_key(|c| c.ctrl) {
                    spans.push(Span::styled(format!(" {chord}"), t.style(Role::KeyHint)));
                    spans.push(Span::styled(format!(" {label} "), t.style(Role::Muted)));
                }
            }
            Line::from(spans)
        }
    }
}
