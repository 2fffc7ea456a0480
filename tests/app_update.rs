//! The workbench's behaviour as pure data: messages in, state and effects out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use prism::engine::{Envelope, RunId};
use prism::keys::Action;
use prism::provider::event::StreamEvent;
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::{Effect, Msg};
use prism::tui::model::pane::PaneStatus;
use prism::tui::model::workspace::Overlay;

fn app() -> App {
    let t = |name: &str| Target {
        name: name.into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        key: KeySource::Demo,
        params: Params {
            stream: true,
            ..Params::default()
        },
    };
    App::new(
        vec![t("a"), t("b"), t("c")],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    )
}

fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, mods))))
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

/// The sessions browser, which must be open.
fn browser(app: &App) -> &prism::tui::model::browser::Browser {
    let Overlay::Browser(b) = app.overlay() else {
        panic!("the browser is not open: {:?}", app.overlay())
    };
    b
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn stream(app: &mut App, pane: usize, run: RunId, event: StreamEvent) {
    let env = Envelope {
        run,
        target: pane,
        at: Instant::now(),
        event,
    };
    app.update(Msg::Stream { pane, env });
}

#[test]
fn typing_then_ctrl_s_sends_to_enabled_targets_only() {
    let mut app = app();
    assert!(
        key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL).is_empty(),
        "empty prompt: nothing sent"
    );
    assert!(app.notice().unwrap().contains("empty"));
    type_text(&mut app, "hello");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    type_text(&mut app, "world");
    assert_eq!(app.prompt().lines(), ["hello", "world"], "Enter is a newline");
    focus(&mut app, Focus::Pane(1));
    key(&mut app, KeyCode::Char(' '), KeyModifiers::NONE);
    let effects = key(&mut app, KeyCode::Enter, KeyModifiers::ALT);
    let [Effect::NewSession { targets }, Effect::StartRun { run, jobs, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(targets.len(), 3, "the session holds every pane's target");
    assert_eq!(*run, RunId(1));
    assert_eq!(jobs.iter().map(|j| j.pane).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(jobs[0].request.messages[0].content, "hello\nworld");
    assert_eq!(app.pane(0).status, PaneStatus::Queued);
    assert_eq!(app.pane(1).status, PaneStatus::Idle);
}

#[test]
fn stale_run_events_are_dropped_and_resend_cancels_the_old_run() {
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    stream(&mut app, 0, RunId(1), StreamEvent::Dispatched);
    assert_eq!(app.pane(0).status, PaneStatus::Connecting);
    assert!(
        app.prompt().is_empty(),
        "a send empties the editor for the follow-up"
    );
    type_text(&mut app, "y");
    let effects = app.act(Action::Send);
    assert_eq!(
        effects[0],
        Effect::Cancel {
            run: RunId(1),
            pane: None
        },
        "a new send cancels the running one"
    );
    stream(&mut app, 0, RunId(1), StreamEvent::TextDelta("old".into()));
    assert_eq!(
        app.pane(0).answer.text(),
        "",
        "late events of run 1 never reach run 2's pane"
    );
    stream(&mut app, 0, RunId(2), StreamEvent::Dispatched);
    stream(&mut app, 0, RunId(2), StreamEvent::TextDelta("new".into()));
    assert_eq!(app.pane(0).answer.text(), "new");
}

#[test]
fn cancel_focused_and_cancel_all() {
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    focus(&mut app, Focus::Pane(2));
    assert_eq!(
        key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE),
        [Effect::Cancel {
            run: RunId(1),
            pane: Some(2)
        }]
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('g'), KeyModifiers::CONTROL),
        [Effect::Cancel {
            run: RunId(1),
            pane: None
        }]
    );
    for p in 0..3 {
        stream(&mut app, p, RunId(1), StreamEvent::Cancelled);
    }
    assert!(!app.animating());
    assert!(
        key(&mut app, KeyCode::Char('g'), KeyModifiers::CONTROL).is_empty(),
        "nothing left to cancel"
    );
}

#[test]
fn follow_tail_stops_on_scroll_up_and_resumes_at_bottom() {
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 20)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
    stream(&mut app, 0, RunId(1), StreamEvent::Dispatched);
    stream(&mut app, 0, RunId(1), StreamEvent::TextDelta(long.into()));
    term.frame(&mut app).unwrap();
    let p = &app.pane(0);
    assert!(
        p.follow && p.scroll > 0 && p.scroll + p.viewport == p.body_len(),
        "pinned to the bottom"
    );
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('k'), KeyModifiers::NONE);
    let held = app.pane(0).scroll;
    assert!(!app.pane(0).follow);
    stream(
        &mut app,
        0,
        RunId(1),
        StreamEvent::TextDelta("more\nand more\n".into()),
    );
    term.frame(&mut app).unwrap();
    assert_eq!(app.pane(0).scroll, held, "new text does not yank the view");
    key(&mut app, KeyCode::Char('G'), KeyModifiers::SHIFT);
    term.frame(&mut app).unwrap();
    assert!(app.pane(0).follow);
    assert_eq!(app.pane(0).scroll + app.pane(0).viewport, app.pane(0).body_len());
    key(&mut app, KeyCode::Char('g'), KeyModifiers::NONE);
    assert_eq!(app.pane(0).scroll, 0);
}

