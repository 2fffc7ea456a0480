//! `api = "responses"` from the config file to the bytes of the request: which row of
//! the provider table it selects, what is refused where it is written, and the exact
//! body sent (the whole conversation, `store: false`, never `previous_response_id`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Duration;

use prism::config::{Config, parse};
use prism::provider::build_request;
use prism::provider::credentials::Credentials;
use prism::provider::request::{ChatRequest, Message};
use prism::target::{Api, Protocol, Target};
use serde_json::{Value, json};

fn load(text: &str) -> Result<Config, String> {
    parse(text, Path::new("prism.toml")).map_err(|e| e.to_string())
}

fn body(target: &Target, request: &ChatRequest) -> (String, Value) {
    let client = prism::provider::client::TimedClient::new(Duration::from_secs(2))
        .unwrap()
        .http;
    let req = build_request(&client, target, request, &Credentials::None).unwrap();
    let body = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    (req.url().to_string(), body)
}

const RESPONSES: &str = r#"
[[target]]
name = "r"
provider = "openai"
api = "responses"
model = "gpt-4.1-mini-2025-04-14"
temperature = 0.5
top_p = 0.9
max_tokens = 300
seed = 7
stop = ["END"]
extra = { metadata = { run = "nightly" } }
"#;

#[test]
fn the_whole_conversation_goes_to_responses_and_nothing_is_stored() {
    let cfg = load(RESPONSES).unwrap();
    let mut t = cfg.targets[0].clone();
    assert_eq!(t.params.api, Api::Responses);
    assert_eq!(t.spec().protocol, Protocol::Responses);
    assert_eq!(t.spec().max_tokens_field, "max_output_tokens");
    t.params.reasoning_effort = Some("high".into());
    t.params.reasoning_summary = Some("detailed".into());
    let request = ChatRequest {
        system: Some("Be brief.".into()),
        messages: vec![
            Message::user("Hi"),
            Message::assistant("Hello!"),
            Message::user("Again"),
        ],
        schema: None,
    };
    let (url, sent) = body(&t, &request);
    assert_eq!(url, "https://api.openai.com/v1/responses");
    // Exact: no `seed`, no `stop`, no `previous_response_id`, no `messages`.
    assert_eq!(
        sent,
        json!({
            "model": "gpt-4.1-mini-2025-04-14",
            "instructions": "Be brief.",
            "input": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Again"},
            ],
            "max_output_tokens": 300,
            "temperature": 0.5,
            "top_p": 0.9,
            "reasoning": {"effort": "high", "summary": "detailed"},
            "store": false,
            "stream": true,
            "metadata": {"run": "nightly"},
        })
    );

    // Unset reasoning members are left out; with neither, so is `reasoning`.
    t.params.reasoning_summary = None;
    assert_eq!(body(&t, &request).1["reasoning"], json!({"effort": "high"}));
    t.params.reasoning_effort = None;
    t.params.stream = false;
    let (_, sent) = body(&t, &request);
    assert_eq!((sent.get("reasoning"), &sent["stream"]), (None, &json!(false)));
    assert_eq!(
        sent.get("instructions").and_then(Value::as_str),
        Some("Be brief.")
    );
}

#[test]
fn seed_and_stop_warn_that_they_are_not_sent() {
    let cfg = load(RESPONSES).unwrap();
    assert_eq!(
        cfg.warnings,
        [
            "target `r`: the OpenAI Responses API has no `seed` parameter; it is not sent",
            "target `r`: the OpenAI Responses API has no `stop` parameter; it is not sent",
        ]
    );
    // The same settings on Chat Completions send both, without a word.
    let chat = load(&RESPONSES.replace("api = \"responses\"\n", "")).unwrap();
    assert!(chat.warnings.is_empty(), "{:?}", chat.warnings);
    let (url, sent) = body(&chat.targets[0], &ChatRequest::single(None, "x"));
    assert!(url.ends_with("/v1/chat/completions"), "{url}");
    assert_eq!((&sent["seed"], &sent["stop"]), (&json!(7), &json!(["END"])));
}

#[test]
fn api_defaults_to_chat_is_inherited_and_is_refused_where_it_is_written() {
    let chat =
        load("[[target]]\nname = \"c\"\nprovider = \"openai\"\nmodel = \"gpt-4.1-2025-04-14\"\n").unwrap();
    assert_eq!(chat.targets[0].params.api, Api::Chat);
    assert_eq!(chat.targets[0].spec().protocol, Protocol::ChatCompletions);

    let inherited = load(
        "[defaults]\napi = \"responses\"\n\n[[target]]\nname = \"local\"\nprovider = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:8000/v1\"\nmodel = \"qwen3-8b\"\n",
    )
    .unwrap();
    let t = &inherited.targets[0];
    assert_eq!(t.spec().protocol, Protocol::Responses);
    assert_eq!(t.spec().name, "openai-compatible");
    assert_eq!(
        body(t, &ChatRequest::single(None, "x")).0,
        "http://127.0.0.1:8000/v1/responses"
    );

    let e = load("[[target]]\nname = \"a\"\nprovider = \"anthropic\"\napi = \"responses\"\nmodel = \"claude-sonnet-4-20250514\"\n")
        .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:4:7: `api`: provider `anthropic` has no `responses` API; leave `api` out (the Responses API is for openai, openai-compatible and azure targets)"
    );
    let e = load("[[target]]\nname = \"a\"\nprovider = \"openai\"\napi = \"completions\"\nmodel = \"gpt-4.1-2025-04-14\"\n")
        .unwrap_err();
    assert_eq!(
        e,
        "prism.toml:4:7: `api`: unknown api `completions`, expected `chat` or `responses`"
    );
}

#[test]
fn reasoning_settings_from_the_config_reach_the_responses_body_without_a_chat_warning() {
    let text = r#"
[[target]]
name = "r"
provider = "openai"
api = "responses"
model = "o4-mini-2025-04-16"
reasoning_effort = "low"
reasoning_summary = "auto"

[[target]]
name = "c"
provider = "openai"
model = "o4-mini-2025-04-16"
reasoning_summary = "auto"
"#;
    let cfg = load(text).unwrap();
    let summary_warnings: Vec<&String> = cfg
        .warnings
        .iter()
        .filter(|w| w.contains("reasoning_summary"))
        .collect();
    assert_eq!(summary_warnings.len(), 1, "{:?}", cfg.warnings);
    assert!(summary_warnings[0].contains("target `c`"), "{:?}", cfg.warnings);
    let (_, body) = body(&cfg.targets[0], &ChatRequest::single(None, "Hi"));
    assert_eq!(body["reasoning"], json!({"effort": "low", "summary": "auto"}));
    let (_, chat) = body_of_chat(&cfg.targets[1]);
    assert!(
        chat.get("reasoning").is_none() && chat.get("reasoning_summary").is_none(),
        "{chat}"
    );
}

fn body_of_chat(target: &Target) -> (String, Value) {
    body(target, &ChatRequest::single(None, "Hi"))
}
