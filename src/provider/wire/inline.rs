//! The connection's work, done by the task that reads its answer.
//!
//! hyper runs each connection as a future of its own, and an HTTP/1 connection hands the
//! response body to its reader through a channel that holds one chunk. A server that
//! writes every SSE event as a chunk of its own (a model server on the same machine,
//! Prism's mock) then costs a round trip between two tasks per event: the connection
//! decodes one chunk and waits, the reader takes it and waits, each waking the other
//! through the scheduler, often on the other thread. That round trip, not the decoding,
//! was most of what an event cost on such a stream.
//!
//! Here the executor the streaming client spawns its connections with ([`Inline`]) hands
//! a connection, when it is made inside [`driving`], to the task doing that work, which
//! polls it together with its own work: a chunk goes from the connection to the reader
//! without the scheduler, and the socket is still read (and stamped) in the same poll as
//! before. When the work ends, what is left of the connection (keep-alive, the pool's
//! bookkeeping) is spawned as a task of its own, as it always was; when the work is
//! dropped (a cancel), the connection is dropped with it and closes.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

type Boxed = Pin<Box<dyn Future<Output = ()> + Send>>;

thread_local! {
    /// Set while a [`Driving`] polls on this thread: where [`Inline`] puts what it is
    /// given.
    static STASH: RefCell<Option<Vec<Boxed>>> = const { RefCell::new(None) };
    /// Set while a [`Driving`] polls its work in a round that is not its last: see
    /// [`polled_again`].
    static AGAIN: Cell<bool> = const { Cell::new(false) };
}

/// Whether the work being polled now will be polled again before its task sleeps: true
/// inside a [`Driving`] round that is not the last. A reader that finds nothing to read
/// may then return `Pending` without registering its other waits (a cancel, a timer) or
/// sending what it holds: the connection is polled next, most often hands it the next
/// chunk at once, and if not, the driver polls the work once more, with this false,
/// before it lets the task sleep.
pub fn polled_again() -> bool {
    AGAIN.with(Cell::get)
}

/// hyper's executor for the streaming client: inside [`driving`], the futures it is
/// given are polled by the driving task; anywhere else they are spawned on the runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inline;

impl<F> hyper::rt::Executor<F> for Inline
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        let boxed: Boxed = Box::pin(async move {
            future.await;
        });
        let left = STASH.with(|stash| match stash.borrow_mut().as_mut() {
            Some(stash) => {
                stash.push(boxed);
                None
            }
            None => Some(boxed),
        });
        if let Some(boxed) = left {
            tokio::spawn(boxed);
        }
    }
}

/// Run `work`, polling in the same task every connection future the streaming client
/// makes while it runs.
pub fn driving<F: Future>(work: F) -> Driving<F> {
    let shared = Arc::new(Shared::default());
    Driving {
        work: Box::pin(work),
        conns: Vec::new(),
        waker: Waker::from(shared.clone()),
        shared,
    }
}

/// The future [`driving`] returns.
pub struct Driving<F: Future> {
    work: Pin<Box<F>>,
    /// The connection futures handed over so far that have not finished.
    conns: Vec<Boxed>,
    shared: Arc<Shared>,
    /// `shared` as a waker: what the work and the connections are polled with.
    waker: Waker,
}

impl<F: Future> std::fmt::Debug for Driving<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driving")
            .field("conns", &self.conns.len())
            .finish_non_exhaustive()
    }
}

/// Says whether anything the driver polls asked to be polled again.
///
/// While the driver is polling it loops until nothing did, so a wake then (the
/// connection handing the reader a chunk, the reader making room) costs a flag, not a
/// trip through the scheduler. A wake at any other time is passed on to the task.
#[derive(Debug, Default)]
struct Shared {
    woken: AtomicBool,
    polling: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        // The driver clears `polling` before its last look at `woken`: either it sees
        // this wake, or this sees it gone and wakes the task.
        if !self.polling.load(Ordering::SeqCst) {
            self.task.wake();
        }
    }
}

/// Rounds of one poll, at most: a bound for a source that never runs dry, on top of the
/// runtime's own budget (which every socket read and every chunk spends).
const ROUNDS: usize = 1024;

impl<F: Future> Future for Driving<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Every field is `Unpin` (the work is boxed).
        let this = self.get_mut();
        this.shared.task.register(cx.waker());
        // The round that may end the poll: the work registers every wait in it.
        let mut last = false;
        for _ in 0..ROUNDS {
            this.shared.polling.store(true, Ordering::SeqCst);
            this.shared.woken.store(false, Ordering::SeqCst);
            let mut inner = Context::from_waker(&this.waker);
            let (polled, handed) = stashing(|| {
                this.conns
                    .retain_mut(|conn| conn.as_mut().poll(&mut inner).is_pending());
                again_unless(last, || this.work.as_mut().poll(&mut inner))
            });
            let new_conns = !handed.is_empty();
            this.conns.extend(handed);
            if let Poll::Ready(out) = polled {
                this.shared.polling.store(false, Ordering::SeqCst);
                // The connection outlives the answer (keep-alive, a retry's reuse): it
                // goes on as a task of its own, as every connection did before.
                for conn in this.conns.drain(..) {
                    tokio::spawn(conn);
                }
                return Poll::Ready(out);
            }
            this.shared.polling.store(false, Ordering::SeqCst);
            let again = new_conns || this.shared.woken.load(Ordering::SeqCst);
            if !again {
                if last {
                    return Poll::Pending;
                }
                // The work may have waited without registering its waits: poll it once
                // more, telling it this is the last round.
                last = true;
                continue;
            }
            last = false;
            if !tokio::task::coop::has_budget_remaining() {
                break;
            }
        }
        // Something is still ready: let the other tasks of this thread run first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Run `f` with [`polled_again`] saying `!last`; it says false again afterwards (also on
