//! Streaming benchmarks (not tests: numbers go to BENCHMARKS.md).
//!
//! `cargo bench --bench stream` runs them all; `-- ttft`, `-- ingest`, `-- autosave` pick one.
//! 1. TTFT fidelity: 8 concurrent targets against a mock scripted at TTFT = 200 ms;
//!    report Prism's first-content arrival minus the mock's actual send time.
//! 2. Ingest: 8 targets streaming 100k tokens each as fast as a separate `prism mock`
//!    process can send; tokens/s absorbed and client CPU seconds per million tokens.
//! 3. Baseline: the same 8 streams read by `curl -N`, for the CPU ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Instant;

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

fn target(name: String, provider: ProviderKind, model: String, base: &str) -> Target {
    let base_url = match provider {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => format!("{base}/v1"),
        _ => base.to_string(),
    };
    Target {
        name,
        provider,
        model,
        base_url,
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(200_000),
            stream: true,
            ..Params::default()
        },
    }
}

fn eight(base: &str, directives: &str) -> Vec<Target> {
    let kinds = [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::OpenAiCompatible,
    ];
    let models = [
        "gpt-4o-mini-2024-07-18",
        "claude-sonnet-4-20250514",
        "gemini-2.5-flash",
        "llama3.1:8b",
    ];
    (0..8)
        .map(|i| {
            target(
                format!("t{i}"),
                kinds[i % 4],
                format!("{}+{directives}", models[i % 4]),
                base,
            )
        })
        .collect()
}

async fn run(targets: &[Target]) -> Vec<TargetRun> {
    run_saved(targets, None).await
}

