//! The typed fast path of the stream decoders (src/provider/hot) against their `Value`
//! path: every wire fixture, and streams of the mock server in several shapes, decoded
//! both ways must give identical event sequences, errors included. The same replays
//! count how many events the typed path took, so a fast path that silently stopped
//! accepting anything fails here too. Plain text pieces are taken as the stream reader
//! takes them, without the decoder's `on_sse`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::time::Instant;

use prism::mock_server::MockServer;
use prism::provider::credentials::Credentials;
use prism::provider::event::StreamEvent;
use prism::provider::request::ChatRequest;
use prism::provider::secret::ApiKey;
use prism::provider::sse::{EventTemplate, SseDecoder};
use prism::provider::{Decoder, hot};
use prism::target::{Api, Protocol, ProviderKind, ProviderSpec};

/// What decoding a whole stream gave: each SSE event's events, or the error it ended with.
type Decoded = Vec<Result<Vec<StreamEvent>, String>>;

/// The row of the provider table whose decoder reads `kind`'s streams over `api`.
fn spec(kind: ProviderKind, api: Api) -> &'static ProviderSpec {
    kind.spec_for(api).unwrap()
}

/// Decode `bytes` as the stream reader does, arriving in reads of `read_len` bytes: an
/// event in the bytes of the text piece before it is taken by its template, a plain piece
/// of text without `on_sse`, anything else by `on_sse` (the `Value` path never offers a
/// plain piece, so it never learns a template and the ways are compared too). Also
/// returns how many events the template took.
fn decode_in_reads(spec: &'static ProviderSpec, bytes: &[u8], read_len: usize) -> (Decoded, usize) {
    let mut sse = SseDecoder::new();
    let mut template = EventTemplate::default();
    let mut dec = Decoder::for_spec(spec);
    let mut decoded = Vec::new();
    let mut templated = 0;
    let at = Instant::now();
    let piece = |text: &str| (!text.is_empty()).then(|| StreamEvent::TextDelta(text.into()));
    let one = |dec: &mut Decoder, template: &mut EventTemplate, event: &str, data: &str| {
        if let Some(text) = dec.plain_text(event, data) {
            template.learn(event, data, text);
            return Ok(piece(text).into_iter().collect());
        }
        let mut out = Vec::new();
        dec.on_sse(event, data, &mut out)
            .map(|()| out)
            .map_err(|e| format!("{e:?}"))
    };
    for read in bytes.chunks(read_len.max(1)) {
        let mut frames = sse.feed(read, at);
        loop {
            for text in frames.like(&mut template) {
                templated += 1;
                decoded.push(Ok(piece(text).into_iter().collect()));
            }
            let Some(f) = frames.next() else { break };
            decoded.push(one(&mut dec, &mut template, f.event, f.data));
        }
    }
    if let Some(f) = sse.finish() {
        decoded.push(one(&mut dec, &mut template, &f.event, &f.data));
    }
    (decoded, templated)
}

/// [`decode_in_reads`] with the body in one read.
fn decode(spec: &'static ProviderSpec, bytes: &[u8]) -> Decoded {
    decode_in_reads(spec, bytes, bytes.len()).0
}

/// How many of the stream's events the typed path accepts.
fn hot_events(spec: &'static ProviderSpec, bytes: &[u8]) -> usize {
    let mut sse = SseDecoder::new();
    let mut frames = Vec::new();
    sse.feed_into(bytes, Instant::now(), &mut frames);
    frames
        .iter()
        .filter(|f| match spec.protocol {
            Protocol::Messages => hot::anthropic::block_delta(&f.data).is_some(),
            Protocol::Responses => hot::responses::delta(&f.data).is_some(),
            Protocol::GenerateContent => hot::gemini::chunk(&f.data).is_some(),
            _ => hot::openai::chunk(&f.data).is_some(),
        })
        .count()
}