/// unwind).
fn again_unless<T>(last: bool, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            AGAIN.with(|a| a.set(false));
        }
    }
    let _reset = Reset;
    AGAIN.with(|a| a.set(!last));
    f()
}

/// Run `f` with this thread's stash set, returning what it produced and what [`Inline`]
/// was handed meanwhile. A stash already set (a driver inside a driver) is put back.
fn stashing<T>(f: impl FnOnce() -> T) -> (T, Vec<Boxed>) {
    struct Restore(Option<Vec<Boxed>>);
    impl Drop for Restore {
        // Also on unwind: a panic in the work must not leave this thread stashing.
        fn drop(&mut self) {
            let outer = self.0.take();
            STASH.with(|stash| *stash.borrow_mut() = outer);
        }
    }
    let outer = STASH.with(|stash| stash.borrow_mut().replace(Vec::new()));
    let restore = Restore(outer);
    let out = f();
    let handed = STASH.with(|stash| stash.borrow_mut().take()).unwrap_or_default();
    drop(restore);
    (out, handed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use hyper::rt::Executor;
    use tokio::sync::{mpsc, oneshot};

    use super::*;

    #[tokio::test]
    async fn what_the_work_hands_over_is_polled_by_the_work_s_own_task() {
        // The handed-over future answers the work through a one-slot channel, one item
        // at a time, as hyper's connection feeds its body.
        let (tx, mut rx) = mpsc::channel::<usize>(1);
        let out = driving(async move {
            Inline.execute(async move {
                for i in 0..1000 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut sum = 0;
            while let Some(i) = rx.recv().await {
                sum += i;
            }
            sum
        })
        .await;
        assert_eq!(out, (0..1000).sum::<usize>());
    }

    #[tokio::test]
    async fn what_is_left_when_the_work_ends_goes_on_as_a_task() {
        let (tx, rx) = oneshot::channel();
        let (go_tx, go_rx) = oneshot::channel::<()>();
        driving(async move {
            Inline.execute(async move {
                go_rx.await.unwrap();
                tx.send("finished").unwrap();
            });
        })
        .await;
        go_tx.send(()).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx).await;
        assert_eq!(got.unwrap().unwrap(), "finished");
    }

    #[tokio::test]
    async fn dropping_the_work_drops_what_it_was_handed() {
        struct Flag(Arc<AtomicUsize>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let flag = Flag(dropped.clone());
        let work = driving(async move {
            Inline.execute(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
            std::future::pending::<()>().await;
        });
        let timed_out = tokio::time::timeout(Duration::from_millis(20), work).await;
        assert!(timed_out.is_err());
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            1,
            "the connection closed with the work"
        );
    }

    #[tokio::test]
    async fn outside_a_driver_it_spawns() {
        let (tx, rx) = oneshot::channel();
        Inline.execute(async move {
            tx.send(()).unwrap();
        });
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wake_from_another_thread_between_polls_is_not_lost() {
        for _ in 0..200 {
            let (tx, rx) = oneshot::channel::<u32>();
            let sender = std::thread::spawn(move || {
                std::thread::yield_now();
                tx.send(7).unwrap();
            });
            let got = tokio::time::timeout(Duration::from_secs(5), driving(rx)).await;
            assert_eq!(got.unwrap().unwrap(), 7);
            sender.join().unwrap();
        }
    }

    #[tokio::test]
    async fn a_source_that_never_runs_dry_still_lets_other_tasks_run() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let seen = ticks.clone();
        let other = tokio::spawn(async move {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        // Always ready, spending the budget as a socket read does; on this one thread the
        // other task runs only if the driver steps aside.
        let ran_meanwhile = driving(async {
            for _ in 0..100_000 {
                tokio::task::coop::consume_budget().await;
            }
            ticks.load(Ordering::SeqCst)
        })
        .await;
        assert_eq!(ran_meanwhile, 1);
        other.await.unwrap();
    }

    #[tokio::test]
    async fn a_work_that_waited_without_registering_is_polled_once_more_before_the_task_sleeps() {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        // Registers its wait (the channel) only when told this is the last round, as the
        // body reader does.
        let work = std::future::poll_fn(move |cx| {
            let again = polled_again();
            log.lock().unwrap().push(again);
            if again {
                return Poll::Pending;
            }
            Pin::new(&mut rx).poll(cx).map(Result::unwrap)
        });
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(9).unwrap();
        });
        let got = tokio::time::timeout(Duration::from_secs(5), driving(work)).await;
        assert_eq!(got.expect("woken by the wait it registered"), 9);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen[..2],
            [true, false],
            "a soft round, then the last one: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&false));
        assert!(!polled_again(), "false outside a driver");
        sender.await.unwrap();
    }
}
