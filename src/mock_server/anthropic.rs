//! Anthropic Messages on the wire: `POST /v1/messages`.
//!
//! Streams are named SSE events (`event: NAME` then one `data:` line of compact JSON):
//! `message_start`, then per block `content_block_start` / `content_block_delta`s /
//! `content_block_stop` (a `ping` follows the first block start), then `message_delta` with
//! the stop reason and cumulative output tokens, then `message_stop`. Reasoning is a
//! `thinking` block closed by a `signature_delta`; tool arguments stream as
//! `input_json_delta`. `input_tokens` excludes cache reads and writes, as the API reports it.

use super::common::{Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, content_text, id_suffix};
use super::driver::Injections;
use super::plan::{Finish, Kind, Plan};
use super::script::Fault;
use super::wire::{self, Frame, rfc3339, sse};
use crate::target::ProviderKind;
use hyper::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

pub struct Anthropic;

const CONTEXT_LIMIT: usize = 200_000;

impl Api for Anthropic {
    const NAME: &'static str = "anthropic";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = "text/event-stream; charset=utf-8";
    const JSON_CONTENT_TYPE: &'static str = "application/json";

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        // Current SDKs send the key as a bearer token; older clients use x-api-key.
        let bearer = inc
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let key = inc.header(ProviderKind::Anthropic.spec().auth.header_name());
        match key.or(bearer).map(str::trim) {
            Some(k) if !k.is_empty() => {}
            _ => return Err(ApiError::MissingKey),
        }
        match inc.header("anthropic-version") {
            Some(v) if !v.trim().is_empty() => Ok(()),
            _ => Err(ApiError::MissingVersion),
        }
    }

    fn direct(ctx: &Ctx, inc: &Incoming) -> Option<String> {
        is_count(inc).then(|| json!({"input_tokens": ctx.input_tokens}).to_string())
    }

    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::Invalid("model: Field required".into()))?;
        // Only generation needs a limit; `count_tokens` takes none.
        let counting = is_count(inc);
        let cap = match body.get("max_tokens").and_then(Value::as_u64) {
            Some(c) => Some(c),
            None if counting => None,
            None => return Err(ApiError::Invalid("max_tokens: Field required".into())),
        };
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::Invalid("messages: Field required".into()))?;
        let mut texts = Vec::new();
        if let Some(system) = body.get("system") {
            texts.push(content_text(system));
        }
        texts.extend(
            messages
                .iter()
                .map(|m| content_text(m.get("content").unwrap_or(&Value::Null))),
        );
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
            .unwrap_or_default();
        Ok(Parsed {
            model: model.to_string(),
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            include_usage: true,
            cap: cap.map(|c| c as usize),
            messages: messages.len(),
            texts,
            roles: Vec::new(),
            last_user,
        })
    }

    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)> {
        let soon = rfc3339(SystemTime::now() + Duration::from_secs(1));
        let reset = if limited && ctx.script.hints {
            rfc3339(SystemTime::now() + Duration::from_secs(ctx.script.retry_after.unwrap_or(20)))
        } else {
            soon
        };
        let out = ctx.parsed.cap.unwrap_or(ctx.script.tokens);
        let remaining = |limit: usize, used: usize| {
            if limited && ctx.script.hints {
                "0".to_string()
            } else {
                limit.saturating_sub(used).to_string()
            }
        };
        vec![
            ("request-id", ctx.id.clone()),
            ("anthropic-ratelimit-requests-limit", "4000".into()),
            ("anthropic-ratelimit-requests-remaining", remaining(4000, 1)),
            ("anthropic-ratelimit-requests-reset", reset.clone()),
            ("anthropic-ratelimit-tokens-limit", "2400000".into()),
            (
                "anthropic-ratelimit-tokens-remaining",
                remaining(2_400_000, ctx.input_tokens + out),
            ),
            ("anthropic-ratelimit-tokens-reset", reset.clone()),
            ("anthropic-ratelimit-input-tokens-limit", "2000000".into()),
            (
                "anthropic-ratelimit-input-tokens-remaining",
                remaining(2_000_000, ctx.input_tokens),
            ),
            ("anthropic-ratelimit-input-tokens-reset", reset.clone()),
            ("anthropic-ratelimit-output-tokens-limit", "400000".into()),
            (
                "anthropic-ratelimit-output-tokens-remaining",
                remaining(400_000, out),
            ),
            ("anthropic-ratelimit-output-tokens-reset", reset),
        ]
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        let (status, kind, message) = describe(ctx, err);
        let body = json!({"type": "error", "error": {"type": kind, "message": message},
            "request_id": ctx.id});
        let mut headers = Vec::new();
        if let ApiError::RateLimited { retry_after } = err
            && ctx.script.hints
        {
            headers.push(("retry-after", retry_after.unwrap_or(20).to_string()));
        }
        if status.as_u16() == 429 || status.is_server_error() {
            headers.push(("x-should-retry", "true".into()));
        }
        ErrorReply {
            status,
            content_type: Self::JSON_CONTENT_TYPE,
            headers,
            body: wire::compact(&body),
        }
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        let eol = ctx.eol;
        let ev = |name: &str, v: Value| sse(eol, Some(name), &wire::compact(&v));
        let mut message = message_object(ctx, plan, json!([]), Value::Null);
        message["usage"]["output_tokens"] = json!(1);
        let mut frames = vec![Frame::control(ev(
            "message_start",
            json!({"type": "message_start", "message": message}),
        ))];
        let mut index = 0;
        let delta = |index: usize, d: Value| {
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": d}),
            )
        };
        let stop = |index: usize| {
            Frame::control(ev(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ))
        };
        if plan.usage.reasoning > 0 {
            let block = json!({"type": "thinking", "thinking": "", "signature": ""});
            frames.push(Frame::control(block_start(eol, index, block)));
            for e in plan.events.iter().filter(|e| e.kind == Kind::Reasoning) {
                let d = piece_delta(eol, index, "thinking_delta", "thinking", &e.text);
                frames.push(Frame::content(d, e.tokens));
            }
            let sig = json!({"type": "signature_delta", "signature": signature(ctx)});
            frames.push(Frame::control(delta(index, sig)));
            frames.push(stop(index));
            index += 1;
        }
        if plan.tools.is_empty() {
            let block = json!({"type": "text", "text": ""});
            frames.push(Frame::control(block_start(eol, index, block)));
            for e in plan.events.iter().filter(|e| e.kind == Kind::Text) {
                let d = piece_delta(eol, index, "text_delta", "text", &e.text);
                frames.push(Frame::content(d, e.tokens));
            }
            frames.push(stop(index));
        }
        // Parallel calls are one tool_use block each, one after the other.
        for (call, tool) in plan.tools.iter().enumerate() {
            if call > 0 {
                index += 1;
            }
            let block = json!({"type": "tool_use", "id": tool_id(ctx, call), "name": tool.name, "input": {}});
            frames.push(Frame::content(block_start(eol, index, block), 0));
            for e in plan.call_events(call) {
                let d = piece_delta(eol, index, "input_json_delta", "partial_json", &e.text);
                frames.push(Frame::content(d, e.tokens));
            }
            frames.push(stop(index));
        }
        // The API sends one ping right after the first content_block_start.
        let ping = sse(eol, Some("ping"), "{\"type\": \"ping\"}");
        frames.insert(2, Frame::control(ping));
        let md = json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(plan.finish), "stop_sequence": null},
            "usage": {"output_tokens": plan.usage.output()}});
        frames.push(Frame::control(ev("message_delta", md)));
        if plan.fault != Some(Fault::NoTerminator) {
            frames.push(Frame::control(ev(
                "message_stop",
                json!({"type": "message_stop"}),
            )));
        }
        let broken = format!(
            "{{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"text_delta\",\"text\":\""
        );
        let error = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let inject = Injections {
            malformed: sse(eol, Some("content_block_delta"), &broken),
            error_event: ev("error", error),
        };
        (frames, inject)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let mut content = Vec::new();
        if plan.usage.reasoning > 0 {
            content.push(json!({"type": "thinking", "thinking": plan.text(Kind::Reasoning),
                "signature": signature(ctx)}));
        }
        if plan.tools.is_empty() {
            content.push(json!({"type": "text", "text": plan.text(Kind::Text)}));
        }
        for (call, tool) in plan.tools.iter().enumerate() {
            let input: Value = serde_json::from_str(&plan.args(call)).unwrap_or_else(|_| json!({}));
            content.push(
                json!({"type": "tool_use", "id": tool_id(ctx, call), "name": tool.name,
                "input": input}),
            );
        }
        let v = message_object(ctx, plan, Value::Array(content), json!(stop_reason(plan.finish)));
        wire::compact(&v)
    }
}

