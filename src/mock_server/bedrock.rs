//! AWS Bedrock Converse on the wire: `POST /model/{modelId}/converse-stream` and
//! `POST /model/{modelId}/converse`.
//!
//! Streams are binary event-stream messages (`application/vnd.amazon.eventstream`),
//! encoded by `aws-smithy-eventstream` with real CRCs: `messageStart`, per block
//! `contentBlockStart` (tool use only) / `contentBlockDelta`s / `contentBlockStop`, then
//! `messageStop` and `metadata` (usage, `metrics.latencyMs`). Payloads carry Bedrock's
//! `p` padding field, which clients must ignore. Errors are AWS JSON errors: the type in
//! `x-amzn-ErrorType`, the text in `{"message"}`.
//!
//! Auth: a bearer API key (any non-empty one), or a SigV4 signature, which is verified
//! against [`TEST_ACCESS_KEY_ID`] / [`TEST_SECRET_ACCESS_KEY`]: a wrong signature gets
//! Bedrock's real 403 `InvalidSignatureException` body.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use super::common::{Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, content_text, id_suffix};
use super::driver::Injections;
use super::plan::{Finish, Kind, Plan};
use super::script::Fault;
use super::wire::{self, Frame};

/// The access key id the mock accepts signatures from: the demo's, so a demo Bedrock
/// target signs its way in.
pub const TEST_ACCESS_KEY_ID: &str = crate::provider::bedrock::DEMO_ACCESS_KEY_ID;
/// Its secret.
pub const TEST_SECRET_ACCESS_KEY: &str = crate::provider::bedrock::DEMO_SECRET_ACCESS_KEY;

pub struct Bedrock;

/// Whether `path` is a Converse call, and the model id (decoded) and whether it streams.
pub fn target(path: &str) -> Option<(String, bool)> {
    let rest = path.strip_prefix("/model/")?;
    let (model, op) = rest.rsplit_once('/')?;
    let stream = match op {
        "converse-stream" => true,
        "converse" => false,
        _ => return None,
    };
    let model = percent_encoding::percent_decode_str(model)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some((model, stream))
}

impl Api for Bedrock {
    const NAME: &'static str = "bedrock";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = "application/vnd.amazon.eventstream";
    const JSON_CONTENT_TYPE: &'static str = "application/json";

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        let auth = inc.header("authorization").unwrap_or_default().trim();
        if let Some(key) = auth.strip_prefix("Bearer ") {
            return if key.trim().is_empty() {
                Err(ApiError::MissingKey)
            } else {
                Ok(())
            };
        }
        if auth.starts_with("AWS4-HMAC-SHA256 ") {
            return verify_sigv4(inc, auth);
        }
        Err(ApiError::MissingKey)
    }

    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        let (model, stream) =
            target(&inc.path).ok_or_else(|| ApiError::NotFound(format!("no operation at {}", inc.path)))?;
        let messages = body.get("messages").and_then(Value::as_array).ok_or_else(|| {
            ApiError::Invalid("The model returned the following errors: messages: field required".into())
        })?;
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
            model,
            stream,
            include_usage: true,
            cap: body
                .pointer("/inferenceConfig/maxTokens")
                .and_then(Value::as_u64)
                .map(|c| c as usize),
            messages: messages.len(),
            texts,
            roles: Vec::new(),
            last_user,
        })
    }

    fn headers(ctx: &Ctx, _limited: bool) -> Vec<(&'static str, String)> {
        vec![("x-amzn-requestid", ctx.id.clone())]
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        let (status, kind, message) = describe(ctx, err);
        ErrorReply {
            status,
            content_type: Self::JSON_CONTENT_TYPE,
            headers: vec![(
                "x-amzn-errortype",
                format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            )],
            body: wire::compact(&json!({"message": message})),
        }
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        let pad = |v: Value, n: usize| with_padding(v, &ctx.id, n);
        let mut frames = vec![Frame::control(event(
            "messageStart",
            pad(json!({"role": "assistant"}), 3),
        ))];
        let mut index = 0;
        let delta = |index: usize, d: Value| {
            event(
                "contentBlockDelta",
                pad(json!({"contentBlockIndex": index, "delta": d}), index + 5),
            )
        };
        let stop = |index: usize| {
            Frame::control(event(
                "contentBlockStop",
                pad(json!({"contentBlockIndex": index}), 2),
            ))
        };
        if plan.usage.reasoning > 0 {
            for e in plan.events.iter().filter(|e| e.kind == Kind::Reasoning) {
                let d = json!({"reasoningContent": {"text": e.text}});
                frames.push(Frame::content(delta(index, d), e.tokens));
            }
            let sig = json!({"reasoningContent": {"signature": signature(ctx)}});
            frames.push(Frame::control(delta(index, sig)));
            frames.push(stop(index));
            index += 1;
        }
        if plan.tools.is_empty() {
            for e in plan.events.iter().filter(|e| e.kind == Kind::Text) {
                frames.push(Frame::content(delta(index, json!({"text": e.text})), e.tokens));
            }
            frames.push(stop(index));
        }
        // Parallel calls are one toolUse block each, one after the other.
        for (call, tool) in plan.tools.iter().enumerate() {
            if call > 0 {
                index += 1;
            }
            let start = json!({"contentBlockIndex": index,
                "start": {"toolUse": {"toolUseId": tool_id(ctx, call), "name": tool.name}}});
            frames.push(Frame::content(event("contentBlockStart", pad(start, 4)), 0));
            for e in plan.call_events(call) {
                frames.push(Frame::content(
                    delta(index, json!({"toolUse": {"input": e.text}})),
                    e.tokens,
                ));
            }
            frames.push(stop(index));
        }
        frames.push(Frame::control(event(
            "messageStop",
            pad(json!({"stopReason": stop_reason(plan.finish)}), 1),
        )));
        if plan.fault != Some(Fault::NoTerminator) {
            frames.push(Frame::control(event("metadata", pad(metadata(ctx, plan), 6))));
        }
        let kind = ctx.script.exception.unwrap_or("modelStreamErrorException");
        let inject = Injections {
            malformed: corrupt(delta(index, json!({"text": " broken"}))),
            error_event: exception(kind, &exception_message(kind)),
        };
        (frames, inject)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let mut content = Vec::new();
        if plan.usage.reasoning > 0 {
            content.push(json!({"reasoningContent": {"reasoningText": {
                "text": plan.text(Kind::Reasoning), "signature": signature(ctx)}}}));
        }
        if plan.tools.is_empty() {
            content.push(json!({"text": plan.text(Kind::Text)}));
        }
        for (call, tool) in plan.tools.iter().enumerate() {
            let input: Value = serde_json::from_str(&plan.args(call)).unwrap_or_else(|_| json!({}));
            content.push(
                json!({"toolUse": {"toolUseId": tool_id(ctx, call), "name": tool.name,
                "input": input}}),
            );
        }
        let mut v = json!({
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop_reason(plan.finish),
        });
        let md = metadata(ctx, plan);
        v["usage"] = md["usage"].clone();
        v["metrics"] = md["metrics"].clone();
        wire::compact(&v)
    }
}

