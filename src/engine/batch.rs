//! One channel message per burst of events, not one per event.
//!
//! A stream task decodes every event a socket read brought in one go, then waits for the
//! next read. Sending each event on its own woke the consumer (on another thread) once
//! per token: a futex call and a context switch or two each, more than the decoding
//! cost. Here the events are buffered while the producing task runs and sent as one
//! message when it is about to wait ([`flushing`]), so a consumer wakes at most once per
//! read and drains the whole batch. Nothing is held back across a wait: when the
//! producer sleeps, everything it produced is already on its way.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

/// The most items one message carries. A producer whose data never runs out (a fast
/// server on loopback) may not wait for a long time: without a bound its batch would grow
/// with the whole answer (a 1M-token stream held ~250 MB of events, and the consumer saw
/// nothing until the end). At this size a batch is a few hundred microseconds of a fast
/// stream, so the consumer still wakes rarely.
pub const MAX_BATCH: usize = 256;

/// Buffers items and sends them to one channel as a `Vec`; clones share the buffer.
#[derive(Debug)]
pub struct BatchSender<T> {
    tx: mpsc::UnboundedSender<Vec<T>>,
    pending: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for BatchSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            pending: self.pending.clone(),
        }
    }
}

impl<T> BatchSender<T> {
    /// A sender of batches to `tx`.
    pub fn new(tx: mpsc::UnboundedSender<Vec<T>>) -> Self {
        Self {
            tx,
            pending: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Add `item` to the batch; `false` when nobody receives any more. A batch that
    /// reaches [`MAX_BATCH`] items goes out at once.
    pub fn push(&self, item: T) -> bool {
        // A panic while the lock was held leaves a Vec that is still whole.
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.push(item);
        if pending.len() >= MAX_BATCH {
            let full = std::mem::replace(&mut *pending, Vec::with_capacity(MAX_BATCH));
            drop(pending);
            let _ = self.tx.send(full);
        }
        !self.tx.is_closed()
    }

    /// Send what is buffered, if anything, as one message.
    pub fn flush(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.is_empty() {
            return;
        }
        // The next burst is likely the size of this one: room for it at once, rather than
        // growing from nothing by doubling (and copying) on every burst.
        let room = pending.len();
        let batch = std::mem::replace(&mut *pending, Vec::with_capacity(room));
        drop(pending);
        // A closed receiver means nobody is listening any more; nothing to do.
        let _ = self.tx.send(batch);
    }
}

/// Run `work`, calling `flush` every time it stops to wait and when it ends: whatever it
/// produced while it ran goes out before it sleeps.
pub async fn flushing<F: Future>(work: F, flush: impl Fn()) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        let polled = work.as_mut().poll(cx);
        flush();
        polled
    })
    .await
}

/// The receiving end: hands out items one by one, or whole batches as they came.
#[derive(Debug)]
pub struct BatchReceiver<T> {
    rx: mpsc::UnboundedReceiver<Vec<T>>,
    /// The rest of the batch [`Self::recv`] is handing out.
    ready: std::vec::IntoIter<T>,
}

impl<T> BatchReceiver<T> {
    /// Receives what `tx`'s [`BatchSender`]s send.
    pub fn new(rx: mpsc::UnboundedReceiver<Vec<T>>) -> Self {
        Self {
            rx,
            ready: Vec::new().into_iter(),
        }
    }

    /// The next item; `None` once every sender is gone and everything was received.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.ready.next() {
                return Some(item);
            }
            self.ready = self.rx.recv().await?.into_iter();
        }
    }

    /// The next item if one is already here, without waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.ready.next() {
                return Some(item);
            }
            self.ready = self.rx.try_recv().ok()?.into_iter();
        }
    }

    /// Everything left of the current batch, or the next batch; `None` at the end.
    pub async fn recv_batch(&mut self) -> Option<Vec<T>> {
        let rest: Vec<T> = self.ready.by_ref().collect();
        if !rest.is_empty() {
            return Some(rest);
        }
        self.rx.recv().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[tokio::test]
    async fn what_a_task_produces_between_waits_arrives_as_one_message() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let out = BatchSender::new(tx);
        let (gate_tx, mut gate_rx) = mpsc::unbounded_channel::<()>();
        let producer = out.clone();
        let work = tokio::spawn(async move {
            let sink = producer.clone();
            flushing(
                async move {
                    for i in 0..3 {
                        sink.push(i);
                    }
                    // Waiting here: the three above must already be on their way.
                    gate_rx.recv().await;
                    sink.push(3);
                    sink.push(4);
                },
                || producer.flush(),
            )
            .await;
        });
        assert_eq!(
            rx.recv().await,
            Some(vec![0, 1, 2]),
            "sent before the task waited"
        );
        gate_tx.send(()).unwrap();
        work.await.unwrap();
        assert_eq!(rx.recv().await, Some(vec![3, 4]), "sent when the task ended");
        drop(out);
        assert_eq!(rx.recv().await, None, "no empty batches");
    }

    #[tokio::test]
    async fn a_producer_that_never_waits_still_sends_bounded_batches() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let out = BatchSender::new(tx);
        let n = MAX_BATCH * 3 + 5;
        for i in 0..n {
            out.push(i);
        }
        // Nothing waited and nothing flushed: only full batches went out, in order.
        for k in 0..3 {
            let batch = rx.try_recv().unwrap();
            assert_eq!(batch, (k * MAX_BATCH..(k + 1) * MAX_BATCH).collect::<Vec<_>>());
        }
        assert!(rx.try_recv().is_err(), "the partial batch waits for a flush");
        out.flush();
        assert_eq!(rx.try_recv().unwrap(), (3 * MAX_BATCH..n).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn the_receiver_hands_out_items_in_order_across_batches() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut rx = BatchReceiver::new(rx);
        tx.send(vec![1, 2, 3]).unwrap();
        tx.send(vec![4]).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(
            rx.recv_batch().await,
            Some(vec![2, 3]),
            "the rest of the first batch"
        );
        assert_eq!(rx.try_recv(), Some(4));
        assert_eq!(rx.recv().await, None);
    }
}
