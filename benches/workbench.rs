//! Workbench benchmarks (numbers go to BENCHMARKS.md):
//! 1. frame cost with 8 panes each holding 100k tokens of markdown with code blocks, at
//!    the bottom (follow-tail) and at random scroll positions;
//! 2. keystroke-to-frame latency through the real event loop while 8 targets stream at
//!    2,000 tokens/s each;
//! 3. keystroke-to-frame latency with 8 idle targets whose conversations hold ~200 KB of
//!    earlier turns each (the pre-flight of the prompt as typed covers every target's
//!    whole request).
//!
//! `cargo bench --bench workbench` (add `-- frame`, `-- keys` or `-- history` for one).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::engine::{Envelope, RunId};
use prism::keys::Action;
use prism::provider::event::StreamEvent;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::{self, Screen};
use prism::tui::effects::executor::Executor;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::Msg;
use prism::tui::render::Doc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PANES: usize = 8;

fn app() -> App {
    let targets = (0..PANES)
        .map(|i| Target {
            name: format!("t{i}"),
            provider: ProviderKind::OpenAi,
            model: "gpt-4o-mini-2024-07-18".into(),
            base_url: "http://127.0.0.1:1/v1".into(),
            key: KeySource::Demo,
            params: Params {
                stream: true,
                ..Params::default()
            },
        })
        .collect();
    let mut app = App::new(
        targets,
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "bench".into(),
    );
    app.update(Msg::EditorClosed(Ok("bench".into())));
    app.act(Action::Send);
    app
}

