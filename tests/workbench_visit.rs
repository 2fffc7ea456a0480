//! Replay and re-run opened from the sessions browser, through the real event loop: the
//! recording borrows the panes, `ctrl-n` gives them back to the workbench's targets, and
//! a re-run's new session is saved when it ends. Loading one never stalls the loop.

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
use prism::tui::model::workspace::Overlay;
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
            .targets()
            .iter()
            .zip(app.panes())
            .map(|(t, p)| format!("{}={}:{}", t.name, p.status.label(), p.answer.text().len()))
            .collect();
        let line = format!(
            "replay={} compare={} home={} spent={} panes=[{}] notice={}",
            app.replay().is_some(),
            app.compare().is_some(),
            app.is_borrowed(),
            app.spent().0,
            panes.join(","),
            app.notice().map(str::to_string).unwrap_or_default()
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
    let mut runner = Executor::with_sessions(app.prices().clone(), Some(root.path().to_path_buf()));
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
    assert!(!app.is_borrowed() && app.replay().is_none() && app.compare().is_none());
    assert_eq!(app.targets().len(), 1);
    assert!(app.panes().iter().all(|p| p.status == PaneStatus::Idle));
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

/// One line per frame, sent to the test as it is drawn.
struct Frames(tokio::sync::mpsc::UnboundedSender<String>);

impl Screen for Frames {
    fn frame(&mut self, app: &mut App) -> io::Result<()> {
        let browser = match app.overlay() {
            Overlay::Browser(b) => format!(
                "{} filter={:?}",
                b.entries.as_ref().map_or(-1, |e| e.len() as i64),
                b.filter
            ),
            _ => "closed".into(),
        };
        let line = format!("browser={browser} replay={}", app.replay().is_some());
        self.0.send(line).ok();
        Ok(())
    }
}

/// Unblocks a reader still waiting on a named pipe, whatever happened in the test, so the
/// runtime can shut down. When nobody reads any more the opener waits on its own thread,
/// which the test process does not wait for.
struct Unblock(std::path::PathBuf);

impl Drop for Unblock {
    fn drop(&mut self) {
        let path = self.0.clone();
        std::thread::spawn(move || {
            let _ = std::fs::OpenOptions::new().write(true).open(path);
        });
    }
}

/// Waits for the first frame whose line satisfies `ok`; the timeout is a hang guard.
async fn frame_where(
    frames: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), frames.recv())
            .await
            .unwrap_or_else(|_| panic!("no frame showed {what}: the loop stopped drawing"))
            .expect("the loop ended");
        if ok(&line) {
            return line;
        }
    }
}

/// While a session chosen in the browser is still being read (its log is a named pipe
/// nobody has written yet, a disk that does not answer), the loop keeps taking keys and
/// drawing them; once the log arrives the replay takes the panes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_keeps_drawing_while_a_session_is_still_being_read() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("example-mock");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("sessions/example-mock/meta.json", dir.join("meta.json")).unwrap();
    let log = dir.join("events.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&log).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let _unblock = Unblock(log.clone());
    let mut app = App::new(
        vec![own_target()],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "config: test".into(),
    );
    // Nothing is saved, so the browser's listing is the one handed in below.
    let mut executor = Executor::new(app.prices().clone());
    let (tx, mut rx) = unbounded_channel();
    let (frames_tx, mut frames) = unbounded_channel();
    let input = tx.clone();
    // The loop runs on a task of its own: were it to block its thread, the hang guards
    // here would still fire.
    let looped = tokio::spawn(async move {
        let mut screen = Frames(frames_tx);
        event_loop::run(&mut screen, &mut app, &mut executor, &tx, &mut rx).await
    });
    input.send(ctrl('o')).unwrap();
    frame_where(&mut frames, "the browser", |l| l.starts_with("browser=0 ")).await;
    let listed = prism::session::store::Listed {
        meta: prism::session::store::summary(&dir),
        dir: dir.clone(),
    };
    input.send(Msg::SessionList(Ok(vec![listed]))).unwrap();
    frame_where(&mut frames, "the listed session", |l| l.starts_with("browser=1 ")).await;
    // Replay it: reading its log waits for the pipe's writer.
    input.send(ctrl('p')).unwrap();
    input.send(key(KeyCode::Char('x'), KeyModifiers::NONE)).unwrap();
    let line = frame_where(&mut frames, "the key typed after ctrl-p", |l| {
        l.contains("filter=\"x\"")
    })
    .await;
    assert!(
        line.ends_with("replay=false"),
        "the log is not written yet: {line}"
    );
    // The disk answers: the replay takes the panes.
    let text = std::fs::read("sessions/example-mock/events.jsonl").unwrap();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .write_all(&text)
            .unwrap();
    })
    .await
    .unwrap();
    frame_where(&mut frames, "the replay", |l| l == "browser=closed replay=true").await;
    input.send(ctrl('q')).unwrap();
    looped.await.unwrap().unwrap();
}
