//! CPU per token, Prism against `curl -N`, on the same bytes (not a test: numbers go to
//! BENCHMARKS.md, "CPU per token vs curl").
//!
//! `cargo bench --bench wire_cpu` runs every scenario; `-- openai`, `-- anthropic`,
//! `-- eight`, `-- one` narrow it down, `-- decode` runs only the SSE decoder part and
//! `-- mock` only the part against the mock itself (both below). `PRISM_BENCH_BINS=before=/path/a,after=/path/b`
//! measures those `prism` binaries instead of this build's, each on the same bytes one
//! right after the other, so a change is compared under the same conditions.
//!
//! Each stream is first recorded once from the in-process mock (`+ttft=0,itl=0`), then
//! served from memory by a tiny static HTTP server on its own thread: the server does no
//! work per token, so neither client waits on it more than the other. Both clients run as
//! child processes of this one, and each one's CPU (user + system) is what the kernel
//! charged it, read as this process's waited-for children's time before and after it.
//! Prism runs as scripts run it (`prism run --no-save`), so the figure covers everything
//! the headless path does per token: framing, decoding, the fan-out, the metrics fold.
//! curl and each build take turns for `PRISM_BENCH_ROUNDS` rounds (5 unless set), and
//! each figure is the mean of its rounds.
//!
//! The decoder part times `provider::sse` alone, in this process, on the same recorded
//! bodies cut into 64 KiB reads, against `sse-parse` (the crate it replaced, kept as its
//! tests' oracle): nanoseconds per event, best of 5 passes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};

use std::sync::Arc;
use std::time::Instant;

#[path = "support/prism_run.rs"]
mod prism_run;
#[path = "support/reaped.rs"]
mod reaped;
#[path = "support/static_server.rs"]
mod static_server;
use prism_run::{Streams, bins, prism_run};
use reaped::Reaped;
use static_server::serve;

use prism::mock_server::MockServer;
use prism::provider::credentials::Credentials;
use prism::provider::request::ChatRequest;
use prism::provider::secret::ApiKey;
use prism::target::{KeySource, Params, ProviderKind, Target};

/// The allocator `prism mock` runs with, so the in-process mock costs what it costs there:
/// under glibc's malloc, rendering an answer's frames took most of the machine.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The wire formats measured: the kind, the model the mock plays, the base URL suffix.
const FORMATS: [(&str, ProviderKind, &str); 2] = [
    ("openai", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
    ("anthropic", ProviderKind::Anthropic, "claude-sonnet-4-20250514"),
];

/// The shapes measured: name, streams, tokens per stream.
const SHAPES: [(&str, usize, u64); 2] = [("eight", 8, 100_000), ("one", 1, 1_000_000)];

fn base_url(kind: ProviderKind, addr: SocketAddr) -> String {
    match kind {
        ProviderKind::OpenAi => format!("http://{addr}/v1"),
        _ => format!("http://{addr}"),
    }
}

/// A streaming target; `max_tokens` at least the stream's length, or the mock stops there.
fn target(kind: ProviderKind, model: &str, base: String, max_tokens: u64) -> Target {
    Target {
        name: "bench".into(),
        provider: kind,
        model: model.into(),
        base_url: base,
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(u32::try_from(max_tokens).unwrap()),
            stream: true,
            ..Params::default()
        },
    }
}

/// One whole streamed response body of `tokens` tokens, as the mock sends it.
fn record(kind: ProviderKind, model: &str, tokens: u64) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        let t = target(
            kind,
            &format!("{model}+ttft=0,itl=0,tokens={tokens},text=lorem"),
            base_url(kind, server.addr()),
            tokens,
        );
        let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(5))
            .unwrap()
            .http;
        let creds = Credentials::from_key(t.provider.spec().auth, Some(ApiKey::new("bench"))).unwrap();
        let req =
            prism::provider::build_request(&client, &t, &ChatRequest::single(None, "benchmark"), &creds)
                .unwrap();
        let resp = client.execute(req).await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let body: Vec<u8> = resp.bytes().await.unwrap().into();
        // One event per token (plus a few lifecycle ones): a body cut short (by
        // `max_tokens`, say) would make every ratio below a lie.
        let events = body.windows(6).filter(|w| w == b"data: ").count() as u64;
        assert!(
            events >= tokens,
            "the recorded stream has {events} events for {tokens} tokens"
        );
        body
    })
}

