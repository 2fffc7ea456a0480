//! No key in anything Prism writes: fake keys are set in the environment of real `prism`
//! processes, which then save, show, export and re-run sessions with logging at `trace`;
//! every file written and everything printed is scanned for the key values.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const KEYS: [(&str, &str); 3] = [
    ("PRISM_SECRET_OPENAI", "sk-proj-FAKE0penAiKey0123456789"),
    ("PRISM_SECRET_ANTHROPIC", "sk-ant-api03-FAKEanthropicKey987"),
    ("PRISM_SECRET_GEMINI", "AIzaFAKEgeminiKey-4242424242"),
];

use common::MockProcess;

/// Run prism with the fake keys, logging everything into `home`; return all it printed.
fn prism(home: &Path, args: &[&str]) -> String {
    let out = Command::new(PRISM)
        .args(args)
        .envs(KEYS)
        .env("PRISM_SESSIONS_DIR", home.join("sessions"))
        .env("PRISM_LOG", "trace")
        .env("PRISM_LOG_DIR", home.join("log"))
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .current_dir(home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scan(dir: &Path, seen: &mut usize) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, seen);
            continue;
        }
        *seen += 1;
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for (_, key) in KEYS {
            assert!(!text.contains(key), "{} contains a key", path.display());
        }
    }
}

#[test]
fn keys_never_reach_sessions_exports_logs_or_output() {
    let mock = MockProcess::start();
    let home = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[[target]]
name = "openai"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+tokens=30"
base_url = "http://{a}/v1"
api_key_env = "PRISM_SECRET_OPENAI"

[[target]]
name = "anthropic"
provider = "anthropic"
model = "claude-sonnet-4-20250514+tokens=30"
base_url = "http://{a}"
api_key_env = "PRISM_SECRET_ANTHROPIC"

[[target]]
name = "gemini"
provider = "gemini"
model = "gemini-2.5-flash+tokens=30,fault=401"
base_url = "http://{a}"
api_key_env = "PRISM_SECRET_GEMINI"
"#,
        a = mock.addr
    );
    std::fs::write(home.path().join("prism.toml"), config).unwrap();
    let h = home.path();
    let mut printed = prism(h, &["run", "--format", "jsonl", "--prompt", "Say hi"]);
    let id = printed
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a saved session")
        .to_string();
    printed += &prism(h, &["sessions", "list"]);
    printed += &prism(h, &["sessions", "show", &id]);
    for format in ["md", "json", "csv"] {
        let out = h.join(format!("export.{format}"));
        printed += &prism(
            h,
            &["export", &id, "--format", format, "-o", out.to_str().unwrap()],
        );
        assert!(out.is_file(), "export {format} written");
    }
    printed += &prism(h, &["rerun", &id, "--format", "json"]);
    assert_eq!(
        std::fs::read_dir(h.join("sessions")).unwrap().count(),
        2,
        "the re-run was saved as a session of its own:\n{printed}"
    );
    for (_, key) in KEYS {
        assert!(!printed.contains(key), "a key was printed:\n{printed}");
    }
    let mut seen = 0;
    scan(h, &mut seen);
    assert!(
        h.join("log").join("prism.log").is_file(),
        "the log was written, so it was scanned"
    );
    assert!(seen >= 9, "scanned {seen} files");
}
