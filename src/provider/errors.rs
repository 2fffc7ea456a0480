//! HTTP failures → one human line: what happened and what to do about it.
//!
//! Every provider wraps errors differently (OpenAI `{error:{message,type,code}}`,
//! Anthropic `{type:"error",error:{type,message}}`, Google `{error:{code,message,status}}`,
//! sometimes inside an array). We pull out the type and message, never show raw JSON,
//! and keep the raw body on the error for debugging.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::event::{ErrorKind, ProviderError};

/// What the caller knows about the target, for messages that tell the user what to fix.
#[derive(Debug, Clone, Copy)]
pub struct ErrorContext<'a> {
    /// Model name as configured.
    pub model: &'a str,
    /// Base URL the request went to.
    pub base_url: &'a str,
    /// Environment variable that held the key, if any.
    pub key_env: Option<&'a str>,
}

/// The type and message a provider put in its error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// Provider error type or code (`rate_limit_error`, `RESOURCE_EXHAUSTED`...).
    pub kind: Option<String>,
    /// Provider's human message.
    pub message: Option<String>,
    /// Every machine-readable code found (`code`, `type`, `status`, detail reasons).
    pub codes: Vec<String>,
}

/// Extract type and message from any of the providers' error shapes.
pub fn parse_error_body(body: &str) -> Option<ErrorBody> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    let v = match v {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        v => v,
    };
    let err = v.get("error")?;
    if let Value::String(s) = err {
        return Some(ErrorBody {
            kind: None,
            message: Some(s.clone()),
            codes: Vec::new(),
        });
    }
    let mut out = ErrorBody::default();
    let text = |k: &str| err.get(k).and_then(Value::as_str).map(str::to_string);
    out.message = text("message");
    // Google puts the symbolic name in `status`; OpenAI in `code` then `type`.
    out.kind = text("status").or_else(|| text("code")).or_else(|| text("type"));
    for k in ["code", "type", "status"] {
        if let Some(s) = text(k) {
            out.codes.push(s);
        }
    }
    if let Some(details) = err.get("details").and_then(Value::as_array) {
        for d in details {
            for k in ["reason", "@type"] {
                if let Some(s) = d.get(k).and_then(Value::as_str) {
                    out.codes.push(s.to_string());
                }
            }
            if let Some(vs) = d.get("violations").and_then(Value::as_array) {
                for q in vs {
                    if let Some(id) = q.get("quotaId").and_then(Value::as_str) {
                        out.codes.push(id.to_string());
                    }
                }
            }
        }
    }
    Some(out)
}

/// An AWS JSON-protocol error (Bedrock): the type in the `x-amzn-ErrorType` header
/// (`ValidationException:http://internal.amazon.com/...`) or the body's `__type`
/// (`com.amazon.coral.service#ValidationException`), the text in `message`/`Message`.
pub fn parse_aws_error(headers: &HeaderMap, body: &str) -> Option<ErrorBody> {
    let v: Option<Value> = serde_json::from_str(body.trim()).ok();
    let from_header = header(headers, "x-amzn-errortype")
        .and_then(|t| t.split(':').next().map(str::trim).map(str::to_string))
        .filter(|t| !t.is_empty());
    let from_body = v
        .as_ref()
        .and_then(|v| v.get("__type"))
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let kind = from_header.or(from_body);
    let message = v.as_ref().and_then(|v| {
        ["message", "Message"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    });
    if kind.is_none() && message.is_none() {
        return None;
    }
    Some(ErrorBody {
        codes: kind.iter().cloned().collect(),
        kind,
        message,
    })
}

/// An error the provider sent inside a successful (HTTP 200) stream. `text` is its type
/// and message; `raw` the payload, kept for debugging.
pub fn in_stream(text: &str, raw: String) -> ProviderError {
    let lower = text.to_lowercase();
    let overloaded = lower.contains("overloaded");
    let transient = ["server_error", "api_error", "unavailable", "internal"]
        .iter()
        .any(|w| lower.contains(w));
    ProviderError {
        kind: if overloaded {
            ErrorKind::Overloaded
        } else {
            ErrorKind::Stream
        },
        http_status: None,
        message: one_line(&format!("error inside the stream: {text}")),
        retryable: overloaded || transient,
        retry_after: None,
        raw_body: Some(raw),
    }
}

/// Classify a non-success HTTP response.
pub fn from_http(status: u16, headers: &HeaderMap, body: &str, cx: ErrorContext<'_>) -> ProviderError {
    let content_type = header(headers, "content-type").unwrap_or_default();
    if status == 400
        && let Some(categories) = super::azure::filter::refused_prompt(body)
    {
        return prompt_refused(&categories, body);
    }
    let parsed = parse_error_body(body).or_else(|| parse_aws_error(headers, body));
    let detail = match &parsed {
        Some(b) => describe(b, status),
        None if body.trim().is_empty() => "empty body".to_string(),
        None => format!("the body is not a JSON error ({})", short_type(&content_type)),
    };
    let codes = parsed.as_ref().map(|b| b.codes.join(" ")).unwrap_or_default();
    let lower = format!("{} {}", codes, detail).to_lowercase();
    let (kind, retryable, advice) = classify(status, &lower, cx);
    // Provider messages can run to paragraphs; cap them so our advice stays visible.
    let mut message = format!("HTTP {status}: {}", truncate(&one_line(&detail), 240));
    if let Some(a) = advice {
        message.push_str(" — ");
        message.push_str(&a);
    }
    let retryable = match header(headers, "x-should-retry").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => retryable,
    };
    ProviderError {
        kind,
        http_status: Some(status),
        message: one_line(&message),
        retryable,
        raw_body: Some(redact(body)),
        retry_after: super::retry::server_wait(headers, body, std::time::SystemTime::now()),
    }
}

