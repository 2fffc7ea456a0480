//! TTFT's two stamps come from the socket: `sent_at` is the request's last byte written,
//! the first token's arrival the read that brought it. Checked by ordering against a
//! loopback server in the same process (same clock), never by durations. And the
//! streaming client still goes through proxies from the environment: a forwarding one
//! for `http://`, a CONNECT tunnel for `https://`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::raw::{RawServer, read_request};
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

fn target(base_url: String) -> Target {
    let mut params = Params {
        max_tokens: Some(64),
        stream: true,
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            headers: Duration::from_secs(5),
            idle: Duration::from_millis(500),
            total: None,
        },
        ..Params::default()
    };
    params.retry.base = Duration::from_millis(1);
    params.retry.cap = Duration::from_millis(2);
    Target {
        name: "t".into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-x".into(),
        base_url,
        key: KeySource::Demo,
        params,
    }
}

async fn run(t: Target) -> TargetRun {
    let mut handle = fan_out(&[t], &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    let mut run = TargetRun::default();
    while let Some(env) = handle.events.recv().await {
        run.apply(env.at, &env.event);
    }
    handle.join().await;
    run
}

const STREAM_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

/// One HTTP/1.1 chunk.
fn chunk(text: &str) -> Vec<u8> {
    format!("{:x}\r\n{text}\r\n", text.len()).into_bytes()
}

fn content_event() -> Vec<u8> {
    chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n")
}

fn final_events() -> Vec<u8> {
    let mut out = chunk(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n",
    );
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// When the server had read a request whole, and when it started writing the first
/// content, per request in order.
#[derive(Default, Debug, Clone)]
struct ServerClock {
    read_all: Vec<Instant>,
    content_written: Vec<Instant>,
}

/// Head at once, the first content after `delay`, then the end.
async fn answer(sock: &mut TcpStream, clock: &Mutex<ServerClock>, delay: Duration) {
    clock.lock().unwrap().read_all.push(Instant::now());
    sock.write_all(STREAM_HEAD).await.unwrap();
    tokio::time::sleep(delay).await;
    clock.lock().unwrap().content_written.push(Instant::now());
    sock.write_all(&content_event()).await.unwrap();
    sock.write_all(&final_events()).await.unwrap();
}

#[tokio::test]
async fn sent_is_the_last_request_write_and_first_token_the_read_that_carried_it() {
    let clock = Arc::new(Mutex::new(ServerClock::default()));
    let c = clock.clone();
    let server = RawServer::start(move |mut sock, _| {
        let c = c.clone();
        async move {
            answer(&mut sock, &c, Duration::from_millis(40)).await;
            let _ = sock.shutdown().await;
        }
    })
    .await;
    let r = run(target(format!("{}/v1", server.url()))).await;
    assert_eq!(r.outcome, Some(Outcome::Done));
    let clock = clock.lock().unwrap().clone();
    let (sent, first) = (r.sent_at.unwrap(), r.first_content_at.unwrap());
    assert!(r.connect.is_some(), "a new connection, reported apart");
    assert!(sent >= r.dispatched_at.unwrap(), "sent after dispatch");
    assert!(
        sent <= clock.read_all[0],
        "the last byte left before the server had it all"
    );
    assert!(
        first >= clock.content_written[0],
        "the read came after the server's write"
    );
    // The request went whole, with its length, and said who sent it.
    let seen = &server.requests()[0];
    assert!(seen.header("content-length").is_some(), "{}", seen.head);
    assert!(seen.header("transfer-encoding").is_none(), "{}", seen.head);
    assert!(
        seen.header("user-agent").unwrap().starts_with("prism/"),
        "{}",
        seen.head
    );
}

#[tokio::test]
async fn a_head_and_first_content_in_one_write_keep_their_order() {
    // One read can bring both: the head is then not stamped after its own content.
    let clock = Arc::new(Mutex::new(ServerClock::default()));
    let c = clock.clone();
    let server = RawServer::start(move |mut sock, _| {
        let c = c.clone();
        async move {
            c.lock().unwrap().read_all.push(Instant::now());
            let mut all = STREAM_HEAD.to_vec();
            all.extend_from_slice(&content_event());
            c.lock().unwrap().content_written.push(Instant::now());
            sock.write_all(&all).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            sock.write_all(&final_events()).await.unwrap();
            let _ = sock.shutdown().await;
        }
    })
    .await;
    let r = run(target(format!("{}/v1", server.url()))).await;
    assert_eq!(r.outcome, Some(Outcome::Done));
    let clock = clock.lock().unwrap().clone();
    let (sent, head, first) = (
        r.sent_at.unwrap(),
        r.headers_at.unwrap(),
        r.first_content_at.unwrap(),
    );
    assert!(sent <= clock.read_all[0]);
    assert!(
        head >= clock.content_written[0],
        "the head's read came after the write"
    );
    assert!(sent <= head && head <= first, "sent, head, content in order");
}

#[tokio::test]
async fn a_reused_connection_stamps_the_new_request_not_the_old() {
    // The first request gets a 503 on a kept-alive connection; the retry goes out on the
    // same connection, whose stamp cell has already seen one exchange.
    let clock = Arc::new(Mutex::new(ServerClock::default()));
    let c = clock.clone();
    let server = RawServer::start(move |mut sock, _| {
        let c = c.clone();
        async move {
            c.lock().unwrap().read_all.push(Instant::now());
            let busy = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
            sock.write_all(busy).await.unwrap();
            if read_request(&mut sock).await.is_some() {
                answer(&mut sock, &c, Duration::from_millis(20)).await;
            }
            let _ = sock.shutdown().await;
        }
    })
    .await;
    let r = run(target(format!("{}/v1", server.url()))).await;
    assert_eq!(r.outcome, Some(Outcome::Done), "{:?}", r.notes);
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "reused"
    );
    assert_eq!(r.retries, 1);
    let clock = clock.lock().unwrap().clone();
    let (sent, first) = (r.sent_at.unwrap(), r.first_content_at.unwrap());
    assert!(sent > clock.read_all[0], "not the first request's write");
    assert!(sent <= clock.read_all[1], "the retry's last byte");
    assert!(first >= clock.content_written[0]);
}

/// A loopback HTTP proxy: CONNECT tunnels, anything else is forwarded as read. Records
/// each request line.
async fn proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let line = text.lines().next().unwrap_or_default().to_string();
                seen.lock().unwrap().push(line.clone());
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let authority = if method == "CONNECT" {
                    target.to_string()
                } else {
                    target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .to_string()
                };
                let Ok(mut upstream) = TcpStream::connect(authority).await else {
                    return;
                };
                if method == "CONNECT" {
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                } else {
                    // Forwarded as read: the origin accepts an absolute-form target.
                    upstream.write_all(&head).await.unwrap();
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (addr, lines)
}

/// `prism run` with one target and the given proxy variables (and no others).
async fn prism_run(base_url: &str, provider: &str, model: &str, proxy_env: (&str, String)) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    let toml = format!(
        "[[target]]\nname = \"p\"\nprovider = \"{provider}\"\nmodel = \"{model}\"\nbase_url = \"{base_url}\"\nmax_tokens = 50\nconnect_timeout = 2\nidle_timeout = 2\napi_key_env = \"PRISM_TEST_PROXY_KEY\"\n"
    );
    std::fs::write(&cfg, toml).unwrap();
    let sessions = dir.path().join("sessions");
    let mut cmd = Command::new(PRISM);
    cmd.args([
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--prompt",
        "hi",
    ])
    .env("PRISM_SESSIONS_DIR", &sessions)
    .env("PRISM_TEST_PROXY_KEY", "test-not-a-key")
    .stdin(Stdio::null());
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    cmd.env(proxy_env.0, proxy_env.1);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarding_proxy_from_http_proxy_carries_the_stream() {
    let mock = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let (proxy, lines) = proxy().await;
    let base = format!("http://{}/v1", mock.addr());
    let (code, out) = prism_run(
        &base,
        "openai-compatible",
        "llama3.1:8b+ttft=5,itl=1,tokens=5,usage=none,auth=none",
        ("HTTP_PROXY", format!("http://{proxy}")),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"status\":\"ok\""), "{out}");
    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        [format!(
            "POST http://{}/v1/chat/completions HTTP/1.1",
            mock.addr()
        )],
        "absolute form, through the proxy"
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connect_tunnel_from_https_proxy_reaches_tls_and_a_refusal_is_still_named() {
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
    let tls = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            // The client refuses the certificate; nothing more to do.
            tokio::spawn(async move { drop(acceptor.accept(sock).await) });
        }
    });
    let (proxy, lines) = proxy().await;
    let (code, out) = prism_run(
        &format!("https://{tls}"),
        "gemini",
        "gemini-x",
        ("HTTPS_PROXY", format!("http://{proxy}")),
    )
    .await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("the TLS certificate of {tls} was rejected")),
        "{out}"
    );
    let lines = lines.lock().unwrap().clone();
    assert_eq!(lines, [format!("CONNECT {tls} HTTP/1.1")], "tunnelled");
}
