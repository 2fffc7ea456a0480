//! The provider table: every kind, and every API a kind offers (`api = "responses"`), has
//! a complete row, and the row's facts are what the code does (the header a built request carries, the framing and end marker of a real
//! stream from the mock, the default max tokens, which kinds have a token counter).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use prism::mock_server::MockServer;
use prism::provider::bedrock::frames::{FrameDecoder, header};
use prism::provider::credentials::Credentials;
use prism::provider::request::ChatRequest;
use prism::provider::sse::SseDecoder;
use prism::provider::{Decoder, build_request};
use prism::target::{
    Api, AuthStyle, EndMarker, Framing, KeySource, Params, ProviderKind, ProviderSpec, Target, TokenCounter,
};
use serde_json::Value;

/// The placeholder key `KeySource::Demo` reads.
const DEMO_KEY: &str = "prism-demo-placeholder";

fn model_for(kind: ProviderKind) -> &'static str {
    match kind {
        // An Azure target's model is its deployment; the mock reads directives from it.
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Azure => {
            "gpt-4o-mini-2024-07-18+ttft=0,itl=0,tokens=6,text=lorem"
        }
        ProviderKind::Anthropic => "claude-sonnet-4-20250514+ttft=0,itl=0,tokens=6,text=lorem",
        ProviderKind::Gemini => "gemini-2.5-flash+ttft=0,itl=0,tokens=6,text=lorem",
        ProviderKind::Bedrock => {
            "us.anthropic.claude-3-5-haiku-20241022-v1:0+ttft=0,itl=0,tokens=6,text=lorem"
        }
    }
}

fn target(kind: ProviderKind, base_url: String, max_tokens: Option<u32>) -> Target {
    api_target(kind, Api::Chat, base_url, max_tokens)
}

fn api_target(kind: ProviderKind, api: Api, base_url: String, max_tokens: Option<u32>) -> Target {
    Target {
        name: kind.as_str().into(),
        provider: kind,
        model: model_for(kind).into(),
        base_url,
        key: KeySource::Demo,
        params: Params {
            max_tokens,
            stream: true,
            api,
            ..Params::default()
        },
    }
}

/// Every row: each kind's own, then the other APIs it offers.
fn rows() -> Vec<(ProviderKind, Api, &'static ProviderSpec)> {
    ProviderKind::ALL
        .into_iter()
        .flat_map(|k| k.apis().map(move |a| (k, a, k.spec_for(a).unwrap())))
        .collect()
}

/// The crate's own client (it installs the TLS provider).
fn client() -> reqwest::Client {
    prism::provider::client::TimedClient::new(std::time::Duration::from_secs(2))
        .unwrap()
        .http
}

fn body_of(request: &reqwest::Request) -> Value {
    serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap()
}

#[test]
fn every_kind_has_a_complete_row() {
    let mut names = HashSet::new();
    for kind in ProviderKind::ALL {
        let spec = kind.spec();
        assert_eq!(spec.kind, kind, "{kind:?} points at another kind's row");
        assert!(names.insert(spec.name), "{kind}: name used twice");
        assert_eq!(spec.name.parse::<ProviderKind>().unwrap(), kind);
        assert!(!spec.display_name.is_empty(), "{kind}: no display name");
        for var in spec.key_envs {
            assert!(
                !var.is_empty() && var.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{kind}: `{var}` is not an environment variable name"
            );
        }
        if let Some(url) = spec.default_base_url {
            assert!(
                url.starts_with("https://"),
                "{kind}: default URL {url} is not https"
            );
            assert!(
                url.ends_with(spec.base_path),
                "{kind}: {url} lacks {}",
                spec.base_path
            );
        }
        let header = spec.auth.header_name();
        assert_eq!(
            reqwest::header::HeaderName::from_bytes(header.as_bytes())
                .unwrap()
                .as_str(),
            header,
            "{kind}: auth header must be a lowercase header name"
        );
        assert_eq!(
            Framing::of_content_type(spec.framing.content_type()),
            Some(spec.framing)
        );
        assert!(!spec.complete_when.is_empty(), "{kind}: no completion wording");
        assert!(!spec.end_marker.described().is_empty());
        assert!(!spec.max_tokens_field.is_empty(), "{kind}: no max tokens field");
        assert!(spec.max_temperature > 0.0, "{kind}: no temperature range");
    }
}

#[test]
fn an_api_row_changes_the_protocol_never_the_account() {
    let apis: Vec<_> = rows().iter().map(|(k, a, _)| format!("{k}/{a}")).collect();
    assert_eq!(
        apis,
        [
            "openai/chat",
            "openai/responses",
            "openai-compatible/chat",
            "openai-compatible/responses",
            "anthropic/chat",
            "gemini/chat",
            "bedrock/chat",
            "azure/chat",
            "azure/responses"
        ]
    );
    for (kind, api, spec) in rows() {
        let own = kind.spec();
        assert_eq!(spec.kind, kind, "{kind}/{api}");
        assert_eq!(
            (
                spec.name,
                spec.key_envs,
                spec.default_base_url,
                spec.base_path,
                spec.auth
            ),
            (
                own.name,
                own.key_envs,
                own.default_base_url,
                own.base_path,
                own.auth
            ),
            "{kind}/{api}: same name, key, endpoint and auth as the kind"
        );
        assert_eq!(
            Framing::of_content_type(spec.framing.content_type()),
            Some(spec.framing)
        );
        assert!(!spec.complete_when.is_empty() && !spec.max_tokens_field.is_empty());
        assert_eq!(api == Api::Chat, spec == own, "{kind}/{api}");
    }
}

