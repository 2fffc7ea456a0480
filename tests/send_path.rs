//! The one send-and-record path (`workflows::send`) over real loopback HTTP: every report
//! carries the caller's own job id (never a fan-out position), a pre-flight refusal is
//! recorded but never sent, a failed token counter is a note of its own and the job is
//! still sent, and the session records everything under each job's session target.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::raw::{JSON, RawServer, SSE, head, write_then_close};
use prism::engine::{Cancels, RunId};
use prism::pricing::PriceTable;
use prism::provider::event::{ErrorKind, ProviderError, StreamEvent};
use prism::provider::request::ChatRequest;
use prism::session::SessionWriter;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::workflows::send::{Job, JobId, Report, Send, SessionTarget};

const ANSWER: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello.\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// Streams [`ANSWER`] for a send; the token counter always answers 500.
async fn serve() -> String {
    let server = RawServer::start(|socket, request| async move {
        if request.path().ends_with("/count_tokens") {
            let mut reply = head("500 Internal Server Error", &[JSON]);
            reply.extend_from_slice(br#"{"error":{"message":"counter down"}}"#);
            return write_then_close(socket, &reply).await;
        }
        let mut reply = head("200 OK", &[SSE]);
        reply.extend_from_slice(ANSWER.as_bytes());
        write_then_close(socket, &reply).await
    })
    .await;
    let base = server.url();
    // The listener task keeps serving; the handle is not needed any more.
    drop(server);
    base
}

fn target(base: &str, name: &str, count_tokens: bool) -> Target {
    let mut params = Params {
        max_tokens: Some(16),
        stream: true,
        count_tokens,
        ..Params::default()
    };
    params.timeouts.connect = std::time::Duration::from_millis(500);
    Target {
        name: name.into(),
        provider: ProviderKind::Anthropic,
        model: "claude-sonnet-4-20250514".into(),
        base_url: base.into(),
        key: KeySource::Demo,
        params,
    }
}

fn job(id: usize, session: usize, target: Target, blocked: Option<&str>) -> Job {
    Job {
        id: JobId(id),
        session: SessionTarget(session),
        target,
        request: ChatRequest::single(None, "hi"),
        history: Vec::new(),
        blocked: blocked.map(|why| ProviderError::new(ErrorKind::ContextLength, why)),
    }
}

#[tokio::test]
async fn reports_carry_job_ids_and_the_session_records_by_session_target() {
    let base = serve().await;
    let targets = vec![
        target(&base, "counted", true),
        target(&base, "blocked", false),
        target(&base, "plain", false),
    ];
    let dir = tempfile::tempdir().unwrap();
    let writer = SessionWriter::create_at(&dir.path().join("s"), &targets, PriceTable::default()).unwrap();
    // Job ids deliberately differ from both positions and session targets.
    let jobs = vec![
        job(7, 0, targets[0].clone(), None),
        job(3, 1, targets[1].clone(), Some("too long for its model")),
        job(5, 2, targets[2].clone(), None),
    ];
    let plan = Send {
        run: RunId(1),
        turn: 1,
        system: None,
        prompt: "hi".into(),
        cancels: Cancels::new(jobs.len()),
        jobs,
        session: Some(writer.clone()),
        prices: PriceTable::default(),
        provider_counts: true,
    };
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        plan.run(move |r| {
            seen.lock().unwrap().push(r);
            true
        }),
    )
    .await
    .expect("the send ends");
    writer.close();

    let reports = reports.lock().unwrap().clone();
    let mut events: BTreeMap<usize, Vec<StreamEvent>> = BTreeMap::new();
    let (mut blocked, mut notes) = (Vec::new(), Vec::new());
    for r in reports {
        match r {
            Report::Event { job, event, .. } => events.entry(job.0).or_default().push(event),
            Report::Blocked { job, event, .. } => blocked.push((job.0, event)),
            Report::CounterFailed { job, note } => notes.push((job.0, note)),
        }
    }
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].0, 3);
    assert!(matches!(&blocked[0].1, StreamEvent::Failed(e) if e.kind == ErrorKind::ContextLength));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, 7);
    assert!(
        notes[0].1.contains("`counted`") && notes[0].1.contains("local count"),
        "{}",
        notes[0].1
    );
    // Both sent jobs streamed to the end under their own ids; the refused one never did.
    assert_eq!(events.keys().copied().collect::<Vec<_>>(), vec![5, 7]);
    for (id, evs) in &events {
        assert!(matches!(evs.last(), Some(StreamEvent::Done)), "job {id}: {evs:?}");
    }

    let session = prism::session::reader::load(&dir.path().join("s")).unwrap();
    let turn = &session.turns[0];
    assert_eq!(turn.answers.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(turn.answers[&0].text(), "Hello.");
    assert_eq!(turn.answers[&2].text(), "Hello.");
    assert!(turn.answers[&0].completed() && turn.answers[&2].completed());
    assert!(turn.answers[&1].text().is_empty());
}
