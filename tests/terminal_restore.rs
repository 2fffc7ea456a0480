//! The terminal comes back as it was, checked in a real pseudo-terminal.
//!
//! Each test starts a private tmux server (its own socket, no user config) whose one pane runs a
//! small shell script: record `stty -g`, run `examples/terminal_probe` in one mode (normal exit,
//! panic on another thread, SIGTERM or SIGHUP while drawing, a hung app sent SIGTERM until it
//! goes, suspend and resume), record its exit status and `stty -g` again. tmux then tells whether the pane was left on the alternate
//! screen, with the cursor hidden or mouse reporting on. The probe is built once per test run with
//! the same cargo, target directory and profile as this test, because cargo offers no
//! `CARGO_BIN_EXE_` path for examples. The last tests run the real workbench (`prism --demo`)
//! the same way and check its exit status after each termination signal and after Ctrl+C as a
//! key. Without tmux the tests print why and pass.
//!
//! Nothing here asserts on time: every wait polls with a generous limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Far longer than any step needs; only a hung probe reaches it.
const PATIENCE: Duration = Duration::from_secs(120);

static NEXT_SOCKET: AtomicUsize = AtomicUsize::new(0);

fn tmux_available() -> bool {
    common::tool_available("tmux", "-V", "tmux", "the terminal restore tests need a real pty")
}

/// Variables cargo sets for a test process (by prefix), as opposed to the user's own
/// configuration such as `CARGO_HOME` or `CARGO_TARGET_DIR`.
const CARGO_SETS_FOR_TESTS: [&str; 8] = [
    "CARGO_MANIFEST_",
    "CARGO_PKG_",
    "CARGO_CRATE_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_BIN_",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Builds `examples/terminal_probe` next to this test binary and returns its path.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        // This binary is <target>/<profile dir>/deps/terminal_restore-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()).unwrap() {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        let mut build = Command::new(env!("CARGO"));
        // Cargo gives this test the package's own variables (CARGO_MANIFEST_DIR...); some build
        // scripts watch those, so passing them on would make the nested build and the next
        // outer one rebuild each other's dependencies every time.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if CARGO_SETS_FOR_TESTS.iter().any(|prefix| key.starts_with(prefix)) {
                build.env_remove(&*key);
            }
        }
        let status = build
            .args([
                "build",
                "--quiet",
                "--example",
                "terminal_probe",
                "--profile",
                &profile,
            ])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building the terminal_probe example failed");
        let path = profile_dir.join("examples").join("terminal_probe");
        assert!(path.exists(), "{} was not built", path.display());
        path
    })
}

/// A private tmux server running one probe in a 100x30 pane; killed on drop.
struct Session {
    socket: String,
    dir: tempfile::TempDir,
}

