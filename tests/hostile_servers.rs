//! Servers that misbehave on purpose: raw loopback listeners writing exact bytes, each
//! run in a fan-out beside a healthy target that must come through untouched.
//!
//! Redirects to another host, JSON that is not an answer, complete answers that never
//! say goodbye, compressed bodies, and connection set-ups no retry can fix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::raw::{JSON, RawServer, SSE, head, write_then_close, write_then_hang};

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunHandle, RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::event::{ErrorKind, FinishReason, ProviderError, StreamEvent};
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn raw_target(name: &str, provider: ProviderKind, base_url: String, model: &str) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url,
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(64),
            stream: true,
            timeouts: Timeouts {
                connect: Duration::from_secs(2),
                headers: Duration::from_secs(5),
                idle: Duration::from_millis(400),
                total: None,
            },
            ..Params::default()
        },
    }
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

/// A well-behaved neighbour on the mock server.
fn healthy(server: &MockServer) -> Target {
    common::mock_target(
        server,
        "healthy",
        ProviderKind::OpenAi,
        "gpt-4o-mini-2024-07-18+ttft=1,itl=0,tokens=6",
        64,
    )
}

fn assert_healthy(r: &TargetRun) {
    assert_eq!(
        r.outcome,
        Some(Outcome::Done),
        "healthy neighbour: {:?}",
        r.outcome
    );
    // The mock reports an OpenAI model's usage as its tokenizer counts the text it sent.
    let counted = prism::tokens::count_o200k(&r.text) as u64;
    assert_eq!(
        (r.usage.output, r.retries),
        (Some(counted), 0),
        "healthy neighbour"
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

/// Every target's run, plus each target's events in order (for timestamp checks).
struct Runs {
    runs: Vec<TargetRun>,
    events: Vec<Vec<(Instant, StreamEvent)>>,
}

async fn drain(mut handle: RunHandle, n: usize, guard: Duration) -> Runs {
    let mut runs = vec![TargetRun::default(); n];
    let mut events = vec![Vec::new(); n];
    while let Some(env) = tokio::time::timeout(guard, handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
        events[env.target].push((env.at, env.event));
    }
    for (i, e) in events.iter().enumerate() {
        let terminals = e.iter().filter(|(_, ev)| ev.is_terminal()).count();
        assert_eq!(terminals, 1, "target {i}: exactly one terminal event");
    }
    handle.join().await;
    Runs { runs, events }
}

async fn run(targets: &[Target]) -> Runs {
    let handle = fan_out(
        targets,
        &ChatRequest::single(None, "Say hello."),
        RunOptions::default(),
    )
    .await;
    drain(handle, targets.len(), Duration::from_secs(15)).await
}

fn failure(r: &TargetRun) -> &ProviderError {
    match &r.outcome {
        Some(Outcome::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Redirects are never followed: the key never leaves for another host.

#[tokio::test]
async fn a_redirect_to_another_host_fails_the_pane_and_sends_nothing_there() {
    // B: whoever the redirect points at. It must never see a connection.
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let b_addr = b.local_addr().unwrap();
    let a = RawServer::start(move |sock, seen| async move {
        let path = seen.head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let status = if seen.mentions("claude") {
            "307 Temporary Redirect"
        } else {
            "308 Permanent Redirect"
        };
        let location = format!("location: http://{b_addr}{path}");
        write_then_close(sock, &head(status, &[&location, "content-length: 0"])).await;
    })
    .await;
    let server = mock().await;
    let targets = vec![
        raw_target("anthropic", ProviderKind::Anthropic, a.url(), "claude-x"),
        raw_target("gemini", ProviderKind::Gemini, a.url(), "gemini-x"),
        healthy(&server),
    ];
    let out = run(&targets).await;
    for (t, r) in targets.iter().zip(&out.runs).take(2) {
        let e = failure(r);
        assert_eq!(e.kind, ErrorKind::Http, "{}", t.name);
        assert!(!e.retryable, "{}", t.name);
        assert!(
            e.message.contains(&format!(
                "the server redirected to {b_addr}; if that is the right endpoint, set base_url to it"
            )),
            "{}: {}",
            t.name,
            e.message
        );
        assert_eq!(r.retries, 0, "{}: a redirect is never retried", t.name);
    }
    assert_eq!(failure(&out.runs[0]).http_status, Some(307));
    assert_eq!(failure(&out.runs[1]).http_status, Some(308));
    assert_eq!(a.count("claude-x"), 1, "one request at A, not retried");
    assert_eq!(a.count("gemini-x"), 1, "one request at A, not retried");
    assert_eq!(a.connections.load(Ordering::SeqCst), 2);
    // The keys went to A only, where base_url pointed.
    assert!(
        a.requests()
            .iter()
            .all(|s| s.head.contains("prism-demo-placeholder"))
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), b.accept())
            .await
            .is_err(),
        "B received a connection"
    );
    assert_healthy(&out.runs[2]);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 9. Gemini: any JSON is not an answer.

#[tokio::test]
async fn gemini_json_without_candidates_is_malformed_not_an_empty_answer() {
    let a = RawServer::start(|sock, seen| async move {
        let (kind, body): (&str, &[u8]) = if seen.mentions("empty-object") {
            (JSON, b"{}")
        } else if seen.mentions("null-body") {
            (JSON, b"null")
        } else if seen.mentions("no-candidates") {
            (JSON, br#"{"candidates":[],"usageMetadata":{"promptTokenCount":4}}"#)
        } else if seen.mentions("array-on-stream") {
            (JSON, br#"[{"usageMetadata":{"promptTokenCount":4}}]"#)
        } else if seen.mentions("empty-events") {
            (SSE, b"data: {}\r\n\r\ndata: {\"usageMetadata\":{\"promptTokenCount\":4}}\r\n\r\n")
        } else if seen.mentions("blocked") {
            (SSE, b"data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\r\n\r\n")
        } else {
            // A real stream: text, then the finish, then a usage-only chunk.
            (
                SSE,
                b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n\
                  data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n\
                  data: {\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2}}\r\n\r\n",
            )
        };
        let mut bytes = head("200 OK", &[kind]);
        bytes.extend_from_slice(body);
        write_then_close(sock, &bytes).await;
    })
    .await;
    let server = mock().await;
    let gemini = |model: &str, stream: bool| {
        let mut t = raw_target(model, ProviderKind::Gemini, a.url(), model);
        t.params.stream = stream;
        t
    };
    let targets = vec![
        gemini("empty-object", false),
        gemini("null-body", false),
        gemini("no-candidates", false),
        gemini("array-on-stream", true),
        gemini("empty-events", true),
        gemini("blocked", true),
        gemini("usage-last", true),
        healthy(&server),
    ];
    let out = run(&targets).await;
    for (t, r) in targets.iter().zip(&out.runs).take(5) {
        let e = failure(r);
        assert_eq!(e.kind, ErrorKind::Malformed, "{}: {}", t.name, e.message);
        assert!(r.text.is_empty(), "{}", t.name);
        assert!(
            e.message.contains("candidate") && e.message.contains("promptFeedback"),
            "{}: {}",
            t.name,
            e.message
        );
        assert!(
            !e.message.contains('\n') && e.message.chars().count() < 240,
            "{}",
            e.message
        );
    }
    assert!(failure(&out.runs[0]).message.ends_with(": {}"));
    assert!(failure(&out.runs[1]).message.ends_with(": null"));
    assert!(failure(&out.runs[4]).message.ends_with("the first was: {}"));
    let blocked = &out.runs[5];
    assert_eq!(
        blocked.outcome,
        Some(Outcome::Done),
        "a blocked prompt is an answer"
    );
    assert_eq!(
        blocked.finish_reason().map(|f| f.0),
        Some(FinishReason::ContentFilter)
    );
    let last = &out.runs[6];
    assert_eq!(last.outcome, Some(Outcome::Done), "{:?}", last.outcome);
    assert_eq!((last.text.as_str(), last.usage.output), ("Hi!", Some(2)));
    assert!(last.notes.is_empty(), "{:?}", last.notes);
    assert_healthy(&out.runs[7]);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 10. A complete answer, then silence or a close without the end marker.

const OPENAI_COMPLETE: &[u8] =
    b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n";

const GEMINI_COMPLETE: &[u8] = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}]},\"finishReason\":\"MAX_TOKENS\"}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1}}\r\n\r\n";

const OPENAI_NO_FINISH: &[u8] =
    b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";

const ANTHROPIC_HEAD: &str = "event: message_start\n\
data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n\
event: content_block_start\n\
data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\n\
data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n\
event: message_delta\n\
data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n";

fn sse_response(body: &[u8]) -> Vec<u8> {
    let mut bytes = head("200 OK", &[SSE]);
    bytes.extend_from_slice(body);
    bytes
}

#[tokio::test]
async fn a_complete_answer_then_a_stall_or_close_is_done_with_a_protocol_note() {
    let a = RawServer::start(|sock, seen| async move {
        let anthropic = |tail: &str| sse_response(format!("{ANTHROPIC_HEAD}{tail}").as_bytes());
        // Each body goes out in one write, so each arrives in one read.
        if seen.mentions("openai-hang") {
            write_then_hang(sock, &sse_response(OPENAI_COMPLETE)).await;
        } else if seen.mentions("openai-close") {
            write_then_close(sock, &sse_response(OPENAI_COMPLETE)).await;
        } else if seen.mentions("gemini-hang") {
            write_then_hang(sock, &sse_response(GEMINI_COMPLETE)).await;
        } else if seen.mentions("openai-incomplete-hang") {
            write_then_hang(sock, &sse_response(OPENAI_NO_FINISH)).await;
        } else if seen.mentions("openai-incomplete-close") {
            write_then_close(sock, &sse_response(OPENAI_NO_FINISH)).await;
        } else if seen.mentions("anthropic-no-blank") {
            let stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n";
            write_then_close(sock, &anthropic(stop)).await;
        } else if seen.mentions("anthropic-cut") {
            let stop = "event: message_stop\ndata: {\"type\":\"message_st";
            write_then_close(sock, &anthropic(stop)).await;
        }
    })
    .await;
    let server = mock().await;
    let t = |name: &str, kind| {
        let mut t = raw_target(name, kind, a.url(), name);
        // Far past the run's 15 s guard: only the short grace can end these in time.
        t.params.timeouts.idle = Duration::from_secs(60);
        t
    };
    let mut incomplete_hang = t("openai-incomplete-hang", ProviderKind::OpenAi);
    incomplete_hang.params.timeouts.idle = Duration::from_millis(400);
    let targets = vec![
        t("openai-hang", ProviderKind::OpenAi),
        t("gemini-hang", ProviderKind::Gemini),
        t("openai-close", ProviderKind::OpenAiCompatible),
        t("anthropic-no-blank", ProviderKind::Anthropic),
        incomplete_hang,
        t("openai-incomplete-close", ProviderKind::OpenAi),
        t("anthropic-cut", ProviderKind::Anthropic),
        healthy(&server),
    ];
    let out = run(&targets).await;
    let r = &out.runs;
    for (t, r) in targets.iter().zip(r).take(4) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}: {:?}", t.name, r.outcome);
        assert_eq!(r.text, "Hello", "{}", t.name);
        assert_eq!(r.usage.output, Some(1), "{}", t.name);
        assert_eq!(r.notes.len(), 1, "{}: {:?}", t.name, r.notes);
    }
    // The provider's finish reason stands.
    assert_eq!(r[0].finish_reason(), Some((FinishReason::Stop, Some("stop"))));
    assert_eq!(
        r[1].finish_reason(),
        Some((FinishReason::Length, Some("MAX_TOKENS")))
    );
    assert_eq!(r[3].finish_reason(), Some((FinishReason::Stop, Some("end_turn"))));
    assert!(
        r[0].notes[0].contains("no `data: [DONE]` and held the connection open; stopped waiting after 2.0 s"),
        "{}",
        r[0].notes[0]
    );
    assert!(
        r[1].notes[0].contains("held the connection open after the final chunk; stopped waiting after 2.0 s"),
        "{}",
        r[1].notes[0]
    );
    assert!(
        r[2].notes[0].contains("closed without `data: [DONE]`"),
        "{}",
        r[2].notes[0]
    );
    assert!(
        r[3].notes[0].contains("(`message_stop`) ended without its closing blank line"),
        "{}",
        r[3].notes[0]
    );
    // After a stall the end is the last data, not the end of the grace wait.
    for i in [0, 1] {
        let evs = &out.events[i];
        let last_data = evs
            .iter()
            .filter(|(_, e)| matches!(e, StreamEvent::Usage(_)))
            .map(|(at, _)| *at)
            .next_back()
            .unwrap();
        assert_eq!(r[i].ended_at, Some(last_data), "{}", targets[i].name);
        let note_at = evs
            .iter()
            .find(|(_, e)| matches!(e, StreamEvent::Note(_)))
            .unwrap()
            .0;
        assert_eq!(note_at, last_data, "{}", targets[i].name);
    }
    // Without a finish reason nothing changes: still a stall or a truncation.
    assert_eq!(failure(&r[4]).kind, ErrorKind::IdleTimeout);
    assert_eq!(failure(&r[5]).kind, ErrorKind::Truncated);
    assert_eq!(
        failure(&r[6]).kind,
        ErrorKind::Truncated,
        "a cut `message_stop` is not one"
    );
    for x in &r[4..7] {
        assert!(x.notes.is_empty(), "{:?}", x.notes);
        assert!(!x.text.is_empty());
    }
    assert_healthy(&r[7]);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 11. Compressed bodies.

/// Gzip `events` as one member, sync-flushing after each so each is decodable on arrival.
fn gzip_pieces(events: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut pieces = Vec::new();
    for e in events {
        enc.write_all(e).unwrap();
        enc.flush().unwrap();
        pieces.push(std::mem::take(enc.get_mut()));
    }
    let rest = enc.finish().unwrap();
    pieces.last_mut().unwrap().extend_from_slice(&rest);
    pieces
}

#[tokio::test]
async fn a_gzip_stream_decodes_as_it_arrives_and_an_unknown_encoding_is_named() {
    // The server sends the first compressed event, then waits until the test has seen
    // its text: a client that buffered the whole gzip body would never get there.
    let (first_seen_tx, first_seen_rx) = mpsc::unbounded_channel::<()>();
    let first_seen_rx = Arc::new(tokio::sync::Mutex::new(first_seen_rx));
    let a = RawServer::start(move |mut sock, seen| {
        let first_seen_rx = first_seen_rx.clone();
        async move {
            if seen.mentions("corrupt") {
                let bytes = [head("200 OK", &[SSE, "content-encoding: gzip"]), b"not gzip at all".to_vec()].concat();
                return write_then_close(sock, &bytes).await;
            }
            if seen.mentions("brotli") {
                let bytes = [head("200 OK", &[SSE, "content-encoding: br"]), vec![0x1b, 0x03, 0x00]].concat();
                return write_then_close(sock, &bytes).await;
            }
            let pieces = gzip_pieces(&[
                b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Compressed\"}}]}\n\n",
                b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" hello\"},\"finish_reason\":\"stop\"}]}\n\n",
                b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
            ]);
            sock.write_all(&head("200 OK", &[SSE, "content-encoding: gzip"])).await.unwrap();
            sock.write_all(&pieces[0]).await.unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(10), first_seen_rx.lock().await.recv()).await;
            for p in &pieces[1..] {
                sock.write_all(p).await.unwrap();
            }
            let _ = sock.shutdown().await;
        }
    })
    .await;
    let server = mock().await;
    let targets = vec![
        raw_target("gzip", ProviderKind::OpenAi, a.url(), "gzip-model"),
        raw_target("brotli", ProviderKind::OpenAi, a.url(), "brotli-model"),
        raw_target("corrupt", ProviderKind::OpenAi, a.url(), "corrupt-model"),
        healthy(&server),
    ];
    let mut handle = fan_out(&targets, &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); 4];
    let mut open = 4;
    while open > 0 {
        let env = tokio::time::timeout(Duration::from_secs(15), handle.events.recv())
            .await
            .expect("run stalled: the first gzip event was not decoded on arrival")
            .unwrap();
        if env.target == 0 && env.event == StreamEvent::TextDelta("Compressed".into()) {
            first_seen_tx.send(()).unwrap();
        }
        open -= usize::from(env.event.is_terminal());
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    assert_eq!(runs[0].outcome, Some(Outcome::Done), "{:?}", runs[0].outcome);
    assert_eq!(runs[0].text, "Compressed hello");
    assert_eq!(runs[0].usage.output, Some(2));
    assert!(
        runs[0].first_content_at < runs[0].last_content_at,
        "two arrivals, not one"
    );
    let gzip_request = a
        .requests()
        .into_iter()
        .find(|s| s.mentions("gzip-model"))
        .unwrap();
    assert!(
        gzip_request
            .head
            .to_ascii_lowercase()
            .contains("accept-encoding: gzip"),
        "{}",
        gzip_request.head
    );
    let e = failure(&runs[1]);
    assert_eq!(e.kind, ErrorKind::Malformed);
    assert!(e.message.contains("compressed as `br`"), "{}", e.message);
    let e = failure(&runs[2]);
    assert_eq!(e.kind, ErrorKind::Malformed, "{}", e.message);
    assert!(
        e.message.contains("compressed body from") && e.message.contains("could not be decoded"),
        "{}",
        e.message
    );
    assert_healthy(&runs[3]);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// 12. Set-up failures that no retry heals are not retried.

#[tokio::test]
async fn unresolvable_hosts_and_failed_tls_handshakes_are_not_retried() {
    // Speaks plain HTTP to a TLS ClientHello.
    let tls_junk = Arc::new(AtomicUsize::new(0));
    let plain = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    let count = tls_junk.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = plain.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut hello = [0u8; 512];
                let _ = sock.read(&mut hello).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    let server = mock().await;
    let fast_retries = |mut t: Target| {
        // Retries would be near-instant, so only the classification stops them.
        t.params.retry.base = Duration::from_millis(1);
        t.params.retry.cap = Duration::from_millis(2);
        t
    };
    let targets = vec![
        fast_retries(raw_target(
            "dns",
            ProviderKind::Anthropic,
            "http://prism-hostile-test.invalid".into(),
            "claude-x",
        )),
        fast_retries(raw_target(
            "tls",
            ProviderKind::OpenAi,
            format!("https://{plain_addr}/v1"),
            "gpt-x",
        )),
        healthy(&server),
    ];
    let out = run(&targets).await;
    let dns = failure(&out.runs[0]);
    assert_eq!(
        (dns.kind, dns.retryable, out.runs[0].retries),
        (ErrorKind::Connect, false, 0)
    );
    assert!(
        dns.message
            .starts_with("cannot resolve host prism-hostile-test.invalid; check base_url"),
        "{}",
        dns.message
    );
    let tls = failure(&out.runs[1]);
    assert_eq!(
        (tls.kind, tls.retryable, out.runs[1].retries),
        (ErrorKind::Connect, false, 0)
    );
    assert!(
        tls.message.contains(&format!(
            "{plain_addr} did not answer in TLS; if it serves plain HTTP, use http://"
        )),
        "{}",
        tls.message
    );
    assert_eq!(tls_junk.load(Ordering::SeqCst), 1, "one handshake, not retried");
    assert_healthy(&out.runs[2]);
    server.shutdown().await;
}

/// A TLS server on loopback presenting a self-signed certificate; counts handshakes.
async fn self_signed_tls_server() -> (SocketAddr, Arc<AtomicUsize>) {
    use tokio_rustls::rustls::{self, pki_types::pem::PemObject};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(dir.join("self_signed.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("self_signed.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            // The client refuses the certificate, so this fails; nothing more to do.
            tokio::spawn(async move { drop(acceptor.accept(sock).await) });
        }
    });
    (addr, handshakes)
}

#[tokio::test]
async fn a_rejected_certificate_is_named_and_not_retried() {
    let (addr, handshakes) = self_signed_tls_server().await;
    let server = mock().await;
    let mut t = raw_target(
        "self-signed",
        ProviderKind::Gemini,
        format!("https://{addr}"),
        "gemini-x",
    );
    t.params.retry.base = Duration::from_millis(1);
    t.params.retry.cap = Duration::from_millis(2);
    let out = run(&[t, healthy(&server)]).await;
    let e = failure(&out.runs[0]);
    assert_eq!(
        (e.kind, e.retryable, out.runs[0].retries),
        (ErrorKind::Connect, false, 0)
    );
    assert!(
        e.message.starts_with(&format!(
            "the TLS certificate of {addr} was rejected; check base_url"
        )),
        "{}",
        e.message
    );
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "one handshake, not retried");
    assert_healthy(&out.runs[1]);
    server.shutdown().await;
}