/// Azure's content filter refused the prompt (HTTP 400, `code: content_filter`): say
/// which categories, not "invalid request". Sending it again gets the same answer.
fn prompt_refused(categories: &[String], body: &str) -> ProviderError {
    let named = if categories.is_empty() {
        "no category named".to_string()
    } else {
        categories.join(", ")
    };
    ProviderError {
        kind: ErrorKind::InvalidRequest,
        http_status: Some(400),
        message: one_line(&format!(
            "HTTP 400: prompt blocked by the content filter: {named} — change the prompt (the deployment's content filter policy decides what it blocks)"
        )),
        retryable: false,
        raw_body: Some(redact(body)),
        retry_after: None,
    }
}

fn classify(status: u16, lower: &str, cx: ErrorContext<'_>) -> (ErrorKind, bool, Option<String>) {
    let key_advice = || match cx.key_env {
        Some(env) => format!("check the key in ${env}"),
        None => "this target sends no key; set api_key_env in the config".to_string(),
    };
    match status {
        400 | 413 if is_context_length(lower) => (
            ErrorKind::ContextLength,
            false,
            Some(format!("the prompt is too long for {}", cx.model)),
        ),
        400 if lower.contains("api_key_invalid") || lower.contains("api key not valid") => {
            (ErrorKind::Auth, false, Some(key_advice()))
        }
        400 | 413 | 422 => (ErrorKind::InvalidRequest, false, None),
        // AWS: a signature, an unknown or expired key, or a missing permission.
        401 | 403 if is_aws_auth(lower) => (ErrorKind::Auth, false, Some(aws_auth_advice(lower))),
        // Azure's answer to a Microsoft Entra ID token it does not take.
        401 | 403 if lower.contains("access token") => (
            ErrorKind::Auth,
            false,
            Some("the Microsoft Entra ID token was refused: check `az login` is for the resource's tenant and the identity has the Cognitive Services OpenAI User role".to_string()),
        ),
        401 | 403 => (ErrorKind::Auth, false, Some(key_advice())),
        404 if lower.contains("deploymentnotfound") => (
            ErrorKind::NotFound,
            false,
            Some(format!(
                "check that deployment `{}` exists in the resource at {}",
                cx.model, cx.base_url
            )),
        ),
        404 => (
            ErrorKind::NotFound,
            false,
            Some(format!("check model `{}` and base_url {}", cx.model, cx.base_url)),
        ),
        408 => (ErrorKind::Timeout, true, None),
        429 if lower.contains("insufficient_quota") || lower.contains("perday") => (
            ErrorKind::RateLimited,
            false,
            Some("the account is out of quota; retrying will not help".to_string()),
        ),
        429 => (ErrorKind::RateLimited, true, None),
        529 => (ErrorKind::Overloaded, true, None),
        500..=599 => (ErrorKind::Server, true, None),
        409 => (ErrorKind::Http, true, None),
        _ => (ErrorKind::Http, false, None),
    }
}

