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
    prism_with(home, &KEYS, args)
}

/// Run prism with `keys` in its environment, logging everything into `home`; return all
/// it printed.
fn prism_with(home: &Path, keys: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new(PRISM)
        .args(args)
        .envs(keys.iter().copied())
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

/// Every file under `dir` (counted in `seen`), as text, through `check`.
fn scan_with(dir: &Path, seen: &mut usize, check: &dyn Fn(&Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan_with(&path, seen, check);
            continue;
        }
        *seen += 1;
        check(&path, &String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
    }
}

fn scan(dir: &Path, seen: &mut usize) {
    scan_with(dir, seen, &|path, text| {
        for (_, key) in KEYS {
            assert!(!text.contains(key), "{} contains a key", path.display());
        }
    });
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

/// A key of no known shape (not `sk-…`, not `AIza…`): only masking by value can hide it.
const CANARY: (&str, &str) = ("PRISM_CANARY_KEY", "Cnry7.q2Lm9-pX4zR8wKt");

/// Every 8-character run of the canary, the shortest run that is masked.
fn canary_runs() -> Vec<&'static str> {
    let key = CANARY.1;
    (0..=key.len() - prism::provider::secret::MIN_RUN)
        .map(|i| &key[i..i + prism::provider::secret::MIN_RUN])
        .collect()
}

fn assert_no_canary(what: &str, text: &str) {
    for run in canary_runs() {
        assert!(!text.contains(run), "{what} holds `{run}` of the key:\n{text}");
    }
}

/// Servers that echo whatever key they were sent, in every place a server can put it.
fn hostile(
    redirect_to: String,
) -> impl Fn(
    tokio::net::TcpStream,
    common::raw::Seen,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    use common::raw::{JSON, SSE, head, write_then_close};
    move |sock, seen| {
        let key = seen
            .header("authorization")
            .map(|v| v.trim_start_matches("Bearer ").to_string())
            .or_else(|| seen.header("x-api-key").map(str::to_string))
            .or_else(|| seen.header("x-goog-api-key").map(str::to_string))
            .unwrap_or_default();
        let path = seen.path().to_string();
        let id = format!("x-request-id: req-{key}");
        let reply = if path.starts_with("/echo401/") {
            let mut r = head("401 Unauthorized", &[JSON, &id]);
            r.extend_from_slice(
                format!(r#"{{"error":{{"message":"Incorrect API key provided: {key}. Find yours at the console.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#)
                    .as_bytes(),
            );
            r
        } else if path.starts_with("/echotext/") && path.ends_with("/count_tokens") {
            let mut r = head("400 Bad Request", &[JSON]);
            r.extend_from_slice(
                format!(r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"counter refused key {key}"}}}}"#).as_bytes(),
            );
            r
        } else if path.starts_with("/echotext/") {
            let mut r = head("200 OK", &[SSE, &format!("request-id: {key}")]);
            let text = serde_json::to_string(&format!("You sent me {key} as your key.")).unwrap();
            r.extend_from_slice(format!(
                "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"usage\":{{\"input_tokens\":5,\"output_tokens\":1}}}}}}\n\n\
                 event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}\n\n\
                 event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{text}}}}}\n\n\
                 event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":9}}}}\n\n\
                 event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
            ).as_bytes());
            r
        } else if path.starts_with("/split/") {
            // The key in pieces shorter than any masked run, one per event.
            let mut r = head("200 OK", &[SSE]);
            let pieces: Vec<String> = key
                .as_bytes()
                .chunks(5)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            for p in std::iter::once("key: ".to_string()).chain(pieces) {
                let p = serde_json::to_string(&p).unwrap();
                r.extend_from_slice(format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{p}}},\"finish_reason\":null}}]}}\n\n").as_bytes());
            }
            r.extend_from_slice(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}\n\ndata: [DONE]\n\n");
            r
        } else if path.starts_with("/gemini/") {
            let mut r = head("429 Too Many Requests", &[JSON, "retry-after: inf"]);
            r.extend_from_slice(
                format!(r#"{{"error":{{"code":429,"message":"quota for key {key} exhausted","status":"RESOURCE_EXHAUSTED"}}}}"#).as_bytes(),
            );
            r
        } else {
            head(
                "307 Temporary Redirect",
                &[&format!("location: {redirect_to}{path}")],
            )
        };
        Box::pin(async move { write_then_close(sock, &reply).await })
    }
}

