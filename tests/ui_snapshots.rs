//! The workbench's screens as a user sees them, rendered into a test terminal from
//! scripted stream events and a controlled clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use prism::engine::Envelope;
use prism::keys::Action;
use prism::provider::event::{
    ErrorKind, Finish, FinishReason, ProviderError, ResponseStart, StreamEvent, Usage,
};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::Msg;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn target(name: &str, provider: ProviderKind, model: &str) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:1".into(),
        key: KeySource::Demo,
        params: Params {
            stream: true,
            ..Params::default()
        },
    }
}

fn app(n: usize) -> (App, Instant) {
    app_in(n, prism::tui::theme::load("dark").unwrap())
}

fn app_in(n: usize, theme: prism::tui::theme::Theme) -> (App, Instant) {
    let all = [
        target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        target("claude", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
        target("gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
        target("local", ProviderKind::OpenAiCompatible, "llama3.1:8b"),
    ];
    let mut app = App::new(
        all[..n].to_vec(),
        Keymap::default(),
        theme,
        "demo: mock server on 127.0.0.1:8089".into(),
    );
    let base = Instant::now();
    app.update(Msg::Tick(base));
    (app, base)
}

fn send(app: &mut App, prompt: &str) {
    // As the external editor hands the prompt back.
    app.update(Msg::EditorClosed(Ok(prompt.to_string())));
    let effects = app.act(Action::Send);
    assert!(
        matches!(
            effects.last(),
            Some(prism::tui::model::msg::Effect::StartRun { .. })
        ),
        "{effects:?}"
    );
}

fn feed(app: &mut App, pane: usize, at: Instant, event: StreamEvent) {
    let env = Envelope {
        run: app.run(),
        target: pane,
        at,
        event,
    };
    app.update(Msg::Stream { pane, env });
}

fn started(base: Instant) -> StreamEvent {
    StreamEvent::Started(Box::new(ResponseStart {
        http_status: 200,
        request_id: Some("req_1".into()),
        rate_limits: vec![],
        sent_at: base + Duration::from_millis(5),
        connect: Some(Duration::from_millis(5)),
    }))
}

/// Stream `words` into `pane` from `t0` ms, one word every `gap` ms.
fn stream_words(app: &mut App, base: Instant, pane: usize, t0: u64, gap: u64, text: &str) {
    let ms = |n: u64| base + Duration::from_millis(n);
    feed(app, pane, base, StreamEvent::Dispatched);
    feed(app, pane, ms(30), started(base));
    for (i, w) in text.split_inclusive(' ').enumerate() {
        feed(
            app,
            pane,
            ms(t0 + gap * i as u64),
            StreamEvent::TextDelta(w.into()),
        );
    }
}

fn finish(app: &mut App, base: Instant, pane: usize, at: u64, output: u64, reason: FinishReason, raw: &str) {
    let at = base + Duration::from_millis(at);
    feed(
        app,
        pane,
        at,
        StreamEvent::Usage(Box::new(Usage {
            input: Some(26),
            output: Some(output),
            ..Usage::default()
        })),
    );
    feed(
        app,
        pane,
        at,
        StreamEvent::Finish(Finish {
            reason,
            raw: Some(raw.into()),
        }),
    );
    feed(app, pane, at, StreamEvent::Done);
}

/// Tab until `want` has the focus, as a user would.
fn focus(app: &mut App, want: Focus) {
    for _ in 0..16 {
        if app.focus() == want {
            return;
        }
        app.update(Msg::Term(crossterm::event::Event::Key(
            crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Tab,
                crossterm::event::KeyModifiers::NONE,
            ),
        )));
    }
    panic!("tab never reaches {want:?}");
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

const ANSWER: &str = "Streaming sends the answer as it is generated. Each event carries a few tokens, and the client shows them at once. ";

#[test]
fn idle() {
    let (mut app, _) = app(3);
    insta::assert_snapshot!(render(&mut app, 120, 30));
}

#[test]
fn streaming() {
    let (mut app, base) = app(3);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    stream_words(&mut app, base, 1, 420, 14, &ANSWER[..60]);
    feed(&mut app, 2, base, StreamEvent::Dispatched);
    app.update(Msg::Tick(base + Duration::from_millis(1500)));
    insta::assert_snapshot!(render(&mut app, 120, 30));
}

#[test]
fn finished_with_reasoning_and_length_warning() {
    let (mut app, base) = app(3);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    finish(&mut app, base, 0, 400, 24, FinishReason::Stop, "stop");
    stream_words(&mut app, base, 1, 420, 14, ANSWER);
    finish(&mut app, base, 1, 800, 24, FinishReason::Length, "max_tokens");
    feed(&mut app, 2, base, StreamEvent::Dispatched);
    feed(&mut app, 2, base + Duration::from_millis(30), started(base));
    feed(
        &mut app,
        2,
        base + Duration::from_millis(100),
        StreamEvent::ReasoningDelta("Think first about what streaming means.".into()),
    );
    stream_words(&mut app, base, 2, 600, 5, ANSWER);
    finish(&mut app, base, 2, 900, 40, FinishReason::Stop, "STOP");
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    insta::assert_snapshot!(render(&mut app, 120, 30));
}

#[test]
fn a_fence_closed_at_the_end_of_the_stream() {
    // Real models often end on the closing fence with no line end after it: the block
    // closes as a fence (no line of backticks), and its language is a dim rule above it.
    let (mut app, base) = app(1);
    send(&mut app, "Show a loop.");
    let answer = "Here is the loop:\n\n```rust\nfor i in 0..3 {\n    println!(\"{i}\");\n}\n```";
    stream_words(&mut app, base, 0, 180, 10, answer);
    finish(&mut app, base, 0, 400, 21, FinishReason::Stop, "stop");
    app.update(Msg::Tick(base + Duration::from_millis(1000)));
    let screen = render(&mut app, 60, 16);
    assert!(!screen.contains("```"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn details_of_a_finished_pane() {
    let (mut app, base) = app(2);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    finish(&mut app, base, 0, 400, 24, FinishReason::Stop, "stop");
    focus(&mut app, Focus::Pane(0));
    app.act(Action::Details);
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    insta::assert_snapshot!(render(&mut app, 100, 30));
}

#[test]
fn error_keeps_partial_text() {
    let (mut app, base) = app(2);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, &ANSWER[..50]);
    let e = ProviderError::new(
        ErrorKind::Truncated,
        "the connection to http://127.0.0.1:1/v1 dropped after 2048 bytes; the answer may be incomplete",
    );
    feed(
        &mut app,
        0,
        base + Duration::from_millis(700),
        StreamEvent::Failed(Box::new(e)),
    );
    stream_words(&mut app, base, 1, 420, 14, ANSWER);
    finish(&mut app, base, 1, 900, 24, FinishReason::Stop, "end_turn");
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    insta::assert_snapshot!(render(&mut app, 100, 24));
}

#[test]
fn zoomed_pane() {
    let (mut app, base) = app(3);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 1, 420, 14, &ANSWER.repeat(3));
    focus(&mut app, Focus::Pane(1));
    app.act(Action::Zoom);
    app.update(Msg::Tick(base + Duration::from_millis(1500)));
    insta::assert_snapshot!(render(&mut app, 100, 24));
}

#[test]
fn narrow_80x24_with_four_targets_and_help() {
    let (mut app, base) = app(4);
    send(&mut app, "Explain streaming.");
    for p in 0..4 {
        stream_words(&mut app, base, p, 100 + 50 * p as u64, 10, ANSWER);
    }
    app.update(Msg::Tick(base + Duration::from_millis(1500)));
    // With a budget the status bar keeps what it counts in view, in its short form.
    let mut app = app.with_budget(Some(0.5));
    insta::assert_snapshot!("narrow_80x24", render(&mut app, 80, 24));
    app.act(Action::Help);
    insta::assert_snapshot!("help_80x24", render(&mut app, 80, 24));
}

#[test]
fn sessions_browser() {
    use prism::session::schema::Meta;
    use prism::session::store::Listed;
    let (app, base) = app(3);
    // Times show in local time with the offset: a zone an hour east of UTC, fixed here.
    let zone = prism::session::local_time::TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    let mut app = app.with_time_zone(zone);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    finish(&mut app, base, 0, 400, 24, FinishReason::Stop, "stop");
    app.update(Msg::Saving(Ok("20250103-091500-c0de".into())));
    let meta = |id: &str, name: Option<&str>, prompt: &str, targets: &[&str], turns, cost, incomplete| Meta {
        version: 1,
        id: id.into(),
        name: name.map(str::to_string),
        created: format!(
            "{}-{}-{}T{}:{}:00.000Z",
            &id[..4],
            &id[4..6],
            &id[6..8],
            &id[9..11],
            &id[11..13]
        ),
        updated: String::new(),
        first_prompt: prompt.into(),
        targets: targets.iter().map(|t| (*t).to_string()).collect(),
        turns,
        cost_usd: cost,
        cost_incomplete: incomplete,
        tags: Vec::new(),
    };
    let dir = |id: &str| std::path::PathBuf::from("/home/u/.local/share/prism/sessions").join(id);
    let listed = vec![
        Listed {
            dir: dir("20250103-091500-c0de"),
            meta: Ok(meta(
                "20250103-091500-c0de",
                None,
                "Explain streaming.",
                &["gpt", "claude", "gemini"],
                1,
                0.000_412,
                false,
            )),
        },
        Listed {
            dir: dir("20250102-174200-9f31"),
            meta: Ok(meta(
                "20250102-174200-9f31",
                Some("lifetimes, three ways"),
                "Explain Rust lifetimes to a C programmer",
                &["gpt", "claude"],
                4,
                0.0213,
                true,
            )),
        },
        Listed {
            dir: dir("20250101-080000-0001"),
            meta: Err(prism::session::SessionError::Corrupt {
                file: dir("20250101-080000-0001").join("events.jsonl"),
                line: 3,
                col: 17,
                why: "corrupt record: expected `,` or `}`".into(),
            }),
        },
        Listed {
            dir: dir("20241231-235900-beef"),
            meta: Ok(meta(
                "20241231-235900-beef",
                None,
                "Write a haiku about latency",
                &["local"],
                1,
                0.0,
                true,
            )),
        },
    ];
    app.act(Action::Sessions);
    app.update(Msg::SessionList(Ok(listed)));
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    insta::assert_snapshot!("sessions_browser", render(&mut app, 110, 20));
    for c in "gpt".chars() {
        app.update(Msg::Term(crossterm::event::Event::Key(
            crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                crossterm::event::KeyModifiers::NONE,
            ),
        )));
    }
    app.update(Msg::Term(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Delete,
            crossterm::event::KeyModifiers::NONE,
        ),
    )));
    insta::assert_snapshot!("sessions_browser_filtered_delete", render(&mut app, 110, 20));
}

