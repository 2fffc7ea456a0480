//! The re-run comparison as a user sees it and drives it: recorded and new panes side by
//! side with the delta strip, the word-diff overlay and its keys. Deterministic data and
//! a controlled clock; no network.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::engine::Envelope;
use prism::pricing::PriceTable;
use prism::provider::event::{FinishReason, Usage};
use prism::provider::request::ChatRequest;
use prism::session::schema::{EventBody, KeyRef, Meta, TargetSettings};
use prism::session::{Recorded, Session, Turn};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::compare::DiffView;
use prism::tui::model::msg::{Effect, Msg};
use prism::tui::model::workspace::Overlay;
use prism::tui::theme::Role;
use prism::workflows::rerun::Entry;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

const RECORDED: &str = "Streaming sends the answer as it is generated. Each event carries a few tokens, and the client shows them at once.";
const NEW: &str = "Streaming sends the answer while it is generated. Each event carries a few tokens, so the client can show them at once.";

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

/// Events of one answer, as recorded: headers at 30 ms, a word every `gap` ms from
/// `t0`, then usage and the end.
fn events(t0: u64, gap: u64, text: &str, output: u64) -> Vec<(u64, EventBody)> {
    let ms = |n: u64| n * 1_000_000;
    let mut out = vec![
        (0, EventBody::Dispatched),
        (
            ms(30),
            EventBody::Started {
                http_status: 200,
                request_id: Some("req_1".into()),
                rate_limits: vec![],
                sent_ns: ms(5),
                connect_ns: None,
            },
        ),
    ];
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    for (i, w) in words.iter().enumerate() {
        out.push((
            ms(t0 + gap * i as u64),
            EventBody::Text {
                text: (*w).into(),
                pieces: None,
                first: None,
            },
        ));
    }
    let end = ms(t0 + gap * words.len() as u64);
    let usage = Usage {
        input: Some(26),
        output: Some(output),
        ..Usage::default()
    };
    out.push((end, EventBody::Usage { usage }));
    out.push((
        end,
        EventBody::Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        },
    ));
    out.push((end, EventBody::Done));
    out
}

fn recorded(events: Vec<(u64, EventBody)>) -> Recorded {
    Recorded {
        run: 1,
        history: vec![],
        events,
        row: None,
        interrupted: false,
    }
}