#[test]
fn mouse_wheel_scrolls_the_pane_under_the_pointer() {
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    stream(&mut app, 1, RunId(1), StreamEvent::Dispatched);
    let long: String = (0..40).map(|i| format!("- {i}\n")).collect();
    stream(&mut app, 1, RunId(1), StreamEvent::TextDelta(long.into()));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 20)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    term.frame(&mut app).unwrap();
    // From the top of pane 1, no longer following its tail.
    focus(&mut app, Focus::Pane(1));
    key(&mut app, KeyCode::Char('g'), KeyModifiers::NONE);
    assert!(!app.pane(1).follow);
    let area = app.pane_area(1).unwrap();
    let wheel = |kind| {
        Msg::Term(Event::Mouse(MouseEvent {
            kind,
            column: area.x + 2,
            row: area.y + 3,
            modifiers: KeyModifiers::NONE,
        }))
    };
    app.update(wheel(MouseEventKind::ScrollDown));
    assert_eq!(app.pane(1).scroll, 3);
    assert_eq!(app.pane(0).scroll, 0, "only the pane under the pointer");
    app.update(wheel(MouseEventKind::ScrollUp));
    assert_eq!(app.pane(1).scroll, 0);
}

#[test]
fn help_copy_zoom_quit_and_signals() {
    let mut app = app();
    key(&mut app, KeyCode::F(1), KeyModifiers::NONE);
    assert_eq!(app.overlay(), &Overlay::Help);
    key(&mut app, KeyCode::Char('a'), KeyModifiers::NONE);
    assert!(
        app.overlay() == &Overlay::None && app.prompt().lines() == [""],
        "a key closes help without typing"
    );
    set_prompt(&mut app, "x");
    app.act(Action::Send);
    stream(&mut app, 0, RunId(1), StreamEvent::Dispatched);
    stream(&mut app, 0, RunId(1), StreamEvent::TextDelta("copy me".into()));
    focus(&mut app, Focus::Pane(0));
    assert_eq!(
        key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE),
        [Effect::Copy("copy me".into())]
    );
    key(&mut app, KeyCode::Char('z'), KeyModifiers::NONE);
    assert_eq!(app.zoomed(), Some(0));
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!((app.zoomed(), app.focus()), (None, Focus::Prompt));
    assert_eq!(
        key(&mut app, KeyCode::Char('c'), KeyModifiers::CONTROL),
        [Effect::Quit],
        "ctrl-c always quits"
    );
    assert_eq!(app.update(Msg::Signal("SIGTERM")), [Effect::Quit]);
}

#[test]
fn paste_goes_into_the_editor_with_newlines_normalized() {
    let mut app = app();
    app.update(Msg::Term(Event::Paste("a\r\nb\rc".into())));
    assert_eq!(app.prompt().lines(), ["a", "b", "c"]);
    assert_eq!(
        app.act(Action::OpenEditor),
        [Effect::OpenEditor("a\nb\nc".into())]
    );
    app.update(Msg::EditorClosed(Ok("from editor\nline 2\n".into())));
    assert_eq!(app.prompt().lines(), ["from editor", "line 2"]);
}

#[test]
fn scrolling_works_past_65535_lines() {
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    stream(&mut app, 0, RunId(1), StreamEvent::Dispatched);
    let text: String = (0..70_000).map(|i| format!("- row {i}\n")).collect();
    stream(&mut app, 0, RunId(1), StreamEvent::TextDelta(text.into()));
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 20)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    term.frame(&mut app).unwrap();
    assert!(app.pane(0).body_len() >= 70_000);
    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('g'), KeyModifiers::NONE);
    while app.pane(0).scroll < 66_000 {
        app.act(Action::PageDown);
    }
    term.frame(&mut app).unwrap();
    let top = app.pane(0).scroll;
    assert!(top > 65_535, "scroll offset {top} is past u16");
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    let line = app.pane(0).answer.lines(top..top + 1)[0].to_string();
    assert!(line.contains("row 6"), "a row from the end: {line}");
    assert!(
        screen.contains(line.trim()),
        "the line at offset {top} ({line}) is on screen"
    );
}

