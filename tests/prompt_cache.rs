//! Prompt caching end to end: the markers each provider needs, exactly where it needs them
//! and with the user's system prompt intact; a second send of the same prompt to the mock
//! reading what the first one wrote; the `cache` block of the row with `saved_usd`
//! checked against the price table; automatic caching read on OpenAI; and `extra`
//! overriding a key Prism sends reported at load. Real HTTP over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use prism::engine::metrics::TargetRun;
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::provider::request::ChatRequest;
use prism::target::{Aws, CachePlan, CacheTtl, KeySource, Params, ProviderKind, Target};
use serde_json::{Value, json};

/// A system prompt long enough for every provider's cache (over 1024 tokens).
fn long_system() -> String {
    (0..400)
        .map(|i| format!("Rule {i}: answer plainly."))
        .collect::<Vec<_>>()
        .join(" ")
}

fn plan(scope: &str, ttl: CacheTtl) -> CachePlan {
    CachePlan {
        ttl,
        ..CachePlan::parse_scope(scope).unwrap().unwrap()
    }
}

fn target(kind: ProviderKind, model: &str, base_url: String, cache: Option<CachePlan>) -> Target {
    Target {
        name: model.into(),
        provider: kind,
        model: model.into(),
        base_url,
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(64),
            stream: true,
            cache,
            aws: (kind == ProviderKind::Bedrock).then(|| Aws {
                region: "us-east-1".into(),
                profile: None,
            }),
            ..Params::default()
        },
    }
}

fn client() -> reqwest::Client {
    prism::provider::client::TimedClient::new(Duration::from_secs(2))
        .unwrap()
        .http
}

fn body_of(req: &reqwest::Request) -> Value {
    serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap()
}

#[test]
fn anthropic_marks_the_system_prompt_and_keeps_its_text() {
    let client = client();
    let request = ChatRequest::single(Some("Be brief.\n  Exactly this.".into()), "Say hi");
    for (ttl, control) in [
        (CacheTtl::FiveMinutes, json!({"type": "ephemeral"})),
        (CacheTtl::OneHour, json!({"type": "ephemeral", "ttl": "1h"})),
    ] {
        let t = target(
            ProviderKind::Anthropic,
            "claude-sonnet-4-5-20250929",
            "https://api.anthropic.com".into(),
            Some(plan("system", ttl)),
        );
        let body = body_of(&prism::provider::anthropic::build(&client, &t, &request).unwrap());
        assert_eq!(
            body,
            json!({
                "model": "claude-sonnet-4-5-20250929",
                "max_tokens": 64,
                "system": [{"type": "text", "text": "Be brief.\n  Exactly this.", "cache_control": control}],
                "messages": [{"role": "user", "content": "Say hi"}],
                "stream": true
            })
        );
    }
    // With messages: the last message's content becomes a marked block of the same text.
    let t = target(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5-20250929",
        "https://api.anthropic.com".into(),
        Some(plan("system+messages", CacheTtl::FiveMinutes)),
    );
    let body = body_of(&prism::provider::anthropic::build(&client, &t, &request).unwrap());
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Say hi", "cache_control": {"type": "ephemeral"}}]}])
    );
    // Off: the body is exactly what it was before caching existed.
    let off = target(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5-20250929",
        "https://api.anthropic.com".into(),
        None,
    );
    let body = body_of(&prism::provider::anthropic::build(&client, &off, &request).unwrap());
    assert_eq!(body["system"], json!("Be brief.\n  Exactly this."));
}

#[test]
fn bedrock_appends_cache_points_after_the_system_prompt_and_messages() {
    let client = client();
    let request = ChatRequest::single(Some("Be brief.".into()), "Say hi");
    for (ttl, point) in [
        (CacheTtl::FiveMinutes, json!({"type": "default"})),
        (CacheTtl::OneHour, json!({"type": "default", "ttl": "1h"})),
    ] {
        let t = target(
            ProviderKind::Bedrock,
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "https://bedrock-runtime.us-east-1.amazonaws.com".into(),
            Some(plan("system+messages", ttl)),
        );
        let body = body_of(&prism::provider::bedrock::build(&client, &t, &request).unwrap());
        assert_eq!(
            body,
            json!({
                "messages": [{"role": "user", "content": [{"text": "Say hi"}, {"cachePoint": point}]}],
                "system": [{"text": "Be brief."}, {"cachePoint": point}],
                "inferenceConfig": {"maxTokens": 64}
            })
        );
    }
}

async fn send(t: &Target, request: &ChatRequest, prices: &PriceTable) -> Value {
    let targets = std::slice::from_ref(t);
    let mut handle = fan_out(targets, request, RunOptions::default()).await;
    let mut run = TargetRun::default();
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        run.apply(env.at, &env.event);
    }
    handle.join().await;
    serde_json::to_value(prism::report::row(t, request, &run, prices)).unwrap()
}

/// USD from picodollars per token × tokens.
fn usd(tokens: u64, pd_per_token: i128) -> f64 {
    (i128::from(tokens) * pd_per_token) as f64 / 1e12
}

