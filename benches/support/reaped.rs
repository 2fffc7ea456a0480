//! Child processes that cannot outlive the bench: [`Reaped`] kills and waits on its child
//! when dropped, so a bench that panics, or returns early, leaves nothing running (a
//! workbench left in a pseudo-terminal nobody reads can run for hours). Shared by the
//! benches that spawn processes (each includes it with `#[path]`).

#![allow(dead_code)] // each bench uses a part

use std::io;
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, ExitStatus, Output};

/// A spawned child, killed (if still running) and reaped when dropped.
#[derive(Debug)]
pub struct Reaped(Option<Child>);

impl Reaped {
    /// Spawns `cmd`; panics with the program's name if it cannot start.
    pub fn spawn(cmd: &mut Command) -> Reaped {
        match Self::try_spawn(cmd) {
            Ok(child) => child,
            Err(e) => panic!("cannot start {:?}: {e}", cmd.get_program()),
        }
    }

    /// Spawns `cmd`, or says why it cannot start (not installed, say).
    pub fn try_spawn(cmd: &mut Command) -> io::Result<Reaped> {
        cmd.spawn().map(|child| Reaped(Some(child)))
    }

    /// Waits for the child to exit by itself.
    pub fn wait(&mut self) -> ExitStatus {
        self.child_mut().wait().expect("waiting for a child process")
    }

    /// Waits for the child to exit, collecting the output it was spawned to pipe.
    pub fn wait_with_output(mut self) -> Output {
        let child = self.0.take().expect("the child is still held");
        // Nothing can unwind between here and the wait: the child is reaped by it.
        child.wait_with_output().expect("waiting for a child process")
    }

    fn child_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is still held")
    }
}

/// `cmd`'s exit status, run to the end like [`Command::status`] but reaped on every path.
pub fn status(cmd: &mut Command) -> io::Result<ExitStatus> {
    Ok(Reaped::try_spawn(cmd)?.wait())
}

impl Deref for Reaped {
    type Target = Child;

    fn deref(&self) -> &Child {
        self.0.as_ref().expect("the child is still held")
    }
}

impl DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Child {
        self.child_mut()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            // Already exited is fine: the wait still reaps it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
