//! The prompt editor command: `$VISUAL`/`$EDITOR` split like a shell, a real program run
//! on a fresh `.md` temporary file, and the file gone afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io::Write;
use std::path::{Path, PathBuf};

use prism::tui::editor::{EditorCommand, PromptFile};

/// An executable `sh` script at `path`, written by a child process: a file this process
/// held open for writing could be inherited by a test thread forking at that moment, and
/// exec would then fail with "Text file busy".
fn script(path: &Path, body: &str) -> PathBuf {
    let mut writer = std::process::Command::new("sh")
        .arg("-c")
        .arg("cat > \"$0\" && chmod 755 \"$0\"")
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writer
        .stdin
        .take()
        .unwrap()
        .write_all(format!("#!/bin/sh\n{body}\n").as_bytes())
        .unwrap();
    assert!(writer.wait().unwrap().success());
    path.to_path_buf()
}

fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |var| pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())
}

#[test]
fn a_quoted_path_with_spaces_and_flags_runs_on_a_fresh_md_file() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("My Editor");
    std::fs::create_dir(&home).unwrap();
    let args_log = dir.path().join("args");
    // Records its arguments, one a line, and appends to the file it was given (the last).
    let ed = script(
        &home.join("ed"),
        &format!(
            "for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\nfor last in \"$@\"; do :; done\nprintf ' and more' >> \"$last\"",
            args_log.display()
        ),
    );
    let value = format!("'{}' --wait -n", ed.display());
    let editor = EditorCommand::from_env(&env(vec![("EDITOR", value)])).unwrap();
    let file = PromptFile::create("hello").unwrap();
    let path = file.path().to_path_buf();
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("prism-prompt-") && name.ends_with(".md"),
        "{name}"
    );
    assert!(!name.contains(&std::process::id().to_string()), "{name}");
    editor.run(&path).unwrap();
    assert_eq!(file.read().unwrap(), "hello and more");
    assert!(!path.exists(), "the temporary file is removed");
    let args = std::fs::read_to_string(&args_log).unwrap();
    assert_eq!(args, format!("--wait\n-n\n{}\n", path.display()));
}

#[test]
fn visual_comes_first_and_an_empty_one_is_unset() {
    let words = |pairs: Vec<(&'static str, String)>| EditorCommand::from_env(&env(pairs)).unwrap();
    let visual = words(vec![("VISUAL", "true".into()), ("EDITOR", "false".into())]);
    assert!(visual.run(Path::new("/dev/null")).is_ok());
    let fallback = words(vec![("VISUAL", " ".into()), ("EDITOR", "false".into())]);
    let e = fallback.run(Path::new("/dev/null")).unwrap_err();
    assert!(
        e.starts_with("$EDITOR (\"false\") exited with ") && e.ends_with("; the prompt is unchanged"),
        "{e}"
    );
    assert_eq!(words(vec![]).words(), ["vi"]);
    assert_eq!(
        words(vec![(
            "EDITOR",
            r#"code --wait "--user-data-dir=/tmp/a b""#.into()
        )])
        .words(),
        ["code", "--wait", "--user-data-dir=/tmp/a b"]
    );
}

#[test]
fn an_editor_a_shell_could_not_split_is_one_line_naming_the_variable() {
    let e = EditorCommand::from_env(&env(vec![("EDITOR", "'code --wait".into())])).unwrap_err();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("$EDITOR (\"'code --wait\") is not a command line a shell could run ("),
        "{e}"
    );
    assert!(e.ends_with("fix it, e.g. EDITOR=\"code --wait\""), "{e}");
}

#[test]
fn a_missing_program_says_so_and_the_file_is_still_removed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such editor");
    let value = shell_quote(&missing);
    let editor = EditorCommand::from_env(&env(vec![("EDITOR", value)])).unwrap();
    let file = PromptFile::create("x").unwrap();
    let path = file.path().to_path_buf();
    let e = editor.run(&path).unwrap_err();
    assert!(e.starts_with("cannot run $EDITOR ("), "{e}");
    assert!(e.ends_with("; the prompt is unchanged"), "{e}");
    drop(file);
    assert!(!path.exists());
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display())
}
