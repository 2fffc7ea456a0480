//! `prism run` output as people paste it: the table fits the terminal, progress stays
//! off a captured stderr, and bad prompts are refused before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::process::{Command, Stdio};

use unicode_width::UnicodeWidthStr;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn prism(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let out = Command::new(PRISM)
        .args(args)
        .current_dir(dir)
        .env("PRISM_SESSIONS_DIR", dir.join("sessions"))
        .env("XDG_CONFIG_HOME", dir)
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run prism");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn a_captured_stderr_gets_no_progress_and_the_table_fits_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let ran = prism(
        dir.path(),
        &["run", "--demo", "all", "--format", "table", "--prompt", "hello"],
        &[("COLUMNS", "80")],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // Only the session line: no progress lines, no cursor movement.
    assert!(!ran.stderr.contains('\x1b'), "{:?}", ran.stderr);
    assert!(
        !ran.stderr.contains("streaming") && !ran.stderr.contains("TTFT"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.starts_with("session: "), "{}", ran.stderr);
    let table_start = ran.stdout.find(" target ").expect("a table");
    let table = &ran.stdout[ran.stdout[..table_start].rfind('\n').unwrap_or(0)..];
    for line in table.lines() {
        assert!(line.width() <= 80, "{} columns: {line}\n{table}", line.width());
    }
    assert!(
        table.contains("TTFT ms") && table.contains("gpt-4o-mini"),
        "{table}"
    );
}

#[test]
fn a_piped_table_without_columns_keeps_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--demo",
            "--format",
            "table",
            "--prompt",
            "hello",
            "--no-save",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    for column in ["request id", "retries", "TTFB ms", "http"] {
        assert!(ran.stdout.contains(column), "{column}:\n{}", ran.stdout);
    }
    assert!(!ran.stdout.contains("not shown"), "{}", ran.stdout);
}

#[test]
fn an_empty_prompt_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.md");
    std::fs::write(&empty, " \n").unwrap();
    for args in [
        &["run", "--demo", "--prompt", ""][..],
        &["run", "--demo", "--prompt", "  \n"][..],
        &["run", "--demo", "--prompt-file", empty.to_str().unwrap()][..],
    ] {
        let ran = prism(dir.path(), args, &[]);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains("empty"), "{}", ran.stderr);
        assert_eq!(ran.stderr.trim().lines().count(), 1, "one line: {}", ran.stderr);
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    }
    assert!(!dir.path().join("sessions").exists(), "nothing was saved");
}

#[test]
fn name_and_tags_are_saved_and_found_by_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--demo",
            "--prompt",
            "hi",
            "--format",
            "jsonl",
            "--name",
            "nightly check",
            "--tag",
            "gateway-a",
            "--tag",
            "canary",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let other = prism(
        dir.path(),
        &["run", "--demo", "--prompt", "hi", "--format", "jsonl"],
        &[],
    );
    assert_eq!(other.code, 0, "{}", other.stderr);
    let list = prism(
        dir.path(),
        &["sessions", "list", "--json", "--filter", "CANARY"],
        &[],
    );
    assert_eq!(list.code, 0, "{}", list.stderr);
    let found: Vec<serde_json::Value> = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "nightly check", "{found:?}");
    assert_eq!(
        found[0]["tags"],
        serde_json::json!(["gateway-a", "canary"]),
        "{found:?}"
    );
}

#[test]
fn export_puts_several_sessions_or_a_filter_into_one_csv() {
    let dir = tempfile::tempdir().unwrap();
    for tag in ["nightly", "nightly", "adhoc"] {
        let ran = prism(
            dir.path(),
            &[
                "run", "--demo", "--prompt", "hi", "--format", "jsonl", "--tag", tag,
            ],
            &[],
        );
        assert_eq!(ran.code, 0, "{}", ran.stderr);
    }
    let csv = prism(
        dir.path(),
        &["export", "--format", "csv", "--filter", "nightly"],
        &[],
    );
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut r = csv::Reader::from_reader(csv.stdout.as_bytes());
    let headers = r.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "timestamp"), "{headers:?}");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let sessions: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(sessions.len(), 2, "two tagged sessions: {sessions:?}");
    assert_eq!(rows.len(), 2 * 4, "four demo targets each");

    let md = prism(
        dir.path(),
        &["export", "--format", "md", "--filter", "nightly"],
        &[],
    );
    assert_eq!(md.code, 2, "{}", md.stderr);
    assert!(md.stderr.contains("--format csv"), "{}", md.stderr);
    let none = prism(
        dir.path(),
        &["export", "--format", "csv", "--filter", "nope"],
        &[],
    );
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("no session"), "{}", none.stderr);
}