fn is_aws_auth(lower: &str) -> bool {
    [
        "signature",
        "security token",
        "accessdeniedexception",
        "unrecognizedclientexception",
        "expiredtoken",
        "bearer token",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

fn aws_auth_advice(lower: &str) -> String {
    if lower.contains("accessdeniedexception") && !lower.contains("bearer") {
        "the AWS identity may lack bedrock:InvokeModel permission, or the model is not enabled in this account and region".into()
    } else if lower.contains("expired") {
        "the AWS credentials have expired: renew them (aws sso login, a new session token)".into()
    } else {
        "check the AWS credentials ($AWS_BEARER_TOKEN_BEDROCK, the access keys or the profile) and the region"
            .into()
    }
}

fn is_context_length(lower: &str) -> bool {
    [
        "context_length_exceeded",
        "maximum context length",
        "prompt is too long",
        "exceeds the maximum number of tokens",
        "context window",
        "too many tokens",
        "input is too long",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

fn describe(b: &ErrorBody, status: u16) -> String {
    // Azure puts the status itself in `code` ("401"); it says nothing the line does not.
    let kind = b.kind.as_ref().filter(|k| **k != status.to_string());
    match (kind, &b.message) {
        (Some(k), Some(m)) => format!("{k}: {m}"),
        (None, Some(m)) => m.clone(),
        (Some(k), None) => k.clone(),
        (None, None) => "error body without a message".to_string(),
    }
}

/// A header's value as text, if present and printable.
pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn short_type(content_type: &str) -> String {
    match content_type.split(';').next().map(str::trim) {
        Some("") | None => "no content type".to_string(),
        Some(t) => t.to_string(),
    }
}

/// Collapse whitespace so a message fits on one line, mask keys, and cap its length.
pub fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate(&redact(&joined), 400)
}

fn truncate(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Mask every key Prism has read, by value (see [`super::secret::mask`]), and anything
/// shaped like an API key (`sk-…`, `sk-ant-…`, `AIza…`): the masked-but-partial keys some
/// providers echo back in 401 bodies, and keys that are not ours but are still keys.
pub fn redact(s: &str) -> String {
    // Shapes first, so a shaped key is hidden whole rather than around a by-value match.
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = find_key_start(rest) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*'))
            .unwrap_or(tail.len());
        out.push_str("[redacted]");
        rest = &tail[end..];
    }
    out.push_str(rest);
    super::secret::mask_in_place(&mut out);
    out
}

fn find_key_start(s: &str) -> Option<usize> {
    ["sk-", "AIza"]
        .iter()
        .filter_map(|p| {
            s.match_indices(p)
                .find(|(i, _)| {
                    let before_ok = s[..*i]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_ascii_alphanumeric());
                    let body = &s[i + p.len()..];
                    let run = body
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*'))
                        .count();
                    before_ok && run >= 8
                })
                .map(|(i, _)| i)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> ErrorContext<'static> {
        ErrorContext {
            model: "m-1",
            base_url: "http://h/v1",
            key_env: Some("OPENAI_API_KEY"),
        }
    }

    #[test]
    fn openai_context_length_is_not_retryable() {
        let body = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        let e = from_http(400, &HeaderMap::new(), body, cx());
        assert_eq!(e.kind, ErrorKind::ContextLength);
        assert!(!e.retryable);
        assert!(e.message.contains("130000 tokens"), "{}", e.message);
        assert!(e.message.contains("too long for m-1"), "{}", e.message);
    }

    #[test]
    fn insufficient_quota_is_not_retried_but_rate_limit_is() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert!(!from_http(429, &HeaderMap::new(), quota, cx()).retryable);
        let rl =
            r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        assert!(from_http(429, &HeaderMap::new(), rl, cx()).retryable);
    }

    #[test]
    fn anthropic_overloaded_and_auth_name_the_variable() {
        let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        let e = from_http(529, &HeaderMap::new(), body, cx());
        assert_eq!((e.kind, e.retryable), (ErrorKind::Overloaded, true));
        assert_eq!(e.message, "HTTP 529: overloaded_error: Overloaded");
        let auth =
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        let e = from_http(401, &HeaderMap::new(), auth, cx());
        assert!(
            e.message.ends_with("check the key in $OPENAI_API_KEY"),
            "{}",
            e.message
        );
    }

    #[test]
    fn gemini_array_body_and_per_day_quota() {
        let body = r#"[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}]"#;
        let e = from_http(429, &HeaderMap::new(), body, cx());
        assert!(!e.retryable);
        assert!(
            e.message
                .starts_with("HTTP 429: RESOURCE_EXHAUSTED: Quota exceeded")
        );
    }

    #[test]
    fn long_provider_messages_keep_the_advice() {
        let body = format!(
            r#"{{"error":{{"message":"{}","type":"invalid_request_error"}}}}"#,
            "word ".repeat(200)
        );
        let e = from_http(401, &HeaderMap::new(), &body, cx());
        assert!(
            e.message.ends_with("check the key in $OPENAI_API_KEY"),
            "{}",
            e.message
        );
        assert!(e.message.chars().count() < 320);
    }

    #[test]
    fn html_from_a_proxy_is_described_not_dumped() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        let e = from_http(502, &h, "<html><body>Bad gateway</body></html>", cx());
        assert_eq!(e.message, "HTTP 502: the body is not a JSON error (text/html)");
        assert!(e.retryable);
    }

    #[test]
    fn should_retry_header_overrides() {
        let mut h = HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!from_http(503, &h, "", cx()).retryable);
    }

    #[test]
    fn keys_echoed_in_bodies_are_redacted() {
        let s = "Incorrect API key provided: sk-proj-abcd****************wxyz. key AIzaSyA1234567890";
        let r = redact(s);
        assert!(!r.contains("abcd") && !r.contains("AIzaSy"), "{r}");
        assert_eq!(redact("task-list is fine"), "task-list is fine");
    }
}
