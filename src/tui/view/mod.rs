//! Drawing. `prepare` (mutable) brings caches up to date for the current size; `draw`
//! only reads the model, so a frame costs the visible lines.
//!
//! ```text
//!  prism · 3 targets · demo: mock server on 127.0.0.1:PORT           status bar
//! ╭ gpt · openai … ─╮╭ claude · anthropic ─╮╭ gemini · gemini ─╮
//! │● streaming  TTFT│ │● done  TTFT 420 ms │ │◌ waiting …       │
//! │in 26  out ~88  … │ │in 26  out 140 stop │ │                  │    panes (grid)
//! │answer text…     │ │answer text…        │ │                  │
//! ╰─────────────────╯╰────────────────────╯╰──────────────────╯
//! ╭ system ─────────────────────────────────────────────────────╮    (ctrl-t)
//! ╭ prompt ─────────────────────────────────────────────────────╮
//! │ …                                                          │
//! ╰─────────────────────────────────────────────────────────────╯
//!  ctrl-s send · tab focus · f1 help · ctrl-c quit                     footer
//! ```

mod browser;
mod cache_line;
mod chrome;
pub mod compare;
pub mod details;
pub mod grid;
pub mod header_fields;
pub mod layout;
mod pane;
mod schema_badge;
mod schema_editor;
pub mod scoreboard;
pub mod strip;
mod tool_results_editor;

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType};

use super::model::app::{App, Focus};
use super::model::workspace::Overlay;
use super::theme::{Role, Theme};

/// Marks the focused pane or editor's title (see [`framed`]).
pub const FOCUS_MARK: &str = "▶";

/// The frame of a pane or an editor. Focus is shown by shape as well as colour, so it
/// survives `NO_COLOR`, monochrome terminals and colour blindness: the focused frame has a
/// thick border and a bold title after [`FOCUS_MARK`]; the others are rounded.
pub fn framed(theme: &Theme, title: &str, focused: bool) -> Block<'static> {
    let (border_type, border, title) = if focused {
        (
            BorderType::Thick,
            theme.style(Role::BorderFocused),
            Span::styled(
                format!(" {FOCUS_MARK} {} ", title.trim()),
                theme.style(Role::Title).add_modifier(Modifier::BOLD),
            ),
        )
    } else {
        (
            BorderType::Rounded,
            theme.style(Role::Border),
            Span::styled(format!(" {} ", title.trim()), theme.style(Role::Title)),
        )
    };
    Block::bordered()
        .border_type(border_type)
        .border_style(border)
        .title(title)
}

/// The screen split into its regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    pub status: Rect,
    pub panes: Rect,
    /// The compact strip under the panes, when they are too narrow for their numbers.
    pub strip: Option<Rect>,
    pub system: Option<Rect>,
    pub prompt: Rect,
    pub footer: Rect,
}

/// Split `area` for the current app state.
pub fn regions(app: &App, area: Rect) -> Regions {
    let prompt_h = (app.prompt.lines().len() as u16 + 2).clamp(3, if area.height >= 30 { 10 } else { 5 });
    let system_h = if app.show_system {
        (app.system.lines().len() as u16 + 2).clamp(3, 5)
    } else {
        0
    };
    let [status, panes, system, prompt, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(system_h),
        Constraint::Length(prompt_h),
        Constraint::Length(1),
    ])
    .areas(area);
    let (panes, strip) = split_strip(app, panes);
    Regions {
        status,
        panes,
        strip,
        system: app.show_system.then_some(system),
        prompt,
        footer,
    }
}

/// The panes' area and, below it, the compact strip when the panes cannot show their
/// numbers (see [`strip::needed`]) or not all panes fit on screen at once: one line
/// per target, leaving the panes at least
/// [`layout::MIN_H`] rows. The experiment grid and a comparison lay out their own.
fn split_strip(app: &App, area: Rect) -> (Rect, Option<Rect>) {
    let n = app.panes.len();
    if n == 0 || app.grid().is_some() || app.workspace.compare().is_some() {
        return (area, None);
    }
    let cols = if app.zoomed.is_some() {
        1
    } else {
        layout::grid(area, n).0
    };
    let pane_w = area.width / cols.max(1) as u16;
    // Panes shown a page at a time hide the numbers of the others: the strip has them.
    let paged = app.zoomed.is_none() && layout::arrange(area, n, None, None, 0).pages > 1;
    if !paged && !strip::needed(app, pane_w.saturating_sub(2)) {
        return (area, None);
    }
    let rows = (n as u16).min(area.height.saturating_sub(layout::MIN_H));
    if rows == 0 {
        return (area, None);
    }
    let [panes, strip] = Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(area);
    (panes, Some(strip))
}

