//! The experiment grid: a line naming the case page and what is off screen, then one
//! cell per (variant, target) of the page: rows variants, columns targets.
//!
//! ```text
//!  case 2/5: osl · repeat ×3 · interleaved · targets 1-3 of 4 (tab scrolls) · [ ] case
//! ╭ A · gpt ──────────────╮╭ A · claude ───────────╮╭ A · gemini ──────────╮
//! │● done · TTFT 412 ms   ││● streaming · TTFT 380││● queued              │
//! │in 26 out 88 · stop    ││in 26 out ~40         ││in – out –            │
//! │n=2/3 ▃█ p50 412 ms    ││n=1/3 ▅               ││n=0/3                 │
//! │answer text…           ││answer text…          ││                      │
//! ```
//!
//! Cells that do not fit scroll: focus moving onto one brings it into view. A cell too
//! narrow for the two header lines shows a one-line summary instead; numbers are only
//! ever dropped whole, never cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use super::pane::header_lines;
use crate::keys::{Action, Mode};
use crate::tui::model::app::{App, Focus};
use crate::tui::model::grid::Grid;
use crate::tui::model::pane::BodyLooks;
use crate::tui::model::pane_history::Looks;
use crate::tui::theme::{Role, Theme};

/// Narrowest and lowest a cell gets before the grid scrolls.
const MIN_W: u16 = 18;
const MIN_H: u16 = 6;
/// Narrower than this (inside the border), a cell shows the one-line summary.
const FULL_W: u16 = 34;

/// Header lines above a cell's body (status lines, then the sparkline line).
fn header_height(inner: Rect) -> u16 {
    if compact(inner) { 2 } else { 3 }
}

fn compact(inner: Rect) -> bool {
    inner.width < FULL_W || inner.height < 5
}

/// The body rectangle of a cell.
pub fn body_area(rect: Rect) -> Rect {
    let inner = Block::bordered().inner(rect);
    let h = header_height(inner).min(inner.height);
    Rect {
        y: inner.y + h,
        height: inner.height - h,
        ..inner
    }
}

/// Lay the grid out in `area`: which cells are on screen and where (scrolled so the
/// focused cell is in view), and their text at that width.
pub fn prepare(app: &mut App, area: Rect) {
    let focus = app.focus;
    let budget = app.layout_budget;
    let styles = app.theme.doc_styles();
    let Some(g) = app.grid.as_mut() else {
        return;
    };
    let cells = cells_area(area);
    g.areas = vec![None; g.panes.len()];
    if let Some(z) = g.zoomed {
        g.areas[z] = Some(cells);
    } else {
        let (rows, cols) = fit(g, cells);
        if let Focus::Pane(i) = focus
            && let Some((r, c)) = position(g, i)
        {
            g.first_row = scrolled(g.first_row, r, rows);
            g.first_col = scrolled(g.first_col, c, cols);
        }
        g.first_row = g.first_row.min(g.rows() - rows);
        g.first_col = g.first_col.min(g.cols() - cols);
        for r in 0..rows {
            for c in 0..cols {
                let x0 = split(cells.width, cols, c);
                let x1 = split(cells.width, cols, c + 1);
                let y0 = split(cells.height, rows, r);
                let y1 = split(cells.height, rows, r + 1);
                let cell = g.cell_at(g.first_row + r, g.first_col + c);
                g.areas[cell] = Some(Rect::new(cells.x + x0, cells.y + y0, x1 - x0, y1 - y0));
            }
        }
    }
    let deadline = budget.map(|b| std::time::Instant::now() + b);
    for (i, rect) in g.areas.iter().enumerate() {
        if let Some(rect) = rect {
            let body = body_area(*rect);
            g.panes[i].prepare_until(body.width, &styles, deadline);
            g.panes[i].settle(usize::from(body.height));
        }
    }
}

/// The area below the page line.
fn cells_area(area: Rect) -> Rect {
    Rect {
        y: area.y + 1.min(area.height),
        height: area.height.saturating_sub(1),
        ..area
    }
}

/// Rows and columns of cells that fit (at least one of each).
fn fit(g: &Grid, cells: Rect) -> (usize, usize) {
    let cols = usize::from((cells.width / MIN_W).max(1)).min(g.cols());
    let rows = usize::from((cells.height / MIN_H).max(1)).min(g.rows());
    (rows, cols)
}

