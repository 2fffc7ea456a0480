use super::*;

pub(super) fn parse_str(text: &str) -> Result<Config, String> {
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
    assert_eq!(
        e,
        "prism.toml:5:1: unknown key \"temprature\" in [[target]] — did you mean \"temperature\"?"
    );
}

#[test]
fn unknown_keys_at_every_level_name_their_table_and_the_closest_key() {
    let target = "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n";
    let cases = [
        (
            format!("themme = \"dark\"\n{target}"),
            "prism.toml:1:1: unknown key \"themme\" at the top level — did you mean \"theme\"?",
        ),
        (
            format!("[defaults]\nmax_token = 5\n{target}"),
            "prism.toml:2:1: unknown key \"max_token\" in [defaults] — did you mean \"max_tokens\"?",
        ),
        (
            format!("{target}modle = \"x\"\n"),
            "prism.toml:5:1: unknown key \"modle\" in [[target]] — did you mean \"model\"?",
        ),
        (
            format!("{target}[pricing.\"m\"]\nimput = 1\n"),
            "prism.toml:6:1: unknown key \"imput\" in [pricing.\"m\"] — did you mean \"input\"?",
        ),
        (
            format!("{target}[[variant]]\nname = \"v\"\nsytem = \"x\"\n"),
            "prism.toml:7:1: unknown key \"sytem\" in [[variant]] — did you mean \"system\"?",
        ),
        (
            format!("{target}[keys.editr]\nsend = \"f5\"\n"),
            "prism.toml:5:1: unknown key mode \"editr\" in [keys.editr] — did you mean \"editor\"?",
        ),
        (
            format!("{target}[keys.global]\nsned = \"f5\"\n"),
            "prism.toml:6:8: unknown action \"sned\" in [keys.global] — did you mean \"send\"?",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_str(&text).unwrap_err(), want, "{text}");
    }
    // Nothing close: a long list points at the README instead of printing fifty keys.
    let e = parse_str(&format!("{target}colour = 1\n")).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:1: unknown key \"colour\" in [[target]] (see README, Configuration, for the keys it takes)"
    );
    let e = parse_str(&target.replace("\"openai\"", "\"ollama\"")).unwrap_err();
    assert!(
        e.starts_with("prism.toml:3:12: unknown provider \"ollama\"; valid: openai, "),
        "{e}"
    );
}

