//! Anthropic Messages.
//!
//! `message_start` carries input usage split three ways (uncached, cache read, cache
//! write); `message_delta` carries the stop reason and a *cumulative* output count, so
//! usage is re-sent whole each time rather than added. A mid-stream `event: error`
//! (overloaded, for instance) ends the stream as a failure after HTTP 200.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::body::{merge_extra, parse_json, put, uint};
use super::errors;
use super::event::{
    ErrorKind, Finish, FinishReason, Piece, ProviderError, StreamEvent, ToolCallDelta, Usage,
};
use super::openai::build_error;
use super::request::ChatRequest;
use crate::target::{Target, Thinking, endpoint_url};

/// The API version header Prism speaks.
pub const API_VERSION: &str = "2023-06-01";

/// Build `POST {base}/v1/messages`, without credentials.
pub fn build(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            if let Some(turn) = super::tools::messages::anthropic(m) {
                return turn;
            }
            let role = m.role.as_str();
            json!({"role": role, "content": m.content})
        })
        .collect();
    let p = &target.params;
    let spec = target.provider.spec();
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    // Anthropic requires `max_tokens`: the table's default goes when the config sets none.
    put(
        &mut body,
        spec.max_tokens_field,
        p.max_tokens.or(spec.default_max_tokens),
    );
    // The user's system prompt wins; the target's configured one stands in for none.
    put(
        &mut body,
        "system",
        request.system.clone().or_else(|| p.system.clone()),
    );
    body.insert("messages".into(), messages.into());
    put(&mut body, "temperature", p.temperature);
    put(&mut body, "top_p", p.top_p);
    if !p.stop.is_empty() {
        body.insert("stop_sequences".into(), p.stop.clone().into());
    }
    match &p.thinking {
        Some(Thinking::Budget(n)) => {
            body.insert("thinking".into(), json!({"type": "enabled", "budget_tokens": n}));
        }
        Some(Thinking::Adaptive) => {
            body.insert("thinking".into(), json!({"type": "adaptive"}));
        }
        // A level is Gemini's; config refuses it on an Anthropic target.
        Some(Thinking::Level(_)) | None => {}
    }
    if p.stream {
        body.insert("stream".into(), true.into());
    }
    super::schema::anthropic(&mut body, target, request);
    super::tools::anthropic(&mut body, p.tools.as_ref());
    merge_extra(&mut body, &p.extra);
    super::cache::mark_anthropic(&mut body, p.cache.as_ref());

    let url = endpoint_url(&target.base_url, "/v1/messages");
    client
        .post(url)
        .header("anthropic-version", API_VERSION)
        .json(&Value::Object(body))
        .build()
        .map_err(|e| build_error(&e))
}

/// What a content block index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    Tool(usize),
    Other,
}

/// Messages stream state.
#[derive(Debug, Default)]
pub struct Decoder {
    /// `message_stop` arrived.
    pub saw_stop: bool,
    blocks: HashMap<u64, Block>,
    tools: usize,
    uncached_input: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    cache_write_1h: Option<u64>,
}

