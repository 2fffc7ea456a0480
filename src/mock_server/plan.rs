//! What one answer contains, independent of any wire format.
//!
//! Every provider renders the same plan, so a benchmark can send one script to all three
//! and compare like with like: the same content events, token counts and finish cause.

use super::corpus;
use super::script::{Fault, Script};

/// What a content event carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Reasoning,
    Text,
    /// A fragment of one tool call's JSON arguments (the event's `call`).
    ToolArgs,
}

/// One content event: `tokens` word pieces of one kind, sent together.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: Kind,
    pub text: String,
    pub tokens: usize,
    /// For `ToolArgs`, which of the plan's tool calls the fragment belongs to (0 else).
    pub call: usize,
}

/// Why the answer ended, before each provider names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    Stop,
    Length,
    Filter,
    Tool,
    /// The prompt itself was blocked (Gemini `promptFeedback`); nothing is generated.
    Blocked,
    /// The model declined: its text events are the refusal message (OpenAI `refusal`),
    /// or the text before a refusal stop (Anthropic).
    Refusal,
}

/// One tool call the answer makes; its arguments are the `ToolArgs` events with its index.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub name: String,
}

/// Token accounting shared by every provider's usage block.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Whole prompt, cached part included.
    pub input: usize,
    pub cached: usize,
    pub cache_write: usize,
    /// Of `cache_write`, the tokens written for an hour (Anthropic `ttl: "1h"`).
    pub cache_write_1h: usize,
    pub reasoning: usize,
    /// Text and tool-argument tokens.
    pub output_visible: usize,
}

impl Usage {
    pub fn output(&self) -> usize {
        self.reasoning + self.output_visible
    }
}

/// The whole answer.
#[derive(Clone, Debug)]
pub struct Plan {
    /// In order; a call's argument events all come before the next call's.
    pub events: Vec<Event>,
    /// The tool calls, in order (parallel calls when more than one); empty for text.
    pub tools: Vec<ToolCall>,
    pub finish: Finish,
    pub usage: Usage,
    /// The script says to leave usage out entirely.
    pub omit_usage: bool,
    pub fault: Option<Fault>,
    /// Output tokens emitted before a mid-stream fault fires.
    pub fault_after: usize,
}

impl Plan {
    pub fn text(&self, kind: Kind) -> String {
        self.events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.text.as_str())
            .collect()
    }

    /// The argument fragments of tool call `call`, in order.
    pub fn call_events(&self, call: usize) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(move |e| e.kind == Kind::ToolArgs && e.call == call)
    }

    /// The whole JSON arguments of tool call `call`, as streamed.
    pub fn args(&self, call: usize) -> String {
        self.call_events(call).map(|e| e.text.as_str()).collect()
    }
}

/// Inputs a provider extracts from its request body.
pub struct Request<'a> {
    pub input_tokens: usize,
    /// `max_tokens` or its equivalent, when the client sent one.
    pub cap: Option<usize>,
    pub seed: u64,
    pub last_user: &'a str,
    /// Gemini can block a prompt; the others turn `block=1` into a filtered answer.
    pub can_block: bool,
    /// The provider has a refusal of its own (OpenAI, Anthropic); the others turn
    /// `refuse=1` into a filtered answer.
    pub can_refuse: bool,
    /// Report usage as this encoding counts the text sent (OpenAI kinds); `None`
    /// reports the number of scripted pieces.
    pub tokenizer: Option<crate::tokens::Encoding>,
}

