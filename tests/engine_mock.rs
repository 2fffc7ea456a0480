//! The engine end to end: real adapters over real loopback HTTP against the mock server,
//! every provider kind, success and fault paths, all targets in one fan-out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunHandle, RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::event::{ErrorKind, FinishReason};
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, ProviderKind, Target, Timeouts};

/// The output tokens the mock reports for `t`: OpenAI kinds count the text and reasoning
/// they sent with the model's tokenizer, the others report the `scripted` pieces.
fn reported(t: &Target, r: &TargetRun, scripted: u64) -> u64 {
    if matches!(t.provider, ProviderKind::OpenAi | ProviderKind::OpenAiCompatible) {
        let (encoding, _) = prism::tokens::encoding_for(&t.model);
        (prism::tokens::count(encoding, &r.text) + prism::tokens::count(encoding, &r.reasoning)) as u64
    } else {
        scripted
    }
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

fn target(server: &MockServer, name: &str, provider: ProviderKind, model: &str) -> Target {
    common::mock_target(server, name, provider, model, 256)
}

/// Every provider kind with the same directives.
fn one_of_each(server: &MockServer, directives: &str) -> Vec<Target> {
    vec![
        target(
            server,
            "openai",
            ProviderKind::OpenAi,
            &format!("gpt-4o-mini-2024-07-18+{directives}"),
        ),
        target(
            server,
            "compat",
            ProviderKind::OpenAiCompatible,
            &format!("llama3.1:8b+{directives}"),
        ),
        target(
            server,
            "anthropic",
            ProviderKind::Anthropic,
            &format!("claude-sonnet-4-20250514+{directives}"),
        ),
        target(
            server,
            "gemini",
            ProviderKind::Gemini,
            &format!("gemini-2.5-flash+{directives}"),
        ),
    ]
}

async fn drain(mut handle: RunHandle, n: usize) -> Vec<TargetRun> {
    let mut runs = vec![TargetRun::default(); n];
    let mut terminals = vec![0; n];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        if env.event.is_terminal() {
            terminals[env.target] += 1;
        }
        runs[env.target].apply(env.at, &env.event);
    }
    assert!(
        terminals.iter().all(|&t| t == 1),
        "exactly one terminal event per target: {terminals:?}"
    );
    handle.join().await;
    runs
}

async fn run_all(targets: &[Target], opts: RunOptions) -> Vec<TargetRun> {
    let handle = fan_out(
        targets,
        &ChatRequest::single(Some("Be brief.".into()), "Say hello."),
        opts,
    )
    .await;
    drain(handle, targets.len()).await
}

