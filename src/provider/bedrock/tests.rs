use std::time::{Duration, SystemTime};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue};

use super::chain::AccessKeys;
use super::*;
use crate::provider::secret::ApiKey;
use crate::target::{Aws, KeySource, Params, ProviderKind};

fn message(headers: &[(&'static str, &str)], payload: &str) -> Message {
    let mut m = Message::new(payload.as_bytes().to_vec());
    for (n, v) in headers {
        m = m.add_header(Header::new(*n, HeaderValue::String(v.to_string().into())));
    }
    // Through the wire format and back, as a stream delivers it.
    let mut bytes = Vec::new();
    write_message_to(&m, &mut bytes).unwrap();
    aws_smithy_eventstream::frame::read_message_from(bytes::Bytes::from(bytes)).unwrap()
}

fn ev(kind: &str, payload: &str) -> Message {
    message(&[(":event-type", kind), (":message-type", "event")], payload)
}

fn decode(d: &mut Decoder, events: &[(&str, &str)]) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    for (k, p) in events {
        d.on_message(&ev(k, p), &mut out).unwrap();
    }
    out
}

#[test]
fn full_stream_text_tool_reasoning_usage_and_latency() {
    let mut d = Decoder::default();
    let out = decode(
        &mut d,
        &[
            ("messageStart", r#"{"p":"abcd","role":"assistant"}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Let me think"}},"p":"ab"}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"EqQB"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AAEC"}}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"text":"Hello"}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":1}"#),
            (
                "contentBlockStart",
                r#"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"city\":"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":2}"#),
        ],
    );
    assert!(!d.is_complete());
    assert_eq!(
        out,
        vec![
            StreamEvent::ReasoningDelta("Let me think".into()),
            StreamEvent::TextDelta("Hello".into()),
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 0,
                id: Some("tooluse_1".into()),
                name: Some("get_weather".into()),
                arguments: String::new()
            })),
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 0,
                arguments: "{\"city\":".into(),
                ..Default::default()
            })),
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 0,
                arguments: "\"Paris\"}".into(),
                ..Default::default()
            })),
        ]
    );
    let tail = decode(&mut d, &[("messageStop", r#"{"stopReason":"tool_use"}"#)]);
    assert_eq!(
        tail,
        vec![StreamEvent::Finish(Finish {
            reason: FinishReason::ToolCalls,
            raw: Some("tool_use".into())
        })]
    );
    assert!(!d.is_complete(), "messageStop alone does not complete the answer");
    let tail = decode(
        &mut d,
        &[(
            "metadata",
            r#"{"usage":{"inputTokens":10,"outputTokens":20,"totalTokens":1130,"cacheReadInputTokens":1000,"cacheWriteInputTokens":100},"metrics":{"latencyMs":842}}"#,
        )],
    );
    assert!(d.is_complete());
    assert_eq!(
        tail,
        vec![
            StreamEvent::Usage(Box::new(Usage {
                input: Some(1110),
                output: Some(20),
                cached_input: Some(1000),
                cache_write: Some(100),
                cache_write_1h: None,
                reasoning: None
            })),
            StreamEvent::Server(Box::new(ServerReport {
                source: "bedrock metrics".into(),
                total_ms: Some(842.0),
                ..ServerReport::default()
            })),
        ]
    );
}

#[test]
fn every_stop_reason_maps_and_keeps_its_raw_word() {
    let cases = [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
        ("malformed_model_output", FinishReason::Error),
        ("malformed_tool_use", FinishReason::Error),
        ("a_reason_from_the_future", FinishReason::Stop),
    ];
    for (raw, reason) in cases {
        let mut d = Decoder::default();
        let out = decode(
            &mut d,
            &[("messageStop", &format!(r#"{{"stopReason":"{raw}"}}"#))],
        );
        assert_eq!(
            out,
            vec![StreamEvent::Finish(Finish {
                reason,
                raw: Some(raw.into())
            })],
            "{raw}"
        );
    }
}

#[test]
fn exception_messages_fail_with_the_right_kind_and_retry() {
    let cases = [
        ("throttlingException", ErrorKind::RateLimited, true),
        ("modelStreamErrorException", ErrorKind::Stream, true),
        ("validationException", ErrorKind::InvalidRequest, false),
        ("serviceUnavailableException", ErrorKind::Overloaded, true),
        ("internalServerException", ErrorKind::Server, true),
    ];
    for (kind, error_kind, retryable) in cases {
        let m = message(
            &[
                (":exception-type", kind),
                (":message-type", "exception"),
                (":content-type", "application/json"),
            ],
            r#"{"message":"Too many tokens, please wait"}"#,
        );
        let e = Decoder::default().on_message(&m, &mut Vec::new()).unwrap_err();
        assert_eq!((e.kind, e.retryable), (error_kind, retryable), "{kind}");
        assert_eq!(
            e.message,
            format!("error inside the stream: {kind}: Too many tokens, please wait")
        );
    }
    let m = message(
        &[
            (":message-type", "error"),
            (":error-code", "InternalFailure"),
            (":error-message", "boom"),
        ],
        "",
    );
    let e = Decoder::default().on_message(&m, &mut Vec::new()).unwrap_err();
    assert_eq!(e.message, "error inside the stream: InternalFailure: boom");
}

#[test]
fn a_whole_converse_response() {
    let body = r#"{"metrics":{"latencyMs":523},"output":{"message":{"content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"x"}}},{"text":"Hi there"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":1}}}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":12,"outputTokens":3,"totalTokens":15}}"#;
    let mut d = Decoder::default();
    let mut out = Vec::new();
    d.on_body(body, &mut out).unwrap();
    assert!(d.is_complete());
    assert_eq!(out[0], StreamEvent::ReasoningDelta("hmm".into()));
    assert_eq!(out[1], StreamEvent::TextDelta("Hi there".into()));
    assert_eq!(
        out[2],
        StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index: 0,
            id: Some("t1".into()),
            name: Some("f".into()),
            arguments: "{\"a\":1}".into()
        }))
    );
    assert!(out.contains(&StreamEvent::Usage(Box::new(Usage {
        input: Some(12),
        output: Some(3),
        ..Usage::default()
    }))));
    assert!(
        out.iter()
            .any(|e| matches!(e, StreamEvent::Server(r) if r.total_ms == Some(523.0)))
    );
}

fn target(model: &str, params: Params) -> Target {
    Target {
        name: "b".into(),
        provider: ProviderKind::Bedrock,
        model: model.into(),
        base_url: "https://bedrock-runtime.us-east-1.amazonaws.com".into(),
        key: KeySource::Demo,
        params,
    }
}

fn client() -> reqwest::Client {
    crate::provider::client::TimedClient::new(Duration::from_secs(2))
        .unwrap()
        .http
}

#[test]
fn the_body_is_converse_shaped_and_extra_merges_deeply() {
    let mut extra = Map::new();
    extra.insert("additionalModelRequestFields".into(), json!({"top_k": 200}));
    extra.insert("performanceConfig".into(), json!({"latency": "optimized"}));
    let params = Params {
        temperature: Some(0.5),
        top_p: Some(0.9),
        max_tokens: Some(2048),
        stop: vec!["END".into()],
        stream: true,
        system: Some("Be brief.".into()),
        thinking: Some(Thinking::Budget(1024)),
        extra,
        ..Params::default()
    };
    let t = target("us.anthropic.claude-sonnet-4-20250514-v1:0", params);
    let req = build(&client(), &t, &ChatRequest::single(None, "hi")).unwrap();
    assert_eq!(
        req.url().as_str(),
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream"
    );
    let body: Value = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({
            "messages": [{"role": "user", "content": [{"text": "hi"}]}],
            "system": [{"text": "Be brief."}],
            "inferenceConfig": {"maxTokens": 2048, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_k": 200},
            "performanceConfig": {"latency": "optimized"}
        })
    );
}

#[test]
fn arns_and_profiles_pass_through_encoded_and_stream_false_calls_converse() {
    assert_eq!(
        path(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            true
        ),
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream"
    );
    let t = target("amazon.nova-pro-v1:0", Params::default());
    let req = build(&client(), &t, &ChatRequest::single(None, "hi")).unwrap();
    assert!(req.url().path().ends_with("/amazon.nova-pro-v1%3A0/converse"));
    let body: Value = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    assert!(body.get("inferenceConfig").is_none(), "nothing set, nothing sent");
}

fn keys(token: Option<&str>) -> AccessKeys {
    AccessKeys {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: ApiKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: token.map(ApiKey::new),
        source: "test".into(),
    }
}

/// 2015-08-30T12:36:00Z, the AWS SigV4 test suite's clock.
fn suite_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn authorization(req: &reqwest::Request) -> &str {
    req.headers()["authorization"].to_str().unwrap()
}

#[test]
fn sigv4_matches_the_aws_test_suite_vectors() {
    // get-vanilla and post-vanilla.
    for (method, sig) in [
        (
            reqwest::Method::GET,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            reqwest::Method::POST,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
    ] {
        let mut req = reqwest::Request::new(method, "https://example.amazonaws.com/".parse().unwrap());
        sign::sign_at(&mut req, &keys(None), "us-east-1", "service", suite_time()).unwrap();
        assert_eq!(
            authorization(&req),
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}"
            )
        );
        assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
        assert!(req.headers()["authorization"].is_sensitive());
    }
    // post-sts-header-before: the session token is sent and signed.
    let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
    let mut req = reqwest::Request::new(
        reqwest::Method::POST,
        "https://example.amazonaws.com/".parse().unwrap(),
    );
    sign::sign_at(&mut req, &keys(Some(token)), "us-east-1", "service", suite_time()).unwrap();
    assert!(authorization(&req).ends_with("SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
    assert_eq!(req.headers()["x-amz-security-token"], token);
    assert!(req.headers()["x-amz-security-token"].is_sensitive());
}

#[test]
fn signing_again_replaces_the_old_signature() {
    let t = target("m", Params::default());
    let mut req = build(&client(), &t, &ChatRequest::single(None, "hi")).unwrap();
    sign::sign_at(
        &mut req,
        &keys(Some("tok1")),
        "us-east-1",
        "bedrock",
        suite_time(),
    )
    .unwrap();
    let first = authorization(&req).to_string();
    assert!(first.contains("/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"), "{first}");
    let later = suite_time() + Duration::from_secs(90);
    sign::sign_at(&mut req, &keys(None), "us-east-1", "bedrock", later).unwrap();
    assert_ne!(authorization(&req), first);
    assert_eq!(req.headers().get_all("authorization").iter().count(), 1);
    assert_eq!(req.headers()["x-amz-date"], "20150830T123730Z");
    assert!(
        req.headers().get("x-amz-security-token").is_none(),
        "the old token is gone"
    );
}

#[test]
fn a_target_without_a_region_cannot_sign() {
    let mut t = target(
        "m",
        Params {
            aws: Some(Aws::default()),
            ..Params::default()
        },
    );
    t.key = KeySource::None;
    // Whatever the environment holds, no region means no signature (or no credentials).
    if let Err(e) = credentials(&t) {
        assert!(
            matches!(e.kind, ErrorKind::Config | ErrorKind::MissingKey),
            "{e:?}"
        );
    }
}
