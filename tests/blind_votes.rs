//! Blind mode and votes end to end: real sends against the mock server, every frame of
//! a blind send rendered through the real view and searched for anything that names a
//! target, and the vote read back from the session file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::provider::event::StreamEvent;
use prism::session::votes::{Candidate, Choice};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::effects::executor::{Executor, NoTerminal};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::{Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

struct Bench {
    app: App,
    runner: Executor,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
}

impl Bench {
    fn new(app: App, root: &Path) -> Self {
        let runner = Executor::with_sessions(app.prices().clone(), Some(root.to_path_buf()));
        let (tx, rx) = unbounded_channel();
        Self { app, runner, tx, rx }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.runner.apply(e, &self.tx, &mut NoTerminal);
        }
    }

    fn key(&mut self, code: KeyCode, mods: KeyModifiers) {
        let effects = self.app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))));
        self.apply(effects);
    }

    async fn next(&mut self) -> Msg {
        tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("nothing arrived")
            .unwrap()
    }
}

/// Every cell of one frame of `app` at `w`×`h`, drawn by the real view, row by row.
fn render(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.frame(app).unwrap();
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

/// Words that would give a target away: its name, its provider, its model id, the
/// model's name without the mock's settings, and any price.
fn giveaways(targets: &[Target]) -> Vec<String> {
    let mut words = Vec::new();
    for t in targets {
        words.push(t.name.to_lowercase());
        words.push(t.provider.to_string().to_lowercase());
        words.push(t.model.to_lowercase());
        words.push(t.model.split('+').next().unwrap().to_lowercase());
    }
    // A price (a pane's cost, the spend's step) would price the model.
    words.push("$0.".into());
    words
}

/// Fail if any frame at either size shows one of `words`.
fn assert_hidden(app: &mut App, words: &[String], when: &str) {
    for (w, h) in [(120, 40), (80, 24)] {
        let screen = render(app, w, h).join("\n").to_lowercase();
        for word in words {
            assert!(
                !screen.contains(word.as_str()),
                "{when}: `{word}` is on the {w}x{h} screen:\n{screen}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_send_names_nobody_until_the_vote_which_the_session_records() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let target = |name: &str, provider, model: &str| common::mock_target(&server, name, provider, model, 64);
    let targets = vec![
        target(
            "tgt-mini",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=1,itl=1,tokens=12,seed=3",
        ),
        target(
            "tgt-sonnet",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=1,itl=1,tokens=12,seed=7",
        ),
        // Its error names its model ("models/gemini-2.5-flash is not found"): masked.
        target("tgt-broken", ProviderKind::Gemini, "gemini-2.5-flash+fault=404"),
    ];
    let words = giveaways(&targets);
    let app = App::new(
        targets.clone(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "3 targets: tgt-mini, tgt-sonnet, tgt-broken".into(),
    )
    .with_blind_seed(11);
    let mut bench = Bench::new(app, root.path());
    bench.key(KeyCode::Char('b'), KeyModifiers::CONTROL);
    assert!(bench.app.names_hidden());
    assert_hidden(&mut bench.app, &words, "blind mode on, before any send");

    bench
        .app
        .update(Msg::EditorClosed(Ok("Which sorting algorithm is stable?".into())));
    let effects = bench.app.act(Action::Send);
    bench.apply(effects);
    let order = bench.app.screen_order();
    let mut frames = 0;
    while bench.app.animating() || bench.app.session_id().is_none() {
        let msg = bench.next().await;
        let effects = bench.app.update(msg);
        bench.apply(effects);
        assert_hidden(&mut bench.app, &words, "during the send");
        frames += 1;
    }
    assert!(frames > 3, "the send streamed: {frames} messages");
    assert!(bench.app.vote_open());

    // The labels are on screen, in order: A is drawn first.
    let screen = render(&mut bench.app, 120, 40);
    for label in ["A", "B", "C"] {
        assert!(
            screen[1].contains(&format!(" {label} ")),
            "label {label} in the titles: {}",
            screen[1]
        );
    }
    let x = |k: usize| bench.app.pane_area(order[k]).unwrap().x;
    assert!(x(0) < x(1) && x(1) < x(2), "panes drawn in label order");

    // What else could name a target: a copy's notice, the history notice, the details.
    bench.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(bench.app.focus(), Focus::Pane(order[0]), "tab follows the labels");
    for c in ['y', 'h', 'd'] {
        bench.key(KeyCode::Char(c), KeyModifiers::NONE);
        assert_hidden(&mut bench.app, &words, &format!("after `{c}`"));
    }
    assert_eq!(
        bench.app.overlay(),
        &prism::tui::model::workspace::Overlay::None,
        "details stay closed while names are hidden"
    );

    // Vote B best from the panes.
    bench.key(KeyCode::Char('2'), KeyModifiers::NONE);
    assert!(!bench.app.names_hidden());
    assert!(!bench.app.vote_open());
    let winner = &targets[order[1]];
    let notice = bench.app.notice().unwrap().to_string();
    assert!(
        notice.starts_with(&format!("voted B: {}", winner.name)),
        "{notice}"
    );
    let screen = render(&mut bench.app, 120, 40).join("\n");
    for t in &targets {
        assert!(screen.contains(&t.name), "{} revealed:\n{screen}", t.name);
    }
    assert!(screen.contains(&format!("B · {} (", winner.name)), "{screen}");

    let id = bench.app.session_id().map(str::to_string).unwrap();
    bench.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    assert_eq!(session.votes.len(), 1);
    let vote = &session.votes[0];
    let run = session.last_run;
    let expected: Vec<Candidate> = order
        .iter()
        .map(|&target| Candidate {
            target,
            run,
            variant: None,
        })
        .collect();
    assert_eq!(vote.candidates, expected);
    assert_eq!(vote.choice, Choice::Best(1));
    assert!(vote.blind);
    assert!(vote.self_identified.is_empty());
    assert!(vote.wall.ends_with('Z') && vote.wall.len() >= 20, "{}", vote.wall);
}

fn scripted_app() -> App {
    let t = |name: &str, provider, model: &str| Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:1".into(),
        key: KeySource::Demo,
        params: Params {
            stream: true,
            ..Params::default()
        },
    };
    App::new(
        vec![
            t("haiku", ProviderKind::Anthropic, "claude-haiku-4-5"),
            t("mini", ProviderKind::OpenAi, "gpt-4o-mini"),
            t("local", ProviderKind::OpenAiCompatible, "llama3.2"),
        ],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    )
}

/// Send a prompt and answer pane `i` with `answers[i]`; returns the vote effect of
/// `key` (with Alt, from the editor) and the order the panes were shown in.
fn send_and_vote(app: &mut App, answers: &[&str], key: char) -> (Option<Effect>, Vec<usize>) {
    app.update(Msg::EditorClosed(Ok("Who are you?".into())));
    let effects = app.act(Action::Send);
    let order = app.screen_order();
    let Some(Effect::StartRun { run, .. }) = effects.into_iter().last() else {
        panic!("no run started")
    };
    for (i, text) in answers.iter().enumerate() {
        for event in [
            StreamEvent::Dispatched,
            StreamEvent::TextDelta((*text).into()),
            StreamEvent::Done,
        ] {
            app.update(Msg::stream(run, i, Instant::now(), event));
        }
    }
    assert!(app.vote_open());
    let vote = app
        .update(Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Char(key),
            KeyModifiers::ALT,
        ))))
        .into_iter()
        .find(|e| matches!(e, Effect::Vote(_)));
    (vote, order)
}

#[test]
fn answers_that_name_their_maker_are_flagged_in_the_vote() {
    let mut app = scripted_app().with_blind_seed(5).with_blind(true);
    let answers = [
        "As Claude, made by Anthropic, I answer questions.",
        "I am a helpful assistant.",
        "I'm Llama, a model by Meta AI.",
    ];
    let (Some(Effect::Vote(vote)), order) = send_and_vote(&mut app, &answers, '=') else {
        panic!("no vote")
    };
    assert_eq!(vote.choice, Choice::Tie);
    assert!(vote.blind);
    let shown: Vec<usize> = vote.candidates.iter().map(|c| c.target).collect();
    assert_eq!(shown, order, "candidates in the order shown");
    let mut flagged: Vec<usize> = vote.self_identified.iter().map(|&k| shown[k]).collect();
    flagged.sort_unstable();
    assert_eq!(flagged, [0, 2], "the Claude and the Llama answers");
}

#[test]
fn outside_blind_mode_votes_are_by_position_and_not_blind() {
    let mut app = scripted_app();
    assert_eq!(app.screen_order(), [0, 1, 2]);
    let (Some(Effect::Vote(vote)), _) = send_and_vote(&mut app, &["x", "y", "z"], '3') else {
        panic!("no vote")
    };
    assert!(!vote.blind);
    assert_eq!(vote.choice, Choice::Best(2));
    assert_eq!(
        vote.candidates.iter().map(|c| c.target).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    // One vote per send: the keys type again afterwards.
    assert!(!app.vote_open());
}

#[test]
fn no_vote_while_a_pane_still_streams_and_digits_stay_text_in_the_editor() {
    let mut app = scripted_app().with_blind(true);
    app.update(Msg::EditorClosed(Ok("q".into())));
    let effects = app.act(Action::Send);
    let Some(Effect::StartRun { run, .. }) = effects.into_iter().last() else {
        panic!("no run started")
    };
    for i in 0..2 {
        app.update(Msg::stream(run, i, Instant::now(), StreamEvent::Done));
    }
    assert!(!app.vote_open(), "pane 2 still runs");
    app.update(Msg::stream(run, 2, Instant::now(), StreamEvent::Done));
    assert!(app.vote_open());
    // A plain digit in the editor is typed, not a vote.
    let effects = app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('1'),
        KeyModifiers::NONE,
    ))));
    assert!(effects.is_empty());
    assert!(app.vote_open());
    assert_eq!(app.prompt().lines().join(""), "1");
}