fn setup() -> (App, Instant, Vec<usize>) {
    let prices = PriceTable::builtin().unwrap();
    let targets = [
        target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        target("claude", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
    ];
    let request = ChatRequest::single(None, "Explain streaming.");
    let recs = [
        recorded(events(180, 10, RECORDED, 24)),
        recorded(events(420, 14, RECORDED, 24)),
    ];
    let entries: Vec<Entry> = targets
        .iter()
        .zip(&recs)
        .enumerate()
        .map(|(index, (t, r))| {
            let row = prism::report::row(t, &request, &r.fold(Instant::now()), &prices);
            Entry {
                index,
                recorded_target: t.clone(),
                target: t.clone(),
                request: request.clone(),
                recorded: r.clone(),
                recorded_row: row,
            }
        })
        .collect();
    let session = Session {
        dir: PathBuf::from("/nonexistent"),
        meta: Meta {
            version: 1,
            id: "20250301-101500-ab12".into(),
            name: None,
            created: "2025-03-01T10:15:00.000Z".into(),
            updated: "2025-03-01T10:15:00.000Z".into(),
            first_prompt: "Explain streaming.".into(),
            targets: vec!["gpt".into(), "claude".into()],
            turns: 1,
            cost_usd: 0.0,
            cost_incomplete: false,
            tags: Vec::new(),
        },
        targets: targets
            .iter()
            .map(|t| TargetSettings {
                key: KeyRef::Demo,
                ..TargetSettings::of(t)
            })
            .collect(),
        turns: vec![Turn {
            number: 1,
            system: None,
            prompt: "Explain streaming.".into(),
            wall: "2025-03-01T10:15:00.000Z".into(),
            answers: recs.iter().cloned().enumerate().collect::<BTreeMap<_, _>>(),
        }],
        last_run: 1,
        cut_short: false,
        votes: Vec::new(),
        experiment: None,
        cells: BTreeMap::new(),
    };
    let mut app = App::new(
        Vec::new(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    )
    .with_prices(prices);
    let base = Instant::now();
    app.update(Msg::Tick(base));
    let (effects, run, live) = app.begin_compare(&session, &entries);
    assert!(effects.is_empty());
    assert_eq!(app.run(), run);
    (app, base, live)
}

fn feed(app: &mut App, pane: usize, base: Instant, events: &[(u64, EventBody)]) {
    for (t, body) in events {
        let env = Envelope {
            run: app.run(),
            target: 0,
            at: base + Duration::from_nanos(*t),
            event: body.to_event(base),
        };
        app.update(Msg::Stream { pane, env });
    }
}

/// The first live pane has finished (faster, reworded); the second is still streaming.
fn compared() -> App {
    let (mut app, base, live) = setup();
    feed(&mut app, live[0], base, &events(150, 8, NEW, 26));
    let partial = events(500, 20, NEW, 26);
    feed(&mut app, live[1], base, &partial[..8]);
    app.update(Msg::Tick(base + Duration::from_millis(2000)));
    app
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

/// The style of the first cell of `word` on screen.
fn style_of(buf: &Buffer, word: &str) -> ratatui::style::Style {
    let screen = text(buf);
    for (y, line) in screen.lines().enumerate() {
        if let Some(at) = line.find(word) {
            let x = line[..at].chars().count();
            return buf[(x as u16, y as u16)].style();
        }
    }
    panic!("`{word}` not on screen:\n{screen}");
}

/// The open diff overlay.
fn diff(app: &App) -> &DiffView {
    let Overlay::Diff(view) = app.overlay() else {
        panic!("no diff open: {:?}", app.overlay())
    };
    view
}

/// Tab until `want` has the focus, as a user would.
fn focus(app: &mut App, want: Focus) {
    for _ in 0..16 {
        if app.focus() == want {
            return;
        }
        key(app, KeyCode::Tab);
    }
    panic!("tab never reaches {want:?}");
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))))
}

#[test]
fn compare_view() {
    let mut app = compared();
    insta::assert_snapshot!(render(&mut app, 120, 30));
    let c = app.compare().unwrap();
    let done = &c.pairs[0];
    let new = done.new.as_ref().expect("final once the stream ended");
    assert_eq!(new.output_tokens, Some(26));
    let s = done.similarity.unwrap();
    assert!(s > 0.5 && s < 1.0, "{s}");
    assert!(c.pairs[1].new.is_none(), "still streaming");
}

#[test]
fn diff_overlay() {
    let mut app = compared();
    focus(&mut app, Focus::Pane(1));
    key(&mut app, KeyCode::Char('D'));
    let buf = draw(&mut app, 100, 24);
    insta::assert_snapshot!(text(&buf));
    let theme = app.theme();
    let removed = style_of(&buf, "as while");
    assert!(removed.add_modifier.contains(Modifier::CROSSED_OUT));
    assert_eq!(removed.fg, theme.style(Role::Error).fg);
    let added = style_of(&buf, "while it");
    assert!(added.add_modifier.contains(Modifier::UNDERLINED));
    assert_eq!(added.fg, theme.style(Role::StatusDone).fg);
    assert!(
        !style_of(&buf, "Streaming sends")
            .add_modifier
            .contains(Modifier::CROSSED_OUT)
    );
}

