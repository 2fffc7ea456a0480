//! The providers' own token counters, for exact pre-flight counts where a local tokenizer
//! can only estimate: Anthropic `POST /v1/messages/count_tokens` and Gemini
//! `models/{model}:countTokens`. Each costs a round trip, so targets opt in
//! (`count_tokens = true`). OpenAI has no counter; its local count is already exact.

use serde_json::{Value, json};

use super::event::{ErrorKind, ProviderError};
use super::request::ChatRequest;
use super::secret::ApiKey;
use super::{ProviderKind, build_request, errors};
use crate::config::Target;

/// Input tokens of `request` as `target`'s provider counts them; `Ok(None)` when the
/// provider has no counter.
pub async fn provider_count(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
    key: Option<&ApiKey>,
) -> Result<Option<u64>, ProviderError> {
    if !matches!(target.provider, ProviderKind::Anthropic | ProviderKind::Gemini) {
        return Ok(None);
    }
    // Build the real generation request and reshape it, so the counted body is exactly
    // what would be sent.
    let mut full = target.clone();
    full.params.stream = false;
    let req = build_request(client, &full, request, key)?;
    let body: Value = req
        .body()
        .and_then(|b| b.as_bytes())
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| ProviderError::new(ErrorKind::Config, "cannot build the count request"))?;
    let base = target.base_url.trim_end_matches('/');
    let (url, body) = match target.provider {
        ProviderKind::Anthropic => {
            let mut b = body;
            if let Some(o) = b.as_object_mut() {
                // count_tokens takes the message fields only.
                for k in ["max_tokens", "stream", "temperature", "top_p", "stop_sequences"] {
                    o.remove(k);
                }
            }
            (format!("{base}/v1/messages/count_tokens"), b)
        }
        _ => {
            let model = req
                .url()
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            let mut inner = body;
            if let Some(o) = inner.as_object_mut() {
                o.insert("model".into(), format!("models/{model}").into());
            }
            (
                format!("{base}/v1beta/models/{model}:countTokens"),
                json!({ "generateContentRequest": inner }),
            )
        }
    };
    let mut rb = client.post(url).json(&body);
    for (name, value) in req.headers() {
        if name != reqwest::header::CONTENT_LENGTH {
            rb = rb.header(name, value.clone());
        }
    }
    let cx = errors::ErrorContext {
        model: &target.model,
        base_url: &target.base_url,
        key_env: target.key.env_name(),
    };
    let resp = rb.send().await.map_err(|e| {
        ProviderError::new(
            ErrorKind::Connect,
            errors::one_line(&format!("token counter at {}: {e}", target.base_url)),
        )
    })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(errors::from_http(status, &headers, &text, cx));
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        ProviderError::new(
            ErrorKind::Malformed,
            format!("the token counter's answer is not JSON ({e})"),
        )
    })?;
    let n = v
        .get("input_tokens")
        .or_else(|| v.get("totalTokens"))
        .and_then(Value::as_u64);
    n.map(Some)
        .ok_or_else(|| ProviderError::new(ErrorKind::Malformed, "the token counter's answer has no count"))
}

/// [`provider_count`] with the target's own key and a client of its own.
pub async fn count_for_target(target: &Target, request: &ChatRequest) -> Result<Option<u64>, ProviderError> {
    let key = target.key.resolve()?;
    let client = super::client::TimedClient::new(target.params.timeouts.connect)
        .map_err(|e| ProviderError::new(ErrorKind::Config, format!("cannot create an HTTP client: {e}")))?;
    provider_count(&client.http, target, request, key.as_ref()).await
}