fn close(a: &Value, b: f64) {
    let a = a.as_f64().unwrap_or_else(|| panic!("saved_usd is {a}"));
    assert!((a - b).abs() < 1e-12, "saved_usd {a}, expected {b}");
}

#[tokio::test]
async fn a_second_send_reads_what_the_first_wrote_and_the_saving_follows_the_price_table() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let prices = PriceTable::builtin().unwrap();
    let cases = [
        (
            ProviderKind::Anthropic,
            "claude-sonnet-4-5-20250929",
            CacheTtl::FiveMinutes,
        ),
        (
            ProviderKind::Anthropic,
            "claude-sonnet-4-5-20250929+tokens=5",
            CacheTtl::OneHour,
        ),
        (
            ProviderKind::Bedrock,
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            CacheTtl::FiveMinutes,
        ),
    ];
    for (case, (kind, model, ttl)) in cases.into_iter().enumerate() {
        // Each case its own prompt: the server's cache is shared by model, not by TTL.
        let system = format!("Case {case}. {}", long_system());
        let request = ChatRequest::single(Some(system), "Say hi");
        let t = target(kind, model, server.base_url(kind), Some(plan("system", ttl)));
        let price = prices.for_answer(&t, None).expect("a priced model").clone();
        let input = i128::from(price.input);
        let write_rate = match ttl {
            CacheTtl::OneHour => i128::from(price.cache_write_1h.unwrap()),
            CacheTtl::FiveMinutes => i128::from(price.cache_write.unwrap()),
        };
        let read_rate = i128::from(price.cached_input.unwrap());

        let first = send(&t, &request, &prices).await;
        assert_eq!(first["status"], "ok", "{first}");
        let cache = &first["cache"];
        let written = cache["write_tokens"].as_u64().unwrap();
        assert!(written >= 1024, "{model}: the system prompt is written: {cache}");
        assert_eq!(cache["read_tokens"], 0, "{model}: {cache}");
        if ttl == CacheTtl::OneHour {
            assert_eq!(cache["write_1h_tokens"], written, "{cache}");
        }
        close(&cache["saved_usd"], -usd(written, write_rate - input));

        let second = send(&t, &request, &prices).await;
        let cache = &second["cache"];
        assert_eq!(
            cache["read_tokens"], written,
            "{model}: the second send hits: {cache}"
        );
        assert_eq!(cache["write_tokens"], 0, "{cache}");
        close(&cache["saved_usd"], usd(written, input - read_rate));
        assert_eq!(second["usage"]["cached_input_tokens"], written);
    }
    // The markers reached the server as the golden bodies above have them.
    let sent: Value = serde_json::from_str(&server.log().records()[0].body).unwrap();
    assert_eq!(sent["system"][0]["text"], format!("Case 0. {}", long_system()));
    assert_eq!(sent["system"][0]["cache_control"], json!({"type": "ephemeral"}));
    server.shutdown().await;
}

