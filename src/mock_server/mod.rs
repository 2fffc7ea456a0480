//! A loopback mock of the OpenAI (Chat Completions and Responses), Anthropic, Gemini,
//! Azure OpenAI and AWS Bedrock (Converse, binary event streams, SigV4) streaming APIs.
//!
//! No real provider is reachable from tests or benchmarks, so Prism measures itself against
//! this server. It speaks each provider's wire format (paths, headers, SSE framing, JSON
//! layout, error bodies) and follows a per-request script (see *Directives* below) for timing, content
//! and injected faults. Every response is recorded in a [`SendLog`] with the instant each
//! content frame was handed to hyper, so a client's measured TTFT can be checked against
//! what the server actually did.
//!
//! Layout: `server` accepts and routes, one module per provider renders bytes, `plan` decides
//! the provider-independent answer, `driver` paces the body and applies stream faults.
//!
//! # Directives
//!
//! Given after `+` in the model name (`gpt-4o-mini+ttft=200,tps=50`) and/or in an
//! `x-mock-script: k=v,k=v` header (header keys win). A bare key means `=1`. Unknown keys
//! and bad values are answered with HTTP 400 in the provider's error format.
//!
//! | key | value | effect |
//! |---|---|---|
//! | `ttft` | ms (120) | request read → first content frame; headers and role/start frames go at once |
//! | `itl` / `tps` | ms (12) / tokens per s | gap between content frames; `itl` wins over `tps` |
//! | `tokens` | n (40) | visible output tokens, capped by the request's max tokens (then the length finish) |
//! | `chunk` | n ≥ 1 (1) | tokens per content frame |
//! | `seed` | u64 | text seed (default: hash of the prompt) |
//! | `text` | `markdown`/`lorem`/`echo` | corpus |
//! | `reasoning` | n (0) | reasoning tokens before the answer (Responses API: streamed as a summary only when the request sets `reasoning.summary`) |
//! | `tool` | name | answer with one tool call |
//! | `badjson` | 1 | a request that asks for JSON following a schema gets JSON that breaks it once (otherwise it gets JSON that follows it) |
//! | `cached` / `cache_write` | n | cached input tokens / Anthropic cache writes (instead of the server's own prompt cache: see below) |
//! | `usage` | `none`/`full` | `none` omits usage (OpenAI, Gemini) |
//! | `filter` / `block` | 1 | content filter / Gemini prompt block (filter elsewhere) |
//! | `keepalive` / `crlf` / `lf` | 1 | `: keepalive` comments between events / force line endings |
//! | `hints` | `full` | `none`: a 429 without `retry-after`, reset headers or `RetryInfo` |
//! | `prompt_filter` | category`+`… | Azure: the content filter refuses the prompt (HTTP 400 naming the categories: hate, jailbreak, profanity, self_harm, sexual, violence); elsewhere as `block` |
//! | `served` | model id | Azure: the model the response names (default: the deployment's name) |
//! | `fail_first` | 0 (every request) | apply `fault` only to the first N requests with this model string |
//! | `auth` | `required` | `none` accepts requests without a key, like a local server |
//! | `exception` | Bedrock exception type | the `:exception-type` of `fault=error_event` (`modelStreamErrorException`); `after=0` sends it before any content |
//! | `fault` | see below | injected failure |
//! | `retry_after` | s | 429 wait (header, or Gemini `RetryInfo`) |
//! | `stall_ms` | ms (3 600 000) | length of a stall |
//! | `after` | n (half) | output tokens before a mid-stream fault |
//!
//! Prompt caching: the server remembers prompt prefixes per provider and model for its
//! lifetime. Anthropic and Bedrock report the prefix up to a `cache_control` or `cachePoint`
//! marker as a cache write the first time and a cache read after (1-hour writes apart);
//! the other providers report a repeated prefix of at least 1024 tokens as cached input,
//! in 128-token steps.
//!
//! Faults: `429 500 503 529 401 404 400ctx` (error status and body), `stall_first`,
//! `stall_mid`, `drop_mid` (connection aborted mid-body), `malformed` (one broken JSON event),
//! `no_terminator`, `html200`, `error_event` (in-stream error, then end), `big_line`
//! (one 1 MiB content event).