pub fn build(script: &Script, req: &Request<'_>) -> Plan {
    let seed = script.seed.unwrap_or(req.seed);
    let budget = req.cap.unwrap_or(usize::MAX);
    let blocked = script.block && req.can_block;
    let refused = script.refuse && req.can_refuse;
    let filtered = script.filter || (script.block && !req.can_block) || (script.refuse && !refused);

    let mut reasoning = corpus::reasoning_tokens(script.reasoning.min(budget));
    let mut truncated = script.reasoning > budget;
    let left = budget - reasoning.len();

    let mut calls: Vec<Vec<String>> = Vec::new();
    let (tools, visible, visible_kind) = match &script.tool {
        Some(name) => {
            // Each parallel call asks about another city, so the calls differ.
            let mut left = left;
            let mut tools = Vec::new();
            for (i, city) in CITIES.iter().cycle().take(script.calls.max(1)).enumerate() {
                let fragments: Vec<String> = corpus::tool_arguments()
                    .1
                    .into_iter()
                    .map(|f| if f == CITIES[0] { city.to_string() } else { f })
                    .collect();
                truncated |= fragments.len() > left;
                if left == 0 && i > 0 {
                    break;
                }
                let fragments: Vec<String> = fragments.into_iter().take(left).collect();
                left -= fragments.len();
                calls.push(fragments);
                tools.push(ToolCall { name: name.clone() });
            }
            (tools, calls.concat(), Kind::ToolArgs)
        }
        None if refused => {
            let refusal = corpus::refusal_tokens();
            truncated |= refusal.len() > left;
            let refusal: Vec<String> = refusal.into_iter().take(left).collect();
            (Vec::new(), refusal, Kind::Text)
        }
        // The request's own cap cuts wherever it falls, as a real model's does; the
        // `tokens=N` directive shapes a scripted answer that ends where a sentence does.
        None if script.tokens > left => {
            truncated = true;
            (
                Vec::new(),
                corpus::text_tokens(script.corpus, seed, req.last_user, left),
                Kind::Text,
            )
        }
        None => {
            let (text, complete) = corpus::scripted_answer(script.corpus, seed, req.last_user, script.tokens);
            truncated |= !complete;
            (Vec::new(), text, Kind::Text)
        }
    };
    if blocked {
        reasoning.clear();
        calls.clear();
    }
    let visible = if blocked { Vec::new() } else { visible };

    let mut events = group(Kind::Reasoning, &reasoning, script.chunk);
    if calls.is_empty() {
        events.extend(group(visible_kind, &visible, script.chunk));
    } else {
        for (i, fragments) in calls.iter().enumerate() {
            events.extend(group_call(i, fragments, script.chunk));
        }
    }
    let total: usize = events.iter().map(|e| e.tokens).sum();
    let fault_after = script.after.unwrap_or(total / 2);
    if script.fault == Some(Fault::BigLine) {
        // The big line replaces the text of the first event at or after the fault point so
        // that token counts stay consistent with what was emitted.
        let mut seen = 0;
        if let Some(e) = events.iter_mut().find(|e| {
            seen += e.tokens;
            seen > fault_after && e.kind == Kind::Text
        }) {
            e.text = corpus::big_text();
        }
    }

    let finish = if blocked {
        Finish::Blocked
    } else if filtered {
        Finish::Filter
    } else if truncated {
        Finish::Length
    } else if refused {
        Finish::Refusal
    } else if !tools.is_empty() {
        Finish::Tool
    } else {
        Finish::Stop
    };
    // Counted from the events as sent (a big line included), so a client's own count of
    // what arrived matches the usage exactly.
    let sent = |kind: Kind| -> String {
        events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.text.as_str())
            .collect()
    };
    let (reasoning_count, visible_count) = match req.tokenizer {
        Some(enc) => (
            crate::tokens::count(enc, &sent(Kind::Reasoning)),
            crate::tokens::count(enc, &sent(visible_kind)),
        ),
        None => (reasoning.len(), visible.len()),
    };
    let usage = Usage {
        input: req.input_tokens,
        cached: script.cached.min(req.input_tokens),
        cache_write: script.cache_write,
        cache_write_1h: 0,
        reasoning: reasoning_count,
        output_visible: visible_count,
    };
    Plan {
        events,
        tools,
        finish,
        usage,
        omit_usage: !script.usage,
        fault: script.fault,
        fault_after,
    }
}