/// Row and screen column of `cell` on the page shown.
fn position(g: &Grid, cell: usize) -> Option<(usize, usize)> {
    let (page, variant, col) = g.place(cell);
    (page == g.page).then_some((g.screen_row(variant), col))
}

/// The first line shown so that `at` is within `shown` lines from it.
fn scrolled(first: usize, at: usize, shown: usize) -> usize {
    if at < first {
        at
    } else if at >= first + shown {
        at + 1 - shown
    } else {
        first
    }
}

fn split(len: u16, parts: usize, i: usize) -> u16 {
    (usize::from(len) * i / parts.max(1)) as u16
}

/// Draw the page line and the cells on screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, g: &Grid, area: Rect) {
    let t = &app.theme;
    let line = fit_line(page_line(app, g, cells_area(area)), area.width);
    frame.render_widget(
        Paragraph::new(line),
        Rect {
            height: 1.min(area.height),
            ..area
        },
    );
    for (i, rect) in g.areas.iter().enumerate() {
        if let Some(rect) = rect {
            cell(frame, app, g, i, *rect, app.focus == Focus::Pane(i), t);
        }
    }
}

fn page_line(app: &App, g: &Grid, cells: Rect) -> Line<'static> {
    let t = &app.theme;
    let muted = t.style(Role::Muted);
    let mut spans = Vec::new();
    let sep = || Span::styled(" · ", muted);
    if let Some(label) = g.page_label() {
        spans.push(Span::styled(label, t.style(Role::Title)));
    } else {
        spans.push(Span::styled("experiment", t.style(Role::Title)));
    }
    // What is off screen first: a narrow terminal drops the rest of the line.
    if g.zoomed.is_none() {
        let (rows, cols) = fit(g, cells);
        if rows < g.rows() {
            spans.push(sep());
            spans.push(Span::styled(
                format!(
                    "variants {}-{} of {}",
                    g.first_row + 1,
                    g.first_row + rows,
                    g.rows()
                ),
                t.style(Role::FinishWarn),
            ));
        }
        if cols < g.cols() {
            spans.push(sep());
            spans.push(Span::styled(
                format!(
                    "targets {}-{} of {}",
                    g.first_col + 1,
                    g.first_col + cols,
                    g.cols()
                ),
                t.style(Role::FinishWarn),
            ));
        }
    }
    let d = &g.plan.design;
    spans.push(sep());
    spans.push(Span::styled(format!("repeat ×{} · {}", d.repeat, d.order), muted));
    let ended = g.runs.iter().filter(|r| r.ended).count();
    let streaming = g.runs.iter().filter(|r| r.started && !r.ended).count();
    let queued = g.runs.iter().filter(|r| !r.started && !r.ended).count();
    spans.push(sep());
    let progress = if ended == g.runs.len() {
        format!("{ended}/{} runs", g.runs.len())
    } else {
        format!(
            "{ended}/{} runs · {streaming} streaming · {queued} queued",
            g.runs.len()
        )
    };
    spans.push(Span::styled(progress, t.style(Role::Metric)));
    // Votes are asked for in a blind experiment; otherwise they show once one is cast.
    if let Some(b) = g
        .ballot
        .as_ref()
        .filter(|b| g.cols() >= 2 && (b.blind || !b.cast.is_empty()))
    {
        let (voted, all) = g.vote_progress();
        let text = if g.votes_variants() {
            let (voted, all) = g.variant_progress();
            let key = app
                .keymap
                .hint(Mode::Global, Action::VoteVariants)
                .map(|k| format!(" · {k} votes targets"))
                .unwrap_or_default();
            if app.grid_vote_open() {
                format!(
                    "vote this column's variants: 1-{} best, = tie, 0 all bad ({voted}/{all} columns voted){key}",
                    g.rows().min(9)
                )
            } else if g.variants_hidden() {
                format!("blind variants · {voted}/{all} columns voted{key}")
            } else {
                format!("{voted}/{all} columns voted{key}")
            }
        } else if app.grid_vote_open() {
            format!(
                "vote this row: 1-{} best, = tie, 0 all bad ({voted}/{all} rows voted)",
                g.cols().min(9)
            )
        } else if b.revealed {
            format!("{voted}/{all} rows voted")
        } else {
            format!("blind · {voted}/{all} rows voted")
        };
        spans.push(sep());
        spans.push(Span::styled(text, t.style(Role::FinishWarn)));
        if g.rows() >= 2
            && !g.votes_variants()
            && let Some(k) = app.keymap.hint(Mode::Global, Action::VoteVariants)
        {
            spans.push(sep());
            spans.push(Span::styled(format!("{k} votes variants"), muted));
        }
    }
    if g.pages() > 1 {
        let keys = |a| {
            app.keymap
                .hint(Mode::Panes, a)
                .map(|k| k.to_string())
                .unwrap_or_default()
        };
        spans.push(sep());
        spans.push(Span::styled(
            format!("{} {} case", keys(Action::PrevCase), keys(Action::NextCase)),
            muted,
        ));
    }
    Line::from(spans)
}

