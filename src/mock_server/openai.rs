//! OpenAI Chat Completions on the wire: `POST /v1/chat/completions`.
//!
//! Streams are `data: {compact json}` events ending in `data: [DONE]`; the first chunk
//! carries the role, the finish chunk has an empty delta, and with
//! `stream_options.include_usage` every chunk has `"usage": null` until a final chunk with
//! `"choices": []` carries the totals. Reasoning streams as `delta.reasoning_content`, the
//! way DeepSeek and vLLM extend the format. Non-streamed bodies are pretty-printed with two
//! spaces, errors with four.

use super::common::{Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, content_text, id_suffix};
use super::driver::Injections;
use super::plan::{Finish, Kind, Plan};
use super::wire::{self, Frame, go_duration, sse};
use crate::target::ProviderKind;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{Value, json};

pub struct OpenAi;

const TOKEN_LIMIT: usize = 30_000_000;
const REQUEST_LIMIT: usize = 10_000;
const CONTEXT_LIMIT: usize = 128_000;
const FINGERPRINT: &str = "fp_mock0001";

impl Api for OpenAi {
    const NAME: &'static str = "openai";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = "text/event-stream; charset=utf-8";
    const JSON_CONTENT_TYPE: &'static str = "application/json";

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        let auth = ProviderKind::OpenAi.spec().auth;
        let key = inc
            .header(auth.header_name())
            .and_then(|v| v.strip_prefix(auth.value_prefix()));
        match key.map(str::trim) {
            Some(k) if !k.is_empty() => Ok(()),
            _ => Err(ApiError::MissingKey),
        }
    }

    fn parse(_inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::Invalid("you must provide a model parameter".into()))?;
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::Invalid("Missing required parameter: 'messages'.".into()))?;
        let cap = ["max_completion_tokens", "max_tokens"]
            .iter()
            .find_map(|k| body.get(*k).and_then(Value::as_u64))
            .map(|n| n as usize);
        let texts: Vec<String> = messages
            .iter()
            .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
            .collect();
        let roles: Vec<String> = messages
            .iter()
            .map(|m| {
                m.get("role")
                    .and_then(Value::as_str)
                    .unwrap_or("user")
                    .to_string()
            })
            .collect();
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
            .unwrap_or_default();
        Ok(Parsed {
            model: model.to_string(),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            include_usage: body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            cap,
            messages: texts.len(),
            texts,
            roles,
            last_user,
        })
    }

    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)> {
        let planned = ctx.input_tokens + ctx.parsed.cap.unwrap_or(ctx.script.tokens);
        let (remaining_requests, remaining_tokens, reset_tokens) = if limited && ctx.script.hints {
            let wait = ctx.script.retry_after.unwrap_or(20) * 1000;
            (0, 0, wait)
        } else {
            let ms = (planned as u64 * 60_000 / TOKEN_LIMIT as u64).max(1);
            (REQUEST_LIMIT - 1, TOKEN_LIMIT.saturating_sub(planned), ms)
        };
        vec![
            ("x-request-id", ctx.id.clone()),
            (
                "openai-processing-ms",
                ctx.received_at.elapsed().as_millis().to_string(),
            ),
            ("openai-version", "2020-10-01".into()),
            ("x-ratelimit-limit-requests", REQUEST_LIMIT.to_string()),
            ("x-ratelimit-limit-tokens", TOKEN_LIMIT.to_string()),
            ("x-ratelimit-remaining-requests", remaining_requests.to_string()),
            ("x-ratelimit-remaining-tokens", remaining_tokens.to_string()),
            ("x-ratelimit-reset-requests", "6ms".into()),
            ("x-ratelimit-reset-tokens", go_duration(reset_tokens)),
        ]
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        let (status, message, kind, param, code) = describe(ctx, err);
        let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
        let mut headers = Vec::new();
        if let ApiError::RateLimited { retry_after: Some(s) } = err {
            headers.push(("retry-after", s.to_string()));
        }
        ErrorReply {
            status,
            content_type: Self::JSON_CONTENT_TYPE,
            headers,
            body: wire::pretty(&body, 4) + "\n",
        }
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        let (chunks, inject) = chunks(ctx, plan);
        let frames = chunks.into_iter().map(|c| c.frame(ctx.eol)).collect();
        (frames, inject)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let text = plan.text(Kind::Text);
        let refused = plan.finish == Finish::Refusal;
        let mut message = json!({"role": "assistant",
            "content": if !plan.tools.is_empty() || refused { Value::Null } else { json!(text) }});
        if plan.usage.reasoning > 0 {
            message["reasoning_content"] = json!(plan.text(Kind::Reasoning));
        }
        if !plan.tools.is_empty() {
            let calls: Vec<Value> = (plan.tools.iter().enumerate())
                .map(|(i, tool)| {
                    json!({"id": call_id(ctx, i), "type": "function",
                        "function": {"name": tool.name, "arguments": plan.args(i)}})
                })
                .collect();
            message["tool_calls"] = Value::Array(calls);
        }
        // A refusal comes in its own field, the content null.
        message["refusal"] = if refused { json!(text) } else { Value::Null };
        message["annotations"] = json!([]);
        let mut v = envelope(ctx, "chat.completion");
        v["choices"] = json!([{"index": 0, "message": message, "logprobs": null,
            "finish_reason": finish_reason(plan.finish)}]);
        if !plan.omit_usage {
            v["usage"] = usage(plan);
        }
        v["service_tier"] = json!("default");
        v["system_fingerprint"] = json!(FINGERPRINT);
        wire::pretty(&v, 2) + "\n"
    }
}

