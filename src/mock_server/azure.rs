//! Azure OpenAI on the wire, under `/openai/`.
//!
//! | request | API |
//! |---|---|
//! | `POST /openai/deployments/{name}/chat/completions?api-version=V` | classic Chat Completions; the deployment is the path's (a `model` in the body is ignored) |
//! | `POST /openai/responses?api-version=V` | classic Responses API; the deployment in `model` |
//! | `POST /openai/v1/chat/completions`, `POST /openai/v1/responses` | the v1 API: the deployment in `model`, no `api-version` |
//!
//! A classic path without `api-version` is the service's 404 `Resource not found` (its
//! odd space after `"message":` included); a version that is not a date (`2024-10-21`,
//! `2025-04-01-preview`) is 400 `API version not supported`. The key goes in `api-key`
//! (401 `Access denied…` without one); a Microsoft Entra ID token as `Authorization:
//! Bearer`, which the mock takes unchecked, as the v1 API also takes the key.
//!
//! Chat Completions streams are the OpenAI mock's chunks, written the way Azure writes
//! them: compact with keys in alphabetical order, a first chunk with no choices carrying
//! the prompt's `prompt_filter_results`, `content_filter_results` on every choice (empty
//! on the role and finish chunks, the four graded categories `safe` on content, a
//! `violence` verdict on the finish of a filtered answer), `model` naming the model behind
//! the deployment, no `service_tier`. The Responses API is the OpenAI mock's, behind
//! Azure's auth and errors.
//!
//! Script knobs of its own: `prompt_filter=CATEGORY[+CATEGORY]` refuses the prompt with
//! the content filter's HTTP 400; `served=MODEL` is the model the response names (else
//! the deployment's name).

use hyper::{Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use super::common::{self, Api, ApiError, Ctx, ErrorReply, Incoming, Parsed, id_suffix};
use super::driver::{Body, Injections};
use super::openai::{self, OpenAi};
use super::plan::{Finish, Plan};
use super::responses::Responses;
use super::wire::{self, Frame, sse};

/// Chat Completions on a deployment (classic or v1).
pub struct Azure;

/// The Responses API on a resource (classic or v1).
pub struct AzureResponses;

const JSON: &str = "application/json";
const TOKEN_LIMIT: usize = 450_000;
const REQUEST_LIMIT: usize = 4_500;

/// Answer a request under `/openai/`.
pub async fn route(inc: Incoming, post: bool) -> Response<Body> {
    let (classic, responses) = match inc.path.as_str() {
        "/openai/v1/chat/completions" => (false, false),
        "/openai/v1/responses" => (false, true),
        "/openai/responses" => (true, true),
        path if deployment_of(path).is_some() => (true, false),
        _ => return not_found(&inc),
    };
    if !post {
        return not_found(&inc);
    }
    if classic && let Err(e) = api_version(inc.query.as_deref()) {
        return common::error_response::<Azure>(&Ctx::bare::<Azure>(&inc), &e);
    }
    if responses {
        common::handle::<AzureResponses>(inc).await
    } else {
        common::handle::<Azure>(inc).await
    }
}

fn not_found(inc: &Incoming) -> Response<Body> {
    common::error_response::<Azure>(&Ctx::bare::<Azure>(inc), &ApiError::NotFound(String::new()))
}

/// The deployment of a classic Chat Completions path.
fn deployment_of(path: &str) -> Option<String> {
    let name = path
        .strip_prefix("/openai/deployments/")?
        .strip_suffix("/chat/completions")?;
    (!name.is_empty() && !name.contains('/'))
        .then(|| percent_decode_str(name).decode_utf8_lossy().into_owned())
}

/// A classic request's `api-version`: missing is "not found", not a date is refused.
fn api_version(query: Option<&str>) -> Result<(), ApiError> {
    let version = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "api-version")
        .map(|(_, v)| percent_decode_str(v).decode_utf8_lossy().into_owned());
    match version {
        None => Err(ApiError::NotFound(String::new())),
        Some(v) if dated(&v) => Ok(()),
        Some(_) => Err(ApiError::MissingVersion),
    }
}

