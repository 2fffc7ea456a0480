//! Reasoning and thinking settings, checked against the target's provider and model at
//! load: each one exists for some providers only and is sent in that provider's own
//! field, so a setting the target's API does not have is an error here, not a 400 later.
//!
//! | key | provider | wire field |
//! |---|---|---|
//! | `reasoning_effort` | openai, openai-compatible, azure | `reasoning_effort` (Responses API: `reasoning.effort`) |
//! | `reasoning_summary` | openai, openai-compatible, azure | Responses API `reasoning.summary` only |
//! | `thinking_budget` | anthropic | `thinking = {type: "enabled", budget_tokens}` |
//! | `thinking_budget` | gemini | `generationConfig.thinkingConfig.thinkingBudget` |
//! | `thinking = "adaptive"` | anthropic (Claude 4.6 and later) | `thinking = {type: "adaptive"}` |
//! | `thinking_level` | gemini 3 and later | `generationConfig.thinkingConfig.thinkingLevel` |
//! | `thinking_budget`, `thinking = "adaptive"` | bedrock (Claude models) | `additionalModelRequestFields.thinking` |

use toml::Spanned;

use super::Located;
use crate::target::{Api, Params, ProviderKind, Thinking, family};

/// Anthropic's smallest thinking budget (extended thinking docs: "minimum budget is
/// 1,024 tokens").
pub const MIN_ANTHROPIC_BUDGET: i64 = 1024;

/// Values OpenAI documents for `reasoning_effort`.
const OPENAI_EFFORTS: [&str; 6] = ["none", "minimal", "low", "medium", "high", "xhigh"];
/// Values of the Responses API `reasoning.summary`.
const SUMMARIES: [&str; 3] = ["auto", "concise", "detailed"];
/// Values of Gemini's `thinkingLevel` (Gemini 3 Pro takes low and high; Flash all four).
const GEMINI_LEVELS: [&str; 4] = ["minimal", "low", "medium", "high"];

/// The reasoning keys of one target, after `[defaults]` and `unset`.
pub struct ReasoningFile {
    pub reasoning_effort: Option<Spanned<String>>,
    pub reasoning_summary: Option<Spanned<String>>,
    pub thinking: Option<Spanned<String>>,
    pub thinking_budget: Option<Spanned<i64>>,
    pub thinking_level: Option<Spanned<String>>,
}

/// What a target sends, resolved.
#[derive(Debug, Default)]
pub struct Reasoning {
    pub effort: Option<String>,
    pub summary: Option<String>,
    pub thinking: Option<Thinking>,
}

/// Check every reasoning key of a target of `provider` and `model`. `max_tokens` is the
/// value the request will carry (for Anthropic's budget rule); `warnings` gets settings
/// that are valid but not sent.
pub fn resolve(
    r: ReasoningFile,
    provider: ProviderKind,
    api: Api,
    model: &str,
    max_tokens: Option<u32>,
    warnings: &mut Vec<String>,
) -> Result<Reasoning, Located> {
    let openai_like = matches!(
        provider,
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Azure
    );
    let mut out = Reasoning::default();
    if let Some(e) = r.reasoning_effort {
        let at = e.span().start;
        let value = e.into_inner();
        match provider {
            ProviderKind::OpenAi if !OPENAI_EFFORTS.contains(&value.as_str()) => {
                return Err((
                    at,
                    format!(
                        "`reasoning_effort` = \"{value}\" is not one of OpenAI's: {}",
                        OPENAI_EFFORTS.join(", ")
                    ),
                ));
            }
            ProviderKind::OpenAi if family::openai_without_reasoning(model) => {
                warnings.push(format!(
                    "`reasoning_effort` is not sent: {model} is not a reasoning model and the API refuses it"
                ));
            }
            _ if openai_like => {
                if value.trim().is_empty() || value.contains(char::is_whitespace) {
                    return Err((
                        at,
                        format!("`reasoning_effort` = \"{value}\" is not an effort level"),
                    ));
                }
                out.effort = Some(value);
            }
            _ => {
                return Err((
                    at,
                    format!(
                        "`reasoning_effort` is an OpenAI setting; {provider} targets take {}",
                        thinking_keys(provider)
                    ),
                ));
            }
        }
    }
    if let Some(s) = r.reasoning_summary {
        let at = s.span().start;
        let value = s.into_inner();
        if !openai_like {
            return Err((
                at,
                format!(
                    "`reasoning_summary` is an OpenAI Responses API setting; {provider} targets take {}",
                    thinking_keys(provider)
                ),
            ));
        }
        if !SUMMARIES.contains(&value.as_str()) {
            return Err((
                at,
                format!(
                    "`reasoning_summary` = \"{value}\" is not one of: {}",
                    SUMMARIES.join(", ")
                ),
            ));
        }
        if api == Api::Chat {
            warnings.push(
                "`reasoning_summary` is not sent: Chat Completions has no reasoning summary (set `api = \"responses\"` to get one)"
                    .into(),
            );
        }
        out.summary = Some(value);
    }
    out.thinking = thinking(
        r.thinking,
        r.thinking_budget,
        r.thinking_level,
        provider,
        model,
        max_tokens,
    )?;
    Ok(out)
}

