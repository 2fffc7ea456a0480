//! The scoreboard overlay: a table of one row per (variant, target) with the best value
//! of each column marked, and bar charts of TTFT, tokens/s and cost across the rows.
//!
//! ```text
//! ╭ scoreboard · 6 runs · sorted by TTFT mean ↑ ───────────────────────────────╮
//! │target   n  fail  TTFT ms↑  p95 ms  tok/s   out   $/call  finish            │
//! │gpt      2     0      *412     430   85.3    88  0.000120  stop 2            │
//! │claude   2     0       590     640  *91.0   140 *0.000090  stop 2            │
//! │╭ TTFT mean ms ─────╮╭ tokens/s ─────────╮╭ cost per call ──────╮            │
//! │gpt    ████412      ││gpt  ████████85.3 ││gpt  ██████0.000120 │   side by side │
//! ╰ ←/→ sort · r reverse · any other key closes ──────────────────────────────╯
//! ```
//!
//! Narrow terminals drop whole columns, least telling first, and cut only names: a
//! number is never cut mid-digit. Short ones stack the charts, or leave them out. The
//! best value is bold and coloured and carries a `*`, so it still shows without colour.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Block, BorderType, Cell, Clear, Paragraph, Row, Table, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::tui::model::app::App;
use crate::tui::model::scoreboard::Board;
use crate::tui::theme::{Role, Theme};
use crate::workflows::experiment::scoreboard::{Column, ScoreRow, best};

/// Marks the best value of a column, with or without colour.
pub const BEST_MARK: &str = "*";

/// Charts go side by side from this inner width on; below it they stack.
const SIDE_BY_SIDE: u16 = 90;

/// The scoreboard of the workbench's session, over the panes. Never while names are
/// hidden: the overlay does not open then, and is not drawn if it somehow were.
pub fn draw(frame: &mut Frame<'_>, app: &App, board: &Board) {
    if app.names_hidden() {
        return;
    }
    let rows = app.scoreboard_rows(board);
    draw_rows(frame, frame.area(), &rows, board, &app.theme);
}

/// The scoreboard of `rows` (sorted as `board` says) over `area`.
pub fn draw_rows(frame: &mut Frame<'_>, area: Rect, rows: &[ScoreRow], board: &Board, t: &Theme) {
    let most = overlay_rect(area);
    // As tall as the table and the charts that fit need, centred; the empty state a few
    // lines.
    let inner_w = most.width.saturating_sub(2);
    let diffs = tool_diffs(rows, t);
    let table_h = rows.len() as u16 + 1 + diffs.len() as u16;
    let charts_h =
        chart_stack(inner_w, most.height.saturating_sub(2 + table_h + 1), rows.len()).map_or(0, |(_, h)| h);
    let wanted = if rows.is_empty() {
        4
    } else {
        2 + table_h + if charts_h > 0 { 1 + charts_h } else { 0 }
    };
    let h = wanted.min(most.height);
    let rect = Rect {
        y: most.y + (most.height - h) / 2,
        height: h,
        ..most
    };
    let runs: usize = rows.iter().map(|r| r.n + r.failures + r.cancelled).sum();
    let sorted = board.sort.map_or(String::new(), |c| {
        format!(" · sorted by {} {}", name(c), arrow(board))
    });
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.style(Role::BorderFocused))
        .title(Span::styled(
            format!(
                " scoreboard · {runs} run{}{sorted} ",
                if runs == 1 { "" } else { "s" }
            ),
            t.style(Role::Title),
        ))
        .title_bottom(Span::styled(
            " ←/→ sort · r reverse · any other key closes ",
            t.style(Role::Muted),
        ));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "No finished runs yet: send a prompt; every answer that ends counts as one run of its target.",
            )
            .style(t.style(Role::Muted))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    // The table first and whole; the charts below it, after a blank line, if they fit.
    let table_h = table_h.min(inner.height);
    let table_area = Rect {
        height: table_h,
        ..inner
    };
    let below = (table_h + 1).min(inner.height);
    let charts_area = Rect {
        y: inner.y + below,
        height: inner.height - below,
        ..inner
    };
    let listed = (rows.len() as u16 + 1).min(table_h);
    table(
        frame,
        Rect {
            height: listed,
            ..table_area
        },
        rows,
        board,
        t,
    );
    frame.render_widget(
        Paragraph::new(diffs),
        Rect {
            y: table_area.y + listed,
            height: table_h - listed,
            ..table_area
        },
    );
    charts(frame, charts_area, rows, t);
}