/// `line` without the spans that would not fit whole in `width` (and without a
/// separator left dangling at its end).
pub fn fit_line(line: Line<'static>, width: u16) -> Line<'static> {
    let mut used = 0;
    let mut kept = Vec::new();
    for span in line.spans {
        let w = span.width();
        if used + w > usize::from(width) {
            break;
        }
        used += w;
        kept.push(span);
    }
    while kept
        .last()
        .is_some_and(|s| s.content.trim() == "·" || s.content.trim().is_empty())
    {
        kept.pop();
    }
    Line::from(kept)
}

#[allow(clippy::too_many_arguments)]
fn cell(frame: &mut Frame<'_>, app: &App, g: &Grid, i: usize, rect: Rect, focused: bool, t: &Theme) {
    let p = &g.panes[i];
    // While names are hidden, so is what only a known model has: its price and the
    // provider's own finish reason.
    let hidden = app.names_hidden();
    let title = cell_title(app, g, i);
    let block = super::framed(t, &title, focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height == 0 {
        return;
    }
    let c = &g.plan.cells[i];
    let session_target = &g.plan.session_targets[c.session_target];
    let cost = app
        .prices
        .for_target(session_target)
        .filter(|_| !hidden)
        .and_then(|price| {
            let (output, estimated) = p.output_tokens();
            let usage = crate::provider::event::Usage {
                output,
                ..p.metrics.usage
            };
            price.cost(&usage).map(|c| (c, estimated))
        });
    let lines: Vec<Line<'static>> = if compact(inner) {
        vec![summary(p, t)]
    } else {
        let look = super::pane::HeaderLook {
            now: app.now,
            cost,
            raw_finish: !hidden,
            exact_live: super::pane::live_count_is_exact(&session_target.model),
        };
        // Fitted by priority: a long field (`local est N`) goes before cost and finish.
        header_lines(p, t, look, inner.width)
    };
    let mut y = inner.y;
    for line in lines {
        if y >= inner.y + inner.height {
            break;
        }
        frame.render_widget(
            Paragraph::new(fit_line(line, inner.width)),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }
    if y < inner.y + inner.height {
        spark(frame, g, i, Rect::new(inner.x, y, inner.width, 1), t);
    }
    let body = body_area(rect);
    let looks = BodyLooks {
        history: Looks {
            label: t.style(Role::Title),
            prompt: t.style(Role::Muted),
            summary: t.style(Role::Muted),
            key: None,
        },
        reasoning: t.style(Role::Reasoning),
        error: t.style(Role::Error),
    };
    let mut lines = p.visible(usize::from(body.height), &looks);
    if hidden {
        // Errors and notes come from the provider and often name the model.
        let tail = p.tail_start().saturating_sub(p.scroll);
        for line in lines.iter_mut().skip(tail) {
            for span in &mut line.spans {
                span.content = app.mask(&span.content).into();
            }
        }
    }
    for (row, line) in lines.iter().enumerate() {
        frame
            .buffer_mut()
            .set_line(body.x, body.y + row as u16, line, body.width);
    }
}

/// A cell's title: `variant · target · run 2/5`; blind, the column's label in place of
/// the target (and, once revealed, the label and then the name).
fn cell_title(app: &App, g: &Grid, i: usize) -> String {
    let (target, _) = g.names(i);
    // Blind variant votes call the variant by its row's letter.
    let (_, variant) = app.cell_names(i);
    let label = crate::workflows::blind::label(g.place(i).2);
    let who = if app.names_hidden() {
        label
    } else if app.blind.on {
        // Revealed: the label it was voted under, then the name.
        format!("{label} · {target}")
    } else {
        target
    };
    let mut parts: Vec<String> = variant.into_iter().collect();
    parts.push(who);
    parts.extend(g.repeat_label(i));
    app.mask(&parts.join(" · "))
}

/// The one-line summary of a narrow cell: state, TTFT, tokens, each whole or not at all.
fn summary(p: &crate::tui::model::pane::PaneState, t: &Theme) -> Line<'static> {
    let metric = t.style(Role::Metric);
    let mut spans = vec![Span::styled(
        format!("● {}", short_status(p)),
        t.style(Role::Title),
    )];
    if let Some(ttft) = p.metrics.ttft() {
        spans.push(Span::styled(
            format!(" {:.0}ms", ttft.as_secs_f64() * 1e3),
            metric,
        ));
    }
    let (out, estimated) = p.output_tokens();
    if let Some(n) = out {
        let mark = if estimated { "~" } else { "" };
        spans.push(Span::styled(format!(" {mark}{n}tok"), metric));
    }
    Line::from(spans)
}

fn short_status(p: &crate::tui::model::pane::PaneState) -> &'static str {
    use crate::tui::model::pane::PaneStatus;
    match p.status {
        PaneStatus::Waiting => "waiting",
        s => s.label(),
    }
}