fn dated(version: &str) -> bool {
    let date = version.strip_suffix("-preview").unwrap_or(version);
    date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

impl Api for Azure {
    const NAME: &'static str = "azure";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = "text/event-stream; charset=utf-8";
    const JSON_CONTENT_TYPE: &'static str = JSON;

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        let key = inc.header("api-key").map(str::trim).filter(|k| !k.is_empty());
        let token = inc
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        match key.or(token) {
            Some(_) => Ok(()),
            None => Err(ApiError::MissingKey),
        }
    }

    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        match deployment_of(&inc.path) {
            Some(deployment) => {
                let mut body = body.clone();
                if let Some(map) = body.as_object_mut() {
                    map.insert("model".into(), deployment.into());
                }
                OpenAi::parse(inc, &body)
            }
            None => OpenAi::parse(inc, body),
        }
    }

    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)> {
        let planned = ctx.input_tokens + ctx.parsed.cap.unwrap_or(ctx.script.tokens);
        let (requests, tokens) = if limited && ctx.script.hints {
            (0, 0)
        } else {
            (REQUEST_LIMIT - 1, TOKEN_LIMIT.saturating_sub(planned))
        };
        let id = request_uuid(ctx);
        vec![
            ("x-request-id", id.clone()),
            ("apim-request-id", id),
            ("x-ratelimit-remaining-requests", requests.to_string()),
            ("x-ratelimit-remaining-tokens", tokens.to_string()),
        ]
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        let reply = |status: StatusCode, body: String| ErrorReply {
            status,
            content_type: JSON,
            headers: Vec::new(),
            body,
        };
        let azure =
            |code: &str, message: &str| wire::compact(&json!({"error": {"code": code, "message": message}}));
        match err {
            ApiError::MissingKey | ApiError::BadKey => reply(
                StatusCode::UNAUTHORIZED,
                azure(
                    "401",
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
                ),
            ),
            ApiError::ModelNotFound => reply(
                StatusCode::NOT_FOUND,
                azure(
                    "DeploymentNotFound",
                    "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
                ),
            ),
            // The service's own bytes, space and all.
            ApiError::NotFound(_) => reply(
                StatusCode::NOT_FOUND,
                r#"{"error":{"code":"404","message": "Resource not found"}}"#.into(),
            ),
            ApiError::MissingVersion => reply(
                StatusCode::BAD_REQUEST,
                azure("BadRequest", "API version not supported"),
            ),
            ApiError::RateLimited { retry_after } => {
                let wait = retry_after.unwrap_or(6);
                let mut r = reply(
                    StatusCode::TOO_MANY_REQUESTS,
                    azure(
                        "429",
                        &format!(
                            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after {wait} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
                        ),
                    ),
                );
                if ctx.script.hints {
                    r.headers.push(("retry-after", wait.to_string()));
                }
                r
            }
            // Validation and model errors pass through in OpenAI's format.
            _ => OpenAi::error(ctx, err),
        }
    }

    fn refuse(ctx: &Ctx) -> Option<ErrorReply> {
        prompt_refusal(ctx)
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        let (chunks, inject) = openai::chunks(ctx, plan);
        let model = served(ctx);
        let mut frames = vec![Frame::control(sse(
            ctx.eol,
            None,
            &wire::compact(&prompt_chunk()),
        ))];
        frames.extend(chunks.into_iter().map(|mut planned| {
            let content = planned.content.is_some();
            if let Some(v) = planned.chunk.json_mut() {
                let verdicts = if content {
                    safe_answer()
                } else {
                    finish_verdicts(v, plan)
                };
                dress(v, &model, verdicts);
            }
            planned.frame(ctx.eol)
        }));
        (frames, inject)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        let mut v: Value = serde_json::from_str(&OpenAi::whole(ctx, plan)).unwrap_or(Value::Null);
        let verdicts = match plan.finish {
            Finish::Filter | Finish::Blocked => filtered_answer(),
            _ => safe_answer(),
        };
        dress(&mut v, &served(ctx), verdicts);
        if let Some(map) = v.as_object_mut() {
            // In its sorted place, its items as the stream sends them.
            let prompt = prompt_chunk()["prompt_filter_results"].take();
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.push(("prompt_filter_results".into(), prompt));
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            map.extend(entries);
        }
        wire::compact(&v)
    }
}

impl Api for AzureResponses {
    const NAME: &'static str = "azure-responses";
    const EOL: &'static str = "\n";
    const SSE_CONTENT_TYPE: &'static str = Responses::SSE_CONTENT_TYPE;
    const JSON_CONTENT_TYPE: &'static str = JSON;

    fn check_auth(inc: &Incoming) -> Result<(), ApiError> {
        Azure::check_auth(inc)
    }

    fn parse(inc: &Incoming, body: &Value) -> Result<Parsed, ApiError> {
        Responses::parse(inc, body)
    }

    fn headers(ctx: &Ctx, limited: bool) -> Vec<(&'static str, String)> {
        Azure::headers(ctx, limited)
    }

    fn error(ctx: &Ctx, err: &ApiError) -> ErrorReply {
        match err {
            ApiError::MissingKey
            | ApiError::BadKey
            | ApiError::ModelNotFound
            | ApiError::NotFound(_)
            | ApiError::MissingVersion
            | ApiError::RateLimited { .. } => Azure::error(ctx, err),
            _ => Responses::error(ctx, err),
        }
    }

    fn refuse(ctx: &Ctx) -> Option<ErrorReply> {
        prompt_refusal(ctx)
    }

