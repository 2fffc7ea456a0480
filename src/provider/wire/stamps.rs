//! When bytes crossed the socket, recorded by the connection and read by the stream task.
//!
//! The connection's IO wrapper ([`super::io::TimedIo`]) runs inside hyper's connection
//! task; the stream task that turns body chunks into events runs elsewhere, one channel
//! hop later. So the IO side writes stamps into a shared, lock-free cell (nanoseconds
//! since a process-wide base `Instant`, 0 meaning "none"), and the stream task reads them:
//!
//! - **sent**: the time of the latest successful write. hyper writes a request in one or
//!   more writes and, on HTTP/1.1, writes nothing else until the response has been read,
//!   so the latest write when the response head arrives is the request's last byte.
//! - **reads**: the time of each read that returned bytes, numbered, in a ring of the
//!   last [`RING`] reads.
//!
//! # Matching a chunk to its read ([`Arrivals`])
//!
//! hyper decodes at most one body chunk ahead of its consumer, from bytes one socket read
//! brought in. A chunk is stamped with the **earliest read not yet given to a chunk**
//! that happened before the stream task received it; when every such read has been given
//! out, the chunk came out of a read that carried several chunks, and takes that read's
//! time again. The read that brought the response head is given to the head.
//!
//! Where this can be off, and in which direction:
//! - one read that carried chunks *k* and *k*+1 while the read of *k*+2 already happened:
//!   *k*+1 takes *k*+2's read (later than the truth, never earlier), and the queue is
//!   back in step at the next chunk with no read of its own;
//! - a chunk whose bytes came in two reads takes the first of them (earlier, by the gap
//!   between the two reads), and the next chunk takes the second;
//! - on HTTP/2, frames of the connection itself (SETTINGS, PING, WINDOW_UPDATE) share
//!   the socket: a read carrying only those shifts the queue as above, and the latest
//!   write can be a SETTINGS acknowledgement written just after the request.
//!
//! Over TLS the stamps are taken on the decrypted stream, right where tokio-rustls hands
//! bytes to hyper in the same poll as the socket read (and the same poll that writes the
//! encrypted request), so they differ from the socket by the cipher's work only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Reads remembered per connection; a stream task further behind than this takes the
/// oldest one kept.
const RING: usize = 256;

/// The process-wide zero of all stamps, fixed the first time any is taken.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn encode(at: Instant) -> u64 {
    // +1 keeps 0 free for "none"; u64 nanoseconds last 584 years.
    u64::try_from(at.saturating_duration_since(base()).as_nanos())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

fn decode(ns: u64) -> Option<Instant> {
    (ns != 0).then(|| base() + Duration::from_nanos(ns - 1))
}

/// The shared cell of one connection.
#[derive(Debug)]
struct Cell {
    last_write: AtomicU64,
    /// How many reads returned bytes so far; read `n` is at `reads[n % RING]`.
    read_count: AtomicU64,
    reads: [AtomicU64; RING],
}

/// Handle to one connection's stamps; cheap to clone, found in the response extensions.
#[derive(Debug, Clone)]
pub struct SocketStamps(Arc<Cell>);

impl Default for SocketStamps {
    fn default() -> Self {
        base();
        Self(Arc::new(Cell {
            last_write: AtomicU64::new(0),
            read_count: AtomicU64::new(0),
            reads: std::array::from_fn(|_| AtomicU64::new(0)),
        }))
    }
}

impl SocketStamps {
    /// A write of at least one byte just completed.
    pub fn wrote(&self) {
        self.0.last_write.store(encode(Instant::now()), Ordering::Release);
    }

    /// A read just returned at least one byte. Only the connection's IO calls this, one
    /// poll at a time, so there is a single writer.
    pub fn read(&self) {
        let at = encode(Instant::now());
        let n = self.0.read_count.load(Ordering::Relaxed);
        self.slot(n).store(at, Ordering::Relaxed);
        // Publishes the stamp with the count.
        self.0.read_count.store(n + 1, Ordering::Release);
    }

    /// The latest successful write.
    pub fn last_write(&self) -> Option<Instant> {
        decode(self.0.last_write.load(Ordering::Acquire))
    }

    fn read_count(&self) -> u64 {
        self.0.read_count.load(Ordering::Acquire)
    }

    fn slot(&self, n: u64) -> &AtomicU64 {
        // RING divides u64::MAX + 1, so the index never leaves the ring.
        &self.0.reads[(n % RING as u64) as usize]
    }