#[test]
fn leaving_blind_mode_before_the_vote_makes_it_not_blind_and_a_new_conversation_drops_it() {
    let mut app = scripted_app().with_blind(true);
    app.update(Msg::EditorClosed(Ok("q".into())));
    let effects = app.act(Action::Send);
    let Some(Effect::StartRun { run, .. }) = effects.into_iter().last() else {
        panic!("no run started")
    };
    for i in 0..3 {
        app.update(Msg::stream(run, i, Instant::now(), StreamEvent::Done));
    }
    app.act(Action::Blind);
    assert!(!app.names_hidden());
    assert_eq!(app.screen_order(), [0, 1, 2], "config order again");
    let vote = |app: &mut App| {
        app.update(Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Char('0'),
            KeyModifiers::ALT,
        ))))
    };
    let Some(Effect::Vote(v)) = vote(&mut app).into_iter().next() else {
        panic!("no vote")
    };
    assert!(!v.blind, "the names were on screen when it was cast");
    assert_eq!(v.choice, Choice::AllBad);

    let mut app = scripted_app().with_blind(true);
    app.update(Msg::EditorClosed(Ok("q".into())));
    let effects = app.act(Action::Send);
    let Some(Effect::StartRun { run, .. }) = effects.into_iter().last() else {
        panic!("no run started")
    };
    for i in 0..3 {
        app.update(Msg::stream(run, i, Instant::now(), StreamEvent::Done));
    }
    app.act(Action::NewConversation);
    assert!(!app.vote_open());
    assert!(vote(&mut app).iter().all(|e| !matches!(e, Effect::Vote(_))));
    assert!(app.names_hidden(), "blind mode stays on for the next send");
}
