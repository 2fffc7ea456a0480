use super::*;
use crate::provider::event::Usage;
use crate::target::ProviderKind;

fn price(input: &str, output: &str) -> ModelPrice {
    ModelPrice {
        input: per_million_to_pd(input).unwrap(),
        output: per_million_to_pd(output).unwrap(),
        ..ModelPrice::default()
    }
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input: Some(input),
        output: Some(output),
        ..Usage::default()
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
    assert_eq!(per_million_to_pd("."), None);
    assert_eq!(per_million_to_pd("-1"), None);
    assert_eq!(per_million_to_pd("1_000"), None);
    assert_eq!(per_million_to_pd("1.2.3"), None);
    // TOML numbers arrive as their shortest decimal text (`2.5`, `3`, `0.0000005`).
    assert_eq!(per_million_to_pd(&2.5_f64.to_string()), Some(2_500_000));
    assert_eq!(per_million_to_pd(" 0.30 "), Some(300_000));
    assert_eq!(
        per_million_to_pd("0.150000000"),
        Some(150_000),
        "zeros past 6 places are exact"
    );
    assert_eq!(per_million_to_pd(".5"), Some(500_000));
    assert_eq!(per_million_to_pd("5."), Some(5_000_000));
    assert_eq!(per_million_to_pd("18446744073709.551615"), Some(u64::MAX));
    assert_eq!(
        per_million_to_pd("18446744073709.551616"),
        None,
        "too large to hold"
    );
}

#[test]
fn totals_print_as_their_exact_decimal() {
    let total = 16_293_250_000; // picodollars
    assert_eq!(usd(total).to_string(), "0.01629325");
    assert_eq!(serde_json::to_string(&usd(total)).unwrap(), "0.01629325");
    assert_eq!(usd(300_000_000_000).to_string(), "0.3", "not 0.1 + 0.2");
    assert_eq!(usd(123_456_789_012_345).to_string(), "123.456789012345");
    assert_eq!(usd(1).to_string(), "0.000000000001");
    assert_eq!(usd(0), 0.0);
    // An older build's float sum reads back as the exact amount it meant.
    assert_eq!(usd_to_pd(0.016293250000000002), Some(total));
    assert_eq!(usd_to_pd(0.1 + 0.2), Some(300_000_000_000));
    assert_eq!(usd_to_pd(-0.1), None);
    assert_eq!(usd_to_pd(f64::NAN), None);
    assert_eq!(usd_to_pd(1e-30), Some(0));
    for pd in [1, 999, 16_293_250_000, 1_234_567_890_123, 987_654_321_987_654] {
        assert_eq!(usd_to_pd(usd(pd)), Some(pd), "{pd}");
    }
}

