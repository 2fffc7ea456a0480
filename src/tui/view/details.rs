//! The detail view of one pane: every measured number with where it came from, the
//! request id, connection reuse, rate-limit headers, retries and the error in full; what
//! the server claims about its own time, the endpoint, the price that applied, the
//! content filter and how the answer arrived ([`facts`]). One fact a line; long values
//! wrap ([`wrap`]). Never drawn while names are hidden (blind mode): it names the model.

mod facts;
mod wrap;

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::engine::metrics::Outcome;
use crate::keys::{Action, Mode};
use crate::tui::model::app::App;
use crate::tui::model::pane::PaneState;
use crate::tui::model::workspace::Overlay;
use crate::tui::theme::Role;

fn ms(d: Option<Duration>) -> String {
    d.map_or("–".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
}

fn n(v: Option<u64>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

/// The target and pane the details of `i` describe: a pane of the workbench, or a cell
/// of the experiment grid when the grid is on screen (its run shown now).
fn subject(app: &App, i: usize) -> Option<(&crate::target::Target, &PaneState, String)> {
    match app.grid() {
        Some(g) => {
            let cell = g.plan.cells.get(i)?;
            let (target, variant) = g.names(i);
            let mut title: Vec<String> = variant.into_iter().collect();
            title.push(target);
            title.extend(g.repeat_label(i));
            Some((
                g.plan.session_targets.get(cell.session_target)?,
                g.panes.get(i)?,
                title.join(" · "),
            ))
        }
        None => Some((
            app.targets.get(i)?,
            app.panes.get(i)?,
            app.targets.get(i)?.name.clone(),
        )),
    }
}

/// (label, value) rows for pane `i` (a grid cell when the grid is on screen).
pub fn rows(app: &App, i: usize) -> Vec<(&'static str, String)> {
    let Some((t, p, _)) = subject(app, i) else {
        return Vec::new();
    };
    let m = &p.metrics;
    let (out, estimated) = p.output_tokens();
    let mut rows = vec![
        ("target", format!("{} · {} {}", t.name, t.provider, t.model)),
        facts::endpoint(t),
        (
            "state",
            format!(
                "{} · HTTP {}",
                p.status.label(),
                m.http_status.map_or("–".into(), |s| s.to_string())
            ),
        ),
        ("request id", m.request_id.clone().unwrap_or_else(|| "–".into())),
        (
            "connection",
            match (m.connect, m.sent_at) {
                (Some(c), _) => format!("new, set up in {} (not part of TTFB/TTFT)", ms(Some(c))),
                (None, Some(_)) => "reused".into(),
                _ => "–".into(),
            },
        ),
        ("TTFB", ms(m.ttfb())),
        (
            "TTFT",
            match m.ttft_text().filter(|_| m.first_text_at != m.first_content_at) {
                Some(text) => format!("{} (visible text {})", ms(m.ttft()), ms(Some(text))),
                None => ms(m.ttft()),
            },
        ),
        ("total", ms(m.total())),
        (
            "ITL",
            m.itl().map_or("–".into(), |s| {
                format!(
                    "mean {:.1} · p50 {:.1} · p95 {:.1} ms over {} gaps{}",
                    s.mean,
                    s.p50,
                    s.p95,
                    m.gaps.len(),
                    if m.gaps.is_exact() {
                        ""
                    } else {
                        " (percentiles ±1%)"
                    }
                )
            }),
        ),
        (
            "tokens/s",
            m.tokens_per_s(out).map_or("–".into(), |r| {
                format!(
                    "{r:.1}{}",
                    if estimated { " (from a local estimate)" } else { "" }
                )
            }),
        ),
        (
            "usage",
            format!(
                "in {} · out {}{} · cached {} · cache write {} · reasoning {} ({})",
                n(m.usage.input),
                if estimated { "~" } else { "" },
                n(out),
                n(m.usage.cached_input),
                n(m.usage.cache_write),
                n(m.usage.reasoning),
                if m.usage.output.is_some() {
                    "provider usage"
                } else {
                    "local o200k estimate"
                },
            ),
        ),
        (
            "local count",
            p.local_estimate().map_or("–".into(), |n| {
                let how = if super::pane::live_count_is_exact(&t.model) {
                    "this model's own tokenizer: exact"
                } else {
                    "not this model's tokenizer: an estimate"
                };
                format!("{n} output tokens counted here with o200k ({how})")
            }),
        ),
        (
            "finish",
            m.finish_reason().map_or("–".into(), |(r, raw)| {
                format!("{} (raw {})", r.as_str(), raw.unwrap_or("–"))
            }),
        ),
        (
            "retries",
            match &m.retry_note {
                Some((attempt, of, wait, reason)) => format!(
                    "{} (last: attempt {attempt}/{of} after {:.1} s, {reason})",
                    m.retries,
                    wait.as_secs_f64()
                ),
                None => m.retries.to_string(),
            },
        ),
    ];
    rows.extend(facts::arrival(m, out));
    rows.extend(facts::server(m));
    let served = m.server_report().and_then(|r| r.model.as_deref());
    if let Some(price) = app.prices.for_answer(t, served) {
        let usage = crate::provider::event::Usage {
            output: out,
            ..m.usage
        };
        rows.extend(facts::price(t, price, &usage, estimated, m.server_report()));
    }
    rows.extend(facts::content_filter(m));
    for (k, v) in &m.rate_limits {
        rows.push(("rate limit", format!("{k}: {v}")));
    }
    for note in &m.notes {
        rows.push(("note", note.clone()));
    }
    if let Some(Outcome::Failed(e)) = &m.outcome {
        rows.push(("error", format!("{}: {}", e.kind.as_str(), e.message)));
    }
    rows
}

/// Width of the label column, and the space between it and the value.
const LABEL: u16 = 11;
const GAP: u16 = 1;

/// The details of pane `i` laid out for a terminal of `area`: where the box goes and its
/// lines, one fact a line, long values wrapped under their label.
fn laid_out(app: &App, i: usize, area: Rect) -> (Rect, Vec<Line<'static>>) {
    let t = &app.theme;
    let w = area.width.saturating_sub(4).min(110);
    // Borders take two columns; what is left after the label is the value's.
    let value_w = usize::from(w.saturating_sub(2 + LABEL + GAP)).max(1);
    let mut lines = Vec::new();
    for (k, v) in rows(app, i) {
        for (n, part) in wrap::wrap(&v, value_w).into_iter().enumerate() {
            let label = if n == 0 { k } else { "" };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{label:<width$}", width = usize::from(LABEL + GAP)),
                    t.style(Role::Muted),
                ),
                Span::raw(part),
            ]));
        }
    }
    let h = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    (rect, lines)
}

