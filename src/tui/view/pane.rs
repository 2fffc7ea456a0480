//! One pane: border and title, two header lines of live numbers, the visible body slice.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::keys::Action;
use crate::keys::Mode;
use crate::mock_server::display_model;
use crate::provider::event::FinishReason;
use crate::tui::model::app::App;
use crate::tui::model::pane::{BodyLooks, PaneState, PaneStatus};
use crate::tui::model::pane_history::Looks;
use crate::tui::theme::{Role, Theme};

const HEADER_LINES: u16 = 2;

/// The body rectangle inside a pane's border and header.
pub fn body_area(rect: Rect) -> Rect {
    let inner = Block::bordered().inner(rect);
    Rect {
        y: inner.y + HEADER_LINES.min(inner.height),
        height: inner.height.saturating_sub(HEADER_LINES),
        ..inner
    }
}

pub fn draw(frame: &mut Frame<'_>, app: &App, i: usize, rect: Rect, focused: bool) {
    let t = &app.theme;
    let target = &app.targets[i];
    let p = &app.panes[i];
    // While names are hidden, so is what only a known model has: its price and the
    // provider's own finish reason ("end_turn" says Anthropic).
    let hidden = app.names_hidden();
    let cost = app.pane_cost(i).filter(|_| !hidden);
    let off = if app.enabled[i] { "" } else { " (off)" };
    // Mock directives in a model string are settings, not its name; the details view
    // shows the whole string.
    let model = display_model(&target.model);
    let title = if app.names_hidden() {
        format!("{}{off}", app.blind.label(i))
    } else if app.blind.on {
        // Revealed after the vote: the label it was voted under, then the names.
        format!("{}{off} · {} ({model})", app.blind.label(i), target.name)
    } else {
        format!("{}{off} · {} {model}", target.name, target.provider)
    };
    let block = super::framed(t, &title, focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let header = Rect {
        height: HEADER_LINES.min(inner.height),
        ..inner
    };
    let exact = live_count_is_exact(&target.model);
    let mut lines = header_lines(p, t, app.now, cost, !hidden, exact);
    if !hidden {
        let price = app.prices().for_target(target);
        lines[1]
            .spans
            .extend(super::cache_line::spans(&p.metrics.usage, price, t));
    }
    // The pre-flight names the tokenizer and prices the prompt: not while blind.
    if matches!(p.status, PaneStatus::Idle)
        && !hidden
        && let Some(check) = app.preflight.get(i)
    {
        lines[1] = preflight_line(check, t);
    }
    frame.render_widget(Paragraph::new(lines), header);
    let body = body_area(rect);
    let looks = BodyLooks {
        history: Looks {
            label: t.style(Role::Title),
            prompt: t.style(Role::Muted),
            summary: t.style(Role::Muted),
            key: app
                .keymap
                .hint(Mode::Panes, Action::ToggleHistory)
                .map(|k| k.to_string()),
        },
        reasoning: t.style(Role::Reasoning),
        error: t.style(Role::Error),
    };
    let mut lines = p.visible(usize::from(body.height), &looks);
    if app.names_hidden() {
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
    if let Some(badge) = super::schema_badge::line(target, p, t) {
        super::schema_badge::draw(frame, rect, &badge);
    }
}

/// Before sending: the prompt's size, whether it fits, and the most it can cost.
fn preflight_line(c: &crate::preflight::Preflight, t: &Theme) -> Line<'static> {
    let muted = t.style(Role::Muted);
    let (mark, count_style) = if c.exact {
        ("", t.style(Role::Metric))
    } else {
        ("~", t.style(Role::Estimate))
    };
    let mut spans = vec![
        Span::styled("prompt ", muted),
        Span::styled(format!("{mark}{} tok", c.input_tokens), count_style),
        Span::styled(format!(" {}", c.counter.short()), muted),
    ];
    match (&c.too_long, c.context_window) {
        (Some(_), Some(w)) => spans.push(Span::styled(
            format!(" · too long for {}k", w / 1000),
            t.style(Role::Error),
        )),
        (None, Some(w)) => spans.push(Span::styled(format!(" · fits {}k", w / 1000), muted)),
        _ => {}
    }
    if let Some(pd) = c.worst_case {
        spans.push(Span::styled(
            format!(" · ≤ ${:.6}", crate::pricing::usd(pd)),
            t.style(Role::Metric),
        ));
    }
    Line::from(spans)
}

fn ms(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    }
}