#[test]
fn json_prices_convert_from_their_decimal_form_rounding_half_to_even() {
    assert_eq!(usd_per_token_to_pd(1.5e-7), Some(150_000));
    assert_eq!(
        usd_per_token_to_pd(7.500000000000001e-8),
        Some(75_000),
        "float artefact"
    );
    assert_eq!(usd_per_token_to_pd(3e-6), Some(3_000_000));
    assert_eq!(usd_per_token_to_pd(0.0), Some(0));
    assert_eq!(usd_per_token_to_pd(2.0), Some(2_000_000_000_000));
    // Finer than a picodollar: to the nearest, a half to the even neighbour.
    assert_eq!(usd_per_token_to_pd(1.41953125e-7), Some(141_953), "…953.125");
    assert_eq!(usd_per_token_to_pd(1.1428571428571428e-6), Some(1_142_857));
    assert_eq!(usd_per_token_to_pd(2.5e-12), Some(2), "2.5 → 2");
    assert_eq!(usd_per_token_to_pd(3.5e-12), Some(4), "3.5 → 4");
    assert_eq!(usd_per_token_to_pd(3.6e-12), Some(4));
    assert_eq!(usd_per_token_to_pd(-1e-6), None);
    assert_eq!(usd_per_token_to_pd(f64::NAN), None);
    assert_eq!(usd_per_token_to_pd(f64::INFINITY), None);
    assert_eq!(usd_per_token_to_pd(1e8), None, "too large to hold");
    assert_eq!(usd_per_token_to_pd(1e-30), Some(0), "past a decimal's 28 places");
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
        ..Usage::default()
    };
    // 21 × 3 + 1826 × 0.30 + 188 × 3.75 + 16 × 15 (USD per million)
    let expect = 21 * 3_000_000 + 1826 * 300_000 + 188 * 3_750_000 + 16 * 15_000_000;
    assert_eq!(p.cost(&u), Some(expect));
    assert_eq!(usd(expect), 0.0015558);
    // Reasoning priced apart when the table says so, else as output.
    let mut r = price("1", "4");
    let u = Usage {
        reasoning: Some(60),
        ..usage(10, 100)
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
fn one_hour_cache_writes_cost_their_own_price() {
    let table = PriceTable::builtin().unwrap();
    // claude-haiku-4-5: $1 in, $5 out, $0.10 read, $1.25 5-minute write, $2 1-hour write.
    let p = table.lookup(ProviderKind::Anthropic, "claude-haiku-4-5").unwrap();
    assert_eq!(
        (p.cache_write, p.cache_write_1h),
        (Some(1_250_000), Some(2_000_000))
    );
    let u = Usage {
        cached_input: Some(300),
        cache_write: Some(200),
        cache_write_1h: Some(50),
        ..usage(1000, 10)
    };
    let expect = 500 * 1_000_000 + 300 * 100_000 + 150 * 1_250_000 + 50 * 2_000_000 + 10 * 5_000_000;
    assert_eq!(p.cost(&u), Some(expect));
    // Without a 1-hour price, 1-hour writes cost what other writes do.
    let mut flat = p.clone();
    flat.cache_write_1h = None;
    assert_eq!(
        flat.cost(&u),
        Some(500 * 1_000_000 + 300 * 100_000 + 200 * 1_250_000 + 10 * 5_000_000)
    );
    // A 1-hour count above the write count (a confused server) never bills negative writes.
    let odd = Usage {
        cache_write_1h: Some(900),
        ..u
    };
    assert_eq!(
        p.cost(&odd),
        Some(500 * 1_000_000 + 300 * 100_000 + 200 * 2_000_000 + 10 * 5_000_000)
    );
}

#[test]
fn sums_are_exact_where_floats_drift() {
    // 10 million single-token calls at $0.15/M: exactly $1.50. Summing 1.5e-7 in f64
    // ten million times does not give 1.5.
    let p = price("0.15", "0");
    let one = p.cost(&usage(1, 0)).unwrap();
    let total: Picodollars = (0..10_000_000u32).map(|_| one).sum();
    assert_eq!(usd(total), 1.5);
    let drift: f64 = (0..10_000_000u32).map(|_| 1.5e-7).sum();
    assert_ne!(drift, 1.5);
}

#[test]
fn builtin_table_loads_and_demo_models_are_priced() {
    let t = PriceTable::builtin().unwrap();
    assert!(t.len() > 3000, "{}", t.len());
    for (kind, m, entry) in [
        (
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=5",
            "gpt-4o-mini-2024-07-18",
        ),
        (
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-20250514",
        ),
        (
            ProviderKind::Gemini,
            "gemini-2.5-flash",
            "gemini/gemini-2.5-flash",
        ),
        (ProviderKind::OpenAi, "o4-mini-2025-04-16", "o4-mini-2025-04-16"),
    ] {
        let p = t.lookup(kind, m).unwrap_or_else(|| panic!("{m} not priced"));
        assert!(p.input > 0 && p.output > 0 && !p.source.is_empty(), "{m}");
        assert_eq!(p.entry, entry);
    }
    assert!(t.lookup(ProviderKind::OpenAi, "no-such-model").is_none());
    // A kind takes its own maker's entries only.
    assert!(t.lookup(ProviderKind::OpenAi, "claude-haiku-4-5").is_none());
    assert!(t.lookup(ProviderKind::Anthropic, "gpt-4o-mini").is_none());
    let data = t.data().unwrap();
    assert_eq!(data.builtin.as_deref(), Some("LiteLLM 1.110.2 (2026-11-30)"));
    assert!(
        format!("{t:?}").len() < 200,
        "Debug names the data, not 3,000 entries"
    );
    assert_eq!(PriceTable::default().data(), None);
}

#[test]
fn retired_models_keep_their_last_price_and_say_so() {
    let t = PriceTable::builtin().unwrap();
    let p = t
        .lookup(ProviderKind::Anthropic, "claude-sonnet-4-20250514")
        .unwrap();
    assert_eq!((p.input, p.output), (3_000_000, 15_000_000));
    assert_eq!(p.retired.as_deref(), Some("LiteLLM 1.110.2 (2026-11-30)"));
    assert_eq!(p.source, "LiteLLM@00035b69 (2026-11-21)");
    let groq = PriceQuery {
        base_url: Some("https://api.groq.com/openai/v1"),
        ..PriceQuery::new(ProviderKind::OpenAiCompatible, "llama-3.3-70b-versatile")
    };
    let p = t.find(&groq).unwrap();
    assert_eq!(
        (p.entry.as_str(), p.input, p.output),
        ("groq/llama-3.3-70b-versatile", 590_000, 790_000)
    );
    assert!(p.retired.is_some());
    // A live entry is not retired.
    assert_eq!(
        t.lookup(ProviderKind::Anthropic, "claude-haiku-4-5")
            .unwrap()
            .retired,
        None
    );
}

fn user_map(json: &str) -> Result<LiteLlmMap, PriceError> {
    load_litellm(json, "prices.json")
}

#[test]
fn a_user_map_keeps_each_entry_under_its_own_name() {
    let map = user_map(
        r#"{
  "sample_spec": {"input_cost_per_token": 0.0, "mode": "one of: chat, embedding"},
  "gemini/gemini-9-flash": {"input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06,
      "cache_read_input_token_cost": 7.500000000000001e-08, "max_input_tokens": 1048576,
      "max_output_tokens": 65535, "litellm_provider": "gemini", "mode": "chat"},
  "claude-haiku-4-5": {"input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06, "litellm_provider": "anthropic", "mode": "chat"},
  "kyma/claude-haiku-4-5": {"input_cost_per_token": 1.35e-06, "output_cost_per_token": 6.75e-06, "litellm_provider": "kyma", "mode": "chat"},
  "dall-e-9": {"output_cost_per_image": 0.04, "mode": "image_generation"},
  "house-embed": {"input_cost_per_token": 1e-07, "output_cost_per_token": 0.0, "mode": "embedding"},
  "per-second": {"input_cost_per_second": 0.001, "mode": "chat"}
}"#,
    )
    .unwrap();
    let mut keys: Vec<_> = map.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "claude-haiku-4-5",
            "gemini/gemini-9-flash",
            "kyma/claude-haiku-4-5"
        ]
    );
    let mut t = PriceTable::builtin().unwrap();
    t.set_file("prices.json", map);
    let p = t.lookup(ProviderKind::Gemini, "gemini-9-flash").unwrap();
    assert_eq!(
        (p.input, p.output, p.cached_input),
        (300_000, 2_500_000, Some(75_000))
    );
    assert_eq!((p.context_window, p.max_output), (Some(1_048_576), Some(65_535)));
    assert_eq!(p.source, "prices.json");
    // The reseller's price does not replace Anthropic's, whichever comes later in the file.
    let haiku = t.lookup(ProviderKind::Anthropic, "claude-haiku-4-5").unwrap();
    assert_eq!(
        (haiku.input, haiku.entry.as_str()),
        (1_000_000, "claude-haiku-4-5")
    );
    let kyma = PriceQuery {
        price_as: Some("kyma/claude-haiku-4-5"),
        ..PriceQuery::new(ProviderKind::OpenAiCompatible, "claude-haiku-4-5")
    };
    assert_eq!(t.find(&kyma).unwrap().input, 1_350_000);
    assert_eq!(t.data().unwrap().pricing_file.as_deref(), Some("prices.json"));
}