/// Decode `bytes` both ways; they must agree, whatever the reads it arrives in. Returns
/// how many events went the typed way.
fn both_ways(spec: &'static ProviderSpec, name: &str, bytes: &[u8]) -> usize {
    let generic = hot::value_path_only(|| decode(spec, bytes));
    assert!(!generic.is_empty(), "{name}: no events at all");
    for read_len in [bytes.len(), 1, 7, 100, 4096] {
        let (typed, _) = decode_in_reads(spec, bytes, read_len);
        assert_eq!(
            typed, generic,
            "{name} in reads of {read_len}: typed and Value paths disagree"
        );
    }
    hot_events(spec, bytes)
}

/// How many of the stream's events, in one read, its template took.
fn templated(spec: &'static ProviderSpec, bytes: &[u8]) -> usize {
    decode_in_reads(spec, bytes, bytes.len()).1
}

fn fixtures(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sse"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn every_chat_completions_fixture_decodes_the_same_both_ways() {
    let mut hot = 0;
    for dir in ["openai", "compat", "azure"] {
        for (name, bytes) in fixtures(dir) {
            hot += both_ways(spec(ProviderKind::OpenAi, Api::Chat), &name, &bytes);
            // An Azure deployment reports its model from every chunk: always the Value path.
            let azure = spec(ProviderKind::Azure, Api::Chat);
            assert_eq!(
                decode(azure, &bytes),
                hot::value_path_only(|| decode(azure, &bytes)),
                "{name}"
            );
        }
    }
    assert!(hot > 20, "the typed path took only {hot} chunks of the fixtures");
}

#[test]
fn every_messages_fixture_decodes_the_same_both_ways() {
    let mut hot = 0;
    for (name, bytes) in fixtures("anthropic") {
        hot += both_ways(spec(ProviderKind::Anthropic, Api::Chat), &name, &bytes);
    }
    assert!(hot > 10, "the typed path took only {hot} deltas of the fixtures");
}

#[test]
fn every_responses_fixture_decodes_the_same_both_ways() {
    let mut hot = 0;
    for (name, bytes) in fixtures("responses") {
        hot += both_ways(spec(ProviderKind::OpenAi, Api::Responses), &name, &bytes);
        // Azure's Responses API reads the same events.
        let azure = spec(ProviderKind::Azure, Api::Responses);
        assert_eq!(
            decode(azure, &bytes),
            hot::value_path_only(|| decode(azure, &bytes)),
            "{name}"
        );
    }
    assert!(hot > 10, "the typed path took only {hot} deltas of the fixtures");
}

#[test]
fn every_gemini_fixture_decodes_the_same_both_ways() {
    let mut hot = 0;
    for (name, bytes) in fixtures("gemini") {
        hot += both_ways(spec(ProviderKind::Gemini, Api::Chat), &name, &bytes);
    }
    assert!(hot > 5, "the typed path took only {hot} chunks of the fixtures");
}

