//! `prism completions` and `prism man` are generated from the command line itself: each
//! names every subcommand, so a new subcommand can never be missing from them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const SUBCOMMANDS: [&str; 7] = [
    "run",
    "sessions",
    "replay",
    "rerun",
    "export",
    "stats",
    "completions",
];

fn prism(args: &[&str]) -> String {
    let out = Command::new(PRISM).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_gets_a_script_that_names_every_subcommand() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef prism"),
        ("fish", "complete -c prism"),
    ] {
        let script = prism(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no `{marker}`:\n{script}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: `{sub}` is missing");
        }
    }
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let page = prism(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH prism"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "`{sub}` is missing from the man page");
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_ones_there_are() {
    let out = Command::new(PRISM)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bash") && err.contains("zsh") && err.contains("fish"),
        "{err}"
    );
}