fn status_role(s: PaneStatus) -> Role {
    match s {
        PaneStatus::Idle | PaneStatus::Queued => Role::StatusQueued,
        PaneStatus::Connecting => Role::StatusConnecting,
        PaneStatus::Waiting | PaneStatus::Retrying => Role::StatusWaiting,
        PaneStatus::Streaming => Role::StatusStreaming,
        PaneStatus::Done => Role::StatusDone,
        PaneStatus::Error => Role::StatusError,
        PaneStatus::Cancelled => Role::StatusCancelled,
    }
}

fn finish_role(r: FinishReason) -> Role {
    match r {
        FinishReason::Stop | FinishReason::ToolCalls => Role::FinishNormal,
        FinishReason::Length | FinishReason::Cancelled => Role::FinishWarn,
        FinishReason::ContentFilter | FinishReason::Refusal | FinishReason::Error => Role::FinishAlarm,
    }
}

/// Whether the live count (o200k, per delta) is the count the provider will report for
/// `model`: its own tokenizer is o200k and public. Elsewhere the live count is marked `~`.
pub fn live_count_is_exact(model: &str) -> bool {
    crate::tokens::encoding_for(model) == (crate::tokens::Encoding::O200k, true)
}

/// The two header lines: state, TTFT, rate, elapsed; tokens, finish reason, retries.
/// Most important first, so a narrow pane loses the least useful numbers. `raw_finish`
/// adds the provider's own word for the finish reason when it differs; `exact_live` says
/// the live output count needs no `~` (see [`live_count_is_exact`]).
pub fn header_lines(
    p: &PaneState,
    t: &Theme,
    now: Instant,
    cost: Option<(crate::pricing::Picodollars, bool)>,
    raw_finish: bool,
    exact_live: bool,
) -> Vec<Line<'static>> {
    let m = &p.metrics;
    let metric = t.style(Role::Metric);
    let muted = t.style(Role::Muted);
    let sep = || Span::styled(" · ", muted);
    let mut first = vec![Span::styled(
        format!("● {}", p.status.label()),
        t.style(status_role(p.status)),
    )];
    if let Some(ttft) = m.ttft() {
        first.push(sep());
        first.push(Span::styled("TTFT ", muted));
        first.push(Span::styled(ms(ttft), metric));
        if let Some(tt) = m.ttft_text().filter(|_| m.first_text_at != m.first_content_at) {
            first.push(Span::styled(format!(" (text {})", ms(tt)), metric));
        }
    }
    let (out, local) = p.output_tokens();
    // `~` marks a count that is the local tokenizer's guess: the provider has not counted
    // yet and the model's tokenizer is not the one counting.
    let estimated = local && !exact_live;
    if let Some(rate) = m.tokens_per_s(out) {
        let (mark, style) = if estimated {
            ("~", t.style(Role::Estimate))
        } else {
            ("", metric)
        };
        first.push(sep());
        first.push(Span::styled(format!("{mark}{rate:.0} tok/s"), style));
    }
    let elapsed = match (p.status.is_active(), p.queued_at, m.ended_at) {
        (true, Some(q), _) => Some(now.saturating_duration_since(q)),
        (false, Some(q), Some(end)) => Some(end.saturating_duration_since(q)),
        _ => None,
    };
    if let Some(e) = elapsed {
        first.push(sep());
        first.push(Span::styled(format!("{:.1} s", e.as_secs_f64()), metric));
    }
    let count = |n: Option<u64>, est: bool| match n {
        Some(n) if est => Span::styled(format!("~{n}"), t.style(Role::Estimate)),
        Some(n) => Span::styled(n.to_string(), metric),
        None => Span::styled("–", muted),
    };
    let mut second = vec![
        Span::styled("in ", muted),
        count(m.usage.input, false),
        Span::styled(" out ", muted),
        count(out, estimated),
    ];
    // Once the provider has counted, its count is the one shown; the local count stays
    // beside it only when the two disagree (the details view says which tokenizer).
    if let (false, Some(ours)) = (local, p.local_estimate())
        && Some(ours) != out
    {
        second.push(Span::styled(
            format!(" · local est {ours}"),
            t.style(Role::Estimate),
        ));
    }
    if let Some(n) = m.usage.cached_input.filter(|n| *n > 0) {
        second.push(Span::styled(" cached ", muted));
        second.push(Span::styled(n.to_string(), metric));
    }
    if let Some((pd, est)) = cost {
        let (mark, style) = if est {
            ("~", t.style(Role::Estimate))
        } else {
            ("", metric)
        };
        second.push(Span::styled(
            format!(" {mark}${:.6}", crate::pricing::usd(pd)),
            style,
        ));
    }
    if let Some((reason, raw)) = m.finish_reason() {
        let text = match raw {
            Some(raw) if raw_finish && raw != reason.as_str() => format!("{} ({raw})", reason.as_str()),
            _ => reason.as_str().to_string(),
        };
        second.push(sep());
        second.push(Span::styled(text, t.style(finish_role(reason))));
    }
    if let Some(s) = m.http_status.filter(|s| !(200..300).contains(s)) {
        second.push(sep());
        second.push(Span::styled(format!("HTTP {s}"), t.style(Role::Error)));
    }
    second.push(sep());
    second.push(Span::styled(
        format!("retries {}", m.retries),
        if m.retries > 0 {
            t.style(Role::FinishWarn)
        } else {
            muted
        },
    ));
    if let (PaneStatus::Retrying, Some((attempt, of, wait, reason))) = (p.status, &m.retry_note) {
        first.push(sep());
        first.push(Span::styled(
            format!("attempt {attempt}/{of} in {:.1} s: {reason}", wait.as_secs_f64()),
            t.style(Role::FinishWarn),
        ));
    }
    vec![Line::from(first), Line::from(second)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::event::{Finish, StreamEvent, Usage};

    fn second_line(p: &PaneState, exact_live: bool) -> String {
        let lines = header_lines(p, &Theme::default(), Instant::now(), None, true, exact_live);
        lines[1].spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn streamed(text: &str) -> PaneState {
        crate::tokens::warm_up();
        let mut p = PaneState::default();
        p.apply(Instant::now(), &StreamEvent::TextDelta(text.into()));
        p
    }

    #[test]
    fn the_live_count_is_marked_only_where_it_is_an_estimate() {
        let p = streamed("Hello there, how are you?");
        let n = crate::tokens::count_o200k("Hello there, how are you?");
        assert!(
            second_line(&p, true).contains(&format!("out {n}")),
            "{}",
            second_line(&p, true)
        );
        assert!(
            second_line(&p, false).contains(&format!("out ~{n}")),
            "{}",
            second_line(&p, false)
        );
    }

    #[test]
    fn the_local_estimate_shows_beside_the_provider_count_only_when_they_differ() {
        let text = "Hello there, how are you?";
        let n = crate::tokens::count_o200k(text) as u64;
        let mut p = streamed(text);
        let usage = |output| {
            StreamEvent::Usage(Usage {
                output: Some(output),
                ..Usage::default()
            })
        };
        p.apply(Instant::now(), &usage(n));
        let agree = second_line(&p, true);
        assert!(
            agree.contains(&format!("out {n}")) && !agree.contains("est"),
            "{agree}"
        );
        p.apply(Instant::now(), &usage(n + 30));
        let differ = second_line(&p, false);
        assert!(
            differ.contains(&format!("out {} · local est {n}", n + 30)),
            "{differ}"
        );
        assert!(
            !differ.contains('~'),
            "the provider's count is no estimate: {differ}"
        );
    }

    #[test]
    fn a_refusal_shows_apart_from_the_answer_and_in_the_finish() {
        let mut p = streamed("");
        p.apply(
            Instant::now(),
            &StreamEvent::RefusalDelta("I can't help with that.".into()),
        );
        p.apply(
            Instant::now(),
            &StreamEvent::Finish(Finish {
                reason: FinishReason::Refusal,
                raw: Some("stop".into()),
            }),
        );
        assert_eq!(p.answer.text(), "", "the refusal is not answer text");
        assert_eq!(
            p.refusal_line().as_deref(),
            Some("⊘ refused: I can't help with that.")
        );
        assert!(
            second_line(&p, true).contains("refusal (stop)"),
            "{}",
            second_line(&p, true)
        );
    }
}
