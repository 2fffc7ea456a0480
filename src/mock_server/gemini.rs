//! Gemini `generateContent` / `streamGenerateContent?alt=sse` / `countTokens` on the wire.
//!
//! Every streamed event is a whole `GenerateContentResponse` in Google's layout (a space
//! after colons, none after commas) framed with CRLF. Usage is cumulative in every chunk and,
//! as protobuf JSON does, zero counts are left out. The last chunk carries `finishReason`;
//! there is no other terminator. Thoughts are parts with `"thought": true`, tool calls one
//! whole `functionCall` part. Errors (and non-streamed bodies) are pretty-printed with two
//! spaces; a mid-stream error is a `data:` event holding `{"error": {...}}`.
//! The public API sends no request-id header, so only `x-mock-request-id` carries it.

use super::common::{Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, id_suffix};
use super::driver::Injections;
use super::plan::{Event, Finish, Kind, Plan};
use super::script::Fault;
use super::wire::{self, Frame, sse};
use crate::target::ProviderKind;
use hyper::StatusCode;
use serde_json::{Map, Value, json};

pub struct Gemini;

const CONTEXT_LIMIT: usize = 1_048_576;

impl Api for Gemini {
    const NAME: &'static str = "gemini";
    const EOL: &'static str = "\r\n";
    const SSE_CONTENT_TYPE: &'static str = "text/event-stream";
    const JSON_CONTENT_TYPE: &'static str = "application/json; charset=UTF-8";

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        let from_query = inc.query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("key="))
                .filter(|k| !k.is_empty())
        });
        match inc
            .header(ProviderKind::Gemini.spec().auth.header_name())
            .filter(|k| !k.trim().is_empty())
            .or(from_query)
        {
            Some(_) => Ok(()),
            None => Err(ApiError::MissingKey),
        }
    }

    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        let (model, method) = target(&inc.path).unwrap_or_default();
        // countTokens also accepts a whole generateContentRequest.
        let body = body.get("generateContentRequest").unwrap_or(body);
        let contents = body.get("contents").and_then(Value::as_array);
        let mut texts = Vec::new();
        if let Some(system) = body.get("systemInstruction") {
            texts.push(parts_text(system));
        }
        texts.extend(contents.into_iter().flatten().map(parts_text));
        let last_user = contents
            .into_iter()
            .flatten()
            .rev()
            .find(|c| c.get("role").and_then(Value::as_str).unwrap_or("user") == "user")
            .map(parts_text)
            .unwrap_or_default();
        let cap = body
            .pointer("/generationConfig/maxOutputTokens")
            .and_then(Value::as_u64);
        Ok(Parsed {
            model,
            stream: method == "streamGenerateContent",
            include_usage: true,
            cap: cap.map(|n| n as usize),
            messages: contents.map_or(0, Vec::len),
            texts,
            roles: Vec::new(),
            last_user,
        })
    }

    fn headers(_ctx: &Ctx, _limited: bool) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        let (status, message, details) = describe(ctx, err);
        let mut inner = json!({"code": status.as_u16(), "message": message,
            "status": status_name(status)});
        if let Some(details) = details {
            inner["details"] = details;
        }
        ErrorReply {
            status,
            content_type: Self::JSON_CONTENT_TYPE,
            headers: Vec::new(),
            body: wire::pretty(&json!({"error": inner}), 2) + "\n",
        }
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        let eol = ctx.eol;
        let data = |v: &Value| sse(eol, None, &wire::google_stream(v));
        let mut frames = Vec::new();
        if plan.finish == Finish::Blocked {
            frames.push(Frame::control(data(&blocked(ctx, plan))));
        } else {
            let chunks = chunk_events(merge_tool_events(plan));
            let last = chunks.len().saturating_sub(1);
            let (mut thoughts, mut visible) = (0, 0);
            for (i, events) in chunks.iter().enumerate() {
                for e in events {
                    match e.kind {
                        Kind::Reasoning => thoughts += e.tokens,
                        _ => visible += e.tokens,
                    }
                }
                let finish = i == last && plan.fault != Some(Fault::NoTerminator);
                let parts = events.iter().map(|e| part(plan, e)).collect();
                let v = response(ctx, plan, parts, finish, thoughts, visible);
                frames.push(Frame::content(data(&v), events.iter().map(|e| e.tokens).sum()));
            }
            if chunks.is_empty() {
                let empty = Event {
                    kind: Kind::Text,
                    text: String::new(),
                    tokens: 0,
                    call: 0,
                };
                let finish = plan.fault != Some(Fault::NoTerminator);
                let v = response(ctx, plan, vec![part(plan, &empty)], finish, 0, 0);
                frames.push(Frame::control(data(&v)));
            }
        }
        let broken = "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"";
        let error = json!({"error": {"code": 503,
            "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}});
        let inject = Injections {
            malformed: sse(eol, None, broken),
            error_event: data(&error),
        };
        (frames, inject)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let v = if plan.finish == Finish::Blocked {
            blocked(ctx, plan)
        } else {
            let mut parts = Vec::new();
            if plan.usage.reasoning > 0 {
                parts.push(json!({"text": plan.text(Kind::Reasoning), "thought": true}));
            }
            let calls: Vec<Event> = (merge_tool_events(plan).into_iter())
                .filter(|e| e.kind == Kind::ToolArgs)
                .collect();
            if calls.is_empty() {
                parts.push(json!({"text": plan.text(Kind::Text)}));
            }
            parts.extend(calls.iter().map(|e| part(plan, e)));
            let u = plan.usage;
            response(ctx, plan, parts, true, u.reasoning, u.output_visible)
        };
        wire::pretty(&v, 2) + "\n"
    }

    fn direct(ctx: &Ctx, inc: &Incoming) -> Option<String> {
        let (_, method) = target(&inc.path)?;
        (method == "countTokens").then(|| {
            let v = json!({"totalTokens": ctx.input_tokens,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": ctx.input_tokens}]});
            wire::pretty(&v, 2) + "\n"
        })
    }
}

/// `(model, method)` from `/{version}/models/{model}:{method}`, model percent-decoded.
///
/// The API serves the same methods under `v1beta`, `v1` and `v1alpha`; Prism uses
/// `v1beta`, recent SDKs default to `v1`.
pub fn target(path: &str) -> Option<(String, String)> {
    let rest = ["/v1beta/models/", "/v1/models/", "/v1alpha/models/"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))?;
    let (model, method) = rest.rsplit_once(':')?;
    let model = percent_encoding::percent_decode_str(model).decode_utf8().ok()?;
    Some((model.into_owned(), method.to_string()))
}

fn parts_text(content: &Value) -> String {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect()
}

/// Gemini sends a function call whole, so each call's argument fragments become one event.
fn merge_tool_events(plan: &Plan) -> Vec<Event> {
    let mut out: Vec<Event> = plan
        .events
        .iter()
        .filter(|e| e.kind != Kind::ToolArgs)
        .cloned()
        .collect();
    out.extend((0..plan.tools.len()).map(|call| Event {
        kind: Kind::ToolArgs,
        text: plan.args(call),
        tokens: plan.call_events(call).map(|e| e.tokens).sum(),
        call,
    }));
    out
}

/// The events each streamed chunk carries: one apiece, except that parallel function
/// calls arrive together, as parts of one chunk.
fn chunk_events(events: Vec<Event>) -> Vec<Vec<Event>> {
    let mut chunks: Vec<Vec<Event>> = Vec::new();
    for e in events {
        match chunks.last_mut() {
            Some(last) if e.kind == Kind::ToolArgs && last.iter().all(|l| l.kind == Kind::ToolArgs) => {
                last.push(e)
            }
            _ => chunks.push(vec![e]),
        }
    }
    chunks
}

fn part(plan: &Plan, e: &Event) -> Value {
    match e.kind {
        Kind::Reasoning => json!({"text": e.text, "thought": true}),
        Kind::Text => json!({"text": e.text}),
        Kind::ToolArgs => {
            let name = plan.tools.get(e.call).map(|t| t.name.clone()).unwrap_or_default();
            let args: Value = serde_json::from_str(&e.text).unwrap_or_else(|_| json!({}));
            json!({"functionCall": {"name": name, "args": args}})
        }
    }
}

fn response(
    ctx: &Ctx,
    plan: &Plan,
    parts: Vec<Value>,
    finish: bool,
    thoughts: usize,
    visible: usize,
) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}});
    if finish {
        candidate["finishReason"] = json!(finish_reason(plan.finish));
    }
    candidate["index"] = json!(0);
    if finish && plan.finish == Finish::Filter {
        candidate["safetyRatings"] = safety_ratings();
    }
    let mut v = json!({"candidates": [candidate]});
    if !plan.omit_usage {
        v["usageMetadata"] = usage(plan, thoughts, visible);
    }
    v["modelVersion"] = json!(ctx.model);
    v["responseId"] = json!(id_suffix(&ctx.id, 22));
    v
}

