//! Accepting connections, reading requests and routing them to a provider.
//!
//! Each accepted socket gets TCP_NODELAY (so a frame is on the wire as soon as hyper writes
//! it) and an EOF watch on its read half: hyper drops a response body when a write fails,
//! but a stalled stream writes nothing, so the watch is what lets a stall notice that the
//! client has gone.

use super::anthropic::Anthropic;
use super::azure;
use super::bedrock::{self, Bedrock};
use super::common::{self, Api, Incoming};
use super::driver::Body;
use super::gemini::{self, Gemini};
use super::openai::{self, OpenAi};
use super::responses::Responses;
use super::{InFlightGuard, SendLog};
use http_body_util::BodyExt;
use hyper::body::Incoming as HyperBody;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub async fn serve(listener: TcpListener, log: SendLog, stop: CancellationToken) {
    let counter = Arc::new(AtomicU64::new(0));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    // Without NODELAY, Nagle would hold small SSE frames back and skew TTFT.
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!("mock: set_nodelay failed: {e}");
                    }
                    connections.spawn(connection(tcp, log.clone(), counter.clone()));
                }
                Err(e) => {
                    // Usually fd exhaustion; back off instead of spinning.
                    tracing::warn!("mock: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn connection(tcp: TcpStream, log: SendLog, counter: Arc<AtomicU64>) {
    let gone = CancellationToken::new();
    let io = TokioIo::new(EofWatch {
        inner: tcp,
        gone: gone.clone(),
    });
    let service = service_fn(move |req| handle(req, log.clone(), counter.clone(), gone.clone()));
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
    {
        tracing::debug!("mock: connection ended: {e}");
    }
}

/// [`route`], with the request counted in flight until its response body ends.
async fn handle(
    req: Request<HyperBody>,
    log: SendLog,
    counter: Arc<AtomicU64>,
    gone: CancellationToken,
) -> Result<Response<Body>, Infallible> {
    let in_flight = log.enter(req.uri().path());
    let response = route(req, log, counter, gone).await?;
    Ok(response.map(|body| {
        Tracked {
            body,
            in_flight: Some(in_flight),
        }
        .boxed_unsync()
    }))
}

async fn route(
    req: Request<HyperBody>,
    log: SendLog,
    counter: Arc<AtomicU64>,
    gone: CancellationToken,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => bytes::Bytes::new(),
    };
    let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
    let inc = Incoming {
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        received_at: Instant::now(),
        id: format!("req_mock_{n}"),
        gone,
        log,
    };
    let post = parts.method == Method::POST;
    let path = inc.path.as_str();
    let gemini_method = gemini::target(path).is_some_and(|(_, m)| {
        matches!(
            m.as_str(),
            "generateContent" | "streamGenerateContent" | "countTokens"
        )
    });
    Ok(if bedrock::target(path).is_some() && post {
        common::handle::<Bedrock>(inc).await
    } else if path.starts_with("/model/") {
        not_found::<Bedrock>(&inc, format!("Unknown operation {} {path}", parts.method))
    } else if gemini_method && post {
        common::handle::<Gemini>(inc).await
    } else if path.starts_with("/v1beta/") || gemini_method {
        not_found::<Gemini>(&inc, format!("Method not found: {} {path}", parts.method))
    } else if (path == "/v1/messages" || path == "/v1/messages/count_tokens") && post {
        common::handle::<Anthropic>(inc).await
    } else if path.starts_with("/v1/messages") {
        not_found::<Anthropic>(&inc, String::new())
    } else if path == "/v1/chat/completions" && post {
        common::handle::<OpenAi>(inc).await
    } else if path == "/v1/responses" && post {
        common::handle::<Responses>(inc).await
    } else if path.starts_with("/openai/") {
        azure::route(inc, post).await
    } else {
        let err = openai::unknown_path(parts.method.as_str(), path);
        common::error_response::<OpenAi>(&common::Ctx::bare::<OpenAi>(&inc), &err)
    })
}

/// A response body that keeps its request counted in flight until it ends.
struct Tracked {
    body: Body,
    in_flight: Option<InFlightGuard>,
}

impl hyper::body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.in_flight = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

fn not_found<A: Api>(inc: &Incoming, message: String) -> Response<Body> {
    let err = common::ApiError::NotFound(message);
    common::error_response::<A>(&common::Ctx::bare::<A>(inc), &err)
}

/// Cancels `gone` when the peer's read half reaches EOF or fails.
struct EofWatch {
    inner: TcpStream,
    gone: CancellationToken,
}

impl AsyncRead for EofWatch {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &result {
            Poll::Ready(Ok(())) if buf.filled().len() == before && buf.remaining() > 0 => {
                this.gone.cancel();
            }
            Poll::Ready(Err(_)) => this.gone.cancel(),
            _ => {}
        }
        result
    }
}

impl AsyncWrite for EofWatch {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
