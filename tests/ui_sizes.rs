//! The workbench at every terminal size: 80×24, 100×30, 120×40 and 200×60 with 1, 3, 6
//! and 8 targets, every answer finished. Whatever the size, every number a pane measured
//! is on screen whole (in its header or in the compact strip), and the footer offers help
//! and quit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::engine::Envelope;
use prism::keys::{Action, KeyChord, Mode};
use prism::provider::event::{Finish, FinishReason, ResponseStart, StreamEvent, Usage};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::Msg;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 40), (200, 60)];
const COUNTS: [usize; 4] = [1, 3, 6, 8];

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

fn targets(n: usize) -> Vec<Target> {
    let all = [
        target("gpt-4o-mini", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        target(
            "claude-sonnet",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514",
        ),
        target("gemini-flash", ProviderKind::Gemini, "gemini-2.5-flash"),
        target("o4-mini", ProviderKind::OpenAi, "o4-mini-2025-04-16"),
        target("claude-opus", ProviderKind::Anthropic, "claude-opus-4-1-20250805"),
        target("gemini-pro", ProviderKind::Gemini, "gemini-2.5-pro"),
        target("gpt-4o", ProviderKind::OpenAi, "gpt-4o-2024-11-20"),
        target("local", ProviderKind::OpenAiCompatible, "llama3.1:8b"),
    ];
    all[..n].to_vec()
}

fn app_with(n: usize, keymap: Keymap) -> (App, Instant) {
    let mut app = App::new(
        targets(n),
        keymap,
        prism::tui::theme::load("dark").unwrap(),
        "demo: mock server on 127.0.0.1:8089".into(),
    );
    let base = Instant::now();
    app.update(Msg::Tick(base));
    (app, base)
}

fn send(app: &mut App, prompt: &str) {
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

const ANSWER: &str = "Streaming sends the answer as it is generated. Each event carries a few tokens, and the client shows them at once. ";

/// What pane `p` measured, so the screen can be checked for each number whole.
struct Finished {
    ttft_ms: u64,
    output: u64,
    reason: (FinishReason, &'static str),
}

fn finished(p: usize) -> Finished {
    let reasons = [
        (FinishReason::Stop, "stop"),
        (FinishReason::Stop, "end_turn"),
        (FinishReason::Stop, "STOP"),
        (FinishReason::Length, "length"),
        (FinishReason::Length, "max_tokens"),
        (FinishReason::Stop, "STOP"),
        (FinishReason::Stop, "stop"),
        (FinishReason::Stop, "stop"),
    ];
    Finished {
        ttft_ms: 180 + 37 * p as u64,
        output: 140 + 13 * p as u64,
        reason: reasons[p % reasons.len()],
    }
}

/// Stream an answer into pane `p` and finish it, all with the controlled clock.
fn run_pane(app: &mut App, base: Instant, p: usize, text: &str) {
    let f = finished(p);
    let ms = |n: u64| base + Duration::from_millis(n);
    feed(app, p, base, StreamEvent::Dispatched);
    feed(
        app,
        p,
        ms(30),
        StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: Some("req_1".into()),
            rate_limits: vec![],
            sent_at: base + Duration::from_millis(5),
            connect: Some(Duration::from_millis(5)),
        })),
    );
    for (i, w) in text.split_inclusive(' ').enumerate() {
        feed(
            app,
            p,
            ms(f.ttft_ms + 12 * i as u64),
            StreamEvent::TextDelta(w.into()),
        );
    }
    let end = ms(f.ttft_ms + 1200);
    feed(
        app,
        p,
        end,
        StreamEvent::Usage(Box::new(Usage {
            input: Some(26),
            output: Some(f.output),
            ..Usage::default()
        })),
    );
    feed(
        app,
        p,
        end,
        StreamEvent::Finish(Finish {
            reason: f.reason.0,
            raw: Some(f.reason.1.into()),
        }),
    );
    feed(app, p, end, StreamEvent::Done);
}

