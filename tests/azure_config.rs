//! `provider = "azure"` in the config: the endpoint, deployment and API version become the
//! exact URL a request goes to (classic and v1, Chat Completions and Responses), where the
//! key or token comes from, and every missing or wrong piece is an error at
//! `file:line:col` that says what to set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;

use prism::config::{Config, ConfigError, parse_with_env};
use prism::provider::build_request;
use prism::provider::credentials::Credentials;
use prism::provider::request::ChatRequest;
use prism::target::{BaseUrlSource, EntraToken, KeySource, Target};
use serde_json::Value;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    parse_with_env(text, Path::new("prism.toml"), &move |var| {
        env.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
    })
}

fn one(text: &str, env: &[(&str, &str)]) -> Target {
    let mut c = load(text, env).unwrap();
    assert_eq!(c.targets.len(), 1);
    c.targets.remove(0)
}

fn error(text: &str, env: &[(&str, &str)]) -> String {
    load(text, env).unwrap_err().to_string()
}

/// The URL, auth headers and body `model` of the request the target sends.
fn sent(t: &Target, credentials: &Credentials) -> (String, Vec<(String, String)>, Value) {
    let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(1))
        .unwrap()
        .http;
    let req = build_request(&client, t, &ChatRequest::single(None, "hi"), credentials).unwrap();
    let auth = req
        .headers()
        .iter()
        .filter(|(n, _)| matches!(n.as_str(), "api-key" | "authorization"))
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let body: Value = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    (req.url().to_string(), auth, body["model"].clone())
}

fn azure(extra: &str) -> String {
    format!("[[target]]\nname = \"az\"\nprovider = \"azure\"\n{extra}")
}