#[test]
fn second_turn_with_earlier_turns_collapsed_then_shown() {
    let (mut app, base) = app(2);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    finish(&mut app, base, 0, 400, 24, FinishReason::Stop, "stop");
    stream_words(&mut app, base, 1, 420, 14, "Tokens arrive **as they are made**. ");
    finish(&mut app, base, 1, 800, 9, FinishReason::Stop, "end_turn");
    send(&mut app, "And batching?\nGive one example.");
    stream_words(
        &mut app,
        base,
        0,
        150,
        10,
        "Batching waits for the whole answer. ",
    );
    finish(&mut app, base, 0, 300, 8, FinishReason::Stop, "stop");
    stream_words(&mut app, base, 1, 300, 10, "Batching sends it all at once.");
    app.update(Msg::Tick(base + Duration::from_millis(1000)));
    insta::assert_snapshot!("two_turns_collapsed", render(&mut app, 100, 18));
    focus(&mut app, Focus::Pane(1));
    app.act(Action::ToggleHistory);
    insta::assert_snapshot!("two_turns_shown", render(&mut app, 100, 18));
}

/// Under `NO_COLOR` the focused pane is told apart by shape alone: a thick border and a
/// marked title, where the others are rounded and unmarked.
#[test]
fn focus_without_colour() {
    use ratatui::style::Color;
    let (app, base) = app_in(3, prism::tui::theme::load("dark").unwrap().monochrome());
    let mut app = app.with_budget(Some(0.005));
    send(&mut app, "Explain streaming.");
    for p in 0..3 {
        stream_words(&mut app, base, p, 180 + 40 * p as u64, 10, ANSWER);
        finish(&mut app, base, p, 900, 24, FinishReason::Stop, "stop");
    }
    focus(&mut app, Focus::Pane(1));
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    let mut term = Terminal::new(TestBackend::new(120, 24)).unwrap();
    term.frame(&mut app).unwrap();
    let buf = term.backend().buffer().clone();
    let coloured: Vec<_> = buf
        .content()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.fg != Color::Reset || c.bg != Color::Reset)
        .map(|(i, c)| (i % 120, i / 120, c.symbol().to_string(), c.fg, c.bg))
        .collect();
    assert!(
        coloured.is_empty(),
        "monochrome: no colour anywhere: {coloured:?}"
    );
    let corner = |i: usize| {
        let r = app.pane_area(i).unwrap();
        buf[(r.x, r.y)].symbol().to_string()
    };
    assert_eq!(
        [corner(0), corner(1), corner(2)],
        ["╭", "┏", "╭"],
        "only the focused pane is thick"
    );
    let screen = render(&mut app, 120, 24);
    assert_eq!(
        screen.matches(prism::tui::view::FOCUS_MARK).count(),
        1,
        "{screen}"
    );
    // The provider gives way to the model's full name in a narrow title.
    assert!(
        screen.contains("┏ ▶ claude · claude-sonnet-4-20250514"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("spent $0.000524 of $0.005 budget since ctrl-n"),
        "{screen}"
    );
    insta::assert_snapshot!("focus_without_colour", screen);
}