impl Session {
    fn start(mode: &str) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let command = format!(
            "'{probe}' {mode} '{dir}'",
            probe = probe().display(),
            dir = dir.path().display()
        );
        Session::run(dir, mode, &command)
    }

    /// The real workbench (`prism --demo`, no keys, no network) with its sessions, log and
    /// config directories inside the test's own. `ready` gets its pid before it starts
    /// (`exec` keeps the pid); `raw` is recorded by [`Session::record_raw`].
    fn start_workbench(name: &str) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let command = format!(
            "PRISM_SESSIONS_DIR='{d}/sessions' PRISM_LOG_DIR='{d}/log' XDG_CONFIG_HOME='{d}/config' \
             XDG_DATA_HOME='{d}/data' XDG_STATE_HOME='{d}/state' \
             sh -c 'echo $$ > ready; exec \"$0\" --demo' '{prism}'",
            prism = env!("CARGO_BIN_EXE_prism"),
        );
        Session::run(dir, name, &command)
    }

    fn run(dir: tempfile::TempDir, mode: &str, command: &str) -> Session {
        let script = format!(
            "cd '{dir}' || exit 1\nstty -g > before\n{command}\necho $? > rc\n\
             stty -g > after\necho done > finished\nexec sleep 3600\n",
            dir = dir.path().display(),
        );
        std::fs::write(dir.path().join("run.sh"), script).unwrap();
        let session = Session {
            // Unique per session: two tests may probe the same mode at once.
            socket: format!(
                "prism-restore-{}-{mode}-{}",
                std::process::id(),
                NEXT_SOCKET.fetch_add(1, Ordering::Relaxed)
            ),
            dir,
        };
        let run = format!("sh '{}'", session.path("run.sh").display());
        let start = [
            "new-session",
            "-d",
            "-s",
            "probe",
            "-x",
            "100",
            "-y",
            "30",
            &run,
            ";",
            // Keeps the screen of a script that died early, for the failure message (the script
            // normally never exits; see `wait_for_exit`).
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
        ];
        session.tmux_ok(&start);
        session
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    /// Runs a tmux command that must succeed. A tmux server that dies while starting (seen now
    /// and then with several servers starting at once) gets a few more tries.
    fn tmux_ok(&self, args: &[&str]) {
        let mut out = self.tmux(args);
        // Under heavy load a starting tmux server occasionally dies or is not yet
        // reachable; a few spaced tries ride that out without hiding real failures.
        for attempt in 1..5 {
            let err = String::from_utf8_lossy(&out.stderr);
            let transient =
                err.contains("exited") || err.contains("no server") || err.contains("error connecting");
            if out.status.success() || !transient {
                break;
            }
            std::thread::sleep(Duration::from_millis(200 * attempt));
            out = self.tmux(args);
        }
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn format(&self, fmt: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "probe", fmt]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn wait_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < PATIENCE,
                "gave up waiting for {what}; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_file(&self, name: &str) -> String {
        let path = self.path(name);
        self.wait_until(name, || {
            std::fs::read_to_string(&path).is_ok_and(|s| !s.trim().is_empty())
        });
        std::fs::read_to_string(path).unwrap().trim().to_string()
    }

    /// Waits for the probe to end. The script then sleeps rather than exits: tmux hides the
    /// cursor of a dead pane, which would hide what the probe left behind.
    fn wait_for_exit(&self) {
        self.wait_for_file("finished");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "probe"]).stdout).into()
    }

    fn signal(&self, name: &str) {
        let pid = self.wait_for_file("ready");
        self.wait_for_modes();
        let status = Command::new("kill").args(["-s", name, &pid]).status().unwrap();
        assert!(status.success(), "kill -s {name} {pid} failed");
    }

    /// The modes really are on (tmux may not have read the program's output yet: poll).
    fn wait_for_modes(&self) {
        let entered = "#{alternate_on} #{mouse_any_flag} #{mouse_sgr_flag}";
        self.wait_until("the modes to show", || self.format(entered) == "1 1 1");
    }

    /// Records the pane's terminal settings in `raw`, as the probe does itself, for a
    /// program that does not (the workbench). Call once its modes show.
    fn record_raw(&self) {
        let tty = self.format("#{pane_tty}");
        let out = Command::new("stty").args(["-g", "-F", &tty]).output().unwrap();
        assert!(
            out.status.success(),
            "stty -F {tty}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(self.path("raw"), out.stdout).unwrap();
    }

    /// The checks every mode shares: modes were really entered, then all undone.
    fn assert_restored(&self, expected_rc: &str) {
        self.wait_for_exit();
        let before = self.wait_for_file("before");
        let raw = self.wait_for_file("raw");
        assert_ne!(before, raw, "the probe never entered raw mode");
        assert_eq!(self.wait_for_file("rc"), expected_rc, "exit status");
        assert_eq!(
            self.wait_for_file("after"),
            before,
            "stty settings were not restored"
        );
        let flags = "#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag} \
                     #{mouse_standard_flag} #{mouse_sgr_flag}";
        assert_eq!(
            self.format(flags),
            "0 1 0 0 0 0",
            "alternate screen / cursor / mouse not restored ({flags}); screen:\n{}",
            self.screen()
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn normal_exit_restores() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("normal");
    session.assert_restored("0");
}

#[test]
fn panic_in_a_spawned_thread_restores_before_the_message() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("panic");
    session.assert_restored("101");
    // Printed after leaving the alternate screen, so it is still on the normal one.
    let screen = session.screen();
    assert!(
        screen.contains("probe panic in a worker thread"),
        "panic message lost:\n{screen}"
    );
}

#[test]
fn sigterm_while_busy_restores() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("signal");
    session.signal("TERM");
    session.assert_restored("143");
}

#[test]
fn sighup_while_busy_restores() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("signal");
    session.signal("HUP");
    session.assert_restored("129");
}

#[test]
fn repeated_sigterm_restores_a_hung_app() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("stuck");
    let pid = session.wait_for_file("ready");
    // The first signal goes to the app, which never reads it; a later one makes the watcher
    // restore and exit. Signals sent close together may merge, so keep sending until it ends.
    session.wait_until("the hung probe to end", || {
        let _ = Command::new("kill").args(["-s", "TERM", &pid]).status();
        std::thread::sleep(Duration::from_millis(200));
        session.path("finished").exists()
    });
    session.assert_restored("143");
}

#[test]
fn suspend_gives_the_terminal_back_and_resume_takes_it_again() {
    if !tmux_available() {
        return;
    }
    let session = Session::start("suspend");
    session.assert_restored("0");
    assert_eq!(
        session.wait_for_file("suspended"),
        session.wait_for_file("before"),
        "suspend left the terminal in raw mode"
    );
    assert_eq!(
        session.wait_for_file("resumed"),
        session.wait_for_file("raw"),
        "resume did not enter raw mode again"
    );
}

/// The workbench itself, ended by each termination signal: the terminal comes back and the
/// exit status is the shell's `128 + n`.
#[test]
fn the_workbench_exits_128_plus_the_signal_number() {
    if !tmux_available() {
        return;
    }
    let sessions: Vec<(Session, &str)> = [("TERM", "143"), ("HUP", "129"), ("INT", "130"), ("QUIT", "131")]
        .into_iter()
        .map(|(name, rc)| {
            let session = Session::start_workbench(&format!("workbench-{name}"));
            session.wait_for_modes();
            session.record_raw();
            session.signal(name);
            (session, rc)
        })
        .collect();
    for (session, rc) in &sessions {
        session.assert_restored(rc);
    }
}

/// Ctrl+C in raw mode is a key, not SIGINT: it quits the workbench normally.
#[test]
fn ctrl_c_as_a_key_quits_the_workbench_with_0() {
    if !tmux_available() {
        return;
    }
    let session = Session::start_workbench("workbench-ctrl-c");
    session.wait_for_modes();
    session.record_raw();
    session.tmux_ok(&["send-keys", "-t", "probe", "C-c"]);
    session.assert_restored("0");
}
