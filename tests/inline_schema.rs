//! The inline JSON Schema as a user drives it: alt-j opens an editor over the panes,
//! esc checks what was typed; a valid schema rides on the next sends and names itself in
//! the status bar, an invalid one stops them with a one-line notice. No network.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::keys::Action;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::{Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> App {
    let target = Target {
        name: "gpt".into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:1".into(),
        key: KeySource::Demo,
        params: Params {
            stream: true,
            ..Params::default()
        },
    };
    let mut app = App::new(
        vec![target],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        "demo".into(),
    );
    app.update(Msg::Tick(Instant::now()));
    app
}

/// alt-j, `text` pasted into the editor, esc.
fn type_schema(app: &mut App, text: &str) {
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('j'),
        KeyModifiers::ALT,
    ))));
    app.update(Msg::Term(Event::Paste(text.into())));
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Esc,
        KeyModifiers::NONE,
    ))));
}

fn send(app: &mut App) -> Vec<Effect> {
    app.update(Msg::EditorClosed(Ok("Where is the Eiffel tower?".into())));
    app.act(Action::Send)
}

fn status_bar(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(120, 20)).unwrap();
    term.frame(app).unwrap();
    let buf = term.backend().buffer();
    (0..buf.area.width)
        .map(|x| buf[(x, 0)].symbol().to_string())
        .collect()
}

#[test]
fn a_valid_inline_schema_rides_on_the_next_send_and_shows_its_name() {
    let mut app = app();
    type_schema(
        &mut app,
        r#"{"title": "place", "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}"#,
    );
    assert!(
        status_bar(&mut app).contains("schema: place"),
        "{}",
        status_bar(&mut app)
    );
    let effects = send(&mut app);
    let jobs = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartRun { jobs, .. } => Some(jobs),
            _ => None,
        })
        .expect("sent");
    let schema = jobs[0]
        .request
        .schema
        .as_ref()
        .expect("the send carries the schema");
    assert_eq!(schema.name, "place");
    assert_eq!(schema.schema["required"][0], "city");
}

#[test]
fn an_invalid_inline_schema_sends_nothing_and_says_why_in_one_line() {
    let mut app = app();
    type_schema(&mut app, r#"{"type": "objekt"}"#);
    assert!(
        status_bar(&mut app).contains("schema: invalid"),
        "{}",
        status_bar(&mut app)
    );
    let effects = send(&mut app);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::StartRun { .. })),
        "{effects:?}"
    );
    let notice = app.notice().unwrap().to_string();
    assert!(notice.contains("not sent") && !notice.contains('\n'), "{notice}");
}
