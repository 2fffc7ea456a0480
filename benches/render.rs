//! Renderer benchmark (not a test: numbers go to the report).
//!
//! `cargo bench --bench render`. Eight documents each receive ~100k tokens (~400 KB) of
//! generated markdown with code blocks in ~4-token deltas, as eight panes would.
//! Measured: `Doc::prepare` per delta while streaming; whole 8-pane frames drawn into a
//! 200x60 buffer, following the tail and at random scroll positions; the re-wrap after a
//! width change; the full re-render after a theme change.

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::time::{Duration, Instant};

use prism::tui::render::{Doc, DocStyles, highlight};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

const DOCS: usize = 8;
const TOKENS: usize = 100_000;
/// Roughly four bytes per token.
const DOC_BYTES: usize = TOKENS * 4;
const FRAMES: usize = 2_000;

/// xorshift64*: deterministic input without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "renderer",
    "streams",
    "tokens",
    "into",
    "wrapped",
    "lines",
    "while",
    "each",
    "pane",
    "scrolls",
    "independently",
    "latency",
    "provider",
    "`Doc::prepare`",
    "**bold**",
    "*soft*",
    "throughput",
    "naïve",
    "résumé",
    "日本語",
    "emoji 🚀",
    "[link](https://example.com/a/b)",
    "and",
    "of",
    "a",
    "to",
    "is",
    "measured",
];

const CODE: &[&str] = &[
    "fn handle(req: Request) -> Result<Response, Error> {",
    "    let body = req.body().await?;",
    "    for (i, line) in body.lines().enumerate() {",
    "        if line.starts_with(\"#\") { continue; }",
    "        total += line.len() as u64; // count bytes",
    "    }",
    "    Ok(Response::new(format!(\"{total} bytes\")))",
    "}",
    "#[derive(Debug, Clone)]",
    "struct Pane { id: usize, title: String, scroll: Option<usize> }",
];

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.below(14);
    let words: Vec<&str> = (0..n).map(|_| rng.pick(WORDS)).collect();
    format!("{}.", words.join(" "))
}

fn document(seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut s = String::new();
    let mut section = 0;
    while s.len() < DOC_BYTES {
        section += 1;
        s.push_str(&format!("## Section {section}: {}\n\n", rng.pick(WORDS)));
        for _ in 0..1 + rng.below(3) {
            let para: Vec<String> = (0..2 + rng.below(5)).map(|_| sentence(&mut rng)).collect();
            s.push_str(&para.join(" "));
            s.push_str("\n\n");
        }
        let ordered = rng.below(2) == 0;
        for i in 0..2 + rng.below(5) {
            let marker = if ordered {
                format!("{}. ", i + 1)
            } else {
                "- ".to_string()
            };
            s.push_str(&format!("{marker}{}\n", sentence(&mut rng)));
        }
        s.push('\n');
        if rng.below(3) > 0 {
            s.push_str("```rust\n");
            for _ in 0..4 + rng.below(20) {
                s.push_str(rng.pick(CODE));
                s.push('\n');
            }
            s.push_str("```\n\n");
        }
    }
    s
}

/// ~4-token deltas: 12 to 20 bytes, on character boundaries.
fn deltas<'t>(text: &'t str, rng: &mut Rng) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + 12 + rng.below(9)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[at..end]);
        at = end;
    }
    out
}

fn styles() -> DocStyles {
    DocStyles {
        heading: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        code_block: Style::new().bg(Color::Rgb(30, 30, 36)),
        link: Style::new().fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
        color: true,
        ..DocStyles::plain()
    }
}

struct Stats {
    mean: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut xs: Vec<Duration>) -> Stats {
    xs.sort_unstable();
    let at = |q: f64| xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)];
    Stats {
        mean: xs.iter().sum::<Duration>() / xs.len() as u32,
        p50: at(0.50),
        p99: at(0.99),
        max: xs[xs.len() - 1],
    }
}

fn row(name: &str, s: &Stats) {
    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    println!(
        "| {name} | {} | {} | {} | {} |",
        us(s.mean),
        us(s.p50),
        us(s.p99),
        us(s.max)
    );
}

/// Eight panes in a 4x2 grid: 50 columns by 30 rows each.
fn panes(area: Rect) -> Vec<Rect> {
    let (w, h) = (area.width / 4, area.height / 2);
    (0..DOCS as u16)
        .map(|i| Rect::new((i % 4) * w, (i / 4) * h, w, h))
        .collect()
}

