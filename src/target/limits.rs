//! A target's time limits and retry settings: plain values, read by `provider` and
//! `engine`, set by `config`.

use std::time::Duration;

/// Time limits for one attempt. A long answer is not an error, so the overall limit is
/// off unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a TCP (+TLS) connection.
    pub connect: Duration,
    /// From dispatch to response headers.
    pub headers: Duration,
    /// Longest silence between two reads of the body.
    pub idle: Duration,
    /// Whole attempt, if set.
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            headers: Duration::from_secs(120),
            idle: Duration::from_secs(120),
            total: None,
        }
    }
}

/// Per-target retry settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Longest total time spent waiting between attempts; a server asking for more
    /// fails the target with the wait it asked for.
    pub max_wait: Duration,
    /// First backoff step.
    pub base: Duration,
    /// Largest backoff step.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            max_wait: Duration::from_secs(60),
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
        }
    }
}
