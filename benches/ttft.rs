//! TTFT against a raw-socket reference client (numbers go to BENCHMARKS.md).
//!
//! Each round sends 8 concurrent Prism targets (OpenAI chat, Anthropic and Gemini wire
//! formats in turn) to the in-process mock, and 8 concurrent reference requests with the
//! same formats and directives; the two take turns (each first in every other round), so
//! they never compete. The reference is raw tokio sockets on a single-threaded runtime of
//! its own, no HTTP library: it writes the exact request bytes, starts its clock when the
//! last write returns, and stops it at the read that carried the first byte of the first
//! SSE event with content (the event Prism's TTFT ends at). Both open a fresh connection
//! per request and leave it out of TTFT. Each target's scripted delay differs (50 + 4i
//! ms), so the single-threaded mock never owes two first frames at once.
//!
//! Besides TTFT beyond the script, the mock's log splits each TTFT into its way up
//! (last byte written → the mock has read the request) and its way down (the mock hands
//! the first content to hyper → the client's read returns): what remains is the mock's
//! own time, the same for both clients.
//!
//! `cargo bench --profile dev --bench ttft` (`-- ROUNDS`, default 40; `-- draw` adds a
//! thread drawing the workbench with 8 streaming panes at 60 fps meanwhile).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::{MockServer, SendLog};
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The mock's fixed delay from request read to first content frame for target `i`:
/// staggered, so the (single-threaded) mock never owes two first frames at once.
fn scripted_ttft_ms(i: usize) -> u64 {
    50 + 4 * i as u64
}
const TARGETS: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    OpenAi,
    Anthropic,
    Gemini,
}

const FORMATS: [Format; 3] = [Format::OpenAi, Format::Anthropic, Format::Gemini];

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::OpenAi => "openai chat",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
        }
    }

    fn model(self, i: usize) -> String {
        let model = match self {
            Self::OpenAi => "gpt-4o-mini-2024-07-18",
            Self::Anthropic => "claude-sonnet-4-20250514",
            Self::Gemini => "gemini-2.5-flash",
        };
        format!("{model}+ttft={},itl=2,tokens=8", scripted_ttft_ms(i))
    }

    fn target(self, i: usize, base: &str) -> Target {
        let (provider, base_url) = match self {
            Self::OpenAi => (ProviderKind::OpenAi, format!("{base}/v1")),
            Self::Anthropic => (ProviderKind::Anthropic, base.to_string()),
            Self::Gemini => (ProviderKind::Gemini, base.to_string()),
        };
        Target {
            name: format!("t{i}"),
            provider,
            model: self.model(i),
            base_url,
            key: KeySource::Demo,
            params: Params {
                max_tokens: Some(200),
                stream: true,
                ..Params::default()
            },
        }
    }

    /// The exact bytes the reference client writes.
    fn request(self, i: usize, addr: SocketAddr) -> Vec<u8> {
        let model = self.model(i);
        let (path, headers, body) = match self {
            Self::OpenAi => (
                "/v1/chat/completions".to_string(),
                "authorization: Bearer demo\r\n",
                format!(
                    r#"{{"model":"{model}","messages":[{{"role":"user","content":"benchmark"}}],"stream":true,"stream_options":{{"include_usage":true}},"max_tokens":200}}"#
                ),
            ),
            Self::Anthropic => (
                "/v1/messages".to_string(),
                "x-api-key: demo\r\nanthropic-version: 2023-06-01\r\n",
                format!(
                    r#"{{"model":"{model}","max_tokens":200,"messages":[{{"role":"user","content":"benchmark"}}],"stream":true}}"#
                ),
            ),
            Self::Gemini => (
                format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
                "x-goog-api-key: demo\r\n",
                r#"{"contents":[{"role":"user","parts":[{"text":"benchmark"}]}],"generationConfig":{"maxOutputTokens":200}}"#.to_string(),
            ),
        };
        format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    /// Text that appears only in an event carrying answer content.
    fn content_marker(self) -> &'static [u8] {
        match self {
            Self::OpenAi => br#""delta":{"content":""#,
            Self::Anthropic => b"\"text_delta\"",
            Self::Gemini => b"\"text\": \"",
        }
    }

    fn of(i: usize) -> Self {
        FORMATS[i % FORMATS.len()]
    }
}

