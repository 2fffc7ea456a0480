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
use unicode_width::UnicodeWidthStr;

use super::header_fields::{ALWAYS, Field, elide_middle, fit};

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

/// The header fields of pane `i` as the workbench shows them: what blind mode hides is
/// left out, the cache note joins the second line, and before a send the second line is
/// the pre-flight of the prompt.
pub fn pane_fields(app: &App, i: usize) -> [Vec<Field>; 2] {
    let t = &app.theme;
    let target = &app.targets[i];
    let p = &app.panes[i];
    // While names are hidden, so is what only a known model has: its price and the
    // provider's own finish reason ("end_turn" says Anthropic).
    let hidden = app.names_hidden();
    let look = HeaderLook {
        now: app.now,
        cost: app.pane_cost(i).filter(|_| !hidden),
        raw_finish: !hidden,
        exact_live: live_count_is_exact(&target.model),
    };
    let mut fields = header_fields(p, t, look);
    if !hidden {
        let price = app.prices().for_target(target);
        fields[1].extend(cache_field(super::cache_line::spans(&p.metrics.usage, price, t)));
    }
    // The pre-flight names the tokenizer and prices the prompt: not while blind.
    if matches!(p.status, PaneStatus::Idle)
        && !hidden
        && let Some(check) = app.preflight.get(i)
    {
        fields[1] = preflight_fields(check, t);
    }
    fields
}

/// Whether pane `i` at `width` columns inside its border has to leave out a number.
pub fn drops_numbers(app: &App, i: usize, width: u16) -> bool {
    let mark = app.theme.style(Role::Muted);
    pane_fields(app, i)
        .iter()
        .any(|line| fit(line, width, mark).dropped_number)
}

/// The pane's title in `width` columns: the name and the model stay, the provider goes
/// first, then long names lose their middle (their ends tell models apart).
pub fn title(app: &App, i: usize, width: usize) -> String {
    let target = &app.targets[i];
    let off = if app.enabled[i] { "" } else { " (off)" };
    // Mock directives in a model string are settings, not its name; the details view
    // shows the whole string.
    let model = display_model(&target.model);
    if app.names_hidden() {
        return format!("{}{off}", app.blind.label(i));
    }
    let (head, provider) = if app.blind.on {
        // Revealed after the vote: the label it was voted under, then the names.
        (format!("{}{off} · {}", app.blind.label(i), target.name), None)
    } else {
        (format!("{}{off}", target.name), Some(target.provider.to_string()))
    };
    let full = match &provider {
        Some(pr) => format!("{head} · {pr} {model}"),
        None => format!("{head} ({model})"),
    };
    if full.width() <= width {
        return full;
    }
    let join = |head: &str, model: &str| match provider {
        Some(_) => format!("{head} · {model}"),
        None => format!("{head} ({model})"),
    };
    let short = join(&head, model);
    if short.width() <= width {
        return short;
    }
    // The model loses its middle first, down to MODEL_W columns; then the name gives up
    // what it has beyond NAME_W, and the model takes what is left.
    const NAME_W: usize = 14;
    const MODEL_W: usize = 12;
    let fixed = join("", "").width();
    let room = width.saturating_sub(fixed);
    let head_room = if room.saturating_sub(head.width()) >= model.width().min(MODEL_W) {
        head.width()
    } else {
        head.width().min(NAME_W.max(room.saturating_sub(model.width())))
    };
    let head = elide_middle(&head, head_room);
    let model = elide_middle(model, room.saturating_sub(head.width()));
    join(&head, &model)
}