/// Clear what the model's family would refuse (the whole request would fail with it),
/// with a note for each: [`family::refusals`] says which settings and why.
pub fn drop_refused(provider: ProviderKind, model: &str, params: &mut Params, notes: &mut Vec<String>) {
    for refusal in family::refusals(provider, model, params) {
        let key = refusal.setting.key();
        notes.push(format!(
            "`{key}` = {} is not sent: {}; remove it, or add `unset = [\"{key}\"]` to the target if it comes from [defaults]",
            refusal.value, refusal.why
        ));
        match refusal.setting {
            family::Sampling::Temperature => params.temperature = None,
            family::Sampling::TopP => params.top_p = None,
        }
    }
}

/// What a provider takes instead, for messages.
fn thinking_keys(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Anthropic => "`thinking_budget = N` or `thinking = \"adaptive\"`",
        ProviderKind::Gemini => "`thinking_budget` (Gemini 2.5) or `thinking_level` (Gemini 3)",
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Azure => "`reasoning_effort`",
        ProviderKind::Bedrock => "`thinking_budget = N` or `thinking = \"adaptive\"` (Claude models only)",
    }
}

fn thinking(
    mode: Option<Spanned<String>>,
    budget: Option<Spanned<i64>>,
    level: Option<Spanned<String>>,
    provider: ProviderKind,
    model: &str,
    max_tokens: Option<u32>,
) -> Result<Option<Thinking>, Located> {
    let elsewhere = |key: &str, at: usize| -> Located {
        (
            at,
            format!(
                "`{key}` has no meaning for {provider} targets; they take {}",
                thinking_keys(provider)
            ),
        )
    };
    match (mode, budget, level) {
        (None, None, None) => Ok(None),
        (Some(m), Some(_), _) | (Some(m), _, Some(_)) => Err((
            m.span().start,
            "`thinking = \"adaptive\"` and a thinking budget or level are set together: keep one".into(),
        )),
        (None, Some(b), Some(l)) => Err((
            l.span().start.max(b.span().start),
            "`thinking_budget` and `thinking_level` are set together, which Gemini refuses: keep one".into(),
        )),
        (Some(m), None, None) => {
            let at = m.span().start;
            // On Bedrock, Claude's own rules apply to the Claude model inside the id.
            let model = match provider {
                ProviderKind::Bedrock => bedrock_claude(model, "thinking", at)?,
                ProviderKind::Anthropic => model,
                _ => return Err(elsewhere("thinking", at)),
            };
            if m.get_ref() != "adaptive" {
                return Err((
                    at,
                    format!(
                        "`thinking` = \"{}\" is not a thinking mode: use `thinking = \"adaptive\"`, or `thinking_budget = N` for a fixed budget",
                        m.get_ref()
                    ),
                ));
            }
            if family::claude_adaptive(model) == Some(false) {
                return Err((
                    at,
                    format!(
                        "{model} does not support adaptive thinking (Claude Opus 4.6, Sonnet 4.6 and later do): use `thinking_budget = N`"
                    ),
                ));
            }
            Ok(Some(Thinking::Adaptive))
        }
        (None, Some(b), None) => {
            let at = b.span().start;
            let n = *b.get_ref();
            match provider {
                ProviderKind::Anthropic => anthropic_budget(n, at, model, max_tokens),
                ProviderKind::Gemini => gemini_budget(n, at, model),
                ProviderKind::Bedrock => bedrock_budget(n, at, model, max_tokens),
                _ => Err(elsewhere("thinking_budget", at)),
            }
        }
        (None, None, Some(l)) => {
            let at = l.span().start;
            if provider != ProviderKind::Gemini {
                return Err(elsewhere("thinking_level", at));
            }
            let level = l.get_ref().to_ascii_lowercase();
            if !GEMINI_LEVELS.contains(&level.as_str()) {
                return Err((
                    at,
                    format!(
                        "`thinking_level` = \"{}\" is not one of Gemini's: {}",
                        l.get_ref(),
                        GEMINI_LEVELS.join(", ")
                    ),
                ));
            }
            if family::gemini_generation(model).is_some_and(|g| g < (3, 0)) {
                return Err((
                    at,
                    format!(
                        "{model} takes no `thinking_level` (Gemini 3 and later do): use `thinking_budget`"
                    ),
                ));
            }
            Ok(Some(Thinking::Level(level)))
        }
    }
}