fn blocked(ctx: &Ctx, plan: &Plan) -> Value {
    let mut v = json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": safety_ratings()}});
    if !plan.omit_usage {
        v["usageMetadata"] = usage(plan, 0, 0);
    }
    v["modelVersion"] = json!(ctx.model);
    v["responseId"] = json!(id_suffix(&ctx.id, 22));
    v
}

/// Cumulative usage; zero counts are omitted the way protobuf JSON omits defaults.
fn usage(plan: &Plan, thoughts: usize, visible: usize) -> Value {
    let u = plan.usage;
    let mut m = Map::new();
    m.insert("promptTokenCount".into(), json!(u.input));
    if visible > 0 {
        m.insert("candidatesTokenCount".into(), json!(visible));
    }
    m.insert("totalTokenCount".into(), json!(u.input + visible + thoughts));
    if u.cached > 0 {
        m.insert("cachedContentTokenCount".into(), json!(u.cached));
    }
    m.insert(
        "promptTokensDetails".into(),
        json!([{"modality": "TEXT", "tokenCount": u.input}]),
    );
    if thoughts > 0 {
        m.insert("thoughtsTokenCount".into(), json!(thoughts));
    }
    Value::Object(m)
}

fn safety_ratings() -> Value {
    json!([
        {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}
    ])
}

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop | Finish::Tool => "STOP",
        Finish::Length => "MAX_TOKENS",
        Finish::Filter | Finish::Blocked | Finish::Refusal => "SAFETY",
    }
}

fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

fn describe(ctx: &Ctx, err: &ApiError) -> (StatusCode, String, Option<Value>) {
    let bad = StatusCode::BAD_REQUEST;
    match err {
        ApiError::MissingKey => (
            StatusCode::FORBIDDEN,
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API."
                .into(),
            None,
        ),
        ApiError::BadKey => {
            let msg = "API key not valid. Please pass a valid API key.";
            let details = json!([
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com",
                 "metadata": {"service": "generativelanguage.googleapis.com"}},
                {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                 "message": msg}
            ]);
            (bad, msg.into(), Some(details))
        }
        ApiError::InvalidJson(e) => (bad, format!("Invalid JSON payload received. {e}"), None),
        ApiError::Invalid(m) => (bad, m.clone(), None),
        ApiError::MissingVersion => (bad, "missing version".into(), None),
        ApiError::RateLimited { retry_after } => {
            let delay = retry_after.unwrap_or(20);
            let details = json!([
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                    "quotaDimensions": {"location": "global", "model": ctx.model},
                    "quotaValue": "1000"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{delay}s")}
            ]);
            let details = if ctx.script.hints {
                details
            } else {
                let mut d = details;
                if let Some(a) = d.as_array_mut() {
                    a.retain(|x| x.get("retryDelay").is_none());
                }
                d
            };
            let msg = format!(
                "You exceeded your current quota, please check your plan and billing details. For \
                 more information on this error, head to: \
                 https://ai.google.dev/gemini-api/docs/rate-limits. Please retry in {delay}s."
            );
            (StatusCode::TOO_MANY_REQUESTS, msg, Some(details))
        }
        ApiError::Server => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error has occurred. Please retry or report in \
             https://developers.generativeai.google/guide/troubleshooting"
                .into(),
            None,
        ),
        ApiError::Unavailable | ApiError::Overloaded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The model is overloaded. Please try again later.".into(),
            None,
        ),
        ApiError::ModelNotFound => (
            StatusCode::NOT_FOUND,
            format!(
                "models/{} is not found for API version v1beta, or is not supported for \
                 generateContent. Call ListModels to see the list of available models and their \
                 supported methods.",
                ctx.model
            ),
            None,
        ),
        ApiError::ContextLength => (
            bad,
            format!(
                "The input token count ({}) exceeds the maximum number of tokens allowed \
                 ({CONTEXT_LIMIT}).",
                CONTEXT_LIMIT + ctx.input_tokens
            ),
            None,
        ),
        ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone(), None),
    }
}