#[test]
fn a_canary_key_echoed_back_by_hostile_servers_never_leaves_prism() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, elsewhere) = runtime.block_on(async {
        // Whoever a redirect points at: it must never hear from Prism.
        let elsewhere = common::raw::RawServer::start(|_, _| async {}).await;
        let server = common::raw::RawServer::start(hostile(elsewhere.url())).await;
        (server, elsewhere)
    });
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let base = server.url();
    let target = |name: &str, provider: &str, model: &str, path: &str, extra: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nprovider = \"{provider}\"\nmodel = \"{model}\"\nbase_url = \"{base}{path}\"\napi_key_env = \"{}\"\n{extra}\n",
            CANARY.0
        )
    };
    let config = [
        "[defaults]\nmax_retries = 1\nmax_tokens = 32\n\n".to_string(),
        target("echo401", "openai", "gpt-4o-mini-2024-07-18", "/echo401/v1", ""),
        target(
            "echotext",
            "anthropic",
            "claude-sonnet-4-20250514",
            "/echotext",
            "count_tokens = true",
        ),
        target("split", "openai-compatible", "house-model", "/split/v1", ""),
        target("gemini", "gemini", "gemini-2.5-flash", "/gemini", ""),
        target(
            "redirected",
            "anthropic",
            "claude-sonnet-4-20250514",
            "/redirect",
            "",
        ),
    ]
    .concat();
    std::fs::write(h.join("prism.toml"), config).unwrap();
    let run = |args: &[&str]| prism_with(h, &[CANARY], args);
    let mut printed = run(&["run", "--format", "jsonl", "--prompt", "Say hi"]);
    // Every fault happened as intended (the masking is what hides the key in them).
    for expected in [
        "\"target\":\"echo401\"",
        "Incorrect API key provided: [redacted]",
        "You sent me [redacted] as your key.",
        "key: [redacted]",
        "quota for key [redacted] exhausted",
        "redirects are not followed",
    ] {
        assert!(printed.contains(expected), "missing {expected:?} in:\n{printed}");
    }
    assert!(printed.contains("token counter failed"), "{printed}");
    let id = printed
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a saved session")
        .to_string();
    printed += &run(&["run", "--format", "table", "--prompt", "Say hi"]);
    printed += &run(&["sessions", "list"]);
    printed += &run(&["sessions", "show", &id]);
    for format in ["md", "json", "csv"] {
        printed += &run(&["export", &id, "--format", format]);
        let out = h.join(format!("export.{format}"));
        printed += &run(&["export", &id, "--format", format, "-o", out.to_str().unwrap()]);
        assert!(out.is_file(), "export {format} written");
    }
    printed += &run(&["rerun", &id, "--format", "json"]);
    // A key pasted where the variable's name belongs is refused without being echoed.
    let pasted = h.join("pasted.toml");
    std::fs::write(
        &pasted,
        format!(
            "[[target]]\nname = \"p\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\napi_key_env = \"{}\"\n",
            CANARY.1
        ),
    )
    .unwrap();
    let refusal = run(&["run", "--config", pasted.to_str().unwrap(), "--prompt", "hi"]);
    assert!(refusal.contains("api_key_env"), "{refusal}");
    printed += &refusal;

    assert_no_canary("output", &printed);
    let mut seen = 0;
    scan_for_canary(h, &mut seen);
    assert!(
        h.join("log").join("prism.log").is_file(),
        "the log was written, so it was scanned"
    );
    assert!(seen >= 12, "scanned {seen} files");
    assert_eq!(
        elsewhere.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a redirect carried a request to another host"
    );
    drop(runtime);
}

fn scan_for_canary(dir: &Path, seen: &mut usize) {
    scan_with(dir, seen, &|path, text| {
        // The user's own file, which holds the mistake.
        if !path.ends_with("pasted.toml") {
            assert_no_canary(&path.display().to_string(), text);
        }
    });
}