#[test]
fn retry_pane_resends_the_last_request_to_that_target_only() {
    let mut app = app();
    focus(&mut app, Focus::Pane(0));
    assert!(
        key(&mut app, KeyCode::Char('R'), KeyModifiers::SHIFT).is_empty(),
        "nothing sent yet"
    );
    focus(&mut app, Focus::Prompt);
    type_text(&mut app, "first");
    app.act(Action::Send);
    for p in 0..3 {
        stream(&mut app, p, RunId(1), StreamEvent::Dispatched);
        stream(&mut app, p, RunId(1), StreamEvent::TextDelta("partial".into()));
    }
    let failure =
        prism::provider::event::ProviderError::new(prism::provider::event::ErrorKind::Truncated, "dropped");
    stream(&mut app, 0, RunId(1), StreamEvent::Failed(Box::new(failure)));
    type_text(&mut app, " edited");
    focus(&mut app, Focus::Pane(0));
    let effects = key(&mut app, KeyCode::Char('R'), KeyModifiers::SHIFT);
    let [Effect::StartRun { run, turn, jobs, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!((*run, *turn, jobs.len(), jobs[0].pane), (RunId(2), 1, 1, 0));
    assert_eq!(
        jobs[0].request.messages[0].content, "first",
        "the request that was sent, not the edited prompt"
    );
    // The other panes keep streaming their original run.
    stream(&mut app, 1, RunId(1), StreamEvent::TextDelta(" more".into()));
    assert_eq!(app.pane(1).answer.text(), "partial more");
    stream(&mut app, 0, RunId(1), StreamEvent::TextDelta("stale".into()));
    assert_eq!(app.pane(0).answer.text(), "", "pane 0 now belongs to run 2");
    // Cancel-all reaches both runs.
    stream(&mut app, 0, RunId(2), StreamEvent::Dispatched);
    let cancels = app.act(Action::CancelAll);
    assert_eq!(
        cancels,
        [
            Effect::Cancel {
                run: RunId(1),
                pane: None
            },
            Effect::Cancel {
                run: RunId(2),
                pane: None
            }
        ]
    );
}

#[test]
fn preflight_blocks_a_prompt_too_long_and_the_budget_refuses_a_send() {
    prism::tokens::warm_up();
    let mut app = app();
    // 130k words: over gpt-4o-mini's 128k window, so no target is sent.
    set_prompt(&mut app, &"word ".repeat(130_000));
    let effects = app.act(Action::Send);
    let Some(Effect::StartRun { jobs, .. }) = effects.last() else {
        panic!("{effects:?}")
    };
    assert!(
        jobs.iter().all(|j| j.blocked.is_some()),
        "nothing sent, but the send is recorded"
    );
    let Some(prism::engine::metrics::Outcome::Failed(e)) = &app.pane(0).metrics.outcome else {
        panic!()
    };
    assert!(
        e.message.contains("over the 128000-token context window"),
        "{}",
        e.message
    );
    assert_eq!(app.pane(0).status, PaneStatus::Error);

    let mut app = self::app().with_budget(Some(0.000_01));
    type_text(&mut app, "hello");
    let effects = app.act(Action::Send);
    assert!(effects.is_empty(), "refused: {effects:?}");
    assert!(
        app.notice().unwrap().contains("over budget_usd"),
        "{:?}",
        app.notice()
    );
    assert_eq!(app.pane(0).status, PaneStatus::Idle, "nothing started");
}

#[test]
fn idle_panes_show_the_preflight_of_the_prompt_as_typed() {
    prism::tokens::warm_up();
    let mut app = app();
    type_text(&mut app, "hello world");
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(150, 20)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    term.frame(&mut app).unwrap();
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    // user: 3 + 1 + 2, priming 3 = 9 tokens; gpt-4o-mini: 128k window, and with no
    // max_tokens the worst case uses the model's 16,384-token maximum output.
    assert!(
        screen.contains("prompt 9 tok local · fits 128k · ≤ $0.009832"),
        "{screen}"
    );
}

#[test]
fn an_expensive_send_asks_for_confirmation_first() {
    prism::tokens::warm_up();
    let mut app = app().with_confirm_above(Some(0.001));
    type_text(&mut app, "hello");
    // No max_tokens: the worst case uses each model's maximum output (3 × 16,384 tokens).
    assert!(
        app.act(Action::Send).is_empty(),
        "first press only announces the cost"
    );
    assert!(
        app.notice().unwrap().contains("send again to confirm"),
        "{:?}",
        app.notice()
    );
    // The limit reads as configured, the worst case to the micro-dollar like the panes.
    assert!(
        app.notice()
            .unwrap()
            .contains("may cost up to $0.029495 (over confirm_above_usd $0.001)"),
        "{:?}",
        app.notice()
    );
    let effects = app.act(Action::Send);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::StartRun { .. })),
        "second press sends"
    );
}

fn done_with(app: &mut App, pane: usize, text: &str) {
    let run = app.pane(pane).run.unwrap();
    stream(app, pane, run, StreamEvent::Dispatched);
    if !text.is_empty() {
        stream(app, pane, run, StreamEvent::TextDelta(text.into()));
    }
    stream(app, pane, run, StreamEvent::Done);
}

/// Replace the prompt, as the external editor does when it closes.
fn set_prompt(app: &mut App, text: &str) {
    app.update(Msg::EditorClosed(Ok(text.to_string())));
}

fn start_run(effects: &[Effect]) -> (u32, Option<String>, Vec<prism::tui::model::msg::Job>) {
    let Some(Effect::StartRun {
        turn, system, jobs, ..
    }) = effects.last()
    else {
        panic!("{effects:?}")
    };
    (*turn, system.clone(), jobs.clone())
}

fn contents(job: &prism::tui::model::msg::Job) -> Vec<&str> {
    job.request.messages.iter().map(|m| m.content.as_str()).collect()
}

