//! AWS Bedrock's Converse API: `POST {base}/model/{modelId}/converse-stream` (or
//! `/converse` when `stream = false`) on `https://bedrock-runtime.{region}.amazonaws.com`.
//!
//! The stream is binary (`application/vnd.amazon.eventstream`, see [`frames`]): one
//! message per event, named by its `:event-type` header, its payload the event's JSON:
//! `messageStart`, per block `contentBlockStart` (tool use) / `contentBlockDelta`s
//! (`text`, `toolUse.input`, `reasoningContent`) / `contentBlockStop`, then `messageStop`
//! (the stop reason) and `metadata` (usage and Bedrock's own `latencyMs`). The answer is
//! complete only once both of the last two have arrived. A message whose `:message-type`
//! is `exception` (`throttlingException`, `modelStreamErrorException`...) ends the stream
//! as a failure.
//!
//! `inputTokens` does not include prompt-cache reads and writes (they are reported
//! beside it, and billed on top); Prism's `input` counts all three, as for Anthropic.

pub mod chain;
pub mod frames;
pub mod profile;
pub mod sign;

use std::collections::HashMap;
use std::sync::Arc;

use aws_smithy_types::event_stream::Message;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::body::{merge_extra, parse_json, put, uint};
use super::credentials::Credentials;
use super::errors;
use super::event::{ErrorKind, Finish, FinishReason, ProviderError, StreamEvent, ToolCallDelta, Usage};
use super::openai::build_error;
use super::request::ChatRequest;
use super::server::ServerReport;
use crate::target::{Target, Thinking, endpoint_url};

/// What a path segment keeps unescaped: RFC 3986's unreserved characters. A model id's
/// `:` (`anthropic.claude-3-5-haiku-20241022-v1:0`) and an ARN's `/` and `:` are encoded,
/// as the AWS SDKs encode them.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The path of `model`'s Converse call: `/model/{modelId}/converse-stream` or `/converse`.
pub fn path(model: &str, stream: bool) -> String {
    let op = if stream { "converse-stream" } else { "converse" };
    format!("/model/{}/{op}", utf8_percent_encode(model, SEGMENT))
}

/// Build the Converse request, without credentials.
pub fn build(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let p = &target.params;
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            super::tools::messages::bedrock(m)
                .unwrap_or_else(|| json!({"role": m.role.as_str(), "content": [{"text": m.content}]}))
        })
        .collect();
    let mut body = Map::new();
    body.insert("messages".into(), messages.into());
    // The user's system prompt wins; the target's configured one stands in for none.
    if let Some(system) = request.system.clone().or_else(|| p.system.clone()) {
        body.insert("system".into(), json!([{"text": system}]));
    }
    let mut inference = Map::new();
    put(&mut inference, "maxTokens", p.max_tokens);
    put(&mut inference, "temperature", p.temperature);
    put(&mut inference, "topP", p.top_p);
    if !p.stop.is_empty() {
        inference.insert("stopSequences".into(), p.stop.clone().into());
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), inference.into());
    }
    // Model-specific fields travel in `additionalModelRequestFields`; Claude's thinking is one.
    match &p.thinking {
        Some(Thinking::Budget(n)) => {
            body.insert(
                "additionalModelRequestFields".into(),
                json!({"thinking": {"type": "enabled", "budget_tokens": n}}),
            );
        }
        Some(Thinking::Adaptive) => {
            body.insert(
                "additionalModelRequestFields".into(),
                json!({"thinking": {"type": "adaptive"}}),
            );
        }
        Some(Thinking::Level(_)) | None => {}
    }
    super::schema::bedrock(&mut body, target, request);
    super::tools::bedrock(&mut body, p.tools.as_ref());
    // `extra` merges into the top level like every provider's, deeply, so
    // `extra.additionalModelRequestFields.top_k` joins the thinking field above.
    merge_extra(&mut body, &p.extra);
    super::cache::mark_bedrock(&mut body, p.cache.as_ref());
    let url = endpoint_url(&target.base_url, &path(&target.model, p.stream));
    let mut builder = client.post(url).json(&Value::Object(body));
    if p.stream {
        builder = builder.header("accept", "application/vnd.amazon.eventstream");
    }
    builder.build().map_err(|e| build_error(&e))
}