const SERVER_ERROR: &str = "The server had an error while processing your request. Sorry about that!";

/// A Chat Completions chunk before it is written: the servers that copy the format
/// (Azure) change chunks, not the order or pacing of the stream.
pub(super) enum Chunk {
    /// A `data:` event holding this object.
    Json(Value),
    /// A `data:` event holding a piece of answer text: the shape's chunk with this text,
    /// kept apart so the most common chunk is written straight into its bytes rather than
    /// built as a value and serialized (an answer can have a million of them).
    Text(Arc<TextShape>, String),
    /// `data: [DONE]`.
    Done,
}

impl Chunk {
    /// The chunk's object, for a server that changes it (a text piece becomes one).
    pub(super) fn json_mut(&mut self) -> Option<&mut Value> {
        if let Chunk::Text(shape, text) = &*self {
            *self = Chunk::Json(shape.value(text));
        }
        match self {
            Chunk::Json(v) => Some(v),
            Chunk::Text(..) | Chunk::Done => None,
        }
    }
}

/// A stream's text chunk around its text: every one is the same but for the text.
pub(super) struct TextShape {
    /// The chunk with empty text.
    value: Value,
    /// Its compact JSON up to the text's string, and from after it.
    head: String,
    tail: String,
}

impl TextShape {
    /// The shape of `value`, a chunk whose delta's `content` is empty; `None` if that
    /// field cannot be found once and only once in its JSON.
    fn of(value: Value) -> Option<Self> {
        const FIELD: &str = r#""content":"""#;
        let json = wire::compact(&value);
        let at = json.find(FIELD)?;
        if json[at + 1..].contains(FIELD) {
            return None;
        }
        let head = json[..at + FIELD.len() - 2].to_string();
        let tail = json[at + FIELD.len()..].to_string();
        Some(Self { value, head, tail })
    }

    /// The chunk with `text`, as a value.
    fn value(&self, text: &str) -> Value {
        let mut v = self.value.clone();
        v["choices"][0]["delta"]["content"] = Value::from(text);
        v
    }

    /// The chunk with `text`, in compact JSON: the bytes [`wire::compact`] writes for
    /// [`Self::value`] (the tests hold it to that).
    fn json(&self, text: &str) -> String {
        let text = Value::from(text).to_string();
        let mut json = String::with_capacity(self.head.len() + text.len() + self.tail.len());
        json.push_str(&self.head);
        json.push_str(&text);
        json.push_str(&self.tail);
        json
    }
}

/// One planned event: the chunk, and the output tokens it carries when it is content.
pub(super) struct Planned {
    pub chunk: Chunk,
    pub content: Option<usize>,
}

impl Planned {
    fn control(chunk: Chunk) -> Self {
        Self { chunk, content: None }
    }

    fn content(chunk: Chunk, tokens: usize) -> Self {
        Self {
            chunk,
            content: Some(tokens),
        }
    }

    /// The frame, its JSON compact.
    pub(super) fn frame(self, eol: &str) -> Frame {
        let bytes = match &self.chunk {
            Chunk::Json(v) => sse(eol, None, &wire::compact(v)),
            Chunk::Text(shape, text) => sse(eol, None, &shape.json(text)),
            Chunk::Done => sse(eol, None, "[DONE]"),
        };
        match self.content {
            Some(tokens) => Frame::content(bytes, tokens),
            None => Frame::control(bytes),
        }
    }
}

