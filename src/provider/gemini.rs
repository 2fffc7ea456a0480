//! Google Gemini API (`generateContent` / `streamGenerateContent?alt=sse`).
//!
//! The key goes in the `x-goog-api-key` header, never the URL (URLs end up in logs).
//! Usage reports thoughts separately from candidates, so `output` adds them up. A
//! stream is complete once a candidate carries a `finishReason`, or the prompt itself
//! was blocked (`promptFeedback.blockReason`).
//!
//! Any JSON parses, so shape is checked too: a response (or a whole stream) without a
//! single candidate and without `promptFeedback` is not an answer, empty or otherwise,
//! and fails as malformed showing its first bytes. A body that is a JSON array is what
//! `streamGenerateContent` returns when `alt=sse` was dropped on the way (by a proxy):
//! its elements are the stream's chunks, decoded in order.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::body::{merge_extra, parse_json, put, uint};
use super::errors;
use super::event::{ErrorKind, Finish, FinishReason, ProviderError, StreamEvent, ToolCallDelta, Usage};
use super::hot::{self, gemini::UsageCounts};
use super::openai::build_error;
use super::request::{ChatRequest, Role};
use crate::target::{Target, Thinking, endpoint_url};

/// Characters escaped in the model path segment (`:` is kept: it separates the method).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Build `POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse` (or
/// `:generateContent` when streaming is off), without credentials.
pub fn build(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let contents: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            if let Some(turn) = super::tools::messages::gemini(m) {
                return turn;
            }
            // Gemini calls the assistant "model".
            let role = if m.role == Role::Assistant {
                "model"
            } else {
                m.role.as_str()
            };
            json!({"role": role, "parts": [{"text": m.content}]})
        })
        .collect();
    let p = &target.params;
    let mut config = Map::new();
    put(&mut config, target.provider.spec().max_tokens_field, p.max_tokens);
    put(&mut config, "temperature", p.temperature);
    put(&mut config, "topP", p.top_p);
    put(&mut config, "seed", p.seed);
    if !p.stop.is_empty() {
        config.insert("stopSequences".into(), p.stop.clone().into());
    }
    match &p.thinking {
        Some(Thinking::Budget(n)) => {
            config.insert("thinkingConfig".into(), json!({"thinkingBudget": n}));
        }
        Some(Thinking::Level(level)) => {
            config.insert("thinkingConfig".into(), json!({"thinkingLevel": level}));
        }
        // Adaptive thinking is Anthropic's; config refuses it on a Gemini target.
        Some(Thinking::Adaptive) | None => {}
    }
    let mut body = Map::new();
    body.insert("contents".into(), contents.into());
    // The user's system prompt wins; the target's configured one stands in for none.
    if let Some(system) = request.system.as_ref().or(p.system.as_ref()) {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": system}]}));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), config.into());
    }
    super::schema::gemini(&mut body, target, request);
    super::tools::gemini(&mut body, p.tools.as_ref());
    merge_extra(&mut body, &p.extra);

    let model = utf8_percent_encode(&target.model, SEGMENT);
    let path = if p.stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    };
    let url = endpoint_url(&target.base_url, &path);
    client
        .post(url)
        .json(&Value::Object(body))
        .build()
        .map_err(|e| build_error(&e))
}

/// How much of a body a "not an answer" message shows.
const SHOWN_CHARS: usize = 120;

/// generateContent stream state.
#[derive(Debug, Default)]
pub struct Decoder {
    /// A candidate finished or the prompt was blocked.
    pub saw_finish: bool,
    /// Some response carried `usageMetadata`.
    pub saw_usage: bool,
    /// Some response carried a candidate or `promptFeedback`: the server is answering.
    pub saw_answer: bool,
    /// The first bytes of the first stream chunk, kept while no chunk has answered.
    first_chunk: Option<String>,
    tools: usize,
    /// The response id from the body, Google's closest thing to a request id.
    pub response_id: Option<String>,
}

