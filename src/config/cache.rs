//! `cache`, `cache_ttl` and `cache_messages` on a target, and the `extra` keys that would
//! override something Prism itself sends.

use serde_json::{Map, Value};
use toml::Spanned;

use super::Located;
use crate::target::{Api, CachePlan, CacheTtl, MessagePrefix, ProviderKind};

/// The three cache keys of one target, as written.
pub struct CacheFile {
    pub cache: Option<Spanned<String>>,
    pub cache_ttl: Option<Spanned<String>>,
    pub cache_messages: Option<Spanned<u32>>,
}

/// The plan a target sends, or `None` (off, or a provider that caches by itself). Notes
/// say when a key has no effect on this provider.
pub fn resolve(
    f: CacheFile,
    provider: ProviderKind,
    notes: &mut Vec<String>,
) -> Result<Option<CachePlan>, Located> {
    let ttl = match &f.cache_ttl {
        Some(t) => t
            .get_ref()
            .parse::<CacheTtl>()
            .map_err(|e| (t.span().start, format!("`cache_ttl`: {e}")))?,
        None => CacheTtl::default(),
    };
    let Some(scope) = f.cache else {
        if f.cache_ttl.is_some() || f.cache_messages.is_some() {
            notes.push("`cache_ttl` and `cache_messages` do nothing without `cache`; set `cache = \"system\"` (or \"system+messages\")".into());
        }
        return Ok(None);
    };
    let at = scope.span().start;
    let Some(mut plan) =
        CachePlan::parse_scope(scope.get_ref()).map_err(|e| (at, format!("`cache`: {e}")))?
    else {
        return Ok(None);
    };
    plan.ttl = ttl;
    if let Some(n) = f.cache_messages {
        match plan.messages {
            Some(_) if *n.get_ref() == 0 => {
                return Err((
                    n.span().start,
                    "`cache_messages` is 0: give at least 1, or drop `messages` from `cache`".into(),
                ));
            }
            Some(_) => plan.messages = Some(MessagePrefix::First(*n.get_ref())),
            None => {
                return Err((
                    n.span().start,
                    "`cache_messages` needs `messages` in `cache` (`cache = \"system+messages\"`)".into(),
                ));
            }
        }
    }
    if marks(provider) {
        return Ok(Some(plan));
    }
    notes.push(format!(
        "`cache` has no effect: prompt caching is automatic on {}; Prism reads and shows the cached tokens it reports",
        provider.spec().display_name
    ));
    Ok(None)
}

/// Providers that cache only what the request marks.
fn marks(provider: ProviderKind) -> bool {
    matches!(provider, ProviderKind::Anthropic | ProviderKind::Bedrock)
}

/// Top-level body keys Prism fills on this provider and API: `extra` setting one replaces
/// what Prism would send (objects merge, so only plain values count).
fn prism_keys(provider: ProviderKind, api: Api, max_tokens_field: &'static str) -> Vec<&'static str> {
    match (provider, api) {
        (ProviderKind::Anthropic, _) => vec![
            "model",
            "system",
            "messages",
            max_tokens_field,
            "temperature",
            "top_p",
            "stop_sequences",
            "stream",
        ],
        (ProviderKind::Gemini, _) => vec!["contents", "systemInstruction"],
        (ProviderKind::Bedrock, _) => vec!["system", "messages"],
        (_, Api::Responses) => vec![
            "model",
            "instructions",
            "input",
            max_tokens_field,
            "temperature",
            "top_p",
            "stream",
        ],
        (_, Api::Chat) => vec![
            "model",
            "messages",
            max_tokens_field,
            "temperature",
            "top_p",
            "seed",
            "stop",
            "stream",
            "reasoning_effort",
        ],
    }
}

/// One note per `extra` key that overrides a value Prism sends itself, so nothing the
/// user configured (their system prompt above all) is replaced without a word.
pub fn extra_overrides(
    extra: &Map<String, Value>,
    provider: ProviderKind,
    api: Api,
    max_tokens_field: &'static str,
) -> Vec<String> {
    let ours = prism_keys(provider, api, max_tokens_field);
    extra
        .iter()
        .filter(|(k, v)| ours.contains(&k.as_str()) && !v.is_object())
        .map(|(k, v)| {
            let what = if v.is_null() { "removes" } else { "replaces" };
            format!(
                "`extra.{k}` {what} the `{k}` Prism sends{}; set it through the target's own keys instead if that is not what you want",
                hint(k)
            )
        })
        .collect()
}

fn hint(key: &str) -> &'static str {
    match key {
        "system" | "systemInstruction" | "instructions" => {
            " (the system prompt from `system`, `--system` or the editor)"
        }
        "messages" | "contents" | "input" => " (the prompt itself)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn extra_system_on_anthropic_is_reported_and_objects_are_not() {
        let extra =
            json!({"system": [{"type": "text", "text": "x"}], "thinking": {"type": "adaptive"}, "top_k": 5});
        let notes = extra_overrides(
            extra.as_object().unwrap(),
            ProviderKind::Anthropic,
            Api::Chat,
            "max_tokens",
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("`extra.system` replaces the `system` Prism sends"),
            "{notes:?}"
        );
    }
}