#[tokio::test]
async fn automatic_caching_is_read_on_a_repeated_long_prompt_and_short_ones_never_hit() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let prices = PriceTable::builtin().unwrap();
    for kind in [ProviderKind::OpenAi, ProviderKind::Gemini] {
        let model = match kind {
            ProviderKind::Gemini => "gemini-2.5-flash",
            _ => "gpt-4o-mini-2024-07-18",
        };
        let t = target(kind, model, server.base_url(kind), None);
        let long = ChatRequest::single(Some(long_system()), "Say hi");
        let first = send(&t, &long, &prices).await;
        assert_eq!(first["status"], "ok", "{first}");
        assert!(first.get("cache").is_none(), "nothing cached yet: {first}");
        let second = send(&t, &long, &prices).await;
        let read = second["cache"]["read_tokens"].as_u64().unwrap();
        assert!(read >= 1024 && read % 128 == 0, "{model}: {}", second["cache"]);
        let price = prices.for_answer(&t, None).unwrap();
        let per_token = i128::from(price.input) - i128::from(price.cached_input.unwrap());
        close(&second["cache"]["saved_usd"], usd(read, per_token));
        assert_eq!(
            second["cache"]["write_tokens"],
            Value::Null,
            "{}",
            second["cache"]
        );

        let short = ChatRequest::single(None, "Say hi");
        send(&t, &short, &prices).await;
        let again = send(&t, &short, &prices).await;
        assert!(again.get("cache").is_none(), "under 1024 tokens: {again}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn without_markers_anthropic_caches_nothing() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let prices = PriceTable::builtin().unwrap();
    let kind = ProviderKind::Anthropic;
    let t = target(kind, "claude-sonnet-4-5-20250929", server.base_url(kind), None);
    let request = ChatRequest::single(Some(long_system()), "Say hi");
    send(&t, &request, &prices).await;
    let second = send(&t, &request, &prices).await;
    assert!(second.get("cache").is_none(), "{second}");
    assert_eq!(second["usage"]["cached_input_tokens"], 0);
    server.shutdown().await;
}

fn load(toml: &str) -> prism::config::Config {
    prism::config::parse(toml, Path::new("prism.toml")).unwrap()
}

#[test]
fn config_keys_load_and_extra_overriding_the_system_prompt_is_reported() {
    let c = load(
        r#"
[[target]]
name = "c"
provider = "anthropic"
model = "claude-sonnet-4-5-20250929"
cache = "system+messages"
cache_ttl = "1h"
cache_messages = 2
extra = { system = "from extra", top_k = 5 }

[[target]]
name = "o"
provider = "openai"
model = "gpt-4o-mini-2024-07-18"
cache = "system"
"#,
    );
    let p = c.targets[0].params.cache.unwrap();
    assert_eq!(p.to_string(), "system+messages (1h), first 2 messages");
    assert_eq!(c.targets[1].params.cache, None);
    let said = c.warnings.join("\n");
    assert!(
        said.contains("target `c`: `extra.system` replaces the `system` Prism sends"),
        "{said}"
    );
    assert!(!said.contains("top_k"), "{said}");
    assert!(
        said.contains("target `o`: `cache` has no effect: prompt caching is automatic on OpenAI"),
        "{said}"
    );
}

#[test]
fn a_bad_cache_value_is_refused_at_its_line_and_column() {
    let err = prism::config::parse(
        "[[target]]\nname = \"c\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5-20250929\"\ncache_ttl = \"10m\"\ncache = \"system\"\n",
        Path::new("prism.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("prism.toml:5:13"), "{err}");
    assert!(err.contains("unknown cache_ttl `10m`"), "{err}");
}

#[test]
fn a_session_records_the_cache_settings_so_a_rerun_sends_the_same_markers() {
    use prism::session::schema::TargetSettings;
    let mut p = plan("system+messages", CacheTtl::OneHour);
    p.messages = Some(prism::target::MessagePrefix::First(3));
    let t = target(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5-20250929",
        "https://x".into(),
        Some(p),
    );
    let settings = TargetSettings::of(&t);
    let json = serde_json::to_value(&settings).unwrap();
    assert_eq!(
        json["cache"],
        json!({"scope": "system+messages", "ttl": "1h", "messages": 3})
    );
    let back: TargetSettings = serde_json::from_value(json).unwrap();
    assert_eq!(back.to_target().unwrap().params.cache, Some(p));
    let off = target(
        ProviderKind::Anthropic,
        "claude-sonnet-4-5-20250929",
        "https://x".into(),
        None,
    );
    assert!(
        serde_json::to_value(TargetSettings::of(&off))
            .unwrap()
            .get("cache")
            .is_none()
    );
}

#[test]
fn the_scoreboard_averages_the_saving_of_the_runs_that_report_one() {
    use prism::report::Status;
    use prism::workflows::experiment::results::RunResult;
    use prism::workflows::experiment::scoreboard::{Scored, scoreboard};
    let run = |saved: Option<f64>| Scored {
        variant: None,
        target: (0, "c".into()),
        run: RunResult {
            status: Status::Ok,
            ttft_ms: Some(10.0),
            total_ms: Some(20.0),
            tokens_per_s: Some(5.0),
            output_tokens: Some(5),
            cost_usd: Some(0.01),
            finish_reason: None,
            cache_saved_usd: saved,
            schema_valid: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            tool_calls: Vec::new(),
        },
    };
    let rows = scoreboard([run(Some(-0.002)), run(Some(0.004)), run(None)]);
    assert_eq!(rows[0].cache_saved_usd_mean, Some(0.001));
    let json = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(json["cache_saved_usd_mean"], 0.001);
    let none = serde_json::to_value(&scoreboard([run(None)])[0]).unwrap();
    assert!(none.get("cache_saved_usd_mean").is_none(), "{none}");
}

#[tokio::test]
async fn deepseek_cache_hits_are_read_from_its_own_usage_fields() {
    use common::raw::{self, RawServer};
    let server = RawServer::start(|sock, _| async move {
        let mut bytes = raw::head("200 OK", &[raw::SSE]);
        for data in [
            r#"{"id":"c","object":"chat.completion.chunk","model":"deepseek-chat","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","model":"deepseek-chat","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":1,"total_tokens":1501,"prompt_cache_hit_tokens":1280,"prompt_cache_miss_tokens":220}}"#,
            "[DONE]",
        ] {
            bytes.extend_from_slice(format!("data: {data}\n\n").as_bytes());
        }
        raw::write_then_close(sock, &bytes).await;
    })
    .await;
    let t = target(
        ProviderKind::OpenAiCompatible,
        "deepseek-chat",
        server.url(),
        None,
    );
    let row = send(
        &t,
        &ChatRequest::single(None, "Say hi"),
        &PriceTable::builtin().unwrap(),
    )
    .await;
    assert_eq!(row["usage"]["cached_input_tokens"], 1280, "{row}");
    assert_eq!(row["cache"]["read_tokens"], 1280, "{row}");
}