/// Under the table, one line per row whose tool choice differs from its variant's
/// reference: the reference's calls removed (`[-…-]`), this row's added (`{+…+}`).
fn tool_diffs(rows: &[ScoreRow], t: &Theme) -> Vec<Line<'static>> {
    rows.iter()
        .filter_map(|r| {
            let tools = r.tools.as_ref()?;
            let (diff, reference) = (tools.diff.as_ref()?, tools.reference.as_ref()?);
            let name = match &r.variant {
                Some(v) => format!("{v}/{}", r.target),
                None => r.target.clone(),
            };
            Some(Line::from(vec![
                Span::styled(format!("≠ {name} vs {reference}: "), t.style(Role::Muted)),
                Span::styled(diff.clone(), t.style(Role::Base)),
            ]))
        })
        .collect()
}

/// The column's name in titles.
fn name(c: Column) -> &'static str {
    match c {
        Column::Variant => "variant",
        Column::Target => "target",
        Column::N => "runs",
        Column::Failures => "failures",
        Column::Refusals => "refusals",
        Column::TtftMean => "TTFT mean",
        Column::TtftP95 => "TTFT p95",
        Column::TokensPerS => "tokens/s",
        Column::OutputTokens => "output tokens",
        Column::Cost => "cost per call",
        Column::Votes => "votes",
    }
}

fn arrow(board: &Board) -> &'static str {
    if board.reversed { "↑" } else { "↓" }
}

/// One column of the table: what it shows and how readily it goes when space is short.
struct Col {
    header: &'static str,
    /// For sorting and the best mark; `None` for the finish reasons.
    column: Option<Column>,
    /// Its best value is marked (not the run count: more runs is not a better row).
    marks: bool,
    /// Dropped in this order when the table is too wide, highest first; 0 never goes.
    drop: u8,
    /// Names are cut to fit; numbers never are.
    name: bool,
    cells: Vec<String>,
}

fn columns(rows: &[ScoreRow]) -> Vec<Col> {
    let num = |v: Option<f64>, places: usize| v.map_or("-".into(), |v| format!("{v:.places$}"));
    let col = |header, column: Option<Column>, drop, f: &dyn Fn(&ScoreRow) -> String| Col {
        header,
        column,
        marks: column != Some(Column::N),
        drop,
        name: false,
        cells: rows.iter().map(f).collect(),
    };
    let mut cols = Vec::new();
    if rows.iter().any(|r| r.variant.is_some()) {
        let mut c = col("variant", Some(Column::Variant), 0, &|r| {
            r.variant.clone().unwrap_or_else(|| "-".into())
        });
        c.name = true;
        cols.push(c);
    }
    let mut target = col("target", Some(Column::Target), 0, &|r| r.target.clone());
    target.name = true;
    cols.push(target);
    cols.extend([
        col("n", Some(Column::N), 6, &|r| r.n.to_string()),
        col("fail", Some(Column::Failures), 4, &|r| r.failures.to_string()),
        col("TTFT ms", Some(Column::TtftMean), 1, &|r| num(r.ttft_ms_mean, 0)),
        col("p95 ms", Some(Column::TtftP95), 5, &|r| num(r.ttft_ms_p95, 0)),
        col("tok/s", Some(Column::TokensPerS), 2, &|r| {
            num(r.tokens_per_s_mean, 1)
        }),
        col("out", Some(Column::OutputTokens), 7, &|r| {
            num(r.output_tokens_mean, 0)
        }),
        col("$/call", Some(Column::Cost), 3, &|r| {
            r.cost_usd_mean.map_or("-".into(), |c| format!("{c:.6}"))
        }),
    ]);
    // Refusals are a column once a target refused: most boards have none.
    if rows.iter().any(|r| r.refusals > 0) {
        cols.push(col("refused", Some(Column::Refusals), 4, &|r| {
            r.refusals.to_string()
        }));
    }
    if rows.iter().any(|r| r.cancelled > 0) {
        cols.push(col("cancelled", None, 4, &|r| r.cancelled.to_string()));
    }
    if rows.iter().any(|r| r.votes.is_some()) {
        cols.push(col("votes", Some(Column::Votes), 3, &|r| {
            r.votes.unwrap_or(0).to_string()
        }));
    }
    if rows.iter().any(|r| r.valid.is_some()) {
        cols.push(col("valid", None, 3, &|r| r.valid_cell().unwrap_or_default()));
    }
    // Beside `valid`: what caching saved, then which tools were called.
    if rows.iter().any(|r| r.cache_cell().is_some()) {
        cols.push(col("cache r/w tok saved", None, 4, &|r| {
            r.cache_cell().unwrap_or_else(|| "-".into())
        }));
    }
    if rows.iter().any(|r| r.tools.is_some()) {
        cols.push(col("tools", None, 3, &|r| {
            r.tools.as_ref().map_or_else(|| "-".into(), |t| t.cell())
        }));
    }
    cols.push(col("finish", None, 8, &|r| {
        r.finish_reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }));
    cols
}

