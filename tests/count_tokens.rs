//! The providers' token counters (`count_tokens = true`) against counters that misbehave:
//! one that accepts and never answers, one that only answers once every target has asked.
//! The counter obeys the target's timeouts and the send's cancellation, runs for every
//! target at once, and on failure the local count is used with a note.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::raw::{JSON, RawServer, SSE, Seen, head, write_then_close};
use prism::provider::count::{Counted, count_all};
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How the counter endpoint behaves; `/v1/messages` always streams a short answer.
#[derive(Clone, Copy)]
enum Counter {
    /// Accept, read the request, never answer.
    Silent,
    /// Answer only after `n` count requests have arrived (a sequential client deadlocks).
    Rendezvous(usize),
}

const ANSWER: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello.\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// Serve on a free loopback port; returns the base URL and how many count requests came.
async fn serve(counter: Counter) -> (String, Arc<AtomicUsize>) {
    let counted = Arc::new(AtomicUsize::new(0));
    let arrived = Arc::new(Notify::new());
    let seen = counted.clone();
    let server = RawServer::start(move |socket, request| {
        let (seen, arrived) = (seen.clone(), arrived.clone());
        async move { answer(socket, &request, counter, seen, arrived).await }
    })
    .await;
    let base = server.url();
    // The listener task keeps serving; the handle is not needed any more.
    drop(server);
    (base, counted)
}

async fn answer(
    mut socket: TcpStream,
    request: &Seen,
    counter: Counter,
    seen: Arc<AtomicUsize>,
    arrived: Arc<Notify>,
) {
    if !request.path().ends_with("/count_tokens") {
        let mut reply = head("200 OK", &[SSE]);
        reply.extend_from_slice(ANSWER.as_bytes());
        return write_then_close(socket, &reply).await;
    }
    let content_types = request
        .head
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("content-type:"))
        .count();
    if content_types != 1 {
        let mut reply = head("400 Bad Request", &[JSON]);
        reply.extend_from_slice(
            format!(r#"{{"error":{{"message":"{content_types} content-type headers"}}}}"#).as_bytes(),
        );
        return write_then_close(socket, &reply).await;
    }
    let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
    match counter {
        // Hold the connection open and say nothing.
        Counter::Silent => tokio::time::sleep(Duration::from_secs(3600)).await,
        Counter::Rendezvous(all) => {
            arrived.notify_waiters();
            while seen.load(Ordering::SeqCst) < all {
                let wait = arrived.notified();
                if seen.load(Ordering::SeqCst) >= all {
                    break;
                }
                wait.await;
            }
            let mut reply = head("200 OK", &[JSON]);
            reply.extend_from_slice(format!("{{\"input_tokens\":{}}}", 40 + n).as_bytes());
            let _ = socket.write_all(&reply).await;
        }
    }
}

fn target(base: &str, name: &str, response_timeout: Duration) -> Target {
    let mut params = Params {
        max_tokens: Some(16),
        stream: true,
        count_tokens: true,
        ..Params::default()
    };
    params.timeouts.headers = response_timeout;
    Target {
        name: name.into(),
        provider: ProviderKind::Anthropic,
        model: "claude-sonnet-4-20250514".into(),
        base_url: base.into(),
        key: KeySource::Demo,
        params,
    }
}