/// CPU seconds (user + system) of this process's waited-for children, from
/// /proc/self/stat (clock ticks of 10 ms: summed over rounds for shorter runs).
fn children_cpu() -> f64 {
    // cutime and cstime.
    stat_seconds(16, 17)
}

/// CPU seconds of this process: in the mock runs, the mock's.
fn own_cpu() -> f64 {
    // utime and stime.
    stat_seconds(14, 15)
}

fn stat_seconds(a: usize, b: usize) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // After the command name, state is field 3.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    let tick = |i: usize| fields[i - 3].parse::<f64>().unwrap() / 100.0;
    tick(a) + tick(b)
}

/// Run `cmds` together, wait for all; (wall seconds, CPU seconds they used). Every
/// child is killed and reaped if one fails.
fn measure(cmds: Vec<Command>) -> (f64, f64) {
    let (wall, cpu, _) = measure_with_own(cmds);
    (wall, cpu)
}

/// [`measure`], with the CPU seconds this process used meanwhile.
fn measure_with_own(cmds: Vec<Command>) -> (f64, f64, f64) {
    let (cpu0, own0) = (children_cpu(), own_cpu());
    let t0 = Instant::now();
    let children: Vec<Reaped> = cmds.into_iter().map(|mut c| Reaped::spawn(&mut c)).collect();
    for c in children {
        let out = c.wait_with_output();
        assert!(
            out.status.success(),
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (
        t0.elapsed().as_secs_f64(),
        children_cpu() - cpu0,
        own_cpu() - own0,
    )
}

fn prism_command(
    bin: &str,
    kind: ProviderKind,
    model: &str,
    addr: SocketAddr,
    streams: usize,
    max_tokens: Option<u64>,
    dir: &std::path::Path,
) -> Command {
    let provider = match kind {
        ProviderKind::OpenAi => "openai",
        _ => "anthropic",
    };
    let streams = Streams {
        provider,
        model,
        base_url: base_url(kind, addr),
        streams,
        max_tokens,
    };
    prism_run(bin, &streams, dir)
}

fn curl_command(kind: ProviderKind, model: &str, addr: SocketAddr, tokens: u64) -> Command {
    let t = target(kind, model, base_url(kind, addr), tokens);
    let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(5))
        .unwrap()
        .http;
    let creds = Credentials::from_key(t.provider.spec().auth, Some(ApiKey::new("bench"))).unwrap();
    let req =
        prism::provider::build_request(&client, &t, &ChatRequest::single(None, "benchmark"), &creds).unwrap();
    let body = String::from_utf8_lossy(req.body().and_then(|b| b.as_bytes()).unwrap()).into_owned();
    let mut c = Command::new("curl");
    c.args([
        "-sSN",
        "-o",
        "/dev/null",
        "-X",
        "POST",
        req.url().as_str(),
        "--data-binary",
        &body,
    ]);
    for (k, v) in req.headers() {
        c.args(["-H", &format!("{}: {}", k, v.to_str().unwrap())]);
    }
    c.stdin(Stdio::null()).stderr(Stdio::piped());
    c
}

fn curl_present() -> bool {
    let mut c = Command::new("curl");
    c.arg("--version").stdout(Stdio::null());
    reaped::status(&mut c).is_ok_and(|s| s.success())
}

/// Whether the arguments pick `name` of `group` (formats, shapes): naming none picks all.
fn picked(args: &[String], group: &[&str], name: &str) -> bool {
    !args.iter().any(|a| group.contains(&a.as_str())) || args.iter().any(|a| a == name)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.iter().any(|a| a == "decode") {
        return decode_per_event();
    }
    if args.iter().any(|a| a == "mock") {
        return from_the_mock(&args);
    }
    let curl = curl_present();
    if !curl {
        println!("curl not found: Prism's CPU is printed alone, without the ratio.\n");
    }
    let rounds = rounds();
    println!(
        "## CPU per token: Prism (`prism run`) vs `curl -N`, same bytes from a static server, means of {rounds} rounds\n"
    );
    let bins = bins();
    println!(
        "| format | streams x tokens | build | body MB | Prism CPU s | Prism tokens/s | curl CPU s | curl tokens/s | Prism / curl CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    for (name, kind, model) in FORMATS {
        if !picked(&args, &["openai", "anthropic"], name) {
            continue;
        }
        for (shape, streams, tokens) in SHAPES {
            if !picked(&args, &["eight", "one"], shape) {
                continue;
            }
            let body = Arc::new(record(kind, model, tokens));
            let addr = serve(body.clone());
            let all = (streams as u64 * tokens) as f64;
            // Wall and CPU seconds summed over the rounds, per client (curl first). One
            // run of curl on 1M tokens costs a few of the kernel's 10 ms ticks; the sum
            // over rounds, taken in turns with each build, is what makes the ratio hold.
            let mut sums = vec![(0.0, 0.0); bins.len() + 1];
            for _ in 0..rounds {
                if curl {
                    let (wall, cpu) = measure(
                        (0..streams)
                            .map(|_| curl_command(kind, model, addr, tokens))
                            .collect(),
                    );
                    sums[0].0 += wall;
                    sums[0].1 += cpu;
                } else {
                    sums[0] = (f64::NAN, f64::NAN);
                }
                for (i, (_, bin)) in bins.iter().enumerate() {
                    let cmd = prism_command(bin, kind, model, addr, streams, None, dir.path());
                    let (wall, cpu) = measure(vec![cmd]);
                    sums[i + 1].0 += wall;
                    sums[i + 1].1 += cpu;
                }
            }
            let n = rounds as f64;
            let (c_wall, c_cpu) = (sums[0].0 / n, sums[0].1 / n);
            for ((build, _), (wall, cpu)) in bins.iter().zip(&sums[1..]) {
                let (p_wall, p_cpu) = (wall / n, cpu / n);
                println!(
                    "| {name} | {streams} x {tokens} | {build} | {:.1} | {p_cpu:.3} | {:.0} | {c_cpu:.3} | {:.0} | {:.2}x |",
                    (body.len() * streams) as f64 / 1e6,
                    all / p_wall,
                    all / c_wall,
                    p_cpu / c_cpu,
                );
            }
        }
    }
}

/// Rounds unless `PRISM_BENCH_ROUNDS` says otherwise.
fn rounds() -> usize {
    std::env::var("PRISM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(ROUNDS)
}

/// 8 × 100k tokens straight from the mock (`+ttft=0,itl=0`), which writes each event on
/// its own as model servers do, so a read carries about one event and the cost per read
/// shows. The mock runs in this process on two runtime threads, competing for the
/// machine with the client as a local model server would; each client's CPU is its own,
/// and the mock's is shown for each client's runs: a client that reads late makes the
/// server's writes wait, and a server on the same machine pays for that.
///
/// The mock takes most of the machine, and its share moves from run to run, so curl and
/// each build take turns for [`ROUNDS`] rounds (`PRISM_BENCH_ROUNDS`) and the medians are
/// compared.
fn from_the_mock(args: &[String]) {
    const STREAMS: usize = 8;
    const TOKENS: u64 = 100_000;
    let rounds = rounds();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
        .unwrap();
    let addr = server.addr();
    let dir = tempfile::tempdir().unwrap();
    println!("## 8 x 100k tokens from the mock itself (one event per write), medians of {rounds} rounds\n");
    println!("| format | client | CPU s | mock CPU s | tokens/s | tokens/s / curl's |");
    println!("|---|---|---|---|---|---|");
    let all = (STREAMS as u64 * TOKENS) as f64;
    let bins = bins();
    for (name, kind, model) in FORMATS {
        if !picked(args, &["openai", "anthropic"], name) {
            continue;
        }
        let model = format!("{model}+ttft=0,itl=0,tokens={TOKENS},text=lorem");
        // Per client (curl first), its rounds.
        let mut runs: Vec<Vec<Round>> = vec![Vec::new(); bins.len() + 1];
        for _ in 0..rounds {
            let (wall, cpu, mock) = measure_with_own(
                (0..STREAMS)
                    .map(|_| curl_command(kind, &model, addr, TOKENS))
                    .collect(),
            );
            runs[0].push(Round::of(wall, cpu, mock, all));
            for (i, (_, bin)) in bins.iter().enumerate() {
                // The mock honours `max_tokens`, and an Anthropic request always carries one.
                let cmd = prism_command(bin, kind, &model, addr, STREAMS, Some(TOKENS), dir.path());
                let (wall, cpu, mock) = measure_with_own(vec![cmd]);
                runs[i + 1].push(Round::of(wall, cpu, mock, all));
            }
        }
        let median = |runs: &[Round], pick: fn(&Round) -> f64| {
            prism::stats::Dist::of(runs.iter().map(pick))
                .p50
                .unwrap_or(f64::NAN)
        };
        let curl_rate = median(&runs[0], |r| r.rate);
        let labels = std::iter::once("curl -N").chain(bins.iter().map(|(label, _)| label.as_str()));
        for (label, runs) in labels.zip(&runs) {
            let rate = median(runs, |r| r.rate);
            println!(
                "| {name} | {label} | {:.2} | {:.2} | {rate:.0} | {:.2} |",
                median(runs, |r| r.cpu),
                median(runs, |r| r.mock_cpu),
                rate / curl_rate,
            );
        }
    }
    println!();
    drop(rt);
}

/// Rounds of each part unless `PRISM_BENCH_ROUNDS` says otherwise.
const ROUNDS: usize = 5;

/// One client's run in one round against the mock.
#[derive(Debug, Clone, Copy)]
struct Round {
    /// The client's CPU seconds.
    cpu: f64,
    /// The mock's CPU seconds meanwhile.
    mock_cpu: f64,
    /// Tokens a second, all streams together.
    rate: f64,
}

impl Round {
    fn of(wall: f64, cpu: f64, mock_cpu: f64, tokens: f64) -> Self {
        Self {
            cpu,
            mock_cpu,
            rate: tokens / wall,
        }
    }
}

/// Nanoseconds per event for Prism's SSE decoder and for `sse-parse` on each format's
/// recorded body, fed in 64 KiB reads as a socket would hand them over.
fn decode_per_event() {
    const READ: usize = 64 * 1024;
    const TOKENS: u64 = 100_000;
    println!("## SSE decoding alone: ns per event, 64 KiB reads, best of 5\n");
    println!("| format | events | provider::sse ns/event | sse-parse ns/event | ratio |");
    println!("|---|---|---|---|---|");
    for (name, kind, model) in FORMATS {
        let body = record(kind, model, TOKENS);
        let best = |f: &dyn Fn() -> usize| {
            let mut runs: Vec<(f64, usize)> = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let n = f();
                    (t.elapsed().as_secs_f64(), n)
                })
                .collect();
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
            runs[0]
        };
        let ours = best(&|| {
            let mut d = prism::provider::sse::SseDecoder::new();
            let mut n = 0usize;
            let at = Instant::now();
            for read in body.chunks(READ) {
                let mut events = d.feed(read, at);
                while let Some(e) = events.next() {
                    std::hint::black_box(e.data.len());
                    n += 1;
                }
            }
            n
        });
        let theirs = best(&|| {
            let mut p = sse_parse::SseParser::new();
            let mut n = 0usize;
            for read in body.chunks(READ) {
                p.feed(read);
                while let Some(e) = p.next_event() {
                    std::hint::black_box(e.data.len());
                    n += 1;
                }
            }
            n
        });
        assert_eq!(ours.1, theirs.1, "{name}: both decoders see the same events");
        let per = |(s, n): (f64, usize)| s * 1e9 / n as f64;
        println!(
            "| {name} | {} | {:.0} | {:.0} | {:.2}x |",
            ours.1,
            per(ours),
            per(theirs),
            per(theirs) / per(ours)
        );
    }
    println!();
}
