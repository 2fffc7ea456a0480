//! What a replay or a re-run adds to the screen: the editors' titles, the pair layout,
//! the delta strip on each live pane, and the diff overlay.
//!
//! ```text
//! ╭ gpt · recorded · openai … ─╮╭ gpt · now · openai … ──────╮
//! │● done · TTFT 412 ms · …    ││● done · TTFT 380 ms · …    │
//! │answer as recorded…         ││answer streaming now…       │
//! ╰────────────────────────────╯╰ Δ TTFT -32 ms · tok/s +12 ─╯   delta strip
//! ╭ claude · recorded … ───────╮╭ claude · now … ────────────╮   one row per target
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::session::compare::{Chunk, Side, deltas};
use crate::tui::model::app::{App, Focus};
use crate::tui::model::compare::{DiffView, Pair, ended};
use crate::tui::model::pane::PaneState;
use crate::tui::model::replay::speed_label;
use crate::tui::model::workspace::{Overlay, Workspace};
use crate::tui::theme::{Role, Theme};

/// In a comparison, one row per target: recorded on the left, now on the right.
pub fn arrange(app: &mut App, area: Rect) {
    let Some(c) = app.workspace.compare() else {
        return;
    };
    if app.zoomed.is_some() || c.pairs.is_empty() {
        return;
    }
    let rows = c.pairs.len() as u16;
    let mut areas = vec![None; app.panes.len()];
    for (k, pair) in c.pairs.iter().enumerate() {
        let k = k as u16;
        let y0 = area.height * k / rows;
        let y1 = area.height * (k + 1) / rows;
        let half = area.width / 2;
        let row = |x: u16, w: u16| Some(Rect::new(area.x + x, area.y + y0, w, y1 - y0));
        if let Some(a) = areas.get_mut(pair.recorded_pane) {
            *a = row(0, half);
        }
        if let Some(a) = areas.get_mut(pair.live_pane) {
            *a = row(half, area.width - half);
        }
    }
    app.pane_areas = areas;
}

/// Editor titles that say what is shown, and the diff overlay's size.
pub fn prepare(app: &mut App, area: Rect) {
    let title = match &app.workspace {
        Workspace::Replay { replay: r, .. } => Some(format!(
            " prompt · turn {}/{} · {} (read-only) ",
            r.turn.map_or(0, |t| t + 1),
            r.turns,
            speed_label(r.speed)
        )),
        Workspace::Compare { compare: c, .. } => {
            Some(format!(" prompt · turn {} as recorded (read-only) ", c.turn))
        }
        Workspace::Live => None,
    };
    if let Some(title) = title {
        let focused = app.focus == Focus::Prompt;
        app.prompt.set_block(super::framed(&app.theme, &title, focused));
    }
    let rect = overlay_rect(area);
    let inner = Block::bordered().inner(rect);
    if let Overlay::Diff(view) = &mut app.overlay {
        let text = diff_text(&view.chunks, &app.theme);
        view.page = inner.height;
        view.lines = wrapped_lines(&text, inner.width);
        view.scroll = view.scroll.min(view.lines.saturating_sub(view.page));
    }
}

/// The delta strip over the bottom border of every live pane.
pub fn strips(frame: &mut Frame<'_>, app: &App) {
    let Some(c) = app.workspace.compare() else {
        return;
    };
    for pair in &c.pairs {
        let (Some(Some(rect)), Some(pane)) =
            (app.pane_areas.get(pair.live_pane), app.panes.get(pair.live_pane))
        else {
            continue;
        };
        if rect.width < 8 || rect.height < 3 {
            continue;
        }
        let cost = app.pane_cost(pair.live_pane).map(|c| c.0);
        let line = strip(pair, pane, cost, &app.theme, usize::from(rect.width - 4));
        let y = rect.y + rect.height - 1;
        frame.buffer_mut().set_line(rect.x + 2, y, &line, rect.width - 4);
    }
}

