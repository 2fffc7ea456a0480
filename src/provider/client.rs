//! The HTTP client each target uses, instrumented to see connection setup.
//!
//! TTFT must not silently include DNS, TCP and TLS setup, and reqwest does not say
//! whether a request opened a new connection. A connector layer records when each
//! new connection started and finished, and every target gets its own client (so its
//! own pool), which lets the stream task attribute that time to its request.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tower_layer::Layer;
use tower_service::Service;

/// Start and end of the most recent connection set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectSpan {
    /// When the connector was called.
    pub start: Instant,
    /// When the connection was ready to carry a request.
    pub end: Instant,
}

/// Shared record of the latest completed connection of one client.
#[derive(Debug, Clone, Default)]
pub struct ConnectLog(Arc<Mutex<Option<ConnectSpan>>>);

impl ConnectLog {
    /// The latest completed connection, if any.
    pub fn latest(&self) -> Option<ConnectSpan> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, span: ConnectSpan) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(span);
    }
}

/// A reqwest client plus the log of the connections it opened.
#[derive(Debug, Clone)]
pub struct TimedClient {
    /// The client; one per target so pools (and connect timings) are not shared.
    pub http: reqwest::Client,
    /// Connections opened by `http`.
    pub connects: ConnectLog,
}

impl TimedClient {
    /// A client with connect timing, no automatic retries, and no overall timeout
    /// (a long answer is not an error; idle gaps are policed by the stream loop).
    ///
    /// Redirects are never followed: a provider API does not legitimately redirect a
    /// POST, and following one would re-send `x-api-key` / `x-goog-api-key` to another
    /// host (reqwest strips only `Authorization`). The stream task reports the 3xx.
    /// Gzip bodies are decoded transparently, streams included.
    pub fn new(connect_timeout: Duration) -> Result<Self, reqwest::Error> {
        install_crypto_provider();
        let connects = ConnectLog::default();
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .connector_layer(ConnectTimingLayer(connects.clone()))
            .tcp_nodelay(true)
            .user_agent(concat!("prism/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, connects })
    }

    /// If this client opened a connection after `since`, how long that took.
    pub fn connect_since(&self, since: Instant) -> Option<ConnectSpan> {
        self.connects.latest().filter(|s| s.start >= since)
    }
}

/// rustls needs a process-wide crypto provider; ring builds fast and is well audited.
fn install_crypto_provider() {
    // Fails only when one is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Clone)]
struct ConnectTimingLayer(ConnectLog);

impl<S> Layer<S> for ConnectTimingLayer {
    type Service = ConnectTiming<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConnectTiming {
            inner,
            log: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct ConnectTiming<S> {
    inner: S,
    log: ConnectLog,
}

impl<S, R> Service<R> for ConnectTiming<S>
where
    S: Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let start = Instant::now();
        let log = self.log.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let conn = fut.await?;
            log.record(ConnectSpan {
                start,
                end: Instant::now(),
            });
            Ok(conn)
        })
    }
}