/// Blind mode once every answer is in: lettered panes in their shuffled order, no
/// names anywhere, the vote keys in the footer.
#[test]
fn blind_send_waiting_for_the_vote() {
    let (app, base) = app(3);
    let mut app = app.with_blind_seed(1).with_blind(true);
    send(&mut app, "Explain streaming.");
    for (pane, end, raw) in [(0, 400, "stop"), (1, 800, "end_turn"), (2, 900, "STOP")] {
        stream_words(&mut app, base, pane, 180, 10, ANSWER);
        finish(&mut app, base, pane, end, 24, FinishReason::Stop, raw);
    }
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    let blind = render(&mut app, 120, 40);
    // Nor what gives a model away: a price (its own, or its step in the spend), its
    // provider's own finish reason.
    for name in [
        "gpt",
        "claude",
        "gemini",
        "openai",
        "anthropic",
        "end_turn",
        "$0.",
    ] {
        assert!(!blind.to_lowercase().contains(name), "{name} shown:\n{blind}");
    }
    insta::assert_snapshot!(blind);
    // The vote (B best, from the editor) shows the names under the letters.
    app.update(Msg::Term(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('2'),
            crossterm::event::KeyModifiers::ALT,
        ),
    )));
    insta::assert_snapshot!("blind_send_revealed_after_the_vote", render(&mut app, 120, 40));
}