/// A `content_block_delta` event carrying one piece, written straight rather than built
/// as a `Value` and serialized: the same bytes (the test below holds it to that), at a
/// fraction of the cost, which matters when one answer has a million pieces.
fn piece_delta(eol: &str, index: usize, kind: &str, field: &str, text: &str) -> bytes::Bytes {
    let text = Value::from(text).to_string();
    let data = format!(
        "{{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"{kind}\",\"{field}\":{text}}}}}"
    );
    sse(eol, Some("content_block_delta"), &data)
}

fn block_start(eol: &str, index: usize, block: Value) -> bytes::Bytes {
    let v = json!({"type": "content_block_start", "index": index, "content_block": block});
    sse(eol, Some("content_block_start"), &wire::compact(&v))
}

fn message_object(ctx: &Ctx, plan: &Plan, content: Value, stop: Value) -> Value {
    let u = plan.usage;
    let mut message = json!({
        "id": format!("msg_01{}", id_suffix(&ctx.id, 22)),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": {
            "input_tokens": u.input.saturating_sub(u.cached + u.cache_write),
            "cache_creation_input_tokens": u.cache_write,
            "cache_read_input_tokens": u.cached,
            "output_tokens": u.output(),
        }
    });
    if u.cache_write_1h > 0 {
        // The split by time to live, as the API reports it once a 1-hour write happens.
        message["usage"]["cache_creation"] = json!({
            "ephemeral_5m_input_tokens": u.cache_write - u.cache_write_1h,
            "ephemeral_1h_input_tokens": u.cache_write_1h,
        });
    }
    message
}

