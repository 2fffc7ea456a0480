//! The scoreboard overlay as a user sees it and drives it: one row per target over every
//! run of the session, sorting, the best values marked, the bar charts, narrow
//! terminals, and blind mode (no name before the vote). Scripted stream events and a
//! controlled clock; no network.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::engine::Envelope;
use prism::keys::Action;
use prism::provider::event::{Finish, FinishReason, ResponseStart, StreamEvent, Usage};
use prism::report::Status;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::Msg;
use prism::tui::model::scoreboard::{Board, rows};
use prism::tui::model::workspace::Overlay;
use prism::workflows::experiment::results::RunResult;
use prism::workflows::experiment::scoreboard::{Column, Scored};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

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

fn targets() -> Vec<Target> {
    vec![
        target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        target("claude", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
        target("gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
    ]
}

fn app() -> (App, Instant) {
    let mut app = App::new(
        targets(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "demo: mock server on 127.0.0.1:8089".into(),
    );
    let base = Instant::now();
    app.update(Msg::Tick(base));
    (app, base)
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

/// One whole answer in `pane`: first text at `ttft` ms, a word every `gap` ms, then
/// usage, the finish and the end.
fn answer(app: &mut App, base: Instant, pane: usize, ttft: u64, gap: u64, text: &str, output: u64) {
    let ms = |n: u64| base + Duration::from_millis(n);
    feed(app, pane, base, StreamEvent::Dispatched);
    feed(
        app,
        pane,
        ms(30),
        StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: Some("req_1".into()),
            rate_limits: vec![],
            sent_at: ms(5),
            connect: Some(Duration::from_millis(5)),
        })),
    );
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    for (i, w) in words.iter().enumerate() {
        feed(
            app,
            pane,
            ms(ttft + gap * i as u64),
            StreamEvent::TextDelta((*w).into()),
        );
    }
    let end = ms(ttft + gap * words.len() as u64);
    feed(
        app,
        pane,
        end,
        StreamEvent::Usage(Box::new(Usage {
            input: Some(26),
            output: Some(output),
            ..Usage::default()
        })),
    );
    feed(
        app,
        pane,
        end,
        StreamEvent::Finish(Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        }),
    );
    feed(app, pane, end, StreamEvent::Done);
}

fn send(app: &mut App, prompt: &str) {
    app.update(Msg::EditorClosed(Ok(prompt.to_string())));
    app.act(Action::Send);
}

const ANSWER: &str = "Streaming sends the answer as it is generated, a few tokens at a time. ";

/// Two turns to three targets: gpt first to answer, gemini the fastest streamer.
fn two_turns() -> App {
    let (mut app, base) = app();
    for (turn, prompt) in ["Explain streaming.", "And buffering?"].into_iter().enumerate() {
        send(&mut app, prompt);
        let slower = 40 * turn as u64;
        answer(&mut app, base, 0, 200 + slower, 20, ANSWER, 20);
        answer(&mut app, base, 1, 450 + slower, 30, ANSWER, 24);
        answer(&mut app, base, 2, 600 + slower, 5, ANSWER, 30);
    }
    app.update(Msg::Tick(base + Duration::from_secs(3)));
    app
}

fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))));
}

/// Tab until `want` has the focus, as a user would.
fn focus(app: &mut App, want: Focus) {
    for _ in 0..16 {
        if app.focus() == want {
            return;
        }
        key(app, KeyCode::Tab, KeyModifiers::NONE);
    }
    panic!("tab never reaches {want:?}");
}

fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.frame(app).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    text(&draw(app, w, h))
}

fn board(app: &App) -> Board {
    match app.overlay() {
        Overlay::Scoreboard(b) => *b,
        other => panic!("no scoreboard open: {other:?}"),
    }
}

