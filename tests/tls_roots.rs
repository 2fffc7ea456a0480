//! The system's trusted roots are read only for a certificate: a run against plain-HTTP
//! servers (the mock, a model server on this machine) never pays for parsing them. Alone
//! in its own test binary, since the verifier is loaded once per process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::request::ChatRequest;
use prism::provider::wire::verifier;
use prism::target::ProviderKind;

#[tokio::test]
async fn a_plain_http_run_never_loads_the_trusted_roots_and_an_https_target_does() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let target = common::mock_target(
        &server,
        "plain",
        ProviderKind::Anthropic,
        "claude-sonnet-4-20250514+ttft=1,tokens=5",
        64,
    );
    let mut handle = fan_out(
        std::slice::from_ref(&target),
        &ChatRequest::single(None, "hi"),
        RunOptions::default(),
    )
    .await;
    let mut run = TargetRun::default();
    while let Some(env) = handle.events.recv().await {
        run.apply(env.at, &env.event);
    }
    assert_eq!(run.outcome, Some(Outcome::Done));
    assert!(!verifier::is_loaded(), "an HTTP run read the trusted roots");

    // A target reached over HTTPS starts loading them while its request is prepared (no
    // server is needed for that: the connection is refused after).
    let mut secure = target.clone();
    let closed = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap();
    secure.base_url = format!("https://{closed}");
    secure.params.retry.max_retries = 0;
    let mut handle = fan_out(&[secure], &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    while handle.events.recv().await.is_some() {}
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !verifier::is_loaded() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(verifier::is_loaded(), "an HTTPS target warmed the verifier");
    server.shutdown().await;
}
