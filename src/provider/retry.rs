//! When to send a failed request again, and how long to wait first.
//!
//! The rules follow the official SDKs where they agree: retry connection failures,
//! timeouts before any content, 408/409/429/5xx/529; obey `x-should-retry`; never retry
//! 400/401/403/404/422, an out-of-quota 429, or anything once content has been shown
//! (a second request would duplicate billed output). The server's own wait wins
//! (`retry-after-ms`, `retry-after` in seconds or as an HTTP date, Gemini's
//! `RetryInfo.retryDelay`, the provider's rate-limit reset headers); otherwise
//! exponential backoff with full jitter.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::event::ProviderError;
use crate::target::RetryPolicy;

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Wait, then send again.
    Retry {
        /// How long.
        wait: Duration,
        /// Why, for the pane ("HTTP 429 rate_limited").
        reason: String,
    },
    /// Report this error.
    Stop(ProviderError),
}

/// Decide after attempt `retries + 1` failed with `err`. `jitter` is uniform in [0, 1).
pub fn decide(
    policy: &RetryPolicy,
    retries: u32,
    waited: Duration,
    mut err: ProviderError,
    content_seen: bool,
    jitter: f64,
) -> Decision {
    if content_seen {
        if err.retryable {
            err.message
                .push_str(" (not retried: text had already arrived; retry the pane to send again)");
        }
        return Decision::Stop(err);
    }
    if !err.retryable {
        return Decision::Stop(err);
    }
    if retries >= policy.max_retries {
        if retries > 0 {
            err.message
                .push_str(&format!(" (gave up after {retries} retries)"));
        }
        return Decision::Stop(err);
    }
    let wait = match err.retry_after {
        Some(asked) => asked,
        None => {
            let step = policy.base.saturating_mul(1 << retries.min(16)).min(policy.cap);
            step.mul_f64(jitter.clamp(0.0, 1.0))
        }
    };
    if waited.saturating_add(wait) > policy.max_wait {
        let whose = match err.retry_after {
            Some(_) => format!("the server asked to wait {}, which", seconds(wait)),
            None => format!("the next backoff of {}", seconds(wait)),
        };
        err.message.push_str(&format!(
            " (not retried: {whose} would exceed the {} retry budget, {} already spent)",
            seconds(policy.max_wait),
            seconds(waited)
        ));
        return Decision::Stop(err);
    }
    let reason = match err.http_status {
        Some(s) => format!("HTTP {s} {}", err.kind.as_str()),
        None => err.kind.as_str().to_string(),
    };
    Decision::Retry { wait, reason }
}

/// A wait as people read it; a server's absurd hint (`1e30`) must not print 20 digits.
fn seconds(d: Duration) -> String {
    const HOUR: f64 = 3600.0;
    const CENTURY: f64 = 100.0 * 365.25 * 24.0 * HOUR;
    match d.as_secs_f64() {
        s if s < 10.0 * HOUR => format!("{s:.1} s"),
        s if s < CENTURY => format!("{:.0} h", s / HOUR),
        _ => "more than a century".to_string(),
    }
}

