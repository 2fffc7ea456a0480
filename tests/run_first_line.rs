//! `prism run` on a terminal shows what it is about to send before the pre-flight counts
//! the prompt, and the pre-flight still refuses before anything is sent.
//!
//! `prism run` runs in a pseudo-terminal from `script` (progress lines are drawn only when
//! stderr is a terminal) against a raw loopback server playing Anthropic: it holds the
//! `count_tokens` request it receives until the target's progress line has reached the
//! terminal, or a hang guard far shorter than the counter's own timeout has passed. Without
//! `script` the tests say why and pass.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::script_available;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const TARGET: &str = "counted-target";
/// Only a hung run reaches it.
const HANG_GUARD: Duration = Duration::from_secs(60);
/// How long a held count waits for the progress line; the counter's own timeout (120 s)
/// is far longer, so a line drawn only after counting cannot sneak in.
const LINE_GUARD: Duration = Duration::from_secs(10);

/// What the server saw, in order: each request's path.
type Seen = Arc<Mutex<Vec<String>>>;

/// A loopback Anthropic that answers `count_tokens` with `input_tokens` once the test
/// lets it (`go`), and every message request with a 400 (this test needs no answer).
fn serve(input_tokens: u64, arrived: Sender<()>, go: Receiver<()>) -> (String, Seen) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some(path) = read_request(&mut conn) else {
                continue;
            };
            log.lock().unwrap().push(path.clone());
            let (status, body) = if path.ends_with("/count_tokens") {
                let _ = arrived.send(());
                let _ = go.recv_timeout(HANG_GUARD);
                ("200 OK", format!("{{\"input_tokens\":{input_tokens}}}"))
            } else {
                (
                    "400 Bad Request",
                    r#"{"type":"error","error":{"type":"invalid_request_error","message":"test server: no answers here"}}"#
                        .to_string(),
                )
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

/// The path of the request on `conn`, its body read so the client's write completes.
fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < head_end + length {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    head.split_whitespace().nth(1).map(str::to_string)
}

/// `prism run` in a pseudo-terminal; killed and reaped when dropped.
struct Run {
    script: Child,
    screen: Arc<Mutex<Vec<u8>>>,
    _dir: tempfile::TempDir,
}

impl Run {
    fn start(base: &str, extra_config: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prism.toml");
        std::fs::write(
            &config,
            format!(
                "{extra_config}\n[[target]]\nname = \"{TARGET}\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\nbase_url = \"{base}\"\napi_key_env = \"PRISM_FIRST_LINE_KEY\"\ncount_tokens = true\nmax_tokens = 16\n"
            ),
        )
        .unwrap();
        let shell = format!(
            "stty cols 120 rows 30; exec {PRISM} run --no-save --format jsonl --prompt 'say hello' --config {}",
            config.display()
        );
        let mut script = Command::new("script")
            .args(["-qfec", &shell, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm-256color")
            .env("PRISM_FIRST_LINE_KEY", "first-line-test-key")
            .env_remove("PRISM_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut output = script.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Run {
            script,
            screen,
            _dir: dir,
        }
    }

    fn shown(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    fn wait_until(&self, guard: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let start = Instant::now();
        while !done(self) {
            if start.elapsed() > guard {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Waits for `prism run` to end (the pty's output closes with it).
    fn wait_for_exit(&mut self) {
        let start = Instant::now();
        while self.script.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < HANG_GUARD,
                "prism run did not end; it showed:\n{}",
                self.shown()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.script.kill();
        let _ = self.script.wait();
    }
}

#[test]
fn the_progress_line_shows_before_the_provider_counts_the_prompt() {
    if !script_available() {
        return;
    }
    let (arrived, count_arrived) = channel();
    let (let_go, go) = channel();
    let (base, seen) = serve(9, arrived, go);
    let mut run = Run::start(&base, "");
    count_arrived
        .recv_timeout(HANG_GUARD)
        .unwrap_or_else(|_| panic!("no count_tokens request arrived; prism showed:\n{}", run.shown()));
    // The count is held: whatever is on the terminal now was drawn before counting ended.
    let shown_while_counting = run.wait_until(LINE_GUARD, |r| r.shown().contains(TARGET));
    let_go.send(()).unwrap();
    assert!(
        shown_while_counting,
        "the progress line was not on the terminal while the provider counted the prompt; it showed:\n{}",
        run.shown()
    );
    run.wait_for_exit();
    let paths = seen.lock().unwrap().clone();
    assert_eq!(
        paths,
        ["/v1/messages/count_tokens", "/v1/messages"],
        "the count first, then the send"
    );
}

/// Runs `prism run` against a counter that reports `input_tokens`, with `config_extra` in
/// its config, lets the count answer, and checks the run was refused for `why` with
/// nothing sent after the count.
fn refused_after_the_count(input_tokens: u64, config_extra: &str, why: &str) {
    let (arrived, count_arrived) = channel();
    let (let_go, go) = channel();
    let (base, seen) = serve(input_tokens, arrived, go);
    let mut run = Run::start(&base, config_extra);
    count_arrived
        .recv_timeout(HANG_GUARD)
        .unwrap_or_else(|_| panic!("no count_tokens request arrived; prism showed:\n{}", run.shown()));
    let_go.send(()).unwrap();
    run.wait_for_exit();
    let shown = run.shown();
    assert!(shown.contains(why), "{shown}");
    assert_eq!(
        seen.lock().unwrap().clone(),
        ["/v1/messages/count_tokens"],
        "nothing may be sent after the pre-flight refused; prism showed:\n{shown}"
    );
}

#[test]
fn a_prompt_the_counter_finds_too_long_is_still_refused_before_sending() {
    if !script_available() {
        return;
    }
    // Far over the model's context window.
    refused_after_the_count(10_000_000, "", "not sent");
}

#[test]
fn a_run_over_budget_is_still_refused_before_sending() {
    if !script_available() {
        return;
    }
    refused_after_the_count(9, "budget_usd = 0.0000001\n", "over budget_usd");
}
