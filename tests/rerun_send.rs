//! A re-run goes through the one send-and-record path over real loopback HTTP: every
//! report carries the caller's job id (a pane, never an entry position), the new session
//! records the chosen targets in their new order after the earlier turns it copied.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::raw::{RawServer, SSE, head, write_then_close};
use prism::engine::{Cancels, RunId};
use prism::pricing::PriceTable;
use prism::provider::event::StreamEvent;
use prism::provider::request::ChatRequest;
use prism::session::SessionWriter;
use prism::session::reader::load;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::workflows::rerun::{plan, resend};
use prism::workflows::send::{Job, JobId, Report, Send, SessionTarget};

const ANSWER: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello.\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

async fn serve() -> String {
    let server = RawServer::start(|socket, _request| async move {
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

fn target(base: &str, name: &str) -> Target {
    let mut params = Params {
        max_tokens: Some(16),
        stream: true,
        ..Params::default()
    };
    params.timeouts.connect = Duration::from_millis(500);
    Target {
        name: name.into(),
        provider: ProviderKind::Anthropic,
        model: "claude-sonnet-4-20250514".into(),
        base_url: base.into(),
        key: KeySource::None,
        params,
    }
}

/// Runs `send`, gathering every report; fails the test if it hangs.
async fn gather(send: Send) -> Vec<Report> {
    let mut reports = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        send.run(|r| {
            reports.push(r);
            true
        }),
    )
    .await
    .expect("the send ends");
    reports
}

/// A session of `targets` with two turns, every target answering both.
async fn record(dir: &Path, targets: &[Target]) {
    let writer = SessionWriter::create_at(dir, targets, PriceTable::default()).unwrap();
    for turn in 1..=2u32 {
        let jobs = targets
            .iter()
            .enumerate()
            .map(|(k, t)| Job {
                id: JobId(k),
                session: SessionTarget(k),
                target: t.clone(),
                request: ChatRequest::single(None, "hi"),
                history: Vec::new(),
                blocked: None,
            })
            .collect();
        gather(Send {
            run: RunId(u64::from(turn)),
            turn,
            system: None,
            prompt: "hi".into(),
            jobs,
            session: Some(writer.clone()),
            prices: PriceTable::default(),
            cancels: Cancels::new(targets.len()),
            provider_counts: false,
        })
        .await;
    }
    writer.close();
    assert!(writer.error().is_none());
}

#[tokio::test]
async fn a_rerun_reports_by_job_id_and_records_by_its_new_target_order() {
    let base = serve().await;
    let targets = vec![target(&base, "a"), target(&base, "b"), target(&base, "c")];
    let dir = tempfile::tempdir().unwrap();
    record(&dir.path().join("old"), &targets).await;
    let old = load(&dir.path().join("old")).unwrap();

    // Only `a` and `c`: in the new session they are targets 0 and 1.
    let wanted = vec!["a".to_string(), "c".to_string()];
    let entries = plan(&old, &wanted, None, None, &PriceTable::default()).unwrap();
    assert_eq!(entries.iter().map(|e| e.index).collect::<Vec<_>>(), vec![0, 2]);
    let new_targets: Vec<Target> = entries.iter().map(|e| e.target.clone()).collect();
    let writer =
        SessionWriter::create_at(&dir.path().join("new"), &new_targets, PriceTable::default()).unwrap();
    // Job ids as the workbench uses them (live panes): neither entry nor session index.
    let ids = [JobId(11), JobId(13)];
    let send = resend(
        &old,
        &entries,
        &ids,
        Some(&writer),
        &PriceTable::default(),
        Cancels::new(entries.len()),
    );
    let reports = gather(send).await;
    writer.close();
    assert!(writer.error().is_none());

    let mut events: BTreeMap<usize, Vec<StreamEvent>> = BTreeMap::new();
    for r in reports {
        match r {
            Report::Event { job, event, .. } => events.entry(job.0).or_default().push(event),
            other => panic!("a re-run is neither refused nor counted again: {other:?}"),
        }
    }
    assert_eq!(events.keys().copied().collect::<Vec<_>>(), vec![11, 13]);
    for (id, evs) in &events {
        assert!(matches!(evs.last(), Some(StreamEvent::Done)), "job {id}: {evs:?}");
    }

    let new = load(&dir.path().join("new")).unwrap();
    let names: Vec<&str> = new.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["a", "c"]);
    // The earlier turn copied as recorded, then the new answers to the last turn.
    assert_eq!(new.turns.iter().map(|t| t.number).collect::<Vec<_>>(), vec![1, 2]);
    for turn in &new.turns {
        assert_eq!(
            turn.answers.keys().copied().collect::<Vec<_>>(),
            vec![0, 1],
            "turn {}",
            turn.number
        );
        for answer in turn.answers.values() {
            assert_eq!(answer.text(), "Hello.");
            assert!(answer.completed());
        }
    }
}
