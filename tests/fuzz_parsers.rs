//! Fuzzing the SSE framing and every provider's decoder: arbitrary bytes and mutated
//! real streams, in arbitrary splits, must never panic and never produce more output
//! than input. CI runs a bounded number of cases; for a long run:
//!
//! `PRISM_FUZZ_CASES=200000 cargo test --release --test fuzz_parsers`

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Instant;

use prism::engine::metrics::TargetRun;
use prism::provider::Decoder;
use prism::provider::event::StreamEvent;
use prism::provider::sse::SseDecoder;
use prism::target::ProviderKind;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn cases() -> u32 {
    std::env::var("PRISM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn fixtures() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire");
    let mut out = Vec::new();
    for dir in ["openai", "compat", "anthropic", "gemini"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            out.push(std::fs::read(path).unwrap());
        }
    }
    out.sort();
    out
}

/// Feed `bytes` split at `cuts` to the SSE decoder and every provider decoder, and the
/// whole thing to every non-streaming body parser. Returns the largest output seen.
fn exercise(bytes: &[u8], cuts: &[usize]) -> usize {
    let t = Instant::now();
    let mut most = 0;
    for kind in [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
    ] {
        let mut sse = SseDecoder::new();
        let mut dec = Decoder::new(kind);
        let mut run = TargetRun::default();
        let mut frames = Vec::new();
        let mut out = Vec::new();
        let mut prev = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let cut = cut.clamp(prev, bytes.len());
            sse.feed_into(&bytes[prev..cut], t, &mut frames);
            prev = cut;
            for f in frames.drain(..) {
                let _ = dec.on_sse(&f.event, &f.data, &mut out);
                for ev in out.drain(..) {
                    run.apply(t, &ev);
                }
            }
        }
        sse.finish();
        let _ = dec.is_complete();
        // Tool arguments are excluded: Gemini's are re-serialized JSON (`1e5` → `100000.0`).
        let produced = run.text.len() + run.reasoning.len();
        most = most.max(produced);
        let mut body = Decoder::new(kind);
        let mut events: Vec<StreamEvent> = Vec::new();
        let _ = body.on_body(&String::from_utf8_lossy(bytes), &mut events);
    }
    most
}