    fn stream(ctx: &Ctx, plan: &Plan) -> (Vec<Frame>, Injections) {
        Responses::stream(ctx, plan)
    }

    fn whole(ctx: &Ctx, plan: &Plan) -> String {
        Responses::whole(ctx, plan)
    }
}

/// A request id in the service's UUID layout, stable per request.
fn request_uuid(ctx: &Ctx) -> String {
    let hex: String = id_suffix(&ctx.id, 32)
        .bytes()
        .map(|b| char::from(b"0123456789abcdef"[usize::from(b % 16)]))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The model the response names.
fn served(ctx: &Ctx) -> String {
    ctx.script.served.clone().unwrap_or_else(|| ctx.model.clone())
}

/// The graded categories as the service reports them: `{filtered, severity}`.
fn graded(filtered: bool, severity: &str) -> Value {
    json!({"filtered": filtered, "severity": severity})
}

/// The detected-or-not categories: `{filtered, detected}`.
fn detected(hit: bool) -> Value {
    json!({"filtered": hit, "detected": hit})
}

/// The first chunk: no choices, the prompt's verdicts (`prompt_index` first, as sent).
fn prompt_chunk() -> Value {
    json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
            "hate": graded(false, "safe"), "jailbreak": detected(false),
            "self_harm": graded(false, "safe"), "sexual": graded(false, "safe"),
            "violence": graded(false, "safe")}}]})
}

fn safe_answer() -> Value {
    json!({"hate": graded(false, "safe"), "self_harm": graded(false, "safe"),
        "sexual": graded(false, "safe"), "violence": graded(false, "safe")})
}

fn filtered_answer() -> Value {
    json!({"hate": graded(false, "safe"), "self_harm": graded(false, "safe"),
        "sexual": graded(false, "safe"), "violence": graded(true, "medium")})
}

/// The verdicts on a control chunk: none, except on the finish of a filtered answer.
fn finish_verdicts(chunk: &Value, plan: &Plan) -> Value {
    let finishing = chunk
        .pointer("/choices/0/finish_reason")
        .is_some_and(Value::is_string);
    if finishing && matches!(plan.finish, Finish::Filter | Finish::Blocked) {
        filtered_answer()
    } else {
        json!({})
    }
}

/// An OpenAI chunk or body as Azure writes it: its verdicts on the choice, the model
/// behind the deployment, no `service_tier`, keys sorted.
fn dress(v: &mut Value, model: &str, verdicts: Value) {
    if let Some(map) = v.as_object_mut() {
        map.remove("service_tier");
        if map.contains_key("model") {
            map.insert("model".into(), model.into());
        }
    }
    if let Some(choice) = v.pointer_mut("/choices/0").and_then(Value::as_object_mut) {
        choice.insert("content_filter_results".into(), verdicts);
    }
    sort_keys(v);
}

fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut item) in entries {
                sort_keys(&mut item);
                map.insert(k, item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// The content filter's refusal of the prompt, when the script asks for one.
fn prompt_refusal(ctx: &Ctx) -> Option<ErrorReply> {
    let hit = &ctx.script.prompt_filter;
    if hit.is_empty() {
        return None;
    }
    let is = |c: &str| hit.iter().any(|h| h == c);
    let mut result = Map::new();
    for category in super::script::FILTER_CATEGORIES {
        let verdict = match category {
            // Profanity is reported only where a deployment's policy turns it on.
            "profanity" if !is(category) => continue,
            "jailbreak" | "profanity" => detected(is(category)),
            _ => graded(is(category), if is(category) { "medium" } else { "safe" }),
        };
        result.insert(category.into(), verdict);
    }
    let body = json!({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        "type": null, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": result}}});
    Some(ErrorReply {
        status: StatusCode::BAD_REQUEST,
        content_type: JSON,
        headers: Vec::new(),
        body: wire::compact(&body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_paths_name_their_deployment_and_need_a_dated_version() {
        assert_eq!(
            deployment_of("/openai/deployments/chat%20prod/chat/completions").as_deref(),
            Some("chat prod")
        );
        assert_eq!(deployment_of("/openai/deployments//chat/completions"), None);
        assert_eq!(deployment_of("/openai/v1/chat/completions"), None);
        assert!(api_version(Some("x=1&api-version=2025-04-01-preview")).is_ok());
        assert!(matches!(api_version(None), Err(ApiError::NotFound(_))));
        assert!(matches!(
            api_version(Some("api-version=latest")),
            Err(ApiError::MissingVersion)
        ));
    }

    #[test]
    fn keys_are_sorted_at_every_level() {
        let mut v = json!({"b": {"z": 1, "a": [{"y": 0, "x": 0}]}, "a": 0});
        sort_keys(&mut v);
        assert_eq!(wire::compact(&v), r#"{"a":0,"b":{"a":[{"x":0,"y":0}],"z":1}}"#);
    }
}