#[test]
fn each_target_continues_its_own_conversation_only() {
    let mut app = app();
    set_prompt(&mut app, "q1");
    let (turn, _, jobs) = start_run(&app.act(Action::Send));
    assert_eq!((turn, jobs[0].history.clone()), (1, vec![]));
    done_with(&mut app, 0, "A1");
    done_with(&mut app, 1, "B1");
    let run = app.pane(2).run.unwrap();
    stream(&mut app, 2, run, StreamEvent::TextDelta("half an answer".into()));
    let e = prism::provider::event::ProviderError::new(prism::provider::event::ErrorKind::Server, "boom");
    stream(&mut app, 2, run, StreamEvent::Failed(Box::new(e)));

    set_prompt(&mut app, "q2");
    let effects = app.act(Action::Send);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::NewSession { .. })),
        "the conversation's session goes on: {effects:?}"
    );
    let (turn, system, jobs) = start_run(&effects);
    assert_eq!((turn, system), (2, None));
    assert_eq!(contents(&jobs[0]), ["q1", "A1", "q2"]);
    assert_eq!(contents(&jobs[1]), ["q1", "B1", "q2"]);
    assert!(
        !jobs[0].request.messages.iter().any(|m| m.content.contains("B1")),
        "never another target's answer"
    );
    assert_eq!(contents(&jobs[2]), ["q2"], "a failed turn is left out");
    assert_eq!(
        jobs.iter().map(|j| j.history.clone()).collect::<Vec<_>>(),
        [vec![1], vec![1], vec![]]
    );

    // Turn 2: A is cancelled, B answers nothing, C answers.
    let run = app.pane(0).run.unwrap();
    stream(&mut app, 0, run, StreamEvent::TextDelta("partial".into()));
    stream(&mut app, 0, run, StreamEvent::Cancelled);
    done_with(&mut app, 1, "");
    done_with(&mut app, 2, "C2");
    // ctrl-t shows the system prompt and focuses it.
    key(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    assert_eq!(app.focus(), Focus::System);
    app.update(Msg::Term(Event::Paste("Be terse.".into())));
    set_prompt(&mut app, "q3");
    let (turn, system, jobs) = start_run(&app.act(Action::Send));
    assert_eq!(turn, 3);
    assert_eq!(system.as_deref(), Some("Be terse."), "the edit is in the send");
    assert!(
        jobs.iter()
            .all(|j| j.request.system.as_deref() == Some("Be terse."))
    );
    assert_eq!(contents(&jobs[0]), ["q1", "A1", "q3"]);
    assert_eq!(
        contents(&jobs[1]),
        ["q1", "B1", "q3"],
        "an empty answer is left out"
    );
    assert_eq!(contents(&jobs[2]), ["q2", "C2", "q3"]);
    assert_eq!(jobs[2].history, [2]);
    assert_eq!(app.conversation().turn, 3);

    // Retrying one pane resends its own request of the same turn.
    focus(&mut app, Focus::Pane(2));
    let (turn, _, retry) = start_run(&app.act(Action::RetryPane));
    assert_eq!(turn, 3);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].request, jobs[2].request);
    assert_eq!(retry[0].history, [2]);
}

#[test]
fn a_new_conversation_forgets_every_history_and_starts_a_new_session() {
    let mut app = app();
    set_prompt(&mut app, "q1");
    app.act(Action::Send);
    app.update(Msg::Saving(Ok("20250102-103105-ab12".into())));
    assert_eq!(app.session_id(), Some("20250102-103105-ab12"));
    done_with(&mut app, 0, "A1");
    let run = app.pane(1).run.unwrap();
    stream(&mut app, 1, run, StreamEvent::Dispatched);
    let effects = key(&mut app, KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(
        effects,
        [Effect::Cancel { run, pane: None }, Effect::CloseSession]
    );
    assert_eq!(app.conversation().turn, 0);
    assert_eq!(app.session_id(), None);
    assert!(app.panes().iter().all(|p| p.status == PaneStatus::Idle));
    stream(&mut app, 1, run, StreamEvent::Cancelled);
    assert_eq!(app.pane(1).status, PaneStatus::Idle, "the old run is gone");

    set_prompt(&mut app, "fresh");
    let effects = app.act(Action::Send);
    assert!(matches!(effects[0], Effect::NewSession { .. }), "{effects:?}");
    let (turn, _, jobs) = start_run(&effects);
    assert_eq!(turn, 1);
    assert!(jobs.iter().all(|j| contents(j) == ["fresh"]));
}

#[test]
fn a_session_that_cannot_be_saved_says_so_and_work_goes_on() {
    let mut app = app();
    set_prompt(&mut app, "q1");
    app.act(Action::Send);
    app.update(Msg::Saving(Err(
        "cannot create a session in /ro: Read-only file system".into(),
    )));
    assert_eq!(
        app.notice(),
        Some("session not saved: cannot create a session in /ro: Read-only file system")
    );
    done_with(&mut app, 0, "A1");
    set_prompt(&mut app, "q2");
    let (turn, _, jobs) = start_run(&app.act(Action::Send));
    assert_eq!((turn, contents(&jobs[0])), (2, vec!["q1", "A1", "q2"]));
}

fn listed(id: &str, name: Option<&str>, prompt: &str, targets: &[&str]) -> prism::session::store::Listed {
    prism::session::store::Listed {
        dir: std::path::PathBuf::from("/sessions").join(id),
        meta: Ok(prism::session::schema::Meta {
            version: 1,
            id: id.into(),
            name: name.map(str::to_string),
            created: "2025-01-02T10:31:05.123Z".into(),
            updated: "2025-01-02T10:32:00.000Z".into(),
            first_prompt: prompt.into(),
            targets: targets.iter().map(|t| (*t).to_string()).collect(),
            turns: 2,
            cost_usd: 0.0012,
            cost_incomplete: false,
            tags: Vec::new(),
        }),
    }
}

#[test]
fn the_browser_filters_renames_and_deletes_only_after_yes() {
    let mut app = app();
    let effects = key(&mut app, KeyCode::Char('o'), KeyModifiers::CONTROL);
    assert_eq!(effects, [Effect::ListSessions]);
    app.update(Msg::SessionList(Ok(vec![
        listed(
            "20250103-090000-aaaa",
            Some("rust talk"),
            "Explain lifetimes",
            &["gpt", "claude"],
        ),
        listed(
            "20250102-090000-bbbb",
            None,
            "Explain streaming",
            &["gpt", "gemini"],
        ),
        listed("20250101-090000-cccc", None, "Write a haiku", &["claude"]),
    ])));
    assert_eq!(browser(&app).visible().len(), 3);
    type_text(&mut app, "gpt explain");
    let b = browser(&app);
    assert_eq!(b.filter, "gpt explain", "letters type into the filter");
    assert_eq!(b.visible().len(), 2);
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(
        browser(&app).current().unwrap().id,
        "20250102-090000-bbbb",
        "down stops at the last match"
    );
    for _ in 0.."explain".len() {
        key(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
    }
    type_text(&mut app, "gemini");
    assert_eq!(browser(&app).visible().len(), 1);

    // Rename: F2, type, Enter.
    key(&mut app, KeyCode::F(2), KeyModifiers::NONE);
    type_text(&mut app, "streams");
    let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let dir = std::path::PathBuf::from("/sessions/20250102-090000-bbbb");
    assert_eq!(
        effects,
        [Effect::RenameSession {
            dir: dir.clone(),
            name: "streams".into()
        }]
    );
    assert_eq!(
        browser(&app).filter,
        "gpt gemini",
        "the filter was not typed into"
    );

    // Delete asks first; anything but y keeps the session.
    assert!(key(&mut app, KeyCode::Delete, KeyModifiers::NONE).is_empty());
    assert!(key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE).is_empty());
    assert_eq!(app.notice(), Some("kept"));
    key(&mut app, KeyCode::Delete, KeyModifiers::NONE);
    assert_eq!(
        key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE),
        [Effect::DeleteSession(dir.clone())]
    );

    // Replay, re-run and open hand the directory on.
    assert_eq!(
        key(&mut app, KeyCode::Char('p'), KeyModifiers::CONTROL),
        [Effect::ReplaySession(dir.clone())]
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('e'), KeyModifiers::CONTROL),
        [Effect::RerunSession(dir.clone())]
    );
    assert_eq!(
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE),
        [Effect::LoadSession(dir)]
    );
    assert!(
        key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL).is_empty(),
        "send does not reach behind the browser"
    );
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.overlay(), &Overlay::None, "esc closes the browser");
}

