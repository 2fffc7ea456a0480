//! Memory per token and start-up, Prism against its peers (not a test: numbers go to
//! BENCHMARKS.md, "Memory and start-up").
//!
//! `cargo bench --bench memory` runs every part; `-- kept`, `-- peak`, `-- startup`
//! narrow it down. `PRISM_BENCH_BINS=before=/path/a,after=/path/b` measures those `prism`
//! binaries (for `peak` and `startup`) instead of this build's, one right after the
//! other under the same conditions.
//!
//! - `kept`: the heap a finished run keeps per token beyond its text, counted by this
//!   process's allocator: 8 streams of 10k and of 100k tokens folded by the engine in
//!   process, the difference between the two sizes divided by the tokens between them
//!   (so fixed costs drop out).
//! - `peak`: peak RSS (the kernel's high-water mark, via `/usr/bin/time`) of
//!   `prism run --no-save --format jsonl` on 8 × 100k tokens, and of two peers on the
//!   same bytes: the official OpenAI Python SDK (benches/peers/openai_sdk.py, run by the
//!   Python of the virtualenv in `PRISM_BENCH_VENV`, by default `conformance-venv` in the
//!   target directory) and one `curl -N` process fetching all 8 streams in parallel, the
//!   floor. Each stream is recorded once from the in-process mock and served from memory
//!   by a static server, as in benches/wire_cpu.rs.
//! - `startup`: from spawning the process to its first drawn frame, for the demo
//!   workbench (`prism --demo`) and for `prism run --demo` (whose first output is its
//!   progress lines), each on a pseudo-terminal whose other side the bench holds and
//!   answers the workbench's queries on, as a terminal would; the frame counts as drawn when the
//!   first target's name reaches the terminal. The median of 9 runs; the same
//!   wait for a shell that prints that name at once is given as the floor.

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::alloc::System;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/prism_run.rs"]
mod prism_run;
#[path = "support/pty.rs"]
mod pty;
#[path = "support/reaped.rs"]
mod reaped;
#[path = "support/static_server.rs"]
mod static_server;
use prism_run::{Streams, bins, prism_run};
use pty::OnPty;
use reaped::Reaped;
use static_server::serve;

use prism::engine::metrics::TargetRun;
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::credentials::Credentials;
use prism::provider::request::ChatRequest;
use prism::provider::secret::ApiKey;
use prism::target::{KeySource, Params, ProviderKind, Target};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

const MODEL: &str = "gpt-4o-mini-2024-07-18";
const STREAMS: usize = 8;
const TOKENS: u64 = 100_000;