impl Decoder {
    /// One `data:` payload: a `GenerateContentResponse`.
    pub fn on_sse(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        if self.first_chunk.is_none() {
            self.first_chunk = Some(preview(data));
        }
        // Almost every chunk: decoded typed and borrowed (see `hot`).
        if let Some(chunk) = super::hot::gemini::chunk(data) {
            self.hot_chunk(chunk, out);
            return Ok(());
        }
        let v = parse_json(data, "a stream chunk")?;
        self.response(&v, out)
    }

    /// A whole `GenerateContentResponse`, or a JSON array of them (a stream's chunks).
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let v = parse_json(body, "the response body")?;
        match &v {
            Value::Array(chunks) => {
                for chunk in chunks {
                    self.response(chunk, out)?;
                }
            }
            v => self.response(v, out)?,
        }
        if self.saw_answer {
            return Ok(());
        }
        Err(ProviderError {
            raw_body: Some(body.to_string()),
            ..ProviderError::new(
                ErrorKind::Malformed,
                format!(
                    "the response has no candidates and no promptFeedback, so it is not an answer: {}",
                    preview(body)
                ),
            )
        })
    }

    /// After a stream ended unfinished: if no chunk ever answered, the server was not
    /// speaking generateContent at all, which is worth saying instead of "truncated".
    pub fn no_answer_error(&self) -> Option<ProviderError> {
        if self.saw_answer {
            return None;
        }
        let first = self.first_chunk.as_ref()?;
        Some(ProviderError::new(
            ErrorKind::Malformed,
            format!("no event of the stream had a candidate or promptFeedback; the first was: {first}"),
        ))
    }

    fn response(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        if v.get("error").is_some() {
            let b = errors::parse_error_body(&v.to_string()).unwrap_or_default();
            let text = [b.kind, b.message]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            return Err(errors::in_stream(&text, v.to_string()));
        }
        if self.response_id.is_none() {
            self.response_id = v.get("responseId").and_then(Value::as_str).map(str::to_string);
            if let Some(id) = &self.response_id {
                out.push(StreamEvent::ResponseId(id.clone()));
            }
        }
        let candidate = v
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        self.saw_answer |= candidate.is_some() || v.get("promptFeedback").is_some_and(Value::is_object);
        if let Some(c) = candidate {
            self.parts(c, out);
            if let Some(raw) = c.get("finishReason").and_then(Value::as_str) {
                self.finish(raw, out);
            }
        } else if let Some(block) = v
            .get("promptFeedback")
            .and_then(|f| f.get("blockReason"))
            .and_then(Value::as_str)
        {
            self.saw_finish = true;
            out.push(StreamEvent::Finish(Finish {
                reason: FinishReason::ContentFilter,
                raw: Some(format!("blockReason:{block}")),
            }));
        }
        if let Some(u) = v.get("usageMetadata").filter(|u| u.is_object()) {
            self.usage(
                UsageCounts {
                    prompt_token_count: uint(u, "promptTokenCount"),
                    candidates_token_count: uint(u, "candidatesTokenCount"),
                    thoughts_token_count: uint(u, "thoughtsTokenCount"),
                    cached_content_token_count: uint(u, "cachedContentTokenCount"),
                    tool_use_prompt_token_count: uint(u, "toolUsePromptTokenCount"),
                    ..UsageCounts::default()
                },
                out,
            );
        }
        Ok(())
    }

    /// A chunk the typed path read: the same events [`Self::response`] gives it.
    fn hot_chunk(&mut self, c: hot::gemini::Chunk<'_>, out: &mut Vec<StreamEvent>) {
        if self.response_id.is_none() {
            self.response_id = c.response_id.map(Cow::into_owned);
            if let Some(id) = &self.response_id {
                out.push(StreamEvent::ResponseId(id.clone()));
            }
        }
        // A hot chunk always has its one candidate.
        self.saw_answer = true;
        for (text, thought) in c.parts {
            let text = text.into_owned();
            out.push(if thought {
                StreamEvent::ReasoningDelta(text.into())
            } else {
                StreamEvent::TextDelta(text.into())
            });
        }
        if let Some(raw) = c.finish_reason {
            self.finish(&raw, out);
        }
        if let Some(u) = c.usage {
            self.usage(u, out);
        }
    }

    /// A candidate's `finishReason`.
    fn finish(&mut self, raw: &str, out: &mut Vec<StreamEvent>) {
        self.saw_finish = true;
        let reason = match map_finish(raw) {
            // Gemini says STOP after function calls; callers compare on tool_calls.
            FinishReason::Stop if self.tools > 0 => FinishReason::ToolCalls,
            r => r,
        };
        out.push(StreamEvent::Finish(Finish {
            reason,
            raw: Some(raw.into()),
        }));
    }

    /// `usageMetadata`: thoughts count as output, tool-use prompts as input.
    fn usage(&mut self, u: UsageCounts, out: &mut Vec<StreamEvent>) {
        self.saw_usage = true;
        let thoughts = u.thoughts_token_count;
        let output = match (u.candidates_token_count, thoughts) {
            (None, None) => None,
            (c, t) => Some(c.unwrap_or(0) + t.unwrap_or(0)),
        };
        let tool_prompt = u.tool_use_prompt_token_count.unwrap_or(0);
        out.push(StreamEvent::Usage(Box::new(Usage {
            input: u.prompt_token_count.map(|p| p + tool_prompt),
            output,
            cached_input: u.cached_content_token_count,
            cache_write: None,
            cache_write_1h: None,
            reasoning: thoughts,
        })));
    }

    fn parts(&mut self, candidate: &Value, out: &mut Vec<StreamEvent>) {
        let parts = candidate
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if let Some(t) = part.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                let thought = part.get("thought").and_then(Value::as_bool).unwrap_or(false);
                out.push(if thought {
                    StreamEvent::ReasoningDelta(t.into())
                } else {
                    StreamEvent::TextDelta(t.into())
                });
            }
            if let Some(call) = part.get("functionCall") {
                out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                    index: self.tools,
                    id: call.get("id").and_then(Value::as_str).map(str::to_string),
                    name: call.get("name").and_then(Value::as_str).map(str::to_string),
                    arguments: call
                        .get("args")
                        .map(Value::to_string)
                        .unwrap_or_else(|| "{}".into()),
                })));
                self.tools += 1;
            }
        }
    }
}

