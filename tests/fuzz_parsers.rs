//! Fuzzing the SSE framing and every provider's decoder: arbitrary bytes and mutated
//! real streams, in arbitrary splits, must never panic and never produce more output
//! than input. CI runs a bounded number of cases; for a long run:
//!
//! `PRISM_FUZZ_CASES=200000 cargo test --release --test fuzz_parsers`

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Instant;

use prism::engine::metrics::TargetRun;
use prism::provider::event::StreamEvent;
use prism::provider::sse::SseDecoder;
use prism::provider::{Decoder, ProviderKind};
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
            sse.feed(&bytes[prev..cut], t, &mut frames);
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
