use super::*;
use serde_json::json;

/// A header, two targets, and run 1 sent to both with one event each.
fn valid_log() -> Vec<String> {
    let target = |name: &str| {
        json!({"name": name, "provider": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
               "key": "none", "stream": true})
    };
    [
        json!({"type": "header", "version": 1, "id": "s", "created": "2025-01-01T00:00:00.000Z", "prism": "0"}),
        json!({"type": "targets", "targets": [target("a"), target("b")]}),
        json!({"type": "send", "run": 1, "turn": 1, "wall": "2025-01-01T00:00:01.000Z", "prompt": "hi",
               "targets": [{"target": 0}, {"target": 1}]}),
        json!({"type": "event", "run": 1, "target": 0, "t_ns": 5, "event": "text", "text": "A"}),
        json!({"type": "event", "run": 1, "target": 1, "t_ns": 6, "event": "text", "text": "B"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect()
}

/// A result row with only the fields every recorded row has.
fn row() -> Value {
    json!({"target": "a", "provider": "openai", "model": "m", "status": "ok", "text": "A",
           "usage": {"source": "estimate"}, "itl_ms": {}, "retries": 0})
}

fn parse(lines: &[String]) -> Result<Log, SessionError> {
    parse_log(Path::new("events.jsonl"), &format!("{}\n", lines.join("\n")))
}

#[test]
fn records_that_would_load_as_blank_answers_are_refused_at_their_line() {
    let base = valid_log();
    assert!(parse(&base).is_ok());
    let cases = [
        (base[2].clone(), "a second send of run 1: the file is corrupt"),
        (
            json!({"type": "event", "run": 1, "target": 7, "t_ns": 9, "event": "done"}).to_string(),
            "event names target 7 but the session has 2: the file is corrupt",
        ),
        (
            json!({"type": "result", "run": 1, "target": 2, "row": row()}).to_string(),
            "result names target 2 but the session has 2: the file is corrupt",
        ),
        (
            json!({"type": "result", "run": 9, "target": 0, "row": row()}).to_string(),
            "result of run 9 before its send: the file is corrupt",
        ),
        (
            json!({"type": "send", "run": 2, "turn": 2, "wall": "w", "prompt": "p",
                   "targets": [{"target": 1}, {"target": 1}]})
            .to_string(),
            "send of run 2 lists target 1 twice: the file is corrupt",
        ),
        (
            json!({"type": "send", "run": 2, "turn": 2, "wall": "w", "prompt": "p",
                   "targets": [{"target": 2}]})
            .to_string(),
            "send names target 2 but the session has 2: the file is corrupt",
        ),
    ];
    for (extra, expected) in cases {
        let mut lines = base.clone();
        lines.push(extra);
        let e = parse(&lines)
            .err()
            .unwrap_or_else(|| panic!("accepted: {expected}"));
        assert_eq!(e.to_string(), format!("events.jsonl:6:1: {expected}"));
    }
    // An event for a target the run was not sent to.
    let mut lines = base.clone();
    lines.push(
        json!({"type": "send", "run": 2, "turn": 1, "wall": "w", "prompt": "p", "targets": [{"target": 0}]})
            .to_string(),
    );
    lines.push(json!({"type": "event", "run": 2, "target": 1, "t_ns": 1, "event": "done"}).to_string());
    let e = parse(&lines).err().unwrap();
    assert_eq!(
        e.to_string(),
        "events.jsonl:7:1: event of run 2 for target 1, which that send did not go to: the file is corrupt"
    );
}

#[test]
fn a_record_missing_a_field_is_refused_at_its_own_line() {
    let mut lines = valid_log();
    lines.push(json!({"type": "send", "run": 2}).to_string());
    let e = parse(&lines).err().unwrap();
    assert!(e.to_string().starts_with("events.jsonl:6:"), "{e}");
    // A result row without a field every recorded row has is damage too, not a blank.
    let mut lines = valid_log();
    let mut bare = row();
    bare.as_object_mut().unwrap().remove("status");
    lines.push(json!({"type": "result", "run": 1, "target": 0, "row": bare}).to_string());
    let e = parse(&lines).err().unwrap();
    assert_eq!(
        e.to_string(),
        "events.jsonl:6:1: corrupt record: missing field `status`"
    );
    let mut lines = valid_log();
    lines.push(json!({"type": "result", "run": 1, "target": 0, "row": row()}).to_string());
    assert!(parse(&lines).is_ok(), "optional fields may be missing");
    let e = parse(&[json!({"type": "header", "version": 1, "id": "s"}).to_string()])
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("events.jsonl:1:1: corrupt record: missing field"),
        "{e}"
    );
}

#[test]
fn a_session_from_before_experiments_loads_with_none() {
    let text = format!("{}\n", valid_log().join("\n"));
    let session = parse_log(Path::new("events.jsonl"), &text)
        .unwrap()
        .into_session(Path::new("s"));
    assert_eq!(session.experiment, None);
    assert!(session.cells.is_empty());
    assert_eq!(session.turns[0].answers.len(), 2);
}

#[test]
fn experiment_cells_load_by_run_and_bad_ones_are_refused_at_their_line() {
    let experiment = json!({"type": "experiment", "variants": [{"name": "a"}], "cases": [],
                            "targets": ["a", "b"], "repeat": 2, "order": "random", "seed": 5});
    let send = |run: u64, cell: Value| {
        json!({"type": "send", "run": run, "turn": 2, "wall": "w", "prompt": "p",
               "targets": [{"target": 0}], "cell": cell})
        .to_string()
    };
    let mut lines = valid_log();
    lines.insert(2, experiment.to_string());
    lines.push(send(
        2,
        json!({"variant": 0, "case": null, "target": 1, "repeat": 1}),
    ));
    lines.push(send(
        3,
        json!({"variant": 0, "target": 0, "repeat": 0, "warmup": true}),
    ));
    let session = parse(&lines).unwrap().into_session(Path::new("s"));
    let e = session.experiment.as_ref().unwrap();
    assert_eq!((e.repeat, e.seed, e.warmup), (2, Some(5), 0));
    assert_eq!(session.cells.len(), 2);
    assert_eq!(session.cells[&2].target, 1);
    assert!(session.cells[&3].warmup && !session.cells[&2].warmup);

    let mut bad = lines.clone();
    bad.push(send(4, json!({"variant": 3, "target": 0, "repeat": 0})));
    let e = parse(&bad).err().unwrap();
    assert_eq!(
        e.to_string(),
        "events.jsonl:9:1: send of run 4 names variant 3 but the experiment has 1: the file is corrupt"
    );
    let mut orphan = valid_log();
    orphan.push(send(2, json!({"target": 0, "repeat": 0})));
    let e = parse(&orphan).err().unwrap();
    assert!(e.to_string().contains("no experiment record precedes it"), "{e}");
}

#[test]
fn a_log_with_no_header_is_refused_with_a_position() {
    for text in ["", "\n\n", "\n{\"type\":\"targets\",\"targets\":[]}\n"] {
        let e = parse_log(Path::new("events.jsonl"), text).err().unwrap();
        assert!(e.position().is_some(), "{e}");
    }
    let mut lines = valid_log();
    lines.insert(0, String::new());
    assert!(
        parse(&lines).is_ok(),
        "a blank line before the header is harmless"
    );
}

#[test]
fn a_meta_json_of_the_wrong_shape_is_refused_with_a_position() {
    let e = parse_meta(Path::new("meta.json"), "{\n  \"version\": 1,\n  \"id\": 5\n}").unwrap_err();
    assert_eq!(e.position().map(|(line, _)| line), Some(3), "{e}");
}

#[test]
fn unreadable_files_say_why_and_never_that_the_session_is_missing() {
    use std::io::{Error, ErrorKind};
    let path = Path::new("/data/sessions/s1/events.jsonl");
    let e = SessionError::unreadable(path, Error::from(ErrorKind::PermissionDenied));
    let shown = e.to_string();
    assert!(
        shown.starts_with("/data/sessions/s1/events.jsonl: permission denied"),
        "{shown}"
    );
    let e = SessionError::unreadable(path, Error::from(ErrorKind::IsADirectory));
    assert!(e.detail().contains("is a directory"), "{e}");
    let e = SessionError::unreadable(path, Error::from(ErrorKind::NotFound));
    assert!(e.detail().contains("no such session file"), "{e}");
}