/// The chunks of a streamed answer to `plan`, and the bytes of its injected faults.
pub(super) fn chunks(ctx: &Ctx, plan: &Plan) -> (Vec<Planned>, Injections) {
    let eol = ctx.eol;
    let with_usage = ctx.parsed.include_usage && !plan.omit_usage;
    let chunk_value = |delta: Value, finish: Value| {
        let mut v = envelope(ctx, "chat.completion.chunk");
        v["choices"] = json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        if with_usage {
            v["usage"] = Value::Null;
        }
        v
    };
    let chunk = |delta: Value, finish: Value| Chunk::Json(chunk_value(delta, finish));
    let text_shape = TextShape::of(chunk_value(json!({"content": ""}), Value::Null)).map(Arc::new);
    // A refusal's first chunk opens the refusal field instead of the content.
    let role = if plan.finish == Finish::Refusal {
        json!({"role": "assistant", "content": null, "refusal": ""})
    } else {
        json!({"role": "assistant", "content": "", "refusal": null})
    };
    let mut frames = vec![Planned::control(chunk(role, Value::Null))];
    // Each call opens with a chunk carrying its index, id and name; its argument deltas
    // then name only the index, as the API streams parallel calls.
    let mut opened = 0;
    let mut open_through = |frames: &mut Vec<Planned>, last: usize| {
        while opened <= last && opened < plan.tools.len() {
            let head = json!({"tool_calls": [{"index": opened, "id": call_id(ctx, opened),
                "type": "function", "function": {"name": plan.tools[opened].name, "arguments": ""}}]});
            frames.push(Planned::content(chunk(head, Value::Null), 0));
            opened += 1;
        }
    };
    for event in &plan.events {
        let delta = match event.kind {
            Kind::Reasoning => json!({"reasoning_content": event.text}),
            Kind::Text if plan.finish == Finish::Refusal => json!({"refusal": event.text}),
            Kind::Text => match &text_shape {
                Some(shape) => {
                    let text = Chunk::Text(shape.clone(), event.text.clone());
                    frames.push(Planned::content(text, event.tokens));
                    continue;
                }
                None => json!({"content": event.text}),
            },
            Kind::ToolArgs => {
                open_through(&mut frames, event.call);
                json!({"tool_calls": [{"index": event.call, "function": {"arguments": event.text}}]})
            }
        };
        frames.push(Planned::content(chunk(delta, Value::Null), event.tokens));
    }
    // Calls with no arguments streamed (or cut before any) still open.
    open_through(&mut frames, usize::MAX);
    // For Chat Completions a finish_reason already marks a complete answer, so a stream
    // "without its terminator" stops after the content: no finish, usage or [DONE].
    let cut = plan.fault == Some(super::script::Fault::NoTerminator);
    if !cut {
        frames.push(Planned::control(chunk(
            json!({}),
            json!(finish_reason(plan.finish)),
        )));
    }
    if with_usage && !cut {
        let mut v = envelope(ctx, "chat.completion.chunk");
        v["choices"] = json!([]);
        v["usage"] = usage(plan);
        frames.push(Planned::control(Chunk::Json(v)));
    }
    if !cut {
        frames.push(Planned::control(Chunk::Done));
    }
    let broken = format!(
        "{{\"id\":\"chatcmpl-{}\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"delta\":{{\"content\":\"",
        id_suffix(&ctx.id, 29)
    );
    let error = json!({"error": {"message": SERVER_ERROR, "type": "server_error",
        "param": null, "code": null}});
    let inject = Injections {
        malformed: sse(eol, None, &broken),
        error_event: sse(eol, None, &wire::compact(&error)),
    };
    (frames, inject)
}

