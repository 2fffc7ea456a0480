//! Prices in the config: `[pricing]` overrides, `pricing_file`, `price_as`, and the load
//! warnings for models with no price or context window.

use super::tests::parse_str;
use super::*;

#[test]
fn price_overrides_and_litellm_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prices.json"),
        r#"{"my-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "max_input_tokens": 8192}}"#,
    )
    .unwrap();
    let base = "[[target]]\nname = \"a\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\n";
    let text = format!(
        "pricing_file = \"prices.json\"\n{base}[pricing.\"gpt-4o-mini-2024-07-18\"]\noutput = \"0.50\"\n[pricing.\"house-model\"]\ninput = \"1\"\noutput = \"2.5\"\n"
    );
    let path = dir.path().join("prism.toml");
    std::fs::write(&path, &text).unwrap();
    let c = load(&path).unwrap();
    let p = c
        .prices
        .lookup(ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18")
        .unwrap();
    assert_eq!(
        (p.input, p.output),
        (150_000, 500_000),
        "override keeps the built-in input price"
    );
    assert_eq!(
        c.prices
            .lookup(ProviderKind::OpenAi, "my-model")
            .unwrap()
            .context_window,
        Some(8192)
    );
    assert_eq!(
        c.prices
            .lookup(ProviderKind::OpenAi, "house-model")
            .unwrap()
            .output,
        2_500_000
    );
    let e = parse_str(&format!("{base}[pricing.\"new-model\"]\ninput = \"1\"\n")).unwrap_err();
    assert!(e.contains("needs both `input` and `output`"), "{e}");
    let e = parse_str(&format!("{base}[pricing.\"gpt-4o\"]\ninput = \"cheap\"\n")).unwrap_err();
    assert!(
        e.contains(":5:1: [pricing.\"gpt-4o\"] `input` = \"cheap\""),
        "{e}"
    );
    let e = parse_str(&format!("pricing_file = \"/nonexistent.json\"\n{base}")).unwrap_err();
    assert!(e.starts_with("prism.toml:1:16: `pricing_file`"), "{e}");
}

#[test]
fn price_as_names_the_entry_and_a_typo_is_an_error_with_the_closest_name() {
    let target = |extra: &str| {
        format!(
            "[[target]]\nname = \"g\"\nprovider = \"openai-compatible\"\nmodel = \"llama-3.3-70b\"\nbase_url = \"https://gw.example.com/v1\"\n{extra}"
        )
    };
    let c = parse_str(&target("price_as = \"groq/llama-3.3-70b-versatile\"\n")).unwrap();
    let t = &c.targets[0];
    assert_eq!(t.params.price_as.as_deref(), Some("groq/llama-3.3-70b-versatile"));
    let p = c.prices.for_target(t).unwrap();
    assert_eq!(
        (p.entry.as_str(), p.input),
        ("groq/llama-3.3-70b-versatile", 590_000)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // A `[pricing]` table can be named too.
    let c = parse_str(&format!(
        "{}[pricing.\"house\"]\ninput = \"1\"\noutput = \"2\"\ncontext_window = 8192\n",
        target("price_as = \"house\"\n")
    ))
    .unwrap();
    assert_eq!(c.prices.for_target(&c.targets[0]).unwrap().output, 2_000_000);
    let e = parse_str(&target("price_as = \"groq/llama-3.3-70b-versatle\"\n")).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:6:12: target `g`: `price_as` = \"groq/llama-3.3-70b-versatle\" is not in the price data: did you mean `groq/llama-3.3-70b-versatile`?"
    );
    let e = parse_str(&target("price_as = \"nothing-like-it\"\n")).unwrap_err();
    assert!(e.ends_with("is not in the price data: name a LiteLLM key (`groq/llama-3.3-70b-versatile`) or a [pricing.\"…\"] table"), "{e}");
    let e = parse_str(&target("price_as = \" \"\n")).unwrap_err();
    assert!(
        e.starts_with("prism.toml:6:12: `price_as` must not be empty"),
        "{e}"
    );
    let e = parse_str(&format!("[defaults]\nprice_as = \"gpt-4o\"\n{}", target(""))).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:2:12: `price_as` cannot be set in [defaults]: it names the price entry of one target"
    );
}

