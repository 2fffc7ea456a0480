//! The HTTP clients each target uses, instrumented to see connection setup.
//!
//! TTFT must not silently include DNS, TCP and TLS setup, and a client does not say
//! whether a request opened a new connection. The streaming path's connector
//! ([`super::wire`]) records when each new connection started and finished, and every
//! target gets its own clients (so its own pool), which lets the stream task attribute
//! that time to its request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::wire::WireClient;

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

    pub(crate) fn record(&self, span: ConnectSpan) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(span);
    }
}

/// Why a target's clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// reqwest refused its configuration.
    #[error("{0}")]
    Reqwest(#[from] reqwest::Error),
    /// The TLS set-up (the platform's trust store) failed.
    #[error("TLS set-up failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// A target's clients plus the log of the connections the streaming one opened.
#[derive(Debug, Clone)]
pub struct TimedClient {
    /// Builds every request, and sends those that are not the streamed answer
    /// (count_tokens and the like).
    pub http: reqwest::Client,
    /// Sends the answer's request, with socket stamps (src/provider/wire); one per
    /// target so pools (and connect timings) are not shared.
    pub wire: WireClient,
    /// Connections opened by `wire`.
    pub connects: ConnectLog,
}

impl TimedClient {
    /// Clients with no automatic retries and no overall timeout (a long answer is not
    /// an error; idle gaps are policed by the stream loop).
    ///
    /// Redirects are never followed: a provider API does not legitimately redirect a
    /// POST, and following one would re-send `x-api-key` / `x-goog-api-key` to another
    /// host (reqwest strips only `Authorization`). The stream task reports the 3xx.
    /// Gzip bodies are decoded transparently, streams included.
    pub fn new(connect_timeout: Duration) -> Result<Self, ClientError> {
        install_crypto_provider();
        let connects = ConnectLog::default();
        // reqwest's own set-up, but with the verifier the process already loaded, and
        // the protocols reqwest offers by default.
        let mut tls = super::wire::tls_config()?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .tcp_nodelay(true)
            .user_agent(concat!("prism/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let wire = WireClient::new(connect_timeout, connects.clone())?;
        Ok(Self { http, wire, connects })
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
