//! The request flow every provider shares: auth, body parsing, directives, faults, then a
//! paced body. Providers plug in through [`Api`] and only decide bytes and headers.

use super::driver::{self, Body, Gone, Injections, Pacing};
use super::plan::{self, Plan};
use super::script::{self, Fault, LineEnding, Script};
use super::wire::{self, Frame};
use super::{LogSlot, SendLog, SendRecord};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use serde_json::Value;
use std::time::Instant;

/// Tokens added per message and once per request when counting the prompt, following
/// OpenAI's published chat-format accounting (3 per message, 3 to prime the reply). The mock
/// uses the same rule for every provider so counts are comparable.
pub const PER_MESSAGE_TOKENS: usize = 3;
pub const PER_REQUEST_TOKENS: usize = 3;

/// A request as the server read it.
pub struct Incoming {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub received_at: Instant,
    pub id: String,
    pub gone: Gone,
    pub log: SendLog,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a provider extracts from its request body.
#[derive(Default)]
pub struct Parsed {
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub cap: Option<usize>,
    /// System prompt and message texts, in order.
    pub texts: Vec<String>,
    /// The role of each of `texts` (OpenAI kinds, whose usage counts roles); empty for
    /// the other providers.
    pub roles: Vec<String>,
    pub messages: usize,
    pub last_user: String,
}

/// Everything a renderer needs about the request being answered.
pub struct Ctx {
    pub id: String,
    /// Model without directives; echoed in responses.
    pub model: String,
    pub script: Script,
    pub parsed: Parsed,
    pub input_tokens: usize,
    pub created: u64,
    pub eol: &'static str,
    pub received_at: Instant,
    /// The request body, for answers that echo it (the Responses API's response object).
    pub request: Value,
}

impl Ctx {
    /// A context before anything is known about the request beyond its arrival.
    pub fn bare<A: Api>(inc: &Incoming) -> Ctx {
        Ctx {
            id: inc.id.clone(),
            model: String::new(),
            script: Script::default(),
            parsed: Parsed::default(),
            input_tokens: 0,
            created: wire::unix_now(),
            eol: A::EOL,
            received_at: inc.received_at,
            request: Value::Null,
        }
    }
}

/// Errors every provider renders in its own format.
#[derive(Debug)]
pub enum ApiError {
    MissingKey,
    BadKey,
    MissingVersion,
    InvalidJson(String),
    Invalid(String),
    RateLimited {
        retry_after: Option<u64>,
    },
    Server,
    Unavailable,
    Overloaded,
    ModelNotFound,
    ContextLength,
    /// Unknown path; the message is provider-specific.
    NotFound(String),
}

/// A rendered error: status, extra headers and the exact body.
pub struct ErrorReply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

pub trait Api {
    const NAME: &'static str;
    const EOL: &'static str;
    const SSE_CONTENT_TYPE: &'static str;
    const JSON_CONTENT_TYPE: &'static str;
    fn check_auth(inc: &Incoming) -> Result<(), ApiError>;
    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError>;
    /// Headers every response carries (request id, rate limits).
    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)>;
    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply;
    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections);
    fn whole(ctx: &Ctx, plan: &Plan) -> String;
    /// A non-generating answer (Gemini `countTokens`), if this request is one.
    fn direct(_ctx: &Ctx, _inc: &Incoming) -> Option<String> {
        None
    }
    /// A refusal the provider answers this request with before generating (Azure's
    /// content filter on the prompt), if it has one.
    fn refuse(_ctx: &Ctx) -> Option<ErrorReply> {
        None
    }
}