/// The client that sends everything but the streamed answer (token counts) shares the
/// streaming client's verifier: it refuses the same certificate, and a second client
/// built after it (one per target per send) refuses it too.
#[tokio::test]
async fn the_side_requests_client_checks_certificates_with_the_shared_verifier() {
    let (addr, handshakes) = self_signed_tls_server().await;
    for _ in 0..2 {
        let client = prism::provider::client::TimedClient::new(Duration::from_secs(2)).unwrap();
        let err = client
            .http
            .get(format!("https://{addr}/"))
            .send()
            .await
            .unwrap_err();
        let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.contains("certificate"), "{chain}");
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refused_connection_is_still_retried() {
    let closed = {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        l.local_addr().unwrap()
    };
    let mut t = raw_target(
        "refused",
        ProviderKind::OpenAi,
        format!("http://{closed}/v1"),
        "gpt-x",
    );
    t.params.retry.base = Duration::from_millis(1);
    t.params.retry.cap = Duration::from_millis(2);
    let out = run(&[t]).await;
    let e = failure(&out.runs[0]);
    assert_eq!((e.kind, out.runs[0].retries), (ErrorKind::Connect, 2));
    assert!(e.message.ends_with("(gave up after 2 retries)"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------
// Wait hints no `Duration` can hold: ignored when not a finite, non-negative number,
// refused at once (with the wait in the message) when longer than the retry budget.

/// A 429 whose only wait hint is `hint` (a header line, or a Gemini body's `retryDelay`).
fn rate_limited(
    hint: &'static str,
) -> impl Fn(tokio::net::TcpStream, common::raw::Seen) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move |sock, _| {
        let (headers, body): (Vec<&str>, String) = match hint.strip_prefix("retryDelay=") {
            Some(delay) => (
                vec![JSON],
                format!(
                    r#"{{"error":{{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED","details":[{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{delay}"}}]}}}}"#
                ),
            ),
            None => (
                vec![JSON, hint, "x-ratelimit-remaining-requests: 0"],
                r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#.to_string(),
            ),
        };
        let mut reply = head("429 Too Many Requests", &headers);
        reply.extend_from_slice(body.as_bytes());
        Box::pin(async move { write_then_close(sock, &reply).await })
    }
}

#[tokio::test]
async fn absurd_wait_hints_never_panic_and_fail_or_back_off_as_documented() {
    let mock = mock().await;
    // (hint, provider, refused at once?)
    let cases: [(&'static str, ProviderKind, bool); 7] = [
        ("retry-after: 1e30", ProviderKind::OpenAi, true),
        ("retry-after-ms: 1e300", ProviderKind::OpenAi, true),
        (
            "x-ratelimit-reset-requests: 99999999999999999999h",
            ProviderKind::OpenAi,
            true,
        ),
        ("retryDelay=1e30s", ProviderKind::Gemini, true),
        ("retry-after: inf", ProviderKind::OpenAi, false),
        ("retry-after-ms: NaN", ProviderKind::Anthropic, false),
        ("retryDelay=-5s", ProviderKind::Gemini, false),
    ];
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    for (i, (hint, provider, _)) in cases.iter().enumerate() {
        let server = RawServer::start(rate_limited(hint)).await;
        let base = match provider {
            ProviderKind::OpenAi => format!("{}/v1", server.url()),
            _ => server.url(),
        };
        let mut t = raw_target(&format!("hint{i}"), *provider, base, "m-1");
        t.params.retry.max_retries = 1;
        targets.push(t);
        servers.push(server);
    }
    targets.push(healthy(&mock));
    let runs = run(&targets).await;
    for (i, (hint, _, refused)) in cases.iter().enumerate() {
        let e = failure(&runs.runs[i]);
        assert_eq!(e.kind, ErrorKind::RateLimited, "{hint}");
        if *refused {
            assert_eq!(servers[i].requests().len(), 1, "{hint}: not retried");
            assert!(
                e.message.contains("the server asked to wait more than a century")
                    && e.message.contains("retry budget"),
                "{hint}: {}",
                e.message
            );
        } else {
            // Ignored: Prism's own backoff applied, and the one retry was made.
            assert_eq!(servers[i].requests().len(), 2, "{hint}: retried on backoff");
            assert_eq!(runs.runs[i].retries, 1, "{hint}");
            assert!(
                e.message.contains("gave up after 1 retries"),
                "{hint}: {}",
                e.message
            );
        }
    }
    assert_healthy(runs.runs.last().unwrap());
}

#[tokio::test]
async fn a_token_counter_with_an_absurd_wait_hint_fails_softly() {
    let server = RawServer::start(rate_limited("retry-after: 1e30")).await;
    let mut t = raw_target(
        "counted",
        ProviderKind::Anthropic,
        server.url(),
        "claude-sonnet-4-20250514",
    );
    t.params.count_tokens = true;
    let request = ChatRequest::single(None, "hi");
    let counts = prism::provider::count::count_all(&[(&t, &request)], &[Default::default()]).await;
    let [prism::provider::count::Counted::Failed(e)] = counts.as_slice() else {
        panic!("{counts:?}")
    };
    assert_eq!(e.http_status, Some(429), "{e:?}");
}
