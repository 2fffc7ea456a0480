use super::*;

fn price(input: &str, output: &str) -> ModelPrice {
    ModelPrice {
        input: per_million_to_pd(input).unwrap(),
        output: per_million_to_pd(output).unwrap(),
        ..ModelPrice::default()
    }
}

#[test]
fn decimal_prices_are_exact_picodollars() {
    assert_eq!(per_million_to_pd("0.15"), Some(150_000));
    assert_eq!(per_million_to_pd("3"), Some(3_000_000));
    assert_eq!(per_million_to_pd("0.075"), Some(75_000));
    assert_eq!(per_million_to_pd("15.000001"), Some(15_000_001));
    assert_eq!(
        per_million_to_pd("0.0000001"),
        None,
        "finer than a picodollar per token"
    );
    assert_eq!(per_million_to_pd("1e-6"), None);
    assert_eq!(per_million_to_pd(""), None);
}

#[test]
fn cost_splits_cached_writes_and_reasoning() {
    // Anthropic-style: $3 in, $15 out, $0.30 cache read, $3.75 cache write.
    let mut p = price("3", "15");
    p.cached_input = per_million_to_pd("0.30");
    p.cache_write = per_million_to_pd("3.75");
    let u = Usage {
        input: Some(2035),
        output: Some(16),
        cached_input: Some(1826),
        cache_write: Some(188),
        reasoning: None,
    };
    // 21 × 3 + 1826 × 0.30 + 188 × 3.75 + 16 × 15 (USD per million)
    let expect = 21 * 3_000_000 + 1826 * 300_000 + 188 * 3_750_000 + 16 * 15_000_000;
    assert_eq!(p.cost(&u), Some(expect));
    assert_eq!(usd(expect), 0.0015558);
    // Reasoning priced apart when the table says so, else as output.
    let mut r = price("1", "4");
    let u = Usage {
        input: Some(10),
        output: Some(100),
        reasoning: Some(60),
        ..Usage::default()
    };
    assert_eq!(r.cost(&u), Some(10 * 1_000_000 + 100 * 4_000_000));
    r.reasoning = per_million_to_pd("8");
    assert_eq!(r.cost(&u), Some(10 * 1_000_000 + 40 * 4_000_000 + 60 * 8_000_000));
    assert_eq!(
        r.cost(&Usage {
            input: Some(1),
            ..Usage::default()
        }),
        None,
        "unknown output: no cost"
    );
}

#[test]
fn sums_are_exact_where_floats_drift() {
    // 10 million single-token calls at $0.15/M: exactly $1.50. Summing 1.5e-7 in f64
    // ten million times does not give 1.5.
    let p = price("0.15", "0");
    let one = p
        .cost(&Usage {
            input: Some(1),
            output: Some(0),
            ..Usage::default()
        })
        .unwrap();
    let total: Picodollars = (0..10_000_000u32).map(|_| one).sum();
    assert_eq!(usd(total), 1.5);
    let drift: f64 = (0..10_000_000u32).map(|_| 1.5e-7).sum();
    assert_ne!(drift, 1.5);
}

#[test]
fn builtin_table_loads_and_demo_models_are_priced() {
    let t = PriceTable::builtin().unwrap();
    assert!(!t.is_empty());
    for m in [
        "gpt-4o-mini-2024-07-18+ttft=5",
        "claude-sonnet-4-20250514",
        "gemini-2.5-flash",
    ] {
        let p = t
            .lookup(ProviderKind::OpenAi, m)
            .unwrap_or_else(|| panic!("{m} not priced"));
        assert!(
            p.input > 0 && p.output > 0 && !p.source.is_empty() && !p.as_of.is_empty(),
            "{m}"
        );
    }
    assert!(t.lookup(ProviderKind::OpenAi, "no-such-model").is_none());
}