/// One `:message-type event` message.
pub fn event(kind: &str, payload: Value) -> Bytes {
    encode(
        Message::new(wire::compact(&payload).into_bytes())
            .add_header(string_header(":event-type", kind))
            .add_header(string_header(":content-type", "application/json"))
            .add_header(string_header(":message-type", "event")),
    )
}

/// One `:message-type exception` message.
pub fn exception(kind: &str, message: &str) -> Bytes {
    encode(
        Message::new(wire::compact(&json!({"message": message})).into_bytes())
            .add_header(string_header(":exception-type", kind))
            .add_header(string_header(":content-type", "application/json"))
            .add_header(string_header(":message-type", "exception")),
    )
}

fn string_header(name: &'static str, value: &str) -> Header {
    Header::new(name, HeaderValue::String(value.to_string().into()))
}

fn encode(message: Message) -> Bytes {
    let mut out = Vec::new();
    // Writing into a Vec fails only for a message over 4 GiB, which the mock never builds.
    if let Err(e) = write_message_to(&message, &mut out) {
        tracing::warn!("mock: cannot encode an event-stream message: {e}");
    }
    out.into()
}

/// `frame` with its message CRC broken.
fn corrupt(frame: Bytes) -> Bytes {
    let mut v = frame.to_vec();
    if let Some(last) = v.last_mut() {
        *last ^= 0xff;
    }
    v.into()
}

fn exception_message(kind: &str) -> String {
    match kind {
        "throttlingException" => "Too many requests, please wait before trying again.",
        "validationException" => "The model returned the following errors: invalid input",
        "serviceUnavailableException" => "Bedrock is unable to process your request.",
        "internalServerException" => "The server encountered an internal error while processing the request.",
        _ => "The system encountered an unexpected error during processing. Try your request again.",
    }
    .to_string()
}

/// Bedrock pads payloads with a `p` field of varying length so sizes do not leak content.
fn with_padding(mut v: Value, id: &str, n: usize) -> Value {
    v["p"] = json!(id_suffix(&format!("{id}p{n}"), 4 + n % 7));
    v
}

