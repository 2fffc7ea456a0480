//! The connection's IO, stamping every read that returns bytes and every write that
//! takes some, in the poll that does it, and joining the whole HTTP/1.1 chunks of each
//! read ([`super::rechunk`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::rechunk::Rechunker;
use super::stamps::SocketStamps;

/// Delegates to `inner`, stamping into `stamps`. Its [`Connection`] metadata carries the
/// stamps, so hyper-util puts them in the extensions of every response on it.
#[derive(Debug)]
pub struct TimedIo<T> {
    inner: T,
    stamps: SocketStamps,
    rechunker: Rechunker,
}

impl<T: Connection> TimedIo<T> {
    /// Wrap a connection's IO with a fresh stamp cell; the chunks of its reads are
    /// joined unless it speaks HTTP/2.
    pub fn new(inner: T) -> Self {
        let rechunker = if inner.connected().is_negotiated_h2() {
            Rechunker::off()
        } else {
            Rechunker::new()
        };
        Self {
            inner,
            stamps: SocketStamps::default(),
            rechunker,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.stamps.read();
            if self.rechunker.is_on() {
                let kept = self.rechunker.rewrite(&mut buf.filled_mut()[before..]);
                buf.set_filled(before + kept);
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.rechunker.on_write(buf);
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.stamps.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            self.rechunker.on_write(first);
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.stamps.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: Connection> Connection for TimedIo<T> {
    fn connected(&self) -> Connected {
        self.inner.connected().extra(self.stamps.clone())
    }
}
