//! Reasoning and thinking keys, family rules, `unset`, `system`, `headers` and base-URL
//! variables, as the config loader checks them.

use super::*;
use crate::target::{BaseUrlSource, HeaderSource, Thinking};

fn load_with(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
    let lookup = |var: &str| env.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string());
    parse_with_env(text, Path::new("prism.toml"), &lookup).map_err(|e| e.to_string())
}

fn load(text: &str) -> Result<Config, String> {
    load_with(text, &[])
}

/// One target of `provider`/`model` with `lines` after its model line (line 5 on).
fn target(provider: &str, model: &str, lines: &str) -> String {
    format!("[[target]]\nname = \"t\"\nprovider = \"{provider}\"\nmodel = \"{model}\"\n{lines}")
}

#[test]
fn reasoning_effort_is_openais_and_checked_against_its_values() {
    let c = load(&target(
        "openai",
        "o3-mini-2025-01-31",
        "reasoning_effort = \"high\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.reasoning_effort.as_deref(), Some("high"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let e = load(&target(
        "openai",
        "o3-mini-2025-01-31",
        "reasoning_effort = \"max\"\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:20: `reasoning_effort` = \"max\" is not one of OpenAI's: none, minimal, low, medium, high, xhigh"
    );
    // A compatible server names its own levels.
    let c = load(&target(
        "openai-compatible",
        "qwen3",
        "base_url = \"http://localhost:8000/v1\"\nreasoning_effort = \"default\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.reasoning_effort.as_deref(), Some("default"));
    let e = load(&target(
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "reasoning_effort = \"low\"\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:20: `reasoning_effort` is an OpenAI setting; anthropic targets take `thinking_budget = N` or `thinking = \"adaptive\"`"
    );
    // A chat model refuses it: warned, not sent.
    let c = load(&target(
        "openai",
        "gpt-4o-2024-08-06",
        "reasoning_effort = \"low\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.reasoning_effort, None);
    assert_eq!(
        c.warnings,
        [
            "target `t`: `reasoning_effort` is not sent: gpt-4o-2024-08-06 is not a reasoning model and the API refuses it"
        ]
    );
}

#[test]
fn reasoning_summary_is_for_the_responses_api() {
    let c = load(&target(
        "openai",
        "o3-2025-04-16",
        "reasoning_summary = \"auto\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.reasoning_summary.as_deref(), Some("auto"));
    assert!(
        c.warnings[0].contains("`reasoning_summary` is not sent: Chat Completions has no reasoning summary")
    );
    let e = load(&target(
        "openai",
        "o3-2025-04-16",
        "reasoning_summary = \"short\"\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:21: `reasoning_summary` = \"short\" is not one of: auto, concise, detailed"
    );
    let e = load(&target(
        "gemini",
        "gemini-2.5-flash",
        "reasoning_summary = \"auto\"\n",
    ))
    .unwrap_err();
    assert!(e.starts_with("prism.toml:5:21: `reasoning_summary` is an OpenAI Responses API setting; gemini targets take `thinking_budget` (Gemini 2.5) or `thinking_level` (Gemini 3)"), "{e}");
}

#[test]
fn anthropic_thinking_budget_is_at_least_1024_and_below_max_tokens() {
    let m = "claude-sonnet-4-5-20250929";
    let c = load(&target(
        "anthropic",
        m,
        "max_tokens = 8000\nthinking_budget = 2048\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.thinking, Some(Thinking::Budget(2048)));
    let e = load(&target("anthropic", m, "thinking_budget = 512\n")).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:19: `thinking_budget` = 512 is out of range: Anthropic takes at least 1024 tokens"
    );
    let e = load(&target(
        "anthropic",
        m,
        "max_tokens = 2000\nthinking_budget = 2000\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:6:19: `thinking_budget` = 2000 must be less than `max_tokens`, 2000: thinking counts against it, so raise max_tokens above the budget"
    );
    let e = load(&target("anthropic", m, "thinking_budget = 8000\n")).unwrap_err();
    assert!(
        e.contains("must be less than `max_tokens` (Prism's default for Anthropic when unset), 4096"),
        "{e}"
    );
    let e = load(&target(
        "anthropic",
        "claude-opus-4-7",
        "max_tokens = 9000\nthinking_budget = 2048\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:6:19: claude-opus-4-7 supports only adaptive thinking: use `thinking = \"adaptive\"`"
    );
    // On a provider without it: the setting and its place.
    let e = load(&target("openai", "o3-2025-04-16", "thinking_budget = 2048\n")).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:19: `thinking_budget` has no meaning for openai targets; they take `reasoning_effort`"
    );
}

#[test]
fn adaptive_thinking_only_where_the_model_has_it() {
    let c = load(&target(
        "anthropic",
        "claude-opus-4-6",
        "thinking = \"adaptive\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.thinking, Some(Thinking::Adaptive));
    let e = load(&target(
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "thinking = \"adaptive\"\n",
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:12: claude-sonnet-4-5-20250929 does not support adaptive thinking"),
        "{e}"
    );
    let e = load(&target(
        "anthropic",
        "claude-opus-4-6",
        "thinking = \"enabled\"\n",
    ))
    .unwrap_err();
    assert!(
        e.contains("`thinking` = \"enabled\" is not a thinking mode"),
        "{e}"
    );
    let e = load(&target(
        "anthropic",
        "claude-opus-4-6",
        "thinking = \"adaptive\"\nthinking_budget = 2048\n",
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:12: `thinking = \"adaptive\"` and a thinking budget"),
        "{e}"
    );
    let e = load(&target(
        "gemini",
        "gemini-3-pro-preview",
        "thinking = \"adaptive\"\n",
    ))
    .unwrap_err();
    assert!(e.contains("`thinking` has no meaning for gemini targets"), "{e}");
}

#[test]
fn gemini_budget_or_level_never_both() {
    let c = load(&target("gemini", "gemini-2.5-flash", "thinking_budget = -1\n")).unwrap();
    assert_eq!(c.targets[0].params.thinking, Some(Thinking::Budget(-1)));
    let c = load(&target("gemini", "gemini-2.5-flash", "thinking_budget = 0\n")).unwrap();
    assert_eq!(c.targets[0].params.thinking, Some(Thinking::Budget(0)));
    let e = load(&target("gemini", "gemini-2.5-pro", "thinking_budget = 0\n")).unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:19: `thinking_budget` = 0: gemini-2.5-pro cannot turn thinking off"),
        "{e}"
    );
    let e = load(&target("gemini", "gemini-2.5-flash", "thinking_budget = -2\n")).unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:19: `thinking_budget` = -2 is out of range"),
        "{e}"
    );
    let c = load(&target(
        "gemini",
        "gemini-3-pro-preview",
        "thinking_level = \"HIGH\"\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.thinking, Some(Thinking::Level("high".into())));
    let e = load(&target(
        "gemini",
        "gemini-3-pro-preview",
        "thinking_budget = 1024\nthinking_level = \"low\"\n",
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:6:18: `thinking_budget` and `thinking_level` are set together, which Gemini refuses: keep one"
    );
    let e = load(&target(
        "gemini",
        "gemini-2.5-flash",
        "thinking_level = \"low\"\n",
    ))
    .unwrap_err();
    assert!(
        e.contains("gemini-2.5-flash takes no `thinking_level` (Gemini 3 and later do)"),
        "{e}"
    );
    let e = load(&target(
        "gemini",
        "gemini-2.0-flash-001",
        "thinking_budget = 1024\n",
    ))
    .unwrap_err();
    assert!(e.contains("gemini-2.0-flash-001 does not think"), "{e}");
    let e = load(&target(
        "anthropic",
        "claude-opus-4-6",
        "thinking_level = \"low\"\n",
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:18: `thinking_level` has no meaning for anthropic targets"),
        "{e}"
    );
}

#[test]
fn family_rules_warn_and_drop_what_the_api_would_refuse() {
    let text = "[defaults]\ntemperature = 0.2\ntop_p = 0.9\n\
        [[target]]\nname = \"o3\"\nprovider = \"openai\"\nmodel = \"o3-2025-04-16\"\n\
        [[target]]\nname = \"4o\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n\
        [[target]]\nname = \"quiet\"\nprovider = \"openai\"\nmodel = \"gpt-5-2025-08-07\"\nunset = [\"temperature\", \"top_p\"]\n\
        [[target]]\nname = \"claude\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5-20250929\"\nmax_tokens = 8000\nthinking_budget = 2048\n";
    let c = load(text).unwrap();
    let p = |i: usize| (c.targets[i].params.temperature, c.targets[i].params.top_p);
    assert_eq!(p(0), (None, None), "o3 gets neither");
    assert_eq!(p(1), (Some(0.2), Some(0.9)), "gpt-4o keeps both");
    assert_eq!(
        p(2),
        (None, None),
        "unset: nothing inherited, nothing to warn about"
    );
    assert_eq!(p(3), (None, None), "thinking takes neither 0.2 nor 0.9");
    assert_eq!(
        c.warnings,
        [
            "target `o3`: `temperature` = 0.2 is not sent: OpenAI reasoning models (o-series, gpt-5) accept only the default, 1; remove it, or add `unset = [\"temperature\"]` to the target if it comes from [defaults]",
            "target `o3`: `top_p` = 0.9 is not sent: OpenAI reasoning models (o-series, gpt-5) accept only the default, 1; remove it, or add `unset = [\"top_p\"]` to the target if it comes from [defaults]",
            "target `claude`: `temperature` = 0.2 is not sent: Anthropic models with thinking on accept only 1 (or unset); remove it, or add `unset = [\"temperature\"]` to the target if it comes from [defaults]",
            "target `claude`: `top_p` = 0.9 is not sent: Anthropic models with thinking on accept 0.95 to 1; remove it, or add `unset = [\"top_p\"]` to the target if it comes from [defaults]",
        ]
    );
}

#[test]
fn unset_names_inherited_keys_the_target_does_not_set() {
    let head = "[defaults]\ntemperature = 0.3\nsystem = \"Be brief.\"\nextra = { user = \"bench\" }\nheaders = { \"X-Team\" = \"a\" }\n";
    let c = load(&format!(
        "{head}{}",
        target(
            "openai",
            "gpt-4o-2024-08-06",
            "unset = [\"system\", \"extra\", \"headers\"]\n"
        )
    ))
    .unwrap();
    let p = &c.targets[0].params;
    assert_eq!(p.temperature, Some(0.3));
    assert!(p.system.is_none() && p.extra.is_empty() && p.headers.is_empty());
    let e = load(&format!(
        "{head}{}",
        target("openai", "gpt-4o-2024-08-06", "unset = [\"temprature\"]\n")
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:10:10: `unset` names `temprature`, which is not a key a target inherits"),
        "{e}"
    );
    let e = load(&format!(
        "{head}{}",
        target(
            "openai",
            "gpt-4o-2024-08-06",
            "temperature = 1\nunset = [\"temperature\"]\n"
        )
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:11:10: `unset` names `temperature`, which this target also sets"),
        "{e}"
    );
    let e = load(&format!(
        "[defaults]\nunset = [\"seed\"]\n{}",
        target("openai", "gpt-4o-2024-08-06", "")
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:2:9: `unset` cannot be set in [defaults]"),
        "{e}"
    );
    // `thinking` drops every thinking key of [defaults].
    let c = load(&format!(
        "[defaults]\nthinking_budget = 1024\n{}",
        target("gemini", "gemini-2.5-flash", "unset = [\"thinking\"]\n")
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.thinking, None);
}

#[test]
fn a_configured_system_prompt_is_inherited_and_overridden() {
    let c = load(&format!(
        "[defaults]\nsystem = \"Be brief.\"\n{}{}",
        target("openai", "gpt-4o-2024-08-06", ""),
        target("gemini", "gemini-2.5-flash", "system = \"Answer in French.\"\n").replace("\"t\"", "\"g\"")
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.system.as_deref(), Some("Be brief."));
    assert_eq!(c.targets[1].params.system.as_deref(), Some("Answer in French."));
    let e = load(&target("openai", "gpt-4o-2024-08-06", "system = \"  \"\n")).unwrap_err();
    assert!(e.starts_with("prism.toml:5:10: `system` is empty"), "{e}");
}

#[test]
fn headers_merge_by_name_and_secrets_come_from_the_environment() {
    let c = load(&format!(
        "[defaults]\nheaders = {{ \"X-Team\" = \"a\", \"x-trace\" = \"on\" }}\n{}",
        target(
            "openai",
            "gpt-4o-2024-08-06",
            "headers = { \"X-TRACE\" = \"off\", \"OpenAI-Organization\" = \"org-1\", \"X-Gateway-Token\" = { env = \"GW_TOKEN\" } }\n"
        )
    ))
    .unwrap();
    let h: Vec<(&str, &HeaderSource)> = c.targets[0]
        .params
        .headers
        .iter()
        .map(|h| (h.name.as_str(), &h.value))
        .collect();
    assert_eq!(
        h,
        [
            ("OpenAI-Organization", &HeaderSource::Literal("org-1".into())),
            ("X-Gateway-Token", &HeaderSource::Env("GW_TOKEN".into())),
            ("X-TRACE", &HeaderSource::Literal("off".into())),
            ("X-Team", &HeaderSource::Literal("a".into())),
        ]
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn headers_prism_sets_are_refused_or_warned() {
    let t = |h: &str| {
        target(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            &format!("headers = {{ {h} }}\n"),
        )
    };
    let e = load(&t("\"x-api-key\" = \"k\"")).unwrap_err();
    assert!(
        e.starts_with("prism.toml:5:27: header `x-api-key` carries the API key"),
        "{e}"
    );
    let e = load(&t("\"Content-Type\" = \"text/plain\"")).unwrap_err();
    assert!(
        e.contains("header `Content-Type` is set by Prism's HTTP client and cannot be configured"),
        "{e}"
    );
    let e = load(&t("\"X-Token\" = { env = \"not a name\" }")).unwrap_err();
    assert!(e.contains("`env` takes an environment variable name"), "{e}");
    let e = load(&t("\"X-Count\" = 3")).unwrap_err();
    assert!(
        e.contains("header `X-Count` is a integer: give a string, or `{ env = \"VAR\" }`"),
        "{e}"
    );
    let e = load(&t("\"bad name\" = \"x\"")).unwrap_err();
    assert!(
        e.contains("header name `bad name` is not a valid HTTP header name"),
        "{e}"
    );
    let c = load(&t(
        "\"anthropic-version\" = \"2099-01-01\", \"anthropic-beta\" = \"context-1m-2025-08-07\"",
    ))
    .unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].starts_with(
        "target `t`: header `anthropic-version` replaces the API version Prism speaks (2023-06-01)"
    ));
    // A keyless gateway may carry its own Authorization.
    let c = load(&target(
        "openai-compatible",
        "m",
        "base_url = \"https://gw.example.com/v1\"\nheaders = { Authorization = { env = \"GW_AUTH\" } }\n",
    ))
    .unwrap();
    assert_eq!(c.targets[0].params.headers.len(), 1);
}

#[test]
fn base_url_comes_from_config_then_the_sdk_variable_then_the_default() {
    let env = [
        ("OPENAI_BASE_URL", "https://gw.example.com/openai/v1?team=a"),
        ("ANTHROPIC_BASE_URL", " "),
        ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9/"),
    ];
    let text = format!(
        "{}{}{}{}",
        target("openai", "gpt-4o-2024-08-06", ""),
        target(
            "openai",
            "gpt-4o-2024-08-06",
            "base_url = \"https://api.openai.com/v1\"\n"
        )
        .replace("\"t\"", "\"cfg\""),
        target("anthropic", "claude-sonnet-4-5-20250929", "").replace("\"t\"", "\"a\""),
        target("gemini", "gemini-2.5-flash", "").replace("\"t\"", "\"g\""),
    );
    let c = load_with(&text, &env).unwrap();
    let got: Vec<(&str, &BaseUrlSource)> = c
        .targets
        .iter()
        .map(|t| (t.base_url.as_str(), &t.params.base_url_source))
        .collect();
    assert_eq!(
        got,
        [
            (
                "https://gw.example.com/openai/v1?team=a",
                &BaseUrlSource::Env("OPENAI_BASE_URL".into())
            ),
            ("https://api.openai.com/v1", &BaseUrlSource::Config),
            ("https://api.anthropic.com", &BaseUrlSource::Default),
            (
                "http://127.0.0.1:9/",
                &BaseUrlSource::Env("GOOGLE_GEMINI_BASE_URL".into())
            ),
        ]
    );
    assert_eq!(
        c.warnings,
        [
            "target `t`: `base_url` comes from $OPENAI_BASE_URL: https://gw.example.com/openai/v1?team=a",
            "target `g`: `base_url` comes from $GOOGLE_GEMINI_BASE_URL: http://127.0.0.1:9/",
        ]
    );
    let e = load_with(
        &target("openai", "gpt-4o-2024-08-06", ""),
        &[("OPENAI_BASE_URL", "gw.example.com")],
    )
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:1:1: target `t` has no `base_url`, and $OPENAI_BASE_URL (`gw.example.com`) is not an http(s) URL: fix or unset $OPENAI_BASE_URL, or set `base_url`"
    );
    // A compatible server has no SDK variable: it still needs its own base_url.
    let e = load_with(&target("openai-compatible", "m", ""), &env).unwrap_err();
    assert!(e.contains("needs `base_url`"), "{e}");
    // Plain http off this machine from the environment warns like one in the file.
    let c = load_with(
        &target("openai", "gpt-4o-2024-08-06", ""),
        &[("OPENAI_BASE_URL", "http://10.0.0.5/v1")],
    )
    .unwrap();
    assert!(c.warnings[0].contains("unencrypted"), "{:?}", c.warnings);
}