mod anthropic;
mod azure;
mod bedrock;
mod cache_state;
mod common;
mod corpus;
mod driver;
mod gemini;
mod openai;
mod plan;
mod responses;
mod schema_answer;
mod script;
mod server;
mod tool_answer;
mod wire;

pub use script::display_model;

pub use bedrock::{
    TEST_ACCESS_KEY_ID as BEDROCK_TEST_ACCESS_KEY_ID,
    TEST_SECRET_ACCESS_KEY as BEDROCK_TEST_SECRET_ACCESS_KEY,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running mock server; dropping it without [`MockServer::shutdown`] leaves it serving
/// until the runtime ends.
pub struct MockServer {
    addr: SocketAddr,
    log: SendLog,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Binds (port 0 = ephemeral) and serves on the current tokio runtime until shutdown.
    ///
    /// Returns as soon as the socket is bound. The tokenizer tables the server counts
    /// usage with (tens of MB, tens of ms to load) are not loaded here: the first request
    /// that counts waits for them before its headers, on a blocking thread, and the
    /// requests after it find them loaded (they load once per process). A workbench
    /// draws meanwhile; [`MockServer::tables_loaded`] loads them up front for a caller
    /// that would rather not have that wait in its first TTFB.
    pub async fn start(addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let log = SendLog::default();
        let stop = CancellationToken::new();
        let task = tokio::spawn(server::serve(listener, log.clone(), stop.clone()));
        Ok(MockServer {
            addr,
            log,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL OpenAI clients expect.
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`; Anthropic clients append `/v1/messages`.
    pub fn anthropic_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT`; Gemini clients append `/v1beta/models/...`.
    pub fn gemini_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL a target of `kind` uses to reach this server: the address plus the
    /// path the provider table says servers of that kind are mounted under.
    pub fn base_url(&self, kind: crate::target::ProviderKind) -> String {
        format!("http://{}{}", self.addr, kind.spec().base_path)
    }

    /// Load the tokenizer tables the server counts usage with now, if they are not yet
    /// (on a blocking thread), so no response's TTFB includes their load.
    pub async fn tables_loaded(&self) {
        if !crate::tokens::ready() {
            // A failed join only means the first request waits for them instead.
            let _ = tokio::task::spawn_blocking(crate::tokens::warm_up).await;
        }
    }

    /// What the server actually did, one record per request.
    pub fn log(&self) -> &SendLog {
        &self.log
    }

    /// Stops accepting, aborts in-flight streams and waits for every connection task.
    pub async fn shutdown(self) {
        self.stop.cancel();
        // The accept task only ends by itself; a panic inside it is already reported.
        let _ = self.task.await;
    }
}

/// `prism mock --addr A`: serve until Ctrl-C or SIGTERM, announcing the bound address.
pub async fn serve_until_signal(addr: SocketAddr) -> std::io::Result<()> {
    use std::io::Write;
    let server = MockServer::start(addr).await?;
    // A standalone server says it is listening once it can keep every scripted time: its
    // first request should not pay for the tables (nothing draws meanwhile here).
    server.tables_loaded().await;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "prism mock listening on http://{}", server.addr())?;
        out.flush()?;
    }
    wait_for_signal().await?;
    server.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}

/// Shared, append-only record of every request the server answered.
#[derive(Clone, Default)]
pub struct SendLog {
    inner: Arc<Mutex<Vec<SendRecord>>>,
    in_flight: Arc<Mutex<InFlight>>,
    /// The prompt prefixes this server has cached.
    cache: Arc<Mutex<cache_state::Memory>>,
}

/// Requests being answered now, and the most at once so far: overall and per path.
#[derive(Default)]
struct InFlight {
    now: usize,
    max: usize,
    paths: std::collections::HashMap<String, (usize, usize)>,
}

/// One request counted in flight until it is dropped (with its response body).
pub(crate) struct InFlightGuard {
    log: SendLog,
    path: String,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut f = self.log.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        f.now = f.now.saturating_sub(1);
        if let Some((now, _)) = f.paths.get_mut(&self.path) {
            *now = now.saturating_sub(1);
        }
    }
}

impl SendLog {
    /// The most requests this server was answering at once (from the request's arrival
    /// to the end of its response body), since it started.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).max
    }

    /// [`SendLog::max_in_flight`] for the requests to one path (`/v1/chat/completions`).
    pub fn max_in_flight_on(&self, path: &str) -> usize {
        let f = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        f.paths.get(path).map_or(0, |(_, max)| *max)
    }

    /// Count a request to `path` in flight until the guard is dropped.
    pub(crate) fn enter(&self, path: &str) -> InFlightGuard {
        let mut f = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        f.now += 1;
        f.max = f.max.max(f.now);
        let (now, max) = f.paths.entry(path.to_string()).or_default();
        *now += 1;
        *max = (*max).max(*now);
        InFlightGuard {
            log: self.clone(),
            path: path.to_string(),
        }
    }

    /// The prompt prefixes this server has cached.
    pub(crate) fn cache_memory(&self) -> &Mutex<cache_state::Memory> {
        &self.cache
    }

    /// A snapshot of all records, in arrival order.
    pub fn records(&self) -> Vec<SendRecord> {
        self.lock().clone()
    }

    /// The record for the id the mock sent in its request-id header.
    pub fn find(&self, request_id: &str) -> Option<SendRecord> {
        self.lock().iter().find(|r| r.request_id == request_id).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<SendRecord>> {
        // A panic while holding the lock cannot leave a record half-written in a way that
        // matters to readers, so keep serving.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, record: SendRecord) -> LogSlot {
        let mut records = self.lock();
        records.push(record);
        LogSlot {
            log: self.clone(),
            index: records.len() - 1,
        }
    }
}

/// A handle to update one record while its response is being sent.
#[derive(Clone)]
pub(crate) struct LogSlot {
    log: SendLog,
    index: usize,
}

impl LogSlot {
    pub(crate) fn update(&self, f: impl FnOnce(&mut SendRecord)) {
        if let Some(r) = self.log.lock().get_mut(self.index) {
            f(r);
        }
    }

    /// How many requests so far (this one included) asked for the same provider and
    /// model string, directives and all: the attempt number for `fail_first`.
    pub(crate) fn attempt_number(&self) -> usize {
        let records = self.log.lock();
        let Some(me) = records.get(self.index) else {
            return 0;
        };
        records[..=self.index]
            .iter()
            .filter(|r| r.provider == me.provider && r.model == me.model)
            .count()
    }
}

/// What the server did for one request.
#[derive(Clone, Debug)]
pub struct SendRecord {
    /// The id the mock put in the response header.
    pub request_id: String,
    /// `"openai"`, `"openai-responses"`, `"anthropic"`, `"gemini"`, `"azure"`,
    /// `"azure-responses"` or `"bedrock"`.
    pub provider: &'static str,
    pub path: String,
    /// The query string as received, if any.
    pub query: Option<String>,
    /// Request headers as received (names lower-case), for tests of what a client sent.
    pub headers: Vec<(String, String)>,
    /// The request body as received.
    pub body: String,
    /// Model name as received, directives included.
    pub model: String,
    /// The last user message's text, as received.
    pub prompt: String,
    /// When the request head and body had been fully read.
    pub received_at: Instant,
    /// Taken right before the first content frame was handed to hyper.
    pub first_content_at: Option<Instant>,
    pub last_content_at: Option<Instant>,
    pub content_events: usize,
    /// The stream ran to its natural end (terminal marker written). False for error
    /// statuses and injected faults.
    pub completed: bool,
    /// The client went away (or the server shut down) before the end.
    pub client_disconnected: bool,
}