pub fn draw(frame: &mut Frame<'_>, app: &App, i: usize, rect: Rect, focused: bool) {
    let t = &app.theme;
    let target = &app.targets[i];
    let p = &app.panes[i];
    // Borders, the spaces around the title and the focus mark take their columns.
    let room = usize::from(rect.width).saturating_sub(if focused { 6 } else { 4 });
    let block = super::framed(t, &title(app, i, room), focused);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let header = Rect {
        height: HEADER_LINES.min(inner.height),
        ..inner
    };
    let mark = t.style(Role::Muted);
    let lines: Vec<Line<'static>> = pane_fields(app, i)
        .iter()
        .map(|line| fit(line, inner.width, mark).line)
        .collect();
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
fn preflight_fields(c: &crate::preflight::Preflight, t: &Theme) -> Vec<Field> {
    let muted = t.style(Role::Muted);
    let sep = || Span::styled(" · ", muted);
    let (mark, count_style) = if c.exact {
        ("", t.style(Role::Metric))
    } else {
        (c.counter.mark(), t.style(Role::Estimate))
    };
    let mut fields = vec![
        Field::number(
            rank::OUT,
            sep(),
            vec![
                Span::styled("prompt ", muted),
                Span::styled(format!("{mark}{} tok", c.input_tokens), count_style),
            ],
        ),
        Field::extra(
            rank::LOCAL_EST,
            Span::raw(" "),
            vec![Span::styled(c.counter.short().to_string(), muted)],
        ),
    ];
    match (&c.too_long, c.context_window) {
        (Some(_), Some(w)) => fields.push(Field::number(
            rank::TROUBLE,
            sep(),
            vec![Span::styled(
                format!("too long for {}k", w / 1000),
                t.style(Role::Error),
            )],
        )),
        (None, Some(w)) => fields.push(Field::number(
            rank::CACHED,
            sep(),
            vec![Span::styled(format!("fits {}k", w / 1000), muted)],
        )),
        _ => {}
    }
    if let Some(pd) = c.worst_case {
        fields.push(Field::number(
            rank::COST,
            sep(),
            vec![Span::styled(
                format!("≤ ${:.6}", crate::pricing::usd(pd)),
                t.style(Role::Metric),
            )],
        ));
    }
    fields
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

/// What a header says besides the pane's own state: its cost (`None` while unknown or
/// blind), whether the provider's own finish word is shown, and whether the live output
/// count needs no `~` (see [`live_count_is_exact`]).
#[derive(Debug, Clone, Copy)]
pub struct HeaderLook {
    pub now: Instant,
    pub cost: Option<(crate::pricing::Picodollars, bool)>,
    pub raw_finish: bool,
    pub exact_live: bool,
}

/// Priorities of the header's fields (see [`super::header_fields`]): the state, then
/// what the comparison is about (first token, rate, output, cost, how it ended), then
/// the rest.
mod rank {
    use super::super::header_fields::Priority;
    pub const FINISH: Priority = 1;
    pub const TTFT: Priority = 1;
    pub const OUT: Priority = 1;
    pub const COST: Priority = 2;
    pub const RATE: Priority = 2;
    pub const TROUBLE: Priority = 1;
    pub const IN: Priority = 3;
    pub const ELAPSED: Priority = 3;
    pub const CACHED: Priority = 4;
    pub const RETRIES: Priority = 4;
    pub const TEXT_TTFT: Priority = 5;
    pub const LOCAL_EST: Priority = 6;
    pub const RAW_FINISH: Priority = 5;
    pub const CACHE_NOTE: Priority = 6;
    pub const NO_RETRIES: Priority = 7;
}

/// The two header lines as fields: state, TTFT, rate, elapsed; tokens, cost, finish
/// reason, retries. Formatted once here; [`header_lines`] fits them to a width and
/// [`super::strip`] puts them on one line.
pub fn header_fields(p: &PaneState, t: &Theme, look: HeaderLook) -> [Vec<Field>; 2] {
    let m = &p.metrics;
    let metric = t.style(Role::Metric);
    let muted = t.style(Role::Muted);
    let sep = || Span::styled(" · ", muted);
    let space = || Span::raw(" ");
    let mut first = vec![Field::text(
        ALWAYS,
        sep(),
        vec![Span::styled(
            format!("● {}", p.status.label()),
            t.style(status_role(p.status)),
        )],
    )];
    if let Some(ttft) = m.ttft() {
        first.push(Field::number(
            rank::TTFT,
            sep(),
            vec![Span::styled("TTFT ", muted), Span::styled(ms(ttft), metric)],
        ));
        if let Some(tt) = m.ttft_text().filter(|_| m.first_text_at != m.first_content_at) {
            first.push(Field::number(
                rank::TEXT_TTFT,
                space(),
                vec![Span::styled(format!("(text {})", ms(tt)), metric)],
            ));
        }
    }
    let (out, local) = p.output_tokens();
    // `~` marks a count that is the local tokenizer's guess: the provider has not counted
    // yet and the model's tokenizer is not the one counting.
    let estimated = local && !look.exact_live;
    if let Some(rate) = m.tokens_per_s(out) {
        let (mark, style) = if estimated {
            ("~", t.style(Role::Estimate))
        } else {
            ("", metric)
        };
        first.push(Field::number(
            rank::RATE,
            sep(),
            vec![Span::styled(format!("{mark}{rate:.0} tok/s"), style)],
        ));
    }
    let elapsed = match (p.status.is_active(), p.queued_at, m.ended_at) {
        (true, Some(q), _) => Some(look.now.saturating_duration_since(q)),
        (false, Some(q), Some(end)) => Some(end.saturating_duration_since(q)),
        _ => None,
    };
    if let Some(e) = elapsed {
        first.push(Field::number(
            rank::ELAPSED,
            sep(),
            vec![Span::styled(format!("{:.1} s", e.as_secs_f64()), metric)],
        ));
    }
    if let (PaneStatus::Retrying, Some((attempt, of, wait, reason))) = (p.status, &m.retry_note) {
        first.push(Field::text(
            rank::TROUBLE,
            sep(),
            vec![Span::styled(
                format!("attempt {attempt}/{of} in {:.1} s: {reason}", wait.as_secs_f64()),
                t.style(Role::FinishWarn),
            )],
        ));
    }
    let count = |n: Option<u64>, est: bool| match n {
        Some(n) if est => Span::styled(format!("~{n}"), t.style(Role::Estimate)),
        Some(n) => Span::styled(n.to_string(), metric),
        None => Span::styled("–", muted),
    };
    let mut second = vec![
        Field::number(
            rank::IN,
            space(),
            vec![Span::styled("in ", muted), count(m.usage.input, false)],
        ),
        Field::number(
            rank::OUT,
            space(),
            vec![Span::styled("out ", muted), count(out, estimated)],
        ),
    ];
    // Once the provider has counted, its count is the one shown; the local count stays
    // beside it only when the two disagree (the details view says which tokenizer).
    if let (false, Some(ours)) = (local, p.local_estimate())
        && Some(ours) != out
    {
        second.push(Field::extra(
            rank::LOCAL_EST,
            sep(),
            vec![Span::styled(format!("local est {ours}"), t.style(Role::Estimate))],
        ));
    }
    if let Some(n) = m.usage.cached_input.filter(|n| *n > 0) {
        second.push(Field::number(
            rank::CACHED,
            space(),
            vec![
                Span::styled("cached ", muted),
                Span::styled(n.to_string(), metric),
            ],
        ));
    }
    if let Some((pd, est)) = look.cost {
        let (mark, style) = if est {
            ("~", t.style(Role::Estimate))
        } else {
            ("", metric)
        };
        second.push(Field::number(
            rank::COST,
            space(),
            vec![Span::styled(
                format!("{mark}${:.6}", crate::pricing::usd(pd)),
                style,
            )],
        ));
    }
    if let Some((reason, raw)) = m.finish_reason() {
        let style = t.style(finish_role(reason));
        second.push(Field::number(
            rank::FINISH,
            sep(),
            vec![Span::styled(reason.as_str().to_string(), style)],
        ));
        // The provider's own word, when it says more than ours: the first to go.
        if let Some(raw) = raw.filter(|raw| look.raw_finish && *raw != reason.as_str()) {
            second.push(Field::extra(
                rank::RAW_FINISH,
                space(),
                vec![Span::styled(format!("({raw})"), style)],
            ));
        }
    }
    if let Some(s) = m.http_status.filter(|s| !(200..300).contains(s)) {
        second.push(Field::number(
            rank::TROUBLE,
            sep(),
            vec![Span::styled(format!("HTTP {s}"), t.style(Role::Error))],
        ));
    }
    let retries = Span::styled(
        format!("retries {}", m.retries),
        if m.retries > 0 {
            t.style(Role::FinishWarn)
        } else {
            muted
        },
    );
    second.push(if m.retries > 0 {
        Field::number(rank::RETRIES, sep(), vec![retries])
    } else {
        // None is no news: it may go without the strip taking its place.
        Field::extra(rank::NO_RETRIES, sep(), vec![retries])
    });
    [first, second]
}

/// The pane's cache note (see [`super::cache_line`]) as one field of the second line.
pub fn cache_field(spans: Vec<Span<'static>>) -> Option<Field> {
    (!spans.is_empty()).then(|| Field::extra(rank::CACHE_NOTE, Span::raw(""), spans))
}

/// The two header lines fitted to `width` (see [`header_fields`]): most important first,
/// so a narrow pane loses the least useful numbers, whole.
pub fn header_lines(p: &PaneState, t: &Theme, look: HeaderLook, width: u16) -> Vec<Line<'static>> {
    let muted = t.style(Role::Muted);
    header_fields(p, t, look)
        .iter()
        .map(|line| fit(line, width, muted).line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::event::{Finish, StreamEvent, Usage};

    fn second_line(p: &PaneState, exact_live: bool) -> String {
        let look = HeaderLook {
            now: Instant::now(),
            cost: None,
            raw_finish: true,
            exact_live,
        };
        let lines = header_lines(p, &Theme::default(), look, 200);
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
            StreamEvent::Usage(Box::new(Usage {
                output: Some(output),
                ..Usage::default()
            }))
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

    /// A narrow grid cell (38 columns, 36 inside) with a local estimate that differs
    /// from the provider's count: the estimate goes, cost and finish stay whole.
    #[test]
    fn a_narrow_header_drops_the_local_estimate_before_cost_and_finish() {
        let mut p = streamed("Hello there, how are you? Fine, thanks, and you?");
        p.apply(
            Instant::now(),
            &StreamEvent::Usage(Box::new(Usage {
                input: Some(1234),
                output: Some(4321),
                ..Usage::default()
            })),
        );
        p.apply(
            Instant::now(),
            &StreamEvent::Finish(Finish {
                reason: FinishReason::Stop,
                raw: Some("end_turn".into()),
            }),
        );
        let look = HeaderLook {
            now: Instant::now(),
            cost: Some((598_000_000, false)),
            raw_finish: true,
            exact_live: true,
        };
        let wide = header_lines(&p, &Theme::default(), look, 200);
        let wide: String = wide[1].spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(wide.contains("local est"), "{wide}");
        let narrow = header_lines(&p, &Theme::default(), look, 36);
        let narrow: String = narrow[1].spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(
            narrow.contains("$0.000598") && narrow.contains("stop"),
            "{narrow}"
        );
        assert!(!narrow.contains("local est"), "{narrow}");
        assert!(narrow.width() <= 36, "{narrow}");
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
