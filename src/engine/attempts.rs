//! One target's request from first attempt to final outcome: attempts, the retry
//! decision between them, and the waits, all visible to the consumer as events.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::provider::client::TimedClient;
use crate::provider::credentials::Credentials;
use crate::provider::errors::ErrorContext;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::retry::{self, Decision};
use crate::provider::stream::{self, Attempt, Emit};
use crate::target::{AuthStyle, Target};

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
        spec: target.spec(),
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
            StreamEvent::Failed(e) => failure = Some((at, *e)),
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
            Decision::Stop(e) => return emit(at, StreamEvent::Failed(Box::new(e))),
            Decision::Retry { wait, reason } => {
                let Some(copy) = spare else {
                    let e = ProviderError::new(
                        ErrorKind::Config,
                        "the request cannot be re-sent (streaming body)",
                    );
                    return emit(at, StreamEvent::Failed(Box::new(e)));
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
                // A signature covers its time; a retry is signed again, with credentials
                // read again (temporary ones may have been renewed meanwhile).
                if let Some(req) = next.as_mut()
                    && let Err(e) = resign(target, req)
                {
                    return emit(Instant::now(), StreamEvent::Failed(Box::new(e)));
                }
            }
        }
    }
}

/// Sign `request` again when `target` signs its requests; a no-op otherwise.
fn resign(target: &Target, request: &mut reqwest::Request) -> Result<(), ProviderError> {
    if target.spec().auth != AuthStyle::Signed {
        return Ok(());
    }
    let credentials = Credentials::for_target(target)?;
    if credentials.signs() {
        credentials.apply(request)?;
    }
    Ok(())
}

/// Uniform in [0, 1), from a properly seeded generator (per thread, seeded from the OS
/// at first use): clients that failed together must not retry together.
fn jitter() -> f64 {
    fastrand::f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::RetryPolicy;

    #[test]
    fn first_retry_waits_spread_over_the_whole_backoff_step() {
        let policy = RetryPolicy::default();
        let base = policy.base;
        let mut err = ProviderError::new(ErrorKind::Server, "HTTP 500");
        err.retryable = true;
        let waits: Vec<Duration> = (0..200)
            .map(
                |_| match retry::decide(&policy, 0, Duration::ZERO, err.clone(), false, jitter()) {
                    Decision::Retry { wait, .. } => wait,
                    Decision::Stop(e) => panic!("{e:?}"),
                },
            )
            .collect();
        assert!(
            waits.iter().all(|w| *w < base),
            "full jitter stays under the step"
        );
        // 200 uniform draws miss a 10 % band with probability 0.9^200 ≈ 7e-10.
        assert!(
            waits.iter().any(|w| *w < base / 10),
            "some waits near 0: {waits:?}"
        );
        assert!(
            waits.iter().any(|w| *w > base * 9 / 10),
            "some waits near the step: {waits:?}"
        );
        // The clock-derived jitter this replaces gave a fixed band; ten deciles all hit.
        let mut deciles = [0u32; 10];
        for w in &waits {
            deciles[(w.as_secs_f64() / base.as_secs_f64() * 10.0) as usize] += 1;
        }
        assert!(deciles.iter().all(|&n| n > 0), "{deciles:?}");
    }
}
