//! The pre-flight of the prompt as typed that idle panes show (input tokens, whether it
//! fits, the worst case), per target, kept up to date as its inputs change.
//!
//! A request's token count is a sum of one count per message plus the reply priming (see
//! [`preflight::prompt_tokens`]), so each part is counted once and kept: an earlier
//! exchange when it joins a target's history, the system prompt and the prompt when
//! their text changes. A keystroke then costs counting the prompt, not every target's
//! whole conversation, and the sum is the number a full count of the request gives. A
//! verdict is worked out again only when something it depends on changed.

use super::conversation::{Conversation, Exchange};
use crate::preflight::{self, Counter, Preflight};
use crate::pricing::{ModelPrice, PriceTable};
use crate::provider::request::Role;
use crate::target::Target;
use crate::tokens::{self, Encoding};

/// The pre-flight of the prompt as typed, for every target.
#[derive(Debug, Default)]
pub struct PromptCheck {
    /// Per target, its verdict; `None` while the prompt is blank.
    checks: Vec<Option<Preflight>>,
    /// Per target, what its verdict was worked out from.
    inputs: Vec<Option<Inputs>>,
    /// Per target, its history counted exchange by exchange.
    histories: Vec<History>,
    prompt: Typed,
    system: Typed,
}

/// Everything one target's verdict depends on.
#[derive(Debug, PartialEq)]
struct Inputs {
    target: Target,
    price: Option<ModelPrice>,
    /// `None` while the prompt is blank.
    input_tokens: Option<u64>,
    counter: Counter,
}

/// How a part is counted: with an encoding's tables, or by the upper bound that needs
/// none while they load (then every part is counted again once they are ready).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Tables(Encoding),
    Bound,
}

impl By {
    /// Tokens one message of `role` with `text` adds to a request.
    fn message(self, role: &str, text: &str) -> u64 {
        match self {
            Self::Tables(encoding) => preflight::message_tokens(encoding, role, text),
            Self::Bound => preflight::message_bound(role, text),
        }
    }
}

impl PromptCheck {
    /// Target `i`'s verdict for the prompt as typed; `None` while the prompt is blank.
    pub fn get(&self, i: usize) -> Option<&Preflight> {
        self.checks.get(i)?.as_ref()
    }

    /// Take in the current inputs, counting only text not counted before and redoing
    /// only verdicts whose inputs changed. Never waits for the tokenizer tables: until
    /// they are ready (see [`tokens::ready`]) the counts are upper bounds, shown as such.
    pub fn refresh(
        &mut self,
        targets: &[Target],
        conversation: &Conversation,
        prompt: &[String],
        system: &[String],
        prices: &PriceTable,
    ) {
        self.prompt.take(prompt);
        self.system.take(system);
        let blank = self.prompt.text.trim().is_empty();
        let with_system = !self.system.text.trim().is_empty();
        let n = targets.len();
        self.checks.resize(n, None);
        self.inputs.resize_with(n, || None);
        self.histories.resize_with(n, History::default);
        for (i, target) in targets.iter().enumerate() {
            let (encoding, exact) = tokens::encoding_for(&target.model);
            let by = if tokens::ready_for(encoding) {
                By::Tables(encoding)
            } else {
                if encoding == Encoding::Cl100k {
                    // A GPT-4 target: its tables load now, counted exactly from the next
                    // refresh after they are in.
                    tokens::load_cl100k_in_background();
                }
                By::Bound
            };
            let history = conversation.history.get(i).map_or(&[][..], Vec::as_slice);
            // Kept current even while the prompt is blank, so the first key typed after
            // an answer arrived counts only itself.
            let history = self.histories[i].tokens(by, history);
            let input_tokens = (!blank).then(|| {
                let system = if with_system {
                    self.system.tokens(by, "system")
                } else {
                    0
                };
                system + history + self.prompt.tokens(by, Role::User.as_str()) + preflight::REPLY_PRIMING
            });
            let price = prices.for_target(target);
            let counter = match (by, exact) {
                (By::Bound, _) => Counter::Bound,
                (By::Tables(_), true) => Counter::LocalExact,
                (By::Tables(_), false) => Counter::LocalEstimate,
            };
            if self.inputs[i].as_ref().is_some_and(|k| {
                k.input_tokens == input_tokens
                    && k.counter == counter
                    && k.price.as_ref() == price
                    && k.target == *target
            }) {
                continue;
            }
            self.checks[i] = input_tokens.map(|n| preflight::check_counted(target, prices, n, counter));
            self.inputs[i] = Some(Inputs {
                target: target.clone(),
                price: price.cloned(),
                input_tokens,
                counter,
            });
        }
    }
}