/// Each line's longest stretch between borders: inside the overlay, where the table is.
fn inside(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| {
            l.split(['│', '┃'])
                .max_by_key(|s| s.chars().count())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// The table's lines, from its header to the blank line under it.
fn table_lines(screen: &str) -> Vec<String> {
    inside(screen)
        .into_iter()
        .skip_while(|l| !(l.starts_with("target ") || l.starts_with("variant ")))
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The row order of the table on screen, by target name.
fn order(screen: &str) -> Vec<String> {
    table_lines(screen)
        .iter()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn the_scoreboard_of_three_targets_over_two_turns() {
    let mut app = two_turns();
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    let rows = app.scoreboard_rows(&board(&app));
    assert_eq!(rows.len(), 3, "one row per target");
    assert!(rows.iter().all(|r| r.n == 2 && r.failures == 0), "{rows:?}");
    assert!(rows.iter().all(|r| r.votes.is_none()), "no vote, no votes column");
    let wide = render(&mut app, 120, 40);
    assert!(wide.contains("scoreboard · 6 runs"), "{wide}");
    for chart in ["TTFT mean ms", "tokens/s", "cost per call $"] {
        assert!(wide.contains(chart), "{chart} chart missing:\n{wide}");
    }
    insta::assert_snapshot!("scoreboard_120x40", wide);
    insta::assert_snapshot!("scoreboard_80x24", render(&mut app, 80, 24));
}

#[test]
fn the_best_value_of_each_column_is_marked_by_shape_and_colour() {
    let mut app = two_turns();
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    let buf = draw(&mut app, 120, 40);
    let table = table_lines(&text(&buf));
    let line = |name: &str| table.iter().find(|l| l.contains(name)).unwrap().clone();
    // gpt answers first; gemini streams fastest.
    let ttft = app.scoreboard_rows(&Board::default());
    let gpt = &ttft[0];
    assert!(
        line("gpt").contains(&format!("*{:.0}", gpt.ttft_ms_mean.unwrap())),
        "{table:?}"
    );
    let gemini = &ttft[2];
    assert!(
        line("gemini").contains(&format!("*{:.1}", gemini.tokens_per_s_mean.unwrap())),
        "{table:?}"
    );
    assert!(
        !line("claude").contains('*'),
        "claude is best at nothing: {table:?}"
    );
    // The mark is bold too (and coloured), so it stands out either way.
    let screen = text(&buf);
    let (y, l) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("gpt") && l.contains('*'))
        .unwrap();
    let x = l[..l.find('*').unwrap()].chars().count();
    assert!(
        buf[(x as u16, y as u16)]
            .style()
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn arrows_sort_by_a_column_and_r_reverses_it() {
    let mut app = two_turns();
    // From the editor, f2 opens it.
    focus(&mut app, Focus::Prompt);
    key(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    assert_eq!(board(&app).sort, None);
    assert_eq!(order(&render(&mut app, 120, 40)), ["gpt", "claude", "gemini"]);
    // Left from unsorted wraps to the last column shown: no votes were cast, so cost.
    key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    assert_eq!(board(&app).sort, Some(Column::Cost));
    key(&mut app, KeyCode::Right, KeyModifiers::NONE);
    assert_eq!(board(&app).sort, None);
    // Target, n, failures, TTFT mean, TTFT p95, tokens/s (no variants: no such column).
    for _ in 0..6 {
        key(&mut app, KeyCode::Right, KeyModifiers::NONE);
    }
    assert_eq!(board(&app).sort, Some(Column::TokensPerS));
    let screen = render(&mut app, 120, 40);
    assert!(screen.contains("sorted by tokens/s ↓"), "{screen}");
    assert_eq!(order(&screen), ["gemini", "gpt", "claude"], "fastest first");
    key(&mut app, KeyCode::Char('r'), KeyModifiers::NONE);
    assert_eq!(order(&render(&mut app, 120, 40)), ["claude", "gpt", "gemini"]);
    key(&mut app, KeyCode::Left, KeyModifiers::NONE);
    assert_eq!(board(&app).sort, Some(Column::TtftP95));
    // Any other key closes it; the panes are back.
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(matches!(app.overlay(), Overlay::None));
}

#[test]
fn a_narrow_terminal_drops_whole_columns_and_never_cuts_a_number() {
    let mut app = two_turns();
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    let rows = app.scoreboard_rows(&Board::default());
    for w in [120, 80, 60, 44] {
        let screen = render(&mut app, w, 24);
        let table = table_lines(&screen).join("\n");
        assert!(table.contains("TTFT ms"), "TTFT goes last ({w} wide):\n{screen}");
        for r in &rows {
            let ttft = format!("{:.0}", r.ttft_ms_mean.unwrap());
            assert!(table.contains(&ttft), "{ttft} cut at {w}:\n{screen}");
        }
        // A column is there whole or not at all.
        if table.contains("$/call") {
            for r in &rows {
                let cost = format!("{:.6}", r.cost_usd_mean.unwrap());
                assert!(table.contains(&cost), "{cost} cut at {w}:\n{screen}");
            }
        }
    }
    let narrow = table_lines(&render(&mut app, 44, 24)).join("\n");
    assert!(
        !narrow.contains("finish"),
        "the finish reasons go first:\n{narrow}"
    );
}

fn scored(variant: usize, target: usize, ttft: f64, tps: f64, cost: f64) -> Scored {
    Scored {
        variant: Some((variant, ["terse", "friendly"][variant].to_string())),
        target: (target, ["gpt", "claude"][target].to_string()),
        run: RunResult {
            status: Status::Ok,
            ttft_ms: Some(ttft),
            total_ms: Some(ttft * 3.0),
            tokens_per_s: Some(tps),
            output_tokens: Some(40),
            cost_usd: Some(cost),
            finish_reason: Some(FinishReason::Stop),
            cache_saved_usd: None,
            schema_valid: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            tool_calls: Vec::new(),
        },
    }
}

/// Draw the scoreboard of `scored` straight from the rows, as the experiment grid will.
fn board_of(scored: Vec<Scored>, w: u16, h: u16) -> String {
    let rows = rows(scored, None, &Board::default());
    let theme = prism::tui::theme::load("dark").unwrap();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| {
        prism::tui::view::scoreboard::draw_rows(f, f.area(), &rows, &Board::default(), &theme);
    })
    .unwrap();
    text(term.backend().buffer())
}

#[test]
fn two_variants_by_two_targets_from_scored_runs() {
    let scored = vec![
        scored(0, 0, 210.0, 80.0, 0.00012),
        scored(0, 0, 230.0, 84.0, 0.00014),
        scored(0, 1, 480.0, 60.0, 0.00031),
        scored(1, 0, 260.0, 78.0, 0.00018),
        scored(1, 1, 520.0, 95.5, 0.00040),
        Scored {
            run: RunResult {
                status: Status::Error,
                finish_reason: Some(FinishReason::Error),
                ..scored(1, 1, 5.0, 0.0, 0.0).run
            },
            ..scored(1, 1, 5.0, 0.0, 0.0)
        },
    ];
    let wide = board_of(scored.clone(), 120, 40);
    assert!(wide.contains("variant"), "{wide}");
    assert!(
        wide.contains("terse/gpt"),
        "chart labels name variant and target:\n{wide}"
    );
    insta::assert_snapshot!("scoreboard_variants_120x40", wide);
    insta::assert_snapshot!("scoreboard_variants_80x24", board_of(scored, 80, 24));
}

#[test]
fn votes_cast_in_the_session_are_a_column() {
    let (mut app, base) = app();
    send(&mut app, "Explain streaming.");
    for pane in 0..3 {
        answer(&mut app, base, pane, 200 + 100 * pane as u64, 10, ANSWER, 20);
    }
    focus(&mut app, Focus::Pane(0));
    // Claude (B) is best.
    key(&mut app, KeyCode::Char('2'), KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    let votes: BTreeMap<String, Option<usize>> = app
        .scoreboard_rows(&board(&app))
        .into_iter()
        .map(|r| (r.target, r.votes))
        .collect();
    assert_eq!(
        votes,
        BTreeMap::from([
            ("claude".into(), Some(1)),
            ("gemini".into(), Some(0)),
            ("gpt".into(), Some(0)),
        ])
    );
    let table = table_lines(&render(&mut app, 120, 40));
    assert!(table[0].contains("votes"), "{table:?}");
    assert!(
        table.iter().any(|l| l.contains("claude") && l.contains("*1")),
        "{table:?}"
    );
}

/// Words that would give a target away: its name, provider and model, and any price.
fn giveaways() -> Vec<String> {
    let mut words = vec!["$0.".to_string(), "0.0000".to_string()];
    for t in targets() {
        words.extend([t.name, t.provider.to_string(), t.model]);
    }
    words.iter().map(|w| w.to_lowercase()).collect()
}

#[test]
fn blind_the_scoreboard_waits_for_the_vote() {
    let (app, base) = app();
    let mut app = app.with_blind_seed(3).with_blind(true);
    send(&mut app, "Explain streaming.");
    for pane in 0..3 {
        answer(&mut app, base, pane, 200 + 100 * pane as u64, 10, ANSWER, 20);
    }
    for (mode, code) in [
        (Focus::Prompt, KeyCode::F(2)),
        (Focus::Pane(0), KeyCode::Char('s')),
    ] {
        focus(&mut app, mode);
        key(&mut app, code, KeyModifiers::NONE);
        assert!(matches!(app.overlay(), Overlay::None), "opened while blind");
        assert!(app.notice().unwrap().contains("vote first"), "{:?}", app.notice());
        for (w, h) in [(120, 40), (80, 24)] {
            let screen = render(&mut app, w, h).to_lowercase();
            for word in giveaways() {
                assert!(
                    !screen.contains(&word),
                    "`{word}` on the {w}x{h} screen:\n{screen}"
                );
            }
        }
    }
    // After the vote the names are out, and so is the scoreboard.
    key(&mut app, KeyCode::Char('1'), KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(matches!(app.overlay(), Overlay::Scoreboard(_)));
    assert!(render(&mut app, 120, 40).contains("claude"));
}

#[test]
fn a_new_conversation_starts_a_new_scoreboard() {
    let mut app = two_turns();
    assert_eq!(app.scored().len(), 6, "every finished run, one per pane per turn");
    app.act(Action::NewConversation);
    assert!(app.scored().is_empty());
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
    assert!(render(&mut app, 120, 40).contains("No finished runs yet"));
}

/// An experiment sent for real to the mock server, then a vote recorded in its session:
/// `prism sessions show` counts it in the row of the winning run's (variant, target).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_show_counts_an_experiments_votes_in_its_scoreboard() {
    use prism::config::Variant;
    use prism::pricing::PriceTable;
    use prism::session::SessionWriter;
    use prism::session::votes::{Candidate, Choice, VoteRecord};
    use prism::workflows::experiment::limits::Limits;
    use prism::workflows::experiment::runner::{Execution, execute};
    use prism::workflows::experiment::{Design, Plan, scoreboard};

    let server = prism::mock_server::MockServer::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let targets = (0..2)
        .map(|i| {
            common::mock_target(
                &server,
                &format!("t{i}"),
                ProviderKind::OpenAi,
                &format!("gpt-4o-mini-2024-07-18+ttft=1,itl=1,tokens=3,seed={i}"),
                64,
            )
        })
        .collect();
    let variant = |name: &str| Variant {
        name: name.into(),
        prompt: Some(format!("Say hi, {name}")),
        origin: "test".into(),
        ..Variant::default()
    };
    let plan = Plan::build(Design {
        targets,
        variants: vec![variant("plain"), variant("hot")],
        ..Design::default()
    })
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let prices = PriceTable::builtin().unwrap();
    let writer = SessionWriter::create(root.path(), &plan.session_targets, prices.clone()).unwrap();
    let blocked = vec![None; plan.cells.len()];
    let limits = Limits {
        per_endpoint: 2,
        per_target: BTreeMap::new(),
    };
    let x = Execution {
        plan: &plan,
        limits: &limits,
        blocked: &blocked,
        session: Some(&writer),
        prices: &prices,
        stop: tokio_util::sync::CancellationToken::new(),
    };
    execute(x, |_, _| {}).await;
    // The candidates: (plain, t0) and (hot, t1); the second wins.
    let run_of = |variant: usize, target: usize| {
        let r = plan
            .runs
            .iter()
            .find(|r| {
                let c = &plan.cells[r.cell];
                c.variant == Some(variant) && c.target == target
            })
            .unwrap();
        Candidate {
            target: plan.cells[r.cell].session_target,
            run: r.run_id,
            variant: Some(["plain", "hot"][variant].into()),
        }
    };
    writer.vote(VoteRecord {
        wall: String::new(),
        candidates: vec![run_of(0, 0), run_of(1, 1)],
        choice: Choice::Best(1),
        blind: true,
        self_identified: vec![],
    });
    writer.close();
    assert_eq!(writer.error(), None);
    let id = writer.id().to_string();

    let session = prism::session::load(writer.dir()).unwrap();
    let votes: Vec<(Option<String>, String, Option<usize>)> = scoreboard::of_session(&session, &prices)
        .unwrap()
        .into_iter()
        .map(|r| (r.variant, r.target, r.votes))
        .collect();
    let row = |v: &str, t: &str, n| (Some(v.to_string()), t.to_string(), Some(n));
    assert_eq!(
        votes,
        [
            row("plain", "t0", 0),
            row("plain", "t1", 0),
            row("hot", "t0", 0),
            row("hot", "t1", 1)
        ]
    );

    let mut out = Vec::new();
    let cmd = prism::commands::sessions::SessionsCommand::Show { id };
    prism::commands::sessions::run_in(cmd, root.path(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let board = &out[out.find("scoreboard:").unwrap()..];
    let header = board.lines().find(|l| l.contains("target")).unwrap();
    assert!(header.contains("votes"), "{board}");
    let hot_t1 = board
        .lines()
        .find(|l| l.contains("hot") && l.contains("t1"))
        .unwrap();
    assert!(hot_t1.contains("*1"), "the winner's vote, marked best:\n{board}");
    server.shutdown().await;
}

#[test]
fn tool_choices_and_cache_savings_are_columns_beside_each_other() {
    let with = |variant: usize, target: usize, args: &str, read: u64| {
        let mut s = scored(variant, target, 200.0, 80.0, 0.0001);
        s.run.tool_calls = vec![prism::report::ToolCallRow {
            id: Some("call_1".into()),
            name: Some("get_weather".into()),
            arguments: args.into(),
        }];
        s.run.cache_read_tokens = Some(read);
        s.run.cache_write_tokens = Some(0);
        s.run.cache_saved_usd = Some(0.00025);
        s
    };
    let screen = board_of(
        vec![
            with(0, 0, r#"{"city":"Paris","unit":"c"}"#, 1024),
            with(0, 1, r#"{"unit":"c", "city":"Paris"}"#, 2048),
            with(1, 0, r#"{"city":"Paris"}"#, 0),
            with(1, 1, r#"{"city":"Lyon"}"#, 0),
        ],
        160,
        30,
    );
    assert!(
        screen.contains("cache r/w tok saved") && screen.contains("tools"),
        "{screen}"
    );
    assert!(screen.contains("r 2048 w 0 +$0.000250"), "{screen}");
    let claude = table_lines(&screen)
        .into_iter()
        .find(|l| l.contains("terse") && l.contains("claude"))
        .unwrap();
    assert!(
        claude.contains("get_weather 1/1 same"),
        "key order does not make arguments different: {claude}"
    );
    assert!(
        screen.contains(r#"≠ friendly/claude vs gpt: get_weather {"city": [-"Paris"}-]{+"Lyon"}+}"#),
        "{screen}"
    );
}
