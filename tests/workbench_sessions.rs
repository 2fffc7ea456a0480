//! The workbench's sessions end to end: real runs against the mock server saved by the
//! runner into a temporary directory, loaded back, opened in a fresh workbench and
//! continued.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::executor::{Executor, NoTerminal};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::{Effect, Msg};
use prism::tui::model::pane::PaneStatus;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

fn target(server: &MockServer, name: &str, provider: ProviderKind, model: &str) -> Target {
    common::mock_target(server, name, provider, model, 64)
}

struct Bench {
    app: App,
    runner: Executor,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
}

impl Bench {
    fn new(targets: Vec<Target>, root: &Path) -> Self {
        Self::of(
            App::new(
                targets,
                Keymap::default(),
                prism::tui::theme::load("dark").unwrap(),
                String::new(),
            ),
            root,
        )
    }

    fn of(app: App, root: &Path) -> Self {
        let runner = Executor::with_sessions(app.prices().clone(), Some(root.to_path_buf()));
        let (tx, rx) = unbounded_channel();
        Self { app, runner, tx, rx }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.runner.apply(e, &self.tx, &mut NoTerminal);
        }
    }

    fn update(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.apply(effects);
    }

    async fn next(&mut self) -> Msg {
        tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("nothing arrived")
            .unwrap()
    }

    /// Send `prompt` and feed the workbench until every pane has settled.
    async fn turn(&mut self, prompt: &str) {
        self.app.update(Msg::EditorClosed(Ok(prompt.to_string())));
        let effects = self.app.act(Action::Send);
        self.apply(effects);
        while self.app.animating() || self.app.session_id().is_none() {
            let msg = self.next().await;
            self.update(msg);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_is_saved_as_it_happens_and_opens_again() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let targets = vec![
        target(
            &server,
            "gpt",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=1,itl=0,tokens=6,text=echo",
        ),
        target(
            &server,
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=1,itl=0,tokens=6,seed=7",
        ),
        target(
            &server,
            "broken",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+fault=401",
        ),
    ];
    let mut bench = Bench::new(targets.clone(), root.path());
    bench.turn("first question").await;
    let answers1: Vec<String> = (0..3)
        .map(|i| bench.app.pane(i).answer.text().to_string())
        .collect();
    assert!(!answers1[0].is_empty() && !answers1[1].is_empty());
    assert_eq!(bench.app.pane(2).status, PaneStatus::Error);
    bench.turn("second question").await;
    let answers2: Vec<String> = (0..2)
        .map(|i| bench.app.pane(i).answer.text().to_string())
        .collect();
    let id = bench.app.session_id().map(str::to_string).unwrap();
    bench.runner.finish().await;

    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    assert_eq!(session.turns.len(), 2);
    assert_eq!(session.meta.turns, 2);
    assert_eq!(session.meta.first_prompt, "first question");
    let [t1, t2] = &session.turns[..] else { panic!() };
    assert_eq!(
        (t1.prompt.as_str(), t2.prompt.as_str()),
        ("first question", "second question")
    );
    for (i, text) in answers1.iter().enumerate().take(2) {
        assert_eq!(&t1.answers[&i].text(), text, "turn 1 of target {i}");
        assert!(t1.answers[&i].completed());
    }
    for (i, text) in answers2.iter().enumerate() {
        assert_eq!(&t2.answers[&i].text(), text, "turn 2 of target {i}");
    }
    assert!(
        !t1.answers[&2].completed() && !t1.answers[&2].interrupted,
        "the failure is recorded"
    );
    assert_eq!(t2.answers[&0].history, [1]);
    assert_eq!(t2.answers[&1].history, [1]);
    assert_eq!(
        t2.answers[&2].history,
        Vec::<u32>::new(),
        "its failed turn is left out"
    );
    let request = session.request_for(t2, 0);
    let contents: Vec<&str> = request.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        ["first question", answers1[0].as_str(), "second question"]
    );
    assert!(
        !contents.contains(&answers1[1].as_str()),
        "never another target's answer"
    );
    assert!(t2.answers[&0].row.is_some(), "final numbers recorded");

    // A fresh workbench opens it: last answers in the panes, the conversation continues.
    let mut other = Bench::new(targets, root.path());
    other.update(Msg::SessionLoaded(Ok(Box::new(session.clone()))));
    assert_eq!(other.app.conversation().turn, 2);
    assert_eq!(other.app.pane(0).answer.text(), answers2[0]);
    assert_eq!(other.app.pane(1).status, PaneStatus::Done);
    assert_eq!(
        other.app.pane(0).metrics.ttft(),
        t2.answers[&0].fold(std::time::Instant::now()).ttft(),
        "the recorded numbers"
    );
    other.turn("third question").await;
    assert_eq!(other.app.session_id(), Some(id.as_str()));
    other.runner.finish().await;
    let again = prism::session::load(&dir).unwrap();
    assert_eq!(again.turns.len(), 3);
    let t3 = &again.turns[2];
    assert_eq!(t3.answers[&0].history, [1, 2]);
    let contents: Vec<String> = again
        .request_for(t3, 1)
        .messages
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(
        contents,
        [
            "first question",
            &answers1[1],
            "second question",
            &answers2[1],
            "third question"
        ]
    );
    assert_eq!(
        prism::session::store::list(root.path()).unwrap().len(),
        1,
        "one session, continued"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_targets_and_interrupted_streams_are_saved_and_shown_as_they_ended() {
    use prism::provider::event::{ErrorKind, ProviderError, StreamEvent};
    use prism::tui::model::msg::Job;
    let root = tempfile::tempdir().unwrap();
    let saved_demo = |name: &str, kind, url: &str| Target {
        name: name.into(),
        provider: kind,
        model: "gpt-4o-mini-2024-07-18+ttft=1,itl=0,tokens=4".into(),
        base_url: url.into(),
        key: KeySource::Demo,
        params: Params {
            stream: true,
            ..Params::default()
        },
    };
    // Saved by a demo that ran on another port.
    let old = vec![
        saved_demo("one", ProviderKind::OpenAi, "http://127.0.0.1:9/v1"),
        saved_demo("two", ProviderKind::OpenAi, "http://127.0.0.1:9/v1"),
    ];
    let mut bench = Bench::new(old.clone(), root.path());
    bench.apply(vec![Effect::NewSession { targets: old.clone() }]);
    let Msg::Saving(Ok(id)) = bench.next().await else {
        panic!()
    };
    let request = prism::provider::request::ChatRequest::single(None, "hello");
    let too_long = ProviderError::new(ErrorKind::ContextLength, "too long for this model");
    // Target 1 is refused before sending; target 0 is sent to a port nobody listens on and
    // its stream is then cut off by "quitting" before the end is recorded.
    bench.apply(vec![Effect::StartRun {
        run: prism::engine::RunId(1),
        turn: 1,
        system: None,
        prompt: "hello".into(),
        jobs: vec![Job {
            pane: 1,
            target: old[1].clone(),
            request: request.clone(),
            history: vec![],
            blocked: Some(too_long.clone()),
        }],
    }]);
    bench.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    // A stream the process never finished: a send whose target has no terminal event.
    let writer = prism::session::SessionWriter::append(
        &dir,
        prism::session::store::summary(&dir).unwrap(),
        old.clone(),
        prism::pricing::PriceTable::default(),
    )
    .unwrap();
    let base = std::time::Instant::now();
    writer.send(
        2,
        1,
        None,
        "hello",
        base,
        &[prism::session::Outgoing {
            target: 0,
            history: vec![],
            request,
        }],
    );
    writer.event(2, 0, base, &StreamEvent::Dispatched);
    writer.event(
        2,
        0,
        base + Duration::from_millis(50),
        &StreamEvent::TextDelta("half".into()),
    );
    writer.close();

    let session = prism::session::load(&dir).unwrap();
    let turn = &session.turns[0];
    let blocked = &turn.answers[&1];
    assert!(
        !blocked.interrupted,
        "the refusal is recorded as the stream's end"
    );
    assert!(matches!(
        blocked.events[..],
        [(
            _,
            prism::session::schema::EventBody::Failed {
                kind: ErrorKind::ContextLength,
                ..
            }
        )]
    ));
    assert!(turn.answers[&0].interrupted);

    // Opened in a demo running somewhere else: same targets, sent to the new mock.
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let mut now = Bench::of(
        App::new(
            vec![target(&server, "other", ProviderKind::Gemini, "gemini-2.5-flash")],
            Keymap::default(),
            prism::tui::theme::load("dark").unwrap(),
            String::new(),
        )
        .with_demo_urls(vec![(ProviderKind::OpenAi, server.openai_base())]),
        root.path(),
    );
    now.update(Msg::SessionLoaded(Ok(Box::new(session))));
    assert_eq!(
        now.app
            .targets()
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["one", "two"],
        "the session's targets replace the panes"
    );
    assert!(
        now.app
            .targets()
            .iter()
            .all(|t| t.base_url == server.openai_base())
    );
    assert_eq!(now.app.pane(0).answer.text(), "half");
    assert_eq!(now.app.pane(0).status, PaneStatus::Error);
    let Some(prism::engine::metrics::Outcome::Failed(e)) = &now.app.pane(0).metrics.outcome else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::Interrupted);
    let Some(prism::engine::metrics::Outcome::Failed(e)) = &now.app.pane(1).metrics.outcome else {
        panic!()
    };
    assert_eq!(e, &too_long);
    assert!(
        now.app.conversation().history.iter().all(Vec::is_empty),
        "neither answer finished, so neither is history"
    );
    now.turn("again").await;
    assert!(
        now.app.panes().iter().all(|p| p.status == PaneStatus::Done),
        "sent to the running mock"
    );
    now.runner.finish().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_renames_and_deletes_on_disk_but_never_the_session_being_written() {
    let root = tempfile::tempdir().unwrap();
    let t = Target {
        name: "one".into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::Env(vec!["PRISM_TEST_NO_SUCH_KEY".into()]),
        params: Params::default(),
    };
    let mut bench = Bench::new(vec![t.clone()], root.path());
    bench.apply(vec![Effect::NewSession { targets: vec![t] }]);
    let Msg::Saving(Ok(id)) = bench.next().await else {
        panic!()
    };
    let dir = root.path().join(&id);
    bench.apply(vec![Effect::RenameSession {
        dir: dir.clone(),
        name: "  keep me ".into(),
    }]);
    let Msg::Notice(n) = bench.next().await else {
        panic!()
    };
    assert_eq!(n, "renamed to “keep me”");
    let Msg::SessionList(Ok(listed)) = bench.next().await else {
        panic!()
    };
    assert_eq!(listed[0].meta.as_ref().unwrap().name.as_deref(), Some("keep me"));

    bench.apply(vec![Effect::DeleteSession(dir.clone())]);
    let Msg::Notice(n) = bench.next().await else {
        panic!()
    };
    assert!(n.contains("being saved now"), "{n}");
    assert!(dir.exists());
    let _ = bench.next().await;

    bench.apply(vec![Effect::CloseSession, Effect::DeleteSession(dir.clone())]);
    let Msg::Notice(n) = bench.next().await else {
        panic!()
    };
    assert_eq!(n, format!("deleted {id}"));
    let Msg::SessionList(Ok(listed)) = bench.next().await else {
        panic!()
    };
    assert!(listed.is_empty());
    assert!(!dir.exists());
    assert!(
        !std::fs::read_dir(root.path()).unwrap().any(|_| true),
        "nothing left behind"
    );
}
