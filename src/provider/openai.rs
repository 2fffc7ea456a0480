//! OpenAI Chat Completions (and the many servers that copy it).
//!
//! Streaming sends `stream_options.include_usage`, so the last data chunk before
//! `[DONE]` carries usage with an empty `choices` array. Servers that ignore the option
//! simply send no usage; the engine then counts locally and marks the count an estimate.

use serde_json::{Map, Value, json};

use super::body::{merge_extra, parse_json, put, uint};
use super::errors;
use super::event::{ErrorKind, Finish, FinishReason, ProviderError, StreamEvent, ToolCallDelta, Usage};
use super::request::ChatRequest;
use crate::target::{Target, endpoint_url};

/// Build `POST {base}/chat/completions`, without credentials.
pub fn build(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let p = &target.params;
    let mut messages = Vec::new();
    // The user's system prompt wins; the target's configured one stands in for none.
    if let Some(system) = request.system.as_ref().or(p.system.as_ref()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &request.messages {
        if let Some(turns) = super::tools::messages::chat(m) {
            messages.extend(turns);
            continue;
        }
        let role = m.role.as_str();
        messages.push(json!({"role": role, "content": m.content}));
    }
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    body.insert("messages".into(), messages.into());
    // OpenAI deprecated `max_tokens` (o-series reject it); compatible servers mostly
    // know only `max_tokens`. The table says which.
    put(&mut body, target.provider.spec().max_tokens_field, p.max_tokens);
    put(&mut body, "temperature", p.temperature);
    put(&mut body, "top_p", p.top_p);
    put(&mut body, "seed", p.seed);
    // Chat Completions takes the effort as a top-level string; a summary exists only in
    // the Responses API, so it is not sent here (config says so at load).
    put(&mut body, "reasoning_effort", p.reasoning_effort.clone());
    if !p.stop.is_empty() {
        body.insert("stop".into(), p.stop.clone().into());
    }
    body.insert("stream".into(), p.stream.into());
    if p.stream {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    super::schema::chat_completions(&mut body, target, request);
    super::tools::chat_completions(&mut body, p.tools.as_ref());
    merge_extra(&mut body, &p.extra);

    let url = endpoint_url(&target.base_url, "/chat/completions");
    client
        .post(url)
        .json(&Value::Object(body))
        .build()
        .map_err(|e| build_error(&e))
}

pub(crate) fn build_error(e: &reqwest::Error) -> ProviderError {
    ProviderError::new(
        ErrorKind::Config,
        errors::one_line(&format!("cannot build the request: {e}")),
    )
}

/// Chat Completions stream state.
#[derive(Debug, Default)]
pub struct Decoder {
    /// `data: [DONE]` arrived.
    pub saw_done: bool,
    /// A choice carried a `finish_reason`.
    pub saw_finish: bool,
    /// A chunk carried `usage` (requested on every stream with `include_usage`).
    pub saw_usage: bool,
    /// Report the model the response names (an Azure deployment's model) as a server
    /// fact; other kinds' echo of their own model id says nothing new.
    pub reports_model: bool,
    /// The model last reported.
    served: Option<String>,
    /// A `refusal` arrived: the model declined, so a plain `stop` finish is a refusal.
    refused: bool,
    /// The bytes around the text of this stream's text chunks (see `hot`).
    template: super::hot::openai::Template,
}

impl Decoder {
    /// The text of a chunk that carries only a piece of text in the stream's own
    /// template, read by its bytes (empty for an empty piece); `None` for any other chunk.
    /// Such a chunk changes nothing in the decoder: [`Self::on_sse`] would only hand it out.
    pub fn plain_text<'a>(&self, data: &'a str) -> Option<&'a str> {
        if self.reports_model {
            None
        } else {
            self.template.text(data)
        }
    }

    /// One `data:` payload.
    pub fn on_sse(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        if data.trim() == "[DONE]" {
            self.saw_done = true;
            return Ok(());
        }
        // Almost every chunk: read by its bytes, or decoded typed and borrowed (see `hot`).
        if let Some(text) = self.plain_text(data) {
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta(text.into()));
            }
            return Ok(());
        }
        if !self.reports_model
            && let Some(chunk) = super::hot::openai::chunk(data)
        {
            self.template.learn(data, &chunk);
            let text = crate::provider::event::Piece::from;
            out.extend(chunk.reasoning.map(|t| StreamEvent::ReasoningDelta(text(t))));
            out.extend(chunk.content.map(|t| StreamEvent::TextDelta(text(t))));
            if let Some(raw) = chunk.finish_reason {
                self.finished(&raw, out);
            }
            return Ok(());
        }
        let v = parse_json(data, "a stream chunk")?;
        if let Some(err) = v.get("error") {
            return Err(in_band_error(err));
        }
        // An Azure prompt-filter chunk has no choices; annotation chunks have no delta.
        if let Some(choice) = first_choice(&v) {
            if let Some(delta) = choice.get("delta") {
                self.refused |= message_parts(delta, out, false);
            }
            self.finish(choice, out);
        }
        self.saw_usage |= usage(&v, out);
        server_report(&v, out);
        self.azure_report(&v, out);
        Ok(())
    }

    /// A whole `chat.completion` object.
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        let v = parse_json(body, "the response body")?;
        if let Some(err) = v.get("error") {
            return Err(in_band_error(err));
        }
        let choice = first_choice(&v)
            .ok_or_else(|| ProviderError::new(ErrorKind::Malformed, "the response has no choices"))?;
        if let Some(message) = choice.get("message") {
            self.refused |= message_parts(message, out, true);
        }
        self.finish(choice, out);
        self.saw_usage |= usage(&v, out);
        server_report(&v, out);
        self.azure_report(&v, out);
        self.saw_done = true;
        Ok(())
    }

    /// Content filter verdicts, and the model that answered when this decoder reports it
    /// (once, and again only if it changes; annotation chunks name none).
    fn azure_report(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        let mut report = super::server::ServerReport::default();
        if let Some(filter) = super::azure::filter::from_chat(v) {
            report.source = "azure content filter".into();
            report.content_filter = Some(Box::new(filter));
        }
        let named = v.get("model").and_then(Value::as_str).filter(|m| !m.is_empty());
        if self.reports_model
            && let Some(model) = named
            && self.served.as_deref() != Some(model)
        {
            self.served = Some(model.to_string());
            report.model = Some(model.to_string());
            report.merge(&super::server::ServerReport {
                source: "response model".into(),
                ..Default::default()
            });
        }
        if !report.is_empty() {
            out.push(StreamEvent::Server(Box::new(report)));
        }
    }

    fn finish(&mut self, choice: &Value, out: &mut Vec<StreamEvent>) {
        if let Some(raw) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finished(raw, out);
        }
    }

    /// A choice's `finish_reason`, as sent.
    fn finished(&mut self, raw: &str, out: &mut Vec<StreamEvent>) {
        self.saw_finish = true;
        // OpenAI finishes a refusal with `stop`; the refusal is the real outcome.
        let reason = match map_finish(raw) {
            FinishReason::Stop if self.refused => FinishReason::Refusal,
            other => other,
        };
        out.push(StreamEvent::Finish(Finish {
            reason,
            raw: Some(raw.into()),
        }));
    }
}