fn signature(ctx: &Ctx) -> String {
    format!("Eq{}", id_suffix(&format!("{}sig", ctx.id), 86))
}

/// The id of tool call `call` (the first keeps the id a single call always had).
fn tool_id(ctx: &Ctx, call: usize) -> String {
    let seed = match call {
        0 => format!("{}tool", ctx.id),
        n => format!("{}tool{n}", ctx.id),
    };
    format!("toolu_01{}", id_suffix(&seed, 22))
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::Filter | Finish::Blocked | Finish::Refusal => "refusal",
        Finish::Tool => "tool_use",
    }
}

fn describe(ctx: &Ctx, err: &ApiError) -> (StatusCode, &'static str, String) {
    let invalid = "invalid_request_error";
    match err {
        ApiError::MissingKey => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "x-api-key header is required".into(),
        ),
        ApiError::BadKey => (
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key".into(),
        ),
        ApiError::MissingVersion => (
            StatusCode::BAD_REQUEST,
            invalid,
            "anthropic-version: header is required".into(),
        ),
        ApiError::InvalidJson(e) => (
            StatusCode::BAD_REQUEST,
            invalid,
            format!("invalid JSON body: {e}"),
        ),
        ApiError::Invalid(m) => (StatusCode::BAD_REQUEST, invalid, m.clone()),
        ApiError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 4,000 requests per \
             minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see \
             the response headers for current usage. Please reduce the prompt length or the \
             maximum tokens requested, or try again later."
                .into(),
        ),
        ApiError::Server => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error".into(),
        ),
        ApiError::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "Service unavailable".into(),
        ),
        ApiError::Overloaded => {
            let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, "overloaded_error", "Overloaded".into())
        }
        ApiError::ModelNotFound => (
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!("model: {}", ctx.model),
        ),
        ApiError::ContextLength => (
            StatusCode::BAD_REQUEST,
            invalid,
            format!(
                "prompt is too long: {} tokens > {CONTEXT_LIMIT} maximum",
                CONTEXT_LIMIT + ctx.input_tokens
            ),
        ),
        ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found_error", "Not Found".into()),
    }
}

/// `POST /v1/messages/count_tokens`.
fn is_count(inc: &Incoming) -> bool {
    inc.path == "/v1/messages/count_tokens"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_written_straight_is_what_the_value_path_writes() {
        let texts = [
            "lorem",
            "",
            "a \"quote\" and a \\ backslash",
            "tab\there, line\nbreak",
            "\u{1}\u{1f}\u{7f}",
            "é 漢字 🦀",
            "</script>",
        ];
        let kinds = [
            ("text_delta", "text"),
            ("thinking_delta", "thinking"),
            ("input_json_delta", "partial_json"),
        ];
        for text in texts {
            for (kind, field) in kinds {
                for eol in ["\n", "\r\n"] {
                    let v = json!({"type": "content_block_delta", "index": 3,
                        "delta": {"type": kind, field: text}});
                    assert_eq!(
                        piece_delta(eol, 3, kind, field, text),
                        sse(eol, Some("content_block_delta"), &wire::compact(&v)),
                        "{kind} {text:?}"
                    );
                }
            }
        }
    }
}
