//! Token counting benchmarks (numbers go to BENCHMARKS.md): `cargo bench --bench tokens`.
//! 1. Whole-text counting throughput in MB/s, o200k_base and cl100k_base, same inputs.
//! 2. The live counter's cost per appended delta as the text grows from 1 KB to 1 MB:
//!    it must stay flat (cost follows the delta, not the text).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::time::Instant;

use prism::tokens::{LiveCounter, warm_up};

fn corpus(bytes: usize) -> String {
    let para = "Streaming APIs send tokens as they are generated; the first one arrives after the \
                prompt is processed. `fn main() { println!(\"{}\", 42); }` — 日本語のテキスト, émoji 🙂.\n\n";
    para.repeat(bytes / para.len() + 1)[..bytes]
        .char_indices()
        .last()
        .map_or(String::new(), |_| {
            let mut s = para.repeat(bytes / para.len() + 1);
            let mut cut = bytes.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s
        })
}

fn mb_per_s(text: &str, mut count: impl FnMut(&str) -> usize) -> (usize, f64) {
    let _ = count("warm");
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..5 {
        n = count(text);
    }
    (n, text.len() as f64 / (t.elapsed().as_secs_f64() / 5.0) / 1e6)
}

fn throughput() {
    let text = corpus(1 << 20);
    println!("## Whole-text counting, 1 MiB of mixed prose, code, CJK and emoji");
    println!("| encoding | crate | tokens | MB/s |\n|---|---|---|---|");
    let tk_o = tiktoken_rs::o200k_base_singleton();
    let tk_c = tiktoken_rs::cl100k_base_singleton();
    let rows = [
        (
            "o200k_base",
            "tiktoken-rs",
            mb_per_s(&text, |t| tk_o.encode_ordinary(t).len()),
        ),
        (
            "o200k_base",
            "bpe-openai",
            mb_per_s(&text, |t| bpe_openai::o200k_base().count(t)),
        ),
        (
            "cl100k_base",
            "tiktoken-rs",
            mb_per_s(&text, |t| tk_c.encode_ordinary(t).len()),
        ),
        (
            "cl100k_base",
            "bpe-openai",
            mb_per_s(&text, |t| bpe_openai::cl100k_base().count(t)),
        ),
    ];
    for (enc, krate, (n, rate)) in rows {
        println!("| {enc} | {krate} | {n} | {rate:.1} |");
    }
    println!();
}

fn live_flat() {
    warm_up();
    let text = corpus(1 << 20);
    let chars: Vec<char> = text.chars().collect();
    let deltas: Vec<String> = chars.chunks(16).map(|c| c.iter().collect()).collect();
    let mut live = LiveCounter::new();
    let checkpoints = [1 << 10, 10 << 10, 100 << 10, 1 << 20];
    let mut next = 0;
    let mut window = Vec::new();
    println!("## Live counter: cost per 16-character delta as the text grows");
    println!(
        "| text so far | µs per delta (mean of the last 200) | count equals full recount |\n|---|---|---|"
    );
    for d in &deltas {
        let t = Instant::now();
        live.push(d);
        window.push(t.elapsed().as_secs_f64() * 1e6);
        if window.len() > 200 {
            window.remove(0);
        }
        if next < checkpoints.len() && live.text().len() >= checkpoints[next] {
            let mean = window.iter().sum::<f64>() / window.len() as f64;
            let exact = live.count() == Some(prism::tokens::count_o200k(live.text()));
            println!("| {} KB | {mean:.2} | {exact} |", live.text().len() / 1024);
            next += 1;
        }
    }
    println!();
}

fn main() {
    throughput();
    live_flat();
}