pub async fn handle<A: Api>(inc: Incoming) -> Response<Body> {
    let slot = inc.log.push(SendRecord {
        request_id: inc.id.clone(),
        provider: A::NAME,
        path: inc.path.clone(),
        query: inc.query.clone(),
        headers: inc
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&inc.body).into_owned(),
        model: String::new(),
        prompt: String::new(),
        received_at: inc.received_at,
        first_content_at: None,
        last_content_at: None,
        content_events: 0,
        completed: false,
        client_disconnected: false,
    });
    let mut ctx = Ctx::bare::<A>(&inc);
    match prepare::<A>(&inc, &mut ctx, &slot).await {
        Ok(()) => {}
        Err(e) => return error_response::<A>(&ctx, &e),
    }
    if let Some(body) = A::direct(&ctx, &inc) {
        slot.update(|r| r.completed = true);
        return full::<A>(&ctx, StatusCode::OK, A::JSON_CONTENT_TYPE, body.into(), false);
    }
    if let Some(reply) = A::refuse(&ctx) {
        return rendered::<A>(&ctx, reply, false);
    }
    if let Some(err) = status_fault(&ctx.script) {
        return error_response::<A>(&ctx, &err);
    }
    if ctx.script.fault == Some(Fault::Html200) {
        return full::<A>(&ctx, StatusCode::OK, "text/html", html_page().into(), false);
    }
    let plan = plan::build(
        &ctx.script,
        &plan::Request {
            input_tokens: ctx.input_tokens,
            cap: ctx.parsed.cap,
            seed: super::corpus::fnv1a(&ctx.parsed.texts.concat()),
            last_user: &ctx.parsed.last_user,
            can_block: A::NAME == "gemini",
            tokenizer: openai_tokenizer::<A>(&ctx.model),
            can_refuse: matches!(
                A::NAME,
                "openai" | "openai-responses" | "azure" | "azure-responses" | "anthropic"
            ),
        },
    );
    // Tool results answer first; a schema (even one forced as a tool) before other tools.
    let tools = super::tool_answer::asked(&ctx.request);
    let mut plan = match (super::schema_answer::asked(&ctx.request), tools) {
        (_, Some(turn @ super::tool_answer::Turn::Answer { .. })) | (None, Some(turn)) => {
            super::tool_answer::shape_for(plan, &turn, ctx.script.calls, ctx.parsed.cap, ctx.script.chunk)
        }
        (Some(asked), _) => {
            super::schema_answer::shape(plan, &asked, ctx.script.badjson, ctx.parsed.cap, ctx.script.chunk)
        }
        (None, None) => plan,
    };
    super::cache_state::adjust(A::NAME, &ctx, inc.log.cache_memory(), &mut plan.usage);
    let (frames, inject, content_type, fault_after) = if ctx.parsed.stream {
        let (frames, inject) = A::stream(&ctx, &plan);
        (frames, inject, A::SSE_CONTENT_TYPE, plan.fault_after)
    } else {
        let (frames, after) = whole_frames(A::whole(&ctx, &plan), &plan);
        (frames, Injections::default(), A::JSON_CONTENT_TYPE, after)
    };
    let pacing = Pacing {
        received_at: ctx.received_at,
        ttft: ctx.script.ttft,
        itl: ctx.script.itl,
        stall: ctx.script.stall,
        fault: ctx.script.fault,
        fault_after,
        keepalive: (ctx.script.keepalive && ctx.parsed.stream).then(|| wire::keepalive(ctx.eol)),
    };
    let body = driver::body(frames, pacing, inject, slot, inc.gone.clone());
    respond::<A>(&ctx, StatusCode::OK, content_type, body, false)
}

async fn prepare<A: Api>(inc: &Incoming, ctx: &mut Ctx, slot: &LogSlot) -> Result<(), ApiError> {
    // Auth is judged first, as the real APIs do, except that `auth=none` (emulating a
    // keyless local server) can only be read once the body is parsed.
    let auth = A::check_auth(inc);
    let value: Value = match serde_json::from_slice(&inc.body) {
        Ok(v) => v,
        Err(e) => return Err(auth.err().unwrap_or(ApiError::InvalidJson(e.to_string()))),
    };
    let parsed = match A::parse(inc, &value) {
        Ok(p) => p,
        Err(e) => return Err(auth.err().unwrap_or(e)),
    };
    slot.update(|r| {
        r.model = parsed.model.clone();
        r.prompt = parsed.last_user.clone();
    });
    let (bare, directives) = script::split_model(&parsed.model);
    ctx.model = bare.to_string();
    ctx.script = match script::parse(directives, inc.header("x-mock-script")) {
        Ok(s) => s,
        Err(e) => return Err(auth.err().unwrap_or(ApiError::Invalid(e))),
    };
    if ctx.script.auth {
        auth?;
    }
    if ctx.script.fail_first > 0 && slot.attempt_number() > ctx.script.fail_first {
        ctx.script.fault = None;
    }
    ctx.eol = match ctx.script.line_ending {
        Some(LineEnding::Lf) => "\n",
        Some(LineEnding::Crlf) => "\r\n",
        None => A::EOL,
    };
    let texts = parsed.texts.clone();
    let roles = parsed.roles.clone();
    let messages = parsed.messages;
    let tokenizer = openai_tokenizer::<A>(bare);
    ctx.input_tokens = tokio::task::spawn_blocking(move || match tokenizer {
        // OpenAI's own count of the chat format, in the model's encoding, so the usage
        // the mock reports is the count a client can check.
        Some(encoding) => crate::tokens::chat_prompt_tokens(
            encoding,
            roles
                .iter()
                .map(String::as_str)
                .zip(texts.iter().map(String::as_str)),
        ),
        None => {
            crate::tokens::count_o200k(&texts.concat()) + PER_MESSAGE_TOKENS * messages + PER_REQUEST_TOKENS
        }
    })
    .await
    .map_err(|_| ApiError::Server)?;
    ctx.parsed = parsed;
    ctx.request = value;
    Ok(())
}