#[test]
fn d_on_either_pane_of_a_target_opens_its_diff_and_other_keys_close_it() {
    let (mut app, _, live) = compared_with_live();
    focus(&mut app, Focus::Pane(2));
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    let view = diff(&app);
    assert_eq!(view.pair, 1, "pane 2 is claude's recording");
    key(&mut app, KeyCode::Esc);

    focus(&mut app, Focus::Pane(live[0]));
    key(&mut app, KeyCode::Char('D'));
    let view = diff(&app);
    assert_eq!(view.pair, 0);
    assert!(
        view.chunks
            .iter()
            .any(|c| matches!(c, prism::session::compare::Chunk::Added(_)))
    );
    assert_eq!(view.scroll, 0);

    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(diff(&app).scroll, 1);
    assert!(
        key(&mut app, KeyCode::Char('x')).is_empty(),
        "closing cancels nothing"
    );
    assert!(!matches!(app.overlay(), Overlay::Diff(_)));
    assert_eq!(app.focus(), Focus::Pane(live[0]), "focus stays");

    key(&mut app, KeyCode::Char('D'));
    assert_eq!(key(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
}

/// While the new answer streams, an open diff follows it a few times a second rather
/// than on every frame; once the stream has ended the next frame shows the whole answer.
#[test]
fn an_open_diff_follows_a_streaming_answer_a_few_times_a_second() {
    let (mut app, base, live) = setup();
    let new = events(500, 20, NEW, 26);
    // Dispatched, the headers and the first four words.
    feed(&mut app, live[0], base, &new[..6]);
    focus(&mut app, Focus::Pane(live[0]));
    key(&mut app, KeyCode::Char('D'));
    let opened = app.now();
    let diffed = |app: &App| diff(app).of_len;
    let arrived = |app: &App| app.pane(live[0]).metrics.text.len();
    assert_eq!(diffed(&app), arrived(&app));

    feed(&mut app, live[0], base, &new[6..10]);
    app.update(Msg::Tick(opened + Duration::from_millis(100)));
    draw(&mut app, 100, 24);
    assert!(diffed(&app) < arrived(&app), "not redone by a frame 100 ms later");
    app.update(Msg::Tick(opened + prism::tui::model::compare::DIFF_INTERVAL));
    draw(&mut app, 100, 24);
    assert_eq!(diffed(&app), arrived(&app), "redone once the interval passed");

    // The rest of the words and the end, at once.
    feed(&mut app, live[0], base, &new[10..]);
    app.update(Msg::Tick(app.now() + Duration::from_millis(1)));
    let screen = render(&mut app, 100, 24);
    assert_eq!(diffed(&app), NEW.len(), "redone at once when the stream ended");
    let view = diff(&app);
    assert_eq!(view.chunks, prism::session::compare::word_diff(RECORDED, NEW));
    assert!(!screen.contains("so far"), "{screen}");
}

fn compared_with_live() -> (App, Instant, Vec<usize>) {
    let (mut app, base, live) = setup();
    feed(&mut app, live[0], base, &events(150, 8, NEW, 26));
    (app, base, live)
}

#[test]
fn diff_needs_a_pane_and_outside_a_comparison_two() {
    let mut app = App::new(
        vec![target("gpt", ProviderKind::OpenAi, "m")],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    focus(&mut app, Focus::Pane(0));
    assert!(key(&mut app, KeyCode::Char('D')).is_empty());
    assert!(!matches!(app.overlay(), Overlay::Diff(_)), "one pane is no diff");
    assert!(app.notice().unwrap().contains("gpt marked"), "{:?}", app.notice());
    assert_eq!(app.diff_mark(), Some(0));
    key(&mut app, KeyCode::Char('D'));
    assert_eq!(app.diff_mark(), None, "D again on the same pane unmarks it");

    let (mut app, _, _) = setup();
    focus(&mut app, Focus::Prompt);
    assert!(app.act(prism::keys::Action::Diff).is_empty());
    assert!(!matches!(app.overlay(), Overlay::Diff(_)));
    assert!(app.notice().unwrap().contains("focus a pane"));
}

#[test]
fn a_comparison_is_read_only() {
    let (mut app, _, _) = setup();
    focus(&mut app, Focus::Prompt);
    let before = app.prompt().lines().join("\n");
    key(&mut app, KeyCode::Char('z'));
    assert_eq!(app.prompt().lines().join("\n"), before);
    assert!(app.notice().unwrap().contains("read-only"));
    let effects = app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    ))));
    assert!(effects.is_empty(), "no send");
    assert!(app.notice().unwrap().contains("sends are off"));
    let live_run = app.run();
    assert!(
        app.panes()
            .iter()
            .skip(1)
            .step_by(2)
            .all(|p| p.run == Some(live_run))
    );
    assert_ne!(
        app.pane(0).run,
        Some(live_run),
        "recorded panes never take live events"
    );
}

