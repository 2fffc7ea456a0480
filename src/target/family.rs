//! Rules that real APIs enforce per model family, in one place.
//!
//! A setting a family refuses is not sent (the whole request would fail with HTTP 400);
//! `config` warns at load, naming the target, the setting and the rule. Each rule cites
//! where it comes from. Model names are matched on their last `/` segment with any mock
//! `+directives` removed, so `openai/o3-mini` behind a gateway follows o3's rules.

use super::{Params, ProviderKind, Thinking};

/// A sampling setting a family may refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// `temperature`.
    Temperature,
    /// `top_p`.
    TopP,
}

impl Sampling {
    /// The config key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Temperature => "temperature",
            Self::TopP => "top_p",
        }
    }

    fn value(self, p: &Params) -> Option<f64> {
        match self {
            Self::Temperature => p.temperature,
            Self::TopP => p.top_p,
        }
    }
}

/// One rule: which requests it covers, what it accepts, and its source.
struct Rule {
    /// The family in words, for the warning.
    family: &'static str,
    applies: fn(ProviderKind, &str, &Params) -> bool,
    setting: Sampling,
    accepts: fn(f64) -> bool,
    /// What is accepted, in words.
    accepted: &'static str,
}

/// Every sampling rule.
const RULES: [Rule; 4] = [
    // OpenAI reasoning guide (limitations) and the API's own refusal: "Unsupported value:
    // 'temperature' does not support 0.2 with this model. Only the default (1) value is
    // supported." gpt-5.1 and later accept sampling settings with reasoning_effort "none".
    Rule {
        family: "OpenAI reasoning models (o-series, gpt-5)",
        applies: openai_refuses_sampling,
        setting: Sampling::Temperature,
        accepts: |v| v == 1.0,
        accepted: "only the default, 1",
    },
    Rule {
        family: "OpenAI reasoning models (o-series, gpt-5)",
        applies: openai_refuses_sampling,
        setting: Sampling::TopP,
        accepts: |v| v == 1.0,
        accepted: "only the default, 1",
    },
    // Anthropic extended thinking docs: thinking "isn't compatible with temperature or
    // top_k modifications"; top_p may be set between 0.95 and 1.
    Rule {
        family: "Anthropic models with thinking on",
        applies: anthropic_thinking,
        setting: Sampling::Temperature,
        accepts: |v| v == 1.0,
        accepted: "only 1 (or unset)",
    },
    Rule {
        family: "Anthropic models with thinking on",
        applies: anthropic_thinking,
        setting: Sampling::TopP,
        accepts: |v| (0.95..=1.0).contains(&v),
        accepted: "0.95 to 1",
    },
];

/// A setting the target's family refuses, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The setting.
    pub setting: Sampling,
    /// The value configured.
    pub value: f64,
    /// "OpenAI reasoning models (o-series, gpt-5) accept only the default, 1".
    pub why: String,
}

/// The settings of `params` that `model` on `provider` would refuse.
pub fn refusals(provider: ProviderKind, model: &str, params: &Params) -> Vec<Refusal> {
    let model = bare(model);
    RULES
        .iter()
        .filter(|r| (r.applies)(provider, model, params))
        .filter_map(|r| {
            let value = r.setting.value(params)?;
            (!(r.accepts)(value)).then(|| Refusal {
                setting: r.setting,
                value,
                why: format!("{} accept {}", r.family, r.accepted),
            })
        })
        .collect()
}

/// The model id without a gateway's `vendor/` prefix or the mock's `+directives`.
pub fn bare(model: &str) -> &str {
    let model = model.split_once('+').map_or(model, |(id, _)| id);
    model.rsplit_once('/').map_or(model, |(_, m)| m)
}

/// o1, o3, o4-mini... and the gpt-5 family except the non-reasoning `gpt-5-chat`.
pub fn openai_reasoning(model: &str) -> bool {
    let m = bare(model).to_ascii_lowercase();
    let o_series = m
        .strip_prefix('o')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    o_series || (m.starts_with("gpt-5") && !m.starts_with("gpt-5-chat"))
}

/// Chat models that take no `reasoning_effort`: gpt-4*, gpt-3.5*, chatgpt-*, gpt-5-chat*.
pub fn openai_without_reasoning(model: &str) -> bool {
    let m = bare(model).to_ascii_lowercase();
    ["gpt-4", "gpt-3.5", "chatgpt-", "gpt-5-chat"]
        .iter()
        .any(|p| m.starts_with(p))
}