/// `n=2/3`, a sparkline of the cell's TTFT over its successful runs, and their median.
fn spark(frame: &mut Frame<'_>, g: &Grid, i: usize, area: Rect, t: &Theme) {
    let planned = g.counted_runs(i).len();
    let results = g.results(i);
    let ok: Vec<u64> = results
        .iter()
        .filter(|r| r.succeeded())
        .filter_map(|r| r.ttft_ms)
        .map(|ms| ms.round().max(1.0) as u64)
        .collect();
    let cancelled = if g.cancelled.get(i).copied().unwrap_or(false) {
        "cancelled "
    } else {
        ""
    };
    let label = format!("n={}/{planned} {cancelled}", results.len());
    let label_w = (label.chars().count() as u16).min(area.width);
    frame.render_widget(
        Paragraph::new(Span::styled(label, t.style(Role::Muted))),
        Rect {
            width: label_w,
            ..area
        },
    );
    let room = area.width - label_w;
    let bars = (ok.len() as u16).min(room);
    if bars > 0 {
        let shown = &ok[ok.len() - usize::from(bars)..];
        frame.render_widget(
            Sparkline::default().data(shown).style(t.style(Role::Metric)),
            Rect::new(area.x + label_w, area.y, bars, 1),
        );
    }
    let dist = crate::workflows::experiment::results::Dists::of(results.iter().copied());
    if let Some(p50) = dist.ttft_ms_dist.p50 {
        let text = format!(" p50 {p50:.0} ms");
        let w = text.chars().count() as u16;
        if label_w + bars + w <= area.width {
            frame.render_widget(
                Paragraph::new(Span::styled(text, t.style(Role::Metric))),
                Rect::new(area.x + label_w + bars, area.y, w, 1),
            );
        }
    }
}

/// Give the case table editor, when open, its frame: what to type, or what is wrong.
pub fn prepare_cases(app: &mut App, _area: Rect) {
    let problem = app.cases_problem();
    let t = app.theme.clone();
    let Some(editor) = app.variants.cases_editor.as_mut() else {
        return;
    };
    let title = match problem {
        Some(why) => format!("cases: {why}"),
        None => {
            "cases (CSV: a header row, then one case per row; {{column}} in a prompt) · esc closes".into()
        }
    };
    editor.set_block(super::framed(&t, &title, true));
    editor.set_style(t.style(Role::Base));
    editor.set_cursor_style(ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED));
}

/// The case table editor over the panes, when open.
pub fn draw_cases(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if let Some(editor) = &app.variants.cases_editor {
        frame.render_widget(ratatui::widgets::Clear, area);
        frame.render_widget(editor, area);
    }
}