/// New minus recorded for one pair, fitted to `width` by leaving out the least telling
/// parts: final once the live stream ended, TTFT as soon as it is known, `–` for
/// anything unknown on either side.
pub fn strip(
    pair: &Pair,
    pane: &PaneState,
    live_cost: Option<crate::pricing::Picodollars>,
    t: &Theme,
    width: usize,
) -> Line<'static> {
    let muted = t.style(Role::Muted);
    let new = pair.new.clone().unwrap_or_else(|| {
        let (out, _) = pane.output_tokens();
        let done = ended(pane.status);
        Side {
            ttft_ms: pane.metrics.ttft().map(|d| d.as_secs_f64() * 1e3),
            tokens_per_s: pane.metrics.tokens_per_s(out).filter(|_| done),
            output_tokens: out.filter(|_| done),
            cost_usd: live_cost.map(crate::pricing::usd).filter(|_| done),
            ..Side::default()
        }
    });
    let d = deltas(&pair.recorded, &new);
    // Lower is better for time and cost, higher for speed; token counts are neither.
    // A change that rounds to nothing at the precision shown is no change.
    let signed = |v: Option<f64>, places: i32, text: &dyn Fn(f64) -> String, lower_better: Option<bool>| {
        let Some(v) = v else {
            return Span::styled("–".to_string(), muted);
        };
        if (v * 10f64.powi(places)).round() == 0.0 {
            return Span::styled("±0", t.style(Role::Metric));
        }
        let role = match lower_better {
            Some(true) if v < 0.0 => Role::StatusDone,
            Some(false) if v > 0.0 => Role::StatusDone,
            Some(_) => Role::Error,
            None => Role::Metric,
        };
        Span::styled(text(v), t.style(role))
    };
    let sign = |v: f64| if v < 0.0 { "-" } else { "+" };
    // (label, value), most telling first; the tail goes when the pane is narrow.
    let mut parts: Vec<(&str, Span<'static>)> = vec![
        (
            "TTFT ",
            signed(d.ttft_ms, 0, &|v| format!("{v:+.0} ms"), Some(true)),
        ),
        (
            "tok/s ",
            signed(d.tokens_per_s, 1, &|v| format!("{v:+.1}"), Some(false)),
        ),
    ];
    if let Some(s) = pair.similarity {
        parts.push((
            "",
            Span::styled(format!("{:.0}% same", s * 100.0), t.style(Role::Metric)),
        ));
    }
    parts.push((
        "cost ",
        signed(
            d.cost_usd,
            6,
            &|v| format!("{}${:.6}", sign(v), v.abs()),
            Some(true),
        ),
    ));
    parts.push((
        "out ",
        signed(
            d.output_tokens.map(|n| n as f64),
            0,
            &|v| format!("{v:+.0}"),
            None,
        ),
    ));
    let len = |parts: &[(&str, Span<'_>)]| {
        3 + parts
            .iter()
            .map(|(l, s)| l.width() + s.content.width() + 3)
            .sum::<usize>()
    };
    while parts.len() > 1 && len(&parts) > width {
        parts.pop();
    }
    let mut spans = vec![Span::styled(" Δ ", muted)];
    for (i, (label, value)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", muted));
        }
        spans.push(Span::styled(label.to_string(), muted));
        spans.push(value);
    }
    spans.push(Span::styled(" ", muted));
    Line::from(spans)
}

fn overlay_rect(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4).min(110);
    let h = area.height.saturating_sub(2);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The diff as styled text: removed words struck through in red, added ones green and