#[test]
fn a_built_request_carries_the_rows_auth_header_and_no_other() {
    let every_auth_header: HashSet<&str> = ProviderKind::ALL
        .iter()
        .map(|k| k.spec().auth.header_name())
        .collect();
    for kind in ProviderKind::ALL {
        let spec = kind.spec();
        let t = target(kind, "http://127.0.0.1:9".into(), None);
        let credentials = Credentials::for_target(&t).unwrap();
        let req = build_request(&client(), &t, &ChatRequest::single(None, "hi"), &credentials).unwrap();
        let sent = req.headers().get(spec.auth.header_name()).unwrap();
        assert_eq!(
            sent.to_str().unwrap(),
            format!("{}{DEMO_KEY}", spec.auth.value_prefix()),
            "{kind}"
        );
        assert!(
            sent.is_sensitive(),
            "{kind}: the key header must be marked sensitive"
        );
        for other in every_auth_header
            .iter()
            .filter(|h| **h != spec.auth.header_name())
        {
            assert!(req.headers().get(*other).is_none(), "{kind} also sent {other}");
        }
        // No key, no credential header at all.
        let keyless = Credentials::from_key(spec.auth, None).unwrap();
        let bare = build_request(&client(), &t, &ChatRequest::single(None, "hi"), &keyless).unwrap();
        for h in &every_auth_header {
            assert!(
                bare.headers().get(*h).is_none(),
                "{kind}: keyless request sent {h}"
            );
        }
    }
}

#[test]
fn the_rows_max_tokens_field_and_default_are_what_is_sent() {
    for (kind, api, spec) in rows() {
        let build = |max| {
            let t = api_target(kind, api, "http://127.0.0.1:9".into(), max);
            body_of(
                &build_request(
                    &client(),
                    &t,
                    &ChatRequest::single(None, "hi"),
                    &Credentials::None,
                )
                .unwrap(),
            )
        };
        // Gemini and Bedrock nest their generation settings; the others keep them at the top.
        let field = |body: &Value| -> Option<u64> {
            body.get("generationConfig")
                .or_else(|| body.get("inferenceConfig"))
                .unwrap_or(body)
                .get(spec.max_tokens_field)
                .and_then(Value::as_u64)
        };
        assert_eq!(
            field(&build(Some(7))),
            Some(7),
            "{kind}/{api}: the row's field carries max_tokens"
        );
        assert_eq!(
            field(&build(None)),
            spec.default_max_tokens.map(u64::from),
            "{kind}/{api}: unset max_tokens sends the row's default"
        );
    }
    assert_eq!(ProviderKind::Anthropic.spec().default_max_tokens, Some(4096));
}

#[test]
fn signing_style_refuses_a_plain_key_with_a_message() {
    let e = Credentials::from_key(AuthStyle::Signed, Some(prism::provider::secret::ApiKey::new("k")))
        .unwrap_err();
    assert!(e.message.contains("signs its requests"), "{}", e.message);
}

#[tokio::test]
async fn the_mock_streams_in_the_rows_framing_and_ends_with_the_rows_marker() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let client = client();
    let request = ChatRequest::single(None, "Count these words, please.");
    for (kind, api, spec) in rows() {
        let row = format!("{kind}/{api}");
        let t = api_target(spec.kind, api, server.base_url(spec.kind), Some(64));
        let credentials = Credentials::for_target(&t).unwrap();
        let req = build_request(&client, &t, &request, &credentials).unwrap();
        let response = client.execute(req).await.unwrap();
        assert_eq!(response.status(), 200, "{row}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(
            Framing::of_content_type(&content_type),
            Some(spec.framing),
            "{row}"
        );

        let body = response.bytes().await.unwrap();
        if spec.framing == Framing::EventStream {
            let mut frames = FrameDecoder::new();
            let mut messages = Vec::new();
            frames.feed(&body, Instant::now(), &mut messages).unwrap();
            assert!(!frames.has_partial(), "{row}: a partial message at the end");
            let mut decoder = Decoder::for_protocol(spec.protocol);
            let mut out = Vec::new();
            for m in &messages {
                decoder.on_event_message(&m.message, &mut out).unwrap();
            }
            assert!(decoder.is_complete() && decoder.saw_end_marker(), "{row}");
            let EndMarker::Event(name) = spec.end_marker else {
                panic!("{row}: a binary stream ends with a named event")
            };
            let last = messages.last().unwrap();
            assert_eq!(header(&last.message, ":event-type"), Some(name), "{row}");
            continue;
        }
        let mut sse = SseDecoder::new();
        let mut frames = Vec::new();
        sse.feed_into(&body, Instant::now(), &mut frames);
        assert!(sse.finish().is_none(), "{row}: a partial event at the end");
        let mut decoder = Decoder::for_protocol(spec.protocol);
        let mut out = Vec::new();
        for f in &frames {
            decoder.on_sse(&f.event, &f.data, &mut out).unwrap();
        }
        assert!(decoder.is_complete(), "{row}");
        let last = frames.last().unwrap();
        match spec.end_marker {
            EndMarker::Data(data) => assert_eq!(last.data.trim(), data, "{row}"),
            EndMarker::Event(name) => assert_eq!(last.event, name, "{row}"),
            EndMarker::EndOfBody => {}
        }
        assert_eq!(
            decoder.saw_end_marker(),
            spec.end_marker.on_the_wire().is_some(),
            "{row}: the decoder's end marker is the row's"
        );

        // The row's counter is the one the provider answers with.
        let counted = prism::provider::count::provider_count(&client, &t, &request, &credentials)
            .await
            .unwrap();
        assert_eq!(counted.is_some(), spec.counter != TokenCounter::None, "{row}");
    }
    server.shutdown().await;
}