#[tokio::test]
async fn counters_run_at_once_for_every_target() {
    let (base, counted) = serve(Counter::Rendezvous(2)).await;
    let (a, b) = (
        target(&base, "a", Duration::from_secs(20)),
        target(&base, "b", Duration::from_secs(20)),
    );
    let request = ChatRequest::single(None, "hi");
    let tokens = [CancellationToken::new(), CancellationToken::new()];
    let counts = tokio::time::timeout(
        Duration::from_secs(30),
        count_all(&[(&a, &request), (&b, &request)], &tokens),
    )
    .await
    .expect("hang guard");
    // One after the other, the first counter would wait for a second request that never comes.
    let mut exact: Vec<u64> = counts
        .iter()
        .map(|c| match c {
            Counted::Exact(n) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    exact.sort_unstable();
    assert_eq!(exact, [41, 42]);
    assert_eq!(counted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_silent_counter_times_out_and_a_cancel_stops_it() {
    let (base, _) = serve(Counter::Silent).await;
    let request = ChatRequest::single(None, "hi");
    let quick = target(&base, "quick", Duration::from_millis(300));
    let counts = tokio::time::timeout(
        Duration::from_secs(30),
        count_all(&[(&quick, &request)], &[CancellationToken::new()]),
    )
    .await
    .expect("the counter obeys response_timeout");
    let Counted::Failed(e) = &counts[0] else {
        panic!("{counts:?}")
    };
    assert!(e.message.contains("response_timeout"), "{}", e.message);

    let patient = target(&base, "patient", Duration::from_secs(3600));
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        later.cancel();
    });
    let counts = tokio::time::timeout(
        Duration::from_secs(30),
        count_all(&[(&patient, &request)], &[cancel]),
    )
    .await
    .expect("a cancel ends the count");
    assert_eq!(counts, [Counted::Cancelled]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_cancels_a_send_stuck_in_counting_and_sends_on_a_failed_count() {
    use prism::tui::effects::executor::{Executor, NoTerminal};
    use prism::tui::model::msg::{Effect, Job, Msg};
    let (base, _) = serve(Counter::Silent).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = Executor::new(prism::pricing::PriceTable::builtin().unwrap());
    let start = |run: u64, pane: usize, target: Target| Effect::StartRun {
        run: prism::engine::RunId(run),
        turn: 1,
        system: None,
        prompt: "hi".into(),
        jobs: vec![Job {
            pane,
            target,
            request: ChatRequest::single(None, "hi"),
            history: vec![],
            blocked: None,
        }],
    };
    // Pane 0 waits on a counter that never answers until Ctrl+G; pane 1's counter gives up
    // after its response_timeout and the prompt is sent on the local count.
    runner.apply(
        start(1, 0, target(&base, "stuck", Duration::from_secs(3600))),
        &tx,
        &mut NoTerminal,
    );
    runner.apply(
        start(2, 1, target(&base, "fallback", Duration::from_millis(300))),
        &tx,
        &mut NoTerminal,
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    runner.apply(
        Effect::Cancel {
            run: prism::engine::RunId(1),
            pane: None,
        },
        &tx,
        &mut NoTerminal,
    );
    let mut ends = std::collections::HashMap::new();
    let mut notices = Vec::new();
    while ends.len() < 2 {
        let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("hang guard")
            .unwrap();
        match msg {
            Msg::Stream { pane, env } if env.event.is_terminal() => {
                ends.insert(pane, env.event);
            }
            Msg::Notice(n) => notices.push(n),
            _ => {}
        }
    }
    assert_eq!(ends[&0], prism::provider::event::StreamEvent::Cancelled);
    assert_eq!(ends[&1], prism::provider::event::StreamEvent::Done);
    assert!(
        notices.iter().any(|n| n.contains("`fallback`")
            && n.contains("token counter failed")
            && n.contains("local count")),
        "{notices:?}"
    );
}

#[test]
fn prism_run_does_not_hang_on_a_silent_counter() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (base, _) = runtime.block_on(serve(Counter::Silent));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prism.toml");
    std::fs::write(
        &config,
        format!(
            "[defaults]\ncount_tokens = true\nresponse_timeout = 0.3\nmax_tokens = 16\n\n\
             [[target]]\nname = \"one\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\nbase_url = \"{base}\"\napi_key_env = \"PRISM_COUNT_TEST_KEY\"\n\n\
             [[target]]\nname = \"two\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\nbase_url = \"{base}\"\napi_key_env = \"PRISM_COUNT_TEST_KEY\"\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prism"))
        .args(["run", "--no-save", "--format", "jsonl", "--config"])
        .arg(&config)
        .args(["--prompt", "say hello"])
        .env("PRISM_COUNT_TEST_KEY", "count-test-key-value")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Hang guard: the run must end on its own well before this.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("prism run hung on a counter that never answers");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.lines().all(|l| l.contains("\"status\":\"ok\"")),
        "{stdout}"
    );
    assert_eq!(stderr.matches("token counter failed").count(), 2, "{stderr}");
    assert!(stderr.contains("response_timeout"), "{stderr}");
    drop(runtime);
}