fn metadata(ctx: &Ctx, plan: &Plan) -> Value {
    let u = plan.usage;
    let input = u.input.saturating_sub(u.cached + u.cache_write);
    let mut usage = json!({
        "inputTokens": input,
        "outputTokens": u.output(),
        "totalTokens": input + u.cached + u.cache_write + u.output(),
    });
    if u.cached > 0 || u.cache_write > 0 {
        usage["cacheReadInputTokens"] = json!(u.cached);
        usage["cacheWriteInputTokens"] = json!(u.cache_write);
    }
    let content_frames = plan.events.len().max(1) as u32;
    let latency: Duration = ctx.script.ttft + ctx.script.itl * (content_frames - 1);
    json!({"usage": usage, "metrics": {"latencyMs": latency.as_millis() as u64}})
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
    format!("tooluse_{}", id_suffix(&seed, 22))
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::Filter | Finish::Blocked | Finish::Refusal => "content_filtered",
        Finish::Tool => "tool_use",
    }
}

fn describe(ctx: &Ctx, err: &ApiError) -> (StatusCode, &'static str, String) {
    let validation = "ValidationException";
    match err {
        ApiError::MissingKey => (
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ),
        ApiError::BadKey => (
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
        ),
        ApiError::MissingVersion => (StatusCode::BAD_REQUEST, validation, "missing version".into()),
        ApiError::InvalidJson(e) => (
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("Unable to parse the request body: {e}"),
        ),
        ApiError::Invalid(m) => (StatusCode::BAD_REQUEST, validation, m.clone()),
        ApiError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again.".into(),
        ),
        ApiError::Server => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "The server encountered an internal error while processing the request.".into(),
        ),
        ApiError::Unavailable | ApiError::Overloaded => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.".into(),
        ),
        ApiError::ModelNotFound => (
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Could not resolve the foundation model from the provided model identifier {}.", ctx.model),
        ),
        ApiError::ContextLength => (
            StatusCode::BAD_REQUEST,
            validation,
            "Input is too long for requested model.".into(),
        ),
        ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "UnknownOperationException", m.clone()),
    }
}

/// Check a SigV4 `Authorization` header: recompute the signature over what arrived
/// (the headers it names, the path, the query, the body) with the test secret.
fn verify_sigv4(inc: &Incoming, auth: &str) -> Result<(), ApiError> {
    let parts = auth.trim_start_matches("AWS4-HMAC-SHA256").trim();
    let field = |name: &str| {
        parts
            .split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (field("Credential"), field("SignedHeaders"), field("Signature"))
    else {
        return Err(ApiError::BadKey);
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, _date, region, service, "aws4_request"] = scope[..] else {
        return Err(ApiError::BadKey);
    };
    if key_id != TEST_ACCESS_KEY_ID {
        return Err(ApiError::BadKey);
    }
    let time = inc
        .header("x-amz-date")
        .and_then(parse_amz_date)
        .ok_or(ApiError::BadKey)?;
    let token = inc.header("x-amz-security-token").map(str::to_string);
    let headers: Vec<(&str, &str)> = signed_headers
        .split(';')
        .filter(|h| *h != "x-amz-security-token")
        .filter_map(|h| Some((h, inc.header(h)?)))
        .collect();
    let host = inc.header("host").unwrap_or("localhost");
    let uri = match &inc.query {
        Some(q) => format!("http://{host}{}?{q}", inc.path),
        None => format!("http://{host}{}", inc.path),
    };
    let identity = aws_credential_types::Credentials::new(
        TEST_ACCESS_KEY_ID,
        TEST_SECRET_ACCESS_KEY,
        token,
        None,
        "mock",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Exactly the headers the client signed: none left out, none added.
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|_| ApiError::BadKey)?
        .into();
    let signable = SignableRequest::new("POST", uri, headers.into_iter(), SignableBody::Bytes(&inc.body))
        .map_err(|_| ApiError::BadKey)?;
    let expected = sign(signable, &params).map_err(|_| ApiError::BadKey)?;
    if expected.signature() == signature {
        Ok(())
    } else {
        Err(ApiError::BadKey)
    }
}

/// `20150830T123600Z` → a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_440_938_160
        );
        assert!(parse_amz_date("2015-08-30T12:36:00Z").is_none());
    }

    #[test]
    fn converse_paths_decode_the_model_id() {
        assert_eq!(
            target("/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0%2Bttft%3D0/converse-stream"),
            Some(("us.anthropic.claude-3-5-haiku-20241022-v1:0+ttft=0".into(), true))
        );
        assert_eq!(target("/model/m/converse"), Some(("m".into(), false)));
        assert_eq!(target("/model/m/invoke"), None);
    }
}
