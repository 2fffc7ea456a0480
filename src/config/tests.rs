use super::*;

fn parse_str(text: &str) -> Result<Config, String> {
    parse(text, Path::new("prism.toml")).map_err(|e| e.to_string())
}

#[test]
fn defaults_merge_and_provider_defaults_apply() {
    let c = parse_str(
        r#"
[defaults]
max_tokens = 256
temperature = 0.2
extra = { user = "bench" }

[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18"
temperature = 0.9
extra = { service_tier = "flex" }

[[target]]
name = "local"
provider = "openai-compatible"
model = "llama3.1:8b"
base_url = "http://localhost:11434/v1"
stop = "END"
stream = false
"#,
    )
    .unwrap();
    let [mini, local] = &c.targets[..] else {
        panic!("two targets")
    };
    assert_eq!(mini.params.max_tokens, Some(256));
    assert_eq!(mini.params.temperature, Some(0.9));
    assert_eq!(mini.params.extra.len(), 2);
    assert_eq!(mini.base_url, "https://api.openai.com/v1");
    assert_eq!(mini.key, KeySource::Env(vec!["OPENAI_API_KEY".into()]));
    assert_eq!(local.key, KeySource::None);
    assert_eq!(local.params.stop, vec!["END".to_string()]);
    assert!(!local.params.stream);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn unknown_key_is_an_error_with_position_and_key() {
    let e = parse_str(
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\ntemprature = 0.5\n",
    )
    .unwrap_err();
    assert!(e.starts_with("prism.toml:5:1: unknown field `temprature`"), "{e}");
}

#[test]
fn bad_provider_and_missing_fields_point_at_the_table() {
    let e = parse_str("[[target]]\nname = \"a\"\nprovider = \"opneai\"\nmodel = \"m\"\n").unwrap_err();
    assert!(
        e.starts_with("prism.toml:3:12: `provider`: unknown provider `opneai`"),
        "{e}"
    );
    let e = parse_str("\n[[target]]\nname = \"a\"\nprovider = \"anthropic\"\n").unwrap_err();
    assert!(e.contains(":2:1: missing `model`"), "{e}");
    let e =
        parse_str("[[target]]\nname = \"a\"\nprovider = \"openai-compatible\"\nmodel = \"m\"\n").unwrap_err();
    assert!(e.contains("needs `base_url`"), "{e}");
}

#[test]
fn duplicate_names_syntax_errors_and_type_errors() {
    let two = "[[target]]\nname = \"a\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\n";
    let e = parse_str(&format!("{two}{two}")).unwrap_err();
    assert!(e.starts_with("prism.toml:5:1: duplicate target name `a`"), "{e}");
    let e = parse_str("[[target]\n").unwrap_err();
    assert!(e.starts_with("prism.toml:1:"), "{e}");
    let e = parse_str(&format!("{two}max_tokens = \"lots\"\n")).unwrap_err();
    assert!(e.starts_with("prism.toml:5:14:"), "{e}");
}

#[test]
fn keys_are_never_read_from_the_file() {
    let e = parse_str("[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"m\"\napi_key = \"sk-x\"\n")
        .unwrap_err();
    assert!(e.contains("unknown field `api_key`"), "{e}");
    let e = parse_str(
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"sk-abc def\"\n",
    )
    .unwrap_err();
    assert!(e.contains("never the key"), "{e}");
}

#[test]
fn unpinned_models_and_anthropic_seed_warn() {
    let c = parse_str(
        "[[target]]\nname = \"s\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-0\"\nseed = 7\n",
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("claude-sonnet-4-0"));
}

#[test]
fn missing_key_names_every_variable_tried() {
    let src = KeySource::Env(vec!["PRISM_TEST_UNSET_A".into(), "PRISM_TEST_UNSET_B".into()]);
    let e = src.resolve().unwrap_err();
    assert_eq!(e.kind, ErrorKind::MissingKey);
    assert_eq!(
        e.message,
        "no API key: set $PRISM_TEST_UNSET_A or $PRISM_TEST_UNSET_B"
    );
}

#[test]
fn theme_and_key_bindings() {
    let base = "[[target]]\nname = \"a\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\n";
    let c = parse_str(&format!(
        "theme = \"light\"\n{base}[keys.global]\nsend = [\"ctrl-r\", \"f5\"]\n[keys.panes]\nzoom = \"f\"\n"
    ))
    .unwrap();
    assert_eq!(c.theme.as_deref(), Some("light"));
    assert_eq!(c.keys.len(), 2);
    assert_eq!(c.keys[0].2.len(), 2);
    let e = parse_str(&format!("{base}[keys.global]\nlaunch = \"ctrl-l\"\n")).unwrap_err();
    assert!(e.starts_with("prism.toml:6:10: unknown action `launch`"), "{e}");
    let e = parse_str(&format!("{base}[keys.panes]\nzoom = \"hyper-z\"\n")).unwrap_err();
    assert!(
        e.contains(":6:8: [keys.panes] zoom: unknown modifier `hyper`"),
        "{e}"
    );
    let e = parse_str(&format!("{base}[keys.normal]\nzoom = \"z\"\n")).unwrap_err();
    assert!(e.contains("unknown key mode `[keys.normal]`"), "{e}");
}

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
fn defaults_cover_retry_timeout_and_counter_keys() {
    let c = parse_str(
        "[defaults]\nmax_retries = 5\nidle_timeout = 2.5\ncount_tokens = true\n[[target]]\nname = \"a\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\n",
    )
    .unwrap();
    let p = &c.targets[0].params;
    assert_eq!(p.retry.max_retries, 5);
    assert_eq!(p.timeouts.idle, std::time::Duration::from_millis(2500));
    assert!(p.count_tokens);
}