/// An editor's text and what it counts as one message, per encoding.
#[derive(Debug, Default)]
struct Typed {
    lines: Vec<String>,
    text: String,
    counted: Vec<(By, u64)>,
}

impl Typed {
    /// Take the editor's lines; a changed text drops its counts.
    fn take(&mut self, lines: &[String]) {
        if self.lines != lines {
            self.lines = lines.to_vec();
            self.text = lines.join("\n");
            self.counted.clear();
        }
    }

    /// Tokens of the text as one message of `role`, counted once per way of counting.
    fn tokens(&mut self, by: By, role: &str) -> u64 {
        if let Some((_, n)) = self.counted.iter().find(|(b, _)| *b == by) {
            return *n;
        }
        let n = by.message(role, &self.text);
        self.counted.push((by, n));
        n
    }
}

/// One target's history, counted exchange by exchange.
#[derive(Debug, Default)]
struct History {
    by: Option<By>,
    counted: Vec<Counted>,
    total: u64,
}

/// The count of one exchange, and which exchange it is.
#[derive(Debug, Clone, Copy)]
struct Counted {
    id: u64,
    bytes: usize,
    tokens: u64,
}

impl Counted {
    /// Whether this is the count of `e`. The length is checked as well as the id, so
    /// even an exchange edited in place against the rule is counted again.
    fn of(&self, e: &Exchange) -> bool {
        self.id == e.id() && self.bytes == e.prompt.len() + e.answer.len()
    }
}

impl History {
    /// Tokens `history` adds to a request with `encoding`. An exchange is never edited
    /// once filed (a retry files a new one), so one counted before keeps its count and
    /// only exchanges new since the last call are counted; a new conversation has no
    /// exchange counted yet.
    fn tokens(&mut self, by: By, history: &[Exchange]) -> u64 {
        if self.by != Some(by) {
            *self = Self {
                by: Some(by),
                ..Self::default()
            };
        }
        let same =
            self.counted.len() == history.len() && self.counted.iter().zip(history).all(|(c, e)| c.of(e));
        if !same {
            let before = std::mem::take(&mut self.counted);
            self.counted = history
                .iter()
                .map(|e| Counted {
                    id: e.id(),
                    bytes: e.prompt.len() + e.answer.len(),
                    tokens: before
                        .iter()
                        .find(|c| c.of(e))
                        .map_or_else(|| exchange_tokens(by, e), |c| c.tokens),
                })
                .collect();
            self.total = self.counted.iter().map(|c| c.tokens).sum();
        }
        self.total
    }
}