/// One finished target in a workbench of its own, its details open: `events` are fed
/// between the answer's start (headers at 200 ms, request sent at 5 ms) and its end.
fn details_of(t: Target, usage: Usage, events: Vec<StreamEvent>) -> String {
    let mut app = App::new(
        vec![t],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "demo".into(),
    );
    let base = Instant::now();
    app.update(Msg::Tick(base));
    send(&mut app, "Explain streaming.");
    let ms = |n: u64| base + Duration::from_millis(n);
    feed(&mut app, 0, base, StreamEvent::Dispatched);
    feed(&mut app, 0, ms(200), started(base));
    for e in events {
        feed(&mut app, 0, ms(200), e);
    }
    // Three chunks spread out, then two in one read: a bursty tail.
    for (at, w) in [
        (610, "Streaming "),
        (640, "sends "),
        (2950, "the answer "),
        (2950, "as it "),
        (2950, "comes."),
    ] {
        feed(&mut app, 0, ms(at), StreamEvent::TextDelta(w.into()));
    }
    feed(&mut app, 0, ms(3000), StreamEvent::Usage(Box::new(usage)));
    feed(
        &mut app,
        0,
        ms(3000),
        StreamEvent::Finish(Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        }),
    );
    feed(&mut app, 0, ms(3000), StreamEvent::Done);
    focus(&mut app, Focus::Pane(0));
    app.act(Action::Details);
    app.update(Msg::Tick(ms(4000)));
    render(&mut app, 110, 40)
}