    /// Read number `n`, if it happened and is still in the ring.
    fn read_at(&self, n: u64, count: u64) -> Option<Instant> {
        if n >= count || n + (RING as u64) < count {
            return None;
        }
        decode(self.slot(n).load(Ordering::Relaxed))
    }
}

/// The stream task's side: which read brought each chunk (rules in the module docs).
#[derive(Debug)]
pub struct Arrivals {
    stamps: SocketStamps,
    /// The earliest read not yet given to a chunk.
    next: u64,
    /// The latest read given out (to the head or a chunk).
    last: Option<Instant>,
    /// The read that brought the response head.
    head: Option<Instant>,
}

impl Arrivals {
    /// Start matching once the response head is in: the reads of this response are
    /// those at or after `sent` (the request's last write); the first of them brought
    /// the head.
    pub fn after_request(stamps: SocketStamps, sent: Instant) -> Self {
        let count = stamps.read_count();
        let mut first = count;
        while first > 0 && stamps.read_at(first - 1, count).is_some_and(|t| t >= sent) {
            first -= 1;
        }
        let head = stamps.read_at(first, count);
        Self {
            stamps,
            next: if head.is_some() { first + 1 } else { count },
            last: head,
            head,
        }
    }

    /// When the read that brought the response head returned: no chunk is stamped
    /// earlier, so events stay in order.
    pub fn head(&self) -> Option<Instant> {
        self.head
    }

    /// When the read carrying a chunk the stream task received at `received` returned;
    /// never later than `received`.
    pub fn arrival(&mut self, received: Instant) -> Instant {
        let count = self.stamps.read_count();
        self.next = self.next.max(count.saturating_sub(RING as u64));
        match self.stamps.read_at(self.next, count) {
            Some(at) if at <= received => {
                self.next += 1;
                self.last = Some(at);
                at
            }
            _ => self.last.filter(|at| *at <= received).unwrap_or(received),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick() {
        std::thread::sleep(Duration::from_millis(1));
    }

    #[test]
    fn each_chunk_takes_the_earliest_read_not_yet_given_out() {
        let s = SocketStamps::default();
        s.wrote(); // an earlier exchange on the same connection
        s.read();
        tick();
        s.wrote();
        let sent = s.last_write().unwrap();
        tick();
        s.read(); // head
        tick();
        s.read(); // chunk 1
        tick();
        s.read(); // chunk 2 (hyper read it before chunk 1 was taken)
        let received = Instant::now();
        let count = s.read_count();
        let reads: Vec<Instant> = (0..count).map(|n| s.read_at(n, count).unwrap()).collect();
        let mut arrivals = Arrivals::after_request(s.clone(), sent);
        assert_eq!(arrivals.head(), Some(reads[1]), "the head's read");
        assert_eq!(arrivals.arrival(received), reads[2]);
        assert_eq!(arrivals.arrival(received), reads[3]);
        // A third chunk with no read of its own came out of the latest one.
        assert_eq!(arrivals.arrival(received), reads[3]);
        // A read after the chunk was received is not its read.
        tick();
        let early = Instant::now();
        tick();
        s.read();
        assert_eq!(arrivals.arrival(early), reads[3]);
    }

    #[test]
    fn a_chunk_in_the_heads_read_takes_that_read() {
        let s = SocketStamps::default();
        s.wrote();
        let sent = s.last_write().unwrap();
        tick();
        s.read();
        let head = decode(s.slot(0).load(Ordering::Relaxed)).unwrap();
        let mut arrivals = Arrivals::after_request(s, sent);
        assert_eq!(arrivals.arrival(Instant::now()), head);
    }

    #[test]
    fn without_reads_the_receipt_time_stands() {
        let s = SocketStamps::default();
        let now = Instant::now();
        let mut arrivals = Arrivals::after_request(s, now);
        assert_eq!(arrivals.arrival(now), now);
    }

    #[test]
    fn a_stream_task_far_behind_skips_to_the_oldest_kept_read() {
        let s = SocketStamps::default();
        s.wrote();
        let sent = s.last_write().unwrap();
        s.read();
        let mut arrivals = Arrivals::after_request(s.clone(), sent);
        for _ in 0..RING * 2 {
            s.read();
        }
        let count = s.read_count();
        let oldest = s.read_at(count - RING as u64, count).unwrap();
        assert_eq!(arrivals.arrival(Instant::now()), oldest);
    }
}
