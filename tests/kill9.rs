//! Crash safety of autosave, against a real child process: `prism run` streams from the
//! mock server, the streams stall mid-answer, the process is killed with SIGKILL, and the
//! session must open afterwards with every delta that arrived more than one flush
//! interval before the kill, each stream marked interrupted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prism::mock_server::MockServer;
use prism::session::{self, replay, schema::EventBody};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const SECRET: &str = "sk-test-KILL9-0123456789abcdef";
/// Deltas each stream sends before it stalls.
const BEFORE_STALL: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_keeps_every_flushed_delta_and_marks_the_streams_interrupted() {
    let mock = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stall = format!("tokens=60,tps=400,fault=stall_mid,after={BEFORE_STALL},stall_ms=120000");
    let config = format!(
        r#"
[[target]]
name = "openai"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+{stall},seed=3"
base_url = "{openai}"
api_key_env = "PRISM_KILL9_OPENAI"

[[target]]
name = "anthropic"
provider = "anthropic"
model = "claude-sonnet-4-20250514+{stall},seed=4"
base_url = "{anthropic}"
api_key_env = "PRISM_KILL9_ANTHROPIC"
"#,
        openai = mock.openai_base(),
        anthropic = mock.anthropic_base(),
    );
    let cfg = dir.path().join("prism.toml");
    std::fs::write(&cfg, config).unwrap();
    let sessions = dir.path().join("sessions");
    let mut child = Command::new(PRISM)
        .args(["run", "--config"])
        .arg(&cfg)
        .args(["--format", "jsonl", "--prompt", "Tell me a long story."])
        .env("PRISM_SESSIONS_DIR", &sessions)
        .env("PRISM_KILL9_OPENAI", SECRET)
        .env("PRISM_KILL9_ANTHROPIC", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until both streams have sent their deltas and gone silent.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let records = mock.log().records();
        if records.len() == 2 && records.iter().all(|r| r.content_events >= BEFORE_STALL) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "streams never reached the stall: {records:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Ten flush intervals of silence: everything received must be on disk by now.
    tokio::time::sleep(session::writer::FLUSH_EVERY * 10).await;
    child.kill().unwrap(); // SIGKILL: no destructors, no flush, no signal handler
    let status = child.wait().unwrap();
    assert!(!status.success());

    let listed = session::store::list(&sessions).unwrap();
    assert_eq!(listed.len(), 1, "one session directory");
    let s = session::load(&listed[0].dir).unwrap();
    assert!(s.interrupted());
    assert_eq!(s.turns.len(), 1);
    let turn = &s.turns[0];
    assert_eq!(turn.prompt, "Tell me a long story.");
    for (target, recorded) in &turn.answers {
        // A record holds every piece one read brought: on a loaded machine two deltas
        // can share a read.
        let texts: usize = recorded
            .events
            .iter()
            .map(|(_, e)| match e {
                EventBody::Text { pieces, .. } => pieces.map_or(1, |n| n as usize),
                _ => 0,
            })
            .sum();
        assert_eq!(
            texts, BEFORE_STALL,
            "target {target}: every delta sent before the stall is saved"
        );
        assert!(recorded.interrupted && recorded.row.is_none());
        assert!(!recorded.text().is_empty());
    }
    // Replaying it ends each stream as interrupted, with the saved text.
    let steps = replay::schedule(turn);
    let ends: Vec<_> = steps
        .iter()
        .filter(|st| matches!(&st.event, EventBody::Failed { kind, .. } if kind.as_str() == "interrupted"))
        .collect();
    assert_eq!(ends.len(), 2);

    // No key in anything written.
    for entry in std::fs::read_dir(&listed[0].dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
    }
    mock.shutdown().await;
}