/// The encoding an OpenAI-family API (Chat Completions, Responses, their Azure forms)
/// counts `model` with, as `crate::tokens` chooses it: these APIs report usage in the
/// model's own tokens, so the mock counts exactly what it sends. Other providers'
/// tokenizers are not public; their usage stays the count of the scripted pieces.
fn openai_tokenizer<A: Api>(model: &str) -> Option<crate::tokens::Encoding> {
    matches!(
        A::NAME,
        "openai" | "openai-responses" | "azure" | "azure-responses"
    )
    .then(|| crate::tokens::encoding_for(model).0)
}

fn status_fault(script: &Script) -> Option<ApiError> {
    Some(match script.fault? {
        Fault::RateLimit => ApiError::RateLimited {
            retry_after: script.retry_after,
        },
        Fault::Server => ApiError::Server,
        Fault::Unavailable => ApiError::Unavailable,
        Fault::Overloaded => ApiError::Overloaded,
        Fault::Unauthorized => ApiError::BadKey,
        Fault::NotFound => ApiError::ModelNotFound,
        Fault::ContextLength => ApiError::ContextLength,
        _ => return None,
    })
}

/// A non-streamed body as paced frames: it waits for ttft like a first token, and
/// `drop_mid` cuts it in half.
fn whole_frames(body: String, plan: &Plan) -> (Vec<Frame>, usize) {
    let tokens = plan.usage.output().max(1);
    if plan.fault == Some(Fault::DropMid) {
        let mut bytes = Bytes::from(body);
        let tail = bytes.split_off(bytes.len() / 2);
        return (
            vec![Frame::content(bytes, tokens), Frame::content(tail, 0)],
            tokens,
        );
    }
    if plan.fault == Some(Fault::StallMid) {
        // A whole body has no middle; stall before it.
        return (vec![Frame::content(body, tokens)], 0);
    }
    if plan.fault == Some(Fault::Malformed) {
        let mut cut = body;
        cut.truncate(cut.len() / 2);
        return (vec![Frame::content(cut, tokens)], usize::MAX);
    }
    (vec![Frame::content(body, tokens)], usize::MAX)
}

pub fn error_response<A: Api>(ctx: &Ctx, err: &ApiError) -> Response<Body> {
    let limited = matches!(err, ApiError::RateLimited { .. });
    rendered::<A>(ctx, A::error(ctx, err), limited)
}

/// A reply the provider rendered itself, with the headers every response carries.
fn rendered<A: Api>(ctx: &Ctx, reply: ErrorReply, limited: bool) -> Response<Body> {
    let mut resp = full::<A>(ctx, reply.status, reply.content_type, reply.body.into(), limited);
    for (name, value) in reply.headers {
        insert(resp.headers_mut(), name, &value);
    }
    resp
}

fn full<A: Api>(
    ctx: &Ctx,
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    limited: bool,
) -> Response<Body> {
    let body = Full::new(body).map_err(|never| match never {}).boxed_unsync();
    respond::<A>(ctx, status, content_type, body, limited)
}

fn respond<A: Api>(
    ctx: &Ctx,
    status: StatusCode,
    content_type: &'static str,
    body: Body,
    limited: bool,
) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in A::headers(ctx, limited) {
        insert(headers, name, &value);
    }
    insert(headers, "x-mock-request-id", &ctx.id);
    resp
}

pub fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

fn html_page() -> &'static str {
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
     <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
     </body>\r\n</html>\r\n"
}

/// Text of an OpenAI/Anthropic-style `content`: a string or an array of text parts.
pub fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// A short pseudo-random id suffix derived from the request number, stable per request.
pub fn id_suffix(id: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = super::corpus::SplitMix64::new(super::corpus::fnv1a(id));
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())] as char)
        .collect()
}