/// Tokens of one earlier exchange in a request: the prompt and the answer, each a message.
fn exchange_tokens(by: By, e: &Exchange) -> u64 {
    by.message(Role::User.as_str(), &e.prompt) + by.message(Role::Assistant.as_str(), &e.answer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

    use std::time::Instant;

    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::engine::Envelope;
    use crate::keys::Action;
    use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
    use crate::target::ProviderKind;
    use crate::target::{KeySource, Params};
    use crate::tui::input::keymap::Keymap;
    use crate::tui::model::app::{App, Focus};
    use crate::tui::model::msg::Msg;

    /// Four counters at once: o200k and cl100k exact, an o200k estimate, a model without
    /// a price; one with max_tokens.
    fn app() -> App {
        let t = |name: &str, provider, model: &str, max_tokens| Target {
            name: name.into(),
            provider,
            model: model.into(),
            base_url: "http://127.0.0.1:1/v1".into(),
            key: KeySource::Demo,
            params: Params {
                max_tokens,
                stream: true,
                ..Params::default()
            },
        };
        App::new(
            vec![
                t("mini", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18", None),
                t("four", ProviderKind::OpenAi, "gpt-4-0613", Some(500)),
                t(
                    "claude",
                    ProviderKind::Anthropic,
                    "claude-sonnet-4-20250514",
                    None,
                ),
                t("house", ProviderKind::OpenAiCompatible, "house-model", None),
            ],
            Keymap::default(),
            crate::tui::theme::load("dark").unwrap(),
            String::new(),
        )
    }

    fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
        app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))));
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            key(app, KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// Pane `pane`'s current run ends with `answer` streamed word by word, or fails.
    fn answer(app: &mut App, pane: usize, answer: Option<&str>) {
        let run = app.panes[pane].run.unwrap();
        let mut send = |event| {
            let env = Envelope {
                run,
                target: pane,
                at: Instant::now(),
                event,
            };
            app.update(Msg::Stream { pane, env });
        };
        send(StreamEvent::Dispatched);
        match answer {
            Some(text) => {
                for word in text.split_inclusive(' ') {
                    send(StreamEvent::TextDelta(word.into()));
                }
                send(StreamEvent::Done);
            }
            None => send(StreamEvent::Failed(Box::new(ProviderError::new(
                ErrorKind::Server,
                "HTTP 500",
            )))),
        }
    }

    /// The shown pre-flight of every target equals a full count of the request it would
    /// get now.
    fn assert_fresh(app: &mut App, when: &str) {
        app.refresh_preflight();
        let prompt = app.prompt.lines().join("\n");
        let system = app.system.lines().join("\n");
        let system = (!system.trim().is_empty()).then_some(system);
        for (i, target) in app.targets.iter().enumerate() {
            let fresh = (!prompt.trim().is_empty()).then(|| {
                let (request, _) = app.conversation.request(i, system.clone(), &prompt);
                preflight::check(target, &request, &app.prices)
            });
            assert_eq!(app.preflight.get(i), fresh.as_ref(), "{when}: {}", target.name);
        }
    }

    #[test]
    fn the_kept_counts_equal_a_full_count_turn_after_turn() {
        tokens::warm_up();
        tokens::load(Encoding::Cl100k);
        let mut app = app();
        assert_fresh(&mut app, "nothing typed");
        type_text(&mut app, "Explain streaming, briefly.");
        assert_fresh(&mut app, "first prompt");
        assert!(app.preflight.get(0).is_some());

        app.act(Action::Send);
        assert_fresh(&mut app, "sent, editor empty");
        for pane in 0..4 {
            let text = format!("Answer {pane}: tokens arrive as they are generated. ");
            answer(&mut app, pane, Some(&text.repeat(pane + 1)));
        }
        type_text(&mut app, "And ");
        assert_fresh(&mut app, "turn 1 answered");
        type_text(&mut app, "caching?\nTwo lines, with ünïcödé and 数字 🙂.");
        assert_fresh(&mut app, "a second line");

        app.act(Action::ToggleSystem);
        type_text(&mut app, "Be brief.");
        assert_fresh(&mut app, "a system prompt");
        app.focus = Focus::Prompt;

        app.act(Action::Send);
        answer(&mut app, 0, Some("Yes: each part is counted once."));
        answer(&mut app, 1, None);
        answer(&mut app, 2, Some("Caching keeps counts."));
        answer(&mut app, 3, Some(""));
        type_text(&mut app, "Third.");
        assert_fresh(&mut app, "turn 2: one failed, one empty");

        // Retries of turn 2 on pane 1: an answer, another of the same length with a
        // different count, then a failure that takes it back.
        app.focus = Focus::Pane(1);
        for retry in [Some("aaaaaaaaa"), Some("a b c d e"), None] {
            app.act(Action::RetryPane);
            answer(&mut app, 1, retry);
            assert_fresh(&mut app, &format!("retry ending {retry:?}"));
        }

        // Keys before a frame are taken in together.
        app.focus = Focus::Prompt;
        key(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
        type_text(&mut app, "!?");
        assert_fresh(&mut app, "edited");

        app.act(Action::NewConversation);
        app.prompt = ratatui_textarea::TextArea::default();
        type_text(&mut app, "Fresh start.");
        assert_fresh(&mut app, "a new conversation");
        assert_eq!(
            app.preflight.get(0).map(|p| p.input_tokens),
            Some(17),
            "no history left: system 3 + 1 + 3, user 3 + 1 + 3, priming 3"
        );
    }
}