fn table(frame: &mut Frame<'_>, area: Rect, rows: &[ScoreRow], board: &Board, t: &Theme) {
    let mut cols = columns(rows);
    let bests: Vec<Vec<usize>> = cols
        .iter()
        .map(|c| {
            c.column
                .filter(|_| c.marks)
                .map(|k| best(rows, k))
                .unwrap_or_default()
        })
        .collect();
    let header = |c: &Col| match (c.column, board.sort) {
        (Some(k), Some(s)) if k == s => format!("{}{}", c.header, arrow(board)),
        _ => c.header.to_string(),
    };
    // Widths with room for the best mark; numbers keep their full width.
    let mut widths: Vec<u16> = cols
        .iter()
        .zip(&bests)
        .map(|(c, b)| {
            let mark = if b.is_empty() { 0 } else { BEST_MARK.width() };
            let cell = c.cells.iter().map(|s| s.width() + mark).max().unwrap_or(0);
            cell.max(header(c).width()) as u16
        })
        .collect();
    let mut keep: Vec<bool> = vec![true; cols.len()];
    let total = |w: &[u16], keep: &[bool]| {
        let kept: Vec<u16> = w.iter().zip(keep).filter(|(_, k)| **k).map(|(w, _)| *w).collect();
        kept.iter().sum::<u16>() + kept.len().saturating_sub(1) as u16
    };
    while total(&widths, &keep) > area.width {
        let victim = (0..cols.len())
            .filter(|&i| keep[i] && cols[i].drop > 0)
            .max_by_key(|&i| cols[i].drop);
        match victim {
            Some(i) => keep[i] = false,
            None => break,
        }
    }
    // Still too wide: the names give way, never below a few characters.
    let over = total(&widths, &keep).saturating_sub(area.width);
    if over > 0 {
        let names: Vec<usize> = (0..cols.len()).filter(|&i| keep[i] && cols[i].name).collect();
        let share = over.div_ceil(names.len().max(1) as u16);
        for i in names {
            widths[i] = widths[i].saturating_sub(share).max(4);
        }
    }
    let shown: Vec<usize> = (0..cols.len()).filter(|&i| keep[i]).collect();
    let best_style = t.style(Role::StatusDone).add_modifier(Modifier::BOLD);
    let head = Row::new(shown.iter().map(|&i| {
        let text = header(&cols[i]);
        // Numbers are right-aligned under a right-aligned header; words on the left.
        let text = if cols[i].name || cols[i].column.is_none() {
            text
        } else {
            pad_left(&text, widths[i])
        };
        Cell::from(Span::styled(
            text,
            t.style(Role::Muted).add_modifier(Modifier::BOLD),
        ))
    }));
    let body = (0..rows.len()).map(|r| {
        Row::new(shown.iter().map(|&i| {
            let c = &mut cols[i];
            let text = std::mem::take(&mut c.cells[r]);
            if c.name || c.column.is_none() {
                let text = if c.name { fit(&text, widths[i]) } else { text };
                return Cell::from(Span::styled(text, t.style(Role::Base)));
            }
            let (text, style) = if bests[i].contains(&r) {
                (format!("{BEST_MARK}{text}"), best_style)
            } else {
                (text, t.style(Role::Metric))
            };
            Cell::from(Span::styled(pad_left(&text, widths[i]), style))
        }))
    });
    let constraints: Vec<Constraint> = shown.iter().map(|&i| Constraint::Length(widths[i])).collect();
    frame.render_widget(Table::new(body, constraints).header(head).column_spacing(1), area);
}