/// Three live panes with their answers in: RECORDED in gpt's, NEW in claude's.
fn three_answers(blind: bool) -> App {
    let app = App::new(
        vec![
            target("gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
            target("claude", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
            target("gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
        ],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    let mut app = if blind {
        app.with_blind_seed(2).with_blind(true)
    } else {
        app
    };
    let base = Instant::now();
    app.update(Msg::Tick(base));
    app.update(Msg::EditorClosed(Ok("Explain streaming.".into())));
    app.act(prism::keys::Action::Send);
    feed(&mut app, 0, base, &events(150, 8, RECORDED, 26));
    feed(&mut app, 1, base, &events(300, 8, NEW, 26));
    feed(&mut app, 2, base, &events(300, 8, "Something else entirely.", 5));
    app.update(Msg::Tick(base + Duration::from_secs(3)));
    app
}

#[test]
fn d_on_two_panes_shows_the_word_diff_of_their_answers() {
    let mut app = three_answers(false);
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('D'));
    assert_eq!(app.diff_mark(), Some(0));
    assert!(!matches!(app.overlay(), Overlay::Diff(_)));
    let screen = render(&mut app, 120, 40);
    let marked = screen.lines().find(|l| l.contains("diff from here")).unwrap();
    assert!(marked.contains("gpt"), "the mark is on gpt's header:\n{screen}");

    focus(&mut app, Focus::Pane(1));
    key(&mut app, KeyCode::Char('D'));
    let view = diff(&app);
    assert_eq!(view.picked, Some((0, 1)), "gpt is A, claude B");
    assert_eq!(view.chunks, prism::session::compare::word_diff(RECORDED, NEW));
    let same = prism::session::compare::similarity(RECORDED, NEW);
    assert_eq!(view.similarity, same);
    assert!(same > 0.5 && same < 1.0, "{same}");
    let buf = draw(&mut app, 120, 40);
    let screen = text(&buf);
    let title = format!("gpt → claude · {:.0}% same ", same * 100.0);
    assert!(screen.contains(&title), "{title} not in:\n{screen}");
    assert!(!screen.contains("so far"), "both answers are in");
    assert!(
        style_of(&buf, "while")
            .add_modifier
            .contains(Modifier::UNDERLINED),
        "B's words are the added ones"
    );
    assert!(!screen.contains("diff from here"), "the mark is used up");
    assert_eq!(app.diff_mark(), None);
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.overlay(), Overlay::None), "esc closes it");
}

#[test]
fn blind_a_diff_of_two_panes_calls_them_by_their_labels() {
    let mut app = three_answers(true);
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('D'));
    focus(&mut app, Focus::Pane(2));
    key(&mut app, KeyCode::Char('D'));
    assert_eq!(diff(&app).picked, Some((0, 2)));
    let (a, b) = (app.diff_title(0), app.diff_title(2));
    assert_eq!((a.len(), b.len()), (1, 1), "labels: {a} {b}");
    for (w, h) in [(120, 40), (80, 24)] {
        let screen = render(&mut app, w, h);
        assert!(screen.contains(&format!(" {a} → {b} · ")), "{screen}");
        let lower = screen.to_lowercase();
        for word in ["gpt", "claude", "gemini", "openai", "anthropic", "sonnet", "$0."] {
            assert!(!lower.contains(word), "`{word}` on the {w}x{h} screen:\n{screen}");
        }
    }
}