/// How long the server asked us to wait, from headers and (Gemini) the error body.
///
/// A hint that is not a finite, non-negative number (`inf`, `NaN`, `-1`, garbage) is
/// ignored, so the backoff applies; a finite one too large for a `Duration` (`1e30`)
/// saturates, so the budget check refuses it with the wait in the message.
pub fn server_wait(headers: &HeaderMap, body: &str, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(d) = header("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| seconds_hint(ms / 1000.0))
    {
        return Some(d);
    }
    if let Some(v) = header("retry-after") {
        if let Some(d) = v.parse::<f64>().ok().and_then(seconds_hint) {
            return Some(d);
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    if let Some(d) = gemini_retry_delay(body) {
        return Some(d);
    }
    reset_headers(headers, now)
}

/// A wait given in seconds: `None` unless finite and non-negative; saturated at
/// `Duration::MAX` (a wait no budget allows) when too large to represent.
pub fn seconds_hint(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// `error.details[].retryDelay` of a `google.rpc.RetryInfo`, e.g. `"45.837906927s"`.
fn gemini_retry_delay(body: &str) -> Option<Duration> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    let v = if let Value::Array(a) = v {
        a.into_iter().next()?
    } else {
        v
    };
    let details = v.get("error")?.get("details")?.as_array()?;
    details.iter().find_map(|d| {
        let delay = d.get("retryDelay")?.as_str()?;
        delay
            .strip_suffix('s')?
            .parse::<f64>()
            .ok()
            .and_then(seconds_hint)
    })
}

/// The wait implied by exhausted rate-limit buckets: OpenAI's Go-style durations
/// (`x-ratelimit-reset-tokens: 6m0s`) or Anthropic's RFC 3339 reset times.
fn reset_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let mut wait: Option<Duration> = None;
    for bucket in ["requests", "tokens"] {
        if header(&format!("x-ratelimit-remaining-{bucket}")) == Some("0")
            && let Some(d) = header(&format!("x-ratelimit-reset-{bucket}")).and_then(go_duration)
        {
            wait = Some(wait.map_or(d, |w| w.max(d)));
        }
    }
    for bucket in ["requests", "tokens", "input-tokens", "output-tokens"] {
        if header(&format!("anthropic-ratelimit-{bucket}-remaining")) == Some("0")
            && let Some(at) = header(&format!("anthropic-ratelimit-{bucket}-reset"))
                .and_then(|v| humantime::parse_rfc3339_weak(v).ok())
        {
            let d = at.duration_since(now).unwrap_or(Duration::ZERO);
            wait = Some(wait.map_or(d, |w| w.max(d)));
        }
    }
    wait
}

/// Parse a Go duration string (`time.Duration.String()`): `1s`, `6m0s`, `12ms`,
/// `1h2m3.5s`, `250us`. humantime reads every form Go writes, fractions included; a
/// wait too long to hold is the longest there is, as [`seconds_hint`] has it.
pub fn go_duration(s: &str) -> Option<Duration> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) => Some(d),
        Err(humantime::DurationError::NumberOverflow) => Some(Duration::MAX),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::event::ErrorKind;

    fn err(kind: ErrorKind, status: u16, retryable: bool, after: Option<u64>) -> ProviderError {
        ProviderError {
            http_status: Some(status),
            retryable,
            retry_after: after.map(Duration::from_secs),
            ..ProviderError::new(kind, "boom")
        }
    }

    #[test]
    fn backoff_with_full_jitter_grows_and_caps() {
        let p = RetryPolicy {
            max_retries: 10,
            max_wait: Duration::from_secs(600),
            ..RetryPolicy::default()
        };
        let wait = |n, j| match decide(
            &p,
            n,
            Duration::ZERO,
            err(ErrorKind::Server, 500, true, None),
            false,
            j,
        ) {
            Decision::Retry { wait, .. } => wait,
            Decision::Stop(e) => panic!("{e:?}"),
        };
        assert_eq!(wait(0, 1.0), Duration::from_millis(500));
        assert_eq!(wait(2, 1.0), Duration::from_secs(2));
        assert_eq!(wait(6, 1.0), Duration::from_secs(8), "capped");
        assert_eq!(wait(3, 0.5), Duration::from_secs(2), "jitter scales the step");
        assert_eq!(wait(1, 0.0), Duration::ZERO);
    }

    #[test]
    fn server_wait_wins_and_too_long_a_wait_fails_with_it() {
        let p = RetryPolicy::default();
        let d = decide(
            &p,
            0,
            Duration::ZERO,
            err(ErrorKind::RateLimited, 429, true, Some(7)),
            false,
            0.9,
        );
        assert_eq!(
            d,
            Decision::Retry {
                wait: Duration::from_secs(7),
                reason: "HTTP 429 rate_limited".into()
            }
        );
        let Decision::Stop(e) = decide(
            &p,
            0,
            Duration::ZERO,
            err(ErrorKind::RateLimited, 429, true, Some(300)),
            false,
            0.9,
        ) else {
            panic!()
        };
        assert!(
            e.message.ends_with(
                " (not retried: the server asked to wait 300.0 s, which would exceed the 60.0 s retry budget, 0.0 s already spent)"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn prisms_own_backoff_past_the_budget_says_so_with_what_was_spent() {
        let p = RetryPolicy {
            max_retries: 5,
            max_wait: Duration::from_secs(3),
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
        };
        let Decision::Stop(e) = decide(
            &p,
            2,
            Duration::from_secs(1),
            err(ErrorKind::Server, 503, true, None),
            false,
            0.75,
        ) else {
            panic!("a 3.0 s backoff after 1.0 s spent passes a 3.0 s budget")
        };
        assert_eq!(
            e.message,
            "boom (not retried: the next backoff of 3.0 s would exceed the 3.0 s retry budget, 1.0 s already spent)"
        );
        // Within the budget it waits.
        assert!(matches!(
            decide(&p, 2, Duration::from_secs(1), err(ErrorKind::Server, 503, true, None), false, 0.25),
            Decision::Retry { wait, .. } if wait == Duration::from_secs(1)
        ));
    }

    #[test]
    fn never_after_content_never_for_fatal_errors_and_at_most_max_retries() {
        let p = RetryPolicy::default();
        let Decision::Stop(e) = decide(
            &p,
            0,
            Duration::ZERO,
            err(ErrorKind::Server, 500, true, None),
            true,
            0.5,
        ) else {
            panic!()
        };
        assert!(e.message.contains("text had already arrived"));
        assert!(matches!(
            decide(
                &p,
                0,
                Duration::ZERO,
                err(ErrorKind::Auth, 401, false, None),
                false,
                0.5
            ),
            Decision::Stop(_)
        ));
        let Decision::Stop(e) = decide(
            &p,
            2,
            Duration::ZERO,
            err(ErrorKind::Overloaded, 529, true, None),
            false,
            0.5,
        ) else {
            panic!()
        };
        assert!(e.message.ends_with("(gave up after 2 retries)"));
    }

    #[test]
    fn parses_every_server_wait_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = |pairs: &[(&'static str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        assert_eq!(
            server_wait(&h(&[("retry-after-ms", "1500"), ("retry-after", "9")]), "", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            server_wait(&h(&[("retry-after", "2.5")]), "", now),
            Some(Duration::from_millis(2500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            server_wait(&h(&[("retry-after", &date)]), "", now),
            Some(Duration::from_secs(30))
        );
        let gemini = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.5s"}]}}"#;
        assert_eq!(
            server_wait(&HeaderMap::new(), gemini, now),
            Some(Duration::from_millis(45_500))
        );
        let openai = h(&[
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-reset-requests", "1s"),
        ]);
        assert_eq!(server_wait(&openai, "", now), Some(Duration::from_secs(360)));
        let reset = humantime::format_rfc3339(now + Duration::from_secs(12)).to_string();
        let anthropic = h(&[
            ("anthropic-ratelimit-tokens-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", &reset),
        ]);
        assert_eq!(server_wait(&anthropic, "", now), Some(Duration::from_secs(12)));
        assert_eq!(server_wait(&HeaderMap::new(), "", now), None);
    }

    #[test]
    fn out_of_range_hints_are_ignored_or_saturate_never_panic() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let one = |name: &'static str, value: &str| {
            let mut m = HeaderMap::new();
            m.insert(name, value.parse().unwrap());
            if name.starts_with("x-ratelimit-reset") {
                let remaining = name.replace("reset", "remaining");
                m.insert(
                    reqwest::header::HeaderName::from_bytes(remaining.as_bytes()).unwrap(),
                    "0".parse().unwrap(),
                );
            }
            server_wait(&m, "", now)
        };
        // Not a finite, non-negative number: ignored, so the backoff applies.
        for v in ["inf", "-inf", "NaN", "-1", "infinity", "1e400"] {
            assert_eq!(one("retry-after", v), None, "retry-after: {v}");
            assert_eq!(one("retry-after-ms", v), None, "retry-after-ms: {v}");
        }
        // Finite but beyond any Duration: a wait no budget allows.
        assert_eq!(one("retry-after", "1e30"), Some(Duration::MAX));
        assert_eq!(one("retry-after-ms", "1e300"), Some(Duration::MAX));
        assert_eq!(
            one("x-ratelimit-reset-requests", "99999999999999999999h"),
            Some(Duration::MAX)
        );
        let gemini = r#"{"error":{"details":[{"retryDelay":"1e30s"}]}}"#;
        assert_eq!(server_wait(&HeaderMap::new(), gemini, now), Some(Duration::MAX));
        let gemini_inf = r#"{"error":{"details":[{"retryDelay":"infs"}]}}"#;
        assert_eq!(server_wait(&HeaderMap::new(), gemini_inf, now), None);
        // And the decision on such a wait is a refusal, not a panic.
        let p = RetryPolicy::default();
        let mut e = err(ErrorKind::RateLimited, 429, true, None);
        e.retry_after = Some(Duration::MAX);
        let Decision::Stop(e) = decide(&p, 1, Duration::from_secs(3), e, false, 0.5) else {
            panic!("a wait past the budget is refused")
        };
        assert!(
            e.message.contains("the server asked to wait more than a century"),
            "{}",
            e.message
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: std::env::var("PRISM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500),
            ..proptest::test_runner::Config::default()
        })]

        /// Any header values and any body, through the wait parsers and the retry decision:
        /// never a panic. `PRISM_FUZZ_CASES=200000 cargo test --release --lib retry` for a
        /// long run.
        #[test]
        fn wait_parsers_and_decide_never_panic(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    "[-+0-9.eE]{0,24}",
                    "[0-9]{1,30}(h|m|s|ms|us|ns)",
                    "([0-9.]{1,8}(h|m|s|ms)){1,4}",
                    "(inf|NaN|-0|1e30|1e300|99999999999999999999)",
                    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
                    "[ -~]{0,40}",
                ],
                9,
            ),
            delay in "[-+0-9.eEinfNa]{0,24}s?",
            retries in 0u32..20,
            waited_ms in proptest::prop_oneof![0u64..100_000, proptest::prelude::Just(u64::MAX)],
            jitter in 0.0f64..1.0,
        ) {
            let names = [
                "retry-after", "retry-after-ms", "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests", "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens", "anthropic-ratelimit-tokens-remaining",
                "anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-requests-remaining",
            ];
            let mut m = HeaderMap::new();
            for (name, value) in names.iter().zip(&values) {
                if let Ok(v) = reqwest::header::HeaderValue::from_str(value) {
                    m.insert(*name, v);
                }
            }
            // Make the reset headers count: their buckets report exhaustion.
            if values[8].len() % 2 == 0 {
                m.insert("x-ratelimit-remaining-requests", reqwest::header::HeaderValue::from_static("0"));
                m.insert("anthropic-ratelimit-tokens-remaining", reqwest::header::HeaderValue::from_static("0"));
            }
            let body = format!(r#"{{"error":{{"details":[{{"retryDelay":"{delay}"}}]}}}}"#);
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
            let wait = server_wait(&m, &body, now);
            let mut e = err(ErrorKind::RateLimited, 429, true, None);
            e.retry_after = wait;
            let policy = RetryPolicy { max_retries: 25, ..RetryPolicy::default() };
            let _ = decide(&policy, retries, Duration::from_millis(waited_ms), e, false, jitter);
        }
    }

    #[test]
    fn go_durations() {
        // Every form OpenAI-style `x-ratelimit-reset-*` headers carry.
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("6ms"), Some(Duration::from_millis(6)));
        assert_eq!(go_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("1h2m3.5s"), Some(Duration::from_millis(3_723_500)));
        assert_eq!(go_duration("45.837906927s"), Some(Duration::new(45, 837_906_927)));
        assert_eq!(go_duration("250us"), Some(Duration::from_micros(250)));
        assert_eq!(go_duration("250µs"), Some(Duration::from_micros(250)));
        assert_eq!(
            go_duration(" 1s "),
            Some(Duration::from_secs(1)),
            "header padding"
        );
        assert_eq!(go_duration("99999999999999999999h"), Some(Duration::MAX));
        assert_eq!(go_duration("soon"), None);
        assert_eq!(go_duration("-1s"), None);
        assert_eq!(go_duration("5"), None, "a unit is required");
        assert_eq!(go_duration(""), None);
    }
}
