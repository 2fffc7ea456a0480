//! The fan-out delivers the events of one socket read as one message, each still stamped
//! with the arrival of the read that carried it, and holds nothing back while it waits.
//! Text pieces of one read travel joined, as one run that still counts its pieces.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw::{RawServer, SSE, head};
use prism::engine::{RunOptions, fan_out};
use prism::provider::event::{StreamEvent, TextRun};
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target, Timeouts};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

fn chunk(text: &str) -> String {
    format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n")
}

#[tokio::test]
async fn one_read_one_message_and_nothing_held_back() {
    let resume = Arc::new(Notify::new());
    let gate = resume.clone();
    let server = RawServer::start(move |mut sock, _| {
        let gate = gate.clone();
        async move {
            let mut first = head("200 OK", &[SSE]);
            first.extend_from_slice((chunk("A") + &chunk("B") + &chunk("C")).as_bytes());
            sock.write_all(&first).await.unwrap();
            // Until the client has shown it got A, B and C: they cannot wait for more.
            gate.notified().await;
            let rest = chunk("D")
                + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n";
            let _ = sock.write_all(rest.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    })
    .await;
    let target = Target {
        name: "raw".into(),
        provider: ProviderKind::OpenAiCompatible,
        model: "m".into(),
        base_url: server.url(),
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(16),
            stream: true,
            timeouts: Timeouts {
                connect: Duration::from_secs(2),
                headers: Duration::from_secs(5),
                idle: Duration::from_secs(5),
                total: None,
            },
            ..Params::default()
        },
    };
    let mut handle = fan_out(&[target], &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    let batches = tokio::time::timeout(Duration::from_secs(10), async {
        let mut batches = Vec::new();
        while let Some(batch) = handle.events.recv_batch().await {
            let texts: Vec<&str> = batch.iter().filter_map(|e| e.event.answer_text()).collect();
            if texts.iter().any(|t| t.contains('C')) {
                resume.notify_one();
            }
            batches.push(batch);
        }
        batches
    })
    .await
    .expect("the stream ended (the server waits for A, B and C to arrive)");
    let abc = StreamEvent::TextRun(TextRun {
        text: "ABC".into(),
        pieces: 3,
        first: 1,
    });
    let d = StreamEvent::TextDelta("D".into());
    let holding = |event: &StreamEvent| {
        batches
            .iter()
            .position(|b| b.iter().any(|e| e.event == *event))
            .unwrap_or_else(|| panic!("{event:?} in {batches:?}"))
    };
    let first = holding(&abc);
    assert!(holding(&d) > first, "a later read, a later message");
    // Each event keeps the stamp of the read that brought it.
    let at = |event: &StreamEvent| {
        batches[holding(event)]
            .iter()
            .find(|e| e.event == *event)
            .unwrap()
            .at
    };
    assert!(at(&d) > at(&abc));
    let last = batches.last().unwrap().last().unwrap();
    assert_eq!(last.event, StreamEvent::Done);
    handle.join().await;
}