#[test]
fn a_value_that_is_not_a_price_is_an_error_naming_its_entry() {
    for (json, expected) in [
        (
            r#"{"m": {"input_cost_per_token": "3e-06", "output_cost_per_token": 1e-05}}"#,
            "prices.json: entry `m`: `input_cost_per_token` = \"3e-06\" is not a price in USD per token; fix or remove the entry",
        ),
        (
            r#"{"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": -1e-05}}"#,
            "prices.json: entry `m`: `output_cost_per_token` = -0.00001 is not a price in USD per token; fix or remove the entry",
        ),
        (
            r#"{"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "max_input_tokens": 128000.5}}"#,
            "prices.json: entry `m`: `max_input_tokens` = 128000.5 is not a token count; fix or remove the entry",
        ),
        (
            r#"{"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "input_cost_per_token_above_200k_tokens": null, "cache_read_input_token_cost_above_200k_tokens": true}}"#,
            "prices.json: entry `m`: `cache_read_input_token_cost_above_200k_tokens` = true is not a price in USD per token; fix or remove the entry",
        ),
        (
            r#"{"m": {"tiered_pricing": [{"range": ["a", 5], "input_cost_per_token": 1e-06}]}}"#,
            "prices.json: entry `m`: `tiered_pricing[0]` = {\"range\":[\"a\",5],\"input_cost_per_token\":1e-6} has no `range` starting at a token count; fix or remove the entry",
        ),
    ] {
        assert_eq!(user_map(json).unwrap_err().to_string(), expected);
    }
    let e = user_map("{ nope").unwrap_err();
    assert!(matches!(e, PriceError::Json { .. }), "{e:?}");
    assert!(e.to_string().starts_with("prices.json:1:"), "{e}");
    let e = user_map("[1]").unwrap_err();
    assert_eq!(e.to_string(), "prices.json: expected a JSON object of models");
}

