//! A workbench whose terminal goes away ends, and does not spin on the way.
//!
//! Each test runs the real `prism --demo` in a pseudo-terminal from `script` (util-linux),
//! waits until it has drawn, then takes the terminal away: SIGHUP sent to the workbench, or
//! `script` killed so the pseudo-terminal's master side closes. In the second case the shell
//! that owns the terminal ignores SIGHUP and the workbench is not the session leader, so the
//! kernel sends it no signal at all: only noticing the hang-up itself can end it (before,
//! crossterm's reader retried the failing read for ever at a full core).
//!
//! The workbench must exit within a generous hang guard, with SIGHUP's status (129), and the
//! CPU it used after the terminal went (utime + stime from `/proc/PID/stat`, sampled until it
//! exits) must stay far below what a spin burns in that time. Without `script` the tests say
//! why and pass.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::script_available;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
/// Only a hung or spinning workbench reaches it.
const HANG_GUARD: Duration = Duration::from_secs(10);
/// Start-up (a debug build, a busy machine) is given longer than the exit.
const START_GUARD: Duration = Duration::from_secs(60);
/// Drawn when the demo's first target's model is on the screen.
const DRAWN: &str = "gpt-4o-mini";
/// CPU seconds the workbench may use between losing its terminal and exiting. Quitting
/// takes milliseconds; a spin burns about one second of CPU per second until the guard.
const CPU_AFTER_HANG_UP: f64 = 2.0;

/// `prism --demo` in its own pseudo-terminal; kills and reaps everything it started when
/// dropped, the workbench included, so a failing test leaves nothing running.
struct Workbench {
    dir: tempfile::TempDir,
    script: Child,
    /// The pty's input, until a test closes it.
    input: Arc<Mutex<Option<ChildStdin>>>,
    reader: Option<JoinHandle<()>>,
    screen: Arc<Mutex<Vec<u8>>>,
    pid: Option<u32>,
}