fn anthropic_budget(
    n: i64,
    at: usize,
    model: &str,
    max_tokens: Option<u32>,
) -> Result<Option<Thinking>, Located> {
    if family::claude_budget(model) == Some(false) {
        return Err((
            at,
            format!("{model} supports only adaptive thinking: use `thinking = \"adaptive\"`"),
        ));
    }
    let (cap, whose) = match max_tokens {
        Some(m) => (i64::from(m), "`max_tokens`".to_string()),
        None => (
            i64::from(ProviderKind::Anthropic.spec().default_max_tokens.unwrap_or(0)),
            "`max_tokens` (Prism's default for Anthropic when unset)".to_string(),
        ),
    };
    if n < MIN_ANTHROPIC_BUDGET {
        return Err((
            at,
            format!(
                "`thinking_budget` = {n} is out of range: Anthropic takes at least {MIN_ANTHROPIC_BUDGET} tokens"
            ),
        ));
    }
    if n >= cap {
        return Err((
            at,
            format!(
                "`thinking_budget` = {n} must be less than {whose}, {cap}: thinking counts against it, so raise max_tokens above the budget"
            ),
        ));
    }
    Ok(Some(Thinking::Budget(n)))
}

/// The Claude model name inside a Bedrock model id (`us.anthropic.claude-sonnet-4-…`
/// → `claude-sonnet-4-…`); thinking is Claude's, other Bedrock models have no such field.
fn bedrock_claude<'m>(model: &'m str, key: &str, at: usize) -> Result<&'m str, Located> {
    match model.find("claude") {
        Some(i) => Ok(&model[i..]),
        None => Err((
            at,
            format!(
                "`{key}` on Bedrock is for Anthropic Claude models (sent as additionalModelRequestFields.thinking); {model} is not one: put the model's own field under `extra.additionalModelRequestFields`"
            ),
        )),
    }
}

/// A Bedrock Claude budget: Anthropic's rules, against a `max_tokens` that must be set
/// (Converse has no default Prism could check the budget against).
fn bedrock_budget(
    n: i64,
    at: usize,
    model: &str,
    max_tokens: Option<u32>,
) -> Result<Option<Thinking>, Located> {
    let claude = bedrock_claude(model, "thinking_budget", at)?;
    if max_tokens.is_none() {
        return Err((
            at,
            "`thinking_budget` on Bedrock needs `max_tokens` above it: thinking counts against the output limit".into(),
        ));
    }
    anthropic_budget(n, at, claude, max_tokens)
}

fn gemini_budget(n: i64, at: usize, model: &str) -> Result<Option<Thinking>, Located> {
    if !(-1..=i64::from(i32::MAX)).contains(&n) {
        return Err((
            at,
            format!(
                "`thinking_budget` = {n} is out of range: give a number of tokens, 0 to turn thinking off or -1 for dynamic thinking"
            ),
        ));
    }
    match family::gemini_generation(model) {
        Some(g) if g < (2, 5) => Err((
            at,
            format!("{model} does not think: thinking settings exist from Gemini 2.5 on"),
        )),
        _ if n == 0 && family::bare(model).starts_with("gemini-2.5-pro") => Err((
            at,
            format!("`thinking_budget` = 0: {model} cannot turn thinking off (its smallest budget is 128)"),
        )),
        _ => Ok(Some(Thinking::Budget(n))),
    }
}