#[test]
fn a_model_with_no_price_or_window_warns_once_with_the_closest_name() {
    let target = |name: &str, provider: &str, model: &str, url: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nprovider = \"{provider}\"\nmodel = \"{model}\"\nbase_url = \"{url}\"\n"
        )
    };
    let c = parse_str(
        &[
            target(
                "typo",
                "openai",
                "gpt-4o-mini-2024-07-81",
                "https://api.openai.com/v1",
            ),
            target(
                "unknown",
                "anthropic",
                "claude-house-20250101",
                "https://api.anthropic.com",
            ),
            target(
                "groq",
                "openai-compatible",
                "llama-3.3-70b-versatle",
                "https://api.groq.com/openai/v1",
            ),
            target(
                "gateway-typo",
                "openai-compatible",
                "gpt-4o-mini-2024-07-81",
                "https://gw.example.com/v1",
            ),
            target(
                "local",
                "openai-compatible",
                "llama3.1:8b",
                "http://localhost:11434/v1",
            ),
            target(
                "ok",
                "gemini",
                "gemini-2.5-flash",
                "https://generativelanguage.googleapis.com",
            ),
        ]
        .concat(),
    )
    .unwrap();
    let w: Vec<&str> = c.warnings.iter().map(String::as_str).collect();
    let lead = "no price or context window is known for";
    let tail = "its cost is not shown and prompts are sent without a length check";
    assert_eq!(
        w,
        [
            format!("target `typo`: {lead} `gpt-4o-mini-2024-07-81` (openai): {tail}; did you mean `gpt-4o-mini-2024-07-18`?").as_str(),
            &format!("target `unknown`: {lead} `claude-house-20250101` (anthropic): {tail}; add [pricing.\"claude-house-20250101\"] with input, output and context_window (USD per million tokens), or name the entry that applies with `price_as`"),
            &format!("target `groq`: {lead} `llama-3.3-70b-versatle` (openai-compatible): {tail}; did you mean `llama-3.3-70b-versatile`?"),
            &format!("target `gateway-typo`: {lead} `gpt-4o-mini-2024-07-81` (openai-compatible): {tail}; did you mean `gpt-4o-mini-2024-07-18`?"),
        ],
        "a local model is expected to have no price: no warning"
    );
}

#[test]
fn a_priced_model_without_a_window_warns_and_an_override_gives_it_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prices.json"),
        r#"{"house/m1": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "house", "mode": "chat"}}"#,
    )
    .unwrap();
    let base = "pricing_file = \"prices.json\"\n[[target]]\nname = \"h\"\nprovider = \"openai-compatible\"\nmodel = \"house/m1\"\nbase_url = \"http://127.0.0.1:9/v1\"\n";
    let path = dir.path().join("prism.toml");
    std::fs::write(&path, base).unwrap();
    let c = load(&path).unwrap();
    assert_eq!(
        c.warnings,
        [
            "target `h`: the context window of `house/m1` is not known (entry `house/m1` lists none): prompts are sent without a length check; add context_window under [pricing.\"house/m1\"]"
        ]
    );
    std::fs::write(
        &path,
        format!("{base}[pricing.\"house/m1\"]\ncontext_window = 32768\n"),
    )
    .unwrap();
    let c = load(&path).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let p = c.prices.for_target(&c.targets[0]).unwrap();
    assert_eq!(
        (p.input, p.context_window),
        (1_000_000, Some(32_768)),
        "the map's price, the config's window"
    );
}

#[test]
fn a_pricing_file_with_a_bad_value_is_refused_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prices.json"),
        r#"{"ok": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}, "kyma/claude-haiku-4-5": {"input_cost_per_token": "1.35e-06", "output_cost_per_token": 6.75e-06}}"#,
    )
    .unwrap();
    let path = dir.path().join("prism.toml");
    std::fs::write(
        &path,
        "pricing_file = \"prices.json\"\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n",
    )
    .unwrap();
    let e = load(&path).unwrap_err().to_string();
    let json = dir.path().join("prices.json");
    assert_eq!(
        e,
        format!(
            "{}:1:16: `pricing_file` {}: entry `kyma/claude-haiku-4-5`: `input_cost_per_token` = \"1.35e-06\" is not a price in USD per token; fix or remove the entry",
            path.display(),
            json.display()
        )
    );
}

#[test]
fn prices_are_accepted_as_toml_numbers_as_well_as_strings() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"house-model\"\n[pricing.\"house-model\"]\ninput = 0.15\noutput = 3\ncached_input = \"0.075\"\n";
    let path = dir.path().join("prism.toml");
    std::fs::write(&path, text).unwrap();
    let c = load(&path).unwrap();
    let p = c.prices.lookup(ProviderKind::OpenAi, "house-model").unwrap();
    assert_eq!(
        (p.input, p.output, p.cached_input),
        (150_000, 3_000_000, Some(75_000))
    );
    let base = "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"m\"\n";
    let e = parse_str(&format!("{base}[pricing.\"m\"]\ninput = 0.0000001\noutput = 1\n")).unwrap_err();
    assert!(e.contains("at most 6 decimals"), "{e}");
    let e = parse_str(&format!("{base}[pricing.\"m\"]\ninput = true\noutput = 1\n")).unwrap_err();
    assert!(e.contains("a price is a number or a decimal string"), "{e}");
}