#[test]
fn long_context_prices_the_whole_request_above_the_threshold() {
    let table = PriceTable::builtin().unwrap();
    let p = table
        .lookup(ProviderKind::Anthropic, "claude-sonnet-4-5-20250929")
        .unwrap();
    let at = |input: u64| usage(input, 1000);
    // At the threshold: $3 in, $15 out per million.
    assert_eq!(
        p.cost(&at(200_000)),
        Some(200_000 * 3_000_000 + 1000 * 15_000_000)
    );
    assert_eq!(p.charge(&at(200_000)).unwrap().tier, None);
    // One token over: every token at $6 in, $22.50 out.
    assert_eq!(
        p.cost(&at(200_001)),
        Some(200_001 * 6_000_000 + 1000 * 22_500_000)
    );
    assert_eq!(p.charge(&at(200_001)).unwrap().tier, Some(200_000));
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
fn several_tiers_take_the_highest_threshold_passed() {
    let map = user_map(
        r#"{
  "q": {"input_cost_per_token": 4.35e-08, "output_cost_per_token": 1.886e-07, "cache_read_input_token_cost": 8.1e-09,
        "input_cost_per_token_above_32k_tokens": 1.35e-07, "output_cost_per_token_above_32k_tokens": 5.4e-07,
        "input_cost_per_token_above_256k_tokens": 2.7e-07, "output_cost_per_token_above_256k_tokens": 1.08e-06,
        "input_cost_per_token_above_256k_tokens_priority": 9e-06},
  "r": {"tiered_pricing": [
        {"range": [256000.0, 1000000.0], "input_cost_per_token": 2.5e-07, "output_cost_per_token": 2e-06},
        {"range": [0, 256000.0], "input_cost_per_token": 5e-08, "output_cost_per_token": 4e-07, "output_cost_per_reasoning_token": 1e-06}]}
}"#,
    )
    .unwrap();
    let q = &map["q"];
    let tiers: Vec<_> = q
        .tiers
        .iter()
        .map(|t| (t.above, t.input, t.output, t.cached_input))
        .collect();
    assert_eq!(
        tiers,
        [
            (32_000, Some(135_000), Some(540_000), None),
            (256_000, Some(270_000), Some(1_080_000), None)
        ],
        "`_priority` prices are not tiers"
    );
    let with_cache = |input| Usage {
        cached_input: Some(1000),
        ..usage(input, 10)
    };
    assert_eq!(
        q.cost(&with_cache(32_000)),
        Some(31_000 * 43_500 + 1000 * 8_100 + 10 * 188_600)
    );
    // Above 32K: the tier's input and output, and the base cache price it does not list.
    assert_eq!(
        q.cost(&with_cache(32_001)),
        Some(31_001 * 135_000 + 1000 * 8_100 + 10 * 540_000)
    );
    assert_eq!(
        q.cost(&with_cache(256_001)),
        Some(255_001 * 270_000 + 1000 * 8_100 + 10 * 1_080_000)
    );
    let r = &map["r"];
    assert_eq!(
        (r.input, r.output, r.reasoning),
        (50_000, 400_000, Some(1_000_000))
    );
    assert_eq!(r.tiers.len(), 1);
    let thinking = Usage {
        reasoning: Some(4),
        ..usage(300_000, 10)
    };
    // The range above 256K lists no reasoning price: the base one applies.
    assert_eq!(
        r.cost(&thinking),
        Some(300_000 * 250_000 + 6 * 2_000_000 + 4 * 1_000_000)
    );
}

