//! `--demo all`: one target of every provider kind against the in-process mock, no keys,
//! no network, and no credentials of the user's read (Bedrock signs with the demo's fixed
//! fake keys, which the mock verifies).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use prism::demo::{Demo, Lineup};
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::provider::event::FinishReason;
use prism::provider::request::ChatRequest;
use prism::target::{Api, ProviderKind};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::Msg;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_answers_and_bedrock_is_signed_with_the_demo_keys() {
    let demo = Demo::start_with(Lineup::All).await.unwrap();
    let targets = demo.targets();
    let kinds: BTreeSet<&str> = targets.iter().map(|t| t.provider.as_str()).collect();
    let every: BTreeSet<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, every, "one of every kind");
    let mut handle = fan_out(
        &targets,
        &ChatRequest::single(None, "Say hi."),
        RunOptions::default(),
    )
    .await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("the demo stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}: {:?}", t.name, r.outcome);
        assert!(r.usage.output.is_some() && r.ttft().is_some(), "{}", t.name);
        // The `tokens=` directive shapes the answer: it ends where a sentence does, and
        // says so with a normal stop, never a cut mid-sentence labelled `stop`.
        assert_eq!(
            r.finish_reason().map(|f| f.0),
            Some(FinishReason::Stop),
            "{}",
            t.name
        );
        assert!(r.text.trim_end().ends_with('.'), "{}: {:?}", t.name, r.text);
    }

    let records = demo.log().records();
    let bedrock = records.iter().find(|r| r.provider == "bedrock").unwrap();
    let auth = bedrock
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str())
        .unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDPRISMMOCKEXAMPLE/")
            && auth.contains("/us-east-1/bedrock/aws4_request"),
        "{auth}"
    );
    // Azure over its classic URL: the deployment in the path, the version in the query.
    let azure = records.iter().find(|r| r.provider == "azure").unwrap();
    assert_eq!(
        azure.path,
        "/openai/deployments/gpt-4o-mini-prod/chat/completions"
    );
    assert_eq!(azure.query.as_deref(), Some("api-version=2024-10-21"));
    assert!(azure.headers.iter().any(|(n, _)| n == "api-key"));
    // Azure names the model behind the deployment.
    let az = targets
        .iter()
        .position(|t| t.provider == ProviderKind::Azure)
        .unwrap();
    assert_eq!(
        runs[az].server_report().and_then(|s| s.model.as_deref()),
        Some("gpt-4o-mini-2024-07-18")
    );
    demo.stop().await;
}

/// Each kind's own word for an answer its request's token cap cut.
fn length_reason(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi | ProviderKind::Azure | ProviderKind::OpenAiCompatible => "length",
        ProviderKind::Anthropic | ProviderKind::Bedrock => "max_tokens",
        ProviderKind::Gemini => "MAX_TOKENS",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_max_tokens_cuts_every_kind_with_its_length_reason() {
    let demo = Demo::start_with(Lineup::All).await.unwrap();
    let mut targets = demo.targets();
    for t in &mut targets {
        t.params.max_tokens = Some(60);
    }
    let mut handle = fan_out(
        &targets,
        &ChatRequest::single(None, "Say hi."),
        RunOptions::default(),
    )
    .await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("the demo stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}: {:?}", t.name, r.outcome);
        // The Responses API says `incomplete`, with the reason in its details.
        let raw = if t.params.api == Api::Responses {
            "max_output_tokens"
        } else {
            length_reason(t.provider)
        };
        assert_eq!(
            r.finish_reason(),
            Some((FinishReason::Length, Some(raw))),
            "{}",
            t.name
        );
        if matches!(t.provider, ProviderKind::Anthropic | ProviderKind::Bedrock) {
            // These report the scripted pieces; the cap is all of them.
            assert_eq!(r.usage.output, Some(60), "{}: the cap is what it used", t.name);
        }
    }
    demo.stop().await;
}

#[tokio::test]
async fn plain_demo_keeps_its_four_targets() {
    let demo = Demo::start().await.unwrap();
    let names: Vec<String> = demo.targets().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["gpt-4o-mini", "claude-sonnet", "gemini-flash", "o4-mini"]);
    demo.stop().await;
}

#[test]
fn demo_takes_an_optional_lineup() {
    use clap::Parser;
    use prism::cli::{Cli, Command};
    let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap();
    assert_eq!(parse(&["prism", "--demo"]).demo, Some(Lineup::Four));
    assert_eq!(parse(&["prism", "--demo", "all"]).demo, Some(Lineup::All));
    assert_eq!(parse(&["prism"]).demo, None);
    let run = |args: &[&str]| match parse(args).command {
        Some(Command::Run(r)) => r.demo,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        run(&["prism", "run", "--demo", "--prompt", "x"]),
        Some(Lineup::Four)
    );
    assert_eq!(
        run(&["prism", "run", "--demo", "all", "--prompt", "x"]),
        Some(Lineup::All)
    );
    let wrong = Cli::try_parse_from(["prism", "--demo", "most"])
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("possible values: four, all"), "{wrong}");
}

/// The workbench as `prism --demo all` opens it: seven panes, every one named.
#[tokio::test]
async fn the_workbench_shows_seven_panes() {
    let demo = Demo::start_with(Lineup::All).await.unwrap();
    let targets = demo.targets();
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let mut app = App::new(
        targets,
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "demo: built-in mock server (no keys, no network)".into(),
    );
    app.update(Msg::Tick(Instant::now()));
    let screen = render(&mut app, 200, 60);
    assert!(screen.contains("7/7 targets"), "{screen}");
    for name in &names {
        assert!(screen.contains(name.as_str()), "{name} has no pane:\n{screen}");
    }
    insta::assert_snapshot!("demo_all_200x60", screen);
    demo.stop().await;
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.frame(app).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
