//! Load: 32 concurrent targets in one fan-out, then 1,000 requests through the engine at
//! most 20 at a time, watching this process's file descriptors and memory for growth.
//! Prints the numbers (`cargo test --test load -- --nocapture`); asserts only on growth.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Params, ProviderKind, Target};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn targets(server: &MockServer, n: usize, directives: &str) -> Vec<Target> {
    let kinds = [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
        ProviderKind::OpenAiCompatible,
    ];
    (0..n)
        .map(|i| {
            let provider = kinds[i % 4];
            let base_url = server.base_url(provider);
            Target {
                name: format!("t{i}"),
                provider,
                model: format!("m{i}+{directives}"),
                base_url,
                key: KeySource::Demo,
                params: Params {
                    max_tokens: Some(1000),
                    stream: true,
                    ..Params::default()
                },
            }
        })
        .collect()
}

async fn run(targets: &[Target]) -> Vec<TargetRun> {
    let mut handle = fan_out(targets, &ChatRequest::single(None, "load"), RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = handle.events.recv().await {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    runs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_targets_then_a_thousand_requests_without_growth() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let first = targets(&server, 32, "ttft=5,itl=1,tokens=40,text=lorem");
    let runs = run(&first).await;
    // OpenAI kinds report the o200k count of the text sent, the others the 40 pieces.
    let reported = |t: &Target, r: &TargetRun| match t.provider {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => prism::tokens::count_o200k(&r.text) as u64,
        _ => 40,
    };
    assert!(
        first
            .iter()
            .zip(&runs)
            .all(|(t, r)| r.outcome == Some(Outcome::Done) && r.usage.output == Some(reported(t, r)))
    );
    println!("32 concurrent targets: all done, 40 tokens each");

    let batch = targets(&server, 20, "ttft=0,itl=0,tokens=10,text=lorem");
    // Warm-up rounds settle allocator pools and the runtime's thread-local caches.
    for _ in 0..5 {
        run(&batch).await;
    }
    let (fd0, rss0) = (open_fds(), rss_kib());
    let mut done = 0;
    let mut samples = Vec::new();
    for round in 0..50 {
        let runs = run(&batch).await;
        done += runs.iter().filter(|r| r.outcome == Some(Outcome::Done)).count();
        if round % 10 == 9 {
            samples.push((open_fds(), rss_kib()));
        }
    }
    // Connections close as each run's clients drop; give the sockets a moment.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (fd1, rss1) = (open_fds(), rss_kib());
    println!(
        "1,000 requests, 20 at a time: {done} done; fds {fd0} -> {fd1}; RSS {rss0} KiB -> {rss1} KiB; samples {samples:?}"
    );
    assert_eq!(done, 1000);
    assert!(fd1 <= fd0 + 4, "file descriptors grew: {fd0} -> {fd1}");
    // Growth across the last 40 rounds, not the absolute size: a leak shows as a slope.
    let (first, last) = (samples[0].1, samples[samples.len() - 1].1);
    assert!(
        last <= first + 16 * 1024,
        "RSS grew {first} -> {last} KiB over 800 requests"
    );
    server.shutdown().await;
}