/// Hand-made chunks at the edges of what the typed path accepts.
#[test]
fn edge_chunks_decode_the_same_both_ways() {
    let openai = [
        r#"{"choices":[{"index":0,"delta":{"content":"tab\there \"quoted\" \u00e9\ud83d\ude00"},"finish_reason":null}]}"#,
        r#"{"choices":[{"delta":{"content":"","reasoning_content":"","reasoning":"why"}}]}"#,
        r#"{"choices":[{"delta":{"content":null,"reasoning_content":"first","reasoning":"second"}}]}"#,
        r#"{"choices":[{"delta":null,"finish_reason":"length"}]}"#,
        r#"{"choices":[{"index":0,"finish_reason":"weird_reason"}]}"#,
        r#"{"choices":[{"delta":{"refusal":"","content":"x","tool_calls":null}}]}"#,
        r#"{"choices":[{"delta":{"content":"x"},"finish_reason":7}]}"#,
        r#"{"choices":[{"delta":{"content":"x","content":"y"}}]}"#,
        r#"{"choices":[{"index":0.0,"delta":{"content":"x"}}]}"#,
        r#"["choices"]"#,
        r#"{"choices":[{"delta":{"content":"\ud800"}}]}"#,
        r#"{"choices":[{"delta":{"content":"x"}}],"usage":null} trailing"#,
        "[DONE]",
    ];
    let stream: String = openai.iter().map(|d| format!("data: {d}\n\n")).collect();
    both_ways(
        spec(ProviderKind::OpenAi, Api::Chat),
        "edge chat chunks",
        stream.as_bytes(),
    );
    let anthropic = [
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#,
        r#"{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\nb","thinking":"not this"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm","text":"nor this"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"text":"no type"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":null}"#,
        r#"{"type":"content_block_delta","index":0}"#,
        r#"{"type":"message_stop"}"#,
    ];
    let stream: String = anthropic
        .iter()
        .map(|d| format!("event: content_block_delta\ndata: {d}\n\n"))
        .collect();
    both_ways(
        spec(ProviderKind::Anthropic, Api::Chat),
        "edge message deltas",
        stream.as_bytes(),
    );
    let responses = [
        r#"{"type":"response.output_text.delta","content_index":0,"delta":"a\u00e9\n","item_id":"msg_1","output_index":0,"sequence_number":1}"#,
        r#"{"type":"response.output_text.delta","content_index":0,"delta":"","item_id":"msg_1","output_index":0,"sequence_number":2}"#,
        r#"{"type":"response.output_text.delta","delta":"no indexes","sequence_number":4}"#,
        r#"{"type":"response.output_text.delta","delta":"by item","item_id":"msg_2","content_index":1}"#,
        r#"{"type":"response.output_text.delta","delta":null,"output_index":0,"sequence_number":5}"#,
        r#"{"type":"response.output_text.done","content_index":0,"text":"a\u00e9\nrepeated","item_id":"msg_1","output_index":0,"sequence_number":6}"#,
        r#"{"type":"response.output_text.done","content_index":1,"text":"only in done","output_index":0,"sequence_number":7}"#,
        r#"{"type":"response.reasoning_summary_part.added","output_index":1,"summary_index":0,"sequence_number":8}"#,
        r#"{"type":"response.reasoning_summary_text.delta","delta":"why","content_index":9,"summary_index":0,"output_index":1,"sequence_number":9}"#,
        r#"{"type":"response.reasoning_summary_part.added","output_index":1,"summary_index":1,"sequence_number":10}"#,
        r#"{"type":"response.reasoning_summary_text.delta","delta":"then","summary_index":1,"output_index":1,"sequence_number":11}"#,
        r#"{"type":"response.reasoning_text.delta","delta":"raw","content_index":0,"output_index":2,"sequence_number":11}"#,
        r#"{"type":"response.output_text.delta","delta":"x","output_index":-1,"sequence_number":12}"#,
        r#"{"type":"response.output_text.delta","delta":"x","output_index":0,"sequence_number":"13"}"#,
        r#"{"type":"response.output_text.delta","delta":"x","delta":"y","sequence_number":14}"#,
        r#"{"type":"response.output_text.delta","delta":"x","annotations":[],"sequence_number":15}"#,
        r#"{"delta":"untyped","sequence_number":16}"#,
        r#"{"type":"response.completed","response":{"status":"completed","output":[]},"sequence_number":17}"#,
    ];
    let stream: String = responses
        .iter()
        .map(|d| format!("event: response.output_text.delta\ndata: {d}\n\n"))
        .collect();
    let hot = both_ways(
        spec(ProviderKind::OpenAi, Api::Responses),
        "edge response deltas",
        stream.as_bytes(),
    );
    assert!(hot >= 8, "the typed path took only {hot} edge deltas");
    let gemini = [
        r#"{"candidates":[{"content":{"parts":[{"text":"hm","thought":true},{"text":"a\tb"},{"text":""}],"role":"model"},"index":0}],"responseId":"r1"}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"x","thought":false}]}}],"responseId":"r2","usageMetadata":{"promptTokenCount":3}}"#,
        r#"{"candidates":[{"content":null}],"usageMetadata":null}"#,
        r#"{"candidates":[{"content":{"parts":null}}],"usageMetadata":{"candidatesTokenCount":2,"thoughtsTokenCount":1,"toolUsePromptTokenCount":4}}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"y"}]},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"cachedContentTokenCount":1}}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"z","thought":"yes"}]}}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"z"}]}},{"content":{"parts":[{"text":"second"}]}}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}]}}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"z"}]}}],"usageMetadata":{"promptTokenCount":-1}}"#,
        r#"{"candidates":[],"promptFeedback":{"blockReason":"SAFETY"}}"#,
        r#"{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"#,
    ];
    let stream: String = gemini.iter().map(|d| format!("data: {d}\n\n")).collect();
    let hot = both_ways(
        spec(ProviderKind::Gemini, Api::Chat),
        "edge gemini chunks",
        stream.as_bytes(),
    );
    assert!(hot >= 4, "the typed path took only {hot} edge chunks");
}

