//! Config mistakes as every command reports them: the real binary, a config with a typo,
//! and the one-line `file:line:col` message with the closest valid name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::{Command, Stdio};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

/// A valid config but for its theme.
const CONFIG: &str = "theme = \"drak\"\n[[target]]\nname = \"local\"\nprovider = \"openai-compatible\"\nmodel = \"llama3.1:8b\"\nbase_url = \"http://127.0.0.1:9/v1\"\n";

const UNKNOWN_THEME: &str = "prism.toml:1:9: unknown theme \"drak\" — did you mean \"dark\"? (themes: dark, light, high-contrast, solar, or a path to a .toml file)";

/// `prism ARGS` in `dir` (so `./prism.toml` is the config found), with the user config
/// directory inside `dir` holding one theme of the user's own.
fn prism_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let xdg = dir.join("xdg");
    std::fs::create_dir_all(xdg.join("prism/themes")).unwrap();
    std::fs::write(xdg.join("prism/themes/solar.toml"), "[roles]\n").unwrap();
    let out = Command::new(PRISM)
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", &xdg)
        .env("PRISM_SESSIONS_DIR", dir.join("sessions"))
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run prism");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn run_refuses_an_unknown_theme_with_its_place_and_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prism.toml"), CONFIG).unwrap();
    let (code, stdout, stderr) = prism_in(dir.path(), &["run", "--config", "prism.toml", "--prompt", "x"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(UNKNOWN_THEME), "{stderr}");
}

#[test]
fn session_commands_report_the_same_theme_mistake() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prism.toml"), CONFIG).unwrap();
    for args in [&["sessions", "list"][..], &["stats"][..]] {
        let (_, _, stderr) = prism_in(dir.path(), args);
        assert!(
            stderr.contains(&format!(
                "warning: {UNKNOWN_THEME}; continuing without the config"
            )),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_known_theme_and_a_theme_file_next_to_the_config_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), "[roles]\n").unwrap();
    for theme in ["solar", "mine.toml"] {
        std::fs::write(dir.path().join("prism.toml"), CONFIG.replace("drak", theme)).unwrap();
        let (_, _, stderr) = prism_in(dir.path(), &["sessions", "list"]);
        assert!(!stderr.contains("theme"), "{theme}: {stderr}");
    }
}

#[test]
fn a_typo_in_a_target_key_is_one_located_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = CONFIG
        .replace("theme = \"drak\"\n", "")
        .replace("model =", "modle =");
    std::fs::write(dir.path().join("prism.toml"), text).unwrap();
    let (code, _, stderr) = prism_in(dir.path(), &["run", "--config", "prism.toml", "--prompt", "x"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "prism: prism.toml:4:1: unknown key \"modle\" in [[target]] — did you mean \"model\"?"
    );
}
