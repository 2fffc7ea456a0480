//! Prices and context windows, and exact cost arithmetic.
//!
//! Prices are held as integer picodollars per token (1 USD = 10^12 pd), so $0.15 per
//! million tokens is 150,000 pd a token and every sum is exact; a float appears only when
//! a total is finally shown.
//!
//! The data, most specific first: the config's `[pricing."model"]` tables, a LiteLLM-format
//! map the user points `pricing_file` at, and the built-in snapshot of LiteLLM's map with
//! the entries later snapshots dropped ([`snapshot`]). Which entry prices a target is
//! decided by its provider kind, model, `price_as` and host ([`lookup`]).

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

/// Picodollars: 10^-12 USD.
pub type Picodollars = u128;

/// USD for display or JSON, from an exact total.
pub fn usd(pd: Picodollars) -> f64 {
    // Whole dollars and the remainder separately keep 12 digits of precision.
    (pd / 1_000_000_000_000) as f64 + (pd % 1_000_000_000_000) as f64 / 1e12
}

/// "0.15" (USD per million tokens) → 150,000 picodollars per token, exactly.
pub fn per_million_to_pd(s: &str) -> Option<u64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod tests;