/// gpt-5.1 and later, which accept sampling settings when `reasoning_effort` is "none"
/// (OpenAI's reasoning_effort reference: "gpt-5.1 defaults to none").
fn openai_effort_none_samples(model: &str) -> bool {
    let m = bare(model).to_ascii_lowercase();
    m.strip_prefix("gpt-5.")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn openai_refuses_sampling(provider: ProviderKind, model: &str, p: &Params) -> bool {
    matches!(
        provider,
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Azure
    ) && openai_reasoning(model)
        && !(p.reasoning_effort.as_deref() == Some("none") && openai_effort_none_samples(model))
}

fn anthropic_thinking(provider: ProviderKind, _model: &str, p: &Params) -> bool {
    provider == ProviderKind::Anthropic
        && matches!(p.thinking, Some(Thinking::Budget(_) | Thinking::Adaptive))
}

/// A Claude model's (major, minor) version from its id: `claude-opus-4-6`,
/// `claude-sonnet-4-20250514` (4.0), `claude-3-7-sonnet-20250219` (3.7). `None` for ids
/// that carry no version (`claude-mythos-preview`) or are not Claude's.
pub fn claude_version(model: &str) -> Option<(u32, u32)> {
    let m = bare(model).to_ascii_lowercase();
    let parts: Vec<&str> = m.strip_prefix("claude-")?.split('-').collect();
    let number = |s: &&str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    // `claude-3-7-sonnet` puts the version first; `claude-sonnet-4-5` after the name.
    let at = if number(parts.first()?).is_some() { 0 } else { 1 };
    let major = number(parts.get(at)?)?;
    let minor = parts.get(at + 1).and_then(number).unwrap_or(0);
    Some((major, minor))
}

/// Whether a Claude model takes `thinking = {type: "adaptive"}`: Claude Opus 4.6 and
/// Sonnet 4.6 onwards (Anthropic's adaptive-thinking docs: "Older models (Sonnet 4.5,
/// Opus 4.5, etc.) do not support adaptive thinking"). `None` when the id has no version.
pub fn claude_adaptive(model: &str) -> Option<bool> {
    claude_version(model).map(|v| v >= (4, 6))
}

/// Whether a Claude model still takes a fixed thinking budget: Anthropic's extended
/// thinking docs: "Claude 4.7 and later models do not support it and reject requests
/// that use it". `None` when the id has no version.
pub fn claude_budget(model: &str) -> Option<bool> {
    claude_version(model).map(|v| v < (4, 7))
}

/// A Gemini model's (major, minor) generation: `gemini-2.5-flash` → (2, 5).
pub fn gemini_generation(model: &str) -> Option<(u32, u32)> {
    let m = bare(model).to_ascii_lowercase();
    let version = m.strip_prefix("gemini-")?.split('-').next()?;
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f64, top_p: f64) -> Params {
        Params {
            temperature: Some(temperature),
            top_p: Some(top_p),
            ..Params::default()
        }
    }

    #[test]
    fn openai_reasoning_families() {
        for m in [
            "o1",
            "o1-mini",
            "o3-2025-04-16",
            "o4-mini",
            "gpt-5",
            "gpt-5-mini-2025-08-07",
            "gpt-5.1",
            "openai/o3-mini",
            "o3+ttft=5",
        ] {
            assert!(openai_reasoning(m), "{m}");
        }
        for m in [
            "gpt-4o",
            "gpt-5-chat-latest",
            "omni-moderation",
            "llama3.1:8b",
            "gpt-4.1",
        ] {
            assert!(!openai_reasoning(m), "{m}");
        }
        assert!(openai_without_reasoning("gpt-4o-mini-2024-07-18") && !openai_without_reasoning("o3"));
    }

    #[test]
    fn reasoning_models_refuse_sampling_unless_default() {
        let r = refusals(ProviderKind::OpenAi, "o3-mini", &params(0.2, 1.0));
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].setting, r[0].value), (Sampling::Temperature, 0.2));
        assert!(r[0].why.contains("only the default, 1"), "{}", r[0].why);
        assert!(refusals(ProviderKind::OpenAi, "gpt-4o", &params(0.2, 0.5)).is_empty());
        assert_eq!(
            refusals(ProviderKind::OpenAiCompatible, "openai/gpt-5", &params(0.2, 0.5)).len(),
            2
        );
        // gpt-5.1 with effort "none" samples; gpt-5 never does.
        let none = |t| Params {
            reasoning_effort: Some("none".into()),
            ..params(t, 1.0)
        };
        assert!(refusals(ProviderKind::OpenAi, "gpt-5.1", &none(0.2)).is_empty());
        assert_eq!(refusals(ProviderKind::OpenAi, "gpt-5", &none(0.2)).len(), 1);
    }

    #[test]
    fn anthropic_thinking_refuses_temperature_and_narrow_top_p() {
        let mut p = params(0.5, 0.9);
        assert!(refusals(ProviderKind::Anthropic, "claude-sonnet-4-5", &p).is_empty());
        p.thinking = Some(Thinking::Budget(2048));
        let r = refusals(ProviderKind::Anthropic, "claude-sonnet-4-5", &p);
        assert_eq!(
            r.iter().map(|r| r.setting).collect::<Vec<_>>(),
            [Sampling::Temperature, Sampling::TopP]
        );
        p.temperature = Some(1.0);
        p.top_p = Some(0.95);
        assert!(refusals(ProviderKind::Anthropic, "claude-sonnet-4-5", &p).is_empty());
    }

    #[test]
    fn claude_and_gemini_versions() {
        assert_eq!(claude_version("claude-sonnet-4-20250514"), Some((4, 0)));
        assert_eq!(claude_version("claude-opus-4-6"), Some((4, 6)));
        assert_eq!(claude_version("claude-3-7-sonnet-20250219"), Some((3, 7)));
        assert_eq!(claude_version("claude-3-haiku-20240307"), Some((3, 0)));
        assert_eq!(claude_version("claude-mythos-preview"), None);
        assert_eq!(claude_version("gpt-4o"), None);
        assert_eq!(claude_adaptive("claude-sonnet-4-6"), Some(true));
        assert_eq!(claude_adaptive("claude-opus-4-5-20251101"), Some(false));
        assert_eq!(claude_budget("claude-opus-4-7"), Some(false));
        assert_eq!(claude_budget("claude-opus-4-6"), Some(true));
        assert_eq!(gemini_generation("gemini-2.5-flash"), Some((2, 5)));
        assert_eq!(gemini_generation("gemini-3-pro-preview"), Some((3, 0)));
        assert_eq!(gemini_generation("models/gemini-2.0-flash-001"), Some((2, 0)));
        assert_eq!(gemini_generation("gemma-3"), None);
    }
}