/// The text of every row of pane `i`'s body, from the top, as prepared at the last frame.
fn body(app: &mut App, i: usize) -> Vec<String> {
    let p = app.pane(i);
    let looks = prism::tui::model::pane::BodyLooks {
        history: prism::tui::model::pane_history::Looks {
            key: Some("h".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    p.rows(0..p.body_len(), &looks)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Markdown with headings, lists and highlighted code, in 16-byte deltas.
fn markdown_deltas(sections: usize) -> Vec<String> {
    let mut text = String::new();
    for i in 0..sections {
        text.push_str(&format!(
            "## Part {i}\n\nSome prose that wraps across the pane, item {i}.\n\n- one\n- two\n\n\
             ```rust\nfn f(x: u32) -> u32 {{\n    x * {i} + 1\n}}\n```\n\n"
        ));
    }
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(16).map(|c| c.iter().collect()).collect()
}

fn answer_rows(app: &App, pane: usize) -> Vec<String> {
    let d = &app.pane(pane).answer;
    d.lines(0..d.line_count())
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_pane_shows_the_prompt_and_its_own_earlier_turns_on_h() {
    let mut app = app();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(150, 40)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    set_prompt(&mut app, "first question");
    app.act(Action::Send);
    term.frame(&mut app).unwrap();
    assert_eq!(body(&mut app, 0), ["you: first question"], "asked, no answer yet");
    done_with(&mut app, 0, "alpha answer");
    done_with(&mut app, 1, "bravo answer");
    let run = app.pane(2).run.unwrap();
    stream(&mut app, 2, run, StreamEvent::Cancelled);

    set_prompt(&mut app, "second question");
    app.act(Action::Send);
    done_with(&mut app, 0, "alpha again");
    term.frame(&mut app).unwrap();
    assert_eq!(
        body(&mut app, 0),
        [
            "▸ 1 earlier turn (h shows them)",
            "you: second question",
            "alpha again"
        ]
    );
    assert_eq!(
        body(&mut app, 2),
        ["you: second question"],
        "its first turn was cancelled, so it was sent none"
    );

    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('h'), KeyModifiers::NONE);
    term.frame(&mut app).unwrap();
    let open = body(&mut app, 0);
    assert_eq!(
        open,
        [
            "▾ 1 earlier turn (h hides them)",
            "you: first question",
            "alpha answer",
            "",
            "you: second question",
            "alpha again"
        ]
    );
    assert!(
        !open.iter().any(|l| l.contains("bravo")),
        "never another target's answer"
    );
    assert_eq!(app.pane(0).scroll, 0, "opening shows them from the first");
    assert_eq!(
        body(&mut app, 1),
        ["▸ 1 earlier turn (h shows them)", "you: second question"],
        "other panes stay collapsed"
    );
    assert_eq!(
        key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE),
        [Effect::Copy("alpha again".into())],
        "copy takes the current answer only"
    );

    key(&mut app, KeyCode::Char('h'), KeyModifiers::NONE);
    term.frame(&mut app).unwrap();
    assert_eq!(body(&mut app, 0).len(), 3, "closed again");
    focus(&mut app, Focus::Pane(2));
    key(&mut app, KeyCode::Char('h'), KeyModifiers::NONE);
    assert!(
        app.notice().unwrap().contains("no earlier turns"),
        "{:?}",
        app.notice()
    );

    set_prompt(&mut app, "third\nwith a second line");
    app.act(Action::Send);
    term.frame(&mut app).unwrap();
    assert_eq!(
        body(&mut app, 0),
        ["▸ 2 earlier turns (h shows them)", "you: third…"],
        "plural; only the first line of the prompt"
    );
}

#[test]
fn the_history_scrolls_with_the_answer_and_follow_tail_still_pins_the_bottom() {
    let mut app = app();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 20)).unwrap();
    use prism::tui::effects::event_loop::Screen;
    let long: String = (0..60).map(|i| format!("earlier line {i}\n\n")).collect();
    set_prompt(&mut app, "q1");
    app.act(Action::Send);
    done_with(&mut app, 0, &long);
    set_prompt(&mut app, "q2");
    app.act(Action::Send);
    let run = app.pane(0).run.unwrap();
    stream(&mut app, 0, run, StreamEvent::Dispatched);
    let now: String = (0..40).map(|i| format!("now line {i}\n\n")).collect();
    stream(&mut app, 0, run, StreamEvent::TextDelta(now.into()));
    term.frame(&mut app).unwrap();
    let collapsed = app.pane(0).body_len();
    assert_eq!(collapsed, 2 + app.pane(0).answer.line_count());
    let p = &app.pane(0);
    assert!(p.follow && p.scroll + p.viewport == p.body_len());

    focus(&mut app, Focus::Pane(0));
    key(&mut app, KeyCode::Char('h'), KeyModifiers::NONE);
    term.frame(&mut app).unwrap();
    let p = &app.pane(0);
    assert!(
        p.body_len() > collapsed + 100,
        "the earlier answer is in the body"
    );
    assert_eq!((p.scroll, p.follow), (0, false));
    let work = app.pane(0).answer.work_counter();
    key(&mut app, KeyCode::Char('G'), KeyModifiers::SHIFT);
    stream(&mut app, 0, run, StreamEvent::TextDelta("tail\n".into()));
    term.frame(&mut app).unwrap();
    let p = &app.pane(0);
    assert!(
        p.follow && p.scroll + p.viewport == p.body_len(),
        "G follows again"
    );
    assert!(
        p.answer.work_counter() - work < 16,
        "only the new text of the answer is rendered"
    );
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("tail"), "the newest text is on screen");

    // Closing keeps the same text in view.
    key(&mut app, KeyCode::Char('k'), KeyModifiers::NONE);
    let top = app.pane(0).scroll;
    let shown = app
        .pane(0)
        .visible(1, &prism::tui::model::pane::BodyLooks::default())[0]
        .to_string();
    key(&mut app, KeyCode::Char('h'), KeyModifiers::NONE);
    term.frame(&mut app).unwrap();
    let p = &app.pane(0);
    assert!(p.scroll < top);
    assert_eq!(
        p.visible(1, &prism::tui::model::pane::BodyLooks::default())[0].to_string(),
        shown
    );
}