impl Decoder {
    /// The text of a text piece written exactly as the API writes it, read by its bytes
    /// (empty for an empty piece); `None` for any other event. Such a piece changes
    /// nothing in the decoder: [`Self::on_sse`] would only hand it out.
    pub fn plain_text<'a>(event: &str, data: &'a str) -> Option<&'a str> {
        if event == "content_block_delta" {
            super::hot::anthropic::exact_text_delta(data)
        } else {
            None
        }
    }

    /// One SSE event.
    pub fn on_sse(
        &mut self,
        event: &str,
        data: &str,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if event == "ping" {
            return Ok(());
        }
        if let Some(text) = Self::plain_text(event, data) {
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta(text.into()));
            }
            return Ok(());
        }
        // Almost every other event: decoded typed and borrowed (see `hot`).
        if event == "content_block_delta"
            && let Some(delta) = super::hot::anthropic::block_delta(data)
        {
            self.hot_delta(delta, out);
            return Ok(());
        }
        let v = parse_json(data, &format!("the `{event}` event"))?;
        // The `type` inside the data is authoritative; the SSE event name mirrors it.
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        match kind {
            "message_start" => {
                if let Some(u) = v.get("message").and_then(|m| m.get("usage")) {
                    // message_start's output_tokens is a placeholder, not a count.
                    self.input_usage(u, out);
                }
            }
            "content_block_start" => self.block_start(&v, out),
            "content_block_delta" => self.block_delta(&v, out),
            "message_delta" => {
                if let Some(raw) = v
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    out.push(StreamEvent::Finish(Finish {
                        reason: map_stop(raw),
                        raw: Some(raw.into()),
                    }));
                }
                if let Some(u) = v.get("usage") {
                    if u.get("input_tokens").is_some_and(|x| !x.is_null()) {
                        self.input_usage(u, out);
                    }
                    if let Some(n) = uint(u, "output_tokens") {
                        out.push(StreamEvent::Usage(Box::new(Usage {
                            output: Some(n),
                            ..Usage::default()
                        })));
                    }
                }
            }
            "message_stop" => self.saw_stop = true,
            "error" => return Err(in_band_error(&v)),
            // content_block_stop, and event types added after this was written.
            _ => {}
        }
        Ok(())
    }

    /// A whole `message` object.
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let v = parse_json(body, "the response body")?;
        if v.get("type").and_then(Value::as_str) == Some("error") {
            return Err(in_band_error(&v));
        }
        let blocks = v
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::new(ErrorKind::Malformed, "the response has no `content` array"))?;
        for b in blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => push_text(b, "text", out, StreamEvent::TextDelta),
                Some("thinking") => push_text(b, "thinking", out, StreamEvent::ReasoningDelta),
                Some("tool_use") => {
                    out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                        index: self.tools,
                        id: b.get("id").and_then(Value::as_str).map(str::to_string),
                        name: b.get("name").and_then(Value::as_str).map(str::to_string),
                        arguments: b.get("input").map(Value::to_string).unwrap_or_default(),
                    })));
                    self.tools += 1;
                }
                _ => {}
            }
        }
        if let Some(raw) = v.get("stop_reason").and_then(Value::as_str) {
            out.push(StreamEvent::Finish(Finish {
                reason: map_stop(raw),
                raw: Some(raw.into()),
            }));
        }
        if let Some(u) = v.get("usage") {
            self.input_usage(u, out);
            if let Some(n) = uint(u, "output_tokens") {
                out.push(StreamEvent::Usage(Box::new(Usage {
                    output: Some(n),
                    ..Usage::default()
                })));
            }
        }
        self.saw_stop = true;
        Ok(())
    }

    fn input_usage(&mut self, u: &Value, out: &mut Vec<StreamEvent>) {
        self.uncached_input = uint(u, "input_tokens").or(self.uncached_input);
        self.cache_read = uint(u, "cache_read_input_tokens").or(self.cache_read);
        self.cache_write = uint(u, "cache_creation_input_tokens").or(self.cache_write);
        // The split by time to live, priced apart: `cache_creation.ephemeral_1h_input_tokens`.
        self.cache_write_1h = u
            .get("cache_creation")
            .and_then(|c| uint(c, "ephemeral_1h_input_tokens"))
            .or(self.cache_write_1h);
        let Some(uncached) = self.uncached_input else {
            return;
        };
        // Anthropic bills cached reads and writes on top of `input_tokens`.
        let input = uncached + self.cache_read.unwrap_or(0) + self.cache_write.unwrap_or(0);
        out.push(StreamEvent::Usage(Box::new(Usage {
            input: Some(input),
            cached_input: self.cache_read,
            cache_write: self.cache_write,
            cache_write_1h: self.cache_write_1h,
            ..Usage::default()
        })));
    }

    fn block_start(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        let index = uint(v, "index").unwrap_or(0);
        let Some(cb) = v.get("content_block") else {
            return;
        };
        let block = match cb.get("type").and_then(Value::as_str) {
            Some("text") => {
                push_text(cb, "text", out, StreamEvent::TextDelta);
                Block::Text
            }
            Some("thinking") => Block::Thinking,
            Some("tool_use") => {
                let i = self.tools;
                self.tools += 1;
                out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                    index: i,
                    id: cb.get("id").and_then(Value::as_str).map(str::to_string),
                    name: cb.get("name").and_then(Value::as_str).map(str::to_string),
                    arguments: String::new(),
                })));
                Block::Tool(i)
            }
            _ => Block::Other,
        };
        self.blocks.insert(index, block);
    }

    fn block_delta(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        let index = uint(v, "index").unwrap_or(0);
        let Some(d) = v.get("delta") else { return };
        match d.get("type").and_then(Value::as_str) {
            Some("text_delta") => push_text(d, "text", out, StreamEvent::TextDelta),
            Some("thinking_delta") => push_text(d, "thinking", out, StreamEvent::ReasoningDelta),
            Some("input_json_delta") => {
                if let Some(p) = d
                    .get("partial_json")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty())
                {
                    self.tool_input(index, p, out);
                }
            }
            // signature_delta, citations_delta: nothing to show.
            _ => {}
        }
    }

    /// A piece of the input of the tool call in block `index`, if that block is one.
    fn tool_input(&self, index: u64, partial_json: &str, out: &mut Vec<StreamEvent>) {
        if let Some(Block::Tool(tool)) = self.blocks.get(&index) {
            out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: *tool,
                arguments: partial_json.to_string(),
                ..ToolCallDelta::default()
            })));
        }
    }

    /// What the typed path decoded, as `block_delta` would have.
    fn hot_delta(&self, delta: super::hot::anthropic::BlockDelta<'_>, out: &mut Vec<StreamEvent>) {
        use super::hot::anthropic::BlockDelta;
        match delta {
            BlockDelta::Text(t) => out.push(StreamEvent::TextDelta(t.into())),
            BlockDelta::Thinking(t) => out.push(StreamEvent::ReasoningDelta(t.into())),
            BlockDelta::ToolInput { index, partial_json } => self.tool_input(index, &partial_json, out),
            BlockDelta::Nothing => {}
        }
    }
}