#[test]
fn details_with_server_timings_and_a_base_url_from_the_environment() {
    use prism::provider::server::{HeaderTiming, ServerReport};
    use prism::target::BaseUrlSource;
    let mut t = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18");
    t.base_url = "https://gateway.example.com/openai/v1?team=ml&key=gw-0f3a9c2e7b&sig=c2lnbmF0dXJl".into();
    t.params.base_url_source = BaseUrlSource::Env("OPENAI_BASE_URL".into());
    let timing = |name: &str, header: &str, ms: f64| HeaderTiming {
        name: name.into(),
        header: header.into(),
        ms,
    };
    let server = ServerReport {
        source: "response headers".into(),
        header_timings: vec![
            timing("processing", "openai-processing-ms", 150.0),
            timing("upstream", "x-envoy-upstream-service-time", 138.0),
        ],
        ..ServerReport::default()
    };
    let usage = Usage {
        input: Some(26),
        output: Some(6),
        ..Usage::default()
    };
    let screen = details_of(t, usage, vec![StreamEvent::Server(Box::new(server))]);
    for secret in ["gw-0f3a9c2e7b", "c2lnbmF0dXJl"] {
        assert!(!screen.contains(secret), "{secret} shown:\n{screen}");
    }
    assert!(screen.contains("$OPENAI_BASE_URL)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn details_with_azure_content_filter_verdicts() {
    use prism::provider::azure::{ContentFilter, FilterVerdict};
    use prism::provider::server::ServerReport;
    let mut t = target("azure-prod", ProviderKind::Azure, "prod-4o");
    t.base_url = "https://contoso.openai.azure.com".into();
    t.params.price_as = Some("azure/gpt-4o".into());
    let graded = |c: &str, filtered, severity: &str| FilterVerdict {
        category: c.into(),
        filtered,
        severity: Some(severity.into()),
        detected: None,
    };
    let prompt = ContentFilter {
        prompt: vec![
            graded("hate", false, "safe"),
            graded("self_harm", false, "safe"),
            graded("sexual", false, "safe"),
            graded("violence", false, "safe"),
            FilterVerdict {
                category: "jailbreak".into(),
                filtered: false,
                severity: None,
                detected: Some(false),
            },
        ],
        ..ContentFilter::default()
    };
    let answer = ContentFilter {
        completion: vec![
            graded("hate", false, "safe"),
            graded("sexual", false, "safe"),
            graded("violence", true, "medium"),
        ],
        ..ContentFilter::default()
    };
    let report = |f: ContentFilter| {
        StreamEvent::Server(Box::new(ServerReport {
            source: "azure content filter".into(),
            content_filter: Some(Box::new(f)),
            model: Some("gpt-4o-2024-11-20".into()),
            ..ServerReport::default()
        }))
    };
    let usage = Usage {
        input: Some(26),
        output: Some(6),
        ..Usage::default()
    };
    let screen = details_of(t, usage, vec![report(prompt), report(answer)]);
    assert!(screen.contains("violence filtered (medium)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn details_of_a_long_prompt_priced_at_its_tier() {
    let t = target("gemini-pro", ProviderKind::Gemini, "gemini-2.5-pro");
    let usage = Usage {
        input: Some(250_000),
        output: Some(2_000),
        cached_input: Some(20_000),
        reasoning: Some(1_200),
        ..Usage::default()
    };
    let screen = details_of(t, usage, vec![]);
    assert!(screen.contains("tier above 200000 input tokens"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// While names are hidden the details stay shut: they name the endpoint, the model and
/// its price.
#[test]
fn details_stay_shut_in_blind_mode() {
    let (app, base) = app(2);
    let mut app = app.with_blind_seed(1).with_blind(true);
    send(&mut app, "Explain streaming.");
    stream_words(&mut app, base, 0, 180, 10, ANSWER);
    finish(&mut app, base, 0, 400, 24, FinishReason::Stop, "stop");
    focus(&mut app, Focus::Pane(0));
    app.act(Action::Details);
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    let screen = render(&mut app, 120, 40);
    for leak in ["endpoint", "127.0.0.1:1", "price ", "rates ", "gpt-4o"] {
        assert!(!screen.contains(leak), "{leak} shown while blind:\n{screen}");
    }
}

/// One event of run `run` of the experiment on screen.
fn cell_feed(app: &mut App, run: usize, at: Instant, event: StreamEvent) {
    let launch = app.run();
    app.update(Msg::Cell {
        launch,
        run,
        at,
        event,
    });
}

/// The run of `cell` with repeat `repeat`.
fn run_of(app: &App, cell: usize, repeat: u32) -> usize {
    let g = app.grid().unwrap();
    g.plan
        .runs
        .iter()
        .position(|r| r.cell == cell && r.repeat == repeat)
        .unwrap()
}

/// Run `run` from `t0` ms: its first token after `ttft` ms, then `text`; finished when
/// `done`.
fn cell_run(app: &mut App, base: Instant, run: usize, t0: u64, ttft: u64, text: &str, done: bool) {
    let ms = |n: u64| base + Duration::from_millis(n);
    cell_feed(app, run, ms(t0), StreamEvent::Dispatched);
    cell_feed(app, run, ms(t0 + 30), started(ms(t0)));
    for (i, w) in text.split_inclusive(' ').enumerate() {
        cell_feed(
            app,
            run,
            ms(t0 + ttft + 10 * i as u64),
            StreamEvent::TextDelta(w.into()),
        );
    }
    if done {
        let end = ms(t0 + ttft + 400);
        cell_feed(
            app,
            run,
            end,
            StreamEvent::Usage(Box::new(Usage {
                input: Some(14),
                output: Some(9),
                ..Usage::default()
            })),
        );
        cell_feed(
            app,
            run,
            end,
            StreamEvent::Finish(Finish {
                reason: FinishReason::Stop,
                raw: Some("stop".into()),
            }),
        );
        cell_feed(app, run, end, StreamEvent::Done);
    }
}

fn key(app: &mut App, code: crossterm::event::KeyCode, modifiers: crossterm::event::KeyModifiers) {
    app.update(Msg::Term(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(code, modifiers),
    )));
}

/// 2 variants × 3 targets, two cases, repeat ×2: on the first case's page, cells done,
/// streaming, failed and still queued.
fn experiment_grid(w: u16, h: u16) -> String {
    use crossterm::event::{KeyCode, KeyModifiers};
    let (mut app, base) = app(3);
    app.update(Msg::EditorClosed(Ok("Weather in {{city}}?".into())));
    key(&mut app, KeyCode::Char('v'), KeyModifiers::ALT);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    app.update(Msg::EditorClosed(Ok("One word: weather in {{city}}".into())));
    key(&mut app, KeyCode::Char('c'), KeyModifiers::ALT);
    app.update(Msg::Term(crossterm::event::Event::Paste(
        "id,city\nosl,Oslo\nber,Berlin".into(),
    )));
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
    let effects = app.act(Action::Send);
    assert!(
        matches!(
            effects.last(),
            Some(prism::tui::model::msg::Effect::RunExperiment { .. })
        ),
        "{effects:?}"
    );
    let answer = "Cold and clear, around minus two. ";
    for (cell, repeat, t0, ttft, done) in [
        (0, 0, 0, 412, true),
        (0, 1, 900, 380, true),
        (1, 0, 0, 650, true),
        (1, 1, 1200, 300, false),
        (4, 0, 100, 520, false),
    ] {
        let run = run_of(&app, cell, repeat);
        cell_run(&mut app, base, run, t0, ttft, answer, done);
    }
    let failed = run_of(&app, 3, 0);
    cell_feed(&mut app, failed, base, StreamEvent::Dispatched);
    cell_feed(
        &mut app,
        failed,
        base + Duration::from_millis(90),
        StreamEvent::Failed(Box::new(ProviderError::new(
            ErrorKind::RateLimited,
            "429 Too Many Requests: slow down",
        ))),
    );
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    render(&mut app, w, h)
}

#[test]
fn experiment_grid_200x60() {
    insta::assert_snapshot!(experiment_grid(200, 60));
}

#[test]
fn experiment_grid_120x40() {
    insta::assert_snapshot!(experiment_grid(120, 40));
}

#[test]
fn experiment_grid_80x24() {
    insta::assert_snapshot!(experiment_grid(80, 24));
}

#[test]
fn an_experiment_grid_that_does_not_fit_scrolls_to_the_focused_cell() {
    use crossterm::event::{KeyCode, KeyModifiers};
    let (mut app, _) = app(4);
    app.update(Msg::EditorClosed(Ok("Hello".into())));
    key(&mut app, KeyCode::Char('v'), KeyModifiers::ALT);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let effects = app.act(Action::Send);
    assert!(!effects.is_empty());
    let screen = render(&mut app, 60, 20);
    assert!(screen.contains("targets 1-3 of 4"), "{screen}");
    assert!(!screen.contains("local"), "{screen}");
    // Focus the last cell of the first row: the grid scrolls it into view.
    focus(&mut app, Focus::Pane(3));
    let screen = render(&mut app, 60, 20);
    assert!(screen.contains("targets 2-4 of 4"), "{screen}");
    assert!(screen.contains("A · local"), "{screen}");
    assert!(screen.contains("● queued"), "{screen}");
    // Zoom fills the grid with the cell.
    app.act(Action::Zoom);
    let screen = render(&mut app, 60, 20);
    assert_eq!(screen.matches("A · local").count(), 1);
    assert!(!screen.contains("A · gpt"), "{screen}");
}