#[test]
fn a_pane_behind_on_layout_shows_and_follows_what_is_laid_out() {
    use prism::tui::effects::event_loop::Screen;
    let mut app = app();
    type_text(&mut app, "x");
    app.act(Action::Send);
    stream(&mut app, 0, RunId(1), StreamEvent::Dispatched);
    let deltas = markdown_deltas(40);
    let (first, rest) = deltas.split_at(deltas.len() / 2);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 20)).unwrap();
    for d in first {
        stream(&mut app, 0, RunId(1), StreamEvent::TextDelta(d.as_str().into()));
    }
    term.frame(&mut app).unwrap();
    assert!(!app.layout_pending());
    let shown = answer_rows(&app, 0);
    // Out of time: the new half waits, the pane keeps the rows it had, pinned to their
    // bottom.
    for d in rest {
        stream(&mut app, 0, RunId(1), StreamEvent::TextDelta(d.as_str().into()));
    }
    app.set_layout_budget(Some(std::time::Duration::ZERO));
    term.frame(&mut app).unwrap();
    assert!(app.layout_pending());
    assert_eq!(answer_rows(&app, 0), shown);
    let p = &app.pane(0);
    assert!(p.follow && p.scroll + p.viewport == p.body_len());
    // Passes with time catch up.
    app.set_layout_budget(None);
    prism::tui::view::lay_out(&mut app);
    assert!(!app.layout_pending());
    term.frame(&mut app).unwrap();
    let p = &app.pane(0);
    assert!(p.body_len() > shown.len() && p.scroll + p.viewport == p.body_len());
}