/// Draws each doc's rows from its scroll position; `None` follows the tail.
fn draw(buf: &mut Buffer, rects: &[Rect], docs: &[Doc], scroll: &[Option<usize>]) {
    buf.reset();
    for ((doc, rect), top) in docs.iter().zip(rects).zip(scroll) {
        let h = usize::from(rect.height);
        let top = top.unwrap_or_else(|| doc.line_count().saturating_sub(h));
        for (i, line) in doc.lines(top..top + h).iter().enumerate() {
            buf.set_line(rect.x, rect.y + i as u16, line, rect.width);
        }
    }
}

fn main() {
    let area = Rect::new(0, 0, 200, 60);
    let rects = panes(area);
    let width = rects[0].width;
    let styles = styles();
    highlight::warm_up();

    let texts: Vec<String> = (0..DOCS as u64).map(document).collect();
    let mut rng = Rng(42);
    let streams: Vec<Vec<&str>> = texts.iter().map(|t| deltas(t, &mut rng)).collect();
    let mut docs: Vec<Doc> = (0..DOCS).map(|_| Doc::new(true)).collect();
    let mut buf = Buffer::empty(area);

    println!("## `cargo bench --bench render`\n");
    let bytes: usize = texts.iter().map(String::len).sum();
    let n_deltas: usize = streams.iter().map(Vec::len).sum();
    println!(
        "{DOCS} docs, {:.0} KB each, {n_deltas} deltas in all; panes {}x{} in a {}x{} buffer\n",
        bytes as f64 / DOCS as f64 / 1024.0,
        width,
        rects[0].height,
        area.width,
        area.height
    );

    let mut prepares = Vec::with_capacity(n_deltas);
    let mut stream_frames = Vec::new();
    let follow = vec![None; DOCS];
    let rounds = streams.iter().map(Vec::len).max().unwrap_or(0);
    let started = Instant::now();
    for r in 0..rounds {
        let frame = Instant::now();
        for (doc, stream) in docs.iter_mut().zip(&streams) {
            if let Some(delta) = stream.get(r) {
                doc.push_str(delta);
                let t = Instant::now();
                doc.prepare(width, &styles);
                prepares.push(t.elapsed());
            }
        }
        draw(&mut buf, &rects, &docs, &follow);
        stream_frames.push(frame.elapsed());
    }
    let streaming = started.elapsed();

    let mut tail_frames = Vec::with_capacity(FRAMES);
    let mut random_frames = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let t = Instant::now();
        docs.iter_mut().for_each(|d| d.prepare(width, &styles));
        draw(&mut buf, &rects, &docs, &follow);
        tail_frames.push(t.elapsed());

        let scroll: Vec<Option<usize>> = docs
            .iter()
            .map(|d| Some(rng.below(d.line_count().max(1))))
            .collect();
        let t = Instant::now();
        docs.iter_mut().for_each(|d| d.prepare(width, &styles));
        draw(&mut buf, &rects, &docs, &scroll);
        random_frames.push(t.elapsed());
    }

    let mut rewraps = Vec::new();
    for w in [width - 1, width, 80, width] {
        for doc in &mut docs {
            let t = Instant::now();
            doc.prepare(w, &styles);
            rewraps.push(t.elapsed());
        }
    }
    let work: u64 = docs.iter().map(Doc::work_counter).sum();
    let mut restyles = Vec::new();
    let other = DocStyles {
        syntax_theme: "InspiredGitHub".into(),
        ..styles.clone()
    };
    for s in [&other, &styles] {
        for doc in &mut docs {
            let t = Instant::now();
            doc.prepare(width, s);
            restyles.push(t.elapsed());
        }
    }

    println!("| measurement | mean | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    row("`prepare` per delta while streaming", &stats(prepares));
    row(
        "frame while streaming: 8 deltas + 8 `prepare` + draw",
        &stats(stream_frames),
    );
    row("8-pane frame, following the tail", &stats(tail_frames));
    row("8-pane frame, random scroll positions", &stats(random_frames));
    row("re-wrap one doc after a width change", &stats(rewraps));
    row("re-render one doc after a theme change", &stats(restyles));

    let lines: Vec<usize> = docs.iter().map(Doc::line_count).collect();
    println!(
        "\nstreaming took {:.2} s in all; {} to {} wrapped lines per doc at width {width}; \
         work counter {:.2}x the text (re-parsed tails included)",
        streaming.as_secs_f64(),
        lines.iter().min().unwrap_or(&0),
        lines.iter().max().unwrap_or(&0),
        work as f64 / bytes as f64,
    );
}
