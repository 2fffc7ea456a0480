//! Warnings for model names that may silently change under a comparison.

use crate::provider::ProviderKind;

/// Why `model` is not a pinned version, or `None` when it looks pinned.
pub fn unpinned_model(provider: ProviderKind, model: &str) -> Option<String> {
    let moving = || {
        Some(format!(
            "model `{model}` is an alias that can move to a new version; pin a dated version for comparisons"
        ))
    };
    // `+directives` script the mock server; the model id is what comes before them.
    let model = model.split_once('+').map_or(model, |(id, _)| id);
    if model.contains("latest") {
        return moving();
    }
    match provider {
        // gpt-4o-2024-08-06, gpt-4-0613, gpt-3.5-turbo-0125
        ProviderKind::OpenAi if !(ends_with_date(model, 10) || ends_with_digits(model, 4)) => moving(),
        // claude-sonnet-4-20250514
        ProviderKind::Anthropic if !ends_with_digits(model, 8) => moving(),
        // gemini-1.5-pro and gemini-2.0-flash are aliases of -00N versions; from 2.5 on
        // the plain name is itself the stable version.
        ProviderKind::Gemini
            if (model.starts_with("gemini-1.") || model.starts_with("gemini-2.0"))
                && !ends_with_digits(model, 3) =>
        {
            moving()
        }
        ProviderKind::Gemini if model.contains("-exp") => Some(format!(
            "model `{model}` is experimental and may change or disappear without notice"
        )),
        _ => None,
    }
}

/// `-DDDD` (n digits) at the end.
fn ends_with_digits(model: &str, n: usize) -> bool {
    model
        .rsplit_once('-')
        .is_some_and(|(_, tail)| tail.len() == n && tail.bytes().all(|b| b.is_ascii_digit()))
}

/// `-YYYY-MM-DD` at the end (`len` = 10).
fn ends_with_date(model: &str, len: usize) -> bool {
    model.len() > len
        && model.as_bytes()[model.len() - len - 1] == b'-'
        && model[model.len() - len..].bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderKind::*;

    #[test]
    fn pinned_and_moving_names() {
        for (p, m) in [
            (OpenAi, "gpt-4o-mini-2024-07-18"),
            (OpenAi, "gpt-4-0613"),
            (Anthropic, "claude-sonnet-4-20250514"),
            (Gemini, "gemini-2.0-flash-001"),
            (Gemini, "gemini-2.5-flash"),
            (OpenAiCompatible, "llama3.1:8b"),
            (OpenAi, "gpt-4o-mini-2024-07-18+ttft=0,tokens=5"),
        ] {
            assert_eq!(unpinned_model(p, m), None, "{m}");
        }
        for (p, m) in [
            (OpenAi, "gpt-4o"),
            (OpenAi, "chatgpt-4o-latest"),
            (Anthropic, "claude-sonnet-4-0"),
            (Anthropic, "claude-3-7-sonnet-latest"),
            (Gemini, "gemini-1.5-pro"),
            (Gemini, "gemini-flash-latest"),
            (OpenAiCompatible, "llama3:latest"),
            (OpenAi, "gpt-4o+tokens=5"),
        ] {
            assert!(unpinned_model(p, m).is_some(), "{m}");
        }
    }
}