/// The real loop under its layout budget: text arriving all at once, far more than one
/// pass lays out, is complete on screen once the passes catch up, while frames keep
/// coming in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_lays_out_a_backlog_completely_across_frames() {
    use prism::tui::effects::event_loop::{self, Screen};
    use prism::tui::effects::executor::Executor;

    struct UntilLaidOut {
        term: ratatui::Terminal<ratatui::backend::TestBackend>,
        tx: tokio::sync::mpsc::UnboundedSender<Msg>,
        expect: usize,
        frames: usize,
    }
    impl Screen for UntilLaidOut {
        fn frame(&mut self, app: &mut App) -> std::io::Result<()> {
            self.term.frame(app)?;
            self.frames += 1;
            let arrived: usize = app.panes().iter().map(|p| p.answer.text().len()).sum();
            if arrived == self.expect && !app.layout_pending() {
                self.tx
                    .send(Msg::Term(Event::Key(KeyEvent::new(
                        KeyCode::Char('c'),
                        KeyModifiers::CONTROL,
                    ))))
                    .ok();
            }
            Ok(())
        }
    }

    let mut looped = app();
    type_text(&mut looped, "x");
    looped.act(Action::Send);
    let mut reference = app();
    type_text(&mut reference, "x");
    reference.act(Action::Send);
    let deltas = markdown_deltas(300);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for pane in 0..3 {
        for a in [&mut looped, &mut reference] {
            stream(a, pane, RunId(1), StreamEvent::Dispatched);
        }
        for d in &deltas {
            stream(
                &mut reference,
                pane,
                RunId(1),
                StreamEvent::TextDelta(d.as_str().into()),
            );
            let env = Envelope {
                run: RunId(1),
                target: pane,
                at: Instant::now(),
                event: StreamEvent::TextDelta(d.as_str().into()),
            };
            tx.send(Msg::Stream { pane, env }).unwrap();
        }
    }
    let mut screen = UntilLaidOut {
        term: ratatui::Terminal::new(ratatui::backend::TestBackend::new(150, 40)).unwrap(),
        tx: tx.clone(),
        expect: 3 * deltas.concat().len(),
        frames: 0,
    };
    let mut runner = Executor::default();
    event_loop::run(&mut screen, &mut looped, &mut runner, &tx, &mut rx)
        .await
        .unwrap();
    // The reference lays everything out in one frame, without a budget.
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(150, 40)).unwrap();
    term.frame(&mut reference).unwrap();
    for pane in 0..3 {
        assert!(!looped.pane(pane).answer.is_dirty());
        assert_eq!(
            answer_rows(&looped, pane),
            answer_rows(&reference, pane),
            "pane {pane}"
        );
    }
    assert!(screen.frames >= 2);
}

/// The example session shipped in the repository: three priced targets, two turns.
fn example_session() -> prism::session::Session {
    prism::session::load(std::path::Path::new("sessions/example-mock")).unwrap()
}

/// Play every turn of `session` into `app` as the player does at full speed, then its end.
fn play(app: &mut App, session: &prism::session::Session) {
    use prism::session::replay::Speed;
    let (_, first) = app.begin_replay(session, Speed::Max).unwrap();
    for index in 0..session.turns.len() {
        let run = RunId(first.0 + index as u64);
        for (_, msg) in
            prism::tui::model::replay::turn_messages(session, index, run, Instant::now(), Speed::Max)
        {
            app.update(msg);
        }
    }
    app.update(Msg::Replay(prism::tui::model::replay::Cue::Finished));
}

/// Finish pane `pane`'s current run with provider-counted usage, so it has a cost.
fn done_priced(app: &mut App, pane: usize, input: u64, output: u64) {
    let run = app.pane(pane).run.unwrap();
    stream(app, pane, run, StreamEvent::Dispatched);
    stream(app, pane, run, StreamEvent::TextDelta("answer".into()));
    stream(
        app,
        pane,
        run,
        StreamEvent::Usage(Box::new(prism::provider::event::Usage {
            input: Some(input),
            output: Some(output),
            ..Default::default()
        })),
    );
    stream(app, pane, run, StreamEvent::Done);
}

#[test]
fn a_live_send_counts_toward_the_budget_and_ctrl_n_starts_a_new_window() {
    prism::tokens::warm_up();
    // "hello" to three gpt-4o-mini targets without max_tokens: about $0.0295 worst case.
    let mut app = app().with_budget(Some(0.04));
    set_prompt(&mut app, "hello");
    assert!(start_run(&app.act(Action::Send)).2.len() == 3, "within budget");
    assert_eq!(app.spent(), (0, false), "nothing is spent before a stream ends");
    // 1000 in, 55000 out at $0.15 / $0.60 per million: $0.03315.
    done_priced(&mut app, 0, 1000, 55_000);
    assert_eq!(app.spent(), (33_150_000_000, false), "a live send counts");
    assert_eq!(app.spent().0, app.pane_cost(0).unwrap().0);

    // $0.03315 spent plus about $0.0295 is over $0.04.
    set_prompt(&mut app, "hello");
    assert!(app.act(Action::Send).is_empty(), "refused: over budget");
    let why = app.notice().map(str::to_string).unwrap();
    assert!(
        why.contains("$0.033150 is spent, over budget_usd $0.04;"),
        "{why}"
    );
    // A retry is a live send too: $0.03315 plus about $0.0098 for one target is over.
    focus(&mut app, Focus::Pane(0));
    assert!(app.act(Action::RetryPane).is_empty(), "retry refused");
    assert!(app.notice().unwrap().contains("over budget_usd $0.04"));

    key(&mut app, KeyCode::Char('n'), KeyModifiers::CONTROL);
    assert_eq!(app.spent(), (0, false), "ctrl-n opens a new budget window");
    set_prompt(&mut app, "hello");
    assert!(
        start_run(&app.act(Action::Send)).2.len() == 3,
        "the same send goes in the new window"
    );
}

#[test]
fn a_replay_costs_nothing_and_leaves_the_budget_alone() {
    let session = example_session();
    let mut app = app().with_budget(Some(0.5));
    set_prompt(&mut app, "hello");
    app.act(Action::Send);
    done_priced(&mut app, 1, 1000, 20_000);
    let before = app.spent();
    assert!(before.0 > 0);

    play(&mut app, &session);
    assert!(app.replay().unwrap().finished);
    let shown: prism::pricing::Picodollars = (0..app.panes().len())
        .filter_map(|i| app.pane_cost(i))
        .map(|c| c.0)
        .sum();
    assert!(shown > 0, "the replayed panes show what the recording cost");
    assert_eq!(app.spent(), before, "but a replay spends nothing");
}