fn first_choice(v: &Value) -> Option<&Value> {
    v.get("choices")?
        .as_array()?
        .iter()
        .find(|c| uint(c, "index").unwrap_or(0) == 0)
}

/// Text, reasoning, refusal and tool calls from a `delta` (stream) or `message` (body);
/// says whether it held refusal text.
fn message_parts(m: &Value, out: &mut Vec<StreamEvent>, whole: bool) -> bool {
    // `reasoning_content`: DeepSeek, vLLM, llama.cpp; `reasoning`: OpenRouter, Ollama.
    for key in ["reasoning_content", "reasoning"] {
        if let Some(t) = m.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
            out.push(StreamEvent::ReasoningDelta(t.into()));
            break;
        }
    }
    if let Some(t) = m.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        out.push(StreamEvent::TextDelta(t.into()));
    }
    let refusal = m.get("refusal").and_then(Value::as_str).filter(|t| !t.is_empty());
    if let Some(t) = refusal {
        out.push(StreamEvent::RefusalDelta(t.into()));
    }
    let Some(calls) = m.get("tool_calls").and_then(Value::as_array) else {
        return refusal.is_some();
    };
    for (pos, call) in calls.iter().enumerate() {
        let index = if whole {
            pos
        } else {
            uint(call, "index").map_or(pos, |i| i as usize)
        };
        let function = call.get("function");
        let text = |v: Option<&Value>, k: &str| {
            v.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        out.push(StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index,
            id: text(Some(call), "id"),
            name: text(function, "name"),
            arguments: text(function, "arguments").unwrap_or_default(),
        })));
    }
    refusal.is_some()
}