/// Keep the details' scroll within its lines for a terminal of `area`, and note how many
/// lines a page is (for page up and down).
pub fn prepare(app: &mut App, area: Rect) {
    let Overlay::Details(i) = app.overlay else {
        return;
    };
    if subject(app, i).is_none() {
        return;
    }
    let (rect, lines) = laid_out(app, i, area);
    let page = usize::from(rect.height.saturating_sub(2));
    app.details_scroll.1 = page;
    app.details_scroll.0 = app.details_scroll.0.min(lines.len().saturating_sub(page));
}

pub fn draw(frame: &mut Frame<'_>, app: &App, i: usize) {
    let Some((_, _, name)) = subject(app, i) else {
        return;
    };
    let t = &app.theme;
    let (rect, lines) = laid_out(app, i, frame.area());
    let page = usize::from(rect.height.saturating_sub(2));
    let top = app.details_scroll.0.min(lines.len().saturating_sub(page));
    let title = if lines.len() > page {
        let keys = |a| {
            app.keymap
                .hint(Mode::Panes, a)
                .map(|k| k.to_string())
                .unwrap_or_default()
        };
        format!(
            " {} · details {}-{} of {} ({}/{} {}/{} scroll; other keys close) ",
            name,
            top + 1,
            (top + page).min(lines.len()),
            lines.len(),
            keys(Action::ScrollDown),
            keys(Action::ScrollUp),
            keys(Action::PageDown),
            keys(Action::PageUp),
        )
    } else {
        format!(" {name} · details (any key closes) ")
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.style(Role::BorderFocused))
        .title(Span::styled(title, t.style(Role::Title)));
    frame.render_widget(Clear, rect);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(top).take(page).collect();
    frame.render_widget(Paragraph::new(shown).block(block), rect);
}