#[test]
fn the_1m_window_opens_only_with_its_beta_flag() {
    let table = PriceTable::builtin().unwrap();
    for model in [
        "claude-sonnet-4-20250514",
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5",
    ] {
        let p = table.lookup(ProviderKind::Anthropic, model).unwrap();
        assert_eq!(p.window_with(&[]), Some(200_000), "{model}");
        assert_eq!(
            p.window_with(&["interleaved-thinking-2025-05-14"]),
            Some(200_000),
            "{model}"
        );
        assert_eq!(
            p.window_with(&["context-1m-2025-08-07"]),
            Some(1_000_000),
            "{model}"
        );
    }
    assert_eq!(
        table
            .lookup(ProviderKind::Anthropic, "claude-opus-4-1-20250805")
            .unwrap()
            .window_with(&["context-1m-2025-08-07"]),
        Some(200_000),
        "a model without a beta window keeps its own"
    );
}

#[test]
fn litellm_long_context_prices_are_read() {
    let t = user_map(
        r#"{"m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05, "cache_read_input_token_cost_above_200k_tokens": 6e-07, "cache_creation_input_token_cost_above_1hr": 6e-06, "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05}}"#,
    )
    .unwrap();
    let p = &t["m"];
    assert_eq!(p.cache_write_1h, Some(6_000_000));
    assert_eq!(
        p.tiers,
        [Tier {
            above: 200_000,
            input: Some(6_000_000),
            output: Some(22_500_000),
            cached_input: Some(600_000),
            cache_write: None,
            cache_write_1h: Some(12_000_000),
            reasoning: None,
        }]
    );
}

#[test]
fn overrides_and_price_as_win() {
    let mut t = PriceTable::builtin().unwrap();
    t.insert("house-model", price("1", "2"));
    let q = PriceQuery::new(ProviderKind::OpenAiCompatible, "house-model+ttft=3");
    assert_eq!(t.find(&q).unwrap().input, 1_000_000);
    // price_as names the entry outright, for any kind.
    let named = PriceQuery {
        price_as: Some("claude-haiku-4-5"),
        ..PriceQuery::new(ProviderKind::OpenAi, "my-deployment")
    };
    assert_eq!(t.find(&named).unwrap().entry, "claude-haiku-4-5");
    let typo = PriceQuery {
        price_as: Some("claude-haiku-4.5"),
        ..named
    };
    assert!(t.find(&typo).is_none(), "no fallback past a price_as");
    assert_eq!(t.suggest(&typo).as_deref(), Some("claude-haiku-4-5"));
    assert_eq!(
        t.suggest(&PriceQuery::new(ProviderKind::Gemini, "gemini-2.5-flsh"))
            .as_deref(),
        Some("gemini-2.5-flash"),
        "Gemini names without their `gemini/` prefix"
    );
}

#[test]
fn an_azure_deployment_is_priced_by_price_as_then_the_served_model_then_its_name() {
    use crate::target::{KeySource, Params, Target};
    let t = PriceTable::builtin().unwrap();
    let mut target = Target {
        name: "az".into(),
        provider: ProviderKind::Azure,
        model: "chat-prod".into(),
        base_url: "https://res.openai.azure.com/openai/v1".into(),
        key: KeySource::None,
        params: Params::default(),
    };
    // Before it answers, the owner's name prices nothing.
    assert!(t.for_target(&target).is_none());
    // The model the response names is Azure's own entry, never OpenAI's.
    let served = t.for_answer(&target, Some("gpt-4o-mini-2024-07-18")).unwrap();
    assert_eq!(
        (served.entry.as_str(), served.provider.as_str()),
        ("azure/gpt-4o-mini-2024-07-18", "azure")
    );
    assert!(t.for_answer(&target, Some("house-llm-1")).is_none());
    // A deployment named after its model is priced before it answers.
    target.model = "gpt-4o".into();
    assert_eq!(t.for_target(&target).unwrap().entry, "azure/gpt-4o");
    // price_as wins over both.
    target.params.price_as = Some("azure/gpt-4o-mini".into());
    assert_eq!(
        t.for_answer(&target, Some("gpt-4o-2024-11-20")).unwrap().entry,
        "azure/gpt-4o-mini"
    );
    // Names close to a deployment's are Azure's own entries, as a deployment would be named.
    target.params.price_as = None;
    target.model = "gpt-4o-minii".into();
    assert_eq!(t.suggest(&query(&target)).as_deref(), Some("gpt-4o-mini"));
}