/// One whole streamed body from the mock, over `api`.
async fn mock_body(server: &MockServer, kind: ProviderKind, api: Api, model: &str) -> Vec<u8> {
    let mut t = common::mock_target(server, "t", kind, model, 400);
    t.params.api = api;
    let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(5))
        .unwrap()
        .http;
    let creds = Credentials::from_key(t.provider.spec().auth, Some(ApiKey::new("test"))).unwrap();
    let req = prism::provider::build_request(&client, &t, &ChatRequest::single(None, "hi"), &creds).unwrap();
    let resp = client.execute(req).await.unwrap();
    assert!(resp.status().is_success(), "{model}: {}", resp.status());
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn mock_streams_decode_the_same_both_ways() {
    let server = MockServer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let directives = "ttft=0,itl=0,tokens=60";
    let (chat, responses) = (Api::Chat, Api::Responses);
    let cases = [
        (ProviderKind::OpenAi, chat, "gpt-4o-mini-2024-07-18", ""),
        (
            ProviderKind::OpenAi,
            chat,
            "gpt-4o-mini-2024-07-18",
            ",text=markdown",
        ),
        (
            ProviderKind::OpenAi,
            chat,
            "gpt-4o-mini-2024-07-18",
            ",tool=lookup",
        ),
        (ProviderKind::OpenAi, chat, "gpt-4o-mini-2024-07-18", ",refuse=1"),
        (
            ProviderKind::OpenAiCompatible,
            chat,
            "llama3.1:8b",
            ",reasoning=20,usage=none",
        ),
        (ProviderKind::Anthropic, chat, "claude-sonnet-4-20250514", ""),
        (
            ProviderKind::Anthropic,
            chat,
            "claude-sonnet-4-20250514",
            ",text=markdown,reasoning=20",
        ),
        (
            ProviderKind::Anthropic,
            chat,
            "claude-sonnet-4-20250514",
            ",tool=lookup",
        ),
        (ProviderKind::OpenAi, responses, "gpt-4o-mini-2024-07-18", ""),
        (
            ProviderKind::OpenAi,
            responses,
            "gpt-4o-mini-2024-07-18",
            ",text=markdown,reasoning=20",
        ),
        (
            ProviderKind::OpenAi,
            responses,
            "gpt-4o-mini-2024-07-18",
            ",tool=lookup",
        ),
        (
            ProviderKind::OpenAi,
            responses,
            "gpt-4o-mini-2024-07-18",
            ",refuse=1",
        ),
        (ProviderKind::Gemini, chat, "gemini-2.5-flash", ""),
        (
            ProviderKind::Gemini,
            chat,
            "gemini-2.5-flash",
            ",text=markdown,reasoning=20",
        ),
        (ProviderKind::Gemini, chat, "gemini-2.5-flash", ",tool=lookup"),
        (ProviderKind::Gemini, chat, "gemini-2.5-flash", ",usage=none"),
    ];
    for (kind, api, model, more) in cases {
        let model = format!("{model}+{directives}{more}");
        let body = mock_body(&server, kind, api, &model).await;
        let hot = both_ways(spec(kind, api), &model, &body);
        // An answer that is only a tool call or a refusal may hold no text event at all
        // (Responses streams them as their own event types): identical decoding is the
        // check there.
        if !more.contains("tool=") && !more.contains("refuse=") {
            assert!(hot > 0, "{model} over {api:?}: the typed path took nothing");
        }
        // A plain answer over the two formats read by their bytes: after the first
        // pieces, every piece is taken by its template.
        if more.is_empty() && matches!(kind, ProviderKind::OpenAi | ProviderKind::Anthropic) && api == chat {
            let taken = templated(spec(kind, api), &body);
            assert!(taken > 40, "{model}: the template took only {taken} of 60 pieces");
        }
    }
}