/// One reference request: connect (untimed), write, and time until the read that
/// carried the first byte of the first content event.
async fn raw_ttft(addr: SocketAddr, i: usize) -> Sample {
    let format = Format::of(i);
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.set_nodelay(true).unwrap();
    let request = format.request(i, addr);
    sock.write_all(&request).await.unwrap();
    let sent = Instant::now();
    let mut buf = Vec::new();
    // (end offset in `buf`, arrival) of every read.
    let mut reads: Vec<(usize, Instant)> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = sock.read(&mut chunk).await.unwrap();
        let at = Instant::now();
        assert!(n > 0, "the mock closed before content");
        buf.extend_from_slice(&chunk[..n]);
        reads.push((buf.len(), at));
        let Some(marker) = find(&buf, format.content_marker()) else {
            continue;
        };
        let after_blank = buf[..marker]
            .windows(2)
            .rposition(|w| w == b"\n\n")
            .map_or(0, |p| p + 2);
        // Skip the chunked-encoding size line: the event begins at its first field.
        let start = [&b"event:"[..], b"data:"]
            .iter()
            .filter_map(|field| find(&buf[after_blank..], field))
            .min()
            .map_or(after_blank, |p| after_blank + p);
        let (_, first_byte_at) = reads.iter().find(|(end, _)| *end > start).unwrap();
        let head = String::from_utf8_lossy(&buf);
        let request_id = head
            .lines()
            .find_map(|l| l.strip_prefix("x-mock-request-id: "))
            .unwrap()
            .to_string();
        return Sample {
            sent,
            arrival: *first_byte_at,
            request_id,
        };
    }
}