/// The cities the `tool=NAME` calls ask about, one per parallel call.
const CITIES: [&str; 4] = ["Paris", "Tokyo", "Lima", "Oslo"];

fn group(kind: Kind, tokens: &[String], per_event: usize) -> Vec<Event> {
    tokens
        .chunks(per_event.max(1))
        .map(|c| Event {
            kind,
            text: c.concat(),
            tokens: c.len(),
            call: 0,
        })
        .collect()
}

/// The argument fragments of tool call `call`, grouped into events.
pub fn group_call(call: usize, fragments: &[String], per_event: usize) -> Vec<Event> {
    let mut events = group(Kind::ToolArgs, fragments, per_event);
    events.iter_mut().for_each(|e| e.call = call);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(cap: Option<usize>) -> Request<'static> {
        Request {
            input_tokens: 10,
            cap,
            seed: 1,
            last_user: "hi",
            can_block: true,
            can_refuse: true,
            tokenizer: None,
        }
    }

    #[test]
    fn cap_truncates_and_reports_length() {
        let script = Script {
            reasoning: 4,
            tokens: 40,
            ..Script::default()
        };
        let plan = build(&script, &req(Some(10)));
        assert_eq!(plan.finish, Finish::Length);
        assert_eq!(plan.usage.reasoning, 4);
        assert_eq!(plan.usage.output(), 10);
    }

    #[test]
    fn a_directive_shaped_answer_ends_at_a_sentence_and_stops() {
        let script = Script {
            tokens: 160,
            seed: Some(1),
            ..Script::default()
        };
        let plan = build(&script, &req(Some(512)));
        let text = plan.text(Kind::Text);
        assert_eq!(plan.finish, Finish::Stop);
        assert!(text.trim_end().ends_with('.'), "{text}");
        assert!(plan.usage.output_visible < 160);
        let sent: usize = plan.events.iter().map(|e| e.tokens).sum();
        assert_eq!(plan.usage.output_visible, sent, "usage counts what was sent");
    }

    #[test]
    fn a_directive_cut_with_no_sentence_end_is_length() {
        let script = Script {
            tokens: 4,
            ..Script::default()
        };
        let plan = build(&script, &req(None));
        assert_eq!(plan.finish, Finish::Length);
        assert_eq!(plan.usage.output_visible, 4);
    }

    #[test]
    fn chunking_groups_tokens() {
        let script = Script {
            tokens: 10,
            chunk: 3,
            corpus: crate::mock_server::script::Corpus::Lorem,
            ..Script::default()
        };
        let plan = build(&script, &req(None));
        let sizes: Vec<usize> = plan.events.iter().map(|e| e.tokens).collect();
        assert_eq!(sizes, vec![3, 3, 3, 1]);
        assert_eq!(plan.finish, Finish::Stop);
    }

    #[test]
    fn tool_call_streams_argument_fragments() {
        let script = Script {
            tool: Some("get_weather".into()),
            ..Script::default()
        };
        let plan = build(&script, &req(None));
        assert_eq!(plan.finish, Finish::Tool);
        assert_eq!(plan.text(Kind::ToolArgs), corpus::tool_arguments().0);
    }

    #[test]
    fn parallel_calls_each_get_their_own_arguments() {
        let script = Script {
            tool: Some("get_weather".into()),
            calls: 2,
            ..Script::default()
        };
        let plan = build(&script, &req(None));
        assert_eq!(plan.finish, Finish::Tool);
        assert_eq!(plan.tools.len(), 2);
        assert_eq!(plan.args(0), corpus::tool_arguments().0);
        assert_eq!(plan.args(1), r#"{"city":"Tokyo","unit":"celsius"}"#);
        assert!(
            plan.call_events(1).count() > 1,
            "arguments come in several deltas"
        );
    }
}