#[test]
fn classic_urls_put_the_deployment_in_the_path_and_the_version_in_the_query() {
    let t = one(
        &azure(
            "base_url = \"https://res.openai.azure.com/\"\ndeployment = \"chat-prod\"\napi_version = \"2024-10-21\"\n",
        ),
        &[],
    );
    assert_eq!(t.model, "chat-prod");
    assert_eq!(
        t.base_url,
        "https://res.openai.azure.com/openai/deployments/chat-prod?api-version=2024-10-21"
    );
    assert_eq!(t.key, KeySource::Env(vec!["AZURE_OPENAI_API_KEY".into()]));
    assert_eq!(t.params.entra, None);
    let key = Credentials::Header {
        name: "api-key",
        key: prism::provider::secret::ApiKey::new("azure-test-key-1"),
    };
    let (url, auth, model) = sent(&t, &key);
    assert_eq!(
        url,
        "https://res.openai.azure.com/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(auth, [("api-key".to_string(), "azure-test-key-1".to_string())]);
    assert_eq!(model, "chat-prod");

    // The classic Responses API is per resource: the deployment goes in `model`.
    let t = one(
        &azure(
            "api = \"responses\"\nbase_url = \"https://res.openai.azure.com\"\ndeployment = \"reasoner\"\napi_version = \"2025-04-01-preview\"\n",
        ),
        &[],
    );
    let (url, _, model) = sent(&t, &Credentials::None);
    assert_eq!(
        url,
        "https://res.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    );
    assert_eq!(model, "reasoner");
}

#[test]
fn the_v1_api_sends_the_deployment_as_the_model() {
    for extra in [
        "base_url = \"https://res.openai.azure.com\"\ndeployment = \"chat-prod\"\napi_version = \"v1\"\n",
        // Unset, with the v1 base as the endpoint: v1 even when $OPENAI_API_VERSION is set.
        "base_url = \"https://res.openai.azure.com/openai/v1/\"\ndeployment = \"chat-prod\"\n",
    ] {
        let t = one(&azure(extra), &[("OPENAI_API_VERSION", "2024-10-21")]);
        assert_eq!(t.base_url, "https://res.openai.azure.com/openai/v1", "{extra}");
        let (url, _, model) = sent(&t, &Credentials::None);
        assert_eq!(url, "https://res.openai.azure.com/openai/v1/chat/completions");
        assert_eq!(model, "chat-prod");
    }
    let t = one(
        &azure(
            "api = \"responses\"\nbase_url = \"https://res.openai.azure.com/openai/v1\"\ndeployment = \"chat-prod\"\n",
        ),
        &[],
    );
    assert_eq!(
        sent(&t, &Credentials::None).0,
        "https://res.openai.azure.com/openai/v1/responses"
    );
}

#[test]
fn the_endpoint_and_version_come_from_the_sdks_variables() {
    let c = load(
        &azure("deployment = \"chat-prod\"\n"),
        &[
            ("AZURE_OPENAI_ENDPOINT", "https://env-res.openai.azure.com"),
            ("OPENAI_API_VERSION", "2025-01-01-preview"),
        ],
    )
    .unwrap();
    let t = &c.targets[0];
    assert_eq!(
        t.base_url,
        "https://env-res.openai.azure.com/openai/deployments/chat-prod?api-version=2025-01-01-preview"
    );
    assert_eq!(
        t.params.base_url_source,
        BaseUrlSource::Env("AZURE_OPENAI_ENDPOINT".into())
    );
    assert!(
        c.warnings.iter().any(|w| w
            == "target `az`: `base_url` comes from $AZURE_OPENAI_ENDPOINT: https://env-res.openai.azure.com/openai/deployments/chat-prod?api-version=2025-01-01-preview"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn auth_is_the_key_a_token_from_a_variable_or_the_azure_cli() {
    let base = "base_url = \"https://res.openai.azure.com\"\ndeployment = \"d\"\napi_version = \"v1\"\n";
    let t = one(&azure(&format!("{base}azure_auth = \"token-env\"\n")), &[]);
    assert_eq!(t.key, KeySource::Env(vec!["AZURE_OPENAI_AD_TOKEN".into()]));
    assert_eq!(t.params.entra, Some(EntraToken::Env));
    let t = one(
        &azure(&format!(
            "{base}azure_auth = \"token-env\"\napi_key_env = \"MY_ENTRA_TOKEN\"\n"
        )),
        &[],
    );
    assert_eq!(t.key, KeySource::Env(vec!["MY_ENTRA_TOKEN".into()]));
    let t = one(&azure(&format!("{base}azure_auth = \"cli\"\n")), &[]);
    assert_eq!(
        (t.key, t.params.entra),
        (KeySource::None, Some(EntraToken::AzureCli))
    );
    let t = one(&azure(&format!("{base}api_key_env = \"TEAM_AZURE_KEY\"\n")), &[]);
    assert_eq!(
        (t.key, t.params.entra),
        (KeySource::Env(vec!["TEAM_AZURE_KEY".into()]), None)
    );

    // A token crossing the network in clear text is warned about like a key.
    let c = load(
        &azure("base_url = \"http://10.0.0.8:8080\"\ndeployment = \"d\"\napi_version = \"v1\"\nazure_auth = \"cli\"\n"),
        &[],
    )
    .unwrap();
    assert!(c.warnings[0].contains("unencrypted"), "{:?}", c.warnings);
}

#[test]
fn every_missing_or_wrong_piece_says_what_to_set_and_where() {
    let ok_base = "base_url = \"https://res.openai.azure.com\"\n";
    for (text, env, want) in [
        (
            azure(&format!("{ok_base}api_version = \"v1\"\n")),
            vec![],
            "prism.toml:1:1: target `az`: azure targets need `deployment`, the name of the model deployment in your Azure OpenAI resource",
        ),
        (
            azure("deployment = \"d\"\napi_version = \"v1\"\n"),
            vec![],
            "prism.toml:1:1: target `az`: azure targets need the resource endpoint: set `base_url = \"https://NAME.openai.azure.com\"` or $AZURE_OPENAI_ENDPOINT",
        ),
        (
            azure(&format!("{ok_base}deployment = \"d\"\n")),
            vec![],
            "prism.toml:1:1: target `az`: set `api_version`: \"v1\" for the v1 API, or a dated version such as \"2024-10-21\" (or set $OPENAI_API_VERSION)",
        ),
        (
            azure(&format!(
                "{ok_base}deployment = \"d\"\napi_version = \"2024-10\"\n"
            )),
            vec![],
            "prism.toml:6:15: `api_version` = \"2024-10\" is not an Azure OpenAI API version: use a dated one (\"2024-10-21\", \"2025-04-01-preview\") or \"v1\"",
        ),
        (
            azure(&format!("{ok_base}deployment = \"d\"\n")),
            vec![("OPENAI_API_VERSION", "latest")],
            "prism.toml:1:1: target `az` has no `api_version`, and $OPENAI_API_VERSION (`latest`) is not an Azure OpenAI API version: set `api_version` (\"2024-10-21\", or \"v1\")",
        ),
        (
            azure(
                "base_url = \"https://res.openai.azure.com/openai/v1\"\ndeployment = \"d\"\napi_version = \"2024-10-21\"\n",
            ),
            vec![],
            "prism.toml:6:15: `base_url` ends in /openai/v1, the v1 API, which takes no api-version, but `api_version` = \"2024-10-21\": remove `api_version`, or give the resource endpoint without /openai/v1",
        ),
        (
            azure(&format!("{ok_base}model = \"gpt-4o\"\napi_version = \"v1\"\n")),
            vec![],
            "prism.toml:5:9: azure targets name their `deployment`, not a `model`: set `deployment = \"gpt-4o\"` (and `price_as` to the model behind it); if `model` comes from [defaults], add `unset = [\"model\"]`",
        ),
        (
            azure(&format!(
                "{ok_base}deployment = \"my dep\"\napi_version = \"v1\"\n"
            )),
            vec![],
            "prism.toml:5:14: `deployment` = \"my dep\" is not a deployment name (no spaces, `/`, `?` or `#`)",
        ),
        (
            azure(
                "base_url = \"https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2025-01-01-preview\"\n",
            ),
            vec![],
            "prism.toml:4:12: `base_url` is a deployment's URL, and Prism builds that itself: set base_url = \"https://res.openai.azure.com\", deployment = \"gpt4o\", api_version = \"2025-01-01-preview\"",
        ),
        (
            azure(&format!(
                "{ok_base}deployment = \"d\"\napi_version = \"v1\"\nazure_auth = \"entra\"\n"
            )),
            vec![],
            "prism.toml:7:14: `azure_auth` = \"entra\": use \"key\" (the api-key header, $AZURE_OPENAI_API_KEY), \"token-env\" (a Microsoft Entra ID token from $AZURE_OPENAI_AD_TOKEN) or \"cli\" (a token from `az account get-access-token`)",
        ),
        (
            azure(&format!(
                "{ok_base}deployment = \"d\"\napi_version = \"v1\"\nazure_auth = \"cli\"\napi_key_env = \"TOKEN\"\n"
            )),
            vec![],
            "prism.toml:8:15: `api_key_env` has no use with `azure_auth = \"cli\"`: the token comes from `az account get-access-token`; remove it, or use `azure_auth = \"token-env\"` to read a token from that variable",
        ),
        (
            "[[target]]\nname = \"o\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\ndeployment = \"d\"\n"
                .to_string(),
            vec![],
            "prism.toml:5:14: `deployment` is an Azure setting; openai targets do not take it",
        ),
        (
            azure(&format!(
                "{ok_base}deployment = \"d\"\napi_version = \"v1\"\nprice_as = \" \"\n"
            )),
            vec![],
            "prism.toml:7:12: `price_as` must not be empty: name a price entry such as \"groq/llama-3.3-70b-versatile\", or remove it",
        ),
    ] {
        let env: Vec<(&str, &str)> = env;
        assert_eq!(error(&text, &env), want, "{text}");
    }
}

#[test]
fn azure_keys_come_from_defaults_and_unset_drops_them() {
    let text = "[defaults]\nprovider = \"azure\"\nbase_url = \"https://res.openai.azure.com\"\napi_version = \"2024-10-21\"\nazure_auth = \"token-env\"\n\n[[target]]\nname = \"a\"\ndeployment = \"one\"\n\n[[target]]\nname = \"b\"\ndeployment = \"two\"\nunset = [\"azure_auth\"]\n";
    let c = load(text, &[]).unwrap();
    assert_eq!(
        c.targets[0].base_url,
        "https://res.openai.azure.com/openai/deployments/one?api-version=2024-10-21"
    );
    assert_eq!(c.targets[0].params.entra, Some(EntraToken::Env));
    assert_eq!(c.targets[1].params.entra, None);
}

#[test]
fn a_deployment_nothing_prices_is_said_at_load_and_price_as_fixes_it() {
    let base =
        "base_url = \"https://res.openai.azure.com\"\ndeployment = \"chat-prod\"\napi_version = \"v1\"\n";
    let c = load(&azure(base), &[]).unwrap();
    assert!(
        c.warnings.iter().any(|w| w.starts_with(
            "target `az`: deployment `chat-prod` is not a model Prism has prices for: set `price_as`"
        )),
        "{:?}",
        c.warnings
    );
    let c = load(&azure(&format!("{base}price_as = \"gpt-4o-2024-08-06\"\n")), &[]).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.targets[0].params.price_as.as_deref(), Some("gpt-4o-2024-08-06"));
    assert!(c.prices.for_target(&c.targets[0]).is_some());
    // A `price_as` that names nothing is refused, as for every kind.
    let e = error(&azure(&format!("{base}price_as = \"gpt-4o-2099\"\n")), &[]);
    assert!(
        e.contains("target `az`: `price_as` = \"gpt-4o-2099\" is not in the price data"),
        "{e}"
    );
    // A deployment named after its model needs nothing more.
    let c = load(
        &azure("base_url = \"https://res.openai.azure.com\"\ndeployment = \"gpt-4o-mini\"\napi_version = \"v1\"\n"),
        &[],
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn family_rules_follow_the_model_behind_the_deployment() {
    let c = load(
        &azure("base_url = \"https://res.openai.azure.com\"\ndeployment = \"thinker\"\napi_version = \"v1\"\nprice_as = \"o3-2025-04-16\"\ntemperature = 0.2\n"),
        &[],
    )
    .unwrap();
    assert_eq!(c.targets[0].params.temperature, None);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("`temperature` = 0.2 is not sent")),
        "{:?}",
        c.warnings
    );
}
