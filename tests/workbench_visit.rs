//! Replay and re-run opened from the sessions browser, through the real event loop: the
//! recording borrows the panes, `ctrl-n` gives them back to the workbench's targets, and
//! a re-run's new session is saved when it ends.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::{self, Screen};
use prism::tui::effects::executor::Executor;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::Msg;
use prism::tui::model::pane::PaneStatus;
use tokio::sync::mpsc::unbounded_channel;

/// What the test can see of the app while the loop owns it: one line per frame.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn last(&self) -> String {
        self.0.lock().unwrap().last().cloned().unwrap_or_default()
    }
}

impl Screen for Seen {
    fn frame(&mut self, app: &mut App) -> io::Result<()> {
        let panes: Vec<String> = app
            .targets
            .iter()
            .zip(&app.panes)
            .map(|(t, p)| format!("{}={}:{}", t.name, p.status.label(), p.answer.text().len()))
            .collect();
        let line = format!(
            "replay={} compare={} home={} spent={} panes=[{}] notice={}",
            app.replay.is_some(),
            app.compare.is_some(),
            app.home.is_some(),
            app.spent.0,
            panes.join(","),
            app.notice.clone().unwrap_or_default()
        );
        self.0.lock().unwrap().push(line);
        Ok(())
    }
}

fn key(code: KeyCode, mods: KeyModifiers) -> Msg {
    Msg::Term(Event::Key(KeyEvent::new(code, mods)))
}

fn ctrl(c: char) -> Msg {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

async fn wait_until(seen: &Seen, what: &str, ok: impl Fn(&str) -> bool) {
    for _ in 0..600 {
        if ok(&seen.last()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}; last frame: {}", seen.last());
}

fn own_target() -> Target {
    Target {
        name: "mine".into(),
        provider: ProviderKind::OpenAiCompatible,
        model: "local-model".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::None,
        params: Params {
            stream: true,
            ..Params::default()
        },
    }
}

fn copy_example(root: &Path) {
    let to = root.join("example-mock");
    std::fs::create_dir_all(&to).unwrap();
    for f in ["events.jsonl", "meta.json"] {
        std::fs::copy(Path::new("sessions/example-mock").join(f), to.join(f)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_replays_and_reruns_in_the_panes_and_ctrl_n_comes_back() {
    let root = tempfile::tempdir().unwrap();
    copy_example(root.path());
    let mut app = App::new(
        vec![own_target()],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "config: test".into(),
    );
    let mut runner = Executor::with_sessions(app.prices.clone(), Some(root.path().to_path_buf()));
    let (tx, mut rx) = unbounded_channel();
    let mut seen = Seen::default();
    let watch = seen.clone();
    let input = tx.clone();
    let driver = async move {
        // Replay from the browser: the example's three targets take the panes and play.
        input.send(ctrl('o')).unwrap();
        wait_until(&watch, "the browser to list", |_| true).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        input.send(ctrl('p')).unwrap();
        wait_until(&watch, "the replay to finish its first turn", |l| {
            l.contains("replay=true") && l.contains("home=true") && l.matches("=done:").count() == 3
        })
        .await;
        assert!(watch.last().contains("spent=0 "), "a replay spends nothing");
        // Back home: the workbench's own target, nothing playing.
        input.send(ctrl('n')).unwrap();
        wait_until(&watch, "the workbench's own target", |l| {
            l.contains("replay=false") && l.contains("home=false") && l.contains("panes=[mine=idle:0]")
        })
        .await;
        // Re-run from the browser: recorded and live panes side by side, live ones finish
        // against a freshly started demo server.
        input.send(ctrl('o')).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        input.send(ctrl('e')).unwrap();
        wait_until(&watch, "the re-run to finish", |l| {
            l.contains("compare=true") && l.matches("=done:").count() == 6
        })
        .await;
        // The re-run's new answers are real requests: they count toward the budget.
        assert!(!watch.last().contains("spent=0 "), "{}", watch.last());
        input.send(ctrl('n')).unwrap();
        wait_until(&watch, "the re-run to be saved", |l| {
            l.contains("re-run saved as session")
        })
        .await;
        input.send(ctrl('q')).unwrap();
    };
    let (looped, ()) = tokio::join!(
        event_loop::run(&mut seen, &mut app, &mut runner, &tx, &mut rx),
        driver
    );
    looped.unwrap();
    assert!(app.home.is_none() && app.replay.is_none() && app.compare.is_none());
    assert_eq!(app.targets.len(), 1);
    assert!(app.panes.iter().all(|p| p.status == PaneStatus::Idle));
    runner.finish().await;
    // The example and the re-run's own session.
    let listed = prism::session::store::list(root.path()).unwrap();
    assert_eq!(listed.len(), 2);
    let rerun = listed.iter().find(|l| l.id() != "example-mock").unwrap();
    let saved = prism::session::load(&rerun.dir).unwrap();
    assert!(
        saved
            .turns
            .last()
            .unwrap()
            .answers
            .values()
            .all(|r| r.completed())
    );
}
