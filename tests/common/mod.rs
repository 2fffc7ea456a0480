//! Pieces several end-to-end suites share: a target pointed at the in-process mock
//! server, and a `prism mock` child process.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each suite uses a part

pub mod bench;
pub mod raw;
pub mod run;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use prism::mock_server::MockServer;
use prism::target::{KeySource, Params, ProviderKind, Target};

/// A streaming target of `provider` on `server`, with the demo's placeholder key.
pub fn mock_target(
    server: &MockServer,
    name: &str,
    provider: ProviderKind,
    model: &str,
    max_tokens: u32,
) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: server.base_url(provider),
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(max_tokens),
            stream: true,
            ..Params::default()
        },
    }
}

/// `prism mock` on a free loopback port, killed when dropped.
pub struct MockProcess {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl MockProcess {
    /// Start it and wait for the address it announces.
    pub fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_prism"))
            .args(["mock", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn prism mock");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "unexpected banner {line:?}");
        Self { child, addr }
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether util-linux `script` is here to give a test a real pseudo-terminal; says why a
/// test is skipped when it is not.
pub fn script_available() -> bool {
    tool_available(
        "script",
        "--version",
        "`script` (util-linux)",
        "these tests need a real pty",
    )
}

/// Whether `program` answers `probe` successfully; when it does not, says on stdout and
/// stderr that the calling test is skipped, naming it `shown` and giving `why`.
pub fn tool_available(program: &str, probe: &str, shown: &str, why: &str) -> bool {
    let found = Command::new(program)
        .arg(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("SKIPPED: {shown} is not installed; {why}");
        eprintln!("SKIPPED: {shown} is not installed; {why}");
    }
    found
}
