//! The streaming send path: where TTFT is measured, so where the clock is read at the
//! socket.
//!
//! reqwest cannot show its IO (its connection type is opaque), so the request that
//! streams an answer goes through the client reqwest wraps, hyper-util's, over a
//! connector of ours ([`connect::TimedConnector`]) whose IO ([`io::TimedIo`]) stamps
//! every write and read ([`stamps`]). Everything else keeps using reqwest, and requests
//! are still built with it: [`WireClient::send`] takes a `reqwest::Request` as is.
//!
//! Kept from reqwest's behaviour: rustls with the platform verifier, HTTP/2 when ALPN
//! picks it and HTTP/1.1 otherwise, `TCP_NODELAY`, the connect timeout, proxies from the
//! environment, gzip bodies decoded as they arrive, redirects never followed (this client
//! has no redirect logic at all), `User-Agent: prism/VERSION`, and request bodies sent
//! whole with a `Content-Length`.

pub mod connect;
pub mod inline;
pub mod io;
pub mod rechunk;
pub mod stamps;
#[cfg(test)]
mod tests;
pub mod verifier;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioTimer;
use tower_http::decompression::{Decompression, DecompressionBody};
use tower_service::Service;

use super::client::ConnectLog;
use connect::TimedConnector;
pub use stamps::{Arrivals, SocketStamps};

/// A response body of the streaming path; gzip comes out decoded, as it arrives.
pub type WireBody = DecompressionBody<Incoming>;

/// A response of the streaming path.
pub type WireResponse = http::Response<WireBody>;

/// Why a request got no response.
#[derive(Debug)]
pub enum SendError {
    /// The request could not be put on the wire as built (a bad URL, a streamed body).
    Request(String),
    /// Connecting or exchanging failed.
    Http(hyper_util::client::legacy::Error),
}

/// The streaming client of one target (one pool).
#[derive(Clone)]
pub struct WireClient {
    service: Decompression<Client<TimedConnector, Full<Bytes>>>,
    proxies: Arc<Matcher>,
}

impl std::fmt::Debug for WireClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireClient")
    }
}

/// rustls as reqwest sets it up: ring, the platform verifier, TLS 1.2 and 1.3. Each
/// client gets its own config, so TLS sessions are never resumed across targets (each
/// target's handshakes stay its own); the platform verifier behind them is loaded once
/// per process, and only when a certificate is to be checked ([`verifier`]).
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier::LazyVerifier::default()))
        .with_no_client_auth())
}

impl WireClient {
    /// A client whose connections are logged into `connects`.
    pub fn new(connect_timeout: Duration, connects: ConnectLog) -> Result<Self, rustls::Error> {
        Ok(Self::with_tls(tls_config()?, connect_timeout, connects))
    }

    /// [`Self::new`] over a given TLS configuration (tests trust their own roots).
    fn with_tls(tls: rustls::ClientConfig, connect_timeout: Duration, connects: ConnectLog) -> Self {
        let proxies = Arc::new(Matcher::from_system());
        let connector = TimedConnector::new(tls, proxies.clone(), connect_timeout, connects);
        // Connections run in the task that reads their answer (see `inline`).
        let client = Client::builder(inline::Inline)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        let service = Decompression::new(client).gzip(true);
        Self { service, proxies }
    }

    /// Send `request` (built by reqwest) and return the response head with its body
    /// still to read. The response's extensions hold the connection's [`SocketStamps`].
    pub async fn send(&self, request: reqwest::Request) -> Result<WireResponse, SendError> {
        let request = self.to_http(request)?;
        self.service.clone().call(request).await.map_err(SendError::Http)
    }

    fn to_http(&self, request: reqwest::Request) -> Result<http::Request<Full<Bytes>>, SendError> {
        let body = match request.body() {
            None => Bytes::new(),
            Some(b) => match b.as_bytes() {
                Some(bytes) => Bytes::copy_from_slice(bytes),
                None => return Err(SendError::Request("the request body is a stream".into())),
            },
        };
        let uri: http::Uri = request
            .url()
            .as_str()
            .parse()
            .map_err(|e| SendError::Request(format!("the URL {} is not usable ({e})", request.url())))?;
        let mut headers = request.headers().clone();
        let mut default = |name: http::header::HeaderName, value: &'static str| {
            if !headers.contains_key(&name) {
                headers.insert(name, http::HeaderValue::from_static(value));
            }
        };
        default(
            http::header::USER_AGENT,
            concat!("prism/", env!("CARGO_PKG_VERSION")),
        );
        default(http::header::ACCEPT, "*/*");
        // A forwarding proxy sees the request itself, so its credentials go on it.
        if uri.scheme_str() == Some("http")
            && let Some(proxy) = self.proxies.intercept(&uri)
            && let Some(auth) = proxy.basic_auth()
            && !headers.contains_key(http::header::PROXY_AUTHORIZATION)
        {
            headers.insert(http::header::PROXY_AUTHORIZATION, auth.clone());
        }
        let mut out = http::Request::builder()
            .method(request.method().clone())
            .uri(uri)
            .body(Full::new(body))
            .map_err(|e| SendError::Request(e.to_string()))?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}