#[test]
fn bad_provider_and_missing_fields_point_at_the_table() {
    let e = parse_str("[[target]]\nname = \"a\"\nprovider = \"opneai\"\nmodel = \"m\"\n").unwrap_err();
    assert!(
        e == "prism.toml:3:12: unknown provider \"opneai\" — did you mean \"openai\"?",
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
    assert!(e.contains("unknown key \"api_key\" in [[target]]"), "{e}");
    let e = parse_str(
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"sk-abc def\"\n",
    )
    .unwrap_err();
    assert!(e.contains("never the key"), "{e}");
    assert!(!e.contains("abc def"), "{e}");
}

#[test]
fn a_key_pasted_into_api_key_env_is_refused_without_echoing_it() {
    let key = "sk-proj-Q7vZr2LmXw9TbN4kHs8YcJ1dFp6GaE3uRo5Vi0Ml";
    let e = parse_str(&format!(
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\napi_key_env = \"{key}\"\n"
    ))
    .unwrap_err();
    assert_eq!(
        e,
        format!(
            "prism.toml:5:15: `api_key_env` holds what looks like a key (`sk-p…`, {} characters), not a variable name: put the key in an environment variable and name that variable here, e.g. `api_key_env = \"OPENAI_API_KEY\"`",
            key.len()
        )
    );
    // No five characters of it in a row, anywhere in the message.
    for i in 0..key.len() - 5 {
        assert!(!e.contains(&key[i..i + 5]), "{} leaked: {e}", &key[i..i + 5]);
    }
}

#[test]
fn unpinned_models_and_anthropic_seed_warn() {
    let c = parse_str(
        "[[target]]\nname = \"s\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-0\"\nseed = 7\n",
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("claude-sonnet-4-0"));
    // The alias is in no price data, and `claude-sonnet-4-5` is another model, not a typo.
    assert_eq!(
        c.warnings[2],
        "target `s`: no price or context window is known for `claude-sonnet-4-0` (anthropic): its cost is not shown and prompts are sent without a length check; add [pricing.\"claude-sonnet-4-0\"] with input, output and context_window (USD per million tokens), or name the entry that applies with `price_as`"
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
    assert!(
        e.starts_with("prism.toml:6:10: unknown action \"launch\" in [keys.global]"),
        "{e}"
    );
    let e = parse_str(&format!("{base}[keys.panes]\nzoom = \"hyper-z\"\n")).unwrap_err();
    assert!(
        e.contains(":6:8: [keys.panes] zoom: unknown modifier `hyper`"),
        "{e}"
    );
    assert!(e.contains("e.g. `ctrl-enter`, `Ctrl+Enter`"), "{e}");
    let c = parse_str(&format!(
        "{base}[keys.global]\nsend = [\"Ctrl+Enter\", \"ctrl-enter\"]\n"
    ))
    .unwrap();
    assert_eq!(c.keys[0].2[0], c.keys[0].2[1]);
    let e = parse_str(&format!("{base}[keys.global]\nsend = \"ctrl+entr\"\n")).unwrap_err();
    assert!(
        e.starts_with(
            "prism.toml:6:8: [keys.global] send: unknown key `entr` in `ctrl+entr`: write modifiers"
        ),
        "{e}"
    );
    let e = parse_str(&format!("{base}[keys.normal]\nzoom = \"z\"\n")).unwrap_err();
    assert_eq!(
        e,
        "prism.toml:5:1: unknown key mode \"normal\" in [keys.normal]; valid: global, editor, panes, sessions"
    );
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

/// One target that takes every provider-neutral key, then `extra` lines.
fn with_lines(provider: &str, model: &str, extra: &str) -> Result<Config, String> {
    parse_str(&format!(
        "[[target]]\nname = \"a\"\nprovider = \"{provider}\"\nmodel = \"{model}\"\n{extra}"
    ))
}

#[test]
fn absurd_numbers_are_refused_with_the_key_and_the_accepted_range() {
    let seconds = "give a number of seconds from 0.001 to 86400 (one day)";
    let cases: Vec<(&str, &str, String)> = vec![
        ("idle_timeout = 1e30\n", "anthropic", format!("5:16: `idle_timeout` = 1e30 is out of range: {seconds}")),
        ("response_timeout = nan\n", "openai", format!("5:20: `response_timeout` = nan is not a number: {seconds}")),
        ("total_timeout = inf\n", "openai", format!("5:17: `total_timeout` = inf is out of range: {seconds}")),
        ("max_retry_wait = -1.5\n", "openai", format!("5:18: `max_retry_wait` = -1.5 is out of range: {seconds}")),
        ("connect_timeout = 0\n", "openai", format!("5:19: `connect_timeout` = 0 is out of range: {seconds}")),
        ("connect_timeout = 1e-9\n", "openai", format!("5:19: `connect_timeout` = 1e-9 is out of range: {seconds}")),
        ("idle_timeout = 86400.5\n", "openai", format!("5:16: `idle_timeout` = 86400.5 is out of range: {seconds}")),
        ("temperature = 2.5\n", "openai", "5:15: `temperature` = 2.5 is out of range: give a number from 0 to 2, the range openai accepts".into()),
        ("temperature = 1.5\n", "anthropic", "5:15: `temperature` = 1.5 is out of range: give a number from 0 to 1, the range anthropic accepts".into()),
        ("temperature = nan\n", "gemini", "5:15: `temperature` = nan is not a number: give a number from 0 to 2, the range gemini accepts".into()),
        ("temperature = -0.1\n", "openai", "5:15: `temperature` = -0.1 is out of range: give a number from 0 to 2, the range openai accepts".into()),
        ("top_p = 1.01\n", "gemini", "5:9: `top_p` = 1.01 is out of range: give a number from 0 to 1".into()),
        ("top_p = -inf\n", "openai", "5:9: `top_p` = -inf is out of range: give a number from 0 to 1".into()),
        ("max_tokens = 0\n", "openai", "5:14: `max_tokens` = 0 is out of range: give a whole number of tokens from 1 to 4294967295".into()),
        ("max_retries = 4294967295\n", "openai", "5:15: `max_retries` = 4294967295 is out of range: give a whole number from 0 to 100".into()),
        ("max_retries = 101\n", "openai", "5:15: `max_retries` = 101 is out of range: give a whole number from 0 to 100".into()),
    ];
    for (line, provider, expected) in cases {
        let model = match provider {
            "anthropic" => "claude-sonnet-4-20250514",
            "gemini" => "gemini-2.5-flash",
            _ => "gpt-4o-2024-08-06",
        };
        let e = with_lines(provider, model, line).unwrap_err();
        assert_eq!(e, format!("prism.toml:{expected}"), "{line}");
    }
    // Too big for the type at all: the parser says so, at the value.
    let e = with_lines("openai", "gpt-4o-2024-08-06", "max_retries = 4294967296\n").unwrap_err();
    assert!(e.starts_with("prism.toml:5:15:"), "{e}");
    let e = with_lines("openai", "gpt-4o-2024-08-06", "max_tokens = -1\n").unwrap_err();
    assert!(e.starts_with("prism.toml:5:14:"), "{e}");
}

#[test]
fn money_and_price_limits_are_refused_where_they_are_written() {
    let base = "[[target]]\nname = \"a\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\n";
    for (head, expected) in [
        (
            "budget_usd = -1\n",
            "prism.toml:1:14: `budget_usd` = -1 is out of range: give a number of US dollars, 0 or more",
        ),
        (
            "confirm_above_usd = nan\n",
            "prism.toml:1:21: `confirm_above_usd` = nan is not a number: give a number of US dollars, 0 or more",
        ),
        (
            "budget_usd = inf\n",
            "prism.toml:1:14: `budget_usd` = inf is out of range: give a number of US dollars, 0 or more",
        ),
    ] {
        assert_eq!(parse_str(&format!("{head}{base}")).unwrap_err(), expected);
    }
    let e = parse_str(&format!(
        "{base}[pricing.\"m\"]\ninput = \"1\"\noutput = \"2\"\ncontext_window = 0\n"
    ))
    .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:8:18: [pricing.\"m\"] `context_window` = 0 is out of range: give a whole number of tokens from 1 to 1000000000"
    );
    let e = parse_str(&format!(
        "{base}[pricing.\"m\"]\ninput = \"1\"\noutput = \"2\"\nmax_output = 18446744073709551615\n"
    ))
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:8:14: [pricing.\"m\"] `max_output` = 18446744073709551615 is out of range"),
        "{e}"
    );
    let e = parse_str(&format!(
        "{base}[pricing.\"m\"]\ninput = \"100000.000001\"\noutput = \"2\"\n"
    ))
    .unwrap_err();
    assert!(e.contains("`input` = \"100000.000001\" is out of range: give a price in USD per million tokens from 0 to 100000"), "{e}");
}

#[test]
fn numbers_at_the_edges_of_their_ranges_load() {
    let c = with_lines(
        "openai",
        "gpt-4o-2024-08-06",
        "temperature = 2\ntop_p = 0\nmax_tokens = 1\nmax_retries = 100\nidle_timeout = 86400\nconnect_timeout = 0.001\n",
    )
    .unwrap();
    let p = &c.targets[0].params;
    assert_eq!(
        (p.temperature, p.top_p, p.max_tokens),
        (Some(2.0), Some(0.0), Some(1))
    );
    assert_eq!(p.retry.max_retries, 100);
    assert_eq!(p.timeouts.idle, std::time::Duration::from_secs(86_400));
    assert_eq!(p.timeouts.connect, std::time::Duration::from_millis(1));
    let c = with_lines("anthropic", "claude-sonnet-4-20250514", "temperature = 1\n").unwrap();
    assert_eq!(c.targets[0].params.temperature, Some(1.0));
}

#[test]
fn a_bad_number_in_defaults_points_at_defaults() {
    let e = parse_str(
        "[defaults]\nidle_timeout = 1e30\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n",
    )
    .unwrap_err();
    assert!(
        e.starts_with("prism.toml:2:16: `idle_timeout` = 1e30 is out of range"),
        "{e}"
    );
    // [defaults] temperature 1.5 is fine for OpenAI and out of range for Anthropic.
    let e = parse_str(
        "[defaults]\ntemperature = 1.5\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\n[[target]]\nname = \"b\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\n",
    )
    .unwrap_err();
    assert!(e.starts_with("prism.toml:2:15: `temperature` = 1.5 is out of range: give a number from 0 to 1, the range anthropic accepts"), "{e}");
}

#[test]
fn http_off_this_machine_warns_once_per_target_unless_allowed() {
    let target = |name: &str, url: &str, more: &str| {
        let model = if name == "alias" { "m:latest" } else { "m" };
        format!(
            "[[target]]\nname = \"{name}\"\nprovider = \"openai-compatible\"\nmodel = \"{model}\"\nbase_url = \"{url}\"\n{more}"
        )
    };
    let c = parse_str(&format!(
        "{}{}{}{}{}",
        target("alias", "https://gw.example.com/v1", "api_key_env = \"K\"\n"),
        target("lan", "http://10.0.0.5:8000/v1", "api_key_env = \"K\"\n"),
        target("local", "http://127.0.0.1:8000/v1", "api_key_env = \"K\"\n"),
        target("keyless", "http://10.0.0.6:11434/v1", ""),
        target(
            "trusted",
            "http://10.0.0.7:8000/v1",
            "api_key_env = \"K\"\nallow_insecure_http = true\n"
        ),
    ))
    .unwrap();
    let cleartext: Vec<&String> = c.warnings.iter().filter(|w| w.contains("unencrypted")).collect();
    assert_eq!((cleartext.len(), c.warnings.len()), (1, 2), "{:?}", c.warnings);
    assert_eq!(
        c.warnings[0],
        "target `lan`: `base_url` is http:// to 10.0.0.5, so the API key and every prompt cross the network unencrypted; use https://, or set `allow_insecure_http = true` on the target if that network is trusted",
        "the cleartext warning comes first, before the alias warnings of earlier targets"
    );
    // From [defaults], and a target can take it back.
    let c = parse_str(&format!(
        "[defaults]\nallow_insecure_http = true\n{}{}",
        target("a", "http://10.0.0.5/v1", "api_key_env = \"K\"\n"),
        target(
            "b",
            "http://10.0.0.5/v1",
            "api_key_env = \"K\"\nallow_insecure_http = false\n"
        ),
    ))
    .unwrap();
    let cleartext: Vec<&String> = c.warnings.iter().filter(|w| w.contains("unencrypted")).collect();
    assert_eq!(cleartext.len(), 1, "{:?}", c.warnings);
    assert!(cleartext[0].starts_with("target `b`:"), "{:?}", cleartext);
    // A provider whose key comes from its usual variables warns too.
    let c = with_lines(
        "openai",
        "gpt-4o-2024-08-06",
        "base_url = \"http://gw.example.com/v1\"\n",
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("http:// to gw.example.com"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn extra_numbers_json_cannot_carry_are_refused_not_sent_as_null() {
    let e = with_lines(
        "openai",
        "gpt-4o-2024-08-06",
        "extra = { options = { mirostat_tau = nan }, logit_bias = [1.0, inf] }\n",
    )
    .unwrap_err();
    assert!(
        e == "prism.toml:1:1: target `a`: `extra.logit_bias[1]` = inf cannot be sent: JSON has no NaN or infinity"
            || e == "prism.toml:1:1: target `a`: `extra.options.mirostat_tau` = nan cannot be sent: JSON has no NaN or infinity",
        "{e}"
    );
    let c = with_lines(
        "openai",
        "gpt-4o-2024-08-06",
        "extra = { service_tier = \"flex\", n = 1.5 }\n",
    )
    .unwrap();
    assert_eq!(c.targets[0].params.extra["n"], 1.5);
}