/// 8 reference requests at once, on a runtime of their own.
fn raw_round(rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Vec<Sample> {
    rt.block_on(async {
        let tasks: Vec<_> = (0..TARGETS).map(|i| tokio::spawn(raw_ttft(addr, i))).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
}

/// One measured TTFT, with what identifies it in the mock's log.
struct Sample {
    /// The clock's start: the request's last byte written.
    sent: Instant,
    /// The clock's stop: the read that brought the first content.
    arrival: Instant,
    request_id: String,
}

/// In ms: (TTFT beyond the mock's scripted delay, the request's way up: last byte
/// written to the mock having read it all, the first content's way down: the mock
/// handing it to hyper to the client's read returning). Up and down are TTFT minus the
/// mock's own time (its record of both ends), so the wire plus each side's scheduling.
fn measure(i: usize, s: &Sample, log: &SendLog) -> [f64; 3] {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let rec = log.find(&s.request_id).unwrap();
    let first = rec.first_content_at.unwrap();
    [
        ms(s.arrival.duration_since(s.sent)) - scripted_ttft_ms(i) as f64,
        ms(rec.received_at.saturating_duration_since(s.sent)),
        ms(s.arrival.saturating_duration_since(first)),
    ]
}

fn format_index(format: Format) -> usize {
    FORMATS.iter().position(|f| *f == format).unwrap()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn prism_round(targets: &[Target]) -> Vec<TargetRun> {
    let request = ChatRequest::single(None, "benchmark");
    let mut handle = fan_out(targets, &request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = handle.events.recv().await {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    runs
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Draws the workbench (8 panes streaming markdown) to a test terminal at 60 fps until
/// `stop`, as the TUI would while a run streams.
fn draw_workbench(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    use prism::engine::{Envelope, RunId};
    use prism::keys::Action;
    use prism::provider::event::StreamEvent;
    use prism::tui::effects::event_loop::Screen;
    use prism::tui::input::keymap::Keymap;
    use prism::tui::model::app::App;
    use prism::tui::model::msg::Msg;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    std::thread::spawn(move || {
        let targets = (0..TARGETS)
            .map(|i| Format::of(i).target(i, "http://127.0.0.1:1"))
            .collect();
        let mut app = App::new(
            targets,
            Keymap::default(),
            prism::tui::theme::load("dark").unwrap(),
            "bench".into(),
        );
        app.update(Msg::EditorClosed(Ok("bench".into())));
        app.act(Action::Send);
        let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
        let text = "Some **markdown** with `code` and a list:\n- one\n- two\n\n```rust\nfn main() {}\n```\n";
        let mut frame = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let next = Instant::now() + Duration::from_micros(16_667);
            for pane in 0..TARGETS {
                let env = Envelope {
                    run: RunId(1),
                    target: pane,
                    at: Instant::now(),
                    event: StreamEvent::TextDelta(text[frame % 7..].into()),
                };
                app.update(Msg::Stream { pane, env });
            }
            term.frame(&mut app).unwrap();
            frame += 1;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rounds: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(40);
    let drawing = args.iter().any(|a| a == "draw");

    // The mock gets its own runtime and thread, so it does not queue behind the clients.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await
                .unwrap();
            tx.send((server.addr(), server.log().clone())).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (addr, log) = rx.recv().unwrap();
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The reference: one thread, its own event loop, no HTTP library.
    let raw_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let targets: Vec<Target> = (0..TARGETS).map(|i| Format::of(i).target(i, &base)).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let drawer = drawing.then(|| draw_workbench(stop.clone()));

    // Per format, each side's [`measure`] of every request.
    let mut prism_ms: Vec<Vec<[f64; 3]>> = vec![Vec::new(); FORMATS.len()];
    let mut raw_ms: Vec<Vec<[f64; 3]>> = vec![Vec::new(); FORMATS.len()];
    for round in 0..rounds {
        // The two clients take turns within a round (each going first in every other
        // round), so neither competes with the other for the mock or the CPU.
        for side in [round % 2, 1 - round % 2] {
            if side == 0 {
                let runs = rt.block_on(prism_round(&targets));
                for (i, r) in runs.iter().enumerate() {
                    assert_eq!(r.outcome, Some(Outcome::Done));
                    let s = Sample {
                        sent: r.sent_at.unwrap(),
                        arrival: r.first_content_at.unwrap(),
                        request_id: r.request_id.clone().unwrap(),
                    };
                    prism_ms[format_index(Format::of(i))].push(measure(i, &s, &log));
                }
            } else {
                for (i, s) in raw_round(&raw_rt, addr).iter().enumerate() {
                    raw_ms[format_index(Format::of(i))].push(measure(i, s, &log));
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(d) = drawer {
        d.join().unwrap();
    }

    let condition = if drawing {
        ", workbench drawing at 60 fps"
    } else {
        ""
    };
    for (part, title) in [
        "TTFT beyond the mock's scripted 50-78 ms",
        "up: request's last byte written -> mock has read it all",
        "down: mock hands the first content to hyper -> client's read returns",
    ]
    .into_iter()
    .enumerate()
    {
        println!(
            "## TTFT vs a raw-socket client: {title}, ms ({rounds} rounds x {TARGETS} concurrent targets{condition})"
        );
        println!(
            "| format | Prism median | raw median | Δ median | Prism p90 | raw p90 | Δ p90 |\n|---|---|---|---|---|---|---|"
        );
        let pick = |v: &[[f64; 3]]| -> Vec<f64> { v.iter().map(|x| x[part]).collect() };
        let mut all_prism = Vec::new();
        let mut all_raw = Vec::new();
        for (f, format) in FORMATS.iter().enumerate() {
            let (p, r) = (pick(&prism_ms[f]), pick(&raw_ms[f]));
            all_prism.extend_from_slice(&p);
            all_raw.extend_from_slice(&r);
            row(format.name(), p, r);
        }
        row("all", all_prism, all_raw);
        println!();
    }
}

fn row(name: &str, mut p: Vec<f64>, mut r: Vec<f64>) {
    p.sort_by(f64::total_cmp);
    r.sort_by(f64::total_cmp);
    let (pm, rm) = (percentile(&p, 0.5), percentile(&r, 0.5));
    let (p9, r9) = (percentile(&p, 0.9), percentile(&r, 0.9));
    println!(
        "| {name} | {pm:.3} | {rm:.3} | {:+.3} | {p9:.3} | {r9:.3} | {:+.3} |",
        pm - rm,
        p9 - r9
    );
}