/// The first [`SHOWN_CHARS`] characters of `text`, on one line.
fn preview(text: &str) -> String {
    let flat = errors::one_line(text);
    match flat.char_indices().nth(SHOWN_CHARS) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None if flat.is_empty() => "(empty)".to_string(),
        None => flat,
    }
}

/// Map Gemini finish reasons.
pub fn map_finish(raw: &str) -> FinishReason {
    match raw {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        // LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS,
        // FINISH_REASON_UNSPECIFIED and anything newer: generation did not end normally.
        _ => FinishReason::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thoughts_are_reasoning_and_counted_in_output() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.on_sse(r#"{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":20,"thoughtsTokenCount":12},"modelVersion":"gemini-x","responseId":"r1"}"#, &mut out).unwrap();
        d.on_sse(r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":22,"cachedContentTokenCount":4,"thoughtsTokenCount":12}}"#, &mut out).unwrap();
        assert!(d.saw_finish);
        assert_eq!(d.response_id.as_deref(), Some("r1"));
        assert_eq!(
            out[0],
            StreamEvent::ResponseId("r1".into()),
            "Gemini's id stands in for a request id"
        );
        assert_eq!(out[1], StreamEvent::ReasoningDelta("hmm".into()));
        assert_eq!(
            out.last(),
            Some(&StreamEvent::Usage(Box::new(Usage {
                input: Some(8),
                output: Some(14),
                cached_input: Some(4),
                cache_write: None,
                cache_write_1h: None,
                reasoning: Some(12)
            })))
        );
    }

    fn body(text: &str) -> (Decoder, Vec<StreamEvent>, Result<(), ProviderError>) {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        let r = d.on_body(text, &mut out);
        (d, out, r)
    }

    #[test]
    fn json_that_is_not_an_answer_is_malformed_showing_its_start() {
        let long = format!(
            r#"{{"candidates":[],"usageMetadata":{{"note":"{}"}}}}"#,
            "x".repeat(300)
        );
        for text in [
            "{}",
            "null",
            r#"{"candidates":[]}"#,
            "[]",
            "[1,2]",
            r#"[{"usageMetadata":{}}]"#,
            &long,
        ] {
            let (_, out, r) = body(text);
            let e = r.expect_err(text);
            assert_eq!(e.kind, ErrorKind::Malformed, "{text}");
            assert!(
                e.message.contains("no candidates and no promptFeedback"),
                "{}",
                e.message
            );
            let shown = e.message.rsplit(": ").next().unwrap_or_default();
            assert!(shown.chars().count() <= SHOWN_CHARS + 1, "{text}: {}", e.message);
            assert!(
                text.starts_with(shown.trim_end_matches('…')),
                "{text}: {}",
                e.message
            );
            assert!(!out.iter().any(StreamEvent::is_content), "{text}");
        }
    }

    #[test]
    fn real_answers_and_blocked_prompts_still_pass() {
        let (_, out, r) =
            body(r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}"#);
        assert!(r.is_ok());
        assert_eq!(out[0], StreamEvent::TextDelta("Hi".into()));
        let (d, _, r) = body(r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#);
        assert!(r.is_ok() && d.saw_finish, "a blocked prompt is an answer");
        // What streamGenerateContent returns without alt=sse: the chunks as an array.
        let (d, out, r) = body(
            r#"[{"candidates":[{"content":{"parts":[{"text":"He"}]}}]},{"candidates":[{"content":{"parts":[{"text":"llo"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}]"#,
        );
        assert!(r.is_ok() && d.saw_finish && d.saw_usage);
        let text: String = out
            .iter()
            .filter_map(|e| match e {
                StreamEvent::TextDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello");
    }

    #[test]
    fn a_stream_without_any_answer_is_named_at_its_end() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.on_sse(r#"{"modelVersion":"x"}"#, &mut out).unwrap();
        d.on_sse(r#"{"usageMetadata":{"promptTokenCount":3}}"#, &mut out)
            .unwrap();
        let e = d.no_answer_error().expect("no candidate in the whole stream");
        assert_eq!(e.kind, ErrorKind::Malformed);
        assert!(
            e.message.ends_with(r#"the first was: {"modelVersion":"x"}"#),
            "{}",
            e.message
        );
        // A usage-only chunk after a candidate is the normal end of a stream.
        let mut d = Decoder::default();
        d.on_sse(
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}"#,
            &mut out,
        )
        .unwrap();
        d.on_sse(
            r#"{"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}"#,
            &mut out,
        )
        .unwrap();
        assert!(d.no_answer_error().is_none() && d.saw_finish && d.saw_usage);
        assert_eq!(
            Decoder::default().no_answer_error(),
            None,
            "no event at all is truncation"
        );
    }

    #[test]
    fn blocked_prompt_finishes_as_content_filter() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.on_sse(r#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}}"#, &mut out).unwrap();
        assert!(d.saw_finish);
        assert_eq!(
            out[0],
            StreamEvent::Finish(Finish {
                reason: FinishReason::ContentFilter,
                raw: Some("blockReason:SAFETY".into())
            })
        );
    }

    #[test]
    fn function_call_then_stop_is_tool_calls() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.on_sse(r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}],"role":"model"},"finishReason":"STOP","index":0}]}"#, &mut out).unwrap();
        assert_eq!(
            out[0],
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 0,
                id: None,
                name: Some("f".into()),
                arguments: "{\"a\":1}".into()
            }))
        );
        assert!(matches!(&out[1], StreamEvent::Finish(f) if f.reason == FinishReason::ToolCalls));
    }
}
