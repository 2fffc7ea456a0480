//! The compact strip: one line per target with every number of its header, shown under
//! the panes when they are too narrow to show their numbers themselves.
//!
//! ```text
//!  gpt-4o-mini   ● done · TTFT 420 ms · 111 tok/s · 1.5 s · in 26 out 140 $0.000598 · stop
//!  claude-sonnet ● streaming · TTFT 610 ms · ~88 tok/s · 1.2 s · in 26 out ~61
//! ```
//!
//! The fields are the panes' own (see [`super::pane::pane_fields`]), so a number reads
//! the same in both places; a line too long for the terminal drops whole fields, least
//! important first, like a pane header does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::header_fields::{ALWAYS, Field, elide_middle, fit};
use super::pane::{drops_numbers, pane_fields};
use crate::tui::model::app::App;
use crate::tui::theme::Role;

/// Inside its border, a pane narrower than this cannot show a full header (state, TTFT,
/// rate and clock; tokens, cost and finish), so the strip shows the numbers. Deciding by
/// width as well as by what the header holds now keeps the strip from coming and going
/// while answers stream.
pub const FULL_HEADER: u16 = 46;

/// The widest the name column gets; longer names lose their middle.
const NAME_W: usize = 14;

/// Whether the strip is needed for panes `inner_width` columns wide (inside their
/// border): they are narrower than a full header, or one of them has to leave a number
/// out now.
pub fn needed(app: &App, inner_width: u16) -> bool {
    if app.panes.is_empty() {
        return false;
    }
    inner_width < FULL_HEADER || (0..app.panes.len()).any(|i| drops_numbers(app, i, inner_width))
}

/// The name shown for target `i`: its label while names are hidden.
fn name(app: &App, i: usize) -> String {
    if app.names_hidden() {
        app.blind.label(i).to_string()
    } else {
        app.targets[i].name.clone()
    }
}

/// The strip's lines for `width` columns, one per target in screen order.
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let order = app.screen_order();
    let name_w = order
        .iter()
        .map(|i| name(app, *i).width())
        .max()
        .unwrap_or(0)
        .min(NAME_W);
    let muted = t.style(Role::Muted);
    order
        .iter()
        .map(|&i| {
            let label = elide_middle(&name(app, i), name_w);
            let pad = " ".repeat(name_w - label.width());
            let [first, second] = pane_fields(app, i);
            let mut fields = vec![Field::extra(
                ALWAYS,
                Span::raw(""),
                vec![Span::styled(format!(" {label}{pad} "), t.style(Role::Title))],
            )];
            // One space apart: the labels and units set the numbers off, and every
            // column counts on an 80-column terminal.
            fields.extend(first.into_iter().chain(second).enumerate().map(|(k, f)| Field {
                lead: Span::raw(if k == 0 { "" } else { " " }),
                ..f
            }));
            fit(&fields, width, muted).line
        })
        .collect()
}

/// Draw the strip in `area`, one target a line.
pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    for (row, line) in lines(app, area.width)
        .iter()
        .enumerate()
        .take(usize::from(area.height))
    {
        frame
            .buffer_mut()
            .set_line(area.x, area.y + row as u16, line, area.width);
    }
}
