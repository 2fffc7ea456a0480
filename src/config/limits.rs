//! The accepted range of every number in `prism.toml`, checked at load.
//!
//! A value outside its range is refused with the key and the range, never clamped: a
//! comparison run on a silently different setting would measure the wrong thing. The
//! ceilings are far above any real use and exist so that nothing downstream can overflow
//! or panic (`Duration::from_secs_f64(1e30)` panics; `u32::MAX` retries wraps a counter).

use std::time::Duration;

use toml::Spanned;

use super::Located;
use crate::target::ProviderKind;

/// Shortest duration accepted, in seconds: anything shorter rounds to "time out at once".
pub const MIN_SECONDS: f64 = 0.001;
/// Longest duration accepted, in seconds (one day): longer than any single request.
pub const MAX_SECONDS: f64 = 86_400.0;
/// Most retries accepted. Each retry can be a billed request, and a hundred already
/// outlasts any outage worth waiting through; the cap also keeps `retries + 1` far from
/// overflowing the attempt counter.
pub const MAX_RETRIES: u32 = 100;
/// Largest token count accepted for a model's context window or output limit; today's
/// largest windows are around ten million.
pub const MAX_TOKEN_LIMIT: u64 = 1_000_000_000;
/// Highest price accepted, in USD per million tokens (today's dearest are in the hundreds).
/// Keeps worst-case cost sums far from overflowing.
pub const MAX_PRICE_PER_MILLION: u64 = 100_000;

/// A number as the user would write it in TOML: `nan`, `inf`, `1e30`, `0.5`.
fn shown(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v != 0.0 && (v.abs() >= 1e9 || v.abs() < 1e-4) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// "`key` = v is out of range: give ...", or "is not a number" for NaN.
fn refused(key: &str, v: f64, accepted: &str) -> String {
    let what = if v.is_nan() {
        "is not a number"
    } else {
        "is out of range"
    };
    format!("`{key}` = {} {what}: give {accepted}", shown(v))
}

/// A duration in seconds from [`MIN_SECONDS`] to [`MAX_SECONDS`].
pub fn seconds(v: Option<Spanned<f64>>, key: &str) -> Result<Option<Duration>, Located> {
    let Some(s) = v else { return Ok(None) };
    let secs = *s.get_ref();
    if (MIN_SECONDS..=MAX_SECONDS).contains(&secs) {
        return Ok(Some(Duration::from_secs_f64(secs)));
    }
    Err((
        s.span().start,
        refused(
            key,
            secs,
            &format!("a number of seconds from {MIN_SECONDS} to {MAX_SECONDS} (one day)"),
        ),
    ))
}

/// `temperature` within what `provider` accepts: 0 to 1 for Anthropic, 0 to 2 for the
/// others (OpenAI-compatible servers take OpenAI's range).
pub fn temperature(v: Option<Spanned<f64>>, provider: ProviderKind) -> Result<Option<f64>, Located> {
    fraction(v, "temperature", provider.spec().max_temperature, Some(provider))
}

/// `top_p`: 0 to 1 for every provider.
pub fn top_p(v: Option<Spanned<f64>>) -> Result<Option<f64>, Located> {
    fraction(v, "top_p", 1.0, None)
}

fn fraction(
    v: Option<Spanned<f64>>,
    key: &str,
    max: f64,
    provider: Option<ProviderKind>,
) -> Result<Option<f64>, Located> {
    let Some(s) = v else { return Ok(None) };
    let x = *s.get_ref();
    if (0.0..=max).contains(&x) {
        return Ok(Some(x));
    }
    let whose = provider
        .map(|p| format!(", the range {p} accepts"))
        .unwrap_or_default();
    Err((
        s.span().start,
        refused(key, x, &format!("a number from 0 to {max}{whose}")),
    ))
}

/// `max_tokens`: at least 1 (0 asks for an empty answer, which every provider refuses).
pub fn max_tokens(v: Option<Spanned<u32>>) -> Result<Option<u32>, Located> {
    match v {
        Some(s) if *s.get_ref() == 0 => Err((
            s.span().start,
            format!(
                "`max_tokens` = 0 is out of range: give a whole number of tokens from 1 to {}",
                u32::MAX
            ),
        )),
        v => Ok(v.map(Spanned::into_inner)),
    }
}

/// `max_retries`: 0 to [`MAX_RETRIES`].
pub fn max_retries(v: Option<Spanned<u32>>) -> Result<Option<u32>, Located> {
    match v {
        Some(s) if *s.get_ref() > MAX_RETRIES => Err((
            s.span().start,
            format!(
                "`max_retries` = {} is out of range: give a whole number from 0 to {MAX_RETRIES}",
                s.get_ref()
            ),
        )),
        v => Ok(v.map(Spanned::into_inner)),
    }
}

/// Most runs in flight at once that `max_concurrency` accepts.
pub const MAX_CONCURRENCY: u32 = 1_000;

/// `max_concurrency`: 1 to [`MAX_CONCURRENCY`] (0 would never send anything).
pub fn max_concurrency(v: Option<Spanned<u32>>) -> Result<Option<u32>, Located> {
    match v {
        Some(s) if !(1..=MAX_CONCURRENCY).contains(s.get_ref()) => Err((
            s.span().start,
            format!(
                "`max_concurrency` = {} is out of range: give a whole number of requests from 1 to {MAX_CONCURRENCY}",
                s.get_ref()
            ),
        )),
        v => Ok(v.map(Spanned::into_inner)),
    }
}

/// An amount of US dollars: finite and not negative.
pub fn dollars(v: Option<Spanned<f64>>, key: &str) -> Result<Option<f64>, Located> {
    let Some(s) = v else { return Ok(None) };
    let x = *s.get_ref();
    if x.is_finite() && x >= 0.0 {
        return Ok(Some(x));
    }
    Err((
        s.span().start,
        refused(key, x, "a number of US dollars, 0 or more"),
    ))
}

/// A token limit of a model (`context_window`, `max_output`): 1 to [`MAX_TOKEN_LIMIT`].
pub fn token_limit(v: Option<&Spanned<u64>>, model: &str, key: &str) -> Result<Option<u64>, Located> {
    let Some(s) = v else { return Ok(None) };
    let n = *s.get_ref();
    if (1..=MAX_TOKEN_LIMIT).contains(&n) {
        return Ok(Some(n));
    }
    Err((
        s.span().start,
        format!(
            "[pricing.\"{model}\"] `{key}` = {n} is out of range: give a whole number of tokens from 1 to {MAX_TOKEN_LIMIT}"
        ),
    ))
}

/// The first number in an `extra` table that JSON cannot carry (NaN, infinity), with its
/// dotted path: serializing it would silently send `null` instead.
pub fn non_finite_in(table: &toml::Table) -> Option<String> {
    fn walk(v: &toml::Value, path: String) -> Option<String> {
        match v {
            toml::Value::Float(f) if !f.is_finite() => Some(format!("`{path}` = {}", shown(*f))),
            toml::Value::Table(t) => t.iter().find_map(|(k, v)| walk(v, format!("{path}.{k}"))),
            toml::Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, format!("{path}[{i}]"))),
            _ => None,
        }
    }
    table.iter().find_map(|(k, v)| walk(v, format!("extra.{k}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_as_toml_would_write_them() {
        assert_eq!(shown(f64::NAN), "nan");
        assert_eq!(shown(f64::NEG_INFINITY), "-inf");
        assert_eq!(shown(1e30), "1e30");
        assert_eq!(shown(-0.5), "-0.5");
        assert_eq!(shown(2.0), "2");
        assert_eq!(shown(1e-300), "1e-300");
    }
}