/// Push the chunk's usage, if it has any; says whether it did. Groq streams put theirs
/// under `x_groq.usage` instead.
fn usage(v: &Value, out: &mut Vec<StreamEvent>) -> bool {
    let Some(u) = v
        .get("usage")
        .filter(|u| u.is_object())
        .or_else(|| v.pointer("/x_groq/usage").filter(|u| u.is_object()))
    else {
        return false;
    };
    let detail = |outer: &str, inner: &str| u.get(outer).and_then(|d| uint(d, inner));
    out.push(StreamEvent::Usage(Box::new(Usage {
        input: uint(u, "prompt_tokens"),
        output: uint(u, "completion_tokens"),
        // DeepSeek reports its cache hits in a field of its own.
        cached_input: detail("prompt_tokens_details", "cached_tokens")
            .or_else(|| uint(u, "prompt_cache_hit_tokens")),
        cache_write: None,
        cache_write_1h: None,
        reasoning: detail("completion_tokens_details", "reasoning_tokens"),
    })));
    true
}

/// Push what the server reported about its own work (llama.cpp, Groq, OpenRouter).
fn server_report(v: &Value, out: &mut Vec<StreamEvent>) {
    if let Some(r) = super::server::from_chat_chunk(v) {
        out.push(StreamEvent::Server(Box::new(r)));
    }
}

/// Map OpenAI's finish reasons; unknown values (server-specific) keep their raw text.
pub fn map_finish(raw: &str) -> FinishReason {
    match raw {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

pub(crate) fn in_band_error(err: &Value) -> ProviderError {
    let wrapped = json!({ "error": err }).to_string();
    let b = errors::parse_error_body(&wrapped).unwrap_or_default();
    let text = [b.kind, b.message]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    errors::in_stream(
        if text.is_empty() {
            "unspecified error"
        } else {
            &text
        },
        wrapped,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(lines: &[&str]) -> (Decoder, Vec<StreamEvent>) {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for l in lines {
            d.on_sse(l, &mut out).unwrap();
        }
        (d, out)
    }

    #[test]
    fn role_chunk_is_not_content_and_usage_chunk_has_no_choices() {
        let (d, out) = decode(&[
            r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null}"#,
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
            "[DONE]",
        ]);
        assert!(d.saw_done && d.saw_finish && d.saw_usage);
        assert_eq!(
            out,
            vec![
                StreamEvent::TextDelta("Hi".into()),
                StreamEvent::Finish(Finish {
                    reason: FinishReason::Length,
                    raw: Some("length".into())
                }),
                StreamEvent::Usage(Box::new(Usage {
                    input: Some(9),
                    output: Some(1),
                    cached_input: Some(4),
                    cache_write: None,
                    cache_write_1h: None,
                    reasoning: Some(0)
                })),
            ]
        );
    }

    #[test]
    fn tool_call_fragments_keep_their_index() {
        let (_, out) = decode(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#,
        ]);
        assert_eq!(
            out[1],
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 0,
                id: None,
                name: None,
                arguments: "{\"city\":".into()
            }))
        );
        assert!(out[0].is_content());
    }

    #[test]
    fn reasoning_content_and_in_band_errors() {
        let (_, out) = decode(&[r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}"#]);
        assert_eq!(out, vec![StreamEvent::ReasoningDelta("think".into())]);
        let mut d = Decoder::default();
        let e = d
            .on_sse(r#"{"error":{"message":"The server is overloaded","type":"server_error","code":"server_is_overloaded"}}"#, &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert!(
            d.on_sse("{not json", &mut Vec::new())
                .is_err_and(|e| e.kind == ErrorKind::Malformed)
        );
    }

    #[test]
    fn groq_usage_and_times_come_from_x_groq() {
        let (d, out) = decode(&[
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.02,"prompt_tokens":18,"prompt_time":0.0002,"completion_tokens":4,"completion_time":0.01,"total_tokens":22,"total_time":0.0102}}}"#,
            "[DONE]",
        ]);
        assert!(d.saw_usage, "Groq's usage counts as the usage chunk");
        assert!(out.contains(&StreamEvent::Usage(Box::new(Usage {
            input: Some(18),
            output: Some(4),
            ..Usage::default()
        }))));
        let server = out.iter().find_map(|e| match e {
            StreamEvent::Server(r) => Some(r),
            _ => None,
        });
        assert_eq!(
            server.map(|r| r.queue_ms.is_some() && r.generation_ms.is_some()),
            Some(true)
        );
    }

    #[test]
    fn reasoning_under_either_key_is_shown_once() {
        // vLLM sends both spellings with the same text; DeepSeek only `reasoning_content`,
        // OpenRouter and Ollama only `reasoning`.
        let (_, out) = decode(&[
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"a","reasoning":"a"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"b"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"","reasoning":"c"}}]}"#,
        ]);
        let text: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ReasoningDelta(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, ["a", "b", "c"]);
    }
}
