use serde_json::Value;

use super::*;

/// A row with every field known, as a finished run that also failed would never have
/// it, so that no field can go missing unnoticed.
fn full_row() -> ResultRow {
    ResultRow {
        target: "mini".into(),
        provider: "openai".into(),
        model: "gpt-4o-mini-2024-07-18".into(),
        status: Status::Error,
        text: "Hello, \"world\"\n".into(),
        refusal: Some("I can't help with that.".into()),
        finish_reason: Some(FinishReason::ToolCalls),
        finish_reason_raw: Some("tool_use".into()),
        usage: UsageRow {
            input_tokens: Some(12),
            output_tokens: Some(34),
            cached_input_tokens: Some(5),
            cache_write_tokens: Some(6),
            cache_write_1h_tokens: Some(2),
            reasoning_tokens: Some(7),
            source: UsageSource::Estimate,
        },
        ttft_ms: Some(120.5),
        ttfb_ms: Some(30.25),
        total_ms: Some(900.125),
        itl_ms: ItlRow {
            mean: Some(8.5),
            p50: Some(8.0),
            p95: Some(12.75),
        },
        tokens_per_s: Some(41.06),
        cost_usd: Some(6.525e-6),
        http_status: Some(200),
        request_id: Some("req_1".into()),
        retries: 2,
        tool_calls: Some(vec![ToolCallRow {
            id: Some("call_1".into()),
            name: Some("get_weather".into()),
            arguments: "{\"city\":\"Oslo\"}".into(),
        }]),
        error: Some(ErrorRow {
            kind: ErrorKind::IdleTimeout,
            message: "the stream went silent".into(),
        }),
        ttft_text_ms: None,
        notes: vec!["no `data: [DONE]`".into()],
        server: Some(ServerReport {
            source: "llama.cpp timings".into(),
            queue_ms: Some(1.5),
            prompt_ms: Some(30.958),
            generation_ms: Some(661.064),
            total_ms: Some(700.0),
            prompt_tokens_per_s: Some(32.3),
            tokens_per_s: Some(52.9),
            cost_usd: Some(0.00095),
            generation_id: Some("gen-1".into()),
            ..ServerReport::default()
        }),
        endpoint: Some(EndpointRow {
            base_url: "https://gw.example.com/v1".into(),
            env: "OPENAI_BASE_URL".into(),
        }),
        arrival: Some(ArrivalRow {
            longest_gap_ms: 2000.5,
            burst_share: 0.4,
            itl_per_token_ms: Some(22.8),
        }),
        price: Some(PriceRow {
            source: "LiteLLM 1.110.2 (2026-11-30)".into(),
            entry: "gpt-4o-mini-2024-07-18".into(),
            tier: "base".into(),
            retired: Some("LiteLLM 1.111.0 (2027-01-02)".into()),
            cost_diff_usd: Some(0.000943475),
        }),
        cache: Some(CacheRow {
            read_tokens: Some(5),
            write_tokens: Some(6),
            write_1h_tokens: Some(2),
            saved_usd: Some(-0.0000015),
        }),
        schema_valid: Some(false),
        schema_errors: Some(vec![crate::schema::SchemaError {
            path: "/items/0/price".into(),
            reason: "\"2\" is not of type \"number\"".into(),
        }]),
        rounds: Some(2),
        round_usage: Some(vec![crate::provider::event::Usage {
            input: Some(10),
            output: Some(4),
            cached_input: Some(0),
            cache_write: Some(0),
            cache_write_1h: None,
            reasoning: Some(0),
        }]),
        tool_results: Some(vec![crate::provider::event::SentResult {
            call_id: "call_1".into(),
            name: "get_weather".into(),
            content: serde_json::json!({"temp_c": 21}),
            canned: true,
        }]),
    }
}

/// Every leaf of `v` is known: nothing serialized as `null`.
fn assert_no_nulls(v: &Value, at: &str) {
    match v {
        Value::Null => panic!("{at} is null"),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, v)| assert_no_nulls(v, &format!("{at}.{k}"))),
        Value::Array(a) => a.iter().for_each(|v| assert_no_nulls(v, at)),
        _ => {}
    }
}

#[test]
fn a_row_reads_back_exactly_as_it_was_written() {
    let row = full_row();
    let json = serde_json::to_string(&row).unwrap();
    assert_no_nulls(&serde_json::from_str(&json).unwrap(), "row");
    let back: ResultRow = serde_json::from_str(&json).unwrap();
    assert_eq!(back, row, "{json}");
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn a_row_recorded_before_notes_existed_loads_and_writes_back_unchanged() {
    // The shape every session so far has recorded: no `notes`, unknowns as null.
    let line = r#"{"target":"b","provider":"anthropic","model":"m","status":"cancelled","text":"","finish_reason":"cancelled","finish_reason_raw":null,"usage":{"input_tokens":null,"output_tokens":null,"cached_input_tokens":null,"cache_write_tokens":null,"reasoning_tokens":null,"source":"estimate"},"ttft_ms":null,"ttfb_ms":null,"total_ms":null,"itl_ms":{"mean":null,"p50":null,"p95":null},"tokens_per_s":null,"cost_usd":null,"http_status":null,"request_id":null,"retries":0,"tool_calls":null,"error":null}"#;
    let row: ResultRow = serde_json::from_str(line).unwrap();
    assert!(row.notes.is_empty() && row.refusal.is_none());
    assert_eq!(row.status, Status::Cancelled);
    assert_eq!(serde_json::to_string(&row).unwrap(), line);
}

#[test]
fn typed_names_serialize_as_the_strings_the_contract_documents() {
    let name = |v: Value| v.as_str().unwrap().to_string();
    for s in [Status::Ok, Status::Error, Status::Cancelled] {
        assert_eq!(name(serde_json::to_value(s).unwrap()), s.as_str());
    }
    for s in [UsageSource::Provider, UsageSource::Estimate] {
        assert_eq!(name(serde_json::to_value(s).unwrap()), s.as_str());
    }
    use FinishReason as F;
    for r in [
        F::Stop,
        F::Length,
        F::ToolCalls,
        F::ContentFilter,
        F::Refusal,
        F::Error,
        F::Cancelled,
    ] {
        assert_eq!(name(serde_json::to_value(r).unwrap()), r.as_str());
    }
    use ErrorKind as K;
    let kinds = [
        K::MissingKey,
        K::Config,
        K::Connect,
        K::Timeout,
        K::ConnectTimeout,
        K::ResponseTimeout,
        K::IdleTimeout,
        K::TotalTimeout,
        K::RateLimited,
        K::Auth,
        K::ContextLength,
        K::InvalidRequest,
        K::NotFound,
        K::Overloaded,
        K::Server,
        K::Http,
        K::Stream,
        K::Truncated,
        K::Malformed,
        K::Interrupted,
        K::Internal,
    ];
    for k in kinds {
        assert_eq!(name(serde_json::to_value(k).unwrap()), k.as_str());
    }
    // A new kind stops this match compiling until it is added to the list above.
    let _listed = |k: K| match k {
        K::MissingKey
        | K::Config
        | K::Connect
        | K::Timeout
        | K::ConnectTimeout
        | K::ResponseTimeout
        | K::IdleTimeout
        | K::TotalTimeout
        | K::RateLimited
        | K::Auth
        | K::ContextLength
        | K::InvalidRequest
        | K::NotFound
        | K::Overloaded
        | K::Server
        | K::Http
        | K::Stream
        | K::Truncated
        | K::Malformed
        | K::Interrupted
        | K::Internal => (),
    };
}
