//! A finished pane's schema verdict, drawn on its bottom border: `✓ valid JSON` or
//! `✗ schema: /items/0/price: "2" is not of type "number"`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::provider::event::FinishReason;
use crate::target::Target;
use crate::tui::model::pane::{PaneState, PaneStatus};
use crate::tui::theme::{Role, Theme};

/// The verdict line for a pane whose target has a schema, once its answer is whole.
pub fn line(target: &Target, pane: &PaneState, t: &Theme) -> Option<Line<'static>> {
    let schema = target.params.schema.as_ref()?;
    if pane.status != PaneStatus::Done {
        return None;
    }
    let run = &pane.metrics;
    let truncated = run
        .finish_reason()
        .is_some_and(|(r, _)| r == FinishReason::Length);
    let verdict = crate::schema::check(&schema.schema, &run.text, truncated);
    let role = if verdict.is_valid() {
        Role::StatusDone
    } else {
        Role::Error
    };
    Some(Line::from(Span::styled(
        format!(" {} ", verdict.badge()),
        t.style(role),
    )))
}

/// Draw `line` over the bottom border of the pane at `rect`, inside its corners.
pub fn draw(frame: &mut Frame<'_>, rect: Rect, line: &Line<'_>) {
    if rect.height < 2 || rect.width < 4 {
        return;
    }
    let y = rect.y + rect.height - 1;
    frame.buffer_mut().set_line(rect.x + 1, y, line, rect.width - 2);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Instant;

    use serde_json::json;

    use super::*;
    use crate::provider::event::{Finish, StreamEvent};
    use crate::target::OutputSchema;

    fn pane(text: &str, reason: FinishReason) -> PaneState {
        let mut p = PaneState::default();
        let now = Instant::now();
        for e in [
            StreamEvent::Dispatched,
            StreamEvent::TextDelta(text.into()),
            StreamEvent::Finish(Finish { reason, raw: None }),
            StreamEvent::Done,
        ] {
            p.apply(now, &e);
        }
        p
    }

    fn text(line: Option<Line<'_>>) -> Option<String> {
        line.map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
    }

    #[test]
    fn a_finished_pane_shows_its_verdict_and_nothing_without_a_schema() {
        let theme = Theme::default();
        let mut target = Target {
            name: "t".into(),
            provider: crate::target::ProviderKind::OpenAi,
            model: "m".into(),
            base_url: "http://127.0.0.1:1".into(),
            key: crate::target::KeySource::None,
            params: crate::target::Params::default(),
        };
        assert_eq!(text(line(&target, &pane("{}", FinishReason::Stop), &theme)), None);
        target.params.schema = Some(OutputSchema {
            name: "n".into(),
            schema: json!({"type": "object", "properties": {"price": {"type": "number"}}}),
            strict: true,
        });
        let badge = |t: &str, r| text(line(&target, &pane(t, r), &theme));
        assert_eq!(
            badge("{\"price\": 2}", FinishReason::Stop).as_deref(),
            Some(" ✓ valid JSON ")
        );
        assert_eq!(
            badge("{\"price\": \"2\"}", FinishReason::Stop).as_deref(),
            Some(" ✗ schema: /price: \"2\" is not of type \"number\" ")
        );
        assert!(
            badge("{\"price\": 2}", FinishReason::Length)
                .unwrap()
                .contains("truncated JSON")
        );
        assert_eq!(
            text(line(&target, &PaneState::default(), &theme)),
            None,
            "nothing before the answer is whole"
        );
    }
}