/// The system allocator, counting what is allocated and freed (`stats_alloc`).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes live on the heap now. `stats_alloc` already adds a reallocation's growth to
/// `bytes_allocated` (and its shrinking to `bytes_deallocated`); its `bytes_reallocated`
/// is the same net change again, so adding it would count every grown buffer twice.
fn live() -> isize {
    let s = ALLOCATOR.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

fn target(base: String) -> Target {
    Target {
        name: "bench".into(),
        provider: ProviderKind::OpenAi,
        model: MODEL.into(),
        base_url: base,
        key: KeySource::Demo,
        // No cap: the mock would stop a capped request at the cap.
        params: Params {
            stream: true,
            ..Params::default()
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One whole streamed response body of `tokens` tokens, as the mock sends it.
fn record(tokens: u64) -> Vec<u8> {
    runtime().block_on(async {
        let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        let t = target(format!("http://{}/v1", server.addr()));
        let t = Target {
            model: format!("{MODEL}+ttft=0,itl=0,tokens={tokens},text=lorem"),
            ..t
        };
        let client = prism::provider::client::TimedClient::new(Duration::from_secs(5))
            .unwrap()
            .http;
        let creds = Credentials::from_key(t.provider.spec().auth, Some(ApiKey::new("bench"))).unwrap();
        let req =
            prism::provider::build_request(&client, &t, &ChatRequest::single(None, "benchmark"), &creds)
                .unwrap();
        let resp = client.execute(req).await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let body = resp.bytes().await.unwrap().into();
        server.shutdown().await;
        body
    })
}

/// Heap bytes kept by `STREAMS` finished runs of the body at `addr`, and their text bytes.
fn kept_by_runs(addr: SocketAddr) -> (isize, usize, Vec<TargetRun>) {
    let before = live();
    let runs = {
        let rt = runtime();
        let runs = rt.block_on(async {
            let targets: Vec<Target> = (0..STREAMS)
                .map(|_| target(format!("http://{addr}/v1")))
                .collect();
            let mut handle = fan_out(
                &targets,
                &ChatRequest::single(None, "benchmark"),
                RunOptions::default(),
            )
            .await;
            let mut runs = vec![TargetRun::default(); STREAMS];
            while let Some(env) = handle.events.recv().await {
                runs[env.target].apply(env.at, &env.event);
            }
            handle.join().await;
            runs
        });
        drop(rt);
        runs
    };
    // Connection threads of the static server end once their write is done.
    std::thread::sleep(Duration::from_millis(200));
    let kept = live() - before;
    let text = runs.iter().map(|r| r.text.len()).sum();
    (kept, text, runs)
}

fn kept() {
    println!("## Heap kept per token by finished runs ({STREAMS} streams, in process)\n");
    println!("| tokens per stream | heap kept MB | text MB | kept beyond the text, bytes/token |");
    println!("|---|---|---|---|");
    let mut points = Vec::new();
    for tokens in [10_000, TOKENS] {
        let addr = serve(Arc::new(record(tokens)));
        let (kept, text, runs) = kept_by_runs(addr);
        let all = (STREAMS as u64 * tokens) as f64;
        assert!(
            runs.iter().all(|r| r.gaps.len() + 1 >= tokens / 2),
            "the streams ran whole"
        );
        println!(
            "| {tokens} | {:.2} | {:.2} | {:.2} |",
            kept as f64 / 1e6,
            text as f64 / 1e6,
            (kept as f64 - text as f64) / all
        );
        points.push((all, kept as f64, text as f64));
    }
    let ((n0, k0, t0), (n1, k1, t1)) = (points[0], points[1]);
    println!(
        "\nGrowth from 10k to 100k tokens per stream: {:.2} bytes/token kept beyond the text \
         ({:.2} bytes/token of text).\n",
        ((k1 - k0) - (t1 - t0)) / (n1 - n0),
        (t1 - t0) / (n1 - n0),
    );
}

/// `cmd` run under `/usr/bin/time`: (peak RSS in MB, wall seconds).
fn peak_rss(cmd: Command) -> (f64, f64) {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "-o"])
        .arg(out.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let run = Reaped::spawn(&mut timed).wait_with_output();
    let wall = t0.elapsed().as_secs_f64();
    assert!(
        run.status.success(),
        "{:?}: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&run.stderr)
    );
    let kb: f64 = std::fs::read_to_string(out.path())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (kb / 1024.0, wall)
}

/// The `prism run` measured: `STREAMS` streams from the static server at `addr`.
fn prism_streams(bin: &str, addr: SocketAddr, dir: &Path) -> Command {
    let streams = Streams {
        provider: "openai",
        model: MODEL,
        base_url: format!("http://{addr}/v1"),
        streams: STREAMS,
        max_tokens: None,
    };
    prism_run(bin, &streams, dir)
}

/// One `curl -N` process fetching all the streams in parallel.
fn curl_parallel(addr: SocketAddr) -> Command {
    let t = target(format!("http://{addr}/v1"));
    let client = prism::provider::client::TimedClient::new(Duration::from_secs(5))
        .unwrap()
        .http;
    let creds = Credentials::from_key(t.provider.spec().auth, Some(ApiKey::new("bench"))).unwrap();
    let req =
        prism::provider::build_request(&client, &t, &ChatRequest::single(None, "benchmark"), &creds).unwrap();
    let body = String::from_utf8_lossy(req.body().and_then(|b| b.as_bytes()).unwrap()).into_owned();
    let mut c = Command::new("curl");
    c.args(["-sSN", "--parallel", "--parallel-max", &STREAMS.to_string()]);
    c.args(["-X", "POST", "--data-binary", &body]);
    for (k, v) in req.headers() {
        c.args(["-H", &format!("{}: {}", k, v.to_str().unwrap())]);
    }
    for _ in 0..STREAMS {
        c.args(["-o", "/dev/null", req.url().as_str()]);
    }
    c
}

fn present(program: &str, args: &[&str]) -> bool {
    let mut c = Command::new(program);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    reaped::status(&mut c).is_ok_and(|s| s.success())
}

/// The Python of the virtualenv with the official SDKs.
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("PRISM_BENCH_VENV").map_or_else(
        || {
            // CARGO_TARGET_TMPDIR is `<target>/tmp`.
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .unwrap()
                .join("conformance-venv")
        },
        PathBuf::from,
    );
    venv.join("bin").join("python")
}

fn peak() {
    println!("## Peak RSS on {STREAMS} x {TOKENS} tokens (OpenAI format, same bytes from a static server)\n");
    let body = Arc::new(record(TOKENS));
    let addr = serve(body.clone());
    let dir = tempfile::tempdir().unwrap();
    let python = venv_python();
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/openai_sdk.py");
    let sdk_ok = present(python.to_str().unwrap(), &["-c", "import openai"]);
    let curl_ok = present("curl", &["--version"]);
    println!(
        "Body: {:.1} MB per stream. Peers: OpenAI SDK {}, curl {}.\n",
        body.len() as f64 / 1e6,
        if sdk_ok {
            format!("via {}", python.display())
        } else {
            format!("not found ({}: set PRISM_BENCH_VENV)", python.display())
        },
        if curl_ok { "found" } else { "not found" }
    );
    println!("| client | peak RSS MB | wall s | Prism / client |");
    println!("|---|---|---|---|");
    let mut prism_rows = Vec::new();
    for (build, bin) in bins() {
        let (mb, wall) = peak_rss(prism_streams(&bin, addr, dir.path()));
        println!("| prism ({build}) | {mb:.1} | {wall:.2} | |");
        prism_rows.push((build, mb));
    }
    let mut peers = Vec::new();
    if sdk_ok {
        let mut c = Command::new(&python);
        c.arg(&sdk)
            .arg(format!("http://{addr}/v1"))
            .arg(MODEL)
            .arg(STREAMS.to_string());
        peers.push(("OpenAI Python SDK", peak_rss(c)));
    }
    if curl_ok {
        peers.push((
            "curl -N (8 in parallel, one process)",
            peak_rss(curl_parallel(addr)),
        ));
    }
    for (name, (mb, wall)) in peers {
        let ratios: Vec<String> = prism_rows
            .iter()
            .map(|(build, p)| format!("{build} {:.2}x", p / mb))
            .collect();
        println!("| {name} | {mb:.1} | {wall:.2} | {} |", ratios.join(", "));
    }
    println!();
}

/// How long a start-up may take before the bench gives up on it: far beyond any real one,
/// only a run that never draws reaches it.
const NEVER_SHOWN: Duration = Duration::from_secs(30);

/// Seconds from spawning `shell` on a pseudo-terminal to `marker` appearing on it, the
/// bench answering the terminal's side as a terminal would. Panics with what the terminal
/// showed if the marker is not there within [`NEVER_SHOWN`] or the shell ends first; the
/// terminal is hung up and the child's session killed however this returns.
fn until_shown(shell: &str, marker: &str, env: &[(&str, &Path)]) -> f64 {
    let t0 = Instant::now();
    let pty = OnPty::spawn(shell, 160, 40, env).expect("a pseudo-terminal");
    let mut out = pty.master.try_clone().unwrap();
    let mut input = pty.master.try_clone().unwrap();
    // Read on a thread so the wait below can give up; the thread ends when the child's
    // side closes (reads then fail with EIO).
    let (chunks, arrived) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || chunks.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut answered = false;
    let has = |seen: &[u8], s: &[u8]| seen.windows(s.len()).any(|w| w == s);
    let took = loop {
        let left = NEVER_SHOWN.saturating_sub(t0.elapsed());
        let chunk = match arrived.recv_timeout(left) {
            Ok(chunk) => chunk,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
                "{shell}: {marker:?} not shown within {NEVER_SHOWN:?}; the terminal showed: {}",
                String::from_utf8_lossy(&seen)
            ),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!(
                "{shell}: ended before showing {marker:?}: {}",
                String::from_utf8_lossy(&seen)
            ),
        };
        seen.extend_from_slice(&chunk);
        // Answer the device-attributes query as a terminal would (the workbench asks it
        // after the keyboard-protocol query, and would wait seconds for a silent one).
        if !answered && has(&seen, b"\x1b[c") {
            input.write_all(b"\x1b[?62c").unwrap();
            answered = true;
        }
        if has(&seen, marker.as_bytes()) {
            break t0.elapsed().as_secs_f64();
        }
    };
    drop(pty);
    took
}

fn median_ms(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2] * 1e3
}