/// `text` right-aligned in `width` cells.
fn pad_left(text: &str, width: u16) -> String {
    let pad = usize::from(width).saturating_sub(text.width());
    format!("{}{text}", " ".repeat(pad))
}

/// A name cut to `width` cells, with `…` when cut.
fn fit(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for ch in text.chars() {
        if out.width() + ch.to_string().width() + 1 > width {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// How the three charts of `rows` rows fit `width` × `height`: side by side (`true`) or
/// stacked, and the height they take; `None` when they do not fit.
fn chart_stack(width: u16, height: u16, rows: usize) -> Option<(bool, u16)> {
    let chart_h = rows as u16 + 2;
    if width >= SIDE_BY_SIDE && height >= chart_h {
        Some((true, chart_h))
    } else if height >= 3 * chart_h {
        Some((false, 3 * chart_h))
    } else {
        None
    }
}

/// The three bar charts: side by side when wide, stacked when narrow, left out when
/// there is no room for them.
fn charts(frame: &mut Frame<'_>, area: Rect, rows: &[ScoreRow], t: &Theme) {
    let chart_h = rows.len() as u16 + 2;
    let specs: [(&str, Column); 3] = [
        ("TTFT mean ms", Column::TtftMean),
        ("tokens/s", Column::TokensPerS),
        ("cost per call $", Column::Cost),
    ];
    let areas: Vec<Rect> = match chart_stack(area.width, area.height, rows.len()) {
        Some((true, _)) => {
            let [a, b, c] = Layout::horizontal([Constraint::Ratio(1, 3); 3]).areas(Rect {
                height: chart_h,
                ..area
            });
            vec![a, b, c]
        }
        Some((false, _)) => {
            let [a, b, c] = Layout::vertical([Constraint::Length(chart_h); 3]).areas(area);
            vec![a, b, c]
        }
        None => return,
    };
    for ((title, column), rect) in specs.into_iter().zip(areas) {
        chart(frame, rect, rows, title, column, t);
    }
}

fn chart(frame: &mut Frame<'_>, area: Rect, rows: &[ScoreRow], title: &str, column: Column, t: &Theme) {
    let label = |r: &ScoreRow| match &r.variant {
        Some(v) => format!("{v}/{}", r.target),
        None => r.target.clone(),
    };
    // Labels take at most a third of the chart, so the values keep their room.
    let max_label = (area.width.saturating_sub(2) / 3).max(4);
    let bars: Vec<Bar<'_>> = rows
        .iter()
        .map(|r| {
            let v = column.value(r);
            let (value, text) = match (column, v) {
                (_, None) => (0, "-".to_string()),
                (Column::Cost, Some(c)) => ((c * 1e9).round() as u64, format!("{c:.6}")),
                (Column::TokensPerS, Some(x)) => ((x * 10.0).round() as u64, format!("{x:.1}")),
                (_, Some(x)) => (x.round() as u64, format!("{x:.0}")),
            };
            Bar::default()
                .value(value)
                .text_value(format!(" {text}"))
                .label(Line::from(fit(&label(r), max_label)))
        })
        .collect();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.style(Role::Border))
        .title(Span::styled(format!(" {title} "), t.style(Role::Title)));
    let bar = t.style(Role::Metric);
    frame.render_widget(
        BarChart::horizontal(bars)
            .block(block)
            .bar_width(1)
            .bar_gap(0)
            .bar_style(bar)
            .value_style(bar.add_modifier(Modifier::REVERSED))
            .label_style(t.style(Role::Base)),
        area,
    );
}

fn overlay_rect(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4);
    let h = area.height.saturating_sub(2);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
