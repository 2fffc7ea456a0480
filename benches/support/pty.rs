//! A command on a pseudo-terminal of its own, the bench holding the terminal's side: what
//! a terminal emulator does, with nothing relaying between the two. (`script` relays the
//! bench's answers to the workbench's terminal queries through a pipe and its own poll
//! loop, which added 10-20 ms to every start-up it measured.)

#![allow(dead_code)] // each bench uses a part

use std::fs::File;
use std::io;
use std::process::{Child, Command};

use rustix::process::{Pid, Signal, kill_process_group};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

/// A child on a pseudo-terminal; the terminal's side is `master`. Dropping it kills and
/// reaps the child's whole session.
#[derive(Debug)]
pub struct OnPty {
    pub master: File,
    child: Option<Child>,
}

impl OnPty {
    /// `sh -c shell` on a new `cols` × `rows` pseudo-terminal, which `setsid --ctty` makes
    /// its controlling terminal (as a terminal emulator's shell has one).
    pub fn spawn(shell: &str, cols: u16, rows: u16, env: &[(&str, &std::path::Path)]) -> io::Result<OnPty> {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        tcsetwinsize(&master, size)?;
        let name = ptsname(&master, Vec::new())?;
        let slave = File::options()
            .read(true)
            .write(true)
            .open(name.to_str().map_err(io::Error::other)?)?;
        let mut c = Command::new("setsid");
        c.args(["--ctty", "sh", "-c", shell])
            .env("TERM", "xterm-256color")
            .stdin(slave.try_clone()?)
            .stdout(slave.try_clone()?)
            .stderr(slave);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn()?;
        Ok(OnPty {
            master: File::from(master),
            child: Some(child),
        })
    }
}

impl Drop for OnPty {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // `setsid`, not a group leader when spawned, makes its own session without forking
        // and execs the shell: the new group's id is the child's.
        if let Some(pid) = Pid::from_raw(child.id() as i32) {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