impl Workbench {
    /// `shell_before` and `shell_after` wrap the workbench in the pty's shell; the workbench
    /// runs in a child shell that records its pid and then becomes it, with stderr to `err`.
    fn drawn(shell_before: &str, shell_after: &str) -> Workbench {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let workbench = format!(
            "sh -c 'echo $$ > {pid}; exec {PRISM} --demo --sessions-dir {sessions} 2>{err}'",
            pid = path("pid"),
            sessions = path("sessions"),
            err = path("err"),
        );
        let shell = format!(
            "{shell_before} stty cols 120 rows 30; {workbench}; echo $? > {rc}; {shell_after}",
            rc = path("rc"),
        );
        let mut script = Command::new("script")
            .args(["-qfec", &shell, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm-256color")
            .env_remove("PRISM_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let input = Arc::new(Mutex::new(script.stdin.take()));
        let mut output = script.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&screen);
        let answers = Arc::clone(&input);
        let reader = std::thread::spawn(move || {
            let mut answered = false;
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut seen = seen.lock().unwrap();
                seen.extend_from_slice(&buf[..n]);
                // Answer the device-attributes query as a terminal would; the workbench asks
                // it after the keyboard-protocol query and would otherwise wait it out.
                if !answered
                    && contains(&seen, b"\x1b[c")
                    && let Some(input) = answers.lock().unwrap().as_mut()
                {
                    let _ = input.write_all(b"\x1b[?62c").and_then(|()| input.flush());
                    answered = true;
                }
            }
            // The input stays open until a test closes it ([`Workbench::close_input`]):
            // closing it sends the pty an end of file.
        });
        let mut wb = Workbench {
            dir,
            script,
            input,
            reader: Some(reader),
            screen,
            pid: None,
        };
        let pid = wb.wait_for_file("pid");
        wb.pid = Some(pid.parse().unwrap());
        wb.wait_until("the first frame", START_GUARD, |wb| {
            contains(&wb.screen.lock().unwrap(), DRAWN.as_bytes())
        });
        wb
    }

    /// [`Workbench::drawn`], then idle.
    fn start(shell_before: &str, shell_after: &str) -> Workbench {
        let wb = Workbench::drawn(shell_before, shell_after);
        // Idle, as a forgotten workbench is: work still pending after the first frame (the
        // tokenizer tables load, then a frame) would meet the dead terminal by itself.
        let mut last = cpu_seconds(wb.pid());
        wb.wait_until("an idle workbench", START_GUARD, |wb| {
            std::thread::sleep(Duration::from_millis(300));
            let now = cpu_seconds(wb.pid());
            std::mem::replace(&mut last, now) == now
        });
        wb
    }

    /// Close the pty's input, as a harness that is done with the terminal does: the
    /// workbench reads an end of file.
    fn close_input(&self) {
        self.input.lock().unwrap().take();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pid(&self) -> u32 {
        self.pid.unwrap()
    }

    fn wait_until(&self, what: &str, guard: Duration, mut done: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < guard,
                "no {what} within {guard:?}; screen so far:\n{}",
                String::from_utf8_lossy(&self.screen.lock().unwrap())
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_file(&self, name: &str) -> String {
        let path = self.path(name);
        let mut text = String::new();
        self.wait_until(&format!("file {name}"), START_GUARD, |_| {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            text.ends_with('\n')
        });
        text.trim().to_string()
    }

    /// Samples the workbench's CPU seconds until it has exited; the last sample. Fails if it
    /// is still running after the hang guard.
    fn cpu_until_exit(&self) -> f64 {
        let start = Instant::now();
        let mut last = 0.0;
        while let Some(cpu) = cpu_seconds(self.pid()) {
            last = cpu;
            assert!(
                start.elapsed() < HANG_GUARD,
                "the workbench still runs {HANG_GUARD:?} after losing its terminal, \
                 having used {cpu:.2} s of CPU"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        last
    }

    /// The exit status the pty's shell recorded for the workbench.
    fn status(&self) -> String {
        self.wait_for_file("rc")
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("err")).unwrap_or_default()
    }
}

impl Drop for Workbench {
    fn drop(&mut self) {
        if let Some(pid) = self.pid
            && cpu_seconds(pid).is_some()
        {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        let _ = self.script.kill();
        let _ = self.script.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// User plus system CPU seconds of a running process; `None` once it has exited (gone, or a
/// zombie waiting for its parent).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    let ticks: f64 = fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?;
    Some(ticks / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn assert_quiet_exit(wb: &Workbench, before: f64, how: &str) {
    let after = wb.cpu_until_exit();
    assert!(
        after - before < CPU_AFTER_HANG_UP,
        "{how}: the workbench used {:.2} s of CPU between losing its terminal and exiting",
        after - before
    );
    assert_eq!(wb.status(), "129", "{how}: exit status; stderr: {}", wb.stderr());
}

#[test]
fn sighup_ends_the_workbench() {
    if !script_available() {
        return;
    }
    let wb = Workbench::start("", "");
    let before = cpu_seconds(wb.pid()).unwrap();
    let sent = Command::new("kill")
        .args(["-HUP", &wb.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert_quiet_exit(&wb, before, "SIGHUP");
    assert_eq!(wb.stderr().trim(), "prism: SIGHUP received; the workbench closed");
}

#[test]
fn a_hung_up_terminal_ends_the_workbench_without_any_signal() {
    if !script_available() {
        return;
    }
    // The shell owning the terminal ignores SIGHUP and outlives the workbench, so the
    // kernel signals nobody in the workbench's process group when the terminal goes.
    let mut wb = Workbench::start("trap '' HUP;", "exit 0");
    let before = cpu_seconds(wb.pid()).unwrap();
    // Killing `script` closes the pseudo-terminal's master side: the terminal hangs up.
    wb.script.kill().unwrap();
    wb.script.wait().unwrap();
    assert_quiet_exit(&wb, before, "terminal hang-up");
    assert_eq!(
        wb.stderr().trim(),
        "prism: the terminal hung up; the workbench closed"
    );
}

#[test]
fn a_terminal_closed_right_after_the_first_frame_ends_the_workbench() {
    if !script_available() {
        return;
    }
    // As a harness does when it has seen what it waited for: the input closes (an end of
    // file on the terminal) and `script` is killed, while the workbench is still busy
    // after its first frame. crossterm's reader can then be stuck retrying the read at
    // end of file inside a poll that never returns; quitting must not wait for it.
    for round in 1..=3 {
        let mut wb = Workbench::drawn("", "");
        let before = cpu_seconds(wb.pid()).unwrap();
        wb.close_input();
        wb.script.kill().unwrap();
        wb.script.wait().unwrap();
        // The shell around it dies with the terminal, so no exit status is recorded: what
        // counts is that the workbench ends, quickly and without spinning.
        let after = wb.cpu_until_exit();
        assert!(
            after - before < CPU_AFTER_HANG_UP,
            "round {round}: the workbench used {:.2} s of CPU between losing its terminal and exiting",
            after - before
        );
    }
}