fn finished_app(n: usize) -> App {
    let (mut app, base) = app_with(n, Keymap::default());
    send(&mut app, "Explain streaming.");
    for p in 0..n {
        run_pane(&mut app, base, p, ANSWER);
    }
    app.update(Msg::Tick(base + Duration::from_millis(3000)));
    app
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

/// Every number of pane `p`, as the screen writes it.
fn numbers(app: &App, p: usize) -> Vec<String> {
    let f = finished(p);
    let mut out = vec![
        // TTFT counts from when the request went out (5 ms after the send).
        format!("TTFT {} ms", f.ttft_ms - 5),
        format!("out {}", f.output),
        f.reason.0.as_str().to_string(),
    ];
    let pane = app.pane(p);
    let rate = pane.metrics.tokens_per_s(pane.output_tokens().0).unwrap();
    out.push(format!("{rate:.0} tok/s"));
    if let Some((pd, _)) = app.pane_cost(p) {
        out.push(format!("${:.6}", prism::pricing::usd(pd)));
    }
    out
}

/// Each pane's numbers are on screen whole: on its strip line, or in its header.
fn every_number_whole(screen: &str, app: &App, n: usize, size: (u16, u16)) {
    for p in 0..n {
        let name = &targets(n)[p].name;
        let wanted = numbers(app, p);
        // In the strip: one line starting with the name holds them all.
        let strip_line = screen
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")));
        let shown = match strip_line {
            Some(line) => line.to_string(),
            // Otherwise in the pane's own header: the two lines under its title,
            // between its borders.
            None => {
                let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
                let needle: Vec<char> = format!(" {name} ").chars().collect();
                let (row, col) = lines
                    .iter()
                    .enumerate()
                    .find_map(|(r, l)| {
                        l.windows(needle.len())
                            .position(|w| w == needle.as_slice())
                            .map(|c| (r, c))
                    })
                    .unwrap_or_else(|| panic!("{size:?} n={n}: no pane or strip line for {name}\n{screen}"));
                let title = &lines[row];
                let start = title[..col].iter().rposition(|c| "╭┏".contains(*c)).unwrap();
                let end = col + title[col..].iter().position(|c| "╮┓".contains(*c)).unwrap();
                let part =
                    |r: usize| -> String { lines[r][start..=end.min(lines[r].len() - 1)].iter().collect() };
                format!("{}\n{}", part(row + 1), part(row + 2))
            }
        };
        for number in wanted {
            assert!(
                shown.contains(&number),
                "{size:?} n={n}: {name} does not show `{number}` whole:\n{shown}\n\n{screen}"
            );
        }
    }
}

fn footer_offers_help_and_quit(screen: &str, size: (u16, u16)) {
    let footer = screen.lines().last().unwrap();
    assert!(
        footer.contains("f1 help") && footer.contains("ctrl-c quit"),
        "{size:?}: footer lacks help or quit: {footer}"
    );
}

#[test]
fn every_size_and_count_shows_every_number_and_help_and_quit() {
    for (w, h) in SIZES {
        for n in COUNTS {
            let mut app = finished_app(n);
            let screen = render(&mut app, w, h);
            insta::assert_snapshot!(format!("finished_{n}_targets_{w}x{h}"), screen);
            footer_offers_help_and_quit(&screen, (w, h));
            every_number_whole(&screen, &app, n, (w, h));
            // The follow-up hint is whole from 80 columns up, not cut mid-word.
            assert!(
                screen.contains("Follow-up (ctrl-s or alt-enter sends; up: last prompt; ctrl-n: new chat)"),
                "{w}x{h}:\n{screen}"
            );
        }
    }
}

#[test]
fn a_header_never_cuts_a_number_mid_digit() {
    // Every width from too narrow to roomy: whatever a header shows of a number, it
    // shows whole (no `$0.0005` for $0.000598, no `111 tok/`).
    let mut app = finished_app(1);
    for w in 20..=120 {
        let screen = render(&mut app, w, 24);
        let costs = numbers(&app, 0);
        for line in screen.lines() {
            for number in costs.iter().filter(|n| n.chars().any(|c| c.is_ascii_digit())) {
                // A prefix of the number that is not the whole number, ending a line or
                // followed by the pane's border.
                for cut in 2..number.len() {
                    let part = &number[..cut];
                    if number[cut..].starts_with(' ') || part.ends_with(' ') {
                        continue;
                    }
                    for end in [format!("{part}│"), format!("{part}┃"), format!("{part}…")] {
                        assert!(!line.contains(&end), "w={w}: `{number}` cut: {line}");
                    }
                    assert!(
                        !line.ends_with(part) || line.ends_with(number.as_str()),
                        "w={w}: `{number}` cut: {line}"
                    );
                }
            }
        }
    }
}

fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))));
}