/// ~4-token deltas of a markdown answer with headings, lists and rust code blocks.
fn deltas(tokens: usize, seed: usize) -> Vec<String> {
    let para =
        "Streaming sends the answer as it is generated, so the first words arrive long before the last. ";
    let code = "```rust\nfn main() {\n    let total: u64 = (1..=10).map(|x| x * x).sum();\n    println!(\"{total}\");\n}\n```\n\n";
    let mut text = String::new();
    let mut i = seed;
    while text.len() < tokens * 4 {
        text.push_str(&format!(
            "## Section {i}\n\n{para}{para}\n\n- first point\n- second point with `code`\n\n{code}"
        ));
        i += 1;
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(16)
        .take(tokens / 4)
        .map(|c| c.iter().collect())
        .collect()
}

fn feed(app: &mut App, pane: usize, event: StreamEvent) {
    let env = Envelope {
        run: RunId(1),
        target: pane,
        at: Instant::now(),
        event,
    };
    app.update(Msg::Stream { pane, env });
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn frame_cost() {
    let mut app = app();
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut prepare_ms = Vec::new();
    for p in 0..PANES {
        feed(&mut app, p, StreamEvent::Dispatched);
        for (i, d) in deltas(100_000, p).into_iter().enumerate() {
            feed(&mut app, p, StreamEvent::TextDelta(d.into()));
            // A frame every 64 deltas, as the loop would draw while streaming.
            if i % 64 == 0 {
                let t = Instant::now();
                term.frame(&mut app).unwrap();
                prepare_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let bytes: usize = app.panes().iter().map(|p| p.answer.text().len()).sum();
    let lines: usize = app.panes().iter().map(|p| p.body_len()).sum();
    let mut bottom = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        term.frame(&mut app).unwrap();
        bottom.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut random = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        // Each pane to a random page, as a user paging through it would.
        for p in 0..PANES {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            while app.focus() != Focus::Pane(p) {
                app.act(Action::FocusNext);
            }
            app.act(Action::Top);
            let page = app.pane(p).viewport.max(2) - 1;
            for _ in 0..(x as usize) % (app.pane(p).body_len() / page).max(1) {
                app.act(Action::PageDown);
            }
        }
        let t = Instant::now();
        term.frame(&mut app).unwrap();
        random.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "## Frame cost: 8 panes x 100k tokens ({} MB of markdown, {lines} wrapped lines), 200x60",
        bytes / 1_000_000
    );
    println!("| frames | mean ms | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    for (name, v) in [
        ("while streaming in (prepare + draw)", &mut prepare_ms),
        ("at the bottom", &mut bottom),
        ("random scroll positions", &mut random),
    ] {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let max = v.iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} | {mean:.3} | {:.3} | {:.3} | {max:.3} |",
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    println!();
}

/// A test terminal that timestamps when each typed character first appears in a frame.
struct Probe {
    term: Terminal<TestBackend>,
    seen: usize,
    shown_at: Vec<Instant>,
}

impl Screen for Probe {
    fn frame(&mut self, app: &mut App) -> io::Result<()> {
        self.term.frame(app)?;
        let typed = app.prompt().lines().join("").matches('x').count();
        while self.seen < typed {
            self.shown_at.push(Instant::now());
            self.seen += 1;
        }
        Ok(())
    }
}

fn key_latency() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The first code block in a process loads the syntax sets and compiles the regexes
    // it meets (tens of ms, once); this measures typing in a workbench past that point.
    let mut warm = Doc::new(true);
    warm.push_str(&deltas(200, 0).concat());
    warm.prepare(80, &prism::tui::theme::load("dark").unwrap().doc_styles());
    rt.block_on(async {
        // The send emptied the prompt and left the focus there.
        let mut app = app();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let keys = 100;
        let producer_tx = tx.clone();
        let sent_at = tokio::spawn(async move {
            let mut sent = Vec::new();
            let start = Instant::now();
            let per_tick = 8 * 2_000 / 1_000; // 8 streams x 2,000 tokens/s, in 1 ms ticks
            let chunks = deltas(40_000, 0);
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            let mut n = 0usize;
            for step in 0.. {
                tick.tick().await;
                for k in 0..per_tick {
                    let pane = k % PANES;
                    let env = Envelope {
                        run: RunId(1),
                        target: pane,
                        at: Instant::now(),
                        event: StreamEvent::TextDelta(chunks[n % chunks.len()].as_str().into()),
                    };
                    n += 1;
                    producer_tx.send(Msg::Stream { pane, env }).ok();
                }
                if step % 20 == 10 && sent.len() < keys {
                    sent.push(Instant::now());
                    producer_tx
                        .send(Msg::Term(Event::Key(KeyEvent::new(
                            KeyCode::Char('x'),
                            KeyModifiers::NONE,
                        ))))
                        .ok();
                }
                if sent.len() == keys && start.elapsed() > Duration::from_millis(20 * keys as u64 + 200) {
                    break;
                }
            }
            producer_tx
                .send(Msg::Term(Event::Key(KeyEvent::new(
                    KeyCode::Char('c'),
                    KeyModifiers::CONTROL,
                ))))
                .ok();
            (sent, n)
        });
        for p in 0..PANES {
            feed(&mut app, p, StreamEvent::Dispatched);
        }
        let mut probe = Probe {
            term: Terminal::new(TestBackend::new(200, 60)).unwrap(),
            seen: 0,
            shown_at: Vec::new(),
        };
        let mut runner = Executor::default();
        event_loop::run(&mut probe, &mut app, &mut runner, &tx, &mut rx)
            .await
            .unwrap();
        let (sent, tokens) = sent_at.await.unwrap();
        // What the budget left for later passes when typing stopped, as time to lay out.
        let backlog_text: usize = app.panes().iter().map(|p| p.answer.text().len()).sum();
        let t = Instant::now();
        app.set_layout_budget(None);
        prism::tui::view::lay_out(&mut app);
        let backlog_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut lat: Vec<f64> = sent
            .iter()
            .zip(&probe.shown_at)
            .map(|(s, f)| f.duration_since(*s).as_secs_f64() * 1e3)
            .collect();
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        println!(
            "## Keystroke to frame while 8 targets stream at 2,000 tokens/s each ({tokens} deltas, {} keys)",
            lat.len()
        );
        println!("| mean ms | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
        let max = lat.iter().copied().fold(0.0, f64::max);
        println!(
            "| {mean:.2} | {:.2} | {:.2} | {max:.2} |\n",
            percentile(&mut lat, 0.5),
            percentile(&mut lat, 0.99)
        );
        println!(
            "Layout still to do when typing stopped: {backlog_ms:.1} ms ({} KB of text arrived)\n",
            backlog_text / 1000
        );
    });
}

/// A workbench whose every pane has a conversation of `turns` finished turns, each answer
/// `answer_bytes` of markdown with code, reached by sending and streaming like a user would.
fn app_with_history(turns: usize, answer_bytes: usize) -> App {
    let mut app = app();
    for turn in 0..turns {
        if turn > 0 {
            app.update(Msg::EditorClosed(Ok(format!("follow-up question number {turn}"))));
            app.act(Action::Send);
        }
        let run = app.run();
        let answer = deltas(answer_bytes / 4, turn);
        for p in 0..PANES {
            let mut send = |event| {
                let env = Envelope {
                    run,
                    target: p,
                    at: Instant::now(),
                    event,
                };
                app.update(Msg::Stream { pane: p, env });
            };
            send(StreamEvent::Dispatched);
            for d in &answer {
                send(StreamEvent::TextDelta(d.as_str().into()));
            }
            send(StreamEvent::Done);
        }
    }
    app
}

fn history_key_latency() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut warm = Doc::new(true);
    warm.push_str(&deltas(200, 0).concat());
    warm.prepare(80, &prism::tui::theme::load("dark").unwrap().doc_styles());
    prism::tokens::warm_up();
    // The last send left the focus on the prompt.
    let mut app = app_with_history(10, 20_000);
    let history: usize = app
        .conversation()
        .request(0, None, "")
        .0
        .messages
        .iter()
        .map(|m| m.content.len())
        .sum();
    let keys = 100;

    // Through the real loop: a key every 20 ms, latency from the key to the frame that
    // shows it.
    let (sent, shown_at) = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let producer_tx = tx.clone();
        let sent_at = tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.tick().await;
            while sent.len() < keys {
                tick.tick().await;
                sent.push(Instant::now());
                producer_tx
                    .send(Msg::Term(Event::Key(KeyEvent::new(
                        KeyCode::Char('x'),
                        KeyModifiers::NONE,
                    ))))
                    .ok();
            }
            // Time for the last keys to be drawn before quitting.
            tokio::time::sleep(Duration::from_millis(500)).await;
            producer_tx
                .send(Msg::Term(Event::Key(KeyEvent::new(
                    KeyCode::Char('c'),
                    KeyModifiers::CONTROL,
                ))))
                .ok();
            sent
        });
        let mut probe = Probe {
            term: Terminal::new(TestBackend::new(200, 60)).unwrap(),
            seen: 0,
            shown_at: Vec::new(),
        };
        let mut runner = Executor::default();
        event_loop::run(&mut probe, &mut app, &mut runner, &tx, &mut rx)
            .await
            .unwrap();
        (sent_at.await.unwrap(), probe.shown_at)
    });
    let mut lat: Vec<f64> = sent
        .iter()
        .zip(&shown_at)
        .map(|(s, f)| f.duration_since(*s).as_secs_f64() * 1e3)
        .collect();

    // One key and one frame at a time, no pacing: what a keystroke costs.
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut cost = Vec::new();
    for _ in 0..keys {
        let t = Instant::now();
        app.update(Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Char('y'),
            KeyModifiers::NONE,
        ))));
        term.frame(&mut app).unwrap();
        cost.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "## Keystroke to frame with 8 targets and a {} KB history each ({} turns, {} keys)",
        history / 1000,
        app.conversation().turn,
        lat.len()
    );
    println!("| measurement | mean ms | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    for (name, v) in [
        ("key to frame, real loop, a key every 20 ms", &mut lat),
        ("one key + one frame, back to back", &mut cost),
    ] {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let max = v.iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} | {mean:.2} | {:.2} | {:.2} | {max:.2} |",
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("frame") {
        frame_cost();
    }
    if want("keys") {
        key_latency();
    }
    if want("history") {
        history_key_latency();
    }
}
