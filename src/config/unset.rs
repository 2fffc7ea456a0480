//! `unset = ["temperature", ...]` in a `[[target]]`: keys that target does not inherit
//! from `[defaults]`, so it sends what the provider would choose (a reasoning model that
//! refuses the shared `temperature`, a local server that needs none of the shared headers).

use toml::Spanned;

use super::Located;
use super::file::TargetFile;

/// Every key a target can take from `[defaults]`, so every key `unset` may name.
/// `thinking` also covers `thinking_budget` and `thinking_level`.
pub const INHERITED: [&str; 33] = [
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "stream",
    "extra",
    "max_retries",
    "count_tokens",
    "max_retry_wait",
    "connect_timeout",
    "response_timeout",
    "idle_timeout",
    "total_timeout",
    "allow_insecure_http",
    "system",
    "reasoning_effort",
    "reasoning_summary",
    "thinking",
    "thinking_budget",
    "thinking_level",
    "headers",
    "deployment",
    "api_version",
    "azure_auth",
    "price_as",
    "cache",
    "cache_ttl",
    "cache_messages",
];

/// The keys `unset` drops, with `thinking` standing for all three thinking keys.
pub fn names(unset: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    let mut out = Vec::new();
    for n in unset.map(|u| u.get_ref().as_slice()).unwrap_or_default() {
        let n = n.get_ref().as_str();
        if n == "thinking" {
            out.extend(["thinking", "thinking_budget", "thinking_level"].map(String::from));
        } else {
            out.push(n.to_string());
        }
    }
    out
}

/// A target's `unset` before `[defaults]` are merged in: every name is an inheritable key
/// the target does not also set itself.
pub fn check(own: &TargetFile) -> Result<(), Located> {
    let Some(list) = &own.unset else { return Ok(()) };
    for entry in list.get_ref() {
        let key = entry.get_ref().as_str();
        let at = entry.span().start;
        if !INHERITED.contains(&key) {
            return Err((
                at,
                format!(
                    "`unset` names `{key}`, which is not a key a target inherits from [defaults] (use one of: {})",
                    INHERITED.join(", ")
                ),
            ));
        }
        if sets(own, key) {
            return Err((
                at,
                format!(
                    "`unset` names `{key}`, which this target also sets: keep one (its own value already replaces [defaults])"
                ),
            ));
        }
    }
    Ok(())
}

/// Refuse `unset` in `[defaults]`: there is nothing above it to drop.
pub fn refuse_in_defaults(defaults: &TargetFile) -> Result<(), Located> {
    match &defaults.unset {
        Some(u) => Err((
            u.span().start,
            "`unset` cannot be set in [defaults]: it lists what one target does not inherit from them".into(),
        )),
        None => Ok(()),
    }
}

/// Whether the target table itself sets `key`.
fn sets(t: &TargetFile, key: &str) -> bool {
    match key {
        "provider" => t.provider.is_some(),
        "model" => t.model.is_some(),
        "base_url" => t.base_url.is_some(),
        "api_key_env" => t.api_key_env.is_some(),
        "temperature" => t.temperature.is_some(),
        "top_p" => t.top_p.is_some(),
        "max_tokens" => t.max_tokens.is_some(),
        "stop" => t.stop.is_some(),
        "seed" => t.seed.is_some(),
        "stream" => t.stream.is_some(),
        "extra" => t.extra.is_some(),
        "max_retries" => t.max_retries.is_some(),
        "count_tokens" => t.count_tokens.is_some(),
        "max_retry_wait" => t.max_retry_wait.is_some(),
        "connect_timeout" => t.connect_timeout.is_some(),
        "response_timeout" => t.response_timeout.is_some(),
        "idle_timeout" => t.idle_timeout.is_some(),
        "total_timeout" => t.total_timeout.is_some(),
        "allow_insecure_http" => t.allow_insecure_http.is_some(),
        "system" => t.system.is_some(),
        "reasoning_effort" => t.reasoning_effort.is_some(),
        "reasoning_summary" => t.reasoning_summary.is_some(),
        "thinking" => t.thinking.is_some() || t.thinking_budget.is_some() || t.thinking_level.is_some(),
        "thinking_budget" => t.thinking_budget.is_some(),
        "thinking_level" => t.thinking_level.is_some(),
        "headers" => t.headers.is_some(),
        "deployment" => t.deployment.is_some(),
        "api_version" => t.api_version.is_some(),
        "azure_auth" => t.azure_auth.is_some(),
        "price_as" => t.price_as.is_some(),
        "cache" => t.cache.is_some(),
        "cache_ttl" => t.cache_ttl.is_some(),
        "cache_messages" => t.cache_messages.is_some(),
        _ => false,
    }
}
