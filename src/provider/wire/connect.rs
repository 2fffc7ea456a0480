//! Opening a connection for the streaming send path: DNS and TCP (or a proxy), TLS with
//! the platform's trust store and ALPN, bounded by the connect timeout, timed into the
//! target's [`ConnectLog`], and wrapped in [`TimedIo`].
//!
//! Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` (either case) as
//! reqwest reads them: an `https://` destination goes through a CONNECT tunnel, a plain
//! `http://` one is sent to the proxy in absolute form (hyper does that for a connection
//! marked proxied). The socket stamps are then those of the socket to the proxy, so TTFT
//! includes the proxy's own hop, as it would for any client behind it.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tower_service::Service;

use super::io::TimedIo;
use crate::provider::client::{ConnectLog, ConnectSpan};

type BoxError = Box<dyn StdError + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// What hyper gets for each new connection.
pub type WireIo = TokioIo<TimedIo<TokioIo<MaybeHttpsStream<RouteIo>>>>;

/// The connect timeout ran out (DNS, TCP, proxy and TLS together).
#[derive(Debug)]
pub struct ConnectTimedOut(pub Duration);

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection not ready within {:.1} s", self.0.as_secs_f64())
    }
}

impl StdError for ConnectTimedOut {}

/// A proxy Prism cannot use, named with what to do about it.
#[derive(Debug)]
pub struct UnusableProxy(pub String);

impl fmt::Display for UnusableProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for UnusableProxy {}

/// The connector of one target's client.
#[derive(Clone)]
pub struct TimedConnector {
    https: HttpsConnector<RouteConnector>,
    timeout: Duration,
    log: ConnectLog,
}

impl TimedConnector {
    /// A connector using `tls` (its ALPN set here), `proxies`, and logging into `log`.
    pub fn new(tls: rustls::ClientConfig, proxies: Arc<Matcher>, timeout: Duration, log: ConnectLog) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(RouteConnector { http, proxies });
        Self { https, timeout, log }
    }
}

impl Service<Uri> for TimedConnector {
    type Response = WireIo;
    type Error = BoxError;
    type Future = BoxFuture<WireIo>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let start = Instant::now();
        let connecting = self.https.call(dst);
        let (timeout, log) = (self.timeout, self.log.clone());
        Box::pin(async move {
            let io = tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| Box::new(ConnectTimedOut(timeout)) as BoxError)??;
            log.record(ConnectSpan {
                start,
                end: Instant::now(),
            });
            Ok(TokioIo::new(TimedIo::new(TokioIo::new(io))))
        })
    }
}

/// Direct, through a CONNECT tunnel, or to a forwarding proxy.
#[derive(Clone)]
pub struct RouteConnector {
    http: HttpConnector,
    proxies: Arc<Matcher>,
}

impl Service<Uri> for RouteConnector {
    type Response = RouteIo;
    type Error = BoxError;
    type Future = BoxFuture<RouteIo>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let Some(proxy) = self.proxies.intercept(&dst) else {
            return Box::pin(async move {
                let io = http.call(dst).await?;
                Ok(RouteIo { io, forward: false })
            });
        };
        let proxy_uri = proxy.uri().clone();
        if proxy_uri.scheme_str() != Some("http") {
            let why = format!(
                "the proxy {proxy_uri} is not an http:// proxy, the only kind Prism's streaming client uses; set HTTPS_PROXY/HTTP_PROXY to an http:// proxy or exclude the host with NO_PROXY"
            );
            return Box::pin(async move { Err(Box::new(UnusableProxy(why)) as BoxError) });
        }
        if dst.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy_uri, http);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Box::pin(async move {
                let io = tunnel.call(dst).await?;
                Ok(RouteIo { io, forward: false })
            })
        } else {
            Box::pin(async move {
                let io = http.call(proxy_uri).await?;
                Ok(RouteIo { io, forward: true })
            })
        }
    }
}

/// A TCP connection, marked proxied when requests go to a forwarding proxy.
#[derive(Debug)]
pub struct RouteIo {
    io: TokioIo<tokio::net::TcpStream>,
    /// Requests are sent in absolute form to a proxy.
    forward: bool,
}

impl Connection for RouteIo {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl hyper::rt::Read for RouteIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for RouteIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