/// The access key id of the fixed fake pair demo targets sign with, and the mock server
/// checks signatures against: not a key of anyone's.
pub const DEMO_ACCESS_KEY_ID: &str = "AKIDPRISMMOCKEXAMPLE";
/// Its secret.
pub const DEMO_SECRET_ACCESS_KEY: &str = "prism/mock/wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The demo's fake pair, ready to sign.
fn demo_keys() -> chain::AccessKeys {
    chain::AccessKeys {
        access_key_id: DEMO_ACCESS_KEY_ID.into(),
        secret_access_key: crate::provider::secret::ApiKey::new(DEMO_SECRET_ACCESS_KEY),
        session_token: None,
        source: "the demo's fixed fake keys".into(),
    }
}

/// `target`'s credentials: a Bedrock API key, or a SigV4 signer (see [`chain`]).
pub fn credentials(target: &Target) -> Result<Credentials, ProviderError> {
    let aws = target.params.aws.clone().unwrap_or_default();
    // A demo target with a region signs with the demo's fake keys; it never reads the
    // user's AWS chain (without a region it sends the demo placeholder as an API key).
    if target.key == crate::target::KeySource::Demo && !aws.region.is_empty() {
        return Ok(Credentials::Signed(Arc::new(sign::SigV4 {
            keys: demo_keys(),
            region: aws.region,
        })));
    }
    let env = |v: &str| std::env::var(v).ok();
    match chain::resolve(&target.key, aws.profile.as_deref(), &env)? {
        chain::Found::Bearer(key) => Ok(Credentials::Bearer(key)),
        chain::Found::Keys(keys) => {
            if aws.region.is_empty() {
                return Err(ProviderError::new(
                    ErrorKind::Config,
                    "a Bedrock request cannot be signed without a region: set `region` on the target or $AWS_REGION",
                ));
            }
            Ok(Credentials::Signed(Arc::new(sign::SigV4 {
                keys,
                region: aws.region,
            })))
        }
    }
}

/// What a content block index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Tool(usize),
    Other,
}

/// Converse stream state.
#[derive(Debug, Default)]
pub struct Decoder {
    /// `messageStop` arrived.
    pub saw_stop: bool,
    /// `metadata` arrived.
    pub saw_metadata: bool,
    blocks: HashMap<u64, Block>,
    tools: usize,
}

impl Decoder {
    /// Both `messageStop` and `metadata` arrived: nothing more is expected.
    pub fn is_complete(&self) -> bool {
        self.saw_stop && self.saw_metadata
    }

    /// One event-stream message. An exception message ends the stream with its error.
    pub fn on_message(&mut self, message: &Message, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let payload = String::from_utf8_lossy(message.payload());
        match frames::header(message, ":message-type") {
            Some("event") | None => {}
            Some("exception") => {
                let kind = frames::header(message, ":exception-type").unwrap_or("exception");
                return Err(exception(kind, &payload));
            }
            Some("error") => {
                let code = frames::header(message, ":error-code").unwrap_or("error");
                let text = frames::header(message, ":error-message").unwrap_or("no message");
                return Err(errors::in_stream(
                    &format!("{code}: {text}"),
                    payload.into_owned(),
                ));
            }
            // A message type added after this was written carries nothing we know.
            Some(_) => return Ok(()),
        }
        let Some(kind) = frames::header(message, ":event-type") else {
            return Ok(());
        };
        let v = parse_json(&payload, &format!("the `{kind}` event"))?;
        self.on_event(kind, &v, out);
        Ok(())
    }