/// One random edit of a real stream: flip, delete, duplicate, insert or swap line ends.
fn mutate(mut b: Vec<u8>, ops: &[(u8, usize, usize, u8)]) -> Vec<u8> {
    for &(op, at, len, byte) in ops {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let at = at % b.len();
        let end = (at + len % 64).min(b.len());
        match op % 5 {
            0 => b[at] ^= byte | 1,
            1 => {
                b.drain(at..end);
            }
            2 => {
                let copy = b[at..end].to_vec();
                b.splice(at..at, copy);
            }
            3 => b.insert(at, byte),
            _ => {
                for x in &mut b[at..end] {
                    *x = match *x {
                        b'\n' => b'\r',
                        b'\r' => b'\n',
                        other => other,
                    };
                }
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(Config { cases: cases(), failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), cuts in proptest::collection::vec(any::<usize>(), 0..16)) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let produced = exercise(&bytes, &cuts);
        prop_assert!(produced <= bytes.len(), "{produced} bytes of output from {} of input", bytes.len());
    }

    #[test]
    fn mutated_real_streams_never_panic(
        pick in any::<usize>(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<u8>()), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..24),
    ) {
        let all = fixtures();
        let bytes = mutate(all[pick % all.len()].clone(), &ops);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        // JSON escapes only shrink text (`\u00e9` is 6 bytes for 2), so text never exceeds input.
        let produced = exercise(&bytes, &cuts);
        prop_assert!(produced <= bytes.len());
    }
}

// ---------------------------------------------------------------------------------------
// The config loader and the session reader: whatever the text, an answer or an error that
// says where, never a panic. Mutations aim at what users (and disks) actually get wrong:
// absurd numbers, duplicated or lost lines, and flipped bytes.

/// Values that have broken loaders before: out of range, not numbers, wrong types.
const NASTY_VALUES: [&str; 22] = [
    "1e30",
    "-1e30",
    "nan",
    "+inf",
    "-inf",
    "0",
    "-0.0",
    "-1",
    "1e-300",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "86400.0001",
    "2.0000001",
    "\"\"",
    "\"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789\"",
    "\"http://10.0.0.1/v1\"",
    "true",
    "[]",
    "{}",
];

/// Valid configs touching every key that takes a number.
const CONFIG_SEEDS: [&str; 3] = [
    "budget_usd = 1.5\nconfirm_above_usd = 0.25\n\n[defaults]\nmax_tokens = 256\ntemperature = 0.7\ntop_p = 0.9\nmax_retries = 3\nmax_retry_wait = 30\nconnect_timeout = 5\nresponse_timeout = 60\nidle_timeout = 30\ntotal_timeout = 300\n\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini-2024-07-18\"\nseed = 7\n\n[[target]]\nname = \"b\"\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-20250514\"\ntemperature = 1\n",
    "[[target]]\nname = \"local\"\nprovider = \"openai-compatible\"\nmodel = \"llama3.1:8b\"\nbase_url = \"http://10.0.0.5:11434/v1\"\napi_key_env = \"LOCAL_KEY\"\nallow_insecure_http = false\nstop = [\"END\"]\nstream = false\nextra = { num_ctx = 8192 }\n\n[pricing.\"llama3.1:8b\"]\ninput = \"0.1\"\noutput = \"0.2\"\ncontext_window = 131072\nmax_output = 8192\n",
    "theme = \"light\"\n[[target]]\nname = \"g\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\ntemperature = 2\ntop_p = 1\nmax_tokens = 1\n[keys.global]\nsend = \"ctrl-r\"\n",
];

/// Replace the value of some `key = value` lines with [`NASTY_VALUES`].
fn poison_values(text: &str, picks: &[(usize, usize)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let assignments: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(" = ")).collect();
    if assignments.is_empty() {
        return text.to_string();
    }
    for &(line, value) in picks {
        let i = assignments[line % assignments.len()];
        let key = lines[i].split(" = ").next().unwrap_or_default().to_string();
        lines[i] = format!("{key} = {}", NASTY_VALUES[value % NASTY_VALUES.len()]);
    }
    lines.join("\n") + "\n"
}

/// The loader's answer: a config inside every documented range, or an error at a real
/// position of the text.
fn check_config(text: &str) -> Result<(), TestCaseError> {
    use prism::config::{ConfigError, limits};
    let lines = text.split('\n').count();
    match prism::config::parse(text, Path::new("fuzz.toml")) {
        Ok(c) => {
            for t in &c.targets {
                let p = &t.params;
                prop_assert!(p.temperature.is_none_or(|v| (0.0..=2.0).contains(&v)), "{p:?}");
                prop_assert!(p.top_p.is_none_or(|v| (0.0..=1.0).contains(&v)), "{p:?}");
                prop_assert!(p.max_tokens != Some(0));
                prop_assert!(p.retry.max_retries <= limits::MAX_RETRIES);
                let day = std::time::Duration::from_secs(86_400);
                let times = [
                    p.timeouts.connect,
                    p.timeouts.headers,
                    p.timeouts.idle,
                    p.retry.max_wait,
                ];
                prop_assert!(
                    times
                        .iter()
                        .chain(p.timeouts.total.iter())
                        .all(|d| *d <= day && !d.is_zero()),
                    "{p:?}"
                );
            }
            for usd in [c.budget_usd, c.confirm_above_usd].into_iter().flatten() {
                prop_assert!(usd.is_finite() && usd >= 0.0);
            }
        }
        Err(ConfigError::Invalid {
            line, col, message, ..
        }) => {
            prop_assert!(
                (1..=lines + 1).contains(&line) && col >= 1,
                "{line}:{col}: {message}"
            );
            prop_assert!(!message.is_empty());
            // Other keys may quote their value; `api_key_env` is where keys get pasted.
            prop_assert!(
                !(message.contains("api_key_env") && message.contains("abcdefghijklmnopqrstuvwxyz")),
                "a pasted key echoed: {message}"
            );
        }
        Err(e) => prop_assert!(false, "parsing text read a file: {e}"),
    }
    Ok(())
}

/// A real session, as the writer leaves it: (events.jsonl, meta.json).
fn session_seed() -> &'static (Vec<u8>, Vec<u8>) {
    use prism::provider::event::{ErrorKind, Finish, FinishReason, ProviderError, ResponseStart, Usage};
    use prism::provider::request::ChatRequest;
    use prism::session::{Outgoing, SessionWriter};
    use prism::target::{KeySource, Params, Target};
    static SEED: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    SEED.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let target = |name: &str| Target {
            name: name.into(),
            provider: ProviderKind::OpenAi,
            model: "gpt-4o-mini-2024-07-18".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            key: KeySource::Env(vec!["OPENAI_API_KEY".into()]),
            params: Params {
                stream: true,
                temperature: Some(0.5),
                ..Params::default()
            },
        };
        let prices = prism::pricing::PriceTable::builtin().unwrap();
        let w = SessionWriter::create(root.path(), &[target("a"), target("b")], prices).unwrap();
        let base = Instant::now();
        let at = |ms: u64| base + std::time::Duration::from_millis(ms);
        let req = ChatRequest::single(Some("sys".into()), "hello");
        let out = |t, history: Vec<u32>| Outgoing {
            target: t,
            history,
            request: req.clone(),
        };
        w.send(
            1,
            1,
            Some("sys".into()),
            "hello",
            base,
            &[out(0, vec![]), out(1, vec![])],
        );
        for t in 0..2 {
            w.event(1, t, at(1), &StreamEvent::Dispatched);
            w.event(
                1,
                t,
                at(20),
                &StreamEvent::Started(Box::new(ResponseStart {
                    http_status: 200,
                    request_id: Some(format!("req_{t}")),
                    rate_limits: vec![],
                    sent_at: at(2),
                    connect: Some(std::time::Duration::from_millis(3)),
                })),
            );
            w.event(1, t, at(40), &StreamEvent::TextDelta("Hi there".into()));
        }
        w.event(
            1,
            0,
            at(50),
            &StreamEvent::Usage(Box::new(Usage {
                input: Some(9),
                output: Some(2),
                ..Usage::default()
            })),
        );
        w.event(
            1,
            0,
            at(51),
            &StreamEvent::Finish(Finish {
                reason: FinishReason::Stop,
                raw: Some("stop".into()),
            }),
        );
        w.event(1, 0, at(52), &StreamEvent::Done);
        w.event(
            1,
            1,
            at(60),
            &StreamEvent::Failed(Box::new(ProviderError::new(
                ErrorKind::Server,
                "HTTP 500".to_string(),
            ))),
        );
        w.send(2, 2, None, "again", base, &[out(0, vec![1])]);
        w.event(2, 0, at(70), &StreamEvent::TextDelta("cut".into()));
        w.close();
        let dir = w.dir();
        (
            std::fs::read(dir.join("events.jsonl")).unwrap(),
            std::fs::read(dir.join("meta.json")).unwrap(),
        )
    })
}