#[test]
fn paged_panes_follow_the_focus_and_the_status_bar_says_which_page() {
    let mut app = finished_app(8);
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("panes page 1/"), "{screen}");
    // Tab onto the last pane: its page comes into view.
    for _ in 0..16 {
        if app.focus() == Focus::Pane(7) {
            break;
        }
        key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    }
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.contains(" local · "),
        "the focused pane is on screen:\n{screen}"
    );
    insta::assert_snapshot!("paged_focus_on_the_last_of_8_80x24", screen);
}

#[test]
fn long_model_names_lose_their_middle_not_their_end() {
    let mut t = targets(3);
    t[1].model = "claude-sonnet-4-20250514+ttft=420,tps=70,tokens=140,seed=2".into();
    t[2].name = "a-very-long-target-name-for-the-gateway".into();
    let mut app = App::new(
        t,
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    let screen = render(&mut app, 80, 24);
    let title = screen.lines().nth(1).unwrap();
    assert!(title.contains("514 ╮"), "the model's end stays: {title}");
    assert!(title.contains("way · "), "the name's end stays: {title}");
    assert!(
        !title.contains("ttft="),
        "directives are not the model's name: {title}"
    );
    insta::assert_snapshot!("long_names_80x24", screen);
}

#[test]
fn a_new_send_returns_every_pane_to_the_newest_text() {
    let (mut app, base) = app_with(2, Keymap::default());
    send(&mut app, "Explain streaming.");
    let long = ANSWER.repeat(12);
    run_pane(&mut app, base, 0, &long);
    run_pane(&mut app, base, 1, &long);
    render(&mut app, 100, 30);
    // Scroll pane 0 up to its top: it stops following.
    for _ in 0..16 {
        if app.focus() == Focus::Pane(0) {
            break;
        }
        key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    }
    key(&mut app, KeyCode::Char('g'), KeyModifiers::NONE);
    let scrolled = render(&mut app, 100, 30);
    assert!(scrolled.contains("you: Explain streaming."), "{scrolled}");
    // The next turn: the new answer's end is in view, not the old top.
    send(&mut app, "And batching?");
    let later = base + Duration::from_millis(5000);
    run_pane(
        &mut app,
        later,
        0,
        &"Batching waits for the whole answer. ".repeat(30),
    );
    run_pane(&mut app, later, 1, "Short.");
    feed(
        &mut app,
        0,
        later,
        StreamEvent::TextDelta("THE-NEWEST-WORDS".into()),
    );
    let screen = render(&mut app, 100, 30);
    assert!(
        screen.contains("THE-NEWEST-WORDS"),
        "pane 0 follows the new answer:\n{screen}"
    );
}

#[test]
fn hints_follow_the_keymap_and_the_mode() {
    let mut keymap = Keymap::default();
    let ctrl_r: KeyChord = "ctrl-r".parse().unwrap();
    keymap.rebind(Mode::Global, Action::Send, &[ctrl_r]);
    let (mut app, _) = app_with(3, keymap);
    let screen = render(&mut app, 120, 30);
    assert!(
        !screen.contains("ctrl-s") && !screen.contains("Ctrl+S"),
        "{screen}"
    );
    assert!(screen.contains("ctrl-r sends"), "the editor's hint: {screen}");
    assert!(screen.lines().last().unwrap().contains("ctrl-r send"), "{screen}");
}

#[test]
fn notices_go_after_a_while_and_the_demo_status_shortens() {
    let (app, base) = app_with(3, Keymap::default());
    let mut app = app.with_brief_status("demo: mock server".into());
    app.act(Action::Send);
    let first = render(&mut app, 120, 30);
    assert!(first.contains("nothing to send"), "{first}");
    assert!(first.contains("demo: mock server on 127.0.0.1:8089"), "{first}");
    assert!(app.wants_tick(), "the loop ticks while a notice waits to go");
    app.update(Msg::Tick(base + Duration::from_secs(3)));
    let later = render(&mut app, 120, 30);
    assert!(later.contains("nothing to send"), "{later}");
    assert!(
        !later.contains("127.0.0.1:8089"),
        "the long status was read once: {later}"
    );
    app.update(Msg::Tick(base + Duration::from_secs(12)));
    let gone = render(&mut app, 120, 30);
    assert!(!gone.contains("nothing to send"), "{gone}");
    assert!(!app.wants_tick());
}

#[test]
fn the_session_total_stays_ahead_of_a_long_status() {
    let mut app = finished_app(3);
    app.update(Msg::Saving(Ok("20250103-091500-c0de".into())));
    for w in [80u16, 100, 160] {
        let screen = render(&mut app, w, 24);
        let status = screen.lines().next().unwrap();
        assert!(status.contains("spent $"), "{w}: {status}");
    }
}

#[test]
fn details_taller_than_the_terminal_scroll() {
    let mut app = finished_app(2);
    for _ in 0..16 {
        if app.focus() == Focus::Pane(0) {
            break;
        }
        key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    }
    app.act(Action::Details);
    let top = render(&mut app, 80, 12);
    assert!(top.contains("target"), "{top}");
    assert!(top.contains("details 1-"), "the title says which lines: {top}");
    key(&mut app, KeyCode::Char('j'), KeyModifiers::NONE);
    let down = render(&mut app, 80, 12);
    assert!(down.contains("details 2-"), "{down}");
    key(&mut app, KeyCode::Char('G'), KeyModifiers::SHIFT);
    let bottom = render(&mut app, 80, 12);
    assert!(bottom.contains("retries"), "the bottom lines: {bottom}");
    insta::assert_snapshot!("details_scrolled_to_the_bottom_80x12", bottom);
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    let closed = render(&mut app, 80, 12);
    assert!(!closed.contains("details"), "another key closes: {closed}");
}

/// While the panes play a recording back, sends are off: the footer offers no send key,
/// and still offers help and quit.
#[test]
fn a_replay_footer_offers_no_send_key() {
    use prism::provider::request::ChatRequest;
    use prism::session::replay::Speed;
    use prism::session::{Outgoing, SessionWriter, load};
    let root = tempfile::tempdir().unwrap();
    let t = targets(1);
    let w = SessionWriter::create(root.path(), &t, prism::pricing::PriceTable::default()).unwrap();
    let base = Instant::now();
    let out = Outgoing {
        target: 0,
        history: vec![],
        request: ChatRequest::single(None, "hi"),
    };
    w.send(1, 1, None, "hi", base, &[out]);
    w.event(1, 0, base, &StreamEvent::Dispatched);
    w.close();
    let session = load(w.dir()).unwrap();
    let (mut live, _) = app_with(1, Keymap::default());
    let footer = render(&mut live, 100, 30).lines().last().unwrap().to_string();
    assert!(footer.contains("ctrl-s send"), "live: {footer}");
    let mut app = App::new(
        Vec::new(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    app.begin_replay(&session, Speed::Max).unwrap();
    let screen = render(&mut app, 100, 30);
    let footer = screen.lines().last().unwrap();
    assert!(!footer.contains("send"), "replay: {footer}");
    assert!(
        footer.contains("help") && footer.contains("quit"),
        "replay: {footer}"
    );
}