#[test]
fn litellm_format_loads_with_prefixed_keys_and_float_artefacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model_prices_and_context_window.json");
    std::fs::write(
        &path,
        r#"{
  "sample_spec": {"input_cost_per_token": 0.0},
  "gemini/gemini-9-flash": {"input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06,
      "cache_read_input_token_cost": 7.500000000000001e-08, "max_input_tokens": 1048576,
      "max_output_tokens": 65535, "litellm_provider": "gemini", "mode": "chat"},
  "dall-e-9": {"output_cost_per_image": 0.04}
}"#,
    )
    .unwrap();
    let t = load_litellm(&std::fs::read_to_string(&path).unwrap(), "test.json").unwrap();
    let p = t.lookup(ProviderKind::Gemini, "gemini-9-flash").unwrap();
    assert_eq!(
        (p.input, p.output, p.cached_input),
        (300_000, 2_500_000, Some(75_000))
    );
    assert_eq!((p.context_window, p.max_output), (Some(1_048_576), Some(65_535)));
    assert!(
        t.lookup(ProviderKind::OpenAi, "dall-e-9").is_none(),
        "not per-token priced"
    );
    let e = load_litellm("{ nope", "bad.json").unwrap_err();
    assert!(matches!(e, PriceError::Json { .. }), "{e:?}");
    assert!(e.to_string().starts_with("bad.json:1:"), "{e}");
    let e = load_litellm("[1]", "list.json").unwrap_err();
    assert_eq!(e.to_string(), "list.json: expected a JSON object of models");
    let e = PriceTable::from_toml(
        "[[model]]\nid = \"m\"\nprovider = \"openai\"\ninput = \"1.x\"\noutput = \"2\"\nsource = \"s\"\nas_of = \"d\"\n",
        "t.toml",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml: model `m`: `input` = \"1.x\" is not a decimal price"
    );
}

#[test]
fn long_context_prices_the_whole_request_above_the_threshold() {
    let table = PriceTable::builtin().unwrap();
    let p = table
        .lookup(ProviderKind::Anthropic, "claude-sonnet-4-5-20250929")
        .unwrap();
    let at = |input: u64| Usage {
        input: Some(input),
        output: Some(1000),
        ..Usage::default()
    };
    // At the threshold: $3 in, $15 out per million.
    assert_eq!(
        p.cost(&at(200_000)),
        Some(200_000 * 3_000_000 + 1000 * 15_000_000)
    );
    // One token over: every token at $6 in, $22.50 out.
    assert_eq!(
        p.cost(&at(200_001)),
        Some(200_001 * 6_000_000 + 1000 * 22_500_000)
    );
    // Cache reads above the threshold use the tier's cache price.
    let cached = Usage {
        cached_input: Some(100_000),
        ..at(300_000)
    };
    assert_eq!(
        p.cost(&cached),
        Some(200_000 * 6_000_000 + 100_000 * 600_000 + 1000 * 22_500_000)
    );
}

#[test]
fn the_1m_window_opens_only_with_its_beta_flag() {
    let table = PriceTable::builtin().unwrap();
    for model in ["claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929"] {
        let window = |betas: &[&str]| table.context_window(ProviderKind::Anthropic, model, betas);
        assert_eq!(window(&[]), Some(200_000), "{model}");
        assert_eq!(
            window(&["interleaved-thinking-2025-05-14"]),
            Some(200_000),
            "{model}"
        );
        assert_eq!(window(&["context-1m-2025-08-07"]), Some(1_000_000), "{model}");
    }
    assert_eq!(
        table.context_window(
            ProviderKind::Anthropic,
            "claude-opus-4-1-20250805",
            &["context-1m-2025-08-07"]
        ),
        Some(200_000),
        "a model without a beta window keeps its own"
    );
}

#[test]
fn litellm_long_context_prices_are_read() {
    let t = load_litellm(
        r#"{"m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05, "cache_read_input_token_cost_above_200k_tokens": 6e-07}}"#,
        "x.json",
    )
    .unwrap();
    let tier = t
        .lookup(ProviderKind::Anthropic, "m")
        .unwrap()
        .long_context
        .clone()
        .unwrap();
    assert_eq!(
        (
            tier.above,
            tier.input,
            tier.output,
            tier.cached_input,
            tier.cache_write
        ),
        (200_000, 6_000_000, 22_500_000, Some(600_000), None)
    );
}
