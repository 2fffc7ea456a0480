//! A panic inside one target's work ends that target with an error, not the app.
//!
//! Whatever goes wrong while a target is being sent (a bug, a parser meeting input nobody
//! foresaw) must stay in its pane: the other targets keep streaming and the workbench keeps
//! its terminal. Work run through [`contained`] is polled with a per-thread flag raised, and
//! the process panic hook installed here sees the flag: it logs the panic (message and
//! location) instead of printing it over the screen, and leaves the terminal alone. Panics
//! anywhere else still reach the previous hook (which restores the terminal and prints).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};

use futures_util::FutureExt;

thread_local! {
    /// How many contained polls are running on this thread (they can nest).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// What the hook saw of the last contained panic on this thread.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic caught by [`contained`]: its message and, when known, where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

/// Whether the current thread is inside contained work (the panic hook asks).
pub fn active() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Run `work`; a panic inside it comes back as `Err` instead of unwinding further.
pub async fn contained<F: Future>(work: F) -> Result<F::Output, Panicked> {
    install_hook();
    AssertUnwindSafe(Flagged(Box::pin(work)))
        .catch_unwind()
        .await
        .map_err(|payload| Panicked(describe(payload.as_ref())))
}

/// [`contained`] for synchronous work.
pub fn contained_sync<T>(work: impl FnOnce() -> T) -> Result<T, Panicked> {
    install_hook();
    let _flag = Flag::raise();
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| Panicked(describe(payload.as_ref())))
}

/// Polls the inner future with the thread's flag raised.
struct Flagged<F>(Pin<Box<F>>);

impl<F: Future> Future for Flagged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _flag = Flag::raise();
        self.0.as_mut().poll(cx)
    }
}

/// Raised while alive; lowered on drop, which also runs while a panic unwinds.
struct Flag;

impl Flag {
    fn raise() -> Self {
        DEPTH.with(|d| d.set(d.get() + 1));
        Flag
    }
}

impl Drop for Flag {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// The hook's record of the panic if it saw one, else the payload's text.
fn describe(payload: &(dyn Any + Send)) -> String {
    if let Some(seen) = LAST.with(|l| l.borrow_mut().take()) {
        return seen;
    }
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !active() {
                return previous(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            let seen = match info.location() {
                Some(at) => format!("{message} at {}:{}", at.file(), at.line()),
                None => message,
            };
            tracing::error!(panic = %seen, "a target's task panicked; that target was stopped");
            LAST.with(|l| *l.borrow_mut() = Some(seen));
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error_with_its_message_and_place() {
        let out = contained(async {
            tokio::task::yield_now().await;
            let v: Vec<u8> = Vec::new();
            #[allow(clippy::indexing_slicing)]
            v[3]
        })
        .await;
        let Err(Panicked(msg)) = out else {
            panic!("expected a caught panic, got {out:?}")
        };
        assert!(msg.contains("index out of bounds"), "{msg}");
        assert!(msg.contains("contain.rs:"), "{msg}");
        assert!(!active(), "the flag is lowered after the unwind");
        assert_eq!(contained(async { 7 }).await, Ok(7));
        assert_eq!(contained_sync(|| 8), Ok(8));
        assert!(contained_sync(|| panic!("sync boom")).is_err_and(|p| p.0.contains("sync boom")));
    }
}