/// [`run`], recording every event into `session` as the workbench and `prism run` do.
async fn run_saved(targets: &[Target], session: Option<&prism::session::SessionWriter>) -> Vec<TargetRun> {
    let request = ChatRequest::single(None, "benchmark");
    if let Some(w) = session {
        let to: Vec<_> = (0..targets.len())
            .map(|target| prism::session::Outgoing {
                target,
                history: vec![],
                request: request.clone(),
            })
            .collect();
        w.send(0, 1, None, "benchmark", Instant::now(), &to);
    }
    let mut handle = fan_out(targets, &request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = handle.events.recv().await {
        if let Some(w) = session {
            w.event(0, env.target, env.at, &env.event);
        }
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    runs
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU seconds (user + system) of this process, or of its waited-for children, from
/// /proc/self/stat (clock ticks of 10 ms: fine for runs of seconds).
fn cpu_seconds(children: bool) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    let tick = |i: usize| fields[i - 3].parse::<f64>().unwrap() / 100.0;
    if children {
        tick(16) + tick(17)
    } else {
        tick(14) + tick(15)
    }
}

fn ttft_fidelity(rounds: usize) {
    // The mock gets its own runtime and threads, so it does not queue behind the client.
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
            tx.send((server.log().clone(), server.addr())).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (log, addr) = rx.recv().unwrap();
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut deltas = Vec::new();
    let mut measured = Vec::new();
    for _ in 0..rounds {
        let runs = rt.block_on(run(&eight(&base, "ttft=200,itl=5,tokens=20")));
        for r in &runs {
            assert_eq!(r.outcome, Some(Outcome::Done));
            let rec = log.find(r.request_id.as_deref().unwrap()).unwrap();
            let sent = rec.first_content_at.unwrap();
            deltas.push(r.first_content_at.unwrap().duration_since(sent).as_secs_f64() * 1e3);
            measured.push(r.ttft().unwrap().as_secs_f64() * 1e3);
        }
    }
    deltas.sort_by(f64::total_cmp);
    measured.sort_by(f64::total_cmp);
    println!(
        "## TTFT fidelity ({} samples: {rounds} rounds x 8 concurrent targets, mock TTFT = 200 ms)",
        deltas.len()
    );
    println!("| | median | p99 | max |\n|---|---|---|---|");
    println!(
        "| Prism first-content arrival − mock send time (ms) | {:.3} | {:.3} | {:.3} |",
        percentile(&deltas, 0.5),
        percentile(&deltas, 0.99),
        deltas[deltas.len() - 1]
    );
    println!(
        "| Prism TTFT as reported (ms) | {:.3} | {:.3} | {:.3} |\n",
        percentile(&measured, 0.5),
        percentile(&measured, 0.99),
        measured[measured.len() - 1]
    );
}

struct MockProcess(std::process::Child, String);

impl MockProcess {
    fn start() -> Self {
        use std::io::BufRead;
        let mut child = Command::new(PRISM)
            .args(["mock", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().to_string();
        Self(child, format!("http://{addr}"))
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const TOKENS: u64 = 100_000;

fn ingest() -> f64 {
    let mock = MockProcess::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let targets = eight(&mock.1, &format!("ttft=0,itl=0,tokens={TOKENS},text=lorem"));
    let cpu0 = cpu_seconds(false);
    let t0 = Instant::now();
    let runs = rt.block_on(run(&targets));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(false) - cpu0;
    let total: u64 = runs.iter().map(|r| r.usage.output.unwrap_or(0)).sum();
    let bytes: usize = runs.iter().map(|r| r.text.len()).sum();
    assert!(
        runs.iter().all(|r| r.outcome == Some(Outcome::Done)),
        "all streams complete"
    );
    let per_m = cpu / (total as f64 / 1e6);
    println!("## Ingest (8 targets x {TOKENS} tokens, separate `prism mock` process, itl=0)");
    println!(
        "| tokens | text bytes | wall s | tokens/s absorbed | client CPU s | CPU s per 1M tokens |\n|---|---|---|---|---|---|"
    );
    println!(
        "| {total} | {bytes} | {wall:.2} | {:.0} | {cpu:.2} | {per_m:.3} |\n",
        total as f64 / wall
    );
    per_m
}

/// The ingest run twice in one process, without and with autosave, so the cost of
/// recording every event is a ratio measured under the same conditions.
fn autosave() {
    let mock = MockProcess::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let targets = eight(&mock.1, &format!("ttft=0,itl=0,tokens={TOKENS},text=lorem"));
    println!("## Autosave cost (8 targets x {TOKENS} tokens, itl=0, same process, back to back)");
    println!(
        "| autosave | wall s | CPU s | CPU s per 1M tokens | bytes written | bytes per event |\n|---|---|---|---|---|---|"
    );
    let mut per = Vec::new();
    for save in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let writer = save.then(|| {
            prism::session::SessionWriter::create(dir.path(), &targets, Default::default()).unwrap()
        });
        let cpu0 = cpu_seconds(false);
        let t0 = Instant::now();
        let runs = rt.block_on(run_saved(&targets, writer.as_ref()));
        if let Some(w) = &writer {
            w.close();
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds(false) - cpu0;
        let total: u64 = runs.iter().map(|r| r.usage.output.unwrap_or(0)).sum();
        let events: usize = runs.iter().map(|r| r.content_events).sum();
        let bytes: u64 = writer
            .as_ref()
            .map(|w| std::fs::metadata(w.dir().join("events.jsonl")).unwrap().len())
            .unwrap_or(0);
        let per_m = cpu / (total as f64 / 1e6);
        per.push(per_m);
        println!(
            "| {} | {wall:.2} | {cpu:.2} | {per_m:.3} | {bytes} | {:.0} |",
            if save { "on" } else { "off" },
            bytes as f64 / events.max(1) as f64
        );
    }
    println!("\nCPU with autosave / without: {:.2}x\n", per[1] / per[0]);
}

fn curl_baseline(prism_per_m: f64) {
    let mock = MockProcess::start();
    let targets = eight(&mock.1, &format!("ttft=0,itl=0,tokens={TOKENS},text=lorem"));
    let cpu0 = cpu_seconds(true);
    let t0 = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let children: Vec<_> = targets
        .iter()
        .map(|t| {
            let req = prism::provider::build_request(
                &client,
                t,
                &ChatRequest::single(None, "benchmark"),
                &prism::provider::credentials::Credentials::from_key(
                    t.provider.spec().auth,
                    Some(prism::provider::secret::ApiKey::new("bench")),
                )
                .unwrap(),
            )
            .unwrap();
            let body = req
                .body()
                .and_then(|b| b.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap();
            let mut cmd = Command::new("curl");
            cmd.args([
                "-sN",
                "-o",
                "/dev/null",
                "-X",
                "POST",
                req.url().as_str(),
                "--data-binary",
                &body,
            ]);
            for (k, v) in req.headers() {
                cmd.args(["-H", &format!("{}: {}", k, v.to_str().unwrap())]);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    drop(rt);
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(true) - cpu0;
    let per_m = cpu / (8.0 * TOKENS as f64 / 1e6);
    println!("## Baseline: the same 8 streams read by `curl -N` (bytes discarded, no parsing)");
    println!("| wall s | curl CPU s | CPU s per 1M tokens | Prism / curl CPU |\n|---|---|---|---|");
    println!(
        "| {wall:.2} | {cpu:.2} | {per_m:.3} | {:.1}x |\n",
        prism_per_m / per_m
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    if want("ttft") {
        ttft_fidelity(25);
    }
    if want("ingest") {
        let per_m = ingest();
        curl_baseline(per_m);
    }
    if want("autosave") {
        autosave();
    }
}
