//! The `prism run` the benches measure: `streams` identical targets on one server, from a
//! config written next to the run. Shared by `wire_cpu` and `memory` (each includes it
//! with `#[path]`), so both measure the same command.

#![allow(dead_code)] // each bench uses a part

use std::path::Path;
use std::process::{Command, Stdio};

/// `streams` targets of `provider` (`openai`, `anthropic`...) playing `model` at
/// `base_url`; the server sends whole streams of its own length.
#[derive(Debug, Clone)]
pub struct Streams<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    pub base_url: String,
    pub streams: usize,
    /// Set on each target when the server honours it (the mock itself does; the static
    /// servers send their whole recording whatever the request asks).
    pub max_tokens: Option<u64>,
}

/// `bin run --no-save --format jsonl` on `streams`, its config and sessions in `dir`;
/// stdin and stdout null, stderr piped (for the failure message).
///
/// Unless `streams.max_tokens` says otherwise the targets set no `max_tokens`: the
/// static servers send their whole recording whatever the request asks (Anthropic
/// requests carry Prism's default cap, ignored like any other), while a cap as long as a
/// long stream (1M tokens) is over the model's context window, so the pre-flight check
/// would refuse the send before it started.
pub fn prism_run(bin: &str, streams: &Streams<'_>, dir: &Path) -> Command {
    let mut cfg = String::new();
    for i in 0..streams.streams {
        cfg.push_str(&format!(
            "[[target]]\nname = \"t{i}\"\nprovider = \"{}\"\nmodel = \"{}\"\nbase_url = \"{}\"\napi_key_env = \"PRISM_BENCH_KEY\"\n\n",
            streams.provider, streams.model, streams.base_url,
        ));
        if let Some(n) = streams.max_tokens {
            // Inside the target's table: the line above it ended with a blank line.
            cfg.truncate(cfg.len() - 1);
            cfg.push_str(&format!("max_tokens = {n}\n\n"));
        }
    }
    let path = dir.join("prism.toml");
    std::fs::write(&path, cfg).unwrap();
    let mut c = Command::new(bin);
    c.args([
        "run",
        "--no-save",
        "--format",
        "jsonl",
        "--prompt",
        "benchmark",
        "--config",
    ])
    .arg(&path)
    .env("PRISM_BENCH_KEY", "sk-bench-not-a-key")
    .env("PRISM_SESSIONS_DIR", dir)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

/// The `prism` binaries to measure, labelled: `PRISM_BENCH_BINS=label=path,...`, or this
/// build's.
pub fn bins() -> Vec<(String, String)> {
    match std::env::var("PRISM_BENCH_BINS") {
        Ok(list) => list
            .split(',')
            .map(|b| {
                let (label, path) = b.split_once('=').expect("PRISM_BENCH_BINS: label=path,...");
                (label.to_string(), path.to_string())
            })
            .collect(),
        Err(_) => vec![("this".into(), env!("CARGO_BIN_EXE_prism").into())],
    }
}