/// Line-level damage: duplicate, drop or swap whole records, or put a huge number in one.
fn damage_lines(bytes: &[u8], ops: &[(u8, usize, usize)]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    for &(op, a, b) in ops {
        if lines.is_empty() {
            break;
        }
        let (a, b) = (a % lines.len(), b % lines.len());
        match op % 4 {
            0 => {
                let copy = lines[a].clone();
                lines.insert(b, copy);
            }
            1 => {
                lines.remove(a);
            }
            2 => lines.swap(a, b),
            _ => {
                let text = String::from_utf8_lossy(&lines[a]).into_owned();
                let huge = [
                    "18446744073709551615",
                    "4294967296",
                    "-1",
                    "1e400",
                    "99999999999999999999999",
                ][b % 5];
                // The first number on the line: a run, a target, a time or a count.
                if let Some(start) = text.find(|c: char| c.is_ascii_digit()) {
                    let end = text[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(text.len(), |e| start + e);
                    lines[a] = format!("{}{huge}{}", &text[..start], &text[end..]).into_bytes();
                }
            }
        }
    }
    lines.join(&b'\n')
}

/// Load a session made of these files: either it loads and everything a user can do with it
/// works, or the error names the file and the line.
fn check_session(events: &[u8], meta: Option<&[u8]>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.jsonl"), events).unwrap();
    if let Some(m) = meta {
        std::fs::write(dir.path().join("meta.json"), m).unwrap();
    }
    match prism::session::load(dir.path()) {
        Ok(s) => {
            for turn in &s.turns {
                for (&i, rec) in &turn.answers {
                    prop_assert!(
                        i < s.targets.len(),
                        "answer for target {i} of {}",
                        s.targets.len()
                    );
                    let _ = rec.text();
                    let _ = rec.fold(Instant::now());
                    let _ = s.request_for(turn, i);
                }
            }
            let _ = s.interrupted();
        }
        Err(e) => {
            let file = e
                .file()
                .and_then(|p| p.file_name())
                .and_then(|f| f.to_str())
                .unwrap_or_default();
            prop_assert!(file == "events.jsonl" || file == "meta.json", "{e}");
            prop_assert!(
                e.position().is_some_and(|(line, col)| line >= 1 && col >= 1),
                "no position: {e}"
            );
        }
    }
    // The listing reads the summary first: it must not panic either.
    let _ = prism::session::store::summary(dir.path());
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: cases(), failure_persistence: None, ..Config::default() })]

    #[test]
    fn arbitrary_config_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        check_config(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn mutated_configs_load_in_range_or_fail_at_a_position(
        pick in any::<usize>(),
        poison in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..4),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..3),
    ) {
        let seed = CONFIG_SEEDS[pick % CONFIG_SEEDS.len()];
        let poisoned = poison_values(seed, &poison);
        let bytes = mutate(poisoned.into_bytes(), &ops);
        check_config(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn damaged_sessions_load_or_fail_at_a_line(
        damage in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..4),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..3),
        meta_ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<u8>()), 0..3),
        keep_meta in any::<bool>(),
    ) {
        let (events, meta) = session_seed();
        let events = mutate(damage_lines(events, &damage), &ops);
        let meta = mutate(meta.clone(), &meta_ops);
        check_session(&events, keep_meta.then_some(meta.as_slice()))?;
    }

    #[test]
    fn arbitrary_session_files_never_panic(
        events in proptest::collection::vec(any::<u8>(), 0..1024),
        meta in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..256)),
    ) {
        check_session(&events, meta.as_deref())?;
    }
}
