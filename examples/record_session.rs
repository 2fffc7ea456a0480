//! Records the example session shipped in `sessions/example-mock`: the demo targets
//! (real adapters against the in-process mock server), two turns, each target's second
//! request carrying its own first answer.
//!
//! `cargo run --example record_session -- sessions/example-mock` (the directory must not
//! exist yet).

use std::path::PathBuf;
use std::time::Instant;

use prism::demo::Demo;
use prism::engine::{Cancels, RunId, RunOptions, fan_out_each};
use prism::pricing::PriceTable;
use prism::provider::request::{ChatRequest, Message};
use prism::session::{Outgoing, SessionWriter};

const TURNS: [&str; 2] = [
    "Explain in a few paragraphs how streaming responses work in LLM APIs, with a short code example.",
    "Now summarise that in three bullet points.",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: record_session DIR (a new directory)")?,
    );
    let demo = Demo::start().await?;
    let targets = demo.targets();
    let prices = PriceTable::builtin()?;
    let writer = SessionWriter::create_at(&dir, &targets, prices)?;
    let system = Some("You are a concise technical writer.".to_string());
    // Each target's own conversation so far.
    let mut histories: Vec<Vec<Message>> = vec![Vec::new(); targets.len()];
    for (i, prompt) in TURNS.iter().enumerate() {
        let turn = u32::try_from(i + 1)?;
        let run = RunId(u64::from(turn));
        let jobs: Vec<_> = targets
            .iter()
            .zip(&histories)
            .map(|(t, h)| {
                let mut messages = h.clone();
                messages.push(Message::user(*prompt));
                (
                    t.clone(),
                    ChatRequest {
                        system: system.clone(),
                        messages,
                        schema: None,
                    },
                )
            })
            .collect();
        let outgoing: Vec<_> = jobs
            .iter()
            .enumerate()
            .map(|(target, (_, request))| Outgoing {
                target,
                history: (1..turn).collect(),
                request: request.clone(),
            })
            .collect();
        let base = Instant::now();
        writer.send(run.0, turn, system.clone(), prompt, base, &outgoing);
        let mut handle = fan_out_each(&jobs, RunOptions { run }, Cancels::new(jobs.len())).await;
        let mut answers = vec![String::new(); targets.len()];
        while let Some(env) = handle.events.recv().await {
            if let prism::provider::event::StreamEvent::TextDelta(t) = &env.event {
                answers[env.target].push_str(t);
            }
            writer.event(run.0, env.target, env.at, &env.event);
        }
        handle.join().await;
        for (h, answer) in histories.iter_mut().zip(answers) {
            h.push(Message::user(*prompt));
            h.push(Message::assistant(answer));
        }
    }
    writer.close();
    demo.stop().await;
    if let Some(e) = writer.error() {
        return Err(e.into());
    }
    println!("recorded {}", dir.display());
    Ok(())
}
