//! Microsoft Entra ID tokens from the Azure CLI, with `az` faked by a shell script: the
//! token is cached until it is about to expire and then fetched again, concurrent callers
//! share one run, the run never blocks the async runtime, a CLI that fails, hangs or is
//! missing ends in one line that says what to do, and the token is masked wherever text
//! leaves the process.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use prism::provider::azure::cli::CliTokens;
use prism::provider::event::ErrorKind;

/// A fake `az` in `dir` running `body`; every run appends a line to `runs`.
fn fake_az(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("az");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\n{body}\n",
        dir.join("runs").display()
    );
    // Written by a child process: a file this process held open for writing could be
    // inherited by a test thread forking at that moment, and exec would then fail with
    // "Text file busy".
    let mut writer = std::process::Command::new("sh")
        .arg("-c")
        .arg("cat > \"$0\" && chmod 755 \"$0\"")
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writer.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(writer.wait().unwrap().success());
    path
}

fn runs(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("runs"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A script that answers with a new token per run, valid for `seconds`.
fn answering(valid_for: u64) -> String {
    format!(
        "n=$(wc -l < \"$(dirname \"$0\")/runs\" | tr -d ' ')\nexp=$(( $(date +%s) + {valid_for} ))\nprintf '{{\"accessToken\":\"entra-tok-%s-Zq81xPw\",\"expiresOn\":\"2030-01-01 10:00:00.000000\",\"expires_on\":%s,\"subscription\":\"sub\",\"tenant\":\"ten\",\"tokenType\":\"Bearer\"}}\\n' \"$n\" \"$exp\""
    )
}

#[tokio::test]
async fn a_token_is_kept_until_it_nearly_expires() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), &answering(3600));
    let tokens = CliTokens::new(&az, Duration::from_secs(10));
    assert!(
        tokens.cached().is_none(),
        "nothing is fetched before it is asked for"
    );
    let first = tokens.token().await.unwrap();
    let again = tokens.token().await.unwrap();
    assert_eq!(first.expose(), "entra-tok-1-Zq81xPw");
    assert_eq!(again, first);
    assert_eq!(tokens.cached(), Some(first));
    assert_eq!(
        runs(dir.path()),
        ["account get-access-token --resource https://cognitiveservices.azure.com --output json"]
    );
}

#[tokio::test]
async fn a_token_with_less_than_five_minutes_left_is_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), &answering(120));
    let tokens = CliTokens::new(&az, Duration::from_secs(10));
    let first = tokens.token().await.unwrap();
    assert!(tokens.cached().is_none(), "two minutes left is too few to keep");
    let second = tokens.token().await.unwrap();
    assert_eq!(
        (first.expose(), second.expose()),
        ("entra-tok-1-Zq81xPw", "entra-tok-2-Zq81xPw")
    );
    assert_eq!(runs(dir.path()).len(), 2);
}

#[tokio::test]
async fn callers_at_once_share_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), &format!("sleep 0.2\n{}", answering(3600)));
    let tokens = CliTokens::new(&az, Duration::from_secs(10));
    let (a, b, c) = tokio::join!(tokens.token(), tokens.token(), tokens.token());
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(c.unwrap().expose(), "entra-tok-1-Zq81xPw");
    assert_eq!(runs(dir.path()).len(), 1);
}

/// On a single-threaded runtime the fake CLI waits for a file that another task of the
/// same runtime writes: if running it blocked the thread, that task could never run and
/// the CLI would give up.
#[tokio::test(flavor = "current_thread")]
async fn running_the_cli_never_blocks_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let az = fake_az(
        dir.path(),
        &format!(
            "i=0\nwhile [ ! -e '{}' ]; do i=$((i+1)); if [ $i -gt 100 ]; then echo 'ERROR: nobody said go' >&2; exit 3; fi; sleep 0.05; done\n{}",
            go.display(),
            answering(3600)
        ),
    );
    let tokens = CliTokens::new(&az, Duration::from_secs(30));
    let writer = async {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::fs::write(&go, "").unwrap();
    };
    let (token, ()) = tokio::join!(tokens.token(), writer);
    assert_eq!(token.unwrap().expose(), "entra-tok-1-Zq81xPw");
}

#[tokio::test]
async fn a_failing_cli_says_to_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(
        dir.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let e = CliTokens::new(&az, Duration::from_secs(10))
        .token()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::MissingKey);
    assert_eq!(
        e.message,
        "the Azure CLI gave no token (`az account get-access-token` exited with status 1: Please run 'az login' to setup account.); run `az login`"
    );
}

#[tokio::test]
async fn a_missing_cli_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let e = CliTokens::new(dir.path().join("az"), Duration::from_secs(10))
        .token()
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "azure_auth = \"cli\" needs the Azure CLI, and `az` is not on PATH: install it and run `az login`, or use azure_auth = \"key\""
    );
}

#[tokio::test]
async fn an_answer_without_a_token_is_refused_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), "echo '{\"token\": \"not-the-field-Zq81\"}'");
    let e = CliTokens::new(&az, Duration::from_secs(10))
        .token()
        .await
        .unwrap_err();
    assert!(e.message.contains("has no accessToken"), "{}", e.message);
    assert!(!e.message.contains("Zq81"), "{}", e.message);
}

#[tokio::test]
async fn a_hanging_cli_is_stopped_at_its_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let az = fake_az(
        dir.path(),
        &format!("echo $$ > '{}'\nexec sleep 30", pid_file.display()),
    );
    let e = CliTokens::new(&az, Duration::from_millis(300))
        .token()
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "`az account get-access-token` did not answer within 0.3 s: run it in a terminal to see why (`az login` may be needed)"
    );
    // The run was killed, not left sleeping (a zombie awaiting its reaper is fine).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    for _ in 0..100 {
        match std::fs::read_to_string(&stat) {
            Err(_) => return,
            Ok(s) if s.rsplit(')').next().unwrap().trim_start().starts_with('Z') => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("the timed-out `az` is still running");
}

#[tokio::test]
async fn the_token_is_masked_in_everything_written() {
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), &answering(3600));
    let token = CliTokens::new(&az, Duration::from_secs(10))
        .token()
        .await
        .unwrap();
    assert_eq!(
        prism::provider::secret::mask(&format!("server echoed {}", token.expose())),
        "server echoed [redacted]"
    );
    assert_eq!(format!("{token:?}"), "ApiKey(<redacted>)");
}
