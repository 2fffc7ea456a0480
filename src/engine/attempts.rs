//! One target's request from first attempt to final outcome: attempts, the retry
//! decision between them, and the waits, all visible to the consumer as events.

use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::config::Target;
use crate::provider::client::TimedClient;
use crate::provider::errors::ErrorContext;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::retry::{self, Decision};
use crate::provider::stream::{self, Attempt, Emit};

/// Run `request` for `target`, retrying as its policy allows. Ends with one terminal event.
pub async fn run(
    client: &TimedClient,
    target: &Target,
    request: reqwest::Request,
    cancel: &CancellationToken,
    emit: &mut Emit<'_>,
) {
    let policy = target.params.retry;
    let attempt = Attempt {
        client,
        kind: target.provider,
        streaming: target.params.stream,
        cx: ErrorContext {
            model: &target.model,
            base_url: &target.base_url,
            key_env: target.key.env_name(),
        },
        timeouts: target.params.timeouts,
    };
    let mut retries = 0;
    let mut waited = Duration::ZERO;
    let mut next = Some(request);
    while let Some(req) = next.take() {
        // The body is bytes, so a copy is always possible; keep one for a retry.
        let spare = req.try_clone();
        let mut failure: Option<(Instant, ProviderError)> = None;
        let mut content_seen = false;
        let mut intercept = |at: Instant, event: StreamEvent| match event {
            StreamEvent::Failed(e) => failure = Some((at, e)),
            event => {
                content_seen |= event.is_content();
                emit(at, event);
            }
        };
        let run = stream::run(attempt, req, cancel, &mut intercept);
        let timed_out = match attempt.timeouts.total {
            Some(limit) => tokio::time::timeout(limit, run).await.is_err(),
            None => {
                run.await;
                false
            }
        };
        if timed_out {
            let limit = attempt.timeouts.total.unwrap_or_default();
            let mut e = ProviderError::new(
                ErrorKind::TotalTimeout,
                format!(
                    "the request passed its overall limit of {:.0} s (total_timeout)",
                    limit.as_secs_f64()
                ),
            );
            e.retryable = !content_seen;
            failure = Some((Instant::now(), e));
        }
        let Some((at, err)) = failure else { return };
        match retry::decide(&policy, retries, waited, err, content_seen, jitter()) {
            Decision::Stop(e) => return emit(at, StreamEvent::Failed(e)),
            Decision::Retry { wait, reason } => {
                let Some(copy) = spare else {
                    let e = ProviderError::new(
                        ErrorKind::Config,
                        "the request cannot be re-sent (streaming body)",
                    );
                    return emit(at, StreamEvent::Failed(e));
                };
                retries += 1;
                waited = waited.saturating_add(wait);
                emit(
                    Instant::now(),
                    StreamEvent::Retrying {
                        attempt: retries + 1,
                        of: policy.max_retries + 1,
                        wait,
                        reason,
                    },
                );
                tokio::select! {
                    () = cancel.cancelled() => return emit(Instant::now(), StreamEvent::Cancelled),
                    () = tokio::time::sleep(wait) => {}
                }
                next = Some(copy);
            }
        }
    }
}

/// Uniform in [0, 1): enough randomness to de-synchronise clients hitting one limit.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}
