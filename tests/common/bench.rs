//! A workbench driven like a terminal would drive it, its effects carried out by the real
//! executor against the mock server: keys in, every message fed back, frames drawn by the
//! real view.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::target::Target;
use prism::tui::effects::event_loop::Screen;
use prism::tui::effects::executor::{Executor, NoTerminal};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::{Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The workbench and the executor that carries out its effects.
pub struct Bench {
    pub app: App,
    pub runner: Executor,
    pub tx: UnboundedSender<Msg>,
    pub rx: UnboundedReceiver<Msg>,
}

impl Bench {
    pub fn new(app: App, root: &Path) -> Self {
        let runner = Executor::with_sessions(app.prices().clone(), Some(root.to_path_buf()));
        let (tx, rx) = unbounded_channel();
        Self { app, runner, tx, rx }
    }

    pub fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.runner.apply(e, &self.tx, &mut NoTerminal);
        }
    }

    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) {
        let effects = self.app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))));
        self.apply(effects);
    }

    pub fn char(&mut self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::NONE);
    }

    pub fn act(&mut self, action: Action) {
        let effects = self.app.act(action);
        self.apply(effects);
    }

    pub async fn next(&mut self) {
        let msg = tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
            .await
            .expect("nothing arrived")
            .unwrap();
        let effects = self.app.update(msg);
        self.apply(effects);
    }

    pub fn in_flight(&self) -> bool {
        self.app.grid().is_some_and(|g| g.in_flight()) || self.app.session_id().is_none()
    }
}

/// Every cell of one frame of `app` at `w`×`h`, drawn by the real view, row by row.
pub fn render(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.frame(app).unwrap();
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

pub fn alt(b: &mut Bench, c: char) {
    b.key(KeyCode::Char(c), KeyModifiers::ALT);
}

/// Type `name` over the name prompt's text and keep it.
pub fn name_it(b: &mut Bench, name: &str) {
    for _ in 0..24 {
        b.key(KeyCode::Backspace, KeyModifiers::NONE);
    }
    for c in name.chars() {
        b.char(c);
    }
    b.key(KeyCode::Enter, KeyModifiers::NONE);
}

/// Two variants, `concise` and `detailed`, each with its own prompt.
pub fn two_variants(b: &mut Bench, first: &str, second: &str) {
    b.app.update(Msg::EditorClosed(Ok(first.into())));
    alt(b, 'm');
    name_it(b, "concise");
    alt(b, 'v');
    name_it(b, "detailed");
    b.app.update(Msg::EditorClosed(Ok(second.into())));
}

pub fn type_cases(b: &mut Bench, csv: &str) {
    alt(b, 'c');
    b.app.update(Msg::Term(Event::Paste(csv.into())));
    b.key(KeyCode::Esc, KeyModifiers::NONE);
}

pub async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

pub fn app(targets: Vec<Target>) -> App {
    App::new(
        targets,
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    )
}

/// Fail if a frame at 200×60 or 80×24 shows one of `words` anywhere.
pub fn assert_hidden(app: &mut App, words: &[String], when: &str) {
    for (w, h) in [(200, 60), (80, 24)] {
        let screen = render(app, w, h).join("\n").to_lowercase();
        for word in words {
            assert!(
                !screen.contains(word.as_str()),
                "{when}: `{word}` is on the {w}x{h} screen:\n{screen}"
            );
        }
    }
}
