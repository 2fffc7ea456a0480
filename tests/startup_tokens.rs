//! The tokenizer tables stay off the start-up path: the workbench draws its first frame
//! without them, a pre-flight asked for before they load is an upper bound shown as
//! `≤ N`, and once they load the same questions get exact counts.
//!
//! One test on purpose: whether the tables are loaded is process-wide, and this binary
//! must start with them not loaded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use prism::preflight::{self, Counter};
use prism::pricing::PriceTable;
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tokens::{self, Encoding};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::Msg;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn target(name: &str, provider: ProviderKind, model: &str, max_tokens: Option<u32>) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:1".into(),
        key: KeySource::Demo,
        params: Params {
            max_tokens,
            stream: true,
            ..Params::default()
        },
    }
}

/// The demo's four targets, as `prism --demo` lines them up.
fn demo_targets() -> Vec<Target> {
    vec![
        target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18", Some(512)),
        target(
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514",
            Some(512),
        ),
        target("gemini", ProviderKind::Gemini, "gemini-2.5-flash", Some(512)),
        target("local", ProviderKind::OpenAiCompatible, "llama3.1:8b", Some(512)),
    ]
}

fn render(app: &mut App) -> String {
    let (w, h) = (160, 30);
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

#[test]
fn the_first_frame_and_early_counts_need_no_tables_and_catch_up_once_they_load() {
    assert!(
        !tokens::ready(),
        "nothing may load the tables before the first frame"
    );
    let targets = demo_targets();
    let mut app = App::new(
        targets.clone(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "demo".into(),
    );
    app.update(Msg::Tick(std::time::Instant::now()));
    let prompt = "hi there";
    app.update(Msg::EditorClosed(Ok(prompt.to_string())));

    let first = render(&mut app);
    assert!(!tokens::ready(), "the first frame loaded the tables");
    let request = ChatRequest::single(None, prompt);
    let bound = preflight::prompt_tokens_bound(&request);
    // user message: 3 + "user" (4 bytes) + the prompt's 8 bytes, plus 3 priming.
    assert_eq!(bound, 18);
    assert!(
        first.contains(&format!("≤ {bound} tok bound")),
        "the pane shows the bound as a bound:\n{first}"
    );

    // A pre-flight asked for now: the bound, labelled as one, and the send may go.
    let prices = PriceTable::builtin().unwrap();
    let early = preflight::check(&targets[0], &request, &prices);
    assert_eq!(
        (early.counter, early.input_tokens, early.exact),
        (Counter::Bound, bound, false)
    );
    assert!(early.too_long.is_none());
    assert!(
        !tokens::ready(),
        "a bound that settles the verdict loaded the tables"
    );

    tokens::warm_up();
    let exact = preflight::prompt_tokens(Encoding::O200k, &request);
    assert!(exact < bound, "the test needs a prompt whose bound is not exact");
    let late = preflight::check(&targets[0], &request, &prices);
    assert_eq!(
        (late.counter, late.input_tokens, late.exact),
        (Counter::LocalExact, exact, true)
    );

    let caught_up = render(&mut app);
    assert!(
        caught_up.contains(&format!(" {exact} tok")) && !caught_up.contains(" tok bound"),
        "the pane catches up with the exact count:\n{caught_up}"
    );
}