fn describe(ctx: &Ctx, err: &ApiError) -> (StatusCode, String, &'static str, Value, Value) {
    let invalid = "invalid_request_error";
    match err {
        ApiError::MissingKey | ApiError::MissingVersion => (
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization \
             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password \
             field (with blank username) if you're accessing the API from your browser and are \
             prompted for a username and password. You can obtain an API key from \
             https://platform.openai.com/account/api-keys."
                .into(),
            invalid,
            Value::Null,
            Value::Null,
        ),
        ApiError::BadKey => (
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided: sk-mock*****************key. You can find your API key \
             at https://platform.openai.com/account/api-keys."
                .into(),
            invalid,
            Value::Null,
            json!("invalid_api_key"),
        ),
        ApiError::InvalidJson(_) => (
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but \
             what was sent was not valid JSON. If you have trouble figuring out how to fix this, \
             please contact us through our help center at help.openai.com.)"
                .into(),
            invalid,
            Value::Null,
            Value::Null,
        ),
        ApiError::Invalid(m) => (
            StatusCode::BAD_REQUEST,
            m.clone(),
            invalid,
            Value::Null,
            Value::Null,
        ),
        ApiError::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Rate limit reached for {} in organization org-mock on tokens per min (TPM): \
                 Limit {TOKEN_LIMIT}, Used {TOKEN_LIMIT}, Requested {}. Please try again in {}. \
                 Visit https://platform.openai.com/account/rate-limits to learn more.",
                ctx.model,
                ctx.input_tokens,
                go_duration(retry_after.unwrap_or(20) * 1000)
            ),
            "tokens",
            Value::Null,
            json!("rate_limit_exceeded"),
        ),
        ApiError::Server => (
            StatusCode::INTERNAL_SERVER_ERROR,
            SERVER_ERROR.into(),
            "server_error",
            Value::Null,
            Value::Null,
        ),
        ApiError::Unavailable | ApiError::Overloaded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "That model is currently overloaded with other requests. You can retry your request, \
             or contact us through our help center at help.openai.com if the error persists."
                .into(),
            "server_error",
            Value::Null,
            Value::Null,
        ),
        ApiError::ModelNotFound => (
            StatusCode::NOT_FOUND,
            format!(
                "The model `{}` does not exist or you do not have access to it.",
                ctx.model
            ),
            invalid,
            Value::Null,
            json!("model_not_found"),
        ),
        ApiError::ContextLength => (
            StatusCode::BAD_REQUEST,
            format!(
                "This model's maximum context length is {CONTEXT_LIMIT} tokens. However, your \
                 messages resulted in {} tokens. Please reduce the length of the messages.",
                CONTEXT_LIMIT + ctx.input_tokens
            ),
            invalid,
            json!("messages"),
            json!("context_length_exceeded"),
        ),
        ApiError::NotFound(m) => (
            StatusCode::NOT_FOUND,
            m.clone(),
            invalid,
            Value::Null,
            Value::Null,
        ),
    }
}

/// The fields every chunk and completion starts with, in the API's order.
fn envelope(ctx: &Ctx, object: &str) -> Value {
    let mut v = json!({"id": format!("chatcmpl-{}", id_suffix(&ctx.id, 29)), "object": object,
        "created": ctx.created, "model": ctx.model});
    if object == "chat.completion.chunk" {
        v["service_tier"] = json!("default");
        v["system_fingerprint"] = json!(FINGERPRINT);
    }
    v
}

/// The id of tool call `index` (the first keeps the id a single call always had).
fn call_id(ctx: &Ctx, index: usize) -> String {
    let seed = match index {
        0 => format!("{}call", ctx.id),
        n => format!("{}call{n}", ctx.id),
    };
    format!("call_{}", id_suffix(&seed, 24))
}

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        // OpenAI ends a refusal as it ends any answer.
        Finish::Stop | Finish::Refusal => "stop",
        Finish::Length => "length",
        Finish::Filter | Finish::Blocked => "content_filter",
        Finish::Tool => "tool_calls",
    }
}

fn usage(plan: &Plan) -> Value {
    let u = plan.usage;
    json!({
        "prompt_tokens": u.input,
        "completion_tokens": u.output(),
        "total_tokens": u.input + u.output(),
        "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    })
}

/// The 404 body for an unknown path, as the API words it.
pub fn unknown_path(method: &str, path: &str) -> ApiError {
    ApiError::NotFound(format!("Invalid URL ({method} {path})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_chunk_written_straight_is_the_chunk_serialized() {
        let chunk = |content: &str| {
            json!({"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1,
                "model": "gpt-4o-mini", "service_tier": "default", "system_fingerprint": "fp_1",
                "choices": [{"index": 0, "delta": {"content": content}, "logprobs": null,
                    "finish_reason": null}], "usage": null})
        };
        let shape = TextShape::of(chunk("")).expect("one content field");
        for text in [
            "plain",
            "",
            " quote \" and \\ backslash",
            "line\nend\r\ttab \u{1} \u{1f}",
            "caf\u{e9} \u{1f600} \u{2028}",
            r#"","content":""#,
        ] {
            assert_eq!(shape.json(text), wire::compact(&chunk(text)), "{text:?}");
            assert_eq!(shape.value(text), chunk(text));
            for eol in ["\n", "\r\n"] {
                let straight = Planned::content(
                    Chunk::Text(Arc::new(TextShape::of(chunk("")).unwrap()), text.into()),
                    1,
                );
                let built = Planned::content(Chunk::Json(chunk(text)), 1);
                assert_eq!(straight.frame(eol).bytes, built.frame(eol).bytes, "{text:?}");
            }
        }
        let mut text = Chunk::Text(Arc::new(shape), "hi".into());
        assert_eq!(
            text.json_mut().cloned(),
            Some(chunk("hi")),
            "a server that changes chunks sees the value"
        );
        assert!(matches!(text, Chunk::Json(_)));
        // A chunk whose text field is not there once is written from its value.
        assert!(TextShape::of(json!({"choices": []})).is_none());
        assert!(TextShape::of(json!({"a": {"content": ""}, "b": {"content": ""}})).is_none());
    }
}