#[tokio::test]
async fn every_kind_streams_text_usage_and_metrics() {
    let server = mock().await;
    let targets = one_of_each(&server, "ttft=30,itl=2,tokens=25,text=lorem");
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}", t.name);
        assert!(!r.text.is_empty(), "{}", t.name);
        // OpenAI kinds count the text sent with the model's tokenizer; the others report
        // the scripted pieces.
        let want = reported(t, r, 25);
        assert_eq!(
            r.usage.output,
            Some(want),
            "{}: output tokens as the mock reports",
            t.name
        );
        assert!(r.usage.input.is_some_and(|n| n > 0), "{}", t.name);
        assert_eq!(
            r.finish_reason().map(|f| f.0),
            Some(FinishReason::Stop),
            "{}",
            t.name
        );
        assert_eq!(r.http_status, Some(200));
        assert!(
            r.connect.is_some(),
            "{}: a fresh client opened a connection",
            t.name
        );
        let id = r.request_id.clone().unwrap_or_default();
        let sent = server
            .log()
            .find(&id)
            .unwrap_or_else(|| panic!("{}: mock has no record of {id}", t.name));
        // Causality, not timing: nothing is measured before the mock sent it.
        let first = r.first_content_at.unwrap();
        assert!(first >= sent.first_content_at.unwrap(), "{}", t.name);
        assert!(r.ttft().unwrap() <= r.total().unwrap());
        assert!(
            r.itl().is_some() && r.tokens_per_s(r.usage.output).is_some(),
            "{}",
            t.name
        );
        assert!(sent.completed && !sent.client_disconnected, "{}", t.name);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn length_cap_tools_reasoning_and_missing_usage() {
    let server = mock().await;
    let mut capped = target(
        &server,
        "capped",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514+ttft=5,itl=1,tokens=50",
    );
    capped.params.max_tokens = Some(10);
    let targets = vec![
        capped,
        target(
            &server,
            "tool",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=5,itl=1,tool=get_weather",
        ),
        target(
            &server,
            "think",
            ProviderKind::Gemini,
            "gemini-2.5-flash+ttft=5,itl=1,tokens=10,reasoning=6",
        ),
        target(
            &server,
            "bare",
            ProviderKind::OpenAiCompatible,
            "qwen3+ttft=5,itl=1,tokens=12,usage=none,auth=none",
        ),
    ];
    let runs = run_all(&targets, RunOptions::default()).await;
    assert_eq!(runs[0].finish_reason().map(|f| f.0), Some(FinishReason::Length));
    assert_eq!(runs[0].usage.output, Some(10));
    assert_eq!(
        runs[1].finish_reason().map(|f| f.0),
        Some(FinishReason::ToolCalls)
    );
    assert_eq!(runs[1].tool_calls[0].name.as_deref(), Some("get_weather"));
    assert!(serde_json::from_str::<serde_json::Value>(&runs[1].tool_calls[0].arguments).is_ok());
    assert!(!runs[2].reasoning.is_empty() && runs[2].usage.reasoning == Some(6));
    assert!(
        runs[2].first_content_at <= runs[2].first_text_at,
        "reasoning came first"
    );
    assert_eq!(
        runs[3].usage.output, None,
        "no usage from the server: the report estimates it"
    );
    assert_eq!(runs[3].outcome, Some(Outcome::Done));
    server.shutdown().await;
}

fn failed_kind(r: &TargetRun) -> Option<ErrorKind> {
    match &r.outcome {
        Some(Outcome::Failed(e)) => Some(e.kind),
        _ => None,
    }
}

