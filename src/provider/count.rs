//! The providers' own token counters, for exact pre-flight counts where a local tokenizer
//! can only estimate: Anthropic `POST /v1/messages/count_tokens` and Gemini
//! `models/{model}:countTokens`. Each costs a round trip, so targets opt in
//! (`count_tokens = true`). OpenAI has no counter; its local count is already exact.

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::credentials::Credentials;
use super::event::{ErrorKind, ProviderError};
use super::request::ChatRequest;
use super::{build_unsigned, errors};
use crate::target::{Target, TokenCounter, endpoint_url};

/// Input tokens of `request` as `target`'s provider counts them; `Ok(None)` when the
/// provider has no counter.
pub async fn provider_count(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
    credentials: &Credentials,
) -> Result<Option<u64>, ProviderError> {
    let counter = target.provider.spec().counter;
    if counter == TokenCounter::None {
        return Ok(None);
    }
    // Build the real generation request and reshape it, so the counted body is exactly
    // what would be sent. Credentials go on last, once the count request's body is final.
    let mut full = target.clone();
    full.params.stream = false;
    let req = build_unsigned(client, &full, request)?;
    let body: Value = req
        .body()
        .and_then(|b| b.as_bytes())
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| ProviderError::new(ErrorKind::Config, "cannot build the count request"))?;
    let base = &target.base_url;
    let (url, body) = match counter {
        TokenCounter::Anthropic => {
            let mut b = body;
            if let Some(o) = b.as_object_mut() {
                // count_tokens takes the message fields only.
                for k in ["max_tokens", "stream", "temperature", "top_p", "stop_sequences"] {
                    o.remove(k);
                }
            }
            (endpoint_url(base, "/v1/messages/count_tokens"), b)
        }
        TokenCounter::Gemini | TokenCounter::None => {
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
                endpoint_url(base, &format!("/v1beta/models/{model}:countTokens")),
                json!({ "generateContentRequest": inner }),
            )
        }
    };
    let mut rb = client.post(url).json(&body);
    // `.json()` above already set the content type; copying it again would send it twice.
    for (name, value) in req.headers() {
        if name != reqwest::header::CONTENT_LENGTH && name != reqwest::header::CONTENT_TYPE {
            rb = rb.header(name, value.clone());
        }
    }
    let mut count_request = rb.build().map_err(|e| super::openai::build_error(&e))?;
    credentials.apply(&mut count_request)?;
    let cx = errors::ErrorContext {
        model: &target.model,
        base_url: &target.base_url,
        key_env: target.key.env_name(),
    };
    // The counter obeys the target's own limits: a server that accepts and never answers
    // must not hold the send (or `prism run`) forever.
    let timeouts = target.params.timeouts;
    let resp = match tokio::time::timeout(timeouts.headers, client.execute(count_request)).await {
        Err(_) => {
            return Err(ProviderError::new(
                ErrorKind::ResponseTimeout,
                format!(
                    "the token counter at {} sent no answer within {} s (response_timeout)",
                    target.base_url,
                    timeouts.headers.as_secs_f64()
                ),
            ));
        }
        Ok(Err(e)) => {
            return Err(ProviderError::new(
                ErrorKind::Connect,
                errors::one_line(&format!("token counter at {}: {e}", target.base_url)),
            ));
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    if (300..400).contains(&status) {
        return Err(super::transport::redirect_error(status, &headers, resp.url(), cx));
    }
    let text = match tokio::time::timeout(timeouts.idle, resp.text()).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            return Err(ProviderError::new(
                ErrorKind::Truncated,
                errors::one_line(&format!("the token counter's answer was cut off: {e}")),
            ));
        }
        Err(_) => {
            return Err(ProviderError::new(
                ErrorKind::IdleTimeout,
                format!(
                    "the token counter's answer stalled for {} s (idle_timeout)",
                    timeouts.idle.as_secs_f64()
                ),
            ));
        }
    };
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
    let credentials = Credentials::for_target(target)?;
    let client = super::client::TimedClient::new(target.params.timeouts.connect)
        .map_err(|e| ProviderError::new(ErrorKind::Config, format!("cannot create an HTTP client: {e}")))?;
    provider_count(&client.http, target, request, &credentials).await
}

/// What asking one target's provider for its count came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Counted {
    /// The target did not ask (`count_tokens` off) or its provider has no counter.
    NotCounted,
    /// The provider's own count of the request's input tokens.
    Exact(u64),
    /// The counter failed; the local count stands.
    Failed(ProviderError),
    /// The send was cancelled while counting.
    Cancelled,
}

/// Count every job whose target opted in (`count_tokens = true`), all at once; each
/// stops early when its token is cancelled. `cancels[i]` belongs to `jobs[i]`.
pub async fn count_all(jobs: &[(&Target, &ChatRequest)], cancels: &[CancellationToken]) -> Vec<Counted> {
    let counting = jobs.iter().enumerate().map(|(i, (target, request))| {
        let cancel = cancels.get(i).cloned().unwrap_or_default();
        async move {
            if !target.params.count_tokens {
                return Counted::NotCounted;
            }
            let count = crate::contain::contained(count_for_target(target, request));
            tokio::select! {
                biased;
                () = cancel.cancelled() => Counted::Cancelled,
                r = count => match r {
                    Ok(Ok(Some(n))) => Counted::Exact(n),
                    Ok(Ok(None)) => Counted::NotCounted,
                    Ok(Err(e)) => Counted::Failed(e),
                    Err(panicked) => Counted::Failed(ProviderError::internal(&target.name, &panicked.0)),
                },
            }
        }
    });
    futures_util::future::join_all(counting).await
}

/// The note shown when `target`'s counter failed and its local count was used instead.
pub fn counter_failed(target: &str, e: &ProviderError) -> String {
    format!(
        "target `{target}`: the provider's token counter failed ({}); using the local count",
        e.message
    )
}