/// Bring every cache up to date for `area` (re-wrap, follow-tail, editor chrome). New
/// pane text is laid out within [`App::layout_budget`]; what does not fit waits for
/// [`lay_out`].
pub fn prepare(app: &mut App, area: Rect) {
    app.frames = app.frames.saturating_add(1);
    app.age_notice();
    let r = regions(app, area);
    // Panes are placed in screen order (blind mode's shuffle), so a position says
    // nothing about the target.
    let order = app.screen_order();
    let zoomed = app.zoomed.and_then(|z| order.iter().position(|p| *p == z));
    let focused = match app.focus {
        Focus::Pane(i) => order.iter().position(|p| *p == i),
        _ => None,
    };
    let arranged = layout::arrange(r.panes, app.panes.len(), zoomed, focused, app.pane_page.0);
    app.pane_page = (arranged.page, arranged.pages);
    app.pane_areas = vec![None; app.panes.len()];
    for (slot, pane) in order.into_iter().enumerate() {
        app.pane_areas[pane] = arranged.rects[slot];
    }
    compare::arrange(app, r.panes);
    if app.grid().is_some() {
        // The experiment grid has the screen; the workbench's own panes wait under it.
        app.pane_areas = vec![None; app.panes.len()];
        grid::prepare(app, r.panes);
    }
    grid::prepare_cases(app, r.panes);
    schema_editor::prepare(app);
    tool_results_editor::prepare(app);
    lay_out(app);
    for (i, rect) in app.pane_areas.iter().enumerate() {
        if let Some(rect) = rect {
            app.panes[i].settle(usize::from(pane::body_area(*rect).height));
        }
    }
    chrome::prepare_editors(app);
    details::prepare(app, area);
    compare::prepare(app, area);
}

/// One layout pass over the visible panes at the last frame's sizes: each pane lays out
/// its new text in turn until [`App::layout_budget`] is spent. A pass starts with the
/// pane after the one the last pass had to cut short, so a pane that streams faster
/// than the budget cannot keep the others waiting. Sets [`App::layout_pending`] when
/// text is left for another pass.
pub fn lay_out(app: &mut App) {
    let deadline = app.layout_budget.map(|b| Instant::now() + b);
    let styles = app.theme.doc_styles();
    let n = app.panes.len();
    let first = app.layout_next;
    app.layout_pending = false;
    for k in 0..n {
        let i = (first + k) % n;
        let Some(Some(rect)) = app.pane_areas.get(i).copied() else {
            continue;
        };
        let done = app.panes[i].prepare_until(pane::body_area(rect).width, &styles, deadline);
        if !done && !app.layout_pending {
            app.layout_pending = true;
            app.layout_next = (i + 1) % n;
        }
    }
}

/// Draw one frame from the model.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let r = regions(app, frame.area());
    chrome::status_bar(frame, app, r.status);
    for (i, rect) in app.pane_areas.iter().enumerate() {
        if let Some(rect) = rect {
            pane::draw(frame, app, i, *rect, app.focus == Focus::Pane(i));
        }
    }
    if let Some(g) = app.grid() {
        grid::draw(frame, app, g, r.panes);
    }
    grid::draw_cases(frame, app, r.panes);
    if let Some(s) = r.strip {
        strip::draw(frame, app, s);
    }
    schema_editor::draw(frame, app, r.panes);
    tool_results_editor::draw(frame, app, r.panes);
    compare::strips(frame, app);
    compare::diff_mark(frame, app);
    if let Some(s) = r.system {
        frame.render_widget(&app.system, s);
    }
    frame.render_widget(&app.prompt, r.prompt);
    chrome::footer(frame, app, r.footer);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => chrome::help(frame, app),
        Overlay::Details(i) => {
            // A grid cell's index can pass the workbench's panes; the details check it.
            if !app.names_hidden() {
                details::draw(frame, app, *i);
            }
        }
        Overlay::Browser(b) => browser::draw(frame, app, b),
        Overlay::Diff(view) => compare::diff_overlay(frame, app, view),
        Overlay::Scoreboard(board) => scoreboard::draw(frame, app, board),
    }
}