#[tokio::test]
async fn faults_end_in_clear_errors_with_partial_text_kept() {
    let server = mock().await;
    for (fault, kind, keeps_text) in [
        ("drop_mid", ErrorKind::Truncated, true),
        ("no_terminator", ErrorKind::Truncated, true),
        ("malformed", ErrorKind::Malformed, true),
        ("html200", ErrorKind::Malformed, false),
        ("500", ErrorKind::Server, false),
        ("401", ErrorKind::Auth, false),
        ("400ctx", ErrorKind::ContextLength, false),
    ] {
        let mut targets = one_of_each(&server, &format!("ttft=5,itl=1,tokens=20,after=8,fault={fault}"));
        // A healthy neighbour in the same run must be untouched.
        targets.push(target(
            &server,
            "healthy",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=5,itl=1,tokens=20",
        ));
        let runs = run_all(&targets, RunOptions::default()).await;
        for (t, r) in targets.iter().zip(&runs).take(4) {
            assert_eq!(
                failed_kind(r),
                Some(kind),
                "{fault} on {}: {:?}",
                t.name,
                r.outcome
            );
            assert_eq!(
                !r.text.is_empty(),
                keeps_text,
                "{fault} on {}: text {:?}",
                t.name,
                r.text
            );
            if let Some(Outcome::Failed(e)) = &r.outcome {
                assert!(!e.message.contains('{'), "{fault} on {}: {}", t.name, e.message);
            }
        }
        assert_eq!(runs[4].outcome, Some(Outcome::Done), "{fault}: healthy target");
        assert_eq!(runs[4].usage.output, Some(reported(&targets[4], &runs[4], 20)));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limits_and_overload_are_retryable_with_the_server_wait_kept() {
    let server = mock().await;
    let mut targets = one_of_each(&server, "fault=429,retry_after=7");
    targets.push(target(
        &server,
        "overloaded",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514+fault=529",
    ));
    for t in &mut targets {
        t.params.retry.max_retries = 0;
    }
    let runs = run_all(&targets, RunOptions::default()).await;
    for r in &runs[..4] {
        let Some(Outcome::Failed(e)) = &r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(
            (e.kind, e.http_status, e.retryable),
            (ErrorKind::RateLimited, Some(429), true)
        );
        assert_eq!(
            e.retry_after,
            Some(Duration::from_secs(7)),
            "the server's wait is kept"
        );
    }
    let openai_limits = &runs[0].rate_limits;
    assert!(
        openai_limits.iter().any(|(k, v)| k == "retry-after" && v == "7"),
        "{openai_limits:?}"
    );
    assert_eq!(failed_kind(&runs[4]), Some(ErrorKind::Overloaded));
    server.shutdown().await;
}

#[tokio::test]
async fn cancel_one_target_closes_its_connection_and_keeps_text() {
    let server = mock().await;
    let targets = vec![
        target(
            &server,
            "stalls",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=5,itl=1,tokens=40,after=5,fault=stall_mid",
        ),
        target(
            &server,
            "fine",
            ProviderKind::Gemini,
            "gemini-2.5-flash+ttft=5,itl=1,tokens=15",
        ),
    ];
    let mut handle = fan_out(&targets, &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); 2];
    let mut open = 2;
    let mut cancelled = false;
    while open > 0 {
        let env = handle.events.recv().await.unwrap();
        if env.event.is_terminal() {
            open -= 1;
        }
        runs[env.target].apply(env.at, &env.event);
        // Pieces that come in one read arrive as one run: count them, not events.
        if env.target == 0 && !cancelled && runs[0].content_events >= 4 {
            handle.cancel(0);
            cancelled = true;
        }
    }
    handle.join().await;
    assert_eq!(runs[0].outcome, Some(Outcome::Cancelled));
    assert_eq!(
        runs[0].finish_reason().map(|f| f.0),
        Some(FinishReason::Cancelled)
    );
    assert!(!runs[0].text.is_empty());
    assert_eq!(runs[1].outcome, Some(Outcome::Done));
    // The mock notices the closed connection (it stops generating, and billing, at once).
    let id = runs[0].request_id.clone().unwrap();
    let mut gone = false;
    for _ in 0..100 {
        if server.log().find(&id).is_some_and(|r| r.client_disconnected) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the mock saw the client go away");
    server.shutdown().await;
}

/// An idle limit of `idle`, and no retries.
fn quick_idle_limit(targets: &mut [Target], idle: Duration) {
    for t in targets {
        t.params.timeouts = Timeouts {
            headers: Duration::from_secs(5),
            idle,
            ..Timeouts::default()
        };
        t.params.retry.max_retries = 0;
    }
}

#[tokio::test]
async fn stalls_hit_the_idle_timeout_and_refused_connections_fail_cleanly() {
    let server = mock().await;
    let mut targets = one_of_each(&server, "ttft=5,itl=1,tokens=20,after=3,fault=stall_mid");
    let closed = {
        // Bind then drop: a port with nobody listening.
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        l.local_addr().unwrap()
    };
    let mut refused = target(&server, "refused", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18");
    refused.base_url = format!("http://{closed}/v1");
    targets.push(refused);
    // A stall after content is never retried; the refused connection is, so keep it quick.
    quick_idle_limit(&mut targets, Duration::from_millis(300));
    let opts = RunOptions::default();
    let runs = run_all(&targets, opts).await;
    for r in &runs[..4] {
        assert_eq!(failed_kind(r), Some(ErrorKind::IdleTimeout), "{:?}", r.outcome);
        assert!(!r.text.is_empty());
    }
    assert_eq!(failed_kind(&runs[4]), Some(ErrorKind::Connect));
    assert_eq!(runs[4].http_status, None);
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_longer_than_the_idle_limit_whose_gaps_are_shorter_is_not_idle() {
    // The idle limit counts from the last chunk, not from the start: an answer of 20
    // tokens 40 ms apart lasts ~800 ms, five times the limit, and never falls silent
    // for it. (The reader's one timer fires at its first deadline and is moved on then,
    // so this is the case that moving it must get right.)
    let server = mock().await;
    let mut targets = one_of_each(&server, "ttft=5,itl=40,tokens=20");
    quick_idle_limit(&mut targets, Duration::from_millis(150));
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}: {:?}", t.name, r.outcome);
        let (Some(first), Some(last)) = (r.first_content_at, r.last_content_at) else {
            panic!("{}: no content", t.name)
        };
        assert!(
            last - first > Duration::from_millis(300),
            "{}: the answer outlasted the idle limit",
            t.name
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn non_streaming_mode_and_missing_keys() {
    let server = mock().await;
    let mut targets = one_of_each(&server, "ttft=5,tokens=12");
    for t in &mut targets {
        t.params.stream = false;
    }
    let mut keyless = target(
        &server,
        "keyless",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514",
    );
    keyless.key = KeySource::Env(vec!["PRISM_TEST_SURELY_UNSET_KEY".into()]);
    targets.push(keyless);
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs[..4]) {
        assert_eq!(r.outcome, Some(Outcome::Done));
        assert_eq!(r.usage.output, Some(reported(t, r, 12)));
        assert_eq!(
            r.first_content_at, r.last_content_at,
            "a whole body arrives at once"
        );
        assert_eq!(r.itl(), None);
    }
    let Some(Outcome::Failed(e)) = &runs[4].outcome else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::MissingKey);
    assert!(e.message.contains("$PRISM_TEST_SURELY_UNSET_KEY"));
    assert_eq!(runs[4].dispatched_at, None, "nothing was sent");
    server.shutdown().await;
}

#[tokio::test]
async fn retries_follow_the_policy_and_are_counted() {
    let server = mock().await;
    // A 429 with Retry-After: 0 on the first request only: one retry, then success.
    let mut targets = one_of_each(
        &server,
        "ttft=5,itl=1,tokens=10,fault=429,retry_after=0,fail_first=1",
    );
    // 529 every time: two retries, then the error, saying so.
    targets.push(target(
        &server,
        "always529",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514+fault=529",
    ));
    // 401: never retried.
    targets.push(target(
        &server,
        "auth",
        ProviderKind::OpenAi,
        "gpt-4o-mini-2024-07-18+fault=401",
    ));
    // Dropped after content: kept as it is, never re-sent.
    targets.push(target(
        &server,
        "dropped",
        ProviderKind::Gemini,
        "gemini-2.5-flash+ttft=5,itl=1,tokens=10,after=4,fault=drop_mid",
    ));
    // The server asks for longer than the policy allows: fail at once, naming the wait.
    targets.push(target(
        &server,
        "patient",
        ProviderKind::OpenAi,
        "gpt-4o-mini-2024-07-18+fault=429,retry_after=600",
    ));
    for t in &mut targets {
        t.params.retry.base = Duration::from_millis(1);
        t.params.retry.cap = Duration::from_millis(5);
    }
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs[..4]) {
        assert_eq!(
            (r.outcome.clone(), r.retries),
            (Some(Outcome::Done), 1),
            "{:?}",
            r.outcome
        );
        assert_eq!(r.usage.output, Some(reported(t, r, 10)));
    }
    let Some(Outcome::Failed(e)) = &runs[4].outcome else {
        panic!()
    };
    assert_eq!((e.kind, runs[4].retries), (ErrorKind::Overloaded, 2));
    assert!(e.message.ends_with("(gave up after 2 retries)"), "{}", e.message);
    assert_eq!(
        (failed_kind(&runs[5]), runs[5].retries),
        (Some(ErrorKind::Auth), 0)
    );
    assert_eq!(
        (failed_kind(&runs[6]), runs[6].retries),
        (Some(ErrorKind::Truncated), 0)
    );
    assert!(!runs[6].text.is_empty());
    let Some(Outcome::Failed(e)) = &runs[7].outcome else {
        panic!()
    };
    assert_eq!(runs[7].retries, 0);
    assert!(e.message.contains("asked to wait 600.0 s"), "{}", e.message);
    // The mock saw exactly the requests the policy allows.
    let count = |model: &str| {
        server
            .log()
            .records()
            .iter()
            .filter(|r| r.model.contains(model))
            .count()
    };
    assert_eq!(count("fault=529"), 3);
    assert_eq!(count("fault=401"), 1);
    assert_eq!(count("fault=drop_mid"), 1, "no silent re-send after content");
    server.shutdown().await;
}

#[tokio::test]
async fn fault_matrix_retryable_faults_recover_and_nothing_is_left_open() {
    let server = mock().await;
    for (fault, retries) in [
        ("fault=503,fail_first=1", 1),
        // Anthropic's overloaded status; the other kinds answer with their own 503 wording.
        ("fault=529,fail_first=1", 1),
        // Like the real APIs, the mock names a wait on every 429 (20 s unless told);
        // backoff without one is pinned by the retry module's unit tests.
        ("fault=429,retry_after=0,fail_first=1", 1),
        // No hints at all: exponential backoff with full jitter decides the wait.
        ("fault=429,hints=none,fail_first=1", 1),
        // Headers, then silence: the idle timeout fires before any byte of the body.
        ("fault=stall_first,fail_first=1", 1),
    ] {
        let mut targets = one_of_each(&server, &format!("ttft=5,itl=1,tokens=12,{fault}"));
        targets.push(target(
            &server,
            "healthy",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=5,itl=1,tokens=12",
        ));
        for t in &mut targets {
            t.params.retry.base = Duration::from_millis(1);
            t.params.retry.cap = Duration::from_millis(5);
            t.params.timeouts.idle = Duration::from_millis(400);
        }
        let runs = run_all(&targets, RunOptions::default()).await;
        for (t, r) in targets.iter().zip(&runs).take(4) {
            assert_eq!(r.outcome, Some(Outcome::Done), "{fault} on {}", t.name);
            assert_eq!(
                (r.retries, r.usage.output),
                (retries, Some(reported(t, r, 12))),
                "{fault} on {}",
                t.name
            );
        }
        assert_eq!(
            (runs[4].outcome.clone(), runs[4].retries),
            (Some(Outcome::Done), 0),
            "{fault}: neighbour"
        );
    }
    // Every response the mock started has ended: finished, or seen to be abandoned.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let open: Vec<_> = server
        .log()
        .records()
        .into_iter()
        .filter(|r| r.first_content_at.is_some() && !r.completed && !r.client_disconnected)
        .collect();
    assert!(open.is_empty(), "responses still open: {open:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_one_megabyte_line_and_a_five_megabyte_response_stream_whole() {
    let server = mock().await;
    let mut targets = one_of_each(&server, "ttft=0,itl=0,tokens=8,fault=big_line,after=4");
    // ~20k events of ~250 bytes: about 5 MB on the wire.
    let mut big = one_of_each(&server, "ttft=0,itl=0,tokens=20000,text=lorem");
    targets.append(&mut big);
    for t in &mut targets {
        t.params.max_tokens = Some(50_000);
    }
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs).take(4) {
        assert_eq!(
            r.outcome,
            Some(Outcome::Done),
            "big_line on {}: {:?}",
            t.name,
            r.outcome
        );
        assert!(r.text.len() > 1 << 20, "{}: {} bytes", t.name, r.text.len());
    }
    for (t, r) in targets.iter().zip(&runs).skip(4) {
        assert_eq!(r.outcome, Some(Outcome::Done), "5 MB on {}", t.name);
        assert_eq!(r.usage.output, Some(reported(t, r, 20_000)), "{}", t.name);
    }
    let wire: usize = server
        .log()
        .records()
        .iter()
        .filter(|r| r.model.contains("tokens=20000"))
        .map(|r| r.content_events)
        .sum();
    assert_eq!(wire, 4 * 20_000);
    server.shutdown().await;
}

#[tokio::test]
async fn the_servers_wait_is_honoured() {
    let server = mock().await;
    let targets = one_of_each(
        &server,
        "ttft=0,itl=0,tokens=4,fault=429,retry_after=1,fail_first=1",
    );
    let runs = run_all(&targets, RunOptions::default()).await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(
            (r.outcome.clone(), r.retries),
            (Some(Outcome::Done), 1),
            "{}",
            t.name
        );
        let (_, _, wait, _) = r.retry_note.clone().unwrap();
        assert_eq!(
            wait,
            Duration::from_secs(1),
            "{}: the wait the server named",
            t.name
        );
        // Lower bound only (sleeps never end early): the second request came at least
        // the named wait after the first.
        let tries: Vec<_> = server
            .log()
            .records()
            .into_iter()
            .filter(|x| x.model == t.model)
            .collect();
        assert_eq!(tries.len(), 2, "{}", t.name);
        assert!(
            tries[1].received_at.duration_since(tries[0].received_at) >= Duration::from_secs(1),
            "{}",
            t.name
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn provider_token_counters_answer_for_anthropic_and_gemini() {
    prism::tokens::warm_up();
    let server = mock().await;
    let request = ChatRequest::single(Some("Be brief.".into()), "Count these words, please.");
    // The mock counts o200k tokens of all texts joined, plus 3 per message and 3 more.
    let expected = (prism::tokens::count_o200k("Be brief.Count these words, please.") + 3 + 3) as u64;
    let client = prism::provider::client::TimedClient::new(Duration::from_secs(5))
        .unwrap()
        .http;
    for t in [
        target(&server, "a", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
        target(&server, "g", ProviderKind::Gemini, "gemini-2.5-flash"),
    ] {
        let credentials = prism::provider::credentials::Credentials::for_target(&t).unwrap();
        let n = prism::provider::count::provider_count(&client, &t, &request, &credentials)
            .await
            .unwrap();
        assert_eq!(n, Some(expected), "{}", t.name);
    }
    let openai = target(&server, "o", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        prism::provider::count::provider_count(
            &client,
            &openai,
            &request,
            &prism::provider::credentials::Credentials::None
        )
        .await
        .unwrap(),
        None,
        "no counter: local is exact"
    );
    let counts = server
        .log()
        .records()
        .iter()
        .filter(|r| r.path.contains("count"))
        .count();
    assert_eq!(counts, 2, "one round trip per counted target");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_runner_blocks_a_prompt_its_provider_counts_too_long() {
    use prism::tui::effects::executor::{Executor, NoTerminal};
    use prism::tui::model::msg::{Effect, Job, Msg};
    prism::tokens::warm_up();
    let server = mock().await;
    // A 200k-token window (Sonnet 4's is 1M).
    let mut claude = target(
        &server,
        "claude",
        ProviderKind::Anthropic,
        "claude-opus-4-1-20250805",
    );
    claude.params.count_tokens = true;
    let mut ok = target(
        &server,
        "ok",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514+ttft=1,itl=0,tokens=3",
    );
    ok.params.count_tokens = true;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = Executor::new(prism::pricing::PriceTable::builtin().unwrap());
    // ~210k tokens against a 200k window, by the provider's own count.
    let long = ChatRequest::single(None, "word ".repeat(210_000));
    let job = |pane, target, request| Job {
        pane,
        target,
        request,
        history: vec![],
        blocked: None,
    };
    let start = |run, job: Job| Effect::StartRun {
        run: prism::engine::RunId(run),
        turn: 1,
        system: None,
        prompt: job.request.messages[0].content.clone(),
        jobs: vec![job],
    };
    runner.apply(start(1, job(3, claude, long)), &tx, &mut NoTerminal);
    let short = ChatRequest::single(None, "hi");
    runner.apply(start(2, job(5, ok, short)), &tx, &mut NoTerminal);
    let mut runs = std::collections::HashMap::new();
    let mut ended = 0;
    while ended < 2 {
        let Some(Msg::Stream { pane, env }) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
        else {
            continue;
        };
        if env.event.is_terminal() {
            ended += 1;
        }
        runs.entry(pane)
            .or_insert_with(TargetRun::default)
            .apply(env.at, &env.event);
    }
    assert_eq!(failed_kind(&runs[&3]), Some(ErrorKind::ContextLength));
    let Some(Outcome::Failed(e)) = &runs[&3].outcome else {
        panic!()
    };
    assert!(e.message.contains("(provider counter)"), "{}", e.message);
    assert_eq!(runs[&5].outcome, Some(Outcome::Done));
    let paths: Vec<String> = server.log().records().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths.iter().filter(|p| p.ends_with("/count_tokens")).count(), 2);
    assert_eq!(
        paths.iter().filter(|p| p.as_str() == "/v1/messages").count(),
        1,
        "the long prompt was never sent: {paths:?}"
    );
    server.shutdown().await;
}