fn push_text(v: &Value, key: &str, out: &mut Vec<StreamEvent>, make: fn(Piece) -> StreamEvent) {
    if let Some(t) = v.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
        out.push(make(t.into()));
    }
}

/// Map Anthropic stop reasons.
pub fn map_stop(raw: &str) -> FinishReason {
    match raw {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        // Claude's safety classifier stopped the answer; what streamed before stays.
        "refusal" => FinishReason::Refusal,
        // end_turn, stop_sequence, pause_turn
        _ => FinishReason::Stop,
    }
}

fn in_band_error(v: &Value) -> ProviderError {
    let err = v.get("error");
    let field = |k: &str| err.and_then(|e| e.get(k)).and_then(Value::as_str);
    let text = format!(
        "{}: {}",
        field("type").unwrap_or("error"),
        field("message").unwrap_or("no message")
    );
    errors::in_stream(&text, v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sequence_with_cache_usage_and_tool_use() {
        let events = [
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            ("ping", r#"{"type": "ping"}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ];
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for (e, data) in events {
            d.on_sse(e, data, &mut out).unwrap();
        }
        assert!(d.saw_stop);
        let mut usage = Usage::default();
        for ev in &out {
            if let StreamEvent::Usage(u) = ev {
                usage.merge(u);
            }
        }
        assert_eq!(
            usage,
            Usage {
                input: Some(1110),
                output: Some(15),
                cached_input: Some(1000),
                cache_write: Some(100),
                cache_write_1h: None,
                reasoning: None
            }
        );
        assert!(out.contains(&StreamEvent::TextDelta("Hi".into())));
        assert!(out.contains(&StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index: 0,
            arguments: "{\"a\":1}".into(),
            ..Default::default()
        }))));
        assert!(out.contains(&StreamEvent::Finish(Finish {
            reason: FinishReason::ToolCalls,
            raw: Some("tool_use".into())
        })));
    }

    #[test]
    fn mid_stream_overloaded_error_fails_retryably() {
        let mut d = Decoder::default();
        let e = d
            .on_sse(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                &mut Vec::new(),
            )
            .unwrap_err();
        assert_eq!((e.kind, e.retryable), (ErrorKind::Overloaded, true));
        assert_eq!(e.message, "error inside the stream: overloaded_error: Overloaded");
    }
}
