//! Prices and context windows, and exact cost arithmetic.
//!
//! Prices are held as integer picodollars per token (1 USD = 10^12 pd), so $0.15 per
//! million tokens is 150,000 pd a token and every sum is exact; a float appears only when
//! a total is finally shown.
//!
//! The data, most specific first: the config's `[pricing."model"]` tables, a LiteLLM-format
//! map the user points `pricing_file` at, and the built-in snapshot of LiteLLM's map with
//! the entries later snapshots dropped ([`snapshot`]), each row parsed the first time it
//! is asked for (`builtin`). Which entry prices a target is decided by its provider kind,
//! model, `price_as` and host ([`lookup`]).

mod builtin;
mod cache;
mod error;
mod litellm;
pub mod lookup;
mod price;
pub mod snapshot;
mod suggest;
mod table;

pub use cache::{cache_saving, signed_usd};
pub use error::PriceError;
pub use litellm::{LiteLlmMap, load_litellm, usd_per_token_to_pd};
pub use lookup::PriceQuery;
pub use price::{BetaWindow, Breakdown, Charge, ModelPrice, Rates, Tier};
pub use table::{PriceData, PriceTable, query};

use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Picodollars: 10^-12 USD.
pub type Picodollars = u128;

/// USD for display or JSON, from an exact total: the float nearest the exact decimal,
/// so that it prints as that decimal (`0.01629325`, never `0.016293250000000002`) for
/// any amount under a billion dollars.
pub fn usd(pd: Picodollars) -> f64 {
    let text = format!("{}.{:012}", pd / 1_000_000_000_000, pd % 1_000_000_000_000);
    // Rust's float parsing rounds correctly; the text is always a valid number.
    text.parse().unwrap_or(f64::MAX)
}

/// A USD amount → picodollars, from the number's shortest decimal form
/// (`0.016293250000000002` is the float written by older builds for 16,293,250,000 pd),
/// to the nearest picodollar, a half to the even one. `None` when negative, not finite or
/// too large.
pub fn usd_to_pd(v: f64) -> Option<Picodollars> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    // `Display` for f64 is the shortest form that reads back as it, never an exponent;
    // digits past what a decimal holds round away.
    let d = Decimal::from_str(&v.to_string()).ok()?;
    let pd = d.round_dp_with_strategy(12, RoundingStrategy::MidpointNearestEven);
    let pd = pd.checked_mul(Decimal::from(1_000_000_000_000_u64))?;
    pd.to_u128()
}

/// "0.15" (USD per million tokens, as a string or a TOML number's text) → 150,000
/// picodollars per token, exactly. `None` for what is not a plain non-negative decimal
/// (`1e-6`, `-1`, `""`) or is finer than a picodollar per token (`0.0000001`).
pub fn per_million_to_pd(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let d = Decimal::from_str_exact(s).ok()?.normalize();
    if d.scale() > 6 {
        return None;
    }
    d.checked_mul(Decimal::from(1_000_000_u64))?.to_u64()
}

#[cfg(test)]
mod tests;
