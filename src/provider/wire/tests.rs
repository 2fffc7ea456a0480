//! The streaming client against real servers on loopback, over HTTP/1.1 and over
//! HTTP/2 with TLS (as the providers' APIs are reached), its connections polled by the
//! reading task ([`super::inline`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use super::inline::driving;
use super::{SocketStamps, WireClient};
use crate::provider::client::ConnectLog;

const EVENTS: usize = 2_000;

fn event(i: usize) -> Bytes {
    Bytes::from(format!("data: {{\"n\":{i}}}\n\n"))
}

/// An answer's body: every event a frame of its own (an HTTP/1.1 chunk, an HTTP/2 DATA
/// frame).
type Answer = StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

fn answer() -> hyper::Response<Answer> {
    let frames: Vec<_> = (0..EVENTS).map(|i| Ok(Frame::data(event(i)))).collect();
    hyper::Response::builder()
        .header("content-type", "text/event-stream")
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .unwrap()
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A server on loopback answering every request with [`answer`]: HTTP/1.1 in the clear,
/// or TLS offering only `h2` by ALPN.
async fn server(tls: bool) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls.then(|| {
        let certs = CertificateDer::pem_file_iter(fixture("localhost.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(|_req| async { Ok::<_, Infallible>(answer()) });
                match acceptor {
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(sock).await else {
                            return;
                        };
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    }
                    None => {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(sock), service)
                            .await;
                    }
                }
            });
        }
    });
    addr
}

/// A client that trusts the fixtures' test CA (and nothing else).
fn client(connects: ConnectLog) -> WireClient {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(fixture("test_ca.crt")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    WireClient::with_tls(tls, Duration::from_secs(5), connects)
}

/// Send a request and read the whole answer inside [`driving`], as an attempt does.
async fn fetch(client: &WireClient, url: &str) -> (http::Version, Vec<u8>, bool) {
    driving(async {
        let mut request = reqwest::Request::new(reqwest::Method::POST, url.parse().unwrap());
        *request.body_mut() = Some("{}".into());
        let response = client.send(request).await.unwrap();
        let version = response.version();
        let stamped = response.extensions().get::<SocketStamps>().is_some();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (version, body.to_vec(), stamped)
    })
    .await
}

fn expected() -> Vec<u8> {
    (0..EVENTS).flat_map(|i| event(i).to_vec()).collect()
}

async fn streams_whole_twice_on_one_connection(tls: bool, version: http::Version) {
    let addr = server(tls).await;
    let url = if tls {
        format!("https://{addr}/v1/chat")
    } else {
        format!("http://{addr}/v1/chat")
    };
    let connects = ConnectLog::default();
    let client = client(connects.clone());
    let (got_version, body, stamped) = fetch(&client, &url).await;
    assert_eq!(got_version, version);
    assert!(stamped, "the socket's reads are stamped");
    assert_eq!(body, expected());
    let first = connects.latest().expect("a connection was made");
    // The first connection outlived the task that drove it and serves the next request.
    let (_, again, _) = fetch(&client, &url).await;
    assert_eq!(again, expected());
    assert_eq!(connects.latest(), Some(first), "no second connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http1_answer_in_one_chunk_per_event_arrives_whole() {
    streams_whole_twice_on_one_connection(false, http::Version::HTTP_11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_answer_over_tls_arrives_whole() {
    streams_whole_twice_on_one_connection(true, http::Version::HTTP_2).await;
}

/// A server that answers each request on a connection with `body` written in one go: a
/// chunked answer whose every event is a chunk of its own, all in one socket read.
async fn raw_server(chunks: usize) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut wire =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for i in 0..chunks {
        let e = event(i);
        wire.extend_from_slice(format!("{:x}\r\n", e.len()).as_bytes());
        wire.extend_from_slice(&e);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let wire = wire.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    // Each request is a head and the 2-byte body "{}".
                    if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n")
                        && request.len() >= end + 4 + 2
                    {
                        request.drain(..end + 6);
                        if sock.write_all(&wire).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chunks_of_one_read_reach_the_reader_as_one_frame() {
    const CHUNKS: usize = 200;
    let addr = raw_server(CHUNKS).await;
    let client = client(ConnectLog::default());
    let url = format!("http://{addr}/v1/chat");
    for round in 0..2 {
        let (body, frames) = driving(async {
            let mut request = reqwest::Request::new(reqwest::Method::POST, url.parse().unwrap());
            *request.body_mut() = Some("{}".into());
            let mut body = client.send(request).await.unwrap().into_body();
            let (mut bytes, mut frames) = (Vec::new(), 0);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    bytes.extend_from_slice(&data);
                    frames += 1;
                }
            }
            (bytes, frames)
        })
        .await;
        let want: Vec<u8> = (0..CHUNKS).flat_map(|i| event(i).to_vec()).collect();
        assert_eq!(body, want, "round {round}: the same body");
        // One write on loopback comes in one read or a few, not one per chunk.
        assert!(
            frames < CHUNKS / 10,
            "round {round}: {frames} frames for {CHUNKS} chunks"
        );
    }
}