/// underlined (so they still stand out without colour).
pub fn diff_text(chunks: &[Chunk], t: &Theme) -> Text<'static> {
    let removed = t.style(Role::Error).add_modifier(Modifier::CROSSED_OUT);
    let added = t.style(Role::StatusDone).add_modifier(Modifier::UNDERLINED);
    let same = t.style(Role::Base);
    let mut lines: Vec<Line<'static>> = vec![Line::default()];
    for (i, chunk) in chunks.iter().enumerate() {
        // A replaced word directly followed by its replacement would read as one word.
        if let (Chunk::Added(a), Some(Chunk::Removed(r))) =
            (chunk, i.checked_sub(1).and_then(|j| chunks.get(j)))
            && !a.starts_with(char::is_whitespace)
            && !r.ends_with(char::is_whitespace)
            && let Some(line) = lines.last_mut()
        {
            line.spans.push(Span::styled(" ", same));
        }
        let (text, style): (&str, Style) = match chunk {
            Chunk::Same(s) => (s, same),
            Chunk::Removed(s) => (s, removed),
            Chunk::Added(s) => (s, added),
        };
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                lines.push(Line::default());
            }
            if !part.is_empty()
                && let Some(line) = lines.last_mut()
            {
                line.spans.push(Span::styled(part.to_string(), style));
            }
        }
    }
    Text::from(lines)
}

/// Rows `text` takes when wrapped at `width` (an upper bound, for scroll limits).
fn wrapped_lines(text: &Text<'_>, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = text
        .lines
        .iter()
        .map(|l| {
            let w: usize = l.spans.iter().map(|s| s.content.width()).sum();
            // Word wrapping leaves lines short; assume at least four fifths filled.
            w.div_ceil((width * 4 / 5).max(1)).max(1)
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// The marker on the top border of the pane marked as side A of a diff.
pub const DIFF_MARK: &str = " ◆ diff from here ";

/// Mark the pane chosen as side A of a diff (`D`), on its top border at the right.
pub fn diff_mark(frame: &mut Frame<'_>, app: &App) {
    let Some(Some(rect)) = app.diff_mark().and_then(|i| app.pane_areas.get(i)) else {
        return;
    };
    let width = DIFF_MARK.width() as u16;
    if rect.width < width + 4 {
        return;
    }
    let style = app.theme.style(Role::KeyHint).add_modifier(Modifier::BOLD);
    let x = rect.x + rect.width - width - 1;
    frame.buffer_mut().set_string(x, rect.y, DIFF_MARK, style);
}

/// The diff overlay `view`: of a pair of the comparison on screen, or of two picked panes.
pub fn diff_overlay(frame: &mut Frame<'_>, app: &App, view: &DiffView) {
    let t = &app.theme;
    let (name, from, to, live): (String, String, String, Vec<usize>) = match view.picked {
        Some((a, b)) => (String::new(), app.diff_title(a), app.diff_title(b), vec![a, b]),
        None => {
            let Some(pair) = app.workspace.compare().and_then(|c| c.pairs.get(view.pair)) else {
                return;
            };
            let name = format!("{} · ", pair.name);
            (name, "recorded".into(), "now".into(), vec![pair.live_pane])
        }
    };
    let streaming = live
        .iter()
        .any(|&i| app.panes.get(i).is_some_and(|p| !ended(p.status)));
    let so_far = if streaming { " so far" } else { "" };
    let title = Line::from(vec![
        Span::styled(format!(" {name}"), t.style(Role::Title)),
        Span::styled(from, t.style(Role::Error).add_modifier(Modifier::CROSSED_OUT)),
        Span::styled(" → ", t.style(Role::Muted)),
        Span::styled(to, t.style(Role::StatusDone).add_modifier(Modifier::UNDERLINED)),
        Span::styled(
            format!(" · {:.0}% same{so_far} ", view.similarity * 100.0),
            t.style(Role::Metric),
        ),
    ]);
    let rect = overlay_rect(frame.area());
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(t.style(Role::BorderFocused))
        .title(title)
        .title_bottom(Span::styled(
            " j/k scroll · any other key closes ",
            t.style(Role::Muted),
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(diff_text(&view.chunks, t))
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((view.scroll, 0)),
        rect,
    );
}