fn startup() {
    const RUNS: usize = 9;
    const MARKER: &str = "gpt-4o-mini";
    println!("## Start-up: process spawn to first frame in a pseudo-terminal (median of {RUNS})\n");
    let dir = tempfile::tempdir().unwrap();
    let env = [("PRISM_SESSIONS_DIR", dir.path())];
    // The terminal is sized when it is made, as a real one is.
    let sized = |cmd: &str| format!("exec {cmd}");
    let floor = median_ms(
        (0..RUNS)
            .map(|_| until_shown(&sized(&format!("echo {MARKER}")), MARKER, &env))
            .collect(),
    );
    println!("| command | build | first frame ms | less the floor ({floor:.1} ms) |");
    println!("|---|---|---|---|");
    for (build, bin) in bins() {
        for (name, args) in [
            ("prism --demo (workbench)", "--demo"),
            ("prism run --demo (progress)", "run --demo --no-save --prompt hi"),
        ] {
            let shell = sized(&format!("{bin} {args}"));
            let ms = median_ms((0..RUNS).map(|_| until_shown(&shell, MARKER, &env)).collect());
            println!("| {name} | {build} | {ms:.1} | {:.1} |", ms - floor);
        }
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let picked = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if picked("kept") {
        kept();
    }
    if picked("peak") {
        peak();
    }
    if picked("startup") {
        startup();
    }
}