    fn on_event(&mut self, kind: &str, v: &Value, out: &mut Vec<StreamEvent>) {
        match kind {
            "contentBlockStart" => {
                let index = uint(v, "contentBlockIndex").unwrap_or(0);
                if let Some(tool) = v.pointer("/start/toolUse") {
                    let i = self.tools;
                    self.tools += 1;
                    self.blocks.insert(index, Block::Tool(i));
                    out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                        index: i,
                        id: text(tool, "toolUseId"),
                        name: text(tool, "name"),
                        arguments: String::new(),
                    })));
                } else {
                    self.blocks.insert(index, Block::Other);
                }
            }
            "contentBlockDelta" => {
                let index = uint(v, "contentBlockIndex").unwrap_or(0);
                if let Some(d) = v.get("delta") {
                    self.delta(index, d, out);
                }
            }
            "messageStop" => {
                self.saw_stop = true;
                if let Some(raw) = v.get("stopReason").and_then(Value::as_str) {
                    out.push(StreamEvent::Finish(Finish {
                        reason: map_stop(raw),
                        raw: Some(raw.into()),
                    }));
                }
            }
            "metadata" => {
                self.saw_metadata = true;
                metadata(v, out);
            }
            // messageStart, contentBlockStop, and event types added after this was written.
            _ => {}
        }
    }

    fn delta(&mut self, index: u64, d: &Value, out: &mut Vec<StreamEvent>) {
        if let Some(t) = d.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            out.push(StreamEvent::TextDelta(t.into()));
        }
        if let Some(input) = d
            .pointer("/toolUse/input")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            // A delta for a block whose start was not seen still belongs to a tool call.
            let tool = match self.blocks.get(&index) {
                Some(Block::Tool(i)) => *i,
                _ => {
                    let i = self.tools;
                    self.tools += 1;
                    self.blocks.insert(index, Block::Tool(i));
                    i
                }
            };
            out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: tool,
                arguments: input.to_string(),
                ..ToolCallDelta::default()
            })));
        }
        // `reasoningContent`: `text`, or a `signature` / `redactedContent` with nothing to show.
        if let Some(t) = d
            .pointer("/reasoningContent/text")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            out.push(StreamEvent::ReasoningDelta(t.into()));
        }
    }

    /// A whole Converse response.
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let v = parse_json(body, "the response body")?;
        let blocks = v
            .pointer("/output/message/content")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Malformed,
                    "the response has no `output.message.content` array",
                )
            })?;
        for b in blocks {
            if let Some(t) = b.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                out.push(StreamEvent::TextDelta(t.into()));
            }
            if let Some(t) = b
                .pointer("/reasoningContent/reasoningText/text")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                out.push(StreamEvent::ReasoningDelta(t.into()));
            }
            if let Some(tool) = b.get("toolUse") {
                out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                    index: self.tools,
                    id: text(tool, "toolUseId"),
                    name: text(tool, "name"),
                    arguments: tool.get("input").map(Value::to_string).unwrap_or_default(),
                })));
                self.tools += 1;
            }
        }
        if let Some(raw) = v.get("stopReason").and_then(Value::as_str) {
            out.push(StreamEvent::Finish(Finish {
                reason: map_stop(raw),
                raw: Some(raw.into()),
            }));
        }
        metadata(&v, out);
        self.saw_stop = true;
        self.saw_metadata = true;
        Ok(())
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `usage` and `metrics` of a `metadata` event or a whole response.
fn metadata(v: &Value, out: &mut Vec<StreamEvent>) {
    if let Some(u) = v.get("usage") {
        let read = uint(u, "cacheReadInputTokens");
        let write = uint(u, "cacheWriteInputTokens");
        let input = uint(u, "inputTokens").map(|n| n + read.unwrap_or(0) + write.unwrap_or(0));
        out.push(StreamEvent::Usage(Box::new(Usage {
            input,
            output: uint(u, "outputTokens"),
            cached_input: read,
            cache_write: write,
            cache_write_1h: None,
            reasoning: None,
        })));
    }
    if let Some(ms) = v
        .pointer("/metrics/latencyMs")
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite() && *x >= 0.0)
    {
        out.push(StreamEvent::Server(Box::new(ServerReport {
            source: "bedrock metrics".into(),
            total_ms: Some(ms),
            ..ServerReport::default()
        })));
    }
}

/// Map Converse stop reasons.
pub fn map_stop(raw: &str) -> FinishReason {
    match raw {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        // The model's output could not be used: the answer did not end well.
        "malformed_model_output" | "malformed_tool_use" => FinishReason::Error,
        // end_turn, stop_sequence, and reasons added after this was written.
        _ => FinishReason::Stop,
    }
}

/// An exception message inside the stream (`:exception-type`, payload `{"message"}`).
pub fn exception(kind: &str, payload: &str) -> ProviderError {
    let message = serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|v| {
            ["message", "Message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
        })
        .unwrap_or_else(|| "no message".into());
    let (error_kind, retryable) = match kind {
        "throttlingException" => (ErrorKind::RateLimited, true),
        "serviceUnavailableException" => (ErrorKind::Overloaded, true),
        "internalServerException" => (ErrorKind::Server, true),
        // The model failed while generating; the same request may well succeed.
        "modelStreamErrorException" => (ErrorKind::Stream, true),
        "validationException" => (ErrorKind::InvalidRequest, false),
        _ => (ErrorKind::Stream, false),
    };
    ProviderError {
        kind: error_kind,
        http_status: None,
        message: errors::one_line(&format!("error inside the stream: {kind}: {message}")),
        retryable,
        raw_body: Some(payload.to_string()),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests;