/// What a re-run of `session`'s last turn sends: each target the recorded request again.
fn rerun_entries(session: &prism::session::Session) -> Vec<prism::workflows::rerun::Entry> {
    let turn = session.turns.last().unwrap();
    turn.answers
        .iter()
        .map(|(&index, recorded)| {
            let target = session.targets[index].to_target().unwrap();
            prism::workflows::rerun::Entry {
                index,
                recorded_target: target.clone(),
                target,
                request: session.request_for(turn, index),
                recorded: recorded.clone(),
                recorded_row: recorded.row.clone().unwrap(),
            }
        })
        .collect()
}

#[test]
fn a_rerun_counts_its_live_side_only() {
    let session = example_session();
    let entries = rerun_entries(&session);
    let mut app = app();
    let (_, live_run, live) = app.begin_compare(&session, &entries);
    let recorded: Vec<usize> = app
        .compare()
        .unwrap()
        .pairs
        .iter()
        .map(|p| p.recorded_pane)
        .collect();
    assert!(
        recorded
            .iter()
            .all(|&i| app.pane_cost(i).is_some_and(|c| c.0 > 0)),
        "the recorded side shows its cost"
    );
    assert_eq!(app.spent(), (0, false), "but showing a recording spends nothing");
    // The live side answers as the recording did: it is a real send, so it counts.
    let base = Instant::now();
    for (k, e) in entries.iter().enumerate() {
        for (t, body) in &e.recorded.events {
            let env = Envelope {
                run: live_run,
                target: k,
                at: base + std::time::Duration::from_nanos(*t),
                event: body.to_event(base),
            };
            app.update(Msg::Stream { pane: live[k], env });
        }
    }
    let live_cost: prism::pricing::Picodollars = live.iter().map(|&i| app.pane_cost(i).unwrap().0).sum();
    assert!(live_cost > 0);
    assert_eq!(app.spent().0, live_cost, "only the live side counts");
}

#[test]
fn q_quits_a_finished_replay_whose_prompt_is_read_only() {
    let session = example_session();
    let mut app = app();
    play(&mut app, &session);
    assert_eq!(app.focus(), Focus::Prompt);
    let notice = app.notice().map(str::to_string).unwrap();
    assert!(notice.contains("replay finished: q or ctrl-c quits"), "{notice}");
    let prompt = app.prompt().lines().to_vec();
    assert!(key(&mut app, KeyCode::Char('z'), KeyModifiers::NONE).is_empty());
    assert_eq!(app.prompt().lines(), prompt, "the prompt stays read-only");
    assert!(app.notice().unwrap().contains("read-only"));
    key(&mut app, KeyCode::Char('?'), KeyModifiers::NONE);
    assert_eq!(app.overlay(), &Overlay::Help, "? opens help as it does on a pane");
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.overlay(), &Overlay::None);
    assert_eq!(
        key(&mut app, KeyCode::Char('q'), KeyModifiers::NONE),
        [Effect::Quit],
        "q quits, as the notice says"
    );

    // A comparison's prompt is read-only too.
    let session = example_session();
    let mut app = self::app();
    app.begin_compare(&session, &rerun_entries(&session));
    focus(&mut app, Focus::Prompt);
    assert_eq!(
        key(&mut app, KeyCode::Char('q'), KeyModifiers::NONE),
        [Effect::Quit]
    );

    // In a live workbench the same key is just a letter of the prompt.
    let mut app = self::app();
    assert!(key(&mut app, KeyCode::Char('q'), KeyModifiers::NONE).is_empty());
    assert_eq!(app.prompt().lines(), ["q"]);
}

#[test]
fn a_pane_is_priced_by_the_entry_its_target_names_and_by_its_host() {
    prism::tokens::warm_up();
    let t = |name: &str, model: &str, base_url: &str, price_as: Option<&str>| Target {
        name: name.into(),
        provider: ProviderKind::OpenAiCompatible,
        model: model.into(),
        base_url: base_url.into(),
        key: KeySource::None,
        params: Params {
            stream: true,
            price_as: price_as.map(str::to_string),
            ..Params::default()
        },
    };
    let named = "groq/llama-3.3-70b-versatile";
    let mut app = App::new(
        vec![
            // A local server whose model name means nothing to the price map, priced as named.
            t("local", "my-llama", "http://127.0.0.1:1/v1", Some(named)),
            // Groq's own host: its prefixed entry, found without being named.
            t(
                "groq",
                "llama-3.3-70b-versatile",
                "https://api.groq.com/openai/v1",
                None,
            ),
            // Nothing to go by: no price, never 0.
            t("bare", "my-llama", "http://127.0.0.1:1/v1", None),
        ],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    set_prompt(&mut app, "hello");
    assert_eq!(start_run(&app.act(Action::Send)).2.len(), 3);
    for pane in 0..3 {
        done_priced(&mut app, pane, 1000, 2000);
    }
    let local = app.pane_cost(0).expect("priced as the named entry");
    assert_eq!(Some(local), app.pane_cost(1), "the same entry either way");
    assert!(local.0 > 0);
    assert_eq!(app.pane_cost(2), None);
}
