//! What prompt caching saved (or cost) on one answer, at the answer's own prices.

use crate::provider::event::Usage;

use super::{ModelPrice, Picodollars};

/// The cost of `usage` as if nothing had been read from or written to a cache (every
/// input token at the input rate of the same tier), minus its actual cost: positive when
/// cache reads saved money, negative when cache writes cost more than they saved. `None`
/// when the counts are unknown.
pub fn cache_saving(price: &ModelPrice, usage: &Usage) -> Option<i128> {
    let actual = price.cost(usage)?;
    let uncached = Usage {
        cached_input: None,
        cache_write: None,
        cache_write_1h: None,
        ..*usage
    };
    let without = price.cost(&uncached)?;
    Some(signed(without) - signed(actual))
}

fn signed(pd: Picodollars) -> i128 {
    i128::try_from(pd).unwrap_or(i128::MAX)
}

/// USD for display or JSON, from an exact signed amount.
pub fn signed_usd(pd: i128) -> f64 {
    let magnitude = super::usd(pd.unsigned_abs());
    if pd < 0 { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_save_and_one_hour_writes_cost_more_than_five_minute_ones() {
        // $3 input, $0.30 reads, $3.75 5-minute writes, $6 1-hour writes per million.
        let price = ModelPrice {
            input: 3_000_000,
            output: 15_000_000,
            cached_input: Some(300_000),
            cache_write: Some(3_750_000),
            cache_write_1h: Some(6_000_000),
            ..ModelPrice::default()
        };
        let usage = |read, write, write_1h| Usage {
            input: Some(2000),
            output: Some(10),
            cached_input: Some(read),
            cache_write: Some(write),
            cache_write_1h: Some(write_1h),
            reasoning: None,
        };
        assert_eq!(cache_saving(&price, &usage(1500, 0, 0)), Some(1500 * 2_700_000));
        assert_eq!(cache_saving(&price, &usage(0, 1500, 0)), Some(-1500 * 750_000));
        assert_eq!(
            cache_saving(&price, &usage(0, 1500, 1500)),
            Some(-1500 * 3_000_000)
        );
        assert!(signed_usd(-1_500_000_000) < 0.0);
        let unknown = Usage {
            input: None,
            ..usage(1, 0, 0)
        };
        assert_eq!(cache_saving(&price, &unknown), None);
    }
}
